/*
 * det_alert: the sensor's detection stage. It sits behind the HTTP
 * observer (det_flow_http.h) and turns findings into alerts:
 *
 *   attribution  the X-Gerbang-Consumer header of each transaction is
 *                checked with the key the gateway signs it with
 *                (core/gb_idhdr.h): a verified consumer, an unsigned or
 *                unchecked one, or a forged one (bad signature: an alert
 *                of its own, and the transaction counts for its source
 *                address only);
 *   bulk         every finding goes to the bulk evaluator (det_bulk.h)
 *                under its subjects: the response, the TCP flow, the
 *                client address and the consumer; threshold crossings
 *                become alerts, one per key and window, escalating;
 *   scraping     identifiers in request paths (/api/penduduk/{nik}) are
 *                counted per consumer (else source) and path template:
 *                many distinct ones in a window is scraping;
 *   health       capture loss over a ratio raises a sensor-health alert.
 *
 * Alerts go to the store (store/store.h writer, group-committed) and as
 * JSON lines (the export format of gerbang-audit) to a file for a SIEM.
 * Times are capture times, so an offline capture gives the alerts it would
 * have given live.
 *
 * A detector belongs to one thread.
 */
#ifndef DET_ALERT_H
#define DET_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/gb_idhdr.h"
#include "detectors/det_bulk.h"
#include "detectors/det_flow_http.h"
#include "detectors/det_rules.h"
#include "detectors/det_scan.h"
#include "detectors/det_sensor.h"
#include "store/store.h"

struct det_alert_conf {
	const struct det_rules	*rules;		/* borrowed */
	const char		*sensor_id;	/* borrowed */
	struct store_writer	*store;		/* borrowed; NULL: none */
	FILE			*json;		/* borrowed; NULL: none */
	const struct gb_idhdr_key *consumer_key; /* NULL: not checked */
	int64_t			 max_skew_s;	/* header ts vs capture; 300 */
	struct det_bulk_limits	 bulk;
	/* Scraping: more than scrape_distinct identifiers in request paths
	 * of one template from one consumer (or source) in scrape_window. */
	uint64_t		 scrape_distinct;	/* 0: off; default 100 */
	uint64_t		 scrape_window_ms;	/* 10 min */
	enum det_severity	 scrape_severity;	/* high */
	double			 loss_ratio;	/* health alert above; 0.001 */
};

struct det_alert_stats {
	uint64_t	alerts;		/* raised */
	uint64_t	stored;		/* accepted by the store writer */
	uint64_t	store_refused;	/* refused by it (lost: reported) */
	uint64_t	consumer_verified;
	uint64_t	consumer_unsigned;
	uint64_t	consumer_forged;
	uint64_t	consumer_stale;	/* signed, timestamp too far off */
	uint64_t	consumer_malformed;
	uint64_t	scrape_keys;
};

struct det_alert;

void	det_alert_conf_default(struct det_alert_conf *c);
/* Returns 0 with *out (caller owns, det_alert_free()), or -1. */
int	det_alert_new(const struct det_alert_conf *c, struct det_alert **out);
void	det_alert_free(struct det_alert *a);

/*
 * The observer's hooks: every finding as it is made, every transaction
 * when it ends; arg is the struct det_alert. For DET_WHERE_PATH, t->path
 * is the target as sent (the finding's offset and length are in it); the
 * template the scraping counters use replaces every identifier in it.
 */
void	det_alert_on_finding(const struct det_sensor_txn *t,
	    enum det_where where, const struct det_finding *f, void *arg);
void	det_alert_on_txn(const struct det_sensor_txn *t, void *arg);

/*
 * Capture counters at capture time now_us: raise a sensor-health alert
 * when the packets lost since the last call exceed loss_ratio of those
 * received.
 */
void	det_alert_health(struct det_alert *a,
	    const struct det_sensor_capstats *cap, uint64_t now_us);

void	det_alert_stats(const struct det_alert *a, struct det_alert_stats *s);

#endif /* DET_ALERT_H */
