// OciArchiveWriter: an oci-archive written as one tar stream, committed
// atomically, read back by OciArchive and by skopeo.
#include <doctest/doctest.h>

#include <cstring>

#include "content/archive_test_support.h"
#include "sealrun/content/copy.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/memory.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// Counter yields `size` bytes of a fixed pattern without holding them.
class Counter final : public content::ReadStream {
public:
    explicit Counter(std::uint64_t size) : size_(size) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size_ - pos_));
        for (std::size_t i = 0; i < n; ++i) buffer[i] = static_cast<std::byte>((pos_ + i) * 2654435761u >> 13);
        pos_ += n;
        return n;
    }

private:
    std::uint64_t size_, pos_ = 0;
};

// counter_descriptor describes what Counter(size) yields.
oci::Descriptor counter_descriptor(std::uint64_t size) {
    Counter c(size);
    oci::Hasher h;
    std::vector<std::byte> buf(1 << 20);
    while (const auto n = c.read(buf)) h.update(std::span(buf).first(n));
    return {.media_type = "application/octet-stream", .digest = h.finish(), .size = static_cast<std::int64_t>(size)};
}

// entries lists the folder `dir`.
std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("oci-archive writer: what copy writes reads back, and skopeo reads it") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    content::OciLayout layout(dir / "ours");
    const auto s = test::push_sample(layout, "write", 12, "v1");
    // A blob larger than the chunk size, streamed: its header goes first.
    const auto big = counter_descriptor(3 * content::default_chunk_size + 123);
    Counter big_bytes(static_cast<std::uint64_t>(big.size));
    layout.push(big, big_bytes);
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor(), .layers = {big}};
    const auto bytes = m.serialize();
    const auto big_manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(layout, big_manifest, bytes);
    layout.tag(big_manifest, "big");

    {
        content::OciArchiveWriter w(dir / "out.tar");
        content::copy(layout, "v1", w, "", {.concurrency = 4});
        content::copy(layout, "big", w, "", {.concurrency = 4});
        CHECK_FALSE(fs::exists(dir / "out.tar"));  // nothing there before commit
        w.commit();
    }
    CHECK(entries(dir.path()) == std::vector<std::string>{"ours", "out.tar"});  // no temporary file left

    content::OciArchive archive(dir / "out.tar");
    CHECK(archive.tags() == std::vector<std::string>{"big", "v1"});
    CHECK(content::read_all(archive, s.layers[11], 1024) == s.layer_bytes[11]);
    auto in = archive.fetch(big);
    Counter expected(static_cast<std::uint64_t>(big.size));
    std::vector<std::byte> got(1 << 16), want(1 << 16);
    std::uint64_t total = 0;
    while (const auto n = content::read_fully(*in, got)) {
        REQUIRE(content::read_fully(expected, std::span(want).first(n)) == n);
        REQUIRE(std::memcmp(got.data(), want.data(), n) == 0);
        total += n;
    }
    CHECK(total == static_cast<std::uint64_t>(big.size));

    for (const std::string tag : {"v1", "big"}) {
        const auto r = test::run({"skopeo", "--insecure-policy", "copy", "oci-archive:" + (dir / "out.tar").string() + ":" + tag,
                                  "oci:" + (dir / "via-skopeo").string() + ":" + tag});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
    }
    content::OciLayout via(dir / "via-skopeo");
    CHECK(content::read_all(via, via.resolve("v1"), oci::max_manifest_size) == s.manifest_bytes);
    CHECK(via.exists(big));
    // GNU tar lists it without complaint.
    const auto listed = test::run({"tar", "-tvf", (dir / "out.tar").string()});
    CHECK(listed.exit_code == 0);
    CHECK(test::contains(listed.output, "index.json"));
}

