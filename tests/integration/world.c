/*
 * The demo world shared by the integration suites: see world.h.
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

void
res_free(struct res *x)
{
	json_decref(x->j);
	x->j = NULL;
	harness_resp_free(&x->r);
	x->body = NULL;
}

void
today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Member of j by dotted path ("items.0.id"); NULL when absent. */
json_t *
jpath(json_t *j, const char *path)
{
	char key[128];
	const char *p = path;
	size_t n;

	while (j != NULL && *p != '\0') {
		n = strcspn(p, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_is_array(j)) {
			char *end;
			long i = strtol(key, &end, 10);

			j = (*end != '\0' || i < 0)
			        ? NULL
			        : json_array_get(j, (size_t)i);
		} else
			j = json_object_get(j, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return j;
}

const char *
jstr(json_t *j, const char *path)
{
	const char *s = json_string_value(jpath(j, path));

	return s ? s : "";
}

long long
jint(json_t *j, const char *path)
{
	return (long long)json_integer_value(jpath(j, path));
}

/* Sends a request as s (NULL: no session), with its CSRF token (every
 * signed-in request carries it, reads too) and an
 * optional extra header ("Accept-Language: en"). */
struct res
call_h(const struct harness_server *srv, const struct sess *s,
    const char *method, const char *path, const char *body, const char *extra)
{
	char cookie[160], csrf[160];
	const char *h[6];
	size_t n = 0;
	struct res x;

	memset(&x, 0, sizeof(x));
	if (s != NULL && s->token[0] != '\0') {
		snprintf(cookie, sizeof(cookie),
		    "Cookie: passerelle_session=%s", s->token);
		h[n++] = cookie;
	}
	if (s != NULL && s->csrf[0] != '\0') {
		snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", s->csrf);
		h[n++] = csrf;
	}
	if (body != NULL)
		h[n++] = "Content-Type: application/json";
	if (extra != NULL)
		h[n++] = extra;
	h[n] = NULL;
	x.st = harness_http(srv, method, path, h, body, &x.r);
	x.body = x.r.body ? x.r.body : "";
	x.len = x.r.body ? x.r.body_len : 0;
	x.j = harness_json(&x.r);
	return x;
}

/* call_h without an extra header. */
struct res
call(const struct harness_server *srv, const struct sess *s, const char *method,
    const char *path, const char *body)
{
	return call_h(srv, s, method, path, body, NULL);
}

/* The same with a JSON body, which it takes (NULL: no body). */
struct res
callj(const struct harness_server *srv, const struct sess *s,
    const char *method, const char *path, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct res x;

	json_decref(body);
	x = call(srv, s, method, path, text);
	free(text);
	return x;
}

/* The session token a Set-Cookie header of resp sets, into out. */
int
cookie_token(const struct harness_resp *r, char *out, size_t outlen)
{
	const char *v;
	size_t i, n;

	out[0] = '\0';
	for (i = 0; (v = harness_resp_header_n(r, "Set-Cookie", i)) != NULL;
	     i++)
		if (strncmp(v, "passerelle_session=", 19) == 0) {
			n = strcspn(v + 19, ";");
			snprintf(out, outlen, "%.*s", (int)n, v + 19);
			return 0;
		}
	return -1;
}

/* Logs in; fills s on 200. Returns the status. */
long
login(const struct harness_server *srv, const char *user, const char *pw,
    struct sess *s)
{
	struct res x;
	long st;

	memset(s, 0, sizeof(*s));
	x = callj(srv, NULL, "POST", "/api/v1/session",
	    json_pack("{s:s, s:s}", "username", user, "password", pw));
	st = x.st;
	if (st == 200) {
		(void)cookie_token(&x.r, s->token, sizeof(s->token));
		snprintf(s->csrf, sizeof(s->csrf), "%s",
		    jstr(x.j, "csrf_token"));
		snprintf(s->user_id, sizeof(s->user_id), "%s",
		    jstr(x.j, "user.id"));
		snprintf(s->org_id, sizeof(s->org_id), "%s",
		    jstr(x.j, "user.organisation.id"));
		snprintf(s->username, sizeof(s->username), "%s", user);
	}
	res_free(&x);
	return st;
}

void
login_ok(const struct harness_server *srv, const char *user, struct sess *s)
{
	long st = login(srv, user, DEMO_PW, s);

	ck_assert_msg(st == 200, "login %s: %ld", user, st);
	ck_assert_msg(s->token[0] != '\0' && s->csrf[0] != '\0',
	    "login %s: no token or no CSRF token", user);
}

/* One value of a query with up to two text parameters ("" on NULL). */
void
sqlv(const char *db, const char *sql, const char *p1, const char *p2, char *out,
    size_t outlen)
{
	const char *params[2] = { p1, p2 };
	int np = p2 ? 2 : p1 ? 1 : 0;
	int rc = harness_value(db, sql, params, np, out, outlen);

	ck_assert_msg(rc >= 0, "query failed: %s", sql);
	if (rc == 1)
		out[0] = '\0';
}

long
sqln(const char *db, const char *sql, const char *p1, const char *p2)
{
	char out[64];

	sqlv(db, sql, p1, p2, out, sizeof(out));
	return strtol(out, NULL, 10);
}

void
user_id_of(const struct env *e, const char *username, char out[40])
{
	sqlv(e->db, "SELECT id FROM users WHERE username = $1", username, NULL,
	    out, 40);
	ck_assert_msg(out[0] != '\0', "no user %s", username);
}

void
org_id_of(const struct env *e, const char *username, char out[40])
{
	sqlv(e->db, "SELECT organisation_id FROM users WHERE username = $1",
	    username, NULL, out, 40);
	ck_assert_msg(out[0] != '\0', "no user %s", username);
}

/* Environment for passerelle subcommands on e's database and key. */
void
env_vars(const struct env *e, const char *key_file, char dbv[1200],
    char keyv[300], const char *env[8])
{
	size_t n = 0;

	snprintf(dbv, 1200, "PASSERELLE_DATABASE_URL=%s", e->db);
	snprintf(keyv, 300, "PASSERELLE_KEY_FILE=%s",
	    key_file ? key_file : e->key);
	env[n++] = dbv;
	env[n++] = keyv;
	if (e->fast) {
		env[n++] = FAST_OPS;
		env[n++] = FAST_MEM;
	}
	if (e->sop_env[0] != '\0')
		env[n++] = e->sop_env;
	env[n] = NULL;
}

/* Runs `passerelle args...` on e's database with key_file (NULL: e's). */
int
env_run(const struct env *e, const char *key_file, const char *const *args,
    char *out, size_t outlen)
{
	char dbv[1200], keyv[300];
	const char *env[8];

	env_vars(e, key_file, dbv, keyv, env);
	return harness_run(env, args, out, outlen);
}

/* Starts another server on e's database (same key unless key_file). */
int
env_server(struct env *e, struct harness_server *srv, const char *key_file,
    const char *const *more)
{
	char keyv[300];
	const char *extra[16];
	size_t n = 0, i;

	snprintf(keyv, sizeof(keyv), "PASSERELLE_KEY_FILE=%s",
	    key_file ? key_file : e->key);
	extra[n++] = keyv;
	if (e->fast) {
		extra[n++] = FAST_OPS;
		extra[n++] = FAST_MEM;
	}
	if (e->sop_env[0] != '\0')
		extra[n++] = e->sop_env;
	for (i = 0; more != NULL && more[i] != NULL && n < 15; i++)
		extra[n++] = more[i];
	extra[n] = NULL;
	return harness_server_start(srv, e->db, extra);
}

/*
 * A fresh database, a key file of the test's own (it outlives server
 * restarts), a server with more settings, then `seed --demo`.
 */
void
env_start_ex(struct env *e, int fast, const char *sop, const char *const *more)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *seed[] = { "seed", "--demo", NULL };
	char out[8192];
	int rc;

	memset(e, 0, sizeof(*e));
	e->fast = fast;
	if (sop != NULL)
		snprintf(e->sop_env, sizeof(e->sop_env), "PASSERELLE_SOP=%s",
		    sop);
	ck_assert_int_eq(harness_tmpdir(e->dir, sizeof(e->dir)), 0);
	snprintf(e->key, sizeof(e->key), "%s/master.key", e->dir);
	keygen[2] = e->key;
	ck_assert_int_eq(harness_run(NULL, keygen, out, sizeof(out)), 0);
	e->db = harness_db_create();
	ck_assert_msg(e->db != NULL, "cannot create a database");
	ck_assert_msg(env_server(e, &e->srv, NULL, more) == 0,
	    "cannot start the server");
	rc = env_run(e, NULL, seed, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --demo exited %d: %s", rc, out);
}

void
env_start(struct env *e)
{
	env_start_ex(e, 1, NULL, NULL);
}

/*
 * Whether every case's read document (migration 0008) is what its tables
 * make: the documents are copied aside, made again from the tables, and
 * compared; the number of cases that differ, or -1 when the database did
 * not answer. Made again, they are right for whatever runs next.
 */
long
docs_stale(const char *db)
{
	char out[64];

	if (harness_exec(db, "DROP TABLE IF EXISTS docs_before; "
	    "CREATE TABLE docs_before AS SELECT * FROM case_docs; "
	    "SELECT case_docs_put(ARRAY(SELECT id FROM cases), 'all')") != 0)
		return -1;
	out[0] = '\0';
	if (harness_value(db, "SELECT count(*) FROM docs_before b "
	    "FULL JOIN case_docs d ON d.case_id = b.case_id "
	    "WHERE row(b.*) IS DISTINCT FROM row(d.*)", NULL, 0, out,
	    sizeof(out)) != 0 || out[0] == '\0')
		return -1;
	if (harness_exec(db, "DROP TABLE docs_before") != 0)
		return -1;
	return strtol(out, NULL, 10);
}

/*
 * Stops the server (which must exit cleanly), checks that the cases'
 * read documents followed every write of the test, and drops everything.
 */
void
env_stop(struct env *e)
{
	int rc = e->srv.pid > 0 ? harness_server_stop(&e->srv) : 0;
	long stale = e->db != NULL ? docs_stale(e->db) : 0;

	harness_db_drop(e->db);
	e->db = NULL;
	if (e->dir[0] != '\0')
		harness_rmtree(e->dir);
	e->dir[0] = '\0';
	ck_assert_msg(rc == 0, "the server exited with %d (log above)", rc);
	ck_assert_msg(stale == 0, "%ld case(s) whose read document is not "
	    "what their tables make (-1: the database did not answer)", stale);
}

/* Reads a whole file (caller frees), or NULL. */
char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *nb;

			cap = (n + 65536 + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, 65536, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* The plain-text pg_dump of the database (caller frees). */
char *
pg_dump_text(const struct env *e)
{
	char dir[64], file[128], cmd[512];
	const char *bin =
	    access("/usr/lib/postgresql/15/bin/pg_dump", X_OK) == 0
	        ? "/usr/lib/postgresql/15/bin/pg_dump"
	        : "pg_dump";
	char *text;
	int rc;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(file, sizeof(file), "%s/dump.sql", dir);
	/* The URL goes through the environment: no quoting in the shell. */
	setenv("PA_IT_DUMP_URL", e->db, 1);
	snprintf(cmd, sizeof(cmd), "%s --no-owner -d \"$PA_IT_DUMP_URL\" -f %s",
	    bin, file);
	rc = harness_shell(cmd);
	ck_assert_msg(rc == 0, "pg_dump exited %d", rc);
	text = slurp(file, NULL);
	ck_assert_msg(text != NULL && strlen(text) > 1000,
	    "pg_dump wrote nothing");
	harness_rmtree(dir);
	return text;
}

/* Lower-case hex of a string's bytes (caller frees). */
char *
hex_of(const char *s)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(s), i;
	char *out = malloc(n * 2 + 1);

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

/* Fails when text holds secret, as it is or as bytea hex. */
void
assert_absent(const char *text, const char *secret, const char *where)
{
	char *hex = hex_of(secret);

	ck_assert_msg(strstr(text, secret) == NULL, "%s holds \"%s\"", where,
	    secret);
	ck_assert_msg(strstr(text, hex) == NULL, "%s holds \"%s\" as hex",
	    where, secret);
	free(hex);
}
