#!/usr/bin/env bash
# bench/scale.sh: how sealrun scales with the number of runs (issue 15), in
# one run, against a private docker-registry on 127.0.0.1 whose access log
# counts the requests. For each N (runs of two small files each): seal,
# push, show from the registry, pull one run, pull everything, each timed
# with its requests and peak RSS; next to push and pull, the floor
# (bench/floor_client.py: 8 threads, keep-alive, the minimum requests per
# object) moving the same objects on the same registry; then validate what
# was pulled (timed too). See bench/README.md
# ("Scaling with the number of runs").
#
#   bench/scale.sh [N...]          default: 100 1000 10000
#
# Environment:
#   SEALRUN=PATH      the sealrun CLI (default: build/tools/sealrun; use a
#                     release build)
#   FLOOR_THREADS=8   the floor client's threads
#   BENCH_KEEP=0      1: keep the work directory (logs, access log)
#   SCALE_SKIP=""     operations to leave out, e.g. "pull-all floor" for a
#                     quick functional pass at 100,000 runs
#   MEMORY_RATIO=1.5  the memory guard ("memory flat in N for everything but
#   MEMORY_PER_BYTE=8 the summary"): the script fails when an operation's peak
#                     RSS at the largest N passes MEMORY_RATIO times its RSS
#                     at the smallest N plus MEMORY_PER_BYTE times the bytes
#                     of the documents that may grow with N, the summary
#                     and the largest index or page (which stops growing at
#                     one page of runs); MEMORY_RATIO=0: report only
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEALRUN=${SEALRUN:-$ROOT/build/tools/sealrun}
THREADS=${FLOOR_THREADS:-8}
KEEP=${BENCH_KEEP:-0}
MEMORY_RATIO=${MEMORY_RATIO:-1.5}
MEMORY_PER_BYTE=${MEMORY_PER_BYTE:-8}
SKIP=" ${SCALE_SKIP:-} "
PY=/usr/bin/python3
SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(100 1000 10000)

say() { printf '%s\n' "$*" >&2; }
die() { say "scale.sh: $*"; exit 1; }

[[ -x $SEALRUN ]] || die "no sealrun at $SEALRUN: build it (meson setup build --buildtype=release && ninja -C build tools/sealrun) or set SEALRUN"
for c in docker-registry curl; do command -v "$c" >/dev/null || die "$c is missing: apt-get install docker-registry curl time"; done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing: apt-get install time"
[[ -x $PY ]] || die "$PY is missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-scale.XXXXXX")
source "$ROOT/bench/registry.sh"
cleanup() {
    local rc=$?
    stop_registry
    if [[ $KEEP == 1 ]]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/logs"

# ------------------------------------------------------------ registry
# Debian's docker-registry, filesystem storage, its access log (one line
# per request, combined log format) on stdout into $ACCESS.
ACCESS=$WORK/logs/access.log
start_registry "$ACCESS"

# requests_since LINE: the access-log lines after line LINE, as
# "TOTAL METHOD:COUNT..." (waits until the log stops growing: the registry
# writes a line after each response).
log_lines() { grep -c '" [0-9][0-9][0-9] ' "$ACCESS" || true; }
requests_since() {
    local before=$1 a b
    a=$(log_lines)
    while sleep 0.3; b=$(log_lines); [[ $a != "$b" ]]; do a=$b; done
    grep '" [0-9][0-9][0-9] ' "$ACCESS" | tail -n +"$((before + 1))" |
        awk '{m=$6; gsub(/"/, "", m); c[m]++; n++} END{printf "%d", n; for (k in c) printf " %s:%d", k, c[k]; print ""}'
}

# ------------------------------------------------------------- timing
RESULTS=$WORK/results.tsv
: >"$RESULTS"
# timed N OP WHO COMMAND...: runs COMMAND under /usr/bin/time -v, counts its
# requests in the access log and appends "N OP WHO SECONDS REQUESTS RSS_KIB
# METHODS" to the results. The floor reports its own (in-process) seconds.
timed() {
    local n=$1 op=$2 who=$3 log before t0 t1 rc=0 secs reqs rss
    shift 3
    if [[ $SKIP == *" $op "* || ($who == floor && $SKIP == *" floor "*) ]]; then
        say "  $(printf '%-6s %-9s %-8s' "$n" "$op" "$who")  skipped (SCALE_SKIP)"
        return 0
    fi
    log=$WORK/logs/$n-$op-$who
    sync
    before=$(log_lines)
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$log.time" "$@" >"$log.out" 2>"$log.err" || rc=$?
    t1=$(date +%s%N)
    if ((rc != 0)); then
        say "FAILED ($rc): $*"
        cat "$log.err" >&2
        exit 1
    fi
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
    [[ $who == floor ]] && secs=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["seconds"])' "$log.out")
    reqs=$(requests_since "$before")
    rss=$(awk -F': *' '/Maximum resident set size/{print $2}' "$log.time")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$op" "$who" "$secs" "$rss" "$reqs" >>"$RESULTS"
    say "  $(printf '%-6s %-9s %-8s %8.3f s  %6d requests  %6.1f MiB' "$n" "$op" "$who" "$secs" "${reqs%% *}" \
        "$(awk -v k="$rss" 'BEGIN{print k/1024}')")  ${reqs#* }"
}

