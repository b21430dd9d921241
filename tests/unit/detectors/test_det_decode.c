/*
 * Unit tests for detectors/det_decode.c: each layer with valid, invalid,
 * truncated and over-limit input; offsets mapped back to the source; and
 * the streaming property (every split point, byte by byte) over escapes,
 * base64 blocks and gzip streams; the vector paths of the base64 run scan
 * against the scalar one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "detectors/det_decode.h"
#include "detectors/det_decode_int.h"

#define MAXF	64
#define NIK	"3171015708450001"

struct got {
	size_t			n;
	struct det_finding	f[MAXF];
	struct det_decode_stats	s;
};

static struct det_scanner *sc;

static void
collect(const struct det_finding *f, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < MAXF);
	g->f[g->n++] = *f;
}

/* Decode p[0..n) fed in chunks of chunk bytes (0: whole). */
static void
run(unsigned flags, const struct det_decode_limits *lim, const void *p,
    size_t n, size_t chunk, struct got *g)
{
	struct det_decoder *d;
	size_t i, k;
	int rc;

	memset(g, 0, sizeof(*g));
	assert_int_equal(det_decode_new(sc, flags, lim, &d), 0);
	if (chunk == 0)
		chunk = n > 0 ? n : 1;
	for (i = 0; i < n; i += k) {
		k = n - i < chunk ? n - i : chunk;
		assert_int_equal(det_decode_feed(d, (const uint8_t *)p + i, k,
		    collect, g), 0);
	}
	rc = det_decode_finish(d, collect, g);
	assert_int_equal(rc, (int)g->n);
	assert_int_equal(det_decode_feed(d, (const uint8_t *)"x", 1, collect,
	    g), -1);
	det_decode_stats(d, &g->s);
	det_decode_free(d);
}

static void
run_str(unsigned flags, const char *s, struct got *g)
{
	run(flags, NULL, s, strlen(s), 0, g);
}

/* Exactly one finding of type t, value v, at [off, off + len). */
static void
expect1(unsigned flags, const char *s, enum det_type t, const char *v,
    uint64_t off, uint32_t len)
{
	struct got g;

	run_str(flags, s, &g);
	if (g.n != 1 || g.f[0].type != t || strcmp(g.f[0].value, v) != 0)
		fail_msg("%s: got %zu findings (first %s %s)", s, g.n,
		    g.n ? det_type_str(g.f[0].type) : "-",
		    g.n ? g.f[0].value : "-");
	if (g.f[0].offset != off || g.f[0].length != len)
		fail_msg("%s: at %llu+%u, want %llu+%u", s,
		    (unsigned long long)g.f[0].offset, g.f[0].length,
		    (unsigned long long)off, len);
}

static void
test_json(void **state)
{
	struct got g;

	(void)state;
	expect1(DET_DEC_JSON, "{\"nik\":\"\\u0033171015708450001\"}",
	    DET_T_NIK, NIK, 8, 21);
	expect1(DET_DEC_JSON, "\\u0033\\u0031\\u0037\\u0031015708450001",
	    DET_T_NIK, NIK, 0, 36);
	/* A surrogate pair is one code point: the NIK after it is intact. */
	run_str(DET_DEC_JSON, "\\ud83d\\ude00 \\u0033171015708450001", &g);
	assert_int_equal(g.n, 1);
	assert_true(g.f[0].flags & DET_F_DECODED);
	assert_int_equal(g.s.errors, 0);
	assert_int_equal(g.s.escapes, 2);
	/* Lone surrogates and unknown escapes stay as written. */
	run_str(DET_DEC_JSON, "\\ud83dx \\udc00 \\x \\u12 \\u12G4 " NIK, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.errors, 5);
	assert_int_equal(g.s.escapes, 0);
	assert_int_equal(g.f[0].offset, 30);
	assert_false(g.f[0].flags & DET_F_DECODED);
	/* High surrogate followed by another escape: that one decodes. */
	run_str(DET_DEC_JSON, "\\ud83d\\n" NIK, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.errors, 1);
	assert_int_equal(g.s.escapes, 1);
	/* Off: scanned as written (\u0033 is not a digit). */
	run_str(0, "\\u0033171015708450001", &g);
	assert_int_equal(g.n, 0);
	/* Cut at the end: as written, one error. */
	run_str(DET_DEC_JSON, NIK " \\u00", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.errors, 1);
}

