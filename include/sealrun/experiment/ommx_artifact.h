#pragma once
/// OMMX generic artifacts as read-only views (docs/FORMAT.md "OMMX
/// interop"): an OCI image manifest with artifactType
/// application/org.ommx.v1.artifact whose layers are OMMX payloads
/// (an Instance, a Solution, ...) annotated `org.ommx.v1.<type>.*`, as OMMX
/// writes them into `.ommx` files and registries. OMMX gives its layers no
/// file names, so the view names each by its position: layer i is the
/// attachment "i" (decimal, "0" for the first); wherever a name is taken, the
/// digest of a layer ("sha256:…") is accepted too. OMMX 3 experiments
/// (artifactType application/org.ommx.v1.experiment) open through
/// SealedExperiment::open instead.

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/ommx.h"
#include "sealrun/content/target.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::ommx {

/// The media types and annotation keys of OMMX's archives (its payload
/// types are ommx::media_types).
namespace archive {
/// artifact is the artifactType of a generic OMMX artifact.
inline constexpr std::string_view artifact = "application/org.ommx.v1.artifact";
/// experiment is the artifactType of an OMMX 3 experiment.
inline constexpr std::string_view experiment = "application/org.ommx.v1.experiment";
/// config is the config media type older OMMX artifacts carry (the config
/// of newer ones is the OCI empty descriptor).
inline constexpr std::string_view config = "application/org.ommx.v1.config+json";
/// experiment_config is the config media type of an OMMX 3 experiment.
inline constexpr std::string_view experiment_config = "application/org.ommx.v1.experiment.config+json";
/// run_parameters is the media type of an experiment's MessagePack run-parameter table.
inline constexpr std::string_view run_parameters = "application/org.ommx.v1.experiment.run-parameters+msgpack";
/// trace is the media type of a run's trace (OTLP protobuf).
inline constexpr std::string_view trace = "application/org.ommx.trace.otlp+protobuf";
/// diagnostic is the media type of a solve's or sampling's adapter diagnostics (MessagePack).
inline constexpr std::string_view diagnostic = "application/org.ommx.diagnostic+msgpack";
/// compression_key is the layer annotation OMMX sets to "zstd" on an
/// attachment stored compressed (its media type then ends in "+zstd").
inline constexpr std::string_view compression_key = "org.ommx.v1.attachment.compression";
/// annotation_prefix starts every annotation key OMMX defines.
inline constexpr std::string_view annotation_prefix = "org.ommx.";
}  // namespace archive

}  // namespace sealrun::ommx

namespace sealrun {

/// OmmxArtifact is the read-only view of one OMMX generic artifact. Opening
/// reads the manifest and nothing else; layer bytes are fetched when asked
/// for, verified against their digests. Cheap to copy; the target must
/// outlive the view. Its const methods may be called from several threads at
/// once.
class OmmxArtifact {
public:
    /// open resolves `reference` (a tag, the ref name an `.ommx` file's
    /// index.json carries, or a digest) in `target` and opens the manifest
    /// it names; errors name `reference`. Throws Error(not_found) when it
    /// names nothing, and Error(invalid_input) "is not an OMMX artifact (…)"
    /// saying why for anything else: an index, a manifest without OMMX's
    /// artifactType (an OMMX experiment says to open it with
    /// SealedExperiment), a config that is neither the OCI empty config nor
    /// OMMX's v1 config.
    static OmmxArtifact open(content::ReadOnlyTarget& target, std::string_view reference,
                             const CodecRegistry& codecs = CodecRegistry::global());
    /// open opens the manifest `manifest` as above; errors name its digest.
    static OmmxArtifact open(content::ReadOnlyTarget& target, const oci::Descriptor& manifest,
                             const CodecRegistry& codecs = CodecRegistry::global());
    /// check_manifest throws Error(invalid_input) naming `who` ("is not an
    /// OMMX artifact (…)") unless `manifest` is a generic OMMX artifact by
    /// the rules open() applies; validate() reports the same reason.
    static void check_manifest(const oci::ImageManifest& manifest, const std::string& who);

