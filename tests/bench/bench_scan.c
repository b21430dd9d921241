/*
 * bench_scan: throughput of the personal-data scanner (libgbdet) on three
 * generated bodies, and, when built with -DWITH_PCRE2 / -DWITH_HS, of the
 * same job done with PCRE2-JIT and Vectorscan regexes whose candidates go
 * through the same validators (det_valid_*). Run by
 * tests/bench/bench_scan.sh, never by the suite.
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
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/*
 * Each engine is timed by the wall clock and by the thread's CPU clock:
 * on a shared VM the wall clock also counts time the vCPU was taken away
 * (steal) or the thread waited, the CPU clock only time it ran. Both are
 * best of runs; last_cpu is the CPU-clock MB/s of the last bench call.
 */
static double	 last_cpu;
static double	 c_t0, c_best = 1e9;

static void
cpu_start(void)
{
	c_t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void
cpu_stop(void)
{
	double t = clock_s(CLOCK_THREAD_CPUTIME_ID) - c_t0;

	if (t < c_best)
		c_best = t;
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
		cpu_start();
		for (i = 0; i < n; i += chunk)
			det_stream_feed(st, p + i, n - i < chunk ? n - i :
			    chunk, count, NULL);
		det_stream_finish(st, count, NULL);
		t0 = now() - t0;
		cpu_stop();
		if (t0 < best)
			best = t0;
	}
	det_stream_free(st);
	last_cpu = (double)n / c_best / 1e6;
	c_best = 1e9;
	return (double)n / best / 1e6;
}

/*
 * The same detection written as regexes, the way a regex-based DLP does
 * it: candidates by pattern, then the same validators gerbang uses
 * (det_valid_*), so every engine reports validated identifiers. Context
 * (KK vs NIK, negative words) is not modelled: the regex side gets the
 * easier job.
 */
enum { R_NIK = 0, R_PHONE, R_NPWP, R_EMAIL, R_N };

static const char *const patterns[R_N] = {
	"(?<![0-9A-Za-z])[1-9][0-9]{15}(?![0-9A-Za-z])",
	"(?<![0-9A-Za-z])(?:\\+62|62|0)8[1-9][0-9]{7,10}(?![0-9])",
	"(?<![0-9])[0-9]{2}\\.[0-9]{3}\\.[0-9]{3}\\.[0-9]-[0-9]{3}\\.[0-9]{3}"
	    "(?![0-9])",
	"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
};

static uint64_t rx_found;

/* Validate one candidate p[0..n) matched by pattern id. */
static void
rx_validate(unsigned id, const uint8_t *p, size_t n)
{
	char norm[32];
	bool ok = false;

	switch (id) {
	case R_NIK:
		ok = det_valid_nik((const char *)p, n, NULL) ||
		    det_valid_kk((const char *)p, n) ||
		    det_valid_npwp((const char *)p, n);
		break;
	case R_PHONE:
		ok = det_valid_phone((const char *)p, n, norm,
		    sizeof(norm)) > 0;
		break;
	case R_NPWP:
		ok = det_valid_npwp((const char *)p, n);
		break;
	case R_EMAIL:
		ok = det_valid_email((const char *)p, n) &&
		    !det_email_is_role((const char *)p, n);
		break;
	default:
		break;
	}
	if (ok)
		rx_found++;
}

