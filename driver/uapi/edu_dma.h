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

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bytes of device memory reachable by DMA. The device has 4 KiB, but QEMU
 * before 8.2.1 aborts the whole VM on a transfer whose end reaches the last
 * byte, so the driver never offers it.
 */
#define EDU_DMA_WINDOW_SIZE	4095

/* edu_dma_xfer.flags: exactly one direction must be set. */
#define EDU_DMA_TO_DEVICE	_BITUL(0)	/* user memory -> device */
#define EDU_DMA_FROM_DEVICE	_BITUL(1)	/* device -> user memory */

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

/* Largest edu_dma_copy.len. */
#define EDU_DMA_COPY_MAX	(16U << 20)

/**
 * struct edu_dma_copy - zero-copy copy between two user buffers
 * @src_addr:	user address to read from (any alignment)
 * @dst_addr:	user address to write to (any alignment)
 * @len:	bytes to copy, at most EDU_DMA_COPY_MAX; 0 copies nothing
 * @flags:	must be zero
 * @reserved:	must be zero
 *
 * Both buffers are pinned and mapped, and the data streams through the
 * device window in chunks. Returns 0 when all @len bytes were copied, or a
 * negative errno as for edu_dma_xfer. The buffers may not overlap.
 */
struct edu_dma_copy {
	__u64 src_addr;
	__u64 dst_addr;
	__u32 len;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct edu_dma_buf_xfer - move data between the mmap()able buffer and the device
 * @buf_offset:	offset into the buffer that mmap() maps (EDU_DMA_BUF_SIZE bytes)
 * @dev_offset:	offset into the device window
 * @len:	bytes to move; 0 moves nothing
 * @flags:	EDU_DMA_TO_DEVICE or EDU_DMA_FROM_DEVICE
 */
struct edu_dma_buf_xfer {
	__u32 buf_offset;
	__u32 dev_offset;
	__u32 len;
	__u32 flags;
};

/* Size of each open file's DMA buffer, mappable with mmap() at offset 0. */
#define EDU_DMA_BUF_SIZE	4096

#define EDU_DMA_IOC_MAGIC	0xED
#define EDU_DMA_IOC_XFER	_IOW(EDU_DMA_IOC_MAGIC, 0x01, struct edu_dma_xfer)
#define EDU_DMA_IOC_COPY	_IOW(EDU_DMA_IOC_MAGIC, 0x02, struct edu_dma_copy)
#define EDU_DMA_IOC_BUF_XFER	_IOW(EDU_DMA_IOC_MAGIC, 0x03, struct edu_dma_buf_xfer)

#endif /* _UAPI_EDU_DMA_H */
