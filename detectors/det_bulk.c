/*
 * det_bulk.c: bulk thresholds over distinct identifiers (det_bulk.h).
 *
 * Rules of one scope and window form a group: they count the same
 * values, so they share one entry per (group, subject key), in a chained
 * hash table and an LRU list; a value is added once for the group, then
 * each rule of the group that counts its type checks its threshold with
 * its own alert state. An entry holds a ring of sub-windows; each has, per identifier
 * type, a finding count and a det_count made on first use. A windowed
 * entry also keeps, per type, the union of its live sub-windows (win[]):
 * a value goes into its sub-window and into the union, so the window's
 * distinct count is read off the union, and the union is rebuilt from the
 * ring only when the window slides (once per sub-window). A value the
 * union already had changes nothing and costs one probe.
 */
#include "detectors/det_bulk.h"

#include "core/gb_util.h"
#include "detectors/det_count.h"
#include "detectors/det_scan_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT		DET_T_COUNT
_Static_assert(NT < 32, "type masks are 32 bits");
#define EPOCH_NONE	UINT64_MAX

struct slot {
	uint64_t	 epoch;
	uint64_t	 nfind[NT];
	struct det_count *cnt[NT];
};

/* A rule's alert state for one subject. */
struct rstate {
	bool		 alerted;
	uint64_t	 alert_until;	/* ms */
	uint64_t	 alerted_distinct;
	/*
	 * The last window count computed from sketches, and the raises
	 * since: the estimate is read again once the raises could have moved
	 * it to the target (see rule_check).
	 */
	uint64_t	 last_d;
	uint64_t	 raises;
	uint64_t	 last_ep;
};

struct entry {
	struct entry	*hnext;
	struct entry	*lprev;		/* LRU: head is the most recent */
	struct entry	*lnext;
	bool		 ref;		/* used since it moved to the head */
	uint64_t	 hash;
	uint32_t	 group;
	uint8_t		 klen;
	uint8_t		 key[DET_BULK_KEY_MAX];
	uint64_t	 created_ms;
	struct rstate	*rs;		/* per rule of the group */
	/* Windowed entries: the union of the live sub-windows, per type,
	 * as of sub-window win_ep (EPOCH_NONE: not made yet). */
	uint64_t	 win_ep;
	/* The sub-window of the last finding: [ep_from, ep_to) ms is
	 * sub-window ep_cur, so the next one needs no division. */
	uint64_t	 ep_from;
	uint64_t	 ep_to;
	uint64_t	 ep_cur;
	unsigned	 ep_slot;	/* ep_cur % subwindows */
	uint32_t	 tmask;		/* types counted (bit per det_type) */
	struct det_count *win[NT];
	/* In the same allocation: the rules' states, then the slots. */
	struct slot	*slot;		/* subwindows (1 for response) */
};

_Static_assert(sizeof(struct entry) % _Alignof(struct rstate) == 0 &&
    sizeof(struct rstate) % _Alignof(struct slot) == 0,
    "an entry's states and slots follow it in one allocation");

struct allowed {
	uint8_t		scope;
	uint8_t		klen;
	uint8_t		key[DET_BULK_KEY_MAX];
};

struct canary {
	uint8_t		type;
	uint8_t		hash[32];
};

/*
 * The subject of the last finding, per scope: a response's findings come
 * one after the other with the same subject, so its normalised key, hash
 * and entries are looked up once, not once per finding.
 */
struct subj_cache {
	bool		 valid;
	uint8_t		 rawlen;		/* key as handed in */
	uint8_t		 raw[DET_BULK_KEY_MAX];
	uint8_t		 klen;
	uint8_t		 key[DET_BULK_KEY_MAX];
	int		 state;		/* 1 counted, 2 allowed */
	uint64_t	 sh;
	uint64_t	 ver;		/* bumped when the subject changes */
};

struct ecache {
	struct entry	*e;
	uint64_t	 ver;		/* subj_cache.ver it was found for */
	uint64_t	 gen;		/* det_bulk.gen it was found at */
};

/* A bulk rule and where it counts. */
struct rinfo {
	const struct det_bulk_rule *r;
	uint32_t	 group;
	uint32_t	 pos;		/* in the group's rules */
};

