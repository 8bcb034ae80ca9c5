/* Sends a document to the backend's parser helper process and returns its answer. */
#ifndef RP_PARSER_CLIENT_H
#define RP_PARSER_CLIENT_H

#include "../protocol/parser_protocol.h"

typedef struct RpParsed
{
	char	   *payload;		/* palloc'd, NUL-terminated */
	uint64		payload_len;
} RpParsed;

/*
 * Runs `op` on data in the isolated helper. Any failure — bad document, exceeded limit,
 * helper crash, cancel — is raised as an ERROR with a fitting SQLSTATE.
 */
extern void rp_parse(rp_op op, uint32 arg, const char *data, size_t len, RpParsed *out);

#endif
