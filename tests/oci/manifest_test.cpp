#include <doctest/doctest.h>

#include "support/expect.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/oci/media_type.h"

using sealrun::Errc;
using sealrun::Error;
using namespace sealrun::oci;
using nlohmann::json;

using sealrun::test::error_of;
using sealrun::test::has;

namespace {

constexpr std::string_view run_type = "application/vnd.sealrun.run.v1";

Descriptor sample_layer(std::string_view content, std::string_view title) {
    auto d = Descriptor::for_bytes(std::string(media_types::layer_tar), content);
    d.annotations[std::string(annotations::title)] = std::string(title);
    return d;
}

ImageManifest sample_manifest(bool with_subject = true) {
    auto log = Descriptor::for_bytes("application/vnd.sealrun.log.v1", "log line\n");
    log.urls = {"https://example.com/log"};
    log.data = "log line\n";
    ImageManifest m{.artifact_type = std::string(run_type),
                    .config = empty_descriptor(),
                    .layers = {sample_layer("layer one", "one.tar"), log, sample_layer("layer three", "three.tar")}};
    if (with_subject) m.subject = Descriptor::for_bytes(std::string(media_types::image_manifest), "{\"subject\":1}");
    m.annotations = {{std::string(annotations::created), "2024-01-02T03:04:05Z"}, {"com.example.run", "42"}};
    return m;
}

ImageIndex sample_index(bool with_subject = true) {
    auto amd = Descriptor::for_bytes(std::string(media_types::image_manifest), "{\"amd64\":1}");
    amd.platform = json{{"architecture", "amd64"}, {"os", "linux"}};
    auto arm = Descriptor::for_bytes(std::string(media_types::image_manifest), "{\"arm64\":1}");
    arm.platform = json{{"architecture", "arm64"}, {"os", "linux"}, {"variant", "v8"}};
    arm.artifact_type = std::string(run_type);
    auto nested = Descriptor::for_bytes(std::string(media_types::image_index), "{\"nested\":1}");
    nested.annotations[std::string(annotations::ref_name)] = "v1";
    ImageIndex i{.artifact_type = std::string(run_type), .manifests = {amd, arm, nested}};
    if (with_subject) i.subject = Descriptor::for_bytes(std::string(media_types::image_manifest), "{\"s\":2}");
    i.annotations = {{"com.example.index", "yes"}};
    return i;
}

// Checks that two descriptors agree on every field.
void check_same(const Descriptor& a, const Descriptor& b) {
    CHECK(a.media_type == b.media_type);
    CHECK(a.digest == b.digest);
    CHECK(a.size == b.size);
    CHECK(a.urls == b.urls);
    CHECK(a.annotations == b.annotations);
    CHECK(a.data == b.data);
    CHECK(a.artifact_type == b.artifact_type);
    CHECK(a.platform == b.platform);
}

void check_same(const std::optional<Descriptor>& a, const std::optional<Descriptor>& b) {
    REQUIRE(a.has_value() == b.has_value());
    if (a) check_same(*a, *b);
}

// A manifest document as JSON, to be broken by individual tests.
json manifest_json() { return sample_manifest().to_json(); }
json index_json() { return sample_index().to_json(); }

// Checks that ImageManifest::parse rejects `doc` with `code` and a message
// naming `where` (and `why`, when given).
Error check_manifest_rejected(const std::string& bytes, Errc code, std::string_view where, std::string_view why = "") {
    const auto e = error_of([&] { (void)ImageManifest::parse(bytes); });
    REQUIRE(e.has_value());
    const std::string message = e->what();
    CAPTURE(message);
    CHECK(e->code() == code);
    CHECK(has(e->what(), where));
    CHECK(has(e->what(), why));
    return *e;
}

Error check_index_rejected(const std::string& bytes, Errc code, std::string_view where, std::string_view why = "") {
    const auto e = error_of([&] { (void)ImageIndex::parse(bytes); });
    REQUIRE(e.has_value());
    const std::string message = e->what();
    CAPTURE(message);
    CHECK(e->code() == code);
    CHECK(has(e->what(), where));
    CHECK(has(e->what(), why));
    return *e;
}

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

}  // namespace

