/* Per-user notification channels (channel.c). */
#ifndef RP_CHANNEL_H
#define RP_CHANNEL_H

#include "utils/uuid.h"

/* "resume_pipeline_" and 32 hex digits; fits a NAMEDATALEN buffer. */
extern void rp_user_channel(Oid nsp, const pg_uuid_t *user_id, char *out);

#endif
