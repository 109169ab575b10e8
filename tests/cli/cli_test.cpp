// The sealrun command line, driven as a user would: the built binary, real
// files, a real registry, skopeo on the other side.
#include <doctest/doctest.h>

#include <cstdlib>

#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/cli.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

struct Cli {
    fs::path store;
    test::RunResult operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {SEALRUN_CLI, "--store", store.string()});
        return test::run(args);
    }
};

// stdout_of runs a command with stderr sent elsewhere, for output parsed as data.
std::string stdout_of(const Cli& cli, const std::vector<std::string>& args) {
    std::string line = "'" + std::string(SEALRUN_CLI) + "' --store '" + cli.store.string() + "'";
    for (const auto& a : args) line += " '" + a + "'";
    const auto r = test::run({"sh", "-c", line + " 2>/dev/null"});
    REQUIRE(r.exit_code == 0);
    return r.output;
}

// make_runs writes two result directories the way a Python or shell job would.
void make_runs(const test::TempDir& dir) {
    test::write_file(dir / "runs/a/result.json", R"({"loss": 0.25})");
    test::write_file(dir / "runs/a/plots/curve.jsonl", "{\"step\":0}\n{\"step\":1}\n");
    test::write_file(dir / "runs/a/model.json", R"({"kind":"train","config":{"lr":0.1},"status":"finished","parameters":{"lr":0.1,"epochs":3}})");
    test::write_file(dir / "runs/b/log.txt", "diverged\n");
    test::write_file(dir / "runs/b/model.json", R"({"status":"failed","reason":"nan loss","parameters":{"lr":5.0}})");
}

// digest_of_tag reads the digest `tag` names in the local store from index.json.
std::string digest_of_tag(const Cli& cli, const std::string& tag) {
    return content::OciLayout(cli.store, {.read_only = true}).resolve(tag).digest.str();
}

}  // namespace

TEST_CASE("cli: help, unknown commands and bad options have their exit codes") {
    test::TempDir dir;
    Cli cli{dir / "storage"};
    auto r = cli({"--help"});
    CHECK(r.exit_code == 0);
    for (const char* c : {"seal", "ls", "show", "get", "copy", "push", "pull", "tag", "rm", "gc", "export", "import",
                          "validate", "login", "logout"}) {
        CHECK(test::contains(r.output, c));
        const auto h = cli({c, "--help"});
        CHECK(h.exit_code == 0);
        CHECK(test::contains(h.output, "example:"));
    }
    CHECK(cli({}).exit_code == 2);
    CHECK(cli({"frobnicate"}).exit_code == 2);
    CHECK(cli({"ls", "--no-such-flag"}).exit_code == 2);
    CHECK(cli({"seal", "x"}).exit_code == 2);           // no --experiment / --tag
    CHECK(cli({"get", "t", "--run", "x", "n"}).exit_code == 2);
    CHECK(cli({"validate", "t", "--format", "yaml"}).exit_code == 2);
    const auto e = cli({"show", "no-such-tag"});
    CHECK(e.exit_code == 1);
    CHECK(test::contains(e.output, "sealrun: "));
    CHECK(std::count(e.output.begin(), e.output.end(), '\n') == 1);  // one line on stderr
}

TEST_CASE("cli: --version prints the meson project version") {
    test::TempDir dir;
    Cli cli{dir / "storage"};
    const auto v = stdout_of(cli, {"--version"});
    CHECK(v == "sealrun 0.1.0\n");
    CHECK(nlohmann::json::parse(stdout_of(cli, {"--version", "--json"}))["version"] == "0.1.0");
    CHECK(test::contains(stdout_of(cli, {"--help"}), "--version"));
}

TEST_CASE("cli: every command's --help explains each flag the command accepts") {
    // The flags come from the command table through --help --json (the
    // parser's own sets), the explanations from the text --help.
    test::TempDir dir;
    Cli cli{dir / "storage"};
    const auto all = nlohmann::json::parse(stdout_of(cli, {"--help", "--json"}));
    REQUIRE(all["commands"].size() >= 15);
    std::size_t flags = 0;
    for (const auto& c : all["commands"]) {
        const auto name = c["name"].get<std::string>();
        INFO(name);
        const auto text = stdout_of(cli, {name, "--help"});
        CHECK(test::contains(text, "usage: sealrun " + name));
        CHECK(test::contains(text, "example:"));
        CHECK(nlohmann::json::parse(stdout_of(cli, {name, "--help", "--json"})) == c);
        for (const auto& o : c["options"]) {
            const auto flag = o["flag"].get<std::string>();
            INFO(flag);
            ++flags;
            CHECK(!o["help"].get<std::string>().empty());
            // An options line: two spaces, the flag, then its explanation.
            const auto at = text.find("\n  " + flag);
            REQUIRE(at != std::string::npos);
            const auto line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
            CHECK(test::contains(line, o["help"].get<std::string>()));
            // The usage line names it too, so a user sees it before the list.
            CHECK(test::contains(text.substr(0, text.find('\n')), flag));
        }
    }
    CHECK(flags >= 15);
}

