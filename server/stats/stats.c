/*
 * Aggregates, small-cell suppression and complementary suppression.
 *
 * One prepared statement (of four shapes, see stmts) groups the period's
 * cases by up to two whitelisted dimensions, with
 * GROUPING SETS for the cells, each dimension's margin and the overall
 * total, counting distinct cases so that multi-valued dimensions (a victim
 * with two forms of exploitation) count a case once per value and once in
 * every total.
 *
 * Suppression (stats_suppress), in four steps:
 *  1. Figures other answers publish too are decided as those answers
 *     decide them, then locked: the total as the answer without dimension
 *     (hidden when from 1 to k-1), each margin of a two-way table as the
 *     one-way answer "by" its dimension. Every answer then publishes the
 *     same figure or hides it, and answers cannot be played against each
 *     other.
 *  2. Every other count from 1 to k-1 is hidden.
 *  3. A quick rule per equation (balance()): no equation with a single
 *     hidden member, and hidden members that sum to k or more.
 *  4. An attacker inside the server (protect()): linear algebra over every
 *     published equation, bounds (a hidden count is at least 1, or 0 where
 *     empty categories are hidden too, and at least what the HTCDS export
 *     of the year shows of it (lb, htcds.c); at most the total), and an
 *     exact test of whether a hidden small count could
 *     take another value (a maximum flow). While it computes or pins one,
 *     one more cell is hidden, then it tries again; complements it knows
 *     anyway are published again. If hiding cannot get there, the answer
 *     hides every count it owns, and a two-way answer then also lists its
 *     empty cells as hidden (withheld): which cells are empty can give
 *     counts away by itself.
 * The same data always gives the same answer: choices depend on the counts
 * and the values, not on the order of the rows.
 *
 * Periods: one calendar year per answer. Suppression protects one answer,
 * and the locks above keep the figures that answers over the same
 * population share identical. Two answers over nested populations share
 * no figure, though: January publishes bamako = 5 and January-February
 * hides bamako and gao (sum 6) as a complement, and since bamako can only
 * have grown, gao = 1. Noise would stop that but counts must stay exact;
 * a ledger of past queries would stop it but needs state shared by every
 * server and decides by the order of the questions. So a request is
 * widened to the whole calendar year it falls in (and the answer says so:
 * period.from/to, period_widened, period_note in both languages) and a
 * request over two years is refused (422, naming "to"): any two answers
 * cover the same year's population or disjoint ones. The same year's
 * answers publish shared figures alike (the locks); disjoint years share
 * no case, so subtracting them tells nothing about either. Detail within
 * the year comes from the month and quarter dimensions, which are
 * suppressed like any other, locks included. Indicators and every export
 * (CSV, JSON, XLSX, HTCDS, whose rows carry the year only) take the same
 * periods. The same year asked before and after a case is added would
 * differ by that case: every answer counts the cases opened before the
 * current month (UTC; q->cutoff, PASSERELLE_STATS_FREEZE=month) and says
 * so (as_of), so answers change once a month, by the month's cases
 * together (docs/statistics.md: what stays open).
 *
 * Categories: a one-way answer lists every category of its dimension
 * (domain.c), empty ones as 0, and a two-way answer every margin. Listing
 * only the categories that occur, or publishing the empty ones as 0 beside
 * hidden ones, would tell that each hidden one holds a case: three hidden
 * under a published total of 3 at k = 3 are 1, 1, 1; ML = 31 shown, BF
 * and NE hidden, the rest 0, total 43, and 11 NE rows in the HTCDS
 * export give BF = 1. So a one-way answer that hides any count hides the
 * empty categories too, and the attacker then takes 0 (or the export's
 * count) as the least a hidden count can be; a two-way answer that shares
 * a hidden empty margin with such an answer is withheld, its cells of
 * those values listed as hidden.
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
	"year", "quarter", "month", "exploitation_type", "referral_service" };
static const char *const multi_valued[] = { "exploitation_type",
	"referral_service" };

/*
 * The query, in four shapes by which dimensions are multi-valued (dims
 * are in canonical order, so a multi-valued one comes last in a pair; one
 * dimension passes NULL as the second). A single-valued dimension is a
 * plain column expression (CASE on the parameter, folded away when
 * PostgreSQL plans for the values given) and counts rows: a case is one
 * row. A multi-valued one is unnested and counts distinct cases, so that
 * a case counts once per value and once in every total. stat_dim() of
 * 0004/0006 says the same per case, and is what the tests' fixtures
 * follow; calling it per row cost twenty times a plain GROUP BY.
 */
#define STAT_DAY \
	"coalesce(c.identified_on, (c.opened_at AT TIME ZONE 'UTC')::date)"
#define STAT_ONE(p) \
	"CASE " p " WHEN 'sex' THEN coalesce(c.sex, 'unknown') " \
	"WHEN 'age_band' THEN c.age_band " \
	"WHEN 'nationality' THEN coalesce(c.nationality, 'unknown') " \
	"WHEN 'region' THEN coalesce(c.region, 'unknown') " \
	"WHEN 'stage' THEN c.stage " \
	"WHEN 'justice_status' THEN c.justice_status " \
	"WHEN 'identifying_kind' THEN c.identifying_kind " \
	"WHEN 'child' THEN CASE WHEN c.is_child THEN 'child' ELSE 'adult' " \
	"END WHEN 'year' THEN to_char(" STAT_DAY ", 'YYYY') " \
	"WHEN 'quarter' THEN to_char(" STAT_DAY ", 'YYYY-\"Q\"Q') " \
	"WHEN 'month' THEN to_char(" STAT_DAY ", 'YYYY-MM') END"
#define STAT_MANY(p) \
	"unnest(CASE " p " WHEN 'exploitation_type' THEN CASE WHEN " \
	"cardinality(c.exploitation_types) = 0 THEN ARRAY['unknown'] ELSE " \
	"c.exploitation_types END WHEN 'referral_service' THEN " \
	"coalesce((SELECT array_agg(DISTINCT r.service) FROM referrals r " \
	"WHERE r.case_id = c.id), ARRAY['none']) END)"
#define STAT_WHERE \
	" WHERE " STAT_DAY " BETWEEN $1::date AND $2::date " \
	"AND ($5::uuid IS NULL OR c.lead_organisation_id = $5) " \
	"AND ($6::timestamptz IS NULL OR c.opened_at < $6::timestamptz) "
#define STAT_SETS \
	"GROUP BY GROUPING SETS ((v1, v2), (v1), (v2), ()) ORDER BY 1, 2, 3"

