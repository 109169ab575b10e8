#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "support/expect.h"
#include "support/forwarding.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;

namespace {

// Recorder wraps a target and records how pushes happen: their order, the
// threads they ran on and how many ran at once.
class Recorder final : public test::ForwardingTarget {
public:
    using ForwardingTarget::ForwardingTarget;
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override {
        ++fetches;
        return inner_.fetch(d);
    }
    void push(const oci::Descriptor& d, content::ReadStream& s) override {
        const int now = ++in_flight;
        {
            std::lock_guard lock(mu);
            max_in_flight = std::max(max_in_flight, now);
            threads.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        inner_.push(d, s);
        --in_flight;
        std::lock_guard lock(mu);
        order.push_back(d.digest);
    }
    std::mutex mu;
    std::vector<oci::Digest> order;
    std::set<std::thread::id> threads;
    std::atomic<int> in_flight{0};
    int max_in_flight = 0;
    std::atomic<int> fetches{0};
};

std::size_t position(const std::vector<oci::Digest>& order, const oci::Digest& d) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), d) - order.begin());
}

// Two manifests that share one layer, under one index.
struct TwoRunIndex {
    test::Sample a, b;
    oci::Descriptor index;
    std::string shared;
};

TwoRunIndex push_index(content::Target& t) {
    TwoRunIndex r;
    r.a = test::push_sample(t, "same", 2, "");
    r.b = test::push_sample(t, "same", 3, "");  // layers 0 and 1 equal a's
    oci::ImageIndex idx{.artifact_type = "application/vnd.sealrun.test.index.v1"};
    idx.manifests = {r.a.manifest, r.b.manifest};
    const auto bytes = idx.serialize();
    r.index = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, r.index, bytes);
    t.tag(r.index, "idx");
    return r;
}

}  // namespace

TEST_CASE("copy: memory to layout to memory keeps every byte and the tag") {
    test::TempDir dir;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "roundtrip", 4, "v1");
    content::OciLayout layout(dir.path());
    const auto root = content::copy(src, "v1", layout, "");
    CHECK(root.digest == s.manifest.digest);
    CHECK(layout.tags() == std::vector<std::string>{"v1"});
    content::MemoryTarget back;
    content::copy(layout, "v1", back, "again");
    CHECK(content::read_all(back, back.resolve("again"), 1 << 20) == s.manifest_bytes);
    for (std::size_t i = 0; i < s.layers.size(); ++i)
        CHECK(content::read_all(back, s.layers[i], 1 << 20) == s.layer_bytes[i]);
}

TEST_CASE("copy: children go first and the root last") {
    content::MemoryTarget src, dst;
    const auto r = push_index(src);
    Recorder rec(dst);
    content::copy(src, "idx", rec, "");
    REQUIRE(!rec.order.empty());
    CHECK(rec.order.back() == r.index.digest);
    for (const auto* s : {&r.a, &r.b}) {
        const auto m = position(rec.order, s->manifest.digest);
        CHECK(m < position(rec.order, r.index.digest));
        for (const auto& l : s->layers) CHECK(position(rec.order, l.digest) < m);
    }
}

TEST_CASE("copy: shared blobs move once and what the destination has is skipped") {
    content::MemoryTarget src, dst;
    const auto r = push_index(src);
    // The destination already holds a's manifest (and so its subtree).
    content::copy(src, r.a.manifest.digest.str(), dst, "");
    Recorder rec(dst);
    std::vector<oci::Digest> skipped, copied;
    content::CopyOptions opts{
        .on_skipped = [&](const oci::Descriptor& d) { skipped.push_back(d.digest); },
        .on_copied = [&](const oci::Descriptor& d) { copied.push_back(d.digest); },
    };
    content::copy(src, "idx", rec, "", opts);
    CHECK(std::find(skipped.begin(), skipped.end(), r.a.manifest.digest) != skipped.end());
    // What remains: b's third layer, b's manifest, the index. b's first two
    // layers and the config are already there.
    CHECK(copied.size() == 3);
    CHECK(rec.order.size() == 3);
    std::set<oci::Digest> unique(rec.order.begin(), rec.order.end());
    CHECK(unique.size() == rec.order.size());
    // A second copy moves nothing.
    Recorder again(dst);
    content::copy(src, "idx", again, "");
    CHECK(again.order.empty());
}

TEST_CASE("copy: blob transfers run concurrently but never beyond the bound") {
    content::MemoryTarget src;
    test::push_sample(src, "many", 24, "many");
    SUBCASE("bounded by the option") {
        content::MemoryTarget dst;
        Recorder rec(dst);
        content::copy(src, "many", rec, "", {.concurrency = 3});
        CHECK(rec.max_in_flight <= 3);
        CHECK(rec.max_in_flight >= 2);  // 5 ms per push leaves room to overlap
        CHECK(rec.order.size() == 26);
    }
    SUBCASE("one at a time when asked") {
        content::MemoryTarget dst;
        Recorder rec(dst);
        content::copy(src, "many", rec, "", {.concurrency = 1});
        CHECK(rec.max_in_flight == 1);
    }
}

