// What ls, show and validate print, driven as a user types them: the built
// binary in a scratch working directory with relative names (and absolute
// ones), JSON output parsed with nlohmann.
#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sealrun/content/copy.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/records/record.h"
#include "support/cli.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {


// User runs sealrun in `cwd`, as typed there.
struct User {
    fs::path cwd;
    // run: exit code and stdout and stderr together.
    test::RunResult run(const std::vector<std::string>& args) const { return shell(args, "2>&1"); }
    // out: exit code and stdout only.
    test::RunResult out(const std::vector<std::string>& args) const { return shell(args, "2>/dev/null"); }
    // err: exit code and stderr only.
    test::RunResult err(const std::vector<std::string>& args) const { return shell(args, "2>&1 >/dev/null"); }
    nlohmann::json json(const std::vector<std::string>& args) const {
        const auto r = out(args);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        REQUIRE(test::line_count(r.output) == 1);
        return nlohmann::json::parse(r.output);
    }

private:
    test::RunResult shell(const std::vector<std::string>& args, const std::string& redirect) const {
        std::vector<std::string> argv = {"sh", "-c", "cd \"$0\" && exec \"$@\" " + redirect, cwd.string(), SEALRUN_CLI};
        argv.insert(argv.end(), args.begin(), args.end());
        return test::run(argv);
    }
};

ExperimentOptions fixed() {
    return {.clock = [] { return std::string("2026-01-02T03:04:05Z"); }, .session = "0123456789abcdef"};
}

// seal_sweep seals three runs under `tag` in dir/storage: run 0 finished with
// a solve, run 1 failed without result.json, run 2 finished with a trace;
// one experiment-level attachment and two annotations.
oci::Descriptor seal_sweep(const fs::path& dir, const std::string& tag, SealOptions options = {}, bool annotate = true) {
    RecordStore store(dir / "storage");
    Experiment exp(store, "gd-sweep", fixed());
    if (annotate) {
        exp.annotate("team", "ml");
        exp.annotate("org.opencontainers.image.created", "2025-12-31T23:00:00Z");
    }
    exp.run([](Run& r) {
        r.log_parameter("lr", 0.1);
        r.log_parameter("steps", 3);
        r.save_file("result.json", {{"loss", 0.25}});
        r.save_file("input.json", {{"x0", 0}});
        r.log_solve({.input = "input.json", .output = "result.json", .adapter = "gd"});
    });
    Run& failed = exp.run();
    failed.log_parameter("lr", 2.5);
    failed.save_file("log.txt", "loss exploded at step 2\n");
    failed.fail("diverged");
    exp.run([](Run& r) {
        r.log_parameter("lr", 0.01);
        r.log_parameter("steps", 3);
        r.save_file("result.json", {{"loss", 0.125}});
        r.save_trace({{"events", {1, 2}}});
    });
    exp.attachments().save_file("sweep.json", {{"lrs", {0.1, 2.5, 0.01}}});
    return exp.commit(tag, options);
}

std::vector<std::int64_t> run_ids(const nlohmann::json& shown) {
    std::vector<std::int64_t> ids;
    for (const auto& r : shown["runs"]) ids.push_back(r["run_id"]);
    return ids;
}

}  // namespace

