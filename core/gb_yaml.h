/*
 * gb_yaml: a YAML tree that remembers where every node came from, built on
 * libyaml, and the checked accessors every config loader uses.
 *
 * The loader is strict and bounded: one document per file; anchors,
 * aliases and explicit tags are refused (no billion-laughs, no surprises);
 * duplicate keys and non-scalar keys are errors; input size, nesting depth,
 * node count and scalar length have caps. Every error is recorded in a
 * struct gb_diags as file:line:col (1-based).
 *
 * Ownership: a struct gb_ydoc owns every node and string in it; nodes are
 * borrowed, valid until gb_ydoc_free(). A document is read-only after load
 * and may be read from any thread.
 *
 * Accessors follow one pattern: they take the node, write the converted
 * value, and on a type or range error record a positioned diagnostic and
 * return -1. A loader calls them all and then looks at gb_diags once, so one
 * run reports every error in a file, not just the first.
 */
#ifndef GB_YAML_H
#define GB_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gb_diag.h"

enum gb_ytype {
	GB_Y_SCALAR = 0,
	GB_Y_SEQ,
	GB_Y_MAP,
};

struct gb_ynode;

struct gb_ypair {
	struct gb_ynode	*key;	/* always a scalar */
	struct gb_ynode	*val;
};

struct gb_ynode {
	enum gb_ytype	 type;
	unsigned	 line;		/* 1-based */
	unsigned	 col;		/* 1-based */
	bool		 quoted;	/* scalar written in quotes or a block */
	char		*str;		/* scalar: NUL-terminated text */
	size_t		 len;		/* scalar: length; seq, map: count */
	struct gb_ynode	**items;	/* seq */
	struct gb_ypair	*pairs;		/* map, in file order */
};

struct gb_ydoc {
	char		*file;		/* name used in diagnostics */
	struct gb_ynode	*root;		/* NULL for an empty document */
	struct gb_yarena *arena;
};

struct gb_yaml_limits {
	size_t	max_bytes;	/* input size; default 16 MiB */
	size_t	max_depth;	/* nesting; default 64 */
	size_t	max_nodes;	/* default 1,000,000 */
	size_t	max_scalar;	/* default 1 MiB */
};

void	gb_yaml_limits_default(struct gb_yaml_limits *lim);

/*
 * Load path (or the bytes p[0..n) named name) into a tree. lim may be NULL
 * for the defaults. Returns 0 with *out set (caller owns, gb_ydoc_free()),
 * or -1 with the errors in d and *out NULL.
 */
int	gb_yaml_load_file(const char *path, const struct gb_yaml_limits *lim,
	    struct gb_ydoc **out, struct gb_diags *d);
int	gb_yaml_load_mem(const char *name, const void *p, size_t n,
	    const struct gb_yaml_limits *lim, struct gb_ydoc **out,
	    struct gb_diags *d);
void	gb_ydoc_free(struct gb_ydoc *doc);

/* "scalar", "sequence", "mapping": for messages. */
const char *gb_ytype_str(enum gb_ytype t);

/* Record a diagnostic at node n (n may be NULL: whole file). */
void	gb_ydiag(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, enum gb_diag_sev sev, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* The value of key in map n, or NULL (also when n is not a map). */
struct gb_ynode *gb_ymap_get(const struct gb_ynode *n, const char *key);

/*
 * Check that n is a mapping whose keys are all in allowed (NULL-terminated);
 * each unknown key is an error at the key, with "did you mean" when a
 * known key is close. Returns 0, or -1 when n is not a map or a key is
 * unknown. what names the map in messages ("listener").
 */
int	gb_ymap_check(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *what,
	    const char *const *allowed);

/*
 * Required keys: error at the map when key is missing. Returns the value
 * node or NULL.
 */
struct gb_ynode *gb_ymap_need(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *map, const char *what, const char *key);

/*
 * Type check: 0 when n has type t, else an error "KEY: expected a ...".
 * NULL n: -1 with nothing recorded.
 */
int	gb_yexpect(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, enum gb_ytype t);

/*
 * Scalar conversions; each records "KEY: ..." at n and returns -1 on error.
 * n may be NULL (a missing key already reported by gb_ymap_need()): they
 * then return -1 and record nothing, so "need, then convert" is safe.
 * gb_ystr: any scalar; *out borrowed from the document.
 * gb_yint: decimal integer in [min, max].
 * gb_ybool: true or false (YAML 1.2 core schema; yes/no/on/off refused).
 * gb_ysize: gb_parse_size() syntax, in [min, max].
 * gb_yduration_ms: gb_parse_duration_ms() syntax, in [min, max].
 * gb_yenum: one of names (NULL-terminated); *out is its index.
 */
int	gb_ystr(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, const char **out);
int	gb_yint(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, long long min,
	    long long max, long long *out);
int	gb_ybool(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, bool *out);
int	gb_ysize(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, uint64_t min,
	    uint64_t max, uint64_t *out);
int	gb_yduration_ms(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key, uint64_t min,
	    uint64_t max, uint64_t *out);
int	gb_yenum(const struct gb_ydoc *doc, struct gb_diags *d,
	    const struct gb_ynode *n, const char *key,
	    const char *const *names, int *out);

#endif /* GB_YAML_H */
