// The registry transport against a real docker-registry on 127.0.0.1.
#include <doctest/doctest.h>

#include <random>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "sealrun/remote/repository.h"
#include "sealrun/experiment/sealed.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/sample.h"

using namespace sealrun;
using test::errc_of;
using test::random_bytes;
namespace fs = std::filesystem;

namespace {

remote::Repository repo_at(const std::string& host, const std::string& name, remote::RepositoryOptions o = {}) {
    return remote::Repository(remote::Reference::parse(host + "/" + name), std::move(o));
}

void check_same(const SealedExperiment& a, const SealedExperiment& b) {
    REQUIRE(a.run_ids() == b.run_ids());
    for (auto id : a.run_ids()) {
        const auto ra = a.run(id), rb = b.run(id);
        REQUIRE(ra.attachment_names() == rb.attachment_names());
        for (const auto& n : ra.attachment_names()) CHECK(ra.get_blob(n) == rb.get_blob(n));
        CHECK(ra.status() == rb.status());
    }
    CHECK(a.attachment_names() == b.attachment_names());
}

}  // namespace

TEST_CASE("registry: an experiment sealed locally, pushed, pulled into a fresh store opens equal") {
    test::Registry registry;
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "gd-sweep", test::fixed_options());
    test::record_two_runs(exp);
    exp.run([](Run& r) { r.save_file("big.bin.txt", random_bytes(9 << 20)); });  // chunked upload
    exp.commit("v1");
    content::OciLayout local(dir / "storage");
    auto repo = repo_at(registry.host(), "team/sweeps");
    CHECK(repo.base_url() == registry.url());  // a loopback registry without TLS is reached over http
    const auto root = content::copy(local, "v1", repo, "");
    CHECK(repo.tags() == std::vector<std::string>{"v1"});
    CHECK(repo.resolve("v1").digest == root.digest);
    content::OciLayout fresh(dir / "fresh");
    content::copy(repo, "v1", fresh, "");
    check_same(SealedExperiment::open(local, "v1"), SealedExperiment::open(fresh, "v1"));
    // The views work straight on the registry too, with no change to their code.
    check_same(SealedExperiment::open(local, "v1"), SealedExperiment::open(repo, "v1"));
}

TEST_CASE("registry: a second push of the same experiment sends no blob bytes") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "x", test::fixed_options());
    exp.run([](Run& r) { r.save_file("data.txt", random_bytes(1 << 20)); });
    exp.commit("v1");
    content::OciLayout local(dir / "storage");
    auto repo = repo_at(proxy.host(), "again");
    content::copy(local, "v1", repo, "");
    CHECK(proxy.stats().request_bytes("PATCH|PUT", "/blobs/uploads/") >= (1u << 20));
    proxy.reset_stats();
    content::copy(local, "v1", repo, "v2");
    const auto s = proxy.stats();
    CHECK(s.count("POST|PATCH", "/blobs/uploads/") == 0);
    CHECK(s.request_bytes("PATCH|PUT", "/blobs/") == 0);
    CHECK(s.count("HEAD", "/blobs/") == 0);  // the root is already there: nothing below it is asked for
    CHECK(repo.resolve("v2").digest == repo.resolve("v1").digest);
}

TEST_CASE("registry: errors carry the registry's code, unknown things are not_found") {
    test::Registry registry;
    auto repo = repo_at(registry.host(), "empty/repo");
    const auto e = test::thrown([&] { (void)repo.resolve("nope"); });
    CHECK(e.code == Errc::not_found);
    CHECK(repo.tags().empty());
    CHECK_FALSE(repo.exists(oci::Descriptor::for_bytes("text/plain", "absent")));
    const auto missing = oci::Descriptor::for_bytes("text/plain", "absent");
    const auto f = test::thrown([&] { content::read_all(repo, missing, 100); });
    CHECK(f.code == Errc::not_found);
    CHECK(test::contains(f.message, "BLOB_UNKNOWN"));
    CHECK(errc_of([&] { repo.tag(missing, "bad tag"); }) == Errc::invalid_input);
}

