/*
 * Operational indicators of the referral mechanism, each with its
 * definition in both languages. Counts go through the same small-cell
 * suppression as statistics; a share, median or percentile over fewer than
 * k referrals is withheld.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "stats.h"

#define PERIOD_CASES \
	"coalesce(c.identified_on, (c.opened_at AT TIME ZONE 'UTC')::date) " \
	"BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR " \
	"c.lead_organisation_id = $3) AND ($4::timestamptz IS NULL OR " \
	"c.opened_at < $4::timestamptz)"
#define PERIOD_REFERRALS \
	"(r.created_at AT TIME ZONE 'UTC')::date BETWEEN $1::date AND " \
	"$2::date AND ($3::uuid IS NULL OR r.from_organisation_id = $3) " \
	"AND ($4::timestamptz IS NULL OR r.created_at < $4::timestamptz)"

static const struct db_stmt stmts[] = {
	{ "ind_identified_by",
	    "SELECT d.v, count(DISTINCT c.id) FROM cases c CROSS JOIN LATERAL "
	    "unnest(stat_dim(c, $5)) AS d(v) WHERE " PERIOD_CASES
	    " GROUP BY ROLLUP (d.v) ORDER BY d.v NULLS LAST" },
	{ "ind_referral_times",
	    "SELECT count(*) FILTER (WHERE r.answered_at IS NOT NULL), "
	    "count(*) FILTER (WHERE r.answered_at IS NOT NULL AND "
	    "r.answered_at <= r.respond_by), "
	    "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
	    "r.answered_at - r.created_at) / 3600) FILTER (WHERE "
	    "r.answered_at IS NOT NULL), "
	    "percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM "
	    "r.answered_at - r.created_at) / 3600) FILTER (WHERE "
	    "r.answered_at IS NOT NULL), count(*) "
	    "FROM referrals r WHERE r.service <> 'lead_transfer' AND "
	    PERIOD_REFERRALS },
	{ "ind_declined",
	    "SELECT r.decline_reason, count(*) FROM referrals r WHERE "
	    "r.status = 'declined' AND " PERIOD_REFERRALS
	    " GROUP BY ROLLUP (r.decline_reason) ORDER BY 1 NULLS LAST" },
	{ "ind_services",
	    "SELECT s.service, count(*) FROM services_delivered s JOIN cases c "
	    "ON c.id = s.case_id WHERE s.delivered_on BETWEEN $1::date AND "
	    "$2::date AND ($3::uuid IS NULL OR c.lead_organisation_id = $3) "
	    "AND ($4::timestamptz IS NULL OR (c.opened_at < $4::timestamptz "
	    "AND s.delivered_on < $4::date)) GROUP BY ROLLUP (s.service) ORDER BY 1 NULLS LAST" },
};

void stats_indicators_init(void);
void
stats_indicators_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* By value, the total (NULL) last. */
static int
row_cmp(const void *pa, const void *pb)
{
	const struct stats_cell *a = pa, *b = pb;

	if ((a->vals[0] == NULL) != (b->vals[0] == NULL))
		return a->vals[0] == NULL ? 1 : -1;
	return a->vals[0] == NULL ? 0 : strcmp(a->vals[0], b->vals[0]);
}

/*
 * A one-dimension table (value, count; the total last) suppressed, every
 * category of domain listed (see domain.c), as the statistics answer by
 * the same dimension lists and suppresses it.
 */
static enum pa_err
table(struct db *db, const char *stmt, const struct stats_query *q,
    const char *dim, const char *domain, int k, json_t **out)
{
	struct stats_domain dom = { NULL, 0 };
	size_t d;
	int j;
	struct db_arg a[5] = { DB_TEXT(q->from), DB_TEXT(q->to),
		q->organisation_id ? DB_TEXT(q->organisation_id) : DB_NULL,
		STATS_CUTOFF(q), dim ? DB_TEXT(dim) : DB_NULL };
	struct stats_query one = *q;
	struct stats_cell *cells;
	struct db_res *res = NULL;
	json_t *rows, *o;
	int64_t cnt;
	enum pa_err rc;
	int i, n, total = 0;

	*out = NULL;
	if ((rc = stats_domain(q, domain, &dom)) != PA_OK)
		return rc;
	if ((rc = db_exec(db, stmt, a, dim ? 5 : 4, &res)) != PA_OK) {
		stats_domain_free(&dom);
		return rc;
	}
	n = db_res_rows(res);
	if ((cells = calloc((size_t)n + dom.n + 1, sizeof(*cells))) == NULL) {
		stats_domain_free(&dom);
		db_res_free(res);
		return PA_INTERNAL;
	}
	for (i = 0; i < n; i++) {
		cells[i].vals[0] = db_res_isnull(res, i, 0) ? NULL :
		    db_res_get(res, i, 0);
		(void)db_res_int64(res, i, 1, &cnt);
		cells[i].count = (long)cnt;
		total |= cells[i].vals[0] == NULL;
	}
	if (!total)
		n++;	/* no row at all: a zero total */
	for (d = 0; d < dom.n; d++) {
		for (j = 0; j < n; j++)
			if (cells[j].vals[0] != NULL &&
			    strcmp(cells[j].vals[0], dom.v[d]) == 0)
				break;
		if (j == n)
			cells[n++].vals[0] = dom.v[d];
	}
	/* as the statistics answer by dim: bounded by the HTCDS export */
	one.ndims = dim ? 1 : 0;
	one.dims[0] = dim;
	if (dim != NULL && (rc = stats_htcds_bounds(db, &one, cells,
	    (size_t)n)) != PA_OK) {
		free(cells);
		db_res_free(res);
		stats_domain_free(&dom);
		return rc;
	}
	stats_suppress(cells, (size_t)n, 1, k);
	qsort(cells, (size_t)n, sizeof(*cells), row_cmp);
	rows = json_array();
	o = NULL;
	for (i = 0; i < n; i++) {
		json_t *c = json_pack("{s:o}", "count", cells[i].suppressed ?
		    json_null() : json_integer(cells[i].count));

		if (cells[i].suppressed)
			json_object_set_new(c, "suppressed", json_true());
		if (cells[i].vals[0] == NULL)
			o = c;
		else {
			json_object_set_new(c, "value",
			    json_string(cells[i].vals[0]));
			json_array_append_new(rows, c);
		}
	}
	*out = json_pack("{s:o, s:o}", "rows", rows, "total",
	    o ? o : json_pack("{s:i}", "count", 0));
	free(cells);
	db_res_free(res);
	stats_domain_free(&dom);
	return *out ? PA_OK : PA_INTERNAL;
}

