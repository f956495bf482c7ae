/*
 * What every answer shares: the language chosen from Accept-Language, the
 * error body of the API contract, and the security headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>
#include <microhttpd.h>

#include "http/internal.h"

static const struct {
	const char *al;
	int en;
} langs[] = {
	{ NULL, 0 },
	{ "", 0 },
	{ "fr", 0 },
	{ "en", 1 },
	{ "EN", 1 },
	{ "en-GB", 1 },
	{ "en_US", 1 },
	{ "en-GB,fr;q=0.5", 1 },
	{ "fr-FR,en;q=0.9", 0 },
	{ "fr-FR, fr;q=0.9, en;q=0.8", 0 },
	{ "de, en;q=0.5", 1 },
	{ "de-DE,de;q=0.9,en;q=0.1", 1 },
	{ "de", 0 },
	{ "*", 0 },
	{ "en;q=0", 0 },
	{ "en;q=0.0", 0 },
	{ "de, en;q=0", 0 },
	{ "en;q=0.001", 1 },
	{ "en;q=1", 1 },
	{ "en;q=1.0", 1 },
	{ "en ; q=0.7", 1 },
	{ " en ", 1 },
	{ "fr;q=0.5, en;q=0.8", 1 },
	{ "en;q=0.5, fr;q=0.8", 0 },
	{ "en;q=0.9, fr", 0 },
	{ "fr;q=0.9, en", 1 },
	{ "fr;q=0, en;q=0.5", 1 },
	{ "fr;q=0.8, en;q=0", 0 },
	{ "eng", 0 },
	{ "english", 0 },
	{ "enx", 0 },
	{ "e", 0 },
	{ "french, en-", 1 },
	/* Junk. */
	{ ",,,", 0 },
	{ ";;;", 0 },
	{ ";q=1", 0 },
	{ "q=1", 0 },
	{ "en;q=abc", 0 },
	{ "en;q=", 0 },
	{ "en;q=-1", 0 },
	{ "\xff\xfe", 0 },
	{ "fr,,,,en;;;q=", 0 },
};

START_TEST(test_reply_lang_en_table)
{
	ck_assert_msg(reply_lang_en(langs[_i].al) == langs[_i].en,
	    "\"%s\": want %s", langs[_i].al ? langs[_i].al : "(absent)",
	    langs[_i].en ? "en" : "fr");
}
END_TEST

START_TEST(test_reply_lang_en_long_header)
{
	char *al = malloc(70016);
	size_t n = 0;

	ck_assert_ptr_nonnull(al);
	while (n + 9 < 70000) {
		memcpy(al + n, "de;q=0.1,", 9);
		n += 9;
	}
	/* The last entry has a malformed weight: not English. */
	strcpy(al + n, "en;q=.9");
	ck_assert_int_eq(reply_lang_en(al), 0);
	strcpy(al + n, "en;q=1");
	ck_assert_int_eq(reply_lang_en(al), 1);
	free(al);
}
END_TEST

/* Parses the error body and checks its shape; returns the error object. */
static json_t *
error_of(const char *body, json_t **root)
{
	json_error_t jerr;
	json_t *err;

	ck_assert_ptr_nonnull(body);
	*root = json_loads(body, 0, &jerr);
	ck_assert_msg(*root != NULL, "not JSON: %s (%s)", body, jerr.text);
	ck_assert_int_eq(json_object_size(*root), 1);
	err = json_object_get(*root, "error");
	ck_assert_msg(json_is_object(err), "no error object: %s", body);
	ck_assert(json_is_string(json_object_get(err, "code")));
	ck_assert(json_is_string(json_object_get(err, "message")));
	return err;
}

START_TEST(test_reply_error_body_default_messages)
{
	json_t *root, *err;
	char *b;

	b = reply_error_body(PA_NOT_FOUND, 0, NULL, NULL);
	err = error_of(b, &root);
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")),
	    "not_found");
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
	    pa_err_message(PA_NOT_FOUND, 0));
	ck_assert_ptr_null(json_object_get(err, "field"));
	ck_assert_int_eq(json_object_size(err), 2);
	json_decref(root);
	free(b);

	b = reply_error_body(PA_NOT_FOUND, 1, NULL, NULL);
	err = error_of(b, &root);
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
	    pa_err_message(PA_NOT_FOUND, 1));
	json_decref(root);
	free(b);
}
END_TEST

