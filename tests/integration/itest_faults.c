/*
 * Faults against a real server and a real PostgreSQL: the server killed
 * with SIGKILL in the middle of case registrations (nothing half-written,
 * every answered case still there, the audit chain intact), PostgreSQL
 * stopped and started again under load (503, never 500, recovery without a
 * restart, no leaked connections), SIGTERM with slow requests in flight
 * (all answered, new connections refused, exit 0), slow clients, floods and
 * oversized headers, and bad master key files (exit 1 with one line, never
 * listening).
 *
 * Every test starts the servers it needs inside its own (forked) process,
 * so that a failed assertion takes them down with it. The PostgreSQL case
 * stops the cluster: it runs last, and its unchecked teardown (in the
 * parent, whatever the test did) starts the cluster again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#define DEMO_PASSWORD "Passerelle-Demo-2026"
#define FAST_OPS "PASSERELLE_ARGON2_OPS=2"
#define FAST_MEM "PASSERELLE_ARGON2_MEM_KIB=19456"

/* ======================================================================
 * Shared set-up: a database, a master key of our own (so that a second
 * server can be started on the same data), the demo accounts.
 */

struct world {
	char dir[64];
	char key[128];
	char key_env[160]; /* PASSERELLE_KEY_FILE=key */
	char db_env[1200]; /* PASSERELLE_DATABASE_URL=db */
	char *db;
};

static void
world_open(struct world *w)
{
	const char *keygen[] = { "keygen", "--out", w->key, NULL };
	char out[4096];

	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(harness_tmpdir(w->dir, sizeof(w->dir)), 0);
	snprintf(w->key, sizeof(w->key), "%s/master.key", w->dir);
	snprintf(w->key_env, sizeof(w->key_env), "PASSERELLE_KEY_FILE=%s",
	    w->key);
	ck_assert_msg(harness_run(NULL, keygen, out, sizeof(out)) == 0,
	    "keygen: %s", out);
	w->db = harness_db_create();
	ck_assert_msg(w->db != NULL, "cannot create a database");
	snprintf(w->db_env, sizeof(w->db_env), "PASSERELLE_DATABASE_URL=%s",
	    w->db);
}

static void
world_close(struct world *w)
{
	harness_db_drop(w->db);
	w->db = NULL;
	harness_rmtree(w->dir);
}

/*
 * Starts a server on the world's database with its key, fast password
 * hashing unless more says otherwise (later settings win), and more.
 */
static void
world_serve(struct world *w, struct harness_server *srv,
    const char *const *more)
{
	const char *extra[24];
	size_t n = 0, i;

	extra[n++] = w->key_env;
	extra[n++] = FAST_OPS;
	extra[n++] = FAST_MEM;
	for (i = 0; more != NULL && more[i] != NULL && n < 23; i++)
		extra[n++] = more[i];
	extra[n] = NULL;
	ck_assert_msg(harness_server_start(srv, w->db, extra) == 0,
	    "cannot start the server");
}

/* passerelle seed --demo, hashing the passwords at the fast cost. */
static void
world_seed(struct world *w)
{
	const char *env[] = { w->db_env, w->key_env, FAST_OPS, FAST_MEM, NULL };
	const char *args[] = { "seed", "--demo", NULL };
	char out[8192];
	int rc;

	rc = harness_run(env, args, out, sizeof(out));
	ck_assert_msg(rc == 0, "seed --demo exited %d: %s", rc, out);
}

/* The value of one SQL query on the world's database (fails the test). */
static void
world_value(struct world *w, const char *sql, char *out, size_t outlen)
{
	int rc = harness_value(w->db, sql, NULL, 0, out, outlen);

	ck_assert_msg(rc == 0, "query failed (%d): %s", rc, sql);
}

/*
 * Logs c in as user; copies the CSRF token into csrf. Returns the status
 * (200 on success).
 */
static long
login(struct harness_client *c, const struct harness_server *srv,
    const char *user, char *csrf, size_t csrflen)
{
	struct harness_resp r;
	char body[256];
	json_t *j;
	long st;

	snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"" DEMO_PASSWORD "\"}", user);
	st = harness_client_http(c, srv, "POST", "/api/v1/session",
	    harness_json_headers, body, &r);
	if (csrflen > 0)
		csrf[0] = '\0';
	if (st == 200 && (j = harness_json(&r)) != NULL) {
		const char *t =
		    json_string_value(json_object_get(j, "csrf_token"));

		snprintf(csrf, csrflen, "%s", t ? t : "");
		json_decref(j);
	}
	harness_resp_free(&r);
	return st;
}

