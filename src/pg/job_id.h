/* Time-ordered job ids (see job_id.c). */
#ifndef RP_JOB_ID_H
#define RP_JOB_ID_H

#include "utils/uuid.h"

extern pg_uuid_t *rp_job_id(void);

#endif
