// A Repository's optional abilities (content/target.h) against a real
// docker-registry, counted through the fault proxy: ReferencePusher (a root
// PUT once under its tag) and Mounter (a blob taken from a sibling
// repository without its bytes), AbsentPusher (a blob stored unless
// present, learnt from the request that starts its upload).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/stream.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/remote/repository.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/sample.h"

using namespace sealrun;
using test::errc_of;
using test::Fault;
using test::random_bytes;
using test::via;

namespace {

// Root is a manifest over one random layer whose blobs are already in the repository.
struct Root {
    oci::Descriptor layer;
    std::string manifest_bytes;
    oci::Descriptor manifest;
};

Root blobs_in(remote::Repository& repo) {
    Root r;
    const auto bytes = random_bytes(1000);
    r.layer = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(repo, r.layer, bytes);
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor(),
                         .layers = {r.layer}};
    m.config.data.reset();
    r.manifest_bytes = m.serialize();
    r.manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), r.manifest_bytes);
    return r;
}

}  // namespace

TEST_CASE("abilities: push_reference sends a root once, by its tag, and the tag resolves to its digest") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "ref/push");
    const auto root = blobs_in(repo);
    proxy.reset_stats();
    content::BytesStream bytes(root.manifest_bytes);
    repo.push_reference(root.manifest, bytes, "v1");
    const auto s = proxy.stats();
    REQUIRE(s.requests.size() == 1);  // no PUT by digest, no fetch back
    CHECK(s.requests[0].method == "PUT");
    CHECK(s.requests[0].path == "/v2/ref/push/manifests/v1");
    CHECK(s.requests[0].status == 201);
    CHECK(repo.resolve("v1").digest == root.manifest.digest);
    CHECK(content::read_all(repo, root.manifest, oci::max_manifest_size) == root.manifest_bytes);

    // Pushed again under the same tag: one more PUT, still the same digest.
    content::BytesStream again(root.manifest_bytes);
    repo.push_reference(root.manifest, again, "v1");
    CHECK(repo.resolve("v1").digest == root.manifest.digest);
}

TEST_CASE("abilities: push_reference sends nothing that is not what its descriptor names") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "ref/refused");
    const auto root = blobs_in(repo);
    proxy.reset_stats();
    auto other = root.manifest_bytes;
    other.back() = other.back() == '}' ? ' ' : '}';  // same size, other bytes
    content::BytesStream wrong(other);
    CHECK(errc_of([&] { repo.push_reference(root.manifest, wrong, "v1"); }) == Errc::digest_mismatch);
    content::BytesStream shorter(root.manifest_bytes.substr(1));
    CHECK(errc_of([&] { repo.push_reference(root.manifest, shorter, "v1"); }) == Errc::size_mismatch);
    content::BytesStream fine(root.manifest_bytes);
    CHECK(errc_of([&] { repo.push_reference(root.manifest, fine, "bad tag"); }) == Errc::invalid_input);
    content::BytesStream blob("{}");
    CHECK(errc_of([&] { repo.push_reference(oci::empty_descriptor(), blob, "v1"); }) == Errc::invalid_input);
    CHECK(proxy.stats().requests.empty());  // refused before a byte was sent
    CHECK(errc_of([&] { (void)repo.resolve("v1"); }) == Errc::not_found);
}

TEST_CASE("abilities: push_reference refuses a registry that says it stored other content") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "ref/lying");
    const auto root = blobs_in(repo);
    proxy.add(Fault::set_header("PUT", "/manifests/v1", "Docker-Content-Digest", oci::empty_descriptor().digest.str()));
    content::BytesStream bytes(root.manifest_bytes);
    const auto e = test::thrown([&] { repo.push_reference(root.manifest, bytes, "v1"); });
    CHECK(e.code == Errc::digest_mismatch);
    CHECK(test::contains(e.message, oci::empty_descriptor().digest.str()));
}