#ifdef WITH_PCRE2
static double
bench_pcre2(const uint8_t *p, size_t n, uint64_t *matches)
{
	pcre2_code *re;
	pcre2_match_data *md;
	char pat[1024];
	PCRE2_SIZE off, *ov;
	double t0, best = 1e9;
	int err, r, rc;
	unsigned k;
	PCRE2_SIZE eo;

	snprintf(pat, sizeof(pat), "(%s)|(%s)|(%s)|(%s)", patterns[0],
	    patterns[1], patterns[2], patterns[3]);
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &err,
	    &eo, NULL);
	if (re == NULL)
		return 0;
	if (pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
		fprintf(stderr, "pcre2: no JIT\n");
	md = pcre2_match_data_create_from_pattern(re, NULL);
	for (r = 0; r < 3; r++) {
		*matches = 0;
		rx_found = 0;
		off = 0;
		t0 = now();
		cpu_start();
		while ((rc = pcre2_jit_match(re, p, n, off, 0, md, NULL)) > 0) {
			ov = pcre2_get_ovector_pointer(md);
			(*matches)++;
			for (k = 1; k < (unsigned)rc; k++)
				if (ov[2 * k] != PCRE2_UNSET)
					break;
			rx_validate(k - 1, p + ov[0], ov[1] - ov[0]);
			off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
		t0 = now() - t0;
		cpu_stop();
		if (t0 < best)
			best = t0;
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	last_cpu = (double)n / c_best / 1e6;
	c_best = 1e9;
	return (double)n / best / 1e6;
}
#endif

#ifdef WITH_HS
struct hs_ctx {
	const uint8_t	*p;
	size_t		 n;
	uint64_t	*matches;
};

static bool
word(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

static int
on_hs(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *arg)
{
	struct hs_ctx *c = arg;
	uint8_t next = to < c->n ? c->p[to] : ' ';

	(void)flags;
	/*
	 * Vectorscan reports every end of a repeat: keep the longest
	 * (nothing of the pattern's class follows), and check the left
	 * boundary it cannot express.
	 */
	if (id == R_EMAIL && (word(next) || next == '.' || next == '-'))
		return 0;
	if (id != R_EMAIL && next >= '0' && next <= '9')
		return 0;
	if ((id == R_NIK || id == R_PHONE) && from > 0 &&
	    word(c->p[from - 1]))
		return 0;
	if (id == R_NIK && word(next))
		return 0;
	(*c->matches)++;
	rx_validate(id, c->p + from, (size_t)(to - from));
	return 0;
}

static double
bench_hs(const uint8_t *p, size_t n, uint64_t *matches)
{
	static const char *const hpat[R_N] = {
		"[1-9][0-9]{15}",
		"(\\+62|62|0)8[1-9][0-9]{7,10}",
		"[0-9]{2}\\.[0-9]{3}\\.[0-9]{3}\\.[0-9]-[0-9]{3}\\.[0-9]{3}",
		"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}",
	};
	unsigned ids[R_N] = { R_NIK, R_PHONE, R_NPWP, R_EMAIL }, fl[R_N];
	hs_database_t *db;
	hs_compile_error_t *ce;
	hs_scratch_t *scr = NULL;
	struct hs_ctx c;
	double t0, best = 1e9;
	int r;

	for (r = 0; r < R_N; r++)
		fl[r] = HS_FLAG_SOM_LEFTMOST;
	if (hs_compile_multi(hpat, fl, ids, R_N, HS_MODE_BLOCK, NULL, &db,
	    &ce) != HS_SUCCESS) {
		fprintf(stderr, "hs: %s\n", ce->message);
		return 0;
	}
	hs_alloc_scratch(db, &scr);
	for (r = 0; r < 3; r++) {
		size_t i, blk = 1 << 16, k;

		*matches = 0;
		rx_found = 0;
		t0 = now();
		cpu_start();
		/* 64 KiB blocks, like gerbang's 64 KiB chunks. */
		for (i = 0; i < n; i += k) {
			k = n - i < blk ? n - i : blk;
			c.p = p + i;
			c.n = k;
			c.matches = matches;
			hs_scan(db, (const char *)p + i, (unsigned)k, 0, scr,
			    on_hs, &c);
		}
		t0 = now() - t0;
		cpu_stop();
		if (t0 < best)
			best = t0;
	}
	hs_free_scratch(scr);
	hs_free_database(db);
	last_cpu = (double)n / c_best / 1e6;
	c_best = 1e9;
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
	double g64k, g1500, px = 0, hx = 0, best;
	double cpu[3][4] = { { 0 } };	/* per body: g64k g1500 pcre2 hs */
	uint64_t m = 0;
	int k;

	if ((buf = malloc(mb << 20)) == NULL || det_scanner_new(NULL, &sc))
		return 1;
	printf("%-6s %6s %12s %12s %12s %12s %8s   %s\n", "body", "MiB",
	    "gerbang-64k", "gerbang-1500", "pcre2-jit", "vectorscan",
	    "ratio", "findings gerbang / pcre2 / vectorscan");
	for (k = 0; k < 3; k++) {
		uint64_t fg, fp = 0, fh = 0;

		n = gen((char *)buf, mb << 20, k);
		g64k = bench_gerbang(sc, buf, n, 1 << 16);
		cpu[k][0] = last_cpu;
		g1500 = bench_gerbang(sc, buf, n, 1500);
		cpu[k][1] = last_cpu;
		fg = found;
#ifdef WITH_PCRE2
		px = bench_pcre2(buf, n, &m);
		cpu[k][2] = px > 0 ? last_cpu : 0;
		fp = rx_found;
#endif
#ifdef WITH_HS
		hx = bench_hs(buf, n, &m);
		cpu[k][3] = hx > 0 ? last_cpu : 0;
		fh = rx_found;
#endif
		(void)m;
		best = px > hx ? px : hx;
		printf("%-6s %6.1f %12.0f %12.0f %12.0f %12.0f %7.2fx   "
		    "%llu / %llu / %llu\n", kinds[k], (double)n / (1 << 20),
		    g64k, g1500, px, hx, best > 0 ? g64k / best : 0,
		    (unsigned long long)fg, (unsigned long long)fp,
		    (unsigned long long)fh);
	}
	printf("MB/s on one core by the wall clock, best of runs; ratio: "
	    "gerbang-64k over the faster regex engine (0: engine not "
	    "built)\n\n");
	printf("%-6s %6s %12s %12s %12s %12s %8s\n", "body", "",
	    "gerbang-64k", "gerbang-1500", "pcre2-jit", "vectorscan", "ratio");
	for (k = 0; k < 3; k++) {
		best = cpu[k][2] > cpu[k][3] ? cpu[k][2] : cpu[k][3];
		printf("%-6s %6s %12.0f %12.0f %12.0f %12.0f %7.2fx\n",
		    kinds[k], "cpu", cpu[k][0], cpu[k][1], cpu[k][2],
		    cpu[k][3], best > 0 ? cpu[k][0] / best : 0);
	}
	printf("The same runs by the thread's CPU clock (time the vCPU "
	    "really ran: no steal, no waiting)\n");
	det_scanner_free(sc);
	free(buf);
	return 0;
}
