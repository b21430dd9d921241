/*
 * gw_upstream: upstream connections of one worker: balancing (smooth
 * weighted round robin as in nginx, or least connections), the keep-alive
 * pool per server, non-blocking connects, passive health.
 *
 * A pooled idle connection is watched for reading: a close or stray byte
 * from the server removes it from the pool, so a request is rarely sent on
 * a connection the server has just closed (and when it is, gw_conn retries
 * on a fresh one).
 */
#include "gateway/gw.h"
#include "core/gb_log.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPC_BUF_MAX	(256 * 1024)

int
gw_upc_init(struct gw_worker *w)
{
	struct gw_conf *c = w->conf;
	size_t i, n = 0;

	w->server_base = calloc(c->nupstreams + 1, sizeof(*w->server_base));
	if (w->server_base == NULL)
		return -1;
	for (i = 0; i < c->nupstreams; i++) {
		w->server_base[i] = n;
		n += c->upstreams[i].nservers;
	}
	w->server_base[i] = n;
	w->nservers = n;
	w->idle = calloc(n + 1, sizeof(*w->idle));
	w->idle_count = calloc(n + 1, sizeof(*w->idle_count));
	w->cur_weight = calloc(n + 1, sizeof(*w->cur_weight));
	if (w->idle == NULL || w->idle_count == NULL ||
	    w->cur_weight == NULL)
		return -1;
	return 0;
}

static void
upc_free(struct gw_upc *u)
{
	if (u->io.ssl != NULL)
		SSL_free(u->io.ssl);
	if (u->io.fd != -1)
		close(u->io.fd);
	gb_buf_free(&u->in);
	gb_buf_free(&u->out);
	free(u);
}

void
gw_upc_reap(struct gw_worker *w)
{
	struct gw_upc *u;

	while ((u = w->upreap) != NULL) {
		w->upreap = u->next;
		upc_free(u);
	}
}

static void
pool_unlink(struct gw_worker *w, struct gw_upc *u)
{
	if (u->prev != NULL)
		u->prev->next = u->next;
	else
		w->idle[u->srv_index] = u->next;
	if (u->next != NULL)
		u->next->prev = u->prev;
	u->next = u->prev = NULL;
	w->idle_count[u->srv_index]--;
}

void
gw_upc_close(struct gw_upc *u)
{
	struct gw_worker *w = u->w;

	if (u->closed)
		return;
	u->closed = true;
	gb_ev_timer_cancel(w->ev, &u->timer);
	gb_ev_forget(w->ev, u->io.fd);	/* closed by gw_upc_reap() */
	if (u->srv->active > 0 && u->client != NULL)
		u->srv->active--;
	u->client = NULL;
	u->next = w->upreap;
	w->upreap = u;
}

/*
 * Every event of an upstream connection (registered once, edge-triggered):
 * to its client when it has one; an idle pooled one that says something
 * (EOF or junk, either way) is gone.
 */
static void
upc_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct gw_upc *u = arg;
	char b[1];

	(void)ev;
	(void)fd;
	gw_io_event(&u->io, mask);
	if (u->client != NULL) {
		gw_conn_upstream_event(u->client);
		return;
	}
	if (u->closed || !(mask & GB_EV_READ))
		return;
	if (u->io.ssl == NULL && recv(u->io.fd, b, 1, MSG_PEEK) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	pool_unlink(u->w, u);
	gw_upc_close(u);
}

/*
 * The pool's idle timer is not cancelled when a connection leaves the pool
 * nor moved when it comes back (two walks of the timer heap per request):
 * it fires, and a connection in use, or idle for less than upstream_idle,
 * is left alone (and timed again from when it came back).
 */
static void
idle_timeout(struct gb_ev *ev, void *arg)
{
	struct gw_upc *u = arg;
	uint64_t due;

	if (u->client != NULL)
		return;		/* in use; timed again when it comes back */
	due = u->idle_since + u->w->conf->timeouts.upstream_idle;
	if (due > gb_ev_now(ev)) {
		gb_ev_timer_set(ev, &u->timer, due - gb_ev_now(ev));
		return;
	}
	pool_unlink(u->w, u);
	gw_upc_close(u);
}

