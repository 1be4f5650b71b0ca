// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - the bounce path: read/write move data between user memory and the
 * device window through each open file's coherent DMA buffer. User memory is
 * touched only with copy_to_user/copy_from_user, so a paged-out buffer is
 * simply faulted in, and only outside the device sections: the data waits in
 * the file's stage, so that unbind never waits for a page fault. The same
 * buffer can be mmap()ed with dma_mmap_coherent.
 */

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "edu_drv.h"

int edu_file_buf_alloc(struct edu_file *ef)
{
	struct edu_dev *edu = ef->edu;

	ef->buf = dmafi_dma_alloc_coherent(&edu->fi, &edu->pdev->dev,
					   EDU_DMA_BUF_SIZE, &ef->buf_dma,
					   GFP_KERNEL);
	if (!ef->buf) {
		edu_site(buf_alloc);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Called with edu->files_lock held, by release (no mapping of the buffer is
 * left: each holds the file) and by remove (the device is stopped and every
 * mapping zapped). The buffer goes with the device: at most once.
 */
void edu_file_buf_free(struct edu_file *ef)
{
	struct edu_dev *edu = ef->edu;

	if (!ef->buf)
		return;
	dmafi_dma_free_coherent(&edu->fi, &edu->pdev->dev, EDU_DMA_BUF_SIZE,
				ef->buf, ef->buf_dma);
	ef->buf = NULL;
}

/*
 * Takes the file's buffer (ef->buf_lock), or fails with -ERESTARTSYS on a
 * signal, pending already or arriving while waiting (see edu_engine_lock()).
 */
static int edu_buf_lock(struct edu_file *ef)
{
	/* Fault point: a real signal for the caller, right before the wait. */
	dmafi_signal(&ef->edu->fi);
	if (signal_pending(current) || mutex_lock_interruptible(&ef->buf_lock)) {
		edu_site(buf_lock_intr);
		return -ERESTARTSYS;
	}
	return 0;
}

/*
 * Runs one DMA between the file's buffer and the window, inside a device
 * section (the buffer exists). A DMA that timed out with the engine running
 * may still reach the buffer: release then leaves it to remove.
 */
static int edu_buf_dma(struct edu_file *ef, u32 buf_off, u32 dev_off, u32 len,
		       bool to_ram)
{
	struct edu_dev *edu = ef->edu;
	int ret;

	ret = edu_engine_lock(edu);
	if (ret)
		return ret;
	ret = edu_dma_run(edu, ef->buf_dma + buf_off, dev_off, len, to_ram);
	if (ret == -ETIMEDOUT && edu->wedged)
		ef->buf_wedged = true;
	mutex_unlock(&edu->dma_lock);
	return ret;
}

/* Device -> buffer -> stage, in one device section. */
static int edu_bounce_in(struct edu_file *ef, u32 pos, u32 len)
{
	int ret, idx;

	idx = edu_enter();
	ret = edu_section_check(ef->edu) ?: edu_buf_dma(ef, 0, pos, len, true);
	if (!ret)
		memcpy(ef->stage, ef->buf, len);
	edu_leave(idx);
	return ret;
}

/* Stage -> buffer -> device, in one device section. */
static int edu_bounce_out(struct edu_file *ef, u32 pos, u32 len)
{
	int ret, idx;

	idx = edu_enter();
	ret = edu_section_check(ef->edu);
	if (!ret) {
		memcpy(ef->buf, ef->stage, len);
		ret = edu_buf_dma(ef, 0, pos, len, false);
	}
	edu_leave(idx);
	return ret;
}

ssize_t edu_bounce_read(struct edu_file *ef, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	loff_t pos = *ppos;
	size_t len, left;
	int ret;

	/* The VFS refuses negative positions (rw_verify_area()) before we run. */
	if (WARN_ON_ONCE(pos < 0))
		return -EINVAL;
	if (pos >= EDU_DMA_WINDOW_SIZE || !count)
		return 0;
	len = min_t(size_t, count, EDU_DMA_WINDOW_SIZE - pos);

	ret = edu_buf_lock(ef);
	if (ret)
		return ret;
	ret = edu_bounce_in(ef, pos, len);
	if (!ret) {
		dmafi_pause(&ef->edu->fi, DMAFI_PAGEOUT);
		left = copy_to_user(ubuf, ef->stage, len);
	}
	mutex_unlock(&ef->buf_lock);
	if (ret)
		return ret;

	if (left == len) {
		edu_site(read_fault);
		return -EFAULT;
	}
	*ppos = pos + len - left;
	return len - left;
}

ssize_t edu_bounce_write(struct edu_file *ef, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	loff_t pos = *ppos;
	size_t len, left;
	int ret;

	/* The VFS refuses negative positions (rw_verify_area()) before we run. */
	if (WARN_ON_ONCE(pos < 0))
		return -EINVAL;
	if (!count)
		return 0;
	if (pos >= EDU_DMA_WINDOW_SIZE) {
		edu_site(write_nospc);
		return -ENOSPC;
	}
	len = min_t(size_t, count, EDU_DMA_WINDOW_SIZE - pos);

	ret = edu_buf_lock(ef);
	if (ret)
		return ret;
	dmafi_pause(&ef->edu->fi, DMAFI_PAGEOUT);
	left = copy_from_user(ef->stage, ubuf, len);
	if (left == len) {
		edu_site(write_fault);
		mutex_unlock(&ef->buf_lock);
		return -EFAULT;
	}
	len -= left;
	ret = edu_bounce_out(ef, pos, len);
	mutex_unlock(&ef->buf_lock);
	if (ret)
		return ret;
	*ppos = pos + len;
	return len;
}

long edu_ioctl_buf_xfer(struct edu_file *ef, void __user *argp)
{
	struct edu_dma_buf_xfer req;
	u32 buf_end, dev_end;
	int ret, idx;

	if (copy_from_user(&req, argp, sizeof(req))) {
		edu_site(buf_xfer_arg_fault);
		return -EFAULT;
	}
	if (req.flags != EDU_DMA_TO_DEVICE && req.flags != EDU_DMA_FROM_DEVICE) {
		edu_site(buf_xfer_bad_flags);
		dev_dbg(&ef->edu->pdev->dev, "bad buffer transfer flags\n");
		return -EINVAL;
	}
	if (check_add_overflow(req.buf_offset, req.len, &buf_end) ||
	    check_add_overflow(req.dev_offset, req.len, &dev_end) ||
	    buf_end > EDU_DMA_BUF_SIZE || dev_end > EDU_DMA_WINDOW_SIZE) {
		edu_site(buf_xfer_range);
		dev_dbg(&ef->edu->pdev->dev, "bad buffer transfer range\n");
		return -EINVAL;
	}
	if (!req.len)
		return 0;

	ret = edu_buf_lock(ef);
	if (ret)
		return ret;
	idx = edu_enter();
	ret = edu_section_check(ef->edu) ?:
	      edu_buf_dma(ef, req.buf_offset, req.dev_offset, req.len,
			  req.flags == EDU_DMA_FROM_DEVICE);
	edu_leave(idx);
	mutex_unlock(&ef->buf_lock);
	return ret;
}

/* A mapping whose buffer went with the device: its pages are zapped, touching them is SIGBUS. */
static vm_fault_t edu_buf_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct edu_buf_vm_ops = {
	.fault = edu_buf_fault,
};

/*
 * Only MAP_SHARED: a private mapping would give user space copies the device
 * never sees, and remap_pfn_range() would record the buffer's page frame in
 * vm_pgoff, where /proc/<pid>/maps shows it.
 */
int edu_buf_mmap(struct edu_file *ef, struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start;
	int ret, idx;

	if (!(vma->vm_flags & VM_SHARED)) {
		edu_site(mmap_private);
		return -EINVAL;
	}
	if (vma->vm_pgoff || size > EDU_DMA_BUF_SIZE) {
		edu_site(mmap_bad_range);
		return -EINVAL;
	}
	idx = edu_enter();
	ret = edu_section_check(ef->edu);
	if (!ret) {
		vma->vm_ops = &edu_buf_vm_ops;
		ret = dma_mmap_coherent(&ef->edu->pdev->dev, vma, ef->buf,
					ef->buf_dma, size);
	}
	edu_leave(idx);
	return ret;
}
