// Sealing at disk speed (issue 15): commit() reads each byte of a record
// file once, and the store's own layout shares the file's storage (a clone,
// else a read-only hard link) instead of keeping a second copy; a blob never
// changes when the record file is saved again; another file system (or
// sharing turned off) gets one streamed copy; gc and collect stay correct
// with files that have two names.
#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/oci/digest.h"
#include "sealrun/validate/validate.h"
#include "support/expect.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t big_size = std::int64_t{64} << 20;

// IoCounters are this process's byte counters from /proc/self/io: rchar
// and wchar count every byte passed through read(2)/write(2) (page cache
// hits included), so they say how often a file was read, whatever the
// cache holds.
struct IoCounters {
    std::int64_t rchar = 0;
    std::int64_t wchar = 0;
};

IoCounters io_now() {
    std::ifstream in("/proc/self/io");
    REQUIRE(in.good());
    IoCounters c;
    std::string key;
    std::int64_t value = 0;
    while (in >> key >> value) {
        if (key == "rchar:") c.rchar = value;
        if (key == "wchar:") c.wchar = value;
    }
    return c;
}

// write_random writes `size` pseudo-random bytes (incompressible, so a
// sparse or deduplicating file system cannot flatter the disk numbers).
void write_random(const fs::path& path, std::int64_t size, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::ofstream out(path, std::ios::binary);
    std::vector<std::uint64_t> chunk(1 << 17);
    for (std::int64_t left = size; left > 0;) {
        for (auto& v : chunk) v = rng();
        const auto n = std::min<std::int64_t>(left, static_cast<std::int64_t>(chunk.size() * 8));
        out.write(reinterpret_cast<const char*>(chunk.data()), n);
        left -= n;
    }
    REQUIRE(out.good());
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

// disk_bytes is the storage the regular files under `root` hold, each
// inode counted once (st_blocks: what the file system allocated).
std::int64_t disk_bytes(const fs::path& root) {
    std::set<std::pair<dev_t, ino_t>> seen;
    std::int64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file() || e.is_symlink()) continue;
        const auto st = stat_of(e.path());
        if (seen.insert({st.st_dev, st.st_ino}).second) total += static_cast<std::int64_t>(st.st_blocks) * 512;
    }
    return total;
}

std::string file_digest(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return oci::Digest::of(s.str()).str();
}

// big_record seals nothing yet: an experiment of one run holding `big.bin`
// (imported from `source`, random bytes), ready to commit.
struct BigRun {
    explicit BigRun(const fs::path& store_root, const fs::path& source, std::uint64_t seed = 1)
        : store(store_root), exp(store, "x", test::fixed_options()) {
        write_random(source, big_size, seed);
        digest = file_digest(source);
        exp.run([&](Run& r) {
            r.import_file("big.bin", source);
            record = r.local_directory() / "big.bin";
        });
        fs::remove(source);
    }
    RecordStore store;
    Experiment exp;
    fs::path record;
    std::string digest;
};

fs::path blob_of(const fs::path& layout_root, const std::string& digest) {
    return layout_root / "blobs" / "sha256" / digest.substr(std::string("sha256:").size());
}

std::size_t blob_count(const fs::path& layout_root) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(layout_root / "blobs" / "sha256")) n += e.is_regular_file() ? 1 : 0;
    return n;
}

