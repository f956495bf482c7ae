/*
 * The demo "world" shared by the integration suites: a fresh database with
 * a key file of its own, a `passerelle serve` on it and the demo data
 * (`passerelle seed --demo`); logged-in demo accounts with their CSRF
 * token; JSON requests; single SQL values; and a few small utilities.
 * Functions that check something fail the running Check test (the caller
 * is a Check test, in its forked process).
 */
#ifndef PA_WORLD_H
#define PA_WORLD_H

#include <stddef.h>

#include <jansson.h>

#include "harness.h"

#define DEMO_PW "Passerelle-Demo-2026"
#define FAST_OPS "PASSERELLE_ARGON2_OPS=2"
#define FAST_MEM "PASSERELLE_ARGON2_MEM_KIB=19456"

/* A database with its own key file, a server on it, and the demo data. */
struct env {
	char *db;
	char dir[64];
	char key[128];
	char key_env[160];
	char sop_env[256]; /* "PASSERELLE_SOP=..." or "" */
	int fast;          /* cheap Argon2 */
	struct harness_server srv;
};

/* A logged-in account: the cookie's token, the CSRF token, who. */
struct sess {
	char token[96];
	char csrf[96];
	char user_id[40];
	char org_id[40];
	char username[64];
};

/* An answer: status, body (owned by r) and its JSON (or NULL). */
struct res {
	long st;
	const char *body;
	size_t len; /* body length */
	json_t *j;
	struct harness_resp r;
};

#define EXPECT(x, code, what)                                                  \
	ck_assert_msg((x).st == (code), "%s: expected %d, got %ld (%.600s)",   \
	    (what), (int)(code), (x).st, (x).body ? (x).body : "")

void res_free(struct res *x);

void today(char out[11]);

/* Member of j by dotted path ("items.0.id"); NULL when absent. */
json_t *jpath(json_t *j, const char *path);

const char *jstr(json_t *j, const char *path);

long long jint(json_t *j, const char *path);

/* Sends a request as s (NULL: no session), with CSRF on writes and an
 * optional extra header ("Accept-Language: en"). */
struct res call_h(const struct harness_server *srv, const struct sess *s,
    const char *method, const char *path, const char *body, const char *extra);

/* call_h without an extra header. */
struct res call(const struct harness_server *srv, const struct sess *s,
    const char *method, const char *path, const char *body);

/* The same with a JSON body, which it takes (NULL: no body). */
struct res callj(const struct harness_server *srv, const struct sess *s,
    const char *method, const char *path, json_t *body);

/* The session token a Set-Cookie header of resp sets, into out. */
int cookie_token(const struct harness_resp *r, char *out, size_t outlen);

/* Logs in; fills s on 200. Returns the status. */
long login(const struct harness_server *srv, const char *user, const char *pw,
    struct sess *s);

void login_ok(const struct harness_server *srv, const char *user,
    struct sess *s);

/* One value of a query with up to two text parameters ("" on NULL). */
void sqlv(const char *db, const char *sql, const char *p1, const char *p2,
    char *out, size_t outlen);

long sqln(const char *db, const char *sql, const char *p1, const char *p2);
/* Cases whose read document differs from their tables' (-1: no answer). */
long docs_stale(const char *db);

void user_id_of(const struct env *e, const char *username, char out[40]);

void org_id_of(const struct env *e, const char *username, char out[40]);

/* Environment for passerelle subcommands on e's database and key. */
void env_vars(const struct env *e, const char *key_file, char dbv[1200],
    char keyv[300], const char *env[8]);

/* Runs `passerelle args...` on e's database with key_file (NULL: e's). */
int env_run(const struct env *e, const char *key_file, const char *const *args,
    char *out, size_t outlen);

/* Starts another server on e's database (same key unless key_file). */
int env_server(struct env *e, struct harness_server *srv, const char *key_file,
    const char *const *more);

/*
 * A fresh database, a key file of the test's own (it outlives server
 * restarts), a server with more settings, then `seed --demo`.
 */
void env_start_ex(struct env *e, int fast, const char *sop,
    const char *const *more);

void env_start(struct env *e);

/* Stops the server (which must exit cleanly) and drops everything. */
void env_stop(struct env *e);

/* Reads a whole file (caller frees), or NULL. */
char *slurp(const char *path, size_t *len);

/* The plain-text pg_dump of the database (caller frees). */
char *pg_dump_text(const struct env *e);

/* Lower-case hex of a string's bytes (caller frees). */
char *hex_of(const char *s);

/* Fails when text holds secret, as it is or as bytea hex. */
void assert_absent(const char *text, const char *secret, const char *where);

#endif
