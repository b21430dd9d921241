/*
 * Unit tests for core/gb_log.c: the text and JSON line formats (every JSON
 * line is checked by a strict JSON parser below, however long or odd the
 * message), level names, level filtering, logging to a file and reopening
 * it after rotation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_log.h"

#define T_SEC	1795341600LL	/* 2026-11-22T10:00:00Z */
#define T_NSEC	123456789L

/*
 * A strict JSON parser (RFC 8259), just enough to check a log line: one
 * object, then "\n", nothing else. String values are decoded; the value of
 * "msg" is kept.
 */
struct json {
	const unsigned char	*p;
	const unsigned char	*end;
	char			 msg[16384];
	size_t			 msglen;
	int			 have_msg;
	char			 level[16];
};

static void
json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static size_t
utf8_valid(const unsigned char *p, const unsigned char *end)
{
	size_t need, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if ((size_t)(end - p) < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
	    (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static void
out_add(char *out, size_t outlen, size_t *n, const void *p, size_t k)
{
	if (out != NULL && *n + k < outlen)
		memcpy(out + *n, p, k);
	*n += k;
}

static void
out_cp(char *out, size_t outlen, size_t *n, uint32_t cp)
{
	unsigned char u[4];
	size_t k;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	out_add(out, outlen, n, u, k);
}

static int
json_hex4(struct json *j, uint32_t *v)
{
	int i;

	*v = 0;
	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = *j->p++;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string; decoded into out (NUL-terminated) when out is not NULL. */
static int
json_string(struct json *j, char *out, size_t outlen, size_t *outn)
{
	size_t n = 0, k;
	uint32_t cp, lo;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return -1;
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if (*j->p < 0x20)
			return -1;	/* raw control characters */
		if (*j->p != '\\') {
			if ((k = utf8_valid(j->p, j->end)) == 0)
				return -1;
			out_add(out, outlen, &n, j->p, k);
			j->p += k;
			continue;
		}
		if (++j->p >= j->end)
			return -1;
		switch (*j->p++) {
		case '"': out_add(out, outlen, &n, "\"", 1); break;
		case '\\': out_add(out, outlen, &n, "\\", 1); break;
		case '/': out_add(out, outlen, &n, "/", 1); break;
		case 'b': out_add(out, outlen, &n, "\b", 1); break;
		case 'f': out_add(out, outlen, &n, "\f", 1); break;
		case 'n': out_add(out, outlen, &n, "\n", 1); break;
		case 'r': out_add(out, outlen, &n, "\r", 1); break;
		case 't': out_add(out, outlen, &n, "\t", 1); break;
		case 'u':
			if (json_hex4(j, &cp) == -1)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return -1;
				j->p += 2;
				if (json_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			out_cp(out, outlen, &n, cp);
			break;
		default:
			return -1;
		}
	}
	if (out != NULL) {
		if (n >= outlen)
			return -1;
		out[n] = '\0';
	}
	if (outn != NULL)
		*outn = n;
	return 0;
}

static int
json_number(struct json *j)
{
	const unsigned char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s ? 0 : -1;
}

static int	json_value(struct json *j, int depth, const char *key);

static int
json_word(struct json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int
json_container(struct json *j, int depth, int object)
{
	char key[64];
	int first = 1;

	if (depth > 16)
		return -1;
	j->p++;
	for (;;) {
		json_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == (object ? '}' : ']')) {
			j->p++;
			return 0;
		}
		if (!first) {
			if (*j->p != ',')
				return -1;
			j->p++;
			json_ws(j);
		}
		first = 0;
		if (object) {
			if (json_string(j, key, sizeof(key), NULL) == -1)
				return -1;
			json_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -1;
			j->p++;
			json_ws(j);
		}
		if (json_value(j, depth + 1, object && depth == 0 ? key :
		    NULL) == -1)
			return -1;
	}
}

static int
json_value(struct json *j, int depth, const char *key)
{
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{':
		return json_container(j, depth, 1);
	case '[':
		return json_container(j, depth, 0);
	case '"':
		if (key != NULL && strcmp(key, "msg") == 0) {
			j->have_msg = 1;
			return json_string(j, j->msg, sizeof(j->msg),
			    &j->msglen);
		}
		if (key != NULL && strcmp(key, "level") == 0)
			return json_string(j, j->level, sizeof(j->level),
			    NULL);
		return json_string(j, NULL, 0, NULL);
	case 't':
		return json_word(j, "true");
	case 'f':
		return json_word(j, "false");
	case 'n':
		return json_word(j, "null");
	default:
		return json_number(j);
	}
}

/* line[0..n) is exactly one JSON object and a final newline. */
static void
assert_json_line(const char *line, size_t n, struct json *j)
{
	memset(j, 0, sizeof(*j));
	assert_true(n >= 3);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(line[n - 2], '}');
	assert_null(memchr(line, '\n', n - 1));
	assert_int_equal(line[0], '{');
	j->p = (const unsigned char *)line;
	j->end = j->p + n - 1;
	if (json_container(j, 0, 1) == -1 || j->p != j->end)
		fail_msg("not one JSON object: %.*s", (int)n, line);
	assert_true(j->have_msg);
}

/* The JSON checker itself refuses what it must. */
static void
test_json_checker(void **state)
{
	static const char *const bad[] = {
		"{\"msg\":\"a\nb\"}",
		"{\"msg\":\"a\\x\"}",
		"{\"msg\":\"\xff\"}",
		"{\"msg\":\"\xc0\xaf\"}",
		"{\"msg\":\"\\ud800\"}",
		"{\"msg\":\"abc}",
		"{\"msg\":\"a\"",
		"{\"msg\":\"a\",}",
		"{\"msg\" \"a\"}",
		"{\"pid\":01,\"msg\":\"a\"}",
	};
	struct json j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.p = (const unsigned char *)bad[i];
		j.end = j.p + strlen(bad[i]);
		assert_true(json_container(&j, 0, 1) == -1 || j.p != j.end);
	}
	memset(&j, 0, sizeof(j));
	j.p = (const unsigned char *)"{\"a\":[1,-2.5e3,true,null,{}],"
	    "\"msg\":\"x\\u00e9\\ud83d\\ude00\\\"\"}";
	j.end = j.p + strlen((const char *)j.p);
	assert_int_equal(json_container(&j, 0, 1), 0);
	assert_string_equal(j.msg, "x\xc3\xa9\xf0\x9f\x98\x80\"");
}

static void
test_level_parse(void **state)
{
	static const struct {
		const char		*name;
		enum gb_log_level	 level;
	} names[] = {
		{ "debug", GB_LOG_DEBUG }, { "info", GB_LOG_INFO },
		{ "notice", GB_LOG_NOTICE }, { "warn", GB_LOG_WARN },
		{ "error", GB_LOG_ERR }, { "crit", GB_LOG_CRIT },
	};
	static const char *const bad[] = { "", "verbose", "inf", "info ",
	    " info", "err", "critical", "0", "debugx" };
	enum gb_log_level l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		l = (enum gb_log_level)99;
		assert_int_equal(gb_log_level_parse(names[i].name, &l), 0);
		assert_int_equal(l, names[i].level);
		assert_string_equal(gb_log_level_str(names[i].level),
		    names[i].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l = GB_LOG_NOTICE;
		assert_int_equal(gb_log_level_parse(bad[i], &l), -1);
		assert_int_equal(l, GB_LOG_NOTICE);
	}
}

static void
test_format_parse(void **state)
{
	enum gb_log_format f;

	(void)state;
	assert_int_equal(gb_log_format_parse("text", &f), 0);
	assert_int_equal(f, GB_LOG_TEXT);
	assert_int_equal(gb_log_format_parse("json", &f), 0);
	assert_int_equal(f, GB_LOG_JSON);
	f = GB_LOG_TEXT;
	assert_int_equal(gb_log_format_parse("xml", &f), -1);
	assert_int_equal(gb_log_format_parse("", &f), -1);
	assert_int_equal(gb_log_format_parse("jsonl", &f), -1);
	assert_int_equal(f, GB_LOG_TEXT);
}

static void
test_format_text(void **state)
{
	static const char want[] = "2026-11-22T10:00:00.123Z gerbang-gateway"
	    "[42] info: listening on 127.0.0.1:8443\n";
	char buf[512];
	size_t n;

	(void)state;
	n = gb_log_format_line(buf, sizeof(buf), GB_LOG_TEXT, 0,
	    "gerbang-gateway", 42, T_SEC, T_NSEC, GB_LOG_INFO,
	    "listening on 127.0.0.1:8443");
	assert_string_equal(buf, want);
	assert_int_equal(n, sizeof(want) - 1);

	n = gb_log_format_line(buf, sizeof(buf), GB_LOG_TEXT, 0, "p", 1, 0, 0,
	    GB_LOG_CRIT, "");
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z p[1] crit: \n");
	assert_int_equal(n, strlen(buf));
}

static void
test_format_text_colour(void **state)
{
	char buf[512];

	(void)state;
	gb_log_format_line(buf, sizeof(buf), GB_LOG_TEXT, 1, "p", 1, T_SEC, 0,
	    GB_LOG_WARN, "careful");
	assert_non_null(strstr(buf, " p[1] \033[33mwarn\033[0m: careful\n"));
	gb_log_format_line(buf, sizeof(buf), GB_LOG_TEXT, 0, "p", 1, T_SEC, 0,
	    GB_LOG_WARN, "careful");
	assert_null(strchr(buf, '\033'));
	assert_non_null(strstr(buf, " p[1] warn: careful\n"));
}

static void
test_format_text_cut(void **state)
{
	char buf[64], msg[200];
	size_t n;

	(void)state;
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	memset(buf, 'Z', sizeof(buf));
	n = gb_log_format_line(buf, sizeof(buf), GB_LOG_TEXT, 0, "p", 1, T_SEC,
	    0, GB_LOG_INFO, msg);
	assert_int_equal(n, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), n);
	assert_string_equal(buf + n - 4, "...\n");

	/* Too small to hold anything useful: nothing. */
	assert_int_equal(gb_log_format_line(buf, 7, GB_LOG_TEXT, 0, "p", 1,
	    T_SEC, 0, GB_LOG_INFO, "m"), 0);
	assert_int_equal(gb_log_format_line(buf, 0, GB_LOG_JSON, 0, "p", 1,
	    T_SEC, 0, GB_LOG_INFO, "m"), 0);
}

static void
test_format_json(void **state)
{
	static const char want[] = "{\"time\":\"2026-11-22T10:00:00.123Z\","
	    "\"level\":\"info\",\"prog\":\"gerbang-gateway\",\"pid\":42,"
	    "\"msg\":\"listening on 127.0.0.1:8443\"}\n";
	static const enum gb_log_level levels[] = { GB_LOG_DEBUG, GB_LOG_INFO,
	    GB_LOG_NOTICE, GB_LOG_WARN, GB_LOG_ERR, GB_LOG_CRIT };
	struct json j;
	char buf[512];
	size_t n, i;

	(void)state;
	n = gb_log_format_line(buf, sizeof(buf), GB_LOG_JSON, 1,
	    "gerbang-gateway", 42, T_SEC, T_NSEC, GB_LOG_INFO,
	    "listening on 127.0.0.1:8443");
	assert_string_equal(buf, want);	/* colour is ignored in JSON */
	assert_int_equal(n, sizeof(want) - 1);
	assert_json_line(buf, n, &j);
	assert_string_equal(j.msg, "listening on 127.0.0.1:8443");

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		n = gb_log_format_line(buf, sizeof(buf), GB_LOG_JSON, 0, "p",
		    1234567, T_SEC, 999999999, levels[i], "m");
		assert_json_line(buf, n, &j);
		assert_string_equal(j.level, gb_log_level_str(levels[i]));
		assert_non_null(strstr(buf, "\"time\":\"2026-11-22T10:00:00"
		    ".999Z\""));
	}
}

struct esc_case {
	const char	*msg;
	const char	*decoded;
};

/* Whatever the message holds, the line parses and decodes back. */
static void
test_format_json_escaping(void **state)
{
	static const struct esc_case cases[] = {
		{ "say \"hi\"", "say \"hi\"" },
		{ "a\\b\\\\c", "a\\b\\\\c" },
		{ "line one\nline two\r\n", "line one\nline two\r\n" },
		{ "tab\there", "tab\there" },
		{ "\x01\x1b[31mred\x7f", "\x01\x1b[31mred\x7f" },
		{ "}\n{\"level\":\"crit\"", "}\n{\"level\":\"crit\"" },
		{ "Jl. Thamrin \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x98\x80",
		  "Jl. Thamrin \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x98\x80" },
		/* Invalid UTF-8 becomes U+FFFD. */
		{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80!", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!" },
		{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
		{ "", "" },
	};
	struct json j;
	char buf[1024];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = gb_log_format_line(buf, sizeof(buf), GB_LOG_JSON, 0,
		    "gerbang-gateway", 7, T_SEC, 0, GB_LOG_ERR, cases[i].msg);
		assert_true(n > 0);
		assert_int_equal(strlen(buf), n);
		assert_json_line(buf, n, &j);
		assert_string_equal(j.msg, cases[i].decoded);
		assert_string_equal(j.level, "error");
	}
}

/* A message of n bytes mixing escapes and multibyte characters. */
static char *
long_message(size_t n)
{
	static const char pat[] = "ab\"c\\d\n\xe2\x82\xac\x01\xf0\x9f\x98\x80";
	char *m;
	size_t i;

	m = malloc(n + 1);
	assert_non_null(m);
	for (i = 0; i < n; i++)
		m[i] = pat[i % (sizeof(pat) - 1)];
	m[n] = '\0';
	return m;
}

/*
 * However small the buffer and long the message, a JSON line is either
 * not produced at all (0) or is one valid object ending "}\n"; a cut
 * message is a prefix of the original followed by "...".
 */
static void
test_format_json_long(void **state)
{
	static const size_t lens[] = { GB_LOG_LINE_MAX, 4000, 1000, 512 };
	char *msg, *buf;
	struct json j;
	size_t i, n, len, cut;

	(void)state;
	msg = long_message(10000);
	buf = malloc(GB_LOG_LINE_MAX + 1);
	assert_non_null(buf);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = gb_log_format_line(buf, lens[i], GB_LOG_JSON, 0,
		    "gerbang-gateway", 12345, T_SEC, 0, GB_LOG_INFO, msg);
		assert_true(n > 0);
		assert_true(n < lens[i]);
		assert_int_equal(strlen(buf), n);
		assert_string_equal(buf + n - 2, "}\n");
		assert_json_line(buf, n, &j);
		assert_true(j.msglen > 3);
		cut = j.msglen - 3;
		assert_string_equal(j.msg + cut, "...");
		assert_memory_equal(j.msg, msg, cut);
		/* Most of the room is used for the message. */
		assert_true(n + 200 > lens[i]);
	}

	/* Every buffer size from tiny to large. */
	for (len = 8; len <= 700; len++) {
		n = gb_log_format_line(buf, len, GB_LOG_JSON, 0, "p", 1, T_SEC,
		    0, GB_LOG_WARN, msg);
		if (n == 0)
			continue;
		assert_true(n < len);
		assert_json_line(buf, n, &j);
		if (j.msglen > 0) {
			assert_true(j.msglen >= 3);
			assert_string_equal(j.msg + j.msglen - 3, "...");
			assert_memory_equal(j.msg, msg, j.msglen - 3);
		}
	}
	free(buf);
	free(msg);
}