static const struct db_stmt stmts[] = {
	{ "stats_cube",		/* single, single (or none) */
	    "SELECT GROUPING(v1, v2), v1, v2, count(*) FROM (SELECT "
	    STAT_ONE("$3") " AS v1, " STAT_ONE("$4") " AS v2 FROM cases c"
	    STAT_WHERE ") x " STAT_SETS },
	{ "stats_cube_sm",	/* single, multi */
	    "SELECT GROUPING(v1, v2), v1, v2, count(DISTINCT id) FROM (SELECT "
	    "c.id, " STAT_ONE("$3") " AS v1, d.v AS v2 FROM cases c "
	    "CROSS JOIN LATERAL " STAT_MANY("$4") " AS d(v)" STAT_WHERE ") x "
	    STAT_SETS },
	{ "stats_cube_ms",	/* multi, none */
	    "SELECT GROUPING(v1, v2), v1, v2, count(DISTINCT id) FROM (SELECT "
	    "c.id, d.v AS v1, " STAT_ONE("$4") " AS v2 FROM cases c "
	    "CROSS JOIN LATERAL " STAT_MANY("$3") " AS d(v)" STAT_WHERE ") x "
	    STAT_SETS },
	{ "stats_cube_mm",	/* multi, multi */
	    "SELECT GROUPING(v1, v2), v1, v2, count(DISTINCT id) FROM (SELECT "
	    "c.id, d1.v AS v1, d2.v AS v2 FROM cases c "
	    "CROSS JOIN LATERAL " STAT_MANY("$3") " AS d1(v) "
	    "CROSS JOIN LATERAL " STAT_MANY("$4") " AS d2(v)" STAT_WHERE ") x "
	    STAT_SETS },
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
	return in(multi_valued, sizeof(multi_valued) / sizeof(multi_valued[0]),
	    dim);
}