    /// descriptor returns the manifest's descriptor.
    const oci::Descriptor& descriptor() const noexcept { return root_; }
    /// manifest returns the manifest as read.
    const oci::ImageManifest& manifest() const noexcept { return manifest_; }
    /// annotations returns the manifest's annotations.
    const std::map<std::string, std::string>& annotations() const noexcept { return manifest_.annotations; }
    /// layers returns the layer descriptors, in manifest order.
    const std::vector<oci::Descriptor>& layers() const noexcept { return manifest_.layers; }
    /// layer_count returns how many layers the manifest has.
    std::size_t layer_count() const noexcept { return manifest_.layers.size(); }
    /// layer_index returns the index of the layer `name` names: a decimal
    /// index ("0", "1", …, no sign or leading zero) or a layer's digest (the
    /// first layer of that digest). Throws Error(not_found) naming `name`
    /// when the manifest has no such layer.
    std::size_t layer_index(std::string_view name) const;
    /// layer returns the descriptor of layer `index`; throws Error(not_found).
    const oci::Descriptor& layer(std::size_t index) const;
    /// layer returns the descriptor of the layer `name` names (see layer_index).
    const oci::Descriptor& layer(std::string_view name) const { return manifest_.layers[layer_index(name)]; }
    /// layer_annotations returns the OMMX annotations of the layer `name`
    /// names (keys starting "org.ommx.", e.g. org.ommx.v1.instance.title);
    /// layer(name).annotations has all of them.
    std::map<std::string, std::string> layer_annotations(std::string_view name) const;

    /// attachment_names returns the layer names "0" … "n-1", in layer order.
    std::vector<std::string> attachment_names() const;
    /// attachment_media_type returns the logical media type of the layer
    /// `name` names (without "+zstd"; see Attachments::media_type).
    std::string attachment_media_type(std::string_view name) const { return attachments_.media_type(key(name)); }
    /// attachment_compression returns "zstd" or "" (see Attachments::compression).
    std::string attachment_compression(std::string_view name) const { return attachments_.compression(key(name)); }
    /// get_attachment decodes the layer with the codec its media type names
    /// (see Attachments::value); throws Error(not_found), Error(unsupported).
    Value get_attachment(std::string_view name) const { return attachments_.value(key(name)); }
    /// get_blob returns the layer's verified bytes, decompressed (see Attachments::blob).
    std::string get_blob(std::string_view name) const { return attachments_.blob(key(name)); }
    /// get_instance, get_parametric_instance, get_solution and
    /// get_sample_set decode an OMMX payload layer (see Attachments::instance).
    ommx::Instance get_instance(std::string_view name) const { return attachments_.instance(key(name)); }
    ommx::ParametricInstance get_parametric_instance(std::string_view name) const {
        return attachments_.parametric_instance(key(name));
    }
    ommx::Solution get_solution(std::string_view name) const { return attachments_.solution(key(name)); }
    ommx::SampleSet get_sample_set(std::string_view name) const { return attachments_.sample_set(key(name)); }
    /// write_attachment streams the layer to `path` (into an existing
    /// directory: as a file named by the layer's index), verified before it
    /// becomes visible (see Attachments::write).
    std::filesystem::path write_attachment(std::string_view name, const std::filesystem::path& path,
                                           bool overwrite = false) const {
        return attachments_.write(key(name), path, overwrite);
    }
    /// attachments returns the getter set over the layers, named "0" … "n-1".
    const Attachments& attachments() const noexcept { return attachments_; }

private:
    OmmxArtifact(oci::Descriptor root, oci::ImageManifest manifest, Attachments attachments)
        : root_(std::move(root)), manifest_(std::move(manifest)), attachments_(std::move(attachments)) {}
    // key returns the attachment name ("i") of the layer `name` names.
    std::string key(std::string_view name) const { return std::to_string(layer_index(name)); }
    oci::Descriptor root_;
    oci::ImageManifest manifest_;
    Attachments attachments_;
};

}  // namespace sealrun
