// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - reference DMA driver for QEMU's "edu" PCI device
 *
 * Moves data between user memory and the device's memory window by DMA
 * straight into or out of pinned user pages: pin, build an sg table, map,
 * run the DMA one segment at a time with interrupt completion, sync for the
 * CPU, unmap, unpin. Every resource a transfer holds is counted in a ledger
 * exposed in debugfs, so a test can prove that nothing leaks.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "uapi/edu_dma.h"

#define EDU_DRV_NAME		"edu_dma"

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed
#define EDU_DMA_CMD_START	BIT(0)
#define EDU_DMA_CMD_TO_RAM	BIT(1)
#define EDU_DMA_CMD_IRQ		BIT(2)
#define EDU_IRQ_DMA		BIT(8)

/* Device address of the memory window, and the device's DMA reach. */
#define EDU_MEM_BASE		0x40000
#define EDU_DMA_ADDR_BITS	28

static unsigned int dma_timeout_ms = 2000;
module_param(dma_timeout_ms, uint, 0644);
MODULE_PARM_DESC(dma_timeout_ms, "Time a DMA may take before the call fails with -ETIMEDOUT");

static DEFINE_IDA(edu_ida);
static struct dentry *edu_debugfs_root;

/* What the driver holds right now, and running totals; read via debugfs. */
struct edu_ledger {
	atomic_long_t pinned_pages;
	atomic_long_t sg_tables;
	atomic_long_t dma_mappings;
	atomic_long_t dma_in_flight;
	atomic_long_t quarantined;
	atomic_long_t pins_total;
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
	bool wedged;	/* a DMA never completed: the engine can take no more */
	/* Transfers whose DMA never completed; released once the device is stopped. */
	struct list_head quarantine;
	spinlock_t quarantine_lock;	/* protects quarantine */
	struct dentry *debugfs;
	struct edu_ledger ledger;
};

/* One zero-copy transfer: the pages it pinned and the table that maps them. */
struct edu_xfer {
	struct list_head node;
	struct page **pages;
	unsigned int npages;
	unsigned int npinned;
	struct sg_table sgt;
	enum dma_data_direction dir;
};

static void edu_free(struct kref *ref)
{
	struct edu_dev *edu = container_of(ref, struct edu_dev, ref);

	kfree(edu);
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu_dev *edu = data;
	u32 status;

	status = ioread32(edu->mmio + EDU_REG_IRQ_STATUS);
	if (!status)
		return IRQ_NONE;

	iowrite32(status, edu->mmio + EDU_REG_IRQ_ACK);
	if (status & EDU_IRQ_DMA)
		complete(&edu->dma_done);

	return IRQ_HANDLED;
}

/* Runs one DMA and sleeps until the device raises its completion interrupt. */
static int edu_dma_run(struct edu_dev *edu, dma_addr_t ram, u32 dev_off,
		       u32 len, bool to_ram)
{
	u64 dev_addr = EDU_MEM_BASE + dev_off;
	u32 cmd = EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ;
	unsigned long left;

	/* A zero-length DMA or one reaching past the window aborts QEMU 7.2. */
	if (WARN_ON_ONCE(!len || dev_off + len > EDU_DMA_WINDOW_SIZE))
		return -EINVAL;

	if (to_ram)
		cmd |= EDU_DMA_CMD_TO_RAM;

	reinit_completion(&edu->dma_done);
	writeq(to_ram ? dev_addr : ram, edu->mmio + EDU_REG_DMA_SRC);
	writeq(to_ram ? ram : dev_addr, edu->mmio + EDU_REG_DMA_DST);
	writeq(len, edu->mmio + EDU_REG_DMA_COUNT);
	atomic_long_inc(&edu->ledger.dma_in_flight);
	iowrite32(cmd, edu->mmio + EDU_REG_DMA_CMD);

	left = wait_for_completion_timeout(&edu->dma_done,
					   msecs_to_jiffies(dma_timeout_ms));
	if (!left) {
		dev_err(&edu->pdev->dev, "DMA of %u bytes did not complete\n", len);
		return -ETIMEDOUT;
	}

	atomic_long_dec(&edu->ledger.dma_in_flight);
	atomic_long_inc(&edu->ledger.dmas_total);
	return 0;
}

/* Moves every mapped segment of @x, in order, starting at @dev_off. */
static int edu_dma_sgtable(struct edu_dev *edu, struct edu_xfer *x, u32 dev_off)
{
	bool to_ram = x->dir == DMA_FROM_DEVICE;
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	for_each_sgtable_dma_sg(&x->sgt, sg, i) {
		ret = edu_dma_run(edu, sg_dma_address(sg), dev_off,
				  sg_dma_len(sg), to_ram);
		if (ret)
			return ret;
		dev_off += sg_dma_len(sg);
	}
	return 0;
}

