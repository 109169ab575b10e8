#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

namespace {
std::size_t count_files(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) ++n;
    return n;
}
}  // namespace

TEST_CASE("layout: a new layout has oci-layout, an empty index and blobs/") {
    test::TempDir dir;
    content::OciLayout layout(dir / "store");
    const auto marker = oci::parse_json_strict(test::read_file(dir / "store/oci-layout"), "oci-layout");
    CHECK(marker["imageLayoutVersion"] == "1.0.0");
    CHECK(layout.index().manifests.empty());
    CHECK(fs::is_directory(dir / "store/blobs/sha256"));
}

TEST_CASE("layout: blobs are stored under blobs/<alg>/<encoded> and read back") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto s = test::push_sample(layout, "layout", 3, "v1");
    const auto path = dir.path() / "blobs" / "sha256" / std::string(s.layers[0].digest.encoded());
    CHECK(test::read_file(path) == s.layer_bytes[0]);
    CHECK(layout.blob_path(s.layers[0].digest) == path);
    CHECK(content::read_all(layout, s.layers[2], 1 << 20) == s.layer_bytes[2]);
    CHECK(content::read_all(layout, s.manifest, 1 << 20) == s.manifest_bytes);
}

TEST_CASE("layout: a blob that fails verification never becomes visible") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const std::string good(100000, 'g');
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", good);
    std::string bad = good;
    bad[50000] = 'b';
    CHECK(errc_of([&] { content::push_bytes(layout, d, bad); }) == Errc::digest_mismatch);
    CHECK(errc_of([&] { content::push_bytes(layout, d, good.substr(1)); }) == Errc::size_mismatch);
    CHECK(errc_of([&] { content::push_bytes(layout, d, good + "x"); }) == Errc::size_mismatch);
    CHECK_FALSE(layout.exists(d));
    CHECK_FALSE(fs::exists(layout.blob_path(d.digest)));
    CHECK(count_files(dir.path() / ".sealrun-ingest") == 0);  // no temp file left behind
    content::push_bytes(layout, d, good);
    CHECK(layout.exists(d));
}

TEST_CASE("layout: a blob corrupted on disk is reported with its digest, never returned as good") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto s = test::push_sample(layout, "corrupt", 1, "v1");
    auto bytes = s.layer_bytes[0];
    bytes[0] ^= 0x20;  // same size, different content
    test::write_file(layout.blob_path(s.layers[0].digest), bytes);
    const auto e = test::thrown([&] { (void)content::read_all(layout, s.layers[0], 1 << 20); });
    CHECK(e.code == Errc::digest_mismatch);
    CHECK(test::contains(e.message, s.layers[0].digest.str()));
    // A truncated blob fails before any byte is read.
    test::write_file(layout.blob_path(s.layers[0].digest), bytes.substr(2));
    CHECK(errc_of([&] { (void)layout.fetch(s.layers[0]); }) == Errc::size_mismatch);
}

TEST_CASE("layout: every fetch is verified: no option trusts a layout's bytes") {
    test::TempDir dir;
    content::OciLayout writer(dir.path());
    const auto s = test::push_sample(writer, "trusted", 1, "v1");
    auto bytes = s.layer_bytes[0];
    bytes[0] ^= 0x20;
    test::write_file(writer.blob_path(s.layers[0].digest), bytes);
    content::OciLayout reader(dir.path(), {.read_only = true});
    CHECK(errc_of([&] { (void)content::read_all(reader, s.layers[0], 1 << 20); }) == Errc::digest_mismatch);
}

TEST_CASE("layout: tags live in index.json as ref.name annotations") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto a = test::push_sample(layout, "a", 1, "first");
    const auto b = test::push_sample(layout, "b", 1, "second");
    CHECK(layout.tags() == std::vector<std::string>{"first", "second"});
    CHECK(layout.resolve("first").digest == a.manifest.digest);
    CHECK(layout.resolve("first").artifact_type == a.manifest.artifact_type);
    const auto raw = oci::parse_json_strict(test::read_file(dir / "index.json"), "index.json");
    std::set<std::string> names;
    for (const auto& m : raw["manifests"]) names.insert(m["annotations"][std::string(oci::annotations::ref_name)]);
    CHECK(names == std::set<std::string>{"first", "second"});

    layout.tag(b.manifest, "first");  // retagging moves the tag
    CHECK(layout.resolve("first").digest == b.manifest.digest);
    CHECK(layout.index().manifests.size() == 2);
    CHECK(layout.untag("second"));
    CHECK_FALSE(layout.untag("second"));
    CHECK(layout.tags() == std::vector<std::string>{"first"});
}

