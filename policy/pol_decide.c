/*
 * pol_decide: one request against the compiled policy, in the order pol.h
 * documents; pol_explain() runs the same code with a trace buffer.
 * Allocation-free: lookups are hash tables, the path trie and bisection.
 */
#include "policy/pol_int.h"
#include "core/gb_buf.h"

#include <openssl/evp.h>

#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_HOST	255

struct dctx {
	const struct pol_set	*set;
	struct pol_state	*st;
	const struct pol_request *req;
	struct pol_decision	*dec;
	struct gb_buf		*ex;		/* explain, or NULL */
	bool			 monitor;
	bool			 stop;		/* denied for real */
};

static void
ex_printf(struct dctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Explain lines: the arguments are not even evaluated when deciding. */
#define ex(c, ...) do {							\
	if ((c)->ex != NULL)						\
		ex_printf((c), __VA_ARGS__);				\
} while (0)

static void
ex_printf(struct dctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gb_buf_vprintf(c->ex, fmt, ap);
	va_end(ap);
	gb_buf_putc(c->ex, '\n');
}

/*
 * A check failed. Enforce: the decision is made (returns true: stop).
 * Monitor: remember the first such check and carry on.
 */
static bool
deny(struct dctx *c, int status, const char *rule, const char *reason,
    unsigned retry)
{
	struct pol_decision *d = c->dec;

	ex(c, "  -> %s %d (%s: %s)%s", c->monitor ? "would deny" : "deny",
	    status, rule, reason, c->monitor ? ", monitor mode" : "");
	if (d->would_deny)
		return false;
	d->status = status;
	d->rule = rule;
	d->reason = reason;
	d->retry_after = retry;
	if (c->monitor) {
		d->would_deny = true;
		return false;
	}
	d->allow = false;
	c->stop = true;
	return true;
}

static bool
cbit(const uint64_t *bits, int idx)
{
	return (bits[idx / 64] >> (idx % 64)) & 1;
}

/* Network rules; true when they deny (and the decision stops). */
static bool
check_net(struct dctx *c, const struct pol_net *net, const struct pol_addr *a,
    bool have_addr, const char *rule)
{
	const struct pol_cidr *w;
	char as[64];
	int cc;

	if (!have_addr) {
		ex(c, "%s network: no peer address", rule);
		return deny(c, 403, rule, "no peer address", 0);
	}
	if (c->ex)
		pol_addr_str(a, as, sizeof(as));
	if ((net->deny.n4 || net->deny.n6) && pol_cidrset_has(&net->deny, a)) {
		if (c->ex) {
			w = pol_cidrset_which(&net->deny, a);
			ex(c, "%s network: %s in deny list (%s)", rule, as,
			    w ? w->text : "?");
		}
		return deny(c, 403, rule, "address in deny list", 0);
	}
	if (net->allow.nsrc) {
		if (!pol_cidrset_has(&net->allow, a)) {
			ex(c, "%s network: %s not in allow list", rule, as);
			return deny(c, 403, rule, "address not in allow list",
			    0);
		}
		if (c->ex) {
			w = pol_cidrset_which(&net->allow, a);
			ex(c, "%s network: %s in allow list (%s)", rule, as,
			    w ? w->text : "?");
		}
	} else if (net->deny.nsrc)
		ex(c, "%s network: %s not in deny list", rule, as);
	if (!net->countries)
		return false;
	cc = pol_geo_lookup(c->set, a);
	if (cc < 0) {
		ex(c, "%s countries: %s has no known country: unknown %s",
		    rule, as, net->unknown_deny ? "deny" : "allow");
		if (net->unknown_deny)
			return deny(c, 403, rule, "unknown country", 0);
		return false;
	}
	if (cbit(net->cdeny, cc)) {
		ex(c, "%s countries: %c%c in deny list", rule, 'A' + cc / 26,
		    'A' + cc % 26);
		return deny(c, 403, rule, "country in deny list", 0);
	}
	if (!net->callow_any && !cbit(net->callow, cc)) {
		ex(c, "%s countries: %c%c not in allow list", rule,
		    'A' + cc / 26, 'A' + cc % 26);
		return deny(c, 403, rule, "country not in allow list", 0);
	}
	ex(c, "%s countries: %c%c allowed", rule, 'A' + cc / 26,
	    'A' + cc % 26);
	return false;
}

