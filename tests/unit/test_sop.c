/*
 * The SOP loader and validator: sop/mali.json and a second country's file
 * load without a problem; each broken variant of mali.json (made here by
 * changing one thing) is refused with the JSON path and the reason; the
 * lookups, the visibility table and the public document behave; and no
 * input, however wrong, crashes or leaks (ASan and LSan run these tests).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <microhttpd.h>

#include "http/internal.h"
#include "sop/cli.h"
#include "sop/internal.h"
#include "sop/sop.h"

#define MALI PASSERELLE_SOURCE_DIR "/sop/mali.json"
#define OTHER PASSERELLE_SOURCE_DIR "/tests/fixtures/sop/other_country.json"

/* ---- Helpers. ---- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parses buf; *text receives every problem line (caller frees). */
static enum pa_err
parse_capture(const char *buf, size_t len, struct sop **out, char **text)
{
	size_t size = 0;
	enum pa_err rc;
	FILE *f;

	*text = NULL;
	f = open_memstream(text, &size);
	ck_assert_ptr_nonnull(f);
	rc = sop_parse_buf(buf, len, out, f);
	fclose(f);
	return rc;
}

static enum pa_err
parse_json_capture(json_t *doc, char **text)
{
	struct sop *s = NULL;
	enum pa_err rc;
	char *buf;

	buf = json_dumps(doc, JSON_COMPACT);
	ck_assert_ptr_nonnull(buf);
	rc = parse_capture(buf, strlen(buf), &s, text);
	sop_free(s);
	free(buf);
	return rc;
}

static json_t *
load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	return j;
}

static struct sop *
load_sop(const char *path)
{
	struct sop *s = NULL;
	char *text = NULL, *buf;
	size_t len;
	enum pa_err rc;

	buf = slurp(path, &len);
	rc = parse_capture(buf, len, &s, &text);
	ck_assert_msg(rc == PA_OK, "%s: rc %d, problems:\n%s", path, rc,
	    text);
	ck_assert_str_eq(text, "");
	free(text);
	free(buf);
	return s;
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		if (*text == '\n')
			n++;
	return n;
}

/* ---- Loading the real files. ---- */

START_TEST(test_sop_mali_loads_without_problems)
{
	struct sop *s = load_sop(MALI);

	ck_assert_str_eq(s->country, "ML");
	ck_assert_str_eq(s->reference_prefix, "ML");
	ck_assert_str_eq(s->initial_stage, "identification");
	ck_assert_str_eq(s->closed_stage, "closed");
	ck_assert_int_eq(s->child_age, 18);
	ck_assert_int_eq(s->retention_days, 3650);
	ck_assert_ptr_nonnull(s->name.fr);
	ck_assert_ptr_nonnull(s->name.en);
	/* The API's 19 case members, then five note categories. */
	ck_assert_uint_eq(s->nfields, 24);
	ck_assert_ptr_nonnull(sop_field(s, "notes", "general"));
	ck_assert_ptr_nonnull(sop_field(s, "notes", "psychosocial"));
	/* Police read a psychosocial note only under share_with_police. */
	{
		const char *share[] = { "share_with_police" };
		const struct sop_field *ps = sop_field(s, "notes",
		    "psychosocial");

		ck_assert(!sop_field_visible(ps, "police", "caseworker", NULL,
		    0));
		ck_assert(sop_field_visible(ps, "police", "caseworker", share,
		    1));
		ck_assert(sop_field_visible(ps, "one_stop_center",
		    "caseworker", NULL, 0));
		ck_assert(!sop_field_visible(ps, "committee", "analyst", share,
		    1));
	}
	ck_assert_uint_gt(s->ntransitions, 10);
	ck_assert_uint_gt(s->nreferral_rules, 3);
	sop_free(s);
}
END_TEST

START_TEST(test_sop_load_file_and_missing_file)
{
	struct sop *s = NULL;

	ck_assert_int_eq(sop_load_file(MALI, &s, NULL), PA_OK);
	ck_assert_ptr_nonnull(s);
	sop_free(s);
	s = NULL;
	ck_assert_int_eq(sop_load_file("/nonexistent/sop.json", &s, NULL),
	    PA_NOT_FOUND);
	ck_assert_ptr_null(s);
	sop_free(NULL);
}
END_TEST

/* Every code API.md fixes is in mali.json. */
START_TEST(test_sop_mali_has_every_fixed_code)
{
	static const struct {
		const char *category;
		const char *codes;
	} fixed[] = {
		{ "kind", "police ngo shelter one_stop_center child_protection "
		    "labour_inspection judiciary committee administration" },
		{ "role", "caseworker supervisor analyst auditor admin" },
		{ "stage", "identification referral recovery assistance "
		    "return_reintegration follow_up closed" },
		{ "exploitation_type", "sexual_exploitation forced_labour "
		    "forced_begging domestic_servitude forced_marriage "
		    "forced_criminality armed_recruitment organ_removal "
		    "other" },
		{ "service", "shelter medical psychosocial legal_aid "
		    "family_tracing return reintegration child_protection "
		    "interpretation lead_transfer" },
		{ "consent_scope", "assistance share_with_police "
		    "data_processing return" },
		{ "justice_status", "none complaint investigation prosecution "
		    "conviction acquittal dropped" },
		{ "age_band", "0-11 12-17 18-24 25-34 35-49 50+ unknown" },
		{ "sex", "female male other unknown" },
		{ "region", "bamako kayes koulikoro sikasso segou mopti "
		    "tombouctou gao kidal menaka taoudenit nioro kita dioila "
		    "nara bougouni koutiala san douentza bandiagara" },
		{ "urgency", "urgent high normal" },
	};
	struct sop *s = load_sop(MALI);
	char buf[512], *tok, *save;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", fixed[i].codes);
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save))
			ck_assert_msg(sop_code_valid(s, fixed[i].category,
			    tok), "%s %s missing", fixed[i].category, tok);
	}
	ck_assert_ptr_nonnull(sop_category(s, "indicator"));
	ck_assert_ptr_nonnull(sop_category(s, "urgent_need"));
	ck_assert_ptr_nonnull(sop_category(s, "decline_reason"));
	ck_assert_ptr_nonnull(sop_category(s, "control_method"));
	ck_assert_ptr_nonnull(sop_category(s, "recruitment_type"));
	sop_free(s);
}
END_TEST

