/*
 * Request bodies and their checks: body_json_parse (one JSON object, depth,
 * UTF-8, trailing bytes, duplicates, NUL), body_json_depth, the accepted
 * media types, and jv_check's member specs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "cases/internal.h"
#include "http/internal.h"
#include "util/jv.h"

/* Parses text (len bytes, or strlen when len is (size_t)-1). */
static enum pa_err
parse(const char *text, size_t len, int max_depth, json_t **out)
{
	const char *fr = NULL, *en = NULL;
	enum pa_err rc;

	if (len == (size_t)-1)
		len = strlen(text);
	rc = body_json_parse(text, len, max_depth, out, &fr, &en);
	if (rc != PA_OK) {
		/* Every refusal says why, in both languages. */
		ck_assert_ptr_nonnull(fr);
		ck_assert_ptr_nonnull(en);
		ck_assert_str_ne(fr, en);
		ck_assert_ptr_null(*out);
	}
	return rc;
}

#define ANYLEN ((size_t)-1)

static const struct {
	const char *name;
	const char *text;
	size_t len; /* ANYLEN: strlen */
	int ok;
} bodies[] = {
	{ "object", "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":null}}", ANYLEN, 1 },
	{ "empty object", "{}", ANYLEN, 1 },
	{ "surrounding space", " \r\n\t{} \n\t", ANYLEN, 1 },
	{ "UTF-8 text", "{\"n\":\"\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80\"}",
	    ANYLEN, 1 },
	{ "UTF-8 key", "{\"\xc3\xa9\":1}", ANYLEN, 1 },
	{ "surrogate pair escape", "{\"a\":\"\\ud83d\\ude00\"}", ANYLEN, 1 },
	{ "top-level array", "[1,2]", ANYLEN, 0 },
	{ "top-level empty array", "[]", ANYLEN, 0 },
	{ "top-level string", "\"s\"", ANYLEN, 0 },
	{ "top-level number", "1", ANYLEN, 0 },
	{ "top-level true", "true", ANYLEN, 0 },
	{ "top-level null", "null", ANYLEN, 0 },
	{ "empty", "", 0, 0 },
	{ "spaces only", "   ", ANYLEN, 0 },
	{ "truncated", "{\"a\":", ANYLEN, 0 },
	{ "trailing word", "{} x", ANYLEN, 0 },
	{ "two objects", "{}{}", ANYLEN, 0 },
	{ "trailing bracket", "{}]", ANYLEN, 0 },
	{ "trailing comma", "{},", ANYLEN, 0 },
	{ "trailing NUL byte", "{}\0", 3, 0 },
	{ "NUL byte in string", "{\"a\":\"x\0\"}", 10, 0 },
	{ "duplicate key", "{\"a\":1,\"a\":2}", ANYLEN, 0 },
	{ "duplicate nested key", "{\"o\":{\"a\":1,\"a\":1}}", ANYLEN, 0 },
	{ "NUL escape in value", "{\"a\":\"\\u0000\"}", ANYLEN, 0 },
	{ "NUL escape in key", "{\"\\u0000\":1}", ANYLEN, 0 },
	{ "lone surrogate escape", "{\"a\":\"\\ud800\"}", ANYLEN, 0 },
	{ "overlong slash", "{\"a\":\"\xc0\xaf\"}", ANYLEN, 0 },
	{ "overlong 3 bytes", "{\"a\":\"\xe0\x80\xaf\"}", ANYLEN, 0 },
	{ "lone continuation", "{\"a\":\"\x80\"}", ANYLEN, 0 },
	{ "surrogate in UTF-8", "{\"a\":\"\xed\xa0\x80\"}", ANYLEN, 0 },
	{ "truncated sequence", "{\"a\":\"\xc3\"}", ANYLEN, 0 },
	{ "above U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", ANYLEN, 0 },
	{ "byte F5", "{\"a\":\"\xf5\x80\x80\x80\"}", ANYLEN, 0 },
	{ "byte FF", "{\"a\":\"\xff\"}", ANYLEN, 0 },
	{ "invalid UTF-8 key", "{\"\xff\":1}", ANYLEN, 0 },
	{ "raw control character", "{\"a\":\"\x01\"}", ANYLEN, 0 },
	{ "single quotes", "{'a':1}", ANYLEN, 0 },
	{ "comment", "{/* x */}", ANYLEN, 0 },
};

