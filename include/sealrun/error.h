#pragma once
/// sealrun's one error model.
///
/// Expected outcomes ("is this blob here?") are return values (`bool`,
/// `std::optional`). Real failures throw `sealrun::Error`, which carries a
/// short `Errc` code, the operation that failed, the thing it failed on (a
/// reference, digest or path) and a human-readable reason. Foreign errors
/// (OpenSSL, errno, later libcurl and libarchive) are translated into it in
/// one place each. No message ever contains a secret.

#include <stdexcept>
#include <string>
#include <string_view>

namespace sealrun {

/// Errc names the kind of failure, stable enough to branch on.
enum class Errc {
    not_found,        ///< a reference, digest or path does not exist
    already_exists,   ///< the destination holds something that must not be replaced
    digest_mismatch,  ///< content does not hash to the digest it was promised under
    size_mismatch,    ///< content is shorter or longer than its descriptor says
    too_large,        ///< content exceeds a size cap (e.g. the 4 MiB manifest limit)
    invalid_input,    ///< malformed JSON, digest, media type, reference or argument
    unsupported,      ///< well-formed but not implemented (e.g. an unknown digest algorithm)
    unauthorized,     ///< credentials missing or rejected
    denied,           ///< the credentials are valid but lack permission
    network,          ///< a transport failure
    io,               ///< a local filesystem failure
    protocol,         ///< a peer broke its protocol
};

/// errc_name returns the snake_case name of `code`, e.g. "digest_mismatch".
std::string_view errc_name(Errc code) noexcept;

/// Error is the exception every sealrun function throws on failure.
///
/// `what()` reads "<operation> <subject>: <reason>", e.g.
/// "fetch sha256:ab…: digest mismatch (got sha256:cd…)".
class Error : public std::runtime_error {
public:
    /// Error builds an error; `subject` may be empty.
    Error(Errc code, std::string operation, std::string subject, std::string reason);

    /// code returns the failure kind.
    Errc code() const noexcept { return code_; }
    /// operation returns what was being done, e.g. "push blob".
    const std::string& operation() const noexcept { return operation_; }
    /// subject returns what it was done to: a reference, digest or path.
    const std::string& subject() const noexcept { return subject_; }
    /// reason returns why it failed.
    const std::string& reason() const noexcept { return reason_; }

private:
    Errc code_;
    std::string operation_;
    std::string subject_;
    std::string reason_;
};

}  // namespace sealrun
