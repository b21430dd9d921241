/*
 * Helpers shared by the store unit tests: varied alerts, temporary store
 * folders, a signing key, and inputs placed before a PROT_NONE page.
 * Include after cmocka.h.
 */
#ifndef STORE_TEST_H
#define STORE_TEST_H

#include <sys/mman.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static const char *const t_rules[] = { "bulk-nik", "bulk-phone",
	"bulk-email", "scrape-kk" };
static const char *const t_cons[] = { "", "dukcapil", "bpjs", "pajak" };
static const char *const t_types[] = { "nik", "kk", "npwp", "phone",
	"email", "card", "nip", "bpjs", "passport" };

#define T_DAY_NS	(86400ULL * 1000000000ULL)
#define T_BASE_NS	(1763769600ULL * 1000000000ULL)	/* 2025-11-22 */

/*
 * Alert number i (any i), with fields that vary by i so every index has
 * several keys. Strings point to static data.
 */
static inline void
t_alert(uint64_t i, struct store_alert *a)
{
	static char msg[64];

	memset(a, 0, sizeof(*a));
	a->time_ns = T_BASE_NS + (i % 5000) * 60ULL * 1000000000ULL +
	    (i * 7919) % 1000;
	a->severity = (uint8_t)(i % STORE_SEV_COUNT);
	a->sensor = store_str(i % 2 ? "sensor-a" : "gateway-1");
	a->rule = store_str(t_rules[i % 4]);
	a->consumer = store_str(t_cons[(i / 3) % 4]);
	if (i % 5 != 4) {
		a->af = i % 5 == 3 ? STORE_AF_INET6 : STORE_AF_INET;
		if (a->af == STORE_AF_INET) {
			a->src[0] = 10;
			a->src[1] = (uint8_t)(i % 3);
			a->src[3] = (uint8_t)i;
			a->dst[0] = 192;
			a->dst[1] = 168;
			a->dst[3] = 1;
		} else {
			a->src[0] = 0x20;
			a->src[1] = 0x01;
			a->src[15] = (uint8_t)i;
			a->dst[0] = 0xfd;
			a->dst[15] = 1;
		}
		a->sport = (uint16_t)(1024 + i % 60000);
		a->dport = 443;
		a->proto = 6;
	}
	a->method = store_str("GET");
	a->host = store_str("api.example.go.id");
	a->path = store_str("/api/penduduk?page=2");
	a->status = 200;
	a->bytes = 1000 + i;
	a->win_start_ns = a->time_ns - 60000000000ULL;
	a->win_end_ns = a->time_ns;
	a->incident = store_str(i % 7 == 0 ? "INC-7" : "");
	snprintf(msg, sizeof(msg), "alert %llu", (unsigned long long)i);
	a->message = store_str(msg);
	a->ncounts = 1 + i % 3;
	for (size_t k = 0; k < a->ncounts; k++) {
		a->counts[k].type = store_str(t_types[(i + k) % 9]);
		a->counts[k].count = 100 + i + k;
		a->counts[k].distinct = 90 + i % 10;
	}
	a->nsamples = 1;
	a->samples[0].type = store_str(t_types[i % 9]);
	a->samples[0].value = store_str("3171********0001");
}

static inline int
t_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

/* A fresh temporary folder (caller frees, t_rmdir()). */
static inline char *
t_tmpdir(void)
{
	char tmpl[] = "/tmp/gb-store-test-XXXXXX", *d;

	d = mkdtemp(tmpl);
	return d != NULL ? strdup(d) : NULL;
}

static inline void
t_rmdir(char *d)
{
	if (d != NULL)
		(void)nftw(d, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}

/* A new Ed25519 key (caller owns). */
static inline EVP_PKEY *
t_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

/* A copy of p[0..n) that ends right before a PROT_NONE page. */
struct t_guard {
	uint8_t	*map;
	size_t	 maplen;
	uint8_t	*p;
};

static inline uint8_t *
t_guard_copy(struct t_guard *g, const void *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + pg - 1) / pg * pg;

	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + data, pg, PROT_NONE), 0);
	g->p = g->map + data - n;
	if (n > 0)
		memcpy(g->p, p, n);
	return g->p;
}

static inline void
t_guard_free(struct t_guard *g)
{
	munmap(g->map, g->maplen);
}

/* Write n alerts t_alert(first..first+n) through a writer. */
static inline void
t_fill(const char *dir, uint64_t first, uint64_t n, EVP_PKEY *key,
    size_t batch)
{
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_alert a;
	char err[256];
	uint64_t i;

	memset(&o, 0, sizeof(o));
	o.key = key;
	o.batch = batch;
	assert_int_equal(store_writer_open(dir, &o, &w, err, sizeof(err)), 0);
	for (i = first; i < first + n; i++) {
		t_alert(i, &a);
		assert_int_equal(store_writer_append(w, &a), 0);
	}
	assert_int_equal(store_writer_close(w), 0);
}

#endif /* STORE_TEST_H */
