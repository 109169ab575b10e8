// OMMX payloads: functions as terms, and the labelled entities (variables,
// constraints, descriptions) between the generated messages and the plain
// structs of codecs/ommx.h, for v1's inline form and v2's tables.
#include <algorithm>

#include "codecs/ommx_message.h"
#include "sealrun/error.h"

namespace sealrun::ommx {

double Function::constant() const noexcept {
    double sum = 0;
    for (const auto& t : terms)
        if (t.ids.empty()) sum += t.coefficient;
    return sum;
}

std::size_t Function::degree() const noexcept {
    std::size_t d = 0;
    for (const auto& t : terms) d = std::max(d, t.ids.size());
    return d;
}

double Function::coefficient(std::vector<std::uint64_t> ids) const {
    std::sort(ids.begin(), ids.end());
    double sum = 0;
    std::vector<std::uint64_t> key;
    for (const auto& t : terms) {
        if (t.ids.size() != ids.size()) continue;
        key = t.ids;
        std::sort(key.begin(), key.end());
        if (key == ids) sum += t.coefficient;
    }
    return sum;
}

namespace detail {
namespace {

void add_linear(const pb1::Linear& linear, std::vector<Term>& terms, double& constant) {
    for (const auto& t : linear.terms()) terms.push_back({{t.id()}, t.coefficient()});
    constant += linear.constant();
}

}  // namespace

Function function_of(const pb1::Function& function) {
    Function out;
    double constant = 0;
    switch (function.function_case()) {
        case pb1::Function::FUNCTION_NOT_SET: return out;
        case pb1::Function::kConstant:
            out.form = Function::Form::constant;
            constant = function.constant();
            break;
        case pb1::Function::kLinear:
            out.form = Function::Form::linear;
            add_linear(function.linear(), out.terms, constant);
            break;
        case pb1::Function::kQuadratic: {
            out.form = Function::Form::quadratic;
            const auto& q = function.quadratic();
            if (q.rows_size() != q.columns_size() || q.rows_size() != q.values_size())
                throw Error(Errc::invalid_input, "read", "ommx.v1.Quadratic",
                            std::to_string(q.rows_size()) + " rows, " + std::to_string(q.columns_size()) + " columns and " +
                                std::to_string(q.values_size()) + " values: the three lists must be as long");
            for (int k = 0; k < q.rows_size(); ++k) out.terms.push_back({{q.rows(k), q.columns(k)}, q.values(k)});
            if (q.has_linear()) add_linear(q.linear(), out.terms, constant);
            break;
        }
        case pb1::Function::kPolynomial:
            out.form = Function::Form::polynomial;
            for (const auto& m : function.polynomial().terms()) {
                if (m.ids().empty()) {
                    constant += m.coefficient();
                } else {
                    out.terms.push_back({{m.ids().begin(), m.ids().end()}, m.coefficient()});
                }
            }
            break;
    }
    if (constant != 0) out.terms.push_back({{}, constant});
    return out;
}

void set_function(const Function& function, pb1::Function& out) {
    out.Clear();
    // The form asked for, widened to what the terms need.
    const auto degree = function.degree();
    auto form = function.form;
    const auto needed = degree == 0   ? (function.terms.empty() ? Function::Form::zero : Function::Form::constant)
                        : degree == 1 ? Function::Form::linear
                        : degree == 2 ? Function::Form::quadratic
                                      : Function::Form::polynomial;
    form = std::max(form, needed);
    const double constant = function.constant();
    switch (form) {
        case Function::Form::zero: return;
        case Function::Form::constant: out.set_constant(constant); return;
        case Function::Form::polynomial:
            for (const auto& t : function.terms) {
                if (t.ids.empty()) continue;
                auto* m = out.mutable_polynomial()->add_terms();
                for (auto id : t.ids) m->add_ids(id);
                m->set_coefficient(t.coefficient);
            }
            if (constant != 0) out.mutable_polynomial()->add_terms()->set_coefficient(constant);
            out.mutable_polynomial();
            return;
        default: break;
    }
    pb1::Linear* linear = form == Function::Form::linear ? out.mutable_linear() : nullptr;
    for (const auto& t : function.terms) {
        if (t.ids.size() == 2) {
            auto* q = out.mutable_quadratic();
            q->add_rows(t.ids[0]);
            q->add_columns(t.ids[1]);
            q->add_values(t.coefficient);
        } else if (t.ids.size() == 1) {
            if (!linear) linear = out.mutable_quadratic()->mutable_linear();
            auto* term = linear->add_terms();
            term->set_id(t.ids[0]);
            term->set_coefficient(t.coefficient);
        }
    }
    if (form == Function::Form::quadratic) out.mutable_quadratic();
    if (constant != 0) {
        if (!linear) linear = out.mutable_quadratic()->mutable_linear();
        linear->set_constant(constant);
    }
}

Labels labels_of(const pb2::ModelingLabel& label) { return labels_of<pb2::ModelingLabel>(label); }

DecisionVariable variable_of(const pb1::DecisionVariable& variable) {
    DecisionVariable out;
    static_cast<Labels&>(out) = labels_of(variable);
    out.id = variable.id();
    out.kind = kind_of(variable.kind());
    if (variable.has_bound()) out.bound = Bound{variable.bound().lower(), variable.bound().upper()};
    if (variable.has_substituted_value()) out.substituted_value = variable.substituted_value();
    return out;
}

void set_variable(const DecisionVariable& variable, pb1::DecisionVariable& out) {
    out.set_id(variable.id);
    out.set_kind(static_cast<pb1::DecisionVariable::Kind>(variable.kind));
    if (variable.bound) {
        out.mutable_bound()->set_lower(variable.bound->lower);
        out.mutable_bound()->set_upper(variable.bound->upper);
    }
    set_labels(variable, out);
    if (variable.substituted_value) out.set_substituted_value(*variable.substituted_value);
}

Constraint constraint_of(const pb1::Constraint& constraint) {
    Constraint out;
    static_cast<Labels&>(out) = labels_of(constraint);
    out.id = constraint.id();
    out.equality = equality_of(constraint.equality());
    out.function = function_of(constraint.function());
    return out;
}

void set_constraint(const Constraint& constraint, pb1::Constraint& out) {
    out.set_id(constraint.id);
    out.set_equality(static_cast<pb1::Equality>(constraint.equality));
    set_function(constraint.function, *out.mutable_function());
    set_labels(constraint, out);
}

Description description_of(const pb1::Instance::Description& d) {
    Description out;
    if (d.has_name()) out.name = d.name();
    if (d.has_description()) out.description = d.description();
    out.authors.assign(d.authors().begin(), d.authors().end());
    if (d.has_created_by()) out.created_by = d.created_by();
    if (d.has_created()) out.created = d.created();
    if (d.has_license()) out.license = d.license();
    if (d.has_dataset()) out.dataset = d.dataset();
    return out;
}

void set_description(const Description& d, pb1::Instance::Description& out) {
    out.Clear();
    if (d.name) out.set_name(*d.name);
    if (d.description) out.set_description(*d.description);
    for (const auto& a : d.authors) out.add_authors(a);
    if (d.created_by) out.set_created_by(*d.created_by);
    if (d.created) out.set_created(*d.created);
    if (d.license) out.set_license(*d.license);
    if (d.dataset) out.set_dataset(*d.dataset);
}

namespace {

// constraints_of maps one of a regular collection's maps onto Constraints,
// with labels from the contexts and reasons from removed_reasons.
std::vector<Constraint> constraints_of(const google::protobuf::Map<std::uint64_t, pb2::RegularConstraint>& map,
                                       const pb2::RegularConstraintCollection& collection, bool removed) {
    std::vector<Constraint> out;
    for (const auto& [id, c] : map) {
        Constraint v;
        if (auto ctx = collection.contexts().find(id); ctx != collection.contexts().end() && ctx->second.has_label())
            static_cast<Labels&>(v) = labels_of(ctx->second.label());
        v.id = id;
        v.equality = equality_of(c.equality());
        v.function = function_of(c.function());
        if (auto r = collection.removed_reasons().find(id); removed && r != collection.removed_reasons().end())
            v.removed_reason = r->second.reason();
        out.push_back(std::move(v));
    }
    sort_by_id(out);
    return out;
}

}  // namespace

std::vector<Constraint> active_of(const pb2::RegularConstraintCollection& collection) {
    return constraints_of(collection.active(), collection, false);
}

std::vector<Constraint> removed_of(const pb2::RegularConstraintCollection& collection) {
    return constraints_of(collection.removed(), collection, true);
}

}  // namespace detail
}  // namespace sealrun::ommx
