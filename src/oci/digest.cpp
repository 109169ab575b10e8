#include "sealrun/oci/digest.h"

#include <array>

#include <openssl/err.h>

#include "sealrun/error.h"
#include "util/handle.h"

namespace sealrun::oci {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_sep(char c) { return c == '+' || c == '.' || c == '_' || c == '-'; }
bool is_encoded_char(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
}
bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

[[noreturn]] void bad(std::string_view text, std::string reason) {
    // A digest may be attacker-supplied: quote at most a bounded prefix.
    std::string shown(text.substr(0, 160));
    throw Error(Errc::invalid_input, "parse digest", "\"" + shown + "\"", std::move(reason));
}

// Expected hex length of the registered algorithms, 0 for unregistered ones.
std::size_t registered_length(std::string_view alg) {
    if (alg == "sha256") return 64;
    if (alg == "sha512") return 128;
    return 0;
}

const EVP_MD* md_for(std::string_view alg) {
    if (alg == "sha256") return EVP_sha256();
    if (alg == "sha512") return EVP_sha512();
    return nullptr;
}

std::string openssl_reason() {
    unsigned long e = ERR_get_error();
    if (e == 0) return "OpenSSL failure";
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    ERR_clear_error();
    return buf.data();
}

}  // namespace

Digest::Digest() : text_("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), colon_(6) {}

Digest Digest::parse(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) bad(text, "missing ':' between algorithm and encoded part");
    const auto alg = text.substr(0, colon);
    const auto enc = text.substr(colon + 1);
    // algorithm ::= component (separator component)*; component ::= [a-z0-9]+
    if (alg.empty()) bad(text, "empty algorithm");
    bool expect_component = true;
    for (char c : alg) {
        if (is_lower_alnum(c)) {
            expect_component = false;
        } else if (is_sep(c) && !expect_component) {
            expect_component = true;
        } else {
            bad(text, "algorithm must be lowercase components joined by one of +._-");
        }
    }
    if (expect_component) bad(text, "algorithm ends with a separator");
    if (enc.empty()) bad(text, "empty encoded part");
    for (char c : enc)
        if (!is_encoded_char(c)) bad(text, "encoded part may only hold [a-zA-Z0-9=_-]");
    if (const auto want = registered_length(alg); want != 0) {
        if (enc.size() != want)
            bad(text, std::string(alg) + " needs " + std::to_string(want) + " hex characters, got " +
                          std::to_string(enc.size()));
        for (char c : enc)
            if (!is_lower_hex(c)) bad(text, std::string(alg) + " needs lowercase hex");
    }
    return Digest(std::string(text), colon);
}

Digest Digest::of(std::span<const std::byte> bytes) {
    Hasher h;
    h.update(bytes);
    return h.finish();
}

Digest Digest::of(std::string_view text) {
    return of(std::as_bytes(std::span(text.data(), text.size())));
}

std::string_view Digest::algorithm() const noexcept { return std::string_view(text_).substr(0, colon_); }
std::string_view Digest::encoded() const noexcept { return std::string_view(text_).substr(colon_ + 1); }
bool Digest::verifiable() const noexcept { return md_for(algorithm()) != nullptr; }

struct Hasher::Impl {
    util::EvpMdCtx ctx;
    std::string algorithm;
};

Hasher::Hasher() : Hasher("sha256") {}

Hasher::Hasher(std::string_view algorithm) : impl_(std::make_unique<Impl>()) {
    const EVP_MD* md = md_for(algorithm);
    if (md == nullptr)
        throw Error(Errc::unsupported, "hash", std::string(algorithm),
                    "digest algorithm is not supported (sha256 and sha512 are)");
    impl_->algorithm = std::string(algorithm);
    impl_->ctx.reset(EVP_MD_CTX_new());
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), md, nullptr) != 1)
        throw Error(Errc::io, "hash", impl_->algorithm, openssl_reason());
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    if (EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size()) != 1)
        throw Error(Errc::io, "hash", impl_->algorithm, openssl_reason());
}

Digest Hasher::finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &n) != 1)
        throw Error(Errc::io, "hash", impl_->algorithm, openssl_reason());
    static constexpr char hex[] = "0123456789abcdef";
    std::string text = impl_->algorithm + ":";
    text.reserve(text.size() + 2 * n);
    for (unsigned int i = 0; i < n; ++i) {
        text += hex[out[i] >> 4];
        text += hex[out[i] & 0xf];
    }
    const auto colon = impl_->algorithm.size();
    return Digest(std::move(text), colon);
}

}  // namespace sealrun::oci