/*
 * Has the server sent nothing beyond the response? Bytes already taken
 * in (u->in, or records OpenSSL read ahead) say no. Reading stops when the
 * response is whole, so a socket not seen drained (the last read filled
 * what it asked) may still hold more, which would arrive with no new edge
 * and pass for the next request's response: it is asked (MSG_PEEK).
 */
static bool
upc_quiet(struct gw_upc *u)
{
	char b[1];

	if (gb_buf_used(&u->in) > 0 ||
	    (u->io.ssl != NULL && SSL_has_pending(u->io.ssl)))
		return false;
	if (!u->io.rd_ready)
		return true;
	if (recv(u->io.fd, b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		u->io.rd_ready = false;
		return true;
	}
	return false;	/* more bytes, EOF or an error */
}

void
gw_upc_release(struct gw_upc *u, bool reusable)
{
	struct gw_worker *w = u->w;

	if (u->srv->active > 0)
		u->srv->active--;
	u->client = NULL;
	if (!reusable || w->draining || u->up->keepalive == 0 ||
	    w->idle_count[u->srv_index] >= u->up->keepalive ||
	    u->io.eof || u->io.err || !upc_quiet(u)) {
		u->client = NULL;
		/* Not counted in active any more: close without touching it. */
		u->closed = true;
		gb_ev_timer_cancel(w->ev, &u->timer);
		gb_ev_forget(w->ev, u->io.fd);	/* gw_upc_reap() closes */
		u->next = w->upreap;
		w->upreap = u;
		return;
	}
	/* Small buffers stay for the next request; big ones go. */
	if (u->in.cap > 64 * 1024)
		gb_buf_free(&u->in);
	if (u->out.cap > 64 * 1024)
		gb_buf_free(&u->out);
	gb_buf_reset(&u->in);
	gb_buf_reset(&u->out);
	u->sent = 0;
	u->prev = NULL;
	u->next = w->idle[u->srv_index];
	if (u->next != NULL)
		u->next->prev = u;
	w->idle[u->srv_index] = u;
	w->idle_count[u->srv_index]++;
	u->idle_since = gb_ev_now(w->ev);
	if (!gb_ev_timer_armed(&u->timer)) {
		gb_ev_timer_init(&u->timer, idle_timeout, u);
		gb_ev_timer_set(w->ev, &u->timer,
		    w->conf->timeouts.upstream_idle);
	}
}

void
gw_upc_close_idle(struct gw_worker *w)
{
	size_t i;

	for (i = 0; i < w->nservers; i++)
		while (w->idle[i] != NULL) {
			struct gw_upc *u = w->idle[i];

			pool_unlink(w, u);
			gw_upc_close(u);
		}
}

void
gw_upc_fini(struct gw_worker *w)
{
	gw_upc_close_idle(w);
	gw_upc_reap(w);
	free(w->idle);
	free(w->idle_count);
	free(w->server_base);
	free(w->cur_weight);
	w->cur_weight = NULL;
}

bool
gw_server_usable(const struct gw_worker *w, size_t ui, size_t si)
{
	const struct gw_upstream *up = &w->conf->upstreams[ui];
	const struct gw_server *s = &up->servers[si];

	if (s->down_until > gb_ev_now(w->ev) && !w->ignore_passive)
		return false;
	if (up->check_path != NULL &&
	    !w->stats->servers[s->stats_slot].healthy)
		return false;
	return true;
}

void
gw_upc_server_result(struct gw_worker *w, struct gw_upc *u, bool ok)
{
	struct gw_server *s = u->srv;

	if (ok) {
		s->fails = 0;
		s->down_until = 0;
		return;
	}
	__atomic_add_fetch(&w->stats->servers[s->stats_slot].fails, 1,
	    __ATOMIC_RELAXED);
	if (u->up->max_fails > 0 && ++s->fails >= u->up->max_fails) {
		s->down_until = gb_ev_now(w->ev) + u->up->fail_timeout_ms;
		s->fails = 0;
		gb_warn("upstream %s server %s marked down for %llums after "
		    "%u failures", u->up->name, s->name,
		    (unsigned long long)u->up->fail_timeout_ms,
		    u->up->max_fails);
	}
}

static ssize_t
pick(struct gw_worker *w, size_t ui, uint64_t tried)
{
	struct gw_upstream *up = &w->conf->upstreams[ui];
	size_t base = w->server_base[ui], i;
	ssize_t best = -1;
	int64_t total = 0;

	if (up->balance == GW_BALANCE_LEAST_CONN) {
		/* Fewest active per weight; ties go round robin. */
		for (i = 0; i < up->nservers; i++) {
			size_t k = (up->rr + i) % up->nservers;
			struct gw_server *s = &up->servers[k];

			if ((tried >> k) & 1 || !gw_server_usable(w, ui, k))
				continue;
			if (best == -1 || (uint64_t)s->active *
			    up->servers[best].weight < (uint64_t)
			    up->servers[best].active * s->weight)
				best = (ssize_t)k;
		}
		up->rr++;
		return best;
	}
	/* Smooth weighted round robin (nginx). */
	for (i = 0; i < up->nservers; i++) {
		if ((tried >> i) & 1 || !gw_server_usable(w, ui, i))
			continue;
		w->cur_weight[base + i] += up->servers[i].weight;
		total += up->servers[i].weight;
		if (best == -1 || w->cur_weight[base + i] >
		    w->cur_weight[base + (size_t)best])
			best = (ssize_t)i;
	}
	if (best != -1)
		w->cur_weight[base + (size_t)best] -= total;
	return best;
}

static struct gw_upc *
upc_connect(struct gw_worker *w, size_t ui, size_t si)
{
	struct gw_upstream *up = &w->conf->upstreams[ui];
	struct gw_server *s = &up->servers[si];
	struct gw_upc *u;
	int fd, one = 1;

	fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		gb_error("upstream %s: socket: %s", up->name, strerror(errno));
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		close(fd);
		return NULL;
	}
	u->io.fd = fd;
	u->w = w;
	u->up = up;
	u->srv = s;
	u->srv_index = w->server_base[ui] + si;
	gb_buf_init(&u->in, UPC_BUF_MAX);
	gb_buf_init(&u->out, UPC_BUF_MAX + 128 * 1024);
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		/* Refused at once (local): report as a failed connect. */
		u->io.err = true;
	}
	u->connecting = true;
	if (gb_ev_add(w->ev, fd, GB_EV_READ | GB_EV_WRITE | GB_EV_EDGE,
	    upc_event, u) == -1) {
		upc_free(u);
		return NULL;
	}
	if (up->tls && up->tls_ctx != NULL) {
		if ((u->io.ssl = SSL_new(up->tls_ctx)) == NULL ||
		    gw_io_ssl_attach(&u->io) == -1) {
			gb_ev_del(w->ev, fd);
			upc_free(u);
			return NULL;
		}
		SSL_set_connect_state(u->io.ssl);
		SSL_set_tlsext_host_name(u->io.ssl,
		    up->tls_sni ? up->tls_sni : s->host);
		if (up->tls_verify)
			SSL_set1_host(u->io.ssl,
			    up->tls_sni ? up->tls_sni : s->host);
		u->handshaking = true;
	}
	return u;
}

struct gw_upc *
gw_upc_get(struct gw_worker *w, size_t ui, uint64_t tried, size_t *srv_index)
{
	struct gw_upc *u;
	ssize_t si;

	/*
	 * When passive health has every server down, try them anyway (as
	 * nginx does): refusing all traffic for fail_timeout after a blip
	 * hurts more than one more attempt. Active checks still count.
	 */
	if ((si = pick(w, ui, tried)) == -1) {
		w->ignore_passive = true;
		si = pick(w, ui, tried);
		w->ignore_passive = false;
		if (si == -1)
			return NULL;
	}
	*srv_index = (size_t)si;
	if ((u = w->idle[w->server_base[ui] + (size_t)si]) != NULL) {
		pool_unlink(w, u);	/* its timer stays (idle_timeout()) */
		u->reused = true;
	} else if ((u = upc_connect(w, ui, (size_t)si)) == NULL)
		return NULL;
	else
		u->reused = false;
	u->srv->active++;
	u->sent = 0;
	return u;
}
