/*
 * The integration harness: throwaway databases, a real `passerelle serve`
 * on a free port, and HTTP clients (libcurl, and raw sockets for bytes that
 * curl would never send). Each suite calls harness_init() first: it reads
 *
 *   PASSERELLE_TEST_DATABASE_URL  admin URL of a PostgreSQL where we may
 *                                 CREATE DATABASE (required)
 *   PASSERELLE_BIN                the binary (default: the one built here)
 *   PASSERELLE_SOURCE_DIR         the source tree (default: this one)
 *   PASSERELLE_TEST_PG_STOP/START shell commands that stop and start the
 *                                 cluster (optional: tests that need them
 *                                 skip with a note)
 *
 * Ownership: strings returned by harness_db_create are the caller's, given
 * back with harness_db_drop. A struct harness_resp owns its body and headers
 * until harness_resp_free. A server started with harness_server_start runs
 * until harness_server_stop; it also receives SIGTERM when the process (the
 * thread) that started it dies, so that a crashed test never leaves one
 * behind.
 */
#ifndef PA_HARNESS_H
#define PA_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

/*
 * Reads the environment and makes the run's temporary directory; prints why
 * and returns -1 when the tests cannot run.
 */
int harness_init(void);
/*
 * In the process that called harness_init: drops the databases of this run
 * that tests left behind (a failed assertion skips their own clean-up) and
 * removes the run's temporary directory.
 */
void harness_cleanup(void);

const char *harness_bin(void);
const char *harness_source_dir(void);
/* The stop/start commands, or NULL when unset. */
const char *harness_pg_stop_cmd(void);
const char *harness_pg_start_cmd(void);
/* Runs a shell command (/bin/sh -c) and returns its exit status. */
int harness_shell(const char *cmd);

/* --- small utilities ------------------------------------------------- */

/* Seconds on the monotonic clock. */
double harness_now_s(void);
/* Sleeps ms milliseconds (through signals). */
void harness_sleep_ms(long ms);
/* A TCP port on 127.0.0.1 that was free a moment ago, or 0. */
unsigned int harness_free_port(void);
/* Lines in text (a last line without its newline counts). */
int harness_count_lines(const char *text);

/* --- running a suite -------------------------------------------------- */

struct Suite; /* check.h's Suite */
/*
 * The whole main of a suite: harness_init (on failure says that name
 * cannot run and returns 1), runs the suite make() builds (CK_NORMAL),
 * harness_cleanup. Returns 0 when every test passed, else 1.
 */
int harness_run_suite(const char *name, struct Suite *(*make)(void));

/* --- databases ------------------------------------------------------- */

/*
 * Creates an empty database with a unique name and returns a connection
 * string for it (caller gives it back to harness_db_drop), or NULL.
 */
char *harness_db_create(void);
/* Drops the database of url (WITH (FORCE)) and frees url. NULL ignored. */
void harness_db_drop(char *url);
/* Runs sql (no parameters, may hold several statements); 0 or -1. */
int harness_exec(const char *url, const char *sql);
/*
 * Runs a parameterised query and copies the first column of its first row
 * into out. Returns 0, 1 when there is no row or the value is NULL, -1 on
 * error (printed).
 */
int harness_value(const char *url, const char *sql, const char *const *params,
    int nparams, char *out, size_t outlen);
/* Is the admin database reachable right now? */
int harness_db_reachable(void);

/* --- processes -------------------------------------------------------- */

/* Makes a private temporary directory in the run's one. 0 or -1. */
int harness_tmpdir(char *buf, size_t len);
/* Removes a directory tree without following symbolic links. */
void harness_rmtree(const char *dir);

/*
 * Runs the passerelle binary with args (NULL-terminated) and the current
 * environment, without its PASSERELLE_ settings (PASSERELLE_TEST_* stay),
 * changed by env: "NAME=value" sets, "NAME" unsets. Its stdout
 * and stderr go together into out (NUL-terminated, truncated to outlen).
 * Waits at most 20 s (then SIGKILL). Returns the exit status, 128 + signal
 * when killed by one, or -1 when it could not run.
 */
int harness_run(const char *const *env, const char *const *args, char *out,
    size_t outlen);

struct harness_server {
	pid_t pid; /* 0 when not running */
	unsigned int port;
	char dir[64];  /* private temporary directory */
	char key[128]; /* dir/master.key */
	char log[128]; /* dir/server.log: the server's stderr */
	char url[64];  /* "http://127.0.0.1:port" */
};

/*
 * Makes a master key, runs `passerelle migrate` on db_url, then starts
 * `passerelle serve` on a free port with PASSERELLE_DATABASE_URL,
 * PASSERELLE_KEY_FILE, PASSERELLE_LISTEN and PASSERELLE_WEB_ROOT (the
 * source tree's web/) set. extra (NULL-terminated, may be NULL) adds to or
 * overrides that: "NAME=value" sets a variable, "NAME" unsets one, "--x=y"
 * is passed as a flag. Waits up to 10 s for GET /healthz to answer 200.
 * Returns 0, or -1 with the reason and the server's log printed.
 */
