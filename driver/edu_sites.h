/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu_dma - the driver's error-handling sites, each with a hit counter.
 *
 * A site is a place where the driver decides to fail (bad input, a device in
 * the wrong state) or handles a failing call, and every unwind label. Each is
 * declared once in EDU_SITES, as X(name, "description"), and marked in the
 * sources by exactly one edu_site(name), the first statement of its branch or
 * label. /sys/kernel/debug/edu_dma/sites prints "<name> <hits>" for each, in
 * this order. Checks that only a broken driver or kernel can fail are
 * WARN_ON_ONCE() instead, and not listed; driver/README.md gives the rules and
 * the test that reaches each site.
 */
#ifndef _EDU_SITES_H
#define _EDU_SITES_H

#include <linux/atomic.h>

#define EDU_SITES(X) \
	/* edu_core.c */ \
	X(enter_gone, "a file operation on a device that was unbound") \
	X(ioctl_unknown, "ioctl: unknown command") \
	X(open_alloc, "open: allocating the file state fails") \
	X(open_err_free, "open unwind: free the file state") \
	X(probe_alloc, "probe check 1: allocating the device state fails") \
	X(probe_enable, "probe check 2: pcim_enable_device fails") \
	X(probe_iomap, "probe check 3: requesting and mapping BAR 0 fails") \
	X(probe_dma_mask, "probe check 4: the 28-bit DMA mask is refused") \
	X(probe_irq_vectors, "probe check 5: no interrupt vector") \
	X(probe_request_irq, "probe check 6: requesting the interrupt fails") \
	X(probe_ida, "probe check 7: no device number left") \
	X(probe_misc_register, "probe check 8: registering /dev/edu-dmaN fails") \
	X(probe_err_debugfs, "probe unwind: debugfs, fault points, device number") \
	X(probe_err_put, "probe unwind: drop the device state") \
	/* edu_engine.c */ \
	X(engine_lock_intr, "a signal before or while waiting for the DMA engine") \
	X(dma_wedged, "the engine is wedged by an earlier timeout: no more DMA") \
	X(dma_timeout, "a DMA does not complete in time") \
	X(dma_timeout_busy, "a timed-out DMA still runs: the device is wedged") \
	/* edu_zerocopy.c */ \
	X(pin_fail, "pinning user pages fails, or pins nothing") \
	X(pinned_alloc, "allocating a pinned range (with its page array) fails") \
	X(pinned_sg_alloc, "building the sg table of a pinned range fails") \
	X(pinned_dma_map, "dma_map_sgtable of a pinned range fails") \
	X(pinned_err_release, "pinned range unwind: release what it holds so far") \
	X(xfer_arg_fault, "XFER: the argument cannot be read") \
	X(xfer_reserved, "XFER: reserved is not zero") \
	X(xfer_bad_flags, "XFER: flags is neither TO_DEVICE nor FROM_DEVICE") \
	X(xfer_range, "XFER: the device range leaves the window") \
	X(xfer_quarantine, "XFER: the DMA timed out running: keep the memory") \
	X(copy_bad_flags, "COPY: flags or reserved is not zero") \
	X(copy_too_long, "COPY: longer than EDU_DMA_COPY_MAX") \
	X(copy_overflow, "COPY: a user range wraps around the address space") \
	X(copy_overlap, "COPY: source and destination overlap") \
	X(copy_arg_fault, "COPY: the argument cannot be read") \
	X(copy_dst_unwind, "COPY: the destination fails: release the source") \
	X(copy_quarantine, "COPY: the DMA timed out running: keep both ranges") \
	/* edu_bounce.c */ \
	X(buf_alloc, "allocating an open file's coherent DMA buffer fails") \
	X(buf_lock_intr, "a signal before or while waiting for a file's buffer") \
	X(read_fault, "read: nothing can be copied to user memory") \
	X(write_nospc, "write: at or past the end of the window") \
	X(write_fault, "write: nothing can be copied from user memory") \
	X(buf_xfer_arg_fault, "BUF_XFER: the argument cannot be read") \
	X(buf_xfer_bad_flags, "BUF_XFER: flags is neither TO_DEVICE nor FROM_DEVICE") \
	X(buf_xfer_range, "BUF_XFER: a range leaves the buffer or the window") \
	X(mmap_bad_range, "mmap: an offset, or more than the buffer")

#define EDU_SITE_ENUM(name, ...)	EDU_SITE_##name,
enum edu_site_id {
	EDU_SITES(EDU_SITE_ENUM)
	EDU_SITE_NR
};

#undef EDU_SITE_ENUM

/* Hits per site since the module was loaded (sites are code, not devices). */
extern atomic_long_t edu_site_hits[EDU_SITE_NR];

/* Counts one pass through site @name, one of EDU_SITES. */
#define edu_site(name)	atomic_long_inc(&edu_site_hits[EDU_SITE_##name])

#endif /* _EDU_SITES_H */
