#include <doctest/doctest.h>

#include "support/expect.h"

#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sealrun/error.h"
#include "util/recent.h"
#include "sealrun/oci/digest.h"

using sealrun::Errc;
using sealrun::Error;
using sealrun::oci::Digest;
using sealrun::oci::Hasher;

using sealrun::test::error_of;
using sealrun::test::has;

namespace {

// error_of runs fn and returns the sealrun::Error it threw, or nothing.
std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Published known-answer vectors (FIPS 180-2 appendix / NIST CSRC examples).
constexpr std::string_view sha256_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view msg_448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view sha256_448 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr std::string_view sha256_million_a = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
constexpr std::string_view sha512_empty =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
constexpr std::string_view sha512_abc =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
constexpr std::string_view msg_896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
constexpr std::string_view sha512_896 =
    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909";

std::string sha256(std::string_view hex) { return "sha256:" + std::string(hex); }
std::string sha512(std::string_view hex) { return "sha512:" + std::string(hex); }

Digest hash_with(std::string_view algorithm, std::string_view text) {
    Hasher h(algorithm);
    h.update(bytes_of(text));
    return h.finish();
}

// Checks that parse rejects `text` with invalid_input and a reason holding `why`.
void check_rejected(const std::string& text, std::string_view why) {
    CAPTURE(text);
    const auto e = error_of([&] { (void)Digest::parse(text); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(e->operation() == "parse digest");
    CAPTURE(e->reason());
    CHECK(has(e->reason(), why));
    CHECK(has(e->what(), why));
}

}  // namespace

TEST_CASE("digest: parses sha256") {
    const auto text = sha256(sha256_abc);
    const auto d = Digest::parse(text);
    CHECK(d.algorithm() == "sha256");
    CHECK(d.encoded() == sha256_abc);
    CHECK(d.str() == text);
    CHECK(d.verifiable());
}

TEST_CASE("digest: parses sha512") {
    const auto text = sha512(sha512_abc);
    const auto d = Digest::parse(text);
    CHECK(d.algorithm() == "sha512");
    CHECK(d.encoded() == sha512_abc);
    CHECK(d.str() == text);
    CHECK(d.verifiable());
}

TEST_CASE("digest: sha256 known-answer vectors") {
    CHECK(Digest::of(std::string_view{}).str() == sha256(sha256_empty));
    CHECK(Digest::of(std::string_view("abc")).str() == sha256(sha256_abc));
    CHECK(Digest::of(msg_448).str() == sha256(sha256_448));
    CHECK(Digest::of(std::string(1000000, 'a')).str() == sha256(sha256_million_a));

    // The byte-span overload agrees with the text overload.
    CHECK(Digest::of(bytes_of("abc")).str() == sha256(sha256_abc));
    CHECK(Digest::of(std::span<const std::byte>{}).str() == sha256(sha256_empty));

    // Computed digests are the same values parse produces.
    CHECK(Digest::of(std::string_view("abc")) == Digest::parse(sha256(sha256_abc)));
    CHECK(Digest::of(std::string_view("abc")).algorithm() == "sha256");
    CHECK(Digest::of(std::string_view("abc")).encoded() == sha256_abc);
}

TEST_CASE("digest: sha512 known-answer vectors") {
    CHECK(hash_with("sha512", "").str() == sha512(sha512_empty));
    CHECK(hash_with("sha512", "abc").str() == sha512(sha512_abc));
    CHECK(hash_with("sha512", msg_896).str() == sha512(sha512_896));
    const auto d = hash_with("sha512", "abc");
    CHECK(d.algorithm() == "sha512");
    CHECK(d.encoded() == sha512_abc);
    CHECK(d.verifiable());
    CHECK(d == Digest::parse(sha512(sha512_abc)));
}

TEST_CASE("digest: default Hasher and Hasher(\"sha256\") compute sha256") {
    Hasher a;
    a.update(bytes_of("abc"));
    CHECK(a.finish().str() == sha256(sha256_abc));
    CHECK(hash_with("sha256", "abc").str() == sha256(sha256_abc));
    CHECK(hash_with("sha256", "").str() == sha256(sha256_empty));
    // A hasher fed nothing (or only empty spans) gives the empty digest.
    Hasher b;
    b.update({});
    b.update(bytes_of(""));
    CHECK(b.finish().str() == sha256(sha256_empty));
}

TEST_CASE("digest: streaming Hasher over several chunks equals one-shot Digest::of") {
    std::string message;
    for (int i = 0; i < 5000; ++i) message += static_cast<char>((i * 131 + 7) % 256);
    const auto one_shot = Digest::of(message);

    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{63}, std::size_t{64}, std::size_t{65},
                              std::size_t{1000}, std::size_t{4999}, std::size_t{5000}, std::size_t{9999}}) {
        CAPTURE(chunk);
        Hasher h;
        for (std::size_t off = 0; off < message.size(); off += chunk) {
            h.update(bytes_of(std::string_view(message).substr(off, chunk)));
            h.update({});  // empty chunks in between change nothing
        }
        CHECK(h.finish() == one_shot);
    }

