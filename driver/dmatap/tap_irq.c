// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - the target's interrupt handlers, and the irq_late fault point.
 *
 * When the target requests an IRQ with a hard handler and no thread,
 * dmatap registers dt_irq() in its place and keeps {irq, dev_id, handler}
 * in a slot of a small table; dt_irq() looks the slot up and calls the
 * target's handler. A slot with a wrapped handler holds a reference on
 * dmatap (the kernel calls dt_irq(), dmatap's text), dropped when the IRQ is
 * freed; an IRQ the target leaves requested when it goes keeps that
 * reference for good and its slot is cleared, so that dt_irq() answers
 * IRQ_NONE and never calls into the gone module. An IRQ requested with a
 * thread gets a slot too (for the ledger) but is never held; without a hard
 * handler it is not wrapped.
 *
 * irq_late: the point is evaluated when the target starts a timed wait for
 * a completion (the wrappers in tap_wrap.c). When it fires, the wait asks
 * for the next interrupt to be held (dt_irq_want) and waits in slices of a
 * jiffy: dt_irq() then disables the line without calling the target's
 * handler and answers IRQ_HANDLED, and the wait returns 0 ("timed out") at
 * the end of its slice. The next timed wait of the target, which follows
 * the start of its next DMA, first delivers the held interrupt: it calls the
 * target's handler once, with local interrupts off and the line still
 * disabled (so that no real interrupt runs it at the same time), then
 * enables the line. Under MSI the swallowed edge would never come again;
 * on a level line that is still asserted the kernel also runs the handlers
 * once the line is enabled, which finds nothing more to do. free_irq() of a
 * held IRQ enables the line (balancing the disable depth) without delivery.
 *
 * Locking: see dmatap.h. dt_irq_lock (raw, interrupts off) protects the
 * table and the hold state; dt_irq_mutex keeps a delivery, the start of a
 * free and the detach apart, so that a slot being delivered is not freed
 * under it and the line is enabled exactly once per disable.
 */

#include <linux/bottom_half.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include "dmatap.h"

#define DT_IRQ_SLOTS	16

struct dt_irq_slot {
	unsigned int irq;
	void *dev_id;			/* compared and passed on, never dereferenced */
	irq_handler_t handler;		/* the target's hard handler */
	bool used;
	bool wrapped;			/* dt_irq() registered: a reference on dmatap */
	bool holdable;			/* no thread: the hard handler does it all */
	bool held;			/* its line disabled by dt_irq() */
	bool freeing;			/* in free_irq(): dt_irq() only passes through */
};

static struct dt_irq_slot dt_irq_slots[DT_IRQ_SLOTS];
static DEFINE_RAW_SPINLOCK(dt_irq_lock);
static DEFINE_MUTEX(dt_irq_mutex);

/* Under dt_irq_lock: a wait asks for the next interrupt to be held. */
static bool dt_irq_want;
/* The held interrupt's slot: written under dt_irq_lock, peeked without. */
static struct dt_irq_slot *dt_irq_hold;
/* Holds so far: a wait sees its own by a change. */
static unsigned long dt_irq_holds;

/* Under dt_irq_lock: the slot of (@irq, @dev_id), if requested through dmatap. */
static struct dt_irq_slot *dt_irq_find(unsigned int irq, void *dev_id)
{
	int i;

	for (i = 0; i < DT_IRQ_SLOTS; i++) {
		struct dt_irq_slot *slot = &dt_irq_slots[i];

		if (slot->used && slot->irq == irq && slot->dev_id == dev_id)
			return slot;
	}
	return NULL;
}

/*
 * The hard handler the kernel calls in place of the target's: holds the
 * interrupt a wait asked for, else passes it on. An interrupt of an IRQ
 * without a slot (left requested by a target that is gone) is not ours.
 */
static irqreturn_t dt_irq(int irq, void *dev_id)
{
	struct dt_irq_slot *slot;
	irq_handler_t handler;
	unsigned long flags;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	slot = dt_irq_find(irq, dev_id);
	if (!slot) {
		raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
		return IRQ_NONE;
	}
	if (dt_irq_want && slot->holdable && !slot->freeing && !dt_irq_hold) {
		dt_irq_want = false;
		slot->held = true;
		WRITE_ONCE(dt_irq_hold, slot);
		WRITE_ONCE(dt_irq_holds, dt_irq_holds + 1);
		/* Inside the lock: a slot seen held has its line disabled. */
		disable_irq_nosync(irq);
		raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
		return IRQ_HANDLED;
	}
	handler = slot->handler;
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	return handler(irq, dev_id);
}

/*
 * Before the target's request of @irq: takes a slot and, for a hard handler,
 * replaces *@handler with dt_irq() (the slot must exist before the request,
 * whose interrupt may come at once). NULL when the table is full: the
 * request goes through unwrapped and untracked.
 */
struct dt_irq_slot *dt_irq_prepare(unsigned int irq, irq_handler_t *handler,
				   irq_handler_t thread_fn, void *dev_id)
{
	struct dt_irq_slot *slot = NULL;
	unsigned long flags;
	bool wrap;
	int i;

	/* dmatap's text stays while the kernel may call dt_irq(). */
	wrap = *handler && try_module_get(THIS_MODULE);
	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	for (i = 0; i < DT_IRQ_SLOTS; i++) {
		if (!dt_irq_slots[i].used) {
			slot = &dt_irq_slots[i];
			break;
		}
	}
	if (slot) {
		slot->used = true;
		slot->irq = irq;
		slot->dev_id = dev_id;
		slot->handler = *handler;
		slot->wrapped = wrap;
		slot->holdable = wrap && !thread_fn;
	}
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);

	if (!slot) {
		if (wrap)
			module_put(THIS_MODULE);
		pr_warn_ratelimited("dmatap: more than %d IRQs requested: IRQ %u is neither tracked nor held\n",
				    DT_IRQ_SLOTS, irq);
		dt_count_untracked();
		return NULL;
	}
	if (wrap)
		*handler = dt_irq;
	return slot;
}