/* The host without port, lower case, into buf; its length or 0. */
static size_t
norm_host(const char *h, size_t n, char *buf)
{
	size_t i, colon = SIZE_MAX, ncolon = 0;

	if (h == NULL || n == 0)
		return 0;
	if (h[0] == '[') {
		for (i = 1; i < n && h[i] != ']'; i++)
			;
		if (i == n)
			return 0;
		n = i + 1;
	} else {
		for (i = 0; i < n; i++)
			if (h[i] == ':') {
				colon = i;
				ncolon++;
			}
		if (ncolon == 1)
			n = colon;
		else if (ncolon > 1)
			return 0;
		if (n > 0 && h[n - 1] == '.')
			n--;
	}
	if (n == 0 || n > MAX_HOST)
		return 0;
	for (i = 0; i < n; i++)
		buf[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' :
		    h[i]);
	return n;
}

/*
 * Walk the trie under root along path: the deepest prefix route, or an
 * exact route, that takes method bit m. *pathonly gets a route that matches
 * the path but not the method.
 */
static uint32_t
walk(const struct pol_set *set, uint32_t root, const char *path, size_t plen,
    unsigned m, uint32_t *pathonly)
{
	const struct pol_tnode *t;
	const char *s = path + 1, *end = path + plen, *e;
	uint32_t node = root, best = POL_NONE, i, child;

	for (;;) {
		t = &set->nodes[node];
		if (t->pmask & m) {
			for (i = 0; i < t->nprefix; i++)
				if (set->routes[t->prefix[i]].methods & m) {
					best = t->prefix[i];
					break;
				}
		} else if (t->nprefix)
			*pathonly = t->prefix[0];
		if (s > end) {
			if (t->emask & m) {
				for (i = 0; i < t->nexact; i++)
					if (set->routes[t->exact[i]].methods &
					    m)
						return t->exact[i];
			} else if (t->nexact)
				*pathonly = t->exact[0];
			break;
		}
		if ((e = memchr(s, '/', (size_t)(end - s))) == NULL)
			e = end;
		child = pol_htab_get(&set->edges, pol_hash(node, s,
		    (size_t)(e - s)), s, (uint32_t)(e - s), node);
		if (child == POL_NONE)
			break;
		node = child;
		s = e + 1;
	}
	return best;
}

static uint32_t
find_route(struct dctx *c, unsigned m, uint32_t *pathonly)
{
	const struct pol_set *set = c->set;
	const struct pol_request *req = c->req;
	char host[MAX_HOST + 1];
	const char *q;
	size_t hn, plen = req->path_len;
	uint32_t root, r = POL_NONE, anyonly = POL_NONE;

	*pathonly = POL_NONE;
	if (req->path == NULL || plen == 0 || req->path[0] != '/')
		return POL_NONE;
	if ((q = memchr(req->path, '?', plen)) != NULL)
		plen = (size_t)(q - req->path);
	hn = norm_host(req->host, req->host_len, host);
	if (hn > 0) {
		root = pol_htab_get(&set->edges, pol_hash(POL_TROOT, host, hn),
		    host, (uint32_t)hn, POL_TROOT);
		if (root != POL_NONE)
			r = walk(set, root, req->path, plen, m, pathonly);
	}
	if (r == POL_NONE) {
		/* A host route that matched the path names the 403. */
		r = walk(set, POL_TANY, req->path, plen, m, &anyonly);
		if (*pathonly == POL_NONE)
			*pathonly = anyonly;
	}
	return r;
}

