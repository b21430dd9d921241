/* gb_util: sizes, durations, host:port, suggestions, clocks. */
#include "core/gb_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Leading decimal digits of s into *v; returns the count, 0 on overflow. */
static size_t
parse_digits(const char *s, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (*v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return i;
}

int
gb_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
	};
	uint64_t v;
	size_t n, i;

	if ((n = parse_digits(s, &v)) == 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(s + n, units[i].unit) != 0)
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -1;
		*out = v << units[i].shift;
		return 0;
	}
	return -1;
}

int
gb_parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v;
	size_t n, i;

	if ((n = parse_digits(s, &v)) == 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].ms)
			return -1;
		*out = v * units[i].ms;
		return 0;
	}
	return -1;
}

int
gb_parse_hostport(const char *s, char *host, size_t hostlen, int *port,
    int default_port, int allow_zero)
{
	const char *h = s, *colon, *end;
	size_t hl;
	uint64_t p;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			return -1;	/* bare IPv6 needs brackets */
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	if (colon == NULL) {
		if (default_port < 0)
			return -1;
		p = (uint64_t)default_port;
	} else {
		size_t n = parse_digits(colon + 1, &p);

		if (n == 0 || colon[1 + n] != '\0' || n > 5 || p > 65535 ||
		    (p == 0 && !allow_zero))
			return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[34][34];

	if (la > 32 || lb > 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			size_t m = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	}
	return d[la][lb];
}

const char *
gb_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t bestd = 3, dist, wl = strlen(word);

	for (; *candidates != NULL; candidates++) {
		dist = edit_distance(word, *candidates);
		if (dist < bestd && dist * 2 < wl) {
			best = *candidates;
			bestd = dist;
		}
	}
	return best;
}

uint64_t
gb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
gb_now_ms(void)
{
	return gb_now_ns() / 1000000u;
}

const char *
gb_flags_str(const struct gb_flag_name *names, size_t n, unsigned flags,
    const char *none, char *buf, size_t len)
{
	size_t i, off = 0;
	int w;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (flags == 0) {
		(void)snprintf(buf, len, "%s", none);
		return buf;
	}
	for (i = 0; i < n; i++) {
		if ((flags & names[i].bit) == 0)
			continue;
		flags &= ~names[i].bit;
		w = snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
		    names[i].name);
		if (w < 0 || (size_t)w >= len - off)
			return buf;
		off += (size_t)w;
	}
	if (flags != 0)
		(void)snprintf(buf + off, len - off, "%s0x%x", off ? "|" : "",
		    flags);
	return buf;
}
