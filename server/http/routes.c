/*
 * The route table: every endpoint of the server, with its handler. Handlers
 * are thin: they parse, call one module function and set the answer.
 */
#include <stdint.h>
#include <stdlib.h>

#include <microhttpd.h>

#include "../db/db.h"
#include "internal.h"

static enum pa_err
h_healthz(struct req *r)
{
	r->out = json_pack("{s:s}", "status", "ok");
	return r->out ? PA_OK : PA_INTERNAL;
}

static enum pa_err
h_readyz(struct req *r)
{
	enum pa_err rc = db_ping();

	if (rc != PA_OK)
		return PA_DB;
	r->out = json_pack("{s:s}", "status", "ready");
	return r->out ? PA_OK : PA_INTERNAL;
}

static enum pa_err
h_metrics(struct req *r)
{
	size_t len;
	char *text = metrics_render(&len);

	if (text == NULL)
		return PA_INTERNAL;
	r->resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (r->resp == NULL) {
		free(text);
		return PA_INTERNAL;
	}
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	return PA_OK;
}

/*
 * GET /api/v1/openapi.json: the API's description, a source file embedded
 * at build time (cmake/embed_file.cmake). No session: it describes the
 * interface, holds no data, and a client needs it before signing in.
 */
static enum pa_err
h_openapi(struct req *r)
{
	r->resp = MHD_create_response_from_buffer(http_openapi_json_len,
	    (void *)(uintptr_t)http_openapi_json, MHD_RESPMEM_PERSISTENT);
	if (r->resp == NULL)
		return PA_INTERNAL;
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json; charset=utf-8");
	return PA_OK;
}

#define API ROUTE_API
#define AUTH (ROUTE_API | ROUTE_AUTH)
#define BODY ROUTE_BODY

const struct route http_routes[] = {
	{ "GET", "/healthz", h_healthz, 0, NULL, ACT_NONE },
	{ "GET", "/readyz", h_readyz, 0, NULL, ACT_NONE },
	{ "GET", "/metrics", h_metrics, 0, NULL, ACT_NONE },
	{ "GET", "/api/v1/openapi.json", h_openapi, API, NULL, ACT_NONE },

	{ "POST", "/api/v1/session", h_login,
	    API | BODY | ROUTE_SMALL | ROUTE_OFFLOAD, h_login_body, ACT_NONE },
	{ "GET", "/api/v1/session", h_session_get, AUTH | ROUTE_SAME_SITE,
	    NULL, ACT_SELF },
	{ "DELETE", "/api/v1/session", h_logout, AUTH, NULL, ACT_SELF },
	{ "GET", "/api/v1/me", h_me, AUTH, NULL, ACT_SELF },
	{ "POST", "/api/v1/me/password", h_password,
	    AUTH | BODY | ROUTE_OFFLOAD, h_password_body, ACT_SELF },

	{ "POST", "/api/v1/organisations", h_org_create, AUTH | BODY,
	    h_org_body, ACT_ORG_CREATE },
	{ "GET", "/api/v1/organisations", h_org_list, AUTH, NULL,
	    ACT_ORG_LIST },
	{ "POST", "/api/v1/users", h_user_create, AUTH | BODY, h_user_body,
	    ACT_USER_CREATE },
	{ "GET", "/api/v1/users", h_user_list, AUTH, NULL, ACT_USER_LIST },
	{ "PATCH", "/api/v1/users/{id}", h_user_update, AUTH | BODY,
	    h_user_patch_body, ACT_USER_UPDATE },

	{ "GET", "/api/v1/sop", h_sop, AUTH, NULL, ACT_SOP_READ },

	{ "POST", "/api/v1/cases", h_case_create, AUTH | BODY | ROUTE_LARGE,
	    h_case_body, ACT_CASE_CREATE },
	{ "GET", "/api/v1/cases", h_case_list, AUTH, NULL, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/search", h_case_search, AUTH | BODY,
	    h_case_search_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/reassign", h_case_reassign, AUTH | BODY,
	    h_reassign_body, ACT_VICTIM_DATA },
	{ "GET", "/api/v1/cases/{id}", h_case_get,
	    AUTH | ROUTE_SESSION_IN_HANDLER, NULL, ACT_VICTIM_DATA },
	{ "PATCH", "/api/v1/cases/{id}", h_case_update,
	    AUTH | BODY | ROUTE_LARGE, h_case_patch_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/erase", h_case_erase, AUTH | BODY,
	    h_empty_body, ACT_VICTIM_DATA },
	{ "PUT", "/api/v1/cases/{id}/assignee", h_case_assign, AUTH | BODY,
	    h_assignee_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/consents", h_consent_add, AUTH | BODY,
	    h_consent_body, ACT_VICTIM_DATA },
	{ "DELETE", "/api/v1/cases/{id}/consents/{cid}", h_consent_withdraw,
	    AUTH, NULL, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/referrals", h_referral_create,
	    AUTH | BODY, h_referral_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/transitions", h_transition, AUTH | BODY,
	    h_transition_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/notes", h_note_add, AUTH | BODY,
	    h_note_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/cases/{id}/services", h_service_add, AUTH | BODY,
	    h_service_body, ACT_VICTIM_DATA },
	{ "PUT", "/api/v1/cases/{id}/justice", h_justice_set, AUTH | BODY,
	    h_justice_body, ACT_VICTIM_DATA },

	{ "GET", "/api/v1/referrals", h_referral_list, AUTH, NULL,
	    ACT_VICTIM_DATA },
	{ "GET", "/api/v1/referrals/{id}", h_referral_get, AUTH, NULL,
	    ACT_VICTIM_DATA },
	{ "POST", "/api/v1/referrals/{id}/accept", h_referral_accept,
	    AUTH | BODY, h_empty_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/referrals/{id}/decline", h_referral_decline,
	    AUTH | BODY, h_decline_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/referrals/{id}/withdraw", h_referral_withdraw,
	    AUTH | BODY, h_withdraw_body, ACT_VICTIM_DATA },
	{ "POST", "/api/v1/referrals/{id}/complete", h_referral_complete,
	    AUTH | BODY, h_complete_body, ACT_VICTIM_DATA },
	{ "GET", "/api/v1/inbox", h_inbox, AUTH, NULL, ACT_VICTIM_DATA },

	{ "GET", "/api/v1/stats", h_stats, AUTH, NULL, ACT_STATS },
	{ "GET", "/api/v1/indicators", h_indicators, AUTH, NULL, ACT_STATS },
	{ "GET", "/api/v1/exports/stats.csv", h_export_csv, AUTH, NULL,
	    ACT_STATS },
	{ "GET", "/api/v1/exports/stats.json", h_export_json, AUTH, NULL,
	    ACT_STATS },
	{ "GET", "/api/v1/exports/stats.xlsx", h_export_xlsx, AUTH, NULL,
	    ACT_STATS },
	{ "GET", "/api/v1/exports/htcds.csv", h_export_htcds, AUTH, NULL,
	    ACT_STATS },

	{ "GET", "/api/v1/audit", h_audit_list, AUTH, NULL, ACT_AUDIT_READ },
	{ "GET", "/api/v1/audit/verify", h_audit_verify, AUTH, NULL,
	    ACT_AUDIT_READ },
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
