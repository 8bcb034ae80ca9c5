# Job history (README "Job history"). Finished jobs are counted in job_counts as the workers
# finish them; job_overview, health() and metrics() say what the jobs table says, each user sees
# only their own counts, and the counts stay right after retention removes the jobs and after a
# server restart. Retention, run by the workers, removes exactly the done and failed jobs older
# than their settings, never a queued or running one, in batches, oldest first. metrics(),
# health() and job_overview read no finished job (table statistics, 50,000 of them present);
# their cost at 0, 1 and 10 million is bench/history.sh's.
HI_ALICE=aaaaaaaa-0000-4000-8000-0000000000a1
HI_BOB=bbbbbbbb-0000-4000-8000-0000000000b1

fresh_db rp_history
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_history'" -c "SELECT pg_reload_conf()" >/dev/null
q -d rp_history >/dev/null <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rp_hist_user') THEN
        CREATE ROLE rp_hist_user LOGIN IN ROLE resume_pipeline_user;
    END IF;
END $$;
SQL
# hi_as UUID — psql in rp_history as a signed-in user (PostgREST's claim), script on stdin.
hi_as() {
    PGOPTIONS="-c request.jwt.claims={\"sub\":\"$1\",\"role\":\"authenticated\"}" \
        psql -X -q -A -t -d rp_history -U rp_hist_user -v ON_ERROR_STOP=0 2>&1
}
hi_workers="SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_history'"
hi_idle="SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE state IN ('queued', 'running'))"
wait_for rp_history "$hi_workers" 30 || t_fail "history: two workers serve rp_history"

# Work for two users, done by the workers: Alice a ZIP of five résumés and three résumés, Bob two
# résumés and a damaged PDF (fails for good).
load_files rp_history samples build/samples/ada_whitfield.pdf build/fixtures/truncated.pdf build/fixtures/batch5.zip
q -d rp_history >/dev/null <<SQL
SELECT resume_pipeline.upload('resumes', 'a' || i || '.pdf', data, '{}', '$HI_ALICE')
  FROM samples, generate_series(1, 3) i WHERE name = 'ada_whitfield.pdf';
SELECT resume_pipeline.upload('resumes', 'batch5.zip', data, '{}', '$HI_ALICE') FROM samples WHERE name = 'batch5.zip';
SELECT resume_pipeline.upload('resumes', 'b' || i || '.pdf', data, '{}', '$HI_BOB')
  FROM samples, generate_series(1, 2) i WHERE name = 'ada_whitfield.pdf';
SELECT resume_pipeline.upload('resumes', 'broken.pdf', data, '{}', '$HI_BOB') FROM samples WHERE name = 'truncated.pdf';
SQL
wait_for rp_history "$hi_idle" 60 || t_fail "history: the workers finish the uploads"

# What the jobs table says, and what the counters say, for one user or everyone.
hi_table() {  # [user]
    q -d rp_history -c "SELECT coalesce(string_agg(kind || '/' || state || '=' || n, ' ' ORDER BY kind::text, state), '')
        FROM (SELECT kind, state, count(*) AS n FROM resume_pipeline.jobs
               WHERE state IN ('done', 'failed') AND (${1:+user_id = '$1' AND} true) GROUP BY 1, 2) s"
}
hi_overview_sql="SELECT 'overview=' || coalesce(string_agg(kind || '/' || state || '=' || jobs, ' ' ORDER BY kind::text, state), '')
                   FROM resume_pipeline.job_overview WHERE state IN ('done', 'failed');"
hi_overview() { q -d rp_history -c "$hi_overview_sql" | sed 's/^overview=//'; }
# done failed histogram-count from health() and metrics(), as the caller of the pipe's psql
hi_totals_sql="SELECT 'totals=' || (h ->> 'done') || ' ' || (h ->> 'failed') FROM resume_pipeline.health() h;
SELECT 'metrics=' || string_agg(l, ' ' ORDER BY l) FROM regexp_split_to_table(resume_pipeline.metrics(), E'\n') l
 WHERE l ~ '^resume_pipeline_(jobs_done_total|jobs_failed_total|job_duration_seconds_count|job_duration_seconds_bucket\{le=\"(0.1|1|60)\"\}) ';"

table_all=$(hi_table)
t_expect "history: the jobs finished as expected (Alice: zip and 8 résumés done; Bob: 2 done, 1 failed)" \
    "resume/done=10 resume/failed=1 zip/done=1" "$table_all"
