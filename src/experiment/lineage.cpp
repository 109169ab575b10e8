// An experiment that goes on from a sealed one (docs/FORMAT.md, lineage):
// resume (from a checkpoint), load (append to a sealed experiment), fork
// (a new experiment whose index names its parent as OCI subject). The runs
// already sealed are kept as they are (their manifests reused by digest);
// only when the experiment's name changes are a run's config and manifest
// rewritten, never its attachment blobs.
#include <algorithm>

#include "sealrun/codecs/bytes.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/error.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/location/location.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "experiment/lineage.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;

namespace {

// renamed_run returns `run` as a run of experiment `name`: its config with
// "experiment" replaced and a manifest naming that config, pushed into `t`;
// the layers (attachments, trace) are the same blobs.
detail::RunEntry renamed_run(content::Target& t, const SealedRun& run, const std::string& name) {
    auto config = run.config();
    auto manifest = oci::ImageManifest::parse(content::read_all(t, run.manifest(), oci::max_manifest_size));
    config["experiment"] = name;
    auto config_bytes = oci::canonical_json(config);
    manifest.config = oci::Descriptor::for_bytes(manifest.config.media_type, config_bytes);
    if (!t.exists(manifest.config)) content::push_bytes(t, manifest.config, std::move(config_bytes));
    auto bytes = manifest.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    if (!t.exists(d)) content::push_bytes(t, d, std::move(bytes));
    d.artifact_type = manifest.artifact_type;
    return {.manifest = std::move(d), .run_id = run.run_id(), .status = run.status(), .config = detail::summary_config(config)};
}

}  // namespace

std::unique_ptr<Experiment> Experiment::open_sealed(RecordStore& store, const std::string& reference, std::string name,
                                                    ExperimentOptions options, bool as_subject) {
    content::OciLayout layout(store.root());
    const auto sealed = SealedExperiment::open(layout, reference, store.codecs());
    if (name.empty()) name = sealed.name();
    auto e = std::make_unique<Experiment>(store, name, std::move(options));
    auto& l = *e->lineage_;
    const bool rename = name != sealed.name();
    std::int64_t next = 0;
    for (const auto id : sealed.run_ids()) {
        const auto run = sealed.run(id);
        if (rename) {
            l.kept.push_back(renamed_run(layout, run, name));
        } else {
            l.kept.push_back({.manifest = run.manifest(), .run_id = id, .status = run.status(),
                              .config = detail::summary_config(run.config())});
        }
        next = std::max(next, id + 1);
    }
    l.first_run_id = next;
    if (as_subject) {
        const auto& root = sealed.descriptor();
        l.subject = oci::Descriptor{.media_type = root.media_type, .digest = root.digest, .size = root.size};
        l.subject->artifact_type = root.artifact_type;
    }
    for (const auto& [k, v] : sealed.annotations())
        if (!k.starts_with(format::keys::reserved_prefix)) e->annotations_[k] = v;
    if (const auto it = sealed.annotations().find(std::string(format::keys::checkpoint_session)); it != sealed.annotations().end())
        l.origin_session = it->second;
    // Experiment-level attachments come back into the new record, bytes and
    // media types unchanged: sealed again they are the same blobs.
    if (const auto names = sealed.attachment_names(); !names.empty()) {
        const util::ScratchDir scratch("sealrun-lineage-");
        for (const auto& n : names) {
            const auto file = sealed.write_attachment(n, scratch.path(), true);
            e->attachments_->import_file(n, file, sealed.attachment_media_type(n));
        }
    }
    if (!l.kept.empty() || !sealed.attachment_names().empty()) l.settled = false;
    return e;
}

