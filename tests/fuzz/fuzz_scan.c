/*
 * Fuzz target for detectors/det_scan.c: scan the input whole, then again
 * cut at a point the input chooses, byte by byte for short inputs, and on
 * a CPU with AVX2 whole with the SSE2 masks; the findings must be
 * identical, inside the input, and well formed. Any failed invariant
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_scan.h"
#include "detectors/det_scan_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_scan: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#define MAXF	4096

struct got {
	size_t		n;
	uint64_t	size;
	uint64_t	sum;	/* order-sensitive digest of the findings */
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
	CHECK(f->offset + f->length <= g->size);
	g->sum = g->sum * 1000003u + f->offset * 31 + f->length * 7 +
	    (uint64_t)f->type + f->confidence * 131u + f->flags;
	for (i = 0; i < f->vlen; i++)
		g->sum = g->sum * 33 + (uint8_t)f->value[i];
	g->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct det_scanner *sc;
	struct det_stream *st;
	struct got whole, part;
	size_t cut, i;

	if (sc == NULL && det_scanner_new(NULL, &sc) == -1)
		return 0;
	memset(&whole, 0, sizeof(whole));
	whole.size = size;
	CHECK(det_scan_buf(sc, data, size, collect, &whole) ==
	    (int)whole.n);

	cut = size > 0 ? (size_t)data[0] * 7919 % (size + 1) : 0;
	CHECK(det_stream_new(sc, &st) == 0);
	memset(&part, 0, sizeof(part));
	part.size = size;
	det_stream_feed(st, data, cut, collect, &part);
	det_stream_feed(st, data + cut, size - cut, collect, &part);
	det_stream_finish(st, collect, &part);
	CHECK(part.n == whole.n && part.sum == whole.sum);
	if (det_scan_avx2) {
		memset(&part, 0, sizeof(part));
		part.size = size;
		det_scan_avx2 = false;
		CHECK(det_scan_buf(sc, data, size, collect, &part) ==
		    (int)part.n);
		det_scan_avx2 = true;
		CHECK(part.n == whole.n && part.sum == whole.sum);
	}
	if (size <= 4096) {
		det_stream_reset(st);
		memset(&part, 0, sizeof(part));
		part.size = size;
		for (i = 0; i < size; i++)
			det_stream_feed(st, data + i, 1, collect, &part);
		det_stream_finish(st, collect, &part);
		CHECK(part.n == whole.n && part.sum == whole.sum);
	}
	det_stream_free(st);
	return 0;
}
