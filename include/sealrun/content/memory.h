#pragma once
/// A Target held entirely in memory: for tests and small in-process work.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sealrun/content/target.h"

namespace sealrun::content {

/// MemoryTarget keeps blobs and tags in memory. Thread-safe.
class MemoryTarget final : public Target, public Deleter, public ReferencePusher {
public:
    /// resolve returns what the tag or digest `reference` names; throws
    /// Error(not_found) when it names nothing here.
    oci::Descriptor resolve(std::string_view reference) override;
    /// exists reports whether a blob with `desc.digest` is stored.
    bool exists(const oci::Descriptor& desc) override;
    /// push stores `content` once it has read all of it and it verified
    /// against `desc`; a blob already stored is kept.
    void push(const oci::Descriptor& desc, ReadStream& content) override;
    /// tag points `reference` at the stored `desc`, replacing what it named.
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    /// tags returns every tag, sorted.
    std::vector<std::string> tags() override;
    /// remove forgets the blob `desc` names and every tag naming it; throws
    /// Error(not_found) when it is absent.
    void remove(const oci::Descriptor& desc) override;
    /// push_reference is push() then tag(), the tag checked first so a
    /// malformed one stores nothing.
    void push_reference(const oci::Descriptor& desc, ReadStream& content, std::string_view reference) override;

    /// blob_count returns how many distinct blobs are stored.
    std::size_t blob_count() const;

protected:
    /// open_blob streams the stored bytes without copying them.
    std::unique_ptr<ReadStream> open_blob(const oci::Descriptor& desc) override;

private:
    struct Entry {
        oci::Descriptor desc;
        std::shared_ptr<const std::string> bytes;
    };
    mutable std::mutex mu_;
    std::unordered_map<oci::Digest, Entry> blobs_;
    std::map<std::string, oci::Descriptor, std::less<>> tags_;
};

}  // namespace sealrun::content
