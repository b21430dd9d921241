/*
 * Unit tests for policy/pol_state.c: token buckets (burst, refill,
 * retry_after), daily limits (reset at local midnight), consumer-wide and
 * per-route limits together, monitor mode, explain not consuming, the
 * table cap, counters surviving pol_state_rebind() to a reloaded set, and
 * one set of counters shared by forked worker processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <signal.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/gb_buf.h"
#include "policy/pol.h"
#include "tests/unit/policy/pol_test.h"

/* 2024-01-03 10:00 Asia/Jakarta; midnight there is 14 h later. */
#define T0	1704250800

static const char policy[] =
"consumers:\n"
"  - id: a\n"
"    identities: [{ cert_san: a }]\n"
"    rate_limit: { rps: 2, burst: 3 }\n"
"  - id: b\n"
"    identities: [{ cert_san: b }]\n"
"    rate_limit: { per_day: 4 }\n"
"  - id: c\n"
"    identities: [{ cert_san: c }]\n"
"routes:\n"
"  - id: r1\n"
"    prefix: /r1\n"
"    upstream: u\n"
"    consumers: [a, b, c]\n"
"  - id: r2\n"
"    prefix: /r2\n"
"    upstream: u\n"
"    consumers: [a, b, c]\n"
"    rate_limit: { rps: 1, burst: 1, per_day: 2 }\n"
"  - id: m\n"
"    prefix: /m\n"
"    upstream: u\n"
"    consumers: [c]\n"
"    mode: monitor\n"
"    rate_limit: { rps: 1, burst: 1 }\n";

static void
ask(const struct pol_set *set, struct pol_state *st, const char *who,
    const char *path, time_t now, uint64_t ms, struct pol_decision *dec)
{
	struct pol_request req;
	struct pt_addr a;

	pt_req(&req, &a, "10.0.0.1", "h", "GET", path);
	req.cert_san = who;
	req.now = now;
	req.now_ms = ms;
	assert_int_equal(pol_decide(set, st, &req, dec), 0);
}

static void
test_bucket(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_decision d;
	int i;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	/* Burst 3, then limited. */
	for (i = 0; i < 3; i++) {
		ask(set, st, "a", "/r1", T0, 1000, &d);
		assert_true(d.allow);
	}
	ask(set, st, "a", "/r1", T0, 1000, &d);
	assert_false(d.allow);
	assert_int_equal(d.status, 429);
	assert_string_equal(d.rule, "a");
	assert_string_equal(d.reason, "consumer rate limit");
	assert_int_equal(d.retry_after, 1);
	/* 2 rps: one token back after 500 ms, not at 499. */
	ask(set, st, "a", "/r1", T0, 1499, &d);
	assert_false(d.allow);
	ask(set, st, "a", "/r1", T0, 1500, &d);
	assert_true(d.allow);
	ask(set, st, "a", "/r1", T0, 1500, &d);
	assert_false(d.allow);
	/* Consumer-wide: another route shares the bucket. */
	ask(set, st, "a", "/r2", T0, 1500, &d);
	assert_false(d.allow);
	assert_string_equal(d.reason, "consumer rate limit");
	/* A long pause refills to burst only. */
	for (i = 0; i < 3; i++) {
		ask(set, st, "a", "/r1", T0, 100000, &d);
		assert_true(d.allow);
	}
	ask(set, st, "a", "/r1", T0, 100000, &d);
	assert_false(d.allow);
	/* Without a state there are no rate limits. */
	ask(set, NULL, "a", "/r1", T0, 100000, &d);
	assert_true(d.allow);
	pol_state_free(st);
	pol_set_free(set);
}

static void
test_daily(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_decision d;
	int i;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	for (i = 0; i < 4; i++) {
		ask(set, st, "b", "/r1", T0, (uint64_t)i * 10, &d);
		assert_true(d.allow);
	}
	ask(set, st, "b", "/r1", T0, 100, &d);
	assert_false(d.allow);
	assert_string_equal(d.reason, "consumer daily limit");
	assert_int_equal(d.retry_after, 14 * 3600);
	/* Still the same day at 23:59 Jakarta, a new one at 00:00. */
	ask(set, st, "b", "/r1", T0 + 14 * 3600 - 60, 200, &d);
	assert_false(d.allow);
	ask(set, st, "b", "/r1", T0 + 14 * 3600, 300, &d);
	assert_true(d.allow);
	pol_state_free(st);
	pol_set_free(set);
}

