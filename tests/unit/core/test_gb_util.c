/*
 * Unit tests for core/gb_util.c: sizes, durations, host:port, "did you
 * mean" and the monotonic clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/gb_util.h"

static void
size_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	if (gb_parse_size(s, &v) != 0)
		fail_msg("gb_parse_size(\"%s\") refused", s);
	if (v != want)
		fail_msg("gb_parse_size(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)v, (unsigned long long)want);
}

static void
size_bad(const char *s)
{
	uint64_t v = 12345;

	if (gb_parse_size(s, &v) != -1)
		fail_msg("gb_parse_size(\"%s\") accepted (%llu)", s,
		    (unsigned long long)v);
	assert_int_equal(v, 12345);	/* out untouched */
}

static void
test_parse_size(void **state)
{
	(void)state;
	size_ok("0", 0);
	size_ok("1", 1);
	size_ok("512", 512);
	size_ok("512b", 512);
	size_ok("64k", 64 * 1024);
	size_ok("64K", 64 * 1024);
	size_ok("64kb", 64 * 1024);
	size_ok("64KiB", 64 * 1024);
	size_ok("10m", 10ull << 20);
	size_ok("10MiB", 10ull << 20);
	size_ok("10MB", 10ull << 20);
	size_ok("1g", 1ull << 30);
	size_ok("1G", 1ull << 30);
	size_ok("1gib", 1ull << 30);
	size_ok("4096g", 4096ull << 30);
	size_ok("007k", 7 * 1024);
	/* The largest values, exactly. */
	size_ok("18446744073709551615", UINT64_MAX);
	size_ok("18446744073709551610", UINT64_MAX - 5);
	size_ok("17179869183g", 17179869183ull << 30);
	size_ok("18014398509481983k", 18014398509481983ull << 10);

	size_bad("");
	size_bad("k");
	size_bad("-1");
	size_bad("+1");
	size_bad(" 1k");
	size_bad("1k ");
	size_bad("1 k");
	size_bad("1.5k");
	size_bad("1kk");
	size_bad("1t");
	size_bad("1kibi");
	size_bad("1e3");
	size_bad("0x10");
	/* Overflow, in the digits and through the unit. */
	size_bad("18446744073709551616");
	size_bad("99999999999999999999");
	size_bad("184467440737095516150");
	size_bad("17179869184g");
	size_bad("18014398509481984k");
}

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	if (gb_parse_duration_ms(s, &v) != 0)
		fail_msg("gb_parse_duration_ms(\"%s\") refused", s);
	if (v != want)
		fail_msg("gb_parse_duration_ms(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)v, (unsigned long long)want);
}

static void
dur_bad(const char *s)
{
	uint64_t v = 12345;

	if (gb_parse_duration_ms(s, &v) != -1)
		fail_msg("gb_parse_duration_ms(\"%s\") accepted (%llu)", s,
		    (unsigned long long)v);
	assert_int_equal(v, 12345);
}

static void
test_parse_duration(void **state)
{
	(void)state;
	dur_ok("500ms", 500);
	dur_ok("0ms", 0);
	dur_ok("30s", 30000);
	dur_ok("2m", 120000);
	dur_ok("1h", 3600000);
	dur_ok("1d", 86400000);
	dur_ok("7d", 7ull * 86400000);
	dur_ok("30", 30000);	/* a bare number is seconds */
	dur_ok("0", 0);
	dur_ok("18446744073709551615ms", UINT64_MAX);
	dur_ok("18446744073709551s", 18446744073709551000ull);

	dur_bad("");
	dur_bad("ms");
	dur_bad("s");
	dur_bad("-1s");
	dur_bad("+1s");
	dur_bad(" 1s");
	dur_bad("1s ");
	dur_bad("1 s");
	dur_bad("1.5s");
	dur_bad("1w");
	dur_bad("1sec");
	dur_bad("1mss");
	dur_bad("1h30m");
	dur_bad("18446744073709552s");
	dur_bad("18446744073709552");
	dur_bad("213503982335d");
	dur_bad("99999999999999999999ms");
}

struct hp_case {
	const char	*in;
	int		 default_port;
	int		 allow_zero;
	const char	*host;	/* NULL: refused */
	int		 port;
};

