#pragma once
// Reading OMMX experiment archives (an image manifest with artifactType
// application/org.ommx.v1.experiment) as SealedExperiment / SealedRun views.

#include <string>

#include "sealrun/experiment/sealed.h"

namespace sealrun::detail {

struct OmmxExperimentReader {
    // open reads the OMMX experiment manifest `root` (resolved from what the
    // user typed, `who`) and its config, and opens every run; throws
    // Error(invalid_input) "is not a sealed experiment" when `root` is not
    // an OMMX experiment, and naming the first problem when it is a bad one.
    static SealedExperiment open(content::ReadOnlyTarget& target, const oci::Descriptor& root, const CodecRegistry& codecs,
                                 const std::string& who);
};

}  // namespace sealrun::detail
