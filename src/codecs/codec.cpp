#include "sealrun/codecs/codec.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "codecs/media_types.h"
#include "sealrun/oci/media_type.h"

namespace sealrun {

std::string type_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

void throw_wrong_type(std::string_view what, const std::type_info& held, const std::type_info& wanted) {
    throw Error(Errc::invalid_input, "read value", std::string(what),
                "holds " + type_name(held) + ", not " + type_name(wanted));
}

void CodecRegistry::add_entry(CodecEntry entry, std::vector<std::string> extensions) {
    auto shared = std::make_shared<const CodecEntry>(std::move(entry));
    std::unique_lock lock(mu_);
    by_type_.insert_or_assign(shared->media_type, shared);
    for (auto& ext : extensions) by_ext_.insert_or_assign(std::move(ext), shared);
}

std::shared_ptr<const CodecEntry> CodecRegistry::registered_codec(std::string_view media_type) const {
    std::shared_lock lock(mu_);
    auto it = by_type_.find(logical_media_type(media_type));
    return it == by_type_.end() ? nullptr : it->second;
}

std::shared_ptr<const CodecEntry> CodecRegistry::by_media_type(std::string_view media_type) const {
    if (auto codec = registered_codec(media_type)) return codec;
    const auto logical = logical_media_type(media_type);
    // A type sealrun may choose by the rule of media_types.h decodes as text
    // or as raw bytes; any other type has no codec.
    if (media::is_text_type(logical)) return registered_codec("text/plain");
    if (media::MimeTypes::system().knows(logical)) return registered_codec(oci::media_types::octet_stream);
    return nullptr;
}

std::shared_ptr<const CodecEntry> CodecRegistry::extension_codec(std::string_view name) const {
    const auto slash = name.rfind('/');
    const auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    const auto dot = base.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return nullptr;
    std::shared_lock lock(mu_);
    auto it = by_ext_.find(base.substr(dot));
    return it == by_ext_.end() ? nullptr : it->second;
}

std::shared_ptr<const CodecEntry> CodecRegistry::by_extension(std::string_view name) const {
    if (auto codec = extension_codec(name)) return codec;
    return registered_codec("text/plain");
}

std::vector<std::string> CodecRegistry::media_types() const {
    std::shared_lock lock(mu_);
    std::vector<std::string> out;
    for (const auto& [mt, _] : by_type_) out.push_back(mt);
    return out;
}

std::string_view logical_media_type(std::string_view stored) noexcept {
    if (stored.size() > zstd_suffix.size() && stored.ends_with(zstd_suffix)) stored.remove_suffix(zstd_suffix.size());
    return stored;
}

std::string encode_value(const CodecRegistry& registry, std::string_view media_type, const std::any& value) {
    auto codec = registry.by_media_type(media_type);
    if (!codec) throw Error(Errc::unsupported, "encode", std::string(media_type), "no codec is registered for this media type");
    if (codec->value_type != std::type_index(value.type()))
        throw Error(Errc::invalid_input, "encode", std::string(media_type),
                    "the codec takes " + codec->value_type_name + ", not " + type_name(value.type()));
    auto bytes = codec->encode(value);
    return logical_media_type(media_type) != media_type ? zstd_compress(bytes) : bytes;
}

Value decode_value(const CodecRegistry& registry, std::string_view stored_media_type, std::string_view bytes) {
    const auto logical = logical_media_type(stored_media_type);
    auto codec = registry.by_media_type(logical);
    if (!codec) throw Error(Errc::unsupported, "decode", std::string(stored_media_type), "no codec is registered for this media type");
    if (logical != stored_media_type) {
        const auto plain = zstd_decompress(bytes, std::size_t{16} << 30);
        return Value(std::string(logical), codec->decode(plain));
    }
    return Value(std::string(logical), codec->decode(bytes));
}

}  // namespace sealrun