/* Rules of one scope and geometry, in rule order. */
struct group {
	uint8_t		 scope;
	uint64_t	 width;		/* sub-window, ms; 0: one, no sliding */
	unsigned	 ns;		/* sub-windows */
	uint32_t	 tmask;		/* types any of its rules counts */
	uint32_t	*rule;		/* indices into det_bulk.rule */
	size_t		 nrule;		/* at most GROUP_MAX */
	uint64_t	 tr[NT];	/* per type: the rules (bit per pos) */
	uint8_t		 trn[NT];	/* per type: how many */
	struct entry	*free;		/* ended entries kept for reuse */
	size_t		 nfree;
	unsigned	 exact_cap;	/* its counters' (det_bulk_new) */
};

/* Ended entries kept per group, counters cleared but allocated: a
 * response's entry serves the next response without growing again. */
#define FREE_MAX	16

#define GROUP_MAX	64

/* Highest exact_cap chosen from the rules' thresholds. */
#define EXACT_AUTO_MAX	4096

struct det_bulk {
	const struct det_rules	*rules;
	size_t			 nrules;
	struct rinfo		*rule;		/* per bulk rule */
	struct group		*group;
	size_t			 ngroup;
	struct subj_cache	 subj[DET_BULK_SCOPES];
	struct ecache		*ecache;	/* per group */
	uint64_t		 gen;		/* bumped per entry removed */
	uint8_t			 hkey[DET_COUNT_KEY_LEN];
	struct det_count_hkey	 hk[NT];	/* hkey per type, ready */
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

/* The types rule r counts, a bit per det_type. */
static uint32_t
type_mask(const struct det_bulk_rule *r)
{
	return r->type < 0 ? (1u << NT) - 1 : 1u << r->type;
}

/* Rule i into the group of its scope and geometry (a new one if none). */
static int
group_add(struct det_bulk *b, size_t i)
{
	struct rinfo *ri = &b->rule[i];
	struct group *g;
	uint32_t *nr;
	uint64_t width;
	unsigned ns;
	size_t k;

	ri->r = det_rules_bulk(b->rules, i);
	geometry(b, ri->r, &width, &ns);
	for (k = 0; k < b->ngroup; k++)
		if (b->group[k].scope == ri->r->scope &&
		    b->group[k].width == width && b->group[k].ns == ns &&
		    b->group[k].nrule < GROUP_MAX)
			break;
	g = &b->group[k];
	if (k == b->ngroup) {
		b->ngroup++;
		g->scope = (uint8_t)ri->r->scope;
		g->width = width;
		g->ns = ns;
	}
	if ((nr = realloc(g->rule, (g->nrule + 1) * sizeof(*nr))) == NULL)
		return -1;
	g->rule = nr;
	ri->group = (uint32_t)k;
	ri->pos = (uint32_t)g->nrule;
	for (k = 0; k < NT; k++)
		if (type_match(ri->r, (unsigned)k)) {
			g->tr[k] |= (uint64_t)1 << ri->pos;
			g->trn[k]++;
		}
	g->rule[g->nrule++] = (uint32_t)i;
	g->tmask |= type_mask(ri->r);
	return 0;
}

int
det_bulk_new(const struct det_rules *r, const uint8_t *key,
    const struct det_bulk_limits *lim, struct det_bulk **out)
{
	struct det_bulk *b;
	size_t n;
	unsigned cap;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	if (lim != NULL)
		b->lim = *lim;
	if (b->lim.max_keys == 0)
		b->lim.max_keys = 10000;
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
	for (n = 0; n < NT; n++)
		det_count_hkey_init(b->hkey, (unsigned)n, &b->hk[n]);
	b->rules = r;
	b->nrules = r != NULL ? det_rules_bulk_count(r) : 0;
	if (b->nrules > 0 &&
	    ((b->ecache = calloc(b->nrules, sizeof(*b->ecache))) == NULL ||
	    (b->rule = calloc(b->nrules, sizeof(*b->rule))) == NULL ||
	    (b->group = calloc(b->nrules, sizeof(*b->group))) == NULL))
		goto fail;
	for (n = 0; n < b->nrules; n++)
		if (group_add(b, n) == -1)
			goto fail;
	/*
	 * Counters stay exact past their rules' thresholds: with the default
	 * (exact_cap 0), up to 2 x a group's highest threshold + 2 (its
	 * first alert and the escalation at the doubling are decided on
	 * exact counts), between 256 and EXACT_AUTO_MAX; an explicit
	 * exact_cap holds for every group.
	 */
	cap = b->lim.exact_cap;
	for (n = 0; n < b->ngroup; n++) {
		struct group *g = &b->group[n];
		size_t k;

		g->exact_cap = b->lim.exact_cap != 0 ? b->lim.exact_cap : 256;
		for (k = 0; b->lim.exact_cap == 0 && k < g->nrule; k++) {
			uint64_t d = det_rules_bulk(r, g->rule[k])->distinct;

			d = d > EXACT_AUTO_MAX / 2 ? EXACT_AUTO_MAX : 2 * d + 2;
			if (d > g->exact_cap)
				g->exact_cap = (unsigned)d;
		}
		if (g->exact_cap > cap)
			cap = g->exact_cap;
	}
	if (b->lim.exact_cap == 0)
		b->lim.exact_cap = 256;
	for (n = 64; n < b->lim.max_keys && n < ((size_t)1 << 24); n *= 2)
		;
	b->nbucket = n;
	if ((b->bucket = calloc(n, sizeof(*b->bucket))) == NULL)
		goto fail;
	if (det_count_new(cap > b->lim.exact_cap ? cap : b->lim.exact_cap,
	    b->lim.hll_p, &b->scratch) == -1)
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
	unsigned s, t, ns = b->group[e->group].ns;

	for (s = 0; s < ns; s++)
		for (t = 0; t < NT; t++)
			det_count_free(e->slot[s].cnt[t]);
	for (t = 0; t < NT; t++)
		det_count_free(e->win[t]);
	free(e);
}

void
det_bulk_free(struct det_bulk *b)
{
	struct entry *e, *next;
	size_t i;

	if (b == NULL)
		return;
	for (e = b->lru_head; e != NULL; e = next) {
		next = e->lnext;
		entry_free(b, e);
	}
	free(b->bucket);
	free(b->ecache);
	free(b->rule);
	for (i = 0; b->group != NULL && i < b->ngroup; i++) {
		for (e = b->group[i].free; e != NULL; e = next) {
			next = e->hnext;
			entry_free(b, e);
		}
		free(b->group[i].rule);
	}
	free(b->group);
	det_count_free(b->scratch);
	free(b->allow);
	free(b->canary);
	explicit_bzero(b->hkey, sizeof(b->hkey));
	explicit_bzero(b->hk, sizeof(b->hk));
	free(b);
}

int
det_bulk_allow(struct det_bulk *b, enum det_scope scope, const void *key,
    size_t n)
{
	struct allowed *na;
	size_t i;

	if ((unsigned)scope >= DET_BULK_SCOPES)
		return -1;
	if ((na = realloc(b->allow, (b->nallow + 1) * sizeof(*na))) == NULL)
		return -1;
	b->allow = na;
	for (i = 0; i < DET_BULK_SCOPES; i++)	/* allowed or not may change */
		b->subj[i].valid = false;
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

/* An entry out of the table: onto its group's free list, or freed. */
static void
entry_recycle(struct det_bulk *b, struct entry *e)
{
	struct group *g = &b->group[e->group];
	unsigned s, t;

	if (g->nfree >= FREE_MAX) {
		entry_free(b, e);
		return;
	}
	for (s = 0; s < g->ns; s++)
		for (t = 0; t < NT; t++)
			if (e->slot[s].cnt[t] != NULL)
				det_count_clear(e->slot[s].cnt[t]);
	for (t = 0; t < NT; t++)
		if (e->win[t] != NULL)
			det_count_clear(e->win[t]);
	e->hnext = g->free;
	g->free = e;
	g->nfree++;
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
	b->gen++;
	entry_recycle(b, e);
}

/*
 * Drop the least recently used entry, by the second-chance (CLOCK) rule:
 * a use only marks an entry (no list move per finding); here, marked
 * entries at the tail go back to the head unmarked, and the first unmarked
 * one goes. Each pass unmarks what it moves: amortised O(1).
 */
static void
evict(struct det_bulk *b)
{
	struct entry *e;

	while ((e = b->lru_tail) != NULL && e->ref && e != b->lru_head) {
		e->ref = false;
		lru_unlink(b, e);
		lru_push(b, e);
	}
	if (e != NULL) {
		entry_remove(b, e);
		b->stats.evictions++;
	}
}

static struct entry *
entry_get(struct det_bulk *b, uint32_t group, const uint8_t *k, size_t n,
    uint64_t sh, uint64_t now_ms)
{
	struct group *g = &b->group[group];
	uint64_t h = rule_mix(sh, group);
	struct entry *e;
	unsigned ns = g->ns, s;
	size_t off;

	for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->group == group && e->klen == n &&
		    memcmp(e->key, k, n) == 0) {
			e->ref = true;
			return e;
		}
	if (b->stats.keys >= b->lim.max_keys && b->lru_tail != NULL)
		evict(b);
	/* The rules' states right after the entry (read on every new
	 * value), then the slots; all three hold 8-byte fields. */
	off = sizeof(*e) + g->nrule * sizeof(struct rstate);
	if ((e = g->free) != NULL) {
		/* Reused: counters kept (cleared), everything else anew. */
		g->free = e->hnext;
		g->nfree--;
		memset(e, 0, offsetof(struct entry, win));
		e->rs = (struct rstate *)(void *)(e + 1);
		memset(e->rs, 0, g->nrule * sizeof(struct rstate));
		for (s = 0; s < ns; s++)
			memset(e->slot[s].nfind, 0, sizeof(e->slot[s].nfind));
	} else if ((e = calloc(1, off + ns * sizeof(struct slot))) == NULL)
		return NULL;
	e->rs = (struct rstate *)(void *)(e + 1);
	e->slot = (struct slot *)(void *)((char *)e + off);
	e->hash = h;
	e->group = group;
	e->klen = (uint8_t)n;
	memcpy(e->key, k, n);
	e->created_ms = now_ms;
	e->win_ep = EPOCH_NONE;
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
	for (i = 0; i < b->ngroup; i++) {
		if (b->group[i].scope != scope)
			continue;
		h = entry_hash(b, (uint32_t)i, scope, k, kn);
		for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL;
		    e = e->hnext)
			if (e->hash == h && e->group == i && e->klen == kn &&
			    memcmp(e->key, k, kn) == 0) {
				entry_remove(b, e);
				break;
			}
	}
}

