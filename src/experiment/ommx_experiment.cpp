// OMMX 3 experiment archives as SealedExperiment views (docs/FORMAT.md
// "OMMX interop"). The format facts (config fields, layer references, the
// run-parameter table) were read from OMMX's rust/ommx/src/experiment/.
#include "experiment/ommx_experiment.h"

#include <algorithm>
#include <climits>
#include <set>
#include <tuple>

#include "sealrun/error.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/path.h"
#include "util/utf8.h"

#define MSGPACK_NO_BOOST
#include <msgpack.hpp>

namespace sealrun::detail {

namespace {

using nlohmann::json;
namespace archive = ommx::archive;

// ConfigReader reads the config against the manifest's layers; every
// problem is an Error(invalid_input) naming its JSON path.
struct ConfigReader {
    const std::vector<oci::Descriptor>& layers;
    const std::string& who;

    [[noreturn]] void fail(const std::string& path, const std::string& why) const {
        throw Error(Errc::invalid_input, "open", who, "OMMX experiment config: " + path + ": " + why);
    }
    const json* field(const json& obj, const std::string& path, std::string_view key, bool required) const {
        if (!obj.is_object()) fail(path, "must be an object");
        const auto it = obj.find(key);
        if (it == obj.end() || (!required && it->is_null())) {
            if (required) fail(path, "has no \"" + std::string(key) + "\"");
            return nullptr;
        }
        return &*it;
    }
    std::string string(const json& obj, const std::string& path, std::string_view key, std::optional<std::string> dflt = {}) const {
        const auto* v = field(obj, path, key, !dflt);
        if (!v) return *dflt;
        if (!v->is_string()) fail(path + "." + std::string(key), "must be a string");
        return v->get<std::string>();
    }
    // id reads an OMMX u64 id that sealrun keeps as a non-negative int64.
    std::int64_t id(const json& obj, const std::string& path, std::string_view key) const {
        const auto& v = *field(obj, path, key, true);
        if (!v.is_number_unsigned() || v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            fail(path + "." + std::string(key), "must be an integer in [0, 2^63-1]");
        return static_cast<std::int64_t>(v.get<std::uint64_t>());
    }
    // layer reads a LayerRef (a u32 index into the manifest's layers).
    std::optional<std::size_t> layer(const json& obj, const std::string& path, std::string_view key, bool required) const {
        const auto* v = field(obj, path, key, required);
        if (!v) return std::nullopt;
        const auto at = path + "." + std::string(key);
        if (!v->is_number_unsigned() || v->get<std::uint64_t>() > UINT32_MAX) fail(at, "must be a layer index (a u32)");
        const auto i = v->get<std::uint64_t>();
        if (i >= layers.size())
            fail(at, "layer " + std::to_string(i) + " is out of range: the manifest has " + std::to_string(layers.size()) +
                         " layer(s)");
        return static_cast<std::size_t>(i);
    }
    void expect_type(std::size_t layer, const std::string& path, std::initializer_list<std::string_view> types,
                     std::string_view what) const {
        for (const auto t : types)
            if (layers[layer].media_type == t) return;
        fail(path, "layer " + std::to_string(layer) + " is " + layers[layer].media_type + ", not " + std::string(what));
    }
    // lifecycle reads status and outcome.reason; `statuses` are those allowed,
    // the first of which (finished, or draft) may carry no outcome.
    std::pair<std::string, std::string> lifecycle(const json& obj, const std::string& path, std::optional<std::string> dflt,
                                                  std::initializer_list<std::string_view> plain) const {
        auto status = string(obj, path, "status", dflt);
        const auto* outcome = field(obj, path, "outcome", false);
        std::string reason;
        if (outcome) {
            if (const auto* r = field(*outcome, path + ".outcome", "reason", false)) {
                if (!r->is_string()) fail(path + ".outcome.reason", "must be a string");
                reason = r->get<std::string>();
            }
        }
        for (const auto p : plain)
            if (status == p) {
                if (outcome) fail(path, "status " + status + " cannot have an outcome");
                return {status, reason};
            }
        if (status != "failed" && status != "interrupted") fail(path + ".status", "unknown status " + json(status).dump());
        return {status, reason};
    }
    // attachments reads an AttachmentTable<LayerRef>: {"entries": {name: layer}, "filenames": {...}}.
    format::AttachmentTable attachments(const json& obj, const std::string& path) const {
        const auto at = path + ".attachments";
        const auto& table = *field(obj, path, "attachments", true);
        const auto& entries = *field(table, at, "entries", true);
        if (!entries.is_object()) fail(at + ".entries", "must be an object");
        format::AttachmentTable out;
        for (const auto& [name, _] : entries.items()) {
            // Names reach file systems (write_attachment, convert): the one
            // rule every attachment name passes, as in a sealrun run (FORMAT §6.1).
            std::string safe;
            try {
                safe = safe_relative_path(name);
            } catch (const Error& e) {
                fail(at + ".entries." + name, "is not a safe attachment name: " + e.reason());
            }
            if (safe != name) fail(at + ".entries." + name, "attachment name is not in normal form (\"" + safe + "\")");
            const auto layer = *this->layer(entries, at + ".entries", name, true);
            check_storage(layer, at + ".entries." + name);
            out.emplace(name, layer);
        }
        if (const auto* names = field(table, at, "filenames", false)) {
            if (!names->is_object()) fail(at + ".filenames", "must be an object");
            for (const auto& [name, file] : names->items())
                if (!out.count(name) || !file.is_string()) fail(at + ".filenames." + name, "names no attachment, or is not a string");
        }
        return out;
    }
    // check_storage applies OMMX's rule for compressed attachments: the
    // compression annotation is absent, or "zstd" on a "+zstd" media type.
    void check_storage(std::size_t layer, const std::string& path) const {
        const auto& d = layers[layer];
        const auto it = d.annotations.find(std::string(archive::compression_key));
        if (it == d.annotations.end()) return;
        if (it->second != "zstd") fail(path, "unsupported compression " + json(it->second).dump());
        if (!d.media_type.ends_with("+zstd") || d.media_type.size() == 5)
            fail(path, "a zstd attachment's media type must end in +zstd, not " + d.media_type);
    }
};

// Namer gives every layer a run refers to an attachment name of that run:
// the run's own name for a layer in its attachment table (the first name,
// in sorted order, when several share a layer), otherwise a synthesized
// "solve-<id>-input.<kind>", "solve-<id>-output.<kind>",
// "solve-<id>-diagnostics.msgpack" (sampling-… likewise) or "trace.otlp",
// where <kind> ends OMMX's payload media type (instance, solution,
// sample-set, …); a synthesized name already taken gets "~1", "~2", ….
struct Namer {
    format::AttachmentTable& table;
    const std::vector<oci::Descriptor>& layers;
    std::map<std::size_t, std::string> by_layer;

