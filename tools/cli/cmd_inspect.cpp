// sealrun ls, show and get: reading what was sealed.
#include <iostream>
#include <mutex>

#include <sealrun/codecs/json.h>
#include <sealrun/codecs/jsonl.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/content/stream.h>
#include <sealrun/experiment/format.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/experiment/ommx_artifact.h>
#include <sealrun/experiment/sealed.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>
#include <sealrun/validate/validate.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/query.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

namespace {

// OnceTarget reads each reference and each manifest or index of `inner`
// once: show reads the root to tell what it is, then SealedExperiment reads
// it again. A reference is resolved and its manifest read together
// (content::read_reference: one GET from a registry, not a HEAD and a GET).
// Blobs pass through (fetch verifies them as ever).
class OnceTarget final : public content::ReadOnlyTarget {
public:
    explicit OnceTarget(std::unique_ptr<content::ReadOnlyTarget> inner) : inner_(std::move(inner)) {}
    oci::Descriptor resolve(std::string_view reference) override {
        const std::lock_guard lock(mutex_);
        const auto it = resolved_.find(std::string(reference));
        if (it != resolved_.end()) return it->second;
        auto [d, bytes] = content::read_reference(*inner_, reference, oci::max_manifest_size);
        resolved_.emplace(std::string(reference), d);
        documents_.emplace(d.digest.str(), std::move(bytes));
        return d;
    }
    bool exists(const oci::Descriptor& desc) override { return inner_->exists(desc); }
    std::vector<std::string> tags() override { return inner_->tags(); }

protected:
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override {
        if (!oci::is_manifest_type(desc.media_type) && !oci::is_index_type(desc.media_type)) return inner_->fetch(desc);
        const std::lock_guard lock(mutex_);
        auto it = documents_.find(desc.digest.str());
        if (it == documents_.end())
            it = documents_.emplace(desc.digest.str(), content::read_all(*inner_, desc, oci::max_manifest_size)).first;
        return std::make_unique<content::BytesStream>(it->second);
    }

private:
    std::unique_ptr<content::ReadOnlyTarget> inner_;
    std::mutex mutex_;
    std::map<std::string, oci::Descriptor> resolved_;
    std::map<std::string, std::string> documents_;  // by digest, verified when read
};

// Root is what a tag or digest names, told from its own document only: a
// sealed experiment (an index typed as one by artifactType, or by annotation
// when a tool dropped artifactType, as SealedExperiment::open accepts, or an
// OMMX experiment manifest, which SealedExperiment::open reads too), a
// sealed run, an OMMX generic artifact, or anything else.
struct Root {
    enum class Kind { experiment, run, ommx_artifact, other };
    oci::Descriptor desc;
    Kind kind = Kind::other;
    std::string artifact_type;  // the document's artifactType; empty when none
    std::string parent;         // the digest of its OCI subject (a fork's parent); empty when none
};

Root classify(content::ReadOnlyTarget& t, const oci::Descriptor& desc) {
    Root r{.desc = desc};
    const bool index = oci::is_index_type(desc.media_type);
    if (!index && !oci::is_manifest_type(desc.media_type)) return r;
    const auto doc = nlohmann::json::parse(content::read_all(t, desc, oci::max_manifest_size), nullptr, false);
    if (!doc.is_object()) return r;
    if (const auto it = doc.find("artifactType"); it != doc.end() && it->is_string()) r.artifact_type = *it;
    if (const auto it = doc.find("subject"); it != doc.end() && it->is_object())
        if (const auto d = it->find("digest"); d != it->end() && d->is_string()) r.parent = printable(d->get<std::string>());
    std::string marker;
    if (const auto a = doc.find("annotations"); a != doc.end() && a->is_object())
        if (const auto m = a->find(std::string(format::keys::artifact_type)); m != a->end() && m->is_string()) marker = *m;
    if (index && (r.artifact_type == format::experiment_artifact_type ||
                  (r.artifact_type.empty() && marker == format::experiment_artifact_type)))
        r.kind = Root::Kind::experiment;
    else if (!index && r.artifact_type == format::run_artifact_type)
        r.kind = Root::Kind::run;
    else if (!index && r.artifact_type == ommx::archive::experiment)
        r.kind = Root::Kind::experiment;
    else if (!index && r.artifact_type == ommx::archive::artifact)
        r.kind = Root::Kind::ommx_artifact;
    return r;
}

// what_it_is describes a root that is not sealrun's, for a person.
std::string what_it_is(const Root& r) {
    std::string s = printable(r.desc.media_type);
    if (!r.artifact_type.empty()) s += " (artifactType " + printable(r.artifact_type) + ")";
    return s + ", not a sealed experiment or run";
}

// config_text returns a string member of a run config, or "".
std::string config_text(const SealedRun& run, const char* key) {
    const auto& c = run.config();
    const auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// created is when an experiment was made: its org.opencontainers.image.created
// annotation when it has one, else when its first run started.
std::string created(const SealedExperiment& exp) {
    if (const auto it = exp.annotations().find("org.opencontainers.image.created"); it != exp.annotations().end())
        return it->second;
    const auto ids = exp.run_ids();
    return ids.empty() ? std::string() : config_text(exp.run(ids.front()), "started");
}

nlohmann::json or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

bool has_trace(const SealedRun& run) { return run.trace_descriptor().has_value(); }

// attachment_json describes one attachment: its logical media type, its
// compression (null when stored plain), stored size and digest.
nlohmann::json attachment_json(const Attachments& a, const std::string& name) {
    const auto& d = a.descriptor(name);
    const auto compression = a.compression(name);
    return {{"name", name},
            {"media_type", a.media_type(name)},
            {"compression", compression.empty() ? nlohmann::json(nullptr) : nlohmann::json(compression)},
            {"size", d.size},
            {"digest", d.digest.str()}};
}

// attachment_line is one attachment for a person: NAME TYPE [zstd] SIZE.
std::string attachment_line(const Attachments& a, const std::string& name) {
    const auto j = attachment_json(a, name);
    return printable(name) + "\t" + printable(j["media_type"].get<std::string>()) +
           (j["compression"].is_null() ? "" : " (" + printable(j["compression"].get<std::string>()) + ")") + "\t" + human_size(static_cast<std::uint64_t>(j["size"].get<std::int64_t>()));
}

nlohmann::json parameters_json(const SealedRun& r) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : r.parameters()) params[k] = parameter_to_json(v);
    return params;
}

