// The error model holds everywhere (docs/CONVENTIONS.md "Errors"): no
// std::filesystem call that reports failure by throwing filesystem_error is
// linked into the library or the CLI, and the CLI names what the user typed
// when the file system refuses it.
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

// error_model_canary is never called: with external linkage it is always
// compiled in, so this test binary references a throwing overload and the
// test proves the check sees one.
bool error_model_canary(const fs::path& p);
bool error_model_canary(const fs::path& p) { return fs::exists(p); }

namespace {

// throwing_fs_calls lists, as "object: symbol", the undefined references of
// the object files in `file` (an archive or an object; nm -A) to the
// std::filesystem overloads that throw: the free functions without a
// std::error_code parameter and the iterators' operator++ (increment(ec)
// is the other). libstdc++ defines each as its own symbol, so whatever
// inline wrapper a source calls (fs::exists(p), entry.symlink_status(), a
// range-for over a directory_iterator), the reference shows here. Not seen:
// a directory_iterator constructed without an error_code and never
// incremented (both constructors share one symbol).
std::vector<std::string> throwing_fs_calls(const fs::path& file) {
    const auto r = test::run({"nm", "-A", "-C", "--undefined-only", file.string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    static const std::regex throwing(
        R"(std::filesystem::([a-z_]+(\[abi:cxx11\])?\(|__cxx11::(recursive_)?directory_iterator::operator\+\+\(\)))");
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < r.output.size()) {
        auto end = r.output.find('\n', start);
        if (end == std::string::npos) end = r.output.size();
        const auto line = r.output.substr(start, end - start);
        start = end + 1;
        if (std::regex_search(line, throwing) && !test::contains(line, "std::error_code")) out.push_back(line);
    }
    return out;
}

// object_of returns the object file a "file:object: U symbol" line of nm -A is about.
std::string object_of(const std::string& line) {
    auto end = line.find(": ");
    auto obj = line.substr(0, end);
    const auto colon = obj.rfind(':');
    return colon == std::string::npos ? fs::path(obj).filename().string() : obj.substr(colon + 1);
}

}  // namespace

TEST_CASE("error model: the check sees a throwing std::filesystem call (this binary's canary)") {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);  // the link, read here: in nm it names nm
    REQUIRE(!ec);
    const auto found = throwing_fs_calls(self);
    CHECK_FALSE(found.empty());
    CHECK(std::any_of(found.begin(), found.end(), [](const std::string& l) { return test::contains(l, "status("); }));
}

TEST_CASE("error model: no library or CLI object calls a std::filesystem overload that throws filesystem_error") {
    std::vector<fs::path> files = {SEALRUN_STATIC_LIB};
    std::error_code ec;
    const fs::path cli_objects = std::string(SEALRUN_CLI) + ".p";
    for (fs::directory_iterator it(cli_objects, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".o") files.push_back(it->path());
    const auto none = "no CLI object files in " + cli_objects.string();
    REQUIRE_MESSAGE(files.size() > 5, none);
    for (const auto& f : files)
        for (const auto& line : throwing_fs_calls(f)) {
            const auto finding = "a call that throws std::filesystem_error (" + object_of(line) + "): " + line;
            FAIL_CHECK(finding);
        }
}

TEST_CASE("error model: seal names a directory the file system refuses, in sealrun's words") {
    test::TempDir dir;
    const auto too_long = (dir / std::string(300, 'd')).string();
    auto r = test::run({SEALRUN_CLI, "--store", (dir / "storage").string(), "seal", too_long, "--experiment", "e",
                        "--tag", "t"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "sealrun: seal " + too_long));
    CHECK_FALSE(test::contains(r.output, "filesystem error"));
    r = test::run({SEALRUN_CLI, "--store", (dir / "storage").string(), "seal", dir.path().string(), "--attach",
                   too_long, "--experiment", "e", "--tag", "t"});
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, too_long));
    CHECK_FALSE(test::contains(r.output, "filesystem error"));
}
