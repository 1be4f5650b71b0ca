// SPDX-License-Identifier: GPL-2.0
/*
 * dmafault guest agent.
 *
 * Runs inside the test VM, reads one request line at a time on stdin and
 * answers each with exactly one line on stdout (see PROTOCOL.md). It never
 * forks and never exits on bad input: every failure is reported as ret -1
 * plus an errno.
 *
 * Handlers follow the syscall convention: they return a result >= 0, or -1
 * with errno set. The dispatcher turns that into the response line.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edu_dma.h"

#define MAX_LINE	(256 * 1024)
#define MAX_TOKENS	16
#define MAX_BUFS	64
#define HUGE_SIZE	(2UL * 1024 * 1024)
#define READFILE_MAX	(64 * 1024)
#define MAX_OPENED	1024
#define PAYLOAD_MAX	(2 * READFILE_MAX + 1)
#define HEADER_MAX	96
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define barrier()	__asm__ __volatile__("" ::: "memory")

struct buf {
	void *base;
	size_t len;
	int fd;
	bool used;
};

struct req {
	char **a;		/* arguments after the op name */
	int n;			/* number of arguments */
	int sub;		/* struct op.sub */
};

struct op {
	const char *name;
	int min_args;
	int max_args;
	int64_t (*fn)(const struct req *q);
	int sub;		/* variant selector for shared handlers */
};

struct kind {
	const char *name;
	int flags;
	bool huge;
	bool memfd;
};

struct pat_job {
	unsigned char *p;
	size_t len;
	uint64_t seed;
	uint64_t base;
	bool check;		/* false: fill */
	size_t bad;		/* check: first mismatch, SIZE_MAX if none */
	unsigned char exp;
	unsigned char act;
};

enum { RW_READ, RW_WRITE, RW_PREAD, RW_PWRITE };

static struct buf bufs[MAX_BUFS];
/* Descriptors `open` returned: the only ones `close` may close. */
static bool opened[MAX_OPENED];
/* Children `hammer` forked and `reap` has not waited for. */
static pid_t children[MAX_BUFS];
static size_t page_size;
/* Per thread: `race` runs ops on several threads at once. */
static __thread const char *reply;	/* optional payload of the response */
static __thread char payload[PAYLOAD_MAX];
static char out[PAYLOAD_MAX + HEADER_MAX];
static __thread unsigned char iobuf[MAX_LINE / 2];
static bool want_exit;

static __thread sigjmp_buf fault_env;
static __thread volatile sig_atomic_t in_guard;

static const struct kind kinds[] = {
	{ "anon",  MAP_PRIVATE | MAP_ANONYMOUS, false, false },
	{ "file",  MAP_SHARED, false, false },
	{ "memfd", MAP_SHARED, false, true },
	{ "huge",  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, true, false },
	{ "disk",  MAP_SHARED, false, false },
};

/* Byte pattern shared with the host; see PROTOCOL.md. */
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

static int64_t fail(int err)
{
	errno = err;
	return -1;
}

/* ---- argument parsing: -1 with errno EINVAL (EBADF for handles/fds) ---- */

/*
 * Numbers are decimal or 0x-hex, nothing else: strtoull's base 0 would read a
 * leading 0 as octal, so "010" would be 8.
 */
static int parse_num(const char *s, bool sign, uint64_t *u, int64_t *v)
{
	bool neg = sign && *s == '-';
	const char *d = neg ? s + 1 : s;
	int base = 10;
	uint64_t mag;
	char *end;

	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
		base = 16;
		d += 2;
		if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
			return fail(EINVAL);	/* strtoull would take a second 0x */
	}
	if (!isxdigit((unsigned char)*d) || (base == 10 && !isdigit((unsigned char)*d)))
		return fail(EINVAL);
	errno = 0;
	mag = strtoull(d, &end, base);
	if (errno || *end)
		return fail(EINVAL);
	if (!sign) {
		*u = mag;
		return 0;
	}
	if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return fail(EINVAL);
	*v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

static int arg_u(const char *s, uint64_t max, uint64_t *v)
{
	if (parse_num(s, false, v, NULL))
		return -1;
	return *v > max ? fail(EINVAL) : 0;
}

static int arg_i(const char *s, int64_t min, int64_t max, int64_t *v)
{
	if (parse_num(s, true, NULL, v))
		return -1;
	return (*v < min || *v > max) ? fail(EINVAL) : 0;
}

/* fds 0..2 are the protocol channel: refuse them with EBADF. */
static int arg_fd(const char *s, int *fd)
{
	int64_t v;

	if (arg_i(s, INT32_MIN, INT32_MAX, &v))
		return -1;
	*fd = v;
	return (v >= 0 && v <= 2) ? fail(EBADF) : 0;
}

static int arg_buf(const char *s, struct buf **b)
{
	uint64_t h;

	if (arg_u(s, UINT64_MAX, &h))
		return -1;
	if (h >= MAX_BUFS || !bufs[h].used)
		return fail(EBADF);
	*b = &bufs[h];
	return 0;
}

static int arg_prot(const char *s, int *prot)
{
	if (!strcmp(s, "rw"))
		*prot = PROT_READ | PROT_WRITE;
	else if (!strcmp(s, "r"))
		*prot = PROT_READ;
	else if (!strcmp(s, "none"))
		*prot = PROT_NONE;
	else
		return fail(EINVAL);
	return 0;
}

/*
 * "<h> <off> <len>" at a[0..2]: the range must lie inside the buffer, and
 * off/len must be multiples of align.
 */
