/*
 * Statistics, indicators and exports against a real server and a real
 * PostgreSQL with the demo data: known cases in (created through the API by
 * a police desk and an NGO), exact counts out; small counts suppressed at
 * k-1 and shown at k; complementary suppression checked with an attacker's
 * arithmetic (linear algebra over every published count of one answer, then
 * of several answers on the same period, the answer without dimension
 * included); two dimensions at most; periods widened to whole calendar
 * years, two years refused, so that nested periods (Jan, Jan-Feb) cannot be
 * subtracted; every category of a one-way answer listed, the empty ones
 * hidden with the rest when every other is hidden;
 * a supervisor limited to the cases their organisation leads; exports in
 * CSV (both languages, RFC 4180, formulas neutralised), JSON and XLSX, none
 * holding any identity, each audited; indicators against hand-computed
 * values on referrals with known times.
 *
 * One server and one fixture for the whole suite (an unchecked fixture):
 *   2025-03  21 cases (police 12, NGO 9), for counts and attacks
 *   2024-04   7 police cases referred to the Gao shelter, known times
 *   2023-05  13 police cases (4 female, 9 male), for the k boundary
 *   2022-01/02  12 police cases, for nested periods (Jan vs Jan-Feb)
 * Each in a year of its own: every answer covers one calendar year.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "world.h"

/* ======================================================================
 * Helpers of this suite (the shared ones are in world.h).
 */

#define K 5

/* Finds needle (len bytes) in hay (haylen bytes). */
static const void *
memfind(const void *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || n > haylen)
		return NULL;
	return memmem(hay, haylen, needle, n);
}

/* ======================================================================
 * The fixture.
 */

/* Cases made alike, n at a time, by lead ("police" or "ngo"). */
struct group {
	const char *month;	/* identification month */
	const char *lead;
	const char *sex, *age_band, *region;
	const char *types[2];
	int n;
	int age;		/* age_estimate, or -1: dob instead */
	const char *dob;
	const char *date;	/* identification date */
};

#define M1_FROM "2025-03-01"
#define M1_TO "2025-03-31"
/* what a request for March answers: the whole year */
#define Y1_FROM "2025-01-01"
#define Y1_TO "2025-12-31"

static const struct group groups[] = {
	{ "2025-03", "police", "female", "18-24", "bamako",
	    { "forced_labour", NULL }, 7, -1, "2005-06-17", "2025-03-05" },
	{ "2025-03", "police", "male", "25-34", "gao",
	    { "forced_begging", "domestic_servitude" }, 5, 30, NULL,
	    "2025-03-12" },
	{ "2025-03", "ngo", "female", "12-17", "mopti",
	    { "sexual_exploitation", NULL }, 3, 15, NULL, "2025-03-20" },
	{ "2025-03", "ngo", "male", "35-49", "kayes", { "forced_labour", NULL },
	    6, 40, NULL, "2025-03-25" },
	/* the referral fixture */
	{ "2024-04", "police", "male", "25-34", "segou",
	    { "forced_labour", NULL }, 7, 28, NULL, "2024-04-06" },
	/* the k boundary: one more female is added by the test */
	{ "2023-05", "police", "female", "25-34", "sikasso",
	    { "forced_labour", NULL }, 4, 27, NULL, "2023-05-14" },
	{ "2023-05", "police", "male", "25-34", "sikasso",
	    { "forced_labour", NULL }, 9, 27, NULL, "2023-05-14" },
	/*
	 * Nested periods: by region, January publishes bamako 5 (and kayes
	 * 6); January-February, with one case in gao in February, hides
	 * gao and bamako, whose sum is 6. Months as periods, bamako would
	 * be at least January's 5 and gao at least 1: both given away.
	 */
	{ "2022-01", "police", "male", "25-34", "bamako",
	    { "forced_labour", NULL }, 5, 30, NULL, "2022-01-10" },
	{ "2022-01", "police", "male", "25-34", "kayes",
	    { "forced_labour", NULL }, 6, 30, NULL, "2022-01-12" },
	{ "2022-02", "police", "female", "18-24", "gao",
	    { "forced_labour", NULL }, 1, 20, NULL, "2022-02-10" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* Identity in the fixture: none of it may reach an export. */
#define ID_FAMILY "Quorvathel"
#define ID_GIVEN "Nadiatoune"
#define ID_PHONE "+223 70 00 12"
#define ID_DOB "2005-06-17"
#define ID_PLACE "Marche-de-Quorvath"

static struct env st;
static struct sess s_pagent, s_nagent, s_pchef, s_nchef, s_analyst, s_admin,
    s_refuge, s_auditor;
static char police_org[40], ngo_org[40], gao_org[40];
static char case_ids[64][40], case_refs[64][40];
static size_t ncases;
static char m4_cases[8][40], m4_refs[8][40];
static size_t nm4;

static void
create_case(const struct group *g, const struct sess *s, size_t i, char *id,
    char *ref)
{
	char given[64], phone[32];
	json_t *body, *types = json_array();
	struct res x;
	size_t t;

	snprintf(given, sizeof(given), "%s-%zu", ID_GIVEN, i);
	snprintf(phone, sizeof(phone), "%s %02zu", ID_PHONE, i % 100);
	for (t = 0; t < 2 && g->types[t] != NULL; t++)
		json_array_append_new(types, json_string(g->types[t]));
	body = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:o, "
			 "s:s}}",
	    "victim", "given_name", given, "family_name", ID_FAMILY, "sex",
	    g->sex, "phone", phone, "identification", "date", g->date,
	    "region", g->region, "place", ID_PLACE, "exploitation_types",
	    types, "narrative", "Récit de " ID_GIVEN " " ID_FAMILY);
	ck_assert_ptr_nonnull(body);
	if (g->dob != NULL)
		json_object_set_new(json_object_get(body, "victim"),
		    "date_of_birth", json_string(g->dob));
	else
		json_object_set_new(json_object_get(body, "victim"),
		    "age_estimate", json_integer(g->age));
	x = callj(&st.srv, s, "POST", "/api/v1/cases", body);
	EXPECT(x, 201, "create a fixture case");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	snprintf(ref, 40, "%s", jstr(x.j, "reference"));
	res_free(&x);
}

static void
org_of(const char *username, char out[40])
{
	sqlv(st.db, "SELECT organisation_id FROM users WHERE username = $1",
	    username, NULL, out, 40);
	ck_assert_msg(out[0] != '\0', "no user %s", username);
}

/* Referral times of the 2024-04 fixture, in hours after creation; -1:
 * still pending. The first four are accepted, the next two declined. */
static const int answer_hours[7] = { 1, 2, 3, 4, 10, 20, -1 };
static const char *const decline_reasons[2] = { "no_capacity",
	"security_risk" };

static void
referral_fixture(void)
{
	char path[512], cid[40], rid[40], sql[512];
	struct res x;
	size_t i;

	for (i = 0; i < nm4; i++) {
		snprintf(path, sizeof(path), "/api/v1/cases/%s/consents",
		    m4_cases[i]);
		x = callj(&st.srv, &s_pagent, "POST", path,
		    json_pack("{s:s, s:s, s:s}", "scope", "assistance",
			"given_by", "victim", "date", "2024-04-06"));
		EXPECT(x, 201, "consent");
		snprintf(cid, sizeof(cid), "%s", jstr(x.j, "id"));
		res_free(&x);
		snprintf(path, sizeof(path), "/api/v1/cases/%s/referrals",
		    m4_cases[i]);
		x = callj(&st.srv, &s_pagent, "POST", path,
		    json_pack("{s:s, s:s, s:s, s:s}", "to_organisation_id",
			gao_org, "service", "shelter", "urgency", "urgent",
			"consent_id", cid));
		EXPECT(x, 201, "referral to the Gao shelter");
		snprintf(rid, sizeof(rid), "%s", jstr(x.j, "id"));
		res_free(&x);
		if (answer_hours[i] >= 0) {
			snprintf(path, sizeof(path), "/api/v1/referrals/%s/%s",
			    rid, i < 4 ? "accept" : "decline");
			if (i < 4)
				x = call(&st.srv, &s_refuge, "POST", path,
				    "{}");
			else
				x = callj(&st.srv, &s_refuge, "POST", path,
				    json_pack("{s:s}", "reason",
					decline_reasons[i - 4]));
			EXPECT(x, 200, "answer the referral");
			res_free(&x);
		}
		/* known times: created 2024-04-06 08:00 UTC, 4 h to answer */
		if (answer_hours[i] >= 0)
			snprintf(sql, sizeof(sql),
			    "UPDATE referrals SET created_at = "
			    "'2024-04-06 08:00:00+00', respond_by = "
			    "'2024-04-06 12:00:00+00', answered_at = "
			    "'2024-04-06 08:00:00+00'::timestamptz + "
			    "interval '%d hours' WHERE id = '%s'",
			    answer_hours[i], rid);
		else
			snprintf(sql, sizeof(sql),
			    "UPDATE referrals SET created_at = "
			    "'2024-04-06 08:00:00+00', respond_by = "
			    "'2024-04-06 12:00:00+00' WHERE id = '%s'", rid);
		ck_assert_int_eq(harness_exec(st.db, sql), 0);
	}
}

static void
st_setup(void)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *seed[] = { "seed", "--demo", NULL };
	const char *extra[] = { NULL, FAST_OPS, FAST_MEM,
		"PASSERELLE_STATS_K=5", NULL };
	const char *env[5];
	char out[8192], keyv[300], dbv[1200];
	size_t gi, i;
	int rc;

	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(harness_tmpdir(st.dir, sizeof(st.dir)), 0);
	snprintf(st.key, sizeof(st.key), "%s/master.key", st.dir);
	keygen[2] = st.key;
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	st.db = harness_db_create();
	ck_assert_msg(st.db != NULL, "cannot create a database");
	snprintf(keyv, sizeof(keyv), "PASSERELLE_KEY_FILE=%s", st.key);
	extra[0] = keyv;
	ck_assert_msg(harness_server_start(&st.srv, st.db, extra) == 0,
	    "cannot start the server");
	snprintf(dbv, sizeof(dbv), "PASSERELLE_DATABASE_URL=%s", st.db);
	env[0] = dbv;
	env[1] = keyv;
	env[2] = FAST_OPS;
	env[3] = FAST_MEM;
	env[4] = NULL;
	rc = harness_run(env, seed, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --demo exited %d: %s", rc, out);

	org_of("police.agent", police_org);
	org_of("ong.agent", ngo_org);
	org_of("refuge.gao", gao_org);
	login_ok(&st.srv, "police.agent", &s_pagent);
	login_ok(&st.srv, "ong.agent", &s_nagent);
	login_ok(&st.srv, "police.chef", &s_pchef);
	login_ok(&st.srv, "ong.chef", &s_nchef);
	login_ok(&st.srv, "comite.analyste", &s_analyst);
	login_ok(&st.srv, "comite.audit", &s_auditor);
	login_ok(&st.srv, "admin", &s_admin);
	login_ok(&st.srv, "refuge.gao", &s_refuge);

	for (gi = 0; gi < NGROUPS; gi++)
		for (i = 0; i < (size_t)groups[gi].n; i++) {
			const struct sess *s = strcmp(groups[gi].lead,
			    "police") == 0 ? &s_pagent : &s_nagent;

			ck_assert_uint_lt(ncases, 64);
			create_case(&groups[gi], s, ncases, case_ids[ncases],
			    case_refs[ncases]);
			if (strcmp(groups[gi].month, "2024-04") == 0) {
				snprintf(m4_cases[nm4], 40, "%s",
				    case_ids[ncases]);
				snprintf(m4_refs[nm4], 40, "%s",
				    case_refs[ncases]);
				nm4++;
			}
			ncases++;
		}
	ck_assert_uint_eq(nm4, 7);
	referral_fixture();
}

static void
st_teardown(void)
{
	if (st.srv.pid > 0)
		(void)harness_server_stop(&st.srv);
	harness_db_drop(st.db);
	st.db = NULL;
	if (st.dir[0] != '\0')
		harness_rmtree(st.dir);
	st.dir[0] = '\0';
}

/* ======================================================================
 * Truth: what the fixture says an entry of an answer must count.
 */

/* Does group g match dim = value? */
static int
g_match(const struct group *g, const char *dim, const char *value)
{
	size_t t;

	if (strcmp(dim, "sex") == 0)
		return strcmp(g->sex, value) == 0;
	if (strcmp(dim, "age_band") == 0)
		return strcmp(g->age_band, value) == 0;
	if (strcmp(dim, "region") == 0)
		return strcmp(g->region, value) == 0;
	if (strcmp(dim, "month") == 0)
		return strcmp(g->month, value) == 0;
	if (strcmp(dim, "quarter") == 0) {
		char q[32];

		snprintf(q, sizeof(q), "%.4s-Q%d", g->month,
		    (atoi(g->month + 5) + 2) / 3 % 10);
		return strcmp(q, value) == 0;
	}
	if (strcmp(dim, "child") == 0)
		return strcmp(strcmp(g->age_band, "12-17") == 0 ? "child" :
		    "adult", value) == 0;
	if (strcmp(dim, "identifying_kind") == 0)
		return strcmp(g->lead, value) == 0;
	if (strcmp(dim, "referral_service") == 0)
		return strcmp(strcmp(g->month, "2024-04") == 0 ? "shelter" :
		    "none", value) == 0;
	if (strcmp(dim, "exploitation_type") == 0) {
		for (t = 0; t < 2 && g->types[t] != NULL; t++)
			if (strcmp(g->types[t], value) == 0)
				return 1;
		return 0;
	}
	ck_abort_msg("no truth for dimension %s", dim);
	return 0;
}

/* extra_female: cases added by the k-boundary test (2023-05, female). */
static int extra_female;

/*
 * Cases of month's year (an answer covers one calendar year), and lead
 * (NULL: all), matching every dim set in entry.
 */
static long
truth(json_t *dims, json_t *entry, const char *month, const char *lead)
{
	size_t gi, j;
	json_t *d;
	long n = 0;

	for (gi = 0; gi < NGROUPS; gi++) {
		const struct group *g = &groups[gi];
		int ok = strncmp(g->month, month, 4) == 0 &&
		    (lead == NULL || strcmp(g->lead, lead) == 0);

		json_array_foreach(dims, j, d) {
			const char *v = json_string_value(json_object_get(entry,
			    json_string_value(d)));

			if (v != NULL && !g_match(g, json_string_value(d), v))
				ok = 0;
		}
		if (ok)
			n += g->n + (strcmp(g->month, "2023-05") == 0 &&
			    strcmp(g->sex, "female") == 0 ? extra_female : 0);
	}
	return n;
}

/* Every entry of an answer: its cells, margins and total. */
#define MAXENT 512

static size_t
entries(json_t *ans, json_t **out, size_t max)
{
	json_t *totals = json_object_get(ans, "totals"), *e, *arr;
	const char *key;
	size_t n = 0, i;

	json_array_foreach(json_object_get(ans, "cells"), i, e) {
		ck_assert_uint_lt(n, max);
		out[n++] = e;
	}
	json_object_foreach(totals, key, arr) {
		if (strcmp(key, "all") == 0)
			continue;
		json_array_foreach(arr, i, e) {
			ck_assert_uint_lt(n, max);
			out[n++] = e;
		}
	}
	ck_assert_msg(json_is_object(json_object_get(totals, "all")),
	    "no totals.all");
	ck_assert_uint_lt(n, max);
	out[n++] = json_object_get(totals, "all");
	return n;
}

static const char *
entry_text(json_t *e, char *buf, size_t len)
{
	char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);

	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
	return buf;
}

