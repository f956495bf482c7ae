/*
 * auth: who is calling and what they may do. Sessions (PostgreSQL-backed, so
 * that every server sees a logout at once), login with throttling, CSRF
 * tokens, the access table, and the organisations and accounts that the
 * administration manages.
 *
 * The access table (auth_allowed) is the one place that decides what a role
 * in an organisation kind may do; handlers name their action and ask it.
 * Whether a given resource is visible (a case of another organisation) is
 * the owning module's question, answered with PA_NOT_FOUND, never 403.
 */
#ifndef PA_AUTH_H
#define PA_AUTH_H

#include <stddef.h>

#include <jansson.h>

#include "../err.h"

struct db;

struct actor {
	char user_id[37];
	char username[65];
	char role[16];
	char org_id[37];
	char org_name[201];
	char org_kind[41];
	char org_region[41];
	int must_change_password;
	unsigned char token_hash[32];	/* this session's, for holding it */
	char address[64];		/* client address, for the audit */
	int en;				/* the caller reads English */
};

enum auth_action {
	ACT_NONE,		/* any signed-in user */
	ACT_SELF,		/* own account: allowed before a password change */
	ACT_ORG_CREATE,
	ACT_ORG_LIST,
	ACT_USER_CREATE,
	ACT_USER_LIST,
	ACT_USER_UPDATE,	/* admin; supervisors: approve their own */
	ACT_AUDIT_READ,
	ACT_AUDIT_ALL,		/* read every organisation's audit records */
	ACT_SOP_READ,
	ACT_VICTIM_DATA,	/* any access to a victim's case */
	ACT_CASE_CREATE,	/* register a presumed victim (and lead) */
	ACT_STATS,		/* anonymised statistics and exports */
	ACT_COUNT
};

struct auth_settings {
	long session_idle;	/* seconds */
	long session_lifetime;	/* seconds */
	long throttle_account;	/* failures per window before 429 */
	long throttle_address;
	long throttle_window;	/* seconds */
};

/* Registers statements and keeps the settings. */
void auth_init(const struct auth_settings *s);

/* 1 when the actor's role and organisation kind allow the action. */
int auth_allowed(const struct actor *a, enum auth_action act);

/*
 * The same table as a PostgreSQL text[] literal of "role:kind" pairs that
 * may take act, for a statement that must not read what the caller may not
 * see (the case read's session check in SQL). Static; made by auth_init.
 */
const char *auth_allowed_pairs(enum auth_action act);

/* 1 for the kinds of organisation that handle victims' cases. */
int auth_kind_reaches_cases(const char *kind);

/* Fixed codes of the API contract. */
int auth_kind_valid(const char *kind);
int auth_role_valid(const char *role);
int auth_region_valid(const char *region);
int auth_service_valid(const char *service);

/* The user object of the API: {"id","username","role",...,"organisation"}. */
json_t *auth_actor_json(const struct actor *a);

struct auth_login {
	char token[44];		/* the cookie value, to send once */
	char csrf[44];
	unsigned int retry_after; /* for PA_THROTTLED */
	struct actor who;
};
/*
 * Checks a login. Leases its own connections, and none while Argon2 runs.
 * PA_NO_SESSION for a wrong name or password (the same answer, and about the
 * same time, for both), PA_THROTTLED with retry_after, PA_BUSY when too
 * many hashes already run.
 */
enum pa_err auth_login(const char *username, const char *password,
    const char *address, struct auth_login *out);

/*
 * The session lookup as SQL, for a statement that does its own work in the
 * same round trip (the case read): the CTE `hit` holds the caller's
 * AUTH_SESSION_COLS (AUTH_SESSION_NCOLS of them, read back with
 * auth_session_from_row) and `stale` (its idle clock is over 30 s old), no
 * row when the session is not alive. TH and IDLE are the statement's
 * placeholders for the token hash (bytea) and the idle limit in seconds,
 * both from auth_session_key. AUTH_SESSION_CTES adds `touch`, which moves
 * the idle clock when stale; a statement without it must run auth_touch
 * when `stale` is true (a data-modifying CTE costs every execution its
 * setup, while the clock moves at most once in 30 s).
 */
