/*
 * The BEFORE INSERT OR UPDATE trigger on applicants. It runs on every write a hiring app
 * makes, so it is C rather than PL/pgSQL (bench/trigger_overhead.sh measures what it adds to
 * a single-row INSERT). It
 *   - marks a newly named CV 'pending' and keeps name/email/phone in step with cv_data,
 *   - queues the CV's job in the same transaction: one row in jobs, inserted with the
 *     executor's single-tuple path (ExecSimpleRelationInsert: constraints, indexes and row
 *     triggers of jobs, without planning a statement), and arms the commit-time wake-up,
 *   - announces each status change on the applicant's user's own channel (channel.c).
 * jobs is the extension's own table: users have no INSERT privilege on it, and this path
 * checks none (it is not a statement). That is safe because only the extension attaches this
 * function: EXECUTE on it is revoked from PUBLIC, and CREATE TRIGGER needs it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_enum.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "channel.h"
#include "job_id.h"
#include "settings.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(rp_applicant_write);

/* An enum type's labels by OID, cached per backend: the trigger compares and prints them. */
#define RP_MAX_LABELS 16
typedef struct EnumLabels
{
	Oid			typid;
	int			n;
	Oid			values[RP_MAX_LABELS];
	NameData	labels[RP_MAX_LABELS];
} EnumLabels;

static EnumLabels processing_labels;
static EnumLabels overall_labels;
static EnumLabels job_state_labels;
static EnumLabels job_kind_labels;

static void
enum_labels_load(EnumLabels *e, Oid typid)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));

	e->typid = InvalidOid;
	e->n = 0;
	for (int i = 0; i < list->n_members; i++)
	{
		Form_pg_enum row = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);

		if (e->n == RP_MAX_LABELS)
		{
			ReleaseSysCacheList(list);
			elog(ERROR, "enum type %u has more than %d labels", typid, RP_MAX_LABELS);
		}
		e->values[e->n] = row->oid;
		e->labels[e->n] = row->enumlabel;
		e->n++;
	}
	ReleaseSysCacheList(list);
	e->typid = typid;
}

/* The OID of a label; reloads once when the type is new or gained a value. */
static Oid
enum_value(EnumLabels *e, Oid typid, const char *label)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (attempt > 0 || e->typid != typid)
			enum_labels_load(e, typid);
		for (int i = 0; i < e->n; i++)
			if (strcmp(NameStr(e->labels[i]), label) == 0)
				return e->values[i];
	}
	elog(ERROR, "enum type %u has no label \"%s\"", typid, label);
	return InvalidOid;			/* not reached */
}

static const char *
enum_label(EnumLabels *e, Oid typid, Oid value)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (attempt > 0 || e->typid != typid)
			enum_labels_load(e, typid);
		for (int i = 0; i < e->n; i++)
			if (e->values[i] == value)
				return NameStr(e->labels[i]);
	}
	elog(ERROR, "enum type %u has no value %u", typid, value);
	return NULL;				/* not reached */
}

/* A column's number by name. */
static AttrNumber
column(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	elog(ERROR, "relation \"%s\" has no column \"%s\"", RelationGetRelationName(rel), name);
	return InvalidAttrNumber;	/* not reached */
}

/*
 * The columns the trigger reads or writes, found by name and kept per backend. The map is
 * checked against the relation on every use: after an ALTER TABLE (a column dropped and added
 * again gets a new number) it is rebuilt rather than trusted.
 */
#define RP_MAX_COLUMNS 24
typedef struct ColumnMap
{
	Oid			relid;
	int			n;
	const char *const *names;
	AttrNumber	att[RP_MAX_COLUMNS];
} ColumnMap;

enum
{
	A_ID, A_USER_ID, A_CV_FILE_ID, A_CV_STATUS, A_CV_DATA, A_LI_STATUS, A_GH_STATUS, A_AI_STATUS,
	A_NAME, A_EMAIL, A_PHONE, A_STATUS, A_UPDATED_AT, A_LI_URL, A_GH_USERNAME, A_JOB_POSTING_ID,
	A_AI_DATA, A_COUNT
};
static const char *const applicant_names[A_COUNT] = {
	"id", "user_id", "cv_file_id", "cv_status", "cv_data", "li_status", "gh_status", "ai_status",
	"name", "email", "phone", "status", "updated_at", "li_url", "gh_username", "job_posting_id",
	"ai_data"
};
static ColumnMap applicant_map = {InvalidOid, A_COUNT, applicant_names};

