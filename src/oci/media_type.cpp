#include "sealrun/oci/media_type.h"

#include "sealrun/error.h"

namespace sealrun::oci {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_restricted_char(char c) {
    switch (c) {
    case '!': case '#': case '$': case '&': case '-': case '^': case '_': case '.': case '+':
        return true;
    default:
        return is_alnum(c);
    }
}

// restricted-name = restricted-name-first *126restricted-name-chars (RFC 6838 §4.2)
std::string name_problem(std::string_view name, std::string_view side) {
    if (name.empty()) return std::string(side) + " is empty";
    if (name.size() > 127) return std::string(side) + " is longer than 127 characters";
    if (!is_alnum(name.front())) return std::string(side) + " must start with a letter or digit";
    for (char c : name) {
        if (c == ';' || c == ' ' || c == '=') return "parameters are not allowed";
        if (!is_restricted_char(c))
            return std::string(side) + " holds a character outside RFC 6838 restricted-name";
    }
    return {};
}

}  // namespace

std::string media_type_problem(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return "missing '/' between type and subtype";
    if (auto p = name_problem(text.substr(0, slash), "type"); !p.empty()) return p;
    return name_problem(text.substr(slash + 1), "subtype");
}

void check_media_type(std::string_view text, std::string_view field) {
    if (auto p = media_type_problem(text); !p.empty()) {
        std::string shown(text.substr(0, 300));
        throw Error(Errc::invalid_input, "check media type", std::string(field),
                    "\"" + shown + "\": " + p);
    }
}

bool is_manifest_type(std::string_view media_type) noexcept {
    return media_type == media_types::image_manifest || media_type == media_types::docker_manifest;
}

bool is_index_type(std::string_view media_type) noexcept {
    return media_type == media_types::image_index || media_type == media_types::docker_manifest_list;
}

bool is_node_type(std::string_view media_type) noexcept {
    return is_manifest_type(media_type) || is_index_type(media_type);
}

}  // namespace sealrun::oci
