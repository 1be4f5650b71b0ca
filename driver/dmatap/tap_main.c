// SPDX-License-Identifier: GPL-2.0
/*
 * dmatap - intercepts one target module's DMA-lifecycle calls.
 *
 * The target is named by the module parameter "target" and must be loaded
 * after dmatap: a module notifier sees it come (MODULE_STATE_COMING), and
 * only then are the hooks installed. One ftrace_ops with IPMODIFY covers
 * every intercepted function that has an fentry site; a function without
 * one (lib/ is built without fentry) gets a kprobe. Either handler looks at
 * the return address: a call from the target's text is sent to dmatap's
 * wrapper of the same prototype, which counts, injects faults and calls the
 * real function; a call from anywhere else goes on untouched, except that a
 * release of an object the target holds (a tail call from the target hides
 * the caller) is taken off the ledger by its key: in the ftrace handler, or,
 * since a kprobe handler runs as an NMI, in an "elsewhere" entry the kprobe
 * sends the call to.
 *
 * When the target goes (MODULE_STATE_GOING, after its exit function ran),
 * the hooks are removed and whatever it still holds is reported as findings.
 * While a target is loaded dmatap holds a reference on itself, so it cannot
 * be unloaded under the target's calls: rmmod of dmatap then fails with
 * EBUSY/EAGAIN until the target is gone.
 */

#include <linux/debugfs.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/trace_recursion.h>

#include "dmatap.h"

static char target[MODULE_NAME_LEN];
module_param_string(target, target, sizeof(target), 0444);
MODULE_PARM_DESC(target, "Name of the module whose DMA calls are intercepted");

/* The target's text while it is loaded; replaced (RCU) when its init text goes. */
struct dt_target {
	struct rcu_head rcu;
	unsigned long core;
	unsigned long core_size;
	unsigned long init;
	unsigned long init_size;
	char name[MODULE_NAME_LEN];
};

static struct dt_target __rcu *dt_target;

/* Serialises attaching to and detaching from the target. */
static DEFINE_MUTEX(dt_attach_lock);
static bool dt_attached;
static struct dentry *dt_debugfs;

/*
 * True when @addr lies in the target's text. Called with preemption off
 * (hooks) or on (wrappers); dt_target is freed only after an RCU grace period.
 */
bool notrace dt_from_target(unsigned long addr)
{
	const struct dt_target *t;
	bool ret = false;

	rcu_read_lock_sched_notrace();
	t = rcu_dereference_sched(dt_target);
	if (t)
		ret = addr - t->core < t->core_size ||
		      addr - t->init < t->init_size;
	rcu_read_unlock_sched_notrace();
	return ret;
}

/*
 * Names @addr for user space: @where gets "<module>+0x<offset>" (offset from
 * the start of the module's core text, or "<module>.init+0x<offset>"), @sym
 * "<symbol>+0x<off>/0x<size>". Never an address.
 */
void dt_where(unsigned long addr, char *where, char *sym)
{
	const struct dt_target *t;
	char *mod;

	strscpy(where, "?", DT_WHERE_LEN);
	rcu_read_lock_sched();
	t = rcu_dereference_sched(dt_target);
	if (t && addr - t->core < t->core_size)
		snprintf(where, DT_WHERE_LEN, "%s+0x%lx", t->name,
			 addr - t->core);
	else if (t && addr - t->init < t->init_size)
		snprintf(where, DT_WHERE_LEN, "%s.init+0x%lx", t->name,
			 addr - t->init);
	rcu_read_unlock_sched();

	snprintf(sym, DT_SYM_LEN, "%pB", (void *)addr);
	/* Without a symbol, %pB prints the address itself: never show that. */
	if (!strncmp(sym, "0x", 2)) {
		strscpy(sym, "?", DT_SYM_LEN);
		return;
	}
	mod = strchr(sym, ' ');
	if (mod)
		*mod = '\0';
}

static struct kprobe *dt_kprobes[DT_FN_NR];
static unsigned int dt_nr_kprobes;
static unsigned int dt_nr_ftrace;