/* Yesterday (UTC), YYYY-MM-DD: a valid identification date. */
static void
yesterday(char *buf, size_t len)
{
	time_t t = time(NULL) - 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/*
 * POST /api/v1/cases for a fictional victim whose family name is spelled
 * from n (so that names differ). Fills *r; returns the status.
 */
/* GET path as the client whose session's CSRF token is csrf (every
 * signed-in request carries it). */
static long
get_as(struct harness_client *c, const struct harness_server *srv,
    const char *path, const char *csrf, struct harness_resp *r)
{
	char hdr_csrf[160];
	const char *headers[2] = { hdr_csrf, NULL };

	snprintf(hdr_csrf, sizeof(hdr_csrf), "X-CSRF-Token: %s", csrf);
	return harness_client_http(c, srv, "GET", path, headers, NULL, r);
}

static long
create_case(struct harness_client *c, const struct harness_server *srv,
    const char *csrf, unsigned int n, struct harness_resp *r)
{
	char body[1024], hdr_csrf[160], date[16], suffix[8];
	const char *headers[3] = { "Content-Type: application/json", hdr_csrf,
		NULL };
	unsigned int i, v = n;

	for (i = 0; i < 6; i++, v /= 26)
		suffix[i] = (char)('a' + v % 26);
	suffix[6] = '\0';
	yesterday(date, sizeof(date));
	snprintf(hdr_csrf, sizeof(hdr_csrf), "X-CSRF-Token: %s", csrf);
	snprintf(body, sizeof(body),
	    "{\"victim\":{\"given_name\":\"Awa\",\"family_name\":\"Kone%s\","
	    "\"sex\":\"female\",\"age_estimate\":30},"
	    "\"identification\":{\"date\":\"%s\",\"region\":\"bamako\","
	    "\"exploitation_types\":[\"forced_labour\"]}}",
	    suffix, date);
	return harness_client_http(c, srv, "POST", "/api/v1/cases", headers,
	    body, r);
}

/* Is the server process still running (not exited, not reaped)? */
static int
server_alive(const struct harness_server *srv)
{
	int st;

	return srv->pid > 0 && waitpid(srv->pid, &st, WNOHANG) == 0;
}

/* ======================================================================
 * Fault 1: SIGKILL during a stream of case registrations.
 */

#define STREAM_THREADS 4
#define STREAM_MAX 4000

struct stream {
	const struct harness_server *srv;
	struct harness_client c;
	char csrf[128];
	unsigned int seq;
	size_t n;
	char (*ids)[37];
	char (*refs)[48];
	long other;
	char other_desc[256];
	pthread_t th;
};

static atomic_int stream_stop;

static void *
stream_run(void *arg)
{
	struct stream *s = arg;
	struct harness_resp r;
	unsigned int i = 0;
	long st;

	while (!atomic_load(&stream_stop)) {
		st = create_case(&s->c, s->srv, s->csrf, s->seq * 100000 + i++,
		    &r);
		if (st == 201) {
			json_t *j = harness_json(&r);
			const char *id =
			    json_string_value(json_object_get(j, "id"));
			const char *ref =
			    json_string_value(json_object_get(j, "reference"));

			if (id == NULL || ref == NULL || strlen(id) != 36) {
				if (s->other++ == 0)
					snprintf(s->other_desc,
					    sizeof(s->other_desc),
					    "201 without id/reference: %.200s",
					    r.body);
			} else if (s->n < STREAM_MAX) {
				snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s",
				    id);
				snprintf(s->refs[s->n], sizeof(s->refs[0]),
				    "%s", ref);
				s->n++;
			}
			json_decref(j);
		} else if (st == 0) {
			/* The server is gone (killed): no answer at all. */
			harness_sleep_ms(10);
		} else if (s->other++ == 0) {
			snprintf(s->other_desc, sizeof(s->other_desc),
			    "status %ld: %.200s", st, r.body);
		}
		harness_resp_free(&r);
	}
	return NULL;
}