    // Uneven chunks, including a split of a published vector.
    Hasher h;
    h.update(bytes_of("a"));
    h.update(bytes_of(""));
    h.update(bytes_of("bc"));
    CHECK(h.finish().str() == sha256(sha256_abc));

    // Streaming the million-'a' vector in 1000-byte chunks.
    const std::string thousand(1000, 'a');
    Hasher m;
    for (int i = 0; i < 1000; ++i) m.update(bytes_of(thousand));
    CHECK(m.finish().str() == sha256(sha256_million_a));

    // sha512 streams the same way.
    Hasher s("sha512");
    for (std::size_t off = 0; off < msg_896.size(); off += 17) s.update(bytes_of(msg_896.substr(off, 17)));
    CHECK(s.finish().str() == sha512(sha512_896));
}

TEST_CASE("digest: Hasher is movable") {
    Hasher a;
    a.update(bytes_of("a"));
    Hasher b(std::move(a));
    b.update(bytes_of("bc"));
    CHECK(b.finish().str() == sha256(sha256_abc));

    Hasher c("sha512");
    c.update(bytes_of("ab"));
    Hasher d;
    d = std::move(c);
    d.update(bytes_of("c"));
    CHECK(d.finish().str() == sha512(sha512_abc));
}

TEST_CASE("digest: different content gives different digests") {
    CHECK(Digest::of(std::string_view("abc")) != Digest::of(std::string_view("abd")));
    CHECK(Digest::of(std::string_view("")) != Digest::of(std::string("\0", 1)));
    CHECK(hash_with("sha256", "abc") != hash_with("sha512", "abc"));
}

TEST_CASE("digest: rejects uppercase hex") {
    std::string upper(sha256_abc);
    for (auto& c : upper)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    check_rejected("sha256:" + upper, "lowercase hex");

    std::string one_upper(sha256_abc);
    one_upper[0] = 'B';  // "ba78…" -> "Ba78…"
    check_rejected("sha256:" + one_upper, "lowercase hex");

    std::string upper512(sha512_abc);
    upper512[127] = 'F';
    check_rejected("sha512:" + upper512, "lowercase hex");
}

TEST_CASE("digest: rejects non-hex characters in registered algorithms") {
    std::string g(sha256_abc);
    g[10] = 'g';
    check_rejected("sha256:" + g, "lowercase hex");
    std::string z(sha512_abc);
    z[0] = 'z';
    check_rejected("sha512:" + z, "lowercase hex");
    std::string dash(sha256_abc);
    dash[5] = '-';  // allowed by the generic grammar, not by sha256
    check_rejected("sha256:" + dash, "lowercase hex");
}

