/*
 * Encrypted case records against a real server and a real PostgreSQL with
 * the demo data: creation with every field, what each organisation and
 * role reads (as the SOP file says, read from GET /api/v1/sop), what a
 * pg_dump holds, ciphertexts that do not open elsewhere, validation, updates
 * with versions, lists and cursors, search by name without a name in any
 * URL, duplicates through blind indexes, the audit of identity reads,
 * erasure (crypto-shredding), assignment, and master key rotation.
 *
 * Each test runs on a database and a server of its own (a checked
 * fixture), so that counts and references start from nothing; the
 * validation refusals, which store nothing, share one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "world.h"

/* ======================================================================
 * Helpers of this suite (the shared ones are in world.h).
 */

/* A 1x1 PNG, and a 1x1 GIF (not an accepted photo format). */
#define PNG_1X1                                                                \
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD" \
	"hgGAWjR9awAAAABJRU5ErkJggg=="
#define GIF_1X1 "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

/* Distinctive values, searched for in dumps. */
#define V_GIVEN "Assitan"
#define V_FAMILY "Diarra-Zqw"
#define V_OTHER "Sitan Diarrassouba-Kel"
#define V_DOB "1991-07-23"
#define V_PHONE "+223 76 54 32 19"
#define V_ADDRESS "Rue 412 porte 27, Hamdallaye ACI"
#define V_IDDOC "NINA-4471-9920-XQ"
#define V_PLACE "Marché de Médina-Coura, allée 9"
#define V_NARRATIVE                                                               \
	"Recrutée à Ségou par une intermédiaire dite Tanti Awa-Kolondiéba, " \
	"elle travaillait sans salaire depuis deux ans."

static struct env ce;

static void
ce_setup(void)
{
	env_start(&ce);
}

static void
ce_teardown(void)
{
	env_stop(&ce);
}

/* The loaded SOP, as the server serves it (caller decrefs). */
static json_t *
served_sop(const struct sess *s)
{
	struct res x = call(&ce.srv, s, "GET", "/api/v1/sop", NULL);
	json_t *j;

	EXPECT(x, 200, "GET /api/v1/sop");
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

/* The first code of a SOP category. */
static const char *
first_code(json_t *sop, const char *category, size_t idx)
{
	json_t *codes =
	    jpath(jpath(jpath(sop, "categories"), category), "codes");
	const char *c = json_string_value(
	    json_object_get(json_array_get(codes, idx), "code"));

	ck_assert_msg(c != NULL, "no code %zu in category %s", idx, category);
	return c;
}

static int
in_array(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	if (arr == NULL)
		return 1; /* absent: any */
	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/*
 * Does the SOP let (kind, role) with these consents in force see field
 * section.name? One matching grant is enough (sop/README.md).
 */
static int
sop_visible(json_t *sop, const char *section, const char *name,
    const char *kind, const char *role, const char *const *consents)
{
	json_t *fields = json_object_get(sop, "fields"), *f, *g;
	const char *need;
	size_t i, k, c;

	json_array_foreach(fields, i, f)
	{
		if (strcmp(jstr(f, "section"), section) != 0 ||
		    strcmp(jstr(f, "name"), name) != 0)
			continue;
		json_array_foreach(json_object_get(f, "visible"), k, g)
		{
			int ok = 0;

			if (!in_array(json_object_get(g, "kinds"), kind) ||
			    !in_array(json_object_get(g, "roles"), role))
				continue;
			need = json_string_value(json_object_get(g, "consent"));
			if (need == NULL)
				return 1;
			for (c = 0; consents != NULL && consents[c] != NULL;
			     c++)
				if (strcmp(consents[c], need) == 0)
					ok = 1;
			if (ok)
				return 1;
		}
		return 0;
	}
	ck_abort_msg("the SOP has no field %s.%s", section, name);
	return 0;
}

/*
 * Checks a case as read by (kind, role): every member sent that the SOP
 * lets it see is there, equal; every other one is absent (not null).
 */
static void
check_view(json_t *sop, json_t *sent, json_t *got, const char *kind,
    const char *role, const char *const *consents, const char *who)
{
	static const char *const sections[] = { "victim", "identification" };
	const char *name;
	json_t *v, *have;
	size_t i;

	for (i = 0; i < 2; i++) {
		json_t *sec = json_object_get(got, sections[i]);

		ck_assert_msg(json_is_object(sec), "%s: no %s object", who,
		    sections[i]);
		json_object_foreach(json_object_get(sent, sections[i]), name, v)
		{
			have = json_object_get(sec, name);
			if (sop_visible(sop, sections[i], name, kind, role,
			        consents)) {
				char *a = json_dumps(v, JSON_ENCODE_ANY);
				char *b =
				    have ? json_dumps(have, JSON_ENCODE_ANY)
				         : NULL;

				ck_assert_msg(have != NULL &&
				                  json_equal(v, have),
				    "%s: %s.%s sent %s, read %s", who,
				    sections[i], name, a, b ? b : "(absent)");
				free(a);
				free(b);
			} else
				ck_assert_msg(have == NULL,
				    "%s: %s.%s is shown to %s/%s", who,
				    sections[i], name, kind, role);
		}
		/* Nothing shown that was not sent. */
		json_object_foreach(sec, name, v)
		{
			ck_assert_msg(
			    json_object_get(json_object_get(sent, sections[i]),
			        name) != NULL,
			    "%s: %s.%s appears from nowhere", who, sections[i],
			    name);
		}
	}
}

/* A case with every field, codes taken from the served SOP. */
static json_t *
full_case(json_t *sop)
{
	char d[11];

	today(d);
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:[s], s:s, "
	                 "s:s, s:s, s:s}, "
	                 "s:{s:s, s:s, s:s, s:[s, s], s:[s], s:[s], s:s}}",
	    "victim", "given_name", V_GIVEN, "family_name", V_FAMILY,
	    "other_names", V_OTHER, "date_of_birth", V_DOB, "age_estimate", 35,
	    "sex", "female", "nationality", "ML", "languages", "bm",
	    "phone", V_PHONE, "address", V_ADDRESS, "id_document", V_IDDOC,
	    "photo", PNG_1X1, "identification", "date", d, "region",
	    first_code(sop, "region", 0), "place", V_PLACE, "indicators",
	    first_code(sop, "indicator", 1), first_code(sop, "indicator", 2),
	    "exploitation_types", first_code(sop, "exploitation_type", 3),
	    "urgent_needs", first_code(sop, "urgent_need", 1), "narrative",
	    V_NARRATIVE);
}

/* A case with a name (and a date of birth when dob is set). */
static json_t *
named_case(const char *given, const char *family, const char *dob)
{
	char d[11];
	json_t *c;

	today(d);
	c = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	    "given_name", given, "family_name", family, "sex", "female",
	    "identification", "date", d, "region", "bamako",
	    "exploitation_types", "forced_labour");
	if (dob != NULL)
		json_object_set_new(json_object_get(c, "victim"),
		    "date_of_birth", json_string(dob));
	return c;
}

