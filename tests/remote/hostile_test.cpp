// A hostile registry (the fault proxy's hostile kinds in front of a real
// docker-registry): endless bodies and headers, drip-fed and stalled
// responses, lying headers, redirects out of http. Every case must end in a
// clear Error within a bounded time, with memory that does not grow.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "build_paths.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
using namespace std::chrono_literals;
using test::Fault;

namespace {

// rss_kib is the process's resident set size (VmRSS) in KiB.
long rss_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

// Outcome is how a call against the hostile registry ended.
struct Outcome {
    test::ThrownError error;
    double seconds = 0;
    long rss_growth_kib = 0;
};

Outcome attempt(const std::function<void()>& fn) {
    const auto rss0 = rss_kib();
    const auto t0 = std::chrono::steady_clock::now();
    Outcome o;
    o.error = test::thrown(fn);
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    o.rss_growth_kib = rss_kib() - rss0;
    MESSAGE(o.error.message << " (" << o.seconds << " s, RSS +" << o.rss_growth_kib << " KiB)");
    return o;
}

// Memory a hostile answer may cost at most: a capped body (4 MiB) and the
// transfer's buffers, never the peer's whole output.
constexpr long max_rss_growth_kib = 24 << 10;

// short_deadlines: a stall is 2 s without progress, the retry budget 3 s,
// so a stalled operation gets a second attempt and then gives up.
remote::RepositoryOptions short_deadlines() {
    auto o = test::fast_retries();
    o.stall_timeout = 2s;
    o.connect_timeout = 2s;
    o.retry_budget = 3s;
    return o;
}

// Hostile is a registry behind a fault proxy holding one tagged manifest
// ("v1") over one 200 KB blob, pushed before any fault is installed.
struct Hostile {
    test::Registry registry;
    test::FaultProxy proxy{registry};
    remote::Repository repo;
    std::string blob_bytes = test::random_bytes(200000);
    oci::Descriptor blob = oci::Descriptor::for_bytes("application/octet-stream", blob_bytes);
    oci::Descriptor manifest;

    explicit Hostile(remote::RepositoryOptions o = short_deadlines()) : repo(test::via(proxy, "hostile", std::move(o))) {
        content::push_bytes(repo, oci::empty_descriptor(), "{}");
        content::push_bytes(repo, blob, blob_bytes);
        oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor(),
                             .layers = {blob}};
        const auto mb = m.serialize();
        manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
        content::push_bytes(repo, manifest, mb);
        repo.tag(manifest, "v1");
        proxy.reset_stats();
    }
    // head_unusable makes every manifest HEAD answer 405, so resolve GETs.
    void head_unusable() { proxy.add(Fault::respond("HEAD", "/manifests/", 405, -1)); }
};

const std::vector<std::pair<std::string, std::string>> manifest_type = {
    {"Content-Type", std::string(oci::media_types::image_manifest)}};

}  // namespace

TEST_CASE("hostile: an endless manifest body is cut at 4 MiB, by tag and by digest") {
    Hostile h;
    h.head_unusable();
    h.proxy.add(Fault::endless("GET", "/manifests/", 200, manifest_type, -1));
    auto by_tag = attempt([&] { (void)h.repo.resolve("v1"); });
    CHECK(by_tag.error.code == Errc::too_large);
    CHECK(test::contains(by_tag.error.message, "4 MiB"));
    CHECK(by_tag.seconds < 10);
    CHECK(by_tag.rss_growth_kib < max_rss_growth_kib);
    auto by_digest = attempt([&] { (void)content::read_all(h.repo, h.manifest, oci::max_manifest_size); });
    CHECK(by_digest.error.code == Errc::too_large);
    CHECK(by_digest.seconds < 10);
    CHECK(by_digest.rss_growth_kib < max_rss_growth_kib);
    CHECK(h.proxy.stats().count("GET", "/manifests/") == 2);  // too large is final: never retried
}

TEST_CASE("hostile: an endless error body stops at 64 KiB and the status still decides") {
    Hostile h;
    h.head_unusable();
    SUBCASE("404") {
        h.proxy.add(Fault::endless("GET", "/manifests/", 404, {}, -1));
        const auto o = attempt([&] { (void)h.repo.resolve("v1"); });
        CHECK(o.error.code == Errc::not_found);
        CHECK(o.seconds < 10);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
    SUBCASE("503, retried within the budget") {
        h.proxy.add(Fault::endless("GET", "/manifests/", 503, {}, -1));
        const auto o = attempt([&] { (void)h.repo.resolve("v1"); });
        CHECK(o.error.code == Errc::network);
        CHECK(test::contains(o.error.message, "503"));
        CHECK(o.seconds < 15);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
        CHECK(h.proxy.stats().count("GET", "/manifests/") == 5);  // max_attempts
    }
    SUBCASE("on a blob download") {
        h.proxy.add(Fault::endless("GET", "/blobs/sha256:", 500, {}, -1));
        const auto o = attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); });
        CHECK(o.error.code == Errc::network);
        CHECK(o.seconds < 15);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
}

