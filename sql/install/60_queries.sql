
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
