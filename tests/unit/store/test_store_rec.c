/*
 * Unit tests for store/store_rec.c: the record encoding round-trips, every
 * prefix and every single-byte change of an encoding either fails or
 * decodes to something that re-encodes to the same bytes, malformed
 * records are refused, and the limits are exact (limit ok, limit + 1 not).
 * Inputs sit right before a PROT_NONE page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_test.h"

static void
enc(const struct store_alert *a, struct gb_buf *b)
{
	gb_buf_init(b, STORE_REC_MAX);
	assert_int_equal(store_rec_encode(a, b), 0);
}

static bool
str_same(const struct store_str *x, const struct store_str *y)
{
	return x->n == y->n && (x->n == 0 || memcmp(x->p, y->p, x->n) == 0);
}

static void
test_roundtrip(void **state)
{
	struct store_alert a, d;
	struct t_guard g;
	struct gb_buf b;
	uint8_t *p;
	uint64_t i;
	size_t k;

	(void)state;
	for (i = 0; i < 200; i++) {
		t_alert(i, &a);
		enc(&a, &b);
		p = t_guard_copy(&g, gb_buf_head(&b), gb_buf_used(&b));
		d.id = 42;
		assert_int_equal(store_rec_decode(p, gb_buf_used(&b), &d), 0);
		assert_int_equal(d.id, 42);
		assert_int_equal(d.time_ns, a.time_ns);
		assert_int_equal(d.win_start_ns, a.win_start_ns);
		assert_int_equal(d.win_end_ns, a.win_end_ns);
		assert_int_equal(d.bytes, a.bytes);
		assert_int_equal(d.severity, a.severity);
		assert_int_equal(d.af, a.af);
		assert_int_equal(d.proto, a.proto);
		assert_int_equal(d.sport, a.sport);
		assert_int_equal(d.dport, a.dport);
		assert_int_equal(d.status, a.status);
		assert_memory_equal(d.src, a.src, 16);
		assert_memory_equal(d.dst, a.dst, 16);
		assert_true(str_same(&d.sensor, &a.sensor));
		assert_true(str_same(&d.rule, &a.rule));
		assert_true(str_same(&d.consumer, &a.consumer));
		assert_true(str_same(&d.method, &a.method));
		assert_true(str_same(&d.host, &a.host));
		assert_true(str_same(&d.path, &a.path));
		assert_true(str_same(&d.incident, &a.incident));
		assert_true(str_same(&d.message, &a.message));
		assert_int_equal(d.ncounts, a.ncounts);
		for (k = 0; k < a.ncounts; k++) {
			assert_true(str_same(&d.counts[k].type,
			    &a.counts[k].type));
			assert_int_equal(d.counts[k].count, a.counts[k].count);
			assert_int_equal(d.counts[k].distinct,
			    a.counts[k].distinct);
		}
		assert_int_equal(d.nsamples, a.nsamples);
		assert_true(str_same(&d.samples[0].value, &a.samples[0].value));
		t_guard_free(&g);
		gb_buf_free(&b);
	}
}

/* Decode, and when it succeeds, re-encode: same bytes. */
static void
decode_or_same(const uint8_t *in, size_t n)
{
	struct store_alert d;
	struct t_guard g;
	struct gb_buf b;
	uint8_t *p = t_guard_copy(&g, in, n);

	if (store_rec_decode(p, n, &d) == 0) {
		enc(&d, &b);
		assert_int_equal(gb_buf_used(&b), n);
		assert_memory_equal(gb_buf_head(&b), in, n);
		gb_buf_free(&b);
	}
	t_guard_free(&g);
}

static void
test_prefixes_and_flips(void **state)
{
	struct store_alert a;
	struct gb_buf b;
	uint8_t buf[STORE_REC_MAX];
	size_t n, i;
	int bit;

	(void)state;
	t_alert(12, &a);
	enc(&a, &b);
	n = gb_buf_used(&b);
	memcpy(buf, gb_buf_head(&b), n);
	for (i = 0; i < n; i++)
		decode_or_same(buf, i);
	/* Shorter than the header: always refused. */
	for (i = 0; i < 76; i++) {
		struct store_alert d;

		assert_int_equal(store_rec_decode(buf, i, &d), -1);
	}
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			decode_or_same(buf, n);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	gb_buf_free(&b);
}

