/*
 * GUCs. Limits on untrusted documents are superuser-only (PGC_SUSET): an ordinary user must
 * not be able to lift the defences that protect everyone else sharing the server.
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "settings.h"

int			rp_max_file_size_kb = 50 * 1024;
int			rp_zip_max_entries = 1000;
int			rp_zip_max_total_size_kb = 256 * 1024;
int			rp_zip_max_ratio = 100;
int			rp_parser_memory_limit_mb = 1024;
int			rp_parser_cpu_time_limit_s = 30;
bool		rp_ocr = true;
int			rp_ocr_dpi = 300;
int			rp_ocr_max_pages = 10;
int			rp_ocr_max_megapixels = 40;
char	   *rp_storage_root = NULL;
char	   *rp_database = NULL;
int			rp_workers = 2;
int			rp_max_concurrent_tasks = 10;
int			rp_max_attempts = 5;
int			rp_retry_base_delay_ms = 1000;
int			rp_job_lease_s = 300;
int			rp_circuit_failure_threshold = 5;
int			rp_circuit_open_ms = 30000;
int			rp_max_user_storage_kb = 1024 * 1024;
int			rp_max_user_objects = 10000;
int			rp_max_user_queued_jobs = 5000;
int			rp_worker_lock_timeout_ms = 1000;
char	   *rp_openai_base_url = NULL;
char	   *rp_openai_api_key = NULL;
char	   *rp_openai_model = NULL;
int			rp_request_timeout_ms = 60000;
int			rp_storage_backend = RP_STORAGE_FILESYSTEM;
char	   *rp_s3_endpoint = NULL;
char	   *rp_s3_region = NULL;
char	   *rp_s3_access_key = NULL;
char	   *rp_s3_secret_key = NULL;
char	   *rp_s3_bucket = NULL;
int			rp_llm_provider = RP_LLM_BUILTIN;
int			rp_max_response_size_kb = 1024;
int			rp_openai_requests_per_minute = 0;
int			rp_openai_tokens_per_minute = 0;
char	   *rp_github_base_url = NULL;
char	   *rp_github_token = NULL;
char	   *rp_linkedin_provider_url = NULL;
char	   *rp_ashby_base_url = NULL;
int			rp_ashby_sync_interval_s = 3600;
int			rp_job_retention_done_s = 7 * 86400;
int			rp_job_retention_failed_s = 30 * 86400;
char	   *rp_linkedin_provider_key = NULL;
char	   *rp_embedding_model = NULL;
bool		rp_openai_batch = false;

static const struct config_enum_entry llm_providers[] = {
	{"builtin", RP_LLM_BUILTIN, false},
	{"openai", RP_LLM_OPENAI, false},
	{NULL, 0, false}
};

static const struct config_enum_entry storage_backends[] = {
	{"filesystem", RP_STORAGE_FILESYSTEM, false},
	{"s3", RP_STORAGE_S3, false},
	{NULL, 0, false}
};

void
rp_define_settings(void)
{
	DefineCustomIntVariable("resume_pipeline.max_file_size",
							"Largest document or archive accepted, and largest entry inside an archive.",
							NULL, &rp_max_file_size_kb, 50 * 1024, 1, 1024 * 1024,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.zip_max_entries",
							"Most entries a ZIP archive may have.",
							NULL, &rp_zip_max_entries, 1000, 1, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.zip_max_total_size",
							"Most bytes a ZIP archive may expand to, all entries together.",
							NULL, &rp_zip_max_total_size_kb, 256 * 1024, 1, 1024 * 1024,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.zip_max_ratio",
							"Highest compression ratio (uncompressed / compressed) allowed for ZIP entries over 1 MB.",
							NULL, &rp_zip_max_ratio, 100, 1, 100000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.parser_memory_limit",
							"Address-space limit of the process that parses documents.",
							NULL, &rp_parser_memory_limit_mb, 1024, 64, 1024 * 1024,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.parser_cpu_time_limit",
							"CPU time one document may take to parse; the wall-clock limit is three times this.",
							NULL, &rp_parser_cpu_time_limit_s, 30, 1, 3600,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	/* OCR of scans and images: limits on untrusted documents like the others (superuser). */
	DefineCustomBoolVariable("resume_pipeline.ocr",
							 "Reads images (PNG, JPEG, TIFF) and PDF pages without a text layer by OCR.",
							 NULL, &rp_ocr, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.ocr_dpi",
							"Resolution PDF pages without a text layer are rendered at for OCR.",
							NULL, &rp_ocr_dpi, 300, 72, 600, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.ocr_max_pages",
							"Most pages of one document read by OCR; a document with more fails.",
							NULL, &rp_ocr_max_pages, 10, 1, 1000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.ocr_max_megapixels",
							"Most pixels (width × height, in millions) of one image or rendered page read by OCR, checked before decoding.",
							NULL, &rp_ocr_max_megapixels, 40, 1, 1000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.storage_root",
							   "Directory of the filesystem storage backend (empty: resume_pipeline_storage in the data directory).",
							   NULL, &rp_storage_root, "", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.database",
							   "Database whose queue the background workers serve.",
							   NULL, &rp_database, "postgres", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.workers",
							"Number of background workers (needs shared_preload_libraries; 0 turns them off).",
							NULL, &rp_workers, 2, 0, 64, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_concurrent_tasks",
							"Jobs one worker runs at once (their documents are parsed in parallel processes).",
							NULL, &rp_max_concurrent_tasks, 10, 1, 64, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_attempts",
							"Attempts a job gets before a transient failure becomes final.",
							NULL, &rp_max_attempts, 5, 1, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.retry_base_delay",
							"Delay before the first retry; each further retry doubles it (with jitter, at most 10 min).",
							NULL, &rp_retry_base_delay_ms, 1000, 1, 600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.job_lease",
							"How long a claimed job belongs to its worker before another may take it.",
							NULL, &rp_job_lease_s, 300, 10, 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.circuit_failure_threshold",
							"Consecutive transient failures of a dependency that open its circuit.",
							NULL, &rp_circuit_failure_threshold, 5, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.circuit_open_ms",
							"How long an open circuit makes jobs wait before one trial call.",
							NULL, &rp_circuit_open_ms, 30000, 10, 3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_user_storage",
							"Most bytes one user may have stored (uploads and ZIP entries together).",
							NULL, &rp_max_user_storage_kb, 1024 * 1024, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_user_objects",
							"Most objects one user may have stored.",
							NULL, &rp_max_user_objects, 10000, 1, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_user_queued_jobs",
							"Most document jobs one user may have waiting in the queue.",
							NULL, &rp_max_user_queued_jobs, 5000, 1, INT_MAX, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.worker_lock_timeout",
							"Longest a worker waits for a row lock a user holds before retrying the job later.",
							NULL, &rp_worker_lock_timeout_ms, 1000, 1, 600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	/*
	 * The model's endpoint and key: from the configuration files only (PGC_SIGHUP: nobody can
	 * SET them), and the key hidden from SHOW and pg_settings for all but superusers (and
	 * pg_read_all_settings), so no user can point the extension at a host of their choosing or
	 * read the secret.
	 */
	DefineCustomStringVariable("resume_pipeline.openai_base_url",
							   "Base URL of the OpenAI-compatible API (…/v1).",
							   NULL, &rp_openai_base_url, "https://api.openai.com/v1", PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.openai_api_key",
							   "API key for resume_pipeline.openai_base_url.",
							   NULL, &rp_openai_api_key, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.openai_model",
							   "Model that reads résumés.",
							   NULL, &rp_openai_model, "gpt-4o-mini", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.request_timeout_ms",
							"Longest a call to the model may take.",
							NULL, &rp_request_timeout_ms, 60000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	/* S3 storage: configuration files only; the keys hidden like the model's. */
	DefineCustomEnumVariable("resume_pipeline.storage_backend",
							 "Where objects registered from Supabase's storage.objects are read: filesystem or s3.",
							 NULL, &rp_storage_backend, RP_STORAGE_FILESYSTEM, storage_backends, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.s3_endpoint",
							   "S3 endpoint without the bucket (Supabase: https://<project>.supabase.co/storage/v1/s3).",
							   NULL, &rp_s3_endpoint, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.s3_region", "S3 region the requests are signed for.",
							   NULL, &rp_s3_region, "us-east-1", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.s3_access_key", "S3 access key id.",
							   NULL, &rp_s3_access_key, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.s3_secret_key", "S3 secret access key.",
							   NULL, &rp_s3_secret_key, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.s3_bucket",
							   "Bucket of the objects the pipeline writes itself (upload(), ZIP entries).",
							   NULL, &rp_s3_bucket, "resume-pipeline", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("resume_pipeline.llm_provider",
							 "Who turns résumé text into JSON Resume in the pipeline: builtin (offline) or openai.",
							 NULL, &rp_llm_provider, RP_LLM_BUILTIN, llm_providers, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.max_response_size",
							"Largest answer body accepted from the model or another HTTP API.",
							NULL, &rp_max_response_size_kb, 1024, 16, 1024 * 1024, PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);
	/* The model provider's limits, shared by every worker (0: unlimited). */
	DefineCustomIntVariable("resume_pipeline.openai_requests_per_minute",
							"Most model requests per minute across all workers (0: unlimited).",
							NULL, &rp_openai_requests_per_minute, 0, 0, INT_MAX, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.openai_tokens_per_minute",
							"Most model tokens per minute across all workers (0: unlimited).",
							NULL, &rp_openai_tokens_per_minute, 0, 0, INT_MAX, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	/*
	 * The other services call jobs reach: endpoints and keys from the configuration files only,
	 * the keys hidden like the model's. The worker adds a key to a request that names it ("auth");
	 * SQL never sees one.
	 */
	DefineCustomStringVariable("resume_pipeline.github_base_url",
							   "Base URL of the GitHub REST API.",
							   NULL, &rp_github_base_url, "https://api.github.com", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.github_token",
							   "Token sent to resume_pipeline.github_base_url (empty: unauthenticated, 60 requests an hour).",
							   NULL, &rp_github_token, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.linkedin_provider_url",
							   "Base URL of the LinkedIn-profile provider (empty: no provider, LinkedIn profiles are not read).",
							   NULL, &rp_linkedin_provider_url, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.linkedin_provider_key",
							   "API key for resume_pipeline.linkedin_provider_url.",
							   NULL, &rp_linkedin_provider_key, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	DefineCustomStringVariable("resume_pipeline.embedding_model",
							   "Embedding model at resume_pipeline.openai_base_url (empty: embeddings off).",
							   NULL, &rp_embedding_model, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("resume_pipeline.openai_batch",
							 "Sends model requests that can wait through the OpenAI Batch API.",
							 NULL, &rp_openai_batch, false, PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* Ashby: each user's own key (users.ashby_api_key), added by the worker, never by SQL. */
	DefineCustomStringVariable("resume_pipeline.ashby_base_url",
							   "Base URL of the Ashby API.",
							   NULL, &rp_ashby_base_url, "https://api.ashbyhq.com", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.ashby_sync_interval",
							"How often the workers sync the users who enabled it in ashby_features.",
							NULL, &rp_ashby_sync_interval_s, 3600, 60, INT_MAX, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	/* Finished jobs are history: the workers remove them after these ages, in small batches. */
	DefineCustomIntVariable("resume_pipeline.job_retention_done",
							"How long jobs that finished are kept (0: for ever).",
							NULL, &rp_job_retention_done_s, 7 * 86400, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("resume_pipeline.job_retention_failed",
							"How long jobs that failed for good are kept (0: for ever).",
							NULL, &rp_job_retention_failed_s, 30 * 86400, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("resume_pipeline");
}
