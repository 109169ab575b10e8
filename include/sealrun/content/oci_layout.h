#pragma once
/// The local store: an OCI image layout directory (image-spec v1.1
/// image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<encoded>`.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::content {

/// OciLayoutOptions tunes an OciLayout; the zero value is the safe default.
struct OciLayoutOptions {
    /// Skip digest verification on fetch. Only for trusted hot paths over a
    /// layout nobody else writes to.
    bool skip_read_verification = false;
    /// Skip fsync of blobs and directories. Only for throw-away layouts.
    bool skip_fsync = false;
    /// Open an existing layout for reading only: nothing is created, no
    /// lock is taken for writing, and push, tag, remove and gc throw
    /// Error(denied). The constructor throws Error(not_found) when `root`
    /// holds no layout. Readers (show, ls, get, validate) use this.
    bool read_only = false;
};

/// GcResult reports what OciLayout::gc removed.
struct GcResult {
    std::size_t blobs_removed = 0;
    std::uint64_t bytes_removed = 0;
};

/// OciLayout is a Target over an OCI image layout directory, created on
/// first use. Files it does not know are left alone.
///
/// Blobs are written to a temporary file inside the layout while their size
/// and digest are checked, fsynced and renamed into place, so a blob that
/// fails verification never becomes visible. index.json is replaced
/// atomically under an exclusive file lock (`index.json.lock`), so several
/// processes may tag the same layout at once. Tags are the
/// `org.opencontainers.image.ref.name` annotations of index.json's entries.
/// Thread-safe and process-safe.
class OciLayout final : public Target, public Deleter {
public:
    /// OciLayout opens the layout at `root`, creating the directory,
    /// `oci-layout` and an empty `index.json` when absent. Throws
    /// Error(invalid_input) when `oci-layout` names another layout version,
    /// Error(io) when the directory cannot be created.
    explicit OciLayout(std::filesystem::path root, OciLayoutOptions options = {});
    ~OciLayout() override;

    oci::Descriptor resolve(std::string_view reference) override;
    bool exists(const oci::Descriptor& desc) override;
    std::unique_ptr<ReadStream> fetch(const oci::Descriptor& desc) override;
    void push(const oci::Descriptor& desc, ReadStream& content) override;
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    std::vector<std::string> tags() override;
    void remove(const oci::Descriptor& desc) override;

    /// untag removes the tag `reference`; returns false when there was none.
    bool untag(std::string_view reference);

    /// index returns the current index.json, strictly parsed.
    oci::ImageIndex index() const;

    /// gc removes every blob that no entry of index.json reaches through
    /// manifests and indexes, and temporary files left by crashed writers.
    /// It holds the index lock while it runs; do not run it while another
    /// process pushes content it has not tagged yet.
    GcResult gc();

    /// root returns the layout directory.
    const std::filesystem::path& root() const noexcept { return root_; }

    /// blob_path returns where the blob `digest` lives (present or not).
    std::filesystem::path blob_path(const oci::Digest& digest) const;

private:
    void update_index(const std::function<void(oci::ImageIndex&)>& change);

    std::filesystem::path root_;
    OciLayoutOptions options_;
};

}  // namespace sealrun::content
