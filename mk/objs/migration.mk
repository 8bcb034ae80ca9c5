# Storage migration: copying objects between places with SHA-256 verification (src/pg/migration.c;
# the SQL half is sql/install/35_migration.sql). Read before PGXS: variables only, no rules.
OBJS             += src/pg/migration.o
