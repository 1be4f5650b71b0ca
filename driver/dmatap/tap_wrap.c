// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - the wrappers the target's calls are sent to, and the hook table.
 *
 * Each wrapper has the prototype of the function it stands for (checked at
 * build time). It runs with the target's return address on the stack, so
 * _RET_IP_ is the target's call site. It consults the fault points, calls
 * the real function (which passes through the hook untouched, since the
 * caller is now dmatap; the module is built with
 * -fno-optimize-sibling-calls so that this is never a tail call, which
 * would leave the target's return address in place and loop), and updates
 * the ledger. A release is taken off the ledger before the real call, so
 * that nested releases inside it (unpin_user_pages_dirty_lock calling
 * unpin_user_pages, kvfree calling kfree) find nothing left to match.
 *
 * The release hooks at the end handle calls from outside the target: they
 * take objects the target holds off the ledger by key (a tail call from
 * the target to a release shows the target's caller, not the target). The
 * ftrace handler calls them; the kprobe path, whose handler runs as an NMI,
 * sends those calls to the "elsewhere" entries instead, which do the same
 * in the caller's context.
 */

#include <linux/build_bug.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/ptrace.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dmatap.h"

/* The pin faults, in dmafi's order: pageout pause, gup_fail, gup_partial (lowers *@nr). */
static int dt_pin_faults(struct dt_site *site, unsigned long *nr)
{
	dt_pause(DT_PAGEOUT, site);
	if (dt_should_fail(DT_GUP_FAIL, site))
		return dt_error(DT_GUP_FAIL);
	if (*nr > 1 && dt_should_fail(DT_GUP_PARTIAL, site))
		*nr = dt_partial(*nr);
	return 0;
}

static int dt_pin_user_pages_fast(unsigned long start, int nr_pages,
				  unsigned int gup_flags, struct page **pages)
{
	struct dt_site *site = dt_site_get(DT_FN_PIN_USER_PAGES_FAST, _RET_IP_);
	unsigned long nr = nr_pages;
	int ret;

	if (nr_pages > 0) {
		ret = dt_pin_faults(site, &nr);
		if (ret)
			return ret;
		nr_pages = nr;
	}
	ret = pin_user_pages_fast(start, nr_pages, gup_flags, pages);
	if (ret > 0) {
		dt_pins_add(pages, ret, site);
		/*
		 * Only here: the callers of pin_user_pages(_remote) hold the
		 * mmap lock, which the writer-back may need.
		 */
		dt_pause(DT_WRITEBACK, site);
	}
	return ret;
}

static long dt_pin_user_pages(unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct page **pages,
			      struct vm_area_struct **vmas)
{
	struct dt_site *site = dt_site_get(DT_FN_PIN_USER_PAGES, _RET_IP_);
	long ret;

	ret = dt_pin_faults(site, &nr_pages);
	if (ret)
		return ret;
	ret = pin_user_pages(start, nr_pages, gup_flags, pages, vmas);
	if (ret > 0 && pages)
		dt_pins_add(pages, ret, site);
	return ret;
}

static long dt_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
				     unsigned long nr_pages,
				     unsigned int gup_flags,
				     struct page **pages,
				     struct vm_area_struct **vmas, int *locked)
{
	struct dt_site *site = dt_site_get(DT_FN_PIN_USER_PAGES_REMOTE,
					   _RET_IP_);
	long ret;

	ret = dt_pin_faults(site, &nr_pages);
	if (ret)
		return ret;
	ret = pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				    vmas, locked);
	if (ret > 0 && pages)
		dt_pins_add(pages, ret, site);
	return ret;
}

/* FOLL_GET references end in put_page(), which is inline: counted, not held. */
static int dt_get_user_pages_fast(unsigned long start, int nr_pages,
				  unsigned int gup_flags, struct page **pages)
{
	struct dt_site *site = dt_site_get(DT_FN_GET_USER_PAGES_FAST, _RET_IP_);
	unsigned long nr = nr_pages;
	int ret;

	if (nr_pages > 0) {
		ret = dt_pin_faults(site, &nr);
		if (ret)
			return ret;
		nr_pages = nr;
	}
	ret = get_user_pages_fast(start, nr_pages, gup_flags, pages);
	if (ret > 0)
		dt_count_gup(ret);
	return ret;
}

static void dt_unpin_user_page(struct page *page)
{
	struct dt_site *site = dt_site_get(DT_FN_UNPIN_USER_PAGE, _RET_IP_);

	dt_pins_release(&page, 1, site);
	unpin_user_page(page);
}

static void dt_unpin_user_pages(struct page **pages, unsigned long npages)
{
	struct dt_site *site = dt_site_get(DT_FN_UNPIN_USER_PAGES, _RET_IP_);

	dt_pins_release(pages, npages, site);
	unpin_user_pages(pages, npages);
}

static void dt_unpin_user_pages_dirty_lock(struct page **pages,
					   unsigned long npages,
					   bool make_dirty)
{
	struct dt_site *site = dt_site_get(DT_FN_UNPIN_USER_PAGES_DIRTY_LOCK,
					   _RET_IP_);

	dt_pins_release(pages, npages, site);
	/*
	 * What the kernel's function does when nothing is to be dirtied, but
	 * called from here: from mm/gup.c, the inner unpin_user_pages() would
	 * look like a release by someone else and take the pins off again.
	 */
	if (!make_dirty)
		unpin_user_pages(pages, npages);
	else
		unpin_user_pages_dirty_lock(pages, npages, make_dirty);
}

