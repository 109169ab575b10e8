#include "codecs/media_types.h"

#include <magic.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <mutex>
#include <vector>

#include "sealrun/error.h"
#include "sealrun/oci/media_type.h"
#include "content/view_stream.h"
#include "content/file_stream.h"
#include "util/fs.h"
#include "util/handle.h"
#include "util/utf8.h"

namespace sealrun::media {

namespace {

constexpr std::size_t max_mime_types_size = 4 * 1024 * 1024;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// extension returns what follows the last '.' of the base name, or "" (a
// leading dot, as in ".hidden", starts no extension).
std::string_view extension(std::string_view name) {
    const auto slash = name.rfind('/');
    const auto base = slash == std::string_view::npos ? name : name.substr(slash + 1);
    const auto dot = base.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return {};
    return base.substr(dot + 1);
}

}  // namespace

MimeTypes MimeTypes::parse(std::string_view text) {
    MimeTypes db;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        std::vector<std::string_view> words;
        while (!line.empty()) {
            while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
            std::size_t n = 0;
            while (n < line.size() && !is_space(line[n])) ++n;
            if (n != 0) words.push_back(line.substr(0, n));
            line.remove_prefix(n);
        }
        if (words.empty() || !oci::is_media_type(words[0])) continue;
        db.types_.emplace(words[0]);
        for (std::size_t i = 1; i < words.size(); ++i) db.by_ext_.insert_or_assign(lower(words[i]), std::string(words[0]));
    }
    return db;
}

const MimeTypes& MimeTypes::system() {
    static const MimeTypes db = [] {
        try {
            return parse(util::read_file(std::string(mime_types_path), max_mime_types_size));
        } catch (const Error&) {
            return MimeTypes{};  // no database: extensions say nothing, content decides
        }
    }();
    return db;
}

std::optional<std::string_view> MimeTypes::by_extension(std::string_view ext) const {
    if (ext.empty()) return std::nullopt;
    const auto it = by_ext_.find(lower(ext));
    if (it == by_ext_.end()) return std::nullopt;
    return std::string_view(it->second);
}

bool MimeTypes::knows(std::string_view type) const { return types_.contains(type); }

void TextCheck::fail(std::uint64_t at, std::string_view why) {
    problem_ = std::string(why) + " at byte " + std::to_string(at);
}

void TextCheck::update(std::string_view bytes) {
    if (!ok() || bytes.empty()) return;
    std::string joined;  // a sequence cut by the previous chunk, completed by this one
    if (!carry_.empty()) {
        joined = std::exchange(carry_, {}) + std::string(bytes);
        bytes = joined;
    }
    std::size_t i = 0;
    while (i < bytes.size()) {
        // Eight ASCII bytes, none NUL, at a time (text is mostly ASCII).
        constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        std::uint64_t word = 0;
        if (bytes.size() - i >= 8 && (std::memcpy(&word, bytes.data() + i, 8), (word & highs) == 0) &&
            ((word - ones) & ~word & highs) == 0) {
            i += 8;
            continue;
        }
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == 0) return fail(offset_ + i, "a NUL byte");
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        if (const auto n = util::utf8_length(bytes, i, cp); n != 0) {
            i += n;
            continue;
        }
        // A lead byte whose sequence runs past the end of this chunk waits
        // for the next one (finish() refuses it if none comes).
        const std::size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        bool cut = c >= 0xc2 && c <= 0xf4 && bytes.size() - i < need;
        for (std::size_t k = i + 1; cut && k < bytes.size(); ++k)
            cut = (static_cast<unsigned char>(bytes[k]) & 0xc0) == 0x80;
        if (!cut) return fail(offset_ + i, "not UTF-8");
        carry_ = std::string(bytes.substr(i));
        offset_ += i;
        return;
    }
    offset_ += bytes.size();
}

bool TextCheck::finish() {
    if (ok() && !carry_.empty()) fail(offset_, "a cut UTF-8 sequence");
    carry_.clear();
    return ok();
}

bool is_text(std::string_view bytes) {
    TextCheck t;
    t.update(bytes);
    return t.finish();
}

bool is_text_type(std::string_view type) noexcept { return type.starts_with("text/"); }

namespace {

using Magic = util::Handle<magic_set, magic_close>;

// magic_handle returns the process's one libmagic handle (libmagic handles
// are not thread-safe: callers hold magic_mutex), or nullptr when the
// default database cannot be loaded.
std::mutex magic_mutex;

magic_t magic_handle() {
    static Magic handle = [] {
        Magic m(magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR));
        if (m && magic_load(m.get(), nullptr) != 0) m.reset();
        return m;
    }();
    return handle.get();
}

}  // namespace

std::string sniff(std::string_view prefix) {
    if (prefix.size() > sniff_limit) prefix = prefix.substr(0, sniff_limit);
    std::lock_guard lock(magic_mutex);
    const auto m = magic_handle();
    if (m == nullptr) return {};
    const char* type = magic_buffer(m, prefix.data(), prefix.size());
    if (type == nullptr) return {};
    std::string out(type);
    return oci::is_media_type(out) ? out : std::string();
}

std::string detect(const CodecRegistry& codecs, std::string_view name, content::ReadStream& in) {
    constexpr std::string_view octet = oci::media_types::octet_stream;
    std::string candidate;
    if (auto codec = codecs.extension_codec(name)) {
        if (!is_text_type(codec->media_type)) return codec->media_type;
        candidate = codec->media_type;
    } else if (auto t = MimeTypes::system().by_extension(extension(name))) {
        if (!is_text_type(*t)) return std::string(*t);
        candidate = std::string(*t);
    }
    std::string head(sniff_limit, '\0');
    head.resize(content::read_fully(in, std::as_writable_bytes(std::span(head.data(), head.size()))));
    if (candidate.empty()) {
        const auto sniffed = sniff(head);
        if (!sniffed.empty() && !is_text_type(sniffed) && sniffed != octet && MimeTypes::system().knows(sniffed) &&
            !codecs.registered_codec(sniffed))
            return sniffed;
        candidate = "text/plain";
    }
    TextCheck text;
    text.update(head);
    if (head.size() == sniff_limit) {
        std::vector<std::byte> buf(content::default_chunk_size);
        while (text.ok()) {
            const auto n = in.read(buf);
            if (n == 0) break;
            text.update(std::string_view(reinterpret_cast<const char*>(buf.data()), n));
        }
    }
    return text.finish() ? candidate : std::string(octet);
}

std::string detect_file(const CodecRegistry& codecs, std::string_view name, const std::filesystem::path& path) {
    content::FileStream in(path);
    return detect(codecs, name, in);
}

std::string detect_bytes(const CodecRegistry& codecs, std::string_view name, std::string_view bytes) {
    content::ViewStream in(bytes);
    return detect(codecs, name, in);
}

void check_override(std::string_view name, std::string_view type) {
    oci::check_media_type(type, "media type of " + std::string(name));
    if (type.ends_with(zstd_suffix))
        throw Error(Errc::invalid_input, "check media type", "media type of " + std::string(name),
                    "\"" + std::string(type) + "\": +zstd is sealrun's own suffix for compressed attachments (seal --compress)");
}

}  // namespace sealrun::media
