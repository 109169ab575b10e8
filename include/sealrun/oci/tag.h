#pragma once
/// The reference grammar of the OCI distribution spec that every target
/// applies to the names it is given: tags, and references that are digests.

#include <string_view>

namespace sealrun::oci {

/// is_valid_tag reports whether `reference` is a tag: the distribution-spec
/// tag grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
bool is_valid_tag(std::string_view reference) noexcept;

/// check_tag throws Error(invalid_input) naming `reference` (its first 200
/// bytes) when it is not a valid tag (see is_valid_tag).
void check_tag(std::string_view reference);

/// is_digest_reference reports whether `reference` parses as a digest
/// (`algorithm:encoded`, see Digest::parse); a valid tag never does.
bool is_digest_reference(std::string_view reference) noexcept;

}  // namespace sealrun::oci
