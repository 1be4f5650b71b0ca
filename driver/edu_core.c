// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - reference DMA driver for QEMU's "edu" PCI device
 *
 * Device lifetime: probe, the character device, the interrupt, debugfs and
 * remove. Each device gets its own node (/dev/edu-dmaN) and state. A device
 * can be unbound while files are open: remove waits only for the device
 * sections in progress (each ends within one DMA), zaps every user mapping
 * of the files' buffers and frees those buffers; file operations then fail
 * with -ENODEV, and the state lives on (reference counted) until the last
 * close.
 */

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/stringify.h>

#include "edu_drv.h"

#define EDU_REG_ID		0x00
#define EDU_REG_IRQ_STATUS	0x24

#define EDU_ID_MAGIC		0xed

/* The device truncates DMA addresses to 28 bits. */
#define EDU_DMA_ADDR_BITS	28

/* Failure checks a probe makes, numbered in order for probe_fault. */
#define EDU_PROBE_CHECKS	8

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

static DEFINE_IDA(edu_ida);
static struct dentry *edu_debugfs_root;
/* Device states alive, of every binding: a file keeps its device's state. */
static atomic_t edu_devices = ATOMIC_INIT(0);

/* The device sections of every edu device: see edu_enter() in edu_drv.h. */
DEFINE_SRCU(edu_srcu);

atomic_long_t edu_site_hits[EDU_SITE_NR];

static const char * const edu_site_names[EDU_SITE_NR] = {
#define EDU_SITE(name, desc)	__stringify(name),
#include "edu_sites.h"
#undef EDU_SITE
};

/*
 * probe_fault=N makes the next probe fail at its Nth failure check, with the
 * errno that check would naturally give, as if the call behind it had failed
 * (the call is skipped). The probe resets it to 0 as it starts: one shot.
 */
static unsigned int probe_fault;

static int edu_probe_fault_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, EDU_PROBE_CHECKS);
}

static const struct kernel_param_ops edu_probe_fault_ops = {
	.set	= edu_probe_fault_set,
	.get	= param_get_uint,
};
module_param_cb(probe_fault, &edu_probe_fault_ops, &probe_fault, 0600);
MODULE_PARM_DESC(probe_fault, "Fail the next probe at its Nth failure check (1-8), once");

/* One probe's way through its failure checks. */
struct edu_probe {
	unsigned int checks;	/* failure checks reached so far */
	unsigned int fail_at;	/* the one probe_fault picked, or 0 */
};

/* Counts a failure check: @err if it is the one to fail, else 0 (go on). */
static int edu_probe_check(struct edu_probe *pr, int err)
{
	return ++pr->checks == pr->fail_at ? err : 0;
}

static void edu_free(struct kref *ref)
{
	struct edu_dev *edu = container_of(ref, struct edu_dev, ref);

	pci_dev_put(edu->pdev);
	atomic_dec(&edu_devices);
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

/* A file operation's first check: -ENODEV once remove has begun. */
static int edu_check_gone(struct edu_dev *edu)
{
	if (READ_ONCE(edu->gone)) {
		edu_site(enter_gone);
		return -ENODEV;
	}
	return 0;
}

/* Inside a device section: the device went away since the call began. */
int edu_section_check(struct edu_dev *edu)
{
	if (READ_ONCE(edu->gone)) {
		edu_site(section_gone);
		return -ENODEV;
	}
	return 0;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_file *ef = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	switch (cmd) {
	case EDU_DMA_IOC_XFER:
	case EDU_DMA_IOC_COPY:
	case EDU_DMA_IOC_BUF_XFER:
		break;
	default:
		edu_site(ioctl_unknown);
		return -ENOTTY;
	}

	ret = edu_check_gone(ef->edu);
	if (ret)
		return ret;
	if (cmd == EDU_DMA_IOC_XFER)
		return edu_ioctl_xfer(ef->edu, argp);
	if (cmd == EDU_DMA_IOC_COPY)
		return edu_ioctl_copy(ef->edu, argp);
	return edu_ioctl_buf_xfer(ef, argp);
}

static ssize_t edu_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct edu_file *ef = file->private_data;
	ssize_t ret;

	ret = edu_check_gone(ef->edu);
	if (ret)
		return ret;
	return edu_bounce_read(ef, buf, count, ppos);
}