static int
dec(const uint8_t *p, size_t n)
{
	struct store_alert d;
	struct t_guard g;
	int rc = store_rec_decode(t_guard_copy(&g, p, n), n, &d);

	t_guard_free(&g);
	return rc;
}

static void
test_malformed(void **state)
{
	struct store_alert a;
	struct gb_buf b;
	uint8_t buf[512];
	size_t n;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sensor = store_str("s");
	a.rule = store_str("r");
	enc(&a, &b);
	n = gb_buf_used(&b);
	assert_int_equal(n, 76 + 4 + 4);
	memcpy(buf, gb_buf_head(&b), n);
	gb_buf_free(&b);
	assert_int_equal(dec(buf, n), 0);
	buf[0] = 2;				/* newer record version */
	assert_int_equal(dec(buf, n), -1);
	buf[0] = 1;
	buf[5] = 1;				/* reserved byte */
	assert_int_equal(dec(buf, n), -1);
	buf[5] = 0;
	buf[1] = STORE_SEV_COUNT;		/* severity */
	assert_int_equal(dec(buf, n), -1);
	buf[1] = 0;
	buf[2] = 0x80;				/* unknown flag */
	assert_int_equal(dec(buf, n), -1);
	buf[2] = 0;
	buf[3] = 5;				/* address family */
	assert_int_equal(dec(buf, n), -1);
	buf[3] = 0;
	buf[44] = 1;				/* address without family */
	assert_int_equal(dec(buf, n), -1);
	buf[44] = 0;
	/* Tags out of order: rule before sensor. */
	buf[76] = 2;
	buf[80] = 1;
	assert_int_equal(dec(buf, n), -1);
	/* The same tag twice. */
	buf[76] = 2;
	buf[80] = 2;
	assert_int_equal(dec(buf, n), -1);
	/* Missing sensor (required). */
	assert_int_equal(dec(buf + 0, 76), -1);
	buf[76] = 1;
	buf[80] = 2;
	/* Zero-length value, unknown tag, length past the end. */
	buf[77] = 0;
	assert_int_equal(dec(buf, n), -1);
	buf[77] = 1;
	buf[80] = 11;
	assert_int_equal(dec(buf, n), -1);
	buf[80] = 2;
	buf[81] = 2;
	assert_int_equal(dec(buf, n), -1);
	buf[81] = 1;
	/* Control byte and invalid UTF-8 in a string. */
	buf[83] = '\n';
	assert_int_equal(dec(buf, n), -1);
	buf[83] = (char)0xc0;
	assert_int_equal(dec(buf, n), -1);
	/* U+009B (CSI, a C1 control) as UTF-8 in a one-byte field. */
	{
		struct store_alert c;
		struct gb_buf e;

		memset(&c, 0, sizeof(c));
		c.sensor = store_str("s");
		c.rule = store_str("\xc2\x9b");
		gb_buf_init(&e, STORE_REC_MAX);
		assert_int_equal(store_rec_encode(&c, &e), -1);
		c.rule = store_str("\xc2\xa0");	/* U+00A0 is fine */
		assert_int_equal(store_rec_encode(&c, &e), 0);
		gb_buf_free(&e);
	}
	buf[83] = 'r';
	assert_int_equal(dec(buf, n), 0);
	/* A count: length must be 1 + type + 16; distinct <= count. */
	memcpy(buf + n, "\x09\x14\x00\x03nik", 7);
	memset(buf + n + 7, 0, 16);
	buf[n + 7] = 5;
	buf[n + 15] = 5;
	assert_int_equal(dec(buf, n + 23), 0);
	buf[n + 15] = 6;
	assert_int_equal(dec(buf, n + 23), -1);
	buf[n + 15] = 5;
	buf[n + 1] = 0x15;
	assert_int_equal(dec(buf, n + 23), -1);
	buf[n + 1] = 0x14;
	buf[n + 4] = 'N';			/* type name charset */
	assert_int_equal(dec(buf, n + 23), -1);
}

