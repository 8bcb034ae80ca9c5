
-- Stores each document inside the archive as its own object under the archive's name, with
-- the archive's id as zip_id; upload() makes each a résumé in this same transaction.
-- Entries that are not résumé documents, or that the bucket's rules refuse (a type it does not
-- accept, a size over its limit), are listed in the archive's metadata as skipped.
CREATE OR REPLACE FUNCTION _process_zip(zip_file_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    z files;
    e record;
    base text;
    added int := 0;
    skipped jsonb := '[]';
    skipped_count int := 0;
    kind text;
BEGIN
    SELECT * INTO z FROM files WHERE id = zip_file_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    base := regexp_replace(z.name, '\.zip$', '', 'i');
    FOR e IN SELECT * FROM zip_entries(_read_object(z)) LOOP
        kind := document_kind(e.data);
        IF _is_resume_type(_mime_type_of(kind)) AND _bucket_allows(z.bucket, kind, length(e.data)) THEN
            PERFORM upload(z.bucket, base || '/' || e.name, e.data,
                           jsonb_build_object('zip_id', z.id, 'zip_entry', e.name), z.user_id);
            added := added + 1;
        ELSE
            skipped_count := skipped_count + 1;
            IF skipped_count <= 100 THEN  -- the first names, so metadata stays small
                skipped := skipped || to_jsonb(e.name);
            END IF;
        END IF;
    END LOOP;
    UPDATE files SET metadata = metadata || jsonb_build_object('expanded', added, 'skipped', skipped,
                                                               'skipped_count', skipped_count)
     WHERE id = z.id;
END
$$;