static void
test_pct_html(void **state)
{
	struct got g;

	(void)state;
	expect1(DET_DEC_PCT, "nik=%33%31%37%31015708450001&x=1", DET_T_NIK,
	    NIK, 4, 24);
	expect1(DET_DEC_PCT, "to=budi.santoso%40example.co.id", DET_T_EMAIL,
	    "budi.santoso@example.co.id", 3, 28);
	expect1(DET_DEC_PCT, "hp=%2B6281234567890", DET_T_PHONE,
	    "6281234567890", 3, 16);
	run_str(DET_DEC_PCT, "50% off %zz %4 " NIK " %", &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.errors, 4);
	expect1(DET_DEC_HTML, "<td>&#51;171015708450001</td>", DET_T_NIK,
	    NIK, 4, 20);
	expect1(DET_DEC_HTML, "<td>&#x33;171015708450001</td>", DET_T_NIK,
	    NIK, 4, 21);
	expect1(DET_DEC_HTML, "budi&commat;example&period;co.id",
	    DET_T_EMAIL, "budi@example.co.id", 0, 32);
	expect1(DET_DEC_HTML, "3171&nbsp;0157&nbsp;0845&nbsp;0001",
	    DET_T_NIK, NIK, 0, 34);
	run_str(DET_DEC_HTML, "&foo; &#; &#xZZ; &#55296; &#99999999; &amp "
	    "&#1114112; " NIK, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.escapes, 0);
	assert_int_equal(g.s.errors, 7);
}

static void
b64(const char *in, char *out, bool url)
{
	static const char *std =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char *urls =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *a = url ? urls : std;
	size_t n = strlen(in), i, o = 0;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)(uint8_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint8_t)in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
test_base64(void **state)
{
	char enc[256], doc[512];
	struct got g;

	(void)state;
	b64("{\"nik\":\"" NIK "\",\"nama\":\"Budi\"}", enc, false);
	snprintf(doc, sizeof(doc), "{\"data\":\"%s\"}", enc);
	run_str(DET_DEC_B64, doc, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.f[0].value, NIK);
	assert_int_equal(g.f[0].offset, 9);
	assert_int_equal(g.f[0].length, strlen(enc));
	assert_true(g.f[0].flags & DET_F_DECODED);
	assert_true(g.f[0].confidence >= 90);	/* the decoded key counts */
	assert_int_equal(g.s.b64_blocks, 1);
	/* url-safe, no padding */
	b64("email: siti.aminah@contoh.go.id ok?>", enc, true);
	assert_non_null(strchr(enc, '-'));
	enc[strcspn(enc, "=")] = '\0';
	run_str(DET_DEC_B64, enc, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.f[0].type, DET_T_EMAIL);
	/* Percent-encoded base64 (a token in a URL). */
	b64("nik " NIK "?!>", enc, false);
	assert_non_null(strchr(enc, '/'));
	{
		char *s = strchr(enc, '/'), tmp[sizeof(enc) + 8];

		*s = '\0';
		snprintf(tmp, sizeof(tmp), "t=%s%%2F%s", enc, s + 1);
		run_str(DET_DEC_B64 | DET_DEC_PCT, tmp, &g);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.f[0].offset, 2);
		assert_int_equal(g.f[0].length, strlen(tmp) - 2);
	}
	/* Not plausible text, too short, mixed alphabets, bad padding. */
	run_str(DET_DEC_B64, NIK " " NIK "0812345678901234 "
	    "3q2+7wAAAAAAAAAAAAAAAAAAAAAA aGVsbG8gd29y "
	    "bmlrIDMxNzEwMTU3MDg0NTAwMDE+-w== bmlrIDMxNzEwMTU3MDg0NTAwMD=",
	    &g);
	assert_int_equal(g.s.b64_blocks, 0);
	assert_int_equal(g.n, 1);
	/* Over b64_max: scanned as written, limit reported. */
	{
		struct det_decode_limits lim = { .b64_max = 32 };
		char big[256];

		b64("nik " NIK " nama Budi Santoso, Jakarta", big, false);
		run(DET_DEC_B64, &lim, big, strlen(big), 0, &g);
		assert_int_equal(g.n, 0);
		assert_int_equal(g.s.limit_hits, 1);
		assert_true(g.s.limits & DET_DEC_L_B64);
	}
}