static uint32_t
identify(struct dctx *c, bool *presented, bool *conflict)
{
	const struct pol_set *set = c->set;
	const struct pol_request *req = c->req;
	uint32_t who = POL_NONE, v;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t n;

	*presented = *conflict = false;
	if (req->consumer_id != NULL) {
		n = strlen(req->consumer_id);
		*presented = true;
		who = pol_htab_get(&set->ckeys, pol_hash(1, req->consumer_id,
		    n), req->consumer_id, (uint32_t)n, 0);
		ex(c, "identity: consumer id \"%.*s\" given%s",
		    (int)(n > 64 ? 64 : n), req->consumer_id,
		    who == POL_NONE ? ": no such consumer" : "");
	}
#define MERGE(kind, k, klen, what) do {					\
	*presented = true;						\
	v = pol_htab_get(&set->ids, pol_hash((kind), (k), (klen)), (k),	\
	    (uint32_t)(klen), (kind));					\
	ex(c, "identity: %s %s%s%s", what, v == POL_NONE ? "unknown" :	\
	    "is consumer \"", v == POL_NONE ? "" : set->consumers[v].id,	\
	    v == POL_NONE ? "" : "\"");					\
	if (v != POL_NONE) {						\
		if (who != POL_NONE && who != v)			\
			*conflict = true;				\
		who = v;						\
	}								\
} while (0)
	if (req->cert_sha256 != NULL)
		MERGE(POL_IK_FP, req->cert_sha256, 32, "certificate SHA-256");
	if (req->cert_subject != NULL && (n = strlen(req->cert_subject)) > 0)
		MERGE(POL_IK_SUBJ, req->cert_subject, n, "certificate subject");
	if (req->cert_san != NULL && (n = strlen(req->cert_san)) > 0)
		MERGE(POL_IK_SAN, req->cert_san, n, "certificate SAN");
	if (req->api_key != NULL && req->api_key_len > 0) {
		ctx = c->st ? pol_state_mdctx(c->st) : NULL;
		if (ctx != NULL) {
			if (!EVP_DigestInit_ex2(ctx, (const EVP_MD *)set->sha256,
			    NULL) || !EVP_DigestUpdate(ctx, req->api_key,
			    req->api_key_len) || !EVP_DigestFinal_ex(ctx, md,
			    &mdlen))
				mdlen = 0;
		} else if (!EVP_Digest(req->api_key, req->api_key_len, md,
		    &mdlen, (const EVP_MD *)set->sha256, NULL))
			mdlen = 0;
		if (mdlen == 32)
			MERGE(POL_IK_KEY, md, 32, "API key");
		else {
			*presented = true;
			ex(c, "identity: API key could not be hashed");
		}
		explicit_bzero(md, sizeof(md));
	}
#undef MERGE
	return *conflict ? POL_NONE : who;
}

static bool
in_hours(const struct pol_route *r, time_t now, int *minute, int *wday)
{
	int64_t day;
	size_t i;

	pol_localtime(now, r->tz_min, &day, minute, wday);
	for (i = 0; i < r->nwindows; i++) {
		const struct pol_window *w = &r->windows[i];

		if ((w->days & (1u << *wday)) && *minute >= w->from &&
		    *minute < w->to)
			return true;
	}
	return false;
}

