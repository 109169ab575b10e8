// sweep_worker: a recording process for tests/experiment/checkpoint_test.cpp
// and tests/python/test_checkpoint.py. It records a sweep with a checkpoint
// policy and reports on stdout, one line each, "open I" once run I has saved
// its files and "closed I" once it is finished. At run --stop-at it waits
// for stdin to close (the test kills it there), so a test knows exactly
// where the sweep is without sleeping.
//
// --abandon-at I destroys the experiment, uncommitted, with run I open
// (its destructor seals the last checkpoint); with --term-in-hook the
// remote-error hook of that checkpoint raises SIGTERM (a signal landing
// while the destructor holds the experiment's mutex).
//
// With --checkpoint-to LOCATION every checkpoint is also copied there (a
// failed copy is reported as "remote-error MESSAGE"); --resume-from
// LOCATION:TAG resumes from a checkpoint there instead of the store's.
//
// usage: sweep_worker STORE TAG RUNS [--stop-at I] [--throw-at I]
//        [--every-runs N] [--every-seconds T] [--off] [--no-signals]
//        [--name NAME] [--resume] [--checkpoint-to LOCATION]
//        [--resume-from LOCATION:TAG] [--abandon-at I] [--term-in-hook]
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <sealrun/experiment/experiment.h>
#include <sealrun/records/record.h>

namespace {

void say(const std::string& line) {
    std::cout << line << std::endl;  // flushed: the test reads it at once
}

// term_armed makes the next remote-error hook raise SIGTERM (--term-in-hook).
std::atomic<bool> term_armed{false};

void wait_for_stdin_to_close() {
    char c;
    while (::read(0, &c, 1) > 0) {
    }
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 4) {
        std::cerr << "usage: sweep_worker STORE TAG RUNS [options]\n";
        return 2;
    }
    const std::string store_dir = argv[1], tag = argv[2];
    const long runs = std::stol(argv[3]);
    long stop_at = -1, throw_at = -1, abandon_at = -1;
    bool term_in_hook = false;
    std::string name = "sweep";
    bool resume = false;
    std::string resume_from;
    sealrun::ExperimentOptions options;
    options.checkpoint.tag = tag;
    options.checkpoint.catch_signals = true;
    for (int i = 4; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
        if (a == "--stop-at") stop_at = std::stol(next());
        else if (a == "--throw-at") throw_at = std::stol(next());
        else if (a == "--every-runs") options.checkpoint.every_runs = std::stol(next());
        else if (a == "--every-seconds") options.checkpoint.every_seconds = std::stod(next());
        else if (a == "--off") options.checkpoint.tag.clear();
        else if (a == "--no-signals") options.checkpoint.catch_signals = false;
        else if (a == "--name") name = next();
        else if (a == "--resume") resume = true;
        else if (a == "--abandon-at") abandon_at = std::stol(next());
        else if (a == "--term-in-hook") term_in_hook = true;
        else if (a == "--checkpoint-to") options.checkpoint.remote = next();
        else if (a == "--resume-from") resume_from = next(), resume = true;
        else throw std::runtime_error("unknown option " + a);
    }
    options.checkpoint.remote_options.remote.max_attempts = 2;  // a dead registry fails fast
    options.checkpoint.remote_options.remote.backoff = std::chrono::milliseconds(10);
    options.checkpoint.on_remote_error = [](const sealrun::Error& e) {
        say(std::string("remote-error ") + e.what());
        if (term_armed.exchange(false)) ::raise(SIGTERM);
    };
    sealrun::RecordStore store(store_dir);
    auto exp = resume ? sealrun::Experiment::resume(store, resume_from.empty() ? tag : resume_from, options)
                      : std::make_unique<sealrun::Experiment>(store, name, options);
    for (long n = 0; n < runs; ++n) {
        if (n == abandon_at) {
            auto& r = exp->run();
            r.save_file("partial.txt", "step " + std::to_string(r.run_id()) + " saved\n");
            say("open " + std::to_string(r.run_id()));
            term_armed = term_in_hook;
            exp.reset();
            say("destroyed");
            return 0;
        }
        exp->run([&](sealrun::Run& r) {
            const auto id = r.run_id();
            r.log_parameter("i", id);
            r.save_file("result.json", {{"loss", 1.0 / static_cast<double>(id + 1)}});
            r.save_file("partial.txt", "step " + std::to_string(id) + " saved\n");
            say("open " + std::to_string(id));
            if (id == stop_at) wait_for_stdin_to_close();
            if (id == throw_at) throw std::runtime_error("boom at run " + std::to_string(id));
        });
        say("closed " + std::to_string(exp->runs().back()->run_id()));
    }
    exp->commit(tag);
    say("committed");
    return 0;
} catch (const std::exception& e) {
    // The experiment was destroyed while this exception unwound: its last
    // checkpoint says failed.
    std::cerr << "sweep_worker: " << e.what() << "\n";
    return 1;
}
