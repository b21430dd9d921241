/* gb_ev: epoll loop with a timer heap. See gb_ev.h. */
#include "core/gb_ev.h"
#include "core/gb_util.h"

#include <sys/epoll.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EV_BATCH	256

struct fdslot {
	gb_ev_fd_cb	*cb;
	void		*arg;
	unsigned	 mask;	/* 0 = not registered */
};

struct gb_ev {
	int			 epfd;
	int			 stop;
	int			 nowait;	/* next wait polls only */
	uint64_t		 now;
	struct fdslot		*fds;
	size_t			 nslots;
	size_t			 nfds;
	struct gb_ev_timer	**heap;
	size_t			 nheap;
	size_t			 heapcap;
	void			*userdata;
	gb_ev_hook_cb		*beforesleep;
	void			*beforesleep_arg;
	struct epoll_event	 events[EV_BATCH];
};

const char *
gb_ev_flags_str(unsigned mask, char *buf, size_t len)
{
	static const struct gb_flag_name names[] = {
		{ GB_EV_READ, "READ" }, { GB_EV_WRITE, "WRITE" },
		{ GB_EV_EXCLUSIVE, "EXCLUSIVE" }, { GB_EV_EDGE, "EDGE" },
	};

	return gb_flags_str(names, sizeof(names) / sizeof(names[0]), mask,
	    "NONE", buf, len);
}

int
gb_ev_new(struct gb_ev **out)
{
	struct gb_ev *ev;

	*out = NULL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return -1;
	if ((ev->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(ev);
		return -1;
	}
	ev->now = gb_now_ms();
	*out = ev;
	return 0;
}

void
gb_ev_free(struct gb_ev *ev)
{
	if (ev == NULL)
		return;
	close(ev->epfd);
	free(ev->fds);
	free(ev->heap);
	free(ev);
}

static int
fd_grow(struct gb_ev *ev, int fd)
{
	struct fdslot *n;
	size_t nn;

	if ((size_t)fd < ev->nslots)
		return 0;
	nn = ev->nslots ? ev->nslots : 1024;
	while (nn <= (size_t)fd)
		nn *= 2;
	if ((n = reallocarray(ev->fds, nn, sizeof(*n))) == NULL)
		return -1;
	memset(n + ev->nslots, 0, (nn - ev->nslots) * sizeof(*n));
	ev->fds = n;
	ev->nslots = nn;
	return 0;
}

static uint32_t
to_epoll(unsigned mask)
{
	uint32_t e = 0;

	/* EPOLLEXCLUSIVE takes no EPOLLRDHUP (EINVAL): listeners need none. */
	if (mask & GB_EV_READ)
		e |= (mask & GB_EV_EXCLUSIVE) ? EPOLLIN : EPOLLIN | EPOLLRDHUP;
	if (mask & GB_EV_WRITE)
		e |= EPOLLOUT;
	if (mask & GB_EV_EXCLUSIVE)
		e |= EPOLLEXCLUSIVE;
	if (mask & GB_EV_EDGE)
		e |= EPOLLET;
	return e;
}

int
gb_ev_add(struct gb_ev *ev, int fd, unsigned mask, gb_ev_fd_cb *cb, void *arg)
{
	struct epoll_event ee;
	struct fdslot *s;
	int op;

	if (fd < 0 || fd_grow(ev, fd) == -1) {
		errno = fd < 0 ? EBADF : ENOMEM;
		return -1;
	}
	s = &ev->fds[fd];
	op = s->cb != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	memset(&ee, 0, sizeof(ee));
	ee.events = to_epoll(mask);
	ee.data.fd = fd;
	if (epoll_ctl(ev->epfd, op, fd, &ee) == -1)
		return -1;
	if (s->cb == NULL)
		ev->nfds++;
	s->cb = cb;
	s->arg = arg;
	s->mask = mask | 0x100;	/* registered, even with an empty mask */
	return 0;
}

int
gb_ev_mod(struct gb_ev *ev, int fd, unsigned mask)
{
	struct epoll_event ee;
	struct fdslot *s;

	if (fd < 0 || (size_t)fd >= ev->nslots || ev->fds[fd].cb == NULL) {
		errno = ENOENT;
		return -1;
	}
	s = &ev->fds[fd];
	if ((s->mask & 0xff) == mask)
		return 0;
	if (s->mask & GB_EV_EXCLUSIVE) {
		/* EPOLLEXCLUSIVE cannot be modified: re-add. */
		epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
		memset(&ee, 0, sizeof(ee));
		ee.events = to_epoll(mask);
		ee.data.fd = fd;
		if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) == -1)
			return -1;
	} else {
		memset(&ee, 0, sizeof(ee));
		ee.events = to_epoll(mask);
		ee.data.fd = fd;
		if (epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &ee) == -1)
			return -1;
	}
	s->mask = mask | 0x100;
	return 0;
}