/*
 * A two-way answer that could protect its small counts no other way hides
 * every cell, and lists the empty ones of values that occur as hidden too,
 * so that none is known to be at least 1.
 */
static int
withheld(json_t *ans)
{
	json_t *e;
	size_t i;

	if (json_array_size(json_object_get(ans, "dimensions")) != 2 ||
	    json_array_size(json_object_get(ans, "cells")) == 0)
		return 0;
	json_array_foreach(json_object_get(ans, "cells"), i, e)
		if (!json_is_null(json_object_get(e, "count")))
			return 0;
	return 1;
}

/* 1 when every entry of arr is hidden (a withheld one-way list). */
static int
all_hidden(json_t *arr)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (!json_is_null(json_object_get(e, "count")))
			return 0;
	return json_array_size(arr) > 0;
}

/* 1 when some entry of arr is hidden. */
static int
any_hidden(json_t *arr)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (json_is_null(json_object_get(e, "count")))
			return 1;
	return 0;
}

/* The list an entry sits in: a one-way list (cells or margins) or not. */
static json_t *
one_way_list(json_t *ans, json_t *entry)
{
	json_t *dims = json_object_get(ans, "dimensions"), *d;
	size_t j;

	if (json_array_size(dims) == 1)
		return json_object_get(ans, "cells");
	json_array_foreach(dims, j, d) {
		json_t *other = json_array_get(dims, 1 - j);

		if (json_object_get(entry, json_string_value(d)) != NULL &&
		    json_object_get(entry, json_string_value(other)) == NULL)
			return json_object_get(json_object_get(ans, "totals"),
			    json_string_value(d));
	}
	return NULL;
}

/*
 * Known cases in, exact counts out: every published count equals the
 * fixture's, every count from 1 to k-1 is hidden, a hidden count is never
 * 0 but in a withheld answer (a two-way answer's cells) or in a one-way
 * list (cells or margins) that hides a count: such a list hides every
 * empty category too, and never publishes a 0 beside a hidden count
 * (issue 8, the HTCDS review: published zeros say the hidden ones hold a
 * case). A one-way list names
 * every category of its dimension, empty ones included; a two-way cell is
 * listed exactly when the fixture has such cases (or, withheld, when both
 * its values occur or may). Returns how many entries are hidden.
 */
static size_t
check_truth(json_t *ans, const char *month, const char *lead)
{
	json_t *dims = json_object_get(ans, "dimensions"), *e, *ents[MAXENT];
	size_t n = entries(ans, ents, MAXENT), i, hidden = 0;
	size_t ncells = json_array_size(json_object_get(ans, "cells"));
	int wh = withheld(ans);
	char buf[256];

	ck_assert_int_eq(json_integer_value(json_object_get(ans, "k")), K);
	for (i = 0; i < n; i++) {
		long want = truth(dims, ents[i], month, lead);
		json_t *c = json_object_get(ents[i], "count");

		e = json_object_get(ents[i], "suppressed");
		if (json_is_null(c)) {
			hidden++;
			ck_assert_msg(json_is_true(e),
			    "count null without suppressed: %s",
			    entry_text(ents[i], buf, sizeof(buf)));
			ck_assert_msg(want >= 1 || (wh && i < ncells) ||
			    all_hidden(one_way_list(ans, ents[i])) ||
			    any_hidden(one_way_list(ans, ents[i])),
			    "a hidden entry whose count is %ld: %s", want,
			    entry_text(ents[i], buf, sizeof(buf)));
		} else {
			ck_assert_msg(json_is_integer(c), "count: %s",
			    entry_text(ents[i], buf, sizeof(buf)));
			ck_assert_msg(e == NULL || json_is_false(e),
			    "published and suppressed: %s",
			    entry_text(ents[i], buf, sizeof(buf)));
			ck_assert_msg(json_integer_value(c) == want,
			    "%s: published %lld, the fixture has %ld",
			    entry_text(ents[i], buf, sizeof(buf)),
			    (long long)json_integer_value(c), want);
			ck_assert_msg(want == 0 || want >= K,
			    "count %ld below k = %d published: %s", want, K,
			    entry_text(ents[i], buf, sizeof(buf)));
			ck_assert_msg(want != 0 || !any_hidden(one_way_list(
			    ans, ents[i])),
			    "an empty category published beside a hidden "
			    "count: %s", entry_text(ents[i], buf, sizeof(buf)));
		}
		/* listed entries are never empty, but the total may be, the
		 * categories of a one-way list, and the hidden cells of a
		 * withheld answer */
		ck_assert_msg(want > 0 || i == n - 1 || (wh && i < ncells) ||
		    one_way_list(ans, ents[i]) != NULL,
		    "an empty entry listed: %s",
		    entry_text(ents[i], buf, sizeof(buf)));
	}
	return hidden;
}

/* ======================================================================
 * The attacker: linear algebra over published counts.
 */

#define MAXC 640
#define MAXR 1200
#define EPS 1e-7

struct mat {
	size_t ncols, nrows;
	double r[MAXR][MAXC + 1];
	int piv[MAXR];
};

static struct mat mat_a;

static double *
mat_row(struct mat *m)
{
	ck_assert_uint_lt(m->nrows, MAXR);
	memset(m->r[m->nrows], 0, sizeof(m->r[0]));
	return m->r[m->nrows++];
}

static void
rref(struct mat *m)
{
	size_t rank = 0, col, i, best, w = m->ncols + 1;
	double f, tmp[MAXC + 1];

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
	for (i = rank; i < m->nrows; i++)
		ck_assert_msg(fabs(m->r[i][m->ncols]) < 1e-6,
		    "published counts contradict each other");
	m->nrows = rank;
}