TEST_CASE("registry: a blob pushed under the wrong digest is refused before it is committed") {
    test::Registry registry;
    auto repo = repo_at(registry.host(), "wrong");
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", "right bytes");
    CHECK(errc_of([&] { content::push_bytes(repo, d, "wrong bytes"); }) == Errc::digest_mismatch);
    CHECK_FALSE(repo.exists(d));
    // Large (chunked) too: the mismatch is seen at the end, before the final PUT.
    const auto big = random_bytes(6 << 20);
    auto bd = oci::Descriptor::for_bytes("application/octet-stream", big);
    auto other = big;
    other.back() ^= 1;
    CHECK(errc_of([&] { content::push_bytes(repo, bd, other); }) == Errc::digest_mismatch);
    CHECK_FALSE(repo.exists(bd));
}

TEST_CASE("registry: tags page through Link headers, deletes and referrers fall back to the tag schema") {
    test::Registry registry;
    auto repo = repo_at(registry.host(), "paged");
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "paged", 1, "t0");
    for (int i = 0; i < 5; ++i) content::copy(src, "t0", repo, "t" + std::to_string(i));
    remote::RepositoryOptions small;
    small.tag_page_size = 2;
    auto paged = repo_at(registry.host(), "paged", small);
    CHECK(paged.tags() == std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});

    // A referrer, listed the way registries without the referrers API do.
    oci::ImageManifest ref{.artifact_type = "application/vnd.example.sbom", .config = oci::empty_descriptor(),
                           .layers = {oci::empty_descriptor()}, .subject = s.manifest};
    ref.config.data.reset();
    ref.layers[0].data.reset();
    const auto rbytes = ref.serialize();
    auto rd = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), rbytes);
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    content::push_bytes(repo, rd, rbytes);
    CHECK(repo.referrers(s.manifest).empty());
    rd.artifact_type = ref.artifact_type;
    oci::ImageIndex listing{.manifests = {rd}};
    const auto lbytes = listing.serialize();
    const auto ld = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), lbytes);
    content::push_bytes(repo, ld, lbytes);
    repo.tag(ld, "sha256-" + std::string(s.manifest.digest.encoded()));
    const auto found = repo.referrers(s.manifest);
    REQUIRE(found.size() == 1);
    CHECK(found[0].digest == rd.digest);

    repo.remove(s.manifest);
    CHECK(errc_of([&] { (void)repo.resolve("t3"); }) == Errc::not_found);
}

TEST_CASE("registry: skopeo pulls what sealrun pushes, and sealrun pulls what skopeo pushes") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::Registry registry;
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "interop", test::fixed_options());
    test::record_two_runs(exp);
    exp.run([](Run& r) { r.save_file("noise.txt", random_bytes(4096)); });
    exp.commit("v1");
    content::OciLayout local(dir / "storage");
    auto repo = repo_at(registry.host(), "interop/exp");
    content::copy(local, "v1", repo, "");

    const auto pulled = test::run({"skopeo", "--insecure-policy", "copy", "--all", "--src-tls-verify=false",
                                   "docker://" + registry.host() + "/interop/exp:v1", "oci:" + (dir / "skopeo").string() + ":v1"});
    INFO(pulled.output);
    REQUIRE(pulled.exit_code == 0);
    content::OciLayout theirs(dir / "skopeo");
    const auto ours = SealedExperiment::open(local, "v1");
    const auto copy = SealedExperiment::open(theirs, "v1");
    check_same(ours, copy);
    for (auto id : ours.run_ids())  // run manifests byte for byte (skopeo rewrites only the index)
        CHECK(content::read_all(theirs, copy.run(id).manifest(), oci::max_manifest_size) ==
              content::read_all(local, ours.run(id).manifest(), oci::max_manifest_size));

    // The other way: skopeo pushes a layout, sealrun pulls and verifies it.
    const auto pushed = test::run({"skopeo", "--insecure-policy", "copy", "--all", "--dest-tls-verify=false",
                                   "oci:" + (dir / "storage").string() + ":v1",
                                   "docker://" + registry.host() + "/interop/by-skopeo:v1"});
    INFO(pushed.output);
    REQUIRE(pushed.exit_code == 0);
    auto theirs_remote = repo_at(registry.host(), "interop/by-skopeo");
    content::OciLayout back(dir / "back");
    content::copy(theirs_remote, "v1", back, "");
    check_same(ours, SealedExperiment::open(back, "v1"));
}