static ssize_t edu_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct edu_file *ef = file->private_data;
	ssize_t ret;

	ret = edu_check_gone(ef->edu);
	if (ret)
		return ret;
	return edu_bounce_write(ef, buf, count, ppos);
}

static int edu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct edu_file *ef = file->private_data;
	int ret;

	ret = edu_check_gone(ef->edu);
	if (ret)
		return ret;
	return edu_buf_mmap(ef, vma);
}

static loff_t edu_llseek(struct file *file, loff_t offset, int whence)
{
	return fixed_size_llseek(file, offset, whence, EDU_DMA_WINDOW_SIZE);
}

static int edu_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data and holds misc_mtx, so remove waits for us. */
	struct edu_dev *edu = container_of(file->private_data, struct edu_dev, misc);
	struct edu_file *ef;
	int ret;

	ef = dmafi_kzalloc(&edu->fi, sizeof(*ef), GFP_KERNEL);
	if (!ef) {
		edu_site(open_alloc);
		return -ENOMEM;
	}
	ef->edu = edu;
	ef->file = file;
	mutex_init(&ef->buf_lock);
	ret = edu_file_buf_alloc(ef);
	if (ret)
		goto err_free;
	kref_get(&edu->ref);
	mutex_lock(&edu->files_lock);
	list_add_tail(&ef->node, &edu->files);
	mutex_unlock(&edu->files_lock);
	file->private_data = ef;
	return 0;

err_free:
	edu_site(open_err_free);
	dmafi_kfree(&edu->fi, ef);
	return ret;
}

/*
 * No mapping of the buffer is left (each holds the file). A buffer that a
 * timed-out DMA may still reach is not freed here: the file state stays on
 * edu->files, closed, and remove frees it once the device is stopped.
 */
static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_file *ef = file->private_data;
	struct edu_dev *edu = ef->edu;

	mutex_lock(&edu->files_lock);
	if (ef->buf && ef->buf_wedged) {
		edu_site(release_keep);
		ef->file = NULL;
		atomic_long_inc(&edu->ledger.quarantined);
		mutex_unlock(&edu->files_lock);
		return 0;
	}
	list_del(&ef->node);
	edu_file_buf_free(ef);
	mutex_unlock(&edu->files_lock);
	dmafi_kfree(&edu->fi, ef);
	kref_put(&edu->ref, edu_free);
	return 0;
}

/* Called by remove: no user mapping reaches a file's buffer after this. */
static void edu_files_unmap(struct edu_dev *edu)
{
	struct edu_file *ef;

	mutex_lock(&edu->files_lock);
	list_for_each_entry(ef, &edu->files, node)
		if (ef->file)
			unmap_mapping_range(ef->file->f_mapping, 0, 0, 1);
	mutex_unlock(&edu->files_lock);
}

/*
 * Called by remove once the device is stopped: frees every file's buffer
 * (open files keep their state until close) and the closed files kept for
 * a wedged DMA.
 */
