/*
 * stats/: the parts without a database. Small-cell and complementary
 * suppression (stats_suppress) on hand-built tables and on random ones,
 * checked with an attacker's arithmetic rather than by looking at the
 * flags: the one-unknown subtraction the first rule is built against, its
 * fixed point, linear algebra over every published equation of one table,
 * bounds (a hidden count is at least 1: zero is never hidden and absent
 * rows are zeros; at most the total), an exact search over every integer
 * table that publishes the same numbers, and the linked answers an analyst
 * gets by asking the same period by a,b, by a, by b and by nothing, all
 * put together. At k = 3, 5 and 11, on counts 0..12, skewed ones (many 1s
 * and 2s) and sparse ones. A count disclosed even when the answer hides
 * every cell it owns is counted apart (inherent; since a one-way answer
 * lists every category and hides the empty ones when it must, see
 * test_1d_small_categories_under_a_published_total, none is); any other is a
 * failure. Then determinism, the time a 20 x 9 table takes, the period and
 * "by" parsing (whole calendar years, two dimensions at most), CSV cells (formula
 * neutralisation, RFC 4180) and the CSV text of an answer in both
 * languages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <jansson.h>

#include "stats/stats.h"

/* k of the tables being built and attacked; the default unless a test
 * says otherwise. */
#define K 5
static int kk = K;

/* ================================================================ tables */

/*
 * A table as stats_run builds it: full cells (every dimension set), with
 * two dimensions each dimension's one-way margins, and the total. v[i][d]
 * is the value index of entry i on table dimension d, -1 for a margin over
 * it. Zero entries are kept: stats_suppress never hides them and never
 * picks them, so the result is the same as without the rows that
 * PostgreSQL does not return (test_same_flags_without_zeros_in_any_order),
 * and an attacker reads an absent row as 0.
 */
#define MAXV 20
#define MAXE (MAXV * MAXV + 2 * MAXV + 1)

static char names[2][MAXV][8];

static void
names_init(void)
{
	int d, i;

	for (d = 0; d < 2; d++)
		for (i = 0; i < MAXV; i++)
			snprintf(names[d][i], sizeof(names[d][i]), "%c%d",
			    "ab"[d], i);
}

struct tab {
	size_t ndims;
	int dim[2];		/* base dimension of each table dimension */
	size_t n;
	struct stats_cell c[MAXE];
	int v[MAXE][2];
	long orig[MAXE];	/* count before suppression (== c[].count) */
	int primary[MAXE];	/* 1..k-1: hidden by the first rule */
};

/* Base data: two dimensions of sz[d] values each. */
struct base {
	int sz[2];
	long x[MAXV][MAXV];
};

static void
tab_add(struct tab *t, const int *v, long count)
{
	size_t d, i = t->n++;

	ck_assert_uint_lt(i, MAXE);
	memset(&t->c[i], 0, sizeof(t->c[i]));
	for (d = 0; d < 2; d++)
		t->v[i][d] = d < t->ndims ? v[d] : -1;
	for (d = 0; d < t->ndims; d++)
		t->c[i].vals[d] = v[d] < 0 ? NULL : names[t->dim[d]][v[d]];
	t->c[i].count = count;
	t->orig[i] = count;
	t->primary[i] = count >= 1 && count < kk;
}

/* Sum of the base over entries matching v (-1: any) on t's dimensions. */
static long
base_sum(const struct base *b, const struct tab *t, const int *v)
{
	int want[2] = { -1, -1 }, i, j;
	size_t d;
	long s = 0;

	for (d = 0; d < t->ndims; d++)
		want[t->dim[d]] = v[d];
	for (i = 0; i < b->sz[0]; i++)
		for (j = 0; j < b->sz[1]; j++)
			if ((want[0] < 0 || want[0] == i) &&
			    (want[1] < 0 || want[1] == j))
				s += b->x[i][j];
	return s;
}

/* The table of base b grouped by dims (as a request by=... would be). */
static void
tab_build(struct tab *t, const struct base *b, const int *dims, size_t nd)
{
	int v[2] = { -1, -1 }, i, j;
	size_t d;

	memset(t, 0, sizeof(*t));
	t->ndims = nd;
	for (d = 0; d < nd; d++)
		t->dim[d] = dims[d];
	/* full cells */
	for (i = 0; i < (nd > 0 ? b->sz[dims[0]] : 1); i++)
		for (j = 0; j < (nd > 1 ? b->sz[dims[1]] : 1); j++) {
			v[0] = nd > 0 ? i : -1;
			v[1] = nd > 1 ? j : -1;
			if (nd > 0)
				tab_add(t, v, base_sum(b, t, v));
		}
	/* one-way margins, with two dimensions */
	for (d = 0; nd > 1 && d < nd; d++)
		for (i = 0; i < b->sz[dims[d]]; i++) {
			v[0] = v[1] = -1;
			v[d] = i;
			tab_add(t, v, base_sum(b, t, v));
		}
	/* the total */
	v[0] = v[1] = -1;
	tab_add(t, v, base_sum(b, t, v));
}

static void
tab_suppress(struct tab *t)
{
	stats_suppress(t->c, t->n, t->ndims, kk);
}

static size_t
tab_hidden(const struct tab *t)
{
	size_t i, h = 0;

	for (i = 0; i < t->n; i++)
		h += t->c[i].suppressed ? 1 : 0;
	return h;
}

/* ============================================================ equations */

/*
 * What a table publishes, as equations an attacker may use: parent = sum of
 * members. With one dimension: total = sum of the cells. With two: each
 * margin = sum of its cells, total = sum of each dimension's margins, and
 * (implied, written out for the attacks that do not combine equations)
 * total = sum of every cell, always first.
 */
struct eq {
	size_t par;
	size_t nm;
	size_t mem[MAXE];
};

static int
is_full_e(const struct tab *t, size_t i)
{
	size_t d;

	for (d = 0; d < t->ndims; d++)
		if (t->v[i][d] < 0)
			return 0;
	return t->ndims > 0;
}

static int
is_total_e(const struct tab *t, size_t i)
{
	size_t d;

	for (d = 0; d < t->ndims; d++)
		if (t->v[i][d] >= 0)
			return 0;
	return 1;
}

/* Margin of table dimension j (only v[j] set). */
static int
is_margin_e(const struct tab *t, size_t i, size_t j)
{
	size_t d;

	if (t->ndims < 2)
		return 0;
	for (d = 0; d < t->ndims; d++)
		if ((d == j) != (t->v[i][d] >= 0))
			return 0;
	return 1;
}

static size_t
total_of(const struct tab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (is_total_e(t, i))
			return i;
	ck_abort_msg("table without a total");
	return 0;
}

#define MAXEQ (2 * MAXV + 4)

static size_t
equations(const struct tab *t, struct eq *eqs, size_t max)
{
	size_t n = 0, i, p, j, tot = total_of(t);

	if (t->ndims == 0)
		return 0;
	/* total = sum of every cell */
	eqs[n].par = tot;
	eqs[n].nm = 0;
	for (i = 0; i < t->n; i++)
		if (is_full_e(t, i))
			eqs[n].mem[eqs[n].nm++] = i;
	n++;
	for (j = 0; t->ndims > 1 && j < t->ndims; j++) {
		/* total = sum of dimension j's margins */
		ck_assert_uint_lt(n, max);
		eqs[n].par = tot;
		eqs[n].nm = 0;
		for (i = 0; i < t->n; i++)
			if (is_margin_e(t, i, j))
				eqs[n].mem[eqs[n].nm++] = i;
		n++;
		/* each margin = sum of its cells */
		for (p = 0; p < t->n; p++) {
			if (!is_margin_e(t, p, j))
				continue;
			ck_assert_uint_lt(n, max);
			eqs[n].par = p;
			eqs[n].nm = 0;
			for (i = 0; i < t->n; i++)
				if (is_full_e(t, i) && t->v[i][j] == t->v[p][j])
					eqs[n].mem[eqs[n].nm++] = i;
			n++;
		}
	}
	return n;
}

/* ================================================== linear algebra (RREF) */

/*
 * Rows of a matrix in reduced row echelon form, each with its right-hand
 * side (the published numbers) in column ncols; solve() tells whether a
 * vector is a linear combination of the rows, that is whether an attacker
 * can compute its value exactly, and computes that value from the published
 * numbers. Small integer coefficients: doubles with a tolerance are exact
 * enough, and every value found is checked against the truth.
 */
#define MAXC 512
#define MAXR 600
#define EPS 1e-7

struct mat {
	size_t ncols, nrows;
	double r[MAXR][MAXC + 1];
	int piv[MAXR];	/* pivot column of each row after rref() */
};

static struct mat mat_a;	/* big: not on the stack */

static void
mat_init(struct mat *m, size_t ncols)
{
	ck_assert_uint_le(ncols, MAXC);
	m->ncols = ncols;
	m->nrows = 0;
}

static double *
mat_row(struct mat *m)
{
	ck_assert_uint_lt(m->nrows, MAXR);
	memset(m->r[m->nrows], 0, sizeof(m->r[0]));
	return m->r[m->nrows++];
}

static size_t
rref(struct mat *m)
{
	static double tmp[MAXC + 1];
	size_t rank = 0, col, i, best, w = m->ncols + 1;
	double f;

	for (col = 0; col < m->ncols && rank < m->nrows; col++) {
		best = rank;
		for (i = rank; i < m->nrows; i++)
			if (fabs(m->r[i][col]) > fabs(m->r[best][col]))
				best = i;
		if (fabs(m->r[best][col]) < EPS)
			continue;
		memcpy(tmp, m->r[best], sizeof(tmp));
		memcpy(m->r[best], m->r[rank], sizeof(tmp));
		memcpy(m->r[rank], tmp, sizeof(tmp));
		f = m->r[rank][col];
		for (i = 0; i < w; i++)
			m->r[rank][i] /= f;
		for (i = 0; i < m->nrows; i++) {
			size_t c;

			if (i == rank || fabs(m->r[i][col]) < EPS)
				continue;
			f = m->r[i][col];
			for (c = 0; c < w; c++)
				m->r[i][c] -= f * m->r[rank][c];
		}
		m->piv[rank++] = (int)col;
	}
	/* rows left are 0 = 0 (published numbers are consistent) */
	for (i = rank; i < m->nrows; i++)
		ck_assert_msg(fabs(m->r[i][m->ncols]) < 1e-6,
		    "inconsistent equations: the attacker's model is wrong");
	m->nrows = rank;
	return rank;
}

/*
 * 1 when q (ncols long) is in the row space of m (after rref); *value is
 * then what the published numbers say q's value is.
 */