TEST_CASE("layout: resolve by digest, tagged or not") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto tagged = test::push_sample(layout, "tagged", 1, "t");
    const auto loose = test::push_sample(layout, "loose", 2, "");
    CHECK(layout.resolve(tagged.manifest.digest.str()).digest == tagged.manifest.digest);
    const auto r = layout.resolve(loose.manifest.digest.str());
    CHECK(r.digest == loose.manifest.digest);
    CHECK(r.size == loose.manifest.size);
    CHECK(r.media_type == oci::media_types::image_manifest);
    CHECK(r.artifact_type == loose.manifest.artifact_type);
    // A blob that is not a manifest is not something a reference can name.
    CHECK(errc_of([&] { (void)layout.resolve(loose.layers[0].digest.str()); }) == Errc::invalid_input);
}

TEST_CASE("layout: bad tags, missing content and unknown references are refused") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto s = test::push_sample(layout, "x", 1, "");
    CHECK(errc_of([&] { layout.tag(s.manifest, "../escape"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { layout.tag(s.manifest, ""); }) == Errc::invalid_input);
    CHECK(errc_of([&] { layout.tag(s.manifest, std::string(129, 'a')); }) == Errc::invalid_input);
    CHECK(errc_of([&] { layout.tag(oci::Descriptor::for_bytes("text/plain", "absent"), "t"); }) == Errc::not_found);
    CHECK(errc_of([&] { (void)layout.resolve("missing"); }) == Errc::not_found);
    CHECK(errc_of([&] { (void)layout.resolve(oci::Digest::of("nothing").str()); }) == Errc::not_found);
}

TEST_CASE("layout: unknown files are tolerated, a broken index.json or oci-layout is a clear error") {
    test::TempDir dir;
    {
        content::OciLayout layout(dir.path());
        test::push_sample(layout, "keep", 1, "keep");
    }
    test::write_file(dir / "README.txt", "not part of the layout");
    test::write_file(dir / "blobs/sha256/notes.txt", "stray");  // not a digest name
    {
        content::OciLayout layout(dir.path());
        CHECK(layout.resolve("keep").size > 0);
        CHECK(layout.gc().blobs_removed == 0);  // stray files are not blobs it may judge
        CHECK(fs::exists(dir / "README.txt"));
        CHECK(fs::exists(dir / "blobs/sha256/notes.txt"));
    }
    test::write_file(dir / "index.json", R"({"schemaVersion":2,"manifests":[],"manifests":[]})");
    const auto e = test::thrown([&] { content::OciLayout(dir.path()).tags(); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "duplicate key"));
    test::write_file(dir / "oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
    CHECK(errc_of([&] { content::OciLayout l(dir.path()); }) == Errc::invalid_input);
}

TEST_CASE("layout: two processes tagging one layout at once keep all 200 tags") {
    test::TempDir dir;
    oci::Descriptor manifest = [&] {
        content::OciLayout layout(dir.path());
        return test::push_sample(layout, "shared", 1, "").manifest;
    }();
    const auto codes = test::in_processes(2, [&](int p) {
        content::OciLayout layout(dir.path(), {.skip_fsync = true});
        for (int i = 0; i < 100; ++i) layout.tag(manifest, "p" + std::to_string(p) + "-" + std::to_string(i));
        return 0;
    });
    CHECK(codes == std::vector<int>{0, 0});
    content::OciLayout layout(dir.path());
    const auto tags = layout.tags();
    CHECK(tags.size() == 200);
    CHECK(layout.index().manifests.size() == 200);
    for (int i = 0; i < 100; ++i) {
        CHECK(std::find(tags.begin(), tags.end(), "p0-" + std::to_string(i)) != tags.end());
        CHECK(std::find(tags.begin(), tags.end(), "p1-" + std::to_string(i)) != tags.end());
    }
}

TEST_CASE("layout: concurrent pushes of the same blob from threads all succeed") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const std::string bytes(1 << 20, 'z');
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", bytes);
    std::vector<std::jthread> threads;
    std::atomic<int> failures{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            try {
                content::push_bytes(layout, d, bytes);
            } catch (...) {
                ++failures;
            }
        });
    threads.clear();
    CHECK(failures == 0);
    CHECK(content::read_all(layout, d, 2 << 20) == bytes);
}

