# The parser sandbox, as a user would check it from outside: a backend's parser process (the
# zygote) and the processes it forks for documents (one waiting for the next request, one at
# work) run with no_new_privs and a seccomp filter, in "/", with stderr away from the server log
# and nothing of the data directory open; the process at work has a second filter and hard
# limits; each document gets a new process; a forbidden system call kills only that document,
# with an error that says so; no process outlives the backend's wall-clock limit or its
# termination; every document of the corpora and samples still reads without tripping the
# filter; and with the postmaster as PID 1 (Docker), killing a zygote restarts nothing.
fresh_db rp_sandbox
sbx_data_dir=$(q -d rp_sandbox -c "SHOW data_directory")

# sbx_status PID FIELD — a field of /proc/PID/status ("Seccomp", "NoNewPrivs", …).
sbx_status() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
# sbx_limit PID NAME — "soft hard" of a line of /proc/PID/limits ("Max cpu time", …).
sbx_limit() { awk -v n="$2" 'index($0, n) == 1 { s = substr($0, 27); split(s, a, " +"); print a[1], a[2] }' "/proc/$1/limits" 2>/dev/null; }
sbx_children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
# sbx_filtered ZYGOTE N — its document processes with N seccomp filters: 1 while waiting for a
# request, 2 once at work on one (they stack the document filter).
sbx_filtered() {
    local pid
    for pid in $(sbx_children "$1"); do
        [ "$(sbx_status "$pid" Seccomp_filters)" = "$2" ] && echo "$pid"
    done
}
sbx_at_work() { sbx_filtered "$1" 2; }
# sbx_fds PID — "fd target" per open descriptor.
sbx_fds() { local fd; for fd in /proc/"$1"/fd/*; do echo "$(basename "$fd") $(readlink "$fd")"; done; }
sbx_gone() { # PID — true once the process is gone (or a zombie nobody reaps)
    local stat
    for _ in $(seq 50); do
        stat=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ')
        if [ -z "$stat" ] || [[ $stat == Z* ]]; then return 0; fi
        sleep 0.1
    done
    return 1
}
sbx_landlock_abi=$(perl -e 'print syscall(444, 0, 0, 1)' 2>/dev/null || echo -1) # landlock_create_ruleset(VERSION)

# ---- The zygote of an idle session ---------------------------------------------------------
coproc SBX { psql -X -q -A -t -d rp_sandbox 2>&1; }
sbx_proc=$SBX_PID # bash unsets SBX_PID as soon as the coprocess exits
echo "SELECT pg_backend_pid(), length(resume_pipeline.document_text('start the parser'::bytea));" >&"${SBX[1]}"
IFS='|' read -r -t 10 sbx_backend _ <&"${SBX[0]}"
zygote=$(sbx_children "${sbx_backend:-0}")
if [ -z "$zygote" ]; then
    t_fail "the parser process of a backend is found" "no child of backend '${sbx_backend:-?}'"
else
    t_expect "parser process: NoNewPrivs 1, Seccomp 2 (filter mode)" "1 2" \
        "$(sbx_status "$zygote" NoNewPrivs) $(sbx_status "$zygote" Seccomp)"
    t_expect "parser process: working directory is /" "/" "$(readlink "/proc/$zygote/cwd")"
    t_expect "parser process: environment is LC_ALL=C and OMP_THREAD_LIMIT=1 only" "LC_ALL=C OMP_THREAD_LIMIT=1" \
        "$(tr '\0' ' ' <"/proc/$zygote/environ" | sed 's/ $//')"
    zygote_fds=$(sbx_fds "$zygote")
    stderr_target=$(readlink "/proc/$zygote/fd/2")
    if [ "$stderr_target" = /dev/null ] && [ "$stderr_target" != "$(readlink -f "$RP_SERVER_LOG")" ]; then
        t_pass "parser process: stderr is /dev/null, not the server log"
    else
        t_fail "parser process: stderr is /dev/null, not the server log" "$zygote_fds"
    fi
    if ! grep -vqE '^[0-9]+ (socket:|pipe:|/dev/null$)' <<<"$zygote_fds"; then
        t_pass "parser process: holds only its socket, /dev/null and pipes to its processes, nothing of the data directory"
    else
        t_fail "parser process: holds only its socket, /dev/null and pipes to its processes, nothing of the data directory" "$zygote_fds"
    fi
    spare=$(sbx_filtered "$zygote" 1)
    spare_fds=$(sbx_fds "${spare:-0}" 2>/dev/null)
    t_expect "the process waiting for the next document: one, sandboxed like the zygote, in /, stderr a pipe, no file open" \
        "NoNewPrivs=1 Seccomp=2 filters=1 cwd=/ stderr=pipe other=" \
        "NoNewPrivs=$(sbx_status "${spare:-0}" NoNewPrivs) Seccomp=$(sbx_status "${spare:-0}" Seccomp) filters=$(sbx_status "${spare:-0}" Seccomp_filters) cwd=$(readlink "/proc/${spare:-0}/cwd") stderr=$(readlink "/proc/${spare:-0}/fd/2" | sed 's/:.*//') other=$(grep -vE '^[0-9]+ (socket:|pipe:)' <<<"$spare_fds" | tr '\n' ' ')"
fi

# ---- The process of a document, while it runs -----------------------------------------------
# Two documents that spin until the CPU limit: each must run in a process of its own under the
# same zygote, which survives them and reports the limit.
printf '%s\n' "SET resume_pipeline.parser_cpu_time_limit = '1s';" \
    "SET resume_pipeline.parser_memory_limit = '256MB';" \
    "SELECT resume_pipeline.debug_parser_crash('loop');" '\echo state=:SQLSTATE' \
    "SELECT resume_pipeline.debug_parser_crash('loop');" '\echo state=:SQLSTATE' \
    "SELECT 'loops done';" >&"${SBX[1]}"
doc_pids=() doc_checked=no doc_report=
for _ in $(seq 100); do
    for pid in $(sbx_at_work "${zygote:-0}"); do
        [[ " ${doc_pids[*]} " == *" $pid "* ]] && continue
        doc_pids+=("$pid")
        if [ "$doc_checked" = no ]; then
            doc_checked=yes
            doc_report="NoNewPrivs=$(sbx_status "$pid" NoNewPrivs) Seccomp=$(sbx_status "$pid" Seccomp)"
            doc_report+=" filters=$(sbx_status "$pid" Seccomp_filters) cwd=$(readlink "/proc/$pid/cwd")"
            doc_report+=" stderr=$(readlink "/proc/$pid/fd/2" | sed 's/:.*//')"
            doc_limits="cpu=$(sbx_limit "$pid" 'Max cpu time') as=$(sbx_limit "$pid" 'Max address space')"
            doc_limits+=" core=$(sbx_limit "$pid" 'Max core file size') fsize=$(sbx_limit "$pid" 'Max file size')"
            doc_limits+=" nofile=$(sbx_limit "$pid" 'Max open files') nproc=$(sbx_limit "$pid" 'Max processes')"
        fi
    done
    [ ${#doc_pids[@]} -ge 2 ] && break
    sleep 0.05
done
loop_out=
while read -r -t 15 line <&"${SBX[0]}"; do
    loop_out+="$line"$'\n'
    [ "$line" = "loops done" ] && break
done
t_expect "document process: NoNewPrivs 1, Seccomp 2, two stacked filters, in /, stderr a pipe to the zygote" \
    "NoNewPrivs=1 Seccomp=2 filters=2 cwd=/ stderr=pipe" "$doc_report"
t_expect "document process: hard limits (CPU 1 s + 1 s backstop, memory, no core, no file writes, 16 files, no processes)" \
    "cpu=1 2 as=268435456 268435456 core=0 0 fsize=0 0 nofile=16 16 nproc=0 0" "${doc_limits:-}"
if [ ${#doc_pids[@]} -ge 2 ] && [ "${doc_pids[0]}" != "${doc_pids[1]}" ] && [ "$(sbx_children "${sbx_backend:-0}")" = "$zygote" ]; then
    t_pass "two documents in a row run in two new processes (${doc_pids[*]}) of the same zygote ($zygote)"
else
    t_fail "two documents in a row run in two new processes of the same zygote" \
        "zygote $zygote, now $(sbx_children "${sbx_backend:-0}"); document processes seen: ${doc_pids[*]:-none}"
fi
t_expect "the CPU limit of a document process is reported as such, twice" "state=54000 state=54000" \
    "$(grep -o 'state=[0-9A-Z]*' <<<"$loop_out" | tr '\n' ' ' | sed 's/ $//')"

# ---- A forbidden system call ----------------------------------------------------------------
rm -f /tmp/resume_pipeline_sandbox_probe
log_lines_before=$(wc -l <"$RP_SERVER_LOG")
printf '%s\n' '\set VERBOSITY verbose' "SELECT resume_pipeline.debug_parser_crash('syscall');" '\echo state=:SQLSTATE' \
    '\set VERBOSITY default' "SELECT 'alive=' || length(resume_pipeline.document_text('after the violation'::bytea));" \
    "SELECT 'syscall done';" >&"${SBX[1]}"
sys_out=
while read -r -t 15 line <&"${SBX[0]}"; do
    sys_out+="$line"$'\n'
    [ "$line" = "syscall done" ] && break
done
if grep -qx 'state=58000' <<<"$sys_out" && grep -qx 'alive=19' <<<"$sys_out" &&
    grep -q 'signal 31: Bad system call.*sandbox' <<<"$sys_out"; then
    t_pass "a forbidden system call kills only that document: 58000 naming the sandbox, the session goes on"
else
    t_fail "a forbidden system call kills only that document: 58000 naming the sandbox, the session goes on" "$sys_out"
fi
if [ "$sbx_landlock_abi" -ge 1 ] 2>/dev/null; then
    if grep -q 'reading /etc/passwd refused' <<<"$sys_out"; then
        t_pass "Landlock (ABI $sbx_landlock_abi): the document process cannot read /etc/passwd; its stderr is in the error detail"
    else
        t_fail "Landlock (ABI $sbx_landlock_abi): the document process cannot read /etc/passwd; its stderr is in the error detail" "$sys_out"
    fi
else
    t_skip "Landlock: the document process cannot read /etc/passwd" "this kernel has no Landlock ($(uname -r))"
fi
# The server logs the ERROR with its detail; the parser's own stderr would be bare lines.
t_expect "what the parser wrote to stderr is not in the server log" "0" \
    "$(tail -n +"$((log_lines_before + 1))" "$RP_SERVER_LOG" | grep -c '^sandbox probe' || true)"
if [ -e /tmp/resume_pipeline_sandbox_probe ]; then
    t_fail "the forbidden open() created nothing" "/tmp/resume_pipeline_sandbox_probe exists"
else
    t_pass "the forbidden open() created nothing"
fi
exec {SBX[1]}>&-
wait "$sbx_proc" 2>/dev/null

# ---- No document process outlives its zygote ------------------------------------------------
# sbx_hang OUT [CPU] — runs debug_parser_crash('hang') in the background (sbx_hang_psql), then
# finds its backend, zygote and document process.
sbx_hang() {
    psql -X -q -A -t -d rp_sandbox >"$1" 2>&1 <<'SQL' &
SET resume_pipeline.parser_cpu_time_limit = '1s';
SELECT resume_pipeline.debug_parser_crash('hang');
\echo state=:SQLSTATE
SQL
    sbx_hang_psql=$!
    hang_backend= hang_zygote= hang_doc= hang_all=
    for _ in $(seq 100); do
        hang_backend=$(q -d rp_sandbox -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%debug_parser_crash(''hang'')%' AND pid <> pg_backend_pid() AND wait_event_type = 'Extension'")
        [ -n "$hang_backend" ] && hang_zygote=$(sbx_children "$hang_backend")
        [ -n "$hang_zygote" ] && hang_doc=$(sbx_at_work "$hang_zygote")
        [ -n "$hang_doc" ] && break
        sleep 0.1
    done
    hang_all=$(sbx_children "${hang_zygote:-0}" | tr '\n' ' ')
}
sbx_all_gone() { local pid; for pid in "$@"; do sbx_gone "$pid" || return 1; done; }
tmp=$(mktemp)
sbx_hang "$tmp"
wait "$sbx_hang_psql"
# shellcheck disable=SC2086 # hang_all is a list of pids
if [ -n "$hang_doc" ] && grep -qx 'state=54000' "$tmp" && sbx_all_gone $hang_all "$hang_zygote"; then
    t_pass "the wall-clock limit stops the zygote and its document processes alike"
else
    t_fail "the wall-clock limit stops the zygote and its document processes alike" \
        "zygote '${hang_zygote}', at work '${hang_doc}', all '${hang_all}': $(cat "$tmp")"
fi
sbx_hang "$tmp"
q -d rp_sandbox -c "SELECT pg_terminate_backend(${hang_backend:-0}, 5000)" >/dev/null
wait "$sbx_hang_psql" 2>/dev/null
# shellcheck disable=SC2086
if [ -n "$hang_doc" ] && sbx_all_gone $hang_all "$hang_zygote"; then
    t_pass "a terminated backend leaves no document process behind"
else
    t_fail "a terminated backend leaves no document process behind" "zygote '${hang_zygote}', processes '${hang_all}'"
fi
rm -f "$tmp"

# ---- Nothing legitimate trips the filter -----------------------------------------------------
# Every document the project has, through every SQL function that parses: no crash (58000) and
# no internal error (XX000), whatever else the document's outcome.
sbx_files=("$CORPUS"/resumes/*.pdf "$CORPUS"/hostile/*.pdf build/samples/*.pdf build/samples/*.docx build/samples/*.zip
    build/fixtures/*)
sbx_existing=()
for f in "${sbx_files[@]}"; do [ -f "$f" ] && sbx_existing+=("$f"); done
if [ ${#sbx_existing[@]} -eq 0 ]; then
    t_skip "every document reads inside the sandbox" "no corpus, samples or fixtures found"
else
    load_files rp_sandbox docs "${sbx_existing[@]}"
    bad=$(q -d rp_sandbox <<'SQL'
CREATE FUNCTION try(expr text, doc text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %s FROM docs WHERE name = %L', expr, doc);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE IN ('58000', 'XX000') THEN RETURN expr || ' of ' || doc || ': ' || SQLSTATE || ' ' || SQLERRM; END IF;
    RETURN NULL;
END $$;
SELECT r FROM docs, unnest(ARRAY['pdf_text', 'pdf_info', 'docx_text', 'document_text', 'zip_entries']) fn,
    LATERAL try('resume_pipeline.' || fn || '(data)', docs.name) r WHERE r IS NOT NULL;
SELECT r FROM docs,
    LATERAL try('resume_pipeline.parse_resume_builtin(resume_pipeline.document_text(data))', docs.name) r
    WHERE r IS NOT NULL;
SQL
    )
    if [ -z "$bad" ]; then
        t_pass "every document (${#sbx_existing[@]} files) reads through every parsing function without a crash or sandbox violation"
    else
        t_fail "every document reads through every parsing function without a crash or sandbox violation" "$bad"
    fi
fi

# ---- The postmaster as PID 1, as in the Docker image ------------------------------------------
# An orphaned parser process is reaped by PID 1; when that is the postmaster, one that died of a
# signal would read as a crashed backend and restart every session. A second cluster runs as
# PID 1 of its own PID namespace; its zygotes are killed outright, idle and mid-document, and
# its wall-clock limit is hit: the server log must show no crash recovery.
if [ "$(id -u)" != 0 ] || ! unshare -fp --mount-proc true 2>/dev/null; then
    t_skip "postmaster as PID 1: killing a zygote restarts nothing" "needs root and PID namespaces (unshare -p)"
else
    pid1_dir=$(mktemp -d /tmp/rp-pid1.XXXXXX)
    chmod 755 "$pid1_dir"
    chown postgres:postgres "$pid1_dir"
    as_pg mkdir -m 700 "$pid1_dir/data"
    as_pg "$RP_PG_BIN/initdb" -D "$pid1_dir/data" -A trust -U postgres --no-sync >/dev/null 2>&1
    (cd / && exec unshare -fp --mount-proc setpriv --reuid=postgres --regid=postgres --init-groups \
        "$RP_PG_BIN/postgres" -D "$pid1_dir/data" -c listen_addresses= -c "unix_socket_directories=$pid1_dir" \
        -c "log_line_prefix=%m [%p] " >"$pid1_dir/server.log" 2>&1) &
    pid1_unshare=$!
    p1() { psql -X -q -A -t -h "$pid1_dir" -d postgres "$@"; }
    for _ in $(seq 100); do p1 -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
    p1 -c "CREATE EXTENSION resume_pipeline" >/dev/null
    pid1_postmaster=$(sbx_children "$pid1_unshare")
    # pid1_zygotes — the zygotes of the namespaced cluster's backends (host pids).
    pid1_zygotes() {
        local b
        for b in $(sbx_children "$pid1_postmaster"); do ps -o pid=,comm= --ppid "$b"; done |
            awk '$2 ~ /^resume_pipeline/ { print $1 }'
    }
    pid1_hang() { # CPU limit in seconds
        p1 -c "SELECT length(resume_pipeline.document_text('x'::bytea))" \
            -c "SET resume_pipeline.parser_cpu_time_limit = '$1s'" \
            -c "SELECT resume_pipeline.debug_parser_crash('hang')" >/dev/null 2>&1 &
    }
    killed=0
    pid1_hang 3
    for _ in $(seq 50); do z=$(pid1_zygotes); [ -n "$z" ] && [ -n "$(sbx_at_work "$z")" ] && break; sleep 0.1; done
    [ -n "$z" ] && kill -9 "$z" && killed=$((killed + 1))
    wait $!
    p1 -c "SELECT length(resume_pipeline.document_text('x'::bytea)), pg_sleep(3)" >/dev/null 2>&1 &
    idle_psql=$!
    for _ in $(seq 50); do z=$(pid1_zygotes); [ -n "$z" ] && break; sleep 0.1; done
    sleep 0.3
    [ -n "$z" ] && kill -9 "$z" && killed=$((killed + 1))
    wait "$idle_psql"
    pid1_hang 1
    wait $!
    sleep 1
    recovery=$(grep -E 'terminated by signal|terminating any other active server processes' "$pid1_dir/server.log" || true)
    if [ "$killed" = 2 ] && [ -z "$recovery" ]; then
        t_pass "postmaster as PID 1: zygotes killed mid-document and idle, and the wall-clock limit, restart nothing"
    else
        t_fail "postmaster as PID 1: zygotes killed mid-document and idle, and the wall-clock limit, restart nothing" \
            "zygotes killed: $killed; $recovery"
    fi
    [ -n "$pid1_postmaster" ] && kill -INT "$pid1_postmaster"
    wait "$pid1_unshare" 2>/dev/null
    rm -rf "$pid1_dir"
fi