TEST_CASE("registry: a blob the registry holds in another repository is mounted, not uploaded") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    const auto bytes = random_bytes(2 << 20);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    auto first = repo_at(proxy.host(), "team/first");
    content::push_bytes(first, d, bytes);
    proxy.reset_stats();
    remote::RepositoryOptions o;
    o.mount_from = {"team/first"};
    auto second = repo_at(proxy.host(), "team/second", o);
    content::push_bytes(second, d, bytes);
    const auto s = proxy.stats();
    CHECK(s.count("POST", "mount=") == 1);
    CHECK(s.request_bytes("PATCH|PUT", "/blobs/") == 0);
    CHECK(second.exists(d));
}

TEST_CASE("registry: with HEAD unusable, a 2 MiB manifest resolves by tag and by digest (the GET reads up to 4 MiB)") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = repo_at(proxy.host(), "big-manifest");
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    oci::ImageManifest m{.artifact_type = "application/vnd.sealrun.test.v1", .config = oci::empty_descriptor(),
                         .layers = {oci::empty_descriptor()}};
    m.annotations["org.example.padding"] = std::string(2 << 20, 'p');
    const auto mb = m.serialize();
    REQUIRE(mb.size() > (2u << 20));
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(repo, md, mb);
    repo.tag(md, "v1");
    SUBCASE("HEAD answers 405") { proxy.add(test::Fault::respond("HEAD", "/manifests/", 405, -1)); }
    SUBCASE("HEAD answers 500") { proxy.add(test::Fault::respond("HEAD", "/manifests/", 500, -1)); }
    SUBCASE("HEAD's Content-Length is beyond any manifest") {
        proxy.add(test::Fault::set_header("HEAD", "/manifests/", "Content-Length", "99999999999", -1));
    }
    for (const auto& ref : {std::string("v1"), md.digest.str()}) {
        const auto d = repo.resolve(ref);
        CHECK(d.digest == md.digest);
        CHECK(d.size == md.size);
        CHECK(d.media_type == md.media_type);
    }
    CHECK(content::read_all(repo, md, oci::max_manifest_size) == mb);
}

TEST_CASE("registry: a manifest GET whose Docker-Content-Digest names other content is refused") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = repo_at(proxy.host(), "lying-digest");
    content::push_bytes(repo, oci::empty_descriptor(), "{}");
    oci::ImageManifest m{.config = oci::empty_descriptor(), .layers = {oci::empty_descriptor()}};
    const auto mb = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(repo, md, mb);
    repo.tag(md, "v1");
    proxy.add(test::Fault::respond("HEAD", "/manifests/", 405, -1));
    proxy.add(test::Fault::set_header("GET", "/manifests/", "Docker-Content-Digest", oci::empty_descriptor().digest.str(), -1));
    CHECK(errc_of([&] { (void)repo.resolve("v1"); }) == Errc::digest_mismatch);
    CHECK(errc_of([&] { (void)repo.resolve(md.digest.str()); }) == Errc::digest_mismatch);
}

