// The sealrun command line interrupted: signals, SIGKILL at any moment, and
// what the next command and gc find afterwards (an older sealrun's scratch directories, temp
// files, the store's tags).
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/expect.h"
#include "support/registry.h"
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

}  // namespace

// tree lists every entry under `dir` (empty when it does not exist).
std::vector<std::string> tree(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        names.push_back(it->path().string());
    std::sort(names.begin(), names.end());
    return names;
}

TEST_CASE("cli: an oci-archive is read without a byte in TMPDIR; a killed import or export leaves no partial file") {
    test::TempDir dir;
    const auto tmp = dir / "tmp";
    fs::create_directories(tmp);
    Cli cli{dir / "storage"};
    big_run(dir / "run", 48);
    REQUIRE(cli({"seal", (dir / "run").string(), "--experiment", "x", "--tag", "v1"}).exit_code == 0);
    REQUIRE(cli({"export", "v1", (dir / "x.tar").string()}).exit_code == 0);
    const auto archive = "oci-archive:" + (dir / "x.tar").string() + ":v1";
    // Exported again: the same bytes (members in the walk's order, no times or owners).
    REQUIRE(cli({"export", "v1", (dir / "again.tar").string()}).exit_code == 0);
    CHECK(test::read_file(dir / "again.tar") == test::read_file(dir / "x.tar"));

    // Readers of the archive: nothing appears in TMPDIR, the results are the archive's.
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"show", archive}, {"validate", archive}, {"get", archive, "--run", "0", "big.bin"},
             {"copy", archive, "oci:" + (dir / "layout").string() + ":v1"}}) {
        CAPTURE(args[0]);
        Child c(args, tmp, dir / ("read-" + args[0] + ".log"));
        CHECK(c.wait() == 0);
        CHECK(tree(tmp).empty());
    }
    CHECK(test::read_file(dir / "read-get.log").substr(0, 1 << 20) == test::read_file(dir / "run/big.bin").substr(0, 1 << 20));
    CHECK(cli({"validate", "oci:" + (dir / "layout").string() + ":v1"}).exit_code == 0);

    int exports_killed = 0;
    for (const int sig : {SIGTERM, SIGINT, SIGKILL}) {
        CAPTURE(sig);
        // An import killed mid-way: TMPDIR stays empty (the store's own writes are covered below).
        const auto into = dir / ("into-" + std::to_string(sig));
        Child import({"--store", into.string(), "import", (dir / "x.tar").string()}, tmp, dir / "import.log");
        wait_until([&] { return tree(into / ".sealrun-ingest").size() > 0; }, 20s);  // it streams a blob
        import.kill(sig);
        import.wait();
        CHECK(tree(tmp).empty());
        // An export killed mid-way: no archive, no temporary file beside it;
        // an archive it was adding to is left as it was.
        for (const auto& out : {dir / "out" / "new.tar", dir / "x.tar"}) {
            CAPTURE(out);
            const auto listing = tree(out.parent_path());
            const auto before = fs::exists(out) ? test::read_file(out) : std::string();
            Child exp({"--store", cli.store.string(), "export", "v1", out.string(), "--force"}, tmp, dir / "export.log");
            std::this_thread::sleep_for(30ms);
            exp.kill(sig);
            if (exp.wait() != 128 + sig) continue;  // it finished first: nothing to check
            ++exports_killed;
            CHECK(tree(out.parent_path()) == listing);
            CHECK((fs::exists(out) ? test::read_file(out) : std::string()) == before);
            CHECK(tree(tmp).empty());
        }
    }
    CHECK(exports_killed > 0);

    // Tagging inside an archive rewrites it in place of the old one.
    REQUIRE(cli({"tag", archive, "v9"}).exit_code == 0);
    CHECK(cli({"validate", "oci-archive:" + (dir / "x.tar").string() + ":v9"}).exit_code == 0);
    CHECK(cli({"validate", archive}).exit_code == 0);

    // An import of a corrupt archive fails and leaves nothing in TMPDIR either.
    test::write_file(dir / "corrupt.tar", test::read_file(dir / "x.tar").substr(0, 700000) + std::string(4096, 'z'));
    Child bad({"--store", (dir / "into-bad").string(), "import", (dir / "corrupt.tar").string()}, tmp, dir / "bad.log");
    CHECK(bad.wait() == 1);
    CHECK(tree(tmp).empty());
}

