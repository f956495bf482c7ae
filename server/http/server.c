/*
 * The libmicrohttpd daemon and the request lifecycle.
 *
 * MHD calls on_request several times per request: first with the headers
 * (we check framing, route, method, media type and declared size, and may
 * answer at once without reading the body), then once per chunk of body
 * (copied up to the limit), then a last time with no data (we parse, run the
 * handler, queue the answer). on_completed frees everything and logs one
 * line. Paths and query arguments reach us still percent-encoded (see
 * no_unescape): the router decodes each segment on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../log.h"
#include "../util/jv.h"
#include "http.h"
#include "internal.h"

static struct {
	const struct config *cfg;
	int rootfd;
	int libfd;		/* library root, or -1: no /lib/ files */
	int tls;
	uint32_t id_prefix;
	atomic_uint_fast64_t next_id;
} srv = { NULL, -1, -1, 0, 0, 0 };

/*
 * Every open connection, for two guards libmicrohttpd lacks: a deadline on
 * receiving a whole request (its own timeout counts only silence, so a
 * client sending a byte every few seconds would hold a connection for ever),
 * and a drain at shutdown that waits for connections accepted but not yet
 * read. A connection is WAITING from its start, or from the end of its
 * previous request, until its request is fully received.
 */
struct conn {
	struct conn *prev, *next;
	int fd;
	int waiting;		/* receiving a request, under the deadline */
	int fresh;		/* no request has begun on it yet */
	struct timespec since;
};

static struct {
	pthread_mutex_t mu;
	struct conn *head;
	long fresh;
	int stop;
} conns = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0 };

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *e = *socket_context;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return;
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		e->fd = ci ? ci->connect_fd : -1;
		e->waiting = e->fresh = 1;
		clock_gettime(CLOCK_MONOTONIC, &e->since);
		pthread_mutex_lock(&conns.mu);
		e->next = conns.head;
		if (conns.head)
			conns.head->prev = e;
		conns.head = e;
		conns.fresh++;
		pthread_mutex_unlock(&conns.mu);
		*socket_context = e;
		return;
	}
	if (e == NULL)
		return;
	pthread_mutex_lock(&conns.mu);
	if (e->prev)
		e->prev->next = e->next;
	else
		conns.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (e->fresh)
		conns.fresh--;
	pthread_mutex_unlock(&conns.mu);
	free(e);
	*socket_context = NULL;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/*
 * waiting: 1 while a request is being received, 0 once it is all in;
 * restart: start the deadline again (a new request on the connection).
 */
static void
conn_mark(struct MHD_Connection *c, int waiting, int restart)
{
	struct conn *e = conn_of(c);

	if (e == NULL)
		return;
	pthread_mutex_lock(&conns.mu);
	if (e->fresh) {
		e->fresh = 0;
		conns.fresh--;
	}
	e->waiting = waiting;
	if (restart)
		clock_gettime(CLOCK_MONOTONIC, &e->since);
	pthread_mutex_unlock(&conns.mu);
}

/* Cuts connections whose request has not all arrived within the limit. */
static void *
watchdog(void *arg)
{
	struct timespec now, tick = { 0, 250 * 1000 * 1000 };
	long limit = *(const long *)arg;
	struct conn *e;

	for (;;) {
		nanosleep(&tick, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&conns.mu);
		if (conns.stop) {
			pthread_mutex_unlock(&conns.mu);
			return NULL;
		}
		for (e = conns.head; e != NULL; e = e->next)
			if (e->waiting && e->fd >= 0 &&
			    now.tv_sec - e->since.tv_sec >= limit)
				/* libmicrohttpd sees the end and cleans up. */
				shutdown(e->fd, SHUT_RDWR);
		pthread_mutex_unlock(&conns.mu);
	}
}

enum pa_err
req_db(struct req *r, struct db **out)
{
	enum pa_err rc;

	if (r->db == NULL && (rc = db_acquire(&r->db)) != PA_OK)
		return rc;
	*out = r->db;
	return PA_OK;
}