static void
test_limits(void **state)
{
	struct store_alert a;
	struct gb_buf b;
	char big[STORE_TEXT_MAX + 2];
	size_t i;

	(void)state;
	memset(big, 'x', sizeof(big));
	memset(&a, 0, sizeof(a));
	a.sensor = store_str("s");
	a.rule.p = big;
	a.rule.n = STORE_NAME_MAX;
	gb_buf_init(&b, STORE_REC_MAX);
	assert_int_equal(store_rec_encode(&a, &b), 0);
	a.rule.n = STORE_NAME_MAX + 1;
	assert_int_equal(store_rec_encode(&a, &b), -1);
	a.rule.n = 1;
	a.message.p = big;
	a.message.n = STORE_TEXT_MAX;
	assert_int_equal(store_rec_encode(&a, &b), 0);
	a.message.n = STORE_TEXT_MAX + 1;
	assert_int_equal(store_rec_encode(&a, &b), -1);
	a.message.n = 0;
	a.ncounts = STORE_COUNTS_MAX;
	for (i = 0; i < a.ncounts; i++) {
		a.counts[i].type = store_str("nik");
		a.counts[i].count = 1;
	}
	assert_int_equal(store_rec_encode(&a, &b), 0);
	a.ncounts = STORE_COUNTS_MAX + 1;
	assert_int_equal(store_rec_encode(&a, &b), -1);
	a.ncounts = 0;
	a.counts[0].type.p = big;
	a.counts[0].type.n = STORE_TYPE_MAX + 1;
	a.ncounts = 1;
	assert_int_equal(store_rec_encode(&a, &b), -1);
	/* A full buffer leaves it unchanged. */
	gb_buf_free(&b);
	gb_buf_init(&b, 10);
	a.ncounts = 0;
	assert_int_equal(store_rec_encode(&a, &b), -1);
	assert_int_equal(gb_buf_used(&b), 0);
	gb_buf_free(&b);
	assert_int_equal(store_sev_from_str("critical"), STORE_SEV_CRITICAL);
	assert_int_equal(store_sev_from_str("urgent"), -1);
	assert_string_equal(store_sev_str(9), "?");
}

static void
test_time_cidr(void **state)
{
	uint8_t net[16];
	unsigned bits;
	uint64_t t;
	char buf[40];

	(void)state;
	assert_int_equal(store_time_parse("2026-11-22", 0, &t), 0);
	assert_int_equal(t, 1795305600ULL * 1000000000ULL);
	assert_int_equal(store_time_parse("2026-11-22T07:00+07:00", 0, &t), 0);
	assert_int_equal(t, 1795305600ULL * 1000000000ULL);
	assert_int_equal(store_time_parse("2026-11-22T00:00:00.5Z", 0, &t), 0);
	assert_int_equal(t, 1795305600ULL * 1000000000ULL + 500000000ULL);
	store_time_fmt(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T00:00:00.500000000Z");
	assert_int_equal(store_time_parse("24h", 100ULL * 3600000000000ULL,
	    &t), 0);
	assert_int_equal(t, 76ULL * 3600000000000ULL);
	assert_int_equal(store_time_parse("2026-02-29", 0, &t), -1);
	assert_int_equal(store_time_parse("2028-02-29", 0, &t), 0);
	assert_int_equal(store_time_parse("2026-11-22T25:00Z", 0, &t), -1);
	assert_int_equal(store_time_parse("2026-11-22Tx", 0, &t), -1);
	assert_int_equal(store_time_parse("2026-11-22 ", 0, &t), -1);
	assert_int_equal(store_time_parse("-24h", 0, &t), -1);
	assert_int_equal(store_time_parse("", 0, &t), -1);
	assert_int_equal(store_cidr_parse("10.0.0.0/8", net, &bits), 0);
	assert_int_equal(bits, 104);
	assert_int_equal(net[10], 0xff);
	assert_int_equal(net[12], 10);
	assert_int_equal(store_cidr_parse("10.0.0.1/8", net, &bits), -1);
	assert_int_equal(store_cidr_parse("2001:db8::/32", net, &bits), 0);
	assert_int_equal(bits, 32);
	assert_int_equal(store_cidr_parse("10.1.2.3", net, &bits), 0);
	assert_int_equal(bits, 128);
	assert_int_equal(store_cidr_parse("10.0.0.0/33", net, &bits), -1);
	assert_int_equal(store_cidr_parse("10.0.0.0/08", net, &bits), -1);
	assert_int_equal(store_cidr_parse("10.0.0.0/", net, &bits), -1);
	assert_int_equal(store_cidr_parse("host/8", net, &bits), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_prefixes_and_flips),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_time_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
