// Authentication and TLS against real registries: TLS + htpasswd basic
// auth, and bearer tokens from an issuer the tests run.
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <sys/stat.h>

#include "build_paths.h"
#include "remote/auth.h"
#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/remote/credentials.h"
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
// basic_entry is docker's config.json entry for a user and password.
nlohmann::json basic_entry(const std::string& user, const std::string& password) {
    return {{"auth", oci::base64_encode(user + ":" + password)}};
}
// TokenSetup is a token-auth registry and its issuer (on another port, so
// another origin), on one PKI; `tls` false serves both over plain HTTP.
struct TokenSetup {
    test::Pki pki;
    test::TokenIssuer issuer;
    test::Registry registry;
    test::TempDir docker;
    mutable int configs = 0;
    explicit TokenSetup(test::TokenIssuerOptions o = {}, bool tls = true)
        : issuer(pki, with_tls(std::move(o), tls)),
          registry({.mode = test::RegistryMode::token, .pki = &pki, .issuer = &issuer, .tls = tls}) {}
    static test::TokenIssuerOptions with_tls(test::TokenIssuerOptions o, bool tls) {
        o.tls = tls;
        return o;
    }
    // options trusts the PKI and gives docker's config.json `entry` for the
    // issuer's host only (the registry gets none of it).
    remote::RepositoryOptions options(const nlohmann::json& entry) const {
        remote::RepositoryOptions o;
        o.ca_file = registry.ca_file().string();
        const auto cfg = docker / ("config-" + std::to_string(++configs) + ".json");
        test::write_file(cfg, nlohmann::json{{"auths", {{issuer.host(), entry}}}}.dump());
        o.docker_config = cfg.string();
        return o;
    }
    remote::RepositoryOptions issuer_login() const { return options(basic_entry(issuer.user(), issuer.password())); }
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
    auto repo = t.repo("tok/repo", t.issuer_login());
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
    auto repo = t.repo("tok/bad", t.options(basic_entry(t.issuer.user(), "wrong-secret-99")));
    const auto e = test::thrown([&] { content::copy(src, "v1", repo, ""); });
    CHECK((e.code == Errc::unauthorized || e.code == Errc::denied));
    CHECK_FALSE(test::contains(e.message, "wrong-secret-99"));
}

TEST_CASE("auth: an identity token is exchanged through the refresh-token grant, never shown") {
    TokenSetup t({.refresh_token = "idtok-7f3a9c"});
    auto& issuer = t.issuer;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "ident", 2, "v1");
    auto opts = t.options({{"identitytoken", "idtok-7f3a9c"}});
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
    auto revoked = t.repo("tok/ident2", t.options({{"identitytoken", "idtok-revoked-31"}}));
    const auto e = test::thrown([&] { content::copy(src, "v1", revoked, ""); });
    CHECK(e.code == Errc::unauthorized);
    CHECK_FALSE(test::contains(e.message, "idtok-revoked-31"));
}

TEST_CASE("auth: a token is reused while it is valid and fetched again once expires_in has run out") {
    TokenSetup t({.expires_in = 3});  // sealrun renews 5 s early, so after 1 s here
    auto& issuer = t.issuer;
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "expiry", 1, "v1");
    auto repo = t.repo("tok/expiry", t.issuer_login());
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

// ------------------------------------------------------------ credentials files

namespace {

// leaked_part returns the first substring of `secret` of 4 or more bytes
// found in `text` (every longer one contains a 4-byte one), or "".
std::string leaked_part(const std::string& text, const std::string& secret) {
    for (std::size_t i = 0; i + 4 <= secret.size(); ++i)
        if (text.find(secret.substr(i, 4)) != std::string::npos) return secret.substr(i, 4);
    return {};
}

// The secrets of the malformed files below: a password and its base64 `auth`.
const std::string secret_password = "Qz7!kX9#vW2@pR5$";
const std::string secret_auth = oci::base64_encode("sealuser:" + secret_password);

// malformed_configs are config.json files broken in the region that holds a
// secret: the parser's own message would quote it.
std::vector<std::string> malformed_configs() {
    const auto& p = secret_password;
    const auto& a = secret_auth;
    return {
        R"({"auths":{"reg.example":{"auth":")" + a,                                    // unterminated string
        R"({"auths":{"reg.example":{"auth":)" + a + "}}}",                             // unquoted value
        R"({"auths":{"reg.example":{"username":"u","password":)" + p + "}}}",          // unquoted value
        R"({"auths":{"reg.example":{"username":"u","password":")" + p + "\x01\"}}}",   // control character
        R"({"auths":{"reg.example":{"username":"u","password":")" + p + R"(\q"}}})",   // bad escape
        R"({"auths":{"reg.example":{"auth":")" + a + R"(" "password":")" + p + R"("}}})",  // missing comma
        R"({"auths":{"reg.example":{"auth":")" + a + R"("}}} )" + p,                   // trailing data
        R"({"auths":{"reg.example":{"auth":")" + a + R"("},"reg.example":{"auth":")" + a + R"("}}})",  // duplicate key
        "{\n  \"auths\": {\n    \"reg.example\": {\n      \"password\": \"" + p + "\n",  // newline in a string
    };
}