// other_filesystem returns a fresh directory on a file system other than
// `here`'s (/dev/shm is tmpfs where this suite runs), or nothing.
std::optional<fs::path> other_filesystem(const fs::path& here) {
    const fs::path shm = "/dev/shm";
    std::error_code ec;
    if (!fs::is_directory(shm, ec)) return std::nullopt;
    if (stat_of(shm).st_dev == stat_of(here).st_dev) return std::nullopt;
    auto dir = shm / ("sealrun-seal-disk-" + std::to_string(::getpid()));
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("seal into the store's layout reads each byte once and keeps one copy on disk") {
    test::TempDir dir;
    BigRun big(dir / "storage", dir / "source.bin");
    const auto before = io_now();
    const auto root = big.exp.commit("v1");
    const auto after = io_now();
    const auto read = after.rchar - before.rchar;
    const auto written = after.wchar - before.wchar;
    MESSAGE("seal of " << big_size << " bytes: read " << read << ", wrote " << written);
    // Once: the file, plus a few small JSON documents (model.json, configs).
    CHECK(read >= big_size);
    CHECK(read < big_size + (std::int64_t{1} << 20));
    // Nothing of the file is written again: its storage is shared.
    CHECK(written < (std::int64_t{1} << 20));

    const auto blob = blob_of(dir / "storage", big.digest);
    const auto rec = stat_of(big.record);
    const auto stored = stat_of(blob);
    CHECK(rec.st_ino == stored.st_ino);      // one inode: a hard link (no reflink on ext4)
    CHECK(rec.st_nlink == 2);
    CHECK((rec.st_mode & 0222) == 0);         // the record copy is read-only now
    CHECK(file_digest(blob) == big.digest);
    // Disk: the record and the blob together cost the file once (≤ 1.1×).
    const auto disk = disk_bytes(dir / "storage");
    MESSAGE("disk use " << disk << " bytes for a " << big_size << "-byte file");
    CHECK(disk <= big_size + big_size / 10);

    content::OciLayout layout(dir / "storage");
    CHECK(validate(layout, "v1").ok());
    // Sealing again stores nothing new and changes nothing.
    CHECK(big.exp.commit("v1").digest == root.digest);
    CHECK(stat_of(big.record).st_nlink == 2);
    CHECK(file_digest(blob) == big.digest);
}

TEST_CASE("a sealed blob never changes when its record file is saved or appended again") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "x", test::fixed_options());
    const std::string first(1 << 20, 'a');
    exp.attachments().save_file("data.bin", codecs::Bytes{first}, "application/octet-stream");
    exp.attachments().append_jsonl("log.jsonl", {{"step", 1}});
    exp.run([](Run& r) { r.save_file("result.json", nlohmann::json{{"loss", 0.5}}); });
    exp.commit("v1");
    const auto data = exp.attachments().local_directory() / "data.bin";
    const auto log = exp.attachments().local_directory() / "log.jsonl";
    const auto data_digest = oci::Digest::of(first).str();
    const auto log_digest = file_digest(log);
    // The experiment's record stays open after commit: it is shared only
    // where file modes stop a writer (not for the superuser, whom a
    // read-only file does not stop; the layout copies then).
    const nlink_t links = ::geteuid() == 0 ? 1 : 2;
    CHECK(stat_of(data).st_nlink == links);
    CHECK(stat_of(log).st_nlink == links);
    const auto data_blob = blob_of(dir / "storage", data_digest);
    const auto log_blob = blob_of(dir / "storage", log_digest);

    // The user saves both again: the record's names now hold new files,
    // the blobs keep their bytes (and their inodes).
    const auto blob_inode = stat_of(data_blob).st_ino;
    exp.attachments().save_file("data.bin", codecs::Bytes{std::string(1 << 20, 'b')}, "application/octet-stream");
    exp.attachments().append_jsonl("log.jsonl", {{"step", 2}});
    CHECK(stat_of(data).st_ino != blob_inode);  // a new file, linked before or not
    CHECK(stat_of(data).st_nlink == 1);
    CHECK(stat_of(log).st_nlink == 1);
    CHECK(file_digest(data_blob) == data_digest);
    CHECK(file_digest(log_blob) == log_digest);
    CHECK(stat_of(data_blob).st_nlink == 1);
    // Whoever runs this: a file that has a second name (as a linked blob
    // has) is replaced by append_jsonl, never appended to in place.
    fs::create_hard_link(log, dir / "second-name.jsonl");
    const auto before_append = file_digest(log);
    exp.attachments().append_jsonl("log.jsonl", {{"step", 3}});
    CHECK(file_digest(dir / "second-name.jsonl") == before_append);
    CHECK(stat_of(log).st_nlink == 1);
    CHECK(stat_of(dir / "second-name.jsonl").st_nlink == 1);
    // The record holds the new content: the old lines and the new one.
    const auto lines = exp.attachments().load_file<std::vector<nlohmann::json>>("log.jsonl");
    REQUIRE(lines.has_value());
    CHECK(lines->size() == 3);
    content::OciLayout layout(dir / "storage");
    CHECK(validate(layout, "v1").ok());
    // A second seal takes the new bytes; the first still validates.
    const auto v2 = exp.commit("v2");
    CHECK(v2.digest != layout.resolve("v1").digest);
    CHECK(validate(layout, "v1").ok());
    CHECK(validate(layout, "v2").ok());
    CHECK(file_digest(blob_of(dir / "storage", oci::Digest::of(std::string(1 << 20, 'b')).str())) ==
          oci::Digest::of(std::string(1 << 20, 'b')).str());
}