TEST_CASE("layout: gc removes what no tag reaches and keeps what one does") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto kept = test::push_sample(layout, "kept", 2, "kept");
    const auto dropped = test::push_sample(layout, "dropped", 3, "dropped");
    REQUIRE(layout.untag("dropped"));
    CHECK(layout.gc().blobs_removed == 0);  // all younger than the default grace period
    const auto r = layout.gc({.grace = std::chrono::seconds(0)});
    CHECK(r.blobs_removed == 4);  // dropped's 3 layers + manifest; the empty config is shared
    std::uint64_t expected_bytes = dropped.manifest_bytes.size();
    for (const auto& b : dropped.layer_bytes) expected_bytes += b.size();
    CHECK(r.bytes_removed == expected_bytes);
    CHECK_FALSE(layout.exists(dropped.manifest));
    for (const auto& l : dropped.layers) CHECK_FALSE(layout.exists(l));
    CHECK(layout.exists(kept.manifest));
    for (const auto& l : kept.layers) CHECK(layout.exists(l));
    CHECK(layout.exists(oci::empty_descriptor()));
    CHECK(layout.gc({.grace = std::chrono::seconds(0)}).blobs_removed == 0);
}

TEST_CASE("layout: remove deletes the blob and its index entries") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto s = test::push_sample(layout, "rm", 1, "rm");
    layout.remove(s.manifest);
    CHECK_FALSE(layout.exists(s.manifest));
    CHECK(layout.tags().empty());
    CHECK(errc_of([&] { layout.remove(s.manifest); }) == Errc::not_found);
}

TEST_CASE("layout: a push from a stream that already verifies is hashed once and still never stores bad bytes") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const std::string good(200000, 'g');
    const auto d = oci::Descriptor::for_bytes("application/octet-stream", good);
    std::string bad = good;
    bad[100] = 'b';
    content::VerifyingStream lying(std::make_unique<content::BytesStream>(bad), d);
    CHECK(content::already_verified(lying, d));
    CHECK(errc_of([&] { layout.push(d, lying); }) == Errc::digest_mismatch);
    CHECK_FALSE(layout.exists(d));
    // A verifying stream someone has already read from proves nothing about the rest.
    content::VerifyingStream started(std::make_unique<content::BytesStream>(good), d);
    std::byte one[1];
    REQUIRE(started.read(one) == 1);
    CHECK_FALSE(content::already_verified(started, d));
    CHECK(errc_of([&] { layout.push(d, started); }) == Errc::size_mismatch);
    CHECK_FALSE(layout.exists(d));
    content::VerifyingStream fine(std::make_unique<content::BytesStream>(good), d);
    layout.push(d, fine);
    CHECK(content::read_all(layout, d, 1 << 20) == good);
}

TEST_CASE("layout: gc keeps the blobs of tagged manifests of media types it does not know") {
    test::TempDir dir;
    content::OciLayout layout(dir.path(), {.skip_fsync = true});
    const auto push = [&](const std::string& type, const std::string& bytes) {
        const auto d = oci::Descriptor::for_bytes(type, bytes);
        content::push_bytes(layout, d, bytes);
        return d;
    };
    const auto a = push("application/octet-stream", "artifact blob a");
    const auto b = push("text/plain", "artifact blob b");
    const auto nested = push("application/octet-stream", "mentioned deep inside");
    const auto garbage = push("application/octet-stream", "nobody mentions me");
    // An OCI 1.1-rc artifact manifest, and a JSON document of a type nobody
    // knows that lists descriptors in its own fields.
    const auto artifact = push("application/vnd.oci.artifact.manifest.v1+json",
                               nlohmann::json{{"mediaType", "application/vnd.oci.artifact.manifest.v1+json"},
                                              {"artifactType", "application/vnd.example"},
                                              {"blobs", {a.to_json(), b.to_json()}}}
                                   .dump());
    const auto unknown = push("application/vnd.example.thing+json",
                              nlohmann::json{{"schemaVersion", 2},
                                             {"mediaType", "application/vnd.example.thing+json"},
                                             {"parts", {{"deep", {{"x", nested.to_json()}}}}}}
                                  .dump());
    layout.tag(artifact, "artifact");
    layout.tag(unknown, "unknown");
    const auto r = layout.gc({.grace = std::chrono::seconds(0)});
    CHECK(r.blobs_removed == 1);
    CHECK_FALSE(layout.exists(garbage));
    for (const auto& d : {a, b, nested, artifact, unknown}) CHECK(layout.exists(d));
}

