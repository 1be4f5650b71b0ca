/*
 * The runtime of a dmafault reproducer: each helper performs one step of the
 * recorded failure with plain system calls, and finish() judges the run the
 * way dmafault's oracles do: the result each step must have, the data, what
 * the driver and the kernel still hold, and the kernel log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Not every reproducer uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#define MAX_BUFS	64
#define MAX_FDS		1024
#define HUGE_SIZE	(2UL << 20)

enum kind { ANON, FILE_BACKED, MEMFD, HUGE, DISK };

struct buf {
	unsigned char *base;
	size_t len;
	int fd;
};

static struct buf bufs[MAX_BUFS];
static int fds[MAX_FDS];
static int failures, step_no, verbose;

/* The byte pattern dmafault fills and checks buffers with. */
static unsigned char pat(uint64_t seed, uint64_t i)
{
	uint32_t x;

	x = ((uint32_t)seed * 0x9E3779B1u) ^ (uint32_t)(seed >> 32) ^
	    ((uint32_t)i * 0x85EBCA77u) ^ ((uint32_t)(i >> 32) * 0xC2B2AE3Du);
	x ^= x >> 15;
	x *= 0x2C1B3C6Du;
	x ^= x >> 12;
	x *= 0x297A2D39u;
	x ^= x >> 15;
	return x & 0xff;
}

static void die(const char *what)
{
	fprintf(stderr, "reproducer: step %d: %s: %s\n", step_no, what, strerror(errno));
	exit(2);
}

/* ---- the steps ---- */

static void buf_alloc(int h, size_t len, enum kind kind, int prot)
{
	char tmp[] = "/tmp/repro-XXXXXX", disk[] = "/mnt/disk/repro-XXXXXX";
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
	size_t align = kind == HUGE ? HUGE_SIZE : (size_t)getpagesize();

	len = (len + align - 1) & ~(align - 1);
	if (kind == HUGE)
		flags |= MAP_HUGETLB;
	if (kind == FILE_BACKED || kind == DISK || kind == MEMFD) {
		flags = MAP_SHARED;
		if (kind == MEMFD) {
			fd = memfd_create("repro", MFD_CLOEXEC);
		} else {
			fd = mkostemp(kind == DISK ? disk : tmp, O_CLOEXEC);
			if (fd >= 0)
				unlink(kind == DISK ? disk : tmp);
		}
		if (fd < 0 || ftruncate(fd, len))
			die("creating the file behind a buffer");
	}
	bufs[h].base = mmap(NULL, len, prot, flags, fd, 0);
	if (bufs[h].base == MAP_FAILED)
		die("mmap");
	bufs[h].len = len;
	bufs[h].fd = fd;
}

static int64_t buf_free(int h)
{
	if (munmap(bufs[h].base, bufs[h].len))
		return -1;
	if (bufs[h].fd >= 0)
		close(bufs[h].fd);
	bufs[h] = (struct buf){ .fd = -1 };
	return 0;
}

static uint64_t addr(int h, uint64_t off)
{
	return (uintptr_t)bufs[h].base + off;
}

static void fill(int h, size_t off, size_t len, uint64_t seed, uint64_t base)
{
	size_t k;

	for (k = 0; k < len; k++)
		bufs[h].base[off + k] = pat(seed, base + k);
}

/* -1 when all bytes match, else the index of the first one that does not. */
static int64_t check(int h, size_t off, size_t len, uint64_t seed, uint64_t base)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (bufs[h].base[off + k] != pat(seed, base + k))
			return k;
	errno = 0;
	return -1;
}

static int64_t xfer(int fd, uint64_t user_addr, uint32_t len, uint32_t dev_offset,
		    uint32_t flags, uint32_t reserved)
{
	struct edu_dma_xfer x = { .user_addr = user_addr, .len = len,
				  .dev_offset = dev_offset, .flags = flags,
				  .reserved = reserved };

	return ioctl(fd, EDU_DMA_IOC_XFER, &x);
}

