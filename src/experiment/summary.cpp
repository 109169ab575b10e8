// The experiment summary document: value specs, rows, canonical bytes and
// the strict parser readers, validate() and the fuzz target share.
#include "experiment/summary.h"

#include <algorithm>
#include <cstdint>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"

namespace sealrun {

const SummaryRow* ExperimentSummary::find(std::int64_t run_id) const {
    const auto it = std::lower_bound(runs.begin(), runs.end(), run_id,
                                     [](const SummaryRow& r, std::int64_t id) { return r.run_id < id; });
    return it != runs.end() && it->run_id == run_id ? &*it : nullptr;
}

}  // namespace sealrun

namespace sealrun::detail {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(std::string_view what, const std::string& path, const std::string& why) {
    throw Error(Errc::invalid_input, "parse", std::string(what) + " " + path, why);
}

std::optional<Parameter> scalar(const json& v) {
    if (!v.is_boolean() && !v.is_number() && !v.is_string()) return std::nullopt;
    try {
        return parameter_from_json(v, "value");
    } catch (const Error&) {
        return std::nullopt;  // an integer past 2^63-1: not a value the summary can hold exactly
    }
}

}  // namespace

ValueSpec parse_value_spec(std::string_view text) {
    const auto colon = text.find(':');
    const auto fail = [&](const std::string& why) {
        throw Error(Errc::invalid_input, "summary value", std::string(text), why);
    };
    if (colon == std::string_view::npos) fail("must be FILE:KEY (e.g. result.json:loss or result.json:/metrics/loss)");
    ValueSpec spec{.text = std::string(text), .file = std::string(text.substr(0, colon)),
                   .key = std::string(text.substr(colon + 1))};
    if (spec.file.empty()) fail("names no file before ':'");
    if (spec.key.empty()) fail("names no key after ':'");
    spec.pointer = spec.key.front() == '/';
    if (spec.pointer) {
        try {
            (void)json::json_pointer(spec.key);
        } catch (const json::exception& e) {
            fail("is not a valid JSON pointer: " + std::string(e.what()));
        }
    }
    return spec;
}

std::optional<Parameter> pick_value(const json& doc, const ValueSpec& spec) {
    if (spec.pointer) {
        try {
            const json::json_pointer ptr(spec.key);
            if (!doc.contains(ptr)) return std::nullopt;
            return scalar(doc.at(ptr));
        } catch (const json::exception&) {
            return std::nullopt;  // e.g. a non-numeric index into an array
        }
    }
    if (!doc.is_object()) return std::nullopt;
    const auto it = doc.find(spec.key);
    if (it == doc.end()) return std::nullopt;
    return scalar(*it);
}

json summary_row_json(const SummaryRow& row) {
    json params = json::object();
    for (const auto& [k, v] : row.parameters) params[k] = parameter_to_json(v);
    json values = json::object();
    for (const auto& [k, v] : row.values) values[k] = parameter_to_json(v);
    json out = {{"run_id", row.run_id},
                {"status", row.status},
                {"reason", row.reason ? json(*row.reason) : json(nullptr)},
                {"parameters", std::move(params)},
                {"values", std::move(values)},
                {"manifest", row.manifest}};
    if (row.worker) out["worker"] = *row.worker;
    return out;
}

namespace {

void check_summary_size(std::size_t size, std::string_view hint) {
    if (size > format::max_summary_size)
        throw Error(Errc::too_large, "commit", "experiment summary",
                    "passes the " + std::to_string(format::max_summary_size >> 20) + " MiB readers accept" + std::string(hint));
}

}  // namespace

// The members in canonical order (experiment, runs, values, version),
// each row dumped alone.
SummaryWriter::SummaryWriter(const std::string& experiment)
    : out_("{\"experiment\":" + oci::canonical_json(experiment) + ",\"runs\":[") {}

void SummaryWriter::add(const SummaryRow& row) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += oci::canonical_json(summary_row_json(row));
    check_summary_size(out_.size(), "; choose fewer summary values or shorter parameters");
}

std::string SummaryWriter::finish(const std::vector<std::string>& values) && {
    out_ += "],\"values\":" + oci::canonical_json(values) + ",\"version\":" + std::to_string(format::summary_version) + "}";
    check_summary_size(out_.size(), "");
    return std::move(out_);
}

std::string summary_document(const ExperimentSummary& summary) {
    SummaryWriter w(summary.experiment);
    for (const auto& row : summary.runs) w.add(row);
    return std::move(w).finish(summary.values);
}

