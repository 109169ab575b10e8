#include "sealrun/experiment/experiment.h"

#include <random>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "experiment/lineage.h"
#include "experiment/trace_slot.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sealrun {

Run::Run(RecordStore& store, const nlohmann::json& identity, std::int64_t run_id, std::function<std::string()> clock,
         Experiment* owner, std::recursive_mutex* mutex)
    : Record(store, std::string(detail::run_record_kind), identity),
      run_id_(run_id),
      clock_(std::move(clock)),
      owner_(owner),
      mutex_(mutex) {
    guard_writes(mutex_);
    started_ = clock_();
}

Run::~Run() {
    if (closed()) return;
    try {
        if (interrupt_on_destroy_)
            interrupt("run was destroyed before it was closed");
        else
            fail("run was destroyed before it was closed");
    } catch (...) {
        // A destructor must not throw; the run's record keeps its last state.
    }
}

void Run::refuse_closed(std::string_view operation) const {
    if (closed())
        throw Error(Errc::invalid_input, std::string(operation), "run " + std::to_string(run_id_), "is closed as " + run_status_);
}

void Run::set_parameter(const std::string& name, Parameter value) {
    const auto lock = write_lock();
    refuse_closed("log_parameter");
    if (name.empty()) throw Error(Errc::invalid_input, "log_parameter", "run " + std::to_string(run_id_), "empty name");
    // The one parameter rule: a double NaN or infinity is refused as JSON refuses it.
    if (const auto* d = std::get_if<double>(&value)) (void)parameter_from_json(nlohmann::json(*d), name);
    parameters_.insert_or_assign(name, std::move(value));
}

namespace {

// Solves and samplings are logged alike (OMMX's Run keeps the two apart,
// each with its ids): reserve, log and list share one code path over the
// run's map of either. A reserved id holds nullopt until it is logged.
template <class R>
using Calls = std::map<std::int64_t, std::optional<R>>;

template <class R>
std::int64_t reserve_id(Calls<R>& calls) {
    const std::int64_t id = calls.empty() ? 0 : calls.rbegin()->first + 1;
    calls.emplace(id, std::nullopt);
    return id;
}

// log_call checks `r` and logs it under its id (`id` its member), taking
// the next free id for -1; an id logged already is refused.
template <class R>
std::int64_t log_call(Calls<R>& calls, R r, std::int64_t R::*id, std::string_view operation, std::string_view what) {
    if (r.*id < 0) r.*id = reserve_id(calls);
    r.check();
    const auto it = calls.find(r.*id);
    if (it != calls.end() && it->second)
        throw Error(Errc::invalid_input, std::string(operation), std::string(what) + " " + std::to_string(r.*id),
                    "id already logged");
    const auto logged = r.*id;
    calls.insert_or_assign(logged, std::move(r));
    return logged;
}

template <class R>
std::vector<R> logged_calls(const Calls<R>& calls) {
    std::vector<R> out;
    for (const auto& [id, r] : calls)
        if (r) out.push_back(*r);
    return out;
}

template <class R>
nlohmann::json calls_json(const Calls<R>& calls) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : logged_calls(calls)) out.push_back(r.to_json());
    return out;
}

// save_payload saves an OMMX value's bytes under the media type of its
// schema version, through the record's one write path (its checks and its
// refusal of a closed run).
void save_payload(Record& record, const RecordPath& name, const ommx::Payload& value) {
    record.save_file(name, codecs::Bytes{value.encode()}, value.media_type());
}

}  // namespace

std::int64_t Run::reserve_solve_id() {
    const auto lock = write_lock();
    refuse_closed("reserve_solve_id");
    return reserve_id(solves_);
}

std::int64_t Run::log_solve(SolveRecord solve) {
    const auto lock = write_lock();
    refuse_closed("log_solve");
    return log_call(solves_, std::move(solve), &SolveRecord::solve_id, "log_solve", "solve");
}

std::vector<SolveRecord> Run::solves() const { return logged_calls(solves_); }

std::int64_t Run::reserve_sampling_id() {
    const auto lock = write_lock();
    refuse_closed("reserve_sampling_id");
    return reserve_id(samplings_);
}

std::int64_t Run::log_sampling(SamplingRecord sampling) {
    const auto lock = write_lock();
    refuse_closed("log_sampling");
    return log_call(samplings_, std::move(sampling), &SamplingRecord::sampling_id, "log_sampling", "sampling");
}

std::vector<SamplingRecord> Run::samplings() const { return logged_calls(samplings_); }