TEST_CASE("cli: seal directories, then ls, show and get") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    const auto s = cli({"seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "sweep", "--tag", "v1"});
    INFO(s.output);
    REQUIRE(s.exit_code == 0);
    CHECK(test::contains(stdout_of(cli, {"ls"}), "v1"));
    const auto j = nlohmann::json::parse(stdout_of(cli, {"show", "v1", "--json"}));
    CHECK(j["name"] == "sweep");
    REQUIRE(j["runs"].size() == 2);
    CHECK(j["runs"][0]["status"] == "finished");
    CHECK(j["runs"][0]["parameters"]["epochs"] == 3);
    CHECK_FALSE(j["runs"][0].contains("attachments"));  // the rows come from the summary: no run opened
    CHECK(nlohmann::json::parse(stdout_of(cli, {"show", "v1", "--json", "--runs"}))["runs"][0]["attachments"] == 2);
    CHECK(j["runs"][1]["status"] == "failed");
    CHECK(j["runs"][1]["reason"] == "nan loss");
    CHECK(test::contains(stdout_of(cli, {"show", "v1"}), "lr=0.1"));
    CHECK(stdout_of(cli, {"get", "v1", "--run", "0", "plots/curve.jsonl"}) == "{\"step\":0}\n{\"step\":1}\n");
    REQUIRE(cli({"get", "v1", "--run", "0", "plots/curve.jsonl", "-o", (dir / "out").string() + "/"}).exit_code == 0);
    CHECK(test::read_file(dir / "out/plots/curve.jsonl") == "{\"step\":0}\n{\"step\":1}\n");
    CHECK(cli({"get", "v1", "--run", "0", "plots/curve.jsonl", "-o", (dir / "out").string() + "/"}).exit_code == 1);
    CHECK(cli({"get", "v1", "--run", "7", "result.json"}).exit_code == 1);
    CHECK(cli({"get", "v1", "--run", "0", "absent.json"}).exit_code == 1);
}

TEST_CASE("cli: seal adds experiment attachments, annotations and --compress, and --json says what it sealed") {
    test::TempDir dir;
    make_runs(dir);
    test::write_file(dir / "extra/notes.txt", "notes\n");
    test::write_file(dir / "shared/cfg/base.json", R"({"seed": 1})");
    Cli cli{dir / "storage"};
    const auto out = stdout_of(cli, {"--json", "seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "sweep",
                                     "--tag", "v1", "--attach", (dir / "extra/notes.txt").string(), "--attach",
                                     (dir / "shared").string(), "--annotation", "org.example.owner=me", "--annotation",
                                     "org.example.note=a=b", "--compress"});
    const auto j = nlohmann::json::parse(out);
    CHECK(j["tag"] == "v1");
    CHECK(j["experiment"] == "sweep");
    CHECK(j["runs"].size() == 2);
    CHECK(j["runs"][1]["status"] == "failed");
    CHECK(j["attachments"] == nlohmann::json::array({"notes.txt", "cfg/base.json"}));
    content::OciLayout store(dir / "storage", {.read_only = true});
    CHECK(j["digest"] == store.resolve("v1").digest.str());
    const auto exp = SealedExperiment::open(store, "v1");
    CHECK(exp.annotations().at("org.example.owner") == "me");
    CHECK(exp.annotations().at("org.example.note") == "a=b");
    CHECK(exp.attachment_names() == std::vector<std::string>{"cfg/base.json", "notes.txt"});
    CHECK(exp.get_blob("notes.txt") == "notes\n");
    CHECK(exp.attachments().descriptor("cfg/base.json").media_type.ends_with("+zstd"));
    CHECK(exp.run(0).attachments().descriptor("result.json").media_type.ends_with("+zstd"));
    // model.json's kind and config are kept in the run config (runs/b has none).
    CHECK(exp.run(0).config()["kind"] == "train");
    CHECK(exp.run(0).config()["config"] == nlohmann::json{{"lr", 0.1}});
    CHECK_FALSE(exp.run(1).config().contains("kind"));
    CHECK_FALSE(exp.run(1).config().contains("config"));
    // Reserved or malformed annotations and missing files are refused before anything is sealed.
    const auto reserved = cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v2", "--annotation",
                               "vnd.sealrun.experiment.name=y"});
    CHECK(reserved.exit_code == 2);
    CHECK(test::contains(reserved.output, "reserved"));
    CHECK(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v2", "--annotation", "novalue"}).exit_code == 2);
    const auto missing = cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v2", "--attach", "no-such-file"});
    CHECK(missing.exit_code == 1);
    CHECK(test::contains(missing.output, "no-such-file"));
    CHECK_FALSE(store.tags().size() > 1);
}

