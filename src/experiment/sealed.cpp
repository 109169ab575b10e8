// Reading sealed experiments (docs/FORMAT.md): SealedExperiment, SealedRun
// and the Attachments getters they share.
#include "sealrun/experiment/sealed.h"

#include <algorithm>
#include <climits>
#include <set>

#include "oci/reader.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/path.h"
#include "experiment/trace_slot.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;
using namespace oci::detail;

namespace {

constexpr std::size_t max_config_size = 64 * 1024 * 1024;

[[noreturn]] void invalid(const std::string& subject, const std::string& why) {
    throw Error(Errc::invalid_input, "open", subject, why);
}

// Part is one sealed manifest and its config document, checked.
struct Part {
    oci::ImageManifest manifest;
    nlohmann::json config;
    std::map<std::string, std::size_t> table;
    std::uint64_t version = 0;
};

Part open_part(content::Target& target, const oci::Descriptor& desc, std::string_view artifact_type,
               std::string_view config_type) {
    const auto who = desc.digest.str();
    if (!oci::is_manifest_type(desc.media_type)) invalid(who, "is " + desc.media_type + ", not an image manifest");
    auto manifest = oci::ImageManifest::parse(content::read_all(target, desc, oci::max_manifest_size));
    if (manifest.artifact_type != artifact_type)
        invalid(who, std::string(artifact_type == format::run_artifact_type ? "is not a sealed run" : "is not sealrun's experiment-attachments manifest") +
                         " (artifactType " + manifest.artifact_type.value_or("absent") + ", expected " + std::string(artifact_type) + ")");
    if (manifest.config.media_type != config_type)
        invalid(who, "config mediaType is " + manifest.config.media_type + ", expected " + std::string(config_type));
    auto config = oci::parse_json_strict(content::read_all(target, manifest.config, max_config_size),
                                         "config " + manifest.config.digest.str(), max_config_size);
    require_object(config, "config");
    const auto* v = field(config, "version");
    if (v == nullptr || !v->is_number_unsigned() || !format::is_config_version(v->get<std::uint64_t>()))
        fail("config.version", "must be " + std::to_string(format::min_config_version) + " to " +
                                   std::to_string(format::config_version) + " (this sealrun reads no other)");
    const auto version = v->get<std::uint64_t>();
    const auto* att = field(config, "attachments");
    if (att == nullptr || !att->is_object()) fail("config.attachments", "must be an object");
    Part p{std::move(manifest), std::move(config), {}, version};
    std::set<std::size_t> used;
    for (const auto& [name, idx] : att->items()) {
        const auto path = "config.attachments." + name;
        if (!idx.is_number_unsigned()) fail(path, "must be a layer index");
        const auto i = idx.get<std::size_t>();
        if (i >= p.manifest.layers.size())
            fail(path, "layer index " + std::to_string(i) + " is out of range (" +
                           std::to_string(p.manifest.layers.size()) + " layers)");
        if (!used.insert(i).second) fail(path, "layer " + std::to_string(i) + " is named twice");
        std::string safe;
        try {
            safe = safe_relative_path(name);
        } catch (const Error& e) {
            fail(path, "unsafe attachment name: " + e.reason());
        }
        if (safe != name) fail(path, "attachment name is not in normal form (\"" + safe + "\")");
        const auto& ann = p.manifest.layers[i].annotations;
        const auto title = ann.find(std::string(oci::annotations::title));
        if (title == ann.end() || title->second != name)
            fail("layers[" + std::to_string(i) + "]", "title annotation does not match attachment \"" + name + "\"");
        p.table.emplace(name, i);
    }
    return p;
}


}  // namespace

Attachments::Attachments(content::Target& target, std::vector<oci::Descriptor> layers,
                         std::map<std::string, std::size_t> table, const CodecRegistry& codecs)
    : target_(&target), layers_(std::move(layers)), table_(table.begin(), table.end()), codecs_(&codecs) {}

std::vector<std::string> Attachments::names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : table_) out.push_back(n);
    return out;
}

