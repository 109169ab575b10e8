#pragma once
/// The names sealrun's archive format is made of (docs/FORMAT.md is the
/// normative description).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealrun::format {

/// artifactType of a sealed run's image manifest.
inline constexpr std::string_view run_artifact_type = "application/vnd.sealrun.run.v1";
/// mediaType of a sealed run's config blob.
inline constexpr std::string_view run_config_type = "application/vnd.sealrun.run.config.v1+json";
/// artifactType of a sealed experiment's image index.
inline constexpr std::string_view experiment_artifact_type = "application/vnd.sealrun.experiment.v1";
/// artifactType of the manifest holding experiment-level attachments.
inline constexpr std::string_view attachments_artifact_type = "application/vnd.sealrun.experiment.attachments.v1";
/// mediaType of the experiment-attachments config blob.
inline constexpr std::string_view attachments_config_type = "application/vnd.sealrun.experiment.config.v1+json";
/// mediaType of the layer holding a run's trace (config version 2 on). The
/// trace is not an attachment: it has no title, is not in the attachments
/// table, and the run config's "trace" member is its layer index.
inline constexpr std::string_view trace_type = "application/vnd.sealrun.trace.v1+json";
/// artifactType of the experiment summary manifest (the index entry
/// `vnd.sealrun.part` = summary): a compact table of every run.
inline constexpr std::string_view summary_artifact_type = "application/vnd.sealrun.experiment.summary.v1";
/// mediaType of the summary manifest's one layer, the summary document.
inline constexpr std::string_view summary_type = "application/vnd.sealrun.experiment.summary.v1+json";
/// artifactType of a page of the run list (an image index of run entries).
inline constexpr std::string_view page_artifact_type = "application/vnd.sealrun.experiment.page.v1";
/// summary_version is the `version` of the summary document.
inline constexpr int summary_version = 1;
/// max_summary_size is the largest summary document readers accept (and
/// writers write): 256 MiB.
inline constexpr std::size_t max_summary_size = std::size_t{256} << 20;

/// Annotation keys. Tools that drop OCI 1.1 artifactType fields (skopeo 1.9
/// rewriting an index) keep annotations, so the index says what it is and
/// what each entry is in annotations too.
namespace keys {
/// reserved_prefix starts every key reserved for this format; user
/// annotations may not use it (Experiment::annotate refuses them).
inline constexpr std::string_view reserved_prefix = "vnd.sealrun.";
inline constexpr std::string_view artifact_type = "vnd.sealrun.artifact-type";
inline constexpr std::string_view experiment_name = "vnd.sealrun.experiment.name";
inline constexpr std::string_view experiment_status = "vnd.sealrun.experiment.status";
/// experiment_reason says why a failed or interrupted checkpoint ended its
/// sweep (a signal's name, an exception's message).
inline constexpr std::string_view experiment_reason = "vnd.sealrun.experiment.reason";
/// checkpoint_session is carried by a checkpoint index (never a committed
/// one): the record session of the process that wrote it, so that resume
/// finds the runs that process left in the store's records (docs/FORMAT.md,
/// checkpoints).
inline constexpr std::string_view checkpoint_session = "vnd.sealrun.checkpoint.session";
inline constexpr std::string_view part = "vnd.sealrun.part";
inline constexpr std::string_view run_id = "vnd.sealrun.run.id";
inline constexpr std::string_view run_status = "vnd.sealrun.run.status";
/// run_worker is the key a run contributed by a worker carries (run
/// manifests, index entries): the worker's own id (collect).
inline constexpr std::string_view run_worker = "vnd.sealrun.run.worker";
/// run_worker_run_id is carried by a run manifest collect() renumbered: the
/// run id its worker recorded, so a later collect matches it to its
/// contribution by worker and local id.
inline constexpr std::string_view run_worker_run_id = "vnd.sealrun.run.worker-run-id";
/// experiment_runs is the root index's total run count (decimal), paged or not.
inline constexpr std::string_view experiment_runs = "vnd.sealrun.experiment.runs";
/// page_first and page_last are a page entry's first and last run id.
inline constexpr std::string_view page_first = "vnd.sealrun.page.first";
inline constexpr std::string_view page_last = "vnd.sealrun.page.last";
}  // namespace keys

/// Values of the `vnd.sealrun.part` annotation.
inline constexpr std::string_view part_run = "run";
inline constexpr std::string_view part_attachments = "attachments";
/// part_summary marks the index entry of the experiment summary manifest.
inline constexpr std::string_view part_summary = "summary";
/// part_page marks an index entry that is a page of the run list (an image
/// index of run entries) when the runs do not fit in one index.
inline constexpr std::string_view part_page = "page";

/// default_runs_per_page is how many run entries one index holds before the
/// run list is paged: 10,000 entries of about 310 bytes stay under the
/// 4 MiB a registry accepts for one index.
inline constexpr std::size_t default_runs_per_page = 10000;

/// draft_status is the experiment status of a checkpoint: a sweep still
/// running, sealed so that nothing is lost when it dies.
inline constexpr std::string_view draft_status = "draft";

/// Version of the run and experiment config documents sealrun writes.
/// Version 2 keeps a run's trace in its own layer (trace_type); version 1
/// kept it as an attachment named by the config's "trace".
inline constexpr int config_version = 2;
/// The oldest config version readers accept.
inline constexpr int min_config_version = 1;

/// is_config_version reports whether a reader accepts config version `v`.
constexpr bool is_config_version(std::uint64_t v) noexcept {
    return v >= static_cast<std::uint64_t>(min_config_version) && v <= static_cast<std::uint64_t>(config_version);
}

/// is_status reports whether `s` is a run status sealrun knows.
constexpr bool is_status(std::string_view s) noexcept {
    return s == "finished" || s == "failed" || s == "interrupted";
}

}  // namespace sealrun::format
