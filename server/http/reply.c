/*
 * What every answer shares: the language of messages, the security headers
 * and the error body of the API contract.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <microhttpd.h>

#include "internal.h"

/* Parses "q=0.8" style weights; 1000 for 1.0. Bad weights count as 0. */
static int
qvalue(const char *p, const char *end)
{
	int q = 0, scale = 100;

	while (p < end && *p == ' ')
		p++;
	if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return 1000;
	p += 2;
	if (p < end && *p == '1')
		return 1000;
	if (p >= end || *p != '0')
		return 0;
	p++;
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p) && scale > 0;
		     p++, scale /= 10)
			q += (*p - '0') * scale;
	return q;
}

int
reply_lang_en(const char *al)
{
	int best_q = -1, en = 0, q;
	const char *p = al, *end, *semi, *tag;
	size_t tl;

	if (al == NULL)
		return 0;
	while (*p != '\0') {
		end = p + strcspn(p, ",");
		semi = memchr(p, ';', (size_t)(end - p));
		tag = p;
		while (tag < end && *tag == ' ')
			tag++;
		tl = (size_t)((semi ? semi : end) - tag);
		while (tl > 0 && tag[tl - 1] == ' ')
			tl--;
		q = semi ? qvalue(semi + 1, end) : 1000;
		if (q > best_q && tl >= 2 &&
		    (tl == 2 || tag[2] == '-' || tag[2] == '_')) {
			if (strncasecmp(tag, "en", 2) == 0) {
				best_q = q;
				en = 1;
			} else if (strncasecmp(tag, "fr", 2) == 0) {
				best_q = q;
				en = 0;
			}
		}
		p = *end ? end + 1 : end;
	}
	return best_q > 0 ? en : 0;
}

void
reply_security_headers(struct MHD_Response *resp, int api, int tls)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data: blob:; connect-src 'self'; "
	    "font-src 'self'; object-src 'none'; base-uri 'none'; "
	    "form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
	MHD_add_response_header(resp, "Permissions-Policy",
	    "camera=(), microphone=(), geolocation=(), payment=()");
	if (tls)
		MHD_add_response_header(resp, "Strict-Transport-Security",
		    "max-age=31536000");
	if (api) {
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		MHD_add_response_header(resp, "Pragma", "no-cache");
	}
}

char *
reply_error_body(enum pa_err e, int en, const char *msg, const char *field)
{
	return reply_error_body_code(e, NULL, en, msg, field);
}

char *
reply_error_body_code(enum pa_err e, const char *code, int en,
    const char *msg, const char *field)
{
	json_t *err, *root;
	char *s;

	err = json_pack("{s:s, s:s}", "code", code ? code : pa_err_code(e),
	    "message",
	    msg ? msg : pa_err_message(e, en));
	if (err != NULL && field != NULL)
		json_object_set_new(err, "field", json_string(field));
	root = json_pack("{s:o}", "error", err);
	if (root == NULL)
		return NULL;
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}