nlohmann::json solves_json(const SealedRun& r) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : r.solves()) out.push_back(s.to_json());
    return out;
}

nlohmann::json samplings_json(const SealedRun& r) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : r.samplings()) out.push_back(s.to_json());
    return out;
}

// run_json is one run in detail (show --run, show of a run manifest).
nlohmann::json run_json(const SealedRun& r) {
    nlohmann::json atts = nlohmann::json::array();
    for (const auto& n : r.attachment_names()) atts.push_back(attachment_json(r.attachments(), n));
    return {{"kind", "run"},
            {"experiment", or_null(config_text(r, "experiment"))},
            {"run_id", r.run_id()},
            {"digest", r.manifest().digest.str()},
            {"status", r.status()},
            {"reason", or_null(r.reason())},
            {"started", or_null(config_text(r, "started"))},
            {"ended", or_null(config_text(r, "ended"))},
            {"parameters", parameters_json(r)},
            {"solves", solves_json(r)},
            {"samplings", samplings_json(r)},
            {"has_trace", has_trace(r)},
            {"trace", r.trace_descriptor() ? nlohmann::json{{"size", r.trace_descriptor()->size},
                                                            {"digest", r.trace_descriptor()->digest.str()}}
                                           : nlohmann::json(nullptr)},
            {"attachments", atts}};
}