static int dt_sg_alloc_table_from_pages_segment(struct sg_table *sgt,
						struct page **pages,
						unsigned int n_pages,
						unsigned int offset,
						unsigned long size,
						unsigned int max_segment,
						gfp_t gfp_mask)
{
	struct dt_site *site = dt_site_get(DT_FN_SG_ALLOC_TABLE_FROM_PAGES_SEGMENT,
					   _RET_IP_);
	int ret;

	if (dt_should_fail(DT_SG_ALLOC_FAIL, site))
		return dt_error(DT_SG_ALLOC_FAIL);
	ret = sg_alloc_table_from_pages_segment(sgt, pages, n_pages, offset,
						size, max_segment, gfp_mask);
	if (!ret)
		dt_add(DT_SGT, (unsigned long)sgt, NULL, sgt->orig_nents, 0,
		       site);
	return ret;
}

static int dt_sg_alloc_table(struct sg_table *table, unsigned int nents,
			     gfp_t gfp_mask)
{
	struct dt_site *site = dt_site_get(DT_FN_SG_ALLOC_TABLE, _RET_IP_);
	int ret;

	if (dt_should_fail(DT_SG_ALLOC_FAIL, site))
		return dt_error(DT_SG_ALLOC_FAIL);
	ret = sg_alloc_table(table, nents, gfp_mask);
	if (!ret)
		dt_add(DT_SGT, (unsigned long)table, NULL, table->orig_nents, 0,
		       site);
	return ret;
}

/* Freeing a table that holds no list (never allocated, or freed) does nothing: no finding. */
static void dt_sg_free_table(struct sg_table *table)
{
	struct dt_site *site = dt_site_get(DT_FN_SG_FREE_TABLE, _RET_IP_);

	if (!dt_release(DT_SGT, (unsigned long)table, NULL, NULL) &&
	    table->sgl)
		dt_finding(DT_FREE_NOT_ALLOCATED, DT_SGT, site, NULL,
			   "nents=%u", table->orig_nents);
	sg_free_table(table);
}

static int dt_dma_map_sgtable(struct device *dev, struct sg_table *sgt,
			      enum dma_data_direction dir, unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_MAP_SGTABLE, _RET_IP_);
	int ret;

	if (dt_should_fail(DT_DMA_MAP_FAIL, site))
		return dt_error(DT_DMA_MAP_FAIL);
	ret = dma_map_sgtable(dev, sgt, dir, attrs);
	if (!ret)
		dt_add(DT_MAP_SG, (unsigned long)sgt->sgl, dev, sgt->orig_nents,
		       dir, site);
	return ret;
}

static unsigned int dt_dma_map_sg_attrs(struct device *dev,
					struct scatterlist *sg, int nents,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_MAP_SG_ATTRS, _RET_IP_);
	unsigned int ret;

	/* dma_map_sg_attrs() reports every failure as 0 mapped entries. */
	if (dt_should_fail(DT_DMA_MAP_FAIL, site))
		return 0;
	ret = dma_map_sg_attrs(dev, sg, nents, dir, attrs);
	if (ret)
		dt_add(DT_MAP_SG, (unsigned long)sg, dev, nents, dir, site);
	return ret;
}

static dma_addr_t dt_dma_map_page_attrs(struct device *dev, struct page *page,
					size_t offset, size_t size,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_MAP_PAGE_ATTRS, _RET_IP_);
	dma_addr_t addr;

	/* What dma_mapping_error() tests for. */
	if (dt_should_fail(DT_DMA_MAP_FAIL, site))
		return DMA_MAPPING_ERROR;
	addr = dma_map_page_attrs(dev, page, offset, size, dir, attrs);
	if (addr != DMA_MAPPING_ERROR)
		dt_add(DT_MAP_PAGE, addr, dev, size, dir, site);
	return addr;
}

/* Compares an unmap with its map: @size is nents for sg lists, bytes for pages. */
static void dt_unmap_check(enum dt_kind kind, unsigned long key,
			   struct device *dev, u64 size,
			   enum dma_data_direction dir, struct dt_site *site)
{
	struct dt_held held;

	if (!dt_release(kind, key, dev, &held)) {
		dt_finding(DT_UNMAP_NOT_MAPPED, kind, site, NULL, "size=%llu",
			   size);
		return;
	}
	if (held.size != size)
		dt_finding(DT_UNMAP_SIZE_MISMATCH, kind, site, held.site,
			   "mapped=%llu unmapped=%llu id=%llu", held.size,
			   size, held.id);
	if (held.dir != dir)
		dt_finding(DT_UNMAP_DIR_MISMATCH, kind, site, held.site,
			   "mapped=%u unmapped=%u id=%llu", held.dir, dir,
			   held.id);
}

static void dt_dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg,
				  int nents, enum dma_data_direction dir,
				  unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_UNMAP_SG_ATTRS, _RET_IP_);

	dt_unmap_check(DT_MAP_SG, (unsigned long)sg, dev, nents, dir, site);
	dma_unmap_sg_attrs(dev, sg, nents, dir, attrs);
}

static void dt_dma_unmap_page_attrs(struct device *dev, dma_addr_t addr,
				    size_t size, enum dma_data_direction dir,
				    unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_UNMAP_PAGE_ATTRS,
					   _RET_IP_);

	dt_unmap_check(DT_MAP_PAGE, addr, dev, size, dir, site);
	dma_unmap_page_attrs(dev, addr, size, dir, attrs);
}