static int64_t copy(int fd, uint64_t src, uint64_t dst, uint32_t len,
		    uint32_t flags, uint64_t reserved)
{
	struct edu_dma_copy c = { .src_addr = src, .dst_addr = dst, .len = len,
				  .flags = flags, .reserved = reserved };

	return ioctl(fd, EDU_DMA_IOC_COPY, &c);
}

static int64_t buf_xfer(int fd, uint32_t buf_offset, uint32_t dev_offset,
			uint32_t len, uint32_t flags)
{
	struct edu_dma_buf_xfer x = { .buf_offset = buf_offset,
				      .dev_offset = dev_offset, .len = len,
				      .flags = flags };

	return ioctl(fd, EDU_DMA_IOC_BUF_XFER, &x);
}

static int64_t map_fd(int h, int fd, size_t len, off_t off, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		return -1;
	bufs[h] = (struct buf){ .base = p, .len = len ? len : 1, .fd = -1 };
	return h;
}

static int64_t mincore_pages(int h, size_t off, size_t len)
{
	size_t pages = (len + getpagesize() - 1) / getpagesize(), i;
	unsigned char vec[4096];
	int64_t n = 0;

	if (pages > sizeof(vec) || mincore(bufs[h].base + off, len, vec))
		return -1;
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

/* Writes `text` to a debugfs, sysfs or procfs file in one write(2). */
static int64_t write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n;
}

static int64_t write_num(const char *path, long long value)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", value);
	return write_file(path, text);
}

static int64_t sh(const char *command)
{
	int status = system(command);

	return status == -1 ? -1 : WEXITSTATUS(status);
}

/*
 * The pager: while the next step runs, a thread waits for the driver to pause
 * at its pageout (or writeback) fault point, pages the buffer out (or writes
 * it back), then lets the driver go on.
 */
struct pager {
	pthread_t thread;
	char waiting[256], release[256];
	void *addr;
	size_t len;
	bool writeback;
	volatile bool done;
	bool paused;
};

static bool flag_set(const char *path)
{
	char c = '0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c == '1';
}

static void *pager_main(void *arg)
{
	struct pager *pg = arg;
	int k;

	for (k = 0; k < 20000 && !pg->done && !flag_set(pg->waiting); k++)
		usleep(500);
	pg->paused = flag_set(pg->waiting);
	if (!pg->paused)
		return NULL;
	if (pg->writeback)
		msync(pg->addr, pg->len, MS_SYNC);
	else
		madvise(pg->addr, pg->len, MADV_PAGEOUT);
	write_file(pg->release, "1");
	return NULL;
}

static void pager_start(struct pager *pg, const char *point_dir, int h,
			size_t off, size_t len, bool writeback)
{
	size_t page = getpagesize(), start = off & ~(page - 1);

	*pg = (struct pager){ .addr = bufs[h].base + start, .writeback = writeback,
			      .len = (off + len - start + page - 1) & ~(page - 1) };
	if (pg->len > bufs[h].len - start)
		pg->len = bufs[h].len - start;
	snprintf(pg->waiting, sizeof(pg->waiting), "%s/waiting", point_dir);
	snprintf(pg->release, sizeof(pg->release), "%s/release", point_dir);
	if (pthread_create(&pg->thread, NULL, pager_main, pg))
		die("pthread_create");
}

static void pager_end(struct pager *pg)
{
	int saved = errno;

	pg->done = true;
	pthread_join(pg->thread, NULL);
	if (verbose)
		printf("  (the driver %s)\n", pg->paused ? "paused; the buffer was paged out or written back" : "did not pause");
	errno = saved;
}

/* ---- races: calls on several threads at once ---- */

enum race_op { R_XFER, R_COPY, R_BUF_XFER, R_PREAD, R_PWRITE, R_READ, R_WRITE,
	       R_CLOSE, R_MUNMAP, R_FORK, R_WRITEFD, R_PING, R_MAPTOUCH,
	       R_RMMOD, R_INSMODFD };

/* One call of an actor; p[] are its arguments in the helper's order. */
struct race_step {
	int actor;
	enum race_op op;
	int fd;
	uint64_t p[5];
	const char *text;
	int64_t ret;
	int err;
	uint64_t start_us;	/* when the failing run started it, after the release */
};

#define RACE_ACTORS	5