TEST_CASE("show: annotations, experiment attachments, solves, traces and reasons of a sealed experiment") {
    test::TempDir dir;
    const auto root = seal_sweep(dir.path(), "v1");
    const User user{dir.path()};

    const auto j = user.json({"show", "v1", "--json"});
    CHECK(j["kind"] == "experiment");
    CHECK(j["name"] == "gd-sweep");
    CHECK(j["status"] == "failed");
    CHECK(j["digest"] == root.digest.str());
    CHECK(j["annotations"]["team"] == "ml");
    REQUIRE(j["attachments"].size() == 1);
    CHECK(j["attachments"][0]["name"] == "sweep.json");
    CHECK(j["attachments"][0]["media_type"] == "application/json");
    CHECK(j["attachments"][0]["compression"].is_null());
    CHECK(j["attachments"][0]["size"].get<std::int64_t>() > 0);
    CHECK(j["run_count"] == 3);
    CHECK(j["parent"].is_null());
    CHECK(j["summary"] == true);
    CHECK(j["values"] == nlohmann::json::array());
    CHECK(j["details"] == false);
    REQUIRE(j["runs"].size() == 3);
    // By default the rows come from the summary: no run is opened, so the
    // keys only a run gives are absent.
    CHECK_FALSE(j["runs"][0].contains("solves"));
    CHECK_FALSE(j["runs"][0].contains("has_trace"));
    CHECK(j["runs"][0]["digest"].get<std::string>().starts_with("sha256:"));
    CHECK(j["runs"][0]["values"] == nlohmann::json::object());
    CHECK(j["runs"][0]["reason"] == "");
    CHECK(j["runs"][1]["status"] == "failed");
    CHECK(j["runs"][1]["reason"] == "diverged");
    CHECK(j["runs"][2]["parameters"]["lr"] == 0.01);
    // --runs opens them for their files, size, solves and trace.
    const auto d = user.json({"show", "v1", "--json", "--runs"});
    CHECK(d["details"] == true);
    REQUIRE(d["runs"].size() == 3);
    CHECK(d["runs"][0]["solves"].size() == 1);
    CHECK(d["runs"][0]["solves"][0]["adapter"] == "gd");
    CHECK(d["runs"][0]["has_trace"] == false);
    CHECK(d["runs"][0]["attachments"] == 2);
    CHECK(d["runs"][0]["size"].get<std::int64_t>() > 0);
    CHECK(d["runs"][2]["has_trace"] == true);
    for (std::size_t i = 0; i < 3; ++i) {  // the summary's keys, the same either way
        for (const auto* k : {"run_id", "status", "reason", "parameters", "values", "digest"})
            CHECK(d["runs"][i][k] == j["runs"][i][k]);
    }

    const auto text = user.out({"show", "v1"});
    INFO(text.output);
    CHECK(text.exit_code == 0);
    CHECK(test::has(text.output, "experiment gd-sweep  failed  " + root.digest.str() + "\nruns 3\n"));
    CHECK(test::has(text.output, "\nannotation team=ml\n"));
    CHECK(test::has(text.output, "\nattachment sweep.json\tapplication/json\t"));
    CHECK(test::has(text.output, "\nRUN\tSTATUS\tPARAMETERS\tREASON\n"));
    CHECK(test::has(text.output, "\n1\tfailed\tlr=2.5\tdiverged\n"));
    CHECK(test::has(text.output, "\n0\tfinished\tlr=0.1 steps=3\t\n"));
    const auto detailed = user.out({"show", "v1", "--runs"}).output;
    INFO(detailed);
    CHECK(test::has(detailed, "\nRUN\tSTATUS\tFILES\tSIZE\tSOLVES\tTRACE\tPARAMETERS\tREASON\n"));
    CHECK(test::has(detailed, "\n1\tfailed\t1\t"));
    CHECK(test::has(detailed, "lr=2.5\tdiverged\n"));
    CHECK(test::has(detailed, "\n2\tfinished\t1\t"));
    CHECK(test::has(detailed, "\t1\t-\tlr=0.1 steps=3\t\n"));  // one solve, no trace
    CHECK(test::has(detailed, "\t0\tyes\tlr=0.01 steps=3\t\n"));
    CHECK(user.run({"show", "v1", "--runs", "--run", "0"}).exit_code == 2);

    // The same from another directory, with an absolute store.
    const User elsewhere{fs::path("/")};
    CHECK(elsewhere.json({"--store", (dir / "storage").string(), "show", "v1", "--json"}) == j);
}

