/* sop: `passerelle sop check FILE`, the validator on the command line. */
#include <stdio.h>

#include "cli.h"
#include "internal.h"
#include "sop.h"

int
sop_check_main(const char *path)
{
	const struct sop_category *stages;
	struct sop *s = NULL;
	unsigned int n = 0;
	enum pa_err rc;

	rc = sop_load(path, &s, stderr, &n);
	if (rc != PA_OK) {
		if (n > 0)
			fprintf(stderr, "sop: %s is not valid (%u problem%s)\n",
			    path, n, n == 1 ? "" : "s");
		else
			fprintf(stderr, "sop: cannot check %s: %s\n", path,
			    pa_err_message(rc, 1));
		return 1;
	}
	stages = sop_category(s, "stage");
	printf("sop: %s is valid (%zu stages, %zu transitions, %zu fields)\n",
	    path, stages != NULL ? stages->n : 0, s->ntransitions,
	    s->nfields);
	sop_free(s);
	return 0;
}