json_t *
stats_dims_json(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < sizeof(dims) / sizeof(dims[0]); i++)
		if (json_array_append_new(a, json_pack("{s:s, s:b}", "id",
		    dims[i], "multi_valued", stats_dim_multi(dims[i]))) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
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

enum pa_err
stats_query_parse(struct stats_query *q, const char *from, const char *to,
    const char *by, const char **field)
{
	char buf[128], *tok, *save = NULL;
	size_t i;

	*field = NULL;
	q->ndims = 0;
	q->widened = 0;
	q->multi_year = 0;
	if (from == NULL || !jv_date_valid(from)) {
		*field = "from";
		return PA_INVALID;
	}
	if (to == NULL || !jv_date_valid(to) || strcmp(from, to) > 0) {
		*field = "to";
		return PA_INVALID;
	}
	/*
	 * One whole calendar year per answer (see the top of this file):
	 * a period within a year is widened to the year, and says so; a
	 * period over two years or more is refused, so that no two answers
	 * cover populations of which one holds the other.
	 */
	if (strncmp(from, to, 4) != 0) {
		*field = "to";
		q->multi_year = 1;
		return PA_INVALID;
	}
	snprintf(q->from, sizeof(q->from), "%.4s-01-01", from);
	snprintf(q->to, sizeof(q->to), "%.4s-12-31", from);
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

#define NONE ((size_t)-1)
/* A bound for a count when no published figure gives one. */
#define UNBOUNDED 1000000000000L
/* Interval propagation passes; it has always settled long before. */
#define MAX_PASSES 10000

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

static int
is_small(long count, int k)
{
	return count >= 1 && count < k;
}

/* A hidden count from 1 to k-1: what the attacker must not get back. */
static int
small_hidden(const struct stats_cell *c, int k)
{
	return c->suppressed && is_small(c->count, k);
}

/* A cell this answer may still hide: shown, its own, not empty. */
static int
hideable(const struct stats_cell *c)
{
	return !c->suppressed && !c->locked && c->count > 0;
}

/*
 * The order in which cells are chosen: smallest count first, then by kind
 * and values. It depends on what the cells hold, never on where they sit
 * in the array, so that the answer "by=a" and the margins of "by=a,b" come
 * out the same although PostgreSQL lists them in other places.
 */
static int
cell_cmp(const struct stats_cell *a, const struct stats_cell *b)
{
	size_t i;
	int r;

	if (a->count != b->count)
		return a->count < b->count ? -1 : 1;
	for (i = 0; i < STATS_MAX_DIMS; i++) {
		if ((a->vals[i] == NULL) != (b->vals[i] == NULL))
			return a->vals[i] == NULL ? -1 : 1;
		if (a->vals[i] != NULL &&
		    (r = strcmp(a->vals[i], b->vals[i])) != 0)
			return r;
	}
	return 0;
}

/*
 * What an answer publishes, as equations "parent = sum of members": with
 * one dimension, the total and the cells; with two, each margin and its
 * cells, the total and each dimension's margins, and (implied by those)
 * the total and every cell. Summing over a multi-valued dimension gives
 * bounds only (exact == 0): a case with two values counts under both, so
 * the parent is at most the sum of its members and at least each one.
 */
struct eq {
	size_t par;
	size_t off, nm;		/* members: mem[off .. off + nm - 1] */
	int exact;
	int implied;		/* a sum of the others: nothing new */
};

struct eqs {
	struct eq *e;
	size_t n;
	size_t *mem;
	size_t nmem;
	size_t tot;		/* the total, NONE without one */
	long floor;		/* the least a hidden count may be */
};

static void
eqs_free(struct eqs *q)
{
	free(q->e);
	free(q->mem);
	memset(q, 0, sizeof(*q));
}

/*
 * Adds an equation on cells[par]: over dimension j's margins when
 * margins is set, else over the cells that share the parent's value of
 * dimension j (every cell when j is NONE).
 */
static void
eqs_add(struct eqs *q, const struct stats_cell *cells, size_t n, size_t ndims,
    size_t par, size_t j, int margins, int exact)
{
	struct eq *e = &q->e[q->n++];
	size_t i;

	e->par = par;
	e->off = q->nmem;
	e->exact = exact;
	e->implied = !margins && j == NONE;
	for (i = 0; i < n; i++) {
		if (margins ? !is_margin_of(&cells[i], ndims, j) :
		    !is_full(&cells[i], ndims) || (j != NONE &&
		    strcmp(cells[i].vals[j], cells[par].vals[j]) != 0))
			continue;
		q->mem[q->nmem++] = i;
	}
	e->nm = q->nmem - e->off;
}

/* multi: bit j set when dimension j is multi-valued. -1: out of memory. */
static int
eqs_build(struct eqs *q, const struct stats_cell *cells, size_t n,
    size_t ndims, unsigned multi)
{
	size_t p, j;

	memset(q, 0, sizeof(*q));
	q->tot = NONE;
	q->floor = 1;
	/* one equation per margin, two more on the total and the implied
	 * one; a cell is a member of three at most */
	if ((q->e = calloc(n + 3, sizeof(*q->e))) == NULL ||
	    (q->mem = calloc(3 * n + 1, sizeof(*q->mem))) == NULL) {
		eqs_free(q);
		return -1;
	}
	for (p = 0; p < n && q->tot == NONE; p++)
		if (is_total(&cells[p], ndims))
			q->tot = p;
	if (ndims == 0 || q->tot == NONE)
		return 0;
	for (p = 0; p < n; p++)
		for (j = 0; j < ndims; j++) {
			if (p == q->tot)
				/* total = sum of dimension j's margins (of
				 * the cells, with one dimension) */
				eqs_add(q, cells, n, ndims, p, j, 1,
				    !(multi & (1u << j)));
			else if (ndims == 2 &&
			    is_margin_of(&cells[p], ndims, j))
				/* margin = sum over the other dimension */
				eqs_add(q, cells, n, ndims, p, j, 0,
				    !(multi & (1u << (1 - j))));
		}
	if (ndims == 2)
		eqs_add(q, cells, n, ndims, q->tot, NONE, 0, multi == 0);
	return 0;
}

/*
 * The first rule, equation by equation. When the parent is published,
 * the hidden members' sum H is known to anyone: with one hidden member it
 * is that member; with h hidden members, each at least 1 (a listed cell is
 * not zero), any sum below k narrows them too far (H == h gives every one
 * away). So while fewer than two members are hidden or their sum is below
 * k, the smallest non-zero visible member is hidden too. When the parent
 * is hidden, at least one member must be, or the parent is their sum.
 * Locked cells are never chosen. Returns 1 when it hid something.
 */
static int
balance(struct stats_cell *cells, const struct eqs *q, const struct eq *e,
    int k)
{
	struct stats_cell *parent = &cells[e->par], *m, *best = NULL;
	size_t i, hidden = 0;
	long hsum = 0;

	for (i = 0; i < e->nm; i++)
		if (cells[q->mem[e->off + i]].suppressed) {
			hidden++;
			hsum += cells[q->mem[e->off + i]].count;
		}
	if (parent->suppressed ? hidden > 0 || parent->count == 0 :
	    hidden == 0 || (hidden >= 2 && hsum >= k))
		return 0;
	for (i = 0; i < e->nm; i++) {
		m = &cells[q->mem[e->off + i]];
		if (hideable(m) && (best == NULL || cell_cmp(m, best) < 0))
			best = m;
	}
	if (best == NULL && hideable(parent))
		best = parent;
	if (best == NULL)
		return 0;
	best->suppressed = 1;
	return 1;
}

/*
 * The attacker, run on the answer after the first rule, and again after
 * each cell hidden.
 *
 * Linear algebra: one row per exact equation, one column per cell,
 * coefficients +1 (parent) and -1 (members); Gauss-Jordan elimination
 * pivots on hidden columns only. A hidden cell is computable exactly when
 * its pivot row has no other hidden column: that row is its formula in
 * published counts. Rows left without a pivot tie published counts
 * together ("chained" cells). The rows of a one- or two-way table with its
 * margins form a network matrix, which is totally unimodular, so
 * elimination keeps every coefficient in {-1, 0, 1} and small integers are
 * exact; anything else means equations this file does not build, and the
 * caller then gives up safely.
 *
 * Bounds: every hidden count is at least 1 (zero is never hidden, until a
 * withheld table, see suppress(), which is not checked again) and at most
 * the total (k - 1 when the total is hidden); interval propagation over
 * the equations and over the reduced rows, which combine them, until
 * nothing changes. A count whose interval closes is pinned. Propagation
 * misses what only a combination of equations and bounds shows (three
 * hidden cells in different rows and columns, each at least 1, whose sum
 * is 3 by no single row), hence the exact test after it (flow_graph()).
 */
struct attacker {
	size_t n, rows, rank;
	long floor;		/* the least a hidden count can be */
	signed char *a;		/* rows x n */
	size_t *prow;		/* pivot row of a hidden column, or NONE */
	int *chained;
	long *lo, *hi;
	size_t *idx;		/* scratch: one row's cells */
	signed char *coef;	/* scratch: their coefficients */
	size_t *queue;		/* scratch: choose(), flow_levels() */
	char *mark;
	/* the circulation (see flow_graph), when every equation is exact */
	int flow;
	size_t nv, narcs;
	size_t *from, *to;	/* each cell's arc, NONE: not in the flow */
	size_t *head, *next, *dst, *level, *iter;
	long *cap, *excess;
};

static void
attacker_free(struct attacker *at)
{
	free(at->a);
	free(at->prow);
	free(at->chained);
	free(at->lo);
	free(at->hi);
	free(at->idx);
	free(at->coef);
	free(at->queue);
	free(at->mark);
	free(at->from);
	free(at->to);
	free(at->head);
	free(at->next);
	free(at->dst);
	free(at->level);
	free(at->iter);
	free(at->cap);
	free(at->excess);
	memset(at, 0, sizeof(*at));
}

/*
 * Exact pinning, for tables whose equations are all exact. A one- or
 * two-way table with its margins and total is a circulation: the total
 * flows to the margins of the first dimension, through the cells to the
 * margins of the second, and back to the total (with one dimension, from
 * the total through the cells), and every equation is a node where what
 * comes in goes out. Counts within bounds that satisfy every equation are
 * a feasible circulation with lower bounds, which one maximum flow finds,
 * in integers since the bounds are integers. So a count is pinned exactly
 * when neither a smaller nor a larger value is feasible, whatever
 * combination of equations would show it. Node 0 is the total's tail, 1
 * its head; each margin is a node. -1 when a cell has no margin.
 */
static int
flow_graph(struct attacker *at, const struct stats_cell *cells, size_t ndims)
{
	size_t i, j, m, end[2];

	at->nv = 2;
	for (i = 0; i < at->n; i++) {
		at->from[i] = at->to[i] = NONE;
		if (is_total(&cells[i], ndims)) {
			at->from[i] = 1;
			at->to[i] = 0;
		} else if (ndims == 1) {
			at->from[i] = 0;
			at->to[i] = 1;
		} else if (is_margin_of(&cells[i], ndims, 0)) {
			at->from[i] = 0;
			at->to[i] = at->nv++;
		} else if (is_margin_of(&cells[i], ndims, 1)) {
			at->from[i] = at->nv++;
			at->to[i] = 1;
		}
	}
	for (i = 0; ndims == 2 && i < at->n; i++) {
		if (!is_full(&cells[i], ndims))
			continue;
		for (j = 0; j < 2; j++) {
			end[j] = NONE;
			for (m = 0; m < at->n && end[j] == NONE; m++)
				if (is_margin_of(&cells[m], ndims, j) &&
				    strcmp(cells[m].vals[j],
				    cells[i].vals[j]) == 0)
					end[j] = j == 0 ? at->to[m] :
					    at->from[m];
			if (end[j] == NONE)
				return -1;
		}
		at->from[i] = end[0];
		at->to[i] = end[1];
	}
	return 0;
}

static int
attacker_init(struct attacker *at, const struct stats_cell *cells,
    const struct eqs *q, size_t n, size_t ndims)
{
	size_t e, m = n + 1, v = n + 4, arcs = 2 * (n + n + 4);

	memset(at, 0, sizeof(*at));
	at->n = n;
	at->floor = q->floor;
	for (e = 0; e < q->n; e++)
		at->rows += q->e[e].exact && !q->e[e].implied;
	if ((at->a = calloc(at->rows * n + 1, 1)) == NULL ||
	    (at->prow = calloc(m, sizeof(*at->prow))) == NULL ||
	    (at->chained = calloc(m, sizeof(*at->chained))) == NULL ||
	    (at->lo = calloc(m, sizeof(*at->lo))) == NULL ||
	    (at->hi = calloc(m, sizeof(*at->hi))) == NULL ||
	    (at->idx = calloc(m, sizeof(*at->idx))) == NULL ||
	    (at->coef = calloc(m, 1)) == NULL ||
	    (at->queue = calloc(v, sizeof(*at->queue))) == NULL ||
	    (at->mark = calloc(m, 1)) == NULL ||
	    (at->from = calloc(m, sizeof(*at->from))) == NULL ||
	    (at->to = calloc(m, sizeof(*at->to))) == NULL ||
	    (at->head = calloc(v, sizeof(*at->head))) == NULL ||
	    (at->next = calloc(arcs, sizeof(*at->next))) == NULL ||
	    (at->dst = calloc(arcs, sizeof(*at->dst))) == NULL ||
	    (at->level = calloc(v, sizeof(*at->level))) == NULL ||
	    (at->iter = calloc(v, sizeof(*at->iter))) == NULL ||
	    (at->cap = calloc(arcs, sizeof(*at->cap))) == NULL ||
	    (at->excess = calloc(v, sizeof(*at->excess))) == NULL) {
		attacker_free(at);
		return -1;
	}
	at->flow = ndims > 0 && q->n > 0;
	for (e = 0; e < q->n; e++)
		at->flow &= q->e[e].exact;
	if (at->flow && flow_graph(at, cells, ndims) != 0)
		at->flow = 0;
	return 0;
}

static void
flow_arc(struct attacker *at, size_t u, size_t v, long c)
{
	size_t e = at->narcs;

	at->dst[e] = v;
	at->cap[e] = c;
	at->next[e] = at->head[u];
	at->head[u] = e;
	at->dst[e + 1] = u;
	at->cap[e + 1] = 0;
	at->next[e + 1] = at->head[v];
	at->head[v] = e + 1;
	at->narcs += 2;
}

/* Dinic: levels from s; 1 while t is reachable. */
static int
flow_levels(struct attacker *at, size_t s, size_t t, size_t nv)
{
	size_t head = 0, tail = 0, u, e;

	for (u = 0; u < nv; u++)
		at->level[u] = NONE;
	at->level[s] = 0;
	at->queue[tail++] = s;
	while (head < tail) {
		u = at->queue[head++];
		for (e = at->head[u]; e != NONE; e = at->next[e])
			if (at->cap[e] > 0 && at->level[at->dst[e]] == NONE) {
				at->level[at->dst[e]] = at->level[u] + 1;
				at->queue[tail++] = at->dst[e];
			}
	}
	return at->level[t] != NONE;
}

static long
flow_push(struct attacker *at, size_t u, size_t t, long f)
{
	size_t e, v;
	long d;

	if (u == t)
		return f;
	for (; at->iter[u] != NONE; at->iter[u] = at->next[at->iter[u]]) {
		e = at->iter[u];
		v = at->dst[e];
		if (at->cap[e] <= 0 || at->level[v] != at->level[u] + 1)
			continue;
		if ((d = flow_push(at, v, t, f < at->cap[e] ? f :
		    at->cap[e])) > 0) {
			at->cap[e] -= d;
			at->cap[e ^ 1] += d;
			return d;
		}
	}
	return 0;
}

/* 1 when every cell can take a value in [lo, hi], all equations holding. */
static int
flow_feasible(struct attacker *at, const long *lo, const long *hi)
{
	size_t i, u, s = at->nv, t = at->nv + 1, nv = at->nv + 2;
	long need = 0, got = 0, d;

	at->narcs = 0;
	for (u = 0; u < nv; u++) {
		at->head[u] = NONE;
		at->excess[u] = 0;
	}
	for (i = 0; i < at->n; i++) {
		if (at->from[i] == NONE)
			continue;
		if (lo[i] > hi[i])
			return 0;
		if (hi[i] > lo[i])
			flow_arc(at, at->from[i], at->to[i], hi[i] - lo[i]);
		at->excess[at->to[i]] += lo[i];
		at->excess[at->from[i]] -= lo[i];
	}
	for (u = 0; u < at->nv; u++)
		if (at->excess[u] > 0) {
			flow_arc(at, s, u, at->excess[u]);
			need += at->excess[u];
		} else if (at->excess[u] < 0)
			flow_arc(at, u, t, -at->excess[u]);
	while (got < need && flow_levels(at, s, t, nv)) {
		for (u = 0; u < nv; u++)
			at->iter[u] = at->head[u];
		while ((d = flow_push(at, s, t, need - got)) > 0)
			got += d;
	}
	return got == need;
}

/* 1 when no value of cell x but its own fits the published counts. */
static int
flow_pins(struct attacker *at, size_t x, long value)
{
	long lo = at->lo[x], hi = at->hi[x];
	int other = 0;

	if (lo < value) {
		at->hi[x] = value - 1;
		other = flow_feasible(at, at->lo, at->hi);
		at->hi[x] = hi;
	}
	if (!other && hi > value) {
		at->lo[x] = value + 1;
		other = flow_feasible(at, at->lo, at->hi);
		at->lo[x] = lo;
	}
	return !other;
}

/* Gauss-Jordan on the hidden columns; -1 if a coefficient leaves
 * {-1, 0, 1}. */
static int
attacker_reduce(struct attacker *at, const struct stats_cell *cells,
    const struct eqs *q)
{
	signed char *a = at->a, *r, *s, tmp;
	size_t n = at->n, i, e, c, l, row = 0;
	int f, v;

	memset(a, 0, at->rows * n);
	for (e = 0; e < q->n; e++) {
		if (!q->e[e].exact || q->e[e].implied)
			continue;
		r = &a[row++ * n];
		r[q->e[e].par] = 1;
		for (i = 0; i < q->e[e].nm; i++)
			r[q->mem[q->e[e].off + i]] = -1;
	}
	at->rank = 0;
	for (c = 0; c < n; c++)
		at->prow[c] = NONE;
	for (c = 0; c < n && at->rank < at->rows; c++) {
		if (!cells[c].suppressed)
			continue;
		for (i = at->rank; i < at->rows && a[i * n + c] == 0; i++)
			;
		if (i == at->rows)
			continue;
		r = &a[at->rank * n];
		for (s = &a[i * n], l = 0; i != at->rank && l < n; l++) {
			tmp = r[l];
			r[l] = s[l];
			s[l] = tmp;
		}
		if (r[c] == -1)
			for (l = 0; l < n; l++)
				r[l] = (signed char)-r[l];
		for (i = 0; i < at->rows; i++) {
			s = &a[i * n];
			if (i == at->rank || (f = s[c]) == 0)
				continue;
			for (l = 0; l < n; l++) {
				v = s[l] - f * r[l];
				if (v < -1 || v > 1)
					return -1;
				s[l] = (signed char)v;
			}
		}
		at->prow[c] = at->rank++;
	}
	for (c = 0; c < n; c++) {
		at->chained[c] = 0;
		for (i = at->rank; i < at->rows; i++)
			at->chained[c] |= a[i * n + c] != 0;
	}
	return 0;
}

/* 1 when hidden cell t is a combination of published counts. */
static int
attacker_computes(const struct attacker *at, const struct stats_cell *cells,
    size_t t)
{
	const signed char *r;
	size_t c;

	if (at->prow[t] == NONE)
		return 0;
	r = &at->a[at->prow[t] * at->n];
	for (c = 0; c < at->n; c++)
		if (c != t && r[c] != 0 && cells[c].suppressed)
			return 0;
	return 1;
}

/* Narrows cell x to [lo, hi]; 1 when that changed something. */
static int
narrow(struct attacker *at, size_t x, long lo, long hi)
{
	int changed = 0;

	if (lo > at->lo[x]) {
		at->lo[x] = lo;
		changed = 1;
	}
	if (hi < at->hi[x]) {
		at->hi[x] = hi;
		changed = 1;
	}
	return changed;
}

/*
 * The sum of coef[i] * x[idx[i]] is 0, each coef -1 or 1: each term lies
 * between minus the others' largest and minus their smallest sum.
 */
static int
propagate_exact(struct attacker *at, size_t m)
{
	long smin = 0, smax = 0, tmin, tmax, omin, omax;
	size_t i, x;
	int changed = 0;

	for (i = 0; i < m; i++) {
		x = at->idx[i];
		smin += at->coef[i] > 0 ? at->lo[x] : -at->hi[x];
		smax += at->coef[i] > 0 ? at->hi[x] : -at->lo[x];
	}
	for (i = 0; i < m; i++) {
		x = at->idx[i];
		tmin = at->coef[i] > 0 ? at->lo[x] : -at->hi[x];
		tmax = at->coef[i] > 0 ? at->hi[x] : -at->lo[x];
		omin = smin - tmin;
		omax = smax - tmax;
		if (at->coef[i] > 0)
			changed |= narrow(at, x, -omax, -omin);
		else
			changed |= narrow(at, x, omin, omax);
	}
	return changed;
}

/* Multi-valued: parent <= sum of members, and each member <= parent. */
static int
propagate_multi(struct attacker *at, const struct eqs *q, const struct eq *e)
{
	long shi = 0, mlo = 0;
	size_t i, x;
	int changed = 0;

	for (i = 0; i < e->nm; i++) {
		x = q->mem[e->off + i];
		shi += at->hi[x];
		if (at->lo[x] > mlo)
			mlo = at->lo[x];
	}
	changed |= narrow(at, e->par, mlo, shi);
	for (i = 0; i < e->nm; i++) {
		x = q->mem[e->off + i];
		changed |= narrow(at, x, at->lo[e->par] - (shi - at->hi[x]),
		    at->hi[e->par]);
	}
	return changed;
}

/* -1 when the intervals contradict the published counts (cannot be). */
static int
attacker_bounds(struct attacker *at, const struct stats_cell *cells,
    const struct eqs *q, int k)
{
	size_t i, e, c, m, tot = q->tot;
	long cap;
	int changed, passes = 0;

	cap = tot == NONE ? UNBOUNDED :
	    cells[tot].suppressed ? k - 1 : cells[tot].count;
	for (i = 0; i < at->n; i++) {
		/* a bound known from elsewhere (the HTCDS export) counts */
		at->lo[i] = !cells[i].suppressed ? cells[i].count :
		    cells[i].lb > at->floor ? cells[i].lb : at->floor;
		at->hi[i] = cells[i].suppressed ? cap : cells[i].count;
	}
	do {
		changed = 0;
		for (e = 0; e < q->n; e++) {
			const struct eq *eq = &q->e[e];

			if (!eq->exact) {
				changed |= propagate_multi(at, q, eq);
				continue;
			}
			at->idx[0] = eq->par;
			at->coef[0] = 1;
			for (i = 0; i < eq->nm; i++) {
				at->idx[i + 1] = q->mem[eq->off + i];
				at->coef[i + 1] = -1;
			}
			changed |= propagate_exact(at, eq->nm + 1);
		}
		for (i = 0; i < at->rank; i++) {
			for (c = 0, m = 0; c < at->n; c++)
				if (at->a[i * at->n + c] != 0) {
					at->idx[m] = c;
					at->coef[m++] = at->a[i * at->n + c];
				}
			changed |= propagate_exact(at, m);
		}
		for (i = 0; i < at->n; i++)
			if (at->lo[i] > at->hi[i])
				return -1;
	} while (changed && ++passes < MAX_PASSES);
	return changed ? -1 : 0;
}

/*
 * Between two cells to hide, one that no pivotless row ties to published
 * counts first (hiding a chained cell only makes it computable), then the
 * smallest.
 */
static int
better(const struct attacker *at, const struct stats_cell *cells, size_t y,
    size_t best)
{
	if (best == NONE)
		return 1;
	if (at->chained[y] != at->chained[best])
		return !at->chained[y];
	return cell_cmp(&cells[y], &cells[best]) < 0;
}

/*
 * A cell to hide so that small count t is no longer given away, NONE if
 * there is none. When t is computable, a cell of its formula that no
 * other published relation pins down (hiding it leaves the formula with an
 * unknown), else any cell of its formula. Otherwise (bounds), or failing
 * those, a cell of an equation with t in it, or of an equation with a
 * hidden cell reached from t through equations, nearest first.
 */
static size_t
choose(struct attacker *at, const struct stats_cell *cells,
    const struct eqs *q, size_t t, int computed)
{
	const signed char *r;
	size_t best = NONE, c, e, i, x, y, head = 0, tail = 0, end;
	int pass;

	for (pass = 0; computed && pass < 2 && best == NONE; pass++) {
		r = &at->a[at->prow[t] * at->n];
		for (c = 0; c < at->n; c++)
			if (r[c] != 0 && hideable(&cells[c]) &&
			    (pass == 1 || !at->chained[c]) &&
			    (best == NONE ||
			    cell_cmp(&cells[c], &cells[best]) < 0))
				best = c;
	}
	if (best != NONE)
		return best;
	memset(at->mark, 0, at->n);
	at->queue[tail++] = t;
	at->mark[t] = 1;
	while (head < tail && best == NONE)
		for (end = tail; head < end; head++) {
			x = at->queue[head];
			for (e = 0; e < q->n; e++) {
				const struct eq *eq = &q->e[e];
				int in = eq->par == x;

				for (i = 0; !in && i < eq->nm; i++)
					in = q->mem[eq->off + i] == x;
				for (i = 0; in && i <= eq->nm; i++) {
					y = i == 0 ? eq->par :
					    q->mem[eq->off + i - 1];
					if (hideable(&cells[y])) {
						if (better(at, cells, y, best))
							best = y;
					} else if (cells[y].suppressed &&
					    !at->mark[y]) {
						at->mark[y] = 1;
						at->queue[tail++] = y;
					}
				}
			}
		}
	return best;
}

/*
 * Hides cells until the attacker computes and pins no small count.
 * Returns 0 when done, 1 when hiding more cannot get there, -1 when out of
 * memory. Each round hides one more cell, so n + 1 rounds are enough to
 * end either way.
 */
static int
protect(struct stats_cell *cells, size_t n, size_t ndims, const struct eqs *q,
    int k)
{
	struct attacker at;
	size_t round, t, target, pick;
	int rc = 1;

	if (attacker_init(&at, cells, q, n, ndims) != 0)
		return -1;
	for (round = 0; round <= n; round++) {
		if (attacker_reduce(&at, cells, q) != 0 ||
		    attacker_bounds(&at, cells, q, k) != 0)
			break;
		target = NONE;
		for (t = 0; t < n; t++)
			if (small_hidden(&cells[t], k) &&
			    (at.lo[t] == at.hi[t] ||
			    attacker_computes(&at, cells, t)) &&
			    (target == NONE ||
			    cell_cmp(&cells[t], &cells[target]) < 0))
				target = t;
		/* then the exact test, dearer, on what is left */
		if (target == NONE && at.flow &&
		    !flow_feasible(&at, at.lo, at.hi))
			break;	/* not the table's equations: give up */
		for (t = 0; target == NONE && at.flow && t < n; t++)
			if (small_hidden(&cells[t], k) &&
			    flow_pins(&at, t, cells[t].count))
				target = t;
		if (target == NONE) {
			rc = 0;
			break;
		}
		pick = choose(&at, cells, q, target,
		    attacker_computes(&at, cells, target));
		if (pick == NONE)
			break;
		cells[pick].suppressed = 1;
	}
	attacker_free(&at);
	return rc;
}

/*
 * Publishes again the cells this answer hid as complements that the
 * attacker computes or pins anyway: that tells him nothing he does not
 * know, and the answer loses less. Returns how many, -1 when out of
 * memory.
 */
static int
unhide_known(struct stats_cell *cells, size_t n, const struct eqs *q, int k)
{
	struct attacker at;
	size_t i;
	int shown = 0;

	if (attacker_init(&at, cells, q, n, 0) != 0)
		return -1;
	if (attacker_reduce(&at, cells, q) == 0 &&
	    attacker_bounds(&at, cells, q, k) == 0) {
		/* all at once: each is known, so all of them are */
		for (i = 0; i < n; i++)
			at.mark[i] = cells[i].suppressed && !cells[i].locked &&
			    cells[i].count >= k && (at.lo[i] == at.hi[i] ||
			    attacker_computes(&at, cells, i));
		for (i = 0; i < n; i++)
			if (at.mark[i]) {
				cells[i].suppressed = 0;
				shown++;
			}
	}
	attacker_free(&at);
	return shown;
}

/*
 * 1 when both margins of a two-way cell are not zero (both values occur)
 * or hidden (they may occur).
 */
static int
in_cross_product(const struct stats_cell *cells, size_t n,
    const struct stats_cell *c)
{
	size_t i, j, seen = 0;

	for (j = 0; j < 2; j++)
		for (i = 0; i < n; i++)
			if (is_margin_of(&cells[i], 2, j) &&
			    strcmp(cells[i].vals[j], c->vals[j]) == 0 &&
			    (cells[i].count > 0 || cells[i].suppressed)) {
				seen++;
				break;
			}
	return seen == 2;
}

/*
 * The margins of dimension j, suppressed exactly as the one-dimension
 * answer "by=<dim j>" suppresses them, then locked: every answer publishes
 * the same figure for the same population, so that two answers cannot be
 * subtracted from each other. -1: out of memory.
 */
static int
lock_as_one_dimension(struct stats_cell *cells, size_t n, size_t ndims,
    size_t j, unsigned multi, int k)
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
			one[m].lb = cells[i].lb;
			m++;
		}
	stats_suppress_multi(one, m, 1, (multi >> j) & 1u, k);
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

/*
 * Hides every cell the answer owns, the empty ones included (those of
 * values that occur, or may, with two dimensions): "withheld".
 */
static void
withhold(struct stats_cell *cells, size_t n, size_t ndims)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hideable(&cells[i]) || (is_full(&cells[i], ndims) &&
		    (ndims == 1 || in_cross_product(cells, n, &cells[i]))))
			cells[i].suppressed = 1;
}

