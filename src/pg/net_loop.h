/*
 * The backend's HTTP client (net_client.h) on the Postgres side (net_loop.c): the one client a
 * backend has, its sockets and timer registered in an event loop (event_loop.h), its targets read
 * from the settings, and a cancellable wait for one transfer for session-side SQL functions.
 */
#ifndef RP_NET_LOOP_H
#define RP_NET_LOOP_H

#include "event_loop.h"
#include "net_client.h"

/* The backend's client, created on first use (ERROR 58000 when libcurl cannot start). */
extern RpNet *rp_backend_net(void);
/* The same without raising (NULL when libcurl cannot start): for the end of a transaction. */
extern RpNet *rp_backend_net_if_ready(void);

/* For the next wait: libcurl's sockets (ready ones go to rp_net_socket_ready) and its timer. */
extern void rp_net_watch(RpLoop *loop, RpNet *net);

/* After the wait: fires libcurl's timer when it is due. */
extern void rp_net_after_wait(RpNet *net);

/*
 * Targets from resume_pipeline.* settings. The strings point into the settings themselves:
 * start the transfer (which copies them) before the next configuration reload.
 */
extern void rp_s3_target_from_settings(RpS3Target *target);
extern void rp_llm_target_from_settings(RpLlmTarget *target);

/* The installed résumé schema: SHAREDIR/extension/resume_pipeline_schema.json. */
extern void rp_llm_schema_path(char *path, size_t size);

/*
 * Runs an event loop until the transfer started with tag is done, and hands back its result.
 * Query cancel, statement_timeout and termination interrupt the wait at once: the transfer is
 * cancelled and the error goes on.
 */
extern void rp_net_wait_done(RpNet *net, void *tag, RpNetDone *out);

/* The same where nothing may raise: poll() alone, at most timeout_ms; false when cut off. */
extern bool rp_net_wait_quietly(RpNet *net, void *tag, RpNetDone *out, long timeout_ms);

/* The SQLSTATE of a model call's outcome (22000 content, 28000 key, 53000 rate, 54000 quota, …). */
extern int	rp_model_sqlstate(const RpNetDone *done);

#endif