TEST_CASE("another file system, or sharing turned off, gets one streamed copy hashed as it is written") {
    test::TempDir dir;
    BigRun big(dir / "storage", dir / "source.bin", 2);
    std::vector<std::pair<std::string, fs::path>> layouts;
    const auto shm = other_filesystem(dir.path());
    if (shm) layouts.emplace_back("another file system", *shm / "layout");
    else MESSAGE("no second file system (/dev/shm): only the option is tested");
    layouts.emplace_back("share_files = false", dir / "copied");
    for (const auto& [what, where] : layouts) {
        CAPTURE(what);
        // Across file systems sharing is allowed (the default) and fails
        // over to the copy; on the same one it is turned off.
        content::OciLayout target(where, {.share_files = what == "another file system"});
        const auto before = io_now();
        big.exp.commit(target, "v1");
        const auto after = io_now();
        const auto read = after.rchar - before.rchar;
        const auto written = after.wchar - before.wchar;
        MESSAGE(what << ": read " << read << ", wrote " << written);
        CHECK(read >= big_size);
        CHECK(read < big_size + (std::int64_t{1} << 20));  // once
        CHECK(written >= big_size);
        CHECK(written < big_size + (std::int64_t{1} << 20));  // one copy
        const auto blob = blob_of(where, big.digest);
        CHECK(stat_of(blob).st_ino != stat_of(big.record).st_ino);
        CHECK(stat_of(big.record).st_nlink == 1);
        CHECK((stat_of(big.record).st_mode & 0200) != 0);  // a copied record stays writable
        CHECK(file_digest(blob) == big.digest);
        CHECK(validate(target, "v1").ok());
        // Nothing left behind in the layout's ingest folder.
        std::size_t temps = 0;
        for (const auto& e : fs::directory_iterator(where / ".sealrun-ingest")) temps += e.exists() ? 1 : 0;
        CHECK(temps == 0);
    }
    if (shm) fs::remove_all(*shm);
}

TEST_CASE("gc and collect with linked files: a tagged blob stays, an untagged one goes, read-only records are removed") {
    test::TempDir dir;
    BigRun big(dir / "storage", dir / "source.bin", 3);
    big.exp.commit("v1");
    content::OciLayout layout(dir / "storage");
    const auto blob = blob_of(dir / "storage", big.digest);
    const auto live = [&] {
        std::set<std::string> out;
        for (const auto& d : layout.index().manifests) out.insert(d.digest.str());
        return out;
    };
    // Tagged: gc removes nothing, collect keeps the record.
    CHECK(layout.gc({.grace = std::chrono::seconds(0)}).blobs_removed == 0);
    CHECK(big.store.collect(live).records_removed == 0);
    CHECK(stat_of(big.record).st_nlink == 2);

    // The record goes first (collect told no root is live, as after a
    // retag): the blob keeps the bytes, and collect counts no freed bytes
    // for the file whose storage the blob still holds.
    const auto blobs_before = blob_count(dir / "storage");
    const auto collected = big.store.collect([] { return std::set<std::string>{}; });
    CHECK(collected.records_removed == 2);  // the run's and the experiment's (empty) record
    CHECK(collected.bytes_removed < static_cast<std::uint64_t>(big_size));  // the big file's storage is the blob's
    CHECK_FALSE(fs::exists(big.record));
    CHECK(stat_of(blob).st_nlink == 1);
    CHECK(file_digest(blob) == big.digest);
    CHECK(validate(layout, "v1").ok());
    CHECK(blob_count(dir / "storage") == blobs_before);

    // Untagged: gc frees the blob.
    CHECK(layout.untag("v1"));
    const auto r = layout.gc({.grace = std::chrono::seconds(0)});
    CHECK(r.blobs_removed == blobs_before);
    CHECK_FALSE(fs::exists(blob));
}

