#include "sealrun/records/record.h"

#include <algorithm>
#include <chrono>

#include <fcntl.h>

#include "codecs/media_types.h"
#include "sealrun/codecs/jsonl.h"
#include "sealrun/codecs/tar.h"
#include "sealrun/error.h"
#include "sealrun/oci/digest.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/path.h"
#include "util/clock.h"
#include "records/record_files.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;
using namespace records_detail;

namespace {

constexpr int record_format_version = 1;
// The model.json key holding the media types given per file.
constexpr std::string_view media_types_key = "media_types";
constexpr std::size_t max_file_size = std::size_t{16} << 30;

// refuse_reserved throws Error(invalid_input) naming `rel` when sealrun
// keeps that name for its own files (path.h): a user's file of that name
// would be skipped at seal time, or overwrite sealrun's own.
void refuse_reserved(std::string_view op, const std::string& rel) {
    if (auto why = reserved_record_name(rel); !why.empty()) throw Error(Errc::invalid_input, std::string(op), rel, why);
}

// Refuses to write through a symlink anywhere below the record directory:
// a link placed in the record must not carry a save outside it.
void check_no_symlink(const fs::path& root, const std::string& rel) {
    fs::path p = root;
    for (const auto& part : fs::path(rel)) {
        p /= part;
        if (fs::is_symlink(util::entry_status(p)))
            throw Error(Errc::invalid_input, "write", p.string(), "refusing to write through a symlink in the record");
    }
}

}  // namespace

RecordPath::RecordPath(std::string_view path) : rel_(safe_relative_path(path)) {}

RecordPath::RecordPath(std::initializer_list<std::string_view> segments) {
    std::string joined;
    for (auto s : segments) {
        if (s.empty()) continue;
        if (s.front() == '/')
            throw Error(Errc::invalid_input, "check path", "\"" + std::string(s) + "\"", "absolute segments are refused");
        if (!joined.empty()) joined += '/';
        joined += s;
    }
    rel_ = safe_relative_path(joined);
}

struct Record::Lock {
    explicit Lock(const fs::path& p) : lock(p) {}
    util::FileLock lock;
};

Record::Record(RecordStore& store, std::string kind, nlohmann::json config)
    : store_(&store), kind_(std::move(kind)), config_(std::move(config)) {
    identity_ = std::string(oci::Digest::of(oci::canonical_json({{"config", config_}, {"kind", kind_}})).encoded());
    materialized_ = fs::exists(util::followed_status(dir() / std::string(model_file)));
}

Record::~Record() = default;
Record::Record(Record&&) noexcept = default;
Record& Record::operator=(Record&&) noexcept = default;

fs::path Record::dir() const { return store_->root() / "records" / identity_; }

template <class Fn>
static auto locked(bool held, const fs::path& lock_path, Fn&& fn) {
    if (held) return fn();
    util::FileLock lock(lock_path);
    return fn();
}

nlohmann::json Record::model() const {
    const auto path = dir() / std::string(model_file);
    return oci::parse_json_strict(util::read_file(path, max_model_size), path.string(), max_model_size);
}

void Record::update_model(const nlohmann::json& changes) {
    const auto guard = write_lock();
    materialize();
    const auto lock_path = store_->root() / "records" / (identity_ + ".lock");
    locked(launch_lock_ != nullptr, lock_path, [&] {
        auto doc = model();
        for (const auto& [key, value] : changes.items()) {  // top-level replace, never a deep merge
            if (value.is_null()) doc.erase(key);
            else doc[key] = value;
        }
        util::write_file_atomic(dir() / std::string(model_file), oci::canonical_json(doc), store_->durable());
    });
}

void Record::materialize() {
    const auto guard = write_lock();
    if (materialized_) return;
    const auto records = store_->root() / "records";
    util::make_directories(records);
    locked(launch_lock_ != nullptr, records / (identity_ + ".lock"), [&] {
        const auto model_path = dir() / std::string(model_file);
        if (fs::exists(util::followed_status(model_path))) {
            if (model().value("identity", "") != identity_)
                throw Error(Errc::invalid_input, "materialize", model_path.string(), "model.json names another identity");
            return;
        }
        util::make_directories(dir());
        const nlohmann::json model = {
            {"kind", kind_}, {"config", config_}, {"identity", identity_}, {"version", record_format_version},
            {"created", util::utc_now()}, {"cached", false}, {"status", "new"},
        };
        util::write_file_atomic(model_path, oci::canonical_json(model), store_->durable());
    });
    materialized_ = true;
    auto pending = std::move(pending_);
    pending_.clear();
    std::map<std::string, std::string> types;  // the last save of a path decides its type
    for (const auto& p : pending) {
        write_file(p.path, p.bytes, p.tree);
        types[p.path] = p.media_type;
    }
    for (const auto& [rel, type] : types)
        if (!type.empty()) set_media_type(rel, type);
}

fs::path Record::local_directory(const std::optional<RecordPath>& sub) {
    materialize();
    return sub ? dir() / sub->str() : dir();
}