// print_run shows one run in detail: a line for the run (status, reason,
// parameters), one per attachment, one per solve, one for the trace.
void print_run(const SealedRun& r) {
    std::cout << "run " << r.run_id();
    if (const auto e = config_text(r, "experiment"); !e.empty()) std::cout << " of " << printable(e);
    std::cout << "  " << printable(r.status());
    if (!r.reason().empty()) std::cout << ": " << printable(r.reason());
    if (!r.parameters().empty()) std::cout << "  " << param_text(r.parameters());
    std::cout << "\n";
    for (const auto& n : r.attachment_names()) std::cout << "  " << attachment_line(r.attachments(), n) << "\n";
    for (const auto& s : r.solves()) {
        std::cout << "  solve " << s.solve_id << "  " << printable(s.status) << "  " << printable(s.adapter) << "  "
                  << printable(s.input) << " -> " << (s.output ? printable(*s.output) : std::string("-")) << "\n";
    }
    for (const auto& s : r.samplings()) {
        std::cout << "  sampling " << s.sampling_id << "  " << printable(s.status) << "  " << printable(s.adapter) << "  "
                  << printable(s.input) << " -> " << (s.output ? printable(*s.output) : std::string("-")) << "\n";
    }
    if (const auto& t = r.trace_descriptor())
        std::cout << "  trace\t" << human_size(static_cast<std::uint64_t>(t->size)) << "\t" << t->digest.str() << "\n";
}

// Selection is what show's --status, --where and --sort ask for.
struct Selection {
    std::vector<std::string> statuses;
    std::vector<Condition> where;
    std::optional<SortKey> sort;
    bool any() const { return !statuses.empty() || !where.empty() || sort; }
};

Selection selection(const Args& a) {
    Selection s;
    if (const auto it = a.options.find("--status"); it != a.options.end())
        for (const auto& v : it->second) {
            if (!format::is_status(v)) throw UsageError("--status is finished, failed or interrupted, not \"" + v + "\"");
            s.statuses.push_back(v);
        }
    if (const auto it = a.options.find("--where"); it != a.options.end())
        for (const auto& v : it->second) s.where.push_back(parse_condition(v));
    if (const auto k = a.get("--sort")) s.sort = parse_sort_key(*k);
    return s;
}

// max_sort_read bounds the stored size of an attachment --sort decodes.
constexpr std::int64_t max_sort_read = std::int64_t{16} << 20;