TEST_CASE("gc first, then collect: the record file outlives its blob, and read-only record trees are removed without EACCES") {
    test::TempDir dir;
    BigRun big(dir / "storage", dir / "source.bin", 4);
    big.exp.commit("v1");
    content::OciLayout layout(dir / "storage");
    REQUIRE(layout.untag("v1"));
    CHECK(layout.gc({.grace = std::chrono::seconds(0)}).blobs_removed >= 1);
    CHECK_FALSE(fs::exists(blob_of(dir / "storage", big.digest)));
    // The record still has its file, whole and read-only.
    CHECK(stat_of(big.record).st_nlink == 1);
    CHECK(file_digest(big.record) == big.digest);
    const auto collected = big.store.collect([] { return std::set<std::string>{}; });
    CHECK(collected.records_removed == 2);  // the run's and the experiment's (empty) record
    CHECK(collected.bytes_removed >= static_cast<std::uint64_t>(big_size));  // now its storage is freed here
    CHECK_FALSE(fs::exists(big.record.parent_path()));
}

TEST_CASE("ingest_file: links a regular file once, refuses a symbolic link, stores nothing when the check fails") {
    test::TempDir dir;
    content::OciLayout layout(dir / "layout");
    const auto file = dir / "f.bin";
    write_random(file, 3 << 20, 5);
    const auto digest = file_digest(file);
    auto first = layout.ingest_file(file, "application/octet-stream");
    CHECK(first.method == content::IngestMethod::linked);
    CHECK(first.descriptor.digest.str() == digest);
    CHECK(first.descriptor.size == 3 << 20);
    CHECK(layout.ingest_file(file, "application/octet-stream").method == content::IngestMethod::present);
    CHECK(stat_of(file).st_nlink == 2);  // no stray name in the ingest folder

    fs::create_symlink(file, dir / "link.bin");
    CHECK(test::errc_of([&] { layout.ingest_file(dir / "link.bin", "application/octet-stream"); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { layout.ingest_file(dir / "missing.bin", "application/octet-stream"); }) == Errc::not_found);

    const auto other = dir / "g.bin";
    write_random(other, 1 << 20, 6);
    const auto blobs = blob_count(dir / "layout");
    for (const bool share : {true, false}) {
        CAPTURE(share);
        const auto e = test::thrown([&] {
            layout.ingest_file(other, "application/octet-stream",
                               {.share = share, .inspect = [](content::ReadStream& in) {
                                    std::byte buf[10];
                                    (void)in.read(buf);
                                    throw Error(Errc::invalid_input, "check", "g.bin", "refused");
                                }});
        });
        CHECK(e.code == Errc::invalid_input);
        CHECK(blob_count(dir / "layout") == blobs);
        CHECK(stat_of(other).st_nlink == 1);
    }
    auto copied = layout.ingest_file(other, "application/octet-stream", {.share = false});
    CHECK(copied.method == content::IngestMethod::copied);
    CHECK(copied.descriptor.digest.str() == file_digest(other));
    CHECK(file_digest(blob_of(dir / "layout", copied.descriptor.digest.str())) == copied.descriptor.digest.str());
    CHECK(stat_of(other).st_nlink == 1);
}
