// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - zero-copy DMA straight into or out of user pages.
 *
 * The lifecycle of a user range: pin (FOLL_WRITE when the device writes),
 * build an sg table, dma_map_sgtable, run the DMA, sync for the CPU, unmap,
 * unpin (dirty when the device wrote). Pinning touches user memory, so it
 * happens outside the device section; mapping, DMA and unmapping happen in
 * one. edu_pinned_unmap() and edu_pinned_put() undo exactly the steps that
 * succeeded, on the error paths and after success alike.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "edu_drv.h"

/* Bytes the streaming copy moves through the window per round. */
#define EDU_COPY_CHUNK		2048

/* Pins all pages of the user range; a short pin is retried for the rest. */
static int edu_pin(struct edu_dev *edu, struct edu_pinned *p,
		   unsigned long start)
{
	unsigned int gup_flags = p->dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0;
	int ret;

	while (p->npinned < p->npages) {
		ret = dmafi_pin_user_pages_fast(&edu->fi,
						start + p->npinned * PAGE_SIZE,
						p->npages - p->npinned, gup_flags,
						p->pages + p->npinned);
		/* Nothing pinned (0) when the range wraps around the address space. */
		if (ret <= 0) {
			edu_site(pin_fail);
			return ret ? ret : -EFAULT;
		}
		p->npinned += ret;
	}
	return 0;
}

/* Unmaps @p if it is mapped; inside the device section that mapped it. */
static void edu_pinned_unmap(struct edu_dev *edu, struct edu_pinned *p)
{
	if (!p->mapped)
		return;
	/* The CPU-side sync was done where it mattered; do not repeat it. */
	dmafi_dma_unmap_sgtable(&edu->fi, &edu->pdev->dev, &p->sgt, p->dir,
				DMA_ATTR_SKIP_CPU_SYNC);
	p->mapped = false;
}

/* Releases the table and the pins of an unmapped @p, and @p itself. */
static void edu_pinned_put(struct edu_dev *edu, struct edu_pinned *p)
{
	if (p->sgt_alloced)
		dmafi_sg_free_table(&edu->fi, &p->sgt);
	dmafi_unpin_user_pages_dirty_lock(&edu->fi, p->pages, p->npinned,
					  p->dir == DMA_FROM_DEVICE);
	dmafi_kvfree(&edu->fi, p);
}

/*
 * The longest segment a mapping of this device may have: its own segment
 * limit, and what the DMA layer can map at once (swiotlb: 256 KiB).
 */
static unsigned int edu_max_segment(struct device *dev)
{
	size_t max = min_t(size_t, dma_max_mapping_size(dev),
			   dma_get_max_seg_size(dev));

	return rounddown(min_t(size_t, max, UINT_MAX), PAGE_SIZE);
}

/*
 * Pins @len bytes at @addr for a DMA in direction @dir and builds their sg
 * table; touches user memory, so never inside a device section.
 */
static struct edu_pinned *edu_pinned_get(struct edu_dev *edu, u64 addr,
					 u32 len, enum dma_data_direction dir)
{
	struct device *dev = &edu->pdev->dev;
	unsigned long start = addr;
	unsigned int npages;
	struct edu_pinned *p;
	int ret;

	npages = DIV_ROUND_UP(offset_in_page(start) + len, PAGE_SIZE);
	p = dmafi_kvzalloc(&edu->fi, struct_size(p, pages, npages), GFP_KERNEL);
	if (!p) {
		edu_site(pinned_alloc);
		return ERR_PTR(-ENOMEM);
	}
	p->dir = dir;
	p->npages = npages;

	/* Fault point: user space may page the buffer out right now. */
	dmafi_pause(&edu->fi, DMAFI_PAGEOUT);
	ret = edu_pin(edu, p, start & PAGE_MASK);
	if (ret)
		goto err_put;
	/* Fault point: user space may write the pinned pages back right now. */
	dmafi_pause(&edu->fi, DMAFI_WRITEBACK);

	ret = dmafi_sg_alloc_table_from_pages_segment(&edu->fi, &p->sgt,
						      p->pages, p->npages,
						      offset_in_page(start), len,
						      edu_max_segment(dev),
						      GFP_KERNEL);
	if (ret) {
		edu_site(pinned_sg_alloc);
		goto err_put;
	}
	p->sgt_alloced = true;
	return p;

err_put:
	edu_site(pinned_err_release);
	edu_pinned_put(edu, p);
	return ERR_PTR(ret);
}

