/*
 * The integration harness (see harness.h): databases through libpq, the
 * server through fork/execve, HTTP through libcurl and raw sockets.
 *
 * Children are prepared before fork (argv and environment built in the
 * parent) so that nothing allocates between fork and execve. Each child
 * asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG) and stays in the
 * parent's process group, so that Check's and scripts/test's clean-ups reach
 * it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include <check.h>

#include "harness.h"

extern char **environ;

#ifndef PASSERELLE_BIN_DEFAULT
#define PASSERELLE_BIN_DEFAULT "passerelle"
#endif
#ifndef PASSERELLE_SOURCE_DIR
#define PASSERELLE_SOURCE_DIR "."
#endif

static struct {
	const char *admin_url;
	const char *bin;
	const char *srcdir;
	const char *pg_stop;
	const char *pg_start;
	int curl_ready;
	unsigned int ndb;
	pid_t init_pid;   /* the process that ran harness_init */
	char run_dir[64]; /* every temporary directory of this run */
	char run_tag[48]; /* prefix of every database of this run */
} h;

const char *const harness_json_headers[] = { "Content-Type: application/json",
	NULL };

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

int
harness_init(void)
{
	h.admin_url = env_or("PASSERELLE_TEST_DATABASE_URL", NULL);
	h.bin = env_or("PASSERELLE_BIN", PASSERELLE_BIN_DEFAULT);
	h.srcdir = env_or("PASSERELLE_SOURCE_DIR", PASSERELLE_SOURCE_DIR);
	h.pg_stop = env_or("PASSERELLE_TEST_PG_STOP", NULL);
	h.pg_start = env_or("PASSERELLE_TEST_PG_START", NULL);
	if (h.admin_url == NULL) {
		fprintf(stderr,
		    "harness: PASSERELLE_TEST_DATABASE_URL is not set: the "
		    "integration tests need the admin URL of a PostgreSQL "
		    "where "
		    "they may CREATE DATABASE (scripts/test sets it)\n");
		return -1;
	}
	if (access(h.bin, X_OK) != 0) {
		fprintf(stderr,
		    "harness: %s is not an executable (set "
		    "PASSERELLE_BIN)\n",
		    h.bin);
		return -1;
	}
	if (h.run_dir[0] == '\0') {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		h.init_pid = getpid();
		snprintf(h.run_tag, sizeof(h.run_tag),
		    "passerelle_t_%ld_%04lx_", (long)h.init_pid,
		    (unsigned long)(ts.tv_nsec & 0xffff));
		snprintf(h.run_dir, sizeof(h.run_dir),
		    "/tmp/passerelle_it_XXXXXX");
		if (mkdtemp(h.run_dir) == NULL) {
			fprintf(stderr, "harness: mkdtemp: %s\n",
			    strerror(errno));
			h.run_dir[0] = '\0';
			return -1;
		}
	}
	if (!h.curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "harness: curl_global_init failed\n");
			return -1;
		}
		h.curl_ready = 1;
	}
	return 0;
}

static void drop_run_databases(void);

void
harness_cleanup(void)
{
	/* Only the process that set up: forked tests share the run. */
	if (h.init_pid == getpid() && h.run_dir[0] != '\0') {
		drop_run_databases();
		harness_rmtree(h.run_dir);
		h.run_dir[0] = '\0';
	}
	if (h.curl_ready)
		curl_global_cleanup();
	h.curl_ready = 0;
}

const char *
harness_bin(void)
{
	return h.bin;
}

const char *
harness_source_dir(void)
{
	return h.srcdir;
}

const char *
harness_pg_stop_cmd(void)
{
	return h.pg_stop;
}

const char *
harness_pg_start_cmd(void)
{
	return h.pg_start;
}

void
harness_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double
harness_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An exit status as an int: the code, or 128 + the signal. */
static int
status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* --- string vectors --------------------------------------------------- */

struct strv {
	char **v;
	size_t n, cap;
};

