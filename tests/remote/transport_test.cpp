// The transport under the repository: connection reuse, HTTP/2
// multiplexing, and where an Authorization header may go.
#include <doctest/doctest.h>

#include <thread>

#include "remote/http.h"
#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "support/registry.h"
#include "support/sample.h"

using namespace sealrun;
using test::Fault;
using test::random_bytes;

namespace {
remote::RepositoryOptions quiet() {
    remote::RepositoryOptions o;
    o.backoff = std::chrono::milliseconds(10);
    o.docker_config = "/nonexistent/config.json";
    return o;
}
remote::Repository via(const test::FaultProxy& p, const std::string& name, remote::RepositoryOptions o = quiet()) {
    return remote::Repository(remote::Reference::parse(p.host() + "/" + name), std::move(o));
}
remote::RepositoryOptions with_user(const std::string& user, const std::string& password) {
    auto o = quiet();
    o.credentials = remote::Credentials{user, password, ""};
    return o;
}
// many_blobs is one manifest over `n` small random layers, tagged v1 in a fresh MemoryTarget.
oci::Descriptor many_blobs(content::MemoryTarget& t, int n) {
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor()};
    content::push_bytes(t, m.config, "{}");
    for (int i = 0; i < n; ++i) {
        const auto bytes = random_bytes(100);
        m.layers.push_back(oci::Descriptor::for_bytes("application/octet-stream", bytes));
        content::push_bytes(t, m.layers.back(), bytes);
    }
    const auto mb = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(t, md, mb);
    t.tag(md, "v1");
    return md;
}
}  // namespace

TEST_CASE("transport: many blobs travel over a few kept-alive connections") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "reuse");
    content::MemoryTarget src;
    const int n = 60;
    const auto root = many_blobs(src, n);
    content::copy(src, "v1", repo, "", {.concurrency = 4});
    content::MemoryTarget back;
    content::copy(repo, "v1", back, "", {.concurrency = 4});
    CHECK(content::read_all(back, root, 1 << 20) == content::read_all(src, root, 1 << 20));
    const auto s = proxy.stats();
    // HEAD + POST + PUT per blob up, HEAD/GET per blob down: hundreds of requests...
    CHECK(s.requests.size() >= static_cast<std::size_t>(4 * n));
    CHECK(s.count("GET", "/blobs/sha256:") == static_cast<std::size_t>(n));  // the empty config travels inline
    // ...over no more connections than transfers ever ran at once (plus one
    // for the walk), because every transfer draws on one connection cache.
    CHECK(s.connections <= 6);
}

TEST_CASE("transport: over TLS, concurrent requests multiplex on one HTTP/2 connection") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    remote::detail::Http http({.ca_file = registry.ca_file().string()});
    const remote::detail::Request ping{.url = registry.url() + "/v2/"};
    const auto first = http.perform(ping);
    CHECK(first.status == 401);  // no credentials: the registry challenges
    REQUIRE(first.http_version == 20);
    std::vector<remote::detail::Response> answers(16);
    {
        std::vector<std::jthread> callers;
        for (auto& a : answers) callers.emplace_back([&] { a = http.perform(ping); });
    }
    for (const auto& a : answers) {
        CHECK(a.status == 401);
        CHECK(a.http_version == 20);
        CHECK(a.header("www-authenticate").has_value());
    }
    CHECK(http.connections_opened() == 1);
}

TEST_CASE("transport: Authorization follows a redirect on the same origin and never to another") {
    test::Registry registry;
    test::FaultProxy other(registry);  // another origin serving the same content, e.g. blob storage
    test::FaultProxy guard(registry, {.basic_auth = "alice:s3cret"});
    auto repo = via(guard, "guarded", with_user("alice", "s3cret"));
    const auto bytes = random_bytes(300000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, d, bytes);

    // To another origin: followed without the header.
    guard.add(Fault::redirect("GET", "/blobs/sha256:", other.url() + "{target}"));
    CHECK(content::read_all(repo, d, 1 << 20) == bytes);
    auto far = other.stats();
    REQUIRE(far.count("GET", "/blobs/sha256:") == 1);
    for (const auto& r : far.requests) CHECK_FALSE(r.authorization);

    // To the same origin: followed with it (the guard would answer 401 otherwise).
    guard.reset_stats();
    guard.add(Fault::redirect("GET", "/blobs/sha256:", guard.url() + "{target}"));
    CHECK(content::read_all(repo, d, 1 << 20) == bytes);
    const auto near = guard.stats();
    CHECK(near.count("GET", "/blobs/sha256:") == 2);
    for (const auto& r : near.requests) CHECK(r.authorization);

    // A redirect of a manifest request to another origin: followed bare, too.
    oci::ImageManifest m{.config = oci::empty_descriptor(), .layers = {d}};
    const auto mb = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    content::push_bytes(repo, md, mb);
    other.reset_stats();
    guard.add(Fault::redirect("GET", "/manifests/", other.url() + "{target}"));
    CHECK(content::read_all(repo, md, 1 << 20) == mb);
    far = other.stats();
    REQUIRE(far.count("GET", "/manifests/") == 1);
    for (const auto& r : far.requests) CHECK_FALSE(r.authorization);
}

TEST_CASE("transport: an upload Location on another origin gets the bytes but not the Authorization") {
    test::Registry registry;
    test::FaultProxy storage(registry);
    test::FaultProxy guard(registry, {.basic_auth = "alice:s3cret"});
    auto o = with_user("alice", "s3cret");
    o.monolithic_limit = 1 << 20;
    o.chunk_size = 1 << 20;
    auto repo = via(guard, "relocated", o);
    const auto small = random_bytes(1000);        // one PUT
    const auto large = random_bytes(3 << 20);     // three PATCHes and a PUT
    for (const auto& bytes : {small, large}) {
        storage.reset_stats();
        guard.add(Fault::relocate("POST", "/blobs/uploads/", storage.url()));
        const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
        content::push_bytes(repo, d, bytes);
        const auto s = storage.stats();
        CHECK(s.count("PUT", "/blobs/uploads/") == 1);
        CHECK(s.request_bytes() == bytes.size());
        for (const auto& r : s.requests) CHECK_FALSE(r.authorization);
        CHECK(content::read_all(repo, d, 4 << 20) == bytes);
    }
    CHECK(storage.stats().count("PATCH", "/blobs/uploads/") == 3);
    const auto g = guard.stats();
    CHECK(g.count("POST", "/blobs/uploads/") >= 2);
    CHECK(g.count("PATCH") == 0);  // every byte went to the Location's origin
}
