/*
 * The HTCDS export: one row per case in the field names of IOM's Human
 * Trafficking Case Data Standard, clear categories only, made k-anonymous
 * before it leaves. Cases are grouped by their quasi-identifiers (sex, age
 * band, citizenship, region, year, forms of exploitation); a group smaller
 * than k is generalised (age band widened to minor/adult, region to the
 * national level) and grouped again; what is still below k is dropped. The
 * answer counts both. No identifier, no exact date.
 *
 * The groups are few and held in memory; the rows (one per case, so up to
 * a country's whole caseload) are produced by a callback as the client
 * reads, so memory stays flat and a client that goes away stops the work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "stats.h"

static const struct db_stmt stmts[] = {
	{ "htcds_groups",
	    "SELECT coalesce(c.sex, 'unknown'), c.age_band, "
	    "coalesce(c.nationality, 'unknown'), coalesce(c.region, "
	    "'unknown'), to_char(coalesce(c.identified_on, (c.opened_at AT "
	    "TIME ZONE 'UTC')::date), 'YYYY'), "
	    "array_to_string(c.exploitation_types, ';'), count(*) FROM cases c "
	    "WHERE coalesce(c.identified_on, (c.opened_at AT TIME ZONE 'UTC')"
	    "::date) BETWEEN $1::date AND $2::date "
	    "AND ($3::timestamptz IS NULL OR c.opened_at < $3::timestamptz) "
	    "GROUP BY 1, 2, 3, 4, 5, 6" },
};

void stats_htcds_init(void);
void
stats_htcds_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

struct group {
	char sex[16], age[16], nat[16], region[32], year[8], types[256];
	long n;
};

struct htcds {
	struct group *g;
	size_t ng;
	size_t cur;		/* group being written */
	long left;		/* rows of it still to write */
	char line[512];		/* its row, written once per group */
	size_t linelen;
	int header_done;
	int en;
	long generalised, dropped, rows;
};

static const char *
gender(const char *sex)
{
	return strcmp(sex, "female") == 0 ? "Female" :
	    strcmp(sex, "male") == 0 ? "Male" : "Unknown";
}

static const char *
majority(const char *age)
{
	if (strcmp(age, "0-11") == 0 || strcmp(age, "12-17") == 0 ||
	    strcmp(age, "0-17") == 0)
		return "Minor";
	if (strcmp(age, "unknown") == 0)
		return "Unknown";
	return "Adult";
}

static int
has_type(const char *types, const char *t)
{
	const char *p = strstr(types, t);
	size_t n = strlen(t);

	while (p != NULL) {
		if ((p == types || p[-1] == ';') && (p[n] == '\0' ||
		    p[n] == ';'))
			return 1;
		p = strstr(p + 1, t);
	}
	return 0;
}

static int
key_cmp(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	int r;

	if ((r = strcmp(a->sex, b->sex)) != 0 ||
	    (r = strcmp(a->age, b->age)) != 0 ||
	    (r = strcmp(a->nat, b->nat)) != 0 ||
	    (r = strcmp(a->region, b->region)) != 0 ||
	    (r = strcmp(a->year, b->year)) != 0)
		return r;
	return strcmp(a->types, b->types);
}

/*
 * Merges groups with equal keys (after generalisation, or forms of
 * exploitation put in order); sorts them by key. Returns their count.
 */
static size_t
merge(struct group *g, size_t n)
{
	size_t i, out = 0;

	qsort(g, n, sizeof(*g), key_cmp);
	for (i = 0; i < n; i++) {
		if (out > 0 && key_cmp(&g[out - 1], &g[i]) == 0)
			g[out - 1].n += g[i].n;
		else
			g[out++] = g[i];
	}
	return out;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A case's forms of exploitation, in order and each once ("a;b"). */
static void
types_normalise(char *types)
{
	char copy[256], *part[64], *save = NULL, *t;
	size_t n = 0, i, used = 0;

	snprintf(copy, sizeof(copy), "%s", types);
	for (t = strtok_r(copy, ";", &save); t != NULL && n < 64;
	     t = strtok_r(NULL, ";", &save))
		part[n++] = t;
	qsort(part, n, sizeof(part[0]), str_cmp);
	types[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(part[i], part[i - 1]) == 0)
			continue;
		used += (size_t)snprintf(types + used, 256 - used, "%s%s",
		    used ? ";" : "", part[i]);
		if (used >= 256)
			break;
	}
}

