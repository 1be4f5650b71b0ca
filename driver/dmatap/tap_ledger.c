// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - the ledger: what the target holds, where it got it, and what
 * went wrong (findings), with the debugfs files that show them.
 *
 * Every held object is keyed by what its release is called with (a page,
 * an sg table, the first scatterlist of a mapping, a dma address, a cpu
 * address, an object pointer) and remembers the call site that acquired
 * it. Pins and pci_dev references are counted per key: a page pinned
 * twice, or a device referenced twice, is one entry whose size is the
 * count. Nothing here ever prints a pointer or a dma address: objects have
 * sequence ids, sites are module+offset and symbol+offset.
 *
 * All of it is under dt_lock (see dmatap.h); nodes come from dmatap's own
 * slab caches with GFP_ATOMIC, since hooks may run in atomic context.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "dmatap.h"

#define DT_DEV_LEN		24
#define DT_DETAIL_LEN		64
/* Findings kept at most; later ones are only counted. */
#define DT_MAX_FINDINGS		1024

DEFINE_SPINLOCK(dt_lock);
int dt_lock_cpu = -1;

struct dt_obj {
	struct hlist_node node;
	unsigned long key;
	const struct device *dev;	/* compared, never dereferenced */
	struct dt_site *site;
	u64 id;
	u64 size;
	u32 dir;
	enum dt_kind kind;
	char dev_name[DT_DEV_LEN];
};

struct dt_finding {
	struct list_head node;
	u64 seq;
	u64 batch;			/* findings of one report share it */
	u64 count;
	const struct dt_site *group;	/* grouping within one report only */
	enum dt_what what;
	enum dt_kind kind;
	enum dt_fn fn;
	char where[DT_WHERE_LEN];
	char sym[DT_SYM_LEN];
	char acquired[DT_WHERE_LEN];
	char detail[DT_DETAIL_LEN];
};

enum dt_counter {
	DT_C_PINNED_PAGES,
	DT_C_SG_TABLES,
	DT_C_DMA_MAPPINGS,
	DT_C_COHERENT_BUFFERS,
	DT_C_ALLOCATIONS,
	DT_C_IRQS,
	DT_C_PCI_DEV_REFS,
	DT_C_PINS_TOTAL,
	DT_C_MAPS_TOTAL,
	DT_C_GUP_PAGES_TOTAL,
	DT_C_RELEASED_ELSEWHERE,
	DT_C_UNTRACKED,
	DT_C_FINDINGS,
	DT_C_FINDINGS_DROPPED,
	DT_C_NR,
};

static const char * const dt_counter_names[DT_C_NR] = {
	[DT_C_PINNED_PAGES]		= "pinned_pages",
	[DT_C_SG_TABLES]		= "sg_tables",
	[DT_C_DMA_MAPPINGS]		= "dma_mappings",
	[DT_C_COHERENT_BUFFERS]		= "coherent_buffers",
	[DT_C_ALLOCATIONS]		= "allocations",
	[DT_C_IRQS]			= "irqs",
	[DT_C_PCI_DEV_REFS]		= "pci_dev_refs",
	[DT_C_PINS_TOTAL]		= "pins_total",
	[DT_C_MAPS_TOTAL]		= "maps_total",
	[DT_C_GUP_PAGES_TOTAL]		= "gup_pages_total",
	[DT_C_RELEASED_ELSEWHERE]	= "released_elsewhere",
	[DT_C_UNTRACKED]		= "untracked",
	[DT_C_FINDINGS]			= "findings",
	[DT_C_FINDINGS_DROPPED]		= "findings_dropped",
};

