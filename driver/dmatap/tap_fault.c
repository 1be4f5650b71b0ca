// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - fault points, consulted by the wrappers on the target's calls.
 *
 * Each point's knobs and schedule are faultlib/fi_point.h's, which dmafi
 * (driver/dmafi.c) shares, so that one fault plan drives both. pageout
 * pauses the caller right before its pin, writeback right after
 * pin_user_pages_fast() pinned (so that user space can write the pinned
 * pages back, leaving them clean while the device may still write them).
 * irq_late is evaluated at the start of the target's timed waits (tap_irq.c
 * has what it does).
 */

#include <linux/debugfs.h>
#include <linux/jump_label.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "dmatap.h"
#include "fi_point.h"

static const struct {
	const char *name;
	u32 error;
	unsigned int knobs;
} dt_point_defaults[DT_POINT_NR] = {
	[DT_GUP_FAIL]		= { "gup_fail", EFAULT },
	[DT_GUP_PARTIAL]	= { "gup_partial", 0, FI_POINT_PAGES },
	[DT_DMA_MAP_FAIL]	= { "dma_map_fail", ENOMEM },
	[DT_SG_ALLOC_FAIL]	= { "sg_alloc_fail", ENOMEM },
	[DT_KMALLOC_FAIL]	= { "kmalloc_fail", ENOMEM },
	[DT_COHERENT_ALLOC_FAIL] = { "coherent_alloc_fail", ENOMEM },
	[DT_PAGEOUT]		= { "pageout", 0, FI_POINT_PAUSE },
	[DT_WRITEBACK]		= { "writeback", 0, FI_POINT_PAUSE },
	[DT_IRQ_LATE]		= { "irq_late", 0 },
};

static struct fi_point dt_points[DT_POINT_NR];

/* One static branch while no point is armed. */
static DEFINE_STATIC_KEY_FALSE(dt_faults_active);
/* Serialises arming, which changes dt_faults_active. */
static DEFINE_MUTEX(dt_arm_lock);

/* True when point @id fires now, for the call at @site (which counts it). */
bool dt_should_fail(enum dt_point_id id, struct dt_site *site)
{
	struct fi_point *p = &dt_points[id];

	if (!static_branch_unlikely(&dt_faults_active) || !fi_point_evaluate(p))
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
	return fi_point_error(&dt_points[id]);
}

/* Pages a partial pin of @nr (> 1) pages asks for: the knob capped below @nr, or random. */
unsigned long dt_partial(unsigned long nr)
{
	return fi_point_partial(&dt_points[DT_GUP_PARTIAL], nr);
}

/* Pauses the caller (which may sleep) when point @id fires, until released or timed out. */
void dt_pause(enum dt_point_id id, struct dt_site *site)
{
	if (dt_should_fail(id, site))
		fi_point_wait(&dt_points[id]);
}

/* "<point> <evaluated> <injected>" per point, since dmatap was loaded. */
static int dt_summary_show(struct seq_file *s, void *unused)
{
	u64 evaluated, injected;
	int id;

	for (id = 0; id < DT_POINT_NR; id++) {
		fi_point_totals(&dt_points[id], &evaluated, &injected);
		seq_printf(s, "%s %llu %llu\n", dt_points[id].name, evaluated,
			   injected);
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
		fi_point_init(&dt_points[id], dt_point_defaults[id].name,
			      dt_point_defaults[id].error,
			      dt_point_defaults[id].knobs, &dt_faults_active,
			      &dt_arm_lock, faults);
	debugfs_create_file("summary", 0400, faults, NULL, &dt_summary_fops);
}

/* Once the files are gone: disarms every point and lets a paused caller go on. */
void dt_faults_exit(void)
{
	int id;

	for (id = 0; id < DT_POINT_NR; id++)
		fi_point_exit(&dt_points[id]);
}