enum pa_err
req_fail(struct req *r, enum pa_err e, const char *field, const char *fr,
    const char *en)
{
	r->err_field = field;
	r->err_fr = fr;
	r->err_en = en;
	return e;
}

void
req_db_release(struct req *r)
{
	db_release(r->db);
	r->db = NULL;
}

const struct config *
http_config(void)
{
	return srv.cfg;
}

void
req_cookie_session(struct req *r, const char *token)
{
	/* A browser-session cookie (no Max-Age) while signed in: closing the
	 * browser forgets it; the server ends the session on its own idle and
	 * absolute limits. */
	if (token != NULL)
		snprintf(r->set_cookie, sizeof(r->set_cookie),
		    "passerelle_session=%s; Path=/; HttpOnly; "
		    "SameSite=Strict%s", token,
		    srv.cfg->secure_cookies ? "; Secure" : "");
	else
		snprintf(r->set_cookie, sizeof(r->set_cookie),
		    "passerelle_session=; Path=/; Max-Age=0; HttpOnly; "
		    "SameSite=Strict%s",
		    srv.cfg->secure_cookies ? "; Secure" : "");
}

const char *
req_str(struct req *r, const char *name)
{
	return json_string_value(json_object_get(r->json, name));
}

const char *
req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *
req_query(struct req *r, const char *name, char *buf, size_t len)
{
	const char *v = MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, name);
	size_t o = 0;
	int hi, lo;

	if (v == NULL || len == 0)
		return NULL;
	for (; *v != '\0'; v++) {
		char c = *v;

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if ((hi = hex(v[1])) < 0 || (lo = hex(v[2])) < 0)
				return NULL;
			c = (char)(hi * 16 + lo);
			v += 2;
		}
		if (c == '\0' || o + 1 >= len)
			return NULL;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

/* Keeps paths and arguments percent-encoded: the router decodes them. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Queues resp with the shared headers; takes ownership of resp. */
static enum MHD_Result
reply_send(struct req *r, unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;
	char ra[16];

	if (resp == NULL)
		return MHD_NO;
	/* Everything but static files is no-store (they revalidate by ETag). */
	reply_security_headers(resp, r->slot != METRICS_SLOT_STATIC, srv.tls);
	if (status == 405 && r->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%u", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	if (r->set_cookie[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		    r->set_cookie);
	r->status = status;
	r->started = 1;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct MHD_Response *
json_response(char *text)
{
	struct MHD_Response *resp;

	if (text == NULL)
		return NULL;
	/* An answer may hold victim data: wiped when libmicrohttpd is done. */
	resp = MHD_create_response_from_buffer_with_free_callback(strlen(text),
	    text, jv_text_free);
	if (resp == NULL) {
		jv_text_free(text);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json; charset=utf-8");
	return resp;
}

static enum MHD_Result
send_error(struct req *r, enum pa_err e)
{
	const char *msg = r->en ? r->err_en : r->err_fr;

	if (e == PA_OK)
		e = PA_INTERNAL;
	if (e == PA_DB && r->retry_after == 0)
		r->retry_after = 5;
	return reply_send(r, pa_err_status(e),
	    json_response(reply_error_body_code(e, r->err_code, r->en, msg,
		r->err_field)));
}

static enum MHD_Result
fail_now(struct req *r, enum pa_err e, const char *fr, const char *en)
{
	req_fail(r, e, NULL, fr, en);
	return send_error(r, e);
}

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	int *counts = cls;

	(void)kind;
	(void)value;
	/* "Name : value" keeps the space in the name: refuse it (RFC 9112). */
	if (strpbrk(key, " \t") != NULL)
		counts[2]++;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		counts[0]++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		counts[1]++;
	return MHD_YES;
}

static enum MHD_Result
serve_static(struct req *r)
{
	struct MHD_Response *resp;
	const char *ctype, *inm;
	struct stat st;
	char etag[96];
	int fd;

	r->slot = METRICS_SLOT_STATIC;
	if (static_lib_path(r->path)) {
		if (static_lib_open(srv.libfd, r->path, &fd, &st, &ctype) != 0)
			return send_error(r, PA_NOT_FOUND);
	} else if (srv.rootfd < 0 ||
	    static_open(srv.rootfd, r->path, &fd, &st, &ctype) != 0)
		return send_error(r, PA_NOT_FOUND);
	static_etag(&st, etag, sizeof(etag));
	inm = req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strstr(inm, etag) != NULL) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
			    etag);
		return reply_send(r, 304, resp);
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return send_error(r, PA_INTERNAL);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache");
	return reply_send(r, 200, resp);
}

