/*
 * Unit tests for core/gb_ev.c: timers (order, re-arm, cancel, a heap of
 * random timers), fd events on socketpairs, deletion from inside a
 * callback, and the beforesleep hook. Every loop here is bounded both in
 * turns and in wall time; no assertion depends on timing beyond generous
 * bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gb_ev.h"
#include "core/gb_util.h"

#define WALL_MS		10000	/* give up on any wait after 10 s */
#define MAX_TURNS	100000

/* Turn the loop until *done or the bounds are hit; returns the turns. */
static int
run_until(struct gb_ev *ev, const int *done)
{
	uint64_t deadline = gb_now_ms() + WALL_MS;
	int turns = 0;

	while (!*done && turns < MAX_TURNS && gb_now_ms() < deadline) {
		assert_true(gb_ev_run_once(ev, 50) >= 0);
		turns++;
	}
	return turns;
}

static void
test_flags_str(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(gb_ev_flags_str(0, buf, sizeof(buf)), "NONE");
	assert_string_equal(gb_ev_flags_str(GB_EV_READ, buf, sizeof(buf)),
	    "READ");
	assert_string_equal(gb_ev_flags_str(GB_EV_WRITE, buf, sizeof(buf)),
	    "WRITE");
	assert_string_equal(gb_ev_flags_str(GB_EV_READ | GB_EV_WRITE, buf,
	    sizeof(buf)), "READ|WRITE");
	/* A short buffer is cut, NUL-terminated. */
	assert_string_equal(gb_ev_flags_str(GB_EV_READ | GB_EV_WRITE, buf, 5),
	    "READ");
}

static void
test_new_free(void **state)
{
	struct gb_ev *ev = NULL;

	(void)state;
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_non_null(ev);
	assert_int_equal(gb_ev_ntimers(ev), 0);
	assert_int_equal(gb_ev_nfds(ev), 0);
	assert_true(gb_ev_now(ev) > 0);
	/* Nothing to do: returns at once with no callbacks. */
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	gb_ev_free(ev);
	gb_ev_free(NULL);
}

/* Timer callbacks record their id in firing order. */
struct tlog {
	int		 ids[2048];
	uint64_t	 whens[2048];
	int		 n;
	int		 done;
	int		 want;
};

struct tctx {
	struct gb_ev_timer	 t;
	struct tlog		*log;
	int			 id;
	int			 fired;
	uint64_t		 set_at;
	uint64_t		 delay;
};

static void
record_cb(struct gb_ev *ev, void *arg)
{
	struct tctx *c = arg;

	assert_false(gb_ev_timer_armed(&c->t));
	/* Never early: the loop's clock has reached the deadline. */
	assert_true(gb_ev_now(ev) >= c->t.when);
	assert_true(c->t.when >= c->set_at + c->delay);
	c->fired++;
	if (c->log->n < 2048) {
		c->log->ids[c->log->n] = c->id;
		c->log->whens[c->log->n] = c->t.when;
	}
	c->log->n++;
	if (c->log->n >= c->log->want)
		c->log->done = 1;
}

static void
tctx_set(struct gb_ev *ev, struct tctx *c, struct tlog *log, int id,
    uint64_t delay)
{
	gb_ev_timer_init(&c->t, record_cb, c);
	c->log = log;
	c->id = id;
	c->fired = 0;
	c->set_at = gb_ev_now(ev);
	c->delay = delay;
	gb_ev_timer_set(ev, &c->t, delay);
	assert_true(gb_ev_timer_armed(&c->t));
}

static void
test_timers_order(void **state)
{
	static const uint64_t delays[] = { 60, 10, 40, 0, 20, 50, 30 };
	struct tctx c[7];
	struct tlog log;
	struct gb_ev *ev;
	size_t i;

	(void)state;
	memset(&log, 0, sizeof(log));
	log.want = 7;
	assert_int_equal(gb_ev_new(&ev), 0);
	for (i = 0; i < 7; i++)
		tctx_set(ev, &c[i], &log, (int)i, delays[i]);
	assert_int_equal(gb_ev_ntimers(ev), 7);
	run_until(ev, &log.done);
	assert_int_equal(log.n, 7);
	/* By delay: 0, 10, 20, 30, 40, 50, 60. */
	assert_int_equal(log.ids[0], 3);
	assert_int_equal(log.ids[1], 1);
	assert_int_equal(log.ids[2], 4);
	assert_int_equal(log.ids[3], 6);
	assert_int_equal(log.ids[4], 2);
	assert_int_equal(log.ids[5], 5);
	assert_int_equal(log.ids[6], 0);
	for (i = 0; i < 7; i++)
		assert_int_equal(c[i].fired, 1);
	assert_int_equal(gb_ev_ntimers(ev), 0);
	/* Nothing fires twice. */
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	gb_ev_free(ev);
}