START_TEST(test_json_parse_table)
{
	json_t *j = NULL;
	enum pa_err rc;

	rc = parse(bodies[_i].text, bodies[_i].len, 16, &j);
	if (bodies[_i].ok) {
		ck_assert_msg(rc == PA_OK, "%s: refused", bodies[_i].name);
		ck_assert_msg(json_is_object(j), "%s: not an object",
		    bodies[_i].name);
	} else {
		ck_assert_msg(rc == PA_BAD_INPUT, "%s: got %d", bodies[_i].name,
		    (int)rc);
	}
	json_decref(j);
}
END_TEST

START_TEST(test_json_parse_keeps_members)
{
	json_t *j = NULL;

	ck_assert_int_eq(
	    parse("{\"a\":1,\"b\":\"\xc3\xa9\",\"c\":[true]}", ANYLEN, 16, &j),
	    PA_OK);
	ck_assert_int_eq(json_object_size(j), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "a")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "b")),
	    "\xc3\xa9");
	ck_assert(json_is_true(json_array_get(json_object_get(j, "c"), 0)));
	json_decref(j);
}
END_TEST

START_TEST(test_json_parse_refuses_null_buffer)
{
	const char *fr = NULL, *en = NULL;
	json_t sentinel, *j = &sentinel; /* must be reset */

	ck_assert_int_eq(body_json_parse(NULL, 0, 16, &j, &fr, &en),
	    PA_BAD_INPUT);
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(fr);
	ck_assert_ptr_nonnull(en);
}
END_TEST

/* An object whose member holds depth - 1 nested arrays: depth levels. */
static char *
nested(int depth)
{
	size_t len = (size_t)depth * 2 + 16;
	char *s = malloc(len), *p = s;
	int i;

	ck_assert_ptr_nonnull(s);
	p += sprintf(p, "{\"a\":");
	for (i = 1; i < depth; i++)
		*p++ = '[';
	if (depth == 1)
		*p++ = '1';
	for (i = 1; i < depth; i++)
		*p++ = ']';
	*p++ = '}';
	*p = '\0';
	return s;
}

static const int depth_limits[] = { 2, 3, 16, 64, 256 };

START_TEST(test_json_depth_limit_is_exact)
{
	int max = depth_limits[_i];
	char *at = nested(max), *over = nested(max + 1);
	json_t *j = NULL;

	ck_assert_int_eq(body_json_depth(at, strlen(at)), max);
	ck_assert_int_eq(body_json_depth(over, strlen(over)), max + 1);
	ck_assert_msg(parse(at, ANYLEN, max, &j) == PA_OK,
	    "depth %d refused at max %d", max, max);
	json_decref(j);
	j = NULL;
	ck_assert_msg(parse(over, ANYLEN, max, &j) == PA_BAD_INPUT,
	    "depth %d accepted at max %d", max + 1, max);
	free(at);
	free(over);
}
END_TEST

START_TEST(test_json_depth_far_past_jansson_limit_is_refused)
{
	char *deep = nested(100000);
	json_t *j = NULL;

	ck_assert_int_eq(parse(deep, ANYLEN, 16, &j), PA_BAD_INPUT);
	free(deep);
}
END_TEST

static const struct {
	const char *text;
	int depth;
} depths[] = {
	{ "", 0 },
	{ "1", 0 },
	{ "{}", 1 },
	{ "[]", 1 },
	{ "{\"a\":[]}", 2 },
	{ "[[],[[]]]", 3 },
	{ "{\"a\":{},\"b\":{}}", 2 },
	{ "{\"a\":\"[[[[{{{{\"}", 1 },
	{ "{\"[[[[\":1}", 1 },
	{ "{\"a\":\"]]]]}}}}\",\"b\":[[]]}", 3 },
	{ "{\"a\":\"\\\"[[[\"}", 1 },         /* escaped quote */
	{ "{\"a\\\"[\":\"x\"}", 1 },          /* in a key */
	{ "{\"a\":\"\\\\\",\"b\":[[]]}", 3 }, /* escaped backslash */
	{ "{\"a\":\"\\\\\\\"[[[\"}", 1 },     /* \\ then \" */
	{ "{\"a\":\"\\u005b[\"}", 1 },
};

