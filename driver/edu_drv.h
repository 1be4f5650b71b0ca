/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu_dma - internal interfaces between the parts of the driver
 */
#ifndef _EDU_DRV_H
#define _EDU_DRV_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "dmafi.h"
#include "edu_sites.h"
#include "uapi/edu_dma.h"

#define EDU_DRV_NAME		"edu_dma"

/* The driver's own part of the ledger; dmafi counts pins, tables, mappings, buffers. */
struct edu_ledger {
	atomic_long_t dma_in_flight;
	atomic_long_t quarantined;
	atomic_long_t dmas_total;
	atomic_long_t xfers_total;
};

struct edu_dev {
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct miscdevice misc;
	char name[16];
	int id;
	/* Held for read while a file operation uses the device; remove takes it for write. */
	struct rw_semaphore gone_lock;
	bool gone;
	/* Serialises the DMA engine (edu runs one DMA at a time), dma_done and wedged. */
	struct mutex dma_lock;
	struct completion dma_done;
	bool wedged;	/* a DMA never completed: the engine takes no more */
	/* Transfers whose DMA never completed; released once the device is stopped. */
	struct list_head quarantine;
	spinlock_t quarantine_lock;	/* protects quarantine */
	struct dentry *debugfs;
	struct edu_ledger ledger;
	struct dmafi fi;
};

/* One open file: its own coherent DMA buffer, for read/write and mmap. */
struct edu_file {
	struct edu_dev *edu;
	/* Serialises use of buf by read, write and EDU_DMA_IOC_BUF_XFER on this file. */
	struct mutex buf_lock;
	void *buf;
	dma_addr_t buf_dma;
};

/* One pinned and mapped user range, allocated with room for its pages. */
struct edu_pinned {
	struct list_head node;
	unsigned int npages;
	unsigned int npinned;
	struct sg_table sgt;
	bool sgt_alloced;
	bool mapped;
	enum dma_data_direction dir;
	struct page *pages[];
};

/* edu_engine.c: the device's DMA engine */
int edu_engine_lock(struct edu_dev *edu);
void edu_engine_stop(struct edu_dev *edu);
int edu_dma_run(struct edu_dev *edu, dma_addr_t ram, u32 dev_off, u32 len,
		bool to_ram);
int edu_dma_sg(struct edu_dev *edu, struct scatterlist **sg, u32 *sg_off,
	       u32 dev_off, u32 len, bool to_ram);

/* edu_zerocopy.c: pinned user pages */
long edu_ioctl_xfer(struct edu_dev *edu, void __user *argp);
long edu_ioctl_copy(struct edu_dev *edu, void __user *argp);
void edu_quarantine_release(struct edu_dev *edu);

/* edu_bounce.c: the per-file coherent buffer */
int edu_file_buf_alloc(struct edu_file *ef);
void edu_file_buf_free(struct edu_file *ef);
ssize_t edu_bounce_read(struct edu_file *ef, char __user *ubuf, size_t count,
			loff_t *ppos);
ssize_t edu_bounce_write(struct edu_file *ef, const char __user *ubuf,
			 size_t count, loff_t *ppos);
long edu_ioctl_buf_xfer(struct edu_file *ef, void __user *argp);
int edu_buf_mmap(struct edu_file *ef, struct vm_area_struct *vma);

#endif /* _EDU_DRV_H */