/* Pins all pages of the user range; a short pin is retried for the rest. */
static int edu_pin(struct edu_dev *edu, struct edu_xfer *x, unsigned long start)
{
	unsigned int gup_flags = x->dir == DMA_FROM_DEVICE ? FOLL_WRITE : 0;
	int ret;

	while (x->npinned < x->npages) {
		ret = pin_user_pages_fast(start + x->npinned * PAGE_SIZE,
					  x->npages - x->npinned, gup_flags,
					  x->pages + x->npinned);
		if (ret <= 0)
			return ret ? ret : -EFAULT;
		x->npinned += ret;
		atomic_long_add(ret, &edu->ledger.pinned_pages);
		atomic_long_add(ret, &edu->ledger.pins_total);
	}
	return 0;
}

/* Releases exactly the pins @x holds; the device wrote them if it moved data to RAM. */
static void edu_unpin(struct edu_dev *edu, struct edu_xfer *x)
{
	unpin_user_pages_dirty_lock(x->pages, x->npinned,
				    x->dir == DMA_FROM_DEVICE);
	atomic_long_sub(x->npinned, &edu->ledger.pinned_pages);
	x->npinned = 0;
}

static void edu_xfer_free(struct edu_xfer *x)
{
	kvfree(x->pages);
	kfree(x);
}

/* Unmaps, frees and unpins what a stuck transfer held, once the device is stopped. */
static void edu_quarantine_release(struct edu_dev *edu)
{
	struct edu_xfer *x, *tmp;

	list_for_each_entry_safe(x, tmp, &edu->quarantine, node) {
		list_del(&x->node);
		dma_unmap_sgtable(&edu->pdev->dev, &x->sgt, x->dir, 0);
		atomic_long_dec(&edu->ledger.dma_mappings);
		sg_free_table(&x->sgt);
		atomic_long_dec(&edu->ledger.sg_tables);
		edu_unpin(edu, x);
		atomic_long_dec(&edu->ledger.quarantined);
		atomic_long_dec(&edu->ledger.dma_in_flight);
		edu_xfer_free(x);
	}
}

static int edu_xfer_check(const struct edu_dma_xfer *req)
{
	u32 end;

	if (req->reserved)
		return -EINVAL;
	if (req->flags != EDU_DMA_TO_DEVICE && req->flags != EDU_DMA_FROM_DEVICE)
		return -EINVAL;
	if (check_add_overflow(req->dev_offset, req->len, &end) ||
	    end > EDU_DMA_WINDOW_SIZE)
		return -EINVAL;
	return 0;
}

static int edu_xfer_run(struct edu_dev *edu, const struct edu_dma_xfer *req)
{
	struct device *dev = &edu->pdev->dev;
	unsigned long start = req->user_addr;
	struct edu_xfer *x;
	int ret;

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	x->dir = req->flags == EDU_DMA_FROM_DEVICE ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	x->npages = DIV_ROUND_UP(offset_in_page(start) + req->len, PAGE_SIZE);
	x->pages = kvmalloc_array(x->npages, sizeof(*x->pages), GFP_KERNEL);
	if (!x->pages) {
		ret = -ENOMEM;
		goto err_free_xfer;
	}

	ret = edu_pin(edu, x, start & PAGE_MASK);
	if (ret)
		goto err_unpin;

	ret = sg_alloc_table_from_pages(&x->sgt, x->pages, x->npages,
					offset_in_page(start), req->len,
					GFP_KERNEL);
	if (ret)
		goto err_unpin;
	atomic_long_inc(&edu->ledger.sg_tables);

	ret = dma_map_sgtable(dev, &x->sgt, x->dir, 0);
	if (ret)
		goto err_free_sgt;
	atomic_long_inc(&edu->ledger.dma_mappings);

	if (mutex_lock_interruptible(&edu->dma_lock)) {
		ret = -ERESTARTSYS;
		goto err_unmap;
	}
	ret = edu->wedged ? -EIO : edu_dma_sgtable(edu, x, req->dev_offset);
	if (ret == -ETIMEDOUT)
		edu->wedged = true;
	mutex_unlock(&edu->dma_lock);
	if (ret == -ETIMEDOUT) {
		/* The device may still write these pages: keep them until remove. */
		spin_lock(&edu->quarantine_lock);
		list_add_tail(&x->node, &edu->quarantine);
		spin_unlock(&edu->quarantine_lock);
		atomic_long_inc(&edu->ledger.quarantined);
		return ret;
	}

	if (x->dir == DMA_FROM_DEVICE)
		dma_sync_sgtable_for_cpu(dev, &x->sgt, x->dir);
	if (!ret)
		atomic_long_inc(&edu->ledger.xfers_total);

err_unmap:
	/* The CPU-side sync above is the one that counts; do not repeat it. */
	dma_unmap_sgtable(dev, &x->sgt, x->dir, DMA_ATTR_SKIP_CPU_SYNC);
	atomic_long_dec(&edu->ledger.dma_mappings);
err_free_sgt:
	sg_free_table(&x->sgt);
	atomic_long_dec(&edu->ledger.sg_tables);
err_unpin:
	edu_unpin(edu, x);
	kvfree(x->pages);
err_free_xfer:
	kfree(x);
	return ret;
}

