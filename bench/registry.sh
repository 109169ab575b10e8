# bench/registry.sh: the benchmarks' registry, sourced by bench/run.sh and
# bench/scale.sh (which define WORK, say and die, and call stop_registry
# when they end).
#
# start_registry [ACCESS_LOG] starts Debian's docker-registry on a free
# 127.0.0.1 port, plain HTTP, filesystem storage in $WORK/registry, deletes
# enabled, and sets HOST (127.0.0.1:PORT) and REG_PID. With ACCESS_LOG its
# access log (one line per request, combined log format) goes to that file;
# without, it is off. Its errors go to $WORK/logs/registry.err.

REG_PID=""
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_registry() {
    local access=${1:-} port
    mkdir -p "$WORK/registry" "$WORK/logs"
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: $([[ -n $access ]] && echo false || echo true)
storage:
  filesystem:
    rootdirectory: $WORK/registry
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
        docker-registry serve "$WORK/registry.yml" >"${access:-/dev/null}" 2>"$WORK/logs/registry.err" &
        REG_PID=$!
        for _ in $(seq 1 100); do
            if curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"; then
                HOST=127.0.0.1:$port
                return 0
            fi
            kill -0 "$REG_PID" 2>/dev/null || break
            sleep 0.1
        done
        stop_registry
    done
    cat "$WORK/logs/registry.err" >&2 || true
    die "could not start docker-registry"
}

# stop_registry stops the registry start_registry started, if any.
stop_registry() {
    if [[ -n $REG_PID ]]; then
        kill "$REG_PID" 2>/dev/null || true
        wait "$REG_PID" 2>/dev/null || true
        REG_PID=""
    fi
}