/* The ledger counter each kind of object counts in. */
static const enum dt_counter dt_kind_counter[DT_KIND_NR] = {
	[DT_PIN]	= DT_C_PINNED_PAGES,
	[DT_SGT]	= DT_C_SG_TABLES,
	[DT_MAP_SG]	= DT_C_DMA_MAPPINGS,
	[DT_MAP_PAGE]	= DT_C_DMA_MAPPINGS,
	[DT_COHERENT]	= DT_C_COHERENT_BUFFERS,
	[DT_ALLOC]	= DT_C_ALLOCATIONS,
	[DT_IRQ]	= DT_C_IRQS,
	[DT_PCI_REF]	= DT_C_PCI_DEV_REFS,
};

static const char * const dt_kind_names[DT_KIND_NR] = {
	[DT_PIN]	= "pin",
	[DT_SGT]	= "sg_table",
	[DT_MAP_SG]	= "dma_map_sg",
	[DT_MAP_PAGE]	= "dma_map_page",
	[DT_COHERENT]	= "coherent",
	[DT_ALLOC]	= "alloc",
	[DT_IRQ]	= "irq",
	[DT_PCI_REF]	= "pci_dev",
};

static const char * const dt_what_names[DT_WHAT_NR] = {
	[DT_UNMAP_SIZE_MISMATCH]	= "unmap_size_mismatch",
	[DT_UNMAP_DIR_MISMATCH]		= "unmap_dir_mismatch",
	[DT_UNMAP_NOT_MAPPED]		= "unmap_not_mapped",
	[DT_SYNC_NOT_MAPPED]		= "sync_not_mapped",
	[DT_SYNC_DIR_MISMATCH]		= "sync_dir_mismatch",
	[DT_UNPIN_NOT_PINNED]		= "unpin_not_pinned",
	[DT_FREE_NOT_ALLOCATED]		= "free_not_allocated",
	[DT_FREE_SIZE_MISMATCH]		= "free_size_mismatch",
	[DT_MMAP_NOT_ALLOCATED]		= "mmap_not_allocated",
	[DT_PUT_NOT_HELD]		= "put_not_held",
	[DT_HELD_AT_UNLOAD]		= "held_at_unload",
	[DT_HELD_AT_CHECK]		= "held_at_check",
};

static const char * const dt_dir_names[] = {
	[DMA_BIDIRECTIONAL]	= "bidirectional",
	[DMA_TO_DEVICE]		= "to_device",
	[DMA_FROM_DEVICE]	= "from_device",
	[DMA_NONE]		= "none",
};

static struct kmem_cache *dt_obj_cache;
static struct kmem_cache *dt_site_cache;
static struct kmem_cache *dt_finding_cache;

/* All below: under dt_lock. */
static DEFINE_HASHTABLE(dt_objs, 12);
static DEFINE_HASHTABLE(dt_sites, 8);
static LIST_HEAD(dt_findings);
static unsigned int dt_nr_findings;
static u64 dt_next_id;
static u64 dt_next_seq;
static u64 dt_batch;

static atomic_long_t dt_counters[DT_C_NR];

static const char *dt_dir_name(u32 dir)
{
	return dir < ARRAY_SIZE(dt_dir_names) ? dt_dir_names[dir] : "?";
}

static void dt_count(enum dt_counter c, long n)
{
	atomic_long_add(n, &dt_counters[c]);
}

void dt_count_gup(long pages)
{
	dt_count(DT_C_GUP_PAGES_TOTAL, pages);
}

void dt_count_elsewhere(void)
{
	dt_count(DT_C_RELEASED_ELSEWHERE, 1);
}

void dt_count_untracked(void)
{
	dt_count(DT_C_UNTRACKED, 1);
}

/* True when objects of @kind may be held: the release hooks' fast path. */
bool dt_holds(enum dt_kind kind)
{
	return atomic_long_read(&dt_counters[dt_kind_counter[kind]]) > 0;
}

/* The contribution of @obj to its ledger counter. */
static long dt_weight(const struct dt_obj *obj)
{
	return obj->kind == DT_PIN || obj->kind == DT_PCI_REF ? obj->size : 1;
}

