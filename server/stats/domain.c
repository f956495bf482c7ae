/*
 * The categories of a statistics dimension: every code an answer lists,
 * those with no case included (count 0). Listing them all is what lets an
 * answer hide its empty cells too when it must (see stats.c): an answer
 * that lists only the categories that occur tells anyone that each hidden
 * one holds at least one case, and three hidden categories under a
 * published total of 3 are then 1, 1 and 1.
 *
 * The codes come from the SOP's lists where there is one, from the
 * answer's year for month, quarter and year, and from ISO 3166-1 for
 * nationality (codes only: never which ones occur, which would say that
 * someone of that nationality is in the register). Values a case holds
 * outside these lists are still counted: the query lists them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sop/sop.h"
#include "stats.h"

static const char *const iso3166[] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS",
	"AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG",
	"BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT",
	"BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI",
	"CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY",
	"CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH",
	"ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB",
	"GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ",
	"GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT",
	"HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
	"JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP",
	"KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
	"LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH",
	"MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
	"MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
	"NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
	"PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA",
	"RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG",
	"SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
	"SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK",
	"TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG",
	"UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU",
	"WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

static const struct {
	const char *dim;
	const char *category;	/* the SOP's list */
	const char *extra;	/* the query's own value for "none" */
} sop_dims[] = {
	{ "sex", "sex", "unknown" },
	{ "age_band", "age_band", "unknown" },
	{ "region", "region", "unknown" },
	{ "stage", "stage", NULL },
	{ "justice_status", "justice_status", NULL },
	{ "identifying_kind", "kind", NULL },
	{ "exploitation_type", "exploitation_type", "unknown" },
	{ "referral_service", "service", "none" },
	{ "decline_reason", "decline_reason", NULL },
	{ "service", "service", NULL },
};

void
stats_domain_free(struct stats_domain *d)
{
	size_t i;

	for (i = 0; d->v != NULL && i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static int
add(struct stats_domain *d, size_t cap, const char *v)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i], v) == 0)
			return 0;
	if (d->n == cap || (d->v[d->n] = strdup(v)) == NULL)
		return -1;
	d->n++;
	return 0;
}

enum pa_err
stats_domain(const struct stats_query *q, const char *dim,
    struct stats_domain *d)
{
	const struct sop *s = sop_current();
	const struct sop_category *cat = NULL;
	const char *extra = NULL;
	char v[16];
	size_t i, cap = 0;
	int rc = 0;

	d->v = NULL;
	d->n = 0;
	if (strcmp(dim, "nationality") == 0)
		cap = sizeof(iso3166) / sizeof(iso3166[0]) + 1;
	else if (strcmp(dim, "month") == 0)
		cap = 12;
	else if (strcmp(dim, "quarter") == 0)
		cap = 4;
	else if (strcmp(dim, "year") == 0)
		cap = 1;
	else if (strcmp(dim, "child") == 0)
		cap = 2;
	else
		for (i = 0; i < sizeof(sop_dims) / sizeof(sop_dims[0]); i++)
			if (strcmp(sop_dims[i].dim, dim) == 0) {
				cat = s ? sop_category(s,
				    sop_dims[i].category) : NULL;
				extra = sop_dims[i].extra;
				cap = (cat ? cat->n : 0) + 1;
			}
	if (cap == 0)
		return PA_OK;
	if ((d->v = calloc(cap, sizeof(*d->v))) == NULL)
		return PA_INTERNAL;
	if (strcmp(dim, "nationality") == 0) {
		for (i = 0; rc == 0 && i < cap - 1; i++)
			rc = add(d, cap, iso3166[i]);
		if (rc == 0)
			rc = add(d, cap, "unknown");
	} else if (strcmp(dim, "month") == 0 || strcmp(dim, "quarter") == 0) {
		for (i = 0; rc == 0 && i < cap; i++) {
			snprintf(v, sizeof(v), cap == 12 ? "%.4s-%02zu" :
			    "%.4s-Q%zu", q->from, i + 1);
			rc = add(d, cap, v);
		}
	} else if (strcmp(dim, "year") == 0) {
		snprintf(v, sizeof(v), "%.4s", q->from);
		rc = add(d, cap, v);
	} else if (strcmp(dim, "child") == 0) {
		rc = add(d, cap, "adult");
		if (rc == 0)
			rc = add(d, cap, "child");
	} else {
		for (i = 0; cat != NULL && rc == 0 && i < cat->n; i++)
			rc = add(d, cap, cat->codes[i].code);
		if (rc == 0 && extra != NULL)
			rc = add(d, cap, extra);
	}
	if (rc != 0) {
		stats_domain_free(d);
		return PA_INTERNAL;
	}
	return PA_OK;
}
