#!/usr/bin/env bash
# bench/run.sh: sealrun against skopeo and raw curl, side by side, in one run,
# against a private docker-registry on 127.0.0.1 (plain HTTP). See
# bench/README.md for what is measured and how to read the table.
#
#   bench/run.sh
#
# Environment:
#   BENCH_LARGE_MIB=512   size of the one attachment of case (a)
#   BENCH_SMALL_N=1000    number of ~100-byte attachments of case (b)
#   BENCH_RUNS=2000       runs (two small files each) of case (c), a sweep; 0 skips it
#   BENCH_REPS=3          repetitions; the table shows the median
#   BENCH_PROFILE=1       after the table, print where sealrun's time goes
#                         (time inside each Target call) for one push and pull
#   BENCH_HUGE=0          1: also push and pull a BENCH_HUGE_MIB attachment
#   BENCH_HUGE_MIB=2048   with sealrun, for peak memory only
#   SEALRUN_BENCH=PATH    use this sealrun-bench binary
#   BENCH_KEEP=0          1: keep the work directory (logs) instead of removing it
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LARGE_MIB=${BENCH_LARGE_MIB:-512}
SMALL_N=${BENCH_SMALL_N:-1000}
RUNS_N=${BENCH_RUNS:-2000}
REPS=${BENCH_REPS:-3}
PROFILE=${BENCH_PROFILE:-1}
HUGE=${BENCH_HUGE:-0}
HUGE_MIB=${BENCH_HUGE_MIB:-2048}
KEEP=${BENCH_KEEP:-0}

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---------------------------------------------------------------- tools
missing=()
for c in docker-registry skopeo curl; do command -v "$c" >/dev/null || missing+=("$c"); done
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]} > 0)) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry skopeo curl time >&2
fi
for c in docker-registry skopeo curl; do
    command -v "$c" >/dev/null || die "$c is missing: apt-get install docker-registry skopeo curl time"
done
HAVE_TIME=0
if [[ -x /usr/bin/time ]]; then
    HAVE_TIME=1
else
    say "note: /usr/bin/time is missing, so peak memory is not measured; install it with: apt-get install time"
fi

# ------------------------------------------------------------ work dir
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-bench.XXXXXX")
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

need_mib=$((LARGE_MIB * 7 + 200))
[[ $HUGE == 1 ]] && need_mib=$((need_mib + HUGE_MIB * 4))
avail_mib=$(df -Pm "$WORK" | awk 'NR==2{print $4}')
((avail_mib > need_mib)) || die "need about $need_mib MiB free under $WORK, have $avail_mib"

# ------------------------------------------------------ sealrun-bench
BENCH=${SEALRUN_BENCH:-}
if [[ -z $BENCH && -x $ROOT/build/bench/sealrun-bench ]]; then
    BENCH=$ROOT/build/bench/sealrun-bench
fi
if [[ -z $BENCH ]]; then
    [[ -f $ROOT/build/libsealrun.a ]] || die "no build/bench/sealrun-bench and no build/libsealrun.a: build the project first (ninja -C build)"
    say "building sealrun-bench against build/libsealrun.a"
    g++ -std=c++20 -O2 -I"$ROOT/include" "$ROOT/bench/bench.cpp" -o "$WORK/sealrun-bench" \
        "$ROOT/build/libsealrun.a" -lcurl -larchive -lssl -lcrypto -pthread
    BENCH=$WORK/sealrun-bench
fi
[[ -x $BENCH ]] || die "$BENCH is not executable"
for f in "$ROOT/build/libsealrun.a" "$ROOT/bench/bench.cpp"; do
    [[ -f $f && $f -nt $BENCH ]] && say "WARNING: $BENCH is older than $f; rebuild it (ninja -C build) to measure the current code"
done

# ------------------------------------------------------------ registry
start_registry