TEST_CASE("cli: get reads experiment attachments and run manifests without --run; errors name what the user typed") {
    test::TempDir dir;
    make_runs(dir);
    test::write_file(dir / "notes.txt", "notes\n");
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "x", "--tag", "v1", "--attach",
                 (dir / "notes.txt").string()})
                .exit_code == 0);
    CHECK(stdout_of(cli, {"get", "v1", "notes.txt"}) == "notes\n");
    // A run's attachment without --run: the error says how to ask for it.
    const auto no_run = cli({"get", "v1", "result.json"});
    CHECK(no_run.exit_code == 1);
    CHECK(test::contains(no_run.output, "--run"));
    // SRC naming one run manifest needs no --run.
    content::OciLayout store(dir / "storage", {.read_only = true});
    const auto run0 = SealedExperiment::open(store, "v1").run(0).manifest().digest.str();
    CHECK(stdout_of(cli, {"get", run0, "result.json"}) == R"({"loss": 0.25})");
    CHECK(cli({"get", run0, "--run", "1", "result.json"}).exit_code == 2);
    // An OMMX artifact's layers are named by index or digest (get lp 0); a
    // name it lacks, or --run, is an error naming what the user typed, never
    // a digest they never saw.
    const auto fixture = fs::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx";
    REQUIRE(fs::exists(fixture));
    const auto ommx = "sha256:034b093babdefec70aae4371fc10d1a8fae0f00a9de352c940047cc64a7c31f9";
    REQUIRE(cli({"copy", "oci-archive:" + fixture.string() + ":" + ommx, "lp"}).exit_code == 0);
    const auto no_layer = cli({"get", "lp", "x"});
    CHECK(no_layer.exit_code == 1);
    CHECK(test::contains(no_layer.output, "layer x"));
    CHECK_FALSE(test::contains(no_layer.output, "sha256:"));
    const auto with_run = cli({"get", "lp", "--run", "0", "x"});
    CHECK(with_run.exit_code == 2);
    CHECK(test::contains(with_run.output, "lp is an OMMX artifact"));
    CHECK_FALSE(test::contains(with_run.output, "sha256:"));
    const auto missing = cli({"get", "v1", "--run", "0", "nope.json", "-o", (dir / "out.json").string()});
    CHECK(missing.exit_code == 1);
    CHECK(test::contains(missing.output, "nope.json"));
    CHECK_FALSE(fs::exists(dir / "out.json"));
}

TEST_CASE("cli: a store or layout path that is a file is named as one; an archive's full-reference names import as their tag") {
    test::TempDir dir;
    make_runs(dir);
    test::write_file(dir / "file", "x");
    Cli on_file{dir / "file"};
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"ls"}, {"show", "v1"}, {"gc"}, {"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "t"}}) {
        const auto r = on_file(args);
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK(test::contains(r.output, "is a file, not a sealrun store"));
    }
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto r = cli({"copy", "v1", "oci:" + (dir / "file").string()});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "is a file, not an OCI layout directory"));
    // OMMX writes org.opencontainers.image.ref.name as a full reference.
    const auto fixture = fs::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx";
    const auto imp = cli({"import", fixture.string()});
    INFO(imp.output);
    CHECK(imp.exit_code == 0);
    CHECK(test::contains(stdout_of(cli, {"ls"}), "e69fb91"));
}

TEST_CASE("cli: seal refuses links and malformed model.json") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    fs::create_symlink("/etc/passwd", dir / "runs/a/passwd");
    auto r = cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "t"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "passwd"));
    fs::remove(dir / "runs/a/passwd");
    test::write_file(dir / "runs/a/model.json", "{\"status\": ");
    CHECK(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "t"}).exit_code == 1);
    test::write_file(dir / "runs/a/model.json", R"({"status":"done"})");
    CHECK(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "t"}).exit_code == 1);
    // A status or reason of the wrong type is named, never reported in the JSON library's words.
    for (const char* model : {R"({"status":3})", R"({"status":"failed","reason":["x"]})"}) {
        test::write_file(dir / "runs/a/model.json", model);
        const auto bad = cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "t"});
        INFO(bad.output);
        CHECK(bad.exit_code == 1);
        CHECK(test::contains(bad.output, "must be a string"));
        CHECK_FALSE(test::contains(bad.output, "json.exception"));
    }
    CHECK(stdout_of(cli, {"ls"}).empty());
}