/* A sync needs a live mapping, in its direction unless mapped bidirectional. */
static void dt_sync_check(bool found, const struct dt_held *held,
			  enum dt_kind kind, enum dma_data_direction dir,
			  struct dt_site *site)
{
	if (!found)
		dt_finding(DT_SYNC_NOT_MAPPED, kind, site, NULL, "dir=%u", dir);
	else if (held->dir != DMA_BIDIRECTIONAL && held->dir != dir)
		dt_finding(DT_SYNC_DIR_MISMATCH, kind, site, held->site,
			   "mapped=%u synced=%u id=%llu", held->dir, dir,
			   held->id);
}

static void dt_dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg,
				   int nelems, enum dma_data_direction dir)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_SYNC_SG_FOR_CPU, _RET_IP_);
	struct dt_held held;
	bool found;

	found = dt_find(DT_MAP_SG, (unsigned long)sg, dev, &held);
	dt_sync_check(found, &held, DT_MAP_SG, dir, site);
	dma_sync_sg_for_cpu(dev, sg, nelems, dir);
}

static void dt_dma_sync_sg_for_device(struct device *dev,
				      struct scatterlist *sg, int nelems,
				      enum dma_data_direction dir)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_SYNC_SG_FOR_DEVICE,
					   _RET_IP_);
	struct dt_held held;
	bool found;

	found = dt_find(DT_MAP_SG, (unsigned long)sg, dev, &held);
	dt_sync_check(found, &held, DT_MAP_SG, dir, site);
	dma_sync_sg_for_device(dev, sg, nelems, dir);
}

static void dt_dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
				       size_t size,
				       enum dma_data_direction dir)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_SYNC_SINGLE_FOR_CPU,
					   _RET_IP_);
	struct dt_held held;
	bool found;

	found = dt_find_page_map(dev, addr, size, &held);
	dt_sync_check(found, &held, DT_MAP_PAGE, dir, site);
	dma_sync_single_for_cpu(dev, addr, size, dir);
}

static void dt_dma_sync_single_for_device(struct device *dev, dma_addr_t addr,
					  size_t size,
					  enum dma_data_direction dir)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_SYNC_SINGLE_FOR_DEVICE,
					   _RET_IP_);
	struct dt_held held;
	bool found;

	found = dt_find_page_map(dev, addr, size, &held);
	dt_sync_check(found, &held, DT_MAP_PAGE, dir, site);
	dma_sync_single_for_device(dev, addr, size, dir);
}

static void *dt_dma_alloc_attrs(struct device *dev, size_t size,
				dma_addr_t *dma_handle, gfp_t flag,
				unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_ALLOC_ATTRS, _RET_IP_);
	void *cpu_addr;

	if (dt_should_fail(DT_COHERENT_ALLOC_FAIL, site))
		return NULL;
	cpu_addr = dma_alloc_attrs(dev, size, dma_handle, flag, attrs);
	if (cpu_addr)
		dt_add(DT_COHERENT, (unsigned long)cpu_addr, dev, size, 0, site);
	return cpu_addr;
}

static void dt_dma_free_attrs(struct device *dev, size_t size, void *cpu_addr,
			      dma_addr_t dma_handle, unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_FREE_ATTRS, _RET_IP_);
	struct dt_held held;

	if (!cpu_addr)
		goto out;
	if (!dt_release(DT_COHERENT, (unsigned long)cpu_addr, dev, &held))
		dt_finding(DT_FREE_NOT_ALLOCATED, DT_COHERENT, site, NULL,
			   "size=%zu", size);
	else if (held.size != size)
		dt_finding(DT_FREE_SIZE_MISMATCH, DT_COHERENT, site, held.site,
			   "allocated=%llu freed=%zu id=%llu", held.size, size,
			   held.id);
out:
	dma_free_attrs(dev, size, cpu_addr, dma_handle, attrs);
}

static int dt_dma_mmap_attrs(struct device *dev, struct vm_area_struct *vma,
			     void *cpu_addr, dma_addr_t dma_addr, size_t size,
			     unsigned long attrs)
{
	struct dt_site *site = dt_site_get(DT_FN_DMA_MMAP_ATTRS, _RET_IP_);

	if (!dt_find(DT_COHERENT, (unsigned long)cpu_addr, dev, NULL))
		dt_finding(DT_MMAP_NOT_ALLOCATED, DT_COHERENT, site, NULL,
			   "size=%zu", size);
	return dma_mmap_attrs(dev, vma, cpu_addr, dma_addr, size, attrs);
}

/* kmalloc_fail never fails an allocation that must not fail. */
static bool dt_alloc_fails(gfp_t flags, struct dt_site *site)
{
	return !(flags & __GFP_NOFAIL) && dt_should_fail(DT_KMALLOC_FAIL, site);
}

/* Records a kmalloc-family result; ZERO_SIZE_PTR is not an object. */
static void *dt_alloc_done(void *obj, size_t size, struct dt_site *site)
{
	if (!ZERO_OR_NULL_PTR(obj))
		dt_add(DT_ALLOC, (unsigned long)obj, NULL, size, 0, site);
	return obj;
}

