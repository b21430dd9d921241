/* gb_log: text and JSON-lines logging. See gb_log.h. */
#include "core/gb_log.h"
#include "core/gb_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {
	[GB_LOG_DEBUG] = "debug",
	[GB_LOG_INFO] = "info",
	[GB_LOG_NOTICE] = "notice",
	[GB_LOG_WARN] = "warn",
	[GB_LOG_ERR] = "error",
	[GB_LOG_CRIT] = "crit",
};

static const char *const level_colours[] = {
	[GB_LOG_DEBUG] = "\033[2m",
	[GB_LOG_INFO] = "",
	[GB_LOG_NOTICE] = "\033[1m",
	[GB_LOG_WARN] = "\033[33m",
	[GB_LOG_ERR] = "\033[31m",
	[GB_LOG_CRIT] = "\033[1;31m",
};

static struct {
	const char		*prog;
	char			*path;
	int			 fd;
	int			 colour;
	enum gb_log_format	 fmt;
	enum gb_log_level	 min;
} lg = { "gerbang", NULL, STDERR_FILENO, 0, GB_LOG_TEXT, GB_LOG_INFO };

const char *
gb_log_level_str(enum gb_log_level level)
{
	if ((unsigned)level > GB_LOG_CRIT)
		return "?";
	return level_names[level];
}

int
gb_log_level_parse(const char *s, enum gb_log_level *out)
{
	unsigned i;

	for (i = 0; i <= GB_LOG_CRIT; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum gb_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = GB_LOG_WARN;
		return 0;
	}
	return -1;
}

int
gb_log_format_parse(const char *s, enum gb_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = GB_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = GB_LOG_JSON;
	else
		return -1;
	return 0;
}

static int
log_openfd(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
gb_log_open(const char *prog, const char *path, enum gb_log_format fmt,
    enum gb_log_level min)
{
	int fd;

	gb_log_close();
	lg.prog = prog ? prog : "gerbang";
	lg.fmt = fmt;
	lg.min = min;
	if (path == NULL || strcmp(path, "-") == 0) {
		lg.fd = STDERR_FILENO;
		lg.colour = fmt == GB_LOG_TEXT && isatty(STDERR_FILENO) &&
		    getenv("NO_COLOR") == NULL;
		return 0;
	}
	if ((fd = log_openfd(path)) == -1)
		return -1;
	if ((lg.path = strdup(path)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	lg.fd = fd;
	lg.colour = 0;
	return 0;
}

int
gb_log_reopen(void)
{
	int fd;

	if (lg.path == NULL)
		return 0;
	if ((fd = log_openfd(lg.path)) == -1)
		return -1;
	dup2(fd, lg.fd);
	close(fd);
	return 0;
}

void
gb_log_close(void)
{
	if (lg.path != NULL) {
		close(lg.fd);
		free(lg.path);
		lg.path = NULL;
	}
	lg.fd = STDERR_FILENO;
}

void
gb_log_set_level(enum gb_log_level min)
{
	lg.min = min;
}

enum gb_log_level
gb_log_get_level(void)
{
	return lg.min;
}

/*
 * Escape msg as the inside of a JSON string in at most lim bytes (with the
 * NUL); esc has room for lim + 7. A message cut to fit ends with "...".
 */
static void
log_json_msg(char *esc, size_t lim, const char *msg)
{
	size_t n = strlen(msg), o;

	/* One escape is at most 6 bytes: o < lim means nothing was cut. */
	if (gb_json_escape(esc, lim + 7, msg, n) < lim)
		return;
	if (lim < 4) {
		esc[0] = '\0';
		return;
	}
	o = gb_json_escape(esc, lim - 3, msg, n);
	memcpy(esc + o, "...", 4);
}

size_t
gb_log_format_line(char *buf, size_t len, enum gb_log_format fmt, int colour,
    const char *prog, long pid, long long sec, long nsec,
    enum gb_log_level level, const char *msg)
{
	char ts[96], esc[GB_LOG_LINE_MAX + 8];
	struct tm tm;
	time_t t = (time_t)sec;
	int n;

	if (len < 8)
		return 0;
	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (nsec / 1000000) % 1000);
	if (fmt == GB_LOG_JSON) {
		/*
		 * The escape is cut at a character boundary so that the line
		 * is always one valid JSON object, however long the message.
		 */
		size_t room = len > 160 + strlen(prog) ? len - 160 - strlen(prog)
		    : 1;

		log_json_msg(esc, room < GB_LOG_LINE_MAX ? room :
		    GB_LOG_LINE_MAX, msg);
		n = snprintf(buf, len,
		    "{\"time\":\"%s\",\"level\":\"%s\",\"prog\":\"%s\","
		    "\"pid\":%ld,\"msg\":\"%s\"}\n",
		    ts, gb_log_level_str(level), prog, pid, esc);
		if (n < 0 || (size_t)n >= len)
			return 0;
		return (size_t)n;
	}
	n = snprintf(buf, len, "%s %s[%ld] %s%s%s: %s\n", ts, prog, pid,
	    colour ? level_colours[level] : "", gb_log_level_str(level),
	    colour ? "\033[0m" : "", msg);
	if (n < 0)
		return 0;
	if ((size_t)n >= len) {
		memcpy(buf + len - 5, "...\n", 5);
		return len - 1;
	}
	return (size_t)n;
}

void
gb_vlog(enum gb_log_level level, const char *fmt, va_list ap)
{
	char msg[GB_LOG_LINE_MAX], line[GB_LOG_LINE_MAX];
	struct timespec ts;
	size_t n;
	int saved = errno;

	if (level < lg.min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	n = gb_log_format_line(line, sizeof(line), lg.fmt, lg.colour, lg.prog,
	    (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec, level, msg);
	if (n > 0 && write(lg.fd, line, n) < 0) {
		/* Nowhere left to report a failing log. */
	}
	errno = saved;
}

void
gb_log(enum gb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_vlog(level, fmt, ap);
	va_end(ap);
}
