/*
 * Unit tests for policy/pol_net.c: CIDR parsing (valid, malformed, host
 * bits), range sets (merging, edges, IPv4 and IPv6, v4-mapped), the
 * country list and the fixed-offset time zones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"
#include "tests/unit/policy/pol_test.h"

static void
test_cidr_parse(void **state)
{
	static const struct {
		const char	*s;
		int		 rc;
		unsigned	 plen;
	} t[] = {
		{ "10.0.0.0/8", 0, 8 }, { "0.0.0.0/0", 0, 0 },
		{ "1.2.3.4", 0, 32 }, { "1.2.3.4/32", 0, 32 },
		{ "::/0", 0, 0 }, { "2001:db8::/32", 0, 32 },
		{ "2001:db8::1", 0, 128 }, { "::ffff:10.0.0.0/104", 0, 104 },
		{ "10.0.0.1/8", -1, 0 }, { "10.0.0.0/33", -1, 0 },
		{ "10.0.0.0/", -1, 0 }, { "10.0.0.0/08", -1, 0 },
		{ "10.0.0.0/-1", -1, 0 }, { "10.0.0.0/8x", -1, 0 },
		{ "/8", -1, 0 }, { "", -1, 0 }, { "10.0.0/8", -1, 0 },
		{ "2001:db8::/129", -1, 0 }, { "2001:db8::1/64", -1, 0 },
		{ "::1/127", -1, 0 }, { "host.example", -1, 0 },
		{ " 10.0.0.0/8", -1, 0 },
	};
	struct pol_cidr c;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why = NULL;
		if (pol_cidr_parse(t[i].s, &c, &why) != t[i].rc) {
			fprintf(stderr, "\"%s\": expected %d\n", t[i].s,
			    t[i].rc);
			fail();
		}
		if (t[i].rc == 0)
			assert_int_equal(c.plen, t[i].plen);
		else
			assert_non_null(why);
	}
}

static bool
has(const struct pol_cidrset *cs, const char *ip)
{
	struct pt_addr a;
	struct pol_addr pa;

	assert_int_equal(pol_addr_from_sa(pt_sa(&a, ip), &pa), 0);
	return pol_cidrset_has(cs, &pa);
}

static void
build(struct pol_cidrset *cs, struct pol_cidr *v, const char *const *s,
    size_t n)
{
	const char *why;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(pol_cidr_parse(s[i], &v[i], &why), 0);
	assert_int_equal(pol_cidrset_build(cs, v, n), 0);
}

static void
test_cidrset(void **state)
{
	static const char *const s[] = { "10.0.0.0/8", "10.1.0.0/16",
	    "192.168.1.0/24", "192.168.2.0/24", "192.168.0.0/24",
	    "203.0.113.7", "255.255.255.255", "2001:db8::/32",
	    "2001:db8:1::/48", "::1", "fe80::/10",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	struct pol_cidr v[12];
	struct pol_cidrset cs;
	const struct pol_cidr *w;
	struct pol_addr pa;
	struct pt_addr a;

	(void)state;
	build(&cs, v, s, 12);
	/* Merged: 10/8 swallows 10.1/16; 192.168.0-2 become one range. */
	assert_int_equal(cs.n4, 4);
	assert_int_equal(cs.n6, 4);
	assert_true(has(&cs, "10.0.0.0"));
	assert_true(has(&cs, "10.255.255.255"));
	assert_false(has(&cs, "11.0.0.0"));
	assert_false(has(&cs, "9.255.255.255"));
	assert_true(has(&cs, "192.168.0.0"));
	assert_true(has(&cs, "192.168.2.255"));
	assert_false(has(&cs, "192.168.3.0"));
	assert_true(has(&cs, "203.0.113.7"));
	assert_false(has(&cs, "203.0.113.8"));
	assert_false(has(&cs, "203.0.113.6"));
	assert_true(has(&cs, "255.255.255.255"));
	assert_false(has(&cs, "0.0.0.0"));
	assert_true(has(&cs, "::ffff:10.2.3.4"));	/* mapped = IPv4 */
	assert_true(has(&cs, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(has(&cs, "2001:db9::"));
	assert_false(has(&cs, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(has(&cs, "::1"));
	assert_false(has(&cs, "::2"));
	assert_false(has(&cs, "::"));
	assert_true(has(&cs, "febf:ffff::1"));
	assert_false(has(&cs, "fec0::"));
	assert_true(has(&cs, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	/* explain: the first CIDR as written. */
	assert_int_equal(pol_addr_from_sa(pt_sa(&a, "10.1.2.3"), &pa), 0);
	w = pol_cidrset_which(&cs, &pa);
	assert_non_null(w);
	assert_string_equal(w->text, "10.0.0.0/8");
	assert_int_equal(pol_addr_from_sa(pt_sa(&a, "2001:db8:1::9"), &pa), 0);
	assert_string_equal(pol_cidrset_which(&cs, &pa)->text,
	    "2001:db8::/32");
	pol_cidrset_free(&cs);
}

static void
test_cidrset_all(void **state)
{
	static const char *const s[] = { "0.0.0.0/0", "::/0", "1.2.3.0/24" };
	struct pol_cidr v[3];
	struct pol_cidrset cs;

	(void)state;
	build(&cs, v, s, 3);
	assert_int_equal(cs.n4, 1);
	assert_int_equal(cs.n6, 1);
	assert_true(has(&cs, "0.0.0.0"));
	assert_true(has(&cs, "255.255.255.255"));
	assert_true(has(&cs, "::"));
	assert_true(has(&cs, "ffff::"));
	pol_cidrset_free(&cs);
	/* Empty set matches nothing. */
	assert_int_equal(pol_cidrset_build(&cs, v, 0), 0);
	assert_false(has(&cs, "1.2.3.4"));
	assert_false(has(&cs, "::1"));
	pol_cidrset_free(&cs);
}

/* Against a linear scan, over random prefixes and addresses (enough to
 * build the /16 index). */
static void
test_cidrset_random(void **state)
{
	static struct pol_cidr v[2000];
	struct pol_cidrset cs;
	struct pol_addr pa;
	uint64_t r = 12345;
	size_t i, j;
	char buf[64];
	const char *why;

	(void)state;
	for (i = 0; i < 2000; i++) {
		unsigned plen;
		uint32_t ad, m;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		plen = 16 + (unsigned)(r >> 60);	/* 16..31 */
		if (plen > 32)
			plen = 32;
		ad = (uint32_t)(r >> 20) & 0x0fffffff;
		m = ~0u << (32 - plen);
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", (ad & m) >> 24,
		    (ad & m) >> 16 & 255, (ad & m) >> 8 & 255, ad & m & 255,
		    plen);
		assert_int_equal(pol_cidr_parse(buf, &v[i], &why), 0);
		v[i].text = NULL;
	}
	assert_int_equal(pol_cidrset_build(&cs, v, 2000), 0);
	assert_non_null(cs.idx4);
	for (j = 0; j < 20000; j++) {
		bool lin = false;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		memset(&pa, 0, sizeof(pa));
		pa.af = AF_INET;
		pa.v4 = (uint32_t)(r >> 32) & 0x0fffffff;
		for (i = 0; i < 2000 && !lin; i++) {
			uint32_t m = ~0u << (32 - v[i].plen);

			lin = (pa.v4 & m) == v[i].addr.v4;
		}
		assert_int_equal(pol_cidrset_has(&cs, &pa), lin);
	}
	pol_cidrset_free(&cs);
}

static void
test_countries(void **state)
{
	(void)state;
	assert_int_equal(pol_country_idx("ID"), ('I' - 'A') * 26 + 'D' - 'A');
	assert_true(pol_country_idx("AD") >= 0);
	assert_true(pol_country_idx("ZW") >= 0);
	assert_true(pol_country_idx("SG") >= 0);
	assert_true(pol_country_idx("TL") >= 0);
	assert_int_equal(pol_country_idx("XX"), -1);
	assert_int_equal(pol_country_idx("UK"), -1);	/* it is GB */
	assert_int_equal(pol_country_idx("id"), -1);
	assert_int_equal(pol_country_idx("IDN"), -1);
	assert_int_equal(pol_country_idx("I"), -1);
	assert_int_equal(pol_country_idx(""), -1);
	assert_int_equal(pol_country_idx(NULL), -1);
}

static void
test_tz(void **state)
{
	int off = 12345;

	(void)state;
	assert_int_equal(pol_tz_parse("Asia/Jakarta", &off), 0);
	assert_int_equal(off, 420);
	assert_int_equal(pol_tz_parse("Asia/Makassar", &off), 0);
	assert_int_equal(off, 480);
	assert_int_equal(pol_tz_parse("Asia/Jayapura", &off), 0);
	assert_int_equal(off, 540);
	assert_int_equal(pol_tz_parse("UTC", &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(pol_tz_parse("+05:30", &off), 0);
	assert_int_equal(off, 330);
	assert_int_equal(pol_tz_parse("-03:00", &off), 0);
	assert_int_equal(off, -180);
	assert_int_equal(pol_tz_parse("+14:00", &off), 0);
	assert_int_equal(pol_tz_parse("+14:30", &off), -1);
	assert_int_equal(pol_tz_parse("+7", &off), -1);
	assert_int_equal(pol_tz_parse("+07:60", &off), -1);
	assert_int_equal(pol_tz_parse("Europe/Amsterdam", &off), -1);
}

static void
test_localtime(void **state)
{
	int64_t day;
	int minute, wday;

	(void)state;
	/* 2024-01-03 03:00 UTC = Wednesday 10:00 WIB. */
	pol_localtime(1704250800, 420, &day, &minute, &wday);
	assert_int_equal(minute, 600);
	assert_int_equal(wday, 3);
	/* 23:30 UTC Tuesday is already Wednesday 06:30 in Jakarta. */
	pol_localtime(1704151800 + 86400, 420, &day, &minute, &wday);
	assert_int_equal(wday, 3);
	assert_int_equal(minute, 390);
	/* Before the epoch: 1969-12-31 23:00 UTC, a Wednesday. */
	pol_localtime(-3600, 0, &day, &minute, &wday);
	assert_int_equal(day, -1);
	assert_int_equal(minute, 23 * 60);
	assert_int_equal(wday, 3);
}

static void
test_methods(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(pol_method_bit("GET", 3), POL_M_GET);
	assert_int_equal(pol_method_bit("OPTIONS", 7), POL_M_OPTIONS);
	assert_int_equal(pol_method_bit("get", 3), 0);
	assert_int_equal(pol_method_bit("GETX", 3), POL_M_GET);
	assert_int_equal(pol_method_bit("GET", 2), 0);
	assert_string_equal(pol_methods_str(POL_M_GET | POL_M_DELETE, buf,
	    sizeof(buf)), "GET,DELETE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidrset),
		cmocka_unit_test(test_cidrset_all),
		cmocka_unit_test(test_cidrset_random),
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_tz),
		cmocka_unit_test(test_localtime),
		cmocka_unit_test(test_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
