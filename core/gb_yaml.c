/* gb_yaml: positioned YAML tree over libyaml. See gb_yaml.h. */
#include "core/gb_yaml.h"
#include "core/gb_util.h"

#include <yaml.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Nodes and strings of one document come from one arena. */
struct gb_yarena {
	struct gb_yarena *next;
	size_t		  used;
	size_t		  size;
	max_align_t	  data[];
};

#define ARENA_BLOCK	(64 * 1024)

static void *
arena_alloc(struct gb_yarena **ap, size_t n)
{
	struct gb_yarena *a = *ap, *na;
	size_t sz;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (a == NULL || a->size - a->used < n) {
		sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if ((na = malloc(sizeof(*na) + sz)) == NULL)
			return NULL;
		na->used = 0;
		na->size = sz;
		na->next = a;
		*ap = a = na;
	}
	p = (char *)a->data + a->used;
	a->used += n;
	return p;
}

static void
arena_free(struct gb_yarena *a)
{
	struct gb_yarena *next;

	for (; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
}

void
gb_yaml_limits_default(struct gb_yaml_limits *lim)
{
	lim->max_bytes = 16u << 20;
	lim->max_depth = 64;
	lim->max_nodes = 1000000;
	lim->max_scalar = 1u << 20;
}

const char *
gb_ytype_str(enum gb_ytype t)
{
	switch (t) {
	case GB_Y_SCALAR:
		return "scalar";
	case GB_Y_SEQ:
		return "sequence";
	case GB_Y_MAP:
		return "mapping";
	}
	return "?";
}

void
gb_ydoc_free(struct gb_ydoc *doc)
{
	if (doc == NULL)
		return;
	arena_free(doc->arena);
	free(doc->file);
	free(doc);
}

void
gb_ydiag(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, enum gb_diag_sev sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_diag_vadd(d, sev, doc->file, n ? n->line : 0, n ? n->col : 0, fmt,
	    ap);
	va_end(ap);
}

/* One open collection while the tree is built. */
struct frame {
	struct gb_ynode	 *node;
	struct gb_ynode	**kids;		/* seq items, or key, value, key, ... */
	size_t		  nkids;
	size_t		  cap;
};

struct builder {
	struct gb_ydoc		*doc;
	struct gb_diags		*d;
	const struct gb_yaml_limits *lim;
	struct frame		*stack;
	size_t			 depth;
	size_t			 nodes;
	int			 failed;
};

static struct gb_ynode *
node_new(struct builder *b, enum gb_ytype type, const yaml_mark_t *m)
{
	struct gb_ynode *n;

	if (++b->nodes > b->lim->max_nodes) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1,
		    "too many nodes (more than %zu)", b->lim->max_nodes);
		return NULL;
	}
	if ((n = arena_alloc(&b->doc->arena, sizeof(*n))) == NULL) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, 0, 0,
		    "out of memory");
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int
frame_add(struct builder *b, struct frame *f, struct gb_ynode *n)
{
	struct gb_ynode **k;

	if (f->nkids == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;

		if ((k = reallocarray(f->kids, ncap, sizeof(*k))) == NULL) {
			gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, 0, 0,
			    "out of memory");
			return -1;
		}
		f->kids = k;
		f->cap = ncap;
	}
	f->kids[f->nkids++] = n;
	return 0;
}

/* Attach a finished node to its parent (or make it the root). */
static int
attach(struct builder *b, struct gb_ynode *n)
{
	struct frame *f;

	if (b->depth == 0) {
		b->doc->root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (f->node->type == GB_Y_MAP && f->nkids % 2 == 0 &&
	    n->type != GB_Y_SCALAR) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, n->line, n->col,
		    "a mapping key must be a scalar, not a %s",
		    gb_ytype_str(n->type));
		return -1;
	}
	return frame_add(b, f, n);
}

struct keyref {
	const struct gb_ynode *key;
	size_t idx;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key->str, y->key->str);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Duplicate keys, found by sorting: O(n log n) for hostile huge maps. */
