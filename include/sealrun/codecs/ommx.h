#pragma once
/// OMMX payloads: the optimization types OMMX stores as Protocol Buffers
/// messages (`ommx.v1.Instance`, `ParametricInstance`, `Solution`,
/// `SampleSet`, and OMMX 3's `ommx.v2` forms of them), as typed values with
/// the accessors an analyst needs, and one codec per media type.
///
/// A value holds the decoded message itself (the schema is the project's
/// own, proto/ommx/, wire-compatible with OMMX's), so encode() gives back
/// every field, unknown fields a newer OMMX added included; the accessors
/// read the v1 and the v2 forms alike. The headers never name protobuf: the
/// generated classes stay inside the library.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sealrun::ommx {

/// The media types OMMX gives its payload layers.
namespace media_types {
inline constexpr std::string_view instance = "application/org.ommx.v1.instance";
inline constexpr std::string_view parametric_instance = "application/org.ommx.v1.parametric-instance";
inline constexpr std::string_view solution = "application/org.ommx.v1.solution";
inline constexpr std::string_view sample_set = "application/org.ommx.v1.sample-set";
inline constexpr std::string_view instance_v2 = "application/org.ommx.v2.instance";
inline constexpr std::string_view parametric_instance_v2 = "application/org.ommx.v2.parametric-instance";
inline constexpr std::string_view solution_v2 = "application/org.ommx.v2.solution";
inline constexpr std::string_view sample_set_v2 = "application/org.ommx.v2.sample-set";
}  // namespace media_types

/// Sense is an objective's direction.
enum class Sense { unspecified, minimize, maximize };
/// Kind is a decision variable's kind.
enum class Kind { unspecified, binary, integer, continuous, semi_integer, semi_continuous };
/// Equality says how a constraint's function compares with zero.
enum class Equality { unspecified, equal_to_zero, less_than_or_equal_to_zero };
/// Optimality is what the solver proved about a solution.
enum class Optimality { unspecified, optimal, not_optimal };
/// Relaxation says whether a solution is of the LP relaxation.
enum class Relaxation { unspecified, lp_relaxed };

/// to_string names an enumerator as OMMX's schema does, without the prefix
/// ("minimize", "binary", "equal_to_zero", "optimal", "lp_relaxed",
/// "unspecified").
std::string_view to_string(Sense value) noexcept;
std::string_view to_string(Kind value) noexcept;
std::string_view to_string(Equality value) noexcept;
std::string_view to_string(Optimality value) noexcept;
std::string_view to_string(Relaxation value) noexcept;

/// Bound is a decision variable's range.
struct Bound {
    double lower = 0;
    double upper = 0;
};

/// Term is one monomial of a function: the product of the variables `ids`
/// (a variable appears once per power; empty for the constant term) times
/// `coefficient`.
struct Term {
    std::vector<std::uint64_t> ids;
    double coefficient = 0;
};

/// Function is an objective or a constraint's left-hand side as its terms.
struct Function {
    /// Form is how the function is stored: none set (the zero function), a
    /// constant, linear, quadratic or polynomial.
    enum class Form { zero, constant, linear, quadratic, polynomial };
    Form form = Form::zero;
    /// terms are the monomials as stored (the constant term last, when it
    /// is not zero).
    std::vector<Term> terms;
    /// constant returns the coefficient of the constant term (0 when none).
    double constant() const noexcept;
    /// degree returns the largest number of ids in a term (0 for a constant).
    std::size_t degree() const noexcept;
    /// coefficient returns the coefficient of the monomial `ids` (order of
    /// ids does not matter), 0 when there is none.
    double coefficient(std::vector<std::uint64_t> ids) const;
};

/// Labels are the modelling names OMMX keeps beside a variable, constraint
/// or parameter.
struct Labels {
    std::optional<std::string> name;
    std::vector<std::int64_t> subscripts;
    std::map<std::string, std::string> parameters;
    std::optional<std::string> description;
};

/// DecisionVariable is one variable of an instance.
struct DecisionVariable : Labels {
    std::uint64_t id = 0;
    Kind kind = Kind::unspecified;
    std::optional<Bound> bound;
    /// substituted_value is the value the variable was fixed to, if any.
    std::optional<double> substituted_value;
};

/// Constraint is one constraint: function (==|<=) 0.
struct Constraint : Labels {
    std::uint64_t id = 0;
    Equality equality = Equality::unspecified;
    Function function;
    /// removed_reason is set for a constraint the instance keeps as removed
    /// (Instance::removed_constraints).
    std::optional<std::string> removed_reason;
};

