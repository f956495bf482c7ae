/*
 * The OpenAPI document (server/http/openapi.json, embedded in the binary)
 * against the router's table, in both directions: every route is documented
 * with its path parameters and its request body exactly as the body spec
 * accepts it (members, required ones, types, limits), and every documented
 * operation is a route. Also: valid JSON, OpenAPI 3.1, the embedded bytes
 * are the source file's, and every error answer has the one error shape.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "http/internal.h"
#include "util/jv.h"

static json_t *doc;

static void
setup(void)
{
	json_error_t e;

	doc = json_loadb(http_openapi_json, http_openapi_json_len,
	    JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(doc != NULL, "openapi.json: line %d: %s", e.line,
	    e.text);
}

static void
teardown(void)
{
	json_decref(doc);
	doc = NULL;
}

/* A string member, or "" (so that a missing one fails a comparison). */
static const char *
str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static void
lower(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/* The operation object of a route, or NULL. */
static json_t *
op_of(const struct route *rt)
{
	char m[16];

	lower(rt->method, m, sizeof(m));
	return json_object_get(json_object_get(json_object_get(doc, "paths"),
	    rt->pattern), m);
}

/* Follows a local "$ref" ("#/components/..."), once or more. */
static json_t *
deref(json_t *o)
{
	const char *ref;
	char buf[256], *p, *tok;
	json_t *cur;
	int hops;

	for (hops = 0; hops < 8 && o != NULL; hops++) {
		ref = json_string_value(json_object_get(o, "$ref"));
		if (ref == NULL)
			return o;
		ck_assert_msg(strncmp(ref, "#/", 2) == 0, "non-local $ref %s",
		    ref);
		snprintf(buf, sizeof(buf), "%s", ref + 2);
		cur = doc;
		for (tok = strtok_r(buf, "/", &p); tok != NULL;
		    tok = strtok_r(NULL, "/", &p))
			cur = json_object_get(cur, tok);
		ck_assert_msg(cur != NULL, "dangling $ref %s", ref);
		o = cur;
	}
	return o;
}

START_TEST(test_openapi_is_json_3_1)
{
	const char *v = json_string_value(json_object_get(doc, "openapi"));
	char path[512], *text;
	FILE *f;
	long n;

	ck_assert_ptr_nonnull(v);
	ck_assert_msg(strncmp(v, "3.1.", 4) == 0, "openapi is %s", v);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(
	    json_object_get(doc, "info"), "title")));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(
	    json_object_get(doc, "info"), "version")));
	/* The binary serves the file as it is in the tree. */
	snprintf(path, sizeof(path), "%s/server/http/openapi.json",
	    PASSERELLE_SOURCE_DIR);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	ck_assert_int_eq(n, (long)http_openapi_json_len);
	text = malloc((size_t)n);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	ck_assert_msg(memcmp(text, http_openapi_json, (size_t)n) == 0,
	    "the embedded document differs from %s: rebuild", path);
	free(text);
}
END_TEST

/* Every route (method + pattern) is a documented operation. */
START_TEST(test_every_route_is_documented)
{
	const struct route *rt = &http_routes[_i];

	ck_assert_msg(op_of(rt) != NULL, "%s %s is not in openapi.json",
	    rt->method, rt->pattern);
	ck_assert_msg(json_is_object(json_object_get(op_of(rt), "responses")),
	    "%s %s has no responses", rt->method, rt->pattern);
}
END_TEST

/* Every documented operation is a route of the router's table. */
START_TEST(test_every_operation_is_a_route)
{
	static const char *const methods[] = { "get", "put", "post", "delete",
		"options", "head", "patch", "trace" };
	const char *path, *key;
	json_t *item, *v;
	char m[16];
	size_t i, k, nops = 0;
	int found;

	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		json_object_foreach(item, key, v) {
			int is_method = 0;

			for (k = 0; k < sizeof(methods) / sizeof(methods[0]);
			    k++)
				is_method |= strcmp(key, methods[k]) == 0;
			if (!is_method) {
				ck_assert_msg(strcmp(key, "parameters") == 0 ||
					strcmp(key, "summary") == 0 ||
					strcmp(key, "description") == 0,
				    "%s: unexpected member %s", path, key);
				continue;
			}
			found = 0;
			for (i = 0; i < http_nroutes && !found; i++) {
				lower(http_routes[i].method, m, sizeof(m));
				found = strcmp(http_routes[i].pattern, path) ==
					0 && strcmp(m, key) == 0;
			}
			ck_assert_msg(found, "openapi.json documents %s %s, "
			    "which is not a route", key, path);
			nops++;
		}
	}
	/* Both directions hold, and no route is documented twice. */
	ck_assert_uint_eq(nops, http_nroutes);
}
END_TEST

