// The sealrun command line interrupted: signals, SIGKILL at any moment, and
// what the next command and gc find afterwards (scratch directories, temp
// files, the store's tags).
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/expect.h"
#include "support/sample.h"
#include "support/tmpdir.h"
#include "build_paths.h"

extern char** environ;

using namespace sealrun;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Child is a sealrun process started with $TMPDIR set, its output to a file.
class Child {
public:
    Child(const std::vector<std::string>& args, const fs::path& tmpdir, const fs::path& log) {
        std::vector<std::string> env_strings = {"TMPDIR=" + tmpdir.string()};
        for (char** e = environ; *e != nullptr; ++e)
            if (!std::string_view(*e).starts_with("TMPDIR=")) env_strings.emplace_back(*e);
        std::vector<char*> env;
        for (auto& s : env_strings) env.push_back(s.data());
        env.push_back(nullptr);
        std::vector<std::string> argv_strings = {SEALRUN_CLI};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& s : argv_strings) argv.push_back(s.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        // The default dispositions, whatever the test runner inherited (a
        // background job ignores SIGINT).
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, s);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
        const int rc = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), env.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        REQUIRE(rc == 0);
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    void kill(int sig) { ::kill(pid_, sig); }
    // wait returns the exit code, or 128 + the signal that ended it.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    // running reports whether the process has not ended yet.
    bool running() {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
        pid_ = -1;
        return false;
    }

private:
    pid_t pid_ = -1;
};

struct Cli {
    fs::path store;
    test::RunResult operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {SEALRUN_CLI, "--store", store.string()});
        return test::run(args);
    }
};

std::vector<fs::path> scratch_dirs(const fs::path& tmpdir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(tmpdir))
        if (e.path().filename().string().starts_with("sealrun-archive-")) out.push_back(e.path());
    return out;
}

// big_run writes a result directory holding one incompressible file of
// `mib` MiB and a small one.
void big_run(const fs::path& dir, std::size_t mib) {
    test::write_file(dir / "big.bin", test::random_bytes(mib << 20));
    test::write_file(dir / "result.json", R"({"loss": 0.5})");
}

// wait_until polls `ready` every millisecond for up to `limit`.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ready()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

// unpacking reports whether a scratch directory under `tmpdir` has started
// receiving a blob.
bool unpacking(const fs::path& tmpdir) {
    std::error_code ec;
    for (const auto& d : scratch_dirs(tmpdir))
        for (const auto& b : fs::directory_iterator(d / "layout/blobs/sha256", ec))
            if (b.file_size(ec) > 0) return true;
    return false;
}

}  // namespace

TEST_CASE("cli: the oci-archive scratch directory is private and gone after SIGTERM, SIGINT and failures") {
    test::TempDir dir;
    const auto tmp = dir / "tmp";
    fs::create_directories(tmp);
    Cli cli{dir / "storage"};
    big_run(dir / "run", 48);
    REQUIRE(cli({"seal", (dir / "run").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    REQUIRE(cli({"export", "v1", (dir / "x.tar").string()}).exit_code == 0);

    for (const int sig : {SIGTERM, SIGINT}) {
        CAPTURE(sig);
        Child import({"--store", (dir / ("into-" + std::to_string(sig))).string(), "import", (dir / "x.tar").string()},
                     tmp, dir / "import.log");
        REQUIRE_MESSAGE(wait_until([&] { return unpacking(tmp); }), test::read_file(dir / "import.log"));
        const auto scratch = scratch_dirs(tmp);
        REQUIRE(scratch.size() == 1);
        struct stat st {};
        REQUIRE(::stat(scratch[0].c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
        import.kill(sig);
        CHECK(import.wait() == 128 + sig);  // it died of the signal, mid-import
        CHECK(scratch_dirs(tmp).empty());
    }

    // An import that fails: the scratch directory goes with the error.
    test::write_file(dir / "corrupt.tar", test::read_file(dir / "x.tar").substr(0, 700000) + std::string(4096, 'z'));
    Child bad({"--store", (dir / "into-bad").string(), "import", (dir / "corrupt.tar").string()}, tmp, dir / "bad.log");
    CHECK(bad.wait() == 1);
    CHECK(scratch_dirs(tmp).empty());
}

TEST_CASE("cli: scratch directories of dead processes are removed by the next command, live ones kept") {
    test::TempDir dir;
    const auto tmp = dir / "tmp";
    Cli cli{dir / "storage"};
    test::write_file(dir / "run/result.json", R"({"loss": 0.5})");
    REQUIRE(cli({"seal", (dir / "run").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);

    // Killed with SIGKILL: its owner.lock is held by nobody.
    const auto dead = tmp / "sealrun-archive-999999-AbCdEf";
    test::write_file(dead / "owner.lock", "");
    test::write_file(dead / "layout/blobs/sha256/partial", std::string(1 << 20, 'x'));
    // Alive: this process holds its lock.
    const auto alive = tmp / "sealrun-archive-1-GhIjKl";
    test::write_file(alive / "owner.lock", "");
    const int lock = ::open((alive / "owner.lock").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(::flock(lock, LOCK_EX) == 0);
    // No lock file: stale only once old (its maker may not have locked it yet).
    const auto young = tmp / "sealrun-archive-2-MnOpQr";
    const auto old = tmp / "sealrun-archive-3-StUvWx";
    fs::create_directories(young);
    fs::create_directories(old);
    REQUIRE(test::run({"touch", "-d", "3 hours ago", old.string()}).exit_code == 0);
    // Not ours to judge: another name.
    fs::create_directories(tmp / "unrelated-dir");

    Child exp({"--store", (dir / "storage").string(), "export", "v1", (dir / "x.tar").string()}, tmp, dir / "export.log");
    CHECK(exp.wait() == 0);
    CHECK_FALSE(fs::exists(dead));
    CHECK_FALSE(fs::exists(old));
    CHECK(fs::exists(alive));
    CHECK(fs::exists(young));
    CHECK(fs::exists(tmp / "unrelated-dir"));
    ::close(lock);
}
