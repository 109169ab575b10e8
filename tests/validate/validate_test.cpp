#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <iterator>

#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::contains;
namespace fs = std::filesystem;

namespace {

// push_manifest stores `m` and returns its descriptor.
oci::Descriptor push_manifest(content::Target& t, const oci::ImageManifest& m) {
    const auto bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, d, bytes);
    return d;
}

oci::Descriptor push_raw(content::Target& t, std::string media_type, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(std::move(media_type), bytes);
    content::push_bytes(t, d, bytes);
    return d;
}

// A hand-built run manifest with every key a writer writes: `files` become
// layers whose names are both attachment-table keys and titles (so a test
// can make them hostile); `config_patch` replaces top-level config keys.
oci::Descriptor push_run(content::Target& t, const std::vector<std::pair<std::string, std::string>>& files,
                         const nlohmann::json& config_patch = nlohmann::json::object(),
                         const std::string& media_type = "text/plain") {
    oci::ImageManifest m{.artifact_type = std::string(format::run_artifact_type)};
    nlohmann::json table = nlohmann::json::object();
    for (const auto& [name, bytes] : files) {
        auto d = push_raw(t, media_type, bytes);
        d.annotations.emplace(oci::annotations::title, name);
        table[name] = m.layers.size();
        m.layers.push_back(d);
    }
    auto config = test::minimal_run_config(table);
    for (const auto& [k, v] : config_patch.items()) config[k] = v;
    m.config = push_raw(t, std::string(format::run_config_type), oci::canonical_json(config));
    m.annotations = {{std::string(format::keys::run_id), config.value("run_id", nlohmann::json(0)).dump()},
                     {std::string(format::keys::run_status), config.value("status", std::string("finished"))}};
    return push_manifest(t, m);
}

// validate_run tags `run` "run" and validates it on its own.
ValidationReport validate_run(content::MemoryTarget& t, const oci::Descriptor& run, const ValidationOptions& o = {}) {
    t.tag(run, "run");
    return validate(t, "run", o);
}

std::vector<CheckResult> named(const ValidationReport& r, std::string_view name) {
    std::vector<CheckResult> out;
    for (const auto& c : r.checks)
        if (c.name == name) out.push_back(c);
    return out;
}

std::vector<CheckResult> failed(const ValidationReport& r) {
    std::vector<CheckResult> out;
    for (const auto& c : r.checks)
        if (!c.passed) out.push_back(c);
    return out;
}

// the_failure returns the report's one failed check (the test fails when
// there is not exactly one).
CheckResult the_failure(const ValidationReport& r) {
    const auto f = failed(r);
    INFO(to_text(r));
    REQUIRE(f.size() == 1);
    return f.front();
}

std::string index_bytes(content::Target& t, std::string_view ref) {
    return content::read_all(t, t.resolve(ref), oci::max_manifest_size);
}

oci::Descriptor push_index(content::Target& t, const oci::ImageIndex& index, std::string_view tag) {
    const auto d = push_raw(t, std::string(oci::media_types::image_index), index.serialize());
    t.tag(d, tag);
    return d;
}

// without_summary returns `index` as sealrun wrote it before summaries (no
// summary entry, no run count): tests that break one index entry on purpose
// use it, or the summary, which then disagrees with the index, fails too.
oci::ImageIndex without_summary(oci::ImageIndex index) {
    std::erase_if(index.manifests, [](const oci::Descriptor& e) {
        const auto it = e.annotations.find(std::string(format::keys::part));
        return it != e.annotations.end() && it->second == format::part_summary;
    });
    index.annotations.erase(std::string(format::keys::experiment_runs));
    return index;
}

}  // namespace

TEST_CASE("validate: a sealed two-run experiment passes every check") {
    test::TempDir dir;
    content::MemoryTarget t;
    const auto root = test::commit_two_runs(dir, t);
    const auto r = validate(t, "v1");
    INFO(to_text(r));
    CHECK(r.ok());
    CHECK(r.failures() == 0);
    CHECK(r.warnings() == 0);
    CHECK(r.reference == "v1");
    CHECK(r.kind == "experiment");
    CHECK(r.digest == root.digest.str());
    std::set<std::string> names;
    for (const auto& c : r.checks) names.insert(c.name);
    CHECK(names == std::set<std::string>{"resolve", "digest", "schema", "media-type", "experiment", "artifact-type",
                                         "run-config", "experiment-config", "run-id", "status", "solves", "title",
                                         "codec", "summary"});
    // Every blob verified once: index, 3 manifests, 3 configs, 5 attachments,
    // and the summary's manifest, empty config and document.
    CHECK(named(r, "digest").size() == t.blob_count());
    CHECK(named(r, "digest").size() == 15);
    // index, 3 manifests, 3 configs, the summary manifest.
    CHECK(named(r, "schema").size() == 8);
    CHECK(named(r, "codec").size() == 5);
    CHECK(named(r, "title").size() == 5);
    CHECK(named(r, "run-config").size() == 2);
    std::set<std::string> codec_subjects;
    for (const auto& c : named(r, "codec")) codec_subjects.insert(c.subject);
    CHECK(codec_subjects == std::set<std::string>{"run 0: input.json", "run 0: plots/curve.jsonl", "run 0: result.json",
                                                  "run 1: log.txt", "experiment: sweep.json"});
    const auto solves = named(r, "solves");
    REQUIRE(solves.size() == 2);
    CHECK(solves[0].subject == "run 0");
    CHECK(contains(solves[0].message, "1 solve"));
    // Strict changes nothing for a clean archive.
    CHECK(validate(t, "v1", {.strict = true}).ok());
    CHECK(validate(t, root.digest.str()).ok());
}

