/*
 * The referral workflow, whole journeys across organisations with the real
 * demo accounts: identification by the police, consents, referrals with
 * their deadlines, what a receiver sees before and after accepting, notes
 * and the consents that open or close them, a child's case and the referral
 * to child protection it needs, every refusal (changing nothing), unmet
 * needs, consent withdrawal, two people accepting at once, transfer of the
 * lead, overdue referrals, services and the justice track, and a second
 * country's SOP file driving other stages on the same code.
 *
 * Each test runs on a database and a server of its own (a checked fixture).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "harness.h"
#include "world.h"

/* ======================================================================
 * Helpers of this suite (the shared ones are in world.h).
 */

static struct env wf;

static void
wf_setup(void)
{
	env_start(&wf);
}

static void
wf_teardown(void)
{
	env_stop(&wf);
}

/* The organisations of the demo data, by one of their accounts. */
struct orgs {
	char police[40], shelter_gao[40], shelter_bko[40], one_stop[40];
	char child[40], ngo[40], committee[40];
};

static void
orgs_load(struct orgs *o)
{
	org_id_of(&wf, "police.agent", o->police);
	org_id_of(&wf, "refuge.gao", o->shelter_gao);
	org_id_of(&wf, "refuge.bamako", o->shelter_bko);
	org_id_of(&wf, "guichet.agent", o->one_stop);
	org_id_of(&wf, "enfance.agent", o->child);
	org_id_of(&wf, "ong.agent", o->ngo);
	org_id_of(&wf, "comite.analyste", o->committee);
}

#define NAME_GIVEN "Rokia"
#define NAME_FAMILY "Maïga-Wfq"
#define NARRATIVE "Elle a été conduite de Mopti à Gao par un certain Yacouba."

/* An adult's case with a name and a narrative; age 30 by estimate. */
static json_t *
adult_case(void)
{
	char d[11];

	today(d);
	return json_pack("{s:{s:s, s:s, s:i, s:s}, s:{s:s, s:s, s:[s], s:[s], "
	                 "s:s}}",
	    "victim", "given_name", NAME_GIVEN, "family_name", NAME_FAMILY,
	    "age_estimate", 30, "sex", "female", "identification", "date", d,
	    "region", "gao", "exploitation_types", "sexual_exploitation",
	    "urgent_needs", "safe_shelter", "narrative", NARRATIVE);
}

static void
create_case(const struct sess *s, json_t *body, char id[40])
{
	struct res x = callj(&wf.srv, s, "POST", "/api/v1/cases", body);

	EXPECT(x, 201, "create case");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	res_free(&x);
}

static struct res
get_case(const struct sess *s, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	return call(&wf.srv, s, "GET", path, NULL);
}

/* The case as s reads it (caller decrefs); 200 required. */
static json_t *
case_json(const struct sess *s, const char *id)
{
	struct res x = get_case(s, id);
	json_t *j;

	EXPECT(x, 200, "GET the case");
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

static struct res
consent_add(const struct sess *s, const char *case_id, const char *scope,
    const char *by)
{
	char path[256], d[11];

	today(d);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", case_id);
	return callj(&wf.srv, s, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", scope, "given_by", by, "date",
	        d));
}

static void
consent_ok(const struct sess *s, const char *case_id, const char *scope,
    const char *by, char id[40])
{
	struct res x = consent_add(s, case_id, scope, by);

	EXPECT(x, 201, "consent");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	res_free(&x);
}

static struct res
refer(const struct sess *s, const char *case_id, const char *to,
    const char *service, const char *urgency, const char *consent)
{
	char path[256];
	json_t *b;

	snprintf(path, sizeof(path), "/api/v1/cases/%s/referrals", case_id);
	b = json_pack("{s:s, s:s, s:s}", "to_organisation_id", to, "service",
	    service, "urgency", urgency);
	if (consent != NULL)
		json_object_set_new(b, "consent_id", json_string(consent));
	return callj(&wf.srv, s, "POST", path, b);
}

static void
refer_ok(const struct sess *s, const char *case_id, const char *to,
    const char *service, const char *consent, char id[40])
{
	struct res x = refer(s, case_id, to, service, "normal", consent);

	EXPECT(x, 201, "referral");
	ck_assert_str_eq(jstr(x.j, "status"), "pending");
	snprintf(id, 40, "%s", jstr(x.j, "id"));
	res_free(&x);
}

/*
 * The opening of most journeys: s registers an adult's case (id), records
 * the victim's consent to assistance (cid), and refers the case to `to`
 * for service (rid).
 */
static void
referred_case(const struct sess *s, const char *to, const char *service,
    char id[40], char cid[40], char rid[40])
{
	create_case(s, adult_case(), id);
	consent_ok(s, id, "assistance", "victim", cid);
	refer_ok(s, id, to, service, cid, rid);
}

/* POST /referrals/{id}/{act} with body (taken; NULL: {}). */
static struct res
ref_act(const struct sess *s, const char *rid, const char *act, json_t *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/referrals/%s/%s", rid, act);
	return callj(&wf.srv, s, "POST", path, body ? body : json_object());
}

static void
accept_ok(const struct sess *s, const char *rid)
{
	struct res x = ref_act(s, rid, "accept", NULL);

	EXPECT(x, 200, "accept");
	ck_assert_str_eq(jstr(x.j, "status"), "accepted");
	res_free(&x);
}

static struct res
transition(const struct sess *s, const char *case_id, const char *t,
    long long version)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/cases/%s/transitions", case_id);
	return callj(&wf.srv, s, "POST", path,
	    json_pack("{s:s, s:I}", "transition", t, "version",
	        (json_int_t)version));
}

/* The entry of array (of objects) whose member key is val, or NULL. */
static json_t *
find_by(json_t *arr, const char *key, const char *val)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (strcmp(jstr(v, key), val) == 0)
			return v;
	}
	return NULL;
}

static int
has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

/* Seconds since 1970 of an RFC 3339 UTC time ("...Z"), or -1. */
static long
rfc3339(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	return (long)timegm(&tm);
}

