// Included first by every core header: the core is plain C++ and must never see a Postgres header
// (port.h rewrites printf-family names, elog longjmps over destructors). The build also compiles
// src/core without the server include path, so this is the second of two locks.
#pragma once
#if defined(POSTGRES_H) || defined(PG_MODULE_MAGIC)
#error "src/core must not include Postgres headers"
#endif
