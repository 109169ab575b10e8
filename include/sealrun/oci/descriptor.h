#pragma once
/// Content descriptors, image-spec v1.1 descriptor.md.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/oci/digest.h"

namespace sealrun::oci {

/// Annotation keys sealrun reads or writes (image-spec annotations.md).
namespace annotations {
/// title names a layer's file (an attachment's name).
inline constexpr std::string_view title = "org.opencontainers.image.title";
/// ref_name is the tag of an entry of an OCI layout's index.json.
inline constexpr std::string_view ref_name = "org.opencontainers.image.ref.name";
/// created is the creation time (RFC 3339).
inline constexpr std::string_view created = "org.opencontainers.image.created";
}  // namespace annotations

/// Descriptor points at content by media type, digest and size.
///
/// Byte strings in sealrun (blob contents, `data`) are held in std::string.
struct Descriptor {
    /// media_type is the type of the content described.
    std::string media_type;
    /// digest is the content's digest.
    Digest digest;
    std::int64_t size = 0;
    /// urls are where else the content may be fetched from.
    std::vector<std::string> urls;
    std::map<std::string, std::string> annotations;
    /// Embedded content, already base64-decoded.
    std::optional<std::string> data;
    /// artifact_type is the described artifact's type, when it has one.
    std::optional<std::string> artifact_type;
    /// Index entries only; kept as it was read.
    std::optional<nlohmann::json> platform;

    /// for_bytes describes `bytes` under `media_type` (sha256).
    static Descriptor for_bytes(std::string media_type, std::string_view bytes);

    /// to_json returns the descriptor as image-spec JSON.
    nlohmann::json to_json() const;

    /// from_json reads a descriptor strictly; throws Error(invalid_input)
    /// naming `path` and the field on a missing or mistyped field, a bad
    /// digest or media type, a negative size, or `data` that does not match
    /// the digest and size.
    static Descriptor from_json(const nlohmann::json& value, const std::string& path);

    /// Two descriptors are the same content when media type, digest and size agree.
    bool same_content(const Descriptor& other) const noexcept {
        return digest == other.digest && size == other.size && media_type == other.media_type;
    }
};

/// empty_descriptor returns the descriptor of the two-byte `{}` blob with
/// media type application/vnd.oci.empty.v1+json (image-spec manifest.md
/// "Guidance for an Empty Descriptor"), with its content embedded.
Descriptor empty_descriptor();

/// base64_encode returns standard padded base64 of `bytes`.
std::string base64_encode(std::string_view bytes);
/// base64_decode decodes standard padded base64; throws Error(invalid_input)
/// naming `what` on any other input.
std::string base64_decode(std::string_view text, std::string_view what);

}  // namespace sealrun::oci