static void
check_dup_keys(struct builder *b, const struct gb_ynode *map)
{
	struct keyref *refs;
	size_t i, first = 0;

	if (map->len < 2)
		return;
	if ((refs = calloc(map->len, sizeof(*refs))) == NULL)
		return;
	for (i = 0; i < map->len; i++) {
		refs[i].key = map->pairs[i].key;
		refs[i].idx = i;
	}
	qsort(refs, map->len, sizeof(*refs), keyref_cmp);
	for (i = 1; i < map->len; i++) {
		if (strcmp(refs[i].key->str, refs[first].key->str) != 0) {
			first = i;
			continue;
		}
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    refs[i].key->line, refs[i].key->col,
		    "duplicate key \"%s\" (first at line %u, column %u)",
		    refs[i].key->str, refs[first].key->line,
		    refs[first].key->col);
	}
	free(refs);
}

static int
close_frame(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct gb_ynode *n = f->node;
	size_t i;
	int rc = 0;

	if (n->type == GB_Y_SEQ) {
		n->len = f->nkids;
		if (f->nkids > 0) {
			n->items = arena_alloc(&b->doc->arena,
			    f->nkids * sizeof(*n->items));
			if (n->items == NULL)
				rc = -1;
			else
				memcpy(n->items, f->kids,
				    f->nkids * sizeof(*n->items));
		}
	} else {
		n->len = f->nkids / 2;
		if (n->len > 0) {
			n->pairs = arena_alloc(&b->doc->arena,
			    n->len * sizeof(*n->pairs));
			if (n->pairs == NULL)
				rc = -1;
			else
				for (i = 0; i < n->len; i++) {
					n->pairs[i].key = f->kids[2 * i];
					n->pairs[i].val = f->kids[2 * i + 1];
				}
		}
		if (rc == 0)
			check_dup_keys(b, n);
	}
	free(f->kids);
	f->kids = NULL;
	if (rc == -1) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, 0, 0,
		    "out of memory");
		return -1;
	}
	return attach(b, n);
}

static int
open_frame(struct builder *b, struct gb_ynode *n)
{
	if (b->depth >= b->lim->max_depth) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, n->line, n->col,
		    "nesting deeper than %zu levels", b->lim->max_depth);
		return -1;
	}
	memset(&b->stack[b->depth], 0, sizeof(b->stack[0]));
	b->stack[b->depth++].node = n;
	return 0;
}

/*
 * libyaml sets tag only for a tag written in the file (even the bare "!"),
 * never for a resolved one: any tag is refused.
 */
static int
refuse_extras(struct builder *b, const yaml_mark_t *m, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	if (anchor != NULL) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1,
		    "anchors and aliases are not supported");
		return -1;
	}
	if (tag != NULL) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1,
		    "tags are not supported");
		return -1;
	}
	return 0;
}

static int
on_event(struct builder *b, const yaml_event_t *ev, int *ndocs)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct gb_ynode *n;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++*ndocs > 1) {
			gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
			    (unsigned)m->line + 1, (unsigned)m->column + 1,
			    "only one YAML document per file");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1,
		    "anchors and aliases are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		if (refuse_extras(b, m, ev->data.scalar.anchor,
		    ev->data.scalar.tag) == -1)
			return -1;
		if (ev->data.scalar.length > b->lim->max_scalar) {
			gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
			    (unsigned)m->line + 1, (unsigned)m->column + 1,
			    "scalar longer than %zu bytes", b->lim->max_scalar);
			return -1;
		}
		if ((n = node_new(b, GB_Y_SCALAR, m)) == NULL)
			return -1;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		if ((n->str = arena_alloc(&b->doc->arena, n->len + 1)) == NULL)
			return -1;
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		if (memchr(n->str, '\0', n->len) != NULL) {
			gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, n->line,
			    n->col, "NUL byte in a scalar");
			return -1;
		}
		return attach(b, n);
	case YAML_SEQUENCE_START_EVENT:
		if (refuse_extras(b, m, ev->data.sequence_start.anchor,
		    ev->data.sequence_start.tag) == -1)
			return -1;
		if ((n = node_new(b, GB_Y_SEQ, m)) == NULL)
			return -1;
		return open_frame(b, n);
	case YAML_MAPPING_START_EVENT:
		if (refuse_extras(b, m, ev->data.mapping_start.anchor,
		    ev->data.mapping_start.tag) == -1)
			return -1;
		if ((n = node_new(b, GB_Y_MAP, m)) == NULL)
			return -1;
		return open_frame(b, n);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth == 0)
			return -1;
		return close_frame(b);
	}
	return 0;
}

