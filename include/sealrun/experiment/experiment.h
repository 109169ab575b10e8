#pragma once
/// Recording experiments: an Experiment holds Runs, a Run logs parameters,
/// attachments (its record's files), solves and at most one trace, and ends
/// finished, failed or interrupted. commit() seals the experiment into OCI
/// manifests (docs/FORMAT.md).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/codecs/ommx.h"
#include "sealrun/content/target.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/model.h"
#include "sealrun/location/location.h"
#include "sealrun/records/record.h"

namespace sealrun {

class Experiment;

/// CallOptions completes a solver or sampler call logged with its OMMX
/// payloads (Run::log_solve, Run::log_sample); the zero value is the
/// default.
struct CallOptions {
    /// adapter_options are the options given to the adapter: a JSON object
    /// (`{}` when none), stored as the record's adapter_options.
    nlohmann::json adapter_options = nlohmann::json::object();
    /// diagnostics are free-form; null when none.
    nlohmann::json diagnostics;
    /// input names the attachment the input Instance is saved as; empty for
    /// the default, "<solves|samplings>/<id>/input".
    std::string input;
    /// output names the attachment the output is saved as; empty for the
    /// default, "<solves|samplings>/<id>/output".
    std::string output;
};

/// Run is one run of an Experiment: a Record (save_file, load_file, …) with
/// a 0-based run id. Its state reaches model.json when it closes. A run
/// destroyed while still open closes as failed (or interrupted, see
/// interrupt_on_destroy()), never silently finished. Not thread-safe.
class Run : public Record {
public:
    /// Run is made by Experiment::run(); `owner` (may be null) is told when
    /// the run closes (its checkpoint policy) and `mutex` (may be null)
    /// guards every change to the run against a thread sealing a dying
    /// sweep.
    Run(RecordStore& store, const nlohmann::json& identity, std::int64_t run_id, std::function<std::string()> clock,
        Experiment* owner = nullptr, std::recursive_mutex* mutex = nullptr);
    ~Run() override;
    Run(Run&&) = delete;

    /// run_id returns the run's 0-based id within its experiment.
    std::int64_t run_id() const noexcept { return run_id_; }

    /// log_parameter sets a scalar parameter (bool, any integer, any
    /// floating point, text or a Parameter); the last write wins. Throws
    /// Error(invalid_input) for an empty name, an unsigned value past
    /// 2^63-1, or a NaN or infinity, and once the run is closed (as do
    /// log_solve, reserve_solve_id, the log_* of OMMX payloads and
    /// samplings, reserve_sampling_id, save_trace, describe and the
    /// record's save_file, import_file and append_jsonl: a closed run is
    /// what is sealed).
    template <class T>
    void log_parameter(const std::string& name, const T& value) {
        if constexpr (std::is_same_v<T, Parameter> || std::is_same_v<T, bool>)
            set_parameter(name, Parameter(value));
        else if constexpr (std::is_integral_v<T>)
            set_parameter(name, integer_parameter(name, value));
        else if constexpr (std::is_floating_point_v<T>)
            set_parameter(name, Parameter(static_cast<double>(value)));
        else if constexpr (std::is_convertible_v<const T&, std::string_view>)
            set_parameter(name, Parameter(std::string(std::string_view(value))));
        else
            static_assert(!sizeof(T), "a parameter is a bool, an integer, a floating-point number or text");
    }
    /// parameters returns every parameter by name.
    const std::map<std::string, Parameter>& parameters() const noexcept { return parameters_; }

    /// reserve_solve_id returns a fresh solve id for a solve still running.
    std::int64_t reserve_solve_id();
    /// log_solve records a solve (its input and output must be saved
    /// attachments by commit time) and returns its id. Throws
    /// Error(invalid_input) for an inconsistent record or a reused id.
    std::int64_t log_solve(SolveRecord solve);
    /// solves returns the solves logged so far, by solve id.
    std::vector<SolveRecord> solves() const;

