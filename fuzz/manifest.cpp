// Image manifests and indexes (and successors(), which the copy engine runs
// on every node it fetches): refuse cleanly, or serialize to bytes that
// parse back to the same document.
#include "common.h"
#include "sealrun/oci/manifest.h"

namespace oci = sealrun::oci;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    oci::ImageManifest m;
    if (fuzz::guarded([&] { m = oci::ImageManifest::parse(text); })) {
        std::string bytes;
        if (fuzz::guarded([&] { bytes = m.serialize(); })) {
            oci::ImageManifest again;
            FUZZ_EXPECT(fuzz::guarded([&] { again = oci::ImageManifest::parse(bytes); }),
                        "serialized manifest does not parse: " + bytes.substr(0, 300));
            FUZZ_EXPECT(again.serialize() == bytes, "manifest serialization is not stable");
        }
    }
    oci::ImageIndex i;
    if (fuzz::guarded([&] { i = oci::ImageIndex::parse(text); })) {
        std::string bytes;
        if (fuzz::guarded([&] { bytes = i.serialize(); })) {
            oci::ImageIndex again;
            FUZZ_EXPECT(fuzz::guarded([&] { again = oci::ImageIndex::parse(bytes); }),
                        "serialized index does not parse: " + bytes.substr(0, 300));
            FUZZ_EXPECT(again.serialize() == bytes, "index serialization is not stable");
        }
    }
    for (auto type : {oci::media_types::image_manifest, oci::media_types::docker_manifest_list}) {
        const auto d = oci::Descriptor::for_bytes(std::string(type), text);
        fuzz::guarded([&] { (void)oci::successors(d, text); });
    }
    return 0;
}
