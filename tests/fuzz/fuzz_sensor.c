/*
 * libFuzzer target for the sensor path: link/IP decode and fragments
 * (det_pkt), flow table and TCP reassembly (det_flow, det_tcp), HTTP
 * observation, decoding and scanning (det_flow_http, det_decode) and the
 * detection stage (det_alert: attribution, bulk and scraping counters,
 * alerts as JSON lines to /dev/null), with small caps so eviction,
 * queue-full gaps and memcaps are reached.
 *
 * Input: one byte choosing the link type, then frames, each
 *   u16 length (big-endian), u8 time step (x 100 ms), length bytes.
 * Beyond "no crash" it checks: every transaction's strings are
 * NUL-terminated within their buffers, samples are masked, the counts add
 * up to nfindings, and every flow is gone after det_sensor_free().
 */
#include "detectors/det_alert.h"
#include "detectors/det_sensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do {						\
	if (!(x)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #x);					\
		abort();						\
	}								\
} while (0)

static const int dlts[] = {
	DET_DLT_EN10MB, DET_DLT_LINUX_SLL, DET_DLT_LINUX_SLL2, DET_DLT_NULL,
	DET_DLT_LOOP, DET_DLT_RAW_LINUX, DET_DLT_IPV4, DET_DLT_IPV6,
};

static void
check_txn(const struct det_sensor_txn *t, void *arg)
{
	uint32_t sum = 0;
	unsigned i;

	(void)arg;
	CHECK(memchr(t->method, 0, sizeof(t->method)) != NULL);
	CHECK(memchr(t->host, 0, sizeof(t->host)) != NULL);
	CHECK(memchr(t->path, 0, sizeof(t->path)) != NULL);
	CHECK(memchr(t->consumer, 0, sizeof(t->consumer)) != NULL);
	CHECK(memchr(t->coding, 0, sizeof(t->coding)) != NULL);
	CHECK(t->nsamples <= DET_TXN_SAMPLES);
	for (i = 0; i < DET_T_COUNT; i++)
		sum += t->req_counts[i] + t->resp_counts[i];
	CHECK(sum == t->nfindings);
	for (i = 0; i < t->nsamples; i++)
		CHECK(strchr(t->samples[i].masked, '*') != NULL);
	CHECK(t->flow != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct det_scanner *sc;
	static struct det_rules *rules;
	static FILE *devnull;
	static const char bulk[] = "bulk:\n"
	    "  - { name: r, type: any, scope: response, distinct: 2,"
	    " severity: high }\n"
	    "  - { name: c, type: any, scope: consumer, distinct: 3,"
	    " window: 1m, severity: high }\n"
	    "  - { name: s, type: nik, scope: source, distinct: 3,"
	    " window: 1m, severity: high }\n";
	struct det_alert_conf ac;
	struct det_alert *det = NULL;
	struct gb_idhdr_key key = { .len = 32 };
	struct det_sensor_conf conf;
	struct det_sensor *s;
	struct gb_buf b;
	uint64_t ts = 1700000000ull * 1000000;
	size_t i = 1, n;
	int dlt;

	if (size < 1)
		return 0;
	if (sc == NULL && det_scanner_new(NULL, &sc) == -1)
		return 0;
	if (rules == NULL) {
		struct gb_diags d;

		gb_diags_init(&d, 0);
		CHECK(det_rules_load_mem("fuzz", bulk, sizeof(bulk) - 1, &rules,
		    &d) == 0);
		gb_diags_free(&d);
		CHECK((devnull = fopen("/dev/null", "w")) != NULL);
	}
	memset(key.key, 'k', sizeof(key.key));
	det_alert_conf_default(&ac);
	ac.rules = rules;
	ac.sensor_id = "fuzz";
	ac.json = devnull;
	ac.consumer_key = (data[0] & 0x80) ? &key : NULL;
	ac.scrape_distinct = 2;
	ac.bulk.max_keys = 8;
	det_sensor_conf_default(&conf);
	conf.pkt.max_datagrams = 4;
	conf.pkt.frag_memcap = 64 * 1024;
	conf.flow.max_flows = 4;
	conf.flow.memcap = 256 * 1024;
	conf.flow.max_queued = 2048;
	conf.head_memcap = 16 * 1024;
	if (det_sensor_new(&conf, sc, &s) == -1)
		return 0;
	det_sensor_set_handler(s, check_txn, NULL);
	if (det_alert_new(&ac, &det) == 0)
		det_sensor_set_detector(s, det_alert_on_finding,
		    det_alert_on_txn, det);
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	while (i + 3 <= size) {
		n = (size_t)data[i] << 8 | data[i + 1];
		ts += (uint64_t)data[i + 2] * 100000;
		i += 3;
		if (n > size - i)
			n = size - i;
		{
			/* an exact-size copy: over-reads are caught */
			uint8_t *f = malloc(n ? n : 1);

			if (f == NULL)
				break;
			memcpy(f, data + i, n);
			det_sensor_frame(s, dlt, ts, f, n);
			free(f);
		}
		i += n;
	}
	gb_buf_init(&b, 1 << 16);
	CHECK(det_sensor_stats_json(s, NULL, &b) == 0);
	gb_buf_free(&b);
	det_sensor_finish(s);
	det_sensor_free(s);
	det_alert_free(det);
	return 0;
}
