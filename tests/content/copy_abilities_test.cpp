// copy() asks its destination for abilities: ReferencePusher for the root
// and its tag, Mounter before a blob streams; its source is read-only.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <vector>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "support/expect.h"
#include "support/forwarding.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;

namespace {

// ByReference is a destination that can push by reference; it records
// every push, push by reference and tag it is asked for.
class ByReference final : public test::ForwardingTarget, public content::ReferencePusher {
public:
    ByReference(content::MemoryTarget& inner) : ForwardingTarget(inner), memory_(inner) {}
    void push(const oci::Descriptor& d, content::ReadStream& s) override {
        note(pushed, d.digest);
        inner_.push(d, s);
    }
    void tag(const oci::Descriptor& d, std::string_view r) override {
        note(tagged, d.digest);
        inner_.tag(d, r);
    }
    void push_reference(const oci::Descriptor& d, content::ReadStream& s, std::string_view r) override {
        note(by_reference, d.digest);
        memory_.push_reference(d, s, r);
    }
    std::vector<oci::Digest> pushed, tagged, by_reference;

private:
    void note(std::vector<oci::Digest>& v, const oci::Digest& d) {
        std::lock_guard lock(mu_);
        v.push_back(d);
    }
    content::MemoryTarget& memory_;
    std::mutex mu_;
};

bool has(const std::vector<oci::Digest>& v, const oci::Digest& d) { return std::find(v.begin(), v.end(), d) != v.end(); }

// ReadOnly is a source that can only be read.
class ReadOnly final : public content::ReadOnlyTarget {
public:
    explicit ReadOnly(content::Target& t) : t_(t) {}
    oci::Descriptor resolve(std::string_view r) override { return t_.resolve(r); }
    bool exists(const oci::Descriptor& d) override { return t_.exists(d); }
    std::vector<std::string> tags() override { return t_.tags(); }
    std::atomic<int> opened{0};

protected:
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override {
        ++opened;
        return t_.fetch(d);
    }

private:
    content::Target& t_;
};

// Mounting is a destination that can mount: it records what it is asked to
// mount and takes every blob whose digest is in `accept` from the source
// (through the source's own fetch, as a registry would copy it inside).
class Mounting final : public test::ForwardingTarget, public content::Mounter {
public:
    using ForwardingTarget::ForwardingTarget;
    bool mount(const oci::Descriptor& d, content::ReadOnlyTarget& source) override {
        std::lock_guard lock(mu);
        asked.insert(d.digest);
        if (!accept.contains(d.digest)) return false;
        auto in = source.fetch(d);
        inner_.push(d, *in);
        return true;
    }
    std::mutex mu;
    std::set<oci::Digest> accept, asked;
};

}  // namespace

TEST_CASE("copy: the root goes once through push_reference when the destination can, never pushed then tagged") {
    content::MemoryTarget src, memory;
    const auto s = test::push_sample(src, "by reference", 3, "v1");
    ByReference dst(memory);
    std::vector<oci::Digest> copied;
    content::copy(src, "v1", dst, "", {.on_copied = [&](const oci::Descriptor& d) { copied.push_back(d.digest); }});
    CHECK(dst.by_reference == std::vector<oci::Digest>{s.manifest.digest});
    CHECK_FALSE(has(dst.pushed, s.manifest.digest));
    CHECK(dst.tagged.empty());
    CHECK(dst.pushed.size() == 4);  // config + 3 layers
    CHECK(has(copied, s.manifest.digest));
    CHECK(memory.resolve("v1").digest == s.manifest.digest);
    // The manifest stored is the source's, read back from the destination.
    CHECK(content::read_all(memory, s.manifest, 1 << 20) == s.manifest_bytes);
}

TEST_CASE("copy: push_reference honours TagPolicy::keep: the tag is checked first") {
    content::MemoryTarget src, memory;
    const auto a = test::push_sample(src, "first", 1, "a");
    const auto b = test::push_sample(src, "second", 1, "b");
    ByReference dst(memory);
    content::copy(src, "a", dst, "v1");
    REQUIRE(dst.by_reference.size() == 1);
    SUBCASE("the same digest again sends nothing") {
        content::copy(src, "a", dst, "v1");
        CHECK(dst.by_reference.size() == 1);
        CHECK(dst.tagged.empty());
    }
    SUBCASE("other content is stored untagged and the tag kept") {
        const auto e = test::thrown([&] { content::copy(src, "b", dst, "v1"); });
        CHECK(e.code == Errc::already_exists);
        CHECK(test::contains(e.message, a.manifest.digest.str()));
        CHECK(test::contains(e.message, "--force"));
        CHECK(dst.by_reference.size() == 1);
        CHECK(has(dst.pushed, b.manifest.digest));  // by digest, untagged
        CHECK(memory.resolve("v1").digest == a.manifest.digest);
        CHECK(memory.exists(b.manifest));
    }
    SUBCASE("force moves it by reference") {
        content::copy(src, "b", dst, "v1", {.force = true});
        CHECK(dst.by_reference.back() == b.manifest.digest);
        CHECK(memory.resolve("v1").digest == b.manifest.digest);
        CHECK(dst.tagged.empty());
    }
    SUBCASE("a malformed tag stores no root") {
        CHECK(test::errc_of([&] { content::copy(src, "b", dst, "bad tag"); }) == Errc::invalid_input);
        CHECK_FALSE(memory.exists(b.manifest));
    }
}