static void
parser_error(struct builder *b, const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *what = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, 0, 0,
		    "out of memory");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file, 0, 0,
		    "%s at byte %zu (the file must be UTF-8)", what,
		    p->problem_offset);
		return;
	}
	if (p->context != NULL)
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1, "%s %s",
		    what, p->context);
	else
		gb_diag_add(b->d, GB_DIAG_ERROR, b->doc->file,
		    (unsigned)m->line + 1, (unsigned)m->column + 1, "%s", what);
}

int
gb_yaml_load_mem(const char *name, const void *p, size_t n,
    const struct gb_yaml_limits *lim, struct gb_ydoc **out, struct gb_diags *d)
{
	struct gb_yaml_limits deflim;
	struct builder b;
	struct gb_ydoc *doc;
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t errors0 = d->nerrors + d->dropped, i;
	int ndocs = 0, done = 0, rc = 0;

	*out = NULL;
	if (lim == NULL) {
		gb_yaml_limits_default(&deflim);
		lim = &deflim;
	}
	if ((doc = calloc(1, sizeof(*doc))) == NULL ||
	    (doc->file = strdup(name ? name : "<input>")) == NULL) {
		free(doc);
		gb_diag_add(d, GB_DIAG_ERROR, name, 0, 0, "out of memory");
		return -1;
	}
	if (n > lim->max_bytes) {
		gb_diag_add(d, GB_DIAG_ERROR, doc->file, 0, 0,
		    "file larger than %zu bytes", lim->max_bytes);
		gb_ydoc_free(doc);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	b.doc = doc;
	b.d = d;
	b.lim = lim;
	if ((b.stack = calloc(lim->max_depth + 1, sizeof(*b.stack))) == NULL ||
	    !yaml_parser_initialize(&parser)) {
		free(b.stack);
		gb_diag_add(d, GB_DIAG_ERROR, doc->file, 0, 0, "out of memory");
		gb_ydoc_free(doc);
		return -1;
	}
	yaml_parser_set_input_string(&parser, p, n);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&b, &parser);
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev, &ndocs);
		yaml_event_delete(&ev);
		if (rc == -1)
			break;
	}
	yaml_parser_delete(&parser);
	for (i = 0; i < b.depth; i++)
		free(b.stack[i].kids);
	free(b.stack);
	if (rc == -1 || d->nerrors + d->dropped > errors0) {
		if (d->nerrors + d->dropped == errors0)
			gb_diag_add(d, GB_DIAG_ERROR, doc->file, 0, 0,
			    "malformed YAML");
		gb_ydoc_free(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

int
gb_yaml_load_file(const char *path, const struct gb_yaml_limits *lim,
    struct gb_ydoc **out, struct gb_diags *d)
{
	struct gb_yaml_limits deflim;
	struct stat st;
	char *data;
	size_t off = 0;
	ssize_t r;
	int fd, rc;

	*out = NULL;
	if (lim == NULL) {
		gb_yaml_limits_default(&deflim);
		lim = &deflim;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0,
		    "not a regular file");
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > lim->max_bytes) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0,
		    "file larger than %zu bytes", lim->max_bytes);
		close(fd);
		return -1;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0, "out of memory");
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, data + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (off != (size_t)st.st_size) {
		gb_diag_add(d, GB_DIAG_ERROR, path, 0, 0, "short read");
		free(data);
		return -1;
	}
	rc = gb_yaml_load_mem(path, data, off, lim, out, d);
	free(data);
	return rc;
}

