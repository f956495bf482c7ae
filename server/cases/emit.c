/*
 * The emitter a rendered case is written through: one renderer, two
 * outputs. As a Jansson tree for the writes that answer with the case and
 * change it further (EM_TREE), or as JSON text for the read (EM_TEXT), the
 * same bytes as jv_dumps() of that tree: members in the order they are
 * emitted, strings escaped by jv_buf_string(), values that exist as JSON
 * (clear fields, details) dumped by jv_buf_value(). Every decision of what
 * a reader sees is taken once, by the renderer, above this file.
 *
 * The text is victim data: its buffer is wiped as it grows and when freed.
 * A failure (memory, a value no JSON) sticks: em_failed() is then 1, and
 * the output is dropped whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/jv.h"
#include "internal.h"

void
em_init(struct emit *e, enum em_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->buf.wipe = 1;
}

void
em_free(struct emit *e)
{
	int i;

	jv_buf_free(&e->buf);
	for (i = 0; i < e->depth; i++)
		e->stack[i] = NULL;	/* borrowed from root */
	json_decref(e->root);
	e->root = NULL;
	e->depth = 0;
}

int
em_failed(const struct emit *e)
{
	return e->failed || e->buf.failed;
}

/* Text: the comma and key before a value at the current level. */
static void
text_key(struct emit *e, const char *key)
{
	if (e->depth > 0 && e->count[e->depth - 1]++ > 0)
		jv_buf_add(&e->buf, ",", 1);
	if (key != NULL) {
		jv_buf_string(&e->buf, key, strlen(key));
		jv_buf_add(&e->buf, ":", 1);
	}
}

/* Tree: adds v (owned) at the current level; NULL is a failure. */
static void
tree_add(struct emit *e, const char *key, json_t *v)
{
	json_t *parent;

	if (v == NULL || e->failed) {
		e->failed = 1;
		json_decref(v);
		return;
	}
	if (e->depth == 0) {
		if (e->root != NULL)
			e->failed = 1;
		else
			e->root = json_incref(v);
		json_decref(v);
		return;
	}
	parent = e->stack[e->depth - 1];
	if (key != NULL ? json_object_set_new(parent, key, v) != 0 :
			  json_array_append_new(parent, v) != 0)
		e->failed = 1;
}

static void
open_container(struct emit *e, const char *key, int object)
{
	json_t *c;

	if (e->depth >= EM_DEPTH) {
		e->failed = 1;
		return;
	}
	if (e->kind == EM_TEXT) {
		text_key(e, key);
		jv_buf_add(&e->buf, object ? "{" : "[", 1);
	} else {
		c = object ? json_object() : json_array();
		tree_add(e, key, json_incref(c));
		e->stack[e->depth] = c;
		json_decref(c);	/* the parent (or root) holds it */
		if (e->failed)
			return;
	}
	e->object[e->depth] = (unsigned char)object;
	e->count[e->depth] = 0;
	e->depth++;
}

void
em_obj(struct emit *e, const char *key)
{
	open_container(e, key, 1);
}

void
em_arr(struct emit *e, const char *key)
{
	open_container(e, key, 0);
}

void
em_end(struct emit *e)
{
	if (e->depth == 0) {
		e->failed = 1;
		return;
	}
	e->depth--;
	if (e->kind == EM_TEXT)
		jv_buf_add(&e->buf, e->object[e->depth] ? "}" : "]", 1);
	e->stack[e->depth] = NULL;
}

void
em_str(struct emit *e, const char *key, const char *s)
{
	if (s == NULL) {
		e->failed = 1;	/* as json_pack's "s" with NULL */
		return;
	}
	(void)em_strn(e, key, s, strlen(s));
}

void
em_str_opt(struct emit *e, const char *key, const char *s)
{
	if (s != NULL)
		em_str(e, key, s);
}

int
em_strn(struct emit *e, const char *key, const char *s, size_t n)
{
	json_t *v;

	if (e->kind == EM_TEXT) {
		if (!jv_utf8_valid(s, n))
			return -1;
		text_key(e, key);
		jv_buf_string(&e->buf, s, n);
		return 0;
	}
	if ((v = json_stringn(s, n)) == NULL)
		return -1;
	tree_add(e, key, v);
	return 0;
}

void
em_int(struct emit *e, const char *key, long long v)
{
	char num[32];
	int n;

	if (e->kind == EM_TREE) {
		tree_add(e, key, json_integer((json_int_t)v));
		return;
	}
	n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, (json_int_t)v);
	text_key(e, key);
	jv_buf_add(&e->buf, num, n > 0 ? (size_t)n : 0);
}

void
em_bool(struct emit *e, const char *key, int v)
{
	if (e->kind == EM_TREE) {
		tree_add(e, key, json_boolean(v));
		return;
	}
	text_key(e, key);
	jv_buf_add(&e->buf, v ? "true" : "false", v ? 4 : 5);
}

void
em_json(struct emit *e, const char *key, json_t *v)
{
	if (v == NULL) {
		e->failed = 1;
		return;
	}
	if (e->kind == EM_TREE) {
		tree_add(e, key, json_incref(v));
		return;
	}
	text_key(e, key);
	jv_buf_value(&e->buf, v);
}

/*
 * Text that dumps as itself: a string with no byte that needs escaping
 * (no '"', '\\' nor control byte) in UTF-8 jansson takes, or an integer
 * without sign of zero or leading zero that fits json_int_t. For those,
 * json_loadb then the dump gives the same bytes back.
 */
static int
dumps_as_itself(const char *s, size_t n)
{
	size_t i, digits;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		for (i = 1; i < n - 1; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c == '"' || c == '\\')
				return 0;
		}
		return jv_utf8_valid(s + 1, n - 2);
	}
	i = n > 0 && s[0] == '-' ? 1 : 0;
	digits = n - i;
	if (digits == 0 || digits > 18 || (s[i] == '0' && digits > 1) ||
	    (s[i] == '0' && i == 1))
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
em_json_text(struct emit *e, const char *key, const char *s, size_t n)
{
	json_t *v;

	if (e->kind == EM_TEXT && dumps_as_itself(s, n)) {
		text_key(e, key);
		jv_buf_add(&e->buf, s, n);
		return 0;
	}
	if ((v = json_loadb(s, n, JSON_DECODE_ANY, NULL)) == NULL)
		return -1;
	if (e->kind == EM_TREE)
		tree_add(e, key, v);
	else {
		text_key(e, key);
		jv_buf_value(&e->buf, v);
		json_decref(v);
	}
	return 0;
}

json_t *
em_take_tree(struct emit *e)
{
	json_t *v = NULL;

	if (e->kind == EM_TREE && !em_failed(e) && e->depth == 0) {
		v = e->root;
		e->root = NULL;
	}
	em_free(e);
	return v;
}

char *
em_take_text(struct emit *e, size_t *len)
{
	char *p = NULL;

	*len = 0;
	if (e->kind == EM_TEXT && e->depth == 0) {
		jv_buf_add(&e->buf, "", 0);	/* room for the NUL */
		if (!em_failed(e) && e->buf.p != NULL) {
			e->buf.p[e->buf.len] = '\0';
			p = e->buf.p;
			*len = e->buf.len;
			e->buf.p = NULL;
			e->buf.len = e->buf.cap = 0;
		}
	}
	em_free(e);
	return p;
}
