// A run's trace has its own slot: a reserved file in the record, its own
// untitled layer of type application/vnd.sealrun.trace.v1+json in the sealed
// run (docs/FORMAT.md §4.4), never one of the run's attachments.
#include <doctest/doctest.h>

#include <algorithm>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/expect.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

const nlohmann::json user_file = {{"mine", true}};
const nlohmann::json the_trace = {{"spans", {{{"name", "solve"}, {"ms", 12}}}}};

oci::Descriptor push_raw(content::Target& t, std::string media_type, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(std::move(media_type), bytes);
    if (!t.exists(d)) content::push_bytes(t, d, bytes);
    return d;
}

// run_manifest reads back the manifest and config of run 0 under tag "v1".
std::pair<oci::ImageManifest, nlohmann::json> run_manifest(content::MemoryTarget& t) {
    const auto index = oci::ImageIndex::parse(content::read_all(t, t.resolve("v1"), oci::max_manifest_size));
    auto m = oci::ImageManifest::parse(content::read_all(t, index.manifests.at(0), oci::max_manifest_size));
    auto config = oci::parse_json_strict(content::read_all(t, m.config, oci::max_manifest_size), "config");
    return {std::move(m), std::move(config)};
}

std::vector<CheckResult> failures(const ValidationReport& r) {
    std::vector<CheckResult> out;
    for (const auto& c : r.checks)
        if (!c.passed) out.push_back(c);
    return out;
}

std::string failure_text(const ValidationReport& r) {
    std::string out;
    for (const auto& c : failures(r)) out += c.name + " " + c.subject + ": " + c.message + "\n";
    return out;
}

// push_v2_run builds a version-2 run by hand: one attachment "a.json" and
// the given extra layers; `config_patch` replaces config keys.
oci::Descriptor push_v2_run(content::MemoryTarget& t, const std::vector<oci::Descriptor>& extra,
                            const nlohmann::json& config_patch) {
    oci::ImageManifest m{.artifact_type = std::string(format::run_artifact_type)};
    auto a = push_raw(t, "application/json", R"({"a":1})");
    a.annotations.emplace(oci::annotations::title, "a.json");
    m.layers.push_back(a);
    for (const auto& d : extra) m.layers.push_back(d);
    auto config = test::minimal_run_config({{"a.json", 0}});
    config["version"] = 2;
    for (const auto& [k, v] : config_patch.items()) config[k] = v;
    m.config = push_raw(t, std::string(format::run_config_type), oci::canonical_json(config));
    m.annotations = {{std::string(format::keys::run_id), "0"}, {std::string(format::keys::run_status), "finished"}};
    const auto bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, d, bytes);
    d.artifact_type = m.artifact_type;
    t.tag(d, "run");
    return d;
}

}  // namespace

TEST_CASE("trace: a user's trace.json and the run's trace both survive sealing, distinct, in either order") {
    for (const bool trace_first : {true, false}) {
        CAPTURE(trace_first);
        test::TempDir dir;
        RecordStore store(dir / "storage");
        Experiment exp(store, "traced", test::fixed_options());
        Run& r = exp.run();
        if (trace_first) r.save_trace(the_trace);
        r.save_file("trace.json", user_file);
        if (!trace_first) r.save_trace(the_trace);
        r.finish();
        // In the record the trace is not one of the user's files.
        CHECK(r.files() == std::vector<std::string>{"trace.json"});
        CHECK(r.load_file<nlohmann::json>("trace.json") == user_file);

        content::MemoryTarget t;
        exp.commit(t, "v1");
        const auto run = SealedExperiment::open(t, "v1").run(0);
        CHECK(run.attachment_names() == std::vector<std::string>{"trace.json"});
        CHECK(run.get_json("trace.json") == user_file);
        REQUIRE(run.trace().has_value());
        CHECK(*run.trace() == the_trace);
        REQUIRE(run.trace_descriptor().has_value());
        CHECK(run.trace_descriptor()->media_type == format::trace_type);
        CHECK(run.trace_descriptor()->digest != run.attachments().descriptor("trace.json").digest);
        const auto report = validate(t, "v1");
        CHECK_MESSAGE(report.ok(), failure_text(report));
    }
}

TEST_CASE("trace: sealed as its own untitled layer after the attachments, named by index in a version 2 config") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "traced", test::fixed_options());
    exp.run([](Run& r) {
        r.save_file("b.json", user_file);
        r.save_file("a.txt", "x");
        r.save_trace(the_trace);
    });
    content::MemoryTarget t;
    exp.commit(t, "v1");
    const auto [m, config] = run_manifest(t);
    CHECK(config["version"] == format::config_version);
    CHECK(format::config_version == 2);
    CHECK(config["attachments"] == nlohmann::json{{"a.txt", 0}, {"b.json", 1}});
    CHECK(config["trace"] == 2);
    REQUIRE(m.layers.size() == 3);
    CHECK(m.layers[2].media_type == "application/vnd.sealrun.trace.v1+json");
    CHECK(m.layers[2].annotations.empty());  // no title: tools that write layers out by title skip it
    CHECK(content::read_all(t, m.layers[2], 1 << 20) == oci::canonical_json(the_trace));
}