static size_t
zip_h(const void *in, size_t n, uint8_t *out, size_t cap, int wbits,
    gz_header *h)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	if (h != NULL)
		assert_int_equal(deflateSetHeader(&z, h), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t
zip(const void *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	return zip_h(in, n, out, cap, wbits, NULL);
}

/* gzip with every optional header field (RFC 1952: extra, name, comment,
 * header CRC), read here since zlib inflates it raw. */
static size_t
zip_hdr(const void *in, size_t n, uint8_t *out, size_t cap)
{
	static unsigned char extra[] = "AB\x04\x00wxyz";
	static unsigned char name[] = "data.json";
	static unsigned char comment[] = "export \xff";
	gz_header h;

	memset(&h, 0, sizeof(h));
	h.extra = extra;
	h.extra_len = sizeof(extra) - 1;
	h.name = name;
	h.comment = comment;
	h.hcrc = 1;
	return zip_h(in, n, out, cap, 16 + 15, &h);
}

static void
test_zlib(void **state)
{
	static const char body[] = "{\"nik\":\"" NIK "\",\"no_hp\":"
	    "\"081234567890\",\"data\":\"\\u0033171015708450002\"}";
	uint8_t z[1024], two[2048];
	struct got g;
	size_t n, n2;

	(void)state;
	n = zip(body, sizeof(body) - 1, z, sizeof(z), 16 + 15);
	run(DET_DEC_GZIP | DET_DEC_JSON, NULL, z, n, 0, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.f[0].offset, 8);	/* in the inflated body */
	assert_int_equal(g.s.in_bytes, n);
	assert_int_equal(g.s.inspected_bytes, n);
	assert_int_equal(g.s.skipped_bytes, 0);
	assert_int_equal(g.s.decoded_bytes, sizeof(body) - 1 - 5);
	assert_true(g.s.layers & DET_DEC_GZIP);
	assert_int_equal(g.s.errors, 0);
	/* Not gzip: scanned as is. */
	run(DET_DEC_GZIP, NULL, body, sizeof(body) - 1, 0, &g);
	assert_int_equal(g.n, 2);
	assert_false(g.s.layers & DET_DEC_GZIP);
	/* Two members. */
	memcpy(two, z, n);
	memcpy(two + n, z, n);
	run(DET_DEC_GZIP, NULL, two, 2 * n, 0, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.s.errors, 0);
	/* Truncated: what was inflated is scanned, the cut is an error. */
	run(DET_DEC_GZIP, NULL, z, n - 9, 0, &g);
	assert_int_equal(g.s.errors, 1);
	assert_true(g.s.limits & DET_DEC_L_CORRUPT);
	/* Corrupt in the middle. */
	memcpy(two, z, n);
	memset(two + 12, 0xff, 8);
	run(DET_DEC_GZIP, NULL, two, n, 0, &g);
	assert_int_equal(g.s.errors, 1);
	assert_int_equal(g.s.inspected_bytes + g.s.skipped_bytes, n);
	/* Where it stops does not depend on how the body was cut. */
	{
		struct got h;
		size_t c;

		for (c = 1; c < n; c++) {
			run(DET_DEC_GZIP, NULL, two, n, c, &h);
			assert_int_equal(h.n, g.n);
			assert_int_equal(h.s.inspected_bytes,
			    g.s.inspected_bytes);
			assert_int_equal(h.s.decoded_bytes, g.s.decoded_bytes);
		}
	}
	/* Garbage after a member. */
	memcpy(two, z, n);
	memcpy(two + n, "xyz", 3);
	run(DET_DEC_GZIP, NULL, two, n + 3, 1, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s.errors, 1);
	assert_int_equal(g.s.skipped_bytes, 3);
	/* deflate, zlib-wrapped and raw */
	n2 = zip(body, sizeof(body) - 1, two, sizeof(two), 15);
	run(DET_DEC_DEFLATE, NULL, two, n2, 0, &g);
	assert_int_equal(g.n, 2);
	n2 = zip(body, sizeof(body) - 1, two, sizeof(two), -15);
	run(DET_DEC_DEFLATE, NULL, two, n2, 3, &g);
	assert_int_equal(g.n, 2);
	assert_true(g.s.layers & DET_DEC_DEFLATE);
	/*
	 * In every chunk size (the inflater may read past a stream's end
	 * into the next bytes, even those of an earlier chunk): two gzip
	 * members; a zlib stream and its Adler-32; raw deflate. Every byte
	 * is inspected, none is an error; a byte more after a deflate
	 * stream is.
	 */
	{
		size_t c;

		memcpy(two, z, n);
		memcpy(two + n, z, n);
		for (c = 1; c <= 2 * n; c += c < 16 ? 1 : 37) {
			run(DET_DEC_GZIP, NULL, two, 2 * n, c, &g);
			assert_int_equal(g.n, 4);
			assert_int_equal(g.s.errors, 0);
			assert_int_equal(g.s.inspected_bytes, 2 * n);
		}
		n2 = zip(body, sizeof(body) - 1, two, sizeof(two), 15);
		for (c = 1; c <= n2 + 1; c++) {
			run(DET_DEC_DEFLATE, NULL, two, n2, c, &g);
			assert_int_equal(g.n, 2);
			assert_int_equal(g.s.errors, 0);
			assert_int_equal(g.s.inspected_bytes, n2);
			two[n2] = 'x';
			run(DET_DEC_DEFLATE, NULL, two, n2 + 1, c, &g);
			assert_int_equal(g.n, 2);
			assert_int_equal(g.s.errors, 1);
			assert_int_equal(g.s.skipped_bytes, 1);
		}
		/* Cut in the Adler-32: an error, the body still scanned. */
		run(DET_DEC_DEFLATE, NULL, two, n2 - 2, 0, &g);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.s.errors, 1);
		/* A preset dictionary (FDICT) cannot be had: an error. */
		two[1] = (uint8_t)((two[1] & 0xc0) | 0x20);
		two[1] = (uint8_t)(two[1] | (31 - ((unsigned)two[0] << 8 |
		    two[1]) % 31) % 31);
		run(DET_DEC_DEFLATE, NULL, two, n2, 0, &g);
		assert_int_equal(g.n, 0);
		assert_int_equal(g.s.errors, 1);
		n2 = zip(body, sizeof(body) - 1, two, sizeof(two), -15);
		for (c = 1; c <= n2 + 1; c++) {
			two[n2] = 'x';
			run(DET_DEC_DEFLATE, NULL, two, n2 + 1, c, &g);
			assert_int_equal(g.n, 2);
			assert_int_equal(g.s.errors, 1);
			assert_int_equal(g.s.inspected_bytes +
			    g.s.skipped_bytes, n2 + 1);
		}
	}
	/* GZIP and DEFLATE together, unknown flags: refused. */
	{
		struct det_decoder *d;

		assert_int_equal(det_decode_new(sc, DET_DEC_GZIP |
		    DET_DEC_DEFLATE, NULL, &d), -1);
		assert_int_equal(det_decode_new(sc, 0x1000, NULL, &d), -1);
	}
}