/*
 * The client's address: the peer, or behind a trusted proxy the last
 * address that proxy appended to X-Forwarded-For.
 */
static void
client_address(struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	const char *xff, *last;
	unsigned char tmp[16];
	char one[64];
	const struct sockaddr *sa;

	snprintf(r->addr, sizeof(r->addr), "unknown");
	if (srv.cfg->trust_proxy &&
	    (xff = req_header(r, "X-Forwarded-For")) != NULL) {
		last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		snprintf(one, sizeof(one), "%s", last);
		one[strcspn(one, " ")] = '\0';
		if (inet_pton(AF_INET, one, tmp) == 1 ||
		    inet_pton(AF_INET6, one, tmp) == 1) {
			snprintf(r->addr, sizeof(r->addr), "%s", one);
			return;
		}
	}
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    r->addr, sizeof(r->addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    r->addr, sizeof(r->addr));
}

/* The session cookie's value, if it looks like one of our tokens. */
static void
session_cookie(struct req *r)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
	    "passerelle_session");

	r->token[0] = '\0';
	if (v != NULL && strlen(v) < sizeof(r->token))
		snprintf(r->token, sizeof(r->token), "%s", v);
}

/* The body limit of this request's route. */
static size_t
body_limit(const struct req *r)
{
	if (r->route != NULL && (r->route->flags & ROUTE_SMALL) != 0)
		return srv.cfg->max_body < 4096 ? (size_t)srv.cfg->max_body :
		    4096;
	if (r->route != NULL && (r->route->flags & ROUTE_LARGE) != 0 &&
	    srv.cfg->max_body < ROUTE_LARGE_BODY)
		return (size_t)ROUTE_LARGE_BODY;
	return (size_t)srv.cfg->max_body;
}

static int
is_api_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

static enum pa_err guard(struct req *r);

