/*
 * Circuit breakers per dependency, in shared memory so that every worker and session sees the
 * same state: storage and model have fixed ones, the services of call jobs ("github",
 * "linkedin", "step:<name>") one by name in a small table (shmem.h). After
 * resume_pipeline.circuit_failure_threshold consecutive transient failures a circuit opens for
 * resume_pipeline.circuit_open_ms: jobs that need the dependency wait instead of burning
 * attempts. Then one trial call is let through (half-open); its outcome closes the circuit or
 * opens it again.
 *
 * Each circuit also holds a pause: a service that says when it takes calls again (GitHub's
 * rate-limit reset) stops every caller until then, not only the one that was told. The model's
 * pause is the model rate limiter's (rate_limit.c), which the résumé path honours too.
 *
 * Without shared memory (library not preloaded) every circuit stays closed and only the model
 * has a pause (the rate limiter's, in this process).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "circuit.h"
#include "rate_limit.h"
#include "settings.h"
#include "shmem.h"

/* A service asking for a longer pause is broken or hostile (GitHub's window is an hour). */
#define RP_MAX_DEPENDENCY_PAUSE_MS (60 * 60 * 1000)

PG_FUNCTION_INFO_V1(rp_circuit_allow);
PG_FUNCTION_INFO_V1(rp_circuit_record);
PG_FUNCTION_INFO_V1(rp_circuit_state);
PG_FUNCTION_INFO_V1(rp_dependency_pause_sql);
PG_FUNCTION_INFO_V1(rp_dependency_paused_ms_sql);

const char *
rp_dependency_name_problem(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0)
		return "a dependency name must not be empty";
	if (len >= RP_CIRCUIT_NAME_SIZE)
		return "a dependency name must be at most 63 bytes";
	for (const char *c = name; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			return "a dependency name must not contain control characters";
	return NULL;
}

/* The dependency a SQL argument names (22023 when it is no valid name). */
static char *
dependency_arg(text *arg)
{
	char	   *name = text_to_cstring(arg);
	const char *problem = rp_dependency_name_problem(name);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid dependency name: %s", problem),
				 errhint("Use storage, model, github, linkedin or step:<name>.")));
	return name;
}

/*
 * The circuit of a dependency, circuit_mutex held: arithmetic and string compares only. NULL
 * for a name without a slot (unless create: then a free slot, or the least recently used closed
 * one, preferably without a pause; NULL still when every slot holds an open circuit).
 */
static RpCircuit *
circuit_locked(const char *name, bool create, TimestampTz now)
{
	RpNamedCircuit *free_slot = NULL;
	RpNamedCircuit *idle = NULL;	/* closed, not paused */
	RpNamedCircuit *paused = NULL;	/* closed, paused */
	RpNamedCircuit *slot;

	if (strcmp(name, "storage") == 0)
		return &rp_shared->circuits[RP_DEP_STORAGE];
	if (strcmp(name, "model") == 0)
		return &rp_shared->circuits[RP_DEP_MODEL];
	for (int i = 0; i < RP_MAX_NAMED_CIRCUITS; i++)
	{
		RpNamedCircuit *n = &rp_shared->named_circuits[i];

		if (n->name[0] == '\0')
		{
			if (free_slot == NULL)
				free_slot = n;
			continue;
		}
		if (strcmp(n->name, name) == 0)
		{
			n->last_used = now;
			return &n->circuit;
		}
		if (n->circuit.state != RP_CIRCUIT_CLOSED)
			continue;
		if (n->circuit.paused_until > now)
		{
			if (paused == NULL || n->last_used < paused->last_used)
				paused = n;
		}
		else if (idle == NULL || n->last_used < idle->last_used)
			idle = n;
	}
	if (!create)
		return NULL;
	slot = free_slot ? free_slot : idle ? idle : paused;
	if (slot == NULL)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	strlcpy(slot->name, name, sizeof(slot->name));
	slot->last_used = now;
	return &slot->circuit;
}

static bool
allow_locked(RpCircuit *c, TimestampTz now)
{
	if (c->state == RP_CIRCUIT_OPEN)
	{
		if (!TimestampDifferenceExceeds(c->opened_at, now, rp_circuit_open_ms))
			return false;
		c->state = RP_CIRCUIT_HALF_OPEN;	/* this caller makes the trial */
		c->trial_started_at = now;
	}
	else if (c->state == RP_CIRCUIT_HALF_OPEN)
	{
		/* One trial at a time; a trial that never reported back is replaced. */
		if (!TimestampDifferenceExceeds(c->trial_started_at, now, rp_circuit_open_ms))
			return false;
		c->trial_started_at = now;
	}
	return true;
}

static void
report_locked(RpCircuit *c, bool ok, TimestampTz now)
{
	if (ok)
	{
		c->state = RP_CIRCUIT_CLOSED;
		c->consecutive_failures = 0;
		return;
	}
	c->consecutive_failures++;
	if (c->state == RP_CIRCUIT_HALF_OPEN ||
		(c->state == RP_CIRCUIT_CLOSED && c->consecutive_failures >= rp_circuit_failure_threshold))
	{
		c->state = RP_CIRCUIT_OPEN;
		c->opened_at = now;
		c->times_opened++;
	}
}

bool
rp_circuit_allows(RpDependency d)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		allow;

	if (rp_shared == NULL)
		return true;
	SpinLockAcquire(&rp_shared->circuit_mutex);
	allow = allow_locked(&rp_shared->circuits[d], now);
	SpinLockRelease(&rp_shared->circuit_mutex);
	return allow;
}

