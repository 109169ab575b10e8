// The registry test harness itself, checked with clients nobody here wrote
// (skopeo 1.9, curl): a real docker-registry in each mode, the token issuer
// and the fault proxy. The registry transport's tests build on these.
#include <doctest/doctest.h>

#include <chrono>
#include <random>

#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/digest.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

test::RunResult skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), {"skopeo", "--insecure-policy"});
    return test::run(args);
}

// A seed nobody used before, so skopeo's blob-info cache (shared by every
// run on this machine) knows none of the layers.
std::string fresh_seed() {
    std::random_device rd;
    return "harness-" + std::to_string(rd()) + "-" + std::to_string(rd());
}

// An OCI layout holding one sealrun sample artifact, tagged v1.
struct Layout {
    test::TempDir dir;
    test::Sample sample;
    explicit Layout(int layers = 2) {
        content::OciLayout layout(dir / "layout");
        sample = test::push_sample(layout, fresh_seed(), layers, "v1");
    }
    std::string ref() const { return "oci:" + (dir / "layout").string() + ":v1"; }
    std::uint64_t blob_bytes() const {
        std::uint64_t n = 2;  // the empty config, "{}"
        for (const auto& l : sample.layer_bytes) n += l.size();
        return n;
    }
};

void require_tools() {
    for (const char* tool : {"skopeo", "curl", "openssl", "htpasswd", "docker-registry"})
        REQUIRE_MESSAGE(test::have_program(tool), tool << " is required");
}

}  // namespace