TEST_CASE("manifest: ImageManifest serialize then parse round trip") {
    const auto m = sample_manifest();
    const auto bytes = m.serialize();
    const auto back = ImageManifest::parse(bytes);
    CHECK(back.media_type == media_types::image_manifest);
    CHECK(back.artifact_type == m.artifact_type);
    check_same(back.config, m.config);
    REQUIRE(back.layers.size() == m.layers.size());
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        CAPTURE(i);
        check_same(back.layers[i], m.layers[i]);
    }
    check_same(back.subject, m.subject);
    CHECK(back.annotations == m.annotations);
    CHECK(back.serialize() == bytes);

    // Without the optional parts.
    ImageManifest bare{.config = Descriptor::for_bytes(std::string(media_types::image_config), "{}"),
                       .layers = {sample_layer("x", "x")}};
    const auto bare_back = ImageManifest::parse(bare.serialize());
    CHECK_FALSE(bare_back.artifact_type.has_value());
    CHECK_FALSE(bare_back.subject.has_value());
    CHECK(bare_back.annotations.empty());
    check_same(bare_back.config, bare.config);
    CHECK(bare_back.serialize() == bare.serialize());
}

TEST_CASE("manifest: to_json carries schemaVersion, mediaType and only the fields set") {
    const auto j = sample_manifest().to_json();
    CHECK(j.at("schemaVersion") == 2);
    CHECK(j.at("mediaType") == media_types::image_manifest);
    CHECK(j.at("artifactType") == run_type);
    CHECK(j.at("config") == empty_descriptor().to_json());
    CHECK(j.at("layers").size() == 3);
    CHECK(j.at("subject").at("mediaType") == media_types::image_manifest);
    CHECK(j.at("annotations").at("com.example.run") == "42");

    ImageManifest bare{.config = empty_descriptor(), .layers = {empty_descriptor()}};
    const auto b = bare.to_json();
    CHECK(b.size() == 4);  // schemaVersion, mediaType, config, layers
    CHECK_FALSE(b.contains("artifactType"));
    CHECK_FALSE(b.contains("subject"));
    CHECK_FALSE(b.contains("annotations"));
}

TEST_CASE("manifest: serialize is canonical and deterministic") {
    const auto m = sample_manifest();
    const auto a = m.serialize();
    const auto b = m.serialize();
    CHECK(a == b);
    CHECK(Digest::of(a) == Digest::of(b));
    CHECK(a == canonical_json(parse_json_strict(a, "manifest")));
    CHECK(a == canonical_json(m.to_json()));
    CHECK_FALSE(has_whitespace_outside_strings(a));

    // The same manifest built separately, annotations added in another order.
    auto other = sample_manifest();
    other.annotations.clear();
    other.annotations["com.example.run"] = "42";
    other.annotations[std::string(annotations::created)] = "2024-01-02T03:04:05Z";
    CHECK(other.serialize() == a);

    // A pretty-printed, reordered copy parses back to the same canonical bytes.
    const auto pretty = parse_json_strict(a, "manifest").dump(4);
    REQUIRE(pretty != a);
    CHECK(ImageManifest::parse(pretty).serialize() == a);

    // A change in content changes the bytes and digest.
    other.annotations["com.example.run"] = "43";
    CHECK(Digest::of(other.serialize()) != Digest::of(a));
}

TEST_CASE("manifest: parse requires schemaVersion 2") {
    auto j = manifest_json();
    j.erase("schemaVersion");
    check_manifest_rejected(j.dump(), Errc::invalid_input, "schemaVersion", "is required");
    for (const json& bad : {json(1), json(3), json("2"), json(2.0), json(nullptr), json(-2)}) {
        CAPTURE(bad.dump());
        j["schemaVersion"] = bad;
        const auto e = check_manifest_rejected(j.dump(), Errc::invalid_input, "schemaVersion", "must be 2");
        CHECK(e.subject() == "schemaVersion");
    }
}

TEST_CASE("manifest: parse requires a config") {
    auto j = manifest_json();
    j.erase("config");
    const auto e = check_manifest_rejected(j.dump(), Errc::invalid_input, "config", "is required");
    CHECK(e.subject() == "config");
    j["config"] = "sha256:abc";
    check_manifest_rejected(j.dump(), Errc::invalid_input, "config", "must be a JSON object");
}

