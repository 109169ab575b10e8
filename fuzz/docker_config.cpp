// docker's config.json as docker_credentials reads it (auths, auth,
// username/password, identitytoken, credHelpers, credsStore). Whatever the
// file holds, reading it fails only with a sealrun::Error, and no error
// message quotes the file (it holds passwords). Credential helpers are
// never found: PATH is emptied first.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <vector>

#include "common.h"
#include "remote/auth.h"

namespace {
std::string config_path;

// quotes reports whether `what` holds `text[at, at + n)`. A plain byte loop
// on purpose: std::string::find goes through memcmp, which libFuzzer
// intercepts and learns from, so the fuzzer would copy the error message's
// own words into its inputs and find them "quoted".
bool quotes(const std::string& what, std::string_view text, std::size_t at, std::size_t n) {
    for (std::size_t i = 0; i + n <= what.size(); ++i) {
        std::size_t k = 0;
        while (k < n && what[i + k] == text[at + k]) ++k;
        if (k == n) return true;
    }
    return false;
}
// collect_secrets gathers every string value under a key docker keeps a
// secret in, at any depth.
void collect_secrets(const nlohmann::json& j, std::vector<std::string>& out) {
    if (j.is_object()) {
        for (const auto& [key, value] : j.items()) {
            if (value.is_string() && (key == "auth" || key == "password" || key == "identitytoken" || key == "registrytoken"))
                out.push_back(value.get<std::string>());
            collect_secrets(value, out);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) collect_secrets(v, out);
    }
}
}  // namespace

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
            const auto doc = nlohmann::json::parse(text, nullptr, false);
            if (doc.is_discarded()) {
                // Malformed: the message may say where, never what.
                constexpr std::size_t window = 16;
                for (std::size_t i = 0; i + window <= text.size(); ++i)
                    FUZZ_EXPECT(!quotes(what, text, i, window),
                                "error quotes the credentials file: " + what.substr(0, 300));
            } else {
                // Well-formed: keys (hosts, field names) may be named, secrets never.
                std::vector<std::string> secrets;
                collect_secrets(doc, secrets);
                for (const auto& secret : secrets)
                    FUZZ_EXPECT(secret.size() < 4 || !quotes(what, secret, 0, secret.size()),
                                "error quotes a secret: " + what.substr(0, 300));
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "escaped exception %s: %s\n", typeid(e).name(), e.what());
            std::abort();
        }
    }
    return 0;
}
