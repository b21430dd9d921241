/*
 * gb_log: the one logger every gerbang program uses.
 *
 * Two formats: text for a terminal ("2026-11-22T10:00:00Z gerbang-gateway
 * info: listening on 127.0.0.1:8443") and JSON lines for files and
 * collectors ({"time":"...","level":"info","prog":"...","pid":1,"msg":"..."}).
 * Messages must never carry personal data or secrets in clear: mask them
 * with gb_mask() first.
 *
 * Thread safety: gb_log() may be called from any thread; each line is
 * written with one write(2), so lines from several processes sharing a file
 * opened with O_APPEND do not interleave. gb_log_open()/gb_log_close() are
 * for main() only.
 */
#ifndef GB_LOG_H
#define GB_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum gb_log_level {
	GB_LOG_DEBUG = 0,
	GB_LOG_INFO,
	GB_LOG_NOTICE,
	GB_LOG_WARN,
	GB_LOG_ERR,
	GB_LOG_CRIT,
};

enum gb_log_format {
	GB_LOG_TEXT = 0,	/* human text, colour only when fd is a tty */
	GB_LOG_JSON,		/* one JSON object a line */
};

/* The longest line gb_log() writes; a longer message is cut and ends "...". */
#define GB_LOG_LINE_MAX	4096

/*
 * Open the log. path NULL or "-" means stderr. The program name is borrowed
 * and must stay valid until gb_log_close(). Returns 0, or -1 with errno set
 * when the file cannot be opened (the log then stays on stderr).
 */
int	gb_log_open(const char *prog, const char *path, enum gb_log_format fmt,
	    enum gb_log_level min);
/* Reopen the same file (after log rotation, on SIGUSR1). Returns 0 or -1. */
int	gb_log_reopen(void);
void	gb_log_close(void);
void	gb_log_set_level(enum gb_log_level min);
enum gb_log_level gb_log_get_level(void);

/* Parse "debug", "info", "notice", "warn", "error", "crit"; 0 or -1. */
int	gb_log_level_parse(const char *s, enum gb_log_level *out);
const char *gb_log_level_str(enum gb_log_level level);
/* Parse "text" or "json"; 0 or -1. */
int	gb_log_format_parse(const char *s, enum gb_log_format *out);

void	gb_log(enum gb_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	gb_vlog(enum gb_log_level level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/*
 * Format one log line into buf (size len) without writing it; returns the
 * line length including the final newline. Used by gb_log() and the tests.
 * now is seconds and nanoseconds since the epoch.
 */
size_t	gb_log_format_line(char *buf, size_t len, enum gb_log_format fmt,
	    int colour, const char *prog, long pid, long long sec, long nsec,
	    enum gb_log_level level, const char *msg);

#define gb_debug(...)	do { \
	if (gb_log_get_level() <= GB_LOG_DEBUG) gb_log(GB_LOG_DEBUG, __VA_ARGS__); \
} while (0)
#define gb_info(...)	gb_log(GB_LOG_INFO, __VA_ARGS__)
#define gb_notice(...)	gb_log(GB_LOG_NOTICE, __VA_ARGS__)
#define gb_warn(...)	gb_log(GB_LOG_WARN, __VA_ARGS__)
#define gb_error(...)	gb_log(GB_LOG_ERR, __VA_ARGS__)
#define gb_crit(...)	gb_log(GB_LOG_CRIT, __VA_ARGS__)

#endif /* GB_LOG_H */
