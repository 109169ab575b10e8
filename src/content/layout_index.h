#pragma once
// What an OCI image layout's index.json and oci-layout mean, for every
// backend over a layout: OciLayout (a directory), the oci-archive reader and
// writer (a tar of one). Internal to the content layer.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::content::detail {

/// ref_name returns the tag an index.json entry carries
/// (`org.opencontainers.image.ref.name`), if any.
std::optional<std::string> ref_name(const oci::Descriptor& entry);

/// tag_names returns the tags of `index`, sorted, each once.
std::vector<std::string> tag_names(const oci::ImageIndex& index);

/// tagged returns `desc` as an index.json entry that carries the tag
/// `reference`.
oci::Descriptor tagged(oci::Descriptor desc, std::string_view reference);

/// resolve_in resolves `reference` in a layout: an entry of `index`
/// tagged so, else an entry of that digest, else a stored manifest or index
/// of that digest (`stored_size`: its size in `target`, or nullopt), whose
/// media type is read from its own content through `target`. The tag
/// annotation is not part of what it returns. Throws Error(not_found)
/// naming `where`, Error(invalid_input) for a stored blob that is not a
/// manifest or index.
oci::Descriptor resolve_in(const oci::ImageIndex& index, std::string_view reference,
                           std::optional<std::int64_t> stored_size, ReadOnlyTarget& target, std::string_view where);

/// check_layout_file throws Error(invalid_input) naming `where` unless
/// `bytes` is an `oci-layout` file declaring imageLayoutVersion "1.0.0".
void check_layout_file(std::string_view bytes, std::string_view where);

/// layout_file_bytes is the `oci-layout` file sealrun writes.
std::string layout_file_bytes();

}  // namespace sealrun::content::detail
