
------------------------------------------------------------------------------------------
-- Storage migration: moving every stored object from one place to another (the filesystem,
-- S3 as the resume_pipeline.s3_* settings say, or an S3 location of storage_locations) while
-- the pipeline keeps serving. One job of kind 'migrate' copies objects in batches: each object is
-- read from the source, verified by SHA-256 against files.checksum, written to the target, read
-- back and verified, and only then is its files row switched to the target, in the same
-- transaction that checks the row still names that object there. Source copies are removed
-- once the copying is over and keep_source has passed since the last switch (a reader that
-- looked the row up just before may still be reading them). Meanwhile uploads to the source are
-- written to the target too, and a deleted row's object goes from both (src/pg/storage.c).
-- Rows registered from Supabase's storage.objects (object_id null) are Supabase's: never moved.
------------------------------------------------------------------------------------------

-- files.storage may also name an S3 location: 's3:<name>'.
ALTER TABLE files DROP CONSTRAINT files_storage_check;
ALTER TABLE files ADD CONSTRAINT files_storage_check
    CHECK (storage IN ('filesystem', 's3') OR storage ~ '^s3:[a-z0-9][a-z0-9_-]{0,39}$');

-- S3 stores other than the settings' one, by name, for migrations. Only the pipeline's owner
-- can read them (no grant, row-level security without a policy); the storage layer reads a
-- location as this table's owner whoever reads an object stored there, and its keys appear in
-- no message. Not dumped: define them again after a restore.
CREATE TABLE storage_locations (
    name       text PRIMARY KEY CHECK (name ~ '^s3:[a-z0-9][a-z0-9_-]{0,39}$'),
    endpoint   text NOT NULL CHECK (endpoint ~ '^https?://[^[:space:]/]+(/[^[:space:]]*)?$'),
    region     text NOT NULL CHECK (region ~ '^[a-z0-9-]{1,64}$'),
    bucket     text NOT NULL CHECK (bucket ~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'),
    access_key text NOT NULL CHECK (access_key <> ''),
    secret_key text NOT NULL CHECK (secret_key <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE storage_locations ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE storage_locations IS 'S3 stores for storage migrations (files.storage ''s3:<name>''); owner only.';

-- Defines (or redefines: new keys, a new endpoint for the same bucket) an S3 location. Owner
-- only. Returns its name, 's3:<name>'.
CREATE FUNCTION define_storage_location(name text, endpoint text, bucket text, access_key text,
                                        secret_key text, region text DEFAULT 'us-east-1') RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    full_name text := CASE WHEN name LIKE 's3:%' THEN name ELSE 's3:' || name END;
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may define storage locations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF full_name IS NULL OR full_name !~ '^s3:[a-z0-9][a-z0-9_-]{0,39}$' THEN
        RAISE EXCEPTION 'a storage location''s name is 1 to 40 characters of a-z, 0-9, _ and -'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF endpoint IS NULL OR endpoint !~ '^https?://[^[:space:]/]+(/[^[:space:]]*)?$' THEN
        RAISE EXCEPTION 'storage location %: the endpoint must be an http:// or https:// URL', full_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF bucket IS NULL OR bucket !~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' THEN
        RAISE EXCEPTION 'storage location %: the bucket must be an S3 bucket name (3 to 63 of a-z 0-9 . -)', full_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF region IS NULL OR region !~ '^[a-z0-9-]{1,64}$' THEN
        RAISE EXCEPTION 'storage location %: the region must be an S3 region name', full_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(access_key, '') = '' OR coalesce(secret_key, '') = '' THEN
        RAISE EXCEPTION 'storage location %: an access key and a secret key are needed', full_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO storage_locations AS l (name, endpoint, region, bucket, access_key, secret_key)
    VALUES (full_name, endpoint, region, bucket, access_key, secret_key)
    ON CONFLICT ON CONSTRAINT storage_locations_pkey DO UPDATE
       SET endpoint = excluded.endpoint, region = excluded.region, bucket = excluded.bucket,
           access_key = excluded.access_key, secret_key = excluded.secret_key;
    RETURN full_name;
END
$$;

-- Removes a location no files row and no unfinished migration names. Owner only.
CREATE FUNCTION drop_storage_location(name text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    full_name text := CASE WHEN name LIKE 's3:%' THEN name ELSE 's3:' || name END;
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may drop storage locations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM storage_locations l WHERE l.name = full_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'storage location % is not defined', full_name USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT 1 FROM files f WHERE f.storage = full_name)
       OR EXISTS (SELECT 1 FROM storage_migrations m WHERE full_name IN (m.source, m.target)
                     AND (m.state IN ('running', 'stopped'))) THEN
        RAISE EXCEPTION 'storage location % still holds objects, or an unfinished migration names it', full_name
            USING ERRCODE = 'object_in_use',
                  HINT = 'Migrate its objects elsewhere first (migrate_storage).';
    END IF;
    DELETE FROM storage_locations l WHERE l.name = full_name;
END
$$;

-- The C half (src/pg/migration.c): a place name checked (22023 unknown, 42704 an undefined
-- location), whether two names are one store, one object copied and verified, and a copy
-- removed now.
CREATE FUNCTION _storage_place_check(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_sql_storage_place_check' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_same_place(a text, b text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_sql_storage_same_place' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _migrate_copy(object_id uuid, source text, target text, checksum text,
                              content_type text, zip_id text, display text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_sql_migrate_copy' LANGUAGE C VOLATILE;
CREATE FUNCTION _migrate_remove(object_id uuid, place text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_sql_migrate_remove' LANGUAGE C STRICT VOLATILE;

-- One row per migration. state: running (its job works), stopped (stop_migration(), or its job
-- failed: migrate_storage again resumes it), done (every object moved and the source's copies
-- removed) or incomplete (done but for the objects that failed, which stay readable where they
-- were). phase: copy, then cleanup (the source's copies of switched objects removed). At most one
-- migration is unfinished (running or stopped) at a time.
CREATE TABLE storage_migrations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source             text NOT NULL,
    target             text NOT NULL CHECK (target <> source),
    state              text NOT NULL DEFAULT 'running'
                       CHECK (state IN ('running', 'stopped', 'done', 'incomplete')),
    phase              text NOT NULL DEFAULT 'copy' CHECK (phase IN ('copy', 'cleanup')),
    keep_source        interval NOT NULL DEFAULT interval '1 minute' CHECK (keep_source >= interval '0'),
    batch_size         integer NOT NULL DEFAULT 500 CHECK (batch_size BETWEEN 1 AND 10000),
    copied             bigint NOT NULL DEFAULT 0,   -- written to the target by the migration
    reused             bigint NOT NULL DEFAULT 0,   -- a verified copy was there already
    verified           bigint NOT NULL DEFAULT 0,   -- target copies verified (copied + reused)
    switched           bigint NOT NULL DEFAULT 0,   -- files rows switched to the target
    failed             bigint NOT NULL DEFAULT 0,   -- objects that could not be moved
    bytes              bigint NOT NULL DEFAULT 0,   -- of the switched objects
    removed            bigint NOT NULL DEFAULT 0,   -- source copies removed
    cursor_id          uuid,                        -- the last files id a batch looked at
    waits              integer NOT NULL DEFAULT 0,  -- batches in a row stopped by a storage error
    started_at         timestamptz NOT NULL DEFAULT now(),
    resumed_at         timestamptz NOT NULL DEFAULT now(),
    switched_at_resume bigint NOT NULL DEFAULT 0,
    bytes_at_resume    bigint NOT NULL DEFAULT 0,
    last_switch_at     timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    last_error         text
);
CREATE UNIQUE INDEX storage_migrations_one_unfinished ON storage_migrations ((true))
    WHERE state IN ('running', 'stopped');
ALTER TABLE storage_migrations ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE storage_migrations IS 'Storage migrations (migrate_storage); owner only.';

-- Objects a migration switched whose source copy is still to be removed, and objects it could
-- not move (state failed, with the reason).
CREATE TABLE storage_migration_objects (
    migration_id uuid NOT NULL REFERENCES storage_migrations ON DELETE CASCADE,
    object_id    uuid NOT NULL,
    file_id      uuid NOT NULL,
    state        text NOT NULL CHECK (state IN ('switched', 'failed')),
    bytes        bigint,
    error        text,
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration_id, object_id)
);
ALTER TABLE storage_migration_objects ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE storage_migration_objects IS 'Per-object state of storage migrations: source copies to remove, failures; owner only.';

-- The channel migrations are announced on: "resume_pipeline_" and 32 hex digits of
-- SHA-256(notification secret || 'storage migration'), which no user's channel can be (theirs
-- hash 16 bytes of user id) and no user can derive. Owner only.
CREATE FUNCTION migration_channel() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may follow storage migrations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN _migration_channel();
END
$$;
CREATE FUNCTION _migration_channel() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT 'resume_pipeline_' || left(encode(sha256(s.value || convert_to('storage migration', 'UTF8')), 'hex'), 32)
              FROM _secrets s WHERE s.name = 'notify');
END
$$;

-- {"table": "storage_migrations", "id", "old", "new"} (states before and after) with the
-- counts, on the migration channel at commit. No key, endpoint or object name.
CREATE FUNCTION _migration_notify(m storage_migrations, old_state text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(_migration_channel(), json_build_object(
        'table', 'storage_migrations', 'id', m.id, 'old', old_state, 'new', m.state,
        'source', m.source, 'target', m.target, 'phase', m.phase,
        'copied', m.copied, 'reused', m.reused, 'verified', m.verified, 'switched', m.switched,
        'failed', m.failed, 'bytes', m.bytes, 'removed', m.removed)::text);
END
$$;

-- Queues the migration's job unless one is queued or running.
CREATE FUNCTION _migration_enqueue(migration_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind::text = 'migrate' AND j.target_id = migration_id
                      AND j.state IN ('queued', 'running')) THEN
        -- A job of no user (the nil uuid): the migration moves every tenant's objects.
        INSERT INTO jobs (kind, target_id, user_id, fair_at)
        VALUES ('migrate', migration_id, '00000000-0000-0000-0000-000000000000', now());
    END IF;
END
$$;

-- The next batch at once: a new job, due now, whose commit wakes a worker (a poll would wait
-- for the worker's next look at the queue). This job ends done.
CREATE FUNCTION _migration_continue(migration_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO jobs (kind, target_id, user_id, fair_at)
    VALUES ('migrate', migration_id, '00000000-0000-0000-0000-000000000000', now());
    RETURN NULL;
END
$$;

-- Starts moving every object the pipeline stored in source to target, or resumes the stopped
-- migration of the same two places. Owner only. source and target: 'filesystem', 's3' (the
-- resume_pipeline.s3_* settings) or 's3:<name>' (define_storage_location). keep_source: how long
-- after the last switch the source's copies stay (readers that looked a row up just before a
-- switch may still read them). batch_size: objects per batch (a batch also ends after about 2
-- seconds); each batch is one transaction, which a crash rolls back whole (its copies are
-- verified and reused on resume). Returns the migration's id; the workers do the rest (without
-- workers, call process_pending() until migration_progress() says done).
CREATE FUNCTION migrate_storage(source text, target text, keep_source interval DEFAULT interval '1 minute',
                                batch_size integer DEFAULT 500)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    m storage_migrations;
    old_state text;
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may migrate storage'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF source IS NULL OR target IS NULL OR keep_source IS NULL OR keep_source < interval '0'
       OR batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'migrate_storage needs a source, a target, a keep_source of 0 or more and a batch_size of 1 to 10000'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM _storage_place_check(source);
    PERFORM _storage_place_check(target);
    IF source = target OR _storage_same_place(source, target) THEN
        RAISE EXCEPTION 'storage places % and % are the same store', source, target
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO m FROM storage_migrations sm WHERE sm.state IN ('running', 'stopped') FOR UPDATE;
    IF FOUND AND (m.source <> migrate_storage.source OR m.target <> migrate_storage.target) THEN
        RAISE EXCEPTION 'another storage migration (% to %) is unfinished', m.source, m.target
            USING ERRCODE = 'object_in_use',
                  HINT = format('Resume it with migrate_storage(%L, %L) and let it finish.', m.source, m.target);
    END IF;
    IF NOT FOUND THEN
        INSERT INTO storage_migrations (source, target, keep_source, batch_size)
        VALUES (migrate_storage.source, migrate_storage.target, migrate_storage.keep_source, migrate_storage.batch_size)
        RETURNING * INTO m;
        old_state := NULL;
    ELSE
        old_state := m.state;
        IF m.state = 'stopped' THEN
            -- Resumed: the objects that failed are tried again.
            DELETE FROM storage_migration_objects o WHERE o.migration_id = m.id AND o.state = 'failed';
            UPDATE storage_migrations sm
               SET state = 'running', failed = 0, waits = 0, last_error = NULL, cursor_id = NULL,
                   keep_source = migrate_storage.keep_source, batch_size = migrate_storage.batch_size,
                   resumed_at = now(),
                   switched_at_resume = sm.switched, bytes_at_resume = sm.bytes, updated_at = now()
             WHERE sm.id = m.id RETURNING * INTO m;
        END IF;
    END IF;
    PERFORM _migration_enqueue(m.id);
    IF old_state IS DISTINCT FROM m.state THEN
        PERFORM _migration_notify(m, old_state);
    END IF;
    IF target IN ('filesystem', 's3') AND current_setting('resume_pipeline.storage_backend') <> target THEN
        RAISE NOTICE 'new uploads still go to %: set resume_pipeline.storage_backend = ''%'' to send them to the target', 
            current_setting('resume_pipeline.storage_backend'), target;
    END IF;
    RETURN m.id;
END
$$;

-- Stops the running migration after the batch in progress; migrate_storage with the same
-- places resumes it. Returns its id, or null when none was running. Owner only.
CREATE FUNCTION stop_migration() RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    m storage_migrations;
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may stop a storage migration'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE storage_migrations sm SET state = 'stopped', updated_at = now()
     WHERE sm.state = 'running' RETURNING * INTO m;
    IF m.id IS NOT NULL THEN
        PERFORM _migration_notify(m, 'running');
    END IF;
    RETURN m.id;
END
$$;

-- How far a migration (default: the latest) has got: remaining counts the objects still at the
-- source (but those that failed); total = switched + failed + remaining; the rates are since it
-- was last started or resumed; eta at that rate. Owner only.
CREATE FUNCTION migration_progress(migration_id uuid DEFAULT NULL,
    OUT id uuid, OUT source text, OUT target text, OUT state text, OUT phase text,
    OUT total bigint, OUT remaining bigint, OUT copied bigint, OUT reused bigint, OUT verified bigint,
    OUT switched bigint, OUT failed bigint, OUT bytes bigint, OUT removed bigint,
    OUT objects_per_second double precision, OUT megabytes_per_second double precision, OUT eta interval,
    OUT started_at timestamptz, OUT finished_at timestamptz, OUT last_error text)
    RETURNS SETOF record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    m storage_migrations;
    seconds double precision;
BEGIN
    IF NOT _caller_is_admin() THEN
        RAISE EXCEPTION 'only the pipeline''s owner may follow storage migrations'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO m FROM storage_migrations sm
     WHERE migration_id IS NULL OR sm.id = migration_id
     ORDER BY sm.started_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    id := m.id; source := m.source; target := m.target; state := m.state; phase := m.phase;
    copied := m.copied; reused := m.reused; verified := m.verified; switched := m.switched;
    failed := m.failed; bytes := m.bytes; removed := m.removed;
    started_at := m.started_at; finished_at := m.finished_at; last_error := m.last_error;
    remaining := CASE WHEN m.state IN ('running', 'stopped') AND m.phase = 'copy' THEN
        (SELECT count(*) FROM files f
          WHERE f.storage = m.source AND f.object_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM storage_migration_objects o
                             WHERE o.migration_id = m.id AND o.object_id = f.object_id AND o.state = 'failed'))
        ELSE 0 END;
    total := switched + failed + remaining;
    seconds := extract(epoch FROM coalesce(m.finished_at, CASE WHEN m.state = 'stopped' THEN m.updated_at END,
                                           clock_timestamp()) - m.resumed_at);
    IF seconds > 0 THEN
        objects_per_second := (m.switched - m.switched_at_resume) / seconds;
        megabytes_per_second := (m.bytes - m.bytes_at_resume) / 1e6 / seconds;
    END IF;
    IF remaining = 0 THEN
        eta := interval '0';
    ELSIF objects_per_second > 0 AND m.state = 'running' THEN
        eta := make_interval(secs => remaining / objects_per_second);
    END IF;
    RETURN NEXT;
END
$$;

-- The 'migrate' job (a call kind that needs no network of the worker: 52_calls.sql). One batch
-- per job, at most batch_size objects or about 2 seconds, which queues the next batch's job as it
-- ends; null when the migration is over or no longer running. A storage error (the source or the target down) ends
-- the batch, keeps what it switched, and comes back later ({"poll_ms"}, 0.5 s doubling to 30 s),
-- never charged: the migration waits for its stores rather than failing.
CREATE FUNCTION _migrate_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    m storage_migrations;
BEGIN
    SELECT * INTO m FROM storage_migrations sm WHERE sm.id = j.target_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM storage_migrations sm WHERE sm.id = j.target_id AND sm.state = 'running') THEN
            RETURN jsonb_build_object('poll_ms', 1000, 'message', 'another job is running this migration''s batch');
        END IF;
        RETURN NULL;
    END IF;
    IF m.state <> 'running' THEN
        RETURN NULL;
    END IF;
    IF _storage_same_place(m.source, m.target) THEN
        -- The settings were changed under it so that both names are one store now.
        UPDATE storage_migrations sm SET state = 'stopped', updated_at = now(),
               last_error = format('stopped: %s and %s are the same store now', m.source, m.target)
         WHERE sm.id = m.id RETURNING * INTO m;
        PERFORM _migration_notify(m, 'running');
        RETURN NULL;
    END IF;
    IF m.phase = 'copy' THEN
        RETURN _migrate_copy_batch(m);
    END IF;
    RETURN _migrate_cleanup_batch(m);
END
$$;

-- A batch of the copy phase (see _migrate_begin).
CREATE FUNCTION _migrate_copy_batch(m storage_migrations) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    res jsonb;
    started timestamptz := clock_timestamp();
    looked integer := 0;
    n_copied integer := 0;
    n_reused integer := 0;
    n_switched integer := 0;
    n_failed integer := 0;
    n_bytes bigint := 0;
    storage_error text;
    message text;
    code text;
    from_id uuid := m.cursor_id;
    last_id uuid := m.cursor_id;
    wrapped boolean;
BEGIN
    FOR r IN SELECT f.id, f.object_id, f.checksum, f.mime_type, f.metadata, f.bucket, f.name
               FROM files f
              WHERE f.storage = m.source AND f.object_id IS NOT NULL
                AND (m.cursor_id IS NULL OR f.id > m.cursor_id)
                AND NOT EXISTS (SELECT 1 FROM storage_migration_objects o
                                 WHERE o.migration_id = m.id AND o.object_id = f.object_id)
              ORDER BY f.id
              LIMIT m.batch_size LOOP
        EXIT WHEN clock_timestamp() - started > interval '2 seconds';
        looked := looked + 1;
        last_id := r.id;
        BEGIN
            IF r.checksum IS NULL THEN
                RAISE EXCEPTION 'storage object "%/%" has no checksum to verify a copy against', r.bucket, r.name
                    USING ERRCODE = 'data_corrupted';
            END IF;
            res := _migrate_copy(r.object_id, m.source, m.target, r.checksum, r.mime_type,
                                 CASE WHEN r.metadata ->> 'zip_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                                      THEN r.metadata ->> 'zip_id' END,
                                 r.bucket || '/' || r.name);
            -- Switched only if the row still names this object at the source.
            UPDATE files f SET storage = m.target
             WHERE f.id = r.id AND f.object_id = r.object_id AND f.storage = m.source;
            IF FOUND THEN
                INSERT INTO storage_migration_objects (migration_id, object_id, file_id, state, bytes)
                VALUES (m.id, r.object_id, r.id, 'switched', (res ->> 'bytes')::bigint);
                n_switched := n_switched + 1;
                n_bytes := n_bytes + (res ->> 'bytes')::bigint;
                IF (res ->> 'copied')::boolean THEN
                    n_copied := n_copied + 1;
                ELSE
                    n_reused := n_reused + 1;
                END IF;
            ELSIF NOT EXISTS (SELECT 1 FROM files f WHERE f.object_id = r.object_id) THEN
                -- Deleted or replaced meanwhile: the copy just made is nobody's.
                PERFORM _storage_forget(r.object_id, m.target);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
            IF code = '57014' THEN
                RAISE;  -- a cancel is the session's
            ELSIF _is_contention(code) THEN
                NULL;   -- a user holds the row: it is looked at again in the next pass
            ELSIF _is_transient(code) OR code IN ('42704', '22023') THEN
                -- A store that fails, or a place that is no longer defined: every object would.
                storage_error := message;
                EXIT;
            ELSE
                -- The object's own failure (a checksum that does not match, a missing or
                -- oversized object): recorded, never switched, left where it is.
                INSERT INTO storage_migration_objects (migration_id, object_id, file_id, state, error)
                VALUES (m.id, r.object_id, r.id, 'failed', left(message, 2000))
                ON CONFLICT DO NOTHING;
                n_failed := n_failed + 1;
            END IF;
        END;
    END LOOP;
    -- A pass ends when a batch finds fewer rows than it may take; the next starts from the first
    -- id again (uploads made meanwhile have ids anywhere).
    wrapped := storage_error IS NULL AND looked < m.batch_size AND clock_timestamp() - started <= interval '2 seconds';
    UPDATE storage_migrations sm
       SET copied = sm.copied + n_copied, reused = sm.reused + n_reused,
           verified = sm.verified + n_copied + n_reused, switched = sm.switched + n_switched,
           failed = sm.failed + n_failed, bytes = sm.bytes + n_bytes,
           cursor_id = CASE WHEN wrapped THEN NULL ELSE last_id END,
           last_switch_at = CASE WHEN n_switched > 0 THEN clock_timestamp() ELSE sm.last_switch_at END,
           waits = CASE WHEN storage_error IS NULL THEN 0 ELSE sm.waits + 1 END,
           last_error = CASE WHEN storage_error IS NULL THEN sm.last_error ELSE left(storage_error, 2000) END,
           updated_at = clock_timestamp()
     WHERE sm.id = m.id RETURNING * INTO m;
    IF storage_error IS NOT NULL THEN
        PERFORM _migration_notify(m, 'running');
        RETURN jsonb_build_object('poll_ms', least(500 * 2 ^ least(m.waits - 1, 6), 30000),
                                  'message', 'waiting for storage: ' || left(storage_error, 500));
    END IF;
    IF n_switched + n_failed > 0 THEN
        PERFORM _migration_notify(m, 'running');
    END IF;
    IF looked > 0 AND n_switched + n_failed = 0 THEN
        -- Rows users hold locked are all this batch found: not at full speed.
        RETURN jsonb_build_object('poll_ms', 500, 'message', 'waiting for rows users hold');
    END IF;
    IF looked > 0 OR from_id IS NOT NULL OR NOT wrapped THEN
        RETURN _migration_continue(m.id);
    END IF;
    -- Nothing left from the first id on. Uploads writing to both hold the lock shared until
    -- they commit: once it is ours, every row they made is visible to the look below.
    IF NOT pg_try_advisory_xact_lock(1381000002, 0) THEN
        RETURN jsonb_build_object('poll_ms', 200, 'message', 'waiting for uploads in progress');
    END IF;
    IF EXISTS (SELECT 1 FROM files f
                WHERE f.storage = m.source AND f.object_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM storage_migration_objects o
                                   WHERE o.migration_id = m.id AND o.object_id = f.object_id AND o.state = 'failed')) THEN
        RETURN _migration_continue(m.id);  -- uploads arrived
    END IF;
    UPDATE storage_migrations sm SET phase = 'cleanup', updated_at = clock_timestamp()
     WHERE sm.id = m.id RETURNING * INTO m;
    PERFORM _migration_notify(m, 'running');
    RETURN _migration_continue(m.id);
