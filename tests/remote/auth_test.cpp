// Authentication and TLS against real registries: TLS + htpasswd basic
// auth, and bearer tokens from an issuer the tests run.
#include <doctest/doctest.h>

#include <thread>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/remote/repository.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/sample.h"

using namespace sealrun;
using test::errc_of;

namespace {
remote::Repository repo_at(const test::Registry& r, const std::string& name, remote::RepositoryOptions o) {
    return remote::Repository(remote::Reference::parse(r.host() + "/" + name), std::move(o));
}
remote::RepositoryOptions trusted(const test::Registry& r, std::string user, std::string password) {
    remote::RepositoryOptions o;
    o.ca_file = r.ca_file().string();
    o.credentials = remote::Credentials{std::move(user), std::move(password), ""};
    o.docker_config = "/nonexistent/config.json";
    return o;
}
// TokenSetup is a token-auth registry and its issuer, on one PKI.
struct TokenSetup {
    test::Pki pki;
    test::TokenIssuer issuer;
    test::Registry registry;
    explicit TokenSetup(test::TokenIssuerOptions o = {})
        : issuer(pki, std::move(o)), registry({.mode = test::RegistryMode::token, .pki = &pki, .issuer = &issuer}) {}
    remote::Repository repo(const std::string& name, remote::RepositoryOptions o) const {
        return repo_at(registry, name, std::move(o));
    }
};
}  // namespace

TEST_CASE("auth: TLS with basic auth pushes and pulls; TLS verification is on by default") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "basic", 3, "v1");
    auto repo = repo_at(registry, "basic/repo", trusted(registry, registry.user(), registry.password()));
    CHECK(repo.base_url() == registry.url());
    content::copy(src, "v1", repo, "");
    content::MemoryTarget back;
    content::copy(repo, "v1", back, "");
    CHECK(content::read_all(back, s.layers[2], 1024) == s.layer_bytes[2]);

    // Without the CA the certificate is not trusted, and nothing falls back to http.
    auto untrusted_opts = trusted(registry, registry.user(), registry.password());
    untrusted_opts.ca_file.clear();
    auto untrusted = repo_at(registry, "basic/repo", untrusted_opts);
    CHECK(errc_of([&] { (void)untrusted.resolve("v1"); }) == Errc::network);
    // The explicit switch turns verification off.
    untrusted_opts.insecure = true;
    CHECK(repo_at(registry, "basic/repo", untrusted_opts).resolve("v1").digest == s.manifest.digest);
}

TEST_CASE("auth: a wrong password is unauthorized, never printed, and nothing half-pushed is tagged") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    content::MemoryTarget src;
    test::push_sample(src, "wrong", 2, "v1");
    const std::string secret = "not-the-password-4711";
    auto repo = repo_at(registry, "basic/wrong", trusted(registry, registry.user(), secret));
    const auto e = test::thrown([&] { content::copy(src, "v1", repo, ""); });
    CHECK(e.code == Errc::unauthorized);
    CHECK_FALSE(test::contains(e.message, secret));
    auto good = repo_at(registry, "basic/wrong", trusted(registry, registry.user(), registry.password()));
    CHECK(good.tags().empty());
}

TEST_CASE("auth: bearer tokens from the issuer, cached per scope") {
    TokenSetup t;
    auto& issuer = t.issuer;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "token", 12, "v1");
    auto repo = t.repo("tok/repo", trusted(t.registry, issuer.user(), issuer.password()));
    issuer.reset_stats();
    content::copy(src, "v1", repo, "");
    content::MemoryTarget back;
    content::copy(repo, "v1", back, "");
    CHECK(content::read_all(back, s.layers[11], 1024) == s.layer_bytes[11]);
    // 30-odd registry requests, a handful of tokens: one per scope (pull;
    // pull,push) plus at most a few fetched by threads racing on the first 401.
    const auto stats = issuer.stats();
    CHECK(stats.issued >= 2);
    CHECK(stats.issued <= 8);
    CHECK(stats.denied == 0);
}

TEST_CASE("auth: the token service refusing the credentials is a clear error") {
    TokenSetup t;
    content::MemoryTarget src;
    test::push_sample(src, "tokbad", 1, "v1");
    auto repo = t.repo("tok/bad", trusted(t.registry, t.issuer.user(), "wrong-secret-99"));
    const auto e = test::thrown([&] { content::copy(src, "v1", repo, ""); });
    CHECK((e.code == Errc::unauthorized || e.code == Errc::denied));
    CHECK_FALSE(test::contains(e.message, "wrong-secret-99"));
}

