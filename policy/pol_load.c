/*
 * pol_load: YAML policy files -> validated, compiled struct pol_set.
 * Schema: docs/policy.md. Errors are positioned by core/gb_yaml; the
 * loader keeps going until the diagnostics cap, then runs the whole-policy
 * checks (duplicates, references, shadowed routes, GeoIP) and compiles.
 */
#include "policy/pol_int.h"
#include "core/gb_util.h"
#include "core/gb_yaml.h"

#include <openssl/evp.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INCLUDED	1000
#define MAX_ID		64

/* ---- the set's arena: strings and fixed arrays ---- */

struct pol_arena {
	struct pol_arena *next;
	size_t		  used;
	size_t		  size;
	max_align_t	  data[];
};

#define ARENA_BLOCK	(64 * 1024)

static void *
pa_alloc(struct pol_set *set, size_t n)
{
	struct pol_arena *a = set->arena, *na;
	size_t sz;
	void *p;

	if (n == 0)
		n = 1;
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (a == NULL || a->size - a->used < n) {
		sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if ((na = malloc(sizeof(*na) + sz)) == NULL)
			return NULL;
		na->used = 0;
		na->size = sz;
		/* Keep the partly used block in front for small strings. */
		if (a != NULL && n > ARENA_BLOCK / 2) {
			na->next = a->next;
			a->next = na;
		} else {
			na->next = a;
			set->arena = na;
		}
		a = na;
	}
	p = (char *)a->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

static char *
pa_strdup(struct pol_set *set, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if ((p = pa_alloc(set, n)) != NULL)
		memcpy(p, s, n);
	return p;
}

static const char *const main_keys[] = { "version", "settings", "network",
    "include", "consumers", "routes", NULL };
static const char *const inc_keys[] = { "consumers", "routes", NULL };

/* ---- loader context ---- */

struct ld_pos {
	const struct gb_ydoc	*doc;
	const struct gb_ynode	*node;
	bool			 bad;	/* had errors: not compiled */
};

struct ld {
	struct pol_set		*set;
	struct gb_diags		*d;
	const struct pol_load_opts *o;
	struct gb_ydoc		**docs;
	size_t			 ndocs;
	struct ld_pos		*cpos;		/* per consumer: its map */
	size_t			 ccap;
	struct ld_pos		*rpos;		/* per route */
	size_t			 rcap;
	const char		**groups;	/* distinct, arena strings */
	size_t			 ngroups;
	size_t			 gcap;
	struct ld_pos		 countries;	/* first use, for the GeoIP check */
	bool			 nomem;
	bool			 from_mem;
};

#define FULL(l)		(gb_diags_full((l)->d) || (l)->nomem)

static void
oom(struct ld *l, const struct gb_ydoc *doc)
{
	if (!l->nomem)
		gb_ydiag(doc, l->d, NULL, GB_DIAG_ERROR, "out of memory");
	l->nomem = true;
}

static bool
valid_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > MAX_ID)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* A required id-like string at key of map; NULL on error (reported). */
static const char *
get_id(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *map,
    const char *what, const char *key, bool required)
{
	const struct gb_ynode *n;
	const char *s;

	n = required ? gb_ymap_need(doc, l->d, map, what, key) :
	    gb_ymap_get(map, key);
	if (n == NULL || gb_ystr(doc, l->d, n, key, &s) == -1)
		return NULL;
	if (!valid_id(s)) {
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
		    "%s: \"%s\" is not a valid id (letters, digits, '.', '_' "
		    "and '-', at most %d)", key, s, MAX_ID);
		return NULL;
	}
	return s;
}

/* Optional free text; arena copy or NULL. */
static const char *
get_text(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *map,
    const char *key)
{
	const struct gb_ynode *n = gb_ymap_get(map, key);
	const char *s, *p;

	if (n == NULL || gb_ystr(doc, l->d, n, key, &s) == -1)
		return NULL;
	if ((p = pa_strdup(l->set, s)) == NULL)
		oom(l, doc);
	return p;
}

/* Sequence check: NULL node is fine (absent), else must be a sequence. */
static bool
is_seq(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    const char *key)
{
	return n != NULL && gb_yexpect(doc, l->d, n, key, GB_Y_SEQ) == 0;
}

/* ---- network rules ---- */

static void
parse_cidrs(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    const char *key, struct pol_cidrset *cs)
{
	struct pol_cidr *v;
	const char *s, *why;
	size_t i, k = 0;

	if (!is_seq(l, doc, n, key))
		return;
	if ((v = pa_alloc(l->set, n->len * sizeof(*v))) == NULL) {
		oom(l, doc);
		return;
	}
	for (i = 0; i < n->len && !FULL(l); i++) {
		if (gb_ystr(doc, l->d, n->items[i], key, &s) == -1)
			continue;
		if (pol_cidr_parse(s, &v[k], &why) == -1) {
			gb_ydiag(doc, l->d, n->items[i], GB_DIAG_ERROR,
			    "%s: bad CIDR \"%s\": %s", key, s, why);
			continue;
		}
		if ((v[k].text = pa_strdup(l->set, s)) == NULL) {
			oom(l, doc);
			return;
		}
		k++;
	}
	if (pol_cidrset_build(cs, v, k) == -1)
		oom(l, doc);
}

static void
parse_cc_list(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n, const char *key, uint64_t *bits, bool *any)
{
	const char *s;
	size_t i;
	int idx;

	if (!is_seq(l, doc, n, key))
		return;
	for (i = 0; i < n->len; i++) {
		if (gb_ystr(doc, l->d, n->items[i], key, &s) == -1)
			continue;
		if ((idx = pol_country_idx(s)) < 0 && strlen(s) == 2 &&
		    pol_country_idx((char[3]){ (char)(s[0] & ~0x20),
		    (char)(s[1] & ~0x20), 0 }) >= 0) {
			gb_ydiag(doc, l->d, n->items[i], GB_DIAG_ERROR,
			    "%s: unknown country code \"%s\" (did you mean "
			    "\"%c%c\"?)", key, s, s[0] & ~0x20, s[1] & ~0x20);
			continue;
		}
		if (idx < 0) {
			gb_ydiag(doc, l->d, n->items[i], GB_DIAG_ERROR,
			    "%s: unknown country code \"%s\" (ISO 3166-1 "
			    "alpha-2, upper case, like \"ID\")", key, s);
			continue;
		}
		bits[idx / 64] |= 1ULL << (idx % 64);
		*any = true;
	}
}

static const char *const net_keys[] = { "allow", "deny", "countries", NULL };
static const char *const cc_keys[] = { "allow", "deny", "unknown", NULL };
static const char *const allow_deny[] = { "allow", "deny", NULL };

