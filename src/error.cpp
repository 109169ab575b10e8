#include "sealrun/error.h"

namespace sealrun {

std::string_view errc_name(Errc code) noexcept {
    switch (code) {
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::digest_mismatch: return "digest_mismatch";
    case Errc::size_mismatch: return "size_mismatch";
    case Errc::too_large: return "too_large";
    case Errc::invalid_input: return "invalid_input";
    case Errc::unsupported: return "unsupported";
    case Errc::unauthorized: return "unauthorized";
    case Errc::denied: return "denied";
    case Errc::network: return "network";
    case Errc::io: return "io";
    case Errc::protocol: return "protocol";
    }
    return "unknown";
}

namespace {
std::string compose(const std::string& op, const std::string& subject, const std::string& reason) {
    std::string s = op;
    if (!subject.empty()) {
        s += ' ';
        s += subject;
    }
    s += ": ";
    s += reason;
    return s;
}
}  // namespace

Error::Error(Errc code, std::string operation, std::string subject, std::string reason)
    : std::runtime_error(compose(operation, subject, reason)),
      code_(code),
      operation_(std::move(operation)),
      subject_(std::move(subject)),
      reason_(std::move(reason)) {}

}  // namespace sealrun
