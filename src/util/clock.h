#pragma once
// UTC timestamps as sealrun writes them: "YYYY-MM-DDTHH:MM:SSZ".

#include <chrono>
#include <ctime>
#include <string>

namespace sealrun::util {

inline std::string utc_now() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace sealrun::util
