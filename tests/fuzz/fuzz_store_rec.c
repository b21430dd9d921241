/*
 * Fuzz target for store/store_rec.c: decode the bytes as an alert record
 * read from disk. A record that decodes must re-encode to the same bytes
 * and print as JSON that parses back to the same record. Any failed
 * invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 10000-01-01T00:00:00Z in ns: later times print with five-digit years. */
#define Y10K	(253402300800ULL * 1000000000ULL)

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_store_rec: %s:%d: invariant failed: " \
		    "%s\n", __FILE__, __LINE__, #c);			\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_alert a, b;
	struct gb_buf enc, js, scratch, enc2;
	const char *why;
	bool unmasked = false;
	size_t i;

	if (store_rec_decode(data, size, &a) == -1)
		return 0;
	gb_buf_init(&enc, STORE_REC_MAX);
	CHECK(store_rec_encode(&a, &enc) == 0);
	CHECK(gb_buf_used(&enc) == size);
	CHECK(memcmp(gb_buf_head(&enc), data, size) == 0);
	/*
	 * JSON round trip. Samples without a '*' are masked on import
	 * (gb_mask), which may change or refuse them; times past year 9999
	 * do not print as ISO 8601. Otherwise the record comes back exact.
	 */
	gb_buf_init(&js, 1 << 20);
	gb_buf_init(&scratch, 0);
	gb_buf_init(&enc2, STORE_REC_MAX);
	a.id = 1;
	CHECK(store_json_alert(&js, &a, NULL) == 0);
	for (i = 0; i < a.nsamples; i++)
		if (memchr(a.samples[i].value.p, '*', a.samples[i].value.n) ==
		    NULL)
			unmasked = true;
	if (store_json_parse((const char *)gb_buf_head(&js), gb_buf_used(&js),
	    &b, &scratch, &why) == 0) {
		if (!unmasked) {
			CHECK(store_rec_encode(&b, &enc2) == 0);
			CHECK(gb_buf_used(&enc2) == size);
			CHECK(memcmp(gb_buf_head(&enc2), data, size) == 0);
		}
	} else
		CHECK(unmasked || a.time_ns >= Y10K || a.win_start_ns >= Y10K ||
		    a.win_end_ns >= Y10K);
	gb_buf_free(&enc);
	gb_buf_free(&enc2);
	gb_buf_free(&js);
	gb_buf_free(&scratch);
	return 0;
}