struct gb_ynode *
gb_ymap_get(const struct gb_ynode *n, const char *key)
{
	size_t i;

	if (n == NULL || n->type != GB_Y_MAP)
		return NULL;
	for (i = 0; i < n->len; i++)
		if (strcmp(n->pairs[i].key->str, key) == 0)
			return n->pairs[i].val;
	return NULL;
}

int
gb_yexpect(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, enum gb_ytype t)
{
	if (n == NULL)
		return -1;
	if (n->type == t)
		return 0;
	gb_ydiag(doc, d, n, GB_DIAG_ERROR, "%s: expected a %s, got a %s", key,
	    gb_ytype_str(t), gb_ytype_str(n->type));
	return -1;
}

int
gb_ymap_check(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *what, const char *const *allowed)
{
	const char *const *a;
	const char *hint;
	size_t i;
	int rc = 0;

	if (gb_yexpect(doc, d, n, what, GB_Y_MAP) == -1)
		return -1;
	for (i = 0; i < n->len; i++) {
		const struct gb_ynode *k = n->pairs[i].key;

		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, k->str) == 0)
				break;
		if (*a != NULL)
			continue;
		rc = -1;
		if ((hint = gb_did_you_mean(k->str, allowed)) != NULL)
			gb_ydiag(doc, d, k, GB_DIAG_ERROR,
			    "unknown key \"%s\" in %s (did you mean \"%s\"?)",
			    k->str, what, hint);
		else
			gb_ydiag(doc, d, k, GB_DIAG_ERROR,
			    "unknown key \"%s\" in %s", k->str, what);
	}
	return rc;
}

struct gb_ynode *
gb_ymap_need(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *map, const char *what, const char *key)
{
	struct gb_ynode *v;

	if ((v = gb_ymap_get(map, key)) == NULL)
		gb_ydiag(doc, d, map, GB_DIAG_ERROR,
		    "%s: missing required key \"%s\"", what, key);
	return v;
}

int
gb_ystr(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, const char **out)
{
	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	*out = n->str;
	return 0;
}

int
gb_yint(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, long long min, long long max,
    long long *out)
{
	const char *s;
	char *end;
	long long v;

	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	s = n->str;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || *s == ' ' ||
	    *s == '+' || n->quoted) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: expected an integer, got \"%s\"", key, s);
		return -1;
	}
	if (v < min || v > max) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: %lld is out of range (%lld to %lld)", key, v, min,
		    max);
		return -1;
	}
	*out = v;
	return 0;
}

int
gb_ybool(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, bool *out)
{
	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	if (!n->quoted && strcmp(n->str, "true") == 0)
		*out = true;
	else if (!n->quoted && strcmp(n->str, "false") == 0)
		*out = false;
	else {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: expected true or false, got \"%s\"", key, n->str);
		return -1;
	}
	return 0;
}

int
gb_ysize(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	if (gb_parse_size(n->str, &v) == -1) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: expected a size like 64k or 10m, got \"%s\"", key,
		    n->str);
		return -1;
	}
	if (v < min || v > max) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: %s is out of range (%llu to %llu bytes)", key, n->str,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int
gb_yduration_ms(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	if (gb_parse_duration_ms(n->str, &v) == -1) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: expected a duration like 500ms, 30s or 5m, got \"%s\"",
		    key, n->str);
		return -1;
	}
	if (v < min || v > max) {
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: %s is out of range (%llums to %llums)", key, n->str,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int
gb_yenum(const struct gb_ydoc *doc, struct gb_diags *d,
    const struct gb_ynode *n, const char *key, const char *const *names,
    int *out)
{
	const char *hint;
	int i;

	if (gb_yexpect(doc, d, n, key, GB_Y_SCALAR) == -1)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], n->str) == 0) {
			*out = i;
			return 0;
		}
	}
	if ((hint = gb_did_you_mean(n->str, names)) != NULL)
		gb_ydiag(doc, d, n, GB_DIAG_ERROR,
		    "%s: unknown value \"%s\" (did you mean \"%s\"?)", key,
		    n->str, hint);
	else
		gb_ydiag(doc, d, n, GB_DIAG_ERROR, "%s: unknown value \"%s\"",
		    key, n->str);
	return -1;
}