static int
solve(const struct mat *m, const double *q0, double *value)
{
	double q[MAXC];
	size_t i, c;

	memcpy(q, q0, sizeof(q));
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

/* The finest cells of the dimensions of a set of answers. */
struct space {
	size_t nd;
	char dim[3][24];
	size_t nv[3];
	char val[3][32][32];
	size_t ncols;
};

static int
dim_index(const struct space *sp, const char *dim)
{
	size_t d;

	for (d = 0; d < sp->nd; d++)
		if (strcmp(sp->dim[d], dim) == 0)
			return (int)d;
	return -1;
}

static int
val_index(const struct space *sp, size_t d, const char *v)
{
	size_t i;

	for (i = 0; i < sp->nv[d]; i++)
		if (strcmp(sp->val[d][i], v) == 0)
			return (int)i;
	return -1;
}

static void
space_build(struct space *sp, json_t **ans, size_t na)
{
	json_t *ents[MAXENT], *d;
	size_t a, i, j, n;

	memset(sp, 0, sizeof(*sp));
	for (a = 0; a < na; a++) {
		json_t *dims = json_object_get(ans[a], "dimensions");

		json_array_foreach(dims, j, d)
			if (dim_index(sp, json_string_value(d)) < 0) {
				ck_assert_uint_lt(sp->nd, 3);
				snprintf(sp->dim[sp->nd++], 24, "%s",
				    json_string_value(d));
			}
		n = entries(ans[a], ents, MAXENT);
		for (i = 0; i < n; i++)
			json_array_foreach(dims, j, d) {
				const char *v = json_string_value(
				    json_object_get(ents[i],
					json_string_value(d)));
				int di = dim_index(sp, json_string_value(d));

				if (v != NULL && val_index(sp, (size_t)di, v) <
				    0) {
					ck_assert_uint_lt(sp->nv[di], 32);
					snprintf(sp->val[di][sp->nv[di]++], 32,
					    "%s", v);
				}
			}
	}
	sp->ncols = 1;
	for (i = 0; i < sp->nd; i++)
		sp->ncols *= sp->nv[i] ? sp->nv[i] : 1;
	ck_assert_uint_le(sp->ncols, MAXC);
}

/* The finest cells an entry covers (its dims set, others any). */
static void
cover(const struct space *sp, json_t *entry, double *q)
{
	size_t c, d, rest;
	int want[3];

	memset(q, 0, sizeof(double) * MAXC);
	for (d = 0; d < sp->nd; d++) {
		const char *v = json_string_value(json_object_get(entry,
		    sp->dim[d]));

		want[d] = v ? val_index(sp, d, v) : -1;
	}
	for (c = 0; c < sp->ncols; c++) {
		int ok = 1;

		rest = c;
		for (d = sp->nd; d-- > 0;) {
			size_t vi = rest % (sp->nv[d] ? sp->nv[d] : 1);

			rest /= sp->nv[d] ? sp->nv[d] : 1;
			if (want[d] >= 0 && (size_t)want[d] != vi)
				ok = 0;
		}
		if (ok)
			q[c] = 1;
	}
}

/*
 * Puts every published count of the answers together (and what an absent
 * cell says: zero), then tries every hidden count. Returns how many are
 * computable; their description goes to report.
 */
static size_t
attack(json_t **ans, size_t na, const char *month, const char *lead,
    char *report, size_t replen)
{
	struct space sp;
	json_t *ents[MAXENT];
	double q[MAXC], value;
	size_t a, i, n, leaks = 0, used = 0;
	char buf[256];

	report[0] = '\0';
	space_build(&sp, ans, na);
	mat_a.ncols = sp.ncols;
	mat_a.nrows = 0;
	for (a = 0; a < na; a++) {
		json_t *dims = json_object_get(ans[a], "dimensions");
		size_t nd = json_array_size(dims), c, combos = 1, d;

		n = entries(ans[a], ents, MAXENT);
		for (i = 0; i < n; i++) {
			json_t *cnt = json_object_get(ents[i], "count");

			if (json_is_null(cnt))
				continue;
			{
				double *r = mat_row(&mat_a);

				cover(&sp, ents[i], r);
				r[sp.ncols] = (double)json_integer_value(cnt);
			}
		}
		/* absent cells of this answer: zero */
		for (d = 0; d < nd; d++)
			combos *= sp.nv[dim_index(&sp,
			    json_string_value(json_array_get(dims, d)))];
		if (combos > 4096)
			combos = 0;
		for (c = 0; nd > 0 && c < combos; c++) {
			json_t *probe = json_object(), *e;
			size_t rest = c, k2, found = 0;

			for (d = nd; d-- > 0;) {
				const char *dn = json_string_value(
				    json_array_get(dims, d));
				int di = dim_index(&sp, dn);

				json_object_set_new(probe, dn, json_string(
				    sp.val[di][rest % sp.nv[di]]));
				rest /= sp.nv[di];
			}
			json_array_foreach(json_object_get(ans[a], "cells"), k2,
			    e) {
				const char *key;
				json_t *v;
				int same = 1;

				json_object_foreach(probe, key, v)
					if (!json_equal(v,
					    json_object_get(e, key)))
						same = 0;
				found |= (size_t)same;
			}
			if (!found) {
				double *r = mat_row(&mat_a);

				cover(&sp, probe, r);
			}
			json_decref(probe);
		}
	}
	rref(&mat_a);
	for (a = 0; a < na; a++) {
		json_t *dims = json_object_get(ans[a], "dimensions");

		n = entries(ans[a], ents, MAXENT);
		for (i = 0; i < n; i++) {
			long want;

			if (!json_is_null(json_object_get(ents[i], "count")))
				continue;
			cover(&sp, ents[i], q);
			if (!solve(&mat_a, q, &value))
				continue;
			want = truth(dims, ents[i], month, lead);
			ck_assert_msg(fabs(value - (double)want) < 1e-6,
			    "the attacker computed %g for %ld", value, want);
			leaks++;
			if (used < replen) {
				char by[64];
				char *bs = json_dumps(dims, JSON_COMPACT);

				snprintf(by, sizeof(by), "%s", bs ? bs : "?");
				free(bs);
				used += (size_t)snprintf(report + used,
				    replen - used, "%sby=%s hides %s = %ld",
				    leaks > 1 ? "; " : "", by,
				    entry_text(ents[i], buf, sizeof(buf)),
				    (long)lround(value));
			}
		}
	}
	return leaks;
}

/* GET /api/v1/stats for month's period, as s; the answer (caller frees). */
static json_t *
stats_as(const struct sess *s, const char *from, const char *to,
    const char *by)
{
	char path[256];
	struct res x;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/stats?from=%s&to=%s%s%s", from,
	    to, by ? "&by=" : "", by ? by : "");
	x = call(&st.srv, s, "GET", path, NULL);
	EXPECT(x, 200, path);
	ck_assert_ptr_nonnull(x.j);
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

static json_t *
cell_of(json_t *ans, const char *dim, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(ans, "cells"), i, e)
		if (strcmp(jstr(e, dim), value) == 0)
			return e;
	return NULL;
}

/* The count of a cell: -1 when hidden, -2 when absent. */
static long
count_of(json_t *ans, const char *dim, const char *value)
{
	json_t *e = cell_of(ans, dim, value);

	if (e == NULL)
		return -2;
	if (json_is_null(json_object_get(e, "count")))
		return -1;
	return (long)json_integer_value(json_object_get(e, "count"));
}

static long
total_of(json_t *ans)
{
	json_t *c = jpath(ans, "totals.all.count");

	return json_is_null(c) ? -1 : (long)json_integer_value(c);
}

/* ======================================================================
 * Known cases in, exact counts out.
 */

START_TEST(test_known_cases_exact_counts_by_sex)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "sex");

	check_truth(a, "2025-03", NULL);
	ck_assert_int_eq(count_of(a, "sex", "female"), 10);
	ck_assert_int_eq(count_of(a, "sex", "male"), 11);
	/* every category of the SOP's list, the empty ones as 0 */
	ck_assert_int_eq(count_of(a, "sex", "other"), 0);
	ck_assert_int_eq(count_of(a, "sex", "unknown"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 4);
	ck_assert_int_eq(total_of(a), 21);
	ck_assert_str_eq(jstr(a, "scope"), "country");
	/* March asked, the year answered, and said so in both languages */
	ck_assert_str_eq(jstr(a, "period.from"), Y1_FROM);
	ck_assert_str_eq(jstr(a, "period.to"), Y1_TO);
	ck_assert(json_is_true(jpath(a, "period.widened")));
	ck_assert(json_is_true(json_object_get(a, "period_widened")));
	ck_assert_ptr_nonnull(strstr(jstr(a, "period_note.fr"),
	    "année civile"));
	ck_assert_ptr_nonnull(strstr(jstr(a, "period_note.en"),
	    "calendar year"));
	ck_assert_str_eq(jstr(a, "dimensions.0"), "sex");
	json_decref(a);
}
END_TEST

/* The answer lists what may be asked: each one answers, flagged as it is. */
START_TEST(test_available_dimensions_all_answer)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, NULL), *d, *b;
	const char *id;
	size_t i, n;

	d = json_object_get(a, "available_dimensions");
	ck_assert_msg(json_is_array(d), "no available_dimensions");
	n = json_array_size(d);
	ck_assert_uint_ge(n, 8);
	for (i = 0; i < n; i++) {
		id = json_string_value(json_object_get(json_array_get(d, i),
		    "id"));
		ck_assert_ptr_nonnull(id);
		b = stats_as(&s_analyst, M1_FROM, M1_TO, id);
		ck_assert_str_eq(jstr(b, "dimensions.0"), id);
		ck_assert_msg(json_is_true(json_object_get(
		    json_array_get(d, i), "multi_valued")) ==
		        (json_array_size(json_object_get(b, "multi_valued")) ==
		            1),
		    "%s: multi_valued differs from the answer's", id);
		ck_assert_int_eq(total_of(b), 21);
		json_decref(b);
	}
	json_decref(a);
}
END_TEST

/* The 3 children (12-17) are hidden, and a second age band with them:
 * the total less the published bands leaves two unknowns. */
START_TEST(test_small_cell_and_its_complement_by_age_band)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "age_band");
	long pub = 0, hidden = 0;
	json_t *e;
	size_t i;

	ck_assert_uint_ge(check_truth(a, "2025-03", NULL), 2);
	ck_assert_int_eq(count_of(a, "age_band", "12-17"), -1);
	ck_assert(json_is_true(jpath(cell_of(a, "age_band", "12-17"),
	    "suppressed")));
	ck_assert_int_eq(total_of(a), 21);
	json_array_foreach(json_object_get(a, "cells"), i, e) {
		if (json_is_null(json_object_get(e, "count")))
			hidden++;
		else
			pub += (long)json_integer_value(json_object_get(e,
			    "count"));
	}
	/* total - published = 8, shared by at least two hidden bands */
	ck_assert_int_eq(21 - pub, 3 + 5);
	ck_assert_int_ge(hidden, 2);
	json_decref(a);
}
END_TEST

/* A victim with two forms of exploitation counts once per form and once
 * in the total; the answer says which dimensions are multi-valued. */
START_TEST(test_multi_valued_exploitation_type)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "exploitation_type");

	check_truth(a, "2025-03", NULL);
	ck_assert_int_eq(total_of(a), 21);
	ck_assert_int_eq(count_of(a, "exploitation_type", "forced_labour"),
	    13);
	ck_assert_int_eq(count_of(a, "exploitation_type",
	    "sexual_exploitation"), -1);
	/* the five men counted under both of their forms */
	ck_assert(count_of(a, "exploitation_type", "forced_begging") == 5 ||
	    count_of(a, "exploitation_type", "forced_begging") == -1);
	ck_assert(count_of(a, "exploitation_type", "domestic_servitude") ==
		5 ||
	    count_of(a, "exploitation_type", "domestic_servitude") == -1);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "multi_valued")),
	    1);
	ck_assert_str_eq(jstr(a, "multi_valued.0"), "exploitation_type");
	ck_assert(json_is_string(jpath(a, "note.fr")));
	ck_assert(json_is_string(jpath(a, "note.en")));
	json_decref(a);

	/* single-valued: no note, empty list */
	a = stats_as(&s_analyst, M1_FROM, M1_TO, "sex,region");
	ck_assert_uint_eq(json_array_size(json_object_get(a, "multi_valued")),
	    0);
	ck_assert_ptr_null(json_object_get(a, "note"));
	json_decref(a);
}
END_TEST

static const char *const by_lists[] = { "sex", "age_band", "region",
	"child", "month", "sex,age_band", "sex,region", "age_band,region",
	"region,sex", "region,age_band", "sex,exploitation_type",
	"exploitation_type,region", "exploitation_type", "identifying_kind",
	"referral_service", "referral_service,sex" };

/* Every answer, one or two dimensions: every count is the fixture's. */
START_TEST(test_every_answer_matches_the_fixture)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, by_lists[_i]);
	json_t *cells = json_object_get(a, "cells"), *dims;
	size_t nd;

	dims = json_object_get(a, "dimensions");
	nd = json_array_size(dims);
	ck_assert_uint_ge(nd, 1);
	ck_assert_uint_le(nd, 2);
	ck_assert(json_is_array(cells));
	check_truth(a, "2025-03", NULL);
	/* with 2 dimensions, a margin list for each */
	if (nd > 1) {
		json_t *d;
		size_t j;

		json_array_foreach(dims, j, d)
			ck_assert_msg(json_is_array(json_object_get(
			    json_object_get(a, "totals"),
			    json_string_value(d))),
			    "no margins for %s", json_string_value(d));
	}
	json_decref(a);
}
END_TEST

/*
 * Two dimensions at most: a three-way table's cells also sum to the two-way
 * margins other answers publish, which one answer's suppression cannot
 * protect. Three are refused, naming "by"; two come in one order whatever
 * the order asked, so "a,b" and "b,a" are one table.
 */
START_TEST(test_three_dimensions_are_refused)
{
	static const char *const three[] = { "sex,age_band,region",
		"region,age_band,sex", "sex,region,exploitation_type" };
	char path[256];
	struct res x;
	json_t *a, *b;
	size_t i;

	for (i = 0; i < sizeof(three) / sizeof(three[0]); i++) {
		snprintf(path, sizeof(path),
		    "/api/v1/stats?from=%s&to=%s&by=%s", M1_FROM, M1_TO,
		    three[i]);
		x = call(&st.srv, &s_analyst, "GET", path, NULL);
		ck_assert_error(&x.r, 422, "invalid");
		ck_assert_str_eq(jstr(x.j, "error.field"), "by");
		res_free(&x);
	}
	a = stats_as(&s_analyst, M1_FROM, M1_TO, "region,sex");
	b = stats_as(&s_analyst, M1_FROM, M1_TO, "sex,region");
	ck_assert_str_eq(jstr(a, "dimensions.0"), "sex");
	ck_assert_str_eq(jstr(a, "dimensions.1"), "region");
	ck_assert(json_equal(json_object_get(a, "cells"),
	    json_object_get(b, "cells")));
	ck_assert(json_equal(json_object_get(a, "totals"),
	    json_object_get(b, "totals")));
	json_decref(a);
	json_decref(b);
}
END_TEST

