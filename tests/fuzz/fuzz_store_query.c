/*
 * Fuzz target for the query parsers of store/store_db.c: --since/--until
 * times and --src networks. An accepted time prints and parses back to
 * itself (to the ns); an accepted network has no host bits. Any failed
 * invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_store_query: %s:%d: invariant failed: " \
		    "%s\n", __FILE__, __LINE__, #c);			\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], buf[64];
	uint8_t net[16];
	unsigned bits, i;
	uint64_t t, t2;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (store_time_parse(s, 1795305600ULL * 1000000000ULL, &t) == 0 &&
	    t < 253402300800ULL * 1000000000ULL) {
		store_time_fmt(t, buf, sizeof(buf));
		CHECK(store_time_parse(buf, 0, &t2) == 0);
		CHECK(t == t2);
	}
	if (store_cidr_parse(s, net, &bits) == 0) {
		CHECK(bits <= 128);
		for (i = bits; i < 128; i++)
			CHECK(!(net[i / 8] & (0x80 >> (i % 8))));
	}
	return 0;
}
