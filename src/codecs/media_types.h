#pragma once
// Deciding the media type of an attachment (docs/FORMAT.md "Media types"):
// the one place that rule lives. Used by Record's save/import paths, by
// commit() for every file it seals, and by CodecRegistry::by_media_type
// (which types fall back to the text or raw-bytes codec).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "sealrun/codecs/codec.h"
#include "sealrun/content/stream.h"

namespace sealrun::media {

// sniff_limit is the most libmagic is shown of a file: its first 64 KiB.
inline constexpr std::size_t sniff_limit = 64 * 1024;

// mime_types_path is Debian's extension database (the media-types package).
inline constexpr std::string_view mime_types_path = "/etc/mime.types";

// MimeTypes is a parsed mime.types file: lines of `type ext ext…`, `#`
// comments. A type that is not an RFC 6838 media type is skipped with its
// extensions; an extension listed twice keeps its last type (as Apache and
// Python's mimetypes read the file).
class MimeTypes {
public:
    // parse reads the text of a mime.types file; never throws for its content.
    static MimeTypes parse(std::string_view text);
    // system returns /etc/mime.types, read and parsed once (thread-safe);
    // an empty database when the file cannot be read.
    static const MimeTypes& system();

    // by_extension returns the type of `ext` (without the dot, ASCII
    // case-insensitive), or nullopt.
    std::optional<std::string_view> by_extension(std::string_view ext) const;
    // knows reports whether `type` is listed (with or without extensions).
    bool knows(std::string_view type) const;
    // size returns how many extensions are mapped.
    std::size_t size() const noexcept { return by_ext_.size(); }

private:
    std::map<std::string, std::string, std::less<>> by_ext_;
    std::set<std::string, std::less<>> types_;
};

// TextCheck decides, as bytes stream through it, whether they are text:
// well-formed UTF-8 (RFC 3629) with no NUL byte. Holds at most 3 bytes of
// an unfinished sequence between calls.
class TextCheck {
public:
    // update checks the next bytes; a no-op once a problem was found.
    void update(std::string_view bytes);
    // finish ends the input (a cut sequence is a problem) and returns ok().
    bool finish();
    // ok reports whether everything so far is text.
    bool ok() const noexcept { return problem_.empty(); }
    // problem says where the bytes stopped being text ("" when they are).
    const std::string& problem() const noexcept { return problem_; }

private:
    void fail(std::uint64_t at, std::string_view why);
    std::string carry_;
    std::uint64_t offset_ = 0;  // of the first byte of carry_ (or of the next update)
    std::string problem_;
};

// is_text reports whether all of `bytes` is text (see TextCheck).
bool is_text(std::string_view bytes);

// sniff returns libmagic's media type for the first sniff_limit bytes of
// `prefix` (longer input is cut), or "" when libmagic cannot say or gives
// something that is not a media type. Thread-safe (one handle, a mutex).
std::string sniff(std::string_view prefix);

// is_text_type reports whether `type` is in the text/ tree.
bool is_text_type(std::string_view type) noexcept;

// detect returns the media type of the attachment `name` whose bytes `in`
// yields, by the rule of docs/FORMAT.md "Media types":
//  1. an extension registered in `codecs` (sealrun's own codecs: .json,
//     .jsonl, .npy, .p, .txt, …) gives its codec's type;
//  2. otherwise an extension /etc/mime.types knows gives its type;
//  3. otherwise libmagic's type for the first 64 KiB, when it names a
//     binary type the database knows and no codec of `codecs` claims it;
//  4. otherwise text/plain for text, application/octet-stream for anything else.
// A text/ type is kept only when all of the content is text (valid UTF-8,
// no NUL), else the type is application/octet-stream. Reads at most 64 KiB
// into memory whatever the size (all of `in` only when text must be
// checked, streamed). Throws what `in` throws.
std::string detect(const CodecRegistry& codecs, std::string_view name, content::ReadStream& in);
// detect_file is detect over the file at `path`; throws Error(io).
std::string detect_file(const CodecRegistry& codecs, std::string_view name, const std::filesystem::path& path);
// detect_bytes is detect over bytes in memory.
std::string detect_bytes(const CodecRegistry& codecs, std::string_view name, std::string_view bytes);

// check_override throws Error(invalid_input) naming `name` when `type` is
// not an RFC 6838 media type; `+zstd` (sealrun's own suffix) is refused too.
void check_override(std::string_view name, std::string_view type);

}  // namespace sealrun::media