/* The loaded SOP, as served (caller decrefs). */
static json_t *
served_sop(const struct harness_server *srv, const struct sess *s)
{
	struct res x = call(srv, s, "GET", "/api/v1/sop", NULL);
	json_t *j;

	EXPECT(x, 200, "GET /api/v1/sop");
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

static int
in_array(json_t *arr, const char *s)
{
	return arr == NULL || has_string(arr, s);
}

/* Does the SOP let (kind, role) see section.name with consents in force? */
static int
sop_visible(json_t *sop, const char *section, const char *name,
    const char *kind, const char *role, const char *const *consents)
{
	json_t *f, *g;
	const char *need;
	size_t i, k, c;

	json_array_foreach(json_object_get(sop, "fields"), i, f)
	{
		if (strcmp(jstr(f, "section"), section) != 0 ||
		    strcmp(jstr(f, "name"), name) != 0)
			continue;
		json_array_foreach(json_object_get(f, "visible"), k, g)
		{
			if (!in_array(json_object_get(g, "kinds"), kind) ||
			    !in_array(json_object_get(g, "roles"), role))
				continue;
			need = json_string_value(json_object_get(g, "consent"));
			if (need == NULL)
				return 1;
			for (c = 0; consents != NULL && consents[c] != NULL;
			     c++)
				if (strcmp(consents[c], need) == 0)
					return 1;
		}
		return 0;
	}
	ck_abort_msg("the SOP has no field %s.%s", section, name);
	return 0;
}

/* Every member sent is read back when the SOP allows it, else absent. */
static void
check_view(json_t *sop, json_t *sent, json_t *got, const char *kind,
    const char *role, const char *const *consents, const char *who)
{
	static const char *const sections[] = { "victim", "identification" };
	const char *name;
	json_t *v, *have;
	size_t i;

	for (i = 0; i < 2; i++) {
		json_object_foreach(json_object_get(sent, sections[i]), name, v)
		{
			have = jpath(json_object_get(got, sections[i]), name);
			if (sop_visible(sop, sections[i], name, kind, role,
			        consents))
				ck_assert_msg(have != NULL &&
				                  json_equal(v, have),
				    "%s: %s.%s not read back", who, sections[i],
				    name);
			else
				ck_assert_msg(have == NULL, "%s: %s.%s shown",
				    who, sections[i], name);
		}
	}
}

static json_t *
inbox(const struct sess *s)
{
	struct res x = call(&wf.srv, s, "GET", "/api/v1/inbox", NULL);
	json_t *j;

	EXPECT(x, 200, "inbox");
	j = json_incref(x.j);
	res_free(&x);
	return j;
}

/* ------------------------------------------------------------ journey */

START_TEST(test_police_refer_an_adult_to_the_gao_shelter)
{
	char id[40], cid[40], rid[40], path[256];
	struct sess p, g;
	struct orgs o;
	json_t *sop, *body, *j;
	struct res x;
	long due, now;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	body = adult_case();
	create_case(&p, json_incref(body), id);
	consent_ok(&p, id, "assistance", "victim", cid);

	x = refer(&p, id, o.shelter_gao, "shelter", "urgent", cid);
	EXPECT(x, 201, "referral");
	ck_assert_str_eq(jstr(x.j, "status"), "pending");
	snprintf(rid, sizeof(rid), "%s", jstr(x.j, "id"));
	now = (long)time(NULL);
	due = rfc3339(jstr(x.j, "respond_by"));
	/* urgent: 4 h (mali.json), give or take a minute. */
	ck_assert_msg(due > 0 && labs(due - (now + 4 * 3600)) <= 120,
	    "respond_by %s, now %ld", jstr(x.j, "respond_by"), now);
	res_free(&x);

	/* The shelter: a summary without identity. */
	x = call(&wf.srv, &g, "GET", "/api/v1/referrals?direction=incoming",
	    NULL);
	EXPECT(x, 200, "incoming");
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 1);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), rid);
	ck_assert_str_eq(jstr(x.j, "items.0.service"), "shelter");
	ck_assert_str_eq(jstr(x.j, "items.0.urgency"), "urgent");
	ck_assert_str_eq(jstr(x.j, "items.0.summary.sex"), "female");
	ck_assert_str_eq(jstr(x.j, "items.0.summary.age_band"), "25-34");
	ck_assert(has_string(jpath(x.j, "items.0.summary.urgent_needs"),
	    "safe_shelter"));
	ck_assert_ptr_null(jpath(x.j, "items.0.case_id"));
	ck_assert_msg(strstr(x.body, NAME_GIVEN) == NULL &&
	                  strstr(x.body, "Maïga") == NULL &&
	                  strstr(x.body, "Yacouba") == NULL &&
	                  strstr(x.body, id) == NULL,
	    "identity in the incoming list: %s", x.body);
	res_free(&x);
	j = inbox(&g);
	ck_assert_int_eq(jint(j, "pending_incoming_referrals"), 1);
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/referrals/%s", rid);
	x = call(&wf.srv, &g, "GET", path, NULL);
	EXPECT(x, 200, "GET the referral");
	ck_assert_str_eq(jstr(x.j, "status"), "pending");
	ck_assert_ptr_null(jpath(x.j, "case_id"));
	ck_assert_msg(strstr(x.body, NAME_GIVEN) == NULL &&
	                  strstr(x.body, "Maïga") == NULL &&
	                  strstr(x.body, id) == NULL,
	    "identity in the referral: %s", x.body);
	res_free(&x);
	x = get_case(&g, id);
	ck_assert_error(&x.r, 404, "not_found");
	res_free(&x);

	/* The police see it going out. */
	x = call(&wf.srv, &p, "GET", "/api/v1/referrals?direction=outgoing",
	    NULL);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), rid);
	res_free(&x);
	j = inbox(&p);
	ck_assert_int_eq(jint(j, "pending_outgoing_referrals"), 1);
	ck_assert_int_eq(jint(j, "pending_incoming_referrals"), 0);
	json_decref(j);

	/* Accepted: the shelter opens the case, as the SOP lets it. */
	x = ref_act(&g, rid, "accept", NULL);
	EXPECT(x, 200, "accept");
	ck_assert_str_eq(jstr(x.j, "status"), "accepted");
	ck_assert_str_eq(jstr(x.j, "case_id"), id);
	res_free(&x);
	j = inbox(&g);
	ck_assert_int_eq(jint(j, "pending_incoming_referrals"), 0);
	json_decref(j);
	sop = served_sop(&wf.srv, &g);
	j = case_json(&g, id);
	check_view(sop, body, j, "shelter", "caseworker", NULL, "shelter");
	ck_assert_str_eq(jstr(j, "victim.given_name"), NAME_GIVEN);
	ck_assert_str_eq(jstr(j, "identification.narrative"), NARRATIVE);
	ck_assert_str_eq(jstr(j, "lead_organisation.id"), o.police);
	json_decref(j);
	/* On the case, but not its lead: identification is not its to end. */
	j = case_json(&g, id);
	ck_assert_ptr_null(find_by(jpath(j, "allowed_transitions"), "id",
	    "refer_for_assistance"));
	json_decref(j);
	json_decref(sop);
	json_decref(body);
}
END_TEST

/* ------------------------------------------------------------- notes */

#define PSY_NOTE "Séance 1 : troubles du sommeil, cauchemars récurrents."
#define ORG_NOTE "Note interne du guichet : rappeler la famille jeudi."

static int
note_shown(json_t *c, const char *text)
{
	char *dump = json_dumps(c, JSON_COMPACT);
	int in_notes = 0, in_timeline = 0;
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(c, "notes"), i, n)
	{
		if (strcmp(jstr(n, "body"), text) == 0)
			in_notes = 1;
	}
	json_array_foreach(json_object_get(c, "timeline"), i, n)
	{
		if (strcmp(jstr(n, "body"), text) == 0)
			in_timeline = 1;
	}
	/* Shown in both, or in neither; and the text nowhere else. */
	ck_assert_int_eq(in_notes, in_timeline);
	ck_assert_int_eq(strstr(dump, text) != NULL, in_notes);
	free(dump);
	return in_notes;
}

START_TEST(test_psychosocial_notes_reach_the_police_only_with_consent)
{
	char id[40], cid[40], rid[40], share[40], path[256];
	struct sess p, g;
	struct orgs o;
	struct res x;
	json_t *c;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "guichet.agent", &g);
	referred_case(&p, o.one_stop, "psychosocial", id, cid, rid);
	accept_ok(&g, rid);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/notes", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "body", PSY_NOTE, "visibility", "case",
	        "category", "psychosocial"));
	EXPECT(x, 201, "psychosocial note");
	res_free(&x);
	/* The police cannot even write one. */
	x = callj(&wf.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "body", "avis de la police",
	        "visibility", "case", "category", "psychosocial"));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);

	c = case_json(&g, id);
	ck_assert(note_shown(c, PSY_NOTE));
	json_decref(c);
	c = case_json(&p, id);
	ck_assert(!note_shown(c, PSY_NOTE));
	json_decref(c);

	/* Recorded by the protection side that heard the victim. */
	consent_ok(&g, id, "share_with_police", "victim", share);
	c = case_json(&p, id);
	ck_assert_msg(note_shown(c, PSY_NOTE),
	    "the note is hidden from the police despite share_with_police");
	ck_assert_str_eq(jstr(c, "identification.narrative"), NARRATIVE);
	json_decref(c);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents/%s", id, share);
	x = call(&wf.srv, &g, "DELETE", path, NULL);
	EXPECT(x, 200, "withdraw share_with_police");
	res_free(&x);
	c = case_json(&p, id);
	ck_assert_msg(!note_shown(c, PSY_NOTE),
	    "the note still shows after the withdrawal");
	ck_assert_ptr_null(jpath(c, "identification.narrative"));
	json_decref(c);
	/* The one-stop center still reads its note. */
	c = case_json(&g, id);
	ck_assert(note_shown(c, PSY_NOTE));
	json_decref(c);
}
END_TEST

START_TEST(test_an_organisation_note_stays_in_its_organisation)
{
	char id[40], cid[40], rid[40], rid2[40], share[40], path[256];
	struct sess p, g, s;
	struct orgs o;
	struct res x;
	json_t *c;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "guichet.agent", &g);
	login_ok(&wf.srv, "refuge.gao", &s);
	referred_case(&p, o.one_stop, "medical", id, cid, rid);
	accept_ok(&g, rid);
	refer_ok(&p, id, o.shelter_gao, "shelter", cid, rid2);
	accept_ok(&s, rid2);
	/* Even with everything shared with the police. */
	consent_ok(&g, id, "share_with_police", "victim", share);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/notes", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "body", ORG_NOTE, "visibility",
	        "organisation"));
	EXPECT(x, 201, "organisation note");
	ck_assert_str_eq(jstr(x.j, "visibility"), "organisation");
	res_free(&x);
	c = case_json(&g, id);
	ck_assert(note_shown(c, ORG_NOTE));
	json_decref(c);
	c = case_json(&p, id);
	ck_assert(!note_shown(c, ORG_NOTE));
	json_decref(c);
	c = case_json(&s, id);
	ck_assert(!note_shown(c, ORG_NOTE));
	json_decref(c);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "body", "x", "visibility", "everyone"));
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);
}
END_TEST

/* ------------------------------------------------------------- child */

START_TEST(test_a_child_needs_a_referral_to_child_protection)
{
	char id[40], cid[40], rid[40], d[11];
	struct sess p, chef;
	struct orgs o;
	struct res x;
	json_t *c, *b;
	long long v;

	orgs_load(&o);
	today(d);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "police.chef", &chef);
	create_case(&p,
	    json_pack("{s:{s:s, s:i, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	        "given_name", "Fatoumata", "age_estimate", 14, "sex", "female",
	        "identification", "date", d, "region", "mopti",
	        "exploitation_types", "forced_begging"),
	    id);

	c = case_json(&p, id);
	ck_assert(json_is_true(jpath(c, "child")));
	ck_assert_str_eq(jstr(c, "age_band"), "12-17");
	b = find_by(jpath(c, "blocked_transitions"), "id",
	    "refer_for_assistance");
	ck_assert_msg(b != NULL, "not blocked");
	ck_assert_str_eq(jstr(b, "reason.code"), "precondition_failed");
	ck_assert_ptr_nonnull(jpath(b, "reason.message"));
	json_decref(c);

	/* A child's consent is the guardian's. */
	x = consent_add(&p, id, "assistance", "victim");
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "given_by");
	res_free(&x);
	consent_ok(&p, id, "assistance", "guardian", cid);

	c = case_json(&p, id);
	b = find_by(jpath(c, "blocked_transitions"), "id",
	    "refer_for_assistance");
	ck_assert_msg(b != NULL, "a child goes on without child protection");
	ck_assert_str_eq(jstr(b, "reason.code"), "precondition_failed");
	ck_assert_ptr_null(find_by(jpath(c, "allowed_transitions"), "id",
	    "refer_for_assistance"));
	v = jint(c, "version");
	json_decref(c);
	x = transition(&p, id, "refer_for_assistance", v);
	ck_assert_error(&x.r, 409, "precondition_failed");
	res_free(&x);
	/* Nor can the supervisor close it. */
	x = transition(&chef, id, "close_at_identification", v);
	ck_assert_error(&x.r, 409, "precondition_failed");
	res_free(&x);
	c = case_json(&p, id);
	ck_assert_str_eq(jstr(c, "stage"), "identification");
	ck_assert_int_eq(jint(c, "version"), v);
	json_decref(c);

	/* The referral to child protection needs no consent. */
	x = refer(&p, id, o.child, "child_protection", "urgent", NULL);
	EXPECT(x, 201, "referral to child protection");
	snprintf(rid, sizeof(rid), "%s", jstr(x.j, "id"));
	res_free(&x);
	c = case_json(&p, id);
	ck_assert_msg(find_by(jpath(c, "allowed_transitions"), "id",
	                  "refer_for_assistance") != NULL,
	    "still blocked after the referral to child protection");
	ck_assert_ptr_null(find_by(jpath(c, "blocked_transitions"), "id",
	    "refer_for_assistance"));
	v = jint(c, "version");
	json_decref(c);
	x = transition(&p, id, "refer_for_assistance", v);
	EXPECT(x, 200, "refer_for_assistance");
	ck_assert_str_eq(jstr(x.j, "stage"), "referral");
	ck_assert_int_eq(jint(x.j, "version"), v + 1);
	res_free(&x);
}
END_TEST

