#include <doctest/doctest.h>

#include "support/expect.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"

using sealrun::Errc;
using sealrun::Error;
using sealrun::oci::canonical_json;
using sealrun::oci::Digest;
using sealrun::oci::max_json_depth;
using sealrun::oci::max_manifest_size;
using sealrun::oci::parse_json_strict;
using nlohmann::json;

using sealrun::test::error_of;
using sealrun::test::has;

namespace {

// Position of the quoted key `key` in `text`; fails the test when absent.
std::size_t key_pos(const std::string& text, const std::string& key) {
    const auto pos = text.find("\"" + key + "\":");
    CAPTURE(key);
    REQUIRE(pos != std::string::npos);
    return pos;
}

// Checks that `text` has no whitespace outside string literals.
bool has_whitespace_outside_strings(std::string_view text) {
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            return true;
        }
    }
    return false;
}

// Checks that parse_json_strict rejects `text` with `code` and a message
// holding `why`; returns the error.
Error check_rejected(std::string_view text, Errc code, std::string_view why, std::string_view what = "test doc") {
    CAPTURE(text);
    const auto e = error_of([&] { (void)parse_json_strict(text, what); });
    REQUIRE(e.has_value());
    CHECK(e->code() == code);
    CHECK(e->operation() == "parse");
    CHECK(e->subject() == what);
    const std::string message = e->what();
    CAPTURE(message);
    CHECK(has(e->what(), why));
    return *e;
}

// A manifest-shaped document built in one insertion order...
json sample_forward() {
    json j = json::object();
    j["schemaVersion"] = 2;
    j["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
    j["config"] = {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", "sha256:x"}, {"size", 2}};
    json layer = json::object();
    layer["mediaType"] = "text/plain";
    layer["size"] = 5;
    layer["annotations"] = json::object();
    layer["annotations"]["z"] = "last";
    layer["annotations"]["a"] = "first";
    layer["annotations"]["M"] = "upper";
    j["layers"] = json::array({layer, layer});
    j["annotations"] = {{"org.opencontainers.image.title", "t"}, {"b", "2"}, {"a", "1"}};
    return j;
}

// ...and the same content built in the reverse order.
json sample_reverse() {
    json j = json::object();
    j["annotations"] = json::object();
    j["annotations"]["a"] = "1";
    j["annotations"]["b"] = "2";
    j["annotations"]["org.opencontainers.image.title"] = "t";
    json layer = json::object();
    layer["annotations"] = json::object();
    layer["annotations"]["M"] = "upper";
    layer["annotations"]["a"] = "first";
    layer["annotations"]["z"] = "last";
    layer["size"] = 5;
    layer["mediaType"] = "text/plain";
    j["layers"] = json::array({layer, layer});
    j["config"] = json::object();
    j["config"]["size"] = 2;
    j["config"]["digest"] = "sha256:x";
    j["config"]["mediaType"] = "application/vnd.oci.empty.v1+json";
    j["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
    j["schemaVersion"] = 2;
    return j;
}

}  // namespace

TEST_CASE("json: canonical_json sorts object keys bytewise") {
    json j = json::object();
    // Inserted out of order; bytewise order is B < _ < a < aa < b < U+FF61 < U+1F600.
    // (U+1F600 would sort first by UTF-16 code units.)
    j["\xf0\x9f\x98\x80"] = 7;  // U+1F600, F0 9F 98 80
    j["b"] = 5;
    j["aa"] = 4;
    j["\xef\xbd\xa1"] = 6;  // U+FF61, EF BD A1
    j["a"] = 3;
    j["_"] = 2;
    j["B"] = 1;
    const auto out = canonical_json(j);
    CAPTURE(out);
    const std::vector<std::string> order = {"B", "_", "a", "aa", "b", "\xef\xbd\xa1", "\xf0\x9f\x98\x80"};
    for (std::size_t i = 1; i < order.size(); ++i) CHECK(key_pos(out, order[i - 1]) < key_pos(out, order[i]));
    CHECK(parse_json_strict(out, "canonical") == j);

    // Small hand-written example: keys sorted, no whitespace.
    CHECK(canonical_json(json{{"b", 1}, {"a", json::array({true, nullptr})}}) == R"({"a":[true,null],"b":1})");
}

TEST_CASE("json: canonical_json sorts nested objects too") {
    json inner = json::object();
    inner["y"] = 1;
    inner["x"] = 2;
    json j = json::object();
    j["outer"] = json::array({inner, {{"d", {{"q", 1}, {"p", 2}}}}});
    const auto out = canonical_json(j);
    CAPTURE(out);
    CHECK(key_pos(out, "x") < key_pos(out, "y"));
    CHECK(key_pos(out, "p") < key_pos(out, "q"));
    // Arrays keep their order.
    CHECK(key_pos(out, "y") < key_pos(out, "d"));
}

TEST_CASE("json: canonical_json has no insignificant whitespace") {
    const auto parsed = parse_json_strict(R"(  {
        "b" : [ 1 , 2 , { "c" : "with space" } ] ,
        "a" :	{ }
    }  )",
                                          "doc");
    const auto out = canonical_json(parsed);
    CAPTURE(out);
    CHECK_FALSE(has_whitespace_outside_strings(out));
    CHECK(has(out, "\"with space\""));  // significant whitespace stays
    CHECK_FALSE(has_whitespace_outside_strings(canonical_json(sample_forward())));
    CHECK(canonical_json(json::object()) == "{}");
    CHECK(canonical_json(json::array()) == "[]");
}

