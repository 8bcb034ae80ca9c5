
------------------------------------------------------------------------------------------
-- The built-in candidate scorer (llm_provider = builtin): a parsed résumé against a job
-- posting, offline and deterministic. Used by an applicant's ai step (53_enrichment.sql) and by
-- analysis sessions (56_analysis.sql); the formula and its weights are in src/core/fit_score.h.
------------------------------------------------------------------------------------------

-- A verdict for one résumé: parsed is its JSON Resume (any JSON; null or unreadable means the
-- raw text alone is scored), raw_text its extracted text, posting an object with title,
-- description and required_skills (to_jsonb of a job_postings row fits; null for a general
-- score), as_of the date recency and open-ended jobs are measured to. Returns an object with
-- score (integer 0-100), overall_fit_score (0-100, 2 decimals), skill_match_score (0-100, or
-- null without a posting or without skills to match), strengths and concerns (at most 8 short
-- strings each), summary, reasoning (the figures and how they combine), matched_skills and
-- missing_skills (in the posting's order), years_experience (merged work dates, 1 decimal),
-- text_similarity (0-1, 3 decimals) and method ('builtin-v1'). The same arguments give the same
-- answer. Errors: 22023 for a posting that is not an object or an infinite as_of.
CREATE FUNCTION score_fit(parsed jsonb, raw_text text, posting jsonb DEFAULT NULL, as_of date DEFAULT current_date)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rp_score_fit'
    LANGUAGE C STABLE PARALLEL SAFE COST 1000;  -- STABLE: a new release may score differently

-- Part of the public API (90_privileges.sql takes EXECUTE back from PUBLIC on everything).
GRANT EXECUTE ON FUNCTION score_fit(jsonb, text, jsonb, date) TO resume_pipeline_user;
