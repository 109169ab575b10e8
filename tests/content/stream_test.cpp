#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

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

namespace {
// Forward passes another stream's bytes on; it is not that stream.
class Forward final : public content::ReadStream {
public:
    explicit Forward(content::ReadStream& inner) : inner_(inner) {}
    std::size_t read(std::span<std::byte> buffer) override { return inner_.read(buffer); }

private:
    content::ReadStream& inner_;
};
}  // namespace

TEST_CASE("stream: only an unread VerifyingStream for the same descriptor counts as already verified") {
    const auto d = oci::Descriptor::for_bytes("text/plain", "hello");
    const auto other = oci::Descriptor::for_bytes("text/plain", "hellO");
    VerifyingStream v(std::make_unique<BytesStream>("hello"), d);
    CHECK(content::already_verified(v, d));
    CHECK_FALSE(content::already_verified(v, other));
    Forward around(v);  // a stream around it could change the bytes: it proves nothing
    CHECK_FALSE(content::already_verified(around, d));
    BytesStream plain("hello");
    CHECK_FALSE(content::already_verified(plain, d));
    std::optional<VerifyingStream> holder;
    CHECK(&content::verify_once(v, d, holder) == &v);
    CHECK_FALSE(holder);
    CHECK(&content::verify_once(around, d, holder) == &*holder);
    std::byte one[1];
    REQUIRE(v.read(one) == 1);
    CHECK_FALSE(content::already_verified(v, d));  // read from: the rest proves nothing about the whole
}

TEST_CASE("stream: on_progress reports the bytes passed so far and keeps the stream verifying") {
    const std::string bytes(300000, 'p');
    const auto d = oci::Descriptor::for_bytes("text/plain", bytes);
    VerifyingStream v(std::make_unique<BytesStream>(bytes), d);
    std::vector<std::uint64_t> seen;
    v.on_progress([&](std::uint64_t n) { seen.push_back(n); });
    CHECK(content::already_verified(v, d));
    CHECK(content::read_to_string(v, 1 << 20, "test") == bytes);
    REQUIRE(!seen.empty());
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(seen.back() == bytes.size());
}