TEST_CASE("show --run N: attachments with types, compression and sizes, solves, trace, parameters") {
    test::TempDir dir;
    seal_sweep(dir.path(), "v1");
    seal_sweep(dir.path(), "z1", {.compress = true});
    const User user{dir.path()};

    const auto r0 = user.json({"show", "v1", "--run", "0", "--json"});
    CHECK(r0["kind"] == "run");
    CHECK(r0["experiment"] == "gd-sweep");
    CHECK(r0["run_id"] == 0);
    CHECK(r0["status"] == "finished");
    CHECK(r0["reason"].is_null());
    CHECK(r0["parameters"] == nlohmann::json{{"lr", 0.1}, {"steps", 3}});
    CHECK(r0["started"] == "2026-01-02T03:04:05Z");
    REQUIRE(r0["solves"].size() == 1);
    CHECK(r0["solves"][0]["input"] == "input.json");
    CHECK(r0["solves"][0]["output"] == "result.json");
    CHECK(r0["has_trace"] == false);
    REQUIRE(r0["attachments"].size() == 2);
    CHECK(r0["attachments"][1]["name"] == "result.json");
    CHECK(r0["attachments"][1]["media_type"] == "application/json");
    CHECK(r0["attachments"][1]["compression"].is_null());
    CHECK(r0["attachments"][1]["size"] == nlohmann::json({{"loss", 0.25}}).dump().size());

    const auto z0 = user.json({"show", "z1", "--run", "0", "--json"});
    CHECK(z0["attachments"][1]["media_type"] == "application/json");
    CHECK(z0["attachments"][1]["compression"] == "zstd");
    CHECK(user.json({"show", "z1", "--json"})["attachments"][0]["compression"] == "zstd");

    const auto t0 = user.out({"show", "v1", "--run", "0"}).output;
    INFO(t0);
    CHECK(t0.starts_with("run 0 of gd-sweep  finished  lr=0.1 steps=3\n"));
    CHECK(test::has(t0, "\n  result.json\tapplication/json\t13 B\n"));
    CHECK(test::has(t0, "\n  solve 0  finished  gd  input.json -> result.json\n"));
    CHECK_FALSE(test::has(t0, "trace"));
    CHECK(test::has(user.out({"show", "z1", "--run", "0"}).output, "\n  result.json\tapplication/json (zstd)\t"));
    const auto t1 = user.out({"show", "v1", "--run", "1"}).output;
    CHECK(t1.starts_with("run 1 of gd-sweep  failed: diverged  lr=2.5\n"));
    CHECK(test::has(user.out({"show", "v1", "--run", "2"}).output, "\n  trace\t"));
    const auto r2 = user.json({"show", "v1", "--run", "2", "--json"});
    CHECK(r2["has_trace"] == true);
    CHECK(r2["trace"]["size"] == nlohmann::json({{"events", {1, 2}}}).dump().size());
    CHECK(r2["trace"]["digest"].get<std::string>().starts_with("sha256:"));
    CHECK(r0["trace"].is_null());

    const auto missing = user.err({"show", "v1", "--run", "7"});
    CHECK(missing.exit_code == 1);
    CHECK(test::has(missing.output, "7"));
    CHECK(user.run({"show", "v1", "--run", "x"}).exit_code == 2);
    CHECK(user.run({"show", "v1", "--run", "-1"}).exit_code == 2);
}

