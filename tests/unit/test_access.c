/*
 * The access table (auth_allowed): what each role in each organisation kind
 * may do, row by row, as DESIGN.md ("Who uses it", "Who sees what") puts
 * it: only caseworkers and supervisors of organisations that work on cases
 * reach victim data, the committee and the administration never do; only
 * the administration's admins manage organisations and accounts; auditors
 * read the audit trail, and those of the administration or the committee
 * read every organisation's; analysts and supervisors read anonymised
 * statistics. Then the fixed codes (kinds, roles, regions, services),
 * checked against the SOP, and the password policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "auth/auth.h"
#include "sop/sop.h"

#define MALI PASSERELLE_SOURCE_DIR "/sop/mali.json"

static const char *const roles[] = { "caseworker", "supervisor", "analyst",
	"auditor", "admin" };
#define NROLES 5
static const char *const kinds[] = { "police", "ngo", "shelter",
	"one_stop_center", "child_protection", "labour_inspection", "judiciary",
	"committee", "administration" };
#define NKINDS 9
static const char *const actions[] = { "ACT_NONE", "ACT_SELF", "ACT_ORG_CREATE",
	"ACT_ORG_LIST", "ACT_USER_CREATE", "ACT_USER_LIST", "ACT_USER_UPDATE",
	"ACT_AUDIT_READ", "ACT_AUDIT_ALL", "ACT_SOP_READ", "ACT_VICTIM_DATA",
	"ACT_CASE_CREATE", "ACT_STATS" };
#define NACTIONS 13

/*
 * The table: for each action, one line per role, one column per kind, in
 * the order of kinds[] above; '1' allowed, '.' refused.
 *
 *   police ngo shelter one_stop_center child_protection labour_inspection
 *   judiciary | committee administration
 */
static const char *const expect[NACTIONS][NROLES] = {
	[ACT_NONE] = {
		/* caseworker */ "1111111" "11",
		/* supervisor */ "1111111" "11",
		/* analyst    */ "1111111" "11",
		/* auditor    */ "1111111" "11",
		/* admin      */ "1111111" "11",
	},
	[ACT_SELF] = {
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
	},
	[ACT_ORG_CREATE] = {
		"......." "..",
		"......." "..",
		"......." "..",
		"......." "..",
		"......." ".1",
	},
	/* Caseworkers and supervisors choose whom to refer to; the
	 * administration's admins manage organisations. */
	/* Field caseworkers and supervisors, and the administration's admin. */
	[ACT_ORG_LIST] = {
		"1111111" "..",
		"1111111" "..",
		"......." "..",
		"......." "..",
		"......." ".1",
	},
	[ACT_USER_CREATE] = {
		"......." "..",
		"......." "..",
		"......." "..",
		"......." "..",
		"......." ".1",
	},
	/* Supervisors: their own organisation's accounts (two people). */
	[ACT_USER_LIST] = {
		"......." "..",
		"1111111" "..",
		"......." "..",
		"......." "..",
		"......." ".1",
	},
	/* Supervisors: their own organisation's accounts (two people). */
	[ACT_USER_UPDATE] = {
		"......." "..",
		"1111111" "..",
		"......." "..",
		"......." "..",
		"......." ".1",
	},
	[ACT_AUDIT_READ] = {
		"......." "..",
		"......." "..",
		"......." "..",
		"1111111" "11",
		"......." "..",
	},
	[ACT_AUDIT_ALL] = {
		"......." "..",
		"......." "..",
		"......." "..",
		"......." "11",
		"......." "..",
	},
	[ACT_SOP_READ] = {
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
		"1111111" "11",
	},
	[ACT_VICTIM_DATA] = {
		"1111111" "..",
		"1111111" "..",
		"......." "..",
		"......." "..",
		"......." "..",
	},
	/* Anonymised statistics: the committee's analysts (and supervisors)
	 * for the country, field organisations' analysts and supervisors for
	 * their own cases; never the administration. */
	/* Supervisors of field kinds (their own); analysts of the committee. */
	/* Field kinds but the judiciary: they identify and lead. */
	[ACT_CASE_CREATE] = {
		"1111110" "..",
		"1111110" "..",
		"......." "..",
		"......." "..",
		"......." "..",
	},
	[ACT_STATS] = {
		"......." "..",
		"1111111" "..",
		"......." "1.",
		"......." "..",
		"......." "..",
	},
};

