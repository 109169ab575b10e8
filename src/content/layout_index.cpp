#include "content/layout_index.h"

#include <set>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"

namespace sealrun::content::detail {

namespace {
constexpr std::string_view layout_version = "1.0.0";
}

std::optional<std::string> ref_name(const oci::Descriptor& entry) {
    const auto it = entry.annotations.find(std::string(oci::annotations::ref_name));
    if (it == entry.annotations.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> tag_names(const oci::ImageIndex& index) {
    std::set<std::string> names;
    for (const auto& d : index.manifests)
        if (auto n = ref_name(d)) names.insert(*n);
    return {names.begin(), names.end()};
}

oci::Descriptor tagged(oci::Descriptor desc, std::string_view reference) {
    desc.annotations[std::string(oci::annotations::ref_name)] = std::string(reference);
    return desc;
}

oci::Descriptor resolve_in(const oci::ImageIndex& index, std::string_view reference,
                           std::optional<std::int64_t> stored_size, ReadOnlyTarget& target, std::string_view where) {
    const auto plain = [](oci::Descriptor d) {
        d.annotations.erase(std::string(oci::annotations::ref_name));
        return d;
    };
    for (const auto& d : index.manifests)
        if (ref_name(d) == reference) return plain(d);
    if (oci::is_digest_reference(reference)) {
        const auto digest = oci::Digest::parse(reference);
        for (const auto& d : index.manifests)
            if (d.digest == digest) return plain(d);
        // An untagged manifest: learn its media type from its own content.
        if (stored_size) {
            if (*stored_size > static_cast<std::int64_t>(oci::max_manifest_size))
                throw Error(Errc::invalid_input, "resolve", std::string(reference),
                            "blob is too large to be a manifest or index");
            auto desc = oci::Descriptor{
                .media_type = std::string(oci::media_types::octet_stream), .digest = digest, .size = *stored_size};
            const auto doc = oci::parse_json_strict(read_all(target, desc, oci::max_manifest_size), reference);
            const auto mt = doc.is_object() ? doc.value("mediaType", "") : std::string();
            if (!oci::is_node_type(mt))
                throw Error(Errc::invalid_input, "resolve", std::string(reference),
                            "blob does not declare a manifest or index mediaType");
            desc.media_type = mt;
            if (auto at = doc.find("artifactType"); at != doc.end() && at->is_string())
                desc.artifact_type = at->get<std::string>();
            return desc;
        }
    }
    throw Error(Errc::not_found, "resolve", std::string(reference), "no such tag or digest in " + std::string(where));
}

void check_layout_file(std::string_view bytes, std::string_view where) {
    const auto doc = oci::parse_json_strict(bytes, std::string(where) + " oci-layout");
    const auto v = doc.is_object() ? doc.find("imageLayoutVersion") : doc.end();
    if (!doc.is_object() || v == doc.end() || !v->is_string() || v->get<std::string>() != layout_version)
        throw Error(Errc::invalid_input, "open layout", std::string(where),
                    "oci-layout must declare imageLayoutVersion \"1.0.0\"");
}

std::string layout_file_bytes() { return oci::canonical_json({{"imageLayoutVersion", layout_version}}); }

}  // namespace sealrun::content::detail
