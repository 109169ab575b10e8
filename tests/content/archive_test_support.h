#pragma once
// Test support for the oci-archive tests: tars made member by member by
// Python's tarfile (another writer than sealrun's own), and a small layout's
// files to put in them.

#include <filesystem>
#include <string>
#include <vector>

#include "sealrun/content/memory.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "support/sample.h"
#include "support/tmpdir.h"

namespace sealrun::test {

// TarMember is one member of a tar made by write_tar: a file of `bytes`, or
// a "dir", "symlink" (to /etc), "hardlink" (to oci-layout) or "fifo".
struct TarMember {
    std::string name;
    std::string bytes;
    std::string kind = "file";
};

// write_tar writes `members` in order to the tar `out` in Python tarfile's
// `format` ("pax", "gnu" or "ustar").
inline void write_tar(const std::filesystem::path& out, const std::vector<TarMember>& members,
                      const std::string& format = "pax") {
    nlohmann::json spec = nlohmann::json::array();
    for (const auto& m : members) {
        std::string hex;
        for (const unsigned char c : m.bytes) {
            hex += "0123456789abcdef"[c >> 4];
            hex += "0123456789abcdef"[c & 15];
        }
        spec.push_back({m.name, hex, m.kind});
    }
    const auto spec_file = out.string() + ".json";
    write_file(spec_file, spec.dump());
    const std::string script = R"(
import io, json, sys, tarfile
out, fmt, spec = sys.argv[1:4]
formats = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}
with tarfile.open(out, "w", format=formats[fmt]) as t:
    for name, hexdata, kind in json.load(open(spec)):
        data = bytes.fromhex(hexdata); info = tarfile.TarInfo(name)
        if kind == "file": info.size = len(data); t.addfile(info, io.BytesIO(data)); continue
        info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                     "fifo": tarfile.FIFOTYPE}[kind]
        info.linkname = {"symlink": "/etc", "hardlink": "oci-layout"}.get(kind, "")
        t.addfile(info)
)";
    const auto r = run({"python3", "-c", script, out.string(), format, spec_file});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    std::filesystem::remove(spec_file);
}

// LayoutFiles is a small tagged artifact as the files of a layout.
struct LayoutFiles {
    Sample sample;
    std::vector<TarMember> members;  // oci-layout, index.json, then the blobs
};

// blob_member is the layout member holding `bytes` under `desc`.
inline TarMember blob_member(const oci::Descriptor& desc, const std::string& bytes) {
    return {"blobs/" + std::string(desc.digest.algorithm()) + "/" + std::string(desc.digest.encoded()), bytes};
}

// layout_files makes an artifact of `layers` layers tagged `tag`.
inline LayoutFiles layout_files(const std::string& seed, int layers, const std::string& tag) {
    content::MemoryTarget mem;
    LayoutFiles f;
    f.sample = push_sample(mem, seed, layers, "");
    oci::ImageIndex index;
    auto entry = f.sample.manifest;
    entry.annotations.emplace(oci::annotations::ref_name, tag);
    index.manifests.push_back(entry);
    f.members = {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}, {"index.json", index.serialize()}};
    f.members.push_back(blob_member(oci::empty_descriptor(), "{}"));
    for (std::size_t i = 0; i < f.sample.layers.size(); ++i)
        f.members.push_back(blob_member(f.sample.layers[i], f.sample.layer_bytes[i]));
    f.members.push_back(blob_member(f.sample.manifest, f.sample.manifest_bytes));
    return f;
}

}  // namespace sealrun::test
