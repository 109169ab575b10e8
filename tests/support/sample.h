#pragma once
// Test support: small artifact graphs pushed into any Target.

#include <random>
#include <string>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::test {

// random_bytes is incompressible content unique to this run (skopeo and the
// registry must not find it anywhere already).
inline std::string random_bytes(std::size_t n) {
    std::mt19937_64 rng{std::random_device{}()};
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// Sample is an artifact manifest (empty config, artifactType, N layers)
// that has been pushed and tagged.
struct Sample {
    oci::Descriptor manifest;
    std::string manifest_bytes;
    std::vector<oci::Descriptor> layers;
    std::vector<std::string> layer_bytes;
};

// push_sample pushes `layers` text layers whose contents start with `seed`,
// an empty config and the manifest, and tags it `tag` (unless empty).
inline Sample push_sample(content::Target& t, const std::string& seed, int layers, const std::string& tag) {
    Sample s;
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor()};
    content::push_bytes(t, m.config, "{}");
    for (int i = 0; i < layers; ++i) {
        std::string bytes = seed + " layer " + std::to_string(i) + "\n";
        auto d = oci::Descriptor::for_bytes("text/plain", bytes);
        d.annotations.emplace(oci::annotations::title, "file" + std::to_string(i) + ".txt");
        content::push_bytes(t, d, bytes);
        s.layers.push_back(d);
        s.layer_bytes.push_back(bytes);
        m.layers.push_back(d);
    }
    m.annotations.emplace("org.example.seed", seed);
    s.manifest_bytes = m.serialize();
    s.manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), s.manifest_bytes);
    s.manifest.artifact_type = m.artifact_type;
    content::push_bytes(t, s.manifest, s.manifest_bytes);
    if (!tag.empty()) t.tag(s.manifest, tag);
    return s;
}

}  // namespace sealrun::test