TEST_CASE("json: same content in a different insertion order gives identical bytes and digest") {
    const auto a = sample_forward();
    const auto b = sample_reverse();
    REQUIRE(a == b);
    const auto ca = canonical_json(a);
    const auto cb = canonical_json(b);
    CHECK(ca == cb);
    CHECK(Digest::of(ca) == Digest::of(cb));

    // Different whitespace and key order in the input text change nothing either.
    const auto pa = parse_json_strict(R"({"z":1,"a":{"y":[1,2],"x":"s"}})", "a");
    const auto pb = parse_json_strict("{ \"a\" : { \"x\" : \"s\", \"y\" : [ 1, 2 ] },\n \"z\" : 1 }", "b");
    CHECK(canonical_json(pa) == canonical_json(pb));
    CHECK(Digest::of(canonical_json(pa)) == Digest::of(canonical_json(pb)));

    // Different content gives different bytes.
    auto c = sample_forward();
    c["annotations"]["a"] = "changed";
    CHECK(canonical_json(c) != ca);
    CHECK(Digest::of(canonical_json(c)) != Digest::of(ca));
}

TEST_CASE("json: canonical_json is a fixed point of parse_json_strict") {
    const auto once = canonical_json(sample_forward());
    const auto reparsed = parse_json_strict(once, "doc");
    CHECK(reparsed == sample_forward());
    CHECK(canonical_json(reparsed) == once);
}

TEST_CASE("json: canonical_json keeps valid UTF-8 and rejects invalid UTF-8") {
    const json ok = {{"k\xc3\xa9y", "v\xe2\x82\xac\xf0\x9f\x98\x80"}};
    const auto out = canonical_json(ok);
    CHECK(parse_json_strict(out, "utf8") == ok);

    for (const char* bad : {"\xff", "\xc3", "a\xc3(", "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80",
                            "\xe2\x82"}) {
        CAPTURE(bad);
        const auto as_value = error_of([&] { (void)canonical_json(json{{"k", bad}}); });
        REQUIRE(as_value.has_value());
        CHECK(as_value->code() == Errc::invalid_input);
        const auto as_key = error_of([&] { (void)canonical_json(json{{std::string("k") + bad, 1}}); });
        REQUIRE(as_key.has_value());
        CHECK(as_key->code() == Errc::invalid_input);
        const auto nested = error_of([&] { (void)canonical_json(json{{"a", json::array({1, json{{"b", bad}}})}}); });
        REQUIRE(nested.has_value());
        CHECK(nested->code() == Errc::invalid_input);
    }
}

TEST_CASE("json: parse_json_strict parses valid documents") {
    const auto j = parse_json_strict(R"({"a":[1,"two",{"b":null}],"c":true,"d":-1.5})", "doc");
    CHECK(j.at("a").size() == 3);
    CHECK(j.at("a")[0] == 1);
    CHECK(j.at("a")[1] == "two");
    CHECK(j.at("a")[2].at("b").is_null());
    CHECK(j.at("c") == true);
    CHECK(j.at("d") == -1.5);
    CHECK(parse_json_strict("[]", "doc") == json::array());
    CHECK(parse_json_strict("42", "doc") == 42);
    CHECK(parse_json_strict(" \"s\" \n", "doc") == "s");
    // The same key in sibling objects or at different depths is not a duplicate.
    CHECK_NOTHROW((void)parse_json_strict(R"([{"a":1},{"a":2}])", "doc"));
    CHECK_NOTHROW((void)parse_json_strict(R"({"a":{"a":{"a":1}},"b":{"a":2}})", "doc"));
}