static void *dt_kmalloc_trace(struct kmem_cache *s, gfp_t flags, size_t size)
{
	struct dt_site *site = dt_site_get(DT_FN_KMALLOC_TRACE, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(kmalloc_trace(s, flags, size), size, site);
}

static void *dt_kmalloc_node_trace(struct kmem_cache *s, gfp_t gfpflags,
				   int node, size_t size)
{
	struct dt_site *site = dt_site_get(DT_FN_KMALLOC_NODE_TRACE, _RET_IP_);

	if (dt_alloc_fails(gfpflags, site))
		return NULL;
	return dt_alloc_done(kmalloc_node_trace(s, gfpflags, node, size),
			     size, site);
}

static void *dt___kmalloc(size_t size, gfp_t flags)
{
	struct dt_site *site = dt_site_get(DT_FN___KMALLOC, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(__kmalloc(size, flags), size, site);
}

static void *dt___kmalloc_node(size_t size, gfp_t flags, int node)
{
	struct dt_site *site = dt_site_get(DT_FN___KMALLOC_NODE, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(__kmalloc_node(size, flags, node), size, site);
}

static void *dt_kmalloc_large(size_t size, gfp_t flags)
{
	struct dt_site *site = dt_site_get(DT_FN_KMALLOC_LARGE, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(kmalloc_large(size, flags), size, site);
}

static void *dt_kmalloc_large_node(size_t size, gfp_t flags, int node)
{
	struct dt_site *site = dt_site_get(DT_FN_KMALLOC_LARGE_NODE, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(kmalloc_large_node(size, flags, node), size,
			     site);
}

static void *dt_kvmalloc_node(size_t size, gfp_t flags, int node)
{
	struct dt_site *site = dt_site_get(DT_FN_KVMALLOC_NODE, _RET_IP_);

	if (dt_alloc_fails(flags, site))
		return NULL;
	return dt_alloc_done(kvmalloc_node(size, flags, node), size, site);
}

/* A free of what the target never allocated (kfree(NULL) is fine). */
static void dt_free_check(const void *obj, struct dt_site *site)
{
	if (!ZERO_OR_NULL_PTR(obj) &&
	    !dt_release(DT_ALLOC, (unsigned long)obj, NULL, NULL))
		dt_finding(DT_FREE_NOT_ALLOCATED, DT_ALLOC, site, NULL,
			   "object");
}

static void dt_kfree(const void *objp)
{
	dt_free_check(objp, dt_site_get(DT_FN_KFREE, _RET_IP_));
	kfree(objp);
}

static void dt_kvfree(const void *addr)
{
	dt_free_check(addr, dt_site_get(DT_FN_KVFREE, _RET_IP_));
	kvfree(addr);
}

static int dt_request_threaded_irq(unsigned int irq, irq_handler_t handler,
				   irq_handler_t thread_fn,
				   unsigned long irqflags, const char *devname,
				   void *dev_id)
{
	struct dt_site *site = dt_site_get(DT_FN_REQUEST_THREADED_IRQ,
					   _RET_IP_);
	struct dt_irq_slot *slot;
	int ret;

	slot = dt_irq_prepare(irq, &handler, thread_fn, dev_id);
	ret = request_threaded_irq(irq, handler, thread_fn, irqflags, devname,
				   dev_id);
	dt_irq_requested(slot, ret, site);
	return ret;
}

/* Its free_irq() comes from devres, outside the target: claimed by dt_free_irq_claim(). */
static int dt_devm_request_threaded_irq(struct device *dev, unsigned int irq,
					irq_handler_t handler,
					irq_handler_t thread_fn,
					unsigned long irqflags,
					const char *devname, void *dev_id)
{
	struct dt_site *site = dt_site_get(DT_FN_DEVM_REQUEST_THREADED_IRQ,
					   _RET_IP_);
	struct dt_irq_slot *slot;
	int ret;

	slot = dt_irq_prepare(irq, &handler, thread_fn, dev_id);
	ret = devm_request_threaded_irq(dev, irq, handler, thread_fn, irqflags,
					devname, dev_id);
	dt_irq_requested(slot, ret, site);
	return ret;
}

/*
 * From the target, or from elsewhere (devres) for an IRQ the target
 * requested: the site is only counted for the target's own calls.
 */
static const void *dt_free_irq(unsigned int irq, void *dev_id)
{
	struct dt_site *site = NULL;
	struct dt_irq_slot *slot;
	const void *devname;

	if (dt_from_target(_RET_IP_))
		site = dt_site_get(DT_FN_FREE_IRQ, _RET_IP_);
	slot = dt_irq_free_begin(irq, dev_id);
	devname = free_irq(irq, dev_id);
	if (slot)
		dt_irq_free_end(slot);
	else if (site && !devname)
		dt_finding(DT_FREE_NOT_ALLOCATED, DT_IRQ, site, NULL, "irq=%u",
			   irq);
	return devname;
}

/* The real waits, with one type: called from here, they pass the hook untouched. */
static long dt_wfc_timeout(struct completion *x, unsigned long timeout)
{
	return wait_for_completion_timeout(x, timeout);
}

static long dt_wfc_interruptible_timeout(struct completion *x,
					 unsigned long timeout)
{
	return wait_for_completion_interruptible_timeout(x, timeout);
}

static long dt_wfc_killable_timeout(struct completion *x,
				    unsigned long timeout)
{
	return wait_for_completion_killable_timeout(x, timeout);
}

/*
 * A timed wait of the target: first delivers an interrupt held by an earlier
 * irq_late (the target starts a DMA, then waits for it). When irq_late fires
 * for this wait (counted at its site), the next interrupt of the target is
 * held: the wait goes on in slices of a jiffy and returns 0 ("timed out")
 * once it was held, what is left of @timeout if the completion came first,
 * or 0 when @timeout ran out. A negative return (a signal) ends it at once.
 */
static long dt_wait(struct completion *x, unsigned long timeout,
		    long (*wait)(struct completion *x, unsigned long timeout),
		    enum dt_fn fn, unsigned long ret_ip)
{
	struct dt_site *site = dt_site_get(fn, ret_ip);
	unsigned long left = timeout, slice, gen;
	long ret;

	dt_irq_deliver();
	if (!timeout || !dt_point_armed(DT_IRQ_LATE) || !dt_irq_can_hold() ||
	    completion_done(x) || !dt_should_fail(DT_IRQ_LATE, site) ||
	    !dt_irq_request(&gen))
		return wait(x, timeout);
	for (;;) {
		slice = min(left, 1UL);
		ret = wait(x, slice);
		if (ret) {
			dt_irq_cancel(gen);
			if (ret < 0 || timeout == MAX_SCHEDULE_TIMEOUT)
				return ret;
			return left - slice + ret;
		}
		if (dt_irq_held_since(gen))
			return 0;
		if (timeout != MAX_SCHEDULE_TIMEOUT)
			left -= slice;
		if (!left) {
			dt_irq_cancel(gen);
			return 0;
		}
	}
}

static unsigned long dt_wait_for_completion_timeout(struct completion *x,
						    unsigned long timeout)
{
	return dt_wait(x, timeout, dt_wfc_timeout,
		       DT_FN_WAIT_FOR_COMPLETION_TIMEOUT, _RET_IP_);
}

static long dt_wait_for_completion_interruptible_timeout(struct completion *x,
							 unsigned long timeout)
{
	return dt_wait(x, timeout, dt_wfc_interruptible_timeout,
		       DT_FN_WAIT_FOR_COMPLETION_INTERRUPTIBLE_TIMEOUT,
		       _RET_IP_);
}

static long dt_wait_for_completion_killable_timeout(struct completion *x,
						    unsigned long timeout)
{
	return dt_wait(x, timeout, dt_wfc_killable_timeout,
		       DT_FN_WAIT_FOR_COMPLETION_KILLABLE_TIMEOUT, _RET_IP_);
}

/*
 * pci_dev references: what pci_dev_get() and the pci_get_*() searches
 * return is the target's until it puts it. A search continued from @from
 * puts @from's reference itself, found or not: taken off the ledger before
 * the call, as any release. Only the target's own calls count: the kernel
 * takes and drops references of its own on the same devices all the time.
 */
static struct pci_dev *dt_pci_ref_got(struct pci_dev *pdev,
				      struct dt_site *site)
{
	if (pdev)
		dt_ref_get(DT_PCI_REF, (unsigned long)pdev, site);
	return pdev;
}

static void dt_pci_ref_put(struct pci_dev *pdev, struct dt_site *site)
{
	if (pdev)
		dt_ref_put(DT_PCI_REF, (unsigned long)pdev, site);
}

static struct pci_dev *dt_pci_dev_get(struct pci_dev *dev)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_DEV_GET, _RET_IP_);

	return dt_pci_ref_got(pci_dev_get(dev), site);
}

static void dt_pci_dev_put(struct pci_dev *dev)
{
	dt_pci_ref_put(dev, dt_site_get(DT_FN_PCI_DEV_PUT, _RET_IP_));
	pci_dev_put(dev);
}

static struct pci_dev *dt_pci_get_device(unsigned int vendor,
					 unsigned int device,
					 struct pci_dev *from)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_GET_DEVICE, _RET_IP_);

	dt_pci_ref_put(from, site);
	return dt_pci_ref_got(pci_get_device(vendor, device, from), site);
}

static struct pci_dev *dt_pci_get_subsys(unsigned int vendor,
					 unsigned int device,
					 unsigned int ss_vendor,
					 unsigned int ss_device,
					 struct pci_dev *from)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_GET_SUBSYS, _RET_IP_);

	dt_pci_ref_put(from, site);
	return dt_pci_ref_got(pci_get_subsys(vendor, device, ss_vendor,
					     ss_device, from), site);
}

