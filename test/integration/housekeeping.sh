# Housekeeping: the periodic tasks the workers run (resume_pipeline.housekeeping). A due
# task runs, one that fails keeps its message and stops no other, a task is not run again before
# its interval, and users can neither read nor add tasks.
fresh_db rp_hk
q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rp_hk_user') THEN
          CREATE ROLE rp_hk_user LOGIN IN ROLE resume_pipeline_user; END IF; END\$\$" >/dev/null
q -d rp_hk >/dev/null <<'SQL'
CREATE TABLE public.hk_runs (task text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION resume_pipeline._hk_test_ok() RETURNS void LANGUAGE sql
    AS $$ INSERT INTO public.hk_runs (task) VALUES ('ok') $$;
CREATE FUNCTION resume_pipeline._hk_test_fails() RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO public.hk_runs (task) VALUES ('fails'); RAISE EXCEPTION 'storage is down'; END $$;
INSERT INTO resume_pipeline.housekeeping (task, every) VALUES ('_hk_test_fails', '1 hour'), ('_hk_test_ok', '1 hour');
SQL
t_expect "housekeeping: the sweep is a task of a new database" "sweep_storage|01:00:00" \
    "$(q -d rp_hk -c "SELECT task || '|' || every FROM resume_pipeline.housekeeping WHERE task = 'sweep_storage'")"
# By the workers, pointed at this database.
q -c "ALTER SYSTEM SET resume_pipeline.database = 'rp_hk'" -c "ALTER SYSTEM SET resume_pipeline.workers = 1" \
  -c "SELECT pg_reload_conf()" >/dev/null
if wait_for rp_hk "SELECT bool_and(last_run IS NOT NULL) FROM resume_pipeline.housekeeping" 30; then
    t_pass "housekeeping: the workers run every due task"
else
    t_fail "housekeeping: the workers run every due task" "$(q -d rp_hk -c "TABLE resume_pipeline.housekeeping")"
fi
t_expect "housekeeping: a failing task keeps its message, its work rolled back, and stops no other" \
    "storage is down|ok" \
    "$(q -d rp_hk -c "SELECT (SELECT last_error FROM resume_pipeline.housekeeping WHERE task = '_hk_test_fails') || '|' ||
                             (SELECT string_agg(task, ',') FROM public.hk_runs)")"
t_expect "housekeeping: a task that succeeded has no error" "" \
    "$(q -d rp_hk -c "SELECT coalesce(last_error, '') FROM resume_pipeline.housekeeping WHERE task = '_hk_test_ok'")"
sleep 6
t_expect "housekeeping: a task is not run again before its interval" "1" \
    "$(q -d rp_hk -c "SELECT count(*) FROM public.hk_runs")"
q -c "ALTER SYSTEM RESET resume_pipeline.database" -c "ALTER SYSTEM RESET resume_pipeline.workers" \
  -c "SELECT pg_reload_conf()" >/dev/null
q -d rp_hk -c "UPDATE resume_pipeline.housekeeping SET last_run = CASE WHEN task = '_hk_test_ok' THEN now() - interval '2 hours'
                                                                    ELSE now() + interval '1 day' END" >/dev/null
t_expect "housekeeping: _housekeeping() by hand runs what is due and says how many" "1|2" \
    "$(q -d rp_hk -c "SELECT resume_pipeline._housekeeping()" -c "SELECT count(*) FROM public.hk_runs" | paste -sd'|')"
t_expect "housekeeping: users cannot read the tasks" "permission denied" \
    "$(psql -X -q -A -t -d rp_hk -U rp_hk_user -c "SELECT * FROM resume_pipeline.housekeeping" 2>&1 | grep -o 'permission denied' | head -1)"
t_expect "housekeeping: users cannot add a task" "permission denied" \
    "$(psql -X -q -A -t -d rp_hk -U rp_hk_user -c "INSERT INTO resume_pipeline.housekeeping VALUES ('pg_sleep', '1s')" 2>&1 | grep -o 'permission denied' | head -1)"
t_expect "housekeeping: users cannot run the tasks" "permission denied" \
    "$(psql -X -q -A -t -d rp_hk -U rp_hk_user -c "SELECT resume_pipeline._housekeeping()" 2>&1 | grep -o 'permission denied' | head -1)"
q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rp_hk WITH (FORCE)" >/dev/null