/* The workflow is data: another file, other stages, same code. */
START_TEST(test_sop_other_country_is_data_not_code)
{
	struct sop *s = load_sop(OTHER), *m = load_sop(MALI);
	const struct sop_urgency *u;

	ck_assert_str_eq(s->country, "NE");
	ck_assert(sop_code_valid(s, "stage", "legal_proceedings"));
	ck_assert(sop_code_valid(s, "stage", "screening"));
	ck_assert(!sop_code_valid(m, "stage", "legal_proceedings"));
	ck_assert(sop_code_valid(s, "region", "agadez"));
	ck_assert(!sop_code_valid(s, "region", "bamako"));
	ck_assert(sop_code_valid(s, "consent_scope", "testimony"));
	ck_assert_ptr_null(sop_urgency(s, "urgent"));
	u = sop_urgency(s, "immediate");
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->respond_within_hours, 2);
	ck_assert_uint_ne(s->ntransitions, m->ntransitions);
	/* Stricter visibility there: police see no name without consent. */
	ck_assert(sop_field_visible(sop_field(m, "victim", "given_name"),
	    "police", "caseworker", NULL, 0));
	ck_assert(!sop_field_visible(sop_field(s, "victim", "given_name"),
	    "police", "caseworker", NULL, 0));
	sop_free(s);
	sop_free(m);
}
END_TEST

/* ---- Lookups. ---- */

START_TEST(test_sop_lookups)
{
	struct sop *s = load_sop(MALI);
	const struct sop_category *c;
	const struct sop_field *f;
	const struct sop_urgency *u;

	c = sop_category(s, "stage");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n, 7);
	ck_assert_str_eq(c->codes[0].code, "identification");
	ck_assert_ptr_nonnull(c->codes[0].label.fr);
	ck_assert_ptr_nonnull(c->codes[0].label.en);
	ck_assert_ptr_null(sop_category(s, "nope"));
	ck_assert_ptr_null(sop_category(s, NULL));
	ck_assert_ptr_null(sop_category(NULL, "stage"));

	ck_assert(sop_code_valid(s, "region", "taoudenit"));
	ck_assert(!sop_code_valid(s, "region", "Taoudenit"));
	ck_assert(!sop_code_valid(s, "region", ""));
	ck_assert(!sop_code_valid(s, "region", NULL));
	ck_assert(!sop_code_valid(s, "regions", "bamako"));
	ck_assert(!sop_code_valid(s, "sex", "kayes"));

	f = sop_field(s, "victim", "given_name");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->type, SOP_TEXT);
	ck_assert(f->encrypted);
	ck_assert(f->identity);
	ck_assert_int_eq(f->max, 100);
	ck_assert_str_eq(f->htcds, "prs_FirstName");
	f = sop_field(s, "victim", "age_estimate");
	ck_assert_int_eq(f->type, SOP_INTEGER);
	ck_assert(!f->encrypted);
	ck_assert_int_eq(f->min, 0);
	ck_assert_int_eq(f->max, 120);
	f = sop_field(s, "identification", "exploitation_types");
	ck_assert_int_eq(f->type, SOP_CODES);
	ck_assert_str_eq(f->category, "exploitation_type");
	ck_assert_str_eq(f->required_at, "identification");
	ck_assert_str_eq(f->htcds, "vic_TypeOfExploitation");
	f = sop_field(s, "victim", "sex");
	ck_assert_str_eq(f->category, "sex");
	ck_assert_str_eq(f->required_at, "identification");
	ck_assert_ptr_null(sop_field(s, "victim", "date"));
	ck_assert_ptr_null(sop_field(s, "identification", "given_name"));
	ck_assert_ptr_null(sop_field(s, NULL, "sex"));

	u = sop_urgency(s, "urgent");
	ck_assert_int_eq(u->respond_within_hours, 4);
	ck_assert_ptr_nonnull(u->label.fr);
	ck_assert_ptr_nonnull(u->label.en);
	ck_assert_int_eq(sop_urgency(s, "high")->respond_within_hours, 24);
	ck_assert_int_eq(sop_urgency(s, "normal")->respond_within_hours, 72);
	ck_assert_ptr_null(sop_urgency(s, "whenever"));
	ck_assert_ptr_null(sop_urgency(s, NULL));

	ck_assert_str_eq(sop_category_htcds(s, "exploitation_type"),
	    "vic_TypeOfExploitation");
	ck_assert_str_eq(sop_code_htcds(s, "exploitation_type",
	    "armed_recruitment"), "ForcedMilitaryByNonStateActors");
	ck_assert_str_eq(sop_code_htcds(s, "sex", "female"), "Feminine");
	ck_assert_ptr_null(sop_code_htcds(s, "region", "bamako"));
	ck_assert_ptr_null(sop_category_htcds(s, "region"));
	sop_free(s);
}
END_TEST

START_TEST(test_sop_current_is_set_once)
{
	struct sop *s = load_sop(MALI);

	sop_set_current(s);
	ck_assert_ptr_eq(sop_current(), s);
	sop_set_current(NULL);
	ck_assert_ptr_null(sop_current());
	ck_assert_ptr_null(sop_public_json(NULL, NULL));
	sop_free(s);
}
END_TEST

/* ---- Who sees what: the table. ---- */

#define SHARE "share_with_police"