/*
 * By sex and age band, March: the 3 girls (female, 12-17) sit in the only
 * female row with one other cell, (female, 18-24) = 7, which is the whole
 * 18-24 column: published, it gives 10 - 7 = 3 back; hidden, the column
 * 18-24 = 7 still gives it, because every other cell of that column is
 * known to be empty. No choice of cells protects the 3 while empty cells
 * are known, so the answer is withheld: all eight combinations listed,
 * every one hidden, empty ones included. The margins stay as the one-way
 * answers publish them.
 */
START_TEST(test_withheld_when_empty_cells_give_counts_away)
{
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "sex,age_band");
	json_t *bys = stats_as(&s_analyst, M1_FROM, M1_TO, "sex");
	json_t *bya = stats_as(&s_analyst, M1_FROM, M1_TO, "age_band");
	json_t *e;
	size_t i;

	ck_assert(withheld(a));
	/* the 2 sexes by the 4 age bands that occur and the 3 empty ones
	 * that the answer by age band hides with 12-17 (3) and 25-34 */
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 14);
	json_array_foreach(json_object_get(a, "cells"), i, e)
		ck_assert(json_is_true(json_object_get(e, "suppressed")));
	check_truth(a, "2025-03", NULL);
	ck_assert(json_equal(jpath(a, "totals.sex"), json_object_get(bys,
	    "cells")));
	ck_assert(json_equal(jpath(a, "totals.age_band"),
	    json_object_get(bya, "cells")));
	ck_assert_int_eq(total_of(a), 21);
	json_decref(a);
	json_decref(bys);
	json_decref(bya);
}
END_TEST

/* ======================================================================
 * The attacker's arithmetic on real answers.
 */

/* One answer alone: no hidden count follows from its published ones. */
START_TEST(test_one_answer_gives_nothing_back)
{
	/* single-valued dimensions only: with a multi-valued one the total
	 * is not the sum of the cells */
	static const char *const single[] = { "sex", "age_band", "region",
		"child", "sex,age_band", "sex,region", "age_band,region" };
	char report[2048];
	size_t i, leaks = 0;
	json_t *a;

	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		a = stats_as(&s_analyst, M1_FROM, M1_TO, single[i]);
		leaks = attack(&a, 1, "2025-03", NULL, report, sizeof(report));
		json_decref(a);
		ck_assert_msg(leaks == 0, "by=%s alone: %s", single[i],
		    report);
	}
	/* and for a supervisor's narrower population */
	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		a = stats_as(&s_nchef, M1_FROM, M1_TO, single[i]);
		leaks = attack(&a, 1, "2025-03", "ngo", report,
		    sizeof(report));
		json_decref(a);
		ck_assert_msg(leaks == 0, "ong.chef by=%s alone: %s",
		    single[i], report);
	}
}
END_TEST

/*
 * The same analyst asks the same month without dimension, by sex, by age
 * band, by region and by their pairs. Each answer is suppressed on its
 * own; put together, their published counts must still not give a hidden
 * one back.
 */
static void
linked_run(const struct sess *s, const char *lead)
{
	static const char *const q[] = { NULL, "sex", "age_band", "region",
		"sex,age_band", "sex,region", "age_band,region" };
	json_t *a[7];
	char report[4096];
	size_t i, leaks;

	for (i = 0; i < 7; i++)
		a[i] = stats_as(s, M1_FROM, M1_TO, q[i]);
	leaks = attack(a, 7, "2025-03", lead, report, sizeof(report));
	for (i = 0; i < 7; i++)
		json_decref(a[i]);
	ck_assert_msg(leaks == 0,
	    "%s: %zu hidden counts computable from the published counts of "
	    "7 answers on %s..%s: %s", s->username, leaks, M1_FROM, M1_TO,
	    report);
}

/* The figure an entry stands for: its dim=value pairs, sorted. */
static void
entry_key(json_t *dims, json_t *e, char *out, size_t len)
{
	char pairs[3][64], tmp[64];
	size_t n = 0, j, i;
	json_t *d;

	json_array_foreach(dims, j, d) {
		const char *v = json_string_value(json_object_get(e,
		    json_string_value(d)));

		if (v != NULL && n < 3)
			snprintf(pairs[n++], 64, "%s=%s", json_string_value(d),
			    v);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(pairs[j], pairs[i]) < 0) {
				memcpy(tmp, pairs[i], 64);
				memcpy(pairs[i], pairs[j], 64);
				memcpy(pairs[j], tmp, 64);
			}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
		    i ? "," : "", pairs[i]);
	if (n == 0)
		snprintf(out, len, "(total)");
}

/*
 * The simplest linked attack: the same figure (say, the 25-34 year-olds of
 * the month) hidden in one answer, as a complement, and published in
 * another, as a margin. Every figure must be hidden everywhere or nowhere.
 */
START_TEST(test_a_figure_hidden_in_one_answer_is_hidden_in_all)
{
	static const char *const q[] = { NULL, "sex", "age_band", "region",
		"sex,age_band", "sex,region", "age_band,region" };
	static struct fig {
		char key[200];
		long count;	/* -1: hidden */
		const char *by;
	} figs[7 * MAXENT];
	size_t nfig = 0, i, j, n, a, bad = 0, used = 0;
	json_t *ans, *ents[MAXENT];
	char report[2048];

	report[0] = '\0';
	for (a = 0; a < 7; a++) {
		ans = stats_as(&s_analyst, M1_FROM, M1_TO, q[a]);
		n = entries(ans, ents, MAXENT);
		for (i = 0; i < n; i++) {
			json_t *c = json_object_get(ents[i], "count");
			struct fig *f = &figs[nfig++];

			entry_key(json_object_get(ans, "dimensions"), ents[i],
			    f->key, sizeof(f->key));
			f->count = json_is_null(c) ? -1 :
			    (long)json_integer_value(c);
			f->by = q[a] ? q[a] : "(nothing)";
		}
		json_decref(ans);
	}
	for (i = 0; i < nfig; i++)
		for (j = 0; j < nfig; j++) {
			if (strcmp(figs[i].key, figs[j].key) != 0 ||
			    figs[i].count != -1 || figs[j].count < 0)
				continue;
			bad++;
			if (used < sizeof(report))
				used += (size_t)snprintf(report + used,
				    sizeof(report) - used,
				    "%sby=%s hides %s, by=%s publishes it: %ld",
				    bad > 1 ? "; " : "", figs[i].by,
				    figs[i].key, figs[j].by, figs[j].count);
		}
	ck_assert_msg(bad == 0, "%zu figures hidden in one answer and "
				"published in another: %s",
	    bad, report);
}
END_TEST

START_TEST(test_linked_answers_give_nothing_back)
{
	linked_run(&s_analyst, NULL);
}
END_TEST

START_TEST(test_linked_answers_give_nothing_back_to_a_supervisor)
{
	linked_run(&s_nchef, "ngo");
}
END_TEST

/* ======================================================================
 * k - 1 and k through the API (PASSERELLE_STATS_K=5).
 */

START_TEST(test_k_minus_one_hidden_k_shown)
{
	json_t *a;

	a = stats_as(&s_analyst, "2023-05-01", "2023-05-31", "sex");
	check_truth(a, "2023-05", NULL);
	ck_assert_int_eq(count_of(a, "sex", "female"), -1);	/* 4 */
	ck_assert_int_eq(count_of(a, "sex", "male"), -1);	/* complement */
	ck_assert_int_eq(total_of(a), 13);
	/* the women and men hidden: every category hidden with them, the
	 * empty ones too (withheld), so that none is known to be 1+ */
	ck_assert_int_eq(count_of(a, "sex", "other"), -1);
	ck_assert_int_eq(count_of(a, "sex", "unknown"), -1);
	json_decref(a);

	/* a fifth woman: now 5, shown, and nothing else hidden */
	{
		static const struct group g5 = { "2023-05", "police", "female",
			"25-34", "sikasso", { "forced_labour", NULL }, 1, 27,
			NULL, "2023-05-14" };
		char id[40], ref[40];

		create_case(&g5, &s_pagent, 60, id, ref);
		extra_female = 1;
	}
	a = stats_as(&s_analyst, "2023-05-01", "2023-05-31", "sex");
	check_truth(a, "2023-05", NULL);
	ck_assert_int_eq(count_of(a, "sex", "female"), 5);
	ck_assert_int_eq(count_of(a, "sex", "male"), 9);
	ck_assert_int_eq(total_of(a), 14);
	ck_assert_ptr_null(json_object_get(cell_of(a, "sex", "female"),
	    "suppressed"));
	json_decref(a);

	/* a year with no case: every category 0, a total of 0, published */
	a = stats_as(&s_analyst, "2021-01-01", "2021-01-31", "sex");
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 4);
	ck_assert_int_eq(count_of(a, "sex", "female"), 0);
	ck_assert_int_eq(count_of(a, "sex", "other"), 0);
	ck_assert_int_eq(total_of(a), 0);
	json_decref(a);
	/* and no dimension at all: the total alone */
	a = stats_as(&s_analyst, "2023-05-01", "2023-05-31", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 0);
	ck_assert_int_eq(total_of(a), 14);
	json_decref(a);
}
END_TEST

/* ======================================================================
 * Periods: whole calendar years, said so; nested periods are one answer.
 */

static json_t *
without_time(json_t *a)
{
	json_t *c = json_deep_copy(a);

	json_object_del(c, "generated_at");
	json_object_del(c, "period_widened");
	json_object_del(c, "period_note");
	json_object_del(json_object_get(c, "period"), "widened");
	return c;
}

START_TEST(test_periods_are_whole_years)
{
	json_t *a = stats_as(&s_analyst, "2025-03-10", "2025-03-20", "region");
	json_t *b = stats_as(&s_analyst, "2025-03-11", "2025-03-21", "region");
	json_t *m = stats_as(&s_analyst, M1_FROM, M1_TO, "region");
	json_t *y = stats_as(&s_analyst, Y1_FROM, Y1_TO, "region");
	json_t *ca = without_time(a), *cb = without_time(b),
	       *cm = without_time(m), *cy = without_time(y);
	char path[256];
	struct res x;

	ck_assert_str_eq(jstr(a, "period.from"), Y1_FROM);
	ck_assert_str_eq(jstr(a, "period.to"), Y1_TO);
	ck_assert(json_is_true(jpath(a, "period.widened")));
	ck_assert(json_is_true(jpath(b, "period.widened")));
	ck_assert(json_is_true(jpath(m, "period.widened")));
	ck_assert(json_is_false(jpath(y, "period.widened")));
	ck_assert(json_is_false(json_object_get(y, "period_widened")));
	ck_assert_ptr_null(json_object_get(y, "period_note"));
	ck_assert_int_eq(total_of(a), 21);
	ck_assert_msg(json_equal(ca, cb),
	    "two requests a day apart differ: subtraction possible");
	ck_assert_msg(json_equal(ca, cm), "widened != whole year");
	ck_assert_msg(json_equal(ca, cy), "widened != whole year");
	json_decref(ca);
	json_decref(cb);
	json_decref(cm);
	json_decref(cy);
	json_decref(a);
	json_decref(b);
	json_decref(m);
	json_decref(y);

	/* detail within the year: by month and quarter, every one listed */
	a = stats_as(&s_analyst, M1_FROM, M1_TO, "month");
	check_truth(a, "2025-03", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 12);
	ck_assert_int_eq(count_of(a, "month", "2025-03"), 21);
	ck_assert_int_eq(count_of(a, "month", "2025-04"), 0);
	json_decref(a);
	a = stats_as(&s_analyst, M1_FROM, M1_TO, "quarter");
	check_truth(a, "2025-03", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "cells")), 4);
	ck_assert_int_eq(count_of(a, "quarter", "2025-Q1"), 21);
	json_decref(a);

	/* across two years: refused, naming "to", in both languages */
	snprintf(path, sizeof(path), "/api/v1/stats?from=2024-12-31&"
	    "to=2025-01-01&by=month");
	x = call(&st.srv, &s_analyst, "GET", path, NULL);
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "to");
	ck_assert_msg(strstr(jstr(x.j, "error.message"), "année civile") !=
	    NULL || strstr(jstr(x.j, "error.message"), "calendar year") !=
	    NULL, "message: %s", jstr(x.j, "error.message"));
	res_free(&x);
}
END_TEST