START_TEST(test_sigkill_during_case_registrations_loses_nothing_answered)
{
	static struct stream streams[STREAM_THREADS];
	struct harness_server srv, srv2;
	struct harness_client reader;
	struct harness_resp r;
	struct world w;
	char csrf[128], path[128], val[64], out[4096];
	const char *verify[] = { "audit", "verify", NULL };
	const char *venv[] = { NULL, NULL, NULL };
	size_t i, k, total = 0;
	int st, rc;
	json_t *j;

	world_open(&w);
	world_serve(&w, &srv, NULL);
	world_seed(&w);
	atomic_store(&stream_stop, 0);
	for (i = 0; i < STREAM_THREADS; i++) {
		struct stream *s = &streams[i];

		memset(s, 0, sizeof(*s));
		s->srv = &srv;
		s->seq = (unsigned int)i;
		s->ids = calloc(STREAM_MAX, sizeof(*s->ids));
		s->refs = calloc(STREAM_MAX, sizeof(*s->refs));
		ck_assert(s->ids != NULL && s->refs != NULL);
		ck_assert_int_eq(harness_client_init(&s->c), 0);
		ck_assert_int_eq(login(&s->c, &srv, "police.agent", s->csrf,
		                     sizeof(s->csrf)),
		    200);
	}
	for (i = 0; i < STREAM_THREADS; i++)
		ck_assert_int_eq(pthread_create(&streams[i].th, NULL,
		                     stream_run, &streams[i]),
		    0);
	harness_sleep_ms(1500);
	ck_assert_int_eq(kill(srv.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(srv.pid, &st, 0), srv.pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "the server was not killed by SIGKILL (status %d)", st);
	srv.pid = 0;
	/* Let the clients see the dead server for a moment, then stop. */
	harness_sleep_ms(200);
	atomic_store(&stream_stop, 1);
	for (i = 0; i < STREAM_THREADS; i++) {
		pthread_join(streams[i].th, NULL);
		harness_client_cleanup(&streams[i].c);
		ck_assert_msg(streams[i].other == 0,
		    "client %zu got %ld unexpected answers, first: %s", i,
		    streams[i].other, streams[i].other_desc);
		total += streams[i].n;
	}
	ck_assert_msg(total >= STREAM_THREADS,
	    "only %zu cases were created in 1.5 s", total);
	harness_rmtree(srv.dir);

	/* The same database, the same key, a new process. */
	world_serve(&w, &srv2, NULL);
	ck_assert_int_eq(harness_client_init(&reader), 0);
	ck_assert_int_eq(
	    login(&reader, &srv2, "police.agent", csrf, sizeof(csrf)), 200);
	for (i = 0; i < STREAM_THREADS; i++)
		for (k = 0; k < streams[i].n; k++) {
			snprintf(path, sizeof(path), "/api/v1/cases/%s",
			    streams[i].ids[k]);
			ck_assert_msg(get_as(&reader, &srv2, path, csrf, &r) ==
			                  200,
			    "case %s (answered 201 before the kill) reads "
			    "%ld: %.200s",
			    streams[i].ids[k], r.status, r.body);
			j = harness_json(&r);
			ck_assert_ptr_nonnull(j);
			ck_assert_msg(
			    json_is_string(json_object_get(j, "reference")) &&
			        strcmp(json_string_value(
			                   json_object_get(j, "reference")),
			            streams[i].refs[k]) == 0,
			    "case %s: reference %s, was %s", streams[i].ids[k],
			    json_string_value(json_object_get(j, "reference")),
			    streams[i].refs[k]);
			json_decref(j);
			harness_resp_free(&r);
		}
	harness_client_cleanup(&reader);

	/* Nothing half-written. */
	world_value(&w, "SELECT count(*) FROM cases", val, sizeof(val));
	ck_assert_msg(strtoul(val, NULL, 10) >= total,
	    "%s cases in the table, %zu answered 201", val, total);
	world_value(&w,
	    "SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM "
	    "case_keys k WHERE k.case_id = c.id) <> 1",
	    val, sizeof(val));
	ck_assert_msg(strcmp(val, "0") == 0,
	    "%s cases without exactly one data key", val);
	world_value(&w,
	    "SELECT count(*) FROM case_fields f WHERE NOT EXISTS "
	    "(SELECT 1 FROM cases c WHERE c.id = f.case_id)",
	    val, sizeof(val));
	ck_assert_msg(strcmp(val, "0") == 0, "%s orphan case_fields rows", val);
	world_value(&w,
	    "SELECT count(*) FROM cases c WHERE NOT EXISTS "
	    "(SELECT 1 FROM case_fields f WHERE f.case_id = c.id)",
	    val, sizeof(val));
	ck_assert_msg(strcmp(val, "0") == 0,
	    "%s cases without their encrypted fields", val);
	world_value(&w,
	    "SELECT count(*) FROM cases c WHERE NOT EXISTS "
	    "(SELECT 1 FROM audit_log a WHERE a.action = 'case.create' "
	    "AND a.resource_id = c.id::text)",
	    val, sizeof(val));
	ck_assert_msg(strcmp(val, "0") == 0,
	    "%s cases without their case.create audit record", val);
	venv[0] = w.db_env;
	venv[1] = w.key_env;
	rc = harness_run(venv, verify, out, sizeof(out));
	ck_assert_msg(rc == 0, "audit verify exited %d: %s", rc, out);

	ck_assert_int_eq(harness_server_stop(&srv2), 0);
	for (i = 0; i < STREAM_THREADS; i++) {
		free(streams[i].ids);
		free(streams[i].refs);
	}
	world_close(&w);
}
END_TEST

/* ======================================================================
 * Fault 2: PostgreSQL stopped and started again under load. The cluster
 * is started again by the unchecked teardown, whatever happened.
 */

#define PROBE_THREADS 4
#define POOL_SIZE 6

static void
pg_teardown(void)
{
	double end = harness_now_s() + 30;

	if (!harness_db_reachable() && harness_pg_start_cmd() != NULL) {
		fprintf(stderr, "itest_faults: starting the cluster again\n");
		(void)harness_shell(harness_pg_start_cmd());
	}
	while (!harness_db_reachable() && harness_now_s() < end)
		harness_sleep_ms(100);
}

/* 0: database up; 1: stopping, away or recovering; 2: recovered. */
static atomic_int pg_phase;
static atomic_int probe_stop;

struct probe {
	const struct harness_server *srv;
	struct harness_client c;
	char csrf[128];
	char case_path[128];
	long answers[3];  /* by phase */
	long unavailable; /* 503 database_unavailable seen */
	long bad;         /* answers not allowed in their phase */
	char bad_desc[640];
	pthread_t th;
};

static void *
probe_run(void *arg)
{
	struct probe *p = arg;
	const char *paths[3] = { "/api/v1/me", "/readyz", p->case_path };
	struct harness_resp r;
	char why[128];
	unsigned int i = 0;
	int before, after, ok;
	long st;

	while (!atomic_load(&probe_stop)) {
		const char *path = paths[i++ % 3];

		before = atomic_load(&pg_phase);
		st = get_as(&p->c, p->srv, path, p->csrf, &r);
		after = atomic_load(&pg_phase);
		if (before == 0 && after == 0)
			ok = st == 200;
		else if (before == 2 && after == 2)
			ok = st == 200;
		else if (st == 503)
			ok = harness_error_shape(r.body, "database_unavailable",
			    why, sizeof(why));
		else
			ok = st == 200 || st == 401;
		if (st == 503 && ok)
			p->unavailable++;
		p->answers[after]++;
		if (!ok && p->bad++ == 0)
			snprintf(p->bad_desc, sizeof(p->bad_desc),
			    "GET %s in phase %d-%d: %ld %s%.200s", path, before,
			    after, st, st == 0 ? r.error : "", r.body);
		harness_resp_free(&r);
	}
	return NULL;
}

START_TEST(test_postgres_restart_under_load_gives_503_then_recovers)
{
	static struct probe probes[PROBE_THREADS];
	static const char *const more[] = { "PASSERELLE_DB_POOL_SIZE=6", NULL };
	struct harness_server srv;
	struct harness_client main_c;
	struct harness_resp r;
	struct world w;
	char csrf[128], case_path[128], val[32];
	double end;
	long st = 0;
	size_t i;
	json_t *j;

	if (harness_pg_stop_cmd() == NULL || harness_pg_start_cmd() == NULL) {
		printf("itest_faults: PASSERELLE_TEST_PG_STOP/START unset: "
		       "skipping the PostgreSQL restart test\n");
		return;
	}
	world_open(&w);
	world_serve(&w, &srv, more);
	world_seed(&w);
	ck_assert_int_eq(harness_client_init(&main_c), 0);
	ck_assert_int_eq(
	    login(&main_c, &srv, "police.agent", csrf, sizeof(csrf)), 200);
	ck_assert_int_eq(create_case(&main_c, &srv, csrf, 1, &r), 201);
	j = harness_json(&r);
	ck_assert_ptr_nonnull(j);
	snprintf(case_path, sizeof(case_path), "/api/v1/cases/%s",
	    json_string_value(json_object_get(j, "id")));
	json_decref(j);
	harness_resp_free(&r);

	atomic_store(&pg_phase, 0);
	atomic_store(&probe_stop, 0);
	for (i = 0; i < PROBE_THREADS; i++) {
		struct probe *p = &probes[i];

		memset(p, 0, sizeof(*p));
		p->srv = &srv;
		snprintf(p->case_path, sizeof(p->case_path), "%s", case_path);
		ck_assert_int_eq(harness_client_init(&p->c), 0);
		ck_assert_int_eq(login(&p->c, &srv, "police.agent", p->csrf,
		                     sizeof(p->csrf)),
		    200);
	}
	for (i = 0; i < PROBE_THREADS; i++)
		ck_assert_int_eq(
		    pthread_create(&probes[i].th, NULL, probe_run, &probes[i]),
		    0);
	harness_sleep_ms(500);

	atomic_store(&pg_phase, 1);
	ck_assert_int_eq(harness_shell(harness_pg_stop_cmd()), 0);
	harness_sleep_ms(1000);
	/* One deterministic look while it is away. */
	harness_client_http(&main_c, &srv, "GET", "/readyz", NULL, NULL, &r);
	ck_assert_error(&r, 503, "database_unavailable");
	harness_resp_free(&r);
	get_as(&main_c, &srv, "/api/v1/me", csrf, &r);
	ck_assert_msg(r.status == 503 || r.status == 401,
	    "GET /api/v1/me with the database away: %ld %s", r.status, r.body);
	if (r.status == 503)
		ck_assert_error(&r, 503, "database_unavailable");
	harness_resp_free(&r);
	harness_sleep_ms(1000);
	ck_assert_msg(server_alive(&srv), "the server died with the database");

	ck_assert_int_eq(harness_shell(harness_pg_start_cmd()), 0);
	for (end = harness_now_s() + 10; harness_now_s() < end;
	     harness_sleep_ms(100)) {
		st = get_as(&main_c, &srv, "/api/v1/me", csrf, &r);
		harness_resp_free(&r);
		if (st == 200)
			break;
	}
	ck_assert_msg(st == 200,
	    "GET /api/v1/me still %ld 10 s after PostgreSQL came back", st);
	/* Connections that failed just before may fail fast a moment more. */
	harness_sleep_ms(1500);
	atomic_store(&pg_phase, 2);
	harness_sleep_ms(700);
	atomic_store(&probe_stop, 1);
	for (i = 0; i < PROBE_THREADS; i++) {
		pthread_join(probes[i].th, NULL);
		harness_client_cleanup(&probes[i].c);
	}
	for (i = 0; i < PROBE_THREADS; i++) {
		ck_assert_msg(probes[i].bad == 0,
		    "client %zu: %ld answers not allowed, first: %s", i,
		    probes[i].bad, probes[i].bad_desc);
		ck_assert_msg(probes[i].answers[0] > 0 &&
		                  probes[i].answers[2] > 0,
		    "client %zu: %ld answers before, %ld after", i,
		    probes[i].answers[0], probes[i].answers[2]);
	}
	for (st = 0, i = 0; i < PROBE_THREADS; i++)
		st += probes[i].unavailable;
	ck_assert_msg(st > 0, "no client saw 503 while PostgreSQL was away");
	ck_assert_msg(server_alive(&srv), "the server is gone");

	/* No leaked connections: at most the pool. */
	world_value(&w,
	    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	    "'passerelle' AND datname = current_database()",
	    val, sizeof(val));
	ck_assert_msg(strtol(val, NULL, 10) <= POOL_SIZE,
	    "%s server connections, pool size %d", val, POOL_SIZE);
	ck_assert_msg(strtol(val, NULL, 10) >= 1, "no server connection");

	harness_client_cleanup(&main_c);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
	world_close(&w);
}
END_TEST

/* ======================================================================
 * Fault 3: SIGTERM with slow requests in flight.
 */

#define MAX_LOGINS 12

/* Ten accounts that log in (200), two unknown names (401). */
static const struct {
	const char *user;
	int status;
} slow_logins[MAX_LOGINS] = {
	{ "police.agent", 200 },
	{ "nobody.one", 401 },
	{ "police.chef", 200 },
	{ "frontiere.agent", 200 },
	{ "travail.agent", 200 },
	{ "ong.agent", 200 },
	{ "ong.chef", 200 },
	{ "nobody.two", 401 },
	{ "refuge.bamako", 200 },
	{ "refuge.gao", 200 },
	{ "guichet.agent", 200 },
	{ "enfance.agent", 200 },
};

/*
 * Sends nlogins logins (raw sockets, each request whole): first of them
 * gap_ms apart, then after pause_ms the others at once. Sends SIGTERM while
 * they are in flight, and checks that each gets its normal answer, that a new
 * connection is refused, and that the server exits 0. settings give the
 * worker threads and the Argon2 cost.
 */
static void
sigterm_with_logins(int nlogins, int first, long gap_ms, long pause_ms,
    const char *const *settings)
{
	static const char after_req[] =
	    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct harness_server srv;
	struct world w;
	int fds[MAX_LOGINS], closed[MAX_LOGINS], errs[MAX_LOGINS];
	int done = 0, i, rc, answered;
	char bufs[MAX_LOGINS][2048], req[512], body[160], out[1024];
	size_t used[MAX_LOGINS];
	double end;
	long got;

	ck_assert_int_le(nlogins, MAX_LOGINS);
	world_open(&w);
	world_serve(&w, &srv, settings);
	world_seed(&w);
	for (i = 0; i < nlogins; i++) {
		int n = snprintf(body, sizeof(body),
		    "{\"username\":\"%s\",\"password\":\"" DEMO_PASSWORD "\"}",
		    slow_logins[i].user);
		int m = snprintf(req, sizeof(req),
		    "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n"
		    "Connection: close\r\n\r\n%s",
		    n, body);

		fds[i] = harness_connect(&srv);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_eq(send(fds[i], req, (size_t)m, MSG_NOSIGNAL), m);
		used[i] = 0;
		closed[i] = 0;
		errs[i] = 0;
		bufs[i][0] = '\0';
		if (i + 1 < first)
			harness_sleep_ms(gap_ms);
		else if (i + 1 == first)
			harness_sleep_ms(pause_ms);
	}
	/*
	 * Give the server a moment to take them, then make sure that most
	 * are still unanswered: they are in flight at the signal.
	 */
	harness_sleep_ms(60);
	{
		struct pollfd pfd[MAX_LOGINS];

		for (i = 0; i < nlogins; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		answered = poll(pfd, (nfds_t)nlogins, 0);
	}
	ck_assert_msg(answered <= nlogins / 2,
	    "%d of %d logins answered within 60 ms: not in flight at the "
	    "signal",
	    answered, nlogins);
	ck_assert_int_eq(kill(srv.pid, SIGTERM), 0);
	harness_sleep_ms(150);

	/* New connections are refused (or closed without an answer). */
	got = harness_raw_ex(&srv, after_req, sizeof(after_req) - 1, out,
	    sizeof(out), 1000, &rc);
	ck_assert_msg(got < 0 || (got == 0 && rc),
	    "a new connection after SIGTERM got: %.200s", out);

	/* Every login in flight gets its normal answer. */
	for (end = harness_now_s() + 15;
	     done < nlogins && harness_now_s() < end;) {
		struct pollfd pfd[MAX_LOGINS];

		for (i = 0; i < nlogins; i++) {
			pfd[i].fd = closed[i] ? -1 : fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nlogins, 100) <= 0)
			continue;
		for (i = 0; i < nlogins; i++) {
			ssize_t n;

			if (closed[i] || pfd[i].revents == 0)
				continue;
			n = recv(fds[i], bufs[i] + used[i],
			    sizeof(bufs[i]) - 1 - used[i], 0);
			if (n < 0)
				errs[i] = errno;
			if (n <= 0 ||
			    used[i] + (size_t)n >= sizeof(bufs[i]) - 1) {
				closed[i] = 1;
				done++;
			}
			if (n > 0) {
				used[i] += (size_t)n;
				bufs[i][used[i]] = '\0';
			}
		}
	}
	for (i = 0; i < nlogins; i++) {
		const char *got_text = bufs[i];

		close(fds[i]);
		if (used[i] == 0 && errs[i] == ECONNRESET)
			got_text = "(connection reset, no answer)";
		else if (used[i] == 0 && closed[i])
			got_text = "(connection closed, no answer)";
		else if (used[i] == 0)
			got_text = "(no answer in 15 s)";
		ck_assert_msg(harness_raw_status(bufs[i]) ==
		                  slow_logins[i].status,
		    "login %d of %d (%s), sent whole before SIGTERM: expected "
		    "%d, got %.200s",
		    i + 1, nlogins, slow_logins[i].user, slow_logins[i].status,
		    got_text);
	}
	rc = harness_server_stop(&srv);
	ck_assert_msg(rc == 0, "the server exited %d after SIGTERM", rc);
	world_close(&w);
}

/*
 * The demo hashes are made at the fast cost; the servers below hash at a
 * higher one, so every good login also rehashes: slow, as is the dummy
 * hash of an unknown name.
 *
 * A worker thread and a hashing slot for each login, all sent at once:
 * the drain itself.
 */
START_TEST(test_sigterm_finishes_logins_in_flight_and_exits_0)
{
	static const char *const settings[] = { "PASSERELLE_THREADS=12",
		"PASSERELLE_ARGON2_OPS=3", "PASSERELLE_ARGON2_MEM_KIB=65536",
		"PASSERELLE_ARGON2_CONCURRENCY=8", NULL };

	sigterm_with_logins(8, 8, 0, 0, settings);
}
END_TEST

/*
 * More slow requests than worker threads, as under real load: the first
 * four (30 ms apart) occupy the four workers; 400 ms later eight more
 * come, and wait for a worker (sent whole, their connections established
 * by the kernel) when the signal comes. They deserve their answer as much
 * as the first four.
 */
START_TEST(test_sigterm_finishes_logins_queued_behind_busy_threads)
{
	static const char *const settings[] = { "PASSERELLE_THREADS=4",
		"PASSERELLE_ARGON2_OPS=5", "PASSERELLE_ARGON2_MEM_KIB=131072",
		"PASSERELLE_ARGON2_CONCURRENCY=4", NULL };

	sigterm_with_logins(12, 4, 30, 400, settings);
}
END_TEST

/* ======================================================================
 * Fault 4: slow clients, a flood of connections, an oversized header.
 */

#define SLOW_CONNS 15
#define FLOOD_CONNS 60

/* Has the server closed (or reset) fd? Reads and drops what came. */
static int
peer_closed(int fd)
{
	char buf[512];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno != EAGAIN && errno != EWOULDBLOCK;
	}
}

