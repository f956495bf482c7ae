/*
 * Handlers: login, the session again (after a reload), logout, the caller's
 * own account.
 */
#include <string.h>

#include "../config.h"
#include "../util/jv.h"
#include "internal.h"

const struct jv_field h_login_body[] = {
	{ "username", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 64 },
	{ "password", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 1024 },
	{ NULL, 0, 0, 0 },
};

const struct jv_field h_password_body[] = {
	{ "current", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 1024 },
	{ "new", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 1024 },
	{ NULL, 0, 0, 0 },
};

enum pa_err
h_login(struct req *r)
{
	struct auth_login li;
	enum pa_err rc;
	json_t *user;

	/* Argon2 runs inside: hold no connection while it does. */
	req_db_release(r);
	rc = auth_login(req_str(r, "username"), req_str(r, "password"),
	    r->addr, &li);
	if (rc == PA_THROTTLED || rc == PA_BUSY)
		r->retry_after = li.retry_after ? li.retry_after : 1;
	if (rc == PA_NO_SESSION)
		return req_fail(r, rc, NULL,
		    "identifiant ou mot de passe incorrect",
		    "wrong user name or password");
	if (rc != PA_OK)
		return rc;
	req_cookie_session(r, li.token);
	user = auth_actor_json(&li.who);
	r->out = json_pack("{s:s, s:o}", "csrf_token", li.csrf, "user", user);
	explicit_bzero(&li, sizeof(li));
	return r->out ? PA_OK : PA_INTERNAL;
}

/*
 * GET /api/v1/session: the login's answer again, {"csrf_token","user"}, for
 * a page that was reloaded. Like every signed-in request it needs the CSRF
 * token (guard()): the browser keeps it in the tab's sessionStorage, so a
 * reload carries on while a new tab, or the next person at a browser left
 * open, has only the cookie and gets 403. What it adds is the check that
 * the session is still alive and the user it belongs to. The route is
 * ROUTE_SAME_SITE too: a request that says it comes from another site
 * (Origin, Sec-Fetch-Site) is refused before the session is looked up.
 * Nothing travels in the URL; the answer is no-store like every API answer.
 */
enum pa_err
h_session_get(struct req *r)
{
	char csrf[44];
	json_t *user;

	if (auth_csrf_token(r->token, csrf) != 0)
		return PA_INTERNAL;
	user = auth_actor_json(&r->who);
	r->out = user ? json_pack("{s:s, s:o}", "csrf_token", csrf, "user",
	    user) : NULL;
	explicit_bzero(csrf, sizeof(csrf));
	return r->out ? PA_OK : PA_INTERNAL;
}

enum pa_err
h_logout(struct req *r)
{
	struct db *db;
	enum pa_err rc;

	if ((rc = req_db(r, &db)) != PA_OK)
		return rc;
	if ((rc = auth_logout(db, &r->who)) != PA_OK)
		return rc;
	req_cookie_session(r, NULL);
	r->status = 204;
	return PA_OK;
}

enum pa_err
h_me(struct req *r)
{
	r->out = auth_actor_json(&r->who);
	return r->out ? PA_OK : PA_INTERNAL;
}

enum pa_err
h_password(struct req *r)
{
	const char *field = NULL;
	enum pa_err rc;

	req_db_release(r);
	rc = auth_password_change(&r->who, req_str(r, "current"),
	    req_str(r, "new"), &field);
	if (rc == PA_INVALID)
		return req_fail(r, rc, field,
		    "mot de passe refusé : 12 à 256 caractères, sans "
		    "l'identifiant",
		    "password refused: 12 to 256 characters, without the user "
		    "name");
	if (rc == PA_FORBIDDEN)
		return req_fail(r, rc, field, "mot de passe actuel incorrect",
		    "current password is wrong");
	if (rc == PA_BUSY)
		r->retry_after = 2;
	if (rc != PA_OK)
		return rc;
	r->status = 204;
	return PA_OK;
}