    /// log_instance saves `instance` as the run attachment `name`, sealed
    /// under the OMMX media type of its schema version
    /// (`application/org.ommx.v1.instance`, or `…v2.instance` for a value
    /// decoded from v2); a later save to `name` replaces it, as save_file
    /// does. log_parametric_instance, log_solution and log_sample_set do the
    /// same for the other three OMMX payloads. The bytes are the value's
    /// encode(). Throws Error(invalid_input) once the run is closed or for a
    /// refused name (RecordPath, reserved names).
    void log_instance(const RecordPath& name, const ommx::Instance& instance);
    void log_parametric_instance(const RecordPath& name, const ommx::ParametricInstance& instance);
    void log_solution(const RecordPath& name, const ommx::Solution& solution);
    void log_sample_set(const RecordPath& name, const ommx::SampleSet& sample_set);

    /// log_solve records a finished solve with its OMMX payloads, as OMMX's
    /// Run does: it takes the next solve id, saves `input` and `output` as
    /// run attachments (named by `options`, by default
    /// "solves/<id>/input" and "solves/<id>/output") and logs the
    /// SolveRecord naming them, with `adapter` and the options' adapter
    /// options and diagnostics. Returns the solve id. Throws
    /// Error(invalid_input) once the run is closed, for a refused name, for
    /// equal input and output names or adapter options that are not an
    /// object; Error(already_exists), before writing anything, when a
    /// default name is a file the run already holds. When it throws no
    /// solve is logged (an input saved before the failure stays, until a
    /// later save replaces it).
    std::int64_t log_solve(const ommx::Instance& input, const ommx::Solution& output, std::string adapter,
                           CallOptions options = {});

    /// reserve_sampling_id returns a fresh sampling id for a sampling still
    /// running (the ids of samplings count apart from those of solves).
    std::int64_t reserve_sampling_id();
    /// log_sampling records a sampling (a sampler's call: its input and,
    /// when finished, a SampleSet output must be saved attachments by
    /// commit time) and returns its id; -1 takes the next free id. Throws
    /// Error(invalid_input) for an inconsistent record (SamplingRecord::check),
    /// a reused id, or once the run is closed.
    std::int64_t log_sampling(SamplingRecord sampling);
    /// log_sample records a finished sampling with its OMMX payloads as
    /// log_solve(input, output, …) records a solve: `input` and the
    /// SampleSet `output` become attachments (by default
    /// "samplings/<id>/input" and "samplings/<id>/output"). Returns the
    /// sampling id; throws as that log_solve does.
    std::int64_t log_sample(const ommx::Instance& input, const ommx::SampleSet& output, std::string adapter,
                            CallOptions options = {});
    /// samplings returns the samplings logged so far, by sampling id.
    std::vector<SamplingRecord> samplings() const;

    /// save_trace stores the run's one trace, apart from its attachments: in
    /// the record it is a file of a reserved name (docs/RECORDS.md), sealed
    /// it is a layer of its own (docs/FORMAT.md §4.4), so no user file
    /// collides with it, "trace.json" included. Materializes the record.
    /// Throws Error(already_exists) on a second call, Error(invalid_input)
    /// once the run is closed or when the trace holds invalid UTF-8.
    void save_trace(const nlohmann::json& trace);

    /// finish closes the run as finished.
    void finish();
    /// fail closes the run as failed, with a reason.
    void fail(std::string reason);
    /// interrupt closes the run as interrupted, with a reason.
    void interrupt(std::string reason);
    /// interrupt_on_destroy makes a run destroyed while open close as
    /// interrupted instead of failed.
    void interrupt_on_destroy(bool value = true) noexcept { interrupt_on_destroy_ = value; }
    /// closed reports whether finish, fail or interrupt was called.
    bool closed() const noexcept { return !run_status_.empty(); }
    /// run_status returns "finished", "failed", "interrupted", or "" while open.
    const std::string& run_status() const noexcept { return run_status_; }

