// The directory codec: TarCodec::decode refuses cleanly, or gives a safe
// tree (relative names, links inside) that encodes to a tar decoding to
// the same tree.
#include "common.h"
#include "sealrun/codecs/tar.h"
#include "sealrun/path.h"

namespace codecs = sealrun::codecs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    codecs::DirectoryTree tree;
    if (!fuzz::guarded([&] { tree = codecs::TarCodec::decode(fuzz::bytes(data, size)); })) return 0;
    for (const auto& e : tree.entries) {
        std::string safe;
        FUZZ_EXPECT(fuzz::guarded([&] { safe = sealrun::safe_relative_path(e.path); }) && safe == e.path,
                    "unsafe entry name \"" + e.path + "\"");
    }
    std::string bytes;
    FUZZ_EXPECT(fuzz::guarded([&] { bytes = codecs::TarCodec::encode(tree); }), "decoded tree does not encode");
    codecs::DirectoryTree again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = codecs::TarCodec::decode(bytes); }), "encoded tree does not decode");
    FUZZ_EXPECT(again == tree, "tree does not round-trip");
    return 0;
}