TEST_CASE("show: --status, --where and --sort choose and order runs") {
    test::TempDir dir;
    seal_sweep(dir.path(), "v1");
    const User user{dir.path()};
    const auto ids = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"show", "v1", "--json"});
        return run_ids(user.json(args));
    };
    using Ids = std::vector<std::int64_t>;
    CHECK(ids({}) == Ids{0, 1, 2});
    CHECK(ids({"--status", "failed"}) == Ids{1});
    CHECK(ids({"--status", "finished", "--status", "interrupted"}) == Ids{0, 2});
    CHECK(ids({"--where", "lr<1"}) == Ids{0, 2});
    CHECK(ids({"--where", "lr < 1", "--where", "lr>=0.1"}) == Ids{0});
    CHECK(ids({"--where", "lr=0.10"}) == Ids{0});
    CHECK(ids({"--where", "steps!=3"}).empty());  // run 1 has no steps: no condition on steps holds for it
    CHECK(ids({"--sort", "lr"}) == Ids{2, 0, 1});
    CHECK(ids({"--sort", "-lr"}) == Ids{1, 0, 2});
    CHECK(ids({"--sort", "result.json:/loss"}) == Ids{2, 0, 1});  // run 1 has no result.json: last
    CHECK(ids({"--sort=-result.json:/loss"}) == Ids{0, 2, 1});
    CHECK(ids({"--sort", "steps", "--where", "lr<1"}) == Ids{0, 2});
    const auto sorted = user.json({"show", "v1", "--json", "--sort", "result.json:/loss"});
    CHECK(sorted["runs"][0]["sort_value"] == 0.125);
    CHECK(sorted["runs"][2]["sort_value"].is_null());
    CHECK(sorted["run_count"] == 3);

    const auto text = user.out({"show", "v1", "--sort", "-result.json:/loss", "--where", "lr<1"}).output;
    INFO(text);
    CHECK(test::has(text, "\nRUN\tSTATUS\tresult.json:/loss\tPARAMETERS\tREASON\n"));
    CHECK(test::has(text, "\n0\tfinished\t0.25\t"));
    CHECK(text.find("\n0\tfinished") < text.find("\n2\tfinished"));
    CHECK_FALSE(test::has(text, "\n1\t"));

    // With the loss in the summary, --where and --sort read it there (no run opened).
    seal_sweep(dir.path(), "s1", {.summary_values = {"result.json:loss"}});
    const auto sids = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"show", "s1", "--json"});
        return run_ids(user.json(args));
    };
    CHECK(sids({"--sort", "result.json:/loss"}) == Ids{2, 0, 1});
    CHECK(sids({"--sort", "-result.json:loss"}) == Ids{0, 2, 1});
    CHECK(sids({"--where", "result.json:loss<0.2"}) == Ids{2});
    CHECK(sids({"--where", "result.json:loss>0", "--where", "lr>0.05"}) == Ids{0});
    const auto s1 = user.json({"show", "s1", "--json", "--sort", "result.json:/loss"});
    CHECK(s1["values"] == nlohmann::json::array({"result.json:loss"}));
    CHECK(s1["runs"][0]["values"]["result.json:loss"] == 0.125);
    CHECK(s1["runs"][0]["sort_value"] == 0.125);
    CHECK(s1["runs"][2]["values"] == nlohmann::json::object());  // run 1 has no result.json
    const auto stext = user.out({"show", "s1"}).output;
    INFO(stext);
    CHECK(test::has(stext, "\nRUN\tSTATUS\tPARAMETERS\tresult.json:loss\tREASON\n"));
    CHECK(test::has(stext, "\n0\tfinished\tlr=0.1 steps=3\t0.25\t\n"));
    CHECK(test::has(stext, "\n1\tfailed\tlr=2.5\t-\tdiverged\n"));
    CHECK(test::has(user.out({"show", "s1", "--where", "result.json:loss<0.2"}).output, "\nruns 3 (1 shown)\n"));

    for (const auto& bad : std::vector<std::vector<std::string>>{{"--where", "lr"},
                                                                 {"--where", "lr==1"},
                                                                 {"--where", "opt<adam"},
                                                                 {"--status", "done"},
                                                                 {"--sort", "r.json:/a~2"},
                                                                 {"--run", "0", "--where", "lr<1"}}) {
        auto args = bad;
        args.insert(args.begin(), {"show", "v1"});
        const auto r = user.err(args);
        INFO(bad.front(), " ", bad.back(), ": ", r.output);
        CHECK(r.exit_code == 2);
        CHECK(test::line_count(r.output) == 1);
        CHECK(r.output.starts_with("sealrun: --"));
    }
}