static struct pci_dev *dt_pci_get_class(unsigned int class,
					struct pci_dev *from)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_GET_CLASS, _RET_IP_);

	dt_pci_ref_put(from, site);
	return dt_pci_ref_got(pci_get_class(class, from), site);
}

static struct pci_dev *dt_pci_get_slot(struct pci_bus *bus, unsigned int devfn)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_GET_SLOT, _RET_IP_);

	return dt_pci_ref_got(pci_get_slot(bus, devfn), site);
}

static struct pci_dev *dt_pci_get_domain_bus_and_slot(int domain,
						      unsigned int bus,
						      unsigned int devfn)
{
	struct dt_site *site = dt_site_get(DT_FN_PCI_GET_DOMAIN_BUS_AND_SLOT,
					   _RET_IP_);

	return dt_pci_ref_got(pci_get_domain_bus_and_slot(domain, bus, devfn),
			      site);
}

/*
 * Release hooks, for calls from outside the target; in hook context (no
 * sleeping), with the arguments in @regs at the function's entry.
 */
static void dt_elsewhere(enum dt_kind kind, unsigned long key,
			 const struct device *dev)
{
	if (dt_holds(kind) && dt_release(kind, key, dev, NULL))
		dt_count_elsewhere();
}

static void dt_unpin_page_elsewhere(struct pt_regs *regs)
{
	struct page *page = (struct page *)regs_get_kernel_argument(regs, 0);

	if (dt_holds(DT_PIN))
		dt_pins_release(&page, 1, NULL);
}

