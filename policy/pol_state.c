/*
 * pol_state: rate-limit counters shared by every worker process. A token
 * bucket (rps, burst) and a daily counter per (consumer, route), plus one
 * consumer-wide pair per consumer (route key 0), in one table of fixed
 * size mapped MAP_SHARED before the workers fork: every worker, of every
 * generation, counts in the same buckets, so N workers enforce one limit,
 * not N, and a reload (new workers) keeps the counters. Keys are hashes of
 * the ids, so a consumer or route that keeps its id keeps its counters.
 *
 * The table: open addressing with linear probing inside a window of PROBE
 * slots. Slots are never emptied, only marked dead (reusable), so lookups
 * need no lock: they stop at an empty slot or the window's end. Each bucket
 * has a spin lock holding the owner's pid; inserting takes the table lock
 * so that one key never gets two buckets. A lock whose holder died (a
 * worker killed mid-update) is taken over after a bounded spin.
 */
#include "policy/pol_int.h"

#include <openssl/evp.h>

#include <sys/mman.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX	65536		/* buckets; the gateway sets its own */
#define IDLE_MS		(86400ULL * 1000)	/* a day: bucket full, day over */
#define PROBE		64			/* slots a key may sit from home */
#define SPINS		4096			/* before yielding and checking */

enum { SLOT_EMPTY = 0, SLOT_LIVE, SLOT_DEAD };

struct bucket {
	alignas(64) uint32_t lock;	/* holder's pid, 0: free */
	uint32_t	state;		/* SLOT_* */
	uint64_t	ck;		/* consumer key */
	uint64_t	rk;		/* route key; 0: consumer-wide */
	uint64_t	tokens;		/* milli-tokens */
	uint64_t	last_ms;
	int64_t		day;
	uint64_t	count;
};

struct shtab {
	alignas(64) uint32_t ilock;	/* insert lock: holder's pid */
	uint64_t	nslots;		/* power of two */
	uint64_t	max;
	uint64_t	n;		/* live buckets */
	uint64_t	full;
	uint64_t	evicted;
	struct bucket	v[];
};

struct pol_state {
	const struct pol_set *set;
	struct shtab	*t;
	size_t		 maplen;
	uint32_t	 pid;		/* this process, for the locks */
	EVP_MD_CTX	*md;
};

#define LD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ST(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)