static int arg_span(char **a, struct buf **b, uint64_t *off, uint64_t *len,
		    uint64_t align)
{
	if (arg_buf(a[0], b) || arg_u(a[1], UINT64_MAX, off) ||
	    arg_u(a[2], UINT64_MAX, len))
		return -1;
	if (*off > (*b)->len || *len > (*b)->len - *off ||
	    ((*off | *len) & (align - 1)))
		return fail(EINVAL);
	return 0;
}

/* base + off with wrap-around: tests may aim anywhere on purpose. */
static void *buf_addr(const struct buf *b, uint64_t off)
{
	return (void *)((uintptr_t)b->base + off);
}

/*
 * A user address as a handle and an offset into it, or, when the handle is the
 * word "raw", the offset itself (NULL, a kernel address: what bad input tests
 * pass on purpose).
 */
static int arg_addr(const char *h, const char *off, uint64_t *addr)
{
	struct buf *b;
	uint64_t o;

	if (!strcmp(h, "raw"))
		return arg_u(off, UINT64_MAX, addr);
	if (arg_buf(h, &b) || arg_u(off, UINT64_MAX, &o))
		return -1;
	*addr = (uintptr_t)buf_addr(b, o);
	return 0;
}

/* ---- fault guard around fill/check ---- */

static void fault_handler(int sig)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	if (in_guard)
		siglongjmp(fault_env, 1);
	/* Not ours: die on the re-executed fault as if unhandled. */
	sigaction(sig, &sa, NULL);
}

static void do_pat(struct pat_job *j)
{
	unsigned char e;
	size_t k;

	for (k = 0; k < j->len; k++) {
		e = pat(j->seed, j->base + k);
		if (!j->check) {
			j->p[k] = e;
		} else if (j->p[k] != e) {
			j->bad = k;
			j->exp = e;
			j->act = j->p[k];
			return;
		}
	}
}

/* Run do_pat(j); a SIGSEGV/SIGBUS inside it fails with EFAULT. */
static int guarded_pat(struct pat_job *j)
{
	if (sigsetjmp(fault_env, 0)) {
		in_guard = 0;
		return fail(EFAULT);
	}
	in_guard = 1;
	barrier();
	do_pat(j);
	barrier();
	in_guard = 0;
	return 0;
}

static int arg_job(char **a, struct pat_job *j)
{
	struct buf *b;
	uint64_t off, len;

	if (arg_span(a, &b, &off, &len, 1) ||
	    arg_u(a[3], UINT64_MAX, &j->seed) ||
	    arg_u(a[4], UINT64_MAX, &j->base))
		return -1;
	j->p = buf_addr(b, off);
	j->len = len;
	return 0;
}

/* ---- ops ---- */

static int64_t op_ping(const struct req *q)
{
	want_exit = q->sub;
	return 0;
}

static int make_fd(const struct kind *k, size_t len)
{
	char tmp[] = "/tmp/dmafault-XXXXXX", disk[] = "/mnt/disk/dmafault-XXXXXX";
	char *path = strcmp(k->name, "disk") ? tmp : disk;
	int fd, e;

	if (k->memfd) {
		fd = memfd_create("dmafault", MFD_CLOEXEC);
	} else {
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd >= 0 && ftruncate(fd, len)) {
		e = errno;
		close(fd);
		return fail(e);
	}
	return fd;
}

static int64_t map_buf(int h, const struct kind *k, size_t len, int prot)
{
	void *p;
	int fd = -1, e;

	if (!(k->flags & MAP_ANONYMOUS)) {
		fd = make_fd(k, len);
		if (fd < 0)
			return -1;
	}
	p = mmap(NULL, len, prot, k->flags, fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		if (fd >= 0)
			close(fd);
		return fail(e);
	}
	bufs[h] = (struct buf){ .base = p, .len = len, .fd = fd, .used = true };
	return h;
}

/* alloc <len> <kind> <prot> */
static int64_t op_alloc(const struct req *q)
{
	const struct kind *k = NULL;
	uint64_t len, align;
	size_t i;
	int prot, h;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(q->a[1], kinds[i].name))
			k = &kinds[i];
	if (arg_u(q->a[0], UINT64_MAX, &len) || arg_prot(q->a[2], &prot))
		return -1;
	align = (k && k->huge) ? HUGE_SIZE : page_size;
	if (!k || !len || len > SIZE_MAX - align)
		return fail(EINVAL);
	len = (len + align - 1) & ~(align - 1);
	for (h = 0; h < MAX_BUFS && bufs[h].used; h++)
		;
	if (h == MAX_BUFS)
		return fail(ENOSPC);
	return map_buf(h, k, len, prot);
}

static int64_t op_free(const struct req *q)
{
	struct buf *b;

	if (arg_buf(q->a[0], &b) || munmap(b->base, b->len))
		return -1;
	if (b->fd >= 0)
		close(b->fd);
	*b = (struct buf){ .fd = -1 };
	return 0;
}

/* fill|check <h> <off> <len> <seed> <base> */
static int64_t op_pat(const struct req *q)
{
	struct pat_job j = { .check = q->sub, .bad = SIZE_MAX };

	if (arg_job(q->a, &j) || guarded_pat(&j))
		return -1;
	if (!j.check)
		return 0;
	if (j.bad == SIZE_MAX)
		return fail(0);		/* all bytes match */
	snprintf(payload, sizeof(payload), "%02x:%02x", j.exp, j.act);
	reply = payload;
	return j.bad;
}

