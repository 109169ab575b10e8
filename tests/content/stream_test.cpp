#include <doctest/doctest.h>

#include <memory>

#include "sealrun/content/stream.h"
#include "sealrun/error.h"
#include "support/expect.h"

using namespace sealrun;
using sealrun::test::errc_of;
using sealrun::content::BytesStream;
using sealrun::content::VerifyingStream;

namespace {
std::string read_verified(const std::string& bytes, const oci::Descriptor& d) {
    VerifyingStream v(std::make_unique<BytesStream>(bytes), d);
    return content::read_to_string(v, 1 << 20, "test");
}
}  // namespace

TEST_CASE("stream: verifying stream passes content that matches") {
    const std::string bytes(300000, 'x');
    const auto d = oci::Descriptor::for_bytes("text/plain", bytes);
    CHECK(read_verified(bytes, d) == bytes);
}

TEST_CASE("stream: verifying stream rejects wrong digest, short and long content") {
    const auto d = oci::Descriptor::for_bytes("text/plain", "hello");
    CHECK(errc_of([&] { read_verified("hellO", d); }) == Errc::digest_mismatch);
    CHECK(errc_of([&] { read_verified("hell", d); }) == Errc::size_mismatch);
    CHECK(errc_of([&] { read_verified("hello!", d); }) == Errc::size_mismatch);
}

TEST_CASE("stream: the digest is named and the end is never reported for bad content") {
    const auto d = oci::Descriptor::for_bytes("text/plain", "hello");
    VerifyingStream v(std::make_unique<BytesStream>("jello"), d);
    std::byte buf[16];
    CHECK(v.read(buf) == 5);  // bytes flow, but...
    const auto e = test::thrown([&] { (void)v.read(buf); });  // ...the end is a failure, not a 0
    CHECK(e.code == Errc::digest_mismatch);
    CHECK(test::contains(e.message, d.digest.str()));
}

TEST_CASE("stream: unknown digest algorithms cannot be verified") {
    auto d = oci::Descriptor::for_bytes("text/plain", "x");
    d.digest = oci::Digest::parse("md5+test:abc");
    CHECK(errc_of([&] { VerifyingStream v(std::make_unique<BytesStream>("x"), d); }) == Errc::unsupported);
}

TEST_CASE("stream: read_to_string caps the size") {
    BytesStream s(std::string(100, 'a'));
    CHECK(errc_of([&] { content::read_to_string(s, 99, "capped"); }) == Errc::too_large);
}
