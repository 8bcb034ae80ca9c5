/*
 * The HTTP requests of call jobs (http_call.c), as the worker's call plan (job_steps.c) and the
 * session's _http_call() send them: a request in JSON (sql/install/52_calls.sql) becomes a
 * transfer on the backend's HTTP client with the key its "auth" names, and a finished transfer
 * becomes the contract's response jsonb and body bytea.
 */
#ifndef RP_HTTP_CALL_H
#define RP_HTTP_CALL_H

#include "net_client.h"

/* Keys, base URLs and defaults from the resume_pipeline.* settings (pointers into them). */
extern void rp_request_defaults_from_settings(RpRequestDefaults *defaults);

/*
 * Starts the request (JSON text in the server encoding) with this tag. A request that cannot go
 * as given comes back done with outcome "refused"; false (reason in message) only when nothing
 * could be started at all.
 */
extern bool rp_http_start(RpNet *net, const char *request_text, void *tag, char *message, size_t message_size);

/*
 * The response of the contract, as text for jsonb: {"status", "outcome", "message", "headers",
 * "milliseconds"}. rp_http_refused_text: the same for a request that never went out.
 */
extern char *rp_http_response_text(const RpNetDone *done);
extern char *rp_http_refused_text(const char *message);

/* The answer's body (empty when there is none). */
extern bytea *rp_http_body(const RpNetDone *done);

#endif
