#include <doctest/doctest.h>

#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/bytes.h"
#include "sealrun/codecs/json.h"
#include "sealrun/codecs/jsonl.h"
#include "sealrun/codecs/npy.h"
#include "sealrun/codecs/pickle.h"
#include "sealrun/codecs/tar.h"
#include "sealrun/codecs/text.h"
#include "support/expect.h"

using namespace sealrun;
using test::errc_of;

static_assert(Codec<codecs::JsonCodec>);
static_assert(Codec<codecs::JsonLinesCodec>);
static_assert(Codec<codecs::NpyCodec>);
static_assert(Codec<codecs::PickleCodec>);
static_assert(Codec<codecs::TextCodec>);
static_assert(Codec<codecs::BytesCodec>);
static_assert(Codec<codecs::TarCodec>);

namespace {
// A user's codec: comma-separated integers.
struct CsvInts {
    using value_type = std::vector<int>;
    static constexpr std::string_view media_type = "text/csv";
    static std::string encode(const std::vector<int>& v) {
        std::string s;
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
        return s;
    }
    static std::vector<int> decode(std::string_view b) {
        std::vector<int> out;
        std::size_t pos = 0;
        while (pos < b.size()) {
            auto end = b.find(',', pos);
            if (end == std::string_view::npos) end = b.size();
            out.push_back(std::stoi(std::string(b.substr(pos, end - pos))));
            pos = end + 1;
        }
        return out;
    }
};
static_assert(Codec<CsvInts>);
struct NotACodec {
    using value_type = int;
    static int encode(int) { return 0; }
};
static_assert(!Codec<NotACodec>);
}  // namespace

TEST_CASE("codecs: JSON is canonical and strict") {
    const nlohmann::json v = {{"z", 1}, {"a", {{"y", true}, {"b", nullptr}}}};
    CHECK(codecs::JsonCodec::encode(v) == R"({"a":{"b":null,"y":true},"z":1})");
    CHECK(codecs::JsonCodec::decode(codecs::JsonCodec::encode(v)) == v);
    CHECK(errc_of([] { codecs::JsonCodec::decode(R"({"a":1,"a":2})"); }) == Errc::invalid_input);
    CHECK(errc_of([] { codecs::JsonCodec::decode("{"); }) == Errc::invalid_input);
}

TEST_CASE("codecs: JSON lines round trip, blank lines, CRLF and a bad line named") {
    const std::vector<nlohmann::json> recs = {{{"step", 0}}, {{"step", 1}, {"loss", 0.5}}};
    const auto bytes = codecs::JsonLinesCodec::encode(recs);
    CHECK(bytes == "{\"step\":0}\n{\"loss\":0.5,\"step\":1}\n");
    CHECK(codecs::JsonLinesCodec::decode(bytes) == recs);
    CHECK(codecs::JsonLinesCodec::decode("{\"step\":0}\r\n\n  \n{\"loss\":0.5,\"step\":1}") == recs);
    CHECK(codecs::JsonLinesCodec::decode("").empty());
    const auto e = test::thrown([] { codecs::JsonLinesCodec::decode("{\"ok\":1}\n{broken\n"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "line 2"));
}

TEST_CASE("codecs: text, bytes and pickle carry bytes unchanged") {
    const std::string raw("\x80\x04\x95\x00binary\0tail", 15);
    CHECK(codecs::TextCodec::decode(codecs::TextCodec::encode("héllo\n")) == "héllo\n");
    CHECK(codecs::BytesCodec::decode(codecs::BytesCodec::encode({raw})).data == raw);
    CHECK(codecs::PickleCodec::decode(raw).data == raw);
    CHECK(codecs::PickleCodec::encode({raw}) == raw);
}

TEST_CASE("codecs: the global registry maps extensions and media types") {
    auto& r = CodecRegistry::global();
    CHECK(r.by_extension("result.json")->media_type == "application/json");
    CHECK(r.by_extension("plots/curve.jsonl")->media_type == "application/jsonl");
    CHECK(r.by_extension("x.npy")->media_type == "application/vnd.numpy");
    CHECK(r.by_extension("weights.p")->media_type == "application/x-python-pickle");
    for (const char* name : {"notes.txt", "run.log", "go.sh", "README", "data.weird", ".hidden"})
        CHECK(r.by_extension(name)->media_type == "text/plain");
    CHECK(r.by_extension("dir.json/file")->media_type == "text/plain");  // the extension is the file's own
    CHECK(r.by_media_type("application/octet-stream")->value_type == typeid(codecs::Bytes));
    CHECK(r.by_media_type("application/vnd.oci.image.layer.v1.tar")->value_type == typeid(codecs::DirectoryTree));
    CHECK(r.by_media_type("application/x-unknown") == nullptr);
}

TEST_CASE("codecs: users register their own codec and extension") {
    CodecRegistry r;
    r.add<codecs::TextCodec>();
    r.add<CsvInts>({".csv"});
    CHECK(r.by_extension("a.csv")->media_type == "text/csv");
    const auto bytes = encode_value(r, "text/csv", std::vector<int>{1, 2, 3});
    CHECK(bytes == "1,2,3");
    CHECK(decode_value(r, "text/csv", bytes).as<std::vector<int>>() == std::vector<int>{1, 2, 3});
}

TEST_CASE("codecs: a value of the wrong type or an unknown media type is a clear error") {
    auto& r = CodecRegistry::global();
    const auto e = test::thrown([&] { encode_value(r, "application/json", std::string("not json")); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "nlohmann"));
    CHECK(errc_of([&] { encode_value(r, "application/x-nope", 1); }) == Errc::unsupported);
    CHECK(errc_of([&] { decode_value(r, "application/x-nope", "x"); }) == Errc::unsupported);
    const auto v = decode_value(r, "application/json", "[1]");
    CHECK(v.is<nlohmann::json>());
    CHECK(errc_of([&] { (void)v.as<std::string>(); }) == Errc::invalid_input);
}

TEST_CASE("codecs: +zstd stores compressed and decodes to the logical type") {
    auto& r = CodecRegistry::global();
    nlohmann::json big = nlohmann::json::array();
    for (int i = 0; i < 2000; ++i) big.push_back({{"step", i}, {"loss", 1.0 / (i + 1)}});
    const auto plain = encode_value(r, "application/json", big);
    const auto packed = encode_value(r, "application/json+zstd", big);
    CHECK(packed.size() < plain.size() / 3);
    CHECK(packed.starts_with(std::string("\x28\xb5\x2f\xfd", 4)));  // a real zstd frame
    const auto v = decode_value(r, "application/json+zstd", packed);
    CHECK(v.media_type() == "application/json");
    CHECK(v.as<nlohmann::json>() == big);
    CHECK(logical_media_type("text/plain+zstd") == "text/plain");
    CHECK(logical_media_type("text/plain") == "text/plain");
    CHECK(zstd_decompress(zstd_compress(""), 10).empty());
    CHECK(errc_of([] { zstd_decompress("not zstd at all", 100); }) == Errc::invalid_input);
    auto corrupt = zstd_compress(std::string(10000, 'q'));
    corrupt[corrupt.size() / 2] ^= 0x55;
    corrupt.resize(corrupt.size() - 3);
    CHECK(errc_of([&] { zstd_decompress(corrupt, 1 << 20); }) == Errc::invalid_input);
    CHECK(errc_of([] { zstd_decompress(zstd_compress(std::string(5000, 'a')), 4096); }) == Errc::too_large);
}