void check_no_secret(const std::string& text) {
    INFO(text);
    CHECK(leaked_part(text, secret_password).empty());
    CHECK(leaked_part(text, secret_auth).empty());
}

// run_sh runs a shell command line, capturing stdout and stderr.
test::RunResult run_sh(const std::string& line) { return test::run({"sh", "-c", line}); }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST_CASE("auth: a malformed docker config.json never shows its secrets, only where it broke") {
    test::TempDir dir;
    const auto cfg = (dir / "config.json").string();
    for (const auto& text : malformed_configs()) {
        CAPTURE(text);
        test::write_file(dir / "config.json", text);
        const auto e = test::thrown([&] { (void)remote::detail::docker_credentials("reg.example", cfg); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, cfg));
        check_no_secret(e.message);
        // Opening a repository (pull, push) reads the same file.
        remote::RepositoryOptions o{.docker_config = cfg};
        const auto r = test::thrown([&] { remote::Repository(remote::Reference::parse("reg.example/x"), o); });
        check_no_secret(r.message);
        // login and logout read it before writing.
        const auto s = test::thrown([&] { remote::store_credentials("other.example", {"u", "pw-stored", ""}, cfg); });
        check_no_secret(s.message);
        CHECK(test::read_file(dir / "config.json") == text);  // not replaced
        check_no_secret(test::thrown([&] { (void)remote::erase_credentials("reg.example", cfg); }).message);
    }
    // A syntax error names its place.
    test::write_file(dir / "config.json", "{\n  \"auths\": {\n    \"reg.example\": {\"auth\": " + secret_auth + "}}}");
    const auto e = test::thrown([&] { (void)remote::detail::docker_credentials("reg.example", cfg); });
    CHECK(test::contains(e.message, "line 3"));
    // Values of the wrong type are named by their key, not shown.
    test::write_file(dir / "config.json", R"({"auths":{"reg.example":{"username":["u",")" + secret_password + R"("]}}})");
    const auto t = test::thrown([&] { (void)remote::detail::docker_credentials("reg.example", cfg); });
    CHECK(t.code == Errc::invalid_input);
    CHECK(test::contains(t.message, "username"));
    check_no_secret(t.message);
    test::write_file(dir / "config.json", R"({"auths":{"reg.example":{"auth":"*)" + secret_auth + R"("}}})");
    check_no_secret(test::thrown([&] { (void)remote::detail::docker_credentials("reg.example", cfg); }).message);
}

TEST_CASE("auth: a credential helper's malformed reply never shows its secret") {
    test::TempDir dir;
    const auto& p = secret_password;
    const std::vector<std::string> replies = {
        R"({"Username":"u","Secret":")" + p,
        R"({"Username":"u","Secret":)" + p + "}",
        R"({"Username":"u","Secret":")" + p + R"("} trailing)",
        R"({"Username":"u","Secret":[")" + p + R"("]})",
        R"([")" + p + R"("])",
    };
    const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
    ::setenv("PATH", ((dir / "bin").string() + ":" + old_path).c_str(), 1);
    for (const auto& reply : replies) {
        CAPTURE(reply);
        test::write_file(dir / "reply", reply);
        test::write_file(dir / "bin/docker-credential-leaky", "#!/bin/sh\ncat " + quoted((dir / "reply").string()) + "\n");
        std::filesystem::permissions(dir / "bin/docker-credential-leaky", std::filesystem::perms(0755));
        for (const auto& cfg : {R"({"credHelpers":{"reg.example":"leaky"}})", R"({"credsStore":"leaky"})"}) {
            test::write_file(dir / "config.json", cfg);
            const auto e = test::thrown([&] { (void)remote::detail::docker_credentials("reg.example", (dir / "config.json").string()); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, "docker-credential-leaky"));
            check_no_secret(e.message);
        }
    }
    ::setenv("PATH", old_path.c_str(), 1);
}

