
------------------------------------------------------------------------------------------
-- Supabase: where storage.objects exists, uploads to the 'resumes' bucket register
-- themselves in files, so they flow into the same trigger unchanged.
------------------------------------------------------------------------------------------

-- The object a storage.objects row describes, if it is one for the pipeline: bucket 'resumes',
-- a key laid out as "<user uuid>/…" with an acceptable name, and every owner column that is
-- set (owner, owner_id) naming that same user. Anything else is not the pipeline's business
-- and is left alone (the upload itself goes through untouched). That includes the pipeline's
-- own objects, which Supabase announces here when resume_pipeline.s3_bucket is one of its
-- buckets: "<database oid>/objects/…" has no user folder, whatever the bucket, and is named
-- here besides so that no later change to the rules above registers them a second time.
CREATE FUNCTION _storage_object_owner(o jsonb) RETURNS uuid
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
    top text := split_part(o ->> 'name', '/', 1);
BEGIN
    IF o ->> 'name' ~ '^[0-9]+/objects/' THEN
        RETURN NULL;  -- written by upload() or a ZIP expansion with storage_backend = 's3'
    END IF;
    IF o ->> 'bucket_id' IS DISTINCT FROM 'resumes' OR top !~ uuid_re
       OR NOT _object_name_ok('resumes', o ->> 'name')
       OR (o ->> 'owner' IS NULL AND o ->> 'owner_id' IS NULL) THEN
        RETURN NULL;
    END IF;
    IF (o ->> 'owner' IS NOT NULL AND (o ->> 'owner' !~ uuid_re OR (o ->> 'owner')::uuid <> top::uuid))
       OR (o ->> 'owner_id' IS NOT NULL AND (o ->> 'owner_id' !~ uuid_re OR (o ->> 'owner_id')::uuid <> top::uuid)) THEN
        RETURN NULL;
    END IF;
    RETURN top::uuid;
END
$$;

-- Supabase: storage.objects AFTER INSERT, UPDATE or DELETE. An upload to the 'resumes' bucket
-- by its owner, under the owner's folder, registers a files row and its résumé or ZIP job; an
-- upsert (UPDATE) registers a new version; a delete or a move away removes the files row (and
-- its résumé). Size, type and checksum are not taken from the client's metadata: they are
-- unknown (0 bytes, type from the extension) until the pipeline reads the bytes. It refuses to
-- run as the trigger of any other table; EXECUTE is not granted, so nobody else can attach it.
CREATE FUNCTION _on_storage_object() RETURNS trigger
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

DO $$
DECLARE
    objects regclass := to_regclass('storage.objects');
BEGIN
    -- Only Supabase's own table (owned by a superuser, the role creating the extension, or
    -- Supabase's storage admin), never a look-alike somebody else created.
    IF objects IS NOT NULL AND EXISTS (
           SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
            WHERE c.oid = objects AND c.relkind IN ('r', 'p')
              AND (r.rolsuper OR r.oid = current_user::regrole
                   OR r.rolname IN ('supabase_storage_admin', 'supabase_admin'))) THEN
        CREATE TRIGGER resume_pipeline_object_registered AFTER INSERT OR UPDATE OR DELETE ON storage.objects
            FOR EACH ROW EXECUTE FUNCTION @extschema@._on_storage_object();
    END IF;
END
$$;