static void dt_unpin_pages_elsewhere(struct pt_regs *regs)
{
	if (dt_holds(DT_PIN))
		dt_pins_release((struct page **)regs_get_kernel_argument(regs, 0),
				regs_get_kernel_argument(regs, 1), NULL);
}

static void dt_sg_free_elsewhere(struct pt_regs *regs)
{
	dt_elsewhere(DT_SGT, regs_get_kernel_argument(regs, 0), NULL);
}

static void dt_unmap_elsewhere(struct pt_regs *regs, enum dt_kind kind)
{
	dt_elsewhere(kind, regs_get_kernel_argument(regs, 1),
		     (const struct device *)regs_get_kernel_argument(regs, 0));
}

static void dt_unmap_sg_elsewhere(struct pt_regs *regs)
{
	dt_unmap_elsewhere(regs, DT_MAP_SG);
}

static void dt_unmap_page_elsewhere(struct pt_regs *regs)
{
	dt_unmap_elsewhere(regs, DT_MAP_PAGE);
}

static void dt_coherent_free_elsewhere(struct pt_regs *regs)
{
	dt_elsewhere(DT_COHERENT, regs_get_kernel_argument(regs, 2),
		     (const struct device *)regs_get_kernel_argument(regs, 0));
}

static void dt_free_elsewhere(struct pt_regs *regs)
{
	dt_elsewhere(DT_ALLOC, regs_get_kernel_argument(regs, 0), NULL);
}

/* free_irq() from elsewhere (devres) of an IRQ the target requested goes to the wrapper. */
static bool dt_free_irq_claim(struct pt_regs *regs)
{
	return dt_irq_claim_free(regs_get_kernel_argument(regs, 0),
				 (void *)regs_get_kernel_argument(regs, 1));
}

/*
 * The same for the kprobe path. A kprobe's pre-handler runs in the int3
 * exception, which x86 enters as an NMI (exc_int3() calls
 * irqentry_nmi_enter(): in_nmi() is true), where neither dt_lock nor
 * dt_irq_lock may be taken; so the handler sends a call from outside the
 * target here instead, and the release (or claim) is done in the caller's
 * own context, as the ftrace handler does it. The real function is then
 * called from dmatap, which its kprobe lets pass.
 */
static void dt_unpin_user_page_elsewhere(struct page *page)
{
	if (dt_holds(DT_PIN))
		dt_pins_release(&page, 1, NULL);
	unpin_user_page(page);
}

static void dt_unpin_user_pages_elsewhere(struct page **pages,
					  unsigned long npages)
{
	if (dt_holds(DT_PIN))
		dt_pins_release(pages, npages, NULL);
	unpin_user_pages(pages, npages);
}

/* As dt_unpin_user_pages_dirty_lock(): the inner unpin must not match again. */
static void dt_unpin_user_pages_dirty_lock_elsewhere(struct page **pages,
						     unsigned long npages,
						     bool make_dirty)
{
	if (dt_holds(DT_PIN))
		dt_pins_release(pages, npages, NULL);
	if (!make_dirty)
		unpin_user_pages(pages, npages);
	else
		unpin_user_pages_dirty_lock(pages, npages, make_dirty);
}

static void dt_sg_free_table_elsewhere(struct sg_table *table)
{
	dt_elsewhere(DT_SGT, (unsigned long)table, NULL);
	sg_free_table(table);
}

static void dt_dma_unmap_sg_attrs_elsewhere(struct device *dev,
					    struct scatterlist *sg, int nents,
					    enum dma_data_direction dir,
					    unsigned long attrs)
{
	dt_elsewhere(DT_MAP_SG, (unsigned long)sg, dev);
	dma_unmap_sg_attrs(dev, sg, nents, dir, attrs);
}

static void dt_dma_unmap_page_attrs_elsewhere(struct device *dev,
					      dma_addr_t addr, size_t size,
					      enum dma_data_direction dir,
					      unsigned long attrs)
{
	dt_elsewhere(DT_MAP_PAGE, addr, dev);
	dma_unmap_page_attrs(dev, addr, size, dir, attrs);
}

static void dt_dma_free_attrs_elsewhere(struct device *dev, size_t size,
					void *cpu_addr, dma_addr_t dma_handle,
					unsigned long attrs)
{
	dt_elsewhere(DT_COHERENT, (unsigned long)cpu_addr, dev);
	dma_free_attrs(dev, size, cpu_addr, dma_handle, attrs);
}

/* The device state edu_remove() frees with a tail call (jmp kfree) comes here. */
static void dt_kfree_elsewhere(const void *objp)
{
	dt_elsewhere(DT_ALLOC, (unsigned long)objp, NULL);
	kfree(objp);
}

static void dt_kvfree_elsewhere(const void *addr)
{
	dt_elsewhere(DT_ALLOC, (unsigned long)addr, NULL);
	kvfree(addr);
}

static const void *dt_free_irq_elsewhere(unsigned int irq, void *dev_id)
{
	if (dt_irq_claim_free(irq, dev_id))
		return dt_free_irq(irq, dev_id);
	return free_irq(irq, dev_id);
}