static bool
trylock(uint32_t *w, uint32_t me)
{
	uint32_t cur = 0;

	return __atomic_compare_exchange_n(w, &cur, me, false,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void
lock(uint32_t *w, uint32_t me)
{
	uint32_t cur;
	unsigned spins = 0;

	while (!trylock(w, me)) {
		if (++spins < SPINS)
			continue;
		spins = 0;
		/* A holder killed mid-update never unlocks: take over. */
		cur = LD(w);
		if (cur != 0 && cur != me && kill((pid_t)cur, 0) == -1 &&
		    errno == ESRCH && __atomic_compare_exchange_n(w, &cur, me,
		    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		sched_yield();
	}
}

static void
unlock(uint32_t *w)
{
	ST(w, 0);
}

static size_t
home_of(uint64_t ck, uint64_t rk)
{
	uint64_t h = ck ^ (rk * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h;
}

int
pol_state_new(size_t max_entries, struct pol_state **out)
{
	struct pol_state *st;
	uint64_t max = max_entries ? max_entries : DEFAULT_MAX, nslots = 64;
	void *p;

	*out = NULL;
	if (max > (UINT64_C(1) << 32))
		return -1;
	while (nslots < 2 * max)
		nslots <<= 1;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	st->maplen = sizeof(struct shtab) + nslots * sizeof(struct bucket);
	/* Pages are touched only as buckets are used. */
	p = mmap(NULL, st->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || (st->md = EVP_MD_CTX_new()) == NULL) {
		if (p != MAP_FAILED)
			munmap(p, st->maplen);
		free(st);
		return -1;
	}
	st->t = p;
	st->t->nslots = nslots;
	st->t->max = max;
	st->pid = (uint32_t)getpid();
	*out = st;
	return 0;
}

void
pol_state_free(struct pol_state *st)
{
	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->md);
	munmap(st->t, st->maplen);
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
	s->entries = (size_t)LD(&st->t->n);
	s->full = LD(&st->t->full);
	s->evicted = LD(&st->t->evicted);
}

int
pol_state_rebind(struct pol_state *st, const struct pol_set *set)
{
	/*
	 * Nothing to move: keys are id hashes, limits are read from the set
	 * at each check (tokens above a lowered burst are clamped there).
	 * Buckets of removed ids are reclaimed once idle. The pid is taken
	 * here because this is the first call in a freshly forked worker.
	 */
	st->pid = (uint32_t)getpid();
	st->set = set;
	return 0;
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
lookup(struct shtab *t, uint64_t ck, uint64_t rk)
{
	size_t mask = (size_t)t->nslots - 1, h = home_of(ck, rk), i;
	struct bucket *b;
	uint32_t s;

	for (i = 0; i < PROBE; i++) {
		b = &t->v[(h + i) & mask];
		if ((s = LD(&b->state)) == SLOT_EMPTY)
			return NULL;
		if (s == SLOT_LIVE && LD(&b->ck) == ck && LD(&b->rk) == rk)
			return b;
	}
	return NULL;
}

static bool
idle(const struct bucket *b, uint64_t now_ms)
{
	return now_ms >= b->last_ms && now_ms - b->last_ms >= IDLE_MS;
}

/* The table is at its cap: mark every idle bucket dead. Insert lock held. */
static void
sweep(struct pol_state *st, uint64_t now_ms)
{
	struct shtab *t = st->t;
	struct bucket *b;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		b = &t->v[i];
		if (LD(&b->state) != SLOT_LIVE || !trylock(&b->lock, st->pid))
			continue;
		if (b->state == SLOT_LIVE && idle(b, now_ms)) {
			ST(&b->state, SLOT_DEAD);
			ADD(&t->n, (uint64_t)-1);
			ADD(&t->evicted, 1);
		}
		unlock(&b->lock);
	}
}

/*
 * The bucket of (ck, rk), locked, or NULL: absent and !create, or the table
 * is full (*full set).
 */
static struct bucket *
find(struct pol_state *st, uint64_t ck, uint64_t rk, bool create,
    const struct pol_limit *lim, uint64_t now_ms, int64_t day, int *full)
{
	struct shtab *t = st->t;
	size_t mask = (size_t)t->nslots - 1, h, i;
	struct bucket *b, *pick = NULL;
	uint32_t s;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		if ((b = lookup(t, ck, rk)) == NULL)
			break;
		lock(&b->lock, st->pid);
		if (b->state == SLOT_LIVE && b->ck == ck && b->rk == rk)
			return b;
		/* Reclaimed and reused meanwhile: look again. */
		unlock(&b->lock);
	}
	if (!create)
		return NULL;

	lock(&t->ilock, st->pid);
	if ((b = lookup(t, ck, rk)) != NULL) {
		/* Another worker inserted it meanwhile. */
		unlock(&t->ilock);
		lock(&b->lock, st->pid);
		return b;
	}
	if (LD(&t->n) >= t->max)
		sweep(st, now_ms);
	h = home_of(ck, rk);
	for (i = 0; i < PROBE && LD(&t->n) < t->max; i++) {
		b = &t->v[(h + i) & mask];
		if ((s = LD(&b->state)) != SLOT_LIVE) {
			pick = b;
			break;
		}
	}
	if (pick == NULL) {
		/* Window crowded (or table at its cap): reuse an idle one. */
		for (i = 0; i < PROBE && pick == NULL; i++) {
			b = &t->v[(h + i) & mask];
			if (LD(&b->state) == SLOT_LIVE &&
			    trylock(&b->lock, st->pid)) {
				if (idle(b, now_ms)) {
					pick = b;
					ADD(&t->evicted, 1);
					ADD(&t->n, (uint64_t)-1);
				} else
					unlock(&b->lock);
			}
		}
		if (pick == NULL) {
			unlock(&t->ilock);
			*full = 1;
			return NULL;
		}
	} else
		lock(&pick->lock, st->pid);
	pick->ck = ck;
	pick->rk = rk;
	pick->tokens = (uint64_t)lim->burst * 1000;
	pick->last_ms = now_ms;
	pick->day = day;
	pick->count = 0;
	ST(&pick->state, SLOT_LIVE);
	ADD(&t->n, 1);
	unlock(&t->ilock);
	return pick;
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
	int cmin, rmin, wd, full = 0, rc = 0;
	bool climit = c->limit.rps || c->limit.per_day;
	bool rlimit = r->limit.rps || r->limit.per_day;

	memset(rl, 0, sizeof(*rl));
	pol_localtime(now, set->tz_min, &cday, &cmin, &wd);
	pol_localtime(now, r->tz_min, &rday, &rmin, &wd);
	/* Lock order: the consumer-wide bucket, then the route's. */
	if (climit) {
		cb = find(st, c->key, 0, consume, &c->limit, now_ms, cday,
		    &full);
		if (full) {
			ADD(&st->t->full, 1);
			return -1;
		}
		if (check(cb, &c->limit, now_ms, cday, cmin, consume, rl)) {
			rl->consumer = true;
			rl->reason = rl->count >= c->limit.per_day &&
			    c->limit.per_day ? "consumer daily limit" :
			    "consumer rate limit";
			rc = 1;
			goto out;
		}
	}
	if (rlimit) {
		rb = find(st, c->key, r->key, consume, &r->limit, now_ms, rday,
		    &full);
		if (full) {
			ADD(&st->t->full, 1);
			rc = -1;
			goto out;
		}
		if (check(rb, &r->limit, now_ms, rday, rmin, consume, rl)) {
			rl->reason = rl->count >= r->limit.per_day &&
			    r->limit.per_day ? "route daily limit" :
			    "route rate limit";
			rc = 1;
			goto out;
		}
	}
	if (!consume)
		goto out;
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
out:
	if (rb != NULL)
		unlock(&rb->lock);
	if (cb != NULL)
		unlock(&cb->lock);
	return rc;
}
