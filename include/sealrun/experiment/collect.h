#pragma once
/// Many workers, one experiment (docs/FORMAT.md, "Contributions and
/// collect"): each worker pushes its closed runs on its own, as single-run
/// contributions under tags only it writes; collect() assembles the
/// experiment from a repository's tags, reading manifests and configs only
/// (attachment blobs are neither downloaded nor uploaded again).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/descriptor.h"

namespace sealrun {

class Experiment;

/// contribution_tag_prefix is the prefix every contribution tag of
/// `experiment` starts with: "contrib." + the experiment's segment + ".".
std::string contribution_tag_prefix(std::string_view experiment);

/// contribution_tag returns the tag a worker pushes its run `local_run_id`
/// of `experiment` under: "contrib.EXP.WORKER.ID", where EXP and WORKER are
/// the names themselves when they match [A-Za-z0-9_][A-Za-z0-9_-]{0,39},
/// else "-" and the first 24 hex digits of the SHA-256 of their UTF-8
/// bytes. Deterministic (a retried worker re-pushes the same tag), distinct
/// for distinct (experiment, worker, id) up to a 96-bit hash collision, and
/// always within the tag grammar (at most 119 bytes). Throws
/// Error(invalid_input) for an empty experiment or worker, a worker longer
/// than 256 bytes, or a negative id. Thread-safe.
std::string contribution_tag(std::string_view experiment, std::string_view worker, std::int64_t local_run_id);

/// Contribution is one run a worker pushed.
struct Contribution {
    /// tag is the contribution tag (contribution_tag()).
    std::string tag;
    /// local_run_id is the run's id as the worker recorded it.
    std::int64_t local_run_id = 0;
    /// manifest is the pushed run manifest (annotated with the worker).
    oci::Descriptor manifest;
};

/// ContributeOptions tunes contribute(); the zero value is the default.
struct ContributeOptions {
    /// concurrency is the copy engine's (content::CopyOptions); 0 means 4.
    std::size_t concurrency = 0;
    /// on_pushed is called after each run is pushed and tagged.
    std::function<void(const Contribution&)> on_pushed;
};

/// contribute pushes every run of the sealed experiment `reference` in
/// `src` to `dst` as a single-run contribution: the run manifest with the
/// annotation format::keys::run_worker = `worker` added (config untouched),
/// copied with its config and layers by content::copy (blobs `dst` has are
/// skipped) and tagged contribution_tag(name, worker, run id), replacing
/// what that tag named (a retried worker replaces its own contribution,
/// never adds one). Returns the contributions in run id order. Throws
/// Error(invalid_input) for an invalid worker or a reference that is not a
/// sealrun experiment, and the errors of reading `src` and writing `dst`;
/// contributions pushed before a failure stay.
std::vector<Contribution> contribute(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                                     std::string_view worker, const ContributeOptions& options = {});

/// contribute commits `experiment` (every run closed) into `local` (the
/// worker's own store) under contribution_tag_prefix(name) + WORKER
/// (moved if it exists), then contributes it to `dst` as above.
std::vector<Contribution> contribute(Experiment& experiment, content::Target& local, content::Target& dst,
                                     std::string_view worker, const ContributeOptions& options = {});

/// CollectOptions tunes collect(); the zero value is the default.
struct CollectOptions {
    /// summary_values are the "FILE:KEY" values the experiment summary
    /// carries (SealOptions::summary_values). Only these JSON attachments
    /// are downloaded; without them no attachment blob is.
    std::vector<std::string> summary_values;
    /// runs_per_page is SealOptions::runs_per_page.
    std::size_t runs_per_page = format::default_runs_per_page;
    /// concurrency is how many contributions are opened at once; 0 means 8.
    std::size_t concurrency = 0;
    /// force starts afresh when `tag` names something that is not an
    /// experiment of this name (by default: Error(already_exists)).
    bool force = false;
    /// on_progress is called (one call at a time) as contributions are
    /// opened: opened so far, total.
    std::function<void(std::size_t, std::size_t)> on_progress;
};

/// CollectedRun is one run of the collected experiment.
struct CollectedRun {
    std::int64_t run_id = 0;
    /// worker is the contributing worker ("" for a run that was in the
    /// experiment without one).
    std::string worker;
    /// local_run_id is the id the worker recorded.
    std::int64_t local_run_id = 0;
    std::string status;
    /// manifest is the run manifest the index names.
    oci::Descriptor manifest;
    /// added is true for a run that was not in the previous experiment.
    bool added = false;
    /// rewritten is true when its config and manifest were rewritten (its
    /// id differs from the worker's).
    bool rewritten = false;
};

/// SkippedContribution is a tag collect() did not take, and why.
struct SkippedContribution {
    std::string tag;
    std::string reason;
};

/// CollectReport is what collect() did.
struct CollectReport {
    /// index is the experiment index tagged `tag`.
    oci::Descriptor index;
    /// runs are the experiment's runs by id.
    std::vector<CollectedRun> runs;
    /// added counts runs new in this collect; kept those already there.
    std::size_t added = 0;
    std::size_t kept = 0;
    /// contributions counts the contribution tags opened.
    std::size_t contributions = 0;
    /// skipped lists contribution tags refused (another experiment, a tag
    /// that does not match its content, not a sealrun run, ...).
    std::vector<SkippedContribution> skipped;
};

/// collect assembles the experiment `experiment` from the contributions
/// in `repository` (docs/FORMAT.md, "Contributions and collect") and tags
/// it `tag`: it lists the tags, opens every one starting with
/// contribution_tag_prefix(experiment) (manifest and config only, within
/// oci::max_manifest_size and format::max_config_size, several at once),
/// checks each by the run rules and against its tag (config experiment,
/// worker annotation, local id; a mismatch is skipped and reported), keeps
/// the ids of runs already in the experiment `tag` names (matched by worker
/// and local id; a re-pushed contribution replaces the content at that
/// id), gives new runs the next ids in (worker, local id) order, rewrites
/// the config ("run_id", "worker") and manifest of a run whose id differs
/// from the worker's (referencing the same blobs) and writes the index
/// through the one index writer. Idempotent: with nothing new the index is
/// the same digest. Throws Error(already_exists) when `tag` names something
/// other than an experiment named `experiment` (unless options.force), the
/// index writer's errors (too_large) and the repository's; nothing is
/// tagged then. Not atomic against a concurrent collect of the same tag
/// (the last one's tag wins; run ids of either stay consistent with a later
/// collect). `repository` may be any content::Target (a registry, a layout).
CollectReport collect(content::Target& repository, std::string_view experiment, std::string_view tag,
                      const CollectOptions& options = {});

}  // namespace sealrun
