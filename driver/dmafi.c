// SPDX-License-Identifier: GPL-2.0
/*
 * dmafi - DMA fault injection and resource ledger for one device.
 * See dmafi.h for what it does and driver/README.md for how to use it.
 */

#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "dmafi.h"

#ifndef DMAFI_DISABLED
DEFINE_STATIC_KEY_FALSE(dmafi_active);

/* Serialises arming, which changes dmafi_active. */
static DEFINE_MUTEX(dmafi_arm_lock);

static const struct {
	const char *name;
	u32 error;
} dmafi_defaults[DMAFI_NR_POINTS] = {
	[DMAFI_GUP_PARTIAL]		= { "gup_partial", 0 },
	[DMAFI_GUP_FAIL]		= { "gup_fail", EFAULT },
	[DMAFI_SG_ALLOC_FAIL]		= { "sg_alloc_fail", ENOMEM },
	[DMAFI_DMA_MAP_FAIL]		= { "dma_map_fail", ENOMEM },
	[DMAFI_COHERENT_ALLOC_FAIL]	= { "coherent_alloc_fail", ENOMEM },
	[DMAFI_DMA_TIMEOUT]		= { "dma_timeout", ETIMEDOUT },
	[DMAFI_PAGEOUT]			= { "pageout", 0 },
	[DMAFI_WRITEBACK]		= { "writeback", 0 },
	[DMAFI_SIGNAL]			= { "signal", 0 },
	[DMAFI_KMALLOC_FAIL]		= { "kmalloc_fail", ENOMEM },
	[DMAFI_IRQ_LATE]		= { "irq_late", ETIMEDOUT },
};

/*
 * The filters, in the order of lib/fault-inject.c: armed, task, times, then
 * nth (if set, the only test) or interval followed by probability.
 */
bool __dmafi_should_fail(struct dmafi *fi, enum dmafi_point_id id)
{
	struct dmafi_point *p = &fi->points[id];
	unsigned long flags;
	bool fail = false;

	if (!READ_ONCE(p->armed))
		return false;
	if (p->pid && p->pid != task_tgid_nr(current))
		return false;

	spin_lock_irqsave(&p->lock, flags);
	if (!atomic_read(&p->times))
		goto out;
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
out:
	spin_unlock_irqrestore(&p->lock, flags);

	if (fail && p->verbose) {
		pr_info("dmafi: injecting %s (evaluation %llu)\n", p->name,
			p->evaluated);
		if (p->verbose > 1)
			dump_stack();
	}
	return fail;
}

/* The errno point @id returns, negative: the knob if valid, else the default. */
int dmafi_error(struct dmafi *fi, enum dmafi_point_id id)
{
	u32 error = READ_ONCE(fi->points[id].error);

	if (!error || error >= MAX_ERRNO)
		error = dmafi_defaults[id].error ?: EIO;
	return -(int)error;
}

void __dmafi_pause(struct dmafi *fi, enum dmafi_point_id id)
{
	struct dmafi_point *p = &fi->points[id];

	if (!__dmafi_should_fail(fi, id))
		return;
	reinit_completion(&p->release);
	WRITE_ONCE(p->waiting, 1);
	wait_for_completion_killable_timeout(&p->release,
					     msecs_to_jiffies(p->timeout_ms ?: 5000));
	WRITE_ONCE(p->waiting, 0);
}

/* A real signal, so that the interruptible wait the caller is about to enter fails. */
void __dmafi_signal(struct dmafi *fi)
{
	if (__dmafi_should_fail(fi, DMAFI_SIGNAL))
		send_sig(SIGUSR1, current, 0);
}

/* Pages a partial pin returns: the knob, capped below @nr, or random. */
int dmafi_partial(struct dmafi *fi, int nr)
{
	struct dmafi_point *p = &fi->points[DMAFI_GUP_PARTIAL];
	unsigned long flags;
	u32 pages;

	spin_lock_irqsave(&p->lock, flags);
	pages = p->pages ?: 1 + prandom_u32_state(&p->rnd) % (nr - 1);
	spin_unlock_irqrestore(&p->lock, flags);
	return min_t(u32, pages, nr - 1);
}

static int dmafi_armed_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct dmafi_point *)data)->armed);
	return 0;
}

/*
 * Arming restarts the counters (for nth and interval) and the random draws;
 * disarming keeps the counters, so that they can still be read afterwards.
 */