bool Attachments::contains(std::string_view name) const { return table_.find(name) != table_.end(); }

const oci::Descriptor& Attachments::descriptor(std::string_view name) const {
    auto it = table_.find(name);
    if (it == table_.end()) throw Error(Errc::not_found, "get attachment", std::string(name), "no attachment of that name");
    return layers_[it->second];
}

std::string Attachments::media_type(std::string_view name) const {
    return std::string(logical_media_type(descriptor(name).media_type));
}

std::string Attachments::compression(std::string_view name) const {
    const auto& stored = descriptor(name).media_type;
    return logical_media_type(stored) == stored ? std::string() : std::string("zstd");
}

// open_plain returns the attachment's verified bytes as a stream,
// decompressed (as it streams) when it is stored "+zstd", at most
// `max_size` bytes of them.
std::unique_ptr<content::ReadStream> Attachments::open_plain(const oci::Descriptor& d, std::size_t max_size) const {
    auto in = target_->fetch(d);  // verifies as it streams
    if (logical_media_type(d.media_type) == d.media_type) return in;
    return std::make_unique<ZstdReadStream>(std::move(in), max_size);
}

std::string Attachments::blob(std::string_view name) const {
    const auto& d = descriptor(name);
    if (logical_media_type(d.media_type) == d.media_type) return content::read_all(*target_, d, max_attachment_read);
    return content::read_to_string(*open_plain(d, max_attachment_read), max_attachment_read, name);
}

Value Attachments::value(std::string_view name) const {
    const auto& d = descriptor(name);
    if (!codecs_->by_media_type(d.media_type))
        throw Error(Errc::unsupported, "get attachment", std::string(name),
                    "no codec is registered for its media type " + d.media_type + " (get_blob reads the bytes)");
    return decode_value(*codecs_, logical_media_type(d.media_type), blob(name));
}

void Attachments::check_codec(std::string_view name, std::string_view codec_media_type) const {
    const auto& stored = descriptor(name).media_type;
    if (logical_media_type(stored) != codec_media_type)
        throw Error(Errc::invalid_input, "get attachment", std::string(name),
                    "is stored as " + stored + ", the codec reads " + std::string(codec_media_type));
}

fs::path Attachments::write(std::string_view name, const fs::path& path, bool overwrite) const {
    const auto& d = descriptor(name);
    const auto rel = safe_relative_path(name);
    fs::path target = path;
    if (fs::is_directory(path)) {
        fs::path p = path;
        for (const auto& part : fs::path(rel).parent_path()) {
            p /= part;
            if (fs::is_symlink(fs::symlink_status(p)))
                throw Error(Errc::invalid_input, "write attachment", p.string(), "refusing to write through a symlink");
        }
        target = path / rel;
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw Error(Errc::io, "create directory", target.parent_path().string(), ec.message());
    }
    const auto st = fs::symlink_status(target);
    if (fs::exists(st) || fs::is_symlink(st)) {
        if (!overwrite) throw Error(Errc::already_exists, "write attachment", target.string(), "exists; pass --overwrite to replace it");
        if (fs::is_directory(st)) throw Error(Errc::already_exists, "write attachment", target.string(), "is a directory");
    }
    util::TempFile tmp(util::directory_of(target));
    // Streamed (and decompressed as it streams), whatever the size; the end
    // of the stream is reached only when the stored blob verified.
    const auto in = open_plain(d, SIZE_MAX);
    std::vector<std::byte> buf(content::default_chunk_size);
    while (const auto n = in->read(buf)) tmp.write(std::span(buf).first(n));
    tmp.commit(target, true);  // only verified content becomes visible
    return target;
}

SealedRun SealedRun::open(content::Target& target, std::string_view reference, const CodecRegistry& codecs) {
    const auto manifest = target.resolve(reference);
    try {
        return open(target, manifest, codecs);
    } catch (const Error& e) {
        if (e.subject() != manifest.digest.str()) throw;
        throw Error(e.code(), e.operation(), std::string(reference), e.reason());
    }
}

