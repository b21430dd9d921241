/*
 * bench_scan: throughput of the personal-data scanner (libgbdet) on three
 * generated bodies, and, when built with -DWITH_PCRE2 / -DWITH_HS, of the
 * same job done with PCRE2-JIT and Vectorscan regexes (candidate
 * extraction only: the regex engines do no validation, so they are given
 * the easier job). Run by tests/bench/bench_scan.sh, never by the suite.
 *
 *	dense   JSON records with NIK, KK, phone, NPWP, e-mail in every record
 *	clean   JSON records of the same shape without identifiers
 *	text    Indonesian prose with a few identifiers
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detectors/det_scan.h"

#ifdef WITH_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
#ifdef WITH_HS
#include <hs/hs.h>
#endif

#define SIZE	(64u << 20)

static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const districts[] = { "317101", "317102", "327301",
    "357801", "337401", "120101", "730101", "510101", "910101", "640101" };
static const char *const names[] = { "BUDI SANTOSO", "SITI AMINAH",
    "AGUS SETIAWAN", "DEWI LESTARI", "RIZKI PRATAMA", "PUTRI WULANDARI" };

static int
nik(char *o, bool kk)
{
	unsigned day = 1 + rnd(28) + (!kk && rnd(2) ? 40 : 0);

	return sprintf(o, "%s%02u%02u%02u%04u", districts[rnd(10)], day,
	    1 + rnd(12), rnd(100), 1 + rnd(9999));
}

static size_t
gen(char *buf, size_t cap, int kind)
{
	size_t n = 0;
	char a[32], b[32];
	int k;

	while (n + 512 < cap) {
		if (kind == 0) {
			nik(a, false);
			nik(b, true);
			k = snprintf(buf + n, cap - n,
			    "{\"nik\":\"%s\",\"no_kk\":\"%s\",\"nama\":\"%s\","
			    "\"tanggal_lahir\":\"19%02u-%02u-%02u\","
			    "\"no_hp\":\"08%u%09u\",\"npwp\":\"%s\","
			    "\"email\":\"user%u@example.co.id\"},\n",
			    a, b, names[rnd(6)], rnd(100), 1 + rnd(12),
			    1 + rnd(28), 11 + rnd(3), rnd(1000000000),
			    "01.312.166.0-091.000", rnd(100000));
		} else if (kind == 1) {
			k = snprintf(buf + n, cap - n,
			    "{\"id\":%u,\"nama\":\"%s\",\"status\":\"aktif\","
			    "\"kecamatan\":\"Menteng\",\"jumlah\":%u,"
			    "\"keterangan\":\"data agregat tanpa identitas\","
			    "\"diperbarui\":\"2024-%02u-%02u\"},\n",
			    rnd(100000), names[rnd(6)], rnd(1000),
			    1 + rnd(12), 1 + rnd(28));
		} else {
			nik(a, false);
			k = snprintf(buf + n, cap - n,
			    "Bersama surat ini kami sampaikan bahwa warga "
			    "dengan nama %s telah terdaftar pada tanggal "
			    "%u Juni 2024 di kantor kelurahan. %s\n",
			    names[rnd(6)], 1 + rnd(28),
			    rnd(8) == 0 ? a : "Terima kasih.");
		}
		n += (size_t)k;
	}
	return n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t found;

static void
count(const struct det_finding *f, void *arg)
{
	(void)f;
	(void)arg;
	found++;
}

static double
bench_gerbang(const struct det_scanner *sc, const uint8_t *p, size_t n,
    size_t chunk)
{
	struct det_stream *st;
	double t0, best = 1e9;
	size_t i;
	int r;

	det_stream_new(sc, &st);
	for (r = 0; r < 5; r++) {
		found = 0;
		det_stream_reset(st);
		t0 = now();
		for (i = 0; i < n; i += chunk)
			det_stream_feed(st, p + i, n - i < chunk ? n - i :
			    chunk, count, NULL);
		det_stream_finish(st, count, NULL);
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	det_stream_free(st);
	return (double)n / best / 1e6;
}

/* Candidate patterns a regex-based DLP would use. */
static const char *const patterns[] = {
	"(?<![0-9A-Za-z])[1-9][0-9]{15}(?![0-9A-Za-z])",
	"(?<![0-9A-Za-z])(?:\\+62|62|0)8[1-9][0-9]{7,10}(?![0-9])",
	"[0-9]{2}\\.[0-9]{3}\\.[0-9]{3}\\.[0-9]-[0-9]{3}\\.[0-9]{3}",
	"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
};

