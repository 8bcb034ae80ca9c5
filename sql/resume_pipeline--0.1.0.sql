-- resume_pipeline 0.1.0. In order: reading documents (every byte of a document goes to
-- resume_pipeline_parser, a separate process with memory and CPU limits, so a hostile file can
-- fail only its own statement); identity; the data model with row-level security; storage and
-- uploads; the queue and its triggers; processing steps, retries and circuit breakers; queries;
-- the Supabase hook; observability.

\echo Use "CREATE EXTENSION resume_pipeline" to load this file. \quit

-- Every role may call the document functions; what each may see of the data is decided by
-- row-level security on the tables, not by hiding the schema.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Text of every page of a PDF in reading order, pages separated by a form feed (\f).
-- Errors: 22P03 damaged/truncated/not a PDF or empty, 0A000 encrypted, 54000 a limit.
CREATE FUNCTION pdf_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_pdf_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000;

-- Metadata of a PDF: pages, encrypted, locked, pdf_version, title, author, subject, keywords,
-- creator, producer, creation_date, modification_date, linearized. A PDF that needs a
-- password answers with locked = true and null pages instead of failing.
CREATE FUNCTION pdf_info(data bytea) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_pdf_info'
    LANGUAGE C STRICT PARALLEL SAFE COST 1000;

-- Paragraphs of a DOCX main document (word/document.xml), in order, one per line.
CREATE FUNCTION docx_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_docx_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 1000;

-- Text of a PDF, a DOCX or UTF-8 plain text, recognised by content rather than by name.
-- Anything else is an error that names what was found (0A000), e.g. "a PNG image".
CREATE FUNCTION document_text(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_document_text'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000;

-- Regular files of a ZIP archive, in archive order, with safe relative names. Directories and
-- symbolic links are skipped; nested archives come back as bytes, unopened. Archives that
-- break a limit (resume_pipeline.zip_*) or hold an unsafe name ("..", absolute paths, control
-- characters) fail whole, returning nothing.
CREATE FUNCTION zip_entries(data bytea, OUT name text, OUT size bigint, OUT data bytea)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_zip_entries'
    LANGUAGE C STRICT PARALLEL SAFE COST 10000 ROWS 10;

-- Résumé text → JSON Resume (basics.name, email, phone, url, profiles; work[]; education[];
-- skills[]), offline, with general rules: section headings in several languages, patterns for
-- emails, phones and URLs. Absent values are null or empty arrays, never invented.
CREATE FUNCTION parse_resume_builtin(resume_text text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_parse_resume_builtin'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE COST 1000;

-- Test hook, superuser-only: makes the parser process crash ('segv', 'abort'), spin
-- ('loop'), exhaust its memory ('memory') or hang ('hang') so tests can prove that only the
-- parser dies and the calling session gets an ERROR.
CREATE FUNCTION debug_parser_crash(mode text DEFAULT 'segv') RETURNS void
    AS 'MODULE_PATHNAME', 'rp_debug_parser_crash'
    LANGUAGE C STRICT PARALLEL UNSAFE;
REVOKE EXECUTE ON FUNCTION debug_parser_crash(text) FROM PUBLIC;

------------------------------------------------------------------------------------------
-- Identity
------------------------------------------------------------------------------------------

-- The user on whose behalf the current statement runs: auth.uid() where Supabase's auth
-- schema exists, else the "sub" claim of PostgREST's request.jwt.claims, else null (a
-- superuser, the workers, or an anonymous caller). Wrap it as (SELECT current_user_id()) in
-- policies so it is evaluated once per statement.
CREATE FUNCTION current_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
DECLARE
    uid uuid;
    claims text;
    sub text;
BEGIN
    IF to_regprocedure('auth.uid()') IS NOT NULL THEN
        EXECUTE 'SELECT auth.uid()' INTO uid;
        RETURN uid;
    END IF;
    -- PostgREST sets this after verifying the JWT; malformed JSON here is an error, not anonymity.
    claims := nullif(current_setting('request.jwt.claims', true), '');
    IF claims IS NULL THEN
        RETURN NULL;
    END IF;
    sub := claims::jsonb ->> 'sub';
    IF sub ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN
        RETURN sub::uuid;
    END IF;
    RETURN NULL;
END
$$;

------------------------------------------------------------------------------------------
-- Data model (DESIGN.md section 3). Every user table carries user_id, has row-level
-- security, and is registered with pg_extension_config_dump so pg_dump keeps its rows.
------------------------------------------------------------------------------------------

CREATE TYPE processing_status AS ENUM ('pending', 'processing', 'ready', 'error', 'not_provided');
CREATE TYPE overall_status AS ENUM ('uploading', 'processing', 'completed', 'failed');
CREATE TYPE resume_status AS ENUM ('pending', 'processing', 'completed', 'failed');
CREATE TYPE job_state AS ENUM ('queued', 'running', 'done', 'failed');
-- An enum rather than a CHECK: a CHECK is prepared again by every statement that inserts.
CREATE TYPE job_kind AS ENUM ('resume', 'zip', 'cv');

-- One row per auth user. ashby_api_key is a secret: only its owner's row is visible.
CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT current_user_id(),
    email             text,
    ashby_api_key     text,
    ashby_sync_cursor text,
    ashby_features    jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per stored object. name is the object key; a user's keys start with their id.
CREATE TABLE files (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL DEFAULT current_user_id(),
    bucket     text NOT NULL,
    name       text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    mime_type  text,
    checksum   text,                          -- hex SHA-256 of the content
    metadata   jsonb NOT NULL DEFAULT '{}',   -- zip_id of the archive it came from, …
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket, name)
);
CREATE INDEX files_user_idx ON files (user_id);

