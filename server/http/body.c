/*
 * Request bodies: JSON objects only, parsed by Jansson after a cheap scan
 * that bounds nesting (Jansson's own limit is 2048 levels, far too deep for
 * a thread's stack budget and for any body this API takes).
 */
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "internal.h"

int
body_json_depth(const char *buf, size_t len)
{
	int depth = 0, max = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return max;
}

int
body_content_type_ok(const char *ct)
{
	const char *p;

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	p = ct + 16;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 1;
	if (*p != ';')
		return 0;
	p++;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (*p == '"')
		p++;
	return strncasecmp(p, "utf-8", 5) == 0 &&
	    (p[5] == '\0' || p[5] == '"' || p[5] == ' ');
}

enum pa_err
body_json_parse(const char *buf, size_t len, int max_depth, json_t **out,
    const char **why_fr, const char **why_en)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (len == 0 || buf == NULL) {
		*why_fr = "corps JSON attendu";
		*why_en = "a JSON body is required";
		return PA_BAD_INPUT;
	}
	if (body_json_depth(buf, len) > max_depth) {
		*why_fr = "JSON trop profondément imbriqué";
		*why_en = "JSON nested too deeply";
		return PA_BAD_INPUT;
	}
	/*
	 * Jansson refuses invalid UTF-8, trailing bytes after the value and,
	 * without JSON_ALLOW_NUL, "\u0000" in strings.
	 */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		*why_fr = "JSON invalide";
		*why_en = "invalid JSON";
		return PA_BAD_INPUT;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*why_fr = "un objet JSON est attendu";
		*why_en = "a JSON object is expected";
		return PA_BAD_INPUT;
	}
	*out = j;
	return PA_OK;
}