/* Creates a case as s; returns its id in id (40 bytes). */
static void
create_case(const struct sess *s, json_t *body, char id[40], char ref[32])
{
	struct res x = callj(&ce.srv, s, "POST", "/api/v1/cases", body);

	EXPECT(x, 201, "create case");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	if (ref != NULL)
		snprintf(ref, 32, "%s", jstr(x.j, "reference"));
	res_free(&x);
}

static struct res
get_case(const struct sess *s, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	return call(&ce.srv, s, "GET", path, NULL);
}

static long
ncases(void)
{
	return sqln(ce.db, "SELECT count(*) FROM cases", NULL, NULL);
}

static int
list_has(json_t *list, const char *id)
{
	json_t *items = json_object_get(list, "items"), *it;
	size_t i;

	json_array_foreach(items, i, it)
	{
		if (strcmp(jstr(it, "id"), id) == 0)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- creation */

START_TEST(test_create_with_every_field_and_sequential_references)
{
	static const char *const share[] = { "share_with_police", NULL };
	char id1[40], id2[40], ref1[32], ref2[32], want[32], path[128], d[11];
	char cid[40], one_stop[40], rpath[160];
	json_t *sop, *body;
	struct sess p, g;
	struct res x;
	long n1, n2;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	today(d);
	body = full_case(sop);
	create_case(&p, json_incref(body), id1, ref1);
	create_case(&p, named_case("Oumou", "Sangaré", NULL), id2, ref2);

	/* ML-YYYY-NNNNNN, the year of today, numbers one after the other. */
	snprintf(want, sizeof(want), "%s-%.4s-", jstr(sop, "reference_prefix"),
	    d);
	ck_assert_msg(strncmp(ref1, want, strlen(want)) == 0 &&
	                  strlen(ref1) == strlen(want) + 6 &&
	                  strspn(ref1 + strlen(want), "0123456789") == 6,
	    "reference %s", ref1);
	n1 = strtol(ref1 + strlen(want), NULL, 10);
	n2 = strtol(ref2 + strlen(want), NULL, 10);
	ck_assert_int_eq(n1, 1);
	ck_assert_int_eq(n2, n1 + 1);

	/* Read back as the police: what the SOP lets them see. */
	x = get_case(&p, id1);
	EXPECT(x, 200, "GET the case");
	ck_assert_str_eq(jstr(x.j, "reference"), ref1);
	ck_assert_str_eq(jstr(x.j, "stage"), jstr(sop, "initial_stage"));
	ck_assert_int_eq(jint(x.j, "version"), 1);
	ck_assert_str_eq(jstr(x.j, "lead_organisation.id"), p.org_id);
	ck_assert_str_eq(jstr(x.j, "victim.given_name"), V_GIVEN);
	ck_assert_str_eq(jstr(x.j, "victim.photo"), PNG_1X1);
	check_view(sop, body, x.j, "police", "caseworker", NULL, "police");
	/* What the SOP says of the narrative, and what the server does. */
	ck_assert(!sop_visible(sop, "identification", "narrative", "police",
	    "caseworker", NULL));
	ck_assert(sop_visible(sop, "identification", "narrative", "police",
	    "caseworker", share));
	ck_assert_ptr_null(jpath(x.j, "identification.narrative"));
	ck_assert_msg(strstr(x.body, "Tanti Awa") == NULL,
	    "the narrative leaks");
	res_free(&x);

	/*
	 * With the victim's share_with_police consent, the SOP widens it.
	 * The consent is recorded by the protection side that heard the
	 * victim: the one-stop center, once on the case.
	 */
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", id1);
	x = callj(&ce.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", "assistance", "given_by",
	        "victim", "date", d));
	EXPECT(x, 201, "assistance consent");
	snprintf(cid, sizeof(cid), "%s", jstr(x.j, "id"));
	res_free(&x);
	org_id_of(&ce, "guichet.agent", one_stop);
	snprintf(rpath, sizeof(rpath), "/api/v1/cases/%s/referrals", id1);
	x = callj(&ce.srv, &p, "POST", rpath,
	    json_pack("{s:s, s:s, s:s, s:s}", "to_organisation_id", one_stop,
	        "service", "psychosocial", "urgency", "normal", "consent_id",
	        cid));
	EXPECT(x, 201, "referral");
	snprintf(rpath, sizeof(rpath), "/api/v1/referrals/%s/accept",
	    jstr(x.j, "id"));
	res_free(&x);
	login_ok(&ce.srv, "guichet.agent", &g);
	x = call(&ce.srv, &g, "POST", rpath, "{}");
	EXPECT(x, 200, "accept");
	res_free(&x);
	x = callj(&ce.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", "share_with_police",
	        "given_by", "victim", "date", d));
	EXPECT(x, 201, "share_with_police consent");
	res_free(&x);
	x = get_case(&p, id1);
	EXPECT(x, 200, "GET the case with consent");
	check_view(sop, body, x.j, "police", "caseworker", share,
	    "police with consent");
	ck_assert_str_eq(jstr(x.j, "identification.narrative"), V_NARRATIVE);
	res_free(&x);
	json_decref(body);
	json_decref(sop);
}
END_TEST

START_TEST(test_other_organisations_cannot_see_a_case)
{
	static const char *const field_users[] = { "refuge.gao", "ong.agent",
		"frontiere.agent" };
	static const char *const outsiders[] = { "comite.analyste", "admin" };
	char id[40];
	json_t *sop;
	struct sess p, s;
	struct res x;
	size_t i;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), id, NULL);
	json_decref(sop);
	for (i = 0; i < 3; i++) {
		login_ok(&ce.srv, field_users[i], &s);
		x = get_case(&s, id);
		ck_assert_error(&x.r, 404, "not_found");
		res_free(&x);
		x = call(&ce.srv, &s, "GET", "/api/v1/cases", NULL);
		EXPECT(x, 200, field_users[i]);
		ck_assert_msg(!list_has(x.j, id) && strstr(x.body, id) == NULL,
		    "%s lists the case", field_users[i]);
		res_free(&x);
		x = callj(&ce.srv, &s, "POST", "/api/v1/cases/search",
		    json_pack("{s:s}", "name", V_GIVEN " " V_FAMILY));
		EXPECT(x, 200, "search");
		ck_assert_msg(!list_has(x.j, id), "%s finds the case",
		    field_users[i]);
		res_free(&x);
	}
	for (i = 0; i < 2; i++) {
		login_ok(&ce.srv, outsiders[i], &s);
		x = get_case(&s, id);
		ck_assert_error(&x.r, 403, "forbidden");
		ck_assert_msg(strstr(x.body, V_GIVEN) == NULL, "leak");
		res_free(&x);
	}
}
END_TEST

