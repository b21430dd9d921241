/*
 * det_bulk: the bulk-threshold evaluator. The sensor (or gerbang-scan)
 * hands it every finding with the subject it belongs to (the response, the
 * TCP flow, the client address, the authenticated consumer); for every
 * bulk rule of the rules (det_rules.h: "more than N distinct identifiers of
 * type T per scope in a window") it counts distinct values per subject key
 * in a sliding window and reports the crossings.
 *
 *	det_bulk_new(rules, NULL, NULL, &b);	random hash key, defaults
 *	det_bulk_allow(b, DET_SCOPE_CONSUMER, "etl-bps", 7);
 *	for each finding f of a response:
 *		det_bulk_add(b, &who, f, now_ms, on_alert, arg);
 *	(or det_bulk_value() per finding and det_bulk_count() per batch)
 *	det_bulk_end(b, DET_SCOPE_RESPONSE, resp_id, n);
 *
 * Counting: values are keyed hashes (det_count_hash; never clear text).
 * Rules of one scope and window form a group that shares the counters:
 * per (group, subject key, identifier type) one det_count per sub-window
 * and one for the window's union; each rule keeps its own alert state.
 * A window of W ms is a ring of S sub-windows of W/S ms (S = subwindows):
 * the distinct count covers the current sub-window and the S - 1 before
 * it, so the window slides in steps of W/S. Scope response has one
 * sub-window and lasts until det_bulk_end() (or eviction).
 *
 * Alerts: one alert per (rule, key) when the distinct count first exceeds
 * rule->distinct (DET_BULK_A_FIRST); then again in the same window only
 * when the count has doubled since the last alert (DET_BULK_A_ESCALATED,
 * severity one step higher than the rule's, at most critical); after the
 * window has passed since the last alert, a crossing alerts as FIRST
 * again. A canary value (det_bulk_canary) alerts every time it is seen,
 * for every subject (DET_BULK_A_CANARY, rule NULL, severity critical),
 * even for allowed subjects. Subjects allowed bulk data (det_bulk_allow)
 * are not counted for rules of that scope.
 *
 * Memory: at most max_keys (group, key) entries; a new key past the cap
 * evicts the least recently used one (counted in evictions). Counters are
 * exact up to exact_cap values, then HyperLogLog with 2^hll_p registers.
 * exact_cap 0 chooses it per group from its rules: 2 x the highest
 * distinct + 2, from 256 up to 4096 (alerts near a threshold are then
 * decided on exact counts, not on the sketch's +-1.6 %).
 *
 * An evaluator belongs to one thread at a time (one per sensor worker).
 */
#ifndef DET_BULK_H
#define DET_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detectors/det_rules.h"
#include "detectors/det_scan.h"

#define DET_BULK_SCOPES		4	/* enum det_scope values */
#define DET_BULK_KEY_MAX	64	/* longer subject keys are hashed */

/* Alert flags. */
#define DET_BULK_A_FIRST	0x01
#define DET_BULK_A_ESCALATED	0x02
#define DET_BULK_A_CANARY	0x04

struct det_bulk_limits {
	size_t		max_keys;	/* (group, key) entries; 0: 10000 */
	unsigned	exact_cap;	/* per counter; 0: from the rules */
	unsigned	hll_p;		/* 0: 12 */
	unsigned	subwindows;	/* 1-16; 0: 6 */
};

/* Who a finding belongs to: key[scope] (NULL: not known for this one). */
struct det_bulk_subject {
	const void	*key[DET_BULK_SCOPES];
	size_t		 len[DET_BULK_SCOPES];
};

struct det_bulk_alert {
	const struct det_bulk_rule *rule;	/* borrowed; NULL: canary */
	enum det_scope	 scope;
	const uint8_t	*key;		/* borrowed, valid in the callback */
	size_t		 key_len;
	enum det_severity severity;
	unsigned	 flags;		/* DET_BULK_A_* */
	uint64_t	 distinct;	/* distinct values in the window */
	bool		 exact;		/* distinct is exact, not estimated */
	uint64_t	 count[DET_T_COUNT];	/* findings per type, window */
	uint64_t	 distinct_type[DET_T_COUNT];
	uint64_t	 since_ms;	/* start of the window counted */
	uint64_t	 now_ms;
	enum det_type	 canary_type;	/* DET_BULK_A_CANARY */
};

/* Called per alert; a is borrowed, valid until the callback returns. */
typedef void det_bulk_cb(const struct det_bulk_alert *a, void *arg);

