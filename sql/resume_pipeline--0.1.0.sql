-- resume_pipeline 0.1.0. In order: reading documents (every byte of a document goes to
-- resume_pipeline_parser, a separate process with memory and CPU limits, so a hostile file can
-- fail only its own statement); identity; the data model with row-level security; storage and
-- uploads; the queue and its triggers; processing steps, retries and circuit breakers; queries;
-- the Supabase hook; observability.

\echo Use "CREATE EXTENSION resume_pipeline" to load this file. \quit

-- Who may use it: members of the role resume_pipeline_user (created here when missing; on
-- Supabase, "authenticated" is made a member). Nothing is granted to PUBLIC: a reporting role
-- or another application in the same database reaches no table and no function. Every function
-- below is created with EXECUTE for PUBLIC (PostgreSQL's default); the end of this script
-- revokes that everywhere and grants the public API back to resume_pipeline_user.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'resume_pipeline_user') THEN
        CREATE ROLE resume_pipeline_user NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
        GRANT resume_pipeline_user TO authenticated;
    END IF;
END
$$;
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO resume_pipeline_user;

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
    LANGUAGE C STRICT STABLE PARALLEL SAFE COST 1000;  -- STABLE: a new release may parse differently

-- One call of the OpenAI-compatible model at resume_pipeline.openai_base_url (structured outputs
-- with the strict schema resume_pipeline_schema.json), in this session; the answer validated
-- against the schema before it is returned (src/pg/llm_functions.c). Errors say whether a retry
-- can help: 08006 (unreachable, timeout), 53000 (rate limited; the detail gives the server's
-- delay), 58000 (server error), 54000 (quota), 28000 (key refused), 22023 (request refused),
-- 22000 (a refusal, a truncated or filtered answer, content that is not valid JSON Resume).
CREATE FUNCTION _llm_call(resume_text text, OUT result jsonb, OUT model text, OUT schema_version text,
                          OUT prompt_tokens bigint, OUT completion_tokens bigint, OUT milliseconds integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'rp_llm_call'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _llm_schema_version() RETURNS text
    AS 'MODULE_PATHNAME', 'rp_sql_llm_schema_version'
    LANGUAGE C STABLE;

-- What the model answered, once per (schema version, model, text): the same text is never sent
-- twice, so re-uploading or re-running a batch costs nothing. Each row keeps what the call cost.
-- The pipeline's own: no user reads or writes it.
CREATE TABLE llm_answers (
    cache_key         text PRIMARY KEY,  -- hex SHA-256 of schema version, model and text
    model             text NOT NULL,
    schema_version    text NOT NULL,
    result            jsonb NOT NULL,
    prompt_tokens     bigint,
    completion_tokens bigint,
    milliseconds      integer,
    created_at        timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('llm_answers', '');

-- Résumé text → JSON Resume by the model, through the answer cache. Not granted to users: each
-- call costs money; the pipeline's owner decides who may call it.
CREATE FUNCTION llm_parse_resume(resume_text text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE STRICT
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    key text := encode(sha256(convert_to(_llm_schema_version() || E'\n' || current_setting('resume_pipeline.openai_model')
                                         || E'\n' || resume_text, 'UTF8')), 'hex');
    cached jsonb;
    answer record;
BEGIN
    SELECT a.result INTO cached FROM llm_answers a WHERE a.cache_key = key;
    IF FOUND THEN
        RETURN cached;
    END IF;
    answer := _llm_call(resume_text);
    INSERT INTO llm_answers (cache_key, model, schema_version, result, prompt_tokens, completion_tokens, milliseconds)
    VALUES (key, answer.model, answer.schema_version, answer.result, answer.prompt_tokens, answer.completion_tokens,
            answer.milliseconds)
    ON CONFLICT (cache_key) DO NOTHING;
    RETURN answer.result;
END
$$;

-- Test hook, superuser-only: makes the parser process crash ('segv', 'abort'), spin
-- ('loop'), exhaust its memory ('memory'), hang ('hang') or make a system call its sandbox
-- forbids ('syscall': it tries to read /etc/passwd, then to create a file, and is killed by
-- SIGSYS) so tests can prove that only the parser dies and the calling session gets an ERROR.
CREATE FUNCTION debug_parser_crash(mode text DEFAULT 'segv') RETURNS void
    AS 'MODULE_PATHNAME', 'rp_debug_parser_crash'
    LANGUAGE C STRICT PARALLEL UNSAFE;

------------------------------------------------------------------------------------------
-- Identity
------------------------------------------------------------------------------------------

-- The signed-in user from PostgREST's verified claim (request.jwt.claims ->> 'sub', or the older
-- request.jwt.claim.sub), or, given a trusted auth.uid(), what that returns, called with the
-- session role's rights (never a SECURITY DEFINER owner's). Null for the workers, the owner and
-- anonymous callers.
CREATE FUNCTION _identity(uid_function regprocedure) RETURNS uuid
    AS 'MODULE_PATHNAME', 'rp_identity'
    LANGUAGE C STABLE PARALLEL SAFE;

-- Whether the session's role (outside SECURITY DEFINER functions) has the privileges of the
-- pipeline's owner: only such a caller may act for another user or without one.
CREATE FUNCTION _caller_is_admin() RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_caller_is_admin'
    LANGUAGE C STABLE PARALLEL SAFE;

-- Whether this process is one of the pipeline's background workers.
CREATE FUNCTION _in_worker() RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_in_worker'
    LANGUAGE C STABLE PARALLEL SAFE;

-- current_user_id(): the user on whose behalf the statement runs. Supabase's auth.uid() is used
-- when it exists now, at CREATE EXTENSION, and it and its schema belong to a trusted role (a
-- superuser, the role creating the extension, or Supabase's supabase_auth_admin). A function
-- named auth.uid() that anyone else made is ignored with a WARNING: a role with CREATE on the
-- database could otherwise decide who everybody is. The choice is bound into the function (an
-- OID, not a name looked up at run time). Wrap it as (SELECT current_user_id()) in policies so
-- it is evaluated once per statement.
DO $$
DECLARE
    fn regprocedure := to_regprocedure('auth.uid()');
    trusted boolean := false;
BEGIN
    IF fn IS NOT NULL THEN
        SELECT (fo.rolsuper OR fo.oid = current_user::regrole OR fo.rolname = 'supabase_auth_admin')
           AND (so.rolsuper OR so.oid = current_user::regrole OR so.rolname IN ('supabase_auth_admin', 'supabase_admin'))
          INTO trusted
          FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_roles fo ON fo.oid = p.proowner
          JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_catalog.pg_roles so ON so.oid = n.nspowner
         WHERE p.oid = fn AND p.prorettype = 'uuid'::regtype AND NOT p.proretset;
        IF NOT coalesce(trusted, false) THEN
            RAISE WARNING 'auth.uid() is not owned by a trusted role: resume_pipeline ignores it and reads the user from request.jwt.claims';
            trusted := false;
        END IF;
    END IF;
    EXECUTE format($f$
        CREATE FUNCTION @extschema@.current_user_id() RETURNS uuid
            LANGUAGE sql STABLE PARALLEL SAFE
        BEGIN ATOMIC
            SELECT @extschema@._identity(%s);
        END$f$, CASE WHEN trusted THEN format('%s::pg_catalog.regprocedure', fn::oid) ELSE 'NULL' END);
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

-- One row per auth user. ashby_api_key is a secret: its user may write it but nobody but the
-- pipeline reads it back (no SELECT privilege on the column); ashby_api_key_set says whether
-- one is stored.
CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT current_user_id(),
    email             text,
    ashby_api_key     text,
    ashby_api_key_set boolean GENERATED ALWAYS AS (ashby_api_key IS NOT NULL) STORED,
    ashby_sync_cursor text,
    ashby_features    jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per stored object. name is the object key; a user's keys start with their id. Rows
-- are written only by upload() and the storage.objects hook, never by users directly: a user
-- who could name any bucket and key could point the pipeline at someone else's object.
CREATE TABLE files (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL DEFAULT current_user_id(),
    bucket     text NOT NULL,
    name       text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    mime_type  text,
    checksum   text,                          -- hex SHA-256 of the content
    object_id  uuid UNIQUE,                   -- the stored bytes of this version (write-once)
    metadata   jsonb NOT NULL DEFAULT '{}',   -- zip_id of the archive it came from, …
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket, name),
    UNIQUE (user_id, id),  -- the target of same-user foreign keys below
    CHECK (starts_with(name, user_id::text || '/'))  -- nobody can take another user's key
);
CREATE INDEX files_user_idx ON files (user_id) INCLUDE (size);  -- per-user quota sums

-- One row per résumé document, from an upload or from inside a ZIP (zip_id). Every reference
-- between user rows includes user_id, so a row can only point at rows of the same user, and a
-- foreign id is refused exactly like an id that does not exist (no existence oracle).
-- bucket and object_name mirror the files row for reading; the pipeline reads documents only
-- through file_id.
CREATE TABLE resumes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL DEFAULT current_user_id(),
    file_id           uuid NOT NULL,
    bucket            text NOT NULL,
    object_name       text NOT NULL,
    original_filename text NOT NULL,
    mime_type         text,
    status            resume_status NOT NULL DEFAULT 'pending',
    zip_id            uuid,
    raw_text          text,
    parsed            jsonb,                  -- JSON Resume shape
    error             text,
    content_tsvector  tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(raw_text, ''))) STORED,
    storage_path      text GENERATED ALWAYS AS (bucket || '/' || object_name) STORED,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id),
    UNIQUE (user_id, id),
    FOREIGN KEY (user_id, file_id) REFERENCES files (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, zip_id) REFERENCES files (user_id, id) ON DELETE SET NULL (zip_id)
);
CREATE INDEX resumes_user_idx ON resumes (user_id, created_at DESC);
CREATE INDEX resumes_zip_idx ON resumes (zip_id) WHERE zip_id IS NOT NULL;
CREATE INDEX resumes_search_idx ON resumes USING gin (content_tsvector);

