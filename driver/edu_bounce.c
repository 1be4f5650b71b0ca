// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - the bounce path: read/write move data between user memory and the
 * device window through each open file's coherent DMA buffer. User memory is
 * touched only with copy_to_user/copy_from_user, so a paged-out buffer is
 * simply faulted in. The same buffer can be mmap()ed with dma_mmap_coherent.
 */

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
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
 * Called from release, so no mapping of the buffer is left (each holds the
 * file). The device may be unbound by now: edu holds a reference on it.
 */
void edu_file_buf_free(struct edu_file *ef)
{
	struct edu_dev *edu = ef->edu;

	dmafi_dma_free_coherent(&edu->fi, &edu->pdev->dev, EDU_DMA_BUF_SIZE,
				ef->buf, ef->buf_dma);
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

/* Runs one DMA between the file's buffer and the window. */
static int edu_buf_dma(struct edu_file *ef, u32 buf_off, u32 dev_off, u32 len,
		       bool to_ram)
{
	struct edu_dev *edu = ef->edu;
	int ret;

	ret = edu_engine_lock(edu);
	if (ret)
		return ret;
	ret = edu_dma_run(edu, ef->buf_dma + buf_off, dev_off, len, to_ram);
	mutex_unlock(&edu->dma_lock);
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
	ret = edu_buf_dma(ef, 0, pos, len, true);
	if (!ret) {
		dmafi_pause(&ef->edu->fi, DMAFI_PAGEOUT);
		left = copy_to_user(ubuf, ef->buf, len);
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
	left = copy_from_user(ef->buf, ubuf, len);
	if (left == len) {
		edu_site(write_fault);
		mutex_unlock(&ef->buf_lock);
		return -EFAULT;
	}
	len -= left;
	ret = edu_buf_dma(ef, 0, pos, len, false);
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
	int ret;

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
	ret = edu_buf_dma(ef, req.buf_offset, req.dev_offset, req.len,
			  req.flags == EDU_DMA_FROM_DEVICE);
	mutex_unlock(&ef->buf_lock);
	return ret;
}

int edu_buf_mmap(struct edu_file *ef, struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start;

	if (vma->vm_pgoff || size > EDU_DMA_BUF_SIZE) {
		edu_site(mmap_bad_range);
		return -EINVAL;
	}
	return dma_mmap_coherent(&ef->edu->pdev->dev, vma, ef->buf, ef->buf_dma,
				 size);
}
