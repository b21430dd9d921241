/*
 * pol: the access policy. Admins write YAML (docs/policy.md); pol_set_load()
 * validates it, reporting every error as file:line:col, and compiles it into
 * an immutable struct pol_set of lookup tables; pol_decide() answers "may
 * this request pass?" for every request. Default deny: a request passes only
 * when a route matches it and every rule on the way allows it.
 *
 * Threads and processes: a loaded struct pol_set is read-only and may be
 * shared by any number of threads. Rate-limit counters live apart in a
 * struct pol_state whose table is mapped shared: create it once before
 * forking the workers and every process counts in the same buckets (one
 * limit for all workers, not one per worker). Counters are keyed by hashes
 * of the consumer and route ids, so they survive a reload: load the new
 * set, pol_state_rebind() to it, then free the old set.
 *
 * Decision order (the first failing check decides; docs/policy.md):
 *   1. global network rules (CIDR deny, CIDR allow, countries)     403
 *   2. route lookup by host, path and method          404 (no route) / 403
 *   3. route network rules                                          403
 *   4. route hours (time windows)                                   403
 *   5. request body size                                            413
 *   6. identity (certificate, API key) unless the route is public   401
 *   7. consumer disabled, consumer not allowed on the route         403
 *   8. rate limits: consumer-wide, then consumer on this route      429
 * Monitor mode (global default, overridable per route) records the first
 * check that would deny (would_deny, status, rule, reason) and allows the
 * request anyway. Only "no route" is denied in monitor mode too: without a
 * route there is no upstream to forward to.
 */
#ifndef POL_H
#define POL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/gb_buf.h"
#include "core/gb_diag.h"

struct pol_set;
struct pol_state;

struct pol_load_opts {
	/* Known upstream names (NULL-terminated), or NULL: not checked. */
	const char *const *upstreams;
	/*
	 * GeoIP2/GeoLite2-Country database (.mmdb), or NULL. A policy that
	 * names countries without a database is refused.
	 */
	const char	*geoip_db;
};

/* Identifier types of response data quotas (enforced outside this module). */
enum pol_ident {
	POL_ID_NIK = 0,		/* Nomor Induk Kependudukan */
	POL_ID_KK,		/* Kartu Keluarga number */
	POL_ID_NPWP,		/* tax number */
	POL_ID_PHONE,
	POL_ID_EMAIL,
	POL_ID_PASSPORT,
	POL_ID_BPJS,		/* health insurance number */
	POL_ID_CARD,		/* payment card number */
	POL_ID_ACCOUNT,		/* bank account number */
	POL_ID_COUNT
};

enum pol_quota_action {
	POL_QA_ALERT = 0,
	POL_QA_MASK,
	POL_QA_BLOCK,
};

/* One response data quota of a consumer: at most max identifiers of type
 * in window_ms, else action. */
struct pol_quota {
	enum pol_ident		type;
	uint64_t		max;
	uint64_t		window_ms;
	enum pol_quota_action	action;
};

struct pol_request {
	const struct sockaddr *addr;	/* peer; AF_INET or AF_INET6 */
	const char	*host;		/* Host header, port allowed */
	size_t		 host_len;
	const char	*path;		/* origin-form, normalised; query cut */
	size_t		 path_len;
	const char	*method;
	size_t		 method_len;
	uint64_t	 body_len;	/* declared body length, 0 if none */
	const char	*api_key;	/* raw key (X-API-Key or Bearer), or NULL */
	size_t		 api_key_len;
	const char	*cert_subject;	/* verified client cert, RFC 2253, or NULL */
	const char	*cert_san;	/* one SAN of it (DNS, email or URI), or NULL */
	const uint8_t	*cert_sha256;	/* 32 bytes, or NULL */
	/*
	 * A consumer id taken as already identified, or NULL. Not for
	 * traffic: --explain --consumer uses it to ask "what may this
	 * consumer do", whatever its credentials are.
	 */
	const char	*consumer_id;
	time_t		 now;		/* wall clock: time windows, daily limits */
	uint64_t	 now_ms;	/* monotonic ms: token buckets */
};

/*
 * The answer. Strings are borrowed from the set, valid until
 * pol_set_free(); any may be NULL when not known.
 */