// sort_json reads a run's attachment as JSON for --sort; nullopt when the
// run lacks it, it is larger than max_sort_read, or it is not JSON.
std::optional<nlohmann::json> sort_json(const SealedRun& r, const std::string& name) {
    if (!r.attachments().contains(name) || r.attachments().descriptor(name).size > max_sort_read) return std::nullopt;
    auto doc = nlohmann::json::parse(r.get_blob(name), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    return doc;
}

std::string value_text(const std::optional<nlohmann::json>& v) {
    if (!v) return "-";
    return printable(v->is_string() ? v->get<std::string>() : json_text(*v));
}

// ommx_layer_json describes layer `i` of an OMMX artifact: its index (the
// name get takes), logical media type, compression, size, digest and OMMX
// annotations (org.ommx.*).
nlohmann::json ommx_layer_json(const OmmxArtifact& art, std::size_t i) {
    const auto name = std::to_string(i);
    const auto& d = art.layer(i);
    const auto compression = art.attachment_compression(name);
    nlohmann::json annotations = nlohmann::json::object();
    for (const auto& [k, v] : art.layer_annotations(name)) annotations[k] = v;
    return {{"index", i},
            {"media_type", art.attachment_media_type(name)},
            {"compression", compression.empty() ? nlohmann::json(nullptr) : nlohmann::json(compression)},
            {"size", d.size},
            {"digest", d.digest.str()},
            {"annotations", annotations}};
}

int show_ommx_artifact(const Location& loc, const Root& root, bool json) {
    const auto art = OmmxArtifact::open(*loc.target, root.desc);
    if (json) {
        nlohmann::json annotations = nlohmann::json::object();
        for (const auto& [k, v] : art.annotations()) annotations[k] = v;
        nlohmann::json layers = nlohmann::json::array();
        for (std::size_t i = 0; i < art.layer_count(); ++i) layers.push_back(ommx_layer_json(art, i));
        std::cout << json_text({{"kind", "ommx-artifact"}, {"digest", root.desc.digest.str()},
                                {"media_type", root.desc.media_type}, {"artifact_type", root.artifact_type},
                                {"size", graph_bytes(*loc.target, root.desc)}, {"annotations", annotations},
                                {"layers", layers}})
                  << "\n";
        return exit_ok;
    }
    std::cout << "OMMX artifact  " << art.layer_count() << (art.layer_count() == 1 ? " layer  " : " layers  ")
              << root.desc.digest.str() << "\n";
    for (const auto& [k, v] : art.annotations()) std::cout << "annotation " << printable(k) << "=" << printable(v) << "\n";
    std::cout << "LAYER\tTYPE\tSIZE\tDIGEST\tANNOTATIONS\n";
    for (std::size_t i = 0; i < art.layer_count(); ++i) {
        const auto j = ommx_layer_json(art, i);
        std::string notes;
        for (const auto& [k, v] : j["annotations"].items())
            notes += (notes.empty() ? "" : " ") + printable(k) + "=" + printable(v.get<std::string>());
        std::cout << i << "\t" << printable(j["media_type"].get<std::string>())
                  << (j["compression"].is_null() ? "" : " (" + printable(j["compression"].get<std::string>()) + ")") << "\t"
                  << human_size(static_cast<std::uint64_t>(art.layer(i).size)) << "\t" << art.layer(i).digest.str() << "\t"
                  << notes << "\n";
    }
    return exit_ok;
}

// ShowRow is one run as show lists it: its row of the experiment summary
// (no run opened; not copied, so listing costs no more than the summary),
// or a row made from the run itself when the experiment has no summary (an
// older archive). The run is opened only when details are asked for.
struct ShowRow {
    const SummaryRow* row = nullptr;
    std::unique_ptr<SealedRun> run;
};

SummaryRow summary_row_of(const SealedRun& r) {
    SummaryRow row{.run_id = r.run_id(), .status = r.status(), .parameters = r.parameters(), .manifest = r.manifest().digest.str()};
    if (!r.reason().empty()) row.reason = r.reason();
    if (const auto it = r.config().find("worker"); it != r.config().end() && it->is_string()) row.worker = it->get<std::string>();
    return row;
}

// keys is what --where and a plain --sort KEY look up: the run's parameters,
// then the summary's chosen values (a parameter of the same name wins).
std::map<std::string, Parameter> keys_of(const SummaryRow& r) {
    auto out = r.parameters;
    for (const auto& [k, v] : r.values) out.emplace(k, v);
    return out;
}

// summary_value_of returns the summary's name for the value an
// ATTACHMENT:/POINTER sort key reads ("result.json:/loss" is the summary's
// "result.json:/loss" or "result.json:loss"), or nullopt when the summary
// does not carry it.
std::optional<std::string> summary_value_of(const SortKey& k, const ExperimentSummary* s) {
    if (s == nullptr || k.attachment.empty()) return std::nullopt;
    std::vector<std::string> names = {k.attachment + ":" + k.pointer.to_string()};
    if (!k.pointer.empty() && k.pointer.parent_pointer().empty()) names.push_back(k.attachment + ":" + k.pointer.back());
    for (const auto& n : names)
        if (std::find(s->values.begin(), s->values.end(), n) != s->values.end()) return n;
    return std::nullopt;
}

int show_experiment(const Location& loc, const Root& root, const Selection& sel, bool json, bool details) {
    const auto exp = SealedExperiment::open(*loc.target, loc.reference);
    const auto* summary = exp.summary();
    std::vector<SummaryRow> opened;  // an archive without a summary: its rows, made from the runs
    std::vector<ShowRow> rows;
    if (summary != nullptr) {
        rows.reserve(summary->runs.size());
        for (const auto& s : summary->runs) rows.push_back({.row = &s});
    } else {
        details = true;  // an archive sealed before summaries: every run is opened, as it always was
        auto runs = exp.runs();
        opened.reserve(runs.size());
        for (auto& r : runs) {
            opened.push_back(summary_row_of(r));
            rows.push_back({.row = &opened.back(), .run = std::make_unique<SealedRun>(std::move(r))});
        }
    }
    const auto total = exp.run_count();
    std::erase_if(rows, [&](const ShowRow& sr) {
        const auto& r = *sr.row;
        if (!sel.statuses.empty() && std::find(sel.statuses.begin(), sel.statuses.end(), r.status) == sel.statuses.end())
            return true;
        const auto keys = keys_of(r);
        return !std::all_of(sel.where.begin(), sel.where.end(), [&](const Condition& c) { return matches(c, keys); });
    });
    // A sort on an attachment value the summary does not carry reads it from
    // the runs: only the runs left after --status and --where are opened.
    const auto sort_from_summary = sel.sort ? summary_value_of(*sel.sort, summary) : std::nullopt;
    const bool sort_reads_runs = sel.sort && !sel.sort->attachment.empty() && !sort_from_summary;
    if (details || sort_reads_runs)
        for (auto& r : rows)
            if (!r.run) r.run = std::make_unique<SealedRun>(exp.run(r.row->run_id));
    std::vector<Keyed> order;
    order.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = *rows[i].row;
        std::optional<nlohmann::json> value;
        if (sort_from_summary) {
            if (const auto it = r.values.find(*sort_from_summary); it != r.values.end()) value = parameter_to_json(it->second);
        } else if (sel.sort) {
            value = sort_value(*sel.sort, keys_of(r), [&](const std::string& n) { return sort_json(*rows[i].run, n); });
        }
        order.push_back({static_cast<std::int64_t>(i), std::move(value)});
    }
    if (sel.sort) sort_keyed(order, sel.sort->descending);  // run_id holds the position in `rows`
    const std::vector<std::string> value_names = summary != nullptr ? summary->values : std::vector<std::string>{};
    const auto& atts = exp.attachments();
    if (json) {
        nlohmann::json annotations = nlohmann::json::object();
        for (const auto& [k, v] : exp.annotations()) annotations[k] = v;
        nlohmann::json shared = nlohmann::json::array();
        for (const auto& n : atts.names()) shared.push_back(attachment_json(atts, n));
        // The runs are printed one at a time (JsonArrayPrinter), not built
        // into one document first.
        JsonArrayPrinter out(std::cout,
                             {{"kind", "experiment"}, {"name", exp.name()}, {"status", exp.status()},
                              {"digest", root.desc.digest.str()}, {"parent", or_null(root.parent)},
                              {"annotations", annotations}, {"attachments", shared}, {"run_count", total},
                              {"summary", summary != nullptr}, {"values", value_names}, {"details", details}},
                             "runs");
        for (const auto& o : order) {
            const auto& sr = rows[static_cast<std::size_t>(o.run_id)];
            const auto& r = *sr.row;
            nlohmann::json params = nlohmann::json::object();
            for (const auto& [k, v] : r.parameters) params[k] = parameter_to_json(v);
            nlohmann::json values = nlohmann::json::object();
            for (const auto& [k, v] : r.values) values[k] = parameter_to_json(v);
            nlohmann::json row = {{"run_id", r.run_id}, {"status", r.status},    {"reason", r.reason.value_or("")},
                                  {"parameters", params}, {"values", values}, {"digest", r.manifest}};
            if (r.worker) row["worker"] = *r.worker;
            if (details) {
                const auto& run = *sr.run;
                row["solves"] = solves_json(run);
                row["samplings"] = samplings_json(run);
                row["has_trace"] = has_trace(run);
                row["attachments"] = run.attachment_names().size();
                row["size"] = attachment_bytes(run);
            }
            if (sel.sort) row["sort_value"] = o.value ? *o.value : nlohmann::json(nullptr);
            out.element(row);
        }
        out.finish();
        return exit_ok;
    }
    std::cout << "experiment " << printable(exp.name()) << "  " << printable(exp.status()) << "  "
              << root.desc.digest.str() << "\n";
    if (!root.parent.empty()) std::cout << "parent " << root.parent << "\n";
    std::cout << "runs " << total;
    if (rows.size() != total) std::cout << " (" << rows.size() << " shown)";
    std::cout << "\n";
    for (const auto& [k, v] : exp.annotations())
        if (!k.starts_with("vnd.sealrun.")) std::cout << "annotation " << printable(k) << "=" << printable(v) << "\n";
    for (const auto& n : atts.names()) std::cout << "attachment " << attachment_line(atts, n) << "\n";
    std::cout << "RUN\tSTATUS\t" << (sel.sort ? printable(sel.sort->text) + "\t" : "")
              << (details ? "FILES\tSIZE\tSOLVES\tTRACE\t" : "") << "PARAMETERS\t";
    for (const auto& v : value_names) std::cout << printable(v) << "\t";
    std::cout << "REASON\n";
    for (const auto& o : order) {
        const auto& sr = rows[static_cast<std::size_t>(o.run_id)];
        const auto& r = *sr.row;
        std::cout << r.run_id << "\t" << printable(r.status) << "\t" << (sel.sort ? value_text(o.value) + "\t" : "");
        if (details)
            std::cout << sr.run->attachment_names().size() << "\t" << human_size(attachment_bytes(*sr.run)) << "\t"
                      << sr.run->solves().size() << "\t" << (has_trace(*sr.run) ? "yes" : "-") << "\t";
        std::cout << param_text(r.parameters) << "\t";
        for (const auto& v : value_names) {
            const auto it = r.values.find(v);
            std::cout << (it == r.values.end() ? std::string("-") : value_text(parameter_to_json(it->second))) << "\t";
        }
        std::cout << printable(r.reason.value_or("")) << "\n";
    }
    return exit_ok;
}

}  // namespace