/* --- counting --- */


/* Is slot s of e inside the window ending at epoch ep? */
static bool
slot_live(const struct entry *e, unsigned s, uint64_t ep, unsigned ns)
{
	uint64_t x = e->slot[s].epoch;

	return x != EPOCH_NONE && x <= ep && ep - x < ns;
}

/*
 * The distinct values counter c holds, of n findings: a sketch's estimate
 * can pass n (by its error, ~1.6 %), which no reader should see.
 */
static uint64_t
estimate(const struct det_count *c, uint64_t n)
{
	uint64_t d = det_count_estimate(c);

	return d < n ? d : n;
}

/* dst := the union of e's type-t counters of the sub-windows live at ep. */
static void
merge_live(struct det_bulk *b, const struct entry *e, unsigned t,
    uint64_t ep, unsigned ns, struct det_count *dst)
{
	unsigned s;

	det_count_clear(dst);
	for (s = 0; s < ns; s++)
		if (slot_live(e, s, ep, ns) && e->slot[s].cnt[t] != NULL &&
		    det_count_merge(dst, e->slot[s].cnt[t]) == -1)
			b->stats.nomem++;
}

/*
 * The window's distinct count merged afresh from the live sub-windows at
 * ep (per type into a): for a window read at another sub-window than the
 * unions cover (a peek after the window slid).
 */