TEST_CASE("manifest: parse requires at least one layer") {
    auto j = manifest_json();
    j.erase("layers");
    auto e = check_manifest_rejected(j.dump(), Errc::invalid_input, "layers", "is required");
    CHECK(e.subject() == "layers");
    j["layers"] = json::array();
    e = check_manifest_rejected(j.dump(), Errc::invalid_input, "layers", "at least one");
    CHECK(e.subject() == "layers");
    j["layers"] = json::object();
    check_manifest_rejected(j.dump(), Errc::invalid_input, "layers", "must be an array");
}

TEST_CASE("manifest: parse rejects a media type that is not a manifest's") {
    auto j = manifest_json();
    for (std::string_view bad : {media_types::image_index, media_types::docker_manifest_list, media_types::layer_tar,
                                 std::string_view("text/plain"), std::string_view("not a media type")}) {
        CAPTURE(bad);
        j["mediaType"] = bad;
        const auto e = check_manifest_rejected(j.dump(), Errc::invalid_input, "mediaType", bad);
        CHECK(e.subject() == "mediaType");
    }
    j["mediaType"] = 7;
    check_manifest_rejected(j.dump(), Errc::invalid_input, "mediaType", "must be a string");
}

TEST_CASE("manifest: a missing mediaType reads as the OCI manifest type") {
    auto j = manifest_json();
    j.erase("mediaType");
    const auto m = ImageManifest::parse(j.dump());
    CHECK(m.media_type == media_types::image_manifest);
    CHECK(m.layers.size() == 3);
}

TEST_CASE("manifest: parse rejects documents larger than 4 MiB with too_large") {
    auto m = sample_manifest();
    m.annotations["pad"] = "";
    const auto base = m.serialize().size();
    REQUIRE(base < max_manifest_size);

    // Exactly at the limit: serializes and parses.
    m.annotations["pad"] = std::string(max_manifest_size - base, 'x');
    const auto at_limit = m.serialize();
    CHECK(at_limit.size() == max_manifest_size);
    CHECK(ImageManifest::parse(at_limit).annotations.at("pad").size() == max_manifest_size - base);

    // One byte over: both directions refuse.
    m.annotations["pad"] += "x";
    const auto over = canonical_json(m.to_json());
    REQUIRE(over.size() == max_manifest_size + 1);
    check_manifest_rejected(over, Errc::too_large, "image manifest");
    const auto e = error_of([&] { (void)m.serialize(); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::too_large);

    // Huge annotations, far over.
    m.annotations["huge"] = std::string(5 * 1024 * 1024, 'y');
    check_manifest_rejected(m.to_json().dump(), Errc::too_large, "image manifest");
}

TEST_CASE("manifest: parse rejects duplicate keys naming their path") {
    const auto bytes = sample_manifest().serialize();
    // Top level: repeat "schemaVersion".
    const auto dup_top = "{\"schemaVersion\":2," + bytes.substr(1);
    auto e = check_manifest_rejected(dup_top, Errc::invalid_input, "schemaVersion", "duplicate");
    CHECK(e.subject() == "image manifest");

    // Nested in the second layer's annotations.
    auto j = manifest_json();
    j["layers"][1]["annotations"] = {{"k", "1"}};
    auto text = canonical_json(j);
    const std::string needle = "\"annotations\":{\"k\":\"1\"}";
    const auto pos = text.find(needle);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, needle.size(), "\"annotations\":{\"k\":\"1\",\"k\":\"2\"}");
    check_manifest_rejected(text, Errc::invalid_input, "layers[1].annotations.k", "duplicate");

    // Nested in the config.
    auto c = canonical_json(manifest_json());
    const auto cpos = c.find("\"config\":{");
    REQUIRE(cpos != std::string::npos);
    c.insert(cpos + std::string("\"config\":{").size(), "\"size\":2,");
    check_manifest_rejected(c, Errc::invalid_input, "config.size", "duplicate");
}

TEST_CASE("manifest: parse rejects malformed documents") {
    check_manifest_rejected("", Errc::invalid_input, "malformed JSON");
    check_manifest_rejected("{\"schemaVersion\":2", Errc::invalid_input, "malformed JSON");
    check_manifest_rejected(sample_manifest().serialize() + "x", Errc::invalid_input, "malformed JSON");
    check_manifest_rejected(sample_manifest().serialize() + "{}", Errc::invalid_input, "malformed JSON");
    check_manifest_rejected("[]", Errc::invalid_input, "document", "must be a JSON object");
    check_manifest_rejected("2", Errc::invalid_input, "document", "must be a JSON object");
}

