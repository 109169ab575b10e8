#pragma once
/// Codecs turn typed values into attachment bytes and back. One codec class
/// per payload type (see codecs/), mapped from media types and file
/// extensions by a runtime CodecRegistry that users extend.

#include <any>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "sealrun/codecs/zstd.h"  // encode_value and decode_value apply +zstd
#include "sealrun/content/stream.h"
#include "sealrun/error.h"

namespace sealrun {

/// Codec is a class with a static `media_type`, a `value_type`, and static
/// `encode(const value_type&) -> std::string` and
/// `decode(std::string_view) -> value_type`. `decode` throws
/// Error(invalid_input) on bytes it cannot read. A codec may also have a
/// static `check(content::ReadStream&) -> std::string` (StreamingCheck):
/// it reads a stream to its end holding bounded memory, throws what
/// `decode` would throw for the same bytes, and returns what it could not
/// check (empty when it checked everything); validate() uses it instead of
/// reading the whole attachment into memory.
template <class C>
concept Codec = requires(const typename C::value_type& value, std::string_view bytes) {
    { C::media_type } -> std::convertible_to<std::string_view>;
    { C::encode(value) } -> std::same_as<std::string>;
    { C::decode(bytes) } -> std::same_as<typename C::value_type>;
};

/// StreamingCheck is the optional `check` of a Codec (see Codec).
template <class C>
concept StreamingCheck = requires(content::ReadStream& in) {
    { C::check(in) } -> std::same_as<std::string>;
};

/// type_name returns the demangled name of `type`.
std::string type_name(const std::type_info& type);

/// throw_wrong_type throws Error(invalid_input): a value of `held` type was
/// asked for as `wanted`.
[[noreturn]] void throw_wrong_type(std::string_view what, const std::type_info& held, const std::type_info& wanted);

/// Value is a decoded attachment of whatever type its codec produces.
class Value {
public:
    /// Value holds `value`, decoded from `media_type`.
    Value(std::string media_type, std::any value) : media_type_(std::move(media_type)), value_(std::move(value)) {}

    /// media_type returns the (logical) media type the value was decoded from.
    const std::string& media_type() const noexcept { return media_type_; }
    /// is reports whether the value holds a T.
    template <class T>
    bool is() const noexcept {
        return value_.type() == typeid(T);
    }
    /// as returns the value as T; throws Error(invalid_input) naming both
    /// types when it holds something else.
    template <class T>
    const T& as() const {
        if (const T* p = std::any_cast<T>(&value_)) return *p;
        throw_wrong_type(media_type_, value_.type(), typeid(T));
    }
    /// any returns the type-erased value.
    const std::any& any() const noexcept { return value_; }

private:
    std::string media_type_;
    std::any value_;
};

/// CodecEntry is a codec as the registry holds it, type-erased.
struct CodecEntry {
    /// media_type is the (logical) type the codec reads and writes.
    std::string media_type;
    /// value_type is the C++ type encode takes and decode returns.
    std::type_index value_type;
    /// A readable name of the value type, for error messages.
    std::string value_type_name;
    /// encode turns a value (held as value_type) into bytes.
    std::function<std::string(const std::any&)> encode;
    /// decode turns bytes into a value of value_type; Error(invalid_input) on
    /// bytes it cannot read.
    std::function<std::any(std::string_view)> decode;
    /// check validates a stream with bounded memory (see Codec); empty when
    /// the codec can only decode whole blobs.
    std::function<std::string(content::ReadStream&)> check = {};
};

/// CodecRegistry maps media types and file extensions to codecs.
/// Thread-safe: lookups may run while codecs are added.
class CodecRegistry {
public:
    /// CodecRegistry starts empty; `global()` holds the built-ins.
    CodecRegistry() = default;

    /// global returns the process-wide registry, holding the built-in
    /// codecs: .json, .jsonl, .npy, .p/.pkl/.pickle, text (.txt, .log, .sh),
    /// raw bytes, directory trees, and the eight OMMX payload types
    /// (codecs/ommx.h; by media type only, OMMX gives them no extension).
    static CodecRegistry& global();

    /// add registers codec C for its media type and for each of
    /// `extensions` (".csv"), replacing earlier registrations of either.
    template <Codec C>
    void add(std::vector<std::string> extensions = {}) {
        using T = typename C::value_type;
        add_entry(CodecEntry{
                      .media_type = std::string(C::media_type),
                      .value_type = typeid(T),
                      .value_type_name = type_name(typeid(T)),
                      .encode = [](const std::any& v) { return C::encode(std::any_cast<const T&>(v)); },
                      .decode = [](std::string_view b) -> std::any { return C::decode(b); },
                      .check = make_check<C>(),
                  },
                  std::move(extensions));
    }

    /// add_entry registers a type-erased codec.
    void add_entry(CodecEntry entry, std::vector<std::string> extensions);

    /// by_media_type returns the codec for `media_type` (a `+zstd` suffix
    /// is looked through): the one registered for it; else, for a type
    /// sealrun itself may give a file (any text/ type, or a type listed in
    /// /etc/mime.types; docs/FORMAT.md "Media types"), the codec registered
    /// for text/plain (text/ types) or for application/octet-stream (raw
    /// bytes, every other type); else nullptr.
    std::shared_ptr<const CodecEntry> by_media_type(std::string_view media_type) const;

    /// registered_codec returns the codec registered for exactly
    /// `media_type` (a `+zstd` suffix is looked through), or nullptr.
    std::shared_ptr<const CodecEntry> registered_codec(std::string_view media_type) const;

    /// extension_codec returns the codec registered for the file name
    /// `name`'s extension (case-sensitive, e.g. ".json"; the extension is
    /// the base name's own, and a leading dot starts none), or nullptr.
    std::shared_ptr<const CodecEntry> extension_codec(std::string_view name) const;

    /// by_extension returns extension_codec(name), or for a name with no
    /// registered extension the text codec (nullptr when no text codec is
    /// registered). save_file writes text through it; the media type a file
    /// is sealed under is decided by its content too (docs/FORMAT.md).
    std::shared_ptr<const CodecEntry> by_extension(std::string_view name) const;

    /// media_types returns every registered media type, sorted.
    std::vector<std::string> media_types() const;

private:
    template <class C>
    static std::function<std::string(content::ReadStream&)> make_check() {
        if constexpr (StreamingCheck<C>) return [](content::ReadStream& in) { return C::check(in); };
        else return {};
    }

    mutable std::shared_mutex mu_;
    std::map<std::string, std::shared_ptr<const CodecEntry>, std::less<>> by_type_;
    std::map<std::string, std::shared_ptr<const CodecEntry>, std::less<>> by_ext_;
};

/// logical_media_type returns `stored` without a trailing `+zstd`.
std::string_view logical_media_type(std::string_view stored) noexcept;

/// encode_value encodes `value` with the codec for `media_type` in
/// `registry`. Throws Error(unsupported) when no codec is registered and
/// Error(invalid_input) when `value` is not the codec's value type.
std::string encode_value(const CodecRegistry& registry, std::string_view media_type, const std::any& value);

/// decode_value decodes `bytes` stored under `stored_media_type`:
/// decompresses a `+zstd` type first, then decodes with the codec of the
/// logical type. Throws Error(unsupported) when no codec is registered.
Value decode_value(const CodecRegistry& registry, std::string_view stored_media_type, std::string_view bytes);

}  // namespace sealrun
