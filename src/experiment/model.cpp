// The typed model of the format (include/sealrun/experiment/model.h):
// parameters, solves and the config documents, to and from JSON.
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

json SolveRecord::to_json() const {
    json j = {{"solve_id", solve_id}, {"status", status}, {"input", input}, {"adapter", adapter},
              {"adapter_options", adapter_options}, {"diagnostics", diagnostics}};
    j["output"] = output ? json(*output) : json(nullptr);
    return j;
}

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& why) { throw Error(Errc::invalid_input, "parse", path, why); }

std::string text_member(const json& v, const std::string& path, const char* key) {
    const auto it = v.find(key);
    if (it == v.end()) bad(path + "." + key, "is required");
    if (!it->is_string()) bad(path + "." + key, "must be a string");
    return it->get<std::string>();
}

}  // namespace

SolveRecord SolveRecord::from_json(const json& v, const std::string& path) {
    if (!v.is_object()) bad(path, "must be a JSON object");
    SolveRecord s;
    const auto id = v.find("solve_id");
    if (id == v.end()) bad(path + ".solve_id", "is required");
    if (id->is_number_unsigned() && id->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        bad(path + ".solve_id", "is larger than 2^63-1");
    if (!id->is_number_integer()) bad(path + ".solve_id", "must be an integer");
    s.solve_id = id->get<std::int64_t>();
    s.status = text_member(v, path, "status");
    s.input = text_member(v, path, "input");
    s.adapter = text_member(v, path, "adapter");
    if (const auto o = v.find("output"); o != v.end() && !o->is_null()) {
        if (!o->is_string()) bad(path + ".output", "must be a string or null");
        s.output = o->get<std::string>();
    }
    if (const auto o = v.find("adapter_options"); o != v.end()) {
        if (!o->is_object()) bad(path + ".adapter_options", "must be an object");
        s.adapter_options = *o;
    }
    if (const auto d = v.find("diagnostics"); d != v.end()) s.diagnostics = *d;
    try {
        s.check();
    } catch (const Error& e) {
        bad(path, e.reason());
    }
    return s;
}

void SolveRecord::check() const {
    const auto id = "solve " + std::to_string(solve_id);
    if (!format::is_status(status))
        throw Error(Errc::invalid_input, "check solve", id, "status \"" + status + "\" is not finished, failed or interrupted");
    if (input.empty()) throw Error(Errc::invalid_input, "check solve", id, "has no input attachment");
    if (status == "finished" && !output) throw Error(Errc::invalid_input, "check solve", id, "is finished but has no output");
    if (status != "finished" && output) throw Error(Errc::invalid_input, "check solve", id, "is " + status + " but has an output");
}

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
