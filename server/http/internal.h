/*
 * Private to http/: the request, the router, body and JSON limits, replies,
 * static files and metrics. Unit tests include it; other modules do not.
 */
#ifndef PA_HTTP_INTERNAL_H
#define PA_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "../auth/auth.h"
#include "../err.h"
#include "../util/jv.h"

struct MHD_Connection;
struct MHD_Response;
struct db;
struct jv_field;
struct req;

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PATH 2048

/* Route flags. */
#define ROUTE_BODY 0x1	/* takes a JSON object body */
#define ROUTE_API 0x2	/* under /api: no-store, JSON errors */
#define ROUTE_AUTH 0x4	/* needs a session, CSRF token when it changes */
#define ROUTE_LARGE 0x8	/* bodies up to ROUTE_LARGE_BODY (photos) */
#define ROUTE_LARGE_BODY (4L * 1024 * 1024)
#define ROUTE_SMALL 0x10	/* bodies up to 4 KiB (login) */
#define ROUTE_OFFLOAD 0x20	/* runs off the HTTP threads (Argon2id) */
#define ROUTE_SAME_SITE 0x40	/* the site check of writes, for a read too */
/*
 * The handler checks the session itself, in its first statement (one round
 * trip fewer), through req_session_deferred and req_admit; the guard has
 * checked the site, that a cookie came and that its CSRF token is right.
 */
#define ROUTE_SESSION_IN_HANDLER 0x80

struct route {
	const char *method;
	const char *pattern;	/* "/api/v1/cases/{id}": {x} is one segment */
	enum pa_err (*fn)(struct req *r);
	unsigned int flags;
	const struct jv_field *body; /* allowed members, checked first */
	enum auth_action action;  /* asked of auth_allowed for ROUTE_AUTH */
};

enum router_match {
	ROUTER_FOUND,
	ROUTER_NO_PATH,		/* no pattern matches the path */
	ROUTER_NO_METHOD,	/* the path exists, not with this method */
	ROUTER_BAD_PATH,	/* undecodable, %2F or NUL in a segment, too long */
};

/*
 * Matches method and the raw (still percent-encoded) path against tab.
 * Path parameters are decoded into buf (size buflen) and pointed to by
 * params. On ROUTER_NO_METHOD, allow receives "GET, HEAD, POST" style text.
 */
enum router_match router_match(const struct route *tab, size_t n,
    const char *method, const char *path, const struct route **out,
    const char **params, int *nparams, char *buf, size_t buflen,
    char *allow, size_t allowlen);
/* Is method one of those the router knows? */
int router_method_known(const char *method);
/*
 * Percent-decodes one path segment [s, s+len) into out (outlen bytes, NUL
 * terminated). Fails on a bad escape, an encoded '/', '\\' or NUL.
 */
int router_segment_decode(const char *s, size_t len, char *out, size_t outlen);

/* The OpenAPI document (server/http/openapi.json, embedded at build). */
extern const char http_openapi_json[];
extern const size_t http_openapi_json_len;

/* The application's routes (routes.c). */
extern const struct route http_routes[];
extern const size_t http_nroutes;

/*
 * Parses a request body as one JSON object: depth above max_depth, invalid
 * UTF-8, trailing bytes, duplicate keys, NUL in strings, or a non-object are
 * PA_BAD_INPUT. *why receives an English/French message pair index.
 */
enum pa_err body_json_parse(const char *buf, size_t len, int max_depth,
    json_t **out, const char **why_fr, const char **why_en);
/* Nesting depth of a JSON text, counting only brackets outside strings. */
int body_json_depth(const char *buf, size_t len);
/* Is the Content-Type application/json, with no charset or charset=utf-8? */
int body_content_type_ok(const char *ct);

/* 1 when Accept-Language prefers English over French; 0 (French) else. */
int reply_lang_en(const char *accept_language);

/* Security headers every answer carries; api adds Cache-Control: no-store. */
void reply_security_headers(struct MHD_Response *resp, int api, int tls);
/* The error body {"error":{"code","message","field"?}}: caller frees. */
char *reply_error_body(enum pa_err e, int en, const char *msg,
    const char *field);
