#pragma once
/// The JSON codec: `.json`, application/json, nlohmann::json.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// JsonCodec writes canonical JSON (sorted keys, no whitespace) and reads
/// strictly (duplicate keys are an error).
struct JsonCodec {
    /// value_type is what decode returns: a JSON document.
    using value_type = nlohmann::json;
    /// media_type is application/json.
    static constexpr std::string_view media_type = "application/json";
    /// encode returns canonical JSON; throws Error(invalid_input) on
    /// invalid UTF-8 in a string.
    static std::string encode(const nlohmann::json& value);
    /// decode parses one JSON document; throws Error(invalid_input) naming
    /// the position of a syntax error or the path of a duplicate key.
    static nlohmann::json decode(std::string_view bytes);
    /// check reads one JSON document from `in` with decode's strictness and
    /// bounded memory (oci::check_json_strict); returns what it left
    /// unchecked (empty when nothing).
    static std::string check(content::ReadStream& in);
};

}  // namespace sealrun::codecs