TEST_CASE("ls: name, status, runs, creation time and size per tag; a foreign artifact by its media type") {
    test::TempDir dir;
    const User user{dir.path()};
    // An empty store lists nothing, in text and JSON.
    { content::OciLayout create(dir / "storage"); }
    CHECK(user.out({"ls"}).output.empty());
    CHECK(user.json({"ls", "--json"}) == nlohmann::json::array());

    const auto v1 = seal_sweep(dir.path(), "v1");
    // Every blob in the store is v1's, so its size is the sum of the blob files.
    std::uint64_t blob_bytes = 0;
    for (const auto& e : fs::directory_iterator(dir / "storage/blobs/sha256")) blob_bytes += fs::file_size(e.path());
    seal_sweep(dir.path(), "plain", {}, false);
    {
        content::OciLayout layout(dir / "storage");
        oci::ImageManifest m;
        m.config = oci::empty_descriptor();
        content::push_bytes(layout, m.config, *m.config.data);
        m.config.data.reset();
        const auto layer = oci::Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", "not a tar");
        content::push_bytes(layout, layer, "not a tar");
        m.layers.push_back(layer);
        const auto bytes = m.serialize();
        const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
        content::push_bytes(layout, d, bytes);
        layout.tag(d, "img");
    }

    const auto listed = user.json({"ls", "--json"});
    REQUIRE(listed.size() == 3);
    std::map<std::string, nlohmann::json> by_tag;
    for (const auto& e : listed) by_tag[e["tag"]] = e;
    const auto& e = by_tag.at("v1");
    CHECK(e["kind"] == "experiment");
    CHECK(e["name"] == "gd-sweep");
    CHECK(e["status"] == "failed");
    CHECK(e["runs"] == 3);
    CHECK(e["created"] == "2025-12-31T23:00:00Z");  // the annotation
    CHECK(e["digest"] == v1.digest.str());
    CHECK(e["media_type"] == "application/vnd.oci.image.index.v1+json");
    CHECK(e["size"] == blob_bytes);
    CHECK(by_tag.at("plain")["created"] == "2026-01-02T03:04:05Z");  // when run 0 started
    const auto& img = by_tag.at("img");
    CHECK(img["kind"] == "other");
    CHECK(img["media_type"] == "application/vnd.oci.image.manifest.v1+json");
    CHECK(img["name"].is_null());
    CHECK(img["size"].get<std::int64_t>() > 9);

    const auto text = user.out({"ls"});
    INFO(text.output);
    CHECK(text.exit_code == 0);
    CHECK(test::line_count(text.output) == 3);
    CHECK(test::has(text.output, "v1\tgd-sweep\tfailed\t3 runs\t2025-12-31T23:00:00Z\t"));
    CHECK(test::has(text.output, "\t" + v1.digest.str() + "\n"));
    CHECK(test::has(text.output, "img\t-\t-\tapplication/vnd.oci.image.manifest.v1+json, not a sealed experiment or run\t-\t"));

    // show of the foreign tag says what it is instead of failing on it.
    const auto shown = user.out({"show", "img"});
    CHECK(shown.exit_code == 0);
    CHECK(test::has(shown.output, "img: application/vnd.oci.image.manifest.v1+json, not a sealed experiment or run"));
    CHECK(user.json({"show", "img", "--json"})["kind"] == "other");
    // A tag that is not there is named.
    const auto missing = user.err({"show", "nope"});
    CHECK(missing.exit_code == 1);
    CHECK(test::has(missing.output, "nope"));
}

