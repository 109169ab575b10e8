// sealrun: archive experiment runs as OCI artifacts.
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <set>

#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"

namespace sealrun::cli {
namespace {

struct Command {
    const char* name;
    int (*run)(const Args&, const Globals&);
    const char* usage;
    const char* summary;
    const char* example;
    std::set<std::string> value_flags;  // flags that take a value
    std::set<std::string> bool_flags;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"seal", cmd_seal, "seal DIR... --experiment NAME --tag TAG [--force]",
         "seal result directories (one per run) as an experiment in the local store",
         "sealrun seal runs/lr-0.1 runs/lr-0.5 --experiment sweep --tag sweep-v1", {"--experiment", "--tag"}, {"--force"}},
        {"ls", cmd_ls, "ls", "list the tags in the local store", "sealrun ls", {}, {}},
        {"show", cmd_show, "show SRC [--json]", "show an experiment's runs, or a run's attachments",
         "sealrun show sweep-v1 --json", {}, {"--json"}},
        {"get", cmd_get, "get SRC --run ID NAME [-o PATH] [--overwrite]",
         "write one attachment's verified bytes to stdout, a file, or DIR/ under its name",
         "sealrun get sweep-v1 --run 0 result.json -o out/", {"--run", "-o"}, {"--overwrite"}},
        {"copy", cmd_copy, "copy SRC [DST] [--force]", "copy between any transports (oci:, oci-archive:, docker://, the local store)",
         "sealrun copy sweep-v1 docker://registry.example/team/sweep:v1", {}, {"--force"}},
        {"push", cmd_copy, "push SRC DST [--force]", "copy from the local store to a registry (same as copy)",
         "sealrun push sweep-v1 docker://registry.example/team/sweep:v1", {}, {"--force"}},
        {"pull", cmd_copy, "pull SRC [DST] [--force]", "copy from a registry into the local store (same as copy)",
         "sealrun pull docker://registry.example/team/sweep:v1", {}, {"--force"}},
        {"tag", cmd_tag, "tag SRC TAG [--force]", "give SRC another tag in its own store", "sealrun tag sweep-v1 latest", {},
         {"--force"}},
        {"rm", cmd_rm, "rm TAG...", "remove tags from the local store (gc frees the blobs)", "sealrun rm sweep-v1", {}, {}},
        {"gc", cmd_gc, "gc [--grace SECONDS]",
         "remove blobs no tag reaches from the local store (kept while younger than --grace, default 600)",
         "sealrun gc --grace 0", {"--grace"}, {}},
        {"export", cmd_export, "export SRC FILE.tar [--force]", "write SRC as an oci-archive (a tar of an OCI layout)",
         "sealrun export sweep-v1 sweep.tar", {}, {"--force"}},
        {"import", cmd_import, "import FILE.tar [TAG] [--force]", "copy an oci-archive's tags into the local store",
         "sealrun import sweep.tar", {}, {"--force"}},
        {"validate", cmd_validate, "validate SRC [--format text|json|junit] [--strict] [--codec-allow TYPE]...",
         "check an archive for CI: schema, digests, sizes, media types, codecs, names, run configs",
         "sealrun validate sweep-v1 --format junit > report.xml", {"--format", "--codec-allow"}, {"--strict"}},
        {"login", cmd_login, "login HOST -u USER --password-stdin",
         "check and store registry credentials in docker's config.json", "echo \"$TOKEN\" | sealrun login ghcr.io -u me --password-stdin",
         {"-u"}, {"--password-stdin"}},
        {"logout", cmd_logout, "logout HOST", "remove stored registry credentials", "sealrun logout ghcr.io", {}, {}},
    };
    return table;
}

const std::set<std::string> global_value_flags = {"--store", "--ca-file", "--timeout"};
const std::set<std::string> global_bool_flags = {"--plain-http", "--insecure", "--json", "-q", "--quiet", "--help", "-h"};

// parse_timeout reads --timeout's value: whole seconds, 1 to 3600.
long parse_timeout(const std::string& value) {
    long s = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
    if (ec != std::errc() || end != value.data() + value.size() || s < 1 || s > 3600)
        throw UsageError("--timeout takes whole seconds from 1 to 3600, not \"" + value + "\"");
    return s;
}