static void
actor_of(struct actor *a, const char *role, const char *kind)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->user_id, sizeof(a->user_id),
	    "00000000-0000-4000-8000-000000000001");
	snprintf(a->username, sizeof(a->username), "someone");
	snprintf(a->role, sizeof(a->role), "%s", role);
	snprintf(a->org_id, sizeof(a->org_id),
	    "00000000-0000-4000-8000-000000000002");
	snprintf(a->org_kind, sizeof(a->org_kind), "%s", kind);
	snprintf(a->org_region, sizeof(a->org_region), "bamako");
}

START_TEST(test_access_table_covers_every_action)
{
	size_t a, r;

	/* A new action needs its row in expect[] (and a decision). */
	ck_assert_int_eq(ACT_COUNT, NACTIONS);
	ck_assert_uint_eq(sizeof(actions) / sizeof(actions[0]), NACTIONS);
	for (a = 0; a < NACTIONS; a++)
		for (r = 0; r < NROLES; r++) {
			ck_assert_ptr_nonnull(expect[a][r]);
			ck_assert_uint_eq(strlen(expect[a][r]), NKINDS);
		}
}
END_TEST

/* Row _i: action _i / 45, role (_i / 9) % 5, kind _i % 9. */
START_TEST(test_access_table)
{
	int act = _i / (NROLES * NKINDS), r = (_i / NKINDS) % NROLES,
	    k = _i % NKINDS;
	struct actor a;
	int want = expect[act][r][k] == '1';

	actor_of(&a, roles[r], kinds[k]);
	ck_assert_msg(auth_allowed(&a, (enum auth_action)act) == want,
	    "%s of %s, %s: got %d, want %d", roles[r], kinds[k], actions[act],
	    !want, want);
}
END_TEST

/*
 * The same table as the "role:kind" pairs the case read's statement
 * filters on (auth_allowed_pairs): for every action, exactly the pairs
 * auth_allowed allows, none cut, in a well-formed text[] literal; the
 * widest action (every role of every kind) included.
 */
START_TEST(test_access_pairs_are_the_table)
{
	char pair[64], *list, *tok, *save = NULL;
	size_t r, k, n;
	int act, found;
	struct actor a;

	for (act = 0; act < ACT_COUNT; act++) {
		const char *text = auth_allowed_pairs((enum auth_action)act);
		size_t len = strlen(text);

		ck_assert_msg(len >= 2 && text[0] == '{' && text[len - 1] == '}',
		    "%s: %s", actions[act], text);
		list = strndup(text + 1, len - 2);
		ck_assert_ptr_nonnull(list);
		n = 0;
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save))
			n++;
		free(list);
		for (r = 0; r < NROLES; r++)
			for (k = 0; k < NKINDS; k++) {
				actor_of(&a, roles[r], kinds[k]);
				snprintf(pair, sizeof(pair), "%s:%s", roles[r],
				    kinds[k]);
				list = strndup(text + 1, len - 2);
				ck_assert_ptr_nonnull(list);
				found = 0;
				for (tok = strtok_r(list, ",", &save);
				     tok != NULL; tok = strtok_r(NULL, ",", &save))
					found |= strcmp(tok, pair) == 0;
				free(list);
				ck_assert_msg(found == auth_allowed(&a,
				    (enum auth_action)act), "%s, %s: listed %d",
				    actions[act], pair, found);
				if (found)
					n--;
			}
		ck_assert_msg(n == 0, "%s: %zu pairs of no role and kind",
		    actions[act], n);
	}
	/* Out of range: nobody. */
	ck_assert_str_eq(auth_allowed_pairs(ACT_COUNT), "{}");
}
END_TEST

START_TEST(test_access_committee_and_administration_never_see_victims)
{
	static const char *const never[] = { "committee", "administration" };
	struct actor a;
	size_t r, k;

	for (k = 0; k < 2; k++)
		for (r = 0; r < NROLES; r++) {
			actor_of(&a, roles[r], never[k]);
			ck_assert_msg(!auth_allowed(&a, ACT_VICTIM_DATA),
			    "%s of %s", roles[r], never[k]);
		}
}
END_TEST

