/*
 * The wait primitive of the worker and of session-side calls that wait on other processes or
 * the network (see event_loop.h). Watches last one wait: each user registers afresh what it
 * waits for now, so nothing is left registered for a socket that was closed in between (a
 * closed socket in an epoll set is how waits go wrong). A WaitEventSet is built per wait; its
 * cost (an epoll descriptor and one call per socket) is small beside what is awaited.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "event_loop.h"

typedef struct Watch
{
	pgsocket	fd;
	uint32		events;
	RpLoopReady ready;
	void	   *arg;
} Watch;

struct RpLoop
{
	MemoryContext cxt;			/* the loop itself */
	MemoryContext wait_cxt;		/* reset after every wait */
	Watch	   *watches;
	int			n;
	int			size;
	TimestampTz deadline;		/* 0: none */
};

RpLoop *
rp_loop_create(MemoryContext cxt)
{
	RpLoop	   *loop = MemoryContextAllocZero(cxt, sizeof(RpLoop));

	loop->cxt = cxt;
	loop->wait_cxt = AllocSetContextCreate(cxt, "resume_pipeline wait", ALLOCSET_SMALL_SIZES);
	loop->size = 16;
	loop->watches = MemoryContextAlloc(cxt, sizeof(Watch) * loop->size);
	return loop;
}

void
rp_loop_destroy(RpLoop *loop)
{
	MemoryContextDelete(loop->wait_cxt);
	pfree(loop->watches);
	pfree(loop);
}

void
rp_loop_watch(RpLoop *loop, pgsocket fd, uint32 events, RpLoopReady ready, void *arg)
{
	Assert(fd != PGINVALID_SOCKET);
	Assert((events & ~(WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)) == 0 && events != 0);
	if (loop->n == loop->size)
	{
		loop->size *= 2;
		loop->watches = repalloc(loop->watches, sizeof(Watch) * loop->size);
	}
	loop->watches[loop->n++] = (Watch) {fd, events, ready, arg};
}

void
rp_loop_wake_at(RpLoop *loop, TimestampTz when)
{
	if (loop->deadline == 0 || when < loop->deadline)
		loop->deadline = when;
}

bool
rp_loop_has_waits(RpLoop *loop)
{
	return loop->n > 0 || loop->deadline != 0;
}

static void
forget(RpLoop *loop)
{
	loop->n = 0;
	loop->deadline = 0;
	MemoryContextReset(loop->wait_cxt);
}

bool
rp_loop_wait(RpLoop *loop, uint32 wait_event_info)
{
	MemoryContext old = MemoryContextSwitchTo(loop->wait_cxt);
	pgsocket   *fds = palloc(sizeof(pgsocket) * (loop->n + 1));
	uint32	   *wanted = palloc(sizeof(uint32) * (loop->n + 1));
	WaitEvent  *occurred;
	WaitEventSet *set;
	int			unique = 0;
	long		timeout = -1;
	bool		latch_set = false;
	int			fired;

	/* One entry per socket, with every wish for it: epoll refuses a socket added twice. */
	for (int i = 0; i < loop->n; i++)
	{
		int			k;

		for (k = 0; k < unique && fds[k] != loop->watches[i].fd; k++)
			;
		if (k == unique)
		{
			fds[unique] = loop->watches[i].fd;
			wanted[unique++] = 0;
		}
		wanted[k] |= loop->watches[i].events;
	}
	if (loop->deadline != 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		timeout = loop->deadline <= now ? 0 : TimestampDifferenceMilliseconds(now, loop->deadline);
		/* TimestampDifferenceMilliseconds rounds down: never wake just before the deadline. */
		if (loop->deadline > now && timeout < 1)
			timeout = 1;
	}

	occurred = palloc(sizeof(WaitEvent) * (unique + 2));
	set = CreateWaitEventSet(loop->wait_cxt, unique + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int k = 0; k < unique; k++)
		AddWaitEventToSet(set, wanted[k], fds[k], NULL, NULL);
	fired = WaitEventSetWait(set, timeout, occurred, unique + 2, wait_event_info);
	FreeWaitEventSet(set);
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		for (int e = 0; e < fired; e++)
		{
			if (occurred[e].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				latch_set = true;
				continue;
			}
			if (!(occurred[e].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)))
				continue;
			for (int i = 0; i < loop->n; i++)
			{
				Watch	   *w = &loop->watches[i];
				uint32		got = occurred[e].events & w->events;

				if (w->fd == occurred[e].fd && got != 0)
					w->ready(w->arg, w->fd, got);
			}
		}
	}
	PG_FINALLY();
	{
		forget(loop);
	}
	PG_END_TRY();
	if (latch_set)
		CHECK_FOR_INTERRUPTS();
	return latch_set;
}