/* The same with an API code other than the status's own (code not NULL). */
char *reply_error_body_code(enum pa_err e, const char *code, int en,
    const char *msg, const char *field);

/*
 * Resolves a raw request path under the web root, refusing "..", dot files,
 * encoded slashes, NUL and symbolic links. On success *fd is an open regular
 * file (caller closes), st filled, *ctype its media type. Returns 0, or -1
 * for not found / not allowed.
 */
int static_open(int rootfd, const char *path, int *fd, struct stat *st,
    const char **ctype);
/* 1 when path is under /lib/, the library files' own folder. */
int static_lib_path(const char *path);
/*
 * Opens one of the fixed library files (npm packages the application uses)
 * under the library root libfd, with static_open's care. Returns 0, or -1
 * for a path not on the list or a file absent.
 */
int static_lib_open(int libfd, const char *path, int *fd, struct stat *st,
    const char **ctype);
/* Strong ETag for a file (device, inode, size, modification time). */
void static_etag(const struct stat *st, char *buf, size_t len);
/* Media type by file name extension. */
const char *static_content_type(const char *name);

/* Metrics slots: each route, then static files, then unmatched. */
#define METRICS_SLOT_STATIC (http_nroutes)
#define METRICS_SLOT_OTHER (http_nroutes + 1)
int metrics_init(void);
void metrics_record(size_t slot, unsigned int status, double seconds);
void metrics_inflight(int delta);
long metrics_inflight_now(void);
/* The Prometheus text: caller frees. */
char *metrics_render(size_t *len);

/*
 * A request. Lives from the first call of the access handler to the
 * completion callback, which frees it with everything hanging off it.
 */
struct req {
	struct MHD_Connection *conn;
	const struct route *route;
	const char *method;
	const char *path;	/* raw, owned by MHD */
	const char *params[ROUTER_MAX_PARAMS];
	int nparams;
	char parambuf[512];
	size_t slot;		/* metrics slot */
	uint64_t id;
	struct timespec start;
	int en;			/* answer in English */
	int tls;
	int started;		/* the handler ran or an answer was queued */
	int close;		/* send Connection: close */

	char *body;
	size_t body_len;
	size_t body_cap;
	int too_large;
	int guarded;		/* guard() already ran, before the body */
	int session_deferred;	/* ROUTE_SESSION_IN_HANDLER: who not known */
	int csrf_ok;		/* the guard checked the CSRF token */
	enum { OFFLOAD_NONE, OFFLOAD_QUEUED, OFFLOAD_DONE } offload;
	enum pa_err offload_rc;	/* the offloaded handler's answer */
	size_t dropped;		/* body bytes dropped past the limit */

	json_t *json;		/* parsed body, for ROUTE_BODY routes */
	char addr[64];		/* client address (audit, throttling) */
	char token[64];		/* session cookie, when one came */
	struct actor who;	/* the caller, for ROUTE_AUTH routes */
	char set_cookie[320];	/* Set-Cookie to send, if any */
	struct db *db;		/* leased on demand by req_db */

	/* The answer, set by the handler. */
	unsigned int status;	/* 0: 200 */
	json_t *out;		/* JSON body, or */
	struct MHD_Response *resp; /* a prepared response (files, text) */
	const char *err_field;
	char *err_field_owned;	/* freed with the request */
	const char *err_code;	/* API code instead of the status's own */
	const char *err_fr;
	const char *err_en;
	char allow[64];		/* Allow header for 405 */
	unsigned int retry_after; /* seconds, for 429 and 503 */
};

/* Leases the request's database connection (released after the handler). */
enum pa_err req_db(struct req *r, struct db **out);
/* Records an error's field and message (both languages); returns e. */
enum pa_err req_fail(struct req *r, enum pa_err e, const char *field,
    const char *fr, const char *en);