    Namer(format::AttachmentTable& t, const std::vector<oci::Descriptor>& l) : table(t), layers(l) {
        for (const auto& [name, layer] : t) by_layer.emplace(layer, name);  // keeps the first name
    }
    std::string name(std::size_t layer, const std::string& stem) {
        if (const auto it = by_layer.find(layer); it != by_layer.end()) return it->second;
        auto base = stem;
        const auto& type = layers[layer].media_type;
        if (type.starts_with("application/org.ommx.v") && type.find('+') == std::string::npos)
            base += type.substr(type.rfind('.'));
        auto candidate = base;
        for (int k = 1; table.count(candidate); ++k) candidate = base + "~" + std::to_string(k);
        table.emplace(candidate, layer);
        by_layer.emplace(layer, candidate);
        return candidate;
    }
};

// read_calls reads the solves or the samplings of a run (one shape).
template <class Record>
std::vector<Record> read_calls(const ConfigReader& r, const json& run, const std::string& path, std::string_view key,
                               std::string_view stem, std::initializer_list<std::string_view> outputs,
                               std::string_view output_what, Namer& namer) {
    std::vector<Record> out;
    const auto* list = r.field(run, path, key, false);
    if (!list) return out;
    if (!list->is_array()) r.fail(path + "." + std::string(key), "must be an array");
    std::set<std::int64_t> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto& c = (*list)[i];
        const auto at = path + "." + std::string(key) + "[" + std::to_string(i) + "]";
        const auto id = r.id(c, at, std::string(stem) + "_id");
        if (!seen.insert(id).second) r.fail(at, "repeats " + std::string(stem) + " id " + std::to_string(id));
        const auto status = r.lifecycle(c, at, "finished", {"finished"}).first;
        const auto input = *r.layer(c, at, "input", true);
        r.expect_type(input, at + ".input", {ommx::media_types::instance, ommx::media_types::instance_v2}, "an OMMX Instance");
        const auto output = r.layer(c, at, "output", false);
        if (status == "finished" && !output) r.fail(at, "is finished but has no output");
        if (status != "finished" && output) r.fail(at, "has status " + status + " but an output");
        if (output) r.expect_type(*output, at + ".output", outputs, output_what);
        const auto diagnostics = r.layer(c, at, "diagnostics", false);
        if (diagnostics) r.expect_type(*diagnostics, at + ".diagnostics", {archive::diagnostic}, "MessagePack diagnostics");
        const auto prefix = std::string(stem) + "-" + std::to_string(id) + "-";
        Record rec;
        if constexpr (requires { rec.solve_id; }) rec.solve_id = id;
        else rec.sampling_id = id;
        rec.status = status;
        rec.input = namer.name(input, prefix + "input");
        if (output) rec.output = namer.name(*output, prefix + "output");
        rec.adapter = r.string(c, at, "adapter");
        // adapter_options is a string in OMMX; a JSON object in it is kept as
        // that object, anything else as the string.
        const auto options = r.string(c, at, "adapter_options", "{}");
        try {
            auto parsed = oci::parse_json_strict(options, at + ".adapter_options");
            rec.adapter_options = parsed.is_object() ? std::move(parsed) : json(options);
        } catch (const Error&) {
            rec.adapter_options = json(options);
        }
        if (diagnostics) rec.diagnostics = namer.name(*diagnostics, prefix + "diagnostics.msgpack");
        out.push_back(std::move(rec));
    }
    std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) {
        if constexpr (requires { a.solve_id; }) return a.solve_id < b.solve_id;
        else return a.sampling_id < b.sampling_id;
    });
    return out;
}

