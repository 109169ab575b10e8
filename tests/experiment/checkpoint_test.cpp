// Nothing lost when a sweep dies: a real recording process
// (tests/support/sweep_worker.cpp) is killed mid-sweep with SIGKILL, SIGINT
// and SIGTERM at a run it reports on a pipe, and what its store holds
// afterwards is opened: the checkpoint (closed runs, status, the open run's
// saved files), resume, the policies; then load, fork, rename and pushes
// that upload only new runs (counted in the real registry's log).
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/tmpdir.h"
#include "build_paths.h"

extern char** environ;

using namespace sealrun;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path worker_path() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    REQUIRE_FALSE(ec);
    return self.parent_path() / "sweep_worker";
}

// Worker is a running sweep_worker: its stdout is read line by line (with
// a deadline), its stdin held open until close_stdin() or kill.
class Worker {
public:
    explicit Worker(std::vector<std::string> args) {
        int in[2], out[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        args.insert(args.begin(), worker_path().string());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        REQUIRE(rc == 0);
    }
    ~Worker() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
        if (stdin_ >= 0) ::close(stdin_);
        ::close(stdout_);
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // wait_for reads lines until one equals `line`; fails at EOF or after 60 s.
    void wait_for(const std::string& line) {
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        for (;;) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                const auto got = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                seen_.push_back(got);
                if (got == line) return;
                continue;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            REQUIRE_MESSAGE(left.count() > 0, "the worker never said \"" << line << "\"");
            pollfd p{.fd = stdout_, .events = POLLIN, .revents = 0};
            REQUIRE(::poll(&p, 1, static_cast<int>(left.count())) >= 0);
            char buf[4096];
            const auto n = ::read(stdout_, buf, sizeof buf);
            REQUIRE_MESSAGE(n > 0, "the worker ended before saying \"" << line << "\"");
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }
    // saw returns whether a line read so far starts with `prefix`.
    bool saw(const std::string& prefix) const {
        return std::any_of(seen_.begin(), seen_.end(), [&](const std::string& l) { return l.starts_with(prefix); });
    }
    void close_stdin() {
        ::close(stdin_);
        stdin_ = -1;
    }
    // signal sends `sig` and returns the wait status.
    int signal_and_wait(int sig) {
        REQUIRE(::kill(pid_, sig) == 0);
        return wait();
    }
    // wait_within waits for the worker to end, failing after `limit` (a hang).
    int wait_within(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        int st = 0;
        for (;;) {
            const auto got = ::waitpid(pid_, &st, WNOHANG);
            REQUIRE(got >= 0);
            if (got == pid_) break;
            REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the worker hangs");
            std::this_thread::sleep_for(20ms);
        }
        pid_ = -1;
        return st;
    }
    int wait() {
        int st = 0;
        REQUIRE(::waitpid(pid_, &st, 0) == pid_);
        pid_ = -1;
        return st;
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string buffer_;
    std::vector<std::string> seen_;
};

// tags_of lists the tags of the store's layout; none when nothing was sealed.
std::vector<std::string> tags_of(const fs::path& store) {
    std::error_code ec;
    if (!fs::exists(store / "oci-layout", ec)) return {};
    content::OciLayout layout(store, {.read_only = true});
    auto tags = layout.tags();
    std::sort(tags.begin(), tags.end());
    return tags;
}

std::vector<std::int64_t> ids(std::int64_t first, std::int64_t last) {
    std::vector<std::int64_t> out;
    for (auto i = first; i <= last; ++i) out.push_back(i);
    return out;
}

}  // namespace

TEST_CASE("checkpoint_tag appends .checkpoint and refuses what is not a tag") {
    CHECK(checkpoint_tag("sweep-v1") == "sweep-v1.checkpoint");
    CHECK_THROWS_AS(checkpoint_tag(std::string(120, 'a')), Error);
    CHECK_THROWS_AS(checkpoint_tag("a/b"), Error);
    test::TempDir dir;
    RecordStore store(dir / "storage");
    CHECK_THROWS_AS(Experiment(store, "x", {.checkpoint = {.tag = "bad tag"}}), Error);
}

TEST_CASE("SIGKILL mid-sweep: the last checkpoint (the closed runs, draft) opens and resume goes on from it") {
    test::TempDir dir;
    const auto store_dir = dir / "storage";
    {
        Worker w({store_dir.string(), "sweep-v1", "50", "--stop-at", "7"});
        w.wait_for("open 7");
        const int st = w.signal_and_wait(SIGKILL);
        REQUIRE(WIFSIGNALED(st));
        CHECK(WTERMSIG(st) == SIGKILL);
    }
    CHECK(tags_of(store_dir) == std::vector<std::string>{"sweep-v1.checkpoint"});
    content::OciLayout layout(store_dir, {.read_only = true});
    const auto cp = SealedExperiment::open(layout, "sweep-v1.checkpoint");
    CHECK(cp.status() == "draft");
    CHECK(cp.annotations().at("vnd.sealrun.experiment.status") == "draft");
    CHECK(cp.run_ids() == ids(0, 6));
    for (const auto id : cp.run_ids()) {
        const auto run = cp.run(id);
        CHECK(run.status() == "finished");
        CHECK(run.get_json("result.json")["loss"] == doctest::Approx(1.0 / static_cast<double>(id + 1)));
        CHECK(run.get_blob("partial.txt") == "step " + std::to_string(id) + " saved\n");
    }

    // Resume: the closed runs kept; run 7, open when the process died, is
    // taken over from its record as interrupted with what it saved; the
    // checkpoint names it at once; numbering goes on; commit replaces it.
    RecordStore store(store_dir);
    auto exp = Experiment::resume(store, "sweep-v1");
    CHECK(exp->kept_run_ids() == ids(0, 6));
    REQUIRE(exp->runs().size() == 1);
    CHECK(exp->runs()[0]->run_id() == 7);
    CHECK(exp->runs()[0]->run_status() == "interrupted");
    {
        content::OciLayout now(store_dir, {.read_only = true});
        const auto moved = SealedExperiment::open(now, "sweep-v1.checkpoint");
        CHECK(moved.status() == "draft");
        REQUIRE(moved.run_ids() == ids(0, 7));
        const auto left = moved.run(7);
        CHECK(left.status() == "interrupted");
        CHECK(left.reason().find("died before closing it") != std::string::npos);
        CHECK(left.get_blob("partial.txt") == "step 7 saved\n");
        CHECK(left.get_json("result.json")["loss"] == doctest::Approx(0.125));
        CHECK(moved.annotations().at("vnd.sealrun.checkpoint.session") !=
              cp.annotations().at("vnd.sealrun.checkpoint.session"));
    }
    auto& r = exp->run();
    CHECK(r.run_id() == 8);
    r.save_file("result.json", {{"loss", 0.1}});
    r.finish();
    const auto root = exp->commit("sweep-v1");
    CHECK(tags_of(store_dir) == std::vector<std::string>{"sweep-v1"});
    content::OciLayout after(store_dir, {.read_only = true});
    const auto fin = SealedExperiment::open(after, "sweep-v1");
    CHECK(fin.descriptor().digest == root.digest);
    CHECK(fin.status() == "interrupted");  // run 7 rolls up
    CHECK(fin.run_ids() == ids(0, 8));
    CHECK(fin.run(3).get_blob("partial.txt") == "step 3 saved\n");
    CHECK(fin.run(7).get_blob("partial.txt") == "step 7 saved\n");
    CHECK_FALSE(fin.annotations().contains("vnd.sealrun.checkpoint.session"));  // a commit names no session
    // The kept runs are the checkpoint's manifests, not sealed again.
    CHECK(fin.run(3).manifest().digest == cp.run(3).manifest().digest);
}

TEST_CASE("SIGKILL twice: resumed, killed again, resumed again; closed runs after the last checkpoint come back finished") {
    test::TempDir dir;
    const auto store_dir = dir / "storage";
    {
        Worker w({store_dir.string(), "t", "50", "--stop-at", "7", "--every-runs", "3"});
        w.wait_for("open 7");
        w.signal_and_wait(SIGKILL);
    }
    {
        content::OciLayout layout(store_dir, {.read_only = true});
        CHECK(SealedExperiment::open(layout, "t.checkpoint").run_ids() == ids(0, 5));
    }
    {
        // Resumed: run 6 (closed, not yet checkpointed) and run 7 (open) are
        // taken over; the resumed worker goes on at 8 and is killed in 9.
        Worker w({store_dir.string(), "t", "50", "--resume", "--stop-at", "9", "--every-runs", "3"});
        w.wait_for("open 9");
        w.signal_and_wait(SIGKILL);
    }
    RecordStore store(store_dir);
    auto exp = Experiment::resume(store, "t");
    CHECK(exp->kept_run_ids() == ids(0, 7));
    REQUIRE(exp->runs().size() == 2);  // 8 closed, 9 open
    CHECK(exp->run().run_id() == 10);
    exp->runs().back()->finish();
    exp->commit("t");
    content::OciLayout after(store_dir, {.read_only = true});
    const auto fin = SealedExperiment::open(after, "t");
    REQUIRE(fin.run_ids() == ids(0, 10));
    for (const auto id : {6, 8}) {
        CAPTURE(id);
        const auto run = fin.run(id);
        CHECK(run.status() == "finished");
        CHECK(run.parameters().at("i") == Parameter(std::int64_t{id}));  // closed: its model.json held them
        CHECK(run.get_blob("partial.txt") == "step " + std::to_string(id) + " saved\n");
    }
    for (const auto id : {7, 9}) {
        CAPTURE(id);
        const auto run = fin.run(id);
        CHECK(run.status() == "interrupted");
        CHECK(run.get_blob("partial.txt") == "step " + std::to_string(id) + " saved\n");
    }
}

TEST_CASE("SIGINT and SIGTERM mid-run: an interrupted checkpoint with the open run's saved files; the process dies of the signal") {
    for (const int sig : {SIGINT, SIGTERM}) {
        CAPTURE(sig);
        test::TempDir dir;
        const auto store_dir = dir / "storage";
        {
            Worker w({store_dir.string(), "t", "50", "--stop-at", "4"});
            w.wait_for("open 4");
            const int st = w.signal_and_wait(sig);
            REQUIRE(WIFSIGNALED(st));
            CHECK(WTERMSIG(st) == sig);  // re-raised with the default action
        }
        content::OciLayout layout(store_dir, {.read_only = true});
        const auto cp = SealedExperiment::open(layout, "t.checkpoint");
        CHECK(cp.status() == "interrupted");
        CHECK(cp.annotations().at("vnd.sealrun.experiment.reason") == (sig == SIGINT ? "SIGINT" : "SIGTERM"));
        REQUIRE(cp.run_ids() == ids(0, 4));
        CHECK(cp.run(3).status() == "finished");
        const auto open = cp.run(4);
        CHECK(open.status() == "interrupted");
        CHECK(open.reason() == (sig == SIGINT ? "SIGINT" : "SIGTERM"));
        CHECK(open.get_blob("partial.txt") == "step 4 saved\n");
        CHECK(open.get_json("result.json")["loss"] == doctest::Approx(0.2));
        CHECK(open.parameters().at("i") == Parameter(std::int64_t{4}));

        // Resume keeps the interrupted run (sealed, nothing left to take
        // over) and goes on at 5.
        RecordStore store(store_dir);
        auto exp = Experiment::resume(store, "t");
        CHECK(exp->runs().empty());
        CHECK(exp->run().run_id() == 5);
        exp->runs().back()->finish();
        exp->commit("t");
        content::OciLayout after(store_dir, {.read_only = true});
        const auto fin = SealedExperiment::open(after, "t");
        CHECK(fin.run_ids() == ids(0, 5));
        CHECK(fin.run(4).status() == "interrupted");
        CHECK(fin.status() == "interrupted");
        CHECK(tags_of(store_dir) == std::vector<std::string>{"t"});
    }
}

TEST_CASE("a signal during destruction, while the watcher waits for the experiment's mutex: sealed, and the process dies of it") {
    // The destructor's checkpoint holds the mutex when its remote-error hook
    // raises SIGTERM: the watcher wakes and waits for the mutex; the
    // destructor releases it, then joins the watcher, which seals and ends
    // the process. Nothing hangs, and the signal is not lost.
    test::TempDir dir;
    const auto store_dir = dir / "storage";
    Worker w({store_dir.string(), "t", "50", "--abandon-at", "2", "--term-in-hook", "--checkpoint-to",
              "docker://127.0.0.1:1/lab/none"});
    w.close_stdin();
    const int st = w.wait_within(60s);
    REQUIRE(WIFSIGNALED(st));
    CHECK(WTERMSIG(st) == SIGTERM);
    content::OciLayout layout(store_dir, {.read_only = true});
    const auto cp = SealedExperiment::open(layout, "t.checkpoint");
    CHECK(cp.status() == "interrupted");
    CHECK(cp.annotations().at("vnd.sealrun.experiment.reason") == "SIGTERM");
    REQUIRE(cp.run_ids() == ids(0, 2));
    CHECK(cp.run(2).status() == "interrupted");
    CHECK(cp.run(2).reason() == "the experiment was destroyed before it was committed");
    CHECK(cp.run(2).get_blob("partial.txt") == "step 2 saved\n");
}

TEST_CASE("an exception out of the sweep leaves a failed checkpoint; the worker resumes and commits") {
    test::TempDir dir;
    const auto store_dir = dir / "storage";
    {
        Worker w({store_dir.string(), "t", "50", "--throw-at", "2"});
        w.close_stdin();
        const int st = w.wait();
        REQUIRE(WIFEXITED(st));
        CHECK(WEXITSTATUS(st) == 1);
    }
    content::OciLayout layout(store_dir, {.read_only = true});
    const auto cp = SealedExperiment::open(layout, "t.checkpoint");
    CHECK(cp.status() == "failed");
    REQUIRE(cp.run_ids() == ids(0, 2));
    CHECK(cp.run(2).status() == "failed");
    CHECK(cp.run(2).reason() == "boom at run 2");
    CHECK(cp.run(2).get_blob("partial.txt") == "step 2 saved\n");
    {
        Worker w({store_dir.string(), "t", "2", "--resume"});
        w.close_stdin();
        w.wait_for("closed 4");
        w.wait_for("committed");
        const int st = w.wait();
        CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    }
    CHECK(tags_of(store_dir) == std::vector<std::string>{"t"});
    content::OciLayout after(store_dir, {.read_only = true});
    CHECK(SealedExperiment::open(after, "t").run_ids() == ids(0, 4));
}

TEST_CASE("policies: every N runs, every T seconds, off") {
    SUBCASE("every 3 runs: killed in run 7, the checkpoint holds runs 0-5") {
        test::TempDir dir;
        Worker w({(dir / "s").string(), "t", "50", "--stop-at", "7", "--every-runs", "3"});
        w.wait_for("open 7");
        w.signal_and_wait(SIGKILL);
        content::OciLayout layout(dir / "s", {.read_only = true});
        CHECK(SealedExperiment::open(layout, "t.checkpoint").run_ids() == ids(0, 5));
    }
    SUBCASE("every hour: no checkpoint yet when killed") {
        test::TempDir dir;
        Worker w({(dir / "s").string(), "t", "50", "--stop-at", "7", "--every-seconds", "3600"});
        w.wait_for("open 7");
        w.signal_and_wait(SIGKILL);
        CHECK(tags_of(dir / "s").empty());
    }
    SUBCASE("every 1 ms: a checkpoint after every run") {
        test::TempDir dir;
        Worker w({(dir / "s").string(), "t", "50", "--stop-at", "3", "--every-seconds", "0.001"});
        w.wait_for("open 3");
        w.signal_and_wait(SIGKILL);
        content::OciLayout layout(dir / "s", {.read_only = true});
        CHECK(SealedExperiment::open(layout, "t.checkpoint").run_ids() == ids(0, 2));
    }
    SUBCASE("off: nothing is sealed, and SIGINT still ends the process as SIGINT") {
        test::TempDir dir;
        Worker w({(dir / "s").string(), "t", "50", "--stop-at", "3", "--off"});
        w.wait_for("open 3");
        const int st = w.signal_and_wait(SIGINT);
        CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGINT));
        CHECK(tags_of(dir / "s").empty());
    }
}

