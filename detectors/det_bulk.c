/*
 * det_bulk.c: bulk thresholds over distinct identifiers (det_bulk.h).
 *
 * One entry per (rule, subject key), in a chained hash table and an LRU
 * list. An entry holds a ring of sub-windows; each has, per identifier
 * type, a finding count, the number of new distinct values added, and a
 * det_count made on first use. The window's distinct count is the union
 * of the ring's counters (merged into a scratch counter), computed only
 * when a new value could have crossed the threshold or doubled it.
 */
#include "detectors/det_bulk.h"

#include "core/gb_util.h"
#include "detectors/det_count.h"
#include "detectors/det_scan_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT		DET_T_COUNT
#define EPOCH_NONE	UINT64_MAX

struct slot {
	uint64_t	 epoch;
	uint64_t	 nfind[NT];
	uint64_t	 nnew[NT];	/* adds that were new to the counter */
	struct det_count *cnt[NT];
};

struct entry {
	struct entry	*hnext;
	struct entry	*lprev;		/* LRU: head is the most recent */
	struct entry	*lnext;
	uint64_t	 hash;
	uint32_t	 rule;
	uint8_t		 scope;
	uint8_t		 klen;
	uint8_t		 key[DET_BULK_KEY_MAX];
	uint64_t	 created_ms;
	bool		 alerted;
	uint64_t	 alert_until;	/* ms */
	uint64_t	 alerted_distinct;
	/*
	 * The last window count computed, and the counter raises since: the
	 * union cannot have grown by more than one per raise, so the next
	 * (costly) recount waits until the raises could reach the target.
	 */
	uint64_t	 last_d;
	uint64_t	 raises;
	uint64_t	 last_ep;
	struct slot	 slot[];	/* subwindows (1 for response) */
};

struct allowed {
	uint8_t		scope;
	uint8_t		klen;
	uint8_t		key[DET_BULK_KEY_MAX];
};

struct canary {
	uint8_t		type;
	uint8_t		hash[32];
};

struct det_bulk {
	const struct det_rules	*rules;
	size_t			 nrules;
	uint8_t			 hkey[DET_COUNT_KEY_LEN];
	struct det_bulk_limits	 lim;
	struct entry		**bucket;
	size_t			 nbucket;	/* power of two */
	struct entry		*lru_head;
	struct entry		*lru_tail;
	struct det_count	*scratch;
	struct allowed		*allow;
	size_t			 nallow;
	struct canary		*canary;
	size_t			 ncanary;
	struct det_bulk_stats	 stats;
};

static const struct gb_flag_name alert_names[] = {
	{ DET_BULK_A_FIRST, "first" }, { DET_BULK_A_ESCALATED, "escalated" },
	{ DET_BULK_A_CANARY, "canary" },
};

const char *
det_bulk_flags_str(unsigned flags, char *buf, size_t len)
{
	return gb_flags_str(alert_names, sizeof(alert_names) /
	    sizeof(alert_names[0]), flags, "-", buf, len);
}

/* The stored form of a subject key: as is, or a hash when too long. */
static size_t
key_norm(const struct det_bulk *b, const void *key, size_t n,
    uint8_t out[DET_BULK_KEY_MAX])
{
	uint64_t h;

	if (n <= DET_BULK_KEY_MAX - 1) {
		memcpy(out, key, n);
		return n;
	}
	h = det_siphash24(b->hkey, key, n);
	memset(out, 0xff, DET_BULK_KEY_MAX);
	memcpy(out, &h, sizeof(h));
	return DET_BULK_KEY_MAX;
}

