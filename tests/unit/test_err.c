/*
 * The error table (err.def): each code's HTTP status and API code, its two
 * messages, and what out-of-range values become. The table below is the
 * contract of API.md; adding a code to err.def means adding its row here.
 */
#include <string.h>

#include <check.h>

#include "err.h"

static const struct {
	enum pa_err e;
	unsigned int status;
	const char *code;
} table[] = {
	{ PA_OK, 200, "ok" },
	{ PA_BAD_INPUT, 400, "bad_request" },
	{ PA_NO_SESSION, 401, "unauthenticated" },
	{ PA_FORBIDDEN, 403, "forbidden" },
	{ PA_NOT_FOUND, 404, "not_found" },
	{ PA_METHOD, 405, "method_not_allowed" },
	{ PA_CONFLICT, 409, "conflict" },
	{ PA_TOO_LARGE, 413, "body_too_large" },
	{ PA_MEDIA_TYPE, 415, "unsupported_media_type" },
	{ PA_INVALID, 422, "invalid" },
	{ PA_THROTTLED, 429, "throttled" },
	{ PA_UNREADABLE, 500, "data_unreadable" },
	{ PA_INTERNAL, 500, "internal" },
	{ PA_DB, 503, "database_unavailable" },
	{ PA_BUSY, 503, "busy" },
};
#define NTABLE ((int)(sizeof(table) / sizeof(table[0])))

START_TEST(test_err_table_covers_every_code)
{
	ck_assert_int_eq(PA_OK, 0);
	ck_assert_int_eq(NTABLE, PA_ERR_COUNT);
}
END_TEST

START_TEST(test_err_status_and_code_match_table)
{
	ck_assert_uint_eq(pa_err_status(table[_i].e), table[_i].status);
	ck_assert_str_eq(pa_err_code(table[_i].e), table[_i].code);
}
END_TEST

static int
is_snake_case(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return 0;
	return 1;
}

START_TEST(test_err_messages_differ_by_language_and_are_sentences)
{
	const char *fr = pa_err_message(table[_i].e, 0);
	const char *en = pa_err_message(table[_i].e, 1);
	size_t fl, el;

	ck_assert_ptr_nonnull(fr);
	ck_assert_ptr_nonnull(en);
	fl = strlen(fr);
	el = strlen(en);
	ck_assert_uint_gt(fl, 0);
	ck_assert_uint_gt(el, 0);
	ck_assert_str_ne(fr, en);
	/* Any non-zero value means English. */
	ck_assert_str_eq(pa_err_message(table[_i].e, 7), en);
	/* STYLE.md: lower case, no final period. */
	ck_assert_msg(!(en[0] >= 'A' && en[0] <= 'Z'), "capital: %s", en);
	ck_assert_msg(!(fr[0] >= 'A' && fr[0] <= 'Z'), "capital: %s", fr);
	ck_assert_msg(en[el - 1] != '.' && fr[fl - 1] != '.', "period: %s / %s",
	    en, fr);
	ck_assert_msg(is_snake_case(pa_err_code(table[_i].e)), "code %s",
	    pa_err_code(table[_i].e));
}
END_TEST

START_TEST(test_err_codes_are_unique)
{
	int j;

	for (j = 0; j < NTABLE; j++)
		if (j != _i)
			ck_assert_str_ne(pa_err_code(table[_i].e),
			    pa_err_code(table[j].e));
}
END_TEST

static const unsigned int out_of_range[] = { PA_ERR_COUNT, PA_ERR_COUNT + 1,
	1000, 0x7fffffffu, 0xffffffffu };

START_TEST(test_err_out_of_range_is_internal)
{
	enum pa_err e = (enum pa_err)out_of_range[_i];

	ck_assert_uint_eq(pa_err_status(e), 500);
	ck_assert_str_eq(pa_err_code(e), "internal");
	ck_assert_str_eq(pa_err_message(e, 0), pa_err_message(PA_INTERNAL, 0));
	ck_assert_str_eq(pa_err_message(e, 1), pa_err_message(PA_INTERNAL, 1));
}
END_TEST

static Suite *
err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_err_table_covers_every_code);
	tcase_add_loop_test(tc, test_err_status_and_code_match_table, 0,
	    NTABLE);
	tcase_add_loop_test(tc,
	    test_err_messages_differ_by_language_and_are_sentences, 0, NTABLE);
	tcase_add_loop_test(tc, test_err_codes_are_unique, 0, NTABLE);
	tcase_add_loop_test(tc, test_err_out_of_range_is_internal, 0,
	    (int)(sizeof(out_of_range) / sizeof(out_of_range[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(err_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