START_TEST(test_reply_error_body_message_and_field)
{
	json_t *root, *err;
	char *b;

	b = reply_error_body(PA_INVALID, 1, "value \"too\" long \\ \xc3\xa9",
	    "username");
	err = error_of(b, &root);
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")),
	    "invalid");
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
	    "value \"too\" long \\ \xc3\xa9");
	ck_assert_str_eq(json_string_value(json_object_get(err, "field")),
	    "username");
	ck_assert_int_eq(json_object_size(err), 3);
	json_decref(root);
	free(b);
}
END_TEST

START_TEST(test_reply_error_body_every_code)
{
	enum pa_err e = (enum pa_err)_i;
	json_t *root, *err;
	char *b = reply_error_body(e, _i % 2, NULL, NULL);

	err = error_of(b, &root);
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")),
	    pa_err_code(e));
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
	    pa_err_message(e, _i % 2));
	json_decref(root);
	free(b);
}
END_TEST

START_TEST(test_reply_error_body_out_of_range_is_internal)
{
	json_t *root, *err;
	char *b = reply_error_body((enum pa_err)999, 0, NULL, NULL);

	err = error_of(b, &root);
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")),
	    "internal");
	json_decref(root);
	free(b);
}
END_TEST

static struct MHD_Response *
empty_response(void)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(test_reply_security_headers_api)
{
	struct MHD_Response *r = empty_response();
	const char *csp, *v;

	reply_security_headers(r, 1, 0);
	csp = MHD_get_response_header(r, "Content-Security-Policy");
	ck_assert_ptr_nonnull(csp);
	ck_assert_ptr_null(strstr(csp, "unsafe-inline"));
	ck_assert_ptr_null(strstr(csp, "unsafe-eval"));
	ck_assert_ptr_nonnull(strstr(csp, "default-src 'self'"));
	ck_assert_ptr_nonnull(strstr(csp, "object-src 'none'"));
	ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
	ck_assert_ptr_nonnull(strstr(csp, "base-uri 'none'"));
	ck_assert_ptr_null(strstr(csp, "script-src *"));
	v = MHD_get_response_header(r, "X-Content-Type-Options");
	ck_assert_str_eq(v ? v : "", "nosniff");
	v = MHD_get_response_header(r, "Referrer-Policy");
	ck_assert_str_eq(v ? v : "", "no-referrer");
	v = MHD_get_response_header(r, "X-Frame-Options");
	ck_assert_str_eq(v ? v : "", "DENY");
	v = MHD_get_response_header(r, "Cache-Control");
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(strstr(v, "no-store"));
	ck_assert_ptr_null(
	    MHD_get_response_header(r, "Strict-Transport-Security"));
	MHD_destroy_response(r);
}
END_TEST

START_TEST(test_reply_security_headers_static_has_no_cache_control)
{
	struct MHD_Response *r = empty_response();

	reply_security_headers(r, 0, 0);
	ck_assert_ptr_nonnull(
	    MHD_get_response_header(r, "Content-Security-Policy"));
	ck_assert_ptr_nonnull(
	    MHD_get_response_header(r, "X-Content-Type-Options"));
	ck_assert_ptr_null(MHD_get_response_header(r, "Cache-Control"));
	MHD_destroy_response(r);
}
END_TEST

START_TEST(test_reply_security_headers_tls_adds_hsts)
{
	struct MHD_Response *r = empty_response();
	const char *v;

	reply_security_headers(r, 0, 1);
	v = MHD_get_response_header(r, "Strict-Transport-Security");
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(strstr(v, "max-age="));
	ck_assert_int_ge(strtol(strstr(v, "max-age=") + 8, NULL, 10),
	    15552000); /* at least 180 days */
	MHD_destroy_response(r);
}
END_TEST

static Suite *
headers_suite(void)
{
	Suite *s = suite_create("headers");
	TCase *tc;

	tc = tcase_create("language");
	tcase_add_loop_test(tc, test_reply_lang_en_table, 0,
	    (int)(sizeof(langs) / sizeof(langs[0])));
	tcase_add_test(tc, test_reply_lang_en_long_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("error_body");
	tcase_add_test(tc, test_reply_error_body_default_messages);
	tcase_add_test(tc, test_reply_error_body_message_and_field);
	tcase_add_loop_test(tc, test_reply_error_body_every_code, 0,
	    PA_ERR_COUNT);
	tcase_add_test(tc, test_reply_error_body_out_of_range_is_internal);
	suite_add_tcase(s, tc);

	tc = tcase_create("security");
	tcase_add_test(tc, test_reply_security_headers_api);
	tcase_add_test(tc,
	    test_reply_security_headers_static_has_no_cache_control);
	tcase_add_test(tc, test_reply_security_headers_tls_adds_hsts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(headers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