TEST_CASE("layout: exists does not trust a name, and copy repairs an emptied or truncated blob") {
    test::TempDir dir;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "repair", 2, "v1");
    content::OciLayout layout(dir / "dst", {.skip_fsync = true});
    // Left by an earlier, broken writer: the right path, the wrong bytes.
    test::write_file(layout.blob_path(s.layers[0].digest), "");
    test::write_file(layout.blob_path(s.layers[1].digest), s.layer_bytes[1].substr(1));
    CHECK_FALSE(layout.exists(s.layers[0]));
    CHECK_FALSE(layout.exists(s.layers[1]));
    content::copy(src, "v1", layout, "v1");
    CHECK(test::read_file(layout.blob_path(s.layers[0].digest)) == s.layer_bytes[0]);
    CHECK(test::read_file(layout.blob_path(s.layers[1].digest)) == s.layer_bytes[1]);
    CHECK(content::read_all(layout, s.layers[0], 1 << 20) == s.layer_bytes[0]);
    CHECK(layout.exists(s.layers[1]));
}

TEST_CASE("layout: a tag under TagPolicy::keep is never moved silently; replace and plain tag move it") {
    test::TempDir dir;
    content::OciLayout layout(dir.path(), {.skip_fsync = true});
    const auto a = test::push_sample(layout, "a", 1, "");
    const auto b = test::push_sample(layout, "b", 1, "");
    layout.tag(a.manifest, "v1", content::TagPolicy::keep);  // new tag
    layout.tag(a.manifest, "v1", content::TagPolicy::keep);  // same digest again
    const auto e = test::thrown([&] { layout.tag(b.manifest, "v1", content::TagPolicy::keep); });
    CHECK(e.code == Errc::already_exists);
    CHECK(test::contains(e.message, a.manifest.digest.str()));
    CHECK(test::contains(e.message, "--force"));
    CHECK(layout.resolve("v1").digest == a.manifest.digest);
    CHECK(layout.index().manifests.size() == 1);
    // Through the shared entry point too (it finds the ability by dynamic_cast).
    CHECK(errc_of([&] { content::tag_with(layout, b.manifest, "v1", content::TagPolicy::keep); }) == Errc::already_exists);
    content::tag_with(layout, b.manifest, "v1", content::TagPolicy::replace);
    CHECK(layout.resolve("v1").digest == b.manifest.digest);
    layout.tag(a.manifest, "v1");  // Target::tag keeps replacing
    CHECK(layout.resolve("v1").digest == a.manifest.digest);
    CHECK(layout.index().manifests.size() == 1);
}

TEST_CASE("layout: read_only opens without creating or locking anything and refuses every write") {
    test::TempDir dir;
    const auto missing = dir / "typo/deep/dir";
    const auto e = test::thrown([&] { content::OciLayout l(missing, {.read_only = true}); });
    CHECK(e.code == Errc::not_found);
    CHECK(test::contains(e.message, "is not an OCI layout"));
    CHECK_FALSE(fs::exists(dir / "typo"));
    fs::create_directories(dir / "empty");
    CHECK(errc_of([&] { content::OciLayout l(dir / "empty", {.read_only = true}); }) == Errc::not_found);
    CHECK(fs::is_empty(dir / "empty"));

    const auto store = dir / "store";
    const auto s = [&] {
        content::OciLayout w(store, {.skip_fsync = true});
        return test::push_sample(w, "ro", 1, "v1");
    }();
    const auto listing = [&] {
        std::set<std::string> names;
        for (const auto& f : fs::recursive_directory_iterator(store)) names.insert(f.path().string());
        return names;
    };
    fs::remove(store / "index.json.lock");
    fs::remove(store / ".sealrun-writers.lock");
    fs::remove(store / ".sealrun-gc.lock");
    const auto before = listing();
    content::OciLayout ro(store, {.read_only = true});
    CHECK(ro.tags() == std::vector<std::string>{"v1"});
    CHECK(ro.resolve("v1").digest == s.manifest.digest);
    CHECK(ro.exists(s.layers[0]));
    CHECK(content::read_all(ro, s.layers[0], 1 << 20) == s.layer_bytes[0]);
    CHECK(ro.resolve(s.manifest.digest.str()).digest == s.manifest.digest);
    for (const auto& op : std::vector<std::function<void()>>{
             [&] { content::push_bytes(ro, oci::Descriptor::for_bytes("text/plain", "new"), "new"); },
             [&] { ro.tag(s.manifest, "v2"); },
             [&] { ro.tag(s.manifest, "v2", content::TagPolicy::keep); },
             [&] { (void)ro.untag("v1"); },
             [&] { ro.remove(s.layers[0]); },
             [&] { (void)ro.gc({.grace = std::chrono::seconds(0)}); }}) {
        const auto d = test::thrown(op);
        CHECK(d.code == Errc::denied);
        CHECK(test::contains(d.message, "read-only"));
    }
    CHECK(listing() == before);  // no lock file, no ingest directory, nothing
    CHECK(ro.tags() == std::vector<std::string>{"v1"});
}