namespace {

// check_top checks the summary's top level (all but the rows) into `out`.
void check_top(const json& doc, std::string_view what, ExperimentSummary& out) {
    if (!doc.is_object()) bad(what, "$", "must be a JSON object");
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || *version != format::summary_version)
        bad(what, "$.version", "must be " + std::to_string(format::summary_version) + " (a summary version this reader knows)");
    const auto name = doc.find("experiment");
    if (name == doc.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
        bad(what, "$.experiment", "must be the experiment name (a non-empty string)");
    out.experiment = name->get<std::string>();
    const auto values = doc.find("values");
    if (values == doc.end() || !values->is_array()) bad(what, "$.values", "must be an array of strings");
    for (std::size_t i = 0; i < values->size(); ++i) {
        const auto& v = (*values)[i];
        if (!v.is_string()) bad(what, "$.values[" + std::to_string(i) + "]", "must be a string");
        if (std::find(out.values.begin(), out.values.end(), v.get_ref<const std::string&>()) != out.values.end())
            bad(what, "$.values[" + std::to_string(i) + "]", "repeats an earlier value");
        out.values.push_back(v.get<std::string>());
    }
    const auto runs = doc.find("runs");
    if (runs == doc.end() || !runs->is_array()) bad(what, "$.runs", "must be an array");
}

// read_row checks row `i` of the summary and appends it to `out`.
void read_row(const json& r, std::size_t i, std::string_view what, ExperimentSummary& out) {
    const auto path = "$.runs[" + std::to_string(i) + "]";
    if (!r.is_object()) bad(what, path, "must be an object");
    SummaryRow row;
    const auto id = r.find("run_id");
    if (id == r.end() || !id->is_number_integer()) bad(what, path + ".run_id", "must be a non-negative integer");
    if (id->is_number_unsigned() ? id->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                                 : id->get<std::int64_t>() < 0)
        bad(what, path + ".run_id", "must be an integer in [0, 2^63-1]");
    row.run_id = id->get<std::int64_t>();
    if (!out.runs.empty() && row.run_id <= out.runs.back().run_id)
        bad(what, path + ".run_id", std::to_string(row.run_id) + " does not come after " + std::to_string(out.runs.back().run_id) +
                                        " (rows are by ascending run id, each once)");
    const auto status = r.find("status");
    if (status == r.end() || !status->is_string() || !format::is_status(status->get_ref<const std::string&>()))
        bad(what, path + ".status", "must be finished, failed or interrupted");
    row.status = status->get<std::string>();
    if (const auto reason = r.find("reason"); reason != r.end() && !reason->is_null()) {
        if (!reason->is_string()) bad(what, path + ".reason", "must be a string or null");
        row.reason = reason->get<std::string>();
    }
    const auto params = r.find("parameters");
    if (params == r.end() || !params->is_object()) bad(what, path + ".parameters", "must be an object");
    for (const auto& [k, v] : params->items()) {
        try {
            row.parameters.emplace(k, parameter_from_json(v, k));
        } catch (const Error& e) {
            bad(what, path + ".parameters." + k, e.reason());
        }
    }
    const auto vals = r.find("values");
    if (vals == r.end() || !vals->is_object()) bad(what, path + ".values", "must be an object");
    for (const auto& [k, v] : vals->items()) {
        if (std::find(out.values.begin(), out.values.end(), k) == out.values.end())
            bad(what, path + ".values." + k, "is not one of the summary's values");
        try {
            row.values.emplace(k, parameter_from_json(v, k));
        } catch (const Error& e) {
            bad(what, path + ".values." + k, e.reason());
        }
    }
    const auto manifest = r.find("manifest");
    if (manifest == r.end() || !manifest->is_string()) bad(what, path + ".manifest", "must be a digest string");
    try {
        row.manifest = oci::Digest::parse(manifest->get_ref<const std::string&>()).str();
    } catch (const Error& e) {
        bad(what, path + ".manifest", e.reason());
    }
    if (const auto worker = r.find("worker"); worker != r.end()) {
        if (!worker->is_string()) bad(what, path + ".worker", "must be a string");
        row.worker = worker->get<std::string>();
    }
    out.runs.push_back(std::move(row));
}

}  // namespace

ExperimentSummary parse_summary(std::string_view bytes, std::string_view what) {
    // The one strict reader's rules (duplicate keys, depth, one value),
    // linear in the rows and holding one row's tree at a time: a first
    // pass checks the whole document and reads its top level (the rows
    // are counted), a second reads the rows against it.
    if (bytes.size() > format::max_summary_size)
        throw Error(Errc::too_large, "parse", std::string(what),
                    std::to_string(bytes.size()) + " bytes pass the 256 MiB limit on summaries");
    std::size_t rows = 0;
    const json top = oci::parse_json_strict_split(
        bytes, what, "runs", [&](json&&, std::size_t) { ++rows; }, format::max_summary_size);
    ExperimentSummary out;
    check_top(top, what, out);
    out.runs.reserve(rows);
    (void)oci::parse_json_strict_split(
        bytes, what, "runs", [&](json&& r, std::size_t i) { read_row(r, i, what, out); }, format::max_summary_size);
    return out;
}

}  // namespace sealrun::detail