/*
 * The attack of issue 8 (a): by region, January 2022 publishes bamako 5
 * and kayes 6; January-February, with one woman in gao in February, hides
 * gao (1) and bamako (5) as its complement, under a published total of 12.
 * Were periods months, bamako over January-February would be at least
 * January's 5, so bamako = 5 and gao = 12 - 6 - 5 = 1. Now both requests
 * are the year 2022: one answer, identical, whose hidden figures the
 * attacker's arithmetic over every answer of that year (by region, by
 * month, by month and region, by nothing, both periods) does not give
 * back; and no figure is hidden in one and published in another.
 */
START_TEST(test_nested_periods_cannot_be_differenced)
{
	static const char *const by[] = { "region", "region", "month",
		"month,region", NULL };
	static const char *const from[] = { "2022-01-01", "2022-01-01",
		"2022-01-01", "2022-01-01", "2022-02-01" };
	static const char *const to[] = { "2022-01-31", "2022-02-28",
		"2022-02-28", "2022-01-31", "2022-02-28" };
	json_t *a[5], *c0, *c1;
	char report[4096];
	size_t i, leaks;

	for (i = 0; i < 5; i++) {
		a[i] = stats_as(&s_analyst, from[i], to[i], by[i]);
		ck_assert_str_eq(jstr(a[i], "period.from"), "2022-01-01");
		ck_assert_str_eq(jstr(a[i], "period.to"), "2022-12-31");
		check_truth(a[i], "2022-01", NULL);
	}
	c0 = without_time(a[0]);
	c1 = without_time(a[1]);
	ck_assert_msg(json_equal(c0, c1), "January and January-February "
				       "answer differently: subtraction possible");
	json_decref(c0);
	json_decref(c1);
	/* the February woman in gao: hidden, and so is bamako */
	ck_assert_int_eq(count_of(a[0], "region", "gao"), -1);
	ck_assert_int_eq(count_of(a[0], "region", "bamako"), -1);
	ck_assert_int_eq(count_of(a[0], "region", "kayes"), 6);
	ck_assert_int_eq(total_of(a[0]), 12);
	leaks = attack(a, 5, "2022-01", NULL, report, sizeof(report));
	for (i = 0; i < 5; i++)
		json_decref(a[i]);
	ck_assert_msg(leaks == 0, "%zu hidden counts of 2022 computable: %s",
	    leaks, report);
}
END_TEST

static const struct {
	const char *query, *field;
} bad[] = {
	{ "from=2025-03-31&to=2025-03-01", "to" },
	{ "from=2025-03-01", "to" },
	{ "to=2025-03-01", "from" },
	{ "from=2025-02-30&to=2025-03-01", "from" },
	{ "from=03/01/2025&to=2025-03-31", "from" },
	{ "from=2025-03-01&to=2025-03-31&by=name", "by" },
	{ "from=2025-03-01&to=2025-03-31&by=sex,sex", "by" },
	{ "from=2025-03-01&to=2025-03-31&by=sex,age_band,region,stage", "by" },
	{ "from=2025-03-01&to=2025-03-31&by=sex,age_band,region", "by" },
	{ "from=2025-03-01&to=2025-03-31&by=given_name", "by" },
};

START_TEST(test_bad_queries_are_refused)
{
	char path[256];
	struct res x;

	snprintf(path, sizeof(path), "/api/v1/stats?%s", bad[_i].query);
	x = call(&st.srv, &s_analyst, "GET", path, NULL);
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), bad[_i].field);
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/exports/stats.csv?%s",
	    bad[_i].query);
	x = call(&st.srv, &s_analyst, "GET", path, NULL);
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);
}
END_TEST

/* ======================================================================
 * Scope: a supervisor sees the cases their organisation leads.
 */

START_TEST(test_scope)
{
	json_t *a;
	struct res x;
	size_t i;
	static const char *const paths[] = {
		"/api/v1/stats?from=2025-03-01&to=2025-03-31&by=sex",
		"/api/v1/indicators?from=2025-03-01&to=2025-03-31",
		"/api/v1/exports/stats.csv?from=2025-03-01&to=2025-03-31",
		"/api/v1/exports/stats.json?from=2025-03-01&to=2025-03-31",
		"/api/v1/exports/stats.xlsx?from=2025-03-01&to=2025-03-31",
	};

	/* police desk: its 12 cases */
	a = stats_as(&s_pchef, M1_FROM, M1_TO, "sex");
	check_truth(a, "2025-03", "police");
	ck_assert_str_eq(jstr(a, "scope"), "organisation");
	ck_assert_int_eq(count_of(a, "sex", "female"), 7);
	ck_assert_int_eq(count_of(a, "sex", "male"), 5);
	ck_assert_int_eq(total_of(a), 12);
	json_decref(a);
	a = stats_as(&s_pchef, M1_FROM, M1_TO, "region");
	check_truth(a, "2025-03", "police");
	/* the NGO's regions: listed, as every region is, and empty */
	ck_assert_int_eq(count_of(a, "region", "mopti"), 0);
	ck_assert_int_eq(count_of(a, "region", "kayes"), 0);
	json_decref(a);

	/* the NGO: its 9 (3 girls hidden, and the men with them) */
	a = stats_as(&s_nchef, M1_FROM, M1_TO, "sex");
	check_truth(a, "2025-03", "ngo");
	ck_assert_str_eq(jstr(a, "scope"), "organisation");
	ck_assert_int_eq(count_of(a, "sex", "female"), -1);
	ck_assert_int_eq(count_of(a, "sex", "male"), -1);
	ck_assert_int_eq(total_of(a), 9);
	json_decref(a);

	/* every answer of the narrower populations matches the fixture */
	for (i = 0; i < sizeof(by_lists) / sizeof(by_lists[0]); i++) {
		a = stats_as(&s_pchef, M1_FROM, M1_TO, by_lists[i]);
		check_truth(a, "2025-03", "police");
		json_decref(a);
		a = stats_as(&s_nchef, M1_FROM, M1_TO, by_lists[i]);
		check_truth(a, "2025-03", "ngo");
		json_decref(a);
	}

	/* the committee: the country */
	a = stats_as(&s_analyst, M1_FROM, M1_TO, "sex");
	ck_assert_int_eq(total_of(a), 21);
	json_decref(a);

	/* nobody else */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		x = call(&st.srv, &s_pagent, "GET", paths[i], NULL);
		ck_assert_error(&x.r, 403, "forbidden");
		res_free(&x);
		x = call(&st.srv, &s_admin, "GET", paths[i], NULL);
		ck_assert_error(&x.r, 403, "forbidden");
		res_free(&x);
		x = call(&st.srv, &s_auditor, "GET", paths[i], NULL);
		ck_assert_error(&x.r, 403, "forbidden");
		res_free(&x);
		x = call(&st.srv, &s_refuge, "GET", paths[i], NULL);
		ck_assert_error(&x.r, 403, "forbidden");
		res_free(&x);
		x = call(&st.srv, NULL, "GET", paths[i], NULL);
		ck_assert_error(&x.r, 401, "unauthenticated");
		res_free(&x);
	}
}
END_TEST

/* ======================================================================
 * Exports.
 */

/* RFC 4180: rows of fields; every line ends with CRLF. */
#define MAXROWS 512
#define MAXFIELDS 16

struct csv {
	size_t nrows;
	size_t nf[MAXROWS];
	char f[MAXROWS][MAXFIELDS][128];
};

static void
csv_parse(const char *s, size_t len, struct csv *c)
{
	size_t i = 0, o;
	int q;

	memset(c, 0, sizeof(*c));
	while (i < len) {
		size_t r = c->nrows, fi = 0;

		ck_assert_uint_lt(r, MAXROWS);
		for (;;) {
			ck_assert_uint_lt(fi, MAXFIELDS);
			o = 0;
			q = i < len && s[i] == '"';
			if (q)
				i++;
			for (; i < len; i++) {
				if (q && s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				} else if (!q && (s[i] == ',' || s[i] == '\r' ||
				    s[i] == '\n'))
					break;
				ck_assert_uint_lt(o, 127);
				c->f[r][fi][o++] = s[i];
			}
			c->f[r][fi][o] = '\0';
			fi++;
			ck_assert_msg(i < len, "the last line has no CRLF");
			if (s[i] == ',') {
				i++;
				continue;
			}
			ck_assert_msg(s[i] == '\r' && i + 1 < len &&
			    s[i + 1] == '\n', "a line ends without CRLF at %zu",
			    i);
			i += 2;
			break;
		}
		c->nf[r] = fi;
		c->nrows++;
	}
}

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0)
			n = 1;
		else if ((s[i] & 0xF0) == 0xE0)
			n = 2;
		else if ((s[i] & 0xF8) == 0xF0)
			n = 3;
		else
			return 0;
		for (k = 1; k <= n; k++)
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

static long
audit_count(const char *format)
{
	return sqln(st.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'export.stats' "
	    "AND (detail::jsonb)->>'format' = $1 AND "
	    "(detail::jsonb)->>'from' = $2",
	    format, Y1_FROM);
}

/* No identity of the fixture, no case id or reference, in bytes. */
static void
no_identity(const char *what, const void *bytes, size_t len)
{
	static const char *const words[] = { ID_FAMILY, ID_GIVEN, ID_PHONE,
		ID_DOB, ID_PLACE, "Quorvath", "+223", "Récit" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		ck_assert_msg(memfind(bytes, len, words[i]) == NULL,
		    "%s holds \"%s\"", what, words[i]);
	for (i = 0; i < ncases; i++) {
		ck_assert_msg(memfind(bytes, len, case_ids[i]) == NULL,
		    "%s holds a case id", what);
		ck_assert_msg(case_refs[i][0] == '\0' ||
			memfind(bytes, len, case_refs[i]) == NULL,
		    "%s holds a case reference", what);
	}
}

START_TEST(test_export_csv)
{
	static const char *const q =
	    "/api/v1/exports/stats.csv?from=2025-03-10&to=2025-03-20"
	    "&by=age_band,region";
	struct res fr, en;
	static struct csv c;
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "age_band,region");
	json_t *cells = json_object_get(a, "cells"), *e;
	long before = audit_count("csv");
	const char *ct, *cd;
	size_t i, j;

	fr = call_h(&st.srv, &s_analyst, "GET", q, NULL,
	    "Accept-Language: fr");
	en = call_h(&st.srv, &s_analyst, "GET", q, NULL,
	    "Accept-Language: en");
	EXPECT(fr, 200, "stats.csv fr");
	EXPECT(en, 200, "stats.csv en");
	ct = harness_resp_header(&fr.r, "Content-Type");
	ck_assert_ptr_nonnull(ct);
	ck_assert_msg(strncasecmp(ct, "text/csv", 8) == 0 &&
		strcasestr(ct, "charset=utf-8") != NULL,
	    "Content-Type: %s", ct);
	cd = harness_resp_header(&fr.r, "Content-Disposition");
	ck_assert_ptr_nonnull(cd);
	ck_assert_msg(strstr(cd, "attachment") != NULL &&
		strstr(cd, "passerelle-stats-" Y1_FROM "-" Y1_TO ".csv") !=
		    NULL,
	    "Content-Disposition: %s", cd);
	ck_assert(utf8_valid((const unsigned char *)fr.body, fr.len));
	ck_assert_msg(memchr(fr.body, '\0', fr.len) == NULL, "a NUL byte");

	/* French */
	csv_parse(fr.body, fr.len, &c);
	ck_assert_uint_eq(c.nrows, 1 + json_array_size(cells));
	ck_assert_uint_eq(c.nf[0], 10);
	ck_assert_str_eq(c.f[0][0], "age_band");
	ck_assert_str_eq(c.f[0][1], "region");
	ck_assert_str_eq(c.f[0][2], "effectif");
	ck_assert_str_eq(c.f[0][3], "masque");
	ck_assert_str_eq(c.f[0][4], "periode_debut");
	ck_assert_str_eq(c.f[0][5], "periode_fin");
	ck_assert_str_eq(c.f[0][6], "periode_elargie");
	ck_assert_str_eq(c.f[0][7], "k");
	ck_assert_str_eq(c.f[0][8], "genere_le");
	ck_assert_str_eq(c.f[0][9], "donnees_au");
	json_array_foreach(cells, i, e) {
		size_t r = i + 1;

		ck_assert_uint_eq(c.nf[r], 10);
		ck_assert_str_eq(c.f[r][0], jstr(e, "age_band"));
		ck_assert_str_eq(c.f[r][1], jstr(e, "region"));
		if (json_is_null(json_object_get(e, "count"))) {
			ck_assert_str_eq(c.f[r][2], "");
			ck_assert_str_eq(c.f[r][3], "1");
		} else {
			ck_assert_int_eq(strtol(c.f[r][2], NULL, 10),
			    json_integer_value(json_object_get(e, "count")));
			ck_assert_str_eq(c.f[r][3], "0");
		}
		ck_assert_str_eq(c.f[r][4], Y1_FROM);
		ck_assert_str_eq(c.f[r][5], Y1_TO);
		ck_assert_str_eq(c.f[r][6], "1");	/* widened */
		ck_assert_str_eq(c.f[r][7], "5");
		ck_assert_str_eq(c.f[r][9], "");	/* no freeze here */
	}
	/* formula neutralisation: no cell begins with = + - @ tab CR */
	for (i = 0; i < c.nrows; i++)
		for (j = 0; j < c.nf[i]; j++)
			ck_assert_msg(strchr("=+-@\t\r", c.f[i][j][0]) == NULL ||
				c.f[i][j][0] == '\0',
			    "row %zu field %zu begins a formula: %s", i, j,
			    c.f[i][j]);

	/* English: another header, the same rows */
	csv_parse(en.body, en.len, &c);
	ck_assert_str_eq(c.f[0][2], "count");
	ck_assert_str_eq(c.f[0][3], "suppressed");
	ck_assert_str_eq(c.f[0][4], "period_from");
	ck_assert_str_eq(c.f[0][5], "period_to");
	ck_assert_str_eq(c.f[0][6], "period_widened");
	ck_assert_str_eq(c.f[0][8], "generated_at");
	ck_assert_str_eq(c.f[0][9], "as_of");
	ck_assert_uint_eq(c.nrows, 1 + json_array_size(cells));

	no_identity("stats.csv (fr)", fr.body, fr.len);
	no_identity("stats.csv (en)", en.body, en.len);
	/* each export is in the audit trail, with its format and period */
	ck_assert_int_eq(audit_count("csv"), before + 2);
	ck_assert_int_eq(sqln(st.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'export.stats' "
	    "AND user_id = $1 AND (detail::jsonb)->>'to' = $2",
	    s_analyst.user_id, Y1_TO) >= 2, 1);
	res_free(&fr);
	res_free(&en);
	json_decref(a);
}
END_TEST

