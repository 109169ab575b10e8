"""Reading sealed experiments: :func:`open`, :class:`SealedExperiment`, :class:`SealedRun`.

A sealed experiment is read from any location the command line takes (a tag in
the local store, ``oci:DIR:TAG``, ``oci-archive:FILE:TAG``,
``docker://HOST/REPO:TAG``). Views are immutable and lazy: opening reads the
experiment index, a run is read when asked for, and an attachment's bytes only
when a getter asks for them, verified against their digest before anything is
decoded. The C++ core does the reading, checking and decoding (with the GIL
released); this module gives it the Python shape. Views are safe to share
across threads.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Iterator, Mapping
from typing import Any, Generic, Optional, Protocol, TypeVar, Union, runtime_checkable

from . import _core, _ommx

# open is sealrun.open, imported by name in __init__.py: left out of
# __all__ so that "from sealrun import *" never hides the builtin open.
__all__ = [
    "SealedExperiment",
    "ExperimentSummary",
    "SummaryRow",
    "SealedRun",
    "Solve",
    "Sampling",
    "OmmxArtifact",
    "DirectoryTree",
    "AttachmentCodec",
]

T = TypeVar("T")
PathLike = Union[str, "os.PathLike[str]"]


@runtime_checkable
class AttachmentCodec(Protocol, Generic[T]):
    """What :meth:`SealedRun.get_with_codec` decodes with.

    A class (or an object) with ``media_type``, the OCI media type the codec
    reads and writes, ``encode(value) -> bytes`` and ``decode(bytes) -> object``.
    A class's ``encode`` and ``decode`` must be callable on the class itself
    (static or class methods).
    """

    media_type: str

    def encode(self, value: T) -> bytes:
        """Turns a value into the attachment's bytes."""
        ...

    def decode(self, data: bytes) -> T:
        """Turns the attachment's bytes into a value."""
        ...


@dataclasses.dataclass(frozen=True)
class Solve:
    """One solver call of a run, as ``Run.log_solve`` recorded it."""

    solve_id: int
    """Identifier of the solve within its run."""
    status: str
    """``"finished"``, ``"failed"`` or ``"interrupted"``."""
    input: str
    """Name of the run attachment holding the solver's input."""
    output: Optional[str]
    """Name of the run attachment holding the solver's output (None unless finished)."""
    adapter: str
    """The adapter (solver interface) that ran it, e.g. ``"highs"``."""
    adapter_options: dict[str, Any]
    """The options given to the adapter."""
    diagnostics: Any
    """Free-form diagnostics the solve recorded; None when none."""


@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """One run as the experiment summary lists it (read without opening the run)."""

    run_id: int
    """The run's id within its experiment."""
    status: str
    """``"finished"``, ``"failed"`` or ``"interrupted"``."""
    reason: Optional[str]
    """Why the run failed or was interrupted; None when it does not say."""
    parameters: dict[str, Union[bool, int, float, str]]
    """The run's parameters."""
    values: dict[str, Union[bool, int, float, str]]
    """The chosen result values (``"FILE:KEY"`` → scalar); a value the run lacks is absent."""
    manifest: str
    """Digest of the run's manifest (``sha256:…``)."""
    worker: Optional[str]
    """The worker that contributed the run (``sealrun collect``); None otherwise."""


@dataclasses.dataclass(frozen=True)
class ExperimentSummary:
    """The experiment summary: every run's id, status, reason, parameters and
    chosen result values, stored with the index and read in a fixed number of
    requests whatever the run count. A cache of the runs' own configs, which
    stay authoritative (``sealrun validate`` checks that they agree)."""

    experiment: str
    """The experiment's name."""
    values: list[str]
    """The chosen values (``"FILE:KEY"``, e.g. ``"result.json:loss"``), in the order given at seal."""
    rows: list[SummaryRow]
    """One row per run, by ascending run id."""

    def find(self, run_id: int) -> Optional[SummaryRow]:
        """The row of ``run_id``, or None."""
        for row in self.rows:
            if row.run_id == run_id:
                return row
        return None