unsigned
gb_ev_mask(const struct gb_ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nslots || ev->fds[fd].cb == NULL)
		return 0;
	return ev->fds[fd].mask & 0xff;
}

void
gb_ev_del(struct gb_ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nslots || ev->fds[fd].cb == NULL)
		return;
	epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&ev->fds[fd], 0, sizeof(ev->fds[fd]));
	ev->nfds--;
}

void
gb_ev_forget(struct gb_ev *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nslots || ev->fds[fd].cb == NULL)
		return;
	memset(&ev->fds[fd], 0, sizeof(ev->fds[fd]));
	ev->nfds--;
}

/* Timer heap: min-heap on when; slot is index + 1. */
static void
heap_swap(struct gb_ev *ev, size_t i, size_t j)
{
	struct gb_ev_timer *t = ev->heap[i];

	ev->heap[i] = ev->heap[j];
	ev->heap[j] = t;
	ev->heap[i]->slot = i + 1;
	ev->heap[j]->slot = j + 1;
}

static void
heap_up(struct gb_ev *ev, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (ev->heap[p]->when <= ev->heap[i]->when)
			break;
		heap_swap(ev, i, p);
		i = p;
	}
}

static void
heap_down(struct gb_ev *ev, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < ev->nheap && ev->heap[l]->when < ev->heap[m]->when)
			m = l;
		if (r < ev->nheap && ev->heap[r]->when < ev->heap[m]->when)
			m = r;
		if (m == i)
			break;
		heap_swap(ev, i, m);
		i = m;
	}
}

void
gb_ev_timer_init(struct gb_ev_timer *t, gb_ev_timer_cb *cb, void *arg)
{
	t->when = 0;
	t->slot = 0;
	t->cb = cb;
	t->arg = arg;
}

void
gb_ev_timer_cancel(struct gb_ev *ev, struct gb_ev_timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (i != --ev->nheap) {
		ev->heap[i] = ev->heap[ev->nheap];
		ev->heap[i]->slot = i + 1;
		heap_down(ev, i);
		heap_up(ev, i);
	}
}

void
gb_ev_timer_set(struct gb_ev *ev, struct gb_ev_timer *t, uint64_t after_ms)
{
	uint64_t when = after_ms > UINT64_MAX - ev->now ? UINT64_MAX :
	    ev->now + after_ms;

	if (t->slot != 0) {
		size_t i = t->slot - 1;
		uint64_t old = t->when;

		t->when = when;
		if (when < old)
			heap_up(ev, i);
		else if (when > old)
			heap_down(ev, i);
		return;
	}
	if (ev->nheap == ev->heapcap) {
		size_t nc = ev->heapcap ? ev->heapcap * 2 : 256;
		struct gb_ev_timer **h = reallocarray(ev->heap, nc,
		    sizeof(*h));

		/*
		 * Out of memory: the timer cannot be armed. Abort rather than
		 * lose a timeout silently (a connection without its timeout
		 * would be a slowloris hole).
		 */
		if (h == NULL)
			abort();
		ev->heap = h;
		ev->heapcap = nc;
	}
	t->when = when;
	ev->heap[ev->nheap] = t;
	t->slot = ++ev->nheap;
	heap_up(ev, ev->nheap - 1);
}