int harness_server_start(struct harness_server *srv, const char *db_url,
    const char *const *extra);
/*
 * SIGTERM, then waits up to 10 s (then SIGKILL). Returns the exit status
 * (0 for a clean stop), 128 + signal, or -1 when nothing was running.
 * Removes the temporary directory.
 */
int harness_server_stop(struct harness_server *srv);
/* Copies the server's log so far into out (NUL-terminated). */
void harness_server_log(const struct harness_server *srv, char *out,
    size_t outlen);

/* --- HTTP ------------------------------------------------------------- */

struct harness_header {
	char *name;
	char *value;
};

struct harness_resp {
	long status; /* 0 when no HTTP answer came */
	char *body;  /* NUL-terminated (body_len excludes it) */
	size_t body_len;
	struct harness_header *headers; /* of the last answer */
	size_t nheaders;
	char error[256]; /* libcurl's reason when status is 0 */
};

/*
 * A client: one libcurl handle, so its connections and its cookies (the
 * cookie engine is on) carry from one request to the next.
 */
struct harness_client {
	CURL *curl;
};

int harness_client_init(struct harness_client *c);
void harness_client_cleanup(struct harness_client *c);

/*
 * Sends method path (taken as is: no normalisation) with headers
 * (NULL-terminated "Name: value" list, may be NULL) and body (NULL for
 * none). Nothing is added: a body goes without Content-Type unless headers
 * say one. Fills *resp (free with harness_resp_free) and returns the
 * status, or 0 when no answer came (resp->error says why).
 */
long harness_client_http(struct harness_client *c,
    const struct harness_server *srv, const char *method, const char *path,
    const char *const *headers, const char *body, struct harness_resp *resp);
/* The same with a fresh client, cleaned up before returning. */
long harness_http(const struct harness_server *srv, const char *method,
    const char *path, const char *const *headers, const char *body,
    struct harness_resp *resp);
void harness_resp_free(struct harness_resp *resp);
/* The first header called name (any case), or NULL. */
const char *harness_resp_header(const struct harness_resp *resp,
    const char *name);
/* How many headers are called name (any case). */
size_t harness_resp_header_count(const struct harness_resp *resp,
    const char *name);
/* The idx-th header called name (any case), or NULL. */
const char *harness_resp_header_n(const struct harness_resp *resp,
    const char *name, size_t idx);

/* "Content-Type: application/json", NULL: for JSON bodies. */
extern const char *const harness_json_headers[];

/*
 * Opens a TCP connection to the server; returns the socket or -1. The
 * caller closes it.
 */
int harness_connect(const struct harness_server *srv);
/*
 * Writes exactly len bytes on a new connection, then reads until the
 * server closes it or timeout_ms pass in all. out receives what came back
 * (NUL-terminated; bytes past outlen - 1 are dropped). *closed, when not
 * NULL, is set to 1 when the server closed (or reset) the connection.
 * Returns the byte count read, or -1 when it cannot connect.
 */
long harness_raw_ex(const struct harness_server *srv, const void *bytes,
    size_t len, char *out, size_t outlen, int timeout_ms, int *closed);
/* harness_raw_ex with a 3 s limit. */
long harness_raw(const struct harness_server *srv, const void *bytes,
    size_t len, char *out, size_t outlen);
/* The status code of a raw answer ("HTTP/1.1 404 ..."), or 0. */
int harness_raw_status(const char *answer);

/* --- JSON and assertions ---------------------------------------------- */

/* Parses the body; NULL when it is not JSON (caller json_decref's). */
json_t *harness_json(const struct harness_resp *resp);
/*
 * Checks the error shape {"error":{"code":code,"message":non-empty
 * string,"field"?:string}} with nothing else in it. Returns 1 when it
 * matches; else 0 with the reason in why.
 */
int harness_error_shape(const char *body, const char *code, char *why,
    size_t whylen);
/*
 * Fails the running Check test unless resp has status and error code (the
 * including file includes check.h).
 */
#define ck_assert_error(resp, st, code)                                        \
	do {                                                                   \
		char why_[256];                                                \
		ck_assert_msg((resp)->status == (st),                          \
		    "expected status %d, got %ld (body: %.200s)", (int)(st),   \
		    (resp)->status, (resp)->body ? (resp)->body : "");         \
		ck_assert_msg(harness_error_shape((resp)->body, (code), why_,  \
		                  sizeof(why_)),                               \
		    "error shape: %s (body: %.200s)", why_,                    \
		    (resp)->body ? (resp)->body : "");                         \
	} while (0)

#endif