TEST_CASE("validate: the local store and compressed attachments pass too") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "gd-sweep", test::fixed_options());
    test::record_two_runs(exp);
    exp.commit("v1", {.compress = true});
    content::OciLayout layout(dir / "storage");
    const auto r = validate(layout, "v1", {.strict = true});
    INFO(to_text(r));
    CHECK(r.ok());
    CHECK(r.warnings() == 0);
    for (const auto& c : named(r, "codec")) CHECK(contains(c.message, "after zstd decompression"));
}

TEST_CASE("validate: an index whose artifactType fields were dropped is still an experiment") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    auto index = oci::ImageIndex::parse(index_bytes(t, "v1"));
    index.artifact_type.reset();
    for (auto& m : index.manifests) m.artifact_type.reset();
    push_index(t, index, "dropped");
    CHECK_NOTHROW((void)SealedExperiment::open(t, "dropped"));
    const auto r = validate(t, "dropped", {.strict = true});
    INFO(to_text(r));
    CHECK(r.ok());
    CHECK(r.kind == "experiment");
    REQUIRE(named(r, "experiment").size() == 1);
    CHECK(contains(named(r, "experiment")[0].message, "artifactType was dropped"));
    CHECK(named(r, "codec").size() == 5);  // runs were validated, not just walked

    // An index that says it is something else is only walked generically.
    index.artifact_type = "application/vnd.example.other";
    push_index(t, index, "other");
    const auto other = validate(t, "other");
    CHECK(other.kind == "image-index");
    CHECK(named(other, "codec").empty());
    CHECK(named(other, "digest").size() == 15);  // with the summary's 3 blobs
    REQUIRE(named(other, "experiment").size() == 1);
    CHECK(named(other, "experiment")[0].warning);
    CHECK_FALSE(validate(t, "other", {.strict = true}).ok());
}

TEST_CASE("validate: a corrupted blob on disk fails its digest check") {
    test::TempDir dir;
    test::commit_two_runs_in_place(dir);
    content::OciLayout layout(dir / "storage");
    const auto run = SealedExperiment::open(layout, "v1").run(0);
    const auto d = run.attachments().descriptor("result.json");
    auto bytes = test::read_file(layout.blob_path(d.digest));
    bytes[2] ^= 0x01;
    test::write_file(layout.blob_path(d.digest), bytes);

    const auto r = validate(layout, "v1");
    const auto f = the_failure(r);
    CHECK(f.name == "digest");
    CHECK(f.subject == d.digest.str());
    CHECK(contains(f.message, "digest mismatch"));
    CHECK(contains(f.message, "result.json"));
    // Everything else was still checked; only the corrupt attachment is not decoded.
    CHECK(named(r, "codec").size() == 4);
    CHECK(named(r, "digest").size() == 15);  // with the summary's 3 blobs

    // Truncated and missing blobs are named as such.
    const auto log = SealedExperiment::open(layout, "v1").run(1).attachments().descriptor("log.txt");
    test::write_file(layout.blob_path(log.digest), "loss");
    const auto sweep = SealedExperiment::open(layout, "v1").attachments().descriptor("sweep.json");
    fs::remove(layout.blob_path(sweep.digest));
    const auto again = validate(layout, "v1");
    INFO(to_text(again));
    CHECK(again.failures() == 3);
    for (const auto& c : failed(again)) {
        CHECK(c.name == "digest");
        if (c.subject == log.digest.str()) {
            CHECK(contains(c.message, "corrupt content"));
            CHECK(contains(c.message, "24"));
        }
        if (c.subject == sweep.digest.str()) CHECK(contains(c.message, "missing"));
    }
}