/* First call: headers only. May answer at once. */
static enum MHD_Result
begin(struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	const char *cl, *te;
	char allow[64];
	int counts[3] = { 0, 0, 0 };
	enum router_match m;
	unsigned long long n;
	char *end;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_PROTOCOL);
	r->tls = srv.tls && ci != NULL;
	r->en = reply_lang_en(req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	r->slot = METRICS_SLOT_OTHER;

	/* Request smuggling: ambiguous framing is refused outright. */
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header,
	    counts);
	if (counts[0] > 1 || (counts[0] > 0 && counts[1] > 0) || counts[1] > 1 ||
	    counts[2] > 0) {
		r->close = 1;
		return fail_now(r, PA_BAD_INPUT,
		    "en-têtes Content-Length ou Transfer-Encoding ambigus",
		    "ambiguous Content-Length or Transfer-Encoding headers");
	}
	cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	/* Only "chunked" frames a body we read; anything else is refused. */
	if (te != NULL && strcasecmp(te, "chunked") != 0) {
		r->close = 1;
		return fail_now(r, PA_BAD_INPUT,
		    "codage de transfert non pris en charge",
		    "unsupported transfer coding");
	}

	if (!router_method_known(r->method)) {
		(void)router_match(http_routes, http_nroutes, "?", r->path,
		    &r->route, r->params, &r->nparams, r->parambuf,
		    sizeof(r->parambuf), allow, sizeof(allow));
		r->route = NULL;
		snprintf(r->allow, sizeof(r->allow), "%s",
		    allow[0] != '\0' ? allow : (is_api_path(r->path) ?
		    "GET, HEAD, POST, PUT, PATCH, DELETE" : "GET, HEAD"));
		r->close = 1;
		return send_error(r, PA_METHOD);
	}
	m = router_match(http_routes, http_nroutes, r->method, r->path,
	    &r->route, r->params, &r->nparams, r->parambuf,
	    sizeof(r->parambuf), allow, sizeof(allow));
	switch (m) {
	case ROUTER_FOUND:
		r->slot = (size_t)(r->route - http_routes);
		break;
	case ROUTER_NO_METHOD:
		snprintf(r->allow, sizeof(r->allow), "%s", allow);
		r->close = cl != NULL || te != NULL;
		return send_error(r, PA_METHOD);
	case ROUTER_BAD_PATH:
		r->close = cl != NULL || te != NULL;
		return send_error(r, PA_BAD_INPUT);
	case ROUTER_NO_PATH:
		if (is_api_path(r->path)) {
			r->close = cl != NULL || te != NULL;
			return send_error(r, PA_NOT_FOUND);
		}
		if (strcmp(r->method, "GET") != 0 &&
		    strcmp(r->method, "HEAD") != 0) {
			snprintf(r->allow, sizeof(r->allow), "GET, HEAD");
			r->close = cl != NULL || te != NULL;
			return send_error(r, PA_METHOD);
		}
		break;
	}

	/*
	 * An authenticated route checks its caller before any body is read:
	 * nobody without a session makes the server buffer megabytes. The
	 * connection goes back to the pool before the upload.
	 */
	if (r->route != NULL && (r->route->flags & ROUTE_AUTH) != 0 &&
	    ((cl != NULL && strcmp(cl, "0") != 0) || te != NULL)) {
		enum pa_err grc = guard(r);

		/* Before a body, the session is checked here, whatever the
		 * route: the answer is the one every route gives. */
		if (grc == PA_OK && r->session_deferred)
			grc = req_session_check(r);
		req_db_release(r);
		r->guarded = 1;
		if (grc != PA_OK) {
			r->close = 1;
			return send_error(r, grc);
		}
	}
	if (r->route == NULL || (r->route->flags & ROUTE_BODY) == 0) {
		if ((cl != NULL && strcmp(cl, "0") != 0) || te != NULL) {
			r->close = 1;
			return fail_now(r, PA_BAD_INPUT,
			    "cette requête ne prend pas de corps",
			    "this request takes no body");
		}
		return MHD_YES;
	}
	if (!body_content_type_ok(req_header(r,
		MHD_HTTP_HEADER_CONTENT_TYPE))) {
		r->close = 1;
		return send_error(r, PA_MEDIA_TYPE);
	}
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0') {
			r->close = 1;
			return send_error(r, PA_BAD_INPUT);
		}
		if (n > (unsigned long long)body_limit(r)) {
			r->close = 1;
			return send_error(r, PA_TOO_LARGE);
		}
		r->body_cap = (size_t)n;
	}
	return MHD_YES;
}

