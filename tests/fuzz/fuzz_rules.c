/*
 * Fuzz target for detectors/det_rules.c: load the bytes as a rules file;
 * success and failure must be consistent with the diagnostics, and every
 * accessor must work on a loaded set. Any failed invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_diag.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_rules: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct det_rules *r = NULL;
	struct det_scanner *sc;
	const struct det_bulk_rule *b;
	struct gb_diags d;
	size_t i;
	int t, rc;

	if (size > 65536)
		return 0;
	gb_diags_init(&d, 0);
	rc = det_rules_load_mem("fuzz.yaml", data, size, &r, &d);
	if (rc == 0) {
		CHECK(r != NULL && d.nerrors == 0);
		for (t = 0; t < DET_T_COUNT; t++)
			CHECK(det_rules_type(r, (enum det_type)t)->
			    min_confidence <= 100);
		for (i = 0; i < det_rules_bulk_count(r); i++) {
			b = det_rules_bulk(r, i);
			CHECK(b != NULL && b->name != NULL && b->distinct > 0);
			CHECK(b->type >= -1 && b->type < DET_T_COUNT);
			CHECK(b->scope == DET_SCOPE_RESPONSE ?
			    b->window_ms == 0 : b->window_ms > 0);
		}
		(void)det_rules_allowed(r, DET_T_NIK, "3171015708450001", 16);
		CHECK(det_scanner_new(r, &sc) == 0);
		det_scanner_free(sc);
		det_rules_free(r);
	} else {
		CHECK(rc == -1 && r == NULL && d.nerrors + d.dropped > 0);
	}
	gb_diags_free(&d);
	return 0;
}
