/*
 * gw_health: active health checks. For each upstream with a check: block,
 * every interval each server gets a new connection (TLS when the upstream
 * uses TLS), "GET path" and must answer 2xx or 3xx within the timeout.
 * Two failures in a row mark a server down, one success marks it up;
 * changes are logged and shown in /metrics (gerbang_upstream_server_up).
 * Run by the first worker of the current generation only.
 */
#include "gateway/gw.h"
#include "core/gb_log.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FALL	2	/* failures before down */

struct check {
	struct gw_health	*h;
	struct gw_upstream	*up;
	struct gw_server	*srv;
	struct gw_io		 io;
	struct gb_buf		 in;
	struct gb_buf		 out;
	struct gb_ev_timer	 timer;		/* next check / timeout */
	bool			 running;
	bool			 connecting;
	bool			 handshaking;
	unsigned		 fails;
};

struct gw_health {
	struct gw_worker	*w;
	struct check		*checks;
	size_t			 n;
};

static void check_timer(struct gb_ev *ev, void *arg);

static void
check_done(struct check *k, bool ok, const char *why)
{
	struct gw_worker *w = k->h->w;
	struct gw_stats_server *ss = &w->stats->servers[k->srv->stats_slot];

	if (k->io.fd != -1) {
		gb_ev_del(w->ev, k->io.fd);
		if (k->io.ssl != NULL)
			SSL_free(k->io.ssl);
		close(k->io.fd);
	}
	k->io.fd = -1;
	k->io.ssl = NULL;
	gb_buf_free(&k->in);
	gb_buf_free(&k->out);
	k->running = false;
	if (ok) {
		k->fails = 0;
		if (!ss->healthy)
			gb_notice("upstream %s server %s is up (health check "
			    "passed)", k->up->name, k->srv->name);
		ss->healthy = 1;
	} else if (++k->fails >= FALL && ss->healthy) {
		gb_warn("upstream %s server %s is down: %s", k->up->name,
		    k->srv->name, why);
		ss->healthy = 0;
	}
	gb_ev_timer_set(w->ev, &k->timer, k->up->check_interval_ms);
}

static void
check_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct check *k = arg;
	struct gb_http_resp resp;
	uint8_t *p;
	ssize_t n;
	int rc;

	(void)ev;
	gw_io_event(&k->io, mask);
	if (k->connecting) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			check_done(k, false, soerr ? strerror(soerr) :
			    "connect failed");
			return;
		}
		k->connecting = false;
	}
	if (k->handshaking) {
		ERR_clear_error();
		if ((rc = SSL_do_handshake(k->io.ssl)) != 1) {
			int e = SSL_get_error(k->io.ssl, rc);

			if (e == SSL_ERROR_WANT_READ) {
				gb_ev_mod(k->h->w->ev, fd, GB_EV_READ);
				return;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				gb_ev_mod(k->h->w->ev, fd, GB_EV_WRITE);
				return;
			}
			check_done(k, false, "TLS handshake failed");
			return;
		}
		k->handshaking = false;
		k->io.wr_ready = k->io.rd_ready = true;
	}
	while (gb_buf_used(&k->out) > 0) {
		n = gw_io_write(&k->io, gb_buf_head(&k->out),
		    gb_buf_used(&k->out));
		if (n < 0) {
			check_done(k, false, "write failed");
			return;
		}
		if (n == 0)
			break;
		gb_buf_consume(&k->out, (size_t)n);
	}
	for (;;) {
		if ((p = gb_buf_reserve(&k->in, 1024)) == NULL) {
			check_done(k, false, "response head too large");
			return;
		}
		n = gw_io_read(&k->io, p, 1024);
		if (n <= 0)
			break;
		gb_buf_commit(&k->in, (size_t)n);
	}
	memset(&resp, 0, sizeof(resp));
	n = gb_http_parse_response((const char *)gb_buf_head(&k->in),
	    gb_buf_used(&k->in), &resp, NULL, GB_HTTP_STRICT, GB_HTTP_GET);
	if (n > 0) {
		char why[64];

		snprintf(why, sizeof(why), "status %d", resp.status);
		check_done(k, resp.status >= 200 && resp.status < 400, why);
		return;
	}
	if (n < 0 || k->io.eof || k->io.err) {
		check_done(k, false, n < 0 ? "malformed response" :
		    "connection closed");
		return;
	}
	gb_ev_mod(k->h->w->ev, fd, gw_io_interest(&k->io, true,
	    gb_buf_used(&k->out) > 0));
}

static void
check_start(struct check *k)
{
	struct gw_worker *w = k->h->w;
	int fd;

	fd = socket(k->srv->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		gb_ev_timer_set(w->ev, &k->timer, k->up->check_interval_ms);
		return;
	}
	memset(&k->io, 0, sizeof(k->io));
	k->io.fd = fd;
	k->running = true;
	k->connecting = true;
	gb_buf_init(&k->in, 16384);
	gb_buf_init(&k->out, 4096);
	gb_buf_printf(&k->out, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: gerbang-health\r\nConnection: close\r\n\r\n",
	    k->up->check_path, k->srv->name);
	if (connect(fd, (struct sockaddr *)&k->srv->addr, k->srv->addrlen) ==
	    -1 && errno != EINPROGRESS) {
		check_done(k, false, strerror(errno));
		return;
	}
	if (k->up->tls && k->up->tls_ctx != NULL &&
	    (k->io.ssl = SSL_new(k->up->tls_ctx)) != NULL) {
		SSL_set_fd(k->io.ssl, fd);
		SSL_set_connect_state(k->io.ssl);
		SSL_set_tlsext_host_name(k->io.ssl, k->up->tls_sni ?
		    k->up->tls_sni : k->srv->host);
		k->handshaking = true;
	}
	gb_ev_add(w->ev, fd, GB_EV_WRITE, check_event, k);
	gb_ev_timer_set(w->ev, &k->timer, k->up->check_timeout_ms);
}

static void
check_timer(struct gb_ev *ev, void *arg)
{
	struct check *k = arg;

	(void)ev;
	if (k->running)
		check_done(k, false, "timeout");
	else
		check_start(k);
}

void
gw_health_start(struct gw_worker *w)
{
	struct gw_conf *c = w->conf;
	struct gw_health *h;
	size_t i, j, n = 0;

	for (i = 0; i < c->nupstreams; i++)
		if (c->upstreams[i].check_path != NULL)
			n += c->upstreams[i].nservers;
	if (n == 0 || (h = calloc(1, sizeof(*h))) == NULL)
		return;
	if ((h->checks = calloc(n, sizeof(*h->checks))) == NULL) {
		free(h);
		return;
	}
	h->w = w;
	for (i = 0; i < c->nupstreams; i++) {
		struct gw_upstream *u = &c->upstreams[i];

		if (u->check_path == NULL)
			continue;
		for (j = 0; j < u->nservers; j++) {
			struct check *k = &h->checks[h->n++];

			k->h = h;
			k->up = u;
			k->srv = &u->servers[j];
			k->io.fd = -1;
			gb_ev_timer_init(&k->timer, check_timer, k);
			gb_ev_timer_set(w->ev, &k->timer, 0);
		}
	}
	w->health = h;
}

void
gw_health_stop(struct gw_worker *w)
{
	struct gw_health *h = w->health;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		struct check *k = &h->checks[i];

		gb_ev_timer_cancel(w->ev, &k->timer);
		if (k->running)
			check_done(k, false, "stopped");
		gb_ev_timer_cancel(w->ev, &k->timer);
	}
	free(h->checks);
	free(h);
	w->health = NULL;
}
