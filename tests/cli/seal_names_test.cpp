// `sealrun seal` of result directories whose file names meet sealrun's own:
// a user's trace.json is an ordinary attachment (the trace has its own
// slot), a name sealrun reserves (.sealrun-…) is refused loudly, never
// silently left out. Run as a user types it: relative paths in a scratch
// working directory, and absolute paths.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/sealed.h"
#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"
#include "support/cli.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// in_dir runs the CLI in `cwd` (test::cli_in, tests/support/cli.h).
test::RunResult in_dir(const fs::path& cwd, const std::vector<std::string>& args) {
    return test::cli_in(cwd, args);
}

}  // namespace

TEST_CASE("cli: seal keeps a user's trace.json as an attachment") {
    for (const bool relative : {true, false}) {
        CAPTURE(relative);
        test::TempDir dir;
        test::write_file(dir / "runs/a/trace.json", R"({"mine":true})");
        test::write_file(dir / "runs/a/result.json", R"({"loss":0.5})");
        const auto run_dir = relative ? std::string("runs/a") : (dir / "runs/a").string();
        const auto store = relative ? std::string("storage") : (dir / "storage").string();
        const auto r = in_dir(dir.path(), {"--store", store, "seal", run_dir, "--experiment", "x", "--tag", "v1"});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        const auto got = in_dir(dir.path(), {"--store", store, "get", "v1", "--run", "0", "trace.json"});
        CHECK(got.exit_code == 0);
        CHECK(got.output == R"({"mine":true})");
        content::OciLayout layout(dir / "storage");
        const auto run = SealedExperiment::open(layout, "v1").run(0);
        CHECK(run.attachment_names() == std::vector<std::string>{"result.json", "trace.json"});
        CHECK_FALSE(run.trace().has_value());
    }
}

TEST_CASE("cli: seal refuses a file whose name sealrun reserves, naming it, and tags nothing") {
    for (const std::string name : {".sealrun-tmp-notes.txt", "sub/.sealrun-tmp-1", ".sealrun-trace.json"}) {
        for (const bool relative : {true, false}) {
            CAPTURE(name);
            CAPTURE(relative);
            test::TempDir dir;
            test::write_file(dir / "runs/a/result.json", R"({"loss":0.5})");
            test::write_file(dir / "runs/a" / name, "user bytes");
            const auto run_dir = relative ? std::string("runs/a") : (dir / "runs/a").string();
            const auto store = relative ? std::string("storage") : (dir / "storage").string();
            const auto r = in_dir(dir.path(), {"--store", store, "seal", run_dir, "--experiment", "x", "--tag", "v1"});
            CHECK(r.exit_code == 1);
            CHECK(test::contains(r.output, name));
            CHECK(test::contains(r.output, "reserved"));
            const auto ls = in_dir(dir.path(), {"--store", store, "ls"});
            CHECK_FALSE(test::contains(ls.output, "v1"));
        }
    }
}
