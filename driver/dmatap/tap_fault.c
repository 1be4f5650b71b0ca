// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - fault points, consulted by the wrappers on the target's calls.
 *
 * Knobs and scheduling are those of dmafi (driver/dmafi.c), which follow
 * lib/fault-inject.c, so that one fault plan drives both: a point does
 * nothing until "armed" is 1; then, in this order, the task filter (pid: a
 * thread group), times (-1: unlimited; decremented per injection), and
 * either nth (fail exactly the nth evaluation since arming) or interval
 * followed by probability (percent, drawn from a generator seeded by
 * "seed" at arming, so runs replay). errno is the error returned, pages
 * the page count of a partial pin (0: random), and pageout pauses the
 * caller right before its pin, writeback right after pin_user_pages_fast()
 * pinned (so that user space can write the pinned pages back, leaving them
 * clean while the device may still write them), until "release" is written
 * or timeout_ms passes, while "waiting" reads 1. irq_late is evaluated at
 * the start of the target's timed waits (tap_irq.c has what it does).
 */

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>

#include "dmatap.h"

struct dt_point {
	const char *name;
	/* Protects the schedule, the generator and the counters. */
	spinlock_t lock;
	u32 probability;
	u32 interval;
	atomic_t times;
	u32 nth;
	u32 verbose;
	u32 pid;
	u64 seed;
	u32 error;
	u32 pages;
	u32 timeout_ms;
	u64 evaluated;
	u64 injected;
	u64 evaluated_total;
	u64 injected_total;
	struct rnd_state rnd;
	bool armed;
	u32 waiting;
	struct completion release;
};

static const struct {
	const char *name;
	u32 error;
} dt_point_defaults[DT_POINT_NR] = {
	[DT_GUP_FAIL]		= { "gup_fail", EFAULT },
	[DT_GUP_PARTIAL]	= { "gup_partial", 0 },
	[DT_DMA_MAP_FAIL]	= { "dma_map_fail", ENOMEM },
	[DT_SG_ALLOC_FAIL]	= { "sg_alloc_fail", ENOMEM },
	[DT_KMALLOC_FAIL]	= { "kmalloc_fail", ENOMEM },
	[DT_COHERENT_ALLOC_FAIL] = { "coherent_alloc_fail", ENOMEM },
	[DT_PAGEOUT]		= { "pageout", 0 },
	[DT_WRITEBACK]		= { "writeback", 0 },
	[DT_IRQ_LATE]		= { "irq_late", 0 },
};

static struct dt_point dt_points[DT_POINT_NR];

/* One static branch while no point is armed. */
static DEFINE_STATIC_KEY_FALSE(dt_faults_active);
/* Serialises arming, which changes dt_faults_active. */
static DEFINE_MUTEX(dt_arm_lock);

static bool dt_evaluate(struct dt_point *p)
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

/* True when point @id fires now, for the call at @site (which counts it). */
bool dt_should_fail(enum dt_point_id id, struct dt_site *site)
{
	struct dt_point *p = &dt_points[id];

	if (!static_branch_unlikely(&dt_faults_active) || !dt_evaluate(p))
		return false;
	if (site) {
		atomic64_inc(&site->injected);
		atomic64_inc(&site->injected_by[id]);
	}
	if (p->verbose) {
		pr_info("dmatap: injecting %s at %s (%s)\n", p->name,
			site ? site->where : "?", site ? site->sym : "?");
		if (p->verbose > 1)
			dump_stack();
	}
	return true;
}

/* True when point @id is armed: a caller may skip work the point alone needs. */
bool dt_point_armed(enum dt_point_id id)
{
	return static_branch_unlikely(&dt_faults_active) &&
	       READ_ONCE(dt_points[id].armed);
}

/* The name of point @id, as its directory under faults/ is called. */
const char *dt_point_name(enum dt_point_id id)
{
	return dt_point_defaults[id].name;
}

/* The errno point @id returns, negative: the knob if valid, else the default. */
int dt_error(enum dt_point_id id)
{
	u32 error = READ_ONCE(dt_points[id].error);

	if (!error || error >= MAX_ERRNO)
		error = dt_point_defaults[id].error ?: EIO;
	return -(int)error;
}