TEST_CASE("validate: a media type without a codec warns, fails with strict, passes with codec_allow") {
    content::MemoryTarget t;
    const auto run = push_run(t, {{"weights.bin", "\x01\x02"}}, nlohmann::json::object(), "application/x-unknown-format");
    t.tag(run, "run");

    const auto lenient = validate(t, "run");
    INFO(to_text(lenient));
    CHECK(lenient.ok());
    CHECK(lenient.kind == "run");
    CHECK(lenient.warnings() == 1);
    const auto codec = named(lenient, "codec");
    REQUIRE(codec.size() == 1);
    CHECK(codec[0].passed);
    CHECK(codec[0].warning);
    CHECK(codec[0].subject == "run 0: weights.bin");
    CHECK(contains(codec[0].message, "no codec is registered for application/x-unknown-format"));

    const auto strict = validate(t, "run", {.strict = true});
    const auto f = the_failure(strict);
    CHECK(f.name == "codec");
    CHECK_FALSE(f.warning);
    CHECK(contains(f.message, "strict: "));
    CHECK(contains(f.message, "application/x-unknown-format"));

    for (const auto* allow : {"application/x-unknown-format", "application/*"}) {
        CAPTURE(allow);
        const auto allowed = validate(t, "run", {.strict = true, .codec_allow = {allow}});
        INFO(to_text(allowed));
        CHECK(allowed.ok());
        CHECK(allowed.warnings() == 0);
        REQUIRE(named(allowed, "codec").size() == 1);
        CHECK(contains(named(allowed, "codec")[0].message, "accepted by codec_allow"));
    }
    CHECK_FALSE(validate(t, "run", {.strict = true, .codec_allow = {"text/*"}}).ok());

    // A registry of one's own: with no codecs at all, every attachment warns.
    CodecRegistry empty;
    test::TempDir dir;
    content::MemoryTarget exp;
    test::commit_two_runs(dir, exp);
    const auto bare = validate(exp, "v1", {.codecs = &empty});
    CHECK(bare.ok());
    CHECK(bare.warnings() == 5);
}

TEST_CASE("validate: an attachment its codec cannot decode fails the codec check") {
    content::MemoryTarget t;
    const auto r = validate_run(t, push_run(t, {{"result.json", "{broken"}}, nlohmann::json::object(), "application/json"));
    const auto f = the_failure(r);
    CHECK(f.name == "codec");
    CHECK(f.subject == "run 0: result.json");
    CHECK(contains(f.message, "application/json codec cannot decode"));

    // Compressed in name only.
    content::MemoryTarget z;
    const auto rz = validate_run(z, push_run(z, {{"a.json", "{}"}}, nlohmann::json::object(), "application/json+zstd"));
    const auto fz = the_failure(rz);
    CHECK(fz.name == "codec");
    CHECK(contains(fz.message, "not a zstd frame"));

    // Duplicate keys inside a JSON attachment are refused like the codec does.
    content::MemoryTarget d;
    const auto rd = validate_run(d, push_run(d, {{"a.json", R"({"a":1,"a":2})"}}, nlohmann::json::object(), "application/json"));
    CHECK(the_failure(rd).name == "codec");
}

TEST_CASE("validate: hostile or mismatched titles fail the title check") {
    content::MemoryTarget t;
    const auto r = validate_run(t, push_run(t, {{"../../escape", "x"}}));
    const auto f = the_failure(r);
    CHECK(f.name == "title");
    CHECK(f.subject == "run 0: ../../escape");
    CHECK(contains(f.message, "unsafe attachment name"));
    CHECK(contains(f.message, "'..'"));

    for (const char* name : {"/etc/passwd", "a/../../b", "./result.json"}) {
        CAPTURE(name);
        content::MemoryTarget h;
        const auto hr = validate_run(h, push_run(h, {{name, "x"}}));
        CHECK(the_failure(hr).name == "title");
    }

    content::MemoryTarget m;
    const auto mr = validate_run(m, push_run(m, {{"a.txt", "a"}}, {{"attachments", {{"b.txt", 0}}}}));
    INFO(to_text(mr));
    const auto mf = the_failure(mr);
    CHECK(mf.name == "title");
    CHECK(mf.subject == "run 0: b.txt");
    CHECK(contains(mf.message, "layers[0] title \"a.txt\" does not match the attachment name \"b.txt\""));

    // A titled layer the table does not name is a warning, an unsafe one a failure.
    content::MemoryTarget o;
    const auto orphan = validate_run(o, push_run(o, {{"a.txt", "a"}, {"../up", "b"}}, {{"attachments", {{"a.txt", 0}}}}));
    INFO(to_text(orphan));
    const auto of = the_failure(orphan);
    CHECK(of.name == "title");
    CHECK(of.subject == "run 0: layers[1]");
    CHECK(contains(of.message, "is unsafe"));
    content::MemoryTarget w;
    const auto extra = validate_run(w, push_run(w, {{"a.txt", "a"}, {"b.txt", "b"}}, {{"attachments", {{"a.txt", 0}}}}));
    CHECK(extra.ok());
    CHECK(extra.warnings() == 1);
    CHECK(contains(named(extra, "title").back().message, "not in the attachments table"));
}