-- One row per résumé document, from an upload or from inside a ZIP (zip_id).
CREATE TABLE resumes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL DEFAULT current_user_id(),
    file_id           uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    bucket            text NOT NULL,
    object_name       text NOT NULL,
    original_filename text NOT NULL,
    mime_type         text,
    status            resume_status NOT NULL DEFAULT 'pending',
    zip_id            uuid REFERENCES files (id) ON DELETE SET NULL,
    raw_text          text,
    parsed            jsonb,                  -- JSON Resume shape
    error             text,
    content_tsvector  tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(raw_text, ''))) STORED,
    storage_path      text GENERATED ALWAYS AS (bucket || '/' || object_name) STORED,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id)
);
CREATE INDEX resumes_user_idx ON resumes (user_id, created_at DESC);
CREATE INDEX resumes_zip_idx ON resumes (zip_id) WHERE zip_id IS NOT NULL;
CREATE INDEX resumes_search_idx ON resumes USING gin (content_tsvector);

-- Earlier versions of a résumé: a new upload of the same object keeps the old one here.
CREATE TABLE resume_versions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL DEFAULT current_user_id(),
    resume_id   uuid NOT NULL REFERENCES resumes (id) ON DELETE CASCADE,
    version     integer NOT NULL,
    checksum    text,
    raw_text    text,
    parsed      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resume_id, version)
);

CREATE TABLE job_postings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL DEFAULT current_user_id(),
    title           text NOT NULL,
    description     text,
    required_skills text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_postings_user_idx ON job_postings (user_id);

-- An analysis run of many résumés for one context (a job posting, or general when null).
CREATE TABLE analysis_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL DEFAULT current_user_id(),
    session_name   text NOT NULL,
    job_posting_id uuid REFERENCES job_postings (id) ON DELETE SET NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);
CREATE INDEX analysis_sessions_user_idx ON analysis_sessions (user_id);

-- One résumé analysed in one session, stored once.
CREATE TABLE resume_analyses (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL DEFAULT current_user_id(),
    resume_id           uuid NOT NULL REFERENCES resumes (id) ON DELETE CASCADE,
    analysis_session_id uuid NOT NULL REFERENCES analysis_sessions (id) ON DELETE CASCADE,
    overall_fit_score   numeric(5, 2) CHECK (overall_fit_score BETWEEN 0 AND 100),
    skill_match_score   numeric(5, 2) CHECK (skill_match_score BETWEEN 0 AND 100),
    summary             text,
    reasoning           text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resume_id, analysis_session_id)
);
CREATE INDEX resume_analyses_session_idx ON resume_analyses (analysis_session_id);

