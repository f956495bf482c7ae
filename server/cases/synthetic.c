/*
 * passerelle seed --synthetic N: fictional cases for benchmarks, encrypted
 * exactly like real ones (a data key per case, sealed fields, blind
 * indexes), spread over the organisations of the field kinds and over the
 * past year, and written with COPY in batches so that a million cases load
 * in minutes with flat memory. Names are drawn from short lists of common
 * Malian names: fictional people, nobody in particular.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../crypto/crypto.h"
#include "../db/db.h"
#include "../sop/sop.h"
#include "internal.h"

#define BATCH 2000

static const char *const given[] = { "Aminata", "Fatoumata", "Mariam",
	"Awa", "Kadiatou", "Oumou", "Bintou", "Salimata", "Moussa", "Ibrahim",
	"Seydou", "Mamadou", "Adama", "Boubacar", "Modibo", "Issa", "Hawa",
	"Djeneba", "Rokia", "Sekou" };
static const char *const family[] = { "Traoré", "Coulibaly", "Diarra",
	"Keïta", "Koné", "Diallo", "Sangaré", "Touré", "Sissoko", "Dembélé",
	"Maïga", "Cissé", "Doumbia", "Camara", "Kanté", "Sidibé" };
static const char *const sexes[] = { "female", "female", "female", "male",
	"male", "unknown" };
static const char *const regions[] = { "bamako", "kayes", "koulikoro",
	"sikasso", "segou", "mopti", "tombouctou", "gao", "kidal", "menaka" };
static const char *const types[] = { "sexual_exploitation", "forced_labour",
	"forced_begging", "domestic_servitude", "forced_marriage",
	"forced_criminality" };
static const char *const nations[] = { "ML", "ML", "ML", "BF", "NE", "CI",
	"GN", "NG" };

static const struct db_stmt stmts[] = {
	{ "synth_orgs",
	    "SELECT o.id, o.kind, (SELECT u.id FROM users u WHERE "
	    "u.organisation_id = o.id AND u.role IN ('caseworker', "
	    "'supervisor') ORDER BY u.username LIMIT 1) FROM organisations o "
	    "WHERE o.kind IN ('police', 'ngo', 'labour_inspection', "
	    "'child_protection', 'shelter', 'one_stop_center') ORDER BY o.name" },
	{ "synth_reserve",
	    "INSERT INTO case_counters (year, last) VALUES ($1::int, $2::int) "
	    "ON CONFLICT (year) DO UPDATE SET last = case_counters.last + $2 "
	    "RETURNING last - $2" },
};

void
cases_synthetic_init(void)
{
	db_stmts_add(stmts, sizeof(stmts) / sizeof(stmts[0]));
}

#define PICK(a) (a[(size_t)(rand_r(&seed) % (unsigned)(sizeof(a) / sizeof(a[0])))])

/* Appends a sealed JSON string field as a COPY row of case_fields. */
static enum pa_err
field_row(struct jv_buf *b, const struct sec_case_key *key, const char *id,
    const char *field, const char *json_value)
{
	unsigned char *ct = NULL;
	size_t ctlen;
	enum pa_err rc;

	rc = sec_seal(key, "case_fields", field, id, json_value,
	    strlen(json_value), &ct, &ctlen);
	if (rc != PA_OK)
		return rc;
	sb_str(b, id);
	sb_str(b, "\t");
	sb_str(b, field);
	sb_str(b, "\t\\\\x");
	sb_hex(b, ct, ctlen);
	sb_str(b, "\n");
	free(ct);
	return b->failed ? PA_INTERNAL : PA_OK;
}

static enum pa_err
flush(struct db *db, const char *sql, struct jv_buf *b)
{
	enum pa_err rc;

	if (b->len == 0)
		return PA_OK;
	if ((rc = db_copy_begin(db, sql)) != PA_OK)
		return rc;
	if ((rc = db_copy_put(db, b->p, b->len)) != PA_OK) {
		(void)db_copy_end(db);
		return rc;
	}
	rc = db_copy_end(db);
	b->len = 0;
	return rc;
}

