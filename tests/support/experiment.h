#pragma once
// Test support: a small, fully deterministic two-run experiment.

#include <string>

#include <nlohmann/json.hpp>

#include "sealrun/experiment/experiment.h"
#include "sealrun/records/record.h"
#include "support/tmpdir.h"

namespace sealrun::test {

// minimal_run_config is the config of a finished run 0 of experiment "x"
// with the attachment table `attachments` ({name: layer index}), for tests
// that build run manifests by hand.
inline nlohmann::json minimal_run_config(nlohmann::json attachments) {
    return {{"version", 1},
            {"experiment", "x"},
            {"run_id", 0},
            {"status", "finished"},
            {"reason", nullptr},
            {"started", "2026-01-02T03:04:05Z"},
            {"ended", "2026-01-02T03:04:05Z"},
            {"parameters", nlohmann::json::object()},
            {"solves", nlohmann::json::array()},
            {"trace", nullptr},
            {"attachments", std::move(attachments)}};
}

// fixed_clock returns the same timestamp every time.
inline ExperimentOptions fixed_options(std::string session = "0123456789abcdef") {
    return ExperimentOptions{.clock = [] { return std::string("2026-01-02T03:04:05Z"); }, .session = std::move(session)};
}

// record_two_runs records the worked example of docs/FORMAT.md: run 0
// finished with a solve, run 1 failed; one experiment-level attachment.
inline void record_two_runs(Experiment& exp) {
    exp.run([](Run& r) {
        r.log_parameter("lr", 0.1);
        r.log_parameter("steps", 3);
        r.save_file("result.json", {{"loss", 0.25}});
        r.save_file("input.json", {{"x0", 0}});
        r.save_file("plots/curve.jsonl", std::vector<nlohmann::json>{{{"step", 0}, {"loss", 1.0}}});
        r.log_solve({.input = "input.json", .output = "result.json", .adapter = "gd",
                     .adapter_options = {{"lr", 0.1}}});
    });
    Run& failed = exp.run();
    failed.log_parameter("lr", 2.5);
    failed.log_parameter("note", "diverged");
    failed.save_file("log.txt", "loss exploded at step 2\n");
    failed.fail("diverged");
    exp.attachments().save_file("sweep.json", {{"lrs", {0.1, 2.5}}});
}

// commit_two_runs records the two runs as experiment `name` in a
// RecordStore at dir/storage and commits them as "v1" to `t`.
inline oci::Descriptor commit_two_runs(const TempDir& dir, content::Target& t,
                                       const SealOptions& options = {}, const std::string& name = "gd-sweep") {
    RecordStore store(dir / "storage");
    Experiment exp(store, name, fixed_options());
    record_two_runs(exp);
    return exp.commit(t, "v1", options);
}

// commit_two_runs_in_place does the same into the store's own layout.
inline oci::Descriptor commit_two_runs_in_place(const TempDir& dir, const std::string& name = "gd-sweep") {
    RecordStore store(dir / "storage");
    Experiment exp(store, name, fixed_options());
    record_two_runs(exp);
    return exp.commit("v1");
}

}  // namespace sealrun::test
