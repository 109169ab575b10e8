"""OMMX payloads: :class:`Instance`, :class:`ParametricInstance`, :class:`Solution`, :class:`SampleSet`.

OMMX (https://github.com/Jij-Inc/ommx) stores optimization problems and
their answers as Protocol Buffers messages (``ommx.v1.Instance`` and so on,
and OMMX 3's ``ommx.v2`` forms). The getters of :class:`SealedRun`,
:class:`SealedExperiment` and :class:`OmmxArtifact` return them as the
``ommx`` package's own objects when it is importable, and otherwise as the
objects of this module, whose attributes carry the names ``ommx.v1``'s have
for what they share: an instance's ``sense``, ``decision_variables``,
``objective``, ``constraints`` and ``description``; a solution's
``objective``, ``feasible``, ``optimality``, ``state`` and ``constraints``
(its evaluated constraints, by id); a sample set's ``objectives``,
``feasible``, ``sample_ids()``, ``best_feasible`` and ``get(sample_id)``; a
parametric instance's ``parameters``.

The C++ core decodes and encodes (with the GIL released); the objects here
are immutable views of its values. ``to_bytes()`` gives the message's
protobuf bytes (unknown fields a newer OMMX wrote are kept), ``to_dict()`` /
``to_json()`` its protobuf JSON mapping, ``from_bytes()`` / ``from_dict()``
read them back, and ``from_components()`` builds a v1 value.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Optional, Sequence, TypeVar, Union

from . import _core

__all__ = [
    "Sense",
    "Kind",
    "Equality",
    "Optimality",
    "Relaxation",
    "Bound",
    "Function",
    "DecisionVariable",
    "Constraint",
    "InstanceDescription",
    "Parameter",
    "EvaluatedConstraint",
    "State",
    "Sample",
    "Instance",
    "ParametricInstance",
    "Solution",
    "SampleSet",
]

BytesLike = Union[bytes, bytearray, memoryview]


class _Named(enum.IntEnum):
    """An OMMX enumeration: members named as ``ommx.v1``'s, valued as the protobuf enum."""

    @classmethod
    def _from_core(cls, name: str) -> Any:
        """The member the C++ core names ``name`` (its to_string: ``"minimize"``, ``"equal_to_zero"``)."""
        return cls[_core_names(cls)[name]]

    def _core_name(self) -> str:
        """The name the C++ core gives this member."""
        return {v: k for k, v in _core_names(type(self)).items()}[self.name]


class Sense(_Named):
    """An objective's direction (protobuf ``Instance.Sense``)."""

    Unspecified = 0
    Minimize = 1
    Maximize = 2


class Kind(_Named):
    """A decision variable's kind (protobuf ``DecisionVariable.Kind``)."""

    Unspecified = 0
    Binary = 1
    Integer = 2
    Continuous = 3
    SemiInteger = 4
    SemiContinuous = 5


class Equality(_Named):
    """How a constraint's function compares with zero (protobuf ``Equality``)."""

    Unspecified = 0
    EqualToZero = 1
    LessThanOrEqualToZero = 2


class Optimality(_Named):
    """What the solver proved about a solution (protobuf ``Optimality``)."""

    Unspecified = 0
    Optimal = 1
    NotOptimal = 2


class Relaxation(_Named):
    """Whether a solution is of the LP relaxation (protobuf ``Relaxation``)."""

    Unspecified = 0
    LpRelaxed = 1


def _core_names(cls: type) -> dict[str, str]:
    """The C++ core's enumerator names (``"semi_integer"``) → the member names (``"SemiInteger"``)."""
    return {_snake(k): k for k in cls.__members__}


def _snake(name: str) -> str:
    """``"SemiInteger"`` → ``"semi_integer"``, ``"LpRelaxed"`` → ``"lp_relaxed"``."""
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


@dataclasses.dataclass(frozen=True)
class Bound:
    """A decision variable's range."""

    lower: float
    """Lower bound (may be ``-inf``)."""
    upper: float
    """Upper bound (may be ``inf``)."""


