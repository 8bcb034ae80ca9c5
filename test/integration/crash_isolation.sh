# Crash isolation: a parser that crashes, aborts, spins or eats memory yields an ERROR in the
# calling session only. A second open session stays connected, the postmaster never restarts
# (no crash recovery in the server log), cancel and termination reach a busy parser, and a
# terminated backend leaves no parser process behind.
fresh_db rp_crash

start_time=$(q -d rp_crash -c "SELECT pg_postmaster_start_time()")
log_lines_before=$(wc -l <"$RP_SERVER_LOG")

coproc SECOND { psql -X -q -A -t -d rp_crash 2>&1; }
second_proc=$SECOND_PID # bash unsets SECOND_PID as soon as the coprocess exits
echo "SELECT pg_backend_pid();" >&"${SECOND[1]}"
read -r -t 10 second_pid <&"${SECOND[0]}"

for mode in segv abort loop memory; do
    case $mode in segv | abort) expected=58000 ;; *) expected=54000 ;; esac
    out=$(psql -X -q -A -t -d rp_crash 2>&1 <<SQL
SET resume_pipeline.parser_cpu_time_limit = '1s';
SET resume_pipeline.parser_memory_limit = '256MB';
SELECT resume_pipeline.debug_parser_crash('$mode');
\echo state=:SQLSTATE
SELECT 'alive=' || 1;
SQL
    )
    if grep -qx "state=$expected" <<<"$out" && grep -qx 'alive=1' <<<"$out"; then
        t_pass "parser $mode: ERROR $expected in the calling session, which then runs SELECT 1"
    else
        t_fail "parser $mode: ERROR $expected in the calling session, which then runs SELECT 1" "$out"
    fi
done

echo "SELECT pg_backend_pid();" >&"${SECOND[1]}"
read -r -t 10 second_pid_after <&"${SECOND[0]}"
t_expect "a second open session stays connected through parser crashes" "$second_pid" "${second_pid_after:-disconnected}"
exec {SECOND[1]}>&-
wait "$second_proc" 2>/dev/null

t_expect "the postmaster did not restart" "$start_time" "$(q -d rp_crash -c "SELECT pg_postmaster_start_time()")"
recovery=$(tail -n +"$((log_lines_before + 1))" "$RP_SERVER_LOG" |
    grep -E 'terminated by signal|terminating any other active server processes|all server processes terminated|database system was interrupted|automatic recovery' || true)
if [ -z "$recovery" ]; then t_pass "the server log shows no crash recovery"; else t_fail "the server log shows no crash recovery" "$recovery"; fi

# Starts a session whose parser hangs, in this shell (so that "wait $hang_psql" waits for it);
# sets hang_psql to the psql pid and backend to its backend pid once the hang is under way.
start_hanging_session() {
    psql -X -q -A -t -d rp_crash >"$1" 2>&1 <<'SQL' &
SELECT resume_pipeline.debug_parser_crash('hang');
\echo state=:SQLSTATE
SELECT 'alive=' || 1;
SQL
    hang_psql=$!
    backend=
    for _ in $(seq 100); do
        backend=$(q -d rp_crash -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%debug_parser_crash(''hang'')%' AND pid <> pg_backend_pid() AND wait_event_type = 'Extension'")
        [ -n "$backend" ] && break
        sleep 0.1
    done
}

tmp=$(mktemp)
start_hanging_session "$tmp"
began=$(date +%s%N)
q -d rp_crash -c "SELECT pg_cancel_backend($backend)" >/dev/null
wait "$hang_psql"
elapsed_ms=$((($(date +%s%N) - began) / 1000000))
if grep -qx 'state=57014' "$tmp" && grep -qx 'alive=1' "$tmp" && [ "$elapsed_ms" -lt 5000 ]; then
    t_pass "query cancel interrupts a busy parser at once (${elapsed_ms} ms) and the session goes on"
else
    t_fail "query cancel interrupts a busy parser at once and the session goes on" "$(cat "$tmp"; echo "elapsed ${elapsed_ms} ms")"
fi

start_hanging_session "$tmp"
helper=$(ps -o pid= --ppid "$backend" | tr -d ' ')
q -d rp_crash -c "SELECT pg_terminate_backend($backend, 5000)" >/dev/null
wait "$hang_psql" 2>/dev/null
gone=no
for _ in $(seq 50); do
    stat=$(ps -o stat= -p "${helper:-0}" 2>/dev/null | tr -d ' ')
    if [ -z "$stat" ] || [[ $stat == Z* ]]; then gone=yes; break; fi
    sleep 0.1
done
if [ -n "$helper" ] && [ "$gone" = yes ]; then
    t_pass "a terminated backend leaves no parser process behind"
else
    t_fail "a terminated backend leaves no parser process behind" "helper pid '${helper}' state '${stat:-}'"
fi
rm -f "$tmp"

# A parser killed while idle (OOM killer, an operator) is replaced quietly: the session's
# next document is read as if nothing happened.
coproc IDLE { psql -X -q -A -t -d rp_crash 2>&1; }
idle_proc=$IDLE_PID # bash unsets IDLE_PID as soon as the coprocess exits
echo "SELECT pg_backend_pid(), length(resume_pipeline.document_text('warm up'::bytea));" >&"${IDLE[1]}"
IFS='|' read -r -t 10 idle_backend _ <&"${IDLE[0]}"
idle_helper=$(ps -o pid= --ppid "${idle_backend:-0}" | tr -d ' ')
[ -n "$idle_helper" ] && kill -9 "$idle_helper"
sleep 0.2
echo "SELECT resume_pipeline.document_text('after the kill'::bytea);" >&"${IDLE[1]}"
read -r -t 10 idle_answer <&"${IDLE[0]}"
[ -n "$idle_helper" ] || idle_answer="no parser process found under backend ${idle_backend:-?}"
t_expect "a parser killed while idle is replaced without an error" "after the kill" "${idle_answer:-no answer}"
exec {IDLE[1]}>&-
wait "$idle_proc" 2>/dev/null