enum
{
	J_ID, J_USER_ID, J_KIND, J_TARGET_ID, J_PAYLOAD, J_STATE, J_ATTEMPTS, J_RUN_AFTER, J_CREATED_AT,
	J_FAIR_AT, J_COUNT
};
static const char *const job_names[J_COUNT] = {
	"id", "user_id", "kind", "target_id", "payload", "state", "attempts", "run_after", "created_at",
	"fair_at"
};
static ColumnMap job_map = {InvalidOid, J_COUNT, job_names};

StaticAssertDecl(A_COUNT <= RP_MAX_COLUMNS && J_COUNT <= RP_MAX_COLUMNS, "ColumnMap too small");

static const AttrNumber *
columns(ColumnMap *m, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		valid = m->relid == RelationGetRelid(rel);

	for (int i = 0; valid && i < m->n; i++)
	{
		AttrNumber	a = m->att[i];

		valid = a >= 1 && a <= desc->natts && !TupleDescAttr(desc, a - 1)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, a - 1)->attname), m->names[i]) == 0;
	}
	if (!valid)
	{
		m->relid = InvalidOid;
		for (int i = 0; i < m->n; i++)
			m->att[i] = column(rel, m->names[i]);
		m->relid = RelationGetRelid(rel);
	}
	return m->att;
}

/* A row's values, as the trigger reads and rewrites them. */
typedef struct Row
{
	Datum	   *values;
	bool	   *nulls;
} Row;

static Row
deform(HeapTuple tuple, TupleDesc desc)
{
	Row			r;

	r.values = palloc(desc->natts * sizeof(Datum));
	r.nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(tuple, desc, r.values, r.nulls);
	return r;
}

#define VAL(row, att) ((row).values[(att) - 1])
#define ISNULL(row, att) ((row).nulls[(att) - 1])

static bool
uuid_distinct(Row a, Row b, AttrNumber att)
{
	if (ISNULL(a, att) || ISNULL(b, att))
		return ISNULL(a, att) != ISNULL(b, att);
	return memcmp(DatumGetUUIDP(VAL(a, att)), DatumGetUUIDP(VAL(b, att)), UUID_LEN) != 0;
}

static bool
jsonb_distinct(Row a, Row b, AttrNumber att)
{
	if (ISNULL(a, att) || ISNULL(b, att))
		return ISNULL(a, att) != ISNULL(b, att);
	return !DatumGetBool(DirectFunctionCall2(jsonb_eq, VAL(a, att), VAL(b, att)));
}

/* cv_data #>> '{basics,<field>}' into the row's column, unless that is null (coalesce). */
static void
sync_from_cv(Row row, AttrNumber cv_data, const char *field, AttrNumber att)
{
	Datum		path[2] = {CStringGetTextDatum("basics"), CStringGetTextDatum(field)};
	bool		isnull;
	Datum		value = jsonb_get_element(DatumGetJsonbP(VAL(row, cv_data)), path, 2, &isnull, true);

	if (!isnull)
	{
		VAL(row, att) = value;
		ISNULL(row, att) = false;
	}
}

/*
 * Where the user's next job goes in the fair claim order (_fair_at in SQL): one second after
 * their last queued job, or now. One backward step on jobs_user_queued_idx; SnapshotSelf so
 * that the jobs this same statement queued for earlier rows count too.
 */
static TimestampTz
next_fair_at(Relation jobs, Relation irel, const AttrNumber *jc, Datum user_id, TimestampTz now)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	TimestampTz result = now;

	ScanKeyInit(&key, jc[J_USER_ID], BTEqualStrategyNumber, F_UUID_EQ, user_id);	/* a column of jobs */
	scan = systable_beginscan_ordered(jobs, irel, SnapshotSelf, 1, &key);
	tuple = systable_getnext_ordered(scan, BackwardScanDirection);
	if (tuple != NULL)
	{
		bool		isnull;
		Datum		last = heap_getattr(tuple, jc[J_FAIR_AT], RelationGetDescr(jobs), &isnull);

		if (!isnull && DatumGetTimestampTz(last) + USECS_PER_SEC > now)
			result = DatumGetTimestampTz(last) + USECS_PER_SEC;
	}
	systable_endscan_ordered(scan);
	return result;
}

