/*
 * score_fit(parsed jsonb, raw_text text, posting jsonb, as_of date) → jsonb: the built-in,
 * offline candidate scorer (llm_provider = builtin). It converts the datums to UTF-8 text, asks
 * the core (src/core/fit_score.cpp, through fit_bridge.cpp) and turns the answer back into jsonb.
 * No scoring happens here; the formula is documented in src/core/fit_score.h.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(rp_score_fit);

/* The most raw text the core reads (kMaxRawText in fit_score.cpp). */
#define RAW_TEXT_LIMIT (256 * 1024)

/*
 * fit_bridge.cpp (plain C++, no Postgres header). 0 with *out malloc'd (free it with
 * rp_fit_free); -1 with a one-line message in err for bad input; -2 when memory ran out.
 */
extern int	rp_fit_score(const char *resume_json, size_t resume_len, const char *raw_text, size_t raw_len,
						 const char *posting_json, size_t posting_len, int as_of_year, int as_of_month,
						 char **out, size_t *out_len, char *err, size_t err_size);
extern void rp_fit_free(char *p);

/* A jsonb argument as UTF-8 JSON text. */
static char *
jsonb_arg_utf8(FunctionCallInfo fcinfo, int n)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(n);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

Datum
rp_score_fit(PG_FUNCTION_ARGS)
{
	const char *resume = "null";
	const char *raw = "";
	const char *posting = NULL;
	DateADT		as_of;
	int			year,
				month,
				day;
	char	   *out = NULL;
	size_t		out_len = 0;
	char		err[512];
	int			rc;
	volatile Datum result = (Datum) 0;

	if (!PG_ARGISNULL(0))
		resume = jsonb_arg_utf8(fcinfo, 0);
	if (!PG_ARGISNULL(1))
	{
		/*
		 * The core reads at most RAW_TEXT_LIMIT bytes: only a little more is converted (whole
		 * characters), so that it still sees that the text was longer. NUL-terminated first: the
		 * conversion returns its input as is when nothing changes.
		 */
		text	   *t = PG_GETARG_TEXT_PP(1);
		int			len = pg_mbcliplen(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), RAW_TEXT_LIMIT + 8);
		char	   *server = pnstrdup(VARDATA_ANY(t), len);

		raw = pg_server_to_any(server, len, PG_UTF8);
	}
	if (!PG_ARGISNULL(2))
		posting = jsonb_arg_utf8(fcinfo, 2);
	as_of = PG_ARGISNULL(3) ? GetSQLCurrentDate() : PG_GETARG_DATEADT(3);
	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score_fit: as_of must be a finite date")));
	j2date(as_of + POSTGRES_EPOCH_JDATE, &year, &month, &day);

	rc = rp_fit_score(resume, strlen(resume), raw, strlen(raw), posting, posting ? strlen(posting) : 0,
					  year, month, &out, &out_len, err, sizeof(err));
	if (rc == -2)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("score_fit: out of memory")));
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score_fit: %s", err)));

	/* The answer is UTF-8 and malloc'd: converted and parsed, then freed whatever happens. */
	PG_TRY();
	{
		char	   *server = pg_any_to_server(out, (int) out_len, PG_UTF8);

		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(server));
	}
	PG_FINALLY();
	{
		rp_fit_free(out);
	}
	PG_END_TRY();
	PG_RETURN_DATUM(result);
}
