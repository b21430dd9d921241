/*
 * Unit tests for core/gb_yaml.c: the tree with 1-based positions, the
 * strict loader (every refusal with its exact diagnostic and position),
 * the limits (limit passes, limit + 1 fails) and the checked accessors.
 * Inputs are loaded from right before a PROT_NONE page, so reading past
 * the input crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_yaml.h"

/* Load text[0..n) named "t.yaml", the last byte right before a guard page. */
static int
load_n(const char *text, size_t n, const struct gb_yaml_limits *lim,
    struct gb_ydoc **doc, struct gb_diags *d)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;
	uint8_t *map;
	int rc;

	if (data == 0)
		data = pg;
	map = mmap(NULL, data + pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + data, pg, PROT_NONE), 0);
	if (n > 0)
		memcpy(map + data - n, text, n);
	rc = gb_yaml_load_mem("t.yaml", map + data - n, n, lim, doc, d);
	munmap(map, data + pg);
	/* The contract: 0 with a document, or -1 with errors and no doc. */
	if (rc == 0)
		assert_non_null(*doc);
	else {
		assert_int_equal(rc, -1);
		assert_null(*doc);
		assert_true(d->nerrors + d->dropped > 0);
	}
	return rc;
}

static int
load(const char *text, const struct gb_yaml_limits *lim,
    struct gb_ydoc **doc, struct gb_diags *d)
{
	return load_n(text, strlen(text), lim, doc, d);
}

