#pragma once
/// Image manifests and image indexes, image-spec v1.1 manifest.md and
/// image-index.md.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"

namespace sealrun::oci {

/// ImageManifest is an OCI image manifest (schemaVersion 2). Docker schema 2
/// manifests, which share its shape, parse too.
struct ImageManifest {
    /// media_type is the manifest's own type.
    std::string media_type{media_types::image_manifest};
    /// artifact_type is the artifact's type (OCI 1.1), when it has one.
    std::optional<std::string> artifact_type;
    /// config describes the config blob.
    Descriptor config;
    /// layers describe the layers (for sealrun: the attachments, in order).
    std::vector<Descriptor> layers;
    /// subject is the manifest this one refers to (OCI 1.1 referrers), if any.
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;

    /// parse reads `bytes` strictly: valid JSON without duplicate keys, at
    /// most 4 MiB, schemaVersion 2, a manifest media type, a config and at
    /// least one layer, every descriptor valid. Throws Error(invalid_input)
    /// naming the field path, or Error(too_large).
    static ImageManifest parse(std::string_view bytes);

    /// to_json returns the manifest as JSON (schemaVersion included).
    nlohmann::json to_json() const;

    /// serialize returns the canonical JSON bytes; throws Error(invalid_input)
    /// when the manifest has no layer, and Error(too_large) past 4 MiB.
    std::string serialize() const;
};

/// ImageIndex is an OCI image index (schemaVersion 2); Docker manifest lists
/// parse too.
struct ImageIndex {
    /// media_type is the index's own type.
    std::string media_type{media_types::image_index};
    /// artifact_type is the artifact's type (OCI 1.1), when it has one.
    std::optional<std::string> artifact_type;
    /// manifests describe the entries.
    std::vector<Descriptor> manifests;
    /// subject is the manifest this one refers to (OCI 1.1 referrers), if any.
    std::optional<Descriptor> subject;
    std::map<std::string, std::string> annotations;

    /// parse reads `bytes` strictly, as ImageManifest::parse does. An
    /// image layout's index.json may pass a larger `max_size`.
    static ImageIndex parse(std::string_view bytes, std::size_t max_size = max_manifest_size);

    /// to_json returns the index as JSON (schemaVersion included).
    nlohmann::json to_json() const;

    /// serialize returns the canonical JSON bytes; throws Error(too_large) past 4 MiB.
    std::string serialize() const;
};

/// successors returns what the node `desc`, whose verified content is
/// `bytes`, points to: an index's manifests (and subject), a manifest's
/// config, layers (and subject). Blobs have none. This is the one place
/// that knows the shape of the graph.
std::vector<Descriptor> successors(const Descriptor& desc, std::string_view bytes);

}  // namespace sealrun::oci