TEST_CASE("validate --format text: failures and warnings, then one summary line; --verbose lists every check") {
    test::TempDir dir;
    const auto root = seal_sweep(dir.path(), "v1");
    const User user{dir.path()};
    const auto all = user.json({"validate", "v1", "--format", "json"});
    const auto n = all["checks"].size();
    REQUIRE(n > 10);
    REQUIRE(all["warnings"] == 0);

    const auto quiet = user.out({"validate", "v1"});
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.output == "v1 (experiment " + root.digest.str() + "): VALID, 0 failures, 0 warnings, " +
                              std::to_string(n) + " of " + std::to_string(n) + " checks passed\n");
    const auto verbose = user.out({"validate", "v1", "--verbose"});
    CHECK(verbose.exit_code == 0);
    CHECK(test::line_count(verbose.output) == n + 1);
    CHECK(verbose.output.starts_with("ok    "));

    // Corrupt one attachment: its failure is shown, the passed checks are not.
    const auto index = oci::ImageIndex::parse(test::read_file(dir / "storage/blobs/sha256" / root.digest.encoded()));
    const auto run0 = oci::ImageManifest::parse(
        test::read_file(dir / "storage/blobs/sha256" / index.manifests.at(0).digest.encoded()));
    const auto victim = dir / "storage/blobs/sha256" / run0.layers.at(0).digest.encoded();
    auto bytes = test::read_file(victim);
    bytes[0] = bytes[0] == 'x' ? 'y' : 'x';
    fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
    test::write_file(victim, bytes);
    const auto bad = user.out({"validate", "v1"});
    INFO(bad.output);
    CHECK(bad.exit_code == 1);
    CHECK(bad.output.starts_with("FAIL  digest"));
    CHECK_FALSE(test::has(bad.output, "\nok "));
    CHECK(test::line_count(bad.output) == 2);
    // JSON still lists every check (a corrupt attachment is not decoded, so one fewer).
    const auto bad_json = nlohmann::json::parse(user.out({"validate", "v1", "--format", "json"}).output);
    const auto m = bad_json["checks"].size();
    CHECK(test::has(bad.output, "): INVALID, 1 failure, 0 warnings, " + std::to_string(m - 1) + " of " + std::to_string(m) +
                              " checks passed\n"));
}

TEST_CASE("skopeo copy without --all keeps run 0: validate, show and ls say it is one run") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required");
    test::TempDir dir;
    seal_sweep(dir.path(), "v1");
    const User user{dir.path()};
    // What a user does to mirror an experiment, forgetting --all.
    const auto copied = test::run({"sh", "-c", "cd \"$0\" && skopeo --insecure-policy copy oci:storage:v1 oci:one:v1 2>&1",
                                   dir.path().string()});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string note = "a single sealed run (run 0) of experiment \"gd-sweep\", not the experiment";

    const auto v = user.out({"validate", "oci:one:v1"});
    INFO(v.output);
    CHECK(v.exit_code == 0);
    CHECK(v.output.starts_with("WARN  experiment"));
    CHECK(test::has(v.output, note));
    CHECK(test::has(v.output, "skopeo copy --all"));
    CHECK(test::has(v.output, "VALID, 0 failures, 1 warning"));
    const auto strict = user.out({"validate", "oci:one:v1", "--strict"});
    CHECK(strict.exit_code == 1);
    CHECK(test::has(strict.output, "FAIL  experiment"));
    const auto vj = user.json({"validate", "oci:one:v1", "--format", "json"});
    CHECK(vj["kind"] == "run");
    CHECK(vj["warnings"] == 1);
    CHECK(test::has(vj["checks"].back()["message"].get<std::string>(), note));

    const auto s = user.out({"show", "oci:one:v1"});
    INFO(s.output);
    CHECK(s.exit_code == 0);
    CHECK(s.output.starts_with("note: " + note));
    CHECK(test::has(s.output, "\nrun 0 of gd-sweep  finished  lr=0.1 steps=3\n"));
    const auto sj = user.json({"show", "oci:one:v1", "--json"});
    CHECK(sj["kind"] == "run");
    CHECK(sj["experiment"] == "gd-sweep");
    CHECK(test::has(sj["note"].get<std::string>(), note));
    CHECK(user.run({"show", "oci:one:v1", "--run", "1"}).exit_code == 1);
    CHECK(user.run({"show", "oci:one:v1", "--where", "lr<1"}).exit_code == 2);

    const auto listed = user.json({"--store", "one", "ls", "--json"});
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["kind"] == "run");
    CHECK(listed[0]["name"] == "gd-sweep");
    CHECK(listed[0]["run_id"] == 0);
    CHECK(test::has(user.out({"--store", "one", "ls"}).output, "v1\tgd-sweep\tfinished\trun 0 only, not the experiment"));

    // The run picked by digest is shown without the note.
    const auto digest = user.json({"--store", "one", "ls", "--json"})[0]["digest"].get<std::string>();
    CHECK_FALSE(test::has(user.out({"show", "oci:one:" + digest}).output, "note:"));
}