static uint64_t
window_merge(struct det_bulk *b, const struct det_bulk_rule *r,
    const struct entry *e, uint64_t ep, unsigned ns,
    struct det_bulk_alert *a)
{
	uint64_t total = 0;
	unsigned s, t;

	a->exact = true;
	for (t = 0; t < NT; t++) {
		if (!type_match(r, t))
			continue;
		for (s = 0; s < ns; s++)
			if (slot_live(e, s, ep, ns))
				a->count[t] += e->slot[s].nfind[t];
		merge_live(b, e, t, ep, ns, b->scratch);
		a->distinct_type[t] = estimate(b->scratch, a->count[t]);
		if (!det_count_is_exact(b->scratch))
			a->exact = false;
		total += a->distinct_type[t];
	}
	return total;
}

/* The counter of the window's distinct values of type t, or NULL. */
static const struct det_count *
win_counter(const struct entry *e, unsigned t, unsigned ns)
{
	return ns == 1 ? e->slot[0].cnt[t] : e->win[t];
}

/* The window's distinct count at ep (per type into a). */
static uint64_t
window_read(struct det_bulk *b, const struct det_bulk_rule *r,
    const struct entry *e, uint64_t ep, unsigned ns,
    struct det_bulk_alert *a)
{
	const struct det_count *c;
	uint64_t total = 0;
	unsigned s, t;

	if (ns > 1 && e->win_ep != ep)
		return window_merge(b, r, e, ep, ns, a);
	a->exact = true;
	for (t = 0; t < NT; t++) {
		if (!type_match(r, t))
			continue;
		for (s = 0; s < ns; s++)
			if (slot_live(e, s, ep, ns))
				a->count[t] += e->slot[s].nfind[t];
		if ((c = win_counter(e, t, ns)) == NULL)
			continue;
		a->distinct_type[t] = estimate(c, a->count[t]);
		if (!det_count_is_exact(c))
			a->exact = false;
		total += a->distinct_type[t];
	}
	return total;
}