@dataclasses.dataclass(frozen=True)
class Function:
    """An objective or a constraint's left-hand side, as its monomials."""

    terms: dict[tuple[int, ...], float]
    """Each monomial's variable ids (a variable once per power, ``()`` for the
    constant) mapped to its coefficient, in stored order."""
    form: str = "polynomial"
    """How the function is stored: ``"zero"``, ``"constant"``, ``"linear"``,
    ``"quadratic"`` or ``"polynomial"``."""

    @property
    def linear_terms(self) -> dict[int, float]:
        """The degree-1 terms: variable id → coefficient."""
        return {ids[0]: c for ids, c in self.terms.items() if len(ids) == 1}

    @property
    def quadratic_terms(self) -> dict[tuple[int, int], float]:
        """The degree-2 terms: (id, id) → coefficient."""
        return {(ids[0], ids[1]): c for ids, c in self.terms.items() if len(ids) == 2}

    @property
    def constant_term(self) -> float:
        """The constant term's coefficient (0.0 when none)."""
        return self.terms.get((), 0.0)

    def degree(self) -> int:
        """The largest number of variables in a term (0 for a constant)."""
        return max((len(ids) for ids in self.terms), default=0)

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> "Function":
        terms: dict[tuple[int, ...], float] = {}
        for ids, coefficient in d["terms"]:
            terms[ids] = terms.get(ids, 0.0) + coefficient
        return cls(terms=terms, form=d["form"])

    def _to_core(self) -> dict[str, Any]:
        form = self.form
        if form not in ("zero", "constant", "linear", "quadratic", "polynomial"):
            form = "polynomial"
        return {"form": form, "terms": [(tuple(ids), float(c)) for ids, c in self.terms.items()]}


def _labels(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": d["name"], "subscripts": list(d["subscripts"]), "parameters": dict(d["parameters"]),
            "description": d["description"]}


@dataclasses.dataclass(frozen=True)
class DecisionVariable:
    """One decision variable of an instance."""

    id: int
    """The variable's id."""
    kind: Kind
    """Binary, Integer, Continuous, SemiInteger or SemiContinuous (an int, as in ``ommx.v1``)."""
    bound: Optional[Bound] = None
    """Its range; None when the payload gives none."""
    name: Optional[str] = None
    """Modelling name, e.g. ``"x"``."""
    subscripts: list[int] = dataclasses.field(default_factory=list)
    """Subscripts of the name, e.g. ``[0, 1]`` for ``x[0, 1]``."""
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    """Free-form labels."""
    description: Optional[str] = None
    """Free-form description."""
    substituted_value: Optional[float] = None
    """The value the variable was fixed to, if any."""

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> "DecisionVariable":
        b = d["bound"]
        return cls(id=d["id"], kind=Kind._from_core(d["kind"]), bound=None if b is None else Bound(*b),
                   substituted_value=d["substituted_value"], **_labels(d))

    def _to_core(self) -> dict[str, Any]:
        return {"id": self.id, "kind": Kind(self.kind)._core_name(),
                "bound": None if self.bound is None else (self.bound.lower, self.bound.upper),
                "substituted_value": self.substituted_value, "name": self.name, "subscripts": list(self.subscripts),
                "parameters": dict(self.parameters), "description": self.description}


@dataclasses.dataclass(frozen=True)
class Constraint:
    """One constraint: ``function`` (== or <=) 0."""

    id: int
    """The constraint's id."""
    equality: Equality
    """EqualToZero or LessThanOrEqualToZero."""
    function: Function
    """The left-hand side."""
    name: Optional[str] = None
    """Modelling name."""
    subscripts: list[int] = dataclasses.field(default_factory=list)
    """Subscripts of the name."""
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    """Free-form labels."""
    description: Optional[str] = None
    """Free-form description."""
    removed_reason: Optional[str] = None
    """Why the instance keeps it as removed (``Instance.removed_constraints``); None for an active one."""

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> "Constraint":
        return cls(id=d["id"], equality=Equality._from_core(d["equality"]), function=Function._from_core(d["function"]),
                   removed_reason=d["removed_reason"], **_labels(d))

    def _to_core(self) -> dict[str, Any]:
        return {"id": self.id, "equality": Equality(self.equality)._core_name(), "function": self.function._to_core(),
                "removed_reason": self.removed_reason, "name": self.name, "subscripts": list(self.subscripts),
                "parameters": dict(self.parameters), "description": self.description}


