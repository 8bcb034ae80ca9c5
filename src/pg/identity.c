/*
 * Who is asking. The SQL layer's authorisation rests on three facts this file provides:
 *
 *   _identity(uid_function)   the signed-in user: the trusted auth.uid() chosen when the
 *                             extension was created, else the "sub" claim PostgREST verified
 *                             (request.jwt.claims, or the older request.jwt.claim.sub);
 *   _caller_is_admin()        whether the role acting for the session (outside any SECURITY
 *                             DEFINER function) has the privileges of the pipeline's owner;
 *   _in_worker()              whether this process is one of the pipeline's own workers.
 *
 * auth.uid() is somebody else's code. Even when it is trusted, it runs with the rights of the
 * session's role, never with those of a SECURITY DEFINER function that asked for the identity,
 * and inside a restricted operation (no SET ROLE, no temporary objects).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "identity.h"

PG_FUNCTION_INFO_V1(rp_identity);
PG_FUNCTION_INFO_V1(rp_caller_is_admin);
PG_FUNCTION_INFO_V1(rp_in_worker);

bool		rp_am_worker = false;

/* A uuid in the usual spellings (with or without the four hyphens); false otherwise. */
static bool
parse_uuid(const char *s, int len, pg_uuid_t *out)
{
	int			nibbles = 0;

	for (int i = 0; i < len; i++)
	{
		char		c = s[i];
		int			v;

		if (c == '-' && (nibbles == 8 || nibbles == 12 || nibbles == 16 || nibbles == 20))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (nibbles == 32)
			return false;
		if (nibbles % 2 == 0)
			out->data[nibbles / 2] = v << 4;
		else
			out->data[nibbles / 2] |= v;
		nibbles++;
	}
	return nibbles == 32;
}

/* The "sub" of PostgREST's verified claims, or false when there is none (anonymous). */
static bool
claimed_user(pg_uuid_t *out)
{
	const char *claims = GetConfigOption("request.jwt.claims", true, false);
	const char *sub = GetConfigOption("request.jwt.claim.sub", true, false);

	if (claims != NULL && claims[0] != '\0')
	{
		/* Malformed JSON here is an error, not anonymity. */
		Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(claims)));
		JsonbValue	key;
		JsonbValue *v;

		if (!JB_ROOT_IS_OBJECT(jb))
			return false;
		key.type = jbvString;
		key.val.string.val = "sub";
		key.val.string.len = 3;
		v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &key);
		return v != NULL && v->type == jbvString && parse_uuid(v->val.string.val, v->val.string.len, out);
	}
	if (sub != NULL && sub[0] != '\0')
		return parse_uuid(sub, strlen(sub), out);
	return false;
}

typedef struct UidCall
{
	Oid			fn;
	FmgrInfo	flinfo;
} UidCall;

/* _identity(uid_function regprocedure) returns uuid */
Datum
rp_identity(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
	{
		Oid			fn = PG_GETARG_OID(0);
		UidCall    *call = (UidCall *) fcinfo->flinfo->fn_extra;
		LOCAL_FCINFO(inner, 0);
		Oid			save_user;
		int			save_sec;
		volatile Datum result = (Datum) 0;

		if (call == NULL || call->fn != fn)
		{
			/*
			 * Nothing a caller could not run directly: the function must be one the session's
			 * role may execute, returning uuid from no arguments.
			 */
			HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
			Form_pg_proc proc;
			bool		fits;

			if (!HeapTupleIsValid(tuple))
				ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION), errmsg("identity function %u does not exist", fn)));
			proc = (Form_pg_proc) GETSTRUCT(tuple);
			fits = proc->pronargs == 0 && proc->prorettype == UUIDOID && !proc->proretset && proc->prokind == PROKIND_FUNCTION;
			ReleaseSysCache(tuple);
			if (!fits)
				ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("identity function must take no arguments and return uuid")));

			call = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(UidCall));
			fmgr_info_cxt(fn, &call->flinfo, fcinfo->flinfo->fn_mcxt);
			call->fn = fn;
			fcinfo->flinfo->fn_extra = call;
		}
		if (pg_proc_aclcheck(fn, GetOuterUserId(), ACL_EXECUTE) != ACLCHECK_OK)
			ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							errmsg("permission denied for the identity function %s", format_procedure(fn))));
		InitFunctionCallInfoData(*inner, &call->flinfo, 0, InvalidOid, NULL, NULL);
		GetUserIdAndSecContext(&save_user, &save_sec);
		SetUserIdAndSecContext(GetOuterUserId(),
							   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
		PG_TRY();
		{
			result = FunctionCallInvoke(inner);
		}
		PG_FINALLY();
		{
			SetUserIdAndSecContext(save_user, save_sec);
		}
		PG_END_TRY();
		if (inner->isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(result);
	}
	else
	{
		pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

		if (!claimed_user(id))
			PG_RETURN_NULL();
		PG_RETURN_UUID_P(id);
	}
}

/*
 * _caller_is_admin() returns boolean: the session's acting role (SET ROLE, not a SECURITY
 * DEFINER function's owner) has the privileges of the role that owns this function, i.e. of
 * the pipeline's owner. Superusers, the owner and its members are admins; end users are not.
 */
Datum
rp_caller_is_admin(PG_FUNCTION_ARGS)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	PG_RETURN_BOOL(has_privs_of_role(GetOuterUserId(), owner));
}

/* _in_worker() returns boolean */
Datum
rp_in_worker(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rp_am_worker);
}
