#include <doctest/doctest.h>

#include "support/expect.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"

using sealrun::Errc;
using sealrun::Error;
using namespace sealrun::oci;
using nlohmann::json;

using sealrun::test::error_of;
using sealrun::test::has;

namespace {

// A valid descriptor object for `content`, as a registry would send it.
json layer_json(std::string_view content, std::string_view media_type = media_types::layer_tar) {
    return json{{"mediaType", media_type},
                {"digest", Digest::of(content).str()},
                {"size", static_cast<std::int64_t>(content.size())}};
}

// Checks that from_json(value, "layers[0]") fails with invalid_input on
// `field` (a path below layers[0]) with a reason holding `why`.
void check_field_error(const json& value, const std::string& field, std::string_view why) {
    CAPTURE(value.dump());
    const auto e = error_of([&] { (void)Descriptor::from_json(value, "layers[0]"); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(e->subject() == field);
    const std::string message = e->what();
    CAPTURE(message);
    CHECK(has(e->what(), field));
    CHECK(has(e->reason(), why));
}

Descriptor full_descriptor() {
    const std::string content = "hello, world\n";
    Descriptor d = Descriptor::for_bytes("application/vnd.sealrun.run.v1", content);
    d.urls = {"https://example.com/blob", "https://mirror.example.org/blob"};
    d.annotations = {{std::string(annotations::title), "run.json"}, {"com.example.key", "value with spaces"}};
    d.data = content;
    d.artifact_type = "application/vnd.sealrun.artifact.v1";
    d.platform = json{{"architecture", "amd64"}, {"os", "linux"}, {"os.features", json::array({"win32k"})}};
    return d;
}

}  // namespace

TEST_CASE("descriptor: for_bytes describes content by sha256 digest and size") {
    const std::string content(1000, 'z');
    const auto d = Descriptor::for_bytes("text/plain", content);
    CHECK(d.media_type == "text/plain");
    CHECK(d.digest == Digest::of(content));
    CHECK(d.size == 1000);
    CHECK(d.urls.empty());
    CHECK(d.annotations.empty());
    CHECK_FALSE(d.data.has_value());
    CHECK_FALSE(d.artifact_type.has_value());
    CHECK_FALSE(d.platform.has_value());
    CHECK(Descriptor::for_bytes("text/plain", "").size == 0);
}

TEST_CASE("descriptor: to_json/from_json round trip with every field") {
    const auto d = full_descriptor();
    const auto j = d.to_json();
    CHECK(j.at("mediaType") == d.media_type);
    CHECK(j.at("digest") == d.digest.str());
    CHECK(j.at("size") == d.size);
    CHECK(j.at("urls") == json::array({"https://example.com/blob", "https://mirror.example.org/blob"}));
    CHECK(j.at("annotations").at("org.opencontainers.image.title") == "run.json");
    CHECK(j.at("data") == base64_encode(*d.data));
    CHECK(j.at("artifactType") == "application/vnd.sealrun.artifact.v1");
    CHECK(j.at("platform") == *d.platform);
    CHECK(j.size() == 8);

    const auto back = Descriptor::from_json(j, "layers[0]");
    CHECK(back.media_type == d.media_type);
    CHECK(back.digest == d.digest);
    CHECK(back.size == d.size);
    CHECK(back.urls == d.urls);
    CHECK(back.annotations == d.annotations);
    CHECK(back.data == d.data);
    CHECK(back.artifact_type == d.artifact_type);
    REQUIRE(back.platform.has_value());
    CHECK(*back.platform == *d.platform);
    CHECK(back.same_content(d));

    // And through canonical bytes, as it travels inside a manifest.
    const auto again = Descriptor::from_json(parse_json_strict(canonical_json(j), "descriptor"), "");
    CHECK(again.to_json() == j);
}

TEST_CASE("descriptor: to_json omits absent optional fields") {
    const auto d = Descriptor::for_bytes("text/plain", "abc");
    const auto j = d.to_json();
    CHECK(j.size() == 3);
    CHECK(j.contains("mediaType"));
    CHECK(j.contains("digest"));
    CHECK(j.contains("size"));
    const auto back = Descriptor::from_json(j, "config");
    CHECK(back.same_content(d));
    CHECK_FALSE(back.data.has_value());
    CHECK_FALSE(back.artifact_type.has_value());
    CHECK_FALSE(back.platform.has_value());
    CHECK(back.urls.empty());
    CHECK(back.annotations.empty());
}

TEST_CASE("descriptor: from_json requires mediaType, digest and size") {
    for (const char* key : {"mediaType", "digest", "size"}) {
        auto j = layer_json("abc");
        j.erase(key);
        check_field_error(j, std::string("layers[0].") + key, "is required");
    }
}

TEST_CASE("descriptor: from_json rejects a non-object naming the path") {
    for (const json& v : {json::array(), json("s"), json(1), json(nullptr)})
        check_field_error(v, "layers[0]", "must be a JSON object");
}

TEST_CASE("descriptor: from_json rejects wrongly typed fields naming the field path") {
    auto j = layer_json("abc");
    j["size"] = "3";
    check_field_error(j, "layers[0].size", "must be an integer");
    j["size"] = 1.5;
    check_field_error(j, "layers[0].size", "must be an integer");
    j["size"] = true;
    check_field_error(j, "layers[0].size", "must be an integer");
    j["size"] = nullptr;
    check_field_error(j, "layers[0].size", "must be an integer");

    j = layer_json("abc");
    j["mediaType"] = 5;
    check_field_error(j, "layers[0].mediaType", "must be a string");
    j = layer_json("abc");
    j["digest"] = json::array();
    check_field_error(j, "layers[0].digest", "must be a string");

    j = layer_json("abc");
    j["annotations"] = {{"ok", "yes"}, {"k", 1}};
    check_field_error(j, "layers[0].annotations.k", "must be a string");
    j["annotations"] = {{"k", nullptr}};
    check_field_error(j, "layers[0].annotations.k", "must be a string");
    j["annotations"] = json::array({"a"});
    check_field_error(j, "layers[0].annotations", "must be an object");

    j = layer_json("abc");
    j["urls"] = "https://example.com";
    check_field_error(j, "layers[0].urls", "must be an array");
    j["urls"] = json::array({"https://example.com", 7});
    check_field_error(j, "layers[0].urls[1]", "must be a string");

    j = layer_json("abc");
    j["artifactType"] = 1;
    check_field_error(j, "layers[0].artifactType", "must be a string");
    j = layer_json("abc");
    j["platform"] = "linux/amd64";
    check_field_error(j, "layers[0].platform", "must be an object");
    j = layer_json("abc");
    j["data"] = 12;
    check_field_error(j, "layers[0].data", "must be a string");
}

TEST_CASE("descriptor: from_json checks the size range") {
    auto j = layer_json("abc");
    j["size"] = -1;
    check_field_error(j, "layers[0].size", "negative");
    j["size"] = std::numeric_limits<std::int64_t>::min();
    check_field_error(j, "layers[0].size", "negative");
    j["size"] = std::numeric_limits<std::uint64_t>::max();
    check_field_error(j, "layers[0].size", "larger");

    j["size"] = 0;
    CHECK(Descriptor::from_json(j, "layers[0]").size == 0);
    j["size"] = std::numeric_limits<std::int64_t>::max();
    CHECK(Descriptor::from_json(j, "layers[0]").size == std::numeric_limits<std::int64_t>::max());
    // Unsigned JSON numbers that fit are accepted.
    j["size"] = std::uint64_t{12345};
    CHECK(Descriptor::from_json(j, "layers[0]").size == 12345);
}

TEST_CASE("descriptor: from_json rejects a bad digest naming the field") {
    auto j = layer_json("abc");
    j["digest"] = "sha256:xyz";
    check_field_error(j, "layers[0].digest", "64 hex");
    std::string upper(Digest::of(std::string_view("abc")).encoded());
    for (auto& c : upper)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    j["digest"] = "sha256:" + upper;
    check_field_error(j, "layers[0].digest", "lowercase hex");
    j["digest"] = "no-colon";
    check_field_error(j, "layers[0].digest", "missing ':'");
    j["digest"] = "";
    check_field_error(j, "layers[0].digest", "missing ':'");

    // An unregistered algorithm is fine as long as it matches the grammar.
    j["digest"] = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8";
    const auto d = Descriptor::from_json(j, "layers[0]");
    CHECK(d.digest.algorithm() == "multihash+base58");
    CHECK_FALSE(d.digest.verifiable());
}

TEST_CASE("descriptor: from_json rejects a bad media type naming the field") {
    auto j = layer_json("abc");
    j["mediaType"] = "text/plain; charset=utf-8";
    check_field_error(j, "layers[0].mediaType", "parameters");
    j["mediaType"] = "plain";
    check_field_error(j, "layers[0].mediaType", "missing '/'");
    j["mediaType"] = "";
    check_field_error(j, "layers[0].mediaType", "missing '/'");

    j = layer_json("abc");
    j["artifactType"] = "not a media type";
    check_field_error(j, "layers[0].artifactType", "");
}

TEST_CASE("descriptor: data must be valid base64") {
    auto j = layer_json("abc");
    j["data"] = "not base64!";
    check_field_error(j, "layers[0].data", "invalid base64");
    j["data"] = "YWJ";  // missing padding
    check_field_error(j, "layers[0].data", "invalid base64");
    j["data"] = "YWJj\n";
    check_field_error(j, "layers[0].data", "invalid base64");
}

TEST_CASE("descriptor: data length must equal size") {
    auto j = layer_json("hello");
    j["size"] = 4;
    j["data"] = base64_encode("hello");
    check_field_error(j, "layers[0].data", "5 bytes");
    check_field_error(j, "layers[0].data", "size is 4");
    j["size"] = 6;
    check_field_error(j, "layers[0].data", "size is 6");
    // The empty string is data of size 0.
    auto e = layer_json("");
    e["data"] = "";
    const auto d = Descriptor::from_json(e, "layers[0]");
    REQUIRE(d.data.has_value());
    CHECK(d.data->empty());
}

TEST_CASE("descriptor: data must match the digest") {
    auto j = layer_json("hello");
    j["data"] = base64_encode("hellp");
    check_field_error(j, "layers[0].data", "does not match digest");
    check_field_error(j, "layers[0].data", Digest::of(std::string_view("hello")).str());

    // With matching data it parses and holds the decoded bytes.
    j["data"] = base64_encode("hello");
    const auto d = Descriptor::from_json(j, "layers[0]");
    CHECK(d.data == std::optional<std::string>("hello"));
}

TEST_CASE("descriptor: data is verified under sha512 too") {
    const std::string content = "abc";
    sealrun::oci::Hasher h("sha512");
    h.update(std::as_bytes(std::span(content.data(), content.size())));
    const auto digest = h.finish();
    json j = {{"mediaType", "text/plain"}, {"digest", digest.str()}, {"size", 3}, {"data", base64_encode(content)}};
    const auto d = Descriptor::from_json(j, "layers[0]");
    CHECK(d.digest == digest);
    CHECK(d.data == std::optional<std::string>(content));
    j["data"] = base64_encode("abd");
    check_field_error(j, "layers[0].data", "does not match digest");
}

TEST_CASE("descriptor: error paths follow the path argument") {
    auto j = layer_json("abc");
    j.erase("size");
    const std::pair<std::string, std::string> cases[] = {
        {"", "size"}, {"config", "config.size"}, {"subject", "subject.size"}, {"manifests[12]", "manifests[12].size"}};
    for (const auto& c : cases) {
        const auto e = error_of([&] { (void)Descriptor::from_json(j, c.first); });
        REQUIRE(e.has_value());
        CHECK(e->subject() == c.second);
    }
}

TEST_CASE("descriptor: empty_descriptor is the image-spec empty descriptor") {
    const auto d = empty_descriptor();
    CHECK(d.media_type == "application/vnd.oci.empty.v1+json");
    CHECK(d.media_type == media_types::empty);
    CHECK(d.digest.str() == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK(d.size == 2);
    CHECK(d.data == std::optional<std::string>("{}"));
    CHECK(Digest::of(std::string_view("{}")) == d.digest);

    // The published example (image-spec manifest.md, "Guidance for an Empty Descriptor").
    const auto published = parse_json_strict(R"({
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
        "data": "e30="
    })",
                                             "published");
    CHECK(d.to_json() == published);
    const auto parsed = Descriptor::from_json(published, "config");
    CHECK(parsed.same_content(d));
    CHECK(parsed.data == d.data);
}

TEST_CASE("descriptor: same_content compares media type, digest and size only") {
    auto a = Descriptor::for_bytes("text/plain", "abc");
    auto b = a;
    b.annotations["x"] = "y";
    b.urls.push_back("https://example.com");
    CHECK(a.same_content(b));
    b = a;
    b.media_type = "text/html";
    CHECK_FALSE(a.same_content(b));
    b = a;
    b.size = 4;
    CHECK_FALSE(a.same_content(b));
    CHECK_FALSE(a.same_content(Descriptor::for_bytes("text/plain", "abd")));
}

TEST_CASE("descriptor: base64 matches the RFC 4648 test vectors") {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        CAPTURE(plain);
        CHECK(base64_encode(plain) == encoded);
        CHECK(base64_decode(encoded, "test") == plain);
    }
    // The standard alphabet, not the URL-safe one.
    CHECK(base64_encode("\xfb\xef\xbe") == "++++");
    CHECK(base64_encode("\xff\xff\xff") == "////");
    CHECK(base64_decode("++++", "test") == "\xfb\xef\xbe");
    CHECK(base64_decode("////", "test") == "\xff\xff\xff");
}