/* ---------------------------------------------------------- refusals */

/* The case (as s) and the referral (as s), for before/after checks. */
static json_t *
snapshot(const struct sess *s, const char *case_id, const char *rid)
{
	json_t *j = json_object();
	char path[256];
	struct res x;

	json_object_set_new(j, "case", case_json(s, case_id));
	if (rid != NULL) {
		snprintf(path, sizeof(path), "/api/v1/referrals/%s", rid);
		x = call(&wf.srv, s, "GET", path, NULL);
		EXPECT(x, 200, "GET the referral");
		json_object_set(j, "referral", x.j);
		res_free(&x);
	}
	return j;
}

/* Fails unless before and after are equal; takes both. */
static void
same(json_t *before, json_t *after, const char *what)
{
	char *a, *b;

	if (json_equal(before, after)) {
		json_decref(before);
		json_decref(after);
		return;
	}
	a = json_dumps(before, JSON_COMPACT);
	b = json_dumps(after, JSON_COMPACT);
	ck_abort_msg("%s changed something:\n%.1500s\n%.1500s", what, a, b);
	free(a);
	free(b);
}

START_TEST(test_refusals_change_nothing)
{
	char id[40], cid[40], other[40], rid[40];
	struct sess p, g;
	struct orgs o;
	struct res x;
	json_t *snap;
	long long v;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	create_case(&p, adult_case(), id);

	snap = snapshot(&p, id, NULL);
	x = refer(&p, id, o.shelter_gao, "shelter", "urgent", NULL);
	ck_assert_error(&x.r, 409, "consent_required");
	res_free(&x);
	same(snap, snapshot(&p, id, NULL), "a referral without consent");

	consent_ok(&p, id, "assistance", "victim", cid);
	consent_ok(&p, id, "data_processing", "victim", other);
	snap = snapshot(&p, id, NULL);
	/* A consent in force, but of another scope than the rule's. */
	x = refer(&p, id, o.shelter_gao, "shelter", "urgent", other);
	ck_assert_error(&x.r, 409, "consent_required");
	res_free(&x);
	x = refer(&p, id, o.committee, "shelter", "urgent", cid);
	ck_assert_error(&x.r, 409, "referral_not_allowed");
	res_free(&x);
	x = refer(&p, id, o.shelter_gao, "investigation", "urgent", cid);
	ck_assert_error(&x.r, 409, "referral_not_allowed");
	res_free(&x);
	x = refer(&p, id, o.police, "shelter", "urgent", cid);
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);
	x = refer(&p, id, o.shelter_gao, "shelter", "tomorrow", cid);
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "urgency");
	res_free(&x);
	same(snap, snapshot(&p, id, NULL), "refused referrals");

	refer_ok(&p, id, o.shelter_gao, "shelter", cid, rid);
	snap = snapshot(&p, id, rid);
	x = refer(&p, id, o.shelter_gao, "shelter", "high", cid);
	ck_assert_error(&x.r, 409, "duplicate_referral");
	res_free(&x);
	x = ref_act(&p, rid, "accept", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	x = ref_act(&g, rid, "decline",
	    json_pack("{s:s}", "reason", "pas_de_place"));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "reason");
	res_free(&x);
	x = ref_act(&g, rid, "withdraw", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	x = ref_act(&g, rid, "complete", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	same(snap, snapshot(&p, id, rid), "refused acts on a pending referral");

	accept_ok(&g, rid);
	snap = snapshot(&p, id, rid);
	x = ref_act(&g, rid, "accept", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	x = ref_act(&g, rid, "decline",
	    json_pack("{s:s}", "reason", "no_capacity"));
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	x = ref_act(&p, rid, "withdraw", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);

	v = jint(json_object_get(snap, "case"), "version");
	x = transition(&p, id, "refer_for_assistance", v - 1);
	ck_assert_msg(x.st == 409, "stale version: %ld %s", x.st, x.body);
	ck_assert_error(&x.r, 409, "stale_version");
	res_free(&x);
	x = transition(&p, id, "close_at_identification", v);
	ck_assert_error(&x.r, 409, "transition_not_allowed");
	res_free(&x);
	x = transition(&p, id, "start_assistance", v);
	ck_assert_error(&x.r, 409, "transition_not_allowed");
	res_free(&x);
	x = transition(&p, id, "no_such_transition", v);
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);
	/* The shelter is on the case but does not lead it. */
	x = transition(&g, id, "refer_for_assistance", v);
	ck_assert_error(&x.r, 409, "transition_not_allowed");
	res_free(&x);
	same(snap, snapshot(&p, id, rid), "refused acts and transitions");

	/* And what is allowed goes through. */
	x = transition(&p, id, "refer_for_assistance", v);
	EXPECT(x, 200, "refer_for_assistance");
	ck_assert_int_eq(jint(x.j, "version"), v + 1);
	res_free(&x);
}
END_TEST

/* ------------------------------------------------------- unmet needs */

START_TEST(test_a_declined_service_is_an_unmet_need_until_accepted)
{
	char id[40], cid[40], r1[40], r2[40];
	struct sess p, g, b;
	struct orgs o;
	struct res x;
	json_t *c, *r;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	login_ok(&wf.srv, "refuge.bamako", &b);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, r1);
	c = case_json(&p, id);
	ck_assert(!has_string(jpath(c, "unmet_needs"), "shelter"));
	json_decref(c);

	x = ref_act(&g, r1, "decline",
	    json_pack("{s:s, s:s}", "reason", "no_capacity", "note",
	        "Plus de lit disponible"));
	EXPECT(x, 200, "decline");
	ck_assert_str_eq(jstr(x.j, "status"), "declined");
	ck_assert_str_eq(jstr(x.j, "decline_reason"), "no_capacity");
	res_free(&x);
	c = case_json(&p, id);
	ck_assert_msg(has_string(jpath(c, "unmet_needs"), "shelter"),
	    "unmet_needs: %s", json_dumps(jpath(c, "unmet_needs"), 0));
	r = find_by(jpath(c, "referrals"), "id", r1);
	ck_assert_str_eq(jstr(r, "status"), "declined");
	json_decref(c);
	/* The declining shelter has no access. */
	x = get_case(&g, id);
	ck_assert_error(&x.r, 404, "not_found");
	res_free(&x);

	refer_ok(&p, id, o.shelter_bko, "shelter", cid, r2);
	accept_ok(&b, r2);
	c = case_json(&p, id);
	ck_assert(!has_string(jpath(c, "unmet_needs"), "shelter"));
	json_decref(c);
}
END_TEST

/* ---------------------------------------------- consent withdrawal */