static void
test_gzip_header(void **state)
{
	static const char body[] = "{\"nik\":\"" NIK "\",\"no_hp\":"
	    "\"081234567890\"}";
	uint8_t z[1024], bad[1024];
	struct got g, b;
	size_t n, chunk;

	(void)state;
	n = zip_hdr(body, sizeof(body) - 1, z, sizeof(z));
	assert_true(z[3] == (2 | 4 | 8 | 16));	/* every flag set */
	for (chunk = 0; chunk <= 5; chunk++) {
		run(DET_DEC_GZIP, NULL, z, n, chunk, &g);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.s.errors, 0);
		assert_int_equal(g.s.inspected_bytes, n);
		assert_int_equal(g.s.skipped_bytes, 0);
	}
	/* Reserved flag bits, a method other than deflate: corrupt. */
	memcpy(bad, z, n);
	bad[3] |= 0x20;
	run(DET_DEC_GZIP, NULL, bad, n, 0, &b);
	assert_int_equal(b.n, 0);
	assert_true(b.s.limits & DET_DEC_L_CORRUPT);
	memcpy(bad, z, n);
	bad[2] = 7;
	run(DET_DEC_GZIP, NULL, bad, n, 1, &b);
	assert_int_equal(b.n, 0);
	assert_true(b.s.limits & DET_DEC_L_CORRUPT);
	/* Cut inside the header, and inside the trailer: cut short. */
	run(DET_DEC_GZIP, NULL, z, 14, 0, &b);
	assert_true(b.s.limits & DET_DEC_L_CORRUPT);
	run(DET_DEC_GZIP, NULL, z, n - 3, 0, &b);
	assert_int_equal(b.n, 2);
	assert_true(b.s.limits & DET_DEC_L_CORRUPT);
	/* A second member after the first's trailer. */
	memcpy(bad, z, n);
	memcpy(bad + n, z, n);
	run(DET_DEC_GZIP, NULL, bad, 2 * n, 7, &b);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.s.errors, 0);
}