SealedRun SealedRun::open(content::Target& target, const oci::Descriptor& manifest, const CodecRegistry& codecs) {
    auto part = open_part(target, manifest, format::run_artifact_type, format::run_config_type);
    SealedRun r(Attachments(target, part.manifest.layers, part.table, codecs));
    r.manifest_ = manifest;
    r.target_ = &target;
    const auto& c = part.config;
    r.run_id_ = req_int(c, "config", "run_id");
    r.status_ = req_string(c, "config", "status");
    if (!format::is_status(r.status_)) fail("config.status", "\"" + r.status_ + "\" is not finished, failed or interrupted");
    if (const auto* reason = field(c, "reason"); reason != nullptr && !reason->is_null()) {
        if (!reason->is_string()) fail("config.reason", "must be a string or null");
        r.reason_ = reason->get<std::string>();
    }
    if (const auto* params = field(c, "parameters")) {
        if (!params->is_object()) fail("config.parameters", "must be an object");
        for (const auto& [k, v] : params->items()) r.parameters_.emplace(k, parameter_from_json(v, "config.parameters." + k));
    }
    if (const auto* solves = field(c, "solves")) {
        if (!solves->is_array()) fail("config.solves", "must be an array");
        std::set<std::int64_t> ids;
        for (std::size_t i = 0; i < solves->size(); ++i) {
            const auto path = "config.solves[" + std::to_string(i) + "]";
            auto s = SolveRecord::from_json((*solves)[i], path);
            if (!ids.insert(s.solve_id).second) fail(path, "solve id " + std::to_string(s.solve_id) + " repeats");
            if (!r.attachments_.contains(s.input)) fail(path, "input \"" + s.input + "\" is not an attachment");
            if (s.output && !r.attachments_.contains(*s.output)) fail(path, "output \"" + *s.output + "\" is not an attachment");
            r.solves_.push_back(std::move(s));
        }
        std::sort(r.solves_.begin(), r.solves_.end(), [](const auto& a, const auto& b) { return a.solve_id < b.solve_id; });
    }
    const auto slot = detail::trace_slot(c, part.version, part.manifest.layers, part.table);
    if (slot.layer) r.trace_ = part.manifest.layers[*slot.layer];
    if (slot.attachment) r.trace_ = r.attachments_.descriptor(*slot.attachment);
    r.config_ = std::move(part.config);
    return r;
}

std::optional<nlohmann::json> SealedRun::trace() const {
    if (!trace_) return std::nullopt;
    // A version-1 trace is an attachment, maybe "+zstd"; a trace layer never is.
    if (const auto it = config_.find("trace"); it != config_.end() && it->is_string())
        return codecs::JsonCodec::decode(attachments_.blob(it->get<std::string>()));
    return oci::parse_json_strict(content::read_all(*target_, *trace_, max_attachment_read), "trace " + trace_->digest.str(),
                                  max_attachment_read);
}