TEST_CASE("cli: gc removes the scratch directories an older sealrun left when their owner is gone, live ones kept") {
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
    // No lock file and young, but its maker (named by the pid) is dead:
    // killed between mkdtemp and the lock.
    const pid_t gone = ::fork();
    REQUIRE(gone >= 0);
    if (gone == 0) ::_exit(0);
    REQUIRE(::waitpid(gone, nullptr, 0) == gone);
    const auto orphan = tmp / ("sealrun-archive-" + std::to_string(gone) + "-YzAbCd");
    fs::create_directories(orphan);
    // Not ours to judge: another name.
    fs::create_directories(tmp / "unrelated-dir");

    Child gc({"--store", (dir / "storage").string(), "gc"}, tmp, dir / "gc.log");
    CHECK(gc.wait() == 0);
    CHECK_FALSE(fs::exists(dead));
    CHECK_FALSE(fs::exists(old));
    CHECK_FALSE(fs::exists(orphan));
    CHECK(fs::exists(alive));
    CHECK(fs::exists(young));
    CHECK(fs::exists(tmp / "unrelated-dir"));
    ::close(lock);
}

namespace {

// in_dir runs sealrun in `cwd` through the shell (relative names resolve there).
test::RunResult in_dir(const fs::path& cwd, const std::string& args) {
    return test::run({"sh", "-c", "cd '" + cwd.string() + "' && '" + std::string(SEALRUN_CLI) + "' " + args});
}

std::size_t count_dirs(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory()) ++n;
    return n;
}

}  // namespace

TEST_CASE("cli: export and copy never replace an existing file that is not an oci-archive") {
    test::TempDir dir;
    test::write_file(dir / "run/result.json", R"({"loss": 0.5})");
    test::write_file(dir / "other/data.csv", "a,b\n1,2\n");
    REQUIRE(in_dir(dir.path(), "seal run --experiment x --tag v1").exit_code == 0);
    REQUIRE(in_dir(dir.path(), "seal other --experiment y --tag v2").exit_code == 0);
    // The user's own tar of other content, and a file that is no tar at all.
    REQUIRE(test::run({"tar", "-C", dir.path().string(), "-cf", (dir / "results.tar").string(), "other"}).exit_code == 0);
    const auto results = test::read_file(dir / "results.tar");
    test::write_file(dir / "notes.txt", "my notes\n");
    for (const std::string cmd : {"export v1 results.tar", "copy v1 oci-archive:results.tar:v1", "export v1 notes.txt",
                                   "copy v1 oci-archive:notes.txt"}) {
        CAPTURE(cmd);
        const auto r = in_dir(dir.path(), cmd);
        CHECK(r.exit_code == 1);
        CHECK(test::contains(r.output, "--force"));
        CHECK(test::contains(r.output, "not an oci-archive"));
    }
    CHECK(test::read_file(dir / "results.tar") == results);
    CHECK(test::read_file(dir / "notes.txt") == "my notes\n");
    // --force replaces such a file with the archive.
    REQUIRE(in_dir(dir.path(), "export v1 notes.txt --force").exit_code == 0);
    CHECK(in_dir(dir.path(), "validate oci-archive:notes.txt:v1").exit_code == 0);
    REQUIRE(in_dir(dir.path(), "copy v2 oci-archive:results.tar:v2 --force").exit_code == 0);
    CHECK(in_dir(dir.path(), "validate oci-archive:results.tar:v2").exit_code == 0);
    // An oci-archive is added to, as before.
    REQUIRE(in_dir(dir.path(), "export v1 ours.tar").exit_code == 0);
    REQUIRE(in_dir(dir.path(), "export v2 ours.tar").exit_code == 0);
    CHECK(in_dir(dir.path(), "validate oci-archive:ours.tar:v1").exit_code == 0);
    CHECK(in_dir(dir.path(), "validate oci-archive:ours.tar:v2").exit_code == 0);
}

