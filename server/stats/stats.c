/*
 * Aggregates, small-cell suppression and complementary suppression.
 *
 * One prepared statement groups the period's cases by up to three
 * whitelisted dimensions (stat_dim() in migrations/0004_stats.sql), with
 * GROUPING SETS for the cells, each dimension's margin and the overall
 * total, counting distinct cases so that multi-valued dimensions (a victim
 * with two forms of exploitation) count a case once per value and once in
 * every total.
 *
 * Suppression (stats_suppress): every published count from 1 to k-1 is
 * hidden; then, for every equation the table publishes (a margin equals the
 * sum of its cells; the total equals the sum of a dimension's margins, or of
 * the cells in one dimension), no equation may have exactly one hidden
 * member, or subtraction would give it back: a second member is hidden, the
 * smallest non-zero cell first, until nothing changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../audit/audit.h"
#include "../db/db.h"
#include "../util/jv.h"
#include "stats.h"

static const char *const dims[] = { "sex", "age_band", "nationality",
	"region", "stage", "justice_status", "identifying_kind", "child",
	"year", "month", "exploitation_type", "referral_service" };
static const char *const multi[] = { "exploitation_type",
	"referral_service" };

static const struct db_stmt stmts[] = {
	{ "stats_cube",
	    "SELECT GROUPING(d1.v, d2.v, d3.v), d1.v, d2.v, d3.v, "
	    "count(DISTINCT c.id) FROM cases c "
	    "CROSS JOIN LATERAL unnest(stat_dim(c, $3)) AS d1(v) "
	    "CROSS JOIN LATERAL unnest(stat_dim(c, $4)) AS d2(v) "
	    "CROSS JOIN LATERAL unnest(stat_dim(c, $5)) AS d3(v) "
	    "WHERE coalesce(c.identified_on, (c.opened_at AT TIME ZONE 'UTC')"
	    "::date) BETWEEN $1::date AND $2::date "
	    "AND ($6::uuid IS NULL OR c.lead_organisation_id = $6) "
	    "GROUP BY GROUPING SETS ((d1.v, d2.v, d3.v), (d1.v), (d2.v), "
	    "(d3.v), ()) ORDER BY 1, 2, 3, 4" },
};

void stats_indicators_init(void);	/* indicators.c */
void stats_htcds_init(void);		/* htcds.c */

void
stats_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
	stats_indicators_init();
	stats_htcds_init();
}

static int
in(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

int
stats_dim_valid(const char *dim)
{
	return in(dims, sizeof(dims) / sizeof(dims[0]), dim);
}

int
stats_dim_multi(const char *dim)
{
	return in(multi, sizeof(multi) / sizeof(multi[0]), dim);
}

static size_t
dim_rank(const char *dim)
{
	size_t i;

	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
		if (strcmp(dims[i], dim) == 0)
			return i;
	return i;
}

static int
days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return d[m - 1];
}

enum pa_err
stats_query_parse(struct stats_query *q, const char *from, const char *to,
    const char *by, const char **field)
{
	char buf[128], *tok, *save = NULL;
	int y, m;
	size_t i;

	*field = NULL;
	q->ndims = 0;
	q->widened = 0;
	if (from == NULL || !jv_date_valid(from)) {
		*field = "from";
		return PA_INVALID;
	}
	if (to == NULL || !jv_date_valid(to) || strcmp(from, to) > 0) {
		*field = "to";
		return PA_INVALID;
	}
	/* Whole calendar months only: widen, and say so. */
	snprintf(q->from, sizeof(q->from), "%.7s-01", from);
	sscanf(to, "%4d-%2d", &y, &m);
	snprintf(q->to, sizeof(q->to), "%.7s-%02d", to, days_in(y, m));
	q->widened = strcmp(q->from, from) != 0 || strcmp(q->to, to) != 0;
	if (by == NULL || *by == '\0')
		return PA_OK;
	if (strlen(by) >= sizeof(buf)) {
		*field = "by";
		return PA_INVALID;
	}
	snprintf(buf, sizeof(buf), "%s", by);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t k;

		if (q->ndims == STATS_MAX_DIMS || !stats_dim_valid(tok)) {
			*field = "by";
			return PA_INVALID;
		}
		for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++)
			if (strcmp(dims[k], tok) == 0)
				break;
		for (i = 0; i < q->ndims; i++)
			if (strcmp(q->dims[i], dims[k]) == 0) {
				*field = "by";
				return PA_INVALID;
			}
		q->dims[q->ndims++] = dims[k];	/* a static string */
	}
	/* Canonical order: "a,b" and "b,a" are one table, suppressed alike. */
	if (q->ndims == 2 && dim_rank(q->dims[0]) > dim_rank(q->dims[1])) {
		const char *t = q->dims[0];

		q->dims[0] = q->dims[1];
		q->dims[1] = t;
	}
	return PA_OK;
}

