
------------------------------------------------------------------------------------------
-- Semantic match. With resume_pipeline.embedding_model set, résumés and job postings get an
-- embedding from the OpenAI-compatible /embeddings endpoint (at resume_pipeline.openai_base_url),
-- queued when their text changes and kept only while it is the embedding of the current text.
-- match_resumes ranks the caller's résumés for a posting by cosine similarity: with pgvector's
-- operator when the vector extension is installed, else in SQL.
------------------------------------------------------------------------------------------

CREATE TABLE embeddings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL,
    resume_id      uuid UNIQUE,
    job_posting_id uuid UNIQUE,
    model          text NOT NULL,
    content_sha256 text NOT NULL,             -- of the model's name and the text embedded
    embedding      real[] NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((resume_id IS NULL) <> (job_posting_id IS NULL)),
    FOREIGN KEY (user_id, resume_id) REFERENCES resumes (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, job_posting_id) REFERENCES job_postings (user_id, id) ON DELETE CASCADE
);
CREATE INDEX embeddings_user_idx ON embeddings (user_id);
ALTER TABLE embeddings ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON embeddings USING (user_id = (SELECT current_user_id()))
    WITH CHECK (user_id = (SELECT current_user_id()));
GRANT SELECT ON embeddings TO resume_pipeline_user;
SELECT pg_catalog.pg_extension_config_dump('embeddings', '');

-- The text a résumé's or posting's embedding is made of, and its key.
CREATE FUNCTION _embed_text(target_id uuid, OUT user_id uuid, OUT is_resume boolean, OUT content text) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    SELECT r.user_id, true, left(r.raw_text, 16000) INTO user_id, is_resume, content
      FROM resumes r WHERE r.id = target_id AND r.status = 'completed';
    IF user_id IS NULL THEN
        SELECT p.user_id, false,
               left(p.title || E'\n' || array_to_string(p.required_skills, ', ') || E'\n' || coalesce(p.description, ''), 16000)
          INTO user_id, is_resume, content
          FROM job_postings p WHERE p.id = target_id;
    END IF;
END
$$;

CREATE FUNCTION _embed_key(model text, content text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(model || E'\n' || content, 'UTF8')), 'hex');

CREATE FUNCTION _embed_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    model text := coalesce(current_setting('resume_pipeline.embedding_model', true), '');
    t record;
    key text;
BEGIN
    SELECT * INTO t FROM _embed_text(j.target_id);
    IF model = '' OR t.user_id IS NULL OR coalesce(btrim(t.content), '') = '' THEN
        RETURN NULL;  -- embeddings are off, or there is nothing (left) to embed
    END IF;
    key := _embed_key(model, t.content);
    IF EXISTS (SELECT 1 FROM embeddings e WHERE (e.resume_id = j.target_id OR e.job_posting_id = j.target_id)
                                            AND e.content_sha256 = key) THEN
        RETURN NULL;
    END IF;
    UPDATE jobs SET payload = payload || jsonb_build_object('read_key', key) WHERE id = j.id;
    RETURN jsonb_build_object('call', jsonb_build_object(
        'method', 'POST',
        'url', rtrim(current_setting('resume_pipeline.openai_base_url'), '/') || '/embeddings',
        'headers', jsonb_build_object('Content-Type', 'application/json'),
        'body', jsonb_build_object('model', model, 'input', t.content, 'encoding_format', 'float')::text,
        'auth', 'openai', 'dependency', 'model', 'tokens', length(t.content) / 3 + 1,
        'max_bytes', 4194304));
END
$$;

CREATE FUNCTION _embed_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    model text := coalesce(current_setting('resume_pipeline.embedding_model', true), '');
    status int := coalesce((response ->> 'status')::int, 0);
    t record;
    answer jsonb;
    v jsonb;
BEGIN
    PERFORM _transport_check('the embeddings endpoint', response);
    IF status = 429 THEN
        RETURN jsonb_build_object('wait_ms', coalesce(_wait_asked_ms(response), 1000), 'code', '53300',
                                  'message', 'waiting: the model is rate-limiting us');
    END IF;
    IF status <> 200 THEN
        PERFORM _http_failure('the embeddings endpoint', response, body);
    END IF;
    answer := _json_answer('the embeddings endpoint', body);
    v := answer #> '{data,0,embedding}';
    IF jsonb_typeof(v) IS DISTINCT FROM 'array' OR jsonb_array_length(v) NOT BETWEEN 1 AND 16000
       OR jsonb_path_exists(v, '$[*] ? (@.type() != "number")') THEN
        RAISE EXCEPTION 'the embeddings endpoint answered no vector of numbers' USING ERRCODE = 'protocol_violation';
    END IF;
    -- Kept only while it is the embedding of the current text (it may have changed meanwhile:
    -- a newer job embeds that).
    SELECT * INTO t FROM _embed_text(j.target_id);
    IF t.user_id IS NULL OR _embed_key(model, t.content) IS DISTINCT FROM (SELECT payload ->> 'read_key' FROM jobs WHERE id = j.id) THEN
        RETURN NULL;
    END IF;
    IF t.is_resume THEN
        INSERT INTO embeddings (user_id, resume_id, model, content_sha256, embedding)
        VALUES (t.user_id, j.target_id, model, _embed_key(model, t.content), ARRAY(SELECT x::real FROM jsonb_array_elements_text(v) x))
        ON CONFLICT (resume_id) DO UPDATE SET model = EXCLUDED.model, content_sha256 = EXCLUDED.content_sha256,
                                              embedding = EXCLUDED.embedding, updated_at = now();
    ELSE
        INSERT INTO embeddings (user_id, job_posting_id, model, content_sha256, embedding)
        VALUES (t.user_id, j.target_id, model, _embed_key(model, t.content), ARRAY(SELECT x::real FROM jsonb_array_elements_text(v) x))
        ON CONFLICT (job_posting_id) DO UPDATE SET model = EXCLUDED.model, content_sha256 = EXCLUDED.content_sha256,
                                                   embedding = EXCLUDED.embedding, updated_at = now();
    END IF;
    RETURN NULL;
