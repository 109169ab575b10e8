#pragma once
/// The JSON-lines codec: `.jsonl`, application/jsonl, a list of records.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// JsonLinesCodec writes one canonical JSON document per line, each ended
/// by '\n'; it reads lines ended by '\n' or "\r\n", skipping blank lines.
struct JsonLinesCodec {
    /// value_type is what decode returns: one JSON value per line.
    using value_type = std::vector<nlohmann::json>;
    /// media_type is application/jsonl.
    static constexpr std::string_view media_type = "application/jsonl";
    /// encode writes each record as one canonical JSON line.
    static std::string encode(const std::vector<nlohmann::json>& records);
    /// decode throws Error(invalid_input) naming the 1-based line of a bad
    /// record.
    static std::vector<nlohmann::json> decode(std::string_view bytes);
    /// check reads `in` line by line with decode's strictness and bounded
    /// memory, whatever the size of a line or of the whole; returns what it
    /// left unchecked (empty when nothing).
    static std::string check(content::ReadStream& in);
    /// encode_record returns one record's line, newline included: what
    /// appending a record to a .jsonl file writes.
    static std::string encode_record(const nlohmann::json& record);
};

}  // namespace sealrun::codecs