TEST_CASE("manifest: descriptor errors inside a manifest name the field path") {
    auto j = manifest_json();
    j["layers"][1]["size"] = "9";
    auto e = check_manifest_rejected(j.dump(), Errc::invalid_input, "layers[1].size", "must be an integer");
    CHECK(e.subject() == "layers[1].size");

    j = manifest_json();
    j["layers"][2]["digest"] = "sha256:0";
    check_manifest_rejected(j.dump(), Errc::invalid_input, "layers[2].digest");
    j = manifest_json();
    j["layers"][0].erase("mediaType");
    check_manifest_rejected(j.dump(), Errc::invalid_input, "layers[0].mediaType", "is required");
    j = manifest_json();
    j["config"]["mediaType"] = "application/json; charset=utf-8";
    check_manifest_rejected(j.dump(), Errc::invalid_input, "config.mediaType", "parameters");
    j = manifest_json();
    j["subject"]["size"] = -5;
    check_manifest_rejected(j.dump(), Errc::invalid_input, "subject.size", "negative");
    j = manifest_json();
    j["config"]["size"] = 3;  // the config is the empty descriptor, whose data holds 2 bytes
    check_manifest_rejected(j.dump(), Errc::invalid_input, "config.data");
    j = manifest_json();
    j["annotations"]["k"] = 1;
    check_manifest_rejected(j.dump(), Errc::invalid_input, "annotations.k", "must be a string");
    j = manifest_json();
    j["artifactType"] = "bad";
    check_manifest_rejected(j.dump(), Errc::invalid_input, "artifactType");
    j = manifest_json();
    j["layers"][1] = "not an object";
    check_manifest_rejected(j.dump(), Errc::invalid_input, "layers[1]", "must be a JSON object");
}

TEST_CASE("manifest: a Docker schema 2 manifest parses") {
    const json doc = {
        {"schemaVersion", 2},
        {"mediaType", media_types::docker_manifest},
        {"config",
         {{"mediaType", "application/vnd.docker.container.image.v1+json"},
          {"size", 7023},
          {"digest", Digest::of(std::string_view("docker config")).str()}}},
        {"layers",
         json::array({{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                       {"size", 32654},
                       {"digest", Digest::of(std::string_view("layer 1")).str()}},
                      {{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                       {"size", 16724},
                       {"digest", Digest::of(std::string_view("layer 2")).str()}}})}};
    const auto m = ImageManifest::parse(doc.dump(3));
    CHECK(m.media_type == media_types::docker_manifest);
    CHECK(m.config.media_type == "application/vnd.docker.container.image.v1+json");
    CHECK(m.config.size == 7023);
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[1].size == 16724);
    CHECK(m.layers[1].digest == Digest::of(std::string_view("layer 2")));
    // It keeps its media type when written back.
    const auto again = ImageManifest::parse(m.serialize());
    CHECK(again.media_type == media_types::docker_manifest);
    CHECK(parse_json_strict(m.serialize(), "docker") == doc);
}

