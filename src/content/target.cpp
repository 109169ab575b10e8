#include "sealrun/content/target.h"

#include <optional>
#include <span>

#include "sealrun/error.h"
#include "util/fs.h"

namespace sealrun::content {

void tag_with(Target& target, const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) {
    if (auto* conditional = dynamic_cast<ConditionalTagger*>(&target)) return conditional->tag(desc, reference, policy);
    if (policy == TagPolicy::keep) {
        std::optional<oci::Descriptor> current;
        try {
            current = target.resolve(reference);
        } catch (const Error& e) {
            if (e.code() != Errc::not_found) throw;
        }
        if (current && current->digest != desc.digest) throw tag_exists(reference, current->digest);
    }
    target.tag(desc, reference);
}

Error tag_exists(std::string_view reference, const oci::Digest& current) {
    return Error(Errc::already_exists, "tag", std::string(reference),
                 "already names " + current.str() + "; pass --force to move it");
}

std::unique_ptr<VerifyingStream> ReadOnlyTarget::fetch(const oci::Descriptor& desc) {
    // Embedded data is verified like stored content: a hand-built
    // descriptor may carry anything.
    auto raw = desc.data ? std::make_unique<BytesStream>(*desc.data) : open_blob(desc);
    return std::make_unique<VerifyingStream>(std::move(raw), desc);
}

namespace {

// check_read_size refuses content `desc` names whose size passes `max_size`.
void check_read_size(const oci::Descriptor& desc, std::size_t max_size) {
    if (desc.size < 0 || static_cast<std::uint64_t>(desc.size) > max_size)
        throw Error(Errc::too_large, "read", desc.digest.str(),
                    "size " + std::to_string(desc.size) + " exceeds the limit of " + std::to_string(max_size) +
                        " bytes");
}

}  // namespace

std::string read_all(ReadOnlyTarget& target, const oci::Descriptor& desc, std::size_t max_size) {
    check_read_size(desc, max_size);
    // The size is known and checked: one buffer of exactly that size, read
    // into in place (no regrowth, no staging copy), then one more read
    // reaches the end, where the stream verifies size and digest.
    auto stream = target.fetch(desc);
    std::string out = util::buffer_for(static_cast<std::size_t>(desc.size));
    const auto got = read_fully(*stream, std::as_writable_bytes(std::span(out.data(), out.size())));
    std::byte extra[1];
    if (got != out.size() || stream->read(extra) != 0)
        throw Error(Errc::size_mismatch, "read", desc.digest.str(),
                    "content is " + std::string(got != out.size() ? "shorter" : "longer") + " than its descriptor's " +
                        std::to_string(desc.size) + " bytes");
    return out;
}

std::pair<oci::Descriptor, std::string> read_reference(ReadOnlyTarget& target, std::string_view reference,
                                                       std::size_t max_size) {
    if (auto* reader = dynamic_cast<ReferenceReader*>(&target)) {
        auto got = reader->read_reference(reference);
        check_read_size(got.first, max_size);  // its size is its bytes' (for_bytes)
        return got;
    }
    auto desc = target.resolve(reference);
    auto bytes = read_all(target, desc, max_size);
    return {std::move(desc), std::move(bytes)};
}

void push_bytes(Target& target, const oci::Descriptor& desc, std::string bytes) {
    BytesStream s(std::move(bytes));
    target.push(desc, s);
}

}  // namespace sealrun::content