TEST_CASE("auth: pull, login and logout with a malformed config.json print no secret") {
    test::Registry registry;  // plain HTTP on loopback: login reaches its config.json write
    test::TempDir dir;
    const auto env = "DOCKER_CONFIG=" + quoted((dir / "docker").string()) + " ";
    const auto cli = env + quoted(SEALRUN_CLI) + " --store " + quoted((dir / "store").string()) + " ";
    for (const auto& text : malformed_configs()) {
        CAPTURE(text);
        test::write_file(dir / "docker/config.json", text);
        const auto pull = run_sh(cli + "pull docker://" + registry.host() + "/cfg/x:v1 2>&1");
        CHECK(pull.exit_code == 1);
        CHECK(test::contains(pull.output, "config.json"));
        check_no_secret(pull.output);
        const auto login = run_sh("echo pw-typed | " + cli + "login " + registry.host() + " -u someone --password-stdin 2>&1");
        CHECK(login.exit_code == 1);
        check_no_secret(login.output);
        const auto logout = run_sh(cli + "logout reg.example 2>&1");
        CHECK(logout.exit_code == 1);
        check_no_secret(logout.output);
        CHECK(test::read_file(dir / "docker/config.json") == text);
    }
}

// ------------------------------------------------------------ token realms on other origins

namespace {
// realm_requests returns the issuer's log of token requests since the last reset.
std::vector<nlohmann::json> realm_requests(const test::TokenIssuer& issuer) {
    const auto stats = issuer.stats();
    std::vector<nlohmann::json> out;
    for (const auto& e : stats.raw.at("log")) out.push_back(e);
    return out;
}
}  // namespace

TEST_CASE("auth: a token realm on another origin receives no credentials but those configured for it") {
    for (const bool tls : {true, false}) {
        CAPTURE(tls);
        TokenSetup t({}, tls);
        content::MemoryTarget src;
        const auto s = test::push_sample(src, "realm", 1, "v1");
        // The registry's own credentials, and nothing configured for the issuer's origin.
        auto opts = t.options(nlohmann::json::object());
        opts.plain_http = !tls;
        opts.credentials = remote::Credentials{t.issuer.user(), "registry-only-secret-55", ""};
        t.issuer.reset_stats();
        auto anonymous = t.repo("tok/realm", opts);
        const auto e = test::thrown([&] { content::copy(src, "v1", anonymous, ""); });
        CHECK((e.code == Errc::unauthorized || e.code == Errc::denied));
        auto seen = realm_requests(t.issuer);
        CHECK_FALSE(seen.empty());
        for (const auto& r : seen) {  // anonymous token requests only
            INFO(r.dump());
            CHECK(r.at("authorization").is_null());
            CHECK(r.at("form_secret").is_null());
        }
        // Credentials configured for the issuer's host reach it, exactly those.
        auto configured = t.issuer_login();
        configured.plain_http = !tls;
        configured.credentials = opts.credentials;  // still not sent to the issuer
        t.issuer.reset_stats();
        auto repo = t.repo("tok/realm", configured);
        content::copy(src, "v1", repo, "");
        seen = realm_requests(t.issuer);
        CHECK_FALSE(seen.empty());
        for (const auto& r : seen) {
            INFO(r.dump());
            CHECK(r.at("authorization") == "Basic " + oci::base64_encode(t.issuer.user() + ":" + t.issuer.password()));
        }
        CHECK(t.repo("tok/realm", configured).resolve("v1").digest == s.manifest.digest);
    }
}

TEST_CASE("auth: a loopback registry that fell back to plain HTTP may use a loopback http realm") {
    TokenSetup t({}, false);  // registry and issuer on plain HTTP, no --plain-http
    content::MemoryTarget src;
    const auto s = test::push_sample(src, "fallback", 1, "v1");
    auto repo = t.repo("tok/fallback", t.issuer_login());
    content::copy(src, "v1", repo, "");
    CHECK(repo.base_url() == t.registry.url());
    CHECK(repo.resolve("v1").digest == s.manifest.digest);
    // An http realm on another host still needs plain_http; nothing is sent to it.
    test::Registry foreign({.mode = test::RegistryMode::token, .pki = &t.pki, .issuer = &t.issuer,
                            .token_realm = "http://192.0.2.1:9/token", .tls = false});
    auto far = repo_at(foreign, "tok/far", t.issuer_login());
    const auto e = test::thrown([&] { (void)far.tags(); });
    CHECK(e.code == Errc::denied);
    CHECK(test::contains(e.message, "plain-http"));
}

// ------------------------------------------------------------ writing config.json

