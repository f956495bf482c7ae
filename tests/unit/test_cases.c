/*
 * cases/: the pure parts. Name normalisation for blind indexes (the same
 * person written with or without accents, in another case, with hyphens,
 * apostrophes or spaces, or with the words in another order, gives the same
 * text; different people do not), age bands, ISO 3166 country codes, and
 * the validation of a case's sections against the real SOP catalogue
 * (sop/mali.json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <jansson.h>

#include "cases/cases.h"
#include "cases/internal.h"
#include "sop/sop.h"

#define MALI PASSERELLE_SOURCE_DIR "/sop/mali.json"
#define NORM 512

static struct sop *sop;

static void
sop_setup(void)
{
	if (sop_load_file(MALI, &sop, stderr) != PA_OK) {
		fprintf(stderr, "cannot load %s\n", MALI);
		abort();
	}
}

static void
sop_teardown(void)
{
	sop_free(sop);
	sop = NULL;
}

static const char *
norm(const char *in, char out[NORM])
{
	cases_name_normalise(in, out, NORM);
	return out;
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* ------------------------------------------------- name normalisation */

/* Each pair names one person: they must normalise to the same text. */
static const struct {
	const char *a, *b;
} same[] = {
	{ "Aminata Traoré", "TRAORE aminata" },
	{ "Aminata Traoré", "traoré-Aminata" },
	{ "Aminata Traoré", "  Aminata   Traore " },
	{ "Aminata Traoré", "Aminata\tTraoré" },
	{ "Aminata Traoré", "Aminata\u00a0Traoré" }, /* no-break space */
	{ "Aminata Traoré", "AMINATA TRAORÉ" },
	{ "Aminata Traoré", "Àmïnâtá Trãörè" },
	{ "Aminata Traoré", "Aminata_Traore," },
	{ "Aminata Traoré", "Aminata\u2010Traoré" },   /* hyphen */
	{ "Aminata Traoré", "Aminata\u2011Traoré" },   /* no-break hyphen */
	{ "N'Diaye Aminata", "N\u2019Diaye Aminata" }, /* typographic */
	{ "N'Diaye Aminata", "Aminata N'DIAYE" },
	{ "N'Diaye Aminata", "aminata n diaye" },
	{ "Fatoumata Diallo", "Diallo Fatoumata" },
	{ "Mamadou Bakary Keita", "Keita Mamadou Bakary" },
	{ "Mamadou Bakary Keita", "bakary keita-mamadou" },
	{ "François Çağlar", "Francois Caglar" },
	{ "Łukasz Wałęsa", "Lukasz Walesa" },
	{ "Ödön Erdős", "Odon Erdos" },
	{ "Muñoz Núñez", "Munoz Nunez" },
	{ "Straße", "Strasse" },
	{ "Ærø", "AERO" },
	{ "Traore\u0301 Aminata", "Traoré Aminata" }, /* decomposed é */
	{ "Aminata\u0300 Traore\u0301", "Aminata Traore" },
	{ "محمد Traoré", "traore محمد" },
	{ "Moussa 2", "2 moussa" },
};

START_TEST(test_normalise_same_person_same_text)
{
	char a[NORM], b[NORM];

	norm(same[_i].a, a);
	norm(same[_i].b, b);
	ck_assert_msg(a[0] != '\0', "\"%s\" normalised to nothing", same[_i].a);
	ck_assert_msg(strcmp(a, b) == 0,
	    "\"%s\" -> \"%s\" but \"%s\" -> \"%s\"", same[_i].a, a, same[_i].b,
	    b);
}
END_TEST

/* Different people: must not normalise to the same text. */
static const struct {
	const char *a, *b;
} different[] = {
	{ "Fatoumata Diallo", "Fatoumata Diarra" },
	{ "Aminata Traoré", "Aminata Traore Traore" },
	{ "Aminata Traoré", "Aminata" },
	{ "Moussa 2", "Moussa 3" },
	{ "Seydou Keita", "Seydou Keïta Diarra" },
	{ "محمد", "محمود" },
	{ "ߡߊ߬ߟߌ", "ߡߊ߬ߟߌ ߞߊ" },
};

START_TEST(test_normalise_different_people_differ)
{
	char a[NORM], b[NORM];

	norm(different[_i].a, a);
	norm(different[_i].b, b);
	ck_assert_msg(strcmp(a, b) != 0, "\"%s\" and \"%s\" both -> \"%s\"",
	    different[_i].a, different[_i].b, a);
}
END_TEST

