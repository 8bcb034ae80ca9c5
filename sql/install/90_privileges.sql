
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
    health(), metrics(), _circuit_state(text), _workers_alive(), _storage_read_latency(),
    start_analysis(uuid, text), session_progress(uuid), match_resumes(uuid, integer),
    _cosine(real[], real[])
    TO resume_pipeline_user;
GRANT SELECT ON job_overview TO resume_pipeline_user;