/* Gives @slot back; the IRQ is no longer requested (or never was). */
static void dt_irq_drop(struct dt_irq_slot *slot)
{
	unsigned long flags;
	bool wrapped;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	wrapped = slot->wrapped;
	memset(slot, 0, sizeof(*slot));
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	/* The target is loaded: dmatap holds another reference on itself. */
	if (wrapped)
		module_put(THIS_MODULE);
}

/* After the request: on success the IRQ is held by the target, else the slot goes. */
void dt_irq_requested(struct dt_irq_slot *slot, int ret, struct dt_site *site)
{
	if (!slot)
		return;
	if (ret) {
		dt_irq_drop(slot);
		return;
	}
	dt_add(DT_IRQ, (unsigned long)slot, NULL, slot->irq, 0, site);
}

/* Under dt_irq_lock: ends the hold of @slot; the caller enables its line. */
static bool dt_irq_unhold(struct dt_irq_slot *slot)
{
	if (!slot->held)
		return false;
	slot->held = false;
	WRITE_ONCE(dt_irq_hold, NULL);
	return true;
}

/*
 * Before free_irq(@irq, @dev_id): marks the slot freeing (dt_irq() passes
 * straight through, as for the call DEBUG_SHIRQ makes inside free_irq())
 * and ends a hold without delivering it. NULL when dmatap does not know the
 * IRQ, or another free of it is under way. May sleep.
 */
struct dt_irq_slot *dt_irq_free_begin(unsigned int irq, void *dev_id)
{
	struct dt_irq_slot *slot;
	unsigned long flags;
	bool enable = false;

	mutex_lock(&dt_irq_mutex);
	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	slot = dt_irq_find(irq, dev_id);
	if (slot && slot->freeing)
		slot = NULL;
	if (slot) {
		slot->freeing = true;
		enable = dt_irq_unhold(slot);
	}
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	if (enable)
		enable_irq(irq);
	mutex_unlock(&dt_irq_mutex);
	return slot;
}

/* After free_irq(): the kernel no longer calls dt_irq() for it. */
void dt_irq_free_end(struct dt_irq_slot *slot)
{
	dt_release(DT_IRQ, (unsigned long)slot, NULL, NULL);
	dt_irq_drop(slot);
}

/* Hook context: a free_irq() from outside the target (devres) of an IRQ it requested. */
bool dt_irq_claim_free(unsigned int irq, void *dev_id)
{
	struct dt_irq_slot *slot;
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	slot = dt_irq_find(irq, dev_id);
	ret = slot && !slot->freeing;
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	return ret;
}

