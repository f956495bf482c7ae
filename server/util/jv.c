/* Checks of request objects against a spec of allowed members. */
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jv.h"

int
jv_uuid_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int
jv_date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, m, d, i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

size_t
jv_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
type_ok(const json_t *v, enum jv_type t)
{
	switch (t) {
	case JV_STRING:
		return json_is_string(v);
	case JV_INTEGER:
		return json_is_integer(v);
	case JV_BOOLEAN:
		return json_is_boolean(v);
	case JV_OBJECT:
		return json_is_object(v);
	case JV_ARRAY:
		return json_is_array(v);
	case JV_ANY:
		return 1;
	}
	return 0;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

enum pa_err
jv_check(json_t *obj, const struct jv_field *spec, struct jv_error *err)
{
	const struct jv_field *f;
	const char *key;
	json_t *v;

	err->field = NULL;
	if (!json_is_object(obj)) {
		err->fr = "un objet JSON est attendu";
		err->en = "a JSON object is expected";
		return PA_BAD_INPUT;
	}
	json_object_foreach(obj, key, v) {
		for (f = spec; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			/* Do not echo an unknown key: it is client text. */
			err->fr = "membre inconnu dans la requête";
			err->en = "unknown member in the request";
			return PA_BAD_INPUT;
		}
	}
	for (f = spec; f->name != NULL; f++) {
		v = json_object_get(obj, f->name);
		err->field = f->name;
		if (v == NULL) {
			if (f->flags & JV_REQUIRED) {
				err->fr = "champ obligatoire manquant";
				err->en = "required field missing";
				return PA_INVALID;
			}
			continue;
		}
		if (json_is_null(v)) {
			if (f->flags & JV_NULLABLE)
				continue;
			err->fr = "valeur nulle non permise";
			err->en = "null is not allowed here";
			return PA_INVALID;
		}
		if (!type_ok(v, f->type)) {
			err->fr = "type de valeur incorrect";
			err->en = "wrong value type";
			return PA_INVALID;
		}
		if (f->type == JV_STRING) {
			if ((f->flags & JV_NONEMPTY) &&
			    blank(json_string_value(v))) {
				err->fr = "valeur vide";
				err->en = "empty value";
				return PA_INVALID;
			}
			if (f->max > 0 &&
			    jv_utf8_len(json_string_value(v)) > f->max) {
				err->fr = "valeur trop longue";
				err->en = "value too long";
				return PA_INVALID;
			}
		}
		if (f->type == JV_ARRAY && f->max > 0 &&
		    json_array_size(v) > f->max) {
			err->fr = "trop d'éléments";
			err->en = "too many items";
			return PA_INVALID;
		}
	}
	err->field = NULL;
	return PA_OK;
}

/* ------------------------------------------------------------- jv_dumps */

void
jv_buf_add(struct jv_buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->failed)
		return;
	if (n > (SIZE_MAX - 257) / 2 - b->len) {	/* cap would wrap */
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2 + 256;
		if (b->wipe) {
			/* No copy of the old text left behind by realloc. */
			if ((np = malloc(cap)) == NULL) {
				b->failed = 1;
				return;
			}
			if (b->p != NULL) {
				memcpy(np, b->p, b->len);
				explicit_bzero(b->p, b->len);
				free(b->p);
			}
		} else if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';	/* room kept for it above */
}

void
jv_buf_free(struct jv_buf *b)
{
	if (b->p != NULL && b->wipe)
		explicit_bzero(b->p, b->len);	/* past it, only a NUL */
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* As jansson's dump_string without flags: the same escapes, "\u%04X". */
void
jv_buf_string(struct jv_buf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	const char *run = s, *end = s + n;
	char esc[6];

	jv_buf_add(b, "\"", 1);
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		size_t k = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jv_buf_add(b, run, (size_t)(s - run));
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = digits[c >> 4];
			esc[5] = digits[c & 15];
			k = 6;
		}
		jv_buf_add(b, esc, k);
		run = s + 1;
	}
	jv_buf_add(b, run, (size_t)(s - run));
	jv_buf_add(b, "\"", 1);
}

static void
jb_value(struct jv_buf *b, json_t *v, int depth)
{
	char num[32];
	const char *key;
	json_t *x;
	size_t i;
	int first = 1;

	if (depth > 2048) {	/* as jansson: no deeper (no loops either) */
		b->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jv_buf_add(b, "{", 1);
		json_object_foreach(v, key, x) {
			if (!first)
				jv_buf_add(b, ",", 1);
			first = 0;
			jv_buf_string(b, key, strlen(key));
			jv_buf_add(b, ":", 1);
			jb_value(b, x, depth + 1);
		}
		jv_buf_add(b, "}", 1);
		break;
	case JSON_ARRAY:
		jv_buf_add(b, "[", 1);
		json_array_foreach(v, i, x) {
			if (i > 0)
				jv_buf_add(b, ",", 1);
			jb_value(b, x, depth + 1);
		}
		jv_buf_add(b, "]", 1);
		break;
	case JSON_STRING:
		jv_buf_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		jv_buf_add(b, num, strlen(num));
		break;
	case JSON_TRUE:
		jv_buf_add(b, "true", 4);
		break;
	case JSON_FALSE:
		jv_buf_add(b, "false", 5);
		break;
	case JSON_NULL:
		jv_buf_add(b, "null", 4);
		break;
	default: {	/* a real: jansson's own formatting */
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (t == NULL)
			b->failed = 1;
		else
			jv_buf_add(b, t, strlen(t));
		free(t);
	}
	}
}

void
jv_buf_value(struct jv_buf *b, json_t *v)
{
	if (v == NULL)
		b->failed = 1;
	else
		jb_value(b, v, 0);
}

char *
jv_dumps(json_t *v)
{
	/* Answers hold victim data: no copy left behind as it grows. */
	struct jv_buf b = { NULL, 0, 0, 0, 1 };

	if (v == NULL || (!json_is_object(v) && !json_is_array(v)))
		return NULL;	/* as json_dumps without JSON_ENCODE_ANY */
	jb_value(&b, v, 0);
	jv_buf_add(&b, "", 0);
	if (b.failed) {
		jv_buf_free(&b);
		return NULL;
	}
	b.p[b.len] = '\0';
	return b.p;
}

/*
 * Jansson's check of UTF-8 (utf.c): shortest form, no surrogates, nothing
 * past U+10FFFF. NUL bytes pass (json_stringn takes them).
 */
int
jv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned char c;
	size_t k, i;
	int32_t v;

	while (p < end) {
		c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c <= 0xC1)
			return 0;
		else if (c <= 0xDF) {
			k = 2;
			v = c & 0x1F;
		} else if (c <= 0xEF) {
			k = 3;
			v = c & 0x0F;
		} else if (c <= 0xF4) {
			k = 4;
			v = c & 0x07;
		} else
			return 0;
		if ((size_t)(end - p) < k)
			return 0;
		for (i = 1; i < k; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			v = (v << 6) | (p[i] & 0x3F);
		}
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
		    (k == 3 && v < 0x800) || (k == 4 && v < 0x10000))
			return 0;
		p += k;
	}
	return 1;
}

void
jv_text_free(void *text)
{
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
}

/* Jansson's frees, wiped first (jv_wipe_jansson). */
static void
wiping_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void
jv_wipe_jansson(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}