int cmd_ls(const Args& a, const Globals& g) {
    need(a, 0, 0, "sealrun ls [--json]");
    auto reader = open_reader(g.store, true);
    auto& store = *reader;
    nlohmann::json out = nlohmann::json::array();
    int rc = exit_ok;
    for (const auto& t : store.tags()) {
        nlohmann::json e = {{"tag", t}, {"digest", nullptr}, {"media_type", nullptr}, {"kind", nullptr},
                            {"name", nullptr}, {"status", nullptr}, {"runs", nullptr}, {"created", nullptr},
                            {"size", nullptr}};
        std::string note;
        try {
            const auto desc = store.resolve(t);
            e["digest"] = desc.digest.str();
            e["media_type"] = desc.media_type;
            const auto root = classify(store, desc);
            if (root.kind == Root::Kind::experiment) {
                const auto exp = SealedExperiment::open(store, t);
                e["kind"] = "experiment";
                e["name"] = exp.name();
                e["status"] = exp.status();
                e["runs"] = exp.run_count();  // the index says it: no page or summary read
                e["created"] = or_null(created(exp));
            } else if (root.kind == Root::Kind::run) {
                const auto run = SealedRun::open(store, desc);
                e["kind"] = "run";
                e["name"] = or_null(config_text(run, "experiment"));
                e["status"] = run.status();
                e["runs"] = 1;
                e["run_id"] = run.run_id();
                e["created"] = or_null(config_text(run, "started"));
                e["note"] = lone_run_note(run);
                note = "run " + std::to_string(run.run_id()) + " only, not the experiment (skopeo copy without --all?)";
            } else {
                e["kind"] = "other";
                if (!root.artifact_type.empty()) e["artifact_type"] = root.artifact_type;
                note = what_it_is(root);
                if (root.kind == Root::Kind::ommx_artifact) {
                    const auto n = OmmxArtifact::open(store, desc).layer_count();
                    note = "OMMX artifact, " + std::to_string(n) + (n == 1 ? " layer" : " layers") + " (sealrun show lists them)";
                }
            }
            e["size"] = graph_bytes(store, desc);
        } catch (const Error& err) {
            e["error"] = err.what();
            std::cerr << "sealrun: " << printable(t) << ": " << printable(err.what()) << "\n";
            rc = exit_failed;
        }
        if (g.json) {
            out.push_back(std::move(e));
            continue;
        }
        const auto cell = [](const nlohmann::json& v) {
            return v.is_null() ? std::string("-") : printable(v.is_string() ? v.get<std::string>() : json_text(v));
        };
        std::string runs = "-";
        if (e["kind"] == "experiment") runs = cell(e["runs"]) + (e["runs"] == 1 ? " run" : " runs");
        std::cout << printable(t) << "\t" << cell(e["name"]) << "\t" << cell(e["status"]) << "\t"
                  << (note.empty() ? runs : printable(note)) << "\t" << cell(e["created"]) << "\t"
                  << (e["size"].is_null() ? "-" : human_size(e["size"].get<std::uint64_t>())) << "\t" << cell(e["digest"])
                  << "\n";
    }
    if (g.json) std::cout << json_text(out) << "\n";
    return rc;
}

