/*
 * One wait for everything a backend is waiting on (event_loop.c): the sockets of parser
 * helpers and of HTTP transfers, their deadlines, the latch and postmaster death, in one
 * WaitEventSet. Its users (the parser client, the network client) register what they wait for
 * before each wait and are called back for what happened; the loop knows nothing of them.
 */
#ifndef RP_EVENT_LOOP_H
#define RP_EVENT_LOOP_H

#include "storage/latch.h"
#include "utils/timestamp.h"

typedef struct RpLoop RpLoop;

/* Called for a watched socket that is ready: events is WL_SOCKET_READABLE and/or WRITEABLE. */
typedef void (*RpLoopReady) (void *arg, pgsocket fd, uint32 events);

/* A loop whose per-wait allocations live in a child of cxt. */
extern RpLoop *rp_loop_create(MemoryContext cxt);
extern void rp_loop_destroy(RpLoop *loop);

/*
 * For the next wait only: call ready(arg, fd, fired) when fd is ready for events
 * (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE). A socket watched twice gets both wishes.
 */
extern void rp_loop_watch(RpLoop *loop, pgsocket fd, uint32 events, RpLoopReady ready, void *arg);

/* For the next wait only: return no later than when. */
extern void rp_loop_wake_at(RpLoop *loop, TimestampTz when);

/*
 * Waits until a watched socket is ready, the earliest deadline passes, or the latch is set;
 * calls the callbacks of the sockets that fired, then forgets every watch and deadline.
 * A set latch is reset and interrupts are checked (cancel, termination raise their ERROR or
 * FATAL here). Returns true when the latch was set. Postmaster death ends the process.
 */
extern bool rp_loop_wait(RpLoop *loop, uint32 wait_event_info);

/* Whether anything is registered for the next wait (a socket or a deadline). */
extern bool rp_loop_has_waits(RpLoop *loop);

#endif
