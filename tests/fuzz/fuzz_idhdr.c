/*
 * Fuzz target for core/gb_idhdr.c: parse and verify the bytes as an
 * X-Gerbang-Consumer value; whatever parses must re-sign to a value that
 * verifies, and a bare id must stay a bare id. Any failed invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_idhdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_idhdr: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static struct gb_idhdr_mac *mac;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gb_idhdr h, h2;
	enum gb_idhdr_status st;
	char out[GB_IDHDR_VALUE_MAX];
	int n;

	if (mac == NULL) {
		struct gb_idhdr_key k;

		memset(&k, 0, sizeof(k));
		memset(k.key, 'k', 32);
		k.len = 32;
		CHECK(gb_idhdr_mac_new(&k, &mac) == 0);
	}
	st = gb_idhdr_verify(mac, (const char *)data, size, &h);
	CHECK(gb_idhdr_status_str(st) != NULL);
	if (st == GB_IDHDR_MALFORMED) {
		CHECK(h.consumer[0] == '\0');
		return 0;
	}
	CHECK(strlen(h.consumer) >= 1 && strlen(h.consumer) <= 64);
	if (st == GB_IDHDR_UNSIGNED) {
		CHECK(h.rid[0] == '\0' && h.ts == -1);
		return 0;
	}
	CHECK(h.ts >= 0 && h.rid[0] != '\0');
	n = gb_idhdr_sign(mac, h.consumer, h.rid, h.ts, out, sizeof(out));
	CHECK(n > 0);
	CHECK(gb_idhdr_verify(mac, out, (size_t)n, &h2) == GB_IDHDR_SIGNED);
	CHECK(strcmp(h.consumer, h2.consumer) == 0 &&
	    strcmp(h.rid, h2.rid) == 0 && h.ts == h2.ts);
	CHECK(gb_idhdr_verify(NULL, out, (size_t)n, &h2) ==
	    GB_IDHDR_UNCHECKED);
	return 0;
}