say "sealrun scaling benchmark: N = ${SIZES[*]} runs of 2 small files each"
say "  machine:  $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(uname -sr)"
say "  sealrun:  $SEALRUN ($("$SEALRUN" --version 2>/dev/null | head -n 1))"
say "  registry: http://$HOST, docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}'), access log $ACCESS"
say "  floor:    bench/floor_client.py, $THREADS threads, Python http.client keep-alive"
say "  load:     $(awk '{print $1, $2, $3}' /proc/loadavg)"

export SEALRUN_NO_PROGRESS=1
for n in "${SIZES[@]}"; do
    say "N = $n"
    D=$WORK/n$n
    mkdir -p "$D/runs"
    # N result directories of two small distinct files each.
    $PY - "$D/runs" "$n" <<'PY'
import json, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
salt = random.getrandbits(64)
for i in range(n):
    d = os.path.join(root, f"r{i:06d}")
    os.mkdir(d)
    with open(os.path.join(d, "result.json"), "w") as f:
        json.dump({"seed": i, "salt": salt, "loss": 1.0 / (i + 1)}, f)
    with open(os.path.join(d, "log.txt"), "w") as f:
        f.write(f"run {i} of {salt}\n")
PY
    store=$D/store
    (cd "$D/runs" && timed "$n" seal sealrun "$SEALRUN" --store "$store" seal $(ls) --experiment "scale-$n" --tag "scale-$n")
    # The documents whose size grows with N (for the memory guard): the
    # summary and the largest index or page, from the store's layout.
    $PY - "$store" "scale-$n" "$n" >>"$WORK/documents.tsv" <<'PY'
import json, os, sys
store, tag, n = sys.argv[1:4]
layout = next(os.path.dirname(os.path.join(d, f)) for d, _, fs in os.walk(store) for f in fs if f == "oci-layout")
def blob(digest):
    algo, hexa = digest.split(":")
    with open(os.path.join(layout, "blobs", algo, hexa), "rb") as f:
        return f.read()