TEST_CASE("json: parse_json_strict rejects a duplicate top-level key naming it") {
    const auto e = check_rejected(R"({"schemaVersion":2,"schemaVersion":2})", Errc::invalid_input, "duplicate");
    CHECK(has(e.reason(), "schemaVersion"));
    const auto f = check_rejected(R"({"a":1,"b":2,"a":{}})", Errc::invalid_input, "duplicate");
    CHECK(f.reason().rfind("a:", 0) == 0);  // the path is the top-level key itself
}

TEST_CASE("json: parse_json_strict rejects nested duplicate keys naming their JSON path") {
    // layers[0] holds the same key once (not a duplicate); layers[1] repeats it.
    const std::string doc = R"({"schemaVersion":2,"layers":[)"
                            R"({"mediaType":"text/plain","urls":["u1","u2"],"annotations":{"k":"1"}},)"
                            R"({"mediaType":"text/plain","annotations":{"k":"1","j":"x","k":"2"}}]})";
    const auto e = check_rejected(doc, Errc::invalid_input, "layers[1].annotations.k");
    CHECK(has(e.reason(), "duplicate"));

    check_rejected(R"({"config":{"size":1,"size":2}})", Errc::invalid_input, "config.size");
    check_rejected(R"({"a":[1,"x",[],{"k":1,"k":2}]})", Errc::invalid_input, "a[3].k");
    check_rejected(R"({"a":[[0],[1,{"x":{"y":1,"y":2}}]]})", Errc::invalid_input, "a[1][1].x.y");
    check_rejected(R"([{},{"k":1,"k":2}])", Errc::invalid_input, "[1].k");
    check_rejected(R"({"m":[{"a":{"b":1}},{"a":{"b":1,"b":1}}]})", Errc::invalid_input, "m[1].a.b");
}

TEST_CASE("json: parse_json_strict rejects malformed JSON") {
    for (const char* bad : {"", "   ", "{", "}", R"({"a":})", "[1,2,]", R"({'a':1})", "nul", R"({"a" 1})", "NaN",
                            R"({"a":1,})", R"(["unterminated])", "01", R"({"a":"\x"})", "[1 2]"}) {
        CAPTURE(bad);
        check_rejected(bad, Errc::invalid_input, "malformed JSON");
    }
    // Invalid UTF-8 inside a string literal.
    check_rejected("{\"a\":\"\xff\"}", Errc::invalid_input, "malformed JSON");
}

TEST_CASE("json: parse_json_strict rejects trailing garbage") {
    for (const char* bad : {"{} x", "{}{}", "1 2", "[]]", R"({"a":1}})", "{}\n,", "null null"}) {
        CAPTURE(bad);
        check_rejected(bad, Errc::invalid_input, "malformed JSON");
    }
    CHECK_NOTHROW((void)parse_json_strict("{}  \n\t", "doc"));
}