/*
 * A message that fits is never marked as cut, and the cut happens at the
 * first length that does not fit: walk ASCII messages across the limit.
 */
static void
test_format_json_fits(void **state)
{
	struct json j;
	char *msg, *buf;
	size_t n, k, fits = 3499;

	(void)state;
	msg = malloc(GB_LOG_LINE_MAX + 1);
	buf = malloc(GB_LOG_LINE_MAX);
	assert_non_null(msg);
	assert_non_null(buf);
	memset(msg, 'x', GB_LOG_LINE_MAX);
	for (k = 3500; k <= GB_LOG_LINE_MAX; k++) {
		msg[k] = '\0';
		n = gb_log_format_line(buf, GB_LOG_LINE_MAX, GB_LOG_JSON, 0,
		    "p", 1, T_SEC, 0, GB_LOG_INFO, msg);
		msg[k] = 'x';
		assert_json_line(buf, n, &j);
		if (j.msglen == k && fits == k - 1) {
			fits = k;	/* whole, and so were all shorter */
			continue;
		}
		/* Cut: the longest prefix that leaves room for "...". */
		assert_true(fits >= 3500);
		assert_int_equal(j.msglen, fits);
		assert_string_equal(j.msg + fits - 3, "...");
	}
	/* Most of the line is message. */
	assert_true(fits > GB_LOG_LINE_MAX - 200);
	assert_true(fits < GB_LOG_LINE_MAX);

	/* The same for a message of two-byte escapes. */
	memset(msg, '"', GB_LOG_LINE_MAX);
	msg[GB_LOG_LINE_MAX] = '\0';
	n = gb_log_format_line(buf, GB_LOG_LINE_MAX, GB_LOG_JSON, 0, "p", 1,
	    T_SEC, 0, GB_LOG_INFO, msg);
	assert_json_line(buf, n, &j);
	assert_string_equal(j.msg + j.msglen - 3, "...");
	assert_int_equal(strspn(j.msg, "\""), j.msglen - 3);
	free(buf);
	free(msg);
}