static struct pol_net *
parse_net(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    const char *what)
{
	const struct gb_ynode *c, *u;
	struct pol_net *net;
	bool any = false, dany = false;
	int e;

	if (gb_ymap_check(doc, l->d, n, what, net_keys) == -1 &&
	    n->type != GB_Y_MAP)
		return NULL;
	if ((net = pa_alloc(l->set, sizeof(*net))) == NULL) {
		oom(l, doc);
		return NULL;
	}
	net->unknown_deny = l->set->unknown_deny;
	parse_cidrs(l, doc, gb_ymap_get(n, "allow"), "allow", &net->allow);
	parse_cidrs(l, doc, gb_ymap_get(n, "deny"), "deny", &net->deny);
	if ((c = gb_ymap_get(n, "countries")) != NULL &&
	    gb_ymap_check(doc, l->d, c, "countries", cc_keys) == 0) {
		net->countries = true;
		if (l->countries.node == NULL) {
			l->countries.doc = doc;
			l->countries.node = c;
		}
		parse_cc_list(l, doc, gb_ymap_get(c, "allow"), "allow",
		    net->callow, &any);
		parse_cc_list(l, doc, gb_ymap_get(c, "deny"), "deny",
		    net->cdeny, &dany);
		net->callow_any = !any;
		if ((u = gb_ymap_get(c, "unknown")) != NULL &&
		    gb_yenum(doc, l->d, u, "unknown", allow_deny, &e) == 0)
			net->unknown_deny = e == 1;
	}
	return net;
}

/* ---- limits, quotas, windows ---- */

static const char *const limit_keys[] = { "rps", "burst", "per_day", NULL };

static void
parse_limit(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    struct pol_limit *lim)
{
	const struct gb_ynode *b;
	long long v;

	if (gb_ymap_check(doc, l->d, n, "rate_limit", limit_keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if (gb_yint(doc, l->d, gb_ymap_get(n, "rps"), "rps", 1, 1000000,
	    &v) == 0)
		lim->rps = (uint32_t)v;
	if ((b = gb_ymap_get(n, "burst")) != NULL) {
		if (gb_ymap_get(n, "rps") == NULL)
			gb_ydiag(doc, l->d, b, GB_DIAG_ERROR,
			    "burst: needs rps");
		else if (gb_yint(doc, l->d, b, "burst", 1, 10000000,
		    &v) == 0)
			lim->burst = (uint32_t)v;
	}
	if (lim->rps && lim->burst == 0)
		lim->burst = lim->rps;
	if (gb_yint(doc, l->d, gb_ymap_get(n, "per_day"), "per_day", 1,
	    1000000000000LL, &v) == 0)
		lim->per_day = (uint64_t)v;
	if (n->len == 0)
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
		    "rate_limit: give rps, per_day or both");
}

static const char *const ident_names[] = { "nik", "kk", "npwp", "phone",
    "email", "passport", "bpjs", "card", "account", NULL };
static const char *const action_names[] = { "alert", "mask", "block", NULL };
static const char *const quota_keys[] = { "type", "max", "window", "action",
    NULL };

static void
parse_quotas(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    struct pol_consumer *c)
{
	const struct gb_ynode *q;
	struct pol_quota *v;
	long long mx;
	uint64_t w;
	size_t i, j;
	int t, a;

	if (!is_seq(l, doc, n, "quotas"))
		return;
	if ((v = pa_alloc(l->set, n->len * sizeof(*v))) == NULL) {
		oom(l, doc);
		return;
	}
	c->quotas = v;
	for (i = 0; i < n->len; i++) {
		q = n->items[i];
		if (gb_ymap_check(doc, l->d, q, "quota", quota_keys) == -1 &&
		    q->type != GB_Y_MAP)
			continue;
		if (gb_yenum(doc, l->d, gb_ymap_need(doc, l->d, q, "quota",
		    "type"), "type", ident_names, &t) == -1 ||
		    gb_yint(doc, l->d, gb_ymap_need(doc, l->d, q, "quota",
		    "max"), "max", 1, 1000000000000LL, &mx) == -1 ||
		    gb_yduration_ms(doc, l->d, gb_ymap_need(doc, l->d, q,
		    "quota", "window"), "window", 1000, 366ULL * 86400000,
		    &w) == -1)
			continue;
		a = POL_QA_ALERT;
		if (gb_ymap_get(q, "action") != NULL &&
		    gb_yenum(doc, l->d, gb_ymap_get(q, "action"), "action",
		    action_names, &a) == -1)
			continue;
		for (j = 0; j < c->nquotas; j++) {
			if ((int)v[j].type == t && v[j].window_ms == w) {
				gb_ydiag(doc, l->d, q, GB_DIAG_ERROR,
				    "quota: a %s quota over this window is "
				    "already set for consumer \"%s\"",
				    ident_names[t], c->id);
				break;
			}
		}
		if (j < c->nquotas)
			continue;
		v[c->nquotas].type = (enum pol_ident)t;
		v[c->nquotas].max = (uint64_t)mx;
		v[c->nquotas].window_ms = w;
		v[c->nquotas].action = (enum pol_quota_action)a;
		c->nquotas++;
	}
}

static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", NULL };

/* "mon", "mon-fri", "daily": day bits, or -1. */
static int
parse_days(const char *s)
{
	char a[4], b[4];
	int i, j, x = -1, y = -1, bits = 0;

	if (strcmp(s, "daily") == 0)
		return 0x7f;
	if (strlen(s) == 3) {
		for (i = 0; i < 7; i++)
			if (strcmp(s, day_names[i]) == 0)
				return 1 << i;
		return -1;
	}
	if (strlen(s) != 7 || s[3] != '-')
		return -1;
	memcpy(a, s, 3);
	a[3] = '\0';
	memcpy(b, s + 4, 3);
	b[3] = '\0';
	for (i = 0; i < 7; i++) {
		if (strcmp(a, day_names[i]) == 0)
			x = i;
		if (strcmp(b, day_names[i]) == 0)
			y = i;
	}
	if (x < 0 || y < 0)
		return -1;
	/* Ranges wrap: "fri-mon" is fri, sat, sun, mon. */
	for (j = x;; j = (j + 1) % 7) {
		bits |= 1 << j;
		if (j == y)
			break;
	}
	return bits;
}

/* "HH:MM" (00:00 to 24:00) in minutes, or -1. */
static int
parse_hhmm(const char *s)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

static const char *const window_keys[] = { "days", "from", "to", NULL };

static void
parse_windows(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n, struct pol_route *r)
{
	const struct gb_ynode *w, *dn, *t;
	struct pol_window *v;
	const char *s;
	size_t i, j;
	int bits, from, to;

	if (!is_seq(l, doc, n, "hours"))
		return;
	if ((v = pa_alloc(l->set, n->len * sizeof(*v))) == NULL) {
		oom(l, doc);
		return;
	}
	r->windows = v;
	for (i = 0; i < n->len; i++) {
		w = n->items[i];
		if (gb_ymap_check(doc, l->d, w, "hours", window_keys) == -1 &&
		    w->type != GB_Y_MAP)
			continue;
		bits = 0;
		if ((dn = gb_ymap_get(w, "days")) == NULL)
			bits = 0x7f;
		else if (dn->type == GB_Y_SCALAR) {
			if ((bits = parse_days(dn->str)) < 0) {
				gb_ydiag(doc, l->d, dn, GB_DIAG_ERROR,
				    "days: expected a day (mon ... sun), a "
				    "range like mon-fri, or daily; got \"%s\"",
				    dn->str);
				continue;
			}
		} else if (gb_yexpect(doc, l->d, dn, "days", GB_Y_SEQ) == 0) {
			for (j = 0; j < dn->len; j++) {
				int b;

				if (gb_ystr(doc, l->d, dn->items[j], "days",
				    &s) == -1)
					continue;
				if ((b = parse_days(s)) < 0) {
					gb_ydiag(doc, l->d, dn->items[j],
					    GB_DIAG_ERROR, "days: expected a "
					    "day (mon ... sun), a range like "
					    "mon-fri, or daily; got \"%s\"", s);
					continue;
				}
				bits |= b;
			}
		} else
			continue;
		from = 0;
		to = 24 * 60;
		if ((t = gb_ymap_get(w, "from")) != NULL &&
		    gb_ystr(doc, l->d, t, "from", &s) == 0 &&
		    (from = parse_hhmm(s)) < 0) {
			gb_ydiag(doc, l->d, t, GB_DIAG_ERROR,
			    "from: expected a time like 07:30, got \"%s\"", s);
			continue;
		}
		if ((t = gb_ymap_get(w, "to")) != NULL &&
		    gb_ystr(doc, l->d, t, "to", &s) == 0 &&
		    (to = parse_hhmm(s)) < 0) {
			gb_ydiag(doc, l->d, t, GB_DIAG_ERROR,
			    "to: expected a time like 17:00 or 24:00, got "
			    "\"%s\"", s);
			continue;
		}
		if (from >= to) {
			gb_ydiag(doc, l->d, w, GB_DIAG_ERROR,
			    "hours: from must be before to (a window past "
			    "midnight is two windows)");
			continue;
		}
		if (bits == 0)
			continue;
		v[r->nwindows].days = (uint8_t)bits;
		v[r->nwindows].from = (uint16_t)from;
		v[r->nwindows].to = (uint16_t)to;
		r->nwindows++;
	}
	if (r->nwindows == 0 && n->len > 0 && !FULL(l))
		gb_ydiag(doc, l->d, n, GB_DIAG_WARNING,
		    "hours: no valid window: route \"%s\" is always closed",
		    r->id);
}

static void
parse_tz(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    int *off, const char **name)
{
	const char *s, *hint;

	if (n == NULL || gb_ystr(doc, l->d, n, "timezone", &s) == -1)
		return;
	if (pol_tz_parse(s, off) == -1) {
		if ((hint = gb_did_you_mean(s, pol_tz_names)) != NULL)
			gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
			    "timezone: unknown time zone \"%s\" (did you mean "
			    "\"%s\"?)", s, hint);
		else
			gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
			    "timezone: unknown time zone \"%s\" (fixed-offset "
			    "zones only: Asia/Jakarta, Asia/Pontianak, "
			    "Asia/Makassar, Asia/Jayapura, UTC or +HH:MM)", s);
		return;
	}
	if ((*name = pa_strdup(l->set, s)) == NULL)
		oom(l, doc);
}

