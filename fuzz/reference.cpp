// Registry references and tags: Reference::parse refuses cleanly, or gives
// parts that each obey the distribution-spec grammar and that print back to
// a reference parsing to the same parts.
#include "common.h"
#include "sealrun/oci/tag.h"
#include "sealrun/remote/reference.h"

namespace {

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The reference grammar's domain (distribution/reference): a dotted name of
// [a-zA-Z0-9-] components not starting or ending with '-', or a bracketed
// IPv6 literal, then an optional ":" port of digits. Written here
// independently of reference.cpp, as the oracle.
bool oracle_host(std::string_view h) {
    std::string_view name = h;
    if (const auto colon = h.rfind(':'); colon != std::string_view::npos && (h.front() != '[' || colon > h.find(']'))) {
        const auto port = h.substr(colon + 1);
        if (port.empty()) return false;
        for (char c : port)
            if (c < '0' || c > '9') return false;
        name = h.substr(0, colon);
    }
    if (name.empty()) return false;
    if (name.front() == '[') {
        if (name.size() < 3 || name.back() != ']') return false;
        for (char c : name.substr(1, name.size() - 2))
            if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':')) return false;
        return true;
    }
    for (std::size_t s = 0; s <= name.size();) {
        auto e = name.find('.', s);
        if (e == std::string_view::npos) e = name.size();
        const auto part = name.substr(s, e - s);
        if (part.empty() || !alnum(part.front()) || !alnum(part.back())) return false;
        for (char c : part)
            if (!alnum(c) && c != '-') return false;
        s = e + 1;
    }
    return true;
}

// Loopback means localhost, an IPv4 literal 127.x.y.z or [::1], each with
// an optional port; "127.example.com" is a DNS name anyone may own.
bool oracle_loopback(std::string_view h) {
    if (h == "[::1]" || h.starts_with("[::1]:")) return true;
    h = h.substr(0, h.find(':'));
    if (h == "localhost") return true;
    int octets = 0;
    for (std::size_t s = 0; s <= h.size(); ++octets) {
        auto e = h.find('.', s);
        if (e == std::string_view::npos) e = h.size();
        const auto part = h.substr(s, e - s);
        if (part.empty() || part.size() > 3) return false;
        int v = 0;
        for (char c : part) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v > 255 || (octets == 0 && v != 127)) return false;
        s = e + 1;
    }
    return octets == 4;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using sealrun::remote::Reference;
    const auto text = fuzz::bytes(data, size);
    const bool tag_ok = sealrun::oci::is_valid_tag(text);
    FUZZ_EXPECT(tag_ok == fuzz::guarded([&] { sealrun::oci::check_tag(text); }), "is_valid_tag and check_tag disagree");
    if (tag_ok) FUZZ_EXPECT(!sealrun::oci::is_digest_reference(text), "a tag is also a digest reference");
    Reference r;
    if (!fuzz::guarded([&] { r = Reference::parse(text); })) return 0;
    FUZZ_EXPECT(oracle_host(r.registry), "accepted registry host \"" + r.registry + "\"");
    FUZZ_EXPECT(sealrun::remote::is_valid_repository(r.repository), "accepted repository \"" + r.repository + "\"");
    FUZZ_EXPECT(r.tag.empty() || sealrun::oci::is_valid_tag(r.tag), "accepted tag \"" + r.tag + "\"");
    Reference again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = Reference::parse(r.str()); }), "str() does not parse: " + r.str());
    FUZZ_EXPECT(again.registry == r.registry && again.repository == r.repository && again.tag == r.tag &&
                    again.digest == r.digest,
                "str() does not round-trip: " + r.str());
    if (r.is_loopback())
        FUZZ_EXPECT(oracle_loopback(r.registry), "loopback claimed for \"" + r.registry + "\"");
    return 0;
}
