#include "cli/scratch.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

// The live scratch directories, read by the signal handler: `used` is set
// after `path` is written and cleared before the slot is reused.
struct Slot {
    std::atomic<bool> used{false};
    char path[PATH_MAX] = {};
    int lock_fd = -1;
};
std::array<Slot, 16> slots;
std::mutex slots_mutex;  // serializes make_scratch and remove_scratch

// remove_tree_at removes `name` (relative to `dirfd`) and everything below
// it using system calls only, so a signal handler may call it.
void remove_tree_at(int dirfd, const char* name, int depth) noexcept {
    if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
    if (depth > 16) return;
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    alignas(8) char buf[4096];
    // Entries removed while reading may shift the rest: read again until a
    // pass finds nothing (a few passes at most).
    for (int pass = 0; pass < 8; ++pass) {
        bool removed = false;
        ::lseek(fd, 0, SEEK_SET);
        for (;;) {
            const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name.
                std::uint16_t reclen = 0;
                std::memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char* entry = buf + off + 19;
                off += reclen;
                if (reclen == 0) break;
                if (std::strcmp(entry, ".") == 0 || std::strcmp(entry, "..") == 0) continue;
                remove_tree_at(fd, entry, depth + 1);
                removed = true;
            }
        }
        if (!removed) break;
    }
    ::close(fd);
    ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

void on_signal(int sig) {
    const int saved = errno;
    for (auto& s : slots)
        if (s.used.load(std::memory_order_acquire)) remove_tree_at(AT_FDCWD, s.path, 0);
    ::signal(sig, SIG_DFL);
    ::raise(sig);  // delivered when the handler returns: the process dies of it
    errno = saved;
}

void install_handlers() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction old {};
            if (::sigaction(sig, nullptr, &old) != 0) continue;
            if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) continue;  // ignored or handled elsewhere
            struct sigaction sa {};
            sa.sa_handler = on_signal;
            sigemptyset(&sa.sa_mask);
            for (const int other : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, other);
            ::sigaction(sig, &sa, nullptr);
        }
    });
}

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
        fs::remove_all(dir, ec);  // under the lock, so a maker that raced us notices (make_scratch)
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
        for (const auto& e : fs::directory_iterator(tmp, ec)) {
            if (!e.path().filename().string().starts_with(prefix)) continue;
            struct stat st {};
            if (::lstat(e.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
            if (remove_if_stale(e.path(), st)) ++removed;
        }
    } catch (...) {
        // Sweeping is best effort; it never fails a command.
    }
    return removed;
}

fs::path make_scratch() {
    sweep_scratch();
    install_handlers();
    std::error_code ec;
    const auto tmp = fs::absolute(fs::temp_directory_path(ec));
    if (ec) throw Error(Errc::io, "create scratch directory", "$TMPDIR", ec.message());
    std::lock_guard guard(slots_mutex);
    Slot* slot = nullptr;
    for (auto& s : slots)
        if (!s.used.load()) slot = &s;
    if (slot == nullptr) throw Error(Errc::io, "create scratch directory", tmp.string(), "too many at once");
    for (int attempt = 0; attempt < 8; ++attempt) {
        std::string name = (tmp / (std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
        if (name.size() >= PATH_MAX - 64) throw Error(Errc::io, "create scratch directory", name, "path too long");
        if (::mkdtemp(name.data()) == nullptr)  // mode 0700
            throw Error(Errc::io, "create scratch directory", name, std::strerror(errno));
        const fs::path dir = name;
        const int fd = ::open((dir / lock_name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == ENOENT) continue;  // swept before the lock existed: take another
            const int e = errno;
            fs::remove_all(dir, ec);
            throw Error(Errc::io, "create scratch directory", name, std::strerror(e));
        }
        while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0 || st.st_nlink == 0) {  // a sweeper removed it before we held the lock
            ::close(fd);
            continue;
        }
        std::memcpy(slot->path, name.c_str(), name.size() + 1);
        slot->lock_fd = fd;
        slot->used.store(true, std::memory_order_release);
        return dir;
    }
    throw Error(Errc::io, "create scratch directory", tmp.string(), "no stable directory after 8 attempts");
}

void remove_scratch(const fs::path& dir) noexcept {
    std::lock_guard guard(slots_mutex);
    for (auto& s : slots) {
        if (!s.used.load() || dir != s.path) continue;
        std::error_code ec;
        fs::remove_all(dir, ec);  // still locked: no sweeper races us
        s.used.store(false, std::memory_order_release);
        ::close(s.lock_fd);
        s.lock_fd = -1;
        return;
    }
}

}  // namespace sealrun::cli