-- Earlier versions of a résumé: a new upload of the same object keeps the old one here.
CREATE TABLE resume_versions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL DEFAULT current_user_id(),
    resume_id   uuid NOT NULL,
    version     integer NOT NULL,
    checksum    text,
    raw_text    text,
    parsed      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resume_id, version),
    FOREIGN KEY (user_id, resume_id) REFERENCES resumes (user_id, id) ON DELETE CASCADE
);

CREATE TABLE job_postings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL DEFAULT current_user_id(),
    title           text NOT NULL,
    description     text,
    required_skills text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, id)
);
CREATE INDEX job_postings_user_idx ON job_postings (user_id);

-- An analysis run of many résumés for one context (a job posting, or general when null).
CREATE TABLE analysis_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL DEFAULT current_user_id(),
    session_name   text NOT NULL,
    job_posting_id uuid,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    UNIQUE (user_id, id),
    FOREIGN KEY (user_id, job_posting_id) REFERENCES job_postings (user_id, id) ON DELETE SET NULL (job_posting_id)
);
CREATE INDEX analysis_sessions_user_idx ON analysis_sessions (user_id);

-- One résumé analysed in one session, stored once.
CREATE TABLE resume_analyses (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL DEFAULT current_user_id(),
    resume_id           uuid NOT NULL,
    analysis_session_id uuid NOT NULL,
    overall_fit_score   numeric(5, 2) CHECK (overall_fit_score BETWEEN 0 AND 100),
    skill_match_score   numeric(5, 2) CHECK (skill_match_score BETWEEN 0 AND 100),
    summary             text,
    reasoning           text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (resume_id, analysis_session_id),
    FOREIGN KEY (user_id, resume_id) REFERENCES resumes (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, analysis_session_id) REFERENCES analysis_sessions (user_id, id) ON DELETE CASCADE
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
    cv_file_id uuid,
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
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, cv_file_id) REFERENCES files (user_id, id) ON DELETE SET NULL (cv_file_id)
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
    finished_at      timestamptz,
    -- Claim order, fair across users (start-time fair queuing): a user's new job comes one
    -- second (of virtual time) after their last queued one, or now when they have none queued.
    -- A user who queues 20,000 jobs spreads them over hours of virtual time, so another user's
    -- job queued later is claimed after a handful of theirs, not after all of them.
    fair_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queued_idx ON jobs (fair_at) WHERE state = 'queued';
