#ifndef RP_WORKER_H
#define RP_WORKER_H
extern void rp_launcher_register(void);
#endif
