/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu_dma - the driver's error-handling sites, each with a hit counter.
 *
 * A site is a place where the driver decides to fail (bad input, a device in
 * the wrong state) or handles a failing call, and every unwind label. Each is
 * declared once here, as EDU_SITE(name, "description"), and marked in the
 * sources by exactly one edu_site(name), the first statement of its branch or
 * label. /sys/kernel/debug/edu_dma/sites prints "<name> <hits>" for each, in
 * this order. Checks that only a broken driver or kernel can fail are
 * WARN_ON_ONCE() instead, and not listed; driver/README.md gives the rules and
 * the test that reaches each site.
 *
 * This file is a list, included with EDU_SITE() defined (edu_drv.h, edu_core.c);
 * it has no include guard on purpose.
 */

/* edu_core.c */
EDU_SITE(enter_gone, "a file operation on a device that was unbound")
EDU_SITE(section_gone, "the device went away during the call, before it touched the device")
EDU_SITE(ioctl_unknown, "ioctl: unknown command")
EDU_SITE(open_alloc, "open: allocating the file state fails")
EDU_SITE(open_err_free, "open unwind: free the file state")
EDU_SITE(release_keep, "close: a timed-out DMA may still reach the buffer: remove frees it")
EDU_SITE(probe_alloc, "probe check 1: allocating the device state fails")
EDU_SITE(probe_enable, "probe check 2: pcim_enable_device fails")
EDU_SITE(probe_iomap, "probe check 3: requesting and mapping BAR 0 fails")
EDU_SITE(probe_dma_mask, "probe check 4: the 28-bit DMA mask is refused")
EDU_SITE(probe_irq_vectors, "probe check 5: no interrupt vector")
EDU_SITE(probe_request_irq, "probe check 6: requesting the interrupt fails")
EDU_SITE(probe_ida, "probe check 7: no device number left")
EDU_SITE(probe_misc_register, "probe check 8: registering /dev/edu-dmaN fails")
EDU_SITE(probe_err_debugfs, "probe unwind: debugfs, fault points, device number")
EDU_SITE(probe_err_free_irq, "probe unwind: free the interrupt")
EDU_SITE(probe_err_put, "probe unwind: drop the device state")
/* edu_engine.c */
EDU_SITE(engine_lock_intr, "a signal before or while waiting for the DMA engine")
EDU_SITE(dma_wedged, "the engine is wedged by an earlier timeout: no more DMA")
EDU_SITE(dma_timeout, "a DMA does not complete in time")
EDU_SITE(dma_timeout_busy, "a timed-out DMA still runs: the device is wedged")

/* edu_zerocopy.c */
EDU_SITE(pin_fail, "pinning user pages fails, or pins nothing")
EDU_SITE(pinned_alloc, "allocating a pinned range (with its page array) fails")
EDU_SITE(pinned_sg_alloc, "building the sg table of a pinned range fails")
EDU_SITE(pinned_dma_map, "dma_map_sgtable of a pinned range fails")
EDU_SITE(pinned_err_release, "pinned range unwind: release what it holds so far")
EDU_SITE(xfer_arg_fault, "XFER: the argument cannot be read")
EDU_SITE(xfer_reserved, "XFER: reserved is not zero")
EDU_SITE(xfer_bad_flags, "XFER: flags is neither TO_DEVICE nor FROM_DEVICE")
EDU_SITE(xfer_range, "XFER: the device range leaves the window")
EDU_SITE(xfer_quarantine, "XFER: the DMA timed out running: keep the memory")
EDU_SITE(copy_bad_flags, "COPY: flags or reserved is not zero")
EDU_SITE(copy_too_long, "COPY: longer than EDU_DMA_COPY_MAX")
EDU_SITE(copy_overflow, "COPY: a user range wraps around the address space")
EDU_SITE(copy_overlap, "COPY: source and destination overlap")
EDU_SITE(copy_arg_fault, "COPY: the argument cannot be read")
EDU_SITE(copy_dst_unwind, "COPY: the destination fails: release the source")
EDU_SITE(copy_quarantine, "COPY: the DMA timed out running: keep both ranges")
EDU_SITE(copy_gone, "COPY: the device is being unbound: stop between chunks")

/* edu_bounce.c */
EDU_SITE(buf_alloc, "allocating an open file's coherent DMA buffer fails")
EDU_SITE(buf_lock_intr, "a signal before or while waiting for a file's buffer")
EDU_SITE(read_fault, "read: nothing can be copied to user memory")
EDU_SITE(write_nospc, "write: at or past the end of the window")
EDU_SITE(write_fault, "write: nothing can be copied from user memory")
EDU_SITE(buf_xfer_arg_fault, "BUF_XFER: the argument cannot be read")
EDU_SITE(buf_xfer_bad_flags, "BUF_XFER: flags is neither TO_DEVICE nor FROM_DEVICE")
EDU_SITE(buf_xfer_range, "BUF_XFER: a range leaves the buffer or the window")
EDU_SITE(mmap_bad_range, "mmap: an offset, or more than the buffer")
EDU_SITE(mmap_private, "mmap: not MAP_SHARED (the device would never see the data)")
