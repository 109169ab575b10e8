// docker's config.json as docker_credentials reads it (auths, auth,
// username/password, identitytoken, credHelpers, credsStore). Whatever the
// file holds, reading it fails only with a sealrun::Error, and no error
// message quotes the file (it holds passwords). Credential helpers are
// never found: PATH is emptied first.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common.h"
#include "remote/auth.h"

namespace {
std::string config_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const auto dir = std::filesystem::temp_directory_path() / ("sealrun-fuzz-docker-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    config_path = (dir / "config.json").string();
    ::setenv("PATH", "/nonexistent", 1);
    std::atexit([] { std::filesystem::remove_all(std::filesystem::path(config_path).parent_path()); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    std::ofstream(config_path, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const char* host : {"reg.example:5000", "reg.example"}) {
        try {
            (void)sealrun::remote::detail::docker_credentials(host, config_path);
        } catch (const sealrun::Error& e) {
            const std::string what = e.what();
            constexpr std::size_t window = 16;
            for (std::size_t i = 0; i + window <= text.size(); ++i)
                FUZZ_EXPECT(what.find(text.substr(i, window)) == std::string::npos,
                            "error quotes the credentials file: " + what.substr(0, 300));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "escaped exception %s: %s\n", typeid(e).name(), e.what());
            std::abort();
        }
    }
    return 0;
}