static const struct {
	const char *section, *name, *kind, *role, *consent;
	int want;
} vis[] = {
	/* Identity: the field kinds' caseworkers and supervisors. */
	{ "victim", "given_name", "police", "caseworker", NULL, 1 },
	{ "victim", "given_name", "ngo", "supervisor", NULL, 1 },
	{ "victim", "given_name", "shelter", "caseworker", NULL, 1 },
	{ "victim", "given_name", "one_stop_center", "caseworker", NULL, 1 },
	{ "victim", "given_name", "child_protection", "caseworker", NULL, 1 },
	{ "victim", "given_name", "labour_inspection", "caseworker", NULL, 1 },
	{ "victim", "given_name", "judiciary", "supervisor", NULL, 1 },
	{ "victim", "family_name", "police", "supervisor", NULL, 1 },
	{ "victim", "date_of_birth", "ngo", "caseworker", NULL, 1 },
	{ "victim", "phone", "shelter", "caseworker", NULL, 1 },
	{ "victim", "address", "child_protection", "supervisor", NULL, 1 },
	{ "victim", "id_document", "police", "caseworker", NULL, 1 },
	{ "victim", "photo", "judiciary", "caseworker", NULL, 1 },
	/* Never the committee, the administration, or other roles. */
	{ "victim", "given_name", "committee", "analyst", NULL, 0 },
	{ "victim", "given_name", "committee", "caseworker", NULL, 0 },
	{ "victim", "given_name", "committee", "supervisor", SHARE, 0 },
	{ "victim", "given_name", "administration", "admin", NULL, 0 },
	{ "victim", "given_name", "administration", "caseworker", NULL, 0 },
	{ "victim", "photo", "committee", "analyst", SHARE, 0 },
	{ "victim", "given_name", "ngo", "analyst", NULL, 0 },
	{ "victim", "given_name", "ngo", "auditor", NULL, 0 },
	{ "victim", "given_name", "police", "admin", NULL, 0 },
	{ "victim", "given_name", "unknown_kind", "caseworker", NULL, 0 },
	/* The victim's account: protection services; the law with consent. */
	{ "identification", "narrative", "ngo", "caseworker", NULL, 1 },
	{ "identification", "narrative", "shelter", "supervisor", NULL, 1 },
	{ "identification", "narrative", "one_stop_center", "caseworker",
	    NULL, 1 },
	{ "identification", "narrative", "child_protection", "caseworker",
	    NULL, 1 },
	{ "identification", "narrative", "police", "caseworker", NULL, 0 },
	{ "identification", "narrative", "police", "caseworker", "assistance",
	    0 },
	{ "identification", "narrative", "police", "caseworker", SHARE, 1 },
	{ "identification", "narrative", "police", "supervisor", SHARE, 1 },
	{ "identification", "narrative", "labour_inspection", "caseworker",
	    NULL, 0 },
	{ "identification", "narrative", "labour_inspection", "caseworker",
	    SHARE, 1 },
	{ "identification", "narrative", "judiciary", "caseworker", NULL, 0 },
	{ "identification", "narrative", "judiciary", "supervisor", SHARE, 1 },
	{ "identification", "narrative", "committee", "analyst", SHARE, 0 },
	{ "identification", "narrative", "police", "analyst", SHARE, 0 },
	/* Clear categories: the field kinds, for routing. */
	{ "victim", "sex", "police", "caseworker", NULL, 1 },
	{ "victim", "age_estimate", "shelter", "caseworker", NULL, 1 },
	{ "identification", "region", "judiciary", "caseworker", NULL, 1 },
	{ "identification", "urgent_needs", "one_stop_center", "caseworker",
	    NULL, 1 },
	{ "identification", "place", "police", "caseworker", NULL, 1 },
	{ "victim", "sex", "committee", "analyst", NULL, 0 },
};

START_TEST(test_sop_field_visibility_table)
{
	struct sop *s = load_sop(MALI);
	const struct sop_field *f;
	const char *consents[2];
	size_t n;

	f = sop_field(s, vis[_i].section, vis[_i].name);
	ck_assert_ptr_nonnull(f);
	n = 0;
	if (vis[_i].consent != NULL)
		consents[n++] = vis[_i].consent;
	consents[n] = "data_processing";	/* never changes the answer */
	ck_assert_msg(sop_field_visible(f, vis[_i].kind, vis[_i].role,
	    consents, n + 1) == vis[_i].want, "%s.%s for %s/%s (%s): want %d",
	    vis[_i].section, vis[_i].name, vis[_i].kind, vis[_i].role,
	    vis[_i].consent ? vis[_i].consent : "no consent", vis[_i].want);
	sop_free(s);
}
END_TEST

/* Whatever the consents, the committee and administration see no field. */
START_TEST(test_sop_committee_and_administration_see_nothing)
{
	static const char *const all[] = { "assistance", SHARE,
		"data_processing", "return" };
	static const char *const kinds[] = { "committee", "administration" };
	static const char *const roles[] = { "caseworker", "supervisor",
		"analyst", "auditor", "admin" };
	const char *files[] = { MALI, OTHER };
	struct sop *s;
	size_t fi, i, k, r;

	for (fi = 0; fi < 2; fi++) {
		s = load_sop(files[fi]);
		for (i = 0; i < s->nfields; i++) {
			for (k = 0; k < 2; k++)
				for (r = 0; r < 5; r++)
					ck_assert(!sop_field_visible(
					    &s->fields[i], kinds[k], roles[r],
					    all, 4));
			/* Nor do analysts, auditors, admins see sealed data. */
			for (r = 2; r < 5 && s->fields[i].encrypted; r++)
				ck_assert(!sop_field_visible(&s->fields[i],
				    "ngo", roles[r], all, 4));
		}
		ck_assert(!sop_field_visible(&s->fields[0], NULL, "caseworker",
		    all, 4));
		ck_assert(!sop_field_visible(&s->fields[0], "ngo", NULL, all,
		    4));
		ck_assert(!sop_field_visible(NULL, "ngo", "caseworker", all,
		    4));
		sop_free(s);
	}
}
END_TEST

/* ---- The workflow in mali.json. ---- */

static const struct sop_transition *
transition(const struct sop *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->ntransitions; i++)
		if (strcmp(s->transitions[i].id, id) == 0)
			return &s->transitions[i];
	ck_abort_msg("no transition %s", id);
	return NULL;
}

static int
requires(const struct sop_transition *t, int kind, const char *what)
{
	size_t i;

	for (i = 0; i < t->nrequires; i++)
		if ((int)t->requires[i].kind == kind &&
		    strcmp(t->requires[i].what, what) == 0) {
			ck_assert_ptr_nonnull(t->requires[i].reason.fr);
			ck_assert_ptr_nonnull(t->requires[i].reason.en);
			return 1;
		}
	return 0;
}