int cmd_show(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun show SRC [--run ID] [--runs] [--status S] [--where 'KEY OP VALUE'] [--sort [-]KEY] [--json]");
    const auto sel = selection(a);
    std::optional<std::int64_t> run_id;
    if (const auto v = a.get("--run")) run_id = parse_run_id(*v);
    if (run_id && sel.any()) throw UsageError("--status, --where and --sort choose runs of an experiment; --run shows one run");
    const bool details = a.has("--runs");
    if (run_id && details) throw UsageError("--runs details every run of an experiment; --run shows one run");
    auto loc = open_location(a.positional[0], g, false);
    if (loc.reference.empty()) throw UsageError("show needs a tag or digest: " + loc.text);
    loc.target = std::make_unique<OnceTarget>(std::move(loc.target));
    const auto root = classify(*loc.target, loc.target->resolve(loc.reference));
    const bool json = g.json || a.has("--json");
    if (root.kind == Root::Kind::ommx_artifact) {
        if (run_id || sel.any())
            throw UsageError(printable(loc.reference) + " is an OMMX artifact; --run, --status, --where and --sort choose runs of an experiment");
        return show_ommx_artifact(loc, root, json);
    }
    if (root.kind == Root::Kind::other) {
        if (json) {
            nlohmann::json j = {{"kind", "other"}, {"digest", root.desc.digest.str()}, {"media_type", root.desc.media_type},
                                {"size", graph_bytes(*loc.target, root.desc)}};
            if (!root.artifact_type.empty()) j["artifact_type"] = root.artifact_type;
            std::cout << json_text(j) << "\n";
        } else {
            std::cout << printable(loc.reference) << ": " << what_it_is(root) << "  "
                      << human_size(graph_bytes(*loc.target, root.desc)) << "  " << root.desc.digest.str() << "\n";
        }
        return exit_ok;
    }
    if (root.kind == Root::Kind::run) {
        const auto run = SealedRun::open(*loc.target, root.desc);
        if (sel.any()) throw UsageError(printable(loc.reference) + " is one run; --status, --where and --sort choose runs of an experiment");
        if (run_id && *run_id != run.run_id())
            throw Error(Errc::not_found, "show", loc.reference,
                        "holds run " + std::to_string(run.run_id()) + " only, not run " + std::to_string(*run_id));
        // A tag naming one run is a copy that kept one manifest of an index;
        // a digest is a run the user picked on purpose.
        const bool lone = !oci::is_digest_reference(loc.reference);
        if (json) {
            auto j = run_json(run);
            if (lone) j["note"] = lone_run_note(run);
            std::cout << json_text(j) << "\n";
        } else {
            if (lone) std::cout << "note: " << lone_run_note(run) << "\n";
            print_run(run);
        }
        return exit_ok;
    }
    if (run_id) {
        const auto exp = SealedExperiment::open(*loc.target, loc.reference);
        const auto run = exp.run(*run_id);
        if (json) std::cout << json_text(run_json(run)) << "\n";
        else print_run(run);
        return exit_ok;
    }
    return show_experiment(loc, root, sel, json, details);
}