/* 1 when a one-way answer hides every non-empty category (one at least). */
static int
every_count_hidden(const struct stats_cell *cells, size_t n)
{
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++)
		if (is_full(&cells[i], 1) && cells[i].count > 0) {
			if (!cells[i].suppressed)
				return 0;
			any = 1;
		}
	return any;
}

/*
 * A one-way answer that hides a count hides every empty category too:
 * published beside it, a 0 says that each hidden category holds a case
 * (the HTCDS attack: ML = 31 published, BF and NE hidden, every other
 * country 0, total 43, so BF + NE = 12 and, with NE >= 11 from the
 * export, BF = 1). Hidden among the empty ones, a hidden count may be 0.
 * Returns 1 when it hid them (something was hidden).
 */
static int
hide_empty_categories(struct stats_cell *cells, size_t n)
{
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++)
		any |= is_full(&cells[i], 1) && cells[i].suppressed &&
		    cells[i].count > 0;
	for (i = 0; any && i < n; i++)
		if (is_full(&cells[i], 1) && cells[i].count == 0)
			cells[i].suppressed = 1;
	return any;
}

/*
 * Suppression proper, on cells in canonical order (see stats_suppress).
 * -1 when out of memory.
 */
static int
suppress(struct stats_cell *cells, size_t n, size_t ndims, unsigned multi,
    int k)
{
	struct eqs q;
	size_t i, e, j;
	int changed, rc, round;

	/*
	 * The total is the answer without dimension: hidden when small,
	 * whatever the dimensions, or two answers would disagree on it.
	 */
	for (i = 0; i < n; i++)
		if (is_total(&cells[i], ndims)) {
			cells[i].suppressed = is_small(cells[i].count, k);
			cells[i].locked = 1;
		}
	for (j = 0; ndims > 1 && j < ndims; j++)
		if (lock_as_one_dimension(cells, n, ndims, j, multi, k) != 0)
			return -1;
	if (ndims == 2)
		for (i = 0; i < n; i++)
			if (!is_full(&cells[i], ndims) && cells[i].suppressed &&
			    cells[i].count == 0) {
				/*
				 * A one-way answer withheld its empty
				 * categories with the rest (see below): a
				 * row of published or missing cells would
				 * say that one is empty, and so that the
				 * others are not. Withhold this one too.
				 */
				withhold(cells, n, ndims);
				return 0;
			}
	for (i = 0; i < n; i++)
		if (!cells[i].locked && is_small(cells[i].count, k))
			cells[i].suppressed = 1;
	if (eqs_build(&q, cells, n, ndims, multi) != 0)
		return -1;
	if (ndims == 1 && hide_empty_categories(cells, n))
		q.floor = 0;
	do {
		changed = 0;
		for (e = 0; e < q.n; e++)
			if (!q.e[e].implied)
				changed |= balance(cells, &q, &q.e[e], k);
	} while (changed);
	/* protect, give back what is known anyway, protect again */
	for (round = 0; round < 4; round++)
		if ((rc = protect(cells, n, ndims, &q, k)) != 0 ||
		    (rc = unhide_known(cells, n, &q, k)) <= 0)
			break;
	if (rc > 0)
		rc = protect(cells, n, ndims, &q, k);
	if (rc == 1) {
		/* Hiding cell by cell cannot get there: hide all it may. */
		for (i = 0; i < n; i++)
			if (hideable(&cells[i]))
				cells[i].suppressed = 1;
		rc = protect(cells, n, ndims, &q, k);
	}
	if (rc == 1 && ndims == 2)
		/*
		 * Still given away, by which cells are empty: a row
		 * published as 3 with three cells listed is 1, 1 and 1. Hide
		 * every cell of the two-way table, the empty ones of values
		 * that occur included (stats_run lists them then), so that
		 * none is known to be at least 1.
		 */
		withhold(cells, n, ndims);
	if (ndims == 1 && rc >= 0 && (rc == 1 || every_count_hidden(cells,
	    n))) {
		/*
		 * The same with one dimension: three categories hidden under
		 * a published total of 3 are 1, 1 and 1 while the others are
		 * known to be empty. stats_run lists every category of the
		 * dimension, empty ones as 0; hide those too, and no hidden
		 * count is known to be at least 1. So that an answer whose
		 * every category is hidden always means that, one that hides
		 * every non-empty category anyway hides the empty ones too.
		 * The attacker, told so, checks again: with two hidden counts
		 * or more between 0 and the total, none is pinned.
		 */
		withhold(cells, n, ndims);
		q.floor = 0;
		rc = protect(cells, n, ndims, &q, k);
	}
	eqs_free(&q);
	return rc < 0 ? -1 : 0;
}

