// OMMX payloads: Solution and SampleSet over their v1 and v2 messages
// (ommx_message.h), read alike through the accessors.
#include <cmath>

#include "codecs/ommx_message.h"
#include "sealrun/error.h"

namespace sealrun::ommx {

namespace pb1 = detail::pb1;
namespace pb2 = detail::pb2;
using detail::get;

namespace {

// values_of expands SampledValues (one value, many sample ids per entry)
// into a value per sample id; an id listed twice keeps its first value.
std::map<std::uint64_t, double> values_of(const pb1::SampledValues& values) {
    std::map<std::uint64_t, double> out;
    for (const auto& e : values.entries())
        for (auto id : e.ids()) out.emplace(id, e.value());
    return out;
}

// value_in returns the value `values` gives sample `id`, if any.
std::optional<double> value_in(const pb1::SampledValues& values, std::uint64_t id) {
    for (const auto& e : values.entries())
        for (auto i : e.ids())
            if (i == id) return e.value();
    return std::nullopt;
}

// feasible_v1 is OMMX's own rule for an evaluated constraint (its
// EvaluatedConstraint::is_feasible_with_tolerance, default tolerance).
bool feasible_v1(Equality equality, double value) noexcept {
    switch (equality) {
        case Equality::equal_to_zero: return std::fabs(value) < default_atol;
        case Equality::less_than_or_equal_to_zero: return value < default_atol;
        default: return false;
    }
}

}  // namespace

// ---- Solution ----

Solution::Solution() : Payload(detail::make<pb1::Solution>(), Version::v1) {}

Solution Solution::decode(std::string_view bytes, Version version) {
    return Solution(detail::decoded<pb1::Solution, pb2::Solution>(bytes, version), version);
}

Solution Solution::from_json(const nlohmann::json& json, Version version) {
    return Solution(detail::from_json_as<pb1::Solution, pb2::Solution>(json, version), version);
}

double Solution::objective() const {
    return version_ == Version::v1 ? get<pb1::Solution>(*message_).objective() : get<pb2::Solution>(*message_).objective();
}

bool Solution::feasible() const {
    return version_ == Version::v1 ? get<pb1::Solution>(*message_).feasible() : get<pb2::Solution>(*message_).feasible();
}

std::optional<bool> Solution::feasible_relaxed() const {
    if (version_ == Version::v1) {
        const auto& m = get<pb1::Solution>(*message_);
        return m.has_feasible_relaxed() ? std::optional<bool>(m.feasible_relaxed()) : std::nullopt;
    }
    const auto& m = get<pb2::Solution>(*message_);
    return m.has_feasible_relaxed() ? std::optional<bool>(m.feasible_relaxed()) : std::nullopt;
}

Optimality Solution::optimality() const {
    return detail::optimality_of(version_ == Version::v1 ? get<pb1::Solution>(*message_).optimality()
                                                         : get<pb2::Solution>(*message_).optimality());
}

Relaxation Solution::relaxation() const {
    return detail::relaxation_of(version_ == Version::v1 ? get<pb1::Solution>(*message_).relaxation()
                                                         : get<pb2::Solution>(*message_).relaxation());
}

Sense Solution::sense() const {
    return detail::sense_of(version_ == Version::v1 ? get<pb1::Solution>(*message_).sense() : get<pb2::Solution>(*message_).sense());
}

State Solution::state() const {
    if (version_ == Version::v1) {
        const auto& e = get<pb1::Solution>(*message_).state().entries();
        return {e.begin(), e.end()};
    }
    State out;
    for (const auto& [id, v] : get<pb2::Solution>(*message_).decision_variables().entries()) out.emplace(id, v.value());
    return out;
}

std::vector<DecisionVariable> Solution::decision_variables() const {
    if (version_ == Version::v2) return detail::variables_of(get<pb2::Solution>(*message_).decision_variables());
    std::vector<DecisionVariable> out;
    for (const auto& v : get<pb1::Solution>(*message_).decision_variables()) out.push_back(detail::variable_of(v));
    detail::sort_by_id(out);
    return out;
}

std::vector<EvaluatedConstraint> Solution::evaluated_constraints() const {
    std::vector<EvaluatedConstraint> out;
    if (version_ == Version::v1) {
        for (const auto& c : get<pb1::Solution>(*message_).evaluated_constraints()) {
            EvaluatedConstraint v;
            static_cast<Labels&>(v) = detail::labels_of(c);
            v.id = c.id();
            v.equality = detail::equality_of(c.equality());
            v.evaluated_value = c.evaluated_value();
            if (c.has_dual_variable()) v.dual_variable = c.dual_variable();
            if (c.has_removed_reason()) v.removed_reason = c.removed_reason();
            v.feasible = feasible_v1(v.equality, v.evaluated_value);
            out.push_back(std::move(v));
        }
    } else {
        const auto& collection = get<pb2::Solution>(*message_).evaluated_regular_constraints();
        for (const auto& [id, c] : collection.entries()) {
            EvaluatedConstraint v;
            if (auto ctx = collection.contexts().find(id); ctx != collection.contexts().end() && ctx->second.has_label())
                static_cast<Labels&>(v) = detail::labels_of(ctx->second.label());
            v.id = id;
            v.equality = detail::equality_of(c.equality());
            v.evaluated_value = c.evaluated_value();
            if (c.has_dual_variable()) v.dual_variable = c.dual_variable();
            if (auto r = collection.removed_reasons().find(id); r != collection.removed_reasons().end()) v.removed_reason = r->second.reason();
            v.feasible = c.feasible();
            out.push_back(std::move(v));
        }
    }
    detail::sort_by_id(out);
    return out;
}

void Solution::set_objective(double objective) {
    detail::require_v1(version_, "ommx.v1.Solution");
    get<pb1::Solution>(mutable_message()).set_objective(objective);
}

void Solution::set_feasible(bool feasible) {
    detail::require_v1(version_, "ommx.v1.Solution");
    get<pb1::Solution>(mutable_message()).set_feasible(feasible);
}

void Solution::set_optimality(Optimality optimality) {
    detail::require_v1(version_, "ommx.v1.Solution");
    get<pb1::Solution>(mutable_message()).set_optimality(static_cast<pb1::Optimality>(optimality));
}

void Solution::set_sense(Sense sense) {
    detail::require_v1(version_, "ommx.v1.Solution");
    get<pb1::Solution>(mutable_message()).set_sense(static_cast<pb1::Instance::Sense>(sense));
}

void Solution::set_state(const State& state) {
    detail::require_v1(version_, "ommx.v1.Solution");
    auto* entries = get<pb1::Solution>(mutable_message()).mutable_state()->mutable_entries();
    entries->clear();
    for (const auto& [id, v] : state) (*entries)[id] = v;
}

void Solution::add_evaluated_constraint(const EvaluatedConstraint& constraint) {
    detail::require_v1(version_, "ommx.v1.Solution");
    auto* c = get<pb1::Solution>(mutable_message()).add_evaluated_constraints();
    c->set_id(constraint.id);
    c->set_equality(static_cast<pb1::Equality>(constraint.equality));
    c->set_evaluated_value(constraint.evaluated_value);
    if (constraint.dual_variable) c->set_dual_variable(*constraint.dual_variable);
    if (constraint.removed_reason) c->set_removed_reason(*constraint.removed_reason);
    detail::set_labels(constraint, *c);
}

// ---- SampleSet ----

SampleSet::SampleSet() : Payload(detail::make<pb1::SampleSet>(), Version::v1) {}

SampleSet SampleSet::decode(std::string_view bytes, Version version) {
    return SampleSet(detail::decoded<pb1::SampleSet, pb2::SampleSet>(bytes, version), version);
}

SampleSet SampleSet::from_json(const nlohmann::json& json, Version version) {
    return SampleSet(detail::from_json_as<pb1::SampleSet, pb2::SampleSet>(json, version), version);
}

Sense SampleSet::sense() const {
    return detail::sense_of(version_ == Version::v1 ? get<pb1::SampleSet>(*message_).sense() : get<pb2::SampleSet>(*message_).sense());
}

std::map<std::uint64_t, double> SampleSet::objectives() const {
    return values_of(version_ == Version::v1 ? get<pb1::SampleSet>(*message_).objectives() : get<pb2::SampleSet>(*message_).objectives());
}

std::vector<std::uint64_t> SampleSet::sample_ids() const {
    std::vector<std::uint64_t> out;
    for (const auto& [id, value] : objectives()) out.push_back(id);
    return out;
}

std::map<std::uint64_t, bool> SampleSet::feasible() const {
    const auto& f = version_ == Version::v1 ? get<pb1::SampleSet>(*message_).feasible() : get<pb2::SampleSet>(*message_).feasible();
    return {f.begin(), f.end()};
}

Sample SampleSet::sample(std::uint64_t id) const {
    const auto objectives = this->objectives();
    const auto it = objectives.find(id);
    if (it == objectives.end()) throw Error(Errc::not_found, "read sample", std::to_string(id), "the sample set has no such sample");
    Sample out{.id = id, .objective = it->second};
    const auto feasible = this->feasible();
    if (auto f = feasible.find(id); f != feasible.end()) out.feasible = f->second;
    if (version_ == Version::v1) {
        for (const auto& v : get<pb1::SampleSet>(*message_).decision_variables())
            if (auto value = value_in(v.samples(), id)) out.state.emplace(v.decision_variable().id(), *value);
    } else {
        for (const auto& [var, entry] : get<pb2::SampleSet>(*message_).decision_variables().entries())
            if (auto value = value_in(entry.samples(), id)) out.state.emplace(var, *value);
    }
    return out;
}

std::optional<Sample> SampleSet::best_feasible() const {
    const bool maximize = sense() == Sense::maximize;
    const auto feasible = this->feasible();
    std::optional<std::pair<std::uint64_t, double>> best;
    for (const auto& [id, objective] : objectives()) {
        const auto f = feasible.find(id);
        if (f == feasible.end() || !f->second || std::isnan(objective)) continue;
        // Ids ascend, so a tie keeps the lower one.
        if (!best || (maximize ? objective > best->second : objective < best->second)) best = {id, objective};
    }
    if (!best) return std::nullopt;
    return sample(best->first);
}

std::vector<DecisionVariable> SampleSet::decision_variables() const {
    if (version_ == Version::v2) return detail::variables_of(get<pb2::SampleSet>(*message_).decision_variables());
    std::vector<DecisionVariable> out;
    for (const auto& v : get<pb1::SampleSet>(*message_).decision_variables()) out.push_back(detail::variable_of(v.decision_variable()));
    detail::sort_by_id(out);
    return out;
}

void SampleSet::add_sample(const Sample& sample) {
    detail::require_v1(version_, "ommx.v1.SampleSet");
    if (objectives().contains(sample.id))
        throw Error(Errc::already_exists, "add sample", std::to_string(sample.id), "the sample set has a sample of this id");
    auto& m = get<pb1::SampleSet>(mutable_message());
    auto* objective = m.mutable_objectives()->add_entries();
    objective->set_value(sample.objective);
    objective->add_ids(sample.id);
    (*m.mutable_feasible())[sample.id] = sample.feasible;
    for (const auto& [var, value] : sample.state) {
        pb1::SampledDecisionVariable* sampled = nullptr;
        for (auto& v : *m.mutable_decision_variables())
            if (v.decision_variable().id() == var) sampled = &v;
        if (!sampled) {
            sampled = m.add_decision_variables();
            sampled->mutable_decision_variable()->set_id(var);
        }
        auto* e = sampled->mutable_samples()->add_entries();
        e->set_value(value);
        e->add_ids(sample.id);
    }
}

void SampleSet::set_sense(Sense sense) {
    detail::require_v1(version_, "ommx.v1.SampleSet");
    get<pb1::SampleSet>(mutable_message()).set_sense(static_cast<pb1::Instance::Sense>(sense));
}

}  // namespace sealrun::ommx
