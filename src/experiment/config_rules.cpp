// The rulebook of the sealed format: the run config (§4.2 to §4.5) and the
// experiment-attachments config (§5), checked against their manifests.
#include <algorithm>
#include <set>

#include "experiment/rules.h"
#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/path.h"

namespace sealrun::format::rules {

namespace {

using json = nlohmann::json;

const json* member(const json& config, const char* key) {
    const auto it = config.find(key);
    return it == config.end() ? nullptr : &*it;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

bool is_timestamp(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SSZ
    static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:ddZ";
    if (s.size() != shape.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
    return true;
}

// read_version reads "version" (§4.2); a wrong one is reported under
// `check` and the current version's rules apply to the rest.
std::uint64_t read_version(const json& config, const std::string& check, Sink& sink) {
    const auto* v = member(config, "version");
    if (v == nullptr) sink.fail(check, "config.version", "is required");
    else if (!v->is_number_unsigned() || !is_config_version(v->get<std::uint64_t>()))
        sink.fail(check, "config.version",
                  "is " + v->dump() + ", must be " + std::to_string(min_config_version) + " to " +
                      std::to_string(config_version) + " (this sealrun reads no other)");
    else return v->get<std::uint64_t>();
    return static_cast<std::uint64_t>(config_version);
}

// read_table reads the attachments table (§4.2): every entry a layer index
// in range that no other entry names. Entries that break it are left out.
AttachmentTable read_table(const json& config, std::size_t layers, const std::string& check, Sink& sink) {
    AttachmentTable table;
    const auto* att = member(config, "attachments");
    if (att == nullptr) return sink.fail(check, "config.attachments", "is required"), table;
    if (!att->is_object()) return sink.fail(check, "config.attachments", "must be an object"), table;
    std::map<std::size_t, std::string> named;
    for (const auto& [name, idx] : att->items()) {
        const auto path = "config.attachments." + name;
        if (!idx.is_number_unsigned()) {
            sink.fail(check, path, "must be a layer index (a non-negative integer), not " +
                                       idx.dump(-1, ' ', false, json::error_handler_t::replace));
            continue;
        }
        const auto i = idx.get<std::uint64_t>();
        if (i >= layers) {
            sink.fail(check, path, "layer index " + std::to_string(i) + " is out of range (" + plural(layers, "layer", "layers") + ")");
            continue;
        }
        if (const auto [it, fresh] = named.emplace(static_cast<std::size_t>(i), name); !fresh) {
            sink.fail(check, path, "layer " + std::to_string(i) + " is already named by attachment " + show(it->second));
            continue;
        }
        table.emplace(name, static_cast<std::size_t>(i));
    }
    return table;
}

// check_titles applies §6.1: every table name is a safe relative name in
// normal form, equal to its layer's title; a titled layer outside the
// table is a warning, or a failure when its title is unsafe.
void check_titles(const AttachmentTable& table, const std::vector<oci::Descriptor>& layers, Sink& sink) {
    const auto title_key = std::string(oci::annotations::title);
    std::set<std::size_t> named;
    for (const auto& [name, i] : table) {
        named.insert(i);
        const auto where = "layers[" + std::to_string(i) + "]";
        try {
            if (const auto safe = safe_relative_path(name); safe != name)
                sink.fail("title", "config.attachments." + name, "attachment name is not in normal form (" + show(safe) + ")", name);
        } catch (const Error& e) {
            sink.fail("title", "config.attachments." + name, "unsafe attachment name: " + e.reason(), name);
        }
        const auto title = annotation(layers[i].annotations, title_key);
        if (!title) sink.fail("title", "", where + " has no " + title_key + " annotation", name);
        else if (*title != name)
            sink.fail("title", "", where + " title " + show(*title) + " does not match the attachment name " + show(name), name);
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto title = annotation(layers[i].annotations, title_key);
        if (named.contains(i) || !title) continue;
        const auto where = "layers[" + std::to_string(i) + "]";
        std::string why;
        try {
            if (safe_relative_path(*title) != *title) why = "is not in normal form";
        } catch (const Error& e) {
            why = "is unsafe: " + e.reason();
        }
        if (!why.empty()) sink.fail("title", "", where + " title " + show(*title) + " " + why, where);
        else sink.warn("title", "", where + " has title " + show(*title) + " but is not in the attachments table (readers ignore it)", where);
    }
}

// check_experiment_name warns when "experiment" is not the index's name.
void check_experiment_name(const json& config, const PartContext& ctx, const std::string& check, Sink& sink,
                           std::string& out) {
    const auto* e = member(config, "experiment");
    if (e == nullptr) return;
    if (!e->is_string()) return sink.warn(check, "config.experiment", "should be a string");
    out = e->get<std::string>();
    if (!ctx.experiment_name.empty() && out != ctx.experiment_name)
        sink.warn(check, "", "config.experiment is " + show(out) + " but the index names the experiment " + show(ctx.experiment_name));
}

// trace_slot applies §4.4 (version 2) and §4.5 (version 1) to "trace".
void trace_slot(const json& config, std::uint64_t version, const std::vector<oci::Descriptor>& layers, RunConfig& rc,
                Sink& sink) {
    const auto bad = [&](const std::string& why) { sink.fail("run-config", "config.trace", why); };
    const auto* it = member(config, "trace");
    const bool none = it == nullptr || it->is_null();
    if (version < 2) {
        if (none) return;
        if (!it->is_string() || !rc.attachments.contains(it->get<std::string>()))
            return bad("must name an attachment or be null (config version 1)");
        rc.trace_attachment = it->get<std::string>();
        return;
    }
    std::vector<std::size_t> typed;
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].media_type == trace_type) typed.push_back(i);
    if (none) {
        if (!typed.empty())
            bad("is null but layers[" + std::to_string(typed.front()) + "] is a trace (" + std::string(trace_type) + ")");
        return;
    }
    if (it->is_string())
        return bad("names attachment \"" + it->get<std::string>().substr(0, 200) +
                   "\": from config version 2 on the trace is a layer of its own, given by its index");
    if (!it->is_number_unsigned()) return bad("must be a layer index (a non-negative integer) or null");
    const auto i = it->get<std::uint64_t>();
    if (i >= layers.size())
        return bad("layer index " + std::to_string(i) + " is out of range (" + std::to_string(layers.size()) + " layers)");
    if (layers[i].media_type != trace_type)
        return bad("layers[" + std::to_string(i) + "] is " + layers[i].media_type + ", not " + std::string(trace_type));
    for (const auto& [name, index] : rc.attachments)
        if (index == i) return bad("layers[" + std::to_string(i) + "] is also attachment \"" + name.substr(0, 200) + "\"");
    if (typed.size() > 1) return bad("the run has " + std::to_string(typed.size()) + " trace layers; at most one is allowed");
    rc.trace_layer = static_cast<std::size_t>(i);
}

// read_fields reads reason, started, ended, parameters, kind and config,
// and warns about keys a writer writes that are missing.
void read_fields(const json& config, RunConfig& rc, Sink& sink) {
    std::string missing;
    for (const char* k : {"experiment", "reason", "started", "ended", "parameters", "solves", "trace"})
        if (member(config, k) == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(k);
    if (!missing.empty())
        sink.warn("run-config", "", "config lacks " + missing + " (writers write every key; readers take absence as none)");
    for (const char* k : {"started", "ended"}) {
        const auto* t = member(config, k);
        if (t == nullptr) continue;
        if (!t->is_string() || !is_timestamp(t->get<std::string>()))
            sink.warn("run-config", "config." + std::string(k), "is not a YYYY-MM-DDTHH:MM:SSZ timestamp");
        else (k[0] == 's' ? rc.started : rc.ended) = t->get<std::string>();
    }
    if (const auto* r = member(config, "reason"); r != nullptr && !r->is_null()) {
        if (!r->is_string()) sink.fail("run-config", "config.reason", "must be a string or null");
        else rc.reason = r->get<std::string>();
    }
    if (const auto* params = member(config, "parameters")) {
        if (!params->is_object()) sink.fail("run-config", "config.parameters", "must be an object");
        else
            for (const auto& [k, v] : params->items()) {
                const auto path = "config.parameters." + k;
                if (k.empty()) sink.warn("run-config", "config.parameters", "a parameter name is empty");
                try {
                    rc.parameters.emplace(k, parameter_from_json(v, path));  // the one parameter rule
                } catch (const Error& e) {
                    sink.fail("run-config", path, e.reason());
                }
            }
    }
    if (const auto* k = member(config, "kind"); k != nullptr && k->is_string()) rc.kind = k->get<std::string>();
    if (const auto* c = member(config, "config")) rc.settings = *c;
}

// read_run_id applies the run-id rules: the config's id, the index entry's
// and the manifest annotation agree.
void read_run_id(const json& config, const PartContext& ctx, RunConfig& rc, Sink& sink) {
    const auto* id = member(config, "run_id");
    if (id == nullptr) return sink.fail("run-id", "config.run_id", "is required");
    if (id->is_number_unsigned() && id->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        return sink.fail("run-id", "config.run_id", "is larger than 2^63-1");
    if (!id->is_number_integer()) return sink.fail("run-id", "config.run_id", "must be an integer");
    rc.run_id = id->get<std::int64_t>();
    if (rc.run_id < 0) sink.warn("run-id", "config.run_id", std::to_string(rc.run_id) + " is negative");
    if (ctx.entry_id && rc.run_id != *ctx.entry_id)
        sink.fail("run-id", "", "the index entry says run " + std::to_string(*ctx.entry_id) + " but config.run_id is " +
                                    std::to_string(rc.run_id));
    if (ctx.manifest_annotations == nullptr) return;
    const auto ann = annotation(*ctx.manifest_annotations, keys::run_id);
    if (!ann) sink.warn("run-id", "", "the manifest lacks annotation " + std::string(keys::run_id));
    else if (*ann != std::to_string(rc.run_id))
        sink.warn("run-id", "", "manifest annotation " + std::string(keys::run_id) + " is " + show(*ann) +
                                    " but config.run_id is " + std::to_string(rc.run_id));
}

// read_status applies the status rules: the config's status is
// authoritative; the annotations should agree.
void read_status(const json& config, const PartContext& ctx, RunConfig& rc, Sink& sink) {
    const auto* st = member(config, "status");
    if (st == nullptr) return sink.fail("status", "config.status", "is required");
    if (!st->is_string()) return sink.fail("status", "config.status", "must be a string");
    if (!is_status(st->get<std::string>()))
        return sink.fail("status", "config.status", show(st->get<std::string>()) + " is not finished, failed or interrupted");
    rc.status = st->get<std::string>();
    const auto key = std::string(keys::run_status);
    for (const auto* ann : {ctx.manifest_annotations, ctx.entry_annotations}) {
        if (ann == nullptr) continue;
        const auto what = std::string(ann == ctx.manifest_annotations ? "manifest" : "index entry");
        const auto on = annotation(*ann, keys::run_status);
        if (!on && ann == ctx.manifest_annotations) sink.warn("status", "", "the manifest lacks annotation " + key);
        else if (on && *on != rc.status)
            sink.warn("status", "", what + " annotation " + key + " is " + show(*on) + " but config.status is " + rc.status);
    }
}

// read_calls applies the rules of solves and samplings (§4.2 "Solves",
// "Samplings", §4.3) to the array `key` of the config: each record read
// strictly (R::from_json), ids unique (`id` the record's id member), input
// and output in the attachments table. Findings go to the "solves" check,
// which covers both. Returns the records by ascending id.
template <class R>
std::vector<R> read_calls(const json& config, const char* key, std::int64_t R::*id, std::string_view what,
                          const RunConfig& rc, Sink& sink) {
    std::vector<R> out;
    const auto* calls = member(config, key);
    if (calls == nullptr) return out;
    const auto base = "config." + std::string(key);
    if (!calls->is_array()) return sink.fail("solves", base, "must be an array"), out;
    std::set<std::int64_t> ids;
    bool ascending = true;
    for (std::size_t i = 0; i < calls->size(); ++i) {
        const auto path = base + "[" + std::to_string(i) + "]";
        try {
            auto r = R::from_json((*calls)[i], path);
            if (!ids.insert(r.*id).second)
                sink.fail("solves", path, std::string(what) + " id " + std::to_string(r.*id) + " repeats");
            else if (ascending && *ids.rbegin() != r.*id) {
                ascending = false;  // once is enough: readers sort
                sink.warn("solves", path, std::string(what) + " id " + std::to_string(r.*id) +
                                              " comes after a larger one (writers write ids ascending)");
            }
            if (!rc.attachments.contains(r.input)) sink.fail("solves", path, "input " + show(r.input) + " is not an attachment");
            if (r.output && !rc.attachments.contains(*r.output))
                sink.fail("solves", path, "output " + show(*r.output) + " is not an attachment");
            out.push_back(std::move(r));
        } catch (const Error& e) {
            sink.fail("solves", e.subject(), e.reason());
        }
    }
    std::sort(out.begin(), out.end(), [id](const R& a, const R& b) { return a.*id < b.*id; });
    return out;
}

}  // namespace

RunConfig read_run_config(const json& config, const std::vector<oci::Descriptor>& layers, const PartContext& ctx,
                          Sink& sink) {
    RunConfig rc;
    rc.version = read_version(config, "run-config", sink);
    rc.attachments = read_table(config, layers.size(), "run-config", sink);
    check_titles(rc.attachments, layers, sink);
    check_experiment_name(config, ctx, "run-config", sink, rc.experiment);
    read_fields(config, rc, sink);
    trace_slot(config, rc.version, layers, rc, sink);
    read_run_id(config, ctx, rc, sink);
    read_status(config, ctx, rc, sink);
    rc.solves = read_calls(config, "solves", &SolveRecord::solve_id, "solve", rc, sink);
    rc.samplings = read_calls(config, "samplings", &SamplingRecord::sampling_id, "sampling", rc, sink);
    return rc;
}

AttachmentsConfig read_attachments_config(const json& config, const std::vector<oci::Descriptor>& layers,
                                          const PartContext& ctx, Sink& sink) {
    AttachmentsConfig ac;
    ac.version = read_version(config, "experiment-config", sink);
    ac.attachments = read_table(config, layers.size(), "experiment-config", sink);
    check_titles(ac.attachments, layers, sink);
    if (member(config, "experiment") == nullptr) sink.warn("experiment-config", "", "config lacks experiment (writers write it)");
    check_experiment_name(config, ctx, "experiment-config", sink, ac.experiment);
    return ac;
}

}  // namespace sealrun::format::rules
