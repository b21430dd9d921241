/*
 * Unit tests for core/gb_idhdr.c: the signed X-Gerbang-Consumer header.
 * The signature is checked against an independent computation (OpenSSL's
 * one-shot HMAC() and EVP_EncodeBlock), then every way of breaking the
 * header: altered id, rid, ts or sig, another key, bad grammar.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_idhdr.h"

static void
key_of(struct gb_idhdr_key *k, char c)
{
	memset(k, 0, sizeof(*k));
	memset(k->key, c, 40);
	k->len = 40;
}

static void
test_sign_matches_hmac(void **state)
{
	struct gb_idhdr_key k;
	struct gb_idhdr_mac *m;
	char out[GB_IDHDR_VALUE_MAX], want[GB_IDHDR_VALUE_MAX], b64[64];
	const char msg[] = "gerbang-consumer-v1\ndinkes-jabar\n9f2c01aa-1b\n"
	    "1763820000";
	unsigned char md[32];
	unsigned mdlen = 0;
	size_t i;
	int n;

	(void)state;
	key_of(&k, 'x');
	assert_int_equal(gb_idhdr_mac_new(&k, &m), 0);
	/* Twice: the context is reused. */
	for (i = 0; i < 2; i++) {
		n = gb_idhdr_sign(m, "dinkes-jabar", "9f2c01aa-1b", 1763820000,
		    out, sizeof(out));
		assert_true(n > 0);
	}
	assert_non_null(HMAC(EVP_sha256(), k.key, (int)k.len,
	    (const unsigned char *)msg, sizeof(msg) - 1, md, &mdlen));
	assert_int_equal(mdlen, 32);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, md, 32), 44);
	for (i = 0; i < 44; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	b64[43] = '\0';		/* the '=' of the padding */
	snprintf(want, sizeof(want), "dinkes-jabar; rid=9f2c01aa-1b; "
	    "ts=1763820000; sig=%s", b64);
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
	gb_idhdr_mac_free(m);
}

static void
test_verify(void **state)
{
	struct gb_idhdr_key k, k2;
	struct gb_idhdr_mac *m, *m2;
	struct gb_idhdr h;
	char out[GB_IDHDR_VALUE_MAX], bad[GB_IDHDR_VALUE_MAX + 8];
	char *p;
	int n;

	(void)state;
	key_of(&k, 'x');
	key_of(&k2, 'y');
	assert_int_equal(gb_idhdr_mac_new(&k, &m), 0);
	assert_int_equal(gb_idhdr_mac_new(&k2, &m2), 0);
	n = gb_idhdr_sign(m, "djp", "r-1", 42, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(gb_idhdr_verify(m, out, (size_t)n, &h),
	    GB_IDHDR_SIGNED);
	assert_string_equal(h.consumer, "djp");
	assert_string_equal(h.rid, "r-1");
	assert_int_equal(h.ts, 42);
	/* Spaces around the value are allowed (header OWS). */
	snprintf(bad, sizeof(bad), "  %s ", out);
	assert_int_equal(gb_idhdr_verify(m, bad, strlen(bad), &h),
	    GB_IDHDR_SIGNED);
	/* Another key. */
	assert_int_equal(gb_idhdr_verify(m2, out, (size_t)n, &h),
	    GB_IDHDR_BADSIG);
	assert_string_equal(h.consumer, "djp");
	/* No key: parsed, not checked. */
	assert_int_equal(gb_idhdr_verify(NULL, out, (size_t)n, &h),
	    GB_IDHDR_UNCHECKED);
	/* Each field altered. */
	snprintf(bad, sizeof(bad), "%s", out);
	bad[0] = 'x';
	assert_int_equal(gb_idhdr_verify(m, bad, strlen(bad), &h),
	    GB_IDHDR_BADSIG);
	snprintf(bad, sizeof(bad), "%s", out);
	p = strstr(bad, "rid=r-1");
	p[6] = '2';
	assert_int_equal(gb_idhdr_verify(m, bad, strlen(bad), &h),
	    GB_IDHDR_BADSIG);
	snprintf(bad, sizeof(bad), "%s", out);
	p = strstr(bad, "ts=42");
	p[4] = '3';
	assert_int_equal(gb_idhdr_verify(m, bad, strlen(bad), &h),
	    GB_IDHDR_BADSIG);
	snprintf(bad, sizeof(bad), "%s", out);
	p = strstr(bad, "sig=") + 4;
	p[0] = p[0] == 'A' ? 'B' : 'A';
	assert_int_equal(gb_idhdr_verify(m, bad, strlen(bad), &h),
	    GB_IDHDR_BADSIG);
	gb_idhdr_mac_free(m);
	gb_idhdr_mac_free(m2);
}

static void
test_grammar(void **state)
{
	static const char *const malformed[] = {
		"", " ", ";", "dinkes;", "dinkes; rid=a", "dinkes; rid=a; ts=1",
		"din kes", "dinkes;rid=a; ts=1; sig=AAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAA",
		"dinkes; ts=1; rid=a; sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAA",
		"dinkes; rid=a; ts=1x; sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAA",
		"dinkes; rid=a; ts=; sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAA",
		"dinkes; rid=a; ts=1; sig=AAAA",
		"dinkes; rid=a b; ts=1; sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAA",
		"dinkes; rid=a; ts=1; sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAA; x=1",
		"dinkes; rid=a; ts=12345678901234567890; sig=AAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"\xc3\xa9", "a\r\nX-Evil: 1",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaa",
	};
	struct gb_idhdr h;
	char out[GB_IDHDR_VALUE_MAX];
	struct gb_idhdr_key k;
	struct gb_idhdr_mac *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		assert_int_equal(gb_idhdr_verify(NULL, malformed[i],
		    strlen(malformed[i]), &h), GB_IDHDR_MALFORMED);
		assert_string_equal(h.consumer, "");
	}
	assert_int_equal(gb_idhdr_verify(NULL, "dinkes-jabar", 12, &h),
	    GB_IDHDR_UNSIGNED);
	assert_string_equal(h.consumer, "dinkes-jabar");
	assert_int_equal(h.ts, -1);
	key_of(&k, 'z');
	assert_int_equal(gb_idhdr_mac_new(&k, &m), 0);
	assert_int_equal(gb_idhdr_sign(m, "bad id", "r", 1, out,
	    sizeof(out)), -1);
	assert_int_equal(gb_idhdr_sign(m, "a", "r;x", 1, out, sizeof(out)),
	    -1);
	assert_int_equal(gb_idhdr_sign(m, "a", "r", -1, out, sizeof(out)),
	    -1);
	assert_int_equal(gb_idhdr_sign(m, "a", "r", 1, out, 20), -1);
	assert_string_equal(gb_idhdr_status_str(GB_IDHDR_BADSIG),
	    "bad-signature");
	gb_idhdr_mac_free(m);
}

static void
test_key_file(void **state)
{
	char path[] = "/tmp/gb_idhdr_test_XXXXXX", err[256];
	struct gb_idhdr_key k;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "short\n", 6), 6);
	assert_int_equal(gb_idhdr_key_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "openssl rand -hex 32"));
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef\n", 65, 0), 65);
	assert_int_equal(gb_idhdr_key_load(path, &k, err, sizeof(err)), 0);
	assert_int_equal(k.len, 64);
	close(fd);
	unlink(path);
	assert_int_equal(gb_idhdr_key_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_matches_hmac),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