START_TEST(test_withdrawing_consent_withdraws_referrals_and_ends_access)
{
	char id[40], cid[40], r1[40], r2[40], path[256];
	struct sess p, g, s;
	struct orgs o;
	struct res x;
	json_t *c, *e, *ev;
	size_t i;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "guichet.agent", &g);
	login_ok(&wf.srv, "refuge.gao", &s);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, r1);
	refer_ok(&p, id, o.one_stop, "psychosocial", cid, r2);
	accept_ok(&g, r2);
	x = get_case(&g, id);
	EXPECT(x, 200, "the one-stop center on the case");
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents/%s", id, cid);
	x = call(&wf.srv, &p, "DELETE", path, NULL);
	EXPECT(x, 200, "withdraw the consent");
	ck_assert(has_string(jpath(x.j, "referrals_withdrawn"), r1));
	ck_assert(!has_string(jpath(x.j, "referrals_withdrawn"), r2));
	ck_assert(has_string(jpath(x.j, "access_ended_for"), o.one_stop));
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/referrals/%s", r1);
	x = call(&wf.srv, &p, "GET", path, NULL);
	EXPECT(x, 200, "the pending referral");
	ck_assert_str_eq(jstr(x.j, "status"), "withdrawn");
	ck_assert_str_eq(jstr(x.j, "closed_reason"), "consent_withdrawn");
	res_free(&x);
	/* The shelter has nothing to answer any more. */
	x = ref_act(&s, r1, "accept", NULL);
	ck_assert_error(&x.r, 409, "referral_state");
	res_free(&x);
	x = get_case(&s, id);
	ck_assert_error(&x.r, 404, "not_found");
	res_free(&x);
	x = get_case(&g, id);
	ck_assert_error(&x.r, 404, "not_found");
	res_free(&x);

	c = case_json(&p, id);
	ev = NULL;
	json_array_foreach(jpath(c, "timeline"), i, e)
	{
		if (strcmp(jstr(e, "kind"), "consent.withdrawn") == 0)
			ev = e;
	}
	ck_assert_msg(ev != NULL, "no consent.withdrawn in the timeline");
	ck_assert(has_string(jpath(ev, "detail.referrals_withdrawn"), r1));
	ck_assert(has_string(jpath(ev, "detail.access_ended_for"), o.one_stop));
	ck_assert(json_is_false(
	    jpath(find_by(jpath(c, "consents"), "id", cid), "in_force")));
	/* Nothing rests on assistance now: referring needs it again. */
	json_decref(c);
	x = refer(&p, id, o.shelter_gao, "shelter", "urgent", cid);
	ck_assert_error(&x.r, 409, "consent_required");
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents/%s", id, cid);
	x = call(&wf.srv, &p, "DELETE", path, NULL);
	ck_assert_msg(x.st == 409, "second withdrawal: %ld", x.st);
	res_free(&x);
}
END_TEST

/* -------------------------------------------- concurrent acceptance */

struct race {
	const struct sess *s;
	const char *rid;
	pthread_barrier_t *bar;
	long st;
};

static void *
race_run(void *p)
{
	struct race *r = p;
	struct res x;

	pthread_barrier_wait(r->bar);
	x = ref_act(r->s, r->rid, "accept", NULL);
	r->st = x.st;
	res_free(&x);
	return NULL;
}

START_TEST(test_two_people_accepting_at_once_one_wins)
{
	char id[40], cid[40], rid[40];
	struct sess p, g1, g2;
	pthread_barrier_t bar;
	struct race r[2];
	pthread_t th[2];
	struct orgs o;
	int round, i, ok, conflict;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g1);
	login_ok(&wf.srv, "refuge.gao", &g2);
	for (round = 0; round < 3; round++) {
		create_case(&p, adult_case(), id);
		consent_ok(&p, id, "assistance", "victim", cid);
		refer_ok(&p, id, o.shelter_gao, "shelter", cid, rid);
		ck_assert_int_eq(pthread_barrier_init(&bar, NULL, 2), 0);
		for (i = 0; i < 2; i++) {
			r[i].s = i ? &g2 : &g1;
			r[i].rid = rid;
			r[i].bar = &bar;
			r[i].st = 0;
			ck_assert_int_eq(
			    pthread_create(&th[i], NULL, race_run, &r[i]), 0);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&bar);
		ok = (r[0].st == 200) + (r[1].st == 200);
		conflict = (r[0].st == 409) + (r[1].st == 409);
		ck_assert_msg(ok == 1 && conflict == 1, "round %d: %ld and %ld",
		    round, r[0].st, r[1].st);
		ck_assert_int_eq(sqln(wf.db,
		                     "SELECT count(*) FROM case_access WHERE "
		                     "case_id = $1 AND organisation_id = $2",
		                     id, o.shelter_gao),
		    1);
		ck_assert_int_eq(sqln(wf.db,
		                     "SELECT count(*) FROM case_events WHERE "
		                     "case_id = $1 AND kind = "
		                     "'referral.accepted'",
		                     id, NULL),
		    1);
	}
}
END_TEST

/*
 * Requests that meet another write holding their case: they wait for the
 * case, as every write takes its case's lock before its read document's
 * (migration 0008). Taken the other way round, the request held the
 * document and waited for the case, while the other write, holding the
 * case, waited for the document: a deadlock. held_case() holds the case
 * from a connection of its own, sends s's request (the accept of referral
 * target, or the read of case target) from a thread, and
 * once that request waits on the holder, writes to the case's timeline,
 * commits, and returns the request's status; the holder's write must
 * succeed.
 */
struct held_run {
	const struct sess *s;
	const char *id;		/* the referral, or the case */
	int accept;		/* 1: accept the referral; 0: read the case */
	long st;
};

static void *
held_run(void *p)
{
	struct held_run *r = p;
	struct res x;

	x = r->accept ? ref_act(r->s, r->id, "accept", NULL) :
	    get_case(r->s, r->id);
	r->st = x.st;
	res_free(&x);
	return NULL;
}

static PGresult *
pq1(PGconn *c, const char *sql, const char *p1)
{
	return PQexecParams(c, sql, p1 != NULL ? 1 : 0, NULL,
	    p1 != NULL ? &p1 : NULL, NULL, NULL, 0);
}

static long
held_case(const char *case_id, const struct sess *s, const char *target,
    int accept)
{
	struct held_run r = { s, target, accept, 0 };
	struct held_run *run = &r;
	char waiting[16], holder[16], *log;
	PGresult *q;
	PGconn *c;
	pthread_t th;
	size_t n;
	int i, ok;

	c = PQconnectdb(wf.db);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	q = pq1(c, "BEGIN", NULL);
	PQclear(q);
	q = pq1(c, "SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", case_id);
	ck_assert_int_eq(PQntuples(q), 1);
	PQclear(q);
	ck_assert_int_eq(pthread_create(&th, NULL, held_run, run), 0);
	snprintf(holder, sizeof(holder), "%d", PQbackendPID(c));
	/* Until a backend waits on this connection's locks: the request. */
	for (i = 0, waiting[0] = '0'; i < 200 && waiting[0] == '0'; i++) {
		harness_sleep_ms(50);
		sqlv(wf.db, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "pg_blocking_pids(pid) @> ARRAY[$1::int]", holder, NULL,
		    waiting, sizeof(waiting));
	}
	ck_assert_msg(waiting[0] != '0', "the request never waited on the "
	    "case");
	q = pq1(c, "UPDATE case_events SET category = category "
	    "WHERE case_id = $1", case_id);
	ok = PQresultStatus(q) == PGRES_COMMAND_OK;
	ck_assert_msg(ok, "the holder's write failed: %s",
	    PQresultErrorMessage(q));
	PQclear(q);
	q = pq1(c, "COMMIT", NULL);
	PQclear(q);
	PQfinish(c);
	pthread_join(th, NULL);
	/* A deadlock's victim may be retried into a success: none at all. */
	log = slurp(wf.srv.log, &n);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "40P01") == NULL, "a deadlock (the server's "
	    "log above)");
	free(log);
	return run->st;
}

START_TEST(test_requests_wait_for_a_write_holding_their_case)
{
	char id[40], cid[40], rid[40];
	struct sess p, g;
	struct orgs o;
	long st;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, rid);

	/* The receiver accepts. */
	st = held_case(id, &g, rid, 1);
	ck_assert_msg(st == 200, "the accept answered %ld", st);
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM referrals WHERE "
	    "id = $1 AND status = 'accepted'", rid, NULL), 1);

	/* A read that must make the case's missing document. */
	ck_assert_int_eq(sqln(wf.db, "WITH d AS (DELETE FROM case_docs WHERE "
	    "case_id = $1 RETURNING 1) SELECT count(*) FROM d", id, NULL), 1);
	st = held_case(id, &p, id, 0);
	ck_assert_msg(st == 200, "the read answered %ld", st);
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM case_docs WHERE "
	    "case_id = $1", id, NULL), 1);
}
END_TEST

/* ------------------------------------------------------ lead transfer */

START_TEST(test_lead_transfer_to_an_ngo_keeps_police_access)
{
	char id[40], cid[40], rid[40];
	struct sess p, n;
	struct orgs o;
	struct res x;
	json_t *c;
	long long v;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "ong.agent", &n);
	create_case(&p, adult_case(), id);
	consent_ok(&p, id, "assistance", "victim", cid);
	c = case_json(&p, id);
	v = jint(c, "version");
	ck_assert_ptr_nonnull(find_by(jpath(c, "allowed_transitions"), "id",
	    "refer_for_assistance"));
	json_decref(c);

	refer_ok(&p, id, o.ngo, "lead_transfer", cid, rid);
	x = get_case(&n, id);
	ck_assert_error(&x.r, 404, "not_found");
	res_free(&x);
	accept_ok(&n, rid);

	c = case_json(&n, id);
	ck_assert_str_eq(jstr(c, "lead_organisation.id"), o.ngo);
	ck_assert_int_eq(jint(c, "version"), v + 1);
	ck_assert_ptr_nonnull(find_by(jpath(c, "allowed_transitions"), "id",
	    "refer_for_assistance"));
	json_decref(c);
	c = case_json(&p, id);
	ck_assert_str_eq(jstr(c, "lead_organisation.id"), o.ngo);
	ck_assert_str_eq(jstr(c, "victim.given_name"), NAME_GIVEN);
	/* Lead-only transitions are the NGO's now. */
	ck_assert_ptr_null(find_by(jpath(c, "allowed_transitions"), "id",
	    "refer_for_assistance"));
	json_decref(c);
	x = transition(&p, id, "refer_for_assistance", v + 1);
	ck_assert_error(&x.r, 409, "transition_not_allowed");
	res_free(&x);
	x = call(&wf.srv, &p, "GET", "/api/v1/cases", NULL);
	ck_assert_msg(strstr(x.body, id) != NULL, "the police lost the case");
	res_free(&x);
	/* Only the lead transfers the lead. */
	x = refer(&p, id, o.shelter_gao, "lead_transfer", "normal", cid);
	ck_assert_error(&x.r, 409, "referral_not_allowed");
	res_free(&x);
}
END_TEST

