// The one writer of experiment indexes (index_writer.h, docs/FORMAT.md §3).
#include "experiment/index_writer.h"

#include <algorithm>
#include <set>

#include "sealrun/content/target.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/model.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::detail {

oci::Descriptor write_experiment_index(content::Target& dst, const IndexParts& parts) {
    std::vector<const RunEntry*> runs;
    runs.reserve(parts.runs.size());
    for (const auto& r : parts.runs) runs.push_back(&r);
    std::sort(runs.begin(), runs.end(), [](const RunEntry* a, const RunEntry* b) { return a->run_id < b->run_id; });
    for (std::size_t i = 1; i < runs.size(); ++i)
        if (runs[i]->run_id == runs[i - 1]->run_id)
            throw Error(Errc::invalid_input, "commit", "run " + std::to_string(runs[i]->run_id), "run id appears twice");

    oci::ImageIndex index{.artifact_type = std::string(format::experiment_artifact_type)};
    std::vector<std::string> statuses;
    for (const auto* r : runs) {
        auto d = r->manifest;
        d.artifact_type = std::string(format::run_artifact_type);
        d.data.reset();
        d.annotations = {{std::string(format::keys::part), std::string(format::part_run)},
                         {std::string(format::keys::run_id), std::to_string(r->run_id)},
                         {std::string(format::keys::run_status), r->status}};
        statuses.push_back(r->status);
        index.manifests.push_back(std::move(d));
    }
    if (parts.attachments) {
        auto d = *parts.attachments;
        d.artifact_type = std::string(format::attachments_artifact_type);
        d.annotations = {{std::string(format::keys::part), std::string(format::part_attachments)}};
        index.manifests.push_back(std::move(d));
    }
    index.subject = parts.subject;
    index.annotations = parts.annotations;
    index.annotations[std::string(format::keys::artifact_type)] = std::string(format::experiment_artifact_type);
    index.annotations[std::string(format::keys::experiment_name)] = parts.name;
    index.annotations[std::string(format::keys::experiment_status)] =
        parts.status.empty() ? std::string(format::roll_up_status(statuses)) : parts.status;
    auto bytes = index.serialize();
    auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    if (!dst.exists(root)) content::push_bytes(dst, root, std::move(bytes));
    root.artifact_type = index.artifact_type;
    return root;
}

}  // namespace sealrun::detail
