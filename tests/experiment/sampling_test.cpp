// Samplings (a sampler's calls, docs/FORMAT.md §4.2 "Samplings"): logged on
// a Run apart from its solves, sealed into the run config's optional
// "samplings", read back by SealedRun::samplings() and checked by the one
// rulebook the readers and validate() share.
#include <doctest/doctest.h>

#include <functional>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using json = nlohmann::json;
using test::errc_of;

namespace {

// record_sampler_run records run 0 of `exp`: a finished sampling and a
// failed one over JSON attachments, and a solve beside them.
void record_sampler_run(Experiment& exp) {
    exp.run([](Run& r) {
        r.save_file("qubo.json", {{"q", {{0, 1, -1.0}}}});
        r.save_file("samples.json", {{"samples", {{0, 1}, {1, 0}}}});
        r.save_file("solution.json", {{"x", {1, 0}}});
        r.log_solve({.input = "qubo.json", .output = "solution.json", .adapter = "highs"});
        r.log_sampling({.status = "failed", .input = "qubo.json", .adapter = "neal", .diagnostics = {{"error", "timeout"}}});
        r.log_sampling({.input = "qubo.json", .output = "samples.json", .adapter = "openjij",
                        .adapter_options = {{"num_reads", 2}}});
    });
}

// seal_sampler_run records and commits that run as "v1" into `t` and
// returns the root.
oci::Descriptor seal_sampler_run(const test::TempDir& dir, content::Target& t) {
    RecordStore store(dir / "storage");
    Experiment exp(store, "sampler", test::fixed_options());
    record_sampler_run(exp);
    return exp.commit(t, "v1");
}

// RunParts is run 0 of a sealed experiment as editable documents.
struct RunParts {
    oci::ImageManifest manifest;
    json config;
};

RunParts run0(content::MemoryTarget& t) {
    const auto run = SealedExperiment::open(t, "v1").run(0);
    auto m = oci::ImageManifest::parse(content::read_all(t, run.manifest(), oci::max_manifest_size));
    return {std::move(m), run.config()};
}

// tag_edited stores `config` as the config of a copy of run 0's manifest
// and tags that manifest "edited" (a lone run, as validate() and
// SealedRun::open take one).
void tag_edited(content::MemoryTarget& t, RunParts parts, const json& config) {
    const auto bytes = oci::canonical_json(config);
    parts.manifest.config = oci::Descriptor::for_bytes(parts.manifest.config.media_type, bytes);
    if (!t.exists(parts.manifest.config)) content::push_bytes(t, parts.manifest.config, bytes);
    const auto m = parts.manifest.serialize();
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), m);
    if (!t.exists(d)) content::push_bytes(t, d, m);
    t.tag(d, "edited");
}

// failures returns validate()'s failed checks as "NAME: MESSAGE" lines.
std::string failures(const ValidationReport& r) {
    std::string out;
    for (const auto& c : r.checks)
        if (!c.passed) out += c.name + ": " + c.message + "\n";
    return out;
}

}  // namespace