TEST_CASE("in process: checkpoint(), the destructor's interrupted checkpoint, and commit removing it") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    {
        Experiment exp(store, "x", {.checkpoint = {.tag = "x1", .every_runs = 1000}});
        exp.run([](Run& r) { r.save_file("a.txt", "a"); });
        CHECK(tags_of(dir / "storage").empty());  // not yet: every 1000 runs
        const auto cp = exp.checkpoint();
        REQUIRE(cp);
        CHECK(tags_of(dir / "storage") == std::vector<std::string>{"x1.checkpoint"});
        Run& open = exp.run();
        open.save_file("b.txt", "half");
        CHECK_THROWS_AS(exp.checkpoint("finished"), Error);
    }  // destroyed, not committed: interrupted
    content::OciLayout layout(dir / "storage", {.read_only = true});
    const auto cp = SealedExperiment::open(layout, "x1.checkpoint");
    CHECK(cp.status() == "interrupted");
    REQUIRE(cp.run_ids() == ids(0, 1));
    CHECK(cp.run(1).status() == "interrupted");
    CHECK(cp.run(1).get_blob("b.txt") == "half");
}

TEST_CASE("load appends runs; a push uploads only the new runs; fork names its parent as subject; rename") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    {
        Experiment exp(store, "base");
        for (int i = 0; i < 5; ++i)
            exp.run([&](Run& r) {
                r.log_parameter("i", i);
                r.save_file("out.txt", "run " + std::to_string(i));
            });
        exp.attachments().save_file("notes.txt", "shared");
        exp.annotate("team", "ops");
        exp.commit("base-v1");
    }
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = test::via(proxy, "lab/base");
    content::OciLayout layout(dir / "storage");
    content::copy(layout, "base-v1", repo, "base-v1");
    // An upload ends with its PUT (a POST may be a mount that finds the blob there).
    const auto old_blob_uploads = proxy.stats().count("PUT", "/blobs/uploads/");
    CHECK(old_blob_uploads >= 10);  // five runs: an out.txt and a config each, at least

    auto loaded = Experiment::load(store, "base-v1");
    CHECK(loaded->kept_run_ids() == ids(0, 4));
    loaded->run([](Run& r) { r.save_file("out.txt", "run 5"); });
    const auto root = loaded->commit("base-v1");  // same tag: moved without force
    content::OciLayout reread(dir / "storage", {.read_only = true});
    const auto appended = SealedExperiment::open(reread, "base-v1");
    CHECK(appended.descriptor().digest == root.digest);
    CHECK(appended.run_ids() == ids(0, 5));
    CHECK(appended.annotations().at("team") == "ops");
    CHECK(appended.get_blob("notes.txt") == "shared");
    proxy.reset_stats();
    content::copy(layout, "base-v1", repo, "base-v1", {.force = true});
    const auto stats = proxy.stats();
    // The new run's manifest and the new index (and a summary manifest when
    // the writer makes one), never the five old runs; the new run's file
    // and config (and a summary blob), never the old ones.
    CHECK(stats.count("PUT", "/manifests/") >= 2);
    CHECK(stats.count("PUT", "/manifests/") <= 3);
    CHECK(stats.count("PUT", "/blobs/uploads/") >= 2);
    CHECK(stats.count("PUT", "/blobs/uploads/") <= 3);
    CHECK(SealedExperiment::open(repo, "base-v1").run(5).get_blob("out.txt") == "run 5");

    // fork: the parent's index is the subject.
    auto child = Experiment::fork(store, "base-v1", "child");
    CHECK(child->subject()->digest == root.digest);
    child->run([](Run& r) { r.save_file("out.txt", "child run"); });
    child->commit("child-v1");
    content::OciLayout l2(dir / "storage", {.read_only = true});
    const auto idx_desc = l2.resolve("child-v1");
    const auto idx = oci::ImageIndex::parse(content::read_all(l2, idx_desc, oci::max_manifest_size));
    REQUIRE(idx.subject);
    CHECK(idx.subject->digest == root.digest);
    const auto forked = SealedExperiment::open(l2, "child-v1");
    CHECK(forked.name() == "child");
    CHECK(forked.run_ids() == ids(0, 6));
    CHECK(forked.run(2).config()["experiment"] == "child");
    CHECK(forked.run(2).get_blob("out.txt") == "run 2");
    // Attachment blobs are shared with the parent's run; only config and manifest are new.
    CHECK(forked.run(2).attachments().descriptor("out.txt").digest ==
          appended.run(2).attachments().descriptor("out.txt").digest);
    CHECK(forked.run(2).manifest().digest != appended.run(2).manifest().digest);
    // Copied elsewhere, the parent goes with it.
    test::TempDir other;
    content::OciLayout dst(other.path());
    content::copy(l2, "child-v1", dst, "child-v1");
    CHECK(dst.exists(*idx.subject));

    // rename: a new index under the new name, runs reused.
    const auto renamed = Experiment::rename(store, "child-v1", "grown", "grown-v1");
    content::OciLayout l3(dir / "storage", {.read_only = true});
    const auto g = SealedExperiment::open(l3, "grown-v1");
    CHECK(g.descriptor().digest == renamed.digest);
    CHECK(g.name() == "grown");
    CHECK(g.run_ids() == ids(0, 6));
    CHECK(g.run(6).get_blob("out.txt") == "child run");
}

