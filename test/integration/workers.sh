# The pipeline runs by itself: background workers (library preloaded) pick up work committed
# by any transaction, retry transient failures, survive a killed worker and an immediate
# shutdown without losing or doubling work, and announce status changes with NOTIFY.
fresh_db rp_workers
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_workers'" \
  -c "ALTER SYSTEM SET resume_pipeline.retry_base_delay = '20ms'" -c "SELECT pg_reload_conf()" >/dev/null
load_files rp_workers samples build/samples/priya_raghunathan.docx build/fixtures/batch5.zip build/fixtures/truncated.pdf
q -d rp_workers >/dev/null <<'SQL'
SELECT resume_pipeline.upload('resumes', 'cv.docx', data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a')
  FROM samples WHERE name = 'priya_raghunathan.docx';
SELECT resume_pipeline.upload('resumes', 'broken.pdf', data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a')
  FROM samples WHERE name = 'truncated.pdf';
SQL

if wait_for rp_workers "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_workers'" 30; then
    t_pass "workers follow resume_pipeline.database after a reload"
else
    t_fail "workers follow resume_pipeline.database after a reload" "$(q -c "SELECT backend_type, datname FROM pg_stat_activity")"
fi
# Let the workers finish the two uploads (the broken one fails for good).
wait_for rp_workers "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 30

# 200 applicants in one transaction, no process_pending anywhere.
q -d rp_workers >/dev/null <<'SQL'
BEGIN;
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', f.id FROM resume_pipeline.files f, generate_series(1, 200)
 WHERE f.name LIKE '%cv.docx';
COMMIT;
SQL
if wait_for rp_workers "SELECT count(*) FILTER (WHERE cv_status = 'ready') = 200 FROM resume_pipeline.applicants" 120; then
    t_pass "200 applicants inserted in one transaction all reach ready through the workers"
else
    t_fail "200 applicants inserted in one transaction all reach ready through the workers" \
        "$(q -d rp_workers -c "SELECT cv_status, count(*) FROM resume_pipeline.applicants GROUP BY 1")"
fi
jobs_before=$(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.jobs")
q -d rp_workers >/dev/null <<'SQL'
BEGIN;
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', f.id FROM resume_pipeline.files f, generate_series(1, 200)
 WHERE f.name LIKE '%cv.docx';
ROLLBACK;
SQL
sleep 0.5
t_expect "the same 200 applicants rolled back leave no job" "$jobs_before" "$(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.jobs")"

# One worker runs max_concurrent_tasks jobs at once: their documents are parsed in as many
# parser processes, side by side.
q -c "ALTER SYSTEM SET resume_pipeline.workers = 1" -c "ALTER SYSTEM SET resume_pipeline.max_concurrent_tasks = 4" \
  -c "SELECT pg_reload_conf()" >/dev/null
wait_for rp_workers "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_workers'" 30
sleep 0.5  # the surviving worker rereads its configuration when it next wakes
q -d rp_workers -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id, li_data)
    SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id, '{\"batch\": \"concurrent\"}' FROM resume_pipeline.files f, generate_series(1, 12)
     WHERE f.name LIKE '%cv.docx'" >/dev/null
wait_for rp_workers "SELECT count(*) = 12 FROM resume_pipeline.applicants WHERE li_data ->> 'batch' = 'concurrent' AND cv_status = 'ready'" 60
worker_pid=$(q -d rp_workers -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_workers'")
parsers=$(ps -o comm= --ppid "${worker_pid:-0}" | grep -c resume_pipeline || true)
t_expect "one worker with max_concurrent_tasks = 4 parses in 4 processes at once, all 12 ready" "4 12" \
    "$parsers $(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.applicants WHERE li_data ->> 'batch' = 'concurrent' AND cv_status = 'ready'")"
q -c "ALTER SYSTEM RESET resume_pipeline.workers" -c "ALTER SYSTEM RESET resume_pipeline.max_concurrent_tasks" \
  -c "SELECT pg_reload_conf()" >/dev/null
wait_for rp_workers "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_workers'" 30

# A step failing transiently twice succeeds on its third attempt; a bad document fails once.
q -d rp_workers >/dev/null <<'SQL'
BEGIN;
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id, name)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id, 'flaky' FROM resume_pipeline.files WHERE name LIKE '%cv.docx';
UPDATE resume_pipeline.jobs SET payload = '{"debug_fail_times": 2}'
 WHERE target_id = (SELECT id FROM resume_pipeline.applicants WHERE name = 'flaky');
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id, name)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id, 'broken' FROM resume_pipeline.files WHERE name LIKE '%broken.pdf';
COMMIT;
SQL
wait_for rp_workers "SELECT count(*) = 2 FROM resume_pipeline.applicants WHERE cv_status IN ('ready', 'error') AND cv_error IS DISTINCT FROM 'x' AND (name IN ('flaky', 'broken') OR cv_data #>> '{basics,name}' IS NOT NULL) AND id IN (SELECT target_id FROM resume_pipeline.jobs WHERE payload ? 'debug_fail_times' OR last_error LIKE 'PDF%')" 30
t_expect "a step failing transiently twice succeeds on attempt 3" "ready|done|3" \
    "$(q -d rp_workers -c "SELECT a.cv_status || '|' || j.state || '|' || j.attempts FROM resume_pipeline.applicants a JOIN resume_pipeline.jobs j ON j.target_id = a.id WHERE j.payload ? 'debug_fail_times'")"
