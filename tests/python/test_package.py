"""The package as a whole: its public names, their stubs and docstrings."""

from __future__ import annotations

import ast
import inspect
import pathlib

import sealrun

PACKAGE = pathlib.Path(sealrun.__file__).resolve().parent


def _stub_names() -> set[str]:
    tree = ast.parse((PACKAGE / "__init__.pyi").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name} is not re-exported as itself in __init__.pyi"
                names.add(alias.asname)
    return names


def test_the_stub_re_exports_exactly_the_public_names():
    public = set(sealrun.__all__) | {"open"}
    assert _stub_names() == public


def test_every_public_name_exists_and_is_documented():
    for name in set(sealrun.__all__) | {"open"}:
        obj = getattr(sealrun, name)
        assert inspect.getdoc(obj), f"sealrun.{name} has no docstring"


def test_every_public_method_and_property_is_documented():
    missing = []
    for name in sealrun.__all__:
        obj = getattr(sealrun, name)
        if not inspect.isclass(obj):
            continue
        for attr, value in vars(obj).items():
            if attr.startswith("_") and attr not in ("__call__", "__enter__", "__exit__"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if callable(value) or isinstance(value, property):
                if not inspect.getdoc(value):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_the_package_says_it_is_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_star_import_does_not_hide_the_builtin_open():
    scope: dict = {}
    exec("from sealrun import *", scope)
    assert "open" not in scope
    assert sealrun.open is not open


def test_the_errors_are_the_package_s_and_match_builtins():
    assert issubclass(sealrun.NotFound, LookupError)
    assert issubclass(sealrun.FileNotFound, FileNotFoundError)
    assert issubclass(sealrun.FileNotFound, sealrun.NotFound)
    assert issubclass(sealrun.InvalidInput, ValueError)
    assert issubclass(sealrun.AlreadyExists, FileExistsError)
    for name in sealrun.__all__:
        obj = getattr(sealrun, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, sealrun.Error)