    /// describe says what the run is, as a job's own model.json does: `kind`
    /// (e.g. "train"; empty for none) and `config` (the settings it ran with,
    /// a JSON object; null for none), sealed as the run config's optional
    /// `kind` and `config` (docs/FORMAT.md §4.2); the last call wins. Throws
    /// Error(invalid_input) once the run is closed, or when `config` is
    /// neither an object nor null.
    void describe(std::string kind, nlohmann::json config);

protected:
    /// before_write refuses changes to the files of a closed run: what a
    /// closed run holds is what is sealed.
    void before_write(std::string_view operation) const override { refuse_closed(operation); }

private:
    void close(std::string status, std::string reason);
    void set_parameter(const std::string& name, Parameter value);
    // refuse_closed throws Error(invalid_input) naming `operation` once the run is closed.
    void refuse_closed(std::string_view operation) const;
    // call_names returns the input and output attachment names of the
    // solve or sampling `id` logged with its payloads (`kind`: "solves" or
    // "samplings").
    std::pair<std::string, std::string> call_names(const CallOptions& options, std::string_view kind, std::int64_t id,
                                                   std::string_view operation);

    std::int64_t run_id_;
    std::function<std::string()> clock_;
    std::string started_;
    std::map<std::string, Parameter> parameters_;
    std::map<std::int64_t, std::optional<SolveRecord>> solves_;  // nullopt: reserved
    std::map<std::int64_t, std::optional<SamplingRecord>> samplings_;  // nullopt: reserved
    std::optional<std::string> trace_;
    std::string described_kind_;         // describe()
    nlohmann::json described_config_;    // describe(); null when none
    std::string run_status_;
    bool interrupt_on_destroy_ = false;
    Experiment* owner_ = nullptr;
    std::recursive_mutex* mutex_ = nullptr;
    friend class Experiment;
};

/// SealOptions tunes Experiment::commit(); the zero value is the default.
struct SealOptions {
    /// Store attachments zstd-compressed (media type + "+zstd").
    bool compress = false;
    /// force moves an existing tag to different content; by default a tag
    /// that names other content is refused with Error(already_exists).
    bool force = false;
    /// summary_values name JSON results whose scalar values the experiment
    /// summary carries for every run, as "FILE:KEY" (e.g. "result.json:loss";
    /// docs/FORMAT.md, the experiment summary).
    std::vector<std::string> summary_values;
    /// runs_per_page is how many runs one index holds before the run list
    /// is split into pages (docs/FORMAT.md); tests make it small.
    std::size_t runs_per_page = format::default_runs_per_page;
};

/// checkpoint_tag returns the tag an experiment to be committed under `tag`
/// keeps its checkpoints under: `tag` + ".checkpoint" (docs/FORMAT.md,
/// checkpoints). Throws Error(invalid_input) when the result is not a valid
/// tag (`tag` longer than 117 characters, or not a tag).
std::string checkpoint_tag(std::string_view tag);

/// CheckpointPolicy says when a sweep is sealed as a draft while it runs,
/// so that nothing is lost when it dies (as OMMX's autosave policy); the
/// zero value is off.
struct CheckpointPolicy {
    /// tag is the tag the sweep will be committed under; checkpoints go to
    /// checkpoint_tag(tag) in the store's own layout. Empty: no checkpoints.
    std::string tag;
    /// every_runs checkpoints after every N-th closed run (0 or 1: after
    /// every closed run) when every_seconds is 0.
    std::int64_t every_runs = 0;
    /// every_seconds, when > 0, checkpoints after a closed run once this
    /// many seconds have passed since the last checkpoint (every_runs is
    /// then ignored).
    double every_seconds = 0;
    /// catch_signals installs SIGINT and SIGTERM handlers while the
    /// experiment lives: either signal seals an `interrupted` checkpoint,
    /// the open runs closed as interrupted (reason "SIGINT"/"SIGTERM"),
    /// then the signal is raised again with its default action (the
    /// process ends as the signal says). One experiment per process at a
    /// time; a second is refused with Error(invalid_input).
    bool catch_signals = false;
    /// seal tunes how checkpoints are sealed (compress, summary_values, …);
    /// force is ignored: the checkpoint tag always moves.
    SealOptions seal;
    /// remote, when not empty, is a location without a tag or digest
    /// ("docker://HOST/REPO", "oci:DIR"; sealrun/location/location.h) every
    /// checkpoint is also copied to, under checkpoint_tag(tag), right after
    /// it is sealed into the store: a sweep whose node (and local disk) is
    /// lost resumes elsewhere from it (Experiment::resume). The copy moves
    /// only what the remote lacks (the new runs, the new index). A copy
    /// that fails does not stop the sweep: it is reported to
    /// on_remote_error and kept as remote_error(), and the next checkpoint
    /// copies again. It runs in the thread that seals the checkpoint, so a
    /// registry that does not answer holds the sweep for up to
    /// remote_options' retry budget. Requires `tag`.
    std::string remote;
    /// remote_options says how `remote` is reached (plain HTTP, TLS,
    /// credentials, retries); its store is not used.
    LocationOptions remote_options;
    /// on_remote_error is called, in the thread that sealed the checkpoint
    /// (the signal watcher's for SIGINT/SIGTERM), when copying a checkpoint
    /// to `remote` failed; what it throws is ignored.
    std::function<void(const Error&)> on_remote_error;
};

/// ExperimentOptions tunes an Experiment; the zero value is the default.
struct ExperimentOptions {
    /// Returns the current UTC time as "YYYY-MM-DDTHH:MM:SSZ"; the system
    /// clock when empty. Tests fix it to make sealing reproducible.
    std::function<std::string()> clock;
    /// Distinguishes this experiment's records from an earlier one of the
    /// same name; random when empty.
    std::string session;
    /// checkpoint is when the sweep is sealed as a draft (off by default).
    CheckpointPolicy checkpoint;
    /// keep_closed_runs keeps every Run for the experiment's life: runs()
    /// lists them all and a Run& stays valid. false lets a closed run go at
    /// the next run(): what it recorded is in its record on disk, which is
    /// what commit() seals; runs() lists the runs still held, and a Run&
    /// of a closed run is valid until the next run(). For sweeps of very
    /// many runs in one process (`sealrun seal` of 100,000 directories):
    /// the experiment then holds a pointer's worth per closed run.
    bool keep_closed_runs = true;
};

namespace detail {
// Lineage holds what an experiment carries over from a sealed one (resume,
// load, fork) and its signal guard (src/experiment/lineage.h).
struct Lineage;
}  // namespace detail

/// Experiment is a named set of runs plus experiment-level attachments,
/// recorded into a RecordStore and sealed with commit(). Not thread-safe.
class Experiment {
public:
    /// Experiment starts a new experiment `name` recording into `store`.
    /// Throws Error(invalid_input) for an empty name, a checkpoint tag that
    /// is not a tag, or catch_signals while another experiment holds the
    /// signals.
    Experiment(RecordStore& store, std::string name, ExperimentOptions options = {});
    /// ~Experiment of an experiment with a checkpoint policy that was not
    /// committed since its last run closed seals a last checkpoint: status
    /// `failed` while an exception unwinds, else `interrupted`; open runs
    /// are closed so (their saved files flushed to their records) and
    /// sealed with it. Errors are swallowed (a destructor does not throw).
    ~Experiment();
    Experiment(const Experiment&) = delete;
    Experiment& operator=(const Experiment&) = delete;