/* Canonical order: cells, margins of each dimension, total; by values. */
struct slot {
	const struct stats_cell *c;
	size_t ndims, i;
	int kind;
};

static int
slot_cmp(const void *pa, const void *pb)
{
	const struct slot *a = pa, *b = pb;
	size_t d;
	int r;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	for (d = 0; d < a->ndims; d++) {
		if ((a->c->vals[d] == NULL) != (b->c->vals[d] == NULL))
			return a->c->vals[d] == NULL ? -1 : 1;
		if (a->c->vals[d] != NULL &&
		    (r = strcmp(a->c->vals[d], b->c->vals[d])) != 0)
			return r;
	}
	return a->i < b->i ? -1 : a->i > b->i;
}

void
stats_suppress(struct stats_cell *cells, size_t n, size_t ndims, int k)
{
	stats_suppress_multi(cells, n, ndims, 0, k);
}

void
stats_suppress_multi(struct stats_cell *cells, size_t n, size_t ndims,
    unsigned multi, int k)
{
	struct stats_cell *w = NULL;
	struct slot *s = NULL;
	size_t i, j;

	if (ndims > STATS_MAX_DIMS || (s = calloc(n + 1, sizeof(*s))) ==
	    NULL || (w = calloc(n + 1, sizeof(*w))) == NULL)
		goto fail;
	/*
	 * Work on a copy in an order of its own, so that the rows'
	 * order, which PostgreSQL and the callers choose, changes nothing.
	 */
	for (i = 0; i < n; i++) {
		s[i].c = &cells[i];
		s[i].ndims = ndims;
		s[i].i = i;
		s[i].kind = is_full(&cells[i], ndims) ? 0 : 3;
		for (j = 0; ndims > 1 && j < ndims; j++)
			if (is_margin_of(&cells[i], ndims, j))
				s[i].kind = 1 + (int)j;
	}
	qsort(s, n, sizeof(*s), slot_cmp);
	for (i = 0; i < n; i++) {
		w[i] = *s[i].c;
		w[i].suppressed = 0;
		w[i].locked = 0;
	}
	if (suppress(w, n, ndims, multi, k) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		cells[s[i].i].suppressed = w[i].suppressed;
		cells[s[i].i].locked = w[i].locked;
	}
	free(w);
	free(s);
	return;
fail:
	/* Cannot check the arithmetic: publish nothing. */
	for (i = 0; i < n; i++) {
		cells[i].suppressed = cells[i].count > 0;
		cells[i].locked = 0;
	}
	free(w);
	free(s);
}