/*
 * Only the administration's admin creates organisations and accounts;
 * supervisors may also list and approve their own organisation's accounts
 * (ACT_USER_LIST, ACT_USER_UPDATE: the table above), never create one.
 */
START_TEST(test_access_only_administration_admins_manage_accounts)
{
	static const enum auth_action manage[] = { ACT_ORG_CREATE,
		ACT_USER_CREATE };
	struct actor a;
	size_t r, k, m;

	for (m = 0; m < sizeof(manage) / sizeof(manage[0]); m++)
		for (r = 0; r < NROLES; r++)
			for (k = 0; k < NKINDS; k++) {
				actor_of(&a, roles[r], kinds[k]);
				ck_assert_int_eq(auth_allowed(&a, manage[m]),
				    strcmp(roles[r], "admin") == 0 &&
				        strcmp(kinds[k], "administration") ==
				            0);
			}
}
END_TEST

/* Spellings that are not a role or a kind: every action refused. */
static const struct {
	const char *role, *kind;
} strangers[] = {
	{ "", "ngo" },
	{ "Caseworker", "ngo" },
	{ "caseworker ", "ngo" },
	{ " caseworker", "ngo" },
	{ "case", "ngo" },
	{ "root", "administration" },
	{ "ADMIN", "administration" },
	{ "admin", "" },
	{ "admin", "Administration" },
	{ "admin", "administratio" },
	{ "caseworker", "NGO" },
	{ "caseworker", "ngo\n" },
	{ "auditor", "committees" },
	{ "", "" },
};

START_TEST(test_access_unknown_role_or_kind_gets_nothing)
{
	struct actor a;
	int act;

	actor_of(&a, strangers[_i].role, strangers[_i].kind);
	for (act = 0; act < ACT_COUNT; act++)
		ck_assert_msg(!auth_allowed(&a, (enum auth_action)act),
		    "\"%s\" of \"%s\" allowed %s", strangers[_i].role,
		    strangers[_i].kind, actions[act]);
}
END_TEST

START_TEST(test_access_null_actor_gets_nothing)
{
	int act;

	for (act = 0; act < ACT_COUNT; act++)
		ck_assert_int_eq(auth_allowed(NULL, (enum auth_action)act), 0);
}
END_TEST

START_TEST(test_access_out_of_range_action_is_refused)
{
	static const int bad[] = { ACT_COUNT, ACT_COUNT + 1, 64, 1000, -1 };
	struct actor a;
	size_t r, k, b;

	for (r = 0; r < NROLES; r++)
		for (k = 0; k < NKINDS; k++) {
			actor_of(&a, roles[r], kinds[k]);
			for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
				ck_assert_int_eq(
				    auth_allowed(&a, (enum auth_action)bad[b]),
				    0);
		}
}
END_TEST

/* ---------------------------------------------------------- fixed codes */

