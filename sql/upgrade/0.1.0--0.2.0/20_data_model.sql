
-- New job kinds (Ashby, storage migration). A value added here cannot be used by this same
-- transaction: functions below that name one are PL/pgSQL (checked when they run).
ALTER TYPE job_kind ADD VALUE 'ats_sync';
ALTER TYPE job_kind ADD VALUE 'ats_file';
ALTER TYPE job_kind ADD VALUE 'ats_push';
ALTER TYPE job_kind ADD VALUE 'migrate';
