/*
 * The router: a linear table of (method, pattern, handler). Patterns are
 * compared segment by segment against the raw path; "{name}" matches one
 * non-empty segment, which is percent-decoded into the caller's buffer. The
 * path is never decoded as a whole, so "%2F" cannot forge a separator.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char *const known_methods[] = { "GET", "HEAD", "POST", "PUT",
	"PATCH", "DELETE" };

int
router_method_known(const char *method)
{
	size_t i;

	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (strcmp(method, known_methods[i]) == 0)
			return 1;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
router_segment_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '/' || c == '\\' || c == '\0')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Does pattern match path? Captures decoded parameters when params is set.
 * Returns 1 on a match, 0 when not, -1 when a segment cannot be decoded.
 */
static int
match_one(const char *pattern, const char *path, const char **params,
    int *nparams, char *buf, size_t buflen)
{
	const char *p = pattern, *s = path;
	const char *pe, *se;
	size_t used = 0, plen, slen;
	int np = 0;

	for (;;) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		plen = (size_t)(pe - p);
		slen = (size_t)(se - s);
		if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || np >= ROUTER_MAX_PARAMS)
				return 0;
			if (params != NULL) {
				if (used >= buflen ||
				    router_segment_decode(s, slen, buf + used,
					buflen - used) != 0)
					return -1;
				params[np] = buf + used;
				used += strlen(buf + used) + 1;
			}
			np++;
		} else if (plen != slen || memcmp(p, s, plen) != 0)
			return 0;
		p = pe;
		s = se;
		if (*p == '\0' && *s == '\0')
			break;
	}
	if (nparams != NULL)
		*nparams = np;
	return 1;
}

static void
allow_add(char *allow, size_t len, const char *m)
{
	size_t used = strlen(allow);

	if (strstr(allow, m) != NULL)
		return;
	snprintf(allow + used, len - used, "%s%s", used ? ", " : "", m);
}

enum router_match
router_match(const struct route *tab, size_t n, const char *method,
    const char *path, const struct route **out, const char **params,
    int *nparams, char *buf, size_t buflen, char *allow, size_t allowlen)
{
	int path_found = 0, m;
	size_t i;

	*out = NULL;
	*nparams = 0;
	if (allowlen > 0)
		allow[0] = '\0';
	if (path == NULL || path[0] != '/' || strlen(path) > ROUTER_MAX_PATH)
		return ROUTER_BAD_PATH;
	for (i = 0; i < n; i++) {
		m = match_one(tab[i].pattern, path, NULL, NULL, NULL, 0);
		if (m == 0)
			continue;
		path_found = 1;
		if (strcmp(tab[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 &&
			strcmp(tab[i].method, "GET") == 0)) {
			if (match_one(tab[i].pattern, path, params, nparams,
				buf, buflen) != 1)
				return ROUTER_BAD_PATH;
			*out = &tab[i];
			return ROUTER_FOUND;
		}
	}
	if (!path_found)
		return ROUTER_NO_PATH;
	for (i = 0; i < n; i++)
		if (match_one(tab[i].pattern, path, NULL, NULL, NULL, 0) == 1) {
			allow_add(allow, allowlen, tab[i].method);
			if (strcmp(tab[i].method, "GET") == 0)
				allow_add(allow, allowlen, "HEAD");
		}
	return ROUTER_NO_METHOD;
}