static int
solve(const struct mat *m, const double *q0, double *value)
{
	static double q[MAXC];
	size_t i, c;

	memcpy(q, q0, sizeof(double) * m->ncols);
	*value = 0;
	for (i = 0; i < m->nrows; i++) {
		double f = q[m->piv[i]];

		if (fabs(f) < EPS)
			continue;
		for (c = 0; c < m->ncols; c++)
			q[c] -= f * m->r[i][c];
		*value += f * m->r[i][m->ncols];
	}
	for (c = 0; c < m->ncols; c++)
		if (fabs(q[c]) > EPS)
			return 0;
	return 1;
}

/* ============================================================== attacks */

static struct eq eqs_buf[MAXEQ];

/*
 * One dimension: something is hidden and no empty category is published
 * (a one-way answer that hides a count hides its empty categories too),
 * so a hidden count may be 0. Two dimensions: every full cell of values
 * that occur is hidden, the empty ones too (a two-way answer that cannot
 * protect its small counts otherwise, or whose margins hide empty
 * categories). The answer then lists every combination, and a hidden cell
 * may be 0; in any other answer an empty cell is published (or absent),
 * and a hidden one is at least 1.
 */
static int
withheld(const struct tab *t)
{
	size_t i, j, p;
	int any = 0;

	if (t->ndims == 1) {
		/* a count hidden, no empty category published */
		for (i = 0; i < t->n; i++)
			if (is_full_e(t, i)) {
				if (!t->c[i].suppressed && t->orig[i] == 0)
					return 0;
				any |= t->c[i].suppressed;
			}
		return any;
	}
	if (t->ndims != 2)
		return 0;
	for (i = 0; i < t->n; i++) {
		int occurs = 1;

		if (!is_full_e(t, i))
			continue;
		for (j = 0; j < 2; j++)
			for (p = 0; p < t->n; p++)
				if (is_margin_e(t, p, j) &&
				    t->v[p][j] == t->v[i][j] && t->orig[p] == 0)
					occurs = 0;
		if (occurs && !t->c[i].suppressed)
			return 0;
		any |= occurs;
	}
	return any;
}

/*
 * The least an attacker knows a hidden entry to be: 0 for a cell of a
 * withheld answer, and for a margin of a two-way answer whose dimension's
 * margins hide something and publish no empty one (the one-way answer
 * hides its empty categories with any count); else 1.
 */
static long
least(const struct tab *t, size_t i, int wh)
{
	size_t j, p;
	int all = 1;

	if (is_full_e(t, i))
		return wh ? 0 : 1;
	for (j = 0; t->ndims == 2 && j < 2; j++) {
		if (!is_margin_e(t, i, j))
			continue;
		for (p = 0; p < t->n; p++)
			if (is_margin_e(t, p, j) && t->orig[p] == 0 &&
			    !t->c[p].suppressed)
				all = 0;	/* a published empty margin */
		return all ? 0 : 1;
	}
	return 1;
}

/* Equations with exactly one hidden member (recoverable at once). */
static size_t
one_unknown_equations(const struct tab *t, const struct eq *eqs, size_t ne)
{
	size_t e, i, bad = 0;

	for (e = 0; e < ne; e++) {
		size_t hidden = t->c[eqs[e].par].suppressed ? 1 : 0;

		for (i = 0; i < eqs[e].nm; i++)
			hidden += t->c[eqs[e].mem[i]].suppressed ? 1 : 0;
		bad += hidden == 1;
	}
	return bad;
}

/*
 * The attacks below return how many primary counts they disclose, and set
 * mark[i] for each (mark may be NULL).
 */
static size_t
disclose(const struct tab *t, size_t i, int *mark)
{
	if (!t->primary[i])
		return 0;
	if (mark != NULL)
		mark[i] = 1;
	return 1;
}

/*
 * The attacker's fixed point: solve any equation with one unknown, mark it
 * known, again until nothing changes.
 */
static size_t
iterated_attack(const struct tab *t, const struct eq *eqs, size_t ne,
    int *mark)
{
	static int known[MAXE];
	size_t e, i, leaks = 0;
	int changed;

	for (i = 0; i < t->n; i++)
		known[i] = !t->c[i].suppressed;
	do {
		changed = 0;
		for (e = 0; e < ne; e++) {
			size_t unk = known[eqs[e].par] ? 0 : 1, last = eqs[e].par;

			for (i = 0; i < eqs[e].nm; i++)
				if (!known[eqs[e].mem[i]]) {
					unk++;
					last = eqs[e].mem[i];
				}
			if (unk == 1) {
				known[last] = 1;
				changed = 1;
			}
		}
	} while (changed);
	for (i = 0; i < t->n; i++)
		if (t->c[i].suppressed && known[i])
			leaks += disclose(t, i, mark);
	return leaks;
}

/*
 * Linear algebra on one table: unknowns are its hidden entries; every
 * published equation is a row. A primary count whose unit vector is in the
 * row space is computable exactly.
 */
static size_t
linear_attack(const struct tab *t, const struct eq *eqs, size_t ne,
    int *mark)
{
	static int col[MAXE];
	static double q[MAXC];
	size_t i, e, h = 0, leaks = 0;
	double value;

	for (i = 0; i < t->n; i++)
		col[i] = t->c[i].suppressed ? (int)h++ : -1;
	if (h == 0)
		return 0;
	mat_init(&mat_a, h);
	for (e = 0; e < ne; e++) {
		/* par - sum(mem) = 0, the published members moved right */
		double *r = mat_row(&mat_a);
		size_t p = eqs[e].par;

		if (col[p] >= 0)
			r[col[p]] += 1;
		else
			r[h] -= (double)t->c[p].count;
		for (i = 0; i < eqs[e].nm; i++) {
			size_t x = eqs[e].mem[i];

			if (col[x] >= 0)
				r[col[x]] -= 1;
			else
				r[h] += (double)t->c[x].count;
		}
	}
	rref(&mat_a);
	for (i = 0; i < t->n; i++) {
		if (!t->primary[i])
			continue;
		memset(q, 0, sizeof(double) * h);
		q[col[i]] = 1;
		if (solve(&mat_a, q, &value)) {
			ck_assert_msg(fabs(value - (double)t->orig[i]) < 1e-6,
			    "attacker computed %g for %ld", value, t->orig[i]);
			leaks += disclose(t, i, mark);
		}
	}
	return leaks;
}

/*
 * Interval propagation: each equation narrows each of its entries to what
 * the others' intervals allow, until nothing changes. -1 when an interval
 * empties (no table fits).
 */
static int
propagate(const struct tab *t, const struct eq *eqs, size_t ne, long *lo,
    long *hi)
{
	size_t i, e, m;
	int changed, guard = 0;

	do {
		changed = 0;
		for (e = 0; e < ne; e++) {
			/* par - sum(mem) = 0: members with sign -1 */
			size_t nv = eqs[e].nm + 1;
			/* smin, smax: min and max of par - sum(mem) */
			long smin = lo[eqs[e].par], smax = hi[eqs[e].par];

			for (m = 0; m < eqs[e].nm; m++) {
				smin -= hi[eqs[e].mem[m]];
				smax -= lo[eqs[e].mem[m]];
			}
			for (m = 0; m < nv; m++) {
				size_t x = m == 0 ? eqs[e].par : eqs[e].mem[m - 1];
				long omin, omax, nlo, nhi;

				/* the others' share, without x's own */
				if (m == 0) {
					omin = smin - lo[x];
					omax = smax - hi[x];
					nlo = -omax;	/* x = -(others) */
					nhi = -omin;
				} else {
					omin = smin + hi[x];
					omax = smax + lo[x];
					nlo = omin;	/* x = others */
					nhi = omax;
				}
				if (nlo > lo[x]) {
					lo[x] = nlo;
					changed = 1;
				}
				if (nhi < hi[x]) {
					hi[x] = nhi;
					changed = 1;
				}
				if (lo[x] > hi[x])
					return -1;
			}
		}
	} while (changed && ++guard < 100000);
	for (i = 0; i < t->n; i++)
		if (lo[i] > hi[i])
			return -1;
	return 0;
}

/*
 * Bounds: a hidden count is at least 1 (zero is never hidden, and a count
 * of zero is an absent row anyway; 0 in a withheld table) and at most the
 * total: the published one, or k - 1 when it is hidden (the total is
 * hidden only when small). Interval propagation; a primary count whose
 * interval closes on one value is disclosed.
 */
static size_t
bounds_attack(const struct tab *t, const struct eq *eqs, size_t ne,
    long *lo, long *hi, int *mark)
{
	size_t i, leaks = 0, tot = total_of(t);
	int wh = withheld(t);

	for (i = 0; i < t->n; i++) {
		if (!t->c[i].suppressed)
			lo[i] = hi[i] = t->orig[i];
		else {
			lo[i] = least(t, i, wh);
			hi[i] = t->c[tot].suppressed ? kk - 1 : t->orig[tot];
		}
	}
	ck_assert_int_eq(propagate(t, eqs, ne, lo, hi), 0);
	for (i = 0; i < t->n; i++) {
		ck_assert_msg(lo[i] <= t->orig[i] && t->orig[i] <= hi[i],
		    "unsound bounds: %ld not in [%ld, %ld]", t->orig[i], lo[i],
		    hi[i]);
		if (t->c[i].suppressed && lo[i] == hi[i])
			leaks += disclose(t, i, mark);
	}
	return leaks;
}

/*
 * The exact attack: is there another table of integers, each hidden count
 * within the bounds above, that publishes the same numbers but gives a
 * primary count another value? A search over the hidden full cells (the
 * margins and the total follow from them): propagate, split the smallest
 * open interval in two, again. A primary count with no other possible
 * value is disclosed, whatever arithmetic would find it. A search that
 * runs out of budget counts as inconclusive.
 */
static int
search(const struct tab *t, const struct eq *eqs, size_t ne, const long *lo0,
    const long *hi0, long *nodes)
{
	long *lo, *hi, mid;
	size_t i, v = MAXE;
	int found = 0, side;

	if (++*nodes > 200000)
		return 0;
	lo = malloc(sizeof(long) * t->n);
	hi = malloc(sizeof(long) * t->n);
	ck_assert(lo != NULL && hi != NULL);
	memcpy(lo, lo0, sizeof(long) * t->n);
	memcpy(hi, hi0, sizeof(long) * t->n);
	if (propagate(t, eqs, ne, lo, hi) == 0) {
		for (i = 0; i < t->n; i++)
			if (is_full_e(t, i) && lo[i] < hi[i] &&
			    (v == MAXE || hi[i] - lo[i] < hi[v] - lo[v]))
				v = i;
		if (v == MAXE)
			found = 1;	/* every cell has a value: a table */
		for (side = 0; !found && v != MAXE && side < 2; side++) {
			long l = lo[v], h = hi[v];

			mid = l + (h - l) / 2;
			if (side == 0)
				hi[v] = mid;
			else
				lo[v] = mid + 1;
			found = search(t, eqs, ne, lo, hi, nodes);
			lo[v] = l;
			hi[v] = h;
		}
	}
	free(lo);
	free(hi);
	return found;
}

