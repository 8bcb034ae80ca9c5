/* Circuit breakers per dependency (circuit.c), for C callers such as the worker's steps. */
#ifndef RP_CIRCUIT_H
#define RP_CIRCUIT_H

#include "shmem.h"

/* May a call to the dependency go out now? (Half-open: this caller makes the one trial.) */
extern bool rp_circuit_allows(RpDependency d);
/* A call's outcome: a success closes the circuit, a transient failure counts toward opening it. */
extern void rp_circuit_report(RpDependency d, bool ok);

#endif