TEST_CASE("sealrun checkpoints, fork, lineage, rename and validate on what a killed sweep left") {
    test::TempDir dir;
    const auto store_dir = (dir / "storage").string();
    {
        Worker w({store_dir, "t", "50", "--stop-at", "2"});
        w.wait_for("open 2");
        w.signal_and_wait(SIGINT);
    }
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {SEALRUN_CLI, "--store", store_dir});
        return test::run(args);
    };
    const auto cps = cli({"checkpoints", "--json"});
    REQUIRE(cps.exit_code == 0);
    const auto list = nlohmann::json::parse(cps.output);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["tag"] == "t.checkpoint");
    CHECK(list[0]["for"] == "t");
    CHECK(list[0]["status"] == "interrupted");
    CHECK(list[0]["runs"] == 3);
    CHECK(list[0]["reason"] == "SIGINT");
    // A checkpoint is a sealed experiment like any other: it validates.
    const auto v = cli({"validate", "t.checkpoint"});
    CHECK_MESSAGE(v.exit_code == 0, v.output);

    const auto forked = cli({"fork", "t.checkpoint", "kid", "--tag", "kid-v1", "--json"});
    REQUIRE_MESSAGE(forked.exit_code == 0, forked.output);
    const auto lin = cli({"lineage", "kid-v1", "--json"});
    REQUIRE(lin.exit_code == 0);
    const auto chain = nlohmann::json::parse(lin.output);
    REQUIRE(chain.size() == 2);
    CHECK(chain[0]["experiment"] == "kid");
    CHECK(chain[1]["experiment"] == "sweep");
    CHECK(chain[1]["digest"] == list[0]["digest"]);
    CHECK(cli({"validate", "kid-v1"}).exit_code == 0);

    CHECK(cli({"rename", "kid-v1", "grown"}).exit_code == 0);  // kid-v1 moved to the renamed index
    content::OciLayout layout(dir / "storage", {.read_only = true});
    CHECK(SealedExperiment::open(layout, "kid-v1").name() == "grown");
    CHECK(cli({"fork", "docker://127.0.0.1:1/x:y", "n", "--tag", "z"}).exit_code == 2);
}