START_TEST(test_a_dump_holds_no_identity)
{
	static const char *const secrets[] = { V_GIVEN, V_FAMILY, V_OTHER,
		V_DOB, V_PHONE, V_ADDRESS, V_IDDOC, V_PLACE, V_NARRATIVE,
		"Tanti Awa-Kolondiéba" };
	char id[40];
	json_t *sop;
	struct sess p;
	char *dump;
	size_t i;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), id, NULL);
	json_decref(sop);
	dump = pg_dump_text(&ce);
	ck_assert_msg(strstr(dump, id) != NULL, "the case is not in the dump");
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_absent(dump, secrets[i], "the dump");
	free(dump);
}
END_TEST

/* ------------------------------------------------------ ciphertexts */

START_TEST(test_a_ciphertext_moved_to_another_row_or_column_does_not_open)
{
	char a[40], b[40], c[40], sql[512];
	struct sess p;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	create_case(&p, named_case("Bintou", "Coulibaly", NULL), a, NULL);
	create_case(&p, named_case("Kadiatou", "Keïta", NULL), b, NULL);
	create_case(&p, named_case("Nana", "Dembélé", NULL), c, NULL);

	/* A's given name onto B's row. */
	snprintf(sql, sizeof(sql),
	    "UPDATE case_fields SET value = (SELECT value FROM case_fields "
	    "WHERE case_id = '%s' AND field = 'victim.given_name') WHERE "
	    "case_id = '%s' AND field = 'victim.given_name'",
	    a, b);
	ck_assert_int_eq(harness_exec(ce.db, sql), 0);
	x = get_case(&p, b);
	ck_assert_error(&x.r, 500, "data_unreadable");
	ck_assert_msg(strstr(x.body, "Bintou") == NULL, "A's name shows");
	res_free(&x);

	/* C's given name onto its own family name. */
	snprintf(sql, sizeof(sql),
	    "UPDATE case_fields SET value = (SELECT value FROM case_fields "
	    "WHERE case_id = '%s' AND field = 'victim.given_name') WHERE "
	    "case_id = '%s' AND field = 'victim.family_name'",
	    c, c);
	ck_assert_int_eq(harness_exec(ce.db, sql), 0);
	x = get_case(&p, c);
	ck_assert_error(&x.r, 500, "data_unreadable");
	ck_assert_msg(strstr(x.body, "Nana") == NULL, "the name shows");
	res_free(&x);

	/* A itself is untouched. */
	x = get_case(&p, a);
	EXPECT(x, 200, "case A");
	ck_assert_str_eq(jstr(x.j, "victim.given_name"), "Bintou");
	res_free(&x);
}
END_TEST

/* ------------------------------------------------------- validation */

static const struct {
	const char *section;
	const char *name;
	const char *value; /* JSON */
	const char *field; /* the error's field */
} bad_values[] = {
	{ "identification", "date", "\"2099-01-01\"", "identification.date" },
	{ "victim", "date_of_birth", "\"2026-02-30\"", "victim.date_of_birth" },
	{ "victim", "date_of_birth", "\"2099-12-31\"", "victim.date_of_birth" },
	{ "victim", "nationality", "\"XX\"", "victim.nationality" },
	{ "identification", "exploitation_types", "[\"sorcellerie\"]",
	    "identification.exploitation_types" },
	{ "identification", "region", "\"paris\"", "identification.region" },
	{ "victim", "age_estimate", "200", "victim.age_estimate" },
	{ "victim", "given_name", NULL, "victim.given_name" }, /* 500 chars */
	{ "victim", "photo", "\"" GIF_1X1 "\"", "victim.photo" },
	{ "victim", "sex", "\"homme\"", "victim.sex" },
	/* Languages are codes of the SOP's list: free text would be kept in
	 * clear, survive an erasure and could name a person. */
	{ "victim", "languages", "[\"Tante a Kayes: Fatoumata\"]",
	    "victim.languages" },
	{ "victim", "languages", "[\"bambara\"]", "victim.languages" },
	{ "victim", "languages", "[\"bm\", \"kayes\"]", "victim.languages" },
};

START_TEST(test_each_bad_field_is_422_naming_it_and_stores_nothing)
{
	char d[11], longname[512];
	json_t *body, *v;
	struct sess p;
	struct res x;
	long before, fields;

	login_ok(&ce.srv, "police.agent", &p);
	today(d);
	before = ncases();
	fields = sqln(ce.db, "SELECT count(*) FROM case_fields", NULL, NULL);
	body = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	    "given_name", "Awa", "family_name", "Sidibé", "sex", "female",
	    "identification", "date", d, "region", "bamako",
	    "exploitation_types", "forced_labour");
	if (bad_values[_i].value != NULL)
		v = json_loads(bad_values[_i].value, JSON_DECODE_ANY, NULL);
	else {
		memset(longname, 'a', 500);
		longname[500] = '\0';
		v = json_string(longname);
	}
	ck_assert_ptr_nonnull(v);
	json_object_set_new(json_object_get(body, bad_values[_i].section),
	    bad_values[_i].name, v);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases", body);
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), bad_values[_i].field);
	res_free(&x);
	ck_assert_int_eq(ncases(), before);
	ck_assert_int_eq(
	    sqln(ce.db, "SELECT count(*) FROM case_fields", NULL, NULL),
	    fields);
}
END_TEST

START_TEST(test_malformed_case_bodies_are_400)
{
	static const char *const bodies[] = { "[1, 2]", "\"case\"",
		"{\"victim\": {\"sex\": \"female\", \"favourite_colour\": "
		"\"blue\"}, \"identification\": {\"date\": \"2026-01-05\", "
		"\"region\": \"bamako\", \"exploitation_types\": [\"other\"]}}",
		"{\"victim\": {\"sex\": \"female\"}, \"identification\": "
		"{\"date\": \"2026-01-05\", \"region\": \"bamako\", "
		"\"exploitation_types\": [\"other\"]}, \"extra\": 1}" };
	struct sess p;
	struct res x;
	long before;
	size_t i;

	login_ok(&ce.srv, "police.agent", &p);
	before = ncases();
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		x = call(&ce.srv, &p, "POST", "/api/v1/cases", bodies[i]);
		ck_assert_msg(x.st == 400, "body %zu: %ld %s", i, x.st, x.body);
		ck_assert_error(&x.r, 400, "bad_request");
		res_free(&x);
	}
	ck_assert_int_eq(ncases(), before);
}
END_TEST

/* ----------------------------------------------------------- updates */