TEST_CASE("abilities: a blob mounts into a sibling repository without its bytes, and is then fetchable there") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto a = via(proxy, "team/a");
    auto b = via(proxy, "team/b");
    const auto bytes = random_bytes(2 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(a, d, bytes);
    REQUIRE_FALSE(b.exists(d));
    proxy.reset_stats();
    CHECK(b.mount(d, a));
    auto s = proxy.stats();
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].method == "POST");
    CHECK(test::contains(s.requests[0].path, "/v2/team/b/blobs/uploads/?mount=sha256%3A" + std::string(d.digest.encoded())));
    CHECK(test::contains(s.requests[0].path, "from=team%2Fa"));
    CHECK(s.requests[0].status == 201);
    CHECK(s.request_bytes() == 0);
    CHECK(b.exists(d));
    CHECK(content::read_all(b, d, 4 << 20) == bytes);

    // A blob the source lacks: the registry starts an upload instead, which
    // is cancelled, and nothing is stored.
    const auto absent = oci::Descriptor::for_bytes("application/octet-stream", random_bytes(100));
    proxy.reset_stats();
    CHECK_FALSE(b.mount(absent, a));
    s = proxy.stats();
    REQUIRE(s.requests.size() == 2);
    CHECK(s.requests[0].status == 202);
    CHECK(s.requests[1].method == "DELETE");
    CHECK(test::contains(s.requests[1].path, "/v2/team/b/blobs/uploads/"));
    CHECK(s.requests[1].status == 204);
    CHECK_FALSE(b.exists(absent));
}

TEST_CASE("abilities: mount declines without a request across registries, identities and non-repositories") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    test::Registry elsewhere;
    test::FaultProxy elsewhere_proxy(elsewhere);
    auto a = via(proxy, "team/a");
    auto b = via(proxy, "team/b");
    const auto bytes = random_bytes(1000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(a, d, bytes);
    auto foreign = via(elsewhere_proxy, "team/a");
    content::push_bytes(foreign, d, bytes);
    auto with_user = test::fast_retries();
    with_user.credentials = remote::Credentials{"someone", "secret", ""};
    auto other_identity = via(proxy, "team/a", with_user);
    auto other_config = test::fast_retries();
    other_config.docker_config = "/nonexistent/other.json";
    auto other_docker_config = via(proxy, "team/a", other_config);
    content::MemoryTarget memory;
    content::push_bytes(memory, d, bytes);
    proxy.reset_stats();
    elsewhere_proxy.reset_stats();
    CHECK_FALSE(b.mount(d, foreign));
    CHECK_FALSE(b.mount(d, other_identity));
    CHECK_FALSE(b.mount(d, other_docker_config));
    CHECK_FALSE(b.mount(d, memory));
    CHECK_FALSE(b.mount(d, b));
    CHECK(proxy.stats().requests.empty());
    CHECK(elsewhere_proxy.stats().requests.empty());
    CHECK_FALSE(b.exists(d));
}

TEST_CASE("abilities: on a token registry, a mount asks one token for push here and pull there") {
    test::Pki pki;
    test::TokenIssuer issuer(pki);
    test::Registry registry({.mode = test::RegistryMode::token, .pki = &pki, .issuer = &issuer});
    test::TempDir dir;
    // The realm is another origin: it gets what config.json holds for its host.
    test::write_file(dir / "config.json",
                     nlohmann::json{{"auths", {{issuer.host(), {{"auth", oci::base64_encode(issuer.user() + ":" + issuer.password())}}}}}}.dump());
    remote::RepositoryOptions o;
    o.ca_file = registry.ca_file().string();
    o.docker_config = (dir / "config.json").string();
    auto a = remote::Repository(remote::Reference::parse(registry.host() + "/team/a"), o);
    auto b = remote::Repository(remote::Reference::parse(registry.host() + "/team/b"), o);
    const auto bytes = random_bytes(1000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(a, d, bytes);
    issuer.reset_stats();
    CHECK(b.mount(d, a));
    const auto stats = issuer.stats();
    bool both = false;
    for (const auto& e : stats.raw["log"]) {
        const auto& scopes = e["scopes"];
        const auto has = [&](const std::string& s) { return std::find(scopes.begin(), scopes.end(), s) != scopes.end(); };
        both = both || (has("repository:team/b:pull,push") && has("repository:team/a:pull"));
    }
    CHECK(both);
    CHECK(content::read_all(b, d, 4096) == bytes);
}

// AbsentPusher: a blob's presence learnt from the request that starts its
// upload (a mount from the repository itself), never from a HEAD first.
namespace {

struct Opened {
    int times = 0;
    std::string bytes;
    std::function<std::unique_ptr<content::ReadStream>()> open() {
        return [this] {
            ++times;
            return std::unique_ptr<content::ReadStream>(std::make_unique<content::BytesStream>(bytes));
        };
    }
};

}  // namespace

TEST_CASE("abilities: push_absent uploads a new small blob with POST + PUT and no HEAD, and finds it in one request after") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "absent/small");
    repo.ping();  // the API base asked once, before what is counted
    proxy.reset_stats();
    Opened src{.bytes = random_bytes(1000)};
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", src.bytes);
    CHECK(repo.push_absent(d, src.open()));
    auto s = proxy.stats();
    REQUIRE(s.requests.size() == 2);
    CHECK(s.requests[0].method == "POST");
    CHECK(test::contains(s.requests[0].path, "/v2/absent/small/blobs/uploads/?mount=sha256%3A" + std::string(d.digest.encoded())));
    CHECK(test::contains(s.requests[0].path, "from=absent%2Fsmall"));
    CHECK(s.requests[0].status == 202);
    CHECK(s.requests[1].method == "PUT");
    CHECK(s.requests[1].status == 201);
    CHECK(src.times == 1);
    CHECK(content::read_all(repo, d, 4096) == src.bytes);

    // Present now: one POST answered 201, nothing opened, no byte sent.
    proxy.reset_stats();
    CHECK_FALSE(repo.push_absent(d, src.open()));
    s = proxy.stats();
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].method == "POST");
    CHECK(s.requests[0].status == 201);
    CHECK(s.request_bytes() == 0);
    CHECK(src.times == 1);
    CHECK(s.count("HEAD") == 0);
}