static void
assert_diag(const struct gb_diags *d, size_t i, const char *want)
{
	char buf[1400];

	if (i >= d->n)
		fail_msg("no diagnostic %zu (have %zu), want: %s", i, d->n,
		    want);
	gb_diag_format(&d->v[i], buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("diagnostic %zu:\n  got:  %s\n  want: %s", i, buf,
		    want);
}

/* text fails to load with exactly the one diagnostic want. */
static void
load_fails(const char *text, const struct gb_yaml_limits *lim,
    const char *want)
{
	struct gb_diags d;
	struct gb_ydoc *doc;

	gb_diags_init(&d, 0);
	assert_int_equal(load(text, lim, &doc, &d), -1);
	assert_diag(&d, 0, want);
	if (d.n != 1)
		fail_msg("%zu diagnostics for %s", d.n, want);
	gb_diags_free(&d);
}

/* Some diagnostic in d, in any order, is want. */
static void
assert_has_diag(const struct gb_diags *d, const char *want)
{
	char buf[1400];
	size_t i;

	for (i = 0; i < d->n; i++) {
		gb_diag_format(&d->v[i], buf, sizeof(buf));
		if (strcmp(buf, want) == 0)
			return;
	}
	fail_msg("missing diagnostic: %s", want);
}

static void
assert_pos(const struct gb_ynode *n, enum gb_ytype t, unsigned line,
    unsigned col)
{
	assert_non_null(n);
	assert_int_equal(n->type, t);
	if (n->line != line || n->col != col)
		fail_msg("%s at %u:%u, want %u:%u", gb_ytype_str(t), n->line,
		    n->col, line, col);
}

static void
assert_scalar(const struct gb_ynode *n, const char *s, unsigned line,
    unsigned col)
{
	assert_pos(n, GB_Y_SCALAR, line, col);
	assert_string_equal(n->str, s);
	assert_int_equal(n->len, strlen(s));
}

static const char nested[] =
    "# gateway\n"
    "listen:\n"
    "  - addr: 127.0.0.1:8443\n"
    "    tls: true\n"
    "  - addr: \"[::1]:8080\"\n"
    "limits: {body: 64k, timeout: 30s}\n"
    "name: |\n"
    "  multi\n"
    "  line\n"
    "empty:\n"
    "list: [a, 'b c', ]\n";

static void
test_nested(void **state)
{
	const struct gb_ynode *r, *l, *m, *n;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(load(nested, NULL, &doc, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(doc->file, "t.yaml");
	r = doc->root;
	assert_pos(r, GB_Y_MAP, 2, 1);
	assert_int_equal(r->len, 5);
	/* Keys in file order. */
	assert_scalar(r->pairs[0].key, "listen", 2, 1);
	assert_scalar(r->pairs[1].key, "limits", 6, 1);
	assert_scalar(r->pairs[2].key, "name", 7, 1);
	assert_scalar(r->pairs[3].key, "empty", 10, 1);
	assert_scalar(r->pairs[4].key, "list", 11, 1);

	l = gb_ymap_get(r, "listen");
	assert_pos(l, GB_Y_SEQ, 3, 3);
	assert_int_equal(l->len, 2);
	m = l->items[0];
	assert_pos(m, GB_Y_MAP, 3, 5);
	assert_int_equal(m->len, 2);
	assert_scalar(m->pairs[0].key, "addr", 3, 5);
	n = gb_ymap_get(m, "addr");
	assert_scalar(n, "127.0.0.1:8443", 3, 11);
	assert_false(n->quoted);
	assert_scalar(gb_ymap_get(m, "tls"), "true", 4, 10);
	m = l->items[1];
	assert_pos(m, GB_Y_MAP, 5, 5);
	assert_int_equal(m->len, 1);
	n = gb_ymap_get(m, "addr");
	assert_scalar(n, "[::1]:8080", 5, 11);
	assert_true(n->quoted);
	assert_null(gb_ymap_get(m, "tls"));

	/* Flow style. */
	m = gb_ymap_get(r, "limits");
	assert_pos(m, GB_Y_MAP, 6, 9);
	assert_scalar(m->pairs[0].key, "body", 6, 10);
	assert_scalar(gb_ymap_get(m, "body"), "64k", 6, 16);
	assert_scalar(m->pairs[1].key, "timeout", 6, 21);
	assert_scalar(gb_ymap_get(m, "timeout"), "30s", 6, 30);

	/* A block scalar counts as quoted. */
	n = gb_ymap_get(r, "name");
	assert_scalar(n, "multi\nline\n", 7, 7);
	assert_true(n->quoted);

	/* An empty value is an empty plain scalar. */
	n = gb_ymap_get(r, "empty");
	assert_pos(n, GB_Y_SCALAR, 10, 7);
	assert_string_equal(n->str, "");
	assert_int_equal(n->len, 0);
	assert_false(n->quoted);

	l = gb_ymap_get(r, "list");
	assert_pos(l, GB_Y_SEQ, 11, 7);
	assert_int_equal(l->len, 2);
	assert_scalar(l->items[0], "a", 11, 8);
	assert_scalar(l->items[1], "b c", 11, 11);
	assert_true(l->items[1]->quoted);

	/* gb_ymap_get on what is not a map, or a missing key. */
	assert_null(gb_ymap_get(r, "nope"));
	assert_null(gb_ymap_get(l, "a"));
	assert_null(gb_ymap_get(NULL, "a"));
	gb_ydoc_free(doc);
	gb_ydoc_free(NULL);
	gb_diags_free(&d);
}

/* Every prefix of a valid file loads or fails cleanly, never crashes. */
static void
test_prefixes(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;
	size_t i;

	(void)state;
	for (i = 0; i <= sizeof(nested) - 1; i++) {
		gb_diags_init(&d, 0);
		if (load_n(nested, i, NULL, &doc, &d) == 0)
			assert_int_equal(d.nerrors, 0);
		gb_ydoc_free(doc);
		gb_diags_free(&d);
	}
}

static void
test_scalars_and_styles(void **state)
{
	static const char y[] =
	    "plain: hello world\n"
	    "single: 'it''s'\n"
	    "double: \"tab\\there \\u00e9\"\n"
	    "folded: >\n"
	    "  one\n"
	    "  two\n"
	    "utf8: Jl. Sudirman \xe2\x80\x94 Jakarta\n"
	    "num: 0042\n";
	const struct gb_ynode *r;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(load(y, NULL, &doc, &d), 0);
	r = doc->root;
	assert_scalar(gb_ymap_get(r, "plain"), "hello world", 1, 8);
	assert_scalar(gb_ymap_get(r, "single"), "it's", 2, 9);
	assert_scalar(gb_ymap_get(r, "double"), "tab\there \xc3\xa9", 3, 9);
	assert_scalar(gb_ymap_get(r, "folded"), "one two\n", 4, 9);
	assert_scalar(gb_ymap_get(r, "utf8"),
	    "Jl. Sudirman \xe2\x80\x94 Jakarta", 7, 7);
	assert_scalar(gb_ymap_get(r, "num"), "0042", 8, 6);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

/* Windows line ends count as one line break. */
static void
test_crlf(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: 1\r\nb:\r\n  - x\r\n", NULL, &doc, &d), 0);
	assert_scalar(doc->root->pairs[1].key, "b", 2, 1);
	assert_scalar(gb_ymap_get(doc->root, "b")->items[0], "x", 3, 5);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

static void
test_empty(void **state)
{
	static const char *const empties[] = { "", "# only a comment\n",
	    "\n\n", "   \n" };
	struct gb_diags d;
	struct gb_ydoc *doc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		gb_diags_init(&d, 0);
		assert_int_equal(load(empties[i], NULL, &doc, &d), 0);
		assert_null(doc->root);
		assert_int_equal(d.n, 0);
		gb_ydoc_free(doc);
		gb_diags_free(&d);
	}
	/* An explicit document with one scalar is fine. */
	gb_diags_init(&d, 0);
	assert_int_equal(load("--- x\n...\n", NULL, &doc, &d), 0);
	assert_scalar(doc->root, "x", 1, 5);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

static void
test_duplicate_key(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	load_fails("a: 1\nb: 2\na: 3\n", NULL,
	    "t.yaml:3:1: error: duplicate key \"a\" (first at line 1, "
	    "column 1)");
	load_fails("x:\n  k: 1\n  j: 2\n  k: 3\n", NULL,
	    "t.yaml:4:3: error: duplicate key \"k\" (first at line 2, "
	    "column 3)");
	load_fails("m: {p: 1, q: 2, p: 3}\n", NULL,
	    "t.yaml:1:17: error: duplicate key \"p\" (first at line 1, "
	    "column 5)");
	/* Quoting does not make a different key. */
	load_fails("a: 1\n\"a\": 2\n", NULL,
	    "t.yaml:2:1: error: duplicate key \"a\" (first at line 1, "
	    "column 1)");

	/* Every repeat points at the first one; every map is checked. */
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: 1\na: 2\nb:\n  c: 1\n  c: 2\na: 3\n", NULL,
	    &doc, &d), -1);
	assert_int_equal(d.n, 3);
	assert_has_diag(&d, "t.yaml:5:3: error: duplicate key \"c\" (first at "
	    "line 4, column 3)");
	assert_has_diag(&d, "t.yaml:2:1: error: duplicate key \"a\" (first at "
	    "line 1, column 1)");
	assert_has_diag(&d, "t.yaml:6:1: error: duplicate key \"a\" (first at "
	    "line 1, column 1)");
	gb_diags_free(&d);

	/* The same key in different maps is fine. */
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: {k: 1}\nb: {k: 2}\n", NULL, &doc, &d), 0);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

static void
test_refused_constructs(void **state)
{
	(void)state;
	/* Anchors and aliases. */
	load_fails("a: &x 1\nb: *x\n", NULL,
	    "t.yaml:1:4: error: anchors and aliases are not supported");
	load_fails("a: *x\n", NULL,
	    "t.yaml:1:4: error: anchors and aliases are not supported");
	load_fails("base: &b {k: 1}\n", NULL,
	    "t.yaml:1:7: error: anchors and aliases are not supported");
	load_fails("- &s [1]\n", NULL,
	    "t.yaml:1:3: error: anchors and aliases are not supported");
	/* Explicit tags, on scalars and collections, even the bare "!". */
	load_fails("a: !!str 1\n", NULL,
	    "t.yaml:1:4: error: tags are not supported");
	load_fails("a: !custom x\n", NULL,
	    "t.yaml:1:4: error: tags are not supported");
	load_fails("a: ! x\n", NULL,
	    "t.yaml:1:4: error: tags are not supported");
	load_fails("a: !!map {k: 1}\n", NULL,
	    "t.yaml:1:4: error: tags are not supported");
	load_fails("a: !!seq\n  - 1\n", NULL,
	    "t.yaml:1:4: error: tags are not supported");
	load_fails("!!python/object:os.system x\n", NULL,
	    "t.yaml:1:1: error: tags are not supported");
	/* More than one document. */
	load_fails("a: 1\n---\nb: 2\n", NULL,
	    "t.yaml:2:1: error: only one YAML document per file");
	load_fails("--- a\n--- b\n", NULL,
	    "t.yaml:2:1: error: only one YAML document per file");
	/* Non-scalar keys. */
	load_fails("? [a, b]\n: 1\n", NULL,
	    "t.yaml:1:3: error: a mapping key must be a scalar, not a "
	    "sequence");
	load_fails("{a: 1}: x\n", NULL,
	    "t.yaml:1:1: error: a mapping key must be a scalar, not a "
	    "mapping");
	load_fails("m:\n  [x]: 1\n", NULL,
	    "t.yaml:2:3: error: a mapping key must be a scalar, not a "
	    "sequence");
	/* A NUL byte through an escape. */
	load_fails("a: \"x\\0y\"\n", NULL,
	    "t.yaml:1:4: error: NUL byte in a scalar");
}

/* libyaml syntax errors keep their position. */
static void
test_syntax_errors(void **state)
{
	(void)state;
	load_fails("a: b: c\n", NULL,
	    "t.yaml:1:5: error: mapping values are not allowed in this "
	    "context");
	load_fails("a: [1, 2\n", NULL,
	    "t.yaml:2:1: error: did not find expected ',' or ']' while "
	    "parsing a flow sequence");
	load_fails("a:\n  b: 1\n c: 2\n", NULL,
	    "t.yaml:3:2: error: did not find expected key while parsing a "
	    "block mapping");
	load_fails("key: \"unterminated\n", NULL,
	    "t.yaml:2:1: error: found unexpected end of stream while "
	    "scanning a quoted scalar");
	load_fails("\t- a\n", NULL,
	    "t.yaml:1:1: error: found character that cannot start any token "
	    "while scanning for the next token");
}

/* Input that is not UTF-8 is refused with the byte offset. */
static void
test_invalid_utf8(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	load_fails("a: \xff\n", NULL, "t.yaml: error: invalid leading UTF-8 "
	    "octet at byte 3 (the file must be UTF-8)");
	load_fails("ok: 1\nname: caf\xc3(\n", NULL, "t.yaml: error: invalid "
	    "trailing UTF-8 octet at byte 16 (the file must be UTF-8)");
	/* A raw control character is refused too. */
	load_fails("a: x\x01y\n", NULL, "t.yaml: error: control characters "
	    "are not allowed at byte 4 (the file must be UTF-8)");
	/* A raw NUL byte in the input. */
	gb_diags_init(&d, 0);
	assert_int_equal(load_n("a: 1\0b: 2\n", 10, NULL, &doc, &d), -1);
	assert_diag(&d, 0, "t.yaml: error: control characters are not "
	    "allowed at byte 4 (the file must be UTF-8)");
	gb_diags_free(&d);
}

static void
test_limit_depth(void **state)
{
	struct gb_yaml_limits lim;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_yaml_limits_default(&lim);
	lim.max_depth = 3;
	gb_diags_init(&d, 0);
	assert_int_equal(load("a:\n  b:\n    c: 1\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	assert_int_equal(load("[[[1]]]\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	assert_int_equal(load("- - - x\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
	load_fails("a:\n  b:\n    c:\n      d: 1\n", &lim,
	    "t.yaml:4:7: error: nesting deeper than 3 levels");
	load_fails("[[[[1]]]]\n", &lim,
	    "t.yaml:1:4: error: nesting deeper than 3 levels");
	load_fails("a: [{b: [1]}]\n", &lim,
	    "t.yaml:1:9: error: nesting deeper than 3 levels");

	/* The default, 64: 64 levels load, 65 do not. */
	gb_yaml_limits_default(&lim);
	assert_int_equal(lim.max_depth, 64);
	{
		char deep[2 * 65 + 8];
		size_t i;

		for (i = 0; i < 64; i++)
			deep[i] = '[';
		deep[64] = '1';
		for (i = 0; i < 64; i++)
			deep[65 + i] = ']';
		deep[129] = '\0';
		gb_diags_init(&d, 0);
		assert_int_equal(load(deep, NULL, &doc, &d), 0);
		gb_ydoc_free(doc);
		gb_diags_free(&d);
		for (i = 0; i < 65; i++)
			deep[i] = '[';
		deep[65] = '1';
		for (i = 0; i < 65; i++)
			deep[66 + i] = ']';
		deep[131] = '\0';
		load_fails(deep, NULL,
		    "t.yaml:1:65: error: nesting deeper than 64 levels");
	}
}

/* Very deep hostile nesting is refused quickly, without recursion. */
static void
test_limit_depth_hostile(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;
	char *deep;
	size_t i, n = 200000;

	(void)state;
	deep = malloc(n + 1);
	assert_non_null(deep);
	for (i = 0; i < n; i++)
		deep[i] = i % 2 ? '{' : '[';
	deep[n] = '\0';
	gb_diags_init(&d, 0);
	assert_int_equal(load(deep, NULL, &doc, &d), -1);
	assert_diag(&d, 0, "t.yaml:1:65: error: nesting deeper than 64 levels");
	gb_diags_free(&d);
	free(deep);
}

static void
test_limit_nodes(void **state)
{
	struct gb_yaml_limits lim;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_yaml_limits_default(&lim);
	lim.max_nodes = 5;	/* a map and four scalars */
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: 1\nb: 2\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	assert_int_equal(load("[1, 2, 3, 4]\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
	load_fails("a: 1\nb: 2\nc: 3\n", &lim,
	    "t.yaml:3:1: error: too many nodes (more than 5)");
	load_fails("[1, 2, 3, 4, 5]\n", &lim,
	    "t.yaml:1:14: error: too many nodes (more than 5)");
}

static void
test_limit_scalar(void **state)
{
	struct gb_yaml_limits lim;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_yaml_limits_default(&lim);
	lim.max_scalar = 8;
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: 12345678\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	assert_int_equal(load("12345678: \"abcdefgh\"\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
	load_fails("a: 123456789\n", &lim,
	    "t.yaml:1:4: error: scalar longer than 8 bytes");
	load_fails("123456789: a\n", &lim,
	    "t.yaml:1:1: error: scalar longer than 8 bytes");
	load_fails("a: |\n  1234\n  5678\n", &lim,
	    "t.yaml:1:4: error: scalar longer than 8 bytes");
}

static void
test_limit_bytes(void **state)
{
	struct gb_yaml_limits lim;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_yaml_limits_default(&lim);
	assert_int_equal(lim.max_bytes, 16u << 20);
	assert_int_equal(lim.max_nodes, 1000000);
	assert_int_equal(lim.max_scalar, 1u << 20);
	lim.max_bytes = 16;
	gb_diags_init(&d, 0);
	assert_int_equal(load("a: 123456789012\n", &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
	load_fails("a: 1234567890123\n", &lim,
	    "t.yaml: error: file larger than 16 bytes");
}

/* Errors already in the list are not this load's errors. */
static void
test_errors_accumulate(void **state)
{
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_diags_init(&d, 0);
	gb_diag_add(&d, GB_DIAG_ERROR, "other.yaml", 1, 1, "earlier");
	assert_int_equal(load("a: 1\n", NULL, &doc, &d), 0);
	assert_int_equal(d.n, 1);
	gb_ydoc_free(doc);
	assert_int_equal(load("a: 1\na: 2\n", NULL, &doc, &d), -1);
	assert_int_equal(d.n, 2);
	gb_diags_free(&d);

	/* A full list still fails the load (counted in dropped). */
	gb_diags_init(&d, 1);
	gb_diag_add(&d, GB_DIAG_ERROR, "other.yaml", 1, 1, "earlier");
	assert_true(gb_diags_full(&d));
	assert_int_equal(load("a: 1\na: 2\n", NULL, &doc, &d), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.dropped, 1);
	gb_diags_free(&d);
}

/* A temporary directory and file for the gb_yaml_load_file() tests. */
struct tmp {
	char	dir[64];
	char	path[96];
};

/* The teardown runs even when the test fails: nothing is left in /tmp. */
static int
tmp_setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	strcpy(t->dir, "/tmp/gb_yaml_test.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s/conf.yaml", t->dir);
	*state = t;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;
	int rc;

	unlink(t->path);
	rc = rmdir(t->dir);
	free(t);
	return rc == 0 ? 0 : -1;
}

static void
tmp_write(const struct tmp *t, const char *text)
{
	FILE *fp;

	fp = fopen(t->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
test_load_file(void **state)
{
	struct gb_yaml_limits lim;
	struct gb_diags d;
	struct gb_ydoc *doc;
	struct tmp *t = *state;
	char want[256];

	tmp_write(t, nested);
	gb_diags_init(&d, 0);
	assert_int_equal(gb_yaml_load_file(t->path, NULL, &doc, &d), 0);
	assert_string_equal(doc->file, t->path);
	assert_pos(doc->root, GB_Y_MAP, 2, 1);
	assert_scalar(gb_ymap_get(gb_ymap_get(doc->root, "limits"), "body"),
	    "64k", 6, 16);
	gb_ydoc_free(doc);

	/* Errors name the file. */
	gb_yaml_limits_default(&lim);
	lim.max_depth = 1;
	assert_int_equal(gb_yaml_load_file(t->path, &lim, &doc, &d), -1);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s:3:3: error: nesting deeper than 1 "
	    "levels", t->path);
	assert_diag(&d, 0, want);
	gb_diags_reset(&d);

	/* The byte limit applies to files: size limit passes, +1 fails. */
	gb_yaml_limits_default(&lim);
	lim.max_bytes = sizeof(nested) - 1;
	assert_int_equal(gb_yaml_load_file(t->path, &lim, &doc, &d), 0);
	gb_ydoc_free(doc);
	lim.max_bytes = sizeof(nested) - 2;
	assert_int_equal(gb_yaml_load_file(t->path, &lim, &doc, &d), -1);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s: error: file larger than %zu bytes",
	    t->path, sizeof(nested) - 2);
	assert_diag(&d, 0, want);
	gb_diags_free(&d);
}

static void
test_load_file_errors(void **state)
{
	static struct gb_ydoc poison;
	struct gb_ydoc *doc = &poison;	/* must come back NULL */
	struct tmp *t = *state;
	struct gb_diags d;
	char want[256];

	gb_diags_init(&d, 0);
	assert_int_equal(gb_yaml_load_file(t->path, NULL, &doc, &d), -1);
	assert_null(doc);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 0);
	snprintf(want, sizeof(want), "%s: error: cannot open: No such file "
	    "or directory", t->path);
	assert_diag(&d, 0, want);
	gb_diags_reset(&d);

	/* A directory is not a config file. */
	assert_int_equal(gb_yaml_load_file(t->dir, NULL, &doc, &d), -1);
	assert_null(doc);
	snprintf(want, sizeof(want), "%s: error: not a regular file", t->dir);
	assert_diag(&d, 0, want);
	gb_diags_reset(&d);

	/* An empty file is an empty document. */
	tmp_write(t, "");
	assert_int_equal(gb_yaml_load_file(t->path, NULL, &doc, &d), 0);
	assert_null(doc->root);
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

/* The accessors: one document holding right and wrong values. */
static const char typed[] =
    "port: 8443\n"			/* 1 */
    "neg: -40\n"			/* 2 */
    "text: \"8443\"\n"			/* 3 */
    "word: abc\n"			/* 4 */
    "big: 99999999999999999999\n"	/* 5 */
    "plus: +5\n"			/* 6 */
    "hex: 0x10\n"			/* 7 */
    "on: true\n"			/* 8 */
    "off: false\n"			/* 9 */
    "yes: yes\n"			/* 10 */
    "qtrue: \"true\"\n"			/* 11 */
    "body: 64k\n"			/* 12 */
    "huge: 2g\n"			/* 13 */
    "lots: lots\n"			/* 14 */
    "timeout: 30s\n"			/* 15 */
    "slow: 2h\n"			/* 16 */
    "soon: soon\n"			/* 17 */
    "action: deny\n"			/* 18 */
    "typo: dney\n"			/* 19 */
    "list: [1, 2]\n"			/* 20 */
    "map: {a: 1}\n"			/* 21 */
    "float: 1.5\n";			/* 22 */

struct typed {
	struct gb_diags	 d;
	struct gb_ydoc	*doc;
};

static int
typed_setup(void **state)
{
	struct typed *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	gb_diags_init(&t->d, 100);
	if (gb_yaml_load_mem("t.yaml", typed, sizeof(typed) - 1, NULL,
	    &t->doc, &t->d) != 0) {
		gb_diags_free(&t->d);
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
typed_teardown(void **state)
{
	struct typed *t = *state;

	gb_ydoc_free(t->doc);
	gb_diags_free(&t->d);
	free(t);
	return 0;
}

static const struct gb_ynode *
get(struct typed *t, const char *key)
{
	const struct gb_ynode *n = gb_ymap_get(t->doc->root, key);

	assert_non_null(n);
	return n;
}

/* The last diagnostic recorded is want; the count grew by one. */
static void
last_diag(struct typed *t, size_t before, const char *want)
{
	assert_int_equal(t->d.n, before + 1);
	assert_diag(&t->d, t->d.n - 1, want);
}

static void
test_yint(void **state)
{
	struct typed *t = *state;
	long long v = 7;
	size_t n0;

	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "port"), "port", 1,
	    65535, &v), 0);
	assert_int_equal(v, 8443);
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "neg"), "neg", -100,
	    100, &v), 0);
	assert_int_equal(v, -40);
	/* Limits are inclusive. */
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "port"), "port", 8443,
	    8443, &v), 0);
	assert_int_equal(t->d.n, 0);

	v = 7;
	n0 = t->d.n;
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "port"), "port", 1,
	    8442, &v), -1);
	last_diag(t, n0, "t.yaml:1:7: error: port: 8443 is out of range "
	    "(1 to 8442)");
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "neg"), "neg", 0, 10,
	    &v), -1);
	last_diag(t, n0 + 1, "t.yaml:2:6: error: neg: -40 is out of range "
	    "(0 to 10)");
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "text"), "text", 1,
	    65535, &v), -1);
	last_diag(t, n0 + 2, "t.yaml:3:7: error: text: expected an integer, "
	    "got \"8443\"");
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "word"), "word", 0,
	    10, &v), -1);
	last_diag(t, n0 + 3, "t.yaml:4:7: error: word: expected an integer, "
	    "got \"abc\"");
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "big"), "big",
	    LLONG_MIN, LLONG_MAX, &v), -1);
	last_diag(t, n0 + 4, "t.yaml:5:6: error: big: expected an integer, "
	    "got \"99999999999999999999\"");
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "plus"), "plus", 0,
	    10, &v), -1);
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "hex"), "hex", 0, 100,
	    &v), -1);
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "float"), "float", 0,
	    100, &v), -1);
	assert_int_equal(gb_yint(t->doc, &t->d, get(t, "list"), "list", 0,
	    100, &v), -1);
	last_diag(t, n0 + 8, "t.yaml:20:7: error: list: expected a scalar, "
	    "got a sequence");
	assert_int_equal(v, 7);	/* untouched on error */
	assert_int_equal(t->d.nerrors, 9);
}

