#include "util/fs.h"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealrun/error.h"

namespace sealrun::util {

void Fd::reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void throw_errno(std::string_view op, const std::filesystem::path& path) {
    const int e = errno;
    throw Error(e == ENOENT ? Errc::not_found : Errc::io, std::string(op), path.string(), std::strerror(e));
}

Error fs_error(std::string_view op, const std::filesystem::path& path, const std::error_code& ec) {
    const bool missing = ec == std::errc::no_such_file_or_directory;
    return Error(missing ? Errc::not_found : Errc::io, std::string(op), path.string(), ec.message());
}

std::filesystem::file_status entry_status(const std::filesystem::path& path) {
    std::error_code ec;
    const auto st = std::filesystem::symlink_status(path, ec);
    if (ec && st.type() != std::filesystem::file_type::not_found) throw fs_error("stat", path, ec);
    return st;
}

std::filesystem::file_status followed_status(const std::filesystem::path& path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec && st.type() != std::filesystem::file_type::not_found) throw fs_error("stat", path, ec);
    return st;
}

void make_directories(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(Errc::io, "create directory", dir.string(), ec.message());
}

Fd open_read(const std::filesystem::path& path, Follow follow) {
    // O_NONBLOCK: opening a FIFO for reading would wait for a writer forever.
    const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow == Follow::no ? O_NOFOLLOW : 0);
    Fd fd(::open(path.c_str(), flags));
    if (!fd) {
        if (errno == ELOOP && follow == Follow::no)
            throw Error(Errc::invalid_input, "open", path.string(), "is a symbolic link; refusing to follow it");
        throw_errno("open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("stat", path);
    if (!S_ISREG(st.st_mode)) throw Error(Errc::invalid_input, "open", path.string(), "is not a regular file");
    if (::fcntl(fd.get(), F_SETFL, O_RDONLY) != 0) throw_errno("fcntl", path);
    return fd;
}

std::optional<std::int64_t> regular_file_size(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throw_errno("stat", path);
    }
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<std::int64_t>(st.st_size);
}

std::optional<std::chrono::seconds> file_age(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throw_errno("stat", path);
    }
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(now) - std::chrono::seconds(st.st_mtim.tv_sec);
}

bool real_directory(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;
        throw_errno("stat", path);
    }
    if (S_ISLNK(st.st_mode))
        throw Error(Errc::invalid_input, "open directory", path.string(), "is a symbolic link; refusing to follow it");
    if (!S_ISDIR(st.st_mode)) throw Error(Errc::invalid_input, "open directory", path.string(), "is not a directory");
    return true;
}

std::size_t read_some(int fd, std::span<std::byte> buf, const std::filesystem::path& path) {
    for (;;) {
        const auto n = ::read(fd, buf.data(), buf.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw_errno("read", path);
    }
}

void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("write", path);
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

void fsync_fd(int fd, const std::filesystem::path& path) {
    if (::fsync(fd) != 0) throw_errno("fsync", path);
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
    const auto parent = path.parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
}

Fd open_directory(const std::filesystem::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open directory", dir);
    return fd;
}

void fsync_dir(const std::filesystem::path& given) {
    const auto dir = given.empty() ? std::filesystem::path(".") : given;
    fsync_fd(open_directory(dir).get(), dir);
}

void sync_filesystem(int fd, const std::filesystem::path& path) {
    if (::syncfs(fd) != 0) throw_errno("sync the file system of", path);
}

std::string random_token() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string s(16, '0');
    auto v = rng();
    for (auto& c : s) {
        c = hex[v & 0xf];
        v >>= 4;
    }
    return s;
}

namespace {
std::string proc_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }
// An O_TMPFILE file can only be given a name through /proc (linkat).
bool can_link_unnamed() {
    static const bool ok = ::access("/proc/self/fd", X_OK) == 0;
    return ok;
}
}  // namespace