@dataclasses.dataclass(frozen=True)
class InstanceDescription:
    """An instance's free-form provenance."""

    name: Optional[str] = None
    """The instance's name (OMMX shows it as its title)."""
    description: Optional[str] = None
    """What the instance is."""
    authors: list[str] = dataclasses.field(default_factory=list)
    """Who made it."""
    created_by: Optional[str] = None
    """The program that made it."""
    created: Optional[str] = None
    """When it was made, as stored."""
    license: Optional[str] = None
    """Its licence."""
    dataset: Optional[str] = None
    """The dataset it belongs to."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One parameter of a parametric instance."""

    id: int
    """The parameter's id."""
    name: Optional[str] = None
    """Modelling name."""
    subscripts: list[int] = dataclasses.field(default_factory=list)
    """Subscripts of the name."""
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    """Free-form labels."""
    description: Optional[str] = None
    """Free-form description."""


@dataclasses.dataclass(frozen=True)
class EvaluatedConstraint:
    """A constraint evaluated at a solution."""

    id: int
    """The constraint's id."""
    equality: Equality
    """EqualToZero or LessThanOrEqualToZero."""
    evaluated_value: float
    """The function's value at the solution."""
    feasible: bool
    """Whether the constraint holds (OMMX's tolerance, 1e-6, for a v1 payload, which stores no flag)."""
    dual_variable: Optional[float] = None
    """The dual value, when the solver gave one."""
    name: Optional[str] = None
    """Modelling name."""
    subscripts: list[int] = dataclasses.field(default_factory=list)
    """Subscripts of the name."""
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    """Free-form labels."""
    description: Optional[str] = None
    """Free-form description."""
    removed_reason: Optional[str] = None
    """Why the constraint was removed before solving; None for an active one."""

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> "EvaluatedConstraint":
        return cls(id=d["id"], equality=Equality._from_core(d["equality"]), evaluated_value=d["evaluated_value"],
                   feasible=d["feasible"], dual_variable=d["dual_variable"], removed_reason=d["removed_reason"],
                   **_labels(d))

    def _to_core(self) -> dict[str, Any]:
        return {"id": self.id, "equality": Equality(self.equality)._core_name(), "evaluated_value": self.evaluated_value,
                "feasible": self.feasible, "dual_variable": self.dual_variable, "removed_reason": self.removed_reason,
                "name": self.name, "subscripts": list(self.subscripts), "parameters": dict(self.parameters),
                "description": self.description}


class State(Mapping[int, float]):
    """Values of decision variables by id: a read-only mapping (``entries`` as a dict, as ``ommx.v1.State``)."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[int, float]) -> None:
        """A state holding a copy of ``entries``."""
        self._entries = {int(k): float(v) for k, v in entries.items()}

    @property
    def entries(self) -> dict[int, float]:
        """Variable id → value (a fresh dict)."""
        return dict(self._entries)

    def __getitem__(self, key: int) -> float:
        """The value of variable ``key``; KeyError when the state has none."""
        return self._entries[key]

    def __iter__(self) -> Iterator[int]:
        """The variable ids, ascending."""
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        """How many variables have a value."""
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        """Equal to a state or mapping holding the same values."""
        if isinstance(other, Mapping):
            return self._entries == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """E.g. ``State({1: 0.0, 2: 1.0})``."""
        return f"State({dict(sorted(self._entries.items()))!r})"


@dataclasses.dataclass(frozen=True)
class Sample:
    """One sample of a :class:`SampleSet`: what ``SampleSet.get`` returns
    (``ommx.v1`` returns a Solution there; the attributes shared are these)."""

    id: int
    """The sample id."""
    objective: float
    """The objective's value."""
    feasible: bool
    """Whether every constraint holds."""
    state: State
    """The variables' values."""

    @property
    def sample_id(self) -> int:
        """The sample id (as ``id``)."""
        return self.id

    @classmethod
    def _from_core(cls, d: Mapping[str, Any]) -> "Sample":
        return cls(id=d["id"], objective=d["objective"], feasible=d["feasible"], state=State(d["state"]))


P = TypeVar("P", bound="_Payload")


