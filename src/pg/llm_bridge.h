/*
 * C entry into the model client (src/core/llm_*.cpp over src/net/http_post.cpp): one résumé
 * text to the OpenAI-compatible API and back, validated against the schema. Catches every C++
 * exception; strings come back in fixed buffers or malloc'd (json), so nothing C++ unwinds
 * through a Postgres frame.
 */
#ifndef RP_LLM_BRIDGE_H
#define RP_LLM_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

typedef struct RpLlmCall
{
	/* in */
	const char *text;			/* UTF-8 */
	size_t		text_len;
	const char *schema_path;
	const char *url;			/* …/chat/completions */
	const char *api_key;
	const char *model;
	long		timeout_ms;
	bool		(*should_abort) (void *);
	/* out */
	char		outcome[32];	/* rp::llm outcome name, or "transport", "timeout", "aborted", "setup" */
	char		message[1024];	/* never holds the key */
	char	   *json;			/* malloc'd validated JSON when outcome is "ok"; caller frees */
	char		model_answered[128];	/* the model as the API named it */
	char		schema_version[64];
	long		http_status;
	long long	retry_after_ms;
	long long	prompt_tokens;
	long long	completion_tokens;
} RpLlmCall;

extern void rp_llm_parse_resume_call(RpLlmCall *call);

/* The schema file's version ("resume-v1"), or an empty string with the reason in message. */
extern void rp_llm_schema_version(const char *schema_path, char *version, size_t version_size, char *message,
								  size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