TEST_CASE("manifest: serialize of a manifest with no layers throws invalid_input") {
    ImageManifest m{.config = empty_descriptor(), .layers = {}};
    const auto e = error_of([&] { (void)m.serialize(); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(has(e->what(), "layers"));
    m.layers.push_back(empty_descriptor());
    CHECK_NOTHROW((void)m.serialize());
}

TEST_CASE("manifest: index ImageIndex serialize then parse round trip") {
    const auto i = sample_index();
    const auto bytes = i.serialize();
    const auto back = ImageIndex::parse(bytes);
    CHECK(back.media_type == media_types::image_index);
    CHECK(back.artifact_type == i.artifact_type);
    REQUIRE(back.manifests.size() == i.manifests.size());
    for (std::size_t k = 0; k < i.manifests.size(); ++k) {
        CAPTURE(k);
        check_same(back.manifests[k], i.manifests[k]);
    }
    REQUIRE(back.manifests[1].platform.has_value());
    CHECK(back.manifests[1].platform->at("variant") == "v8");
    check_same(back.subject, i.subject);
    CHECK(back.annotations == i.annotations);
    CHECK(back.serialize() == bytes);

    // An empty index is valid.
    ImageIndex empty{};
    const auto eb = empty.serialize();
    const auto parsed = ImageIndex::parse(eb);
    CHECK(parsed.manifests.empty());
    CHECK(parsed.media_type == media_types::image_index);
    CHECK(parse_json_strict(eb, "index").at("manifests") == json::array());
}

TEST_CASE("manifest: index serialize is canonical and deterministic") {
    const auto i = sample_index();
    const auto a = i.serialize();
    CHECK(a == i.serialize());
    CHECK(Digest::of(a) == Digest::of(i.serialize()));
    CHECK(a == canonical_json(parse_json_strict(a, "index")));
    CHECK(a == canonical_json(i.to_json()));
    CHECK_FALSE(has_whitespace_outside_strings(a));
    CHECK(ImageIndex::parse(parse_json_strict(a, "index").dump(2)).serialize() == a);
    const auto j = i.to_json();
    CHECK(j.at("schemaVersion") == 2);
    CHECK(j.at("mediaType") == media_types::image_index);
}

TEST_CASE("manifest: index parse rejects bad documents naming the field") {
    auto j = index_json();
    j.erase("schemaVersion");
    check_index_rejected(j.dump(), Errc::invalid_input, "schemaVersion", "is required");
    j["schemaVersion"] = 1;
    check_index_rejected(j.dump(), Errc::invalid_input, "schemaVersion", "must be 2");

    j = index_json();
    j.erase("manifests");
    check_index_rejected(j.dump(), Errc::invalid_input, "manifests", "is required");
    j["manifests"] = "none";
    check_index_rejected(j.dump(), Errc::invalid_input, "manifests", "must be an array");

    j = index_json();
    j["mediaType"] = media_types::image_manifest;
    check_index_rejected(j.dump(), Errc::invalid_input, "mediaType", media_types::image_manifest);
    j["mediaType"] = media_types::docker_manifest;
    check_index_rejected(j.dump(), Errc::invalid_input, "mediaType", media_types::docker_manifest);

    j = index_json();
    j["manifests"][1]["digest"] = "sha512:abc";
    check_index_rejected(j.dump(), Errc::invalid_input, "manifests[1].digest", "128");
    j = index_json();
    j["manifests"][0]["platform"] = json::array();
    check_index_rejected(j.dump(), Errc::invalid_input, "manifests[0].platform", "must be an object");

    // Duplicate keys, top level and nested.
    const auto bytes = sample_index().serialize();
    check_index_rejected("{\"manifests\":[]," + bytes.substr(1), Errc::invalid_input, "manifests", "duplicate");
    auto text = bytes;
    const std::string needle = "\"variant\":\"v8\"";
    const auto pos = text.find(needle);
    REQUIRE(pos != std::string::npos);
    text.insert(pos, needle + ",");
    check_index_rejected(text, Errc::invalid_input, "manifests[1].platform.variant", "duplicate");
}

TEST_CASE("manifest: index size limit is 4 MiB unless the caller raises it") {
    auto i = sample_index();
    i.annotations["pad"] = std::string(max_manifest_size, 'x');
    const auto text = canonical_json(i.to_json());
    REQUIRE(text.size() > max_manifest_size);
    check_index_rejected(text, Errc::too_large, "image index");
    const auto e = error_of([&] { (void)i.serialize(); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::too_large);
    // An image layout's index.json may be read with a larger limit.
    const auto big = ImageIndex::parse(text, 2 * max_manifest_size);
    CHECK(big.annotations.at("pad").size() == max_manifest_size);
    CHECK(big.manifests.size() == 3);
    // And a smaller one is honoured too.
    const auto small = error_of([&] { (void)ImageIndex::parse(sample_index().serialize(), 10); });
    REQUIRE(small.has_value());
    CHECK(small->code() == Errc::too_large);
}

TEST_CASE("manifest: index a Docker manifest list parses") {
    const json doc = {
        {"schemaVersion", 2},
        {"mediaType", media_types::docker_manifest_list},
        {"manifests",
         json::array({{{"mediaType", media_types::docker_manifest},
                       {"size", 7143},
                       {"digest", Digest::of(std::string_view("ppc64le")).str()},
                       {"platform", {{"architecture", "ppc64le"}, {"os", "linux"}}}},
                      {{"mediaType", media_types::docker_manifest},
                       {"size", 7682},
                       {"digest", Digest::of(std::string_view("amd64")).str()},
                       {"platform", {{"architecture", "amd64"}, {"os", "linux"}, {"features", {"sse4"}}}}}})}};
    const auto i = ImageIndex::parse(doc.dump(2));
    CHECK(i.media_type == media_types::docker_manifest_list);
    REQUIRE(i.manifests.size() == 2);
    CHECK(i.manifests[0].media_type == media_types::docker_manifest);
    CHECK(i.manifests[1].platform == doc["manifests"][1]["platform"]);
    CHECK(ImageIndex::parse(i.serialize()).media_type == media_types::docker_manifest_list);
}

TEST_CASE("manifest: successors a manifest points to its subject, config and layers in order") {
    const auto m = sample_manifest();
    const auto bytes = m.serialize();
    const auto desc = Descriptor::for_bytes(std::string(media_types::image_manifest), bytes);
    const auto out = successors(desc, bytes);
    REQUIRE(out.size() == 1 + 1 + m.layers.size());
    check_same(out[0], *m.subject);
    check_same(out[1], m.config);
    for (std::size_t i = 0; i < m.layers.size(); ++i) check_same(out[2 + i], m.layers[i]);

    // Without a subject: config then layers.
    const auto plain = sample_manifest(false);
    const auto pbytes = plain.serialize();
    const auto pout = successors(Descriptor::for_bytes(std::string(media_types::image_manifest), pbytes), pbytes);
    REQUIRE(pout.size() == 1 + plain.layers.size());
    check_same(pout[0], plain.config);
    check_same(pout.back(), plain.layers.back());
}

TEST_CASE("manifest: successors an index points to its subject and manifests in order") {
    const auto i = sample_index();
    const auto bytes = i.serialize();
    const auto out = successors(Descriptor::for_bytes(std::string(media_types::image_index), bytes), bytes);
    REQUIRE(out.size() == 1 + i.manifests.size());
    check_same(out[0], *i.subject);
    for (std::size_t k = 0; k < i.manifests.size(); ++k) check_same(out[1 + k], i.manifests[k]);

    const auto plain = sample_index(false);
    const auto pbytes = plain.serialize();
    const auto pout = successors(Descriptor::for_bytes(std::string(media_types::image_index), pbytes), pbytes);
    REQUIRE(pout.size() == plain.manifests.size());
    check_same(pout[0], plain.manifests[0]);
}

TEST_CASE("manifest: successors Docker manifests and manifest lists have successors too") {
    auto m = sample_manifest(false);
    m.media_type = std::string(media_types::docker_manifest);
    const auto mb = m.serialize();
    CHECK(successors(Descriptor::for_bytes(std::string(media_types::docker_manifest), mb), mb).size() ==
          1 + m.layers.size());

    auto i = sample_index(false);
    i.media_type = std::string(media_types::docker_manifest_list);
    const auto ib = i.serialize();
    CHECK(successors(Descriptor::for_bytes(std::string(media_types::docker_manifest_list), ib), ib).size() ==
          i.manifests.size());
}

TEST_CASE("manifest: successors blobs have none") {
    const auto manifest_bytes = sample_manifest().serialize();
    for (std::string_view mt : {media_types::layer_tar, media_types::image_config, media_types::empty,
                                media_types::octet_stream, run_type, std::string_view("text/plain")}) {
        CAPTURE(mt);
        // Even when the blob happens to look like a manifest, or is not JSON at all.
        CHECK(successors(Descriptor::for_bytes(std::string(mt), manifest_bytes), manifest_bytes).empty());
        const std::string garbage("\x00\xff garbage", 10);
        CHECK(successors(Descriptor::for_bytes(std::string(mt), garbage), garbage).empty());
    }
}

TEST_CASE("manifest: successors throws when the content's mediaType disagrees with the descriptor's") {
    const auto oci_manifest = sample_manifest().serialize();
    auto docker = sample_manifest();
    docker.media_type = std::string(media_types::docker_manifest);
    const auto docker_manifest = docker.serialize();
    const auto oci_index = sample_index().serialize();
    auto list = sample_index();
    list.media_type = std::string(media_types::docker_manifest_list);
    const auto docker_list = list.serialize();

    const std::pair<std::string_view, const std::string*> cases[] = {
        {media_types::docker_manifest, &oci_manifest},    {media_types::image_manifest, &docker_manifest},
        {media_types::docker_manifest_list, &oci_index},  {media_types::image_index, &docker_list},
        {media_types::image_manifest, &oci_index},        {media_types::image_index, &oci_manifest},
        {media_types::docker_manifest_list, &oci_manifest}};
    for (const auto& c : cases) {
        CAPTURE(c.first);
        const auto desc = Descriptor::for_bytes(std::string(c.first), *c.second);
        const auto e = error_of([&] { (void)successors(desc, *c.second); });
        REQUIRE(e.has_value());
        CHECK(e->code() == Errc::invalid_input);
    }

    // The message names both media types.
    const auto desc = Descriptor::for_bytes(std::string(media_types::docker_manifest), oci_manifest);
    const auto e = error_of([&] { (void)successors(desc, oci_manifest); });
    REQUIRE(e.has_value());
    CHECK(has(e->what(), media_types::docker_manifest));
    CHECK(has(e->what(), media_types::image_manifest));
    CHECK(has(e->what(), desc.digest.str()));

    // Content without its own mediaType is read as the descriptor's OCI type.
    auto j = sample_manifest().to_json();
    j.erase("mediaType");
    const auto undeclared = canonical_json(j);
    CHECK(successors(Descriptor::for_bytes(std::string(media_types::image_manifest), undeclared), undeclared).size() ==
          2 + sample_manifest().layers.size());
}

TEST_CASE("manifest: successors invalid manifest content throws") {
    const auto desc = Descriptor::for_bytes(std::string(media_types::image_manifest), "not json");
    const auto e = error_of([&] { (void)successors(desc, "not json"); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    const auto idesc = Descriptor::for_bytes(std::string(media_types::image_index), "{}");
    const auto f = error_of([&] { (void)successors(idesc, "{}"); });
    REQUIRE(f.has_value());
    CHECK(f->code() == Errc::invalid_input);
}

TEST_CASE("manifest: index deeply nested JSON is refused, not a crash") {
    // A platform object is kept as read; nesting it a hundred thousand levels
    // deep (200 KB, well within the size limit) must fail cleanly.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    json entry = Descriptor::for_bytes(std::string(media_types::image_manifest), "m").to_json();
    entry["platform"] = {{"os", "linux"}, {"deep", nullptr}};
    const json doc = {{"schemaVersion", 2}, {"mediaType", media_types::image_index}, {"manifests", json::array({entry})}};
    auto text = canonical_json(doc);
    const auto pos = text.find("null");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 4, deep);
    REQUIRE(text.size() < max_manifest_size);
    check_index_rejected(text, Errc::invalid_input, "image index", "deeper");

    // Nesting up to the cap still parses, copies and writes back.
    const std::size_t room = max_json_depth - 4;  // index, manifests, entry, platform
    auto ok_text = canonical_json(doc);
    ok_text.replace(ok_text.find("null"), 4, std::string(room, '[') + std::string(room, ']'));
    const auto parsed = ImageIndex::parse(ok_text);
    REQUIRE(parsed.manifests.size() == 1);
    CHECK(parsed.serialize() == ok_text);
    const auto copy = parsed;
    CHECK(copy.manifests[0].platform == parsed.manifests[0].platform);

    auto m = canonical_json(manifest_json());
    m.insert(1, "\"x-deep\":" + deep + ",");
    check_manifest_rejected(m, Errc::invalid_input, "image manifest", "deeper");
}

#include "support/heap_count.h"  // this binary's operator new and delete

TEST_CASE("json: parse_json_strict_split hands over the top-level array's elements one by one, under the same rules") {
    const std::string text =
        R"({"a":1,"manifests":[{"x":[1,2]},2,"s",{"manifests":[3]},[]],"z":{"manifests":[4]}})";
    std::vector<json> got;
    std::vector<std::size_t> at;
    const auto doc = parse_json_strict_split(text, "t", "manifests", [&](json&& e, std::size_t i) {
        got.push_back(std::move(e));
        at.push_back(i);
    });
    const auto whole = parse_json_strict(text, "t");
    REQUIRE(got.size() == whole["manifests"].size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i] == whole["manifests"][i]);
        CHECK(at[i] == i);
    }
    // The split array is left empty; nested arrays of the same name are not split.
    CHECK(doc["manifests"] == json::array());
    CHECK(doc["a"] == 1);
    CHECK(doc["z"] == whole["z"]);
    // A member of that name that is no array stays in the document.
    std::size_t calls = 0;
    const auto obj = parse_json_strict_split(R"({"manifests":{"a":[1]}})", "t", "manifests", [&](json&&, std::size_t) { ++calls; });
    CHECK(calls == 0);
    CHECK(obj["manifests"]["a"][0] == 1);
    // The strict reader's refusals, inside an element and around the array.
    const std::string deep = std::string(R"({"manifests":[)") + std::string(max_json_depth + 2, '[') +
                             std::string(max_json_depth + 2, ']') + "]}";
    for (const std::string& bad : std::vector<std::string>{R"({"manifests":[{"a":1,"a":2}]})", R"({"manifests":[],"manifests":[]})",
                                  R"({"manifests":[1]} {})", R"({"manifests":[1,]})", R"({"manifests":[1e999]})", deep}) {
        CAPTURE(bad.substr(0, 60));
        CHECK(sealrun::test::errc_of([&] { (void)parse_json_strict(bad, "t"); }) == Errc::invalid_input);
        CHECK(sealrun::test::errc_of([&] { (void)parse_json_strict_split(bad, "t", "manifests", [](json&&, std::size_t) {}); }) ==
              Errc::invalid_input);
    }
    CHECK(sealrun::test::errc_of([&] { (void)parse_json_strict_split(text, "t", "manifests", [](json&&, std::size_t) {}, 10); }) ==
          Errc::too_large);
}

TEST_CASE("index: a bad entry is reported after the index's own fields, with its position") {
    ImageIndex idx;
    idx.manifests.push_back(sample_layer("a", "a"));
    auto j = idx.to_json();
    j["manifests"].push_back({{"mediaType", "x/y"}, {"digest", "sha256:nothex"}, {"size", 1}});
    auto bad_entry = j.dump();
    const auto entry = error_of([&] { (void)ImageIndex::parse(bad_entry); });
    REQUIRE(entry);
    CHECK(has(entry->what(), "manifests[1]"));
    j["schemaVersion"] = 3;
    const auto schema = error_of([&] { (void)ImageIndex::parse(j.dump()); });
    REQUIRE(schema);
    CHECK(has(schema->what(), "schemaVersion"));
}

TEST_CASE("memory: an index of 10,000 entries is parsed without a JSON tree of every entry (issue 15)") {
#ifndef SEALRUN_COUNT_HEAP
    MESSAGE("a sanitizer build: the heap is not counted");
#else
    ImageIndex idx;
    for (int i = 0; i < 10000; ++i) {
        auto d = Descriptor::for_bytes(std::string(media_types::image_manifest), "run " + std::to_string(i));
        d.artifact_type = "application/vnd.sealrun.run.v1";
        d.annotations["vnd.sealrun.run.id"] = std::to_string(i);
        d.annotations["vnd.sealrun.run.status"] = "finished";
        idx.manifests.push_back(std::move(d));
    }
    const auto bytes = idx.serialize();
    heap::live = 0;
    heap::peak = 0;
    heap::counting = true;
    auto parsed = std::optional<ImageIndex>(ImageIndex::parse(bytes, bytes.size()));
    const auto kept = heap::live.load();  // the descriptors themselves
    heap::counting = false;
    const auto transient = heap::peak.load() - kept;
    MESSAGE(bytes.size() << " bytes of index: " << kept << " bytes of descriptors, " << transient << " more at the peak");
    CHECK(parsed->manifests.size() == 10000);
    CHECK(parsed->serialize() == bytes);
    // A tree of every entry costs about three times the document; one
    // entry's tree at a time costs nothing to speak of (what is left is
    // the descriptors' vector growing).
    CHECK(transient < static_cast<std::int64_t>(bytes.size()));
#endif
}