TEST_CASE("hostile: endless tag lists, referrers, headers and blobs stop at their caps") {
    Hostile h;
    SUBCASE("tag list") {
        h.proxy.add(Fault::endless("GET", "/tags/list", 200, {{"Content-Type", "application/json"}}, -1));
        const auto o = attempt([&] { (void)h.repo.tags(); });
        CHECK(o.error.code == Errc::too_large);
        CHECK(o.seconds < 10);
        CHECK(o.rss_growth_kib < max_rss_growth_kib + (16 << 10));  // a 16 MiB page cap
    }
    SUBCASE("referrers") {
        h.proxy.add(Fault::endless("GET", "/referrers/", 200, {{"Content-Type", "application/vnd.oci.image.index.v1+json"}}, -1));
        const auto o = attempt([&] { (void)h.repo.referrers(h.manifest); });
        CHECK(o.error.code == Errc::too_large);
        CHECK(o.seconds < 10);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
    SUBCASE("header section") {
        h.proxy.add(Fault::endless_head("HEAD", "/manifests/", -1));
        const auto o = attempt([&] { (void)h.repo.resolve("v1"); });
        CHECK(o.error.code == Errc::too_large);
        CHECK(test::contains(o.error.message, "headers"));
        CHECK(o.seconds < 10);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
    SUBCASE("blob longer than its descriptor") {
        h.proxy.add(Fault::endless("GET", "/blobs/sha256:", 200, {{"Content-Type", "application/octet-stream"}}, -1));
        content::MemoryTarget dst;
        const auto o = attempt([&] { dst.push(h.blob, *h.repo.fetch(h.blob)); });
        CHECK(o.error.code == Errc::size_mismatch);
        CHECK(o.seconds < 10);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
}

TEST_CASE("hostile: an endless token response is cut at its cap") {
    auto o = short_deadlines();
    o.plain_http = true;  // the realm is the proxy itself, over http
    Hostile h(o);
    const auto realm = h.proxy.url() + "/token";
    Fault challenge = Fault::respond("HEAD|GET", "/manifests/", 401, -1);
    challenge.headers = {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"hostile\""}};
    h.proxy.add(challenge);
    h.proxy.add(Fault::endless("GET", "^/token", 200, {{"Content-Type", "application/json"}}, -1));
    const auto out = attempt([&] { (void)h.repo.resolve("v1"); });
    CHECK(out.error.code == Errc::too_large);
    CHECK(out.seconds < 10);
    CHECK(out.rss_growth_kib < max_rss_growth_kib);
    CHECK(h.proxy.stats().count("GET", "^/token") == 1);
}

TEST_CASE("hostile: drip-fed, silent and stalled responses fail at the stall deadline") {
    Hostile h;
    // Attempts of 2-3 s each (curl checks the speed once a second, over the
    // last seconds) within a retry budget of 3 s: the operation ends after
    // seconds, far below the old minutes.
    auto check_stalled = [&](const Outcome& o, const std::string& method, const std::string& path,
                             std::size_t attempts) {
        CHECK(o.error.code == Errc::network);
        CHECK(test::contains(o.error.message, "too slow"));
        CHECK(o.seconds > 1.5);
        CHECK(o.seconds < 20);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
        // Retried while the budget allows: how many attempts fit depends on
        // curl's one-second checks, so only the bounds are asserted.
        const auto n = h.proxy.stats().count(method, path);
        CHECK(n >= 1);
        CHECK(n <= attempts);
    };
    SUBCASE("drip-fed manifest (a byte every 0.5 s)") {
        h.head_unusable();
        h.proxy.add(Fault::drip("GET", "/manifests/", 500, 0, -1));
        check_stalled(attempt([&] { (void)h.repo.resolve("v1"); }), "GET", "/manifests/", 2);
    }
    SUBCASE("drip-fed blob") {
        h.proxy.add(Fault::drip("GET", "/blobs/sha256:", 500, 1000, -1));
        // The dripped bytes are no progress: they do not renew the budget.
        check_stalled(attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); }), "GET", "/blobs/sha256:", 2);
    }
    SUBCASE("headers never sent") {
        h.proxy.add(Fault::silent("HEAD", "/manifests/", -1));
        check_stalled(attempt([&] { (void)h.repo.resolve("v1"); }), "HEAD", "/manifests/", 2);
    }
    SUBCASE("blob stalled mid-body, then never answering again") {
        h.proxy.add(Fault::stall("GET", "/blobs/sha256:", 64 << 10, 1));
        h.proxy.add(Fault::stall("GET", "/blobs/sha256:", 0, -1));
        // 64 KiB were real progress: the budget starts at the stall, so the
        // resumed download gets its own retries.
        check_stalled(attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); }), "GET", "/blobs/sha256:", 4);
    }
}