root = next(m for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
largest, summary = root["size"], 0
for e in json.loads(blob(root["digest"]))["manifests"]:
    part = e.get("annotations", {}).get("vnd.sealrun.part")
    if part == "page":
        largest = max(largest, e["size"])
    elif part == "summary":
        summary = sum(l["size"] for l in json.loads(blob(e["digest"]))["layers"])
print(f"{n}\t{summary}\t{largest}")
PY
    timed "$n" push sealrun "$SEALRUN" --store "$store" push "scale-$n" "docker://$HOST/sealrun-$n:v1"
    timed "$n" show sealrun "$SEALRUN" --store "$D/empty" show "docker://$HOST/sealrun-$n:v1"
    if [[ -f $WORK/logs/$n-show-sealrun.out ]]; then  # not when skipped
        rows=$(grep -cE '^[0-9]+[[:space:]]' "$WORK/logs/$n-show-sealrun.out" || true)
        ((rows == n)) || die "show listed $rows runs, not $n: $WORK/logs/$n-show-sealrun.out"
    fi
    run_digest=$("$SEALRUN" --store "$store" show "scale-$n" --json |
        $PY -c 'import json,sys; r=json.load(sys.stdin)["runs"]; print(r[len(r)//2]["digest"])')
    timed "$n" pull-one sealrun "$SEALRUN" --store "$D/pulled-one" pull "docker://$HOST/sealrun-$n@$run_digest" one
    timed "$n" pull-all sealrun "$SEALRUN" --store "$D/pulled" pull "docker://$HOST/sealrun-$n:v1" all
    # What was pulled validates (all of it, or the one run when pull-all is
    # skipped; nothing when both are).
    check_dir=$D/pulled check_ref=all
    [[ -d $check_dir ]] || check_dir=$D/pulled-one check_ref=one
    [[ -d $check_dir ]] && timed "$n" validate sealrun "$SEALRUN" --store "$check_dir" validate "$check_ref"
    # The floor: the same objects (the store's OCI layout), a repository of
    # its own; its pull reads what sealrun pushed.
    layout=$(dirname "$(find "$store" -maxdepth 2 -name oci-layout | head -n 1)")
    [[ -f $layout/index.json ]] || die "cannot find the store's OCI layout under $store"
    timed "$n" push floor $PY "$ROOT/bench/floor_client.py" push "$HOST" "floor-$n" "$layout" "scale-$n" --threads "$THREADS"
    timed "$n" pull-all floor $PY "$ROOT/bench/floor_client.py" pull "$HOST" "sealrun-$n" v1 "$D/floor-pull" --threads "$THREADS"
    rm -rf "$D/runs" "$D/floor-pull" "$D/pulled" "$D/pulled-one"
done
say "  load after: $(awk '{print $1, $2, $3}' /proc/loadavg)"

# -------------------------------------------------------------- table
$PY - "$RESULTS" "$MEMORY_RATIO" "$MEMORY_PER_BYTE" "$WORK/documents.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
docs = {n: (int(s), int(i)) for n, s, i in (l.rstrip("\n").split("\t") for l in open(sys.argv[4]))}
res = {}
sizes = []
for n, op, who, secs, rss, reqs in rows:
    res[(n, op, who)] = (float(secs), int(rss) / 1024, reqs.split(" ", 1)[0], reqs.split(" ", 1)[1] if " " in reqs else "")
    if n not in sizes:
        sizes.append(n)
print()
print("Wall seconds, requests (the registry's access log) and peak RSS (/usr/bin/time -v) per operation;")
print("floor = bench/floor_client.py on the same objects (push: its own repository; pull: what sealrun pushed).")
print()
print("| runs | operation | sealrun s | requests | peak RSS MiB | floor s | floor requests | sealrun/floor |")
print("|-----:|-----------|----------:|---------:|-------------:|--------:|---------------:|--------------:|")
for n in sizes:
    for op in ("seal", "push", "show", "pull-one", "pull-all", "validate"):
        s = res.get((n, op, "sealrun"))
        f = res.get((n, op, "floor"))
        if not s:
            continue
        fl = f"{f[0]:.2f}" if f else "–"
        fr = f[2] if f else "–"
        ratio = f"{s[0] / f[0]:.2f}×" if f and f[0] > 0 else "–"
        print(f"| {int(n):,} | {op} | {s[0]:.2f} | {s[2]} | {s[1]:.1f} | {fl} | {fr} | {ratio} |")
print()
print("Requests by method:")
for n in sizes:
    for op in ("push", "show", "pull-one", "pull-all"):
        for who in ("sealrun", "floor"):
            r = res.get((n, op, who))
            if r:
                print(f"  {int(n):>6,} {op:<9} {who:<8} {r[2]:>7}  {r[3]}")
big = sizes[-1]
print()
print("Targets:")
for op in ("push", "pull-all"):
    s, f = res.get((big, op, "sealrun")), res.get((big, op, "floor"))
    if s and f:
        r = s[0] / f[0]
        print(f"  {op} of {int(big):,} runs within 1.3x of the floor: {r:.2f}x ({'met' if r <= 1.3 else 'MISSED'})")
s = res.get((big, "show", "sealrun"))
if s:
    print(f"  show of {int(big):,} runs in <= 5 requests: {s[2]} ({'met' if int(s[2]) <= 5 else 'MISSED'})")
# The memory guard (issue 15: memory flat in N for everything but the
# summary): an operation's peak RSS at the largest N may pass MEMORY_RATIO
# times its RSS at the smallest N by MEMORY_PER_BYTE bytes per byte of the
# documents that grow with N (the summary, the largest index or page); past
# it the script fails (after printing everything).
limit, per_byte = float(sys.argv[2]), float(sys.argv[3])
summary, index = docs.get(big, (0, 0))
print(f"  documents at {int(big):,} runs: summary {summary / 2**20:.1f} MiB, largest index or page {index / 2**20:.1f} MiB")
missed = []
for op in ("seal", "push", "show", "pull-one", "pull-all", "validate"):
    a, b = res.get((sizes[0], op, "sealrun")), res.get((big, op, "sealrun"))
    if not a or not b or len(sizes) < 2:
        continue
    allowed = limit * a[1] + per_byte * (summary + index) / 2**20
    ok = limit <= 0 or b[1] <= allowed
    print(f"  {op} peak RSS from {int(sizes[0]):,} to {int(big):,} runs: {a[1]:.1f} -> {b[1]:.1f} MiB"
          f" ({'not checked: MEMORY_RATIO=0' if limit <= 0 else ('met' if ok else 'MISSED') + f': at most {allowed:.1f} MiB = {limit:g} x {a[1]:.1f} + {per_byte:g} x the documents'})")
    if not ok:
        missed.append(op)
if missed:
    sys.exit(f"scale.sh: peak RSS grows with the number of runs ({', '.join(missed)}): see bench/README.md, \"Scaling with the number of runs\"")
PY
