/* Who is asking (identity.c). */
#ifndef RP_IDENTITY_H
#define RP_IDENTITY_H

/* True in the pipeline's background workers. */
extern bool rp_am_worker;

#endif
