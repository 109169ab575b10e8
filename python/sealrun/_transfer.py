"""Moving and checking sealed experiments: copy, push, pull and validate.

Locations are the command line's strings, parsed by the C++ core (the same
code ``sealrun copy`` and ``sealrun validate`` run): a bare ``TAG`` or digest
in the local store, ``oci:DIR[:TAG]``, ``oci-archive:FILE[:TAG]`` and
``docker://HOST/REPO[:TAG|@DIGEST]``, with docker's credentials as the CLI
uses them. Relative paths are relative to the current working directory.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Iterable, Optional, Union

from . import _core

__all__ = [
    "CopyResult",
    "ConvertResult",
    "Check",
    "ValidationReport",
    "copy",
    "push",
    "pull",
    "validate",
    "convert",
]

PathLike = Union[str, "os.PathLike[str]"]

#: A progress callback: ``progress(event, digest, media_type, size, done)``
#: where ``event`` is ``"copied"`` (a blob or manifest is stored in the
#: destination), ``"skipped"`` (the destination already had it) or
#: ``"progress"`` (``done`` bytes of it streamed so far). Called from the
#: copying threads, one call at a time; an exception it raises stops the copy
#: and is raised by :func:`copy`.
ProgressCallback = Callable[[str, str, str, int, int], None]


@dataclasses.dataclass(frozen=True)
class CopyResult:
    """What :func:`copy`, :func:`push` or :func:`pull` did.

    Attributes:
        source: the source location, as given.
        destination: the destination location, as given (the local tag when
            none was given).
        tag: the tag the destination got.
        chosen_tag: True when sealrun chose ``tag`` (a source named by digest
            copied without a destination tag gets ``NAME-HEX``).
        digest: the digest of the copied root (index or manifest).
        media_type: the root's media type.
        size: the root's size in bytes.
        blobs_copied: nodes and blobs stored in the destination.
        blobs_skipped: nodes and blobs the destination already had.
        bytes_copied: the bytes of what was stored.
    """

    source: str
    destination: str
    tag: str
    chosen_tag: bool
    digest: str
    media_type: str
    size: int
    blobs_copied: int
    blobs_skipped: int
    bytes_copied: int

    def __str__(self) -> str:
        """The root's digest, as ``sealrun copy`` prints it."""
        return self.digest


