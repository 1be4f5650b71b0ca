// SPDX-License-Identifier: GPL-2.0
/*
 * dmafi - DMA fault injection and resource ledger for one device.
 * See dmafi.h for what it does and driver/README.md for how to use it.
 */

#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "dmafi.h"

#ifndef DMAFI_DISABLED
DEFINE_STATIC_KEY_FALSE(dmafi_active);

/* Serialises arming, which changes dmafi_active. */
static DEFINE_MUTEX(dmafi_arm_lock);

static const struct {
	const char *name;
	u32 error;
	unsigned int knobs;
} dmafi_defaults[DMAFI_NR_POINTS] = {
	[DMAFI_GUP_PARTIAL]		= { "gup_partial", 0, FI_POINT_PAGES },
	[DMAFI_GUP_FAIL]		= { "gup_fail", EFAULT },
	[DMAFI_SG_ALLOC_FAIL]		= { "sg_alloc_fail", ENOMEM },
	[DMAFI_DMA_MAP_FAIL]		= { "dma_map_fail", ENOMEM },
	[DMAFI_COHERENT_ALLOC_FAIL]	= { "coherent_alloc_fail", ENOMEM },
	[DMAFI_DMA_TIMEOUT]		= { "dma_timeout", ETIMEDOUT },
	[DMAFI_PAGEOUT]			= { "pageout", 0, FI_POINT_PAUSE },
	[DMAFI_WRITEBACK]		= { "writeback", 0, FI_POINT_PAUSE },
	[DMAFI_SIGNAL]			= { "signal", 0 },
	[DMAFI_KMALLOC_FAIL]		= { "kmalloc_fail", ENOMEM },
	[DMAFI_IRQ_LATE]		= { "irq_late", ETIMEDOUT },
};

bool __dmafi_should_fail(struct dmafi *fi, enum dmafi_point_id id)
{
	struct fi_point *p = &fi->points[id];

	if (!fi_point_evaluate(p))
		return false;
	if (p->verbose) {
		pr_info("dmafi: injecting %s (evaluation %llu)\n", p->name,
			p->evaluated);
		if (p->verbose > 1)
			dump_stack();
	}
	return true;
}

/* The errno point @id returns, negative: the knob if valid, else the default. */
int dmafi_error(struct dmafi *fi, enum dmafi_point_id id)
{
	return fi_point_error(&fi->points[id]);
}

void __dmafi_pause(struct dmafi *fi, enum dmafi_point_id id)
{
	if (__dmafi_should_fail(fi, id))
		fi_point_wait(&fi->points[id]);
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
	return fi_point_partial(&fi->points[DMAFI_GUP_PARTIAL], nr);
}

/*
 * "<point> <evaluated> <injected>" for every point, counted since the device
 * was bound (arming does not reset these): all counters in one read.
 */
static int dmafi_summary_show(struct seq_file *s, void *unused)
{
	struct dmafi *fi = s->private;
	u64 evaluated, injected;
	int id;

	for (id = 0; id < DMAFI_NR_POINTS; id++) {
		fi_point_totals(&fi->points[id], &evaluated, &injected);
		seq_printf(s, "%s %llu %llu\n", fi->points[id].name, evaluated,
			   injected);
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
		fi_point_init(&fi->points[id], dmafi_defaults[id].name,
			      dmafi_defaults[id].error,
			      dmafi_defaults[id].knobs, &dmafi_active,
			      &dmafi_arm_lock, faults);
	debugfs_create_file("summary", 0400, faults, fi, &dmafi_summary_fops);
}

/*
 * Disarms every point, balancing dmafi_active, and lets a caller paused at a
 * point go on at once; call once the debugfs files are gone, before freeing @fi.
 */
void dmafi_exit(struct dmafi *fi)
{
	int id;

	for (id = 0; id < DMAFI_NR_POINTS; id++)
		fi_point_exit(&fi->points[id]);
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