/* k-anonymity: generalise small groups, merge, drop what stays small. */
static void
anonymise(struct htcds *h, int k)
{
	size_t i, out;

	for (i = 0; i < h->ng; i++)
		if (h->g[i].n < k) {
			snprintf(h->g[i].age, sizeof(h->g[i].age), "%s",
			    strcmp(majority(h->g[i].age), "Minor") == 0 ?
				"0-17" : strcmp(h->g[i].age, "unknown") == 0 ?
				"unknown" : "18+");
			snprintf(h->g[i].region, sizeof(h->g[i].region),
			    "national");
			h->generalised += h->g[i].n;
		}
	h->ng = merge(h->g, h->ng);
	for (i = 0, out = 0; i < h->ng; i++) {
		if (h->g[i].n < k) {
			h->dropped += h->g[i].n;
			continue;
		}
		h->rows += h->g[i].n;
		h->g[out++] = h->g[i];
	}
	h->ng = out;
}

enum pa_err
stats_htcds_prepare(struct db *db, const struct stats_query *q, int k,
    int en, struct htcds **out)
{
	struct db_arg a[3] = { DB_TEXT(q->from), DB_TEXT(q->to),
		STATS_CUTOFF(q) };
	struct db_res *res = NULL;
	struct htcds *h;
	int64_t n;
	enum pa_err rc;
	int i, rows;

	*out = NULL;
	if ((rc = db_exec(db, "htcds_groups", a, 3, &res)) != PA_OK)
		return rc;
	rows = db_res_rows(res);
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->g = calloc((size_t)rows + 1, sizeof(*h->g))) == NULL) {
		free(h);
		db_res_free(res);
		return PA_INTERNAL;
	}
	for (i = 0; i < rows; i++) {
		struct group *g = &h->g[i];

		snprintf(g->sex, sizeof(g->sex), "%s", db_res_get(res, i, 0));
		snprintf(g->age, sizeof(g->age), "%s", db_res_get(res, i, 1));
		snprintf(g->nat, sizeof(g->nat), "%s", db_res_get(res, i, 2));
		snprintf(g->region, sizeof(g->region), "%s",
		    db_res_get(res, i, 3));
		snprintf(g->year, sizeof(g->year), "%s", db_res_get(res, i, 4));
		snprintf(g->types, sizeof(g->types), "%s",
		    db_res_get(res, i, 5));
		(void)db_res_int64(res, i, 6, &n);
		g->n = (long)n;
	}
	h->ng = (size_t)rows;
	h->en = en;
	db_res_free(res);
	for (i = 0; i < rows; i++)
		types_normalise(h->g[i].types);
	h->ng = merge(h->g, h->ng);
	anonymise(h, k);
	*out = h;
	return PA_OK;
}

void
stats_htcds_counts(const struct htcds *h, long *rows, long *generalised,
    long *dropped)
{
	*rows = h->rows;
	*generalised = h->generalised;
	*dropped = h->dropped;
}

/*
 * Writes as many whole rows as fit in buf; returns bytes written, or 0 at
 * the end. A row is under 512 bytes; callers give at least that much.
 */