/* A query string argument, percent-decoded into buf; NULL when absent. */
const char *req_query(struct req *r, const char *name, char *buf, size_t len);
/* The request's header value (owned by MHD), or NULL. */
const char *req_header(struct req *r, const char *name);
/*
 * For ROUTE_SESSION_IN_HANDLER: 1 when the handler must check the session
 * itself (r->who is not known yet). req_session_check does it the usual way
 * (its own round trip); a handler that checks it in its own statement
 * calls req_admit with the caller it found, which sets r->who and asks the
 * same questions as the guard (password change, access table).
 */
int req_session_deferred(const struct req *r);
enum pa_err req_session_check(struct req *r);
enum pa_err req_admit(struct req *r, const struct actor *who);
/* Gives the leased connection back early (before a slow step). */
void req_db_release(struct req *r);
/* Sets the session cookie (token NULL: clears it). */
void req_cookie_session(struct req *r, const char *token);
/* A JSON string member of the body, or NULL. */
const char *req_str(struct req *r, const char *name);

/* Settings the handlers need (set once at start). */
const struct config *http_config(void);

/* ?limit= and ?cursor=: 0, or -1 (bad limit) / -2 (bad cursor). */
int req_paging(struct req *r, int *limit, long long *cursor);
/* ?limit= alone (1..500, default 50): 0 or -1. */
int req_paging_limit(struct req *r, int *limit);

/* Handlers (h_*.c) and their body specs, for the route table. */
extern const struct jv_field h_login_body[], h_password_body[],
    h_org_body[], h_user_body[], h_user_patch_body[];
enum pa_err h_login(struct req *r);
enum pa_err h_logout(struct req *r);
enum pa_err h_session_get(struct req *r);
enum pa_err h_me(struct req *r);
enum pa_err h_password(struct req *r);
enum pa_err h_org_create(struct req *r);
enum pa_err h_org_list(struct req *r);
enum pa_err h_user_create(struct req *r);
enum pa_err h_user_list(struct req *r);
enum pa_err h_user_update(struct req *r);
enum pa_err h_audit_list(struct req *r);
extern const struct jv_field h_case_body[], h_case_patch_body[],
    h_case_search_body[], h_empty_body[], h_assignee_body[],
    h_reassign_body[];
enum pa_err h_case_create(struct req *r);
enum pa_err h_case_get(struct req *r);
enum pa_err h_case_update(struct req *r);
enum pa_err h_case_erase(struct req *r);
enum pa_err h_case_list(struct req *r);
enum pa_err h_case_search(struct req *r);
enum pa_err h_case_assign(struct req *r);
enum pa_err h_case_reassign(struct req *r);
enum pa_err h_sop(struct req *r);
extern const struct jv_field h_consent_body[], h_referral_body[],
    h_decline_body[], h_withdraw_body[], h_complete_body[],
    h_transition_body[], h_note_body[], h_service_body[], h_justice_body[];
enum pa_err h_consent_add(struct req *r);
enum pa_err h_consent_withdraw(struct req *r);
enum pa_err h_referral_create(struct req *r);
enum pa_err h_referral_list(struct req *r);
enum pa_err h_referral_get(struct req *r);
enum pa_err h_referral_accept(struct req *r);
enum pa_err h_referral_decline(struct req *r);
enum pa_err h_referral_withdraw(struct req *r);
enum pa_err h_referral_complete(struct req *r);
enum pa_err h_transition(struct req *r);
enum pa_err h_note_add(struct req *r);
enum pa_err h_service_add(struct req *r);
enum pa_err h_justice_set(struct req *r);
enum pa_err h_inbox(struct req *r);
enum pa_err h_stats(struct req *r);
enum pa_err h_indicators(struct req *r);
enum pa_err h_export_csv(struct req *r);
enum pa_err h_export_json(struct req *r);
enum pa_err h_export_xlsx(struct req *r);
enum pa_err h_export_htcds(struct req *r);
struct cases_err;
/* Turns a module's error detail into the request's error. */
enum pa_err case_fail(struct req *r, enum pa_err rc,
    const struct cases_err *err);
enum pa_err h_audit_verify(struct req *r);

#endif
