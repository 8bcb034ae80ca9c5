
------------------------------------------------------------------------------------------
-- Processing: one step per job kind. Each reads the object, extracts text in the isolated
-- parser, parses it, and writes the rows. The background workers of a later release run the
-- same steps; process_pending() runs them synchronously in the calling session.
------------------------------------------------------------------------------------------

-- Circuit breakers (shared memory; see README): may a call to the dependency go out now,
-- what did it give, and where does the circuit stand.
CREATE FUNCTION _circuit_allow(dependency text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_circuit_allow' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _circuit_record(dependency text, ok boolean) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_circuit_record' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _circuit_state(dependency text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_circuit_state' LANGUAGE C STRICT VOLATILE;

-- Reads a files row's object for a step. Only the workers report to the storage circuit
-- (transient failures count against it, a success closes it): a user's session must not be
-- able to open the circuit for everyone. A missing object is that document's permanent
-- failure (58P01), not the storage's.
CREATE FUNCTION _read_object(f files) RETURNS bytea
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    data bytea;
    in_worker boolean := _in_worker();
BEGIN
    IF f.object_id IS NULL AND current_setting('resume_pipeline.storage_backend') <> 's3' THEN
        RAISE EXCEPTION 'storage object "%/%" has no bytes in this database''s storage', f.bucket, f.name
            USING ERRCODE = 'undefined_file',
                  HINT = 'Objects registered from storage.objects are read over S3: set resume_pipeline.storage_backend = ''s3''.';
    END IF;
    BEGIN
        -- A files row without an object id was registered from storage.objects: its bytes are
        -- the object <bucket>/<name> of the S3 endpoint (Supabase Storage).
        data := CASE WHEN f.object_id IS NULL THEN _s3_read(f.bucket, f.name)
                     ELSE _storage_read(f.object_id, f.bucket || '/' || f.name) END;
    EXCEPTION WHEN OTHERS THEN
        IF in_worker AND _is_transient(SQLSTATE) THEN
            PERFORM _circuit_record('storage', false);
        END IF;
        RAISE;
    END;
    IF in_worker THEN
        PERFORM _circuit_record('storage', true);
    END IF;
    IF f.checksum IS NULL THEN  -- registered by the storage hook: now the bytes are known
        UPDATE files SET size = length(data), checksum = encode(sha256(data), 'hex') WHERE id = f.id;
    END IF;
    RETURN data;
END
$$;

-- The two halves of a résumé or CV step, around text extraction and parsing (which the
-- session does inline, or a worker does for several jobs at once in parallel parser
-- processes). _begin_document marks the row processing and returns the document, or null
-- when there is nothing to do (the row is gone, or the CV is no longer pending). A document is
-- read only through the files row its résumé or applicant references, and only when that row
-- belongs to the same user. Row locks are taken with the session's lock_timeout (the workers
-- set one): a user holding their own row cannot stall a worker (55P03, retried later without
-- charging an attempt).
CREATE FUNCTION _begin_document(j jobs) RETURNS files
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    r resumes;
    a applicants;
    f files;
BEGIN
    IF j.kind = 'resume' THEN
        SELECT * INTO r FROM resumes WHERE id = j.target_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;  -- deleted since it was queued
        END IF;
        SELECT * INTO f FROM files WHERE id = r.file_id AND user_id = r.user_id;
        IF NOT FOUND THEN
            RETURN NULL;  -- its file is gone (the résumé goes with it)
        END IF;
        UPDATE resumes SET status = 'processing', updated_at = now() WHERE id = r.id;
        UPDATE jobs SET payload = payload || jsonb_build_object('read_version', r.version, 'read_file', f.id)
         WHERE id = j.id;
        RETURN f;
    END IF;
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    IF NOT FOUND OR a.cv_status NOT IN ('pending', 'processing') THEN
        RETURN NULL;
    END IF;
    UPDATE applicants SET cv_status = 'processing', cv_error = NULL WHERE id = a.id;
    SELECT * INTO f FROM files WHERE id = a.cv_file_id AND user_id = a.user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the CV file does not exist' USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE jobs SET payload = payload || jsonb_build_object('read_file', f.id) WHERE id = j.id;
    RETURN f;
END
$$;

-- Where a worker fetches a document's bytes itself, over S3 in its event loop: the S3 bucket
-- and key of a files row whose bytes are there, or nulls when they are in this database's
-- filesystem storage (read with _read_object).
CREATE FUNCTION _s3_location(f files, OUT bucket text, OUT key text) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF f.object_id IS NULL THEN
        IF current_setting('resume_pipeline.storage_backend') = 's3' THEN
            bucket := f.bucket;  -- registered from storage.objects: the object itself
            key := f.name;
        END IF;
        RETURN;
    END IF;
    SELECT l.bucket, l.key INTO bucket, key FROM _storage_locate(f.object_id) l WHERE l.backend = 's3';
END
$$;

-- A result is stored only if it is still the current one: a worker reads the document in one
-- transaction and writes the result in another, and in between the résumé may have been
-- uploaded again (a new version, and a new job) or the CV replaced or asked for again. Then
-- the result is dropped and the newer job does the work. _begin_document noted in the job's
-- payload what it read. text_source: 'ocr' when some of the text was read by OCR, else 'text'.
CREATE FUNCTION _store_parsed(j jobs, content text, parsed jsonb, usage jsonb DEFAULT NULL,
                              text_source text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    read jsonb := (SELECT payload FROM jobs WHERE id = j.id);
BEGIN
    IF j.kind = 'resume' THEN
        UPDATE resumes SET raw_text = content, text_source = _store_parsed.text_source,
                           parsed = _store_parsed.parsed, status = 'completed',
                           error = NULL, llm_usage = usage - 'cache_key', updated_at = now()
         WHERE id = j.target_id AND version = (read ->> 'read_version')::int;
    ELSE
        UPDATE applicants SET cv_data = _store_parsed.parsed, cv_status = 'ready', cv_llm_usage = usage - 'cache_key'
         WHERE id = j.target_id AND cv_status = 'processing' AND cv_file_id = (read ->> 'read_file')::uuid;
    END IF;
END
$$;
-- Stores each document inside the archive as its own object under the archive's name, with
-- the archive's id as zip_id; upload() makes each a résumé in this same transaction.
-- Entries that are not résumé documents, or that the bucket's rules refuse (a type it does not
-- accept, a size over its limit), are listed in the archive's metadata as skipped.
CREATE FUNCTION _process_zip(zip_file_id uuid) RETURNS void
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

-- Records a step's failure on its row; the job keeps the message too. Bookkeeping must not
-- fail on what a user stored (a row at a size limit, a constraint): each write is tried in a
-- subtransaction and a refused one is skipped, the job's own record is enough. Messages are
-- cut to 1,000 characters.
-- A résumé version read before a newer upload does not mark the newer one failed (its own job
-- decides); see _store_parsed.
CREATE FUNCTION _job_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    target_id uuid := j.target_id;
    read_version int := (SELECT payload ->> 'read_version' FROM jobs WHERE id = j.id)::int;
    short text := left(message, 1000);
BEGIN
    CASE j.kind
        WHEN 'resume' THEN
            UPDATE resumes SET status = 'failed', error = short, updated_at = now()
             WHERE id = target_id AND version = coalesce(read_version, version);
        WHEN 'cv' THEN
            UPDATE applicants SET cv_status = 'error', cv_error = short WHERE id = target_id;
        WHEN 'zip' THEN
            UPDATE files SET metadata = metadata || jsonb_build_object('error', short) WHERE id = target_id;
        ELSE
            PERFORM _call_failed(j, short);  -- 52_calls.sql
    END CASE;
EXCEPTION WHEN OTHERS THEN
    RETURN;  -- the row could not take it (locked, gone, at a limit): jobs.last_error keeps it
END
$$;

-- A transient failure may succeed on retry (a crashed or killed parser, I/O, resources,
-- locks, cancels); anything else (bad data, a limit, a missing file or row) fails at once.
CREATE FUNCTION _is_transient(sqlstate text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN left(sqlstate, 2) IN ('08', '40', '53', '55', '57', '58') AND sqlstate NOT IN ('57014', '58P01');

-- Failures that say only that a user holds a lock the step needs (lock_timeout, NOWAIT, a
-- deadlock or serialization conflict): retried soon, and no attempt is charged for them.
CREATE FUNCTION _is_contention(sqlstate text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sqlstate IN ('55P03', '40P01', '40001');

-- Claims the next due job in fair order (fair_at), or one whose worker is gone (its lease
-- expired, it was claimed before the server last started, or its claimant is no longer
-- running): state running, a lease, attempts + 1. The caller commits this before running the
-- job. An abandoned job that already used its attempts is failed here, in a loop (not by
-- recursion: thousands of them must not exhaust the stack). A worker refilling a parser slot
-- asks for documents only (ZIP expansions wait for its main loop), and passes the most jobs one
-- user may have running (all slots but one), so that one user's slow documents never hold
-- every slot while another user's work waits.
CREATE FUNCTION _claim_job(only_user uuid DEFAULT NULL, documents_only boolean DEFAULT false,
                           max_user_running integer DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql VOLATILE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    job_id uuid;
    max_attempts int := current_setting('resume_pipeline.max_attempts')::int;
    abandoned jobs;
    busy uuid[] := '{}';
BEGIN
    IF max_user_running IS NOT NULL THEN
        busy := ARRAY(SELECT r.user_id FROM jobs r WHERE r.state = 'running'
                       GROUP BY r.user_id HAVING count(*) >= max_user_running);
    END IF;
    -- The first due job in fair order, straight from the partial index.
    SELECT j.id INTO job_id FROM jobs j
     WHERE j.state = 'queued' AND j.run_after <= now() AND (only_user IS NULL OR j.user_id = only_user)
       AND (NOT documents_only OR j.kind <> 'zip') AND j.user_id <> ALL (busy)
     ORDER BY j.fair_at
     LIMIT 1
       FOR UPDATE SKIP LOCKED;
    WHILE job_id IS NULL LOOP
        SELECT j.* INTO abandoned FROM jobs j
         WHERE j.state = 'running' AND (only_user IS NULL OR j.user_id = only_user)
           AND (NOT documents_only OR j.kind <> 'zip')
           AND (j.lease_expires_at < now()
                OR j.claimed_at_boot < pg_postmaster_start_time()
                OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = j.claimed_by))
         LIMIT 1
           FOR UPDATE SKIP LOCKED;
        IF abandoned.id IS NULL THEN
            RETURN NULL;
        END IF;
        IF abandoned.attempts < max_attempts THEN
            job_id := abandoned.id;
        ELSE
            -- Every attempt took its worker down with it: it must not loop forever.
            UPDATE jobs SET state = 'failed', finished_at = clock_timestamp(), lease_expires_at = NULL,
                            last_error = left(coalesce(last_error || '; ', '') || 'abandoned by its worker on every attempt', 2000)
             WHERE id = abandoned.id;
            PERFORM _job_failed(abandoned, 'processing was interrupted on every attempt');
        END IF;
    END LOOP;
    UPDATE jobs
       SET state = 'running', attempts = attempts + 1, started_at = clock_timestamp(),
           lease_expires_at = clock_timestamp() + current_setting('resume_pipeline.job_lease')::interval,
           claimed_by = pg_backend_pid(), claimed_at_boot = pg_postmaster_start_time()
     WHERE id = job_id;
    RETURN job_id;
END
$$;

-- The outcome of a failed step: contention with a user's lock is queued again shortly with
-- its attempt given back ('retry'); a transient failure with attempts left is queued again after
-- an exponential backoff with jitter ('retry'); otherwise failed, with the message on the job
-- and on its row ('failed').
CREATE FUNCTION _job_outcome(j jobs, code text, message text, not_before_ms double precision DEFAULT NULL,
                             charge boolean DEFAULT true)
    RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    delay_ms double precision;
    contentions int;
    short text := left(message, 2000);
BEGIN
    IF _is_contention(code) THEN
        -- Backs off (0.5 s, 1 s, 2 s … at most a minute, with jitter): a user who keeps a lock
        -- held costs the workers one lock_timeout a minute, not one a second.
        contentions := coalesce((j.payload ->> 'contentions')::int, 0) + 1;
        UPDATE jobs SET state = 'queued', last_error = short, lease_expires_at = NULL, attempts = attempts - 1,
                        payload = payload || jsonb_build_object('contentions', contentions),
                        run_after = clock_timestamp()
                                    + make_interval(secs => least(0.5 * 2 ^ least(contentions - 1, 10), 60) * (0.75 + random() / 2))
         WHERE id = j.id;
        RETURN 'retry';
    END IF;
    IF NOT charge AND coalesce((j.payload ->> 'throttled')::int, 0) < 100 THEN
        -- The provider is pacing us (429 with a delay): wait as long as it asked, attempt given
        -- back, so a rate-limit storm is ridden out rather than failing jobs. Only after 100
        -- such answers in a row for one job does it count against its attempts.
        UPDATE jobs SET state = 'queued', last_error = short, lease_expires_at = NULL, attempts = attempts - 1,
                        payload = payload || jsonb_build_object('throttled', coalesce((j.payload ->> 'throttled')::int, 0) + 1),
                        run_after = clock_timestamp()
                                    + make_interval(secs => greatest(coalesce(not_before_ms, 1000), 50) / 1000 * (1 + random() / 4))
         WHERE id = j.id;
        RETURN 'retry';
    END IF;
    IF _is_transient(code) AND j.attempts < current_setting('resume_pipeline.max_attempts')::int THEN
        delay_ms := least(extract(epoch FROM current_setting('resume_pipeline.retry_base_delay')::interval) * 1000
                          * 2 ^ (j.attempts - 1), 600000) * (0.5 + random() / 2);
        -- A server that said when to come back (Retry-After) is not asked sooner.
        delay_ms := greatest(delay_ms, coalesce(not_before_ms, 0));
        UPDATE jobs SET state = 'queued', last_error = short, lease_expires_at = NULL,
                        run_after = clock_timestamp() + make_interval(secs => delay_ms / 1000)
         WHERE id = j.id;
        RETURN 'retry';
    END IF;
    UPDATE jobs SET state = 'failed', finished_at = clock_timestamp(), last_error = short,
                    lease_expires_at = NULL
     WHERE id = j.id;
    PERFORM _job_failed(j, message);
    RETURN 'failed';
END
$$;

CREATE FUNCTION _job_done(job_id uuid) RETURNS text
    LANGUAGE plpgsql  -- plpgsql for a cached plan: this runs once per job
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE jobs SET state = 'done', finished_at = clock_timestamp(), last_error = NULL, lease_expires_at = NULL
     WHERE id = job_id;
    RETURN 'done';
END
$$;

-- The job if this session claimed it and it still runs, locked; else a row of nulls.
CREATE FUNCTION _my_job(job_id uuid) RETURNS jobs
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs;
BEGIN
    SELECT * INTO j FROM jobs WHERE id = job_id AND state = 'running' AND claimed_by = pg_backend_pid() FOR UPDATE;
    RETURN j;
END
$$;

-- Queues a job again to wait for a dependency whose circuit is open, its attempt given back;
-- with wait_ms (the dependency is paused or rate-limited that long), until then.
CREATE FUNCTION _requeue_waiting(j jobs, dependency text, wait_ms double precision DEFAULT NULL) RETURNS void
    LANGUAGE sql
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_expires_at = NULL,
                    run_after = clock_timestamp() + coalesce(make_interval(secs => greatest(wait_ms, 0) / 1000),
                                                             least(current_setting('resume_pipeline.circuit_open_ms')::interval,
                                                                   interval '1 second')),
                    last_error = CASE WHEN wait_ms IS NULL THEN format('waiting: the %s circuit is open', dependency)
                                      ELSE format('waiting: %s is paused for %s ms', dependency, round(wait_ms)) END
     WHERE id = j.id;
END;

-- While a dependency's circuit is open a job waits, its attempt given back. True when it waits.
CREATE FUNCTION _wait_for(j jobs, dependency text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF _circuit_allow(dependency) THEN
        RETURN false;
    END IF;
    PERFORM _requeue_waiting(j, dependency);
    RETURN true;
END
$$;

CREATE FUNCTION _wait_for_storage(j jobs) RETURNS boolean
    LANGUAGE sql
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN _wait_for(j, 'storage');

-- A worker's job that must wait for a dependency (its circuit opened while the job was under
-- way, or it is paused for wait_ms): queued again, its attempt given back.
CREATE FUNCTION _job_wait(job_id uuid, dependency text, wait_ms double precision DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    PERFORM _requeue_waiting(j, dependency, wait_ms);
    RETURN 'waiting';
END
$$;
-- Test hook: a job whose payload (writable only by the pipeline's owner) asks for it fails
-- transiently on its first N attempts.
CREATE FUNCTION _debug_fail(j jobs) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF j.attempts <= coalesce((j.payload ->> 'debug_fail_times')::int, 0) THEN
        RAISE EXCEPTION 'injected transient failure (attempt %)', j.attempts USING ERRCODE = 'io_error';
    END IF;
END
$$;

-- Where the text of this session's last document_text() came from: 'ocr' when some of it was
-- read by OCR (an image, a scanned page), else 'text'. _execute_job stores it with the text.
CREATE FUNCTION _last_text_source() RETURNS text
    AS 'MODULE_PATHNAME', 'rp_last_text_source'
    LANGUAGE C STRICT VOLATILE;

-- Runs one claimed job whole, in a subtransaction, and records the outcome: 'done', 'retry',
-- 'failed', 'waiting' (storage circuit open) or 'skipped' (another worker took it over).
CREATE FUNCTION _execute_job(job_id uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
    f files;
    content text;
    source text;
    answer record;
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    IF j.kind NOT IN ('resume', 'cv', 'zip') THEN
        RETURN _run_call_job(j);  -- 52_calls.sql
    END IF;
    IF _wait_for_storage(j) THEN
        RETURN 'waiting';
    END IF;
    IF j.kind <> 'zip' AND current_setting('resume_pipeline.llm_provider') = 'openai' AND _wait_for(j, 'model') THEN
        RETURN 'waiting';
    END IF;
    BEGIN
        PERFORM _debug_fail(j);
        IF j.kind = 'zip' THEN
            PERFORM _process_zip(j.target_id);
        ELSE
            f := _begin_document(j);
            IF f.id IS NOT NULL THEN
                content := document_text(_read_object(f));
                source := _last_text_source();
                IF current_setting('resume_pipeline.llm_provider') = 'openai' THEN
                    answer := _llm_parse(content);
                    PERFORM _store_parsed(j, content, answer.result, answer.usage, source);
                ELSE
                    PERFORM _store_parsed(j, content, parse_resume_builtin(content), NULL, source);
                END IF;
            END IF;
        END IF;
        RETURN _job_done(j.id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    RETURN _job_outcome(j, code, message);
END
$$;
-- A worker running several jobs at once runs a résumé or CV job as steps (src/pg/job_steps.c):
-- this first one begins it (_begin_document) in a transaction; the worker then fetches the
-- document (over S3 when its bytes are there: s3_bucket and s3_key, data null), reads it in a
-- parser process and, with the openai provider, asks the model, all outside any transaction,
-- many jobs side by side; _finish_parse_job writes the result.
-- kind is the job's kind when the worker is to go on ('resume', 'cv', or the test hook's
-- 'debug_hang'; 'zip' runs whole through _execute_job), or what happened instead ('skipped',
-- 'waiting', 'done', 'retry', 'failed').
CREATE FUNCTION _start_parse_job(job_id uuid, OUT kind text, OUT data bytea, OUT s3_bucket text, OUT s3_key text)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
    f files;
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        kind := 'skipped';
        RETURN;
    END IF;
    IF j.kind NOT IN ('resume', 'cv', 'zip') THEN
        kind := j.kind;  -- a call job (52_calls.sql): the worker goes on with _start_call_job
        RETURN;
    END IF;
    IF _wait_for_storage(j) THEN
        kind := 'waiting';
        RETURN;
    END IF;
    IF j.kind = 'zip' THEN
        kind := 'zip';
        RETURN;
    END IF;
    BEGIN
        PERFORM _debug_fail(j);
        f := _begin_document(j);
        IF f.id IS NULL THEN
            kind := _job_done(j.id);
            RETURN;
        END IF;
        SELECT l.bucket, l.key INTO s3_bucket, s3_key FROM _s3_location(f) l;
        IF s3_key IS NULL THEN
            data := _read_object(f);
        END IF;
        -- Test hook, like _debug_fail: the payload (the pipeline owner's to write) may ask the
        -- parser to hang on the first N attempts ('debug_hang').
        kind := CASE WHEN j.attempts <= coalesce((j.payload ->> 'debug_parser_hang_times')::int, 0) THEN 'debug_hang'
                     ELSE j.kind::text END;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    data := NULL;
    s3_bucket := NULL;
    s3_key := NULL;
    kind := _job_outcome(j, code, message);
END
$$;

-- Writes a parsed document (its text and JSON Resume, both UTF-8 as the parser or the model
-- gave them, with what reading it cost), or records the failure of a step (error_state,
-- error_message; retry_after_ms when the server said when to come back; charge false when
-- that failure is the provider pacing us), for a job begun with _start_parse_job. fetched:
-- the document's size and SHA-256 when the worker read it over S3 (a row registered from
-- storage.objects learns them then). A text the database encoding cannot hold fails the job
-- like bad data. text_source: 'ocr' when the parser read some of the text by OCR, else 'text'.
CREATE FUNCTION _finish_parse_job(job_id uuid, content_utf8 bytea, parsed_utf8 bytea, error_state text,
                                  error_message text, usage jsonb DEFAULT NULL, retry_after_ms bigint DEFAULT NULL,
                                  charge boolean DEFAULT true, fetched jsonb DEFAULT NULL,
                                  text_source text DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
    parsed jsonb;
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    IF fetched IS NOT NULL THEN
        UPDATE files SET size = (fetched ->> 'size')::bigint, checksum = fetched ->> 'checksum'
         WHERE id = (SELECT (payload ->> 'read_file')::uuid FROM jobs WHERE id = j.id) AND checksum IS NULL;
    END IF;
    IF error_state IS NOT NULL THEN
        RETURN _job_outcome(j, error_state, error_message, retry_after_ms, charge);
    END IF;
    BEGIN
        parsed := convert_from(parsed_utf8, 'UTF8')::jsonb;
        PERFORM _store_parsed(j, convert_from(content_utf8, 'UTF8'), parsed, usage, text_source);
        IF usage IS NOT NULL THEN
            PERFORM _llm_remember(parsed, usage);
        END IF;
        RETURN _job_done(j.id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    RETURN _job_outcome(j, code, message);
END
$$;
-- A worker's step failed outside its own error handling (while recording its outcome, at
-- COMMIT, in the parser client): the failure is charged to that job alone, like any other.
CREATE FUNCTION _job_error(job_id uuid, code text, message text) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    j jobs := _my_job(job_id);
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    RETURN _job_outcome(j, code, message);
END
$$;

-- Runs up to max_items due jobs now, in this session, each as its own subtransaction: a failed
-- document gets status failed and its error, and the others go on. Work for places where the
-- background workers cannot be loaded. A signed-in user runs only their own jobs; without a
-- user only the pipeline's owner may call it (it then runs everyone's). Returns the number of
-- jobs run. SECURITY DEFINER: the steps write rows and columns users may not write; everything
-- they resolve is the extension's own (search_path ends with pg_temp).
CREATE FUNCTION process_pending(max_items integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := @extschema@.current_user_id();
    id uuid;
    done integer := 0;
BEGIN
    IF uid IS NULL AND NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'process_pending needs a signed-in user, or the pipeline''s owner'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WHILE done < max_items LOOP
        -- Jobs a step enqueues (a ZIP's documents) are claimed in later rounds.
        id := @extschema@._claim_job(uid);
        EXIT WHEN id IS NULL;
        PERFORM @extschema@._execute_job(id);
        done := done + 1;
    END LOOP;
    RETURN done;
END
$$;

-- Commits that queue work wake the background workers (a no-op without them).
CREATE FUNCTION _wake_workers_at_commit() RETURNS trigger
    AS 'MODULE_PATHNAME', 'rp_wake_workers_at_commit'
    LANGUAGE C;
CREATE TRIGGER wake_workers AFTER INSERT OR UPDATE OF state, run_after ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION _wake_workers_at_commit();

-- Realtime. Status changes are announced on each user's own channel, never on a shared one
-- (any session may LISTEN to any channel, and anyone may NOTIFY one): its name is
-- "resume_pipeline_" and 32 hex digits derived from the user id and a random secret made here,
-- which no user can read (src/pg/channel.c). Not dumped: a restored database gets a new secret,
-- and clients ask notification_channel() again.
CREATE TABLE _secrets (name text PRIMARY KEY, value bytea NOT NULL);
INSERT INTO _secrets
VALUES ('notify', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

CREATE FUNCTION _channel_of(user_id uuid) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_channel_of' LANGUAGE C STRICT STABLE;

-- The caller's channel (the pipeline's owner may ask for any user's). LISTEN to it to follow
-- the caller's résumés and applicants. A payload is a hint to read the row again as the user,
-- never the data itself.
CREATE FUNCTION notification_channel(user_id uuid DEFAULT current_user_id()) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF user_id IS DISTINCT FROM @extschema@.current_user_id() AND NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'a user may ask only for their own notification channel'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN @extschema@._channel_of(user_id);
END
$$;

-- Every status change of a résumé: {"table": "resumes", "id", "old", "new"} on its user's
-- channel, delivered at commit (applicants: src/pg/applicant_trigger.c).
CREATE FUNCTION _resume_status_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(_channel_of(NEW.user_id), json_build_object(
        'table', 'resumes', 'id', NEW.id,
        'old', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, 'new', NEW.status)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER resume_status_inserted AFTER INSERT ON resumes
    FOR EACH ROW EXECUTE FUNCTION _resume_status_changed();
CREATE TRIGGER resume_status_changed AFTER UPDATE OF status ON resumes
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION _resume_status_changed();
