/*
 * gw_worker: one worker process: its event loop over the shared listening
 * sockets, accepting, the access-log writer, signals and draining.
 *
 * New connections cannot starve those already established: accepting is
 * bounded per event (a listener stays ready for the next turn), and the
 * costly first step of a TLS handshake is queued and run at the end of
 * the turn, GW_HS_PER_TURN at a time (gw_conn.c), so that a burst of new
 * clients delays a request on an open connection by a few handshakes at
 * most. The listening sockets are shared by every worker with
 * EPOLLEXCLUSIVE, so one connection wakes one worker.
 *
 * SIGTERM (from the master, on reload or stop): stop accepting, finish the
 * requests in flight, answer pipelined and new requests on open
 * connections with "Connection: close", and exit when no connection is
 * left or the drain timeout passes.
 */
#include "gateway/gw.h"

#include "core/gb_priv.h"
#include "core/gb_log.h"
#include "core/gb_util.h"

#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPTS_PER_EVENT	8


static void accept_event(struct gb_ev *ev, int fd, void *arg, unsigned mask);

static void
listeners_watch(struct gw_worker *w, bool on)
{
	size_t i;

	if (w->accepting == on)
		return;
	w->accepting = on;
	for (i = 0; i < w->conf->nlisteners; i++) {
		struct gw_listener *l = &w->conf->listeners[i];

		if (on)
			gb_ev_add(w->ev, l->fd, GB_EV_READ | GB_EV_EXCLUSIVE,
			    accept_event, l);
		else
			gb_ev_del(w->ev, l->fd);
	}
}

static void
accept_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct gw_listener *l = arg;
	struct gw_worker *w = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	int i, cfd;

	(void)mask;
	w = (struct gw_worker *)gb_ev_userdata(ev);
	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		if (w->nconns >= w->conf->max_connections) {
			__atomic_add_fetch(&w->st->conns_refused, 1,
			    __ATOMIC_RELAXED);
			listeners_watch(w, false);
			return;
		}
		sl = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				gb_warn("accept: %s", strerror(errno));
			return;
		}
		gw_conn_accept(w, l, cfd, &ss);
	}
}

static void
flush_access_log(struct gw_worker *w)
{
	ssize_t n;

	while (gb_buf_used(&w->alog) > 0) {
		n = write(w->alog_fd, gb_buf_head(&w->alog),
		    gb_buf_used(&w->alog));
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;	/* a full disk drops log lines, never traffic */
		}
		gb_buf_consume(&w->alog, (size_t)n);
	}
	gb_buf_reset(&w->alog);
}

static void
beforesleep(struct gb_ev *ev, void *arg)
{
	struct gw_worker *w = arg;

	/* Handshakes left for the end of the turn; more: poll, don't sleep. */
	if (gw_conn_handshakes(w))
		gb_ev_nowait(ev);
	gw_conn_reap(w);
	if (w->alog_fd != -1)
		flush_access_log(w);
	if (!w->draining && !w->accepting &&
	    w->nconns < w->conf->max_connections)
		listeners_watch(w, true);
	if (w->draining && w->nconns == 0)
		gb_ev_stop(ev);
}

static void
drain_deadline(struct gb_ev *ev, void *arg)
{
	struct gw_worker *w = arg;

	gb_notice("worker %d: drain timeout with %u connections open, "
	    "closing them", (int)getpid(), w->nconns);
	gb_ev_stop(ev);
}

static void
start_drain(struct gw_worker *w)
{
	size_t i;

	if (w->draining)
		return;
	w->draining = true;
	for (i = 0; i < w->conf->nlisteners; i++) {
		gb_ev_del(w->ev, w->conf->listeners[i].fd);
		close(w->conf->listeners[i].fd);
	}
	w->accepting = false;
	/*
	 * The admin listener stays: /readyz answers 503 only when the whole
	 * gateway stops, not while a reload retires this worker.
	 */
	gw_health_stop(w);
	gw_upc_close_idle(w);
	gw_conn_drain_all(w);
	gb_ev_timer_init(&w->drain_timer, drain_deadline, w);
	gb_ev_timer_set(w->ev, &w->drain_timer, w->conf->timeouts.drain);
}

