// OMMX payloads: Instance and ParametricInstance over their v1 and v2
// messages (ommx_message.h), read alike through the accessors.
#include "codecs/ommx_message.h"
#include "sealrun/error.h"

namespace sealrun::ommx {

using detail::get;
namespace pb1 = detail::pb1;
namespace pb2 = detail::pb2;

namespace detail {

Version checked(Version version) {
    if (version != Version::v1 && version != Version::v2)
        throw Error(Errc::invalid_input, "decode", "OMMX payload", "unknown schema version " + std::to_string(static_cast<int>(version)));
    return version;
}

}  // namespace detail

namespace {

using detail::decoded;
using detail::from_json_as;

template <class M>
std::vector<DecisionVariable> v1_variables(const M& m) {
    std::vector<DecisionVariable> out;
    for (const auto& v : m.decision_variables()) out.push_back(detail::variable_of(v));
    detail::sort_by_id(out);
    return out;
}

template <class M>
std::vector<Constraint> v1_constraints(const M& m) {
    std::vector<Constraint> out;
    for (const auto& c : m.constraints()) out.push_back(detail::constraint_of(c));
    detail::sort_by_id(out);
    return out;
}

template <class M>
std::vector<Constraint> v1_removed(const M& m) {
    std::vector<Constraint> out;
    for (const auto& r : m.removed_constraints()) {
        auto c = detail::constraint_of(r.constraint());
        c.removed_reason = r.removed_reason();
        out.push_back(std::move(c));
    }
    detail::sort_by_id(out);
    return out;
}

}  // namespace

// ---- Instance ----

Instance::Instance() : Payload(detail::make<pb1::Instance>(), Version::v1) {}

Instance Instance::decode(std::string_view bytes, Version version) {
    return Instance(decoded<pb1::Instance, pb2::Instance>(bytes, version), version);
}

Instance Instance::from_json(const nlohmann::json& json, Version version) {
    return Instance(from_json_as<pb1::Instance, pb2::Instance>(json, version), version);
}

Sense Instance::sense() const {
    return detail::sense_of(version_ == Version::v1 ? get<pb1::Instance>(*message_).sense() : get<pb2::Instance>(*message_).sense());
}

std::vector<DecisionVariable> Instance::decision_variables() const {
    if (version_ == Version::v1) return v1_variables(get<pb1::Instance>(*message_));
    return detail::variables_of(get<pb2::Instance>(*message_).decision_variables());
}

Function Instance::objective() const {
    return detail::function_of(version_ == Version::v1 ? get<pb1::Instance>(*message_).objective()
                                                       : get<pb2::Instance>(*message_).objective());
}

std::vector<Constraint> Instance::constraints() const {
    if (version_ == Version::v1) return v1_constraints(get<pb1::Instance>(*message_));
    return detail::active_of(get<pb2::Instance>(*message_).regular_constraints());
}

std::vector<Constraint> Instance::removed_constraints() const {
    if (version_ == Version::v1) return v1_removed(get<pb1::Instance>(*message_));
    return detail::removed_of(get<pb2::Instance>(*message_).regular_constraints());
}

Description Instance::description() const {
    return detail::description_of(version_ == Version::v1 ? get<pb1::Instance>(*message_).description()
                                                          : get<pb2::Instance>(*message_).description());
}

std::map<std::uint64_t, double> Instance::parameters() const {
    const auto& p = version_ == Version::v1 ? get<pb1::Instance>(*message_).parameters() : get<pb2::Instance>(*message_).parameters();
    return {p.entries().begin(), p.entries().end()};
}

std::map<std::string, std::string> Instance::annotations() const {
    const auto& a = version_ == Version::v1 ? get<pb1::Instance>(*message_).annotations() : get<pb2::Instance>(*message_).annotations();
    return {a.begin(), a.end()};
}

void Instance::set_sense(Sense sense) {
    detail::require_v1(version_, "ommx.v1.Instance");
    get<pb1::Instance>(mutable_message()).set_sense(static_cast<pb1::Instance::Sense>(sense));
}

void Instance::add_decision_variable(const DecisionVariable& variable) {
    detail::require_v1(version_, "ommx.v1.Instance");
    detail::set_variable(variable, *get<pb1::Instance>(mutable_message()).add_decision_variables());
}

void Instance::set_objective(const Function& objective) {
    detail::require_v1(version_, "ommx.v1.Instance");
    detail::set_function(objective, *get<pb1::Instance>(mutable_message()).mutable_objective());
}

void Instance::add_constraint(const Constraint& constraint) {
    detail::require_v1(version_, "ommx.v1.Instance");
    auto& m = get<pb1::Instance>(mutable_message());
    if (constraint.removed_reason) {
        auto* r = m.add_removed_constraints();
        detail::set_constraint(constraint, *r->mutable_constraint());
        r->set_removed_reason(*constraint.removed_reason);
    } else {
        detail::set_constraint(constraint, *m.add_constraints());
    }
}

void Instance::set_description(const Description& description) {
    detail::require_v1(version_, "ommx.v1.Instance");
    detail::set_description(description, *get<pb1::Instance>(mutable_message()).mutable_description());
}

// ---- ParametricInstance ----

ParametricInstance::ParametricInstance() : Payload(detail::make<pb1::ParametricInstance>(), Version::v1) {}

ParametricInstance ParametricInstance::decode(std::string_view bytes, Version version) {
    return ParametricInstance(decoded<pb1::ParametricInstance, pb2::ParametricInstance>(bytes, version), version);
}

ParametricInstance ParametricInstance::from_json(const nlohmann::json& json, Version version) {
    return ParametricInstance(from_json_as<pb1::ParametricInstance, pb2::ParametricInstance>(json, version), version);
}

Sense ParametricInstance::sense() const {
    return detail::sense_of(version_ == Version::v1 ? get<pb1::ParametricInstance>(*message_).sense()
                                                    : get<pb2::ParametricInstance>(*message_).sense());
}

std::vector<DecisionVariable> ParametricInstance::decision_variables() const {
    if (version_ == Version::v1) return v1_variables(get<pb1::ParametricInstance>(*message_));
    return detail::variables_of(get<pb2::ParametricInstance>(*message_).decision_variables());
}

std::vector<Parameter> ParametricInstance::parameters() const {
    std::vector<Parameter> out;
    if (version_ == Version::v1) {
        for (const auto& p : get<pb1::ParametricInstance>(*message_).parameters()) {
            Parameter v;
            static_cast<Labels&>(v) = detail::labels_of(p);
            v.id = p.id();
            out.push_back(std::move(v));
        }
    } else {
        const auto& table = get<pb2::ParametricInstance>(*message_).parameters();
        for (auto id : table.ids()) {
            Parameter v;
            if (auto l = table.labels().find(id); l != table.labels().end()) static_cast<Labels&>(v) = detail::labels_of(l->second);
            v.id = id;
            out.push_back(std::move(v));
        }
    }
    detail::sort_by_id(out);
    return out;
}

Function ParametricInstance::objective() const {
    return detail::function_of(version_ == Version::v1 ? get<pb1::ParametricInstance>(*message_).objective()
                                                       : get<pb2::ParametricInstance>(*message_).objective());
}

std::vector<Constraint> ParametricInstance::constraints() const {
    if (version_ == Version::v1) return v1_constraints(get<pb1::ParametricInstance>(*message_));
    return detail::active_of(get<pb2::ParametricInstance>(*message_).regular_constraints());
}

std::vector<Constraint> ParametricInstance::removed_constraints() const {
    if (version_ == Version::v1) return v1_removed(get<pb1::ParametricInstance>(*message_));
    return detail::removed_of(get<pb2::ParametricInstance>(*message_).regular_constraints());
}

Description ParametricInstance::description() const {
    return detail::description_of(version_ == Version::v1 ? get<pb1::ParametricInstance>(*message_).description()
                                                          : get<pb2::ParametricInstance>(*message_).description());
}

}  // namespace sealrun::ommx
