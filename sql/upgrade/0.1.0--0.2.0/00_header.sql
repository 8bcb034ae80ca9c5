-- resume_pipeline 0.1.0 → 0.2.0. Each part changes what the install source of the same area
-- (sql/install/NN_area.sql) changed since 0.1.0, so that an updated database has the same
-- schema as a fresh install (test/integration/upgrade.sh compares them with pg_dump). New
-- columns go at the end of their table in both places; changed functions are replaced here
-- with the install source's text.

\echo Use "ALTER EXTENSION resume_pipeline UPDATE TO '0.2.0'" to load this file. \quit
