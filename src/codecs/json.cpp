#include "sealrun/codecs/json.h"

#include <limits>

#include "sealrun/oci/json.h"

namespace sealrun::codecs {

std::string JsonCodec::encode(const nlohmann::json& value) { return oci::canonical_json(value); }

nlohmann::json JsonCodec::decode(std::string_view bytes) {
    return oci::parse_json_strict(bytes, "application/json", std::numeric_limits<std::size_t>::max());
}

std::string JsonCodec::check(content::ReadStream& in) {
    return oci::check_json_strict([&in](std::span<char> b) { return in.read(std::as_writable_bytes(b)); }, "application/json");
}

}  // namespace sealrun::codecs
