/*
 * The BEFORE INSERT OR UPDATE trigger on applicants. It runs on every write a hiring app
 * makes, so it is C rather than PL/pgSQL (bench/trigger_overhead.sh measures what it adds to
 * a single-row INSERT). It
 *   - marks a newly named CV 'pending' and keeps name/email/phone in step with cv_data,
 *   - queues the CV's job in the same transaction: one row in jobs, inserted with the
 *     executor's single-tuple path (ExecSimpleRelationInsert: constraints, indexes and row
 *     triggers of jobs, without planning a statement), and arms the commit-time wake-up,
 *   - announces each status change with NOTIFY resume_pipeline (see the README).
 * jobs is the extension's own table: users have no INSERT privilege on it, and this path
 * checks none (it is not a statement). That is safe because only the extension attaches this
 * function: EXECUTE on it is revoked from PUBLIC, and CREATE TRIGGER needs it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
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
#include "utils/uuid.h"

#include "job_id.h"
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

/* Column numbers, looked up by name once per relation (attnums never move in PostgreSQL). */
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

typedef struct ApplicantColumns
{
	Oid			relid;
	AttrNumber	id, user_id, cv_file_id, cv_status, cv_data, li_status, gh_status, ai_status,
				name, email, phone, status, updated_at;
} ApplicantColumns;

static const ApplicantColumns *
applicant_columns(Relation rel)
{
	static ApplicantColumns c;

	if (c.relid != RelationGetRelid(rel))
	{
		c.relid = InvalidOid;
		c.id = column(rel, "id");
		c.user_id = column(rel, "user_id");
		c.cv_file_id = column(rel, "cv_file_id");
		c.cv_status = column(rel, "cv_status");
		c.cv_data = column(rel, "cv_data");
		c.li_status = column(rel, "li_status");
		c.gh_status = column(rel, "gh_status");
		c.ai_status = column(rel, "ai_status");
		c.name = column(rel, "name");
		c.email = column(rel, "email");
		c.phone = column(rel, "phone");
		c.status = column(rel, "status");
		c.updated_at = column(rel, "updated_at");
		c.relid = RelationGetRelid(rel);
	}
	return &c;
}

typedef struct JobColumns
{
	Oid			relid;
	AttrNumber	id, user_id, kind, target_id, payload, state, attempts, run_after, created_at;
} JobColumns;