t_expect "history: job_overview's done and failed counts are the jobs table's" "$table_all" "$(hi_overview)"
expected_metrics=$(q -d rp_history -c "
    SELECT 'resume_pipeline_job_duration_seconds_bucket{le=\"0.1\"} ' || count(*) FILTER (WHERE t <= 0.1)
        || ' resume_pipeline_job_duration_seconds_bucket{le=\"1\"} ' || count(*) FILTER (WHERE t <= 1)
        || ' resume_pipeline_job_duration_seconds_bucket{le=\"60\"} ' || count(*) FILTER (WHERE t <= 60)
        || ' resume_pipeline_job_duration_seconds_count ' || count(*)
        || ' resume_pipeline_jobs_done_total ' || count(*) FILTER (WHERE state = 'done')
        || ' resume_pipeline_jobs_failed_total ' || count(*) FILTER (WHERE state = 'failed')
      FROM (SELECT state, extract(epoch FROM finished_at - created_at) AS t FROM resume_pipeline.jobs
             WHERE state IN ('done', 'failed')) j")
totals_before=$(q -d rp_history -c "$hi_totals_sql")
t_expect "history: health() and metrics() (totals, histogram buckets and count) are the jobs table's" \
    "totals=11 1|metrics=$expected_metrics" "$(tr '\n' '|' <<<"$totals_before" | sed 's/|$//')"
t_expect "history: each worker counts in rows of its own (slot = its process id), no row shared" "t" \
    "$(q -d rp_history -c "SELECT bool_and(c.slot IN (SELECT pid FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker'))
                           FROM resume_pipeline.job_counts c")"

# Each user sees their own counts only, in job_overview, job_counts, health() and metrics().
for who in "$HI_ALICE" "$HI_BOB"; do
    name=$([ "$who" = "$HI_ALICE" ] && echo Alice || echo Bob)
    out=$(hi_as "$who" <<SQL
$hi_overview_sql
SELECT 'rows=' || count(*) FILTER (WHERE user_id <> '$who') || '/' || count(*) FROM resume_pipeline.job_counts;
$hi_totals_sql
SQL
    )
    mine=$(hi_table "$who")
    done_n=$(q -d rp_history -c "SELECT count(*) FROM resume_pipeline.jobs WHERE user_id = '$who' AND state = 'done'")
    failed_n=$(q -d rp_history -c "SELECT count(*) FROM resume_pipeline.jobs WHERE user_id = '$who' AND state = 'failed'")
    t_expect "history: $name sees only their own counts (job_overview, job_counts, health(), metrics())" \
        "overview=$mine|rows=0|totals=$done_n $failed_n|done_total $done_n, failed_total $failed_n" \
        "$(grep -o '^overview=.*' <<<"$out")|$(grep -o '^rows=0' <<<"$out")|$(grep -o '^totals=.*' <<<"$out")|$(
           sed -n 's/.*jobs_done_total \([0-9]*\) resume_pipeline_jobs_failed_total \([0-9]*\).*/done_total \1, failed_total \2/p' <<<"$out")"
done
out=$(hi_as "$HI_ALICE" <<'SQL'
SELECT resume_pipeline._remove_old_jobs();
SELECT resume_pipeline._fold_job_counts();
INSERT INTO resume_pipeline.job_counts VALUES ('aaaaaaaa-0000-4000-8000-0000000000a1', 'resume', 'done', 0, 1000, 0, '{}', now());
DELETE FROM resume_pipeline.job_counts;
SQL
)
t_expect "history: a user can neither run retention or folding nor write job_counts" "4" "$(grep -c 'permission denied' <<<"$out")"

# Retention, by the workers. Done jobs kept 1 h, failed 2 h; Bob's jobs aged 90 minutes (his done
# ones go, his failed one stays), a queued and a running job aged a year (and finished a year
# ago, as a job that failed and was queued again by hand would be) stay, and so does the rest.
q -d rp_history >/dev/null <<'SQL'
UPDATE resume_pipeline.jobs SET created_at = created_at - interval '90 min', finished_at = finished_at - interval '90 min'
 WHERE user_id = 'bbbbbbbb-0000-4000-8000-0000000000b1';
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, created_at, run_after, finished_at, payload)
VALUES ('bbbbbbbb-0000-4000-8000-0000000000b1', 'resume', gen_random_uuid(), 'queued', now() - interval '1 year',
        now() + interval '1 year', now() - interval '1 year', '{"fake": true}');
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, created_at, started_at, finished_at,
                                  lease_expires_at, claimed_by, claimed_at_boot, payload)
SELECT 'bbbbbbbb-0000-4000-8000-0000000000b1', 'resume', gen_random_uuid(), 'running', now() - interval '1 year',
       now() - interval '1 year', now() - interval '1 year', now() + interval '1 hour', pid, pg_postmaster_start_time(),
       '{"fake": true}'
  FROM pg_stat_activity WHERE backend_type = 'resume_pipeline worker' AND datname = 'rp_history' LIMIT 1;