/* Under dt_lock. */
static struct dt_obj *dt_lookup(enum dt_kind kind, unsigned long key,
				const struct device *dev)
{
	struct dt_obj *obj;

	hash_for_each_possible(dt_objs, obj, node, key ^ kind)
		if (obj->kind == kind && obj->key == key && obj->dev == dev)
			return obj;
	return NULL;
}

/* Under dt_lock: takes @obj off the ledger; the caller frees it. */
static void dt_unlink(struct dt_obj *obj)
{
	hash_del(&obj->node);
	dt_count(dt_kind_counter[obj->kind], -dt_weight(obj));
}

static void dt_held_fill(struct dt_held *held, const struct dt_obj *obj)
{
	if (!held)
		return;
	held->id = obj->id;
	held->size = obj->size;
	held->dir = obj->dir;
	held->site = obj->site;
}

/* Under dt_lock: unlinks every finding onto @list. */
static void dt_findings_take(struct list_head *list)
{
	list_splice_init(&dt_findings, list);
	dt_nr_findings = 0;
	dt_next_seq = 0;
	atomic_long_set(&dt_counters[DT_C_FINDINGS], 0);
	atomic_long_set(&dt_counters[DT_C_FINDINGS_DROPPED], 0);
}

static void dt_findings_free(struct list_head *list)
{
	struct dt_finding *f, *tmp;

	list_for_each_entry_safe(f, tmp, list, node) {
		list_del(&f->node);
		kmem_cache_free(dt_finding_cache, f);
	}
}

static void dt_objs_free(struct hlist_head *gone)
{
	struct hlist_node *tmp;
	struct dt_obj *obj;

	hlist_for_each_entry_safe(obj, tmp, gone, node) {
		hlist_del(&obj->node);
		kmem_cache_free(dt_obj_cache, obj);
	}
}

/* The site of @fn called from @addr, its call counted; NULL if out of memory. */
struct dt_site *dt_site_get(enum dt_fn fn, unsigned long addr)
{
	struct dt_site *site, *new;
	unsigned long flags;

	dt_lock_irqsave(flags);
	hash_for_each_possible(dt_sites, site, node, addr)
		if (site->addr == addr && site->fn == fn)
			goto found;
	dt_unlock_irqrestore(flags);

	new = kmem_cache_zalloc(dt_site_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!new)
		return NULL;
	new->addr = addr;
	new->fn = fn;
	dt_where(addr, new->where, new->sym);

	dt_lock_irqsave(flags);
	hash_for_each_possible(dt_sites, site, node, addr)
		if (site->addr == addr && site->fn == fn)
			goto found_raced;
	hash_add(dt_sites, &new->node, addr);
	site = new;
	new = NULL;
found_raced:
	dt_unlock_irqrestore(flags);
	if (new)
		kmem_cache_free(dt_site_cache, new);
	atomic64_inc(&site->calls);
	return site;

found:
	dt_unlock_irqrestore(flags);
	atomic64_inc(&site->calls);
	return site;
}

/*
 * Records an object the target acquired at @site. A key already held means
 * its release went by unseen (a path dmatap does not hook): the old entry
 * is dropped, counted as untracked.
 */
void dt_add(enum dt_kind kind, unsigned long key, const struct device *dev,
	    u64 size, u32 dir, struct dt_site *site)
{
	struct dt_obj *obj, *old;
	unsigned long flags;

	if (kind == DT_MAP_SG || kind == DT_MAP_PAGE)
		dt_count(DT_C_MAPS_TOTAL, 1);
	obj = kmem_cache_zalloc(dt_obj_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!obj) {
		dt_count(DT_C_UNTRACKED, 1);
		return;
	}
	obj->kind = kind;
	obj->key = key;
	obj->dev = dev;
	obj->size = size;
	obj->dir = dir;
	obj->site = site;
	if (dev)
		strscpy(obj->dev_name, dev_name(dev), sizeof(obj->dev_name));

	dt_lock_irqsave(flags);
	old = dt_lookup(kind, key, dev);
	if (old) {
		dt_unlink(old);
		dt_count(DT_C_UNTRACKED, 1);
	}
	obj->id = ++dt_next_id;
	hash_add(dt_objs, &obj->node, key ^ kind);
	dt_count(dt_kind_counter[kind], 1);
	dt_unlock_irqrestore(flags);
	if (old)
		kmem_cache_free(dt_obj_cache, old);
}

