#pragma once
// POSIX file helpers: an owned descriptor, durable atomic writes, advisory
// locks. errno is translated into sealrun::Error here and nowhere else.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "sealrun/error.h"

namespace sealrun::util {

// Fd owns one POSIX file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.release();
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset() noexcept;

private:
    int fd_ = -1;
};

// throw_errno throws Error(io) (not_found for ENOENT) naming `op`, `path`
// and strerror(errno).
[[noreturn]] void throw_errno(std::string_view op, const std::filesystem::path& path);

// fs_error returns the Error for a std::filesystem call (its
// std::error_code overload) that failed with `ec` on `path`: not_found for
// a missing entry, io otherwise, naming `op` and `path`. Library code calls
// only the error_code overloads of std::filesystem, or the helpers below,
// so no std::filesystem::filesystem_error escapes (docs/CONVENTIONS.md).
Error fs_error(std::string_view op, const std::filesystem::path& path, const std::error_code& ec);

// entry_status returns what is at `path` itself (lstat: a symbolic link is
// not followed); its type is not_found when nothing is there (no entry, or
// a component above it that is not a directory). Any other failure (a name
// too long, a loop of links, a folder that cannot be searched) throws
// Error(io) naming `path`.
std::filesystem::file_status entry_status(const std::filesystem::path& path);

// followed_status is entry_status following symbolic links (stat).
std::filesystem::file_status followed_status(const std::filesystem::path& path);

// make_directories creates `dir` and its missing parents (nothing when it
// is a directory already); throws Error(io) "create directory" naming `dir`
// when it cannot, e.g. a file stands where a folder is needed.
void make_directories(const std::filesystem::path& dir);

// Follow says whether opening a path may follow a symbolic link in its last
// component.
enum class Follow { yes, no };

// open_read opens a regular file for reading. It never blocks: the file is
// opened O_NONBLOCK, refused with Error(invalid_input) unless fstat says it
// is a regular file (a FIFO, a device, a directory), and only then made
// blocking again. With Follow::no a symbolic link is refused the same way
// (O_NOFOLLOW), and the error says nothing about what it points to.
Fd open_read(const std::filesystem::path& path, Follow follow = Follow::yes);

// regular_file_size returns the size of the regular file at `path` without
// following a symbolic link there (lstat): nullopt when nothing is there or
// it is not a regular file. Throws Error(io) for other failures.
std::optional<std::int64_t> regular_file_size(const std::filesystem::path& path);

// file_age returns how long ago the entry at `path` was last modified
// (lstat), or nullopt when nothing is there.
std::optional<std::chrono::seconds> file_age(const std::filesystem::path& path);

// real_directory reports whether `path` is a directory that is not a
// symbolic link: false when nothing is there; throws Error(invalid_input)
// when it is a symbolic link or not a directory, so a caller never walks out
// of a tree through it.
bool real_directory(const std::filesystem::path& path);
// read_some reads up to buf.size() bytes, retrying on EINTR; 0 at end.
std::size_t read_some(int fd, std::span<std::byte> buf, const std::filesystem::path& path);
void write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path);
void fsync_fd(int fd, const std::filesystem::path& path);
// fsync_dir fsyncs the directory `dir`; an empty `dir` is the working directory.
void fsync_dir(const std::filesystem::path& dir);
// open_directory opens the directory `dir` (following a symbolic link) for
// fsync_dir or sync_filesystem; throws Error(not_found) or Error(io).
Fd open_directory(const std::filesystem::path& dir);
// sync_filesystem writes every dirty page and inode of the file system that
// holds the open file `fd` (`path` names it in errors) to stable storage
// (syncfs(2): one call, whatever it holds dirty, another program's data
// too). Throws Error(io) when the kernel reports a write-back error on that
// file system since `fd` was opened (Linux 5.8 and later; older kernels
// report none).
void sync_filesystem(int fd, const std::filesystem::path& path);
// directory_of is the directory a file at `path` is in: its parent, or "."
// for a bare relative name ("x.tar"), whose parent path is empty. Every
// writer that opens, creates or fsyncs the directory of a file it was given
// goes through it.
std::filesystem::path directory_of(const std::filesystem::path& path);

// temp_prefix starts the name of every temporary file sealrun writes.
inline constexpr std::string_view temp_prefix = ".sealrun-tmp-";

