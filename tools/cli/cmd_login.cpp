// sealrun login and logout: registry credentials.
#include <iostream>
#include <string>

#include <sealrun/remote/credentials.h>
#include <sealrun/remote/reference.h>
#include <sealrun/remote/repository.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

int cmd_login(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun login HOST -u USER --password-stdin");
    const auto user = a.get("-u");
    if (!user || !a.has("--password-stdin")) throw UsageError("login needs -u USER and --password-stdin");
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) throw UsageError("no password on standard input");
    const auto& host = a.positional[0];
    auto o = remote_options(g);
    o.credentials = remote::Credentials{*user, password, ""};
    remote::Repository(remote::Reference::parse(host + "/sealrun-login"), o).ping();
    remote::store_credentials(host, *o.credentials);
    if (!g.quiet) std::cout << "Login Succeeded\n";
    return exit_ok;
}

int cmd_logout(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun logout HOST");
    const auto& host = a.positional[0];
    if (!remote::erase_credentials(host)) {
        if (!g.quiet) std::cerr << "sealrun: not logged in to " << host << "\n";
        return exit_ok;
    }
    if (!g.quiet) std::cout << "Removed login credentials for " << host << "\n";
    return exit_ok;
}

}  // namespace sealrun::cli