/* How many jobs the user has queued, counting no further than limit. */
static int
count_queued(Relation jobs, Relation irel, const AttrNumber *jc, Datum user_id, int limit)
{
	ScanKeyData key;
	SysScanDesc scan;
	int			n = 0;

	ScanKeyInit(&key, jc[J_USER_ID], BTEqualStrategyNumber, F_UUID_EQ, user_id);
	scan = systable_beginscan_ordered(jobs, irel, SnapshotSelf, 1, &key);
	while (n < limit && systable_getnext_ordered(scan, ForwardScanDirection) != NULL)
		n++;
	systable_endscan_ordered(scan);
	return n;
}

/* jobs_user_queued_idx among the indexes ExecOpenIndices opened for the insert. */
static Relation
user_queued_index(ResultRelInfo *rri)
{
	for (int i = 0; i < rri->ri_NumIndices; i++)
		if (strcmp(RelationGetRelationName(rri->ri_IndexRelationDescs[i]), "jobs_user_queued_idx") == 0)
			return rri->ri_IndexRelationDescs[i];
	elog(ERROR, "resume_pipeline: index \"jobs_user_queued_idx\" is missing from the extension's schema");
	return NULL;				/* not reached */
}

/*
 * Queue one of the applicant's steps ('cv', 'gh', 'li', 'ai') and wake the workers at commit.
 * Every column is given, so no default expression is evaluated per row. No check for an open
 * job: the trigger queues only when a step becomes pending, the step re-reads the applicant
 * under lock, and a result is stored only while it is current (_store_parsed and the call
 * steps), so a second job for the same step either finds nothing pending or does the newer
 * work.
 */
static void
enqueue_job(Oid nsp, const char *kind, Datum applicant_id, Datum user_id)
{
	Oid			relid = get_relname_relid("jobs", nsp);
	Relation	jobs;
	const AttrNumber *jc;
	EState	   *estate;
	RangeTblEntry *rte;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	TupleDesc	desc;
	Datum		v[J_COUNT];
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	TimestampTz fair_at;
	Relation	queued_idx;

	if (!OidIsValid(relid))
		elog(ERROR, "resume_pipeline: table \"jobs\" is missing from the extension's schema");
	jobs = table_open(relid, RowExclusiveLock);
	jc = columns(&job_map, jobs);
	desc = RelationGetDescr(jobs);

	estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = jobs->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	ExecInitRangeTable(estate, list_make1(rte));
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, jobs, 1, NULL, 0);
	/* Listed, so that firing a row trigger of jobs finds it instead of opening jobs again. */
	estate->es_opened_result_relations = list_make1(rri);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(rri, false);

	queued_idx = user_queued_index(rri);
	fair_at = next_fair_at(jobs, queued_idx, jc, user_id, DatumGetTimestampTz(now));

	/*
	 * The user's backlog is bounded (resume_pipeline.max_user_queued_jobs). Counting costs an
	 * index scan, so it is done only once the user's fair position runs that many seconds
	 * ahead of the clock, which every flood of jobs does (each job moves it one second on).
	 */
	if (fair_at - DatumGetTimestampTz(now) > (int64) rp_max_user_queued_jobs * USECS_PER_SEC &&
		count_queued(jobs, queued_idx, jc, user_id, rp_max_user_queued_jobs) >= rp_max_user_queued_jobs)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("queue quota exceeded: the user already has %d queued jobs", rp_max_user_queued_jobs),
				 errhint("Wait for the queue to drain, or raise resume_pipeline.max_user_queued_jobs.")));

	slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	ExecClearTuple(slot);
	v[J_ID] = UUIDPGetDatum(rp_job_id());
	v[J_USER_ID] = user_id;
	v[J_KIND] = ObjectIdGetDatum(enum_value(&job_kind_labels,
											TupleDescAttr(desc, jc[J_KIND] - 1)->atttypid, kind));
	v[J_TARGET_ID] = applicant_id;
	v[J_PAYLOAD] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	v[J_STATE] = ObjectIdGetDatum(enum_value(&job_state_labels,
											 TupleDescAttr(desc, jc[J_STATE] - 1)->atttypid, "queued"));
	v[J_ATTEMPTS] = Int32GetDatum(0);
	v[J_RUN_AFTER] = now;
	v[J_CREATED_AT] = now;
	v[J_FAIR_AT] = TimestampTzGetDatum(fair_at);
	memset(slot->tts_isnull, true, desc->natts * sizeof(bool));
	for (int i = 0; i < J_COUNT; i++)
	{
		slot->tts_values[jc[i] - 1] = v[i];
		slot->tts_isnull[jc[i] - 1] = false;
	}
	ExecStoreVirtualTuple(slot);

	AfterTriggerBeginQuery();	/* row triggers a user may have put on jobs */
	ExecSimpleRelationInsert(rri, estate, slot);
	AfterTriggerEndQuery(estate);

	ExecCloseResultRelations(estate);	/* its indexes, and any relation a trigger opened */
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(jobs, NoLock);	/* the lock stays to the end of the transaction */

	rp_wake_at_commit();
}

