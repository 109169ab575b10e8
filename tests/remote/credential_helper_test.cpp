// Credential helpers that fail, hang, write garbage or flood their reply:
// every path closes its pipes and reaps its child (counted in /proc).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "remote/auth.h"
#include "remote/credential_helper.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

std::size_t open_fds() {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/self/fd", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
    return n;
}

// children lists this process's children as "pid state" (Z: a zombie).
std::vector<std::string> children() {
    std::vector<std::string> out;
    const auto me = std::to_string(::getpid());
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::ifstream in(it->path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        const auto close = line.rfind(')');  // the command name may hold anything
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == me) out.push_back(it->path().filename().string() + " " + state);
    }
    return out;
}

// Helpers is a bin folder of fake helpers put first on PATH while it lives.
struct Helpers {
    test::TempDir dir;
    std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
    Helpers() { ::setenv("PATH", ((dir / "bin").string() + ":" + old_path).c_str(), 1); }
    ~Helpers() { ::setenv("PATH", old_path.c_str(), 1); }
    void add(const std::string& name, const std::string& script) {
        test::write_file(dir / "bin" / ("docker-credential-" + name), "#!/bin/sh\n" + script + "\n");
        fs::permissions(dir / "bin" / ("docker-credential-" + name), fs::perms(0755));
    }
    std::string config(const std::string& helper) {
        const auto path = dir / ("config-" + helper + ".json");
        test::write_file(path, R"({"credHelpers":{"reg.example":")" + helper + R"("}})");
        return path.string();
    }
};

}  // namespace

TEST_CASE("credential helpers: failing, hanging, garbage and flooding helpers leak no fd and leave no zombie") {
    Helpers h;
    h.add("fails", "exit 3");                                          // no reading, no reply
    h.add("hangs", "exec sleep 30");                                   // never answers
    h.add("closes", "exec >&-; exec sleep 30");                        // closes stdout, never exits
    h.add("garbage", "cat >/dev/null; printf '\\001\\002 not json'");  // a reply that is not JSON
    h.add("floods", "exec yes garbage");                               // an endless reply
    h.add("works", R"(read host; printf '{"Username":"u","Secret":"s-%s"}' "$host")");
    const auto fds = open_fds();
    const auto kids = children();

    CHECK_FALSE(remote::detail::docker_credentials("reg.example", h.config("fails")));
    CHECK(test::errc_of([&] { (void)remote::detail::docker_credentials("reg.example", h.config("garbage")); }) ==
          Errc::invalid_input);
    CHECK(test::errc_of([&] { (void)remote::detail::docker_credentials("reg.example", h.config("floods")); }) ==
          Errc::too_large);
    CHECK(test::errc_of([&] { (void)remote::detail::docker_credentials("reg.example", h.config("absent")); }) ==
          Errc::not_found);
    for (const auto* name : {"hangs", "closes"}) {
        CAPTURE(name);
        const auto start = std::chrono::steady_clock::now();
        const auto e = test::thrown([&] { (void)remote::detail::run_credential_helper(name, "reg.example", std::chrono::milliseconds(500)); });
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(e.code == Errc::io);
        CHECK(test::contains(e.message, "500 ms"));
        CHECK(took < std::chrono::seconds(10));  // the deadline, not the helper's 30 s
    }
    const auto ok = remote::detail::docker_credentials("reg.example", h.config("works"));
    REQUIRE(ok);
    CHECK(ok->password == "s-reg.example");

    CHECK(open_fds() == fds);
    CHECK(children() == kids);  // every helper reaped: no zombie, none left running
}