OmmxRun read_run(const ConfigReader& r, const json& run, const std::string& path) {
    OmmxRun out;
    out.run_id = r.id(run, path, "run_id");
    std::tie(out.status, out.reason) = r.lifecycle(run, path, "finished", {"finished"});
    out.attachments = r.attachments(run, path);
    Namer namer(out.attachments, r.layers);
    out.solves = read_calls<SolveRecord>(r, run, path, "solves", "solve",
                                         {ommx::media_types::solution, ommx::media_types::solution_v2},
                                         "an OMMX Solution", namer);
    out.samplings = read_calls<SamplingRecord>(r, run, path, "samplings", "sampling",
                                               {ommx::media_types::sample_set, ommx::media_types::sample_set_v2},
                                               "an OMMX SampleSet", namer);
    out.trace = r.layer(run, path, "trace", false);
    if (out.trace) {
        r.expect_type(*out.trace, path + ".trace", {archive::trace}, "an OTLP trace");
        namer.name(*out.trace, "trace.otlp");
    }
    out.config = run;
    return out;
}

}  // namespace

OmmxExperimentConfig read_ommx_experiment_config(std::string_view bytes, const std::vector<oci::Descriptor>& layers,
                                                 const std::string& who) {
    const auto doc = oci::parse_json_strict(bytes, "OMMX experiment config of " + who, format::max_config_size);
    const ConfigReader r{layers, who};
    if (!doc.is_object()) r.fail("$", "must be an object");
    OmmxExperimentConfig out;
    std::tie(out.status, out.reason) = r.lifecycle(doc, "$", std::nullopt, {"finished", "draft"});
    if (const auto* name = r.field(doc, "$", "requested_image_name", false)) {
        if (!name->is_string()) r.fail("$.requested_image_name", "must be a string");
        out.requested_image_name = name->get<std::string>();
    }
    out.attachments = r.attachments(doc, "$");
    const auto& runs = *r.field(doc, "$", "runs", true);
    if (!runs.is_array()) r.fail("$.runs", "must be an array");
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto path = "$.runs[" + std::to_string(i) + "]";
        auto run = read_run(r, runs[i], path);
        const auto id = run.run_id;
        if (!out.runs.emplace(id, std::move(run)).second) r.fail(path, "repeats run id " + std::to_string(id));
    }
    out.run_parameters = *r.layer(doc, "$", "run_parameters", true);
    r.expect_type(out.run_parameters, "$.run_parameters", {archive::run_parameters}, "the run-parameter table");
    return out;
}