void print_main_help() {
    std::cout << "sealrun: archive experiment runs as OCI artifacts\n\n"
                 "usage: sealrun [global options] COMMAND [arguments]\n\ncommands:\n";
    for (const auto& c : commands()) std::cout << "  " << c.name << std::string(10 - std::string(c.name).size(), ' ') << c.summary << "\n";
    std::cout << "\nlocations (SRC, DST):\n"
                 "  TAG or DIGEST                      the local store (--store DIR, $SEALRUN_STORE, default ./storage)\n"
                 "  oci:DIR[:TAG]                      an OCI image layout\n"
                 "  oci-archive:FILE[:TAG]             a tar of an OCI image layout\n"
                 "  docker://HOST/REPO[:TAG|@DIGEST]   a registry repository\n"
                 "\nglobal options:\n"
                 "  --store DIR      the local store\n"
                 "  --plain-http     talk HTTP, not HTTPS, to registries\n"
                 "  --insecure       do not verify registry TLS certificates\n"
                 "  --ca-file FILE   also trust this CA bundle\n"
                 "  --timeout SECS   fail a registry request that moves under 1 KiB/s for SECS (default 30);\n"
                 "                   retries stop after 1.5 x SECS\n"
                 "  --json           print data as JSON\n"
                 "  -q, --quiet      print nothing but data and errors\n"
                 "\nexit codes: 0 success; 1 the operation failed or validation found problems; 2 bad command line\n"
                 "A tag that already names other content is never moved without --force (seal, tag, copy, push, pull,\n"
                 "import, export); re-tagging the same content succeeds. Against a registry this is checked before\n"
                 "tagging, not atomically.\n"
                 "`sealrun COMMAND --help` shows a command's usage and an example.\n";
}

void print_command_help(const Command& c) {
    std::cout << "usage: sealrun " << c.usage << "\n\n" << c.summary << "\n\nexample:\n  " << c.example << "\n";
}

int run(int argc, char** argv) {
    Globals g;
    if (const char* s = std::getenv("SEALRUN_STORE"); s != nullptr && *s != '\0') g.store = s;
    else g.store = "storage";
    std::vector<std::string> words(argv + 1, argv + argc);
    const Command* cmd = nullptr;
    Args args;
    bool help = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const auto& w = words[i];
        if (w == "--") {
            for (++i; i < words.size(); ++i) args.positional.push_back(words[i]);
            break;
        }
        auto takes_value = [&](const std::string& f) {
            return global_value_flags.contains(f) || (cmd != nullptr && cmd->value_flags.contains(f));
        };
        if (w.size() > 1 && w[0] == '-') {
            std::string flag = w, value;
            bool inline_value = false;
            if (const auto eq = w.find('='); eq != std::string::npos && w.starts_with("--")) {
                flag = w.substr(0, eq);
                value = w.substr(eq + 1);
                inline_value = true;
            }
            if (takes_value(flag)) {
                if (!inline_value) {
                    if (i + 1 >= words.size()) throw UsageError(flag + " needs a value");
                    value = words[++i];
                }
                if (flag == "--store") g.store = value;
                else if (flag == "--ca-file") g.ca_file = value;
                else if (flag == "--timeout") g.timeout_s = parse_timeout(value);
                else args.options[flag].push_back(value);
                continue;
            }
            if (inline_value) throw UsageError(flag + " takes no value");
            if (flag == "--help" || flag == "-h") help = true;
            else if (flag == "--plain-http") g.plain_http = true;
            else if (flag == "--insecure") g.insecure = true;
            else if (flag == "--json") g.json = true;
            else if (flag == "-q" || flag == "--quiet") g.quiet = true;
            else if (cmd != nullptr && cmd->bool_flags.contains(flag)) args.options[flag];
            else throw UsageError("unknown option " + flag + (cmd ? std::string(" for ") + cmd->name : ""));
            continue;
        }
        if (cmd == nullptr) {
            for (const auto& c : commands())
                if (w == c.name) cmd = &c;
            if (cmd == nullptr) throw UsageError("unknown command \"" + w + "\" (sealrun --help lists them)");
            continue;
        }
        args.positional.push_back(w);
    }
    if (cmd == nullptr) {
        print_main_help();
        return help ? exit_ok : exit_usage;
    }
    if (help) {
        print_command_help(*cmd);
        return exit_ok;
    }
    return cmd->run(args, g);
}

}  // namespace
}  // namespace sealrun::cli

int main(int argc, char** argv) {
    using namespace sealrun::cli;
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "sealrun: " << sealrun::printable(e.what()) << "\n";
        return exit_usage;
    } catch (const sealrun::Error& e) {
        std::cerr << "sealrun: " << sealrun::printable(e.what()) << "\n";
        return exit_failed;
    } catch (const std::exception& e) {
        std::cerr << "sealrun: " << sealrun::printable(e.what()) << "\n";
        return exit_failed;
    }
}
