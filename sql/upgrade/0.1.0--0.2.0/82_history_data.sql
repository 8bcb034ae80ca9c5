
-- Jobs that finished under 0.1.0 are counted here, once; the trigger counts those that finish
-- from now on.
SELECT _count_jobs_finished_before();
