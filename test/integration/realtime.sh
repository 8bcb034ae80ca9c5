# What the applicants trigger announces on the user's notification channel, checked against the rows
# themselves: the announced status is the generated column's, every sub-status change is in
# "changed" and nothing else is, a rolled-back write announces nothing. Also: a CV named on
# an existing applicant queues its job, and a second job for the same CV is a no-op.
fresh_db rp_realtime
load_files rp_realtime samples build/samples/priya_raghunathan.docx

# The user's own channel (the owner may ask for anyone's).
channel=$(q -d rp_realtime -c "SELECT resume_pipeline.notification_channel('aaaaaaaa-0000-4000-8000-00000000000a')")
# listen_to SQL — runs SQL in a session that LISTENs, prints one payload per line.
listen_to() {
    { echo "LISTEN $channel;"; cat; echo "SELECT 'end';"; } |
        psql -X -q -A -t -d rp_realtime 2>&1 |
        sed -n "s/^Asynchronous notification \"$channel\" with payload \"\(.*\)\" received from server process.*/\1/p"
}
# heard PAYLOADS SQL — the payloads as table heard(n, p jsonb), then SQL's one-line answer.
heard() {
    awk '{ printf "%d\t%s\n", NR, $0 }' <<<"$1" |
        q -d rp_realtime -c "CREATE TEMP TABLE heard (n int, p jsonb)" -c "\copy heard FROM pstdin" -c "$2"
}

# Every combination of sub-statuses, inserted at once.
payloads=$(listen_to <<'SQL'
INSERT INTO resume_pipeline.applicants (user_id, cv_status, li_status, gh_status, ai_status)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', cv, li, 'not_provided', ai
  FROM unnest(enum_range(NULL::resume_pipeline.processing_status)) cv,
       unnest(enum_range(NULL::resume_pipeline.processing_status)) li,
       unnest(enum_range(NULL::resume_pipeline.processing_status)) ai;
SQL
)
t_expect "INSERT: one notification per applicant, each saying what the row holds" "125 125 125" "$(heard "$payloads" "
    SELECT count(*) || ' ' ||
           count(*) FILTER (WHERE h.p ->> 'table' = 'applicants' AND h.p ->> 'new' = a.status::text
                              AND h.p ? 'old' AND h.p ->> 'old' IS NULL AND NOT h.p ? 'user_id') || ' ' ||
           count(*) FILTER (WHERE h.p -> 'changed' = jsonb_build_object(
                                   'cv_status', jsonb_build_object('old', NULL, 'new', a.cv_status),
                                   'li_status', jsonb_build_object('old', NULL, 'new', a.li_status),
                                   'gh_status', jsonb_build_object('old', NULL, 'new', a.gh_status),
                                   'ai_status', jsonb_build_object('old', NULL, 'new', a.ai_status)))
      FROM heard h JOIN resume_pipeline.applicants a ON a.id = (h.p ->> 'id')::uuid")"

# Updates: only what changed is in "changed"; old and new are the generated status before and
# after; an update that changes no status says nothing; a rollback says nothing.
payloads=$(listen_to <<'SQL'
UPDATE resume_pipeline.applicants SET ai_status = 'ready'
 WHERE cv_status = 'pending' AND li_status = 'pending' AND ai_status = 'pending';
UPDATE resume_pipeline.applicants SET cv_status = 'error', li_status = 'ready'
 WHERE cv_status = 'processing' AND li_status = 'pending' AND ai_status = 'not_provided';
UPDATE resume_pipeline.applicants SET name = 'Renamed' WHERE cv_status = 'ready';
BEGIN;
UPDATE resume_pipeline.applicants SET ai_status = 'error';
ROLLBACK;
SQL
)
t_expect "UPDATE: the changed sub-statuses only, with the overall status before and after" \
    '1|uploading|completed|{"ai_status": {"new": "ready", "old": "pending"}};2|processing|failed|{"cv_status": {"new": "error", "old": "processing"}, "li_status": {"new": "ready", "old": "pending"}}' \
    "$(heard "$payloads" "SELECT string_agg(n || '|' || (p ->> 'old') || '|' || (p ->> 'new') || '|' || (p -> 'changed')::text, ';' ORDER BY n) FROM heard")"
