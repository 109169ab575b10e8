// sealrun rm from where a user stands (a scratch working directory, relative
// paths): local tags, oci:DIR:TAG, and docker:// locations, deleted from the
// real registry through the Deleter ability.
#include <doctest/doctest.h>

#include "sealrun/content/oci_layout.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// In runs the CLI in `cwd` with the store `st` there, as `cd CWD; sealrun ...`.
struct In {
    fs::path cwd;
    test::RunResult operator()(const std::vector<std::string>& args, bool stderr_too = true) const {
        std::string line = "cd '" + cwd.string() + "' && '" + std::string(SEALRUN_CLI) + "' --store st";
        for (const auto& a : args) line += " '" + a + "'";
        return test::run({"sh", "-c", line + (stderr_too ? "" : " 2>/dev/null")});
    }
};

// sealed makes a scratch working directory holding a store with v1.
In sealed(const test::TempDir& dir) {
    In in{dir / "work"};
    test::write_file(in.cwd / "runs/a/result.json", R"({"loss": 0.5})");
    REQUIRE(in({"seal", "runs/a", "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    return in;
}

int manifest_status(const test::Registry& registry, const std::string& repo, const std::string& ref) {
    return test::http({.url = registry.url() + "/v2/" + repo + "/manifests/" + ref,
                       .method = "HEAD",
                       .headers = {"Accept: application/vnd.oci.image.index.v1+json"}})
        .status;
}

}  // namespace

TEST_CASE("rm: a docker:// tag or digest deletes the manifest from the registry") {
    test::Registry registry;
    test::TempDir dir;
    const auto in = sealed(dir);
    const auto remote = "docker://" + registry.host() + "/rm/x";
    REQUIRE(in({"push", "v1", remote + ":v1"}).exit_code == 0);
    const auto digest = content::OciLayout(in.cwd / "st", {.read_only = true}).resolve("v1").digest.str();
    REQUIRE(manifest_status(registry, "rm/x", "v1") == 200);
    auto r = in({"--json", "rm", remote + ":v1"}, false);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.output)["removed"] == nlohmann::json::array({remote + ":v1"}));
    CHECK(manifest_status(registry, "rm/x", "v1") == 404);
    CHECK(manifest_status(registry, "rm/x", digest) == 404);
    // Gone: a second rm finds nothing and says so.
    r = in({"--json", "rm", remote + ":v1"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "not found"));
    // By digest, pushed again.
    REQUIRE(in({"push", "v1", remote + ":v2"}).exit_code == 0);
    CHECK(in({"rm", remote + "@" + digest}).exit_code == 0);
    CHECK(manifest_status(registry, "rm/x", "v2") == 404);
    // The local store keeps its tag.
    CHECK(content::OciLayout(in.cwd / "st", {.read_only = true}).tags() == std::vector<std::string>{"v1"});
    CHECK(in({"rm", remote}).exit_code == 2);  // no tag or digest: a usage error
}

TEST_CASE("rm: a registry without deletes is a clear error") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    test::TempDir dir;
    const auto in = sealed(dir);
    const auto remote = "docker://" + proxy.host() + "/rm/x:v1";
    REQUIRE(in({"push", "v1", remote}).exit_code == 0);
    proxy.add(test::Fault::respond("DELETE", "/manifests/", 405, 10));
    const auto r = in({"rm", remote});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "405"));
    CHECK(test::contains(r.output, "does not allow deletes"));
    CHECK(manifest_status(registry, "rm/x", "v1") == 200);
}

TEST_CASE("rm: local tags and oci:DIR:TAG are untagged; other locations are refused") {
    test::TempDir dir;
    const auto in = sealed(dir);
    REQUIRE(in({"copy", "v1", "oci:lay:v1"}).exit_code == 0);
    REQUIRE(in({"tag", "v1", "v2"}).exit_code == 0);
    auto r = in({"--json", "rm", "oci:lay:v1", "v2", "nope"}, false);
    CHECK(r.exit_code == 1);
    const auto j = nlohmann::json::parse(r.output);
    CHECK(j["removed"] == nlohmann::json::array({"oci:lay:v1", "v2"}));
    CHECK(j["missing"] == nlohmann::json::array({"nope"}));
    CHECK(content::OciLayout(in.cwd / "lay", {.read_only = true}).tags().empty());
    CHECK(content::OciLayout(in.cwd / "st", {.read_only = true}).tags() == std::vector<std::string>{"v1"});
    CHECK(in({"rm", "oci:lay"}).exit_code == 2);
    CHECK(in({"rm", "oci-archive:x.tar:v1"}).exit_code == 2);
    CHECK_FALSE(fs::exists(in.cwd / "x.tar"));
}
