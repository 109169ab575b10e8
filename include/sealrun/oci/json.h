#pragma once
/// Canonical JSON out, strict JSON in.

#include <cstddef>
#include <functional>
#include <span>
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

/// JsonElement receives one element of the array parse_json_strict_split
/// streams, with its index in the array.
using JsonElement = std::function<void(nlohmann::json&& element, std::size_t index)>;

/// parse_json_strict_split parses `text` as parse_json_strict does (the
/// same rules, in the same one pass) but hands every element of the
/// top-level object's array `array_key` to `element` as a tree of its own
/// as soon as it is read, and returns the document with that array empty:
/// a document of many entries (an index's manifests) is never one tree.
/// The document may still be refused after elements were handed over: act
/// on them once it returns.
nlohmann::json parse_json_strict_split(std::string_view text, std::string_view what, std::string_view array_key,
                                       const JsonElement& element, std::size_t max_size = max_manifest_size);

/// ByteSource supplies bytes to check_json_strict: it fills `buffer`,
/// returns how many bytes it put there, and 0 only at the end.
using ByteSource = std::function<std::size_t(std::span<char> buffer)>;

/// JsonStreamLimits bounds what check_json_strict holds in memory.
struct JsonStreamLimits {
    /// max_token is the longest string or number checked (8 MiB); a longer
    /// one ends the check, reported as incomplete.
    std::size_t max_token = std::size_t{8} << 20;
    /// max_tracked_keys is how many bytes of object keys (counted with a
    /// fixed overhead per key) are remembered to find duplicates (16 MiB);
    /// past it, keys of the objects still open are no longer remembered
    /// and the result says duplicates were checked only in part.
    std::size_t max_tracked_keys = std::size_t{16} << 20;
};

/// check_json_strict reads JSON from `source` as a stream (nlohmann's SAX
/// parser over a 64 KiB window) with parse_json_strict's strictness: the
/// same grammar and UTF-8 checks, duplicate keys, max_json_depth, trailing
/// data. With `lines` it reads one document per '\n'-ended line (a "\r"
/// before it allowed), skipping lines of only spaces and tabs, as the JSON
/// lines codec decodes. Memory stays bounded by `limits` whatever the
/// input's size. Throws Error(invalid_input) naming `what` (and, with
/// `lines`, the 1-based line); returns what was left unchecked: empty
/// when the whole input was checked.
std::string check_json_strict(const ByteSource& source, std::string_view what, bool lines = false,
                              const JsonStreamLimits& limits = {});

}  // namespace sealrun::oci
