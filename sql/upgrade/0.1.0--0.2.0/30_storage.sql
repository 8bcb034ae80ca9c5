
-- Generated from sql/install/30_storage.sql (function text identical to the install source).

-- The quota counts rows by id now (the rows an upload replaces or prunes), not by key.
DROP FUNCTION _check_storage_quota(uuid, text, bigint);
-- Refuses (54000) what would take a user past their quota: stored bytes
-- (resume_pipeline.max_user_storage) and objects (resume_pipeline.max_user_objects), every
-- version kept counting, once new_bytes are stored and the rows named in replaced are gone (the
-- row an upload overwrites, the versions it prunes). A user's uploads are serialised by an
-- advisory lock so two at once cannot both slip under the limit.
CREATE FUNCTION _check_storage_quota(owner uuid, new_bytes bigint, replaced uuid[] DEFAULT '{}') RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    used_bytes bigint;
    used_objects bigint;
    max_bytes bigint := pg_catalog.pg_size_bytes(pg_catalog.current_setting('resume_pipeline.max_user_storage'));
    max_objects bigint := pg_catalog.current_setting('resume_pipeline.max_user_objects')::bigint;
BEGIN
    -- 1381000001: this extension's advisory lock class (quota of one user).
    PERFORM pg_catalog.pg_advisory_xact_lock(1381000001, pg_catalog.hashtext(owner::text));
    SELECT coalesce(sum(f.size), 0), count(*) INTO used_bytes, used_objects
      FROM @extschema@.files f WHERE f.user_id = owner AND f.id <> ALL (coalesce(replaced, '{}'));
    IF used_objects + 1 > max_objects THEN
        RAISE EXCEPTION 'storage quota exceeded: the user already has % objects', used_objects
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('resume_pipeline.max_user_objects is %s; earlier versions kept count too.', max_objects);
    END IF;
    IF used_bytes + new_bytes > max_bytes THEN
        RAISE EXCEPTION 'storage quota exceeded: % bytes stored, % more would pass the limit', used_bytes, new_bytes
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('resume_pipeline.max_user_storage is %s; earlier versions kept count too.',
                                  pg_catalog.current_setting('resume_pipeline.max_user_storage'));
    END IF;
END
$$;

-- A deleted files row (by its user, or with its storage.objects row) releases its object, and
-- a key's current row takes its earlier versions with it (32_bucket_rules.sql).
-- SECURITY DEFINER: users delete their rows, but may not call the storage themselves.
CREATE OR REPLACE FUNCTION _file_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.object_id IS NOT NULL THEN
        PERFORM @extschema@._storage_forget(OLD.object_id, OLD.storage);
    END IF;
    IF OLD.version_of IS NULL THEN
        DELETE FROM @extschema@.files f WHERE f.version_of = OLD.id AND f.user_id = OLD.user_id;
    END IF;
    RETURN NULL;
END
$$;