static void
test_parse_hostport(void **state)
{
	static const struct hp_case cases[] = {
		{ "example.id:443", -1, 0, "example.id", 443 },
		{ "127.0.0.1:8443", -1, 0, "127.0.0.1", 8443 },
		{ "[::1]:443", -1, 0, "::1", 443 },
		{ "[2001:db8::1]:65535", -1, 0, "2001:db8::1", 65535 },
		{ "[fe80::1%eth0]:80", -1, 0, "fe80::1%eth0", 80 },
		{ "host:1", -1, 0, "host", 1 },
		{ "host", 80, 0, "host", 80 },
		{ "[::1]", 8080, 0, "::1", 8080 },
		{ "host:0", -1, 1, "host", 0 },
		/* Refused. */
		{ "host", -1, 0, NULL, 0 },
		{ "[::1]", -1, 0, NULL, 0 },
		{ "host:0", -1, 0, NULL, 0 },
		{ "host:65536", -1, 0, NULL, 0 },
		{ "host:99999", -1, 1, NULL, 0 },
		{ "host:abc", -1, 0, NULL, 0 },
		{ "host:80x", -1, 0, NULL, 0 },
		{ "host:-1", -1, 0, NULL, 0 },
		{ "host:+80", -1, 0, NULL, 0 },
		{ "host: 80", -1, 0, NULL, 0 },
		{ "host:", 80, 0, NULL, 0 },
		{ ":80", -1, 0, NULL, 0 },
		{ "", 80, 0, NULL, 0 },
		{ "::1", 80, 0, NULL, 0 },
		{ "2001:db8::1:443", -1, 0, NULL, 0 },
		{ "a:b:80", -1, 0, NULL, 0 },
		{ "[::1", 80, 0, NULL, 0 },
		{ "[::1]443", -1, 0, NULL, 0 },
		{ "[::1]:", -1, 0, NULL, 0 },
		{ "[]:80", -1, 0, NULL, 0 },
		{ "[::1]:0", -1, 0, NULL, 0 },
	};
	char host[64];
	size_t i;
	int port, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hp_case *c = &cases[i];

		strcpy(host, "untouched");
		port = -7;
		rc = gb_parse_hostport(c->in, host, sizeof(host), &port,
		    c->default_port, c->allow_zero);
		if (c->host == NULL) {
			if (rc != -1)
				fail_msg("\"%s\" accepted as %s port %d",
				    c->in, host, port);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\" refused", c->in);
		if (strcmp(host, c->host) != 0 || port != c->port)
			fail_msg("\"%s\" -> %s %d, want %s %d", c->in, host,
			    port, c->host, c->port);
	}
}

/* hostlen counts the NUL: a host that does not fit is refused. */
static void
test_parse_hostport_hostlen(void **state)
{
	char host[8];
	int port;

	(void)state;
	assert_int_equal(gb_parse_hostport("1234567:80", host, sizeof(host),
	    &port, -1, 0), 0);
	assert_string_equal(host, "1234567");
	assert_int_equal(gb_parse_hostport("12345678:80", host, sizeof(host),
	    &port, -1, 0), -1);
	assert_int_equal(gb_parse_hostport("[1234567]:80", host, sizeof(host),
	    &port, -1, 0), 0);
	assert_string_equal(host, "1234567");
	assert_int_equal(gb_parse_hostport("[12345678]:80", host,
	    sizeof(host), &port, -1, 0), -1);
	assert_int_equal(gb_parse_hostport("12345678", host, sizeof(host),
	    &port, 80, 0), -1);
}

static void
test_did_you_mean(void **state)
{
	static const char *const keys[] = { "listen", "country", "upstream",
	    "timeout", "tls", "max_body_size", NULL };
	static const char *const none[] = { NULL };

	(void)state;
	/* One typo: deletion, insertion, substitution. */
	assert_string_equal(gb_did_you_mean("contry", keys), "country");
	assert_string_equal(gb_did_you_mean("countryy", keys), "country");
	assert_string_equal(gb_did_you_mean("timeoot", keys), "timeout");
	assert_string_equal(gb_did_you_mean("max_body_sise", keys),
	    "max_body_size");
	/* Transpositions count as one edit. */
	assert_string_equal(gb_did_you_mean("lsiten", keys), "listen");
	assert_string_equal(gb_did_you_mean("upstraem", keys), "upstream");
	assert_string_equal(gb_did_you_mean("lsitne", keys), "listen");
	/* Two edits. */
	assert_string_equal(gb_did_you_mean("upstrm", keys), "upstream");
	/* Case-insensitive, transpositions too. */
	assert_string_equal(gb_did_you_mean("LISTEN", keys), "listen");
	assert_string_equal(gb_did_you_mean("Country", keys), "country");
	assert_string_equal(gb_did_you_mean("LSITEN", keys), "listen");
	assert_string_equal(gb_did_you_mean("LSITNE", keys), "listen");
	assert_string_equal(gb_did_you_mean("UpStraem", keys), "upstream");

	/* Nothing close. */
	assert_null(gb_did_you_mean("zzzzzz", keys));
	assert_null(gb_did_you_mean("geoip", keys));
	assert_null(gb_did_you_mean("upsteam_pool", keys));	/* too far */
	assert_null(gb_did_you_mean("x", none));
	assert_null(gb_did_you_mean("", keys));
	/* The distance must stay below half the word. */
	assert_null(gb_did_you_mean("tl", keys));	/* 1 of 2 */
	assert_null(gb_did_you_mean("lstn", keys));	/* 2 of 4 */
	assert_string_equal(gb_did_you_mean("tlss", keys), "tls"); /* 1 of 4 */
	assert_string_equal(gb_did_you_mean("lsten", keys), "listen");
	/* Very long words are never close. */
	assert_null(gb_did_you_mean(
	    "countrycountrycountrycountrycountry", keys));
}

static void
test_clock(void **state)
{
	uint64_t a, b, na, nb;
	int i;

	(void)state;
	a = gb_now_ms();
	na = gb_now_ns();
	for (i = 0; i < 1000; i++) {
		b = gb_now_ms();
		nb = gb_now_ns();
		assert_true(b >= a);
		assert_true(nb >= na);
		a = b;
		na = nb;
	}
	/* Both read the same clock. */
	nb = gb_now_ns() / 1000000u;
	b = gb_now_ms();
	assert_true(b >= nb && b - nb < 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_hostport),
		cmocka_unit_test(test_parse_hostport_hostlen),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