// TempFile is a new file in `dir` that is removed unless it has been
// committed (renamed into place). Where the file system and /proc allow it,
// the file has no name until commit (O_TMPFILE), so a process killed before
// commit (even by SIGKILL) leaves nothing behind; otherwise it is named
// `<temp_prefix><random>` and only the destructor removes it.
class TempFile {
public:
    explicit TempFile(const std::filesystem::path& dir);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const noexcept { return fd_.get(); }
    // path is the name the file has, or will have just before its rename
    // (for messages: an unnamed file cannot be opened by it).
    const std::filesystem::path& path() const noexcept { return path_; }
    // reopen opens the file again for reading from its start (an
    // independent offset), named or not.
    Fd reopen() const;
    void write(std::span<const std::byte> bytes);
    // write_from writes what is left of the open file `fd` (named `src`
    // in messages), through one 64 KiB buffer: a sweep imports hundreds of
    // thousands of small files, and a buffer of megabytes per file is
    // what fragments a long-lived heap.
    void write_from(int fd, const std::filesystem::path& src);
    // will_commit_durably says the file will be made durable (by commit's
    // fsync, or by a later sync_filesystem): its pages are then sent to disk
    // as it grows (every 8 MiB), so that sync waits for the tail only
    // instead of the whole file.
    void will_commit_durably() noexcept { early_writeback_ = true; }
    // commit fsyncs the file (if `durable`), renames it to `dest` and fsyncs
    // `dest`'s directory (if `durable`).
    void commit(const std::filesystem::path& dest, bool durable);

private:
    std::filesystem::path path_;
    Fd fd_;
    bool unnamed_ = false;  // O_TMPFILE: path_ does not exist yet
    bool committed_ = false;
    bool early_writeback_ = false;
    std::int64_t written_ = 0;
    std::int64_t flushed_ = 0;  // bytes whose writeback has been started
};

// random_token returns 16 random hex digits (not for secrets).
std::string random_token();

// temp_name returns a fresh name `<temp_prefix><random>` in `dir` (nothing
// is created: a caller that links or renames to it handles EEXIST).
std::filesystem::path temp_name(const std::filesystem::path& dir);

// clone_file makes the empty file `dst_fd` a copy-on-write clone of
// `src_fd` (the FICLONE ioctl: btrfs, XFS, bcachefs; ext4 and overlayfs have
// none): no byte is copied and a later write to either file leaves the other
// unchanged. Returns false when the file systems cannot clone (EOPNOTSUPP,
// ENOTTY, EINVAL, EXDEV, EPERM, ENOSYS); throws Error(io) naming `src` for
// other failures.
bool clone_file(int src_fd, int dst_fd, const std::filesystem::path& src);

// link_open_file gives the open regular file `fd` the further name `dest`
// (a hard link, made through /proc/self/fd so exactly the file that was
// opened is linked, never whatever its old name points to now). Returns
// false when the file system or the kernel refuses a link there (EXDEV,
// EPERM, EMLINK, EOPNOTSUPP, ENOSYS, EACCES, or no /proc); throws
// Error(already_exists) when `dest` exists and Error(io) otherwise.
bool link_open_file(int fd, const std::filesystem::path& dest, const std::filesystem::path& src);

// make_read_only clears every write bit of the open file `fd`; false when
// the caller may not change its mode (EPERM: not the owner). Throws
// Error(io) otherwise. (The superuser can still write it: sealrun's own
// writers never write a record file in place, see Record.)
bool make_read_only(int fd, const std::filesystem::path& path);

// shares_storage reports whether the regular file at `path` (not following
// a symbolic link) may be a blob's storage too: it has more than one name,
// or no write bit (what OciLayout::ingest_file leaves). A writer must then
// replace the file, never write it in place. False when nothing is there.
bool shares_storage(const std::filesystem::path& path);

// write_file_atomic replaces `dest` with `bytes` through a temp file in the
// same directory, fsynced unless `durable` is false.
void write_file_atomic(const std::filesystem::path& dest, std::string_view bytes, bool durable = true);

// read_file returns the whole regular file (opened as open_read does);
// throws Error(too_large) past max_size.
std::string read_file(const std::filesystem::path& path, std::size_t max_size, Follow follow = Follow::yes);

/// buffer_for returns a string of `size` bytes for a large read to fill:
/// past 4 MiB its memory is first advised to the kernel as transparent huge
/// pages (madvise, where THP is in "madvise" mode), so filling 256 MiB
/// faults ~128 times rather than ~65,000 (a fault costs tens of
/// microseconds on a virtual machine that returns freed memory to its
/// host). A hint: errors are ignored.
std::string buffer_for(std::size_t size);

// LockMode is the kind of flock a FileLock holds.
enum class LockMode { shared, exclusive };

// temp_directory returns the system's temporary folder ($TMPDIR, else
// /tmp); Error(io) naming `operation` when it is not a usable directory.
std::filesystem::path temp_directory(std::string_view operation);

// ScratchDir is a new private directory under the system's temporary
// folder, named `<prefix>XXXXXX`, removed with everything in it when it
// goes. Throws Error(io) when it cannot be made.
class ScratchDir {
public:
    explicit ScratchDir(std::string_view prefix);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// FileLock holds a flock on `path` (created if missing, never through a
// symbolic link) for its lifetime; the constructor blocks until the lock is
// free. Works across processes; the kernel releases it when the process
// dies, even by SIGKILL.
class FileLock {
public:
    explicit FileLock(const std::filesystem::path& path, LockMode mode = LockMode::exclusive);
    ~FileLock();
    FileLock(FileLock&&) noexcept = default;
    FileLock& operator=(FileLock&&) noexcept = default;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    // try_for waits at most `timeout` for the lock; nullopt when it stayed
    // taken.
    static std::optional<FileLock> try_for(const std::filesystem::path& path, LockMode mode,
                                           std::chrono::milliseconds timeout);

private:
    FileLock() = default;
    Fd fd_;
};

}  // namespace sealrun::util
