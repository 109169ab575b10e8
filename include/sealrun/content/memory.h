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
class MemoryTarget final : public Target, public Deleter {
public:
    oci::Descriptor resolve(std::string_view reference) override;
    bool exists(const oci::Descriptor& desc) override;
    void push(const oci::Descriptor& desc, ReadStream& content) override;
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    std::vector<std::string> tags() override;
    void remove(const oci::Descriptor& desc) override;

    /// blob_count returns how many distinct blobs are stored.
    std::size_t blob_count() const;

protected:
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