/// Description is an instance's free-form provenance.
struct Description {
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::vector<std::string> authors;
    std::optional<std::string> created_by;
    std::optional<std::string> created;
    std::optional<std::string> license;
    std::optional<std::string> dataset;
};

/// Parameter is one parameter of a parametric instance.
struct Parameter : Labels {
    std::uint64_t id = 0;
};

/// default_atol is the absolute tolerance OMMX judges feasibility with
/// unless told otherwise (OMMX's ATol default; its OMMX_DEFAULT_ATOL
/// environment variable changes OMMX's, not sealrun's).
inline constexpr double default_atol = 1e-6;

/// EvaluatedConstraint is a constraint evaluated at a solution.
struct EvaluatedConstraint : Labels {
    std::uint64_t id = 0;
    Equality equality = Equality::unspecified;
    double evaluated_value = 0;
    std::optional<double> dual_variable;
    /// feasible is what the payload says (v2 stores it). v1 stores none,
    /// so it is derived as OMMX derives it (rust/ommx/src/constraint.rs,
    /// is_feasible_with_tolerance): equal_to_zero is feasible when
    /// |evaluated_value| < default_atol, less_than_or_equal_to_zero when
    /// evaluated_value < default_atol (both strict), unspecified never.
    bool feasible = false;
    std::optional<std::string> removed_reason;
};

/// State maps decision variable ids to values.
using State = std::map<std::uint64_t, double>;

/// Version is the schema version a value was decoded from (and encodes to).
enum class Version { v1 = 1, v2 = 2 };

namespace detail {
struct Message;  // the decoded protobuf message; defined in the library
}

/// Payload is what the four value types share: the message, its bytes and
/// its JSON. Copies share the message; a setter copies it first. A value
/// may be read from several threads at once; a value being changed must
/// not be read or changed from another thread (copies are independent).
class Payload {
public:
    /// version returns the schema version.
    Version version() const noexcept { return version_; }
    /// media_type returns the media type of version() for this payload type.
    std::string_view media_type() const noexcept;
    /// encode returns the wire bytes, deterministic: known fields in field
    /// number order, map entries in key order, then the unknown fields the
    /// decoded bytes held, as they were. Bytes written in that order (as
    /// OMMX writes them) come back byte for byte. Throws Error(too_large)
    /// past protobuf's 2 GiB.
    std::string encode() const;
    /// to_json renders the message through protobuf's canonical JSON
    /// mapping: field names in lowerCamelCase (the mapping's default; not
    /// the .proto's snake_case names, which from_json reads too), 64-bit
    /// integers and map keys as strings, enums by name, non-finite numbers
    /// as "Infinity"/"-Infinity"/"NaN", default values left out. Unknown
    /// fields are not rendered. Throws Error(invalid_input) when protobuf
    /// cannot render the message.
    nlohmann::json to_json() const;
    /// type_name returns the message's full name, e.g. "ommx.v1.Instance".
    std::string type_name() const;

protected:
    Payload(std::shared_ptr<detail::Message> message, Version version) : message_(std::move(message)), version_(version) {}
    /// mutable_message copies the message when it is shared (copy on write).
    detail::Message& mutable_message();
    std::shared_ptr<detail::Message> message_;
    Version version_;
};

/// check_version throws Error(invalid_input) when `value` is not of
/// `version`, naming `media_type` (OmmxCodec::encode).
void check_version(const Payload& value, Version version, std::string_view media_type);

/// Instance is an optimization problem (ommx.v1.Instance / ommx.v2.Instance).
class Instance : public Payload {
public:
    /// The media types of the v1 and v2 forms (OmmxCodec).
    static constexpr std::string_view media_type_v1 = media_types::instance;
    static constexpr std::string_view media_type_v2 = media_types::instance_v2;
    /// Instance is an empty v1 instance (no variables, zero objective).
    Instance();
    /// decode parses `bytes` as the message of `version`; throws
    /// Error(invalid_input) "not an ommx.v1.Instance: at byte N: …" for
    /// bytes that are not one (a truncated tag or value, a length past the
    /// end, a wire type that does not exist or that the schema does not
    /// give the field, nesting deeper than 100 (protobuf's default limit),
    /// a string that is not UTF-8), Error(too_large) past 2 GiB. Fields the
    /// schema does not know are kept (encode writes them back).
    static Instance decode(std::string_view bytes, Version version = Version::v1);
    /// from_json parses protobuf's JSON mapping (to_json's output) of an
    /// instance of `version`; throws Error(invalid_input) naming the field.
    static Instance from_json(const nlohmann::json& json, Version version = Version::v1);