TEST_CASE("validate: a config layer index out of range fails the run-config check") {
    content::MemoryTarget t;
    const auto r = validate_run(t, push_run(t, {{"a.txt", "a"}}, {{"attachments", {{"a.txt", 3}}}}));
    const auto f = the_failure(r);
    CHECK(f.name == "run-config");
    CHECK(f.subject == "run 0");
    CHECK(contains(f.message, "config.attachments.a.txt: layer index 3 is out of range (1 layer)"));
    // SealedRun::open refuses the same run.
    CHECK(test::errc_of([&] { (void)SealedRun::open(t, t.resolve("run")); }) == Errc::invalid_input);

    content::MemoryTarget twice;
    const auto rt = validate_run(twice, push_run(twice, {{"a.txt", "a"}}, {{"attachments", {{"a.txt", 0}, {"b.txt", 0}}}}));
    const auto ft = the_failure(rt);
    CHECK(ft.name == "run-config");
    CHECK(contains(ft.message, "already named"));
}

TEST_CASE("validate: a finished solve without output fails the solves check") {
    content::MemoryTarget t;
    const nlohmann::json solves = nlohmann::json::array(
        {{{"solve_id", 0}, {"status", "finished"}, {"input", "in.json"}, {"output", nullptr}, {"adapter", "gd"},
          {"adapter_options", nlohmann::json::object()}, {"diagnostics", nullptr}}});
    const auto r = validate_run(t, push_run(t, {{"in.json", "{}"}}, {{"solves", solves}}, "application/json"));
    const auto f = the_failure(r);
    CHECK(f.name == "solves");
    CHECK(f.subject == "run 0");
    CHECK(contains(f.message, "config.solves[0]"));
    CHECK(contains(f.message, "finished but has no output"));

    // Unknown statuses, repeated ids and inputs that are no attachment.
    content::MemoryTarget u;
    const nlohmann::json bad = nlohmann::json::array(
        {{{"solve_id", 1}, {"status", "failed"}, {"input", "in.json"}, {"adapter", "gd"}},
         {{"solve_id", 1}, {"status", "failed"}, {"input", "absent.json"}, {"adapter", "gd"}}});
    const auto ru = validate_run(u, push_run(u, {{"in.json", "{}"}}, {{"solves", bad}, {"status", "exploded"}}, "application/json"));
    INFO(to_text(ru));
    CHECK(ru.failures() == 2);
    const auto st = named(ru, "status");
    REQUIRE(st.size() == 1);
    CHECK_FALSE(st[0].passed);
    CHECK(contains(st[0].message, "\"exploded\" is not finished, failed or interrupted"));
    const auto sv = named(ru, "solves");
    REQUIRE(sv.size() == 1);
    CHECK(contains(sv[0].message, "solve id 1 repeats"));
    CHECK(contains(sv[0].message, "input \"absent.json\" is not an attachment"));
}

TEST_CASE("validate: a malformed manifest fails the schema check naming the problem") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    auto index = without_summary(oci::ImageIndex::parse(index_bytes(t, "v1")));
    auto good = content::read_all(t, index.manifests[1], oci::max_manifest_size);
    REQUIRE(good.starts_with(R"({"annotations":)"));
    const auto dup = R"({"schemaVersion":2,)" + good.substr(1);  // schemaVersion twice
    const auto d = push_raw(t, std::string(oci::media_types::image_manifest), dup);
    t.tag(d, "dup");

    const auto alone = validate(t, "dup");
    const auto f = the_failure(alone);
    CHECK(f.name == "schema");
    CHECK(f.subject == d.digest.str());
    CHECK(contains(f.message, "schemaVersion: duplicate key"));

    // Inside an experiment the other runs are still validated.
    auto entry = index.manifests[1];
    entry.digest = d.digest;
    entry.size = d.size;
    index.manifests[1] = entry;
    push_index(t, index, "with-dup");
    const auto r = validate(t, "with-dup");
    const auto g = the_failure(r);
    CHECK(g.name == "schema");
    CHECK(contains(g.message, "run 1 manifest"));
    CHECK(named(r, "codec").size() == 4);  // run 0 and the experiment attachments

    // A media type with a parameter: both the strict parse and the
    // media-type check name the field.
    auto doc = nlohmann::json::parse(good);
    doc["layers"][0]["mediaType"] = "text/plain; charset=utf-8";
    const auto bad_mt = push_raw(t, std::string(oci::media_types::image_manifest), doc.dump());
    t.tag(bad_mt, "bad-media-type");
    const auto m = validate(t, "bad-media-type");
    INFO(to_text(m));
    CHECK(m.failures() == 2);
    const auto mt = named(m, "media-type");
    REQUIRE(mt.size() == 1);
    CHECK_FALSE(mt[0].passed);
    CHECK(contains(mt[0].message, "layers[0].mediaType \"text/plain; charset=utf-8\""));
    REQUIRE(named(m, "schema").size() == 1);
    CHECK(contains(named(m, "schema")[0].message, "layers[0].mediaType"));
}