/* Pages a partial pin of @nr (> 1) pages asks for: the knob capped below @nr, or random. */
unsigned long dt_partial(unsigned long nr)
{
	struct dt_point *p = &dt_points[DT_GUP_PARTIAL];
	unsigned long flags, pages;

	spin_lock_irqsave(&p->lock, flags);
	pages = p->pages ?: 1 + prandom_u32_state(&p->rnd) % (nr - 1);
	spin_unlock_irqrestore(&p->lock, flags);
	return min(pages, nr - 1);
}

/* Pauses the caller (which may sleep) when point @id fires, until released or timed out. */
void dt_pause(enum dt_point_id id, struct dt_site *site)
{
	struct dt_point *p = &dt_points[id];

	if (!dt_should_fail(id, site))
		return;
	reinit_completion(&p->release);
	WRITE_ONCE(p->waiting, 1);
	wait_for_completion_killable_timeout(&p->release,
					     msecs_to_jiffies(p->timeout_ms ?: 5000));
	WRITE_ONCE(p->waiting, 0);
}

static int dt_armed_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct dt_point *)data)->armed);
	return 0;
}

/* Arming restarts the counters and the draws; disarming keeps the counters. */
static int dt_armed_set(void *data, u64 val)
{
	struct dt_point *p = data;
	unsigned long flags;

	if (val > 1)
		return -EINVAL;
	mutex_lock(&dt_arm_lock);
	if (val) {
		spin_lock_irqsave(&p->lock, flags);
		p->evaluated = 0;
		p->injected = 0;
		prandom_seed_state(&p->rnd, p->seed);
		spin_unlock_irqrestore(&p->lock, flags);
	}
	if (val && !p->armed)
		static_branch_inc(&dt_faults_active);
	else if (!val && p->armed)
		static_branch_dec(&dt_faults_active);
	WRITE_ONCE(p->armed, val);
	mutex_unlock(&dt_arm_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dt_armed_fops, dt_armed_get, dt_armed_set, "%llu\n");

static int dt_release_set(void *data, u64 val)
{
	complete(&((struct dt_point *)data)->release);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dt_release_fops, NULL, dt_release_set, "%llu\n");

static void dt_point_init(struct dt_point *p, enum dt_point_id id,
			  struct dentry *faults)
{
	struct dentry *dir;

	p->name = dt_point_defaults[id].name;
	spin_lock_init(&p->lock);
	atomic_set(&p->times, 1);
	p->error = dt_point_defaults[id].error;
	p->timeout_ms = 5000;
	init_completion(&p->release);

	dir = debugfs_create_dir(p->name, faults);
	debugfs_create_file_unsafe("armed", 0600, dir, p, &dt_armed_fops);
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
	if (id == DT_GUP_PARTIAL)
		debugfs_create_u32("pages", 0600, dir, &p->pages);
	if (id == DT_PAGEOUT || id == DT_WRITEBACK) {
		debugfs_create_u32("timeout_ms", 0600, dir, &p->timeout_ms);
		debugfs_create_u32("waiting", 0400, dir, &p->waiting);
		debugfs_create_file_unsafe("release", 0200, dir, p,
					   &dt_release_fops);
	}
}

/* "<point> <evaluated> <injected>" per point, since dmatap was loaded. */
static int dt_summary_show(struct seq_file *s, void *unused)
{
	u64 evaluated, injected;
	unsigned long flags;
	int id;

	for (id = 0; id < DT_POINT_NR; id++) {
		struct dt_point *p = &dt_points[id];

		spin_lock_irqsave(&p->lock, flags);
		evaluated = p->evaluated_total;
		injected = p->injected_total;
		spin_unlock_irqrestore(&p->lock, flags);
		seq_printf(s, "%s %llu %llu\n", p->name, evaluated, injected);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_summary);

/* Creates <dir>/faults/<point>/... and faults/summary; the caller removes @dir. */
void dt_faults_init(struct dentry *dir)
{
	struct dentry *faults = debugfs_create_dir("faults", dir);
	int id;

	for (id = 0; id < DT_POINT_NR; id++)
		dt_point_init(&dt_points[id], id, faults);
	debugfs_create_file("summary", 0400, faults, NULL, &dt_summary_fops);
}

/* Once the files are gone: disarms every point and lets a paused caller go on. */
void dt_faults_exit(void)
{
	int id;

	for (id = 0; id < DT_POINT_NR; id++) {
		dt_armed_set(&dt_points[id], 0);
		complete_all(&dt_points[id].release);
	}
}