#ifdef CONFIG_DYNAMIC_FTRACE_WITH_REGS
/*
 * Calls from the target go to the wrapper, and so do calls from elsewhere
 * that a claim hook takes (free_irq() by devres of the target's IRQ); releases
 * from elsewhere are matched by key, except dmatap's own: a wrapper's call of the real function
 * was taken off the ledger by the wrapper already (pins are counted, so a
 * second match would release a pin the target still holds). The ftrace
 * handler runs in the caller's context, so only a call from an NMI is left
 * alone (dt_lock is not NMI-safe).
 */
static void notrace dt_dispatch(struct dt_hook *hook, unsigned long ret_addr,
				struct pt_regs *regs, bool *redirect)
{
	*redirect = dt_from_target(ret_addr);
	if (*redirect || (!hook->release && !hook->claim) || in_nmi() ||
	    dt_inside_lock() || within_module(ret_addr, THIS_MODULE))
		return;
	if (hook->release)
		hook->release(regs);
	if (hook->claim)
		*redirect = hook->claim(regs);
}

static void notrace dt_ftrace_handler(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	bool redirect;
	int bit, fn;

	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	/* ip is the fentry site: the function's first instruction, or after an endbr. */
	for (fn = 0; fn < DT_FN_NR; fn++) {
		struct dt_hook *hook = &dt_hooks[fn];

		if (!hook->ftrace || ip - hook->func >= 16)
			continue;
		if (regs) {
			dt_dispatch(hook, parent_ip, regs, &redirect);
			if (redirect)
				ftrace_instruction_pointer_set(fregs,
							       hook->wrapper);
		}
		break;
	}
	ftrace_test_recursion_unlock(bit);
}

static struct ftrace_ops dt_ops = {
	.func	= dt_ftrace_handler,
	.flags	= FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		  FTRACE_OPS_FL_RCU | FTRACE_OPS_FL_PERMANENT,
};

/*
 * Chooses ftrace for every function that has an fentry site (the filter
 * refuses the others with -EINVAL) and a kprobe for the rest.
 */
static int dt_filter_init(void)
{
	int fn, ret;

	dt_nr_ftrace = 0;
	for (fn = 0; fn < DT_FN_NR; fn++) {
		struct dt_hook *hook = &dt_hooks[fn];

		ret = ftrace_set_filter_ip(&dt_ops, hook->func, 0, 0);
		if (ret && ret != -EINVAL)
			goto err_free;
		hook->ftrace = !ret;
		if (!ret)
			dt_nr_ftrace++;
	}
	return 0;

err_free:
	ftrace_free_filter(&dt_ops);
	return ret;
}

static void dt_filter_exit(void)
{
	ftrace_free_filter(&dt_ops);
}

static int dt_ftrace_register(void)
{
	return dt_nr_ftrace ? register_ftrace_function(&dt_ops) : 0;
}

static void dt_ftrace_unregister(void)
{
	if (dt_nr_ftrace)
		unregister_ftrace_function(&dt_ops);
}
#else
/* A kernel without ftrace (dmafault's debug flavour): kprobes everywhere. */
static int dt_filter_init(void)
{
	dt_nr_ftrace = 0;
	return 0;
}

static void dt_filter_exit(void)
{
}

static int dt_ftrace_register(void)
{
	return 0;
}

static void dt_ftrace_unregister(void)
{
}
#endif /* CONFIG_DYNAMIC_FTRACE_WITH_REGS */

/*
 * Whether a call from outside the target goes to the hook's "elsewhere"
 * entry (tap_wrap.c), which does the release or claim in the caller's own
 * context: the pre-handler cannot, as on x86 it runs in the int3 exception,
 * entered as an NMI (exc_int3() calls irqentry_nmi_enter(), so in_nmi() is
 * true here), where dt_lock may not be taken. Not for dmatap's own calls,
 * nor for a call made in an NMI or under dt_lock on this CPU, and only while
 * the target holds objects of the kind the function releases.
 */
