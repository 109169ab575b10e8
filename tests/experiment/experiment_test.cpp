#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/sealed.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;

TEST_CASE("experiment: runs count from 0 and close finished, failed or interrupted") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    Run& a = exp.run();
    Run& b = exp.run();
    CHECK(a.run_id() == 0);
    CHECK(b.run_id() == 1);
    a.finish();
    b.interrupt("SIGINT");
    CHECK(a.run_status() == "finished");
    CHECK(b.model()["status"] == "interrupted");
    CHECK(b.model()["reason"] == "SIGINT");
    CHECK(errc_of([&] { a.fail("twice"); }) == Errc::invalid_input);
    CHECK(exp.runs().size() == 2);
}

TEST_CASE("experiment: a body that throws fails the run, Interrupted interrupts it, a return finishes it") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    CHECK_THROWS_AS(exp.run([](Run&) { throw std::runtime_error("boom"); }), std::runtime_error);
    CHECK_THROWS_AS(exp.run([](Run&) { throw Interrupted("ctrl-c"); }), Interrupted);
    exp.run([](Run& r) { r.log_parameter("ok", true); });
    const auto runs = exp.runs();
    CHECK(runs[0]->run_status() == "failed");
    CHECK(runs[0]->model()["reason"] == "boom");
    CHECK(runs[1]->run_status() == "interrupted");
    CHECK(runs[2]->run_status() == "finished");
}

TEST_CASE("experiment: a run destroyed while open is failed, never finished") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    std::string identity;
    {
        Experiment exp(store, "sweep", test::fixed_options());
        Run& r = exp.run();
        r.save_file("partial.txt", "half");
        identity = r.identity();
    }
    const auto model = nlohmann::json::parse(test::read_file(dir / "storage/records" / identity / "model.json"));
    CHECK(model["status"] == "failed");
    CHECK(test::contains(model["reason"].get<std::string>(), "destroyed"));
    {
        Experiment exp(store, "sweep", test::fixed_options("another-session"));
        Run& r = exp.run();
        r.interrupt_on_destroy();
        identity = r.identity();
    }
    const auto m2 = nlohmann::json::parse(test::read_file(dir / "storage/records" / identity / "model.json"));
    CHECK(m2["status"] == "interrupted");
}

TEST_CASE("experiment: parameters keep their type and the last write wins") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    Run& r = exp.run();
    r.log_parameter("lr", 0.5);
    r.log_parameter("lr", 0.25);
    r.log_parameter("epochs", 10);
    r.log_parameter("big", std::int64_t{1} << 40);
    r.log_parameter("opt", "adam");
    r.log_parameter("nesterov", true);
    CHECK(std::get<double>(r.parameters().at("lr")) == 0.25);
    CHECK(std::get<std::int64_t>(r.parameters().at("epochs")) == 10);
    CHECK(std::get<std::string>(r.parameters().at("opt")) == "adam");
    CHECK(std::get<bool>(r.parameters().at("nesterov")));
    r.finish();
    const auto p = r.model()["parameters"];
    CHECK(p["lr"] == 0.25);
    CHECK(p["epochs"].is_number_integer());
    CHECK(p["big"] == std::int64_t{1} << 40);
    CHECK(p["nesterov"] == true);
}

TEST_CASE("experiment: solves need outputs when finished, none otherwise, and ids can be reserved") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    Run& r = exp.run();
    CHECK(errc_of([&] { r.log_solve({.status = "finished", .input = "in.json"}); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.log_solve({.status = "failed", .input = "in.json", .output = "out.json"}); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.log_solve({.status = "weird", .input = "in.json"}); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.log_solve({.status = "failed"}); }) == Errc::invalid_input);  // no input
    const auto reserved = r.reserve_solve_id();
    const auto next = r.log_solve({.input = "in.json", .output = "out.json", .adapter = "highs"});
    CHECK(next == reserved + 1);
    CHECK(r.log_solve({.solve_id = reserved, .status = "interrupted", .input = "in.json"}) == reserved);
    CHECK(errc_of([&] { r.log_solve({.solve_id = reserved, .status = "failed", .input = "in.json"}); }) == Errc::invalid_input);
    const auto solves = r.solves();
    REQUIRE(solves.size() == 2);
    CHECK(solves[0].solve_id == reserved);
    CHECK(solves[1].adapter == "highs");
}