/* ------------------------------------------------------------ overdue */

/* Moves referral rid's deadline to now() + in (an interval, "-1 hour"). */
static void
respond_in(const char *rid, const char *in)
{
	ck_assert_int_eq(sqln(wf.db, "WITH u AS (UPDATE referrals SET "
	    "respond_by = now() + $2::interval WHERE id = $1 RETURNING 1) "
	    "SELECT count(*) FROM u", rid, in), 1);
}

/* Whether s's read of the case shows referral rid overdue (-1: no such). */
static int
read_overdue(const struct sess *s, const char *case_id, const char *rid)
{
	json_t *j = case_json(s, case_id);
	json_t *v = jpath(find_by(json_object_get(j, "referrals"), "id", rid),
	    "overdue");
	int r = json_is_true(v) ? 1 : json_is_false(v) ? 0 : -1;

	json_decref(j);
	return r;
}

START_TEST(test_an_overdue_referral_shows_on_both_sides)
{
	char id[40], cid[40], rid[40], other[40];
	struct sess p, g;
	struct orgs o;
	struct res x;
	json_t *j, *it;
	size_t i;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	referred_case(&p, o.one_stop, "medical", id, cid, other);
	refer_ok(&p, id, o.shelter_gao, "shelter", cid, rid);
	j = inbox(&p);
	ck_assert_int_eq(jint(j, "overdue_referrals"), 0);
	ck_assert_int_eq(jint(j, "overdue_cases"), 0);
	json_decref(j);

	respond_in(rid, "-1 hour");

	j = inbox(&p);
	ck_assert_int_ge(jint(j, "overdue_referrals"), 1);
	ck_assert_int_ge(jint(j, "overdue_cases"), 1);
	json_decref(j);
	j = inbox(&g);
	ck_assert_int_ge(jint(j, "overdue_referrals"), 1);
	ck_assert_int_eq(jint(j, "pending_incoming_referrals"), 1);
	json_decref(j);

	x = call(&wf.srv, &p, "GET", "/api/v1/referrals?overdue=true", NULL);
	EXPECT(x, 200, "?overdue=true");
	ck_assert_str_eq(jstr(x.j, "items.0.id"), rid);
	json_array_foreach(json_object_get(x.j, "items"), i, it)
	    ck_assert(json_is_true(jpath(it, "overdue")));
	ck_assert_ptr_null(find_by(json_object_get(x.j, "items"), "id", other));
	res_free(&x);
	/* Unfiltered, the overdue one comes first. */
	x = call(&wf.srv, &p, "GET", "/api/v1/referrals", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(x.j, "items")), 2);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), rid);
	ck_assert(json_is_true(jpath(x.j, "items.0.overdue")));
	ck_assert(json_is_false(jpath(x.j, "items.1.overdue")));
	res_free(&x);
	x = call(&wf.srv, &g, "GET",
	    "/api/v1/referrals?direction=incoming&overdue=true", NULL);
	ck_assert_str_eq(jstr(x.j, "items.0.id"), rid);
	res_free(&x);

	/* The case's own read says the same, from its document. */
	ck_assert_int_eq(read_overdue(&p, id, rid), 1);
	ck_assert_int_eq(read_overdue(&p, id, other), 0);
	/*
	 * A deadline passes with no write: the document holds the deadline,
	 * the read compares it with its own time.
	 */
	respond_in(other, "3 seconds");
	ck_assert_int_eq(read_overdue(&p, id, other), 0);
	harness_sleep_ms(3500);
	ck_assert_int_eq(read_overdue(&p, id, other), 1);
}
END_TEST

/*
 * A referral carries a summary of its case (sex, age band, childhood,
 * urgent needs): when the case changes, the read shows the new summary,
 * as the receiver's list does.
 */
START_TEST(test_a_referral_summary_follows_its_case)
{
	char id[40], cid[40], rid[40], path[256];
	struct sess p, g;
	struct orgs o;
	struct res x;
	json_t *c, *r;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, rid);
	c = case_json(&p, id);
	r = find_by(json_object_get(c, "referrals"), "id", rid);
	ck_assert_str_eq(jstr(r, "summary.sex"), "female");
	ck_assert(json_is_false(jpath(r, "summary.child")));
	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	x = callj(&wf.srv, &p, "PATCH", path, json_pack("{s:I, s:{s:s, s:i}, "
	    "s:{s:[s]}}", "version", json_integer_value(json_object_get(c,
	    "version")), "victim", "sex", "male", "age_estimate", 16,
	    "identification", "urgent_needs", "medical_care"));
	EXPECT(x, 200, "PATCH sex, age and urgent needs");
	res_free(&x);
	json_decref(c);

	c = case_json(&p, id);
	r = find_by(json_object_get(c, "referrals"), "id", rid);
	ck_assert_str_eq(jstr(r, "summary.sex"), "male");
	ck_assert_str_eq(jstr(r, "summary.age_band"), "12-17");
	ck_assert(json_is_true(jpath(r, "summary.child")));
	ck_assert(has_string(jpath(r, "summary.urgent_needs"),
	    "medical_care"));
	ck_assert(!has_string(jpath(r, "summary.urgent_needs"),
	    "safe_shelter"));
	x = call(&wf.srv, &g, "GET", "/api/v1/referrals?direction=incoming",
	    NULL);
	EXPECT(x, 200, "incoming");
	ck_assert(json_equal(jpath(x.j, "items.0.summary"),
	    jpath(r, "summary")));
	res_free(&x);
	json_decref(c);
}
END_TEST

/*
 * A case whose read document is gone (made by hand, or lost) is read from
 * its tables all the same, and has its document again.
 */
START_TEST(test_a_case_without_its_read_document_is_read_all_the_same)
{
	char id[40], cid[40], rid[40];
	struct sess p;
	struct orgs o;
	json_t *before, *after;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, rid);
	before = case_json(&p, id);
	ck_assert_int_eq(sqln(wf.db, "WITH d AS (DELETE FROM case_docs WHERE "
	    "case_id = $1 RETURNING 1) SELECT count(*) FROM d", id, NULL), 1);
	after = case_json(&p, id);
	ck_assert(json_equal(before, after));
	json_decref(after);
	/* Gone again, and a write comes before the read: that write's part
	 * alone must not pass for the whole document. */
	ck_assert_int_eq(sqln(wf.db, "WITH d AS (DELETE FROM case_docs WHERE "
	    "case_id = $1 RETURNING 1) SELECT count(*) FROM d", id, NULL), 1);
	ck_assert_int_ge(sqln(wf.db, "WITH u AS (UPDATE case_events SET "
	    "category = category WHERE case_id = $1 RETURNING 1) "
	    "SELECT count(*) FROM u", id, NULL), 1);
	after = case_json(&p, id);
	ck_assert(json_equal(before, after));
	ck_assert_str_eq(jstr(after, "victim.given_name"), NAME_GIVEN);
	ck_assert_str_eq(jstr(after, "referrals.0.id"), rid);
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM case_docs WHERE "
	    "case_id = $1", id, NULL), 1);
	json_decref(before);
	json_decref(after);
	ck_assert_int_eq(docs_stale(wf.db), 0);
}
END_TEST

START_TEST(test_an_overdue_referral_is_an_overdue_case_for_the_receiver)
{
	char id[40], cid[40], rid[40];
	struct sess p, g;
	struct orgs o;
	json_t *j;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "refuge.gao", &g);
	referred_case(&p, o.shelter_gao, "shelter", id, cid, rid);
	respond_in(rid, "-1 hour");
	j = inbox(&g);
	ck_assert_msg(jint(j, "overdue_cases") >= 1,
	    "the receiver's inbox counts no overdue case: %s",
	    json_dumps(j, JSON_COMPACT));
	json_decref(j);
}
END_TEST

/* The list item of case id in a list answer, or NULL. */
static json_t *
list_item(json_t *list, const char *id)
{
	return find_by(json_object_get(list, "items"), "id", id);
}

START_TEST(test_case_list_filters_overdue_cases)
{
	char a[40], b[40], ca[40], cb[40], ra[40], rb[40];
	struct sess p;
	struct orgs o;
	struct res x;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	create_case(&p, adult_case(), a);
	create_case(&p, adult_case(), b);
	consent_ok(&p, a, "assistance", "victim", ca);
	consent_ok(&p, b, "assistance", "victim", cb);
	refer_ok(&p, a, o.shelter_gao, "shelter", ca, ra);
	refer_ok(&p, b, o.shelter_gao, "shelter", cb, rb);
	respond_in(ra, "-1 hour");

	/* API.md: GET /api/v1/cases?overdue=true, and "overdue" in search. */
	x = call(&wf.srv, &p, "GET", "/api/v1/cases?overdue=true", NULL);
	EXPECT(x, 200, "?overdue=true");
	ck_assert_msg(list_item(x.j, a) != NULL, "the overdue case is missing");
	ck_assert_msg(list_item(x.j, b) == NULL,
	    "?overdue=true lists a case with nothing overdue: %.300s", x.body);
	res_free(&x);
	x = callj(&wf.srv, &p, "POST", "/api/v1/cases/search",
	    json_pack("{s:b}", "overdue", 1));
	EXPECT(x, 200, "search overdue");
	ck_assert(list_item(x.j, a) != NULL);
	ck_assert_msg(list_item(x.j, b) == NULL,
	    "search {\"overdue\":true} lists a case with nothing overdue");
	res_free(&x);
}
END_TEST