TEST_CASE("cli: copy to oci: and oci-archive: that skopeo reads, import what skopeo writes") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required");
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    REQUIRE(cli({"copy", "v1", "oci:" + (dir / "layout").string() + ":v1"}).exit_code == 0);
    REQUIRE(cli({"export", "v1", (dir / "x.tar").string()}).exit_code == 0);
    for (const auto& src : {"oci:" + (dir / "layout").string() + ":v1", "oci-archive:" + (dir / "x.tar").string() + ":v1"}) {
        const auto r = test::run({"skopeo", "--insecure-policy", "inspect", "--raw", src});
        CHECK(r.exit_code == 0);
    }
    const auto w = test::run({"skopeo", "--insecure-policy", "copy", "--all", "oci:" + (dir / "layout").string() + ":v1",
                              "oci-archive:" + (dir / "skopeo.tar").string() + ":v9"});
    REQUIRE(w.exit_code == 0);
    Cli other{dir / "other"};
    REQUIRE(other({"import", (dir / "skopeo.tar").string()}).exit_code == 0);
    CHECK(test::contains(stdout_of(other, {"ls"}), "v9"));
    CHECK(other({"validate", "v9"}).exit_code == 0);
}

TEST_CASE("cli: tag, rm and gc manage the local store") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    REQUIRE(cli({"tag", "v1", "latest"}).exit_code == 0);
    CHECK(test::contains(stdout_of(cli, {"ls"}), "latest"));
    CHECK(cli({"rm", "nope"}).exit_code == 1);
    REQUIRE(cli({"rm", "v1", "latest"}).exit_code == 0);
    auto blob_files = [&] {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir / "storage/blobs/sha256"))
            n += e.is_regular_file() ? 1 : 0;
        return n;
    };
    const auto sealed = blob_files();
    REQUIRE(sealed > 0);
    // Blobs younger than the grace period (10 minutes by default) stay.
    CHECK(test::contains(stdout_of(cli, {"gc"}), "removed 0 blobs"));
    CHECK(blob_files() == sealed);
    CHECK(cli({"gc", "--grace", "soon"}).exit_code == 2);
    CHECK(test::contains(stdout_of(cli, {"gc", "--grace", "0"}), "removed " + std::to_string(sealed) + " blobs"));
    CHECK(blob_files() == 0);
    CHECK(cli({"show", "v1"}).exit_code == 1);
}

TEST_CASE("cli: validate says ok, finds a corrupted blob, and writes JUnit a parser reads") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    CHECK(cli({"validate", "v1"}).exit_code == 0);
    const auto ok = nlohmann::json::parse(stdout_of(cli, {"validate", "v1", "--format", "json"}));
    CHECK(ok["ok"] == true);
    // Corrupt one attachment blob in the store.
    content::OciLayout layout(dir / "storage");
    const auto blob = layout.blob_path(oci::Digest::of(std::string(R"({"loss": 0.25})")));
    REQUIRE(fs::exists(blob));
    test::write_file(blob, R"({"loss": 0.26})");
    const auto bad = cli({"validate", "v1", "--format", "junit"});
    CHECK(bad.exit_code == 1);
    test::write_file(dir / "report.xml", bad.output.substr(0, bad.output.rfind('>') + 1));
    const auto parsed = test::run({"/usr/bin/python3", "-c",
                                   "import sys, xml.etree.ElementTree as ET\n"
                                   "root = ET.parse(sys.argv[1]).getroot()\n"
                                   "cases = root.iter('testcase'); fails = root.iter('failure')\n"
                                   "print(len(list(cases)), len(list(fails)))",
                                   (dir / "report.xml").string()});
    REQUIRE(parsed.exit_code == 0);
    int cases = 0, fails = 0;
    std::sscanf(parsed.output.c_str(), "%d %d", &cases, &fails);
    CHECK(cases > 1);
    CHECK(fails >= 1);
}

TEST_CASE("cli: push and pull through a registry") {
    test::Registry registry;
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto remote = "docker://" + registry.host() + "/cli/x:v1";
    const auto p = cli({"push", "v1", remote});
    INFO(p.output);
    REQUIRE(p.exit_code == 0);
    Cli fresh{dir / "fresh"};
    REQUIRE(fresh({"pull", remote}).exit_code == 0);
    CHECK(stdout_of(fresh, {"get", "v1", "--run", "1", "log.txt"}) == "diverged\n");
    CHECK(fresh({"validate", remote}).exit_code == 0);  // straight from the registry
}

