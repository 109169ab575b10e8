#!/usr/bin/env bash
# bench/seal.sh: sealing one large file against one `openssl dgst -sha256`
# pass over the same file, in one run (issue 15, "Seal at disk speed, once").
#
#   bench/seal.sh
#
# What it does: writes a BENCH_SEAL_MIB file of random bytes into the work
# directory, reads it once to warm the page cache, then for each repetition
#   - times `openssl dgst -sha256 FILE` (the floor: one hash pass);
#   - times sealing it with `sealrun-bench seal STORE FILE` (a fresh store:
#     the file is recorded with import_file, untimed, then
#     Experiment::commit into the store's own layout is timed: one pass
#     that hashes, checks and hard-links, or reflinks, the record file);
#   - the same with `--no-share` (the one-copy fallback, hashed as written).
# and prints the medians, the ratio to openssl (goal <= 1.5x) and the disk
# use of the whole store, records and layout, each inode once, from
# st_blocks (goal <= 1.1x the file's size).
#
# Environment:
#   BENCH_SEAL_MIB=1024   file size in MiB
#   BENCH_REPS=3          repetitions; medians are shown
#   SEALRUN_BENCH=PATH    the sealrun-bench binary (default: a release build
#                         in build-release/ or build/, see bench/README.md)
#   TMPDIR                where the work directory goes (same file system as
#                         the store: that is what lets sealing link)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIB=${BENCH_SEAL_MIB:-1024}
REPS=${BENCH_REPS:-3}

say() { printf '%s\n' "$*" >&2; }
die() { say "seal.sh: $*"; exit 1; }

BENCH=${SEALRUN_BENCH:-}
if [[ -z $BENCH ]]; then
    for d in build-release build; do
        [[ -x $ROOT/$d/bench/sealrun-bench ]] && { BENCH=$ROOT/$d/bench/sealrun-bench; break; }
    done
fi
[[ -n $BENCH && -x $BENCH ]] || die "no sealrun-bench binary: set SEALRUN_BENCH (meson setup build-release --buildtype=release -Dtests=false && ninja -C build-release bench/sealrun-bench)"
command -v openssl >/dev/null || die "openssl is missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sealrun-seal-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FILE=$WORK/data.bin
say "writing $MIB MiB of random bytes"
# (openssl ends on SIGPIPE when head has enough: not an error here)
{ openssl enc -aes-128-ctr -pass pass:sealrun -nosalt -pbkdf2 -in /dev/zero 2>/dev/null || true; } | head -c $((MIB << 20)) >"$FILE"
[[ $(stat -c %s "$FILE") == $((MIB << 20)) ]] || die "could not write $FILE"
cat "$FILE" >/dev/null  # warm: every timed pass reads from the page cache

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }

ossl=() seal=() copy=() disk_seal=0 disk_copy=0
for ((i = 1; i <= REPS; i++)); do
    t0=$(now)
    openssl dgst -sha256 "$FILE" >/dev/null
    ossl+=("$(echo "$(now) - $t0" | bc -l)")

    rm -rf "$WORK/store"
    read -r secs disk size < <("$BENCH" seal "$WORK/store" "$FILE")
    seal+=("$secs") disk_seal=$disk

    rm -rf "$WORK/store"
    read -r secs disk size < <("$BENCH" seal "$WORK/store" "$FILE" --no-share)
    copy+=("$secs") disk_copy=$disk
    rm -rf "$WORK/store"
done

o=$(printf '%s\n' "${ossl[@]}" | median)
s=$(printf '%s\n' "${seal[@]}" | median)
c=$(printf '%s\n' "${copy[@]}" | median)
size=$((MIB << 20))
printf '\nsealing one %d MiB file (medians of %d, page cache warm)\n' "$MIB" "$REPS"
printf '%-44s %9s %9s %12s %8s\n' "" "seconds" "MB/s" "vs openssl" "disk"
row() { # name secs disk
    local mbs ratio d
    mbs=$(echo "$size / $2 / 1000000" | bc -l)
    ratio=$(echo "$2 / $o" | bc -l)
    if [[ $3 == - ]]; then d=-; else d=$(printf '%.2fx' "$(echo "$3 / $size" | bc -l)"); fi
    printf '%-44s %9.3f %9.0f %11.2fx %8s\n' "$1" "$2" "$mbs" "$ratio" "$d"
}
row "openssl dgst -sha256" "$o" -
row "sealrun seal (commit: hash once + link)" "$s" "$disk_seal"
row "sealrun seal, --no-share (one copy)" "$c" "$disk_copy"
printf '\ngoals: seal <= 1.5x openssl; disk <= 1.1x the file (records + layout, st_blocks, each inode once)\n'
