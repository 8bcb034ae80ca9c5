/*
 * Circuit breakers per dependency (storage, model), in shared memory so that every worker and
 * session sees the same state. After resume_pipeline.circuit_failure_threshold consecutive
 * transient failures a circuit opens for resume_pipeline.circuit_open_ms: jobs that need the
 * dependency wait instead of burning attempts. Then one trial call is let through (half-open);
 * its outcome closes the circuit or opens it again. Without shared memory (library not
 * preloaded) every circuit stays closed.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "circuit.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_circuit_allow);
PG_FUNCTION_INFO_V1(rp_circuit_record);
PG_FUNCTION_INFO_V1(rp_circuit_state);

static RpDependency
dependency_of(text *name)
{
	char	   *s = text_to_cstring(name);

	if (strcmp(s, "storage") == 0)
		return RP_DEP_STORAGE;
	if (strcmp(s, "model") == 0)
		return RP_DEP_MODEL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown dependency \"%s\"", s),
			 errhint("Use storage or model.")));
	return RP_DEP_STORAGE;		/* not reached */
}

bool
rp_circuit_allows(RpDependency d)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		allow = true;
	RpCircuit  *c;

	if (rp_shared == NULL)
		return true;
	c = &rp_shared->circuits[d];
	SpinLockAcquire(&rp_shared->circuit_mutex);
	if (c->state == RP_CIRCUIT_OPEN)
	{
		if (TimestampDifferenceExceeds(c->opened_at, now, rp_circuit_open_ms))
		{
			c->state = RP_CIRCUIT_HALF_OPEN;	/* this caller makes the trial */
			c->trial_started_at = now;
		}
		else
			allow = false;
	}
	else if (c->state == RP_CIRCUIT_HALF_OPEN)
	{
		/* One trial at a time; a trial that never reported back is replaced. */
		if (TimestampDifferenceExceeds(c->trial_started_at, now, rp_circuit_open_ms))
			c->trial_started_at = now;
		else
			allow = false;
	}
	SpinLockRelease(&rp_shared->circuit_mutex);
	return allow;
}

/* _circuit_allow(dependency) → may a call go out now? */
Datum
rp_circuit_allow(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rp_circuit_allows(dependency_of(PG_GETARG_TEXT_PP(0))));
}

void
rp_circuit_report(RpDependency d, bool ok)
{
	RpCircuit  *c;

	if (rp_shared == NULL)
		return;
	c = &rp_shared->circuits[d];
	SpinLockAcquire(&rp_shared->circuit_mutex);
	if (ok)
	{
		c->state = RP_CIRCUIT_CLOSED;
		c->consecutive_failures = 0;
	}
	else
	{
		c->consecutive_failures++;
		if (c->state == RP_CIRCUIT_HALF_OPEN ||
			(c->state == RP_CIRCUIT_CLOSED && c->consecutive_failures >= rp_circuit_failure_threshold))
		{
			c->state = RP_CIRCUIT_OPEN;
			c->opened_at = GetCurrentTimestamp();
			c->times_opened++;
		}
	}
	SpinLockRelease(&rp_shared->circuit_mutex);
}

/* _circuit_record(dependency, ok) → reports a call's outcome. */
Datum
rp_circuit_record(PG_FUNCTION_ARGS)
{
	rp_circuit_report(dependency_of(PG_GETARG_TEXT_PP(0)), PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/* _circuit_state(dependency) → {"state", "consecutive_failures", "opened_at", "times_opened"} */
Datum
rp_circuit_state(PG_FUNCTION_ARGS)
{
	RpDependency d = dependency_of(PG_GETARG_TEXT_PP(0));
	RpCircuit	c;
	StringInfoData buf;
	static const char *names[] = {"closed", "open", "half_open"};

	memset(&c, 0, sizeof(c));
	if (rp_shared != NULL)
	{
		SpinLockAcquire(&rp_shared->circuit_mutex);
		c = rp_shared->circuits[d];
		SpinLockRelease(&rp_shared->circuit_mutex);
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"state\": \"%s\", \"consecutive_failures\": %d, \"times_opened\": " UINT64_FORMAT ", \"opened_at\": ",
					 rp_shared == NULL ? "unavailable" : names[c.state], c.consecutive_failures, c.times_opened);
	if (c.opened_at == 0)
		appendStringInfoString(&buf, "null}");
	else
		appendStringInfo(&buf, "\"%s\"}", timestamptz_to_str(c.opened_at));
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}