static void
signal_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct gw_worker *w = arg;
	struct signalfd_siginfo si;

	(void)ev;
	(void)mask;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGQUIT:
		case SIGINT:
			start_drain(w);
			break;
		case SIGUSR1:
			gb_log_reopen();
			if (w->alog_fd > STDERR_FILENO &&
			    w->conf->access_log != NULL) {
				int nfd = open(w->conf->access_log, O_WRONLY |
				    O_APPEND | O_CREAT | O_CLOEXEC, 0640);

				if (nfd != -1) {
					dup2(nfd, w->alog_fd);
					close(nfd);
				}
			}
			break;
		default:
			break;
		}
	}
}

int
gw_worker_run(struct gw_conf *conf, struct gw_stats *st,
    struct pol_state *pstate, struct gw_stats_worker *slot, int gen,
    int index)
{
	struct gw_worker w;
	unsigned char rnd[4];
	sigset_t set;
	size_t i;
	int sfd, rc = 0;

	/*
	 * Keep freed heap memory in the process: glibc would otherwise give
	 * it back after nearly every request and fault it in again (measured:
	 * ~0.8 page faults per keep-alive request, ~9% of its CPU). Memory is
	 * still bounded by the connection caps.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	memset(&w, 0, sizeof(w));
	w.conf = conf;
	w.stats = st;
	w.st = slot;
	w.gen = gen;
	w.index = index;
	w.alog_fd = -1;
	gb_buf_init(&w.alog, 4u << 20);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(w.reqprefix, sizeof(w.reqprefix), "%02x%02x%02x%02x-",
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	if (gb_ev_new(&w.ev) == -1)
		return -1;
	gb_ev_set_userdata(w.ev, &w);
	w.hdrs = calloc(conf->limits.max_headers + 1, sizeof(*w.hdrs));
	w.pathbuf = malloc(conf->limits.max_request_line + 2);
	if (w.hdrs == NULL || w.pathbuf == NULL || gw_upc_init(&w) == -1) {
		rc = -1;
		goto out;
	}
	/*
	 * Rate-limit counters live in the master's shared table: one limit
	 * across workers, kept across reloads (docs/policy.md).
	 */
	if (conf->policy != NULL && pstate != NULL) {
		w.pstate = pstate;
		pol_state_rebind(w.pstate, conf->policy);
	}
	if (conf->idkey != NULL &&
	    gb_idhdr_mac_new(conf->idkey, &w.idmac) == -1) {
		gb_error("consumer_header: cannot set up HMAC-SHA256");
		rc = -1;
		goto out;
	}
	if (conf->access_log != NULL) {
		if (strcmp(conf->access_log, "-") == 0)
			w.alog_fd = STDOUT_FILENO;
		else if ((w.alog_fd = open(conf->access_log, O_WRONLY |
		    O_APPEND | O_CREAT | O_CLOEXEC, 0640)) == -1)
			gb_error("access log %s: %s", conf->access_log,
			    strerror(errno));
	}
	if (gb_drop_privileges(conf->user) == -1) {
		rc = -1;
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    gb_ev_add(w.ev, sfd, GB_EV_READ, signal_event, &w) == -1) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < conf->nlisteners; i++)
		if (gb_ev_add(w.ev, conf->listeners[i].fd, GB_EV_READ |
		    GB_EV_EXCLUSIVE, accept_event, &conf->listeners[i]) == -1) {
			gb_error("listener %s: epoll: %s",
			    conf->listeners[i].name, strerror(errno));
			rc = -1;
			goto out;
		}
	w.accepting = true;
	if (gw_admin_listen(&w) == -1)
		gb_error("admin listener: %s", strerror(errno));
	if (index == 0)
		gw_health_start(&w);
	gb_ev_set_beforesleep(w.ev, beforesleep, &w);
	gb_info("worker %d (generation %d) serving", (int)getpid(), gen);
	rc = gb_ev_run(w.ev);
	gw_conn_reap(&w);
	if (w.alog_fd != -1)
		flush_access_log(&w);
out:
	gb_idhdr_mac_free(w.idmac);
	gw_admin_stop(&w);
	gw_health_stop(&w);
	gw_upc_fini(&w);
	free(w.hdrs);
	free(w.pathbuf);
	gb_buf_free(&w.alog);
	gb_ev_free(w.ev);
	return rc;
}