static void
test_route_limit(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_decision d;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	ask(set, st, "c", "/r2", T0, 0, &d);
	assert_true(d.allow);
	ask(set, st, "c", "/r2", T0, 10, &d);
	assert_false(d.allow);
	assert_string_equal(d.rule, "r2");
	assert_string_equal(d.reason, "route rate limit");
	/* Per consumer: b has its own bucket on r2. */
	ask(set, st, "b", "/r2", T0, 10, &d);
	assert_true(d.allow);
	ask(set, st, "c", "/r2", T0, 1010, &d);
	assert_true(d.allow);
	ask(set, st, "c", "/r2", T0, 5000, &d);
	assert_false(d.allow);
	assert_string_equal(d.reason, "route daily limit");
	/* A denied request took nothing from the consumer-wide bucket:
	 * b had 4 a day, used 1. */
	ask(set, st, "b", "/r1", T0, 5000, &d);
	assert_true(d.allow);
	/* Monitor mode: over the limit, still allowed. */
	ask(set, st, "c", "/m", T0, 0, &d);
	assert_true(d.allow && !d.would_deny);
	ask(set, st, "c", "/m", T0, 1, &d);
	assert_true(d.allow);
	assert_true(d.would_deny);
	assert_int_equal(d.status, 429);
	pol_state_free(st);
	pol_set_free(set);
}

static void
test_explain_does_not_consume(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_request req;
	struct pol_decision d;
	struct pt_addr a;
	struct gb_buf out;
	int i;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	gb_buf_init(&out, 1 << 16);
	pt_req(&req, &a, "10.0.0.1", "h", "GET", "/r2");
	req.cert_san = "c";
	req.now = T0;
	for (i = 0; i < 5; i++)
		assert_int_equal(pol_explain(set, st, &req, &out), 0);
	assert_non_null(strstr(gb_buf_cstr(&out), "rate limit: within "
	    "limits"));
	ask(set, st, "c", "/r2", T0, 0, &d);
	assert_true(d.allow);
	gb_buf_reset(&out);
	assert_int_equal(pol_explain(set, st, &req, &out), 0);
	assert_non_null(strstr(gb_buf_cstr(&out), "decision: deny 429 (r2: "
	    "route rate limit) retry-after 1"));
	gb_buf_free(&out);
	pol_state_free(st);
	pol_set_free(set);
}

static void
test_rebind(void **state)
{
	struct pol_set *set = pt_load(policy, NULL), *set2;
	struct pol_state *st;
	struct pol_state_stats ss;
	struct pol_decision d;
	int i;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	for (i = 0; i < 3; i++)
		ask(set, st, "a", "/r1", T0, 0, &d);
	ask(set, st, "c", "/r2", T0, 0, &d);
	pol_state_stats(st, &ss);
	assert_int_equal(ss.entries, 2);
	/* Reload: same ids (b removed, r2 renamed): a's bucket stays empty;
	 * c's counter on the old r2 stays until idle, r2-new starts afresh. */
	set2 = pt_load("consumers:\n"
	    "  - id: a\n"
	    "    identities: [{ cert_san: a }]\n"
	    "    rate_limit: { rps: 2, burst: 3 }\n"
	    "  - id: c\n"
	    "    identities: [{ cert_san: c }]\n"
	    "routes:\n"
	    "  - id: r1\n"
	    "    prefix: /r1\n"
	    "    upstream: u\n"
	    "    consumers: [a, c]\n"
	    "  - id: r2-new\n"
	    "    prefix: /r2\n"
	    "    upstream: u\n"
	    "    consumers: [a, c]\n"
	    "    rate_limit: { rps: 1, burst: 1 }\n", NULL);
	assert_int_equal(pol_state_rebind(st, set2), 0);
	pol_set_free(set);
	pol_state_stats(st, &ss);
	assert_int_equal(ss.entries, 2);
	ask(set2, st, "a", "/r1", T0, 0, &d);
	assert_false(d.allow);
	assert_int_equal(d.status, 429);
	ask(set2, st, "c", "/r2", T0, 0, &d);
	assert_true(d.allow);
	pol_state_free(st);
	pol_set_free(set2);
}