TEST_CASE("abilities: push_absent asks before a blob above monolithic_limit and before a manifest") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto o = test::fast_retries();
    o.monolithic_limit = 1024;
    o.chunk_size = 4096;
    auto repo = via(proxy, "absent/large", o);
    repo.ping();
    proxy.reset_stats();
    Opened big{.bytes = random_bytes(10000)};
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", big.bytes);
    CHECK(repo.push_absent(d, big.open()));
    auto s = proxy.stats();
    REQUIRE_FALSE(s.requests.empty());
    CHECK(s.requests[0].method == "HEAD");
    CHECK(s.requests[0].status == 404);
    CHECK(s.count("POST", "mount=") == 0);  // a registry that ignores mounts would take it twice
    CHECK(s.count("PATCH") == 3);
    CHECK(content::read_all(repo, d, 1 << 20) == big.bytes);
    proxy.reset_stats();
    CHECK_FALSE(repo.push_absent(d, big.open()));
    s = proxy.stats();
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].method == "HEAD");
    CHECK(big.times == 1);

    // A manifest: HEAD, then PUT by digest.
    auto sample_src = content::MemoryTarget();
    const auto sample = test::push_sample(sample_src, "absent", 1, "");
    content::push_bytes(repo, sample.layers[0], sample.layer_bytes[0]);
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    Opened manifest{.bytes = sample.manifest_bytes};
    proxy.reset_stats();
    CHECK(repo.push_absent(sample.manifest, manifest.open()));
    s = proxy.stats();
    REQUIRE(s.requests.size() == 2);
    CHECK(s.requests[0].method == "HEAD");
    CHECK(s.requests[1].method == "PUT");
    CHECK(test::contains(s.requests[1].path, "/manifests/sha256:"));
}

TEST_CASE("abilities: push_absent falls back to a plain upload when the registry refuses the mount parameters") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "absent/refused");
    repo.ping();
    proxy.reset_stats();
    proxy.add(test::Fault::respond("POST", "mount=", 400, -1));
    Opened src{.bytes = random_bytes(500)};
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", src.bytes);
    CHECK(repo.push_absent(d, src.open()));
    const auto s = proxy.stats();
    REQUIRE(s.requests.size() == 3);
    CHECK(s.requests[0].status == 400);
    CHECK(s.requests[1].method == "POST");
    CHECK(s.requests[1].path == "/v2/absent/refused/blobs/uploads/");
    CHECK(s.requests[2].method == "PUT");
    CHECK(content::read_all(repo, d, 4096) == src.bytes);
}