TEST_CASE("digest: rejects wrong length") {
    check_rejected(sha256(sha256_abc.substr(0, 63)), "got 63");
    check_rejected(sha256(sha256_abc.substr(0, 63)), "64");
    check_rejected(sha256(std::string(sha256_abc) + "0"), "got 65");
    check_rejected("sha256:abc", "got 3");
    check_rejected(sha256(sha512_abc), "got 128");
    check_rejected(sha512(sha512_abc.substr(0, 127)), "got 127");
    check_rejected(sha512(sha512_abc.substr(0, 127)), "128");
    check_rejected(sha512(sha256_abc), "got 64");
}

TEST_CASE("digest: rejects missing colon") {
    check_rejected("sha256" + std::string(sha256_abc), "missing ':'");
    check_rejected(std::string(sha256_abc), "missing ':'");
    check_rejected("", "missing ':'");
}

TEST_CASE("digest: rejects empty parts") {
    check_rejected(":" + std::string(sha256_abc), "empty algorithm");
    check_rejected("sha256:", "empty encoded part");
    check_rejected("multihash+base58:", "empty encoded part");
    CHECK(error_of([] { (void)Digest::parse(":"); }).has_value());
}

TEST_CASE("digest: rejects bad algorithm grammar") {
    const std::string enc(sha256_abc);
    // Leading, doubled and misplaced separators.
    for (const char* alg : {"+sha256", ".sha256", "_sha256", "-sha256", "sha++256", "sha+.256", "sha__256",
                            "a-.b"})
        check_rejected(std::string(alg) + ":" + enc, "lowercase components");
    // Trailing separators.
    for (const char* alg : {"sha256+", "sha256.", "sha256_", "sha256-", "a+b-"})
        check_rejected(std::string(alg) + ":" + enc, "ends with a separator");
    // Uppercase and characters outside the grammar.
    for (const char* alg : {"SHA256", "Sha256", "sha256X", "sha 256", "sha/256", "sha=256", "sha\xc3\xa9"})
        check_rejected(std::string(alg) + ":" + enc, "lowercase components");
}

TEST_CASE("digest: accepts every separator between algorithm components") {
    for (const char* alg : {"a+b", "a.b", "a_b", "a-b", "sha256+b64u", "x.y_z-w+v", "0", "9a"}) {
        CAPTURE(alg);
        const auto d = Digest::parse(std::string(alg) + ":abc");
        CHECK(d.algorithm() == alg);
        CHECK(d.encoded() == "abc");
        CHECK_FALSE(d.verifiable());
    }
    // The image-spec's own example of an unregistered algorithm.
    const auto d = Digest::parse("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564");
    CHECK(d.algorithm() == "sha256+b64u");
    CHECK(d.encoded() == "LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564");
}

TEST_CASE("digest: rejects bad encoded characters") {
    for (const char* enc : {"abc/def", "a b", "a+b", "a.b", "abc:def", "ab\xc3\xa9", "abc\n", "a\tb"})
        check_rejected("multihash+base58:" + std::string(enc), "[a-zA-Z0-9=_-]");
    check_rejected(sha256(std::string(sha256_abc.substr(0, 63)) + "/"), "[a-zA-Z0-9=_-]");
    // Every character of the encoded alphabet is accepted for unregistered algorithms.
    const auto d = Digest::parse("foo:ABCxyz019=_-");
    CHECK(d.encoded() == "ABCxyz019=_-");
}

