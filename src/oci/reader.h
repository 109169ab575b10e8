#pragma once
// Strict field readers shared by the descriptor, manifest and index parsers.
// Every failure names the JSON path of the offending field.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"

namespace sealrun::oci::detail {

[[noreturn]] inline void fail(const std::string& path, const std::string& reason) {
    throw Error(Errc::invalid_input, "parse", path.empty() ? "document" : path, reason);
}

inline std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

inline const nlohmann::json& require_object(const nlohmann::json& v, const std::string& path) {
    if (!v.is_object()) fail(path, "must be a JSON object");
    return v;
}

inline const nlohmann::json* field(const nlohmann::json& obj, const std::string& key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

inline std::optional<std::string> opt_string(const nlohmann::json& obj, const std::string& path,
                                             const std::string& key) {
    const auto* v = field(obj, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(join(path, key), "must be a string");
    return v->get<std::string>();
}

inline std::string req_string(const nlohmann::json& obj, const std::string& path, const std::string& key) {
    auto s = opt_string(obj, path, key);
    if (!s) fail(join(path, key), "is required");
    return *s;
}

inline std::map<std::string, std::string> opt_string_map(const nlohmann::json& obj, const std::string& path,
                                                         const std::string& key) {
    std::map<std::string, std::string> out;
    const auto* v = field(obj, key);
    if (v == nullptr) return out;
    const auto p = join(path, key);
    if (!v->is_object()) fail(p, "must be an object of strings");
    for (const auto& [k, val] : v->items()) {
        if (!val.is_string()) fail(join(p, k), "must be a string");
        out.emplace(k, val.get<std::string>());
    }
    return out;
}

inline std::int64_t req_int(const nlohmann::json& obj, const std::string& path, const std::string& key) {
    const auto* v = field(obj, key);
    const auto p = join(path, key);
    if (v == nullptr) fail(p, "is required");
    if (v->is_number_unsigned()) {
        const auto u = v->get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) fail(p, "is larger than 2^63-1");
        return static_cast<std::int64_t>(u);
    }
    if (v->is_number_integer()) return v->get<std::int64_t>();
    fail(p, "must be an integer");
}

}  // namespace sealrun::oci::detail
