
-- Generated from sql/install/70_supabase.sql (function text identical to the install source).

-- Supabase: storage.objects AFTER INSERT, UPDATE or DELETE. An upload to the 'resumes' bucket
-- by its owner, under the owner's folder, registers a files row and its résumé or ZIP job; an
-- upsert (UPDATE) registers a new version; a delete or a move away removes the files row (and
-- its résumé). Size, type and checksum are not taken from the client's metadata: they are
-- unknown (0 bytes, type from the extension) until the pipeline reads the bytes. It refuses to
-- run as the trigger of any other table; EXECUTE is not granted, so nobody else can attach it.
CREATE OR REPLACE FUNCTION _on_storage_object() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    o jsonb;
    n jsonb;
    owner uuid;
    meta jsonb;
    file_id uuid;
    caller uuid;
    ext text;
BEGIN
    IF TG_TABLE_SCHEMA <> 'storage' OR TG_TABLE_NAME <> 'objects' OR TG_LEVEL <> 'ROW' OR TG_WHEN <> 'AFTER' THEN
        RAISE EXCEPTION 'resume_pipeline._on_storage_object is the trigger of storage.objects only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        o := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        n := to_jsonb(NEW);
    END IF;
    -- Deleted, or moved to another key or bucket: the old key leaves the pipeline.
    IF o IS NOT NULL AND (n IS NULL OR n ->> 'name' IS DISTINCT FROM o ->> 'name'
                          OR n ->> 'bucket_id' IS DISTINCT FROM o ->> 'bucket_id') THEN
        owner := @extschema@._storage_object_owner(o);
        IF owner IS NOT NULL THEN
            DELETE FROM @extschema@.files WHERE bucket = 'resumes' AND name = o ->> 'name' AND user_id = owner;
        END IF;
    END IF;
    IF n IS NULL THEN
        RETURN NULL;
    END IF;
    owner := @extschema@._storage_object_owner(n);
    caller := @extschema@.current_user_id();
    IF owner IS NULL OR (caller IS NOT NULL AND caller <> owner) THEN
        RETURN NULL;  -- not ours, or a user writing into someone else's folder: left alone
    END IF;
    -- The ZIP lineage from the object's metadata, when it is a uuid; nothing else of the
    -- client's (a value of any other shape or size is not kept, and the upload goes through).
    meta := CASE WHEN jsonb_typeof(n -> 'user_metadata') = 'object' THEN n -> 'user_metadata' ELSE '{}' END;
    meta := CASE WHEN jsonb_typeof(meta -> 'zip_id') = 'string'
                      AND meta ->> 'zip_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                 THEN jsonb_build_object('zip_id', meta ->> 'zip_id') ELSE '{}' END
         || jsonb_build_object('storage_object_id', n ->> 'id');
    IF TG_OP = 'UPDATE' AND o ->> 'name' = n ->> 'name' AND o -> 'metadata' IS NOT DISTINCT FROM n -> 'metadata'
       AND o -> 'updated_at' IS NOT DISTINCT FROM n -> 'updated_at' THEN
        RETURN NULL;  -- nothing about the bytes changed
    END IF;
    -- The bucket's rules, as far as they can be applied before the bytes are read: the size
    -- Supabase's storage recorded (metadata.size; a smaller lie gains nothing, reading stops at
    -- resume_pipeline.max_file_size), and the type the name's extension names, when it names
    -- one (the bytes decide when the pipeline reads them).
    ext := lower(substring(n ->> 'name' FROM '\.([A-Za-z0-9]+)$'));
    ext := CASE ext WHEN 'jpg' THEN 'jpeg' WHEN 'tif' THEN 'tiff' WHEN 'txt' THEN 'text' ELSE ext END;
    PERFORM @extschema@._check_bucket_rules('resumes', n ->> 'name',
        CASE WHEN jsonb_typeof(n -> 'metadata' -> 'size') = 'number' THEN least((n -> 'metadata' ->> 'size')::numeric, 9e18)::bigint END,
        CASE WHEN ext IN ('pdf', 'docx', 'doc', 'odt', 'rtf', 'png', 'jpeg', 'tiff', 'zip', 'text') THEN ext END, 'name');
    -- An upsert overwrites the key in place: Supabase keeps no older bytes, so no files row of
    -- an older version is made (résumé versions are, up to the bucket's keep_versions).
    PERFORM @extschema@._check_storage_quota(owner, 0,
        ARRAY(SELECT f.id FROM @extschema@.files f WHERE f.bucket = 'resumes' AND f.name = n ->> 'name'));
    -- Its bytes are on S3 (<bucket>/<name>), whatever storage_backend says.
    INSERT INTO @extschema@.files AS f (user_id, bucket, name, size, mime_type, checksum, storage, metadata)
    VALUES (owner, 'resumes', n ->> 'name', 0,
            -- By its name until its bytes are read (the reader then decides by content).
            @extschema@._mime_type_of(CASE lower(substring(n ->> 'name' FROM '\.([A-Za-z0-9]+)$'))
                                          WHEN 'jpg' THEN 'jpeg' WHEN 'tif' THEN 'tiff'
                                          ELSE lower(substring(n ->> 'name' FROM '\.([A-Za-z0-9]+)$')) END),
            NULL, 's3', meta)
    ON CONFLICT (bucket, name) DO UPDATE SET metadata = excluded.metadata, checksum = NULL, version = f.version + 1
      WHERE f.user_id = excluded.user_id
    RETURNING id INTO file_id;
    IF file_id IS NOT NULL THEN
        -- No checksum is known, so an upsert always counts as new content: a new version.
        PERFORM @extschema@._register_document(file_id, NULL);
    END IF;
    RETURN NULL;
END
$$;
