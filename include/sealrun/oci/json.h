#pragma once
/// Canonical JSON out, strict JSON in.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sealrun::oci {

/// max_manifest_size is the largest manifest or index sealrun reads or
/// writes: 4 MiB, the limit registries enforce (distribution-spec "Pushing
/// Manifests").
inline constexpr std::size_t max_manifest_size = 4 * 1024 * 1024;

/// max_json_depth is how deeply parse_json_strict lets arrays and objects
/// nest. OCI documents nest a handful of levels; the cap keeps hostile input
/// from exhausting the stack in nlohmann's recursive copy and dump.
inline constexpr std::size_t max_json_depth = 1000;

/// max_graph_depth is how many levels below a root (indexes in indexes,
/// manifests, their subjects and blobs) copy() follows and validate()
/// checks; a deeper graph is refused (copy) or reported (validate), so a
/// hostile chain of nested indexes costs neither stack nor memory.
inline constexpr int max_graph_depth = 32;

/// canonical_json returns `value` with object keys sorted bytewise and no
/// insignificant whitespace, so equal content always gives equal bytes and
/// so equal digests. Throws Error(invalid_input) on strings that are not
/// valid UTF-8.
std::string canonical_json(const nlohmann::json& value);

/// parse_json_strict parses `text` as one JSON document; throws
/// Error(invalid_input) naming `what` on a syntax error, a duplicate object
/// key (with its path), trailing data or nesting deeper than max_json_depth,
/// and Error(too_large) when `text` is longer than `max_size`.
nlohmann::json parse_json_strict(std::string_view text, std::string_view what,
                                 std::size_t max_size = max_manifest_size);

}  // namespace sealrun::oci