std::unique_ptr<Experiment> Experiment::resume(RecordStore& store, std::string_view text, ExperimentOptions options) {
    // A bare tag, or a location with the sweep's tag (the checkpoint is
    // pulled from there, and checkpoints go on there).
    auto tag = std::string(text);
    std::string pull_from;
    if (const auto spec = parse_location(text); spec.transport != Transport::store) {
        if (spec.reference.empty() || oci::is_digest_reference(spec.reference))
            throw Error(Errc::invalid_input, "resume", tag, "a location to resume from names the sweep's tag (docker://HOST/REPO:TAG)");
        tag = spec.reference;
        pull_from = std::string(text.substr(0, text.size() - spec.reference.size() - 1));  // without ":TAG"
        if (options.checkpoint.remote.empty()) options.checkpoint.remote = pull_from;
    }
    const auto from = checkpoint_tag(tag);
    if (options.checkpoint.tag.empty()) options.checkpoint.tag = tag;
    detail::Lineage::check_policy(options.checkpoint);
    {
        content::OciLayout layout(store.root());
        const auto tags = layout.tags();
        const bool local = std::find(tags.begin(), tags.end(), from) != tags.end();
        // A location given is where the checkpoint comes from; a bare tag
        // takes the store's, else the remote's.
        if (pull_from.empty() && !local) pull_from = options.checkpoint.remote;
        if (!pull_from.empty()) {
            // The sweep's node (its disk) was lost, or the sweep moves here:
            // the checkpoint is copied in (only what the store lacks).
            auto src = open_location(pull_from, options.checkpoint.remote_options, false);
            content::copy(*src.target, from, layout, from, {.force = true});
        } else if (!local) {
            throw Error(Errc::not_found, "resume", tag,
                        "the store holds no checkpoint " + from + " (Experiment::load opens a committed experiment)");
        }
    }
    auto e = open_sealed(store, from, {}, std::move(options), false);
    // A SIGKILLed sweep left its last runs in the records, not in the
    // checkpoint: they are taken over, and a checkpoint now names them and
    // this process's session (a crash before the next one finds this
    // process's runs, not the dead one's).
    (void)e->adopt_left_runs(e->name_, e->lineage_->origin_session);
    (void)e->checkpoint();
    return e;
}

std::size_t Experiment::adopt_left_runs(const std::string& experiment, const std::string& session) {
    auto& l = *lineage_;
    if (session.empty() || session == options_.session) return 0;
    const std::lock_guard lock(l.mutex);
    std::size_t adopted = 0;
    // With checkpoints on, a run's record exists from its start, so the
    // dead process's runs after the checkpoint's are consecutive records.
    for (auto id = l.first_run_id + static_cast<std::int64_t>(runs_.size());; ++id) {
        auto run = std::make_unique<Run>(*store_, detail::run_identity(experiment, session, id), id, options_.clock,
                                         nullptr, &l.mutex);
        if (!run->materialized()) break;
        const auto model = run->model();
        const auto who = "run " + std::to_string(id);
        if (const auto status = model.value("status", std::string()); format::is_status(status)) {
            // Closed after the last checkpoint: model.json holds all of it.
            if (const auto p = model.find("parameters"); p != model.end() && p->is_object())
                for (const auto& [k, v] : p->items()) run->parameters_.emplace(k, parameter_from_json(v, who + " parameter " + k));
            if (const auto s = model.find("solves"); s != model.end() && s->is_array())
                for (const auto& j : *s) {
                    auto r = SolveRecord::from_json(j, who + " solves");
                    run->solves_.emplace(r.solve_id, std::move(r));
                }
            if (const auto s = model.find("samplings"); s != model.end() && s->is_array())
                for (const auto& j : *s) {
                    auto r = SamplingRecord::from_json(j, who + " samplings");
                    run->samplings_.emplace(r.sampling_id, std::move(r));
                }
            run->run_status_ = status;
        } else {
            // Open when its process died: what it saved is in the record.
            if (const auto created = model.find("created"); created != model.end() && created->is_string())
                run->started_ = created->get<std::string>();
            run->interrupt("the process recording the run died before closing it (taken over by resume)");
        }
        run->owner_ = this;
        runs_.push_back(std::move(run));
        ++adopted;
    }
    if (adopted > 0) l.settled = false;
    return adopted;
}

std::unique_ptr<Experiment> Experiment::load(RecordStore& store, std::string_view tag, ExperimentOptions options) {
    auto e = open_sealed(store, std::string(tag), {}, std::move(options), false);
    e->lineage_->origin_tag = std::string(tag);
    return e;
}

std::unique_ptr<Experiment> Experiment::fork(RecordStore& store, std::string_view tag, std::string name,
                                             ExperimentOptions options) {
    return open_sealed(store, std::string(tag), std::move(name), std::move(options), true);
}

oci::Descriptor Experiment::rename(RecordStore& store, std::string_view tag, std::string name, std::string_view new_tag,
                                   const SealOptions& options) {
    if (name.empty()) throw Error(Errc::invalid_input, "rename", std::string(tag), "the new name is empty");
    auto e = open_sealed(store, std::string(tag), std::move(name), {}, false);
    if (new_tag.empty()) new_tag = tag;
    if (new_tag == tag) e->lineage_->origin_tag = std::string(tag);  // renamed in place: the tag moves
    return e->commit(new_tag, options);
}

}  // namespace sealrun