static void
test_timer_rearm_cancel(void **state)
{
	struct tctx a, b, c, d;
	struct tlog log;
	struct gb_ev *ev;
	int i;

	(void)state;
	memset(&log, 0, sizeof(log));
	log.want = 2;
	assert_int_equal(gb_ev_new(&ev), 0);

	/* a: far away, re-armed to now: fires. */
	tctx_set(ev, &a, &log, 1, 3600 * 1000);
	/* b: soon, re-armed far away: does not fire in this test. */
	tctx_set(ev, &b, &log, 2, 5);
	/* c: cancelled: never fires. */
	tctx_set(ev, &c, &log, 3, 0);
	/* d: re-armed later, fires once, after a. */
	tctx_set(ev, &d, &log, 4, 0);
	assert_int_equal(gb_ev_ntimers(ev), 4);

	a.delay = 0;
	gb_ev_timer_set(ev, &a.t, 0);
	b.delay = 3600 * 1000;
	gb_ev_timer_set(ev, &b.t, 3600 * 1000);
	d.delay = 20;
	gb_ev_timer_set(ev, &d.t, 20);
	assert_int_equal(gb_ev_ntimers(ev), 4);	/* re-arming adds none */
	gb_ev_timer_cancel(ev, &c.t);
	assert_false(gb_ev_timer_armed(&c.t));
	gb_ev_timer_cancel(ev, &c.t);	/* twice is harmless */
	assert_int_equal(gb_ev_ntimers(ev), 3);

	run_until(ev, &log.done);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.ids[0], 1);
	assert_int_equal(log.ids[1], 4);
	/* A few more turns: nothing else fires. */
	for (i = 0; i < 5; i++)
		gb_ev_run_once(ev, 10);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_int_equal(c.fired, 0);
	assert_int_equal(d.fired, 1);
	assert_true(gb_ev_timer_armed(&b.t));
	assert_int_equal(gb_ev_ntimers(ev), 1);
	gb_ev_timer_cancel(ev, &b.t);
	assert_int_equal(gb_ev_ntimers(ev), 0);
	/* Cancelling a timer that was never armed is harmless. */
	gb_ev_timer_init(&c.t, record_cb, &c);
	gb_ev_timer_cancel(ev, &c.t);
	gb_ev_free(ev);
}

/* A timer callback cancels another due timer: it never fires. */
struct pair {
	struct gb_ev_timer	 a, b;
	int			 afired, bfired;
};

static void
cancel_other_cb(struct gb_ev *ev, void *arg)
{
	struct pair *p = arg;

	p->afired++;
	gb_ev_timer_cancel(ev, &p->b);
}

static void
count_b_cb(struct gb_ev *ev, void *arg)
{
	struct pair *p = arg;

	(void)ev;
	p->bfired++;
}

static void
test_cancel_from_callback(void **state)
{
	struct gb_ev *ev;
	struct pair p;
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(gb_ev_new(&ev), 0);
	gb_ev_timer_init(&p.a, cancel_other_cb, &p);
	gb_ev_timer_init(&p.b, count_b_cb, &p);
	gb_ev_timer_set(ev, &p.a, 0);
	gb_ev_timer_set(ev, &p.b, 1);
	for (i = 0; i < 20 && p.afired == 0; i++)
		gb_ev_run_once(ev, 50);
	for (i = 0; i < 3; i++)
		gb_ev_run_once(ev, 10);
	assert_int_equal(p.afired, 1);
	assert_int_equal(p.bfired, 0);
	assert_int_equal(gb_ev_ntimers(ev), 0);
	gb_ev_free(ev);
}

/* A timer that re-arms itself with 0 ms must not spin inside one turn. */
struct spin {
	struct gb_ev_timer	t;
	int			n;
};

static void
spin_cb(struct gb_ev *ev, void *arg)
{
	struct spin *s = arg;

	if (++s->n < 1000000)
		gb_ev_timer_set(ev, &s->t, 0);
}