struct race {
	struct race_step *steps;
	int n, actor;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *go;
	const struct timespec *epoch;
};

/* A fault while touching a mapping ends the touch with EFAULT (per thread). */
static __thread sigjmp_buf touch_env;
static __thread volatile sig_atomic_t touching;

static void on_touch_fault(int sig)
{
	if (!touching) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(touch_env, 1);
}

/*
 * Each slot's page address, reserved (PROT_NONE) before a race starts: a
 * maptouch maps over its own with MAP_FIXED and reserves it again, so it
 * never takes the address of a page a concurrent munmap freed (as the agent).
 */
static unsigned char *touch_area;

static void *touch_reserve(void *p, size_t len)
{
	return mmap(p, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (p ? MAP_FIXED : 0), -1, 0);
}

/*
 * Maps a page of fd, writes 64 bytes through it at slot's place in the page's
 * last KiB (slot 0: the last 64) and reads them back, reserves the page
 * again: 0, -1 with mmap's errno, EFAULT if the page faulted, EIO if the
 * bytes differ (as the agent's maptouch).
 */
static int64_t maptouch(int fd, uint64_t seed, uint64_t slot)
{
	struct sigaction sa = { .sa_handler = on_touch_fault };
	long page = sysconf(_SC_PAGESIZE);
	long end = page - 64 * (long)(slot % 16);
	unsigned char *at = touch_area + (slot % 16) * page;
	volatile unsigned char *p;
	int ret = 0, i, e;

	p = mmap(at, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		/* A failed MAP_FIXED may leave the slot unmapped. */
		e = errno;
		touch_reserve(at, page);
		errno = e;
		return -1;
	}
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	/* Saving the signal mask (1) unblocks the fault's signal again on the way out. */
	if (sigsetjmp(touch_env, 1)) {
		ret = EFAULT;
	} else {
		touching = 1;
		for (i = end - 64; i < end; i++)
			p[i] = (unsigned char)(seed + i);
		for (i = end - 64; i < end && !ret; i++)
			if (p[i] != (unsigned char)(seed + i))
				ret = EIO;
	}
	touching = 0;
	if (touch_reserve(at, page) == MAP_FAILED)
		munmap(at, page);	/* never keep the device's page mapped */
	if (ret)
		errno = ret;
	return ret ? -1 : 0;
}

static int64_t race_call(struct race_step *s)
{
	int status;
	pid_t pid;

	switch (s->op) {
	case R_XFER:
		return xfer(s->fd, s->p[0], s->p[1], s->p[2], s->p[3], s->p[4]);
	case R_COPY:
		return copy(s->fd, s->p[0], s->p[1], s->p[2], s->p[3], s->p[4]);
	case R_BUF_XFER:
		return buf_xfer(s->fd, s->p[0], s->p[1], s->p[2], s->p[3]);
	case R_PREAD:
		return pread(s->fd, (void *)s->p[0], s->p[1], s->p[2]);
	case R_PWRITE:
		return pwrite(s->fd, (void *)s->p[0], s->p[1], s->p[2]);
	case R_READ:
		return read(s->fd, (void *)s->p[0], s->p[1]);
	case R_WRITE:
		return write(s->fd, (void *)s->p[0], s->p[1]);
	case R_CLOSE:
		return close(s->fd);
	case R_MUNMAP:
		return munmap((void *)s->p[0], s->p[1]);
	case R_FORK:
		pid = fork();
		if (pid < 0)
			return -1;
		if (!pid)
			_exit(0);
		return waitpid(pid, &status, 0) < 0 ? -1 : 0;
	case R_WRITEFD:
		return pwrite(s->fd, s->text, strlen(s->text), 0);
	case R_PING:
		return 0;
	case R_MAPTOUCH:
		return maptouch(s->fd, s->p[0], s->p[1]);
	case R_RMMOD:
		return syscall(SYS_delete_module, s->text, O_NONBLOCK);
	case R_INSMODFD:
		return syscall(SYS_finit_module, s->fd, "", 0);
	}
	return -1;
}