START_TEST(test_update_with_versions_null_clears_and_hidden_fields_stay)
{
	char id[40], path[128], before[8192], after[8192];
	json_t *sop;
	struct sess p;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), id, NULL);
	json_decref(sop);
	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);

	x = callj(&ce.srv, &p, "PATCH", path,
	    json_pack("{s:i, s:{s:s}}", "version", 1, "victim", "phone",
	        "+223 60 00 00 01"));
	EXPECT(x, 200, "PATCH at version 1");
	ck_assert_int_eq(jint(x.j, "version"), 2);
	ck_assert_str_eq(jstr(x.j, "victim.phone"), "+223 60 00 00 01");
	res_free(&x);

	x = callj(&ce.srv, &p, "PATCH", path,
	    json_pack("{s:i, s:{s:s}}", "version", 1, "victim", "phone",
	        "+223 60 00 00 02"));
	ck_assert_error(&x.r, 409, "conflict");
	res_free(&x);

	x = callj(&ce.srv, &p, "PATCH", path,
	    json_pack("{s:i, s:{s:n}}", "version", 2, "victim", "phone"));
	EXPECT(x, 200, "PATCH phone: null");
	ck_assert_int_eq(jint(x.j, "version"), 3);
	ck_assert_ptr_null(jpath(x.j, "victim.phone"));
	ck_assert_str_eq(jstr(x.j, "victim.given_name"), V_GIVEN);
	res_free(&x);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM case_fields WHERE case_id = "
	                     "$1 AND field = 'victim.phone'",
	                     id, NULL),
	    0);
	x = get_case(&p, id);
	ck_assert_ptr_null(jpath(x.j, "victim.phone"));
	ck_assert_int_eq(jint(x.j, "version"), 3);
	res_free(&x);

	/* The narrative, which the police may not see, they may not set. */
	sqlv(ce.db,
	    "SELECT encode(value, 'hex') FROM case_fields WHERE "
	    "case_id = $1 AND field = 'identification.narrative'",
	    id, NULL, before, sizeof(before));
	ck_assert_uint_gt(strlen(before), 0);
	x = callj(&ce.srv, &p, "PATCH", path,
	    json_pack("{s:i, s:{s:s}}", "version", 3, "identification",
	        "narrative", "Récit réécrit par la police"));
	ck_assert_msg(x.st == 403 || x.st == 422, "PATCH narrative: %ld %s",
	    x.st, x.body);
	ck_assert_str_eq(jstr(x.j, "error.field"), "identification.narrative");
	res_free(&x);
	x = callj(&ce.srv, &p, "PATCH", path,
	    json_pack("{s:i, s:{s:n}}", "version", 3, "identification",
	        "narrative"));
	ck_assert_msg(x.st == 403 || x.st == 422,
	    "PATCH narrative: null: %ld %s", x.st, x.body);
	res_free(&x);
	sqlv(ce.db,
	    "SELECT encode(value, 'hex') FROM case_fields WHERE "
	    "case_id = $1 AND field = 'identification.narrative'",
	    id, NULL, after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(
	    sqln(ce.db, "SELECT version FROM cases WHERE id = $1", id, NULL),
	    3);
}
END_TEST

/* ------------------------------------------------------------- lists */

/* The ids of a list answer, in order, joined by spaces. */
static void
list_ids(json_t *list, char *out, size_t outlen)
{
	json_t *it;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(list, "items"), i, it)
	{
		used += (size_t)snprintf(out + used,
		    used < outlen ? outlen - used : 0, "%s ", jstr(it, "id"));
	}
}

START_TEST(test_list_newest_first_with_cursor_and_filters)
{
	char ids[4][40], refs[4][32], all[1024], paged[1024], path[256];
	char cursor[128], d[11], prev_at[32] = "";
	struct sess p, chef;
	struct res x;
	json_t *it;
	size_t i;
	int pages = 0;

	login_ok(&ce.srv, "police.agent", &p);
	today(d);
	create_case(&p, named_case("Awa", "Sidibé", NULL), ids[0], refs[0]);
	create_case(&p, named_case("Fanta", "Camara", NULL), ids[1], refs[1]);
	create_case(&p, named_case("Djeneba", "Touré", NULL), ids[2], refs[2]);
	login_ok(&ce.srv, "police.chef", &chef);
	create_case(&chef, named_case("Mariam", "Doumbia", NULL), ids[3],
	    refs[3]);

	x = call(&ce.srv, &p, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "list");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 4);
	/* Newest first. */
	ck_assert_str_eq(jstr(x.j, "items.0.id"), ids[3]);
	ck_assert_str_eq(jstr(x.j, "items.1.id"), ids[2]);
	ck_assert_str_eq(jstr(x.j, "items.2.id"), ids[1]);
	ck_assert_str_eq(jstr(x.j, "items.3.id"), ids[0]);
	json_array_foreach(json_object_get(x.j, "items"), i, it)
	{
		if (prev_at[0] != '\0')
			ck_assert(strcmp(jstr(it, "opened_at"), prev_at) <= 0);
		snprintf(prev_at, sizeof(prev_at), "%s", jstr(it, "opened_at"));
		ck_assert_str_eq(jstr(it, "stage"), "identification");
		ck_assert_str_eq(jstr(it, "lead_organisation.id"), p.org_id);
		ck_assert_str_eq(jstr(it, "sex"), "female");
		ck_assert_ptr_nonnull(jpath(it, "age_band"));
	}
	/* The police see identity: display names. */
	ck_assert_str_eq(jstr(x.j, "items.3.display_name"), "Awa Sidibé");
	ck_assert_str_eq(jstr(x.j, "items.0.display_name"), "Mariam Doumbia");
	list_ids(x.j, all, sizeof(all));
	res_free(&x);

	/* One by one with the cursor: the same cases, in the same order. */
	paged[0] = '\0';
	snprintf(path, sizeof(path), "/api/v1/cases?limit=1");
	for (;;) {
		char one[128];

		x = call(&ce.srv, &p, "GET", path, NULL);
		EXPECT(x, 200, "page");
		ck_assert_uint_le(
		    json_array_size(json_object_get(x.j, "items")), 1);
		list_ids(x.j, one, sizeof(one));
		strncat(paged, one, sizeof(paged) - strlen(paged) - 1);
		snprintf(cursor, sizeof(cursor), "%s",
		    jstr(x.j, "next_cursor"));
		res_free(&x);
		ck_assert_int_lt(++pages, 10);
		if (cursor[0] == '\0')
			break;
		snprintf(path, sizeof(path), "/api/v1/cases?limit=1&cursor=%s",
		    cursor);
	}
	ck_assert_str_eq(paged, all);
	ck_assert_int_ge(pages, 4);

	/* ?q=: a reference. */
	snprintf(path, sizeof(path), "/api/v1/cases?q=%s", refs[1]);
	x = call(&ce.srv, &p, "GET", path, NULL);
	EXPECT(x, 200, "?q=");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 1);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), ids[1]);
	res_free(&x);

	/* ?stage=: move one case on, then filter. */
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", ids[0]);
	x = callj(&ce.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", "assistance", "given_by",
	        "victim", "date", d));
	EXPECT(x, 201, "consent");
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/transitions", ids[0]);
	x = callj(&ce.srv, &p, "POST", path,
	    json_pack("{s:s, s:i}", "transition", "refer_for_assistance",
	        "version", 1));
	EXPECT(x, 200, "transition");
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?stage=referral", NULL);
	EXPECT(x, 200, "?stage=referral");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 1);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), ids[0]);
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?stage=identification",
	    NULL);
	EXPECT(x, 200, "?stage=identification");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 3);
	ck_assert(!list_has(x.j, ids[0]));
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?stage=nowhere", NULL);
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);

	/* ?assigned=me: each creator has their own. */
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?assigned=me", NULL);
	EXPECT(x, 200, "?assigned=me");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 3);
	ck_assert(!list_has(x.j, ids[3]));
	res_free(&x);
	x = call(&ce.srv, &chef, "GET", "/api/v1/cases?assigned=me", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 1);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), ids[3]);
	res_free(&x);
}
END_TEST