TEST_CASE("abilities: copy to a registry sends the floor's requests for new blobs and nothing for a graph it has") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "absent/copy");
    content::MemoryTarget src;
    const auto a = test::push_sample(src, "copy-a " + std::to_string(std::random_device{}()), 3, "");
    const auto b = test::push_sample(src, "copy-b " + std::to_string(std::random_device{}()), 2, "");
    oci::ImageIndex index;
    index.manifests = {a.manifest, b.manifest};
    const auto index_bytes = index.serialize();
    const auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), index_bytes);
    content::push_bytes(src, root, index_bytes);
    src.tag(root, "v1");

    content::copy(src, "v1", repo, "v1", {.concurrency = 1});  // one worker: the children in order
    auto s = proxy.stats();
    // 5 distinct layers + the shared empty config: a POST and a PUT each,
    // never a HEAD; the root: a HEAD (missing), its tag checked, one PUT by
    // tag; the 2 manifests: a PUT each, and one HEAD between them (the
    // first, found missing: its sibling is not asked).
    CHECK(s.count("HEAD", "/blobs/") == 0);
    CHECK(s.count("HEAD", "/manifests/sha256:") == 1 + 1);
    CHECK(s.count("POST", "/blobs/uploads/") == 6);
    CHECK(s.count("PUT", "/blobs/uploads/") == 6);
    CHECK(s.count("PUT", "/manifests/") == 3);
    CHECK(s.count("PATCH") == 0);
    CHECK(repo.resolve("v1").digest == root.digest);
    for (const auto& l : a.layers) CHECK(repo.exists(l));

    // Again: the root is there, and vouches for everything below it.
    proxy.reset_stats();
    content::copy(src, "v1", repo, "v1");
    s = proxy.stats();
    CHECK(s.count("POST") == 0);
    CHECK(s.count("PUT") == 0);
    CHECK(s.requests.size() <= 2);
}

TEST_CASE("abilities: an appended index asks for its old runs one HEAD each and pushes the new ones without asking") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = via(proxy, "absent/append");
    content::MemoryTarget src;
    const auto salt = std::to_string(std::random_device{}());
    std::vector<oci::Descriptor> runs;
    std::vector<oci::Descriptor> layers;
    for (int i = 0; i < 6; ++i) {
        const auto sample = test::push_sample(src, "run " + std::to_string(i) + " " + salt, 2, "");
        runs.push_back(sample.manifest);
        layers.insert(layers.end(), sample.layers.begin(), sample.layers.end());
    }
    // After the runs, an entry of another artifactType that both indexes
    // hold (as an experiment's attachments follow its runs).
    auto notes = test::push_sample(src, "notes " + salt, 1, "").manifest;
    notes.artifact_type = "application/vnd.sealrun.test.notes.v1";
    auto index_of = [&](std::size_t n, const std::string& tag) {
        oci::ImageIndex index;
        index.manifests.assign(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(n));
        index.manifests.push_back(notes);
        const auto bytes = index.serialize();
        const auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
        content::push_bytes(src, root, bytes);
        src.tag(root, tag);
        return root;
    };
    index_of(3, "v1");
    const auto v2 = index_of(6, "v2");
    content::copy(src, "v1", repo, "v1", {.concurrency = 1});

    repo.ping();
    proxy.reset_stats();
    content::copy(src, "v2", repo, "v2", {.concurrency = 1});  // one worker: the children in order
    const auto s = proxy.stats();
    // The root: a HEAD (missing). The 3 old runs: one HEAD each, found,
    // nothing below them touched; the first new run: a HEAD (missing); the
    // 2 after it: no HEAD; the notes, of another type: a HEAD, found, not
    // pushed again. Each new run: 2 layers POST + PUT, its manifest PUT;
    // the empty config they share: one POST (the mount probe finds it).
    CHECK(s.count("HEAD", "/manifests/sha256:") == 1 + 3 + 1 + 1);
    CHECK(s.count("HEAD", "/blobs/") == 0);
    CHECK(s.count("PUT", "/blobs/uploads/") == 3 * 2);
    CHECK(s.count("POST", "/blobs/uploads/") == 3 * 2 + 1);
    CHECK(s.count("PUT", "/manifests/") == 4);  // 3 runs + the root by tag
    CHECK(repo.resolve("v2").digest == v2.digest);
    for (const auto& r : runs) CHECK(repo.exists(r));
    for (const auto& l : layers) CHECK(content::read_all(repo, l, 4096).size() == l.size);
}