START_TEST(test_sop_mali_workflow)
{
	struct sop *s = load_sop(MALI);
	const struct sop_transition *t;
	size_t i, j;
	int reopen = 0;

	t = transition(s, "refer_for_assistance");
	ck_assert_str_eq(t->from, "identification");
	ck_assert_str_eq(t->to, "referral");
	ck_assert(t->lead_only);
	ck_assert(requires(t, SOP_REQ_CONSENT, "assistance"));
	ck_assert(requires(t, SOP_REQ_CHILD_REFERRAL, "child_protection"));
	/* A child never leaves identification without child protection. */
	for (i = 0; i < s->ntransitions; i++)
		if (strcmp(s->transitions[i].from, "identification") == 0)
			ck_assert_msg(requires(&s->transitions[i],
			    SOP_REQ_CHILD_REFERRAL, "child_protection"),
			    "%s", s->transitions[i].id);
	t = transition(s, "admit_to_shelter");
	ck_assert(requires(t, SOP_REQ_ACCEPTED, "shelter"));
	t = transition(s, "start_return");
	ck_assert(requires(t, SOP_REQ_CONSENT, "return"));
	ck_assert(requires(t, SOP_REQ_FIELD, "victim.nationality"));
	ck_assert(requires(t, SOP_REQ_CHILD_REFERRAL, "family_tracing"));
	/* Closing and reopening: supervisors only. */
	for (i = 0; i < s->ntransitions; i++) {
		t = &s->transitions[i];
		if (strcmp(t->to, "closed") != 0 &&
		    strcmp(t->from, "closed") != 0)
			continue;
		for (j = 0; j < t->nroles; j++)
			ck_assert_str_eq(t->roles[j], "supervisor");
		if (strcmp(t->from, "closed") == 0) {
			ck_assert(sop_transition_reopens(s, i));
			reopen++;
		} else
			ck_assert(!sop_transition_reopens(s, i));
		for (j = 0; j < t->nkinds; j++) {
			ck_assert_str_ne(t->kinds[j], "committee");
			ck_assert_str_ne(t->kinds[j], "administration");
		}
	}
	ck_assert_int_eq(reopen, 2);
	/* Referral to child protection needs no consent. */
	for (i = 0; i < s->nreferral_rules; i++)
		for (j = 0; j < s->referral_rules[i].nservices; j++)
			if (strcmp(s->referral_rules[i].services[j],
			    "child_protection") == 0)
				ck_assert_ptr_null(
				    s->referral_rules[i].consent);
	sop_free(s);
}
END_TEST

/* ---- The public document. ---- */

START_TEST(test_sop_public_json_round_trip)
{
	struct sop *s = load_sop(MALI), *again = NULL;
	json_t *doc, *code, *fields;
	json_error_t err;
	const char *text, *text2;
	char *problems = NULL;
	size_t len, len2;

	text = sop_public_json(s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(doc != NULL, "%s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "country")),
	    "ML");
	code = json_array_get(json_object_get(json_object_get(json_object_get(
	    doc, "categories"), "stage"), "codes"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(code, "code")),
	    "recovery");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    code, "label"), "fr")), "Rétablissement et réflexion");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    code, "label"), "en")), "Recovery and reflection");
	fields = json_object_get(doc, "fields");
	ck_assert_uint_eq(json_array_size(fields), s->nfields);
	ck_assert_uint_eq(json_array_size(json_object_get(doc,
	    "transitions")), s->ntransitions);
	ck_assert_uint_eq(json_array_size(json_object_get(doc,
	    "referral_rules")), s->nreferral_rules);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(doc, "urgencies"), 0), "respond_within_hours")),
	    4);
	/* Notes are for the file's readers, not served. */
	ck_assert_ptr_null(json_object_get(doc, "note"));
	ck_assert_ptr_null(strstr(text, "\"note\""));
	json_decref(doc);

	/* The document is itself a valid SOP, and parsing it is stable. */
	ck_assert_int_eq(parse_capture(text, len, &again, &problems), PA_OK);
	ck_assert_str_eq(problems, "");
	text2 = sop_public_json(again, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_str_eq(text, text2);
	free(problems);
	sop_free(again);
	sop_free(s);
}
END_TEST

/* GET /api/v1/sop answers the prepared text, without a copy. */
START_TEST(test_sop_handler_answers_the_public_json)
{
	struct sop *s = load_sop(MALI);
	struct req r;
	const char *ct;

	memset(&r, 0, sizeof(r));
	sop_set_current(NULL);
	ck_assert_int_eq(h_sop(&r), PA_INTERNAL);
	ck_assert_ptr_null(r.resp);
	sop_set_current(s);
	ck_assert_int_eq(h_sop(&r), PA_OK);
	ck_assert_ptr_nonnull(r.resp);
	ck_assert_ptr_null(r.out);
	ct = MHD_get_response_header(r.resp, MHD_HTTP_HEADER_CONTENT_TYPE);
	ck_assert_ptr_nonnull(ct);
	ck_assert_str_eq(ct, "application/json; charset=utf-8");
	MHD_destroy_response(r.resp);
	sop_set_current(NULL);
	sop_free(s);
}
END_TEST

/* ---- Broken variants of mali.json, one rule each. ---- */

enum op { SET, DEL, APPEND };

/*
 * A selector: members separated by '.', each optionally followed by [n] or
 * [member=value] to pick an array item. expect: the JSON path in the
 * problem, with '@' standing for the selector's resolved path and a
 * leading '^' for the path of its parent (the array or object holding it).
 */
