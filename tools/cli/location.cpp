#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include <unistd.h>

#include <sealrun/error.h>

#include "cli/cli.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

remote::RepositoryOptions remote_options(const Globals& g) {
    remote::RepositoryOptions o;
    o.plain_http = g.plain_http;
    o.insecure = g.insecure;
    o.ca_file = g.ca_file;
    if (g.timeout_s > 0) {  // the stall deadline, and a retry budget in proportion (30 s -> 45 s)
        o.stall_timeout = std::chrono::seconds(g.timeout_s);
        o.retry_budget = std::chrono::seconds(g.timeout_s + g.timeout_s / 2);
    }
    return o;
}

LocationOptions location_options(const Globals& g) {
    return {.store = g.store, .remote = remote_options(g)};
}

LocationSpec parse_location_text(const std::string& text) {
    try {
        return parse_location(text);
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_input || e.operation() != "parse location") throw;
        throw UsageError(e.reason() + ": " + text);
    }
}

Location open_location(const std::string& text, const Globals& g, bool for_writing, bool force) {
    return sealrun::open_location(parse_location_text(text), location_options(g), for_writing, force);
}

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

namespace {
double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled && ::isatty(2) != 0), start_(now_s()) {}

Progress::~Progress() {
    if (enabled_ && last_draw_ > 0) std::cerr << "\r\033[K" << std::flush;
}

void Progress::blob_done(const std::string& key) {
    per_blob_.erase(key);
    ++done_;
    draw();
}

void Progress::bytes(std::uint64_t so_far, const std::string& key) {
    auto& seen = per_blob_[key];
    bytes_ += so_far - seen;
    seen = so_far;
    draw();
}

void Progress::draw() {
    if (!enabled_) return;
    const double t = now_s();
    if (t - last_draw_ < 0.1) return;
    last_draw_ = t;
    const double rate = bytes_ / std::max(t - start_, 1e-3);
    std::cerr << "\r\033[K" << done_ << (total_ ? "/" + std::to_string(total_) : "") << " blobs  " << human_size(bytes_)
              << "  " << human_size(static_cast<std::uint64_t>(rate)) << "/s" << std::flush;
}

}  // namespace sealrun::cli
