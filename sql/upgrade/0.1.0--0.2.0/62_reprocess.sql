
------------------------------------------------------------------------------------------
-- Processing again: what the seed's Rust orchestrator did with POST /scrape/individual and
-- POST /scrape/batch, for the user of the request's JWT (current_user_id()). They run with the
-- pipeline's rights (they queue jobs) but act only on the caller's own rows: another user's id
-- is refused exactly like one that does not exist.
------------------------------------------------------------------------------------------

-- Reads one résumé again (its current version): text, parsed data and status are replaced when
-- the job ends; status goes back to pending now (announced like every status change). A job
-- already queued for it is not queued twice. Returns the résumé's status after the call.
-- Errors: 42501 without a signed-in user, P0002 for a résumé that is not the caller's, 54000
-- past resume_pipeline.max_user_queued_jobs.
CREATE FUNCTION reprocess_resume(resume_id uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := @extschema@.current_user_id();
    r @extschema@.resumes;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'reprocess_resume needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO r FROM @extschema@.resumes x WHERE x.id = reprocess_resume.resume_id AND x.user_id = uid FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'résumé % does not exist', reprocess_resume.resume_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM @extschema@._enqueue('resume', r.id, uid);
    IF r.status IN ('completed', 'failed') THEN
        UPDATE @extschema@.resumes SET status = 'pending', error = NULL, updated_at = now() WHERE id = r.id;
        RETURN 'pending';
    END IF;
    RETURN r.status::text;
END
$$;

-- Processes a ZIP batch again: every résumé that came from it is read again, and an archive
-- that was never expanded (its expansion failed: metadata has no "expanded") is expanded again. Returns how many résumés were queued. Errors as
-- reprocess_resume; P0002 also for a file that is not a ZIP the caller uploaded.
CREATE FUNCTION reprocess_batch(zip_file_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := @extschema@.current_user_id();
    z @extschema@.files;
    r record;
    n integer := 0;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'reprocess_batch needs a signed-in user' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO z FROM @extschema@.files f
     WHERE f.id = reprocess_batch.zip_file_id AND f.user_id = uid AND f.mime_type = 'application/zip';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ZIP batch % does not exist', reprocess_batch.zip_file_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT z.metadata ? 'expanded' THEN
        PERFORM @extschema@._enqueue('zip', z.id, uid);
    END IF;
    FOR r IN SELECT x.id FROM @extschema@.resumes x WHERE x.zip_id = z.id AND x.user_id = uid ORDER BY x.created_at, x.id LOOP
        PERFORM @extschema@.reprocess_resume(r.id);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

GRANT EXECUTE ON FUNCTION reprocess_resume(uuid), reprocess_batch(uuid) TO resume_pipeline_user;
