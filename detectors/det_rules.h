/*
 * det_rules: the detection rules: which identifier types to report, the
 * confidence each needs, severities, bulk thresholds (distinct identifiers
 * per response, flow, source or consumer in a window), allowlisted
 * values and canaries (both stored hashed) and the subjects allowed bulk
 * data. Loaded from the YAML files of a folder
 * (rules/ ships the defaults; docs/rules.md is the reference).
 *
 * A struct det_rules is read-only after load: any thread may read it.
 * Loading is not thread-safe with respect to the same gb_diags.
 */
#ifndef DET_RULES_H
#define DET_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gb_diag.h"
#include "detectors/det_scan.h"

enum det_severity {
	DET_SEV_INFO = 0,
	DET_SEV_LOW,
	DET_SEV_MEDIUM,
	DET_SEV_HIGH,
	DET_SEV_CRITICAL,
};

enum det_scope {
	DET_SCOPE_RESPONSE = 0,	/* one HTTP response / one scanned file */
	DET_SCOPE_FLOW,		/* one TCP connection */
	DET_SCOPE_SOURCE,	/* one client address */
	DET_SCOPE_CONSUMER,	/* one authenticated consumer (API key, cert) */
};

/* Per-type settings. */
struct det_type_rule {
	bool			 enabled;
	uint8_t			 min_confidence;	/* 0-100 */
	enum det_severity	 severity;
};

/* "More than distinct different identifiers of type in scope/window." */
struct det_bulk_rule {
	char			*name;		/* owned by the rules */
	int			 type;		/* enum det_type, or -1: any */
	enum det_scope		 scope;
	uint64_t		 distinct;
	uint64_t		 window_ms;	/* 0 for scope response */
	enum det_severity	 severity;
	unsigned		 line;		/* where it was defined */
};

/* A subject that may receive bulk data (bulk_allow:). */
struct det_bulk_allow {
	enum det_scope	 scope;		/* flow, source or consumer */
	char		*key;		/* owned by the rules */
};

struct det_rules;

/* --- det_rules.c --- */

/*
 * The built-in defaults (every type on, confidence 50, no bulk rules, no
 * allowlist). Returns 0 with *out set (caller owns, det_rules_free()), or -1
 * when memory is short.
 */
int	det_rules_default(struct det_rules **out);
/*
 * The shipped rules (the YAML files of rules/ built into the program: each type,
 * the bulk thresholds, the allowlist). Returns 0 with *out set, or -1 with
 * the errors in d (an embedded file that does not load is a build bug).
 */
int	det_rules_shipped_load(struct det_rules **out, struct gb_diags *d);
extern const char det_rules_shipped[];
extern const size_t det_rules_shipped_len;
/*
 * Load every "*.yaml" file of dir (in name order) on top of the defaults.
 * Errors go to d as file:line:col (up to its cap; loading goes on so one
 * run reports them all). Returns 0 with *out set (caller owns), or -1 with
 * *out NULL when any file has an error or dir cannot be read.
 */
int	det_rules_load_dir(const char *dir, struct det_rules **out,
	    struct gb_diags *d);
/* The same for one file, or for bytes p[0..n) named name. */
int	det_rules_load_file(const char *path, struct det_rules **out,
	    struct gb_diags *d);
int	det_rules_load_mem(const char *name, const void *p, size_t n,
	    struct det_rules **out, struct gb_diags *d);
void	det_rules_free(struct det_rules *r);

/* Settings of type t (borrowed, valid until det_rules_free()). */
const struct det_type_rule *det_rules_type(const struct det_rules *r,
	    enum det_type t);
/* Bulk rules: the count, and rule i < count (borrowed). */
size_t	det_rules_bulk_count(const struct det_rules *r);
const struct det_bulk_rule *det_rules_bulk(const struct det_rules *r,
	    size_t i);
/* Number of allowlist entries. */
size_t	det_rules_allow_count(const struct det_rules *r);
/*
 * Canaries (canaries:): planted values that alert whenever seen. Entry i:
 * its type and the SHA-256 of "type:value" (borrowed).
 */
size_t	det_rules_canary_count(const struct det_rules *r);
void	det_rules_canary_get(const struct det_rules *r, size_t i, int *type,
	    const uint8_t **hash);
/* Subjects allowed bulk data (bulk_allow:): the count, entry i (borrowed). */
size_t	det_rules_bulk_allow_count(const struct det_rules *r);
const struct det_bulk_allow *det_rules_bulk_allow(const struct det_rules *r,
	    size_t i);
/*
 * True when value v[0..n) of type t (normalised, as in det_finding.value)
 * is on the allowlist: SHA-256 of "type:value" is one of the listed hashes.
 */
bool	det_rules_allowed(const struct det_rules *r, enum det_type t,
	    const char *v, size_t n);

/* "info" ... "critical"; "response" ... "consumer". */
const char *det_severity_str(enum det_severity s);
const char *det_scope_str(enum det_scope s);

#endif /* DET_RULES_H */
