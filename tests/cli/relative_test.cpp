// Every sealrun command that writes, run the way a user types it: the built
// CLI in a scratch working directory, every path relative ("sweep.tar",
// "out/", "./r.json", "--store store", SEALRUN_STORE=envstore), HOME and
// TMPDIR inside the scratch directory. Each command's exit code, the file it
// wrote and the absence of anything written elsewhere are checked.
#include <doctest/doctest.h>

#include <set>

#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace doctest {
template <>
struct StringMaker<std::set<std::string>> {
    static String convert(const std::set<std::string>& v) {
        std::string s = "{";
        for (const auto& e : v) s += (s.size() > 1 ? ", " : "") + e;
        return (s + "}").c_str();
    }
};
}  // namespace doctest

namespace {

// listing names every entry under `dir` (relative, recursively), "" when absent.
std::set<std::string> listing(const fs::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
        out.insert(it->path().lexically_relative(dir).string());
    return out;
}

// Scratch is a user's working directory `work`, with HOME there and TMPDIR in
// a sibling `tmp` that must be empty after every command; nothing else may
// appear beside them.
struct Scratch {
    test::TempDir root;
    fs::path work = root / "work";
    fs::path tmp = root / "tmp";

    Scratch() {
        fs::create_directories(work);
        fs::create_directories(tmp);
    }

    // run runs `sealrun ARGS` in `work` with `env` ("NAME=VALUE") added and
    // stdin from `input` (absolute path; /dev/null when empty).
    test::RunResult run(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                        const std::string& input = "") const {
        std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" < \"$0\"", input.empty() ? "/dev/null" : input};
        for (const auto& a : {"env", "-C", work.c_str(), "-u", "SEALRUN_STORE", "-u", "DOCKER_CONFIG"}) argv.push_back(a);
        argv.push_back("HOME=" + work.string());
        argv.push_back("TMPDIR=" + tmp.string());
        argv.insert(argv.end(), env.begin(), env.end());
        argv.push_back(SEALRUN_CLI);
        argv.insert(argv.end(), args.begin(), args.end());
        return test::run(argv);
    }

    // ok runs a command that must succeed and write nothing outside `work`.
    test::RunResult ok(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                       const std::string& input = "") const {
        auto r = run(args, env, input);
        INFO(args[0], " ", (args.size() > 1 ? args[1] : ""), ": ", r.output);
        CHECK(r.exit_code == 0);
        CHECK_FALSE(test::contains(r.output, "open directory"));
        nothing_outside();
        return r;
    }

    void nothing_outside() const {
        CHECK(listing(tmp).empty());
        std::set<std::string> top;
        for (const auto& e : fs::directory_iterator(root.path())) top.insert(e.path().filename().string());
        CHECK(top == std::set<std::string>{"tmp", "work"});
        for (const auto& e : listing(work)) CHECK_FALSE(fs::path(e).filename().string().starts_with(".sealrun-tmp-"));
    }

    bool has(const std::string& rel) const { return fs::exists(work / rel); }
    std::string read(const std::string& rel) const { return test::read_file(work / rel); }
};

// make_runs writes two result directories under `work` the way a job would.
void make_runs(const Scratch& s) {
    test::write_file(s.work / "runs/a/result.json", R"({"loss": 0.25})");
    test::write_file(s.work / "runs/a/model.json", R"({"parameters":{"lr":0.1}})");
    test::write_file(s.work / "runs/b/log.txt", "diverged\n");
    test::write_file(s.work / "runs/b/model.json", R"({"status":"failed","reason":"nan loss"})");
}