TEST_CASE("ls: a tag whose graph cannot be read is listed with its error, the others still are, and ls exits 1") {
    test::TempDir dir;
    const auto broken = seal_sweep(dir.path(), "broken");
    const auto index = oci::ImageIndex::parse(test::read_file(dir / "storage/blobs/sha256" / broken.digest.encoded()));
    {
        // A second, intact experiment sharing no run manifest with the first.
        RecordStore store(dir / "storage");
        Experiment exp(store, "other", fixed());
        exp.run([](Run& r) { r.save_file("x.json", {{"x", 1}}); });
        exp.commit("ok");
    }
    fs::remove(dir / "storage/blobs/sha256" / index.manifests.at(1).digest.encoded());
    const User user{dir.path()};
    const auto text = user.out({"ls"});
    INFO(text.output);
    CHECK(text.exit_code == 1);
    CHECK(test::has(text.output, "ok\tother\tfinished\t1 run\t"));
    CHECK(test::has(text.output, "broken\tgd-sweep\tfailed\t3 runs\t"));
    const auto err = user.err({"ls"});
    CHECK(err.output.starts_with("sealrun: broken: "));
    const std::string lost(index.manifests.at(1).digest.encoded());
    CHECK(test::has(err.output, lost));
    const auto listed = user.out({"ls", "--json"});
    CHECK(listed.exit_code == 1);
    const auto j = nlohmann::json::parse(listed.output);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["tag"] == "broken");
    CHECK(j[0]["size"].is_null());
    CHECK(test::has(j[0]["error"].get<std::string>(), lost));
    CHECK_FALSE(j[1].contains("error"));
    CHECK(j[1]["size"].get<std::int64_t>() > 0);
}

