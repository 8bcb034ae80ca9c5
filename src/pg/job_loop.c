/*
 * Runs a worker's jobs side by side, up to resume_pipeline.max_concurrent_tasks at once, in one
 * event loop (event_loop.h): each job follows its plan (job_steps.c); while it waits on its
 * parser process, an HTTP transfer or a timer, no transaction is open and the other jobs go
 * on. A slot whose job ends takes the next due document job at once, in fair order, so one
 * slow document or model answer holds back neither the others nor new work. The loop returns
 * when every slot is idle; it stops taking new work after a minute or a configuration reload,
 * so the worker can do its housekeeping.
 *
 * An ERROR that escapes a step is charged to that job alone; one that escapes the loop itself
 * (it should not) is charged to every job in flight, whose parser helpers and transfers are
 * stopped.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "job.h"
#include "net_loop.h"
#include "settings.h"

typedef struct Pool
{
	Job		   *jobs;
	int			n;
	RpLoop	   *loop;
	MemoryContext cxt;
	bool		refill;			/* a slot fell idle or the latch was set: look for new work */
} Pool;

static RpNet *job_net = NULL;

RpNet *
rp_job_net(void)
{
	if (job_net == NULL)
		job_net = rp_backend_net();
	return job_net;
}

/* Whatever the job has in flight is stopped; its memory goes. */
static void
job_clear(Job *job)
{
	if (job->wait == WAIT_PARSER)
		rp_parse_abandon(&job->item);
	if (job->wait == WAIT_NET && job_net != NULL)
		rp_net_cancel(job_net, job);
	job->busy = false;
	job->wait = WAIT_NONE;
	MemoryContextReset(job->cxt);
}

static void
job_reset(Job *job, const char *id)
{
	MemoryContext cxt = job->cxt;
	int			slot = job->slot;

	MemoryContextReset(cxt);
	memset(job, 0, sizeof(*job));
	job->cxt = cxt;
	job->slot = slot;
	job->busy = true;
	job->id = MemoryContextStrdup(cxt, id);
	job->retry_after_ms = -1;
	job->charge = true;
	job->step = -1;
	job->next_step = -1;
	job->started = GetCurrentTimestamp();
}

typedef struct StepCall
{
	Job		   *job;
	StepResult	(*fn) (Job *job);
	StepResult	result;
} StepCall;

static void
call_step_fn(void *arg)
{
	StepCall   *c = (StepCall *) arg;

	c->result = c->fn(c->job);
}

/* Runs one step function; an ERROR it raises is charged to its job, which ends. */
static StepResult
call_step(Job *job, StepResult (*fn) (Job *job))
{
	StepCall	c = {job, fn, STEP_END};
	MemoryContext old = MemoryContextSwitchTo(job->cxt);
	int			code;
	char	   *message;

	job->wait = WAIT_NONE;
	if (!rp_guarded(call_step_fn, &c, job->cxt, &code, &message))
	{
		rp_job_error(job->id, code, message, job->cxt);
		c.result = STEP_END;
	}
	MemoryContextSwitchTo(old);
	return c.result;
}

/* Moves a job through its plan until it waits or ends. */
static void
advance(Pool *pool, Job *job, StepResult r)
{
	for (;;)
	{
		if (r == STEP_WAIT)
			return;
		if (r == STEP_END)
			break;
		/* A failed step goes straight to the plan's last step, which records it. */
		if (job->next_step >= 0)
		{
			job->step = job->next_step;
			job->next_step = -1;
		}
		else
			job->step = (job->code != 0 && job->step < job->plan->n_steps - 2) ? job->plan->n_steps - 1 : job->step + 1;
		if (job->step >= job->plan->n_steps)
			break;
		r = call_step(job, job->plan->steps[job->step].start);
	}
	job_clear(job);
	pool->refill = true;
}

static void
job_start(Pool *pool, Job *job, const char *id)
{
	job_reset(job, id);
	advance(pool, job, call_step(job, rp_step_begin));
}

