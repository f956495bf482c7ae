/* Lookup tables built from err.def. */
#include "err.h"

struct err_row {
	unsigned int status;
	const char *code;
	const char *fr;
	const char *en;
};

static const struct err_row err_rows[] = {
#define E(name, status, code, fr, en) { status, code, fr, en },
#include "err.def"
#undef E
};

unsigned int
pa_err_status(enum pa_err e)
{
	if ((unsigned int)e >= PA_ERR_COUNT)
		return 500;
	return err_rows[e].status;
}

const char *
pa_err_code(enum pa_err e)
{
	if ((unsigned int)e >= PA_ERR_COUNT)
		return "internal";
	return err_rows[e].code;
}

const char *
pa_err_message(enum pa_err e, int en)
{
	if ((unsigned int)e >= PA_ERR_COUNT)
		e = PA_INTERNAL;
	return en ? err_rows[e].en : err_rows[e].fr;
}
