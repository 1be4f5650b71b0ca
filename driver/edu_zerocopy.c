// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - zero-copy DMA straight into or out of user pages.
 *
 * The lifecycle of a user range: pin (FOLL_WRITE when the device writes),
 * build an sg table, dma_map_sgtable, run the DMA, sync for the CPU, unmap,
 * unpin (dirty when the device wrote). edu_pinned_release() undoes exactly
 * the steps that succeeded, on the error paths and after success alike.
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

/* Releases exactly what @p holds, in reverse order of acquisition. */
static void edu_pinned_release(struct edu_dev *edu, struct edu_pinned *p)
{
	struct device *dev = &edu->pdev->dev;

	/* The CPU-side sync was done where it mattered; do not repeat it. */
	if (p->mapped)
		dmafi_dma_unmap_sgtable(&edu->fi, dev, &p->sgt, p->dir,
					DMA_ATTR_SKIP_CPU_SYNC);
	if (p->sgt_alloced)
		dmafi_sg_free_table(&edu->fi, &p->sgt);
	dmafi_unpin_user_pages_dirty_lock(&edu->fi, p->pages, p->npinned,
					  p->dir == DMA_FROM_DEVICE);
	kvfree(p);
}

/* Pins, tables and maps @len bytes at @addr for a DMA in direction @dir. */
static struct edu_pinned *edu_pinned_get(struct edu_dev *edu, u64 addr,
					 u32 len, enum dma_data_direction dir)
{
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
		goto err_release;
	/* Fault point: user space may write the pinned pages back right now. */
	dmafi_pause(&edu->fi, DMAFI_WRITEBACK);

	ret = dmafi_sg_alloc_table_from_pages(&edu->fi, &p->sgt, p->pages,
					      p->npages, offset_in_page(start),
					      len, GFP_KERNEL);
	if (ret) {
		edu_site(pinned_sg_alloc);
		goto err_release;
	}
	p->sgt_alloced = true;

	ret = dmafi_dma_map_sgtable(&edu->fi, &edu->pdev->dev, &p->sgt, dir, 0);
	if (ret) {
		edu_site(pinned_dma_map);
		goto err_release;
	}
	p->mapped = true;
	return p;

err_release:
	edu_site(pinned_err_release);
	edu_pinned_release(edu, p);
	return ERR_PTR(ret);
}

/* The device may still access @p: keep it until remove stops the device. */
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
		edu_pinned_release(edu, p);
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
	bool to_ram;
	u32 sg_off = 0;
	int ret;

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

	ret = edu_engine_lock(edu);
	if (ret)
		goto out_release;
	sg = p->sgt.sgl;
	ret = edu_dma_sg(edu, &sg, &sg_off, req.dev_offset, req.len, to_ram);
	mutex_unlock(&edu->dma_lock);
	if (ret == -ETIMEDOUT && edu->wedged) {
		edu_site(xfer_quarantine);
		edu_quarantine(edu, p);
		return ret;
	}
	if (!ret && to_ram)
		dma_sync_sgtable_for_cpu(dev, &p->sgt, p->dir);
	if (!ret)
		atomic_long_inc(&edu->ledger.xfers_total);
out_release:
	edu_pinned_release(edu, p);
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

/* Streams @len bytes from @src to @dst through the window, a chunk at a time. */
static int edu_copy_stream(struct edu_dev *edu, struct edu_pinned *src,
			   struct edu_pinned *dst, u32 len)
{
	struct scatterlist *src_sg = src->sgt.sgl, *dst_sg = dst->sgt.sgl;
	u32 src_off = 0, dst_off = 0, chunk;
	int ret = 0;

	while (len) {
		/* Between chunks the device holds nothing of ours: stop here on a signal. */
		ret = edu_engine_lock(edu);
		if (ret)
			return ret;
		chunk = min_t(u32, len, EDU_COPY_CHUNK);
		ret = edu_dma_sg(edu, &src_sg, &src_off, 0, chunk, false);
		if (!ret)
			ret = edu_dma_sg(edu, &dst_sg, &dst_off, 0, chunk, true);
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
	int ret;

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
		goto out_release_src;
	}

	ret = edu_copy_stream(edu, src, dst, req.len);
	if (ret == -ETIMEDOUT && edu->wedged) {
		edu_site(copy_quarantine);
		edu_quarantine(edu, dst);
		edu_quarantine(edu, src);
		return ret;
	}
	if (!ret) {
		dma_sync_sgtable_for_cpu(&edu->pdev->dev, &dst->sgt, dst->dir);
		atomic_long_inc(&edu->ledger.xfers_total);
	}
	edu_pinned_release(edu, dst);
out_release_src:
	edu_pinned_release(edu, src);
	return ret;
}