int
det_bulk_new(const struct det_rules *r, const uint8_t *key,
    const struct det_bulk_limits *lim, struct det_bulk **out)
{
	struct det_bulk *b;
	size_t n;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	if (lim != NULL)
		b->lim = *lim;
	if (b->lim.max_keys == 0)
		b->lim.max_keys = 10000;
	if (b->lim.exact_cap == 0)
		b->lim.exact_cap = 256;
	if (b->lim.hll_p == 0)
		b->lim.hll_p = 12;
	if (b->lim.subwindows == 0)
		b->lim.subwindows = 6;
	if (b->lim.subwindows > 16 || b->lim.hll_p < DET_COUNT_P_MIN ||
	    b->lim.hll_p > DET_COUNT_P_MAX || b->lim.exact_cap > (1u << 16))
		goto fail;
	if (key != NULL)
		memcpy(b->hkey, key, sizeof(b->hkey));
	else if (det_count_key_random(b->hkey) == -1)
		goto fail;
	b->rules = r;
	b->nrules = r != NULL ? det_rules_bulk_count(r) : 0;
	for (n = 64; n < b->lim.max_keys && n < ((size_t)1 << 24); n *= 2)
		;
	b->nbucket = n;
	if ((b->bucket = calloc(n, sizeof(*b->bucket))) == NULL)
		goto fail;
	if (det_count_new(b->lim.exact_cap * b->lim.subwindows, b->lim.hll_p,
	    &b->scratch) == -1)
		goto fail;
	/* The rules' canaries and bulk_allow subjects. */
	for (n = 0; r != NULL && n < det_rules_canary_count(r); n++) {
		const uint8_t *h;
		int t;

		det_rules_canary_get(r, n, &t, &h);
		if (det_bulk_canary(b, (enum det_type)t, h) == -1)
			goto fail;
	}
	for (n = 0; r != NULL && n < det_rules_bulk_allow_count(r); n++) {
		const struct det_bulk_allow *a = det_rules_bulk_allow(r, n);

		if (det_bulk_allow(b, a->scope, a->key, strlen(a->key)) == -1)
			goto fail;
	}
	*out = b;
	return 0;
fail:
	det_bulk_free(b);
	return -1;
}

static void
entry_free(struct det_bulk *b, struct entry *e)
{
	unsigned s, t, ns = e->scope == DET_SCOPE_RESPONSE ? 1 :
	    b->lim.subwindows;

	for (s = 0; s < ns; s++)
		for (t = 0; t < NT; t++)
			det_count_free(e->slot[s].cnt[t]);
	free(e);
}

void
det_bulk_free(struct det_bulk *b)
{
	struct entry *e, *next;

	if (b == NULL)
		return;
	for (e = b->lru_head; e != NULL; e = next) {
		next = e->lnext;
		entry_free(b, e);
	}
	free(b->bucket);
	det_count_free(b->scratch);
	free(b->allow);
	free(b->canary);
	explicit_bzero(b->hkey, sizeof(b->hkey));
	free(b);
}

int
det_bulk_allow(struct det_bulk *b, enum det_scope scope, const void *key,
    size_t n)
{
	struct allowed *na;

	if ((unsigned)scope >= DET_BULK_SCOPES)
		return -1;
	if ((na = realloc(b->allow, (b->nallow + 1) * sizeof(*na))) == NULL)
		return -1;
	b->allow = na;
	na[b->nallow].scope = (uint8_t)scope;
	na[b->nallow].klen = (uint8_t)key_norm(b, key, n, na[b->nallow].key);
	b->nallow++;
	return 0;
}

int
det_bulk_canary(struct det_bulk *b, enum det_type t, const uint8_t sha256[32])
{
	struct canary *nc;

	if ((unsigned)t >= NT)
		return -1;
	if ((nc = realloc(b->canary, (b->ncanary + 1) * sizeof(*nc))) == NULL)
		return -1;
	b->canary = nc;
	nc[b->ncanary].type = (uint8_t)t;
	memcpy(nc[b->ncanary].hash, sha256, 32);
	b->ncanary++;
	return 0;
}

static bool
is_allowed(const struct det_bulk *b, unsigned scope, const uint8_t *k,
    size_t n)
{
	size_t i;

	for (i = 0; i < b->nallow; i++)
		if (b->allow[i].scope == scope && b->allow[i].klen == n &&
		    memcmp(b->allow[i].key, k, n) == 0)
			return true;
	return false;
}

/* --- entries --- */

static uint64_t
scope_hash(const struct det_bulk *b, unsigned scope, const uint8_t *k,
    size_t n)
{
	uint8_t buf[DET_BULK_KEY_MAX + 1];

	buf[0] = (uint8_t)scope;
	memcpy(buf + 1, k, n);
	return det_siphash24(b->hkey, buf, n + 1);
}