static void
json_value(StringInfo buf, const char *text)
{
	if (text)
		escape_json(buf, text);
	else
		appendStringInfoString(buf, "null");
}

static void
json_uuid(StringInfo buf, Row row, AttrNumber att)
{
	json_value(buf, ISNULL(row, att) ? NULL : DatumGetCString(DirectFunctionCall1(uuid_out, VAL(row, att))));
}

/* The generated column's rule (_overall_status in SQL): a BEFORE trigger runs before the
 * column is computed. test/integration/realtime.sh checks that the announced status is the row's. */
static const char *
overall_status(Oid cv, Oid li, Oid ai, Oid processing_type)
{
	Oid			error = enum_value(&processing_labels, processing_type, "error");

	if (cv == error || li == error)
		return "failed";
	if (ai == enum_value(&processing_labels, processing_type, "ready"))
		return "completed";
	if (cv == enum_value(&processing_labels, processing_type, "processing"))
		return "processing";
	return "uploading";
}

/*
 * A GitHub login in a URL ("https://github.com/ada-l", "www.github.com/ada-l/repo"): letters,
 * digits and single hyphens, at most 39, not GitHub's own pages. NULL when there is none.
 */
static char *
github_login_in_url(const char *url, size_t len)
{
	static const char *const reserved[] = {
		"about", "apps", "collections", "enterprise", "features", "login", "marketplace", "orgs",
		"pricing", "settings", "site", "sponsors", "topics", "explore", "join", "search", "pulls",
		"issues", "notifications", "new", "organizations", "users"
	};
	const char *host = "github.com/";
	size_t		hl = strlen(host);

	for (size_t i = 0; i + hl <= len; i++)
	{
		size_t		n = 0;
		char		login[40];

		if (pg_strncasecmp(url + i, host, hl) != 0 || (i > 0 && url[i - 1] != '/' && url[i - 1] != '.'))
			continue;
		i += hl;
		while (i + n < len && n < 40 && (isalnum((unsigned char) url[i + n]) || url[i + n] == '-'))
			n++;
		if (n == 0 || n > 39 || url[i] == '-' || url[i + n - 1] == '-' ||
			(i + n < len && url[i + n] != '/' && url[i + n] != '?' && url[i + n] != '#'))
			return NULL;
		memcpy(login, url + i, n);
		login[n] = '\0';
		if (strstr(login, "--") != NULL)
			return NULL;
		for (int r = 0; r < lengthof(reserved); r++)
			if (pg_strcasecmp(login, reserved[r]) == 0)
				return NULL;
		return pstrdup(login);
	}
	return NULL;
}

/* A string member of a jsonb object, or NULL. */
static char *
object_string(JsonbContainer *object, const char *key, size_t *len)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(object, JB_FOBJECT, &k);
	if (v == NULL || v->type != jbvString)
		return NULL;
	*len = v->val.string.len;
	return v->val.string.val;
}

/*
 * The GitHub login a parsed CV names: a basics.profiles entry whose URL is on github.com, or
 * whose network is GitHub with a username, or basics.url. The CV is untrusted: only the first
 * 50 profiles are looked at, and only strings are read.
 */
