// RecordStore: where records live, their identities, and collecting the
// records of sealed runs no tag names any more (docs/RECORDS.md).
#include <algorithm>
#include <chrono>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/records/record.h"
#include "records/record_files.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;
using namespace records_detail;

namespace {
// A named temporary file nobody has written for this long belongs to a
// writer that died (TempFile leaves none where O_TMPFILE works).
constexpr auto stale_temp_age = std::chrono::hours(1);
}  // namespace

RecordStore::RecordStore(fs::path root, CodecRegistry& codecs, RecordStoreOptions options)
    : root_(std::move(root)), codecs_(&codecs), options_(options) {}

std::vector<std::string> RecordStore::identities(std::string_view kind) const {
    std::vector<std::string> out;
    const auto records = root_ / "records";
    std::error_code ec;
    for (fs::directory_iterator it(records, ec), end; !ec && it != end; it.increment(ec)) {
        const auto model = it->path() / std::string(model_file);
        if (!fs::is_directory(util::followed_status(it->path())) || !fs::exists(util::followed_status(model))) continue;
        const auto doc = oci::parse_json_strict(util::read_file(model, max_model_size), model.string(), max_model_size);
        if (kind.empty() || doc.value("kind", "") == kind) out.push_back(it->path().filename().string());
    }
    if (ec && ec != std::errc::no_such_file_or_directory) throw util::fs_error("list records", records, ec);
    std::sort(out.begin(), out.end());
    return out;
}

namespace {

// remove_stale_temps removes temporary files under `dir` that nobody has
// written for stale_temp_age; returns how many.
std::size_t remove_stale_temps(const fs::path& dir, std::uint64_t& bytes) {
    std::size_t removed = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code sec;
        if (it->symlink_status(sec).type() != fs::file_type::regular) continue;
        if (!it->path().filename().string().starts_with(util::temp_prefix)) continue;
        const auto age = util::file_age(it->path());
        if (!age || *age < stale_temp_age) continue;
        const auto size = util::regular_file_size(it->path()).value_or(0);
        std::error_code rec;
        if (fs::remove(it->path(), rec)) {
            ++removed;
            bytes += static_cast<std::uint64_t>(size);
        }
    }
    return removed;
}

std::uint64_t tree_size(const fs::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code sec;
        if (it->symlink_status(sec).type() != fs::file_type::regular) continue;
        // A file with another name (a blob the layout ingested by hard
        // link) keeps its storage when the record goes: not freed here.
        if (it->hard_link_count(sec) > 1) continue;
        const auto size = it->file_size(sec);
        if (!sec) total += size;
    }
    return total;
}

}  // namespace

CollectResult RecordStore::collect(const std::function<std::set<std::string>()>& live_roots) {
    CollectResult result;
    const auto records = root_ / "records";
    if (!util::real_directory(records)) return result;
    const auto started = fs::file_time_type::clock::now();
    const auto live = live_roots();
    std::error_code ec;
    for (fs::directory_iterator it(records, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code sec;  // an entry removed meanwhile is no directory
        if (it->symlink_status(sec).type() != fs::file_type::directory) continue;
        const auto dir = it->path();
        const auto lock_path = records / (dir.filename().string() + ".lock");
        auto lock = util::FileLock::try_for(lock_path, util::LockMode::exclusive, std::chrono::milliseconds(0));
        if (!lock) continue;  // being launched or written
        bool sealed = false;
        try {
            const auto model_path = dir / std::string(model_file);
            const auto doc = oci::parse_json_strict(util::read_file(model_path, max_model_size, util::Follow::no),
                                                    model_path.string(), max_model_size);
            const auto roots = doc.is_object() ? doc.find("sealed") : doc.end();
            std::error_code tec;
            const auto marked = fs::last_write_time(model_path, tec);
            sealed = roots != doc.end() && roots->is_array() && !roots->empty() && doc.value("status", "") != "running" &&
                     !tec && marked < started;
            if (sealed)
                for (const auto& r : *roots)
                    if (!r.is_string() || live.contains(r.get<std::string>())) sealed = false;
        } catch (const Error&) {
            sealed = false;  // not a record we understand: keep it
        }
        if (!sealed) {
            result.temps_removed += remove_stale_temps(dir, result.bytes_removed);
            continue;
        }
        const auto bytes = tree_size(dir);
        std::error_code rec;
        fs::remove_all(dir, rec);
        if (rec) throw Error(Errc::io, "collect record", dir.string(), rec.message());
        fs::remove(lock_path, rec);  // nobody else uses a sealed run's identity
        ++result.records_removed;
        result.bytes_removed += bytes;
    }
    if (ec) throw Error(Errc::io, "collect records", records.string(), ec.message());
    return result;
}

}  // namespace sealrun
