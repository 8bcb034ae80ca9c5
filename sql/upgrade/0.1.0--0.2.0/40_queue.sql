
-- Generated from sql/install/40_queue.sql (function text identical to the install source).

-- Registers a stored object: a résumé document (PDF, Word, ODT, RTF, image) becomes a résumé (a new version when its content
-- changed, earlier versions beyond the bucket's keep_versions removed), a ZIP is queued for expansion. zip_id comes from the metadata and must name a file
-- of the same user. upload() and the Supabase storage.objects trigger call it in the
-- uploader's transaction, as the pipeline's owner. (It is not a trigger on files itself, so that restoring a dump,
-- which reloads files and resumes side by side, does not create résumés a second time.)
CREATE OR REPLACE FUNCTION _register_document(file_id uuid, previous_checksum text) RETURNS void
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
