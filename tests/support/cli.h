#pragma once
// Test support: running the built sealrun CLI as a user types it.

#include <filesystem>
#include <string>
#include <vector>

#include "support/tmpdir.h"
#include "build_paths.h"

namespace sealrun::test {

// quoted quotes `s` for sh, whatever it holds.
inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// cli_in runs the CLI in `cwd` with `args` as typed there (relative names
// resolve in `cwd`); `quiet` sends stderr away, for output parsed as data.
inline RunResult cli_in(const std::filesystem::path& cwd, const std::vector<std::string>& args, bool quiet = false) {
    std::string line = "cd " + quoted(cwd.string()) + " && exec " + quoted(SEALRUN_CLI);
    for (const auto& a : args) line += " " + quoted(a);
    if (quiet) line += " 2>/dev/null";
    return run({"sh", "-c", line});
}

// line_count returns how many lines `s` ends (its '\n's).
inline std::size_t line_count(const std::string& s) {
    std::size_t n = 0;
    for (const char c : s) n += c == '\n' ? 1 : 0;
    return n;
}

}  // namespace sealrun::test
