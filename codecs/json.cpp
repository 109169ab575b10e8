#include "sealrun/codecs/json.h"

#include <limits>

#include "sealrun/oci/json.h"

namespace sealrun::codecs {

std::string JsonCodec::encode(const nlohmann::json& value) { return oci::canonical_json(value); }

nlohmann::json JsonCodec::decode(std::string_view bytes) {
    return oci::parse_json_strict(bytes, "application/json", std::numeric_limits<std::size_t>::max());
}

}  // namespace sealrun::codecs