/* -------------------------------------------------------------- the query */

/*
 * Adds the empty cells of a two-way table (values that occur, in no case
 * together) with a count of 0: a table that cannot protect its small counts
 * otherwise hides them too (see suppress()), and stats_run lists them then.
 * *cells is reallocated; the values point into the other cells' strings.
 */
static enum pa_err
cross_product(struct stats_cell **cells, size_t *n)
{
	struct stats_cell *c = *cells, *nc;
	size_t i, a, b, m0 = 0, m1 = 0, have = *n, add = 0;

	for (i = 0; i < have; i++) {
		m0 += is_margin_of(&c[i], 2, 0);
		m1 += is_margin_of(&c[i], 2, 1);
	}
	if ((nc = realloc(c, (have + m0 * m1 + 1) * sizeof(*c))) == NULL)
		return PA_INTERNAL;
	*cells = c = nc;
	for (a = 0; a < have; a++)
		for (b = 0; is_margin_of(&c[a], 2, 0) && b < have; b++) {
			if (!is_margin_of(&c[b], 2, 1))
				continue;
			for (i = 0; i < have; i++)
				if (is_full(&c[i], 2) &&
				    strcmp(c[i].vals[0], c[a].vals[0]) == 0 &&
				    strcmp(c[i].vals[1], c[b].vals[1]) == 0)
					break;
			if (i < have)
				continue;
			memset(&c[have + add], 0, sizeof(c[0]));
			c[have + add].vals[0] = c[a].vals[0];
			c[have + add].vals[1] = c[b].vals[1];
			add++;
		}
	*n = have + add;
	return PA_OK;
}

