#pragma once
// Running a docker credential helper (`docker-credential-<name> get`).
// Internal to src/remote/.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace sealrun::remote::detail {

// credential_helper_timeout bounds one run of a credential helper, from
// its start to its exit.
inline constexpr std::chrono::seconds credential_helper_timeout{30};

// max_helper_reply caps what a credential helper may write.
inline constexpr std::size_t max_helper_reply = 1 << 20;

// run_credential_helper runs `docker-credential-<name> get` with `host` on
// its stdin and returns its stdout, or nullopt when it exits non-zero
// (docker's "credentials not found"). Throws Error(not_found) when the
// helper is not on PATH, Error(too_large) when it writes more than
// max_helper_reply, Error(invalid_input) for a host longer than 4 KiB, and
// Error(io) when it has not exited within `timeout` (it is killed) or a
// pipe fails. On every path, a thrown exception included, its pipes are
// closed and the child is reaped (killed first if still running): no fd
// leaks and no zombie remains. Never quotes the reply.
std::optional<std::string> run_credential_helper(const std::string& name, const std::string& host,
                                                 std::chrono::milliseconds timeout = credential_helper_timeout);

}  // namespace sealrun::remote::detail