static bool notrace dt_kprobe_elsewhere(const struct dt_hook *hook,
					struct kprobe *kp,
					unsigned long ret_addr)
{
	unsigned int nmi = in_nmi() >> NMI_SHIFT;

	/* The int3 itself counts one level (not so on an ftrace-based probe). */
	if (nmi && !kprobe_ftrace(kp))
		nmi--;
	return hook->elsewhere && !nmi && dt_holds(hook->holds) &&
	       !dt_inside_lock() && !within_module(ret_addr, THIS_MODULE);
}

/*
 * A kprobe at the first instruction of the function: the return address is
 * on top of the stack. Returning 1 after changing the instruction pointer
 * skips the single-step, so the wrapper (or the elsewhere entry) runs
 * instead, with the caller's return address still on the stack.
 */
static int notrace dt_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct dt_hook *hook = container_of(kp, struct dt_hook, kp);
	unsigned long ret_addr = *(unsigned long *)kernel_stack_pointer(regs);
	unsigned long to;

	if (dt_from_target(ret_addr))
		to = hook->wrapper;
	else if (dt_kprobe_elsewhere(hook, kp, ret_addr))
		to = hook->elsewhere;
	else
		return 0;
	instruction_pointer_set(regs, to);
	return 1;
}

/*
 * Does nothing, but its presence keeps the probe from being optimised into
 * a jump, whose handler ignores a changed instruction pointer.
 */
static void dt_kprobe_post(struct kprobe *kp, struct pt_regs *regs,
			   unsigned long flags)
{
}

/* Installs the hooks: the ftrace_ops, then the kprobes. */
static int dt_hooks_register(void)
{
	unsigned int fn;
	int ret;

	dt_nr_kprobes = 0;
	for (fn = 0; fn < DT_FN_NR; fn++) {
		struct dt_hook *hook = &dt_hooks[fn];

		if (hook->ftrace)
			continue;
		memset(&hook->kp, 0, sizeof(hook->kp));
		hook->kp.addr = (kprobe_opcode_t *)hook->func;
		hook->kp.pre_handler = dt_kprobe_pre;
		hook->kp.post_handler = dt_kprobe_post;
		dt_kprobes[dt_nr_kprobes++] = &hook->kp;
	}

	ret = dt_ftrace_register();
	if (ret) {
		pr_err("dmatap: cannot register the ftrace hooks (%d)\n", ret);
		return ret;
	}
	if (dt_nr_kprobes) {
		ret = register_kprobes(dt_kprobes, dt_nr_kprobes);
		if (ret) {
			pr_err("dmatap: cannot register the kprobes (%d)\n", ret);
			goto err_ftrace;
		}
	}
	return 0;

err_ftrace:
	dt_ftrace_unregister();
	return ret;
}

/* Removes the hooks in reverse order; each unregister waits for running handlers. */
static void dt_hooks_unregister(void)
{
	if (dt_nr_kprobes)
		unregister_kprobes(dt_kprobes, dt_nr_kprobes);
	dt_ftrace_unregister();
}

static int dt_attach(struct module *mod)
{
	struct dt_target *t;
	int ret;

	mutex_lock(&dt_attach_lock);
	ret = -EBUSY;
	if (dt_attached)
		goto out_unlock;
	/* dmatap stays loaded for as long as the target is. */
	ret = -ENODEV;
	if (!try_module_get(THIS_MODULE))
		goto out_unlock;
	ret = -ENOMEM;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		goto err_put;
	strscpy(t->name, mod->name, sizeof(t->name));
	t->core = (unsigned long)mod->core_layout.base;
	t->core_size = mod->core_layout.text_size;
	t->init = (unsigned long)mod->init_layout.base;
	t->init_size = mod->init_layout.text_size;

	dt_ledger_start();
	rcu_assign_pointer(dt_target, t);
	ret = dt_hooks_register();
	if (ret)
		goto err_target;
	dt_attached = true;
	pr_info("dmatap: intercepting %s (%u ftrace, %u kprobe hooks)\n",
		mod->name, dt_nr_ftrace, dt_nr_kprobes);
	mutex_unlock(&dt_attach_lock);
	return 0;

err_target:
	RCU_INIT_POINTER(dt_target, NULL);
	synchronize_rcu();
	kfree(t);
err_put:
	module_put(THIS_MODULE);
out_unlock:
	mutex_unlock(&dt_attach_lock);
	return ret;
}