/*
 * Adds every category of the dimensions that the period has no case of,
 * with a count of 0: the cells of a one-way answer, the margins of a
 * two-way one (as the one-way answers list them). *cells is reallocated;
 * the values point into dom.
 */
static enum pa_err
add_domain(struct stats_cell **cells, size_t *n, size_t ndims,
    const struct stats_domain *dom)
{
	struct stats_cell *c, *nc;
	size_t add = 0, j, d, i;

	for (j = 0; j < ndims; j++)
		add += dom[j].n;
	if ((nc = realloc(*cells, (*n + add + 1) * sizeof(*nc))) == NULL)
		return PA_INTERNAL;
	*cells = c = nc;
	for (j = 0; j < ndims; j++)
		for (d = 0; d < dom[j].n; d++) {
			for (i = 0; i < *n; i++)
				if ((ndims == 1 ? is_full(&c[i], 1) :
				    is_margin_of(&c[i], 2, j)) &&
				    strcmp(c[i].vals[j], dom[j].v[d]) == 0)
					break;
			if (i < *n)
				continue;
			memset(&c[*n], 0, sizeof(c[0]));
			c[*n].vals[j] = dom[j].v[d];
			(*n)++;
		}
	return PA_OK;
}

/*
 * A two-way answer withheld because a margin it shares with a one-way
 * answer is a hidden empty category: lists the cells of that value as
 * hidden too, so that its row does not say it is empty.
 */
static enum pa_err
withheld_rows(struct stats_cell **cells, size_t *n)
{
	struct stats_cell *c = *cells, *nc;
	size_t i, a, b, have = *n, m0 = 0, m1 = 0, add = 0;
	int wh = 0;

	for (i = 0; i < have; i++) {
		m0 += is_margin_of(&c[i], 2, 0);
		m1 += is_margin_of(&c[i], 2, 1);
		wh |= !is_full(&c[i], 2) && !is_total(&c[i], 2) &&
		    c[i].suppressed && c[i].count == 0;
	}
	if (!wh)
		return PA_OK;
	if ((nc = realloc(c, (have + m0 * m1 + 1) * sizeof(*c))) == NULL)
		return PA_INTERNAL;
	*cells = c = nc;
	for (a = 0; a < have; a++) {
		if (!is_margin_of(&c[a], 2, 0) || (c[a].count == 0 &&
		    !c[a].suppressed))
			continue;
		for (b = 0; b < have; b++) {
			if (!is_margin_of(&c[b], 2, 1) || (c[b].count == 0 &&
			    !c[b].suppressed))
				continue;
			for (i = 0; i < have + add; i++)
				if (is_full(&c[i], 2) &&
				    strcmp(c[i].vals[0], c[a].vals[0]) == 0 &&
				    strcmp(c[i].vals[1], c[b].vals[1]) == 0)
					break;
			if (i < have + add)
				continue;
			memset(&c[have + add], 0, sizeof(c[0]));
			c[have + add].vals[0] = c[a].vals[0];
			c[have + add].vals[1] = c[b].vals[1];
			c[have + add].suppressed = 1;
			add++;
		}
	}
	*n = have + add;
	return PA_OK;
}