/* ------------------------------------------------------------ suppression */

static int
is_full(const struct stats_cell *c, size_t ndims)
{
	size_t i;

	for (i = 0; i < ndims; i++)
		if (c->vals[i] == NULL)
			return 0;
	return 1;
}

/* Margin over every dimension but j (vals[j] set, others NULL). */
static int
is_margin_of(const struct stats_cell *c, size_t ndims, size_t j)
{
	size_t i;

	for (i = 0; i < ndims; i++)
		if ((i == j) != (c->vals[i] != NULL))
			return 0;
	return 1;
}

static int
is_total(const struct stats_cell *c, size_t ndims)
{
	size_t i;

	for (i = 0; i < ndims; i++)
		if (c->vals[i] != NULL)
			return 0;
	return 1;
}

/*
 * One equation: parent = sum(members). When the parent is published, the
 * hidden members' sum H is known to anyone: with one hidden member it is
 * that member; with h hidden members, each at least 1 (a listed cell is
 * not zero), any sum below k narrows them too far (H == h gives every one
 * away). So while fewer than two members are hidden or their sum is below
 * k, the smallest non-zero visible member is hidden too. When the parent
 * is hidden, at least one member must be, or the parent is their sum.
 * Locked cells are never chosen. Returns 1 when it hid something.
 */
static int
balance(struct stats_cell *parent, struct stats_cell **mem, size_t n, int k)
{
	struct stats_cell *best = NULL;
	size_t i, hidden = 0;
	long hsum = 0;

	for (i = 0; i < n; i++)
		if (mem[i]->suppressed) {
			hidden++;
			hsum += mem[i]->count;
		}
	if (parent->suppressed ? hidden > 0 || parent->count == 0 :
	    hidden == 0 || (hidden >= 2 && hsum >= k))
		return 0;
	for (i = 0; i < n; i++)
		if (!mem[i]->suppressed && !mem[i]->locked &&
		    mem[i]->count > 0 &&
		    (best == NULL || mem[i]->count < best->count))
			best = mem[i];
	if (best == NULL && !parent->suppressed && !parent->locked &&
	    parent->count > 0)
		best = parent;
	if (best == NULL)
		return 0;
	best->suppressed = 1;
	return 1;
}

void
stats_suppress(struct stats_cell *cells, size_t n, size_t ndims, int k)
{
	struct stats_cell **mem;
	size_t i, j, p, nm;
	int changed;

	for (i = 0; i < n; i++)
		if (!cells[i].locked && cells[i].count >= 1 &&
		    cells[i].count < k)
			cells[i].suppressed = 1;
	if ((mem = calloc(n ? n : 1, sizeof(*mem))) == NULL) {
		/* Cannot check the arithmetic: publish nothing. */
		for (i = 0; i < n; i++)
			cells[i].suppressed = cells[i].count > 0;
		return;
	}
	do {
		changed = 0;
		for (p = 0; p < n; p++) {
			struct stats_cell *par = &cells[p];

			if (is_total(par, ndims)) {
				/* total = sum of one dimension's margins */
				for (j = 0; j < ndims; j++) {
					nm = 0;
					for (i = 0; i < n; i++)
						if (ndims > 1 ?
						    is_margin_of(&cells[i], ndims,
							j) :
						    is_full(&cells[i], ndims))
							mem[nm++] = &cells[i];
					changed |= balance(par, mem, nm, k);
				}
				continue;
			}
			if (ndims < 2)
				continue;
			for (j = 0; j < ndims; j++) {
				if (!is_margin_of(par, ndims, j))
					continue;
				/* margin(d_j = v) = sum of its cells */
				nm = 0;
				for (i = 0; i < n; i++)
					if (is_full(&cells[i], ndims) &&
					    strcmp(cells[i].vals[j],
						par->vals[j]) == 0)
						mem[nm++] = &cells[i];
				changed |= balance(par, mem, nm, k);
			}
		}
	} while (changed);
	free(mem);
}

