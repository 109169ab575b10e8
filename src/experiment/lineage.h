#pragma once
// What an Experiment carries besides its records: the runs kept from a
// sealed experiment (resume, load, fork), the parent it refers to, the
// checkpoint policy's state and the signal guard (checkpoint.cpp).
// Internal to the experiment layer.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "experiment/index_writer.h"

namespace sealrun::detail {

// SignalGuard routes SIGINT and SIGTERM to a watcher thread while it lives
// (checkpoint.cpp): the handler only writes the signal's number to a pipe;
// the thread calls `on_signal`, then raises the signal again with its
// default action.
class SignalGuard;

// run_record_kind and run_identity are what the record of run `id` of
// `experiment`, recorded in record session `session`, is found by (Run,
// Experiment::record_at, resume's adoption of a dead process's runs).
inline constexpr std::string_view run_record_kind = "sealrun.run";
nlohmann::json run_identity(const std::string& experiment, const std::string& session, std::int64_t id);

struct Lineage {
    Lineage();
    ~Lineage();

    // mutex guards every change to the experiment and its runs against the
    // thread that seals a dying sweep (recursive: a run's log_solve saves
    // files through the same guard).
    std::recursive_mutex mutex;
    // kept are the runs carried over from a sealed experiment, by
    // ascending id (their configs reduced to what the summary reads).
    std::vector<RunEntry> kept;
    // subject is the parent index (fork).
    std::optional<oci::Descriptor> subject;
    // origin_tag is the tag load() opened: commit may move it.
    std::string origin_tag;
    // origin_session is the record session the sealed experiment names
    // (a checkpoint's writer; empty for a committed experiment).
    std::string origin_session;
    // first_run_id is the id the experiment's first new run takes.
    std::int64_t first_run_id = 0;
    // sealed caches closed runs sealed into the store's layout, by
    // (run id, compressed), when keeps_sealed: a closed run never changes,
    // so a checkpoint after every run does not hash every earlier run
    // again.
    std::map<std::pair<std::int64_t, bool>, RunEntry> sealed;
    // values keeps, by (run id, file), the part of the run's JSON file the
    // summary values `values_for` pick (nullopt: no such JSON file), when
    // keeps_sealed.
    std::map<std::pair<std::int64_t, std::string>, std::optional<nlohmann::json>> values;
    std::vector<std::string> values_for;
    // closed_since counts the runs closed since the last checkpoint.
    std::int64_t closed_since = 0;
    std::chrono::steady_clock::time_point last_checkpoint = std::chrono::steady_clock::now();
    // settled is true when nothing changed since the last commit (nothing
    // to save on a crash).
    bool settled = true;
    // dying is set while the last checkpoint of a dying sweep is sealed.
    bool dying = false;
    std::unique_ptr<SignalGuard> signals;
    // remote is CheckpointPolicy::remote, opened at the first copy and kept
    // (its connections reused); remote_error is why the last copy failed.
    std::unique_ptr<Location> remote;
    std::optional<Error> remote_error;
    // remote_known are the digests found or stored in `remote` by the
    // checkpoints so far (forgotten when it is opened again).
    std::set<oci::Digest> remote_known;

    // check_policy refuses a checkpoint policy that cannot work: a tag that
    // cannot take the suffix, a remote without a tag, a remote that is not
    // a location without a tag or digest (Error(invalid_input)).
    static void check_policy(const CheckpointPolicy& policy);
    // copy_to_remote copies the checkpoint `root` of the store's `layout`
    // to the policy's remote under the checkpoint tag; a failure is kept
    // and reported (on_remote_error), never thrown.
    static void copy_to_remote(Experiment& e, content::OciLayout& layout, const oci::Descriptor& root) noexcept;

    // keeps_sealed says what is sealed of a closed run is kept for the
    // next seal (`sealed`, `values`): with a checkpoint policy, whose
    // checkpoints seal the same closed runs again and again. Without one,
    // nothing is kept per run (a 100,000-run seal in memory flat in N).
    static bool keeps_sealed(const Experiment& e) noexcept { return !e.options_.checkpoint.tag.empty(); }
    // add_kept_runs adds the kept runs to `index`, copying their graphs
    // (and the subject's) into `dst` unless it is the store's own layout.
    static void add_kept_runs(Experiment& e, content::Target& dst, bool into_store, IndexWriter& index);
    // value_reader returns what the summary's chosen values (`summary_values`)
    // are read through: a run of this experiment from its record's file, a
    // kept run from its sealed attachment in the store's layout (a run's
    // place in the experiment follows from its id: Experiment::record_at).
    // With keeps_sealed, what a run holds for the chosen values is kept (a
    // sealed run never changes), reduced to those values, so the next
    // checkpoint reads no file for it.
    static ValueReader value_reader(Experiment& e, const std::vector<std::string>& summary_values);
    // settle runs after commit(tag) into the store: the checkpoints of
    // `tag` (and of the policy's tag) are removed, nothing is left to save.
    static void settle(Experiment& e, content::OciLayout& layout, std::string_view tag);
};

}  // namespace sealrun::detail
