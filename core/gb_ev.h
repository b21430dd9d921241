/*
 * gb_ev: the event loop every gerbang daemon runs, in the shape of Redis'
 * ae: file events on epoll (level-triggered) and timers, one loop per
 * thread or process.
 *
 * File events: one callback per fd, called with the ready mask
 * (GB_EV_READ, GB_EV_WRITE; errors and hang-ups are reported as both so the
 * next read or write sees them). Timers are intrusive: the caller embeds a
 * struct gb_ev_timer in its own object and owns it; the loop keeps them in
 * a binary heap, so arming, re-arming and cancelling are O(log n) and 10,000
 * connections with their own timeouts cost nothing while idle.
 *
 * Never free an object from inside its own callback while the loop may
 * still call it: gb_ev_del() and gb_ev_timer_cancel() first, then free is
 * safe (the loop looks each fd up again before every callback).
 * Not thread-safe: one owner thread.
 */
#ifndef GB_EV_H
#define GB_EV_H

#include <stddef.h>
#include <stdint.h>

#define GB_EV_READ	0x01
#define GB_EV_WRITE	0x02
#define GB_EV_EXCLUSIVE	0x04	/* EPOLLEXCLUSIVE: for listeners shared by
				   several processes (only with gb_ev_add) */
#define GB_EV_HUP	0x10	/* reported only: the peer closed or the
				   socket failed (EPOLLRDHUP, HUP, ERR) */
#define GB_EV_EDGE	0x08	/* edge-triggered (EPOLLET): the callback is
				   told only of new readiness; the owner
				   reads and writes until EAGAIN and remembers
				   readiness itself. Registered once, never
				   modified: no epoll_ctl per request. */

struct gb_ev;

typedef void gb_ev_fd_cb(struct gb_ev *ev, int fd, void *arg, unsigned mask);
typedef void gb_ev_timer_cb(struct gb_ev *ev, void *arg);
typedef void gb_ev_hook_cb(struct gb_ev *ev, void *arg);

struct gb_ev_timer {
	uint64_t	 when;		/* gb_ev_now() ms when it fires */
	size_t		 slot;		/* heap index + 1; 0 = not armed */
	gb_ev_timer_cb	*cb;
	void		*arg;
};

/* Flag decoder for log and debug output ("READ|WRITE"). */
const char *gb_ev_flags_str(unsigned mask, char *buf, size_t len);

/* Create a loop; caller owns, gb_ev_free(). Returns 0 or -1 (errno). */
int	gb_ev_new(struct gb_ev **out);
void	gb_ev_free(struct gb_ev *ev);

/*
 * Watch fd for mask with cb(arg); replaces an earlier registration of fd.
 * Returns 0 or -1 (errno from epoll_ctl).
 */
int	gb_ev_add(struct gb_ev *ev, int fd, unsigned mask, gb_ev_fd_cb *cb,
	    void *arg);
/* Change the mask of a registered fd (cheap when unchanged). 0 or -1. */
int	gb_ev_mod(struct gb_ev *ev, int fd, unsigned mask);
/* The current mask of fd, 0 when not registered. */
unsigned gb_ev_mask(const struct gb_ev *ev, int fd);
/* Stop watching fd. Safe on an unregistered fd. Call before close(fd). */
void	gb_ev_del(struct gb_ev *ev, int fd);
/*
 * Forget fd without telling epoll, for a descriptor that is closed before
 * the loop next waits and was never dup()ed or inherited: close() takes it
 * out of the epoll set, so this saves the epoll_ctl() of gb_ev_del().
 * Events of fd already fetched in this turn are dropped. Safe on an
 * unregistered fd.
 */
void	gb_ev_forget(struct gb_ev *ev, int fd);

void	gb_ev_timer_init(struct gb_ev_timer *t, gb_ev_timer_cb *cb, void *arg);
/* Arm (or re-arm) t to fire once, after_ms from now. */
void	gb_ev_timer_set(struct gb_ev *ev, struct gb_ev_timer *t,
	    uint64_t after_ms);
void	gb_ev_timer_cancel(struct gb_ev *ev, struct gb_ev_timer *t);
static inline int
gb_ev_timer_armed(const struct gb_ev_timer *t)
{
	return t->slot != 0;
}

/* Called once per loop turn, before the loop waits (reap closed objects). */
void	gb_ev_set_beforesleep(struct gb_ev *ev, gb_ev_hook_cb *cb, void *arg);
/*
 * The next wait only polls (0 ms): the owner left work for the next turn
 * (from beforesleep, say, which then runs again once the ready fds have
 * been served). Cleared by that wait.
 */
void	gb_ev_nowait(struct gb_ev *ev);

/* One pointer for the loop's owner (its worker, say); borrowed. */
void	gb_ev_set_userdata(struct gb_ev *ev, void *p);
void	*gb_ev_userdata(const struct gb_ev *ev);

/* Monotonic ms, cached for the loop turn. */
uint64_t gb_ev_now(const struct gb_ev *ev);

/*
 * One turn: wait at most max_wait_ms (-1: until the next timer or event),
 * run the ready fd callbacks, then the due timers. Returns the number of
 * callbacks run, or -1 on a fatal epoll error.
 */
int	gb_ev_run_once(struct gb_ev *ev, int max_wait_ms);
/* Turn until gb_ev_stop(). Returns 0, or -1 on a fatal error. */
int	gb_ev_run(struct gb_ev *ev);
void	gb_ev_stop(struct gb_ev *ev);
/* Number of armed timers and watched fds (for metrics and tests). */
size_t	gb_ev_ntimers(const struct gb_ev *ev);
size_t	gb_ev_nfds(const struct gb_ev *ev);

#endif /* GB_EV_H */