TEST_CASE("registry: read_reference resolves a tag and reads its manifest in one GET, and checks what it got") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = repo_at(proxy.host(), "read-ref");
    const auto sample = test::push_sample(repo, "read-ref", 2, "v1");
    repo.ping();
    proxy.reset_stats();
    const auto [d, bytes] = repo.read_reference("v1");
    const auto s = proxy.stats();
    REQUIRE(s.requests.size() == 1);
    CHECK(s.requests[0].method == "GET");
    CHECK(s.requests[0].path == "/v2/read-ref/manifests/v1");
    CHECK(d.digest == sample.manifest.digest);
    CHECK(d.media_type == sample.manifest.media_type);
    CHECK(d.size == sample.manifest.size);
    CHECK(bytes == sample.manifest_bytes);
    CHECK(repo.read_reference(sample.manifest.digest.str()).second == sample.manifest_bytes);
    // Through the seam: the same answer, one request.
    proxy.reset_stats();
    CHECK(content::read_reference(repo, "v1", oci::max_manifest_size).second == sample.manifest_bytes);
    CHECK(proxy.stats().requests.size() == 1);
    CHECK(errc_of([&] { (void)content::read_reference(repo, "v1", 10); }) == Errc::too_large);
    CHECK(errc_of([&] { (void)repo.read_reference("v2"); }) == Errc::not_found);
    CHECK(errc_of([&] { (void)repo.read_reference("bad tag"); }) == Errc::invalid_input);
    // A registry that says it sent other content is refused.
    proxy.add(test::Fault::set_header("GET", "/manifests/", "Docker-Content-Digest", oci::empty_descriptor().digest.str(), -1));
    CHECK(errc_of([&] { (void)repo.read_reference("v1"); }) == Errc::digest_mismatch);
}

TEST_CASE("registry: a blob whose HEAD reports another length does not count as present, and a copy sends it again") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    // Above monolithic_limit a copy asks with a HEAD before uploading (below
    // it the upload's start asks, and the registry's own answer counts:
    // abilities_test).
    remote::RepositoryOptions o;
    o.monolithic_limit = 100000;
    auto repo = repo_at(proxy.host(), "short-blob", o);
    content::MemoryTarget src;
    const auto bytes = random_bytes(300000);
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    content::push_bytes(src, d, bytes);
    content::push_bytes(src, oci::empty_descriptor(), "{}");
    oci::ImageManifest m{.config = oci::empty_descriptor(), .layers = {d}};
    const auto mb = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(src, md, mb);
    src.tag(md, "v1");
    content::push_bytes(repo, d, bytes);
    CHECK(repo.exists(d));
    proxy.add(test::Fault::set_header("HEAD", "/blobs/" + d.digest.str(), "Content-Length", "10", -1));
    CHECK_FALSE(repo.exists(d));
    proxy.reset_stats();
    content::copy(src, "v1", repo, "");
    CHECK(proxy.stats().request_bytes("PATCH|PUT", "/blobs/uploads/") >= bytes.size());  // sent again
    proxy.clear_faults();
    CHECK(repo.exists(d));
    CHECK(content::read_all(repo, d, 1 << 20) == bytes);
}

TEST_CASE("registry: a referrers list paged through Link headers is read to its last page, never off the registry") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = repo_at(proxy.host(), "referred");
    const auto subject = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), "{\"subject\":1}");
    const auto page = [](const std::string& seed) {
        const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), seed);
        return std::make_pair(d, oci::ImageIndex{.manifests = {d}}.serialize());
    };
    const auto [a, first] = page("a");
    const auto [b, second] = page("b");
    const auto path = "/v2/referred/referrers/" + subject.digest.str();
    test::Fault one = test::Fault::respond("GET", "/referrers/sha256:[0-9a-f]+$", 200, -1);
    one.body = first;
    one.headers = {{"Link", "<" + path + "?last=a>; rel=\"next\""}};
    test::Fault two = test::Fault::respond("GET", "last=a$", 200, -1);
    two.body = second;
    proxy.add(one);
    proxy.add(two);
    const auto found = repo.referrers(subject);
    REQUIRE(found.size() == 2);
    CHECK(found[0].digest == a.digest);
    CHECK(found[1].digest == b.digest);

    proxy.clear_faults();
    one.headers = {{"Link", "<http://elsewhere.example" + path + "?last=a>; rel=\"next\""}};
    proxy.add(one);
    CHECK(errc_of([&] { (void)repo.referrers(subject); }) == Errc::protocol);
}