class _Payload:
    """What the four payload types share: bytes, JSON, version, equality."""

    __slots__ = ("_native",)
    _core_class: ClassVar[Any]

    def __init__(self, native: Any) -> None:
        """Wraps a native value (made by the getters and the class methods, not by users)."""
        if not isinstance(native, self._core_class):
            raise TypeError(f"{type(self).__name__} wraps a sealrun._core.{self._core_class.__name__}, "
                            f"not a {type(native).__name__}; use {type(self).__name__}.from_bytes")
        self._native = native

    @classmethod
    def from_bytes(cls: type[P], data: BytesLike, *, version: int = 1) -> P:
        """Decode the protobuf bytes of the ``ommx.v<version>`` message.

        ``version`` is the schema version (1 or 2: OMMX 3 writes
        ``application/org.ommx.v2.*`` layers). Raises sealrun.InvalidInput for
        bytes that are not the message (truncated, a length past the end,
        nesting too deep, a wrong wire type).
        """
        if not isinstance(data, bytes):
            data = bytes(data)
        return cls(cls._core_class.decode(data, version))

    @classmethod
    def from_dict(cls: type[P], data: Mapping[str, Any]) -> P:
        """Read protobuf's JSON mapping of the v1 message (what :meth:`to_dict` gives).

        Raises sealrun.InvalidInput for what is not one.
        """
        return cls(cls._core_class.from_json(data))

    def to_bytes(self) -> bytes:
        """The message's protobuf bytes (deterministic; unknown fields kept)."""
        return self._native.encode()

    def to_dict(self) -> dict[str, Any]:
        """The message in protobuf's JSON mapping (lowerCamelCase names, 64-bit integers as strings)."""
        return self._native.to_json()

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON text."""
        return json.dumps(self.to_dict())

    @property
    def version(self) -> int:
        """The schema version the value was decoded from and encodes to (1 or 2)."""
        return self._native.version

    @property
    def media_type(self) -> str:
        """The OCI media type of the value's version, e.g. ``application/org.ommx.v1.instance``."""
        return self._native.media_type

    @property
    def type_name(self) -> str:
        """The protobuf message's full name, e.g. ``ommx.v1.Instance``."""
        return self._native.type_name

    def __eq__(self, other: object) -> bool:
        """Equal to a value of the same type, version and bytes."""
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Payload)
        return self.version == other.version and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        """Hash of the type, version and bytes."""
        return hash((type(self).__name__, self.version, self.to_bytes()))

    def __reduce__(self) -> Any:
        """Pickles as the bytes and version."""
        return (_rebuild, (type(self).__name__, self.to_bytes(), self.version))


def _rebuild(type_name: str, data: bytes, version: int) -> Any:
    """Unpickles a payload (see ``_Payload.__reduce__``)."""
    return {c.__name__: c for c in (Instance, ParametricInstance, Solution, SampleSet)}[type_name].from_bytes(
        data, version=version)


def _description(d: Mapping[str, Any]) -> Optional[InstanceDescription]:
    desc = InstanceDescription(**d)
    return None if desc == InstanceDescription() else desc


class Instance(_Payload):
    """An optimization problem (``ommx.v1.Instance``; ``ommx.v2`` read too)."""

    __slots__ = ()
    _core_class = _core.OmmxInstance
    MINIMIZE: ClassVar[Sense] = Sense.Minimize
    """``Sense.Minimize``, as ``ommx.v1.Instance.MINIMIZE``."""
    MAXIMIZE: ClassVar[Sense] = Sense.Maximize
    """``Sense.Maximize``, as ``ommx.v1.Instance.MAXIMIZE``."""

    @property
    def sense(self) -> Sense:
        """Minimize or Maximize."""
        return Sense._from_core(self._native.sense())

    @property
    def decision_variables(self) -> list[DecisionVariable]:
        """Every decision variable, by id."""
        return [DecisionVariable._from_core(d) for d in self._native.decision_variables()]

    @property
    def objective(self) -> Function:
        """The objective function."""
        return Function._from_core(self._native.objective())

    @property
    def constraints(self) -> dict[int, Constraint]:
        """The active constraints by id."""
        return {c.id: c for c in map(Constraint._from_core, self._native.constraints())}

    @property
    def removed_constraints(self) -> dict[int, Constraint]:
        """The constraints kept as removed, by id (each with its ``removed_reason``)."""
        return {c.id: c for c in map(Constraint._from_core, self._native.removed_constraints())}

    @property
    def description(self) -> Optional[InstanceDescription]:
        """The instance's provenance; None when it has none."""
        return _description(self._native.description())

    @classmethod
    def from_components(cls, *, sense: Sense, decision_variables: Sequence[DecisionVariable], objective: Function,
                        constraints: Sequence[Constraint] = (),
                        description: Optional[InstanceDescription] = None) -> "Instance":
        """Build a v1 instance (as ``ommx.v1.Instance.from_components``).

        Raises sealrun.InvalidInput for what the schema cannot hold (e.g. a
        variable id used twice).
        """
        return cls(cls._core_class.build(Sense(sense)._core_name(), [v._to_core() for v in decision_variables],
                                         objective._to_core(), [c._to_core() for c in constraints],
                                         None if description is None else dataclasses.asdict(description)))

    def __repr__(self) -> str:
        """E.g. ``<sealrun.Instance v1 Minimize, 5 variables, 7 constraints>``."""
        return (f"<sealrun.Instance v{self.version} {self.sense.name}, {len(self._native.decision_variables())} "
                f"variables, {len(self._native.constraints())} constraints>")


