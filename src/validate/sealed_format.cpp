// validate(): the sealed format, a thin adapter over the rulebook
// (src/experiment/rules.h). The rules SealedExperiment and SealedRun apply
// (with a throwing sink) run here with a collecting sink; their findings
// become one check per (check name, subject), as validate.h documents.
#include "validate/validator.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "experiment/ommx_experiment.h"
#include "experiment/summary.h"

namespace sealrun::validation {

namespace rules = format::rules;

void Validator::validate_experiment(const oci::ImageIndex& index, rules::Typing typing) {
    rules::CollectingSink sink;
    const auto model = rules::read_experiment_index(index, typing, sink);
    std::string ok = "sealed experiment " + show(model.name) + " with " + plural(model.runs.size(), "run", "runs") +
                     (model.attachments ? " and experiment-level attachments" : "");
    if (typing == rules::Typing::by_annotation)
        ok += "; artifactType was dropped, typed by annotation " + std::string(format::keys::artifact_type);
    emit_findings(sink.findings, "experiment", "", "experiment", ok);

    std::vector<std::optional<std::string>> statuses;
    const auto validate_runs = [&](const std::vector<rules::RunEntry>& entries, const std::vector<oci::Descriptor>& manifests,
                                   const std::string& where) {
        for (const auto& entry : entries) {
            const auto& d = manifests[entry.index];
            RunContext ctx{.in_experiment = true, .entry_id = entry.id, .entry_error = entry.error,
                           .entry_annotations = d.annotations, .experiment_name = model.name};
            ctx.subject = entry.id ? "run " + std::to_string(*entry.id) : where + "manifests[" + std::to_string(entry.index) + "]";
            ctx.role = ctx.subject + " manifest";
            statuses.push_back(validate_part(d, Kind::run, ctx));
        }
    };
    validate_runs(model.runs, index.manifests, "");
    // A paged index: every page, its entries, then the count.
    if (!model.pages.empty()) {
        rules::CollectingSink pages;
        std::size_t found = 0;
        for (const auto& p : model.pages) {
            const auto& d = index.manifests[p.index];
            const auto where = "page " + std::to_string(p.first) + "-" + std::to_string(p.last);
            walked_.insert(key(d));
            const auto page = read_index(d, where);
            if (!page) {
                pages.fail("page", "", where + ": unreadable (see its schema and digest checks)");
                continue;
            }
            const auto entries = rules::read_page(*page, p, pages);
            found += entries.size();
            validate_runs(entries, page->manifests, where + " ");
        }
        rules::check_page_count(model, found, pages);
        emit_findings(pages.findings, "page", "", "experiment",
                      plural(model.pages.size(), "page", "pages") + " holding " + plural(found, "run", "runs") +
                          ", each within its range");
    }
    validate_summary(index, model);
    if (model.attachments) {
        const RunContext ctx{.subject = "experiment", .role = "experiment-attachments manifest", .in_experiment = true,
                             .experiment_name = model.name};
        (void)validate_part(index.manifests[*model.attachments], Kind::attachments, ctx);
    }
    for (const auto i : model.foreign) walk(index.manifests[i], "manifests[" + std::to_string(i) + "]", 1);
    if (index.subject) walk_subject(*index.subject, "index", 0);

    // The experiment's status, and whether it sums up the runs'.
    if (model.status) rules::check_status_roll_up(*model.status, statuses, sink);
    const auto status = rules::annotation(index.annotations, format::keys::experiment_status);
    emit_findings(sink.findings, "status", "", "experiment", "status " + status.value_or(""));
}

// validate_summary checks the summary entry (its manifest, its document)
// and that every row agrees with its run as validate_part read it.
void Validator::validate_summary(const oci::ImageIndex& index, const rules::ExperimentIndex& model) {
    rules::CollectingSink sink;
    if (!model.summary) {
        pass("summary", "experiment", "no summary (an archive sealed before summaries: readers open every run)");
        return;
    }
    const auto& d = index.manifests[*model.summary];
    walked_.insert(key(d));
    const auto m = read_manifest(d, "summary manifest");
    if (!m) {
        fail("summary", "experiment", "the summary manifest cannot be read (see its digest and schema checks)");
        return;
    }
    walked_.insert(key(m->config));
    (void)read_blob(m->config, 0, "summary config");
    if (rules::check_summary_manifest(*m, sink)) {
        const auto& layer = m->layers.front();
        walked_.insert(key(layer));
        const auto read = read_blob(layer, format::max_summary_size, "summary document");
        if (!read.verified) {
            sink.fail("summary", "", "the summary document cannot be read (see its digest check)");
        } else if (!read.bytes) {
            sink.fail("summary", "", std::to_string(layer.size) + " bytes pass the 256 MiB limit on summaries");
        } else {
            try {
                const auto summary = detail::parse_summary(*read.bytes, "summary");
                std::map<std::int64_t, oci::Descriptor> entries;
                for (const auto& r : model.runs)
                    if (r.id) entries.emplace(*r.id, index.manifests[r.index]);
                auto listed = model;
                if (model.pages.empty()) listed.run_count = static_cast<std::int64_t>(model.runs.size());
                rules::check_summary_index(summary, listed, model.pages.empty() ? &entries : nullptr, sink);
                for (const auto& row : summary.runs) {
                    const auto seen = runs_seen_.find(row.run_id);
                    if (seen == runs_seen_.end()) continue;
                    const auto& s = seen->second;
                    const format::RunConfig rc{.run_id = s.run_id, .status = s.status, .reason = s.reason, .parameters = s.parameters};
                    rules::check_summary_run(row, rc, oci::Descriptor{.digest = s.manifest}, s.worker, sink);
                }
            } catch (const Error& e) {
                sink.fail("summary", "", e.what());
            }
        }
    }
    emit_findings(sink.findings, "summary", "", "experiment", "summary agrees with every run");
}

std::optional<std::string> Validator::validate_part(const oci::Descriptor& d, Kind kind, const RunContext& ctx) {
    rules::CollectingSink sink;
    if (!rules::check_manifest_type(d, sink)) {
        fail("artifact-type", ctx.subject, ctx.role + ": the index entry " + sink.findings.back().message);
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        walk(d, ctx.role, 1);
        return std::nullopt;
    }
    walked_.insert(key(d));
    std::string bytes;
    const auto m = read_manifest(d, ctx.role, &bytes);
    if (!m) {
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        return std::nullopt;
    }
    return part_body(d, bytes, *m, kind, ctx, 1);
}

// read_config verifies and parses a part's config (at most
// format::max_config_size), reporting its "schema" check once.
std::optional<nlohmann::json> Validator::read_config(const oci::ImageManifest& m, const std::string& role) {
    walked_.insert(key(m.config));
    const auto read = read_blob(m.config, format::max_config_size, role);
    if (!read.verified) return std::nullopt;
    const bool first = documents_.insert(key(m.config));
    if (!read.bytes) {
        if (first)
            fail("schema", m.config.digest.str(),
                 role + ": " + std::to_string(m.config.size) + " bytes exceed the 64 MiB limit on configs");
        return std::nullopt;
    }
    try {
        auto config = rules::parse_config(*read.bytes, role);
        if (first) pass("schema", m.config.digest.str(), role + ": a JSON object");
        return config;
    } catch (const Error& e) {
        if (first) fail("schema", m.config.digest.str(), e.what());
    }
    return std::nullopt;
}

// part_body applies the rulebook's part rules (those SealedRun::open and
// SealedExperiment::attachments apply) to a parsed manifest `m` (the node
// `d`, whose verified content is `bytes`), then verifies and decodes every
// layer. Returns the run's status when it is known.
std::optional<std::string> Validator::part_body(const oci::Descriptor& d, std::string_view bytes,
                                                const oci::ImageManifest& m, Kind kind, const RunContext& ctx, int depth) {
    const bool is_run = kind == Kind::run;
    const std::string role_base = ctx.role.ends_with(" manifest") ? ctx.role.substr(0, ctx.role.size() - 9) : ctx.role;
    rules::CollectingSink sink;
    const bool config_typed = rules::check_part_manifest(m, kind, sink);
    emit_findings(sink.findings, "artifact-type", "", ctx.subject,
                  "artifactType " + std::string(is_run ? format::run_artifact_type : format::attachments_artifact_type) +
                      ", config mediaType " + std::string(is_run ? format::run_config_type : format::attachments_config_type));
    const auto config = config_typed ? read_config(m, role_base + " config") : std::nullopt;
    if (!config) {  // the rest of the graph gets the generic checks
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        walk_children(d, bytes, ctx.role, depth, m.subject);
        return std::nullopt;
    }
    const rules::PartContext pc{.entry_id = ctx.entry_id,
                                .entry_annotations = ctx.in_experiment ? &ctx.entry_annotations : nullptr,
                                .manifest_annotations = &m.annotations,
                                .experiment_name = ctx.experiment_name};
    std::optional<std::string> status;
    format::AttachmentTable table;
    std::optional<std::size_t> trace_layer;
    const auto& f = sink.findings;
    const auto attachments = [&] { return "config consistent: " + plural(table.size(), "attachment", "attachments"); };
    if (is_run) {
        const auto rc = rules::read_run_config(*config, m.layers, pc, sink);
        if (ctx.in_experiment && ctx.entry_id)  // what the summary check compares, no more
            runs_seen_.insert_or_assign(*ctx.entry_id,
                                        RunSeen{.run_id = rc.run_id, .status = rc.status, .reason = rc.reason,
                                                .parameters = rc.parameters, .manifest = d.digest,
                                                .worker = rules::run_worker(*config, m.annotations)});
        table = rc.attachments;
        trace_layer = rc.trace_layer;
        const auto params = config->find("parameters");
        emit_findings(f, "run-config", "", ctx.subject,
                      attachments() + (params != config->end() && params->is_object()
                                           ? ", " + plural(params->size(), "parameter", "parameters")
                                           : ""));
        Problems entry;
        if (ctx.entry_error) entry.fail(*ctx.entry_error);
        emit_findings(f, "run-id", "", ctx.subject, "run id " + std::to_string(rc.run_id), entry);
        if (!rc.status.empty()) status = rc.status;
        emit_findings(f, "status", "", ctx.subject, "status " + rc.status);
        emit_findings(f, "solves", "", ctx.subject,
                      rc.solves.empty() ? "no solves" : plural(rc.solves.size(), "solve", "solves") + " consistent");
    } else {
        table = rules::read_attachments_config(*config, m.layers, pc, sink).attachments;
        emit_findings(f, "experiment-config", "", ctx.subject, attachments());
    }
    // Titles: one check per attachment, then titled layers outside the table.
    std::vector<std::string> names;
    for (const auto& [name, i] : table) {
        names.push_back(name);
        emit_findings(f, "title", name, ctx.subject + ": " + name,
                      "layers[" + std::to_string(i) + "] title matches; a safe relative name");
    }
    for (const auto& finding : f)
        if (finding.check == "title" && !table.contains(finding.item))
            add("title", ctx.subject + ": " + finding.item, finding.warning, finding.warning, finding.text());
    // Names: every attachment can be written out beside the others.
    Problems np;
    for (auto& why : name_problems(names)) np.warn(std::move(why));
    if (!np.warned.empty()) emit("names", ctx.subject, np, "");
    check_layers(m, table, trace_layer, ctx, is_run);
    walk_children(d, bytes, ctx.role, depth, m.subject);  // what is left: a subject
    return status;
}

// check_layers verifies every layer of a part: attachments are decoded by
// their codec, the trace read as JSON, the rest (the empty layer) verified.
void Validator::check_layers(const oci::ImageManifest& m, const format::AttachmentTable& table,
                             std::optional<std::size_t> trace_layer, const RunContext& ctx, bool is_run) {
    const std::string role_base = ctx.role.ends_with(" manifest") ? ctx.role.substr(0, ctx.role.size() - 9) : ctx.role;
    std::map<std::size_t, std::string> named;
    for (const auto& [name, i] : table) named.emplace(i, name);
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const auto& layer = m.layers[i];
        walked_.insert(key(layer));
        if (const auto it = named.find(i); it != named.end())
            check_codec(layer, ctx.subject + ": " + it->second,
                        (is_run ? role_base : std::string("experiment")) + " attachment " + show(it->second));
        else if (trace_layer == i)
            check_trace(layer, ctx.subject, role_base + " trace");
        else
            (void)read_blob(layer, 0, role_base + " layers[" + std::to_string(i) + "]");
    }
}

