#include "sealrun/oci/tag.h"

#include <string>

#include "sealrun/error.h"
#include "sealrun/oci/digest.h"

namespace sealrun::oci {

bool is_valid_tag(std::string_view reference) noexcept {
    if (reference.empty() || reference.size() > 128) return false;
    auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
    if (!word(reference.front())) return false;
    for (char c : reference)
        if (!word(c) && c != '.' && c != '-') return false;
    return true;
}

void check_tag(std::string_view reference) {
    if (!is_valid_tag(reference))
        throw Error(Errc::invalid_input, "check tag", "\"" + std::string(reference.substr(0, 200)) + "\"",
                    "a tag is 1 to 128 of [a-zA-Z0-9_.-] and starts with a letter, digit or '_'");
}

bool is_digest_reference(std::string_view reference) noexcept {
    if (reference.find(':') == std::string_view::npos) return false;
    try {
        (void)Digest::parse(reference);
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace sealrun::oci