TEST_CASE("cli: pull by digest without a destination tags the copy NAME-HEX12 and says so") {
    test::Registry registry;
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto digest = nlohmann::json::parse(stdout_of(cli, {"--json", "push", "v1", "docker://" + registry.host() + "/team/sweep:v1"}))["digest"]
                            .get<std::string>();
    Cli fresh{dir / "fresh"};
    const auto by_digest = "docker://" + registry.host() + "/team/sweep@" + digest;
    const auto p = fresh({"pull", by_digest});
    INFO(p.output);
    REQUIRE(p.exit_code == 0);
    const auto name = "sweep-" + digest.substr(7, 12);
    CHECK(test::contains(p.output, "tagged " + name));
    CHECK(test::contains(stdout_of(fresh, {"ls"}), name));
    CHECK(nlohmann::json::parse(stdout_of(fresh, {"show", digest, "--json"}))["name"] == "x");
    CHECK(stdout_of(fresh, {"get", name, "--run", "0", "result.json"}) == R"({"loss": 0.25})");
    // Again: the same name, the same content, nothing moved.
    const auto again = nlohmann::json::parse(stdout_of(fresh, {"--json", "pull", by_digest}));
    CHECK(again["tag"] == name);
    CHECK(again["blobs_copied"] == 0);
    // Into a layout without a tag: the same rule.
    CHECK(fresh({"copy", by_digest, "oci:" + (dir / "layout").string()}).exit_code == 0);
    CHECK(content::OciLayout(dir / "layout", {.read_only = true}).tags() == std::vector<std::string>{name});
}

TEST_CASE("cli: copy, push, pull, export, import, tag, rm and gc print one JSON document with --json") {
    test::Registry registry;
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), (dir / "runs/b").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto digest = digest_of_tag(cli, "v1");
    const auto remote = "docker://" + registry.host() + "/cli/json:v1";
    auto push = nlohmann::json::parse(stdout_of(cli, {"--json", "push", "v1", remote}));
    CHECK(push["source"] == "v1");
    CHECK(push["destination"] == remote);
    CHECK(push["digest"] == digest);
    CHECK(push["tag"] == "v1");
    CHECK(push["blobs_copied"].get<int>() >= 5);
    CHECK(push["bytes_copied"].get<std::uint64_t>() > 0);
    const auto again = nlohmann::json::parse(stdout_of(cli, {"push", "v1", remote, "--json"}));
    CHECK(again["blobs_copied"] == 0);
    Cli fresh{dir / "fresh"};
    const auto pull = nlohmann::json::parse(stdout_of(fresh, {"--json", "pull", remote}));
    CHECK(pull["digest"] == digest);
    CHECK(pull["blobs_copied"] == push["blobs_copied"]);
    const auto tar = (dir / "x.tar").string();
    const auto exp = nlohmann::json::parse(stdout_of(cli, {"--json", "export", "v1", tar}));
    CHECK(exp["destination"] == "oci-archive:" + tar + ":v1");
    CHECK(exp["digest"] == digest);
    Cli third{dir / "third"};
    const auto imp = nlohmann::json::parse(stdout_of(third, {"--json", "import", tar}));
    CHECK(imp["tags"] == nlohmann::json::array({{{"tag", "v1"}, {"digest", digest}, {"ref_name", "v1"}}}));
    const auto tag = nlohmann::json::parse(stdout_of(third, {"--json", "tag", "v1", "v2"}));
    CHECK(tag["tag"] == "v2");
    CHECK(tag["digest"] == digest);
    const auto rm = cli({"--json", "rm", "v1", "nope"});
    CHECK(rm.exit_code == 1);
    const auto rm_ok = nlohmann::json::parse(stdout_of(third, {"--json", "rm", "v1", "v2"}));
    CHECK(rm_ok["removed"] == nlohmann::json::array({"v1", "v2"}));
    const auto gc = nlohmann::json::parse(stdout_of(third, {"--json", "gc", "--grace", "0"}));
    CHECK(gc["blobs_removed"].get<int>() >= 5);
    CHECK(gc["bytes_removed"].get<std::uint64_t>() > 0);
    CHECK(gc.contains("records_removed"));
}

TEST_CASE("cli: login checks and stores credentials the way docker does, logout removes them") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    test::TempDir dir;
    ::setenv("DOCKER_CONFIG", (dir / "docker").c_str(), 1);
    Cli cli{dir / "storage"};
    const auto ca = registry.ca_file().string();
    const auto login = [&](const std::string& password) {
        test::write_file(dir / "pw", password + "\n");
        return test::run({"sh", "-c", "'" + std::string(SEALRUN_CLI) + "' --ca-file '" + ca + "' login " + registry.host() +
                                          " -u " + registry.user() + " --password-stdin < '" + (dir / "pw").string() + "'"});
    };
    const auto bad = login("wrong-password-123");
    CHECK(bad.exit_code == 1);
    CHECK_FALSE(test::contains(bad.output, "wrong-password-123"));
    CHECK_FALSE(fs::exists(dir / "docker/config.json"));
    const auto good = login(registry.password());
    INFO(good.output);
    REQUIRE(good.exit_code == 0);
    CHECK_FALSE(test::contains(good.output, registry.password()));
    const auto cfg = nlohmann::json::parse(test::read_file(dir / "docker/config.json"));
    CHECK(cfg["auths"][registry.host()]["auth"] == oci::base64_encode(registry.user() + ":" + registry.password()));
    CHECK((fs::status(dir / "docker/config.json").permissions() & fs::perms::others_read) == fs::perms::none);
    // The stored credentials are used.
    make_runs(dir);
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    CHECK(cli({"--ca-file", ca, "push", "v1", "docker://" + registry.host() + "/cli/auth:v1"}).exit_code == 0);
    CHECK(cli({"logout", registry.host()}).exit_code == 0);
    CHECK_FALSE(nlohmann::json::parse(test::read_file(dir / "docker/config.json"))["auths"].contains(registry.host()));
    CHECK(cli({"--ca-file", ca, "push", "v1", "docker://" + registry.host() + "/cli/auth:v2"}).exit_code == 1);
    ::unsetenv("DOCKER_CONFIG");
}