START_TEST(test_case_list_ends_with_a_null_next_cursor)
{
	char id[40];
	struct sess p;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	create_case(&p, named_case("Awa", "Sidibé", NULL), id, NULL);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "list");
	/* API.md: lists answer {"items": [...], "next_cursor": ...}. */
	ck_assert_msg(json_is_null(json_object_get(x.j, "next_cursor")),
	    "the last page has no \"next_cursor\": null member: %s", x.body);
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/referrals", NULL);
	ck_assert_msg(json_is_null(json_object_get(x.j, "next_cursor")),
	    "referrals: %s", x.body);
	res_free(&x);
}
END_TEST

/*
 * The list is written as JSON text by hand: names with quotes, backslashes
 * and tabs come back as they were given.
 */
START_TEST(test_case_list_escapes_what_it_writes)
{
	const char *given = "Awa \"la\" \\ Sidi\tbé";
	char id[40];
	struct sess p;
	struct res x;
	json_t *it;
	size_t i;
	int seen = 0;

	login_ok(&ce.srv, "police.agent", &p);
	create_case(&p, named_case(given, "Koné/", NULL), id, NULL);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "list");
	ck_assert_msg(x.j != NULL, "not JSON: %s", x.body);
	json_array_foreach(json_object_get(x.j, "items"), i, it)
	{
		ck_assert(json_is_false(json_object_get(it, "erased")));
		ck_assert(json_is_null(json_object_get(it, "next_deadline")));
		if (strcmp(jstr(it, "id"), id) != 0)
			continue;
		ck_assert_str_eq(jstr(it, "display_name"),
		    "Awa \"la\" \\ Sidi\tbé Koné/");
		ck_assert_str_eq(jstr(it, "sex"), "female");
		seen++;
	}
	ck_assert_int_eq(seen, 1);
	ck_assert(json_is_null(json_object_get(x.j, "next_cursor")));
	res_free(&x);
}
END_TEST

/* ------------------------------------------------------------ search */

START_TEST(test_search_folds_names_and_never_reads_a_url)
{
	char a[40], b[40], all[1024], filtered[1024];
	struct sess p;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	create_case(&p, named_case("Aminata", "Traoré", "1990-05-17"), a, NULL);
	create_case(&p, named_case("Salimata", "Konaté", NULL), b, NULL);

	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s}", "name", "traore aminata"));
	EXPECT(x, 200, "search");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 1);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), a);
	ck_assert_str_eq(jstr(x.j, "items.0.display_name"), "Aminata Traoré");
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s}", "name", "AMINATA  TRAORÉ"));
	EXPECT(x, 200, "search in capitals");
	ck_assert(list_has(x.j, a));
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s, s:s}", "name", "traore aminata", "date_of_birth",
	        "1990-05-17"));
	EXPECT(x, 200, "search with the date of birth");
	ck_assert(list_has(x.j, a));
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s, s:s}", "name", "traore aminata", "date_of_birth",
	        "1990-05-18"));
	EXPECT(x, 200, "search with another date of birth");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 0);
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s}", "name", "Aminata Konaté"));
	EXPECT(x, 200, "another name");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 0);
	res_free(&x);

	/* A name in the URL filters nothing (or is refused). */
	x = call(&ce.srv, &p, "GET", "/api/v1/cases", NULL);
	list_ids(x.j, all, sizeof(all));
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?name=Salimata", NULL);
	if (x.st == 200) {
		list_ids(x.j, filtered, sizeof(filtered));
		ck_assert_str_eq(filtered, all);
		ck_assert(list_has(x.j, a));
	} else
		ck_assert_msg(x.st == 400 || x.st == 422, "?name=: %ld", x.st);
	res_free(&x);
}
END_TEST

/* -------------------------------------------------------- duplicates */

START_TEST(test_duplicates_are_found_where_the_caller_may_see_them)
{
	char first[40], ngo[40], second[40], third[40];
	struct sess p, o;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	login_ok(&ce.srv, "ong.agent", &o);
	create_case(&p, named_case("Aminata", "Traoré", "1990-05-17"), first,
	    NULL);

	/* Another organisation: the match is not shown, but checked. */
	x = callj(&ce.srv, &o, "POST", "/api/v1/cases",
	    named_case("AMINATA", "TRAORE", NULL));
	EXPECT(x, 201, "NGO case");
	snprintf(ngo, sizeof(ngo), "%s", jstr(x.j, "id"));
	ck_assert_msg(json_is_array(jpath(x.j, "possible_duplicates")) &&
	                  json_array_size(jpath(x.j, "possible_duplicates")) ==
	                      0,
	    "%s", x.body);
	ck_assert_msg(strstr(x.body, first) == NULL, "%s", x.body);
	res_free(&x);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.duplicate_check' AND resource_id = $1",
	                     ngo, NULL),
	    1);

	/* The police again: by name, then by name and date of birth. */
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases",
	    named_case("aminata", "traore", NULL));
	EXPECT(x, 201, "second police case");
	snprintf(second, sizeof(second), "%s", jstr(x.j, "id"));
	ck_assert_uint_eq(json_array_size(jpath(x.j, "possible_duplicates")),
	    1);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.id"), first);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.match"), "name");
	ck_assert_ptr_nonnull(jpath(x.j, "possible_duplicates.0.reference"));
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases",
	    named_case("Traoré", "Aminata", "1990-05-17"));
	EXPECT(x, 201, "third police case");
	snprintf(third, sizeof(third), "%s", jstr(x.j, "id"));
	ck_assert_uint_eq(json_array_size(jpath(x.j, "possible_duplicates")),
	    2);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.id"), second);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.match"), "name");
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.1.id"), first);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.1.match"),
	    "name_and_date_of_birth");
	res_free(&x);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.duplicate_check' AND resource_id = $1",
	                     third, NULL),
	    1);
}
END_TEST