SealedExperiment SealedExperiment::open(content::Target& target, std::string_view reference, const CodecRegistry& codecs) {
    auto root = target.resolve(reference);
    const std::string who(reference);
    if (!oci::is_index_type(root.media_type))
        invalid(who, "is not a sealed experiment (" + root.media_type + ", not an experiment index)");
    auto index = oci::ImageIndex::parse(content::read_all(target, root, oci::max_manifest_size));
    const auto& ann = index.annotations;
    auto annotation = [&](std::string_view key) -> std::optional<std::string> {
        auto it = ann.find(std::string(key));
        if (it == ann.end()) return std::nullopt;
        return it->second;
    };
    // An older tool may have dropped artifactType; the annotation survives.
    const bool typed = index.artifact_type == format::experiment_artifact_type ||
                       (!index.artifact_type && annotation(format::keys::artifact_type) == format::experiment_artifact_type);
    if (!typed) invalid(who, "is not a sealed experiment (artifactType and annotation " +
                                 std::string(format::keys::artifact_type) + " do not say so)");
    auto name = annotation(format::keys::experiment_name).value_or("");
    auto status = annotation(format::keys::experiment_status).value_or("");
    SealedExperiment e(target, codecs, std::move(root), std::move(index));  // `ann` dangles from here on
    e.name_ = std::move(name);
    e.status_ = std::move(status);
    if (e.name_.empty()) fail("annotations", std::string(format::keys::experiment_name) + " is required");
    if (!format::is_status(e.status_)) fail("annotations", std::string(format::keys::experiment_status) + " is not a known status");
    for (std::size_t i = 0; i < e.index_.manifests.size(); ++i) {
        const auto& d = e.index_.manifests[i];
        const auto path = "manifests[" + std::to_string(i) + "]";
        const auto part = d.annotations.find(std::string(format::keys::part));
        if (part == d.annotations.end()) continue;  // not ours: tolerated
        if (part->second == format::part_run) {
            const auto id = d.annotations.find(std::string(format::keys::run_id));
            if (id == d.annotations.end()) fail(path, "run entry lacks " + std::string(format::keys::run_id));
            // Canonical decimal only: no sign, no spaces, no leading zeros.
            const auto& text = id->second;
            const bool canonical = !text.empty() && text.size() <= 18 &&
                                   std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                                   (text == "0" || text.front() != '0');
            if (!canonical) fail(path, "run id \"" + text + "\" is not a canonical non-negative integer");
            const std::int64_t n = std::stoll(text);
            if (!e.runs_.emplace(n, i).second) fail(path, "run id " + id->second + " repeats");
        } else if (part->second == format::part_attachments) {
            if (e.attachments_index_) fail(path, "a second experiment-attachments entry");
            e.attachments_index_ = i;
        }
    }
    return e;
}

std::vector<std::int64_t> SealedExperiment::run_ids() const {
    std::vector<std::int64_t> out;
    for (const auto& [id, _] : runs_) out.push_back(id);
    return out;
}

SealedRun SealedExperiment::run(std::int64_t id) const {
    auto it = runs_.find(id);
    if (it == runs_.end()) throw Error(Errc::not_found, "open run", std::to_string(id), "the experiment has no such run");
    auto r = SealedRun::open(*target_, index_.manifests[it->second], *codecs_);
    if (r.run_id() != id)
        invalid("run " + std::to_string(id), "its config says run_id " + std::to_string(r.run_id()));
    return r;
}

std::vector<SealedRun> SealedExperiment::runs() const {
    std::vector<SealedRun> out;
    for (const auto& [id, _] : runs_) out.push_back(run(id));
    return out;
}

ParameterTable SealedExperiment::parameters() const {
    ParameterTable t;
    std::set<std::string> names;
    const auto all = runs();
    for (const auto& r : all)
        for (const auto& [k, _] : r.parameters()) names.insert(k);
    t.columns.assign(names.begin(), names.end());
    for (const auto& r : all) {
        t.run_ids.push_back(r.run_id());
        std::vector<nlohmann::json> row;
        for (const auto& c : t.columns) {
            auto it = r.parameters().find(c);
            row.push_back(it == r.parameters().end() ? nlohmann::json(nullptr) : parameter_to_json(it->second));
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

const Attachments& SealedExperiment::attachments() const {
    if (!attachments_) {
        if (!attachments_index_) {
            attachments_ = std::make_shared<const Attachments>(*target_, std::vector<oci::Descriptor>{},
                                                               std::map<std::string, std::size_t>{}, *codecs_);
            return *attachments_;
        }
        auto part = open_part(*target_, index_.manifests[*attachments_index_], format::attachments_artifact_type,
                              format::attachments_config_type);
        attachments_ = std::make_shared<const Attachments>(*target_, part.manifest.layers, part.table, *codecs_);
    }
    return *attachments_;
}

std::vector<std::string> SealedExperiment::attachment_names() const { return attachments().names(); }

}  // namespace sealrun