/*
 * At the start of the target's timed wait (which may sleep): delivers the
 * held interrupt, if any, to the target's handler, then enables its line.
 */
void dt_irq_deliver(void)
{
	irq_handler_t handler = NULL;
	struct dt_irq_slot *slot;
	void *dev_id = NULL;
	unsigned int irq = 0;
	unsigned long flags;

	if (!READ_ONCE(dt_irq_hold))
		return;
	mutex_lock(&dt_irq_mutex);
	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	slot = dt_irq_hold;
	if (slot) {
		irq = slot->irq;
		dev_id = slot->dev_id;
		handler = slot->handler;
	}
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	if (!slot)
		goto out_unlock;

	/* The handler run that held it has ended; the line stays disabled. */
	synchronize_hardirq(irq);
	/* As in an interrupt: softirqs it raises run when it returns. */
	local_bh_disable();
	local_irq_save(flags);
	handler(irq, dev_id);
	local_irq_restore(flags);
	local_bh_enable();

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	dt_irq_unhold(slot);
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	enable_irq(irq);
out_unlock:
	mutex_unlock(&dt_irq_mutex);
}

/* Under dt_irq_lock: true when an interrupt could be held for a wait now. */
static bool dt_irq_holdable(void)
{
	int i;

	if (dt_irq_want || dt_irq_hold)
		return false;
	for (i = 0; i < DT_IRQ_SLOTS; i++) {
		const struct dt_irq_slot *slot = &dt_irq_slots[i];

		if (slot->used && slot->holdable && !slot->freeing)
			return true;
	}
	return false;
}

/* True when the target has an IRQ that could be held, and nothing is held or asked for. */
bool dt_irq_can_hold(void)
{
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	ret = dt_irq_holdable();
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	return ret;
}

/* Asks dt_irq() to hold the next interrupt; *@gen tells the wait when it did. */
bool dt_irq_request(unsigned long *gen)
{
	unsigned long flags;
	bool ret;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	ret = dt_irq_holdable();
	if (ret) {
		dt_irq_want = true;
		*gen = dt_irq_holds;
	}
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
	return ret;
}

/* True once an interrupt was held since dt_irq_request() returned @gen. */
bool dt_irq_held_since(unsigned long gen)
{
	return READ_ONCE(dt_irq_holds) != gen;
}

/* The wait ends without a hold: withdraws its request, unless already granted. */
void dt_irq_cancel(unsigned long gen)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	if (dt_irq_holds == gen)
		dt_irq_want = false;
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);
}

/*
 * The target is gone (its exit ran; its text is freed once the notifier
 * returns). An IRQ still requested is a leak, reported by the ledger: its
 * slot is cleared so that dt_irq() answers IRQ_NONE, a hold is ended (other
 * devices may share the line), and once no dt_irq() call is still under
 * way the target's handler cannot be reached any more. The reference on
 * dmatap stays: the kernel may call dt_irq() for as long as the IRQ is
 * requested.
 */
void dt_irq_detach(const char *target)
{
	struct dt_irq_slot gone[DT_IRQ_SLOTS];
	unsigned long flags;
	int i, n = 0;

	mutex_lock(&dt_irq_mutex);
	raw_spin_lock_irqsave(&dt_irq_lock, flags);
	dt_irq_want = false;
	for (i = 0; i < DT_IRQ_SLOTS; i++) {
		struct dt_irq_slot *slot = &dt_irq_slots[i];

		if (!slot->used)
			continue;
		gone[n++] = *slot;
		dt_irq_unhold(slot);
		memset(slot, 0, sizeof(*slot));
	}
	raw_spin_unlock_irqrestore(&dt_irq_lock, flags);

	for (i = 0; i < n; i++) {
		if (gone[i].held)
			enable_irq(gone[i].irq);
		if (gone[i].wrapped)
			synchronize_hardirq(gone[i].irq);
		if (gone[i].wrapped)
			pr_warn("dmatap: %s left IRQ %u requested: no longer passed on, dmatap stays loaded\n",
				target, gone[i].irq);
		else
			pr_warn("dmatap: %s left IRQ %u requested\n", target,
				gone[i].irq);
	}
	mutex_unlock(&dt_irq_mutex);
}