static json_t *
indicator(const char *id, const char *fr, const char *en, json_t *value)
{
	return json_pack("{s:s, s:{s:s, s:s}, s:o}", "id", id, "definition",
	    "fr", fr, "en", en, "value", value ? value : json_null());
}

enum pa_err
stats_indicators(struct db *db, const struct stats_query *q, json_t **out)
{
	static const struct {
		const char *dim, *id, *fr, *en;
	} by[] = {
		{ "month", "victims_identified_by_month",
		    "Victimes présumées identifiées, par mois d'identification",
		    "Presumed victims identified, by month of identification" },
		{ "region", "victims_identified_by_region",
		    "Victimes présumées identifiées, par région d'identification",
		    "Presumed victims identified, by region of identification" },
		{ "sex", "victims_identified_by_sex",
		    "Victimes présumées identifiées, par sexe",
		    "Presumed victims identified, by sex" },
		{ "age_band", "victims_identified_by_age_band",
		    "Victimes présumées identifiées, par tranche d'âge",
		    "Presumed victims identified, by age band" },
		{ "stage", "cases_by_stage",
		    "Dossiers ouverts dans la période, par étape actuelle",
		    "Cases opened in the period, by current stage" },
		{ "justice_status", "justice_outcomes",
		    "Dossiers ouverts dans la période, par statut du volet "
		    "judiciaire",
		    "Cases opened in the period, by justice-track status" },
	};
	struct db_arg a[4] = { DB_TEXT(q->from), DB_TEXT(q->to),
		q->organisation_id ? DB_TEXT(q->organisation_id) : DB_NULL,
		STATS_CUTOFF(q) };
	struct db_res *res = NULL;
	json_t *list = json_array(), *t;
	int64_t answered = 0, in_time = 0, all = 0;
	enum pa_err rc = PA_OK;
	size_t i;

	*out = NULL;
	for (i = 0; rc == PA_OK && i < sizeof(by) / sizeof(by[0]); i++)
		if ((rc = table(db, "ind_identified_by", q, by[i].dim,
			 by[i].dim, q->k, &t)) == PA_OK)
			json_array_append_new(list, indicator(by[i].id,
			    by[i].fr, by[i].en, t));
	if (rc == PA_OK &&
	    (rc = db_exec(db, "ind_referral_times", a, 4, &res)) == PA_OK) {
		(void)db_res_int64(res, 0, 0, &answered);
		(void)db_res_int64(res, 0, 1, &in_time);
		(void)db_res_int64(res, 0, 4, &all);
		/* Below k answered referrals, no share or time is given. */
		json_array_append_new(list, indicator(
		    "referrals_answered_in_time",
		    "Part des orientations répondues dans le délai des "
		    "procédures (réponses dans le délai / réponses)",
		    "Share of referrals answered within the SOP deadline "
		    "(answers in time / answers)",
		    answered >= q->k ? json_real((double)in_time /
			(double)answered) : NULL));
		json_array_append_new(list, indicator(
		    "referral_answer_hours_median",
		    "Délai médian entre orientation et réponse, en heures",
		    "Median time from referral to answer, in hours",
		    answered >= q->k && !db_res_isnull(res, 0, 2) ?
			json_real(strtod(db_res_get(res, 0, 2), NULL)) : NULL));
		json_array_append_new(list, indicator(
		    "referral_answer_hours_p90",
		    "90e centile du délai entre orientation et réponse, en "
		    "heures",
		    "90th percentile of the time from referral to answer, in "
		    "hours",
		    answered >= q->k && !db_res_isnull(res, 0, 3) ?
			json_real(strtod(db_res_get(res, 0, 3), NULL)) : NULL));
		json_array_append_new(list, indicator("referrals_made",
		    "Orientations faites dans la période",
		    "Referrals made in the period",
		    all == 0 || all >= q->k ? json_integer(all) : NULL));
		db_res_free(res);
		res = NULL;
	}
	if (rc == PA_OK && (rc = table(db, "ind_declined", q, NULL,
	    "decline_reason", q->k, &t)) == PA_OK)
		json_array_append_new(list, indicator("referrals_declined",
		    "Orientations refusées, par motif",
		    "Referrals declined, by reason", t));
	if (rc == PA_OK && (rc = table(db, "ind_services", q, NULL, "service",
	    q->k, &t)) == PA_OK)
		json_array_append_new(list, indicator("services_delivered",
		    "Services délivrés dans la période, par type",
		    "Services delivered in the period, by type", t));
	if (rc != PA_OK) {
		json_decref(list);
		return rc;
	}
	*out = json_pack("{s:i, s:{s:s, s:s, s:b}, s:o}", "k", q->k, "period",
	    "from", q->from, "to", q->to, "widened", q->widened, "indicators",
	    list);
	stats_period_note(*out, q);
	return *out ? PA_OK : PA_INTERNAL;
}