TEST_CASE("trace: a run holding only a trace has the trace layer and no empty layer; compress leaves it plain") {
    for (const bool compress : {false, true}) {
        CAPTURE(compress);
        test::TempDir dir;
        RecordStore store(dir / "storage");
        Experiment exp(store, "traced", test::fixed_options());
        exp.run([](Run& r) { r.save_trace(the_trace); });
        content::MemoryTarget t;
        exp.commit(t, "v1", SealOptions{.compress = compress});
        const auto [m, config] = run_manifest(t);
        REQUIRE(m.layers.size() == 1);
        CHECK(m.layers[0].media_type == format::trace_type);
        CHECK(config["attachments"] == nlohmann::json::object());
        CHECK(config["trace"] == 0);
        const auto run = SealedExperiment::open(t, "v1").run(0);
        CHECK(run.attachment_names().empty());
        CHECK(run.trace() == the_trace);
        CHECK(validate(t, "v1").ok());
    }
}

TEST_CASE("trace: save_trace after the run closed is refused, not silently left unsealed") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "traced", test::fixed_options());
    Run& r = exp.run();
    r.finish();
    CHECK(errc_of([&] { r.save_trace(the_trace); }) == Errc::invalid_input);
}

TEST_CASE("trace: validate and open check the trace slot of a version 2 run") {
    content::MemoryTarget t;
    const auto trace = push_raw(t, std::string(format::trace_type), R"({"spans":[]})");
    const auto not_json = push_raw(t, std::string(format::trace_type), R"({"spans":[)");
    const auto plain = push_raw(t, "application/json", R"({"b":2})");

    SUBCASE("a well-formed trace layer passes, with a passed trace check") {
        const auto d = push_v2_run(t, {trace}, {{"trace", 1}});
        CHECK(SealedRun::open(t, d).trace() == nlohmann::json{{"spans", nlohmann::json::array()}});
        const auto report = validate(t, "run");
        CHECK_MESSAGE(report.ok(), failure_text(report));
        CHECK(std::any_of(report.checks.begin(), report.checks.end(),
                          [](const CheckResult& c) { return c.name == "trace" && c.passed && !c.warning; }));
    }
    SUBCASE("a version 2 config naming the trace as an attachment is invalid") {
        const auto d = push_v2_run(t, {}, {{"trace", "a.json"}});
        const auto e = test::thrown([&] { (void)SealedRun::open(t, d); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "config.trace"));
        const auto report = validate(t, "run");
        CHECK_FALSE(report.ok());
        CHECK(test::contains(failure_text(report), "config.trace"));
    }
    SUBCASE("the index of a layer that is not a trace is invalid") {
        const auto d = push_v2_run(t, {plain}, {{"trace", 1}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d); }) == Errc::invalid_input);
        CHECK(test::contains(failure_text(validate(t, "run")), "not application/vnd.sealrun.trace.v1+json"));
    }
    SUBCASE("an attachment's layer is not a trace, whatever its media type") {
        const auto d = push_v2_run(t, {}, {{"trace", 0}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d); }) == Errc::invalid_input);
        CHECK_FALSE(validate(t, "run").ok());
    }
    SUBCASE("an index out of range is invalid") {
        const auto d = push_v2_run(t, {trace}, {{"trace", 7}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d); }) == Errc::invalid_input);
        CHECK(test::contains(failure_text(validate(t, "run")), "out of range"));
    }
    SUBCASE("a trace layer the config does not name is invalid") {
        const auto d = push_v2_run(t, {trace}, {{"trace", nullptr}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d); }) == Errc::invalid_input);
        CHECK_FALSE(validate(t, "run").ok());
    }
    SUBCASE("two trace layers are invalid") {
        const auto d = push_v2_run(t, {trace, not_json}, {{"trace", 1}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d); }) == Errc::invalid_input);
        CHECK(test::contains(failure_text(validate(t, "run")), "2 trace layers"));
    }
    SUBCASE("a trace that is not JSON fails the trace check; trace() refuses it") {
        const auto d = push_v2_run(t, {not_json}, {{"trace", 1}});
        CHECK(errc_of([&] { (void)SealedRun::open(t, d).trace(); }) == Errc::invalid_input);
        const auto report = validate(t, "run");
        const auto f = failures(report);
        REQUIRE(f.size() == 1);
        CHECK(f[0].name == "trace");
    }
    SUBCASE("a corrupt trace fails its digest check; trace() refuses it") {
        auto lying = trace;
        lying.size = 5;  // the stored blob is longer: a size mismatch at the first byte too many
        const auto d = push_v2_run(t, {lying}, {{"trace", 1}});
        const auto code = errc_of([&] { (void)SealedRun::open(t, d).trace(); });
        CHECK((code == Errc::size_mismatch || code == Errc::digest_mismatch));
        const auto report = validate(t, "run");
        CHECK(std::any_of(report.checks.begin(), report.checks.end(),
                          [](const CheckResult& c) { return c.name == "digest" && !c.passed; }));
    }
}

TEST_CASE("trace: a record's trace that is not JSON any more is refused at commit, never sealed INVALID") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "traced", test::fixed_options());
    Run& r = exp.run();
    r.save_trace(the_trace);
    r.finish();
    const auto file = r.local_directory() / ".sealrun-trace.json";
    REQUIRE(fs::exists(file));
    test::write_file(file, R"({"spans":[)");
    content::MemoryTarget t;
    const auto e = test::thrown([&] { exp.commit(t, "v1"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, ".sealrun-trace.json"));
    CHECK(t.tags().empty());
}