void Record::write_file(const std::string& rel, const std::string& bytes, bool tree) {
    check_no_symlink(dir(), rel);
    const auto target = dir() / rel;
    util::make_directories(target.parent_path());
    if (tree) {
        codecs::TarCodec::decode(bytes).write(target, true);
        return;
    }
    util::TempFile tmp(target.parent_path());
    tmp.write(std::as_bytes(std::span(bytes.data(), bytes.size())));
    tmp.commit(target, store_->durable());
}

void Record::save_any(const RecordPath& path, const std::any& value, std::string_view media_type) {
    const auto guard = write_lock();
    before_write("save_file");
    const auto& rel = path.str();
    refuse_reserved("save_file", rel);
    if (!media_type.empty()) media::check_override(rel, media_type);
    std::string bytes;
    const bool tree = value.type() == typeid(codecs::DirectoryTree);
    if (tree) {
        const auto& t = std::any_cast<const codecs::DirectoryTree&>(value);
        for (const auto& e : t.entries) refuse_reserved("save_file", rel + "/" + e.path);
        bytes = codecs::TarCodec::encode(t);
    } else if (const auto* raw = std::any_cast<codecs::Bytes>(&value)) {
        // Raw bytes go under any name; a codec that decodes something else
        // (the type given, else the name's) must accept them, so a file is
        // never sealed under a type its bytes contradict.
        const auto& codecs = store_->codecs();
        auto codec = media_type.empty() ? codecs.extension_codec(rel) : codecs.registered_codec(media_type);
        if (codec && codec->value_type != std::type_index(typeid(codecs::Bytes)) && !media::is_text_type(codec->media_type)) {
            try {
                (void)codec->decode(raw->data);
            } catch (const Error& e) {
                throw Error(Errc::invalid_input, "save_file", rel,
                            "the bytes are not " + codec->media_type + " (" + e.reason() +
                                "); give a media type to save them as they are");
            }
        }
        bytes = raw->data;
    } else {
        auto codec = store_->codecs().by_extension(rel);
        if (!codec) throw Error(Errc::unsupported, "save_file", rel, "no codec for this extension and no text codec");
        if (codec->value_type != std::type_index(value.type()))
            throw Error(Errc::invalid_input, "save_file", rel,
                        "its codec (" + codec->media_type + ") takes " + codec->value_type_name + ", not " +
                            type_name(value.type()));
        bytes = codec->encode(value);
    }
    if (materialized_) {
        write_file(rel, bytes, tree);
        set_media_type(rel, media_type);
    } else {
        pending_.push_back({rel, std::move(bytes), tree, std::string(media_type)});
    }
}

std::map<std::string, std::string> Record::media_types() const {
    std::map<std::string, std::string> out;
    if (!materialized_) return out;
    const auto doc = model();
    const auto it = doc.find(media_types_key);
    if (it == doc.end() || !it->is_object()) return out;
    for (const auto& [name, type] : it->items())
        if (type.is_string()) out.emplace(name, type.get<std::string>());
    return out;
}

// set_media_type records (or, for an empty type, forgets) the media type
// the user gave `rel`, in model.json under the record's lock.
void Record::set_media_type(const std::string& rel, std::string_view media_type) {
    if (media_type.empty() && !media_types().contains(rel)) return;
    materialize();
    const auto lock_path = store_->root() / "records" / (identity_ + ".lock");
    locked(launch_lock_ != nullptr, lock_path, [&] {
        auto doc = model();
        auto& types = doc[std::string(media_types_key)];
        if (!types.is_object()) types = nlohmann::json::object();
        if (media_type.empty()) types.erase(rel);
        else types[rel] = std::string(media_type);
        if (types.empty()) doc.erase(std::string(media_types_key));
        util::write_file_atomic(dir() / std::string(model_file), oci::canonical_json(doc), store_->durable());
    });
}

std::optional<std::any> Record::load_any(const RecordPath& path) const {
    const auto& rel = path.str();
    const auto given = media_types();
    auto decode = [&](const std::string& bytes, const std::string& where) -> std::any {
        // The codec of the file's media type (docs/FORMAT.md "Media types"):
        // the type given at save or import, else the name's codec, else the
        // type the content decides; a type without a codec reads as bytes.
        const auto& codecs = store_->codecs();
        std::shared_ptr<const CodecEntry> codec;
        if (auto it = given.find(rel); it != given.end()) codec = codecs.by_media_type(it->second);
        else codec = codecs.extension_codec(rel);
        if (!codec && !given.contains(rel)) codec = codecs.by_media_type(media::detect_bytes(codecs, rel, bytes));
        if (!codec) codec = codecs.registered_codec(oci::media_types::octet_stream);
        if (!codec) throw Error(Errc::unsupported, "load_file", where, "no codec for this file's media type");
        try {
            return codec->decode(bytes);
        } catch (const Error& e) {
            throw Error(e.code(), "load_file", where, e.reason());
        }
    };
    if (!materialized_) {
        for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
            if (it->path != rel) continue;
            if (it->tree) return std::any(codecs::TarCodec::decode(it->bytes));
            return decode(it->bytes, rel);
        }
        return std::nullopt;
    }
    const auto target = dir() / rel;
    const auto st = util::followed_status(target);
    if (!fs::exists(st)) return std::nullopt;
    if (fs::is_directory(st)) return std::any(codecs::DirectoryTree::read(target));
    return decode(util::read_file(target, max_file_size), target.string());
}