# ------------------------------------------------------------- timing
declare -A RES=() RSS=()
LAST_SECS=0
LAST_RSS=""
# timed LOGNAME CMD...: run CMD (after a sync, so earlier writes do not
# flush inside it), set LAST_SECS to its wall time and LAST_RSS to its
# peak RSS in KiB (empty without /usr/bin/time). Fails the run on error.
timed() {
    local log=$WORK/logs/$1
    shift
    sync
    local t0 t1 rc=0
    t0=$(date +%s%N)
    if [[ $HAVE_TIME == 1 ]]; then
        /usr/bin/time -v -o "$log.time" "$@" >"$log.out" 2>&1 || rc=$?
    else
        "$@" >"$log.out" 2>&1 || rc=$?
    fi
    t1=$(date +%s%N)
    if ((rc != 0)); then
        say "FAILED ($rc): $*"
        cat "$log.out" >&2
        exit 1
    fi
    LAST_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
    LAST_RSS=""
    [[ $HAVE_TIME == 1 ]] && LAST_RSS=$(awk -F': *' '/Maximum resident set size/{print $2}' "$log.time")
    return 0
}
# record KEY: append LAST_SECS (and LAST_RSS) to the results of KEY.
record() {
    RES[$1]="${RES[$1]:-} $LAST_SECS"
    if [[ -n $LAST_RSS ]]; then
        local old=${RSS[$1]:-0}
        ((LAST_RSS > old)) && RSS[$1]=$LAST_RSS || RSS[$1]=$old
    fi
    say "  $(printf '%-28s %8.3f s' "$1" "$LAST_SECS")${LAST_RSS:+  $((LAST_RSS / 1024)) MiB peak RSS}"
}
median() { tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{a[NR]=$1} END{if(NR==0){print ""} else if(NR%2){print a[(NR+1)/2]} else {printf "%.3f\n",(a[NR/2]+a[NR/2+1])/2}}'; }

# A raw-curl monolithic upload: POST an upload session, PUT the file to it.
cat >"$WORK/curl-push.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
host=$1 repo=$2 file=$3 digest=$4
loc=$(curl -sS -f -X POST -D - -o /dev/null "http://$host/v2/$repo/blobs/uploads/" |
      tr -d '\r' | awk 'tolower($1)=="location:"{print $2; exit}')
[[ -n $loc ]] || { echo "no Location" >&2; exit 1; }
case $loc in http://*|https://*) ;; *) loc="http://$host$loc" ;; esac
sep='?'; [[ $loc == *\?* ]] && sep='&'
curl -sS -f -T "$file" -H 'Content-Type: application/octet-stream' -H 'Expect:' -o /dev/null "$loc${sep}digest=$digest"
EOF
chmod +x "$WORK/curl-push.sh"

# /usr/bin/time runs programs, not shell functions: these are argument lists.
skopeo_push() { SK=(skopeo --insecure-policy copy --dest-tls-verify=false "oci:$1:$2" "docker://$HOST/$3:$2"); }
skopeo_pull() { SK=(skopeo --insecure-policy copy --src-tls-verify=false "docker://$HOST/$1:$3" "oci:$2:$3"); }

# ------------------------------------------------------------ machine
say "sealrun benchmark: large ${LARGE_MIB} MiB, small ${SMALL_N} x ~100 B, ${REPS} repetition(s)"
say "  machine:  $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
say "  tools:    $(skopeo --version), docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}'), $(curl --version | head -1 | awk '{print $1, $2}')"
say "  bench:    $BENCH"
say "  registry: http://$HOST (filesystem storage in $WORK/registry)"
load=$(awk '{print $1}' /proc/loadavg)
say "  load:     $load"
awk -v l="$load" 'BEGIN{exit !(l > 1.0)}' && say "  WARNING: the machine is busy (load $load); timings will be noisy"

# -------------------------------------------------------------- runs
for rep in $(seq 1 "$REPS"); do
    say "repetition $rep/$REPS"
    # Fresh content each repetition: new digests, so neither the registry
    # nor skopeo's blob-info cache can know any of it.
    L=$WORK/src-large-$rep S=$WORK/src-small-$rep
    "$BENCH" make-large "$L" v1 "$LARGE_MIB" 2>>"$WORK/logs/make.log"
    "$BENCH" make-small "$S" v1 "$SMALL_N" 2>>"$WORK/logs/make.log"
    read -r DIGEST SIZE BLOB < <("$BENCH" largest-blob "$L" v1) || true
    [[ -n ${BLOB:-} ]] || die "cannot find the large blob in $L"

    # (a) one large attachment. Every push goes to a repository of its own.
    timed "large-push-sealrun-$rep" "$BENCH" push "$L" v1 "$HOST/large-sealrun-$rep:v1"; record "large|push|sealrun"
    skopeo_push "$L" v1 "large-skopeo-$rep"; timed "large-push-skopeo-$rep" "${SK[@]}"; record "large|push|skopeo"
    timed "large-push-curl-$rep" "$WORK/curl-push.sh" "$HOST" "large-curl-$rep" "$BLOB" "$DIGEST"; record "large|push|curl"
    # Pulls all read what sealrun pushed, each into a fresh directory.
    timed "large-pull-sealrun-$rep" "$BENCH" pull "$HOST/large-sealrun-$rep:v1" "$WORK/pull-sealrun" v1; record "large|pull|sealrun"
    got=$("$BENCH" largest-blob "$WORK/pull-sealrun" v1 | awk '{print $1}')
    [[ $got == "$DIGEST" ]] || die "sealrun pull lost the large blob"
    rm -rf "$WORK/pull-sealrun"
    skopeo_pull "large-sealrun-$rep" "$WORK/pull-skopeo" v1; timed "large-pull-skopeo-$rep" "${SK[@]}"; record "large|pull|skopeo"
    [[ $(stat -c %s "$WORK/pull-skopeo/blobs/sha256/${DIGEST#sha256:}") == "$SIZE" ]] || die "skopeo pull lost the large blob"
    rm -rf "$WORK/pull-skopeo"
    timed "large-get-file-$rep" curl -sS -f -o "$WORK/pull-curl.bin" "http://$HOST/v2/large-sealrun-$rep/blobs/$DIGEST"; record "large|pull|curl"
    [[ $(stat -c %s "$WORK/pull-curl.bin") == "$SIZE" ]] || die "curl GET came back short"
    rm -f "$WORK/pull-curl.bin"
    timed "large-get-null-$rep" curl -sS -f -o /dev/null "http://$HOST/v2/large-sealrun-$rep/blobs/$DIGEST"; record "large|pull-null|curl"

    # (b) one run with many small attachments.
    timed "small-push-sealrun-$rep" "$BENCH" push "$S" v1 "$HOST/small-sealrun-$rep:v1"; record "small|push|sealrun"
    skopeo_push "$S" v1 "small-skopeo-$rep"; timed "small-push-skopeo-$rep" "${SK[@]}"; record "small|push|skopeo"
    timed "small-pull-sealrun-$rep" "$BENCH" pull "$HOST/small-sealrun-$rep:v1" "$WORK/pull-sealrun" v1; record "small|pull|sealrun"
    n=$(find "$WORK/pull-sealrun/blobs/sha256" -type f | wc -l)
    ((n >= SMALL_N)) || die "sealrun pull of the small case has $n blobs"
    rm -rf "$WORK/pull-sealrun"
    skopeo_pull "small-sealrun-$rep" "$WORK/pull-skopeo" v1; timed "small-pull-skopeo-$rep" "${SK[@]}"; record "small|pull|skopeo"
    n=$(find "$WORK/pull-skopeo/blobs/sha256" -type f | wc -l)
    ((n >= SMALL_N)) || die "skopeo pull of the small case has $n blobs"
    rm -rf "$WORK/pull-skopeo"

    # (c) a sweep: many runs of two small files, so many small manifests.
    # skopeo needs --all to copy every run of the index (it then rewrites
    # the index, which is not sealrun's any more; only the time is compared).
    if ((RUNS_N > 0)); then
        R=$WORK/src-runs-$rep
        "$BENCH" make-runs "$R" v1 "$RUNS_N" 2>>"$WORK/logs/make.log"
        timed "runs-push-sealrun-$rep" "$BENCH" push "$R" v1 "$HOST/runs-sealrun-$rep:v1"; record "runs|push|sealrun"
        SK=(skopeo --insecure-policy copy --all --dest-tls-verify=false "oci:$R:v1" "docker://$HOST/runs-skopeo-$rep:v1")
        timed "runs-push-skopeo-$rep" "${SK[@]}"; record "runs|push|skopeo"
        rm -rf "$R"
    fi

    rm -rf "$L" "$S"
done

say "  load after the timed runs: $(awk '{print $1, $2, $3}' /proc/loadavg) (1, 5, 15 min)"

# ------------------------------------------------------------- table
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}' || printf 'n/a'; }
val() { [[ -n $1 ]] && printf '%.2f' "$1" || printf 'n/a'; }
row() {  # row CASE-LABEL KEY-CASE OP [CURL-KEY-OP]
    local s k c
    s=$(median "${RES[$2|$3|sealrun]:-}")
    k=$(median "${RES[$2|$3|skopeo]:-}")
    c=$(median "${RES[$2|${4:-$3}|curl]:-}")
    printf '| %-22s | %-11s | %9s | %9s | %9s | %14s | %12s |\n' "$1" "$5" "$(val "$s")" "$(val "$k")" \
        "$(val "$c")" "$(ratio "$s" "$k")" "$(ratio "$s" "$c")"
}
LBL_L="(a) 1 x $LARGE_MIB MiB"
LBL_S="(b) $SMALL_N x 100 B"
LBL_R="(c) $RUNS_N runs x 2 files"
echo
echo "Median of $REPS repetition(s), wall seconds; ratios below 1 mean sealrun is faster."
echo
echo "| case                   | operation   | sealrun s |  skopeo s |    curl s | sealrun/skopeo | sealrun/curl |"
echo "|------------------------|-------------|-----------|-----------|-----------|----------------|--------------|"
row "$LBL_L" large push push "push"
row "$LBL_L" large pull pull "pull"
row "$LBL_L" large pull pull-null "pull (null)"
row "$LBL_S" small push push "push"
row "$LBL_S" small pull pull "pull"
((RUNS_N > 0)) && row "$LBL_R" runs push push "push"
echo
echo "curl: push = POST + one streamed PUT (curl -T) of the blob; pull = GET of the blob to a file;"
echo "pull (null) = the same sealrun pull against a GET to /dev/null. curl moves one blob and verifies nothing."