TEST_CASE("commit into another target replaces the store's checkpoint; the destructor then seals nothing") {
    test::TempDir dir, other;
    RecordStore store(dir / "storage");
    {
        Experiment exp(store, "x", {.checkpoint = {.tag = "x1"}});
        exp.run([](Run& r) { r.save_file("a.txt", "a"); });
        CHECK(tags_of(dir / "storage") == std::vector<std::string>{"x1.checkpoint"});
        content::OciLayout elsewhere(other.path());
        exp.commit(elsewhere, "x1");
        CHECK(tags_of(dir / "storage").empty());
    }
    CHECK(tags_of(dir / "storage").empty());
    content::OciLayout elsewhere(other.path(), {.read_only = true});
    CHECK(SealedExperiment::open(elsewhere, "x1").status() == "finished");
}

TEST_CASE("checkpoints to a registry: a sweep SIGKILLed on one node resumes on an empty store elsewhere") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    const auto remote = "docker://" + proxy.host() + "/lab/cp-moved";
    test::TempDir node1, node2;
    {
        Worker w({(node1 / "storage").string(), "t", "50", "--stop-at", "5", "--checkpoint-to", remote});
        w.wait_for("open 5");
        w.signal_and_wait(SIGKILL);
        CHECK_FALSE(w.saw("remote-error"));
    }
    // node 1 and its disk are gone; the registry holds the last checkpoint.
    auto repo = test::via(proxy, "lab/cp-moved");
    const auto pushed = SealedExperiment::open(repo, "t.checkpoint");
    CHECK(pushed.status() == "draft");
    CHECK(pushed.run_ids() == ids(0, 4));
    {
        Worker w({(node2 / "storage").string(), "t", "3", "--resume-from", remote + ":t"});
        w.close_stdin();
        w.wait_for("closed 7");
        w.wait_for("committed");
        const int st = w.wait();
        CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
        CHECK_FALSE(w.saw("remote-error"));
    }
    content::OciLayout layout(node2 / "storage", {.read_only = true});
    const auto fin = SealedExperiment::open(layout, "t");
    CHECK(fin.status() == "finished");
    REQUIRE(fin.run_ids() == ids(0, 7));
    CHECK(fin.run(2).get_blob("partial.txt") == "step 2 saved\n");  // from the registry
    CHECK(fin.run(2).manifest().digest == pushed.run(2).manifest().digest);
    CHECK(fin.run(6).get_blob("partial.txt") == "step 6 saved\n");
    CHECK(tags_of(node2 / "storage") == std::vector<std::string>{"t"});
    // The resumed sweep went on checkpointing into the registry.
    CHECK(SealedExperiment::open(repo, "t.checkpoint").run_ids() == ids(0, 7));
}