namespace {

// decoded_json renders attachment `name` of `from` as JSON for get --decode
// json: an OMMX payload (v1 or v2) through protobuf's JSON mapping
// (ommx::Payload::to_json), a JSON document as itself, JSON lines as an
// array of their values. Anything else is Error(unsupported) naming the
// media type.
nlohmann::json decoded_json(const Attachments& from, const std::string& name, const std::string& shown) {
    const auto type = from.media_type(name);
    namespace mt = ommx::media_types;
    if (type == mt::instance || type == mt::instance_v2) return from.instance(name).to_json();
    if (type == mt::parametric_instance || type == mt::parametric_instance_v2) return from.parametric_instance(name).to_json();
    if (type == mt::solution || type == mt::solution_v2) return from.solution(name).to_json();
    if (type == mt::sample_set || type == mt::sample_set_v2) return from.sample_set(name).to_json();
    if (type == codecs::JsonCodec::media_type || type == codecs::JsonLinesCodec::media_type) {
        const auto value = from.value(name);
        if (value.is<nlohmann::json>()) return value.as<nlohmann::json>();
        if (value.is<std::vector<nlohmann::json>>()) return nlohmann::json(value.as<std::vector<nlohmann::json>>());
    }
    throw Error(Errc::unsupported, "get", shown,
                "has media type " + printable(type) +
                    ", which --decode json does not render (OMMX payloads, JSON and JSON lines are); get without --decode writes its bytes");
}

}  // namespace

