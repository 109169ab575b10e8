// `sealrun seal` labels binary files by what they are, run as a user types
// it: the built CLI in a scratch working directory, relative paths (and
// absolute ones); the user's types from model.json "media_types" and
// --media-type NAME=TYPE (docs/FORMAT.md §6.2).
#include <doctest/doctest.h>

#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/sealed.h"
#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde", 33) +
                        std::string("\0\0\0\x0cIDATx\x9c" "c\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef", 24) +
                        std::string("\0\0\0\0IEND\xae" "B`\x82", 12);

// run_cli runs the CLI in `cwd` with HOME and TMPDIR there.
test::RunResult run_cli(const fs::path& cwd, std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "-C", cwd.string(), "-u", "SEALRUN_STORE", "HOME=" + cwd.string(),
                                     "TMPDIR=" + cwd.string(), SEALRUN_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv);
}

// results writes a user's result directory `dir` of binary and text files.
void results(const fs::path& dir, const std::string& model) {
    fs::create_directories(dir / "sub");
    test::write_file(dir / "plot.png", png);
    test::write_file(dir / "weights.pt", png);
    test::write_file(dir / "blob", std::string("\x01\x02\x00\x03", 4));
    test::write_file(dir / "notes", "plain UTF-8 notes: ünïcode\n");
    test::write_file(dir / "table.csv", "a,b\n1,2\n");
    test::write_file(dir / "sub/latin.csv", "a\n\xe9\n");
    if (!model.empty()) test::write_file(dir / "model.json", model);
}

std::string type_of(const fs::path& store, const std::string& tag, const std::string& name) {
    content::OciLayout layout(store, {.read_only = true});
    return SealedExperiment::open(layout, tag).run(0).attachment_media_type(name);
}

}  // namespace

TEST_CASE("cli media types: seal from a relative working directory labels binaries, model.json and --media-type override") {
    test::TempDir scratch;
    const auto work = scratch / "work";
    results(work / "run", R"({"media_types": {"weights.pt": "application/x-pytorch"}})");

    auto r = run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t1", "--media-type", "notes=text/markdown"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto store = work / "storage";
    CHECK(type_of(store, "t1", "plot.png") == "image/png");
    CHECK(type_of(store, "t1", "weights.pt") == "application/x-pytorch");
    CHECK(type_of(store, "t1", "blob") == "application/octet-stream");
    CHECK(type_of(store, "t1", "notes") == "text/markdown");
    CHECK(type_of(store, "t1", "table.csv") == "text/csv");
    CHECK(type_of(store, "t1", "sub/latin.csv") == "application/octet-stream");

    // --media-type wins over model.json; NAME=TYPE splits at the last '='.
    r = run_cli(work, {"seal", "./run", "--experiment", "e", "--tag", "t2", "--media-type=weights.pt=application/x-torch"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(type_of(store, "t2", "weights.pt") == "application/x-torch");
    CHECK(type_of(store, "t2", "notes") == "text/plain");

    // Absolute paths, and validate --strict accepts what seal labelled
    // (the user's own type needs --codec-allow: sealrun has no codec for it).
    r = run_cli(work, {"--store", store.string(), "validate", "t2", "--strict"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "application/x-torch"));
    r = run_cli(scratch.path(), {"--store", store.string(), "validate", "t2", "--strict", "--codec-allow", "application/x-torch"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    r = run_cli(scratch.path(), {"--store", store.string(), "seal", (work / "run").string(), "--experiment", "e", "--tag", "t3",
                                 "--media-type", "plot.png=image/x-mine"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(type_of(store, "t3", "plot.png") == "image/x-mine");
}

TEST_CASE("cli media types: bad overrides are refused before anything is sealed") {
    test::TempDir scratch;
    const auto work = scratch / "work";
    results(work / "run", "");
    for (const char* bad : {"plot.png", "plot.png=", "=image/png", "plot.png=image png", "plot.png=text/plain;charset=utf-8"}) {
        CAPTURE(bad);
        const auto r = run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t", "--media-type", bad});
        CHECK(r.exit_code == 2);
        CHECK(test::contains(r.output, "--media-type"));
    }
    auto r = run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t", "--media-type", "absent.bin=image/png"});
    CHECK(r.exit_code == 2);
    CHECK(test::contains(r.output, "absent.bin"));
    CHECK_FALSE(fs::exists(work / "storage" / "index.json"));

    test::write_file(work / "run/model.json", R"({"media_types": {"plot.png": "not a type"}})");
    r = run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "model.json"));
    CHECK(test::contains(r.output, "not a type"));
    test::write_file(work / "run/model.json", R"({"media_types": {"missing.png": "image/png"}})");
    r = run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "missing.png"));
    test::write_file(work / "run/model.json", R"({"media_types": ["image/png"]})");
    CHECK(run_cli(work, {"seal", "run", "--experiment", "e", "--tag", "t"}).exit_code == 1);
}
