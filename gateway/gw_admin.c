/*
 * gw_admin: the admin listener, 127.0.0.1 by default. GET /healthz (the
 * process is alive), GET /readyz (503 once the gateway is stopping; a
 * reload keeps it ready), GET /metrics (Prometheus text, summed over all
 * workers from the shared counters). One request per connection, strict parsing,
 * bounded: at most ADMIN_MAX connections, ADMIN_TIMEOUT each.
 */
#include "gateway/gw.h"
#include "core/gb_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ADMIN_MAX	64
#define ADMIN_TIMEOUT	5000
#define ADMIN_HEAD_MAX	8192

struct admin_conn {
	struct gw_admin		*a;
	int			 fd;
	struct gb_buf		 in;
	struct gb_buf		 out;
	struct gb_ev_timer	 timer;
	bool			 used;
	bool			 head;		/* HEAD: no body */
};

struct gw_admin {
	struct gw_worker	*w;
	int			 fd;
	struct admin_conn	 conns[ADMIN_MAX];
};

static void
admin_close(struct admin_conn *ac)
{
	struct gb_ev *ev = ac->a->w->ev;

	gb_ev_timer_cancel(ev, &ac->timer);
	gb_ev_del(ev, ac->fd);
	close(ac->fd);
	gb_buf_free(&ac->in);
	gb_buf_free(&ac->out);
	ac->used = false;
}

static void
admin_respond(struct admin_conn *ac, int status, const char *ctype,
    struct gb_buf *body)
{
	const char *reason = status == 200 ? "OK" : status == 404 ?
	    "Not Found" : status == 405 ? "Method Not Allowed" : status ==
	    503 ? "Service Unavailable" : "Bad Request";

	gb_buf_printf(&ac->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, reason, ctype,
	    gb_buf_used(body));
	if (!ac->head)
		gb_buf_append(&ac->out, gb_buf_head(body), gb_buf_used(body));
}

static void
admin_handle(struct admin_conn *ac, const struct gb_http_req *req)
{
	struct gw_worker *w = ac->a->w;
	struct gb_buf body;
	char path[64];
	size_t n = req->target_len < sizeof(path) - 1 ? req->target_len :
	    sizeof(path) - 1;

	gb_buf_init(&body, 8u << 20);
	memcpy(path, req->target, n);
	path[n] = '\0';
	path[strcspn(path, "?")] = '\0';
	ac->head = req->method_id == GB_HTTP_HEAD;
	if (req->method_id != GB_HTTP_GET && req->method_id != GB_HTTP_HEAD) {
		gb_buf_puts(&body, "method not allowed\n");
		admin_respond(ac, 405, "text/plain", &body);
	} else if (strcmp(path, "/healthz") == 0) {
		gb_buf_puts(&body, "ok\n");
		admin_respond(ac, 200, "text/plain", &body);
	} else if (strcmp(path, "/readyz") == 0) {
		if (__atomic_load_n(&w->stats->stopping, __ATOMIC_RELAXED)) {
			gb_buf_puts(&body, "draining\n");
			admin_respond(ac, 503, "text/plain", &body);
		} else {
			gb_buf_puts(&body, "ready\n");
			admin_respond(ac, 200, "text/plain", &body);
		}
	} else if (strcmp(path, "/metrics") == 0) {
		gw_stats_render(w->stats, &body);
		admin_respond(ac, 200, "text/plain; version=0.0.4", &body);
	} else {
		gb_buf_puts(&body, "not found\n");
		admin_respond(ac, 404, "text/plain", &body);
	}
	gb_buf_free(&body);
}

static void
admin_event(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct admin_conn *ac = arg;
	struct gb_http_header hdrs[32];
	struct gb_http_req req;
	struct gb_http_limits lim;
	uint8_t *p;
	ssize_t n;

	(void)mask;
	if (gb_buf_used(&ac->out) == 0) {
		if ((p = gb_buf_reserve(&ac->in, 2048)) == NULL) {
			admin_close(ac);
			return;
		}
		n = read(fd, p, 2048);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			admin_close(ac);
			return;
		}
		if (n > 0)
			gb_buf_commit(&ac->in, (size_t)n);
		gb_http_limits_default(&lim);
		lim.max_headers = 32;
		lim.max_head_size = ADMIN_HEAD_MAX;
		memset(&req, 0, sizeof(req));
		req.headers = hdrs;
		req.max_headers_cap = 32;
		n = gb_http_parse_request((const char *)gb_buf_head(&ac->in),
		    gb_buf_used(&ac->in), &req, &lim, GB_HTTP_STRICT);
		if (n == 0)
			return;
		if (n < 0) {
			struct gb_buf body;

			gb_buf_init(&body, 64);
			gb_buf_puts(&body, "bad request\n");
			admin_respond(ac, 400, "text/plain", &body);
			gb_buf_free(&body);
		} else
			admin_handle(ac, &req);
		gb_ev_mod(ev, fd, GB_EV_WRITE);
	}
	n = write(fd, gb_buf_head(&ac->out), gb_buf_used(&ac->out));
	if (n > 0)
		gb_buf_consume(&ac->out, (size_t)n);
	if (gb_buf_used(&ac->out) == 0 || (n == -1 && errno != EAGAIN))
		admin_close(ac);
}

static void
admin_timeout(struct gb_ev *ev, void *arg)
{
	(void)ev;
	admin_close(arg);
}

static void
admin_accept(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct gw_admin *a = arg;
	struct admin_conn *ac = NULL;
	size_t i;
	int cfd;

	(void)mask;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1)
		return;
	for (i = 0; i < ADMIN_MAX; i++)
		if (!a->conns[i].used) {
			ac = &a->conns[i];
			break;
		}
	if (ac == NULL) {
		close(cfd);
		return;
	}
	memset(ac, 0, sizeof(*ac));
	ac->a = a;
	ac->fd = cfd;
	ac->used = true;
	gb_buf_init(&ac->in, ADMIN_HEAD_MAX);
	gb_buf_init(&ac->out, 16u << 20);
	gb_ev_timer_init(&ac->timer, admin_timeout, ac);
	gb_ev_timer_set(ev, &ac->timer, ADMIN_TIMEOUT);
	if (gb_ev_add(ev, cfd, GB_EV_READ, admin_event, ac) == -1)
		admin_close(ac);
}

int
gw_admin_listen(struct gw_worker *w)
{
	struct gw_admin *a;

	if (w->conf->admin_fd == -1)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->w = w;
	a->fd = w->conf->admin_fd;
	if (gb_ev_add(w->ev, a->fd, GB_EV_READ | GB_EV_EXCLUSIVE, admin_accept,
	    a) == -1) {
		free(a);
		return -1;
	}
	w->admin = a;
	return 0;
}

void
gw_admin_stop(struct gw_worker *w)
{
	struct gw_admin *a = w->admin;
	size_t i;

	if (a == NULL)
		return;
	gb_ev_del(w->ev, a->fd);
	for (i = 0; i < ADMIN_MAX; i++)
		if (a->conns[i].used)
			admin_close(&a->conns[i]);
	free(a);
	w->admin = NULL;
}
