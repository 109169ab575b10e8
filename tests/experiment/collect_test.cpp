// Many workers, one experiment (sealrun/experiment/collect.h): worker
// PROCESSES (tests/support/contribute_worker.cpp) push runs at once to a
// real registry; collect() assembles them through a counting proxy, so the
// tests see every request it makes.
#include <set>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/collect.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/tag.h"
#include "sealrun/records/record.h"
#include "sealrun/validate/validate.h"
#include "support/cli.h"
#include "support/experiment.h"
#include "support/registry.h"
#include "support/remote.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

fs::path worker_program() {
    std::error_code ec;
    return fs::read_symlink("/proc/self/exe", ec).parent_path() / "contribute_worker";
}

std::vector<std::string> worker_argv(const fs::path& store, const std::string& repo, const std::string& worker, int runs,
                                     int attempt) {
    return {worker_program().string(), store.string(), repo, "sweep", worker, std::to_string(runs), std::to_string(attempt)};
}

[[noreturn]] void exec(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);  // the tags it prints
    ::execv(args[0], args.data());
    ::_exit(127);
}

// workers runs one worker process per entry of `names` at once (runs each),
// each with its own store under `dir`; returns their exit codes.
std::vector<int> workers(const fs::path& dir, const std::string& repo, const std::vector<std::string>& names,
                         int runs = 1, int attempt = 1) {
    return test::in_processes(static_cast<int>(names.size()), [&](int i) -> int {
        exec(worker_argv(dir / (names[i] + "-" + std::to_string(attempt)), repo, names[i], runs, attempt));
    });
}

std::string wname(int i) {
    char b[16];
    std::snprintf(b, sizeof b, "w%02d", i);
    return b;
}

std::set<std::string> digests_in(const test::ProxyStats& stats, const std::set<std::string>& digests,
                                 const std::string& method) {
    std::set<std::string> hit;
    for (const auto& r : stats.requests)
        if (method.empty() || r.method == method)
            for (const auto& d : digests)
                if (r.path.find(d) != std::string::npos) hit.insert(r.method + " " + r.path);
    return hit;
}

// attachment_digests lists every attachment layer of every run.
std::set<std::string> attachment_digests(const SealedExperiment& e) {
    std::set<std::string> out;
    for (const auto& run : e.runs())
        for (const auto& n : run.attachment_names()) out.insert(run.attachments().descriptor(n).digest.str());
    return out;
}

std::map<std::int64_t, std::string> manifests_by_id(const CollectReport& r) {
    std::map<std::int64_t, std::string> out;
    for (const auto& run : r.runs) out[run.run_id] = run.manifest.digest.str();
    return out;
}

}  // namespace

TEST_CASE("contribution_tag: readable when it fits, hashed otherwise, always a tag, deterministic") {
    CHECK(contribution_tag("sweep", "w07", 3) == "contrib.sweep.w07.3");
    CHECK(contribution_tag_prefix("sweep") == "contrib.sweep.");
    const auto dotted = contribution_tag("sweep.v2", "node/7 ü", 0);
    CHECK(dotted.starts_with("contrib.-"));
    CHECK(dotted == contribution_tag("sweep.v2", "node/7 ü", 0));
    CHECK(dotted != contribution_tag("sweep.v2", "node/8 ü", 0));
    // A hashed segment never equals a readable one.
    CHECK(contribution_tag("-x", "w", 0) != contribution_tag("x", "w", 0));
    const std::string longest(256, 'a');
    for (const auto& t : {dotted, contribution_tag(std::string(5000, 'e'), longest, INT64_MAX),
                          contribution_tag("a", std::string(40, 'b'), 1), contribution_tag("a", std::string(41, 'b'), 1)})
        CHECK_MESSAGE(oci::is_valid_tag(t), t);
    CHECK(contribution_tag("a", std::string(40, 'b'), 1) == "contrib.a." + std::string(40, 'b') + ".1");
    CHECK_THROWS_AS(contribution_tag("sweep", "", 0), Error);
    CHECK_THROWS_AS(contribution_tag("sweep", std::string(257, 'w'), 0), Error);
    CHECK_THROWS_AS(contribution_tag("sweep", "w", -1), Error);
    CHECK_THROWS_AS(contribution_tag("", "w", 0), Error);
}