static void edu_files_release(struct edu_dev *edu)
{
	struct edu_file *ef, *tmp;

	mutex_lock(&edu->files_lock);
	list_for_each_entry_safe(ef, tmp, &edu->files, node) {
		edu_file_buf_free(ef);
		if (ef->file)
			continue;
		list_del(&ef->node);
		atomic_long_dec(&edu->ledger.quarantined);
		dmafi_kfree(&edu->fi, ef);
		/* Never the last reference: remove still holds the device's own. */
		kref_put(&edu->ref, edu_free);
	}
	mutex_unlock(&edu->files_lock);
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.open		= edu_open,
	.release	= edu_release,
	.read		= edu_read,
	.write		= edu_write,
	.llseek		= edu_llseek,
	.mmap		= edu_mmap,
	.unlocked_ioctl	= edu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static int edu_ledger_show(struct seq_file *s, void *unused)
{
	struct edu_dev *edu = s->private;
	struct edu_ledger *l = &edu->ledger;

	dmafi_ledger_show(s, &edu->fi);
	seq_printf(s, "dma_in_flight %ld\n", atomic_long_read(&l->dma_in_flight));
	seq_printf(s, "quarantined %ld\n", atomic_long_read(&l->quarantined));
	seq_printf(s, "dmas_total %ld\n", atomic_long_read(&l->dmas_total));
	seq_printf(s, "xfers_total %ld\n", atomic_long_read(&l->xfers_total));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(edu_ledger);

/* "<site> <hits>" for every error-handling site, in the order of edu_sites.h. */
static int edu_sites_show(struct seq_file *s, void *unused)
{
	int i;

	for (i = 0; i < EDU_SITE_NR; i++)
		seq_printf(s, "%s %ld\n", edu_site_names[i],
			   atomic_long_read(&edu_site_hits[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(edu_sites);

/*
 * What the module holds across bindings: device states alive (an unbound
 * device's state lives while a file has it open), each edu function's
 * pci_dev reference count as the kernel keeps it (without the one taken to
 * read it), and every binding's ledger summed. Once nothing is open, an
 * unbound device must leave none of it behind.
 */
static int edu_objects_show(struct seq_file *s, void *unused)
{
	struct pci_dev *pdev = NULL;

	seq_printf(s, "devices %d\n", atomic_read(&edu_devices));
	while ((pdev = pci_get_device(EDU_VENDOR_ID, EDU_DEVICE_ID, pdev)))
		seq_printf(s, "pci_dev_refs@%s %u\n", pci_name(pdev),
			   kref_read(&pdev->dev.kobj.kref) - 1);
	dmafi_module_ledger_show(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(edu_objects);

/* Probe checks 2-6: the device's managed resources (released by devres). */
static int edu_hw_init(struct edu_dev *edu, struct edu_probe *pr)
{
	struct pci_dev *pdev = edu->pdev;
	int ret;

	ret = edu_probe_check(pr, -EIO) ?: pcim_enable_device(pdev);
	if (ret) {
		edu_site(probe_enable);
		return ret;
	}
	ret = edu_probe_check(pr, -EBUSY) ?:
	      pcim_iomap_regions(pdev, BIT(0), EDU_DRV_NAME);
	if (ret) {
		edu_site(probe_iomap);
		return ret;
	}
	edu->mmio = pcim_iomap_table(pdev)[0];

	/* Only edu matches edu_ids: another ID here is a bug, not an error. */
	if (WARN_ON_ONCE((ioread32(edu->mmio + EDU_REG_ID) & 0xff) != EDU_ID_MAGIC))
		return -ENODEV;

	ret = edu_probe_check(pr, -EIO) ?:
	      dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_ADDR_BITS));
	if (ret) {
		edu_site(probe_dma_mask);
		return ret;
	}
	pci_set_master(pdev);

	ret = edu_probe_check(pr, -ENOSPC) ?:
	      pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_ALL_TYPES);
	if (ret < 0) {
		edu_site(probe_irq_vectors);
		return ret;
	}
	/*
	 * Not device-managed: devres would free the IRQ after remove dropped
	 * the last reference to edu, and a shared handler may run until then
	 * (DEBUG_SHIRQ calls it once more in free_irq()). remove and the probe
	 * unwind free it before edu goes.
	 */
	edu->irq = pci_irq_vector(pdev, 0);
	ret = edu_probe_check(pr, -EBUSY) ?:
	      request_irq(edu->irq, edu_irq, IRQF_SHARED, EDU_DRV_NAME, edu);
	if (ret) {
		edu_site(probe_request_irq);
		return ret;
	}
	return 0;
}

static struct edu_dev *edu_alloc(struct pci_dev *pdev)
{
	struct edu_dev *edu;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return NULL;
	atomic_inc(&edu_devices);
	kref_init(&edu->ref);
	edu->pdev = pci_dev_get(pdev);
	mutex_init(&edu->dma_lock);
	init_completion(&edu->dma_done);
	INIT_LIST_HEAD(&edu->quarantine);
	spin_lock_init(&edu->quarantine_lock);
	INIT_LIST_HEAD(&edu->files);
	mutex_init(&edu->files_lock);
	return edu;
}

/* The failure checks, in order: see EDU_PROBE_CHECKS and driver/README.md. */
static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_probe pr = { .fail_at = xchg(&probe_fault, 0) };
	struct edu_dev *edu;
	int ret;

	edu = edu_probe_check(&pr, -ENOMEM) ? NULL : edu_alloc(pdev);
	if (!edu) {
		edu_site(probe_alloc);
		return -ENOMEM;
	}

	ret = edu_hw_init(edu, &pr);
	if (ret)
		goto err_put;

	edu->id = edu_probe_check(&pr, -ENOMEM) ?: ida_alloc(&edu_ida, GFP_KERNEL);
	if (edu->id < 0) {
		edu_site(probe_ida);
		ret = edu->id;
		goto err_free_irq;
	}
	snprintf(edu->name, sizeof(edu->name), "edu-dma%d", edu->id);
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.fops = &edu_fops;
	edu->misc.parent = &pdev->dev;
	edu->misc.mode = 0600;
	pci_set_drvdata(pdev, edu);

	edu->debugfs = debugfs_create_dir(pci_name(pdev), edu_debugfs_root);
	debugfs_create_file("ledger", 0400, edu->debugfs, edu, &edu_ledger_fops);
	dmafi_init(&edu->fi, edu->debugfs);

	ret = edu_probe_check(&pr, -EBUSY) ?: misc_register(&edu->misc);
	if (ret) {
		edu_site(probe_misc_register);
		goto err_debugfs;
	}
	return 0;

err_debugfs:
	edu_site(probe_err_debugfs);
	debugfs_remove_recursive(edu->debugfs);
	dmafi_exit(&edu->fi);
	ida_free(&edu_ida, edu->id);
err_free_irq:
	edu_site(probe_err_free_irq);
	free_irq(edu->irq, edu);
err_put:
	edu_site(probe_err_put);
	kref_put(&edu->ref, edu_free);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);

	/* No new opens; every call from now on fails with -ENODEV. */
	misc_deregister(&edu->misc);
	WRITE_ONCE(edu->gone, true);
	/* No knob can be set now; callers paused at a fault point go on at once. */
	debugfs_remove_recursive(edu->debugfs);
	dmafi_exit(&edu->fi);
	/* Wait for the device sections in progress: each ends within one DMA. */
	synchronize_srcu(&edu_srcu);

	/* A stale mapping of a buffer faults (SIGBUS) instead of reaching freed memory. */
	edu_files_unmap(edu);
	/* Stop the device before freeing what it, or its interrupt handler, may touch. */
	pci_clear_master(pdev);
	edu_engine_stop(edu);
	free_irq(edu->irq, edu);
	edu_quarantine_release(edu);
	edu_files_release(edu);
	ida_free(&edu_ida, edu->id);
	kref_put(&edu->ref, edu_free);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= EDU_DRV_NAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};

/*
 * Not a counted site: if registering fails, the module is unloaded at once,
 * so a hit here could never be read.
 */
static int __init edu_init(void)
{
	int ret;

	edu_debugfs_root = debugfs_create_dir(EDU_DRV_NAME, NULL);
	debugfs_create_file("sites", 0400, edu_debugfs_root, NULL, &edu_sites_fops);
	debugfs_create_file("objects", 0400, edu_debugfs_root, NULL,
			    &edu_objects_fops);
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
