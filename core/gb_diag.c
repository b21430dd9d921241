/* gb_diag: file:line:col diagnostics. See gb_diag.h. */
#include "core/gb_diag.h"
#include "core/gb_log.h"

#include <stdlib.h>
#include <string.h>

static const char *const sev_names[] = {
	[GB_DIAG_ERROR] = "error",
	[GB_DIAG_WARNING] = "warning",
	[GB_DIAG_NOTE] = "note",
};

void
gb_diags_init(struct gb_diags *d, size_t max_errors)
{
	memset(d, 0, sizeof(*d));
	d->max_errors = max_errors ? max_errors : GB_DIAG_MAX_ERRORS;
}

void
gb_diags_reset(struct gb_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	d->n = 0;
	d->nerrors = d->nwarnings = d->dropped = 0;
}

void
gb_diags_free(struct gb_diags *d)
{
	if (d == NULL)
		return;
	gb_diags_reset(d);
	free(d->v);
	d->v = NULL;
	d->cap = 0;
}

int
gb_diags_full(const struct gb_diags *d)
{
	return d->nerrors >= d->max_errors;
}

int
gb_diag_vadd(struct gb_diags *d, enum gb_diag_sev sev, const char *file,
    unsigned line, unsigned col, const char *fmt, va_list ap)
{
	struct gb_diag *g;
	char msg[1024];

	if (sev == GB_DIAG_ERROR) {
		if (d->nerrors >= d->max_errors) {
			d->dropped++;
			return 0;
		}
		d->nerrors++;
	} else if (sev == GB_DIAG_WARNING)
		d->nwarnings++;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;

		if ((g = reallocarray(d->v, ncap, sizeof(*g))) == NULL) {
			d->dropped++;
			return -1;
		}
		d->v = g;
		d->cap = ncap;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	g = &d->v[d->n];
	g->sev = sev;
	g->line = line;
	g->col = col;
	g->file = strdup(file ? file : "<input>");
	g->msg = strdup(msg);
	if (g->file == NULL || g->msg == NULL) {
		free(g->file);
		free(g->msg);
		d->dropped++;
		return -1;
	}
	d->n++;
	return 0;
}

int
gb_diag_add(struct gb_diags *d, enum gb_diag_sev sev, const char *file,
    unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gb_diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

size_t
gb_diag_format(const struct gb_diag *g, char *buf, size_t len)
{
	int n;

	if (g->line == 0)
		n = snprintf(buf, len, "%s: %s: %s", g->file,
		    sev_names[g->sev], g->msg);
	else
		n = snprintf(buf, len, "%s:%u:%u: %s: %s", g->file, g->line,
		    g->col, sev_names[g->sev], g->msg);
	if (n < 0 || len == 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

void
gb_diags_print(const struct gb_diags *d, FILE *fp)
{
	char line[1400];
	size_t i;

	for (i = 0; i < d->n; i++) {
		gb_diag_format(&d->v[i], line, sizeof(line));
		fprintf(fp, "%s\n", line);
	}
	if (d->dropped > 0)
		fprintf(fp, "too many errors: %zu more not shown\n",
		    d->dropped);
}

void
gb_diags_log(const struct gb_diags *d)
{
	char line[1400];
	size_t i;

	for (i = 0; i < d->n; i++) {
		gb_diag_format(&d->v[i], line, sizeof(line));
		gb_log(d->v[i].sev == GB_DIAG_ERROR ? GB_LOG_ERR :
		    d->v[i].sev == GB_DIAG_WARNING ? GB_LOG_WARN : GB_LOG_INFO,
		    "%s", line);
	}
	if (d->dropped > 0)
		gb_error("too many errors: %zu more not shown", d->dropped);
}