SQL
expected_left=$(q -d rp_history -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM resume_pipeline.jobs
                                     WHERE NOT (user_id = '$HI_BOB' AND state = 'done')")
q -c "ALTER SYSTEM SET resume_pipeline.job_retention_done = '1h'" \
  -c "ALTER SYSTEM SET resume_pipeline.job_retention_failed = '2h'" -c "SELECT pg_reload_conf()" >/dev/null
if wait_for rp_history "SELECT NOT EXISTS (SELECT 1 FROM resume_pipeline.jobs WHERE user_id = '$HI_BOB' AND state = 'done')" 30; then
    t_pass "history: the workers remove done jobs older than job_retention_done"
else
    t_fail "history: the workers remove done jobs older than job_retention_done" \
        "$(q -d rp_history -c "SELECT task, last_run, last_error FROM resume_pipeline.housekeeping")"
fi
sleep 6  # another housekeeping round, which must remove nothing more
t_expect "history: retention left every other job: queued and running ones aged a year, a failed one younger than job_retention_failed, recent ones" \
    "$expected_left" "$(q -d rp_history -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM resume_pipeline.jobs")"
t_expect "history: after retention the counters still count the removed jobs (job_overview, health(), metrics())" \
    "$table_all|$totals_before" "$(hi_overview)|$(q -d rp_history -c "$hi_totals_sql")"
q -d rp_history -c "DELETE FROM resume_pipeline.jobs WHERE payload ? 'fake'" >/dev/null
q -c "ALTER SYSTEM RESET resume_pipeline.job_retention_done" \
  -c "ALTER SYSTEM RESET resume_pipeline.job_retention_failed" -c "SELECT pg_reload_conf()" >/dev/null

# After a restart: the same counts; the rows of sessions now gone fold into one per user, kind
# and state; new work adds to them.
# (The workers' own folding is put off meanwhile, so the rows are seen as the restart left them.)
q -d rp_history -c "UPDATE resume_pipeline.housekeeping SET last_run = now() + interval '1 hour' WHERE task = '_fold_job_counts'" >/dev/null
cluster_restart fast
wait_for rp_history "$hi_workers" 30 || t_fail "history: the workers are back after the restart"
t_expect "history: after a server restart the counters are unchanged (job_overview, health(), metrics())" \
    "$table_all|$totals_before" "$(hi_overview)|$(q -d rp_history -c "$hi_totals_sql")"
t_expect "history: before folding, every counter row is a gone session's (none has slot 0)" "0|0" \
    "$(q -d rp_history -c "SELECT count(*) FROM resume_pipeline.job_counts c WHERE c.slot = 0")|$(
       q -d rp_history -c "SELECT count(*) FROM resume_pipeline.job_counts c JOIN pg_stat_activity a ON a.pid = c.slot")"
q -d rp_history -c "SELECT resume_pipeline._fold_job_counts()" \
  -c "UPDATE resume_pipeline.housekeeping SET last_run = NULL WHERE task = '_fold_job_counts'" >/dev/null
t_expect "history: _fold_job_counts() folds them into one row per user, kind and state (4), same counts" \
    "4|4|$table_all|$totals_before" \
    "$(q -d rp_history -c "SELECT count(*) FROM resume_pipeline.job_counts")|$(
       q -d rp_history -c "SELECT count(*) FROM resume_pipeline.job_counts WHERE slot = 0")|$(hi_overview)|$(
       q -d rp_history -c "$hi_totals_sql")"
q -d rp_history -c "SELECT resume_pipeline.upload('resumes', 'after-restart.pdf', data, '{}', '$HI_ALICE') FROM samples WHERE name = 'ada_whitfield.pdf'" >/dev/null
wait_for rp_history "$hi_idle" 30
t_expect "history: a job finished after the restart is counted on top" \
    "$(sed 's/resume\/done=10/resume\/done=11/' <<<"$table_all")" "$(hi_overview)"

