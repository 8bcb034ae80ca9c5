/* Circuit breakers and pauses per dependency (circuit.c), for C callers such as the worker's steps. */
#ifndef RP_CIRCUIT_H
#define RP_CIRCUIT_H

#include "shmem.h"

/* May a call to the dependency go out now? (Half-open: this caller makes the one trial.) */
extern bool rp_circuit_allows(RpDependency d);
/* A call's outcome: a success closes the circuit, a transient failure counts toward opening it. */
extern void rp_circuit_report(RpDependency d, bool ok);

/*
 * The same by name: "storage" and "model" are the circuits above, any other valid name
 * ("github", "linkedin", "step:<name>") has one of its own. A name nobody has reported on is
 * closed. rp_dependency_name_problem says why a name is not valid (NULL when it is): empty,
 * over 63 bytes, or with a control character.
 */
extern const char *rp_dependency_name_problem(const char *name);
extern bool rp_circuit_allows_name(const char *name);
extern void rp_circuit_report_name(const char *name, bool ok);

/*
 * A service's "nobody calls me before T" (GitHub's rate-limit reset), shared by every worker and
 * session: at most an hour. For "model" it is the model rate limiter's pause (rate_limit.h), the
 * one the résumé path honours too. rp_dependency_paused_ms: ms left, 0 when not paused.
 */
extern void rp_dependency_pause(const char *name, int64 ms);
extern int64 rp_dependency_paused_ms(const char *name);

#endif