TEST_CASE("cli: gc removes the records of sealed runs no tag names any more") {
    test::TempDir dir;
    test::write_file(dir / "a/big.bin", test::random_bytes(1 << 20));
    test::write_file(dir / "b/result.json", R"({"loss": 0.5})");
    REQUIRE(in_dir(dir.path(), "seal a --experiment x --tag v1").exit_code == 0);
    REQUIRE(in_dir(dir.path(), "seal b --experiment y --tag v2").exit_code == 0);
    const auto records = dir / "storage/records";
    CHECK(count_dirs(records) == 4);  // a run and the experiment's attachments record per seal
    const auto kept = in_dir(dir.path(), "gc");
    INFO(kept.output);
    CHECK(kept.exit_code == 0);
    CHECK(count_dirs(records) == 4);  // both still tagged
    REQUIRE(in_dir(dir.path(), "rm v1").exit_code == 0);
    const auto r = in_dir(dir.path(), "gc");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(test::contains(r.output, "2 sealed records"));
    CHECK(count_dirs(records) == 2);
    CHECK(in_dir(dir.path(), "validate v2").exit_code == 0);
    CHECK(in_dir(dir.path(), "get v2 --run 0 result.json").output == R"({"loss": 0.5})");
}

TEST_CASE("cli: SIGKILL during seal, pull and import leaves a store that validates and nothing gc misses") {
    test::Registry registry;
    test::TempDir dir;
    const auto tmp = dir / "tmp";
    fs::create_directories(tmp);
    Cli cli{dir / "storage"};
    test::write_file(dir / "small/result.json", R"({"loss": 0.5})");
    REQUIRE(cli({"seal", (dir / "small").string(), "--experiment", "base", "--tag", "base"}).exit_code == 0);
    const auto base = test::run({"sh", "-c", "'" + std::string(SEALRUN_CLI) + "' --store '" + cli.store.string() + "' ls"}).output;
    // A ~48 MiB run to seal, the same in a registry and in an archive.
    big_run(dir / "big", 48);
    Cli src{dir / "src"};
    REQUIRE(src({"seal", (dir / "big").string(), "--experiment", "big", "--tag", "big"}).exit_code == 0);
    const auto remote = "docker://" + registry.host() + "/crash/big:v1";
    REQUIRE(src({"push", "big", remote}).exit_code == 0);
    REQUIRE(src({"export", "big", (dir / "big.tar").string()}).exit_code == 0);

    int killed = 0;
    for (const int ms : {20, 50, 200, 500}) {
        const auto n = std::to_string(ms);
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"seal", (dir / "big").string(), "--experiment", "big", "--tag", "seal-" + n},
                 {"pull", remote, "pull-" + n},
                 {"import", (dir / "big.tar").string()}}) {
            CAPTURE(args[0]);
            CAPTURE(ms);
            std::vector<std::string> full = {"--store", cli.store.string()};
            full.insert(full.end(), args.begin(), args.end());
            Child c(full, tmp, dir / "child.log");
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            if (c.running()) {
                c.kill(SIGKILL);
                if (c.wait() == 128 + SIGKILL) ++killed;
            }
        }
    }
    MESSAGE(killed << " of 12 commands were killed before they finished");
    CHECK(killed > 0);

    // Every tag there is validates, and the earlier one is intact.
    const auto listed = test::run({"sh", "-c", "'" + std::string(SEALRUN_CLI) + "' --store '" + cli.store.string() + "' ls"});
    REQUIRE(listed.exit_code == 0);
    CHECK(test::contains(listed.output, base));
    std::istringstream lines(listed.output);
    for (std::string line; std::getline(lines, line);) {
        const auto tag = line.substr(0, line.find('\t'));
        CAPTURE(tag);
        const auto v = cli({"validate", tag});
        INFO(v.output);
        CHECK(v.exit_code == 0);
    }
    CHECK(cli({"get", "base", "--run", "0", "result.json"}).output == R"({"loss": 0.5})");

    // gc leaves no temporary file, ingest partial or scratch folder behind.
    Child gc({"--store", cli.store.string(), "gc"}, tmp, dir / "gc.log");
    CHECK(gc.wait() == 0);
    std::vector<std::string> stray;
    for (const auto& e : fs::recursive_directory_iterator(cli.store)) {
        const auto name = e.path().filename().string();
        if (name.starts_with(".sealrun-tmp-") || (e.is_regular_file() && e.path().parent_path().filename() == ".sealrun-ingest"))
            stray.push_back(e.path().string());
    }
    std::string stray_list;
    for (const auto& s : stray) stray_list += s + "\n";
    CHECK_MESSAGE(stray.empty(), stray_list);
    CHECK(scratch_dirs(tmp).empty());
    // And the store still takes new work.
    CHECK(cli({"import", (dir / "big.tar").string()}).exit_code == 0);
    CHECK(cli({"validate", "big"}).exit_code == 0);
}