/* The whole file at path, NUL-terminated; caller frees. */
static char *
slurp(const char *path, size_t *len)
{
	char *s;
	FILE *fp;
	long n;

	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

struct tmpdir {
	char	dir[64];
	char	path[96];
	char	rotated[96];
};

/*
 * A fresh directory for each file test; the teardown runs even when the
 * test fails, so nothing is left in /tmp.
 */
static int
tmpdir_setup(void **state)
{
	struct tmpdir *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	strcpy(t->dir, "/tmp/gb_log_test.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/gerbang.log", t->dir);
	snprintf(t->rotated, sizeof(t->rotated), "%s/gerbang.log.1", t->dir);
	*state = t;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	int rc;

	gb_log_close();
	unlink(t->path);
	unlink(t->rotated);
	rc = rmdir(t->dir);
	free(t);
	return rc == 0 ? 0 : -1;
}

static void
test_file_text_filtering(void **state)
{
	struct tmpdir *t = *state;
	char *s, want[64];

	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_TEXT,
	    GB_LOG_INFO), 0);
	assert_int_equal(gb_log_get_level(), GB_LOG_INFO);
	gb_info("hello %d", 1);
	gb_debug("hidden %d", 1);
	gb_log(GB_LOG_DEBUG, "hidden %d", 2);
	gb_warn("careful");
	gb_log_set_level(GB_LOG_DEBUG);
	assert_int_equal(gb_log_get_level(), GB_LOG_DEBUG);
	gb_debug("shown");
	gb_log_set_level(GB_LOG_ERR);
	gb_warn("hidden %d", 3);
	gb_notice("hidden %d", 4);
	gb_error("bad");
	gb_crit("worse");
	gb_log_close();

	s = slurp(t->path, NULL);
	assert_int_equal(count_lines(s), 5);
	assert_null(strstr(s, "hidden"));
	assert_null(strchr(s, '\033'));	/* never colour in a file */
	snprintf(want, sizeof(want), " gb-test[%ld] info: hello 1\n",
	    (long)getpid());
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "] warn: careful\n"));
	assert_non_null(strstr(s, "] debug: shown\n"));
	assert_non_null(strstr(s, "] error: bad\n"));
	assert_non_null(strstr(s, "] crit: worse\n"));
	assert_true(strstr(s, "hello") < strstr(s, "careful"));
	assert_true(strstr(s, "bad") < strstr(s, "worse"));
	/* Each line starts with a timestamp. */
	assert_int_equal(s[4], '-');
	assert_int_equal(s[10], 'T');
	free(s);
}