static const struct {
	int (*valid)(const char *);
	const char *name;
	const char *code;
	int want;
} codes[] = {
	{ auth_kind_valid, "kind", "police", 1 },
	{ auth_kind_valid, "kind", "ngo", 1 },
	{ auth_kind_valid, "kind", "shelter", 1 },
	{ auth_kind_valid, "kind", "one_stop_center", 1 },
	{ auth_kind_valid, "kind", "child_protection", 1 },
	{ auth_kind_valid, "kind", "labour_inspection", 1 },
	{ auth_kind_valid, "kind", "judiciary", 1 },
	{ auth_kind_valid, "kind", "committee", 1 },
	{ auth_kind_valid, "kind", "administration", 1 },
	{ auth_kind_valid, "kind", "Police", 0 },
	{ auth_kind_valid, "kind", "police ", 0 },
	{ auth_kind_valid, "kind", "", 0 },
	{ auth_kind_valid, "kind", "one_stop_centre", 0 },
	{ auth_kind_valid, "kind", "caseworker", 0 },
	{ auth_role_valid, "role", "caseworker", 1 },
	{ auth_role_valid, "role", "supervisor", 1 },
	{ auth_role_valid, "role", "analyst", 1 },
	{ auth_role_valid, "role", "auditor", 1 },
	{ auth_role_valid, "role", "admin", 1 },
	{ auth_role_valid, "role", "Admin", 0 },
	{ auth_role_valid, "role", "administrator", 0 },
	{ auth_role_valid, "role", "root", 0 },
	{ auth_role_valid, "role", "", 0 },
	{ auth_role_valid, "role", "police", 0 },
	{ auth_region_valid, "region", "bamako", 1 },
	{ auth_region_valid, "region", "kayes", 1 },
	{ auth_region_valid, "region", "tombouctou", 1 },
	{ auth_region_valid, "region", "menaka", 1 },
	{ auth_region_valid, "region", "bandiagara", 1 },
	{ auth_region_valid, "region", "Bamako", 0 },
	{ auth_region_valid, "region", "ménaka", 0 },
	{ auth_region_valid, "region", "timbuktu", 0 },
	{ auth_region_valid, "region", "paris", 0 },
	{ auth_region_valid, "region", "", 0 },
	{ auth_service_valid, "service", "shelter", 1 },
	{ auth_service_valid, "service", "medical", 1 },
	{ auth_service_valid, "service", "psychosocial", 1 },
	{ auth_service_valid, "service", "legal_aid", 1 },
	{ auth_service_valid, "service", "family_tracing", 1 },
	{ auth_service_valid, "service", "return", 1 },
	{ auth_service_valid, "service", "reintegration", 1 },
	{ auth_service_valid, "service", "child_protection", 1 },
	{ auth_service_valid, "service", "interpretation", 1 },
	{ auth_service_valid, "service", "Medical", 0 },
	{ auth_service_valid, "service", "legal aid", 0 },
	{ auth_service_valid, "service", "", 0 },
	{ auth_service_valid, "service", "ngo", 0 },
};

START_TEST(test_codes_valid_table)
{
	ck_assert_msg(codes[_i].valid(codes[_i].code) == codes[_i].want,
	    "%s \"%s\": want %d", codes[_i].name, codes[_i].code,
	    codes[_i].want);
}
END_TEST

START_TEST(test_codes_valid_refuse_null)
{
	ck_assert_int_eq(auth_kind_valid(NULL), 0);
	ck_assert_int_eq(auth_role_valid(NULL), 0);
	ck_assert_int_eq(auth_region_valid(NULL), 0);
	ck_assert_int_eq(auth_service_valid(NULL), 0);
}
END_TEST

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

/* Every code of the SOP category is valid, and the valid codes of
 * candidates are exactly those. */
static void
assert_same_codes(const char *category, int (*valid)(const char *),
    const char *const *candidates, size_t ncandidates)
{
	const struct sop_category *c = sop_category(sop, category);
	size_t i, nvalid = 0;

	ck_assert_ptr_nonnull(c);
	for (i = 0; i < c->n; i++)
		ck_assert_msg(valid(c->codes[i].code), "SOP %s \"%s\" refused",
		    category, c->codes[i].code);
	for (i = 0; i < ncandidates; i++)
		if (valid(candidates[i])) {
			nvalid++;
			ck_assert_msg(
			    sop_code_valid(sop, category, candidates[i]),
			    "%s \"%s\" not in the SOP", category,
			    candidates[i]);
		}
	ck_assert_uint_eq(nvalid, c->n);
}

START_TEST(test_kinds_and_roles_are_the_sop_codes)
{
	assert_same_codes("kind", auth_kind_valid, kinds, NKINDS);
	assert_same_codes("role", auth_role_valid, roles, NROLES);
}
END_TEST

START_TEST(test_regions_are_the_sop_regions)
{
	const struct sop_category *c = sop_category(sop, "region");
	size_t i;

	ck_assert_ptr_nonnull(c);
	for (i = 0; i < c->n; i++)
		ck_assert_msg(auth_region_valid(c->codes[i].code),
		    "SOP region \"%s\" refused", c->codes[i].code);
}
END_TEST

START_TEST(test_organisation_services_are_sop_services)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].valid == auth_service_valid && codes[i].want)
			ck_assert_msg(
			    sop_code_valid(sop, "service", codes[i].code),
			    "\"%s\"", codes[i].code);
}
END_TEST

/* ------------------------------------------------------ password policy */

/* n copies of a (UTF-8) character, into a static buffer. */
static const char *
times(const char *ch, size_t n)
{
	static char buf[4 * 300 + 1];
	size_t l = strlen(ch), i;

	ck_assert_uint_le(l * n, sizeof(buf) - 1);
	for (i = 0; i < n; i++)
		memcpy(buf + i * l, ch, l);
	buf[l * n] = '\0';
	return buf;
}