@dataclasses.dataclass(frozen=True)
class Sampling:
    """One sampler call of a run, as ``Run.log_sample`` recorded it (a Solve
    whose output is a SampleSet)."""

    sampling_id: int
    """Identifier of the sampling within its run (counted apart from solves)."""
    status: str
    """``"finished"``, ``"failed"`` or ``"interrupted"``."""
    input: str
    """Name of the run attachment holding the sampler's input (an Instance)."""
    output: Optional[str]
    """Name of the run attachment holding its SampleSet (None unless finished)."""
    adapter: str
    """The adapter (sampler interface) that ran it, e.g. ``"openjij"``."""
    adapter_options: dict[str, Any]
    """The options given to the adapter."""
    diagnostics: Any
    """Free-form diagnostics the sampling recorded; None when none."""


class DirectoryTree(Mapping[str, bytes]):
    """A directory-tree attachment (an OCI tar layer), decoded and checked.

    A read-only mapping of each regular file's relative ``/``-separated path to
    its bytes, sorted by path. Directories (empty ones too) and symbolic links
    are listed by :attr:`directories` and :attr:`symlinks`; :meth:`write`
    recreates the whole tree on disk. Every tree is safe by construction: no
    absolute path, no ``..`` component, no link leaving the tree.
    """

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        """Wraps the native tree (made by the getters, not by users)."""
        self._native = native

    def __getitem__(self, path: str) -> bytes:
        """The bytes of the regular file at ``path``; KeyError when there is none."""
        return self._native.file(path)

    def __iter__(self) -> Iterator[str]:
        """The paths of the regular files, sorted."""
        return iter(self._native.paths())

    def __len__(self) -> int:
        """How many regular files the tree holds."""
        return len(self._native)

    def __contains__(self, path: object) -> bool:
        """Whether ``path`` is a regular file of the tree."""
        return isinstance(path, str) and path in self._native

    @property
    def directories(self) -> list[str]:
        """Paths of the tree's directories, sorted."""
        return [p for kind, p, _, _ in self._native.entries() if kind == "directory"]

    @property
    def symlinks(self) -> dict[str, str]:
        """Each symbolic link's path mapped to its (relative, in-tree) target."""
        return {p: target for kind, p, _, target in self._native.entries() if kind == "symlink"}

    def mode(self, path: str) -> int:
        """Permission bits (e.g. ``0o644``) of the file, directory or link ``path``; KeyError when absent."""
        for _, p, mode, _ in self._native.entries():
            if p == path:
                return mode
        raise KeyError(path)

    def write(self, dest: PathLike, overwrite: bool = False) -> pathlib.Path:
        """Create the tree under the directory ``dest`` (created when missing) and return ``dest``.

        Existing files are kept unless ``overwrite`` (then sealrun.AlreadyExists);
        nothing is ever written outside ``dest`` or through a symbolic link.
        """
        return self._native.write(dest, overwrite)

    def __repr__(self) -> str:
        """E.g. ``<DirectoryTree 3 files, 1 directory, 0 symlinks>``."""
        entries = self._native.entries()
        n = {k: sum(1 for e in entries if e[0] == k) for k in ("file", "directory", "symlink")}
        return (f"<DirectoryTree {n['file']} file{'' if n['file'] == 1 else 's'}, "
                f"{n['directory']} director{'y' if n['directory'] == 1 else 'ies'}, "
                f"{n['symlink']} symlink{'' if n['symlink'] == 1 else 's'}>")


def _wrap(value: Any) -> Any:
    return DirectoryTree(value) if isinstance(value, _core.DirectoryTree) else value