START_TEST(test_json_depth_counts_only_brackets_outside_strings)
{
	ck_assert_msg(body_json_depth(depths[_i].text,
	                  strlen(depths[_i].text)) == depths[_i].depth,
	    "%s: %d, want %d", depths[_i].text,
	    body_json_depth(depths[_i].text, strlen(depths[_i].text)),
	    depths[_i].depth);
}
END_TEST

START_TEST(test_json_depth_ignores_bracket_strings_when_parsing)
{
	json_t *j = NULL;

	/* Twenty brackets in a string are not nesting. */
	ck_assert_int_eq(
	    parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[\"}", ANYLEN, 2, &j), PA_OK);
	json_decref(j);
}
END_TEST

static const struct {
	const char *ct;
	int ok;
} ctypes[] = {
	{ "application/json", 1 },
	{ "application/json; charset=utf-8", 1 },
	{ "application/json;charset=utf-8", 1 },
	{ "application/json; charset=UTF-8", 1 },
	{ "application/json; charset=\"utf-8\"", 1 },
	{ "Application/JSON", 1 },
	{ "application/json ", 1 },
	{ " application/json", 1 },
	{ NULL, 0 },
	{ "", 0 },
	{ "text/plain", 0 },
	{ "text/json", 0 },
	{ "application/jsonp", 0 },
	{ "application/json-patch+json", 0 },
	{ "application/x-www-form-urlencoded", 0 },
	{ "multipart/form-data; boundary=x", 0 },
	{ "application/json; charset=latin1", 0 },
	{ "application/json; charset=utf-16", 0 },
	{ "application/json; charset=utf-8x", 0 },
	{ "application/json; charset=utf8", 0 },
	{ "application/json;", 0 },
	{ "application/json; boundary=x", 0 },
	{ "application", 0 },
};

START_TEST(test_json_content_type_table)
{
	ck_assert_msg(body_content_type_ok(ctypes[_i].ct) == ctypes[_i].ok,
	    "\"%s\": want %d", ctypes[_i].ct ? ctypes[_i].ct : "(null)",
	    ctypes[_i].ok);
}
END_TEST

/* --- jv_check ---------------------------------------------------------- */

static const struct jv_field spec[] = {
	{ "name", JV_STRING, JV_REQUIRED | JV_NONEMPTY, 5 },
	{ "note", JV_STRING, JV_NULLABLE, 0 },
	{ "age", JV_INTEGER, 0, 0 },
	{ "active", JV_BOOLEAN, 0, 0 },
	{ "tags", JV_ARRAY, 0, 3 },
	{ "meta", JV_OBJECT, 0, 0 },
	{ "any", JV_ANY, 0, 0 },
	{ NULL, JV_ANY, 0, 0 },
};