TEST_CASE("validate: run ids and statuses the index gets wrong") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    const auto original = without_summary(oci::ImageIndex::parse(index_bytes(t, "v1")));
    const auto key = std::string(format::keys::run_id);

    auto index = original;
    index.manifests[1].annotations[key] = "01";
    push_index(t, index, "non-canonical");
    const auto f = the_failure(validate(t, "non-canonical"));
    CHECK(f.name == "run-id");
    CHECK(contains(f.message, "run id \"01\" is not a canonical non-negative integer"));

    index = original;
    index.manifests[1].annotations[key] = "0";
    push_index(t, index, "repeated");
    const auto r = validate(t, "repeated");
    INFO(to_text(r));
    CHECK(r.failures() == 1);
    REQUIRE(named(r, "run-id").size() == 2);
    CHECK(contains(named(r, "run-id")[1].message, "repeats"));

    index = original;
    std::swap(index.manifests[0].annotations[key], index.manifests[1].annotations[key]);
    push_index(t, index, "swapped");
    const auto s = validate(t, "swapped");
    CHECK(s.failures() == 2);
    for (const auto& c : failed(s)) {
        CHECK(c.name == "run-id");
        CHECK(contains(c.message, "the index entry says run"));
    }

    index = original;
    index.annotations[std::string(format::keys::experiment_status)] = "finished";  // run 1 failed
    push_index(t, index, "rosy");
    const auto w = validate(t, "rosy");
    CHECK(w.ok());
    CHECK(w.warnings() == 1);
    CHECK(named(w, "status").back().warning);
    CHECK(contains(named(w, "status").back().message, "the runs' statuses make it failed"));
    CHECK_FALSE(validate(t, "rosy", {.strict = true}).ok());

    index = original;
    index.annotations.erase(std::string(format::keys::experiment_name));
    push_index(t, index, "nameless");
    const auto n = the_failure(validate(t, "nameless"));
    CHECK(n.name == "experiment");
    CHECK(contains(n.message, "vnd.sealrun.experiment.name: is required"));
}

TEST_CASE("validate: an unknown reference is one failed resolve check") {
    content::MemoryTarget t;
    ValidationReport r;
    CHECK_NOTHROW(r = validate(t, "no-such-tag"));
    REQUIRE(r.checks.size() == 1);
    CHECK(r.checks[0].name == "resolve");
    CHECK_FALSE(r.checks[0].passed);
    CHECK(r.checks[0].subject == "no-such-tag");
    CHECK(contains(r.checks[0].message, "no-such-tag"));
    CHECK(r.kind.empty());
    CHECK_FALSE(r.ok());
    CHECK(r.failures() == 1);

    test::TempDir dir;
    content::OciLayout layout(dir / "layout");
    const auto bad = validate(layout, "sha256:" + std::string(64, 'a'));
    REQUIRE(bad.checks.size() == 1);
    CHECK(bad.checks[0].name == "resolve");
    // A reference that is not even a tag or digest.
    CHECK(validate(layout, "not a tag!").failures() == 1);
}

TEST_CASE("validate: a plain OCI image gets the generic checks only") {
    content::MemoryTarget t;
    oci::ImageManifest m;
    m.config = push_raw(t, std::string(oci::media_types::image_config), R"({"architecture":"amd64","os":"linux"})");
    m.layers.push_back(push_raw(t, "application/vnd.oci.image.layer.v1.tar+gzip", "not really gzip"));
    const auto image = push_manifest(t, m);
    oci::ImageIndex index;
    index.manifests.push_back(image);
    index.manifests.push_back(image);  // visited once
    push_index(t, index, "latest");
    const auto r = validate(t, "latest", {.strict = true});
    INFO(to_text(r));
    CHECK(r.ok());
    CHECK(r.kind == "image-index");
    std::set<std::string> names;
    for (const auto& c : r.checks) names.insert(c.name);
    CHECK(names == std::set<std::string>{"resolve", "digest", "schema", "media-type"});
    CHECK(named(r, "digest").size() == 4);

    // A missing layer is a digest failure, not an exception.
    oci::ImageManifest missing = m;
    missing.layers[0] = oci::Descriptor::for_bytes("application/octet-stream", "never pushed");
    t.tag(push_manifest(t, missing), "missing");
    const auto f = the_failure(validate(t, "missing"));
    CHECK(f.name == "digest");
    CHECK(contains(f.message, "missing from the target"));
}