static void
run(struct dctx *c)
{
	static const char *const wdays[] = { "sun", "mon", "tue", "wed", "thu",
	    "fri", "sat" };
	const struct pol_set *set = c->set;
	const struct pol_request *req = c->req;
	struct pol_decision *d = c->dec;
	const struct pol_route *r;
	const struct pol_consumer *co = NULL;
	struct pol_addr a;
	struct pol_rl rl;
	uint32_t ri, pathonly, ci;
	bool have_addr, presented, conflict;
	unsigned m;
	int rc, minute, wday;
	char mb[64];

	memset(d, 0, sizeof(*d));
	d->route_index = SIZE_MAX;
	d->allow = true;
	c->monitor = set->mode == POL_MONITOR;
	have_addr = pol_addr_from_sa(req->addr, &a) == 0;

	/* 1. Global network rules. */
	if (set->net != NULL &&
	    check_net(c, set->net, &a, have_addr, "global"))
		return;

	/* Identity is looked up early so every decision can name it. */
	ci = identify(c, &presented, &conflict);
	if (ci != POL_NONE) {
		co = &set->consumers[ci];
		d->consumer = co->id;
		d->quotas = co->quotas;
		d->nquotas = co->nquotas;
	}

	/* 2. Route. */
	m = req->method ? pol_method_bit(req->method, req->method_len) : 0;
	ri = find_route(c, m ? m : POL_M_ALL + 1, &pathonly);
	if (ri == POL_NONE && pathonly != POL_NONE) {
		r = &set->routes[pathonly];
		d->route = r->id;
		d->route_index = pathonly;
		c->monitor = r->mode == POL_MONITOR;
		ex(c, "route: \"%s\" (%s %s) matches the path, not the method "
		    "%.*s (allowed: %s)", r->id, r->exact ? "path" : "prefix",
		    r->path, (int)(req->method_len > 16 ? 16 :
		    req->method_len), req->method ? req->method : "",
		    pol_methods_str(r->methods, mb, sizeof(mb)));
		/* Without a route that takes the method, nothing to forward. */
		c->monitor = false;
		d->would_deny = false;
		d->allow = true;
		deny(c, 403, r->id, "method not allowed", 0);
		return;
	}
	if (ri == POL_NONE) {
		ex(c, "route: none matches host \"%.*s\" path \"%.*s\"",
		    (int)(req->host_len > 255 ? 255 : req->host_len),
		    req->host ? req->host : "",
		    (int)(req->path_len > 255 ? 255 : req->path_len),
		    req->path ? req->path : "");
		c->monitor = false;
		d->would_deny = false;
		d->allow = true;
		deny(c, 404, "default", "no route", 0);
		return;
	}
	r = &set->routes[ri];
	d->route = r->id;
	d->route_index = ri;
	d->upstream = r->upstream;
	c->monitor = r->mode == POL_MONITOR;
	d->max_body = c->monitor ? 0 : r->max_body;
	ex(c, "route: \"%s\" (host %s, %s %s, %s) -> upstream \"%s\"%s",
	    r->id, r->host ? r->host : "*", r->exact ? "path" : "prefix",
	    r->path, pol_methods_str(r->methods, mb, sizeof(mb)), r->upstream,
	    r->mode == POL_MONITOR ? ", monitor mode" : "");

	/* 3. Route network rules. */
	if (r->net != NULL && check_net(c, r->net, &a, have_addr, r->id))
		return;

	/* 4. Hours. */
	if (r->windows != NULL) {
		if (!in_hours(r, req->now, &minute, &wday)) {
			ex(c, "%s hours: %s %02d:%02d %s is outside every "
			    "window", r->id, wdays[wday], minute / 60,
			    minute % 60, r->tz);
			if (deny(c, 403, r->id, "outside the route's hours", 0))
				return;
		} else
			ex(c, "%s hours: %s %02d:%02d %s is inside a window",
			    r->id, wdays[wday], minute / 60, minute % 60,
			    r->tz);
	}

	/* 5. Body size. */
	if (r->max_body && req->body_len > r->max_body) {
		ex(c, "%s max_body: %llu bytes > %llu", r->id,
		    (unsigned long long)req->body_len,
		    (unsigned long long)r->max_body);
		if (deny(c, 413, r->id, "request body too large", 0))
			return;
	}

	/* 6. Identity. */
	if (conflict) {
		ex(c, "identity: credentials name different consumers");
		if (deny(c, 401, "default", "conflicting identities", 0))
			return;
	} else if (co == NULL && !r->public) {
		if (deny(c, 401, r->id, presented ? "unknown identity" :
		    "no identity", 0))
			return;
	}

	/* 7. Consumer. */
	if (co != NULL && co->disabled) {
		ex(c, "consumer \"%s\" is disabled", co->id);
		if (deny(c, 403, co->id, "consumer disabled", 0))
			return;
	}
	if (!r->public && co != NULL && !r->all &&
	    !cbit(r->allowed, (int)co->idx)) {
		ex(c, "%s access: consumer \"%s\" is not allowed", r->id,
		    co->id);
		if (deny(c, 403, r->id, "consumer not allowed on route", 0))
			return;
	} else if (co != NULL)
		ex(c, "%s access: consumer \"%s\" is allowed%s", r->id, co->id,
		    r->public ? " (public route)" : r->all ?
		    " (every consumer)" : "");
	else if (r->public)
		ex(c, "%s access: public route, no identity needed", r->id);

	/* 8. Rate limits (only for requests allowed so far). */
	if (co != NULL && c->st != NULL && !d->would_deny &&
	    (co->limit.rps || co->limit.per_day || r->limit.rps ||
	    r->limit.per_day)) {
		rc = pol_state_take(c->st, set, co, r, req->now, req->now_ms,
		    c->ex == NULL, &rl);
		if (rc == -1) {
			ex(c, "rate limit: counter table full");
			deny(c, 429, co->id, "rate-limit table full", 1);
			return;
		}
		if (rc == 1) {
			ex(c, "rate limit: %s (%llu.%03llu tokens, %llu "
			    "today): retry after %us", rl.reason,
			    (unsigned long long)rl.tokens / 1000,
			    (unsigned long long)rl.tokens % 1000,
			    (unsigned long long)rl.count, rl.retry_after);
			deny(c, 429, rl.consumer ? co->id : r->id, rl.reason,
			    rl.retry_after);
			return;
		}
		ex(c, "rate limit: within limits");
	}
}

