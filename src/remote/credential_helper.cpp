#include "remote/credential_helper.h"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/error.h"
#include "util/fs.h"

extern char** environ;

namespace sealrun::remote::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Pipe is a pipe whose two ends close with it (O_CLOEXEC: no other child
// spawned meanwhile inherits them).
struct Pipe {
    util::Fd read, write;
    explicit Pipe(const std::string& prog) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(Errc::io, "run credential helper", prog, "pipe failed");
        read = util::Fd(fds[0]);
        write = util::Fd(fds[1]);
    }
};

// SpawnActions owns a posix_spawn_file_actions_t.
class SpawnActions {
public:
    explicit SpawnActions(const std::string& prog) {
        if (::posix_spawn_file_actions_init(&actions_) != 0)
            throw Error(Errc::io, "run credential helper", prog, "posix_spawn_file_actions_init failed");
    }
    ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

// Child owns a child process: destroyed while it may still run, it kills
// it and reaps it, so no path leaves a zombie or a helper behind.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}
    ~Child() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        reap(0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // exit_status waits until `deadline` for the child to exit and returns
    // its wait status; nullopt when it is still running then.
    std::optional<int> exit_status(Clock::time_point deadline) {
        for (;;) {
            if (auto status = reap(WNOHANG)) return status;
            if (Clock::now() >= deadline) return std::nullopt;
            ::usleep(5000);
        }
    }

private:
    std::optional<int> reap(int flags) {
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(pid_, &status, flags)) < 0 && errno == EINTR) {
        }
        if (r == 0) return std::nullopt;  // still running
        pid_ = -1;                        // reaped (or not ours any more: ECHILD)
        return r > 0 ? status : -1;
    }

    pid_t pid_;
};

// read_reply reads `fd` to its end, at most max_helper_reply bytes, until
// `deadline`; throws past either.
std::string read_reply(int fd, const std::string& prog, Clock::time_point deadline,
                       std::chrono::milliseconds timeout) {
    std::string reply;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw Error(Errc::io, "run credential helper", prog, "poll failed");
        if (ready == 0)
            throw Error(Errc::io, "run credential helper", prog,
                        "did not answer within " + std::to_string(timeout.count()) + " ms");
        const auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(Errc::io, "run credential helper", prog, "reading its reply failed");
        if (n == 0) return reply;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > max_helper_reply)
            throw Error(Errc::too_large, "run credential helper", prog,
                        "reply larger than " + std::to_string(max_helper_reply) + " bytes");
    }
}

}  // namespace

std::optional<std::string> run_credential_helper(const std::string& name, const std::string& host,
                                                 std::chrono::milliseconds timeout) {
    const std::string prog = "docker-credential-" + name;
    if (host.size() > 4096) throw Error(Errc::invalid_input, "run credential helper", prog, "host name longer than 4 KiB");
    const auto deadline = Clock::now() + timeout;
    // The host goes into the pipe before the helper starts (it fits the pipe's
    // buffer), so writing never waits for the helper nor meets a closed pipe
    // (no SIGPIPE); the helper reads it, then end of input.
    Pipe in(prog), out(prog);
    util::write_all(in.write.get(), std::as_bytes(std::span(host.data(), host.size())), prog);
    in.write.reset();
    pid_t pid = 0;
    {
        SpawnActions fa(prog);
        ::posix_spawn_file_actions_adddup2(fa.get(), in.read.get(), 0);
        ::posix_spawn_file_actions_adddup2(fa.get(), out.write.get(), 1);
        ::posix_spawn_file_actions_addopen(fa.get(), 2, "/dev/null", O_WRONLY, 0);
        const char* argv[] = {prog.c_str(), "get", nullptr};
        if (::posix_spawnp(&pid, prog.c_str(), fa.get(), nullptr, const_cast<char**>(argv), environ) != 0)
            throw Error(Errc::not_found, "run credential helper", prog, "not found on PATH");
    }
    Child child(pid);
    in.read.reset();
    out.write.reset();  // the helper holds the only write end: its exit is our end of input
    auto reply = read_reply(out.read.get(), prog, deadline, timeout);
    out.read.reset();
    const auto status = child.exit_status(deadline);
    if (!status)
        throw Error(Errc::io, "run credential helper", prog,
                    "did not exit within " + std::to_string(timeout.count()) + " ms");
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) return std::nullopt;  // "credentials not found"
    return reply;
}

}  // namespace sealrun::remote::detail
