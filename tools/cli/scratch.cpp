#include "cli/scratch.h"

#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sealrun/error.h>

namespace sealrun::cli {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view prefix = "sealrun-archive-";
constexpr const char* lock_name = "owner.lock";
// A folder without owner.lock is stale only after this long: its maker may
// be between mkdtemp() and taking the lock.
constexpr auto unlocked_age = std::chrono::hours(1);

// maker_alive reports whether the process whose pid a scratch directory's
// name carries (prefix, pid, '-', random) may still be running; true when
// the name says nothing clear, so such a directory is kept.
bool maker_alive(const std::string& name) {
    long pid = 0;
    std::size_t i = prefix.size();
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < INT_MAX / 10; ++i) pid = pid * 10 + (name[i] - '0');
    if (i == prefix.size() || i >= name.size() || name[i] != '-' || pid <= 0) return true;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

// remove_if_stale removes `dir` when its owner is gone; true when removed.
bool remove_if_stale(const fs::path& dir, const struct stat& st) {
    std::error_code ec;
    const int fd = ::open((dir / lock_name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT) return false;
        // No lock yet: its maker was killed between mkdtemp and the lock, or
        // is there right now. The name carries the maker's pid: a dead one is
        // gone for good; otherwise only an old directory is taken.
        const auto age = std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime);
        if (age < unlocked_age && maker_alive(dir.filename().string())) return false;
        fs::remove_all(dir, ec);
        return !ec;
    }
    bool removed = false;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {  // nobody holds it: its process is gone
        fs::remove_all(dir, ec);  // under the lock, so an older maker that raced us noticed
        removed = !ec;
    }
    ::close(fd);
    return removed;
}

}  // namespace

std::size_t sweep_scratch() noexcept {
    std::size_t removed = 0;
    try {
        std::error_code ec;
        const auto tmp = fs::temp_directory_path(ec);
        if (ec) return 0;
        for (fs::directory_iterator e(tmp, ec), end; !ec && e != end; e.increment(ec)) {
            if (!e->path().filename().string().starts_with(prefix)) continue;
            struct stat st {};
            if (::lstat(e->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
            if (remove_if_stale(e->path(), st)) ++removed;
        }
    } catch (...) {
        // Sweeping is best effort; it never fails a command.
    }
    return removed;
}

}  // namespace sealrun::cli
