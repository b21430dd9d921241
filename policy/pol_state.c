/*
 * pol_state: per-worker rate-limit counters. A token bucket (rps, burst)
 * and a daily counter per (consumer, route), plus one consumer-wide pair
 * per consumer (route key 0). Keys are hashes of the ids, so counters
 * survive a reload; pol_state_rebind() drops the ones of removed ids.
 */
#include "policy/pol_int.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX	1000000
#define IDLE_MS		(86400ULL * 1000)	/* a day: bucket full, day over */

struct bucket {
	uint64_t	ck;		/* consumer key; 0: empty slot */
	uint64_t	rk;		/* route key; 0: consumer-wide */
	uint64_t	tokens;		/* milli-tokens */
	uint64_t	last_ms;
	int64_t		day;
	uint64_t	count;
};

struct pol_state {
	const struct pol_set *set;
	struct bucket	*v;
	size_t		 mask;
	size_t		 n;
	size_t		 max;
	uint64_t	 full;
	uint64_t	 evicted;
	EVP_MD_CTX	*md;
};

static size_t
slot_of(uint64_t ck, uint64_t rk)
{
	uint64_t h = ck ^ (rk * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 29;
	return (size_t)h;
}

int
pol_state_new(size_t max_entries, struct pol_state **out)
{
	struct pol_state *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	st->max = max_entries ? max_entries : DEFAULT_MAX;
	st->mask = 63;
	if ((st->v = calloc(st->mask + 1, sizeof(*st->v))) == NULL ||
	    (st->md = EVP_MD_CTX_new()) == NULL) {
		pol_state_free(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
pol_state_free(struct pol_state *st)
{
	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->md);
	free(st->v);
	free(st);
}

const struct pol_set *
pol_state_set(const struct pol_state *st)
{
	return st->set;
}

struct evp_md_ctx_st *
pol_state_mdctx(struct pol_state *st)
{
	return st->md;
}

void
pol_state_stats(const struct pol_state *st, struct pol_state_stats *s)
{
	s->entries = st->n;
	s->full = st->full;
	s->evicted = st->evicted;
}

/* Move the entries that keep(st, b, arg) accepts into a table of cap. */
static int
rebuild(struct pol_state *st, size_t cap,
    bool (*keep)(const struct pol_state *, struct bucket *, const void *),
    const void *arg)
{
	struct bucket *nv, *b;
	size_t i, j, n = 0;

	if ((nv = calloc(cap, sizeof(*nv))) == NULL)
		return -1;
	for (i = 0; i <= st->mask; i++) {
		b = &st->v[i];
		if (b->ck == 0 || (keep != NULL && !keep(st, b, arg)))
			continue;
		for (j = slot_of(b->ck, b->rk) & (cap - 1); nv[j].ck != 0;
		    j = (j + 1) & (cap - 1))
			;
		nv[j] = *b;
		n++;
	}
	free(st->v);
	st->v = nv;
	st->mask = cap - 1;
	st->n = n;
	return 0;
}

static bool
keep_active(const struct pol_state *st, struct bucket *b, const void *arg)
{
	uint64_t now_ms = *(const uint64_t *)arg;

	(void)st;
	return now_ms < b->last_ms || now_ms - b->last_ms < IDLE_MS;
}

static uint32_t
key_idx(const struct pol_htab *t, const struct pol_set *old, uint64_t key,
    bool route)
{
	const char *id = NULL;
	size_t i, n = route ? old->nroutes : old->nconsumers;

	/* The old set knows the id behind the key. */
	for (i = 0; i < n; i++) {
		if ((route ? old->routes[i].key : old->consumers[i].key) ==
		    key) {
			id = route ? old->routes[i].id : old->consumers[i].id;
			break;
		}
	}
	if (id == NULL)
		return POL_NONE;
	return pol_htab_get(t, pol_hash(route ? 2 : 1, id, strlen(id)), id,
	    (uint32_t)strlen(id), 0);
}


static bool
keep_known(const struct pol_state *st, struct bucket *b, const void *arg)
{
	const struct pol_set *set = arg;
	uint32_t ci, ri = POL_NONE;
	uint64_t cap;

	/* Keys are id hashes: find the ids in the new set. */
	if ((ci = key_idx(&set->ckeys, st->set, b->ck, false)) == POL_NONE)
		return false;
	if (b->rk != 0 &&
	    (ri = key_idx(&set->rkeys, st->set, b->rk, true)) == POL_NONE)
		return false;
	cap = (uint64_t)(ri == POL_NONE ? set->consumers[ci].limit.burst :
	    set->routes[ri].limit.burst) * 1000;
	if (b->tokens > cap)
		b->tokens = cap;
	return true;
}

int
pol_state_rebind(struct pol_state *st, const struct pol_set *set)
{
	int rc = 0;

	if (st->set != NULL && st->set != set && set != NULL) {
		/*
		 * key_idx() scans the old set per bucket: O(buckets x ids),
		 * fine for reloads; index the old keys if that ever shows.
		 */
		if (rebuild(st, st->mask + 1, keep_known, set) == -1) {
			rc = -1;
			memset(st->v, 0, (st->mask + 1) * sizeof(*st->v));
			st->n = 0;
		}
	} else if (set == NULL) {
		memset(st->v, 0, (st->mask + 1) * sizeof(*st->v));
		st->n = 0;
	}
	st->set = set;
	return rc;
}

void
pol_localtime(time_t now, int tz_min, int64_t *day, int *minute, int *wday)
{
	int64_t t = (int64_t)now + (int64_t)tz_min * 60;
	int64_t d = t / 86400, r = t % 86400;

	if (r < 0) {
		r += 86400;
		d--;
	}
	*day = d;
	*minute = (int)(r / 60);
	/* 1970-01-01 was a Thursday. */
	*wday = (int)(((d % 7) + 7 + 4) % 7);
}

static struct bucket *
find(struct pol_state *st, uint64_t ck, uint64_t rk, bool create,
    const struct pol_limit *lim, uint64_t now_ms, int64_t day, int *full)
{
	struct bucket *b;
	size_t i;

	for (i = slot_of(ck, rk) & st->mask;; i = (i + 1) & st->mask) {
		b = &st->v[i];
		if (b->ck == ck && b->rk == rk)
			return b;
		if (b->ck == 0)
			break;
	}
	if (!create)
		return NULL;
	if (st->n >= st->max) {
		size_t before = st->n;

		rebuild(st, st->mask + 1, keep_active, &now_ms);
		st->evicted += before - st->n;
		if (st->n >= st->max) {
			*full = 1;
			return NULL;
		}
		return find(st, ck, rk, create, lim, now_ms, day, full);
	}
	if ((st->n + 1) * 2 > st->mask + 1) {
		if (rebuild(st, (st->mask + 1) * 2, NULL, NULL) == -1) {
			*full = 1;
			return NULL;
		}
		return find(st, ck, rk, create, lim, now_ms, day, full);
	}
	b->ck = ck;
	b->rk = rk;
	b->tokens = (uint64_t)lim->burst * 1000;
	b->last_ms = now_ms;
	b->day = day;
	b->count = 0;
	st->n++;
	return b;
}

/* Refill b, then 0 if one request fits in lim, else 1 with rl filled. */
static int
check(struct bucket *b, const struct pol_limit *lim, uint64_t now_ms,
    int64_t day, int minute, bool live, struct pol_rl *rl)
{
	uint64_t cap = (uint64_t)lim->burst * 1000, tokens, count;

	tokens = b ? b->tokens : cap;
	count = b && b->day == day ? b->count : 0;
	if (b != NULL && now_ms > b->last_ms && lim->rps) {
		uint64_t add = (now_ms - b->last_ms) * lim->rps;

		tokens = add >= cap || tokens + add >= cap ? cap :
		    tokens + add;
	}
	if (tokens > cap)
		tokens = cap;
	if (b != NULL && live) {
		b->tokens = tokens;
		if (now_ms > b->last_ms)
			b->last_ms = now_ms;
		if (b->day != day) {
			b->day = day;
			b->count = 0;
		}
	}
	rl->tokens = tokens;
	rl->count = count;
	if (lim->rps && tokens < 1000) {
		uint64_t ms = (1000 - tokens + lim->rps - 1) / lim->rps;

		rl->retry_after = (unsigned)((ms + 999) / 1000);
		if (rl->retry_after == 0)
			rl->retry_after = 1;
		return 1;
	}
	if (lim->per_day && count >= lim->per_day) {
		rl->retry_after = (unsigned)(86400 - minute * 60);
		return 1;
	}
	return 0;
}

int
pol_state_take(struct pol_state *st, const struct pol_set *set,
    const struct pol_consumer *c, const struct pol_route *r, time_t now,
    uint64_t now_ms, bool consume, struct pol_rl *rl)
{
	struct bucket *cb = NULL, *rb = NULL;
	int64_t cday, rday;
	int cmin, rmin, wd, full = 0;
	bool climit = c->limit.rps || c->limit.per_day;
	bool rlimit = r->limit.rps || r->limit.per_day;

	memset(rl, 0, sizeof(*rl));
	pol_localtime(now, set->tz_min, &cday, &cmin, &wd);
	pol_localtime(now, r->tz_min, &rday, &rmin, &wd);
	if (climit) {
		cb = find(st, c->key, 0, consume, &c->limit, now_ms, cday,
		    &full);
		if (full) {
			st->full++;
			return -1;
		}
		if (check(cb, &c->limit, now_ms, cday, cmin, consume, rl)) {
			rl->consumer = true;
			rl->reason = rl->count >= c->limit.per_day &&
			    c->limit.per_day ? "consumer daily limit" :
			    "consumer rate limit";
			return 1;
		}
	}
	if (rlimit) {
		rb = find(st, c->key, r->key, consume, &r->limit, now_ms, rday,
		    &full);
		if (full) {
			st->full++;
			return -1;
		}
		/* find() may have rebuilt the table: look cb up again. */
		if (climit && consume)
			cb = find(st, c->key, 0, false, &c->limit, now_ms,
			    cday, &full);
		if (check(rb, &r->limit, now_ms, rday, rmin, consume, rl)) {
			rl->reason = rl->count >= r->limit.per_day &&
			    r->limit.per_day ? "route daily limit" :
			    "route rate limit";
			return 1;
		}
	}
	if (!consume)
		return 0;
	if (cb != NULL) {
		if (c->limit.rps)
			cb->tokens -= 1000;
		cb->count++;
	}
	if (rb != NULL) {
		if (r->limit.rps)
			rb->tokens -= 1000;
		rb->count++;
	}
	return 0;
}