/* mprotect|munmap|madvise <h> <off> <len> [<prot>|<advice>] */
static int64_t op_vm(const struct req *q)
{
	struct buf *b;
	uint64_t off, len;
	int64_t advice;
	int prot;
	void *p;

	if (arg_span(q->a, &b, &off, &len, page_size))
		return -1;
	p = buf_addr(b, off);
	switch (q->sub) {
	case 'p':
		return arg_prot(q->a[3], &prot) ? -1 : mprotect(p, len, prot);
	case 'a':
		if (arg_i(q->a[3], INT32_MIN, INT32_MAX, &advice))
			return -1;
		return madvise(p, len, advice);
	default:
		return munmap(p, len);
	}
}

/* mincore <h> <off> <len>: off page-aligned, len rounded up to pages */
static int64_t op_mincore(const struct req *q)
{
	unsigned char *vec;
	struct buf *b;
	uint64_t off, len, pages, i;
	int64_t count = 0;
	int e;

	if (arg_span(q->a, &b, &off, &len, 1))
		return -1;
	if (off & (page_size - 1))
		return fail(EINVAL);
	pages = (len + page_size - 1) / page_size;
	vec = malloc(pages ? pages : 1);
	if (!vec)
		return fail(ENOMEM);
	if (mincore(buf_addr(b, off), len, vec)) {
		e = errno;
		free(vec);
		return fail(e);
	}
	for (i = 0; i < pages; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

/* r|w|rw -> open(2) access mode */
static int arg_open_mode(const char *s, int *flags)
{
	if (!strcmp(s, "r"))
		*flags = O_RDONLY;
	else if (!strcmp(s, "w"))
		*flags = O_WRONLY;
	else if (!strcmp(s, "rw"))
		*flags = O_RDWR;
	else
		return fail(EINVAL);
	return 0;
}

static int64_t op_open(const struct req *q)
{
	int flags, fd;

	if (arg_open_mode(q->a[1], &flags))
		return -1;
	fd = open(q->a[0], flags | O_CLOEXEC);
	if (fd >= MAX_OPENED) {
		close(fd);
		return fail(EMFILE);
	}
	if (fd >= 0)
		opened[fd] = true;
	return fd;
}

static int64_t op_close(const struct req *q)
{
	int fd;

	if (arg_fd(q->a[0], &fd))
		return -1;
	/* Buffers' own descriptors and the channel are not the caller's to close. */
	if (fd < 0 || fd >= MAX_OPENED || !opened[fd])
		return fail(EBADF);
	opened[fd] = false;
	return close(fd);
}

/* a: <len> <devoff> <flags> [<reserved>], all u32 */
static int64_t do_xfer(int fd, uint64_t addr, char **a, int n)
{
	struct edu_dma_xfer x = { .user_addr = addr };
	uint64_t v[4] = { 0 };
	int i;

	for (i = 0; i < n; i++)
		if (arg_u(a[i], UINT32_MAX, &v[i]))
			return -1;
	x.len = v[0];
	x.dev_offset = v[1];
	x.flags = v[2];
	x.reserved = v[3];
	return ioctl(fd, EDU_DMA_IOC_XFER, &x);
}

/* xfer <fd> <h> <off> ... | xfer_raw <fd> <addr> ... */
static int64_t op_xfer(const struct req *q)
{
	struct buf *b;
	uint64_t addr;
	int fd;

	if (arg_fd(q->a[0], &fd))
		return -1;
	if (q->sub) {
		if (arg_u(q->a[1], UINT64_MAX, &addr))
			return -1;
		return do_xfer(fd, addr, q->a + 2, q->n - 2);
	}
	if (arg_buf(q->a[1], &b) || arg_u(q->a[2], UINT64_MAX, &addr))
		return -1;
	return do_xfer(fd, (uintptr_t)buf_addr(b, addr), q->a + 3, q->n - 3);
}

/*
 * copy <fd> <hs> <offs> <hd> <offd> <len> [<flags> [<reserved>]]
 * copy_raw <fd> <src_addr> <dst_addr> <len> [<flags> [<reserved>]]
 */
static int64_t op_copy(const struct req *q)
{
	struct edu_dma_copy c = { 0 };
	uint64_t saddr, daddr, len, flags = 0, reserved = 0;
	char **a = q->a;
	int n = q->n, fd;

	if (arg_fd(a[0], &fd))
		return -1;
	if (q->sub) {
		if (arg_u(a[1], UINT64_MAX, &saddr) ||
		    arg_u(a[2], UINT64_MAX, &daddr))
			return -1;
		a += 3;
		n -= 3;
	} else {
		if (arg_addr(a[1], a[2], &saddr) || arg_addr(a[3], a[4], &daddr))
			return -1;
		a += 5;
		n -= 5;
	}
	if (arg_u(a[0], UINT32_MAX, &len) ||
	    (n > 1 && arg_u(a[1], UINT32_MAX, &flags)) ||
	    (n > 2 && arg_u(a[2], UINT64_MAX, &reserved)))
		return -1;
	c.src_addr = saddr;
	c.dst_addr = daddr;
	c.len = len;
	c.flags = flags;
	c.reserved = reserved;
	return ioctl(fd, EDU_DMA_IOC_COPY, &c);
}

/* buf_xfer <fd> <bufoff> <devoff> <len> <flags> */
static int64_t op_buf_xfer(const struct req *q)
{
	struct edu_dma_buf_xfer x;
	uint64_t v[4];
	int fd, i;

	if (arg_fd(q->a[0], &fd))
		return -1;
	for (i = 0; i < 4; i++)
		if (arg_u(q->a[i + 1], UINT32_MAX, &v[i]))
			return -1;
	x = (struct edu_dma_buf_xfer){ .buf_offset = v[0], .dev_offset = v[1],
				       .len = v[2], .flags = v[3] };
	return ioctl(fd, EDU_DMA_IOC_BUF_XFER, &x);
}

/* mapfd's prot: rw|r|none for MAP_SHARED, rwp|rp for MAP_PRIVATE */
static int arg_map_prot(const char *s, int *prot, int *flags)
{
	*flags = MAP_SHARED;
	if (!strcmp(s, "rwp") || !strcmp(s, "rp")) {
		*flags = MAP_PRIVATE;
		*prot = PROT_READ | (s[1] == 'w' ? PROT_WRITE : 0);
		return 0;
	}
	return arg_prot(s, prot);
}

/* mapfd <fd> <len> <off> <prot>: mapping of fd as a new handle */
static int64_t op_mapfd(const struct req *q)
{
	uint64_t len, off;
	int fd, prot, flags, h;
	void *p;

	if (arg_fd(q->a[0], &fd) || arg_u(q->a[1], SIZE_MAX, &len) ||
	    arg_u(q->a[2], INT64_MAX, &off) ||
	    arg_map_prot(q->a[3], &prot, &flags))
		return -1;
	for (h = 0; h < MAX_BUFS && bufs[h].used; h++)
		;
	if (h == MAX_BUFS)
		return fail(ENOSPC);
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return -1;
	bufs[h] = (struct buf){ .base = p, .len = len ? len : 1, .fd = -1,
				.used = true };
	return h;
}

#define TOUCH_SLOTS	(1024 / 64)

/*
 * Where each slot's maptouch maps its page: reserved (PROT_NONE) at start and
 * mapped over with MAP_FIXED, then reserved again. A plain mmap could take the
 * address of a page a concurrent munmap just freed, and a call on that page
 * would then find memory where its caller unmapped it.
 */
static unsigned char *touch_area;

static void *touch_reserve(void *p, size_t len)
{
	return mmap(p, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (p ? MAP_FIXED : 0), -1, 0);
}

/*
 * maptouch <fd> <seed> [slot]: one call that maps a page of fd (MAP_SHARED,
 * rw), writes 64 pattern bytes through it at slot's place in the page's last
 * KiB (slot 0: the last 64 bytes; edu_dma's read, write and BUF_XFER in a race
 * never reach there, and each actor has its own slot), checks them and
 * reserves the slot's address again: 0, or -1 with mmap's errno, or EFAULT
 * when the page faulted (the device went away under the mapping), or EIO when
 * the bytes read back differ.
 */
static int64_t op_maptouch(const struct req *q)
{
	struct pat_job j = { .len = 64, .bad = SIZE_MAX };
	uint64_t slot = 0;
	int fd, ret, e;
	void *at, *p;

	if (arg_fd(q->a[0], &fd) || arg_u(q->a[1], UINT64_MAX, &j.seed) ||
	    (q->n > 2 && arg_u(q->a[2], TOUCH_SLOTS - 1, &slot)))
		return -1;
	at = touch_area + slot * page_size;
	p = mmap(at, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		/* A failed MAP_FIXED may leave the slot unmapped. */
		e = errno;
		touch_reserve(at, page_size);
		return fail(e);
	}
	j.p = (unsigned char *)p + page_size - j.len * (slot + 1);
	ret = guarded_pat(&j);
	if (!ret) {
		j.check = true;
		ret = guarded_pat(&j);
	}
	if (touch_reserve(at, page_size) == MAP_FAILED) {
		/* Never keep the device's page mapped: it holds the file. */
		e = errno;
		munmap(at, page_size);
		return fail(e);
	}
	if (ret)
		return fail(EFAULT);
	return j.bad == SIZE_MAX ? 0 : fail(EIO);
}

/* lseek <fd> <off> <whence> */
static int64_t op_lseek(const struct req *q)
{
	int64_t off, whence;
	int fd;

	if (arg_fd(q->a[0], &fd) || arg_i(q->a[1], INT64_MIN, INT64_MAX, &off) ||
	    arg_i(q->a[2], 0, 4, &whence))
		return -1;
	return lseek(fd, off, whence);
}

/*
 * hammer <fd> <h> <off> <len> <devoff> <count>: fork a child that shares fd
 * and, count times, sends a pattern to the device and reads it back through
 * the same file; the child's exit status is the number of wrong round trips.
 * Returns the child's pid, for `reap`.
 */
static int64_t op_hammer(const struct req *q)
{
	struct edu_dma_xfer x = { 0 };
	struct pat_job j = { .check = false };
	uint64_t off, len, devoff, count, i, bad = 0;
	struct buf *b;
	pid_t pid;
	int fd;

	if (arg_fd(q->a[0], &fd) || arg_buf(q->a[1], &b) ||
	    arg_u(q->a[2], UINT64_MAX, &off) || arg_u(q->a[3], UINT32_MAX, &len) ||
	    arg_u(q->a[4], UINT32_MAX, &devoff) ||
	    arg_u(q->a[5], 1000000, &count))
		return -1;
	if (!len || off > b->len || len > (b->len - off) / 2)
		return fail(EINVAL);
	for (i = 0; i < ARRAY_SIZE(children) && children[i]; i++)
		;
	if (i == ARRAY_SIZE(children))
		return fail(EAGAIN);
	pid = fork();
	if (pid > 0)
		children[i] = pid;
	if (pid)
		return pid;
	x.len = len;
	x.dev_offset = devoff;
	for (i = 0; i < count; i++) {
		j = (struct pat_job){ .p = buf_addr(b, off), .len = len,
				      .seed = i + 1, .bad = SIZE_MAX };
		do_pat(&j);
		x.user_addr = (uintptr_t)j.p;
		x.flags = EDU_DMA_TO_DEVICE;
		if (ioctl(fd, EDU_DMA_IOC_XFER, &x)) {
			bad++;
			continue;
		}
		j.p += len;
		x.user_addr = (uintptr_t)j.p;
		x.flags = EDU_DMA_FROM_DEVICE;
		j.check = true;
		if (ioctl(fd, EDU_DMA_IOC_XFER, &x)) {
			bad++;
			continue;
		}
		do_pat(&j);
		bad += j.bad != SIZE_MAX;
	}
	_exit(bad > 255 ? 255 : (int)bad);
}

static void forget_child(uint64_t pid)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(children); i++)
		if ((uint64_t)children[i] == pid)
			children[i] = 0;
}