TEST_CASE("descriptor: base64 round trip for lengths 0 to 10") {
    for (std::size_t n = 0; n <= 10; ++n) {
        CAPTURE(n);
        std::string bytes;
        for (std::size_t i = 0; i < n; ++i) bytes += static_cast<char>((i * 97 + 251) % 256);  // includes 0x00, 0xff-ish
        if (n > 0) bytes[0] = '\0';
        const auto encoded = base64_encode(bytes);
        CHECK(encoded.size() == 4 * ((n + 2) / 3));
        const auto padding = (3 - n % 3) % 3;
        CHECK(encoded.find('=') == (padding == 0 ? std::string::npos : encoded.size() - padding));
        for (char c : encoded) {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                            c == '/' || c == '=';
            CHECK(ok);
        }
        const auto decoded = base64_decode(encoded, "test");
        CHECK(decoded.size() == n);
        CHECK(decoded == bytes);
    }
    // Every byte value survives.
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(base64_decode(base64_encode(all), "test") == all);
}

TEST_CASE("descriptor: base64_decode is strict") {
    for (const char* bad : {"Z", "Zg", "Zg=", "Zm9vY", "Z===", "Zg==Zg==", "=Zg=", "Zg=a", "A=A=", "====", "Zm9-",
                            "Zm9_", "Zm 9", "Zm9v\n", "Zm9vYg=\n", " Zm9", "Zm9\t", "Zm9\xc3\xa9", "Zg.=", "*m9v"}) {
        CAPTURE(bad);
        const auto e = error_of([&] { (void)base64_decode(bad, "layers[2].data"); });
        REQUIRE(e.has_value());
        CHECK(e->code() == Errc::invalid_input);
        CHECK(e->subject() == "layers[2].data");
        CHECK(has(e->reason(), "invalid base64"));
    }
    const auto nul = error_of([] { (void)base64_decode(std::string_view("Zm9\0", 4), "x"); });
    REQUIRE(nul.has_value());
    CHECK(nul->code() == Errc::invalid_input);
    CHECK(base64_decode("", "x").empty());
}
