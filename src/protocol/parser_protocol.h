/*
 * Wire format between a backend and its parser helper process
 * (resume_pipeline_parser). Plain C so both the C entry layer and the C++
 * helper include it. Both ends run on the same machine from the same build,
 * so fields are in native byte order; the magic numbers catch a stale binary.
 *
 * Request:  rp_request_header, then data_len bytes of document data.
 * Response: rp_response_header, then message_len bytes of message,
 *           detail_len bytes of detail, payload_len bytes of payload.
 *           The payload of a failure (status other than RP_STATUS_OK) is the
 *           error's hint, often empty.
 * Payload of RP_OP_ZIP_ENTRIES: for each entry
 *           uint32 name_len, name bytes, uint64 size, size bytes.
 *
 * The helper is a zygote: each request is read and answered by a fresh,
 * sandboxed process it forked in advance; the zygote answers itself when that
 * process dies first (crash, CPU limit, sandbox violation). A response is
 * whole or, if the helper itself died, missing.
 */
#ifndef RP_PARSER_PROTOCOL_H
#define RP_PARSER_PROTOCOL_H

#include <stdint.h>

#define RP_REQUEST_MAGIC 0x52505251u  /* "RPRQ" */
#define RP_RESPONSE_MAGIC 0x52505253u /* "RPRS" */

/* What the helper is asked to do. */
typedef enum rp_op
{
	RP_OP_PDF_TEXT = 1,
	RP_OP_PDF_INFO = 2,		/* payload: JSON object */
	RP_OP_DOCX_TEXT = 3,
	RP_OP_DOCUMENT_TEXT = 4,
	RP_OP_ZIP_ENTRIES = 5,
	RP_OP_DEBUG_MISBEHAVE = 6, /* arg: rp_debug_mode; superuser-only test hook */
	RP_OP_DOCUMENT_KIND = 7,	/* payload: "pdf", "docx", "zip", "text" or "other" */
	RP_OP_PARSE_RESUME = 8,		/* data: UTF-8 résumé text; payload: JSON Resume */
	RP_OP_EXTRACT_AND_PARSE = 9 /* data: a document; payload: its text, NUL, its JSON Resume */
} rp_op;

typedef enum rp_debug_mode
{
	RP_DEBUG_SEGV = 1,		/* dereference a null pointer */
	RP_DEBUG_ABORT = 2,		/* abort() */
	RP_DEBUG_LOOP = 3,		/* spin until the CPU limit kills it */
	RP_DEBUG_MEMORY = 4,	/* allocate until the memory limit stops it */
	RP_DEBUG_HANG = 5,		/* sleep until the wall-clock limit or a cancel */
	RP_DEBUG_SYSCALL = 6	/* try to read /etc/passwd, then to create a file: the sandbox kills it */
} rp_debug_mode;

/*
 * Outcome of a request. A document's child process sends the codes below
 * RP_STATUS_CRASHED; the zygote sends RP_STATUS_CRASHED and
 * RP_STATUS_CPU_LIMIT when that child died; the client derives the others
 * (and those two, if the zygote itself died) from how the helper ended.
 */
typedef enum rp_status
{
	RP_STATUS_OK = 0,
	RP_STATUS_EMPTY = 1,			/* zero-length input */
	RP_STATUS_CORRUPT = 2,			/* truncated, damaged, or not the claimed format */
	RP_STATUS_ENCRYPTED = 3,		/* needs a password */
	RP_STATUS_UNSUPPORTED = 4,		/* a format or feature we do not read */
	RP_STATUS_LIMIT = 5,			/* a configured limit was exceeded */
	RP_STATUS_UNSAFE_NAME = 6,		/* ZIP entry name that could escape a directory */
	RP_STATUS_BAD_ENCODING = 7,		/* text that is not valid UTF-8 */
	RP_STATUS_INTERNAL = 8,			/* bug or unexpected library failure */
	RP_STATUS_CRASHED = 100,		/* parser died from a signal (SIGSYS: sandbox violation) */
	RP_STATUS_CPU_LIMIT = 101,		/* parser killed by RLIMIT_CPU */
	RP_STATUS_TIME_LIMIT = 102,		/* helper killed after the wall-clock limit */
	RP_STATUS_PROTOCOL = 103		/* helper sent something unreadable */
} rp_status;

typedef struct rp_request_header
{
	uint32_t	magic;
	uint32_t	op;
	uint32_t	arg;
	uint32_t	cpu_limit_s;		/* RLIMIT_CPU for this request, seconds */
	uint64_t	memory_limit;		/* RLIMIT_AS, bytes */
	uint64_t	max_file_size;		/* largest document, bytes */
	uint64_t	zip_max_entries;
	uint64_t	zip_max_total_size; /* sum of uncompressed entry sizes, bytes */
	uint64_t	zip_max_ratio;		/* uncompressed / compressed */
	uint64_t	data_len;
	uint32_t	ocr;				/* 1: read images and pages without a text layer by OCR */
	uint32_t	ocr_dpi;			/* resolution PDF pages are rendered at for OCR */
	uint64_t	ocr_max_pages;		/* most pages one document may have read by OCR */
	uint64_t	ocr_max_pixels;		/* most pixels (width × height) of one page or image */
} rp_request_header;

/* rp_response_header.flags */
#define RP_RESPONSE_OCR 0x1u	/* some of the text was read by OCR (an image, a scanned page) */

typedef struct rp_response_header
{
	uint32_t	magic;
	uint32_t	status;				/* rp_status */
	uint32_t	message_len;
	uint32_t	detail_len;
	uint64_t	payload_len;
	uint32_t	flags;				/* RP_RESPONSE_*, of a success */
	uint32_t	reserved;			/* zero */
} rp_response_header;

/* Upper bound either side accepts for one message body (1 GiB). */
#define RP_MAX_MESSAGE_BYTES ((uint64_t) 1 << 30)

#endif							/* RP_PARSER_PROTOCOL_H */