static void
test_rearm_zero_in_callback(void **state)
{
	struct gb_ev *ev;
	struct spin s;
	int i, ran;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(gb_ev_new(&ev), 0);
	gb_ev_timer_init(&s.t, spin_cb, &s);
	gb_ev_timer_set(ev, &s.t, 0);
	ran = gb_ev_run_once(ev, 0);
	assert_int_equal(ran, 1);
	assert_int_equal(s.n, 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(gb_ev_run_once(ev, 0), 1);
	assert_int_equal(s.n, 11);
	assert_true(gb_ev_timer_armed(&s.t));
	gb_ev_timer_cancel(ev, &s.t);
	gb_ev_free(ev);
}

/* A delay too large to add to the clock never wraps to "now". */
static void
test_timer_huge_delay(void **state)
{
	struct tctx c;
	struct tlog log;
	struct gb_ev *ev;

	(void)state;
	memset(&log, 0, sizeof(log));
	log.want = 1;
	assert_int_equal(gb_ev_new(&ev), 0);
	memset(&c, 0, sizeof(c));
	gb_ev_timer_init(&c.t, record_cb, &c);
	c.log = &log;
	gb_ev_timer_set(ev, &c.t, UINT64_MAX);
	assert_true(c.t.when >= gb_ev_now(ev));
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	assert_int_equal(gb_ev_run_once(ev, 1), 0);
	assert_int_equal(c.fired, 0);
	gb_ev_timer_set(ev, &c.t, UINT64_MAX - 1);
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	assert_int_equal(c.fired, 0);
	gb_ev_timer_cancel(ev, &c.t);
	gb_ev_free(ev);
}

/*
 * The heap: ~1000 timers with random delays, some cancelled and some
 * re-armed, fire in non-decreasing order of their deadline, each exactly
 * once; the cancelled never fire.
 */
#define NRAND	1000

static void
test_heap_random(void **state)
{
	struct tctx *c;
	struct tlog *log;
	struct gb_ev *ev;
	unsigned seed = 0x6765726bu;
	size_t i, armed = NRAND, cancelled = 0;
	int turns;

	(void)state;
	c = calloc(NRAND, sizeof(*c));
	log = calloc(1, sizeof(*log));
	assert_non_null(c);
	assert_non_null(log);
	assert_int_equal(gb_ev_new(&ev), 0);
	for (i = 0; i < NRAND; i++)
		tctx_set(ev, &c[i], log, (int)i, (uint64_t)(rand_r(&seed) %
		    150));
	assert_int_equal(gb_ev_ntimers(ev), NRAND);
	for (i = 0; i < NRAND; i++) {
		switch (rand_r(&seed) % 5) {
		case 0:
			gb_ev_timer_cancel(ev, &c[i].t);
			c[i].id = -1;
			cancelled++;
			armed--;
			break;
		case 1:
			c[i].delay = (uint64_t)(rand_r(&seed) % 150);
			gb_ev_timer_set(ev, &c[i].t, c[i].delay);
			break;
		default:
			break;
		}
		assert_int_equal(gb_ev_ntimers(ev), armed);
	}
	assert_true(cancelled > 100);
	log->want = (int)armed;
	turns = run_until(ev, &log->done);
	assert_true(turns < MAX_TURNS);
	assert_int_equal(log->n, (int)armed);
	for (i = 1; i < armed; i++)
		if (log->whens[i] < log->whens[i - 1])
			fail_msg("timer %zu fired at %llu after one at %llu",
			    i, (unsigned long long)log->whens[i],
			    (unsigned long long)log->whens[i - 1]);
	for (i = 0; i < NRAND; i++) {
		assert_int_equal(c[i].fired, c[i].id == -1 ? 0 : 1);
		assert_false(gb_ev_timer_armed(&c[i].t));
	}
	assert_int_equal(gb_ev_ntimers(ev), 0);
	gb_ev_free(ev);
	free(log);
	free(c);
}

/*
 * The heap under churn without running: arm, re-arm and cancel at random,
 * then fire; the order is still by deadline.
 */
static void
test_heap_churn(void **state)
{
	struct tctx *c;
	struct tlog *log;
	struct gb_ev *ev;
	unsigned seed = 12345;
	size_t i, k, armed = 0;

	(void)state;
	c = calloc(NRAND, sizeof(*c));
	log = calloc(1, sizeof(*log));
	assert_non_null(c);
	assert_non_null(log);
	assert_int_equal(gb_ev_new(&ev), 0);
	for (i = 0; i < NRAND; i++) {
		gb_ev_timer_init(&c[i].t, record_cb, &c[i]);
		c[i].log = log;
		c[i].id = (int)i;
	}
	for (k = 0; k < 20000; k++) {
		i = (size_t)rand_r(&seed) % NRAND;
		if (rand_r(&seed) % 3 == 0) {
			if (gb_ev_timer_armed(&c[i].t))
				armed--;
			gb_ev_timer_cancel(ev, &c[i].t);
		} else {
			if (!gb_ev_timer_armed(&c[i].t))
				armed++;
			c[i].set_at = gb_ev_now(ev);
			c[i].delay = (uint64_t)(rand_r(&seed) % 100);
			gb_ev_timer_set(ev, &c[i].t, c[i].delay);
		}
		assert_int_equal(gb_ev_ntimers(ev), armed);
	}
	log->want = (int)armed;
	run_until(ev, &log->done);
	assert_int_equal(log->n, (int)armed);
	for (i = 1; i < armed; i++)
		assert_true(log->whens[i] >= log->whens[i - 1]);
	gb_ev_free(ev);
	free(log);
	free(c);
}

/* fd events. */
struct fdrec {
	int		calls;
	unsigned	mask;
	int		fd;
	int		done;
	/* For the deleting callback. */
	struct gb_ev	*ev;
	int		victim;
	int		victim_closed;
	int		*other_calls;
};

static void
fd_cb(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct fdrec *r = arg;

	(void)ev;
	r->calls++;
	r->mask = mask;
	r->fd = fd;
	r->done = 1;
}

static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
}