void Run::log_instance(const RecordPath& name, const ommx::Instance& instance) {
    refuse_closed("log_instance");
    save_payload(*this, name, instance);
}
void Run::log_parametric_instance(const RecordPath& name, const ommx::ParametricInstance& instance) {
    refuse_closed("log_parametric_instance");
    save_payload(*this, name, instance);
}
void Run::log_solution(const RecordPath& name, const ommx::Solution& solution) {
    refuse_closed("log_solution");
    save_payload(*this, name, solution);
}
void Run::log_sample_set(const RecordPath& name, const ommx::SampleSet& sample_set) {
    refuse_closed("log_sample_set");
    save_payload(*this, name, sample_set);
}

// call_names returns the attachment names of a call's input and output:
// the given ones, else "<kind>/<id>/input" and "<kind>/<id>/output". A
// default name the run already holds is refused rather than replaced.
std::pair<std::string, std::string> Run::call_names(const CallOptions& options, std::string_view kind, std::int64_t id,
                                                    std::string_view operation) {
    const auto who = "run " + std::to_string(run_id_);
    const auto prefix = std::string(kind) + "/" + std::to_string(id) + "/";
    std::pair<std::string, std::string> names{RecordPath(options.input.empty() ? prefix + "input" : options.input).str(),
                                              RecordPath(options.output.empty() ? prefix + "output" : options.output).str()};
    if (names.first == names.second)
        throw Error(Errc::invalid_input, std::string(operation), who,
                    "input and output are both attachment \"" + names.first + "\"");
    if (!options.adapter_options.is_object())
        throw Error(Errc::invalid_input, std::string(operation), who, "adapter_options must be a JSON object");
    for (const auto* given : {&options.input, &options.output}) {
        if (!given->empty()) continue;
        const auto& name = given == &options.input ? names.first : names.second;
        std::error_code ec;
        if (std::filesystem::exists(std::filesystem::symlink_status(local_directory() / name, ec)))
            throw Error(Errc::already_exists, std::string(operation), name,
                        "the run already holds this file; name the attachments in the options");
    }
    return names;
}

std::int64_t Run::log_solve(const ommx::Instance& input, const ommx::Solution& output, std::string adapter,
                            CallOptions options) {
    const auto lock = write_lock();
    refuse_closed("log_solve");
    const auto id = solves_.empty() ? 0 : solves_.rbegin()->first + 1;  // the id reserve_id would take
    const auto [in, out] = call_names(options, "solves", id, "log_solve");
    SolveRecord solve{.solve_id = id, .input = in, .output = out, .adapter = std::move(adapter),
                      .adapter_options = std::move(options.adapter_options), .diagnostics = std::move(options.diagnostics)};
    solve.check();
    log_instance(in, input);
    log_solution(out, output);
    return log_solve(std::move(solve));
}

std::int64_t Run::log_sample(const ommx::Instance& input, const ommx::SampleSet& output, std::string adapter,
                             CallOptions options) {
    const auto lock = write_lock();
    refuse_closed("log_sample");
    const auto id = samplings_.empty() ? 0 : samplings_.rbegin()->first + 1;
    const auto [in, out] = call_names(options, "samplings", id, "log_sample");
    SamplingRecord sampling{.sampling_id = id, .input = in, .output = out, .adapter = std::move(adapter),
                            .adapter_options = std::move(options.adapter_options),
                            .diagnostics = std::move(options.diagnostics)};
    sampling.check();
    log_instance(in, input);
    log_sample_set(out, output);
    return log_sampling(std::move(sampling));
}

void Run::save_trace(const nlohmann::json& trace) {
    const auto lock = write_lock();
    const auto who = "run " + std::to_string(run_id_);
    if (trace_) throw Error(Errc::already_exists, "save_trace", who, "a run holds at most one trace");
    refuse_closed("save_trace");
    // Under a reserved name (path.h), apart from the user's files: never an
    // attachment, never overwritten by one (docs/RECORDS.md).
    util::write_file_atomic(local_directory() / std::string(detail::record_trace_file), oci::canonical_json(trace));
    trace_ = std::string(detail::record_trace_file);
}

void Run::describe(std::string kind, nlohmann::json config) {
    const auto lock = write_lock();
    const auto who = "run " + std::to_string(run_id_);
    refuse_closed("describe");
    if (!config.is_null() && !config.is_object()) throw Error(Errc::invalid_input, "describe", who, "config must be a JSON object");
    described_kind_ = std::move(kind);
    described_config_ = std::move(config);
}

void Run::finish() { close("finished", ""); }
void Run::fail(std::string reason) { close("failed", std::move(reason)); }
void Run::interrupt(std::string reason) { close("interrupted", std::move(reason)); }

void Run::close(std::string status, std::string reason) {
    const auto lock = write_lock();
    if (closed())
        throw Error(Errc::invalid_input, "close", "run " + std::to_string(run_id_), "already closed as " + run_status_);
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : parameters_) params[k] = parameter_to_json(v);
    update_model({
        {"run_id", run_id_},
        {"status", status},
        {"reason", reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason)},
        {"started", started_},
        {"ended", clock_()},
        {"parameters", params},
        {"solves", calls_json(solves_)},
        {"samplings", calls_json(samplings_)},
        {"run_kind", described_kind_.empty() ? nlohmann::json(nullptr) : nlohmann::json(described_kind_)},
        {"run_config", described_config_},
        {"trace", trace_ ? nlohmann::json(*trace_) : nlohmann::json(nullptr)},
    });
    run_status_ = std::move(status);
    if (owner_ != nullptr) owner_->after_close(*this);
}

