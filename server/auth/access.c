/*
 * The access table: for each action, the roles and organisation kinds that
 * may take it. This is the only place that answers "may this role do this".
 * The committee and the administration never reach victim data: no row that
 * touches a case lists their kinds.
 */
#include <stdio.h>
#include <string.h>

#include "../sop/sop.h"
#include "auth.h"

#define R_CASEWORKER 0x01
#define R_SUPERVISOR 0x02
#define R_ANALYST 0x04
#define R_AUDITOR 0x08
#define R_ADMIN 0x10
#define R_ANY 0x1f

#define K_POLICE 0x001
#define K_NGO 0x002
#define K_SHELTER 0x004
#define K_ONE_STOP 0x008
#define K_CHILD 0x010
#define K_LABOUR 0x020
#define K_JUDICIARY 0x040
#define K_COMMITTEE 0x080
#define K_ADMIN 0x100
#define K_ANY 0x1ff
/* Organisations that work on victims' cases. */
#define K_FIELD (K_POLICE | K_NGO | K_SHELTER | K_ONE_STOP | K_CHILD | \
    K_LABOUR | K_JUDICIARY)

static const char *const roles[] = { "caseworker", "supervisor", "analyst",
	"auditor", "admin" };
static const char *const kinds[] = { "police", "ngo", "shelter",
	"one_stop_center", "child_protection", "labour_inspection", "judiciary",
	"committee", "administration" };
static const char *const regions[] = { "bamako", "kayes", "koulikoro",
	"sikasso", "segou", "mopti", "tombouctou", "gao", "kidal", "menaka",
	"taoudenit", "nioro", "kita", "dioila", "nara", "bougouni", "koutiala",
	"san", "douentza", "bandiagara" };
static const char *const services[] = { "shelter", "medical", "psychosocial",
	"legal_aid", "family_tracing", "return", "reintegration",
	"child_protection", "interpretation" };

/*
 * Up to two grants per action: a role mask and a kind mask that must both
 * match. An action with no grant is refused to everyone.
 */
struct grant {
	unsigned int roles;
	unsigned int kinds;
};

static const struct grant table[ACT_COUNT][2] = {
	[ACT_NONE] = { { R_ANY, K_ANY } },
	[ACT_SELF] = { { R_ANY, K_ANY } },
	[ACT_ORG_CREATE] = { { R_ADMIN, K_ADMIN } },
	/* The directory, to choose where to refer; administration's too. */
	[ACT_ORG_LIST] = { { R_ADMIN, K_ADMIN },
	    { R_CASEWORKER | R_SUPERVISOR, K_FIELD } },
	[ACT_USER_CREATE] = { { R_ADMIN, K_ADMIN } },
	/* Supervisors see and approve their own organisation's accounts. */
	[ACT_USER_LIST] = { { R_ADMIN, K_ADMIN }, { R_SUPERVISOR, K_FIELD } },
	[ACT_USER_UPDATE] = { { R_ADMIN, K_ADMIN }, { R_SUPERVISOR, K_FIELD } },
	[ACT_AUDIT_READ] = { { R_AUDITOR, K_ANY } },
	[ACT_AUDIT_ALL] = { { R_AUDITOR, K_ADMIN | K_COMMITTEE } },
	[ACT_SOP_READ] = { { R_ANY, K_ANY } },
	[ACT_VICTIM_DATA] = { { R_CASEWORKER | R_SUPERVISOR, K_FIELD } },
	/* Who identifies and so leads: not the courts, which receive. */
	[ACT_CASE_CREATE] = { { R_CASEWORKER | R_SUPERVISOR,
	    K_FIELD & ~K_JUDICIARY } },
	/* Analysts of the committee (the country); supervisors (their own). */
	[ACT_STATS] = { { R_ANALYST, K_COMMITTEE }, { R_SUPERVISOR, K_FIELD } },
};

static int
index_of(const char *const *list, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

#define INDEX(list, s) index_of(list, sizeof(list) / sizeof(list[0]), s)

int
auth_allowed(const struct actor *a, enum auth_action act)
{
	int r, k, g;

	if (a == NULL || (unsigned int)act >= ACT_COUNT)
		return 0;
	r = INDEX(roles, a->role);
	k = INDEX(kinds, a->org_kind);
	if (r < 0 || k < 0)
		return 0;
	for (g = 0; g < 2; g++)
		if ((table[act][g].roles & (1u << r)) != 0 &&
		    (table[act][g].kinds & (1u << k)) != 0)
			return 1;
	return 0;
}

/*
 * The longest list, every role with every kind, takes 922 bytes. A list
 * that would not fit is left empty (no pair: nobody) rather than cut, and
 * test_access checks every list against auth_allowed.
 */
#define PAIRS_MAX 2048

const char *
auth_allowed_pairs(enum auth_action act)
{
	/* Built once, by auth_init, before any thread. */
	static char lists[ACT_COUNT][PAIRS_MAX];
	static int made;
	size_t r, k, n, len;
	int g, act_i;

	if (!made) {
		for (act_i = 0; act_i < ACT_COUNT; act_i++) {
			char *out = lists[act_i];

			n = 0;
			out[n++] = '{';
			for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++)
				for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]);
				     k++)
					for (g = 0; g < 2; g++) {
						if ((table[act_i][g].roles &
						    (1u << r)) == 0 ||
						    (table[act_i][g].kinds &
						    (1u << k)) == 0)
							continue;
						len = strlen(roles[r]) +
						    strlen(kinds[k]) + 2;
						if (n + len + 2 > PAIRS_MAX) {
							n = 1;	/* see above */
							goto done;
						}
						n += (size_t)snprintf(out + n,
						    PAIRS_MAX - n, "%s%s:%s",
						    n > 1 ? "," : "", roles[r],
						    kinds[k]);
						break;
					}
done:
			out[n++] = '}';
			out[n] = '\0';
		}
		made = 1;
	}
	if ((unsigned int)act >= ACT_COUNT)
		return "{}";
	return lists[act];
}

int
auth_kind_valid(const char *kind)
{
	return INDEX(kinds, kind) >= 0;
}

int
auth_role_valid(const char *role)
{
	return INDEX(roles, role) >= 0;
}

/* Regions and services are the SOP's (another country, another file). */
int
auth_region_valid(const char *region)
{
	if (sop_current() != NULL)
		return sop_code_valid(sop_current(), "region", region);
	return INDEX(regions, region) >= 0;
}

int
auth_service_valid(const char *service)
{
	if (sop_current() != NULL)
		return sop_code_valid(sop_current(), "service", service);
	return INDEX(services, service) >= 0;
}