static void
test_fd_read(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	char buf[8];
	int sv[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ, fd_cb, &r), 0);
	assert_int_equal(gb_ev_nfds(ev), 1);
	assert_int_equal(gb_ev_mask(ev, sv[0]), GB_EV_READ);
	assert_int_equal(gb_ev_mask(ev, sv[1]), 0);

	/* Nothing to read: no callback. */
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	assert_int_equal(r.calls, 0);

	assert_int_equal(write(sv[1], "ping", 4), 4);
	run_until(ev, &r.done);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.mask, GB_EV_READ);
	assert_int_equal(r.fd, sv[0]);

	/* Level-triggered: unread data calls again. */
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(read(sv[0], buf, sizeof(buf)), 4);
	assert_int_equal(gb_ev_run_once(ev, 0), 0);
	assert_int_equal(r.calls, 2);

	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

static void
test_fd_write_mod(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	int sv[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);

	/* A fresh socket is writable at once. */
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_WRITE, fd_cb, &r), 0);
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r.mask, GB_EV_WRITE);

	/* Read and write with data waiting: both. */
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(gb_ev_mod(ev, sv[0], GB_EV_READ | GB_EV_WRITE), 0);
	assert_int_equal(gb_ev_mask(ev, sv[0]), GB_EV_READ | GB_EV_WRITE);
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r.mask, GB_EV_READ | GB_EV_WRITE);

	/* Read only. */
	assert_int_equal(gb_ev_mod(ev, sv[0], GB_EV_READ), 0);
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r.mask, GB_EV_READ);
	/* Same mask again: a no-op that succeeds. */
	assert_int_equal(gb_ev_mod(ev, sv[0], GB_EV_READ), 0);

	/* An empty mask keeps the registration but calls nothing. */
	r.calls = 0;
	assert_int_equal(gb_ev_mod(ev, sv[0], 0), 0);
	assert_int_equal(gb_ev_nfds(ev), 1);
	assert_int_equal(gb_ev_run_once(ev, 20), 0);
	assert_int_equal(r.calls, 0);

	/* gb_ev_mod of an fd that is not registered. */
	errno = 0;
	assert_int_equal(gb_ev_mod(ev, sv[1], GB_EV_READ), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(gb_ev_mod(ev, -1, GB_EV_READ), -1);
	assert_int_equal(gb_ev_mod(ev, 1000000, GB_EV_READ), -1);

	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

static void
test_fd_del(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	int sv[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ | GB_EV_WRITE, fd_cb,
	    &r), 0);
	gb_ev_del(ev, sv[0]);
	assert_int_equal(gb_ev_nfds(ev), 0);
	assert_int_equal(gb_ev_mask(ev, sv[0]), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(gb_ev_run_once(ev, 20), 0);
	assert_int_equal(r.calls, 0);
	/* Deleting again, or something never added, is safe. */
	gb_ev_del(ev, sv[0]);
	gb_ev_del(ev, sv[1]);
	gb_ev_del(ev, -1);
	gb_ev_del(ev, 1000000);
	assert_int_equal(gb_ev_nfds(ev), 0);
	/* And it can be added again. */
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ, fd_cb, &r), 0);
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r.mask, GB_EV_READ);
	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