TEST_CASE("auth: an identity token is exchanged through the refresh-token grant, never shown") {
    TokenSetup t({.refresh_token = "idtok-7f3a9c"});
    auto& issuer = t.issuer;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "ident", 2, "v1");
    auto opts = trusted(t.registry, "", "");
    opts.credentials = remote::Credentials{"", "", "idtok-7f3a9c"};
    issuer.reset_stats();
    auto repo = t.repo("tok/ident", opts);
    content::copy(src, "v1", repo, "");
    content::MemoryTarget back;
    auto fresh = t.repo("tok/ident", opts);  // no token cached
    content::copy(fresh, "v1", back, "");
    CHECK(content::read_all(back, s.layers[1], 1024) == s.layer_bytes[1]);
    const auto stats = issuer.stats();
    CHECK(stats.issued >= 2);
    CHECK(stats.denied == 0);
    for (const auto& entry : stats.raw.at("log")) {  // every token came from the refresh-token grant
        CHECK(entry.value("method", "") == "POST");
        CHECK(entry.value("grant", "") == "refresh_token");
    }
    opts.credentials->identity_token = "idtok-revoked-31";
    auto revoked = t.repo("tok/ident2", opts);
    const auto e = test::thrown([&] { content::copy(src, "v1", revoked, ""); });
    CHECK(e.code == Errc::unauthorized);
    CHECK_FALSE(test::contains(e.message, "idtok-revoked-31"));
}

TEST_CASE("auth: a token is reused while it is valid and fetched again once expires_in has run out") {
    TokenSetup t({.expires_in = 3});  // sealrun renews 5 s early, so after 1 s here
    auto& issuer = t.issuer;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "expiry", 1, "v1");
    auto repo = t.repo("tok/expiry", trusted(t.registry, issuer.user(), issuer.password()));
    content::copy(src, "v1", repo, "");
    CHECK(repo.resolve("v1").digest == s.manifest.digest);
    issuer.reset_stats();
    CHECK(repo.resolve("v1").digest == s.manifest.digest);
    CHECK(issuer.stats().requests == 0);  // the cached token served
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    CHECK(repo.resolve("v1").digest == s.manifest.digest);
    const auto renewed = issuer.stats();
    CHECK(renewed.issued == 1);  // one renewal for the expired token, then cached again
    CHECK(renewed.requests == 1);
    CHECK(repo.resolve("v1").digest == s.manifest.digest);
    CHECK(issuer.stats().requests == 1);
}

TEST_CASE("auth: credentials are read from docker's config.json") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    test::TempDir dir;
    test::write_file(dir / "config.json", nlohmann::json{{"auths", {{registry.host(), {{"auth", oci::base64_encode(registry.user() + ":" + registry.password())}}}}}}.dump());
    remote::RepositoryOptions o;
    o.ca_file = registry.ca_file().string();
    o.docker_config = (dir / "config.json").string();
    auto repo = repo_at(registry, "cfg/repo", o);
    content::MemoryTarget src;
    test::push_sample(src, "cfg", 1, "v1");
    content::copy(src, "v1", repo, "");
    CHECK(repo.tags() == std::vector<std::string>{"v1"});
}

TEST_CASE("auth: token realms that are not http(s), or downgrade https to http, are refused") {
    test::Pki pki;
    test::TokenIssuer plain_issuer(pki, {.tls = false});  // an http realm
    for (const std::string& realm : {std::string("ftp://127.0.0.1:9/token"), plain_issuer.realm()}) {
        CAPTURE(realm);
        test::Registry registry({.mode = test::RegistryMode::token, .pki = &pki, .issuer = &plain_issuer, .token_realm = realm});
        auto opts = trusted(registry, plain_issuer.user(), plain_issuer.password());
        auto repo = repo_at(registry, "tok/realm", opts);
        plain_issuer.reset_stats();
        const auto e = test::thrown([&] { (void)repo.tags(); });
        CHECK(e.code == Errc::denied);
        CHECK(plain_issuer.stats().requests == 0);  // the credentials never left
    }
}