namespace {

// The run-parameter table is small and flat: a map of columns, each a map of
// "type" and "values", the values a map of run id → scalar. The unpack
// limits bound what a hostile layer can make MessagePack allocate: no
// arrays, bins or exts, at most 2^20 entries in a map, 1 MiB strings, and
// five levels of nesting where the table needs four.
constexpr std::size_t max_table_entries = std::size_t{1} << 20;
constexpr std::size_t max_table_string = std::size_t{1} << 20;
constexpr std::size_t max_table_depth = 5;

struct TableReader {
    const std::string& who;

    [[noreturn]] void fail(const std::string& why) const {
        throw Error(Errc::invalid_input, "open", who, "run-parameter table: " + why);
    }
    std::string text(const msgpack::object& o, const std::string& what) const {
        if (o.type != msgpack::type::STR) fail(what + " is not a MessagePack string");
        std::string_view s(o.via.str.ptr, o.via.str.size);
        for (std::size_t i = 0; i < s.size();) {
            std::uint32_t cp = 0;
            if (static_cast<unsigned char>(s[i]) < 0x80) ++i;
            else if (const auto n = util::utf8_length(s, i, cp)) i += n;
            else fail(what + " is not valid UTF-8");
        }
        return std::string(s);
    }
    // fields returns the values of a map with exactly the string keys `names`.
    std::vector<const msgpack::object*> fields(const msgpack::object& o, const std::string& what,
                                               std::initializer_list<std::string_view> names) const {
        if (o.type != msgpack::type::MAP) fail(what + " is not a MessagePack map");
        std::vector<const msgpack::object*> out(names.size(), nullptr);
        for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
            const auto key = text(o.via.map.ptr[i].key, what + " key");
            const auto at = std::find(names.begin(), names.end(), key);
            if (at == names.end()) fail(what + " has an unknown field " + json(key).dump());
            auto& slot = out[static_cast<std::size_t>(at - names.begin())];
            if (slot) fail(what + " repeats the field " + json(key).dump());
            slot = &o.via.map.ptr[i].val;
        }
        for (std::size_t k = 0; k < out.size(); ++k)
            if (!out[k]) fail(what + " has no field \"" + std::string(names.begin()[k]) + "\"");
        return out;
    }
    Parameter value(const msgpack::object& o, const std::string& type, const std::string& what) const {
        using msgpack::type::object_type;
        if (type == "bool" && o.type == object_type::BOOLEAN) return o.via.boolean;
        if (type == "int64" && o.type == object_type::POSITIVE_INTEGER && o.via.u64 <= static_cast<std::uint64_t>(INT64_MAX))
            return static_cast<std::int64_t>(o.via.u64);
        if (type == "int64" && o.type == object_type::NEGATIVE_INTEGER) return o.via.i64;
        if (type == "float64" && o.type == object_type::FLOAT64) return o.via.f64;
        if (type == "string") return text(o, what);
        fail(what + " is not a " + type + " value");
    }
};

}  // namespace

RunParameters read_ommx_run_parameters(std::string_view bytes, const std::string& who) {
    const TableReader r{who};
    if (bytes.size() > max_run_parameters_size)
        r.fail(std::to_string(bytes.size()) + " bytes, more than the " + std::to_string(max_run_parameters_size >> 20) +
               " MiB readers accept");
    msgpack::object_handle handle;
    std::size_t offset = 0;
    try {
        const msgpack::unpack_limit limits(0, max_table_entries, max_table_string, 0, 0, max_table_depth);
        handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limits);
    } catch (const std::exception& e) {
        r.fail(std::string("is not MessagePack within the reader's limits (") + e.what() + ")");
    }
    if (offset != bytes.size()) r.fail("holds more than one MessagePack value");
    RunParameters out;
    const auto& columns = *r.fields(handle.get(), "the table", {"columns"})[0];
    if (columns.type != msgpack::type::MAP) r.fail("\"columns\" is not a MessagePack map");
    std::set<std::string> names;
    for (std::uint32_t i = 0; i < columns.via.map.size; ++i) {
        const auto name = r.text(columns.via.map.ptr[i].key, "a column name");
        const auto what = "column " + json(name).dump();
        if (!names.insert(name).second) r.fail("repeats " + what);
        const auto f = r.fields(columns.via.map.ptr[i].val, what, {"type", "values"});
        const auto type = r.text(*f[0], what + " type");
        if (type != "bool" && type != "int64" && type != "float64" && type != "string")
            r.fail(what + " has the unknown type " + json(type).dump());
        const auto& values = *f[1];
        if (values.type != msgpack::type::MAP) r.fail(what + " values are not a MessagePack map");
        for (std::uint32_t k = 0; k < values.via.map.size; ++k) {
            const auto& key = values.via.map.ptr[k].key;
            if (key.type != msgpack::type::POSITIVE_INTEGER || key.via.u64 > static_cast<std::uint64_t>(INT64_MAX))
                r.fail(what + " has a run id that is not an integer in [0, 2^63-1]");
            const auto id = static_cast<std::int64_t>(key.via.u64);
            const auto cell = what + " run " + std::to_string(id);
            if (!out[id].emplace(name, r.value(values.via.map.ptr[k].val, type, cell)).second) r.fail("repeats " + cell);
        }
    }
    return out;
}

