
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