TempFile::TempFile(const std::filesystem::path& dir) {
    const std::filesystem::path where = dir.empty() ? std::filesystem::path(".") : dir;
    if (can_link_unnamed()) {
        fd_ = Fd(::open(where.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
        if (fd_) {
            unnamed_ = true;
            path_ = dir / (std::string(temp_prefix) + random_token());
            return;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) throw_errno("create temporary file", where);
    }
    for (int attempt = 0; attempt < 16; ++attempt) {
        path_ = dir / (std::string(temp_prefix) + random_token());
        fd_ = Fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd_) return;
        if (errno != EEXIST) throw_errno("create temporary file", path_);
    }
    throw Error(Errc::io, "create temporary file", dir.string(), "no free name after 16 attempts");
}

std::filesystem::path temp_directory(std::string_view operation) {
    std::error_code ec;
    auto tmp = std::filesystem::temp_directory_path(ec);
    if (ec) throw Error(Errc::io, std::string(operation), "the temporary directory", ec.message());
    return tmp;
}

ScratchDir::ScratchDir(std::string_view prefix) {
    auto templ = (temp_directory("create directory") / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) throw_errno("create directory", templ);
    path_ = templ;
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

TempFile::~TempFile() {
    if (!committed_) {
        fd_.reset();
        if (!unnamed_) ::unlink(path_.c_str());
    }
}

Fd TempFile::reopen() const {
    if (!unnamed_) return open_read(path_);
    Fd fd(::open(proc_fd_path(fd_.get()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("reopen temporary file", path_);
    return fd;
}

void TempFile::write(std::span<const std::byte> bytes) {
    write_all(fd_.get(), bytes, path_);
    written_ += static_cast<std::int64_t>(bytes.size());
    constexpr std::int64_t writeback_step = 8 << 20;
    if (early_writeback_ && written_ - flushed_ >= writeback_step) {
        // Only starts writeback; a failure here is caught by commit's fsync.
        (void)::sync_file_range(fd_.get(), flushed_, written_ - flushed_, SYNC_FILE_RANGE_WRITE);
        flushed_ = written_;
    }
}

void TempFile::write_from(int fd, const std::filesystem::path& src) {
    std::array<std::byte, std::size_t{64} << 10> buf;
    while (const auto n = read_some(fd, buf, src)) write(std::span(buf).first(n));
}

void TempFile::commit(const std::filesystem::path& dest, bool durable) {
    if (durable) fsync_fd(fd_.get(), path_);
    if (unnamed_) {
        // Name it beside `dest`, then rename over it (linkat cannot replace).
        for (int attempt = 0;; ++attempt) {
            if (::linkat(AT_FDCWD, proc_fd_path(fd_.get()).c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
            if (errno != EEXIST || attempt >= 16) throw_errno("link temporary file", path_);
            path_ = path_.parent_path() / (std::string(temp_prefix) + random_token());
        }
        unnamed_ = false;  // from here on the destructor unlinks it if the rename fails
    }
    fd_.reset();
    if (::rename(path_.c_str(), dest.c_str()) != 0) throw_errno("rename into place", dest);
    committed_ = true;
    if (durable) fsync_dir(directory_of(dest));
}

std::filesystem::path temp_name(const std::filesystem::path& dir) {
    return dir / (std::string(temp_prefix) + random_token());
}

bool clone_file(int src_fd, int dst_fd, const std::filesystem::path& src) {
    if (::ioctl(dst_fd, FICLONE, src_fd) == 0) return true;
    switch (errno) {
        case EOPNOTSUPP:
        case ENOTTY:
        case EINVAL:
        case EXDEV:
        case EPERM:
        case ENOSYS:
        case EBADF:  // the destination was opened without write access
            return false;
        default:
            throw_errno("clone", src);
    }
}

bool link_open_file(int fd, const std::filesystem::path& dest, const std::filesystem::path& src) {
    if (!can_link_unnamed()) return false;
    if (::linkat(AT_FDCWD, proc_fd_path(fd).c_str(), AT_FDCWD, dest.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
    switch (errno) {
        case EXDEV:
        case EPERM:
        case EMLINK:
        case EOPNOTSUPP:
        case ENOSYS:
        case EACCES:
            return false;
        case EEXIST:
            throw Error(Errc::already_exists, "link", dest.string(), "exists");
        default:
            throw_errno("link " + src.string() + " as", dest);
    }
}

bool make_read_only(int fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno("stat", path);
    const auto mode = st.st_mode & 07777;
    if ((mode & 0222) == 0) return true;
    if (::fchmod(fd, mode & ~mode_t{0222}) == 0) return true;
    if (errno == EPERM) return false;
    throw_errno("make read-only", path);
}

bool shares_storage(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return false;
        throw_errno("stat", path);
    }
    return S_ISREG(st.st_mode) && (st.st_nlink > 1 || (st.st_mode & 0222) == 0);
}

void write_file_atomic(const std::filesystem::path& dest, std::string_view bytes, bool durable) {
    TempFile tmp(directory_of(dest));
    tmp.write(std::as_bytes(std::span(bytes.data(), bytes.size())));
    tmp.commit(dest, durable);
}

std::string read_file(const std::filesystem::path& path, std::size_t max_size, Follow follow) {
    auto fd = open_read(path, follow);
    std::string out;
    std::byte buf[64 * 1024];
    for (;;) {
        const auto n = read_some(fd.get(), buf, path);
        if (n == 0) return out;
        if (out.size() + n > max_size)
            throw Error(Errc::too_large, "read", path.string(),
                        "file exceeds the limit of " + std::to_string(max_size) + " bytes");
        out.append(reinterpret_cast<const char*>(buf), n);
    }
}

namespace {
Fd open_lock_file(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644));
    if (!fd) throw_errno("open lock file", path);
    return fd;
}
int flock_op(LockMode mode) { return mode == LockMode::shared ? LOCK_SH : LOCK_EX; }
}  // namespace

FileLock::FileLock(const std::filesystem::path& path, LockMode mode) : fd_(open_lock_file(path)) {
    while (::flock(fd_.get(), flock_op(mode)) != 0) {
        if (errno != EINTR) throw_errno("lock", path);
    }
}

std::optional<FileLock> FileLock::try_for(const std::filesystem::path& path, LockMode mode,
                                          std::chrono::milliseconds timeout) {
    FileLock lock;
    lock.fd_ = open_lock_file(path);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(2);
    for (;;) {
        if (::flock(lock.fd_.get(), flock_op(mode) | LOCK_NB) == 0) return lock;
        if (errno != EWOULDBLOCK && errno != EINTR) throw_errno("lock", path);
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

FileLock::~FileLock() {
    if (fd_) ::flock(fd_.get(), LOCK_UN);
}

std::string buffer_for(std::size_t size) {
    std::string out;
    constexpr std::size_t huge = std::size_t{2} << 20;
    if (size > 2 * huge) {
        out.reserve(size);  // allocated, not yet touched
        const auto begin = reinterpret_cast<std::uintptr_t>(out.data());
        const auto first = (begin + huge - 1) / huge * huge;
        const auto last = (begin + size) / huge * huge;
        if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
    out.resize(size);
    return out;
}

}  // namespace sealrun::util