/* ---- consumers ---- */

static const char *const consumer_keys[] = { "id", "agency", "contact",
    "groups", "disabled", "identities", "rate_limit", "quotas", NULL };
static const char *const identity_keys[] = { "cert_subject", "cert_san",
    "cert_sha256", "api_key_sha256", NULL };

/* 64 hex digits, or 32 colon-separated pairs when colons is set. */
/*
 * Double *cap for an array of elements of size sz and the positions kept
 * beside it (consumers and routes grow the same way). 0, or -1 with both
 * arrays still valid (the one that grew keeps its new size).
 */
static int
grow_with_pos(void **arr, size_t sz, struct ld_pos **pos, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	struct ld_pos *np;
	void *na;

	if ((na = reallocarray(*arr, ncap, sz)) == NULL)
		return -1;
	*arr = na;
	if ((np = reallocarray(*pos, ncap, sizeof(*np))) == NULL)
		return -1;
	*pos = np;
	*cap = ncap;
	return 0;
}

static int
parse_sha256(const char *s, bool colons, uint8_t out[32])
{
	size_t n = strlen(s), i, step;
	int h, lo;

	if (n == 64)
		step = 2;
	else if (colons && n == 95)
		step = 3;
	else
		return -1;
	for (i = 0; i < 32; i++) {
		const char *p = s + i * step;

		if (step == 3 && i < 31 && p[2] != ':')
			return -1;
		if ((h = gb_hexval(p[0])) < 0 || (lo = gb_hexval(p[1])) < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | lo);
	}
	return 0;
}

static void
add_identity(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n, enum pol_idkind kind, const void *k,
    uint32_t klen, uint32_t cidx)
{
	struct pol_set *set = l->set;
	uint32_t prev;
	void *copy;

	if ((copy = pa_alloc(set, klen)) == NULL) {
		oom(l, doc);
		return;
	}
	memcpy(copy, k, klen);
	prev = pol_htab_put(&set->ids, pol_hash(kind, k, klen), copy, klen,
	    kind, cidx);
	if (prev == POL_NONE - 1)
		oom(l, doc);
	else if (prev != POL_NONE)
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
		    "%s: this identity already belongs to consumer \"%s\"",
		    identity_keys[kind == POL_IK_FP ? 2 : kind == POL_IK_KEY ?
		    3 : kind == POL_IK_SUBJ ? 0 : 1],
		    set->consumers[prev].id);
}

static size_t
parse_identities(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n, uint32_t cidx)
{
	const struct gb_ynode *it, *v;
	uint8_t h[32];
	const char *s, *key;
	size_t i, good = 0;

	if (!is_seq(l, doc, n, "identities"))
		return 0;
	for (i = 0; i < n->len && !FULL(l); i++) {
		it = n->items[i];
		if (gb_ymap_check(doc, l->d, it, "identity", identity_keys) ==
		    -1)
			continue;
		if (it->len != 1) {
			gb_ydiag(doc, l->d, it, GB_DIAG_ERROR,
			    "identity: give exactly one of cert_subject, "
			    "cert_san, cert_sha256, api_key_sha256");
			continue;
		}
		key = it->pairs[0].key->str;
		v = it->pairs[0].val;
		if (gb_ystr(doc, l->d, v, key, &s) == -1)
			continue;
		if (strcmp(key, "cert_sha256") == 0 ||
		    strcmp(key, "api_key_sha256") == 0) {
			bool fp = key[0] == 'c';

			if (parse_sha256(s, fp, h) == -1) {
				gb_ydiag(doc, l->d, v, GB_DIAG_ERROR,
				    "%s: expected a SHA-256 as 64 hex digits%s",
				    key, fp ? " (colons allowed)" : "");
				continue;
			}
			add_identity(l, doc, v, fp ? POL_IK_FP : POL_IK_KEY,
			    h, 32, cidx);
		} else {
			if (*s == '\0' || strlen(s) > 1024) {
				gb_ydiag(doc, l->d, v, GB_DIAG_ERROR,
				    "%s: expected 1 to 1024 characters", key);
				continue;
			}
			add_identity(l, doc, v, strcmp(key, "cert_subject") ==
			    0 ? POL_IK_SUBJ : POL_IK_SAN, s,
			    (uint32_t)strlen(s), cidx);
		}
		good++;
	}
	return good;
}

