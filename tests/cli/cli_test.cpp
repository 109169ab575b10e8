// The sealrun command line, driven as a user would: the built binary, real
// files, a real registry, skopeo on the other side.
#include <doctest/doctest.h>

#include <cstdlib>

#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/registry.h"
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
    CHECK(j["runs"][0]["attachments"] == 2);
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
    CHECK(test::contains(stdout_of(cli, {"gc"}), "removed"));
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