TEST_CASE("harness: plain registry takes a skopeo push and serves it back") {
    require_tools();
    Layout layout;
    int port = 0;
    {
        test::Registry reg;
        port = reg.port();
        INFO("registry log:\n" << reg.log());
        CHECK(reg.host() == "127.0.0.1:" + std::to_string(port));
        CHECK(reg.url() == "http://" + reg.host());
        CHECK(reg.ca_file().empty());
        CHECK(reg.user().empty());

        const auto v2 = test::http({.url = reg.url() + "/v2/"});
        CHECK(v2.status == 200);
        CHECK(v2.header("Docker-Distribution-Api-Version") == "registry/2.0");

        const std::string dest = "docker://" + reg.host() + "/harness/plain:v1";
        const auto push = skopeo({"copy", "--dest-tls-verify=false", layout.ref(), dest});
        INFO(push.output);
        REQUIRE(push.exit_code == 0);

        // skopeo reads back our manifest byte for byte. (Plain `skopeo
        // inspect` refuses artifacts whose config is not an image config.)
        const auto raw = skopeo({"inspect", "--raw", "--tls-verify=false", dest});
        INFO(raw.output);
        REQUIRE(raw.exit_code == 0);
        CHECK(raw.output == layout.sample.manifest_bytes);
        const auto tags = skopeo({"list-tags", "--tls-verify=false", "docker://" + reg.host() + "/harness/plain"});
        CHECK(tags.exit_code == 0);
        CHECK(test::contains(tags.output, "\"v1\""));

        // The blobs are in the registry's storage and served by digest.
        const auto& layer = layout.sample.layers[0];
        const auto blob = test::http({.url = reg.url() + "/v2/harness/plain/blobs/" + layer.digest.str()});
        CHECK(blob.status == 200);
        CHECK(blob.body == layout.sample.layer_bytes[0]);
        const std::string hex(layer.digest.encoded());
        CHECK(fs::exists(reg.storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data"));

        // Deletes are enabled.
        const auto del = test::http({.url = reg.url() + "/v2/harness/plain/manifests/" + layout.sample.manifest.digest.str(),
                                     .method = "DELETE"});
        CHECK(del.status == 202);
    }
    // The destructor stopped it: nothing listens there any more.
    const auto gone = test::http({.url = "http://127.0.0.1:" + std::to_string(port) + "/v2/", .timeout_s = 2});
    CHECK(gone.status == 0);
}

TEST_CASE("harness: tls_basic registry wants the generated credentials") {
    require_tools();
    Layout layout;
    test::Registry reg({.mode = test::RegistryMode::tls_basic});
    INFO("registry log:\n" << reg.log());
    CHECK(reg.url() == "https://" + reg.host());
    REQUIRE(!reg.ca_file().empty());
    CHECK(fs::exists(reg.cert_dir() / "ca.crt"));
    CHECK(reg.user() == "sealrun");
    CHECK(reg.password().size() >= 16);

    const std::string v2 = reg.url() + "/v2/";
    const auto anon = test::http({.url = v2, .ca_file = reg.ca_file()});
    CHECK(anon.status == 401);
    CHECK(anon.header("WWW-Authenticate") == "Basic realm=\"sealrun-test\"");
    CHECK(test::http({.url = v2, .ca_file = reg.ca_file(), .user = reg.user(), .password = reg.password()}).status == 200);
    CHECK(test::http({.url = v2, .ca_file = reg.ca_file(), .user = reg.user(), .password = "wrong"}).status == 401);
    // The certificate names localhost too, and nothing verifies without the CA.
    CHECK(test::http({.url = "https://localhost:" + std::to_string(reg.port()) + "/v2/", .ca_file = reg.ca_file(),
                      .user = reg.user(), .password = reg.password()})
              .status == 200);
    CHECK(test::http({.url = v2}).status == 0);

    const std::string creds = reg.user() + ":" + reg.password();
    const std::string dest = "docker://" + reg.host() + "/harness/basic:v1";
    const auto push = skopeo({"copy", "--dest-cert-dir", reg.cert_dir().string(), "--dest-creds", creds, layout.ref(), dest});
    INFO(push.output);
    REQUIRE(push.exit_code == 0);
    const auto raw = skopeo({"inspect", "--raw", "--cert-dir", reg.cert_dir().string(), "--creds", creds, dest});
    CHECK(raw.exit_code == 0);
    CHECK(raw.output == layout.sample.manifest_bytes);

    const auto bad = skopeo({"copy", "--dest-cert-dir", reg.cert_dir().string(), "--dest-creds", reg.user() + ":wrong",
                             layout.ref(), "docker://" + reg.host() + "/harness/basic:v2"});
    CHECK(bad.exit_code != 0);
    CHECK(test::contains(bad.output, "unauthorized"));
    // Without the CA, skopeo refuses the certificate.
    const auto untrusted = skopeo({"inspect", "--raw", "--creds", creds, dest});
    CHECK(untrusted.exit_code != 0);
}

TEST_CASE("harness: token registry accepts the issuer's tokens and nothing else") {
    require_tools();
    Layout layout;
    test::Pki pki;
    test::TokenIssuer issuer(pki, {.user = "alice"});
    test::Registry reg({.mode = test::RegistryMode::token, .issuer = &issuer});
    INFO("registry log:\n" << reg.log() << "\nissuer log:\n" << issuer.log());
    CHECK(reg.user() == "alice");
    CHECK(reg.password() == issuer.password());
    CHECK(issuer.realm() == "https://" + issuer.host() + "/token");

    const std::string v2 = reg.url() + "/v2/";
    const auto anon = test::http({.url = v2, .ca_file = reg.ca_file()});
    CHECK(anon.status == 401);
    CHECK(anon.header("WWW-Authenticate") == "Bearer realm=\"" + issuer.realm() + "\",service=\"sealrun-test\"");

    // A token for the repository opens /v2/ and the repository.
    const auto token = issuer.token({"repository:harness/token:pull,push"}, issuer.user(), issuer.password());
    CHECK(test::http({.url = v2, .ca_file = reg.ca_file(), .bearer = token}).status == 200);
    const std::string tags_url = reg.url() + "/v2/harness/token/tags/list";
    CHECK(test::http({.url = tags_url, .ca_file = reg.ca_file(), .bearer = token}).status == 404);  // no such repo yet
    // An anonymous token has no access: /v2/ yes, the repository no.
    const auto anon_token = issuer.token({"repository:harness/token:pull"}, "", "");
    CHECK(test::http({.url = v2, .ca_file = reg.ca_file(), .bearer = anon_token}).status == 200);
    const auto denied = test::http({.url = tags_url, .ca_file = reg.ca_file(), .bearer = anon_token});
    CHECK(denied.status == 401);
    CHECK(test::contains(denied.header("WWW-Authenticate"), "scope=\"repository:harness/token:pull\""));
    // Wrong credentials get no token at all.
    const auto wrong = test::http({.url = issuer.realm() + "?service=sealrun-test&scope=repository:harness/token:pull",
                                   .ca_file = issuer.ca_file(), .user = "alice", .password = "wrong"});
    CHECK(wrong.status == 401);
    // A token signed under another CA is refused.
    {
        test::Pki other;
        test::TokenIssuer impostor(other, {.user = "alice", .password = issuer.password()});
        const auto forged = impostor.token({"repository:harness/token:pull,push"}, "alice", issuer.password());
        CHECK(test::http({.url = v2, .ca_file = reg.ca_file(), .bearer = forged}).status == 401);
    }

    const auto before = issuer.stats();
    CHECK(before.issued == 1);
    CHECK(before.anonymous == 1);
    CHECK(before.denied == 1);
    issuer.reset_stats();
    CHECK(issuer.stats().requests == 0);

    // skopeo runs the whole dance: 401, token from the realm, push.
    const std::string creds = issuer.user() + ":" + issuer.password();
    const std::string dest = "docker://" + reg.host() + "/harness/token:v1";
    const auto push = skopeo({"copy", "--dest-cert-dir", reg.cert_dir().string(), "--dest-creds", creds, layout.ref(), dest});
    INFO(push.output);
    REQUIRE(push.exit_code == 0);
    const auto after = issuer.stats();
    CHECK(after.issued >= 1);
    CHECK(after.denied == 0);
    bool saw_push_scope = false;
    for (const auto& e : after.raw["log"])
        for (const auto& s : e["scopes"])
            if (s == "repository:harness/token:pull,push") saw_push_scope = true;
    CHECK(saw_push_scope);
    const auto raw = skopeo({"inspect", "--raw", "--cert-dir", reg.cert_dir().string(), "--creds", creds, dest});
    CHECK(raw.exit_code == 0);
    CHECK(raw.output == layout.sample.manifest_bytes);

    const auto bad = skopeo({"copy", "--dest-cert-dir", reg.cert_dir().string(), "--dest-creds", "alice:wrong",
                             layout.ref(), "docker://" + reg.host() + "/harness/token:v2"});
    CHECK(bad.exit_code != 0);
    CHECK(issuer.stats().denied >= 1);
}

TEST_CASE("harness: fault proxy injects faults and counts what passes") {
    require_tools();
    test::Registry reg;
    test::FaultProxy proxy(reg);
    INFO("registry log:\n" << reg.log() << "\nproxy log:\n" << proxy.log());
    const std::string v2 = proxy.url() + "/v2/";
    CHECK(test::http({.url = v2}).status == 200);

    SUBCASE("503 and 429 instead of forwarding") {
        const int id = proxy.add(test::Fault::respond("GET", "^/v2/$", 503, 2));
        CHECK(test::http({.url = v2}).status == 503);
        const auto second = test::http({.url = v2});
        CHECK(second.status == 503);
        CHECK(test::contains(second.body, "UNAVAILABLE"));
        CHECK(test::http({.url = v2}).status == 200);
        proxy.add(test::Fault::throttle("", "^/v2/$", 7));
        const auto throttled = test::http({.url = v2});
        CHECK(throttled.status == 429);
        CHECK(throttled.header("Retry-After") == "7");
        CHECK(test::http({.url = v2}).status == 200);
        const auto stats = proxy.stats();
        CHECK(stats.fired(id) == 2);
        CHECK(stats.count("GET", "^/v2/$") == 6);
        CHECK(stats.count("POST") == 0);

        // Keep-alive: one curl, three URLs, one connection, an injected
        // 503 in the middle of it.
        proxy.reset_stats();
        proxy.add(test::Fault::respond("GET", "^/v2/$"));
        const auto three = test::http({.url = v2, .curl_args = {v2, proxy.url() + "/v2/_catalog"}});
        CHECK(three.status == 200);
        const auto after = proxy.stats();
        CHECK(after.connections == 1);
        REQUIRE(after.requests.size() == 3);
        CHECK(after.requests[0].status == 503);
        CHECK(after.requests[0].fault == "respond");
        CHECK(after.requests[1].status == 200);
        CHECK(after.requests[2].status == 200);
        CHECK(after.requests[2].response_bytes > 0);
    }

    SUBCASE("uploads, byte flips and resets") {
        const std::string blob = "0123456789abcdefghijklmnopqrstuvwxyz";
        const auto digest = oci::Digest::of(blob).str();
        const std::string uploads = proxy.url() + "/v2/harness/proxy/blobs/uploads/";
        // docker-registry 2.8 ignores ?digest= on POST: open a session, then
        // a monolithic PUT with Expect: 100-continue, which the proxy answers.
        const auto session = test::http({.url = uploads, .method = "POST"});
        REQUIRE(session.status == 202);
        // The registry's Location points back at the proxy: Host passes through.
        CHECK(session.header("Location").rfind(proxy.url() + "/v2/harness/proxy/blobs/uploads/", 0) == 0);
        const auto put = test::http({.url = session.header("Location") + "&digest=" + digest, .method = "PUT",
                                     .body = blob,
                                     .headers = {"Content-Type: application/octet-stream", "Expect: 100-continue"}});
        INFO(put.error);
        REQUIRE(put.status == 201);
        const std::string blob_url = proxy.url() + "/v2/harness/proxy/blobs/" + digest;
        CHECK(test::http({.url = blob_url}).body == blob);

        // One flipped byte, once.
        const int flip = proxy.add(test::Fault::flip_byte("GET", "/blobs/sha256:", 5));
        CHECK(test::http({.url = blob_url, .method = "HEAD"}).status == 200);  // no body: the flip waits
        const auto flipped = test::http({.url = blob_url});
        CHECK(flipped.status == 200);
        REQUIRE(flipped.body.size() == blob.size());
        CHECK(flipped.body != blob);
        CHECK(flipped.body.substr(0, 5) == blob.substr(0, 5));
        CHECK(flipped.body[5] == (blob[5] ^ 0x01));
        CHECK(flipped.body.substr(6) == blob.substr(6));
        CHECK(test::http({.url = blob_url}).body == blob);
        CHECK(proxy.stats().fired(flip) == 1);

        // The response is cut after 10 body bytes.
        proxy.add(test::Fault::reset_response("GET", "/blobs/sha256:", 10));
        const auto cut = test::http({.url = blob_url});
        CHECK(cut.curl_exit != 0);
        CHECK(cut.body == blob.substr(0, 10));
        CHECK(test::http({.url = blob_url}).body == blob);

        // A chunked upload session (POST, PATCH, PUT) works, and an upload
        // cut after 8 request-body bytes never lands.
        const auto start = test::http({.url = uploads, .method = "POST"});
        REQUIRE(start.status == 202);
        const std::string blob2 = "a second blob, sent in a chunked PATCH\n";
        const auto patch = test::http({.url = start.header("Location"), .method = "PATCH", .body = blob2,
                                       .headers = {"Content-Type: application/octet-stream", "Transfer-Encoding: chunked"}});
        REQUIRE(patch.status == 202);
        const auto digest2 = oci::Digest::of(blob2).str();
        const auto done = test::http({.url = patch.header("Location") + "&digest=" + digest2, .method = "PUT"});
        CHECK(done.status == 201);
        CHECK(test::http({.url = proxy.url() + "/v2/harness/proxy/blobs/" + digest2}).body == blob2);

        const int cut_upload = proxy.add(test::Fault::reset_request("PUT", "/blobs/uploads/", 8));
        const std::string blob3 = "a third blob that never arrives";
        const auto digest3 = oci::Digest::of(blob3).str();
        const auto session3 = test::http({.url = uploads, .method = "POST"});
        REQUIRE(session3.status == 202);
        const auto failed = test::http({.url = session3.header("Location") + "&digest=" + digest3, .method = "PUT",
                                        .body = blob3, .headers = {"Content-Type: application/octet-stream"}});
        CHECK(failed.status == 0);
        CHECK(failed.curl_exit != 0);
        CHECK(test::http({.url = reg.url() + "/v2/harness/proxy/blobs/" + digest3, .method = "HEAD"}).status == 404);

        const auto stats = proxy.stats();
        CHECK(stats.fired(cut_upload) == 1);
        CHECK(stats.request_bytes("PUT", "digest=" + digest) == blob.size());
        CHECK(stats.request_bytes("PATCH") == blob2.size());
        CHECK(stats.request_bytes("PUT", "digest=" + digest3) == 8);
        CHECK(stats.request_bytes("POST") == 0);
        CHECK(stats.count("POST", "/blobs/uploads/$") == 3);
        CHECK(stats.response_bytes("GET", digest) == blob.size() * 4 + 10);
        CHECK(stats.count("HEAD") == 1);
        CHECK(stats.connections >= 1);
    }

    SUBCASE("drop and delay") {
        proxy.add(test::Fault::drop("GET", "^/v2/$"));
        const auto dropped = test::http({.url = v2});
        CHECK(dropped.status == 0);
        CHECK(dropped.curl_exit != 0);
        proxy.add(test::Fault::delay("GET", "^/v2/$", 300));
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(test::http({.url = v2}).status == 200);
        CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(300));
        proxy.clear_faults();
        CHECK(proxy.stats().raw["faults"].empty());
    }

    SUBCASE("skopeo pushes through it; the second push sends no blob bytes") {
        Layout layout(3);
        const std::string dest = "docker://" + proxy.host() + "/harness/skopeo:v1";
        proxy.reset_stats();
        const auto first = skopeo({"copy", "--dest-tls-verify=false", layout.ref(), dest});
        INFO(first.output);
        REQUIRE(first.exit_code == 0);
        auto stats = proxy.stats();
        CHECK(stats.request_bytes("PATCH|PUT", "/blobs/uploads/") >= layout.blob_bytes());
        CHECK(stats.request_bytes("PUT", "/manifests/v1") == layout.sample.manifest_bytes.size());

        proxy.reset_stats();
        const auto second = skopeo({"copy", "--dest-tls-verify=false", layout.ref(), dest});
        REQUIRE(second.exit_code == 0);
        stats = proxy.stats();
        CHECK(stats.count("HEAD", "/blobs/") >= 1);
        CHECK(stats.request_bytes("PATCH|PUT", "/blobs/uploads/") == 0);

        const auto raw = skopeo({"inspect", "--raw", "--tls-verify=false", dest});
        CHECK(raw.output == layout.sample.manifest_bytes);
        CHECK(proxy.stats().response_bytes("GET", "/manifests/v1") == layout.sample.manifest_bytes.size());
    }
}

TEST_CASE("harness: token realm behind a fault proxy, and startup failures carry the log") {
    require_tools();
    test::Pki pki;
    // An HTTP issuer behind the proxy: token_realm points the registry's
    // challenge at the proxy, so token-endpoint faults can be injected.
    test::TokenIssuer issuer(pki, {.tls = false});
    CHECK(issuer.url() == "http://" + issuer.host());
    test::FaultProxy proxy(issuer.host());
    test::Registry reg({.mode = test::RegistryMode::token, .issuer = &issuer, .token_realm = proxy.url() + "/token"});
    INFO("registry log:\n" << reg.log() << "\nissuer log:\n" << issuer.log() << "\nproxy log:\n" << proxy.log());
    const auto anon = test::http({.url = reg.url() + "/v2/", .ca_file = reg.ca_file()});
    CHECK(anon.header("WWW-Authenticate") == "Bearer realm=\"" + proxy.url() + "/token\",service=\"sealrun-test\"");
    const std::string token_url = proxy.url() + "/token?service=sealrun-test&scope=repository:r:pull";
    proxy.add(test::Fault::respond("GET", "^/token", 503));
    CHECK(test::http({.url = token_url, .user = issuer.user(), .password = issuer.password()}).status == 503);
    const auto ok = test::http({.url = token_url, .user = issuer.user(), .password = issuer.password()});
    REQUIRE(ok.status == 200);
    const auto token = nlohmann::json::parse(ok.body).at("token").get<std::string>();
    CHECK(test::http({.url = reg.url() + "/v2/", .ca_file = reg.ca_file(), .bearer = token}).status == 200);
    CHECK(issuer.stats().issued == 1);  // the 503 never reached it
    CHECK(proxy.stats().count("GET", "^/token") == 2);

    // A helper that cannot start throws, and the message has its log.
    std::string message;
    try {
        test::FaultProxy broken("no-port-here");
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    CHECK(test::contains(message, "fault proxy: exited during startup"));
    CHECK(test::contains(message, "ValueError"));
    // A FaultProxy only fronts plain registries.
    CHECK_THROWS_AS(test::FaultProxy{reg}, std::invalid_argument);
}