static const struct broken {
	const char *name;
	const char *sel;
	enum op op;
	const char *value;	/* JSON text for SET and APPEND */
	const char *expect;
	const char *keyword;
} broken[] = {
	{ "unknown stage in a transition",
	    "transitions[id=start_assistance].to", SET, "\"recovry\"", "@",
	    "unknown stage \"recovry\"" },
	{ "unknown stage as origin", "transitions[id=new_placement].from",
	    SET, "\"recover\"", "@", "unknown stage \"recover\"" },
	{ "unknown initial stage", "initial_stage", SET, "\"start\"", "@",
	    "unknown stage" },
	{ "unknown stage in required_at",
	    "fields[name=nationality].required_at", SET, "\"retour\"", "@",
	    "unknown stage \"retour\"" },
	{ "unknown kind in a transition",
	    "transitions[id=refer_for_assistance].kinds", APPEND,
	    "\"polise\"", "@[6]", "unknown kind \"polise\"" },
	{ "unknown kind in a referral rule", "referral_rules[0].to", APPEND,
	    "\"hospital\"", "@[1]", "unknown kind \"hospital\"" },
	{ "unknown role in a grant", "fields[name=given_name].visible[0].roles",
	    APPEND, "\"casewroker\"", "@[2]", "unknown role \"casewroker\"" },
	{ "unknown role in a transition",
	    "transitions[id=close_after_follow_up].roles", SET,
	    "[\"chief\"]", "@[0]", "unknown role \"chief\"" },
	{ "unknown field in a requirement",
	    "transitions[id=start_return].requires[1].field", SET,
	    "\"victim.nationalty\"", "@",
	    "unknown field \"victim.nationalty\"" },
	{ "unknown category of a field", "fields[name=sex].category", SET,
	    "\"gender\"", "@", "unknown category \"gender\"" },
	{ "unknown consent scope in a grant",
	    "fields[name=narrative].visible[1].consent", SET,
	    "\"share_with_polise\"", "@", "unknown consent scope" },
	{ "unknown service in a rule", "referral_rules[0].services[0]", SET,
	    "\"shelterr\"", "@", "unknown service \"shelterr\"" },
	{ "unknown service in a requirement",
	    "transitions[id=admit_to_shelter].requires[0].accepted_referral",
	    SET, "\"hotel\"", "@", "unknown service \"hotel\"" },
	{ "unknown urgency", "urgencies[0].code", SET, "\"urgnt\"", "@",
	    "unknown urgency \"urgnt\"" },
	{ "urgency without deadline", "urgencies[0].code", SET, "\"high\"",
	    "$.urgencies", "no answer deadline for urgency \"urgent\"" },
	{ "unreachable stage", "categories.stage.codes", APPEND,
	    "{\"code\":\"limbo\","
	    "\"label\":{\"fr\":\"Limbes\",\"en\":\"Limbo\"}}",
	    "@[7]", "stage \"limbo\" cannot be reached" },
	{ "closed without a reopening rule",
	    "transitions[id=reopen_follow_up].reopen", DEL, NULL,
	    "^.from", "needs \"reopen\": true" },
	{ "reopening by a caseworker",
	    "transitions[id=reopen_new_exploitation].roles", APPEND,
	    "\"caseworker\"", "@[1]", "only supervisors may reopen" },
	{ "closing by a caseworker",
	    "transitions[id=close_after_follow_up].roles", SET,
	    "[\"caseworker\"]", "@[0]", "only supervisors may close" },
	{ "reopen flag on an ordinary transition",
	    "transitions[id=start_assistance].reopen", SET, "true", "@",
	    "only a transition from the closed stage" },
	{ "a transition that stays", "transitions[id=start_assistance].to",
	    SET, "\"recovery\"", "@", "must differ" },
	{ "missing English label of a code",
	    "categories.stage.codes[1].label.en", DEL, NULL, "@",
	    "missing English label" },
	{ "missing French label of a transition", "transitions[0].label.fr",
	    DEL, NULL, "@", "missing French label" },
	{ "missing English label of a reason",
	    "transitions[0].requires[0].reason.en", DEL, NULL, "@",
	    "missing English label" },
	{ "missing French label of a category", "categories.region.label.fr",
	    DEL, NULL, "@", "missing French label" },
	{ "missing label of a field", "fields[0].label", DEL, NULL, "@",
	    "missing label" },
	{ "missing English name", "name.en", DEL, NULL, "@",
	    "missing English label" },
	{ "blank label", "name.fr", SET, "\"  \"", "@", "must not be empty" },
	{ "label with a third language", "name.bm", SET, "\"Mali\"", "@",
	    "unknown member" },
	{ "duplicate code", "categories.region.codes", APPEND,
	    "{\"code\":\"kayes\",\"label\":{\"fr\":\"K\",\"en\":\"K\"}}",
	    "@[20].code", "duplicate code \"kayes\" (also at [1])" },
	{ "duplicate transition id", "transitions[1].id", SET,
	    "\"refer_for_assistance\"", "@", "duplicate transition id" },
	{ "duplicate code in a list",
	    "transitions[id=refer_for_assistance].roles", APPEND,
	    "\"caseworker\"", "@[2]", "listed twice" },
	{ "unknown top-level member", "sop_version", SET, "1", "@",
	    "unknown member" },
	{ "unknown member of a field", "fields[0].visibel", SET, "[]", "@",
	    "unknown member" },
	{ "unknown member of a transition", "transitions[0].lead_onl", SET,
	    "true", "@", "unknown member" },
	{ "identity field not encrypted", "fields[name=given_name].encrypted",
	    SET, "false", "@", "must be true" },
	{ "narrative in clear", "fields[name=narrative].encrypted", SET,
	    "false", "@", "identifies or exposes" },
	{ "a statistics field sealed", "fields[name=sex].encrypted", SET,
	    "true", "@", "must be false" },
	{ "identity flag dropped", "fields[name=photo].identity", DEL, NULL,
	    "@", "identifies a person" },
	{ "committee sees a name", "fields[name=given_name].visible[0].kinds",
	    APPEND, "\"committee\"", "@[7]", "may never see an encrypted" },
	{ "analyst sees the account", "fields[name=narrative].visible[0].roles",
	    APPEND, "\"analyst\"", "@[2]", "may never see an encrypted" },
	{ "sealed field for any kind",
	    "fields[name=narrative].visible[0].kinds",
	    DEL, NULL, "^", "explicit list of kinds" },
	{ "nobody sees a field", "fields[0].visible", SET, "[]", "@",
	    "must not be empty" },
	{ "missing fixed exploitation type",
	    "categories.exploitation_type.codes[code=forced_begging]", DEL,
	    NULL, "^", "missing fixed code \"forced_begging\"" },
	{ "missing fixed region of Mali", "categories.region.codes[code=nioro]",
	    DEL, NULL, "^", "missing fixed code \"nioro\"" },
	{ "missing fixed consent scope",
	    "categories.consent_scope.codes[code=data_processing]", DEL, NULL,
	    "^", "missing fixed code \"data_processing\"" },
	{ "missing category", "categories.urgent_need", DEL, NULL, "@",
	    "missing category" },
	{ "missing API field", "fields[name=photo]", DEL, NULL, "^",
	    "missing field victim.photo" },
	{ "unknown API field", "fields[name=photo].name", SET,
	    "\"favourite_colour\"", "@",
	    "unknown field \"victim.favourite_colour\"" },
	{ "wrong type for an API field", "fields[name=age_estimate].type",
	    SET, "\"text\"", "@", "must be \"integer\"" },
	{ "unknown field type", "fields[name=age_estimate].type", SET,
	    "\"number\"", "@", "unknown type \"number\"" },
	{ "text without max", "fields[name=given_name].max", DEL, NULL, "@",
	    "missing" },
	{ "date with max", "fields[name=date_of_birth].max", SET, "10", "@",
	    "not used by date fields" },
	{ "integer max below min", "fields[name=age_estimate].max", SET, "-1",
	    "@", "must not be below min" },
	{ "category on a text field", "fields[name=given_name].category", SET,
	    "\"sex\"", "@", "only code, codes and languages fields" },
	/* Languages are codes of a list, never free text (kept in clear). */
	{ "languages without a list", "fields[name=languages].category", DEL,
	    NULL, "@", "missing" },
	{ "languages from another list", "fields[name=languages].category",
	    SET, "\"region\"", "@", "must be \"language\" for "
	    "victim.languages" },
	{ "languages from an unknown list", "fields[name=languages].category",
	    SET, "\"langue\"", "@", "unknown category \"langue\"" },
	{ "missing language list", "categories.language", DEL, NULL, "@",
	    "missing category" },
	{ "duplicate language code", "categories.language.codes", APPEND,
	    "{\"code\":\"bm\",\"label\":{\"fr\":\"B\",\"en\":\"B\"}}",
	    "@[19].code", "duplicate code \"bm\" (also at [0])" },
	{ "zero hours", "urgencies[0].respond_within_hours", SET, "0", "@",
	    "must be a positive number" },
	{ "negative hours", "urgencies[1].respond_within_hours", SET, "-24",
	    "@", "must be a positive number" },
	{ "hours as text", "urgencies[2].respond_within_hours", SET, "\"72\"",
	    "@", "must be an integer" },
	{ "child age as text", "child_age", SET, "\"18\"", "@",
	    "must be an integer" },
	{ "child age as a real", "child_age", SET, "18.0", "@",
	    "must be an integer" },
	{ "unsupported format", "format", SET, "2", "@",
	    "unsupported format 2" },
	{ "country not a code", "country", SET, "\"Mali\"", "@", "ISO 3166" },
	{ "code with capitals", "categories.region.codes[1].code", SET,
	    "\"Kayes\"", "@", "a code is" },
	{ "requirement of two kinds",
	    "transitions[id=refer_for_assistance].requires[0].field", SET,
	    "\"victim.sex\"", "^", "exactly one of" },
	{ "requirement nobody can meet", "referral_rules", SET,
	    "[{\"from\":[\"ngo\"],\"to\":[\"shelter\"],"
	    "\"services\":[\"shelter\"]}]",
	    "$.transitions[0].requires[1].child_referral",
	    "no referral rule offers service \"child_protection\"" },
	{ "referral to the committee", "referral_rules[0].to", APPEND,
	    "\"committee\"", "@[1]", "never receives a case" },
	{ "transition by the administration", "transitions[0].kinds", APPEND,
	    "\"administration\"", "@[6]", "never acts on a case" },
	{ "closed stage is the initial one", "closed_stage", SET,
	    "\"identification\"", "@", "must differ from initial_stage" },
	{ "missing transitions", "transitions", DEL, NULL, "@", "missing" },
	{ "transitions not an array", "transitions", SET, "{}", "@",
	    "must be an array" },
	{ "categories not an object", "categories", SET, "[]", "@",
	    "must be an object" },
	{ "a code that is a number", "categories.sex.codes[0]", SET, "3", "@",
	    "must be an object" },
	{ "a field that is a string", "fields[0]", SET, "\"given_name\"", "@",
	    "must be an object" },
	{ "a label that is a string", "name", SET, "\"Mali\"", "@",
	    "must be an object" },
};

