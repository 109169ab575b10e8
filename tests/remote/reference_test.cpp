#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "remote/auth.h"
#include "remote/url.h"
#include "sealrun/remote/reference.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using remote::Reference;
using test::errc_of;

TEST_CASE("reference: host, port, nested repository, tag and digest") {
    const auto r = Reference::parse("127.0.0.1:5000/team/sweeps:v1");
    CHECK(r.registry == "127.0.0.1:5000");
    CHECK(r.repository == "team/sweeps");
    CHECK(r.tag == "v1");
    CHECK_FALSE(r.digest);
    CHECK(r.reference() == "v1");
    CHECK(r.is_loopback());
    const auto d = Reference::parse("ghcr.io/org/a.b_c--d/e@sha256:" + std::string(64, 'a'));
    CHECK(d.registry == "ghcr.io");
    CHECK(d.repository == "org/a.b_c--d/e");
    CHECK(d.digest->str() == "sha256:" + std::string(64, 'a'));
    CHECK(d.reference() == d.digest->str());
    CHECK_FALSE(d.is_loopback());
    CHECK(Reference::parse("localhost/x").is_loopback());
    CHECK(Reference::parse("[::1]:5000/x").is_loopback());
    CHECK(Reference::parse("host:5000/x:t@sha256:" + std::string(64, 'b')).str() ==
          "host:5000/x:t@sha256:" + std::string(64, 'b'));
}

TEST_CASE("reference: malformed references are refused with the reason") {
    for (const char* bad : {"justname", "host/UPPER", "host/a//b", "host/-a", "host/a-", "host/a:", "host/a:bad tag",
                            "host/a@sha256:short", "host/a@", "/a", "host/a___b", "host/a:-tag"}) {
        CAPTURE(bad);
        CHECK(errc_of([&] { (void)Reference::parse(bad); }) == Errc::invalid_input);
    }
}

TEST_CASE("reference: the registry host follows the domain grammar; only loopback literals are loopback") {
    // Found by fuzz/reference.cpp: any host with a ']' or made of
    // [a-zA-Z0-9.:-] passed, and "127.<anything>" counted as loopback, so a
    // DNS name such as 127.evil.example got the plain-HTTP fallback.
    for (const char* bad : {"a:b:c/x", "h:/x", "h:99999/x", "h:5x/x", "-h/x", "h-/x", "h..i/x", ".h/x", "[::1]x/x",
                            "[::1]:/x", "[zz]/x", "[]/x", "[::1/x"}) {
        CAPTURE(bad);
        CHECK(errc_of([&] { (void)Reference::parse(bad); }) == Errc::invalid_input);
    }
    for (const char* good : {"Reg-1.example.com:443/x", "[fe80::1]:5000/x", "[::1]/x", "h:65535/x"}) {
        CAPTURE(good);
        CHECK(Reference::parse(good).registry == std::string(good).substr(0, std::string(good).rfind('/')));
    }
    for (const char* remote : {"127.evil.example/x", "127.0.0.1.evil.example:5000/x", "localhost.evil.example/x",
                               "127.0.0.256/x", "127.0.1/x", "128.0.0.1/x"}) {
        CAPTURE(remote);
        CHECK_FALSE(Reference::parse(remote).is_loopback());
    }
    for (const char* local : {"127.0.0.1/x", "127.1.2.3:5000/x", "localhost:5000/x", "[::1]/x", "[::1]:5000/x"}) {
        CAPTURE(local);
        CHECK(Reference::parse(local).is_loopback());
    }
}

TEST_CASE("auth: WWW-Authenticate challenges parse with quoted and bare values") {
    const auto cs = remote::detail::parse_challenges(
        R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push", Basic realm=x)");
    REQUIRE(cs.size() == 2);
    CHECK(cs[0].scheme == "bearer");
    CHECK(cs[0].params.at("realm") == "https://auth.example/token");
    CHECK(cs[0].params.at("service") == "registry.example");
    CHECK(cs[0].params.at("scope") == "repository:a/b:pull,push");
    CHECK(cs[1].scheme == "basic");
    CHECK(cs[1].params.at("realm") == "x");
    CHECK(remote::detail::parse_challenges("").empty());
}

TEST_CASE("auth: a WWW-Authenticate with '=' where a scheme belongs ends, and yields no empty scheme") {
    // Found by fuzz_www_authenticate: "=" looped forever, growing the list.
    for (const std::string h : {"=", "==,=", "= Bearer realm=x", "Bearer realm=x, =, Basic realm=y"}) {
        CAPTURE(h);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::alarm(2);
            (void)remote::detail::parse_challenges(h);
            ::_exit(0);
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        for (const auto& c : remote::detail::parse_challenges(h)) CHECK(!c.scheme.empty());
    }
    const auto cs = remote::detail::parse_challenges("= Bearer realm=x");
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].params.at("realm") == "x");
}

