/*
 * Fuzz target for detectors/det_decode.c. The first byte picks the layers
 * (gzip or deflate, and the escape layers); the rest is the body, decoded
 * whole, cut at a point the input chooses, and byte by byte for short
 * inputs. The findings and the counters must be identical and consistent:
 * inspected + skipped never exceeds what was fed, offsets stay inside the
 * (decompressed) body. The base64 run scan's vector paths give the scalar
 * path's answer on the body, for three minimums. Any failed invariant
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_decode.h"
#include "detectors/det_decode_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_decode: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

struct got {
	size_t		n;
	uint64_t	sum;
};

static void
collect(const struct det_finding *f, void *arg)
{
	struct got *g = arg;
	size_t i;

	CHECK((unsigned)f->type < DET_T_COUNT);
	CHECK(f->confidence <= 100);
	CHECK(f->vlen > 0 && f->vlen < DET_VALUE_MAX);
	CHECK(strlen(f->value) == f->vlen);
	CHECK(f->length > 0);
	g->sum = g->sum * 1000003u + f->offset * 31 + f->length * 7 +
	    (uint64_t)f->type + f->confidence * 131u + f->flags;
	for (i = 0; i < f->vlen; i++)
		g->sum = g->sum * 33 + (uint8_t)f->value[i];
	g->n++;
}

static void
one(const struct det_scanner *sc, unsigned flags, const uint8_t *p,
    size_t n, size_t cut, struct got *g, struct det_decode_stats *s)
{
	struct det_decode_limits lim = { .max_output = 1u << 20,
	    .max_ratio = 50, .b64_max = 256 };
	struct det_decoder *d;
	size_t i;

	memset(g, 0, sizeof(*g));
	CHECK(det_decode_new(sc, flags, &lim, &d) == 0);
	if (cut == 0) {
		for (i = 0; i < n; i++)
			CHECK(det_decode_feed(d, p + i, 1, collect, g) == 0);
	} else {
		cut = cut > n ? n : cut;
		CHECK(det_decode_feed(d, p, cut, collect, g) == 0);
		CHECK(det_decode_feed(d, p + cut, n - cut, collect, g) == 0);
	}
	CHECK(det_decode_finish(d, collect, g) == (int)g->n);
	det_decode_stats(d, s);
	CHECK(s->in_bytes == n);
	CHECK(s->inspected_bytes + s->skipped_bytes <= n);
	CHECK(s->decoded_bytes <= lim.max_output + 4 * n + 16);
	det_decode_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct det_scanner *sc;
	struct det_decode_stats s1, s2;
	struct got whole, part;
	unsigned flags;
	size_t cut;

	if (size < 1)
		return 0;
	if (sc == NULL && det_scanner_new(NULL, &sc) == -1)
		return 0;
	flags = data[0] & DET_DEC_ALL;
	if (data[0] & 0x80)
		flags = (flags & ~(unsigned)DET_DEC_GZIP) | DET_DEC_DEFLATE;
	data++;
	size--;
	for (cut = 8; cut <= 32; cut += 12) {
		size_t want = det_b64_next(data, size, cut, DET_B64_SCALAR);

		CHECK(det_b64_next(data, size, cut, DET_B64_SSE2) == want);
		CHECK(det_b64_next(data, size, cut, DET_B64_AVX2) == want);
	}
	one(sc, flags, data, size, size + 1, &whole, &s1);
	cut = size > 0 ? (size_t)data[0] * 7919 % (size + 1) : 0;
	one(sc, flags, data, size, cut == 0 ? size + 1 : cut, &part, &s2);
	CHECK(part.n == whole.n && part.sum == whole.sum);
	CHECK(s1.decoded_bytes == s2.decoded_bytes);
	CHECK(s1.errors == s2.errors && s1.limit_hits == s2.limit_hits);
	if (size <= 2048) {
		one(sc, flags, data, size, 0, &part, &s2);
		CHECK(part.n == whole.n && part.sum == whole.sum);
		/* The inflater sees the same blocks however the body is cut
		 * (det_decode.h): even where an error or a limit stops it. */
		CHECK(s1.inspected_bytes == s2.inspected_bytes);
		CHECK(s1.skipped_bytes == s2.skipped_bytes);
		CHECK(s1.decoded_bytes == s2.decoded_bytes);
	}
	return 0;
}
