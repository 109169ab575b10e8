"""Recording from Python: experiments, runs and machinable-style records.

An :class:`Experiment` is a named set of runs, recorded into the local store
and sealed into OCI manifests by :meth:`Experiment.commit` (or on leaving its
``with`` block). A :class:`Run` logs parameters, files, solves and a trace,
and ends finished, failed or interrupted. A :class:`Record` is machinable's
``Interface``: subclass it, define ``__call__`` as the body, and
:meth:`Record.launch` runs it once per config.

Every record owns a directory; saving and loading go through it, so you never
construct paths or invent file layouts. The extension of a file's name picks
its codec, the same table the C++ library and the ``sealrun`` CLI use:

============  =========================================================
Extension     Python value
============  =========================================================
``.json``     JSON: dict, list, str, int, float, bool or None
``.jsonl``    JSON lines: a list of JSON records
``.npy``      a ``numpy.ndarray`` (dtype, byte order, shape and order kept)
``.p``        pickled on save (``bytes`` are taken as a pickle already)
other         plain text: a ``str``
any name      ``bytes`` are written as they are
============  =========================================================
"""

from __future__ import annotations

import os
import pathlib
import traceback
from typing import Any, Mapping, Optional, Sequence, Union

from . import _core

__all__ = ["Experiment", "Run", "Record"]

#: A file inside a record: "plots/curve.json", a PathLike, or segments joined
#: like os.path.join (["plots", "curve.json"]).
RecordPathLike = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]
#: A scalar run parameter (numpy scalars of these kinds are accepted too).
ParameterValue = Union[bool, int, float, str]
StoreLike = Union[str, "os.PathLike[str]", None]


def _local_directory(path: Any, create: bool) -> pathlib.Path:
    """local_directory's result as a Path, made a directory when ``create``."""
    out = pathlib.Path(path)
    if create:
        out.mkdir(parents=True, exist_ok=True)
    return out


