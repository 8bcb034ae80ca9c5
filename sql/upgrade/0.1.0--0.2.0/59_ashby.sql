
------------------------------------------------------------------------------------------
-- Ashby ATS (seed "Event-Driven": /api/ats-load, /api/ats-push, the users' ashby_* columns).
-- ats_sync() queues an 'ats_sync' job that pages candidate.list (incremental with the syncToken
-- kept in users.ashby_sync_cursor), making each candidate an applicant of its user (matched by
-- applicants.ashby_candidate_id); a candidate's résumé is fetched by an 'ats_file' job
-- (file.info, then the presigned URL) and stored with upload(), so the cv step takes over. A
-- verdict (ai_status ready) of an Ashby applicant is written back by an 'ats_push' job when the
-- user's ashby_features say {"push": true}.
--
-- The key: each request to Ashby names "auth": "ashby" and "auth_user"; the HTTP client reads
-- that user's users.ashby_api_key itself and sends it as HTTP Basic only to URLs under
-- resume_pipeline.ashby_base_url (src/pg/http_call.c). No request, job row, error or NOTIFY
-- built here holds it; text Ashby sends back is cut and has the key masked before it is kept.
------------------------------------------------------------------------------------------

-- The user's view of their syncs (their own row; RLS on users).
ALTER TABLE users ADD COLUMN ashby_sync_requested_at timestamptz;   -- a sync was last queued
ALTER TABLE users ADD COLUMN ashby_last_sync_at timestamptz;        -- the last sync ended
ALTER TABLE users ADD COLUMN ashby_last_sync_status text;           -- queued, running, ok, failed
ALTER TABLE users ADD COLUMN ashby_last_sync_error text;            -- why the last sync failed
ALTER TABLE users ADD COLUMN ashby_last_sync_candidates integer;    -- candidates the last sync read
ALTER TABLE users ADD COLUMN ashby_last_sync_full boolean;          -- it listed everything (no token)
GRANT SELECT (ashby_sync_requested_at, ashby_last_sync_at, ashby_last_sync_status, ashby_last_sync_error,
              ashby_last_sync_candidates, ashby_last_sync_full)
   ON users TO resume_pipeline_user;

-- An applicant from Ashby: the candidate's id (one applicant per candidate and user), what the
-- last sync read of it, the résumé handle Ashby names and the one stored in cv_file_id, and the
-- verdict last written back (md5 of ai_data) and when.
ALTER TABLE applicants ADD COLUMN ashby_candidate_id text;
ALTER TABLE applicants ADD COLUMN ashby_data jsonb;
ALTER TABLE applicants ADD COLUMN ashby_resume_handle text;
ALTER TABLE applicants ADD COLUMN ashby_resume_fetched text;
ALTER TABLE applicants ADD COLUMN ashby_pushed text;
ALTER TABLE applicants ADD COLUMN ashby_pushed_at timestamptz;
CREATE UNIQUE INDEX applicants_ashby_candidate_idx ON applicants (user_id, ashby_candidate_id)
    WHERE ashby_candidate_id IS NOT NULL;

------------------------------------------------------------------------------------------
-- Requests and answers
------------------------------------------------------------------------------------------

-- A call to <ashby_base_url>/<endpoint> with a JSON body, as the user (their key is added by
-- the HTTP client). Answers are read up to 8 MB.
CREATE FUNCTION _ashby_request(owner uuid, endpoint text, body jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    base text := rtrim(coalesce(current_setting('resume_pipeline.ashby_base_url', true), ''), '/');
BEGIN
    IF base = '' THEN
        RAISE EXCEPTION 'resume_pipeline.ashby_base_url is not set' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN jsonb_build_object(
        'method', 'POST', 'url', base || '/' || endpoint,
        'headers', jsonb_build_object('Content-Type', 'application/json', 'Accept', 'application/json; version=1'),
        'body', body::text, 'auth', 'ashby', 'auth_user', owner, 'max_bytes', 8388608);
END
$$;

-- Text from Ashby as kept in errors: one line, cut, with the user's key masked should the
-- server have echoed it.
CREATE FUNCTION _ashby_clean(owner uuid, message text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    m text := regexp_replace(left(coalesce(message, ''), 300), '[[:cntrl:]]', ' ', 'g');
BEGIN
    SELECT u.ashby_api_key INTO k FROM users u WHERE u.id = owner;
    IF length(k) >= 4 THEN
        m := replace(m, k, '[key]');
        m := replace(m, encode(convert_to(k || ':', 'UTF8'), 'base64'), '[key]');
    END IF;
    RETURN m;
END
$$;

-- An answer from Ashby: the parsed body when it says success, else the business error's code
-- and message (HTTP 200 with success false), or a directive to wait (429, rate_limit_exceeded:
-- as long as Retry-After says, else 1, 2, 4 … 60 s with jitter; never charged). Transport
-- failures and 5xx are transient errors (retried); 401/403 are the key's (not retried).
CREATE FUNCTION _ashby_answer(j jobs, endpoint text, response jsonb, body bytea,
                              OUT doc jsonb, OUT error_code text, OUT error_message text, OUT directive jsonb)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    status int := coalesce((response ->> 'status')::int, 0);
    waits int := coalesce((SELECT (payload ->> 'ashby_waits')::int FROM jobs WHERE id = j.id), 0);
    wait double precision;
BEGIN
    IF coalesce(response ->> 'outcome', '') = 'too_large' THEN
        RAISE EXCEPTION 'Ashby answered % with more than 8 MB', endpoint USING ERRCODE = 'program_limit_exceeded';
    END IF;
    PERFORM _transport_check('Ashby', response);
    BEGIN
        doc := convert_from(body, 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        doc := NULL;
    END;
    IF jsonb_typeof(doc) = 'object' AND jsonb_typeof(doc -> 'errorInfo') = 'object' THEN
        error_code := CASE WHEN doc #>> '{errorInfo,code}' ~ '^[A-Za-z0-9_.-]{1,64}$' THEN doc #>> '{errorInfo,code}' ELSE 'unknown' END;
        error_message := _ashby_clean(j.user_id, doc #>> '{errorInfo,message}');
    END IF;
    IF status = 429 OR error_code = 'rate_limit_exceeded' THEN
        wait := coalesce(_wait_asked_ms(response), least(1000 * 2 ^ least(waits, 6), 60000) * (0.75 + random() / 2));
        UPDATE jobs SET payload = payload || jsonb_build_object('ashby_waits', waits + 1) WHERE id = j.id;
        directive := jsonb_build_object('wait_ms', wait, 'code', '53300',
                                        'message', format('waiting %s s: Ashby is rate-limiting %s (rate_limit_exceeded)',
                                                          ceil(wait / 1000), endpoint));
        RETURN;
    END IF;
    IF waits > 0 THEN
        UPDATE jobs SET payload = payload - 'ashby_waits' WHERE id = j.id;
    END IF;
    IF status IN (401, 403) THEN
        RAISE EXCEPTION '%', format('Ashby refused the API key for %s (HTTP %s%s)%s', endpoint, status,
                                    coalesce(': ' || error_code, ''), coalesce(': ' || nullif(error_message, ''), ''))
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'Check users.ashby_api_key and that the key has the permission this endpoint needs.';
    ELSIF status >= 500 OR status = 408 THEN
        RAISE EXCEPTION '%', format('Ashby answered %s with HTTP %s', endpoint, status) USING ERRCODE = 'connection_failure';
    ELSIF status <> 200 THEN
        RAISE EXCEPTION '%', format('Ashby answered %s with HTTP %s%s', endpoint, status, coalesce(': ' || error_code, ''))
            USING ERRCODE = 'data_exception';
    END IF;
    IF jsonb_typeof(doc) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'Ashby answered % with something that is not a JSON object', endpoint USING ERRCODE = 'protocol_violation';
    END IF;
    IF doc -> 'success' = 'true' THEN
        error_code := NULL;
        error_message := NULL;
    ELSE
        error_code := coalesce(error_code, 'unknown');
    END IF;
END
$$;

-- A business error as the step's failure.
CREATE FUNCTION _ashby_refused(endpoint text, code text, message text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '%', format('Ashby refused %s: %s%s', endpoint, code, coalesce(': ' || nullif(message, ''), ''))
        USING ERRCODE = CASE WHEN code IN ('candidate_not_found', 'file_not_found') THEN 'no_data_found'
                             WHEN code = 'missing_endpoint_permission' THEN 'invalid_authorization_specification'
                             ELSE 'data_exception' END;
END
$$;

------------------------------------------------------------------------------------------
-- Sync: ats_sync() and the 'ats_sync' job
------------------------------------------------------------------------------------------

-- Queues a sync of the user's candidates unless one is queued or running (then its id is
-- returned); the owner (no user id given) may queue for anyone. Serialised per user.
CREATE FUNCTION _ats_sync_queue(owner uuid, requested_by text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    job uuid;
BEGIN
    -- 1381000059: this extension's advisory lock class (one user's Ashby sync).
    PERFORM pg_advisory_xact_lock(1381000059, hashtext(owner::text));
    SELECT j.id INTO job FROM jobs j
     WHERE j.kind = 'ats_sync' AND j.target_id = owner AND j.state IN ('queued', 'running')
     ORDER BY j.created_at LIMIT 1;
    IF job IS NOT NULL THEN
        RETURN job;
    END IF;
    PERFORM _enqueue('ats_sync', owner, owner);
    SELECT j.id INTO STRICT job FROM jobs j
     WHERE j.kind = 'ats_sync' AND j.target_id = owner AND j.state = 'queued';
    UPDATE jobs SET payload = jsonb_build_object('requested_by', requested_by) WHERE id = job;
    UPDATE users SET ashby_sync_requested_at = now(), ashby_last_sync_status = 'queued' WHERE id = owner;
    RETURN job;
END
$$;

-- Syncs the user's Ashby candidates into their applicants (see the section's head): queues an
-- 'ats_sync' job and returns its id (the one already queued or running, if any). A user may sync
-- only themselves; the pipeline's owner anyone. The user needs a key in users.ashby_api_key.
CREATE FUNCTION ats_sync(user_id uuid DEFAULT current_user_id()) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'ats_sync needs a user: no user id given and none in the request'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF user_id IS DISTINCT FROM @extschema@.current_user_id() AND NOT @extschema@._caller_is_admin() THEN
        RAISE EXCEPTION 'ats_sync: a user may sync only their own Ashby candidates'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(current_setting('resume_pipeline.ashby_base_url', true), '') = '' THEN
        RAISE EXCEPTION 'ats_sync: resume_pipeline.ashby_base_url is not set' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.users u WHERE u.id = user_id AND u.ashby_api_key IS NOT NULL) THEN
        RAISE EXCEPTION 'ats_sync: no Ashby API key is set for this user'
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'Store it in users.ashby_api_key (only its user can write it; nobody can read it back).';
    END IF;
    RETURN @extschema@._ats_sync_queue(user_id, CASE WHEN @extschema@.current_user_id() IS NULL THEN 'owner' ELSE 'user' END);
END
$$;
GRANT EXECUTE ON FUNCTION ats_sync(uuid) TO resume_pipeline_user;

-- Housekeeping: queues a sync for each user whose ashby_features say {"sync": true}, who has a
-- key, none queued or running, and none queued for resume_pipeline.ashby_sync_interval.
CREATE FUNCTION _ashby_sync_due() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    every interval := current_setting('resume_pipeline.ashby_sync_interval')::interval;
    u record;
    n integer := 0;
BEGIN
    IF coalesce(current_setting('resume_pipeline.ashby_base_url', true), '') = '' THEN
        RETURN 0;
    END IF;
    FOR u IN SELECT s.id FROM users s
              WHERE s.ashby_features -> 'sync' = 'true' AND s.ashby_api_key IS NOT NULL
                AND (s.ashby_sync_requested_at IS NULL OR s.ashby_sync_requested_at + every <= now())
                AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'ats_sync' AND j.target_id = s.id
                                   AND j.state IN ('queued', 'running'))
              ORDER BY s.ashby_sync_requested_at NULLS FIRST
              LIMIT 1000 LOOP
        BEGIN
            PERFORM _ats_sync_queue(u.id, 'schedule');
            n := n + 1;
        EXCEPTION WHEN program_limit_exceeded THEN
            NULL;  -- the user's queue is full: next time
        END;
    END LOOP;
    RETURN n;
END
$$;
INSERT INTO housekeeping (task, every) VALUES ('_ashby_sync_due', interval '1 minute');

-- The first page of a listing, or the next: 100 candidates, the cursor and the token.
CREATE FUNCTION _ats_sync_page(j jobs, p jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = @extschema@, pg_catalog, pg_temp
RETURN jsonb_build_object('call', _ashby_request(j.user_id, 'candidate.list',
           jsonb_strip_nulls(jsonb_build_object('limit', 100, 'cursor', p -> 'cursor', 'syncToken', p -> 'sync_token'))));

-- One candidate into the user's applicants (inserted, or updated where its Ashby id is known:
-- the unique index keeps one row per candidate even under concurrent syncs); its résumé is
-- queued for download when Ashby names a file other than the one stored. Returns false for a
-- candidate without a usable id (skipped).
CREATE FUNCTION _ashby_upsert_candidate(owner uuid, c jsonb) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    cid text := c ->> 'id';
    nm text;
    mail text;
    handle text;
    data jsonb;
    applicant uuid;
    fetched text;
BEGIN
    IF jsonb_typeof(c) IS DISTINCT FROM 'object' OR jsonb_typeof(c -> 'id') IS DISTINCT FROM 'string'
       OR cid IS NULL OR cid !~ '^[[:print:]]{1,255}$' THEN
        RETURN false;
    END IF;
    nm := nullif(left(regexp_replace(CASE WHEN jsonb_typeof(c -> 'name') = 'string' THEN c ->> 'name' END,
                                     '[[:cntrl:]]', ' ', 'g'), 300), '');
    mail := left(coalesce(CASE WHEN jsonb_typeof(c #> '{primaryEmailAddress,value}') = 'string'
                               THEN c #>> '{primaryEmailAddress,value}' END,
                          (SELECT e ->> 'value' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c -> 'emailAddresses') = 'array'
                                                                              THEN c -> 'emailAddresses' ELSE '[]' END) e
                            WHERE jsonb_typeof(e -> 'value') = 'string' LIMIT 1)), 320);
    mail := nullif(regexp_replace(mail, '[[:cntrl:][:space:]]', '', 'g'), '');
    handle := CASE WHEN jsonb_typeof(c #> '{resumeFileHandle,handle}') = 'string'
                    AND length(c #>> '{resumeFileHandle,handle}') BETWEEN 1 AND 2048
                   THEN c #>> '{resumeFileHandle,handle}' END;
    data := jsonb_build_object(
        'id', cid, 'name', nm, 'email', mail,
        'application_ids', coalesce((SELECT jsonb_agg(left(a, 255)) FROM (
                                        SELECT a FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(c -> 'applicationIds') = 'array'
                                                                                     THEN c -> 'applicationIds' ELSE '[]' END) a
                                        LIMIT 100) q), '[]'),
        'resume_file', CASE WHEN handle IS NOT NULL THEN jsonb_build_object(
                           'name', left(c #>> '{resumeFileHandle,name}', 255), 'handle', handle) END,
        'updated_at', left(c ->> 'updatedAt', 64),
        'synced_at', now());
    INSERT INTO applicants AS a (user_id, ashby_candidate_id, name, email, ashby_data, ashby_resume_handle)
    VALUES (owner, cid, nm, mail, data, handle)
    ON CONFLICT (user_id, ashby_candidate_id) WHERE ashby_candidate_id IS NOT NULL DO UPDATE
        SET name = CASE WHEN a.ashby_data ->> 'name' IS DISTINCT FROM excluded.ashby_data ->> 'name'
                        THEN coalesce(excluded.name, a.name) ELSE a.name END,
            email = CASE WHEN a.ashby_data ->> 'email' IS DISTINCT FROM excluded.ashby_data ->> 'email'
                         THEN coalesce(excluded.email, a.email) ELSE a.email END,
            ashby_data = excluded.ashby_data,
            ashby_resume_handle = excluded.ashby_resume_handle
    RETURNING a.id, a.ashby_resume_fetched INTO applicant, fetched;
    IF handle IS NOT NULL AND handle IS DISTINCT FROM fetched THEN
        BEGIN
            PERFORM _enqueue('ats_file', applicant, owner);
        EXCEPTION WHEN program_limit_exceeded THEN
            NULL;  -- the user's queue is full: the next sync queues it
        END;
    END IF;
    RETURN true;
END
$$;

-- The job: begins (or resumes, from the cursor its payload kept) a listing. Another sync of the
-- same user still running makes it wait.
CREATE FUNCTION _ats_sync_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    u users;
    p jsonb := j.payload;
BEGIN
    SELECT * INTO u FROM users WHERE id = j.target_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- the user is gone
    END IF;
    IF EXISTS (SELECT 1 FROM jobs o WHERE o.kind = 'ats_sync' AND o.target_id = j.target_id AND o.id <> j.id
                  AND o.state = 'running' AND o.lease_expires_at > clock_timestamp()) THEN
        RETURN jsonb_build_object('wait_ms', 5000, 'code', '55000', 'message', 'waiting: another Ashby sync of this user is running');
    END IF;
    IF u.ashby_api_key IS NULL THEN
        RAISE EXCEPTION 'no Ashby API key is set for this user (users.ashby_api_key)'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF NOT p ? 'pages' THEN
        -- A new listing: incremental from the last token, or full.
        p := p || jsonb_build_object('sync_token', u.ashby_sync_cursor, 'cursor', NULL, 'pages', 0, 'seen', 0,
                                     'full', u.ashby_sync_cursor IS NULL, 'restarts', 0);
    END IF;
    p := p || jsonb_build_object('run_pages', 0);
    UPDATE jobs SET payload = p WHERE id = j.id;
    UPDATE users SET ashby_last_sync_status = 'running' WHERE id = u.id;
    RETURN _ats_sync_page(j, p);
END
$$;

-- A page: its candidates stored, then the next page, or (the last page) the new token saved.
-- Every 100 pages the job makes way for others and comes back (uncharged) where it was.
CREATE FUNCTION _ats_sync_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    p jsonb;
    a record;
    results jsonb;
    c jsonb;
    n int := 0;
    next_cursor text;
    token text;
BEGIN
    SELECT * INTO a FROM _ashby_answer(j, 'candidate.list', response, body);
    IF a.directive IS NOT NULL THEN
        RETURN a.directive;
    END IF;
    p := (SELECT payload FROM jobs WHERE id = j.id);
    IF a.error_code IN ('sync_token_expired', 'incremental_sync_too_large') AND p ->> 'sync_token' IS NOT NULL
       AND coalesce((p ->> 'restarts')::int, 0) < 3 THEN
        -- The token is of no more use: forget it and list everything.
        UPDATE users SET ashby_sync_cursor = NULL WHERE id = j.target_id;
        p := p || jsonb_build_object('sync_token', NULL, 'cursor', NULL, 'pages', 0, 'seen', 0, 'full', true,
                                     'restarts', coalesce((p ->> 'restarts')::int, 0) + 1, 'fallback', a.error_code);
        UPDATE jobs SET payload = p WHERE id = j.id;
        RETURN _ats_sync_page(j, p);
    ELSIF a.error_code IS NOT NULL THEN
        PERFORM _ashby_refused('candidate.list', a.error_code, a.error_message);
    END IF;
    results := a.doc -> 'results';
    IF jsonb_typeof(results) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'Ashby answered candidate.list without a list of results' USING ERRCODE = 'protocol_violation';
    ELSIF jsonb_array_length(results) > 100 THEN
        RAISE EXCEPTION 'Ashby answered candidate.list with % candidates in a page of at most 100', jsonb_array_length(results)
            USING ERRCODE = 'protocol_violation';
    END IF;
    FOR c IN SELECT x FROM jsonb_array_elements(results) x LOOP
        IF _ashby_upsert_candidate(j.user_id, c) THEN
            n := n + 1;
        END IF;
    END LOOP;
    p := p || jsonb_build_object('pages', (p ->> 'pages')::int + 1, 'seen', (p ->> 'seen')::int + n,
                                 'run_pages', coalesce((p ->> 'run_pages')::int, 0) + 1);
    IF a.doc -> 'moreDataAvailable' = 'true' THEN
        next_cursor := CASE WHEN jsonb_typeof(a.doc -> 'nextCursor') = 'string' THEN a.doc ->> 'nextCursor' END;
        IF next_cursor IS NULL OR length(next_cursor) NOT BETWEEN 1 AND 4096 THEN
            RAISE EXCEPTION 'Ashby said more candidates follow but gave no usable nextCursor' USING ERRCODE = 'protocol_violation';
        ELSIF next_cursor = p ->> 'cursor' THEN
            RAISE EXCEPTION 'Ashby gave the same cursor again' USING ERRCODE = 'protocol_violation';
        ELSIF (p ->> 'pages')::int >= 5000 THEN
            RAISE EXCEPTION 'an Ashby sync reads at most 5000 pages (500,000 candidates)' USING ERRCODE = 'program_limit_exceeded';
        END IF;
        p := p || jsonb_build_object('cursor', next_cursor);
        UPDATE jobs SET payload = p WHERE id = j.id;
        IF (p ->> 'run_pages')::int >= 100 THEN
            RETURN jsonb_build_object('poll_ms', 0, 'message', format('Ashby sync: %s pages read, going on', p ->> 'pages'));
        END IF;
        RETURN _ats_sync_page(j, p);
    END IF;
    -- The last page: only now is the new token kept.
    token := CASE WHEN jsonb_typeof(a.doc -> 'syncToken') = 'string' AND length(a.doc ->> 'syncToken') BETWEEN 1 AND 4096
                  THEN a.doc ->> 'syncToken' END;
    UPDATE users SET ashby_sync_cursor = coalesce(token, p ->> 'sync_token'),
                     ashby_last_sync_at = now(), ashby_last_sync_status = 'ok', ashby_last_sync_error = NULL,
                     ashby_last_sync_candidates = (p ->> 'seen')::int, ashby_last_sync_full = (p ->> 'full')::boolean
     WHERE id = j.target_id;
    UPDATE jobs SET payload = (p - 'cursor' - 'sync_token') || jsonb_build_object('finished', true) WHERE id = j.id;
    PERFORM _ashby_sync_notify(j.target_id);
    RETURN NULL;
END
$$;

-- The end of a sync, on the user's channel (see notification_channel): {"table": "users", "id",
-- "ashby_sync": "ok" | "failed", "candidates", "error"}.
CREATE FUNCTION _ashby_sync_notify(owner uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(_channel_of(u.id), json_build_object(
        'table', 'users', 'id', u.id, 'ashby_sync', u.ashby_last_sync_status,
        'candidates', u.ashby_last_sync_candidates, 'error', u.ashby_last_sync_error)::text)
       FROM users u WHERE u.id = owner;
END
$$;

CREATE FUNCTION _ats_sync_failed(j jobs, message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE users SET ashby_last_sync_at = now(), ashby_last_sync_status = 'failed',
                     ashby_last_sync_error = left(message, 2000)
     WHERE id = j.target_id;
    PERFORM _ashby_sync_notify(j.target_id);
END
$$;

------------------------------------------------------------------------------------------
-- Résumés: the 'ats_file' job of an applicant
------------------------------------------------------------------------------------------

-- A name from Ashby as the last part of an object key: no directories, only letters, digits,
-- dot, dash and underscore, at most 100 characters, never empty or starting with a dot.
CREATE FUNCTION _ashby_safe_name(name text, fallback text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(nullif(ltrim(left(regexp_replace(regexp_replace(coalesce(name, ''), '^.*[/\\]', ''),
                                                 '[^A-Za-z0-9._-]+', '_', 'g'), 100), '.'), ''), fallback);

-- A candidate id as a folder of object keys: itself when it is a plain name (Ashby's ids are
-- UUIDs), else x<md5>, so that two ids never share a folder.
CREATE FUNCTION _ashby_key_part(id text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN id ~ '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$' THEN id ELSE 'x' || md5(id) END;

-- file.info for the handle Ashby names, right before the download.
CREATE FUNCTION _ats_file_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    a applicants;
BEGIN
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    IF NOT FOUND OR a.ashby_candidate_id IS NULL OR a.ashby_resume_handle IS NULL
       OR a.ashby_resume_handle IS NOT DISTINCT FROM a.ashby_resume_fetched THEN
        RETURN NULL;  -- gone, or that file is stored already
    END IF;
    UPDATE jobs SET payload = (payload - 'downloading') || jsonb_build_object('handle', a.ashby_resume_handle, 'url_tries', 0)
     WHERE id = j.id;
    RETURN jsonb_build_object('call', _ashby_request(j.user_id, 'file.info',
                                                     jsonb_build_object('fileHandle', a.ashby_resume_handle)));
END
$$;

-- file.info's answer: GET the presigned URL, with no key (it goes to whatever host Ashby named),
-- at most resume_pipeline.max_file_size. The download's answer: the file stored with upload()
-- for the user, as the applicant's CV (the cv step reads it). An expired URL is asked for again.
CREATE FUNCTION _ats_file_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    a applicants;
    p jsonb := (SELECT payload FROM jobs WHERE id = j.id);
    r record;
    url text;
    status int := coalesce((response ->> 'status')::int, 0);
    kind text;
    fname text;
    file_id uuid;
BEGIN
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    IF NOT FOUND OR a.ashby_resume_handle IS DISTINCT FROM p ->> 'handle' THEN
        RETURN NULL;  -- another file was named meanwhile: its own job fetches it
    END IF;
    IF NOT coalesce((p ->> 'downloading')::boolean, false) THEN
        SELECT * INTO r FROM _ashby_answer(j, 'file.info', response, body);
        IF r.directive IS NOT NULL THEN
            RETURN r.directive;
        ELSIF r.error_code IS NOT NULL THEN
            PERFORM _ashby_refused('file.info', r.error_code, r.error_message);
        END IF;
        url := CASE WHEN jsonb_typeof(r.doc #> '{results,url}') = 'string' THEN r.doc #>> '{results,url}' END;
        IF url IS NULL OR url !~* '^https?://[^[:space:][:cntrl:]]+$' OR length(url) > 8192 THEN
            RAISE EXCEPTION 'Ashby''s file.info gave no usable download URL' USING ERRCODE = 'protocol_violation';
        END IF;
        -- Only over HTTPS, or from Ashby's own origin (the scheme, host and port of ashby_base_url:
        -- a proxy, a stand-in): a plain-HTTP URL elsewhere (a cloud metadata address, a port on
        -- the database's own host) is never fetched.
        IF url !~* '^https://' AND lower(substring(url FROM '^[A-Za-z]+://[^/?#]*'))
               IS DISTINCT FROM lower(substring(current_setting('resume_pipeline.ashby_base_url') FROM '^[A-Za-z]+://[^/?#]*')) THEN
            RAISE EXCEPTION 'Ashby''s file.info gave a plain-HTTP download URL outside Ashby''s own address'
                USING ERRCODE = 'protocol_violation';
        END IF;
        UPDATE jobs SET payload = payload || jsonb_build_object('downloading', true) WHERE id = j.id;
        RETURN jsonb_build_object('call', jsonb_build_object(
            'method', 'GET', 'url', url,
            'max_bytes', pg_size_bytes(current_setting('resume_pipeline.max_file_size'))));
    END IF;
    IF response ->> 'outcome' = 'too_large' THEN
        RAISE EXCEPTION 'the résumé file in Ashby is larger than resume_pipeline.max_file_size (%)',
                        current_setting('resume_pipeline.max_file_size')
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    PERFORM _transport_check('the résumé download', response);
    IF status IN (400, 401, 403, 404, 410) AND coalesce((p ->> 'url_tries')::int, 0) < 2 THEN
        -- The presigned URL expired (or was refused): ask Ashby for a fresh one.
        UPDATE jobs SET payload = (payload - 'downloading') || jsonb_build_object('url_tries', coalesce((p ->> 'url_tries')::int, 0) + 1)
         WHERE id = j.id;
        RETURN jsonb_build_object('call', _ashby_request(j.user_id, 'file.info', jsonb_build_object('fileHandle', p ->> 'handle')));
    ELSIF status >= 500 OR status = 408 THEN
        RAISE EXCEPTION 'the résumé download answered HTTP %', status USING ERRCODE = 'connection_failure';
    ELSIF status <> 200 THEN
        RAISE EXCEPTION 'the résumé download answered HTTP %', status USING ERRCODE = 'data_exception';
    ELSIF length(body) = 0 THEN
        RAISE EXCEPTION 'the résumé file in Ashby is empty' USING ERRCODE = 'data_exception';
    END IF;
    kind := document_kind(body);
    IF NOT _is_resume_type(_mime_type_of(kind)) THEN
        RAISE EXCEPTION 'the résumé file in Ashby is not a document the pipeline reads (it looks like %)', kind
            USING ERRCODE = 'feature_not_supported';
    END IF;
    fname := _ashby_safe_name(a.ashby_data #>> '{resume_file,name}', 'resume');
    file_id := upload('ashby', format('ashby/%s/%s', _ashby_key_part(a.ashby_candidate_id), fname), body,
                      jsonb_build_object('source', 'ashby', 'ashby_candidate_id', left(a.ashby_candidate_id, 255),
                                         'original_filename', left(a.ashby_data #>> '{resume_file,name}', 255)),
                      j.user_id);
    UPDATE applicants SET cv_file_id = file_id, cv_status = 'pending', ashby_resume_fetched = p ->> 'handle'
     WHERE id = a.id;
    RETURN NULL;
END
$$;

------------------------------------------------------------------------------------------
-- Push: a verdict written back, the 'ats_push' job of an applicant
------------------------------------------------------------------------------------------

-- An Ashby applicant's verdict became ready (ai_status ready): queued for writing back when the
-- user's ashby_features say {"push": true}. A full queue skips the push (with a warning) rather
-- than fail the step that stored the verdict.
CREATE FUNCTION _ashby_verdict_ready() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM @extschema@.users u WHERE u.id = NEW.user_id AND u.ashby_features -> 'push' = 'true'
                  AND u.ashby_api_key IS NOT NULL) THEN
        BEGIN
            PERFORM @extschema@._enqueue('ats_push', NEW.id, NEW.user_id);
        EXCEPTION WHEN program_limit_exceeded THEN
            RAISE WARNING 'resume_pipeline: the Ashby push of applicant % was not queued: %', NEW.id, SQLERRM;
        END;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER applicant_ashby_push AFTER UPDATE OF ai_status ON applicants FOR EACH ROW
    WHEN (NEW.ai_status = 'ready' AND OLD.ai_status IS DISTINCT FROM NEW.ai_status AND NEW.ashby_candidate_id IS NOT NULL)
    EXECUTE FUNCTION _ashby_verdict_ready();

-- The note written back: the score, the summary, strengths and concerns.
CREATE FUNCTION _ashby_note(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN left(format(E'resume_pipeline fit score: %s/100\n%s%s%s',
                   coalesce(v ->> 'score', '?'),
                   coalesce(nullif(v ->> 'summary', '') || E'\n', ''),
                   coalesce(E'Strengths: ' || (SELECT string_agg(s, '; ') FROM jsonb_array_elements_text(
                            CASE WHEN jsonb_typeof(v -> 'strengths') = 'array' THEN v -> 'strengths' ELSE '[]' END) s) || E'\n', ''),
                   coalesce(E'Concerns: ' || (SELECT string_agg(s, '; ') FROM jsonb_array_elements_text(
                            CASE WHEN jsonb_typeof(v -> 'concerns') = 'array' THEN v -> 'concerns' ELSE '[]' END) s), '')),
            4000);

CREATE FUNCTION _ats_push_begin(j jobs) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    a applicants;
    features jsonb;
    digest text;
BEGIN
    SELECT * INTO a FROM applicants WHERE id = j.target_id FOR UPDATE;
    SELECT u.ashby_features INTO features FROM users u WHERE u.id = j.user_id;
    IF NOT FOUND OR a.id IS NULL OR a.ashby_candidate_id IS NULL OR a.ai_status <> 'ready' OR a.ai_data IS NULL
       OR features -> 'push' IS DISTINCT FROM 'true' THEN
        RETURN NULL;
    END IF;
    digest := md5(a.ai_data::text);
    IF a.ashby_pushed IS NOT DISTINCT FROM digest THEN
        RETURN NULL;  -- this verdict was written back already
    END IF;
    UPDATE jobs SET payload = payload || jsonb_build_object('digest', digest, 'endpoint',
                        CASE WHEN jsonb_typeof(features -> 'score_field_id') = 'string' THEN 'customField.setValues'
                             ELSE 'candidate.createNote' END)
     WHERE id = j.id;
    IF jsonb_typeof(features -> 'score_field_id') = 'string' THEN
        RETURN jsonb_build_object('call', _ashby_request(j.user_id, 'customField.setValues', jsonb_build_object(
            'objectId', a.ashby_candidate_id, 'objectType', 'Candidate',
            'values', jsonb_build_array(jsonb_build_object('fieldId', features ->> 'score_field_id',
                                                           'fieldValue', score_of(a.ai_data))))));
    END IF;
    RETURN jsonb_build_object('call', _ashby_request(j.user_id, 'candidate.createNote', jsonb_build_object(
        'candidateId', a.ashby_candidate_id, 'note', _ashby_note(a.ai_data))));
END
$$;

CREATE FUNCTION _ats_push_answer(j jobs, response jsonb, body bytea) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = @extschema@, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    endpoint text := coalesce((SELECT payload ->> 'endpoint' FROM jobs WHERE id = j.id), 'candidate.createNote');
BEGIN
    SELECT * INTO r FROM _ashby_answer(j, endpoint, response, body);
    IF r.directive IS NOT NULL THEN
        RETURN r.directive;
    ELSIF r.error_code IS NOT NULL THEN
        PERFORM _ashby_refused(endpoint, r.error_code, r.error_message);
    END IF;
    UPDATE applicants SET ashby_pushed = (SELECT payload ->> 'digest' FROM jobs WHERE id = j.id), ashby_pushed_at = now()
     WHERE id = j.target_id;
    RETURN NULL;
END
$$;