    /// The accessors read v1 and v2 alike and copy what they return. An
    /// enum number the public enum lacks reads as unspecified.
    /// sense returns whether the objective is minimized or maximized.
    Sense sense() const;
    /// decision_variables returns the variables, by id (v2: the table's
    /// entries with their labels; a fixed value is substituted_value).
    std::vector<DecisionVariable> decision_variables() const;
    /// objective returns the objective as terms; throws Error(invalid_input)
    /// for a quadratic whose rows, columns and values differ in length.
    Function objective() const;
    /// constraints returns the active (regular) constraints, by id; throws
    /// as objective() does. (v2's indicator, one-hot and SOS1 constraints
    /// are kept and rendered in JSON, not returned here.)
    std::vector<Constraint> constraints() const;
    /// removed_constraints returns the constraints kept as removed.
    std::vector<Constraint> removed_constraints() const;
    /// description returns the provenance (empty fields when none).
    Description description() const;
    /// parameters returns the parameter values a parametric instance was
    /// given (empty when none).
    std::map<std::uint64_t, double> parameters() const;
    /// annotations returns the instance's own annotations (in the message,
    /// not the OCI layer's).
    std::map<std::string, std::string> annotations() const;

    /// Setters build a v1 instance; on a v2 value they throw
    /// Error(unsupported) (sealrun does not convert between versions).
    /// set_sense sets the sense.
    void set_sense(Sense sense);
    /// add_decision_variable appends a variable (ids are not checked).
    void add_decision_variable(const DecisionVariable& variable);
    /// set_objective stores `objective` in its form, widened to what its
    /// terms need (a term of two ids makes it quadratic, of three or more
    /// polynomial; Form::zero with terms becomes the narrowest that holds
    /// them).
    void set_objective(const Function& objective);
    /// add_constraint appends a constraint (its function stored as
    /// set_objective stores one); one with a removed_reason is appended to
    /// the removed constraints.
    void add_constraint(const Constraint& constraint);
    /// set_description replaces the description.
    void set_description(const Description& description);

private:
    using Payload::Payload;
};

/// ParametricInstance is an instance whose functions may name parameters.
class ParametricInstance : public Payload {
public:
    static constexpr std::string_view media_type_v1 = media_types::parametric_instance;
    static constexpr std::string_view media_type_v2 = media_types::parametric_instance_v2;
    /// ParametricInstance is an empty v1 parametric instance.
    ParametricInstance();
    /// decode parses `bytes` as Instance::decode does.
    static ParametricInstance decode(std::string_view bytes, Version version = Version::v1);
    /// from_json parses protobuf's JSON mapping of a ParametricInstance of `version`;
    /// throws Error(invalid_input).
    static ParametricInstance from_json(const nlohmann::json& json, Version version = Version::v1);

    /// sense, decision_variables, objective, constraints and description
    /// read as Instance's do.
    Sense sense() const;
    std::vector<DecisionVariable> decision_variables() const;
    /// parameters returns the parameters with their labels, by id.
    std::vector<Parameter> parameters() const;
    Function objective() const;
    std::vector<Constraint> constraints() const;
    /// removed_constraints returns the constraints kept as removed.
    std::vector<Constraint> removed_constraints() const;
    Description description() const;

private:
    using Payload::Payload;
};

/// Solution is a solver's answer evaluated against its instance.
class Solution : public Payload {
public:
    static constexpr std::string_view media_type_v1 = media_types::solution;
    static constexpr std::string_view media_type_v2 = media_types::solution_v2;
    /// Solution is an empty v1 solution.
    Solution();
    /// decode parses `bytes` as Instance::decode does.
    static Solution decode(std::string_view bytes, Version version = Version::v1);
    /// from_json parses protobuf's JSON mapping of a Solution of `version`;
    /// throws Error(invalid_input).
    static Solution from_json(const nlohmann::json& json, Version version = Version::v1);

    /// objective returns the objective's value at the solution.
    double objective() const;
    /// feasible returns whether every constraint holds (as stored).
    bool feasible() const;
    /// feasible_relaxed returns feasibility ignoring removed constraints,
    /// when the payload says.
    std::optional<bool> feasible_relaxed() const;
    /// optimality returns what the solver proved.
    Optimality optimality() const;
    /// relaxation returns whether this solves a relaxation.
    Relaxation relaxation() const;
    /// sense returns the instance's sense, as the solution records it.
    Sense sense() const;
    /// state returns the variables' values (v2: the evaluated variables').
    State state() const;
    /// decision_variables returns the variables, by id.
    std::vector<DecisionVariable> decision_variables() const;
    /// evaluated_constraints returns the constraints' values, by id (see
    /// EvaluatedConstraint::feasible).
    std::vector<EvaluatedConstraint> evaluated_constraints() const;