static int
bad_args(const struct pol_set *set, struct pol_state *st,
    const struct pol_request *req, struct pol_decision *dec)
{
	if (dec != NULL) {
		memset(dec, 0, sizeof(*dec));
		dec->route_index = SIZE_MAX;
		dec->status = 403;
		dec->rule = "default";
		dec->reason = "bad arguments";
	}
	if (set == NULL || req == NULL || dec == NULL)
		return -1;
	if (st != NULL && pol_state_set(st) != set) {
		dec->reason = "state bound to another policy";
		return -1;
	}
	return 0;
}

int
pol_decide(const struct pol_set *set, struct pol_state *st,
    const struct pol_request *req, struct pol_decision *dec)
{
	struct dctx c;

	if (bad_args(set, st, req, dec) == -1)
		return -1;
	memset(&c, 0, sizeof(c));
	c.set = set;
	c.st = st;
	c.req = req;
	c.dec = dec;
	run(&c);
	return 0;
}

const char *
pol_decision_str(const struct pol_decision *dec)
{
	if (!dec->allow)
		return "deny";
	return dec->would_deny ? "monitor" : "allow";
}

int
pol_explain(const struct pol_set *set, struct pol_state *st,
    const struct pol_request *req, struct gb_buf *out)
{
	struct pol_decision dec;
	struct gb_buf trace;
	struct dctx c;
	int rc;

	if (out == NULL || bad_args(set, st, req, &dec) == -1)
		return -1;
	gb_buf_init(&trace, out->max ? out->max : 1u << 20);
	memset(&c, 0, sizeof(c));
	c.set = set;
	c.st = st;
	c.req = req;
	c.dec = &dec;
	c.ex = &trace;
	run(&c);
	rc = gb_buf_printf(out, "decision: %s", pol_decision_str(&dec));
	if (dec.status)
		rc |= gb_buf_printf(out, " %d (%s: %s)", dec.status, dec.rule,
		    dec.reason);
	if (dec.retry_after)
		rc |= gb_buf_printf(out, " retry-after %u", dec.retry_after);
	rc |= gb_buf_printf(out, "\nconsumer: %s\nroute: %s\nupstream: %s\n",
	    dec.consumer ? dec.consumer : "-", dec.route ? dec.route : "-",
	    dec.upstream ? dec.upstream : "-");
	rc |= gb_buf_append(out, gb_buf_head(&trace), gb_buf_used(&trace));
	gb_buf_free(&trace);
	return rc == 0 ? 0 : -1;
}