int cmd_get(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun get SRC [--run ID] NAME [-o PATH] [--decode json]");
    std::optional<std::int64_t> run_id;
    if (const auto id = a.get("--run")) run_id = parse_run_id(*id);
    const auto decode = a.get("--decode");
    if (decode && *decode != "json") throw UsageError("--decode takes json, not \"" + *decode + "\"");
    if (decode && a.has("-o")) throw UsageError("--decode json prints to stdout; redirect it (> FILE) instead of -o");
    auto loc = open_location(a.positional[0], g, false);
    if (loc.reference.empty()) throw UsageError("get needs a tag or digest: " + loc.text);
    std::string name = a.positional[1];
    // SRC names an experiment (NAME is one of its attachments, or of run
    // --run ID), one run (a run manifest: no --run needed), or an OMMX
    // artifact (NAME is a layer's index or digest).
    const auto root = classify(*loc.target, loc.target->resolve(loc.reference));
    std::optional<SealedExperiment> exp;
    std::optional<SealedRun> run;
    std::optional<OmmxArtifact> art;
    const Attachments* from = nullptr;
    if (root.kind == Root::Kind::ommx_artifact) {
        if (run_id) throw UsageError(loc.text + " is an OMMX artifact, which has no runs; name a layer by index or digest");
        art = OmmxArtifact::open(*loc.target, root.desc);
        name = std::to_string(art->layer_index(name));
        from = &art->attachments();
    } else if (root.kind == Root::Kind::run || (root.kind == Root::Kind::other && oci::is_manifest_type(root.desc.media_type))) {
        run = SealedRun::open(*loc.target, loc.reference);
        if (run_id && *run_id != run->run_id())
            throw UsageError(loc.text + " is run " + std::to_string(run->run_id()) + " alone, not run " + std::to_string(*run_id));
        from = &run->attachments();
    } else {
        exp = SealedExperiment::open(*loc.target, loc.reference);
        if (run_id) {
            run = exp->run(*run_id);
            from = &run->attachments();
        } else {
            from = &exp->attachments();
            if (!from->contains(name))
                throw Error(Errc::not_found, "get", name,
                            "no experiment-level attachment of that name in " + loc.text +
                                " (pass --run ID for a run's attachment)");
        }
    }
    if (decode) {
        std::cout << json_text(decoded_json(*from, name, a.positional[1])) << "\n" << std::flush;
        return exit_ok;
    }
    if (auto out = a.get("-o")) {
        fs::path path = *out;
        std::error_code ec;
        if (out->ends_with('/')) fs::create_directories(path, ec);
        else make_parent_dirs(path);
        if (ec) throw Error(Errc::io, "create directory", path.string(), ec.message());
        fs::path written;
        try {
            written = from->write(name, path, a.has("--overwrite"));
        } catch (const Error& e) {
            if (e.code() != Errc::already_exists) throw;
            throw Error(e.code(), e.operation(), e.subject(), e.reason() + "; pass --overwrite to replace it");
        }
        if (!g.quiet) std::cerr << printable(written.string()) << "\n";
        return exit_ok;
    }
    const auto bytes = from->blob(name);  // verified before a byte is written
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return exit_ok;
}

}  // namespace sealrun::cli
