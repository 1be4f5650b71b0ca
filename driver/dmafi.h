/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmafi - DMA fault injection and resource ledger for one device
 *
 * Wrappers around the calls of a zero-copy DMA lifecycle (pin, sg table,
 * DMA map, coherent allocation) that count what the driver holds and, when a
 * fault point is armed through debugfs, make the call fail or half-succeed
 * the way the kernel can: a partial pin, a failed pin, a failed mapping, a
 * failed allocation (kmalloc_fail for the driver's own kzalloc/kvzalloc,
 * coherent_alloc_fail for DMA buffers). Five more points are consulted by the
 * driver itself: dma_timeout (the device never completes), irq_late (the
 * device completes, but its interrupt is held back past the wait's timeout
 * and delivered once the next DMA has started), pageout (pause so
 * that user space can push the buffer out to swap before the driver touches
 * it), writeback (pause after the pin, so that user space can write the
 * pinned pages back, leaving them clean while the device may still write
 * them) and signal (consulted right before each interruptible wait: it sends
 * the calling task a real SIGUSR1 with send_sig(), so the wait that follows
 * finds a signal pending and the driver's own signal path runs; the task
 * should handle SIGUSR1: its default action ends the task, and a blocked or
 * ignored SIGUSR1 interrupts nothing).
 *
 * Each point's knobs and schedule are faultlib/fi_point.h's, which dmatap
 * shares: those of lib/fault-inject.c (probability, interval, times, verbose)
 * plus nth, pid and seed. A point does nothing until its "armed" file is 1.
 *
 * Built with DMAFI_DISABLED the fault points compile away entirely and only
 * the ledger remains; otherwise an unarmed point costs one static branch.
 */
#ifndef _DMAFI_H
#define _DMAFI_H

#include <linux/dma-mapping.h>
#include <linux/jump_label.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/types.h>

#include "fi_point.h"

enum dmafi_point_id {
	DMAFI_GUP_PARTIAL,
	DMAFI_GUP_FAIL,
	DMAFI_SG_ALLOC_FAIL,
	DMAFI_DMA_MAP_FAIL,
	DMAFI_COHERENT_ALLOC_FAIL,
	DMAFI_DMA_TIMEOUT,
	DMAFI_PAGEOUT,
	DMAFI_WRITEBACK,
	DMAFI_SIGNAL,
	DMAFI_KMALLOC_FAIL,
	DMAFI_IRQ_LATE,
	DMAFI_NR_POINTS,
};

/* What the device holds now, and running totals. */
struct dmafi_ledger {
	atomic_long_t pinned_pages;
	atomic_long_t sg_tables;
	atomic_long_t dma_mappings;
	atomic_long_t coherent_buffers;
	atomic_long_t pins_total;
	atomic_long_t maps_total;
	/* The driver's own objects from dmafi_kzalloc()/dmafi_kvzalloc(). */
	atomic_long_t allocations;
};

struct dmafi {
	struct dmafi_ledger ledger;
#ifndef DMAFI_DISABLED
	struct fi_point points[DMAFI_NR_POINTS];
#endif
};

void dmafi_init(struct dmafi *fi, struct dentry *parent);
void dmafi_exit(struct dmafi *fi);
void dmafi_ledger_show(struct seq_file *s, struct dmafi *fi);
/* Every device's ledger summed (the module's, whichever binding took it). */
void dmafi_module_ledger_show(struct seq_file *s);

#ifndef DMAFI_DISABLED
DECLARE_STATIC_KEY_FALSE(dmafi_active);

bool __dmafi_should_fail(struct dmafi *fi, enum dmafi_point_id id);
void __dmafi_pause(struct dmafi *fi, enum dmafi_point_id id);
void __dmafi_signal(struct dmafi *fi);
int dmafi_error(struct dmafi *fi, enum dmafi_point_id id);
int dmafi_partial(struct dmafi *fi, int nr);