/* lo, hi: from bounds_attack on the same table (sound, and they prune). */
static size_t
exact_attack(const struct tab *t, const struct eq *eqs, size_t ne,
    const long *lo, const long *hi, size_t *unknown, int *mark)
{
	static long l2[MAXE], h2[MAXE];
	size_t i, leaks = 0;
	long nodes;
	int other, side;

	for (i = 0; i < t->n; i++) {
		if (!t->primary[i] || !t->c[i].suppressed)
			continue;
		if (lo[i] == hi[i]) {
			/* bounds alone pin it */
			leaks += disclose(t, i, mark);
			continue;
		}
		nodes = 0;
		other = 0;
		for (side = 0; side < 2 && !other; side++) {
			memcpy(l2, lo, sizeof(long) * t->n);
			memcpy(h2, hi, sizeof(long) * t->n);
			if (side == 0)
				h2[i] = t->orig[i] - 1;
			else
				l2[i] = t->orig[i] + 1;
			if (l2[i] <= h2[i])
				other = search(t, eqs, ne, l2, h2, &nodes);
		}
		if (other)
			continue;
		if (nodes > 200000)
			(*unknown)++;
		else
			leaks += disclose(t, i, mark);
	}
	return leaks;
}

/*
 * The most an answer could hide: every cell it owns (with two dimensions,
 * the empty ones of values that occur too), its margins and total as the
 * other answers publish them. A count disclosed even then is given away by
 * what other answers publish and by which cells are listed, not by the
 * suppression: with one dimension, m categories of one case each and a
 * total of m >= k.
 */
static void
tab_hide_all(struct tab *dst, const struct tab *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < dst->n; i++)
		if (is_full_e(dst, i) && (dst->orig[i] > 0 || dst->ndims == 2))
			dst->c[i].suppressed = 1;
	/* not the empty cells of values that do not occur */
	if (dst->ndims == 2 && !withheld(dst))
		ck_abort_msg("tab_hide_all: not withheld");
}

/*
 * The one limit known: a one-way answer (the table itself, or the margins
 * of one dimension of a two-way one) whose every non-zero count is 1. Its
 * m listed categories and its total (published, or hidden and so at most
 * k - 1) give each count away when the total can only be m, whatever is
 * hidden; only listing fewer categories would help. Returns 1 when t holds
 * such an answer and inh (what the attacks disclose when t hides all it
 * may) marks one of its counts.
 */
static int
all_ones(const struct tab *t, const int *inh)
{
	size_t p, j;
	int ones, hit;

	for (j = 0; j < t->ndims; j++) {
		ones = 1;
		hit = 0;
		for (p = 0; p < t->n; p++)
			if (t->ndims == 1 ? is_full_e(t, p) :
			    is_margin_e(t, p, j)) {
				ones &= t->orig[p] <= 1;
				hit |= inh[p];
			}
		if (ones && hit)
			return 1;
	}
	return 0;
}

struct attack_counts {
	size_t one_unknown, iterated, linear, bounds, exact, inconclusive;
	size_t inherent;	/* disclosed whatever this answer hides */
	size_t avoidable;	/* disclosed, not inherent */
};

static struct tab tab_max;

/* Every attack on one table, then on the most it could hide. */
static void
attack_table(const struct tab *t, struct attack_counts *a)
{
	static long lo[MAXE], hi[MAXE];
	static int mark[MAXE], inh[MAXE];
	size_t ne = equations(t, eqs_buf, MAXEQ), i, unknown = 0;
	int ones;

	memset(a, 0, sizeof(*a));
	memset(mark, 0, sizeof(mark));
	memset(inh, 0, sizeof(inh));
	a->one_unknown = one_unknown_equations(t, eqs_buf, ne);
	a->iterated = iterated_attack(t, eqs_buf, ne, mark);
	a->linear = linear_attack(t, eqs_buf, ne, mark);
	a->bounds = bounds_attack(t, eqs_buf, ne, lo, hi, mark);
	a->exact = exact_attack(t, eqs_buf, ne, lo, hi, &a->inconclusive,
	    mark);
	if (a->iterated + a->linear + a->bounds + a->exact == 0)
		return;
	tab_hide_all(&tab_max, t);
	(void)linear_attack(&tab_max, eqs_buf, ne, inh);
	(void)bounds_attack(&tab_max, eqs_buf, ne, lo, hi, inh);
	(void)exact_attack(&tab_max, eqs_buf, ne, lo, hi, &unknown, inh);
	ones = all_ones(t, inh);
	for (i = 0; i < t->n; i++) {
		a->inherent += (size_t)(mark[i] && inh[i] && ones);
		a->avoidable += (size_t)(mark[i] && !(inh[i] && ones));
	}
}

/* ======================================================= hand-built tables */

static void
one_d(struct tab *t, const long *counts, size_t n)
{
	struct base b;
	int dims[1] = { 0 };
	size_t i;

	memset(&b, 0, sizeof(b));
	b.sz[0] = (int)n;
	b.sz[1] = 1;
	for (i = 0; i < n; i++)
		b.x[i][0] = counts[i];
	tab_build(t, &b, dims, 1);
	tab_suppress(t);
}

static void
two_d(struct tab *t, struct base *b, const long *x, int rows, int cols)
{
	int dims[2] = { 0, 1 }, r, c;

	memset(b, 0, sizeof(*b));
	b->sz[0] = rows;
	b->sz[1] = cols;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			b->x[r][c] = x[r * cols + c];
	tab_build(t, b, dims, 2);
	tab_suppress(t);
}

/* Every attack on one table; 0 when nothing is disclosed. */
static size_t
all_attacks(const struct tab *t, char *why, size_t len)
{
	struct attack_counts a;

	attack_table(t, &a);
	snprintf(why, len,
	    "one-unknown equations %zu, iterated %zu, linear %zu, bounds "
	    "%zu, exact %zu (inconclusive %zu)", a.one_unknown, a.iterated,
	    a.linear, a.bounds, a.exact, a.inconclusive);
	return a.one_unknown + a.iterated + a.linear + a.bounds + a.exact +
	    a.inconclusive;
}

static struct tab tab_a;
static struct base base_a;

