// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - the edu device's DMA engine: one transfer at a time, completed by
 * interrupt. Callers take it with edu_engine_lock() and hold edu->dma_lock.
 */

#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>

#include "edu_drv.h"

#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_DMA_CMD_START	BIT(0)
#define EDU_DMA_CMD_TO_RAM	BIT(1)
#define EDU_DMA_CMD_IRQ		BIT(2)

/* Device address of the memory window. */
#define EDU_MEM_BASE		0x40000

/* edu completes every DMA 100 ms after it starts; a wedged engine gets ten times that. */
#define EDU_DMA_STOP_MS		1000

static unsigned int dma_timeout_ms = 2000;
module_param(dma_timeout_ms, uint, 0644);
MODULE_PARM_DESC(dma_timeout_ms, "Time a DMA may take before the call fails with -ETIMEDOUT");

/*
 * Takes the DMA engine (edu->dma_lock), or fails with -ERESTARTSYS on a
 * signal: one that arrives while waiting, or one already pending, which the
 * mutex alone would only notice if it had to sleep.
 */
int edu_engine_lock(struct edu_dev *edu)
{
	/* Fault point: a real signal for the caller, right before the wait. */
	dmafi_signal(&edu->fi);
	if (signal_pending(current) || mutex_lock_interruptible(&edu->dma_lock)) {
		edu_site(engine_lock_intr);
		return -ERESTARTSYS;
	}
	return 0;
}

/*
 * No completion in time. If the engine still runs, it may write memory at
 * any moment: mark the device wedged, so the caller keeps the memory until
 * remove. If it is idle, nothing touches memory and the caller may release;
 * but the DMA may have ended after the wait gave up, and its interrupt may
 * still be on its way: it would complete the next DMA's wait at once, while
 * the device still works on it. Acknowledge it here and wait for a handler
 * already running; a late handler then finds nothing to complete.
 */
static int edu_dma_timed_out(struct edu_dev *edu, u32 len)
{
	if (ioread32(edu->mmio + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) {
		edu_site(dma_timeout_busy);
		dev_err(&edu->pdev->dev, "DMA of %u bytes did not complete\n", len);
		edu->wedged = true;
	} else {
		iowrite32(EDU_IRQ_DMA, edu->mmio + EDU_REG_IRQ_ACK);
		synchronize_irq(edu->irq);
		atomic_long_dec(&edu->ledger.dma_in_flight);
	}
	return -ETIMEDOUT;
}

/*
 * Fault point irq_late: the DMA completes, but its interrupt is held back
 * (the line is disabled before the DMA starts) until the next DMA has
 * started, as when the wait's timeout runs out just before the interrupt
 * comes. The wait gives up once the engine is idle, which is the case
 * edu_dma_timed_out() must leave no stale completion behind for. One
 * interrupt is held at a time; remove ends a hold the next DMA did not.
 */
static bool edu_irq_hold(struct edu_dev *edu)
{
	if (edu->irq_held || !dmafi_should_fail(&edu->fi, DMAFI_IRQ_LATE))
		return false;
	disable_irq(edu->irq);
	edu->irq_held = true;
	return true;
}

static void edu_irq_release(struct edu_dev *edu)
{
	if (!edu->irq_held)
		return;
	edu->irq_held = false;
	enable_irq(edu->irq);
}

/* Waits for the engine to go idle, at most as long as a DMA may take. */
static void edu_dma_wait_idle(struct edu_dev *edu)
{
	unsigned long end = jiffies + msecs_to_jiffies(dma_timeout_ms);

	while ((ioread32(edu->mmio + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) &&
	       time_before(jiffies, end))
		msleep(20);
}

/*
 * Called by remove with bus mastering off. A DMA that timed out may still
 * run: let it end (it can no longer reach memory), or it would complete
 * later, after a new probe, and overwrite the next user's device memory.
 */
void edu_engine_stop(struct edu_dev *edu)
{
	unsigned long end = jiffies + msecs_to_jiffies(EDU_DMA_STOP_MS);

	edu_irq_release(edu);
	if (!edu->wedged)
		return;
	while (ioread32(edu->mmio + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) {
		/* Only a device that is not edu runs a DMA for so long. */
		if (WARN_ON_ONCE(time_after(jiffies, end)))
			return;
		msleep(20);
	}
}

/*
 * Runs one DMA between @ram (a DMA address) and the window at @dev_off, and
 * sleeps until the completion interrupt. On -ETIMEDOUT with edu->wedged set,
 * the device may still access @ram: the caller must keep that memory until
 * the device is stopped.
 */
int edu_dma_run(struct edu_dev *edu, dma_addr_t ram, u32 dev_off, u32 len,
		bool to_ram)
{
	u64 dev_addr = EDU_MEM_BASE + dev_off;
	u32 cmd = EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ;
	bool late;

	lockdep_assert_held(&edu->dma_lock);

	/* A zero-length DMA or one reaching past the window aborts QEMU 7.2. */
	if (WARN_ON_ONCE(!len || len > EDU_DMA_WINDOW_SIZE ||
			 dev_off > EDU_DMA_WINDOW_SIZE - len))
		return -EINVAL;
	if (edu->wedged) {
		edu_site(dma_wedged);
		return -EIO;
	}

	if (to_ram)
		cmd |= EDU_DMA_CMD_TO_RAM;

	reinit_completion(&edu->dma_done);
	writeq(to_ram ? dev_addr : ram, edu->mmio + EDU_REG_DMA_SRC);
	writeq(to_ram ? ram : dev_addr, edu->mmio + EDU_REG_DMA_DST);
	writeq(len, edu->mmio + EDU_REG_DMA_COUNT);
	atomic_long_inc(&edu->ledger.dma_in_flight);
	/* Fault point: a device that never completes (the DMA is not started). */
	if (!dmafi_should_fail(&edu->fi, DMAFI_DMA_TIMEOUT)) {
		late = edu_irq_hold(edu);
		iowrite32(cmd, edu->mmio + EDU_REG_DMA_CMD);
		if (late) {
			edu_dma_wait_idle(edu);
			goto timed_out;
		}
		/* An earlier DMA's held interrupt comes now. */
		edu_irq_release(edu);
	}

	if (!wait_for_completion_timeout(&edu->dma_done,
					 msecs_to_jiffies(dma_timeout_ms)))
		goto timed_out;

	atomic_long_dec(&edu->ledger.dma_in_flight);
	atomic_long_inc(&edu->ledger.dmas_total);
	return 0;

timed_out:
	edu_site(dma_timeout);
	return edu_dma_timed_out(edu, len);
}

/*
 * Moves @len bytes between the window at @dev_off and the DMA-mapped segments
 * starting at *@sg + *@sg_off, one DMA per contiguous piece, and advances the
 * cursor past them. The mapped list must hold at least @len more bytes.
 */
int edu_dma_sg(struct edu_dev *edu, struct scatterlist **sg, u32 *sg_off,
	       u32 dev_off, u32 len, bool to_ram)
{
	u32 piece;
	int ret;

	while (len) {
		if (WARN_ON_ONCE(!*sg))
			return -EINVAL;
		piece = min(len, sg_dma_len(*sg) - *sg_off);
		ret = edu_dma_run(edu, sg_dma_address(*sg) + *sg_off, dev_off,
				  piece, to_ram);
		if (ret)
			return ret;
		dev_off += piece;
		len -= piece;
		*sg_off += piece;
		if (*sg_off == sg_dma_len(*sg)) {
			*sg = sg_next(*sg);
			*sg_off = 0;
		}
	}
	return 0;
}
