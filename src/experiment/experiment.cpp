#include "sealrun/experiment/experiment.h"

#include <random>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "experiment/trace_slot.h"
#include "util/clock.h"
#include "util/fs.h"

namespace sealrun {

Run::Run(RecordStore& store, const nlohmann::json& identity, std::int64_t run_id, std::function<std::string()> clock)
    : Record(store, "sealrun.run", identity), run_id_(run_id), clock_(std::move(clock)) {
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
    refuse_closed("log_parameter");
    if (name.empty()) throw Error(Errc::invalid_input, "log_parameter", "run " + std::to_string(run_id_), "empty name");
    // The one parameter rule: a double NaN or infinity is refused as JSON refuses it.
    if (const auto* d = std::get_if<double>(&value)) (void)parameter_from_json(nlohmann::json(*d), name);
    parameters_.insert_or_assign(name, std::move(value));
}

std::int64_t Run::reserve_solve_id() {
    refuse_closed("reserve_solve_id");
    const std::int64_t id = solves_.empty() ? 0 : solves_.rbegin()->first + 1;
    solves_.emplace(id, std::nullopt);
    return id;
}

std::int64_t Run::log_solve(SolveRecord solve) {
    refuse_closed("log_solve");
    if (solve.solve_id < 0) solve.solve_id = reserve_solve_id();
    solve.check();
    auto it = solves_.find(solve.solve_id);
    if (it != solves_.end() && it->second)
        throw Error(Errc::invalid_input, "log_solve", "solve " + std::to_string(solve.solve_id), "id already logged");
    const auto id = solve.solve_id;
    solves_.insert_or_assign(id, std::move(solve));
    return id;
}

std::vector<SolveRecord> Run::solves() const {
    std::vector<SolveRecord> out;
    for (const auto& [id, s] : solves_)
        if (s) out.push_back(*s);
    return out;
}

void Run::save_trace(const nlohmann::json& trace) {
    const auto who = "run " + std::to_string(run_id_);
    if (trace_) throw Error(Errc::already_exists, "save_trace", who, "a run holds at most one trace");
    refuse_closed("save_trace");
    // Under a reserved name (path.h), apart from the user's files: never an
    // attachment, never overwritten by one (docs/RECORDS.md).
    util::write_file_atomic(local_directory() / std::string(detail::record_trace_file), oci::canonical_json(trace));
    trace_ = std::string(detail::record_trace_file);
}

void Run::describe(std::string kind, nlohmann::json config) {
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
    if (closed())
        throw Error(Errc::invalid_input, "close", "run " + std::to_string(run_id_), "already closed as " + run_status_);
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : parameters_) params[k] = parameter_to_json(v);
    nlohmann::json solves = nlohmann::json::array();
    for (const auto& s : this->solves()) solves.push_back(s.to_json());
    update_model({
        {"run_id", run_id_},
        {"status", status},
        {"reason", reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason)},
        {"started", started_},
        {"ended", clock_()},
        {"parameters", params},
        {"solves", solves},
        {"run_kind", described_kind_.empty() ? nlohmann::json(nullptr) : nlohmann::json(described_kind_)},
        {"run_config", described_config_},
        {"trace", trace_ ? nlohmann::json(*trace_) : nlohmann::json(nullptr)},
    });
    run_status_ = std::move(status);
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
    : store_(&store), name_(std::move(name)), options_(std::move(options)) {
    if (name_.empty()) throw Error(Errc::invalid_input, "create experiment", "", "the name is empty");
    if (!options_.clock) options_.clock = util::utc_now;
    if (options_.session.empty()) options_.session = random_session();
    attachments_ = std::make_unique<Record>(*store_, "sealrun.experiment",
                                            nlohmann::json{{"experiment", name_}, {"session", options_.session}});
}

Experiment::~Experiment() = default;

Run& Experiment::run() {
    const auto id = static_cast<std::int64_t>(runs_.size());
    const nlohmann::json identity = {{"experiment", name_}, {"session", options_.session}, {"run_id", id}};
    runs_.push_back(std::make_unique<Run>(*store_, identity, id, options_.clock));
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

std::vector<Run*> Experiment::runs() const {
    std::vector<Run*> out;
    for (const auto& r : runs_) out.push_back(r.get());
    return out;
}

}  // namespace sealrun