static void *race_actor(void *arg)
{
	struct race *a = arg;
	int i;

	pthread_mutex_lock(a->lock);
	while (!*a->go)
		pthread_cond_wait(a->cond, a->lock);
	pthread_mutex_unlock(a->lock);
	for (i = 0; i < a->n; i++) {
		struct race_step *s = &a->steps[i];

		if (s->actor != a->actor)
			continue;
		if (s->start_us) {
			struct timespec t = *a->epoch;

			t.tv_sec += s->start_us / 1000000;
			t.tv_nsec += (long)(s->start_us % 1000000) * 1000;
			if (t.tv_nsec >= 1000000000L) {
				t.tv_sec++;
				t.tv_nsec -= 1000000000L;
			}
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
				;
		}
		errno = 0;
		s->ret = race_call(s);
		s->err = s->ret < 0 ? errno : 0;
	}
	return NULL;
}

/*
 * Runs each actor's calls in order on its own thread, all released together,
 * as dmafault's agent did, each call no earlier than the failing run started
 * it. What happens between overlapping calls in the kernel is not fixed: a
 * race reproduces with some probability; run the program a few times.
 */
static int64_t race_run(struct race_step *steps, int n)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct race actors[RACE_ACTORS];
	pthread_t threads[RACE_ACTORS];
	struct timespec epoch;
	int go = 0, i;

	if (!touch_area) {
		touch_area = touch_reserve(NULL, 16 * sysconf(_SC_PAGESIZE));
		if (touch_area == MAP_FAILED)
			die("mmap");
	}
	for (i = 0; i < RACE_ACTORS; i++) {
		actors[i] = (struct race){ steps, n, i, &lock, &cond, &go, &epoch };
		if (pthread_create(&threads[i], NULL, race_actor, &actors[i]))
			die("pthread_create");
	}
	pthread_mutex_lock(&lock);
	clock_gettime(CLOCK_MONOTONIC, &epoch);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < RACE_ACTORS; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < n; i++)
		if (verbose)
			printf("    actor %d call %d: ret %lld errno %d\n", steps[i].actor, i,
			       (long long)steps[i].ret, steps[i].err);
	return n;
}

/* ---- the oracles ---- */

/*
 * Each step is also written to the kernel log (/dev/kmsg, at warning level so
 * that a console at loglevel 5 prints it), so that the console shows where the
 * program got to when the kernel reports a bug and the program dies with it.
 */
static int kmsg_out = -1;

static void step(const char *what)
{
	step_no++;
	if (verbose)
		printf("%3d %s\n", step_no, what);
	/* One write() a record: dprintf() fails here (its lseek(SEEK_CUR) on /dev/kmsg is EINVAL). */
	if (kmsg_out >= 0) {
		char rec[256];
		int n = snprintf(rec, sizeof(rec), "<4>dmafault-repro: step %d: %s\n", step_no, what);

		if (n > 0 && write(kmsg_out, rec, n < (int)sizeof(rec) ? (size_t)n : sizeof(rec) - 1) < 0)
			kmsg_out = -1;
	}
}

