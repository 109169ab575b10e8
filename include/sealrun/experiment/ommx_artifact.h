#pragma once
/// OMMX generic artifacts (artifactType application/org.ommx.v1.artifact) as
/// read-only views (issue 14; being written).

namespace sealrun {}  // namespace sealrun