START_TEST(test_case_list_shows_the_next_deadline)
{
	char id[40], cid[40], due[40];
	struct sess p;
	struct orgs o;
	struct res x;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	create_case(&p, adult_case(), id);
	consent_ok(&p, id, "assistance", "victim", cid);
	x = refer(&p, id, o.shelter_gao, "shelter", "high", cid);
	EXPECT(x, 201, "referral");
	snprintf(due, sizeof(due), "%s", jstr(x.j, "respond_by"));
	res_free(&x);
	x = call(&wf.srv, &p, "GET", "/api/v1/cases", NULL);
	EXPECT(x, 200, "list");
	/* The only deadline running is the referral's answer. */
	ck_assert_msg(strcmp(jstr(list_item(x.j, id), "next_deadline"), due) ==
	                  0,
	    "next_deadline is not the pending referral's respond_by %s: "
	    "%.400s",
	    due, x.body);
	res_free(&x);
}
END_TEST

/*
 * Erasure (crypto-shredding) leaves nothing to refer: a referral pending
 * at that moment can no longer be accepted, so that nobody gains access
 * to the case through it afterwards.
 */
START_TEST(test_a_pending_referral_cannot_be_accepted_after_erasure)
{
	char id[40], cid[40], rid[40], path[256];
	struct sess p, chef, g;
	struct orgs o;
	struct res x;

	orgs_load(&o);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "police.chef", &chef);
	login_ok(&wf.srv, "refuge.gao", &g);
	create_case(&p, adult_case(), id);
	consent_ok(&p, id, "assistance", "victim", cid);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/referrals", id);
	x = callj(&wf.srv, &p, "POST", path, json_pack("{s:s, s:s, s:s, s:s, "
	    "s:s}", "to_organisation_id", o.shelter_gao, "service", "shelter",
	    "urgency", "normal", "consent_id", cid, "note",
	    "Elle dort chez une cousine"));
	EXPECT(x, 201, "referral with a note");
	snprintf(rid, sizeof(rid), "%s", jstr(x.j, "id"));
	res_free(&x);
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM referrals WHERE "
	    "id = $1 AND note IS NOT NULL", rid, NULL), 1);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/erase", id);
	x = call(&wf.srv, &chef, "POST", path, "{}");
	EXPECT(x, 200, "erase");
	res_free(&x);
	/* The pending referral is withdrawn, and its note goes with the rest. */
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM referrals WHERE "
	    "id = $1 AND note IS NULL AND closed_note IS NULL AND status = "
	    "'withdrawn' AND closed_reason = 'case_erased'", rid, NULL), 1);
	ck_assert_int_eq(sqln(wf.db, "SELECT count(*) FROM case_docs WHERE "
	    "case_id = $1 AND fields = '' AND referrals "
	    "LIKE '%withdrawn%'", id, NULL), 1);

	x = ref_act(&g, rid, "accept", NULL);
	ck_assert_msg(x.st == 409,
	    "accepting a referral of an erased case: "
	    "%ld %.300s",
	    x.st, x.body);
	res_free(&x);
	ck_assert_int_eq(sqln(wf.db,
	                     "SELECT count(*) FROM case_access WHERE case_id = "
	                     "$1 AND organisation_id = $2 AND ended_at IS NULL",
	                     id, o.shelter_gao),
	    0);
}
END_TEST

/* ------------------------------------------------ services, justice */

START_TEST(test_services_and_the_justice_track)
{
	char id[40], cid[40], r1[40], r2[40], path[256], d[11];
	struct sess p, g, s;
	struct orgs o;
	struct res x;
	json_t *c, *sv;

	orgs_load(&o);
	today(d);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "guichet.agent", &g);
	login_ok(&wf.srv, "refuge.gao", &s);
	referred_case(&p, o.one_stop, "medical", id, cid, r1);
	refer_ok(&p, id, o.shelter_gao, "shelter", cid, r2);
	accept_ok(&g, r1);
	accept_ok(&s, r2);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/services", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "service", "medical", "date", d));
	EXPECT(x, 201, "service delivered");
	res_free(&x);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "service", "medical", "date",
	        "2099-01-01"));
	ck_assert_error(&x.r, 422, "invalid");
	res_free(&x);
	c = case_json(&p, id);
	sv = find_by(jpath(c, "services"), "service", "medical");
	ck_assert_msg(sv != NULL, "no medical service in the case");
	ck_assert_str_eq(jstr(sv, "date"), d);
	ck_assert_str_eq(jstr(sv, "organisation.id"), o.one_stop);
	ck_assert_uint_eq(json_array_size(jpath(c, "services")), 1);
	ck_assert_str_eq(jstr(c, "justice.status"), "none");
	json_decref(c);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/justice", id);
	x = callj(&wf.srv, &p, "PUT", path,
	    json_pack("{s:s, s:s}", "status", "complaint", "note",
	        "Plainte déposée au commissariat du 3e arrondissement"));
	EXPECT(x, 200, "justice by the police");
	ck_assert_str_eq(jstr(x.j, "justice.status"), "complaint");
	res_free(&x);
	x = callj(&wf.srv, &s, "PUT", path,
	    json_pack("{s:s}", "status", "dropped"));
	ck_assert_error(&x.r, 403, "forbidden");
	res_free(&x);
	x = callj(&wf.srv, &p, "PUT", path,
	    json_pack("{s:s}", "status", "jugee"));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "status");
	res_free(&x);
	c = case_json(&s, id);
	ck_assert_str_eq(jstr(c, "justice.status"), "complaint");
	json_decref(c);
	ck_assert_int_eq(sqln(wf.db,
	                     "SELECT count(*) FROM cases WHERE id = $1 AND "
	                     "justice_status = 'complaint'",
	                     id, NULL),
	    1);
}
END_TEST

/*
 * The read takes the case and its workflow's rows in one statement
 * (case_read); a write renders the case from separate statements. Both
 * must give the same bytes, for a case with every part: consents (one
 * with a note), referrals accepted, declined and pending, notes of each
 * visibility, a service, the justice track and the timeline they leave.
 */
/*
 * w, the case as a write of s rendered it (the Jansson tree), and the
 * case as s then reads it (GET, text written by the read's renderer) with
 * the same extra header: the same bytes, or the test fails. Takes w.
 */
static void
read_is_write(const struct sess *s, const char *id, struct res *w,
    const char *extra, const char *what)
{
	char path[256];
	size_t at, from;
	struct res x;

	ck_assert_msg(w->st == 200 || w->st == 201, "%s: %ld %.400s", what,
	    w->st, w->body);
	ck_assert_str_eq(jstr(w->j, "id"), id);
	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	x = call_h(&wf.srv, s, "GET", path, NULL, extra);
	EXPECT(x, 200, what);
	for (at = 0; at < w->len && at < x.len && w->body[at] == x.body[at];
	    at++)
		;
	from = at > 120 ? at - 120 : 0;
	ck_assert_msg(w->len == x.len && at == x.len,
	    "%s: the read differs from the write's rendering at byte %zu "
	    "(of %zu and %zu):\n%.240s\n%.240s", what, at, w->len, x.len,
	    w->body + from, x.body + from);
	res_free(&x);
	res_free(w);
}

/* A PATCH that changes nothing but the version: the case as s sees it. */
static struct res
touch(const struct sess *s, const char *id, const char *extra)
{
	char path[256], body[64];
	json_t *c = case_json(s, id);

	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	snprintf(body, sizeof(body), "{\"version\":%lld}",
	    (long long)json_integer_value(json_object_get(c, "version")));
	json_decref(c);
	return call_h(&wf.srv, s, "PATCH", path, body, extra);
}

#define EN "Accept-Language: en"
/* Every escape jansson writes, and UTF-8 of 2, 3 and 4 bytes. */
#define HOSTILE "\"q\" \\ / \t\n\r \001\037\177 é ß حسن 🙂"
/* What a note may hold of it (no control byte but tab and newlines). */
#define TEXT "\"q\" \\ / \t\n\r é ß حسن 🙂"

/*
 * The read writes its text itself; byte for byte it must be what the
 * writes render, for every part and every kind of value: names with
 * quotes, backslashes, control characters and non-ASCII UTF-8 (sealed
 * and clear, strings, integers, arrays, dates), consents with and without
 * note, referrals in every status, notes of each visibility and category,
 * services, justice, blocked and allowed transitions, French and English,
 * a child's case, an erased case, and readers who see less.
 */