static void
add_group(struct ld *l, const struct gb_ydoc *doc, const char *g)
{
	const char **ng;
	size_t i;

	for (i = 0; i < l->ngroups; i++)
		if (strcmp(l->groups[i], g) == 0)
			return;
	if (l->ngroups == l->gcap) {
		size_t cap = l->gcap ? l->gcap * 2 : 16;

		if ((ng = reallocarray(l->groups, cap + 1, sizeof(*ng))) ==
		    NULL) {
			oom(l, doc);
			return;
		}
		l->groups = ng;
		l->gcap = cap;
	}
	l->groups[l->ngroups++] = g;
	l->groups[l->ngroups] = NULL;
}

static void
parse_consumer(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n)
{
	struct pol_set *set = l->set;
	struct pol_consumer *c;
	const struct gb_ynode *g, *x;
	const char *id, *s;
	size_t i, nid;

	if (gb_ymap_check(doc, l->d, n, "consumer", consumer_keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if ((id = get_id(l, doc, n, "consumer", "id", true)) == NULL)
		return;
	if (set->nconsumers == l->ccap) {
		void *arr = set->consumers;
		int rc = grow_with_pos(&arr, sizeof(*set->consumers), &l->cpos,
		    &l->ccap);

		set->consumers = arr;
		if (rc == -1) {
			oom(l, doc);
			return;
		}
	}
	c = &set->consumers[set->nconsumers];
	memset(c, 0, sizeof(*c));
	l->cpos[set->nconsumers].doc = doc;
	l->cpos[set->nconsumers].node = n;
	c->idx = (uint32_t)set->nconsumers;
	set->nconsumers++;
	if ((c->id = pa_strdup(set, id)) == NULL) {
		oom(l, doc);
		return;
	}
	c->key = pol_hash(1, id, strlen(id)) | 1;	/* 0 is "none" */
	c->agency = get_text(l, doc, n, "agency");
	c->contact = get_text(l, doc, n, "contact");
	if ((x = gb_ymap_get(n, "disabled")) != NULL)
		gb_ybool(doc, l->d, x, "disabled", &c->disabled);
	if (is_seq(l, doc, g = gb_ymap_get(n, "groups"), "groups")) {
		if ((c->groups = pa_alloc(set, g->len * sizeof(char *))) ==
		    NULL) {
			oom(l, doc);
			return;
		}
		for (i = 0; i < g->len; i++) {
			if (gb_ystr(doc, l->d, g->items[i], "groups", &s) == -1)
				continue;
			if (!valid_id(s)) {
				gb_ydiag(doc, l->d, g->items[i], GB_DIAG_ERROR,
				    "groups: \"%s\" is not a valid group name "
				    "(letters, digits, '.', '_' and '-', at "
				    "most %d)", s, MAX_ID);
				continue;
			}
			if ((s = pa_strdup(set, s)) == NULL) {
				oom(l, doc);
				return;
			}
			c->groups[c->ngroups++] = s;
			add_group(l, doc, s);
		}
	}
	nid = parse_identities(l, doc, gb_ymap_get(n, "identities"), c->idx);
	if (nid == 0 && !FULL(l))
		gb_ydiag(doc, l->d, n, GB_DIAG_WARNING,
		    "consumer \"%s\" has no identity: no request can be "
		    "attributed to it", id);
	if ((x = gb_ymap_get(n, "rate_limit")) != NULL)
		parse_limit(l, doc, x, &c->limit);
	parse_quotas(l, doc, gb_ymap_get(n, "quotas"), c);
}

/* ---- routes ---- */

static const char *const route_keys[] = { "id", "host", "prefix", "path",
    "methods", "upstream", "consumers", "groups", "public", "mode", "network",
    "rate_limit", "hours", "timezone", "max_body", NULL };
static const char *const method_names[] = { "GET", "HEAD", "POST", "PUT",
    "PATCH", "DELETE", "OPTIONS", NULL };
static const char *const mode_names[] = { "enforce", "monitor", NULL };

unsigned
pol_method_bit(const char *m, size_t n)
{
	int i;

	for (i = 0; method_names[i] != NULL; i++)
		if (strlen(method_names[i]) == n &&
		    memcmp(method_names[i], m, n) == 0)
			return 1u << i;
	return 0;
}

const char *
pol_methods_str(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;
	int i, k;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; method_names[i] != NULL; i++) {
		if (!(mask & (1u << i)))
			continue;
		k = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    method_names[i]);
		if (k < 0 || (size_t)k >= len - off)
			break;
		off += (size_t)k;
	}
	return buf;
}

/* Checks a route path; NULL when fine, else what is wrong. */
static const char *
bad_path(const char *p, bool exact)
{
	const char *s, *e;
	size_t n;

	if (p[0] != '/')
		return "must start with '/'";
	for (s = p; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '?' || *s == '#' ||
		    *s == '%' || *s == '\\')
			return "only printable ASCII without spaces, '?', "
			    "'#', '%' or '\\'";
	/* Segments: no empty ones inside, no dot segments. */
	for (s = p + 1;; s = e + 1) {
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 && e != NULL)
			return "empty segment (\"//\")";
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' &&
		    s[1] == '.'))
			return "dot segments never match a normalised path";
		if (e == NULL)
			break;
	}
	(void)exact;
	return NULL;
}

static bool
bad_host(const char *h)
{
	const char *s;

	if (*h == '\0' || strlen(h) > 253)
		return true;
	if (h[0] == '[')
		return h[strlen(h) - 1] != ']';
	for (s = h; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' ||
		    *s == '_'))
			return true;
	return false;
}