/* Resolves one selector step; returns the child or NULL. */
static json_t *
step(json_t *node, const char *seg, size_t seglen, char *path,
    size_t pathlen)
{
	char name[128], sel[128], *br, *eq;
	json_t *item, *child;
	size_t i, n;

	ck_assert_uint_lt(seglen, sizeof(name));
	memcpy(name, seg, seglen);
	name[seglen] = '\0';
	br = strchr(name, '[');
	if (br != NULL) {
		snprintf(sel, sizeof(sel), "%s", br + 1);
		*strchr(sel, ']') = '\0';
		*br = '\0';
	}
	child = json_object_get(node, name);
	snprintf(path + strlen(path), pathlen - strlen(path), ".%s", name);
	if (br == NULL)
		return child;
	ck_assert_ptr_nonnull(child);
	if ((eq = strchr(sel, '=')) == NULL) {
		i = strtoul(sel, NULL, 10);
	} else {
		*eq = '\0';
		n = json_array_size(child);
		for (i = 0; i < n; i++) {
			item = json_object_get(json_array_get(child, i), sel);
			if (json_is_string(item) &&
			    strcmp(json_string_value(item), eq + 1) == 0)
				break;
		}
		ck_assert_msg(i < n, "no item %s=%s", sel, eq + 1);
	}
	snprintf(path + strlen(path), pathlen - strlen(path), "[%zu]", i);
	return json_array_get(child, i);
}

/* Applies b to doc; path receives the resolved selector. */
static void
mutate(json_t *doc, const struct broken *b, char *path, size_t pathlen)
{
	const char *seg = b->sel, *dot;
	char last[128];
	json_t *node = doc, *parent = NULL, *v = NULL;
	json_error_t err;

	snprintf(path, pathlen, "$");
	for (;;) {
		dot = strchr(seg, '.');
		parent = node;
		snprintf(last, sizeof(last), "%.*s",
		    (int)(dot ? (size_t)(dot - seg) : strlen(seg)), seg);
		node = step(node, seg, dot ? (size_t)(dot - seg) : strlen(seg),
		    path, pathlen);
		if (dot == NULL)
			break;
		ck_assert_msg(node != NULL, "%s: nothing at %s", b->name,
		    path);
		seg = dot + 1;
	}
	if (b->value != NULL) {
		v = json_loads(b->value, JSON_DECODE_ANY, &err);
		ck_assert_msg(v != NULL, "%s: %s", b->name, err.text);
	}
	switch (b->op) {
	case SET:
		if (strchr(last, '[') != NULL) {
			size_t i;

			/* The item the selector named, in its array. */
			json_t *arr = json_object_get(parent,
			    strtok(last, "["));
			for (i = 0; json_array_get(arr, i) != node; i++)
				ck_assert_uint_lt(i, json_array_size(arr));
			ck_assert_int_eq(json_array_set_new(arr, i, v), 0);
		} else
			ck_assert_int_eq(json_object_set_new(parent, last, v),
			    0);
		break;
	case DEL:
		if (strchr(last, '[') != NULL) {
			size_t i;
			json_t *arr = json_object_get(parent,
			    strtok(last, "["));

			for (i = 0; json_array_get(arr, i) != node; i++)
				ck_assert_uint_lt(i, json_array_size(arr));
			ck_assert_int_eq(json_array_remove(arr, i), 0);
		} else {
			ck_assert_msg(node != NULL, "%s: nothing to delete",
			    b->name);
			ck_assert_int_eq(json_object_del(parent, last), 0);
		}
		break;
	case APPEND:
		ck_assert(json_is_array(node));
		ck_assert_int_eq(json_array_append_new(node, v), 0);
		break;
	}
}