t_expect "a permanent failure (damaged PDF) fails at once, with its reason" "error|failed|1|PDF is damaged or truncated and cannot be read" \
    "$(q -d rp_workers -c "SELECT a.cv_status || '|' || j.state || '|' || j.attempts || '|' || a.cv_error FROM resume_pipeline.applicants a JOIN resume_pipeline.jobs j ON j.target_id = a.id WHERE a.cv_file_id = (SELECT id FROM resume_pipeline.files WHERE name LIKE '%broken.pdf') AND j.kind = 'cv'")"

# LISTEN follows one applicant's statuses in order.
coproc LISTENER { psql -X -q -A -t -d rp_workers 2>&1; }
listener_proc=$LISTENER_PID
exec {listen_out}<&"${LISTENER[0]}"  # bash closes the coprocess's own fds when it exits
channel=$(q -d rp_workers -c "SELECT resume_pipeline.notification_channel('aaaaaaaa-0000-4000-8000-00000000000a')")
echo "LISTEN $channel;" >&"${LISTENER[1]}"
sleep 0.2
new_id=$(q -d rp_workers -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id)
    SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id FROM resume_pipeline.files WHERE name LIKE '%cv.docx' RETURNING id" | head -1)
wait_for rp_workers "SELECT cv_status = 'ready' FROM resume_pipeline.applicants WHERE id = '$new_id'" 30
# psql prints notifications after the next command's result; then end its input and read all.
echo "SELECT 'listened';" >&"${LISTENER[1]}"
exec {LISTENER[1]}>&-
notes=
while IFS= read -r -t 10 line <&"$listen_out"; do notes+="$line"$'\n'; done
exec {listen_out}<&-
wait "$listener_proc" 2>/dev/null
# One notification per change: {"table", "id", "old", "new", "changed": {"cv_status": …}}.
sequence=$(sed -n "s/^Asynchronous notification \"$channel\" with payload \"\(.*\)\" received from server process.*/\1/p" <<<"$notes" |
    awk '{ printf "%d\t%s\n", NR, $0 }' |
    q -d rp_workers -c "CREATE TEMP TABLE heard (n int, payload text)" -c "\copy heard FROM pstdin" \
        -c "SELECT string_agg(payload::jsonb #>> '{changed,cv_status,new}', ',' ORDER BY n) FROM heard
             WHERE payload::jsonb ->> 'id' = '$new_id' AND payload::jsonb #> '{changed,cv_status}' IS NOT NULL")
t_expect "LISTEN on the user's channel receives one applicant's cv_status changes in order" "pending,processing,ready" "$sequence"

# health() and metrics() agree with the jobs table.
wait_for rp_workers "SELECT count(*) = 0 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running')" 30
t_expect "health() counts match the jobs table and sees both workers" "t" "$(q -d rp_workers -c "
    SELECT h ->> 'done' = (SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'done')::text
       AND h ->> 'failed' = (SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'failed')::text
       AND h ->> 'queue_depth' = '0' AND h ->> 'workers_alive' = '2'
       AND h #>> '{storage,circuit,state}' = 'closed'
      FROM resume_pipeline.health() h")"
metrics=$(q -d rp_workers -c "SELECT resume_pipeline.metrics()")
done_jobs=$(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.jobs WHERE state = 'done'")
final_jobs=$(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.jobs WHERE state IN ('done', 'failed')")
t_expect "metrics() reports the jobs table in the Prometheus text format" "$done_jobs $final_jobs ok" \
    "$(sed -n 's/^resume_pipeline_jobs_done_total //p' <<<"$metrics") $(sed -n 's/^resume_pipeline_job_duration_seconds_count //p' <<<"$metrics") $(
       grep -q '^resume_pipeline_storage_read_seconds{quantile="0.5"} [0-9.]*$' <<<"$metrics" &&
       grep -q '^# TYPE resume_pipeline_job_duration_seconds histogram$' <<<"$metrics" && echo ok)"

# The storage circuit: reads fail (the storage root points at an unreadable directory), the circuit
# opens after the threshold and jobs wait instead of burning attempts; once storage is back a
# trial call closes it and everything completes.
empty_root=$(mktemp -d)
chmod 755 "$empty_root"
[ "$(id -u)" = 0 ] && chown postgres "$empty_root"
upload_batches() {
    q -d rp_workers -c "SELECT count(resume_pipeline.upload('resumes', '$1-' || i || '.zip', data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a'))
        FROM samples, generate_series(1, $2) i WHERE name = 'batch5.zip'" >/dev/null
}
q -c "ALTER SYSTEM SET resume_pipeline.circuit_failure_threshold = 3" -c "ALTER SYSTEM SET resume_pipeline.circuit_open_ms = 1500" \
  -c "ALTER SYSTEM SET resume_pipeline.max_attempts = 8" -c "SELECT pg_reload_conf()" >/dev/null
# An unreadable root: every read fails with a storage error (a missing object, by contrast, is
# that document's own permanent failure and does not touch the circuit).
chmod 000 "$empty_root"
q -d rp_workers -c "ALTER SYSTEM SET resume_pipeline.storage_root = '$empty_root'" -c "SELECT pg_reload_conf()" \
  -c "SELECT pg_sleep(0.3)" >/dev/null
# Queue work whose objects are in the real root: the workers now look in the empty one.
q -d rp_workers -c "INSERT INTO resume_pipeline.applicants (user_id, cv_file_id, li_data)
    SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id, '{\"batch\": \"circuit\"}' FROM resume_pipeline.files f, generate_series(1, 10)
     WHERE f.name LIKE '%cv.docx'" >/dev/null
if wait_for rp_workers "SELECT resume_pipeline.health() #>> '{storage,circuit,state}' IN ('open', 'half_open')" 30; then
    waiting=$(q -d rp_workers -c "SELECT count(*) FILTER (WHERE j.state = 'queued') || ' ' || max(j.attempts)
        FROM resume_pipeline.jobs j JOIN resume_pipeline.applicants a ON a.id = j.target_id WHERE a.li_data ->> 'batch' = 'circuit'")
    read -r queued max_attempts <<<"$waiting"
    if [ "$queued" -gt 0 ] && [ "$max_attempts" -lt 8 ]; then
        t_pass "the storage circuit opens after 3 failures and jobs wait ($queued queued, at most $max_attempts attempts)"
    else
        t_fail "the storage circuit opens after 3 failures and jobs wait" "$waiting"
    fi
else
    t_fail "the storage circuit opens after 3 failures" "$(q -d rp_workers -c "SELECT resume_pipeline.health() -> 'storage'")"
fi
q -d rp_workers -c "ALTER SYSTEM RESET resume_pipeline.storage_root" -c "SELECT pg_reload_conf()" >/dev/null
if wait_for rp_workers "SELECT count(*) = 10 FROM resume_pipeline.applicants WHERE li_data ->> 'batch' = 'circuit' AND cv_status = 'ready'" 60 &&
   wait_for rp_workers "SELECT resume_pipeline.health() #>> '{storage,circuit,state}' = 'closed'" 10; then
    t_pass "after a good trial the circuit closes and every waiting job completes"
else
    t_fail "after a good trial the circuit closes and every waiting job completes" \
        "$(q -d rp_workers -c "SELECT resume_pipeline.health() -> 'storage'" -c "SELECT cv_status, count(*) FROM resume_pipeline.applicants WHERE li_data ->> 'batch' = 'circuit' GROUP BY 1")"
fi
q -c "ALTER SYSTEM RESET resume_pipeline.circuit_failure_threshold" -c "ALTER SYSTEM RESET resume_pipeline.circuit_open_ms" \
  -c "ALTER SYSTEM RESET resume_pipeline.max_attempts" -c "SELECT pg_reload_conf()" >/dev/null
rm -rf "$empty_root"

# kill -9 a worker in the middle of a batch: the server recovers, and every résumé of the
# batch ends completed exactly once.
check_batches() {  # prefix count label
    local want=$(($2 * 5))
    if wait_for rp_workers "SELECT count(*) = $want AND bool_and(status = 'completed') FROM resume_pipeline.resumes WHERE object_name LIKE '%/$1-%'" 120; then
        local dup
        dup=$(q -d rp_workers -c "SELECT count(*) FROM (SELECT file_id FROM resume_pipeline.resumes GROUP BY file_id HAVING count(*) > 1) d")
        local extra
        extra=$(q -d rp_workers -c "SELECT count(*) FROM resume_pipeline.resume_versions")
        t_expect "$3: all $want résumés completed once (duplicate rows, extra versions)" "0 0" "$dup $extra"
    else
        t_fail "$3: all $want résumés completed once" "$(q -d rp_workers -c "SELECT status, count(*) FROM resume_pipeline.resumes WHERE object_name LIKE '%/$1-%' GROUP BY 1")"
    fi
}
upload_batches killed 20
victim=$(q -d rp_workers -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' LIMIT 1")
sleep 0.05
[ -n "$victim" ] && kill -9 "$victim"
wait_for postgres "SELECT true" 60 >/dev/null
check_batches killed 20 "kill -9 of a worker mid-batch"

upload_batches immediate 20
cluster_restart immediate
check_batches immediate 20 "pg_ctl stop -m immediate mid-batch, then start"

q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "ALTER SYSTEM RESET resume_pipeline.retry_base_delay" \
  -c "SELECT pg_reload_conf()" >/dev/null