START_TEST(test_export_json)
{
	static const char *const q =
	    "/api/v1/exports/stats.json?from=2025-03-01&to=2025-03-31"
	    "&by=sex,age_band";
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "sex,age_band");
	json_t *ca, *cx;
	long before = audit_count("json");
	const char *ct, *cd;
	struct res x;

	x = call(&st.srv, &s_analyst, "GET", q, NULL);
	EXPECT(x, 200, "stats.json");
	ck_assert_ptr_nonnull(x.j);
	ct = harness_resp_header(&x.r, "Content-Type");
	ck_assert_msg(ct != NULL && strncmp(ct, "application/json", 16) == 0,
	    "Content-Type: %s", ct ? ct : "(none)");
	ca = without_time(a);
	cx = without_time(x.j);
	ck_assert_msg(json_equal(ca, cx), "the JSON export differs from "
					  "GET /stats");
	json_decref(ca);
	json_decref(cx);
	check_truth(x.j, "2025-03", NULL);
	no_identity("stats.json", x.body, x.len);
	ck_assert_int_eq(audit_count("json"), before + 1);
	/* API.md: "as a file download" */
	cd = harness_resp_header(&x.r, "Content-Disposition");
	ck_assert_msg(cd != NULL && strstr(cd, "attachment") != NULL,
	    "stats.json is not a file download: no Content-Disposition "
	    "attachment (the CSV and XLSX have one)");
	res_free(&x);
	json_decref(a);
}
END_TEST

/* Runs unzip -p on file for member into a malloc'd buffer. */
static char *
unzip_member(const char *file, const char *member, size_t *len)
{
	char dir[64], out[128], cmd[640];
	char *text;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(out, sizeof(out), "%s/member", dir);
	snprintf(cmd, sizeof(cmd), "unzip -p '%s' '%s' > '%s' 2>/dev/null",
	    file, member, out);
	if (harness_shell(cmd) != 0) {
		harness_rmtree(dir);
		return NULL;
	}
	text = slurp(out, len);
	harness_rmtree(dir);
	return text;
}

START_TEST(test_export_xlsx)
{
	static const char *const q =
	    "/api/v1/exports/stats.xlsx?from=2025-03-01&to=2025-03-31"
	    "&by=age_band";
	json_t *a = stats_as(&s_analyst, M1_FROM, M1_TO, "age_band"), *e;
	long before = audit_count("xlsx");
	char dir[64], file[128];
	const char *ct, *cd;
	struct res x, y;
	FILE *f;
	size_t i, len, numbers = 0, pub = 0;
	char *sheet, *all, *p;

	x = call_h(&st.srv, &s_analyst, "GET", q, NULL, "Accept-Language: fr");
	EXPECT(x, 200, "stats.xlsx");
	ct = harness_resp_header(&x.r, "Content-Type");
	ck_assert_msg(ct != NULL && strcmp(ct, "application/vnd."
		"openxmlformats-officedocument.spreadsheetml.sheet") == 0,
	    "Content-Type: %s", ct ? ct : "(none)");
	cd = harness_resp_header(&x.r, "Content-Disposition");
	ck_assert_msg(cd != NULL && strstr(cd, "attachment") != NULL &&
		strstr(cd, ".xlsx") != NULL,
	    "Content-Disposition: %s", cd ? cd : "(none)");
	ck_assert_uint_gt(x.len, 4);
	ck_assert_msg(memcmp(x.body, "PK\x03\x04", 4) == 0, "not a zip");
	no_identity("stats.xlsx (raw)", x.body, x.len);
	ck_assert_int_eq(audit_count("xlsx"), before + 1);

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(file, sizeof(file), "%s/stats.xlsx", dir);
	f = fopen(file, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(x.body, 1, x.len, f), x.len);
	fclose(f);
	if (harness_shell("command -v unzip >/dev/null 2>&1") != 0) {
		fprintf(stderr, "itest_stats: no unzip, XLSX contents not "
				"checked\n");
		harness_rmtree(dir);
		res_free(&x);
		json_decref(a);
		return;
	}
	sheet = unzip_member(file, "xl/worksheets/sheet1.xml", &len);
	ck_assert_msg(sheet != NULL, "no xl/worksheets/sheet1.xml");
	/* every published count is a number cell, nothing else is */
	json_array_foreach(json_object_get(a, "cells"), i, e) {
		char v[32];

		if (json_is_null(json_object_get(e, "count")))
			continue;
		pub++;
		snprintf(v, sizeof(v), "<v>%lld</v>",
		    (long long)json_integer_value(json_object_get(e,
			"count")));
		ck_assert_msg(strstr(sheet, v) != NULL, "sheet1.xml lacks %s",
		    v);
	}
	for (p = sheet; (p = strstr(p, "<v>")) != NULL; p += 3)
		numbers++;
	ck_assert_uint_eq(numbers, pub);
	ck_assert_ptr_nonnull(strstr(sheet, "12-17"));
	ck_assert_ptr_nonnull(strstr(sheet, "effectif"));
	free(sheet);
	/* every member of the workbook, identity-free */
	all = unzip_member(file, "*", &len);
	ck_assert_ptr_nonnull(all);
	no_identity("stats.xlsx (unzipped)", all, len);
	ck_assert_ptr_nonnull(strstr(all, "Statistiques"));
	free(all);

	/* in English: the sheet and the header change */
	y = call_h(&st.srv, &s_analyst, "GET", q, NULL, "Accept-Language: en");
	EXPECT(y, 200, "stats.xlsx en");
	f = fopen(file, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(y.body, 1, y.len, f), y.len);
	fclose(f);
	all = unzip_member(file, "*", &len);
	ck_assert_ptr_nonnull(all);
	ck_assert_ptr_nonnull(strstr(all, "Statistics"));
	ck_assert_ptr_nonnull(strstr(all, ">count<"));
	free(all);
	res_free(&y);
	harness_rmtree(dir);
	res_free(&x);
	json_decref(a);
}
END_TEST

/* A supervisor's export holds their organisation's cases only. */
START_TEST(test_export_scope)
{
	static struct csv c;
	struct res x;
	size_t r;
	int seen = 0;

	x = call(&st.srv, &s_pchef, "GET", "/api/v1/exports/stats.csv?"
	    "from=2025-03-01&to=2025-03-31&by=sex", NULL);
	EXPECT(x, 200, "police.chef stats.csv");
	csv_parse(x.body, x.len, &c);
	/* the header and every category of sex, the empty ones as 0 */
	ck_assert_uint_eq(c.nrows, 5);
	for (r = 1; r < c.nrows; r++) {
		if (strcmp(c.f[r][0], "other") == 0 ||
		    strcmp(c.f[r][0], "unknown") == 0)
			ck_assert_str_eq(c.f[r][1], "0");
		if (strcmp(c.f[r][0], "female") == 0) {
			ck_assert_str_eq(c.f[r][1], "7");
			seen |= 1;
		}
		if (strcmp(c.f[r][0], "male") == 0) {
			ck_assert_str_eq(c.f[r][1], "5");
			seen |= 2;
		}
	}
	ck_assert_int_eq(seen, 3);
	ck_assert_int_eq(sqln(st.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'export.stats' "
	    "AND user_id = $1 AND (detail::jsonb)->>'scope' = $2",
	    s_pchef.user_id, "organisation"), 1);
	res_free(&x);
}
END_TEST

/* Every answer and export of the suite's fixture, by every list. */
START_TEST(test_no_identity_anywhere)
{
	static const char *const kinds[] = { "stats", "exports/stats.csv",
		"exports/stats.json", "exports/stats.xlsx", "indicators" };
	static const char *const months[][2] = { { M1_FROM, M1_TO },
		{ "2024-04-01", "2024-04-30" }, { "2023-05-01", "2023-05-31" },
		{ "2025-01-01", "2025-12-31" } };
	const struct sess *who[] = { &s_analyst, &s_pchef, &s_nchef };
	const size_t nby = sizeof(by_lists) / sizeof(by_lists[0]);
	long before = sqln(st.db, "SELECT count(*) FROM audit_log WHERE "
				  "action = 'export.stats'", NULL, NULL);
	char path[256];
	struct res x;
	size_t k, m, b, w;

	for (w = 0; w < 3; w++)
		for (m = 0; m < 4; m++)
			for (k = 0; k < 5; k++)
				for (b = 0; b < nby; b++) {
					snprintf(path, sizeof(path),
					    "/api/v1/%s?from=%s&to=%s&by=%s",
					    kinds[k], months[m][0],
					    months[m][1], by_lists[b]);
					x = call(&st.srv, who[w], "GET", path,
					    NULL);
					EXPECT(x, 200, path);
					no_identity(path, x.body, x.len);
					res_free(&x);
					if (k == 4)
						break;	/* no "by" */
				}
	/* one audit record per export: 3 formats */
	ck_assert_int_eq(sqln(st.db, "SELECT count(*) FROM audit_log WHERE "
				     "action = 'export.stats'", NULL, NULL),
	    before + (long)(3 * 4 * 3 * nby));
}
END_TEST

/* ======================================================================
 * Indicators against hand-computed values.
 */

static json_t *
indicator(json_t *ans, const char *id)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(ans, "indicators"), i, e)
		if (strcmp(jstr(e, "id"), id) == 0)
			return e;
	ck_abort_msg("no indicator %s", id);
	return NULL;
}