END
$$;

-- A résumé read anew or a posting written: its embedding is queued (when embeddings are on).
-- SECURITY DEFINER: users write postings but not jobs.
CREATE FUNCTION _embed_due() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF coalesce(current_setting('resume_pipeline.embedding_model', true), '') <> '' THEN
        PERFORM @extschema@._enqueue('embed', NEW.id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER resume_embed_due AFTER UPDATE OF status ON resumes
    FOR EACH ROW WHEN (NEW.status = 'completed' AND NEW.raw_text IS NOT NULL) EXECUTE FUNCTION _embed_due();
CREATE TRIGGER posting_embed_inserted AFTER INSERT ON job_postings
    FOR EACH ROW EXECUTE FUNCTION _embed_due();
CREATE TRIGGER posting_embed_changed AFTER UPDATE OF title, description, required_skills ON job_postings
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
                       OR OLD.required_skills IS DISTINCT FROM NEW.required_skills)
    EXECUTE FUNCTION _embed_due();

-- Cosine similarity in SQL, for when pgvector is not installed.
CREATE FUNCTION _cosine(a real[], b real[]) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN cardinality(a) = cardinality(b) AND sum(x * x) > 0 AND sum(y * y) > 0
                THEN sum(x::double precision * y) / (sqrt(sum(x::double precision * x)) * sqrt(sum(y::double precision * y))) END
      FROM unnest(a, b) AS u(x, y);
END;

-- The caller's résumés ranked by semantic similarity to one of their job postings (best first,
-- at most k), with the fit score of the latest completed analysis for that posting when there
-- is one, to combine the two. Runs as the caller: row-level security applies.
CREATE FUNCTION match_resumes(job_posting_id uuid, k integer DEFAULT 10)
    RETURNS TABLE (resume_id uuid, original_filename text, candidate_name text, similarity double precision,
                   overall_fit_score numeric, analysed_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    posting real[];
    vector_schema name;
BEGIN
    SELECT e.embedding INTO posting FROM embeddings e
     WHERE e.job_posting_id = match_resumes.job_posting_id AND e.user_id = current_user_id();
    IF posting IS NULL THEN
        RAISE EXCEPTION 'job posting % has no embedding (yet)', match_resumes.job_posting_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set resume_pipeline.embedding_model; postings and résumés are embedded by the workers.';
    END IF;
    SELECT n.nspname INTO vector_schema FROM pg_catalog.pg_extension x
      JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace WHERE x.extname = 'vector';
    RETURN QUERY EXECUTE format(
        'SELECT r.id, r.original_filename, r.parsed #>> ''{basics,name}'', s.sim, a.overall_fit_score, a.created_at
           FROM %1$I.embeddings e
           JOIN %1$I.resumes r ON r.id = e.resume_id
           CROSS JOIN LATERAL (SELECT %2$s AS sim) s
           LEFT JOIN LATERAL (SELECT ra.overall_fit_score, ra.created_at FROM %1$I.resume_analyses ra
                                JOIN %1$I.analysis_sessions se ON se.id = ra.analysis_session_id
                               WHERE ra.resume_id = r.id AND se.job_posting_id = $2 AND se.status = ''completed''
                               ORDER BY ra.created_at DESC LIMIT 1) a ON true
          WHERE e.user_id = %1$I.current_user_id() AND e.resume_id IS NOT NULL
            AND cardinality(e.embedding) = cardinality($1)
          ORDER BY s.sim DESC NULLS LAST, r.created_at DESC
          LIMIT $3',
        '@extschema@',
        CASE WHEN vector_schema IS NOT NULL
             THEN format('1 - (e.embedding::%1$I.vector OPERATOR(%1$I.<=>) $1::%1$I.vector)', vector_schema)
             ELSE format('%I._cosine(e.embedding, $1)', '@extschema@') END)
    USING posting, match_resumes.job_posting_id, greatest(k, 0);
END
$$;