/* At exit: wait for every child that `reap` did not. */
static void reap_all(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(children); i++)
		if (children[i] > 0)
			waitpid(children[i], NULL, 0);
}

/* reap <pid>: wait for a child; ret is its exit status */
static int64_t op_reap(const struct req *q)
{
	uint64_t pid;
	int status;

	if (arg_u(q->a[0], INT32_MAX, &pid))
		return -1;
	if (waitpid((pid_t)pid, &status, 0) < 0)
		return -1;
	forget_child(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

static const struct op *find_op(const char *name);
static int split(char *line, char **tok);
static int hexval(char c);

/* The helper thread of `pageout`: it pages the range out while the driver waits. */
struct pager {
	char waiting[256];
	char release[256];
	void *addr;
	size_t len;
	int64_t resident;	/* pages still resident after MADV_PAGEOUT */
	bool paused;		/* the driver was seen waiting */
	volatile bool done;	/* the call returned: stop waiting */
	bool writeback;		/* msync (write back, keep) instead of MADV_PAGEOUT */
};

static bool read_flag(const char *path)
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
	unsigned char vec[1024];
	size_t i, pages = pg->len / page_size;
	int k, fd;

	for (k = 0; k < 20000 && !pg->done && !read_flag(pg->waiting); k++)
		usleep(500);
	pg->paused = read_flag(pg->waiting);
	if (!pg->paused)
		return NULL;
	if (pg->writeback)
		msync(pg->addr, pg->len, MS_SYNC);
	else
		madvise(pg->addr, pg->len, MADV_PAGEOUT);
	pg->resident = -1;
	if (pages <= sizeof(vec) && !mincore(pg->addr, pg->len, vec))
		for (pg->resident = 0, i = 0; i < pages; i++)
			pg->resident += vec[i] & 1;
	fd = open(pg->release, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			pg->resident = -2;
		close(fd);
	}
	return NULL;
}

/*
 * pageout <dir> <h> <off> <len> <op> [args...]: runs <op> while a thread
 * waits for the driver to pause at the pageout fault point (<dir>/waiting),
 * pages [off, off+len) of h out, and lets the driver go on (<dir>/release).
 * ret and errno are <op>'s; payload: paused=<0|1>,resident=<pages>.
 */
static int64_t op_pageout(const struct req *q)
{
	static struct pager pg;
	const struct op *inner;
	struct buf *b;
	uint64_t off, len, start;
	pthread_t thread;
	struct req r;
	int64_t ret;
	int err;

	if (arg_span(q->a + 1, &b, &off, &len, 1))
		return -1;
	inner = find_op(q->a[4]);
	r = (struct req){ .a = q->a + 5, .n = q->n - 5 };
	if (!inner || inner->fn == op_pageout || r.n < inner->min_args ||
	    r.n > inner->max_args)
		return fail(EINVAL);
	r.sub = inner->sub;
	start = off & ~(uint64_t)(page_size - 1);
	pg = (struct pager){ .addr = buf_addr(b, start),
			     .len = (off + len - start + page_size - 1) &
				    ~(page_size - 1),
			     .writeback = q->sub };
	if (pg.len > b->len - start)
		pg.len = b->len - start;
	snprintf(pg.waiting, sizeof(pg.waiting), "%s/waiting", q->a[0]);
	snprintf(pg.release, sizeof(pg.release), "%s/release", q->a[0]);
	err = pthread_create(&thread, NULL, pager_main, &pg);
	if (err)
		return fail(err);
	errno = 0;
	ret = inner->fn(&r);
	err = errno;
	pg.done = true;
	pthread_join(thread, NULL);
	snprintf(payload, sizeof(payload), "paused=%d,resident=%lld",
		 pg.paused, (long long)pg.resident);
	reply = payload;
	errno = err;
	return ret;
}

static int64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

/*
 * repeat <n> <op> [args...]: runs op n times; payload: "<elapsed>,<cpu>", ns
 * on the guest clock: the time that passed, and the time this thread ran
 * (user and kernel, from the scheduler's own count: no sleep, no interrupt).
 */
static int64_t op_repeat(const struct req *q)
{
	const struct op *inner = find_op(q->a[1]);
	struct timespec t0, t1, c0, c1;
	uint64_t n, i;
	struct req r;
	int64_t ret = 0;

	if (arg_u(q->a[0], 100000000, &n))
		return -1;
	r = (struct req){ .a = q->a + 2, .n = q->n - 2 };
	if (!inner || inner->fn == op_repeat || inner->fn == op_pageout ||
	    r.n < inner->min_args || r.n > inner->max_args)
		return fail(EINVAL);
	r.sub = inner->sub;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (i = 0; i < n && ret >= 0; i++)
		ret = inner->fn(&r);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(payload, sizeof(payload), "%lld,%lld",
		 (long long)ns_between(&t0, &t1), (long long)ns_between(&c0, &c1));
	reply = payload;
	return ret < 0 ? ret : 0;
}

static int64_t op_getpid(const struct req *q)
{
	(void)q;
	return getpid();
}


static int64_t op_ioctl_raw(const struct req *q)
{
	uint64_t cmd;
	int fd;

	if (arg_fd(q->a[0], &fd) || arg_u(q->a[1], UINT64_MAX, &cmd))
		return -1;
	return ioctl(fd, (unsigned long)cmd, (unsigned long)0);
}

/* read|write <fd> <h> <off> <len>, pread|pwrite ... <pos> */
static int64_t op_rw(const struct req *q)
{
	uint64_t addr, len;
	int64_t pos = 0;
	void *p;
	int fd;

	if (arg_fd(q->a[0], &fd) || arg_addr(q->a[1], q->a[2], &addr) ||
	    arg_u(q->a[3], UINT64_MAX, &len) ||
	    (q->n > 4 && arg_i(q->a[4], INT64_MIN, INT64_MAX, &pos)))
		return -1;
	p = (void *)(uintptr_t)addr;
	switch (q->sub) {
	case RW_READ:
		return read(fd, p, len);
	case RW_WRITE:
		return write(fd, p, len);
	case RW_PREAD:
		return pread(fd, p, len, pos);
	default:
		return pwrite(fd, p, len, pos);
	}
}

static int64_t op_readfile(const struct req *q)
{
	static const char hex[] = "0123456789abcdef";
	size_t total = 0, i;
	ssize_t got = 0;
	int fd, e;

	fd = open(q->a[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (total < READFILE_MAX) {
		got = read(fd, iobuf + total, READFILE_MAX - total);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		total += got;
	}
	/* A file longer than READFILE_MAX is refused, not cut short silently. */
	if (got > 0 && total == READFILE_MAX && read(fd, iobuf, 1) > 0)
		got = -1, errno = EFBIG;
	e = errno;
	close(fd);
	if (got < 0)
		return fail(e);
	for (i = 0; i < total; i++) {
		payload[2 * i] = hex[iobuf[i] >> 4];
		payload[2 * i + 1] = hex[iobuf[i] & 15];
	}
	payload[2 * total] = '\0';
	reply = total ? payload : NULL;
	return total;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex @s into iobuf; the byte count, or -1 EINVAL. */
static ssize_t unhex(const char *s)
{
	size_t len = strlen(s) / 2, i;
	int hi, lo;

	if (strlen(s) % 2 || len > sizeof(iobuf))
		return fail(EINVAL);
	for (i = 0; i < len; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return fail(EINVAL);
		iobuf[i] = hi << 4 | lo;
	}
	return len;
}

static int64_t op_writefile(const struct req *q)
{
	ssize_t len = unhex(q->a[1]), ret;
	int fd, e;

	if (len < 0)
		return -1;
	fd = open(q->a[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, iobuf, len);
	e = errno;
	close(fd);
	errno = e;
	return ret;
}

/*
 * writefd <fd> <hex>: one pwrite at offset 0 to a descriptor `open` returned.
 * A race writes sysfs through it: opening a file there would take the lowest
 * free descriptor, which may be one another thread just closed and still uses.
 */
static int64_t op_writefd(const struct req *q)
{
	ssize_t len;
	int fd;

	if (arg_fd(q->a[0], &fd))
		return -1;
	len = unhex(q->a[1]);
	return len < 0 ? -1 : pwrite(fd, iobuf, len, 0);
}

/*
 * rmmod <name>: delete_module(2), never forced (a module in use fails with
 * EWOULDBLOCK). insmodfd <fd>: finit_module(2) of a module file opened
 * before, without parameters. No shell and no path lookup, for races.
 */
static int64_t op_rmmod(const struct req *q)
{
	return syscall(SYS_delete_module, q->a[0], O_NONBLOCK);
}

static int64_t op_insmodfd(const struct req *q)
{
	int fd;

	if (arg_fd(q->a[0], &fd))
		return -1;
	return syscall(SYS_finit_module, fd, "", 0);
}

/*
 * open_as <uid> <path> <mode>: whether a process with only that uid and gid
 * (no groups, no capabilities) may open @path: 0, or the errno of open(2).
 */
static int64_t op_open_as(const struct req *q)
{
	uint64_t uid;
	int flags, status, fd;
	pid_t pid;

	if (arg_u(q->a[0], UINT32_MAX - 1, &uid))
		return -1;
	if (arg_open_mode(q->a[2], &flags))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))
			_exit(255);
		fd = open(q->a[1], flags | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
		return fail(EPERM);	/* could not drop privileges */
	return WEXITSTATUS(status) ? fail(WEXITSTATUS(status)) : 0;
}

/* fork: a child that exits at once (a fork while other threads pin and DMA) */
static int64_t op_fork(const struct req *q)
{
	int status;
	pid_t pid;

	(void)q;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(0);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

/*
 * race <hex>: the hex decodes to lines "<actor>[@<start>] <op> [args...]".
 * Each actor (0..RACE_ACTORS-1) is a thread that runs its lines in order; all
 * start together at a barrier; a line with a start (ns after the release)
 * waits for that time first: a recorded schedule replayed. Payload: per
 * line, in script order, "<ret>:<errno>:<start>:<end>" joined by ',', times
 * in ns since the start.
 */
#define RACE_ACTORS	5
#define RACE_STEPS	48

static const char *const race_ops[] = {
	"xfer", "copy", "buf_xfer", "read", "write", "pread", "pwrite",
	"close", "munmap", "fork", "writefd", "ping", "maptouch", "rmmod",
	"insmodfd",
};

struct race_step {
	int actor;
	uint64_t start;		/* ns after the release to start at, 0: at once */
	struct req q;
	char *tok[MAX_TOKENS];
	const struct op *op;
	int64_t ret;
	int err;
	uint64_t t0, t1;
};

struct race {
	struct race_step step[RACE_STEPS];
	int nsteps;
	/* The start: 0 wait, 1 run, -1 give up (a thread could not be made). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;
	struct timespec epoch;
};

struct race_actor {
	struct race *r;
	int id;
};

static uint64_t since(const struct timespec *epoch)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - epoch->tv_sec) * 1000000000ULL +
	       (uint64_t)t.tv_nsec - (uint64_t)epoch->tv_nsec;
}

/* Sleeps until @ns after @epoch (CLOCK_MONOTONIC), signals notwithstanding. */
static void sleep_until(const struct timespec *epoch, uint64_t ns)
{
	struct timespec t = {
		.tv_sec = epoch->tv_sec + (time_t)(ns / 1000000000ULL),
		.tv_nsec = epoch->tv_nsec + (long)(ns % 1000000000ULL),
	};

	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static void *race_main(void *arg)
{
	struct race_actor *a = arg;
	struct race *r = a->r;
	int i;

	pthread_mutex_lock(&r->lock);
	while (!r->go)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	if (r->go < 0)
		return NULL;
	for (i = 0; i < r->nsteps; i++) {
		struct race_step *s = &r->step[i];

		if (s->actor != a->id)
			continue;
		if (s->start)
			sleep_until(&r->epoch, s->start);
		s->t0 = since(&r->epoch);
		errno = 0;
		s->ret = s->op->fn(&s->q);
		s->err = s->ret < 0 ? errno : 0;
		s->t1 = since(&r->epoch);
	}
	return NULL;
}

static bool race_allowed(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(race_ops); i++)
		if (!strcmp(race_ops[i], name))
			return true;
	return false;
}

/* Parse one script line into @s; -1 EINVAL on a bad line. */
/* A line's "<actor>[@<start>]": the actor, and when to start (ns). */
static int race_actor_arg(char *tok, uint64_t *actor, uint64_t *start)
{
	char *at = strchr(tok, '@');

	*start = 0;
	if (at) {
		*at = '\0';
		if (arg_u(at + 1, UINT64_MAX / 2, start))
			return -1;
	}
	return arg_u(tok, RACE_ACTORS - 1, actor);
}

static int race_parse(char *line, struct race_step *s)
{
	int ntok = split(line, s->tok);
	uint64_t actor;

	if (ntok < 2 || ntok > MAX_TOKENS ||
	    race_actor_arg(s->tok[0], &actor, &s->start))
		return fail(EINVAL);
	s->actor = actor;
	if (!race_allowed(s->tok[1]))
		return fail(EINVAL);
	s->op = find_op(s->tok[1]);
	s->q = (struct req){ .a = s->tok + 2, .n = ntok - 2, .sub = s->op->sub };
	if (s->q.n < s->op->min_args || s->q.n > s->op->max_args)
		return fail(EINVAL);
	return 0;
}

static int64_t op_race(const struct req *q)
{
	struct race_actor actors[RACE_ACTORS];
	pthread_t threads[RACE_ACTORS];
	char *text, *line, *rest;
	struct race *r;
	size_t len, i, at = 0;
	int64_t ret = -1;
	int n, hi, lo, e = EINVAL, started = 0;

	len = strlen(q->a[0]) / 2;
	if (strlen(q->a[0]) % 2 || !len)
		return fail(EINVAL);
	text = calloc(1, len + 1);
	r = calloc(1, sizeof(*r));
	if (!text || !r)
		goto out_nomem;
	for (i = 0; i < len; i++) {
		hi = hexval(q->a[0][2 * i]);
		lo = hexval(q->a[0][2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto out;
		text[i] = (char)(hi << 4 | lo);
	}
	for (rest = text; (line = strsep(&rest, "\n")) != NULL;) {
		if (!*line)
			continue;
		if (r->nsteps == RACE_STEPS || race_parse(line, &r->step[r->nsteps]))
			goto out;
		r->nsteps++;
	}
	if (!r->nsteps)
		goto out;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	for (n = 0; n < RACE_ACTORS; n++) {
		actors[n] = (struct race_actor){ .r = r, .id = n };
		e = pthread_create(&threads[n], NULL, race_main, &actors[n]);
		if (e)
			break;
		started++;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->epoch);
	pthread_mutex_lock(&r->lock);
	r->go = started < RACE_ACTORS ? -1 : 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	for (n = 0; n < started; n++)
		pthread_join(threads[n], NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	if (started < RACE_ACTORS)
		goto out;
	for (i = 0; i < (size_t)r->nsteps; i++) {
		struct race_step *s = &r->step[i];

		at += snprintf(payload + at, sizeof(payload) - at,
			       "%s%" PRId64 ":%d:%" PRIu64 ":%" PRIu64,
			       i ? "," : "", s->ret, s->err, s->t0, s->t1);
	}
	reply = payload;
	ret = r->nsteps;
	e = 0;
out:
	free(text);
	free(r);
	return e ? fail(e) : ret;
out_nomem:
	free(text);
	free(r);
	return fail(ENOMEM);
}

static const struct op ops[] = {
	{ "ping",	0, 0, op_ping,		0 },
	{ "alloc",	3, 3, op_alloc,		0 },
	{ "free",	1, 1, op_free,		0 },
	{ "fill",	5, 5, op_pat,		0 },
	{ "check",	5, 5, op_pat,		1 },
	{ "mprotect",	4, 4, op_vm,		'p' },
	{ "munmap",	3, 3, op_vm,		'u' },
	{ "madvise",	4, 4, op_vm,		'a' },
	{ "mincore",	3, 3, op_mincore,	0 },
	{ "open",	2, 2, op_open,		0 },
	{ "close",	1, 1, op_close,		0 },
	{ "xfer",	6, 7, op_xfer,		0 },
	{ "xfer_raw",	5, 6, op_xfer,		1 },
	{ "ioctl_raw",	2, 2, op_ioctl_raw,	0 },
	{ "copy",	6, 8, op_copy,		0 },
	{ "copy_raw",	4, 6, op_copy,		1 },
	{ "buf_xfer",	5, 5, op_buf_xfer,	0 },
	{ "mapfd",	4, 4, op_mapfd,		0 },
	{ "maptouch",	2, 3, op_maptouch,	0 },
	{ "rmmod",	1, 1, op_rmmod,		0 },
	{ "insmodfd",	1, 1, op_insmodfd,	0 },
	{ "lseek",	3, 3, op_lseek,		0 },
	{ "hammer",	6, 6, op_hammer,	0 },
	{ "pageout",	5, 13, op_pageout,	0 },
	{ "writeback",	5, 13, op_pageout,	1 },
	{ "getpid",	0, 0, op_getpid,	0 },
	{ "repeat",	2, 14, op_repeat,	0 },
	{ "reap",	1, 1, op_reap,		0 },
	{ "read",	4, 4, op_rw,		RW_READ },
	{ "write",	4, 4, op_rw,		RW_WRITE },
	{ "pread",	5, 5, op_rw,		RW_PREAD },
	{ "pwrite",	5, 5, op_rw,		RW_PWRITE },
	{ "readfile",	1, 1, op_readfile,	0 },
	{ "writefile",	2, 2, op_writefile,	0 },
	{ "writefd",	2, 2, op_writefd,	0 },
	{ "fork",	0, 0, op_fork,		0 },
	{ "open_as",	3, 3, op_open_as,	0 },
	{ "race",	1, 1, op_race,		0 },
	{ "exit",	0, 0, op_ping,		1 },
};

/* ---- main loop ---- */

static void write_all(const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(1);	/* the host is gone */
		p += n;
		len -= n;
	}
}

/* One write(2) per response line, so the host sees it at once. */
static void respond(uint64_t id, int64_t ret, int err)
{
	size_t len, plen;

	len = snprintf(out, HEADER_MAX, "%" PRIu64 " %" PRId64 " %d",
		       id, ret, err);
	if (reply) {
		plen = strlen(reply);
		out[len++] = ' ';
		memcpy(out + len, reply, plen);
		len += plen;
	}
	out[len++] = '\n';
	write_all(out, len);
}

/* Split on spaces; stores at most MAX_TOKENS, returns the full count. */
static int split(char *line, char **tok)
{
	char *t;
	int n = 0;

	while ((t = strsep(&line, " ")) != NULL) {
		if (!*t)
			continue;
		if (n < MAX_TOKENS)
			tok[n] = t;
		n++;
	}
	return n;
}

static const struct op *find_op(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

/* Parse and run one request; returns like a syscall, sets *id. */
static int64_t dispatch(char *line, size_t len, uint64_t *id)
{
	char *tok[MAX_TOKENS];
	const struct op *op;
	struct req q;
	char idtok[24];
	size_t idlen;
	uint64_t v;
	int ntok;

	*id = 0;
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	/* The id first, so that every answer to a parseable id carries it. */
	idlen = strcspn(line, " ");
	if (idlen && idlen < sizeof(idtok)) {
		memcpy(idtok, line, idlen);
		idtok[idlen] = '\0';
		if (!parse_num(idtok, false, &v, NULL))
			*id = v;
	}
	if (len > MAX_LINE)
		return fail(E2BIG);
	ntok = split(line, tok);
	if (ntok < 1 || parse_num(tok[0], false, &v, NULL))
		return fail(EINVAL);
	if (ntok < 2)
		return fail(EINVAL);
	op = find_op(tok[1]);
	if (!op)
		return fail(ENOSYS);
	q = (struct req){ .a = tok + 2, .n = ntok - 2, .sub = op->sub };
	if (q.n < op->min_args || q.n > op->max_args)
		return fail(EINVAL);
	errno = 0;
	return op->fn(&q);
}

static void note_signal(int sig)
{
	(void)sig;
}

static void setup(void)
{
	struct sigaction sa = { .sa_handler = fault_handler };
	int h;

	/* SA_NODEFER: nothing to unmask on siglongjmp, so sigsetjmp(, 0). */
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* SIGUSR1 interrupts a blocking call (no SA_RESTART): tests use it. */
	sa.sa_handler = note_signal;
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	touch_area = touch_reserve(NULL, TOUCH_SLOTS * page_size);
	if (touch_area == MAP_FAILED) {
		perror("agent: reserving maptouch's pages");
		exit(1);
	}
	for (h = 0; h < MAX_BUFS; h++)
		bufs[h].fd = -1;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	uint64_t id;
	int64_t ret;
	ssize_t n;

	setup();
	for (;;) {
		errno = 0;
		n = getline(&line, &cap, stdin);
		if (n < 0 && errno == EINTR && !feof(stdin)) {
			clearerr(stdin);
			continue;
		}
		if (n < 0)
			break;
		reply = NULL;
		ret = dispatch(line, n, &id);
		respond(id, ret, ret < 0 ? errno : 0);
		if (want_exit)
			break;
		if (cap > 2 * MAX_LINE) {
			/* Do not keep a huge line's memory around. */
			free(line);
			line = NULL;
			cap = 0;
		}
	}
	reap_all();
	return ferror(stdin) ? 1 : 0;
}
