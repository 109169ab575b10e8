// WWW-Authenticate challenges (RFC 9110 §11.6.1), as a registry's 401 sends
// them: parse_challenges never fails, and gives lowercase schemes and keys.
#include "common.h"
#include "remote/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<sealrun::remote::detail::Challenge> cs;
    FUZZ_EXPECT(fuzz::guarded([&] { cs = sealrun::remote::detail::parse_challenges(fuzz::bytes(data, size)); }),
                "parse_challenges threw");
    for (const auto& c : cs) {
        for (char ch : c.scheme) FUZZ_EXPECT(!(ch >= 'A' && ch <= 'Z'), "scheme not lowercased");
        for (const auto& [k, v] : c.params) {
            FUZZ_EXPECT(!k.empty(), "empty parameter name");
            for (char ch : k) FUZZ_EXPECT(!(ch >= 'A' && ch <= 'Z'), "parameter name not lowercased");
            FUZZ_EXPECT(v.size() <= size, "parameter value longer than the header");
        }
    }
    return 0;
}