-- A user's queued jobs: their virtual clock (max fair_at) and their backlog quota.
CREATE INDEX jobs_user_queued_idx ON jobs (user_id, fair_at) WHERE state = 'queued';

-- The claim position of a user's next job (see fair_at).
CREATE FUNCTION _fair_at(user_id uuid) RETURNS timestamptz
    LANGUAGE sql STABLE  -- BEGIN ATOMIC: bound when created, so no search_path applies
BEGIN ATOMIC
    SELECT greatest(now(), max(j.fair_at) + interval '1 second')
      FROM jobs j WHERE j.user_id = _fair_at.user_id AND j.state = 'queued';
END;
-- _enqueue looks for a queued job of a document before queuing another. CV jobs are left out:
-- the applicants trigger queues one only when a CV becomes pending, the step re-reads the
-- applicant under lock and stores only a current result (a second job finds nothing to do or
-- does the newer work), and an index entry would cost every applicant INSERT
-- (bench/trigger_overhead.sh).
CREATE INDEX jobs_target_idx ON jobs (kind, target_id) WHERE kind <> 'cv';
CREATE INDEX jobs_running_idx ON jobs (lease_expires_at) WHERE state = 'running';

-- Row-level security: a user sees and changes only rows whose user_id is theirs. The
-- extension owner (and superusers) bypass it: that is how the pipeline writes. Privileges go to
-- resume_pipeline_user only, and only what an end user needs: rows the pipeline derives (files,
-- résumés and their versions) are read and deleted, not written; jobs are only watched.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['files', 'resumes', 'resume_versions', 'job_postings',
                             'analysis_sessions', 'resume_analyses', 'applicants'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_rows ON %I USING (user_id = (SELECT current_user_id())) '
                       'WITH CHECK (user_id = (SELECT current_user_id()))', t);
    END LOOP;
