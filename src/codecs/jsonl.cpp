#include "sealrun/codecs/jsonl.h"

#include <limits>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"

namespace sealrun::codecs {

std::string JsonLinesCodec::encode_record(const nlohmann::json& record) { return oci::canonical_json(record) + "\n"; }

std::string JsonLinesCodec::encode(const std::vector<nlohmann::json>& records) {
    std::string out;
    for (const auto& r : records) out += encode_record(r);
    return out;
}

std::vector<nlohmann::json> JsonLinesCodec::decode(std::string_view bytes) {
    std::vector<nlohmann::json> out;
    std::size_t line_no = 0;
    while (!bytes.empty()) {
        ++line_no;
        const auto nl = bytes.find('\n');
        auto line = bytes.substr(0, nl);
        bytes = nl == std::string_view::npos ? std::string_view{} : bytes.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        try {
            out.push_back(oci::parse_json_strict(line, "line", std::numeric_limits<std::size_t>::max()));
        } catch (const Error& e) {
            throw Error(Errc::invalid_input, "decode", "application/jsonl",
                        "line " + std::to_string(line_no) + ": " + e.reason());
        }
    }
    return out;
}

std::string JsonLinesCodec::check(content::ReadStream& in) {
    return oci::check_json_strict([&in](std::span<char> b) { return in.read(std::as_writable_bytes(b)); }, "application/jsonl", true);
}

}  // namespace sealrun::codecs