START_TEST(test_every_identity_read_is_audited_with_field_names)
{
	char id[40];
	json_t *sop;
	struct sess p;
	struct res x;
	long before;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), id, NULL);
	json_decref(sop);
	before = sqln(ce.db,
	    "SELECT count(*) FROM audit_log WHERE action = 'case.read' AND "
	    "resource_id = $1",
	    id, NULL);
	x = get_case(&p, id);
	EXPECT(x, 200, "read");
	res_free(&x);
	x = get_case(&p, id);
	res_free(&x);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.read' AND resource_id = $1",
	                     id, NULL),
	    before + 2);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM audit_log WHERE action = "
	                     "'case.read' AND resource_id = $1 AND user_id = "
	                     "$2::uuid AND 'victim.given_name' = ANY(fields) "
	                     "AND 'victim.date_of_birth' = ANY(fields) AND NOT "
	                     "'identification.narrative' = ANY(fields)",
	                     id, p.user_id),
	    2);
}
END_TEST

/* ----------------------------------------------------------- erasure */

START_TEST(test_erasure_shreds_identity_and_keeps_categories)
{
	static const char *const gone[] = { V_GIVEN, V_FAMILY, V_PHONE,
		V_ADDRESS, V_IDDOC, V_PLACE, V_DOB };
	char id[40], path[128], row[256];
	struct sess p, chef;
	json_t *sop;
	struct res x;
	char *dump;
	size_t i;

	login_ok(&ce.srv, "police.agent", &p);
	login_ok(&ce.srv, "police.chef", &chef);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), id, NULL);
	json_decref(sop);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/erase", id);

	x = call(&ce.srv, &p, "POST", path, "{}");
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	ck_assert_int_gt(sqln(ce.db,
	                     "SELECT count(*) FROM case_fields WHERE case_id = "
	                     "$1",
	                     id, NULL),
	    0);

	x = call(&ce.srv, &chef, "POST", path, "{}");
	EXPECT(x, 200, "erase by the supervisor");
	ck_assert(json_is_true(jpath(x.j, "erased")));
	res_free(&x);
	x = call(&ce.srv, &chef, "POST", path, "{}");
	ck_assert_error(&x.r, 409, "conflict");
	res_free(&x);

	x = get_case(&p, id);
	EXPECT(x, 200, "GET an erased case");
	ck_assert(json_is_true(jpath(x.j, "erased")));
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		ck_assert_msg(strstr(x.body, gone[i]) == NULL, "%s still shows",
		    gone[i]);
	ck_assert_ptr_null(jpath(x.j, "victim.given_name"));
	ck_assert_ptr_null(jpath(x.j, "victim.photo"));
	ck_assert_ptr_null(jpath(x.j, "identification.place"));
	ck_assert_str_eq(jstr(x.j, "victim.sex"), "female");
	res_free(&x);

	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM case_fields WHERE case_id = "
	                     "$1",
	                     id, NULL),
	    0);
	ck_assert_int_eq(
	    sqln(ce.db, "SELECT count(*) FROM case_keys WHERE case_id = $1", id,
	        NULL),
	    0);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM case_blind WHERE case_id = "
	                     "$1",
	                     id, NULL),
	    0);
	sqlv(ce.db,
	    "SELECT sex || '|' || age_band || '|' || region || '|' || "
	    "array_to_string(exploitation_types, ',') FROM cases WHERE "
	    "id = $1",
	    id, NULL, row, sizeof(row));
	ck_assert_msg(strncmp(row, "female|35-49|", 13) == 0 &&
	                  strchr(row + 13, '|') != NULL &&
	                  strlen(strchr(row + 13, '|')) > 1,
	    "categories after erasure: %s", row);

	/* Not found by name any more. */
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s}", "name", V_GIVEN " " V_FAMILY));
	ck_assert(!list_has(x.j, id));
	res_free(&x);
	dump = pg_dump_text(&ce);
	ck_assert_msg(strstr(dump, id) != NULL, "the case row is gone");
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_absent(dump, gone[i], "the dump");
	assert_absent(dump, V_NARRATIVE, "the dump");
	free(dump);
	/* Nothing went wrong inside (under ASan: nothing leaked either). */
	ck_assert_msg(harness_server_stop(&ce.srv) == 0,
	    "the server did not exit cleanly after an erasure (log above)");
}
END_TEST

/*
 * What stays in clear after an erasure is what statistics read, no finer:
 * no languages, indicators or urgent needs; the identification date at the
 * first day of its month, the age estimate at the lower bound of its band.
 * The statistics count the erased case in the same cells as before.
 */
static json_t *
stats_now(const struct sess *s, const char *year, const char *by)
{
	char path[160];
	struct res x;
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/stats?from=%s-01-01&to=%s-12-31"
	    "&by=%s", year, year, by);
	x = call(&ce.srv, s, "GET", path, NULL);
	EXPECT(x, 200, path);
	j = json_incref(x.j);
	res_free(&x);
	json_object_del(j, "generated_at");	/* its time of making */
	return j;
}

