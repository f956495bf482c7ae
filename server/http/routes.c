/*
 * The route table: every endpoint of the server, with its handler. Handlers
 * are thin: they parse, call one module function and set the answer.
 */
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

const struct route http_routes[] = {
	{ "GET", "/healthz", h_healthz, 0, NULL },
	{ "GET", "/readyz", h_readyz, 0, NULL },
	{ "GET", "/metrics", h_metrics, 0, NULL },
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);