static const struct {
	const char *json;
	enum pa_err want;
	const char *field; /* NULL: no field named */
} checks[] = {
	{ "{\"name\":\"a\"}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"note\":\"n\",\"age\":3,\"active\":false,"
	  "\"tags\":[1,2,3],\"meta\":{},\"any\":[1]}",
	    PA_OK, NULL },
	/* Unknown members: 400, named nowhere, even before a missing one. */
	{ "{\"name\":\"a\",\"extra\":1}", PA_BAD_INPUT, NULL },
	{ "{\"zzz\":1}", PA_BAD_INPUT, NULL },
	{ "{\"Name\":\"a\"}", PA_BAD_INPUT, NULL },
	/* Missing, mistyped, null. */
	{ "{}", PA_INVALID, "name" },
	{ "{\"note\":\"n\"}", PA_INVALID, "name" },
	{ "{\"name\":1}", PA_INVALID, "name" },
	{ "{\"name\":[\"a\"]}", PA_INVALID, "name" },
	{ "{\"name\":null}", PA_INVALID, "name" },
	{ "{\"name\":\"a\",\"note\":null}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"note\":1}", PA_INVALID, "note" },
	{ "{\"name\":\"a\",\"age\":null}", PA_INVALID, "age" },
	{ "{\"name\":\"a\",\"age\":\"1\"}", PA_INVALID, "age" },
	{ "{\"name\":\"a\",\"age\":1.5}", PA_INVALID, "age" },
	{ "{\"name\":\"a\",\"age\":1.0}", PA_INVALID, "age" },
	{ "{\"name\":\"a\",\"age\":-3}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"active\":1}", PA_INVALID, "active" },
	{ "{\"name\":\"a\",\"active\":\"true\"}", PA_INVALID, "active" },
	{ "{\"name\":\"a\",\"active\":true}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"tags\":{}}", PA_INVALID, "tags" },
	{ "{\"name\":\"a\",\"tags\":[]}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"tags\":[1,2,3,4]}", PA_INVALID, "tags" },
	{ "{\"name\":\"a\",\"meta\":[]}", PA_INVALID, "meta" },
	{ "{\"name\":\"a\",\"any\":\"x\"}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"any\":null}", PA_INVALID, "any" },
	/* Length in characters, not bytes. */
	{ "{\"name\":\"abcde\"}", PA_OK, NULL },
	{ "{\"name\":\"abcdef\"}", PA_INVALID, "name" },
	{ "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", PA_OK,
	    NULL },
	{ "{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	    PA_INVALID, "name" },
	{ "{\"name\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}",
	    PA_OK, NULL },
	{ "{\"note\":\"" /* no maximum: long is fine */
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	  "\"name\":\"a\"}",
	    PA_OK, NULL },
	/* Not empty, not only blanks. */
	{ "{\"name\":\"\"}", PA_INVALID, "name" },
	{ "{\"name\":\" \"}", PA_INVALID, "name" },
	{ "{\"name\":\" \\t\\r\\n\"}", PA_INVALID, "name" },
	{ "{\"name\":\" a \"}", PA_OK, NULL },
	{ "{\"name\":\"a\",\"note\":\"\"}", PA_OK, NULL },
};

START_TEST(test_jv_check_table)
{
	struct jv_error err = { "unset", NULL, NULL };
	json_error_t jerr;
	json_t *j;
	enum pa_err rc;

	j = json_loads(checks[_i].json, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(j != NULL, "row %d: %s", _i, jerr.text);
	rc = jv_check(j, spec, &err);
	ck_assert_msg(rc == checks[_i].want, "%s: got %d, want %d",
	    checks[_i].json, (int)rc, (int)checks[_i].want);
	if (checks[_i].field == NULL)
		ck_assert_msg(err.field == NULL, "%s: field %s named",
		    checks[_i].json, err.field);
	else
		ck_assert_str_eq(err.field ? err.field : "(null)",
		    checks[_i].field);
	if (rc != PA_OK) {
		ck_assert_ptr_nonnull(err.fr);
		ck_assert_ptr_nonnull(err.en);
		ck_assert_str_ne(err.fr, err.en);
	}
	json_decref(j);
}
END_TEST

START_TEST(test_jv_check_refuses_non_objects)
{
	struct jv_error err;
	json_t *j = json_pack("[i]", 1);

	ck_assert_int_eq(jv_check(j, spec, &err), PA_BAD_INPUT);
	ck_assert_ptr_null(err.field);
	json_decref(j);
	ck_assert_int_eq(jv_check(NULL, spec, &err), PA_BAD_INPUT);
}
END_TEST

START_TEST(test_jv_check_error_messages_hide_unknown_keys)
{
	struct jv_error err;
	json_t *j = json_pack("{s:s, s:i}", "name", "a", "secret_member", 1);

	ck_assert_int_eq(jv_check(j, spec, &err), PA_BAD_INPUT);
	ck_assert_ptr_null(strstr(err.fr, "secret_member"));
	ck_assert_ptr_null(strstr(err.en, "secret_member"));
	json_decref(j);
}
END_TEST

static const struct {
	const char *s;
	size_t n;
} lens[] = {
	{ "", 0 },
	{ "abc", 3 },
	{ "\xc3\xa9", 1 },
	{ "\xc3\xa9t\xc3\xa9", 3 },
	{ "\xe6\x97\xa5\xe6\x9c\xac", 2 },
	{ "\xf0\x9f\x98\x80", 1 },
};

START_TEST(test_jv_utf8_len_counts_characters)
{
	ck_assert_uint_eq(jv_utf8_len(lens[_i].s), lens[_i].n);
}
END_TEST

/* --- jv_dumps: the bytes of json_dumps(JSON_COMPACT) ------------------- */

static void
dumps_same(json_t *v, const char *what)
{
	char *want = json_dumps(v, JSON_COMPACT);
	char *got = jv_dumps(v);

	ck_assert_msg(want != NULL && got != NULL, "%s: no text", what);
	ck_assert_msg(strcmp(want, got) == 0, "%s:\n%s\n%s", what, want, got);
	free(want);
	free(got);
	json_decref(v);
}

START_TEST(test_jv_dumps_writes_what_jansson_writes)
{
	char every[0x80];
	json_t *o, *deep;
	int i;

	for (i = 0; i < 0x7f; i++)
		every[i] = (char)(i + 1);
	every[0x7f] = '\0';
	dumps_same(json_pack("{s:s}", "every", every), "every ASCII byte");
	dumps_same(json_pack("[s%]", "a\0b", (size_t)3), "a NUL");
	dumps_same(json_pack("{s:s, s:s, s:s}", "é\"\\/\t", "Maïga-Wfq",
	    "emoji", "\xf0\x9f\x98\x80 \xe2\x80\xa8", "", ""), "UTF-8, keys");
	dumps_same(json_pack("{s:I, s:I, s:I, s:i, s:b, s:b, s:n}", "max",
	    (json_int_t)INT64_MAX, "min", (json_int_t)INT64_MIN, "zero",
	    (json_int_t)0, "neg", -42, "t", 1, "f", 0, "null"), "scalars");
	dumps_same(json_pack("[f, f, f, f]", 1.5, 3.0, 1e300, -0.1), "reals");
	dumps_same(json_pack("{s:{}, s:[], s:[{}, [], [[]]]}", "o", "a", "n"),
	    "empty containers");
	dumps_same(json_object(), "an empty object");
	dumps_same(json_array(), "an empty array");
	o = json_object();
	for (i = 0; i < 300; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%03d", 299 - i);
		json_object_set_new(o, k, json_pack("{s:s, s:i}", "v",
		    "une valeur assez longue pour agrandir le tampon", "i", i));
	}
	dumps_same(o, "300 members, in insertion order");
	deep = json_array();
	for (i = 0; i < 100; i++)
		deep = json_pack("[o]", deep);
	dumps_same(deep, "100 levels");
	deep = json_string("x");
	ck_assert_ptr_null(jv_dumps(deep));
	json_decref(deep);
	ck_assert_ptr_null(jv_dumps(NULL));
}
END_TEST

/* --- cases_sealed_parse: a case row's sealed fields, path:hex,... ------- */

static const struct {
	const char *in;
	const char *want;	/* compact JSON, or NULL: refused */
} sealed[] = {
	{ "", "{}" },
	{ "victim.given_name:0a1b", "{\"victim.given_name\":\"0a1b\"}" },
	{ "a.b:00,c.d:ff", "{\"a.b\":\"00\",\"c.d\":\"ff\"}" },
	{ "a.b", NULL },
	{ ":00", NULL },
	{ "a.b:", NULL },
	{ "a.b:0g", NULL },
	{ "a.b:AB", NULL },
	{ "a.b:00,", NULL },
	{ "a.b:00,,c.d:11", NULL },
	{ "a.b:00;c.d:11", NULL },
};

/*
 * The text renderer takes decrypted text as a string exactly when
 * json_stringn does: every 1-, 2- and 3-byte sequence, and 4-byte ones
 * around the edges (surrogates, overlong forms, past U+10FFFF).
 */
/*
 * jv_buf's text is a C string after every add (the cases module passes its
 * array literals to libpq as text): after an empty first add, a short one,
 * and adds that make it grow, with and without wiping.
 */
START_TEST(test_jv_buf_is_always_nul_terminated)
{
	int wipe;

	for (wipe = 0; wipe <= 1; wipe++) {
		struct jv_buf b = { NULL, 0, 0, 0, wipe };
		size_t i, cap;
		char want[64];

		jv_buf_add(&b, "", 0);
		ck_assert_ptr_nonnull(b.p);
		ck_assert_uint_eq(b.len, 0);
		ck_assert_int_eq(b.p[0], '\0');
		jv_buf_add(&b, "{a", 2);
		ck_assert_str_eq(b.p, "{a");
		cap = b.cap;
		for (i = 0; b.cap == cap; i++) {
			ck_assert_uint_lt(i, 10000);
			/* over the buffer's old bytes, a terminator must move */
			memset(b.p + b.len + 1, 'x', b.cap - b.len - 1);
			jv_buf_add(&b, ",b", 2);
			ck_assert_int_eq(b.p[b.len], '\0');
		}
		ck_assert_uint_eq(strlen(b.p), b.len);
		snprintf(want, sizeof(want), "{a,b,b");
		ck_assert_int_eq(strncmp(b.p, want, strlen(want)), 0);
		ck_assert_int_eq(b.failed, 0);
		jv_buf_free(&b);
	}
}
END_TEST

START_TEST(test_jv_utf8_valid_agrees_with_jansson)
{
	static const unsigned char lead4[] = { 0xF0, 0xF4, 0xF5, 0xFF };
	static const unsigned char mid[] = { 0x80, 0x8F, 0x90, 0xBF, 0xC0 };
	unsigned char b[4];
	unsigned int i, j, k, l;
	json_t *v;

	for (i = 0; i < 256; i++)
		for (j = 0; j < 256; j++) {
			b[0] = (unsigned char)i;
			b[1] = (unsigned char)j;
			for (k = 1; k <= 2; k++) {
				v = json_stringn((const char *)b, k);
				ck_assert_int_eq(jv_utf8_valid((const char *)b,
				    k), v != NULL);
				json_decref(v);
			}
			for (k = 0x80; k < 0xC1; k += 0x3F) {
				b[2] = (unsigned char)k;
				v = json_stringn((const char *)b, 3);
				ck_assert_int_eq(jv_utf8_valid((const char *)b,
				    3), v != NULL);
				json_decref(v);
			}
		}
	for (i = 0; i < sizeof(lead4); i++)
		for (j = 0; j < sizeof(mid); j++)
			for (l = 0; l < sizeof(mid); l++) {
				b[0] = lead4[i];
				b[1] = mid[j];
				b[2] = mid[l];
				b[3] = 0x80;
				v = json_stringn((const char *)b, 4);
				ck_assert_int_eq(jv_utf8_valid((const char *)b,
				    4), v != NULL);
				json_decref(v);
			}
}
END_TEST

START_TEST(test_cases_sealed_parse_table)
{
	json_t *o = cases_sealed_parse(sealed[_i].in);
	char *got;

	if (sealed[_i].want == NULL) {
		ck_assert_msg(o == NULL, "%s: accepted", sealed[_i].in);
		return;
	}
	ck_assert_msg(o != NULL, "%s: refused", sealed[_i].in);
	got = json_dumps(o, JSON_COMPACT);
	ck_assert_str_eq(got, sealed[_i].want);
	free(got);
	json_decref(o);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_json_parse_table, 0,
	    (int)(sizeof(bodies) / sizeof(bodies[0])));
	tcase_add_test(tc, test_json_parse_keeps_members);
	tcase_add_test(tc, test_json_parse_refuses_null_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("depth");
	tcase_add_loop_test(tc, test_json_depth_limit_is_exact, 0,
	    (int)(sizeof(depth_limits) / sizeof(depth_limits[0])));
	tcase_add_test(tc, test_json_depth_far_past_jansson_limit_is_refused);
	tcase_add_loop_test(tc,
	    test_json_depth_counts_only_brackets_outside_strings, 0,
	    (int)(sizeof(depths) / sizeof(depths[0])));
	tcase_add_test(tc,
	    test_json_depth_ignores_bracket_strings_when_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("content_type");
	tcase_add_loop_test(tc, test_json_content_type_table, 0,
	    (int)(sizeof(ctypes) / sizeof(ctypes[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("jv");
	tcase_add_loop_test(tc, test_jv_check_table, 0,
	    (int)(sizeof(checks) / sizeof(checks[0])));
	tcase_add_test(tc, test_jv_check_refuses_non_objects);
	tcase_add_test(tc, test_jv_check_error_messages_hide_unknown_keys);
	tcase_add_loop_test(tc, test_jv_utf8_len_counts_characters, 0,
	    (int)(sizeof(lens) / sizeof(lens[0])));
	tcase_add_test(tc, test_jv_dumps_writes_what_jansson_writes);
	tcase_add_test(tc, test_jv_utf8_valid_agrees_with_jansson);
	tcase_add_test(tc, test_jv_buf_is_always_nul_terminated);
	tcase_add_loop_test(tc, test_cases_sealed_parse_table, 0,
	    (int)(sizeof(sealed) / sizeof(sealed[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
