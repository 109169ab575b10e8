#pragma once
// The rulebook of the sealed format (docs/FORMAT.md §3 to §5): every rule a
// reader applies to an experiment index, a run or the experiment
// attachments, written once. A rule reports what it finds into a Sink:
// SealedExperiment and SealedRun read with a ThrowingSink (the first
// failure is an Error(invalid_input)), validate() with a CollectingSink
// that keeps every finding, warnings included, for its report.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/experiment/model.h"
#include "sealrun/experiment/summary.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::format::rules {

// Finding is one thing a rule found.
struct Finding {
    std::string check;    // validate()'s check name: "run-config", "title", "run-id", …
    std::string item;     // what inside the part: an attachment name, "layers[3]"; empty for the part
    std::string path;     // the JSON path it concerns; empty when the message says where
    std::string message;  // what is wrong
    bool warning = false; // a departure readers accept
    // text returns "PATH: MESSAGE", or the message alone without a path.
    std::string text() const { return path.empty() ? message : path + ": " + message; }
};

// Sink receives findings.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void report(Finding finding) = 0;
    void fail(std::string check, std::string path, std::string message, std::string item = {}) {
        report(Finding{std::move(check), std::move(item), std::move(path), std::move(message), false});
    }
    void warn(std::string check, std::string path, std::string message, std::string item = {}) {
        report(Finding{std::move(check), std::move(item), std::move(path), std::move(message), true});
    }
};

// ThrowingSink throws the first failure as Error(invalid_input): operation
// "parse" and the JSON path as subject, or operation "open" and `subject`
// (the document's digest or reference) when the finding has no path.
// Warnings are dropped.
class ThrowingSink final : public Sink {
public:
    explicit ThrowingSink(std::string subject) : subject_(std::move(subject)) {}
    void report(Finding f) override;

private:
    std::string subject_;
};

// CollectingSink keeps every finding in order.
class CollectingSink final : public Sink {
public:
    void report(Finding f) override { findings.push_back(std::move(f)); }
    std::vector<Finding> findings;
};

// show quotes untrusted text for a message, cut at 200 bytes.
std::string show(std::string_view s);

// annotation returns `ann[key]`, or nullopt.
std::optional<std::string> annotation(const std::map<std::string, std::string>& ann, std::string_view key);

// is_canonical_run_id reports whether `text` is a run id in canonical
// decimal: digits only, no sign, no leading zero, at most 18 digits.
bool is_canonical_run_id(std::string_view text) noexcept;

// Typing is what an image index says it is (§3.1, §7).
enum class Typing {
    experiment,     // artifactType says so
    by_annotation,  // artifactType dropped; the annotation says so
    mistyped,       // the annotation says so, but artifactType names something else
    other,          // not a sealed experiment
};
// experiment_typing types `index` by artifactType or, when absent, by annotation.
Typing experiment_typing(const oci::ImageIndex& index);

// RunEntry is one run entry of an experiment index.
struct RunEntry {
    std::size_t index = 0;                  // position in manifests
    std::optional<std::int64_t> id;         // its run id, when canonical and not repeated
    std::optional<std::string> error;       // what is wrong with its id ("manifests[i]: …")
};

// PageEntry is one page entry of a paged experiment index: a page of the
// run list holding the runs first…last.
struct PageEntry {
    std::size_t index = 0;  // position in manifests
    std::int64_t first = 0;
    std::int64_t last = 0;
};

// ExperimentIndex is what an experiment index says (§3).
struct ExperimentIndex {
    std::string name;
    std::optional<std::string> status;      // when known
    std::vector<RunEntry> runs;             // in index order
    std::optional<std::size_t> attachments; // the experiment-attachments entry
    std::optional<std::size_t> summary;     // the summary entry
    std::vector<PageEntry> pages;           // page entries, by ascending first
    std::optional<std::int64_t> run_count;  // annotation vnd.sealrun.experiment.runs
    std::vector<std::size_t> foreign;       // entries readers ignore
};

// read_experiment_index applies §3.1 to an index typed `typing` (experiment
// or by_annotation): checks "experiment" (name, entries), "run-id" (each
// run entry's id; also kept in RunEntry::error) and "status".
ExperimentIndex read_experiment_index(const oci::ImageIndex& index, Typing typing, Sink& sink);

