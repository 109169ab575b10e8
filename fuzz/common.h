#pragma once
// Shared helpers of the libFuzzer targets (see fuzz/meson.build and
// `bash tools/run fuzz`). A target may fail only with sealrun::Error: any
// other exception, a broken invariant or a sanitizer report is a finding.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "sealrun/error.h"

namespace fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// expect prints `what` and aborts when an invariant fails.
#define FUZZ_EXPECT(cond, what)                                                                  \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s: %s\n", __FILE__, __LINE__, \
                         #cond, std::string(what).c_str());                                      \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

// guarded runs `f`, which may throw sealrun::Error (a clean refusal) and
// nothing else; returns whether it completed.
template <class F>
bool guarded(F&& f) {
    try {
        f();
        return true;
    } catch (const sealrun::Error&) {
        return false;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "escaped exception %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
}

// split cuts `input` at every "\n@@@\n": multi-document inputs (a graph of
// blobs, a header and a base URL) keep each part easy to mutate.
inline std::vector<std::string> split(std::string_view input) {
    static constexpr std::string_view sep = "\n@@@\n";
    std::vector<std::string> out;
    for (;;) {
        const auto at = input.find(sep);
        out.emplace_back(input.substr(0, at));
        if (at == std::string_view::npos) return out;
        input.remove_prefix(at + sep.size());
    }
}

}  // namespace fuzz
