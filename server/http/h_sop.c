/* Handler: GET /api/v1/sop, the loaded SOP for the browser to render. */
#include <stdint.h>

#include <microhttpd.h>

#include "../sop/sop.h"
#include "internal.h"

enum pa_err
h_sop(struct req *r)
{
	const char *text;
	size_t len;

	if ((text = sop_public_json(sop_current(), &len)) == NULL)
		return PA_INTERNAL;
	/*
	 * The text is built once at load and lives as long as the SOP, that
	 * is the process: MHD may send it without a copy and never frees it.
	 * MHD's parameter is not const, though it only reads the buffer.
	 */
	r->resp = MHD_create_response_from_buffer(len,
	    (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	if (r->resp == NULL)
		return PA_INTERNAL;
	if (MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json; charset=utf-8") != MHD_YES)
		return PA_INTERNAL;
	return PA_OK;
}