static void
test_file_json(void **state)
{
	struct tmpdir *t = *state;
	struct json j;
	char *s, *line, *nl;
	int n = 0;

	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_JSON,
	    GB_LOG_DEBUG), 0);
	gb_debug("one \"quoted\"");
	gb_info("two\nlines");
	gb_error("three \xff");
	gb_log_close();

	s = slurp(t->path, NULL);
	for (line = s; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_json_line(line, (size_t)(nl - line) + 1, &j);
		switch (n++) {
		case 0:
			assert_string_equal(j.msg, "one \"quoted\"");
			assert_string_equal(j.level, "debug");
			break;
		case 1:
			assert_string_equal(j.msg, "two\nlines");
			break;
		case 2:
			assert_string_equal(j.msg, "three \xef\xbf\xbd");
			assert_string_equal(j.level, "error");
			break;
		}
	}
	assert_int_equal(n, 3);
	free(s);
}

/* A long message is one line of at most GB_LOG_LINE_MAX, ending "...". */
static void
test_file_long_message(void **state)
{
	struct tmpdir *t = *state;
	struct json j;
	char *msg, *s;
	size_t len;

	msg = long_message(10000);

	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_TEXT,
	    GB_LOG_INFO), 0);
	gb_info("%s", msg);
	gb_log_close();
	s = slurp(t->path, &len);
	assert_true(len <= GB_LOG_LINE_MAX);
	assert_true(len > GB_LOG_LINE_MAX - 100);
	assert_string_equal(s + len - 4, "...\n");
	free(s);
	assert_int_equal(unlink(t->path), 0);

	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_JSON,
	    GB_LOG_INFO), 0);
	gb_info("%s", msg);
	gb_log_close();
	s = slurp(t->path, &len);
	assert_true(len <= GB_LOG_LINE_MAX);
	assert_true(len > GB_LOG_LINE_MAX - 200);
	assert_json_line(s, len, &j);
	assert_string_equal(j.msg + j.msglen - 3, "...");
	assert_memory_equal(j.msg, msg, j.msglen - 3);
	free(s);

	free(msg);
}