size_t
stats_htcds_next(struct htcds *h, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	if (!h->header_done) {
		n = snprintf(buf, len, "yearOfRegistration,gender,ageBroad,"
		    "majorityStatus,citizenship,CountryOfExploitation,"
		    "regionOfIdentification,isForcedLabour,isSexualExploit,"
		    "isForcedMarriage,isOtherExploit,"
		    "typeOfExploitConcatenated\r\n");
		if (n < 0 || (size_t)n >= len)
			return 0;
		used = (size_t)n;
		h->header_done = 1;
		if (h->ng > 0)
			h->left = h->g[0].n;
	}
	while (h->cur < h->ng && len - used > 512) {
		const struct group *g = &h->g[h->cur];
		int fl = has_type(g->types, "forced_labour") ||
		    has_type(g->types, "domestic_servitude") ||
		    has_type(g->types, "forced_begging");
		int se = has_type(g->types, "sexual_exploitation");
		int fm = has_type(g->types, "forced_marriage");

		if (h->left == 0) {
			if (++h->cur < h->ng)
				h->left = h->g[h->cur].n;
			h->linelen = 0;
			continue;
		}
		if (h->linelen == 0) {
			/* Codes only: no cell can start with = + - @. */
			n = snprintf(h->line, sizeof(h->line),
			    "%s,%s,%s,%s,%s,ML,%s,%d,%d,%d,%d,%s\r\n",
			    g->year, gender(g->sex), strcmp(g->age,
			    "unknown") == 0 ? "" : g->age, majority(g->age),
			    strcmp(g->nat, "unknown") == 0 ? "" : g->nat,
			    g->region, fl, se, fm, g->types[0] != '\0' &&
			    !fl && !se && !fm, g->types);
			if (n < 0 || (size_t)n >= sizeof(h->line))
				n = 0;	/* cannot be: codes are short */
			h->linelen = (size_t)n;
			if (h->linelen == 0) {
				h->left = 0;
				continue;
			}
		}
		/* the group's identical rows, as many as fit */
		while (h->left > 0 && len - used > h->linelen) {
			memcpy(buf + used, h->line, h->linelen);
			used += h->linelen;
			h->left--;
		}
		if (h->left > 0)
			break;
	}
	return used;
}

void
stats_htcds_free(struct htcds *h)
{
	if (h == NULL)
		return;
	free(h->g);
	free(h);
}

/* ------------------------------------------------- bounds for statistics */

/*
 * The export publishes, for its year, how many rows carry each value of a
 * quasi-identifier and each combination: a lower bound on the statistics'
 * cell of that value (rows dropped or generalised are not in it). The
 * statistics' attacker (stats.c, protect()) takes those bounds as known,
 * so that a hidden count cannot be pinned with the export's help (NE >= 11
 * from the export, BF + NE = 12 from the answer by nationality). The
 * dimensions the export carries: sex, age band, nationality, region, year
 * and exploitation type (one row counts under each of its types).
 */
static const char *const qi_dims[] = { "sex", "age_band", "nationality",
	"region", "year", "exploitation_type" };

static int
qi_of(const char *dim)
{
	size_t i;

	for (i = 0; dim != NULL && i < sizeof(qi_dims) / sizeof(qi_dims[0]);
	     i++)
		if (strcmp(qi_dims[i], dim) == 0)
			return (int)i;
	return -1;
}

/* A group's values of quasi-identifier qi (several for the types). */
static size_t
qi_values(const struct group *g, int qi, char *buf, size_t len,
    const char **v, size_t max)
{
	char *t, *save = NULL;
	size_t n = 0;

	switch (qi) {
	case 0: v[0] = g->sex; return 1;
	case 1: v[0] = g->age; return 1;
	case 2: v[0] = g->nat; return 1;
	case 3: v[0] = g->region; return 1;
	case 4: v[0] = g->year; return 1;
	default: break;
	}
	if (g->types[0] == '\0') {
		v[0] = "unknown";
		return 1;
	}
	snprintf(buf, len, "%s", g->types);
	for (t = strtok_r(buf, ";", &save); t != NULL && n < max;
	     t = strtok_r(NULL, ";", &save))
		v[n++] = t;
	return n;
}

static int
pstr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct values of dimension d among the cells, sorted. */
static size_t
cell_values(const struct stats_cell *cells, size_t n, size_t d,
    const char **out)
{
	size_t i, m = 0, u = 0;

	for (i = 0; i < n; i++)
		if (cells[i].vals[d] != NULL)
			out[m++] = cells[i].vals[d];
	qsort(out, m, sizeof(*out), pstr_cmp);
	for (i = 0; i < m; i++)
		if (u == 0 || strcmp(out[u - 1], out[i]) != 0)
			out[u++] = out[i];
	return u;
}