TEST_CASE("collect: 32 worker processes at once, a retried worker, re-collect, stragglers; no attachment blob moved") {
    test::Registry registry;
    test::FaultProxy proxy(registry);
    test::TempDir dir;
    const std::string direct = registry.host() + "/team/sweep";
    std::vector<std::string> names;
    for (int i = 0; i < 32; ++i) names.push_back(wname(i));

    // 32 processes push at once, without coordination.
    const auto codes = workers(dir.path(), direct, names);
    CHECK(codes == std::vector<int>(32, 0));
    auto repo = test::via(proxy, "team/sweep");
    remote::Repository plain(remote::Reference::parse(direct), test::fast_retries());
    std::size_t contribution_tags = 0;
    for (const auto& t : plain.tags()) contribution_tags += t.starts_with("contrib.sweep.") ? 1 : 0;
    CHECK(contribution_tags == 32);

    proxy.reset_stats();
    const auto first = collect(repo, "sweep", "v1");
    const auto first_stats = proxy.stats();
    CHECK(first.skipped.empty());
    CHECK(first.contributions == 32);
    CHECK(first.added == 32);
    CHECK(first.runs.size() == 32);

    auto exp = SealedExperiment::open(plain, "v1");
    CHECK(exp.name() == "sweep");
    REQUIRE(exp.run_ids().size() == 32);
    std::set<std::string> seen;
    for (std::int64_t id = 0; id < 32; ++id) {
        const auto run = exp.run(id);
        const auto worker = std::get<std::string>(run.parameters().at("worker"));
        CHECK(worker == wname(static_cast<int>(id)));  // ids in worker order
        seen.insert(worker);
        CHECK(first.runs[id].worker == worker);
        CHECK(first.runs[id].local_run_id == 0);
        CHECK(first.runs[id].rewritten == (id != 0));
        if (id != 0) CHECK(run.config().at("worker") == worker);
        CHECK(run.get_blob("data.bin").starts_with(worker + "/0/1/0\n"));
    }
    CHECK(seen.size() == 32);  // none lost, none duplicated
    // The summary names every run's worker, also run 0's, which collect
    // kept under its own id (its config has no "worker").
    const auto* summary = exp.summary();
    REQUIRE(summary != nullptr);
    REQUIRE(summary->runs.size() == 32);
    for (const auto& row : summary->runs) CHECK(row.worker == wname(static_cast<int>(row.run_id)));
    CHECK(validate(plain, "v1").ok());

    // Not one attachment blob went through the proxy.
    const auto attachments = attachment_digests(exp);
    CHECK(attachments.size() == 33);  // 32 data.bin, and one result.json every worker wrote alike
    CHECK(digests_in(first_stats, attachments, "").empty());
    CHECK(first_stats.count("GET", "/blobs/") > 0);  // the configs: the proxy saw the collect

    // Re-collect with nothing new: same index, nothing uploaded.
    proxy.reset_stats();
    const auto again = collect(repo, "sweep", "v1");
    CHECK(again.index.digest == first.index.digest);
    CHECK(again.added == 0);
    CHECK(again.kept == 32);
    CHECK(proxy.stats().count("POST", "/blobs/uploads") == 0);

    // w05 crashes (SIGKILL at some point of its push) and is run again:
    // its tag is replaced, never doubled.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) exec(worker_argv(dir / "w05-crash", direct, "w05", 1, 2));
    ::usleep(150 * 1000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(workers(dir.path(), direct, {"w05"}, 1, 3) == std::vector<int>{0});
    const auto retried = collect(repo, "sweep", "v1");
    CHECK(retried.runs.size() == 32);
    CHECK(retried.added == 0);
    CHECK(std::get<std::int64_t>(SealedExperiment::open(plain, "v1").run(5).parameters().at("attempt")) == 3);
    auto before = manifests_by_id(first);
    auto after = manifests_by_id(retried);
    CHECK(after[5] != before[5]);
    after.erase(5);
    before.erase(5);
    CHECK(after == before);  // every other run untouched

    // Stragglers: w32 (two runs), w33, w34 arrive later.
    CHECK(workers(dir.path(), direct, {"w33", "w34"}) == std::vector<int>{0, 0});
    CHECK(workers(dir.path(), direct, {"w32"}, 2) == std::vector<int>{0});
    const auto old_exp = SealedExperiment::open(plain, "v1");
    const auto old_blobs = attachment_digests(old_exp);
    std::set<std::string> old_nodes;  // the old runs' configs and manifests
    for (const auto& run : old_exp.runs()) {
        old_nodes.insert(oci::Digest::of(oci::canonical_json(run.config())).str());
        old_nodes.insert(run.manifest().digest.str());
    }
    proxy.reset_stats();
    const auto grown = collect(repo, "sweep", "v1");
    const auto grown_stats = proxy.stats();
    REQUIRE(grown.runs.size() == 36);
    CHECK(grown.added == 4);
    CHECK(grown.kept == 32);
    const auto kept = manifests_by_id(retried);
    for (const auto& r : grown.runs)
        if (r.run_id < 32) CHECK(r.manifest.digest.str() == kept.at(r.run_id));
    CHECK(grown.runs[32].worker == "w32");
    CHECK(grown.runs[32].local_run_id == 0);
    CHECK(grown.runs[33].worker == "w32");
    CHECK(grown.runs[33].local_run_id == 1);
    CHECK(grown.runs[34].worker == "w33");
    CHECK(grown.runs[35].worker == "w34");
    CHECK(grown.runs[35].added);
    // Old runs' blobs and manifests were neither downloaded nor uploaded;
    // the new runs' attachments were not downloaded either.
    CHECK(digests_in(grown_stats, old_blobs, "").empty());
    CHECK(digests_in(grown_stats, old_nodes, "PUT").empty());
    CHECK(digests_in(grown_stats, old_nodes, "POST").empty());
    const auto grown_exp = SealedExperiment::open(plain, "v1");
    CHECK(digests_in(grown_stats, attachment_digests(grown_exp), "").empty());
    CHECK(grown_stats.count("POST", "/blobs/uploads") <= 4 + 2);  // the 4 rewritten configs (+ the summary's)
    CHECK(validate(plain, "v1").ok());
    // And again: idempotent with the stragglers in.
    CHECK(collect(repo, "sweep", "v1").index.digest == grown.index.digest);
}

TEST_CASE("collect: lying contribution tags are skipped with a reason; a tag naming another experiment is kept") {
    test::Registry registry;
    test::TempDir dir;
    remote::Repository repo(remote::Reference::parse(registry.host() + "/team/hostile"), test::fast_retries());
    const auto seal = [&](const std::string& name, const std::string& store) {
        RecordStore records(dir / store);
        Experiment e(records, name, test::fixed_options());
        e.run([](Run& r) { r.log_parameter("x", 1); });
        content::OciLayout local(records.root());
        return std::pair(e.commit(local, "t"), std::make_unique<content::OciLayout>(records.root()));
    };
    auto [other_root, other] = seal("other", "a");
    const auto other_c = contribute(*other, "t", repo, "w1");
    REQUIRE(other_c.size() == 1);
    CHECK(other_c[0].tag == "contrib.other.w1.0");
    repo.tag(other_c[0].manifest, "contrib.sweep.w1.0");  // lies about its experiment

    auto [sweep_root, sweep] = seal("sweep", "b");
    const auto w2 = contribute(*sweep, "t", repo, "w2");
    REQUIRE(w2.size() == 1);
    repo.tag(w2[0].manifest, "contrib.sweep.w3.0");  // lies about its worker
    repo.tag(w2[0].manifest, "contrib.sweep.w2.7");  // claims w2's run 0 a second time
    content::copy(*sweep, "t", repo, "contrib.sweep.w4.0");  // not a run at all: an experiment index

    const auto r = collect(repo, "sweep", "v1");
    CHECK(r.runs.size() == 1);
    CHECK(r.runs.at(0).worker == "w2");
    std::map<std::string, std::string> why;
    for (const auto& s : r.skipped) why[s.tag] = s.reason;
    REQUIRE(why.size() == 4);
    CHECK(why.at("contrib.sweep.w1.0").find("experiment \"other\"") != std::string::npos);
    CHECK(why.at("contrib.sweep.w3.0").find("does not match") != std::string::npos);
    CHECK(why.at("contrib.sweep.w2.7").find("does not match") != std::string::npos);
    CHECK(why.at("contrib.sweep.w4.0").find("not an image manifest") != std::string::npos);

    // A tag that names another experiment is not overwritten without force.
    CHECK_THROWS_WITH_AS(collect(repo, "other", "v1"), doctest::Contains("not the experiment \"other\""), Error);
    CHECK(SealedExperiment::open(repo, "v1").name() == "sweep");
    CHECK(collect(repo, "other", "v1", {.force = true}).runs.size() == 1);
    CHECK(SealedExperiment::open(repo, "v1").name() == "other");
}

TEST_CASE("collect: works on a local layout too, and a previous run without a worker keeps its id") {
    test::TempDir dir;
    content::OciLayout shared(dir / "shared");
    RecordStore records(dir / "a");
    Experiment e(records, "sweep", test::fixed_options());
    e.run([](Run& r) { r.log_parameter("x", 1); });
    e.run([](Run& r) { r.log_parameter("x", 2); });
    content::OciLayout local(records.root());
    CHECK(contribute(e, local, shared, "alpha").size() == 2);
    RecordStore records_b(dir / "b");
    Experiment f(records_b, "sweep", test::fixed_options());
    f.run([](Run& r) { r.log_parameter("x", 3); });
    content::OciLayout local_b(records_b.root());
    CHECK(contribute(f, local_b, shared, "beta").size() == 1);
    const auto r = collect(shared, "sweep", "all");
    REQUIRE(r.runs.size() == 3);
    CHECK(r.runs[0].worker == "alpha");
    CHECK(r.runs[1].worker == "alpha");
    CHECK(r.runs[2].worker == "beta");
    CHECK(r.runs[2].rewritten);
    const auto exp = SealedExperiment::open(shared, "all");
    CHECK(std::get<std::int64_t>(exp.run(2).parameters().at("x")) == 3);
    CHECK(exp.run(2).config().at("run_id") == 2);
    CHECK(validate(shared, "all").ok());
    CHECK(collect(shared, "sweep", "all").index.digest == r.index.digest);
}

TEST_CASE("cli: sealrun contribute and collect from a scratch directory with relative paths") {
    test::Registry registry;
    test::TempDir dir;
    test::write_file(dir / "runs/a/result.json", R"({"loss":0.5})");
    test::write_file(dir / "runs/b/result.json", R"({"loss":0.25})");
    const auto repo = "docker://" + registry.host() + "/team/cli";
    REQUIRE(test::cli_in(dir.path(), {"--store", "st0", "seal", "runs/a", "--experiment", "cli", "--tag", "mine"}).exit_code == 0);
    REQUIRE(test::cli_in(dir.path(), {"--store", "st1", "seal", "runs/a", "runs/b", "--experiment", "cli", "--tag", "mine"}).exit_code == 0);
    const auto c0 = test::cli_in(dir.path(), {"--store", "st0", "contribute", "mine", repo, "--worker", "w0"}, true);
    CHECK(c0.exit_code == 0);
    CHECK(c0.output == "contrib.cli.w0.0\n");
    const auto c1 = test::cli_in(dir.path(), {"--store", "st1", "contribute", "mine", repo, "--worker", "w1"}, true);
    CHECK(c1.output == "contrib.cli.w1.0\ncontrib.cli.w1.1\n");

    const auto first = test::cli_in(dir.path(), {"collect", repo, "--experiment", "cli", "--tag", "v1", "--json"}, true);
    REQUIRE(first.exit_code == 0);
    const auto j = nlohmann::json::parse(first.output);
    CHECK(j.at("runs") == 3);
    CHECK(j.at("added") == 3);
    CHECK(j.at("skipped").empty());
    const auto again = test::cli_in(dir.path(), {"collect", repo, "--experiment", "cli", "--tag", "v1", "--json"}, true);
    CHECK(nlohmann::json::parse(again.output).at("digest") == j.at("digest"));
    CHECK(test::cli_in(dir.path(), {"show", repo + ":v1"}).exit_code == 0);
    CHECK(test::cli_in(dir.path(), {"validate", repo + ":v1"}).exit_code == 0);

    // A lying tag (w1's run 0 under w9's name) is skipped and named on
    // stderr; --strict makes that a failure.
    const auto digest = nlohmann::json::parse(
        test::cli_in(dir.path(), {"--store", "st1", "contribute", "mine", repo, "--worker", "w1", "--json"}, true).output)
        .at("contributions").at(0).at("digest").get<std::string>();
    REQUIRE(test::cli_in(dir.path(), {"copy", repo + "@" + digest, repo + ":contrib.cli.w9.0"}).exit_code == 0);
    const auto lax = test::cli_in(dir.path(), {"collect", repo, "--experiment", "cli", "--tag", "v1"});
    CHECK(lax.exit_code == 0);
    CHECK(lax.output.find("skipped contrib.cli.w9.0: the tag does not match its content") != std::string::npos);
    const auto strict = test::cli_in(dir.path(), {"collect", repo, "--experiment", "cli", "--tag", "v1", "--strict"});
    CHECK(strict.exit_code == 1);
    CHECK(strict.output.find("collected 3 runs (0 new, 3 kept)") != std::string::npos);

    // Usage errors (exit 2) before anything is sent.
    CHECK(test::cli_in(dir.path(), {"collect", repo, "--experiment", "cli"}).exit_code == 2);
    CHECK(test::cli_in(dir.path(), {"collect", repo + ":v1", "--experiment", "cli", "--tag", "v1"}).exit_code == 2);
    CHECK(test::cli_in(dir.path(), {"--store", "st0", "contribute", "mine", repo}).exit_code == 2);
    // A tag naming another experiment is kept (exit 1) unless --force.
    const auto other = test::cli_in(dir.path(), {"collect", repo, "--experiment", "other", "--tag", "v1"});
    CHECK(other.exit_code == 1);
    CHECK(other.output.find("not the experiment") != std::string::npos);
}
