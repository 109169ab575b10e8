// Converting an OMMX experiment into a sealrun experiment: the OMMX view
// (SealedExperiment::open) is replayed through the recording API (Experiment,
// Run) and sealed by Experiment::commit, so the result is exactly what
// sealrun itself writes, checked by the same rules.
#include "sealrun/experiment/convert.h"

#include <filesystem>
#include <variant>

#include "sealrun/codecs/bytes.h"
#include "sealrun/error.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/records/record.h"

#include "experiment/ommx_experiment.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;

namespace {

// epoch stands for the times OMMX does not record when the manifest has no
// creation time either.
constexpr std::string_view epoch = "1970-01-01T00:00:00Z";

// copy_attachment streams attachment `name` of `from` into `to` through a
// file under `scratch`, keeping its logical media type.
void copy_attachment(const Attachments& from, const std::string& name, Record& to, const fs::path& scratch) {
    const auto file = scratch / "blob";
    std::error_code ec;
    fs::remove(file, ec);
    from.write(name, file, true);
    to.import_file(name, file, from.media_type(name));
    fs::remove(file, ec);
}

// keep saves `bytes` verbatim as the experiment-level attachment `name`.
void keep(Experiment& exp, std::string_view name, std::string bytes, std::string_view media_type, Converted& out) {
    exp.attachments().save_file(std::string(name), codecs::Bytes{std::move(bytes)}, media_type);
    out.kept.emplace_back(name);
    ++out.attachments;
}

}  // namespace

Converted convert_experiment(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                             std::string_view tag, const fs::path& scratch, const ConvertOptions& options) {
    const std::string who(reference);
    auto& codecs = options.codecs != nullptr ? *options.codecs : CodecRegistry::global();
    // Only an OMMX experiment converts: told from its own manifest.
    const auto root = src.resolve(reference);
    if (!oci::is_manifest_type(root.media_type))
        throw Error(Errc::invalid_input, "convert", who,
                    "is not an OMMX experiment (an OCI " + root.media_type + "; a sealrun experiment needs no conversion)");
    const auto manifest_bytes = content::read_all(src, root, oci::max_manifest_size);
    const auto manifest = oci::ImageManifest::parse(manifest_bytes);
    if (!detail::is_ommx_experiment(manifest))
        throw Error(Errc::invalid_input, "convert", who,
                    "is not an OMMX experiment (artifactType " +
                        manifest.artifact_type.value_or("none") +
                        ", not " + std::string(ommx::archive::experiment) + ")");
    const auto exp_view = SealedExperiment::open(src, reference, codecs);
    const auto config_bytes = content::read_all(src, manifest.config, format::max_config_size);
    const auto config = detail::read_ommx_experiment_config(config_bytes, manifest.layers, who);
    const auto& params_layer = manifest.layers.at(config.run_parameters);
    const auto params_bytes = content::read_all(src, params_layer, detail::max_run_parameters_size);

    Converted out;
    out.name = !options.name.empty() ? options.name : !exp_view.name().empty() ? exp_view.name() : std::string(tag);
    std::string time = options.time;
    if (time.empty()) {
        const auto it = manifest.annotations.find("org.opencontainers.image.created");
        time = it != manifest.annotations.end() ? it->second : std::string(epoch);
    }
    const auto blobs = scratch / "blobs";
    std::error_code ec;
    fs::create_directories(blobs, ec);
    if (ec) throw Error(Errc::io, "create directory", blobs.string(), ec.message());
    // Scratch records are removed by the caller: no fsync for them.
    RecordStore records(scratch / "records", codecs, RecordStoreOptions{.skip_fsync = true});
    Experiment exp(records, out.name, ExperimentOptions{.clock = [time] { return time; }, .session = "convert"});

    for (const auto& [k, v] : exp_view.annotations())
        if (!k.starts_with(format::keys::reserved_prefix)) exp.annotate(k, v);
    const auto& shared = exp_view.attachments();
    for (const auto& name : shared.names()) {
        for (const auto kept : {ommx_kept::manifest, ommx_kept::config, ommx_kept::run_parameters})
            if (name == kept)
                throw Error(Errc::invalid_input, "convert", who,
                            "has an experiment attachment named " + name + ", the name the conversion keeps OMMX's " +
                                "own document under; rename it in OMMX first");
        copy_attachment(shared, name, exp.attachments(), blobs);
        ++out.attachments;
    }
    keep(exp, ommx_kept::manifest, manifest_bytes, "application/json", out);
    keep(exp, ommx_kept::config, config_bytes, "application/json", out);
    keep(exp, ommx_kept::run_parameters, params_bytes, params_layer.media_type, out);

    // Runs are replayed in id order; ids count from 0 in both formats, so a
    // gap in OMMX's ids is refused rather than renumbered silently.
    for (const auto& run_view : exp_view.runs()) {
        Run& run = exp.run();
        if (run.run_id() != run_view.run_id())
            throw Error(Errc::invalid_input, "convert", who,
                        "run ids must count from 0 without gaps to convert (found run " +
                            std::to_string(run_view.run_id()) + " where run " + std::to_string(run.run_id()) +
                            " belongs)");
        for (const auto& [k, v] : run_view.parameters()) run.log_parameter(k, v);
        const auto& atts = run_view.attachments();
        for (const auto& name : run_view.attachment_names()) {
            copy_attachment(atts, name, run, blobs);
            ++out.attachments;
        }
        for (auto s : run_view.solves()) run.log_solve(std::move(s));
        for (auto s : run_view.samplings()) run.log_sampling(std::move(s));
        const auto& status = run_view.status();
        if (status == "finished") run.finish();
        else if (status == "failed") run.fail(run_view.reason());
        else run.interrupt(run_view.reason());
        ++out.runs;
    }
    out.root = exp.commit(dst, tag, SealOptions{.compress = options.compress, .force = options.force});
    return out;
}

Converted convert_experiment(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                             std::string_view tag, const ConvertOptions& options) {
    const util::ScratchDir scratch("sealrun-convert-");
    return convert_experiment(src, reference, dst, tag, scratch.path(), options);
}

}  // namespace sealrun
