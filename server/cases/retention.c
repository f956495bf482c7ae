/*
 * Retention: `passerelle retention run [--dry-run]`. The SOP file says how
 * many days a case stays in its closed stage before its identity must go
 * (retention_days_after_close; 0 keeps every case). Each case past it is
 * crypto-shredded exactly as an erasure through the API (cases_shred), in a
 * transaction of its own with its audit record, so that a failure half-way
 * loses nothing already done and a second run finds nothing left to do. The
 * clear categories stay: statistics still count these victims.
 *
 * The date a case was closed is its stage_since while it stays in the closed
 * stage (a reopened case leaves that stage, and its clock with it). What is
 * printed names cases only by id and closing date: nothing identifying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../sop/sop.h"
#include "internal.h"

/* $1 closed stage, $2 days: the cases whose identity must go now. */
#define DUE \
	"FROM cases c WHERE c.stage = $1 AND c.erased_at IS NULL AND " \
	"c.stage_since < now() - make_interval(days => $2::int) "

static const struct db_stmt stmts[] = {
	{ "retention_due",
	    "SELECT c.id, to_char(c.stage_since AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD') " DUE "ORDER BY c.stage_since, c.id" },
	/* The same test again, under the row lock: reopened or erased since
	 * the list was read means left alone. */
	{ "retention_lock",
	    "SELECT c.lead_organisation_id " DUE "AND c.id = $3 "
	    "FOR UPDATE OF c" },
	{ "retention_cutoff",
	    "SELECT to_char((now() - make_interval(days => $1::int)) "
	    "AT TIME ZONE 'UTC', 'YYYY-MM-DD')" },
};

void
cases_retention_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/*
 * Shreds one case in its own transaction. PA_OK with *done 0 when the case
 * no longer qualifies (reopened, or erased by someone else meanwhile).
 */
static enum pa_err
shred_one(struct db *db, const char *closed, const char *days,
    const char *id, const char *closed_on, long ndays, int *done)
{
	struct db_arg a[3] = { DB_TEXT(closed), DB_TEXT(days), DB_TEXT(id) };
	struct db_res *res = NULL;
	json_t *detail = NULL;
	int64_t version;
	enum pa_err rc;

	*done = 0;
	if ((rc = db_tx_begin(db)) != PA_OK)
		return rc;
	if ((rc = db_exec(db, "retention_lock", a, 3, &res)) != PA_OK)
		goto end;
	if (db_res_rows(res) != 1)
		goto end;	/* nothing to do: rolled back below */
	detail = json_pack("{s:s, s:s, s:I}", "reason", "retention",
	    "closed_on", closed_on, "retention_days", (json_int_t)ndays);
	if (detail == NULL) {
		rc = PA_INTERNAL;
		goto end;
	}
	rc = cases_shred(db, NULL, id, db_res_get(res, 0, 0),
	    "case.retention_erase", detail, &version);
	if (rc == PA_OK)
		*done = 1;
	else if (rc == PA_CONFLICT)
		rc = PA_OK;	/* erased meanwhile: nothing of ours to keep */
end:
	if (!*done)
		(void)db_tx_end(db, PA_CONFLICT);	/* ROLLBACK */
	else
		rc = db_tx_end(db, rc);
	if (rc != PA_OK)
		*done = 0;
	json_decref(detail);
	db_res_free(res);
	return rc;
}

enum pa_err
cases_retention_run(struct db *db, const struct sop *s, int dry_run,
    FILE *out, struct cases_retention *r)
{
	struct db_res *due = NULL, *cut = NULL;
	char days[24];
	enum pa_err rc;
	int i, n, done;

	memset(r, 0, sizeof(*r));
	r->days = s->retention_days;
	if (s->retention_days <= 0) {
		fprintf(out, "retention: the SOP keeps closed cases "
		    "(retention_days_after_close is 0): nothing to do\n");
		return PA_OK;
	}
	snprintf(days, sizeof(days), "%ld", s->retention_days);
	if ((rc = db_exec(db, "retention_cutoff", &DB_TEXT(days), 1, &cut)) !=
	    PA_OK)
		return rc;
	{
		struct db_arg a[2] = { DB_TEXT(s->closed_stage), DB_TEXT(days) };

		if ((rc = db_exec(db, "retention_due", a, 2, &due)) != PA_OK)
			goto out;
	}
	n = db_res_rows(due);
	r->due = n;
	for (i = 0; i < n; i++) {
		const char *id = db_res_get(due, i, 0);
		const char *closed_on = db_res_get(due, i, 1);

		if (dry_run) {
			fprintf(out, "would erase case %s closed %s\n", id,
			    closed_on);
			continue;
		}
		if ((rc = shred_one(db, s->closed_stage, days, id, closed_on,
		    s->retention_days, &done)) != PA_OK) {
			fprintf(out, "retention: stopped at case %s: %s\n", id,
			    pa_err_code(rc));
			goto out;
		}
		if (done) {
			r->erased++;
			fprintf(out, "erased case %s closed %s\n", id,
			    closed_on);
		} else
			r->skipped++;
		fflush(out);
	}
	fprintf(out, "retention: %ld case(s) closed before %s %s (kept %ld "
	    "days after closing)%s\n", dry_run ? r->due : r->erased,
	    db_res_get(cut, 0, 0), dry_run ? "would be erased" : "erased",
	    s->retention_days, dry_run ? "; dry run: nothing changed" : "");
	if (r->skipped > 0)
		fprintf(out, "retention: %ld case(s) left alone: reopened or "
		    "erased while this ran\n", r->skipped);
out:
	db_res_free(due);
	db_res_free(cut);
	return rc;
}
