// Writers racing gc on one local store, driven through the real CLI: the
// store's writer lock, gc's grace period and tag's whole-graph check (see
// docs/ARCHITECTURE.md, "The local store").
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/manifest.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

test::RunResult cli(const fs::path& store, std::vector<std::string> args) {
    args.insert(args.begin(), {SEALRUN_CLI, "--store", store.string(), "--quiet"});
    return test::run(args);
}

// write_run writes a run directory whose big file differs per `seed`, so
// every seal pushes new blobs gc could take.
void write_run(const fs::path& dir, int seed) {
    std::string big(3 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + static_cast<std::size_t>(seed) * 7919) >> 3);
    test::write_file(dir / "weights.bin", big);
    test::write_file(dir / "result.json", "{\"seed\": " + std::to_string(seed) + "}");
    test::write_file(dir / "model.json", R"({"status":"finished"})");
}

void mark_done(const fs::path& dir, int p) { test::write_file(dir / ("done-" + std::to_string(p)), ""); }

}  // namespace

TEST_CASE("store: writers racing a looping gc never leave a tag that fails validate") {
    test::TempDir dir;
    const auto store = dir / "store";
    const auto other = dir / "other";
    // Sources for the import and copy writers, made before the race.
    write_run(dir / "run-imp", 1000);
    REQUIRE(cli(other, {"seal", (dir / "run-imp").string(), "--experiment", "imp", "--tag", "imp"}).exit_code == 0);
    write_run(dir / "run-cp", 2000);
    REQUIRE(cli(other, {"seal", (dir / "run-cp").string(), "--experiment", "cp", "--tag", "cp"}).exit_code == 0);
    REQUIRE(cli(other, {"export", "imp", (dir / "imp.tar").string()}).exit_code == 0);
    test::Registry registry;
    write_run(dir / "run-pl", 3000);
    REQUIRE(cli(other, {"seal", (dir / "run-pl").string(), "--experiment", "pl", "--tag", "pl"}).exit_code == 0);
    const auto remote = "docker://" + registry.host() + "/race/pl:pl";
    REQUIRE(cli(other, {"push", "pl", remote}).exit_code == 0);
    const auto sync = dir / "sync";
    fs::create_directories(sync);
    constexpr int rounds = 6;
    constexpr int writers = 4;

    const auto codes = test::in_processes(writers + 1, [&](int p) {
        int failures = 0;
        const auto must = [&](const test::RunResult& r) {
            if (r.exit_code != 0) {
                ++failures;
                std::fprintf(stderr, "writer %d: %s\n", p, r.output.c_str());
            }
        };
        if (p == writers) {  // the collector: gc in a loop until every writer is done
            const auto deadline = std::chrono::steady_clock::now() + 120s;
            int runs = 0;
            while (std::chrono::steady_clock::now() < deadline) {
                int done = 0;
                for (int w = 0; w < writers; ++w) done += fs::exists(sync / ("done-" + std::to_string(w)));
                if (done == writers) break;
                content::OciLayout(store, {.skip_fsync = true}).gc({.grace = 0s, .lock_timeout = 60s});
                ++runs;
            }
            return runs > 0 ? 0 : 3;
        }
        for (int i = 0; i < rounds; ++i) {
            if (p == 0) {
                const auto run = dir / ("run-" + std::to_string(i));
                write_run(run, i);
                must(cli(store, {"seal", run.string(), "--experiment", "race", "--tag", "s" + std::to_string(i)}));
            } else if (p == 1) {
                (void)cli(store, {"rm", "imp"});  // its blobs become garbage gc may take mid-import
                must(cli(store, {"import", (dir / "imp.tar").string()}));
            } else if (p == 2) {
                (void)cli(store, {"rm", "cp"});
                must(cli(store, {"copy", "oci:" + other.string() + ":cp", "cp"}));
            } else {
                (void)cli(store, {"rm", "pl"});
                must(cli(store, {"pull", remote, "pl"}));
            }
        }
        mark_done(sync, p);
        return failures == 0 ? 0 : 2;
    });
    CHECK(codes == std::vector<int>(writers + 1, 0));
    const auto tags = content::OciLayout(store).tags();
    CHECK(tags.size() == rounds + 3);
    for (const auto& t : tags) {
        const auto r = cli(store, {"validate", t});
        INFO(t, ": ", r.output);
        CHECK(r.exit_code == 0);
    }
}

namespace {
// StallingStream yields one chunk, then tells the parent through `ready_fd`
// and waits forever: a writer caught mid-push.
class StallingStream final : public content::ReadStream {
public:
    explicit StallingStream(int ready_fd) : ready_fd_(ready_fd) {}
    std::size_t read(std::span<std::byte> buffer) override {
        if (!sent_) {
            sent_ = true;
            std::fill(buffer.begin(), buffer.end(), std::byte{'x'});
            return buffer.size();
        }
        (void)!::write(ready_fd_, "r", 1);
        for (;;) ::pause();
    }

private:
    int ready_fd_;
    bool sent_ = false;
};
}  // namespace

TEST_CASE("store: gc waits for a live writer, and a writer killed mid-push does not block it") {
    test::TempDir dir;
    content::OciLayout layout(dir.path(), {.skip_fsync = true});
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            content::OciLayout writer(dir.path(), {.skip_fsync = true});
            StallingStream in(ready[1]);
            writer.push(oci::Descriptor::for_bytes("application/octet-stream", std::string(10 << 20, 'x')), in);
        } catch (...) {
        }
        ::_exit(1);
    }
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    // Alive, the writer holds the writer lock: gc gives up, removing nothing.
    const auto e = test::thrown([&] { layout.gc({.grace = 0s, .lock_timeout = 200ms}); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, "still writing"));
    // Killed, it holds nothing: gc runs at once and leaves no partial blob.
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const auto start = std::chrono::steady_clock::now();
    layout.gc({.grace = 0s, .lock_timeout = 30s});
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    CHECK(fs::is_empty(dir / ".sealrun-ingest"));
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST_CASE("store: tag checks the whole graph under the lock and writes nothing when a blob is missing") {
    test::TempDir dir;
    content::OciLayout layout(dir.path(), {.skip_fsync = true});
    const std::string layer = "layer bytes";
    const auto l = oci::Descriptor::for_bytes("application/octet-stream", layer);
    content::push_bytes(layout, l, layer);
    oci::ImageManifest m;
    m.config = oci::empty_descriptor();
    m.layers = {l};
    const auto bytes = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(layout, md, bytes);
    // The empty config was never pushed: the root is there, its graph is not.
    const auto e = test::thrown([&] { layout.tag(md, "v1"); });
    CHECK(e.code == Errc::not_found);
    CHECK(test::contains(e.message, oci::empty_descriptor().digest.str()));
    CHECK(layout.tags().empty());
    content::push_bytes(layout, oci::empty_descriptor(), "{}");
    fs::resize_file(layout.blob_path(l.digest), 0);  // an emptied blob is missing too
    CHECK(test::thrown([&] { layout.tag(md, "v1"); }).code == Errc::not_found);
    content::push_bytes(layout, l, layer);  // push repairs it
    layout.tag(md, "v1");
    CHECK(layout.tags() == std::vector<std::string>{"v1"});
}