class _Attachments:
    """The getter set :class:`SealedRun` and :class:`SealedExperiment` share."""

    __slots__ = ("_native",)
    _native: Any

    @property
    def attachment_names(self) -> list[str]:
        """Read-only property.

        Names of the attachments (run-level for a SealedRun, experiment-level
        for a SealedExperiment), sorted.
        """
        return self._native.attachment_names()

    def attachment_media_type(self, name: str) -> str:
        """OCI media type of an attachment.

        The logical type of its content, whether or not it is stored
        zstd-compressed. sealrun.NotFound when there is no attachment ``name``.
        """
        return self._native.attachment_media_type(name)

    def get_attachment(self, name: str, *, allow_pickle: bool = False) -> Any:
        """Read an attachment by name.

        The returned Python object is decoded from the attachment media type:
        JSON → dict / list / str / int / float / bool / None, JSON lines → a
        list of records, ``.npy`` → ``numpy.ndarray`` (stored dtype, byte
        order, shape and C/Fortran order; the elements are not copied after
        reading), text → str (bytes that are not UTF-8 become lone surrogates:
        ``s.encode("utf-8", "surrogateescape")`` gives them back), raw bytes →
        bytes, a directory tree → :class:`DirectoryTree`, a pickle → its bytes,
        unpickled only when ``allow_pickle`` is true (unpickling runs code the
        pickle names: only for content you trust). The bytes are verified
        against their digest first. Raises sealrun.NotFound,
        sealrun.Unsupported (a media type without a codec: use
        :meth:`get_blob`), sealrun.InvalidInput (bytes the codec cannot
        read), sealrun.DigestMismatch.
        """
        return _wrap(self._native.get_attachment(name, allow_pickle))

    def get_blob(self, name: str) -> bytes:
        """Read raw bytes of an attachment by name.

        Verified against its digest, decompressed when stored zstd-compressed.
        """
        return self._native.get_blob(name)

    def get_json(self, name: str) -> Any:
        """Read a JSON attachment by name.

        sealrun.InvalidInput when it is not stored as ``application/json``.
        """
        return self._native.get_json(name)

    def get_with_codec(self, codec: Union[type[AttachmentCodec[T]], AttachmentCodec[T]], name: str) -> T:
        """Read an attachment by name and decode it with a codec.

        The codec class must provide media_type, encode(value) -> bytes, and
        decode(bytes) -> object (TypeError otherwise). This method validates
        the stored media type against the codec before decoding: a different
        one raises sealrun.InvalidInput (a ValueError) and ``decode`` is not
        called.
        """
        media_type = getattr(codec, "media_type", None)
        if (not isinstance(media_type, str) or not callable(getattr(codec, "encode", None))
                or not callable(getattr(codec, "decode", None))):
            raise TypeError(f"{codec!r} is not an attachment codec: it needs a str media_type, "
                            "encode(value) -> bytes and decode(bytes) -> object")
        return codec.decode(self._native.get_blob_for_codec(name, media_type))

    def get_instance(self, name: str) -> Any:
        """Read an Instance attachment by name.

        The attachment must be stored as an OMMX Instance
        (``application/org.ommx.v1.instance`` or ``…v2.instance``);
        sealrun.InvalidInput otherwise, before anything is decoded, and for
        bytes that are not the message. Returns an ``ommx.v1.Instance`` (OMMX
        3: ``ommx.Instance``) when the ``ommx`` package is importable, else a
        :class:`sealrun.Instance` with the same attribute names.
        """
        return _ommx._user_value(self._native.get_instance(name))

    def get_parametric_instance(self, name: str) -> Any:
        """Read a ParametricInstance attachment by name (as :meth:`get_instance`)."""
        return _ommx._user_value(self._native.get_parametric_instance(name))

    def get_solution(self, name: str) -> Any:
        """Read a Solution attachment by name (as :meth:`get_instance`)."""
        return _ommx._user_value(self._native.get_solution(name))

    def get_sample_set(self, name: str) -> Any:
        """Read a SampleSet attachment by name (as :meth:`get_instance`)."""
        return _ommx._user_value(self._native.get_sample_set(name))

    def write_attachment(self, name: str, path: PathLike, overwrite: bool = False) -> pathlib.Path:
        """Write an attachment to a filesystem path.

        If path names an existing directory, the attachment's stored name is
        used inside that directory (its folders created). Otherwise path is
        treated as the destination file path, whose missing folders are
        created (as ``sealrun get -o`` does). The bytes stream to disk in
        bounded memory and are verified before the file appears; an existing
        file is kept unless ``overwrite`` (sealrun.AlreadyExists). Returns the
        path written.
        """
        return self._native.write_attachment(name, path, overwrite)