TEST_CASE("a checkpoint copies only the new run to the registry; a failed copy is reported, the sweep goes on, the next catches up") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    test::TempDir dir;
    RecordStore store(dir / "storage");
    std::vector<std::string> errors;
    Experiment exp(store, "inc",
                   {.checkpoint = {.tag = "t",
                                   .remote = "docker://" + proxy.host() + "/lab/cp-inc",
                                   .remote_options = {.remote = test::fast_retries()},
                                   .on_remote_error = [&](const Error& e) { errors.push_back(e.what()); }}});
    const auto one_run = [&](int i) {
        exp.run([&](Run& r) {
            r.save_file("out.txt", "run " + std::to_string(i));
            r.save_file("result.json", {{"loss", i}});
        });
    };
    for (int i = 0; i < 4; ++i) one_run(i);
    CHECK(errors.empty());
    auto repo = test::via(proxy, "lab/cp-inc");
    CHECK(SealedExperiment::open(repo, "t.checkpoint").run_ids() == ids(0, 3));

    proxy.reset_stats();
    one_run(4);
    const auto stats = proxy.stats();
    // The new run's two files and config and the new summary document are
    // uploaded; the four runs before are not (one existence check each).
    CHECK(stats.count("PUT", "/blobs/uploads/") == 4);
    // The new run's manifest, the summary manifest and the index.
    CHECK(stats.count("PUT", "/manifests/") == 3);
    // The four runs of earlier checkpoints are known to be there: not even
    // checked (the new run's manifest, the summary's and the index are).
    CHECK(stats.count("HEAD", "/manifests/") <= 3);
    MESSAGE("HEAD manifests: " << stats.count("HEAD", "/manifests/") << ", HEAD blobs: " << stats.count("HEAD", "/blobs/")
                               << ", POST blobs: " << stats.count("POST", "/blobs/uploads/"));
    MESSAGE("requests for the fifth run's checkpoint: " << stats.count());

    // The registry refuses manifests: the checkpoint is sealed in the store,
    // the copy fails, the sweep goes on.
    proxy.add(test::Fault::respond("PUT", "/manifests/", 503, 1000));
    one_run(5);
    REQUIRE(errors.size() == 1);
    REQUIRE(exp.remote_error());
    MESSAGE("the failed copy: " << errors[0]);
    content::OciLayout local(dir / "storage", {.read_only = true});
    CHECK(SealedExperiment::open(local, "t.checkpoint").run_ids() == ids(0, 5));
    CHECK(SealedExperiment::open(repo, "t.checkpoint").run_ids() == ids(0, 4));
    proxy.clear_faults();
    one_run(6);
    CHECK(errors.size() == 1);
    CHECK_FALSE(exp.remote_error());
    CHECK(SealedExperiment::open(repo, "t.checkpoint").run_ids() == ids(0, 6));
    exp.commit("t");
}

