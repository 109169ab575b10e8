// The transport under the repository: connection reuse, HTTP/2
// multiplexing, and where an Authorization header may go.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "remote/http.h"
#include "remote/url.h"
#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/error.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/sample.h"

using namespace sealrun;
using test::Fault;
using test::via;
using test::random_bytes;

namespace {
remote::RepositoryOptions with_user(const std::string& user, const std::string& password) {
    auto o = test::fast_retries();
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
    // POST + PUT per blob up, GET per blob down: hundreds of requests...
    CHECK(s.requests.size() >= static_cast<std::size_t>(3 * n));
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

namespace {
// PieceStream hands out `bytes` in small pieces; it fails once `fail_at` bytes
// are out, unless that is all of them.
class PieceStream final : public content::ReadStream {
public:
    PieceStream(std::string_view bytes, std::size_t fail_at) : bytes_(bytes), fail_at_(fail_at) {}
    std::size_t read(std::span<std::byte> out) override {
        if (fail_at_ < bytes_.size() && pos_ >= fail_at_) throw Error(Errc::io, "read", "piece stream", "the disk went away");
        const auto n = std::min({out.size(), bytes_.size() - pos_, std::size_t{100000}});
        std::memcpy(out.data(), bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    std::string_view bytes_;
    std::size_t fail_at_;
    std::size_t pos_ = 0;
};

std::string upload_location(remote::detail::Http& http, const std::string& base, const std::string& repo) {
    const auto started = http.perform({.method = "POST", .url = base + "/v2/" + repo + "/blobs/uploads/"});
    REQUIRE(started.status == 202);
    return remote::detail::resolve_url(base + "/v2/", *started.header("location"));
}
}  // namespace

TEST_CASE("transport: a streamed request body is read on the caller's thread while it is sent; a failing stream aborts") {
    test::Registry registry;
    remote::detail::Http http({});
    const auto bytes = random_bytes(12 << 20);  // three times the upload queue: the sender pauses and resumes
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    const auto blob_url = registry.url() + "/v2/streamed/blobs/" + d.digest.str();

    PieceStream good(bytes, bytes.size());
    remote::detail::Request put{.method = "PUT",
                                .url = upload_location(http, registry.url(), "streamed") + "&digest=" + d.digest.str()};
    put.body = {.stream = &good, .length = static_cast<std::int64_t>(bytes.size())};
    CHECK(http.perform(put).status == 201);
    CHECK(http.perform({.method = "HEAD", .url = blob_url}).status == 200);

    const auto other = random_bytes(6 << 20);
    const auto od = oci::Descriptor::for_bytes("application/octet-stream", other);
    PieceStream failing(other, 3 << 20);
    put.url = upload_location(http, registry.url(), "streamed") + "&digest=" + od.digest.str();
    put.body = {.stream = &failing, .length = static_cast<std::int64_t>(other.size())};
    const auto e = test::thrown([&] { (void)http.perform(put); });
    CHECK(e.code == Errc::io);  // the stream's own error, not a transport one
    CHECK(test::contains(e.message, "the disk went away"));
    CHECK(http.perform({.method = "HEAD", .url = registry.url() + "/v2/streamed/blobs/" + od.digest.str()}).status == 404);
    CHECK(http.perform({.method = "GET", .url = registry.url() + "/v2/"}).status == 200);  // the Http still works
}

TEST_CASE("transport: a download abandoned half-way frees its transfer, and the Http goes on") {
    test::Registry registry;
    auto repo = remote::Repository(remote::Reference::parse(registry.host() + "/abandon"), test::fast_retries());
    const auto bytes = random_bytes(24 << 20);  // more than the download queue: the transfer is paused when dropped
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, d, bytes);
    for (int i = 0; i < 3; ++i) {
        auto in = repo.fetch(d);
        std::vector<std::byte> buf(1 << 20);
        CHECK(in->read(buf) > 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the queue fill and the engine pause
    }  // each stream dropped with most of the blob unread
    CHECK(content::read_all(repo, d, 32 << 20) == bytes);
}

TEST_CASE("transport: the body queues reuse their blocks, so memory does not grow with the blob") {
    test::Registry registry;
    remote::detail::Http http({});
    const auto bytes = random_bytes(48 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);

    PieceStream up(bytes, bytes.size());
    remote::detail::Request put{.method = "PUT",
                                .url = upload_location(http, registry.url(), "bounded") + "&digest=" + d.digest.str()};
    put.body = {.stream = &up, .length = static_cast<std::int64_t>(bytes.size())};
    REQUIRE(http.perform(put).status == 201);
    const auto after_upload = http.blocks_allocated();
    CHECK(after_upload <= 24);  // the 4 MiB queue's 256 KiB blocks and a few spares, not 192 blocks

    // Down twice: a reader in small steps that keeps catching up with the
    // network, and a slow one that lets the queue fill and pause the transfer.
    for (const bool slow : {false, true}) {
        const auto before = http.blocks_allocated();
        auto in = http.open_get(registry.url() + "/v2/bounded/blobs/" + d.digest.str(), {},
                                [](const remote::detail::Response& r) { REQUIRE(r.status == 200); });
        std::vector<std::byte> piece(64 << 10);
        std::string got;
        int reads = 0;
        while (const auto n = in->read(piece)) {
            got.append(reinterpret_cast<const char*>(piece.data()), n);
            if (slow && ++reads % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        CHECK(got == bytes);
        CHECK(http.blocks_allocated() - before <= 16);  // the 8 MiB queue's 1 MiB blocks and a few spares, not 48
    }
}