static size_t
value_index(const char **vals, size_t n, const char *v)
{
	const char **p = bsearch(&v, vals, n, sizeof(*vals), pstr_cmp);

	return p == NULL ? n : (size_t)(p - vals);
}

enum pa_err
stats_htcds_bounds(struct db *db, const struct stats_query *q,
    struct stats_cell *cells, size_t n)
{
	struct htcds *h = NULL;
	const char **vals[STATS_MAX_DIMS] = { NULL, NULL }, *gv[2][64];
	long *m[STATS_MAX_DIMS] = { NULL, NULL }, *pair = NULL;
	size_t nv[STATS_MAX_DIMS] = { 0, 0 }, ng[2], d, i, a, b, x, y;
	char buf[2][256];
	int qi[STATS_MAX_DIMS] = { -1, -1 }, any = 0;
	enum pa_err rc = PA_OK;

	for (i = 0; i < n; i++) {
		cells[i].lb = 0;
		any |= cells[i].count >= 1 && cells[i].count < q->k;
	}
	/*
	 * Nothing small: nothing is hidden, in this answer or in the one-way
	 * answers that decide its margins (a small margin has small cells),
	 * and bounds would change nothing; the export's query is spared.
	 * The export covers the country; a supervisor's cases are others.
	 */
	if (!any || q->organisation_id != NULL || q->htcds_k < 1 ||
	    q->ndims == 0)
		return PA_OK;
	any = 0;
	for (d = 0; d < q->ndims; d++)
		any |= (qi[d] = qi_of(q->dims[d])) >= 0;
	if (!any)
		return PA_OK;
	if ((rc = stats_htcds_prepare(db, q, q->htcds_k, 0, &h)) != PA_OK)
		return rc;
	for (d = 0; d < q->ndims; d++)
		if ((vals[d] = calloc(n + 1, sizeof(*vals[d]))) == NULL ||
		    (m[d] = calloc(n + 1, sizeof(*m[d]))) == NULL) {
			rc = PA_INTERNAL;
			goto out;
		}
	for (d = 0; d < q->ndims; d++)
		nv[d] = cell_values(cells, n, d, vals[d]);
	if (q->ndims == 2 && (pair = calloc(nv[0] * nv[1] + 1,
	    sizeof(*pair))) == NULL) {
		rc = PA_INTERNAL;
		goto out;
	}
	for (i = 0; i < h->ng; i++) {
		const struct group *g = &h->g[i];

		for (d = 0; d < q->ndims; d++) {
			ng[d] = 0;
			if (qi[d] >= 0)
				ng[d] = qi_values(g, qi[d], buf[d],
				    sizeof(buf[d]), gv[d], 64);
			for (a = 0; a < ng[d]; a++)
				if ((x = value_index(vals[d], nv[d],
				    gv[d][a])) < nv[d])
					m[d][x] += g->n;
		}
		for (a = 0; pair != NULL && a < ng[0]; a++)
			for (b = 0; b < ng[1]; b++)
				if ((x = value_index(vals[0], nv[0],
				    gv[0][a])) < nv[0] && (y = value_index(
				    vals[1], nv[1], gv[1][b])) < nv[1])
					pair[x * nv[1] + y] += g->n;
	}
	for (i = 0; i < n; i++) {
		struct stats_cell *c = &cells[i];
		size_t set = 0, last = 0;

		for (d = 0; d < q->ndims; d++)
			if (c->vals[d] != NULL) {
				set++;
				last = d;
			}
		if (set == 0)
			c->lb = h->rows;
		else if (set == 1 && qi[last] >= 0)
			c->lb = m[last][value_index(vals[last], nv[last],
			    c->vals[last])];
		else if (set == 2 && pair != NULL)
			c->lb = pair[value_index(vals[0], nv[0], c->vals[0]) *
			    nv[1] + value_index(vals[1], nv[1], c->vals[1])];
	}
out:
	for (d = 0; d < STATS_MAX_DIMS; d++) {
		free(vals[d]);
		free(m[d]);
	}
	free(pair);
	stats_htcds_free(h);
	return rc;
}