if [[ $HAVE_TIME == 1 ]]; then
    mib() { [[ -n ${RSS[$1]:-} ]] && awk -v k="${RSS[$1]}" 'BEGIN{printf "%.1f", k/1024}' || printf 'n/a'; }
    echo
    echo "Peak RSS, MiB (/usr/bin/time -v, maximum over repetitions):"
    echo
    echo "| case                   | operation   |  sealrun |   skopeo |     curl |"
    echo "|------------------------|-------------|----------|----------|----------|"
    for op in push pull; do
        printf '| %-22s | %-11s | %8s | %8s | %8s |\n' "$LBL_L" "$op" "$(mib "large|$op|sealrun")" \
            "$(mib "large|$op|skopeo")" "$(mib "large|$op|curl")"
    done
    for op in push pull; do
        printf '| %-22s | %-11s | %8s | %8s | %8s |\n' "$LBL_S" "$op" "$(mib "small|$op|sealrun")" \
            "$(mib "small|$op|skopeo")" "n/a"
    done
fi

# ------------------------------------------------------------ targets
s=$(median "${RES[large|pull|sealrun]}")
c_file=$(median "${RES[large|pull|curl]}")
c_null=$(median "${RES[large|pull-null|curl]}")
sp=$(median "${RES[small|push|sealrun]}")
kp=$(median "${RES[small|push|skopeo]}")
verdict() { awk "BEGIN{exit !($1)}" && printf 'met' || printf 'MISSED'; }
echo
echo "Targets:"
echo "  pull (a) within 1.5x of curl GET:  $(ratio "$s" "$c_file")x of GET to a file ($(verdict "$s <= 1.5 * $c_file")), $(ratio "$s" "$c_null")x of GET to /dev/null ($(verdict "$s <= 1.5 * $c_null"))"
echo "  push (b) >= 10x faster than skopeo: $(ratio "$kp" "$sp")x ($(verdict "$kp >= 10 * $sp"))"
slower=""
for key in large\|push large\|pull small\|push small\|pull; do
    a=$(median "${RES[$key|sealrun]}")
    b=$(median "${RES[$key|skopeo]}")
    awk -v a="$a" -v b="$b" 'BEGIN{exit !(a > b)}' && slower+=" ${key/|/ }($(ratio "$a" "$b")x)"