static void
test_ybool(void **state)
{
	struct typed *t = *state;
	bool v = false;

	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "on"), "on", &v), 0);
	assert_true(v);
	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "off"), "off", &v),
	    0);
	assert_false(v);
	assert_int_equal(t->d.n, 0);
	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "yes"), "yes", &v),
	    -1);
	last_diag(t, 0, "t.yaml:10:6: error: yes: expected true or false, "
	    "got \"yes\"");
	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "qtrue"), "qtrue",
	    &v), -1);
	last_diag(t, 1, "t.yaml:11:8: error: qtrue: expected true or false, "
	    "got \"true\"");
	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "port"), "port", &v),
	    -1);
	assert_int_equal(gb_ybool(t->doc, &t->d, get(t, "map"), "map", &v),
	    -1);
	last_diag(t, 3, "t.yaml:21:6: error: map: expected a scalar, got a "
	    "mapping");
	assert_false(v);
}

static void
test_ysize(void **state)
{
	struct typed *t = *state;
	uint64_t v = 7;

	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "body"), "body", 0,
	    UINT64_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "port"), "port", 0,
	    UINT64_MAX, &v), 0);
	assert_int_equal(v, 8443);
	/* A quoted size is still a size. */
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "text"), "text", 0,
	    UINT64_MAX, &v), 0);
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "body"), "body",
	    65536, 65536, &v), 0);
	assert_int_equal(t->d.n, 0);
	v = 7;
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "huge"), "huge", 1024,
	    1u << 30, &v), -1);
	last_diag(t, 0, "t.yaml:13:7: error: huge: 2g is out of range "
	    "(1024 to 1073741824 bytes)");
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "body"), "body",
	    65537, 1u << 30, &v), -1);
	last_diag(t, 1, "t.yaml:12:7: error: body: 64k is out of range "
	    "(65537 to 1073741824 bytes)");
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "lots"), "lots", 0,
	    UINT64_MAX, &v), -1);
	last_diag(t, 2, "t.yaml:14:7: error: lots: expected a size like 64k "
	    "or 10m, got \"lots\"");
	assert_int_equal(gb_ysize(t->doc, &t->d, get(t, "list"), "list", 0,
	    UINT64_MAX, &v), -1);
	last_diag(t, 3, "t.yaml:20:7: error: list: expected a scalar, got a "
	    "sequence");
	assert_int_equal(v, 7);
}