t_expect "UPDATE: the announced status is the row's" "t" "$(heard "$payloads" "
    SELECT bool_and(a.status::text = h.p ->> 'new') FROM heard h JOIN resume_pipeline.applicants a ON a.id = (h.p ->> 'id')::uuid")"

# A CV named on an existing applicant: pending, one job; naming it pending again queues a
# second job, which finds nothing left to do once the first has run.
q -d rp_realtime >/dev/null <<'SQL'
SELECT resume_pipeline.upload('resumes', 'cv.docx', data, '{}', 'aaaaaaaa-0000-4000-8000-00000000000a')
  FROM samples;
SELECT resume_pipeline.process_pending();
DELETE FROM resume_pipeline.applicants;
INSERT INTO resume_pipeline.applicants (id, user_id) VALUES
    ('cccccccc-0000-4000-8000-00000000000c', 'aaaaaaaa-0000-4000-8000-00000000000a');
UPDATE resume_pipeline.applicants SET cv_file_id = (SELECT id FROM resume_pipeline.files WHERE name LIKE '%cv.docx');
SQL
t_expect "UPDATE naming a CV: pending, with one cv job queued" "pending 1" "$(q -d rp_realtime -c "
    SELECT a.cv_status || ' ' || (SELECT count(*) FROM resume_pipeline.jobs j WHERE j.kind = 'cv' AND j.target_id = a.id AND j.state = 'queued')
      FROM resume_pipeline.applicants a")"
q -d rp_realtime >/dev/null <<'SQL'
UPDATE resume_pipeline.applicants SET cv_status = 'not_provided';
UPDATE resume_pipeline.applicants SET cv_status = 'pending';
SELECT resume_pipeline.process_pending();
SQL
t_expect "a second job for the same CV: both jobs done, the applicant ready with its parsed name" "ready Priya Raghunathan done,done" "$(q -d rp_realtime -c "
    SELECT a.cv_status || ' ' || a.name || ' ' ||
           (SELECT string_agg(j.state::text, ',') FROM resume_pipeline.jobs j WHERE j.kind = 'cv' AND j.target_id = a.id)
      FROM resume_pipeline.applicants a")"
t_expect "job ids carry their creation time (UUID version 7 layout)" "t" "$(q -d rp_realtime -c "
    SELECT bool_and(substr(id::text, 15, 1) = '7'
                    AND abs(extract(epoch FROM created_at) * 1000
                            - ('x' || lpad(replace(left(id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint) < 1000)
      FROM resume_pipeline.jobs")"

# In one session: the trigger has run, then the table changes under it (phone dropped and
# added again moves to a new column number) and a user's row trigger appears on jobs.
out=$(q -d rp_realtime 2>&1 <<'SQL'
INSERT INTO resume_pipeline.applicants (user_id, cv_data)
VALUES ('aaaaaaaa-0000-4000-8000-00000000000a', '{"basics": {"phone": "+1 555 0101"}}');
ALTER TABLE resume_pipeline.applicants DROP COLUMN phone;
ALTER TABLE resume_pipeline.applicants ADD COLUMN phone text;
CREATE TABLE queued_log (job_id uuid, kind text);
CREATE FUNCTION log_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO queued_log VALUES (NEW.id, NEW.kind); RETURN NEW; END $$;
CREATE TRIGGER log_job AFTER INSERT ON resume_pipeline.jobs FOR EACH ROW EXECUTE FUNCTION log_job();
INSERT INTO resume_pipeline.applicants (user_id, cv_file_id, cv_data)
SELECT 'aaaaaaaa-0000-4000-8000-00000000000a', id, '{"basics": {"phone": "+1 555 0102"}}'
  FROM resume_pipeline.files WHERE name LIKE '%cv.docx'
RETURNING phone, cv_status, (SELECT count(*) FROM queued_log);
SELECT count(*) FROM queued_log l JOIN resume_pipeline.jobs j ON j.id = l.job_id WHERE l.kind = 'cv';
SQL
)
t_expect "after ALTER TABLE moves a column, the trigger follows it; row triggers on jobs fire" \
    "+1 555 0102|pending|0"$'\n'"1" "$out"