/* True when fault point @id fires now; one static branch while none is armed. */
static inline bool dmafi_should_fail(struct dmafi *fi, enum dmafi_point_id id)
{
	if (!static_branch_unlikely(&dmafi_active))
		return false;
	return __dmafi_should_fail(fi, id);
}

/* Pauses the caller at point @id when it fires, until released or timed out. */
static inline void dmafi_pause(struct dmafi *fi, enum dmafi_point_id id)
{
	if (static_branch_unlikely(&dmafi_active))
		__dmafi_pause(fi, id);
}

/* Sends the caller SIGUSR1 when point signal fires; call right before an interruptible wait. */
static inline void dmafi_signal(struct dmafi *fi)
{
	if (static_branch_unlikely(&dmafi_active))
		__dmafi_signal(fi);
}
#else
static inline bool dmafi_should_fail(struct dmafi *fi, enum dmafi_point_id id)
{
	return false;
}

static inline void dmafi_pause(struct dmafi *fi, enum dmafi_point_id id)
{
}

static inline void dmafi_signal(struct dmafi *fi)
{
}

static inline int dmafi_error(struct dmafi *fi, enum dmafi_point_id id)
{
	return -EIO;
}

static inline int dmafi_partial(struct dmafi *fi, int nr)
{
	return nr;
}
#endif

/*
 * The wrappers are inline, so that each call site of the driver calls the
 * kernel function itself. With DMAFI_DISABLED, what remains at a call site is
 * the kernel call and the ledger's count: the calls of a driver without
 * hooks, which dmatap intercepts one call site at a time.
 */

/* Every device's ledger summed: what the module holds, whichever binding took it. */
extern struct dmafi_ledger dmafi_module;

/* Counts @n into a device's ledger entry and the module's same entry. */
static inline void dmafi_count(atomic_long_t *dev, atomic_long_t *module,
			       long n)
{
	atomic_long_add(n, dev);
	atomic_long_add(n, module);
}

/*
 * pin_user_pages_fast(), which may fail outright (gup_fail) or pin fewer
 * pages than asked (gup_partial, only when more than one page is asked).
 */
static inline long dmafi_pin_user_pages_fast(struct dmafi *fi,
					     unsigned long start, int nr_pages,
					     unsigned int gup_flags,
					     struct page **pages)
{
	long ret;

	if (dmafi_should_fail(fi, DMAFI_GUP_FAIL))
		return dmafi_error(fi, DMAFI_GUP_FAIL);
	if (nr_pages > 1 && dmafi_should_fail(fi, DMAFI_GUP_PARTIAL))
		nr_pages = dmafi_partial(fi, nr_pages);

	ret = pin_user_pages_fast(start, nr_pages, gup_flags, pages);
	if (ret > 0) {
		dmafi_count(&fi->ledger.pinned_pages, &dmafi_module.pinned_pages, ret);
		dmafi_count(&fi->ledger.pins_total, &dmafi_module.pins_total, ret);
	}
	return ret;
}

static inline void dmafi_unpin_user_pages_dirty_lock(struct dmafi *fi,
						     struct page **pages,
						     unsigned long npages,
						     bool make_dirty)
{
	unpin_user_pages_dirty_lock(pages, npages, make_dirty);
	dmafi_count(&fi->ledger.pinned_pages, &dmafi_module.pinned_pages,
		    -(long)npages);
}

static inline int
dmafi_sg_alloc_table_from_pages_segment(struct dmafi *fi, struct sg_table *sgt,
					struct page **pages,
					unsigned int n_pages,
					unsigned int offset, unsigned long size,
					unsigned int max_segment, gfp_t gfp)
{
	int ret;

	if (dmafi_should_fail(fi, DMAFI_SG_ALLOC_FAIL))
		return dmafi_error(fi, DMAFI_SG_ALLOC_FAIL);
	ret = sg_alloc_table_from_pages_segment(sgt, pages, n_pages, offset,
						size, max_segment, gfp);
	if (!ret)
		dmafi_count(&fi->ledger.sg_tables, &dmafi_module.sg_tables, 1);
	return ret;
}

