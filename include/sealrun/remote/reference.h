#pragma once
/// Registry references: `host[:port]/repository[:tag|@digest]`
/// (distribution-spec "Pulling manifests", the name and tag grammar).

#include <optional>
#include <string>
#include <string_view>

#include "sealrun/oci/digest.h"

namespace sealrun::remote {

/// Reference names a repository in a registry and optionally a tag or a
/// digest in it.
struct Reference {
    /// "host" or "host:port", e.g. "127.0.0.1:5000", "ghcr.io".
    std::string registry;
    /// Slash-separated path components, e.g. "team/sweeps".
    std::string repository;
    /// The tag, empty when absent.
    std::string tag;
    /// The digest, when the reference pins one.
    std::optional<oci::Digest> digest;

    /// parse reads `text`; the registry host is required (sealrun never
    /// guesses Docker Hub). Throws Error(invalid_input) naming the part
    /// that breaks the grammar.
    static Reference parse(std::string_view text);

    /// reference returns the digest when there is one, else the tag.
    std::string reference() const;
    /// str returns the whole reference in its canonical text form.
    std::string str() const;
    /// is_loopback reports whether the registry host is localhost, an IPv4
    /// literal in 127.0.0.0/8 or [::1] (a DNS name such as
    /// 127.example.com is not: anyone may own it).
    bool is_loopback() const;
};

/// is_valid_repository reports whether `name` matches the distribution-spec
/// name grammar `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
bool is_valid_repository(std::string_view name) noexcept;

}  // namespace sealrun::remote