    /// resume continues the sweep whose checkpoint is checkpoint_tag(tag)
    /// in the store's own layout: its closed runs are kept as sealed (not
    /// re-sealed), new runs are numbered after the highest kept id, its
    /// experiment-level attachments are copied back into the new record,
    /// and its annotations kept. The runs its process left in the store's
    /// records after the checkpoint (a SIGKILL: the checkpoint names the
    /// process's record session) are taken over first: a run closed
    /// since the checkpoint as it closed, a run still open closed as
    /// interrupted with the files it saved; new runs are numbered after
    /// them, and a checkpoint is sealed at once. options.checkpoint.tag
    /// defaults to `tag`, so the checkpoint moves on; commit(tag) replaces
    /// it (the checkpoint tag is removed from the layout).
    ///
    /// `tag` may be a location with a tag, "docker://HOST/REPO:TAG" (any
    /// transport but the store): the checkpoint TAG.checkpoint is copied
    /// from there into the store (replacing a local one), the sweep goes on
    /// as TAG, and options.checkpoint.remote defaults to that location
    /// without its tag. With a bare `tag` and options.checkpoint.remote set,
    /// a store without the checkpoint copies it from the remote first.
    /// Throws Error(not_found) when there is no checkpoint,
    /// Error(invalid_input) when it is not an experiment or the location
    /// names no tag, and what reaching the remote throws.
    static std::unique_ptr<Experiment> resume(RecordStore& store, std::string_view tag, ExperimentOptions options = {});
    /// load opens the sealed experiment `tag` of the store's own layout for
    /// appending runs: as resume, from `tag` itself; commit(tag) moves
    /// `tag` to the new index without SealOptions::force (the runs already
    /// sealed are reused by digest, so a push uploads only the new ones).
    static std::unique_ptr<Experiment> load(RecordStore& store, std::string_view tag, ExperimentOptions options = {});
    /// fork starts a new experiment `name` (empty: the parent's) from the
    /// sealed experiment `tag` of the store's layout: its runs are kept
    /// (their manifests and configs rewritten when the name changes,
    /// attachment blobs reused) and the parent's index becomes the OCI
    /// `subject` of every index this experiment writes (lineage, the
    /// referrers API; docs/FORMAT.md). Throws as load.
    static std::unique_ptr<Experiment> fork(RecordStore& store, std::string_view tag, std::string name = {},
                                            ExperimentOptions options = {});
    /// rename seals the experiment `tag` of the store's layout again as
    /// experiment `name`, tagged `new_tag` (empty: `tag`, moved): a new
    /// index, the runs' configs and manifests rewritten with the new name,
    /// every attachment blob reused; no subject. Returns the new index.
    /// Throws as load, and Error(already_exists) when `new_tag` names other
    /// content and `options.force` is false.
    static oci::Descriptor rename(RecordStore& store, std::string_view tag, std::string name, std::string_view new_tag = {},
                                  const SealOptions& options = {});