namespace {

// digest_of returns the digest `tag` names in the store, from `ls --json`.
std::string digest_of(const Cli& cli, const std::string& tag) {
    for (const auto& e : nlohmann::json::parse(stdout_of(cli, {"ls", "--json"})))
        if (e["tag"] == tag) return e["digest"];
    return "";
}

// shown_digest returns the experiment digest `show SRC --json` reports.
std::string shown_digest(const Cli& cli, const std::string& src) {
    return nlohmann::json::parse(stdout_of(cli, {"show", src, "--json"}))["digest"];
}

// refused checks a command that must not move a tag: exit 1, one error that names --force.
void check_refused(const test::RunResult& r) {
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "--force"));
    CHECK(test::contains(r.output, "already names"));
}

// seal_two seals runs/a as tag A and runs/b (another experiment) as tag B.
std::pair<std::string, std::string> seal_two(const test::TempDir& dir, const Cli& cli) {
    make_runs(dir);
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "A"}).exit_code == 0);
    REQUIRE(cli({"seal", (dir / "runs/b").string(), "--experiment", "y", "--tag", "B"}).exit_code == 0);
    const auto a = digest_of(cli, "A"), b = digest_of(cli, "B");
    REQUIRE(!a.empty());
    REQUIRE(a != b);
    return {a, b};
}

}  // namespace

TEST_CASE("cli: seal, tag, copy, export and import never move a tag to other content without --force") {
    test::TempDir dir;
    Cli cli{dir / "storage"};
    const auto [a, b] = seal_two(dir, cli);

    SUBCASE("seal") {
        check_refused(cli({"seal", (dir / "runs/b").string(), "--experiment", "y", "--tag", "A"}));
        CHECK(digest_of(cli, "A") == a);
        CHECK(cli({"validate", "A"}).exit_code == 0);
        REQUIRE(cli({"seal", (dir / "runs/b").string(), "--experiment", "y", "--tag", "A", "--force"}).exit_code == 0);
        CHECK(digest_of(cli, "A") != a);
        CHECK(cli({"validate", "A"}).exit_code == 0);
    }
    SUBCASE("tag") {
        REQUIRE(cli({"tag", "A", "T"}).exit_code == 0);
        CHECK(cli({"tag", "A", "T"}).exit_code == 0);  // the same digest again
        CHECK(cli({"tag", a, "T"}).exit_code == 0);
        check_refused(cli({"tag", "B", "T"}));
        CHECK(digest_of(cli, "T") == a);
        CHECK(cli({"validate", "T"}).exit_code == 0);
        REQUIRE(cli({"tag", "B", "T", "--force"}).exit_code == 0);
        CHECK(digest_of(cli, "T") == b);
    }
    SUBCASE("copy to a layout") {
        const auto dst = "oci:" + (dir / "layout").string() + ":x";
        REQUIRE(cli({"copy", "A", dst}).exit_code == 0);
        CHECK(cli({"copy", "A", dst}).exit_code == 0);
        check_refused(cli({"copy", "B", dst}));
        CHECK(shown_digest(cli, dst) == a);
        CHECK(cli({"validate", dst}).exit_code == 0);
        REQUIRE(cli({"copy", "B", dst, "--force"}).exit_code == 0);
        CHECK(shown_digest(cli, dst) == b);
        CHECK(cli({"validate", dst}).exit_code == 0);
    }
    SUBCASE("export and import") {
        const auto tar = (dir / "x.tar").string();
        REQUIRE(cli({"tag", "A", "E"}).exit_code == 0);
        REQUIRE(cli({"export", "E", tar}).exit_code == 0);
        CHECK(cli({"export", "E", tar}).exit_code == 0);
        REQUIRE(cli({"tag", "B", "E", "--force"}).exit_code == 0);
        check_refused(cli({"export", "E", tar}));
        CHECK(shown_digest(cli, "oci-archive:" + tar + ":E") == a);
        CHECK(cli({"validate", "oci-archive:" + tar + ":E"}).exit_code == 0);
        REQUIRE(cli({"export", "E", tar, "--force"}).exit_code == 0);
        CHECK(shown_digest(cli, "oci-archive:" + tar + ":E") == b);
        // The archive's E names b; the store's E is moved back to a.
        CHECK(cli({"import", tar}).exit_code == 0);  // the same digest
        REQUIRE(cli({"tag", "A", "E", "--force"}).exit_code == 0);
        check_refused(cli({"import", tar}));
        CHECK(digest_of(cli, "E") == a);
        CHECK(cli({"validate", "E"}).exit_code == 0);
        REQUIRE(cli({"import", tar, "--force"}).exit_code == 0);
        CHECK(digest_of(cli, "E") == b);
    }
}

