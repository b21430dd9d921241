/*
 * Unit tests for store/store_writer.c: group commit by count and by time;
 * two writer processes extend one chain; a writer killed (SIGKILL) mid-batch
 * many times leaves a store that opens, verifies, and holds every alert of
 * every committed batch; a failing disk (RLIMIT_FSIZE) keeps alerts in
 * memory up to the cap, counts what is refused past it, and commits the
 * rest once writing works again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "core/gb_log.h"
#include "core/gb_util.h"
#include "store_test.h"

static void
test_group_commit(void **state)
{
	struct store_writer_opts o;
	struct store_writer_stats s;
	struct store_writer *w;
	struct store_alert a;
	char *dir = t_tmpdir(), err[256];
	uint64_t i, now;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.batch = 100;
	o.batch_ms = 5000;
	assert_int_equal(store_writer_open(dir, &o, &w, err, sizeof(err)), 0);
	for (i = 1; i <= 250; i++) {
		t_alert(i, &a);
		assert_int_equal(store_writer_append(w, &a), 0);
	}
	store_writer_stats(w, &s);
	assert_int_equal(s.committed, 200);
	assert_int_equal(s.batches, 2);
	assert_int_equal(s.pending, 50);
	assert_int_equal(s.last_id, 200);
	now = gb_now_ms();
	assert_int_equal(store_writer_tick(w, now), 0);
	store_writer_stats(w, &s);
	assert_int_equal(s.committed, 200);
	assert_int_equal(store_writer_tick(w, now + 5000), 0);
	store_writer_stats(w, &s);
	assert_int_equal(s.committed, 250);
	assert_int_equal(s.pending, 0);
	/* An invalid alert is refused and counted. */
	t_alert(1, &a);
	a.severity = 9;
	assert_int_equal(store_writer_append(w, &a), -1);
	assert_int_equal(errno, EINVAL);
	store_writer_stats(w, &s);
	assert_int_equal(s.invalid, 1);
	assert_int_equal(store_writer_close(w), 0);
	t_rmdir(dir);
}

/* Writer process: n alerts with message "<tag> <k>", batches of 37. */
static void
child_write(const char *dir, EVP_PKEY *key, const char *tag, int n)
{
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_alert a;
	char err[256], msg[64];
	int k;

	memset(&o, 0, sizeof(o));
	o.batch = 37;
	o.key = key;
	o.ckpt_every = 500;
	if (store_writer_open(dir, &o, &w, err, sizeof(err)) == -1)
		_exit(10);
	for (k = 0; k < n; k++) {
		t_alert((uint64_t)k, &a);
		a.sensor = store_str(tag);
		snprintf(msg, sizeof(msg), "%s %d", tag, k);
		a.message = store_str(msg);
		if (store_writer_append(w, &a) == -1)
			_exit(11);
	}
	_exit(store_writer_close(w) == 0 ? 0 : 12);
}

struct per_writer {
	int	next[2];
	bool	bad;
};

static int
order_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	struct per_writer *p = arg;
	int w = a->sensor.n > 0 && a->sensor.p[a->sensor.n - 1] == '2';
	char want[64];

	(void)link;
	snprintf(want, sizeof(want), "w%d %d", w + 1, p->next[w]);
	if (a->message.n != strlen(want) || memcmp(a->message.p, want,
	    a->message.n) != 0)
		p->bad = true;
	p->next[w]++;
	return 0;
}

static void
test_two_writer_processes(void **state)
{
	char *dir = t_tmpdir(), err[256];
	EVP_PKEY *key = t_key(), *pub;
	struct store_verify v;
	struct store_query q;
	struct per_writer p;
	struct store *st;
	pid_t pids[2];
	int i, status;
	uint8_t raw[32];
	size_t rn = sizeof(raw);

	(void)state;
	/* Create the store first so both children open an existing one. */
	assert_int_equal(store_open(dir, STORE_CREATE, &st, err, sizeof(err)),
	    0);
	store_close(st);
	for (i = 0; i < 2; i++) {
		assert_true((pids[i] = fork()) >= 0);
		if (pids[i] == 0)
			child_write(dir, key, i == 0 ? "w1" : "w2", 3000);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(EVP_PKEY_get_raw_public_key(key, raw, &rn), 1);
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rn);
	assert_non_null(pub);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    0);
	assert_int_equal(store_verify_run(st, &pub, 1, &v), 0);
	assert_int_equal(v.records, 6000);
	assert_int_equal(v.signed_id, 6000);
	/* Each writer's alerts are all there, in its own order by id. */
	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	q.after_id = 0;
	for (uint64_t id = 1; id <= 6000; id++) {
		struct store_alert a;

		assert_int_equal(store_get(st, id, &a, NULL), 0);
		order_cb(&a, NULL, &p);
	}
	assert_false(p.bad);
	assert_int_equal(p.next[0], 3000);
	assert_int_equal(p.next[1], 3000);
	store_close(st);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
	t_rmdir(dir);
}

/*
 * Crash writer: batches of 50 alerts whose message is "c <k>", flushed
 * explicitly; after each commit it writes the last committed k to fd.
 */
static void
child_crash(const char *dir, EVP_PKEY *key, int fd, int start)
{
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_alert a;
	char err[256], msg[64];
	int k;

	memset(&o, 0, sizeof(o));
	o.batch = 1000000;
	o.queue_cap = 1000000;
	o.key = key;
	o.ckpt_every = 120;
	if (store_writer_open(dir, &o, &w, err, sizeof(err)) == -1)
		_exit(10);
	for (k = start;; k++) {
		t_alert((uint64_t)k, &a);
		snprintf(msg, sizeof(msg), "c %d", k);
		a.message = store_str(msg);
		if (store_writer_append(w, &a) == -1)
			_exit(11);
		if ((k + 1) % 50 == 0) {
			if (store_writer_flush(w) == -1)
				_exit(12);
			if (write(fd, &k, sizeof(k)) != sizeof(k))
				_exit(13);
		}
	}
}