def _failure_reason(exc: BaseException) -> str:
    """The reason a failed run or record is closed with: the exception's last
    traceback line, e.g. ``"ValueError: diverged"`` (``"KeyboardInterrupt"``)."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class Run:
    """One run of an :class:`Experiment`, made by :meth:`Experiment.run`.

    A run is a record: files saved with :meth:`save_file` become its
    attachments when the experiment is sealed. Used as a context manager it
    closes as ``"finished"`` when the block ends normally, ``"failed"`` when
    it raises (the reason is the exception's last traceback line) and
    ``"interrupted"`` on ``KeyboardInterrupt``; the exception propagates.
    A run that is never closed is sealed as failed. A run keeps its
    experiment alive. Calls from several threads are serialized.
    """

    __slots__ = ("_run",)

    def __init__(self, core: Any) -> None:
        self._run = core

    @property
    def run_id(self) -> int:
        """Integer identifier of this run within its Experiment (0, 1, ...)."""
        return self._run.run_id

    @property
    def status(self) -> str:
        """Run lifecycle status: ``"running"`` while open, then ``"finished"``,
        ``"failed"`` or ``"interrupted"``."""
        return self._run.status

    @property
    def closed(self) -> bool:
        """Whether the run was finished, failed or interrupted."""
        return self._run.closed

    @property
    def parameters(self) -> dict[str, ParameterValue]:
        """The parameters logged so far, by name."""
        return self._run.parameters

    def log_parameter(self, name: str, value: ParameterValue) -> None:
        """Set the scalar parameter ``name`` (bool, int, float or str; numpy
        scalars too); the last write wins.

        Raises InvalidInput for an empty name, an integer outside
        [-2^63, 2^63-1], NaN, an infinity or a non-scalar value.
        """
        self._run.log_parameter(name, value)

    def save_file(self, path: RecordPathLike, data: Any, *, media_type: Optional[str] = None) -> None:
        """Save ``data`` into the run's directory; it becomes an attachment.

        The extension picks the serialization (see the module's table);
        ``bytes`` are written as they are under any name, sealed as
        ``media_type`` when given. Nested paths and lists of segments create
        their folders. Raises InvalidInput for a path that leaves the record
        (``"../x"``, absolute) or a value the extension's codec does not take.
        """
        self._run.save_file(path, data, media_type)

    def load_file(self, path: RecordPathLike, default: Any = None, *, allow_pickle: bool = False) -> Any:
        """Read back a file of the run, decoded by its codec, or ``default``
        when it does not exist.

        ``.npy`` files come back as ``numpy.ndarray``; pickles as ``bytes``
        unless ``allow_pickle=True`` unpickles them.
        """
        return self._run.load_file(path, default, allow_pickle)

    def mark(self, name: str, value: Any = True) -> None:
        """Tag the live run in memory; markers are never persisted.

        ``value`` (default True) must be a JSON value.
        """
        self._run.mark(name, value)

    def marker(self, name: str, default: Any = None) -> Any:
        """The marker ``name``, or ``default`` when it is unset."""
        return self._run.marker(name, default)

    def local_directory(self, *parts: Union[str, "os.PathLike[str]"], create: bool = False) -> pathlib.Path:
        """The run's record directory (created first), or a path inside it;
        ``create=True`` makes that path a directory too (as machinable's
        ``local_directory(..., create=True)``), e.g. to save figures into."""
        return _local_directory(self._run.local_directory(*parts), create)

    def log_instance(self, name: RecordPathLike, instance: Any) -> None:
        """Save an OMMX Instance as the run attachment ``name``.

        ``instance`` is a :class:`sealrun.Instance`, an ``ommx.v1.Instance``
        (anything with ``to_bytes()``, or OMMX 3's ``to_v1_bytes()``) or the
        protobuf bytes of one; it is decoded first, so what is sealed is a
        well-formed message, under ``application/org.ommx.v1.instance`` (or
        ``…v2.instance`` for a sealrun value read from a v2 payload). A
        later save to ``name`` replaces it. Raises InvalidInput for anything
        else (another OMMX type included), for bytes that are not the
        message, and once the run is closed.
        """
        self._run.log_instance(name, instance)

    def log_parametric_instance(self, name: RecordPathLike, parametric_instance: Any) -> None:
        """Save an OMMX ParametricInstance as the run attachment ``name`` (see :meth:`log_instance`)."""
        self._run.log_parametric_instance(name, parametric_instance)

    def log_solution(self, name: RecordPathLike, solution: Any) -> None:
        """Save an OMMX Solution as the run attachment ``name`` (see :meth:`log_instance`)."""
        self._run.log_solution(name, solution)

    def log_sample_set(self, name: RecordPathLike, sample_set: Any) -> None:
        """Save an OMMX SampleSet as the run attachment ``name`` (see :meth:`log_instance`)."""
        self._run.log_sample_set(name, sample_set)

    def log_solve(self, input: Any, output: Any = None, *, adapter: str = "",
                  adapter_options: Optional[Mapping[str, Any]] = None, status: str = "finished",
                  diagnostics: Any = None, input_name: Optional[RecordPathLike] = None,
                  output_name: Optional[RecordPathLike] = None) -> int:
        """Record a solver call and return its solve id (0, 1, ...).

        Two forms. With OMMX payloads, as OMMX's Run records a solve:
        ``input`` an Instance and ``output`` a Solution (each as
        :meth:`log_instance` takes it) are saved as run attachments named
        ``input_name`` / ``output_name`` (default ``solves/<id>/input`` and
        ``solves/<id>/output``) and a finished solve naming them is logged;
        nothing is logged when that fails. With names: ``input`` and
        ``output`` name attachments of this run (saved by commit time);
        ``output`` is required when ``status`` is ``"finished"`` and absent
        otherwise (``"failed"``, ``"interrupted"``). ``adapter`` names the
        solver interface, ``adapter_options`` its options (a JSON object),
        ``diagnostics`` free-form JSON. Raises InvalidInput for an
        inconsistent solve.
        """
        if isinstance(input, str):
            if input_name is not None or output_name is not None:
                raise TypeError("log_solve: input_name and output_name go with OMMX payloads, "
                                "not with attachment names")
            return self._run.log_solve(input, output, adapter, adapter_options, status, diagnostics)
        if status != "finished":
            raise TypeError(f"log_solve: a solve logged with its OMMX payloads is finished, not {status!r} "
                            "(log an unfinished one by attachment names)")
        return self._run.log_ommx_solve(input, output, adapter, adapter_options, diagnostics, input_name, output_name)

    def log_sample(self, input: Any, output: Any = None, *, adapter: str = "",
                   adapter_options: Optional[Mapping[str, Any]] = None, status: str = "finished",
                   diagnostics: Any = None, input_name: Optional[RecordPathLike] = None,
                   output_name: Optional[RecordPathLike] = None) -> int:
        """Record a sampler call (a sampling) and return its sampling id
        (0, 1, ...; counted apart from solves).

        As :meth:`log_solve`, with a SampleSet as the output: OMMX payloads
        are saved as ``samplings/<id>/input`` and ``samplings/<id>/output``
        unless named; attachment names are logged as they are. The sealed
        run lists it in :attr:`SealedRun.samplings`.
        """
        if isinstance(input, str):
            if input_name is not None or output_name is not None:
                raise TypeError("log_sample: input_name and output_name go with OMMX payloads, "
                                "not with attachment names")
            return self._run.log_sampling(input, output, adapter, adapter_options, status, diagnostics)
        if status != "finished":
            raise TypeError(f"log_sample: a sampling logged with its OMMX payloads is finished, not {status!r} "
                            "(log an unfinished one by attachment names)")
        return self._run.log_ommx_sample(input, output, adapter, adapter_options, diagnostics, input_name,
                                         output_name)

    def save_trace(self, trace: Any) -> None:
        """Store the run's one trace (a JSON value), apart from its
        attachments. Raises AlreadyExists on a second call and InvalidInput
        once the run is closed."""
        self._run.save_trace(trace)

    def describe(self, kind: str, config: Optional[Mapping[str, Any]] = None) -> None:
        """Say what the run is: ``kind`` (e.g. ``"train"``) and ``config``
        (the settings it ran with, a JSON object, or None); sealed in the run
        config, the last call wins."""
        self._run.describe(kind, config)

    def finish(self) -> None:
        """Close the run as finished. Raises InvalidInput when already closed."""
        self._run.finish()

    def fail(self, reason: str) -> None:
        """Close the run as failed, with a reason."""
        self._run.fail(reason)

    def interrupt(self, reason: str) -> None:
        """Close the run as interrupted, with a reason."""
        self._run.interrupt(reason)

    def __enter__(self) -> "Run":
        """Returns the run; leaving the block closes it (see :meth:`__exit__`)."""
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        """Closes a run still open: finished when the block ended normally,
        interrupted on KeyboardInterrupt, failed on any other exception (its
        last traceback line is the reason). The exception propagates."""
        if not self._run.closed:
            if exc is None:
                self._run.finish()
            elif isinstance(exc, KeyboardInterrupt):
                self._run.interrupt(_failure_reason(exc))
            else:
                self._run.fail(_failure_reason(exc))
        return False

    def __repr__(self) -> str:
        return f"<sealrun.Run run_id={self.run_id} status={self.status!r}>"


class Experiment:
    """A named set of runs plus experiment-level attachments, recorded into a
    store and sealed with :meth:`commit`.

    ``store`` is the local store (str or PathLike; None: ``$SEALRUN_STORE``,
    else ``./storage``, as the CLI), made absolute when the experiment is
    created. Used as a context manager, the experiment is committed when the
    block ends normally, under ``tag`` (default: the experiment's name, which
    must then be a valid tag) with ``compress`` and ``force`` as
    :meth:`commit` takes them; a block that raises commits nothing. Calls
    from several threads are serialized.

    ``checkpoint=True`` seals the closed runs as a draft under
    ``<tag>.checkpoint`` after every ``checkpoint_every`` runs (or once
    ``checkpoint_seconds`` have passed), so a sweep that dies loses nothing
    (:meth:`resume`). ``checkpoint_to="docker://HOST/REPO"`` (which turns
    checkpoints on) also copies each checkpoint there, uploading only what
    the registry lacks, reached as ``plain_http``, ``insecure`` and
    ``ca_file`` say; a failed copy does not stop the sweep
    (:attr:`checkpoint_error`) and the next checkpoint copies again.

    Example::

        with sealrun.Experiment("sweep", store="storage") as exp:
            for lr in (0.1, 0.01):
                with exp.run() as run:
                    run.log_parameter("lr", lr)
                    run.save_file("loss.npy", numpy.array([0.5, 0.25]))
    """

    def __init__(self, name: str, *, store: StoreLike = None, tag: Optional[str] = None, compress: bool = False,
                 force: bool = False, checkpoint: bool = False, checkpoint_every: int = 1,
                 checkpoint_seconds: float = 0.0, catch_signals: bool = False, checkpoint_to: Optional[str] = None,
                 plain_http: Optional[bool] = None, insecure: bool = False,
                 ca_file: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        if tag is not None:
            _core.check_tag(tag)
        # A remote for the checkpoints turns them on.
        cp_tag = (tag if tag is not None else name) if checkpoint or checkpoint_to else ""
        self._exp = _core.Experiment(store, name, cp_tag, checkpoint_every, checkpoint_seconds, catch_signals,
                                     checkpoint_to or "", plain_http, insecure, ca_file)
        self._tag = tag
        self._compress = compress
        self._force = force
        self._runs: list[Run] = []

    @classmethod
    def _wrap(cls, core: Any, tag: Optional[str]) -> "Experiment":
        self = cls.__new__(cls)
        self._exp = core
        self._tag = tag
        self._compress = False
        self._force = False
        self._runs = []
        return self

    @classmethod
    def resume(cls, tag: str, *, store: StoreLike = None, checkpoint_every: int = 1, checkpoint_seconds: float = 0.0,
               catch_signals: bool = False, checkpoint_to: Optional[str] = None, plain_http: Optional[bool] = None,
               insecure: bool = False, ca_file: Optional[Union[str, "os.PathLike[str]"]] = None) -> "Experiment":
        """Continue the sweep whose checkpoint ``<tag>.checkpoint`` the store
        holds: its closed runs are kept as sealed, the runs a killed process
        left unsealed in the store's records are taken over (closed ones as
        they closed, open ones as interrupted with the files they saved),
        new runs are numbered after them, checkpoints go on under the same
        tag, and committing under ``tag`` (leaving the ``with`` block)
        replaces the checkpoint.

        ``tag`` may be a location with the sweep's tag,
        ``"docker://HOST/REPO:TAG"``: the checkpoint ``TAG.checkpoint`` is
        copied from there into the store (an empty store on another node
        resumes the sweep), and checkpoints go on there. With a bare tag,
        ``checkpoint_to`` is where checkpoints are copied, and where the
        checkpoint comes from when the store has none. Raises NotFound when
        there is no checkpoint."""
        core = _core.Experiment.resume(store, tag, checkpoint_every, checkpoint_seconds, catch_signals,
                                       checkpoint_to or "", plain_http, insecure, ca_file)
        return cls._wrap(core, core.checkpoint_for)

    @classmethod
    def load(cls, tag: str, *, store: StoreLike = None) -> "Experiment":
        """Open the sealed experiment ``tag`` for appending runs; committing
        under ``tag`` moves it (no ``force`` needed), and a push uploads only
        the new runs (the sealed ones are reused by digest)."""
        return cls._wrap(_core.Experiment.load(store, tag), tag)

    @classmethod
    def fork(cls, tag: str, name: Optional[str] = None, *, store: StoreLike = None,
             new_tag: Optional[str] = None) -> "Experiment":
        """Start a new experiment ``name`` (None: the parent's) from the sealed
        experiment ``tag``, its runs kept; every index it writes names the
        parent's index as OCI ``subject`` (:attr:`subject`). It commits under
        ``new_tag`` (None: its name) when used as a context manager."""
        return cls._wrap(_core.Experiment.fork(store, tag, name or ""), new_tag)

    @staticmethod
    def rename(tag: str, name: str, *, new_tag: Optional[str] = None, store: StoreLike = None,
               force: bool = False) -> str:
        """Seal the experiment ``tag`` again as experiment ``name`` under
        ``new_tag`` (None: ``tag``, moved); runs and attachment blobs are
        reused. Returns the new index digest."""
        return _core.Experiment.rename(store, tag, name, new_tag or "", force)

    @property
    def kept_run_ids(self) -> list[int]:
        """The ids of the runs carried over from a sealed experiment (resume, load, fork)."""
        return list(self._exp.kept_run_ids)

    @property
    def subject(self) -> Optional[str]:
        """The digest of the parent index a fork refers to, else None."""
        return self._exp.subject

    @property
    def checkpoint_error(self) -> Optional[str]:
        """Why the last copy of a checkpoint to ``checkpoint_to`` failed
        (the sweep goes on, and the next checkpoint copies again); None
        when it succeeded or none was tried."""
        return self._exp.checkpoint_error

    def checkpoint(self, status: str = "draft", reason: str = "") -> Optional[str]:
        """Seal the closed runs now as a checkpoint (``status`` "draft",
        "failed" or "interrupted"; the last two close open runs so first)
        under ``<tag>.checkpoint``; returns its digest, None when the
        experiment has no checkpoints."""
        return self._exp.checkpoint(status, reason)

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._exp.name

    @property
    def store(self) -> pathlib.Path:
        """The store the experiment records into and commits to (absolute)."""
        return pathlib.Path(self._exp.store)

    @property
    def tag(self) -> str:
        """The tag leaving the ``with`` block commits to: ``tag=``, else the name."""
        return self._tag if self._tag is not None else self.name

    @property
    def runs(self) -> list[Run]:
        """Every run started so far, by run id."""
        return list(self._runs)

    def run(self) -> Run:
        """Start the next run (ids count from 0); use it as ``with exp.run() as run:``."""
        r = Run(self._exp.run())
        self._runs.append(r)
        return r

    def annotate(self, key: str, value: str) -> None:
        """Add an annotation to the sealed experiment index; the last value
        of a key wins. Raises InvalidInput for an empty key or one of
        sealrun's reserved namespace."""
        self._exp.annotate(key, value)

    def save_file(self, path: RecordPathLike, data: Any, *, media_type: Optional[str] = None) -> None:
        """Save an experiment-level attachment (see :meth:`Run.save_file`)."""
        self._exp.save_file(path, data, media_type)

    def log_instance(self, name: RecordPathLike, instance: Any) -> None:
        """Save an OMMX Instance as the experiment-level attachment ``name`` (see :meth:`Run.log_instance`)."""
        self._exp.log_instance(name, instance)

    def log_parametric_instance(self, name: RecordPathLike, parametric_instance: Any) -> None:
        """Save an OMMX ParametricInstance as an experiment-level attachment (see :meth:`Run.log_instance`)."""
        self._exp.log_parametric_instance(name, parametric_instance)

    def log_solution(self, name: RecordPathLike, solution: Any) -> None:
        """Save an OMMX Solution as an experiment-level attachment (see :meth:`Run.log_instance`)."""
        self._exp.log_solution(name, solution)

    def log_sample_set(self, name: RecordPathLike, sample_set: Any) -> None:
        """Save an OMMX SampleSet as an experiment-level attachment (see :meth:`Run.log_instance`)."""
        self._exp.log_sample_set(name, sample_set)

    def load_file(self, path: RecordPathLike, default: Any = None, *, allow_pickle: bool = False) -> Any:
        """Read back an experiment-level attachment, or ``default`` (see :meth:`Run.load_file`)."""
        return self._exp.load_file(path, default, allow_pickle)

    def local_directory(self, *parts: Union[str, "os.PathLike[str]"], create: bool = False) -> pathlib.Path:
        """The directory of the experiment-level attachments, or a path inside
        it; ``create=True`` makes that path a directory too."""
        return _local_directory(self._exp.local_directory(*parts), create)

    def commit(self, tag: Optional[str] = None, *, compress: bool = False, force: bool = False) -> str:
        """Seal every run (all must be closed) and the experiment-level
        attachments into the store, tag the experiment index ``tag`` (None:
        :attr:`tag`) and return the index digest (``"sha256:..."``).

        Sealing the same content again gives the same digest. ``compress``
        stores attachments zstd-compressed. Raises InvalidInput for an open
        run or a solve naming a missing attachment, and AlreadyExists when
        ``tag`` names other content and ``force`` is false.
        """
        return self._exp.commit(self.tag if tag is None else tag, compress, force)

    def __enter__(self) -> "Experiment":
        """Checks the tag the block will commit under (InvalidInput before any
        work when it is not a valid tag) and returns the experiment."""
        _core.check_tag(self.tag)  # refused before the work, not when committing it
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        """Commits under the experiment's tag when the block ended normally;
        commits nothing when it raised (the records stay in the store). With
        checkpoints on, a block that raised leaves an ``interrupted``
        checkpoint (KeyboardInterrupt) or a ``failed`` one (anything else),
        its open runs closed so."""
        if exc is None:
            self.commit(self.tag, compress=self._compress, force=self._force)
        else:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self._exp.checkpoint(status, _failure_reason(exc))
        return False

    def __repr__(self) -> str:
        return f"<sealrun.Experiment {self.name!r} runs={len(self._runs)} store={str(self.store)!r}>"


class Record(_core.Record):
    """A launchable unit with its own record directory (machinable's
    ``Interface``): subclass it and define ``__call__(self)`` as the body.

    ``config`` (a JSON object) and ``kind`` (default: the class name) make
    the record's identity: two records of the same kind and config are the
    same record, in this process and in others. ``store`` is the local store
    (None: ``$SEALRUN_STORE``, else ``./storage``); records live under
    ``<store>/records/<identity>/``. A subclass with its own ``__init__``
    must call ``super().__init__(config, store=..., kind=...)``.

    Calls from several threads are serialized, and launch() holds the record
    while its body runs: a body must not wait for another thread that uses
    the same record.

    Example::

        class Optimize(sealrun.Record):
            def __call__(self):
                self.save_file("result.json", {"loss": 0.1})

            def loss(self):
                return self.load_file("result.json")["loss"]

        run = Optimize({"lr": 0.5}).launch()
        run.cached()        # True after a successful launch
    """

    def __init__(self, config: Optional[Mapping[str, Any]] = None, *, store: StoreLike = None,
                 kind: Optional[str] = None) -> None:
        super().__init__(store, type(self).__name__ if kind is None else kind, {} if config is None else config)

    @property
    def kind(self) -> str:
        """The record's kind, e.g. ``"Optimize"``."""
        return super().kind

    @property
    def config(self) -> Any:
        """The config the record's identity follows."""
        return super().config

    @property
    def identity(self) -> str:
        """Hex sha256 of the canonical JSON of kind and config: equal kind
        and config, equal identity."""
        return super().identity

    @property
    def status(self) -> str:
        """``"new"``, ``"running"``, ``"finished"`` or ``"failed"``."""
        return super().status

    def launch(self) -> "Record":
        """Run the body (``__call__``) once and return self.

        A cached record returns at once. Otherwise the record is
        materialized and, under a file lock that other processes launching
        the same record wait on, the body runs and the record is marked
        cached. A body that raises leaves the record failed and not cached,
        and the exception propagates.
        """
        super().launch()
        return self

    def cached(self, value: Optional[bool] = None) -> bool:
        """Whether results are ready: True after a successful launch.

        ``cached(False)`` clears the mark so the next launch recomputes;
        ``cached(True)`` sets it. Returns the (new) state.
        """
        return super().cached(value)

    def save_file(self, path: RecordPathLike, data: Any, *, media_type: Optional[str] = None) -> None:
        """Save ``data`` into the record directory (see :meth:`Run.save_file`).

        Files saved before the record is materialized are buffered and
        flushed to disk on materialize, so you can save from anywhere in the
        lifecycle.
        """
        super().save_file(path, data, media_type)

    def load_file(self, path: RecordPathLike, default: Any = None, *, allow_pickle: bool = False) -> Any:
        """Read back a file of the record, or ``default`` (see :meth:`Run.load_file`)."""
        return super().load_file(path, default, allow_pickle)

    def files(self) -> list[str]:
        """The names of the files in the record directory, sorted (model.json excluded)."""
        return super().files()

    def mark(self, name: str, value: Any = True) -> None:
        """Tag the live object in memory; markers are never persisted, so
        they disappear when the object goes away. ``value`` must be JSON."""
        super().mark(name, value)

    def marker(self, name: str, default: Any = None) -> Any:
        """The marker ``name``, or ``default`` when unset."""
        return super().marker(name, default)

    def local_directory(self, *parts: Union[str, "os.PathLike[str]"], create: bool = False) -> pathlib.Path:
        """The record directory (``<store>/records/<identity>/``), or a path
        inside it; materializes the record first. ``create=True`` makes the
        path a directory too."""
        return _local_directory(super().local_directory(*parts), create)

    def __repr__(self) -> str:
        """E.g. ``<sealrun.Record optimize 0f2a… status='finished'>``."""
        return f"<sealrun.Record {self.kind} {self.identity[:12]} status={self.status!r}>"