static inline void dmafi_sg_free_table(struct dmafi *fi, struct sg_table *sgt)
{
	sg_free_table(sgt);
	dmafi_count(&fi->ledger.sg_tables, &dmafi_module.sg_tables, -1);
}

static inline int dmafi_dma_map_sgtable(struct dmafi *fi, struct device *dev,
					struct sg_table *sgt,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	int ret;

	if (dmafi_should_fail(fi, DMAFI_DMA_MAP_FAIL))
		return dmafi_error(fi, DMAFI_DMA_MAP_FAIL);
	ret = dma_map_sgtable(dev, sgt, dir, attrs);
	if (!ret) {
		dmafi_count(&fi->ledger.dma_mappings, &dmafi_module.dma_mappings, 1);
		dmafi_count(&fi->ledger.maps_total, &dmafi_module.maps_total, 1);
	}
	return ret;
}

static inline void dmafi_dma_unmap_sgtable(struct dmafi *fi,
					   struct device *dev,
					   struct sg_table *sgt,
					   enum dma_data_direction dir,
					   unsigned long attrs)
{
	dma_unmap_sgtable(dev, sgt, dir, attrs);
	dmafi_count(&fi->ledger.dma_mappings, &dmafi_module.dma_mappings, -1);
}

static inline void *dmafi_dma_alloc_coherent(struct dmafi *fi,
					     struct device *dev, size_t size,
					     dma_addr_t *dma_handle, gfp_t gfp)
{
	void *cpu_addr;

	if (dmafi_should_fail(fi, DMAFI_COHERENT_ALLOC_FAIL))
		return NULL;
	cpu_addr = dma_alloc_coherent(dev, size, dma_handle, gfp);
	if (cpu_addr)
		dmafi_count(&fi->ledger.coherent_buffers, &dmafi_module.coherent_buffers, 1);
	return cpu_addr;
}

static inline void dmafi_dma_free_coherent(struct dmafi *fi,
					   struct device *dev, size_t size,
					   void *cpu_addr,
					   dma_addr_t dma_handle)
{
	dma_free_coherent(dev, size, cpu_addr, dma_handle);
	dmafi_count(&fi->ledger.coherent_buffers, &dmafi_module.coherent_buffers, -1);
}

/*
 * kzalloc() and kvzalloc() for the driver's own state; kmalloc_fail makes them
 * return NULL. The ledger counts what they return until the matching free.
 */
static inline void *dmafi_kzalloc(struct dmafi *fi, size_t size, gfp_t gfp)
{
	void *obj;

	if (dmafi_should_fail(fi, DMAFI_KMALLOC_FAIL))
		return NULL;
	obj = kzalloc(size, gfp);
	if (obj)
		dmafi_count(&fi->ledger.allocations, &dmafi_module.allocations, 1);
	return obj;
}

static inline void *dmafi_kvzalloc(struct dmafi *fi, size_t size, gfp_t gfp)
{
	void *obj;

	if (dmafi_should_fail(fi, DMAFI_KMALLOC_FAIL))
		return NULL;
	obj = kvzalloc(size, gfp);
	if (obj)
		dmafi_count(&fi->ledger.allocations, &dmafi_module.allocations, 1);
	return obj;
}

static inline void dmafi_kfree(struct dmafi *fi, const void *obj)
{
	if (obj)
		dmafi_count(&fi->ledger.allocations, &dmafi_module.allocations, -1);
	kfree(obj);
}

static inline void dmafi_kvfree(struct dmafi *fi, const void *obj)
{
	if (obj)
		dmafi_count(&fi->ledger.allocations, &dmafi_module.allocations, -1);
	kvfree(obj);
}

#endif /* _DMAFI_H */