static int
count_cb(const struct store_alert *a, const uint8_t *link, void *arg)
{
	(void)a;
	(void)link;
	(*(uint64_t *)arg)++;
	return 0;
}

static void
test_sigkill_mid_batch(void **state)
{
	char *dir = t_tmpdir(), err[256];
	EVP_PKEY *key = t_key();
	struct store_verify v;
	struct store_query q;
	struct store *st;
	int round, status, fds[2], k, last, next = 0;
	unsigned seed = (unsigned)time(NULL);
	pid_t pid;

	(void)state;
	srand(seed);
	/*
	 * Created first (gerbang-store init): a kill during the very first
	 * open would leave an LMDB file without the store's databases,
	 * which store_open() rightly calls "not a gerbang store".
	 */
	assert_int_equal(store_open(dir, STORE_CREATE, &st, err, sizeof(err)),
	    0);
	store_close(st);
	for (round = 0; round < 30; round++) {
		struct timespec ts = { 0, (long)(rand() % 40 + 1) * 1000000L };

		assert_int_equal(pipe(fds), 0);
		assert_true((pid = fork()) >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_crash(dir, key, fds[1], next);
		}
		close(fds[1]);
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		last = next - 1;
		while (read(fds[0], &k, sizeof(k)) == sizeof(k))
			last = k;
		close(fds[0]);
		/* Opens, verifies, holds every committed alert. */
		if (store_open(dir, STORE_RDONLY, &st, err, sizeof(err)) != 0)
			fail_msg("round %d: %s", round, err);
		if ((status = store_verify_run(st, NULL, 0, &v)) != 0)
			fail_msg("round %d (seed %u): %s", round, seed,
			    status == -1 ? store_errstr(st) : v.msg);
		assert_true(v.records >= (uint64_t)(last + 1));
		for (k = 0; k <= last; k++) {
			struct store_alert a;
			char want[32];

			assert_int_equal(store_get(st, (uint64_t)k + 1, &a,
			    NULL), 0);
			snprintf(want, sizeof(want), "c %d", k);
			assert_int_equal(a.message.n, strlen(want));
			assert_memory_equal(a.message.p, want, a.message.n);
		}
		/* Indexes agree with the records after the crash. */
		memset(&q, 0, sizeof(q));
		q.rule = "bulk-nik";
		{
			uint64_t n = 0, exp = 0;

			assert_int_equal(store_query_run(st, &q, count_cb, &n),
			    0);
			for (k = 0; k < (int)v.records; k++)
				exp += k % 4 == 0;
			assert_int_equal(n, exp);
		}
		/* The next writer continues where the store ends. */
		next = (int)v.records;
		store_close(st);
	}
	/* The kills landed after commits, not only before the first. */
	assert_true(next >= 100);
	EVP_PKEY_free(key);
	t_rmdir(dir);
}

/* Full disk, in a child (RLIMIT_FSIZE is per process). */
static void
child_full_disk(const char *dir)
{
	struct store_writer_opts o;
	struct store_writer_stats s;
	struct store_writer *w;
	struct store_alert a;
	struct rlimit rl;
	char err[256];
	uint64_t i, refused = 0;
	struct stat sb;
	char path[512];

	signal(SIGXFSZ, SIG_IGN);
	gb_log_open("test", NULL, GB_LOG_TEXT, GB_LOG_CRIT + 1);
	memset(&o, 0, sizeof(o));
	o.batch = 100;
	o.queue_cap = 1000;
	if (store_writer_open(dir, &o, &w, err, sizeof(err)) == -1)
		_exit(10);
	for (i = 1; i <= 100; i++) {
		t_alert(i, &a);
		if (store_writer_append(w, &a) == -1)
			_exit(11);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) == -1)
		_exit(12);
	/* The disk is "full": the file cannot grow past its size now. */
	rl.rlim_cur = (rlim_t)sb.st_size;
	rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		_exit(13);
	for (i = 101; i <= 1500; i++) {
		t_alert(i, &a);
		if (store_writer_append(w, &a) == -1) {
			if (errno != ENOBUFS)
				_exit(14);
			refused++;
		}
	}
	store_writer_stats(w, &s);
	if (s.commit_errors == 0 || s.pending != 1000 || s.lost != refused ||
	    refused != 400 || s.committed != 100)
		_exit(15);
	/* Still failing: a tick keeps them. */
	if (store_writer_tick(w, gb_now_ms() + 2000) != -1)
		_exit(16);
	/* Space again: the next tick after the retry delay commits all. */
	rl.rlim_cur = RLIM_INFINITY;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		_exit(17);
	if (store_writer_tick(w, gb_now_ms() + 4000) != 0)
		_exit(18);
	store_writer_stats(w, &s);
	if (s.committed != 1100 || s.pending != 0 || s.last_id != 1100)
		_exit(19);
	_exit(store_writer_close(w) == 0 ? 0 : 20);
}

static void
test_full_disk(void **state)
{
	char *dir = t_tmpdir(), err[256];
	struct store_verify v;
	struct store *st;
	int status;
	pid_t pid;

	(void)state;
	assert_true((pid = fork()) >= 0);
	if (pid == 0)
		child_full_disk(dir);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(store_open(dir, STORE_RDONLY, &st, err, sizeof(err)),
	    0);
	assert_int_equal(store_verify_run(st, NULL, 0, &v), 0);
	assert_int_equal(v.records, 1100);
	store_close(st);
	t_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_two_writer_processes),
		cmocka_unit_test(test_sigkill_mid_batch),
		cmocka_unit_test(test_full_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