    /// name returns the experiment's name.
    const std::string& name() const noexcept { return name_; }

    /// run starts the next run (ids count from 0). The reference stays valid
    /// as long as the experiment (see ExperimentOptions::keep_closed_runs).
    Run& run();
    /// run starts the next run and calls `body` with it: a body that returns
    /// finishes the run (unless it closed it itself), a body that throws
    /// fails it (interrupted when the exception is sealrun::Interrupted) and
    /// the exception propagates.
    Run& run(const std::function<void(Run&)>& body);
    /// runs returns every run so far, by id (without keep_closed_runs, the
    /// runs still held: the open ones and those closed since the last run()).
    std::vector<Run*> runs() const;

    /// attachments returns the record holding experiment-level attachments;
    /// save_file on it adds one.
    Record& attachments() noexcept { return *attachments_; }
    /// log_instance saves `instance` as the experiment-level attachment
    /// `name` under its OMMX media type, as Run::log_instance does for a
    /// run; log_parametric_instance, log_solution and log_sample_set the
    /// other payloads. Throws Error(invalid_input) for a refused name.
    void log_instance(const RecordPath& name, const ommx::Instance& instance);
    void log_parametric_instance(const RecordPath& name, const ommx::ParametricInstance& instance);
    void log_solution(const RecordPath& name, const ommx::Solution& solution);
    void log_sample_set(const RecordPath& name, const ommx::SampleSet& sample_set);
    /// annotate adds an annotation to the sealed experiment index; the last
    /// value of a key wins. Throws Error(invalid_input) for an empty key or
    /// one in the format's reserved namespace (`format::keys::reserved_prefix`,
    /// docs/FORMAT.md §2.5), whose value commit() would replace.
    void annotate(const std::string& key, const std::string& value) {
        if (key.empty()) throw Error(Errc::invalid_input, "annotate", key, "an annotation key must not be empty");
        if (key.starts_with(format::keys::reserved_prefix))
            throw Error(Errc::invalid_input, "annotate", key,
                        "keys beginning with " + std::string(format::keys::reserved_prefix) + " are reserved for sealrun");
        annotations_[key] = value;
    }