START_TEST(test_sop_refuses_broken_variant)
{
	const struct broken *b = &broken[_i];
	char path[512], want[600], needle[640], *line, *text = NULL, *at;
	json_t *doc = load_json(MALI);
	enum pa_err rc;

	mutate(doc, b, path, sizeof(path));
	if (b->expect[0] == '^') {
		/* Drop the last step: "[n]" or ".member". */
		at = path + strlen(path) - 1;
		if (*at == ']')
			at = strrchr(path, '[');
		else
			at = strrchr(path, '.');
		*at = '\0';
		snprintf(want, sizeof(want), "%s%s", path, b->expect + 1);
	} else if ((at = strchr(b->expect, '@')) != NULL)
		snprintf(want, sizeof(want), "%.*s%s%s",
		    (int)(at - b->expect), b->expect, path, at + 1);
	else
		snprintf(want, sizeof(want), "%s", b->expect);
	rc = parse_json_capture(doc, &text);
	ck_assert_msg(rc == PA_INVALID, "%s: rc %d", b->name, rc);
	/* One line names the path and says what is wrong. */
	line = malloc(strlen(text) + 2);
	ck_assert_ptr_nonnull(line);
	line[0] = '\n';
	strcpy(line + 1, text);
	snprintf(needle, sizeof(needle), "\n%s: ", want);
	at = strstr(line, needle);
	ck_assert_msg(at != NULL, "%s: no problem at %s in:\n%s", b->name,
	    want, text);
	at = strchr(at + 1, '\n');
	if (at != NULL)
		*at = '\0';
	ck_assert_msg(strstr(strstr(line, needle), b->keyword) != NULL,
	    "%s: the line at %s does not say \"%s\":\n%s", b->name, want,
	    b->keyword, text);
	free(line);
	free(text);
	json_decref(doc);
}
END_TEST

/* Every problem is reported, not only the first. */
START_TEST(test_sop_reports_every_problem)
{
	json_t *doc = load_json(MALI);
	char *text = NULL;
	size_t i;

	json_object_set_new(doc, "child_age", json_string("18"));
	json_object_set_new(json_array_get(json_object_get(doc,
	    "transitions"), 2), "to", json_string("recovry"));
	json_object_del(json_object_get(doc, "name"), "en");
	json_object_set_new(doc, "typo", json_true());
	ck_assert_int_eq(parse_json_capture(doc, &text), PA_INVALID);
	ck_assert_uint_eq(count_lines(text), 4);
	ck_assert_ptr_nonnull(strstr(text, "$.child_age: "));
	ck_assert_ptr_nonnull(strstr(text, "$.transitions[2].to: "));
	ck_assert_ptr_nonnull(strstr(text, "$.name.en: "));
	ck_assert_ptr_nonnull(strstr(text, "$.typo: "));
	for (i = 0; text[i] != '\0'; i++)
		ck_assert(text[i] == '\n' || text[i] >= 0x20 ||
		    text[i] == '\t' || (unsigned char)text[i] >= 0x80);
	free(text);
	json_decref(doc);
}
END_TEST

/* Strange member names are quoted in paths, values quoted in messages. */
START_TEST(test_sop_quotes_what_it_shows)
{
	json_t *doc = load_json(MALI);
	char *text = NULL;

	json_object_set_new(doc, "we\"ird\nkey", json_true());
	json_object_set_new(doc, "initial_stage", json_string("a\"b\x01"));
	ck_assert_int_eq(parse_json_capture(doc, &text), PA_INVALID);
	ck_assert_ptr_nonnull(strstr(text, "$[\"we\\\"ird\\u000akey\"]: "
	    "unknown member"));
	ck_assert_ptr_nonnull(strstr(text, "$.initial_stage: unknown stage "
	    "\"a\\\"b\\u0001\""));
	free(text);
	json_decref(doc);
}
END_TEST

START_TEST(test_sop_refuses_what_is_not_json)
{
	static const char *const bad[] = { "", "{", "not json", "{\"a\":}",
		"{\"format\":1,\"format\":1}", "[1,2", "\"\\u0000\"",
		"{} {}" };
	struct sop *s = NULL;
	char *text = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parse_capture(bad[i], strlen(bad[i]), &s,
		    &text), PA_BAD_INPUT);
		ck_assert_ptr_null(s);
		ck_assert_msg(strncmp(text, "$: not JSON", 11) == 0, "%s",
		    text);
		ck_assert_uint_eq(count_lines(text), 1);
		free(text);
	}
	/* Valid JSON, not an object. */
	ck_assert_int_eq(parse_capture("[]", 2, &s, &text), PA_INVALID);
	ck_assert_str_eq(text, "$: must be an object\n");
	free(text);
	ck_assert_int_eq(parse_capture("{}", 2, &s, &text), PA_INVALID);
	ck_assert_ptr_nonnull(strstr(text, "$.categories: missing\n"));
	free(text);
	ck_assert_int_eq(sop_parse_buf(NULL, 0, &s, NULL), PA_INVALID);
	ck_assert_ptr_null(s);
}
END_TEST

/* Bounds before parsing: size, and nesting (Jansson's depth limit). */
START_TEST(test_sop_bounded_input)
{
	size_t n = 100000, i;
	struct sop *s = NULL;
	char *buf = malloc(2 * n);

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++) {
		buf[i] = '[';
		buf[n + i] = ']';
	}
	ck_assert_int_eq(sop_parse_buf(buf, 2 * n, &s, NULL), PA_BAD_INPUT);
	free(buf);
	buf = calloc(1, SOP_MAX_BYTES + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(sop_parse_buf(buf, SOP_MAX_BYTES + 1, &s, NULL),
	    PA_INVALID);
	ck_assert_ptr_null(s);
	free(buf);
}
END_TEST

/* Every prefix of the file is refused without a crash. */
START_TEST(test_sop_truncated_files)
{
	struct sop *s = NULL;
	size_t len, n;
	char *buf = slurp(MALI, &len);

	for (n = 0; n + 1 < len; n += 97) {
		char *copy = malloc(n ? n : 1);	/* exact size: ASan sees */

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf, n);
		ck_assert_int_eq(sop_parse_buf(copy, n, &s, NULL),
		    PA_BAD_INPUT);
		ck_assert_ptr_null(s);
		free(copy);
	}
	free(buf);
}
END_TEST

