// Interoperability with a client nobody here wrote: skopeo (Debian 12 ships
// 1.9). It must read what sealrun writes, and sealrun must read what it writes.
#include <doctest/doctest.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

test::RunResult skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), {"skopeo", "--insecure-policy"});
    return test::run(args);
}

// A gzip'd tar with one file, made by the system's tar: a real image layer.
std::string make_layer(const test::TempDir& dir) {
    test::write_file(dir / "rootfs/hello.txt", "hello from a real layer\n");
    const auto r = test::run({"tar", "-czf", (dir / "layer.tar.gz").string(), "-C", (dir / "rootfs").string(), "."});
    REQUIRE(r.exit_code == 0);
    return test::read_file(dir / "layer.tar.gz");
}

}  // namespace

TEST_CASE("skopeo: copies a layout sealrun wrote, manifests byte for byte") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    test::Sample s = [&] {
        content::OciLayout layout(dir / "ours");
        return test::push_sample(layout, "interop", 3, "v1");
    }();
    const auto r = skopeo({"copy", "oci:" + (dir / "ours").string() + ":v1", "oci:" + (dir / "theirs").string() + ":v1"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    content::OciLayout theirs(dir / "theirs");
    const auto root = theirs.resolve("v1");
    CHECK(root.digest == s.manifest.digest);
    CHECK(content::read_all(theirs, root, oci::max_manifest_size) == s.manifest_bytes);
    for (std::size_t i = 0; i < s.layers.size(); ++i)
        CHECK(content::read_all(theirs, s.layers[i], 1 << 20) == s.layer_bytes[i]);
    // skopeo's own inspection reads our manifest as ours.
    const auto raw = skopeo({"inspect", "--raw", "oci:" + (dir / "theirs").string() + ":v1"});
    REQUIRE(raw.exit_code == 0);
    CHECK(oci::parse_json_strict(raw.output, "skopeo output")["artifactType"] == "application/vnd.sealrun.test.v1");
}

TEST_CASE("skopeo: sealrun reads, verifies and copies a layout skopeo wrote") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    // A Docker-format image in skopeo's dir: transport, which skopeo converts
    // to OCI as it writes the layout: every JSON document there is skopeo's.
    const auto layer = make_layer(dir);
    const auto layer_desc = oci::Descriptor::for_bytes("application/vnd.docker.image.rootfs.diff.tar.gzip", layer);
    const nlohmann::json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"config", nlohmann::json::object()},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {oci::Digest::of(std::string("placeholder")).str()}}}},
    };
    const auto config_bytes = config.dump();
    const auto config_desc = oci::Descriptor::for_bytes("application/vnd.docker.container.image.v1+json", config_bytes);
    const nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", oci::media_types::docker_manifest},
        {"config", config_desc.to_json()},
        {"layers", {layer_desc.to_json()}},
    };
    const auto img = dir / "dirimage";
    test::write_file(img / "version", "Directory Transport Version: 1.1\n");
    test::write_file(img / "manifest.json", manifest.dump());
    test::write_file(img / std::string(config_desc.digest.encoded()), config_bytes);
    test::write_file(img / std::string(layer_desc.digest.encoded()), layer);
    const auto r = skopeo({"copy", "--format", "oci", "dir:" + img.string(), "oci:" + (dir / "layout").string() + ":img"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);

    content::OciLayout layout(dir / "layout");
    const auto root = layout.resolve("img");
    CHECK(root.media_type == oci::media_types::image_manifest);
    const auto m = oci::ImageManifest::parse(content::read_all(layout, root, oci::max_manifest_size));
    REQUIRE(m.layers.size() == 1);
    CHECK(m.layers[0].digest == layer_desc.digest);  // the layer bytes are unchanged
    CHECK(m.config.media_type == oci::media_types::image_config);
    content::MemoryTarget copy;
    content::copy(layout, "img", copy, "");
    CHECK(content::read_all(copy, m.layers[0], 1 << 20) == layer);
    CHECK(copy.resolve("img").digest == root.digest);
}