TEST_CASE("experiment: at most one trace") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    Run& r = exp.run();
    r.save_trace({{"spans", nlohmann::json::array()}});
    CHECK(errc_of([&] { r.save_trace({}); }) == Errc::already_exists);
}

TEST_CASE("experiment: a closed run refuses every write, so what it holds is what is sealed") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "late", test::fixed_options());
    Run& r = exp.run([](Run& run) {
        run.log_parameter("lr", 0.1);
        run.save_file("in.json", nlohmann::json::object());
    });
    REQUIRE(r.run_status() == "finished");
    const auto source = dir / "source.txt";
    test::write_file(source, "x");
    const std::vector<std::function<void()>> late = {
        [&] { r.log_parameter("late", 1); },
        [&] { r.save_file("late.json", nlohmann::json{{"x", 1}}); },
        [&] { r.append_jsonl("late.jsonl", nlohmann::json{{"x", 1}}); },
        [&] { r.import_file("late.txt", source); },
        [&] { r.log_solve({.input = "in.json", .output = "in.json"}); },
        [&] { r.reserve_solve_id(); },
        [&] { r.save_trace(nlohmann::json::object()); },
        [&] { r.describe("train", nullptr); },
    };
    for (const auto& write : late) {
        const auto e = test::thrown(write);
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "run 0: is closed as finished"));
    }
    content::MemoryTarget dst;
    exp.commit(dst, "t");
    const auto sealed = SealedExperiment::open(dst, "t").run(0);
    CHECK(sealed.parameters().size() == 1);
    CHECK(sealed.attachment_names() == std::vector<std::string>{"in.json"});
    CHECK(sealed.solves().empty());
    CHECK_FALSE(sealed.trace_descriptor().has_value());
}

TEST_CASE("experiment: commit refuses open runs and solves naming missing attachments") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    content::MemoryTarget dst;
    {
        Experiment exp(store, "open", test::fixed_options());
        exp.run();
        CHECK(errc_of([&] { exp.commit(dst, "t"); }) == Errc::invalid_input);
        exp.runs()[0]->finish();
    }
    Experiment exp(store, "missing", test::fixed_options());
    exp.run([](Run& r) { r.log_solve({.input = "absent.json", .output = "also-absent.json"}); });
    const auto e = test::thrown([&] { exp.commit(dst, "t"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "absent.json"));
    CHECK(dst.tags().empty());
}

TEST_CASE("experiment: NaN and infinite parameters are refused, not sealed as null") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    Run& r = exp.run();
    CHECK(errc_of([&] { r.log_parameter("x", std::nan("")); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.log_parameter("x", 1.0 / 0.0); }) == Errc::invalid_input);
    CHECK(r.parameters().empty());
}

TEST_CASE("experiment: re-recording a run replaces its parameters instead of merging old ones in") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    {
        Experiment exp(store, "sweep", test::fixed_options());
        exp.run([](Run& r) {
            r.log_parameter("old", 1);
            r.log_parameter("kept", 1);
        });
    }
    Experiment exp(store, "sweep", test::fixed_options());  // same session: the same record
    exp.run([](Run& r) { r.log_parameter("kept", 2); });
    const auto params = exp.runs()[0]->model()["parameters"];
    CHECK(params == nlohmann::json{{"kept", 2}});
}