static char *
github_login_from_cv(Jsonb *cv)
{
	Datum		profiles_path[2] = {CStringGetTextDatum("basics"), CStringGetTextDatum("profiles")};
	Datum		url_path[2] = {CStringGetTextDatum("basics"), CStringGetTextDatum("url")};
	bool		isnull;
	Datum		value;
	char	   *login = NULL;

	value = jsonb_get_element(cv, profiles_path, 2, &isnull, false);
	if (!isnull)
	{
		Jsonb	   *profiles = DatumGetJsonbP(value);

		if (JB_ROOT_IS_ARRAY(profiles) && !JB_ROOT_IS_SCALAR(profiles))
		{
			int			n = Min(JB_ROOT_COUNT(profiles), 50);

			for (int i = 0; i < n && login == NULL; i++)
			{
				JsonbValue *p = getIthJsonbValueFromContainer(&profiles->root, i);
				size_t		len;
				char	   *s;

				if (p == NULL || p->type != jbvBinary || !JsonContainerIsObject(p->val.binary.data))
					continue;
				if ((s = object_string(p->val.binary.data, "url", &len)) != NULL)
					login = github_login_in_url(s, len);
				if (login == NULL && (s = object_string(p->val.binary.data, "network", &len)) != NULL &&
					len == 6 && pg_strncasecmp(s, "github", 6) == 0 &&
					(s = object_string(p->val.binary.data, "username", &len)) != NULL)
				{
					char	   *url = psprintf("github.com/%.*s", (int) Min(len, 64), s);

					login = github_login_in_url(url, strlen(url));
				}
			}
		}
	}
	if (login == NULL)
	{
		value = jsonb_get_element(cv, url_path, 2, &isnull, true);
		if (!isnull)
		{
			char	   *url = TextDatumGetCString(value);

			login = github_login_in_url(url, strlen(url));
		}
	}
	return login;
}

/* The ai step may run: the CV is read and the gh and li steps are not under way. */
static bool
ai_eligible(Row row, const AttrNumber *c, Oid status_type)
{
	Oid			pending = enum_value(&processing_labels, status_type, "pending");
	Oid			processing = enum_value(&processing_labels, status_type, "processing");
	Oid			gh = DatumGetObjectId(VAL(row, c[A_GH_STATUS]));
	Oid			li = DatumGetObjectId(VAL(row, c[A_LI_STATUS]));

	return DatumGetObjectId(VAL(row, c[A_CV_STATUS])) == enum_value(&processing_labels, status_type, "ready") &&
		gh != pending && gh != processing && li != pending && li != processing;
}

static bool
text_distinct(Row a, Row b, AttrNumber att)
{
	if (ISNULL(a, att) || ISNULL(b, att))
		return ISNULL(a, att) != ISNULL(b, att);
	return !DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, VAL(a, att), VAL(b, att)));
}

/* A setting's value when it is defined and not empty (another module may not have loaded yet). */
static bool
setting_is_set(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return v != NULL && v[0] != '\0';
}

