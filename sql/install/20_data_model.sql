
------------------------------------------------------------------------------------------
-- Data model (DESIGN.md section 3). Every user table carries user_id, has row-level
-- security, and is registered with pg_extension_config_dump so pg_dump keeps its rows.
------------------------------------------------------------------------------------------

CREATE TYPE processing_status AS ENUM ('pending', 'processing', 'ready', 'error', 'not_provided');
CREATE TYPE overall_status AS ENUM ('uploading', 'processing', 'completed', 'failed');
CREATE TYPE resume_status AS ENUM ('pending', 'processing', 'completed', 'failed');
CREATE TYPE job_state AS ENUM ('queued', 'running', 'done', 'failed');
-- An enum rather than a CHECK: a CHECK is prepared again by every statement that inserts.
-- resume, zip, cv: documents. ai, gh, li: an applicant's enrichment steps; analysis: one résumé
-- in one analysis session; step: a step users registered (register_step); embed: the
-- embedding of a résumé or a job posting. ats_sync, ats_file, ats_push: Ashby (59_ashby.sql);
-- migrate: a storage migration's copying (35_migration.sql).
CREATE TYPE job_kind AS ENUM ('resume', 'zip', 'cv', 'ai', 'gh', 'li', 'analysis', 'step', 'embed',
                              'ats_sync', 'ats_file', 'ats_push', 'migrate');

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
    -- Which backend holds the bytes: resume_pipeline.storage_backend when they were written
    -- ('s3' for rows registered from Supabase's storage.objects). Reads go there, whatever the
    -- setting says later.
    storage    text NOT NULL DEFAULT coalesce(current_setting('resume_pipeline.storage_backend', true), 'filesystem')
               CHECK (storage IN ('filesystem', 's3')),
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
    text_source       text CHECK (text_source IN ('text', 'ocr')),  -- raw_text from the text layer, or read by OCR (a scan, an image)
    parsed            jsonb,                  -- JSON Resume shape
    error             text,
    llm_usage         jsonb,                  -- what reading it cost: model, tokens, ms, cached (see README)
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
    total          integer,                 -- résumés the session analyses (start_analysis)
    error          text,                    -- why it failed
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
    score               integer CHECK (score BETWEEN 0 AND 100),
    strengths           text[],
    concerns            text[],
    analysis            jsonb,              -- the whole verdict, as the scorer or the model gave it
    usage               jsonb,              -- model, tokens and milliseconds (openai provider)
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
    cv_llm_usage jsonb,                       -- what reading the CV cost, as resumes.llm_usage
    li_url     text,                          -- a LinkedIn profile: the li step reads it through the provider
    li_status  processing_status NOT NULL DEFAULT 'not_provided',
    li_data    jsonb,
    li_error   text,
    gh_username text,                         -- a GitHub login (taken from cv_data when not given)
    gh_status  processing_status NOT NULL DEFAULT 'not_provided',
    gh_data    jsonb,
    gh_error   text,
    job_posting_id uuid,                      -- what the ai step scores the applicant for (null: in general)
    ai_status  processing_status NOT NULL DEFAULT 'not_provided',
    ai_data    jsonb,
    ai_error   text,
    name       text,
    email      text,
    phone      text,
    status     overall_status GENERATED ALWAYS AS (_overall_status(cv_status, li_status, ai_status)) STORED,
    score      numeric GENERATED ALWAYS AS (score_of(ai_data)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, cv_file_id) REFERENCES files (user_id, id) ON DELETE SET NULL (cv_file_id),
    FOREIGN KEY (user_id, job_posting_id) REFERENCES job_postings (user_id, id) ON DELETE SET NULL (job_posting_id),
    UNIQUE (user_id, id)
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
