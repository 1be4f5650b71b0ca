/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmatap - intercepts one target module's DMA-lifecycle calls
 *
 * Internal declarations shared by the files of the module; see README.md for
 * what it does and why it is built this way.
 *
 * Locking: dt_lock (a spinlock, always taken with interrupts off) protects
 * the ledger of held objects, the call sites and the findings. Hooks run in
 * whatever context the intercepted function is called from, so nothing under
 * dt_lock sleeps; the nodes come from dmatap's own slab caches
 * (GFP_ATOMIC), never from kmalloc/kfree, which dmatap intercepts.
 * dt_lock_cpu names the CPU that holds dt_lock: a release hook that finds
 * itself on that CPU was reached from inside the section (the slab allocator
 * freeing its own metadata with kfree) and does nothing.
 *
 * The target's interrupts (tap_irq.c) have their own raw spinlock,
 * dt_irq_lock, taken in hard interrupt context by dt_irq() and always with
 * interrupts off; under it only disable_irq_nosync() is called (which takes
 * the IRQ descriptor's lock: dt_irq_lock nests outside it), never dt_lock or
 * a fault point's lock. dt_irq_mutex serialises the delivery of a held
 * interrupt, the start of a free_irq() and the target's detach; it is taken
 * only where sleeping is allowed, never under a spinlock.
 */
#ifndef _DMATAP_H
#define _DMATAP_H

#include <linux/dma-direction.h>
#include <linux/interrupt.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/types.h>

struct device;

/* The functions dmatap intercepts, in the order of the hook table. */
enum dt_fn {
	DT_FN_PIN_USER_PAGES_FAST,
	DT_FN_PIN_USER_PAGES,
	DT_FN_PIN_USER_PAGES_REMOTE,
	DT_FN_GET_USER_PAGES_FAST,
	DT_FN_UNPIN_USER_PAGE,
	DT_FN_UNPIN_USER_PAGES,
	DT_FN_UNPIN_USER_PAGES_DIRTY_LOCK,
	DT_FN_SG_ALLOC_TABLE_FROM_PAGES_SEGMENT,
	DT_FN_SG_ALLOC_TABLE,
	DT_FN_SG_FREE_TABLE,
	DT_FN_DMA_MAP_SGTABLE,
	DT_FN_DMA_MAP_SG_ATTRS,
	DT_FN_DMA_MAP_PAGE_ATTRS,
	DT_FN_DMA_UNMAP_SG_ATTRS,
	DT_FN_DMA_UNMAP_PAGE_ATTRS,
	DT_FN_DMA_SYNC_SG_FOR_CPU,
	DT_FN_DMA_SYNC_SG_FOR_DEVICE,
	DT_FN_DMA_SYNC_SINGLE_FOR_CPU,
	DT_FN_DMA_SYNC_SINGLE_FOR_DEVICE,
	DT_FN_DMA_ALLOC_ATTRS,
	DT_FN_DMA_FREE_ATTRS,
	DT_FN_DMA_MMAP_ATTRS,
	DT_FN_KMALLOC_TRACE,
	DT_FN_KMALLOC_NODE_TRACE,
	DT_FN___KMALLOC,
	DT_FN___KMALLOC_NODE,
	DT_FN_KMALLOC_LARGE,
	DT_FN_KMALLOC_LARGE_NODE,
	DT_FN_KVMALLOC_NODE,
	DT_FN_KFREE,
	DT_FN_KVFREE,
	DT_FN_REQUEST_THREADED_IRQ,
	DT_FN_DEVM_REQUEST_THREADED_IRQ,
	DT_FN_FREE_IRQ,
	DT_FN_WAIT_FOR_COMPLETION_TIMEOUT,
	DT_FN_WAIT_FOR_COMPLETION_INTERRUPTIBLE_TIMEOUT,
	DT_FN_WAIT_FOR_COMPLETION_KILLABLE_TIMEOUT,
	DT_FN_PCI_DEV_GET,
	DT_FN_PCI_DEV_PUT,
	DT_FN_PCI_GET_DEVICE,
	DT_FN_PCI_GET_SUBSYS,
	DT_FN_PCI_GET_CLASS,
	DT_FN_PCI_GET_SLOT,
	DT_FN_PCI_GET_DOMAIN_BUS_AND_SLOT,
	DT_FN_NR,
};

/* What a held object is. */
enum dt_kind {
	DT_PIN,		/* one pinned page (key: struct page *), size: pins */
	DT_SGT,		/* an sg table (key: struct sg_table *) */
	DT_MAP_SG,	/* an sg list mapping (key: first scatterlist), size: nents */
	DT_MAP_PAGE,	/* a page mapping (key: dma address), size: bytes */
	DT_COHERENT,	/* a coherent buffer (key: cpu address), size: bytes */
	DT_ALLOC,	/* a kmalloc-family object (key: pointer), size: bytes */
	DT_IRQ,		/* a requested IRQ (key: its slot in tap_irq.c), size: the IRQ */
	DT_PCI_REF,	/* references to one pci_dev (key: struct pci_dev *), size: refs */
	DT_KIND_NR,
};

/* What went wrong. */
enum dt_what {
	DT_UNMAP_SIZE_MISMATCH,
	DT_UNMAP_DIR_MISMATCH,
	DT_UNMAP_NOT_MAPPED,
	DT_SYNC_NOT_MAPPED,
	DT_SYNC_DIR_MISMATCH,
	DT_UNPIN_NOT_PINNED,
	DT_FREE_NOT_ALLOCATED,
	DT_FREE_SIZE_MISMATCH,
	DT_MMAP_NOT_ALLOCATED,
	DT_PUT_NOT_HELD,
	DT_HELD_AT_UNLOAD,
	DT_HELD_AT_CHECK,
	DT_WHAT_NR,
};

/* The fault points. */
enum dt_point_id {
	DT_GUP_FAIL,
	DT_GUP_PARTIAL,
	DT_DMA_MAP_FAIL,
	DT_SG_ALLOC_FAIL,
	DT_KMALLOC_FAIL,
	DT_COHERENT_ALLOC_FAIL,
	DT_PAGEOUT,
	DT_WRITEBACK,
	DT_IRQ_LATE,
	DT_POINT_NR,
};

/* A site as user space sees it: module+offset, and symbol+offset/size. */
#define DT_WHERE_LEN	48
#define DT_SYM_LEN	80

/* One call site of one intercepted function in the target. */
struct dt_site {
	struct hlist_node node;
	unsigned long addr;		/* return address: never shown */
	enum dt_fn fn;
	atomic64_t calls;
	atomic64_t injected;
	atomic64_t injected_by[DT_POINT_NR];	/* the same, by point */
	char where[DT_WHERE_LEN];
	char sym[DT_SYM_LEN];
};

/* What dt_release() found held. */
struct dt_held {
	u64 id;
	u64 size;
	u32 dir;
	const struct dt_site *site;
};

/* The intercepted functions: name, address, wrapper, how it is hooked. */
struct dt_hook {
	const char *name;
	unsigned long func;
	unsigned long wrapper;
	/* For calls from outside the target: releases held objects by key. */
	void (*release)(struct pt_regs *regs);
	/* For calls from outside the target: true sends the call to the wrapper too. */
	bool (*claim)(struct pt_regs *regs);
	/*
	 * The kprobe path's entry for those calls (0: none): a function of the
	 * same prototype that does what @release or @claim does, in the
	 * caller's own context, then calls the real function. A kprobe's
	 * handler runs in the int3 exception, entered as an NMI, where
	 * dt_lock may not be taken. Used while objects of kind @holds are held.
	 */
	unsigned long elsewhere;
	enum dt_kind holds;
	struct kprobe kp;
	bool ftrace;			/* else a kprobe */
};

extern struct dt_hook dt_hooks[DT_FN_NR];
extern spinlock_t dt_lock;
extern int dt_lock_cpu;

/* tap_main.c */
bool dt_from_target(unsigned long addr);
void dt_where(unsigned long addr, char *where, char *sym);

/* tap_ledger.c */
int dt_ledger_init(struct dentry *dir);
void dt_ledger_exit(void);
void dt_ledger_start(void);
struct dt_site *dt_site_get(enum dt_fn fn, unsigned long addr);
void dt_add(enum dt_kind kind, unsigned long key, const struct device *dev,
	    u64 size, u32 dir, struct dt_site *site);
void dt_pins_add(struct page **pages, long n, struct dt_site *site);
bool dt_release(enum dt_kind kind, unsigned long key, const struct device *dev,
		struct dt_held *held);
void dt_pins_release(struct page **pages, unsigned long n,
		     struct dt_site *site);
void dt_ref_get(enum dt_kind kind, unsigned long key, struct dt_site *site);
void dt_ref_put(enum dt_kind kind, unsigned long key, struct dt_site *site);
bool dt_find(enum dt_kind kind, unsigned long key, const struct device *dev,
	     struct dt_held *held);
bool dt_find_page_map(const struct device *dev, u64 addr, u64 size,
		      struct dt_held *held);
void dt_finding(enum dt_what what, enum dt_kind kind,
		const struct dt_site *site, const struct dt_site *acquired,
		const char *fmt, ...) __printf(5, 6);
void dt_report_held(enum dt_what what);
void dt_count_gup(long pages);
void dt_count_elsewhere(void);
void dt_count_untracked(void);
bool dt_holds(enum dt_kind kind);

/* tap_fault.c */
void dt_faults_init(struct dentry *dir);
void dt_faults_exit(void);
bool dt_should_fail(enum dt_point_id id, struct dt_site *site);
const char *dt_point_name(enum dt_point_id id);
int dt_error(enum dt_point_id id);
unsigned long dt_partial(unsigned long nr);
void dt_pause(enum dt_point_id id, struct dt_site *site);
bool dt_point_armed(enum dt_point_id id);

/* tap_irq.c */
struct dt_irq_slot;
struct dt_irq_slot *dt_irq_prepare(unsigned int irq, irq_handler_t *handler,
				   irq_handler_t thread_fn, void *dev_id);
void dt_irq_requested(struct dt_irq_slot *slot, int ret, struct dt_site *site);
struct dt_irq_slot *dt_irq_free_begin(unsigned int irq, void *dev_id);
void dt_irq_free_end(struct dt_irq_slot *slot);
bool dt_irq_claim_free(unsigned int irq, void *dev_id);
void dt_irq_deliver(void);
bool dt_irq_can_hold(void);
bool dt_irq_request(unsigned long *gen);
bool dt_irq_held_since(unsigned long gen);
void dt_irq_cancel(unsigned long gen);
void dt_irq_detach(const char *target);

/* tap_wrap.c */
void dt_hooks_init(void);

/* Takes dt_lock with interrupts off and marks this CPU as its holder. */
#define dt_lock_irqsave(flags)					\
	do {							\
		spin_lock_irqsave(&dt_lock, flags);		\
		WRITE_ONCE(dt_lock_cpu, smp_processor_id());	\
	} while (0)

#define dt_unlock_irqrestore(flags)				\
	do {							\
		WRITE_ONCE(dt_lock_cpu, -1);			\
		spin_unlock_irqrestore(&dt_lock, flags);	\
	} while (0)

/* True when this CPU holds dt_lock: a hook reached from inside it. */
static inline bool dt_inside_lock(void)
{
	return READ_ONCE(dt_lock_cpu) == raw_smp_processor_id();
}

#endif /* _DMATAP_H */