TEST_CASE("json: parse_json_strict enforces the size limit with too_large") {
    CHECK(max_manifest_size == 4u * 1024u * 1024u);

    // A custom limit: exactly at the limit passes, one byte over fails.
    const std::string at_limit = R"(["0123456789"])";  // 14 bytes
    CHECK_NOTHROW((void)parse_json_strict(at_limit, "small", at_limit.size()));
    const auto e = error_of([&] { (void)parse_json_strict(at_limit, "small", at_limit.size() - 1); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::too_large);
    CHECK(e->subject() == "small");
    CHECK(has(e->reason(), std::to_string(at_limit.size())));

    // The default limit is the 4 MiB manifest limit.
    std::string big = "\"" + std::string(max_manifest_size - 2, 'x') + "\"";
    REQUIRE(big.size() == max_manifest_size);
    CHECK(parse_json_strict(big, "big").get<std::string>().size() == max_manifest_size - 2);
    big.insert(1, "x");
    check_rejected(big, Errc::too_large, "exceed", "big");

    // The size check comes before parsing: even garbage is reported as too large.
    check_rejected(std::string(max_manifest_size + 1, '{'), Errc::too_large, "exceed", "garbage");
}

TEST_CASE("json: parse_json_strict caps the nesting depth") {
    const auto arrays = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    const auto objects = [](std::size_t depth) {
        std::string s;
        for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
        s += "1";
        for (std::size_t i = 0; i < depth; ++i) s += "}";
        return s;
    };
    REQUIRE(max_json_depth >= 16);  // OCI documents nest a handful of levels

    const auto deepest = parse_json_strict(arrays(max_json_depth), "arrays");
    CHECK(parse_json_strict(canonical_json(deepest), "again") == deepest);
    CHECK_NOTHROW((void)parse_json_strict(objects(max_json_depth), "objects"));
    check_rejected(arrays(max_json_depth + 1), Errc::invalid_input, "deeper");
    check_rejected(objects(max_json_depth + 1), Errc::invalid_input, "deeper");

    // A hostile document nesting millions of levels within the size limit is
    // refused quickly, not a stack overflow or a memory blow-up.
    check_rejected(arrays(max_manifest_size / 2), Errc::invalid_input, "deeper");
    check_rejected("{\"x\":" + arrays(max_manifest_size / 4) + "}", Errc::invalid_input, "deeper");
}

TEST_CASE("json: duplicate-key paths stay exact under long keys and deep nesting") {
    // Long keys at every level of a deep path: the reported path holds them all.
    const std::string key(200, 'k');
    std::string doc;
    std::string want;
    for (std::size_t i = 0; i + 1 < max_json_depth; ++i) {
        doc += "{\"" + key + "\":";
        want += (want.empty() ? "" : ".") + key;
    }
    doc += "{\"d\":1,\"d\":2}";
    for (std::size_t i = 0; i + 1 < max_json_depth; ++i) doc += "}";
    const auto e = check_rejected(doc, Errc::invalid_input, "duplicate");
    CHECK(e.reason() == want + ".d: duplicate key");
}

namespace oci = sealrun::oci;
using sealrun::test::contains;

namespace {

// source_of feeds `text` to check_json_strict `chunk` bytes at a time.
oci::ByteSource source_of(const std::string& text, std::size_t chunk) {
    auto pos = std::make_shared<std::size_t>(0);
    return [text, chunk, pos](std::span<char> b) {
        const auto n = std::min({b.size(), chunk, text.size() - *pos});
        std::copy_n(text.data() + *pos, n, b.data());
        *pos += n;
        return n;
    };
}

// strict_accepts reports whether parse_json_strict accepts `text`.
bool strict_accepts(const std::string& text) {
    try {
        (void)oci::parse_json_strict(text, "doc", std::numeric_limits<std::size_t>::max());
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

TEST_CASE("check_json_strict: accepts and refuses exactly what parse_json_strict does, fed in any chunks") {
    const std::vector<std::string> docs = {
        "{}", "[]", "0", "-1.5e3", "\"x\"", "true", " null ", "{\"a\":1,\"b\":[1,2,{\"c\":null}]}",
        "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}", "[{\"a\":1},{\"a\":1}]", "{\"a\":1,\"b\":{\"a\":1}}",
        "", "   ", "{", "[1,]", "{\"a\" 1}", "01", "1e999", "-1e999", "[1] 2", "[1]x", "\"\\ud800\"",
        "\"\xff\"", "\"\xc3\xa9\"", "\"\xe2\x82\"", "\"a\x01\"", "\xef\xbb\xbf{}", "nul", "[\"\\u0000\"]",
        std::string(999, '[') + std::string(999, ']'), std::string(1000, '[') + std::string(1000, ']'),
        std::string(1001, '[') + std::string(1001, ']'), "{\"k\":\"" + std::string(100000, 'v') + "\"}",
    };
    for (const auto& doc : docs) {
        for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
            INFO(doc.substr(0, 80), " in chunks of ", chunk);
            bool accepted = true;
            std::string note;
            try {
                note = oci::check_json_strict(source_of(doc, chunk), "doc");
            } catch (const Error& e) {
                accepted = false;
                CHECK(e.code() == Errc::invalid_input);
            }
            CHECK(accepted == strict_accepts(doc));
            CHECK(note.empty());
        }
    }
    // The same messages name the problem.
    CHECK_THROWS_WITH(oci::check_json_strict(source_of("{\"a\":{\"b\":[{\"c\":1,\"c\":2}]}}", 3), "doc"),
                      doctest::Contains("a.b[0].c: duplicate key"));
    CHECK_THROWS_WITH(oci::check_json_strict(source_of(std::string(1001, '['), 5), "doc"),
                      doctest::Contains("nests deeper than 1000"));
}

TEST_CASE("check_json_strict: lines mode reads one document per line, naming the bad line") {
    CHECK(oci::check_json_strict(source_of("{\"a\":1}\n\n  \t\r\n[2]\r\n3", 2), "l", true).empty());
    CHECK(oci::check_json_strict(source_of("", 2), "l", true).empty());
    CHECK(oci::check_json_strict(source_of("\n\n", 2), "l", true).empty());
    CHECK_THROWS_WITH(oci::check_json_strict(source_of("1\n2\n{\"a\":1,\"a\":1}\n", 4), "l", true),
                      doctest::Contains("line 3: a: duplicate key"));
    CHECK_THROWS_WITH(oci::check_json_strict(source_of("1\n[1 2]\n", 1), "l", true), doctest::Contains("line 2: malformed"));
    CHECK_THROWS_AS(oci::check_json_strict(source_of("1 2\n", 1), "l", true), Error);
    CHECK_THROWS_AS(oci::check_json_strict(source_of("{\"a\":\n1}\n", 1), "l", true), Error);
}

TEST_CASE("check_json_strict: memory bounds end the check with a note, never a wrong verdict") {
    const oci::JsonStreamLimits small{.max_token = 1000, .max_tracked_keys = 4096};
    // A string longer than max_token: not checked past it.
    const auto long_string = "[\"" + std::string(5000, 'x') + "\"]";
    CHECK(contains(oci::check_json_strict(source_of(long_string, 100), "doc", false, small), "longer than 1000"));
    // A syntax error before the long token still fails.
    CHECK_THROWS_AS(oci::check_json_strict(source_of("[1,,\"" + std::string(5000, 'x') + "\"]", 100), "doc", false, small),
                    Error);
    // Many keys: duplicates past the budget are not all caught, and the note says so.
    std::string many = "{";
    for (int i = 0; i < 1000; ++i) many += "\"k" + std::to_string(i) + "\":0,";
    many += "\"k0\":1}";
    // Either verdict is honest (the duplicate caught, or a note that keys
    // were checked only in part); a silent pass is not.
    std::string note;
    bool caught = false;
    try {
        note = oci::check_json_strict(source_of(many, 64), "doc", false, small);
    } catch (const Error& e) {
        caught = true;
        CHECK(contains(e.what(), "duplicate key"));
    }
    CHECK((caught || contains(note, "duplicate keys checked only")));
}

namespace {

// index_of is an image index text of `n` run entries, as an experiment
// index holds them.
std::string index_of(std::size_t n) {
    std::string s = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
    for (std::size_t i = 0; i < n; ++i) {
        if (i != 0) s += ',';
        s += R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" + std::string(64, 'a') +
             R"(","size":)" + std::to_string(1000 + i) +
             R"(,"annotations":{"vnd.sealrun.run.id":")" + std::to_string(i) + R"(","vnd.sealrun.run.status":"finished"}})";
    }
    return s + "]}";
}

// fastest_parse is the shortest of three strict parses of `text`, in seconds.
double fastest_parse(const std::string& text, std::size_t entries) {
    double best = std::numeric_limits<double>::max();
    for (int i = 0; i < 3; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto doc = parse_json_strict(text, "index", std::numeric_limits<std::size_t>::max());
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        REQUIRE(doc.at("manifests").size() == entries);
        best = std::min(best, took.count());
    }
    return best;
}

}  // namespace

TEST_CASE("json: parse_json_strict is linear in the entries of an array of objects") {
    // A quadratic parse (nlohmann's callback parser scans the array at every
    // object's end) takes 16x for 4x the entries; a linear one 4x. The bound
    // sits between them, far enough from both for a loaded machine.
    const auto small = fastest_parse(index_of(5'000), 5'000);
    const auto large = fastest_parse(index_of(20'000), 20'000);
    CAPTURE(small);
    CAPTURE(large);
    CHECK(large < 8 * small);
    // A duplicate in the last entry is still found, with its path.
    auto dup = index_of(20'000);
    dup.insert(dup.size() - 4, R"(,"vnd.sealrun.run.id":"x")");  // inside the last annotations
    const auto e = error_of([&] { (void)parse_json_strict(dup, "index", std::numeric_limits<std::size_t>::max()); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(e->reason() == "manifests[19999].annotations.vnd.sealrun.run.id: duplicate key");
}