static int
body_append(struct req *r, const char *data, size_t len)
{
	size_t cap;
	char *nb;

	if (r->body_len + len > body_limit(r)) {
		r->too_large = 1;
		return -1;
	}
	if (r->body == NULL || r->body_len + len > r->body_cap) {
		cap = r->body_cap > r->body_len + len ? r->body_cap :
		    (r->body_len + len) * 2;
		if (cap > body_limit(r))
			cap = body_limit(r);
		if ((nb = realloc(r->body, cap + 1)) == NULL)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return 0;
}

static int
is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/*
 * A write from another site is refused whatever it carries: Origin, when
 * sent, must be this server; Sec-Fetch-Site, when sent, same-origin.
 */
static int
same_site(struct req *r)
{
	const char *origin = req_header(r, "Origin");
	const char *sfs = req_header(r, "Sec-Fetch-Site");
	const char *host = req_header(r, MHD_HTTP_HEADER_HOST);
	const char *p;

	if (sfs != NULL && strcmp(sfs, "same-origin") != 0 &&
	    strcmp(sfs, "none") != 0)
		return 0;
	if (origin == NULL)
		return 1;
	if (host == NULL)
		return 0;
	if (strncmp(origin, "https://", 8) == 0)
		p = origin + 8;
	else if (strncmp(origin, "http://", 7) == 0)
		p = origin + 7;
	else
		return 0;
	return strcmp(p, host) == 0;
}

/*
 * What the guard asks once the caller is known: the CSRF token of the
 * session on every signed-in request, reads too (the cookie alone, from a
 * browser left open on a shared office computer, a URL typed into its
 * address bar or a page of another site, reaches nothing: only the tab that
 * signed in holds the token, web/api.js), then a pending password change,
 * then the access table.
 */
static enum pa_err
admit(struct req *r)
{
	if (!r->csrf_ok &&
	    !auth_csrf_ok(r->token, req_header(r, "X-CSRF-Token")))
		return req_fail(r, PA_FORBIDDEN, NULL,
		    "jeton CSRF absent ou invalide",
		    "missing or invalid CSRF token");
	if (r->who.must_change_password && r->route->action != ACT_SELF)
		return req_fail(r, PA_FORBIDDEN, NULL,
		    "changez d'abord votre mot de passe",
		    "change your password first");
	if (!auth_allowed(&r->who, r->route->action))
		return PA_FORBIDDEN;
	return PA_OK;
}

enum pa_err
req_session_check(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	r->session_deferred = 0;
	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if ((rc = auth_session(db, r->token, r->addr, &r->who)) != PA_OK)
		return rc;
	r->who.en = r->en;
	return admit(r);
}

int
req_session_deferred(const struct req *r)
{
	return r->session_deferred;
}

enum pa_err
req_admit(struct req *r, const struct actor *who)
{
	if (who != &r->who)
		r->who = *who;
	r->who.en = r->en;
	r->session_deferred = 0;
	return admit(r);
}

/*
 * Checks before any handler runs: the request's site (of every write, and
 * of the reads marked ROUTE_SAME_SITE), then for ROUTE_AUTH the session and
 * what admit asks. A ROUTE_SESSION_IN_HANDLER route whose request carries
 * a session token and its CSRF token leaves the session to its handler;
 * any other request of it is checked here, so that every answer (401
 * before 403) stays the same.
 */
static enum pa_err
guard(struct req *r)
{
	client_address(r);
	if ((is_write(r->method) ||
	    (r->route->flags & ROUTE_SAME_SITE) != 0) && !same_site(r))
		return req_fail(r, PA_FORBIDDEN, NULL,
		    "requête d'un autre site refusée",
		    "cross-site request refused");
	if ((r->route->flags & ROUTE_AUTH) == 0)
		return PA_OK;
	session_cookie(r);
	if (r->token[0] == '\0')
		return PA_NO_SESSION;
	if ((r->route->flags & ROUTE_SESSION_IN_HANDLER) != 0 &&
	    auth_csrf_ok(r->token, req_header(r, "X-CSRF-Token"))) {
		r->csrf_ok = 1;	/* admit need not check it again */
		r->session_deferred = 1;
		return PA_OK;
	}
	return req_session_check(r);
}

/*
 * The offload threads: a small pool (one per Argon2 slot) that runs
 * ROUTE_OFFLOAD handlers on suspended connections, so that password
 * hashing never holds an HTTP worker thread and the connections it serves.
 */
#define OFFLOAD_QUEUE 64
/*
 * Their nice value: Argon2id is seconds of CPU a minute at full cost, and on
 * a small machine it would take the cores the case reads need (their p99
 * tripled beside four connections of logins). Niced, the hashing yields to
 * the reads and takes what is left; a login waits a little longer instead.
 */
#define OFFLOAD_NICE 10

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *q[OFFLOAD_QUEUE];
	int head, n, stop, nthreads;
	pthread_t th[16];
} off = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL }, 0,
	0, 0, 0, { 0 } };

/* Suspends r's connection and queues it; -1 when the queue is full. */
static int
offload_push(struct req *r)
{
	pthread_mutex_lock(&off.mu);
	if (off.n == OFFLOAD_QUEUE || off.stop) {
		pthread_mutex_unlock(&off.mu);
		return -1;
	}
	r->offload = OFFLOAD_QUEUED;
	/* Suspended before queued: no worker can resume it first. */
	MHD_suspend_connection(r->conn);
	off.q[(off.head + off.n) % OFFLOAD_QUEUE] = r;
	off.n++;
	pthread_cond_signal(&off.cv);
	pthread_mutex_unlock(&off.mu);
	return 0;
}