TEST_CASE("auth: store_credentials writes a new 0600 file, keeps other keys, never follows a symlink") {
    test::TempDir dir;
    const auto docker = dir / "docker";
    const auto cfg = docker / "config.json";
    ::umask(0);  // nothing may rely on the umask to hide a credential
    remote::store_credentials("reg.example", {"u1", "pw-first-1", ""}, cfg.string());
    ::umask(022);
    CHECK((std::filesystem::status(docker).permissions() & std::filesystem::perms::all) == std::filesystem::perms(0700));
    CHECK((std::filesystem::status(cfg).permissions() & std::filesystem::perms::all) == std::filesystem::perms(0600));
    // Other keys stay; a planted symlink at a temp name is not written through.
    auto doc = nlohmann::json::parse(test::read_file(cfg));
    doc["proxies"] = {{"default", {{"httpProxy", "http://proxy.example:3128"}}}};
    doc["auths"]["other.example"] = basic_entry("o", "po");
    test::write_file(cfg, doc.dump());
    test::write_file(dir / "victim", "untouched");
    std::filesystem::create_symlink(dir / "victim", docker / "config.json.sealrun-tmp");
    remote::store_credentials("reg.example", {"u2", "pw-second-2", ""}, cfg.string());
    CHECK(test::read_file(dir / "victim") == "untouched");
    CHECK((std::filesystem::status(dir / "victim").permissions() & std::filesystem::perms::all) != std::filesystem::perms(0600));
    const auto after = nlohmann::json::parse(test::read_file(cfg));
    CHECK(after["proxies"] == doc["proxies"]);
    CHECK(after["auths"]["other.example"] == basic_entry("o", "po"));
    CHECK(after["auths"]["reg.example"] == basic_entry("u2", "pw-second-2"));
    CHECK((std::filesystem::status(cfg).permissions() & std::filesystem::perms::all) == std::filesystem::perms(0600));
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(docker)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"config.json", "config.json.sealrun-tmp"});  // no temp file left
    // erase removes every key credentials are read from, and only those.
    doc = after;
    doc["auths"]["https://reg.example"] = basic_entry("u3", "p3");
    test::write_file(cfg, doc.dump());
    CHECK(remote::erase_credentials("reg.example", cfg.string()));
    CHECK_FALSE(remote::detail::docker_credentials("reg.example", cfg.string()));
    CHECK(remote::detail::docker_credentials("other.example", cfg.string())->password == "po");
    CHECK_FALSE(remote::erase_credentials("reg.example", cfg.string()));
}

TEST_CASE("auth: login under umask 000 never creates a credentials file others can read") {
    if (!test::have_program("strace")) {
        MESSAGE("strace not installed: the creation mode is checked by the library test only");
        return;
    }
    test::Registry registry;  // plain HTTP on loopback
    test::TempDir dir;
    const auto trace = dir / "trace";
    // LeakSanitizer cannot run under ptrace: off for the traced CLI only.
    const auto line = "umask 000; echo pw-typed-7 | ASAN_OPTIONS=detect_leaks=0 DOCKER_CONFIG=" + quoted((dir / "docker").string()) +
                      " strace -f -qq -e trace=open,openat,creat -o " + quoted(trace.string()) + " " + quoted(SEALRUN_CLI) +
                      " login " + registry.host() + " -u someone --password-stdin";
    const auto r = run_sh(line);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK((std::filesystem::status(dir / "docker/config.json").permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms(0600));
    CHECK((std::filesystem::status(dir / "docker").permissions() & std::filesystem::perms::all) == std::filesystem::perms(0700));
    int created = 0;
    std::istringstream in(test::read_file(trace));
    for (std::string l; std::getline(in, l);) {
        if (!test::contains(l, (dir / "docker").string()) || !test::contains(l, "O_CREAT")) continue;
        INFO(l);
        ++created;
        CHECK(test::contains(l, "O_EXCL"));
        CHECK(test::contains(l, "O_NOFOLLOW"));
        CHECK(test::contains(l, ", 0600)"));
    }
    CHECK(created == 1);
}

TEST_CASE("auth: a refused password is never printed by the CLI, nor its base64 auth value") {
    test::Registry registry({.mode = test::RegistryMode::tls_basic});
    test::TempDir dir;
    const std::string wrong = "Wr0ng!Pa55#word-81";
    const auto entry = basic_entry(registry.user(), wrong);
    test::write_file(dir / "docker/config.json", nlohmann::json{{"auths", {{registry.host(), entry}}}}.dump());
    const auto cli = "DOCKER_CONFIG=" + quoted((dir / "docker").string()) + " " + quoted(SEALRUN_CLI) + " --store " +
                     quoted((dir / "store").string()) + " --ca-file " + quoted(registry.ca_file().string()) + " ";
    for (const auto& command : {"pull docker://" + registry.host() + "/sec/x:v1",
                                "show docker://" + registry.host() + "/sec/x:v1", "validate docker://" + registry.host() + "/sec/x:v1"}) {
        CAPTURE(command);
        const auto r = run_sh(cli + command + " 2>&1");
        INFO(r.output);
        CHECK(r.exit_code != 0);
        CHECK(leaked_part(r.output, wrong).empty());
        CHECK(leaked_part(r.output, entry["auth"].get<std::string>()).empty());
    }
}