class SealedRun(_Attachments):
    """Immutable view of a closed Run in an Experiment.

    SealedRun exposes run-level attachments by name and the sequence of Solve
    records created by Run.log_solve. The status property is "finished",
    "failed", or "interrupted" depending on how the Run was closed.
    """

    __slots__ = ()

    def __init__(self, native: Any) -> None:
        """Wraps a native run (made by :class:`SealedExperiment`, not by users)."""
        self._native = native

    @property
    def run_id(self) -> int:
        """Read-only property.

        Integer identifier of this run within its Experiment.
        """
        return self._native.run_id

    @property
    def status(self) -> str:
        """Read-only property.

        Run lifecycle status: "finished", "failed", or "interrupted".
        """
        return self._native.status

    @property
    def reason(self) -> Optional[str]:
        """Read-only property.

        Why the run failed or was interrupted; None when no reason was recorded
        (always for a finished run).
        """
        return self._native.reason or None

    @property
    def parameters(self) -> dict[str, Union[bool, int, float, str]]:
        """Read-only property.

        The run's parameters by name (a fresh dict each time).
        """
        return self._native.parameters

    @property
    def solves(self) -> list[Solve]:
        """Read-only property.

        Solve records logged in this run, ordered by solve_id.
        """
        return [Solve(**s) for s in self._native.solves]

    @property
    def samplings(self) -> list[Sampling]:
        """Read-only property.

        Sampling records logged in this run (``Run.log_sample``), ordered by sampling_id.
        """
        return [Sampling(**s) for s in self._native.samplings]

    @property
    def trace(self) -> Optional[Any]:
        """Read-only property.

        Stored trace for this run, or None when this run was recorded without
        trace storage. Read from its own layer and verified on each access.
        """
        return self._native.trace() if self._native.has_trace else None

    @property
    def digest(self) -> str:
        """Read-only property.

        Digest of the run's manifest (``sha256:…``).
        """
        return self._native.digest

    def __repr__(self) -> str:
        """E.g. ``<SealedRun run_id=0 finished, 2 attachments, 1 solve, sha256:…>``."""
        return repr(self._native)


