#pragma once
/// Converting an OMMX experiment into a sealrun experiment (issue 14; being
/// written).

namespace sealrun {}  // namespace sealrun
