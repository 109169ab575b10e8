#include "sealrun/codec.h"

#include <cxxabi.h>

#include <cstdlib>
#include <mutex>

#include "util/archive.h"

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

std::shared_ptr<const CodecEntry> CodecRegistry::by_media_type(std::string_view media_type) const {
    std::shared_lock lock(mu_);
    auto it = by_type_.find(logical_media_type(media_type));
    return it == by_type_.end() ? nullptr : it->second;
}

std::shared_ptr<const CodecEntry> CodecRegistry::by_extension(std::string_view name) const {
    const auto slash = name.rfind('/');
    const auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    const auto dot = base.rfind('.');
    std::shared_lock lock(mu_);
    if (dot != std::string_view::npos && dot != 0) {
        if (auto it = by_ext_.find(base.substr(dot)); it != by_ext_.end()) return it->second;
    }
    auto text = by_type_.find(std::string_view("text/plain"));
    return text == by_type_.end() ? nullptr : text->second;
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

std::string zstd_compress(std::string_view bytes) {
    util::ArchiveWrite a(archive_write_new());
    util::check(a.get(), archive_write_set_format_raw(a.get()), "compress", "zstd");
    util::check(a.get(), archive_write_add_filter_zstd(a.get()), "compress", "zstd");
    util::StringSink sink;
    util::open_string_sink(a.get(), sink, "zstd");
    util::ArchiveEntry entry(archive_entry_new());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_pathname(entry.get(), "data");
    util::check(a.get(), archive_write_header(a.get(), entry.get()), "compress", "zstd");
    if (!bytes.empty() && archive_write_data(a.get(), bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
        util::throw_archive(a.get(), "compress", "zstd", Errc::io);
    util::check(a.get(), archive_write_close(a.get()), "compress", "zstd");
    return std::move(sink.out);
}

std::string zstd_decompress(std::string_view bytes, std::size_t max_size) {
    // libarchive's raw reader would pass non-zstd input through unchanged:
    // demand the zstd frame magic first.
    static constexpr std::string_view frame_magic = "\x28\xb5\x2f\xfd";
    if (!bytes.starts_with(frame_magic)) throw Error(Errc::invalid_input, "decompress", "zstd", "not a zstd frame");
    util::ArchiveRead a(archive_read_new());
    util::check(a.get(), archive_read_support_filter_zstd(a.get()), "decompress", "zstd");
    util::check(a.get(), archive_read_support_format_raw(a.get()), "decompress", "zstd");
    util::check(a.get(), archive_read_support_format_empty(a.get()), "decompress", "zstd");  // a frame of zero bytes
    util::check(a.get(), archive_read_open_memory(a.get(), bytes.data(), bytes.size()), "decompress", "zstd");
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a.get(), &entry);
    std::string out;
    if (rc == ARCHIVE_EOF) return out;
    util::check(a.get(), rc, "decompress", "zstd");
    char buf[64 * 1024];
    for (;;) {
        const auto n = archive_read_data(a.get(), buf, sizeof buf);
        if (n < 0) util::throw_archive(a.get(), "decompress", "zstd");
        if (n == 0) return out;
        if (out.size() + static_cast<std::size_t>(n) > max_size)
            throw Error(Errc::too_large, "decompress", "zstd", "output exceeds " + std::to_string(max_size) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace sealrun