/*
 * The window slid to sub-window ep: rebuild e's unions from the
 * sub-windows still live, so values of those that left it go.
 */
static void
win_sync(struct det_bulk *b, struct entry *e, uint64_t ep, unsigned ns)
{
	unsigned t;
	size_t k;

	for (t = 0; t < NT; t++)
		if (e->win[t] != NULL)
			merge_live(b, e, t, ep, ns, e->win[t]);
	e->win_ep = ep;
	for (k = 0; k < b->group[e->group].nrule; k++)
		e->rs[k].last_d = 0;
}

/* Add h (type t) to sub-window sl of e and to the window's union:
 * 1 when the window's distinct values changed, 0 when not. */
static int
window_add(struct det_bulk *b, struct entry *e, struct slot *sl, unsigned ns,
    unsigned t, uint64_t h)
{
	struct det_count **c;
	int rc;

	e->tmask |= 1u << t;
	for (c = &sl->cnt[t];; c = &e->win[t]) {
		if (*c == NULL && det_count_new(b->group[e->group].exact_cap,
		    b->lim.hll_p, c) == -1) {
			b->stats.nomem++;
			return 0;
		}
		if ((rc = det_count_add(*c, h)) == -1) {
			b->stats.nomem++;	/* counted, in a sketch early */
			rc = 1;
		}
		/*
		 * A value its sub-window had is in the union too (the union
		 * holds every live sub-window: a sketch's registers are at
		 * least the sub-window's), so it changes nothing there.
		 */
		if (ns == 1 || c == &e->win[t] || rc == 0)
			return rc;
	}
}

/*
 * Add hashes h[0..n) of type t to sub-window sl of e and to the window's
 * union, as n window_add() calls would, a counter at a time: the values
 * new to the sub-window go on to the union (tmp: room for n). Returns
 * how many changed the window's distinct values.
 */
static size_t
window_add_n(struct det_bulk *b, struct entry *e, struct slot *sl,
    unsigned ns, unsigned t, const uint64_t *h, size_t n, uint64_t *tmp)
{
	struct det_count **c = &sl->cnt[t];
	size_t k, bad;

	e->tmask |= 1u << t;
	if (*c == NULL && det_count_new(b->group[e->group].exact_cap,
	    b->lim.hll_p, c) == -1) {
		b->stats.nomem += n;
		return 0;
	}
	/* -1 (memory short): counted, in a sketch early. */
	k = det_count_add_n(*c, h, n, ns == 1 ? NULL : tmp, &bad);
	b->stats.nomem += bad;
	if (ns == 1 || k == 0)
		return k;
	/* A value its sub-window had is in the union too (see window_add). */
	c = &e->win[t];
	if (*c == NULL && det_count_new(b->group[e->group].exact_cap,
	    b->lim.hll_p, c) == -1) {
		b->stats.nomem += k;
		return 0;
	}
	k = det_count_add_n(*c, tmp, k, NULL, &bad);
	b->stats.nomem += bad;
	return k;
}

/*
 * Rule ri of e's group after values changed e's window at sub-window ep
 * (raises: how many changes its types saw): alert when its distinct count crossed its threshold, or doubled since
 * its last alert. Returns 1 when it alerted.
 */