/* Each {name} of the pattern is a required path parameter; no other. */
START_TEST(test_path_parameters_are_declared)
{
	const struct route *rt = &http_routes[_i];
	json_t *params = json_object_get(op_of(rt), "parameters"), *p;
	char name[64];
	const char *s, *e;
	size_t i, npath = 0, declared = 0;

	for (s = strchr(rt->pattern, '{'); s != NULL; s = strchr(e, '{')) {
		e = strchr(s, '}');
		ck_assert_ptr_nonnull(e);
		snprintf(name, sizeof(name), "%.*s", (int)(e - s - 1), s + 1);
		npath++;
		json_array_foreach(params, i, p) {
			p = deref(p);
			if (strcmp(str(p, "in"), "path") == 0 &&
			    strcmp(str(p, "name"), name) == 0) {
				ck_assert_msg(json_is_true(json_object_get(p,
				    "required")), "%s %s: {%s} not required",
				    rt->method, rt->pattern, name);
				declared++;
			}
		}
	}
	ck_assert_msg(declared == npath, "%s %s: %zu of %zu path parameters "
	    "declared", rt->method, rt->pattern, declared, npath);
	json_array_foreach(params, i, p) {
		p = deref(p);
		if (strcmp(str(p, "in"), "path") == 0)
			npath--;
	}
	ck_assert_msg(npath == 0, "%s %s declares path parameters that its "
	    "pattern lacks", rt->method, rt->pattern);
}
END_TEST

static const char *
jv_type_name(enum jv_type t)
{
	switch (t) {
	case JV_STRING:
		return "string";
	case JV_INTEGER:
		return "integer";
	case JV_BOOLEAN:
		return "boolean";
	case JV_OBJECT:
		return "object";
	case JV_ARRAY:
		return "array";
	case JV_ANY:
		return NULL;
	}
	return NULL;
}

/* Does the schema's "type" say t (and "null" exactly when nullable)? */
static int
type_matches(json_t *type, const char *t, int nullable)
{
	size_t i, n;
	int has_t = 0, has_null = 0;
	json_t *v;

	if (t == NULL)
		return type == NULL;
	if (json_is_string(type))
		return !nullable && strcmp(json_string_value(type), t) == 0;
	if (!json_is_array(type))
		return 0;
	n = json_array_size(type);
	json_array_foreach(type, i, v) {
		has_t |= json_is_string(v) && strcmp(json_string_value(v), t) == 0;
		has_null |= json_is_string(v) &&
		    strcmp(json_string_value(v), "null") == 0;
	}
	return has_t && has_null == nullable && n == (size_t)(1 + nullable);
}

/*
 * The documented request body is the body spec: the same members, the same
 * required ones, the same types and limits, and nothing else accepted.
 */