void Record::import_file(const RecordPath& path, const fs::path& source, std::string_view media_type) {
    const auto guard = write_lock();
    before_write("import_file");
    const auto& rel = path.str();
    refuse_reserved("import_file", rel);
    if (!media_type.empty()) media::check_override(rel, media_type);
    materialize();
    check_no_symlink(dir(), rel);
    const auto target = dir() / rel;
    util::make_directories(target.parent_path());
    auto in = util::open_read(source);
    util::TempFile tmp(target.parent_path());
    tmp.write_from(in.get(), source);
    tmp.commit(target, store_->durable());
    set_media_type(rel, media_type);
}

void Record::note_sealed(const std::string& digest) {
    materialize();
    auto sealed = model().value("sealed", nlohmann::json::array());
    if (!sealed.is_array()) sealed = nlohmann::json::array();
    for (const auto& d : sealed)
        if (d == digest) return;
    sealed.push_back(digest);
    update_model({{"sealed", sealed}});
}

void Record::append_jsonl(const RecordPath& path, const nlohmann::json& record) {
    const auto guard = write_lock();
    before_write("append_jsonl");
    const auto& rel = path.str();
    refuse_reserved("append_jsonl", rel);
    auto codec = store_->codecs().by_extension(rel);
    if (!codec || codec->media_type != codecs::JsonLinesCodec::media_type)
        throw Error(Errc::invalid_input, "append_jsonl", rel, "appending records needs a .jsonl file");
    const auto line = codecs::JsonLinesCodec::encode_record(record);
    if (!materialized_) {
        for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
            if (it->path == rel) {
                it->bytes += line;
                return;
            }
        }
        pending_.push_back({rel, line, false});
        return;
    }
    check_no_symlink(dir(), rel);
    const auto target = dir() / rel;
    util::make_directories(target.parent_path());
    if (util::shares_storage(target)) {
        // The file is (or may be) a sealed blob's storage too (a hard link
        // made by OciLayout::ingest_file): never write it in place; a new
        // file with the old lines and the new one replaces the name.
        auto in = util::open_read(target, util::Follow::no);
        util::TempFile tmp(target.parent_path());
        tmp.write_from(in.get(), target);
        tmp.write(std::as_bytes(std::span(line.data(), line.size())));
        tmp.commit(target, store_->durable());
        return;
    }
    util::Fd fd(::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) util::throw_errno("open", target);
    util::write_all(fd.get(), std::as_bytes(std::span(line.data(), line.size())), target);
}

void Record::launch() {
    if (cached()) return;
    const auto records = store_->root() / "records";
    util::make_directories(records);
    launch_lock_ = std::make_unique<Lock>(records / (identity_ + ".lock"));
    struct Release {
        std::unique_ptr<Lock>& lock;
        ~Release() { lock.reset(); }
    } release{launch_lock_};
    materialize();
    if (model().value("cached", false)) return;  // another process finished it meanwhile
    update_model({{"status", "running"}, {"reason", nullptr}});
    try {
        body();
    } catch (const std::exception& e) {
        update_model({{"status", "failed"}, {"reason", e.what()}, {"cached", false}});
        throw;
    } catch (...) {
        update_model({{"status", "failed"}, {"reason", "unknown exception"}, {"cached", false}});
        throw;
    }
    update_model({{"status", "finished"}, {"cached", true}});
}

bool Record::cached() const { return materialized_ && model().value("cached", false); }

void Record::cached(bool value) {
    if (!value && !materialized_) return;
    materialize();
    update_model({{"cached", value}});
}

std::vector<std::string> Record::files() const {
    std::vector<std::string> out;
    if (!materialized_) return out;
    const auto root = dir();
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const auto st = util::entry_status(it->path());
        const auto rel = it->path().lexically_relative(root).generic_string();
        if (fs::is_directory(st)) continue;
        if (fs::is_symlink(st))
            throw Error(Errc::invalid_input, "list record", it->path().string(), "records may not hold symlinks");
        if (!fs::is_regular_file(st))
            throw Error(Errc::invalid_input, "list record", it->path().string(), "records may only hold regular files");
        // model.json, the trace and the temporary files of a writer in progress
        // (or one that died) are sealrun's own; no user file has their names.
        if (!reserved_record_name(rel).empty()) continue;
        out.push_back(safe_relative_path(rel));
    }
    if (ec) throw Error(Errc::io, "list record", root.string(), ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

std::string Record::status() const { return materialized_ ? model().value("status", "new") : "new"; }

void Record::mark(const std::string& name, nlohmann::json value) { markers_.insert_or_assign(name, std::move(value)); }

nlohmann::json Record::marker(const std::string& name, nlohmann::json fallback) const {
    auto it = markers_.find(name);
    return it == markers_.end() ? fallback : it->second;
}

}  // namespace sealrun