static void *
offload_main(void *arg)
{
	struct req *r;

	(void)arg;
	/* Linux: the nice value of this thread only. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), OFFLOAD_NICE) != 0)
		log_warn("serve: cannot lower the password threads' priority");
	for (;;) {
		pthread_mutex_lock(&off.mu);
		while (off.n == 0 && !off.stop)
			pthread_cond_wait(&off.cv, &off.mu);
		if (off.n == 0) {
			pthread_mutex_unlock(&off.mu);
			return NULL;
		}
		r = off.q[off.head];
		off.head = (off.head + 1) % OFFLOAD_QUEUE;
		off.n--;
		pthread_mutex_unlock(&off.mu);
		r->offload_rc = r->route->fn(r);
		db_release(r->db);
		r->db = NULL;
		r->offload = OFFLOAD_DONE;
		MHD_resume_connection(r->conn);
	}
}

static int
offload_start(int n)
{
	int i;

	off.nthreads = 0;
	for (i = 0; i < n && i < 16; i++) {
		if (pthread_create(&off.th[i], NULL, offload_main, NULL) != 0)
			break;
		off.nthreads++;
	}
	return off.nthreads > 0 ? 0 : -1;
}

/* After the drain: the queue is empty; let the threads end. */
static void
offload_stop(void)
{
	int i;

	pthread_mutex_lock(&off.mu);
	off.stop = 1;
	pthread_cond_broadcast(&off.cv);
	pthread_mutex_unlock(&off.mu);
	for (i = 0; i < off.nthreads; i++)
		pthread_join(off.th[i], NULL);
}

/* Last call: the whole body is in. Parse, run the handler, answer. */
static enum MHD_Result
finish(struct req *r)
{
	const char *why_fr = NULL, *why_en = NULL;
	struct MHD_Response *resp;
	struct jv_error jerr;
	enum pa_err rc;
	unsigned int status;
	char *text;

	if (r->offload == OFFLOAD_DONE) {
		rc = r->offload_rc;
		goto answer;
	}
	if (r->too_large) {
		r->close = 1;
		return send_error(r, PA_TOO_LARGE);
	}
	if (r->route == NULL)
		return serve_static(r);
	if (!r->guarded && (rc = guard(r)) != PA_OK) {
		req_db_release(r);
		return send_error(r, rc);
	}
	if (r->route->flags & ROUTE_BODY) {
		rc = body_json_parse(r->body, r->body_len,
		    (int)srv.cfg->json_max_depth, &r->json, &why_fr, &why_en);
		if (rc != PA_OK)
			return fail_now(r, rc, why_fr, why_en);
		if (r->route->body != NULL &&
		    (rc = jv_check(r->json, r->route->body, &jerr)) != PA_OK) {
			req_fail(r, rc, jerr.field, jerr.fr, jerr.en);
			return send_error(r, rc);
		}
	}
	/*
	 * Slow handlers (Argon2id) run on the offload threads: this worker
	 * thread goes back to its other connections, and the request comes
	 * back here (OFFLOAD_DONE) once its answer is known.
	 */
	if ((r->route->flags & ROUTE_OFFLOAD) != 0) {
		req_db_release(r);
		if (offload_push(r) == 0)
			return MHD_YES;
		r->retry_after = 2;
		return send_error(r, PA_BUSY);
	}
	rc = r->route->fn(r);
answer:
	/* The connection goes back before the answer is sent. */
	db_release(r->db);
	r->db = NULL;
	if (rc != PA_OK)
		return send_error(r, rc);
	status = r->status ? r->status : 200;
	if (r->resp != NULL) {
		resp = r->resp;
		r->resp = NULL;
		return reply_send(r, status, resp);
	}
	if (status == 204 || r->out == NULL)
		return reply_send(r, status, MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT));
	text = jv_dumps(r->out);
	return reply_send(r, status, json_response(text));
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*con_cls = r;
		r->conn = conn;
		r->method = method;
		r->path = url;
		r->id = atomic_fetch_add(&srv.next_id, 1);
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		metrics_inflight(1);
		conn_mark(conn, 1, 0);	/* no longer fresh; still receiving */
		if (begin(r) == MHD_NO)
			return MHD_NO;
		if (r->started)
			conn_mark(conn, 0, 0);	/* answered at once */
		return MHD_YES;
	}
	if (r->started) {	/* answered early: drop the rest */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/*
		 * libmicrohttpd takes no answer in the middle of an upload:
		 * past the limit the rest is counted and dropped, and finish()
		 * answers 413. A client that keeps sending far beyond it is cut
		 * off without an answer.
		 */
		if (r->too_large) {
			r->dropped += *upload_data_size;
			*upload_data_size = 0;
			return r->dropped > 4 * body_limit(r) ? MHD_NO : MHD_YES;
		}
		if (body_append(r, upload_data, *upload_data_size) != 0 &&
		    !r->too_large) {
			*upload_data_size = 0;
			return MHD_NO;	/* out of memory */
		}
		if (r->too_large)
			r->close = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	conn_mark(conn, 0, 0);	/* all in: no deadline while we answer */
	return finish(r);
}