/* Output order: by values, NULL (a margin) last. */
static int
out_cmp(const void *pa, const void *pb)
{
	const struct stats_cell *a = pa, *b = pb;
	size_t i;
	int r;

	for (i = 0; i < STATS_MAX_DIMS; i++) {
		if ((a->vals[i] == NULL) != (b->vals[i] == NULL))
			return a->vals[i] == NULL ? 1 : -1;
		if (a->vals[i] != NULL &&
		    (r = strcmp(a->vals[i], b->vals[i])) != 0)
			return r;
	}
	return 0;
}

void
stats_period_note(json_t *out, const struct stats_query *q)
{
	char fr[160], en[160];

	if (out == NULL)
		return;
	json_object_set_new(out, "as_of", q->cutoff[0] ?
	    json_string(q->cutoff) : json_null());
	if (q->cutoff[0]) {
		snprintf(fr, sizeof(fr), "Données arrêtées au %.10s : les "
		    "dossiers ouverts depuis seront comptés le mois prochain.",
		    q->cutoff);
		snprintf(en, sizeof(en), "Data as of %.10s: cases opened since "
		    "are counted from next month.", q->cutoff);
		json_object_set_new(out, "as_of_note", json_pack("{s:s, s:s}",
		    "fr", fr, "en", en));
	}
	json_object_set_new(out, "period_widened", json_boolean(q->widened));
	if (!q->widened)
		return;
	snprintf(fr, sizeof(fr), "Période élargie à l'année civile entière "
	    "(du %s au %s) : chaque réponse couvre une année civile.",
	    q->from, q->to);
	snprintf(en, sizeof(en), "Period widened to the whole calendar year "
	    "(%s to %s): every answer covers one calendar year.", q->from,
	    q->to);
	json_object_set_new(out, "period_note", json_pack("{s:s, s:s}", "fr",
	    fr, "en", en));
}

/*
 * The freeze (see the top of this file): "month" counts the cases opened
 * before the first instant of the current month (UTC), so that every
 * answer within a month is the same, and a new victim is counted only
 * with the whole month's cases.
 */
int
stats_freeze(struct stats_query *q, const char *setting, time_t now)
{
	struct tm tm;

	q->cutoff[0] = '\0';
	if (setting != NULL && strcmp(setting, "none") == 0)
		return 0;
	if (setting != NULL && strcmp(setting, "month") != 0)
		return -1;
	if (gmtime_r(&now, &tm) == NULL)
		return -1;
	snprintf(q->cutoff, sizeof(q->cutoff), "%04d-%02d-01 00:00:00+00",
	    tm.tm_year + 1900, tm.tm_mon + 1);
	return 0;
}

static json_t *
count_json(const struct stats_cell *c)
{
	return c->suppressed ? json_null() : json_integer(c->count);
}

enum pa_err
stats_run(struct db *db, const struct stats_query *q, json_t **out)
{
	struct stats_cell *cells = NULL;
	struct stats_domain dom[STATS_MAX_DIMS];
	struct db_res *res = NULL;
	json_t *jcells = NULL, *totals = NULL, *jd, *jm, *o;
	size_t i, j, n = 0, nrows;
	unsigned multi = 0;
	int64_t grouping, cnt;
	enum pa_err rc;
	char gen[32];
	time_t now = time(NULL);
	struct tm tm;

	*out = NULL;
	memset(dom, 0, sizeof(dom));
	for (j = 0; j < q->ndims; j++)
		if ((rc = stats_domain(q, q->dims[j], &dom[j])) != PA_OK)
			goto out;
	{
		struct db_arg a[6] = { DB_TEXT(q->from), DB_TEXT(q->to),
			q->ndims > 0 ? DB_TEXT(q->dims[0]) : DB_NULL,
			q->ndims > 1 ? DB_TEXT(q->dims[1]) : DB_NULL,
			q->organisation_id ? DB_TEXT(q->organisation_id) :
			    DB_NULL, STATS_CUTOFF(q) };

		int m0 = q->ndims > 0 && stats_dim_multi(q->dims[0]);
		int m1 = q->ndims > 1 && stats_dim_multi(q->dims[1]);

		if ((rc = db_exec(db, m0 && m1 ? "stats_cube_mm" : m0 ?
		    "stats_cube_ms" : m1 ? "stats_cube_sm" : "stats_cube", a, 6,
		    &res)) != PA_OK)
			goto out;
	}
	nrows = (size_t)db_res_rows(res);
	if ((cells = calloc(nrows + 1, sizeof(*cells))) == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	for (i = 0; i < nrows; i++) {
		int64_t g;
		size_t d;
		int keep;

		if (db_res_int64(res, (int)i, 0, &grouping) != 0 ||
		    db_res_int64(res, (int)i, 3, &cnt) != 0) {
			rc = PA_INTERNAL;
			goto out;
		}
		/*
		 * GROUPING(d1, d2) has bit 1 set when d1 is summed over, bit
		 * 0 for d2. Kept: the cells (0, when there are dimensions),
		 * each dimension's margin (1 and 2, with two dimensions), the
		 * total (3).
		 */
		g = grouping;
		keep = g == 3 || (g == 0 && q->ndims > 0) ||
		    ((g == 1 || g == 2) && q->ndims == 2);
		if (!keep)
			continue;
		for (d = 0; d < q->ndims; d++)
			cells[n].vals[d] = (g & (1 << (1 - d))) ? NULL :
			    db_res_get(res, (int)i, (int)d + 1);
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
	if (q->ndims == 2 && (rc = cross_product(&cells, &n)) != PA_OK)
		goto out;
	/* after the cross product: the empty values' cells are not in it */
	if ((rc = add_domain(&cells, &n, q->ndims, dom)) != PA_OK)
		goto out;
	for (j = 0; j < q->ndims; j++)
		if (stats_dim_multi(q->dims[j]))
			multi |= 1u << j;
	/* what the HTCDS export of the year says, the attacker knows */
	if ((rc = stats_htcds_bounds(db, q, cells, n)) != PA_OK)
		goto out;
	stats_suppress_multi(cells, n, q->ndims, multi, q->k);
	if (q->ndims == 2 && (rc = withheld_rows(&cells, &n)) != PA_OK)
		goto out;
	qsort(cells, n, sizeof(*cells), out_cmp);

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

		/*
		 * Every category of a one-way answer is listed, and every
		 * margin; an empty cell of a two-way one only when hidden
		 * (withheld).
		 */
		if (q->ndims == 2 && is_full(c, q->ndims) && c->count == 0 &&
		    !c->suppressed)
			continue;
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
	/* What else may be asked: the statistics page offers these. */
	if (*out != NULL && json_object_set_new(*out, "available_dimensions",
	    stats_dims_json()) != 0) {
		json_decref(*out);
		*out = NULL;
	}
	if (*out == NULL)
		rc = PA_INTERNAL;
	stats_period_note(*out, q);
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
	for (j = 0; j < STATS_MAX_DIMS; j++)
		stats_domain_free(&dom[j]);
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
