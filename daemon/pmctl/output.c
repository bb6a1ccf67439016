// SPDX-License-Identifier: GPL-2.0
/* Records as a table for people, tab-separated for scripts, or JSON. */
#include <stdlib.h>
#include <string.h>
#include "pmctl.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

static bool is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void json_record(FILE *f, const struct record *r)
{
	fputc('{', f);
	for (int i = 0; i < r->n; i++) {
		if (i)
			fputs(", ", f);
		json_str(f, r->kv[i].key);
		fputs(": ", f);
		if (r->kv[i].num || (proto_key_numeric(r->kv[i].key) && is_number(r->kv[i].val)))
			fputs(r->kv[i].val, f);
		else
			json_str(f, r->kv[i].val);
	}
	fputc('}', f);
}

/* Tabs and newlines in a TSV field would break the columns. */
static void tsv_field(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
}

static const char *col_name(const char *c)
{
	return c + (c[0] == '?');
}

void print_records(struct pmctl *p, const struct reply *r, const char *const *cols,
		   bool as_array)
{
	size_t ncol = 0, last = 0;
	size_t *w;

	if (p->fmt == OUT_JSON) {
		if (as_array)
			fputc('[', p->out);
		for (int i = 0; i < r->nrec; i++) {
			if (i)
				fputs(",\n ", p->out);
			json_record(p->out, &r->rec[i]);
		}
		if (as_array)
			fputc(']', p->out);
		else if (!r->nrec)
			fputs("{}", p->out);
		fputc('\n', p->out);
		return;
	}
	while (cols[ncol])
		ncol++;
	if (p->fmt == OUT_TSV) {
		/* every column, always: scripts read them by position */
		for (int i = 0; i < r->nrec; i++) {
			for (size_t c = 0; c < ncol; c++) {
				const char *v = rec_get(&r->rec[i], col_name(cols[c]));

				if (c)
					fputc('\t', p->out);
				tsv_field(p->out, v ? v : "-");
			}
			fputc('\n', p->out);
		}
		return;
	}
	w = calloc(ncol, sizeof(*w));
	if (!w)
		return;
	/* A column marked "?NAME" shows only where some record has it: a
	 * rule names few of the many things a rule can ask. */
	for (size_t c = 0; c < ncol; c++) {
		bool any = cols[c][0] != '?';

		w[c] = strlen(col_name(cols[c]));
		for (int i = 0; i < r->nrec; i++) {
			const char *v = rec_get(&r->rec[i], col_name(cols[c]));
			size_t l = v ? strlen(v) : 1;

			any |= v && strcmp(v, "-");
			if (l > w[c])
				w[c] = l;
		}
		if (!any)
			w[c] = 0;
		else
			last = c;
	}
	for (size_t c = 0; c < ncol; c++)
		if (w[c])
			fprintf(p->out, "%-*s%s", c < last ? (int)w[c] : 0, col_name(cols[c]),
				c < last ? "  " : "\n");
	for (int i = 0; i < r->nrec; i++)
		for (size_t c = 0; c < ncol; c++) {
			const char *v = rec_get(&r->rec[i], col_name(cols[c]));

			if (w[c])
				fprintf(p->out, "%-*s%s", c < last ? (int)w[c] : 0, v ? v : "-",
					c < last ? "  " : "\n");
		}
	free(w);
}

void print_kv(struct pmctl *p, const struct record *r)
{
	if (p->fmt == OUT_JSON) {
		json_record(p->out, r);
		fputc('\n', p->out);
		return;
	}
	for (int i = 0; i < r->n; i++) {
		if (p->fmt == OUT_TSV) {
			fprintf(p->out, "%s\t", r->kv[i].key);
			tsv_field(p->out, r->kv[i].val);
			fputc('\n', p->out);
		} else {
			fprintf(p->out, "%-16s %s\n", r->kv[i].key, r->kv[i].val);
		}
	}
}

void print_empty_ok(struct pmctl *p)
{
	if (p->fmt == OUT_JSON)
		fputs("{}\n", p->out);
}
