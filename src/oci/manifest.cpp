#include "sealrun/oci/manifest.h"

#include <exception>

#include "oci/reader.h"
#include "sealrun/error.h"
#include "sealrun/oci/json.h"

namespace sealrun::oci {

using namespace detail;

namespace {

void read_schema_version(const nlohmann::json& doc) {
    const auto* v = field(doc, "schemaVersion");
    if (v == nullptr) fail("schemaVersion", "is required");
    if (!v->is_number_integer() || v->get<std::int64_t>() != 2) fail("schemaVersion", "must be 2");
}

std::string read_media_type(const nlohmann::json& doc, bool (*accepted)(std::string_view) noexcept,
                            std::string_view fallback, std::string_view kind) {
    auto mt = opt_string(doc, "", "mediaType");
    if (!mt) return std::string(fallback);
    if (!accepted(*mt)) fail("mediaType", "\"" + mt->substr(0, 200) + "\" is not an " + std::string(kind) + " media type");
    return *mt;
}

std::optional<std::string> read_artifact_type(const nlohmann::json& doc) {
    auto at = opt_string(doc, "", "artifactType");
    if (at) check_media_type(*at, "artifactType");
    return at;
}

std::optional<Descriptor> read_subject(const nlohmann::json& doc) {
    const auto* s = field(doc, "subject");
    if (s == nullptr) return std::nullopt;
    return Descriptor::from_json(*s, "subject");
}

std::vector<Descriptor> read_descriptors(const nlohmann::json& doc, const std::string& key) {
    const auto* arr = field(doc, key);
    if (arr == nullptr) fail(key, "is required");
    if (!arr->is_array()) fail(key, "must be an array");
    std::vector<Descriptor> out;
    out.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i)
        out.push_back(Descriptor::from_json((*arr)[i], key + "[" + std::to_string(i) + "]"));
    return out;
}

void add_common(nlohmann::json& j, const std::string& media_type, const std::optional<std::string>& artifact_type,
                const std::optional<Descriptor>& subject, const std::map<std::string, std::string>& annotations) {
    j["schemaVersion"] = 2;
    j["mediaType"] = media_type;
    if (artifact_type) j["artifactType"] = *artifact_type;
    if (subject) j["subject"] = subject->to_json();
    if (!annotations.empty()) j["annotations"] = annotations;
}

std::string finish(const nlohmann::json& j, std::string_view what) {
    auto bytes = canonical_json(j);
    if (bytes.size() > max_manifest_size)
        throw Error(Errc::too_large, "serialize", std::string(what),
                    std::to_string(bytes.size()) + " bytes exceed the 4 MiB manifest limit");
    return bytes;
}

// A document whose own mediaType disagrees with the descriptor that led to
// it is refused: a reader must not be tricked into a different shape.
void check_declared(const Descriptor& desc, const std::string& declared) {
    if (declared != desc.media_type)
        throw Error(Errc::invalid_input, "parse", desc.digest.str(),
                    "content declares media type " + declared + " but its descriptor says " + desc.media_type);
}

}  // namespace

ImageManifest ImageManifest::parse(std::string_view bytes) {
    const auto doc = parse_json_strict(bytes, "image manifest");
    require_object(doc, "");
    read_schema_version(doc);
    const auto* cfg = field(doc, "config");
    if (cfg == nullptr) fail("config", "is required");
    ImageManifest m{.media_type = read_media_type(doc, is_manifest_type, media_types::image_manifest, "image manifest"),
                    .artifact_type = read_artifact_type(doc),
                    .config = Descriptor::from_json(*cfg, "config"),
                    .layers = read_descriptors(doc, "layers"),
                    .subject = read_subject(doc),
                    .annotations = opt_string_map(doc, "", "annotations")};
    if (m.layers.empty()) fail("layers", "must hold at least one descriptor (use the empty descriptor)");
    return m;
}

nlohmann::json ImageManifest::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    add_common(j, media_type, artifact_type, subject, annotations);
    j["config"] = config.to_json();
    j["layers"] = nlohmann::json::array();
    for (const auto& l : layers) j["layers"].push_back(l.to_json());
    return j;
}

std::string ImageManifest::serialize() const {
    if (layers.empty())
        throw Error(Errc::invalid_input, "serialize", "image manifest",
                    "layers must hold at least one descriptor (use the empty descriptor)");
    return finish(to_json(), "image manifest");
}

ImageIndex ImageIndex::parse(std::string_view bytes, std::size_t max_size) {
    // The entries are read one at a time as the document is (an index of
    // 10,000 runs is never one JSON tree); a bad entry is reported after
    // the document's own fields, as when they were read from the tree.
    std::vector<Descriptor> manifests;
    std::exception_ptr bad_entry;
    const auto doc = parse_json_strict_split(
        bytes, "image index", "manifests",
        [&](nlohmann::json&& entry, std::size_t i) {
            if (bad_entry) return;
            try {
                manifests.push_back(Descriptor::from_json(entry, "manifests[" + std::to_string(i) + "]"));
            } catch (const Error&) {
                bad_entry = std::current_exception();
            }
        },
        max_size);
    require_object(doc, "");
    read_schema_version(doc);
    auto index = ImageIndex{.media_type = read_media_type(doc, is_index_type, media_types::image_index, "image index"),
                            .artifact_type = read_artifact_type(doc),
                            .manifests = read_descriptors(doc, "manifests"),  // required, an array (read above)
                            .subject = read_subject(doc),
                            .annotations = opt_string_map(doc, "", "annotations")};
    if (bad_entry) std::rethrow_exception(bad_entry);
    index.manifests = std::move(manifests);
    return index;
}

nlohmann::json ImageIndex::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    add_common(j, media_type, artifact_type, subject, annotations);
    j["manifests"] = nlohmann::json::array();
    for (const auto& m : manifests) j["manifests"].push_back(m.to_json());
    return j;
}

std::string ImageIndex::serialize() const { return finish(to_json(), "image index"); }

std::vector<Descriptor> successors(const Descriptor& desc, std::string_view bytes) {
    std::vector<Descriptor> out;
    if (is_manifest_type(desc.media_type)) {
        auto m = ImageManifest::parse(bytes);
        check_declared(desc, m.media_type);
        if (m.subject) out.push_back(std::move(*m.subject));
        out.push_back(std::move(m.config));
        for (auto& l : m.layers) out.push_back(std::move(l));
    } else if (is_index_type(desc.media_type)) {
        auto i = ImageIndex::parse(bytes);
        check_declared(desc, i.media_type);
        if (i.subject) out.push_back(std::move(*i.subject));
        for (auto& m : i.manifests) out.push_back(std::move(m));
    }
    return out;
}

}  // namespace sealrun::oci