// validate_ommx checks an OMMX generic artifact or OMMX 3 experiment by the
// rules OmmxArtifact and SealedExperiment open them by ("artifact-type",
// and for an experiment "experiment-config" and "run-parameters"), then
// verifies every layer and decodes each payload with its codec ("codec",
// subject "run N: name", "experiment: name" or "layer i"). The trace,
// diagnostics and run-parameter layers are verified, not decoded by codec.
void Validator::validate_ommx(const oci::Descriptor& root, const oci::ImageManifest& m) {
    namespace archive = ommx::archive;
    const auto digest = root.digest.str();
    std::map<std::size_t, std::string> subjects;
    if (m.artifact_type == archive::artifact) {
        try {
            OmmxArtifact::check_manifest(m, digest);
            pass("artifact-type", digest, "OMMX artifact with " + plural(m.layers.size(), "layer", "layers"));
        } catch (const Error& e) {
            fail("artifact-type", digest, e.reason());
        }
        (void)read_blob(m.config, 0, "config");
    } else if (m.config.media_type != archive::experiment_config) {
        fail("artifact-type", digest,
             "OMMX experiment config media type is " + m.config.media_type + ", not " + std::string(archive::experiment_config));
        (void)read_blob(m.config, 0, "config");
    } else {
        pass("artifact-type", digest, "OMMX experiment");
        const auto config_bytes = read_blob(m.config, format::max_config_size, "OMMX experiment config");
        if (config_bytes.verified && !config_bytes.bytes)
            fail("experiment-config", digest, "the config is larger than the 64 MiB readers accept");
        if (config_bytes.bytes) try {
                const auto config = detail::read_ommx_experiment_config(*config_bytes.bytes, m.layers, "config");
                pass("experiment-config", digest,
                     "OMMX experiment config, status " + config.status + ", " + plural(config.runs.size(), "run", "runs"));
                for (const auto& [name, layer] : config.attachments) subjects.emplace(layer, "experiment: " + name);
                for (const auto& [id, run] : config.runs)
                    for (const auto& [name, layer] : run.attachments)
                        subjects.emplace(layer, "run " + std::to_string(id) + ": " + name);
                const auto& table = m.layers[config.run_parameters];
                const auto role = "run-parameter table (layer " + std::to_string(config.run_parameters) + ")";
                const auto read = read_blob(table, detail::max_run_parameters_size, role);
                if (read.verified && !read.bytes) fail("run-parameters", table.digest.str(), role + ": larger than 8 MiB");
                if (read.bytes) try {
                        const auto cells = detail::read_ommx_run_parameters(*read.bytes, role);
                        detail::check_parameter_runs(cells, config, role);
                        pass("run-parameters", table.digest.str(), role + ": parameters of " + plural(cells.size(), "run", "runs"));
                    } catch (const Error& e) {
                        fail("run-parameters", table.digest.str(), e.reason());
                    }
            } catch (const Error& e) {
                fail("experiment-config", digest, e.reason());
            }
    }
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const auto& layer = m.layers[i];
        const auto role = "layer " + std::to_string(i) + " (" + layer.media_type + ")";
        const auto type = logical_media_type(layer.media_type);
        if (type == archive::run_parameters || type == archive::trace || type == archive::diagnostic) {
            (void)read_blob(layer, 0, role);
            continue;
        }
        const auto named = subjects.find(i);
        check_codec(layer, named != subjects.end() ? named->second : "layer " + std::to_string(i), role);
    }
}

}  // namespace sealrun::validation