# Cost and batches, in a database no worker serves (nothing else touches its jobs): 50,000
# finished jobs (inserted finished, so not counted), 10 queued and 2 running.
fresh_db rp_history_cost
q -d rp_history_cost >/dev/null <<'SQL'
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, created_at, finished_at)
SELECT 'cccccccc-0000-4000-8000-0000000000c1', 'resume', gen_random_uuid(), CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'done' END::resume_pipeline.job_state,
       now() - interval '1 day', now() - interval '1 day' + interval '1 second'
  FROM generate_series(1, 50000) i;
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, run_after)
SELECT 'cccccccc-0000-4000-8000-0000000000c1', 'resume', gen_random_uuid(), 'queued', now() + interval '1 day' FROM generate_series(1, 10);
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, lease_expires_at)
SELECT 'cccccccc-0000-4000-8000-0000000000c1', 'resume', gen_random_uuid(), 'running', now() + interval '1 day' FROM generate_series(1, 2);
ANALYZE resume_pipeline.jobs;
SQL
hi_reads="SELECT seq_scan || ' ' || seq_tup_read || ' ' || coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relid = 'resume_pipeline.jobs'::regclass"
read -r seq0 seqtup0 idx0 <<<"$(q -d rp_history_cost -c "$hi_reads")"
hi_calls="SELECT length(resume_pipeline.metrics()) > 0, resume_pipeline.health() ->> 'queue_depth';
SELECT count(*) FROM resume_pipeline.job_overview;
SELECT pg_stat_force_next_flush();
SELECT 1;"
q -d rp_history_cost -c "$hi_calls" >/dev/null
PGOPTIONS="-c request.jwt.claims={\"sub\":\"cccccccc-0000-4000-8000-0000000000c1\",\"role\":\"authenticated\"}" \
    psql -X -q -A -t -d rp_history_cost -U rp_hist_user -v ON_ERROR_STOP=1 -c "$hi_calls" >/dev/null
read -r seq1 seqtup1 idx1 <<<"$(q -d rp_history_cost -c "$hi_reads")"
t_expect "history: metrics(), health() and job_overview, as the owner and as the user, read no finished job (no scan of jobs; rows fetched: the 12 live ones, a few times)" \
    "0 0 ok" "$((seq1 - seq0)) $((seqtup1 - seqtup0)) $([ $((idx1 - idx0)) -le 100 ] && echo ok || echo "$((idx1 - idx0)) rows")"

# Batches: 2,500 done jobs finished 8 days ago (the default keeps 7), 20 failed ones 31 days ago
# and 20 29 days ago (30 kept).
q -d rp_history_cost >/dev/null <<'SQL'
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, created_at, finished_at, payload)
SELECT 'cccccccc-0000-4000-8000-0000000000c1', 'resume', gen_random_uuid(), 'done',
       now() - interval '9 days', now() - interval '8 days' - i * interval '1 second', jsonb_build_object('old', i)
  FROM generate_series(1, 2500) i;
INSERT INTO resume_pipeline.jobs (user_id, kind, target_id, state, created_at, finished_at, payload)
SELECT 'cccccccc-0000-4000-8000-0000000000c1', 'resume', gen_random_uuid(), 'failed',
       now() - interval '40 days', now() - (29 + 2 * (i % 2)) * interval '1 day', jsonb_build_object('failed', i % 2)
  FROM generate_series(1, 40) i;
SQL
t_expect "history: one batch of 1,000 removes the 1,000 oldest done jobs and, beside them, the 20 failed ones past 30 days" \
    "1020|1500 1500|20" "$(q -d rp_history_cost -c "SELECT resume_pipeline._remove_old_jobs(1000, 1)")|$(
       q -d rp_history_cost -c "SELECT count(*) || ' ' || max((payload ->> 'old')::int) FROM resume_pipeline.jobs WHERE payload ? 'old'")|$(
       q -d rp_history_cost -c "SELECT count(*) FROM resume_pipeline.jobs WHERE payload ? 'failed'")"
t_expect "history: the next calls remove the remaining 1,500 in two batches, then nothing; the rest stays" \
    "1500|0|0|50012" "$(q -d rp_history_cost -c "SELECT resume_pipeline._remove_old_jobs()")|$(
       q -d rp_history_cost -c "SELECT resume_pipeline._remove_old_jobs()")|$(
       q -d rp_history_cost -c "SELECT count(*) FROM resume_pipeline.jobs WHERE payload ? 'old'")|$(
       q -d rp_history_cost -c "SELECT count(*) FROM resume_pipeline.jobs WHERE NOT payload ? 'failed'")"
q -c "ALTER SYSTEM SET resume_pipeline.job_retention_failed = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
q -d rp_history_cost -c "UPDATE resume_pipeline.jobs SET finished_at = now() - interval '10 years' WHERE payload ? 'failed'" >/dev/null
t_expect "history: job_retention_failed = 0 keeps failed jobs for ever" "0|20" \
    "$(q -d rp_history_cost -c "SELECT resume_pipeline._remove_old_jobs()")|$(
       q -d rp_history_cost -c "SELECT count(*) FROM resume_pipeline.jobs WHERE payload ? 'failed'")"
q -c "ALTER SYSTEM RESET resume_pipeline.job_retention_failed" -c "SELECT pg_reload_conf()" >/dev/null
