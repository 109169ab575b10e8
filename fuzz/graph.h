#pragma once
// A content graph from one fuzz input, for the sealed reader and validate().
//
// The input is documents separated by "\n@@@\n". Document 0 is the root
// (an image index, tagged "fuzz"); a document may name a later document j
// by "$D<j>" (its sha256 digest) and "$S<j>" (its size), which are filled
// in last to first, so the fuzzer can build an index → manifests → configs
// and layers graph without computing digests.

#include <string>

#include "common.h"
#include "sealrun/content/memory.h"
#include "sealrun/oci/media_type.h"

namespace fuzz {

// fill replaces "$D<j>" and "$S<j>" in `doc` for first <= j < descs.size().
inline std::string fill(const std::string& doc, const std::vector<sealrun::oci::Descriptor>& descs, std::size_t first) {
    std::string out;
    for (std::size_t i = 0; i < doc.size(); ++i) {
        if (doc[i] == '$' && i + 1 < doc.size() && (doc[i + 1] == 'D' || doc[i + 1] == 'S')) {
            std::size_t j = i + 2, n = 0;
            while (j < doc.size() && j < i + 5 && doc[j] >= '0' && doc[j] <= '9') n = n * 10 + static_cast<std::size_t>(doc[j++] - '0');
            if (j > i + 2 && n >= first && n < descs.size()) {
                out += doc[i + 1] == 'D' ? descs[n].digest.str() : std::to_string(descs[n].size);
                i = j - 1;
                continue;
            }
        }
        out += doc[i];
    }
    return out;
}

// build pushes every document of `input` into `target` and tags the root
// "fuzz"; returns false when the input has no root.
inline bool build(std::string_view input, sealrun::content::MemoryTarget& target) {
    namespace oci = sealrun::oci;
    auto docs = split(input);
    if (docs.size() > 64) return false;
    std::vector<oci::Descriptor> descs(docs.size());
    for (std::size_t k = docs.size(); k-- > 0;) {
        docs[k] = fill(docs[k], descs, k + 1);
        descs[k] = oci::Descriptor::for_bytes(std::string(k == 0 ? oci::media_types::image_index : oci::media_types::octet_stream), docs[k]);
        sealrun::content::push_bytes(target, descs[k], docs[k]);
    }
    target.tag(descs[0], "fuzz");
    return true;
}

}  // namespace fuzz