TEST_CASE("validate: text output puts failures first and ends with a summary") {
    content::MemoryTarget t;
    const auto r = validate_run(t, push_run(t, {{"a.txt", "a"}, {"b.bin", "b"}}, {{"attachments", {{"a.txt", 7}}}}));
    const auto text = to_text(r, true);  // verbose: every check
    CAPTURE(text);
    REQUIRE_FALSE(r.ok());
    CHECK(text.starts_with("FAIL  run-config"));
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    CHECK(lines == r.checks.size() + 1);
    CHECK(contains(text, "\nWARN  "));
    CHECK(text.find("\nWARN  ") < text.find("\nok    "));
    const auto summary = ": INVALID, 1 failure, " + std::to_string(r.warnings()) + " warning" +
                         (r.warnings() == 1 ? "" : "s") + ", " + std::to_string(r.checks.size() - 1) + " of " +
                         std::to_string(r.checks.size()) + " checks passed\n";
    CHECK(text.ends_with(summary));

    // By default, passed checks are counted in the summary, not listed.
    const auto brief = to_text(r);
    CAPTURE(brief);
    CHECK(brief.starts_with("FAIL  run-config"));
    CHECK_FALSE(contains(brief, "\nok "));
    CHECK(static_cast<std::size_t>(std::count(brief.begin(), brief.end(), '\n')) == 1 + r.warnings() + 1);
    CHECK(brief.ends_with(summary));

    ValidationReport hostile{.reference = "x", .checks = {{.name = "title", .subject = "a\x1b[2Jb", .passed = false, .message = "m\n"}}};
    const auto shown = to_text(hostile);
    CHECK_FALSE(contains(shown, "\x1b"));
    CHECK(contains(shown, "a\\x1b[2Jb: m\\x0a"));
}

TEST_CASE("validate: JSON output parses and matches the report") {
    content::MemoryTarget t;
    const auto r = validate_run(t, push_run(t, {{"weird<&\">'.bin", "\x01"}, {"x.json", "{broken"}}, nlohmann::json::object(),
                                            "application/json"));
    const auto doc = nlohmann::json::parse(to_json(r));
    CHECK(doc["reference"] == r.reference);
    CHECK(doc["kind"] == "run");
    CHECK(doc["digest"] == r.digest);
    CHECK(doc["ok"] == r.ok());
    CHECK(doc["failures"] == r.failures());
    CHECK(doc["warnings"] == r.warnings());
    REQUIRE(doc["checks"].size() == r.checks.size());
    for (std::size_t i = 0; i < r.checks.size(); ++i) {
        const auto& c = doc["checks"][i];
        CHECK(c["name"] == r.checks[i].name);
        CHECK(c["subject"] == r.checks[i].subject);
        CHECK(c["passed"] == r.checks[i].passed);
        CHECK(c["warning"] == r.checks[i].warning);
        CHECK(c["message"] == r.checks[i].message);
    }
    CHECK(r.failures() == 2);

    // Bytes that are not UTF-8 cannot break it.
    ValidationReport odd{.reference = "\xff", .checks = {{.name = "n", .subject = "s\xc3", .passed = true, .message = "\x80"}}};
    CHECK(nlohmann::json::parse(to_json(odd))["checks"].size() == 1);
}

TEST_CASE("validate: on_check gets every check in order; the report keeps the failures and warnings; JSON written as they come is to_json's") {
    content::MemoryTarget t;
    const auto run = push_run(t, {{"weird<&\">'.bin", "\x01"}, {"x.json", "{broken"}, {"fine.json", "{}"}},
                              nlohmann::json::object(), "application/json");
    const auto full = validate_run(t, run);
    REQUIRE(full.failures() == 2);  // and the lone run's warning below
    std::vector<CheckResult> handed;
    std::ostringstream json, junit, verbose;
    JsonReportWriter writer(json);
    SpooledReportWriter junit_writer(junit, SpooledReportWriter::Format::junit);
    SpooledReportWriter verbose_writer(verbose, SpooledReportWriter::Format::verbose_text);
    ValidationOptions o;
    o.on_check = [&](const CheckResult& c) {
        handed.push_back(c);
        writer.check(c);
        junit_writer.check(c);
        verbose_writer.check(c);
    };
    auto r = validate(t, "run", o);
    check_lone_run(r, t, "run", false, o.on_check);
    auto whole = full;
    check_lone_run(whole, t, "run", false);
    writer.finish(r);
    junit_writer.finish(r);
    verbose_writer.finish(r);
    REQUIRE(handed.size() == whole.checks.size());
    for (std::size_t i = 0; i < handed.size(); ++i) {
        CHECK(handed[i].name == whole.checks[i].name);
        CHECK(handed[i].subject == whole.checks[i].subject);
        CHECK(handed[i].message == whole.checks[i].message);
    }
    std::vector<CheckResult> kept;
    std::copy_if(whole.checks.begin(), whole.checks.end(), std::back_inserter(kept), [](const CheckResult& c) { return !c.passed || c.warning; });
    REQUIRE(r.checks.size() == kept.size());
    CHECK(r.checks.size() < whole.checks.size());
    CHECK(r.warnings() == 1);
    CHECK(r.passed_not_kept == whole.checks.size() - kept.size());
    CHECK(r.total() == whole.total());
    CHECK(r.failures() == whole.failures());
    CHECK(r.warnings() == whole.warnings());
    CHECK(to_text(r) == to_text(whole));
    CHECK(json.str() == to_json(whole));
    // JUnit and the verbose text, spooled as the checks come: the same bytes
    // as those of the report holding every check (passes included).
    CHECK(junit.str() == to_junit(whole));
    CHECK(verbose.str() == to_text(whole, true));
    CHECK(test::contains(verbose.str(), "ok    "));
    CHECK(test::contains(junit.str(), "tests=\"" + std::to_string(whole.checks.size()) + "\""));
}