/*
 * Under dt_lock: one more reference of @kind to @key, acquired at @site; a
 * new entry is taken from *@spare. False when a new one was needed and
 * there was none.
 */
static bool dt_ref_locked(enum dt_kind kind, unsigned long key,
			  struct dt_site *site, struct dt_obj **spare)
{
	struct dt_obj *obj = dt_lookup(kind, key, NULL);

	if (!obj) {
		obj = *spare;
		if (!obj)
			return false;
		*spare = NULL;
		obj->kind = kind;
		obj->key = key;
		obj->site = site;
		obj->id = ++dt_next_id;
		hash_add(dt_objs, &obj->node, key ^ kind);
	}
	obj->size++;
	dt_count(dt_kind_counter[kind], 1);
	return true;
}

/*
 * Under dt_lock: drops one reference of @kind to @key. False if none was
 * held; *@gone is the entry to free when that was its last reference.
 */
static bool dt_unref_locked(enum dt_kind kind, unsigned long key,
			    struct dt_obj **gone)
{
	struct dt_obj *obj = dt_lookup(kind, key, NULL);

	*gone = NULL;
	if (!obj)
		return false;
	obj->size--;
	dt_count(dt_kind_counter[kind], -1);
	if (!obj->size) {
		hash_del(&obj->node);
		*gone = obj;
	}
	return true;
}

static struct dt_obj *dt_spare(void)
{
	return kmem_cache_zalloc(dt_obj_cache, GFP_ATOMIC | __GFP_NOWARN);
}

/*
 * Records one reference of @kind to @key, acquired at @site; a new entry
 * comes from *@spare (set to NULL when used).
 */
static void dt_ref_add(enum dt_kind kind, unsigned long key,
		       struct dt_site *site, struct dt_obj **spare)
{
	unsigned long flags;
	bool added;

	dt_lock_irqsave(flags);
	added = dt_ref_locked(kind, key, site, spare);
	dt_unlock_irqrestore(flags);
	if (!added)
		dt_count(DT_C_UNTRACKED, 1);
}

/* Records @n pinned pages; a page pinned twice is one entry with two pins. */
void dt_pins_add(struct page **pages, long n, struct dt_site *site)
{
	struct dt_obj *spare = NULL;
	long i;

	dt_count(DT_C_PINS_TOTAL, n);
	for (i = 0; i < n; i++) {
		if (!spare)
			spare = dt_spare();
		dt_ref_add(DT_PIN, (unsigned long)pages[i], site, &spare);
	}
	if (spare)
		kmem_cache_free(dt_obj_cache, spare);
}

/* Records one reference of @kind to @key, taken by the target at @site. */
void dt_ref_get(enum dt_kind kind, unsigned long key, struct dt_site *site)
{
	struct dt_obj *spare = dt_spare();

	dt_ref_add(kind, key, site, &spare);
	if (spare)
		kmem_cache_free(dt_obj_cache, spare);
}

/*
 * Drops one reference of @kind to @key, put by the target at @site: one it
 * does not hold is a finding.
 */
void dt_ref_put(enum dt_kind kind, unsigned long key, struct dt_site *site)
{
	struct dt_obj *gone;
	unsigned long flags;
	bool held;

	dt_lock_irqsave(flags);
	held = dt_unref_locked(kind, key, &gone);
	dt_unlock_irqrestore(flags);
	if (gone)
		kmem_cache_free(dt_obj_cache, gone);
	if (!held)
		dt_finding(DT_PUT_NOT_HELD, kind, site, NULL, "reference");
}

