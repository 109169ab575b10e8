// A registry that fails mid-transfer, through a fault-injecting proxy.
#include <doctest/doctest.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/sample.h"

using namespace sealrun;
using test::errc_of;
using test::random_bytes;
using test::Fault;
using test::via;

TEST_CASE("faults: 503 and 429 with Retry-After are retried") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "retry");
    const auto bytes = random_bytes(1000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, d, bytes);
    proxy.add(Fault::respond("GET", "/blobs/", 503, 2));
    CHECK(content::read_all(repo, d, 4096) == bytes);
    CHECK(proxy.stats().count("GET", "/blobs/") == 3);
    proxy.reset_stats();
    proxy.add(Fault::throttle("HEAD", "/blobs/", 1, 1));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(repo.exists(d));
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(900));  // Retry-After honoured
    CHECK(proxy.stats().count("HEAD", "/blobs/") == 2);
}

TEST_CASE("faults: retries are bounded and the error says what failed") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto o = test::fast_retries();
    o.max_attempts = 3;
    auto repo = via(proxy, "bounded", o);
    proxy.add(Fault::respond("HEAD", "/manifests/", 503, 100));
    proxy.add(Fault::respond("GET", "/manifests/", 503, 100));
    const auto e = test::thrown([&] { (void)repo.resolve("v1"); });
    CHECK(e.code == Errc::network);
    CHECK(test::contains(e.message, "503"));
    CHECK(proxy.stats().count("HEAD", "/manifests/") == 3);
}

TEST_CASE("faults: a download cut mid-blob resumes with Range and verifies") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "resume");
    const auto bytes = random_bytes(3 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, d, bytes);
    proxy.reset_stats();
    proxy.add(Fault::reset_response("GET", "/blobs/sha256", 1 << 20, 1));
    CHECK(content::read_all(repo, d, 4 << 20) == bytes);
    const auto s = proxy.stats();
    CHECK(s.count("GET", "/blobs/") == 2);
    CHECK(s.response_bytes("GET", "/blobs/") < bytes.size() + (1u << 20) + 1);  // the second request did not start over
}

TEST_CASE("faults: a flipped byte in a pulled blob is detected and not stored") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "flip");
    const auto bytes = random_bytes(50000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, d, bytes);
    proxy.add(Fault::flip_byte("GET", "/blobs/sha256", 1234, 1));
    content::MemoryTarget dst;
    CHECK(errc_of([&] { dst.push(d, *repo.fetch(d)); }) == Errc::digest_mismatch);
    CHECK_FALSE(dst.exists(d));
}

TEST_CASE("faults: a chunk lost on the way resumes from the upload's status") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto o = test::fast_retries();
    o.monolithic_limit = 1 << 20;
    o.chunk_size = 1 << 20;
    auto repo = via(proxy, "upload", o);
    const auto bytes = random_bytes(5 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);

    SUBCASE("the chunk fails with a 503 the registry never saw") {
        proxy.add(Fault::respond("PATCH", "/blobs/uploads/", 503, 1));
        content::push_bytes(repo, d, bytes);  // no copy engine: the push itself resumes
        const auto s = proxy.stats();
        CHECK(s.count("GET", "/blobs/uploads/") == 1);    // asked the upload how much it holds
        CHECK(s.count("POST", "/blobs/uploads/") == 1);   // and went on in the same session
        CHECK(s.count("PATCH", "/blobs/uploads/") == 6);  // five chunks, one sent twice
    }
    SUBCASE("the connection dies before the registry sees the chunk") {
        const int drop = proxy.add(Fault::drop("PATCH", "/blobs/uploads/", 1));
        content::push_bytes(repo, d, bytes);
        const auto s = proxy.stats();
        CHECK(s.fired(drop) == 1);
        CHECK(s.count("POST", "/blobs/uploads/") == 1);   // the same session throughout
        CHECK(s.count("PATCH", "/blobs/uploads/") == 6);  // five chunks, one sent twice
        // Either sealrun asked the upload's status before resending, or curl
        // itself resent the request on a fresh connection, which it does
        // only when the dead connection was a reused one and no body byte
        // had gone out. Both leave exactly five accepted chunks.
        CHECK(s.count("GET", "/blobs/uploads/") <= 1);
        std::size_t accepted = 0;
        for (const auto& r : s.requests)
            if (r.method == "PATCH" && r.status == 202) ++accepted;
        CHECK(accepted == 5);
    }
    content::MemoryTarget back;
    back.push(d, *repo.fetch(d));
    CHECK(content::read_all(back, d, 8 << 20) == bytes);
}

TEST_CASE("faults: a connection reset in the middle of a chunk starts the blob again from the source") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto o = test::fast_retries();
    o.monolithic_limit = 1 << 20;
    o.chunk_size = 1 << 20;
    auto repo = via(proxy, "upload2", o);
    content::MemoryTarget src;
    const auto bytes = random_bytes(5 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(src, d, bytes);
    // Docker Distribution 2.8 drops a session whose PATCH broke off
    // mid-body, so the copy engine fetches the source again.
    proxy.add(Fault::reset_request("PATCH", "/blobs/uploads/", 300000, 1));
    oci::ImageManifest m{.config = oci::empty_descriptor(), .layers = {d}};
    const auto mb = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(src, md, mb);
    src.tag(md, "v1");
    content::copy(src, "v1", repo, "");
    CHECK(repo.exists(d));
    CHECK(proxy.stats().count("POST", "/blobs/uploads/") >= 2);  // a fresh session for the blob
    content::MemoryTarget back;
    back.push(d, *repo.fetch(d));
    CHECK(content::read_all(back, d, 8 << 20) == bytes);
}