static void
test_limits(void **state)
{
	struct det_decode_limits lim = { .max_output = 100 };
	size_t big = 4u << 20, n;
	uint8_t *in, *z;
	struct got g;

	(void)state;
	in = calloc(1, big + 64);
	z = malloc(big);
	assert_non_null(in);
	assert_non_null(z);
	/* Output limit: the NIK at 110 is past it. */
	memset(in, ' ', 200);
	memcpy(in + 10, NIK, 16);
	memcpy(in + 110, "3171015708450002", 16);
	n = zip(in, 200, z, big, 31);
	run(DET_DEC_GZIP, &lim, z, n, 7, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.limit_hits, 1);
	assert_true(g.s.limits & DET_DEC_L_OUTPUT);
	assert_int_equal(g.s.decoded_bytes, 100);
	/* Ratio limit: 4 MiB of spaces compress ~1000:1. */
	memset(in, ' ', big);
	memcpy(in + big - 20, NIK, 16);
	n = zip(in, big, z, big, 31);
	run(DET_DEC_GZIP, NULL, z, n, 0, &g);
	assert_int_equal(g.n, 0);
	assert_true(g.s.limits & DET_DEC_L_RATIO);
	assert_int_equal(g.s.limit_hits, 1);
	assert_true(g.s.skipped_bytes > 0);
	assert_int_equal(g.s.inspected_bytes + g.s.skipped_bytes, n);
	/* The same with a generous ratio: found. */
	lim.max_output = 0;
	lim.max_ratio = 100000;
	run(DET_DEC_GZIP, &lim, z, n, 0, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.s.limit_hits, 0);
	/*
	 * A 100 KB JSON body gzipped: as it is, with the output limit hit
	 * inside it, and corrupt a quarter in: whole, in captured segments
	 * and byte by byte, the same bytes decode and it stops alike.
	 */
	{
		static const size_t cuts[] = { 1, 7, 1448, 4096 };
		struct det_decode_limits l2 = { .max_output = 70000 };
		struct got h;
		size_t m = 0, i, c;

		for (i = 0; m + 80 < 100000; i++)
			m += (size_t)snprintf((char *)in + m, 100000 - m,
			    "{\"id\":%zu,\"nik\":\"%s\",\"x\":\"%zu\"},",
			    i * 7919 % 100003, i % 64 == 0 ? NIK : "-", i * i);
		n = zip(in, m, z, big, 31);
		for (int pass = 0; pass < 3; pass++) {
			const struct det_decode_limits *lp = pass == 1 ?
			    &l2 : NULL;

			memcpy(in + m, z, n);	/* a copy to spoil */
			if (pass == 2)		/* a distance too far back */
				memset(z + 5000, 0xff, 256);
			run(DET_DEC_GZIP, lp, z, n, 0, &g);
			if (pass > 0)
				assert_int_equal(g.s.limit_hits + g.s.errors,
				    1);
			for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
				run(DET_DEC_GZIP, lp, z, n, cuts[c], &h);
				assert_int_equal(h.n, g.n);
				assert_int_equal(h.s.decoded_bytes,
				    g.s.decoded_bytes);
				assert_int_equal(h.s.inspected_bytes,
				    g.s.inspected_bytes);
				assert_int_equal(h.s.skipped_bytes,
				    g.s.skipped_bytes);
			}
			memcpy(z, in + m, n);
		}
	}
	free(in);
	free(z);
}

static bool
same(const struct got *a, const struct got *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->f[i].offset != b->f[i].offset ||
		    a->f[i].length != b->f[i].length ||
		    a->f[i].type != b->f[i].type ||
		    a->f[i].flags != b->f[i].flags ||
		    a->f[i].confidence != b->f[i].confidence ||
		    strcmp(a->f[i].value, b->f[i].value) != 0)
			return false;
	return a->s.decoded_bytes == b->s.decoded_bytes &&
	    a->s.errors == b->s.errors && a->s.escapes == b->s.escapes &&
	    a->s.b64_blocks == b->s.b64_blocks;
}

/* Split at every point, and byte by byte: the same findings. */
static void
splits(unsigned flags, const uint8_t *p, size_t n, size_t want)
{
	struct det_decoder *d;
	struct got whole, part;
	size_t cut;

	run(flags, NULL, p, n, 0, &whole);
	assert_int_equal(whole.n, want);
	run(flags, NULL, p, n, 1, &part);
	assert_true(same(&whole, &part));
	for (cut = 0; cut <= n; cut++) {
		memset(&part, 0, sizeof(part));
		assert_int_equal(det_decode_new(sc, flags, NULL, &d), 0);
		det_decode_feed(d, p, cut, collect, &part);
		det_decode_feed(d, p + cut, n - cut, collect, &part);
		det_decode_finish(d, collect, &part);
		det_decode_stats(d, &part.s);
		det_decode_free(d);
		if (!same(&whole, &part))
			fail_msg("split at %zu differs", cut);
	}
}

static void
test_every_split(void **state)
{
	char enc[256], doc[1024];
	uint8_t z[1024];
	size_t n;

	(void)state;
	b64("{\"no_kk\":\"3171012304150007\"}", enc, false);
	n = (size_t)snprintf(doc, sizeof(doc),
	    "{\"nik\":\"\\u0033\\u0031\\u0037\\u0031015708450001\","
	    "\"x\":\"\\ud83d\\ude00\",\"b\":\"%s\",\"u\":\"%%2B62812%%2034567890\","
	    "\"h\":\"budi&commat;example.co.id &#x33;171015708450001\","
	    "\"bad\":\"\\u12 %%z &zz;\"}", enc);
	splits(DET_DEC_TEXT, (const uint8_t *)doc, n, 5);
	n = zip(doc, n, z, sizeof(z), 31);
	splits(DET_DEC_GZIP | DET_DEC_TEXT, z, n, 5);
	n = zip(doc, strlen(doc), z, sizeof(z), -15);
	splits(DET_DEC_DEFLATE | DET_DEC_TEXT, z, n, 5);
}