TEST_CASE("copy: a layout destination is pushed by reference only when no tag must be kept") {
    test::TempDir dir;
    content::MemoryTarget src;
    const auto a = test::push_sample(src, "first", 1, "a");
    const auto b = test::push_sample(src, "second", 1, "b");
    content::OciLayout layout(dir / "layout", {.skip_fsync = true});
    content::copy(src, "a", layout, "v1");
    CHECK(test::errc_of([&] { content::copy(src, "b", layout, "v1"); }) == Errc::already_exists);
    CHECK(layout.resolve("v1").digest == a.manifest.digest);
    CHECK(content::copy(src, "b", layout, "v1", {.force = true}).digest == b.manifest.digest);
    CHECK(layout.resolve("v1").digest == b.manifest.digest);
    CHECK(content::read_all(layout, b.manifest, 1 << 20) == b.manifest_bytes);
}

TEST_CASE("layout and memory: push_reference refuses wrong bytes and a malformed tag, storing nothing") {
    test::TempDir dir;
    content::OciLayout layout(dir / "layout", {.skip_fsync = true});
    content::MemoryTarget memory;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "checked", 1, "");
    for (content::Target* t : std::initializer_list<content::Target*>{&layout, &memory}) {
        auto& pusher = dynamic_cast<content::ReferencePusher&>(*t);
        content::copy_graph(src, *t, s.layers[0]);
        content::copy_graph(src, *t, oci::empty_descriptor());
        content::BytesStream wrong(s.manifest_bytes + " ");
        CHECK(test::errc_of([&] { pusher.push_reference(s.manifest, wrong, "v1"); }) == Errc::size_mismatch);
        content::BytesStream fine(s.manifest_bytes);
        CHECK(test::errc_of([&] { pusher.push_reference(s.manifest, fine, "no good"); }) == Errc::invalid_input);
        CHECK_FALSE(t->exists(s.manifest));
        CHECK(t->tags().empty());
        content::BytesStream again(s.manifest_bytes);
        pusher.push_reference(s.manifest, again, "v1");
        CHECK(t->resolve("v1").digest == s.manifest.digest);
    }
}

TEST_CASE("copy: the source may be read-only") {
    content::MemoryTarget memory, dst;
    const auto s = test::push_sample(memory, "read only", 2, "v1");
    ReadOnly src(memory);
    content::ReadOnlyTarget& read_only = src;
    CHECK(content::copy(read_only, "v1", dst, "").digest == s.manifest.digest);
    CHECK(src.opened == 3);  // the manifest and two layers; the config rides in its descriptor
    CHECK(dst.resolve("v1").digest == s.manifest.digest);
}

TEST_CASE("copy: a Mounter is asked before a blob streams; a declined mount copies the bytes") {
    content::MemoryTarget memory, inner;
    const auto s = test::push_sample(memory, "mount", 3, "v1");
    ReadOnly src(memory);
    Mounting dst(inner);
    dst.accept = {s.layers[0].digest, s.layers[2].digest};
    std::vector<oci::Digest> copied;
    content::copy(src, "v1", dst, "", {.on_copied = [&](const oci::Descriptor& d) { copied.push_back(d.digest); }});
    // Asked for every layer; the config's bytes ride in its descriptor.
    CHECK(dst.asked == std::set<oci::Digest>{s.layers[0].digest, s.layers[1].digest, s.layers[2].digest});
    for (int i = 0; i < 3; ++i) {
        CHECK(content::read_all(inner, s.layers[i], 1 << 20) == s.layer_bytes[i]);
        CHECK(has(copied, s.layers[i].digest));
    }
    CHECK(inner.resolve("v1").digest == s.manifest.digest);
    // A second copy finds everything: nothing is asked again.
    dst.asked.clear();
    content::copy(src, "v1", dst, "");
    CHECK(dst.asked.empty());
}
