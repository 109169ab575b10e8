#include "sealrun/content/memory.h"

#include <cstring>
#include <optional>

#include "sealrun/error.h"

namespace sealrun::content {

namespace {
// SharedBytesStream reads a shared immutable buffer, so fetches never copy.
class SharedBytesStream final : public ReadStream {
public:
    explicit SharedBytesStream(std::shared_ptr<const std::string> b) : bytes_(std::move(b)) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = std::min(buffer.size(), bytes_->size() - pos_);
        std::memcpy(buffer.data(), bytes_->data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    std::shared_ptr<const std::string> bytes_;
    std::size_t pos_ = 0;
};
}  // namespace

oci::Descriptor MemoryTarget::resolve(std::string_view reference) {
    std::lock_guard lock(mu_);
    if (auto it = tags_.find(reference); it != tags_.end()) return it->second;
    if (oci::is_digest_reference(reference)) {
        if (auto it = blobs_.find(oci::Digest::parse(reference)); it != blobs_.end()) return it->second.desc;
    }
    throw Error(Errc::not_found, "resolve", std::string(reference), "no such tag or digest in memory target");
}

bool MemoryTarget::exists(const oci::Descriptor& desc) {
    std::lock_guard lock(mu_);
    return blobs_.contains(desc.digest);
}

std::unique_ptr<ReadStream> MemoryTarget::open_blob(const oci::Descriptor& desc) {
    std::shared_ptr<const std::string> bytes;
    {
        std::lock_guard lock(mu_);
        auto it = blobs_.find(desc.digest);
        if (it == blobs_.end()) throw Error(Errc::not_found, "fetch", desc.digest.str(), "not in memory target");
        bytes = it->second.bytes;
    }
    return std::make_unique<SharedBytesStream>(std::move(bytes));
}

void MemoryTarget::push(const oci::Descriptor& desc, ReadStream& content) {
    if (desc.size < 0) throw Error(Errc::invalid_input, "push", desc.digest.str(), "negative size");
    std::optional<VerifyingStream> verifier;  // read_to_string reads to the verified end
    auto& in = verify_once(content, desc, verifier);
    auto bytes = std::make_shared<std::string>(read_to_string(in, static_cast<std::size_t>(desc.size), desc.digest.str()));
    std::lock_guard lock(mu_);
    blobs_.try_emplace(desc.digest, Entry{desc, std::move(bytes)});
}

void MemoryTarget::tag(const oci::Descriptor& desc, std::string_view reference) {
    oci::check_tag(reference);
    std::lock_guard lock(mu_);
    if (!blobs_.contains(desc.digest)) throw Error(Errc::not_found, "tag", desc.digest.str(), "not in memory target");
    tags_.insert_or_assign(std::string(reference), desc);
}

void MemoryTarget::push_reference(const oci::Descriptor& desc, ReadStream& content, std::string_view reference) {
    oci::check_tag(reference);
    push(desc, content);
    tag(desc, reference);
}

std::vector<std::string> MemoryTarget::tags() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, _] : tags_) out.push_back(name);
    return out;
}

void MemoryTarget::remove(const oci::Descriptor& desc) {
    std::lock_guard lock(mu_);
    if (blobs_.erase(desc.digest) == 0) throw Error(Errc::not_found, "remove", desc.digest.str(), "not in memory target");
    std::erase_if(tags_, [&](const auto& kv) { return kv.second.digest == desc.digest; });
}

std::size_t MemoryTarget::blob_count() const {
    std::lock_guard lock(mu_);
    return blobs_.size();
}

}  // namespace sealrun::content