START_TEST(test_the_read_is_byte_for_byte_the_rendered_case)
{
	char id[40], kid[40], cid[40], r[5][40], path[256];
	char d[11], oldname[256], body[512];
	struct sess p, chef, g, bko, gao;
	struct orgs o;
	struct res w;
	char *dump;

	orgs_load(&o);
	today(d);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "police.chef", &chef);
	login_ok(&wf.srv, "guichet.agent", &g);
	login_ok(&wf.srv, "refuge.bamako", &bko);
	login_ok(&wf.srv, "refuge.gao", &gao);
	create_case(&p,
	    json_pack("{s:{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:[s,s], s:s, "
	              "s:s}, s:{s:s, s:s, s:s, s:[s], s:[s,s], s:[s], s:s}}",
	        "victim", "given_name", "Aïcha \"la\" \\ / ß",
	        "family_name", "حسن 🙂 O'Brien", "other_names", "tab\there",
	        "date_of_birth", "1990-02-03", "age_estimate", 35, "sex",
	        "female", "nationality", "ML", "languages", "bm", "ff",
	        "phone", "+223 \"60\" 00", "address", "Rue 12\r\nGao \\ é",
	        "identification", "date", d, "region", "gao", "place",
	        "Gare \"routière\" 🚌", "exploitation_types",
	        "sexual_exploitation", "indicators", "debt_bondage",
	        "documents_confiscated", "urgent_needs", "safe_shelter",
	        "narrative", "Récit:\n\t\"guillemets\" \\ 🙂 ß"),
	    id);
	/* What no request may write, written underneath: control bytes in
	 * an organisation's name and in a clear value. */
	sqlv(wf.db, "SELECT name FROM organisations WHERE id = $1", o.police,
	    NULL, oldname, sizeof(oldname));
	ck_assert_int_eq(sqln(wf.db, "WITH u AS (UPDATE organisations SET "
	    "name = name || $1 WHERE id = $2 RETURNING 1) SELECT count(*) "
	    "FROM u", HOSTILE, o.police), 1);
	ck_assert_int_eq(sqln(wf.db, "WITH u AS (UPDATE cases SET clear = "
	    "jsonb_set(clear, '{victim.languages}', jsonb_build_array('fr', "
	    "$1::text)) WHERE id = $2 RETURNING 1) SELECT count(*) FROM u",
	    HOSTILE, id), 1);

	/* A new case: blocked transitions, in French and in English. */
	w = touch(&p, id, NULL);
	ck_assert_uint_gt(json_array_size(jpath(w.j, "blocked_transitions")),
	    0);
	ck_assert_ptr_nonnull(strstr(w.body, "\\u0001\\u001F\x7f"));
	read_is_write(&p, id, &w, NULL, "new case, French");
	w = touch(&p, id, EN);
	read_is_write(&p, id, &w, EN, "new case, English");

	/* Consents without and with a note; referrals in every status. */
	consent_ok(&p, id, "assistance", "victim", cid);
	refer_ok(&p, id, o.one_stop, "medical", cid, r[0]);
	accept_ok(&g, r[0]);
	refer_ok(&p, id, o.shelter_gao, "shelter", cid, r[1]);
	w = ref_act(&gao, r[1], "decline",
	    json_pack("{s:s, s:s}", "reason", "no_capacity", "note", TEXT));
	EXPECT(w, 200, "decline");
	res_free(&w);
	refer_ok(&p, id, o.shelter_bko, "shelter", cid, r[2]);
	refer_ok(&p, id, o.ngo, "psychosocial", cid, r[3]);
	w = ref_act(&p, r[3], "withdraw", NULL);
	EXPECT(w, 200, "withdraw");
	res_free(&w);
	refer_ok(&p, id, o.ngo, "legal_aid", cid, r[4]);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/notes", id);
	/* Notes of each visibility; the psychosocial one the police may not
	 * read yet, nor the narrative: they see less than the centre. */
	w = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "body", "/Psy " TEXT, "visibility",
	        "case", "category", "psychosocial"));
	EXPECT(w, 201, "one-stop centre's note");
	res_free(&w);
	w = touch(&g, id, NULL);
	read_is_write(&g, id, &w, NULL, "one-stop centre's note");
	w = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "body", "Org " TEXT, "visibility",
	        "organisation"));
	EXPECT(w, 201, "one-stop centre, English");
	res_free(&w);
	w = touch(&g, id, EN);
	read_is_write(&g, id, &w, EN, "one-stop centre, English");
	w = touch(&p, id, NULL);
	ck_assert_ptr_null(jpath(w.j, "identification.narrative"));
	ck_assert_ptr_null(strstr(w.body, "Psy "));
	ck_assert_ptr_null(strstr(w.body, "Org "));
	read_is_write(&p, id, &w, NULL, "the police without consent");
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", id);
	w = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s, s:s}", "scope", "share_with_police",
	        "given_by", "victim", "date", d, "note", "Accord " TEXT));
	EXPECT(w, 201, "consent with a note");
	res_free(&w);
	w = touch(&g, id, NULL);
	read_is_write(&g, id, &w, NULL, "consent with a note");
	snprintf(path, sizeof(path), "/api/v1/cases/%s/notes", id);
	w = callj(&wf.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "body", "Justice " TEXT,
	        "visibility", "case", "category", "justice"));
	EXPECT(w, 201, "police's justice note");
	res_free(&w);
	w = touch(&p, id, NULL);
	read_is_write(&p, id, &w, NULL, "police's justice note");
	snprintf(path, sizeof(path), "/api/v1/cases/%s/services", id);
	w = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "service", "medical", "date", d));
	EXPECT(w, 201, "service, English");
	res_free(&w);
	w = touch(&g, id, EN);
	read_is_write(&g, id, &w, EN, "service, English");
	w = ref_act(&g, r[0], "complete", NULL);
	EXPECT(w, 200, "complete");
	res_free(&w);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/justice", id);
	snprintf(body, sizeof(body), "{\"status\":\"complaint\","
	    "\"note\":\"Plainte \\\"d\\u00e9pos\\u00e9e\\\" \\\\\"}");
	w = call_h(&wf.srv, &p, "PUT", path, body, EN);
	read_is_write(&p, id, &w, EN, "justice, English");

	/* The police now see the narrative; the shelter of Bamako, once it
	 * accepts, sees the case without the justice note. */
	w = touch(&p, id, NULL);
	ck_assert_ptr_nonnull(jpath(w.j, "identification.narrative"));
	ck_assert_ptr_nonnull(jpath(find_by(jpath(w.j, "consents"), "scope",
	    "share_with_police"), "note"));
	ck_assert_uint_ge(json_array_size(jpath(w.j, "referrals")), 5);
	ck_assert_uint_gt(json_array_size(jpath(w.j, "unmet_needs")), 0);
	read_is_write(&p, id, &w, NULL, "every part, the police");
	accept_ok(&bko, r[2]);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/services", id);
	w = callj(&wf.srv, &bko, "POST", path,
	    json_pack("{s:s, s:s}", "service", "shelter", "date", d));
	EXPECT(w, 201, "the shelter sees less");
	res_free(&w);
	w = touch(&bko, id, NULL);
	ck_assert_ptr_null(strstr(w.body, "Justice "));
	read_is_write(&bko, id, &w, NULL, "the shelter sees less");
	w = touch(&p, id, EN);
	ck_assert_uint_gt(json_array_size(jpath(w.j, "allowed_transitions")),
	    0);
	read_is_write(&p, id, &w, EN, "allowed transitions, English");

	/* A child's case, then the erased case. */
	create_case(&p,
	    json_pack("{s:{s:s, s:i, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	        "given_name", "Fatoumata \"Fanta\" ß", "age_estimate", 14,
	        "sex", "female", "identification", "date", d, "region",
	        "mopti", "exploitation_types", "forced_begging"),
	    kid);
	w = touch(&p, kid, NULL);
	ck_assert(json_is_true(jpath(w.j, "child")));
	read_is_write(&p, kid, &w, NULL, "a child's case");
	snprintf(path, sizeof(path), "/api/v1/cases/%s/erase", id);
	w = call(&wf.srv, &chef, "POST", path, "{}");
	EXPECT(w, 200, "erase");
	res_free(&w);
	/* No write renders an erased case: its read is jansson's own dump
	 * of what it reads. */
	w = get_case(&chef, id);
	EXPECT(w, 200, "an erased case");
	ck_assert(json_is_true(jpath(w.j, "erased")));
	ck_assert_ptr_null(jpath(w.j, "victim.given_name"));
	dump = json_dumps(w.j, JSON_COMPACT);
	ck_assert_ptr_nonnull(dump);
	ck_assert_msg(strlen(dump) == w.len && memcmp(dump, w.body, w.len) ==
	    0, "an erased case: not jansson's bytes:\n%.300s", w.body);
	free(dump);
	res_free(&w);

	sqlv(wf.db, "WITH u AS (UPDATE organisations SET name = $1 WHERE "
	    "id = $2 RETURNING 1) SELECT count(*) FROM u", oldname, o.police,
	    body, sizeof(body));
}
END_TEST