static const struct {
	const char *ch;
	size_t n;
	enum pa_err want;
} lengths[] = {
	{ "a", 0, PA_INVALID },
	{ "a", 11, PA_INVALID },
	{ "a", 12, PA_OK },
	{ "a", 256, PA_OK },
	{ "a", 257, PA_INVALID },
	{ "é", 11, PA_INVALID }, /* 22 bytes, 11 characters */
	{ "é", 12, PA_OK },
	{ "é", 256, PA_OK }, /* 512 bytes */
	{ "é", 257, PA_INVALID },
	{ "ߡ", 12, PA_OK },            /* N'Ko, 2 bytes */
	{ "\xe2\x82\xac", 12, PA_OK }, /* euro sign, 3 bytes */
	{ "\xe2\x82\xac", 11, PA_INVALID },
	{ "\xf0\x9f\x94\x91", 12, PA_OK }, /* an emoji, 4 bytes */
	{ "\xf0\x9f\x94\x91", 257, PA_INVALID },
};

START_TEST(test_password_length_counts_characters)
{
	const char *pw = times(lengths[_i].ch, lengths[_i].n);

	ck_assert_msg(auth_password_policy("amadou", pw) == lengths[_i].want,
	    "%zu x \"%s\"", lengths[_i].n, lengths[_i].ch);
}
END_TEST

static const struct {
	const char *user, *pw;
	enum pa_err want;
} names[] = {
	{ "amadou", "correct horse battery", PA_OK },
	{ "amadou", "my name is amadou!", PA_INVALID },
	{ "amadou", "amadou-2026-ok", PA_INVALID },
	{ "amadou", "2026-ok-amadou", PA_INVALID },
	{ "amadou", "My Name Is AMADOU", PA_INVALID },
	{ "amadou", "xxAmAdOuxxxxxx", PA_INVALID },
	{ "amadou", "amadoxu-amado-u", PA_OK },
	{ "a.traore", "hello a.traore there", PA_INVALID },
	{ "a.traore", "hello aXtraore there", PA_OK },
	{ "ngo-admin", "NGO-ADMIN-2026!!", PA_INVALID },
	{ "", "correct horse battery", PA_OK },
};

START_TEST(test_password_refuses_the_username)
{
	ck_assert_msg(auth_password_policy(names[_i].user, names[_i].pw) ==
	                  names[_i].want,
	    "\"%s\" / \"%s\"", names[_i].user, names[_i].pw);
}
END_TEST

/* --------------------------------------------------------------- suite */

static Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_access_table_covers_every_action);
	tcase_add_loop_test(tc, test_access_table, 0,
	    NACTIONS * NROLES * NKINDS);
	tcase_add_test(tc,
	    test_access_committee_and_administration_never_see_victims);
	tcase_add_test(tc,
	    test_access_only_administration_admins_manage_accounts);
	tcase_add_loop_test(tc, test_access_unknown_role_or_kind_gets_nothing,
	    0, (int)(sizeof(strangers) / sizeof(strangers[0])));
	tcase_add_test(tc, test_access_null_actor_gets_nothing);
	tcase_add_test(tc, test_access_pairs_are_the_table);
	tcase_add_test(tc, test_access_out_of_range_action_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("codes");
	tcase_add_unchecked_fixture(tc, sop_setup, sop_teardown);
	tcase_add_loop_test(tc, test_codes_valid_table, 0,
	    (int)(sizeof(codes) / sizeof(codes[0])));
	tcase_add_test(tc, test_codes_valid_refuse_null);
	tcase_add_test(tc, test_kinds_and_roles_are_the_sop_codes);
	tcase_add_test(tc, test_regions_are_the_sop_regions);
	tcase_add_test(tc, test_organisation_services_are_sop_services);
	suite_add_tcase(s, tc);

	tc = tcase_create("password");
	tcase_add_loop_test(tc, test_password_length_counts_characters, 0,
	    (int)(sizeof(lengths) / sizeof(lengths[0])));
	tcase_add_loop_test(tc, test_password_refuses_the_username, 0,
	    (int)(sizeof(names) / sizeof(names[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(access_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