static int dmafi_armed_set(void *data, u64 val)
{
	struct dmafi_point *p = data;
	unsigned long flags;

	if (val > 1)
		return -EINVAL;
	mutex_lock(&dmafi_arm_lock);
	if (val) {
		spin_lock_irqsave(&p->lock, flags);
		p->evaluated = 0;
		p->injected = 0;
		prandom_seed_state(&p->rnd, p->seed);
		spin_unlock_irqrestore(&p->lock, flags);
	}
	if (val && !p->armed)
		static_branch_inc(&dmafi_active);
	else if (!val && p->armed)
		static_branch_dec(&dmafi_active);
	WRITE_ONCE(p->armed, val);
	mutex_unlock(&dmafi_arm_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmafi_armed_fops, dmafi_armed_get, dmafi_armed_set,
			 "%llu\n");

static int dmafi_release_set(void *data, u64 val)
{
	complete(&((struct dmafi_point *)data)->release);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmafi_release_fops, NULL, dmafi_release_set, "%llu\n");

static void dmafi_point_init(struct dmafi_point *p, enum dmafi_point_id id,
			     struct dentry *faults)
{
	struct dentry *dir;

	p->name = dmafi_defaults[id].name;
	spin_lock_init(&p->lock);
	atomic_set(&p->times, 1);
	p->error = dmafi_defaults[id].error;
	p->timeout_ms = 5000;
	init_completion(&p->release);

	dir = debugfs_create_dir(p->name, faults);
	debugfs_create_file_unsafe("armed", 0600, dir, p, &dmafi_armed_fops);
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
	if (id == DMAFI_GUP_PARTIAL)
		debugfs_create_u32("pages", 0600, dir, &p->pages);
	if (id == DMAFI_PAGEOUT || id == DMAFI_WRITEBACK) {
		debugfs_create_u32("timeout_ms", 0600, dir, &p->timeout_ms);
		debugfs_create_u32("waiting", 0400, dir, &p->waiting);
		debugfs_create_file_unsafe("release", 0200, dir, p,
					   &dmafi_release_fops);
	}
}

/*
 * "<point> <evaluated> <injected>" for every point, counted since the device
 * was bound (arming does not reset these): all counters in one read.
 */
static int dmafi_summary_show(struct seq_file *s, void *unused)
{
	struct dmafi *fi = s->private;
	u64 evaluated, injected;
	unsigned long flags;
	int id;

	for (id = 0; id < DMAFI_NR_POINTS; id++) {
		struct dmafi_point *p = &fi->points[id];

		spin_lock_irqsave(&p->lock, flags);
		evaluated = p->evaluated_total;
		injected = p->injected_total;
		spin_unlock_irqrestore(&p->lock, flags);
		seq_printf(s, "%s %llu %llu\n", p->name, evaluated, injected);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmafi_summary);

/* Creates <parent>/faults/<point>/... and faults/summary; the caller removes @parent. */
void dmafi_init(struct dmafi *fi, struct dentry *parent)
{
	struct dentry *faults = debugfs_create_dir("faults", parent);
	int id;

	for (id = 0; id < DMAFI_NR_POINTS; id++)
		dmafi_point_init(&fi->points[id], id, faults);
	debugfs_create_file("summary", 0400, faults, fi, &dmafi_summary_fops);
}

/*
 * Disarms every point, balancing dmafi_active, and lets a caller paused at a
 * point go on at once; call once the debugfs files are gone, before freeing @fi.
 */
void dmafi_exit(struct dmafi *fi)
{
	int id;

	for (id = 0; id < DMAFI_NR_POINTS; id++) {
		dmafi_armed_set(&fi->points[id], 0);
		complete_all(&fi->points[id].release);
	}
}
#else
void dmafi_init(struct dmafi *fi, struct dentry *parent)
{
}

void dmafi_exit(struct dmafi *fi)
{
}
#endif /* DMAFI_DISABLED */

/* Every device's ledger summed: what the module holds, whichever binding took it. */
struct dmafi_ledger dmafi_module;

static void dmafi_show(struct seq_file *s, struct dmafi_ledger *l)
{
	seq_printf(s, "pinned_pages %ld\n", atomic_long_read(&l->pinned_pages));
	seq_printf(s, "sg_tables %ld\n", atomic_long_read(&l->sg_tables));
	seq_printf(s, "dma_mappings %ld\n", atomic_long_read(&l->dma_mappings));
	seq_printf(s, "coherent_buffers %ld\n",
		   atomic_long_read(&l->coherent_buffers));
	seq_printf(s, "pins_total %ld\n", atomic_long_read(&l->pins_total));
	seq_printf(s, "maps_total %ld\n", atomic_long_read(&l->maps_total));
	seq_printf(s, "allocations %ld\n", atomic_long_read(&l->allocations));
}

void dmafi_ledger_show(struct seq_file *s, struct dmafi *fi)
{
	dmafi_show(s, &fi->ledger);
}

void dmafi_module_ledger_show(struct seq_file *s)
{
	dmafi_show(s, &dmafi_module);
}
