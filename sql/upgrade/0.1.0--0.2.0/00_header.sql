-- resume_pipeline 0.1.0 → 0.2.0. An area new in 0.2.0 comes in as its install source
-- (sql/install/NN_area.sql, listed in the Makefile's NEW_IN_0.2.0), with NN_area_data.sql here
-- for what only an update does; an area that changed has its part here, changing what its install
-- source changed since 0.1.0. All are joined in the order of their names, so that an updated
-- database has the same schema as a fresh install (test/integration/upgrade.sh compares them with
-- pg_dump). New columns go at the end of their table in both places; changed functions are
-- replaced here with the install source's text.

\echo Use "ALTER EXTENSION resume_pipeline UPDATE TO '0.2.0'" to load this file. \quit
