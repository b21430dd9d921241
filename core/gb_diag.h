/*
 * gb_diag: diagnostics with positions, printed like a compiler:
 *
 *	policy/agencies.yaml:12:5: error: unknown key "contry" (did you mean "country"?)
 *
 * A loader collects diagnostics into a struct gb_diags and keeps going; once
 * max_errors errors are recorded gb_diags_full() turns true and the loader
 * should stop. Positions are 1-based; line 0 means "the whole file" and
 * prints as "file: error: ...". Not thread-safe: one loader owns a list.
 */
#ifndef GB_DIAG_H
#define GB_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum gb_diag_sev {
	GB_DIAG_ERROR = 0,
	GB_DIAG_WARNING,
	GB_DIAG_NOTE,
};

struct gb_diag {
	enum gb_diag_sev sev;
	unsigned	 line;
	unsigned	 col;
	char		*file;	/* owned by the list */
	char		*msg;	/* owned by the list */
};

struct gb_diags {
	struct gb_diag	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 nerrors;
	size_t		 nwarnings;
	size_t		 max_errors;	/* errors kept before full; 0 = 20 */
	size_t		 dropped;	/* diagnostics past the cap */
};

#define GB_DIAG_MAX_ERRORS	20

void	gb_diags_init(struct gb_diags *d, size_t max_errors);
void	gb_diags_free(struct gb_diags *d);
/* Clear the list for reuse. */
void	gb_diags_reset(struct gb_diags *d);

/*
 * Record one diagnostic. file is copied (NULL prints as "<input>"). Past
 * max_errors, errors are counted in dropped but not kept. Returns 0, or -1
 * when memory is short (the diagnostic is then counted, not kept).
 */
int	gb_diag_add(struct gb_diags *d, enum gb_diag_sev sev, const char *file,
	    unsigned line, unsigned col, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
int	gb_diag_vadd(struct gb_diags *d, enum gb_diag_sev sev, const char *file,
	    unsigned line, unsigned col, const char *fmt, va_list ap)
	    __attribute__((format(printf, 6, 0)));

/* True once max_errors errors are recorded: stop checking. */
int	gb_diags_full(const struct gb_diags *d);

/* Format one diagnostic as its printed line (no newline); returns length. */
size_t	gb_diag_format(const struct gb_diag *g, char *buf, size_t len);
/* Print every diagnostic, one a line, then "N errors" past the cap. */
void	gb_diags_print(const struct gb_diags *d, FILE *fp);
/* Send every diagnostic to gb_log() (errors at error, warnings at warn). */
void	gb_diags_log(const struct gb_diags *d);

#endif /* GB_DIAG_H */
