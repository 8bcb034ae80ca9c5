
------------------------------------------------------------------------------------------
-- Housekeeping: periodic work the workers do for their database. Each task is a row naming a
-- function of this schema (no argument) and how often it runs; every worker calls
-- _housekeeping() every few seconds, which runs the tasks whose time has come, each in its own
-- subtransaction, so one that fails (it is logged and kept in last_error) stops no other.
-- Areas add their task next to their function (INSERT INTO housekeeping …). Without workers,
-- run SELECT resume_pipeline._housekeeping() from cron as the pipeline's owner.
------------------------------------------------------------------------------------------

CREATE TABLE housekeeping (
    task       text PRIMARY KEY,      -- a function of this schema taking no argument
    every      interval NOT NULL CHECK (every > interval '0'),
    last_run   timestamptz,
    last_error text
);
COMMENT ON TABLE housekeeping IS 'Periodic tasks the workers run (see _housekeeping()).';

-- Runs every task whose interval has passed since its last run (a task being run by another
-- session is skipped); returns how many ran.
CREATE FUNCTION _housekeeping() RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n integer := 0;
BEGIN
    FOR t IN SELECT h.task FROM @extschema@.housekeeping h
              WHERE h.last_run IS NULL OR h.last_run + h.every <= clock_timestamp()
              ORDER BY h.task
                FOR UPDATE SKIP LOCKED LOOP
        BEGIN
            EXECUTE format('SELECT @extschema@.%I()', t.task);
            UPDATE @extschema@.housekeeping SET last_run = clock_timestamp(), last_error = NULL
             WHERE task = t.task;
        EXCEPTION WHEN OTHERS THEN
            UPDATE @extschema@.housekeeping SET last_run = clock_timestamp(), last_error = SQLERRM
             WHERE task = t.task;
            RAISE WARNING 'resume_pipeline housekeeping task %: %', t.task, SQLERRM;
        END;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
