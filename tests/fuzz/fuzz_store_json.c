/*
 * Fuzz target for store/store_json.c: parse the bytes as one JSON line of
 * the import format. An accepted line must encode as a record that decodes
 * and prints as JSON that parses to the same record. Any failed invariant
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_store_json: %s:%d: invariant failed: " \
		    "%s\n", __FILE__, __LINE__, #c);			\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_alert a, d, b;
	struct gb_buf scratch, enc, js, scratch2, enc2;
	const char *why;

	if (size > 70000)
		return 0;
	gb_buf_init(&scratch, 0);
	if (store_json_parse((const char *)data, size, &a, &scratch, &why)
	    == -1) {
		CHECK(why != NULL);
		gb_buf_free(&scratch);
		return 0;
	}
	gb_buf_init(&enc, STORE_REC_MAX);
	gb_buf_init(&enc2, STORE_REC_MAX);
	gb_buf_init(&js, 1 << 20);
	gb_buf_init(&scratch2, 0);
	if (store_rec_encode(&a, &enc) == 0) {
		CHECK(store_rec_decode(gb_buf_head(&enc), gb_buf_used(&enc),
		    &d) == 0);
		d.id = 7;
		CHECK(store_json_alert(&js, &d, NULL) == 0);
		if (a.time_ns < 253402300800ULL * 1000000000ULL &&
		    a.win_end_ns < 253402300800ULL * 1000000000ULL) {
			CHECK(store_json_parse((const char *)gb_buf_head(&js),
			    gb_buf_used(&js), &b, &scratch2, &why) == 0);
			CHECK(store_rec_encode(&b, &enc2) == 0);
			CHECK(gb_buf_used(&enc2) == gb_buf_used(&enc));
			CHECK(memcmp(gb_buf_head(&enc2), gb_buf_head(&enc),
			    gb_buf_used(&enc)) == 0);
		}
	}
	gb_buf_free(&scratch);
	gb_buf_free(&scratch2);
	gb_buf_free(&enc);
	gb_buf_free(&enc2);
	gb_buf_free(&js);
	return 0;
}