/* Takes one held object off the ledger: false if it was not held. */
bool dt_release(enum dt_kind kind, unsigned long key, const struct device *dev,
		struct dt_held *held)
{
	struct dt_obj *obj;
	unsigned long flags;

	dt_lock_irqsave(flags);
	obj = dt_lookup(kind, key, dev);
	if (obj) {
		dt_held_fill(held, obj);
		dt_unlink(obj);
	}
	dt_unlock_irqrestore(flags);
	if (obj)
		kmem_cache_free(dt_obj_cache, obj);
	return obj;
}

/*
 * Releases one pin of each of @n pages. From the target (@site set), pages
 * it did not pin are a finding; from elsewhere they are none of our business.
 */
void dt_pins_release(struct page **pages, unsigned long n,
		     struct dt_site *site)
{
	unsigned long i, missing = 0, released = 0;
	struct dt_obj *gone;
	unsigned long flags;

	for (i = 0; i < n; i++) {
		dt_lock_irqsave(flags);
		if (dt_unref_locked(DT_PIN, (unsigned long)pages[i], &gone))
			released++;
		else
			missing++;
		dt_unlock_irqrestore(flags);
		if (gone)
			kmem_cache_free(dt_obj_cache, gone);
	}
	if (!site && released)
		dt_count_elsewhere();
	if (site && missing)
		dt_finding(DT_UNPIN_NOT_PINNED, DT_PIN, site, NULL,
			   "pages=%lu of=%lu", missing, n);
}

/* Looks up a held object without releasing it. */
bool dt_find(enum dt_kind kind, unsigned long key, const struct device *dev,
	     struct dt_held *held)
{
	struct dt_obj *obj;
	unsigned long flags;

	dt_lock_irqsave(flags);
	obj = dt_lookup(kind, key, dev);
	if (obj)
		dt_held_fill(held, obj);
	dt_unlock_irqrestore(flags);
	return obj;
}

/* The page mapping of @dev that contains [@addr, @addr + @size), if any. */
bool dt_find_page_map(const struct device *dev, u64 addr, u64 size,
		      struct dt_held *held)
{
	struct dt_obj *obj;
	unsigned long flags;
	bool found = false;
	int bkt;

	dt_lock_irqsave(flags);
	hash_for_each(dt_objs, bkt, obj, node) {
		if (obj->kind != DT_MAP_PAGE || obj->dev != dev)
			continue;
		if (addr >= obj->key && addr - obj->key < obj->size &&
		    size <= obj->size - (addr - obj->key)) {
			dt_held_fill(held, obj);
			found = true;
			break;
		}
	}
	dt_unlock_irqrestore(flags);
	return found;
}

/* Under dt_lock: appends @f, or drops it when the list is full. */
static bool dt_finding_link(struct dt_finding *f)
{
	if (dt_nr_findings >= DT_MAX_FINDINGS) {
		dt_count(DT_C_FINDINGS_DROPPED, 1);
		return false;
	}
	f->seq = ++dt_next_seq;
	list_add_tail(&f->node, &dt_findings);
	dt_nr_findings++;
	dt_count(DT_C_FINDINGS, 1);
	return true;
}

static void dt_finding_sites(struct dt_finding *f, const struct dt_site *site,
			     const struct dt_site *acquired)
{
	strscpy(f->where, site ? site->where : "?", sizeof(f->where));
	strscpy(f->sym, site ? site->sym : "?", sizeof(f->sym));
	f->fn = site ? site->fn : DT_FN_NR;
	if (acquired)
		strscpy(f->acquired, acquired->where, sizeof(f->acquired));
}

/*
 * Records that the call at @site did @what to an object of @kind, acquired
 * at @acquired (if known); @fmt adds details (sizes, directions, never
 * addresses).
 */