/* One word in, its exact folding out. */
static const struct {
	const char *in, *out;
} folds[] = {
	{ "Aminata", "aminata" },
	{ "TRAORÉ", "traore" },
	{ "François", "francois" },
	{ "Ñoño", "nono" },
	{ "Łódź", "lodz" },
	{ "Erdős", "erdos" },
	{ "Straße", "strasse" },
	{ "Æsa", "aesa" },
	{ "Þóra", "thora" },
	{ "Øyvind", "oyvind" },
	{ "Ÿvette", "yvette" },
	{ "Šťastný", "stastny" },
	{ "Ğülşen", "gulsen" },
	{ "Agent007", "agent007" },
	{ "2024", "2024" },
	{ "محمد", "محمد" }, /* kept as is */
	{ "ߡߊ߬ߟߌ", "ߡߊ߬ߟߌ" }, /* N'Ko, kept */
	{ "", "" },
	{ " - ' . ", "" },
	{ "(Aminata)", "aminata" },
};

START_TEST(test_normalise_folds_to_expected_text)
{
	char out[NORM];

	ck_assert_str_eq(norm(folds[_i].in, out), folds[_i].out);
}
END_TEST

START_TEST(test_normalise_latin_letters_become_ascii)
{
	/* Every letter of Latin-1 and Latin Extended-A, in one word each. */
	char in[8], out[NORM];
	unsigned int cp;

	for (cp = 0xC0; cp <= 0x17F; cp++) {
		if (cp == 0xD7 || cp == 0xF7)
			continue; /* multiplication and division signs */
		snprintf(in, sizeof(in), "%c%c", (char)(0xC0 | (cp >> 6)),
		    (char)(0x80 | (cp & 0x3F)));
		norm(in, out);
		ck_assert_msg(is_ascii(out) && out[0] != '\0',
		    "U+%04X -> \"%s\"", cp, out);
		ck_assert_msg(out[0] >= 'a' && out[0] <= 'z',
		    "U+%04X -> \"%s\"", cp, out);
	}
}
END_TEST

START_TEST(test_normalise_word_order_does_not_matter)
{
	static const char *const words[] = { "Mamadou", "Bakary", "Keïta",
		"N'Diaye" };
	char in[128], first[NORM], out[NORM];
	int p[4], i, j, k, l;

	norm("Mamadou Bakary Keïta N'Diaye", first);
	/* All 24 orders. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			for (k = 0; k < 4; k++)
				for (l = 0; l < 4; l++) {
					if (i == j || i == k || i == l ||
					    j == k || j == l || k == l)
						continue;
					p[0] = i, p[1] = j, p[2] = k, p[3] = l;
					snprintf(in, sizeof(in), "%s %s %s %s",
					    words[p[0]], words[p[1]],
					    words[p[2]], words[p[3]]);
					ck_assert_str_eq(norm(in, out), first);
				}
}
END_TEST

static const size_t tiny[] = { 1, 2, 4, 8, 9, 15 };

START_TEST(test_normalise_never_overflows_a_small_buffer)
{
	static const char *const inputs[] = { "Aminata Traoré", "Al Bo Cy Di",
		"ߡߊ߬ߟߌ محمد", "Straße Œuvre" };
	char out[32];
	size_t i, k, outlen = tiny[_i];

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		memset(out, 'X', sizeof(out));
		cases_name_normalise(inputs[i], out, outlen);
		ck_assert_msg(memchr(out, '\0', outlen) != NULL,
		    "no NUL within %zu", outlen);
		ck_assert_uint_lt(strlen(out), outlen);
		for (k = outlen; k < sizeof(out); k++)
			ck_assert_msg(out[k] == 'X', "byte %zu written", k);
	}
	/* outlen 0 writes nothing at all. */
	memset(out, 'X', sizeof(out));
	cases_name_normalise("Aminata", out, 0);
	ck_assert_int_eq(out[0], 'X');
}
END_TEST

