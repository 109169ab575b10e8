// What `sealrun seal` accepts from ordinary result directories, run as a
// user types it (a scratch working directory, relative paths; and absolute
// paths): NumPy's string arrays and model.json parameters. What seal takes,
// validate calls VALID; what it cannot keep exactly, it refuses loudly.
#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"
#include "support/cli.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

const std::string python = "/usr/bin/python3";

// in_dir runs the CLI in `cwd` (test::cli_in, tests/support/cli.h).
test::RunResult in_dir(const fs::path& cwd, const std::vector<std::string>& args, bool quiet = false) {
    return test::cli_in(cwd, args, quiet);
}

// numpy runs a Python snippet with numpy imported as np, in `cwd`.
void numpy(const fs::path& cwd, const std::string& code) {
    const auto r = test::run({"sh", "-c", "cd " + test::quoted(cwd.string()) + " && exec " + python + " -c " +
                                              test::quoted("import numpy as np\n" + code)});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
}

// codec_checks returns validate's "codec" checks by attachment name.
std::map<std::string, nlohmann::json> codec_checks(const nlohmann::json& report) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& c : report.at("checks")) {
        if (c.at("name") != "codec") continue;
        const auto subject = c.at("subject").get<std::string>();
        out[subject.substr(subject.rfind(' ') + 1)] = c;
    }
    return out;
}

}  // namespace

TEST_CASE("cli: seal of np.save's str, bytes, void, structured and datetime arrays validates VALID") {
    test::TempDir dir;
    fs::create_directories(dir / "runs/a");
    numpy(dir / "runs/a", R"(
np.save("names.npy", np.array([["alpha", "\u03b2\u00eata"], ["", "\U0001f600"]]))
np.save("names_be.npy", np.array(["ab", "c"], dtype=">U2"))
np.save("names_f.npy", np.asfortranarray(np.array([["a", "bb"], ["ccc", ""]])))
np.save("label.npy", np.array("x"))
np.save("none.npy", np.zeros((0, 3), dtype="U4"))
np.save("raw.npy", np.array([b"abc", b"", b"\xff\x00z"]))
np.save("void.npy", np.array([b"\x00\x01\x02", b"\xff\x00\x00"], dtype="V3"))
np.save("table.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "S2")]))
np.save("when.npy", np.array(["2020-01-01"], dtype="datetime64[D]"))
np.save("loss.npy", np.arange(4.0))
)");
    const std::vector<std::string> decoded = {"names.npy", "names_be.npy", "names_f.npy", "label.npy", "none.npy",
                                              "raw.npy",   "void.npy",     "loss.npy"};
    const std::vector<std::string> kept = {"table.npy", "when.npy"};  // sealed, not decoded
    for (const bool relative : {true, false}) {
        CAPTURE(relative);
        const auto store = relative ? std::string("storage") : (dir / "abs-storage").string();
        const auto src = relative ? std::string("runs/a") : (dir / "runs/a").string();
        const auto s = in_dir(dir.path(), {"--store", store, "seal", src, "--experiment", "np", "--tag", "v1"});
        INFO(s.output);
        REQUIRE(s.exit_code == 0);
        const auto v = in_dir(dir.path(), {"--store", store, "validate", "v1", "--format", "json"}, true);
        INFO(v.output);
        CHECK(v.exit_code == 0);
        const auto report = nlohmann::json::parse(v.output);
        CHECK(report.at("ok") == true);
        CHECK(report.at("failures") == 0);
        const auto checks = codec_checks(report);
        for (const auto& name : decoded) {
            CAPTURE(name);
            REQUIRE(checks.contains(name));
            CHECK(checks.at(name).at("passed") == true);
            CHECK(checks.at(name).at("warning") == false);
        }
        for (const auto& name : kept) {
            CAPTURE(name);
            REQUIRE(checks.contains(name));
            CHECK(checks.at(name).at("passed") == true);
            CHECK(checks.at(name).at("warning") == true);
            CHECK(test::contains(checks.at(name).at("message").get<std::string>(), "not decoded"));
        }
        const auto j = nlohmann::json::parse(in_dir(dir.path(), {"--store", store, "show", "v1", "--json", "--runs"}, true).output);
        CHECK(j["runs"][0]["attachments"] == decoded.size() + kept.size());
    }
}

TEST_CASE("cli: seal refuses a .npy or .json that its codec cannot read, naming it, and seals nothing") {
    test::TempDir dir;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"objects.npy", "np.save('objects.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)"},
        {"cut.npy", "np.save('cut.npy', np.arange(10.0)); open('cut.npy', 'r+b').truncate(100)"},
        {"lone.npy", "np.save('lone.npy', np.array(['a\\ud800b']))"},
        {"broken.json", "open('broken.json', 'w').write('{\"loss\": ')"},
    };
    for (const auto& [name, code] : cases) {
        CAPTURE(name);
        const auto run = "runs/" + name.substr(0, name.find('.'));
        fs::create_directories(dir / run);
        test::write_file(dir / run / "ok.json", "{}");
        numpy(dir / run, code);
        const auto s = in_dir(dir.path(), {"--store", "storage", "seal", run, "--experiment", "x", "--tag", "t"});
        INFO(s.output);
        CHECK(s.exit_code == 1);
        CHECK(test::contains(s.output, name));
        CHECK(!test::contains(s.output, "::"));  // no C++ names
        CHECK(in_dir(dir.path(), {"--store", "storage", "ls"}, true).output.empty());
    }
}

TEST_CASE("cli: model.json parameters that an int64 or a double cannot hold are refused, naming them") {
    test::TempDir dir;
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"18446744073709551615", "2^63-1"},
        {"9223372036854775808", "2^63-1"},
        {"1e400", "model.json"},  // nlohmann's parser: out of range, so malformed JSON to the strict reader
        {"[1, 2]", "array"},
        {"null", "null"},
    };
    for (const auto& [value, why] : refused) {
        CAPTURE(value);
        fs::remove_all(dir / "run");
        test::write_file(dir / "run/result.json", "{}");
        test::write_file(dir / "run/model.json", R"({"parameters":{"seed":)" + value + "}}");
        const auto s = in_dir(dir.path(), {"--store", "storage", "seal", "run", "--experiment", "x", "--tag", "t"});
        INFO(s.output);
        CHECK(s.exit_code == 1);
        CHECK(test::contains(s.output, why));
        if (value != "1e400") CHECK(test::contains(s.output, "seed"));
        CHECK(in_dir(dir.path(), {"--store", "storage", "ls"}, true).output.empty());
    }
    // The extremes an int64 holds are kept exactly.
    fs::remove_all(dir / "run");
    test::write_file(dir / "run/model.json",
                     R"({"parameters":{"min":-9223372036854775808,"max":9223372036854775807,"lr":0.1}})");
    const auto s = in_dir(dir.path(), {"--store", "storage", "seal", "run", "--experiment", "x", "--tag", "t"});
    INFO(s.output);
    REQUIRE(s.exit_code == 0);
    const auto j = nlohmann::json::parse(in_dir(dir.path(), {"--store", "storage", "show", "t", "--json"}, true).output);
    CHECK(j["runs"][0]["parameters"]["min"].get<std::int64_t>() == INT64_MIN);
    CHECK(j["runs"][0]["parameters"]["max"].get<std::int64_t>() == INT64_MAX);
    CHECK(j["runs"][0]["parameters"]["lr"] == 0.1);
    CHECK(in_dir(dir.path(), {"--store", "storage", "validate", "t"}).exit_code == 0);
}