static int
rule_check(struct det_bulk *b, const struct rinfo *ri, struct entry *e,
    uint64_t ep, uint64_t now, uint64_t raises, det_bulk_cb *cb, void *arg)
{
	const struct det_bulk_rule *r = ri->r;
	struct rstate *rs = &e->rs[ri->pos];
	const struct det_count *c;
	struct det_bulk_alert a;
	uint64_t d, target, gap;
	const struct group *g = &b->group[ri->group];
	unsigned ns = g->ns, sev;
	uint32_t tm, m;
	bool exact;

	rs->raises += raises;
	if (rs->alerted && now >= rs->alert_until)
		rs->alerted = false;
	target = rs->alerted ? 2 * rs->alerted_distinct : r->distinct + 1;
	/* Exact counters are read for nothing (their size). */
	tm = type_mask(r) & e->tmask;
	for (m = tm, d = 0, exact = true; m != 0 && exact; m &= m - 1)
		if ((c = win_counter(e, (unsigned)__builtin_ctz(m), ns)) !=
		    NULL) {
			if (det_count_is_exact(c))
				d += det_count_estimate(c);
			else
				exact = false;
		}
	if (!exact) {
		/*
		 * A sketch's estimate moves by about one per raised
		 * register, but not exactly: it is read again once the
		 * raises since the last read reach a quarter of the
		 * distance to the target, or a 32nd of the target when
		 * that is more; an alert on a sketch may come ~3 % late.
		 */
		if (rs->last_ep == ep && rs->last_d > 0) {
			gap = target > rs->last_d ? target - rs->last_d : 1;
			gap = gap / 4 > target / 32 ? gap / 4 :
			    target / 32 > 0 ? target / 32 : 1;
			if (rs->raises < gap)
				return 0;
		}
		for (m = tm, d = 0; m != 0; m &= m - 1)
			if ((c = win_counter(e, (unsigned)__builtin_ctz(m),
			    ns)) != NULL)
				d += det_count_estimate(c);
		rs->last_d = d;
		rs->last_ep = ep;
		rs->raises = 0;
	}
	if (d < target)
		return 0;
	memset(&a, 0, sizeof(a));
	d = window_read(b, r, e, ep, ns, &a);
	if (d < target)
		return 0;	/* over only by the sketch's error */
	sev = r->severity;
	if (!rs->alerted)
		a.flags = DET_BULK_A_FIRST;
	else if (d >= 2 * rs->alerted_distinct) {
		a.flags = DET_BULK_A_ESCALATED;
		sev = sev < DET_SEV_CRITICAL ? sev + 1 : DET_SEV_CRITICAL;
	} else
		return 0;
	rs->alerted = true;
	rs->alerted_distinct = d;
	rs->alert_until = g->width == 0 ? UINT64_MAX : now + r->window_ms;
	a.rule = r;
	a.scope = r->scope;
	a.key = e->key;
	a.key_len = e->klen;
	a.severity = (enum det_severity)sev;
	a.distinct = d;
	a.since_ms = g->width == 0 ? e->created_ms :
	    (ep + 1 >= ns ? (ep + 1 - ns) * g->width : 0);
	if (a.since_ms > now)		/* the clock stepped back */
		a.since_ms = now;
	a.now_ms = now;
	b->stats.alerts++;
	if (cb != NULL)
		cb(&a, arg);
	return 1;
}

/*
 * A batch's values: as given (v[0..n)), and when it was short enough,
 * also their hashes grouped by type (hs[ts[t]..ts[t + 1]) are those of
 * type t, in the batch's order), so a group walks only the values of its
 * types, without a branch per value on the type (mispredicted when the
 * types alternate).
 */
#define SORT_MAX	256

struct batch_vals {
	const struct det_bulk_val *v;
	size_t		 n;
	bool		 sorted;
	uint32_t	 ts[NT + 1];
	uint64_t	 hs[SORT_MAX];
};

static void
batch_sort(struct batch_vals *bv)
{
	uint32_t pos[NT];
	size_t i;
	unsigned t;

	bv->sorted = bv->n <= SORT_MAX;
	if (!bv->sorted)
		return;
	memset(bv->ts, 0, sizeof(bv->ts));
	for (i = 0; i < bv->n; i++)
		if (bv->v[i].type < NT)
			bv->ts[bv->v[i].type + 1]++;
	for (t = 0; t < NT; t++) {
		bv->ts[t + 1] += bv->ts[t];
		pos[t] = bv->ts[t];
	}
	for (i = 0; i < bv->n; i++)
		if (bv->v[i].type < NT)
			bv->hs[pos[bv->v[i].type]++] = bv->v[i].hash;
}

/* Count value h of type t in e's sub-window sl (see count_group()). */
static inline void
count_one(struct det_bulk *b, const struct group *g, struct entry *e,
    struct slot *sl, unsigned t, uint64_t h, uint32_t *tm, uint32_t *chg)
{
	sl->nfind[t]++;
	b->stats.counted += g->trn[t];
	if (window_add(b, e, sl, g->ns, t, h) == 0)
		return;
	if (!(*tm & (1u << t))) {
		*tm |= 1u << t;
		chg[t] = 0;
	}
	chg[t]++;
}

/*
 * Count the values of batch bv for group gi in entry e, then check once
 * the rules of the group whose types changed. Returns the number of
 * alerts.
 */