END
$$;

-- A batch of the cleanup phase: once keep_source has passed since the last switch, the source's
-- copies of switched objects are removed (at most 500 a batch), and the migration ends done, or
-- incomplete when objects failed.
CREATE FUNCTION _migrate_cleanup_batch(m storage_migrations) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    o record;
    n_removed integer := 0;
    stuck boolean := false;
    due timestamptz := coalesce(m.last_switch_at, '-infinity') + m.keep_source;
BEGIN
    IF clock_timestamp() < due THEN
        RETURN jsonb_build_object('poll_ms', ceil(extract(epoch FROM due - clock_timestamp()) * 1000),
                                  'message', 'keeping the source''s copies until ' || due);
    END IF;
    -- Switches this very transaction made (process_pending runs batches in one) are not
    -- committed: a rollback would take the rows back to the source, which must still hold them.
    IF EXISTS (SELECT 1 FROM storage_migration_objects so
                WHERE so.migration_id = m.id AND so.state = 'switched' AND _written_by_this_transaction(so.xmin)) THEN
        RETURN jsonb_build_object('poll_ms', 1000, 'message', 'waiting for the switches to commit');
    END IF;
    FOR o IN SELECT so.object_id FROM storage_migration_objects so
              WHERE so.migration_id = m.id AND so.state = 'switched' LIMIT 500 LOOP
        -- Only a copy whose row names it elsewhere now (it always should).
        IF NOT EXISTS (SELECT 1 FROM files f WHERE f.object_id = o.object_id AND f.storage = m.source) THEN
            IF NOT _migrate_remove(o.object_id, m.source) THEN
                stuck := true;
                EXIT;
            END IF;
            n_removed := n_removed + 1;
        END IF;
        DELETE FROM storage_migration_objects so WHERE so.migration_id = m.id AND so.object_id = o.object_id;
    END LOOP;
    UPDATE storage_migrations sm
       SET removed = sm.removed + n_removed, updated_at = clock_timestamp(),
           waits = CASE WHEN stuck THEN sm.waits + 1 ELSE 0 END,
           last_error = CASE WHEN stuck THEN 'could not remove a source copy (see the server log); retrying' ELSE sm.last_error END
     WHERE sm.id = m.id RETURNING * INTO m;
    IF stuck THEN
        RETURN jsonb_build_object('poll_ms', least(500 * 2 ^ least(m.waits - 1, 6), 30000),
                                  'message', 'waiting for storage to remove the source''s copies');
    END IF;
    IF EXISTS (SELECT 1 FROM storage_migration_objects so WHERE so.migration_id = m.id AND so.state = 'switched') THEN
        RETURN _migration_continue(m.id);
    END IF;
    UPDATE storage_migrations sm
       SET state = CASE WHEN sm.failed > 0 THEN 'incomplete' ELSE 'done' END,
           finished_at = clock_timestamp(), updated_at = clock_timestamp()
     WHERE sm.id = m.id RETURNING * INTO m;
    PERFORM _migration_notify(m, 'running');
    RETURN NULL;
END
$$;

-- The job failed for good (an error no batch handled): the migration stops with the reason;
-- migrate_storage resumes it.
CREATE FUNCTION _migrate_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    m storage_migrations;
BEGIN
    UPDATE storage_migrations sm SET state = 'stopped', last_error = left(message, 2000), updated_at = now()
     WHERE sm.id = j.target_id AND sm.state = 'running' RETURNING * INTO m;
    IF m.id IS NOT NULL THEN
        PERFORM _migration_notify(m, 'running');
    END IF;
END
$$;