static void
parse_route(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n)
{
	struct pol_set *set = l->set;
	struct pol_route *r;
	const struct gb_ynode *x, *pfx, *pth;
	const char *id, *s, *why;
	uint64_t v;
	size_t i, errs;
	int e;
	char *h;

	if (gb_ymap_check(doc, l->d, n, "route", route_keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if ((id = get_id(l, doc, n, "route", "id", true)) == NULL)
		return;
	if (set->nroutes == l->rcap) {
		void *arr = set->routes;
		int rc = grow_with_pos(&arr, sizeof(*set->routes), &l->rpos,
		    &l->rcap);

		set->routes = arr;
		if (rc == -1) {
			oom(l, doc);
			return;
		}
	}
	r = &set->routes[set->nroutes];
	memset(r, 0, sizeof(*r));
	l->rpos[set->nroutes].doc = doc;
	l->rpos[set->nroutes].node = n;
	l->rpos[set->nroutes].bad = true;
	r->idx = (uint32_t)set->nroutes;
	set->nroutes++;
	if ((r->id = pa_strdup(set, id)) == NULL) {
		oom(l, doc);
		return;
	}
	r->key = pol_hash(2, id, strlen(id)) | 1;
	errs = l->d->nerrors + l->d->dropped;
	r->mode = set->mode;
	r->tz_min = set->tz_min;
	r->tz = set->tz;
	r->max_body = set->max_body;
	r->methods = POL_M_GET | POL_M_HEAD;

	if ((x = gb_ymap_get(n, "host")) != NULL &&
	    gb_ystr(doc, l->d, x, "host", &s) == 0 && strcmp(s, "*") != 0) {
		if (bad_host(s))
			gb_ydiag(doc, l->d, x, GB_DIAG_ERROR,
			    "host: \"%s\" is not a host name (no port, no "
			    "scheme; \"*\" for any host)", s);
		else if ((r->host = h = pa_strdup(set, s)) == NULL)
			oom(l, doc);
		else
			for (; *h != '\0'; h++)
				if (*h >= 'A' && *h <= 'Z')
					*h = (char)(*h - 'A' + 'a');
	}
	pfx = gb_ymap_get(n, "prefix");
	pth = gb_ymap_get(n, "path");
	if (pfx != NULL && pth != NULL)
		gb_ydiag(doc, l->d, pth, GB_DIAG_ERROR,
		    "route \"%s\": give prefix or path, not both", id);
	else if (pfx == NULL && pth == NULL)
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
		    "route \"%s\": missing prefix (or path for an exact "
		    "match)", id);
	else {
		x = pfx ? pfx : pth;
		if (gb_ystr(doc, l->d, x, pfx ? "prefix" : "path", &s) == 0) {
			if ((why = bad_path(s, pth != NULL)) != NULL)
				gb_ydiag(doc, l->d, x, GB_DIAG_ERROR,
				    "%s: \"%s\": %s", pfx ? "prefix" : "path",
				    s, why);
			else if ((r->path = pa_strdup(set, s)) == NULL)
				oom(l, doc);
			r->exact = pth != NULL;
		}
	}
	if ((x = gb_ymap_get(n, "methods")) != NULL &&
	    gb_yexpect(doc, l->d, x, "methods", GB_Y_SEQ) == 0) {
		r->methods = 0;
		for (i = 0; i < x->len; i++)
			if (gb_yenum(doc, l->d, x->items[i], "methods",
			    method_names, &e) == 0)
				r->methods |= 1u << e;
		if (x->len == 0)
			gb_ydiag(doc, l->d, x, GB_DIAG_ERROR,
			    "methods: name at least one method");
	}
	if ((x = gb_ymap_need(doc, l->d, n, "route", "upstream")) != NULL &&
	    gb_ystr(doc, l->d, x, "upstream", &s) == 0) {
		if (!valid_id(s))
			gb_ydiag(doc, l->d, x, GB_DIAG_ERROR,
			    "upstream: \"%s\" is not a valid upstream name",
			    s);
		else if ((r->upstream = pa_strdup(set, s)) == NULL)
			oom(l, doc);
	}
	if ((x = gb_ymap_get(n, "public")) != NULL)
		gb_ybool(doc, l->d, x, "public", &r->public);
	/* consumers and groups: references, resolved once all are loaded. */
	if ((x = gb_ymap_get(n, "consumers")) != NULL)
		gb_yexpect(doc, l->d, x, "consumers", GB_Y_SEQ);
	if ((x = gb_ymap_get(n, "groups")) != NULL)
		gb_yexpect(doc, l->d, x, "groups", GB_Y_SEQ);
	if ((x = gb_ymap_get(n, "mode")) != NULL &&
	    gb_yenum(doc, l->d, x, "mode", mode_names, &e) == 0) {
		r->mode = (enum pol_mode)e;
		if (r->mode == POL_MONITOR)
			gb_ydiag(doc, l->d, x, GB_DIAG_WARNING,
			    "route \"%s\" is in monitor mode: it denies "
			    "nothing", id);
	}
	if ((x = gb_ymap_get(n, "network")) != NULL)
		r->net = parse_net(l, doc, x, "network");
	if ((x = gb_ymap_get(n, "rate_limit")) != NULL)
		parse_limit(l, doc, x, &r->limit);
	parse_tz(l, doc, gb_ymap_get(n, "timezone"), &r->tz_min, &r->tz);
	parse_windows(l, doc, gb_ymap_get(n, "hours"), r);
	if ((x = gb_ymap_get(n, "max_body")) != NULL &&
	    gb_ysize(doc, l->d, x, "max_body", 0, 1ULL << 40, &v) == 0)
		r->max_body = v;
	l->rpos[r->idx].bad = l->d->nerrors + l->d->dropped != errs;
}

/* ---- files ---- */

static const char *const settings_keys[] = { "mode", "timezone",
    "unknown_country", "max_body", NULL };

static void
parse_settings(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *n)
{
	struct pol_set *set = l->set;
	const struct gb_ynode *x;
	uint64_t v;
	int e;

	if (gb_ymap_check(doc, l->d, n, "settings", settings_keys) == -1 &&
	    n->type != GB_Y_MAP)
		return;
	if ((x = gb_ymap_get(n, "mode")) != NULL &&
	    gb_yenum(doc, l->d, x, "mode", mode_names, &e) == 0) {
		set->mode = (enum pol_mode)e;
		if (set->mode == POL_MONITOR)
			gb_ydiag(doc, l->d, x, GB_DIAG_WARNING,
			    "monitor mode is on: the policy denies nothing "
			    "(set mode: enforce when done)");
	}
	parse_tz(l, doc, gb_ymap_get(n, "timezone"), &set->tz_min, &set->tz);
	if ((x = gb_ymap_get(n, "unknown_country")) != NULL &&
	    gb_yenum(doc, l->d, x, "unknown_country", allow_deny, &e) == 0)
		set->unknown_deny = e == 1;
	if ((x = gb_ymap_get(n, "max_body")) != NULL &&
	    gb_ysize(doc, l->d, x, "max_body", 0, 1ULL << 40, &v) == 0)
		set->max_body = v;
}

static void
parse_lists(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *root)
{
	const struct gb_ynode *x;
	size_t i;

	if (is_seq(l, doc, x = gb_ymap_get(root, "consumers"), "consumers"))
		for (i = 0; i < x->len && !FULL(l); i++)
			parse_consumer(l, doc, x->items[i]);
	if (is_seq(l, doc, x = gb_ymap_get(root, "routes"), "routes"))
		for (i = 0; i < x->len && !FULL(l); i++)
			parse_route(l, doc, x->items[i]);
}

/* An included file holds consumers and routes; the rest is the main's. */
static int
main_only(struct ld *l, const struct gb_ydoc *doc)
{
	const struct gb_ynode *root = doc->root;
	const char *hint;
	size_t i;

	if (gb_yexpect(doc, l->d, root, "included policy file", GB_Y_MAP) ==
	    -1)
		return -1;
	for (i = 0; i < root->len; i++) {
		const struct gb_ynode *key = root->pairs[i].key;

		if (strcmp(key->str, "consumers") == 0 ||
		    strcmp(key->str, "routes") == 0)
			continue;
		if (strcmp(key->str, "version") == 0 ||
		    strcmp(key->str, "settings") == 0 ||
		    strcmp(key->str, "network") == 0 ||
		    strcmp(key->str, "include") == 0)
			gb_ydiag(doc, l->d, key, GB_DIAG_ERROR,
			    "%s: only the main policy file may set it",
			    key->str);
		else if ((hint = gb_did_you_mean(key->str, inc_keys)) != NULL)
			gb_ydiag(doc, l->d, key, GB_DIAG_ERROR,
			    "unknown key \"%s\" in included policy file (did "
			    "you mean \"%s\"?)", key->str, hint);
		else
			gb_ydiag(doc, l->d, key, GB_DIAG_ERROR,
			    "unknown key \"%s\" in included policy file",
			    key->str);
	}
	return 0;
}

static int
keep_doc(struct ld *l, struct gb_ydoc *doc)
{
	struct gb_ydoc **nd;

	if ((nd = reallocarray(l->docs, l->ndocs + 1, sizeof(*nd))) == NULL) {
		gb_ydoc_free(doc);
		oom(l, NULL);
		return -1;
	}
	l->docs = nd;
	l->docs[l->ndocs++] = doc;
	return 0;
}

static void
load_includes(struct ld *l, const struct gb_ydoc *doc,
    const struct gb_ynode *inc, const char *mainpath)
{
	char pat[PATH_MAX], mainreal[PATH_MAX], real[PATH_MAX];
	const char *s, *slash;
	struct gb_ydoc *idoc;
	glob_t g;
	size_t i, j, total = 0;
	int rc;

	if (inc->type == GB_Y_SCALAR) {
		gb_ydiag(doc, l->d, inc, GB_DIAG_ERROR,
		    "include: expected a sequence of glob patterns");
		return;
	}
	if (gb_yexpect(doc, l->d, inc, "include", GB_Y_SEQ) == -1)
		return;
	if (l->from_mem) {
		gb_ydiag(doc, l->d, inc, GB_DIAG_ERROR,
		    "include: not available when the policy is loaded from "
		    "memory");
		return;
	}
	if (realpath(mainpath, mainreal) == NULL)
		mainreal[0] = '\0';
	slash = strrchr(mainpath, '/');
	for (i = 0; i < inc->len && !FULL(l); i++) {
		if (gb_ystr(doc, l->d, inc->items[i], "include", &s) == -1)
			continue;
		if (s[0] == '/' || slash == NULL)
			rc = snprintf(pat, sizeof(pat), "%s", s);
		else
			rc = snprintf(pat, sizeof(pat), "%.*s/%s",
			    (int)(slash - mainpath), mainpath, s);
		if (rc < 0 || (size_t)rc >= sizeof(pat)) {
			gb_ydiag(doc, l->d, inc->items[i], GB_DIAG_ERROR,
			    "include: pattern too long");
			continue;
		}
		rc = glob(pat, GLOB_ERR, NULL, &g);
		if (rc == GLOB_NOMATCH) {
			gb_ydiag(doc, l->d, inc->items[i], GB_DIAG_WARNING,
			    "include: \"%s\" matches no file", s);
			continue;
		}
		if (rc != 0) {
			gb_ydiag(doc, l->d, inc->items[i], GB_DIAG_ERROR,
			    "include: cannot read \"%s\"", s);
			globfree(&g);
			continue;
		}
		for (j = 0; j < g.gl_pathc && !FULL(l); j++) {
			if (realpath(g.gl_pathv[j], real) != NULL &&
			    strcmp(real, mainreal) == 0)
				continue;	/* "*.yaml" next to the main file */
			if (++total > MAX_INCLUDED) {
				gb_ydiag(doc, l->d, inc->items[i],
				    GB_DIAG_ERROR, "include: more than %d "
				    "files", MAX_INCLUDED);
				break;
			}
			idoc = NULL;
			if (gb_yaml_load_file(g.gl_pathv[j], NULL, &idoc,
			    l->d) == -1 || keep_doc(l, idoc) == -1)
				continue;
			if (idoc->root == NULL)
				continue;
			if (main_only(l, idoc) == -1)
				continue;
			parse_lists(l, idoc, idoc->root);
		}
		globfree(&g);
	}
}

static void
parse_main(struct ld *l, const struct gb_ydoc *doc, const char *path)
{
	const struct gb_ynode *root = doc->root, *x;
	long long ver;

	if (root == NULL)
		return;
	if (gb_ymap_check(doc, l->d, root, "policy file", main_keys) == -1 &&
	    root->type != GB_Y_MAP)
		return;
	if ((x = gb_ymap_get(root, "version")) != NULL)
		gb_yint(doc, l->d, x, "version", 1, 1, &ver);
	/* Settings first: the defaults they set apply to every route. */
	if ((x = gb_ymap_get(root, "settings")) != NULL)
		parse_settings(l, doc, x);
	if ((x = gb_ymap_get(root, "network")) != NULL)
		l->set->net = parse_net(l, doc, x, "network");
	parse_lists(l, doc, root);
	if ((x = gb_ymap_get(root, "include")) != NULL)
		load_includes(l, doc, x, path);
}

/* ---- whole-policy checks and compile ---- */

static void
check_dups(struct ld *l)
{
	struct pol_set *set = l->set;
	struct ld_pos *p, *q;
	uint32_t prev;
	size_t i;

	if (pol_htab_init(&set->ckeys, set->nconsumers) == -1 ||
	    pol_htab_init(&set->rkeys, set->nroutes) == -1) {
		oom(l, NULL);
		return;
	}
	for (i = 0; i < set->nconsumers; i++) {
		const char *id = set->consumers[i].id;

		prev = pol_htab_put(&set->ckeys, pol_hash(1, id, strlen(id)), id,
		    (uint32_t)strlen(id), 0, (uint32_t)i);
		if (prev == POL_NONE)
			continue;
		if (prev == POL_NONE - 1) {
			oom(l, NULL);
			return;
		}
		p = &l->cpos[i];
		q = &l->cpos[prev];
		gb_ydiag(p->doc, l->d, gb_ymap_get(p->node, "id"),
		    GB_DIAG_ERROR, "duplicate consumer id \"%s\" (first at "
		    "%s:%u:%u)", id, q->doc->file, q->node->line,
		    q->node->col);
	}
	for (i = 0; i < set->nroutes; i++) {
		const char *id = set->routes[i].id;

		prev = pol_htab_put(&set->rkeys, pol_hash(2, id, strlen(id)), id,
		    (uint32_t)strlen(id), 0, (uint32_t)i);
		if (prev == POL_NONE)
			continue;
		if (prev == POL_NONE - 1) {
			oom(l, NULL);
			return;
		}
		p = &l->rpos[i];
		q = &l->rpos[prev];
		gb_ydiag(p->doc, l->d, gb_ymap_get(p->node, "id"),
		    GB_DIAG_ERROR, "duplicate route id \"%s\" (first at "
		    "%s:%u:%u)", id, q->doc->file, q->node->line,
		    q->node->col);
	}
}

static uint32_t
consumer_by_id(const struct pol_set *set, const char *id)
{
	return pol_htab_get(&set->ckeys, pol_hash(1, id, strlen(id)), id,
	    (uint32_t)strlen(id), 0);
}

/* Consumer ids as a NULL-terminated list for "did you mean". */
static const char **
consumer_names(struct ld *l)
{
	const char **v;
	size_t i;

	if ((v = calloc(l->set->nconsumers + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < l->set->nconsumers; i++)
		v[i] = l->set->consumers[i].id;
	return v;
}

static void
unknown_ref(struct ld *l, const struct gb_ydoc *doc, const struct gb_ynode *n,
    const char *what, const char *s, const char *const *known)
{
	const char *hint = known ? gb_did_you_mean(s, known) : NULL;

	if (hint != NULL)
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR,
		    "unknown %s \"%s\" (did you mean \"%s\"?)", what, s, hint);
	else
		gb_ydiag(doc, l->d, n, GB_DIAG_ERROR, "unknown %s \"%s\"",
		    what, s);
}

static void
resolve_refs(struct ld *l)
{
	struct pol_set *set = l->set;
	const struct gb_ynode *x;
	const char **names;
	const char *s;
	size_t i, j, k, m;
	uint32_t ci;

	set->bitwords = (set->nconsumers + 63) / 64;
	if (set->bitwords == 0)
		set->bitwords = 1;
	names = consumer_names(l);
	for (i = 0; i < set->nroutes && !FULL(l); i++) {
		struct pol_route *r = &set->routes[i];
		const struct ld_pos *p = &l->rpos[i];
		bool any = false;

		if ((r->allowed = pa_alloc(set, set->bitwords *
		    sizeof(uint64_t))) == NULL) {
			oom(l, p->doc);
			break;
		}
		x = gb_ymap_get(p->node, "consumers");
		for (j = 0; x != NULL && x->type == GB_Y_SEQ && j < x->len;
		    j++) {
			if (gb_ystr(p->doc, l->d, x->items[j], "consumers",
			    &s) == -1)
				continue;
			if (strcmp(s, "*") == 0) {
				r->all = any = true;
				gb_ydiag(p->doc, l->d, x->items[j],
				    GB_DIAG_WARNING, "route \"%s\" is open to "
				    "every consumer", r->id);
				continue;
			}
			if ((ci = consumer_by_id(set, s)) == POL_NONE) {
				unknown_ref(l, p->doc, x->items[j], "consumer",
				    s, names);
				continue;
			}
			r->allowed[ci / 64] |= 1ULL << (ci % 64);
			any = true;
		}
		x = gb_ymap_get(p->node, "groups");
		for (j = 0; x != NULL && x->type == GB_Y_SEQ && j < x->len;
		    j++) {
			if (gb_ystr(p->doc, l->d, x->items[j], "groups",
			    &s) == -1)
				continue;
			for (k = 0; k < l->ngroups; k++)
				if (strcmp(l->groups[k], s) == 0)
					break;
			if (k == l->ngroups) {
				unknown_ref(l, p->doc, x->items[j], "group", s,
				    l->groups);
				continue;
			}
			any = true;
			for (k = 0; k < set->nconsumers; k++)
				for (m = 0; m < set->consumers[k].ngroups; m++)
					if (strcmp(set->consumers[k].groups[m],
					    s) == 0)
						r->allowed[k / 64] |=
						    1ULL << (k % 64);
		}
		if (r->public) {
			any = true;
			gb_ydiag(p->doc, l->d, gb_ymap_get(p->node, "public"),
			    GB_DIAG_WARNING, "route \"%s\" is public: no "
			    "identity is required", r->id);
		}
		if (!any)
			gb_ydiag(p->doc, l->d, p->node, GB_DIAG_WARNING,
			    "route \"%s\" allows no consumer: every request "
			    "to it is denied", r->id);
		if (l->o->upstreams != NULL && r->upstream != NULL) {
			for (k = 0; l->o->upstreams[k] != NULL; k++)
				if (strcmp(l->o->upstreams[k], r->upstream) ==
				    0)
					break;
			if (l->o->upstreams[k] == NULL)
				unknown_ref(l, p->doc, gb_ymap_get(p->node,
				    "upstream"), "upstream", r->upstream,
				    l->o->upstreams);
		}
	}
	free(names);
}

/* The child of parent for seg[0..n), creating it when create is set. */
static uint32_t
tnode_child(struct ld *l, uint32_t parent, const char *seg, size_t n)
{
	struct pol_set *set = l->set;
	struct pol_tnode *nn;
	uint64_t h = pol_hash(parent, seg, n);
	uint32_t got, idx;
	char *copy;

	got = pol_htab_get(&set->edges, h, seg, (uint32_t)n, parent);
	if (got != POL_NONE)
		return got;
	if ((nn = reallocarray(set->nodes, set->nnodes + 1, sizeof(*nn))) ==
	    NULL)
		return POL_NONE;
	set->nodes = nn;
	idx = (uint32_t)set->nnodes;
	memset(&nn[idx], 0, sizeof(nn[idx]));
	if ((copy = pa_alloc(set, n + 1)) == NULL)
		return POL_NONE;
	memcpy(copy, seg, n);
	if (pol_htab_put(&set->edges, h, copy, (uint32_t)n, parent, idx) !=
	    POL_NONE)
		return POL_NONE;
	set->nnodes++;
	return idx;
}

static int
list_add(uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
{
	uint32_t *nv;

	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 2;

		if ((nv = reallocarray(*v, c, sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static void
add_route(struct ld *l, struct pol_route *r)
{
	struct pol_set *set = l->set;
	const struct ld_pos *p = &l->rpos[r->idx];
	struct pol_tnode *t;
	const char *s, *e, *end;
	uint32_t node, *list, nlist, i;
	unsigned taken = 0;
	char mb[64];

	if (r->host == NULL)
		node = POL_TANY;
	else
		node = tnode_child(l, POL_TROOT, r->host, strlen(r->host));
	/* Segments after the leading '/'; a prefix drops trailing '/'. */
	s = r->path + 1;
	end = r->path + strlen(r->path);
	if (!r->exact)
		while (end > s && end[-1] == '/')
			end--;
	while (node != POL_NONE && (r->exact ? s <= end : s < end)) {
		e = memchr(s, '/', (size_t)(end - s));
		if (e == NULL)
			e = end;
		node = tnode_child(l, node, s, (size_t)(e - s));
		s = e + 1;
	}
	if (node == POL_NONE) {
		oom(l, p->doc);
		return;
	}
	t = &set->nodes[node];
	list = r->exact ? t->exact : t->prefix;
	nlist = r->exact ? t->nexact : t->nprefix;
	for (i = 0; i < nlist; i++)
		taken |= set->routes[list[i]].methods;
	for (i = 0; i < nlist; i++) {
		const struct pol_route *q = &set->routes[list[i]];
		const struct ld_pos *qp = &l->rpos[q->idx];

		if ((r->methods & ~taken) == 0) {
			gb_ydiag(p->doc, l->d, p->node, GB_DIAG_ERROR,
			    "route \"%s\" is shadowed by route \"%s\" at "
			    "%s:%u:%u (same host and %s; every method it "
			    "names is taken earlier)", r->id, q->id,
			    qp->doc->file, qp->node->line, qp->node->col,
			    r->exact ? "path" : "prefix");
			return;
		}
		if (r->methods & q->methods)
			gb_ydiag(p->doc, l->d, p->node, GB_DIAG_WARNING,
			    "route \"%s\": %s already taken by route \"%s\" "
			    "(same host and %s)", r->id,
			    pol_methods_str(r->methods & q->methods, mb,
			    sizeof(mb)), q->id, r->exact ? "path" : "prefix");
	}
	if (r->exact) {
		if (list_add(&t->exact, &t->nexact, &t->ncap_exact,
		    r->idx) == -1) {
			oom(l, p->doc);
			return;
		}
		t->emask |= r->methods;
	} else {
		if (list_add(&t->prefix, &t->nprefix, &t->ncap_prefix,
		    r->idx) == -1) {
			oom(l, p->doc);
			return;
		}
		t->pmask |= r->methods;
	}
}

static void
build_trie(struct ld *l)
{
	struct pol_set *set = l->set;
	size_t i;

	if (pol_htab_init(&set->edges, set->nroutes * 4 + 16) == -1 ||
	    (set->nodes = calloc(2, sizeof(*set->nodes))) == NULL) {
		oom(l, NULL);
		return;
	}
	set->nnodes = 2;
	for (i = 0; i < set->nroutes && !FULL(l); i++)
		if (set->routes[i].path != NULL && !l->rpos[i].bad)
			add_route(l, &set->routes[i]);
}

static void
check_geo(struct ld *l, const char *file)
{
	const char *why;

	if (l->o->geoip_db != NULL) {
		if (pol_geo_open(l->set, l->o->geoip_db, &why) == -1)
			gb_diag_add(l->d, GB_DIAG_ERROR, file, 0, 0,
			    "cannot open GeoIP database \"%s\": %s",
			    l->o->geoip_db, why);
		return;
	}
	if (l->countries.node != NULL)
		gb_ydiag(l->countries.doc, l->d, l->countries.node,
		    GB_DIAG_ERROR, "countries: needs a GeoIP database (none "
		    "is configured)");
}

void
pol_set_free(struct pol_set *set)
{
	struct pol_arena *a, *next;
	size_t i;

	if (set == NULL)
		return;
	if (set->net != NULL) {
		pol_cidrset_free(&set->net->allow);
		pol_cidrset_free(&set->net->deny);
	}
	for (i = 0; i < set->nroutes; i++) {
		if (set->routes[i].net != NULL) {
			pol_cidrset_free(&set->routes[i].net->allow);
			pol_cidrset_free(&set->routes[i].net->deny);
		}
	}
	for (i = 0; i < set->nnodes; i++) {
		free(set->nodes[i].prefix);
		free(set->nodes[i].exact);
	}
	free(set->nodes);
	pol_htab_free(&set->ids);
	pol_htab_free(&set->ckeys);
	pol_htab_free(&set->rkeys);
	pol_htab_free(&set->edges);
	pol_geo_close(set);
	EVP_MD_free((EVP_MD *)set->sha256);
	free(set->consumers);
	free(set->routes);
	for (a = set->arena; a != NULL; a = next) {
		next = a->next;
		free(a);
	}
	free(set);
}

size_t
pol_set_nconsumers(const struct pol_set *set)
{
	return set->nconsumers;
}

size_t
pol_set_nroutes(const struct pol_set *set)
{
	return set->nroutes;
}

const char *
pol_set_route_id(const struct pol_set *set, size_t i)
{
	return i < set->nroutes ? set->routes[i].id : NULL;
}

const char *
pol_set_route_upstream(const struct pol_set *set, size_t i)
{
	return i < set->nroutes ? set->routes[i].upstream : NULL;
}

static int
load_common(const char *path, const char *name, const void *p, size_t n,
    const struct pol_load_opts *o, struct pol_set **out, struct gb_diags *d)
{
	static const struct pol_load_opts none;
	struct gb_ydoc *doc = NULL;
	struct pol_set *set;
	struct ld l;
	size_t errs = d->nerrors + d->dropped, i;
	int rc;

	*out = NULL;
	memset(&l, 0, sizeof(l));
	l.d = d;
	l.o = o ? o : &none;
	l.from_mem = path == NULL;
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		gb_diag_add(d, GB_DIAG_ERROR, path ? path : name, 0, 0,
		    "out of memory");
		return -1;
	}
	l.set = set;
	set->mode = POL_ENFORCE;
	set->tz_min = 420;
	set->tz = "Asia/Jakarta";
	set->unknown_deny = true;
	if (pol_htab_init(&set->ids, 64) == -1) {
		free(set);
		gb_diag_add(d, GB_DIAG_ERROR, path ? path : name, 0, 0,
		    "out of memory");
		return -1;
	}
	if (path != NULL)
		rc = gb_yaml_load_file(path, NULL, &doc, d);
	else
		rc = gb_yaml_load_mem(name, p, n, NULL, &doc, d);
	if (rc == 0 && keep_doc(&l, doc) == 0) {
		parse_main(&l, doc, path);
		if (!FULL(&l))
			check_dups(&l);
		if (!FULL(&l))
			resolve_refs(&l);
		if (!FULL(&l))
			build_trie(&l);
		if (!FULL(&l))
			check_geo(&l, doc->file);
	}
	if (d->nerrors + d->dropped == errs && !l.nomem) {
		set->sha256 = (struct evp_md_st *)EVP_MD_fetch(NULL, "SHA256",
		    NULL);
		if (set->sha256 == NULL)
			gb_diag_add(d, GB_DIAG_ERROR, path ? path : name, 0,
			    0, "cannot load SHA-256 from libcrypto");
	}
	for (i = 0; i < l.ndocs; i++)
		gb_ydoc_free(l.docs[i]);
	free(l.docs);
	free(l.cpos);
	free(l.rpos);
	free(l.groups);
	if (d->nerrors + d->dropped != errs || l.nomem) {
		pol_set_free(set);
		return -1;
	}
	*out = set;
	return 0;
}

int
pol_set_load(const char *path, const struct pol_load_opts *o,
    struct pol_set **out, struct gb_diags *d)
{
	return load_common(path, path, NULL, 0, o, out, d);
}

int
pol_set_load_mem(const char *name, const void *p, size_t n,
    const struct pol_load_opts *o, struct pol_set **out, struct gb_diags *d)
{
	return load_common(NULL, name, p, n, o, out, d);
}