TEST_CASE("validate: JUnit output is XML a real parser reads, one testcase per check") {
    content::MemoryTarget t;
    const auto run = push_run(t, {{"weird<&\">'.bin", "\x01"}, {"x.json", "{broken"}, {"notjson.txt", "fine"}},
                              nlohmann::json::object(), "application/json");
    t.tag(run, "run");
    auto r = validate(t, "run", {.strict = true});
    // A check whose name and message need escaping everywhere, and bytes XML
    // cannot carry.
    r.checks.push_back({.name = "a<b&c\"d'e>", .subject = "s<&\">", .passed = false,
                        .message = "x < y & \"z\" 'q'\ttab\nline\x01\xff"});
    r.checks.push_back({.name = "w&", .subject = "w<", .passed = true, .warning = true, .message = "careful & <watch>"});
    REQUIRE(r.failures() == 4);  // three attachments that are not JSON, the hand-made check
    const auto xml = to_junit(r);

    test::TempDir dir;
    const auto path = dir / "report.xml";
    test::write_file(path, xml);
    const std::string script = R"(
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter('testcase'))
out = {
  'root': root.tag,
  'suites': len(list(root.iter('testsuite'))),
  'testcases': len(cases),
  'failures': len(list(root.iter('failure'))),
  'suite_failures': int(next(root.iter('testsuite')).get('failures')),
  'cases': [[c.get('classname'), c.get('name'),
             c.find('failure').get('message') if c.find('failure') is not None else None,
             c.find('failure').text if c.find('failure') is not None else None,
             c.find('system-out').text if c.find('system-out') is not None else None] for c in cases],
}
print(json.dumps(out))
)";
    const auto res = test::run({"/usr/bin/python3", "-c", script, path.string()});
    INFO(res.output);
    INFO(xml);
    REQUIRE(res.exit_code == 0);
    const auto parsed = nlohmann::json::parse(res.output);
    CHECK(parsed["root"] == "testsuites");
    CHECK(parsed["suites"] == 1);
    CHECK(parsed["testcases"] == r.checks.size());
    CHECK(parsed["failures"] == r.failures());
    CHECK(parsed["suite_failures"] == r.failures());
    const auto& cases = parsed["cases"];
    REQUIRE(cases.size() == r.checks.size());
    for (std::size_t i = 0; i + 2 < r.checks.size(); ++i) {
        const auto& c = r.checks[i];
        CAPTURE(c.subject);
        CHECK(cases[i][0] == "sealrun.validate." + c.name);
        CHECK(cases[i][1] == c.subject);
        if (!c.passed) {
            CHECK(cases[i][2] == c.message);
            CHECK(cases[i][3] == c.message);
        }
    }
    // The escaped ones come back exactly, except the bytes XML cannot hold.
    const auto& hand = cases[r.checks.size() - 2];
    CHECK(hand[0] == "sealrun.validate.a<b&c\"d'e>");
    CHECK(hand[1] == "s<&\">");
    CHECK(hand[2] == "x < y & \"z\" 'q'\ttab\nline\\x01\\xff");
    CHECK(hand[3] == "x < y & \"z\" 'q'\ttab\nline\\x01\\xff");
    const auto& warned = cases[r.checks.size() - 1];
    CHECK(warned[2].is_null());
    CHECK(warned[4] == "WARNING: careful & <watch>");
    // The hostile attachment name reaches the XML as a subject.
    bool seen = false;
    for (const auto& c : cases) seen = seen || c[1] == "run 0: weird<&\">'.bin";
    CHECK(seen);
}

TEST_CASE("validate: never throws, whatever the target holds") {
    content::MemoryTarget t;
    // A tag on a blob that is not a manifest or index.
    const auto blob = push_raw(t, "application/vnd.oci.image.manifest.v1+json", "[]");
    t.tag(blob, "array");
    const auto a = validate(t, "array");
    CHECK(the_failure(a).name == "schema");
    // Deeply nested JSON.
    const auto deep = push_raw(t, std::string(oci::media_types::image_index), std::string(5000, '[') + std::string(5000, ']'));
    t.tag(deep, "deep");
    const auto d = validate(t, "deep");
    const auto f = the_failure(d);
    CHECK(f.name == "schema");
    CHECK(contains(f.message, "nests deeper"));
}