TEST_CASE("http: Locations resolve against the request URL and origins compare scheme, host and port") {
    using remote::detail::origin;
    using remote::detail::resolve_url;
    CHECK(resolve_url("http://h:5000/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?_state=x") ==
          "http://h:5000/v2/a/blobs/uploads/u1?_state=x");
    CHECK(resolve_url("http://h:5000/v2/a/blobs/uploads/", "u2") == "http://h:5000/v2/a/blobs/uploads/u2");
    CHECK(resolve_url("http://h:5000/v2/x", "https://other/y") == "https://other/y");
    CHECK(origin("https://H.example/v2/") == "https://h.example:443");
    CHECK(origin("http://h.example:80/x") == origin("http://h.example/y"));
    CHECK(origin("http://h.example:8080/x") != origin("http://h.example/x"));
    CHECK(origin("https://h.example/x") != origin("http://h.example/x"));
}

TEST_CASE("http: the Link header's next page is the link whose relation types include next") {
    using remote::detail::next_link;
    CHECK(next_link(R"(</v2/r/tags/list?last=b&n=2>; rel="next")") == "/v2/r/tags/list?last=b&n=2");
    // Not the first link when the first is another relation (a registry may send prev first).
    CHECK(next_link(R"(</v2/r/tags/list?n=2>; rel="prev", </v2/r/tags/list?last=d&n=2>; rel="next")") ==
          "/v2/r/tags/list?last=d&n=2");
    CHECK(next_link(R"(<https://h/x?a=1,2>; title="a, b; c"; REL=next)") == "https://h/x?a=1,2");
    CHECK(next_link(R"(</a>; rel="prev next")") == "/a");
    CHECK(next_link(R"(</a>; rel="nextpage", </b>; rel=prev)") == std::nullopt);
    CHECK(next_link(R"(</a>; title="rel=\"next\"")") == std::nullopt);  // "next" only inside another parameter
    CHECK(next_link(R"(garbage; rel="next", </b>; rel="next")") == "/b");
    CHECK(next_link("") == std::nullopt);
    CHECK(next_link("<unterminated; rel=next") == std::nullopt);
}

TEST_CASE("auth: credentials come from docker's config.json, auth or username/password") {
    test::TempDir dir;
    test::write_file(dir / "config.json", R"({"auths":{"reg.example:5000":{"auth":"dXNlcjpwYTpzcw=="},)"
                                          R"("https://other.example":{"username":"u2","password":"p2"},)"
                                          R"("tok.example":{"identitytoken":"refresh-me"}}})");
    const auto cfg = (dir / "config.json").string();
    const auto a = remote::detail::docker_credentials("reg.example:5000", cfg);
    REQUIRE(a);
    CHECK(a->username == "user");
    CHECK(a->password == "pa:ss");  // only the first colon separates
    const auto b = remote::detail::docker_credentials("other.example", cfg);
    REQUIRE(b);
    CHECK(b->username == "u2");
    CHECK(remote::detail::docker_credentials("tok.example", cfg)->identity_token == "refresh-me");
    CHECK_FALSE(remote::detail::docker_credentials("unknown.example", cfg));
    CHECK_FALSE(remote::detail::docker_credentials("reg.example:5000", (dir / "absent.json").string()));
    test::write_file(dir / "broken.json", "{");
    CHECK(errc_of([&] { (void)remote::detail::docker_credentials("x", (dir / "broken.json").string()); }) == Errc::invalid_input);
}

TEST_CASE("auth: credential helpers are run as docker-credential-<name> get") {
    test::TempDir dir;
    test::write_file(dir / "bin/docker-credential-fake",
                     "#!/bin/sh\nread host\n[ \"$1\" = get ] || exit 2\n"
                     "if [ \"$host\" = helped.example ]; then printf '{\"Username\":\"hu\",\"Secret\":\"hs\"}'; "
                     "else echo 'credentials not found in native keychain'; exit 1; fi\n");
    std::filesystem::permissions(dir / "bin/docker-credential-fake", std::filesystem::perms(0755));
    test::write_file(dir / "config.json", R"({"credHelpers":{"helped.example":"fake"},"credsStore":"fake"})");
    const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
    ::setenv("PATH", ((dir / "bin").string() + ":" + old_path).c_str(), 1);
    const auto c = remote::detail::docker_credentials("helped.example", (dir / "config.json").string());
    const auto none = remote::detail::docker_credentials("nobody.example", (dir / "config.json").string());
    ::setenv("PATH", old_path.c_str(), 1);
    REQUIRE(c);
    CHECK(c->username == "hu");
    CHECK(c->password == "hs");
    CHECK_FALSE(none);  // the store does not know it: no credentials, no error
}