TEST_CASE("sampling: a record is written and read as the run config holds it, and check refuses what the format refuses") {
    const SamplingRecord s{.sampling_id = 3, .input = "in", .output = "out", .adapter = "openjij",
                           .adapter_options = {{"num_reads", 10}}, .diagnostics = {{"ms", 5}}};
    const auto j = s.to_json();
    CHECK(j == json{{"sampling_id", 3}, {"status", "finished"}, {"input", "in"}, {"output", "out"}, {"adapter", "openjij"},
                    {"adapter_options", {{"num_reads", 10}}}, {"diagnostics", {{"ms", 5}}}});
    const auto back = SamplingRecord::from_json(j, "x");
    CHECK(back.to_json() == j);
    CHECK(SamplingRecord{.status = "failed", .input = "in"}.to_json()["output"].is_null());

    // from_json names the JSON path of the problem.
    auto no_id = j;
    no_id.erase("sampling_id");
    no_id["solve_id"] = 3;  // a solve's id is not a sampling's
    CHECK(test::has(test::thrown([&] { (void)SamplingRecord::from_json(no_id, "config.samplings[0]"); }).message,
                    "config.samplings[0].sampling_id: is required"));
    auto finished_no_output = j;
    finished_no_output["output"] = nullptr;
    CHECK(test::has(test::thrown([&] { (void)SamplingRecord::from_json(finished_no_output, "p"); }).message,
                    "finished but has no output"));
    auto options_array = j;
    options_array["adapter_options"] = json::array();
    CHECK(errc_of([&] { (void)SamplingRecord::from_json(options_array, "p"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { (void)SamplingRecord::from_json(json::array(), "p"); }) == Errc::invalid_input);

    // check: the rules of a solve, said of a sampling.
    const auto message = [](SamplingRecord r) { return test::thrown([&] { r.check(); }).message; };
    CHECK(test::has(message({.sampling_id = 4, .status = "weird", .input = "in"}), "sampling 4"));
    CHECK(test::has(message({.status = "weird", .input = "in"}), "is not finished, failed or interrupted"));
    CHECK(test::has(message({.status = "failed"}), "has no input attachment"));
    CHECK(test::has(message({.input = "in"}), "finished but has no output"));
    CHECK(test::has(message({.status = "interrupted", .input = "in", .output = "out"}), "is interrupted but has an output"));
    CHECK(test::has(message({.input = "in", .output = "out", .adapter_options = 1}), "adapter_options"));
}

TEST_CASE("sampling: a run logs samplings with ids of their own, reserved ids included") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sampler", test::fixed_options());
    Run& r = exp.run();
    r.log_solve({.input = "in.json", .output = "out.json"});
    CHECK(r.log_sampling({.input = "in.json", .output = "set.json", .adapter = "openjij"}) == 0);  // solve 0 does not count
    const auto reserved = r.reserve_sampling_id();
    CHECK(reserved == 1);
    CHECK(r.log_sampling({.input = "in.json", .output = "set2.json"}) == 2);
    CHECK(r.log_sampling({.sampling_id = reserved, .status = "interrupted", .input = "in.json"}) == reserved);
    CHECK(test::has(test::thrown([&] { r.log_sampling({.sampling_id = 2, .status = "failed", .input = "in.json"}); }).message,
                    "id already logged"));
    CHECK(errc_of([&] { r.log_sampling({.input = "in.json"}); }) == Errc::invalid_input);  // finished, no output
    const auto logged = r.samplings();
    REQUIRE(logged.size() == 3);
    CHECK(logged[0].adapter == "openjij");
    CHECK(logged[1].sampling_id == reserved);
    CHECK(logged[1].status == "interrupted");
    CHECK(logged[2].output == "set2.json");
    CHECK(r.solves().size() == 1);
}

TEST_CASE("sampling: a closed run refuses samplings and sealing keeps what it held when it closed") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sampler", test::fixed_options());
    Run& r = exp.run();
    r.save_file("in.json", {{"q", 1}});
    r.finish();
    const auto closed = [&](const std::function<void()>& write) {
        const auto e = test::thrown(write);
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::has(e.message, "is closed as finished"));
    };
    closed([&] { r.log_sampling({.input = "in.json", .output = "in.json"}); });
    closed([&] { (void)r.reserve_sampling_id(); });
    CHECK(r.samplings().empty());
    content::MemoryTarget t;
    exp.commit(t, "v1");
    const auto sealed = SealedExperiment::open(t, "v1").run(0);
    CHECK(sealed.samplings().empty());
    CHECK(!sealed.config().contains("samplings"));  // absent, not [], when there are none
}

TEST_CASE("sampling: commit seals samplings into the run config; SealedRun reads them; validate passes") {
    test::TempDir dir;
    content::MemoryTarget t;
    const auto root = seal_sampler_run(dir, t);
    const auto run = SealedExperiment::open(t, "v1").run(0);
    REQUIRE(run.samplings().size() == 2);
    CHECK(run.samplings()[0].sampling_id == 0);
    CHECK(run.samplings()[0].status == "failed");
    CHECK(!run.samplings()[0].output);
    CHECK(run.samplings()[0].diagnostics == json{{"error", "timeout"}});
    CHECK(run.samplings()[1].sampling_id == 1);
    CHECK(run.samplings()[1].output == "samples.json");
    CHECK(run.samplings()[1].adapter_options == json{{"num_reads", 2}});
    REQUIRE(run.solves().size() == 1);
    CHECK(run.solves()[0].adapter == "highs");
    // The stored config holds them as the model writes them, after "solves".
    const auto stored = run.config();
    CHECK(stored["version"] == format::config_version);
    CHECK(stored["samplings"] == json::array({run.samplings()[0].to_json(), run.samplings()[1].to_json()}));
    CHECK(run.get_json(*run.samplings()[1].output) == json{{"samples", {{0, 1}, {1, 0}}}});

    const auto report = validate(t, "v1");
    CHECK_MESSAGE(report.ok(), failures(report));
    CHECK(report.kind == "experiment");

    // Deterministic: the same recording sealed again gives the same root.
    test::TempDir other;
    content::MemoryTarget t2;
    CHECK(seal_sampler_run(other, t2).digest == root.digest);
}