-- Stores an object and registers it in files, in the caller's transaction. The key is put
-- under the user's prefix ("<user_id>/<name>") unless it is there already. The bucket's rules
-- (32_bucket_rules.sql) are applied first, before anything is stored: the size, then the type
-- the content shows. Uploading the same key again with new content makes a new version: the
-- current row (same id) takes the new object and version + 1, the one it replaces is kept as
-- a row of its own ("<key>//v<n>", version_of = the current row) and the versions beyond the
-- bucket's keep_versions are deleted (their objects go at commit); a résumé gets a new version.
-- The same bytes again replace the object and make no version. Returns the files id.
-- SECURITY DEFINER because users may not write files rows themselves: it acts only for the
-- signed-in user (only the pipeline's owner may name another user_id, or none), within their
-- quotas, and resolves nothing a user could have created (search_path ends with pg_temp).
CREATE OR REPLACE FUNCTION upload(bucket text, name text, data bytea, metadata jsonb DEFAULT '{}',
                       user_id uuid DEFAULT current_user_id()) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    key text;
    kind text;
    keep integer;
    content_type text;
    new_checksum text;
    cur files;
    kept files;
    new_version boolean;
    archive boolean;
    pruned uuid[] := '{}';
    file_id uuid;
    new_object uuid := gen_random_uuid();
    backend text := current_setting('resume_pipeline.storage_backend');
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'upload needs a user: no user id given and none in the request'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass user_id, or set request.jwt.claims (PostgREST and Supabase do).';
    END IF;
    IF user_id IS DISTINCT FROM @extschema@.current_user_id() AND NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'upload: a user may store objects only as themselves'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    metadata := coalesce(metadata, '{}');
    IF jsonb_typeof(metadata) <> 'object' OR octet_length(metadata::text) > 8192 THEN
        RAISE EXCEPTION 'upload metadata must be a JSON object of at most 8 kB'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    key := CASE WHEN name LIKE user_id::text || '/%' THEN name ELSE user_id::text || '/' || name END;
    PERFORM @extschema@._check_object_name(bucket, key);
    -- The bucket's rules: the size before the bytes are read, then the kind they show.
    PERFORM @extschema@._check_bucket_rules(bucket, name, length(data));
    kind := @extschema@.document_kind(data);
    IF kind = 'ambiguous' THEN
        -- Both a PDF and a ZIP archive, with neither signature at the start: refused, not guessed.
        RAISE EXCEPTION 'upload: "%" is both a PDF and a ZIP archive (a polyglot); refusing to guess which', name
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Upload the PDF, or the archive, on its own.';
    END IF;
    PERFORM @extschema@._check_bucket_rules(bucket, name, length(data), kind);
    keep := (@extschema@.bucket_rule(bucket)).keep_versions;
    content_type := @extschema@._mime_type_of(kind);
    new_checksum := encode(sha256(data), 'hex');
    -- One upload of a user at a time (the quota's lock), then the key's current row.
    PERFORM pg_catalog.pg_advisory_xact_lock(1381000001, pg_catalog.hashtext(user_id::text));
    SELECT * INTO cur FROM @extschema@.files f WHERE f.bucket = upload.bucket AND f.name = key FOR UPDATE;
    IF cur.id IS NOT NULL AND cur.user_id IS DISTINCT FROM user_id THEN  -- unreachable: keys are per-user
        RAISE EXCEPTION 'object key "%" belongs to another user', key USING ERRCODE = 'insufficient_privilege';
    END IF;
    new_version := cur.id IS NOT NULL AND cur.checksum IS DISTINCT FROM new_checksum;
    -- The version replaced is kept when it has bytes of ours and the bucket keeps more than one.
    archive := new_version AND cur.object_id IS NOT NULL AND keep > 1;
    IF cur.id IS NOT NULL THEN
        pruned := ARRAY(SELECT @extschema@._versions_to_prune(cur.id, keep - 1 - archive::int));
    END IF;
    PERFORM @extschema@._check_storage_quota(user_id, length(data),
                                             pruned || CASE WHEN cur.id IS NOT NULL AND NOT archive THEN ARRAY[cur.id] END);
    IF cur.id IS NULL THEN
        INSERT INTO @extschema@.files AS f (user_id, bucket, name, size, mime_type, checksum, object_id, storage, metadata)
        VALUES (user_id, bucket, key, length(data), content_type, new_checksum, new_object, backend, metadata)
        RETURNING f.id INTO file_id;
    ELSE
        -- Every version is a new object. created_at: when this version was stored.
        UPDATE @extschema@.files f
           SET size = length(data), mime_type = content_type, checksum = new_checksum, object_id = new_object,
               storage = backend, metadata = upload.metadata,
               version = f.version + new_version::int,
               created_at = CASE WHEN new_version THEN now() ELSE f.created_at END
         WHERE f.id = cur.id
        RETURNING f.id INTO file_id;
        IF archive THEN
            -- Every column of the row as it was (areas may have added some), under its version's name.
            kept := cur;
            kept.id := gen_random_uuid();
            kept.name := key || '//v' || cur.version;
            kept.version_of := cur.id;
            INSERT INTO @extschema@.files SELECT (kept).*;
        ELSIF cur.object_id IS NOT NULL THEN
            PERFORM @extschema@._storage_forget(cur.object_id, cur.storage);  -- at commit
        END IF;
        -- Their objects go at commit (_file_deleted); a rollback keeps rows and objects.
        DELETE FROM @extschema@.files f WHERE f.id = ANY (pruned);
    END IF;
    -- On S3 a ZIP entry carries its archive as x-amz-meta-zip_id (only a uuid: headers are ASCII).
    PERFORM @extschema@._storage_write(new_object, data,
        CASE WHEN metadata ->> 'zip_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
             THEN jsonb_build_object('zip_id', metadata ->> 'zip_id') END,
        content_type);
    PERFORM @extschema@._register_document(file_id, cur.checksum);
    RETURN file_id;
END
$$;

-- The sweep became a housekeeping task (15_housekeeping.sql).
INSERT INTO housekeeping (task, every) VALUES ('sweep_storage', interval '1 hour');