START_TEST(test_request_bodies_match_specs)
{
	const struct route *rt = &http_routes[_i];
	json_t *body = deref(json_object_get(op_of(rt), "requestBody"));
	json_t *schema, *props, *req, *prop, *v;
	const struct jv_field *f;
	size_t i, nspec = 0, nreq = 0;
	int want;

	if (rt->body == NULL) {
		ck_assert_msg(body == NULL, "%s %s takes no body but documents "
		    "one", rt->method, rt->pattern);
		return;
	}
	ck_assert_msg(body != NULL, "%s %s: request body undocumented",
	    rt->method, rt->pattern);
	ck_assert(json_is_true(json_object_get(body, "required")));
	schema = deref(json_object_get(json_object_get(json_object_get(body,
	    "content"), "application/json"), "schema"));
	ck_assert_msg(schema != NULL, "%s %s: no application/json schema",
	    rt->method, rt->pattern);
	ck_assert_str_eq(json_string_value(json_object_get(schema, "type")),
	    "object");
	ck_assert_msg(json_is_false(json_object_get(schema,
	    "additionalProperties")), "%s %s: unknown members are refused, "
	    "say additionalProperties: false", rt->method, rt->pattern);
	props = json_object_get(schema, "properties");
	req = json_object_get(schema, "required");
	for (f = rt->body; f->name != NULL; f++) {
		nspec++;
		prop = deref(json_object_get(props, f->name));
		ck_assert_msg(prop != NULL, "%s %s: member %s undocumented",
		    rt->method, rt->pattern, f->name);
		ck_assert_msg(type_matches(json_object_get(prop, "type"),
		    jv_type_name(f->type), (f->flags & JV_NULLABLE) != 0),
		    "%s %s: member %s has the wrong type", rt->method,
		    rt->pattern, f->name);
		if (f->type == JV_STRING && f->max > 0)
			ck_assert_msg(json_integer_value(json_object_get(prop,
			    "maxLength")) == (json_int_t)f->max,
			    "%s %s: %s maxLength is not %zu", rt->method,
			    rt->pattern, f->name, f->max);
		if (f->type == JV_ARRAY && f->max > 0)
			ck_assert_msg(json_integer_value(json_object_get(prop,
			    "maxItems")) == (json_int_t)f->max,
			    "%s %s: %s maxItems is not %zu", rt->method,
			    rt->pattern, f->name, f->max);
		want = (f->flags & JV_REQUIRED) != 0;
		json_array_foreach(req, i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), f->name) == 0) {
				ck_assert_msg(want, "%s %s: %s documented as "
				    "required, it is optional", rt->method,
				    rt->pattern, f->name);
				want = 0;
				nreq++;
			}
		ck_assert_msg(!want, "%s %s: %s is required, not documented "
		    "so", rt->method, rt->pattern, f->name);
	}
	ck_assert_msg(json_object_size(props) == nspec, "%s %s documents "
	    "members that the body spec refuses", rt->method, rt->pattern);
	ck_assert_msg(json_array_size(req) == nreq, "%s %s: required lists "
	    "unknown members", rt->method, rt->pattern);
}
END_TEST

/* Routes without a session say so (security: []); the others inherit it. */
START_TEST(test_security_matches_routes)
{
	const struct route *rt = &http_routes[_i];
	json_t *sec = json_object_get(op_of(rt), "security");

	if (rt->flags & ROUTE_AUTH)
		ck_assert_msg(sec == NULL, "%s %s needs a session",
		    rt->method, rt->pattern);
	else
		ck_assert_msg(json_is_array(sec) && json_array_size(sec) == 0,
		    "%s %s needs no session: security: []", rt->method,
		    rt->pattern);
}
END_TEST

/* Every documented 4xx or 5xx answer has the API's one error shape. */
START_TEST(test_errors_have_the_error_shape)
{
	const struct route *rt = &http_routes[_i];
	json_t *resp, *r, *schema, *err;
	const char *code, *ref;
	int n = 0;

	resp = json_object_get(op_of(rt), "responses");
	json_object_foreach(resp, code, r) {
		if (code[0] != '4' && code[0] != '5')
			continue;
		n++;
		r = deref(r);
		schema = json_object_get(json_object_get(json_object_get(r,
		    "content"), "application/json"), "schema");
		ref = json_string_value(json_object_get(schema, "$ref"));
		ck_assert_msg(ref != NULL &&
			strcmp(ref, "#/components/schemas/Error") == 0,
		    "%s %s: %s does not use the Error schema", rt->method,
		    rt->pattern, code);
	}
	if (rt->flags & ROUTE_API)
		ck_assert_msg(n > 0, "%s %s documents no error", rt->method,
		    rt->pattern);
	err = json_object_get(json_object_get(json_object_get(deref(
	    json_object_get(json_object_get(json_object_get(doc,
	    "components"), "schemas"), "Error")), "properties"), "error"),
	    "required");
	ck_assert_uint_eq(json_array_size(err), 2);
}
END_TEST

static Suite *
openapi_suite(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("document");
	int n = (int)http_nroutes;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_openapi_is_json_3_1);
	tcase_add_loop_test(tc, test_every_route_is_documented, 0, n);
	tcase_add_test(tc, test_every_operation_is_a_route);
	tcase_add_loop_test(tc, test_path_parameters_are_declared, 0, n);
	tcase_add_loop_test(tc, test_request_bodies_match_specs, 0, n);
	tcase_add_loop_test(tc, test_security_matches_routes, 0, n);
	tcase_add_loop_test(tc, test_errors_have_the_error_shape, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(openapi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
