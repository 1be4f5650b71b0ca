// SPDX-License-Identifier: GPL-2.0
/*
 * fi_point - one fault point's knobs, schedule and counters; see fi_point.h.
 */

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/sched.h>

#include "fi_point.h"

/*
 * True when @p fires now. The filters, in the order of lib/fault-inject.c:
 * armed, task, times, then nth (if set, the only test) or interval followed
 * by probability.
 */
bool fi_point_evaluate(struct fi_point *p)
{
	unsigned long flags;
	bool fail = false;

	if (!READ_ONCE(p->armed))
		return false;
	if (p->pid && p->pid != task_tgid_nr(current))
		return false;

	spin_lock_irqsave(&p->lock, flags);
	if (!atomic_read(&p->times))
		goto out_unlock;
	p->evaluated++;
	p->evaluated_total++;
	if (p->nth)
		fail = p->evaluated == p->nth;
	else if (p->interval <= 1 || !(p->evaluated % p->interval))
		fail = prandom_u32_state(&p->rnd) % 100 < p->probability;
	if (fail) {
		p->injected++;
		p->injected_total++;
		if (atomic_read(&p->times) > 0)
			atomic_dec(&p->times);
	}
out_unlock:
	spin_unlock_irqrestore(&p->lock, flags);
	return fail;
}

/* The errno @p makes a call return, negative: the knob if valid, else the default. */
int fi_point_error(struct fi_point *p)
{
	u32 error = READ_ONCE(p->error);

	if (!error || error >= MAX_ERRNO)
		error = p->default_error ?: EIO;
	return -(int)error;
}

/* Pages a partial pin of @nr (> 1) pages asks for: the knob capped below @nr, or random. */
unsigned long fi_point_partial(struct fi_point *p, unsigned long nr)
{
	unsigned long flags, pages;

	spin_lock_irqsave(&p->lock, flags);
	pages = p->pages ?: 1 + prandom_u32_state(&p->rnd) % (nr - 1);
	spin_unlock_irqrestore(&p->lock, flags);
	return min(pages, nr - 1);
}

/* Pauses the caller (which may sleep) until "release" is written or timeout_ms passes. */
void fi_point_wait(struct fi_point *p)
{
	reinit_completion(&p->release);
	WRITE_ONCE(p->waiting, 1);
	wait_for_completion_killable_timeout(&p->release,
					     msecs_to_jiffies(p->timeout_ms ?: 5000));
	WRITE_ONCE(p->waiting, 0);
}

/* The counts since the point was made (arming does not reset these). */
void fi_point_totals(struct fi_point *p, u64 *evaluated, u64 *injected)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	*evaluated = p->evaluated_total;
	*injected = p->injected_total;
	spin_unlock_irqrestore(&p->lock, flags);
}

static int fi_point_armed_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct fi_point *)data)->armed);
	return 0;
}

/* Arming restarts the counters and the draws; disarming keeps the counters. */
static int fi_point_armed_set(void *data, u64 val)
{
	struct fi_point *p = data;
	unsigned long flags;

	if (val > 1)
		return -EINVAL;
	mutex_lock(p->arm_lock);
	if (val) {
		spin_lock_irqsave(&p->lock, flags);
		p->evaluated = 0;
		p->injected = 0;
		prandom_seed_state(&p->rnd, p->seed);
		spin_unlock_irqrestore(&p->lock, flags);
	}
	if (val && !p->armed)
		static_branch_inc(p->active);
	else if (!val && p->armed)
		static_branch_dec(p->active);
	WRITE_ONCE(p->armed, val);
	mutex_unlock(p->arm_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fi_point_armed_fops, fi_point_armed_get,
			 fi_point_armed_set, "%llu\n");

static int fi_point_release_set(void *data, u64 val)
{
	complete(&((struct fi_point *)data)->release);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fi_point_release_fops, NULL, fi_point_release_set,
			 "%llu\n");

/*
 * Sets @p up, disarmed, firing once when armed, and creates its directory
 * <parent>/<name>/ with the knobs (the caller removes @parent).
 */
void fi_point_init(struct fi_point *p, const char *name, u32 default_error,
		   unsigned int knobs, struct static_key_false *active,
		   struct mutex *arm_lock, struct dentry *parent)
{
	struct dentry *dir;

	p->name = name;
	p->active = active;
	p->arm_lock = arm_lock;
	spin_lock_init(&p->lock);
	atomic_set(&p->times, 1);
	p->default_error = default_error;
	p->error = default_error;
	p->timeout_ms = 5000;
	init_completion(&p->release);

	dir = debugfs_create_dir(name, parent);
	debugfs_create_file_unsafe("armed", 0600, dir, p, &fi_point_armed_fops);
	debugfs_create_u32("probability", 0600, dir, &p->probability);
	debugfs_create_u32("interval", 0600, dir, &p->interval);
	debugfs_create_atomic_t("times", 0600, dir, &p->times);
	debugfs_create_u32("nth", 0600, dir, &p->nth);
	debugfs_create_u32("verbose", 0600, dir, &p->verbose);
	debugfs_create_u32("pid", 0600, dir, &p->pid);
	debugfs_create_u64("seed", 0600, dir, &p->seed);
	debugfs_create_u32("errno", 0600, dir, &p->error);
	debugfs_create_u64("evaluated", 0400, dir, &p->evaluated);
	debugfs_create_u64("injected", 0400, dir, &p->injected);
	if (knobs & FI_POINT_PAGES)
		debugfs_create_u32("pages", 0600, dir, &p->pages);
	if (knobs & FI_POINT_PAUSE) {
		debugfs_create_u32("timeout_ms", 0600, dir, &p->timeout_ms);
		debugfs_create_u32("waiting", 0400, dir, &p->waiting);
		debugfs_create_file_unsafe("release", 0200, dir, p,
					   &fi_point_release_fops);
	}
}

/*
 * Disarms @p, balancing its set's static key, and lets a paused caller go on
 * at once; call once the debugfs files are gone.
 */
void fi_point_exit(struct fi_point *p)
{
	fi_point_armed_set(p, 0);
	complete_all(&p->release);
}
