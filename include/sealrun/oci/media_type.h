#pragma once
/// Media types (RFC 6838 restricted names) and the ones the OCI specs define.

#include <string>
#include <string_view>

namespace sealrun::oci {

/// media_type_problem returns why `text` is not an RFC 6838 restricted
/// `type "/" subtype` name of at most 127 characters a side with no
/// parameters, or an empty string when it is one.
std::string media_type_problem(std::string_view text);

/// is_media_type reports whether `text` is a valid media type.
inline bool is_media_type(std::string_view text) { return media_type_problem(text).empty(); }

/// check_media_type throws Error(invalid_input) naming `field` when `text`
/// is not a valid media type.
void check_media_type(std::string_view text, std::string_view field);

/// Media types defined by image-spec v1.1 and the Docker formats sealrun reads.
namespace media_types {
/// image_manifest is the OCI image manifest type.
inline constexpr std::string_view image_manifest = "application/vnd.oci.image.manifest.v1+json";
/// image_index is the OCI image index type.
inline constexpr std::string_view image_index = "application/vnd.oci.image.index.v1+json";
/// image_config is the OCI image config type.
inline constexpr std::string_view image_config = "application/vnd.oci.image.config.v1+json";
/// layer_tar is the uncompressed OCI tar layer type.
inline constexpr std::string_view layer_tar = "application/vnd.oci.image.layer.v1.tar";
/// empty is the OCI empty descriptor's type (the `{}` config).
inline constexpr std::string_view empty = "application/vnd.oci.empty.v1+json";
/// docker_manifest is Docker's schema 2 manifest type.
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
/// docker_manifest_list is Docker's manifest list type.
inline constexpr std::string_view docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// octet_stream is the type of bytes nothing more is known of.
inline constexpr std::string_view octet_stream = "application/octet-stream";
}  // namespace media_types

/// is_manifest_type reports whether `media_type` names an image manifest
/// (OCI or Docker schema 2).
bool is_manifest_type(std::string_view media_type) noexcept;
/// is_index_type reports whether `media_type` names an index (OCI image
/// index or Docker manifest list).
bool is_index_type(std::string_view media_type) noexcept;
/// is_node_type reports whether `media_type` names a node of the graph (a
/// manifest or an index: it has successors and is stored under a
/// registry's /manifests/), not a blob. The one node test.
bool is_node_type(std::string_view media_type) noexcept;

}  // namespace sealrun::oci