START_TEST(test_the_read_answers_as_a_write_renders)
{
	char id[40], cid[40], share[40], r1[40], r2[40], r3[40], path[256];
	char d[11];
	struct sess p, g, s;
	struct orgs o;
	struct res w, x;
	json_t *c;

	orgs_load(&o);
	today(d);
	login_ok(&wf.srv, "police.agent", &p);
	login_ok(&wf.srv, "guichet.agent", &g);
	login_ok(&wf.srv, "refuge.gao", &s);
	referred_case(&p, o.one_stop, "medical", id, cid, r1);
	accept_ok(&g, r1);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s, s:s}", "scope", "share_with_police",
	        "given_by", "victim", "date", d, "note",
	        "Accord donné \"oralement\"\tau guichet"));
	EXPECT(x, 201, "consent with a note");
	snprintf(share, sizeof(share), "%s", jstr(x.j, "id"));
	res_free(&x);
	refer_ok(&p, id, o.shelter_gao, "shelter", cid, r2);
	x = ref_act(&s, r2, "decline",
	    json_pack("{s:s, s:s}", "reason", "no_capacity", "note",
	        "Plus de lit disponible"));
	EXPECT(x, 200, "decline");
	res_free(&x);
	refer_ok(&p, id, o.shelter_bko, "shelter", cid, r3);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/notes", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "body", PSY_NOTE, "visibility", "case",
	        "category", "psychosocial"));
	EXPECT(x, 201, "psychosocial note");
	res_free(&x);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "body", ORG_NOTE, "visibility",
	        "organisation"));
	EXPECT(x, 201, "organisation note");
	res_free(&x);
	x = callj(&wf.srv, &p, "POST", path,
	    json_pack("{s:s, s:s}", "body", "Audition prévue lundi \\ 9 h",
	        "visibility", "case"));
	EXPECT(x, 201, "general note");
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/services", id);
	x = callj(&wf.srv, &g, "POST", path,
	    json_pack("{s:s, s:s}", "service", "medical", "date", d));
	EXPECT(x, 201, "service delivered");
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/justice", id);
	w = callj(&wf.srv, &p, "PUT", path,
	    json_pack("{s:s, s:s}", "status", "complaint", "note",
	        "Plainte déposée"));
	EXPECT(w, 200, "justice by the police");
	x = get_case(&p, id);
	EXPECT(x, 200, "GET the case");
	/* Every part is there, so that the comparison compares something. */
	c = x.j;
	ck_assert_uint_eq(json_array_size(jpath(c, "consents")), 2);
	ck_assert_str_eq(jstr(find_by(jpath(c, "consents"), "id", share),
	                     "note"),
	    "Accord donné \"oralement\"\tau guichet");
	ck_assert_uint_eq(json_array_size(jpath(c, "referrals")), 3);
	ck_assert_uint_eq(json_array_size(jpath(c, "services")), 1);
	ck_assert(note_shown(c, PSY_NOTE));
	ck_assert(!note_shown(c, ORG_NOTE));
	ck_assert_uint_ge(json_array_size(jpath(c, "timeline")), 6);
	ck_assert_str_eq(jstr(c, "justice.status"), "complaint");
	ck_assert_msg(w.len == x.len && memcmp(w.body, x.body, x.len) == 0,
	    "the read differs from the write's rendering:\n%.*s\n%.*s",
	    (int)w.len, w.body, (int)x.len, x.body);
	res_free(&x);
	res_free(&w);
}
END_TEST

/* ------------------------------------------------------ another SOP */

#define OTHER_SOP "tests/fixtures/sop/other_country.json"

START_TEST(test_demo_seed_runs_under_another_sop)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *migrate[] = { "migrate", NULL };
	const char *seed[] = { "seed", "--demo", NULL };
	char out[8192];
	struct env e;
	int rc;

	/* A database and key, no server: the command line alone. */
	memset(&e, 0, sizeof(e));
	e.fast = 1;
	snprintf(e.sop_env, sizeof(e.sop_env), "PASSERELLE_SOP=%s", OTHER_SOP);
	ck_assert_int_eq(harness_tmpdir(e.dir, sizeof(e.dir)), 0);
	snprintf(e.key, sizeof(e.key), "%s/master.key", e.dir);
	keygen[2] = e.key;
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	e.db = harness_db_create();
	ck_assert_ptr_nonnull(e.db);
	ck_assert_int_eq(env_run(&e, NULL, migrate, out, sizeof(out)), 0);
	rc = env_run(&e, NULL, seed, out, sizeof(out));
	/*
	 * sop/README.md: another country "runs on the same code"; the demo
	 * data is how one tries it out.
	 */
	ck_assert_msg(rc == 0, "seed --demo under %s exited %d: %s", OTHER_SOP,
	    rc, out);
	ck_assert_int_ge(sqln(e.db, "SELECT count(*) FROM users", NULL, NULL),
	    14);
	env_stop(&e);
}
END_TEST

START_TEST(test_another_sop_file_drives_other_stages)
{
	char id[40], cid[40], d[11], ref[32], path[256];
	struct sess p;
	struct env e;
	json_t *sop, *c, *stages;
	struct res x;

	/* A fresh database, served and seeded under the other SOP. */
	env_start_ex(&e, 1, OTHER_SOP, NULL);
	today(d);
	login_ok(&e.srv, "police.agent", &p);
	sop = served_sop(&e.srv, &p);
	ck_assert_str_eq(jstr(sop, "country"), "NE");
	stages = jpath(sop, "categories.stage.codes");
	ck_assert_ptr_nonnull(find_by(stages, "code", "screening"));

	/* Mali's regions mean nothing here. */
	x = callj(&e.srv, &p, "POST", "/api/v1/cases",
	    json_pack("{s:{s:s}, s:{s:s, s:s, s:[s]}}", "victim", "sex", "male",
	        "identification", "date", d, "region", "bamako",
	        "exploitation_types", "forced_labour"));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "identification.region");
	res_free(&x);

	x = callj(&e.srv, &p, "POST", "/api/v1/cases",
	    json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:[s]}}", "victim",
	        "given_name", "Ibrahim", "sex", "male", "identification",
	        "date", d, "region",
	        jstr(sop, "categories.region.codes.0.code"),
	        "exploitation_types", "forced_labour"));
	EXPECT(x, 201, "a case under the other SOP");
	snprintf(id, sizeof(id), "%s", jstr(x.j, "id"));
	snprintf(ref, sizeof(ref), "%s", jstr(x.j, "reference"));
	ck_assert_msg(strncmp(ref, "NE-", 3) == 0, "reference %s", ref);
	ck_assert_str_eq(jstr(x.j, "stage"), jstr(sop, "initial_stage"));
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/cases/%s", id);
	x = call(&e.srv, &p, "GET", path, NULL);
	ck_assert_ptr_nonnull(
	    find_by(jpath(x.j, "blocked_transitions"), "id", "screen"));
	res_free(&x);
	snprintf(path, sizeof(path), "/api/v1/cases/%s/consents", id);
	x = callj(&e.srv, &p, "POST", path,
	    json_pack("{s:s, s:s, s:s}", "scope", "assistance", "given_by",
	        "victim", "date", d));
	EXPECT(x, 201, "consent");
	snprintf(cid, sizeof(cid), "%s", jstr(x.j, "id"));
	res_free(&x);

	snprintf(path, sizeof(path), "/api/v1/cases/%s/transitions", id);
	x = callj(&e.srv, &p, "POST", path,
	    json_pack("{s:s, s:i}", "transition", "refer_for_assistance",
	        "version", 1));
	ck_assert_error(&x.r, 422, "invalid");
	ck_assert_str_eq(jstr(x.j, "error.field"), "transition");
	res_free(&x);
	x = callj(&e.srv, &p, "POST", path,
	    json_pack("{s:s, s:i}", "transition", "screen", "version", 1));
	EXPECT(x, 200, "screen");
	ck_assert_str_eq(jstr(x.j, "stage"), "screening");
	ck_assert_int_eq(jint(x.j, "version"), 2);
	c = json_incref(x.j);
	res_free(&x);
	/* From screening, the police may not confirm (the NGOs do). */
	ck_assert_ptr_null(find_by(jpath(c, "allowed_transitions"), "id",
	    "confirm_and_refer"));
	json_decref(c);
	x = call(&e.srv, &p, "GET", "/api/v1/cases?stage=screening", NULL);
	EXPECT(x, 200, "?stage=screening");
	ck_assert_str_eq(jstr(x.j, "items.0.id"), id);
	res_free(&x);
	json_decref(sop);
	env_stop(&e);
}
END_TEST

/* ====================================================================== */

static Suite *
workflow_suite(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc;

	tc = tcase_create("journeys");
	tcase_add_checked_fixture(tc, wf_setup, wf_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_police_refer_an_adult_to_the_gao_shelter);
	tcase_add_test(tc,
	    test_psychosocial_notes_reach_the_police_only_with_consent);
	tcase_add_test(tc, test_an_organisation_note_stays_in_its_organisation);
	tcase_add_test(tc, test_a_child_needs_a_referral_to_child_protection);
	tcase_add_test(tc, test_refusals_change_nothing);
	tcase_add_test(tc,
	    test_a_declined_service_is_an_unmet_need_until_accepted);
	tcase_add_test(tc,
	    test_withdrawing_consent_withdraws_referrals_and_ends_access);
	tcase_add_test(tc, test_two_people_accepting_at_once_one_wins);
	tcase_add_test(tc, test_requests_wait_for_a_write_holding_their_case);
	tcase_add_test(tc, test_lead_transfer_to_an_ngo_keeps_police_access);
	tcase_add_test(tc, test_an_overdue_referral_shows_on_both_sides);
	tcase_add_test(tc,
	    test_a_case_without_its_read_document_is_read_all_the_same);
	tcase_add_test(tc, test_a_referral_summary_follows_its_case);
	tcase_add_test(tc,
	    test_an_overdue_referral_is_an_overdue_case_for_the_receiver);
	tcase_add_test(tc, test_case_list_filters_overdue_cases);
	tcase_add_test(tc, test_case_list_shows_the_next_deadline);
	tcase_add_test(tc, test_services_and_the_justice_track);
	tcase_add_test(tc, test_the_read_answers_as_a_write_renders);
	tcase_add_test(tc, test_the_read_is_byte_for_byte_the_rendered_case);
	tcase_add_test(tc,
	    test_a_pending_referral_cannot_be_accepted_after_erasure);
	suite_add_tcase(s, tc);

	tc = tcase_create("other_sop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_another_sop_file_drives_other_stages);
	tcase_add_test(tc, test_demo_seed_runs_under_another_sop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_workflow", workflow_suite);
}