static json_t *
indicators_as(const struct sess *s, const char *from, const char *to)
{
	char path[128];
	struct res x;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/indicators?from=%s&to=%s", from,
	    to);
	x = call(&st.srv, s, "GET", path, NULL);
	EXPECT(x, 200, path);
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

START_TEST(test_indicators_known_times)
{
	json_t *a = indicators_as(&s_analyst, "2024-04-10", "2024-04-20");
	json_t *e, *v, *rows;
	size_t i;

	ck_assert_str_eq(jstr(a, "period.from"), "2024-01-01");
	ck_assert_str_eq(jstr(a, "period.to"), "2024-12-31");
	ck_assert(json_is_true(jpath(a, "period.widened")));
	ck_assert(json_is_true(json_object_get(a, "period_widened")));
	ck_assert(json_is_string(jpath(a, "period_note.fr")));
	ck_assert(json_is_string(jpath(a, "period_note.en")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "k")), K);
	/* every indicator has an id and a definition in both languages */
	json_array_foreach(json_object_get(a, "indicators"), i, e) {
		ck_assert(json_string_length(json_object_get(e, "id")) > 0);
		ck_assert_msg(json_string_length(jpath(e, "definition.fr")) >
			0 && json_string_length(jpath(e, "definition.en")) > 0,
		    "%s: definitions", jstr(e, "id"));
		ck_assert_msg(strcmp(jstr(e, "definition.fr"),
		    jstr(e, "definition.en")) != 0, "%s: one language",
		    jstr(e, "id"));
		ck_assert(json_object_get(e, "value") != NULL);
	}

	/* answered after 1, 2, 3, 4, 10, 20 h, 4 h allowed: 4 of 6 in time
	 * (4 h exactly is in time), one still pending */
	v = jpath(indicator(a, "referrals_answered_in_time"), "value");
	ck_assert_msg(json_is_number(v), "share withheld: %s",
	    json_dumps(indicator(a, "referrals_answered_in_time"), 0));
	ck_assert_msg(fabs(json_number_value(v) - 4.0 / 6.0) < 1e-9,
	    "share in time %g, want 4/6", json_number_value(v));
	/* percentile_cont: median of 1,2,3,4,10,20 = (3 + 4) / 2 = 3.5;
	 * p90 at rank 0.9 * 5 = 4.5: 10 + 0.5 * (20 - 10) = 15 */
	v = jpath(indicator(a, "referral_answer_hours_median"), "value");
	ck_assert_msg(json_is_number(v) &&
		fabs(json_number_value(v) - 3.5) < 1e-9,
	    "median %g, want 3.5", json_number_value(v));
	v = jpath(indicator(a, "referral_answer_hours_p90"), "value");
	ck_assert_msg(json_is_number(v) &&
		fabs(json_number_value(v) - 15.0) < 1e-9,
	    "p90 %g, want 15", json_number_value(v));
	v = jpath(indicator(a, "referrals_made"), "value");
	ck_assert_msg(json_is_integer(v) && json_integer_value(v) == 7,
	    "referrals made: %s", json_dumps(v, JSON_ENCODE_ANY));

	/* declined: one no_capacity, one security_risk, both below k, and
	 * their total (2) too; every reason of the SOP's list is listed,
	 * and hidden with them (withheld), so none is known to be empty */
	v = jpath(indicator(a, "referrals_declined"), "value");
	rows = json_object_get(v, "rows");
	ck_assert_uint_eq(json_array_size(rows), 7);
	json_array_foreach(rows, i, e) {
		ck_assert(json_is_null(json_object_get(e, "count")));
		ck_assert(json_is_true(json_object_get(e, "suppressed")));
	}
	ck_assert(json_is_null(jpath(v, "total.count")));
	ck_assert(json_is_true(jpath(v, "total.suppressed")));

	/* no service delivered: every service 0, a zero total */
	v = jpath(indicator(a, "services_delivered"), "value");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "rows")), 12);
	json_array_foreach(json_object_get(v, "rows"), i, e)
		ck_assert_int_eq(json_integer_value(json_object_get(e,
		    "count")), 0);
	ck_assert_int_eq(json_integer_value(jpath(v, "total.count")), 0);

	/* identified in April: the 7 referred men, by month and by sex */
	v = jpath(indicator(a, "victims_identified_by_month"), "value");
	ck_assert_int_eq(json_integer_value(jpath(v, "total.count")), 7);
	/* the year's twelve months, in order */
	ck_assert_uint_eq(json_array_size(json_object_get(v, "rows")), 12);
	ck_assert_str_eq(jstr(v, "rows.0.value"), "2024-01");
	ck_assert_str_eq(jstr(v, "rows.3.value"), "2024-04");
	ck_assert_int_eq(json_integer_value(jpath(v, "rows.3.count")), 7);
	ck_assert_int_eq(json_integer_value(jpath(v, "rows.4.count")), 0);
	v = jpath(indicator(a, "victims_identified_by_sex"), "value");
	ck_assert_int_eq(json_integer_value(jpath(v, "total.count")), 7);

	/* the statistics see the referrals too */
	{
		json_t *r = stats_as(&s_analyst, "2024-04-01", "2024-04-30",
		    "referral_service");

		check_truth(r, "2024-04", NULL);
		ck_assert_int_eq(count_of(r, "referral_service", "shelter"),
		    7);
		ck_assert_str_eq(jstr(r, "multi_valued.0"),
		    "referral_service");
		json_decref(r);
	}
	{
		char *text = json_dumps(a, 0);

		ck_assert_ptr_nonnull(text);
		no_identity("indicators", text, strlen(text));
		free(text);
	}
	json_decref(a);
}
END_TEST

START_TEST(test_indicators_scope_and_small_numbers)
{
	json_t *a, *b, *v;

	/* the police desk made the referrals: the same figures */
	a = indicators_as(&s_pchef, "2024-04-01", "2024-04-30");
	b = indicators_as(&s_analyst, "2024-04-01", "2024-04-30");
	ck_assert(json_equal(
	    jpath(indicator(a, "referral_answer_hours_median"), "value"),
	    jpath(indicator(b, "referral_answer_hours_median"), "value")));
	ck_assert(json_equal(jpath(indicator(a, "referrals_made"), "value"),
	    jpath(indicator(b, "referrals_made"), "value")));
	json_decref(a);
	json_decref(b);

	/* the NGO made none: nothing to show, no share, no time */
	a = indicators_as(&s_nchef, "2024-04-01", "2024-04-30");
	v = jpath(indicator(a, "referrals_made"), "value");
	ck_assert_int_eq(json_integer_value(v), 0);
	ck_assert(json_is_null(jpath(indicator(a,
	    "referrals_answered_in_time"), "value")));
	ck_assert(json_is_null(jpath(indicator(a,
	    "referral_answer_hours_median"), "value")));
	ck_assert(json_is_null(jpath(indicator(a,
	    "referral_answer_hours_p90"), "value")));
	json_decref(a);

	/* March: the NGO's 3 girls are hidden in its identified-by-age */
	a = indicators_as(&s_nchef, M1_FROM, M1_TO);
	v = jpath(indicator(a, "victims_identified_by_age_band"), "value");
	ck_assert_int_eq(json_integer_value(jpath(v, "total.count")), 9);
	{
		json_t *e;
		size_t i;
		int seen = 0;

		json_array_foreach(json_object_get(v, "rows"), i, e)
			if (strcmp(jstr(e, "value"), "12-17") == 0) {
				seen = 1;
				ck_assert(json_is_null(json_object_get(e,
				    "count")));
			}
		ck_assert(seen);
	}
	json_decref(a);
}
END_TEST

/*
 * HTCDS: one row per case, year as its only time; its period is widened to
 * the calendar year like every other answer, so January and
 * January-February give the same file, and two years are refused. 2022 at
 * k = 11: three groups below 11 generalised (age band widened, region to
 * the national level), the 11 men then one group, kept; the woman
 * dropped.
 */
START_TEST(test_htcds_whole_years)
{
	struct res a, b, x;

	a = call(&st.srv, &s_analyst, "GET", "/api/v1/exports/htcds.csv?"
	    "from=2022-01-01&to=2022-01-31", NULL);
	b = call(&st.srv, &s_analyst, "GET", "/api/v1/exports/htcds.csv?"
	    "from=2022-01-01&to=2022-02-28", NULL);
	EXPECT(a, 200, "htcds January");
	EXPECT(b, 200, "htcds January-February");
	ck_assert_str_eq(harness_resp_header(&a.r, "X-Passerelle-Period-From"),
	    "2022-01-01");
	ck_assert_str_eq(harness_resp_header(&a.r, "X-Passerelle-Period-To"),
	    "2022-12-31");
	ck_assert_str_eq(harness_resp_header(&a.r,
	    "X-Passerelle-Period-Widened"), "1");
	ck_assert_str_eq(harness_resp_header(&a.r, "X-Passerelle-Rows"), "11");
	ck_assert_str_eq(harness_resp_header(&a.r, "X-Passerelle-Generalised"),
	    "12");
	ck_assert_str_eq(harness_resp_header(&a.r, "X-Passerelle-Dropped"),
	    "1");
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_msg(memcmp(a.body, b.body, a.len) == 0,
	    "January and January-February differ: subtraction possible");
	ck_assert_ptr_nonnull(memfind(a.body, a.len, "2022,Male,18+,Adult,,ML,"
	    "national,1,0,0,0,forced_labour\r\n"));
	no_identity("htcds.csv", a.body, a.len);
	res_free(&a);
	res_free(&b);
	x = call(&st.srv, &s_analyst, "GET", "/api/v1/exports/htcds.csv?"
	    "from=2021-12-01&to=2022-01-31", NULL);
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "to");
	res_free(&x);
}
END_TEST

/* ======================================================================
 * The security review's attack (issue 8): the HTCDS export beside the
 * one-way answers, and the same year asked before and after a case.
 */

static void
create_victim(const struct harness_server *srv, const char *sex, int age,
    const char *nat, const char *region, const char *type, const char *date,
    char *id)
{
	json_t *body;
	struct res x;

	body = json_pack("{s:{s:s, s:s, s:s, s:i, s:s}, s:{s:s, s:s, s:s, "
			 "s:[s]}}",
	    "victim", "given_name", ID_GIVEN, "family_name", ID_FAMILY, "sex",
	    sex, "age_estimate", age, "nationality", nat, "identification",
	    "date", date, "region", region, "place", ID_PLACE,
	    "exploitation_types", type);
	ck_assert_ptr_nonnull(body);
	x = callj(srv, &s_pagent, "POST", "/api/v1/cases", body);
	EXPECT(x, 201, "create a victim");
	if (id != NULL)
		snprintf(id, 40, "%s", jstr(x.j, "id"));
	res_free(&x);
}

/* The export's rows per value of column col (HTCDS field names). */
struct valcount {
	char v[128];
	long n;
};

static size_t
export_counts(const struct csv *c, size_t col, struct valcount *vc,
    size_t max)
{
	size_t r, i, n = 0;
	char one[128], *t, *save = NULL;

	for (r = 1; r < c->nrows; r++) {
		snprintf(one, sizeof(one), "%s", c->f[r][col]);
		/* the forms of exploitation: one count per form */
		for (t = strtok_r(one, ";", &save); t != NULL;
		     t = strtok_r(NULL, ";", &save)) {
			for (i = 0; i < n && strcmp(vc[i].v, t) != 0; i++)
				;
			if (i == n) {
				ck_assert_uint_lt(n, max);
				snprintf(vc[n].v, sizeof(vc[n].v), "%s", t);
				vc[n++].n = 0;
			}
			vc[i].n++;
		}
		save = NULL;
	}
	return n;
}

static const struct {
	const char *dim;
	size_t col;		/* the export's column */
	const char *victim;	/* her category */
	int lower;		/* the export writes it in lower case */
} attack_dims[] = {
	{ "nationality", 4, "BF", 0 },
	{ "region", 6, "gao", 1 },
	{ "exploitation_type", 11, "forced_begging", 1 },
	{ "sex", 1, "female", 0 },
	{ "age_band", 2, "18-24", 1 },
};