TEST_CASE("show: 1,000 runs in pages of 100 from a registry cost at most 4 requests; --runs opens only the runs listed") {
    test::TempDir dir;
    constexpr int n = 1000;
    {
        RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
        Experiment exp(store, "big-sweep", fixed());
        for (int i = 0; i < n; ++i) {
            Run& r = exp.run();
            r.log_parameter("seed", i);
            r.save_file("result.json", {{"loss", 1.0 / (i + 1)}});
            if (i % 100 == 7) r.fail("diverged");
            else r.finish();
        }
        exp.commit("v1", {.summary_values = {"result.json:loss"}, .runs_per_page = 100});
    }
    test::Registry registry;
    test::FaultProxy proxy(registry);
    {
        content::OciLayout layout(dir / "storage");
        auto repo = remote::Repository(remote::Reference::parse(registry.host() + "/lab/big"), test::fast_retries());
        content::copy(layout, "v1", repo, "v1");
    }
    const User user{dir.path()};
    const auto remote = "docker://" + proxy.host() + "/lab/big:v1";

    proxy.reset_stats();
    const auto j = user.json({"--store", (dir / "empty").string(), "show", remote, "--json"});
    auto stats = proxy.stats();
    INFO(stats.raw.dump());
    MESSAGE("show --json of " << n << " runs from a registry: " << stats.count() << " requests");
    // Whatever the run count: the /v2/ ping, the tag's index read by one GET
    // (no HEAD first), the summary manifest and its document.
    CHECK(stats.count() <= 4);
    CHECK(stats.count("HEAD") == 0);
    CHECK(j["run_count"] == n);
    CHECK(j["summary"] == true);
    REQUIRE(j["runs"].size() == static_cast<std::size_t>(n));
    CHECK(j["runs"][999]["run_id"] == 999);
    CHECK(j["runs"][999]["parameters"]["seed"] == 999);
    CHECK(j["runs"][999]["values"]["result.json:loss"] == doctest::Approx(1.0 / 1000));
    CHECK(j["runs"][107]["status"] == "failed");
    CHECK(j["runs"][107]["reason"] == "diverged");

    proxy.reset_stats();
    const auto text = user.out({"--store", (dir / "empty").string(), "show", remote, "--sort", "result.json:/loss"});
    stats = proxy.stats();
    CHECK(stats.count() <= 4);
    CHECK(text.exit_code == 0);
    CHECK(test::has(text.output, "\nruns 1000\n"));
    CHECK(test::has(text.output, "\n999\tfinished\t"));
    CHECK(text.output.find("\n999\t") < text.output.find("\n0\t"));  // the smallest loss first
    std::size_t rows = 0;
    for (std::size_t p = text.output.find('\n'); p != std::string::npos; p = text.output.find('\n', p + 1))
        rows += p + 1 < text.output.size() && std::isdigit(static_cast<unsigned char>(text.output[p + 1])) ? 1 : 0;
    CHECK(rows == static_cast<std::size_t>(n));

    // --runs with a filter opens the runs it lists, and only those: their
    // page, manifests and configs.
    proxy.reset_stats();
    const auto d = user.json({"--store", (dir / "empty").string(), "show", remote, "--json", "--runs", "--where", "seed<3"});
    stats = proxy.stats();
    INFO(stats.raw.dump());
    REQUIRE(d["runs"].size() == 3);
    CHECK(d["runs"][2]["attachments"] == 1);
    CHECK(d["runs"][2]["digest"] == j["runs"][2]["digest"]);
    CHECK(stats.count() <= 5 + 1 + 2 * 3);
}

TEST_CASE("show: a draft fork says draft and names its parent") {
    test::TempDir dir;
    const auto parent = seal_sweep(dir.path(), "v1");
    {
        // The index a checkpoint of a fork writes: the parent as OCI
        // subject, status draft; the same runs and summary.
        content::OciLayout layout(dir / "storage");
        auto index = oci::ImageIndex::parse(content::read_all(layout, layout.resolve("v1"), oci::max_manifest_size));
        index.subject = oci::Descriptor{.media_type = parent.media_type, .digest = parent.digest, .size = parent.size};
        index.annotations[std::string(format::keys::experiment_status)] = std::string(format::draft_status);
        const auto bytes = index.serialize();
        const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
        content::push_bytes(layout, d, bytes);
        content::tag_with(layout, d, "fork", content::TagPolicy::replace);
    }
    const User user{dir.path()};
    const auto j = user.json({"show", "fork", "--json"});
    CHECK(j["status"] == "draft");
    CHECK(j["parent"] == parent.digest.str());
    CHECK(j["run_count"] == 3);
    const auto text = user.out({"show", "fork"}).output;
    INFO(text);
    CHECK(text.starts_with("experiment gd-sweep  draft  "));
    CHECK(test::has(text, "\nparent " + parent.digest.str() + "\nruns 3\n"));
    CHECK(user.json({"show", "v1", "--json"})["parent"].is_null());
}