// tags lists the tags of the local store `store` (relative to work).
std::set<std::string> tags(const Scratch& s, const std::string& store) {
    std::set<std::string> out;
    const auto index = s.work / store / "index.json";
    if (!fs::exists(index)) return out;
    const auto doc = nlohmann::json::parse(test::read_file(index));
    for (const auto& m : doc["manifests"])
        if (m.contains("annotations") && m["annotations"].contains("org.opencontainers.image.ref.name"))
            out.insert(m["annotations"]["org.opencontainers.image.ref.name"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("relative: seal, tag, rm and gc in the default, --store and $SEALRUN_STORE stores") {
    Scratch s;
    make_runs(s);
    s.ok({"seal", "runs/a", "runs/b", "--experiment", "sweep", "--tag", "v1"});
    CHECK(tags(s, "storage") == std::set<std::string>{"v1"});  // the default store, ./storage
    s.ok({"seal", "./runs/a", "--experiment", "one", "--tag", "one", "--store", "store"});
    CHECK(tags(s, "store") == std::set<std::string>{"one"});
    s.ok({"--store", "sub/dir/store", "seal", "runs/b", "--experiment", "b", "--tag", "b"});
    CHECK(tags(s, "sub/dir/store") == std::set<std::string>{"b"});
    s.ok({"seal", "runs/a", "--experiment", "env", "--tag", "env"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"env"});

    s.ok({"tag", "v1", "v2"});
    CHECK(tags(s, "storage") == std::set<std::string>{"v1", "v2"});
    s.ok({"tag", "env", "env2"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"env", "env2"});
    s.ok({"rm", "v2"});
    CHECK(tags(s, "storage") == std::set<std::string>{"v1"});
    s.ok({"rm", "one", "--store", "store"});
    CHECK(tags(s, "store").empty());
    const auto blobs_before = listing(s.work / "store/blobs").size();
    s.ok({"gc", "--grace", "0", "--store", "store"});
    CHECK(listing(s.work / "store/blobs").size() < blobs_before);
    s.ok({"gc", "--grace", "0"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"env", "env2"});
}

TEST_CASE("relative: copy, export and import with bare and nested file names") {
    Scratch s;
    make_runs(s);
    s.ok({"seal", "runs/a", "runs/b", "--experiment", "sweep", "--tag", "v1"});

    s.ok({"copy", "v1", "oci:dir:t"});
    CHECK(s.has("dir/oci-layout"));
    CHECK(tags(s, "dir") == std::set<std::string>{"t"});
    s.ok({"copy", "v1", "oci-archive:t.tar:t"});
    CHECK(s.has("t.tar"));
    s.ok({"copy", "oci-archive:t.tar:t", "oci:./dir2:u"});
    CHECK(tags(s, "dir2") == std::set<std::string>{"u"});

    // The README's own example, then a nested name whose folder is missing.
    s.ok({"export", "v1", "sweep.tar"});
    CHECK(s.has("sweep.tar"));
    s.ok({"export", "v1", "sub/x.tar"});
    CHECK(s.has("sub/x.tar"));
    s.ok({"export", "v1", "./y.tar"});
    CHECK(s.has("y.tar"));

    s.ok({"import", "sweep.tar", "--store", "imported"});
    CHECK(tags(s, "imported") == std::set<std::string>{"v1"});
    s.ok({"import", "sub/x.tar", "v1"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"v1"});
    // A tag the archive lacks is named with the archive the user typed, not
    // the scratch folder it was unpacked into.
    const auto missing = s.run({"import", "sub/x.tar", "w"});
    CHECK(missing.exit_code == 1);
    CHECK(test::contains(missing.output, "sub/x.tar"));
    CHECK_FALSE(test::contains(missing.output, "sealrun-archive"));
    s.nothing_outside();
    s.ok({"copy", "oci:dir:t", "t2"});
    CHECK(tags(s, "storage") == std::set<std::string>{"v1", "t2"});
}

TEST_CASE("relative: get -o a bare name, a folder, ./name and a nested name") {
    Scratch s;
    make_runs(s);
    s.ok({"seal", "runs/a", "runs/b", "--experiment", "sweep", "--tag", "v1"});
    s.ok({"get", "v1", "--run", "0", "result.json", "-o", "r.json"});
    CHECK(s.read("r.json") == R"({"loss": 0.25})");
    s.ok({"get", "v1", "--run", "0", "result.json", "-o", "out/"});
    CHECK(s.read("out/result.json") == R"({"loss": 0.25})");
    s.ok({"get", "v1", "--run", "1", "log.txt", "-o", "./log.txt"});
    CHECK(s.read("log.txt") == "diverged\n");
    s.ok({"get", "v1", "--run", "1", "log.txt", "-o", "deep/er/log.txt"});
    CHECK(s.read("deep/er/log.txt") == "diverged\n");
    // An existing file is kept, and the error says which flag replaces it.
    const auto again = s.run({"get", "v1", "--run", "0", "result.json", "-o", "r.json"});
    CHECK(again.exit_code == 1);
    CHECK(test::contains(again.output, "--overwrite"));
    s.ok({"get", "v1", "--run", "1", "log.txt", "-o", "r.json", "--overwrite"});
    CHECK(s.read("r.json") == "diverged\n");
}

TEST_CASE("relative: push and pull against a registry into relative stores") {
    test::Registry registry;
    Scratch s;
    make_runs(s);
    s.ok({"seal", "runs/a", "runs/b", "--experiment", "sweep", "--tag", "v1"});
    const auto remote = "docker://" + registry.host() + "/rel/sweep:v1";
    s.ok({"push", "v1", remote});
    s.ok({"pull", remote, "--store", "pulled"});
    CHECK(tags(s, "pulled") == std::set<std::string>{"v1"});
    s.ok({"pull", remote, "mine"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"mine"});
    s.ok({"copy", remote, "oci-archive:pulled.tar:v1"});
    CHECK(s.has("pulled.tar"));
}

TEST_CASE("relative: login and logout write docker's config under $HOME, with a relative --ca-file") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    Scratch s;
    fs::copy_file(registry.ca_file(), s.work / "ca.crt");
    const auto pw = s.root / "tmp-pw";  // outside work: stdin, removed before the checks
    test::write_file(pw, registry.password() + "\n");
    const auto login = s.run({"--ca-file", "ca.crt", "login", registry.host(), "-u", registry.user(), "--password-stdin"}, {},
                             pw.string());
    fs::remove(pw);
    INFO(login.output);
    REQUIRE(login.exit_code == 0);
    s.nothing_outside();
    const auto cfg = nlohmann::json::parse(s.read(".docker/config.json"));
    CHECK(cfg["auths"].contains(registry.host()));
    make_runs(s);
    s.ok({"seal", "runs/a", "--experiment", "x", "--tag", "v1"});
    s.ok({"--ca-file", "ca.crt", "push", "v1", "docker://" + registry.host() + "/rel/auth:v1"});
    s.ok({"logout", registry.host()});
    CHECK_FALSE(nlohmann::json::parse(s.read(".docker/config.json"))["auths"].contains(registry.host()));
}

TEST_CASE("relative: import an OMMX .ommx file by its bare name, and get its layer into a folder") {
    Scratch s;
    fs::copy_file(fs::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx",
                  s.work / "random_lp_instance.ommx");
    s.ok({"import", "random_lp_instance.ommx"});
    CHECK(tags(s, "storage") == std::set<std::string>{"random_lp_instance-e69fb91"});
    s.ok({"import", "./random_lp_instance.ommx", "--tag", "lp", "--store", "sub/store"});
    CHECK(tags(s, "sub/store") == std::set<std::string>{"lp"});
    s.ok({"import", "random_lp_instance.ommx", "--tag", "lp"}, {"SEALRUN_STORE=envstore"});
    CHECK(tags(s, "envstore") == std::set<std::string>{"lp"});
    s.ok({"get", "random_lp_instance-e69fb91", "0", "-o", "out/"});
    CHECK(s.has("out/0"));
    s.ok({"get", "lp", "0", "--decode", "json", "--store", "sub/store"});
}