int
cases_seed_synthetic(struct db *db, long n, FILE *out)
{
	const struct sop *s = sop_current();
	const struct sop_category *stages = sop_category(s, "stage");
	struct jv_buf c = { 0 }, k = { 0 }, f = { 0 }, bl = { 0 }, a = { 0 };
	struct db_res *orgs = NULL, *res = NULL;
	unsigned int seed = (unsigned int)time(NULL);
	char year[8], count[24], line[1400], norm[256], joined[128];
	char id[37], val[160], today[11];
	long i, first = 0, done = 0;
	int norgs, o, age, b;
	enum pa_err rc;

	cases_today(today);
	snprintf(year, sizeof(year), "%.4s", today);
	if ((rc = db_exec(db, "synth_orgs", NULL, 0, &orgs)) != PA_OK)
		return -1;
	if ((norgs = db_res_rows(orgs)) == 0) {
		fprintf(stderr, "seed --synthetic: no organisation to own the "
		    "cases: run seed --demo first\n");
		db_res_free(orgs);
		return -1;
	}
	for (done = 0; done < n; done += BATCH) {
		long m = n - done < BATCH ? n - done : BATCH;

		if ((rc = db_tx_begin(db)) != PA_OK)
			break;
		snprintf(count, sizeof(count), "%ld", m);
		{
			struct db_arg r[2] = { DB_TEXT(year), DB_TEXT(count) };

			rc = db_exec(db, "synth_reserve", r, 2, &res);
		}
		if (rc != PA_OK || db_res_rows(res) != 1) {
			rc = rc != PA_OK ? rc : PA_INTERNAL;
			goto batch_end;
		}
		first = strtol(db_res_get(res, 0, 0), NULL, 10);
		db_res_free(res);
		res = NULL;
		for (i = 0; i < m && rc == PA_OK; i++) {
			struct sec_case_key *key = NULL;
			unsigned char *w = NULL;
			size_t wl;
			const char *gn = PICK(given), *fn = PICK(family);
			const char *stage = stages->codes[(size_t)(rand_r(&seed) %
			    (unsigned)stages->n)].code;
			int day = (int)(rand_r(&seed) % 365);

			o = (int)((done + i) % norgs);
			age = (int)(rand_r(&seed) % 50) + 8;
			sec_uuid_new(id);
			if ((rc = sec_case_key_new(id, &key, &w, &wl)) != PA_OK)
				break;
			{
				time_t when = time(NULL) - (time_t)day * 86400;
				struct tm tm;
				char ts[32], date[11];
				const char *sex = PICK(sexes), *reg = PICK(regions);
				const char *nat = PICK(nations), *typ = PICK(types);

				gmtime_r(&when, &tm);
				strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &tm);
				strftime(date, sizeof(date), "%Y-%m-%d", &tm);
				snprintf(line, sizeof(line),
				    "%s\t%s-%s-%06ld\t%s\t%s\t%s\t%s\t%s\t%s\t"
				    "%s\t%s\t%s\t%s\t{%s}\t{\"victim.sex\": \"%s\", "
				    "\"victim.age_estimate\": %d, "
				    "\"victim.nationality\": \"%s\", "
				    "\"identification.date\": \"%s\", "
				    "\"identification.region\": \"%s\", "
				    "\"identification.exploitation_types\": "
				    "[\"%s\"]}\t%s\n",
				    id, s->reference_prefix, year, first + i + 1,
				    db_res_get(orgs, o, 0),
				    db_res_isnull(orgs, o, 2) ? "\\N" :
					db_res_get(orgs, o, 2),
				    stage, sex, cases_age_band(age),
				    age < s->child_age ? "t" : "f", nat, reg,
				    date, db_res_get(orgs, o, 1), typ, sex, age,
				    nat, date, reg, typ, ts);
			}
			sb_str(&c, line);
			sb_str(&k, id);
			sb_str(&k, "\t");
			sb_str(&k, sec_ring_key_id());
			sb_str(&k, "\t\\\\x");
			sb_hex(&k, w, wl);
			sb_str(&k, "\n");
			free(w);
			snprintf(val, sizeof(val), "\"%s\"", gn);
			rc = field_row(&f, key, id, "victim.given_name", val);
			snprintf(val, sizeof(val), "\"%s\"", fn);
			if (rc == PA_OK)
				rc = field_row(&f, key, id, "victim.family_name",
				    val);
			snprintf(val, sizeof(val), "\"+223 7%d %02d %02d %02d\"",
			    rand_r(&seed) % 10, rand_r(&seed) % 100,
			    rand_r(&seed) % 100, rand_r(&seed) % 100);
			if (rc == PA_OK)
				rc = field_row(&f, key, id, "victim.phone", val);
			if (rc == PA_OK)
				rc = field_row(&f, key, id,
				    "identification.narrative",
				    "\"Récit fictif pour les mesures de "
				    "performance.\"");
			sec_case_key_free(key);
			snprintf(joined, sizeof(joined), "%s %s", gn, fn);
			cases_name_normalise(joined, norm, sizeof(norm));
			b = sec_blind("name", norm);
			snprintf(line, sizeof(line), "%s\tname\t%d\n", id, b);
			sb_str(&bl, line);
			snprintf(line, sizeof(line), "%s\t%s\tlead\n", id,
			    db_res_get(orgs, o, 0));
			sb_str(&a, line);
		}
		if (rc != PA_OK)
			goto batch_end;
		if (c.failed || k.failed || f.failed || bl.failed || a.failed) {
			rc = PA_INTERNAL;
			goto batch_end;
		}
		if ((rc = flush(db, "COPY cases (id, reference, "
			 "lead_organisation_id, created_by, stage, sex, age_band, "
			 "is_child, nationality, region, identified_on, "
			 "identifying_kind, exploitation_types, clear, opened_at) "
			 "FROM STDIN", &c)) == PA_OK &&
		    (rc = flush(db, "COPY case_keys (case_id, key_id, wrapped) "
			 "FROM STDIN", &k)) == PA_OK &&
		    (rc = flush(db, "COPY case_fields (case_id, field, value) "
			 "FROM STDIN", &f)) == PA_OK &&
		    (rc = flush(db, "COPY case_blind (case_id, purpose, bucket) "
			 "FROM STDIN", &bl)) == PA_OK)
			rc = flush(db, "COPY case_access (case_id, "
			    "organisation_id, reason) FROM STDIN", &a);
batch_end:
		db_res_free(res);
		res = NULL;
		c.len = k.len = f.len = bl.len = a.len = 0;
		if ((rc = db_tx_end(db, rc)) != PA_OK)
			break;
		if (out != NULL && (done + m) % 20000 < BATCH)
			fprintf(out, "  %ld cases\n", done + m);
	}
	db_res_free(orgs);
	sb_free(&c);
	sb_free(&k);
	sb_free(&f);
	sb_free(&bl);
	sb_free(&a);
	if (rc != PA_OK) {
		fprintf(stderr, "seed --synthetic: failed after %ld cases\n",
		    done);
		return -1;
	}
	if (out != NULL)
		fprintf(out, "seeded %ld synthetic cases\n", n);
	return 0;
}
