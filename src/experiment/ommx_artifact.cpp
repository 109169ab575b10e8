// OMMX generic artifacts as read-only views (docs/FORMAT.md "OMMX interop").
#include "sealrun/experiment/ommx_artifact.h"

#include <charconv>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/oci/tag.h"

namespace sealrun {

namespace {

[[noreturn]] void not_ommx(const std::string& who, const std::string& why) {
    throw Error(Errc::invalid_input, "open", who, "is not an OMMX artifact (" + why + ")");
}

// layer_table names layer i "i", the names OmmxArtifact gives OMMX's
// untitled layers.
std::map<std::string, std::size_t> layer_table(std::size_t count) {
    std::map<std::string, std::size_t> table;
    for (std::size_t i = 0; i < count; ++i) table.emplace(std::to_string(i), i);
    return table;
}

}  // namespace

void OmmxArtifact::check_manifest(const oci::ImageManifest& manifest, const std::string& who) {
    if (!manifest.artifact_type) not_ommx(who, "the manifest has no artifactType");
    const auto& type = *manifest.artifact_type;
    if (type == ommx::archive::experiment)
        not_ommx(who, "artifactType " + type + " is an OMMX experiment: open it as a sealed experiment");
    if (type != ommx::archive::artifact)
        not_ommx(who, "artifactType " + type + ", not " + std::string(ommx::archive::artifact));
    const auto& config = manifest.config.media_type;
    if (config != oci::media_types::empty && config != ommx::archive::config)
        not_ommx(who, "config media type " + config + ", neither " + std::string(oci::media_types::empty) + " nor " +
                          std::string(ommx::archive::config));
}

OmmxArtifact OmmxArtifact::open(content::ReadOnlyTarget& target, std::string_view reference, const CodecRegistry& codecs) {
    const auto root = target.resolve(reference);
    try {
        return open(target, root, codecs);
    } catch (const Error& e) {
        if (e.subject() != root.digest.str()) throw;
        throw Error(e.code(), e.operation(), std::string(reference), e.reason());
    }
}

OmmxArtifact OmmxArtifact::open(content::ReadOnlyTarget& target, const oci::Descriptor& root, const CodecRegistry& codecs) {
    const auto who = root.digest.str();
    if (!oci::is_manifest_type(root.media_type)) not_ommx(who, root.media_type + ", not an image manifest");
    auto manifest = oci::ImageManifest::parse(content::read_all(target, root, oci::max_manifest_size));
    check_manifest(manifest, who);
    auto layers = manifest.layers;
    Attachments attachments(target, std::move(layers), layer_table(manifest.layers.size()), codecs);
    return OmmxArtifact(root, std::move(manifest), std::move(attachments));
}

std::size_t OmmxArtifact::layer_index(std::string_view name) const {
    const auto count = manifest_.layers.size();
    if (oci::is_digest_reference(name)) {
        const auto digest = oci::Digest::parse(name);
        for (std::size_t i = 0; i < count; ++i)
            if (manifest_.layers[i].digest == digest) return i;
        throw Error(Errc::not_found, "get layer", std::string(name), "no layer of the artifact has that digest");
    }
    std::size_t index = 0;
    const auto* end = name.data() + name.size();
    const auto [ptr, ec] = std::from_chars(name.data(), end, index);
    const bool canonical = !name.empty() && ec == std::errc() && ptr == end && (name.size() == 1 || name[0] != '0');
    if (!canonical)
        throw Error(Errc::not_found, "get layer", std::string(name),
                    "names no layer: give a layer index (0 to " + std::to_string(count - 1) + ") or a layer digest");
    if (index >= count)
        throw Error(Errc::not_found, "get layer", std::string(name),
                    "the artifact has " + std::to_string(count) + " layer(s), numbered from 0");
    return index;
}

const oci::Descriptor& OmmxArtifact::layer(std::size_t index) const {
    if (index >= manifest_.layers.size())
        throw Error(Errc::not_found, "get layer", std::to_string(index),
                    "the artifact has " + std::to_string(manifest_.layers.size()) + " layer(s), numbered from 0");
    return manifest_.layers[index];
}

std::map<std::string, std::string> OmmxArtifact::layer_annotations(std::string_view name) const {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : layer(name).annotations)
        if (k.starts_with(ommx::archive::annotation_prefix)) out.emplace(k, v);
    return out;
}

std::vector<std::string> OmmxArtifact::attachment_names() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < manifest_.layers.size(); ++i) out.push_back(std::to_string(i));
    return out;
}

}  // namespace sealrun
