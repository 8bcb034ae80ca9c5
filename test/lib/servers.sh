# Stand-in servers for integration tests, started on 127.0.0.1 and stopped by servers_stop
# (call it from the script's end and from any trap). Sourced by test/run's scripts.
#
#   servers_openai DIR KEY [ARGS...]   → RP_OPENAI_PORT (test/openai_fake/server.mjs)
#   servers_github DIR [ARGS...]       → RP_GITHUB_PORT (test/github_fake/server.mjs; e.g. --token T)
#   servers_hooks DIR [ARGS...]        → RP_HOOKS_PORT (test/hooks_fake/server.mjs; e.g. --key K --secret S)
#   servers_ashby DIR [ARGS...]        → RP_ASHBY_PORT (test/ashby_fake/server.mjs; e.g. --key K)
#   servers_s3 DIR ACCESS SECRET BUCKET...  → RP_S3_PORT (test/s3/start.mjs, @20minutes/s3rver)
#   servers_have_node                  → false (and a reason on stdout) when node/npm or s3rver are missing
#   wait_for DB SQL [seconds]          → until the query returns t
RP_SERVER_PIDS=()

servers_have_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "node and npm are not installed"
        return 1
    fi
    if [ ! -f test/node_modules/@20minutes/s3rver/package.json ] &&
        ! npm ci --prefix test --no-audit --no-fund --loglevel=error >build/npm.log 2>&1; then
        echo "npm could not install the test servers: $(grep -m1 -iE 'err' build/npm.log)"
        return 1
    fi
}

# _servers_port FILE SED-EXPRESSION — the port a server printed, within 15 s.
_servers_port() {
    local port=
    for _ in $(seq 1 150); do
        port=$(sed -n "$2" "$1")
        [ -n "$port" ] && break
        sleep 0.1
    done
    echo "$port"
}

servers_openai() {
    local dir=$1 key=$2
    shift 2
    node test/openai_fake/server.mjs --port 0 --key "$key" --quiet "$@" >"$dir/openai.out" 2>"$dir/openai.err" &
    RP_SERVER_PIDS+=($!)
    RP_OPENAI_PORT=$(_servers_port "$dir/openai.out" 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    [ -n "$RP_OPENAI_PORT" ]
}

servers_github() {
    local dir=$1
    shift
    node test/github_fake/server.mjs --port 0 --quiet "$@" >"$dir/github.out" 2>"$dir/github.err" &
    RP_SERVER_PIDS+=($!)
    RP_GITHUB_PORT=$(_servers_port "$dir/github.out" 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    [ -n "$RP_GITHUB_PORT" ]
}

servers_hooks() {
    local dir=$1
    shift
    node test/hooks_fake/server.mjs --port 0 --quiet "$@" >"$dir/hooks.out" 2>"$dir/hooks.err" &
    RP_SERVER_PIDS+=($!)
    RP_HOOKS_PORT=$(_servers_port "$dir/hooks.out" 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    [ -n "$RP_HOOKS_PORT" ]
}

servers_ashby() {
    local dir=$1
    shift
    node test/ashby_fake/server.mjs --port 0 --quiet "$@" >"$dir/ashby.out" 2>"$dir/ashby.err" &
    RP_SERVER_PIDS+=($!)
    RP_ASHBY_PORT=$(_servers_port "$dir/ashby.out" 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p')
    [ -n "$RP_ASHBY_PORT" ]
}

servers_s3() {
    local dir=$1 access=$2 secret=$3 args=()
    shift 3
    for b in "$@"; do args+=(--bucket "$b"); done
    mkdir -p "$dir/s3"
    S3_ACCESS_KEY=$access S3_SECRET_KEY=$secret \
        node --openssl-legacy-provider test/s3/start.mjs --directory "$dir/s3" "${args[@]}" >"$dir/s3.out" 2>"$dir/s3.err" &
    RP_SERVER_PIDS+=($!)
    RP_S3_PORT=$(_servers_port "$dir/s3.out" 's/^port=\([0-9]*\)$/\1/p')
    [ -n "$RP_S3_PORT" ]
}

servers_stop() {
    local pid
    for pid in "${RP_SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${RP_SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    RP_SERVER_PIDS=()
}

wait_for() {
    local deadline=$((SECONDS + ${3:-60}))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(q -d "$1" -c "$2" 2>/dev/null)" = t ] && return 0
        sleep 0.1
    done
    return 1
}