/* Rotation: rename the file, reopen, new lines go to a new file. */
static void
test_reopen_after_rename(void **state)
{
	struct tmpdir *t = *state;
	char *s;

	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_TEXT,
	    GB_LOG_INFO), 0);
	gb_info("before rotation");
	assert_int_equal(rename(t->path, t->rotated), 0);
	gb_info("still to the old file");
	assert_int_equal(access(t->path, F_OK), -1);
	assert_int_equal(gb_log_reopen(), 0);
	gb_info("after rotation");
	assert_int_equal(gb_log_reopen(), 0);	/* twice is harmless */
	gb_info("after again");
	gb_log_close();

	s = slurp(t->rotated, NULL);
	assert_int_equal(count_lines(s), 2);
	assert_non_null(strstr(s, "info: before rotation\n"));
	assert_non_null(strstr(s, "info: still to the old file\n"));
	free(s);
	s = slurp(t->path, NULL);
	assert_int_equal(count_lines(s), 2);
	assert_non_null(strstr(s, "info: after rotation\n"));
	assert_non_null(strstr(s, "info: after again\n"));
	free(s);
}

/* Opening appends to an existing file. */
static void
test_open_appends(void **state)
{
	struct tmpdir *t = *state;
	char *s;
	FILE *fp;

	fp = fopen(t->path, "w");
	assert_non_null(fp);
	fputs("existing line\n", fp);
	fclose(fp);
	assert_int_equal(gb_log_open("gb-test", t->path, GB_LOG_TEXT,
	    GB_LOG_INFO), 0);
	gb_notice("appended");
	gb_log_close();
	s = slurp(t->path, NULL);
	assert_int_equal(strncmp(s, "existing line\n", 14), 0);
	assert_non_null(strstr(s, "notice: appended\n"));
	free(s);
}