START_TEST(test_normalise_handles_long_input)
{
	char *in, out[NORM], out2[NORM];
	size_t i, n = 5000;

	in = malloc(n + 1);
	ck_assert_ptr_nonnull(in);
	for (i = 0; i < n; i++)
		in[i] = i % 7 == 6 ? ' ' : (char)('a' + (char)(i % 26));
	in[n] = '\0';
	cases_name_normalise(in, out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	cases_name_normalise(in, out2, sizeof(out2));
	ck_assert_str_eq(out, out2);
	/* A long run of accented letters (two bytes in, one out). */
	for (i = 0; i + 2 <= n; i += 2) {
		in[i] = (char)0xC3;
		in[i + 1] = (char)0xA9;
	}
	in[i] = '\0';
	cases_name_normalise(in, out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_uint_gt(strlen(out), 0);
	ck_assert_int_eq(out[0], 'e');
	free(in);
}
END_TEST

static const char *const bad_utf8[] = {
	"\xff",
	"\xc3",
	"abc\xc3",
	"abc\xe2\x80",
	"\xf0\x9f\x98",
	"\x80\x80\x80",
	"Trao\xe9",
	"\xc0\xa0x",
	"\xed\xa0\x80",
	"\xf8\x88\x80\x80\x80",
	"a\xfe\xff b",
};

START_TEST(test_normalise_survives_invalid_utf8)
{
	char out[NORM], again[NORM];

	cases_name_normalise(bad_utf8[_i], out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	cases_name_normalise(bad_utf8[_i], again, sizeof(again));
	ck_assert_str_eq(out, again);
}
END_TEST

/* ------------------------------------------------------------ age bands */

static const struct {
	int age;
	const char *band;
} bands[] = {
	{ -100, "unknown" },
	{ -1, "unknown" },
	{ 0, "0-11" },
	{ 11, "0-11" },
	{ 12, "12-17" },
	{ 17, "12-17" },
	{ 18, "18-24" },
	{ 24, "18-24" },
	{ 25, "25-34" },
	{ 34, "25-34" },
	{ 35, "35-49" },
	{ 49, "35-49" },
	{ 50, "50+" },
	{ 120, "50+" },
};

START_TEST(test_age_band_boundaries)
{
	ck_assert_str_eq(cases_age_band(bands[_i].age), bands[_i].band);
}
END_TEST

START_TEST(test_age_bands_are_sop_codes)
{
	int age;

	for (age = -1; age <= 130; age++)
		ck_assert_msg(
		    sop_code_valid(sop, "age_band", cases_age_band(age)),
		    "age %d -> %s", age, cases_age_band(age));
}
END_TEST

/* ------------------------------------------------------------ countries */

static const struct {
	const char *code;
	int valid;
} countries[] = {
	{ "ML", 1 },
	{ "FR", 1 },
	{ "NE", 1 },
	{ "BF", 1 },
	{ "CI", 1 },
	{ "SN", 1 },
	{ "GN", 1 },
	{ "ZW", 1 },
	{ "AD", 1 },
	{ "ml", 0 },
	{ "Ml", 0 },
	{ "XX", 0 },
	{ "M", 0 },
	{ "MLI", 0 },
	{ "", 0 },
	{ "UK", 0 },
	{ "EU", 0 },
	{ "ZZ", 0 },
	{ "M1", 0 },
	{ "AA", 0 },
	{ " ML", 0 },
	{ "ML ", 0 },
};

START_TEST(test_country_valid_table)
{
	ck_assert_int_eq(cases_country_valid(countries[_i].code),
	    countries[_i].valid);
}
END_TEST

START_TEST(test_country_valid_refuses_null)
{
	ck_assert_int_eq(cases_country_valid(NULL), 0);
}
END_TEST

/* ----------------------------------------------------------- validation */

#define OK_ PA_OK, NULL
#define BAD(field) PA_INVALID, field

/* One section object (JSON), patch mode, the answer and the field named. */
static const struct {
	const char *section;
	const char *json;
	int patch;
	enum pa_err want;
	const char *field;
} rows[] = {
	/* Members of the catalogue, of the right type. */
	{ "victim", "{}", 0, OK_ },
	{ "victim",
	    "{\"given_name\": \"Aminata\", \"family_name\": "
	    "\"Traoré\", \"sex\": \"female\", \"age_estimate\": 16, "
	    "\"nationality\": \"ML\", \"languages\": [\"bm\", "
	    "\"fr\"], \"date_of_birth\": \"2009-02-28\"}",
	    0, OK_ },
	{ "identification",
	    "{\"date\": \"2025-01-15\", \"region\": "
	    "\"kayes\", \"place\": \"Gare routière\", \"exploitation_types\": "
	    "[\"forced_labour\", \"forced_begging\"], \"indicators\": "
	    "[\"debt_bondage\"], \"narrative\": \"Ligne 1\\nLigne 2\\tfin\"}",
	    0, OK_ },
	/* Unknown members: the request is wrong, not a field. */
	{ "victim", "{\"favourite_colour\": \"blue\"}", 0, PA_BAD_INPUT,
	    "victim" },
	{ "victim", "{\"narrative\": \"in the other section\"}", 0,
	    PA_BAD_INPUT, "victim" },
	{ "identification", "{\"given_name\": \"Aminata\"}", 0, PA_BAD_INPUT,
	    "identification" },
	{ "victim", "{\"Given_Name\": \"Aminata\"}", 0, PA_BAD_INPUT,
	    "victim" },
	/* Not an object. */
	{ "victim", "[]", 0, BAD("victim") },
	/* Wrong types. */
	{ "victim", "{\"given_name\": 42}", 0, BAD("victim.given_name") },
	{ "victim", "{\"given_name\": [\"Aminata\"]}", 0,
	    BAD("victim.given_name") },
	{ "victim", "{\"given_name\": true}", 0, BAD("victim.given_name") },
	{ "victim", "{\"age_estimate\": \"16\"}", 0,
	    BAD("victim.age_estimate") },
	{ "victim", "{\"age_estimate\": 16.0}", 0, BAD("victim.age_estimate") },
	{ "victim", "{\"sex\": 1}", 0, BAD("victim.sex") },
	{ "victim", "{\"nationality\": [\"ML\"]}", 0,
	    BAD("victim.nationality") },
	{ "victim", "{\"date_of_birth\": 20090228}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"photo\": 12}", 0, BAD("victim.photo") },
	{ "identification", "{\"exploitation_types\": \"forced_labour\"}", 0,
	    BAD("identification.exploitation_types") },
	{ "identification", "{\"exploitation_types\": [1]}", 0,
	    BAD("identification.exploitation_types") },
	/* Dates: real, YYYY-MM-DD, not in the future. */
	{ "victim", "{\"date_of_birth\": \"2026-02-30\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"2023-02-29\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"2024-02-29\"}", 0, OK_ },
	{ "victim", "{\"date_of_birth\": \"2009-13-01\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"2009-04-31\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"2009-4-1\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"01/04/2009\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"1899-12-31\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "victim", "{\"date_of_birth\": \"9999-12-31\"}", 0,
	    BAD("victim.date_of_birth") },
	{ "identification", "{\"date\": \"2009-02-28T00:00\"}", 0,
	    BAD("identification.date") },
	/* Codes of the SOP's categories. */
	{ "victim", "{\"sex\": \"f\"}", 0, BAD("victim.sex") },
	{ "victim", "{\"sex\": \"Female\"}", 0, BAD("victim.sex") },
	{ "identification", "{\"region\": \"paris\"}", 0,
	    BAD("identification.region") },
	{ "identification",
	    "{\"exploitation_types\": [\"forced_labour\", "
	    "\"bogus\"]}",
	    0, BAD("identification.exploitation_types") },
	{ "identification",
	    "{\"exploitation_types\": [\"forced_labour\", "
	    "\"forced_labour\"]}",
	    0, BAD("identification.exploitation_types") },
	{ "identification", "{\"exploitation_types\": []}", 0, OK_ },
	{ "identification",
	    "{\"urgent_needs\": [\"medical_care\", "
	    "\"debt_bondage\"]}",
	    0, BAD("identification.urgent_needs") },
	/* Countries. */
	{ "victim", "{\"nationality\": \"XX\"}", 0, BAD("victim.nationality") },
	{ "victim", "{\"nationality\": \"ml\"}", 0, BAD("victim.nationality") },
	{ "victim", "{\"nationality\": \"MLI\"}", 0,
	    BAD("victim.nationality") },
	/* Integers within the catalogue's bounds. */
	{ "victim", "{\"age_estimate\": 0}", 0, OK_ },
	{ "victim", "{\"age_estimate\": 120}", 0, OK_ },
	{ "victim", "{\"age_estimate\": 121}", 0, BAD("victim.age_estimate") },
	{ "victim", "{\"age_estimate\": -1}", 0, BAD("victim.age_estimate") },
	{ "victim", "{\"age_estimate\": 9223372036854775807}", 0,
	    BAD("victim.age_estimate") },
	/* Languages: codes of the SOP's list, not free text. */
	{ "victim", "{\"languages\": [\"bm\", \"fr\"]}", 0, OK_ },
	{ "victim", "{\"languages\": [\"\"]}", 0, BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"bm\", \"bm\"]}", 0,
	    BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"bambara\"]}", 0,
	    BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"Tante a Kayes: Fatoumata\"]}", 0,
	    BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"BM\"]}", 0, BAD("victim.languages") },
	{ "victim", "{\"languages\": \"bm\"}", 0, BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"region\"]}", 0,
	    BAD("victim.languages") },
	{ "victim", "{\"languages\": [\"kayes\"]}", 0,
	    BAD("victim.languages") },
	{ "victim",
	    "{\"languages\": [\"bm\", \"ff\", \"dogon\", \"snk\", \"son\", "
	    "\"senufo\", \"tmh\", \"bozo\", \"kao\", \"emk\", \"fr\"]}",
	    0, BAD("victim.languages") },
	{ "victim",
	    "{\"languages\": [\"bm\", \"ff\", \"dogon\", \"snk\", \"son\", "
	    "\"senufo\", \"tmh\", \"bozo\", \"kao\", \"fr\"]}",
	    0, OK_ },
	/* Text: not empty, no control characters. */
	{ "victim", "{\"given_name\": \"\"}", 0, BAD("victim.given_name") },
	{ "victim", "{\"given_name\": \"   \"}", 0, BAD("victim.given_name") },
	{ "victim", "{\"given_name\": \"Ami\\u0001nata\"}", 0,
	    BAD("victim.given_name") },
	{ "victim", "{\"given_name\": \"Ami\\u001bnata\"}", 0,
	    BAD("victim.given_name") },
	{ "victim", "{\"given_name\": \"Ami\\u007fnata\"}", 0,
	    BAD("victim.given_name") },
	{ "victim", "{\"given_name\": \"Ami\\u009bnata\"}", 0,
	    BAD("victim.given_name") }, /* C1 CSI */
	{ "victim", "{\"address\": \"Rue 12\\r\\nBamako\"}", 0, OK_ },
	/* Null: clears in a patch, refused otherwise. */
	{ "victim", "{\"given_name\": null}", 0, BAD("victim.given_name") },
	{ "victim", "{\"given_name\": null}", 1, OK_ },
	{ "victim", "{\"photo\": null}", 1, OK_ },
	{ "victim", "{\"bogus\": null}", 1, PA_BAD_INPUT, "victim" },
	/* Photos: standard base64 of a PNG or a JPEG. */
	{ "victim", "{\"photo\": \"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\"}", 0,
	    OK_ },
	{ "victim", "{\"photo\": \"/9j/4AAQSkZJRgABAQEASABIAAD/\"}", 0, OK_ },
	{ "victim",
	    "{\"photo\": \"R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAk"
	    "QBADs=\"}",
	    0, BAD("victim.photo") },
	{ "victim", "{\"photo\": \"Qk1GAAAAAAAAADYAAAAoAAAA\"}", 0,
	    BAD("victim.photo") }, /* BMP */
	{ "victim", "{\"photo\": \"iVBORw0KGgo*AAANSUhEUgAAAAEAAAAB\"}", 0,
	    BAD("victim.photo") }, /* not base64 */
	{ "victim", "{\"photo\": \"iVBORw0KGgoAAAANSUhEUgAAAAEAAAA\"}", 0,
	    BAD("victim.photo") }, /* length */
	{ "victim", "{\"photo\": \"iVBORw0KGgoAAA=NSUhEUgAAAAEAAAAB\"}", 0,
	    BAD("victim.photo") }, /* inner '=' */
	{ "victim",
	    "{\"photo\": \"data:image/png;base64,iVBORw0KGgoAAAANSUhE"
	    "UgAAAAEAAAAB\"}",
	    0, BAD("victim.photo") },
	{ "victim", "{\"photo\": \"iVBORw0KGgo=\"}", 0, BAD("victim.photo") },
	{ "victim", "{\"photo\": \"\"}", 0, BAD("victim.photo") },
};

START_TEST(test_validate_section_table)
{
	struct cases_err err;
	json_error_t jerr;
	json_t *obj;
	enum pa_err rc;

	obj = json_loads(rows[_i].json, 0, &jerr);
	ck_assert_msg(obj != NULL, "row %d: %s", _i, jerr.text);
	memset(&err, 0x55, sizeof(err));
	rc = cases_validate_section(sop, rows[_i].section, obj, rows[_i].patch,
	    &err);
	ck_assert_msg(rc == rows[_i].want, "%s %s: %d, not %d (%s: %s)",
	    rows[_i].section, rows[_i].json, rc, rows[_i].want,
	    rc != PA_OK ? err.field : "", rc != PA_OK ? err.en : "");
	if (rows[_i].want != PA_OK) {
		ck_assert_str_eq(err.field, rows[_i].field);
		ck_assert_ptr_nonnull(err.fr);
		ck_assert_ptr_nonnull(err.en);
		ck_assert_str_ne(err.fr, err.en);
	}
	json_decref(obj);
}
END_TEST

/* A single victim member with a value made at run time. */
static enum pa_err
validate_one(const char *section, const char *member, json_t *v, int patch,
    struct cases_err *err)
{
	json_t *obj = json_object();
	enum pa_err rc;

	ck_assert_int_eq(json_object_set_new(obj, member, v), 0);
	rc = cases_validate_section(sop, section, obj, patch, err);
	json_decref(obj);
	return rc;
}

START_TEST(test_validate_dates_up_to_today)
{
	struct cases_err err;
	char today[11], tomorrow[11];
	time_t t = time(NULL) + 36 * 3600;
	struct tm tm;

	cases_today(today);
	ck_assert_int_eq(validate_one("victim", "date_of_birth",
	                     json_string(today), 0, &err),
	    PA_OK);
	ck_assert_int_eq(
	    validate_one("identification", "date", json_string(today), 0, &err),
	    PA_OK);
	/* UTC today plus 36 hours is tomorrow or later in UTC. */
	gmtime_r(&t, &tm);
	strftime(tomorrow, sizeof(tomorrow), "%Y-%m-%d", &tm);
	ck_assert_str_gt(tomorrow, today);
	ck_assert_int_eq(validate_one("victim", "date_of_birth",
	                     json_string(tomorrow), 0, &err),
	    PA_INVALID);
	ck_assert_str_eq(err.field, "victim.date_of_birth");
	ck_assert_int_eq(validate_one("identification", "date",
	                     json_string(tomorrow), 0, &err),
	    PA_INVALID);
	ck_assert_str_eq(err.field, "identification.date");
}
END_TEST

/* n copies of a UTF-8 character. */
static json_t *
repeated(const char *ch, size_t n)
{
	size_t l = strlen(ch), i;
	char *s = malloc(l * n + 1);
	json_t *v;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * l, ch, l);
	s[l * n] = '\0';
	v = json_string(s);
	free(s);
	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(test_validate_text_length_counts_characters)
{
	const struct sop_field *f = sop_field(sop, "victim", "given_name");
	struct cases_err err;
	size_t max;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(f->max, 0);
	max = (size_t)f->max;
	ck_assert_int_eq(
	    validate_one("victim", "given_name", repeated("a", max), 0, &err),
	    PA_OK);
	ck_assert_int_eq(validate_one("victim", "given_name",
	                     repeated("a", max + 1), 0, &err),
	    PA_INVALID);
	ck_assert_str_eq(err.field, "victim.given_name");
	/* Two bytes each, one character each. */
	ck_assert_int_eq(
	    validate_one("victim", "given_name", repeated("é", max), 0, &err),
	    PA_OK);
	ck_assert_int_eq(validate_one("victim", "given_name",
	                     repeated("é", max + 1), 0, &err),
	    PA_INVALID);
	ck_assert_int_eq(
	    validate_one("victim", "given_name", repeated("ߡ", max), 0, &err),
	    PA_OK);
	/* The narrative is long, but not without end. */
	f = sop_field(sop, "identification", "narrative");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(validate_one("identification", "narrative",
	                     repeated("x", (size_t)f->max), 0, &err),
	    PA_OK);
	ck_assert_int_eq(validate_one("identification", "narrative",
	                     repeated("x", (size_t)f->max + 1), 0, &err),
	    PA_INVALID);
}
END_TEST

/* Standard base64 of a PNG header followed by zeros, decoding to n bytes. */
static json_t *
png_of(size_t n)
{
	static const char head[] = "iVBORw0KGgoAAAANSUhEUgAA"; /* 18 bytes */
	size_t groups = (n + 2) / 3, len = groups * 4, i;
	char *s = malloc(len + 1);
	json_t *v;

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_ge(n, 18);
	memcpy(s, head, 24);
	for (i = 24; i < len; i++)
		s[i] = 'A';
	if (n % 3 == 1) {
		s[len - 2] = '=';
		s[len - 1] = '=';
	} else if (n % 3 == 2)
		s[len - 1] = '=';
	s[len] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

START_TEST(test_validate_photo_size_limit)
{
	const struct sop_field *f = sop_field(sop, "victim", "photo");
	struct cases_err err;
	size_t max;

	ck_assert_ptr_nonnull(f);
	max = f->max > 0 ? (size_t)f->max : 2 * 1024 * 1024;
	ck_assert_int_eq(validate_one("victim", "photo", png_of(max), 0, &err),
	    PA_OK);
	ck_assert_int_eq(
	    validate_one("victim", "photo", png_of(max + 1), 0, &err),
	    PA_INVALID);
	ck_assert_str_eq(err.field, "victim.photo");
	ck_assert_int_eq(
	    validate_one("victim", "photo", png_of(max + 2), 0, &err),
	    PA_INVALID);
	ck_assert_int_eq(validate_one("victim", "photo", png_of(1000), 0, &err),
	    PA_OK);
}
END_TEST

START_TEST(test_validate_section_null_object_is_nothing_to_check)
{
	struct cases_err err;

	ck_assert_int_eq(cases_validate_section(sop, "victim", NULL, 0, &err),
	    PA_OK);
}
END_TEST

START_TEST(test_validate_every_catalogue_field_refuses_a_wrong_type)
{
	struct cases_err err;
	char want[128];
	size_t i;
	json_t *v;

	/* An object is the wrong type for every field of the catalogue. */
	for (i = 0; i < sop->nfields; i++) {
		const struct sop_field *f = &sop->fields[i];

		if (strcmp(f->section, "victim") != 0 &&
		    strcmp(f->section, "identification") != 0)
			continue;
		v = json_pack("{s:s}", "x", "y");
		ck_assert_msg(validate_one(f->section, f->name, v, 0, &err) ==
		                  PA_INVALID,
		    "%s.%s", f->section, f->name);
		snprintf(want, sizeof(want), "%s.%s", f->section, f->name);
		ck_assert_str_eq(err.field, want);
	}
}
END_TEST

/* --------------------------------------------------------------- suite */

static Suite *
cases_suite(void)
{
	Suite *s = suite_create("cases");
	TCase *tc;

	tc = tcase_create("normalise");
	tcase_add_loop_test(tc, test_normalise_same_person_same_text, 0,
	    (int)(sizeof(same) / sizeof(same[0])));
	tcase_add_loop_test(tc, test_normalise_different_people_differ, 0,
	    (int)(sizeof(different) / sizeof(different[0])));
	tcase_add_loop_test(tc, test_normalise_folds_to_expected_text, 0,
	    (int)(sizeof(folds) / sizeof(folds[0])));
	tcase_add_test(tc, test_normalise_latin_letters_become_ascii);
	tcase_add_test(tc, test_normalise_word_order_does_not_matter);
	tcase_add_loop_test(tc, test_normalise_never_overflows_a_small_buffer,
	    0, (int)(sizeof(tiny) / sizeof(tiny[0])));
	tcase_add_test(tc, test_normalise_handles_long_input);
	tcase_add_loop_test(tc, test_normalise_survives_invalid_utf8, 0,
	    (int)(sizeof(bad_utf8) / sizeof(bad_utf8[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("codes");
	tcase_add_unchecked_fixture(tc, sop_setup, sop_teardown);
	tcase_add_loop_test(tc, test_age_band_boundaries, 0,
	    (int)(sizeof(bands) / sizeof(bands[0])));
	tcase_add_test(tc, test_age_bands_are_sop_codes);
	tcase_add_loop_test(tc, test_country_valid_table, 0,
	    (int)(sizeof(countries) / sizeof(countries[0])));
	tcase_add_test(tc, test_country_valid_refuses_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("validate");
	tcase_add_unchecked_fixture(tc, sop_setup, sop_teardown);
	tcase_add_loop_test(tc, test_validate_section_table, 0,
	    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_validate_dates_up_to_today);
	tcase_add_test(tc, test_validate_text_length_counts_characters);
	tcase_add_test(tc, test_validate_photo_size_limit);
	tcase_add_test(tc,
	    test_validate_section_null_object_is_nothing_to_check);
	tcase_add_test(tc,
	    test_validate_every_catalogue_field_refuses_a_wrong_type);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cases_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