static int
strv_add(struct strv *s, const char *str)
{
	char **nv;

	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		if ((nv = realloc(s->v, s->cap * sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
	}
	if ((s->v[s->n] = strdup(str)) == NULL)
		return -1;
	s->v[++s->n] = NULL;
	return 0;
}

static void
strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static size_t
name_len(const char *entry)
{
	return strcspn(entry, "=");
}

static int
same_name(const char *a, const char *b)
{
	size_t la = name_len(a), lb = name_len(b);

	return la == lb && strncmp(a, b, la) == 0;
}

static int
is_flag(const char *op)
{
	return strncmp(op, "--", 2) == 0;
}

/*
 * The child's environment: ours without PASSERELLE_ settings, changed by
 * the operations of defs then extra ("NAME=value" sets, "NAME" unsets;
 * "--flags" are skipped).
 */
static int
build_env(struct strv *env, const char *const *defs, const char *const *extra)
{
	const char *const *lists[2] = { defs, extra };
	const char *ops[256];
	size_t nops = 0, i, j, k;
	char **e;

	for (k = 0; k < 2; k++)
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			if (is_flag(lists[k][i]))
				continue;
			if (nops == sizeof(ops) / sizeof(ops[0]))
				return -1;
			ops[nops++] = lists[k][i];
		}
	for (e = environ; e != NULL && *e != NULL; e++) {
		/*
		 * The developer's own settings would change what the tests
		 * see; PASSERELLE_TEST_* (the run marker of scripts/test
		 * among them) go through.
		 */
		if (strncmp(*e, "PASSERELLE_", 11) == 0 &&
		    strncmp(*e, "PASSERELLE_TEST_", 16) != 0)
			continue;
		for (i = 0; i < nops; i++)
			if (same_name(*e, ops[i]))
				break;
		if (i == nops && strv_add(env, *e) != 0)
			return -1;
	}
	for (i = 0; i < nops; i++) {
		for (j = i + 1; j < nops; j++)
			if (same_name(ops[i], ops[j]))
				break;
		if (j < nops || strchr(ops[i], '=') == NULL)
			continue; /* overridden later, or an unset */
		if (strv_add(env, ops[i]) != 0)
			return -1;
	}
	return 0;
}

/*
 * Forks and execs the binary. The child's stdout and stderr go to outfd,
 * stdin comes from /dev/null, the working directory is the source tree.
 */
static pid_t
spawn(char **argv, char **envp, int outfd)
{
	pid_t parent = getpid(), pid;
	sigset_t none;
	int devnull;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* The child: no allocation from here on. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if ((devnull = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	dup2(outfd, STDOUT_FILENO);
	dup2(outfd, STDERR_FILENO);
	if (outfd > STDERR_FILENO)
		close(outfd);
	if (chdir(h.srcdir) != 0)
		_exit(126);
	execve(argv[0], argv, envp);
	_exit(127);
}

/* Waits for pid up to secs; then SIGKILL. Returns the status code. */
static int
wait_bounded(pid_t pid, double secs, int *killed)
{
	double end = harness_now_s() + secs;
	int st;
	pid_t w;

	if (killed != NULL)
		*killed = 0;
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return status_code(st);
		if (w < 0 && errno != EINTR)
			return -1;
		if (harness_now_s() > end)
			break;
		harness_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	if (killed != NULL)
		*killed = 1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status_code(st);
}

static int
build_argv(struct strv *argv, const char *const *args, const char *const *extra)
{
	size_t i;

	if (strv_add(argv, h.bin) != 0)
		return -1;
	for (i = 0; args != NULL && args[i] != NULL; i++)
		if (strv_add(argv, args[i]) != 0)
			return -1;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (is_flag(extra[i]) && strv_add(argv, extra[i]) != 0)
			return -1;
	return 0;
}

int
harness_run(const char *const *env, const char *const *args, char *out,
    size_t outlen)
{
	struct strv argv = { 0 }, envp = { 0 };
	struct pollfd pfd;
	size_t used = 0;
	double end;
	char buf[4096];
	int p[2] = { -1, -1 }, rc = -1, killed;
	ssize_t n;
	pid_t pid;

	if (outlen > 0)
		out[0] = '\0';
	if (build_argv(&argv, args, NULL) != 0 ||
	    build_env(&envp, env, NULL) != 0 || pipe2(p, O_CLOEXEC) != 0)
		goto out;
	pid = spawn(argv.v, envp.v, p[1]);
	close(p[1]);
	p[1] = -1;
	if (pid < 0)
		goto out;
	end = harness_now_s() + 20;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		double left = end - harness_now_s();

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (outlen > 0 && used < outlen - 1) {
			size_t take = (size_t)n < outlen - 1 - used
			                  ? (size_t)n
			                  : outlen - 1 - used;

			memcpy(out + used, buf, take);
			used += take;
			out[used] = '\0';
		}
	}
	rc = wait_bounded(pid,
	    end - harness_now_s() > 0 ? end - harness_now_s() : 0.1, &killed);
	if (killed)
		fprintf(stderr, "harness: %s %s did not finish within 20 s\n",
		    h.bin, args && args[0] ? args[0] : "");
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	strv_free(&argv);
	strv_free(&envp);
	return rc;
}

int
harness_shell(const char *cmd)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status_code(st);
}

/* --- temporary directories --------------------------------------------- */

int
harness_tmpdir(char *buf, size_t len)
{
	int n;

	if (h.run_dir[0] != '\0')
		n = snprintf(buf, len, "%s/XXXXXX", h.run_dir);
	else
		n = snprintf(buf, len, "/tmp/passerelle_it_XXXXXX");
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (mkdtemp(buf) == NULL) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
harness_rmtree(const char *dir)
{
	if (dir == NULL || dir[0] == '\0')
		return;
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- databases ---------------------------------------------------------- */

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *
pg_open(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "harness: cannot connect to %s: %s", url,
		    c ? PQerrorMessage(c) : "out of memory\n");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	return c;
}

/* Appends keyword='value' (quoted for conninfo) to buf. */
static int
conninfo_add(char *buf, size_t len, const char *kw, const char *val)
{
	size_t used = strlen(buf);
	const char *v;

	if (used + strlen(kw) + 4 >= len)
		return -1;
	used += (size_t)snprintf(buf + used, len - used, "%s%s='",
	    used ? " " : "", kw);
	for (v = val; *v != '\0'; v++) {
		if (used + 3 >= len)
			return -1;
		if (*v == '\'' || *v == '\\')
			buf[used++] = '\\';
		buf[used++] = *v;
	}
	if (used + 2 >= len)
		return -1;
	buf[used++] = '\'';
	buf[used] = '\0';
	return 0;
}

/* The admin URL with another dbname, as keyword=value text. */
static char *
url_with_db(const char *url, const char *dbname)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *out;
	size_t len = strlen(url) * 2 + strlen(dbname) + 256;

	if ((opts = PQconninfoParse(url, &err)) == NULL) {
		fprintf(stderr, "harness: cannot parse %s: %s", url,
		    err ? err : "out of memory\n");
		PQfreemem(err);
		return NULL;
	}
	if ((out = calloc(1, len)) == NULL) {
		PQconninfoFree(opts);
		return NULL;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		if (conninfo_add(out, len, o->keyword, o->val) != 0)
			goto fail;
	}
	if (conninfo_add(out, len, "dbname", dbname) != 0)
		goto fail;
	PQconninfoFree(opts);
	return out;
fail:
	PQconninfoFree(opts);
	free(out);
	return NULL;
}

/* CREATE DATABASE dbname, or (drop) DROP DATABASE IF EXISTS ... FORCE. */
static int
db_command(int drop, const char *dbname)
{
	char sql[256], *ident;
	PGresult *r;
	PGconn *c;
	int rc = -1;

	if ((c = pg_open(h.admin_url)) == NULL)
		return -1;
	if ((ident = PQescapeIdentifier(c, dbname, strlen(dbname))) == NULL)
		goto out;
	if (drop)
		snprintf(sql, sizeof(sql),
		    "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
	else
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", ident);
	PQfreemem(ident);
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	else
		fprintf(stderr, "harness: %s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
out:
	PQfinish(c);
	return rc;
}

char *
harness_db_create(void)
{
	struct timespec ts;
	char name[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "%s%ld_%u_%lx", h.run_tag, (long)getpid(),
	    h.ndb++, (unsigned long)(ts.tv_nsec & 0xfff));
	if (db_command(0, name) != 0)
		return NULL;
	return url_with_db(h.admin_url, name);
}

void
harness_db_drop(char *url)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;

	if (url == NULL)
		return;
	if ((opts = PQconninfoParse(url, &err)) != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL)
				(void)db_command(1, o->val);
		PQconninfoFree(opts);
	}
	PQfreemem(err);
	free(url);
}

/* Drops what tests of this run left behind (a failed test, a crash). */
static void
drop_run_databases(void)
{
	const char *params[1] = { h.run_tag };
	PGresult *r;
	PGconn *c;
	int i;

	if (h.admin_url == NULL || h.run_tag[0] == '\0' ||
	    (c = pg_open(h.admin_url)) == NULL)
		return;
	r = PQexecParams(c,
	    "SELECT datname FROM pg_database "
	    "WHERE left(datname, length($1)) = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		for (i = 0; i < PQntuples(r); i++) {
			fprintf(stderr, "harness: dropping %s, left behind\n",
			    PQgetvalue(r, i, 0));
			(void)db_command(1, PQgetvalue(r, i, 0));
		}
	PQclear(r);
	PQfinish(c);
}

int
harness_exec(const char *url, const char *sql)
{
	PGresult *r;
	PGconn *c;
	int rc = -1;

	if ((c = pg_open(url)) == NULL)
		return -1;
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK)
		rc = 0;
	else
		fprintf(stderr, "harness: %s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
harness_value(const char *url, const char *sql, const char *const *params,
    int nparams, char *out, size_t outlen)
{
	PGresult *r;
	PGconn *c;
	int rc = -1;

	if (outlen > 0)
		out[0] = '\0';
	if ((c = pg_open(url)) == NULL)
		return -1;
	r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "harness: %s: %s", sql,
		    PQresultErrorMessage(r));
	} else if (PQntuples(r) < 1 || PQnfields(r) < 1 ||
	           PQgetisnull(r, 0, 0)) {
		rc = 1;
	} else {
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
		rc = 0;
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
harness_db_reachable(void)
{
	return h.admin_url != NULL && PQping(h.admin_url) == PQPING_OK;
}

/* --- the server ---------------------------------------------------------- */

unsigned int
harness_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	unsigned int port = 0;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void
harness_server_log(const struct harness_server *srv, char *out, size_t outlen)
{
	size_t n = 0;
	FILE *f;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if ((f = fopen(srv->log, "r")) == NULL)
		return;
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
print_log(const struct harness_server *srv, const char *why)
{
	char text[8192];

	harness_server_log(srv, text, sizeof(text));
	fprintf(stderr, "harness: %s; server log (%s):\n%s\n", why, srv->log,
	    text);
}

/* One GET /healthz with a short timeout: the status, or 0. */
static long
healthz(const struct harness_server *srv)
{
	char url[128];
	long status = 0;
	CURL *c;

	if ((c = curl_easy_init()) == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s/healthz", srv->url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static int
try_start(struct harness_server *srv, const char *db_url,
    const char *const *extra, int *retry)
{
	static const char *const serve[] = { "serve", NULL };
	struct strv argv = { 0 }, envp = { 0 };
	char defs[7][1200];
	const char *dp[8];
	double end;
	int fd, st, rc = -1;
	size_t i;
	pid_t w;

	*retry = 0;
	if ((srv->port = harness_free_port()) == 0)
		return -1;
	snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%u", srv->port);
	snprintf(defs[0], sizeof(defs[0]), "PASSERELLE_DATABASE_URL=%s",
	    db_url);
	snprintf(defs[1], sizeof(defs[1]), "PASSERELLE_KEY_FILE=%s", srv->key);
	snprintf(defs[2], sizeof(defs[2]), "PASSERELLE_LISTEN=127.0.0.1:%u",
	    srv->port);
	snprintf(defs[3], sizeof(defs[3]), "PASSERELLE_WEB_ROOT=%s/web",
	    h.srcdir);
	snprintf(defs[4], sizeof(defs[4]), "PASSERELLE_THREADS=4");
	snprintf(defs[5], sizeof(defs[5]), "PASSERELLE_DB_TIMEOUT=5");
	/* tests register cases and count them at once; itest_stats asks
	 * for the production freeze ("month") where it tests it */
	snprintf(defs[6], sizeof(defs[6]), "PASSERELLE_STATS_FREEZE=none");
	for (i = 0; i < 7; i++)
		dp[i] = defs[i];
	dp[7] = NULL;
	if (build_argv(&argv, serve, extra) != 0 ||
	    build_env(&envp, dp, extra) != 0)
		goto out;
	fd = open(srv->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd < 0)
		goto out;
	srv->pid = spawn(argv.v, envp.v, fd);
	close(fd);
	if (srv->pid < 0) {
		srv->pid = 0;
		goto out;
	}
	end = harness_now_s() + 10;
	while (harness_now_s() < end) {
		w = waitpid(srv->pid, &st, WNOHANG);
		if (w == srv->pid) {
			char text[4096];

			srv->pid = 0;
			harness_server_log(srv, text, sizeof(text));
			/* Someone took the port between our probe and bind. */
			if (strstr(text, "cannot serve on") != NULL)
				*retry = 1;
			else
				print_log(srv, "the server exited at start");
			goto out;
		}
		if (healthz(srv) == 200) {
			rc = 0;
			goto out;
		}
		harness_sleep_ms(25);
	}
	print_log(srv, "the server did not answer /healthz within 10 s");
	kill(srv->pid, SIGKILL);
	(void)wait_bounded(srv->pid, 5, NULL);
	srv->pid = 0;
out:
	strv_free(&argv);
	strv_free(&envp);
	return rc;
}

int
harness_server_start(struct harness_server *srv, const char *db_url,
    const char *const *extra)
{
	const char *keygen[] = { "keygen", "--out", NULL, NULL };
	const char *migrate[] = { "migrate", NULL };
	const char *menv[2] = { NULL, NULL };
	char menv0[1200], out[4096];
	int attempt, retry, rc;

	memset(srv, 0, sizeof(*srv));
	if (db_url == NULL || harness_tmpdir(srv->dir, sizeof(srv->dir)) != 0)
		return -1;
	snprintf(srv->key, sizeof(srv->key), "%s/master.key", srv->dir);
	snprintf(srv->log, sizeof(srv->log), "%s/server.log", srv->dir);
	keygen[2] = srv->key;
	if ((rc = harness_run(NULL, keygen, out, sizeof(out))) != 0) {
		fprintf(stderr, "harness: keygen exited %d: %s\n", rc, out);
		goto fail;
	}
	snprintf(menv0, sizeof(menv0), "PASSERELLE_DATABASE_URL=%s", db_url);
	menv[0] = menv0;
	if ((rc = harness_run(menv, migrate, out, sizeof(out))) != 0) {
		fprintf(stderr, "harness: migrate exited %d: %s\n", rc, out);
		goto fail;
	}
	for (attempt = 0; attempt < 3; attempt++) {
		if (try_start(srv, db_url, extra, &retry) == 0)
			return 0;
		if (!retry)
			break;
	}
fail:
	harness_rmtree(srv->dir);
	srv->dir[0] = '\0';
	return -1;
}

int
harness_server_stop(struct harness_server *srv)
{
	int rc, killed;

	if (srv->pid <= 0)
		return -1;
	kill(srv->pid, SIGTERM);
	rc = wait_bounded(srv->pid, 10, &killed);
	if (killed)
		fprintf(stderr,
		    "harness: the server ignored SIGTERM for 10 s\n");
	if (rc != 0)
		print_log(srv, "the server did not exit cleanly");
	srv->pid = 0;
	harness_rmtree(srv->dir);
	srv->dir[0] = '\0';
	return rc;
}

/* --- HTTP with libcurl --------------------------------------------------- */

struct sink {
	char *p;
	size_t len, cap;
	int failed;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char *np;

	if (s->len + n + 1 > s->cap) {
		size_t cap = (s->len + n + 1) * 2;

		if ((np = realloc(s->p, cap)) == NULL) {
			s->failed = 1;
			return 0;
		}
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
	return n;
}

static void
headers_free(struct harness_resp *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct harness_resp *r = arg;
	struct harness_header *nh;
	size_t n = size * nmemb, nl, vs, ve;
	const char *colon;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		headers_free(r); /* a new answer (after 100 Continue) */
		return n;
	}
	colon = memchr(data, ':', n);
	if (colon == NULL)
		return n;
	nl = (size_t)(colon - data);
	vs = nl + 1;
	while (vs < n && (data[vs] == ' ' || data[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (data[ve - 1] == '\r' || data[ve - 1] == '\n' ||
	                      data[ve - 1] == ' ' || data[ve - 1] == '\t'))
		ve--;
	nh = realloc(r->headers, (r->nheaders + 1) * sizeof(*nh));
	if (nh == NULL)
		return 0;
	r->headers = nh;
	nh[r->nheaders].name = strndup(data, nl);
	nh[r->nheaders].value = strndup(data + vs, ve - vs);
	if (nh[r->nheaders].name == NULL || nh[r->nheaders].value == NULL) {
		free(nh[r->nheaders].name);
		free(nh[r->nheaders].value);
		return 0;
	}
	r->nheaders++;
	return n;
}

int
harness_client_init(struct harness_client *c)
{
	if ((c->curl = curl_easy_init()) == NULL)
		return -1;
	/*
	 * The cookie engine, once, for the handle's life. (No
	 * curl_easy_reset between requests: it turns the engine off, and
	 * libcurl 7.88 leaks a COOKIEFILE set before a reset.)
	 */
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	return 0;
}

void
harness_client_cleanup(struct harness_client *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

static int
has_header(const char *const *headers, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		if (strncasecmp(headers[i], name, n) == 0 &&
		    headers[i][n] == ':')
			return 1;
	return 0;
}

long
harness_client_http(struct harness_client *c, const struct harness_server *srv,
    const char *method, const char *path, const char *const *headers,
    const char *body, struct harness_resp *resp)
{
	struct curl_slist *list = NULL, *nl;
	struct sink sink = { NULL, 0, 0, 0 };
	char url[4096], errbuf[CURL_ERROR_SIZE];
	CURL *cu = c->curl;
	CURLcode cc;
	size_t i;

	memset(resp, 0, sizeof(*resp));
	errbuf[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", srv->url, path);
	/* Every option used here is set on each request (no reset). */
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, resp);
	/* Back to a plain GET (also clears NOBODY and a previous body). */
	curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, NULL);
	if (strcmp(method, "HEAD") == 0 && body == NULL) {
		curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
	} else if (body != NULL) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	}
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((nl = curl_slist_append(list, headers[i])) == NULL)
			goto nomem;
		list = nl;
	}
	/* No 100-continue round trip, and no form media type by default. */
	if ((nl = curl_slist_append(list, "Expect:")) == NULL)
		goto nomem;
	list = nl;
	if (body != NULL && !has_header(headers, "Content-Type")) {
		if ((nl = curl_slist_append(list, "Content-Type:")) == NULL)
			goto nomem;
		list = nl;
	}
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, list);
	cc = curl_easy_perform(cu);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &resp->status);
	if (cc != CURLE_OK)
		snprintf(resp->error, sizeof(resp->error), "%s",
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(list);
	if (sink.p == NULL)
		sink.p = calloc(1, 1);
	resp->body = sink.p;
	resp->body_len = sink.len;
	return resp->status;
nomem:
	curl_slist_free_all(list);
	snprintf(resp->error, sizeof(resp->error), "out of memory");
	resp->body = calloc(1, 1);
	return 0;
}

long
harness_http(const struct harness_server *srv, const char *method,
    const char *path, const char *const *headers, const char *body,
    struct harness_resp *resp)
{
	struct harness_client c;
	long st;

	if (harness_client_init(&c) != 0) {
		memset(resp, 0, sizeof(*resp));
		snprintf(resp->error, sizeof(resp->error), "curl_easy_init");
		return 0;
	}
	st = harness_client_http(&c, srv, method, path, headers, body, resp);
	harness_client_cleanup(&c);
	return st;
}

void
harness_resp_free(struct harness_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	headers_free(resp);
}

const char *
harness_resp_header_n(const struct harness_resp *resp, const char *name,
    size_t idx)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0 && idx-- == 0)
			return resp->headers[i].value;
	return NULL;
}

const char *
harness_resp_header(const struct harness_resp *resp, const char *name)
{
	return harness_resp_header_n(resp, name, 0);
}

size_t
harness_resp_header_count(const struct harness_resp *resp, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			n++;
	return n;
}

/* --- raw sockets -----------------------------------------------------------
 */

int
harness_connect(const struct harness_server *srv)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)srv->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

long
harness_raw_ex(const struct harness_server *srv, const void *bytes, size_t len,
    char *out, size_t outlen, int timeout_ms, int *closed)
{
	const char *p = bytes;
	struct pollfd pfd;
	size_t used = 0, sent = 0;
	double end = harness_now_s() + timeout_ms / 1000.0;
	char buf[4096];
	ssize_t n;
	int fd;

	if (closed != NULL)
		*closed = 0;
	if (outlen > 0)
		out[0] = '\0';
	if ((fd = harness_connect(srv)) < 0)
		return -1;
	while (sent < len) {
		n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server closed early: read its answer */
		sent += (size_t)n;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		double left = end - harness_now_s();

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (closed != NULL)
				*closed = 1;
			break;
		}
		if (outlen > 0 && used < outlen - 1) {
			size_t take = (size_t)n < outlen - 1 - used
			                  ? (size_t)n
			                  : outlen - 1 - used;

			memcpy(out + used, buf, take);
			used += take;
			out[used] = '\0';
		}
	}
	close(fd);
	return (long)used;
}