TEST_CASE("cli: push and pull never move a tag to other content without --force") {
    test::Registry registry;
    test::TempDir dir;
    Cli cli{dir / "storage"};
    const auto [a, b] = seal_two(dir, cli);
    const auto remote = "docker://" + registry.host() + "/cli/force:t";
    // push: a registry would overwrite the tag; sealrun resolves it first.
    REQUIRE(cli({"push", "A", remote}).exit_code == 0);
    CHECK(cli({"push", "A", remote}).exit_code == 0);
    check_refused(cli({"push", "B", remote}));
    CHECK(shown_digest(cli, remote) == a);
    CHECK(cli({"validate", remote}).exit_code == 0);
    REQUIRE(cli({"push", "B", remote, "--force"}).exit_code == 0);
    CHECK(shown_digest(cli, remote) == b);
    // pull: the local tag t names a, the registry's names b.
    REQUIRE(cli({"tag", "A", "t"}).exit_code == 0);
    check_refused(cli({"pull", remote}));
    CHECK(digest_of(cli, "t") == a);
    CHECK(cli({"validate", "t"}).exit_code == 0);
    REQUIRE(cli({"pull", remote, "--force"}).exit_code == 0);
    CHECK(digest_of(cli, "t") == b);
    CHECK(cli({"pull", remote}).exit_code == 0);  // the same digest again
}

namespace {

// raw_control reports whether `s` holds an ESC or a C1 CSI that reached the output unescaped.
bool raw_control(const std::string& s) {
    return s.find('\x1b') != std::string::npos || s.find("\xc2\x9b") != std::string::npos;
}


}  // namespace

