/*
 * CSV cell neutralisation (stats_csv_cell): whatever the input, the cell
 * never begins with = + - @ or a tab once unquoted, quotes are doubled,
 * and nothing is written past the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *in, out[256];
	const char *p;
	size_t outlen;

	if ((in = malloc(len + 1)) == NULL)
		return 0;
	memcpy(in, data, len);
	in[len] = '\0';
	for (outlen = 1; outlen <= sizeof(out); outlen *= 2) {
		memset(out, 'X', sizeof(out));
		stats_csv_cell(in, out, outlen);
		if (memchr(out, '\0', outlen) == NULL)
			abort();	/* not terminated inside the buffer */
		p = out[0] == '"' ? out + 1 : out;
		if (*p == '=' || *p == '+' || *p == '-' || *p == '@' ||
		    *p == '\t')
			abort();	/* a formula got through */
	}
	free(in);
	return 0;
}