-- Score from the model's JSON, tolerant of a missing or non-numeric value (generated
-- columns need an immutable expression that never fails). No SET clause: it would stop the
-- planner inlining the function into every applicants write (a RETURN body is bound to its
-- operators when created, so search_path cannot change it).
CREATE FUNCTION score_of(ai_data jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(ai_data -> 'score') = 'number' THEN (ai_data ->> 'score')::numeric
            WHEN ai_data ->> 'score' ~ '^\s*-?\d+(\.\d+)?\s*$' THEN btrim(ai_data ->> 'score')::numeric END;

-- An applicant's overall status from its sub-statuses (seed "Event-Driven with Generated
-- Columns"): failed when the CV or LinkedIn step failed, completed when the AI step is ready,
-- processing while the CV is, uploading otherwise. The generated column uses it; the C trigger
-- that announces changes applies the same rule (test/integration/realtime.sh checks they agree).
CREATE FUNCTION _overall_status(cv processing_status, li processing_status, ai processing_status)
    RETURNS overall_status
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN cv = 'error' OR li = 'error' THEN 'failed'::overall_status
            WHEN ai = 'ready' THEN 'completed'::overall_status
            WHEN cv = 'processing' THEN 'processing'::overall_status
            ELSE 'uploading'::overall_status END;

-- Applicants (seed "Event-Driven with Generated Columns"): a sub-status per source, and an
-- overall status and score the database derives. name/email/phone follow cv_data.
CREATE TABLE applicants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL DEFAULT current_user_id(),
    cv_file_id uuid REFERENCES files (id) ON DELETE SET NULL,
    cv_status  processing_status NOT NULL DEFAULT 'not_provided',
    cv_data    jsonb,
    cv_error   text,
    li_status  processing_status NOT NULL DEFAULT 'not_provided',
    li_data    jsonb,
    gh_status  processing_status NOT NULL DEFAULT 'not_provided',
    gh_data    jsonb,
    ai_status  processing_status NOT NULL DEFAULT 'not_provided',
    ai_data    jsonb,
    name       text,
    email      text,
    phone      text,
    status     overall_status GENERATED ALWAYS AS (_overall_status(cv_status, li_status, ai_status)) STORED,
    score      numeric GENERATED ALWAYS AS (score_of(ai_data)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applicants_user_idx ON applicants (user_id, created_at DESC);

-- The durable queue: enqueued in the caller's transaction, so a rollback leaves no job and a
-- commit never loses one. kind: 'resume' (extract and parse a résumé), 'zip' (expand an
-- archive into résumés), 'cv' (an applicant's CV).
-- Job ids grow with time (UUID version 7 layout, src/pg/job_id.c): new jobs go to the right
-- edge of the primary key, and ids sort by creation.
CREATE FUNCTION _new_job_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'rp_new_job_id' LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE TABLE jobs (
    id               uuid PRIMARY KEY DEFAULT _new_job_id(),
    user_id          uuid NOT NULL,
    kind             job_kind NOT NULL,
    target_id        uuid NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}',
    state            job_state NOT NULL DEFAULT 'queued',
    attempts         integer NOT NULL DEFAULT 0,
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_expires_at timestamptz,
    claimed_by       integer,                 -- pid of the backend or worker running it
    claimed_at_boot  timestamptz,             -- pg_postmaster_start_time() when claimed
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX jobs_queued_idx ON jobs (run_after, created_at) WHERE state = 'queued';
-- _enqueue looks for a queued job of a document before queuing another. CV jobs are left out:
-- the applicants trigger queues one only when a CV becomes pending, the step re-reads the
-- applicant under lock and stores only a current result (a second job finds nothing to do or
-- does the newer work), and an index entry would cost every applicant INSERT
-- (bench/trigger_overhead.sh).
CREATE INDEX jobs_target_idx ON jobs (kind, target_id) WHERE kind <> 'cv';
CREATE INDEX jobs_running_idx ON jobs (lease_expires_at) WHERE state = 'running';

-- Row-level security: a user sees and changes only rows whose user_id is theirs. The
-- extension owner (and superusers) bypass it: that is how the pipeline writes.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['files', 'resumes', 'resume_versions', 'job_postings',
                             'analysis_sessions', 'resume_analyses', 'applicants'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_rows ON %I USING (user_id = (SELECT current_user_id())) '
                       'WITH CHECK (user_id = (SELECT current_user_id()))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO PUBLIC', t);
    END LOOP;
END
$$;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_row ON users USING (id = (SELECT current_user_id())) WITH CHECK (id = (SELECT current_user_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO PUBLIC;
-- A user's object keys live under their own prefix, so nobody can take another's name.
CREATE POLICY own_prefix ON files AS RESTRICTIVE FOR INSERT
    WITH CHECK (name LIKE user_id::text || '/%');
CREATE POLICY own_prefix_update ON files AS RESTRICTIVE FOR UPDATE
    WITH CHECK (name LIKE user_id::text || '/%');
-- Users may watch their own jobs; only the pipeline changes them.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_jobs ON jobs FOR SELECT USING (user_id = (SELECT current_user_id()));
GRANT SELECT ON jobs TO PUBLIC;
-- Generated and derived columns are the pipeline's to write.
REVOKE UPDATE ON resumes FROM PUBLIC;
GRANT UPDATE (original_filename) ON resumes TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('users', '');
SELECT pg_catalog.pg_extension_config_dump('files', '');
SELECT pg_catalog.pg_extension_config_dump('resumes', '');
SELECT pg_catalog.pg_extension_config_dump('resume_versions', '');
SELECT pg_catalog.pg_extension_config_dump('job_postings', '');
SELECT pg_catalog.pg_extension_config_dump('analysis_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('resume_analyses', '');
SELECT pg_catalog.pg_extension_config_dump('applicants', '');
SELECT pg_catalog.pg_extension_config_dump('jobs', '');

------------------------------------------------------------------------------------------
-- Storage: the filesystem backend (resume_pipeline.storage_root). Writes follow the
-- transaction; an object is reachable only through a files row the caller can see.
------------------------------------------------------------------------------------------

-- What the bytes are: 'pdf', 'docx', 'zip', 'text' or 'other' (read in the parser process).
CREATE FUNCTION document_kind(data bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'rp_document_kind'
    LANGUAGE C STRICT PARALLEL SAFE COST 1000;

-- The bytes of a stored object whose files row the caller can see.
CREATE FUNCTION storage_get(bucket text, name text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'rp_sql_storage_get'
    LANGUAGE C STRICT VOLATILE;

-- Writes an object whose files row exists and is visible; upload() is the way in.
CREATE FUNCTION _storage_write(bucket text, name text, data bytea) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rp_sql_storage_write'
    LANGUAGE C STRICT VOLATILE;

-- Stores an object and registers it in files, in the caller's transaction. The key is put
-- under the user's prefix ("<user_id>/<name>") unless it is there already. Uploading the same
-- key again replaces the object; a résumé then gets a new version. Returns the files id.
CREATE FUNCTION upload(bucket text, name text, data bytea, metadata jsonb DEFAULT '{}',
                       user_id uuid DEFAULT current_user_id()) RETURNS uuid
    LANGUAGE plpgsql VOLATILE
    SET search_path = @extschema@, pg_catalog
AS $$
#variable_conflict use_variable
DECLARE
    key text;
    kind text;
    file_id uuid;
    previous text;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'upload needs a user: no user id given and none in the request'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass user_id, or set request.jwt.claims (PostgREST and Supabase do).';
    END IF;
    key := CASE WHEN name LIKE user_id::text || '/%' THEN name ELSE user_id::text || '/' || name END;
    kind := document_kind(data);
    SELECT f.checksum INTO previous FROM files f WHERE f.bucket = upload.bucket AND f.name = key;
    INSERT INTO files AS f (user_id, bucket, name, size, mime_type, checksum, metadata)
    VALUES (user_id, bucket, key, length(data),
            CASE kind WHEN 'pdf' THEN 'application/pdf'
                      WHEN 'docx' THEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
                      WHEN 'zip' THEN 'application/zip'
                      WHEN 'text' THEN 'text/plain'
                      ELSE 'application/octet-stream' END,
            encode(sha256(data), 'hex'), coalesce(metadata, '{}'))
    ON CONFLICT ON CONSTRAINT files_bucket_name_key DO UPDATE
        SET size = excluded.size, mime_type = excluded.mime_type, checksum = excluded.checksum,
            metadata = f.metadata || excluded.metadata
    RETURNING f.id INTO file_id;
    PERFORM _storage_write(bucket, key, data);
    PERFORM _register_document(file_id, previous);
    RETURN file_id;
END
$$;

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
    SET search_path = @extschema@, pg_catalog
AS $$
BEGIN
    INSERT INTO jobs (kind, target_id, user_id)
    SELECT _enqueue.kind, _enqueue.target_id, _enqueue.user_id
     WHERE NOT EXISTS (SELECT 1 FROM jobs j
                        WHERE j.kind = _enqueue.kind AND j.target_id = _enqueue.target_id
                          AND j.kind <> 'cv'  -- what jobs_target_idx covers (documents only)
                          AND j.state = 'queued');
END
$$;
REVOKE EXECUTE ON FUNCTION _enqueue(job_kind, uuid, uuid) FROM PUBLIC;

CREATE FUNCTION _is_resume_type(mime_type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN mime_type IN ('application/pdf',
                     'application/vnd.openxmlformats-officedocument.wordprocessingml.document');

-- True when a row version with this xmin was written by the current transaction or one of
-- its subtransactions.
CREATE FUNCTION _written_by_this_transaction(xmin xid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_written_by_this_transaction'
    LANGUAGE C STRICT STABLE;

-- Registers a stored object: a PDF or DOCX becomes a résumé (a new version when its content
-- changed), a ZIP is queued for expansion. zip_id comes from the metadata and must name a file
-- of the same user. upload() and the Supabase storage.objects trigger call it in the
-- uploader's transaction. (It is not a trigger on files itself, so that restoring a dump,
-- which reloads files and resumes side by side, does not create résumés a second time.)
CREATE FUNCTION _register_document(file_id uuid, previous_checksum text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    f files;
    zip uuid;
    resume resumes;
BEGIN
    SELECT * INTO STRICT f FROM files WHERE id = file_id;
    -- Anyone may call this, but only for a files row their own transaction just wrote (under
    -- their row-level security), so nobody can touch another user's résumés through it.
    IF NOT _written_by_this_transaction(f.xmin) THEN
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
            INSERT INTO resume_versions (user_id, resume_id, version, checksum, raw_text, parsed)
            VALUES (resume.user_id, resume.id, resume.version, previous_checksum, resume.raw_text, resume.parsed);
            UPDATE resumes SET version = version + 1, status = 'pending', raw_text = NULL, parsed = NULL,
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
--  * status changes are announced on the channel resume_pipeline, delivered at commit:
--    {"table", "id", "user_id", "old", "new", "changed": {"cv_status": {"old", "new"}, ...}}
CREATE FUNCTION _applicant_write() RETURNS trigger
    AS 'MODULE_PATHNAME', 'rp_applicant_write' LANGUAGE C;
-- It writes jobs without the caller's privileges on it: nobody else may attach it to a table.
REVOKE EXECUTE ON FUNCTION _applicant_write() FROM PUBLIC;
CREATE TRIGGER applicant_write BEFORE INSERT OR UPDATE ON applicants
    FOR EACH ROW EXECUTE FUNCTION _applicant_write();

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
REVOKE EXECUTE ON FUNCTION _circuit_allow(text), _circuit_record(text, boolean) FROM PUBLIC;

-- Reads an object for a step, reporting the outcome to the storage circuit: transient
-- failures count against it, a success closes it.
CREATE FUNCTION _read_object(bucket text, name text) RETURNS bytea
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    data bytea;
BEGIN
    BEGIN
        data := storage_get(bucket, name);
    EXCEPTION WHEN OTHERS THEN
        IF _is_transient(SQLSTATE) THEN
            PERFORM _circuit_record('storage', false);
        END IF;
        RAISE;
    END;
    PERFORM _circuit_record('storage', true);
    RETURN data;
END
$$;

-- The two halves of a résumé or CV step, around text extraction and parsing (which the
-- session does inline, or a worker does for several jobs at once in parallel parser
-- processes). _begin_document marks the row processing and returns the document, or null
-- when there is nothing to do (the row is gone, or the CV is no longer pending). The CV file
-- must be the applicant owner's: a user cannot have someone else's CV read by naming its id.
CREATE FUNCTION _begin_document(j jobs) RETURNS bytea
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
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
        UPDATE resumes SET status = 'processing', updated_at = now() WHERE id = r.id;
        UPDATE jobs SET payload = payload || jsonb_build_object('read_version', r.version) WHERE id = j.id;
        RETURN _read_object(r.bucket, r.object_name);
    END IF;
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    IF NOT FOUND OR a.cv_status NOT IN ('pending', 'processing') THEN
        RETURN NULL;
    END IF;
    UPDATE applicants SET cv_status = 'processing', cv_error = NULL WHERE id = a.id;
    SELECT * INTO f FROM files WHERE id = a.cv_file_id AND user_id = a.user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the CV file does not exist or belongs to another user'
            USING ERRCODE = 'undefined_object';
    END IF;
    UPDATE jobs SET payload = payload || jsonb_build_object('read_file', f.id) WHERE id = j.id;
    RETURN _read_object(f.bucket, f.name);
END
$$;

-- A result is stored only if it is still the current one: a worker reads the document in one
-- transaction and writes the result in another, and in between the résumé may have been
-- uploaded again (a new version, and a new job) or the CV replaced or asked for again. Then
-- the result is dropped and the newer job does the work. _begin_document noted in the job's
-- payload what it read.
CREATE FUNCTION _store_parsed(j jobs, content text, parsed jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    read jsonb := (SELECT payload FROM jobs WHERE id = j.id);
BEGIN
    IF j.kind = 'resume' THEN
        UPDATE resumes SET raw_text = content, parsed = _store_parsed.parsed, status = 'completed',
                           error = NULL, updated_at = now()
         WHERE id = j.target_id AND version = (read ->> 'read_version')::int;
    ELSE
        UPDATE applicants SET cv_data = _store_parsed.parsed, cv_status = 'ready'
         WHERE id = j.target_id AND cv_status = 'processing' AND cv_file_id = (read ->> 'read_file')::uuid;
    END IF;
END
$$;

-- Stores each document inside the archive as its own object under the archive's name, with
-- the archive's id as zip_id; upload() makes each a résumé in this same transaction.
-- Entries that are not PDF or DOCX are listed in the archive's metadata as skipped.
CREATE FUNCTION _process_zip(zip_file_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    z files;
    e record;
    base text;
    added int := 0;
    skipped jsonb := '[]';
BEGIN
    SELECT * INTO z FROM files WHERE id = zip_file_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    base := regexp_replace(z.name, '\.zip$', '', 'i');
    FOR e IN SELECT * FROM zip_entries(_read_object(z.bucket, z.name)) LOOP
        IF document_kind(e.data) IN ('pdf', 'docx') THEN
            PERFORM upload(z.bucket, base || '/' || e.name, e.data,
                           jsonb_build_object('zip_id', z.id, 'zip_entry', e.name), z.user_id);
            added := added + 1;
        ELSE
            skipped := skipped || to_jsonb(e.name);
        END IF;
    END LOOP;
    UPDATE files SET metadata = metadata || jsonb_build_object('expanded', added, 'skipped', skipped)
     WHERE id = z.id;
END
$$;

-- Records a step's failure on its row; the job keeps the message too.
-- A résumé version read before a newer upload does not mark the newer one failed (its own job
-- decides); see _store_parsed.
CREATE FUNCTION _job_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    target_id uuid := j.target_id;
    read_version int := (SELECT payload ->> 'read_version' FROM jobs WHERE id = j.id)::int;
BEGIN
    CASE j.kind
        WHEN 'resume' THEN
            UPDATE resumes SET status = 'failed', error = message, updated_at = now()
             WHERE id = target_id AND version = coalesce(read_version, version);
        WHEN 'cv' THEN
            UPDATE applicants SET cv_status = 'error', cv_error = message WHERE id = target_id;
        WHEN 'zip' THEN
            UPDATE files SET metadata = metadata || jsonb_build_object('error', message) WHERE id = target_id;
    END CASE;
END
$$;

-- A transient failure may succeed on retry (a crashed or killed parser, I/O, resources,
-- locks, cancels); anything else (bad data, a limit, a missing file row) fails at once.
CREATE FUNCTION _is_transient(sqlstate text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN left(sqlstate, 2) IN ('08', '40', '53', '55', '57', '58') AND sqlstate <> '57014';

-- Claims the next due job (or one whose worker is gone: its lease expired, it was claimed
-- before the server last started, or its claimant is no longer running): state running, a
-- lease, attempts + 1. The caller commits this before running the job.
CREATE FUNCTION _claim_job(only_user uuid DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql VOLATILE
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    job_id uuid;
BEGIN
    -- The oldest due job, straight from the partial index (no sort of the whole queue).
    SELECT j.id INTO job_id FROM jobs j
     WHERE j.state = 'queued' AND j.run_after <= now() AND (only_user IS NULL OR j.user_id = only_user)
     ORDER BY j.run_after, j.created_at
     LIMIT 1
       FOR UPDATE SKIP LOCKED;
    IF job_id IS NULL THEN
        SELECT j.id INTO job_id FROM jobs j
         WHERE j.state = 'running' AND (only_user IS NULL OR j.user_id = only_user)
           AND (j.lease_expires_at < now()
                OR j.claimed_at_boot < pg_postmaster_start_time()
                OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = j.claimed_by))
         LIMIT 1
           FOR UPDATE SKIP LOCKED;
        -- A job whose every attempt took its worker down with it must not loop forever.
        IF job_id IS NOT NULL
           AND (SELECT attempts FROM jobs WHERE id = job_id) >= current_setting('resume_pipeline.max_attempts')::int THEN
            UPDATE jobs SET state = 'failed', finished_at = clock_timestamp(), lease_expires_at = NULL,
                            last_error = coalesce(last_error || '; ', '') || 'abandoned by its worker on every attempt'
             WHERE id = job_id;
            PERFORM _job_failed(jobs, 'processing was interrupted on every attempt')
               FROM jobs WHERE id = job_id;
            RETURN _claim_job(only_user);
        END IF;
    END IF;
    IF job_id IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE jobs
       SET state = 'running', attempts = attempts + 1, started_at = clock_timestamp(),
           lease_expires_at = clock_timestamp() + current_setting('resume_pipeline.job_lease')::interval,
           claimed_by = pg_backend_pid(), claimed_at_boot = pg_postmaster_start_time()
     WHERE id = job_id;
    RETURN job_id;
END
$$;
REVOKE EXECUTE ON FUNCTION _claim_job(uuid) FROM PUBLIC;

-- The outcome of a failed step: for a transient failure with attempts left, queued again
-- after an exponential backoff with jitter ('retry'); otherwise failed, with the message on the
-- job and on its row ('failed').
CREATE FUNCTION _job_outcome(j jobs, code text, message text) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    delay_ms double precision;
BEGIN
    IF _is_transient(code) AND j.attempts < current_setting('resume_pipeline.max_attempts')::int THEN
        delay_ms := least(extract(epoch FROM current_setting('resume_pipeline.retry_base_delay')::interval) * 1000
                          * 2 ^ (j.attempts - 1), 600000) * (0.5 + random() / 2);
        UPDATE jobs SET state = 'queued', last_error = message, lease_expires_at = NULL,
                        run_after = clock_timestamp() + make_interval(secs => delay_ms / 1000)
         WHERE id = j.id;
        RETURN 'retry';
    END IF;
    UPDATE jobs SET state = 'failed', finished_at = clock_timestamp(), last_error = message,
                    lease_expires_at = NULL
     WHERE id = j.id;
    PERFORM _job_failed(j, message);
    RETURN 'failed';
END
$$;

CREATE FUNCTION _job_done(job_id uuid) RETURNS text
    LANGUAGE plpgsql  -- plpgsql for a cached plan: this runs once per job
    SET search_path = @extschema@, pg_catalog
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
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    j jobs;
BEGIN
    SELECT * INTO j FROM jobs WHERE id = job_id AND state = 'running' AND claimed_by = pg_backend_pid() FOR UPDATE;
    RETURN j;
END
$$;

-- While the storage circuit is open a job waits, its attempt given back. True when it waits.
CREATE FUNCTION _wait_for_storage(j jobs) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
BEGIN
    IF _circuit_allow('storage') THEN
        RETURN false;
    END IF;
    UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_expires_at = NULL,
                    run_after = clock_timestamp() + least(current_setting('resume_pipeline.circuit_open_ms')::interval,
                                                          interval '1 second'),
                    last_error = 'waiting: the storage circuit is open'
     WHERE id = j.id;
    RETURN true;
END
$$;

-- Test hook: a job whose payload (writable only by the pipeline's owner) asks for it fails
-- transiently on its first N attempts.
CREATE FUNCTION _debug_fail(j jobs) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF j.attempts <= coalesce((j.payload ->> 'debug_fail_times')::int, 0) THEN
        RAISE EXCEPTION 'injected transient failure (attempt %)', j.attempts USING ERRCODE = 'io_error';
    END IF;
END
$$;

-- Runs one claimed job whole, in a subtransaction, and records the outcome: 'done', 'retry',
-- 'failed', 'waiting' (storage circuit open) or 'skipped' (another worker took it over).
CREATE FUNCTION _execute_job(job_id uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    j jobs := _my_job(job_id);
    document bytea;
    content text;
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    IF _wait_for_storage(j) THEN
        RETURN 'waiting';
    END IF;
    BEGIN
        PERFORM _debug_fail(j);
        IF j.kind = 'zip' THEN
            PERFORM _process_zip(j.target_id);
        ELSE
            document := _begin_document(j);
            IF document IS NOT NULL THEN
                content := document_text(document);
                PERFORM _store_parsed(j, content, parse_resume_builtin(content));
            END IF;
        END IF;
        RETURN _job_done(j.id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    RETURN _job_outcome(j, code, message);
END
$$;

-- A worker running several jobs at once splits a résumé or CV job in three: this first part
-- begins it (_begin_document); the worker parses all its documents in
-- parallel parser processes, outside any transaction; _finish_parse_job writes each result.
-- kind is the job's kind when the worker is to go on ('resume', 'cv'; 'zip' runs whole through
-- _execute_job), or what happened instead ('skipped', 'waiting', 'done', 'retry', 'failed').
CREATE FUNCTION _start_parse_job(job_id uuid, OUT kind text, OUT data bytea) RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    j jobs := _my_job(job_id);
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        kind := 'skipped';
        RETURN;
    END IF;
    IF _wait_for_storage(j) THEN
        kind := 'waiting';
        RETURN;
    END IF;
    IF j.kind NOT IN ('resume', 'cv') THEN
        kind := j.kind;
        RETURN;
    END IF;
    BEGIN
        PERFORM _debug_fail(j);
        data := _begin_document(j);
        kind := CASE WHEN data IS NULL THEN _job_done(j.id) ELSE j.kind::text END;
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    data := NULL;
    kind := _job_outcome(j, code, message);
END
$$;

-- Writes a parsed document (its text and JSON Resume, both UTF-8 as the parser sent them), or
-- records the parser's failure (error_state, error_message), for a job begun with
-- _start_parse_job. A text the database encoding cannot hold fails the job like bad data.
CREATE FUNCTION _finish_parse_job(job_id uuid, content_utf8 bytea, parsed_utf8 bytea, error_state text,
                                  error_message text)
    RETURNS text
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    j jobs := _my_job(job_id);
    message text;
    code text;
BEGIN
    IF j.id IS NULL THEN
        RETURN 'skipped';
    END IF;
    IF error_state IS NOT NULL THEN
        RETURN _job_outcome(j, error_state, error_message);
    END IF;
    BEGIN
        PERFORM _store_parsed(j, convert_from(content_utf8, 'UTF8'), convert_from(parsed_utf8, 'UTF8')::jsonb);
        RETURN _job_done(j.id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    END;
    RETURN _job_outcome(j, code, message);
END
$$;
REVOKE EXECUTE ON FUNCTION _start_parse_job(uuid), _finish_parse_job(uuid, bytea, bytea, text, text),
                           _job_outcome(jobs, text, text), _job_failed(jobs, text), _job_done(uuid), _my_job(uuid),
                           _begin_document(jobs), _store_parsed(jobs, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION _execute_job(uuid) FROM PUBLIC;

-- Runs up to max_items due jobs now, in this session, each as its own subtransaction: a failed
-- document gets status failed and its error, and the others go on. Work for places where the
-- background workers cannot be loaded. A user (a request with a user id) runs only their own
-- jobs. Returns the number of jobs run.
CREATE FUNCTION process_pending(max_items integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    uid uuid := current_user_id();
    id uuid;
    done integer := 0;
BEGIN
    WHILE done < max_items LOOP
        -- Jobs a step enqueues (a ZIP's documents) are claimed in later rounds.
        id := _claim_job(uid);
        EXIT WHEN id IS NULL;
        PERFORM _execute_job(id);
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

-- Realtime: every status change of a résumé is announced on the channel resume_pipeline as
-- {"table", "id", "user_id", "old", "new"}, delivered at commit (applicants: see
-- _applicant_changed).
CREATE FUNCTION _resume_status_changed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('resume_pipeline', json_build_object(
        'table', 'resumes', 'id', NEW.id, 'user_id', NEW.user_id,
        'old', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, 'new', NEW.status)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER resume_status_inserted AFTER INSERT ON resumes
    FOR EACH ROW EXECUTE FUNCTION _resume_status_changed();
CREATE TRIGGER resume_status_changed AFTER UPDATE OF status ON resumes
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION _resume_status_changed();

------------------------------------------------------------------------------------------
-- Queries (seed "Industry-Level Resume Management"). They run as the caller, so row-level
-- security keeps each user to their own rows.
------------------------------------------------------------------------------------------

-- The caller's résumés not yet analysed in a completed session for this context (a job
-- posting, or the general context when null).
CREATE FUNCTION available_resumes(job_posting_id uuid DEFAULT NULL) RETURNS SETOF resumes
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog
BEGIN ATOMIC
    SELECT r.* FROM resumes r
     WHERE r.user_id = current_user_id()
       AND NOT EXISTS (
           SELECT 1 FROM resume_analyses ra
             JOIN analysis_sessions s ON s.id = ra.analysis_session_id
            WHERE ra.resume_id = r.id AND s.status = 'completed'
              AND s.job_posting_id IS NOT DISTINCT FROM available_resumes.job_posting_id)
     ORDER BY r.created_at DESC;
END;

-- Every analysis of one résumé, newest first, with its session and job posting.
CREATE FUNCTION analysis_history(resume_id uuid)
    RETURNS TABLE (analysis_id uuid, analysis_session_id uuid, session_name text, session_status text,
                   job_posting_id uuid, job_title text, overall_fit_score numeric, skill_match_score numeric,
                   summary text, reasoning text, created_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog
BEGIN ATOMIC
    SELECT ra.id, s.id, s.session_name, s.status, s.job_posting_id, jp.title, ra.overall_fit_score,
           ra.skill_match_score, ra.summary, ra.reasoning, ra.created_at
      FROM resume_analyses ra
      JOIN analysis_sessions s ON s.id = ra.analysis_session_id
      LEFT JOIN job_postings jp ON jp.id = s.job_posting_id
     WHERE ra.resume_id = analysis_history.resume_id
     ORDER BY ra.created_at DESC;
END;

-- The caller's résumés ranked by full-text match (web search syntax: "quoted phrases", OR, -not).
CREATE FUNCTION search_resumes(query text)
    RETURNS TABLE (resume_id uuid, original_filename text, candidate_name text, rank real)
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog
BEGIN ATOMIC
    SELECT r.id, r.original_filename, r.parsed #>> '{basics,name}', ts_rank(r.content_tsvector, q)
      FROM resumes r, websearch_to_tsquery('simple'::regconfig, search_resumes.query) q
     WHERE r.content_tsvector @@ q
     ORDER BY 4 DESC, r.created_at DESC;
END;

-- How far a ZIP batch has got: its résumés by status (pending counts those being processed).
CREATE FUNCTION batch_progress(zip_file_id uuid)
    RETURNS TABLE (total integer, pending integer, completed integer, failed integer)
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog
BEGIN ATOMIC
    SELECT count(*)::int,
           count(*) FILTER (WHERE status IN ('pending', 'processing'))::int,
           count(*) FILTER (WHERE status = 'completed')::int,
           count(*) FILTER (WHERE status = 'failed')::int
      FROM resumes WHERE zip_id = batch_progress.zip_file_id;
END;

------------------------------------------------------------------------------------------
-- Supabase: where storage.objects exists, uploads to the 'resumes' bucket register
-- themselves in files, so they flow into the same trigger unchanged.
------------------------------------------------------------------------------------------

CREATE FUNCTION _on_storage_object() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    o jsonb := to_jsonb(NEW);
    -- to_jsonb() turns SQL nulls into JSON nulls; only objects merge.
    meta jsonb := CASE WHEN jsonb_typeof(o -> 'metadata') = 'object' THEN o -> 'metadata' ELSE '{}' END
               || CASE WHEN jsonb_typeof(o -> 'user_metadata') = 'object' THEN o -> 'user_metadata' ELSE '{}' END;
    owner uuid;
    file_id uuid;
BEGIN
    IF o ->> 'bucket_id' IS DISTINCT FROM 'resumes' THEN
        RETURN NULL;
    END IF;
    owner := coalesce(o ->> 'owner_id', o ->> 'owner', split_part(o ->> 'name', '/', 1))::uuid;
    INSERT INTO files (user_id, bucket, name, size, mime_type, metadata)
    VALUES (owner, 'resumes', o ->> 'name', coalesce((meta ->> 'size')::bigint, 0),
            CASE WHEN meta ->> 'mimetype' IS NOT NULL THEN meta ->> 'mimetype'
                 WHEN o ->> 'name' ~* '\.pdf$' THEN 'application/pdf'
                 WHEN o ->> 'name' ~* '\.docx$' THEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
                 WHEN o ->> 'name' ~* '\.zip$' THEN 'application/zip' END,
            meta - 'size' - 'mimetype')
    ON CONFLICT (bucket, name) DO UPDATE SET size = excluded.size, metadata = files.metadata || excluded.metadata
    RETURNING id INTO file_id;
    PERFORM _register_document(file_id, NULL);
    RETURN NULL;
END
$$;

DO $$
BEGIN
    IF to_regclass('storage.objects') IS NOT NULL THEN
        CREATE TRIGGER resume_pipeline_object_registered AFTER INSERT ON storage.objects
            FOR EACH ROW EXECUTE FUNCTION @extschema@._on_storage_object();
    END IF;
END
$$;

------------------------------------------------------------------------------------------
-- Observability. They run as the caller: a user sees their own jobs, the pipeline's owner all.
------------------------------------------------------------------------------------------

CREATE FUNCTION _workers_alive() RETURNS integer
    AS 'MODULE_PATHNAME', 'rp_workers_alive' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_read_latency(OUT quantile float8, OUT milliseconds float8, OUT reads bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_storage_read_latency' LANGUAGE C STRICT VOLATILE;

-- Jobs by kind and state, with the age of the oldest.
CREATE VIEW job_overview WITH (security_invoker = true) AS
SELECT kind, state, count(*) AS jobs, min(created_at) AS oldest, now() - min(created_at) AS oldest_age
  FROM jobs
 GROUP BY kind, state;

-- One look at the pipeline: database, storage, model, queue, workers, circuits.
CREATE FUNCTION health() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'database', jsonb_build_object('status', 'ok', 'name', current_database()),
        'storage', jsonb_build_object(
            'backend', 'filesystem',
            'root', coalesce(nullif(current_setting('resume_pipeline.storage_root'), ''),
                             'resume_pipeline_storage in the data directory'),
            'circuit', _circuit_state('storage')),
        'model', jsonb_build_object('provider', 'builtin', 'circuit', _circuit_state('model')),
        'queue_depth', (SELECT count(*) FROM jobs WHERE state = 'queued'),
        'running', (SELECT count(*) FROM jobs WHERE state = 'running'),
        'done', (SELECT count(*) FROM jobs WHERE state = 'done'),
        'failed', (SELECT count(*) FROM jobs WHERE state = 'failed'),
        'workers_alive', _workers_alive(),
        'workers_configured', current_setting('resume_pipeline.workers')::int,
        'workers_database', current_setting('resume_pipeline.database'),
        'last_check', now());
END;

-- Prometheus text format: jobs by kind and state, success ratio, end-to-end processing time
-- (queued to finished) as a histogram, queue depth, live workers, circuit states, storage
-- read latency quantiles.
CREATE FUNCTION metrics() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog
AS $$
DECLARE
    out text := '';
    r record;
    buckets float8[] := ARRAY[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    b float8;
    n bigint;
    total bigint;
    seconds float8;
BEGIN
    out := out || E'# HELP resume_pipeline_jobs Jobs by kind and state.\n# TYPE resume_pipeline_jobs gauge\n';
    FOR r IN SELECT k.kind, s.state, count(j.id) AS n
               FROM unnest(enum_range(NULL::job_kind)) k(kind)
              CROSS JOIN unnest(enum_range(NULL::job_state)) s(state)
               LEFT JOIN jobs j ON j.kind = k.kind AND j.state = s.state
              GROUP BY 1, 2 ORDER BY k.kind::text, 2 LOOP
        out := out || format(E'resume_pipeline_jobs{kind="%s",state="%s"} %s\n', r.kind, r.state, r.n);
    END LOOP;
    out := out || E'# HELP resume_pipeline_jobs_done_total Jobs finished successfully.\n# TYPE resume_pipeline_jobs_done_total counter\n'
               || format(E'resume_pipeline_jobs_done_total %s\n', (SELECT count(*) FROM jobs WHERE state = 'done'))
               || E'# HELP resume_pipeline_jobs_failed_total Jobs that failed for good.\n# TYPE resume_pipeline_jobs_failed_total counter\n'
               || format(E'resume_pipeline_jobs_failed_total %s\n', (SELECT count(*) FROM jobs WHERE state = 'failed'))
               || E'# HELP resume_pipeline_job_success_ratio done / (done + failed).\n# TYPE resume_pipeline_job_success_ratio gauge\n'
               || format(E'resume_pipeline_job_success_ratio %s\n',
                         coalesce((SELECT round(count(*) FILTER (WHERE state = 'done')::numeric
                                               / nullif(count(*), 0), 6)
                                     FROM jobs WHERE state IN ('done', 'failed')), 1));
    out := out || E'# HELP resume_pipeline_job_duration_seconds Time from queued to finished, finished jobs.\n'
               || E'# TYPE resume_pipeline_job_duration_seconds histogram\n';
    SELECT count(*), coalesce(sum(extract(epoch FROM finished_at - created_at)), 0) INTO total, seconds
      FROM jobs WHERE state IN ('done', 'failed') AND finished_at IS NOT NULL;
    FOREACH b IN ARRAY buckets LOOP
        SELECT count(*) INTO n FROM jobs
         WHERE state IN ('done', 'failed') AND finished_at IS NOT NULL
           AND extract(epoch FROM finished_at - created_at) <= b;
        out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="%s"} %s\n', b, n);
    END LOOP;
    out := out || format(E'resume_pipeline_job_duration_seconds_bucket{le="+Inf"} %s\n', total)
               || format(E'resume_pipeline_job_duration_seconds_sum %s\n', round(seconds::numeric, 6))
               || format(E'resume_pipeline_job_duration_seconds_count %s\n', total);
    out := out || E'# HELP resume_pipeline_queue_depth Jobs waiting to run.\n# TYPE resume_pipeline_queue_depth gauge\n'
               || format(E'resume_pipeline_queue_depth %s\n', (SELECT count(*) FROM jobs WHERE state = 'queued'))
               || E'# HELP resume_pipeline_workers_alive Background workers running.\n# TYPE resume_pipeline_workers_alive gauge\n'
               || format(E'resume_pipeline_workers_alive %s\n', _workers_alive())
               || E'# HELP resume_pipeline_circuit_open 1 when a dependency\'s circuit is open or half-open.\n'
               || E'# TYPE resume_pipeline_circuit_open gauge\n'
               || format(E'resume_pipeline_circuit_open{dependency="storage"} %s\n',
                         (_circuit_state('storage') ->> 'state' IN ('open', 'half_open'))::int)
               || format(E'resume_pipeline_circuit_open{dependency="model"} %s\n',
                         (_circuit_state('model') ->> 'state' IN ('open', 'half_open'))::int);
    out := out || E'# HELP resume_pipeline_storage_read_seconds Storage read latency over the last 1024 reads.\n'
               || E'# TYPE resume_pipeline_storage_read_seconds summary\n';
    FOR r IN SELECT * FROM _storage_read_latency() LOOP
        out := out || format(E'resume_pipeline_storage_read_seconds{quantile="%s"} %s\n', r.quantile,
                             round((r.milliseconds / 1000)::numeric, 6));
        total := r.reads;
    END LOOP;
    out := out || format(E'resume_pipeline_storage_read_seconds_count %s\n',
                         coalesce((SELECT max(reads) FROM _storage_read_latency()), 0));
    RETURN out;
END
$$;