START_TEST(test_erasure_keeps_only_what_statistics_read)
{
	static const char *const dims[] = { "sex,age_band", "month", "quarter",
		"region", "nationality", "exploitation_type", "child",
		"sex,region" };
	json_t *before[sizeof(dims) / sizeof(dims[0])], *after, *sop, *v;
	char ids[5][40], d[11], month1[11], year[5], path[128], row[128];
	struct sess p, chef, an;
	time_t t = time(NULL);
	struct tm tm;
	struct res x;
	size_t i;

	/* A date within this month that is not its first day. */
	gmtime_r(&t, &tm);
	if (tm.tm_mday == 1) {
		t -= 86400;
		gmtime_r(&t, &tm);
	}
	strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	strftime(month1, sizeof(month1), "%Y-%m-01", &tm);
	strftime(year, sizeof(year), "%Y", &tm);
	login_ok(&ce.srv, "police.agent", &p);
	login_ok(&ce.srv, "police.chef", &chef);
	login_ok(&ce.srv, "comite.analyste", &an);
	sop = served_sop(&p);
	/* The browser offers languages from the SOP's list, with labels. */
	ck_assert_str_eq(first_code(sop, "language", 0), "bm");
	ck_assert_str_eq(jstr(json_array_get(jpath(jpath(jpath(sop,
	    "categories"), "language"), "codes"), 0), "label.fr"), "Bambara");
	/* Five alike, so that their cells are above k = 5's suppression. */
	for (i = 0; i < 5; i++)
		create_case(&p, json_pack("{s:{s:s, s:i, s:s, s:[s, s]}, "
		    "s:{s:s, s:s, s:[s], s:[s], s:[s]}}", "victim", "sex", "male",
		    "age_estimate", 23, "nationality", "SN", "languages", "bm",
		    "ff", "identification", "date", d, "region", "kayes",
		    "exploitation_types", "forced_labour", "indicators",
		    first_code(sop, "indicator", 0), "urgent_needs",
		    first_code(sop, "urgent_need", 0)), ids[i], NULL);
	json_decref(sop);
	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
		before[i] = stats_now(&an, year, dims[i]);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/erase", ids[0]);
	x = call(&ce.srv, &chef, "POST", path, "{}");
	EXPECT(x, 200, "erase");
	res_free(&x);

	x = get_case(&p, ids[0]);
	EXPECT(x, 200, "GET the erased case");
	ck_assert(json_is_true(jpath(x.j, "erased")));
	ck_assert_msg(jpath(x.j, "victim.languages") == NULL,
	    "languages survive the erasure: %s", x.body);
	ck_assert_ptr_null(jpath(x.j, "identification.indicators"));
	ck_assert_ptr_null(jpath(x.j, "identification.urgent_needs"));
	ck_assert_int_eq(jint(x.j, "victim.age_estimate"), 18);
	ck_assert_str_eq(jstr(x.j, "identification.date"), month1);
	ck_assert_str_eq(jstr(x.j, "victim.sex"), "male");
	ck_assert_str_eq(jstr(x.j, "victim.nationality"), "SN");
	ck_assert_str_eq(jstr(x.j, "identification.region"), "kayes");
	v = jpath(x.j, "identification.exploitation_types");
	ck_assert(json_is_array(v) && json_array_size(v) == 1);
	ck_assert_str_eq(json_string_value(json_array_get(v, 0)),
	    "forced_labour");
	res_free(&x);
	/* In the database too, not only in the answer. */
	sqlv(ce.db,
	    "SELECT to_char(identified_on, 'YYYY-MM-DD') || '|' || age_band "
	    "|| '|' || (clear ? 'victim.languages')::text || '|' || "
	    "(clear ->> 'victim.age_estimate') FROM cases WHERE id = $1",
	    ids[0], NULL, row, sizeof(row));
	snprintf(path, sizeof(path), "%s|18-24|false|18", month1);
	ck_assert_str_eq(row, path);
	/* The other four are untouched. */
	x = get_case(&p, ids[1]);
	ck_assert_int_eq(jint(x.j, "victim.age_estimate"), 23);
	ck_assert_str_eq(jstr(x.j, "identification.date"), d);
	ck_assert_ptr_nonnull(jpath(x.j, "victim.languages"));
	res_free(&x);

	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		char *a, *b;

		after = stats_now(&an, year, dims[i]);
		a = json_dumps(before[i], JSON_SORT_KEYS | JSON_COMPACT);
		b = json_dumps(after, JSON_SORT_KEYS | JSON_COMPACT);
		ck_assert_msg(strstr(a, "\"count\":5") != NULL ||
		    strstr(a, "\"count\": 5") != NULL,
		    "by=%s: the five cases are not a visible cell: %s", dims[i],
		    a);
		ck_assert_msg(strcmp(a, b) == 0,
		    "by=%s: statistics changed with the erasure:\n%s\n%s",
		    dims[i], a, b);
		free(a);
		free(b);
		json_decref(after);
		json_decref(before[i]);
	}
}
END_TEST

/* -------------------------------------------------------- assignment */

START_TEST(test_supervisors_reassign_caseworkers_only_take)
{
	char c1[40], c2[40], path[128];
	struct sess p, chef;
	struct res x;

	login_ok(&ce.srv, "police.agent", &p);
	login_ok(&ce.srv, "police.chef", &chef);
	create_case(&chef, named_case("Awa", "Sidibé", NULL), c1, NULL);
	create_case(&chef, named_case("Fanta", "Camara", NULL), c2, NULL);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?assigned=me", NULL);
	ck_assert(!list_has(x.j, c1) && !list_has(x.j, c2));
	res_free(&x);

	x = callj(&ce.srv, &chef, "POST", "/api/v1/cases/reassign",
	    json_pack("{s:[s, s], s:s}", "case_ids", c1, c2, "user_id",
	        p.user_id));
	EXPECT(x, 200, "reassign");
	ck_assert_int_eq(jint(x.j, "reassigned"), 2);
	res_free(&x);
	x = call(&ce.srv, &p, "GET", "/api/v1/cases?assigned=me", NULL);
	ck_assert(list_has(x.j, c1) && list_has(x.j, c2));
	res_free(&x);
	x = call(&ce.srv, &chef, "GET", "/api/v1/cases?assigned=me", NULL);
	ck_assert(!list_has(x.j, c1) && !list_has(x.j, c2));
	res_free(&x);
	x = get_case(&p, c1);
	ck_assert_str_eq(jstr(x.j, "assigned_to.user_id"), p.user_id);
	res_free(&x);

	/* A caseworker cannot give a case to someone else. */
	snprintf(path, sizeof(path), "/api/v1/cases/%s/assignee", c1);
	x = callj(&ce.srv, &p, "PUT", path,
	    json_pack("{s:s}", "user_id", chef.user_id));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/reassign",
	    json_pack("{s:[s], s:s}", "case_ids", c1, "user_id", chef.user_id));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = get_case(&p, c1);
	ck_assert_str_eq(jstr(x.j, "assigned_to.user_id"), p.user_id);
	res_free(&x);
	/* But takes one for themselves; a supervisor gives one back. */
	snprintf(path, sizeof(path), "/api/v1/cases/%s/assignee", c2);
	x = callj(&ce.srv, &chef, "PUT", path,
	    json_pack("{s:s}", "user_id", chef.user_id));
	EXPECT(x, 200, "supervisor assigns");
	res_free(&x);
	x = callj(&ce.srv, &p, "PUT", path,
	    json_pack("{s:s}", "user_id", p.user_id));
	EXPECT(x, 200, "caseworker takes");
	res_free(&x);
}
END_TEST

/* ---------------------------------------------------- key rotation */

