// The demo behind `bash tools/run demo`.
//
// What exists today is the foundation: the OCI core, the local OCI-layout
// store and the copy engine. So the demo seals a run's files by hand into an
// OCI artifact (one layer per file, the way sealed runs will be stored),
// copies it to a second layout, reads every file back verified, and shows
// that a corrupted blob is caught. Recording runs through the library
// (save_file, Experiment, Run) and the `sealrun` CLI come with later work.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/manifest.h>

namespace fs = std::filesystem;
using namespace sealrun;

namespace {

// A toy optimization: gradient descent on f(x) = (x - 3)^2.
nlohmann::json descend(double lr, int steps, std::string& curve) {
    double x = 0;
    for (int i = 0; i < steps; ++i) {
        x -= lr * 2 * (x - 3);
        curve += nlohmann::json{{"step", i}, {"x", x}, {"loss", (x - 3) * (x - 3)}}.dump() + "\n";
    }
    return {{"lr", lr}, {"steps", steps}, {"x", x}, {"loss", (x - 3) * (x - 3)}};
}

oci::Descriptor add_file(content::Target& store, oci::ImageManifest& m, std::string media_type,
                         const std::string& name, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(std::move(media_type), bytes);
    d.annotations.emplace(oci::annotations::title, name);
    content::push_bytes(store, d, bytes);
    m.layers.push_back(d);
    return d;
}

int run(const fs::path& out) {
    fs::remove_all(out);
    content::OciLayout store(out / "storage");
    std::cout << "sealrun demo: the foundation (OCI layout store + copy engine)\n\n";

    std::string curve;
    const auto result = descend(0.1, 25, curve);
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.run.v1", .config = oci::empty_descriptor()};
    content::push_bytes(store, m.config, "{}");
    add_file(store, m, "application/json", "result.json", oci::canonical_json(result));
    add_file(store, m, "application/jsonl", "curve.jsonl", curve);
    add_file(store, m, "text/plain", "notes.txt", "gradient descent on (x-3)^2\n");
    const auto bytes = m.serialize();
    const auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(store, root, bytes);
    store.tag(root, "gd-lr0.1");
    std::cout << "sealed 3 files as " << root.digest.str() << "\n  tag gd-lr0.1 in " << store.root().string() << "\n";

    content::OciLayout copy(out / "copy");
    std::size_t moved = 0;
    content::copy(store, "gd-lr0.1", copy, "", {.on_copied = [&](const oci::Descriptor&) { ++moved; }});
    std::cout << "copied to " << copy.root().string() << " (" << moved << " blobs)\n";

    const auto back = oci::ImageManifest::parse(content::read_all(copy, copy.resolve("gd-lr0.1"), oci::max_manifest_size));
    for (const auto& l : back.layers)
        std::cout << "  " << l.annotations.at(std::string(oci::annotations::title)) << "  " << l.media_type << "  "
                  << l.size << " bytes, verified\n";
    const auto got = nlohmann::json::parse(content::read_all(copy, back.layers[0], 1 << 20));
    std::cout << "result.json says x = " << got["x"] << ", loss = " << got["loss"] << "\n";

    // Flip one byte of a stored blob: reading it is refused, naming the digest.
    const auto victim = copy.blob_path(back.layers[1].digest);
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('#');
    f.close();
    try {
        (void)content::read_all(copy, back.layers[1], 1 << 20);
        std::cout << "corruption went unnoticed: this is a bug\n";
        return 1;
    } catch (const Error& e) {
        std::cout << "after corrupting one blob on disk: " << e.what() << "\n";
    }
    std::cout << "\nLook at it with skopeo: skopeo inspect --raw oci:" << (out / "storage").string() << ":gd-lr0.1\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path out = argc > 1 ? argv[1] : "demo-output";
    try {
        return run(out);
    } catch (const Error& e) {
        std::cerr << "sealrun-demo: " << e.what() << "\n";
        return 1;
    }
}
