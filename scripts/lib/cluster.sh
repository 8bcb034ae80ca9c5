# Throwaway PostgreSQL clusters for the main job, the tests and the benchmarks. Source it.
#
#   cluster_start [extra postgresql.conf lines...]   starts one; exports PGHOST PGPORT PGUSER PGDATABASE
#   cluster_stop                                     stops it and removes its files
#   as_pg CMD...                                     runs CMD as the cluster's OS user
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the unprivileged
# "postgres" user (created by the postgresql package). It listens only on its own socket
# directory, never on TCP, on a port no other test uses. Callers set a trap on cluster_stop.

RP_PG_BIN=
RP_CLUSTER_DIR=

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_start() {
    # Found here, not when sourced: on a fresh machine setup.sh installs PostgreSQL after that.
    RP_PG_BIN=$(pg_config --bindir)
    RP_CLUSTER_DIR=$(mktemp -d /tmp/rp-cluster.XXXXXX)
    chmod 755 "$RP_CLUSTER_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$RP_CLUSTER_DIR"; fi
    as_pg mkdir -m 700 "$RP_CLUSTER_DIR/data"
    as_pg mkdir -m 755 "$RP_CLUSTER_DIR/socket"
    as_pg "$RP_PG_BIN/initdb" -D "$RP_CLUSTER_DIR/data" -A trust -U postgres --no-sync \
        -E UTF8 --locale=C.UTF-8 >"$RP_CLUSTER_DIR/initdb.log" 2>&1 ||
        { cat "$RP_CLUSTER_DIR/initdb.log"; return 1; }
    local port
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$RP_CLUSTER_DIR/socket'"
        echo "shared_preload_libraries = 'resume_pipeline'"
        echo "fsync = off"
        echo "log_line_prefix = '%m [%p] '"
        for line in "$@"; do echo "$line"; done
    } | as_pg tee -a "$RP_CLUSTER_DIR/data/postgresql.conf" >/dev/null
    # A port is only a name for the socket file here; retry in case another run holds it.
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 20000))
        if as_pg "$RP_PG_BIN/pg_ctl" -D "$RP_CLUSTER_DIR/data" -l "$RP_CLUSTER_DIR/server.log" \
            -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
            export PGHOST="$RP_CLUSTER_DIR/socket" PGPORT=$port PGUSER=postgres PGDATABASE=postgres
            RP_SERVER_LOG="$RP_CLUSTER_DIR/server.log"
            return 0
        fi
    done
    echo "could not start a PostgreSQL cluster; server log:" >&2
    cat "$RP_CLUSTER_DIR/server.log" >&2
    return 1
}

# cluster_restart [immediate|fast] — stops the running cluster that way and starts it again.
cluster_restart() {
    as_pg "$RP_PG_BIN/pg_ctl" -D "$RP_CLUSTER_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null &&
        as_pg "$RP_PG_BIN/pg_ctl" -D "$RP_CLUSTER_DIR/data" -l "$RP_SERVER_LOG" -o "-p $PGPORT" -w -t 60 start >/dev/null
}

cluster_stop() {
    [ -n "$RP_CLUSTER_DIR" ] || return 0
    if [ -f "$RP_CLUSTER_DIR/data/postmaster.pid" ]; then
        as_pg "$RP_PG_BIN/pg_ctl" -D "$RP_CLUSTER_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_pg "$RP_PG_BIN/pg_ctl" -D "$RP_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$RP_CLUSTER_DIR"
    RP_CLUSTER_DIR=
}
