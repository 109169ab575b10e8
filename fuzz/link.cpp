// The Link header a registry sends to page a tag list or a referrers list
// (RFC 8288): next_link never throws, and what it returns is a piece of the
// header between '<' and '>'; resolving it against the request URL may
// fail only with sealrun::Error, and a resolved URL has an origin.
#include "common.h"
#include "remote/url.h"

namespace detail = sealrun::remote::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto header = fuzz::bytes(data, size);
    std::optional<std::string> next;
    FUZZ_EXPECT(fuzz::guarded([&] { next = detail::next_link(header); }), "next_link threw");
    if (!next) return 0;
    FUZZ_EXPECT(next->find('>') == std::string::npos, "a link target holds '>'");
    FUZZ_EXPECT(header.find("<" + *next + ">") != std::string_view::npos, "the target is not a <...> piece of the header");
    if (next->find('\0') != std::string::npos) return 0;  // headers never hold NUL
    std::string url;
    if (!fuzz::guarded([&] { url = detail::resolve_url("http://127.0.0.1:5000/v2/r/tags/list?n=2", *next); })) return 0;
    FUZZ_EXPECT(!detail::origin(url).empty(), "resolved URL has no origin: " + url.substr(0, 300));
    return 0;
}