#define DT_HOOK(fn) {					\
	.name = #fn,					\
	.func = (unsigned long)fn,			\
	.wrapper = (unsigned long)dt_##fn,		\
}

/* A release: calls from outside take what the target holds off the ledger. */
#define DT_HOOK_RELEASE(fn, release_hook, kind) {		\
	.name = #fn,						\
	.func = (unsigned long)fn,				\
	.wrapper = (unsigned long)dt_##fn,			\
	.release = release_hook,				\
	.elsewhere = (unsigned long)dt_##fn##_elsewhere,	\
	.holds = kind,						\
}

#define DT_HOOK_CLAIM(fn, claim_hook, kind) {			\
	.name = #fn,						\
	.func = (unsigned long)fn,				\
	.wrapper = (unsigned long)dt_##fn,			\
	.claim = claim_hook,					\
	.elsewhere = (unsigned long)dt_##fn##_elsewhere,	\
	.holds = kind,						\
}

struct dt_hook dt_hooks[DT_FN_NR] = {
	[DT_FN_PIN_USER_PAGES_FAST] = DT_HOOK(pin_user_pages_fast),
	[DT_FN_PIN_USER_PAGES] = DT_HOOK(pin_user_pages),
	[DT_FN_PIN_USER_PAGES_REMOTE] = DT_HOOK(pin_user_pages_remote),
	[DT_FN_GET_USER_PAGES_FAST] = DT_HOOK(get_user_pages_fast),
	[DT_FN_UNPIN_USER_PAGE] = DT_HOOK_RELEASE(unpin_user_page,
						  dt_unpin_page_elsewhere,
						  DT_PIN),
	[DT_FN_UNPIN_USER_PAGES] = DT_HOOK_RELEASE(unpin_user_pages,
						   dt_unpin_pages_elsewhere,
						   DT_PIN),
	[DT_FN_UNPIN_USER_PAGES_DIRTY_LOCK] =
		DT_HOOK_RELEASE(unpin_user_pages_dirty_lock,
				dt_unpin_pages_elsewhere, DT_PIN),
	[DT_FN_SG_ALLOC_TABLE_FROM_PAGES_SEGMENT] =
		DT_HOOK(sg_alloc_table_from_pages_segment),
	[DT_FN_SG_ALLOC_TABLE] = DT_HOOK(sg_alloc_table),
	[DT_FN_SG_FREE_TABLE] = DT_HOOK_RELEASE(sg_free_table,
						dt_sg_free_elsewhere, DT_SGT),
	[DT_FN_DMA_MAP_SGTABLE] = DT_HOOK(dma_map_sgtable),
	[DT_FN_DMA_MAP_SG_ATTRS] = DT_HOOK(dma_map_sg_attrs),
	[DT_FN_DMA_MAP_PAGE_ATTRS] = DT_HOOK(dma_map_page_attrs),
	[DT_FN_DMA_UNMAP_SG_ATTRS] = DT_HOOK_RELEASE(dma_unmap_sg_attrs,
						     dt_unmap_sg_elsewhere,
						     DT_MAP_SG),
	[DT_FN_DMA_UNMAP_PAGE_ATTRS] = DT_HOOK_RELEASE(dma_unmap_page_attrs,
						       dt_unmap_page_elsewhere,
						       DT_MAP_PAGE),
	[DT_FN_DMA_SYNC_SG_FOR_CPU] = DT_HOOK(dma_sync_sg_for_cpu),
	[DT_FN_DMA_SYNC_SG_FOR_DEVICE] = DT_HOOK(dma_sync_sg_for_device),
	[DT_FN_DMA_SYNC_SINGLE_FOR_CPU] = DT_HOOK(dma_sync_single_for_cpu),
	[DT_FN_DMA_SYNC_SINGLE_FOR_DEVICE] =
		DT_HOOK(dma_sync_single_for_device),
	[DT_FN_DMA_ALLOC_ATTRS] = DT_HOOK(dma_alloc_attrs),
	[DT_FN_DMA_FREE_ATTRS] = DT_HOOK_RELEASE(dma_free_attrs,
						 dt_coherent_free_elsewhere,
						 DT_COHERENT),
	[DT_FN_DMA_MMAP_ATTRS] = DT_HOOK(dma_mmap_attrs),
	[DT_FN_KMALLOC_TRACE] = DT_HOOK(kmalloc_trace),
	[DT_FN_KMALLOC_NODE_TRACE] = DT_HOOK(kmalloc_node_trace),
	[DT_FN___KMALLOC] = DT_HOOK(__kmalloc),
	[DT_FN___KMALLOC_NODE] = DT_HOOK(__kmalloc_node),
	[DT_FN_KMALLOC_LARGE] = DT_HOOK(kmalloc_large),
	[DT_FN_KMALLOC_LARGE_NODE] = DT_HOOK(kmalloc_large_node),
	[DT_FN_KVMALLOC_NODE] = DT_HOOK(kvmalloc_node),
	[DT_FN_KFREE] = DT_HOOK_RELEASE(kfree, dt_free_elsewhere, DT_ALLOC),
	[DT_FN_KVFREE] = DT_HOOK_RELEASE(kvfree, dt_free_elsewhere, DT_ALLOC),
	[DT_FN_REQUEST_THREADED_IRQ] = DT_HOOK(request_threaded_irq),
	[DT_FN_DEVM_REQUEST_THREADED_IRQ] = DT_HOOK(devm_request_threaded_irq),
	[DT_FN_FREE_IRQ] = DT_HOOK_CLAIM(free_irq, dt_free_irq_claim, DT_IRQ),
	[DT_FN_WAIT_FOR_COMPLETION_TIMEOUT] =
		DT_HOOK(wait_for_completion_timeout),
	[DT_FN_WAIT_FOR_COMPLETION_INTERRUPTIBLE_TIMEOUT] =
		DT_HOOK(wait_for_completion_interruptible_timeout),
	[DT_FN_WAIT_FOR_COMPLETION_KILLABLE_TIMEOUT] =
		DT_HOOK(wait_for_completion_killable_timeout),
	[DT_FN_PCI_DEV_GET] = DT_HOOK(pci_dev_get),
	[DT_FN_PCI_DEV_PUT] = DT_HOOK(pci_dev_put),
	[DT_FN_PCI_GET_DEVICE] = DT_HOOK(pci_get_device),
	[DT_FN_PCI_GET_SUBSYS] = DT_HOOK(pci_get_subsys),
	[DT_FN_PCI_GET_CLASS] = DT_HOOK(pci_get_class),
	[DT_FN_PCI_GET_SLOT] = DT_HOOK(pci_get_slot),
	[DT_FN_PCI_GET_DOMAIN_BUS_AND_SLOT] =
		DT_HOOK(pci_get_domain_bus_and_slot),
};

