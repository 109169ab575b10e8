#pragma once
/// Converting an OMMX experiment (an image manifest with artifactType
/// application/org.ommx.v1.experiment, read through SealedExperiment::open)
/// into a sealrun experiment, with nothing lost (docs/FORMAT.md "OMMX
/// interop", docs/CLI.md "convert"): `sealrun convert` and the Python
/// package call this.
///
/// What is converted: every run (run id, status and reason, parameters,
/// attachments with their bytes and logical media types, solves and
/// samplings with their ids, adapters, options, diagnostics and the
/// attachments they name), the experiment-level attachments, and the
/// manifest's annotations (keys outside sealrun's reserved vnd.sealrun.
/// namespace). What is kept verbatim, as experiment-level attachments: the
/// OMMX manifest (`ommx-manifest.json`), its config (`ommx-config.json`),
/// and the MessagePack run-parameter layer (`ommx-run-parameters.msgpack`,
/// its OMMX media type kept), so a reader can still see exactly what OMMX
/// wrote. OMMX records no start or end times: every run gets
/// ConvertOptions::time.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/codecs/codec.h"
#include "sealrun/content/target.h"
#include "sealrun/oci/descriptor.h"

namespace sealrun {

/// ommx_kept names the experiment-level attachments a conversion adds to
/// keep what OMMX wrote verbatim.
namespace ommx_kept {
/// manifest is the OMMX experiment manifest's bytes (application/json).
inline constexpr std::string_view manifest = "ommx-manifest.json";
/// config is the OMMX experiment config's bytes (application/json; OMMX
/// types it application/org.ommx.v1.experiment.config+json).
inline constexpr std::string_view config = "ommx-config.json";
/// run_parameters is the MessagePack run-parameter layer's bytes, under
/// OMMX's media type.
inline constexpr std::string_view run_parameters = "ommx-run-parameters.msgpack";
}  // namespace ommx_kept

/// ConvertOptions tunes convert_experiment(); the zero value is the default.
struct ConvertOptions {
    /// name is the sealrun experiment's name; empty: the OMMX experiment's
    /// name as SealedExperiment reads it, else the tag.
    std::string name;
    /// time is the RFC 3339 UTC time every converted run records as started
    /// and ended (OMMX records none); empty: the OMMX manifest's
    /// org.opencontainers.image.created annotation when present, else
    /// "1970-01-01T00:00:00Z", so converting the same archive twice gives
    /// the same digests.
    std::string time;
    /// compress stores attachments zstd-compressed (see SealOptions).
    bool compress = false;
    /// force moves `tag` when it names other content (see SealOptions).
    bool force = false;
    /// codecs decodes the source's attachments and checks the copies;
    /// nullptr means CodecRegistry::global().
    CodecRegistry* codecs = nullptr;
};

/// Converted is what convert_experiment() did.
struct Converted {
    /// root is the sealed sealrun experiment index.
    oci::Descriptor root;
    /// name is the sealrun experiment's name.
    std::string name;
    /// runs counts the converted runs.
    std::size_t runs = 0;
    /// attachments counts the attachments copied (runs' and experiment's,
    /// the kept ones included).
    std::size_t attachments = 0;
    /// kept lists the experiment-level attachments added verbatim (see
    /// ommx_kept), in the order added.
    std::vector<std::string> kept;
};

/// convert_experiment reads the OMMX experiment `reference` (a tag, a ref
/// name or a digest) in `src` and seals it as a sealrun experiment into
/// `dst` under `tag`. Records are written under `scratch` (a directory the
/// caller owns and removes afterwards; created when absent), attachments
/// stream through files there, so memory stays bounded by the largest
/// document, not the largest attachment.
///
/// Throws Error(invalid_input) naming `reference` when it is not an OMMX
/// experiment (a sealrun experiment needs no conversion; a generic OMMX
/// artifact has no runs), what SealedExperiment::open throws for a broken
/// one, Error(invalid_input) when an OMMX name cannot be a sealrun
/// attachment name or collides with a kept one, and Error(already_exists)
/// when `tag` names other content and `options.force` is false. Nothing is
/// tagged in `dst` unless the whole conversion succeeded.
Converted convert_experiment(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                             std::string_view tag, const std::filesystem::path& scratch,
                             const ConvertOptions& options = {});
/// convert_experiment converts as above through a private directory under
/// the system's temporary folder, removed when it returns; Error(io) when
/// it cannot be made.
Converted convert_experiment(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                             std::string_view tag, const ConvertOptions& options = {});

}  // namespace sealrun
