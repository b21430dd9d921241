/*
 * Fuzz target for detectors/det_bulk.c: the input is a list of findings
 * as the sensor would hand them over (5-byte records: type, value seed,
 * subject keys, time step, end-of-response bit) run against fixed rules
 * with small limits. Invariants: entries never exceed max_keys, every
 * alert is above its rule's threshold and well formed, and the count of
 * alerts matches the stats. Any failed invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/det_bulk.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_bulk: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static const char yaml[] =
    "bulk:\n"
    "  - { name: r, type: nik, scope: response, distinct: 3 }\n"
    "  - { name: f, type: any, scope: flow, distinct: 4, window: 2s }\n"
    "  - { name: s, type: phone, scope: source, distinct: 2, window: 1s }\n"
    "  - { name: c, type: any, scope: consumer, distinct: 8, window: 5s,"
    " severity: critical }\n";

static uint64_t nalerts;

static void
on_alert(const struct det_bulk_alert *a, void *arg)
{
	(void)arg;
	nalerts++;
	CHECK(a->flags == DET_BULK_A_FIRST || a->flags == DET_BULK_A_ESCALATED ||
	    a->flags == DET_BULK_A_CANARY);
	CHECK(a->severity <= DET_SEV_CRITICAL);
	CHECK(a->key != NULL || a->key_len == 0);
	CHECK(a->key_len <= DET_BULK_KEY_MAX);
	if (a->rule != NULL) {
		CHECK(a->distinct > a->rule->distinct);
		CHECK(a->scope == a->rule->scope);
		CHECK(a->since_ms <= a->now_ms);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct det_rules *rules;
	struct det_bulk_limits lim = { .max_keys = 8, .exact_cap = 4,
	    .hll_p = 4, .subwindows = 3 };
	static const uint8_t hkey[16];
	struct det_bulk_subject w;
	struct det_bulk_stats st;
	struct det_finding f;
	struct det_bulk *b;
	uint8_t keys[4][2];
	uint64_t now = 0;
	size_t i;
	int s;

	if (rules == NULL) {
		struct gb_diags d;

		gb_diags_init(&d, 0);
		CHECK(det_rules_load_mem("f.yaml", yaml, sizeof(yaml) - 1,
		    &rules, &d) == 0);
		gb_diags_free(&d);
	}
	nalerts = 0;
	CHECK(det_bulk_new(rules, hkey, &lim, &b) == 0);
	for (i = 0; i + 5 <= size; i += 5) {
		const uint8_t *r = data + i;

		memset(&f, 0, sizeof(f));
		f.type = (enum det_type)(r[0] % DET_T_COUNT);
		f.vlen = (uint16_t)snprintf(f.value, sizeof(f.value), "v%u",
		    r[1]);
		memset(&w, 0, sizeof(w));
		for (s = 0; s < 4; s++) {
			if (!(r[2] & (1u << s)))
				continue;
			keys[s][0] = (uint8_t)('a' + s);
			keys[s][1] = (uint8_t)((r[2] >> 4) + (unsigned)s);
			w.key[s] = keys[s];
			w.len[s] = 2;
		}
		now += (uint64_t)r[3] * 37;
		if (r[4] & 1)
			now -= now > 500 ? 500 : now;	/* clock steps back */
		if (r[0] & 0x80)
			CHECK(det_bulk_allow(b, (enum det_scope)(r[4] >> 6),
			    keys[0], 1) == 0);
		(void)det_bulk_add(b, &w, &f, now, on_alert, NULL);
		if (r[4] & 2)
			det_bulk_end(b, (enum det_scope)((r[4] >> 2) & 3),
			    w.key[(r[4] >> 2) & 3] != NULL ?
			    w.key[(r[4] >> 2) & 3] : "x", 2);
		det_bulk_stats(b, &st);
		CHECK(st.keys <= lim.max_keys);
	}
	det_bulk_stats(b, &st);
	CHECK(st.alerts == nalerts);
	det_bulk_free(b);
	return 0;
}