/* Each wrapper must have exactly the prototype of the function it replaces. */
#define DT_SAME_TYPE(fn) BUILD_BUG_ON(!__same_type(&(fn), &dt_##fn))
#define DT_SAME_TYPE_ELSEWHERE(fn)					\
	BUILD_BUG_ON(!__same_type(&(fn), &dt_##fn##_elsewhere))

void dt_hooks_init(void)
{
	DT_SAME_TYPE(pin_user_pages_fast);
	DT_SAME_TYPE(pin_user_pages);
	DT_SAME_TYPE(pin_user_pages_remote);
	DT_SAME_TYPE(get_user_pages_fast);
	DT_SAME_TYPE(unpin_user_page);
	DT_SAME_TYPE(unpin_user_pages);
	DT_SAME_TYPE(unpin_user_pages_dirty_lock);
	DT_SAME_TYPE(sg_alloc_table_from_pages_segment);
	DT_SAME_TYPE(sg_alloc_table);
	DT_SAME_TYPE(sg_free_table);
	DT_SAME_TYPE(dma_map_sgtable);
	DT_SAME_TYPE(dma_map_sg_attrs);
	DT_SAME_TYPE(dma_map_page_attrs);
	DT_SAME_TYPE(dma_unmap_sg_attrs);
	DT_SAME_TYPE(dma_unmap_page_attrs);
	DT_SAME_TYPE(dma_sync_sg_for_cpu);
	DT_SAME_TYPE(dma_sync_sg_for_device);
	DT_SAME_TYPE(dma_sync_single_for_cpu);
	DT_SAME_TYPE(dma_sync_single_for_device);
	DT_SAME_TYPE(dma_alloc_attrs);
	DT_SAME_TYPE(dma_free_attrs);
	DT_SAME_TYPE(dma_mmap_attrs);
	DT_SAME_TYPE(kmalloc_trace);
	DT_SAME_TYPE(kmalloc_node_trace);
	DT_SAME_TYPE(__kmalloc);
	DT_SAME_TYPE(__kmalloc_node);
	DT_SAME_TYPE(kmalloc_large);
	DT_SAME_TYPE(kmalloc_large_node);
	DT_SAME_TYPE(kvmalloc_node);
	DT_SAME_TYPE(kfree);
	DT_SAME_TYPE(kvfree);
	DT_SAME_TYPE(request_threaded_irq);
	DT_SAME_TYPE(devm_request_threaded_irq);
	DT_SAME_TYPE(free_irq);
	DT_SAME_TYPE(wait_for_completion_timeout);
	DT_SAME_TYPE(wait_for_completion_interruptible_timeout);
	DT_SAME_TYPE(wait_for_completion_killable_timeout);
	DT_SAME_TYPE(pci_dev_get);
	DT_SAME_TYPE(pci_dev_put);
	DT_SAME_TYPE(pci_get_device);
	DT_SAME_TYPE(pci_get_subsys);
	DT_SAME_TYPE(pci_get_class);
	DT_SAME_TYPE(pci_get_slot);
	DT_SAME_TYPE(pci_get_domain_bus_and_slot);

	DT_SAME_TYPE_ELSEWHERE(unpin_user_page);
	DT_SAME_TYPE_ELSEWHERE(unpin_user_pages);
	DT_SAME_TYPE_ELSEWHERE(unpin_user_pages_dirty_lock);
	DT_SAME_TYPE_ELSEWHERE(sg_free_table);
	DT_SAME_TYPE_ELSEWHERE(dma_unmap_sg_attrs);
	DT_SAME_TYPE_ELSEWHERE(dma_unmap_page_attrs);
	DT_SAME_TYPE_ELSEWHERE(dma_free_attrs);
	DT_SAME_TYPE_ELSEWHERE(kfree);
	DT_SAME_TYPE_ELSEWHERE(kvfree);
	DT_SAME_TYPE_ELSEWHERE(free_irq);
}