TEST_CASE("copy: never more threads than there are blobs") {
    content::MemoryTarget src, dst;
    test::push_sample(src, "few", 1, "few");  // 2 blobs: config + 1 layer
    Recorder rec(dst);
    content::copy(src, "few", rec, "", {.concurrency = 16});
    // Blob pushes ran on at most 2 threads; the manifest push on the caller's.
    CHECK(rec.threads.size() <= 3);
    CHECK(rec.order.size() == 3);
}

TEST_CASE("copy: progress reports every blob up to its size") {
    content::MemoryTarget src, dst;
    const auto s = test::push_sample(src, "progress", 5, "p");
    std::map<oci::Digest, std::uint64_t> last;
    content::copy(src, "p", dst, "",
                  {.on_progress = [&](const oci::Descriptor& d, std::uint64_t n) { last[d.digest] = n; }});
    for (const auto& l : s.layers) CHECK(last[l.digest] == static_cast<std::uint64_t>(l.size));
}

TEST_CASE("copy: embedded data needs no fetch from the source") {
    content::MemoryTarget src, dst;
    const auto s = test::push_sample(src, "embedded", 1, "e");
    src.remove(oci::empty_descriptor());  // the config's bytes ride in its descriptor
    Recorder source(src);
    content::copy(source, "e", dst, "");
    CHECK(source.fetches == 2);  // the manifest and the layer; never the config
    // What the destination stored, read from it: a descriptor that embeds
    // the bytes would be answered from them without asking the destination.
    auto stored = oci::empty_descriptor();
    stored.data.reset();
    CHECK(content::read_all(dst, stored, 16) == "{}");
    CHECK(content::read_all(dst, s.layers[0], 1024) == s.layer_bytes[0]);
}

TEST_CASE("copy: corrupt source content stops the copy before the root is pushed or tagged") {
    test::TempDir dir;
    content::OciLayout src(dir / "src");
    const auto s = test::push_sample(src, "bad", 3, "bad");
    auto bytes = s.layer_bytes[1];
    bytes[0] ^= 1;
    test::write_file(src.blob_path(s.layers[1].digest), bytes);
    content::MemoryTarget dst;
    const auto e = test::thrown([&] { content::copy(src, "bad", dst, ""); });
    CHECK(e.code == Errc::digest_mismatch);
    CHECK(test::contains(e.message, s.layers[1].digest.str()));
    CHECK_FALSE(dst.exists(s.layers[1]));
    CHECK_FALSE(dst.exists(s.manifest));
    CHECK(dst.tags().empty());
}

TEST_CASE("copy: a malformed manifest in the source is refused with its field") {
    content::MemoryTarget src, dst;
    const std::string bad = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                            R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:nothex","size":2},)"
                            R"("layers":[]})";
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bad);
    content::push_bytes(src, d, bad);
    src.tag(d, "broken");
    const auto e = test::thrown([&] { content::copy(src, "broken", dst, ""); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "config.digest"));
    CHECK(dst.tags().empty());
}

TEST_CASE("copy: a missing source reference is not_found") {
    content::MemoryTarget src, dst;
    CHECK(errc_of([&] { content::copy(src, "nothing", dst, ""); }) == Errc::not_found);
}

TEST_CASE("copy: a destination tag naming other content is kept unless force, re-tagging the same is fine") {
    test::TempDir dir;
    content::MemoryTarget src;
    const auto a = test::push_sample(src, "first", 1, "a");
    const auto b = test::push_sample(src, "second", 1, "b");
    content::OciLayout layout(dir / "layout");
    content::MemoryTarget memory;  // no ConditionalTagger: the resolve-then-tag path
    for (content::Target* dst : std::initializer_list<content::Target*>{&layout, &memory}) {
        CAPTURE(dst == &layout);
        REQUIRE(content::copy(src, "a", *dst, "v1").digest == a.manifest.digest);
        CHECK(content::copy(src, "a", *dst, "v1").digest == a.manifest.digest);  // same digest: idempotent
        const auto e = test::thrown([&] { content::copy(src, "b", *dst, "v1"); });
        CHECK(e.code == Errc::already_exists);
        CHECK(test::contains(e.message, "--force"));
        CHECK(test::contains(e.message, a.manifest.digest.str()));
        CHECK(dst->resolve("v1").digest == a.manifest.digest);
        CHECK(content::read_all(*dst, dst->resolve("v1"), 1 << 20) == a.manifest_bytes);
        CHECK(content::copy(src, "b", *dst, "v1", {.force = true}).digest == b.manifest.digest);
        CHECK(dst->resolve("v1").digest == b.manifest.digest);
    }
}

TEST_CASE("copy: a blob emptied in the destination under a present manifest is moved again") {
    test::TempDir dir;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "repair", 2, "v1");
    content::OciLayout layout(dir / "layout");
    content::copy(src, "v1", layout, "");
    test::write_file(layout.blob_path(s.layers[1].digest), "");
    CHECK_FALSE(layout.exists(s.layers[1]));
    std::vector<oci::Digest> copied;
    content::copy(src, "v1", layout, "", {.on_copied = [&](const oci::Descriptor& d) { copied.push_back(d.digest); }});
    CHECK(copied == std::vector<oci::Digest>{s.layers[1].digest});
    CHECK(content::read_all(layout, s.layers[1], 1 << 20) == s.layer_bytes[1]);
}
