# Type stubs of the sealrun package. Every public name is defined, with its
# annotations and docstring, in the module that implements it (all of them
# annotated, see py.typed); this stub re-exports them, so type checkers and
# IDEs see the same signatures the code has and nothing is written twice.

from ._errors import AlreadyExists as AlreadyExists
from ._errors import Denied as Denied
from ._errors import DigestMismatch as DigestMismatch
from ._errors import Error as Error
from ._errors import FileNotFound as FileNotFound
from ._errors import InvalidInput as InvalidInput
from ._errors import IOFailure as IOFailure
from ._errors import NetworkError as NetworkError
from ._errors import NotFound as NotFound
from ._errors import ProtocolError as ProtocolError
from ._errors import SizeMismatch as SizeMismatch
from ._errors import TooLarge as TooLarge
from ._errors import Unauthorized as Unauthorized
from ._errors import Unsupported as Unsupported
from ._ommx import Bound as Bound
from ._ommx import Constraint as Constraint
from ._ommx import DecisionVariable as DecisionVariable
from ._ommx import Equality as Equality
from ._ommx import EvaluatedConstraint as EvaluatedConstraint
from ._ommx import Function as Function
from ._ommx import Instance as Instance
from ._ommx import InstanceDescription as InstanceDescription
from ._ommx import Kind as Kind
from ._ommx import Optimality as Optimality
from ._ommx import Parameter as Parameter
from ._ommx import ParametricInstance as ParametricInstance
from ._ommx import Relaxation as Relaxation
from ._ommx import Sample as Sample
from ._ommx import SampleSet as SampleSet
from ._ommx import Sense as Sense
from ._ommx import Solution as Solution
from ._ommx import State as State
from ._record import Experiment as Experiment
from ._record import Record as Record
from ._record import Run as Run
from ._sealed import AttachmentCodec as AttachmentCodec
from ._sealed import DirectoryTree as DirectoryTree
from ._sealed import ExperimentSummary as ExperimentSummary
from ._sealed import OmmxArtifact as OmmxArtifact
from ._sealed import SealedExperiment as SealedExperiment
from ._sealed import SummaryRow as SummaryRow
from ._sealed import Sampling as Sampling
from ._sealed import SealedRun as SealedRun
from ._sealed import Solve as Solve
from ._sealed import open as open
from ._transfer import Check as Check
from ._transfer import ConvertResult as ConvertResult
from ._transfer import CopyResult as CopyResult
from ._transfer import ValidationReport as ValidationReport
from ._transfer import convert as convert
from ._transfer import copy as copy
from ._transfer import pull as pull
from ._transfer import push as push
from ._transfer import validate as validate
from ._collect import CollectedRun as CollectedRun
from ._collect import CollectResult as CollectResult
from ._collect import Contribution as Contribution
from ._collect import collect as collect
from ._collect import contribute as contribute
from ._collect import contribution_tag as contribution_tag

__all__: list[str]
