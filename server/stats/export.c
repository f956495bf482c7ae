/*
 * Exports of a statistics answer: CSV (UTF-8, RFC 4180, the header in the
 * request's language) and XLSX through libxlsxwriter. A cell that begins
 * with = + - @ or a tab is prefixed with a quote so that no spreadsheet
 * takes it for a formula. Each file carries its period, k and time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "stats.h"

void
stats_csv_cell(const char *in, char *out, size_t outlen)
{
	size_t o = 0, need_quote;
	const char *p;

	if (outlen == 0)
		return;
	need_quote = strpbrk(in, ",\"\r\n") != NULL;
	if (need_quote && o + 1 < outlen)
		out[o++] = '"';
	if ((in[0] == '=' || in[0] == '+' || in[0] == '-' || in[0] == '@' ||
	    in[0] == '\t' || in[0] == '\r') && o + 1 < outlen)
		out[o++] = '\'';
	for (p = in; *p != '\0' && o + 2 < outlen; p++) {
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	if (need_quote && o + 1 < outlen)
		out[o++] = '"';
	out[o] = '\0';
}

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
put(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void
put_cell(struct buf *b, const char *s, int last)
{
	char cell[512];

	stats_csv_cell(s, cell, sizeof(cell));
	put(b, cell);
	put(b, last ? "\r\n" : ",");
}

/* A member of a cell as text, "" when absent. */
static const char *
member(json_t *cell, json_t *name)
{
	const char *v = json_string_value(json_object_get(cell,
	    json_string_value(name)));

	return v ? v : "";
}

static const char *
hdr(int en, const char *fr, const char *eng)
{
	return en ? eng : fr;
}

/* Every row: the dimension values, count, suppressed, then the metadata. */
char *
stats_csv(json_t *st, int en, size_t *len)
{
	json_t *dims = json_object_get(st, "dimensions"), *cell, *d;
	json_t *period = json_object_get(st, "period");
	struct buf b = { NULL, 0, 0, 0 };
	char num[32], k[16];
	size_t i, j;

	json_array_foreach(dims, j, d)
		put_cell(&b, json_string_value(d), 0);
	put_cell(&b, hdr(en, "effectif", "count"), 0);
	put_cell(&b, hdr(en, "masque", "suppressed"), 0);
	put_cell(&b, hdr(en, "periode_debut", "period_from"), 0);
	put_cell(&b, hdr(en, "periode_fin", "period_to"), 0);
	put_cell(&b, hdr(en, "periode_elargie", "period_widened"), 0);
	put_cell(&b, "k", 0);
	put_cell(&b, hdr(en, "genere_le", "generated_at"), 0);
	/* the freeze: cases opened before this instant (empty: none) */
	put_cell(&b, hdr(en, "donnees_au", "as_of"), 1);
	snprintf(k, sizeof(k), "%lld",
	    (long long)json_integer_value(json_object_get(st, "k")));
	json_array_foreach(json_object_get(st, "cells"), i, cell) {
		json_array_foreach(dims, j, d)
			put_cell(&b, member(cell, d), 0);
		if (json_is_integer(json_object_get(cell, "count")))
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(
				json_object_get(cell, "count")));
		else
			num[0] = '\0';
		put_cell(&b, num, 0);
		put_cell(&b, json_is_true(json_object_get(cell,
		    "suppressed")) ? "1" : "0", 0);
		put_cell(&b, json_string_value(json_object_get(period,
		    "from")), 0);
		put_cell(&b, json_string_value(json_object_get(period, "to")),
		    0);
		put_cell(&b, json_is_true(json_object_get(period,
		    "widened")) ? "1" : "0", 0);
		put_cell(&b, k, 0);
		put_cell(&b, json_string_value(json_object_get(st,
		    "generated_at")), 0);
		put_cell(&b, json_is_string(json_object_get(st, "as_of")) ?
		    json_string_value(json_object_get(st, "as_of")) : "", 1);
	}
	if (b.failed || b.p == NULL) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int
stats_xlsx(json_t *st, int en, const char *path)
{
	json_t *dims = json_object_get(st, "dimensions"), *cell, *d;
	json_t *period = json_object_get(st, "period");
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE,
		.tmpdir = NULL, .use_zip64 = LXW_FALSE };
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold;
	lxw_row_t row = 0;
	lxw_col_t col;
	size_t i, j;
	char text[640];

	if ((wb = workbook_new_opt(path, &opt)) == NULL)
		return -1;
	ws = workbook_add_worksheet(wb, en ? "Statistics" : "Statistiques");
	bold = workbook_add_format(wb);
	format_set_bold(bold);
	snprintf(text, sizeof(text), "%s %s - %s%s, k = %lld, %s %s%s%s",
	    en ? "Period" : "Période",
	    json_string_value(json_object_get(period, "from")),
	    json_string_value(json_object_get(period, "to")),
	    !json_is_true(json_object_get(period, "widened")) ? "" :
		en ? " (widened to the whole calendar year)" :
		" (élargie à l'année civile entière)",
	    (long long)json_integer_value(json_object_get(st, "k")),
	    en ? "generated at" : "généré le",
	    json_string_value(json_object_get(st, "generated_at")),
	    !json_is_string(json_object_get(st, "as_of")) ? "" : en ?
		", data as of " : ", données arrêtées au ",
	    !json_is_string(json_object_get(st, "as_of")) ? "" :
		json_string_value(json_object_get(st, "as_of")));
	worksheet_write_string(ws, row++, 0, text, NULL);
	row++;
	col = 0;
	json_array_foreach(dims, j, d)
		worksheet_write_string(ws, row, col++, json_string_value(d),
		    bold);
	worksheet_write_string(ws, row, col++, en ? "count" : "effectif",
	    bold);
	worksheet_write_string(ws, row++, col, en ? "suppressed" : "masqué",
	    bold);
	json_array_foreach(json_object_get(st, "cells"), i, cell) {
		col = 0;
		json_array_foreach(dims, j, d) {
			/* Codes are ours, but neutralise like CSV anyway. */
			stats_csv_cell(member(cell, d), text, sizeof(text));
			worksheet_write_string(ws, row, col++, text, NULL);
		}
		if (json_is_integer(json_object_get(cell, "count")))
			worksheet_write_number(ws, row, col, (double)
			    json_integer_value(json_object_get(cell, "count")),
			    NULL);
		col++;
		worksheet_write_string(ws, row++, col,
		    json_is_true(json_object_get(cell, "suppressed")) ?
			(en ? "yes" : "oui") : "", NULL);
	}
	return workbook_close(wb) == LXW_NO_ERROR ? 0 : -1;
}