static int
count_group(struct det_bulk *b, uint32_t gi, struct entry *e,
    const struct batch_vals *bv, uint64_t now, det_bulk_cb *cb, void *arg)
{
	const struct group *g = &b->group[gi];
	const struct rinfo *ri;
	struct slot *sl;
	uint64_t width = g->width, ep, m, raises;
	uint64_t tmp[SORT_MAX];
	uint32_t chg[NT], tm, x;
	unsigned ns = g->ns, t;
	size_t i;
	int a = 0;

	if (width == 0)
		ep = 0;
	else if (now < e->ep_from || now >= e->ep_to) {
		ep = e->ep_cur = now / width;
		e->ep_slot = (unsigned)(ep % ns);
		e->ep_from = ep * width;
		e->ep_to = e->ep_from + width;
	} else
		ep = e->ep_cur;
	sl = &e->slot[e->ep_slot];
	if (sl->epoch != ep) {
		if (sl->epoch != EPOCH_NONE && sl->epoch > ep)
			return 0;	/* time went back: count nothing */
		for (t = 0; t < NT; t++)
			if (sl->cnt[t] != NULL)
				det_count_clear(sl->cnt[t]);
		memset(sl->nfind, 0, sizeof(sl->nfind));
		sl->epoch = ep;
	}
	/* A step back within the window counts into the union as it is. */
	if (ns > 1 && (e->win_ep == EPOCH_NONE || ep > e->win_ep))
		win_sync(b, e, ep, ns);
	tm = 0;
	if (bv->sorted) {
		/* A type's values in one go, each counter in one loop. */
		for (x = g->tmask; x != 0; x &= x - 1) {
			t = (unsigned)__builtin_ctz(x);
			if ((i = bv->ts[t + 1] - bv->ts[t]) == 0)
				continue;
			sl->nfind[t] += i;
			b->stats.counted += g->trn[t] * i;
			if ((i = window_add_n(b, e, sl, ns, t,
			    bv->hs + bv->ts[t], i, tmp)) != 0) {
				tm |= 1u << t;
				chg[t] = (uint32_t)i;
			}
		}
	} else
		for (i = 0; i < bv->n; i++) {
			t = bv->v[i].type;
			if (t < NT && (g->tmask & (1u << t)))
				count_one(b, g, e, sl, t, bv->v[i].hash, &tm,
				    chg);
		}
	/* Each rule of a changed type, once, with the changes it counts. */
	for (m = 0, x = tm; x != 0; x &= x - 1)
		m |= g->tr[__builtin_ctz(x)];
	for (; m != 0; m &= m - 1) {
		ri = &b->rule[g->rule[__builtin_ctzll(m)]];
		for (x = tm & type_mask(ri->r), raises = 0; x != 0;
		    x &= x - 1)
			raises += chg[__builtin_ctz(x)];
		a += rule_check(b, ri, e, ep, now, raises, cb, arg);
	}
	return a;
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
		if (b->rule[i].r == r)
			break;
	if (i == b->nrules)
		return -1;
	kn = key_norm(b, key, n, k);
	h = entry_hash(b, b->rule[i].group, r->scope, k, kn);
	for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->group == b->rule[i].group &&
		    e->klen == kn && memcmp(e->key, k, kn) == 0)
			break;
	if (e == NULL)
		return -1;
	width = b->group[b->rule[i].group].width;
	ns = b->group[b->rule[i].group].ns;
	ep = width == 0 ? 0 : now_ms / width;
	memset(out, 0, sizeof(*out));
	out->rule = r;
	out->scope = r->scope;
	out->key = e->key;
	out->key_len = e->klen;
	out->severity = r->severity;
	out->distinct = window_read(b, r, e, ep, ns, out);
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

/* Short keys compared in place (memcmp is a call for a variable n). */
static bool
key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * The subject of scope sc with key[0..n): the cached one when it is the
 * same as the last finding's, else normalised, checked against the
 * allowed subjects and hashed afresh.
 */
static const struct subj_cache *
subject(struct det_bulk *b, unsigned sc, const void *key, size_t n)
{
	struct subj_cache *c = &b->subj[sc];

	if (c->valid && c->rawlen == n && key_eq(c->raw, key, n))
		return c;
	c->ver++;
	c->valid = n < DET_BULK_KEY_MAX;
	if (c->valid) {
		c->rawlen = (uint8_t)n;
		memcpy(c->raw, key, n);
	}
	c->klen = (uint8_t)key_norm(b, key, n, c->key);
	c->state = is_allowed(b, sc, c->key, c->klen) ? 2 : 1;
	if (c->state == 1)
		c->sh = scope_hash(b, sc, c->key, c->klen);
	return c;
}