struct pol_decision {
	bool		 allow;		/* forward the request */
	bool		 would_deny;	/* monitor mode: allowed, would be denied */
	int		 status;	/* 0, or 401, 403, 404, 413, 429 */
	unsigned	 retry_after;	/* seconds, with 429 */
	const char	*rule;		/* id of the deciding rule: route or
					   consumer id, "global" or "default" */
	const char	*reason;	/* fixed text, e.g. "no identity" */
	const char	*consumer;	/* identified consumer id */
	const char	*route;		/* matched route id */
	size_t		 route_index;	/* its index (pol_set_route_id()), or
					   SIZE_MAX */
	const char	*upstream;	/* the route's upstream name */
	/* The route's body limit in bytes, 0 for none (or in monitor mode):
	   body_len is checked against it here; a body of undeclared length
	   (chunked) the caller holds to it as it arrives. */
	uint64_t	 max_body;
	const struct pol_quota *quotas;	/* the consumer's quotas */
	size_t		 nquotas;
};

/* ---- pol_load.c ---- */

/*
 * Load the policy at path (with the files its include: globs name) or the
 * bytes p[0..n) named name (include: is refused there). o may be NULL.
 * Every error and warning goes to d as file:line:col; loading stops adding
 * errors at d's cap (20 by default), and the whole-policy checks (unknown
 * references, duplicates, shadowed routes) run when it was not reached.
 * Returns 0 with *out set (caller owns, pol_set_free(); warnings may be in
 * d), or -1 with *out NULL and the errors in d. Any thread; it does not
 * touch process-global state (no TZ, no locale).
 */
int	pol_set_load(const char *path, const struct pol_load_opts *o,
	    struct pol_set **out, struct gb_diags *d);
int	pol_set_load_mem(const char *name, const void *p, size_t n,
	    const struct pol_load_opts *o, struct pol_set **out,
	    struct gb_diags *d);
/* Free a set. NULL is a no-op. No state may still be bound to it. */
void	pol_set_free(struct pol_set *set);

/* Counts, for logs and the admin endpoint. */
size_t	pol_set_nconsumers(const struct pol_set *set);
size_t	pol_set_nroutes(const struct pol_set *set);
/* Id of route i (0 <= i < pol_set_nroutes()), borrowed from the set. */
const char *pol_set_route_id(const struct pol_set *set, size_t i);
/* Upstream name of route i, borrowed from the set. */
const char *pol_set_route_upstream(const struct pol_set *set, size_t i);

/* ---- pol_decide.c ---- */

/*
 * Decide req against set. st carries the rate-limit counters: it must be
 * bound to set (pol_state_rebind()), or NULL to skip rate limits. Fills
 * *dec and returns 0; -1 only for bad arguments (NULL set, req or dec, st
 * bound to another set), with *dec a 403 deny. Allocation-free; the
 * thread that owns st.
 */
int	pol_decide(const struct pol_set *set, struct pol_state *st,
	    const struct pol_request *req, struct pol_decision *dec);

/*
 * The same decision, written to out as text: the decision line, then one
 * line for each rule consulted and its verdict (matched CIDR, country,
 * route, identity, window, bucket). Rate-limit counters are read, never
 * consumed; st may be NULL. Returns 0, or -1 (bad arguments, or out full:
 * the text is then cut).
 */
int	pol_explain(const struct pol_set *set, struct pol_state *st,
	    const struct pol_request *req, struct gb_buf *out);

/* "allow", "deny" or "monitor" (allowed, would be denied). */
const char *pol_decision_str(const struct pol_decision *dec);

/* ---- pol_state.c ---- */

/*
 * Rate-limit counters. The bucket table (max_entries (consumer, route)
 * buckets, 0: 65536; 128 bytes of address space each, touched only when
 * used; a smaller table stays in cache: the bench's decision costs ~100 ns
 * more at 65536 than without limits, ~160 ns at 1M) is mapped MAP_SHARED: processes forked after this call
 * share it, and updates are atomic across them. When the table is at its
 * cap, buckets idle for a day are reclaimed; when none is, a rate-limited
 * request is denied with 429 and counted in pol_state_stats(). Returns 0
 * with *out set (caller owns, pol_state_free(); each process frees its own
 * mapping), or -1 when memory is short.
 */
int	pol_state_new(size_t max_entries, struct pol_state **out);
void	pol_state_free(struct pol_state *st);

/*
 * Bind st to set, in this process: call it in each forked worker before its
 * first pol_decide(). Every counter stays: limits are read from the set at
 * each decision (tokens above a lowered burst are clamped); buckets of ids
 * the set no longer has are reclaimed once idle. The previously bound set
 * may be freed after the call. Returns 0.
 */
int	pol_state_rebind(struct pol_state *st, const struct pol_set *set);

struct pol_state_stats {
	size_t		entries;	/* buckets in use */
	uint64_t	full;		/* requests denied: table full */
	uint64_t	evicted;	/* idle buckets reclaimed */
};
void	pol_state_stats(const struct pol_state *st, struct pol_state_stats *s);

#endif /* POL_H */