TEST_CASE("hostile: the retry budget caps a registry that keeps asking to come back later") {
    Hostile h;
    h.proxy.add(Fault::throttle("GET", "/blobs/sha256:", 30, -1));  // Retry-After: 30 s, past the 3 s budget
    const auto o = attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); });
    CHECK(o.error.code == Errc::network);
    CHECK(test::contains(o.error.message, "429"));
    CHECK(o.seconds < 3);  // no 30 s sleep that the budget could not afford
    CHECK(h.proxy.stats().count("GET", "/blobs/sha256:") == 1);
}

TEST_CASE("hostile: a redirect out of http fails at once and is not retried") {
    Hostile h;
    for (const std::string target : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x"}) {
        CAPTURE(target);
        h.proxy.clear_faults();
        h.proxy.reset_stats();
        h.proxy.add(Fault::redirect("GET", "/blobs/sha256:", target, -1));
        h.proxy.add(Fault::redirect("GET", "/manifests/", target, -1));
        const auto blob = attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); });
        CHECK(blob.error.code == Errc::protocol);
        CHECK(test::contains(blob.error.message, "unsupported scheme"));
        CHECK(blob.seconds < 2);
        const auto manifest = attempt([&] { (void)content::read_all(h.repo, h.manifest, oci::max_manifest_size); });
        CHECK(manifest.error.code == Errc::protocol);
        CHECK(test::contains(manifest.error.message, "unsupported scheme"));
        CHECK(manifest.seconds < 2);
        const auto s = h.proxy.stats();
        CHECK(s.count("GET", "/blobs/") == 1);  // never retried
        CHECK(s.count("GET", "/manifests/") == 1);
    }
}

TEST_CASE("hostile: lying headers are caught") {
    Hostile h;
    SUBCASE("Docker-Content-Digest on a manifest GET by tag") {
        h.head_unusable();
        h.proxy.add(Fault::set_header("GET", "/manifests/v1", "Docker-Content-Digest", h.blob.digest.str(), -1));
        const auto o = attempt([&] { (void)h.repo.resolve("v1"); });
        CHECK(o.error.code == Errc::digest_mismatch);
        CHECK(o.seconds < 5);
    }
    SUBCASE("Content-Length on a blob HEAD: the blob does not count as present") {
        h.proxy.add(Fault::set_header("HEAD", "/blobs/sha256:", "Content-Length", "1", -1));
        CHECK_FALSE(h.repo.exists(h.blob));
    }
    SUBCASE("a Content-Length longer than the blob body") {
        h.proxy.add(Fault::set_header("GET", "/blobs/sha256:", "Content-Length", std::to_string(h.blob.size + 100000), -1));
        const auto o = attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); });
        CHECK(o.seconds < 15);
        CHECK(o.rss_growth_kib < max_rss_growth_kib);
    }
    SUBCASE("a Content-Length shorter than the blob body") {
        h.proxy.add(Fault::set_header("GET", "/blobs/sha256:", "Content-Length", "1000", -1));
        const auto o = attempt([&] { (void)content::read_all(h.repo, h.blob, 1 << 20); });
        CHECK(o.error.code == Errc::size_mismatch);
        CHECK(o.seconds < 15);
    }
}

TEST_CASE("hostile: the CLI's --timeout sets the stall deadline (and the retry budget with it)") {
    Hostile h;
    h.proxy.add(Fault::silent("HEAD", "/manifests/", -1));
    test::TempDir dir;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = test::run({SEALRUN_CLI, "--timeout", "2", "--store", (dir / "store").string(), "pull",
                              "docker://" + h.proxy.host() + "/hostile:v1"});
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(test::contains(r.output, "too slow"));
    CHECK(seconds < 20);  // the default (30 s, retried for 45 s) would take a minute
    CHECK(test::run({SEALRUN_CLI, "--timeout", "0", "ls"}).exit_code == 2);
}
