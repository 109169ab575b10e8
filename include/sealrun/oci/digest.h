#pragma once
/// Content digests: `algorithm ":" encoded`, image-spec v1.1 "Digests".

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace sealrun::oci {

/// Digest is a parsed, grammar-valid content identifier such as
/// `sha256:2c26b4…`. Values are immutable and compare by their string form.
///
/// Every digest that matches the spec's grammar parses; only the registered
/// algorithms `sha256` (64 lowercase hex) and `sha512` (128 lowercase hex)
/// are checked for their encoded form and can be verified
/// (image-spec descriptor.md#digests).
class Digest {
public:
    /// Digest is the sha256 digest of zero bytes, so a default descriptor
    /// (size 0) is self-consistent.
    Digest();

    /// parse reads `text`; throws Error(invalid_input) naming the reason when
    /// it breaks the grammar or a registered algorithm's encoding.
    static Digest parse(std::string_view text);

    /// of returns the sha256 digest of `bytes`.
    static Digest of(std::span<const std::byte> bytes);
    /// of returns the sha256 digest of `text`'s bytes.
    static Digest of(std::string_view text);

    /// algorithm returns the part before the colon, e.g. "sha256".
    std::string_view algorithm() const noexcept;
    /// encoded returns the part after the colon.
    std::string_view encoded() const noexcept;
    /// str returns the whole digest, e.g. "sha256:2c26…".
    const std::string& str() const noexcept { return text_; }
    /// verifiable reports whether sealrun can compute this digest's algorithm.
    bool verifiable() const noexcept;

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;

private:
    friend class Hasher;
    explicit Digest(std::string text, std::size_t colon) : text_(std::move(text)), colon_(colon) {}
    std::string text_;
    std::size_t colon_ = 0;
};

/// Hasher computes a digest incrementally over streamed bytes (OpenSSL EVP).
/// Not thread-safe; movable, not copyable.
class Hasher {
public:
    /// Hasher starts a sha256 hash.
    Hasher();
    /// Hasher starts a hash for `algorithm` ("sha256" or "sha512"); throws
    /// Error(unsupported) for any other algorithm.
    explicit Hasher(std::string_view algorithm);
    /// ~Hasher frees the OpenSSL context.
    ~Hasher();
    /// Hasher moves the hashing state.
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;

    /// update feeds more bytes.
    void update(std::span<const std::byte> bytes);
    /// finish returns the digest of everything fed; the hasher is spent afterwards.
    Digest finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sealrun::oci

template <>
struct std::hash<sealrun::oci::Digest> {
    std::size_t operator()(const sealrun::oci::Digest& d) const noexcept {
        return std::hash<std::string>{}(d.str());
    }
};