namespace {

// push_index pushes an index over `manifests` (and `note`, to make it new).
oci::Descriptor push_index(content::Target& t, const std::vector<oci::Descriptor>& manifests, const std::string& note) {
    oci::ImageIndex idx;
    idx.manifests = manifests;
    idx.annotations.emplace("org.example.note", note);
    const auto bytes = idx.serialize();
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, d, bytes);
    return d;
}

}  // namespace

TEST_CASE("layout: tag does not read again what an earlier tag checked, until gc or remove deletes something") {
    test::TempDir dir;
    content::OciLayout layout(dir.path());
    const auto run = test::push_sample(layout, "checked run", 2, "");
    layout.tag(push_index(layout, {run.manifest}, "1"), "ckpt");
    // A layer vanishes behind sealrun's back: the run manifest was checked
    // whole by the first tag and nothing was removed since, so the next
    // checkpoints (from this object or a new one, as each checkpoint opens
    // the store) do not look below it again.
    const auto layer = dir.path() / "blobs" / "sha256" / std::string(run.layers[0].digest.encoded());
    REQUIRE(std::filesystem::remove(layer));
    const auto other = test::push_sample(layout, "new run", 1, "");
    CHECK_NOTHROW(layout.tag(push_index(layout, {run.manifest, other.manifest}, "2"), "ckpt"));
    content::OciLayout reopened(dir.path());
    CHECK_NOTHROW(reopened.tag(push_index(reopened, {run.manifest, other.manifest}, "3"), "ckpt"));
    // remove() of anything says something was deleted: everything is checked again.
    const auto unrelated = test::push_sample(layout, "unrelated", 1, "");
    layout.remove(unrelated.layers[0]);
    const auto e = test::thrown([&] { layout.tag(push_index(layout, {run.manifest, other.manifest}, "4"), "ckpt"); });
    CHECK(e.code == Errc::not_found);
    CHECK(e.message.find(run.layers[0].digest.str()) != std::string::npos);
    // Repaired, checked, then a hole again and a gc (which removes nothing
    // young, but may have): checked again, the hole found.
    content::push_bytes(layout, run.layers[0], run.layer_bytes[0]);
    layout.tag(push_index(layout, {run.manifest, other.manifest}, "5"), "ckpt");
    REQUIRE(std::filesystem::remove(layer));
    CHECK(layout.gc().blobs_removed == 0);
    CHECK(errc_of([&] { reopened.tag(push_index(reopened, {run.manifest}, "6"), "ckpt"); }) == Errc::not_found);
    // A check that fails remembers the nodes it found complete (the walk
    // takes the last entry first: `whole`), never one it failed below.
    const auto broken = test::push_sample(layout, "broken run", 1, "");
    const auto whole = test::push_sample(layout, "whole run", 1, "");
    const auto broken_layer = dir.path() / "blobs" / "sha256" / std::string(broken.layers[0].digest.encoded());
    REQUIRE(std::filesystem::remove(broken_layer));
    const auto both = push_index(layout, {broken.manifest, whole.manifest}, "7");
    CHECK(errc_of([&] { layout.tag(both, "both"); }) == Errc::not_found);
    CHECK(errc_of([&] { layout.tag(both, "both"); }) == Errc::not_found);
    content::push_bytes(layout, broken.layers[0], broken.layer_bytes[0]);
    REQUIRE(std::filesystem::remove(dir.path() / "blobs" / "sha256" / std::string(whole.layers[0].digest.encoded())));
    CHECK_NOTHROW(layout.tag(both, "both"));
}