/*
 * An entry's hash: the keyed hash of (scope, key), computed once per
 * finding and scope, mixed with the rule (splitmix64's finaliser). Entries
 * still compare rule and key bytes; the keyed part keeps flooding out.
 */
static uint64_t
rule_mix(uint64_t sh, uint32_t rule)
{
	uint64_t x = sh ^ ((uint64_t)rule + 1) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
entry_hash(const struct det_bulk *b, uint32_t rule, unsigned scope,
    const uint8_t *k, size_t n)
{
	return rule_mix(scope_hash(b, scope, k, n), rule);
}

static void
lru_unlink(struct det_bulk *b, struct entry *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		b->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		b->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_push(struct det_bulk *b, struct entry *e)
{
	e->lprev = NULL;
	e->lnext = b->lru_head;
	if (b->lru_head != NULL)
		b->lru_head->lprev = e;
	b->lru_head = e;
	if (b->lru_tail == NULL)
		b->lru_tail = e;
}

static void
entry_remove(struct det_bulk *b, struct entry *e)
{
	struct entry **pp;

	for (pp = &b->bucket[e->hash & (b->nbucket - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	lru_unlink(b, e);
	b->stats.keys--;
	entry_free(b, e);
}

static struct entry *
entry_get(struct det_bulk *b, uint32_t rule, unsigned scope,
    const uint8_t *k, size_t n, uint64_t sh, uint64_t now_ms)
{
	uint64_t h = rule_mix(sh, rule);
	struct entry *e;
	unsigned ns, s;

	for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->rule == rule && e->klen == n &&
		    memcmp(e->key, k, n) == 0) {
			lru_unlink(b, e);
			lru_push(b, e);
			return e;
		}
	if (b->stats.keys >= b->lim.max_keys && b->lru_tail != NULL) {
		entry_remove(b, b->lru_tail);
		b->stats.evictions++;
	}
	ns = scope == DET_SCOPE_RESPONSE ? 1 : b->lim.subwindows;
	if ((e = calloc(1, sizeof(*e) + ns * sizeof(struct slot))) == NULL)
		return NULL;
	e->hash = h;
	e->rule = rule;
	e->scope = (uint8_t)scope;
	e->klen = (uint8_t)n;
	memcpy(e->key, k, n);
	e->created_ms = now_ms;
	for (s = 0; s < ns; s++)
		e->slot[s].epoch = EPOCH_NONE;
	e->hnext = b->bucket[h & (b->nbucket - 1)];
	b->bucket[h & (b->nbucket - 1)] = e;
	lru_push(b, e);
	b->stats.keys++;
	return e;
}

void
det_bulk_end(struct det_bulk *b, enum det_scope scope, const void *key,
    size_t n)
{
	uint8_t k[DET_BULK_KEY_MAX];
	struct entry *e;
	size_t kn, i;
	uint64_t h;

	kn = key_norm(b, key, n, k);
	for (i = 0; i < b->nrules; i++) {
		if (det_rules_bulk(b->rules, i)->scope != scope)
			continue;
		h = entry_hash(b, (uint32_t)i, scope, k, kn);
		for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL;
		    e = e->hnext)
			if (e->hash == h && e->rule == i && e->klen == kn &&
			    memcmp(e->key, k, kn) == 0) {
				entry_remove(b, e);
				break;
			}
	}
}

/* --- counting --- */

/* Sub-window width and count for rule r. */
static void
geometry(const struct det_bulk *b, const struct det_bulk_rule *r,
    uint64_t *width, unsigned *ns)
{
	if (r->scope == DET_SCOPE_RESPONSE || r->window_ms == 0) {
		*width = 0;
		*ns = 1;
		return;
	}
	*ns = b->lim.subwindows;
	*width = r->window_ms / *ns;
	if (*width == 0)
		*width = 1;
}

static bool
type_match(const struct det_bulk_rule *r, unsigned t)
{
	return r->type < 0 || (unsigned)r->type == t;
}

/* Is slot s of e inside the window ending at epoch ep? */
static bool
slot_live(const struct entry *e, unsigned s, uint64_t ep, unsigned ns)
{
	uint64_t x = e->slot[s].epoch;

	return x != EPOCH_NONE && x <= ep && ep - x < ns;
}

/* The window's distinct count (per type into a), true when exact. */
static uint64_t
window_distinct(struct det_bulk *b, const struct det_bulk_rule *r,
    const struct entry *e, uint64_t ep, unsigned ns,
    struct det_bulk_alert *a)
{
	uint64_t total = 0;
	unsigned s, t;

	const struct det_count *only;
	unsigned live;

	a->exact = true;
	for (t = 0; t < NT; t++) {
		if (!type_match(r, t))
			continue;
		/* One live counter (a response, a young window): itself. */
		for (s = 0, live = 0, only = NULL; s < ns; s++)
			if (slot_live(e, s, ep, ns)) {
				a->count[t] += e->slot[s].nfind[t];
				if (e->slot[s].cnt[t] != NULL) {
					live++;
					only = e->slot[s].cnt[t];
				}
			}
		if (live <= 1) {
			a->distinct_type[t] = only != NULL ?
			    det_count_estimate(only) : 0;
			if (only != NULL && !det_count_is_exact(only))
				a->exact = false;
			total += a->distinct_type[t];
			continue;
		}
		det_count_clear(b->scratch);
		for (s = 0; s < ns; s++)
			if (slot_live(e, s, ep, ns) && e->slot[s].cnt[t] != NULL &&
			    det_count_merge(b->scratch, e->slot[s].cnt[t]) == -1)
				b->stats.nomem++;
		a->distinct_type[t] = det_count_estimate(b->scratch);
		if (!det_count_is_exact(b->scratch))
			a->exact = false;
		total += a->distinct_type[t];
	}
	return total;
}

static int
count_rule(struct det_bulk *b, uint32_t ri, const uint8_t *k, size_t kn,
    uint64_t sh,
    const struct det_finding *f, uint64_t h, uint64_t now, det_bulk_cb *cb,
    void *arg)
{
	const struct det_bulk_rule *r = det_rules_bulk(b->rules, ri);
	struct det_bulk_alert a;
	struct entry *e;
	struct slot *sl;
	uint64_t width, ep, ub, d;
	unsigned ns, s, t = f->type, sev;
	int rc;

	if ((e = entry_get(b, ri, r->scope, k, kn, sh, now)) == NULL) {
		b->stats.nomem++;
		return 0;
	}
	geometry(b, r, &width, &ns);
	ep = width == 0 ? 0 : now / width;
	sl = &e->slot[ep % ns];
	if (sl->epoch != ep) {
		if (sl->epoch != EPOCH_NONE && sl->epoch > ep)
			return 0;	/* time went back: count nothing */
		for (t = 0; t < NT; t++)
			if (sl->cnt[t] != NULL)
				det_count_clear(sl->cnt[t]);
		memset(sl->nfind, 0, sizeof(sl->nfind));
		memset(sl->nnew, 0, sizeof(sl->nnew));
		sl->epoch = ep;
		t = f->type;
	}
	sl->nfind[t]++;
	b->stats.counted++;
	if (sl->cnt[t] == NULL &&
	    det_count_new(b->lim.exact_cap, b->lim.hll_p, &sl->cnt[t]) == -1) {
		b->stats.nomem++;
		return 0;
	}
	if ((rc = det_count_add(sl->cnt[t], h)) == -1)
		b->stats.nomem++;
	if (rc == 0)
		return 0;
	sl->nnew[t]++;
	e->raises++;
	if (e->alerted && now >= e->alert_until)
		e->alerted = false;
	/*
	 * Skip the recount while the count cannot have reached the target:
	 * exact counters grow by at most one per raise. A sketch's estimate
	 * can move by more than one per raised register: recount after a
	 * quarter of the distance, or a 32nd of the target when that is more;
	 * an alert on a sketch may then come up to ~3 % late.
	 */
	if (e->last_ep == ep && e->last_d > 0) {
		uint64_t target = e->alerted ? 2 * e->alerted_distinct :
		    r->distinct + 1;
		uint64_t gap = target > e->last_d ? target - e->last_d : 1;
		bool exact = true;

		for (s = 0; s < ns && exact; s++)
			for (t = 0; t < NT; t++)
				if (e->slot[s].cnt[t] != NULL &&
				    !det_count_is_exact(e->slot[s].cnt[t])) {
					exact = false;
					break;
				}
		/* Not a shrinking quarter (recounts on every raise near the
		 * target): at least a 32nd of the target, about 3 %. */
		if (!exact)
			gap = gap / 4 > target / 32 ? gap / 4 :
			    target / 32 > 0 ? target / 32 : 1;
		if (e->raises < gap)
			return 0;
	}
	/* An upper bound first: the sum of what each sub-window added. */
	ub = 0;
	for (s = 0; s < ns; s++)
		if (slot_live(e, s, ep, ns))
			for (t = 0; t < NT; t++) {
				if (!type_match(r, t))
					continue;
				ub += e->slot[s].nnew[t];
				/* A sketch's raises are no upper bound. */
				if (e->slot[s].cnt[t] != NULL &&
				    !det_count_is_exact(e->slot[s].cnt[t]))
					ub = UINT64_MAX / 4;
			}
	if (ub <= r->distinct || (e->alerted && ub < 2 * e->alerted_distinct))
		return 0;
	memset(&a, 0, sizeof(a));
	d = window_distinct(b, r, e, ep, ns, &a);
	e->last_d = d;
	e->last_ep = ep;
	e->raises = 0;
	if (d <= r->distinct)
		return 0;
	sev = r->severity;
	if (!e->alerted)
		a.flags = DET_BULK_A_FIRST;
	else if (d >= 2 * e->alerted_distinct) {
		a.flags = DET_BULK_A_ESCALATED;
		sev = sev < DET_SEV_CRITICAL ? sev + 1 : DET_SEV_CRITICAL;
	} else
		return 0;
	e->alerted = true;
	e->alerted_distinct = d;
	e->alert_until = width == 0 ? UINT64_MAX : now + r->window_ms;
	a.rule = r;
	a.scope = r->scope;
	a.key = e->key;
	a.key_len = e->klen;
	a.severity = (enum det_severity)sev;
	a.distinct = d;
	a.since_ms = width == 0 ? e->created_ms :
	    (ep + 1 >= ns ? (ep + 1 - ns) * width : 0);
	if (a.since_ms > now)		/* the clock stepped back */
		a.since_ms = now;
	a.now_ms = now;
	b->stats.alerts++;
	if (cb != NULL)
		cb(&a, arg);
	return 1;
}

int
det_bulk_peek(struct det_bulk *b, const struct det_bulk_rule *r,
    const void *key, size_t n, uint64_t now_ms, struct det_bulk_alert *out)
{
	uint8_t k[DET_BULK_KEY_MAX];
	struct entry *e;
	uint64_t h, width, ep;
	size_t kn, i;
	unsigned ns;

	for (i = 0; i < b->nrules; i++)
		if (det_rules_bulk(b->rules, i) == r)
			break;
	if (i == b->nrules)
		return -1;
	kn = key_norm(b, key, n, k);
	h = entry_hash(b, (uint32_t)i, r->scope, k, kn);
	for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->rule == i && e->klen == kn &&
		    memcmp(e->key, k, kn) == 0)
			break;
	if (e == NULL)
		return -1;
	geometry(b, r, &width, &ns);
	ep = width == 0 ? 0 : now_ms / width;
	memset(out, 0, sizeof(*out));
	out->rule = r;
	out->scope = r->scope;
	out->key = e->key;
	out->key_len = e->klen;
	out->severity = r->severity;
	out->distinct = window_distinct(b, r, e, ep, ns, out);
	out->since_ms = width == 0 ? e->created_ms :
	    (ep + 1 >= ns ? (ep + 1 - ns) * width : 0);
	out->now_ms = now_ms;
	return 0;
}

static int
canary_check(struct det_bulk *b, const struct det_bulk_subject *who,
    const struct det_finding *f, uint64_t now, det_bulk_cb *cb, void *arg)
{
	static const unsigned order[] = { DET_SCOPE_CONSUMER,
	    DET_SCOPE_SOURCE, DET_SCOPE_FLOW, DET_SCOPE_RESPONSE };
	struct det_bulk_alert a;
	uint8_t h[32], k[DET_BULK_KEY_MAX];
	size_t i;
	unsigned s;

	det_allow_hash(f->type, f->value, f->vlen, h);
	for (i = 0; i < b->ncanary; i++)
		if (b->canary[i].type == f->type &&
		    memcmp(b->canary[i].hash, h, 32) == 0)
			break;
	if (i == b->ncanary)
		return 0;
	memset(&a, 0, sizeof(a));
	a.flags = DET_BULK_A_CANARY;
	a.severity = DET_SEV_CRITICAL;
	a.canary_type = f->type;
	a.now_ms = a.since_ms = now;
	a.distinct = 1;
	a.exact = true;
	a.count[f->type] = 1;
	a.distinct_type[f->type] = 1;
	a.scope = DET_SCOPE_RESPONSE;
	for (i = 0; i < 4; i++) {
		s = order[i];
		if (who != NULL && who->key[s] != NULL) {
			a.scope = (enum det_scope)s;
			a.key_len = key_norm(b, who->key[s], who->len[s], k);
			a.key = k;
			break;
		}
	}
	b->stats.canary_hits++;
	b->stats.alerts++;
	if (cb != NULL)
		cb(&a, arg);
	return 1;
}

int
det_bulk_add(struct det_bulk *b, const struct det_bulk_subject *who,
    const struct det_finding *f, uint64_t now_ms, det_bulk_cb *cb,
    void *arg)
{
	const struct det_bulk_rule *r;
	/* Per scope, once: the normalised key, allowed or not, its hash. */
	uint8_t k[DET_BULK_SCOPES][DET_BULK_KEY_MAX];
	size_t kn[DET_BULK_SCOPES];
	uint64_t sh[DET_BULK_SCOPES];
	int state[DET_BULK_SCOPES] = { 0 };	/* 0 new, 1 counted, 2 allowed */
	uint64_t h = 0;
	unsigned sc;
	size_t i;
	int n = 0;
	bool hashed = false;

	if ((unsigned)f->type >= NT)
		return 0;
	b->stats.findings++;
	if (b->ncanary > 0)
		n += canary_check(b, who, f, now_ms, cb, arg);
	if (who == NULL)
		return n;
	for (i = 0; i < b->nrules; i++) {
		r = det_rules_bulk(b->rules, i);
		if (!type_match(r, f->type) ||
		    (unsigned)r->scope >= DET_BULK_SCOPES ||
		    who->key[r->scope] == NULL)
			continue;
		sc = (unsigned)r->scope;
		if (state[sc] == 0) {
			kn[sc] = key_norm(b, who->key[sc], who->len[sc], k[sc]);
			state[sc] = is_allowed(b, sc, k[sc], kn[sc]) ? 2 : 1;
			if (state[sc] == 1)
				sh[sc] = scope_hash(b, sc, k[sc], kn[sc]);
		}
		if (state[sc] == 2) {
			b->stats.allowed++;
			continue;
		}
		if (!hashed) {
			h = det_count_hash(b->hkey, f->type, f->value, f->vlen);
			hashed = true;
		}
		n += count_rule(b, (uint32_t)i, k[sc], kn[sc], sh[sc], f, h,
		    now_ms, cb, arg);
	}
	return n;
}

void
det_bulk_stats(const struct det_bulk *b, struct det_bulk_stats *out)
{
	const struct entry *e;
	unsigned s, t, ns;

	*out = b->stats;
	out->bytes = sizeof(*b) + b->nbucket * sizeof(*b->bucket) +
	    det_count_bytes(b->scratch);
	for (e = b->lru_head; e != NULL; e = e->lnext) {
		ns = e->scope == DET_SCOPE_RESPONSE ? 1 : b->lim.subwindows;
		out->bytes += sizeof(*e) + ns * sizeof(struct slot);
		for (s = 0; s < ns; s++)
			for (t = 0; t < NT; t++)
				if (e->slot[s].cnt[t] != NULL)
					out->bytes +=
					    det_count_bytes(e->slot[s].cnt[t]);
	}
}