// read_page applies the page rules to the page document `page` of entry
// `entry`: checks "page" (artifactType, every entry a run entry whose id is
// canonical, within first…last and not repeated, first and last present)
// and returns its run entries (RunEntry::index is the position in the page).
std::vector<RunEntry> read_page(const oci::ImageIndex& page, const PageEntry& entry, Sink& sink);

// check_page_count reports ("page") when the pages' run entries, `found`,
// are not the index's run count.
void check_page_count(const ExperimentIndex& index, std::size_t found, Sink& sink);

// check_summary_manifest reports ("summary") a summary manifest that is not
// one (artifactType, config the empty descriptor, exactly one layer of the
// summary type); returns whether its layer can be read as the summary.
bool check_summary_manifest(const oci::ImageManifest& m, Sink& sink);

// check_summary_index reports ("summary") a summary that disagrees with
// its index: another experiment name, a row count other than the run
// count, and (when the index lists its runs, `entries` non-null: run id →
// manifest descriptor) a run the index lacks or a manifest digest other
// than the index entry's; for a paged index, a row outside every page.
void check_summary_index(const ExperimentSummary& summary, const ExperimentIndex& index,
                         const std::map<std::int64_t, oci::Descriptor>* entries, Sink& sink);

// check_summary_run reports ("summary") a row that disagrees with its run:
// status, reason, parameters (its config, `rc`), manifest digest, and
// worker: `worker` is the run's own (run_worker below), and the row must
// name the same one, or none when the run has none.
void check_summary_run(const SummaryRow& row, const RunConfig& rc, const oci::Descriptor& manifest,
                       const std::optional<std::string>& worker, Sink& sink);

// run_worker returns the worker a run names: its config's string "worker"
// (collect writes it), else its manifest's vnd.sealrun.run.worker annotation
// (a contribution), else nullopt. The summary writer takes the same.
std::optional<std::string> run_worker(const nlohmann::json& config, const std::map<std::string, std::string>& manifest_annotations);

// check_status_roll_up warns ("status") when the experiment's `status`
// is not what its runs' statuses roll up to (roll_up_status); runs whose
// status is unknown (nullopt) make the comparison moot.
void check_status_roll_up(const std::string& status, const std::vector<std::optional<std::string>>& run_statuses,
                          Sink& sink);

// check_declared reports ("schema") a manifest or index whose content
// declares `content_media_type` but whose descriptor `d` says otherwise.
void check_declared(const oci::Descriptor& d, std::string_view content_media_type, Sink& sink);

// PartKind is which sealed manifest a part is.
enum class PartKind { run, attachments };

// check_manifest_type reports ("artifact-type") a descriptor that is not an
// image manifest; returns whether it is one.
bool check_manifest_type(const oci::Descriptor& d, Sink& sink);

// check_part_manifest reports ("artifact-type") the artifactType and config
// mediaType of a run or experiment-attachments manifest; returns whether
// the config's media type is the part's (its config can be read).
bool check_part_manifest(const oci::ImageManifest& m, PartKind kind, Sink& sink);

// parse_config parses a config document (at most max_config_size bytes)
// strictly and requires an object; throws Error(invalid_input) naming `what`.
nlohmann::json parse_config(std::string_view bytes, std::string_view what);

// PartContext is what the experiment says about one of its parts.
struct PartContext {
    std::optional<std::int64_t> entry_id;                              // the index entry's run id
    const std::map<std::string, std::string>* entry_annotations = nullptr;  // the index entry's annotations
    const std::map<std::string, std::string>* manifest_annotations = nullptr;
    std::string experiment_name;                                       // empty when unknown
};

// read_run_config applies §4.3 and §4.4 to a run config against its
// manifest's `layers`: checks "run-config" (version, table, reason,
// parameters, trace slot, and warnings about experiment, timestamps and
// missing keys), "title", "run-id", "status" and "solves" (the solves and
// the samplings). Returns what was readable.
RunConfig read_run_config(const nlohmann::json& config, const std::vector<oci::Descriptor>& layers,
                          const PartContext& ctx, Sink& sink);

// read_attachments_config applies §5 to an experiment-attachments config:
// "experiment-config" (version, table, experiment) and "title".
AttachmentsConfig read_attachments_config(const nlohmann::json& config, const std::vector<oci::Descriptor>& layers,
                                          const PartContext& ctx, Sink& sink);

}  // namespace sealrun::format::rules
