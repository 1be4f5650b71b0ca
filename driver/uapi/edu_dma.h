/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User API of the edu_dma reference driver (QEMU "edu" PCI device).
 *
 * The device exposes a small memory window. Data moves between user memory
 * and that window either through the driver's bounce buffer (read/write) or
 * zero-copy by DMA straight into or out of pinned user pages (ioctl).
 */
#ifndef _UAPI_EDU_DMA_H
#define _UAPI_EDU_DMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bytes of device memory reachable by DMA. The device has 4 KiB, but QEMU
 * before 8.2.1 aborts the whole VM on a transfer whose end reaches the last
 * byte, so the driver never offers it.
 */
#define EDU_DMA_WINDOW_SIZE	4095

/* edu_dma_xfer.flags: exactly one direction must be set. */
#define EDU_DMA_TO_DEVICE	(1U << 0)	/* user memory -> device */
#define EDU_DMA_FROM_DEVICE	(1U << 1)	/* device -> user memory */

/**
 * struct edu_dma_xfer - one zero-copy transfer
 * @user_addr:	user virtual address of the buffer (any alignment)
 * @len:	bytes to move; 0 moves nothing and succeeds
 * @dev_offset:	offset into the device window
 * @flags:	EDU_DMA_TO_DEVICE or EDU_DMA_FROM_DEVICE
 * @reserved:	must be zero
 *
 * Returns 0 when all @len bytes moved, or a negative errno: -EINVAL for bad
 * flags, a non-zero @reserved or a range outside the window; -EFAULT when the
 * user range is not fully mapped with the access the direction needs.
 */
struct edu_dma_xfer {
	__u64 user_addr;
	__u32 len;
	__u32 dev_offset;
	__u32 flags;
	__u32 reserved;
};

#define EDU_DMA_IOC_MAGIC	0xED
#define EDU_DMA_IOC_XFER	_IOW(EDU_DMA_IOC_MAGIC, 0x01, struct edu_dma_xfer)

#endif /* _UAPI_EDU_DMA_H */