done
echo "  nothing slower than skopeo:         $([[ -z $slower ]] && echo met || echo "MISSED:$slower")"

# ------------------------------------------------------------ profile
if [[ $PROFILE == 1 ]]; then
    echo
    echo "Where sealrun's time goes (sealrun-bench --profile: wall time inside each Target call,"
    echo "summed over the copy's threads; stream.read = reading the source, its digest check included):"
    L=$WORK/src-large-profile S=$WORK/src-small-profile
    "$BENCH" make-large "$L" v1 "$LARGE_MIB" 2>>"$WORK/logs/make.log"
    "$BENCH" make-small "$S" v1 "$SMALL_N" 2>>"$WORK/logs/make.log"
    sync
    for args in "push $L v1 $HOST/large-profile:v1" "pull $HOST/large-profile:v1 $WORK/pull-profile-l v1" \
        "push $S v1 $HOST/small-profile:v1" "pull $HOST/small-profile:v1 $WORK/pull-profile-s v1"; do
        echo
        echo "\$ sealrun-bench $args --profile"
        # shellcheck disable=SC2086
        "$BENCH" $args --profile 2>&1 | sed -e 's/^/    /'
        sync
    done
    rm -rf "$L" "$S" "$WORK"/pull-profile-*
fi

# --------------------------------------------------------------- huge
if [[ $HUGE == 1 ]]; then
    echo
    if [[ $HAVE_TIME == 1 ]]; then
        H=$WORK/src-huge
        "$BENCH" make-large "$H" v1 "$HUGE_MIB" 2>>"$WORK/logs/make.log"
        timed huge-push "$BENCH" push "$H" v1 "$HOST/huge-sealrun:v1"
        hp="$LAST_SECS s, peak RSS $((LAST_RSS / 1024)) MiB"
        rm -rf "$H"
        timed huge-pull "$BENCH" pull "$HOST/huge-sealrun:v1" "$WORK/pull-huge" v1
        hl="$LAST_SECS s, peak RSS $((LAST_RSS / 1024)) MiB"
        rm -rf "$WORK/pull-huge"
        echo "Huge case (1 x $HUGE_MIB MiB, sealrun only, memory check):"
        echo "  push: $hp"
        echo "  pull: $hl"
    else
        echo "Huge case skipped: it only measures memory, and /usr/bin/time is missing (apt-get install time)."
    fi
fi
