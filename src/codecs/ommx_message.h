#pragma once
// Internal to src/codecs/ommx*.cpp: the protobuf message behind an OMMX
// payload value (include/sealrun/codecs/ommx.h), and the conversions between
// the generated classes (proto/ommx/, generated at build time) and the plain
// structs of the public header. Nothing outside src/codecs/ommx*.cpp
// includes this file or a generated header.

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "ommx/v1/instance.pb.h"
#include "ommx/v1/parametric_instance.pb.h"
#include "ommx/v1/sample_set.pb.h"
#include "ommx/v1/solution.pb.h"
#include "ommx/v2/instance.pb.h"
#include "ommx/v2/parametric_instance.pb.h"
#include "ommx/v2/sample_set.pb.h"
#include "ommx/v2/solution.pb.h"
#include "sealrun/codecs/ommx.h"

namespace sealrun::ommx::detail {

// The generated packages (::ommx::v1 would otherwise be looked up as
// sealrun::ommx::v1 inside this namespace).
namespace pb1 = ::ommx::v1;
namespace pb2 = ::ommx::v2;

// max_depth is how deep messages may nest: protobuf's default recursion
// limit (io::CodedInputStream::GetDefaultRecursionLimit()), which
// ParseFromArray applies too; check_wire applies the same number so both
// agree on what is too deep.
inline constexpr int max_depth = 100;

// Message is what a Payload shares between copies: one v1 or v2 message.
struct Message {
    std::unique_ptr<google::protobuf::Message> proto;
};

// make returns a Message holding an empty M.
template <class M>
std::shared_ptr<Message> make() {
    return std::make_shared<Message>(Message{std::make_unique<M>()});
}

// get returns the message as M; the caller knows the type from the value's
// class and version.
template <class M>
const M& get(const Message& message) {
    return static_cast<const M&>(*message.proto);
}
template <class M>
M& get(Message& message) {
    return static_cast<M&>(*message.proto);
}

// check_wire walks `bytes` as the wire form of `type` and throws
// Error(invalid_input) "not an <type>: <what, where>" for a truncated tag or
// value, a length past the end, an invalid wire type or one the schema does
// not give that field, nesting deeper than max_depth, an unclosed group, or
// a string that is not UTF-8. Fields the schema does not know are skipped
// (and kept by the parse).
void check_wire(std::string_view bytes, const google::protobuf::Descriptor& type);

// parse decodes `bytes` into a new M: check_wire, then ParseFromArray;
// throws Error(invalid_input) (Error(too_large) past 2 GiB).
std::shared_ptr<Message> parse(std::string_view bytes, std::unique_ptr<google::protobuf::Message> empty);
template <class M>
std::shared_ptr<Message> parse(std::string_view bytes) {
    return parse(bytes, std::make_unique<M>());
}

// parse_json reads protobuf's JSON mapping of M; throws Error(invalid_input).
std::shared_ptr<Message> parse_json(const nlohmann::json& json, std::unique_ptr<google::protobuf::Message> empty);
template <class M>
std::shared_ptr<Message> parse_json(const nlohmann::json& json) {
    return parse_json(json, std::make_unique<M>());
}

// checked returns `version`, or throws Error(invalid_input) for a value
// that is neither v1 nor v2 (a cast integer).
Version checked(Version version);

// decoded parses `bytes` as V1 or V2, as `version` says.
template <class V1, class V2>
std::shared_ptr<Message> decoded(std::string_view bytes, Version version) {
    return checked(version) == Version::v1 ? parse<V1>(bytes) : parse<V2>(bytes);
}

// from_json_as reads protobuf's JSON mapping of V1 or V2, as `version` says.
template <class V1, class V2>
std::shared_ptr<Message> from_json_as(const nlohmann::json& json, Version version) {
    return checked(version) == Version::v1 ? parse_json<V1>(json) : parse_json<V2>(json);
}

// require_v1 throws Error(unsupported) for a builder called on a v2 value.
void require_v1(Version version, std::string_view type);

// Enum conversions: the generated enums and the public ones share their
// numbers; a number the public enum lacks (proto3 keeps unknown enum
// values) reads as unspecified.
Sense sense_of(int value) noexcept;
Kind kind_of(int value) noexcept;
Equality equality_of(int value) noexcept;
Optimality optimality_of(int value) noexcept;
Relaxation relaxation_of(int value) noexcept;

// Functions (ommx_terms.cpp).
Function function_of(const pb1::Function& function);
void set_function(const Function& function, pb1::Function& out);

// Labels and the v1 messages that carry them inline (ommx_terms.cpp).
template <class P>
Labels labels_of(const P& proto) {
    Labels out;
    if (proto.has_name()) out.name = proto.name();
    out.subscripts.assign(proto.subscripts().begin(), proto.subscripts().end());
    out.parameters.insert(proto.parameters().begin(), proto.parameters().end());
    if (proto.has_description()) out.description = proto.description();
    return out;
}
template <class P>
void set_labels(const Labels& labels, P& proto) {
    if (labels.name) proto.set_name(*labels.name);
    for (auto s : labels.subscripts) proto.add_subscripts(s);
    for (const auto& [k, v] : labels.parameters) (*proto.mutable_parameters())[k] = v;
    if (labels.description) proto.set_description(*labels.description);
}
Labels labels_of(const pb2::ModelingLabel& label);
DecisionVariable variable_of(const pb1::DecisionVariable& variable);
void set_variable(const DecisionVariable& variable, pb1::DecisionVariable& out);
Constraint constraint_of(const pb1::Constraint& constraint);
void set_constraint(const Constraint& constraint, pb1::Constraint& out);
Description description_of(const pb1::Instance::Description& description);
void set_description(const Description& description, pb1::Instance::Description& out);

// sort_by_id orders values by their id (stable: duplicates keep their order).
template <class T>
void sort_by_id(std::vector<T>& values) {
    std::stable_sort(values.begin(), values.end(), [](const T& a, const T& b) { return a.id < b.id; });
}

// variables_of maps a v2 decision-variable table (an instance's, a
// solution's evaluated or a sample set's sampled one: entries with kind and
// bound, labels by id, and, for an instance, fixed values) onto
// DecisionVariables ordered by id.
template <class Table>
std::vector<DecisionVariable> variables_of(const Table& table) {
    std::vector<DecisionVariable> out;
    for (const auto& [id, entry] : table.entries()) {
        DecisionVariable v;
        if (auto l = table.labels().find(id); l != table.labels().end()) static_cast<Labels&>(v) = labels_of(l->second);
        v.id = id;
        v.kind = kind_of(entry.kind());
        if (entry.has_bound()) v.bound = Bound{entry.bound().lower(), entry.bound().upper()};
        if constexpr (requires { table.fixed_values(); }) {
            if (auto f = table.fixed_values().find(id); f != table.fixed_values().end()) v.substituted_value = f->second;
        }
        out.push_back(std::move(v));
    }
    sort_by_id(out);
    return out;
}

// v2 collections onto the plain structs, ordered by id (ommx_terms.cpp).
std::vector<Constraint> active_of(const pb2::RegularConstraintCollection& collection);
std::vector<Constraint> removed_of(const pb2::RegularConstraintCollection& collection);

}  // namespace sealrun::ommx::detail
