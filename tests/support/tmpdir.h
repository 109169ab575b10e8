#pragma once
// Test support: throw-away directories and running real external tools.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sealrun::test {

// TempDir is a fresh directory under $TMPDIR, removed with its contents.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// RunResult is an external command's exit status and combined output.
struct RunResult {
    int exit_code = -1;
    std::string output;
};

// run executes argv (no shell) and captures stdout and stderr.
RunResult run(const std::vector<std::string>& argv);

// have_program reports whether `name` is on PATH.
bool have_program(const std::string& name);

// in_processes runs body(i) for i in [0, n) in n forked child processes at
// once and returns their exit codes (128+signal for a killed child). A body
// that throws exits 1. Call it before starting any thread.
std::vector<int> in_processes(int n, const std::function<int(int)>& body);

// write_file writes bytes to path.
void write_file(const std::filesystem::path& path, const std::string& bytes);
// read_file returns a file's bytes.
std::string read_file(const std::filesystem::path& path);

}  // namespace sealrun::test