void
gb_ev_set_beforesleep(struct gb_ev *ev, gb_ev_hook_cb *cb, void *arg)
{
	ev->beforesleep = cb;
	ev->beforesleep_arg = arg;
}

void
gb_ev_nowait(struct gb_ev *ev)
{
	ev->nowait = 1;
}

void
gb_ev_set_userdata(struct gb_ev *ev, void *p)
{
	ev->userdata = p;
}

void *
gb_ev_userdata(const struct gb_ev *ev)
{
	return ev->userdata;
}

uint64_t
gb_ev_now(const struct gb_ev *ev)
{
	return ev->now;
}

size_t
gb_ev_ntimers(const struct gb_ev *ev)
{
	return ev->nheap;
}

size_t
gb_ev_nfds(const struct gb_ev *ev)
{
	return ev->nfds;
}

static int
run_timers(struct gb_ev *ev)
{
	struct gb_ev_timer *t;
	size_t budget = ev->nheap;
	int n = 0;

	/*
	 * At most one pass over the timers armed when the turn began: a
	 * callback that re-arms its timer with 0 ms must not spin here.
	 */
	while (budget-- > 0 && ev->nheap > 0 && ev->heap[0]->when <= ev->now) {
		t = ev->heap[0];
		gb_ev_timer_cancel(ev, t);
		t->cb(ev, t->arg);
		n++;
	}
	return n;
}

int
gb_ev_run_once(struct gb_ev *ev, int max_wait_ms)
{
	struct fdslot *s;
	int wait = max_wait_ms, n, i, ran = 0;
	unsigned mask;

	if (ev->beforesleep != NULL) {
		ev->beforesleep(ev, ev->beforesleep_arg);
		if (ev->stop)
			return 0;	/* stopped by the hook: do not wait */
	}
	ev->now = gb_now_ms();
	if (ev->nheap > 0) {
		uint64_t w = ev->heap[0]->when;
		int tw = w <= ev->now ? 0 : (w - ev->now > 60000 ? 60000 :
		    (int)(w - ev->now));

		if (wait < 0 || tw < wait)
			wait = tw;
	}
	if (ev->nowait) {
		ev->nowait = 0;
		wait = 0;
	}
	n = epoll_wait(ev->epfd, ev->events, EV_BATCH, wait);
	if (n == -1) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	ev->now = gb_now_ms();
	for (i = 0; i < n; i++) {
		int fd = ev->events[i].data.fd;
		uint32_t e = ev->events[i].events;

		/* Looked up again: an earlier callback may have removed it. */
		if ((size_t)fd >= ev->nslots || (s = &ev->fds[fd])->cb == NULL)
			continue;
		mask = 0;
		if (e & (EPOLLIN | EPOLLRDHUP))
			mask |= GB_EV_READ;
		if (e & EPOLLOUT)
			mask |= GB_EV_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			mask |= GB_EV_READ | GB_EV_WRITE;
		mask &= s->mask | ((e & (EPOLLERR | EPOLLHUP)) ?
		    (GB_EV_READ | GB_EV_WRITE) : 0);
		if (mask == 0)
			continue;
		if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			mask |= GB_EV_HUP;
		s->cb(ev, fd, s->arg, mask);
		ran++;
	}
	ran += run_timers(ev);
	return ran;
}

int
gb_ev_run(struct gb_ev *ev)
{
	ev->stop = 0;
	while (!ev->stop)
		if (gb_ev_run_once(ev, -1) == -1)
			return -1;
	return 0;
}

void
gb_ev_stop(struct gb_ev *ev)
{
	ev->stop = 1;
}