START_TEST(test_rotation_keeps_every_case_and_refuses_the_old_key)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *rotate[] = { "rotate-master-key", "--new-key-file", NULL,
		NULL };
	const char *audit[] = { "audit", "verify", NULL };
	const char *serve[] = { "serve", NULL };
	char ids[3][40], newkey[160], out[8192], kid_before[16], kid_after[16];
	char dbv[1200], keyv[300];
	const char *env[8];
	json_t *sop, *seen[3];
	struct sess p;
	struct res x;
	int i, rc;

	login_ok(&ce.srv, "police.agent", &p);
	sop = served_sop(&p);
	create_case(&p, full_case(sop), ids[0], NULL);
	json_decref(sop);
	create_case(&p, named_case("Aminata", "Traoré", "1990-05-17"), ids[1],
	    NULL);
	create_case(&p, named_case("Oumou", "Sangaré", NULL), ids[2], NULL);
	for (i = 0; i < 3; i++) {
		x = get_case(&p, ids[i]);
		EXPECT(x, 200, "read before");
		seen[i] =
		    json_pack("{s:O, s:O}", "victim", jpath(x.j, "victim"),
		        "identification", jpath(x.j, "identification"));
		res_free(&x);
	}
	sqlv(ce.db, "SELECT key_id FROM master_key", NULL, NULL, kid_before,
	    sizeof(kid_before));

	ck_assert_int_eq(harness_server_stop(&ce.srv), 0);
	snprintf(newkey, sizeof(newkey), "%s/new.key", ce.dir);
	keygen[2] = newkey;
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	rotate[2] = newkey;
	rc = env_run(&ce, NULL, rotate, out, sizeof(out));
	ck_assert_msg(rc == 0, "rotate-master-key exited %d: %s", rc, out);
	sqlv(ce.db, "SELECT key_id FROM master_key", NULL, NULL, kid_after,
	    sizeof(kid_after));
	ck_assert_str_ne(kid_after, kid_before);

	ck_assert_int_eq(env_server(&ce, &ce.srv, newkey, NULL), 0);
	login_ok(&ce.srv, "police.agent", &p);
	for (i = 0; i < 3; i++) {
		json_t *now;

		x = get_case(&p, ids[i]);
		EXPECT(x, 200, "read after");
		now = json_pack("{s:O, s:O}", "victim", jpath(x.j, "victim"),
		    "identification", jpath(x.j, "identification"));
		ck_assert_msg(json_equal(now, seen[i]),
		    "case %d reads differently after the rotation", i);
		json_decref(now);
		json_decref(seen[i]);
		res_free(&x);
	}
	rc = env_run(&ce, newkey, audit, out, sizeof(out));
	ck_assert_msg(rc == 0, "audit verify with the new key: %d %s", rc, out);

	/* Blind indexes still match. */
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases",
	    named_case("Aminata", "Traore", "1990-05-17"));
	EXPECT(x, 201, "a duplicate after the rotation");
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.id"), ids[1]);
	ck_assert_str_eq(jstr(x.j, "possible_duplicates.0.match"),
	    "name_and_date_of_birth");
	res_free(&x);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:s}", "name", "Oumou Sangare"));
	ck_assert(list_has(x.j, ids[2]));
	res_free(&x);

	/* The old key no longer serves this database. */
	env_vars(&ce, ce.key, dbv, keyv, env);
	for (i = 0; env[i] != NULL; i++)
		;
	env[i++] = "PASSERELLE_LISTEN=192.0.2.1:9";
	env[i] = NULL;
	rc = harness_run(env, serve, out, sizeof(out));
	ck_assert_msg(rc == 1, "serve with the old key exited %d: %s", rc, out);
	ck_assert_msg(strstr(out, "key") != NULL, "%s", out);
	ck_assert_msg(strstr(out, kid_after) != NULL ||
	                  strstr(out, "PASSERELLE_KEY_FILE") != NULL,
	    "%s", out);
}
END_TEST

START_TEST(test_a_server_left_on_the_old_key_writes_no_case)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *rotate[] = { "rotate-master-key", "--new-key-file", NULL,
		NULL };
	struct harness_server fresh;
	char newkey[160], out[8192];
	struct sess p, q;
	struct res x;
	long before;
	int rc;

	login_ok(&ce.srv, "police.agent", &p);
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases",
	    named_case("Awa", "Sidibé", NULL));
	EXPECT(x, 201, "a case before the rotation");
	res_free(&x);

	/* Rotation while the server runs on, holding the old key. */
	snprintf(newkey, sizeof(newkey), "%s/new.key", ce.dir);
	keygen[2] = newkey;
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	rotate[2] = newkey;
	rc = env_run(&ce, NULL, rotate, out, sizeof(out));
	ck_assert_msg(rc == 0, "rotate-master-key exited %d: %s", rc, out);

	before = ncases();
	x = callj(&ce.srv, &p, "POST", "/api/v1/cases",
	    named_case("Fanta", "Camara", NULL));
	ck_assert_msg(x.st >= 400, "the old key wrote a case: %ld %s", x.st,
	    x.body);
	ck_assert_msg(strstr(x.body, "Fanta") == NULL, "%s", x.body);
	res_free(&x);
	ck_assert_int_eq(ncases(), before);
	ck_assert_int_eq(sqln(ce.db,
	                     "SELECT count(*) FROM case_keys k JOIN master_key "
	                     "m ON true WHERE k.key_id <> m.key_id",
	                     NULL, NULL),
	    0);

	/* A server on the new key writes. */
	ck_assert_int_eq(env_server(&ce, &fresh, newkey, NULL), 0);
	login_ok(&fresh, "police.agent", &q);
	x = callj(&fresh, &q, "POST", "/api/v1/cases",
	    named_case("Fanta", "Camara", NULL));
	EXPECT(x, 201, "a case on the new key");
	res_free(&x);
	ck_assert_int_eq(harness_server_stop(&fresh), 0);
}
END_TEST

/* ====================================================================== */

static Suite *
cases_suite(void)
{
	Suite *s = suite_create("cases");
	TCase *tc;

	tc = tcase_create("cases");
	tcase_add_checked_fixture(tc, ce_setup, ce_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    test_create_with_every_field_and_sequential_references);
	tcase_add_test(tc, test_other_organisations_cannot_see_a_case);
	tcase_add_test(tc, test_a_dump_holds_no_identity);
	tcase_add_test(tc,
	    test_a_ciphertext_moved_to_another_row_or_column_does_not_open);
	tcase_add_test(tc,
	    test_update_with_versions_null_clears_and_hidden_fields_stay);
	tcase_add_test(tc, test_list_newest_first_with_cursor_and_filters);
	tcase_add_test(tc, test_case_list_ends_with_a_null_next_cursor);
	tcase_add_test(tc, test_case_list_escapes_what_it_writes);
	tcase_add_test(tc, test_search_folds_names_and_never_reads_a_url);
	tcase_add_test(tc,
	    test_duplicates_are_found_where_the_caller_may_see_them);
	tcase_add_test(tc,
	    test_every_identity_read_is_audited_with_field_names);
	tcase_add_test(tc, test_erasure_shreds_identity_and_keeps_categories);
	tcase_add_test(tc, test_erasure_keeps_only_what_statistics_read);
	tcase_add_test(tc, test_supervisors_reassign_caseworkers_only_take);
	tcase_add_test(tc,
	    test_rotation_keeps_every_case_and_refuses_the_old_key);
	tcase_add_test(tc, test_a_server_left_on_the_old_key_writes_no_case);
	suite_add_tcase(s, tc);

	/* Refusals store nothing: one server for all of them. */
	tc = tcase_create("validation");
	tcase_add_unchecked_fixture(tc, ce_setup, ce_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc,
	    test_each_bad_field_is_422_naming_it_and_stores_nothing, 0,
	    (int)(sizeof(bad_values) / sizeof(bad_values[0])));
	tcase_add_test(tc, test_malformed_case_bodies_are_400);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_cases", cases_suite);
}
