#include <doctest/doctest.h>

#include "sealrun/content/memory.h"
#include "support/expect.h"
#include "support/sample.h"

using namespace sealrun;
using test::errc_of;

TEST_CASE("memory: push, fetch, resolve and tag") {
    content::MemoryTarget t;
    const auto s = test::push_sample(t, "mem", 3, "v1");
    CHECK(t.exists(s.layers[1]));
    CHECK(content::read_all(t, s.layers[1], 1024) == s.layer_bytes[1]);
    CHECK(t.resolve("v1").digest == s.manifest.digest);
    CHECK(t.resolve(s.manifest.digest.str()).digest == s.manifest.digest);
    CHECK(t.tags() == std::vector<std::string>{"v1"});
    CHECK(t.blob_count() == 5);  // config + 3 layers + manifest
}

TEST_CASE("memory: bad pushes leave nothing and missing content is not_found") {
    content::MemoryTarget t;
    auto d = oci::Descriptor::for_bytes("text/plain", "right");
    CHECK(errc_of([&] { content::push_bytes(t, d, "wrong"); }) == Errc::digest_mismatch);
    CHECK_FALSE(t.exists(d));
    CHECK(errc_of([&] { (void)t.fetch(d); }) == Errc::not_found);
    CHECK(errc_of([&] { (void)t.resolve("nope"); }) == Errc::not_found);
    CHECK(errc_of([&] { t.tag(d, "x"); }) == Errc::not_found);
}

TEST_CASE("memory: remove drops content and its tags") {
    content::MemoryTarget t;
    const auto s = test::push_sample(t, "rm", 1, "gone");
    t.remove(s.manifest);
    CHECK_FALSE(t.exists(s.manifest));
    CHECK(t.tags().empty());
    CHECK(errc_of([&] { t.remove(s.manifest); }) == Errc::not_found);
}

TEST_CASE("memory: a push from a verifying stream is hashed once and still never stores bad bytes") {
    content::MemoryTarget t;
    const std::string good(100000, 'g');
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", good);
    std::string bad = good;
    bad[100] = 'b';
    content::VerifyingStream lying(std::make_unique<content::BytesStream>(bad), d);
    REQUIRE(content::already_verified(lying, d));
    CHECK(errc_of([&] { t.push(d, lying); }) == Errc::digest_mismatch);
    CHECK_FALSE(t.exists(d));
    content::VerifyingStream started(std::make_unique<content::BytesStream>(good), d);
    std::byte one[1];
    REQUIRE(started.read(one) == 1);
    CHECK(errc_of([&] { t.push(d, started); }) == Errc::size_mismatch);
    CHECK_FALSE(t.exists(d));
    content::MemoryTarget src;
    content::push_bytes(src, d, good);
    t.push(d, *src.fetch(d));
    CHECK(content::read_all(t, d, 1 << 20) == good);
}
