#pragma once
// Reading OMMX 3 experiment archives (an image manifest with artifactType
// application/org.ommx.v1.experiment, docs/FORMAT.md "OMMX interop") as
// SealedExperiment / SealedRun views. The byte-level readers (the config
// JSON, the MessagePack run-parameter table) are separate so validate() and
// the fuzz target call them directly.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/experiment/model.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::detail {

// max_run_parameters_size caps the MessagePack run-parameter layer read into
// memory (8 MiB: some 600,000 cells); MessagePack's object tree costs at most
// about 24 bytes per input byte, so the decode stays under ~200 MiB.
inline constexpr std::size_t max_run_parameters_size = std::size_t{8} << 20;

// OmmxRun is one run of an OMMX experiment config, with every layer
// reference resolved to an attachment name of the run (see name_layers in
// the .cpp for the naming rule).
struct OmmxRun {
    std::int64_t run_id = 0;
    std::string status;                  // finished, failed or interrupted
    std::string reason;                  // the outcome's reason, "" when none
    format::AttachmentTable attachments;  // OMMX's own names, then synthesized ones
    std::optional<std::size_t> trace;    // the OTLP trace layer (also attachment "trace.otlp…")
    std::vector<SolveRecord> solves;     // by solve id
    std::vector<SamplingRecord> samplings;  // by sampling id
    nlohmann::json config;               // the run's object in the config, verbatim
};

// OmmxExperimentConfig is what an OMMX experiment config says.
struct OmmxExperimentConfig {
    std::string status;  // draft, finished, failed or interrupted
    std::string reason;
    std::optional<std::string> requested_image_name;
    format::AttachmentTable attachments;  // experiment-level
    std::map<std::int64_t, OmmxRun> runs;
    std::size_t run_parameters = 0;  // the layer holding the run-parameter table
};

// RunParameters maps run id → parameter name → value.
using RunParameters = std::map<std::int64_t, std::map<std::string, Parameter>>;

// read_ommx_experiment_config parses `bytes` (strict JSON, at most
// format::max_config_size) as an OMMX experiment config whose manifest has
// `layers`, checking every layer reference and media type as OMMX's reader
// does. Throws Error(invalid_input) naming `who` and the first problem.
OmmxExperimentConfig read_ommx_experiment_config(std::string_view bytes, const std::vector<oci::Descriptor>& layers,
                                                 const std::string& who);

// read_ommx_run_parameters decodes `bytes` as OMMX's MessagePack run-parameter
// table ({"columns": {name: {"type": bool|int64|float64|string, "values":
// {run id: value}}}}), one value, nothing after it, within bounded sizes
// and depth. Throws Error(invalid_input) naming `who` and the problem.
RunParameters read_ommx_run_parameters(std::string_view bytes, const std::string& who);

// check_parameter_runs throws Error(invalid_input) naming `who` when the
// run-parameter table names a run the config does not have.
void check_parameter_runs(const RunParameters& parameters, const OmmxExperimentConfig& config, const std::string& who);

// is_ommx_experiment reports whether `manifest` says it is an OMMX experiment.
bool is_ommx_experiment(const oci::ImageManifest& manifest) noexcept;

struct OmmxExperimentReader {
    // open reads the OMMX experiment manifest `root` (resolved from what the
    // user typed, `who`), its config and its run-parameter layer, and opens
    // every run; throws Error(invalid_input) "is not a sealed experiment"
    // when `root` is not an OMMX experiment, and naming the first problem
    // when it is a bad one.
    static SealedExperiment open(content::ReadOnlyTarget& target, const oci::Descriptor& root, const CodecRegistry& codecs,
                                 const std::string& who);
};

}  // namespace sealrun::detail
