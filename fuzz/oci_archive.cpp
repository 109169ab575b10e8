// oci-archive import: import_archive unpacks a fuzz-made tar into a scratch
// layout. It fails only with sealrun::Error, writes nothing outside the
// layout, creates no symlink, and never expands a small archive into a
// large file (files are capped at 1 MiB with RLIMIT_FSIZE, far above any
// input, so hitting the cap means unbounded expansion: libFuzzer reports the
// SIGXFSZ as "file size exceeded", or with -handle_xfsz=0 the write fails
// with EFBIG and the check below names it).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common.h"
#include "sealrun/content/oci_archive.h"

namespace fs = std::filesystem;

namespace {
fs::path scratch;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    scratch = fs::temp_directory_path() / ("sealrun-fuzz-archive-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{1 << 20, 1 << 20};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    std::atexit([] { fs::remove_all(scratch); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto archive = scratch / "in.tar";
    const auto layout = scratch / "layout";
    fs::remove_all(layout);
    std::ofstream(archive, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    try {
        sealrun::content::import_archive(archive, layout);
    } catch (const sealrun::Error& e) {
        FUZZ_EXPECT(std::string(e.what()).find("File too large") == std::string::npos,
                    "a " + std::to_string(size) + "-byte archive expands past 1 MiB: " + e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "escaped exception %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
    for (const auto& entry : fs::directory_iterator(scratch))
        FUZZ_EXPECT(entry.path() == archive || entry.path() == layout, "wrote outside the layout: " + entry.path().string());
    std::error_code ec;
    if (fs::exists(layout))
        for (auto it = fs::recursive_directory_iterator(layout, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            FUZZ_EXPECT(!it->is_symlink(), "import created a symlink: " + it->path().string());
    return 0;
}
