// oci-archive reading: OciArchive indexes a fuzz-made tar's headers in place
// (tar_format.cpp, the one parser of tar headers sealrun has), parses its
// index.json, then every tag is resolved and every indexed blob read through
// the verifying fetch. It fails only with sealrun::Error, reads no member
// past the file's end (ASan would see a short pread buffer; the index keeps
// each member within the file), and writes nothing: the fuzz folder holds
// the input file alone afterwards.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common.h"
#include "content/archive_access.h"
#include "sealrun/content/oci_archive.h"

namespace fs = std::filesystem;

namespace {
fs::path scratch;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    scratch = fs::temp_directory_path() / ("sealrun-fuzz-archive-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    std::atexit([] { fs::remove_all(scratch); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sealrun;
    const auto file = scratch / "in.tar";
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    fuzz::guarded([&] {
        content::OciArchive archive(file, {.max_members = 10000});
        for (const auto& [name, member] : content::detail::ArchiveAccess::members(archive).members)
            FUZZ_EXPECT(member.offset + member.size <= size, name + " lies past the end of the file");
        for (const auto& tag : archive.tags()) {
            fuzz::guarded([&] {
                const auto d = archive.resolve(tag);
                content::read_all(archive, d, 1 << 20);
            });
        }
        for (const auto& d : archive.index().manifests)
            fuzz::guarded([&] { content::read_all(archive, d, 1 << 20); });
    });
    for (const auto& entry : fs::directory_iterator(scratch))
        FUZZ_EXPECT(entry.path() == file, "reading wrote " + entry.path().string());
    return 0;
}