void
rp_circuit_report(RpDependency d, bool ok)
{
	TimestampTz now = GetCurrentTimestamp();

	if (rp_shared == NULL)
		return;
	SpinLockAcquire(&rp_shared->circuit_mutex);
	report_locked(&rp_shared->circuits[d], ok, now);
	SpinLockRelease(&rp_shared->circuit_mutex);
}

bool
rp_circuit_allows_name(const char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		allow = true;
	RpCircuit  *c;

	if (rp_shared == NULL)
		return true;
	SpinLockAcquire(&rp_shared->circuit_mutex);
	c = circuit_locked(name, false, now);
	if (c != NULL)
		allow = allow_locked(c, now);
	SpinLockRelease(&rp_shared->circuit_mutex);
	return allow;
}

void
rp_circuit_report_name(const char *name, bool ok)
{
	TimestampTz now = GetCurrentTimestamp();
	RpCircuit  *c;

	if (rp_shared == NULL)
		return;
	SpinLockAcquire(&rp_shared->circuit_mutex);
	/* A success of a dependency without a slot changes nothing: it is closed already. */
	c = circuit_locked(name, !ok, now);
	if (c != NULL)
		report_locked(c, ok, now);
	SpinLockRelease(&rp_shared->circuit_mutex);
}

void
rp_dependency_pause(const char *name, int64 ms)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz until;
	RpCircuit  *c;

	if (ms <= 0)
		return;
	if (strcmp(name, "model") == 0)
	{
		rp_rate_pause(ms);
		return;
	}
	if (rp_shared == NULL)
		return;
	until = TimestampTzPlusMilliseconds(now, Min(ms, RP_MAX_DEPENDENCY_PAUSE_MS));
	SpinLockAcquire(&rp_shared->circuit_mutex);
	c = circuit_locked(name, true, now);
	/* Pauses only lengthen: the caller told the latest time wins. */
	if (c != NULL && until > c->paused_until)
		c->paused_until = until;
	SpinLockRelease(&rp_shared->circuit_mutex);
}

int64
rp_dependency_paused_ms(const char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz until = 0;
	RpCircuit  *c;

	if (strcmp(name, "model") == 0)
		return rp_rate_paused_ms();
	if (rp_shared == NULL)
		return 0;
	SpinLockAcquire(&rp_shared->circuit_mutex);
	c = circuit_locked(name, false, now);
	if (c != NULL)
		until = c->paused_until;
	SpinLockRelease(&rp_shared->circuit_mutex);
	return until > now ? (until - now + 999) / 1000 : 0;
}

/* _circuit_allow(dependency) → may a call go out now? */
Datum
rp_circuit_allow(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(rp_circuit_allows_name(dependency_arg(PG_GETARG_TEXT_PP(0))));
}

/* _circuit_record(dependency, ok) → reports a call's outcome. */
Datum
rp_circuit_record(PG_FUNCTION_ARGS)
{
	rp_circuit_report_name(dependency_arg(PG_GETARG_TEXT_PP(0)), PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

/*
 * _circuit_state(dependency) → {"state", "consecutive_failures", "times_opened", "opened_at",
 * "paused_until"}; a dependency nobody reported on is closed.
 */
Datum
rp_circuit_state(PG_FUNCTION_ARGS)
{
	char	   *name = dependency_arg(PG_GETARG_TEXT_PP(0));
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz paused_until = 0;
	RpCircuit	c;
	StringInfoData buf;
	static const char *names[] = {"closed", "open", "half_open"};

	memset(&c, 0, sizeof(c));
	if (rp_shared != NULL)
	{
		RpCircuit  *found;

		SpinLockAcquire(&rp_shared->circuit_mutex);
		found = circuit_locked(name, false, now);
		if (found != NULL)
			c = *found;
		SpinLockRelease(&rp_shared->circuit_mutex);
	}
	if (strcmp(name, "model") == 0)
	{
		int64		ms = rp_rate_paused_ms();

		if (ms > 0)
			paused_until = TimestampTzPlusMilliseconds(now, ms);
	}
	else if (c.paused_until > now)
		paused_until = c.paused_until;
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"state\": \"%s\", \"consecutive_failures\": %d, \"times_opened\": " UINT64_FORMAT ", \"opened_at\": ",
					 rp_shared == NULL ? "unavailable" : names[c.state], c.consecutive_failures, c.times_opened);
	if (c.opened_at == 0)
		appendStringInfoString(&buf, "null");
	else
		appendStringInfo(&buf, "\"%s\"", timestamptz_to_str(c.opened_at));
	appendStringInfoString(&buf, ", \"paused_until\": ");
	if (paused_until == 0)
		appendStringInfoString(&buf, "null}");
	else
		appendStringInfo(&buf, "\"%s\"}", timestamptz_to_str(paused_until));
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* _dependency_pause(dependency, ms): nobody calls the dependency for ms (lengthens only). */
Datum
rp_dependency_pause_sql(PG_FUNCTION_ARGS)
{
	rp_dependency_pause(dependency_arg(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT64(1));
	PG_RETURN_VOID();
}

/* _dependency_paused_ms(dependency) → ms left of its pause, 0 when not paused. */
Datum
rp_dependency_paused_ms_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(rp_dependency_paused_ms(dependency_arg(PG_GETARG_TEXT_PP(0))));
}