void dt_finding(enum dt_what what, enum dt_kind kind,
		const struct dt_site *site, const struct dt_site *acquired,
		const char *fmt, ...)
{
	struct dt_finding *f;
	unsigned long flags;
	va_list args;
	bool linked;

	f = kmem_cache_zalloc(dt_finding_cache, GFP_ATOMIC | __GFP_NOWARN);
	if (!f) {
		dt_count(DT_C_FINDINGS_DROPPED, 1);
		return;
	}
	f->what = what;
	f->kind = kind;
	f->count = 1;
	dt_finding_sites(f, site, acquired);
	va_start(args, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, args);
	va_end(args);

	dt_lock_irqsave(flags);
	linked = dt_finding_link(f);
	dt_unlock_irqrestore(flags);
	if (!linked) {
		kmem_cache_free(dt_finding_cache, f);
		return;
	}
	pr_info("dmatap: %s %s at %s (%s)\n", dt_what_names[what],
		dt_kind_names[kind], f->where, f->sym);
}

/*
 * Under dt_lock: counts @obj into the finding of this report for its kind
 * and acquiring site, taking a new one from @pool if needed.
 */
static void dt_report_obj(enum dt_what what, const struct dt_obj *obj,
			  struct list_head *pool)
{
	struct dt_finding *f;

	list_for_each_entry_reverse(f, &dt_findings, node) {
		if (f->batch != dt_batch)
			break;
		if (f->kind == obj->kind && f->group == obj->site) {
			f->count += dt_weight(obj);
			return;
		}
	}
	f = list_first_entry_or_null(pool, struct dt_finding, node);
	if (!f) {
		dt_count(DT_C_FINDINGS_DROPPED, 1);
		return;
	}
	list_del(&f->node);
	f->what = what;
	f->kind = obj->kind;
	f->batch = dt_batch;
	f->group = obj->site;
	f->count = dt_weight(obj);
	dt_finding_sites(f, obj->site, NULL);
	snprintf(f->detail, sizeof(f->detail), "first=%llu", obj->id);
	if (!dt_finding_link(f))
		list_add(&f->node, pool);
}

/* Under dt_lock: the number of held objects. */
static unsigned long dt_nr_held(void)
{
	unsigned long n = 0;
	struct dt_obj *obj;
	int bkt;

	hash_for_each(dt_objs, bkt, obj, node)
		n++;
	return n;
}

/*
 * Reports everything held as findings @what, one per kind and acquiring
 * site with a count; at unload (DT_HELD_AT_UNLOAD) also forgets it all.
 * Findings come from a pool filled before dt_lock is taken, and forgotten
 * objects are freed after it is dropped: no allocator call under dt_lock.
 */
void dt_report_held(enum dt_what what)
{
	unsigned long flags, want, i;
	struct hlist_node *tmp;
	struct dt_finding *f;
	struct dt_obj *obj;
	LIST_HEAD(pool);
	HLIST_HEAD(gone);
	u64 reported = 0;
	int bkt;

	dt_lock_irqsave(flags);
	want = min_t(unsigned long, dt_nr_held(), DT_MAX_FINDINGS);
	dt_unlock_irqrestore(flags);
	for (i = 0; i < want; i++) {
		f = kmem_cache_zalloc(dt_finding_cache, GFP_KERNEL);
		if (!f)
			break;
		list_add(&f->node, &pool);
	}

	dt_lock_irqsave(flags);
	dt_batch++;
	hash_for_each_safe(dt_objs, bkt, tmp, obj, node) {
		dt_report_obj(what, obj, &pool);
		reported++;
		if (what == DT_HELD_AT_UNLOAD) {
			dt_unlink(obj);
			hlist_add_head(&obj->node, &gone);
		}
	}
	dt_unlock_irqrestore(flags);

	dt_objs_free(&gone);
	dt_findings_free(&pool);
	if (reported)
		pr_info("dmatap: %s: %llu objects still held\n",
			dt_what_names[what], reported);
}