/*
 * Random text of base64-like runs (digits, letters, mixed, long and
 * short), separators, '=' and escapes, with base64 blocks holding a NIK:
 * fed whole (the sixteen-bytes-at-a-time scans), byte by byte and in
 * sevens, the same findings and counts.
 */
static void
test_random_runs(void **state)
{
	static const char sep[] = " \":,{}[]\n=.@";
	static const char mix[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
	static const char *const esc[] = { "\\u0033", "%33", "&amp;", "\\n",
	    "%2", "&#x31;" };
	char enc[2][128], doc[4096];
	struct got whole, part;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t n, k, len, blocks;
	unsigned i, kind;

	(void)state;
	/* With padding, and without (nothing after the run but a blank). */
	b64("{\"nik\":\"3171015708450001\"}", enc[0], false);
	b64("{\"nik\": \"3171015708450001\"}", enc[1], true);
	for (i = 0; i < 400; i++) {
		n = 0;
		blocks = 0;
		while (n < sizeof(doc) - 128) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			kind = (unsigned)(x % 7);
			len = 1 + (size_t)(x >> 8) % 48;
			for (k = 0; k < len && kind <= 2; k++)
				doc[n++] = kind == 0 ?
				    (char)('0' + (x >> (k % 50)) % 10) :
				    kind == 1 ?
				    (char)('a' + (x >> (k % 50)) % 26) :
				    mix[(x >> (k % 50)) % 66];
			if (kind == 3)
				doc[n++] = sep[(x >> 9) % (sizeof(sep) - 1)];
			else if (kind == 4 && blocks < 8) {
				k = blocks % 2;
				doc[n++] = ' ';
				memcpy(doc + n, enc[k], strlen(enc[k]));
				n += strlen(enc[k]);
				doc[n++] = ' ';
				blocks++;
			} else if (kind == 5) {
				k = (size_t)(x >> 11) % 6;
				memcpy(doc + n, esc[k], strlen(esc[k]));
				n += strlen(esc[k]);
			} else if (kind == 6)
				doc[n++] = ' ';
		}
		run(DET_DEC_TEXT, NULL, doc, n, 0, &whole);
		run(DET_DEC_TEXT, NULL, doc, n, 1, &part);
		if (!same(&whole, &part))
			fail_msg("doc %u: whole and byte by byte differ", i);
		run(DET_DEC_TEXT, NULL, doc, n, 7, &part);
		if (!same(&whole, &part))
			fail_msg("doc %u: whole and in sevens differ", i);
		assert_true(whole.n >= blocks);
	}
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * p[0..n) at the end of a page followed by a PROT_NONE page, so a read
 * past n faults: det_b64_next() on every path and every slice [a, b) of
 * it (a and b near the 64-byte block edges, or all of them when short)
 * with each min must give the scalar path's answer.
 */
static void
paths_check(uint8_t *page, size_t psz, const uint8_t *p, size_t n,
    unsigned impls)
{
	static const size_t mins[] = { 8, 15, 16, 17, 33, 63, 64, 100 };
	uint8_t *q = page + psz - n;
	size_t a, b, k, want, got;
	unsigned impl;

	memcpy(q, p, n);
	for (a = 0; a <= n; a++) {
		if (n > 160 && a > 3 && a % 64 > 2 && a % 64 < 62)
			continue;
		for (b = a; b <= n; b++) {
			if (n > 160 && b + 3 < n && (b - a) % 64 > 2 &&
			    (b - a) % 64 < 62)
				continue;
			for (k = 0; k < sizeof(mins) / sizeof(mins[0]); k++) {
				/* The slice ends where the page does. */
				memmove(page + psz - (b - a), q + a, b - a);
				want = det_b64_next(page + psz - (b - a),
				    b - a, mins[k], DET_B64_SCALAR);
				for (impl = DET_B64_SSE2; impl <= DET_B64_AVX2;
				    impl++) {
					if (!(impls & 1u << impl))
						continue;
					got = det_b64_next(page + psz - (b - a),
					    b - a, mins[k], impl);
					if (got != want)
						fail_msg("path %u, slice [%zu, "
						    "%zu) of %zu, min %zu: %zu, "
						    "scalar %zu", impl, a, b, n,
						    mins[k], got, want);
				}
				memcpy(q, p, n);
			}
		}
	}
}

static void
test_b64_paths(void **state)
{
	/* Letters, digits, symbols, '=', separators, high bytes. */
	static const char cls[][16] = { "AZaz", "09", "+/-_", "=",
	    " \":,\n", "\x80\xff~`" };
	unsigned impls = det_b64_impls();
	long psz = sysconf(_SC_PAGESIZE);
	uint8_t *page, buf[600];
	size_t n, i, j, run, pos, len;
	unsigned round, w[6], c, tot;

	(void)state;
	assert_true(psz > 0 && (size_t)psz >= sizeof(buf));
	page = mmap(NULL, 2 * (size_t)psz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(mprotect(page + psz, (size_t)psz, PROT_NONE), 0);
	print_message("b64 scan paths: scalar%s%s\n",
	    impls & 1u << DET_B64_SSE2 ? " sse2" : "",
	    impls & 1u << DET_B64_AVX2 ? " avx2" : "");

	/* Random text over weighted classes, in runs of one class. */
	for (round = 0; round < 160; round++) {
		for (c = 0, tot = 0; c < 6; c++)
			tot += w[c] = (unsigned)(next_rand() % 8);
		if (tot == 0)
			w[0] = tot = 1;
		n = round < 100 ? (size_t)(next_rand() % 160) :
		    (size_t)(next_rand() % sizeof(buf));
		for (i = 0; i < n; i += run) {
			j = (size_t)(next_rand() % tot);
			for (c = 0; j >= w[c]; c++)
				j -= w[c];
			run = 1 + (size_t)(next_rand() % 40);
			for (j = 0; j < run && i + j < n; j++)
				buf[i + j] = (uint8_t)cls[c][next_rand() %
				    strlen(cls[c])];
		}
		paths_check(page, (size_t)psz, buf, n, impls);
	}

	/*
	 * Adversarial: one run of letters, digits or digits with one letter
	 * (first, last) of every length near the mins, at every position
	 * near a block edge, ended by a blank, '=' or the buffer's end.
	 */
	for (len = 6; len <= 70; len++)
		for (pos = 0; pos + len <= 200; pos++) {
			if (pos % 64 > 4 && pos % 64 < 58 && pos != 100)
				continue;
			for (c = 0; c < 8; c++) {
				memset(buf, ' ', 200);
				for (j = 0; j < len; j++)
					buf[pos + j] = c % 4 == 0 ? 'q' :
					    (uint8_t)('0' + j % 10);
				if (c % 4 == 2)
					buf[pos] = 'Z';
				else if (c % 4 == 3)
					buf[pos + len - 1] = '/';
				n = 200;
				if (c >= 4 && pos + len < n)
					buf[pos + len] = '=';
				if (c == 1)
					n = pos + len;
				memcpy(page + psz - n, buf, n);
				for (i = 0; i < 3; i++) {
					size_t m = i == 0 ? 16 : i == 1 ? len :
					    len + 1;

					if (det_b64_next(page + psz - n, n, m,
					    DET_B64_SCALAR) != det_b64_next(
					    page + psz - n, n, m, DET_B64_SSE2) ||
					    det_b64_next(page + psz - n, n, m,
					    DET_B64_SCALAR) != det_b64_next(
					    page + psz - n, n, m, DET_B64_AVX2))
						fail_msg("run of %zu at %zu, "
						    "kind %u, min %zu", len,
						    pos, c, m);
				}
			}
		}
	/* All base64, all digits, '=' everywhere, nothing. */
	memset(buf, 'a', sizeof(buf));
	paths_check(page, (size_t)psz, buf, 300, impls);
	memset(buf, '7', sizeof(buf));
	paths_check(page, (size_t)psz, buf, 300, impls);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i % 3 == 2 ? '=' : 'x';
	paths_check(page, (size_t)psz, buf, 300, impls);
	paths_check(page, (size_t)psz, buf, 0, impls);
	munmap(page, 2 * (size_t)psz);
}

/*
 * The escape scan on every path: random text with the special bytes
 * (one, two or three of them) at random, every length 0-200 and every
 * start 0-40, the input against a PROT_NONE page.
 */
static void
test_special_paths(void **state)
{
	static const uint8_t sets[][3] = { { '\\', '%', '&' },
	    { '\\', '\\', '\\' }, { '%', '&', '%' } };
	unsigned impls = det_b64_impls(), impl, k, round;
	long psz = sysconf(_SC_PAGESIZE);
	uint8_t *page, buf[256];
	size_t n, a, i, want;

	(void)state;
	page = mmap(NULL, 2 * (size_t)psz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(mprotect(page + psz, (size_t)psz, PROT_NONE), 0);
	for (round = 0; round < 40; round++) {
		/* Sparse to none: a special byte in 1 of 2 to 1 of 1024. */
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = next_rand() % (2u << round % 10) == 0 ?
			    "\\%&"[next_rand() % 3] :
			    (uint8_t)(' ' + next_rand() % 95);
		for (k = 0; k < 3; k++)
			for (n = 0; n <= 200; n++)
				for (a = 0; a <= 40 && a <= n; a++) {
					memcpy(page + psz - (n - a), buf + a,
					    n - a);
					want = det_special_next(page + psz -
					    (n - a), n - a, sets[k],
					    DET_B64_SCALAR);
					for (impl = DET_B64_SSE2;
					    impl <= DET_B64_AVX2; impl++)
						if ((impls & 1u << impl) &&
						    det_special_next(page +
						    psz - (n - a), n - a,
						    sets[k], impl) != want)
							fail_msg("path %u, "
							    "set %u, %zu bytes",
							    impl, k, n - a);
				}
	}
	munmap(page, 2 * (size_t)psz);
}

/*
 * The decoder on each path: the same findings and counts as on the
 * scalar one, fed whole, in chunks of 1, 7, 64 and 100 bytes and cut in
 * two at every point, over base64 blocks, long runs and JSON, percent
 * and HTML escapes.
 */
static void
test_b64_paths_decode(void **state)
{
	char enc[128], doc[2048];
	struct got want, got;
	size_t n = 0, k;
	unsigned impl, i, chunks[] = { 0, 1, 7, 64, 100 };

	(void)state;
	b64("{\"nik\":\"3171015708450001\"}", enc, false);
	while (n < sizeof(doc) - 200) {
		k = (size_t)(next_rand() % 7);
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s",
		    k == 0 ? enc : k == 1 ? " 3171015708450001 " :
		    k == 2 ? "aGVsbG8gd29ybGQgaGVsbG8=," :
		    k == 3 ? "\"AbCdEfGhIjKlMnOpQrStUvWxYz0123\":" :
		    k == 4 ? "\\u0041QUFBQUFBQUFBQUFBQUFB " :
		    k == 5 ? "%33171015708450001&amp;x%2" :
		    "&#x33;171015708450001 bud&commat;contoh.id ");
	}
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		det_b64_use(DET_B64_SCALAR);
		run(DET_DEC_TEXT, NULL, doc, n, chunks[i], &want);
		assert_true(want.n > 0);
		for (impl = DET_B64_SSE2; impl <= DET_B64_AVX2; impl++) {
			det_b64_use(impl);
			run(DET_DEC_TEXT, NULL, doc, n, chunks[i], &got);
			if (!same(&want, &got))
				fail_msg("path %u, chunks of %u differ", impl,
				    chunks[i]);
		}
	}
	/* Every split point of the first 700 bytes, on every path. */
	n = n < 700 ? n : 700;
	det_b64_use(DET_B64_SCALAR);
	run(DET_DEC_TEXT, NULL, doc, n, 0, &want);
	for (impl = DET_B64_SCALAR; impl <= DET_B64_AVX2; impl++) {
		det_b64_use(impl);
		for (k = 0; k <= n; k++) {
			struct det_decoder *d;

			memset(&got, 0, sizeof(got));
			assert_int_equal(det_decode_new(sc, DET_DEC_TEXT, NULL,
			    &d), 0);
			det_decode_feed(d, (const uint8_t *)doc, k, collect,
			    &got);
			det_decode_feed(d, (const uint8_t *)doc + k, n - k,
			    collect, &got);
			det_decode_finish(d, collect, &got);
			det_decode_stats(d, &got.s);
			det_decode_free(d);
			if (!same(&want, &got))
				fail_msg("path %u, split at %zu differs", impl,
				    k);
		}
	}
	det_b64_use(DET_B64_AVX2);	/* the best there is, as before */
}

static void
test_flags(void **state)
{
	char buf[64];
	unsigned f;

	(void)state;
	assert_string_equal(det_dec_flags_str(DET_DEC_GZIP | DET_DEC_B64, buf,
	    sizeof(buf)), "gzip|b64");
	assert_string_equal(det_dec_flags_str(0, buf, sizeof(buf)), "-");
	assert_string_equal(det_dec_limits_str(DET_DEC_L_RATIO, buf,
	    sizeof(buf)), "ratio");
	assert_int_equal(det_dec_flags_parse("json,pct", &f), 0);
	assert_int_equal(f, DET_DEC_JSON | DET_DEC_PCT);
	assert_int_equal(det_dec_flags_parse("all", &f), 0);
	assert_int_equal(f, DET_DEC_ALL);
	assert_int_equal(det_dec_flags_parse("none", &f), 0);
	assert_int_equal(f, 0);
	assert_int_equal(det_dec_flags_parse("json,,pct", &f), -1);
	assert_int_equal(det_dec_flags_parse("zip", &f), -1);
}

static int
setup(void **state)
{
	(void)state;
	return det_scanner_new(NULL, &sc);
}

static int
teardown(void **state)
{
	(void)state;
	det_scanner_free(sc);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_pct_html),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_zlib),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_gzip_header),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_random_runs),
		cmocka_unit_test(test_b64_paths),
		cmocka_unit_test(test_special_paths),
		cmocka_unit_test(test_b64_paths_decode),
		cmocka_unit_test(test_flags),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
