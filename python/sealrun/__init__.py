"""sealrun: archive experiment runs as OCI artifacts, from Python.

Record runs (:class:`Experiment`, :class:`Record`), seal them into the local
store, move them with :func:`copy`, :func:`push` and :func:`pull`, and open
sealed experiments anywhere with :func:`open` as immutable
:class:`SealedExperiment` / :class:`SealedRun` views whose attachments are
verified against their digests before they are decoded. OMMX payloads
(:class:`Instance`, :class:`Solution`, …) are logged and read back typed, and
OMMX's own artifacts open as :class:`OmmxArtifact` views.
"""

from . import _errors  # before _core: its error translator builds these classes
from . import _core  # noqa: F401
from . import _collect, _ommx, _record, _sealed, _transfer
from ._errors import *  # noqa: F401,F403
from ._ommx import *  # noqa: F401,F403
from ._record import *  # noqa: F401,F403
from ._sealed import *  # noqa: F401,F403
from ._sealed import open  # noqa: F401,A001  (not in __all__: "import *" must not hide the builtin)
from ._transfer import *  # noqa: F401,F403
from ._collect import *  # noqa: F401,F403

__all__ = [name for module in (_errors, _ommx, _sealed, _record, _transfer, _collect) for name in getattr(module, "__all__", [])]