START_TEST(test_1d_known_table)
{
	static const long counts[] = { 10, 4, 8 };
	struct tab *t = &tab_a;
	size_t tot;
	char why[256];

	one_d(t, counts, 3);
	tot = total_of(t);
	ck_assert_int_eq(t->c[tot].count, 22);
	/* 4 is hidden; the total equation would give it back: 8 goes too */
	ck_assert_int_eq(t->c[0].suppressed, 0);
	ck_assert_int_eq(t->c[1].suppressed, 1);
	ck_assert_int_eq(t->c[2].suppressed, 1);
	ck_assert_int_eq(t->c[tot].suppressed, 0);
	/* counts are left as they were: the flag says what is published */
	ck_assert_int_eq(t->c[1].count, 4);
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

/* k-1 is hidden, k is shown, 0 is never hidden, in a 1-D table. */
static const struct {
	long count;
	int hidden;
} boundary[] = {
	{ 0, 0 }, { 1, 1 }, { 2, 1 }, { K - 1, 1 }, { K, 0 }, { K + 1, 0 },
	{ 100, 0 },
};

START_TEST(test_k_boundary)
{
	/* the cell under test, then two big ones to balance with */
	long counts[3] = { boundary[_i].count, 50, 60 };
	struct tab *t = &tab_a;

	one_d(t, counts, 3);
	ck_assert_msg(t->c[0].suppressed == boundary[_i].hidden,
	    "count %ld (k = %d): suppressed %d, want %d", boundary[_i].count,
	    K, t->c[0].suppressed, boundary[_i].hidden);
	/* a hidden cell always brings a second one with it */
	ck_assert_int_eq(t->c[1].suppressed, boundary[_i].hidden);
	ck_assert_int_eq(t->c[2].suppressed, 0);
}
END_TEST

/*
 * Issue 8, HTCDS review: a zero is published only in an answer that hides
 * no count. Published beside hidden counts, zeros say each hidden category
 * holds a case (ML = 31 shown, BF and NE hidden, every other country 0:
 * BF + NE = 12 with BF, NE >= 1). So a one-way answer that hides a count
 * hides every empty category too, never as a complement of its own.
 */
START_TEST(test_zero_never_hidden)
{
	static const long none[] = { 0, 30, 0, 9, 7, 0 };
	static const long counts[] = { 0, 3, 0, 9, 7, 0 };
	static const long all[] = { 0, 3, 0, 9, 0 };
	struct tab *t = &tab_a;
	size_t i;
	char why[256];

	/* nothing small: zeros published like every count */
	one_d(t, none, 6);
	for (i = 0; i < t->n; i++)
		ck_assert_int_eq(t->c[i].suppressed, 0);
	/* a small count: hidden with a complement, and every zero hidden */
	one_d(t, counts, 6);
	for (i = 0; i < 6; i++)
		if (counts[i] == 0)
			ck_assert_int_eq(t->c[i].suppressed, 1);
	ck_assert_int_eq(t->c[1].suppressed, 1);
	ck_assert_int_eq(t->c[4].suppressed, 1);
	ck_assert_int_eq(t->c[3].suppressed, 0);
	ck_assert(withheld(t));
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
	/* and when every non-empty category is hidden, the same */
	one_d(t, all, 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(t->c[i].suppressed, 1);
	ck_assert(withheld(t));
	/* an all-zero table: nothing hidden, total 0 */
	{
		static const long z[] = { 0, 0 };

		one_d(t, z, 2);
		for (i = 0; i < t->n; i++)
			ck_assert_int_eq(t->c[i].suppressed, 0);
	}
	/* the total alone (no dimension) is a table too */
	{
		struct stats_cell c = { { NULL, NULL }, 3, 0, 0, 0 };

		stats_suppress(&c, 1, 0, K);
		ck_assert_int_eq(c.suppressed, 1);
		c.count = 0;
		stats_suppress(&c, 1, 0, K);
		ck_assert_int_eq(c.suppressed, 0);
		c.count = K;
		stats_suppress(&c, 1, 0, K);
		ck_assert_int_eq(c.suppressed, 0);
	}
}
END_TEST

/*
 * A small margin: row a2 holds 1 + 2 = 3. The margin is hidden like a
 * cell, and the row margins' equation (total = sum of them) takes a second
 * one; the columns lose partners for the two small cells.
 */
START_TEST(test_2d_small_margin)
{
	static const long x[9] = { 20, 9, 12, 8, 15, 11, 1, 2, 0 };
	struct tab *t = &tab_a;
	size_t i, hidden_rows = 0;
	char why[256];

	two_d(t, &base_a, x, 3, 3);
	for (i = 0; i < t->n; i++) {
		if (t->primary[i])
			ck_assert_msg(t->c[i].suppressed, "entry %zu", i);
		if (t->orig[i] == 0)
			ck_assert_msg(!t->c[i].suppressed, "zero %zu", i);
		if (is_margin_e(t, i, 0) && t->c[i].suppressed)
			hidden_rows++;
	}
	ck_assert_uint_ge(hidden_rows, 2);
	ck_assert_int_eq(t->c[total_of(t)].suppressed, 0);
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

/*
 * Two counts of 1 and a published total: both are hidden, no equation has
 * one unknown, but total - published = 2 over two hidden cells, each at
 * least 1, would give both back. The big cell is hidden too.
 */
START_TEST(test_1d_two_ones_are_not_pinned_by_bounds)
{
	static const long counts[] = { 10, 1, 1 };
	struct tab *t = &tab_a;
	long lo[MAXE], hi[MAXE];
	size_t ne, leaks;

	one_d(t, counts, 3);
	ne = equations(t, eqs_buf, MAXEQ);
	ck_assert_int_eq(t->c[1].suppressed, 1);
	ck_assert_int_eq(t->c[2].suppressed, 1);
	ck_assert_int_eq(t->c[0].suppressed, 1);
	ck_assert_int_eq(t->c[total_of(t)].suppressed, 0);
	ck_assert_uint_eq(one_unknown_equations(t, eqs_buf, ne), 0);
	leaks = bounds_attack(t, eqs_buf, ne, lo, hi, NULL);
	ck_assert_msg(leaks == 0,
	    "counts {10, 1, 1}: the hidden cells are in [%ld, %ld] and "
	    "[%ld, %ld]: %zu primary count(s) disclosed exactly", lo[1], hi[1],
	    lo[2], hi[2], leaks);
}
END_TEST

/*
 * The security review's attack (issue 8): one year, 31 Malian women
 * 18-24 in Bamako (forced labour), 11 Nigerien men 35-49 in Kayes (sexual
 * exploitation), 1 Burkinabe woman in Gao (forced begging). The answer by
 * nationality used to publish ML = 31, hide BF and NE, and list every
 * other country as 0 under a total of 43: BF + NE = 12, each at least 1;
 * the HTCDS export (k = 11) carries the 11 Nigerien rows, so NE >= 11 and
 * BF = 1. The same by region (gao), and by form of exploitation
 * (forced_begging). Now: every empty category is hidden with the hidden
 * counts, so a hidden count may be 0; the export's per-value counts are
 * given to the suppression as lower bounds (lb); and the attacker (exact
 * over one equation with intervals: each hidden count between its bound
 * and the hidden sum) pins no hidden count, and finds at least two
 * categories that could hold the one victim.
 */
static const struct {
	const char *big, *mid, *one;	/* 31 (export 31), 11 (export 11), 1 */
	size_t ncat;			/* categories of the dimension */
} htcds_attack[] = {
	{ "ML", "NE", "BF", 250 },		/* nationality */
	{ "bamako", "kayes", "gao", 21 },	/* region */
	{ "forced_labour", "sexual_exploitation", "forced_begging", 12 },
};

START_TEST(test_htcds_export_and_one_way_answer_pin_nothing)
{
	static struct stats_cell c[300];
	static char name[300][24];
	size_t n = 0, i, y, tot, places = 0;
	long h, lo[300], sumlo = 0, sumhi = 0, xmin, xmax;
	int bounds;

	for (bounds = 0; bounds < 2; bounds++) {
		memset(c, 0, sizeof(c));
		n = 0;
		c[n].vals[0] = htcds_attack[_i].big;
		c[n].count = 31;
		c[n++].lb = bounds ? 31 : 0;
		c[n].vals[0] = htcds_attack[_i].mid;
		c[n].count = 11;
		c[n++].lb = bounds ? 11 : 0;
		c[n].vals[0] = htcds_attack[_i].one;
		c[n++].count = 1;
		for (i = 3; i < htcds_attack[_i].ncat; i++) {
			snprintf(name[i], sizeof(name[i]), "c%03zu", i);
			c[n++].vals[0] = name[i];
		}
		tot = n;
		c[n++].count = 43;	/* the total, no dimension set */
		stats_suppress(c, n, 1, K);
		/* published: the total and ML; hidden: BF, NE (its complement)
		 * and every empty category */
		ck_assert_int_eq(c[tot].suppressed, 0);
		ck_assert_int_eq(c[0].suppressed, 0);
		ck_assert_int_eq(c[1].suppressed, 1);
		ck_assert_int_eq(c[2].suppressed, 1);
		for (i = 3; i < tot; i++)
			ck_assert_msg(c[i].suppressed, "%s: empty category %zu "
			    "published beside hidden counts",
			    htcds_attack[_i].one, i);
		/* the attacker: hidden sum h; each hidden count in
		 * [max(0, export), h] (no published zero: it may be 0) */
		h = c[tot].count;
		for (i = 0; i < tot; i++)
			if (!c[i].suppressed)
				h -= c[i].count;
		sumlo = sumhi = 0;
		for (i = 0; i < tot; i++)
			if (c[i].suppressed) {
				lo[i] = c[i].lb;
				sumlo += lo[i];
				sumhi += h;
			}
		ck_assert_int_eq(h, 12);
		places = 0;
		for (i = 0; i < tot; i++) {
			if (!c[i].suppressed)
				continue;
			xmin = h - (sumhi - h);
			xmin = xmin > lo[i] ? xmin : lo[i];
			xmax = h - (sumlo - lo[i]);
			ck_assert_msg(xmin < xmax, "%s: hidden category %zu "
			    "(%ld) pinned to %ld", htcds_attack[_i].one, i,
			    c[i].count, xmin);
			/* could it hold the victim the bounds leave over? */
			places += xmax > lo[i];
		}
		/* the victim left over (h - sum of bounds = 1) could be in
		 * any hidden category: NE's 12th, BF, or an empty one */
		ck_assert_uint_ge(places, 3);
		for (y = 0; y < tot; y++)
			ck_assert_int_eq(c[y].count, y == 0 ? 31 : y == 1 ?
			    11 : y == 2 ? 1 : 0);
	}
}
END_TEST

/*
 * The export's bounds in a two-way answer (sex by age band, no margin
 * small, so the cells are suppressed one by one and a hidden cell is at
 * least 1): the export's rows of a (sex, age band) pair are a lower bound
 * on its cell. A complement whose export count is its whole count adds
 * nothing, so the suppression must not count on it. Exhaustive attacker:
 * every completion of the hidden cells within [max(1, lb), margin] that
 * keeps every row and column sum; the small cell must have two values.
 */
START_TEST(test_htcds_bounds_in_a_two_way_answer)
{
	static const char *const sx[2] = { "female", "male" };
	static const char *const ag[3] = { "18-24", "25-34", "35-49" };
	static const long x[2][3] = { { 20, 2, 18 }, { 10, 9, 12 } };
	struct stats_cell c[12];
	long lo[6], hi[6], v[6], row[2] = { 0, 0 }, col[3] = { 0, 0, 0 };
	long seen_lo = -1, seen_hi = -1, r[2], q[3];
	size_t n = 0, i, j, hid[6], nh = 0, t;
	int ok;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++) {
			c[n].vals[0] = sx[i];
			c[n].vals[1] = ag[j];
			c[n].count = x[i][j];
			/* the export: the pairs of 11 rows or more */
			c[n].lb = x[i][j] >= 11 ? x[i][j] : 0;
			row[i] += x[i][j];
			col[j] += x[i][j];
			n++;
		}
	for (i = 0; i < 2; i++) {
		c[n].vals[0] = sx[i];
		c[n].lb = row[i];
		c[n++].count = row[i];
	}
	for (j = 0; j < 3; j++) {
		c[n].vals[1] = ag[j];
		c[n].lb = col[j];
		c[n++].count = col[j];
	}
	c[n++].count = row[0] + row[1];
	stats_suppress(c, n, 2, K);
	ck_assert_int_eq(c[1].suppressed, 1);	/* (female, 25-34) = 2 */
	for (i = 6; i < n; i++)
		ck_assert_int_eq(c[i].suppressed, 0);	/* margins */
	for (i = 0; i < 6; i++)
		if (c[i].suppressed) {
			hid[nh] = i;
			lo[nh] = c[i].lb > 1 ? c[i].lb : 1;
			hi[nh] = row[i / 3] < col[i % 3] ? row[i / 3] :
			    col[i % 3];
			v[nh] = lo[nh];
			nh++;
		}
	ck_assert_uint_ge(nh, 2);
	/* every completion (odometer over the hidden cells) */
	for (;;) {
		for (i = 0; i < 2; i++)
			r[i] = 0;
		for (j = 0; j < 3; j++)
			q[j] = 0;
		for (i = 0; i < 6; i++) {
			long val = c[i].count;

			for (t = 0; t < nh; t++)
				if (hid[t] == i)
					val = v[t];
			r[i / 3] += val;
			q[i % 3] += val;
		}
		ok = r[0] == row[0] && r[1] == row[1];
		for (j = 0; j < 3; j++)
			ok &= q[j] == col[j];
		for (t = 0; ok && t < nh; t++)
			if (hid[t] == 1) {
				if (seen_lo < 0 || v[t] < seen_lo)
					seen_lo = v[t];
				if (v[t] > seen_hi)
					seen_hi = v[t];
			}
		for (t = 0; t < nh && ++v[t] > hi[t]; t++)
			v[t] = lo[t];
		if (t == nh)
			break;
	}
	ck_assert_int_le(seen_lo, 2);
	ck_assert_int_ge(seen_hi, 2);
	ck_assert_msg(seen_lo < seen_hi, "(female, 25-34) = 2 pinned with the "
	    "export's bounds");
}
END_TEST

/* A 2-D table with row and column margins and the total. */
START_TEST(test_2d_known_table)
{
	/*
	 *            b0  b1  b2 | margin
	 *      a0    20   3  15 |  38
	 *      a1    12  10   9 |  31
	 *  margin    32  13  24 |  69
	 */
	static const long x[6] = { 20, 3, 15, 12, 10, 9 };
	struct tab *t = &tab_a;
	size_t i;
	char why[256];

	two_d(t, &base_a, x, 2, 3);
	/* (a0, b1) = 3 hidden; no margin is small */
	ck_assert_int_eq(t->c[1].suppressed, 1);
	for (i = 0; i < t->n; i++)
		if (!is_full_e(t, i))
			ck_assert_msg(!t->c[i].suppressed, "margin %zu hidden",
			    i);
	/* its row and its column each lose another cell, and a fourth
	 * closes the rectangle: (a0, b2) 15 and (a1, b1) 10, then (a1, b2) */
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
	ck_assert_uint_eq(tab_hidden(t), 4);
	ck_assert_int_eq(t->c[2].suppressed, 1);
	ck_assert_int_eq(t->c[4].suppressed, 1);
	ck_assert_int_eq(t->c[5].suppressed, 1);
}
END_TEST

/*
 * Hidden cells in rows a0, a1 and columns b1, b2 can make a block whose sum
 * is known twice, with no equation of one hidden member:
 *
 *            b0  b1  b2  b3 | margin
 *      a0    11  *6  *5  *2 |  24       hidden sum of row a0: 24 - 11 = 13
 *      a1     9  *7 *10  10 |  36       hidden sum of row a1: 36 - 19 = 17
 *      a2    *3   7  10  *2 |  22       hidden sum of col b1: 20 - 7 = 13
 *      a3    *3   0  12  *6 |  21       hidden sum of col b2: 37 - 22 = 15
 *  margin    26  20  37  20 | 103
 *
 * (a0,b3) = (13 + 17) - (13 + 15) = 2. The server's own attacker finds
 * that and hides more.
 */
START_TEST(test_2d_hidden_block_gives_nothing_back)
{
	static const long x[16] = { 11, 6, 5, 2, 9, 7, 10, 10, 3, 7, 10, 2,
		3, 0, 12, 6 };
	struct tab *t = &tab_a;
	char why[256];

	two_d(t, &base_a, x, 4, 4);
	ck_assert_int_eq(t->c[3].suppressed, 1);	/* (a0, b3) = 2 */
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
}
END_TEST

/*
 * A row of ones: a0 = 1 + 1 + 1 + 0 = 3 is published at k = 3 (the answer
 * by a publishes it), and its three cells are all small. Hidden, each is
 * at least 1 and they sum to 3: one value each, whatever else is hidden.
 * Only not knowing which cell is empty helps: the answer is withheld,
 * (a0, b3) = 0 listed as hidden like the others.
 */
START_TEST(test_2d_row_of_ones_at_k_3)
{
	static const long x[8] = { 1, 1, 1, 0, 6, 7, 8, 9 };
	struct tab *t = &tab_a;
	char why[256];

	kk = 3;
	two_d(t, &base_a, x, 2, 4);
	ck_assert_int_eq(t->c[total_of(t)].suppressed, 0);
	ck_assert_int_eq(t->c[3].suppressed, 1);	/* (a0, b3) = 0 */
	ck_assert(withheld(t));
	ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0, "%s", why);
	kk = K;
}
END_TEST

/*
 * Issue 8 (b): k - 1 categories of one case each... at k = 3, three of one
 * case (and the total 3, which the answer without dimension publishes);
 * at k = 5 five, at k = 11 eleven; and one empty category. Every
 * non-empty cell hidden, each at least 1 and summing to the total, used to
 * give every one away (1 each) whatever else the answer hid. Every
 * category is listed now, so the answer hides the empty one too
 * (withheld): nothing says which hidden category is empty, every hidden
 * count lies between 0 and the total, and the attacker's arithmetic
 * (linear, bounds, exact search) discloses nothing. Also with counts of 2
 * (k = 5: 2, 2, 1 under a total of 5) and with no empty category at all.
 */
START_TEST(test_1d_small_categories_under_a_published_total)
{
	static const int ks[] = { 3, 5, 11 };
	struct attack_counts a;
	struct tab *t = &tab_a;
	long counts[MAXV];
	char why[256];
	size_t i, n, v;
	int k = ks[_i];

	kk = k;
	for (v = 0; v < 3; v++) {
		/* v 0: k ones and an empty one; v 1: the same with twos
		 * where they fit; v 2: k ones, nothing empty */
		n = 0;
		memset(counts, 0, sizeof(counts));
		for (i = 0; i < (size_t)k; i++)
			counts[n++] = 1;
		if (v == 1)
			for (i = 0; i + 1 < (size_t)k / 2; i++) {
				counts[i] = 2;
				counts[--n] = 0;
			}
		if (v < 2)
			counts[n++] = 0;
		one_d(t, counts, n);
		for (i = 0; i < n; i++)
			ck_assert_msg(t->c[i].suppressed, "k %d variant %zu: "
			    "category %zu (%ld) published", k, v, i,
			    counts[i]);
		ck_assert_int_eq(t->c[total_of(t)].suppressed, 0);
		ck_assert(withheld(t));
		attack_table(t, &a);
		ck_assert_uint_eq(a.inherent, 0);
		ck_assert_uint_eq(a.avoidable, 0);
		ck_assert_msg(all_attacks(t, why, sizeof(why)) == 0,
		    "k %d variant %zu: %s", k, v, why);
	}
	kk = K;
}
END_TEST

/*
 * A multi-valued dimension (a victim with two forms of exploitation counts
 * under both): the cells sum to more than the total, which is only a bound.
 * Small counts are hidden, with a complement, and the answer is not
 * withheld for failing to balance sums that do not balance.
 */
START_TEST(test_multi_valued_sums_are_bounds)
{
	/* March of the integration fixture, by exploitation type */
	static struct stats_cell one[] = {
		{ { "domestic_servitude", NULL }, 5, 0, 0, 0 },
		{ { "forced_begging", NULL }, 5, 0, 0, 0 },
		{ { "forced_labour", NULL }, 13, 0, 0, 0 },
		{ { "sexual_exploitation", NULL }, 3, 0, 0, 0 },
		{ { NULL, NULL }, 21, 0, 0, 0 },
	};
	/* and by sex, exploitation type */
	static struct stats_cell two[] = {
		{ { "female", "forced_labour" }, 7, 0, 0, 0 },
		{ { "female", "sexual_exploitation" }, 3, 0, 0, 0 },
		{ { "male", "domestic_servitude" }, 5, 0, 0, 0 },
		{ { "male", "forced_begging" }, 5, 0, 0, 0 },
		{ { "male", "forced_labour" }, 6, 0, 0, 0 },
		{ { "female", NULL }, 10, 0, 0, 0 },
		{ { "male", NULL }, 11, 0, 0, 0 },
		{ { NULL, "domestic_servitude" }, 5, 0, 0, 0 },
		{ { NULL, "forced_begging" }, 5, 0, 0, 0 },
		{ { NULL, "forced_labour" }, 13, 0, 0, 0 },
		{ { NULL, "sexual_exploitation" }, 3, 0, 0, 0 },
		{ { NULL, NULL }, 21, 0, 0, 0 },
	};
	size_t i, shown = 0;

	stats_suppress_multi(one, 5, 1, 1u, K);
	ck_assert_int_eq(one[3].suppressed, 1);
	ck_assert_int_eq(one[0].suppressed + one[1].suppressed, 1);
	ck_assert_int_eq(one[2].suppressed, 0);
	ck_assert_int_eq(one[4].suppressed, 0);
	stats_suppress_multi(two, 12, 2, 2u, K);
	for (i = 0; i < 12; i++) {
		if (two[i].count < K)
			ck_assert_msg(two[i].suppressed, "entry %zu", i);
		shown += !two[i].suppressed;
		/* the margins as the one-way answers have them */
		if (i >= 7 && i < 11)
			ck_assert_int_eq(two[i].suppressed,
			    one[i - 7].suppressed);
	}
	ck_assert_uint_ge(shown, 6);
}
END_TEST

/*
 * Answers agree: the answer by a,b publishes or hides each margin exactly
 * as the answer by a publishes or hides that count, and the total as the
 * answer without dimension.
 */
START_TEST(test_margins_as_the_one_dimension_answers)
{
	static const long x[12] = { 1, 9, 12, 0, 2, 30, 8, 7, 1, 1, 1, 1 };
	static const int da[1] = { 0 }, db[1] = { 1 }, none[1] = { 0 };
	static struct tab ta, tb, t0;
	struct tab *t = &tab_a;
	size_t i, j;

	two_d(t, &base_a, x, 3, 4);
	tab_build(&ta, &base_a, da, 1);
	tab_suppress(&ta);
	tab_build(&tb, &base_a, db, 1);
	tab_suppress(&tb);
	tab_build(&t0, &base_a, none, 0);
	tab_suppress(&t0);
	for (i = 0; i < t->n; i++) {
		if (is_margin_e(t, i, 0))
			for (j = 0; j < ta.n; j++)
				if (ta.v[j][0] == t->v[i][0])
					ck_assert_int_eq(t->c[i].suppressed,
					    ta.c[j].suppressed);
		if (is_margin_e(t, i, 1))
			for (j = 0; j < tb.n; j++)
				if (tb.v[j][0] == t->v[i][1])
					ck_assert_int_eq(t->c[i].suppressed,
					    tb.c[j].suppressed);
		if (is_total_e(t, i)) {
			ck_assert_int_eq(t->c[i].suppressed,
			    ta.c[total_of(&ta)].suppressed);
			ck_assert_int_eq(t->c[i].suppressed,
			    tb.c[total_of(&tb)].suppressed);
			ck_assert_int_eq(t->c[i].suppressed,
			    t0.c[total_of(&t0)].suppressed);
		}
		ck_assert_int_eq(t->c[i].locked, !is_full_e(t, i));
	}
}
END_TEST

/* ========================================================== random tables */

static unsigned long long rng_state;

static unsigned int
rng(unsigned int n)
{
	/* xorshift64*: fixed seed, the same tables every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned int)(((rng_state * 2685821657736338717ULL) >> 33) %
	    n);
}

/*
 * Distributions of the counts: 0..12 uniformly; skewed (a quarter zeros,
 * many 1s and 2s, some up to 12); sparse ones (mostly 0, 1 and 2, now and
 * then a big cell of 20 to 40).
 */
enum dist { UNIFORM, SKEWED, ONES, NDIST };

static const char *const dist_name[NDIST] = { "counts 0..12",
	"skewed (many 1s and 2s)", "sparse 0/1/2, a few 20..40" };

static long
draw(enum dist d)
{
	unsigned int r;

	switch (d) {
	case UNIFORM:
		return (long)rng(13);
	case SKEWED:
		r = rng(20);
		return r < 5 ? 0 : r < 11 ? 1 : r < 15 ? 2 : r < 17 ? 3 :
		    4 + (long)rng(9);
	default:
		r = rng(20);
		return r < 7 ? 0 : r < 14 ? 1 : r < 18 ? 2 : 20 + (long)rng(21);
	}
}

static void
random_base(struct base *b, size_t nd, enum dist d)
{
	int i, j;

	memset(b, 0, sizeof(*b));
	b->sz[0] = (int)(2 + rng(nd == 1 ? 5 : 3));
	b->sz[1] = nd == 1 ? 1 : (int)(2 + rng(3));
	for (i = 0; i < b->sz[0]; i++)
		for (j = 0; j < b->sz[1]; j++)
			b->x[i][j] = draw(d);
}

#define NTABLES 400

struct tally {
	size_t tables, primary, entries, hidden, nonzero, withheld;
	size_t one_unknown, iterated, linear, bounds, exact, inconclusive;
	size_t inherent, avoidable, t_inherent, t_avoidable;
	size_t linked, inconsistent, t_linked;
};

/* A configuration of the random runs: k, distribution, dimensions. */
static const int cfg_k[] = { 3, 5, 11 };
#define NCFG (3 * NDIST * 2)

static void
cfg_of(int i, int *k, enum dist *d, size_t *nd)
{
	*k = cfg_k[i / (NDIST * 2)];
	*d = (enum dist)(i / 2 % NDIST);
	*nd = (size_t)(1 + i % 2);
}

/*
 * Linked tables: the analyst asks the same period by a,b, by a, by b and
 * by nothing. Each answer is suppressed on its own; the attacker puts
 * every published count of every answer together. Unknowns: the finest
 * cells (base); every published count is the sum of the finest cells it
 * covers, an absent or zero count included. A primary count of any answer
 * that is a linear combination of the published ones is disclosed. Also
 * counted: a figure one answer hides and another publishes.
 */
static struct tab linked[4];

static void
cover(const struct base *b, const struct tab *t, size_t i, double *q)
{
	int r, c, cc[2];
	size_t d;

	memset(q, 0, sizeof(double) * (size_t)(b->sz[0] * b->sz[1]));
	for (r = 0; r < b->sz[0]; r++)
		for (c = 0; c < b->sz[1]; c++) {
			int ok = 1;

			cc[0] = r;
			cc[1] = c;
			for (d = 0; d < t->ndims; d++)
				if (t->v[i][d] >= 0 &&
				    t->v[i][d] != cc[t->dim[d]])
					ok = 0;
			if (ok)
				q[r * b->sz[1] + c] = 1;
		}
}

static size_t
linked_attack(const struct base *b, size_t *inconsistent)
{
	static const int sets[4][2] = { { 0, 1 }, { 0, -1 }, { 1, -1 },
		{ -1, -1 } };
	static const size_t len[4] = { 2, 1, 1, 0 };
	static double q[MAXC];
	size_t ti, tj, i, j, d, ncell, leaks = 0;
	double value;

	ncell = (size_t)(b->sz[0] * b->sz[1]);
	mat_init(&mat_a, ncell);
	for (ti = 0; ti < 4; ti++) {
		tab_build(&linked[ti], b, sets[ti], len[ti]);
		tab_suppress(&linked[ti]);
	}
	for (ti = 0; ti < 4; ti++)
		for (i = 0; i < linked[ti].n; i++)
			if (!linked[ti].c[i].suppressed) {
				double *r = mat_row(&mat_a);

				cover(b, &linked[ti], i, r);
				r[ncell] = (double)linked[ti].c[i].count;
			}
	rref(&mat_a);
	for (ti = 0; ti < 4; ti++)
		for (i = 0; i < linked[ti].n; i++) {
			if (!linked[ti].primary[i])
				continue;
			cover(b, &linked[ti], i, q);
			if (!solve(&mat_a, q, &value))
				continue;
			ck_assert_msg(fabs(value - (double)linked[ti].orig[i]) <
				1e-6,
			    "attacker computed %g for %ld", value,
			    linked[ti].orig[i]);
			leaks++;
		}
	/* the same figure (same cells covered) hidden here, shown there */
	for (ti = 0; ti < 4; ti++)
		for (tj = 0; tj < 4; tj++)
			for (i = 0; i < linked[ti].n; i++)
				for (j = 0; j < linked[tj].n; j++) {
					int same = 1;
					int want[2] = { -1, -1 }, got[2] = { -1,
						-1 };

					if (!linked[ti].c[i].suppressed ||
					    linked[tj].c[j].suppressed)
						continue;
					for (d = 0; d < linked[ti].ndims; d++)
						want[linked[ti].dim[d]] =
						    linked[ti].v[i][d];
					for (d = 0; d < linked[tj].ndims; d++)
						got[linked[tj].dim[d]] =
						    linked[tj].v[j][d];
					for (d = 0; d < 2; d++)
						same &= want[d] == got[d];
					*inconsistent += (size_t)same;
				}
	return leaks;
}

static struct tab tab_r;
static struct base base_r;

static void
random_run(int cfg, struct tally *s)
{
	static const int dims2[2] = { 0, 1 };
	struct attack_counts a;
	size_t n, i, l, nd;
	enum dist d;
	int k;

	cfg_of(cfg, &k, &d, &nd);
	kk = k;
	memset(s, 0, sizeof(*s));
	rng_state = 0x9E3779B97F4A7C15ULL ^ (unsigned long long)(cfg + 1);
	for (n = 0; n < NTABLES; n++) {
		random_base(&base_r, nd, d);
		tab_build(&tab_r, &base_r, dims2, nd);
		tab_suppress(&tab_r);
		s->tables++;
		for (i = 0; i < tab_r.n; i++) {
			s->primary += (size_t)tab_r.primary[i];
			s->entries++;
			s->nonzero += tab_r.orig[i] > 0;
			s->hidden += (size_t)(tab_r.c[i].suppressed && tab_r.orig[i] > 0);
			/* every primary count is hidden, a zero only when
			 * the answer is withheld */
			ck_assert(!tab_r.primary[i] || tab_r.c[i].suppressed);
			ck_assert(tab_r.orig[i] > 0 || !tab_r.c[i].suppressed ||
			    withheld(&tab_r));
			ck_assert_int_eq(tab_r.c[i].count, tab_r.orig[i]);
		}
		attack_table(&tab_r, &a);
		s->withheld += (size_t)withheld(&tab_r);
		s->one_unknown += a.one_unknown;
		s->iterated += a.iterated;
		s->linear += a.linear;
		s->bounds += a.bounds;
		s->exact += a.exact;
		s->inconclusive += a.inconclusive;
		s->inherent += a.inherent;
		s->t_inherent += a.inherent > 0;
		s->avoidable += a.avoidable;
		s->t_avoidable += a.avoidable > 0;
		if (nd == 2) {
			l = linked_attack(&base_r, &s->inconsistent);
			s->linked += l;
			s->t_linked += l > 0;
		}
	}
	kk = K;
	fprintf(stderr,
	    "test_stats: k=%-2d %zu-D %-27s %zu tables, %zu primary, %.1f%% "
	    "of non-zero entries hidden, %zu withheld. Disclosed: iterated "
	    "%zu, linear %zu, bounds %zu, exact %zu (%zu inconclusive); of "
	    "those %zu avoidable, %zu inherent (%zu tables); equations with "
	    "one hidden member %zu; linked %zu, figures hidden/published %zu\n",
	    k, nd, dist_name[d], s->tables, s->primary,
	    s->nonzero ? 100.0 * (double)s->hidden / (double)s->nonzero : 0.0,
	    s->withheld, s->iterated, s->linear, s->bounds, s->exact,
	    s->inconclusive, s->avoidable, s->inherent, s->t_inherent,
	    s->one_unknown, s->linked, s->inconsistent);
}

/*
 * Every attack on random tables: one configuration (k, distribution,
 * dimensions) per run, a line of figures on stderr for each.
 */
START_TEST(test_random_tables_resist_every_attack)
{
	struct tally s;
	size_t nd;
	enum dist d;
	int k;

	cfg_of(_i, &k, &d, &nd);
	random_run(_i, &s);
	ck_assert_uint_eq(s.tables, NTABLES);
	ck_assert_msg(s.primary > 0, "no primary cell: a useless test");
	ck_assert_msg(s.one_unknown == 0,
	    "k=%d %zu-D %s: %zu equations with exactly one hidden member", k,
	    nd, dist_name[d], s.one_unknown);
	ck_assert_msg(s.avoidable == 0,
	    "k=%d %zu-D %s: %zu primary counts disclosed in %zu tables that "
	    "more hiding would protect (iterated %zu, linear %zu, bounds %zu, "
	    "exact %zu)", k, nd, dist_name[d], s.avoidable, s.t_avoidable,
	    s.iterated, s.linear, s.bounds, s.exact);
	ck_assert_msg(s.inconclusive == 0,
	    "k=%d %zu-D %s: %zu exact searches inconclusive", k, nd,
	    dist_name[d], s.inconclusive);
	ck_assert_msg(s.linked == 0,
	    "k=%d %s: linked answers a,b + a + b + total: %zu primary counts "
	    "in %zu data sets", k, dist_name[d], s.linked, s.t_linked);
	ck_assert_msg(s.inconsistent == 0,
	    "k=%d %s: %zu figures hidden in one answer, published in another",
	    k, dist_name[d], s.inconsistent);
}
END_TEST

/*
 * One concrete linked case, written out: by a hides a0 = 3 and, as its
 * complement, a1 = 20. By a,b must hide them too, and must not publish the
 * whole of row a1 (10 + 10 would give a1, then a0 = 23 - 20).
 */
START_TEST(test_linked_example_2d_then_1d)
{
	static const long x[4] = { 1, 2, 10, 10 };
	size_t leaks, bad = 0;

	memset(&base_a, 0, sizeof(base_a));
	base_a.sz[0] = base_a.sz[1] = 2;
	memcpy(&base_a.x[0][0], x, 2 * sizeof(long));
	memcpy(&base_a.x[1][0], x + 2, 2 * sizeof(long));
	leaks = linked_attack(&base_a, &bad);
	ck_assert_int_eq(linked[1].c[0].suppressed, 1);	/* a0 = 3 */
	ck_assert_int_eq(linked[1].c[1].suppressed, 1);	/* a1 = 20 */
	ck_assert_uint_eq(bad, 0);
	ck_assert_msg(leaks == 0,
	    "by a,b + by a + by b + total: %zu primary counts computable",
	    leaks);
}
END_TEST

/* ============================================================ determinism */

/*
 * The same counts give the same flags, whatever the order of the rows and
 * without the empty cells PostgreSQL does not return (every margin is
 * there: stats_run lists every category, as 0 when empty).
 */
START_TEST(test_same_flags_without_zeros_in_any_order)
{
	static const int dims2[2] = { 0, 1 };
	static struct stats_cell c[MAXE];
	static size_t from[MAXE];
	size_t i, m, j, r;
	int run;

	rng_state = 0xA0761D6478BD642FULL;
	for (run = 0; run < 200; run++) {
		random_base(&base_r, 2, run % 2 ? SKEWED : UNIFORM);
		tab_build(&tab_r, &base_r, dims2, 2);
		tab_suppress(&tab_r);
		for (i = 0, m = 0; i < tab_r.n; i++)
			if (tab_r.orig[i] > 0 || !is_full_e(&tab_r, i)) {
				from[m] = i;
				c[m] = tab_r.c[i];
				c[m].suppressed = !c[m].suppressed;
				c[m].locked = 1;	/* to be reset */
				m++;
			}
		/* shuffle */
		for (i = m; i > 1; i--) {
			struct stats_cell tc;
			size_t tf;

			r = rng((unsigned int)i);
			tc = c[i - 1];
			c[i - 1] = c[r];
			c[r] = tc;
			tf = from[i - 1];
			from[i - 1] = from[r];
			from[r] = tf;
		}
		stats_suppress(c, m, 2, K);
		for (j = 0; j < m; j++)
			ck_assert_msg(c[j].suppressed ==
				tab_r.c[from[j]].suppressed,
			    "run %d: entry %zu differs once shuffled", run,
			    from[j]);
	}
}
END_TEST

/* ================================================================= time */

/*
 * The largest realistic answer: 20 regions by 9 forms of exploitation, a
 * month of a busy year, with counts 0..29, skewed (many 1s and 2s) or
 * sparse; as single-valued sums (the exact test runs) and as a
 * multi-valued dimension (bounds only). Must be quick, and safe.
 */
START_TEST(test_large_table_time)
{
	static const int dims2[2] = { 0, 1 };
	struct attack_counts a;
	struct timespec t0, t1;
	double ms, worst = 0, sum = 0;
	size_t hidden = 0, nonzero = 0, i, leaks = 0;
	int run, r, c, runs = 60;

	rng_state = 0x2545F4914F6CDD1DULL;
	for (run = 0; run < runs; run++) {
		memset(&base_r, 0, sizeof(base_r));
		base_r.sz[0] = 20;
		base_r.sz[1] = 9;
		for (r = 0; r < 20; r++)
			for (c = 0; c < 9; c++)
				base_r.x[r][c] = run % 3 == 0 ?
				    (long)rng(30) : draw(run % 3 == 1 ?
				    SKEWED : ONES);
		tab_build(&tab_r, &base_r, dims2, 2);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (run % 2)
			stats_suppress_multi(tab_r.c, tab_r.n, 2, 2u, kk);
		else
			tab_suppress(&tab_r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		sum += ms;
		if (ms > worst)
			worst = ms;
		for (i = 0; i < tab_r.n; i++) {
			hidden += tab_r.c[i].suppressed ? 1 : 0;
			nonzero += tab_r.orig[i] > 0;
		}
		if (run % 2 == 0) {
			/* the sums are exact: so is the attacker */
			attack_table(&tab_r, &a);
			leaks += a.one_unknown + a.avoidable + a.inconclusive;
		}
	}
	fprintf(stderr,
	    "test_stats: 20 x 9 tables (210 entries), %d runs: "
	    "stats_suppress %.2f ms on average, %.2f ms at worst; %.1f%% of "
	    "non-zero entries hidden; %zu disclosed\n",
	    runs, sum / runs, worst, 100.0 * (double)hidden /
	    (double)nonzero, leaks);
	ck_assert_uint_eq(leaks, 0);
	ck_assert_msg(worst < 2000, "stats_suppress took %.0f ms", worst);
}
END_TEST

/* ======================================================== period and by */

START_TEST(test_query_widens_to_whole_years)
{
	static const char *const within[][2] = {
		{ "2026-02-10", "2026-02-20" }, { "2026-01-01", "2026-01-31" },
		{ "2026-01-01", "2026-02-28" }, { "2026-02-01", "2026-12-31" },
		{ "2026-12-31", "2026-12-31" }, { "2026-05-11", "2026-05-21" },
	};
	struct stats_query q;
	const char *field = "x";
	size_t i;

	memset(&q, 0, sizeof(q));
	/* any period within a year is the whole year, and says so */
	for (i = 0; i < sizeof(within) / sizeof(within[0]); i++) {
		ck_assert_int_eq(stats_query_parse(&q, within[i][0],
		    within[i][1], NULL, &field), PA_OK);
		ck_assert_ptr_null(field);
		ck_assert_str_eq(q.from, "2026-01-01");
		ck_assert_str_eq(q.to, "2026-12-31");
		ck_assert_int_eq(q.widened, 1);
		ck_assert_int_eq(q.multi_year, 0);
		ck_assert_uint_eq(q.ndims, 0);
	}
	/* Jan and Jan-Feb, the differencing attack: one population */
	{
		struct stats_query q2;

		memset(&q2, 0, sizeof(q2));
		ck_assert_int_eq(stats_query_parse(&q, "2026-01-01",
		    "2026-01-31", NULL, &field), PA_OK);
		ck_assert_int_eq(stats_query_parse(&q2, "2026-01-01",
		    "2026-02-28", NULL, &field), PA_OK);
		ck_assert_str_eq(q.from, q2.from);
		ck_assert_str_eq(q.to, q2.to);
	}
	/* the whole year already: not widened; leap years change nothing */
	ck_assert_int_eq(stats_query_parse(&q, "2028-01-01", "2028-12-31",
	    "", &field), PA_OK);
	ck_assert_str_eq(q.from, "2028-01-01");
	ck_assert_str_eq(q.to, "2028-12-31");
	ck_assert_int_eq(q.widened, 0);
	ck_assert_int_eq(stats_query_parse(&q, "2028-02-29", "2028-02-29",
	    NULL, &field), PA_OK);
	ck_assert_str_eq(q.to, "2028-12-31");
	ck_assert_int_eq(q.widened, 1);

	/* two years or more: refused, naming "to", saying why */
	ck_assert_int_eq(stats_query_parse(&q, "2025-12-15", "2026-01-03",
	    NULL, &field), PA_INVALID);
	ck_assert_str_eq(field, "to");
	ck_assert_int_eq(q.multi_year, 1);
	ck_assert_int_eq(stats_query_parse(&q, "2025-01-01", "2026-12-31",
	    "sex", &field), PA_INVALID);
	ck_assert_str_eq(field, "to");
	ck_assert_int_eq(q.multi_year, 1);
	/* a bad date is not a second year */
	ck_assert_int_eq(stats_query_parse(&q, "2026-03-01", "2026-02-01",
	    NULL, &field), PA_INVALID);
	ck_assert_int_eq(q.multi_year, 0);
}
END_TEST

static const struct {
	const char *from, *to, *by, *field;
} bad_queries[] = {
	{ "2026-03-01", "2026-02-01", NULL, "to" },	/* from > to */
	{ "2026-02-20", "2026-02-10", NULL, "to" },	/* same month */
	{ "2025-12-31", "2026-01-01", NULL, "to" },	/* two years */
	{ NULL, "2026-02-10", NULL, "from" },
	{ "2026-02-10", NULL, NULL, "to" },
	{ "", "2026-02-10", NULL, "from" },
	{ "2026-02-30", "2026-03-10", NULL, "from" },
	{ "2026-13-01", "2026-12-10", NULL, "from" },
	{ "2026-1-10", "2026-02-10", NULL, "from" },
	{ "2026/01/10", "2026-02-10", NULL, "from" },
	{ "2026-01-10", "2026-02-10T00:00", NULL, "to" },
	{ "2027-02-29", "2027-03-01", NULL, "from" },	/* not a leap year */
	{ "1899-12-01", "2026-01-01", NULL, "from" },
	{ "2020-01-01", "2026-12-31", NULL, "to" },	/* seven years */
	{ "2026-01-10", "2026-02-1x", NULL, "to" },
	{ "2026-01-10", "2026-02-10", "name", "by" },	/* unknown */
	{ "2026-01-10", "2026-02-10", "given_name", "by" },
	{ "2026-01-10", "2026-02-10", "sex;region", "by" },
	{ "2026-01-10", "2026-02-10", "Sex", "by" },
	{ "2026-01-10", "2026-02-10", "sex,sex", "by" },	/* repeated */
	{ "2026-01-10", "2026-02-10", "sex,region,sex", "by" },
	/* two dimensions at most: a three-way table's cells sum to the
	 * two-way margins other answers publish */
	{ "2026-01-10", "2026-02-10", "sex,age_band,region", "by" },
	{ "2026-01-10", "2026-02-10", "region,sex,age_band", "by" },
	{ "2026-01-10", "2026-02-10", "sex,age_band,region,stage", "by" },
	{ "2026-01-10", "2026-02-10",
	    "sex,age_band,region,stage,nationality", "by" },
};

START_TEST(test_query_refuses)
{
	struct stats_query q;
	const char *field = NULL;
	enum pa_err rc;

	memset(&q, 0, sizeof(q));
	rc = stats_query_parse(&q, bad_queries[_i].from, bad_queries[_i].to,
	    bad_queries[_i].by, &field);
	ck_assert_msg(rc == PA_INVALID,
	    "from %s to %s by %s: accepted (%d)",
	    bad_queries[_i].from ? bad_queries[_i].from : "(null)",
	    bad_queries[_i].to ? bad_queries[_i].to : "(null)",
	    bad_queries[_i].by ? bad_queries[_i].by : "(null)", (int)rc);
	ck_assert_ptr_nonnull(field);
	ck_assert_str_eq(field, bad_queries[_i].field);
}
END_TEST

START_TEST(test_query_dimensions)
{
	static const char *const all[] = { "sex", "age_band", "nationality",
		"region", "stage", "justice_status", "identifying_kind",
		"child", "year", "month", "exploitation_type",
		"referral_service" };
	struct stats_query q;
	const char *field = NULL;
	char by[128], big[300];
	size_t i;

	memset(&q, 0, sizeof(q));
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_msg(stats_dim_valid(all[i]), "%s", all[i]);
		ck_assert_int_eq(stats_query_parse(&q, "2026-01-01",
		    "2026-01-31", all[i], &field), PA_OK);
		ck_assert_uint_eq(q.ndims, 1);
		ck_assert_str_eq(q.dims[0], all[i]);
	}
	ck_assert(stats_dim_multi("exploitation_type"));
	ck_assert(stats_dim_multi("referral_service"));
	ck_assert(!stats_dim_multi("sex"));
	ck_assert(!stats_dim_valid("given_name"));
	ck_assert(!stats_dim_valid(NULL));
	ck_assert(!stats_dim_valid(""));

	/* two, in one order whatever the order given (so that "a,b" and
	 * "b,a" are one table); the names outlive the request's text */
	snprintf(by, sizeof(by), "%s", "region,sex");
	ck_assert_int_eq(stats_query_parse(&q, "2026-01-01", "2026-01-31",
	    by, &field), PA_OK);
	memset(by, 'x', sizeof(by) - 1);
	by[sizeof(by) - 1] = '\0';
	ck_assert_uint_eq(q.ndims, 2);
	ck_assert_str_eq(q.dims[0], "sex");
	ck_assert_str_eq(q.dims[1], "region");
	ck_assert_int_eq(stats_query_parse(&q, "2026-01-01", "2026-01-31",
	    "sex,region", &field), PA_OK);
	ck_assert_str_eq(q.dims[0], "sex");
	ck_assert_str_eq(q.dims[1], "region");

	/* three: refused, naming "by" */
	field = NULL;
	ck_assert_int_eq(stats_query_parse(&q, "2026-01-01", "2026-01-31",
	    "region,sex,age_band", &field), PA_INVALID);
	ck_assert_ptr_nonnull(field);
	ck_assert_str_eq(field, "by");

	/* too long a list */
	memset(big, 0, sizeof(big));
	for (i = 0; strlen(big) + 5 < sizeof(big); i++)
		strcat(big, "sex,");
	ck_assert_int_eq(stats_query_parse(&q, "2026-01-01", "2026-01-31",
	    big, &field), PA_INVALID);
	ck_assert_str_eq(field, "by");
}
END_TEST

/* ================================================================= CSV */

static const struct {
	const char *in, *out;
} csv_cells[] = {
	{ "=1+1", "'=1+1" },
	{ "+x", "'+x" },
	{ "-x", "'-x" },
	{ "@x", "'@x" },
	{ "\tx", "'\tx" },
	{ "=HYPERLINK(\"http://x\",\"y\")",
	    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "=1,2", "\"'=1,2\"" },
	{ "a,b", "\"a,b\"" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
	{ "\"", "\"\"\"\"" },
	{ "two\nlines", "\"two\nlines\"" },
	{ "cr\rhere", "\"cr\rhere\"" },
	{ "female", "female" },
	{ "18-24", "18-24" },
	{ "a=b", "a=b" },
	{ "x+", "x+" },
	{ "Ségou", "Ségou" },
	{ "", "" },
	{ "42", "42" },
};

START_TEST(test_csv_cell)
{
	char out[256];

	memset(out, 'Z', sizeof(out));
	stats_csv_cell(csv_cells[_i].in, out, sizeof(out));
	ck_assert_str_eq(out, csv_cells[_i].out);
}
END_TEST

/* A small buffer is never overrun and always ends the text. */
START_TEST(test_csv_cell_small_buffers)
{
	static const char *const in[] = { "=\"\"\"\"\"\"\"\"\"\"",
		"abcdefghijklmnopqrstuvwxyz", "a,b,c,d,e,f,g", "\"\"\"\"" };
	char buf[64];
	size_t i, len;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (len = 1; len < 16; len++) {
			memset(buf, 'Z', sizeof(buf));
			stats_csv_cell(in[i], buf, len);
			ck_assert_msg(memchr(buf, '\0', len) != NULL,
			    "%s in %zu bytes: not terminated", in[i], len);
			ck_assert_int_eq(buf[len], 'Z');
		}
}
END_TEST

static json_t *
sample_answer(void)
{
	return json_pack("{s:i, s:{s:s, s:s, s:b}, s:[s, s], s:[], "
			 "s:[{s:s, s:s, s:i}, {s:s, s:s, s:n, s:b}, "
			 "{s:s, s:s, s:i}], s:{}, s:s, s:s, s:s}",
	    "k", 5, "period", "from", "2026-01-01", "to", "2026-12-31",
	    "widened", 1, "dimensions", "sex", "region", "multi_valued",
	    "cells",
	    "sex", "female", "region", "bamako", "count", 7,
	    "sex", "male", "region", "gao", "count", "suppressed", 1,
	    "sex", "=cmd|' /C calc'!A0", "region", "a,\"b\"", "count", 12,
	    "totals", "generated_at", "2026-03-02T10:00:00Z", "scope",
	    "country", "as_of", "2026-03-01 00:00:00+00");
}

/* The CSV's lines: each must end with CRLF, no bare LF or CR. */
static size_t
csv_lines(const char *text, size_t len, char lines[][256], size_t max)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i < len; i++) {
		if (text[i] == '\r') {
			ck_assert_msg(i + 1 < len && text[i + 1] == '\n',
			    "bare CR at %zu", i);
			ck_assert_uint_lt(n, max);
			snprintf(lines[n++], 256, "%.*s", (int)(i - start),
			    text + start);
			i++;
			start = i + 1;
		} else
			ck_assert_msg(text[i] != '\n', "bare LF at %zu", i);
	}
	ck_assert_msg(start == len, "the last line has no CRLF");
	return n;
}

START_TEST(test_csv_text_french_and_english)
{
	json_t *st = sample_answer();
	char lines[8][256];
	char *fr, *en;
	size_t lf = 0, le = 0, n;

	ck_assert_ptr_nonnull(st);
	fr = stats_csv(st, 0, &lf);
	en = stats_csv(st, 1, &le);
	ck_assert_ptr_nonnull(fr);
	ck_assert_ptr_nonnull(en);
	ck_assert_uint_eq(strlen(fr), lf);

	n = csv_lines(fr, lf, lines, 8);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(lines[0], "sex,region,effectif,masque,periode_debut,"
				   "periode_fin,periode_elargie,k,genere_le,"
				   "donnees_au");
	ck_assert_str_eq(lines[1], "female,bamako,7,0,2026-01-01,2026-12-31,1,"
				   "5,2026-03-02T10:00:00Z,"
				   "2026-03-01 00:00:00+00");
	/* a suppressed count is empty, and flagged */
	ck_assert_str_eq(lines[2], "male,gao,,1,2026-01-01,2026-12-31,1,5,"
				   "2026-03-02T10:00:00Z,"
				   "2026-03-01 00:00:00+00");
	/* neutralised and quoted */
	ck_assert_str_eq(lines[3], "'=cmd|' /C calc'!A0,\"a,\"\"b\"\"\",12,0,"
				   "2026-01-01,2026-12-31,1,5,"
				   "2026-03-02T10:00:00Z,"
				   "2026-03-01 00:00:00+00");

	n = csv_lines(en, le, lines, 8);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(lines[0], "sex,region,count,suppressed,period_from,"
				   "period_to,period_widened,k,generated_at,"
				   "as_of");
	ck_assert_str_eq(lines[2], "male,gao,,1,2026-01-01,2026-12-31,1,5,"
				   "2026-03-02T10:00:00Z,"
				   "2026-03-01 00:00:00+00");
	ck_assert_msg(strcmp(fr, en) != 0, "same text in both languages");
	free(fr);
	free(en);
	json_decref(st);
}
END_TEST

/* An answer without dimensions or cells: the header alone. */
START_TEST(test_csv_text_empty)
{
	json_t *st = json_pack("{s:i, s:{s:s, s:s, s:b}, s:[], s:[], s:[], "
			       "s:{}, s:s}",
	    "k", 5, "period", "from", "2026-02-01", "to", "2026-02-28",
	    "widened", 0, "dimensions", "multi_valued", "cells", "totals",
	    "generated_at", "2026-03-02T10:00:00Z");
	char lines[4][256];
	size_t len = 0;
	char *text = stats_csv(st, 1, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(csv_lines(text, len, lines, 4), 1);
	ck_assert_str_eq(lines[0],
	    "count,suppressed,period_from,period_to,period_widened,k,"
	    "generated_at,as_of");
	free(text);
	json_decref(st);
}
END_TEST

/* ================================================================ suite */

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc;

	tc = tcase_create("suppression");
	tcase_add_test(tc, test_1d_known_table);
	tcase_add_loop_test(tc, test_k_boundary, 0,
	    (int)(sizeof(boundary) / sizeof(boundary[0])));
	tcase_add_test(tc, test_zero_never_hidden);
	tcase_add_test(tc, test_htcds_bounds_in_a_two_way_answer);
	tcase_add_loop_test(tc, test_htcds_export_and_one_way_answer_pin_nothing,
	    0, (int)(sizeof(htcds_attack) / sizeof(htcds_attack[0])));
	tcase_add_test(tc, test_2d_known_table);
	tcase_add_test(tc, test_2d_small_margin);
	tcase_add_test(tc, test_1d_two_ones_are_not_pinned_by_bounds);
	tcase_add_test(tc, test_2d_hidden_block_gives_nothing_back);
	tcase_add_test(tc, test_2d_row_of_ones_at_k_3);
	tcase_add_loop_test(tc, test_1d_small_categories_under_a_published_total, 0, 3);
	tcase_add_test(tc, test_multi_valued_sums_are_bounds);
	tcase_add_test(tc, test_margins_as_the_one_dimension_answers);
	tcase_add_test(tc, test_same_flags_without_zeros_in_any_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("attacker");
	tcase_set_timeout(tc, 300);
	/* _i: k (3, 5, 11) x distribution x dimensions (1, 2) */
	tcase_add_loop_test(tc, test_random_tables_resist_every_attack, 0,
	    NCFG);
	tcase_add_test(tc, test_linked_example_2d_then_1d);
	tcase_add_test(tc, test_large_table_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_test(tc, test_query_widens_to_whole_years);
	tcase_add_loop_test(tc, test_query_refuses, 0,
	    (int)(sizeof(bad_queries) / sizeof(bad_queries[0])));
	tcase_add_test(tc, test_query_dimensions);
	suite_add_tcase(s, tc);

	tc = tcase_create("csv");
	tcase_add_loop_test(tc, test_csv_cell, 0,
	    (int)(sizeof(csv_cells) / sizeof(csv_cells[0])));
	tcase_add_test(tc, test_csv_cell_small_buffers);
	tcase_add_test(tc, test_csv_text_french_and_english);
	tcase_add_test(tc, test_csv_text_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	names_init();
	sr = srunner_create(stats_suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