class ParametricInstance(_Payload):
    """An instance whose functions may name parameters (``ommx.v1.ParametricInstance``)."""

    __slots__ = ()
    _core_class = _core.OmmxParametricInstance

    @property
    def sense(self) -> Sense:
        """Minimize or Maximize."""
        return Sense._from_core(self._native.sense())

    @property
    def decision_variables(self) -> list[DecisionVariable]:
        """Every decision variable, by id."""
        return [DecisionVariable._from_core(d) for d in self._native.decision_variables()]

    @property
    def parameters(self) -> list[Parameter]:
        """Every parameter, by id."""
        return [Parameter(id=d["id"], **_labels(d)) for d in self._native.parameters()]

    @property
    def objective(self) -> Function:
        """The objective function."""
        return Function._from_core(self._native.objective())

    @property
    def constraints(self) -> dict[int, Constraint]:
        """The constraints by id."""
        return {c.id: c for c in map(Constraint._from_core, self._native.constraints())}

    @property
    def description(self) -> Optional[InstanceDescription]:
        """The instance's provenance; None when it has none."""
        return _description(self._native.description())

    def __repr__(self) -> str:
        """E.g. ``<sealrun.ParametricInstance v1 Minimize, 5 variables, 2 parameters>``."""
        return (f"<sealrun.ParametricInstance v{self.version} {self.sense.name}, "
                f"{len(self._native.decision_variables())} variables, {len(self._native.parameters())} parameters>")


class Solution(_Payload):
    """A solver's answer evaluated against its instance (``ommx.v1.Solution``)."""

    __slots__ = ()
    _core_class = _core.OmmxSolution

    @property
    def objective(self) -> float:
        """The objective's value."""
        return self._native.objective()

    @property
    def feasible(self) -> bool:
        """Whether every constraint holds."""
        return self._native.feasible()

    @property
    def feasible_relaxed(self) -> Optional[bool]:
        """Whether every constraint not removed holds; None when the payload does not say."""
        return self._native.feasible_relaxed()

    @property
    def optimality(self) -> Optimality:
        """What the solver proved: Optimal, NotOptimal or Unspecified."""
        return Optimality._from_core(self._native.optimality())

    @property
    def relaxation(self) -> Relaxation:
        """LpRelaxed for a solution of the LP relaxation, else Unspecified."""
        return Relaxation._from_core(self._native.relaxation())

    @property
    def sense(self) -> Sense:
        """The instance's sense, as the solution records it."""
        return Sense._from_core(self._native.sense())

    @property
    def state(self) -> State:
        """The decision variables' values."""
        return State(self._native.state())

    @property
    def decision_variables(self) -> list[DecisionVariable]:
        """The decision variables the solution records, by id."""
        return [DecisionVariable._from_core(d) for d in self._native.decision_variables()]

    @property
    def constraints(self) -> dict[int, EvaluatedConstraint]:
        """The evaluated constraints by id (``ommx.v1.Solution.constraints``)."""
        return {c.id: c for c in map(EvaluatedConstraint._from_core, self._native.evaluated_constraints())}

    @classmethod
    def from_components(cls, *, objective: float, state: Mapping[int, float], feasible: bool,
                        optimality: Optimality = Optimality.Unspecified, sense: Sense = Sense.Unspecified,
                        evaluated_constraints: Sequence[EvaluatedConstraint] = ()) -> "Solution":
        """Build a v1 solution from its parts."""
        return cls(cls._core_class.build(float(objective), bool(feasible), Optimality(optimality)._core_name(),
                                         Sense(sense)._core_name(), {int(k): float(v) for k, v in state.items()},
                                         [c._to_core() for c in evaluated_constraints]))

    def __repr__(self) -> str:
        """E.g. ``<sealrun.Solution v1 objective=1.5 feasible Optimal>``."""
        return (f"<sealrun.Solution v{self.version} objective={self.objective!r} "
                f"{'feasible' if self.feasible else 'infeasible'} {self.optimality.name}>")