    /// Setters build a v1 solution (Error(unsupported) on a v2 value):
    /// set_objective, set_feasible, set_optimality and set_sense set one
    /// field, set_state replaces the state, add_evaluated_constraint
    /// appends one (its `feasible` is not stored: v1 has no such field).
    void set_objective(double objective);
    void set_feasible(bool feasible);
    void set_optimality(Optimality optimality);
    void set_sense(Sense sense);
    void set_state(const State& state);
    void add_evaluated_constraint(const EvaluatedConstraint& constraint);

private:
    using Payload::Payload;
};

/// Sample is one sample of a SampleSet.
struct Sample {
    std::uint64_t id = 0;
    double objective = 0;
    /// feasible is the set's feasibility for the sample (false when the
    /// set does not say).
    bool feasible = false;
    /// state holds the value of each variable the set sampled for it.
    State state;
};

/// SampleSet is the samples a sampler returned, evaluated.
class SampleSet : public Payload {
public:
    static constexpr std::string_view media_type_v1 = media_types::sample_set;
    static constexpr std::string_view media_type_v2 = media_types::sample_set_v2;
    /// SampleSet is an empty v1 sample set.
    SampleSet();
    /// decode parses `bytes` as Instance::decode does.
    static SampleSet decode(std::string_view bytes, Version version = Version::v1);
    /// from_json parses protobuf's JSON mapping of a SampleSet of `version`;
    /// throws Error(invalid_input).
    static SampleSet from_json(const nlohmann::json& json, Version version = Version::v1);

    /// sense returns the instance's sense, as the set records it.
    Sense sense() const;
    /// sample_ids returns every sample id (those the objectives list),
    /// ascending.
    std::vector<std::uint64_t> sample_ids() const;
    /// objectives maps sample ids to objective values (an id listed twice
    /// keeps its first value).
    std::map<std::uint64_t, double> objectives() const;
    /// feasible maps sample ids to feasibility.
    std::map<std::uint64_t, bool> feasible() const;
    /// sample returns one sample; throws Error(not_found).
    Sample sample(std::uint64_t id) const;
    /// best_feasible returns the feasible sample with the best objective
    /// for the sense (largest for maximize, else smallest; lowest id among
    /// equals; a NaN objective is never best), or nullopt when none is
    /// feasible.
    std::optional<Sample> best_feasible() const;
    /// decision_variables returns the sampled variables, by id.
    std::vector<DecisionVariable> decision_variables() const;

    /// add_sample adds a sample to a v1 set (Error(unsupported) on v2;
    /// Error(already_exists) for a used id).
    void add_sample(const Sample& sample);
    /// set_sense sets the sense of a v1 set (Error(unsupported) on v2).
    void set_sense(Sense sense);

private:
    using Payload::Payload;
};

}  // namespace sealrun::ommx

namespace sealrun::codecs {

/// OmmxCodec is the codec of OMMX payload type T (ommx::Instance,
/// ParametricInstance, Solution, SampleSet) in schema version V. The v1 and
/// v2 codecs of a type decode into the same value type; encode refuses a
/// value of the other version (Error(invalid_input)) rather than convert it.
template <class T, ommx::Version V>
struct OmmxCodec {
    static constexpr std::string_view media_type = V == ommx::Version::v1 ? T::media_type_v1 : T::media_type_v2;
    using value_type = T;
    static std::string encode(const T& value) {
        ommx::check_version(value, V, media_type);
        return value.encode();
    }
    static T decode(std::string_view bytes) { return T::decode(bytes, V); }
};

/// The eight OMMX codecs, registered in CodecRegistry::global().
using OmmxInstanceCodec = OmmxCodec<ommx::Instance, ommx::Version::v1>;
using OmmxParametricInstanceCodec = OmmxCodec<ommx::ParametricInstance, ommx::Version::v1>;
using OmmxSolutionCodec = OmmxCodec<ommx::Solution, ommx::Version::v1>;
using OmmxSampleSetCodec = OmmxCodec<ommx::SampleSet, ommx::Version::v1>;
using OmmxInstanceV2Codec = OmmxCodec<ommx::Instance, ommx::Version::v2>;
using OmmxParametricInstanceV2Codec = OmmxCodec<ommx::ParametricInstance, ommx::Version::v2>;
using OmmxSolutionV2Codec = OmmxCodec<ommx::Solution, ommx::Version::v2>;
using OmmxSampleSetV2Codec = OmmxCodec<ommx::SampleSet, ommx::Version::v2>;

}  // namespace sealrun::codecs