/* Adding an fd again replaces its callback; nfds does not grow. */
static void
test_fd_replace(void **state)
{
	struct fdrec r1, r2;
	struct gb_ev *ev;
	int sv[2];

	(void)state;
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ, fd_cb, &r1), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_WRITE, fd_cb, &r2), 0);
	assert_int_equal(gb_ev_nfds(ev), 1);
	assert_int_equal(gb_ev_mask(ev, sv[0]), GB_EV_WRITE);
	assert_int_equal(gb_ev_run_once(ev, 1000), 1);
	assert_int_equal(r1.calls, 0);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.mask, GB_EV_WRITE);

	/* Bad fds are refused. */
	errno = 0;
	assert_int_equal(gb_ev_add(ev, -1, GB_EV_READ, fd_cb, &r1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(gb_ev_nfds(ev), 1);
	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

/* A regular file cannot be watched by epoll: an error, not a crash. */
static void
test_fd_regular_file(void **state)
{
	char path[] = "/tmp/gb_ev_test.XXXXXX";
	struct fdrec r;
	struct gb_ev *ev;
	int fd;

	(void)state;
	memset(&r, 0, sizeof(r));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(gb_ev_new(&ev), 0);
	errno = 0;
	assert_int_equal(gb_ev_add(ev, fd, GB_EV_READ, fd_cb, &r), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(gb_ev_nfds(ev), 0);
	assert_int_equal(gb_ev_mask(ev, fd), 0);
	gb_ev_free(ev);
	close(fd);
}

/*
 * A hang-up is reported as both READ and WRITE, even when only READ was
 * asked, and marked GB_EV_HUP.
 */
static void
test_fd_hangup(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	int sv[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ, fd_cb, &r), 0);
	close(sv[1]);
	run_until(ev, &r.done);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.mask, GB_EV_READ | GB_EV_WRITE | GB_EV_HUP);
	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
}

/* An fd numbered past the first table size. */
static void
test_fd_high_number(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	int sv[2], hi;

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	hi = fcntl(sv[0], F_DUPFD_CLOEXEC, 1500);
	if (hi == -1) {
		close(sv[0]);
		close(sv[1]);
		skip();	/* RLIMIT_NOFILE below 1500 */
	}
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, hi, GB_EV_READ, fd_cb, &r), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	run_until(ev, &r.done);
	assert_int_equal(r.fd, hi);
	assert_int_equal(r.mask, GB_EV_READ);
	gb_ev_del(ev, hi);
	gb_ev_free(ev);
	close(hi);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Two fds ready in the same turn; whichever callback runs first deletes
 * and closes the other. The other is never called, in this turn or later.
 */
static void
del_other_cb(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct fdrec *r = arg;

	(void)fd;
	(void)mask;
	r->calls++;
	if (*r->other_calls == 0 && !r->victim_closed) {
		gb_ev_del(ev, r->victim);
		close(r->victim);
		r->victim_closed = 1;
	}
}

static void
test_del_other_in_callback(void **state)
{
	struct fdrec ra, rb;
	struct gb_ev *ev;
	int a[2], b[2], i, ran;

	(void)state;
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	make_pair(a);
	make_pair(b);
	assert_int_equal(gb_ev_new(&ev), 0);
	ra.victim = b[0];
	ra.other_calls = &rb.calls;
	rb.victim = a[0];
	rb.other_calls = &ra.calls;
	assert_int_equal(gb_ev_add(ev, a[0], GB_EV_READ, del_other_cb, &ra),
	    0);
	assert_int_equal(gb_ev_add(ev, b[0], GB_EV_READ, del_other_cb, &rb),
	    0);
	/* Both readable before the loop waits: one epoll batch. */
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	ran = gb_ev_run_once(ev, 1000);
	assert_int_equal(ran, 1);
	assert_int_equal(ra.calls + rb.calls, 1);
	assert_int_equal(gb_ev_nfds(ev), 1);
	for (i = 0; i < 3; i++)
		gb_ev_run_once(ev, 10);
	/* The survivor keeps being called (its data is unread). */
	if (ra.calls > 0) {
		assert_int_equal(rb.calls, 0);
		assert_true(ra.victim_closed);
		gb_ev_del(ev, a[0]);
		close(a[0]);
	} else {
		assert_int_equal(ra.calls, 0);
		assert_true(rb.victim_closed);
		gb_ev_del(ev, b[0]);
		close(b[0]);
	}
	assert_int_equal(gb_ev_nfds(ev), 0);
	gb_ev_free(ev);
	close(a[1]);
	close(b[1]);
}

/* A callback deletes its own fd: no further calls. */
static void
del_self_cb(struct gb_ev *ev, int fd, void *arg, unsigned mask)
{
	struct fdrec *r = arg;

	(void)mask;
	r->calls++;
	gb_ev_del(ev, fd);
}

static void
test_del_self_in_callback(void **state)
{
	struct fdrec r;
	struct gb_ev *ev;
	int sv[2], i;

	(void)state;
	memset(&r, 0, sizeof(r));
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_READ | GB_EV_WRITE,
	    del_self_cb, &r), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	for (i = 0; i < 5; i++)
		gb_ev_run_once(ev, 10);
	assert_int_equal(r.calls, 1);
	assert_int_equal(gb_ev_nfds(ev), 0);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

/* fd callbacks run before timers in a turn; the count covers both. */
static void
test_fd_and_timer_same_turn(void **state)
{
	struct fdrec r;
	struct tctx c;
	struct tlog log;
	struct gb_ev *ev;
	int sv[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&log, 0, sizeof(log));
	log.want = 1;
	make_pair(sv);
	assert_int_equal(gb_ev_new(&ev), 0);
	assert_int_equal(gb_ev_add(ev, sv[0], GB_EV_WRITE, fd_cb, &r), 0);
	tctx_set(ev, &c, &log, 1, 0);
	assert_int_equal(gb_ev_run_once(ev, 1000), 2);
	assert_int_equal(r.calls, 1);
	assert_int_equal(c.fired, 1);
	gb_ev_del(ev, sv[0]);
	gb_ev_free(ev);
	close(sv[0]);
	close(sv[1]);
}

/* beforesleep runs once per turn, before the wait. */
struct hook {
	int		 calls;
	struct gb_ev	*ev;
};

static void
hook_cb(struct gb_ev *ev, void *arg)
{
	struct hook *h = arg;

	assert_ptr_equal(ev, h->ev);
	h->calls++;
}

static void
test_beforesleep(void **state)
{
	struct hook h;
	struct gb_ev *ev;
	int i;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(gb_ev_new(&ev), 0);
	h.ev = ev;
	gb_ev_set_beforesleep(ev, hook_cb, &h);
	for (i = 0; i < 5; i++)
		assert_int_equal(gb_ev_run_once(ev, 0), 0);
	assert_int_equal(h.calls, 5);
	gb_ev_set_beforesleep(ev, NULL, NULL);
	gb_ev_run_once(ev, 0);
	assert_int_equal(h.calls, 5);
	gb_ev_free(ev);
}

/*
 * gb_ev_nowait() from beforesleep: that turn's wait polls although the
 * only timer is an hour away and the max is 3 s; once cleared, a turn
 * waits as usual again.
 */
struct nowait_hook {
	int	calls;
	int	left;		/* turns that still ask not to wait */
};

static void
nowait_cb(struct gb_ev *ev, void *arg)
{
	struct nowait_hook *h = arg;

	h->calls++;
	if (h->left > 0) {
		h->left--;
		gb_ev_nowait(ev);
	}
}

static void
test_nowait(void **state)
{
	struct nowait_hook h;
	struct tctx c;
	struct tlog log;
	struct gb_ev *ev;
	uint64_t t0;
	int i;

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(&log, 0, sizeof(log));
	assert_int_equal(gb_ev_new(&ev), 0);
	tctx_set(ev, &c, &log, 1, 3600 * 1000);
	gb_ev_set_beforesleep(ev, nowait_cb, &h);
	h.left = 3;
	t0 = gb_now_ms();
	for (i = 0; i < 3; i++)
		assert_int_equal(gb_ev_run_once(ev, 3000), 0);
	assert_true(gb_now_ms() - t0 < 1000);
	assert_int_equal(h.calls, 3);
	/* Cleared: this turn waits its max again (50 ms here). */
	t0 = gb_now_ms();
	assert_int_equal(gb_ev_run_once(ev, 50), 0);
	assert_true(gb_now_ms() - t0 >= 40);
	assert_int_equal(h.calls, 4);
	assert_int_equal(c.fired, 0);
	gb_ev_timer_cancel(ev, &c.t);
	gb_ev_free(ev);
}

/* gb_ev_run() turns until gb_ev_stop() from a callback. */
struct stopper {
	struct gb_ev_timer	stop, guard;
	int			stopped, guard_fired;
	struct hook		hook;
};

static void
stop_cb(struct gb_ev *ev, void *arg)
{
	struct stopper *s = arg;

	s->stopped++;
	gb_ev_stop(ev);
}

static void
guard_cb(struct gb_ev *ev, void *arg)
{
	struct stopper *s = arg;

	s->guard_fired++;
	gb_ev_stop(ev);
}

static void
test_run_stop(void **state)
{
	struct stopper s;
	struct gb_ev *ev;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(gb_ev_new(&ev), 0);
	s.hook.ev = ev;
	gb_ev_set_beforesleep(ev, hook_cb, &s.hook);
	gb_ev_timer_init(&s.stop, stop_cb, &s);
	gb_ev_timer_init(&s.guard, guard_cb, &s);
	gb_ev_timer_set(ev, &s.stop, 20);
	gb_ev_timer_set(ev, &s.guard, WALL_MS);	/* bound if stop fails */
	assert_int_equal(gb_ev_run(ev), 0);
	assert_int_equal(s.stopped, 1);
	assert_int_equal(s.guard_fired, 0);
	assert_true(s.hook.calls >= 1);
	/* run again: stop is reset by gb_ev_run. */
	gb_ev_timer_set(ev, &s.stop, 0);
	assert_int_equal(gb_ev_run(ev), 0);
	assert_int_equal(s.stopped, 2);
	gb_ev_timer_cancel(ev, &s.guard);
	gb_ev_free(ev);
}

/* The cached clock moves only when the loop turns. */
static void
test_now_cached(void **state)
{
	struct gb_ev *ev;
	uint64_t t0, t1;

	(void)state;
	assert_int_equal(gb_ev_new(&ev), 0);
	t0 = gb_ev_now(ev);
	usleep(20000);
	assert_int_equal(gb_ev_now(ev), t0);
	gb_ev_run_once(ev, 0);
	t1 = gb_ev_now(ev);
	assert_true(t1 >= t0 + 10);
	assert_true(t1 <= gb_now_ms());
	gb_ev_free(ev);
}

/* A far timer does not make run_once wait past max_wait_ms. */
static void
test_max_wait(void **state)
{
	struct tctx c;
	struct tlog log;
	struct gb_ev *ev;
	uint64_t t0;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(gb_ev_new(&ev), 0);
	tctx_set(ev, &c, &log, 1, 3600 * 1000);
	t0 = gb_now_ms();
	assert_int_equal(gb_ev_run_once(ev, 10), 0);
	assert_true(gb_now_ms() - t0 < WALL_MS);
	assert_int_equal(c.fired, 0);
	gb_ev_timer_cancel(ev, &c.t);
	gb_ev_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_str),
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_timers_order),
		cmocka_unit_test(test_timer_rearm_cancel),
		cmocka_unit_test(test_cancel_from_callback),
		cmocka_unit_test(test_rearm_zero_in_callback),
		cmocka_unit_test(test_timer_huge_delay),
		cmocka_unit_test(test_heap_random),
		cmocka_unit_test(test_heap_churn),
		cmocka_unit_test(test_fd_read),
		cmocka_unit_test(test_fd_write_mod),
		cmocka_unit_test(test_fd_del),
		cmocka_unit_test(test_fd_replace),
		cmocka_unit_test(test_fd_regular_file),
		cmocka_unit_test(test_fd_hangup),
		cmocka_unit_test(test_fd_high_number),
		cmocka_unit_test(test_del_other_in_callback),
		cmocka_unit_test(test_del_self_in_callback),
		cmocka_unit_test(test_fd_and_timer_same_turn),
		cmocka_unit_test(test_beforesleep),
		cmocka_unit_test(test_nowait),
		cmocka_unit_test(test_run_stop),
		cmocka_unit_test(test_now_cached),
		cmocka_unit_test(test_max_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