def _column(pandas: Any, values: list) -> Any:
    """A DataFrame column that keeps every parameter exact: integers (with
    gaps) as pandas' nullable Int64, booleans (with gaps) as its nullable
    boolean, integers mixed with floats as objects (float64 would round
    integers past 2**53); anything else as pandas decides."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {int}:
        return pandas.array(values, dtype="Int64")
    if kinds == {bool}:
        return pandas.array(values, dtype="boolean")
    if int in kinds and float in kinds:
        return pandas.array(values, dtype=object)
    return values


class SealedExperiment(_Attachments):
    """Immutable view of a sealed Experiment, read from any location.

    Made by :func:`open`. Lists its runs and opens them as :class:`SealedRun`
    views; experiment-level attachments have the same getters as a run's.
    """

    __slots__ = ()

    def __init__(self, native: Any) -> None:
        """Wraps a native experiment (made by :func:`open`, not by users)."""
        self._native = native

    @property
    def name(self) -> str:
        """Read-only property.

        The experiment's name.
        """
        return self._native.name

    @property
    def status(self) -> str:
        """Read-only property.

        "finished" when every run finished, else "failed" (a run failed) or
        "interrupted".
        """
        return self._native.status

    @property
    def annotations(self) -> dict[str, str]:
        """Read-only property.

        The experiment index's annotations (``vnd.sealrun.*`` included).
        """
        return self._native.annotations

    @property
    def digest(self) -> str:
        """Read-only property.

        Digest of the experiment index (``sha256:…``).
        """
        return self._native.digest

    @property
    def location(self) -> str:
        """Read-only property.

        The location the experiment was opened from, as given to :func:`open`.
        """
        return self._native.location

    @property
    def run_ids(self) -> list[int]:
        """Read-only property.

        Every run id, ascending.
        """
        return self._native.run_ids

    @property
    def run_count(self) -> int:
        """Read-only property.

        How many runs the experiment has, from its index (nothing else read).
        """
        return self._native.run_count

    @property
    def parent(self) -> Optional[str]:
        """Read-only property.

        Digest of the experiment this one was forked from (its index's OCI
        ``subject``), or None.
        """
        return self._native.parent

    @property
    def summary(self) -> Optional[ExperimentSummary]:
        """Read-only property.

        The experiment summary (:class:`ExperimentSummary`), read on first use
        in two requests whatever the run count; None for an archive sealed
        before summaries. sealrun.InvalidInput when it is malformed or
        disagrees with the index.
        """
        raw = self._native.summary()
        if raw is None:
            return None
        return ExperimentSummary(experiment=raw["experiment"], values=list(raw["values"]),
                                 rows=[SummaryRow(**row) for row in raw["rows"]])

    @property
    def runs(self) -> list[SealedRun]:
        """Read-only property.

        Every run, by ascending run id (each run's manifest and config are read).
        """
        return [SealedRun(r) for r in self._native.runs()]

    def run(self, run_id: int) -> SealedRun:
        """The run ``run_id``; sealrun.NotFound when the experiment has none."""
        return SealedRun(self._native.run(run_id))

    def parameters(self) -> dict[str, list[Any]]:
        """Parameters of every run as columns.

        ``{"run_id": [ids ascending], name: [value or None per run], ...}``,
        one column per parameter name any run has (sorted), None where a run
        lacks it. sealrun.InvalidInput when a parameter is itself named
        ``run_id`` (:meth:`run_parameters_df` and :attr:`runs` still read it).
        """
        run_ids, columns = self._native.parameter_table()
        if "run_id" in columns:
            from ._errors import InvalidInput

            raise InvalidInput(f"parameters {self.location}: a parameter is named run_id, the column of run ids "
                               "(run_parameters_df() and runs read it)", operation="parameters",
                               subject=self.location, reason="a parameter is named run_id")
        return {"run_id": run_ids, **columns}

    def run_parameters_df(self, values: bool = True) -> Any:
        """Parameters of every run as a pandas DataFrame indexed by ``run_id``.

        One column per parameter name (sorted), then, when ``values`` and the
        experiment was sealed with summary values (``seal --summary
        result.json:loss``, ``SealOptions.summary_values``), one column per
        chosen value named ``"FILE:KEY"`` in the order chosen (a parameter of
        the same name keeps its column). Every value exact: integer and
        boolean columns use pandas' nullable Int64 and boolean types (a
        missing value is pandas.NA), a column mixing integers and floats
        holds objects, float columns use NaN for a gap. Read from the summary
        (a fixed number of requests) when the experiment has one, else by
        opening every run. Needs pandas: ImportError naming it otherwise.
        """
        try:
            import pandas
        except ImportError as e:
            raise ImportError("run_parameters_df() needs pandas (Debian: apt install python3-pandas; "
                              "pip: pip install pandas)", name="pandas") from e
        run_ids, columns = self._native.parameter_table()
        names = list(columns)
        summary = self._native.summary() if values else None
        if summary is not None:
            by_id = {row["run_id"]: row["values"] for row in summary["rows"]}
            for name in summary["values"]:
                if name not in columns:
                    columns[name] = [by_id.get(i, {}).get(name) for i in run_ids]
                    names.append(name)
        index = pandas.Index(run_ids, name="run_id", dtype="int64")
        return pandas.DataFrame({name: _column(pandas, columns[name]) for name in names}, index=index, columns=names)

    def __repr__(self) -> str:
        """E.g. ``<SealedExperiment 'sweep' finished, 3 runs, sha256:…>``."""
        return repr(self._native)


class OmmxArtifact(_Attachments):
    """Immutable view of an OMMX artifact: a manifest OMMX wrote whose layers
    are OMMX payloads (``artifactType application/org.ommx.v1.artifact``).

    OMMX gives its layers no names, so layer ``i`` is the attachment ``"i"``
    (``"0"`` for the first); a layer's digest (``"sha256:…"``) names it too.
    The getters are a run's: :meth:`get_instance` and the other OMMX getters,
    :meth:`get_blob`, :meth:`get_attachment`, :meth:`write_attachment`.
    Made by :meth:`open`: an ``.ommx`` file in place, or the tag ``sealrun
    import`` gave it. An OMMX 3 experiment opens with :func:`sealrun.open`.
    """

    __slots__ = ()

    def __init__(self, native: Any) -> None:
        """Wraps a native artifact (made by :meth:`open`, not by users)."""
        self._native = native

    @classmethod
    def open(cls, location: PathLike, *, store: Optional[PathLike] = None, plain_http: Optional[bool] = None,
             insecure: bool = False, ca_file: Optional[PathLike] = None) -> "OmmxArtifact":
        """Open an OMMX artifact from any location :func:`sealrun.open` takes.

        ``oci-archive:FILE.ommx`` opens an ``.ommx`` file in place (without a
        tag: the one image it holds); ``TAG`` one imported into the local
        store; ``docker://HOST/REPO:TAG`` one in a registry. Only the
        manifest is read now. Raises sealrun.InvalidInput ("is not an OMMX
        artifact", saying why), sealrun.NotFound.
        """
        return cls(_core.open_ommx_artifact(os.fspath(location), store=store, plain_http=plain_http,
                                            insecure=insecure, ca_file=ca_file))

    @property
    def digest(self) -> str:
        """Read-only property.

        Digest of the artifact's manifest (``sha256:…``).
        """
        return self._native.digest

    @property
    def location(self) -> str:
        """Read-only property.

        The location the artifact was opened from, as given to :meth:`open`.
        """
        return self._native.location

    @property
    def annotations(self) -> dict[str, str]:
        """Read-only property.

        The manifest's annotations.
        """
        return self._native.annotations

    @property
    def layer_count(self) -> int:
        """Read-only property.

        How many layers the artifact has.
        """
        return self._native.layer_count

    def layer_index(self, name: str) -> int:
        """The index of the layer ``name`` names (``"2"`` or a digest); sealrun.NotFound when none."""
        return self._native.layer_index(name)

    def layer_annotations(self, name: str) -> dict[str, str]:
        """Every annotation of the layer ``name`` names (e.g. ``org.ommx.v1.instance.title``)."""
        return self._native.layer_annotations(name)

    def __len__(self) -> int:
        """How many layers the artifact has."""
        return self._native.layer_count

    def __repr__(self) -> str:
        """E.g. ``<OmmxArtifact 'oci-archive:lp.ommx', 1 layer, sha256:…>``."""
        return repr(self._native)


def open(location: PathLike, *, store: Optional[PathLike] = None, plain_http: Optional[bool] = None,
         insecure: bool = False, ca_file: Optional[PathLike] = None) -> SealedExperiment:
    """Open a sealed experiment.

    ``location`` is any location the command line takes: ``TAG`` or a digest
    in the local store (``store``; default ``$SEALRUN_STORE``, else
    ``./storage``), ``oci:DIR:TAG``, ``oci-archive:FILE:TAG`` or
    ``docker://HOST/REPO:TAG`` / ``@DIGEST`` (credentials from docker's
    config.json, as ``sealrun login`` stores them). ``plain_http`` forces
    plain HTTP on or off (None: TLS, with plain HTTP only as a loopback
    registry's fallback), ``insecure`` skips TLS verification, ``ca_file``
    adds a CA bundle to trust. Only the experiment index is read now; nothing
    is created or locked. Raises sealrun.NotFound (FileNotFoundError for a
    missing store, layout or archive), sealrun.InvalidInput (not a sealed
    experiment, a malformed location), sealrun.Unauthorized, sealrun.NetworkError.
    """
    return SealedExperiment(_core.open(os.fspath(location), store=store, plain_http=plain_http, insecure=insecure,
                                       ca_file=ca_file))