/* Under dt_lock: unlinks every site onto @gone (no object refers to one any more). */
static void dt_sites_take(struct hlist_head *gone)
{
	struct hlist_node *tmp;
	struct dt_site *site;
	int bkt;

	hash_for_each_safe(dt_sites, bkt, tmp, site, node) {
		hash_del(&site->node);
		hlist_add_head(&site->node, gone);
	}
}

static void dt_sites_free(struct hlist_head *gone)
{
	struct hlist_node *tmp;
	struct dt_site *site;

	hlist_for_each_entry_safe(site, tmp, gone, node) {
		hlist_del(&site->node);
		kmem_cache_free(dt_site_cache, site);
	}
}

/* A new target instance: forget the previous one's sites and counters. */
void dt_ledger_start(void)
{
	unsigned long flags;
	HLIST_HEAD(gone);
	int c;

	dt_lock_irqsave(flags);
	dt_sites_take(&gone);
	for (c = 0; c < DT_C_NR; c++)
		if (c != DT_C_FINDINGS && c != DT_C_FINDINGS_DROPPED)
			atomic_long_set(&dt_counters[c], 0);
	dt_unlock_irqrestore(flags);
	dt_sites_free(&gone);
}

static int dt_ledger_show(struct seq_file *s, void *unused)
{
	int c;

	for (c = 0; c < DT_C_NR; c++)
		seq_printf(s, "%s %ld\n", dt_counter_names[c],
			   atomic_long_read(&dt_counters[c]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_ledger);

static const char *dt_fn_name(enum dt_fn fn)
{
	return fn < DT_FN_NR ? dt_hooks[fn].name : "?";
}

/* "<id> <kind> size=<n> dir=<dir> dev=<name> fn=<function> site=<where> sym=<symbol>" */
static int dt_held_show(struct seq_file *s, void *unused)
{
	const struct dt_site *site;
	struct dt_obj *obj;
	unsigned long flags;
	int bkt;

	dt_lock_irqsave(flags);
	hash_for_each(dt_objs, bkt, obj, node) {
		site = obj->site;
		seq_printf(s, "%llu %s size=%llu", obj->id,
			   dt_kind_names[obj->kind], obj->size);
		if (obj->kind == DT_MAP_SG || obj->kind == DT_MAP_PAGE)
			seq_printf(s, " dir=%s", dt_dir_name(obj->dir));
		if (obj->dev_name[0])
			seq_printf(s, " dev=%s", obj->dev_name);
		seq_printf(s, " fn=%s site=%s sym=%s\n",
			   dt_fn_name(site ? site->fn : DT_FN_NR),
			   site ? site->where : "?", site ? site->sym : "?");
	}
	dt_unlock_irqrestore(flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_held);

/*
 * "<seq> <what> <kind> fn=<function> site=<where> sym=<symbol> count=<n>
 * [acquired=<where>] <detail>", one line per finding.
 */
static int dt_findings_show(struct seq_file *s, void *unused)
{
	struct dt_finding *f;
	unsigned long flags;

	dt_lock_irqsave(flags);
	list_for_each_entry(f, &dt_findings, node) {
		seq_printf(s, "%llu %s %s fn=%s site=%s sym=%s count=%llu",
			   f->seq, dt_what_names[f->what],
			   dt_kind_names[f->kind], dt_fn_name(f->fn), f->where,
			   f->sym, f->count);
		if (f->acquired[0])
			seq_printf(s, " acquired=%s", f->acquired);
		seq_printf(s, " %s\n", f->detail);
	}
	dt_unlock_irqrestore(flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_findings);

/*
 * "<function> <site> <calls> <injected> <symbol>", then "<point>=<n>" for
 * each point that injected there.
 */
static int dt_sites_show(struct seq_file *s, void *unused)
{
	struct dt_site *site;
	unsigned long flags;
	s64 n;
	int bkt, id;

	dt_lock_irqsave(flags);
	hash_for_each(dt_sites, bkt, site, node) {
		seq_printf(s, "%s %s %lld %lld %s", dt_fn_name(site->fn),
			   site->where, atomic64_read(&site->calls),
			   atomic64_read(&site->injected), site->sym);
		for (id = 0; id < DT_POINT_NR; id++) {
			n = atomic64_read(&site->injected_by[id]);
			if (n)
				seq_printf(s, " %s=%lld", dt_point_name(id), n);
		}
		seq_putc(s, '\n');
	}
	dt_unlock_irqrestore(flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_sites);

static int dt_check_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	dt_report_held(DT_HELD_AT_CHECK);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dt_check_fops, NULL, dt_check_set, "%llu\n");

/*
 * Forgets the findings (numbering restarts at 1) and zeroes the sites'
 * counters; the held objects stay.
 */
static int dt_reset_set(void *data, u64 val)
{
	struct dt_site *site;
	unsigned long flags;
	LIST_HEAD(list);
	int bkt, id;

	if (val != 1)
		return -EINVAL;
	dt_lock_irqsave(flags);
	dt_findings_take(&list);
	hash_for_each(dt_sites, bkt, site, node) {
		atomic64_set(&site->calls, 0);
		atomic64_set(&site->injected, 0);
		for (id = 0; id < DT_POINT_NR; id++)
			atomic64_set(&site->injected_by[id], 0);
	}
	dt_unlock_irqrestore(flags);
	dt_findings_free(&list);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dt_reset_fops, NULL, dt_reset_set, "%llu\n");

int dt_ledger_init(struct dentry *dir)
{
	dt_obj_cache = KMEM_CACHE(dt_obj, 0);
	if (!dt_obj_cache)
		return -ENOMEM;
	dt_site_cache = KMEM_CACHE(dt_site, 0);
	if (!dt_site_cache)
		goto err_obj;
	dt_finding_cache = KMEM_CACHE(dt_finding, 0);
	if (!dt_finding_cache)
		goto err_site;

	debugfs_create_file("ledger", 0400, dir, NULL, &dt_ledger_fops);
	debugfs_create_file("held", 0400, dir, NULL, &dt_held_fops);
	debugfs_create_file("findings", 0400, dir, NULL, &dt_findings_fops);
	debugfs_create_file("sites", 0400, dir, NULL, &dt_sites_fops);
	debugfs_create_file_unsafe("check", 0200, dir, NULL, &dt_check_fops);
	debugfs_create_file_unsafe("reset", 0200, dir, NULL, &dt_reset_fops);
	return 0;

err_site:
	kmem_cache_destroy(dt_site_cache);
err_obj:
	kmem_cache_destroy(dt_obj_cache);
	return -ENOMEM;
}

/* After the debugfs files are gone and with no target: frees everything. */
void dt_ledger_exit(void)
{
	struct hlist_node *tmp;
	HLIST_HEAD(objs);
	HLIST_HEAD(sites);
	struct dt_obj *obj;
	unsigned long flags;
	LIST_HEAD(list);
	int bkt;

	dt_lock_irqsave(flags);
	hash_for_each_safe(dt_objs, bkt, tmp, obj, node) {
		dt_unlink(obj);
		hlist_add_head(&obj->node, &objs);
	}
	dt_sites_take(&sites);
	dt_findings_take(&list);
	dt_unlock_irqrestore(flags);
	dt_objs_free(&objs);
	dt_sites_free(&sites);
	dt_findings_free(&list);

	kmem_cache_destroy(dt_finding_cache);
	kmem_cache_destroy(dt_site_cache);
	kmem_cache_destroy(dt_obj_cache);
}