/*
 * The margins of dimension j and the total, suppressed exactly as the
 * one-dimension answer "by=<dim j>" suppresses them, then locked: every
 * answer publishes the same figure for the same population, so that two
 * answers cannot be subtracted from each other.
 */
static int
lock_as_one_dimension(struct stats_cell *cells, size_t n, size_t ndims,
    size_t j, int k)
{
	struct stats_cell *one;
	size_t i, m = 0;

	if ((one = calloc(n + 1, sizeof(*one))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (is_margin_of(&cells[i], ndims, j) ||
		    is_total(&cells[i], ndims)) {
			one[m].vals[0] = cells[i].vals[j];
			one[m].count = cells[i].count;
			m++;
		}
	stats_suppress(one, m, 1, k);
	for (i = 0, m = 0; i < n; i++)
		if (is_margin_of(&cells[i], ndims, j) ||
		    is_total(&cells[i], ndims)) {
			cells[i].suppressed = one[m].suppressed;
			cells[i].locked = 1;
			m++;
		}
	free(one);
	return 0;
}

/* -------------------------------------------------------------- the query */

static json_t *
count_json(const struct stats_cell *c)
{
	return c->suppressed ? json_null() : json_integer(c->count);
}

enum pa_err
stats_run(struct db *db, const struct stats_query *q, json_t **out)
{
	struct stats_cell *cells = NULL;
	struct db_res *res = NULL;
	json_t *jcells = NULL, *totals = NULL, *jd, *jm, *o;
	size_t i, j, n = 0, nrows;
	int64_t grouping, cnt;
	enum pa_err rc;
	char gen[32];
	time_t now = time(NULL);
	struct tm tm;

	*out = NULL;
	{
		struct db_arg a[6] = { DB_TEXT(q->from), DB_TEXT(q->to),
			q->ndims > 0 ? DB_TEXT(q->dims[0]) : DB_NULL,
			q->ndims > 1 ? DB_TEXT(q->dims[1]) : DB_NULL,
			DB_NULL,	/* a third dimension is not offered */
			q->organisation_id ? DB_TEXT(q->organisation_id) :
			    DB_NULL };

		if ((rc = db_exec(db, "stats_cube", a, 6, &res)) != PA_OK)
			return rc;
	}
	nrows = (size_t)db_res_rows(res);
	if ((cells = calloc(nrows + 1, sizeof(*cells))) == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	for (i = 0; i < nrows; i++) {
		int64_t g;
		size_t d;
		int keep, mask = 0;

		if (db_res_int64(res, (int)i, 0, &grouping) != 0 ||
		    db_res_int64(res, (int)i, 4, &cnt) != 0) {
			rc = PA_INTERNAL;
			goto out;
		}
		/*
		 * GROUPING(d1, d2, d3) has bit 2 set when d1 is summed over,
		 * bit 0 for d3. Kept: the cells (0, when there are
		 * dimensions), each used dimension's margin (all bits but
		 * its own, with two dimensions or more), the total (7).
		 */
		g = grouping;
		keep = g == 7 || (g == 0 && q->ndims > 0);
		for (d = 0; q->ndims > 1 && d < q->ndims; d++)
			if (g == (7 & ~(1 << (2 - d))))
				keep = 1;
		if (!keep)
			continue;
		for (d = 0; d < q->ndims; d++)
			if (g & (1 << (2 - d)))
				mask |= 1 << d;
		for (d = 0; d < q->ndims; d++)
			cells[n].vals[d] = (mask & (1 << d)) ? NULL :
			    db_res_get(res, (int)i, (int)d + 1);
		cells[n].locked = 0;
		cells[n].count = (long)cnt;
		n++;
	}
	/* An empty period still publishes its total: zero. */
	for (i = 0; i < n && !is_total(&cells[i], q->ndims); i++)
		;
	if (i == n) {
		memset(&cells[n], 0, sizeof(cells[n]));
		n++;
	}
	/* Margins and total as their own one-dimension answers, then cells. */
	for (j = 0; q->ndims > 1 && j < q->ndims; j++)
		if (lock_as_one_dimension(cells, n, q->ndims, j, q->k) != 0) {
			rc = PA_INTERNAL;
			goto out;
		}
	stats_suppress(cells, n, q->ndims, q->k);

	jcells = json_array();
	totals = json_object();
	jd = json_array();
	jm = json_array();
	for (j = 0; j < q->ndims; j++) {
		json_array_append_new(jd, json_string(q->dims[j]));
		if (stats_dim_multi(q->dims[j]))
			json_array_append_new(jm, json_string(q->dims[j]));
		json_object_set_new(totals, q->dims[j], json_array());
	}
	for (i = 0; i < n; i++) {
		struct stats_cell *c = &cells[i];

		o = json_object();
		for (j = 0; j < q->ndims; j++)
			if (c->vals[j] != NULL)
				json_object_set_new(o, q->dims[j],
				    json_string(c->vals[j]));
		json_object_set_new(o, "count", count_json(c));
		if (c->suppressed)
			json_object_set_new(o, "suppressed", json_true());
		if (is_total(c, q->ndims))
			json_object_set_new(totals, "all", o);
		else if (is_full(c, q->ndims))
			json_array_append_new(jcells, o);
		else
			for (j = 0; j < q->ndims; j++)
				if (c->vals[j] != NULL)
					json_array_append_new(
					    json_object_get(totals, q->dims[j]),
					    o);
	}
	gmtime_r(&now, &tm);
	strftime(gen, sizeof(gen), "%Y-%m-%dT%H:%M:%SZ", &tm);
	*out = json_pack("{s:i, s:{s:s, s:s, s:b}, s:o, s:o, s:o, s:o, s:s, "
			 "s:s}",
	    "k", q->k, "period", "from", q->from, "to", q->to, "widened",
	    q->widened, "dimensions", jd, "multi_valued", jm, "cells", jcells,
	    "totals", totals, "generated_at", gen, "scope",
	    q->organisation_id ? "organisation" : "country");
	jcells = totals = NULL;
	if (*out == NULL)
		rc = PA_INTERNAL;
	if (*out != NULL && q->ndims > 0 && json_array_size(jm) > 0)
		json_object_set_new(*out, "note", json_pack("{s:s, s:s}", "fr",
		    "Les dimensions à plusieurs valeurs comptent une victime "
		    "une fois par valeur; les totaux la comptent une fois.",
		    "en", "Multi-valued dimensions count a victim once per "
		    "value; totals count each victim once."));
out:
	json_decref(jcells);
	json_decref(totals);
	free(cells);
	db_res_free(res);
	return rc;
}

enum pa_err
stats_audit_export(struct db *db, const struct actor *who,
    const struct stats_query *q, const char *format)
{
	struct audit_entry e = { 0 };
	json_t *d = json_pack("{s:s, s:s, s:s, s:i, s:s, s:[]}", "format",
	    format, "from", q->from, "to", q->to, "k", q->k, "scope",
	    q->organisation_id ? "organisation" : "country", "by");
	enum pa_err rc;
	size_t i;

	if (d == NULL)
		return PA_INTERNAL;
	for (i = 0; i < q->ndims; i++)
		json_array_append_new(json_object_get(d, "by"),
		    json_string(q->dims[i]));
	e.user_id = who->user_id;
	e.organisation_id = who->org_id;
	e.action = "export.stats";
	e.address = who->address;
	e.detail = d;
	if ((rc = db_tx_begin(db)) == PA_OK)
		rc = db_tx_end(db, audit_add(db, &e));
	json_decref(d);
	return rc;
}
