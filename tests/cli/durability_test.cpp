// The local store's durability rule (docs/ARCHITECTURE.md, "The local
// store"): blobs are not fsynced one by one; one syncfs of the layout's file
// system comes before every index.json write. Checked from where the user
// stands: the built CLI sealing, copying and pulling under strace, whose
// fsync-family calls into the layout must not grow with the number of runs,
// and whose index.json rename must follow a syncfs of the layout made after
// the last blob was renamed into place. And what a crash may leave (a blob
// stored since the last sync, empty or short under its name) is never
// trusted and is replaced by the next writer.
#include <doctest/doctest.h>

#include <regex>
#include <sstream>

#include "sealrun/content/oci_layout.h"
#include "support/cli.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/sample.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;
using test::errc_of;
using test::quoted;

namespace {

// Syscalls is what one traced command did to the layout at `store`.
struct Syscalls {
    int syncs = 0;         // fsync, fdatasync or syncfs of a file or directory of the layout (records/ excepted)
    int syncfs = 0;        // of those, syncfs calls
    int record_syncs = 0;  // fsync, fdatasync or syncfs of a file or directory under records/
    int blobs_placed = 0;  // renames into blobs/
    int index_writes = 0;  // renames onto index.json
    // index_before_sync counts index.json renames with a blob renamed into
    // place since the layout's last syncfs: the rule broken.
    int index_before_sync = 0;
};

// traced runs the CLI with `args` (in `cwd`) under strace and reads, in
// order, the calls that touch the layout at `store`.
Syscalls traced(const fs::path& cwd, const fs::path& store, const std::vector<std::string>& args) {
    test::TempDir dir;
    const auto out = dir / "strace.out";
    // -y prints the path behind each descriptor; LeakSanitizer cannot run
    // under ptrace. A call another thread interrupts is cut in two lines
    // ("<unfinished ...>", "<... resumed>"): its arguments are on the first.
    std::string line = "cd " + quoted(cwd.string()) + " && ASAN_OPTIONS=detect_leaks=0 SEALRUN_NO_PROGRESS=1 strace -f -qq -y -o " +
                       quoted(out.string()) + " -e trace=fsync,fdatasync,syncfs,rename,renameat,renameat2 " + quoted(SEALRUN_CLI);
    for (const auto& a : args) line += " " + quoted(a);
    const auto r = test::run({"sh", "-c", line + " 2>&1"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto root = fs::weakly_canonical(store).string();
    const auto in_layout = [&](const std::string& path) {
        return (path == root || path.starts_with(root + "/")) && !path.starts_with(root + "/records/");
    };
    static const std::regex sync_call(R"re(\b(fsync|fdatasync|syncfs)\(\d+<([^>]*)>)re");
    static const std::regex rename_call(R"re(\brename(at2?)?\(.*"([^"]*)")re");
    Syscalls s;
    bool unsynced = false;
    std::istringstream lines(test::read_file(out));
    for (std::string l; std::getline(lines, l);) {
        std::smatch m;
        if (std::regex_search(l, m, sync_call) && m[2].str().starts_with(root + "/records/")) {
            ++s.record_syncs;
        } else if (std::regex_search(l, m, sync_call) && in_layout(m[2].str())) {
            ++s.syncs;
            if (m[1] == "syncfs") {
                ++s.syncfs;
                unsynced = false;  // one that failed fails the command
            }
        } else if (std::regex_search(l, m, rename_call)) {
            const auto dest = m[2].str();
            if (dest.starts_with(root + "/blobs/")) {
                ++s.blobs_placed;
                unsynced = true;
            } else if (dest == root + "/index.json") {
                ++s.index_writes;
                if (unsynced) ++s.index_before_sync;
            }
        }
    }
    return s;
}

// make_runs writes `n` result directories of two small distinct files each
// (as bench/scale.sh does) under `dir`, and returns their names.
std::vector<std::string> make_runs(const fs::path& dir, int n) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
        const auto name = "r" + std::to_string(1000 + i);
        test::write_file(dir / name / "result.json", R"({"seed":)" + std::to_string(i) + R"(,"loss":0.5})");
        test::write_file(dir / name / "log.txt", "run " + std::to_string(i) + "\n");
        names.push_back(name);
    }
    return names;
}

// Counts is what sealing, copying and pulling `n` runs cost in syscalls.
struct Counts {
    Syscalls seal, copy, pull;
};

Counts measure(int n, const test::Registry& registry) {
    test::TempDir dir;
    const auto runs = dir / "runs";
    const auto store = dir / "store";
    auto args = std::vector<std::string>{"--store", store.string(), "seal"};
    for (const auto& r : make_runs(runs, n)) args.push_back(r);
    args.insert(args.end(), {"--experiment", "durable", "--tag", "v1"});
    Counts c;
    c.seal = traced(runs, store, args);
    // A copy between two layouts: every blob written through OciLayout::push.
    const auto copied = dir / "copied";
    c.copy = traced(dir.path(), copied, {"--store", copied.string(), "copy", "oci:" + store.string() + ":v1", "v1"});
    // A pull from a registry: several blobs written at once.
    const auto remote = "docker://" + registry.host() + "/durability/n" + std::to_string(n) + ":v1";
    const auto push = test::cli_in(dir.path(), {"--store", store.string(), "push", "v1", remote});
    INFO(push.output);
    REQUIRE(push.exit_code == 0);
    const auto pulled = dir / "pulled";
    c.pull = traced(dir.path(), pulled, {"--store", pulled.string(), "pull", remote, "v1"});
    return c;
}

}  // namespace

TEST_CASE("durability: sealing, copying and pulling N runs sync the layout a fixed number of times, before index.json") {
    if (!test::have_program("strace")) {
        // tools/run installs strace for the tests.
        MESSAGE("strace not installed: the durability rule is not checked");
        return;
    }
    test::Registry registry;
    const auto few = measure(4, registry);
    const auto many = measure(40, registry);
    for (const auto& [what, a, b] : {std::tuple{std::string("seal"), few.seal, many.seal},
                                     std::tuple{std::string("copy"), few.copy, many.copy},
                                     std::tuple{std::string("pull"), few.pull, many.pull}}) {
        INFO(what, ": 4 runs: ", a.syncs, " syncs (", a.syncfs, " syncfs), ", a.blobs_placed, " blobs, ", a.index_writes,
             " index.json writes; 40 runs: ", b.syncs, " syncs (", b.syncfs, " syncfs), ", b.blobs_placed, " blobs, ",
             b.index_writes, " index.json writes");
        // Each run is at least two attachments, a config and a manifest.
        CHECK(a.blobs_placed >= 4 * 4);
        CHECK(b.blobs_placed >= 4 * 40);
        CHECK(a.index_writes >= 1);
        CHECK(b.index_writes >= 1);
        // The same number of syncs whatever the number of runs: at least
        // one syncfs, no fsync per blob.
        CHECK(a.syncfs >= 1);
        CHECK(b.syncs == a.syncs);
        CHECK(b.syncs < 4 * 40);
        // index.json never names content written since the last syncfs.
        CHECK(a.index_before_sync == 0);
        CHECK(b.index_before_sync == 0);
    }
    // `sealrun seal DIR...` records copies of directories that stay: the
    // commit's syncfs makes them durable, no record file is synced alone.
    INFO("record syncs: 4 runs ", few.seal.record_syncs, ", 40 runs ", many.seal.record_syncs);
    CHECK(many.seal.record_syncs == few.seal.record_syncs);
}

TEST_CASE("durability: a blob a crash left empty or short under its name is not trusted; push and ingest_file replace it") {
    test::TempDir dir;
    content::OciLayout layout(dir / "store");
    const auto s = test::push_sample(layout, "crash", 2, "v1");
    // What a crash before the sync can leave: the name renamed into place,
    // the bytes not (yet) written.
    for (const auto& leftover : {std::string(), s.layer_bytes[0].substr(0, 3)}) {
        CAPTURE(leftover.size());
        test::write_file(layout.blob_path(s.layers[0].digest), leftover);
        CHECK_FALSE(layout.exists(s.layers[0]));
        CHECK(errc_of([&] { (void)content::read_all(layout, s.layers[0], 1 << 20); }) == Errc::size_mismatch);
        // A tag never names it: the graph is checked by size under the lock
        // by the process after the crash (this one's tags checked the graph
        // whole and remember it until something is removed: oci_layout_test).
        const auto after_crash = test::cli_in(dir.path(), {"tag", "oci:store:v1", "v2"});
        CHECK(after_crash.exit_code != 0);
        CHECK(after_crash.output.find(s.layers[0].digest.str()) != std::string::npos);
        content::push_bytes(layout, s.layers[0], s.layer_bytes[0]);
        CHECK(test::read_file(layout.blob_path(s.layers[0].digest)) == s.layer_bytes[0]);
        CHECK(test::cli_in(dir.path(), {"tag", "oci:store:v1", "v2", "--force"}).exit_code == 0);
        layout.tag(s.manifest, "v2");
    }
    // ingest_file too, whichever way it stores the file.
    for (const bool share : {true, false}) {
        CAPTURE(share);
        const auto file = dir / ("attachment-" + std::to_string(share) + ".txt");
        test::write_file(file, "the attachment's bytes\n");
        const auto d = oci::Descriptor::for_bytes("text/plain", std::string("the attachment's bytes\n"));
        test::write_file(layout.blob_path(d.digest), "the att");
        CHECK_FALSE(layout.exists(d));
        const auto got = layout.ingest_file(file, "text/plain", {.share = share});
        CHECK(got.method != content::IngestMethod::present);
        CHECK(got.descriptor.digest == d.digest);
        CHECK(content::read_all(layout, d, 1 << 20) == "the attachment's bytes\n");
    }
}

TEST_CASE("durability: sync() is the promise without a tag, and is callable on every layout") {
    test::TempDir dir;
    content::OciLayout layout(dir / "store");
    const auto s = test::push_sample(layout, "untagged", 1, "");
    CHECK_NOTHROW(layout.sync());
    CHECK(layout.exists(s.manifest));
    CHECK(layout.tags().empty());
    CHECK_NOTHROW(content::OciLayout(dir / "store", {.read_only = true}).sync());
    CHECK_NOTHROW(content::OciLayout(dir / "scratch", {.skip_fsync = true}).sync());
}