/*
 * Every value of the document, in turn, replaced by a value of another
 * type: the parser reports it or accepts it, never crashes nor leaks.
 */
static unsigned int wrong_refused, wrong_tried;

static json_t *
wrong_value(unsigned int i)
{
	switch (i % 8) {
	case 0:
		return json_null();
	case 1:
		return json_integer(-1);
	case 2:
		return json_string("x");
	case 3:
		return json_array();
	case 4:
		return json_object();
	case 5:
		return json_true();
	case 6:
		return json_real(1.5);
	default:
		return json_pack("[{s:i}]", "code", 1);
	}
}

static void
try_doc(json_t *doc)
{
	struct sop *s = NULL;
	enum pa_err rc;
	char *buf = json_dumps(doc, JSON_COMPACT);

	ck_assert_ptr_nonnull(buf);
	rc = sop_parse_buf(buf, strlen(buf), &s, NULL);
	ck_assert(rc == PA_OK || rc == PA_INVALID);
	ck_assert((rc == PA_OK) == (s != NULL));
	wrong_tried++;
	if (rc != PA_OK)
		wrong_refused++;
	sop_free(s);
	free(buf);
}

static void
walk(json_t *doc, json_t *node)
{
	const char *key;
	json_t *v, *orig;
	size_t i;

	if (json_is_object(node)) {
		json_object_foreach(node, key, v) {
			orig = json_incref(v);
			json_object_set_new(node, key,
			    wrong_value(wrong_tried));
			try_doc(doc);
			json_object_set_new(node, key, orig);
			walk(doc, orig);
		}
	} else if (json_is_array(node)) {
		for (i = 0; i < json_array_size(node); i++) {
			orig = json_incref(json_array_get(node, i));
			json_array_set_new(node, i, wrong_value(wrong_tried));
			try_doc(doc);
			json_array_set_new(node, i, orig);
			walk(doc, orig);
		}
	}
}

START_TEST(test_sop_wrong_types_everywhere)
{
	const char *files[] = { MALI, OTHER };
	json_t *doc = load_json(files[_i]);

	wrong_refused = wrong_tried = 0;
	walk(doc, doc);
	ck_assert_uint_gt(wrong_tried, 1000);
	/* Nearly every change is refused; a few (notes, flags) are not. */
	ck_assert_uint_gt(wrong_refused * 10, wrong_tried * 9);
	json_decref(doc);
}
END_TEST

/* Random bytes, and random bytes spliced into the file. */
START_TEST(test_sop_random_input)
{
	unsigned int seed = 12345;
	struct sop *s = NULL;
	size_t len, i, k;
	char *file = slurp(MALI, &len), *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 300; i++) {
		memcpy(buf, file, len);
		for (k = 0; k < 1 + i % 4; k++)
			buf[(size_t)rand_r(&seed) % len] =
			    (char)(rand_r(&seed) & 0xff);
		if (sop_parse_buf(buf, len, &s, NULL) == PA_OK)
			sop_free(s);
		s = NULL;
	}
	for (i = 0; i < 200; i++) {
		for (k = 0; k < 64; k++)
			buf[k] = "{}[]\":,0a\\ tfn"[(size_t)rand_r(&seed) % 15];
		if (sop_parse_buf(buf, 64, &s, NULL) == PA_OK)
			sop_free(s);
		s = NULL;
	}
	free(buf);
	free(file);
}
END_TEST

/* ---- passerelle sop check FILE. ---- */

START_TEST(test_sop_check_command)
{
	char tmp[] = "/tmp/test_sop_XXXXXX";
	json_t *doc = load_json(MALI);
	int fd, out, err, null;

	/* Quiet: the test checks exit codes; the lines are checked above. */
	fflush(stdout);
	fflush(stderr);
	out = dup(1);
	err = dup(2);
	null = open("/dev/null", O_WRONLY);
	ck_assert(out >= 0 && err >= 0 && null >= 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	ck_assert_int_eq(sop_check_main(MALI), 0);
	ck_assert_int_eq(sop_check_main(OTHER), 0);
	ck_assert_int_eq(sop_check_main("/nonexistent.json"), 1);
	json_object_set_new(doc, "child_age", json_integer(0));
	fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(json_dump_file(doc, tmp, 0), 0);
	ck_assert_int_eq(sop_check_main(tmp), 1);
	unlink(tmp);
	json_decref(doc);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
}
END_TEST

static Suite *
sop_suite(void)
{
	Suite *s = suite_create("sop");
	TCase *tc = tcase_create("load");
	TCase *bad = tcase_create("broken");
	TCase *fuzz = tcase_create("fuzz");

	tcase_add_test(tc, test_sop_mali_loads_without_problems);
	tcase_add_test(tc, test_sop_load_file_and_missing_file);
	tcase_add_test(tc, test_sop_mali_has_every_fixed_code);
	tcase_add_test(tc, test_sop_other_country_is_data_not_code);
	tcase_add_test(tc, test_sop_lookups);
	tcase_add_test(tc, test_sop_current_is_set_once);
	tcase_add_loop_test(tc, test_sop_field_visibility_table, 0,
	    (int)(sizeof(vis) / sizeof(vis[0])));
	tcase_add_test(tc, test_sop_committee_and_administration_see_nothing);
	tcase_add_test(tc, test_sop_mali_workflow);
	tcase_add_test(tc, test_sop_public_json_round_trip);
	tcase_add_test(tc, test_sop_handler_answers_the_public_json);
	tcase_add_test(tc, test_sop_check_command);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(bad, test_sop_refuses_broken_variant, 0,
	    (int)(sizeof(broken) / sizeof(broken[0])));
	tcase_add_test(bad, test_sop_reports_every_problem);
	tcase_add_test(bad, test_sop_quotes_what_it_shows);
	tcase_add_test(bad, test_sop_refuses_what_is_not_json);
	suite_add_tcase(s, bad);

	tcase_add_test(fuzz, test_sop_bounded_input);
	tcase_add_test(fuzz, test_sop_truncated_files);
	tcase_add_loop_test(fuzz, test_sop_wrong_types_everywhere, 0, 2);
	tcase_add_test(fuzz, test_sop_random_input);
	tcase_set_timeout(fuzz, 600);
	suite_add_tcase(s, fuzz);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
