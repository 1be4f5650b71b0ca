/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu_dma - internal interfaces between the parts of the driver
 */
#ifndef _EDU_DRV_H
#define _EDU_DRV_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>

#include "dmafi.h"
#include "uapi/edu_dma.h"

#define EDU_DRV_NAME		"edu_dma"

/* Interrupt registers, used by the handler and by a DMA that timed out. */
#define EDU_REG_IRQ_ACK		0x64
#define EDU_IRQ_DMA		BIT(8)

/* The error-handling sites, from the list in edu_sites.h. */
enum edu_site_id {
#define EDU_SITE(name, desc)	EDU_SITE_##name,
#include "edu_sites.h"
#undef EDU_SITE
	EDU_SITE_NR
};

/* Hits per site since the module was loaded (sites are code, not devices). */
extern atomic_long_t edu_site_hits[EDU_SITE_NR];

/* Counts one pass through site @name, one of edu_sites.h. */
#define edu_site(name)	atomic_long_inc(&edu_site_hits[EDU_SITE_##name])

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
	int irq;
	struct miscdevice misc;
	char name[16];
	int id;
	/* Set once by remove, which then waits for the device sections: see edu_enter(). */
	bool gone;
	/* Serialises the DMA engine (edu runs one DMA at a time), dma_done, wedged, irq_held. */
	struct mutex dma_lock;
	struct completion dma_done;
	bool wedged;	/* a DMA never completed: the engine takes no more */
	/* Fault point irq_late disabled the interrupt; the next DMA enables it. */
	bool irq_held;
	/* Transfers whose DMA never completed; released once the device is stopped. */
	struct list_head quarantine;
	spinlock_t quarantine_lock;	/* protects quarantine */
	/* Open files, and closed ones a wedged DMA may reach: remove frees their buffers. */
	struct list_head files;
	struct mutex files_lock;	/* protects files and each file's buf */
	struct dentry *debugfs;
	struct edu_ledger ledger;
	struct dmafi fi;
};

/* One open file: its own coherent DMA buffer, for read/write and mmap. */
struct edu_file {
	struct list_head node;	/* in edu->files */
	struct edu_dev *edu;
	/* The open file, or NULL once closed (kept only while buf_wedged). */
	struct file *file;
	/* Serialises read, write and EDU_DMA_IOC_BUF_XFER on this file: buf and stage. */
	struct mutex buf_lock;
	/* The coherent buffer: NULL once remove has freed it. */
	void *buf;
	dma_addr_t buf_dma;
	/* A DMA on buf timed out with the engine running: it may still reach buf. */
	bool buf_wedged;
	/* User data, outside the device sections (which never touch user memory). */
	u8 stage[EDU_DMA_WINDOW_SIZE];
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

/*
 * Device sections. Code that touches the device (registers, DMA mappings, the
 * coherent buffers) runs between edu_enter() and edu_leave(), an SRCU read
 * section, and checks edu_section_check() first: remove sets edu->gone, then
 * waits for the sections in progress (synchronize_srcu()) before it tears
 * the device down. A section may sleep, but never on user memory or at a
 * fault-point pause, so unbind waits at most for one DMA; and it is not a
 * lock, so ->mmap (under mmap_lock) may enter one while another thread
 * faults on user memory with a file operation in progress.
 */
extern struct srcu_struct edu_srcu;

static inline int edu_enter(void)
{
	return srcu_read_lock(&edu_srcu);
}

static inline void edu_leave(int idx)
{
	srcu_read_unlock(&edu_srcu, idx);
}

/* edu_core.c: -ENODEV inside a section once remove has begun, else 0 */
int edu_section_check(struct edu_dev *edu);

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