static const JobColumns *
job_columns(Relation rel)
{
	static JobColumns c;

	if (c.relid != RelationGetRelid(rel))
	{
		c.relid = InvalidOid;
		c.id = column(rel, "id");
		c.user_id = column(rel, "user_id");
		c.kind = column(rel, "kind");
		c.target_id = column(rel, "target_id");
		c.payload = column(rel, "payload");
		c.state = column(rel, "state");
		c.attempts = column(rel, "attempts");
		c.run_after = column(rel, "run_after");
		c.created_at = column(rel, "created_at");
		c.relid = RelationGetRelid(rel);
	}
	return &c;
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

static Datum
cv_kind(Relation jobs)
{
	Oid			kind_type = TupleDescAttr(RelationGetDescr(jobs), job_columns(jobs)->kind - 1)->atttypid;

	return ObjectIdGetDatum(enum_value(&job_kind_labels, kind_type, "cv"));
}

/*
 * Queue the applicant's CV job and wake the workers at commit. Every column is given, so no
 * default expression is evaluated per row. No check for an open job: the trigger queues only
 * when the CV becomes pending, and the step re-reads the applicant under lock, so a second
 * job for the same CV finds nothing pending and ends as a no-op.
 */
static void
enqueue_cv_job(Oid nsp, Datum applicant_id, Datum user_id)
{
	Oid			relid = get_relname_relid("jobs", nsp);
	Relation	jobs;
	const JobColumns *jc;
	EState	   *estate;
	RangeTblEntry *rte;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	TupleDesc	desc;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	if (!OidIsValid(relid))
		elog(ERROR, "resume_pipeline: table \"jobs\" is missing from the extension's schema");
	jobs = table_open(relid, RowExclusiveLock);
	jc = job_columns(jobs);
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
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(rri, false);

	slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, desc->natts * sizeof(bool));
	slot->tts_values[jc->id - 1] = UUIDPGetDatum(rp_job_id());
	slot->tts_values[jc->user_id - 1] = user_id;
	slot->tts_values[jc->kind - 1] = cv_kind(jobs);
	slot->tts_values[jc->target_id - 1] = applicant_id;
	slot->tts_values[jc->payload - 1] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	slot->tts_values[jc->state - 1] =
		ObjectIdGetDatum(enum_value(&job_state_labels, TupleDescAttr(desc, jc->state - 1)->atttypid, "queued"));
	slot->tts_values[jc->attempts - 1] = Int32GetDatum(0);
	slot->tts_values[jc->run_after - 1] = now;
	slot->tts_values[jc->created_at - 1] = now;
	slot->tts_isnull[jc->id - 1] = slot->tts_isnull[jc->user_id - 1] = slot->tts_isnull[jc->kind - 1] =
		slot->tts_isnull[jc->target_id - 1] = slot->tts_isnull[jc->payload - 1] =
		slot->tts_isnull[jc->state - 1] = slot->tts_isnull[jc->attempts - 1] =
		slot->tts_isnull[jc->run_after - 1] = slot->tts_isnull[jc->created_at - 1] = false;
	ExecStoreVirtualTuple(slot);

	AfterTriggerBeginQuery();	/* row triggers a user may have put on jobs */
	ExecSimpleRelationInsert(rri, estate, slot);
	AfterTriggerEndQuery(estate);

	ExecCloseIndices(rri);
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
 * column is computed. test/sql/applicants.sql checks that the announced status is the row's. */
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

Datum
rp_applicant_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	const ApplicantColumns *c;
	bool		inserting;
	Row			old = {0},
				new;
	Oid			status_type,
				pending;
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
	c = applicant_columns(rel);
	inserting = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	if (inserting)
		new = deform(td->tg_trigtuple, desc);
	else
	{
		old = deform(td->tg_trigtuple, desc);
		new = deform(td->tg_newtuple, desc);
	}
	status_type = TupleDescAttr(desc, c->cv_status - 1)->atttypid;
	pending = enum_value(&processing_labels, status_type, "pending");

	/* A newly named CV is waiting for its step. */
	if (!ISNULL(new, c->cv_file_id) &&
		DatumGetObjectId(VAL(new, c->cv_status)) == enum_value(&processing_labels, status_type, "not_provided") &&
		(inserting || uuid_distinct(old, new, c->cv_file_id)))
		VAL(new, c->cv_status) = ObjectIdGetDatum(pending);

	/* name, email and phone follow the parsed CV. */
	if (!ISNULL(new, c->cv_data) && (inserting || jsonb_distinct(old, new, c->cv_data)))
	{
		sync_from_cv(new, c->cv_data, "name", c->name);
		sync_from_cv(new, c->cv_data, "email", c->email);
		sync_from_cv(new, c->cv_data, "phone", c->phone);
	}
	if (!inserting)
		VAL(new, c->updated_at) = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	/*
	 * Queue the CV step. pg_restore reloads applicants next to their dumped jobs: queue
	 * nothing twice. (A plain dump replayed with psql may add a second job for a pending CV;
	 * steps are idempotent.) A row without id or user_id is about to be refused anyway.
	 */
	if (!ISNULL(new, c->cv_file_id) && DatumGetObjectId(VAL(new, c->cv_status)) == pending &&
		!ISNULL(new, c->id) && !ISNULL(new, c->user_id) &&
		(inserting || VAL(old, c->cv_status) != VAL(new, c->cv_status) || uuid_distinct(old, new, c->cv_file_id)) &&
		!(application_name && strcmp(application_name, "pg_restore") == 0))
		enqueue_cv_job(RelationGetNamespace(rel), VAL(new, c->id), VAL(new, c->user_id));

	/* Announce the status changes: {"table", "id", "user_id", "old", "new", "changed"}. */
	statuses[0] = c->cv_status;
	statuses[1] = c->li_status;
	statuses[2] = c->gh_status;
	statuses[3] = c->ai_status;
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

		if (!inserting && !ISNULL(old, c->status))
			old_status = enum_label(&overall_labels, TupleDescAttr(desc, c->status - 1)->atttypid,
									DatumGetObjectId(VAL(old, c->status)));
		appendStringInfoChar(&changed, '}');
		initStringInfo(&payload);
		appendStringInfoString(&payload, "{\"table\":\"applicants\",\"id\":");
		json_uuid(&payload, new, c->id);
		appendStringInfoString(&payload, ",\"user_id\":");
		json_uuid(&payload, new, c->user_id);
		appendStringInfoString(&payload, ",\"old\":");
		json_value(&payload, old_status);
		appendStringInfoString(&payload, ",\"new\":");
		json_value(&payload, overall_status(DatumGetObjectId(VAL(new, c->cv_status)),
											DatumGetObjectId(VAL(new, c->li_status)),
											DatumGetObjectId(VAL(new, c->ai_status)), status_type));
		appendStringInfo(&payload, ",\"changed\":%s}", changed.data);
		Async_Notify("resume_pipeline", payload.data);
	}

	result = heap_form_tuple(desc, new.values, new.nulls);
	return PointerGetDatum(result);
}
