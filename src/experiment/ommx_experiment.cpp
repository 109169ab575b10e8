// OMMX experiment archives as SealedExperiment views (not read yet: every
// manifest is refused as before).
#include "experiment/ommx_experiment.h"

#include "sealrun/error.h"

namespace sealrun::detail {

SealedExperiment OmmxExperimentReader::open(content::ReadOnlyTarget&, const oci::Descriptor& root, const CodecRegistry&,
                                            const std::string& who) {
    throw Error(Errc::invalid_input, "open", who,
                "is not a sealed experiment (" + root.media_type + ", not an experiment index)");
}

}  // namespace sealrun::detail
