/*
 * Error codes shared by every module (see err.def). A function that can fail
 * returns enum pa_err; PA_OK is zero so that "if (rc)" reads naturally.
 */
#ifndef PA_ERR_H
#define PA_ERR_H

enum pa_err {
#define E(name, status, code, fr, en) PA_##name,
#include "err.def"
#undef E
	PA_ERR_COUNT
};

/* HTTP status for a code (500 for an out-of-range value). */
unsigned int pa_err_status(enum pa_err e);
/* API code string, e.g. "not_found". */
const char *pa_err_code(enum pa_err e);
/* Default message in French (en == 0) or English (en != 0). */
const char *pa_err_message(enum pa_err e, int en);

#endif