    /// commit seals every run (all must be closed) and the experiment-level
    /// attachments into `dst` and tags the experiment index `tag`; returns
    /// the index descriptor. Deterministic: sealing the same content again
    /// gives the same digests. Throws Error(invalid_input) for an open run,
    /// a solve naming a missing attachment, or a record holding a symlink,
    /// and Error(already_exists) when `tag` names other content and
    /// `options.force` is false (re-sealing the same content succeeds).
    oci::Descriptor commit(content::Target& dst, std::string_view tag, const SealOptions& options = {});
    /// commit seals into the local OCI layout at the store's root; after a
    /// checkpoint policy or resume, the checkpoint tag of `tag` is removed
    /// from the layout once `tag` names the final index.
    oci::Descriptor commit(std::string_view tag, const SealOptions& options = {});

    /// checkpoint seals the closed runs (kept runs included) into the
    /// store's layout as experiment status `status` (format::draft_status,
    /// "failed" or "interrupted") under checkpoint_tag(policy tag), moving
    /// that tag. For failed and interrupted, open runs are first closed
    /// with that status and `reason` (their saved files flushed) and sealed
    /// too. Returns nullopt when the policy has no tag. Runs the policy's
    /// automatic checkpoints too; throws as commit.
    std::optional<oci::Descriptor> checkpoint(std::string_view status = format::draft_status, const std::string& reason = {});
    /// remote_error returns why the last copy of a checkpoint to
    /// CheckpointPolicy::remote failed; nullopt when it succeeded or none
    /// was tried.
    std::optional<Error> remote_error() const;
    /// options returns the experiment's options as in effect (resume fills
    /// in the checkpoint tag and remote, the constructor the session).
    const ExperimentOptions& options() const noexcept { return options_; }
    /// kept_run_ids returns the ids of the runs carried over from a sealed
    /// experiment (resume, load, fork), ascending.
    std::vector<std::int64_t> kept_run_ids() const;
    /// subject returns the index this experiment's index refers to (fork).
    std::optional<oci::Descriptor> subject() const;

private:
    // seal_index seals every closed run (an open one is refused unless
    // `skip_open`) and the kept runs, and writes the index with `status`
    // ("" rolls up) and `annotations` added into `dst`; `into_store` says
    // `dst` is the store's own layout (kept runs are there already).
    oci::Descriptor seal_index(content::Target& dst, const SealOptions& options, const std::string& status, bool skip_open,
                               bool into_store, const std::map<std::string, std::string>& annotations = {});
    // after_close runs the checkpoint policy once `run` closed, and marks
    // it to be let go at the next run() without keep_closed_runs.
    void after_close(const Run& run);
    // record_at returns the record of run first_run_id + i: the Run held
    // at runs_[i], or, when it was let go (keep_closed_runs false), its
    // record reopened into `reopened`.
    Record& record_at(std::size_t i, std::optional<Record>& reopened);
    // crash_checkpoint seals the last checkpoint of a dying sweep.
    void crash_checkpoint(const std::string& status, const std::string& reason) noexcept;
    // watch_signals installs the SIGINT/SIGTERM guard; stop_watching_signals removes it.
    void watch_signals();
    void stop_watching_signals() noexcept;
    // open_sealed starts an experiment `name` from the sealed experiment
    // `reference` of the store's layout (resume, load, fork).
    static std::unique_ptr<Experiment> open_sealed(RecordStore& store, const std::string& reference, std::string name,
                                                   ExperimentOptions options, bool as_subject);
    // adopt_left_runs takes over the runs that the process of record
    // session `session` (a checkpoint's writer) left in the store's records
    // after the checkpoint's runs: closed ones as they closed, open ones
    // closed as interrupted. Returns how many.
    std::size_t adopt_left_runs(const std::string& experiment, const std::string& session);
    friend struct detail::Lineage;
    friend class Run;

    RecordStore* store_;
    std::string name_;
    ExperimentOptions options_;
    std::unique_ptr<Record> attachments_;
    // runs_ holds run first_run_id + i at i; null once it was let go.
    std::vector<std::unique_ptr<Run>> runs_;
    // let_go are the indexes in runs_ of runs closed since the last run(),
    // to be let go then (keep_closed_runs false).
    std::vector<std::size_t> let_go_;
    std::map<std::string, std::string> annotations_;
    std::unique_ptr<detail::Lineage> lineage_;
};

/// Interrupted is thrown by code that wants Experiment::run(body) to close
/// the run as interrupted rather than failed.
class Interrupted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace sealrun