TEST_CASE("cli: hostile names, parameter values and error texts reach the terminal escaped") {
    test::TempDir dir;
    Cli cli{dir / "storage"};
    const std::string evil = "\x1b[2J\nforged\trow";
    test::write_file(dir / "run" / (evil + ".txt"), "payload\n");
    test::write_file(dir / "run/model.json", R"({"parameters":{"p":"\u001b[2J\nEVIL\u009b2J","q":1}})");
    const auto s = cli({"seal", (dir / "run").string(), "--experiment", "exp" + evil, "--tag", "v1"});
    INFO(s.output);
    REQUIRE(s.exit_code == 0);

    const auto shown = stdout_of(cli, {"show", "v1"});
    INFO(shown);
    CHECK_FALSE(raw_control(shown));
    CHECK(test::line_count(shown) == 4);  // experiment line, run count, header, one run
    CHECK(test::contains(shown, "\\x1b[2J\\x0a"));
    const auto json = stdout_of(cli, {"show", "v1", "--json"});
    CHECK_FALSE(raw_control(json));
    CHECK(test::line_count(json) == 1);
    CHECK(nlohmann::json::parse(json)["name"] == "exp" + evil);

    // The run's own manifest: its attachment names.
    content::OciLayout layout(dir / "storage", {.read_only = true});
    const auto index = oci::ImageIndex::parse(content::read_all(layout, layout.resolve("v1"), 1 << 20));
    const auto run_shown = stdout_of(cli, {"show", index.manifests.at(0).digest.str()});
    INFO(run_shown);
    CHECK_FALSE(raw_control(run_shown));
    CHECK(test::line_count(run_shown) == 2);  // run line, one attachment
    CHECK(test::contains(run_shown, "\\x1b[2J\\x0aforged\\x09row.txt"));

    // Errors and the path get -o reports.
    const auto missing = cli({"get", "v1", "--run", "0", evil});
    CHECK(missing.exit_code == 1);
    CHECK_FALSE(raw_control(missing.output));
    CHECK(test::line_count(missing.output) == 1);
    const auto got = cli({"get", "v1", "--run", "0", evil + ".txt", "-o", (dir / "out").string() + "/"});
    CHECK(got.exit_code == 0);
    CHECK_FALSE(raw_control(got.output));
    CHECK(test::line_count(got.output) == 1);
    CHECK(test::read_file(dir / "out" / (evil + ".txt")) == "payload\n");
    const auto no_tag = cli({"show", "no" + evil});
    CHECK(no_tag.exit_code == 2);  // neither a tag nor a location: a usage error
    CHECK_FALSE(raw_control(no_tag.output));
    CHECK(test::line_count(no_tag.output) == 1);

    // A layout whose index.json carries a hostile tag.
    const auto index_path = dir / "storage/index.json";
    auto index_json = nlohmann::json::parse(test::read_file(index_path));
    index_json["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "v2" + evil;
    test::write_file(index_path, index_json.dump());
    for (const auto& args : {std::vector<std::string>{"ls"}, std::vector<std::string>{"ls", "--json"}}) {
        const auto listed = cli(args);
        INFO(listed.output);
        CHECK_FALSE(raw_control(listed.output));
        CHECK(test::line_count(listed.output) <= 1);
    }
}

TEST_CASE("cli: readers on a missing store or layout create nothing and say so") {
    test::TempDir dir;
    const auto typo = dir / "TYPO";
    Cli missing{typo};
    const auto layout = "oci:" + (typo / "deep/dir").string();
    const std::vector<std::vector<std::string>> readers = {
        {"ls"},
        {"ls", "--json"},
        {"show", "v1"},
        {"get", "v1", "--run", "0", "result.json"},
        {"validate", "v1"},
        {"validate", layout + ":v1"},
        {"show", layout + ":v1"},
        {"get", layout + ":v1", "--run", "0", "result.json"},
        {"copy", layout + ":v1", "oci:" + (dir / "dst").string() + ":v1"},
        {"copy", "v1", "oci:" + (dir / "dst").string() + ":v1"},
        {"push", "v1", "oci:" + (dir / "dst").string() + ":v1"},
        {"export", "v1", (dir / "out.tar").string()},
        {"export", layout + ":v1", (dir / "out.tar").string()},
        {"tag", "v1", "v2"},
        {"tag", layout + ":v1", "v2"},
        {"rm", "v1"},
        {"gc"},
    };
    for (const auto& args : readers) {
        const auto r = missing(args);
        INFO(args.front(), " ", args.size() > 1 ? args[1] : "", ": ", r.output);
        CHECK(r.exit_code == 1);
        CHECK((test::contains(r.output, "no sealrun store") || test::contains(r.output, "not an OCI layout")));
        CHECK_FALSE(fs::exists(typo));
        CHECK_FALSE(fs::exists(dir / "dst"));
        CHECK_FALSE(fs::exists(dir / "out.tar"));
    }
}

TEST_CASE("cli: readers leave an existing layout as they found it") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto layout_dir = dir / "layout";
    REQUIRE(cli({"copy", "v1", "oci:" + layout_dir.string() + ":v1"}).exit_code == 0);
    const auto listing = [&](const fs::path& root) {
        std::vector<std::string> names;
        for (const auto& e : fs::recursive_directory_iterator(root)) names.push_back(e.path().string());
        std::sort(names.begin(), names.end());
        return names;
    };
    for (const auto& root : {layout_dir, dir / "storage"}) {
        // What a layout written by another tool holds: no lock file, no ingest directory.
        fs::remove(root / "index.json.lock");
        fs::remove_all(root / ".sealrun-ingest");
    }
    const auto before_layout = listing(layout_dir), before_store = listing(dir / "storage");
    const auto oci = "oci:" + layout_dir.string() + ":v1";
    for (const auto& args : std::vector<std::vector<std::string>>{{"ls"},
                                                                   {"show", "v1"},
                                                                   {"validate", "v1"},
                                                                   {"get", "v1", "--run", "0", "result.json"},
                                                                   {"show", oci},
                                                                   {"validate", oci},
                                                                   {"get", oci, "--run", "0", "result.json"},
                                                                   {"export", oci, (dir / "x.tar").string()}}) {
        INFO(args.front(), " ", args.size() > 1 ? args[1] : "");
        CHECK(cli(args).exit_code == 0);
        CHECK(listing(layout_dir) == before_layout);
        CHECK(listing(dir / "storage") == before_store);
    }
}

TEST_CASE("cli: copy repairs a destination blob that was emptied instead of trusting its name") {
    test::TempDir dir;
    make_runs(dir);
    Cli cli{dir / "storage"};
    REQUIRE(cli({"seal", (dir / "runs/a").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    const auto dst = "oci:" + (dir / "layout").string() + ":v1";
    REQUIRE(cli({"copy", "v1", dst}).exit_code == 0);
    content::OciLayout layout(dir / "layout");
    const auto blob = layout.blob_path(oci::Digest::of(std::string(R"({"loss": 0.25})")));
    REQUIRE(fs::exists(blob));
    test::write_file(blob, "");
    REQUIRE(cli({"validate", dst}).exit_code == 1);
    const auto again = cli({"copy", "v1", dst});
    INFO(again.output);
    CHECK(again.exit_code == 0);
    CHECK(test::read_file(blob) == R"({"loss": 0.25})");
    CHECK(cli({"validate", dst}).exit_code == 0);
}