/*
 * Each test of this case has a server of its own (a checked fixture, in the
 * test's process) with a 2 s inactivity timeout and 20 connections per
 * address.
 */
static struct harness_server cl_srv;
static struct world cl_world;

static void
clients_setup(void)
{
	static const char *const limits[] = { "PASSERELLE_CONNECTION_TIMEOUT=2",
		"PASSERELLE_REQUEST_TIMEOUT=3",
		"PASSERELLE_PER_IP_CONNECTIONS=20", NULL };

	world_open(&cl_world);
	world_serve(&cl_world, &cl_srv, limits);
}

static void
clients_teardown(void)
{
	ck_assert_int_eq(harness_server_stop(&cl_srv), 0);
	world_close(&cl_world);
}

START_TEST(test_slowloris_is_cut_off_while_others_are_served)
{
	/* Half drip the request line; half a header after a good start. */
	static const char line[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1";
	static const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	static const char drip_hdr[] = "X-Slow: ";
	struct harness_resp r;
	int fds[SLOW_CONNS], closed_at_set[SLOW_CONNS], i, nopen;
	double opened, closed_at[SLOW_CONNS], next_drip, t, took, worst = 0;
	size_t sent[SLOW_CONNS];
	int probes = 0;
	long st = 0;

	for (i = 0; i < SLOW_CONNS; i++) {
		fds[i] = harness_connect(&cl_srv);
		ck_assert_int_ge(fds[i], 0);
		sent[i] = 0;
		closed_at_set[i] = 0;
		closed_at[i] = 0;
		if (i % 2 == 1)
			ck_assert_int_eq(send(fds[i], start, sizeof(start) - 1,
			                     MSG_NOSIGNAL),
			    (ssize_t)sizeof(start) - 1);
	}
	opened = harness_now_s();
	next_drip = opened;
	nopen = SLOW_CONNS;
	while (nopen > 0 && (t = harness_now_s()) < opened + 8) {
		/* One byte per connection every 500 ms. */
		if (t >= next_drip) {
			for (i = 0; i < SLOW_CONNS; i++) {
				const char *d = i % 2 ? drip_hdr : line;
				size_t dl = i % 2 ? sizeof(drip_hdr) - 1
				                  : sizeof(line) - 1;
				char c = sent[i] < dl ? d[sent[i]] : 'a';

				if (closed_at_set[i])
					continue;
				if (send(fds[i], &c, 1,
				        MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					sent[i]++;
			}
			next_drip += 0.5;
		}
		for (i = 0; i < SLOW_CONNS; i++)
			if (!closed_at_set[i] && peer_closed(fds[i])) {
				closed_at_set[i] = 1;
				closed_at[i] = harness_now_s() - opened;
				nopen--;
			}
		/* Meanwhile a normal client is served at once. */
		t = harness_now_s();
		st = harness_http(&cl_srv, "GET", "/healthz", NULL, NULL, &r);
		took = harness_now_s() - t;
		harness_resp_free(&r);
		probes++;
		ck_assert_msg(st == 200,
		    "GET /healthz with %d slow clients: %ld", nopen, st);
		if (took > worst)
			worst = took;
		harness_sleep_ms(200);
	}
	for (i = 0; i < SLOW_CONNS; i++)
		close(fds[i]);
	ck_assert_msg(probes >= 5, "only %d probes", probes);
	ck_assert_msg(worst < 1.0,
	    "GET /healthz took %.2f s with slow clients open", worst);
	ck_assert_msg(nopen == 0,
	    "%d of %d slow connections still open after 8 s (timeout 2 s): "
	    "a client sending one byte every 500 ms is never cut off",
	    nopen, SLOW_CONNS);
	for (i = 0; i < SLOW_CONNS; i++)
		ck_assert_msg(closed_at[i] <= 6.0,
		    "slow connection %d closed after %.1f s", i, closed_at[i]);
}
END_TEST

START_TEST(test_flood_past_per_address_limit_leaves_it_serving)
{
	static const char hz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct harness_resp r;
	int fds[FLOOD_CONNS], i, served = 0, refused = 0;
	char out[2048];
	double end;
	long st = 0;

	/* Sixty at once from 127.0.0.1, each asking for /healthz. */
	for (i = 0; i < FLOOD_CONNS; i++) {
		fds[i] = harness_connect(&cl_srv);
		if (fds[i] < 0) {
			refused++;
			continue;
		}
		(void)send(fds[i], hz, sizeof(hz) - 1, MSG_NOSIGNAL);
	}
	harness_sleep_ms(1000);
	for (i = 0; i < FLOOD_CONNS; i++) {
		ssize_t n;

		if (fds[i] < 0)
			continue;
		n = recv(fds[i], out, sizeof(out) - 1, MSG_DONTWAIT);
		if (n > 0) {
			out[n] = '\0';
			if (harness_raw_status(out) == 200)
				served++;
		}
	}
	/* While they are held, the limit holds. */
	ck_assert_msg(served >= 1 && served <= 20,
	    "%d of %d flooding connections served (%d refused at connect), "
	    "per-address limit 20",
	    served, FLOOD_CONNS, refused);
	for (i = 0; i < FLOOD_CONNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ck_assert_msg(server_alive(&cl_srv), "the server died in the flood");
	for (end = harness_now_s() + 5; harness_now_s() < end;
	     harness_sleep_ms(50)) {
		st = harness_http(&cl_srv, "GET", "/healthz", NULL, NULL, &r);
		harness_resp_free(&r);
		if (st == 200)
			break;
	}
	ck_assert_msg(st == 200, "GET /healthz after the flood: %ld", st);
}
END_TEST

START_TEST(test_100_kib_header_is_refused_and_next_request_works)
{
	static const char head[] =
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ";
	const size_t fill = 100 * 1024;
	struct harness_resp r;
	size_t len = sizeof(head) - 1 + fill + 4;
	char *big = malloc(len), out[2048];
	int closed = 0, status;

	ck_assert_ptr_nonnull(big);
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'a', fill);
	memcpy(big + sizeof(head) - 1 + fill, "\r\n\r\n", 4);
	ck_assert_int_ge(
	    harness_raw_ex(&cl_srv, big, len, out, sizeof(out), 5000, &closed),
	    0);
	free(big);
	status = harness_raw_status(out);
	ck_assert_msg(status == 431 || status == 413 || status == 400 ||
	                  (status == 0 && out[0] == '\0' && closed),
	    "a 100 KiB header got %d (closed %d): %.200s", status, closed, out);
	ck_assert_msg(closed,
	    "the connection stayed open after a 100 KiB "
	    "header (answer %d)",
	    status);
	ck_assert_int_eq(
	    harness_http(&cl_srv, "GET", "/healthz", NULL, NULL, &r), 200);
	harness_resp_free(&r);
	ck_assert(server_alive(&cl_srv));
}
END_TEST

/* ======================================================================
 * Fault 5: bad master key files. The database was first served with the
 * world's key; every bad file stops `serve` at start, naming the setting,
 * before it listens.
 */

static struct world key_world;

static void
key_setup(void)
{
	const char *env[] = { NULL, NULL, FAST_OPS, FAST_MEM, NULL };
	const char *migrate[] = { "migrate", NULL };
	const char *verify[] = { "audit", "verify", NULL };
	char out[4096];

	world_open(&key_world);
	env[0] = key_world.db_env;
	env[1] = key_world.key_env;
	ck_assert_msg(harness_run(env, migrate, out, sizeof(out)) == 0,
	    "migrate: %s", out);
	/* The first command with a key makes it this database's master key. */
	ck_assert_msg(harness_run(env, verify, out, sizeof(out)) == 0,
	    "audit verify: %s", out);
}

static void
key_teardown(void)
{
	world_close(&key_world);
}

static int
port_accepts(unsigned int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* `passerelle serve` run in a thread while the test knocks on its port. */
struct serve_run {
	const char *env[8];
	char key_env[300];
	char listen_env[64];
	char out[4096];
	int rc;
	atomic_int done;
};

static void *
serve_run_thread(void *arg)
{
	static const char *const args[] = { "serve", NULL };
	struct serve_run *s = arg;

	s->rc = harness_run(s->env, args, s->out, sizeof(s->out));
	atomic_store(&s->done, 1);
	return NULL;
}

/*
 * Runs serve with key file path; returns how many times its port accepted
 * a connection while it ran. s->rc and s->out hold the outcome.
 */
static int
serve_with_key(struct serve_run *s, const char *path)
{
	unsigned int port = harness_free_port();
	pthread_t th;
	int accepted = 0;

	ck_assert_uint_ne(port, 0);
	memset(s, 0, sizeof(*s));
	snprintf(s->key_env, sizeof(s->key_env), "PASSERELLE_KEY_FILE=%s",
	    path);
	snprintf(s->listen_env, sizeof(s->listen_env),
	    "PASSERELLE_LISTEN=127.0.0.1:%u", port);
	s->env[0] = key_world.db_env;
	s->env[1] = s->key_env;
	s->env[2] = s->listen_env;
	s->env[3] = FAST_OPS;
	s->env[4] = FAST_MEM;
	s->env[5] = NULL;
	ck_assert_int_eq(pthread_create(&th, NULL, serve_run_thread, s), 0);
	while (!atomic_load(&s->done)) {
		if (port_accepts(port))
			accepted++;
		harness_sleep_ms(2);
	}
	pthread_join(th, NULL);
	return accepted;
}

static int
write_bytes(const char *path, const char *bytes, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	if (write(fd, bytes, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

enum key_kind { K_MISSING, K_OPEN, K_DIR, K_SHORT, K_LONG, K_WRONG };

static const struct {
	const char *name;
	enum key_kind kind;
	const char *also; /* a second thing the line must say, or NULL */
} bad_keys[] = {
	{ "missing", K_MISSING, NULL },
	{ "mode 0644", K_OPEN, NULL },
	{ "a directory", K_DIR, NULL },
	{ "31 bytes", K_SHORT, NULL },
	{ "33 bytes", K_LONG, NULL },
	{ "another valid key", K_WRONG, "not the master key" },
};

START_TEST(test_good_key_serves_the_key_database)
{
	struct harness_server srv;
	struct harness_resp r;

	world_serve(&key_world, &srv, NULL);
	ck_assert_int_eq(harness_http(&srv, "GET", "/readyz", NULL, NULL, &r),
	    200);
	harness_resp_free(&r);
	ck_assert_int_eq(harness_server_stop(&srv), 0);
}
END_TEST

START_TEST(test_bad_key_file_stops_serve_before_listening)
{
	static const char key32[] = "0123456789abcdef0123456789abcdef";
	char path[256], out[4096], id_hint[32];
	const char *keygen[] = { "keygen", "--out", path, NULL };
	struct serve_run s;
	int accepted;

	snprintf(path, sizeof(path), "%s/bad_%d.key", key_world.dir, _i);
	switch (bad_keys[_i].kind) {
	case K_MISSING:
		break;
	case K_OPEN:
		ck_assert_int_eq(write_bytes(path, key32, 32, 0644), 0);
		break;
	case K_DIR:
		ck_assert_int_eq(mkdir(path, 0700), 0);
		break;
	case K_SHORT:
		ck_assert_int_eq(write_bytes(path, key32, 31, 0600), 0);
		break;
	case K_LONG:
		ck_assert_int_eq(write_bytes(path,
		                     "0123456789abcdef0123456789"
		                     "abcdef!",
		                     33, 0600),
		    0);
		break;
	case K_WRONG:
		ck_assert_msg(harness_run(NULL, keygen, out, sizeof(out)) == 0,
		    "keygen: %s", out);
		break;
	}
	accepted = serve_with_key(&s, path);
	ck_assert_msg(s.rc == 1, "key %s: serve exited %d: %s",
	    bad_keys[_i].name, s.rc, s.out);
	ck_assert_msg(accepted == 0,
	    "key %s: the port accepted %d connections before the exit",
	    bad_keys[_i].name, accepted);
	ck_assert_msg(harness_count_lines(s.out) == 1,
	    "key %s: not one line: %s", bad_keys[_i].name, s.out);
	ck_assert_msg(strstr(s.out, "PASSERELLE_KEY_FILE") != NULL,
	    "key %s: the line does not name PASSERELLE_KEY_FILE: %s",
	    bad_keys[_i].name, s.out);
	if (bad_keys[_i].also != NULL)
		ck_assert_msg(strstr(s.out, bad_keys[_i].also) != NULL,
		    "key %s: the line does not say \"%s\": %s",
		    bad_keys[_i].name, bad_keys[_i].also, s.out);
	if (bad_keys[_i].kind == K_WRONG) {
		/* Both key ids: 8 hex digits after "id ". */
		const char *p = strstr(s.out, "id ");

		ck_assert_msg(p != NULL &&
		                  strspn(p + 3, "0123456789abcdef") == 8,
		    "the wrong key's line names no key id: %s", s.out);
		snprintf(id_hint, sizeof(id_hint), "%.8s", p + 3);
		ck_assert_msg(strstr(p + 11, "id ") != NULL,
		    "the line names only one key id (%s): %s", id_hint, s.out);
	}
	if (bad_keys[_i].kind == K_DIR)
		rmdir(path);
	else
		unlink(path);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc;

	tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, key_setup, key_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_good_key_serves_the_key_database);
	tcase_add_loop_test(tc, test_bad_key_file_stops_serve_before_listening,
	    0, (int)(sizeof(bad_keys) / sizeof(bad_keys[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("sigkill");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    test_sigkill_during_case_registrations_loses_nothing_answered);
	suite_add_tcase(s, tc);

	tc = tcase_create("sigterm");
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_sigterm_finishes_logins_in_flight_and_exits_0);
	tcase_add_test(tc,
	    test_sigterm_finishes_logins_queued_behind_busy_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients");
	tcase_add_checked_fixture(tc, clients_setup, clients_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_slowloris_is_cut_off_while_others_are_served);
	tcase_add_test(tc, test_flood_past_per_address_limit_leaves_it_serving);
	tcase_add_test(tc,
	    test_100_kib_header_is_refused_and_next_request_works);
	suite_add_tcase(s, tc);

	/* Stops the cluster: last. */
	tc = tcase_create("postgres");
	tcase_add_unchecked_fixture(tc, NULL, pg_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    test_postgres_restart_under_load_gives_503_then_recovers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return harness_run_suite("itest_faults", faults_suite);
}