/* Gives idle slots the next due document jobs (ZIP expansions wait for the worker's main loop). */
static void
refill(Pool *pool)
{
	for (int i = 0; i < pool->n; i++)
	{
		char	   *id;

		if (pool->jobs[i].busy)
			continue;
		id = rp_claim_one(pool->cxt, true);
		if (id == NULL)
			return;
		job_start(pool, &pool->jobs[i], id);
		pfree(id);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Hands finished transfers, parser answers and expired timers to their jobs. */
static void
collect(Pool *pool)
{
	TimestampTz now;

	if (job_net != NULL)
	{
		RpNetDone	d;

		rp_net_after_wait(job_net);
		while (rp_net_next_done(job_net, &d))
		{
			Job		   *job = (Job *) d.tag;

			if (job == NULL || !job->busy || job->wait != WAIT_NET)
			{
				rp_net_done_free(&d);
				continue;
			}
			job->net = d;
			advance(pool, job, call_step(job, job->plan->steps[job->step].done));
		}
	}
	for (int i = 0; i < pool->n; i++)
	{
		Job		   *job = &pool->jobs[i];

		if (job->busy && job->wait == WAIT_PARSER && rp_parse_poll(&job->item))
			advance(pool, job, call_step(job, job->plan->steps[job->step].done));
	}
	now = GetCurrentTimestamp();
	for (int i = 0; i < pool->n; i++)
	{
		Job		   *job = &pool->jobs[i];

		/* A timer (the rate limiter's wait) runs the step again. */
		if (job->busy && job->wait == WAIT_TIMER && now >= job->wake_at)
			advance(pool, job, call_step(job, job->plan->steps[job->step].start));
	}
}

static int
busy_jobs(Pool *pool)
{
	int			busy = 0;

	for (int i = 0; i < pool->n; i++)
		busy += pool->jobs[i].busy;
	return busy;
}

static void
run_pool(void *arg)
{
	Pool	   *pool = (Pool *) arg;
	TimestampTz started = GetCurrentTimestamp();

	for (;;)
	{
		bool		draining = ConfigReloadPending || TimestampDifferenceExceeds(started, GetCurrentTimestamp(), 60000);

		collect(pool);
		if (pool->refill && !draining)
		{
			pool->refill = false;
			refill(pool);
		}
		if (busy_jobs(pool) == 0)
			break;
		for (int i = 0; i < pool->n; i++)
		{
			Job		   *job = &pool->jobs[i];

			if (!job->busy)
				continue;
			if (job->wait == WAIT_PARSER)
				rp_parse_watch(pool->loop, &job->item);
			else if (job->wait == WAIT_TIMER)
				rp_loop_wake_at(pool->loop, job->wake_at);
		}
		if (job_net != NULL)
			rp_net_watch(pool->loop, job_net);
		/* A safety net, not a poll: every wait above has its own wake-up. */
		rp_loop_wake_at(pool->loop, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000));
		pgstat_report_activity(STATE_RUNNING, "resume_pipeline: running jobs");
		if (rp_loop_wait(pool->loop, PG_WAIT_EXTENSION))
			pool->refill = true;	/* a commit may have queued work for an idle slot */
	}
}

void
rp_run_jobs(char **ids, int n)
{
	int			slots = Min(rp_max_concurrent_tasks, RP_MAX_BATCH);
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "resume_pipeline jobs", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Pool		pool;
	int			code;
	char	   *message;

	pool.n = Max(slots, n);
	pool.jobs = palloc0(sizeof(Job) * pool.n);
	pool.cxt = cxt;
	pool.loop = rp_loop_create(cxt);
	pool.refill = false;
	for (int i = 0; i < pool.n; i++)
	{
		pool.jobs[i].slot = 1 + i;
		pool.jobs[i].cxt = AllocSetContextCreate(cxt, "resume_pipeline job", ALLOCSET_DEFAULT_SIZES);
	}
	for (int i = 0; i < n; i++)
	{
		job_start(&pool, &pool.jobs[i], ids[i]);
		CHECK_FOR_INTERRUPTS();
	}
	pool.refill = true;
	if (!rp_guarded(run_pool, &pool, cxt, &code, &message))
	{
		/* The loop itself failed: every job in flight is charged with it (retried if transient). */
		for (int i = 0; i < pool.n; i++)
			if (pool.jobs[i].busy)
			{
				rp_job_error(pool.jobs[i].id, code, message, cxt);
				job_clear(&pool.jobs[i]);
			}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}