/* The target's init text is about to be freed: stop matching it. */
static void dt_forget_init(void)
{
	struct dt_target *t, *old;

	mutex_lock(&dt_attach_lock);
	old = rcu_dereference_protected(dt_target,
					lockdep_is_held(&dt_attach_lock));
	if (!old)
		goto out_unlock;
	t = kmemdup(old, sizeof(*t), GFP_KERNEL);
	if (!t) {
		/* Keep matching it: the module loader frees it only after a grace period. */
		goto out_unlock;
	}
	t->init = 0;
	t->init_size = 0;
	rcu_assign_pointer(dt_target, t);
	kfree_rcu(old, rcu);
out_unlock:
	mutex_unlock(&dt_attach_lock);
}

static void dt_detach(void)
{
	struct dt_target *t;

	mutex_lock(&dt_attach_lock);
	if (!dt_attached)
		goto out_unlock;
	dt_hooks_unregister();
	dt_report_held(DT_HELD_AT_UNLOAD);
	t = rcu_dereference_protected(dt_target,
				      lockdep_is_held(&dt_attach_lock));
	/* Before the target's text goes: no interrupt reaches its handler. */
	dt_irq_detach(t->name);
	RCU_INIT_POINTER(dt_target, NULL);
	synchronize_rcu();
	kfree(t);
	dt_attached = false;
	module_put(THIS_MODULE);
out_unlock:
	mutex_unlock(&dt_attach_lock);
}

static int dt_module_event(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, target))
		return NOTIFY_DONE;
	switch (state) {
	case MODULE_STATE_COMING:
		return notifier_from_errno(dt_attach(mod));
	case MODULE_STATE_LIVE:
		dt_forget_init();
		break;
	case MODULE_STATE_GOING:
		dt_detach();
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block dt_module_nb = {
	.notifier_call = dt_module_event,
};

/*
 * "<function> ftrace", or "<function> kprobe missed=<n>": how each function
 * is intercepted; a kprobe hit while another kprobe's handler ran on that CPU
 * is not handled (the call goes on untouched), and counted in nmissed.
 */
static int dt_hooks_show(struct seq_file *s, void *unused)
{
	int fn;

	for (fn = 0; fn < DT_FN_NR; fn++) {
		const struct dt_hook *hook = &dt_hooks[fn];

		if (hook->ftrace)
			seq_printf(s, "%s ftrace\n", hook->name);
		else
			seq_printf(s, "%s kprobe missed=%lu\n", hook->name,
				   READ_ONCE(hook->kp.nmissed));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dt_hooks);

static int __init dt_init(void)
{
	int ret;

	if (!target[0]) {
		pr_err("dmatap: no target: load with target=<module>\n");
		return -EINVAL;
	}
	dt_hooks_init();
	ret = dt_filter_init();
	if (ret)
		return ret;

	dt_debugfs = debugfs_create_dir("dmatap", NULL);
	ret = dt_ledger_init(dt_debugfs);
	if (ret)
		goto err_debugfs;
	dt_faults_init(dt_debugfs);
	debugfs_create_file("hooks", 0400, dt_debugfs, NULL, &dt_hooks_fops);

	ret = register_module_notifier(&dt_module_nb);
	if (ret)
		goto err_faults;
	return 0;

err_faults:
	debugfs_remove_recursive(dt_debugfs);
	dt_faults_exit();
	dt_ledger_exit();
	dt_filter_exit();
	return ret;

err_debugfs:
	debugfs_remove_recursive(dt_debugfs);
	dt_filter_exit();
	return ret;
}

/* Only reached with no target loaded: a loaded target holds a reference on dmatap. */
static void __exit dt_exit(void)
{
	unregister_module_notifier(&dt_module_nb);
	debugfs_remove_recursive(dt_debugfs);
	dt_faults_exit();
	dt_ledger_exit();
	dt_filter_exit();
}

module_init(dt_init);
module_exit(dt_exit);

MODULE_DESCRIPTION("Intercepts one module's DMA-lifecycle calls: ledger, findings, fault injection");
MODULE_LICENSE("GPL");