Datum
rp_applicant_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	const AttrNumber *c;
	bool		inserting;
	Row			old = {0},
				new;
	Oid			status_type,
				pending,
				not_provided;
	Oid			nsp;
	bool		queue_cv = false,
				queue_gh = false,
				queue_li = false,
				queue_ai = false;
	AttrNumber	statuses[4];
	const char *status_names[4] = {"cv_status", "li_status", "gh_status", "ai_status"};
	StringInfoData changed;
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		elog(ERROR, "rp_applicant_write must be a BEFORE INSERT OR UPDATE row trigger");

	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	c = columns(&applicant_map, rel);
	inserting = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	if (inserting)
		new = deform(td->tg_trigtuple, desc);
	else
	{
		old = deform(td->tg_trigtuple, desc);
		new = deform(td->tg_newtuple, desc);
	}
	status_type = TupleDescAttr(desc, c[A_CV_STATUS] - 1)->atttypid;
	pending = enum_value(&processing_labels, status_type, "pending");
	not_provided = enum_value(&processing_labels, status_type, "not_provided");
	nsp = RelationGetNamespace(rel);

	/* A newly named CV is waiting for its step. */
	if (!ISNULL(new, c[A_CV_FILE_ID]) &&
		DatumGetObjectId(VAL(new, c[A_CV_STATUS])) == not_provided &&
		(inserting || uuid_distinct(old, new, c[A_CV_FILE_ID])))
		VAL(new, c[A_CV_STATUS]) = ObjectIdGetDatum(pending);

	/*
	 * A CV read again, or another job posting, makes the verdict stale: the ai step runs again
	 * once the CV is ready (and a verdict still in flight is dropped: its step stores only while
	 * the applicant is processing).
	 */
	if (!inserting && DatumGetObjectId(VAL(new, c[A_AI_STATUS])) != not_provided &&
		VAL(old, c[A_AI_STATUS]) == VAL(new, c[A_AI_STATUS]) &&
		((DatumGetObjectId(VAL(new, c[A_CV_STATUS])) == pending && VAL(old, c[A_CV_STATUS]) != VAL(new, c[A_CV_STATUS])) ||
		 uuid_distinct(old, new, c[A_JOB_POSTING_ID])))
	{
		VAL(new, c[A_AI_STATUS]) = ObjectIdGetDatum(not_provided);
		VAL(new, c[A_AI_DATA]) = (Datum) 0;
		ISNULL(new, c[A_AI_DATA]) = true;
	}

	/* name, email and phone follow the parsed CV. */
	if (!ISNULL(new, c[A_CV_DATA]) && (inserting || jsonb_distinct(old, new, c[A_CV_DATA])))
	{
		sync_from_cv(new, c[A_CV_DATA], "name", c[A_NAME]);
		sync_from_cv(new, c[A_CV_DATA], "email", c[A_EMAIL]);
		sync_from_cv(new, c[A_CV_DATA], "phone", c[A_PHONE]);
		/* A GitHub profile in the CV names the gh step's user, unless one was given. */
		if (ISNULL(new, c[A_GH_USERNAME]))
		{
			char	   *login = github_login_from_cv(DatumGetJsonbP(VAL(new, c[A_CV_DATA])));

			if (login != NULL)
			{
				VAL(new, c[A_GH_USERNAME]) = CStringGetTextDatum(login);
				ISNULL(new, c[A_GH_USERNAME]) = false;
			}
		}
	}

	/*
	 * A GitHub user newly named: the gh step is due, unless resume_pipeline.github_base_url is
	 * empty (no GitHub, as on a machine without network). A job still reading the previous
	 * login drops its result (it stores only for the login it read).
	 */
	if (!ISNULL(new, c[A_GH_USERNAME]) && (inserting || text_distinct(old, new, c[A_GH_USERNAME])) &&
		setting_is_set("resume_pipeline.github_base_url"))
		VAL(new, c[A_GH_STATUS]) = ObjectIdGetDatum(pending);
	queue_gh = !ISNULL(new, c[A_GH_USERNAME]) && DatumGetObjectId(VAL(new, c[A_GH_STATUS])) == pending &&
		(inserting || VAL(old, c[A_GH_STATUS]) != VAL(new, c[A_GH_STATUS]) ||
		 text_distinct(old, new, c[A_GH_USERNAME]));

	/*
	 * A LinkedIn profile newly named: the li step is due when a provider is configured
	 * (resume_pipeline.linkedin_provider_url); without one li_status stays not_provided.
	 */
	if (!ISNULL(new, c[A_LI_URL]) && (inserting || text_distinct(old, new, c[A_LI_URL])) &&
		setting_is_set("resume_pipeline.linkedin_provider_url"))
		VAL(new, c[A_LI_STATUS]) = ObjectIdGetDatum(pending);
	queue_li = !ISNULL(new, c[A_LI_URL]) && DatumGetObjectId(VAL(new, c[A_LI_STATUS])) == pending &&
		(inserting || VAL(old, c[A_LI_STATUS]) != VAL(new, c[A_LI_STATUS]) || text_distinct(old, new, c[A_LI_URL]));

	/*
	 * The ai step is due once the CV is ready and the gh and li steps are over (ready, failed or
	 * not provided); a user may also set ai_status to pending to ask again.
	 */
	if (ai_eligible(new, c, status_type))
	{
		bool		became = inserting || !ai_eligible(old, c, status_type);

		if (DatumGetObjectId(VAL(new, c[A_AI_STATUS])) == not_provided &&
			(became || VAL(old, c[A_AI_STATUS]) != VAL(new, c[A_AI_STATUS])))
			VAL(new, c[A_AI_STATUS]) = ObjectIdGetDatum(pending);
		queue_ai = DatumGetObjectId(VAL(new, c[A_AI_STATUS])) == pending &&
			(became || VAL(old, c[A_AI_STATUS]) != VAL(new, c[A_AI_STATUS]));
	}
	if (!inserting)
		VAL(new, c[A_UPDATED_AT]) = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	/*
	 * Queue the CV step. Restoring a dump that holds a pending CV queues it once more next to
	 * its dumped job; that is harmless (a second job finds nothing pending), and no setting a
	 * user controls (such as application_name) may switch the queueing off. A row without id
	 * or user_id is about to be refused anyway.
	 */
	queue_cv = !ISNULL(new, c[A_CV_FILE_ID]) && DatumGetObjectId(VAL(new, c[A_CV_STATUS])) == pending &&
		(inserting || VAL(old, c[A_CV_STATUS]) != VAL(new, c[A_CV_STATUS]) || uuid_distinct(old, new, c[A_CV_FILE_ID]));
	if (!ISNULL(new, c[A_ID]) && !ISNULL(new, c[A_USER_ID]))
	{
		if (queue_cv)
			enqueue_job(nsp, "cv", VAL(new, c[A_ID]), VAL(new, c[A_USER_ID]));
		if (queue_gh)
			enqueue_job(nsp, "gh", VAL(new, c[A_ID]), VAL(new, c[A_USER_ID]));
		if (queue_li)
			enqueue_job(nsp, "li", VAL(new, c[A_ID]), VAL(new, c[A_USER_ID]));
		if (queue_ai)
			enqueue_job(nsp, "ai", VAL(new, c[A_ID]), VAL(new, c[A_USER_ID]));
	}

	/* Announce the status changes on the user's channel: {"table", "id", "old", "new", "changed"}. */
	statuses[0] = c[A_CV_STATUS];
	statuses[1] = c[A_LI_STATUS];
	statuses[2] = c[A_GH_STATUS];
	statuses[3] = c[A_AI_STATUS];
	initStringInfo(&changed);
	for (int i = 0; i < 4; i++)
	{
		AttrNumber	att = statuses[i];

		if (!inserting && VAL(old, att) == VAL(new, att))
			continue;
		appendStringInfo(&changed, "%s\"%s\":{\"old\":", changed.len ? "," : "{", status_names[i]);
		json_value(&changed, inserting ? NULL
				   : enum_label(&processing_labels, status_type, DatumGetObjectId(VAL(old, att))));
		appendStringInfoString(&changed, ",\"new\":");
		json_value(&changed, enum_label(&processing_labels, status_type, DatumGetObjectId(VAL(new, att))));
		appendStringInfoChar(&changed, '}');
	}
	if (changed.len > 0)
	{
		StringInfoData payload;
		const char *old_status = NULL;

		if (!inserting && !ISNULL(old, c[A_STATUS]))
			old_status = enum_label(&overall_labels, TupleDescAttr(desc, c[A_STATUS] - 1)->atttypid,
									DatumGetObjectId(VAL(old, c[A_STATUS])));
		appendStringInfoChar(&changed, '}');
		initStringInfo(&payload);
		appendStringInfoString(&payload, "{\"table\":\"applicants\",\"id\":");
		json_uuid(&payload, new, c[A_ID]);
		appendStringInfoString(&payload, ",\"old\":");
		json_value(&payload, old_status);
		appendStringInfoString(&payload, ",\"new\":");
		json_value(&payload, overall_status(DatumGetObjectId(VAL(new, c[A_CV_STATUS])),
											DatumGetObjectId(VAL(new, c[A_LI_STATUS])),
											DatumGetObjectId(VAL(new, c[A_AI_STATUS])), status_type));
		appendStringInfo(&payload, ",\"changed\":%s}", changed.data);
		if (!ISNULL(new, c[A_USER_ID]))
		{
			char		channel[NAMEDATALEN];

			rp_user_channel(RelationGetNamespace(rel), DatumGetUUIDP(VAL(new, c[A_USER_ID])), channel);
			Async_Notify(channel, payload.data);
		}
	}

	result = heap_form_tuple(desc, new.values, new.nulls);
	return PointerGetDatum(result);
}
