// OMMX payloads (not decoded yet: the protobuf schema lands next).
#include "sealrun/codecs/ommx.h"

#include "sealrun/error.h"

namespace sealrun::ommx {

namespace {
[[noreturn]] void not_yet(std::string_view what) {
    throw Error(Errc::unsupported, "decode", std::string(what), "OMMX payloads are not decoded yet");
}
}  // namespace

Instance Instance::decode(std::string_view, Version) { not_yet("ommx.v1.Instance"); }
ParametricInstance ParametricInstance::decode(std::string_view, Version) { not_yet("ommx.v1.ParametricInstance"); }
Solution Solution::decode(std::string_view, Version) { not_yet("ommx.v1.Solution"); }
SampleSet SampleSet::decode(std::string_view, Version) { not_yet("ommx.v1.SampleSet"); }

}  // namespace sealrun::ommx
