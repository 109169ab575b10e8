#include "sealrun/oci/descriptor.h"

#include <openssl/evp.h>

#include "oci/reader.h"
#include "sealrun/error.h"
#include "sealrun/oci/media_type.h"

namespace sealrun::oci {

using namespace detail;

Descriptor Descriptor::for_bytes(std::string media_type, std::string_view bytes) {
    return Descriptor{.media_type = std::move(media_type),
                      .digest = Digest::of(bytes),
                      .size = static_cast<std::int64_t>(bytes.size())};
}

nlohmann::json Descriptor::to_json() const {
    nlohmann::json j = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
    if (!urls.empty()) j["urls"] = urls;
    if (!annotations.empty()) j["annotations"] = annotations;
    if (data) j["data"] = base64_encode(*data);
    if (artifact_type) j["artifactType"] = *artifact_type;
    if (platform) j["platform"] = *platform;
    return j;
}

Descriptor Descriptor::from_json(const nlohmann::json& value, const std::string& path) {
    require_object(value, path);
    auto media_type = req_string(value, path, "mediaType");
    check_media_type(media_type, join(path, "mediaType"));
    auto digest_text = req_string(value, path, "digest");
    std::optional<Digest> digest;
    try {
        digest = Digest::parse(digest_text);
    } catch (const Error& e) {
        fail(join(path, "digest"), e.reason());
    }
    const auto size = req_int(value, path, "size");
    if (size < 0) fail(join(path, "size"), "must not be negative");
    Descriptor d{.media_type = std::move(media_type), .digest = std::move(*digest), .size = size};
    if (const auto* urls = field(value, "urls")) {
        if (!urls->is_array()) fail(join(path, "urls"), "must be an array of strings");
        for (std::size_t i = 0; i < urls->size(); ++i) {
            if (!(*urls)[i].is_string()) fail(join(path, "urls") + "[" + std::to_string(i) + "]", "must be a string");
            d.urls.push_back((*urls)[i].get<std::string>());
        }
    }
    d.annotations = opt_string_map(value, path, "annotations");
    if (auto at = opt_string(value, path, "artifactType")) {
        check_media_type(*at, join(path, "artifactType"));
        d.artifact_type = std::move(*at);
    }
    if (const auto* pl = field(value, "platform")) {
        if (!pl->is_object()) fail(join(path, "platform"), "must be an object");
        d.platform = *pl;
    }
    if (auto data = opt_string(value, path, "data")) {
        auto bytes = base64_decode(*data, join(path, "data"));
        if (static_cast<std::int64_t>(bytes.size()) != d.size)
            fail(join(path, "data"), "holds " + std::to_string(bytes.size()) + " bytes but size is " +
                                         std::to_string(d.size));
        if (d.digest.verifiable()) {
            Hasher h(d.digest.algorithm());
            h.update(std::as_bytes(std::span(bytes.data(), bytes.size())));
            if (h.finish() != d.digest) fail(join(path, "data"), "does not match digest " + d.digest.str());
        }
        d.data = std::move(bytes);
    }
    return d;
}

Descriptor empty_descriptor() {
    auto d = Descriptor::for_bytes(std::string(media_types::empty), "{}");
    d.data = "{}";
    return d;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string base64_decode(std::string_view text, std::string_view what) {
    auto bad = [&](const char* why) { fail(std::string(what), std::string("invalid base64: ") + why); };
    if (text.size() % 4 != 0) bad("length is not a multiple of 4");
    std::size_t pad = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '+' || c == '/';
        if (c == '=') {
            if (i + 2 < text.size()) bad("'=' before the end");
            ++pad;
        } else if (!alpha || pad > 0) {
            bad("character outside the standard alphabet");
        }
    }
    std::string out(3 * (text.size() / 4), '\0');
    if (text.empty()) return out;
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) bad("undecodable");
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

}  // namespace sealrun::oci