void check_parameter_runs(const RunParameters& parameters, const OmmxExperimentConfig& config, const std::string& who) {
    for (const auto& [id, _] : parameters)
        if (!config.runs.count(id))
            throw Error(Errc::invalid_input, "open", who,
                        "run-parameter table: names run " + std::to_string(id) + ", which the config does not have");
}

bool is_ommx_experiment(const oci::ImageManifest& manifest) noexcept {
    return manifest.artifact_type && *manifest.artifact_type == archive::experiment;
}

SealedExperiment OmmxExperimentReader::open(content::ReadOnlyTarget& target, const oci::Descriptor& root,
                                            const CodecRegistry& codecs, const std::string& who) {
    const auto refuse = [&] {
        return Error(Errc::invalid_input, "open", who,
                     "is not a sealed experiment (" + root.media_type + ", not an experiment index)");
    };
    // What is not an OMMX experiment is refused as before, unreadable or not;
    // what says it is one has its own errors.
    const bool says_ommx = root.artifact_type && *root.artifact_type == archive::experiment;
    oci::ImageManifest manifest;
    try {
        manifest = oci::ImageManifest::parse(content::read_all(target, root, oci::max_manifest_size));
    } catch (const Error&) {
        if (says_ommx) throw;
        throw refuse();
    }
    if (!is_ommx_experiment(manifest)) throw refuse();
    if (manifest.config.media_type != archive::experiment_config)
        throw Error(Errc::invalid_input, "open", who,
                    "OMMX experiment config media type is " + manifest.config.media_type + ", not " +
                        std::string(archive::experiment_config));
    auto config = read_ommx_experiment_config(content::read_all(target, manifest.config, format::max_config_size),
                                              manifest.layers, who);
    const auto& table_layer = manifest.layers[config.run_parameters];
    if (table_layer.size < 0 || static_cast<std::uint64_t>(table_layer.size) > max_run_parameters_size)
        throw Error(Errc::invalid_input, "open", who,
                    "run-parameter table: layer of " + std::to_string(table_layer.size) + " bytes, more than the " +
                        std::to_string(max_run_parameters_size >> 20) + " MiB readers accept");
    auto parameters = read_ommx_run_parameters(content::read_all(target, table_layer, max_run_parameters_size), who);
    check_parameter_runs(parameters, config, who);

    oci::ImageIndex index;
    index.artifact_type = manifest.artifact_type;
    index.annotations = manifest.annotations;
    SealedExperiment e(target, codecs, root, std::move(index));
    e.name_ = config.requested_image_name.value_or(who);
    e.status_ = config.status;
    auto runs = std::make_shared<std::map<std::int64_t, SealedRun>>();
    for (auto& [id, run] : config.runs) {
        SealedRun r(Attachments(target, manifest.layers, run.attachments, codecs));
        r.target_ = &target;
        r.manifest_ = root;
        r.run_id_ = id;
        r.status_ = std::move(run.status);
        r.reason_ = std::move(run.reason);
        if (auto p = parameters.find(id); p != parameters.end()) r.parameters_ = std::move(p->second);
        r.solves_ = std::move(run.solves);
        r.samplings_ = std::move(run.samplings);
        r.config_ = std::move(run.config);
        runs->emplace(id, std::move(r));
    }
    e.opened_runs_ = std::move(runs);
    e.attachments_->value = std::make_shared<const Attachments>(target, manifest.layers, config.attachments, codecs);
    return e;
}

}  // namespace sealrun::detail