static void
test_yduration(void **state)
{
	struct typed *t = *state;
	uint64_t v = 7;

	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "timeout"),
	    "timeout", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "timeout"),
	    "timeout", 30000, 30000, &v), 0);
	assert_int_equal(t->d.n, 0);
	v = 7;
	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "slow"),
	    "slow", 1000, 3600000, &v), -1);
	last_diag(t, 0, "t.yaml:16:7: error: slow: 2h is out of range "
	    "(1000ms to 3600000ms)");
	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "timeout"),
	    "timeout", 30001, 60000, &v), -1);
	last_diag(t, 1, "t.yaml:15:10: error: timeout: 30s is out of range "
	    "(30001ms to 60000ms)");
	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "soon"),
	    "soon", 0, UINT64_MAX, &v), -1);
	last_diag(t, 2, "t.yaml:17:7: error: soon: expected a duration like "
	    "500ms, 30s or 5m, got \"soon\"");
	assert_int_equal(gb_yduration_ms(t->doc, &t->d, get(t, "map"), "map",
	    0, UINT64_MAX, &v), -1);
	last_diag(t, 3, "t.yaml:21:6: error: map: expected a scalar, got a "
	    "mapping");
	assert_int_equal(v, 7);
}

static void
test_yenum(void **state)
{
	static const char *const actions[] = { "allow", "deny", "log", NULL };
	struct typed *t = *state;
	int v = 7;

	assert_int_equal(gb_yenum(t->doc, &t->d, get(t, "action"), "action",
	    actions, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(t->d.n, 0);
	v = 7;
	assert_int_equal(gb_yenum(t->doc, &t->d, get(t, "typo"), "action",
	    actions, &v), -1);
	last_diag(t, 0, "t.yaml:19:7: error: action: unknown value \"dney\" "
	    "(did you mean \"deny\"?)");
	assert_int_equal(gb_yenum(t->doc, &t->d, get(t, "word"), "action",
	    actions, &v), -1);
	last_diag(t, 1, "t.yaml:4:7: error: action: unknown value \"abc\"");
	assert_int_equal(gb_yenum(t->doc, &t->d, get(t, "list"), "action",
	    actions, &v), -1);
	last_diag(t, 2, "t.yaml:20:7: error: action: expected a scalar, got "
	    "a sequence");
	assert_int_equal(v, 7);
}

static void
test_ystr_expect(void **state)
{
	struct typed *t = *state;
	const char *s = NULL;

	assert_int_equal(gb_ystr(t->doc, &t->d, get(t, "word"), "word", &s),
	    0);
	assert_string_equal(s, "abc");
	assert_ptr_equal(s, get(t, "word")->str);	/* borrowed */
	assert_int_equal(gb_ystr(t->doc, &t->d, get(t, "text"), "text", &s),
	    0);
	assert_string_equal(s, "8443");
	assert_int_equal(gb_ystr(t->doc, &t->d, get(t, "map"), "map", &s),
	    -1);
	last_diag(t, 0, "t.yaml:21:6: error: map: expected a scalar, got a "
	    "mapping");
	assert_int_equal(gb_yexpect(t->doc, &t->d, get(t, "list"), "list",
	    GB_Y_SEQ), 0);
	assert_int_equal(gb_yexpect(t->doc, &t->d, get(t, "word"), "word",
	    GB_Y_MAP), -1);
	last_diag(t, 1, "t.yaml:4:7: error: word: expected a mapping, got a "
	    "scalar");
	assert_string_equal(gb_ytype_str(GB_Y_SCALAR), "scalar");
	assert_string_equal(gb_ytype_str(GB_Y_SEQ), "sequence");
	assert_string_equal(gb_ytype_str(GB_Y_MAP), "mapping");

	/* gb_ydiag: at a node, or the whole file. */
	gb_ydiag(t->doc, &t->d, get(t, "word"), GB_DIAG_WARNING, "odd %s",
	    "value");
	last_diag(t, 2, "t.yaml:4:7: warning: odd value");
	gb_ydiag(t->doc, &t->d, NULL, GB_DIAG_ERROR, "whole %d", 1);
	last_diag(t, 3, "t.yaml: error: whole 1");
}

static void
test_ymap_check(void **state)
{
	static const char *const allowed[] = { "address", "port", "tls",
	    NULL };
	static const char y[] =
	    "listener:\n"
	    "  adress: 127.0.0.1\n"
	    "  port: 80\n"
	    "  zzz: 1\n"
	    "  TLS: true\n"
	    "good:\n"
	    "  port: 1\n"
	    "  tls: false\n"
	    "scalar: x\n";
	const struct gb_ynode *l;
	struct gb_diags d;
	struct gb_ydoc *doc;

	(void)state;
	gb_diags_init(&d, 0);
	assert_int_equal(load(y, NULL, &doc, &d), 0);
	l = gb_ymap_get(doc->root, "listener");
	assert_int_equal(gb_ymap_check(doc, &d, l, "listener", allowed), -1);
	assert_int_equal(d.n, 3);
	assert_diag(&d, 0, "t.yaml:2:3: error: unknown key \"adress\" in "
	    "listener (did you mean \"address\"?)");
	assert_diag(&d, 1, "t.yaml:4:3: error: unknown key \"zzz\" in "
	    "listener");
	/* Keys are case-sensitive; the hint is not. */
	assert_diag(&d, 2, "t.yaml:5:3: error: unknown key \"TLS\" in "
	    "listener (did you mean \"tls\"?)");
	gb_diags_reset(&d);

	assert_int_equal(gb_ymap_check(doc, &d, gb_ymap_get(doc->root,
	    "good"), "good", allowed), 0);
	assert_int_equal(d.n, 0);

	assert_int_equal(gb_ymap_check(doc, &d, gb_ymap_get(doc->root,
	    "scalar"), "scalar", allowed), -1);
	assert_diag(&d, 0, "t.yaml:9:9: error: scalar: expected a mapping, "
	    "got a scalar");
	gb_diags_reset(&d);

	/* Required keys: the error is at the map. */
	assert_non_null(gb_ymap_need(doc, &d, l, "listener", "port"));
	assert_int_equal(d.n, 0);
	assert_null(gb_ymap_need(doc, &d, l, "listener", "address"));
	assert_diag(&d, 0, "t.yaml:2:3: error: listener: missing required "
	    "key \"address\"");
	assert_null(gb_ymap_need(doc, &d, doc->root, "config", "version"));
	assert_diag(&d, 1, "t.yaml:1:1: error: config: missing required key "
	    "\"version\"");
	gb_ydoc_free(doc);
	gb_diags_free(&d);
}

#define FILE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)
#define TYPED_TEST(f) \
	cmocka_unit_test_setup_teardown(f, typed_setup, typed_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_scalars_and_styles),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_refused_constructs),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_depth_hostile),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_limit_scalar),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_errors_accumulate),
		FILE_TEST(test_load_file),
		FILE_TEST(test_load_file_errors),
		TYPED_TEST(test_yint),
		TYPED_TEST(test_ybool),
		TYPED_TEST(test_ysize),
		TYPED_TEST(test_yduration),
		TYPED_TEST(test_yenum),
		TYPED_TEST(test_ystr_expect),
		cmocka_unit_test(test_ymap_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