TEST_CASE("experiment: user files that look temporary are still sealed") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep", test::fixed_options());
    exp.run([](Run& r) { r.save_file(".tmp-notes.txt", "mine"); });
    content::MemoryTarget t;
    exp.commit(t, "v1");
    CHECK(SealedExperiment::open(t, "v1").run(0).get_blob(".tmp-notes.txt") == "mine");
}

TEST_CASE("experiment: a TMPDIR that is not a directory is an Error(io) at commit, not a filesystem_error") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "x", test::fixed_options());
    exp.run([](Run& r) { r.save_file("a.txt", "a"); });
    test::write_file(dir / "not-a-dir", "x");
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old != nullptr ? old : "";
    ::setenv("TMPDIR", (dir / "not-a-dir").c_str(), 1);
    content::MemoryTarget t;
    Errc code = Errc::invalid_input;
    bool other = false;
    try {
        exp.commit(t, "v1");
    } catch (const Error& e) {
        code = e.code();
    } catch (...) {
        other = true;
    }
    if (old != nullptr) ::setenv("TMPDIR", saved.c_str(), 1);
    else ::unsetenv("TMPDIR");
    CHECK_FALSE(other);
    CHECK(code == Errc::io);
}

TEST_CASE("experiment: without keep_closed_runs a closed run goes at the next run() and is sealed from its record, the same bytes") {
    // Two stores, one experiment recorded twice: every Run kept, and each
    // closed run let go at the next run(). The sealed experiments (runs
    // with solves, a failed run, a trace, summary values read from the
    // records) are the same bytes, into another target and into the store.
    test::TempDir dir;
    const auto record = [](Experiment& exp) {
        test::record_two_runs(exp);
        Run& traced = exp.run();
        traced.log_parameter("seed", 7);
        traced.save_file("result.json", {{"loss", 0.125}});
        traced.save_trace({{"events", nlohmann::json::array({"start", "stop"})}});
        traced.finish();
    };
    const SealOptions with_values{.summary_values = {"result.json:loss"}};
    RecordStore kept_store(dir / "kept");
    Experiment kept(kept_store, "sweep", test::fixed_options());
    record(kept);
    CHECK(kept.runs().size() == 3);

    RecordStore store(dir / "let-go");
    auto options = test::fixed_options();
    options.keep_closed_runs = false;
    Experiment exp(store, "sweep", options);
    test::record_two_runs(exp);
    REQUIRE(exp.runs().size() == 1);  // run 0 went when run 1 started
    CHECK(exp.runs()[0]->run_id() == 1);
    CHECK(exp.runs()[0]->run_status() == "failed");  // closed, held until the next run()
    Run& traced = exp.run();
    REQUIRE(exp.runs().size() == 1);
    CHECK(exp.runs()[0] == &traced);
    traced.log_parameter("seed", 7);
    traced.save_file("result.json", {{"loss", 0.125}});
    traced.save_trace({{"events", nlohmann::json::array({"start", "stop"})}});
    traced.finish();

    content::MemoryTarget a, b;
    const auto expected = kept.commit(a, "v1", with_values);
    CHECK(exp.commit(b, "v1", with_values).digest == expected.digest);
    const auto sealed = SealedExperiment::open(b, "v1");
    const auto* summary = sealed.summary();
    REQUIRE(summary != nullptr);
    REQUIRE(summary->runs.size() == 3);
    CHECK(summary->runs[0].values.at("result.json:loss") == Parameter(0.25));  // read from run 0's record
    CHECK(summary->runs[2].values.at("result.json:loss") == Parameter(0.125));
    CHECK(sealed.run(0).solves().size() == 1);

    const auto root = exp.commit("v1", with_values);
    CHECK(root.digest == kept.commit("v1", with_values).digest);
    // Every record, those let go too, was noted as sealed: untagged, gc takes them all.
    content::OciLayout(store.root()).untag("v1");
    CHECK(store.collect([] { return std::set<std::string>{}; }).records_removed == 4);  // 3 runs, the attachments
}
