#include <doctest/doctest.h>

#include "support/expect.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sealrun/error.h"
#include "sealrun/oci/media_type.h"

using sealrun::Errc;
using sealrun::Error;
using namespace sealrun::oci;

using sealrun::test::error_of;
using sealrun::test::has;

namespace {

// Checks that `text` is rejected with a problem that mentions `why`, by
// media_type_problem, is_media_type and check_media_type alike.
void check_rejected(const std::string& text, std::string_view why) {
    CAPTURE(text);
    const auto problem = media_type_problem(text);
    CAPTURE(problem);
    CHECK_FALSE(problem.empty());
    CHECK(has(problem, why));
    CHECK_FALSE(is_media_type(text));
    const auto e = error_of([&] { check_media_type(text, "some.field"); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(has(e->what(), why));
}

void check_accepted(std::string_view text) {
    CAPTURE(text);
    CHECK(media_type_problem(text).empty());
    CHECK(is_media_type(text));
    CHECK_NOTHROW(check_media_type(text, "some.field"));
}

}  // namespace

TEST_CASE("media type: accepts valid names") {
    check_accepted("application/vnd.oci.image.manifest.v1+json");
    check_accepted("text/plain");
    check_accepted("application/vnd.sealrun.run.v1");
    check_accepted("application/vnd.oci.image.layer.v1.tar+gzip");
    check_accepted("application/vnd.oci.image.layer.v1.tar+zstd");
    check_accepted("application/vnd.docker.container.image.v1+json");
    check_accepted("Text/Plain");
    check_accepted("1/2");
    check_accepted("a/b");
    // Every restricted-name-char after the first.
    check_accepted("a!#$&-^_.+z/b!#$&-^_.+z");
}

TEST_CASE("media type: every constant in media_types is valid") {
    for (std::string_view mt : {media_types::image_manifest, media_types::image_index, media_types::image_config,
                                media_types::layer_tar, media_types::empty, media_types::docker_manifest,
                                media_types::docker_manifest_list, media_types::octet_stream})
        check_accepted(mt);
}

TEST_CASE("media type: rejects parameters") {
    check_rejected("text/plain; charset=utf-8", "parameters");
    check_rejected("text/plain;charset=utf-8", "parameters");
    check_rejected("application/json;q=1", "parameters");
    check_rejected("text/plain=1", "parameters");
}

TEST_CASE("media type: rejects a missing slash") {
    check_rejected("textplain", "missing '/'");
    check_rejected("application", "missing '/'");
    check_rejected("", "missing '/'");
}

TEST_CASE("media type: rejects empty sides") {
    check_rejected("/plain", "type is empty");
    check_rejected("text/", "subtype is empty");
    check_rejected("/", "empty");
}

TEST_CASE("media type: each side holds at most 127 characters") {
    const std::string s127(127, 'a');
    const std::string s128(128, 'a');
    check_accepted(s127 + "/plain");
    check_accepted("text/" + s127);
    check_accepted(s127 + "/" + s127);
    check_rejected(s128 + "/plain", "type is longer than 127");
    check_rejected("text/" + s128, "subtype is longer than 127");
    check_rejected(s128 + "/" + s128, "longer than 127");
    check_rejected("text/" + std::string(10000, 'a'), "longer than 127");
}

TEST_CASE("media type: rejects leading punctuation") {
    for (const char* bad : {"+text/plain", "-text/plain", ".text/plain", "_text/plain", "!text/plain", "#a/b",
                            "$a/b", "&a/b", "^a/b"})
        check_rejected(bad, "type must start with a letter or digit");
    for (const char* bad : {"text/+plain", "text/.plain", "text/-plain", "a/_b", "a/!b", "a/^b"})
        check_rejected(bad, "subtype must start with a letter or digit");
}

TEST_CASE("media type: rejects spaces and characters outside restricted-name") {
    for (const char* bad : {" text/plain", "text/ plain"}) check_rejected(bad, "start with a letter or digit");
    for (const char* bad : {"text/plain ", "text /plain", "text/pl ain"}) {
        CAPTURE(bad);
        CHECK_FALSE(is_media_type(bad));
    }
    for (const char* bad : {"text/pl@in", "te(t/plain", "a/b/c", "t\xc3\xa9xt/plain", "text/plain\n", "text/pl\tain",
                            "a/b,c", "a/b\"c", "a/b*c", "a/b%c"})
        check_rejected(bad, "restricted-name");
    CHECK_FALSE(is_media_type(std::string("text/pla\0in", 11)));
}

TEST_CASE("media type: check_media_type throws invalid_input naming the field") {
    const auto e = error_of([] { check_media_type("text/plain; charset=utf-8", "layers[3].mediaType"); });
    REQUIRE(e.has_value());
    CHECK(e->code() == Errc::invalid_input);
    CHECK(e->subject() == "layers[3].mediaType");
    CHECK(has(e->what(), "layers[3].mediaType"));
    CHECK(has(e->what(), "text/plain; charset=utf-8"));
    CHECK(has(e->reason(), "parameters"));

    const auto f = error_of([] { check_media_type("nope", "artifactType"); });
    REQUIRE(f.has_value());
    CHECK(f->code() == Errc::invalid_input);
    CHECK(f->subject() == "artifactType");
    CHECK(has(f->what(), "artifactType"));
    CHECK(has(f->what(), "missing '/'"));

    // A huge value is not echoed in full.
    const std::string huge = "a/" + std::string(100000, 'b');
    const auto g = error_of([&] { check_media_type(huge, "config.mediaType"); });
    REQUIRE(g.has_value());
    CHECK(std::string(g->what()).size() < 1000);
}

TEST_CASE("media type: is_manifest_type, is_index_type and is_node_type") {
    CHECK(is_manifest_type(media_types::image_manifest));
    CHECK(is_manifest_type(media_types::docker_manifest));
    CHECK(is_index_type(media_types::image_index));
    CHECK(is_index_type(media_types::docker_manifest_list));

    CHECK_FALSE(is_manifest_type(media_types::image_index));
    CHECK_FALSE(is_manifest_type(media_types::docker_manifest_list));
    CHECK_FALSE(is_index_type(media_types::image_manifest));
    CHECK_FALSE(is_index_type(media_types::docker_manifest));
    for (std::string_view node : {media_types::image_manifest, media_types::docker_manifest, media_types::image_index,
                                  media_types::docker_manifest_list})
        CHECK(is_node_type(node));

    for (std::string_view other : {media_types::image_config, media_types::layer_tar, media_types::empty,
                                   media_types::octet_stream, std::string_view(""), std::string_view("text/plain"),
                                   std::string_view("application/vnd.oci.image.manifest.v1+JSON"),
                                   std::string_view("application/vnd.oci.image.manifest.v1+json "),
                                   std::string_view("application/vnd.oci.image.index.v1"),
                                   std::string_view("application/vnd.docker.distribution.manifest.v1+json")}) {
        CAPTURE(other);
        CHECK_FALSE(is_manifest_type(other));
        CHECK_FALSE(is_index_type(other));
        CHECK_FALSE(is_node_type(other));
    }
}

TEST_CASE("media type: the OCI constants have their published values") {
    CHECK(media_types::image_manifest == "application/vnd.oci.image.manifest.v1+json");
    CHECK(media_types::image_index == "application/vnd.oci.image.index.v1+json");
    CHECK(media_types::image_config == "application/vnd.oci.image.config.v1+json");
    CHECK(media_types::layer_tar == "application/vnd.oci.image.layer.v1.tar");
    CHECK(media_types::empty == "application/vnd.oci.empty.v1+json");
    CHECK(media_types::docker_manifest == "application/vnd.docker.distribution.manifest.v2+json");
    CHECK(media_types::docker_manifest_list == "application/vnd.docker.distribution.manifest.list.v2+json");
    CHECK(media_types::octet_stream == "application/octet-stream");
}