/* Maps @p for the device; inside a device section, unmapped before it ends. */
static int edu_pinned_map(struct edu_dev *edu, struct edu_pinned *p)
{
	int ret;

	ret = dmafi_dma_map_sgtable(&edu->fi, &edu->pdev->dev, &p->sgt, p->dir,
				    0);
	if (ret) {
		edu_site(pinned_dma_map);
		return ret;
	}
	p->mapped = true;
	return 0;
}

/* The device may still access @p: keep it, mapped, until remove stops the device. */
static void edu_quarantine(struct edu_dev *edu, struct edu_pinned *p)
{
	spin_lock(&edu->quarantine_lock);
	list_add_tail(&p->node, &edu->quarantine);
	spin_unlock(&edu->quarantine_lock);
	atomic_long_inc(&edu->ledger.quarantined);
}

/* Called by remove with bus mastering off: nothing can touch these pages now. */
void edu_quarantine_release(struct edu_dev *edu)
{
	struct edu_pinned *p, *tmp;
	LIST_HEAD(list);

	spin_lock(&edu->quarantine_lock);
	list_splice_init(&edu->quarantine, &list);
	spin_unlock(&edu->quarantine_lock);

	list_for_each_entry_safe(p, tmp, &list, node) {
		list_del(&p->node);
		atomic_long_dec(&edu->ledger.quarantined);
		edu_pinned_unmap(edu, p);
		edu_pinned_put(edu, p);
	}
	if (edu->wedged)
		atomic_long_set(&edu->ledger.dma_in_flight, 0);
}

static int edu_xfer_check(const struct edu_dma_xfer *req)
{
	u32 end;

	if (req->reserved) {
		edu_site(xfer_reserved);
		return -EINVAL;
	}
	if (req->flags != EDU_DMA_TO_DEVICE && req->flags != EDU_DMA_FROM_DEVICE) {
		edu_site(xfer_bad_flags);
		return -EINVAL;
	}
	if (check_add_overflow(req->dev_offset, req->len, &end) ||
	    end > EDU_DMA_WINDOW_SIZE) {
		edu_site(xfer_range);
		return -EINVAL;
	}
	return 0;
}

