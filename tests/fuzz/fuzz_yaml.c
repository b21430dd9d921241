/*
 * Fuzz target for core/gb_yaml.c: load the bytes with small limits, walk
 * the tree checking its invariants, run every accessor on every scalar,
 * then free everything. Any failed invariant aborts (a crash to libFuzzer
 * and to the replay main).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gb_diag.h"
#include "core/gb_yaml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_yaml: %s:%d: invariant failed: %s\n", \
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static const char *const enum_names[] = { "allow", "deny", "log", "true",
    NULL };
static const char *const allowed_keys[] = { "listen", "upstream", "tls",
    "timeout", "max_body", "rules", NULL };

static void
check_scalar(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n)
{
	const char *s;
	long long ll;
	uint64_t u;
	bool b;
	int e;

	CHECK(n->str != NULL);
	CHECK(strlen(n->str) == n->len);
	CHECK(n->items == NULL && n->pairs == NULL);

	CHECK(gb_ystr(doc, d, n, "k", &s) == 0 && s == n->str);
	if (gb_yint(doc, d, n, "k", -1000, 1000, &ll) == 0)
		CHECK(ll >= -1000 && ll <= 1000);
	if (gb_ybool(doc, d, n, "k", &b) == 0)
		CHECK(strcmp(n->str, b ? "true" : "false") == 0);
	if (gb_ysize(doc, d, n, "k", 1, 1u << 30, &u) == 0)
		CHECK(u >= 1 && u <= 1u << 30);
	if (gb_yduration_ms(doc, d, n, "k", 0, 86400000, &u) == 0)
		CHECK(u <= 86400000);
	if (gb_yenum(doc, d, n, "k", enum_names, &e) == 0)
		CHECK(e >= 0 && e < 4 && strcmp(enum_names[e], n->str) == 0);
	CHECK(gb_yexpect(doc, d, n, "k", GB_Y_SCALAR) == 0);
	CHECK(gb_yexpect(doc, d, n, "k", GB_Y_MAP) == -1);
	CHECK(gb_ymap_check(doc, d, n, "k", allowed_keys) == -1);
	CHECK(gb_ymap_get(n, "listen") == NULL);
}

/* Returns the number of nodes under and including n. */
static size_t
walk(const struct gb_ydoc *doc, struct gb_diags *d, const struct gb_ynode *n,
    size_t depth, const struct gb_yaml_limits *lim)
{
	size_t i, j, count = 1;

	CHECK(n != NULL);
	CHECK(n->line >= 1 && n->col >= 1);
	switch (n->type) {
	case GB_Y_SCALAR:
		CHECK(n->len <= lim->max_scalar);
		check_scalar(doc, d, n);
		break;
	case GB_Y_SEQ:
		CHECK(depth < lim->max_depth);
		CHECK(n->str == NULL && n->pairs == NULL);
		CHECK(n->len == 0 || n->items != NULL);
		for (i = 0; i < n->len; i++)
			count += walk(doc, d, n->items[i], depth + 1, lim);
		CHECK(gb_ymap_get(n, "listen") == NULL);
		break;
	case GB_Y_MAP:
		CHECK(depth < lim->max_depth);
		CHECK(n->str == NULL && n->items == NULL);
		CHECK(n->len == 0 || n->pairs != NULL);
		for (i = 0; i < n->len; i++) {
			const struct gb_ynode *k = n->pairs[i].key;

			CHECK(k != NULL && k->type == GB_Y_SCALAR);
			/* No duplicate keys survive a successful load. */
			for (j = 0; j < i && j < 64; j++)
				CHECK(strcmp(n->pairs[j].key->str,
				    k->str) != 0);
			/* gb_ymap_get finds the key's own value. */
			CHECK(gb_ymap_get(n, k->str) == n->pairs[i].val);
			count += walk(doc, d, k, depth + 1, lim);
			count += walk(doc, d, n->pairs[i].val, depth + 1, lim);
		}
		(void)gb_ymap_check(doc, d, n, "map", allowed_keys);
		(void)gb_ymap_need(doc, d, n, "map", "listen");
		break;
	default:
		CHECK(!"bad node type");
	}
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gb_yaml_limits lim;
	struct gb_diags d, ad;
	struct gb_ydoc *doc = NULL;
	char line[1400];
	size_t i, nodes;
	int rc;

	gb_yaml_limits_default(&lim);
	lim.max_bytes = 64 * 1024;
	lim.max_depth = 16;
	lim.max_nodes = 2000;
	lim.max_scalar = 4096;

	gb_diags_init(&d, 0);
	rc = gb_yaml_load_mem("fuzz.yaml", data, size, &lim, &doc, &d);
	if (rc == 0) {
		CHECK(doc != NULL);
		CHECK(d.nerrors == 0 && d.dropped == 0);
		if (doc->root != NULL) {
			/* Accessor errors go to their own list. */
			gb_diags_init(&ad, 5);
			nodes = walk(doc, &ad, doc->root, 0, &lim);
			CHECK(nodes <= lim.max_nodes);
			CHECK(ad.n <= ad.max_errors + ad.nwarnings);
			gb_diags_free(&ad);
		}
		gb_ydoc_free(doc);
	} else {
		CHECK(rc == -1);
		CHECK(doc == NULL);
		CHECK(d.nerrors > 0);
	}
	for (i = 0; i < d.n; i++) {
		CHECK(d.v[i].file != NULL && d.v[i].msg != NULL);
		CHECK(strcmp(d.v[i].file, "fuzz.yaml") == 0);
		CHECK(d.v[i].line > 0 || d.v[i].col == 0);
		CHECK(gb_diag_format(&d.v[i], line, sizeof(line)) <
		    sizeof(line));
	}
	gb_diags_free(&d);
	return 0;
}