static const char *
safe_method(const char *m)
{
	return router_method_known(m) ? m : "OTHER";
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	struct timespec now;
	double secs;
	const char *pattern;

	(void)cls;
	if (r == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
	pattern = r->route ? r->route->pattern :
	    (r->slot == METRICS_SLOT_STATIC ? "static" : "-");
	/* Never the path, the query, a header or a body: only the pattern. */
	log_info("req %08x-%06llx %s %s %u %.1fms%s", srv.id_prefix,
	    (unsigned long long)r->id, safe_method(r->method), pattern,
	    r->status, secs * 1000.0,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
	metrics_record(r->slot, r->status, secs);
	conn_mark(conn, 1, 1);	/* the next request starts its own clock */
	metrics_inflight(-1);
	db_release(r->db);
	if (r->resp != NULL)
		MHD_destroy_response(r->resp);
	json_decref(r->json);
	json_decref(r->out);
	explicit_bzero(r->token, sizeof(r->token));
	explicit_bzero(r->set_cookie, sizeof(r->set_cookie));
	if (r->body != NULL)
		explicit_bzero(r->body, r->body_len);	/* may hold a password */
	free(r->body);
	free(r->err_field_owned);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("mhd: %s", line);
}

static char *
read_small_file(const char *path, const char *what)
{
	char *buf;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		log_error("%s: cannot open %s: %s", what, path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = calloc(1, 1024 * 1024 + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 1024 * 1024, f);
	fclose(f);
	if (n == 0 || n == 1024 * 1024) {
		log_error("%s: %s is empty or larger than 1 MiB", what, path);
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The library root: as configured (it must open), else node_modules next to
 * the web root, where scripts/setup installs it (without it the pages still
 * work, without charts: say so once).
 */
static int
open_lib_root(const struct config *c)
{
	char def[4096];
	const char *path = c->lib_root;

	if (path == NULL) {
		if ((size_t)snprintf(def, sizeof(def), "%s/../node_modules",
		    c->web_root) >= sizeof(def))
			def[0] = '\0';
		path = def;
	}
	srv.libfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv.libfd >= 0)
		return 0;
	if (c->lib_root != NULL) {
		log_error("PASSERELLE_LIB_ROOT (--lib-root): cannot open %s: %s",
		    c->lib_root, strerror(errno));
		return -1;
	}
	log_warn("serve: no %s (PASSERELLE_LIB_ROOT): the statistics page "
	    "will have no charts", path);
	return 0;
}

int
http_serve(const struct config *c)
{
	struct addrinfo hints, *ai = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char port[8], *cert = NULL, *key = NULL;
	unsigned int flags;
	sigset_t set;
	int sig = 0, rc = 1, waited;
	MHD_socket lfd;
	pthread_t dog;

	srv.cfg = c;
	if (getrandom(&srv.id_prefix, sizeof(srv.id_prefix), 0) !=
	    (ssize_t)sizeof(srv.id_prefix))
		srv.id_prefix = (uint32_t)getpid();
	if (metrics_init() != 0)
		return 1;
	srv.rootfd = open(c->web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv.rootfd < 0) {
		log_error("PASSERELLE_WEB_ROOT (--web-root): cannot open %s: %s",
		    c->web_root, strerror(errno));
		return 1;
	}
	if (open_lib_root(c) != 0) {
		close(srv.rootfd);
		srv.rootfd = -1;
		return 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", c->listen_port);
	if (getaddrinfo(c->listen_host, port, &hints, &ai) != 0 || ai == NULL) {
		log_error("PASSERELLE_LISTEN (--listen): cannot resolve %s",
		    c->listen);
		goto out;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (c->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_error("PASSERELLE_TLS_CERT: this libmicrohttpd has "
				  "no TLS support");
			goto out;
		}
		cert = read_small_file(c->tls_cert, "PASSERELLE_TLS_CERT");
		key = read_small_file(c->tls_key, "PASSERELLE_TLS_KEY");
		if (cert == NULL || key == NULL)
			goto out;
		flags |= MHD_USE_TLS;
		srv.tls = 1;
	}

	/* Signals are taken by sigwait below, in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->connection_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)c->per_ip_connections,
	    /*
	     * libmicrohttpd's default. 24 KiB of request headers, or 16 KiB
	     * with 8 KiB of cookies (parsed cookies are copied into the
	     * pool), get their answer (itest_http); past the pool
	     * libmicrohttpd answers 431 or closes the connection. The
	     * pool is cleared after every request, so it is not larger than
	     * it must be (64 KiB cost 96 KiB of memset per request).
	     */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    srv.tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, key,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_END);
	if (d == NULL) {
		log_error("PASSERELLE_LISTEN (--listen): cannot serve on %s "
			  "(address in use or not allowed?)", c->listen);
		goto out;
	}
	if (pthread_create(&dog, NULL, watchdog,
	    (void *)(uintptr_t)&c->request_timeout) != 0) {
		log_error("serve: cannot start the request watchdog");
		MHD_stop_daemon(d);
		goto out;
	}
	if (offload_start((int)c->argon2_concurrency) != 0) {
		log_error("serve: cannot start the offload threads");
		MHD_stop_daemon(d);
		goto out;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	log_info("serve: listening on %s%s:%u with %ld threads, %ld database "
		 "connections", srv.tls ? "https://" : "http://",
	    c->listen_host, di ? di->port : c->listen_port, c->threads,
	    c->db_pool_size);

	while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
		;
	log_info("serve: signal %d, finishing requests in flight", sig);
	/*
	 * Stop accepting, but first hand libmicrohttpd the connections the
	 * kernel has already accepted for us: their requests were sent and
	 * are answered like the others. Then stop listening (new connections
	 * are refused) and wait for every request in flight and every
	 * connection not yet read, up to 30 seconds.
	 */
	lfd = MHD_quiesce_daemon(d);
	if (lfd != MHD_INVALID_SOCKET) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd;

		while ((cfd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			if (MHD_add_connection(d, cfd, (struct sockaddr *)&ss,
			    sl) != MHD_YES)
				close(cfd);
			sl = sizeof(ss);
		}
		shutdown(lfd, SHUT_RDWR);
	}
	for (waited = 0; waited < 3000; waited++) {
		long fresh;

		pthread_mutex_lock(&conns.mu);
		fresh = conns.fresh;
		pthread_mutex_unlock(&conns.mu);
		if (metrics_inflight_now() == 0 && fresh == 0)
			break;
		nanosleep(&ts, NULL);
	}
	offload_stop();
	MHD_stop_daemon(d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	pthread_mutex_lock(&conns.mu);
	conns.stop = 1;
	pthread_mutex_unlock(&conns.mu);
	pthread_join(dog, NULL);
	log_info("serve: stopped");
	rc = 0;
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(cert);
	close(srv.rootfd);
	srv.rootfd = -1;
	if (srv.libfd >= 0)
		close(srv.libfd);
	srv.libfd = -1;
	return rc;
}