long edu_ioctl_xfer(struct edu_dev *edu, void __user *argp)
{
	struct device *dev = &edu->pdev->dev;
	struct edu_dma_xfer req;
	struct edu_pinned *p;
	struct scatterlist *sg;
	bool to_ram, wedged;
	u32 sg_off = 0;
	int ret, idx;

	if (copy_from_user(&req, argp, sizeof(req))) {
		edu_site(xfer_arg_fault);
		return -EFAULT;
	}
	ret = edu_xfer_check(&req);
	if (ret) {
		dev_dbg(dev, "bad transfer request\n");
		return ret;
	}
	if (!req.len)
		return 0;

	to_ram = req.flags == EDU_DMA_FROM_DEVICE;
	p = edu_pinned_get(edu, req.user_addr, req.len,
			   to_ram ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
	if (IS_ERR(p))
		return PTR_ERR(p);

	idx = edu_enter();
	ret = edu_section_check(edu) ?: edu_pinned_map(edu, p);
	if (ret)
		goto out_leave;
	ret = edu_engine_lock(edu);
	if (ret)
		goto out_unmap;
	sg = p->sgt.sgl;
	ret = edu_dma_sg(edu, &sg, &sg_off, req.dev_offset, req.len, to_ram);
	wedged = ret == -ETIMEDOUT && edu->wedged;
	mutex_unlock(&edu->dma_lock);
	if (wedged) {
		edu_site(xfer_quarantine);
		edu_quarantine(edu, p);
		edu_leave(idx);
		return ret;
	}
	if (!ret && to_ram)
		dma_sync_sgtable_for_cpu(dev, &p->sgt, p->dir);
	if (!ret)
		atomic_long_inc(&edu->ledger.xfers_total);
out_unmap:
	edu_pinned_unmap(edu, p);
out_leave:
	edu_leave(idx);
	edu_pinned_put(edu, p);
	return ret;
}

static int edu_copy_check(const struct edu_dma_copy *req)
{
	u64 src_end, dst_end;

	if (req->flags || req->reserved) {
		edu_site(copy_bad_flags);
		return -EINVAL;
	}
	if (req->len > EDU_DMA_COPY_MAX) {
		edu_site(copy_too_long);
		return -EINVAL;
	}
	if (check_add_overflow(req->src_addr, (u64)req->len, &src_end) ||
	    check_add_overflow(req->dst_addr, (u64)req->len, &dst_end)) {
		edu_site(copy_overflow);
		return -EFAULT;
	}
	if (req->src_addr < dst_end && req->dst_addr < src_end) {
		edu_site(copy_overlap);
		return -EINVAL;
	}
	return 0;
}

/*
 * Streams @len bytes from @src to @dst through the window, a chunk at a time,
 * inside a device section. *@wedged tells (read under dma_lock) whether a DMA
 * timed out with the engine running, so the device may still reach both.
 */
static int edu_copy_stream(struct edu_dev *edu, struct edu_pinned *src,
			   struct edu_pinned *dst, u32 len, bool *wedged)
{
	struct scatterlist *src_sg = src->sgt.sgl, *dst_sg = dst->sgt.sgl;
	u32 src_off = 0, dst_off = 0, chunk;
	int ret = 0;

	*wedged = false;
	while (len) {
		/* Unbind waits for this section: let it wait for one chunk, not the copy. */
		if (READ_ONCE(edu->gone)) {
			edu_site(copy_gone);
			return -ENODEV;
		}
		/* Between chunks the device holds nothing of ours: stop here on a signal. */
		ret = edu_engine_lock(edu);
		if (ret)
			return ret;
		chunk = min_t(u32, len, EDU_COPY_CHUNK);
		ret = edu_dma_sg(edu, &src_sg, &src_off, 0, chunk, false);
		if (!ret)
			ret = edu_dma_sg(edu, &dst_sg, &dst_off, 0, chunk, true);
		*wedged = ret == -ETIMEDOUT && edu->wedged;
		mutex_unlock(&edu->dma_lock);
		if (ret)
			return ret;
		len -= chunk;
	}
	return 0;
}

long edu_ioctl_copy(struct edu_dev *edu, void __user *argp)
{
	struct edu_pinned *src, *dst;
	struct edu_dma_copy req;
	bool wedged;
	int ret, idx;

	if (copy_from_user(&req, argp, sizeof(req))) {
		edu_site(copy_arg_fault);
		return -EFAULT;
	}
	ret = edu_copy_check(&req);
	if (ret) {
		dev_dbg(&edu->pdev->dev, "bad copy request\n");
		return ret;
	}
	if (!req.len)
		return 0;

	src = edu_pinned_get(edu, req.src_addr, req.len, DMA_TO_DEVICE);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = edu_pinned_get(edu, req.dst_addr, req.len, DMA_FROM_DEVICE);
	if (IS_ERR(dst)) {
		edu_site(copy_dst_unwind);
		ret = PTR_ERR(dst);
		goto out_put_src;
	}

	idx = edu_enter();
	/* A failed mapping of either leaves the other as it was: unmapped below. */
	ret = edu_section_check(edu) ?: edu_pinned_map(edu, src) ?:
	      edu_pinned_map(edu, dst);
	if (ret)
		goto out_unmap;
	ret = edu_copy_stream(edu, src, dst, req.len, &wedged);
	if (wedged) {
		edu_site(copy_quarantine);
		edu_quarantine(edu, dst);
		edu_quarantine(edu, src);
		edu_leave(idx);
		return ret;
	}
	if (!ret) {
		dma_sync_sgtable_for_cpu(&edu->pdev->dev, &dst->sgt, dst->dir);
		atomic_long_inc(&edu->ledger.xfers_total);
	}
out_unmap:
	edu_pinned_unmap(edu, dst);
	edu_pinned_unmap(edu, src);
	edu_leave(idx);
	edu_pinned_put(edu, dst);
out_put_src:
	edu_pinned_put(edu, src);
	return ret;
}