int
det_bulk_value(struct det_bulk *b, const struct det_bulk_subject *who,
    const struct det_finding *f, uint64_t now_ms, det_bulk_cb *cb,
    void *arg, struct det_bulk_val *out)
{
	int n = 0;

	out->type = NT;
	out->hash = 0;
	if ((unsigned)f->type >= NT)
		return 0;
	b->stats.findings++;
	if (b->ncanary > 0)
		n = canary_check(b, who, f, now_ms, cb, arg);
	out->type = f->type;
	out->hash = det_count_hash_k(&b->hk[f->type], f->value, f->vlen);
	return n;
}

int
det_bulk_count(struct det_bulk *b, const struct det_bulk_subject *who,
    const struct det_bulk_val *v, size_t nv, uint64_t now_ms,
    det_bulk_cb *cb, void *arg)
{
	const struct subj_cache *subj[DET_BULK_SCOPES] = { NULL };
	struct batch_vals bv;
	const struct group *g;
	struct ecache *ec;
	struct entry *e;
	uint64_t nr;
	uint32_t vm = 0;
	unsigned sc;
	size_t i, j;
	int n = 0;

	if (who == NULL)
		return 0;
	/* Sorted by type at once (the types present read off the counts). */
	bv.v = v;
	bv.n = nv;
	batch_sort(&bv);
	if (bv.sorted) {
		for (j = 0; j < NT; j++)
			if (bv.ts[j + 1] != bv.ts[j])
				vm |= 1u << j;
	} else
		for (j = 0; j < nv; j++)
			if (v[j].type < NT)
				vm |= 1u << v[j].type;
	for (i = 0; i < b->ngroup; i++) {
		g = &b->group[i];
		if (!(g->tmask & vm) || g->scope >= DET_BULK_SCOPES ||
		    who->key[g->scope] == NULL)
			continue;
		sc = g->scope;
		if (subj[sc] == NULL)
			subj[sc] = subject(b, sc, who->key[sc], who->len[sc]);
		if (subj[sc]->state == 2) {
			for (j = 0, nr = 0; j < nv; j++)
				if (v[j].type < NT)
					nr += g->trn[v[j].type];
			b->stats.allowed += nr;
			continue;
		}
		ec = &b->ecache[i];
		if (ec->e != NULL && ec->ver == subj[sc]->ver &&
		    ec->gen == b->gen) {
			e = ec->e;
			e->ref = true;
		} else {
			e = entry_get(b, (uint32_t)i, subj[sc]->key,
			    subj[sc]->klen, subj[sc]->sh, now_ms);
			ec->e = e;
			ec->ver = subj[sc]->ver;
			ec->gen = b->gen;
			if (e == NULL) {
				b->stats.nomem++;
				continue;
			}
		}
		n += count_group(b, (uint32_t)i, e, &bv, now_ms, cb, arg);
	}
	return n;
}

int
det_bulk_add(struct det_bulk *b, const struct det_bulk_subject *who,
    const struct det_finding *f, uint64_t now_ms, det_bulk_cb *cb,
    void *arg)
{
	struct det_bulk_val v;
	int n;

	n = det_bulk_value(b, who, f, now_ms, cb, arg, &v);
	if (v.type >= NT || who == NULL)
		return n;
	return n + det_bulk_count(b, who, &v, 1, now_ms, cb, arg);
}

static size_t
entry_bytes(const struct det_bulk *b, const struct entry *e)
{
	const struct group *g = &b->group[e->group];
	size_t n = sizeof(*e) + g->ns * sizeof(struct slot) +
	    g->nrule * sizeof(struct rstate);
	unsigned s, t;

	for (s = 0; s < g->ns; s++)
		for (t = 0; t < NT; t++)
			if (e->slot[s].cnt[t] != NULL)
				n += det_count_bytes(e->slot[s].cnt[t]);
	for (t = 0; t < NT; t++)
		if (e->win[t] != NULL)
			n += det_count_bytes(e->win[t]);
	return n;
}

void
det_bulk_stats(const struct det_bulk *b, struct det_bulk_stats *out)
{
	const struct entry *e;
	size_t i;

	*out = b->stats;
	out->bytes = sizeof(*b) + b->nbucket * sizeof(*b->bucket) +
	    det_count_bytes(b->scratch);
	for (e = b->lru_head; e != NULL; e = e->lnext)
		out->bytes += entry_bytes(b, e);
	for (i = 0; i < b->ngroup; i++)		/* kept for reuse */
		for (e = b->group[i].free; e != NULL; e = e->hnext)
			out->bytes += entry_bytes(b, e);
}