class SampleSet(_Payload):
    """The samples a sampler returned, evaluated (``ommx.v1.SampleSet``)."""

    __slots__ = ()
    _core_class = _core.OmmxSampleSet

    @property
    def sense(self) -> Sense:
        """The instance's sense, as the set records it."""
        return Sense._from_core(self._native.sense())

    @property
    def objectives(self) -> dict[int, float]:
        """Sample id → objective value."""
        return self._native.objectives()

    @property
    def feasible(self) -> dict[int, bool]:
        """Sample id → whether every constraint holds."""
        return self._native.feasible()

    def sample_ids(self) -> set[int]:
        """Every sample id (a set, as ``ommx.v1.SampleSet.sample_ids()``)."""
        return set(self._native.sample_ids())

    @property
    def sample_ids_list(self) -> list[int]:
        """Every sample id, ascending."""
        return self._native.sample_ids()

    def num_samples(self) -> int:
        """How many samples the set holds."""
        return len(self._native.sample_ids())

    def get(self, sample_id: int) -> Sample:
        """The sample ``sample_id``; sealrun.NotFound when there is none."""
        return Sample._from_core(self._native.sample(sample_id))

    @property
    def best_feasible(self) -> Optional[Sample]:
        """The feasible sample with the best objective for the sense (lowest id among
        equals); None when no sample is feasible (``ommx.v1`` raises there)."""
        s = self._native.best_feasible()
        return None if s is None else Sample._from_core(s)

    @property
    def best_feasible_id(self) -> Optional[int]:
        """The id of :attr:`best_feasible`; None when no sample is feasible."""
        s = self._native.best_feasible()
        return None if s is None else s["id"]

    @property
    def decision_variables(self) -> list[DecisionVariable]:
        """The decision variables the set records, by id."""
        return [DecisionVariable._from_core(d) for d in self._native.decision_variables()]

    @classmethod
    def from_components(cls, *, samples: Sequence[Sample], sense: Sense = Sense.Unspecified) -> "SampleSet":
        """Build a v1 sample set. Raises sealrun.AlreadyExists for a sample id used twice."""
        return cls(cls._core_class.build(Sense(sense)._core_name(), [
            {"id": s.id, "objective": float(s.objective), "feasible": bool(s.feasible),
             "state": {int(k): float(v) for k, v in s.state.items()}} for s in samples]))

    def __repr__(self) -> str:
        """E.g. ``<sealrun.SampleSet v1 10 samples, 7 feasible>``."""
        feasible = sum(1 for f in self.feasible.values() if f)
        return f"<sealrun.SampleSet v{self.version} {self.num_samples()} samples, {feasible} feasible>"


_BY_CORE = {c._core_class: c for c in (Instance, ParametricInstance, Solution, SampleSet)}


def _ommx_class(name: str) -> Any:
    """The ``ommx`` package's class ``name`` when ``ommx`` is importable, else None.

    ``ommx.v1.<name>`` (OMMX 1 and 2), else the top-level ``ommx.<name>``
    (OMMX 3, whose ``ommx.v1`` raises ImportError). Imported on each call:
    a cheap lookup once loaded.
    """
    try:
        return getattr(importlib.import_module("ommx.v1"), name)
    except (ImportError, AttributeError):
        pass
    try:
        return getattr(importlib.import_module("ommx"), name)
    except (ImportError, AttributeError):
        return None


def _user_value(native: Any) -> Any:
    """A decoded native payload as the user gets it: an ``ommx`` object when
    the ``ommx`` package is importable and reads the payload's version, else
    sealrun's own object."""
    own = _BY_CORE[type(native)]
    cls = _ommx_class(own.__name__)
    if cls is not None:
        for method in (("from_bytes", "from_v1_bytes") if native.version == 1 else ("from_v2_bytes",)):
            make = getattr(cls, method, None)
            if callable(make):
                return make(native.encode())
    return own(native)
