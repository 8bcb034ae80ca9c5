
------------------------------------------------------------------------------------------
-- Queue and triggers: registering an object creates its résumé row and its job in the same
-- transaction, so no row ever exists without its lineage and nothing is lost on rollback.
------------------------------------------------------------------------------------------

-- Queues a document's step (resume, zip) unless one is already queued for the same target (it
-- will read the newest object when it starts; a running one may have read an older one). CV
-- jobs are queued by the applicants trigger. Not a unique index: restoring
-- a dump may replay a trigger's job next to the dumped one, and steps are idempotent anyway.
CREATE FUNCTION _enqueue(kind job_kind, target_id uuid, user_id uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE  -- plpgsql, not SQL: its plan is cached, this runs in every trigger
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    max_queued int := current_setting('resume_pipeline.max_user_queued_jobs')::int;
BEGIN
    IF EXISTS (SELECT 1 FROM @extschema@.jobs j
                WHERE j.kind = _enqueue.kind AND j.target_id = _enqueue.target_id
                  AND j.kind <> 'cv'  -- what jobs_target_idx covers (documents only)
                  AND j.state = 'queued') THEN
        RETURN;
    END IF;
    -- A user's backlog is bounded (resume_pipeline.max_user_queued_jobs).
    IF (SELECT count(*) FROM (SELECT 1 FROM @extschema@.jobs j
                               WHERE j.user_id = _enqueue.user_id AND j.state = 'queued'
                               LIMIT max_queued) q) >= max_queued THEN
        RAISE EXCEPTION 'queue quota exceeded: the user already has % queued jobs', max_queued
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Wait for the queue to drain, or raise resume_pipeline.max_user_queued_jobs.';
    END IF;
    INSERT INTO @extschema@.jobs (kind, target_id, user_id, fair_at)
    VALUES (_enqueue.kind, _enqueue.target_id, _enqueue.user_id, @extschema@._fair_at(_enqueue.user_id));
END
$$;

-- The types read as résumés: PDF, Word (DOCX and 97–2003 DOC), OpenDocument text, RTF, and images
-- (read by OCR).
CREATE FUNCTION _is_resume_type(mime_type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN mime_type IN ('application/pdf',
                     'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                     'application/vnd.oasis.opendocument.text', 'application/msword', 'application/rtf',
                     'image/png', 'image/jpeg', 'image/tiff');

-- True when a row version with this xmin was written by the current transaction or one of
-- its subtransactions.
CREATE FUNCTION _written_by_this_transaction(xmin xid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_written_by_this_transaction'
    LANGUAGE C STRICT STABLE;

-- Registers a stored object: a résumé document (PDF, Word, ODT, RTF, image) becomes a résumé (a new version when its content
-- changed, earlier versions beyond the bucket's keep_versions removed), a ZIP is queued for expansion. zip_id comes from the metadata and must name a file
-- of the same user. upload() and the Supabase storage.objects trigger call it in the
-- uploader's transaction, as the pipeline's owner. (It is not a trigger on files itself, so that restoring a dump,
-- which reloads files and resumes side by side, does not create résumés a second time.)
CREATE FUNCTION _register_document(file_id uuid, previous_checksum text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    f files;
    zip uuid;
    resume resumes;
BEGIN
    SELECT * INTO STRICT f FROM files WHERE id = file_id;
    -- Only upload() and the storage hook call this (EXECUTE is not granted), and only for a
    -- files row their own transaction just wrote: never another user's résumés. (xmin is read
    -- apart: a row variable holds it only while the scan returns the table's own tuple.)
    IF NOT _written_by_this_transaction((SELECT w.xmin FROM files w WHERE w.id = file_id)) THEN
        RAISE EXCEPTION 'a file can be registered only by the transaction that wrote it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF previous_checksum IS NOT NULL AND f.checksum IS NOT DISTINCT FROM previous_checksum THEN
        RETURN;  -- the same bytes again: nothing to redo
    END IF;
    IF _is_resume_type(f.mime_type) THEN
        IF f.metadata ? 'zip_id' THEN
            SELECT id INTO zip FROM files
             WHERE id = CASE WHEN f.metadata ->> 'zip_id' ~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
                             THEN (f.metadata ->> 'zip_id')::uuid END
               AND user_id = f.user_id;
            IF zip IS NULL THEN
                RAISE EXCEPTION 'metadata zip_id "%" does not name a file of this user', f.metadata ->> 'zip_id'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
        END IF;
        SELECT * INTO resume FROM resumes r WHERE r.file_id = f.id FOR UPDATE;
        IF FOUND THEN
            -- The version replaced, with the files row that keeps its bytes (upload() made it
            -- just now, unless the bucket keeps one version only or the row came from
            -- storage.objects); then the bucket's keep_versions (32_bucket_rules.sql).
            INSERT INTO resume_versions (user_id, resume_id, version, checksum, raw_text, parsed, file_id)
            VALUES (resume.user_id, resume.id, resume.version, previous_checksum, resume.raw_text, resume.parsed,
                    (SELECT v.id FROM files v WHERE v.version_of = f.id AND v.version = f.version - 1));
            PERFORM _prune_resume_versions(resume.id, (bucket_rule(f.bucket)).keep_versions - 1);
            UPDATE resumes SET version = version + 1, status = 'pending', raw_text = NULL, parsed = NULL,
                               text_source = NULL, llm_usage = NULL,
                               error = NULL, mime_type = f.mime_type, zip_id = coalesce(zip, resumes.zip_id),
                               updated_at = now()
             WHERE id = resume.id;
        ELSE
            INSERT INTO resumes (user_id, file_id, bucket, object_name, original_filename, mime_type, zip_id)
            VALUES (f.user_id, f.id, f.bucket, f.name, regexp_replace(f.name, '^.*/', ''), f.mime_type, zip)
            RETURNING * INTO resume;
        END IF;
        PERFORM _enqueue('resume', resume.id, f.user_id);
    ELSIF f.mime_type = 'application/zip' THEN
        PERFORM _enqueue('zip', f.id, f.user_id);
    END IF;
END
$$;

-- applicants BEFORE INSERT / UPDATE, the one trigger of the table. It runs on every applicant
-- write, so it is C (src/pg/applicant_trigger.c):
--  * name, email and phone follow cv_data; a CV file given without a status is pending;
--  * a pending CV queues its step in jobs (this replaces the seeds' pg_net.http_post to an
--    external worker) and wakes the workers at commit; if the write then fails, the job goes
--    with it;
--  * status changes are announced on the user's own channel (see notification_channel),
--    delivered at commit: {"table", "id", "old", "new", "changed": {"cv_status": {"old", "new"}, ...}}
CREATE FUNCTION _applicant_write() RETURNS trigger
    AS 'MODULE_PATHNAME', 'rp_applicant_write' LANGUAGE C;
-- It writes jobs without the caller's privileges on it: nobody else may attach it to a table
-- (EXECUTE, which CREATE TRIGGER needs, is granted to nobody; see Privileges at the end).
CREATE TRIGGER applicant_write BEFORE INSERT OR UPDATE ON applicants
    FOR EACH ROW EXECUTE FUNCTION _applicant_write();
