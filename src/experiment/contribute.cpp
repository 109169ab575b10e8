// Workers' side of collect (sealrun/experiment/collect.h, docs/FORMAT.md
// "Contributions and collect"): the contribution tag and contribute().
#include <cctype>
#include <chrono>
#include <thread>
#include <map>

#include "sealrun/content/copy.h"
#include "sealrun/content/stream.h"
#include "sealrun/error.h"
#include "sealrun/experiment/collect.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"

namespace sealrun {

namespace {

constexpr std::size_t max_readable_segment = 40;
constexpr std::size_t hashed_segment_hex = 24;
constexpr std::size_t max_worker_size = 256;

// segment is a name as it appears in a contribution tag: itself when it
// is short and made of [A-Za-z0-9_-] (not starting with '-'), else '-' and
// a hash prefix. A readable segment never starts with '-', so the two
// forms never meet, and no segment holds '.', the separator.
std::string segment(std::string_view name) {
    bool readable = !name.empty() && name.size() <= max_readable_segment && name.front() != '-';
    for (const char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) readable = false;
    if (readable) return std::string(name);
    return "-" + std::string(oci::Digest::of(name).encoded().substr(0, hashed_segment_hex));
}

void check_worker(std::string_view worker) {
    if (worker.empty()) throw Error(Errc::invalid_input, "contribute", "worker", "a worker id must not be empty");
    if (worker.size() > max_worker_size)
        throw Error(Errc::invalid_input, "contribute", "worker", "a worker id is at most 256 bytes");
}

// Overlay serves the rewritten run manifests from memory and everything
// else from `base`, so content::copy moves a rewritten manifest with the
// base's blobs below it.
class Overlay final : public content::ReadOnlyTarget {
public:
    explicit Overlay(content::ReadOnlyTarget& base) : base_(base) {}
    void add(const oci::Descriptor& desc, std::string bytes) { extra_[desc.digest.str()] = {desc, std::move(bytes)}; }
    oci::Descriptor resolve(std::string_view reference) override {
        if (const auto it = extra_.find(std::string(reference)); it != extra_.end()) return it->second.first;
        return base_.resolve(reference);
    }
    bool exists(const oci::Descriptor& desc) override {
        return extra_.contains(desc.digest.str()) || base_.exists(desc);
    }
    std::vector<std::string> tags() override { return base_.tags(); }

protected:
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override {
        if (const auto it = extra_.find(desc.digest.str()); it != extra_.end())
            return std::make_unique<content::BytesStream>(it->second.second);
        return base_.fetch(desc);
    }

private:
    content::ReadOnlyTarget& base_;
    std::map<std::string, std::pair<oci::Descriptor, std::string>> extra_;
};

constexpr int copy_attempts = 4;

// copy_run copies one contribution and tags it (force: the tag is this
// worker's own; a retried worker replaces it). docker-registry 2.8 may
// refuse a manifest with MANIFEST_BLOB_UNKNOWN (HTTP 400, Errc::protocol)
// while another worker commits an upload of the same blob (a result file
// every worker writes alike); the copy is idempotent, so it is started
// again: blobs found missing are uploaded once more.
void copy_run(content::ReadOnlyTarget& src, const oci::Descriptor& desc, content::Target& dst, const std::string& tag,
              const ContributeOptions& options) {
    for (int attempt = 1;; ++attempt) {
        try {
            content::copy(src, desc.digest.str(), dst, tag, {.concurrency = options.concurrency, .force = true});
            return;
        } catch (const Error& e) {
            if (attempt == copy_attempts || (e.code() != Errc::protocol && e.code() != Errc::network)) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * attempt)));
    }
}

}  // namespace

std::string contribution_tag_prefix(std::string_view experiment) {
    if (experiment.empty()) throw Error(Errc::invalid_input, "contribute", "experiment", "the experiment name is empty");
    return "contrib." + segment(experiment) + ".";
}

std::string contribution_tag(std::string_view experiment, std::string_view worker, std::int64_t local_run_id) {
    check_worker(worker);
    if (local_run_id < 0)
        throw Error(Errc::invalid_input, "contribute", "run " + std::to_string(local_run_id), "a run id is not negative");
    return contribution_tag_prefix(experiment) + segment(worker) + "." + std::to_string(local_run_id);
}

std::vector<Contribution> contribute(content::ReadOnlyTarget& src, std::string_view reference, content::Target& dst,
                                     std::string_view worker, const ContributeOptions& options) {
    check_worker(worker);
    const auto experiment = SealedExperiment::open(src, reference);
    std::vector<Contribution> out;
    for (const auto id : experiment.run_ids()) {
        const auto run = experiment.run(id);  // checked by the run rules
        auto manifest = oci::parse_json_strict(content::read_all(src, run.manifest(), oci::max_manifest_size),
                                               "run " + std::to_string(id) + " manifest");
        manifest["annotations"][std::string(format::keys::run_worker)] = std::string(worker);
        auto bytes = oci::canonical_json(manifest);
        auto desc = oci::Descriptor::for_bytes(run.manifest().media_type, bytes);
        desc.artifact_type = std::string(format::run_artifact_type);
        Overlay overlay(src);
        overlay.add(desc, std::move(bytes));
        Contribution c{.tag = contribution_tag(experiment.name(), worker, id), .local_run_id = id, .manifest = desc};
        copy_run(overlay, desc, dst, c.tag, options);
        if (options.on_pushed) options.on_pushed(c);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<Contribution> contribute(Experiment& experiment, content::Target& local, content::Target& dst,
                                     std::string_view worker, const ContributeOptions& options) {
    check_worker(worker);
    const auto tag = contribution_tag_prefix(experiment.name()) + segment(worker);
    const auto root = experiment.commit(local, tag, {.force = true});
    return contribute(local, root.digest.str(), dst, worker, options);
}

}  // namespace sealrun