END
$$;
GRANT SELECT, DELETE ON files, resumes, resume_versions TO resume_pipeline_user;
GRANT UPDATE (original_filename) ON resumes TO resume_pipeline_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON job_postings, analysis_sessions, resume_analyses, applicants
    TO resume_pipeline_user;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_row ON users USING (id = (SELECT current_user_id())) WITH CHECK (id = (SELECT current_user_id()));
GRANT SELECT (id, email, ashby_api_key_set, ashby_sync_cursor, ashby_features, created_at),
      INSERT (id, email, ashby_api_key, ashby_features),
      UPDATE (email, ashby_api_key, ashby_features), DELETE
   ON users TO resume_pipeline_user;
-- Users may watch their own jobs; only the pipeline changes them.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_jobs ON jobs FOR SELECT USING (user_id = (SELECT current_user_id()));
GRANT SELECT ON jobs TO resume_pipeline_user;

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

-- The storage's own operations, by object id (src/pg/fs_storage.c); granted to nobody. Objects
-- are write-once files: _storage_write makes a new one (removed if the transaction aborts),
-- _storage_forget removes one once the transaction commits.
CREATE FUNCTION _storage_read(object_id uuid, display text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'rp_sql_storage_read' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_write(object_id uuid, data bytea) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rp_sql_storage_write' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_forget(object_id uuid) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_sql_storage_forget' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_list(OUT object_id uuid, OUT modified timestamptz) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'rp_sql_storage_list' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION _storage_unlink(object_id uuid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_sql_storage_unlink' LANGUAGE C STRICT VOLATILE;
-- An object's bytes from S3 (resume_pipeline.storage_backend = 's3'; src/pg/s3_storage.c).
CREATE FUNCTION _s3_read(bucket text, name text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'rp_sql_s3_read' LANGUAGE C STRICT VOLATILE;

-- Whether a bucket and key are acceptable object names (see README: no "..", control, invisible
-- or bidirectional formatting characters, …); _check_object_name raises 22023 saying why not.
CREATE FUNCTION _object_name_ok(bucket text, name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rp_sql_object_name_ok'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION _check_object_name(bucket text, name text) RETURNS void
    AS 'MODULE_PATHNAME', 'rp_sql_check_object_name'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- A deleted files row (by its user, or with its storage.objects row) releases its object.
-- SECURITY DEFINER: users delete their rows, but may not call the storage themselves.
CREATE FUNCTION _file_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.object_id IS NOT NULL THEN
        PERFORM @extschema@._storage_forget(OLD.object_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER file_deleted AFTER DELETE ON files FOR EACH ROW EXECUTE FUNCTION _file_deleted();
-- TRUNCATE fires no row trigger: every object of the table is released before it.
CREATE FUNCTION _files_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM @extschema@._storage_forget(f.object_id) FROM @extschema@.files f WHERE f.object_id IS NOT NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER files_truncated BEFORE TRUNCATE ON files FOR EACH STATEMENT EXECUTE FUNCTION _files_truncated();

-- Removes stored objects no files row names: left by a crash between writing and committing,
-- or after DROP EXTENSION and CREATE EXTENSION again. Only files older than every transaction
-- still running are considered, so an upload in progress is never touched. The workers run it
-- at start and every hour for their database; elsewhere run it from cron as the pipeline's
-- owner. Returns how many it removed.
CREATE FUNCTION sweep_storage() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    horizon timestamptz;
    o record;
    removed integer := 0;
BEGIN
    -- Every session's transaction start must be visible, or an upload in progress could look
    -- like an orphan.
    IF NOT pg_has_role('pg_read_all_stats', 'USAGE') THEN
        RAISE EXCEPTION 'sweep_storage() needs the privileges of pg_read_all_stats'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    horizon := (SELECT least(now(), min(a.xact_start)) FROM pg_stat_activity a WHERE a.xact_start IS NOT NULL);
    FOR o IN SELECT l.object_id FROM _storage_list() l
              WHERE l.modified < coalesce(horizon, now()) - interval '1 minute'
                AND NOT EXISTS (SELECT 1 FROM files f WHERE f.object_id = l.object_id) LOOP
        IF _storage_unlink(o.object_id) THEN
            removed := removed + 1;
        END IF;
    END LOOP;
    RETURN removed;
END
$$;

-- Refuses (54000) what would take a user past their quota: stored bytes
-- (resume_pipeline.max_user_storage) and objects (resume_pipeline.max_user_objects), counting
-- the object key about to be written as replaced. A user's uploads are serialised by an
-- advisory lock so two at once cannot both slip under the limit.
CREATE FUNCTION _check_storage_quota(owner uuid, key text, new_bytes bigint) RETURNS void
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
      FROM @extschema@.files f WHERE f.user_id = owner AND f.name <> key;
    IF used_objects + 1 > max_objects THEN
        RAISE EXCEPTION 'storage quota exceeded: the user already has % objects', used_objects
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('resume_pipeline.max_user_objects is %s.', max_objects);
    END IF;
    IF used_bytes + new_bytes > max_bytes THEN
        RAISE EXCEPTION 'storage quota exceeded: % bytes stored, % more would pass the limit', used_bytes, new_bytes
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('resume_pipeline.max_user_storage is %s.',
                                  pg_catalog.current_setting('resume_pipeline.max_user_storage'));
    END IF;
END
$$;

-- Stores an object and registers it in files, in the caller's transaction. The key is put
-- under the user's prefix ("<user_id>/<name>") unless it is there already. Uploading the same
-- key again replaces the object; a résumé then gets a new version. Returns the files id.
-- SECURITY DEFINER because users may not write files rows themselves: it acts only for the
-- signed-in user (only the pipeline's owner may name another user_id, or none), within their
-- quotas, and resolves nothing a user could have created (search_path ends with pg_temp).
CREATE FUNCTION upload(bucket text, name text, data bytea, metadata jsonb DEFAULT '{}',
                       user_id uuid DEFAULT current_user_id()) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    key text;
    kind text;
    file_id uuid;
    previous text;
    previous_object uuid;
    new_object uuid;
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
    PERFORM @extschema@._check_storage_quota(user_id, key, length(data));
    kind := @extschema@.document_kind(data);
    SELECT f.checksum, f.object_id INTO previous, previous_object
      FROM @extschema@.files f WHERE f.bucket = upload.bucket AND f.name = key;
    -- Every version is a new object; the one it replaces goes once this transaction commits.
    INSERT INTO @extschema@.files AS f (user_id, bucket, name, size, mime_type, checksum, object_id, metadata)
    VALUES (user_id, bucket, key, length(data),
            CASE kind WHEN 'pdf' THEN 'application/pdf'
                      WHEN 'docx' THEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
                      WHEN 'zip' THEN 'application/zip'
                      WHEN 'text' THEN 'text/plain'
                      ELSE 'application/octet-stream' END,
            encode(sha256(data), 'hex'), gen_random_uuid(), metadata)
    ON CONFLICT ON CONSTRAINT files_bucket_name_key DO UPDATE
        SET size = excluded.size, mime_type = excluded.mime_type, checksum = excluded.checksum,
            object_id = excluded.object_id, metadata = excluded.metadata
      WHERE f.user_id = excluded.user_id
    RETURNING f.id, f.object_id INTO file_id, new_object;
    IF file_id IS NULL THEN  -- unreachable: keys are per-user (the CHECK on files)
        RAISE EXCEPTION 'object key "%" belongs to another user', key USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM @extschema@._storage_write(new_object, data);
    IF previous_object IS NOT NULL THEN
        PERFORM @extschema@._storage_forget(previous_object);
    END IF;
    PERFORM @extschema@._register_document(file_id, previous);
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
    -- files row their own transaction just wrote: never another user's résumés.
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
--  * status changes are announced on the user's own channel (see notification_channel),
--    delivered at commit: {"table", "id", "old", "new", "changed": {"cv_status": {"old", "new"}, ...}}
CREATE FUNCTION _applicant_write() RETURNS trigger
    AS 'MODULE_PATHNAME', 'rp_applicant_write' LANGUAGE C;
-- It writes jobs without the caller's privileges on it: nobody else may attach it to a table
-- (EXECUTE, which CREATE TRIGGER needs, is granted to nobody; see Privileges at the end).
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
CREATE FUNCTION _begin_document(j jobs) RETURNS bytea
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
        UPDATE jobs SET payload = payload || jsonb_build_object('read_version', r.version) WHERE id = j.id;
        RETURN _read_object(f);
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
    RETURN _read_object(f);
END
$$;

-- A result is stored only if it is still the current one: a worker reads the document in one
-- transaction and writes the result in another, and in between the résumé may have been
-- uploaded again (a new version, and a new job) or the CV replaced or asked for again. Then
-- the result is dropped and the newer job does the work. _begin_document noted in the job's
-- payload what it read.
CREATE FUNCTION _store_parsed(j jobs, content text, parsed jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    z files;
    e record;
    base text;
    added int := 0;
    skipped jsonb := '[]';
    skipped_count int := 0;
BEGIN
    SELECT * INTO z FROM files WHERE id = zip_file_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    base := regexp_replace(z.name, '\.zip$', '', 'i');
    FOR e IN SELECT * FROM zip_entries(_read_object(z)) LOOP
        IF document_kind(e.data) IN ('pdf', 'docx') THEN
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
CREATE FUNCTION _job_outcome(j jobs, code text, message text) RETURNS text
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
    IF _is_transient(code) AND j.attempts < current_setting('resume_pipeline.max_attempts')::int THEN
        delay_ms := least(extract(epoch FROM current_setting('resume_pipeline.retry_base_delay')::interval) * 1000
                          * 2 ^ (j.attempts - 1), 600000) * (0.5 + random() / 2);
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

-- While the storage circuit is open a job waits, its attempt given back. True when it waits.
CREATE FUNCTION _wait_for_storage(j jobs) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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
-- kind is the job's kind when the worker is to go on ('resume', 'cv', or the test hook's
-- 'debug_hang'; 'zip' runs whole through
-- _execute_job), or what happened instead ('skipped', 'waiting', 'done', 'retry', 'failed').
CREATE FUNCTION _start_parse_job(job_id uuid, OUT kind text, OUT data bytea) RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
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
        -- Test hook, like _debug_fail: the payload (the pipeline owner's to write) may ask the
        -- parser to hang on the first N attempts ('debug_hang').
        kind := CASE WHEN data IS NULL THEN _job_done(j.id)
                     WHEN j.attempts <= coalesce((j.payload ->> 'debug_parser_hang_times')::int, 0) THEN 'debug_hang'
                     ELSE j.kind::text END;
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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

------------------------------------------------------------------------------------------
-- Queries (seed "Industry-Level Resume Management"). They run as the caller, so row-level
-- security keeps each user to their own rows.
------------------------------------------------------------------------------------------

-- The caller's résumés not yet analysed in a completed session for this context (a job
-- posting, or the general context when null).
CREATE FUNCTION available_resumes(job_posting_id uuid DEFAULT NULL) RETURNS SETOF resumes
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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

-- The object a storage.objects row describes, if it is one for the pipeline: bucket 'resumes',
-- a key laid out as "<user uuid>/…" with an acceptable name, and every owner column that is
-- set (owner, owner_id) naming that same user. Anything else is not the pipeline's business
-- and is left alone (the upload itself goes through untouched).
CREATE FUNCTION _storage_object_owner(o jsonb) RETURNS uuid
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
    top text := split_part(o ->> 'name', '/', 1);
BEGIN
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
    PERFORM @extschema@._check_storage_quota(owner, n ->> 'name', 0);
    INSERT INTO @extschema@.files AS f (user_id, bucket, name, size, mime_type, checksum, metadata)
    VALUES (owner, 'resumes', n ->> 'name', 0,
            CASE WHEN n ->> 'name' ~* '\.pdf$' THEN 'application/pdf'
                 WHEN n ->> 'name' ~* '\.docx$' THEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
                 WHEN n ->> 'name' ~* '\.zip$' THEN 'application/zip' END,
            NULL, meta)
    ON CONFLICT (bucket, name) DO UPDATE SET metadata = excluded.metadata, checksum = NULL
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
    SET search_path = @extschema@, pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'database', jsonb_build_object('status', 'ok', 'name', current_database()),
        'storage', jsonb_build_object(
            'backend', current_setting('resume_pipeline.storage_backend'),
            'root', coalesce(nullif(current_setting('resume_pipeline.storage_root'), ''),
                             'resume_pipeline_storage in the data directory'),
            'directory', (SELECT d.oid::text FROM pg_database d WHERE d.datname = current_database()),
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
    SET search_path = @extschema@, pg_catalog, pg_temp
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

------------------------------------------------------------------------------------------
-- Privileges. PostgreSQL grants EXECUTE on every new function to PUBLIC; here that is taken
-- back everywhere, and only the public API is granted to resume_pipeline_user. Internal
-- functions (named with a leading underscore) run only inside the pipeline's own code, and
-- trigger functions cannot be attached to anybody else's table.
------------------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    pdf_text(bytea), pdf_info(bytea), docx_text(bytea), document_text(bytea), zip_entries(bytea),
    parse_resume_builtin(text), document_kind(bytea),
    current_user_id(), _identity(regprocedure),            -- row-level security policies
    score_of(jsonb), _overall_status(processing_status, processing_status, processing_status),  -- generated columns
    upload(text, text, bytea, jsonb, uuid), storage_get(text, text), batch_progress(uuid), process_pending(integer),
    available_resumes(uuid), analysis_history(uuid), search_resumes(text), notification_channel(uuid),
    health(), metrics(), _circuit_state(text), _workers_alive(), _storage_read_latency()
    TO resume_pipeline_user;
GRANT SELECT ON job_overview TO resume_pipeline_user;
