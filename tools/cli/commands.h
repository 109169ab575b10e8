#pragma once
#include "cli/cli.h"

namespace sealrun::cli {
int cmd_seal(const Args&, const Globals&);
int cmd_convert(const Args&, const Globals&);
int cmd_ls(const Args&, const Globals&);
int cmd_show(const Args&, const Globals&);
int cmd_get(const Args&, const Globals&);
int cmd_copy(const Args&, const Globals&);
int cmd_tag(const Args&, const Globals&);
int cmd_rm(const Args&, const Globals&);
int cmd_gc(const Args&, const Globals&);
int cmd_export(const Args&, const Globals&);
int cmd_import(const Args&, const Globals&);
int cmd_validate(const Args&, const Globals&);
int cmd_login(const Args&, const Globals&);
int cmd_logout(const Args&, const Globals&);
int cmd_fork(const Args&, const Globals&);
int cmd_rename(const Args&, const Globals&);
int cmd_checkpoints(const Args&, const Globals&);
int cmd_lineage(const Args&, const Globals&);
int cmd_contribute(const Args&, const Globals&);
int cmd_collect(const Args&, const Globals&);
}  // namespace sealrun::cli