#define AUTH_SESSION_HIT(TH, IDLE) \
	"WITH hit AS (SELECT u.id, u.username, u.role, " \
	"u.must_change_password, o.id AS oid, o.name, o.kind, " \
	"coalesce(o.region, '') AS region, " \
	"s.last_seen < now() - interval '30 seconds' AS stale " \
	"FROM sessions s JOIN users u ON u.id = s.user_id " \
	"JOIN organisations o ON o.id = u.organisation_id " \
	"WHERE s.token_hash = " TH " AND u.active AND s.expires_at > now() " \
	"AND s.last_seen > now() - make_interval(secs => " IDLE "::int)) "
#define AUTH_SESSION_CTES(TH, IDLE) \
	AUTH_SESSION_HIT(TH, IDLE) \
	", touch AS (UPDATE sessions SET last_seen = now() " \
	"WHERE token_hash = " TH " AND EXISTS (SELECT 1 FROM hit " \
	"WHERE hit.stale)) "
#define AUTH_SESSION_COLS \
	"hit.id, hit.username, hit.role, hit.must_change_password, hit.oid, " \
	"hit.name, hit.kind, hit.region"
#define AUTH_SESSION_NCOLS 8

struct db_res;
/*
 * A cookie token's lookup key (its keyed hash) and the idle limit as text:
 * PA_NO_SESSION for a token of the wrong shape.
 */
enum pa_err auth_session_key(const char *token, unsigned char th[32],
    char idle[16]);
/* Moves the idle clock of the session th (see AUTH_SESSION_HIT). */
enum pa_err auth_touch(struct db *db, const unsigned char th[32]);
/* The caller from the AUTH_SESSION_COLS of row 0, from column col on. */
void auth_session_from_row(const struct db_res *res, int col,
    const unsigned char th[32], const char *address, struct actor *who);
/* Finds the session of a cookie token; PA_NO_SESSION when none is alive. */
enum pa_err auth_session(struct db *db, const char *token,
    const char *address, struct actor *who);
/* 1 when csrf is the token bound to the session token. */
int auth_csrf_ok(const char *token, const char *csrf);
/* The CSRF token bound to a session token, into out: 0, or -1. */
int auth_csrf_token(const char *token, char out[44]);
/* Ends this session. */
enum pa_err auth_logout(struct db *db, const struct actor *who);
/*
 * Begins a transaction that holds the caller's session (FOR SHARE): a write
 * can never commit after its session ended. PA_NO_SESSION when it has.
 */
enum pa_err auth_tx_begin(struct db *db, const struct actor *who);

/* Own password: checks current, ends the user's other sessions. */
enum pa_err auth_password_change(const struct actor *who, const char *cur,
    const char *next, const char **field);
/* Password rules: 12 to 256 characters, not containing the username. */
enum pa_err auth_password_policy(const char *username, const char *pw);

/* Organisations and accounts. who NULL means the command line. */
enum pa_err auth_org_create(struct db *db, const struct actor *who,
    const char *name, const char *kind, const char *region,
    json_t *services, json_t **out);
enum pa_err auth_org_list(struct db *db, const struct actor *who,
    json_t **out);
enum pa_err auth_user_create(const struct actor *who, const char *username,
    const char *password, const char *role, const char *org_id,
    int must_change, json_t **out, const char **field);
enum pa_err auth_user_list(struct db *db, const struct actor *who,
    const char *org_id, json_t **out);
/* PATCH: any of active (-1: unchanged), role, a new password (a reset). */
enum pa_err auth_user_update(const struct actor *who, const char *id,
    int active, const char *role, const char *password, json_t **out,
    const char **field);

/* passerelle seed --demo: prints what it made; 0 or -1. */
#include <stdio.h>
void auth_seed_init(void);
int auth_seed_demo(FILE *out);

#endif