static void mismatch(const char *fmt, ...)
{
	va_list ap;

	failures++;
	printf("FAIL step %d: ", step_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* The step must return exactly `ret` (and `err` when it returns -1). */
static void expect_ret(int64_t got, int64_t ret, int err)
{
	int e = errno;

	if (got != ret || (ret == -1 && e != err))
		mismatch("returned %lld (errno %d %s), expected %lld%s%s", (long long)got,
			 got < 0 ? e : 0, got < 0 ? strerror(e) : "", (long long)ret,
			 ret == -1 ? " errno " : "", ret == -1 ? strerror(err) : "");
}

/* The step must succeed. */
static void expect_ok(int64_t got)
{
	if (got < 0)
		mismatch("failed: %s", strerror(errno));
}

/* A shell command must succeed (exit status 0), or must fail. */
static void expect_exit(int64_t status, bool success)
{
	if ((status == 0) != success)
		mismatch("exit status %lld, expected %s", (long long)status, success ? "0" : "a failure");
}

/* Every byte must match the pattern. */
static void expect_match(int64_t got)
{
	if (got != -1)
		mismatch("data differs at byte %lld", (long long)got);
}

struct counters {
	long long ledger[6];
	long long pins_acquired, pins_released, swiotlb_used;
	bool have_ledger;
};

static const char *const held[6] = { "pinned_pages", "sg_tables", "dma_mappings",
				     "coherent_buffers", "dma_in_flight", "quarantined" };
static struct counters start;
static int kmsg = -1;

static long long value_of(const char *path, const char *key, bool *found)
{
	char line[256], name[128];
	long long v, out = 0;
	FILE *f = fopen(path, "re");

	*found = false;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lld", name, &v) == 2 && !strcmp(name, key)) {
			out = v;
			*found = true;
		}
	fclose(f);
	return out;
}

static void read_counters(struct counters *c)
{
	bool found;
	int i;

	write_file("/proc/sys/vm/stat_refresh", "1");
	c->have_ledger = true;
	for (i = 0; i < 6; i++) {
		c->ledger[i] = value_of(DEVICE_DEBUGFS "/ledger", held[i], &found);
		c->have_ledger &= found;
	}
	c->pins_acquired = value_of("/proc/vmstat", "nr_foll_pin_acquired", &found);
	c->pins_released = value_of("/proc/vmstat", "nr_foll_pin_released", &found);
	c->swiotlb_used = -1;
	{
		FILE *f = fopen("/sys/kernel/debug/swiotlb/io_tlb_used", "re");

		if (f) {
			if (fscanf(f, "%lld", &c->swiotlb_used) != 1)
				c->swiotlb_used = -1;
			fclose(f);
		}
	}
}

static void on_signal(int sig)
{
	(void)sig;
}

static void begin(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		verbose |= !strcmp(argv[i], "-v");
	for (i = 0; i < MAX_BUFS; i++)
		bufs[i].fd = -1;
	for (i = 0; i < MAX_FDS; i++)
		fds[i] = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A SIGUSR1 interrupts the call in progress (no SA_RESTART), as in dmafault's agent. */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	kmsg_out = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	/* Writes to /dev/kmsg are rate-limited to 10 in 5 s by default: every step must show. */
	write_file("/proc/sys/kernel/printk_devkmsg", "on\n");
	read_counters(&start);
}

/* Kernel log lines that must never appear (dmafault's crash table). */
static const char *const reports[] = {
	"Kernel panic - not syncing", "BUG: ", "kernel BUG at ", "Oops: ",
	"general protection fault", "WARNING: ", "DMAR: [DMA Read",
	"DMAR: [DMA Write", "swiotlb buffer is full", " overflow ",
};

static void check_kernel_log(void)
{
	char rec[8192];
	ssize_t n;
	size_t i;

	if (kmsg < 0)
		return;
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
			if (strstr(msg, reports[i])) {
				failures++;
				printf("FAIL kernel log: %s", msg);
				break;
			}
	}
}

static int finish(void)
{
	struct counters end;
	int i;

	read_counters(&end);
	if (start.have_ledger && end.have_ledger)
		for (i = 0; i < 6; i++)
			if (end.ledger[i] != start.ledger[i]) {
				failures++;
				printf("FAIL leak: ledger %s %lld -> %lld\n", held[i],
				       start.ledger[i], end.ledger[i]);
			}
	if (!end.have_ledger)
		printf("note: %s/ledger is not readable at the end; the driver's ledger was not compared\n",
		       DEVICE_DEBUGFS);
	if (end.pins_acquired - end.pins_released != start.pins_acquired - start.pins_released) {
		failures++;
		printf("FAIL leak: pages still pinned (FOLL_PIN acquired - released) %lld -> %lld\n",
		       start.pins_acquired - start.pins_released,
		       end.pins_acquired - end.pins_released);
	}
	if (end.swiotlb_used != start.swiotlb_used) {
		failures++;
		printf("FAIL leak: swiotlb slots in use %lld -> %lld\n", start.swiotlb_used,
		       end.swiotlb_used);
	}
	check_kernel_log();
	if (failures) {
		printf("REPRODUCED: %d check(s) failed\n", failures);
		return 1;
	}
	printf("not reproduced: every step returned what it should, nothing leaked, the kernel log is clean\n");
	return 0;
}