TEST_CASE("digest: unknown algorithm matching the grammar parses but is not verifiable") {
    const std::string text = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8";
    const auto d = Digest::parse(text);
    CHECK(d.algorithm() == "multihash+base58");
    CHECK(d.encoded() == "QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8");
    CHECK(d.str() == text);
    CHECK_FALSE(d.verifiable());

    const auto e = error_of([&] { Hasher h(d.algorithm()); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::unsupported);
    CHECK(has(e->what(), "multihash+base58"));

    for (const char* alg : {"multihash+base58", "sha384", "md5", "SHA256", "sha-256", ""}) {
        CAPTURE(alg);
        const auto err = error_of([&] { Hasher h(alg); });
        REQUIRE(err.has_value());
        CHECK(err->code() == Errc::unsupported);
    }
}

TEST_CASE("digest: errors are invalid_input and the message names the digest and the reason") {
    const std::string text = "sha256:" + std::string(sha256_abc.substr(0, 10));
    const auto e = error_of([&] { (void)Digest::parse(text); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(has(e->subject(), text));
    CHECK(has(e->what(), text));
    CHECK(has(e->what(), e->reason()));
    CHECK_FALSE(e->reason().empty());

    // A huge attacker-supplied string is not echoed in full.
    const std::string huge = "sha256:" + std::string(100000, 'a');
    const auto big = error_of([&] { (void)Digest::parse(huge); });
    REQUIRE(big.has_value());
    CHECK(big->code() == Errc::invalid_input);
    CHECK(std::string(big->what()).size() < 1000);
}

TEST_CASE("digest: compares, orders and hashes by string form") {
    const auto a = Digest::parse(sha256(sha256_abc));
    const auto a2 = Digest::of(std::string_view("abc"));
    const auto b = Digest::of(std::string_view(""));
    CHECK(a == a2);
    CHECK(a != b);
    CHECK((a < b) == (a.str() < b.str()));
    CHECK((b < a) == (b.str() < a.str()));
    CHECK(std::hash<Digest>{}(a) == std::hash<Digest>{}(a2));
    CHECK(std::hash<Digest>{}(a) == std::hash<std::string>{}(a.str()));

    std::unordered_set<Digest> set{a, a2, b};
    CHECK(set.size() == 2);
    CHECK(set.count(Digest::parse(sha256(sha256_empty))) == 1);

    std::set<Digest> ordered{b, a, a2};
    CHECK(ordered.size() == 2);
}

TEST_CASE("digest: str round-trips through parse") {
    for (std::string_view text : {std::string_view("abc"), std::string_view(""), msg_448}) {
        const auto d = Digest::of(text);
        const auto again = Digest::parse(d.str());
        CHECK(again == d);
        CHECK(again.algorithm() == d.algorithm());
        CHECK(again.encoded() == d.encoded());
    }
    const auto s = hash_with("sha512", "abc");
    CHECK(Digest::parse(s.str()) == s);
}

TEST_CASE("RecentSet of digests: bounded by its capacity; what is in use stays, the rest is forgotten oldest first") {
    sealrun::util::RecentSet<Digest> recent(8);
    const auto d = [](int i) { return Digest::of("blob " + std::to_string(i)); };
    CHECK(recent.insert(d(0)));
    CHECK_FALSE(recent.insert(d(0)));
    for (int i = 1; i < 100; ++i) {
        CHECK(recent.insert(d(i)));
        CHECK(recent.contains(d(0)));  // used all along: renewed each time
        CHECK(recent.size() <= 8);
    }
    CHECK(recent.contains(d(99)));
    CHECK(recent.contains(d(98)));
    CHECK_FALSE(recent.contains(d(1)));  // not used since: forgotten
    CHECK(recent.insert(d(1)));          // and new again
    recent.clear();
    CHECK(recent.size() == 0);
    CHECK_FALSE(recent.contains(d(0)));
}

TEST_CASE("RecentMap: a value survives its renewal; a second insert keeps the first value") {
    sealrun::util::RecentMap<std::string, int> recent(4);
    CHECK(recent.insert("kept", 1));
    CHECK_FALSE(recent.insert("kept", 2));
    for (int i = 0; i < 50; ++i) {
        CHECK(recent.insert("other " + std::to_string(i), i));
        const int* v = recent.find("kept");
        REQUIRE(v != nullptr);
        CHECK(*v == 1);
        CHECK(recent.size() <= 4);
    }
    CHECK(recent.find("other 0") == nullptr);
    REQUIRE(recent.find("other 49") != nullptr);
    CHECK(*recent.find("other 49") == 49);
}