TEST_CASE("a registry that is down: every checkpoint copy fails, the sweep commits all the same") {
    test::TempDir dir;
    Worker w({(dir / "storage").string(), "t", "3", "--checkpoint-to", "docker://127.0.0.1:1/lab/down"});
    w.close_stdin();
    w.wait_for("committed");
    const int st = w.wait();
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    CHECK(w.saw("remote-error"));
    content::OciLayout layout(dir / "storage", {.read_only = true});
    CHECK(SealedExperiment::open(layout, "t").run_ids() == ids(0, 2));
    // A checkpoint remote is a location without a tag, and needs a tag.
    RecordStore store(dir / "storage");
    CHECK_THROWS_AS(Experiment(store, "x", {.checkpoint = {.tag = "x", .remote = "docker://127.0.0.1:1/r:v1"}}), Error);
    CHECK_THROWS_AS(Experiment(store, "x", {.checkpoint = {.remote = "docker://127.0.0.1:1/r"}}), Error);
    CHECK_THROWS_AS(Experiment(store, "x", {.checkpoint = {.tag = "x", .remote = "justatag"}}), Error);
    CHECK_THROWS_AS(Experiment::resume(store, "docker://127.0.0.1:1/r"), Error);  // no tag to resume
}

TEST_CASE("summary values of live and kept runs, checkpoint after checkpoint: the same values, other values when others are chosen") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    const std::vector<std::string> chosen{"result.json:loss", "result.json:/m/acc", "other.json:x"};
    const CheckpointPolicy policy{.tag = "v", .seal = {.summary_values = chosen}};
    const auto check_rows = [](const SealedExperiment& e, std::int64_t last) {
        const auto* s = e.summary();
        REQUIRE(s != nullptr);
        REQUIRE(s->runs.size() == static_cast<std::size_t>(last + 1));
        for (const auto& row : s->runs) {
            CAPTURE(row.run_id);
            CHECK(row.values.at("result.json:loss") == Parameter(0.5 * static_cast<double>(row.run_id)));
            CHECK(row.values.at("result.json:/m/acc") == Parameter(std::int64_t{row.run_id}));
            CHECK(row.values.contains("other.json:x") == (row.run_id == 1));
        }
    };
    const auto one_run = [](Experiment& exp) {
        exp.run([](Run& r) {
            const auto i = r.run_id();
            r.save_file("result.json", {{"loss", 0.5 * static_cast<double>(i)}, {"m", {{"acc", i}}}, {"note", "run " + std::to_string(i)}});
            if (i == 1) r.save_file("other.json", {{"x", "one"}});
        });
    };
    {
        Experiment exp(store, "vals", {.checkpoint = policy});
        for (int i = 0; i < 3; ++i) one_run(exp);  // a checkpoint after each: the values of earlier runs are kept, not read again
        content::OciLayout layout(dir / "storage", {.read_only = true});
        check_rows(SealedExperiment::open(layout, "v.checkpoint"), 2);
    }
    auto exp = Experiment::resume(store, "v", {.checkpoint = policy});
    CHECK(exp->kept_run_ids() == ids(0, 2));
    one_run(*exp);
    exp->commit("v", {.summary_values = chosen});
    content::OciLayout layout(dir / "storage", {.read_only = true});
    check_rows(SealedExperiment::open(layout, "v"), 3);
    // Other values: read for them, kept and live runs alike.
    exp->commit("v-notes", {.summary_values = {"result.json:note"}});
    content::OciLayout again(dir / "storage", {.read_only = true});
    const auto notes = SealedExperiment::open(again, "v-notes");
    const auto* s = notes.summary();
    REQUIRE(s != nullptr);
    REQUIRE(s->runs.size() == 4);
    for (const auto& row : s->runs) {
        CHECK(row.values.size() == 1);
        CHECK(row.values.at("result.json:note") == Parameter("run " + std::to_string(row.run_id)));
    }
}
