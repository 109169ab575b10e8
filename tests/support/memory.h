#pragma once
// Test support: measure the peak memory of a piece of work in a forked child.

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>

#include <doctest/doctest.h>

namespace sealrun::test {

// vm_hwm_kib returns this process's peak resident set (VmHWM) in KiB.
inline long vm_hwm_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

struct Measured {
    long growth_kib = -1;
    std::string result;  // what the child's `run` returned
    double seconds = 0;
};

// in_child runs `run` in a forked child and returns its peak RSS growth
// and what it returned.
inline Measured in_child(const std::function<std::string()>& run) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        const long before = vm_hwm_kib();
        std::string out;
        try {
            out = run();
        } catch (const std::exception& e) {
            out = std::string("threw: ") + e.what();
        }
        const std::string msg = std::to_string(vm_hwm_kib() - before) + "\n" + out;
        (void)!write(fds[1], msg.data(), msg.size());
        _exit(0);
    }
    close(fds[1]);
    std::string msg;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    Measured m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(WIFEXITED(status));
    const auto nl = msg.find('\n');
    REQUIRE(nl != std::string::npos);
    m.growth_kib = std::stol(msg.substr(0, nl));
    m.result = msg.substr(nl + 1);
    return m;
}

}  // namespace sealrun::test
