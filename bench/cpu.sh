# CPU used by the benchmark's cluster, for figures a busy machine does not skew as much as wall
# time. Source it after scripts/lib/cluster.sh (it reads RP_CLUSTER_DIR), or run it with
# RP_CLUSTER_DIR set: it prints cluster_cpu_ms (psql's \! does, inside a transaction, just before
# its COMMIT).

# cluster_cpu_ms — milliseconds of CPU (user + system) used so far by the cluster: the postmaster
# and every live process below it (backends, background workers, parser zygotes and document
# processes), each with what its reaped children used (a zygote's reaped document processes, the
# postmaster's ended backends). The difference of two calls is what the cluster used in between.
cluster_cpu_ms() {
    local pm
    pm=$(head -1 "$RP_CLUSTER_DIR/data/postmaster.pid")
    # /proc/PID/stat: pid (comm) state ppid ... utime stime cutime cstime (fields 14-17).
    # A process may end between the listing and the read: cat then fails, and the rest still counts.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" '
        { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
          parent[pid] = f[2]; ticks[pid] = f[12] + f[13] + f[14] + f[15] }
        END {
            total = 0
            for (p in ticks) {
                q = p
                for (hops = 0; q != pm && q > 1 && hops < 64; hops++) q = parent[q]
                if (q == pm) total += ticks[p]
            }
            printf "%d\n", total * 1000 / hz
        }'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then cluster_cpu_ms; fi
