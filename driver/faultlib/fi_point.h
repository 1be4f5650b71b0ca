/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fi_point - one fault point: its debugfs knobs, its schedule and its
 * counters. dmafi (the hooks a driver builds in, ../dmafi.c) and dmatap (the
 * interceptor of an unmodified module, ../dmatap/) both keep their points
 * with it, so that one fault plan means the same in either.
 *
 * The schedule follows lib/fault-inject.c: a point does nothing until its
 * "armed" file is 1; then, in this order, the task filter (pid: a thread
 * group), times (-1: unlimited; one less per injection), and either nth (fail
 * exactly the nth evaluation since arming) or interval followed by
 * probability (percent, drawn from a generator seeded by "seed" at arming,
 * so that runs replay). errno is what a failing call returns, pages the page
 * count of a partial pin (0: random), and a pausing point stops its caller
 * until "release" is written or timeout_ms passes, while "waiting" reads 1.
 *
 * A set of points shares a static key, raised while any of them is armed, and
 * a mutex that serialises arming; callers test the key (static_branch_unlikely
 * needs it by name) before calling in.
 */
#ifndef _FI_POINT_H
#define _FI_POINT_H

#include <linux/completion.h>
#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct dentry;

/* The knobs a point has beyond the schedule's. */
enum fi_point_knobs {
	FI_POINT_PAGES = 1 << 0,	/* "pages": a partial pin's size */
	FI_POINT_PAUSE = 1 << 1,	/* "timeout_ms", "waiting", "release" */
};

struct fi_point {
	const char *name;
	/* Raised while this point (or another of its set) is armed. */
	struct static_key_false *active;
	/* Serialises arming in the set, which changes @active. */
	struct mutex *arm_lock;
	/* Protects the schedule, the generator and the counters below. */
	spinlock_t lock;
	u32 probability;
	u32 interval;
	atomic_t times;
	u32 nth;
	u32 verbose;
	u32 pid;
	u64 seed;
	u32 error;		/* errno to return, positive; 0: the default */
	u32 default_error;
	u32 pages;		/* partial pin: pages to pin; 0: random */
	u32 timeout_ms;		/* pausing points: longest pause */
	u64 evaluated;		/* since the point was last armed */
	u64 injected;
	u64 evaluated_total;	/* since the point was made */
	u64 injected_total;
	struct rnd_state rnd;
	bool armed;
	/* Pausing points: set while a caller waits; "release" ends the wait. */
	u32 waiting;
	struct completion release;
};

void fi_point_init(struct fi_point *p, const char *name, u32 default_error,
		   unsigned int knobs, struct static_key_false *active,
		   struct mutex *arm_lock, struct dentry *parent);
void fi_point_exit(struct fi_point *p);
bool fi_point_evaluate(struct fi_point *p);
int fi_point_error(struct fi_point *p);
unsigned long fi_point_partial(struct fi_point *p, unsigned long nr);
void fi_point_wait(struct fi_point *p);
void fi_point_totals(struct fi_point *p, u64 *evaluated, u64 *injected);

#endif /* _FI_POINT_H */
