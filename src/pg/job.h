/*
 * A worker's jobs as steps (job_steps.c), driven side by side by its event loop (job_loop.c),
 * with each SQL call in a transaction of its own (worker_xact.c).
 *
 * A job is a plan: a sequence of steps chosen by its kind and the model provider. A step either
 * works in a transaction (begin, look up the answer cache, store) or waits outside one, on a
 * parser process or an HTTP transfer (fetch the document from S3, read it, ask the model). No
 * transaction is ever open while a job waits, and many jobs wait at once; adding a step is a
 * table entry in job_steps.c, not another branch. Call jobs (ai, gh, li, analysis, step, embed)
 * follow one plan whatever their kind: SQL writes each request and reads each answer
 * (sql/install/52_calls.sql), the worker moves the bytes (http_call.h).
 */
#ifndef RP_JOB_H
#define RP_JOB_H

#include "utils/timestamp.h"

#include "event_loop.h"
#include "net_client.h"
#include "parser_client.h"

typedef struct Job Job;

typedef enum StepResult
{
	STEP_NEXT,					/* go on to the next step now */
	STEP_WAIT,					/* waiting on the parser, the network or a timer */
	STEP_END					/* the job is over (its outcome is recorded) */
} StepResult;

typedef struct JobStep
{
	const char *name;
	/* When the job reaches the step. */
	StepResult	(*start) (Job *job);
	/* When what the step waited for is done (NULL for steps that never wait). */
	StepResult	(*done) (Job *job);
} JobStep;

typedef struct JobPlan
{
	const char *name;
	const JobStep *steps;
	int			n_steps;
	bool		document;		/* works on a document: begin hands over its bytes or S3 location */
} JobPlan;

typedef enum JobWait
{
	WAIT_NONE,
	WAIT_PARSER,
	WAIT_NET,
	WAIT_TIMER
} JobWait;

struct Job
{
	bool		busy;
	int			slot;			/* its parser helper: 1 + its index */
	char	   *id;
	MemoryContext cxt;			/* everything of this job; reset when the slot takes a new one */
	const JobPlan *plan;
	int			step;
	int			next_step;		/* >= 0: where the plan goes on instead of the next step */
	JobWait		wait;
	TimestampTz wake_at;		/* WAIT_TIMER */
	TimestampTz started;

	/* begin */
	char	   *kind;
	const char *data;			/* the document, when in hand */
	size_t		len;
	char	   *s3_bucket;		/* or where to fetch it */
	char	   *s3_key;
	char	   *fetched_json;	/* {"size", "checksum"} of a fetched document */

	/* parser */
	RpBatchItem item;

	/* the text and its JSON Resume, UTF-8 */
	const char *text;
	size_t		text_len;
	const char *json;
	size_t		json_len;

	/* model */
	char	   *cache_key;
	char	   *usage_json;
	int64		estimated_tokens;
	RpNetDone	net;

	/* call jobs: the request to send, as SQL wrote it, and the answer for SQL */
	char	   *request;		/* JSON text */
	char	   *dependency;		/* its circuit ("model", "github", …), or NULL */
	bool		reserved;		/* the model rate limiter holds estimated_tokens for it */
	int			calls;			/* requests sent in this run */
	char	   *response;		/* the contract's response, as jsonb text */
	bytea	   *body;

	/* a failure, recorded by the last step */
	int			code;			/* 0: none */
	char	   *message;
	long long	retry_after_ms; /* -1: none */
	bool		charge;			/* false: the provider pacing us, attempt given back */
};

/* job_steps.c */
extern const JobPlan *rp_plan_for(const char *kind);
extern StepResult rp_step_begin(Job *job);

/* job_loop.c */
extern void rp_run_jobs(char **ids, int n);
extern void rp_job_fail(Job *job, int code, const char *message);
extern RpNet *rp_job_net(void);

/* worker_xact.c */
typedef struct SqlResult
{
	int			ncols;
	Datum		values[8];
	bool		nulls[8];
} SqlResult;

extern bool rp_guarded(void (*fn) (void *), void *arg, MemoryContext cxt, int *code, char **message);
extern bool rp_job_sql(const char *job_id, const char *sql, int nargs, Oid *types, Datum *values,
					   const char *nulls, MemoryContext cxt, SqlResult *result);
extern void rp_job_error(const char *id, int code, const char *message, MemoryContext cxt);
extern char *rp_claim_one(MemoryContext cxt, bool documents_only);
extern int	rp_max_user_running(void);

#endif
