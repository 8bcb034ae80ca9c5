/*
 * SQL functions that read documents: pdf_text, pdf_info, docx_text, document_text (and where
 * its last text came from, _last_text_source), zip_entries, and the superuser-only
 * debug_parser_crash. Each converts datums, asks the isolated parser (parser_client.c) and
 * converts the answer back; no parsing happens here.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/tuplestore.h"

#include "parser_client.h"

PG_FUNCTION_INFO_V1(rp_pdf_text);
PG_FUNCTION_INFO_V1(rp_pdf_info);
PG_FUNCTION_INFO_V1(rp_docx_text);
PG_FUNCTION_INFO_V1(rp_document_text);
PG_FUNCTION_INFO_V1(rp_zip_entries);
PG_FUNCTION_INFO_V1(rp_document_kind);
PG_FUNCTION_INFO_V1(rp_parse_resume_builtin);
PG_FUNCTION_INFO_V1(rp_debug_parser_crash);
PG_FUNCTION_INFO_V1(rp_last_text_source);

/* Whether this session's last document_text() read some of its text by OCR. */
static bool last_text_by_ocr = false;

/* The helper speaks UTF-8; the database may not. */
text *
rp_utf8_to_text(const char *s, size_t len)
{
	char	   *converted;

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		pg_verify_mbstr(PG_UTF8, s, len, false);
		return cstring_to_text_with_len(s, len);
	}
	converted = pg_any_to_server(s, len, PG_UTF8);
	if (converted == s)			/* no conversion was needed: s is not NUL-terminated */
		return cstring_to_text_with_len(s, len);
	return cstring_to_text(converted);
}

static text *
parse_to_text(FunctionCallInfo fcinfo, rp_op op, uint32 *flags)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	RpParsed	parsed;

	rp_parse(op, 0, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &parsed);
	if (flags)
		*flags = parsed.flags;
	return rp_utf8_to_text(parsed.payload, parsed.payload_len);
}

Datum
rp_pdf_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(parse_to_text(fcinfo, RP_OP_PDF_TEXT, NULL));
}

Datum
rp_docx_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(parse_to_text(fcinfo, RP_OP_DOCX_TEXT, NULL));
}

Datum
rp_document_text(PG_FUNCTION_ARGS)
{
	uint32		flags = 0;
	text	   *result;

	last_text_by_ocr = false;
	result = parse_to_text(fcinfo, RP_OP_DOCUMENT_TEXT, &flags);
	last_text_by_ocr = (flags & RP_RESPONSE_OCR) != 0;
	PG_RETURN_TEXT_P(result);
}

/*
 * _last_text_source(): 'ocr' or 'text' for the last document_text() of this session, so the
 * session path of the pipeline (_execute_job) records where a résumé's text came from as the
 * workers do from the parser's answer.
 */
Datum
rp_last_text_source(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(last_text_by_ocr ? "ocr" : "text"));
}

Datum
rp_document_kind(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	RpParsed	parsed;

	/* An empty value is "other", not an error: routing must never fail on content. */
	if (VARSIZE_ANY_EXHDR(data) == 0)
		PG_RETURN_TEXT_P(cstring_to_text("other"));
	rp_parse(RP_OP_DOCUMENT_KIND, 0, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &parsed);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(parsed.payload, parsed.payload_len));
}

Datum
rp_pdf_info(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	RpParsed	parsed;
	text	   *json;

	rp_parse(RP_OP_PDF_INFO, 0, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &parsed);
	json = rp_utf8_to_text(parsed.payload, parsed.payload_len);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json)));
}

/*
 * parse_resume_builtin(text) returns jsonb. The text goes to the parser process too: the
 * heuristics are plain code, but a pathological input should cost a helper's CPU limit, not a
 * backend.
 */
Datum
rp_parse_resume_builtin(PG_FUNCTION_ARGS)
{
	text	   *input = PG_GETARG_TEXT_PP(0);
	char	   *utf8 = pg_server_to_any(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input), PG_UTF8);
	size_t		len = utf8 == VARDATA_ANY(input) ? VARSIZE_ANY_EXHDR(input) : strlen(utf8);
	RpParsed	parsed;
	text	   *json;

	rp_parse(RP_OP_PARSE_RESUME, 0, utf8, len, &parsed);
	json = rp_utf8_to_text(parsed.payload, parsed.payload_len);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json)));
}

/* Reads n bytes at *pos of the payload, or fails on a short payload. */
static const char *
take(const RpParsed *p, uint64 *pos, uint64 n)
{
	const char *at = p->payload + *pos;

	if (n > p->payload_len - *pos)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("document parser sent a truncated list of ZIP entries")));
	*pos += n;
	return at;
}

Datum
rp_zip_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	RpParsed	parsed;
	uint64		pos = 0;

	InitMaterializedSRF(fcinfo, 0);
	rp_parse(RP_OP_ZIP_ENTRIES, 0, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &parsed);
	while (pos < parsed.payload_len)
	{
		uint32		name_len;
		uint64		size;
		const char *name;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		bytea	   *content;

		memcpy(&name_len, take(&parsed, &pos, sizeof(name_len)), sizeof(name_len));
		name = take(&parsed, &pos, name_len);
		memcpy(&size, take(&parsed, &pos, sizeof(size)), sizeof(size));
		if (size > MaxAllocSize - VARHDRSZ)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("ZIP entry is too large for a bytea value")));
		content = palloc(VARHDRSZ + size);
		SET_VARSIZE(content, VARHDRSZ + size);
		memcpy(VARDATA(content), take(&parsed, &pos, size), size);

		values[0] = PointerGetDatum(rp_utf8_to_text(name, name_len));
		values[1] = Int64GetDatum((int64) size);
		values[2] = PointerGetDatum(content);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(content);
	}
	return (Datum) 0;
}

/*
 * Test hook: makes the parser process misbehave on purpose so the test suite can prove that
 * only it dies. Superuser-only (EXECUTE is also revoked from PUBLIC in the install script).
 */
Datum
rp_debug_parser_crash(PG_FUNCTION_ARGS)
{
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(0));
	rp_debug_mode m;
	RpParsed	parsed;
	static const char one_byte[1] = {0};

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may crash the document parser on purpose")));
	if (strcmp(mode, "segv") == 0)
		m = RP_DEBUG_SEGV;
	else if (strcmp(mode, "abort") == 0)
		m = RP_DEBUG_ABORT;
	else if (strcmp(mode, "loop") == 0)
		m = RP_DEBUG_LOOP;
	else if (strcmp(mode, "memory") == 0)
		m = RP_DEBUG_MEMORY;
	else if (strcmp(mode, "hang") == 0)
		m = RP_DEBUG_HANG;
	else if (strcmp(mode, "syscall") == 0)
		m = RP_DEBUG_SYSCALL;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown parser crash mode \"%s\"", mode),
				 errhint("Use segv, abort, loop, memory, hang or syscall.")));
	rp_parse(RP_OP_DEBUG_MISBEHAVE, m, one_byte, sizeof(one_byte), &parsed);
	PG_RETURN_VOID();
}