static long edu_ioctl_xfer(struct edu_dev *edu, void __user *argp)
{
	struct edu_dma_xfer req;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = edu_xfer_check(&req);
	if (ret) {
		dev_dbg(&edu->pdev->dev, "bad transfer request\n");
		return ret;
	}
	if (!req.len)
		return 0;
	return edu_xfer_run(edu, &req);
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_dev *edu = file->private_data;
	long ret;

	if (cmd != EDU_DMA_IOC_XFER)
		return -ENOTTY;

	down_read(&edu->gone_lock);
	if (edu->gone)
		ret = -ENODEV;
	else
		ret = edu_ioctl_xfer(edu, (void __user *)arg);
	up_read(&edu->gone_lock);
	return ret;
}

static int edu_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data and holds misc_mtx, so remove waits for us. */
	struct edu_dev *edu = container_of(file->private_data, struct edu_dev, misc);

	kref_get(&edu->ref);
	file->private_data = edu;
	return nonseekable_open(inode, file);
}

static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_dev *edu = file->private_data;

	kref_put(&edu->ref, edu_free);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.open		= edu_open,
	.release	= edu_release,
	.unlocked_ioctl	= edu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

static int edu_ledger_show(struct seq_file *s, void *unused)
{
	struct edu_ledger *l = s->private;

	seq_printf(s, "pinned_pages %ld\n", atomic_long_read(&l->pinned_pages));
	seq_printf(s, "sg_tables %ld\n", atomic_long_read(&l->sg_tables));
	seq_printf(s, "dma_mappings %ld\n", atomic_long_read(&l->dma_mappings));
	seq_printf(s, "dma_in_flight %ld\n", atomic_long_read(&l->dma_in_flight));
	seq_printf(s, "quarantined %ld\n", atomic_long_read(&l->quarantined));
	seq_printf(s, "pins_total %ld\n", atomic_long_read(&l->pins_total));
	seq_printf(s, "dmas_total %ld\n", atomic_long_read(&l->dmas_total));
	seq_printf(s, "xfers_total %ld\n", atomic_long_read(&l->xfers_total));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(edu_ledger);

static int edu_hw_init(struct edu_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), EDU_DRV_NAME);
	if (ret)
		return ret;
	edu->mmio = pcim_iomap_table(pdev)[0];

	if ((ioread32(edu->mmio + EDU_REG_ID) & 0xff) != EDU_ID_MAGIC) {
		dev_err(&pdev->dev, "unexpected device id register\n");
		return -ENODEV;
	}

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_ADDR_BITS));
	if (ret)
		return ret;
	pci_set_master(pdev);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_ALL_TYPES);
	if (ret < 0)
		return ret;
	return devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0), edu_irq,
				IRQF_SHARED, EDU_DRV_NAME, edu);
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_dev *edu;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->ref);
	edu->pdev = pdev;
	init_rwsem(&edu->gone_lock);
	mutex_init(&edu->dma_lock);
	init_completion(&edu->dma_done);
	INIT_LIST_HEAD(&edu->quarantine);
	spin_lock_init(&edu->quarantine_lock);

	ret = edu_hw_init(edu);
	if (ret)
		goto err_put;

	edu->id = ida_alloc(&edu_ida, GFP_KERNEL);
	if (edu->id < 0) {
		ret = edu->id;
		goto err_put;
	}
	snprintf(edu->name, sizeof(edu->name), "edu-dma%d", edu->id);
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.fops = &edu_fops;
	edu->misc.parent = &pdev->dev;
	edu->misc.mode = 0600;
	pci_set_drvdata(pdev, edu);

	edu->debugfs = debugfs_create_dir(pci_name(pdev), edu_debugfs_root);
	debugfs_create_file("ledger", 0400, edu->debugfs, &edu->ledger,
			    &edu_ledger_fops);

	ret = misc_register(&edu->misc);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	debugfs_remove_recursive(edu->debugfs);
	ida_free(&edu_ida, edu->id);
err_put:
	kref_put(&edu->ref, edu_free);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);

	misc_deregister(&edu->misc);
	down_write(&edu->gone_lock);
	edu->gone = true;
	up_write(&edu->gone_lock);

	/* No file operation runs now; stop the device before freeing what it may touch. */
	pci_clear_master(pdev);
	edu_quarantine_release(edu);
	debugfs_remove_recursive(edu->debugfs);
	ida_free(&edu_ida, edu->id);
	kref_put(&edu->ref, edu_free);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= EDU_DRV_NAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};

static int __init edu_init(void)
{
	int ret;

	edu_debugfs_root = debugfs_create_dir(EDU_DRV_NAME, NULL);
	ret = pci_register_driver(&edu_driver);
	if (ret)
		debugfs_remove_recursive(edu_debugfs_root);
	return ret;
}

static void __exit edu_exit(void)
{
	pci_unregister_driver(&edu_driver);
	debugfs_remove_recursive(edu_debugfs_root);
	ida_destroy(&edu_ida);
}

module_init(edu_init);
module_exit(edu_exit);

MODULE_DESCRIPTION("Reference DMA driver for QEMU's edu device");
MODULE_LICENSE("GPL");