TEST_CASE("oci-archive writer: a blob that fails verification leaves no member; an uncommitted writer leaves nothing") {
    test::TempDir dir;
    test::write_file(dir / "keep.tar", "what the user had");
    const auto good = oci::Descriptor::for_bytes("text/plain", std::string(5000, 'g'));
    const auto big = counter_descriptor(2 * content::default_chunk_size);
    {
        content::OciArchiveWriter w(dir / "keep.tar");
        content::BytesStream wrong(std::string(5000, 'w'));
        CHECK(test::errc_of([&] { w.push(good, wrong); }) == Errc::digest_mismatch);
        content::BytesStream shorter(std::string(4000, 'g'));
        CHECK(test::errc_of([&] { w.push(good, shorter); }) == Errc::size_mismatch);
        Counter big_short(static_cast<std::uint64_t>(big.size) - 1);  // streamed, fails at its end
        CHECK(test::errc_of([&] { w.push(big, big_short); }) == Errc::size_mismatch);
        CHECK_FALSE(w.exists(good));
        CHECK_FALSE(w.exists(big));
        CHECK(test::errc_of([&] { w.tag(good, "t"); }) == Errc::not_found);
        content::push_bytes(w, good, std::string(5000, 'g'));
        Counter big_bytes(static_cast<std::uint64_t>(big.size));
        w.push(big, big_bytes);
        CHECK(w.exists(good));
        CHECK(content::read_all(w, good, 1 << 20) == std::string(5000, 'g'));  // read back before commit
        // Destroyed without commit: the file it would replace is untouched.
    }
    CHECK(test::read_file(dir / "keep.tar") == "what the user had");
    CHECK(entries(dir.path()) == std::vector<std::string>{"keep.tar"});

    // Committed: the failed pushes left no member (a duplicate would be refused by the reader).
    content::OciArchiveWriter w(dir / "keep.tar");
    content::BytesStream wrong(std::string(5000, 'w'));
    CHECK(test::errc_of([&] { w.push(good, wrong); }) == Errc::digest_mismatch);
    content::push_bytes(w, good, std::string(5000, 'g'));
    w.tag(good, "t");  // any stored blob may be tagged; readers ask for manifests
    w.commit();
    CHECK(test::errc_of([&] { content::push_bytes(w, big, "x"); }) == Errc::denied);
    content::OciArchive back(dir / "keep.tar");
    CHECK(content::read_all(back, good, 1 << 20) == std::string(5000, 'g'));
}

TEST_CASE("oci-archive writer: adding to an archive carries its members over; tags are kept unless forced") {
    test::TempDir dir;
    content::OciLayout layout(dir / "l");
    const auto a = test::push_sample(layout, "first", 2, "A");
    const auto b = test::push_sample(layout, "second", 2, "B");
    {
        content::OciArchiveWriter w(dir / "x.tar");
        content::copy(layout, "A", w, "v1");
        w.commit();
    }
    {
        content::OciArchive old(dir / "x.tar");
        content::OciArchiveWriter w(dir / "x.tar", &old);
        CHECK(w.exists(a.layers[0]));  // carried over: copy skips it
        CHECK(w.tags() == std::vector<std::string>{"v1"});
        CHECK(w.resolve("v1").digest == a.manifest.digest);
        CHECK(test::errc_of([&] { content::copy(layout, "B", w, "v1"); }) == Errc::already_exists);
        content::copy(layout, "B", w, "v2");
        content::copy(layout, "A", w, "v1");  // the same digest again: fine
        CHECK(test::errc_of([&] { w.tag(a.manifest, "not a tag"); }) == Errc::invalid_input);
        w.commit();
    }
    content::OciArchive both(dir / "x.tar");  // would refuse a blob written twice
    CHECK(both.tags() == std::vector<std::string>{"v1", "v2"});
    CHECK(both.resolve("v1").digest == a.manifest.digest);
    CHECK(both.resolve("v2").digest == b.manifest.digest);
    content::OciLayout out(dir / "out");
    content::copy(both, "v1", out, "");
    content::copy(both, "v2", out, "");
    CHECK(content::read_all(out, b.layers[1], 1024) == b.layer_bytes[1]);
    {
        content::OciArchive old(dir / "x.tar");
        content::OciArchiveWriter w(dir / "x.tar", &old);
        content::copy(layout, "B", w, "v1", {.force = true});
        w.commit();
    }
    CHECK(content::OciArchive(dir / "x.tar").resolve("v1").digest == b.manifest.digest);
}

TEST_CASE("oci-archive writer: memory does not grow with blob size") {
    test::TempDir dir;
    const std::uint64_t size = 256ull << 20;  // 256 chunks
    const auto big = counter_descriptor(size);
    const auto m = test::in_child([&] {
        content::OciArchiveWriter w(dir / "big.tar");
        Counter bytes(size);
        w.push(big, bytes);
        w.commit();
        return std::string("ok");
    });
    CHECK(m.result == "ok");
    MESSAGE("pushing a 256 MiB blob into an archive grew the peak RSS by " << m.growth_kib << " KiB");
    CHECK(m.growth_kib < 16 * 1024);
    content::OciArchive back(dir / "big.tar");
    CHECK(back.exists(big));
    content::drain(*back.fetch(big));  // verified end to end
}

TEST_CASE("oci-archive writer: the same content pushed in the same order makes the same bytes") {
    test::TempDir dir;
    content::OciLayout layout(dir / "l");
    test::push_sample(layout, "det", 6, "v1");
    for (const auto* name : {"a.tar", "b.tar"}) {
        content::OciArchiveWriter w(dir / name);
        content::copy(layout, "v1", w, "", {.concurrency = 1});  // one thread: the walk's order
        w.commit();
    }
    CHECK(test::read_file(dir / "a.tar") == test::read_file(dir / "b.tar"));
}