TEST_CASE("sampling: commit refuses a sampling naming an attachment the run does not hold") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sampler", test::fixed_options());
    exp.run([](Run& r) {
        r.save_file("in.json", {{"q", 1}});
        r.log_sampling({.input = "in.json", .output = "absent.json", .adapter = "openjij"});
    });
    content::MemoryTarget t;
    const auto e = test::thrown([&] { exp.commit(t, "v1"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::has(e.message, "run 0 sampling 0"));
    CHECK(test::has(e.message, "absent.json"));
    CHECK(t.tags().empty());
}

TEST_CASE("sampling: a hand-edited run config with broken samplings is refused by the reader and failed by validate alike") {
    test::TempDir dir;
    content::MemoryTarget t;
    seal_sampler_run(dir, t);
    const auto parts = run0(t);
    struct Edit {
        std::string name;
        std::string finding;  // empty: accepted
        std::function<void(json&)> apply;
    };
    const std::vector<Edit> edits = {
        {"as sealed", "", [](json&) {}},
        {"a finished sampling without output", "config.samplings[1]: is finished but has no output",
         [](json& c) { c["samplings"][1]["output"] = nullptr; }},
        {"a failed sampling with an output", "is failed but has an output",
         [](json& c) { c["samplings"][0]["output"] = "samples.json"; }},
        {"a repeated sampling id", "config.samplings[1]: sampling id 0 repeats",
         [](json& c) { c["samplings"][1]["sampling_id"] = 0; }},
        {"an input naming no attachment", "config.samplings[0]: input \"absent.json\" is not an attachment",
         [](json& c) { c["samplings"][0]["input"] = "absent.json"; }},
        {"an output naming no attachment", "config.samplings[1]: output \"absent.json\" is not an attachment",
         [](json& c) { c["samplings"][1]["output"] = "absent.json"; }},
        {"samplings not an array", "config.samplings: must be an array", [](json& c) { c["samplings"] = json::object(); }},
        {"a sampling keyed by solve_id", "config.samplings[0].sampling_id: is required",
         [](json& c) {
             c["samplings"][0]["solve_id"] = 0;
             c["samplings"][0].erase("sampling_id");
         }},
        {"an unknown status", "is not finished, failed or interrupted", [](json& c) { c["samplings"][0]["status"] = "lost"; }},
        {"adapter options not an object", "config.samplings[1].adapter_options: must be an object",
         [](json& c) { c["samplings"][1]["adapter_options"] = "num_reads=2"; }},
        {"samplings absent (none)", "", [](json& c) { c.erase("samplings"); }},
        {"ids descending (readers sort; a warning)", "",
         [](json& c) { std::swap(c["samplings"][0], c["samplings"][1]); }},
        {"a version-1 config with samplings", "", [](json& c) { c["version"] = 1; }},
    };
    for (const auto& edit : edits) {
        CAPTURE(edit.name);
        auto config = parts.config;
        edit.apply(config);
        tag_edited(t, parts, config);
        const auto refusal = test::error_of([&] { (void)SealedRun::open(t, "edited"); });
        const auto report = validate(t, "edited");
        CHECK(report.kind == "run");
        if (edit.finding.empty()) {
            CHECK_MESSAGE(!refusal, std::string(refusal ? refusal->what() : ""));
            CHECK_MESSAGE(report.ok(), failures(report));
        } else {
            REQUIRE(refusal);
            CHECK(refusal->code() == Errc::invalid_input);
            CHECK_MESSAGE(test::has(refusal->what(), edit.finding), std::string(refusal->what()));
            CHECK(!report.ok());
            CHECK_MESSAGE(test::has(failures(report), "solves: "), failures(report));
            CHECK_MESSAGE(test::has(failures(report), edit.finding), failures(report));
        }
    }
    // The descending order is read sorted, and validate says it is unusual.
    auto config = parts.config;
    std::swap(config["samplings"][0], config["samplings"][1]);
    tag_edited(t, parts, config);
    const auto sorted = SealedRun::open(t, "edited").samplings();
    REQUIRE(sorted.size() == 2);
    CHECK(sorted[0].sampling_id == 0);
    bool warned = false;
    for (const auto& c : validate(t, "edited").checks)
        warned = warned || (c.name == "solves" && c.warning && test::has(c.message, "writers write ids ascending"));
    CHECK(warned);
}

namespace {

ommx::Instance small_instance() {
    ommx::Instance i;
    i.set_sense(ommx::Sense::minimize);
    ommx::DecisionVariable x;
    x.id = 0;
    x.kind = ommx::Kind::binary;
    x.name = "x";
    i.add_decision_variable(x);
    i.set_objective(ommx::Function{.form = ommx::Function::Form::linear, .terms = {{.ids = {0}, .coefficient = 1.5}}});
    return i;
}

ommx::SampleSet small_sample_set() {
    ommx::SampleSet s;
    s.set_sense(ommx::Sense::minimize);
    s.add_sample({.id = 0, .objective = 1.5, .feasible = true, .state = {{0, 1.0}}});
    s.add_sample({.id = 1, .objective = 0.0, .feasible = false, .state = {{0, 0.0}}});
    return s;
}

ommx::Solution small_solution() {
    ommx::Solution s;
    s.set_objective(1.5);
    s.set_feasible(true);
    s.set_state({{0, 1.0}});
    return s;
}

}  // namespace

TEST_CASE("sampling: OMMX payloads logged on a run and an experiment read back equal, under their media types") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "ommx", test::fixed_options());
    const auto instance = small_instance();
    const auto samples = small_sample_set();
    const auto solution = small_solution();
    exp.log_instance("shared/instance", instance);
    exp.run([&](Run& r) {
        r.log_instance("problem", instance);
        r.log_solution("answer", solution);
        r.log_sample_set("set", samples);
        CHECK(r.log_solve(instance, solution, "highs", {.adapter_options = {{"time_limit", 10}}}) == 0);
        CHECK(r.log_sample(instance, samples, "openjij", {.adapter_options = {{"num_reads", 2}}}) == 0);
        CHECK(r.log_sample(instance, samples, "neal", {.input = "mine/in", .output = "mine/out"}) == 1);
        // Default names are never reused over a file the run holds; equal names are refused.
        r.save_file("samplings/2/input", codecs::Bytes{"mine"}, "application/octet-stream");
        CHECK(errc_of([&] { r.log_sample(instance, samples, "neal"); }) == Errc::already_exists);
        CHECK(errc_of([&] { r.log_sample(instance, samples, "neal", {.input = "a", .output = "a"}); }) == Errc::invalid_input);
        CHECK(r.samplings().size() == 2);
    });
    Run& closed = *exp.runs()[0];
    CHECK(test::has(test::thrown([&] { closed.log_instance("late", instance); }).message, "log_instance run 0: is closed"));
    CHECK(errc_of([&] { closed.log_sample(instance, samples, "neal"); }) == Errc::invalid_input);
    content::MemoryTarget t;
    const auto root = exp.commit(t, "v1");

    const auto sealed = SealedExperiment::open(t, "v1");
    CHECK(sealed.get_instance("shared/instance").encode() == instance.encode());
    const auto run = sealed.run(0);
    CHECK(run.attachment_media_type("problem") == ommx::media_types::instance);
    CHECK(run.attachment_media_type("set") == ommx::media_types::sample_set);
    CHECK(run.get_instance("problem").encode() == instance.encode());
    CHECK(run.get_instance("problem").sense() == ommx::Sense::minimize);
    CHECK(run.get_solution("answer").objective() == 1.5);
    CHECK(run.get_sample_set("set").encode() == samples.encode());
    REQUIRE(run.solves().size() == 1);
    CHECK(run.solves()[0].input == "solves/0/input");
    CHECK(run.solves()[0].adapter_options == json{{"time_limit", 10}});
    CHECK(run.get_solution(*run.solves()[0].output).encode() == solution.encode());
    REQUIRE(run.samplings().size() == 2);
    CHECK(run.samplings()[0].input == "samplings/0/input");
    CHECK(run.samplings()[0].output == "samplings/0/output");
    CHECK(run.get_instance(run.samplings()[0].input).encode() == instance.encode());
    CHECK(run.get_sample_set(*run.samplings()[0].output).best_feasible()->id == 0);
    CHECK(run.samplings()[1].output == "mine/out");
    CHECK(run.get_sample_set("mine/out").encode() == samples.encode());
    const auto report = validate(t, "v1");
    CHECK_MESSAGE(report.ok(), failures(report));
    // Sealing the same content again gives the same root.
    CHECK(exp.commit(t, "v1").digest == root.digest);
}
