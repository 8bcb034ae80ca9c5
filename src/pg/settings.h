/* resume_pipeline.* settings (GUCs) read by the C entry layer. */
#ifndef RP_SETTINGS_H
#define RP_SETTINGS_H

extern int	rp_max_file_size_kb;
extern int	rp_zip_max_entries;
extern int	rp_zip_max_total_size_kb;
extern int	rp_zip_max_ratio;
extern int	rp_parser_memory_limit_mb;
extern int	rp_parser_cpu_time_limit_s;
extern bool rp_ocr;
extern int	rp_ocr_dpi;
extern int	rp_ocr_max_pages;
extern int	rp_ocr_max_megapixels;
extern char *rp_storage_root;
extern char *rp_database;
extern int	rp_workers;
extern int	rp_max_concurrent_tasks;
extern int	rp_max_attempts;
extern int	rp_retry_base_delay_ms;
extern int	rp_job_lease_s;
extern int	rp_circuit_failure_threshold;
extern int	rp_circuit_open_ms;
extern int	rp_max_user_storage_kb;
extern int	rp_max_user_objects;
extern int	rp_max_user_queued_jobs;
extern int	rp_worker_lock_timeout_ms;
extern char *rp_openai_base_url;
extern char *rp_openai_api_key;
extern char *rp_openai_model;
extern int	rp_request_timeout_ms;

typedef enum RpStorageBackend
{
	RP_STORAGE_FILESYSTEM,
	RP_STORAGE_S3
} RpStorageBackend;
extern int	rp_storage_backend;
extern char *rp_s3_endpoint;
extern char *rp_s3_region;
extern char *rp_s3_access_key;
extern char *rp_s3_secret_key;

extern char *rp_s3_bucket;

typedef enum RpLlmProvider
{
	RP_LLM_BUILTIN,
	RP_LLM_OPENAI
} RpLlmProvider;
extern int	rp_llm_provider;
extern int	rp_max_response_size_kb;
extern int	rp_openai_requests_per_minute;
extern int	rp_openai_tokens_per_minute;

/* The services call jobs reach (sql/install/52_calls.sql; http_call.c adds their keys). */
extern char *rp_github_base_url;
extern char *rp_github_token;
extern char *rp_linkedin_provider_url;
extern char *rp_ashby_base_url;
extern int	rp_ashby_sync_interval_s;
extern int	rp_job_retention_done_s;
extern int	rp_job_retention_failed_s;
extern char *rp_linkedin_provider_key;
extern char *rp_embedding_model;
extern bool rp_openai_batch;

extern void rp_define_settings(void);

#endif
