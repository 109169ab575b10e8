"""Many workers, one experiment: :func:`contribute` and :func:`collect`.

Each worker (a Slurm array task, a Kubernetes job) records its runs and
pushes them on its own with :func:`contribute`, without coordination and
without a shared filesystem; :func:`collect` then assembles the experiment
from the repository's tags, reading run manifests and configs only
(attachment blobs are neither downloaded nor uploaded again). The protocol
is docs/FORMAT.md, "Contributions and collect".
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterable, Optional, Union

from . import _core

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["contribute", "collect", "contribution_tag", "Contribution", "CollectedRun", "CollectResult"]


@dataclasses.dataclass(frozen=True)
class Contribution:
    """One run a worker pushed: its contribution ``tag``, the ``run_id``
    the worker recorded, and the ``digest`` of the pushed run manifest."""

    tag: str
    run_id: int
    digest: str


@dataclasses.dataclass(frozen=True)
class CollectedRun:
    """One run of a collected experiment.

    Attributes:
        run_id: its id in the experiment.
        worker: the worker that contributed it ("" for a run that was in the
            experiment without one).
        local_run_id: the id the worker recorded.
        status: ``finished``, ``failed`` or ``interrupted``.
        digest: the run manifest the index names.
        added: new in this collect.
        rewritten: its config and manifest were rewritten (its id differs
            from the worker's); the attachments are the worker's blobs.
    """

    run_id: int
    worker: str
    local_run_id: int
    status: str
    digest: str
    added: bool
    rewritten: bool


@dataclasses.dataclass(frozen=True)
class CollectResult:
    """What :func:`collect` did: the experiment ``tag`` and index ``digest``,
    its ``runs`` by id, how many were ``added`` and ``kept``, how many
    contribution tags were opened, and the ``skipped`` ones as
    ``(tag, reason)`` pairs."""

    destination: str
    tag: str
    digest: str
    runs: list[CollectedRun]
    added: int
    kept: int
    contributions: int
    skipped: list[tuple[str, str]]

    def __str__(self) -> str:
        """The index digest, as ``sealrun collect`` prints it."""
        return self.digest


def contribution_tag(experiment: str, worker: str, run_id: int) -> str:
    """The tag worker ``worker`` pushes its run ``run_id`` of ``experiment``
    under: ``contrib.EXPERIMENT.WORKER.RUN`` (names outside
    ``[A-Za-z0-9_-]`` or longer than 40 bytes hashed).

    Raises:
        InvalidInput: an empty name or worker, a worker over 256 bytes, a
            negative id.
    """
    return _core.contribution_tag(experiment, worker, run_id)


def contribute(src: Any, dst: str, *, worker: str, store: Optional[PathLike] = None,
               plain_http: Optional[bool] = None, insecure: bool = False,
               ca_file: Optional[PathLike] = None) -> list[Contribution]:
    """Push every run of an experiment as worker ``worker``'s contributions:
    ``sealrun contribute SRC DST --worker ID``.

    ``src`` is a location naming a sealed experiment (a tag in the local
    store, ``oci:DIR:TAG``, …) or a :class:`sealrun.Experiment` whose runs
    are all closed (it is committed first, under its tag, in its store).
    ``dst`` is a repository without a tag (``docker://HOST/REPO``,
    ``oci:DIR``). Each run is pushed with its blobs (those ``dst`` has are
    skipped) and tagged :func:`contribution_tag`; running the same worker
    again replaces its contributions, never adds to them.

    Raises:
        InvalidInput: an empty worker, ``dst`` with a tag, ``src`` not an
            experiment.
        NotFound: ``src`` does not exist.
    """
    from ._record import Experiment

    if isinstance(src, Experiment):
        store = src.store
        src = src.commit(force=True)  # the index digest: a location in its store
    r = _core.contribute(os.fspath(src), os.fspath(dst), worker, store, plain_http, insecure, ca_file)
    return [Contribution(**c) for c in r]


def collect(dst: str, *, experiment: str, tag: str, summary: Iterable[str] = (), force: bool = False,
            store: Optional[PathLike] = None, plain_http: Optional[bool] = None, insecure: bool = False,
            ca_file: Optional[PathLike] = None) -> CollectResult:
    """Assemble ``experiment`` from the contributions in the repository
    ``dst`` and tag it ``tag``: ``sealrun collect DST --experiment NAME --tag TAG``.

    Runs already in the experiment ``tag`` names keep their ids (matched by
    worker and the worker's run id); new ones take the next ids in (worker,
    run id) order. Contributions whose tag does not match their content
    (another experiment, another worker) are skipped and listed in
    :attr:`CollectResult.skipped`. Re-running with nothing new gives the same
    digest. ``summary`` names ``FILE:KEY`` values for the experiment summary
    (only those JSON attachments are downloaded).

    Raises:
        AlreadyExists: ``tag`` names something other than the experiment
            ``experiment`` (pass ``force`` to start afresh).
        InvalidInput: ``dst`` with a tag, a malformed tag.
    """
    r = _core.collect(os.fspath(dst), experiment, tag, list(summary), force, store, plain_http, insecure, ca_file)
    r["runs"] = [CollectedRun(**x) for x in r["runs"]]
    r["skipped"] = [(x["tag"], x["reason"]) for x in r["skipped"]]
    return CollectResult(**r)