#ifdef WITH_PCRE2
static double
bench_pcre2(const uint8_t *p, size_t n, uint64_t *matches)
{
	pcre2_code *re;
	pcre2_match_data *md;
	char pat[1024];
	PCRE2_SIZE off, *ov;
	double t0, best = 1e9;
	int err, r;
	PCRE2_SIZE eo;

	snprintf(pat, sizeof(pat), "%s|%s|%s|%s", patterns[0], patterns[1],
	    patterns[2], patterns[3]);
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &err,
	    &eo, NULL);
	if (re == NULL)
		return 0;
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	md = pcre2_match_data_create_from_pattern(re, NULL);
	for (r = 0; r < 3; r++) {
		*matches = 0;
		off = 0;
		t0 = now();
		while (pcre2_jit_match(re, p, n, off, 0, md, NULL) > 0) {
			ov = pcre2_get_ovector_pointer(md);
			(*matches)++;
			off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return (double)n / best / 1e6;
}
#endif

#ifdef WITH_HS
static int
on_hs(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

static double
bench_hs(const uint8_t *p, size_t n, uint64_t *matches)
{
	/* Vectorscan has no lookbehind: boundaries become plain classes. */
	static const char *const hpat[] = {
		"[^0-9A-Za-z][1-9][0-9]{15}[^0-9A-Za-z]",
		"[^0-9A-Za-z](\\+62|62|0)8[1-9][0-9]{7,10}[^0-9]",
		"[0-9]{2}\\.[0-9]{3}\\.[0-9]{3}\\.[0-9]-[0-9]{3}\\.[0-9]{3}",
		"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
	};
	unsigned ids[4] = { 0, 1, 2, 3 }, fl[4];
	hs_database_t *db;
	hs_compile_error_t *ce;
	hs_scratch_t *scr = NULL;
	double t0, best = 1e9;
	int r;

	for (r = 0; r < 4; r++)
		fl[r] = HS_FLAG_SINGLEMATCH;
	if (hs_compile_multi(hpat, fl, ids, 4, HS_MODE_BLOCK, NULL, &db,
	    &ce) != HS_SUCCESS) {
		fprintf(stderr, "hs: %s\n", ce->message);
		return 0;
	}
	hs_alloc_scratch(db, &scr);
	for (r = 0; r < 3; r++) {
		size_t i, blk = 1 << 16;

		*matches = 0;
		t0 = now();
		/* Per 64 KiB block: SINGLEMATCH counts blocks that match. */
		for (i = 0; i < n; i += blk)
			hs_scan(db, (const char *)p + i, (unsigned)(n - i < blk ?
			    n - i : blk), 0, scr, on_hs, matches);
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	hs_free_scratch(scr);
	hs_free_database(db);
	return (double)n / best / 1e6;
}
#endif

int
main(int argc, char *argv[])
{
	static const char *const kinds[] = { "dense", "clean", "text" };
	struct det_scanner *sc;
	size_t n, mb = argc > 1 ? (size_t)atoi(argv[1]) : 64;
	uint8_t *buf;
	double g64k, g1500;
	uint64_t m;
	int k;

	if ((buf = malloc(mb << 20)) == NULL || det_scanner_new(NULL, &sc))
		return 1;
	printf("%-6s %10s %12s %12s", "body", "MiB", "gerbang-64k",
	    "gerbang-1500");
#ifdef WITH_PCRE2
	printf(" %12s", "pcre2-jit");
#endif
#ifdef WITH_HS
	printf(" %12s", "vectorscan");
#endif
	printf("   MB/s, findings\n");
	for (k = 0; k < 3; k++) {
		n = gen((char *)buf, mb << 20, k);
		g64k = bench_gerbang(sc, buf, n, 1 << 16);
		g1500 = bench_gerbang(sc, buf, n, 1500);
		printf("%-6s %10.1f %12.0f %12.0f", kinds[k],
		    (double)n / (1 << 20), g64k, g1500);
#ifdef WITH_PCRE2
		printf(" %12.0f", bench_pcre2(buf, n, &m));
#endif
#ifdef WITH_HS
		printf(" %12.0f", bench_hs(buf, n, &m));
#endif
		(void)m;
		printf("   %llu findings\n", (unsigned long long)found);
	}
	det_scanner_free(sc);
	free(buf);
	return 0;
}