namespace {
std::string random_session() {
    std::random_device rd;
    std::uniform_int_distribution<int> hex(0, 15);
    std::string s;
    for (int i = 0; i < 16; ++i) s += "0123456789abcdef"[hex(rd)];
    return s;
}
}  // namespace

Experiment::Experiment(RecordStore& store, std::string name, ExperimentOptions options)
    : store_(&store), name_(std::move(name)), options_(std::move(options)), lineage_(std::make_unique<detail::Lineage>()) {
    if (name_.empty()) throw Error(Errc::invalid_input, "create experiment", "", "the name is empty");
    if (!options_.clock) options_.clock = util::utc_now;
    if (options_.session.empty()) options_.session = random_session();
    detail::Lineage::check_policy(options_.checkpoint);
    attachments_ = std::make_unique<Record>(*store_, "sealrun.experiment",
                                            nlohmann::json{{"experiment", name_}, {"session", options_.session}});
    attachments_->guard_writes(&lineage_->mutex);
    if (options_.checkpoint.catch_signals) watch_signals();
}

Experiment::~Experiment() {
    if (!options_.checkpoint.tag.empty()) {
        const bool unwinding = std::uncaught_exceptions() > 0;
        crash_checkpoint(unwinding ? "failed" : "interrupted",
                         unwinding ? "an exception ended the sweep before it was committed"
                                   : "the experiment was destroyed before it was committed");
    }
    // The watcher goes after that checkpoint (a signal during it is still
    // sealed, once it released the mutex) and before the runs: from here a
    // signal is handled by the process's previous disposition.
    stop_watching_signals();
    // Runs still open close as their destructors say, without a policy to
    // run, while the mutex they lock still exists.
    for (auto& r : runs_)
        if (r) r->owner_ = nullptr;
    runs_.clear();
}

Run& Experiment::run() {
    const std::lock_guard lock(lineage_->mutex);
    // Without keep_closed_runs, the runs closed since the last call go:
    // their records hold what they recorded.
    for (const auto i : let_go_) runs_[i].reset();
    let_go_.clear();
    const auto id = lineage_->first_run_id + static_cast<std::int64_t>(runs_.size());
    runs_.push_back(std::make_unique<Run>(*store_, detail::run_identity(name_, options_.session, id), id, options_.clock,
                                          this, &lineage_->mutex));
    lineage_->settled = false;
    // With checkpoints on, what the run saves goes to disk at once (not
    // kept in memory until it closes), so a crash loses none of it.
    if (!options_.checkpoint.tag.empty()) runs_.back()->materialize();
    return *runs_.back();
}

Run& Experiment::run(const std::function<void(Run&)>& body) {
    Run& r = run();
    try {
        body(r);
    } catch (const Interrupted& e) {
        if (!r.closed()) r.interrupt(e.what());
        throw;
    } catch (const std::exception& e) {
        if (!r.closed()) r.fail(e.what());
        throw;
    } catch (...) {
        if (!r.closed()) r.fail("unknown exception");
        throw;
    }
    if (!r.closed()) r.finish();
    return r;
}

void Experiment::log_instance(const RecordPath& name, const ommx::Instance& instance) {
    save_payload(*attachments_, name, instance);
}
void Experiment::log_parametric_instance(const RecordPath& name, const ommx::ParametricInstance& instance) {
    save_payload(*attachments_, name, instance);
}
void Experiment::log_solution(const RecordPath& name, const ommx::Solution& solution) {
    save_payload(*attachments_, name, solution);
}
void Experiment::log_sample_set(const RecordPath& name, const ommx::SampleSet& sample_set) {
    save_payload(*attachments_, name, sample_set);
}

std::vector<Run*> Experiment::runs() const {
    std::vector<Run*> out;
    for (const auto& r : runs_)
        if (r) out.push_back(r.get());
    return out;
}

Record& Experiment::record_at(std::size_t i, std::optional<Record>& reopened) {
    if (runs_[i]) return *runs_[i];
    const auto id = lineage_->first_run_id + static_cast<std::int64_t>(i);
    return reopened.emplace(*store_, std::string(detail::run_record_kind), detail::run_identity(name_, options_.session, id));
}

namespace detail {
nlohmann::json run_identity(const std::string& experiment, const std::string& session, std::int64_t id) {
    return {{"experiment", experiment}, {"session", session}, {"run_id", id}};
}
}  // namespace detail

}  // namespace sealrun
