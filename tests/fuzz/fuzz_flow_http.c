/*
 * libFuzzer target for detectors/det_flow_http.c alone (no packets): the
 * HTTP observer fed chunks of both directions of one connection, with gaps.
 *
 * Input: records of  u8 op, u16 length (big-endian), length bytes;
 *   op & 1     the direction (endpoint 0 or 1)
 *   op & 0x80  a gap of length bytes instead of data (nothing follows)
 *   op & 0x40  that direction's FIN after the record
 * Checks: transactions well formed (NUL-terminated strings, counts sum to
 * nfindings, samples masked), no head memory left after the flow ends.
 */
#include "detectors/det_flow_http.h"

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
	for (i = 0; i < DET_T_COUNT; i++)
		sum += t->req_counts[i] + t->resp_counts[i];
	CHECK(sum == t->nfindings);
	for (i = 0; i < t->nsamples; i++)
		CHECK(strchr(t->samples[i].masked, '*') != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct det_scanner *sc;
	struct det_http_obs *o;
	struct det_flow_app app;
	struct det_flow f;
	uint64_t off[2] = { 0, 0 };
	size_t i = 0, n;
	bool fin[2] = { false, false };

	if (sc == NULL && det_scanner_new(NULL, &sc) == -1)
		return 0;
	if (det_http_obs_new(sc, 256 * 1024, check_txn, NULL, &o) == -1)
		return 0;
	det_http_obs_app(o, &app);
	memset(&f, 0, sizeof(f));
	f.key.family = 4;
	while (i + 3 <= size) {
		uint8_t op = data[i];
		int dir = op & 1;

		n = (size_t)data[i + 1] << 8 | data[i + 2];
		i += 3;
		if (fin[dir])
			continue;
		if (op & 0x80) {
			app.data(app.ctx, &f, dir, off[dir], NULL, n);
		} else {
			uint8_t *p;

			if (n > size - i)
				n = size - i;
			if ((p = malloc(n ? n : 1)) == NULL)
				break;
			memcpy(p, data + i, n);
			if (n > 0)
				app.data(app.ctx, &f, dir, off[dir], p, n);
			free(p);
			i += n;
		}
		off[dir] += n;
		if (op & 0x40) {
			fin[dir] = true;
			app.fin(app.ctx, &f, dir);
		}
	}
	app.end(app.ctx, &f, DET_FLOW_END_SHUTDOWN);
	CHECK(f.app == NULL);
	CHECK(det_http_obs_mem(o) == 0);
	det_http_obs_free(o);
	return 0;
}