static void
test_open_fails(void **state)
{
	struct tmpdir *t = *state;
	char bad[128];

	snprintf(bad, sizeof(bad), "%s/missing/gerbang.log", t->dir);
	errno = 0;
	assert_int_equal(gb_log_open("gb-test", bad, GB_LOG_TEXT, GB_LOG_INFO),
	    -1);
	assert_int_equal(errno, ENOENT);
	/* Still usable (on stderr); reopen has no file to reopen. */
	assert_int_equal(gb_log_reopen(), 0);
	gb_log_close();
	/* stderr by name. */
	assert_int_equal(gb_log_open("gb-test", "-", GB_LOG_TEXT, GB_LOG_CRIT),
	    0);
	assert_int_equal(gb_log_reopen(), 0);
	gb_log_close();
	assert_int_equal(gb_log_open(NULL, NULL, GB_LOG_JSON, GB_LOG_CRIT), 0);
	gb_log_close();
}

#define FILE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_format_text),
		cmocka_unit_test(test_format_text_colour),
		cmocka_unit_test(test_format_text_cut),
		cmocka_unit_test(test_format_json),
		cmocka_unit_test(test_format_json_escaping),
		cmocka_unit_test(test_format_json_long),
		cmocka_unit_test(test_format_json_fits),
		FILE_TEST(test_file_text_filtering),
		FILE_TEST(test_file_json),
		FILE_TEST(test_file_long_message),
		FILE_TEST(test_reopen_after_rename),
		FILE_TEST(test_open_appends),
		FILE_TEST(test_open_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
