// The typed model of the format (include/sealrun/experiment/model.h):
// parameters, solves, samplings and the config documents, to and from JSON.
#include "sealrun/experiment/model.h"

#include <algorithm>
#include <cmath>

#include "experiment/rules.h"
#include "sealrun/error.h"

namespace sealrun {

using json = nlohmann::json;

nlohmann::json parameter_to_json(const Parameter& p) {
    return std::visit([](const auto& v) { return json(v); }, p);
}

Parameter parameter_from_json(const json& v, const std::string& name) {
    using T = json::value_t;
    switch (v.type()) {
    case T::boolean: return v.get<bool>();
    case T::number_integer: return v.get<std::int64_t>();
    case T::number_unsigned: return integer_parameter(name, v.get<std::uint64_t>());
    case T::number_float:
        // JSON has no NaN or infinity: they could not be written or read back.
        if (!std::isfinite(v.get<double>()))
            throw Error(Errc::invalid_input, "parameter", name, "NaN and infinities have no JSON form");
        return v.get<double>();
    case T::string: return v.get<std::string>();
    default:
        throw Error(Errc::invalid_input, "parameter", name,
                    std::string("a parameter must be a bool, an integer, a number or a string, not ") + v.type_name());
    }
}

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& why) { throw Error(Errc::invalid_input, "parse", path, why); }

std::string text_member(const json& v, const std::string& path, const char* key) {
    const auto it = v.find(key);
    if (it == v.end()) bad(path + "." + key, "is required");
    if (!it->is_string()) bad(path + "." + key, "must be a string");
    return it->get<std::string>();
}

// Solves and samplings are the same record but for the name of their id
// (FORMAT §4.2): one reader, writer and check serve both. CallTraits names
// the id member and says what the record is called in messages.
template <class R>
struct CallTraits;
template <>
struct CallTraits<SolveRecord> {
    static constexpr auto id = &SolveRecord::solve_id;
    static constexpr const char* id_key = "solve_id";
    static constexpr const char* what = "solve";
};
template <>
struct CallTraits<SamplingRecord> {
    static constexpr auto id = &SamplingRecord::sampling_id;
    static constexpr const char* id_key = "sampling_id";
    static constexpr const char* what = "sampling";
};

template <class R>
json call_to_json(const R& r) {
    using T = CallTraits<R>;
    json j = {{T::id_key, r.*T::id}, {"status", r.status}, {"input", r.input}, {"adapter", r.adapter},
              {"adapter_options", r.adapter_options}, {"diagnostics", r.diagnostics}};
    j["output"] = r.output ? json(*r.output) : json(nullptr);
    return j;
}

template <class R>
R call_from_json(const json& v, const std::string& path) {
    using T = CallTraits<R>;
    if (!v.is_object()) bad(path, "must be a JSON object");
    R r;
    const auto id = v.find(T::id_key);
    const auto id_path = path + "." + T::id_key;
    if (id == v.end()) bad(id_path, "is required");
    if (id->is_number_unsigned() && id->template get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        bad(id_path, "is larger than 2^63-1");
    if (!id->is_number_integer()) bad(id_path, "must be an integer");
    r.*T::id = id->template get<std::int64_t>();
    r.status = text_member(v, path, "status");
    r.input = text_member(v, path, "input");
    r.adapter = text_member(v, path, "adapter");
    if (const auto o = v.find("output"); o != v.end() && !o->is_null()) {
        if (!o->is_string()) bad(path + ".output", "must be a string or null");
        r.output = o->template get<std::string>();
    }
    if (const auto o = v.find("adapter_options"); o != v.end()) {
        if (!o->is_object()) bad(path + ".adapter_options", "must be an object");
        r.adapter_options = *o;
    }
    if (const auto d = v.find("diagnostics"); d != v.end()) r.diagnostics = *d;
    try {
        r.check();
    } catch (const Error& e) {
        bad(path, e.reason());
    }
    return r;
}

template <class R>
void check_call(const R& r) {
    using T = CallTraits<R>;
    const auto op = std::string("check ") + T::what;
    const auto id = std::string(T::what) + " " + std::to_string(r.*T::id);
    if (!format::is_status(r.status))
        throw Error(Errc::invalid_input, op, id, "status \"" + r.status + "\" is not finished, failed or interrupted");
    if (r.input.empty()) throw Error(Errc::invalid_input, op, id, "has no input attachment");
    if (r.status == "finished" && !r.output) throw Error(Errc::invalid_input, op, id, "is finished but has no output");
    if (r.status != "finished" && r.output) throw Error(Errc::invalid_input, op, id, "is " + r.status + " but has an output");
    if (!r.adapter_options.is_object()) throw Error(Errc::invalid_input, op, id, "adapter_options must be a JSON object");
}

}  // namespace

json SolveRecord::to_json() const { return call_to_json(*this); }
SolveRecord SolveRecord::from_json(const json& v, const std::string& path) { return call_from_json<SolveRecord>(v, path); }
void SolveRecord::check() const { check_call(*this); }

json SamplingRecord::to_json() const { return call_to_json(*this); }
SamplingRecord SamplingRecord::from_json(const json& v, const std::string& path) {
    return call_from_json<SamplingRecord>(v, path);
}
void SamplingRecord::check() const { check_call(*this); }

namespace format {

namespace {
json table_json(const AttachmentTable& table) {
    json t = json::object();
    for (const auto& [name, i] : table) t[name] = i;
    return t;
}
json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
}  // namespace

json RunConfig::to_json() const {
    json params = json::object();
    for (const auto& [k, v] : parameters) params[k] = parameter_to_json(v);
    json solve_list = json::array();
    for (const auto& s : solves) solve_list.push_back(s.to_json());
    json trace = trace_layer ? json(*trace_layer) : trace_attachment ? json(*trace_attachment) : json(nullptr);
    json j = {{"version", version},       {"experiment", experiment},        {"run_id", run_id},
              {"status", status},         {"reason", optional_text(reason)}, {"started", optional_text(started)},
              {"ended", optional_text(ended)}, {"parameters", std::move(params)}, {"solves", std::move(solve_list)},
              {"trace", std::move(trace)}, {"attachments", table_json(attachments)}};
    // Optional (FORMAT §4.2): written only when given, so other digests do not change.
    if (kind) j["kind"] = *kind;
    if (!settings.is_null()) j["config"] = settings;
    if (!samplings.empty()) {
        json list = json::array();
        for (const auto& s : samplings) list.push_back(s.to_json());
        j["samplings"] = std::move(list);
    }
    return j;
}

RunConfig RunConfig::from_json(const json& config, const std::vector<oci::Descriptor>& layers) {
    rules::ThrowingSink sink("run config");
    return rules::read_run_config(config, layers, {}, sink);
}

json AttachmentsConfig::to_json() const {
    return {{"version", version}, {"experiment", experiment}, {"attachments", table_json(attachments)}};
}

AttachmentsConfig AttachmentsConfig::from_json(const json& config, const std::vector<oci::Descriptor>& layers) {
    rules::ThrowingSink sink("experiment config");
    return rules::read_attachments_config(config, layers, {}, sink);
}

std::string_view roll_up_status(const std::vector<std::string>& run_statuses) {
    if (std::find(run_statuses.begin(), run_statuses.end(), "failed") != run_statuses.end()) return "failed";
    if (std::find(run_statuses.begin(), run_statuses.end(), "interrupted") != run_statuses.end()) return "interrupted";
    return "finished";
}

}  // namespace format

}  // namespace sealrun