TEST_CASE("validate: attachments larger than max_blob_read are verified but not decoded") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    const auto r = validate(t, "v1", {.max_blob_read = 10});
    INFO(to_text(r));
    CHECK(r.ok());
    CHECK(named(r, "digest").size() == 15);  // with the summary's 3 blobs
    // Only input.json (8 bytes) fits.
    CHECK(r.warnings() == 4);
    for (const auto& c : named(r, "codec")) {
        if (c.subject == "run 0: input.json") CHECK_FALSE(c.warning);
        else CHECK(contains(c.message, "exceed max_blob_read"));
    }
    CHECK(validate(t, "v1", {.strict = true, .max_blob_read = 10}).failures() == 4);
}

TEST_CASE("validate: a chain of 10,000 nested indexes is one depth finding, not a crash") {
    content::MemoryTarget t;
    auto child = push_raw(t, std::string(oci::media_types::image_index),
                          R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
    for (int i = 0; i < 10000; ++i) {
        const nlohmann::json doc = {{"schemaVersion", 2},
                                    {"mediaType", oci::media_types::image_index},
                                    {"manifests", nlohmann::json::array({child.to_json()})}};
        child = push_raw(t, std::string(oci::media_types::image_index), oci::canonical_json(doc));
    }
    t.tag(child, "deep");
    const auto r = validate(t, "deep");
    INFO(to_text(r));
    CHECK_FALSE(r.ok());
    const auto depth = named(r, "depth");
    REQUIRE(depth.size() == 1);
    CHECK(contains(depth[0].message, "deeper than " + std::to_string(oci::max_graph_depth) + " levels"));
    CHECK(r.failures() == 1);
    // Only the levels copy() would follow were read.
    CHECK(named(r, "schema").size() == static_cast<std::size_t>(oci::max_graph_depth) + 1);
}

TEST_CASE("validate: attachment names that cannot be extracted side by side are warnings, failures with strict") {
    const auto names_of = [](const std::vector<std::string>& names, bool strict = false) {
        content::MemoryTarget t;
        std::vector<std::pair<std::string, std::string>> files;
        for (const auto& n : names) files.emplace_back(n, "x");
        const auto r = validate_run(t, push_run(t, files), {.strict = strict});
        INFO(to_text(r));
        return std::make_pair(r, named(r, "names"));
    };
    SUBCASE("case twins") {
        const auto [r, found] = names_of({"A.json", "a.json", "b.json"});
        CHECK(r.ok());
        REQUIRE(found.size() == 1);
        CHECK(found[0].warning);
        CHECK(contains(found[0].message, "\"A.json\" and \"a.json\" differ only in letter case"));
        const auto [strict, sfound] = names_of({"A.json", "a.json"}, true);
        CHECK_FALSE(strict.ok());
        REQUIRE(sfound.size() == 1);
        CHECK_FALSE(sfound[0].passed);
    }
    SUBCASE("NFC and NFD spellings of the same name, in either case") {
        const auto [r, found] = names_of({"caf\xc3\xa9.txt", "cafe\xcc\x81.txt", "CAF\xc3\x89-2.txt", "cafe\xcc\x81-2.txt"});
        REQUIRE(found.size() == 1);
        CHECK(contains(found[0].message, "Unicode normalisation"));
        CHECK(contains(found[0].message, "caf\xc3\xa9.txt"));
        CHECK(contains(found[0].message, "CAF\xc3\x89-2.txt"));
        // A letter with and without an accent are different names.
        CHECK(names_of({"r\xc3\xa9sum\xc3\xa9.txt", "resume.txt", "e\xcc\x80.txt", "e\xcc\x81.txt"}).second.empty());
    }
    SUBCASE("a file beside a folder of the same name") {
        const auto [r, found] = names_of({"a", "a/b", "c/d", "C/e"});
        REQUIRE(found.size() == 1);
        CHECK(contains(found[0].message, "\"a\" is a file but \"a/b\" needs it to be a folder"));
        CHECK_FALSE(contains(found[0].message, "c/d"));  // "c/" and "C/" merge into one folder: nothing lost
    }
    SUBCASE("a path component longer than 255 bytes") {
        const auto [r, found] = names_of({"d/" + std::string(256, 'x'), std::string(255, 'y')});
        REQUIRE(found.size() == 1);
        CHECK(contains(found[0].message, "256 bytes exceeds the 255"));
        CHECK_FALSE(contains(found[0].message, std::string(255, 'y')));
    }
    SUBCASE("ordinary names find nothing") {
        CHECK(names_of({"result.json", "plots/curve.jsonl", "plots/loss.jsonl", "log.txt"}).second.empty());
    }
}
