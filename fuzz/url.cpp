// Location and Link targets a registry sends are resolved with
// resolve_url against the request URL and compared by origin(). Input:
// base URL, "\n@@@\n", location. Neither may throw anything but
// sealrun::Error, and a resolved URL has an origin.
#include "common.h"
#include "remote/url.h"

namespace detail = sealrun::remote::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parts = fuzz::split(fuzz::bytes(data, size));
    if (parts.size() != 2) return 0;
    for (const auto& p : parts)
        if (p.find('\0') != std::string::npos) return 0;  // headers and URLs never hold NUL
    std::string own;
    if (!fuzz::guarded([&] { own = detail::origin(parts[0]); })) return 0;
    std::string next;
    if (!fuzz::guarded([&] { next = detail::resolve_url(parts[0], parts[1]); })) return 0;
    std::string theirs;
    FUZZ_EXPECT(fuzz::guarded([&] { theirs = detail::origin(next); }), "origin threw on a resolved URL");
    FUZZ_EXPECT(!theirs.empty(), "resolved URL has no origin: " + next.substr(0, 300));
    return 0;
}