/*
 * One year: 31 Malian women 18-24 in Bamako (forced labour), 11 Nigerien
 * men 35-49 in Kayes (sexual exploitation), 1 Burkinabe woman of 19 in
 * Gao (forced begging). The answer by nationality used to publish ML =
 * 31, hide BF and NE, list every other country as 0 under a total of 43;
 * the export carries 11 NE rows: BF + NE = 12, NE >= 11, BF >= 1, so BF
 * = 1; the same by region and form of exploitation. The attacker here
 * reads every one-way answer of the year and the export's count of every
 * value; a hidden category is at least its export count, and at least 1
 * only if the list publishes an empty category (then hidden ones are
 * known not to be). Nothing hidden may be pinned, and the one victim
 * left over may not be placed in one category.
 */
START_TEST(test_htcds_export_beside_one_way_answers_pins_nothing)
{
	static struct csv c;
	static struct valcount vc[300];
	struct res x;
	json_t *a, *e, *cells;
	size_t d, i, j, nvc, places;
	long h, total, lo, sumlo, nhidden, xmin, xmax, exp;
	int floor1;
	char want[64];

	for (i = 0; i < 31; i++)
		create_victim(&st.srv, "female", 20, "ML", "bamako",
		    "forced_labour", "2019-03-10", NULL);
	for (i = 0; i < 11; i++)
		create_victim(&st.srv, "male", 40, "NE", "kayes",
		    "sexual_exploitation", "2019-05-10", NULL);
	create_victim(&st.srv, "female", 19, "BF", "gao", "forced_begging",
	    "2019-07-10", NULL);

	x = call(&st.srv, &s_analyst, "GET", "/api/v1/exports/htcds.csv?"
	    "from=2019-01-01&to=2019-12-31", NULL);
	EXPECT(x, 200, "htcds 2019");
	csv_parse(x.body, x.len, &c);
	/* the export as the review saw it: 42 rows, 1 dropped */
	ck_assert_str_eq(harness_resp_header(&x.r, "X-Passerelle-Dropped"),
	    "1");
	ck_assert_str_eq(harness_resp_header(&x.r, "X-Passerelle-Rows"), "42");
	res_free(&x);

	for (d = 0; d < sizeof(attack_dims) / sizeof(attack_dims[0]); d++) {
		a = stats_as(&s_analyst, "2019-01-01", "2019-12-31",
		    attack_dims[d].dim);
		/* known cases in, exact counts out: what is published */
		json_array_foreach(json_object_get(a, "cells"), i, e) {
			json_t *n = json_object_get(e, "count");
			const char *v = jstr(e, attack_dims[d].dim);

			if (json_is_null(n))
				continue;
			ck_assert_int_eq(json_integer_value(n),
			    strcmp(v, "ML") == 0 || strcmp(v, "bamako") == 0 ||
			    strcmp(v, "forced_labour") == 0 ? 31 :
			    strcmp(v, "female") == 0 || strcmp(v, "18-24") == 0 ?
			    32 : strcmp(v, "male") == 0 || strcmp(v, "35-49") ==
			    0 ? 11 : 0);
		}
		cells = json_object_get(a, "cells");
		total = total_of(a);
		ck_assert_int_eq(total, 43);
		nvc = export_counts(&c, attack_dims[d].col, vc, 300);
		h = total;
		floor1 = 0;
		nhidden = 0;
		json_array_foreach(cells, i, e) {
			json_t *n = json_object_get(e, "count");

			if (json_is_null(n))
				nhidden++;
			else {
				h -= (long)json_integer_value(n);
				floor1 |= json_integer_value(n) == 0;
			}
		}
		if (nhidden == 0) {
			/* nothing hidden: her category is shared by k or
			 * more (sex female 32, age band 18-24 32) */
			ck_assert_int_ge(count_of(a, attack_dims[d].dim,
			    attack_dims[d].victim), K);
			json_decref(a);
			continue;
		}
		ck_assert_msg(!floor1, "%s: a 0 published beside hidden "
		    "counts", attack_dims[d].dim);
		/* each hidden category: at least its export count */
		sumlo = 0;
		json_array_foreach(cells, i, e) {
			if (!json_is_null(json_object_get(e, "count")))
				continue;
			snprintf(want, sizeof(want), "%s",
			    jstr(e, attack_dims[d].dim));
			for (exp = 0, j = 0; j < nvc; j++)
				if (strcasecmp(vc[j].v, want) == 0)
					exp = vc[j].n;
			sumlo += exp;
		}
		places = 0;
		json_array_foreach(cells, i, e) {
			if (!json_is_null(json_object_get(e, "count")))
				continue;
			snprintf(want, sizeof(want), "%s",
			    jstr(e, attack_dims[d].dim));
			for (lo = 0, j = 0; j < nvc; j++)
				if (strcasecmp(vc[j].v, want) == 0)
					lo = vc[j].n;
			/* with every other hidden one at most h */
			xmin = h - (nhidden - 1) * h;
			xmin = xmin > lo ? xmin : lo;
			xmax = h - (sumlo - lo);
			ck_assert_msg(xmin < xmax, "%s = %s pinned to %ld "
			    "(hidden sum %ld, export bounds %ld)",
			    attack_dims[d].dim, want, xmin, h, sumlo);
			places += xmax > lo;
		}
		ck_assert_msg(places >= 2, "%s: the victim left over fits one "
		    "category only", attack_dims[d].dim);
		/* her own category is hidden, and not known to hold her */
		ck_assert_int_eq(count_of(a, attack_dims[d].dim,
		    attack_dims[d].victim), -1);
		json_decref(a);
	}
}
END_TEST

/* An answer without the instant it was made. */
static json_t *
stats_on(const struct harness_server *srv, const char *path)
{
	struct res x = call(srv, &s_analyst, "GET", path, NULL);
	json_t *j;

	EXPECT(x, 200, path);
	j = json_incref(x.j);
	res_free(&x);
	json_object_del(j, "generated_at");
	return j;
}

/*
 * PASSERELLE_STATS_FREEZE=month (the default): answers count the cases
 * opened before this month, so the same year asked before and after a
 * registration is the same (no victim's profile to subtract), and the
 * answer says as of when. Cases opened last month (back-dated in SQL)
 * count.
 */
START_TEST(test_freeze_new_cases_wait_for_next_month)
{
	struct harness_server srv2;
	char keyv[300], path[256], ipath[256], year[16], ids[6][40], sql[512];
	char asof[48];
	const char *extra[] = { NULL, FAST_OPS, FAST_MEM, "PASSERELLE_STATS_K=5",
		"PASSERELLE_STATS_FREEZE=month", NULL };
	json_t *before, *after, *ind0, *ind1, *now_none, *late;
	time_t now = time(NULL);
	struct tm tm;
	struct res x;
	size_t i;

	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%04d", tm.tm_year + 1900);
	snprintf(asof, sizeof(asof), "%04d-%02d-01 00:00:00+00",
	    tm.tm_year + 1900, tm.tm_mon + 1);
	snprintf(keyv, sizeof(keyv), "PASSERELLE_KEY_FILE=%s", st.key);
	extra[0] = keyv;
	memset(&srv2, 0, sizeof(srv2));
	ck_assert_int_eq(harness_server_start(&srv2, st.db, extra), 0);
	snprintf(path, sizeof(path), "/api/v1/stats?from=%s-01-01&to=%s-12-31"
	    "&by=sex", year, year);
	before = stats_on(&srv2, path);
	snprintf(ipath, sizeof(ipath), "/api/v1/indicators?from=%s-01-01&"
	    "to=%s-12-31", year, year);
	ind0 = stats_on(&srv2, ipath);
	ck_assert_str_eq(jstr(before, "as_of"), asof);
	ck_assert(json_is_string(jpath(before, "as_of_note.fr")));
	ck_assert(json_is_string(jpath(before, "as_of_note.en")));
	/* six women identified on January 1st of this year, opened now */
	snprintf(sql, sizeof(sql), "%s-01-01", year);
	for (i = 0; i < 6; i++)
		create_victim(&srv2, "female", 30, "ML", "segou",
		    "forced_labour", sql, ids[i]);
	after = stats_on(&srv2, path);
	ck_assert_msg(json_equal(before, after), "a registration this month "
	    "changed the year's answer");
	ind1 = stats_on(&srv2, ipath);
	ck_assert(json_equal(ind0, ind1));
	/* without the freeze they count at once (the tests' setting) */
	now_none = stats_on(&st.srv, path);
	ck_assert(json_is_null(json_object_get(now_none, "as_of")));
	ck_assert_int_eq(total_of(now_none), total_of(before) + 6);
	/* opened last month: counted */
	for (i = 0; i < 6; i++) {
		snprintf(sql, sizeof(sql), "UPDATE cases SET opened_at = "
		    "date_trunc('month', now()) - interval '10 days' WHERE "
		    "id = '%s'", ids[i]);
		ck_assert_int_eq(harness_exec(st.db, sql), 0);
	}
	late = stats_on(&srv2, path);
	ck_assert_int_eq(total_of(late), total_of(before) + 6);
	ck_assert_int_eq(count_of(late, "sex", "female"),
	    count_of(now_none, "sex", "female"));
	/* the export says as of when too */
	snprintf(path, sizeof(path), "/api/v1/exports/htcds.csv?from=%s-01-01&"
	    "to=%s-12-31", year, year);
	x = call(&srv2, &s_analyst, "GET", path, NULL);
	EXPECT(x, 200, "htcds with the freeze");
	ck_assert_str_eq(harness_resp_header(&x.r, "X-Passerelle-As-Of"),
	    asof);
	res_free(&x);
	/* and leave the cases this year's other tests do not expect */
	for (i = 0; i < 6; i++) {
		snprintf(sql, sizeof(sql), "UPDATE cases SET identified_on = "
		    "'2018-06-01' WHERE id = '%s'", ids[i]);
		ck_assert_int_eq(harness_exec(st.db, sql), 0);
	}
	json_decref(before);
	json_decref(after);
	json_decref(ind0);
	json_decref(ind1);
	json_decref(now_none);
	json_decref(late);
	ck_assert_int_eq(harness_server_stop(&srv2), 0);
}
END_TEST

/* ====================================================================== */

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc;

	tc = tcase_create("stats");
	tcase_add_unchecked_fixture(tc, st_setup, st_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_known_cases_exact_counts_by_sex);
	tcase_add_test(tc, test_available_dimensions_all_answer);
	tcase_add_test(tc, test_small_cell_and_its_complement_by_age_band);
	tcase_add_test(tc, test_multi_valued_exploitation_type);
	tcase_add_loop_test(tc, test_every_answer_matches_the_fixture, 0,
	    (int)(sizeof(by_lists) / sizeof(by_lists[0])));
	tcase_add_test(tc, test_three_dimensions_are_refused);
	tcase_add_test(tc, test_withheld_when_empty_cells_give_counts_away);
	tcase_add_test(tc, test_one_answer_gives_nothing_back);
	tcase_add_test(tc, test_a_figure_hidden_in_one_answer_is_hidden_in_all);
	tcase_add_test(tc, test_linked_answers_give_nothing_back);
	tcase_add_test(tc,
	    test_linked_answers_give_nothing_back_to_a_supervisor);
	tcase_add_test(tc, test_periods_are_whole_years);
	tcase_add_test(tc, test_nested_periods_cannot_be_differenced);
	tcase_add_test(tc, test_htcds_whole_years);
	tcase_add_loop_test(tc, test_bad_queries_are_refused, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_scope);
	tcase_add_test(tc, test_export_csv);
	tcase_add_test(tc, test_export_json);
	tcase_add_test(tc, test_export_xlsx);
	tcase_add_test(tc, test_export_scope);
	tcase_add_test(tc, test_indicators_known_times);
	tcase_add_test(tc, test_indicators_scope_and_small_numbers);
	tcase_add_test(tc, test_no_identity_anywhere);
	tcase_add_test(tc,
	    test_htcds_export_beside_one_way_answers_pins_nothing);
	tcase_add_test(tc, test_freeze_new_cases_wait_for_next_month);
	/* last: it adds a case to May */
	tcase_add_test(tc, test_k_minus_one_hidden_k_shown);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_stats", stats_suite);
}