long
harness_raw(const struct harness_server *srv, const void *bytes, size_t len,
    char *out, size_t outlen)
{
	return harness_raw_ex(srv, bytes, len, out, outlen, 3000, NULL);
}

int
harness_raw_status(const char *answer)
{
	int st;

	if (answer == NULL || strncmp(answer, "HTTP/1.", 7) != 0 ||
	    sscanf(answer + 8, " %3d", &st) != 1)
		return 0;
	return st;
}

/* --- JSON -------------------------------------------------------------------
 */

json_t *
harness_json(const struct harness_resp *resp)
{
	if (resp->body == NULL)
		return NULL;
	return json_loadb(resp->body, resp->body_len, 0, NULL);
}

int
harness_error_shape(const char *body, const char *code, char *why,
    size_t whylen)
{
	json_t *root, *err, *v;
	const char *key;
	int ok = 0;

	snprintf(why, whylen, "ok");
	if (body == NULL || (root = json_loads(body, 0, NULL)) == NULL) {
		snprintf(why, whylen, "the body is not JSON");
		return 0;
	}
	err = json_object_get(root, "error");
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    !json_is_object(err)) {
		snprintf(why, whylen, "not {\"error\":{...}} alone");
		goto out;
	}
	v = json_object_get(err, "code");
	if (!json_is_string(v) || strcmp(json_string_value(v), code) != 0) {
		snprintf(why, whylen, "code is not \"%s\"", code);
		goto out;
	}
	v = json_object_get(err, "message");
	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(why, whylen, "message missing or empty");
		goto out;
	}
	json_object_foreach(err, key, v)
	{
		if (strcmp(key, "code") != 0 && strcmp(key, "message") != 0 &&
		    !(strcmp(key, "field") == 0 && json_is_string(v))) {
			snprintf(why, whylen, "unexpected member %s", key);
			goto out;
		}
	}
	ok = 1;
out:
	json_decref(root);
	return ok;
}

int
harness_count_lines(const char *text)
{
	int n = 0;

	for (; *text != '\0'; text++)
		if (*text == '\n' || text[1] == '\0')
			n++;
	return n;
}

int
harness_run_suite(const char *name, struct Suite *(*make)(void))
{
	SRunner *sr;
	int failed;

	if (harness_init() != 0) {
		fprintf(stderr, "%s: cannot run (see above)\n", name);
		return 1;
	}
	sr = srunner_create(make());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup();
	return failed == 0 ? 0 : 1;
}