static void
test_cap(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_state_stats ss;
	struct pol_decision d;

	(void)state;
	assert_int_equal(pol_state_new(2, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	ask(set, st, "a", "/r1", T0, 0, &d);
	ask(set, st, "b", "/r1", T0, 0, &d);
	assert_true(d.allow);
	/* Third bucket: table full, nothing idle: 429, counted. */
	ask(set, st, "c", "/r2", T0, 0, &d);
	assert_false(d.allow);
	assert_int_equal(d.status, 429);
	assert_string_equal(d.reason, "rate-limit table full");
	pol_state_stats(st, &ss);
	assert_int_equal(ss.full, 1);
	/* A day later the idle buckets are reclaimed. */
	ask(set, st, "c", "/r2", T0 + 86400, 86400001, &d);
	assert_true(d.allow);
	pol_state_stats(st, &ss);
	assert_int_equal(ss.evicted, 2);
	pol_state_free(st);
	pol_set_free(set);
}

/* Workers are processes: a limit is one limit, whichever worker counts. */
static void
test_shared_by_processes(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_state_stats ss;
	struct pol_decision d;
	pid_t pid[2];
	int i, j, ws;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	/* Two children take a's burst of 3 between them: 2 + 1. */
	for (i = 0; i < 2; i++) {
		assert_true((pid[i] = fork()) != -1);
		if (pid[i] == 0) {
			int bad = 0;

			pol_state_rebind(st, set);
			for (j = 0; j < 2 - i; j++) {
				ask(set, st, "a", "/r1", T0, 0, &d);
				bad += !d.allow;
			}
			_exit(bad);
		}
		assert_int_equal(waitpid(pid[i], &ws, 0), pid[i]);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), 0);
	}
	assert_int_equal(pol_state_rebind(st, set), 0);
	ask(set, st, "a", "/r1", T0, 0, &d);
	assert_false(d.allow);
	assert_int_equal(d.status, 429);
	pol_state_stats(st, &ss);
	assert_int_equal(ss.entries, 1);
	/* Half a second later one token is back, for whoever asks first. */
	assert_true((pid[0] = fork()) != -1);
	if (pid[0] == 0) {
		pol_state_rebind(st, set);
		ask(set, st, "a", "/r1", T0, 500, &d);
		_exit(d.allow ? 0 : 1);
	}
	assert_int_equal(waitpid(pid[0], &ws, 0), pid[0]);
	assert_int_equal(WEXITSTATUS(ws), 0);
	ask(set, st, "a", "/r1", T0, 500, &d);
	assert_false(d.allow);
	pol_state_free(st);
	pol_set_free(set);
}

/*
 * A worker killed while it holds a bucket lock does not wedge the others:
 * kill a child hammering a's buckets, many times, then decide again (an
 * alarm fails the test if a lock is never taken over).
 */
static void
test_dead_holder(void **state)
{
	struct pol_set *set = pt_load(policy, NULL);
	struct pol_state *st;
	struct pol_decision d;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int i, ws;
	pid_t pid;

	(void)state;
	assert_int_equal(pol_state_new(0, &st), 0);
	assert_int_equal(pol_state_rebind(st, set), 0);
	for (i = 0; i < 30; i++) {
		assert_true((pid = fork()) != -1);
		if (pid == 0) {
			pol_state_rebind(st, set);
			for (;;)
				ask(set, st, "a", "/r2", T0, 0, &d);
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &ws, 0), pid);
	}
	alarm(20);
	ask(set, st, "a", "/r2", T0, 0, &d);
	assert_false(d.allow);
	ask(set, st, "b", "/r1", T0, 0, &d);
	assert_true(d.allow);
	alarm(0);
	pol_state_free(st);
	pol_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_daily),
		cmocka_unit_test(test_route_limit),
		cmocka_unit_test(test_explain_does_not_consume),
		cmocka_unit_test(test_rebind),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_shared_by_processes),
		cmocka_unit_test(test_dead_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