struct det_bulk_stats {
	uint64_t	findings;	/* det_bulk_add() calls */
	uint64_t	counted;	/* (finding, rule) pairs counted */
	uint64_t	allowed;	/* pairs skipped: allowed subject */
	uint64_t	alerts;
	uint64_t	canary_hits;
	uint64_t	evictions;	/* entries dropped at max_keys */
	uint64_t	nomem;		/* additions lost: memory short */
	size_t		keys;		/* entries now */
	size_t		bytes;		/* memory held (approximate) */
};

struct det_bulk;

/* --- det_bulk.c --- */

/*
 * An evaluator for the bulk rules of r (borrowed: r must outlive it), with
 * the rules' canaries and bulk_allow subjects already registered.
 * key: 16 bytes for the value hashes (NULL: random per process); lim may
 * be NULL. Returns 0 with *out set (caller owns, det_bulk_free()), -1 when
 * memory is short, the kernel gives no random key, or lim is out of range.
 */
int	det_bulk_new(const struct det_rules *r, const uint8_t *key,
	    const struct det_bulk_limits *lim, struct det_bulk **out);
void	det_bulk_free(struct det_bulk *b);
/*
 * Subject key[0..n) of scope may receive bulk data (a batch consumer, a
 * backup host): rules of that scope do not count it. Returns 0, -1 when
 * memory is short.
 */
int	det_bulk_allow(struct det_bulk *b, enum det_scope scope,
	    const void *key, size_t n);
/*
 * A canary: a planted value (type t, SHA-256 of "type:value" as in the
 * rules' allowlist, det_rules.h) that alerts whenever it is seen. Returns 0
 * or -1 when memory is short.
 */
int	det_bulk_canary(struct det_bulk *b, enum det_type t,
	    const uint8_t sha256[32]);
/*
 * Count finding f (borrowed) for each rule whose scope who names and whose
 * type matches, at time now_ms (monotonic milliseconds; must not go back
 * by more than a sub-window). Alerts go to cb(alert, arg). Returns the
 * number of alerts.
 */
int	det_bulk_add(struct det_bulk *b, const struct det_bulk_subject *who,
	    const struct det_finding *f, uint64_t now_ms, det_bulk_cb *cb,
	    void *arg);
/*
 * The same in two steps, for a caller that batches the findings of one
 * subject (a response's, between two packets of other flows):
 * det_bulk_value() takes finding f (canaries alert at once through cb)
 * and fills *out with its type and keyed hash (out->type is DET_T_COUNT
 * for a finding of no countable type: skip it); det_bulk_count() then
 * counts values v[0..n) for subject who at now_ms, as n det_bulk_add()
 * calls would, except that each rule checks its threshold once per call,
 * after the whole batch: an alert carries the counts at the batch's end
 * and a batch that doubles a count more than once alerts once. Both
 * return the number of alerts.
 */
struct det_bulk_val {
	uint64_t	hash;
	uint32_t	type;		/* enum det_type */
};

int	det_bulk_value(struct det_bulk *b, const struct det_bulk_subject *who,
	    const struct det_finding *f, uint64_t now_ms, det_bulk_cb *cb,
	    void *arg, struct det_bulk_val *out);
int	det_bulk_count(struct det_bulk *b, const struct det_bulk_subject *who,
	    const struct det_bulk_val *v, size_t n, uint64_t now_ms,
	    det_bulk_cb *cb, void *arg);
/* The subject key of scope is gone (response sent, flow closed): forget
 * its counters. */
void	det_bulk_end(struct det_bulk *b, enum det_scope scope, const void *key,
	    size_t n);
/*
 * The counts rule r (one of the evaluator's) has now for subject key
 * [0..n) of its scope, without adding anything: out is filled as an alert
 * would be (flags 0, severity the rule's). Returns 0, or -1 when the key
 * has no counters (never counted, ended or evicted).
 */
int	det_bulk_peek(struct det_bulk *b, const struct det_bulk_rule *r,
	    const void *key, size_t n, uint64_t now_ms,
	    struct det_bulk_alert *out);
void	det_bulk_stats(const struct det_bulk *b, struct det_bulk_stats *out);
/* "first|escalated|canary" for a set of DET_BULK_A_* into buf. */
const char *det_bulk_flags_str(unsigned flags, char *buf, size_t len);

#endif /* DET_BULK_H */