@dataclasses.dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert` did.

    Attributes:
        source: the OMMX experiment's location, as given.
        destination: the sealrun experiment's location, as given.
        tag: the tag the sealed experiment got.
        digest: the digest of its experiment index.
        name: the sealrun experiment's name.
        runs: how many runs were converted.
        attachments: how many attachments were copied (the kept ones included).
        kept: the experiment-level attachments that keep what OMMX wrote
            verbatim (its manifest, config and run-parameter layer), in order.
    """

    source: str
    destination: str
    tag: str
    digest: str
    name: str
    runs: int
    attachments: int
    kept: list[str]

    def __str__(self) -> str:
        """The index digest, as ``sealrun convert`` prints it after the tag."""
        return self.digest


def convert(src: str, dst: str, *, name: Optional[str] = None, compress: bool = False, force: bool = False,
            store: Optional[PathLike] = None, plain_http: Optional[bool] = None, insecure: bool = False,
            ca_file: Optional[PathLike] = None) -> ConvertResult:
    """Convert an OMMX experiment into a sealrun experiment: ``sealrun convert SRC DST``.

    ``src`` names an OMMX 3 experiment (an ``.ommx`` file as
    ``oci-archive:FILE:TAG``, a tag in the store, ``docker://…``); ``dst``
    a tag where the sealrun experiment is sealed (``TAG`` in the local
    store, ``oci:DIR:TAG``, …). Every run, attachment, solve and sampling is
    converted, and OMMX's manifest, config and run-parameter layer are kept
    verbatim as experiment-level attachments. ``name`` is the experiment's
    name (None: OMMX's). ``compress`` and ``force`` are :meth:`Experiment.commit`'s.

    Raises:
        InvalidInput: ``src`` is not an OMMX experiment (a sealrun experiment
            needs no conversion), or a location does not parse or names no tag.
        AlreadyExists: ``dst``'s tag names other content (pass ``force``).
        NotFound: the source does not exist.
    """
    r = _core.convert(os.fspath(src), os.fspath(dst), "" if name is None else name, compress, force, store,
                      plain_http, insecure, ca_file)
    return ConvertResult(**r)


def copy(src: str, dst: Optional[str] = None, *, store: Optional[PathLike] = None, plain_http: Optional[bool] = None,
         insecure: bool = False, ca_file: Optional[PathLike] = None, force: bool = False,
         progress: Optional[ProgressCallback] = None) -> CopyResult:
    """Copy what the location ``src`` names to the location ``dst``: ``sealrun copy SRC [DST]``.

    Every byte is verified against its digest on the way; whatever the
    destination already holds is skipped. Without ``dst`` the copy goes to
    the local store, tagged with the source's tag (or ``NAME-HEX`` for a
    source named by digest). An ``oci-archive:`` destination is written
    atomically: on failure the file is left as it was.

    Args:
        src: the source location; it must name a tag or digest.
        dst: the destination location; None: the local store.
        store: the local store bare tags name; None: ``$SEALRUN_STORE`` or
            ``./storage``.
        plain_http: talk HTTP instead of HTTPS to registries; None: HTTPS,
            with plain HTTP only as the fallback for a loopback registry.
        insecure: accept a registry's TLS certificate without verifying it.
        ca_file: a PEM file of CA certificates to verify registries with.
        force: move a destination tag that names other content, and replace a
            destination file that is not an oci-archive.
        progress: an optional :data:`ProgressCallback`.

    Returns:
        a :class:`CopyResult` (its ``digest`` is what ``sealrun copy`` prints).

    Raises:
        InvalidInput: a location does not parse, or ``src`` names no tag or digest.
        NotFound: the source, its store or a blob of it does not exist.
        AlreadyExists: the destination tag names other content (pass ``force``).
        DigestMismatch: content does not hash to its digest.
        Error: any other failure of the transfer (the C++ message).
    """
    r = _core.copy(os.fspath(src), "" if dst is None else os.fspath(dst), store, plain_http, insecure, ca_file,
                   force, progress)
    return CopyResult(**r)


def push(src: str, dst: str, *, store: Optional[PathLike] = None, plain_http: Optional[bool] = None,
         insecure: bool = False, ca_file: Optional[PathLike] = None, force: bool = False,
         progress: Optional[ProgressCallback] = None) -> CopyResult:
    """Push ``src`` (usually a local tag) to ``dst`` (usually ``docker://…``): ``sealrun push``, the same as :func:`copy`."""
    return copy(src, dst, store=store, plain_http=plain_http, insecure=insecure, ca_file=ca_file, force=force,
                progress=progress)


def pull(src: str, dst: Optional[str] = None, *, store: Optional[PathLike] = None, plain_http: Optional[bool] = None,
         insecure: bool = False, ca_file: Optional[PathLike] = None, force: bool = False,
         progress: Optional[ProgressCallback] = None) -> CopyResult:
    """Pull ``src`` (usually ``docker://…``) into ``dst`` (None: the local store): ``sealrun pull``, the same as :func:`copy`."""
    return copy(src, dst, store=store, plain_http=plain_http, insecure=insecure, ca_file=ca_file, force=force,
                progress=progress)


@dataclasses.dataclass(frozen=True)
class Check:
    """One check of a :class:`ValidationReport`.

    Attributes:
        name: the check's stable id (``"digest"``, ``"schema"``, ``"codec"``,
            ``"resolve"``, ... see ``sealrun validate``).
        subject: what was checked: a digest, ``"run 0"``, ``"run 0: result.json"``,
            ``"experiment"``, or the reference.
        passed: False for a failed check.
        warning: True for a passed check that found something worth a look.
        message: what was found; on failure, the problem.
    """

    name: str
    subject: str
    passed: bool
    warning: bool
    message: str

    def __str__(self) -> str:
        """One line: ``FAIL``, ``WARN`` or ``ok``, the name, the subject and the message."""
        label = "FAIL" if not self.passed else "WARN" if self.warning else "ok"
        return f"{label} {self.name} {self.subject}: {self.message}"


class ValidationReport:
    """Every check :func:`validate` ran, in order: ``sealrun validate``'s report.

    True (``bool(report)``) when no check failed; warnings are allowed.
    """

    __slots__ = ("_native", "checks")

    def __init__(self, native: "_core.ValidationReport") -> None:
        self._native = native
        #: checks is every check, in the order they ran.
        self.checks: list[Check] = [Check(c.name, c.subject, c.passed, c.warning, c.message) for c in native.checks]

    @property
    def reference(self) -> str:
        """The reference that was validated, as given."""
        return self._native.reference

    @property
    def kind(self) -> str:
        """What the reference is: ``"experiment"``, ``"run"``, ``"experiment-attachments"``,
        ``"image-index"``, ``"image-manifest"``, or ``""`` when it could not be resolved or read."""
        return self._native.kind

    @property
    def digest(self) -> str:
        """The digest of the resolved root (``""`` when unresolved)."""
        return self._native.digest

    @property
    def valid(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return bool(self._native.ok())

    @property
    def failures(self) -> list[Check]:
        """The failed checks."""
        return [c for c in self.checks if not c.passed]

    @property
    def warnings(self) -> list[Check]:
        """The checks that passed with a warning."""
        return [c for c in self.checks if c.warning]

    def to_text(self, verbose: bool = False) -> str:
        """The report for people, as ``sealrun validate`` prints it (``verbose``: every passed check too)."""
        return self._native.to_text(verbose)

    def to_json(self) -> str:
        """The report as one JSON object, as ``sealrun validate --format json`` prints it."""
        return self._native.to_json()

    def to_junit(self) -> str:
        """The report as JUnit XML, as ``sealrun validate --format junit`` prints it."""
        return self._native.to_junit()

    def __bool__(self) -> bool:
        """:attr:`valid`: no check failed."""
        return self.valid

    def __repr__(self) -> str:
        """E.g. ``<ValidationReport 'sweep-v1' (experiment sha256:…): valid, 0 failures, 0 warnings, 95 checks>``."""
        state = "valid" if self.valid else "INVALID"
        return (f"<ValidationReport {self.reference!r} ({self.kind or '?'} {self.digest or '-'}): {state}, "
                f"{len(self.failures)} failures, {len(self.warnings)} warnings, {len(self.checks)} checks>")


def validate(location: str, strict: bool = False, *, codec_allow: Iterable[str] = (),
             store: Optional[PathLike] = None, plain_http: Optional[bool] = None, insecure: bool = False,
             ca_file: Optional[PathLike] = None) -> ValidationReport:
    """Check what ``location`` names the way ``sealrun validate`` does, every check to the end.

    Every blob is read through and verified; sealed experiments and runs get
    every reader's check and a decode of each attachment with its codec.
    Problems of the content are failed checks in the report, never
    exceptions.

    Args:
        location: any location (``TAG``, ``oci:DIR:TAG``, ``oci-archive:FILE[:TAG]``,
            ``docker://HOST/REPO:TAG|@DIGEST``).
        strict: turn every warning into a failure (``--strict``).
        codec_allow: media types accepted without a codec (``--codec-allow``),
            e.g. ``"application/x-hdf5"`` or ``"image/*"``.
        store, plain_http, insecure, ca_file: as for :func:`copy`.

    Returns:
        a :class:`ValidationReport`; ``report.valid`` is what ``sealrun validate``'s exit status says.

    Raises:
        InvalidInput: the location does not parse.
        FileNotFound: the store, layout or archive does not exist.
        Error: the location could not be opened (the C++ message).
    """
    allow = [codec_allow] if isinstance(codec_allow, str) else [str(t) for t in codec_allow]
    return ValidationReport(_core.validate(os.fspath(location), bool(strict), allow, store, plain_http, insecure,
                                           ca_file))
