/*
 * livehelper: the LiveKernel fixture's hands. The C# fixture drives it over stdin/stdout with one line per
 * command and one reply line per command ("ok key=value ..." or "fail reason"). It holds every mapping,
 * io_uring ring, pipe and forked child itself, so the .NET runtime never forks. Raw syscalls only (no liburing).
 *
 * Every mutating command is measured: stat_refresh, read nr_foll_pin_{acquired,released}, run the syscall,
 * stat_refresh, read again; the reply carries res (result or -errno), dacq, drel and vmpin (kB). Before each
 * measured command the global baseline acq - rel is compared with what this helper expects (its start value
 * plus every net pin it measured); when something else on the machine moved it, the helper retries (bounded)
 * and reports base=moved if it never settled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAXR 64
#define MAXRING 16
#define MAXPIPE 16
#define MAXIOV 16
#define HUGE2M (2UL << 20)

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

struct region { int live; int kind; char *start; size_t len; char *resv; size_t resvlen; };
struct ring { int fd; long net; };
struct pipe_ { int fd[2]; };

static struct region regions[MAXR];
static struct ring rings[MAXRING];
static struct pipe_ pipes[MAXPIPE];
static char *hole;            /* a PROT_NONE range: every address in it faults */
static char *scratch;         /* local side of process_vm_* (1 MiB, touched) */
static int dio_fd = -1, buf_fd = -1;
static int pm_fd = -1, kpf_fd = -1;
static long expected_net;     /* acq - rel this helper expects globally */
static long start_net;        /* acq - rel when the helper started */

static void stat_refresh(void)
{
    int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "1", 1) < 0) { /* ignored: reported through the counters */ }
        close(fd);
    }
}

static void counters(long *acq, long *rel)
{
    char buf[16384];
    *acq = *rel = -1;
    stat_refresh();
    int fd = open("/proc/vmstat", O_RDONLY);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    char *p = strstr(buf, "nr_foll_pin_acquired ");
    if (p) *acq = atol(p + 21);
    p = strstr(buf, "nr_foll_pin_released ");
    if (p) *rel = atol(p + 21);
}

static long vmpin_kb(void)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strstr(buf, "VmPin:");
    return p ? atol(p + 6) : -1;
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Wait until acq - rel equals expected_net; bounded. Returns 1 when settled. */
static int settle(long *acq, long *rel)
{
    for (int i = 0; i < 200; i++) {
        counters(acq, rel);
        if (*acq - *rel == expected_net) return 1;
        msleep(5);
    }
    return 0;
}

static int retries_total;

/* The measured frame around one operation. */
struct meas { long a0, r0, a1, r1; int base_ok; };

static void begin(struct meas *m)
{
    long a, r;
    counters(&a, &r);
    if (a - r != expected_net) {
        retries_total++;
        m->base_ok = settle(&a, &r);
    } else {
        m->base_ok = 1;
    }
    m->a0 = a; m->r0 = r;
}

static void end(struct meas *m, long res, const char *extra)
{
    counters(&m->a1, &m->r1);
    long dacq = m->a1 - m->a0, drel = m->r1 - m->r0;
    expected_net += dacq - drel;
    printf("ok res=%ld dacq=%ld drel=%ld vmpin=%ld base=%s%s%s\n", res, dacq, drel, vmpin_kb(),
           m->base_ok ? "ok" : "moved", extra && *extra ? " " : "", extra ? extra : "");
}

static char *addr_of(int r, long off)
{
    if (r < 0) return hole + off;
    return regions[r].start + off;
}

/* Parse "n r off len r off len ..." into iovecs. Returns count or -1. */
static int parse_iovs(char **save, struct iovec *iov)
{
    char *t = strtok_r(NULL, " \n", save);
    if (!t) return -1;
    int n = atoi(t);
    if (n < 0 || n > MAXIOV) return -1;
    for (int i = 0; i < n; i++) {
        char *a = strtok_r(NULL, " \n", save), *b = strtok_r(NULL, " \n", save), *c = strtok_r(NULL, " \n", save);
        if (!a || !b || !c) return -1;
        int r = atoi(a);
        if (r >= MAXR || (r >= 0 && !regions[r].live)) return -1;
        iov[i].iov_base = addr_of(r, atol(b));
        iov[i].iov_len = (size_t)atol(c);
    }
    return n;
}

static uint64_t pagemap_entry(int fd, uintptr_t va)
{
    uint64_t e = 0;
    if (pread(fd, &e, 8, (off_t)(va / PAGE) * 8) != 8) return 0;
    return e;
}

static uint64_t kpageflags(uint64_t pfn)
{
    uint64_t f = 0;
    if (pread(kpf_fd, &f, 8, (off_t)pfn * 8) != 8) return 0;
    return f;
}

#define PFN(e) ((e) & ((1ULL << 55) - 1))
#define PRESENT(e) (((e) >> 63) & 1)
#define KPF_LRU 5
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_ZERO_PAGE 24
#define KPF_ANON_EXCL 34 /* KPF_MAPPEDTODISK = PG_owner_2 = PG_anon_exclusive on anon pages */
#define KPF_ANON 12

/* Append c to an RLE string. */
static void rle_put(char *out, size_t cap, char *last, long *count, char c, int flush)
{
    if (!flush && c == *last) { (*count)++; return; }
    if (*count > 0) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%c%ld", *last, *count);
    }
    *last = c; *count = flush ? 0 : 1;
}

/*
 * The flags that decide a page's state: its folio's. Since stable_page_flags() reads folio->flags (fs/proc/page.c of
 * 6.12.118), a tail page's kpageflags already are its head's; older kernels report each page's own flags (6.1.192
 * reads page->flags), where PG_anon_exclusive of a hugetlb folio lives on its head only (PageAnonExclusive() of
 * 6.1's page-flags.h refuses a hugetlb tail) and a PMD-mapped THP's on its head too. So a tail page takes its head's
 * exclusive bit here, which changes nothing on the newer kernels and reads the older ones the way they read
 * themselves. A tail's head is that of the page frame before it (compound pages are physically contiguous);
 * *prev_pfn and *prev_head carry that from the previous call.
 */
static uint64_t folio_flags(uint64_t pfn, uint64_t f, uint64_t *prev_pfn, uint64_t *prev_head)
{
    uint64_t head = pfn;
    if ((f >> KPF_COMPOUND_TAIL) & 1) {
        if (*prev_pfn != UINT64_MAX && pfn == *prev_pfn + 1) {
            head = *prev_head;
        } else {
            uint64_t q = pfn;
            while (q > 0 && pfn - q < 1024 && !((kpageflags(q - 1) >> KPF_COMPOUND_HEAD) & 1)) q--;
            head = q > 0 && pfn - q < 1024 ? q - 1 : pfn;
        }
    }
    *prev_pfn = pfn;
    *prev_head = head;
    if (head == pfn) return f;
    uint64_t h = kpageflags(head);
    return (f & ~(1ULL << KPF_ANON_EXCL)) | (h & (1ULL << KPF_ANON_EXCL));
}

/* Per page: '-' not present, 'z' zero page, 'x' anon exclusive, 's' anon not exclusive, 'o' other.
 * Layout: 'p' small, 'h' compound head, 't' compound tail, '-' not present. */
static void region_state(int r, char *st, char *lay, size_t cap)
{
    char l1 = 0, l2 = 0; long c1 = 0, c2 = 0;
    uint64_t prev_pfn = UINT64_MAX, prev_head = 0;
    st[0] = lay[0] = 0;
    size_t pages = regions[r].len / PAGE;
    uint64_t *e = malloc(pages * 8);
    if (!e) return;
    if (pread(pm_fd, e, pages * 8, (off_t)((uintptr_t)regions[r].start / PAGE) * 8) != (ssize_t)(pages * 8))
        memset(e, 0, pages * 8);
    for (size_t i = 0; i < pages; i++) {
        char s = '-', y = '-';
        if (PRESENT(e[i])) {
            uint64_t f = folio_flags(PFN(e[i]), kpageflags(PFN(e[i])), &prev_pfn, &prev_head);
            if ((f >> KPF_ZERO_PAGE) & 1) s = 'z';
            else if ((f >> KPF_ANON) & 1) s = ((f >> KPF_ANON_EXCL) & 1) ? 'x' : 's';
            else s = 'o';
            y = ((f >> KPF_COMPOUND_HEAD) & 1) ? 'h' : ((f >> KPF_COMPOUND_TAIL) & 1) ? 't' : 'p';
        }
        rle_put(st, cap, &l1, &c1, s, 0);
        rle_put(lay, cap, &l2, &c2, y, 0);
    }
    rle_put(st, cap, &l1, &c1, 0, 1);
    rle_put(lay, cap, &l2, &c2, 0, 1);
    free(e);
}

static long do_map(int id, int kind, long pages)
{
    size_t len = (size_t)pages * PAGE, align = kind == 1 || kind == 3 ? HUGE2M : kind == 2 ? 65536 : PAGE;
    size_t resvlen = len + 2 * align + PAGE;
    char *resv = mmap(NULL, resvlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (resv == MAP_FAILED) return -errno;
    uintptr_t s = ((uintptr_t)resv + PAGE + align - 1) & ~(uintptr_t)(align - 1);
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (kind == 3 ? MAP_HUGETLB : 0);
    char *p = mmap((void *)s, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) {
        long err = -errno;
        munmap(resv, resvlen);
        return err;
    }
    if (kind == 0) madvise(p, len, MADV_NOHUGEPAGE);
    if (kind == 1 || kind == 2) madvise(p, len, MADV_HUGEPAGE);
    if (kind != 0) {
        for (size_t o = 0; o < len; o += PAGE) p[o] = 1;
    }
    regions[id] = (struct region){ 1, kind, p, len, resv, resvlen };
    return 0;
}

static void drop_region(int id)
{
    if (!regions[id].live) return;
    munmap(regions[id].start, regions[id].len);
    munmap(regions[id].resv, regions[id].resvlen);
    regions[id].live = 0;
}

static int ring_setup(void)
{
    unsigned char params[120];
    memset(params, 0, sizeof params);
    return (int)syscall(425, 4, params);
}

/* fork and compare: child blocks on a pipe; parent reads the child's pagemap. */
static void do_fork(void)
{
    struct meas m;
    begin(&m);
    int p[2];
    if (pipe(p) < 0) { end(&m, -errno, ""); return; }
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) {
        long err = -errno;
        close(p[0]); close(p[1]);
        end(&m, err, "");
        return;
    }
    if (c == 0) {
        char x;
        close(p[1]);
        while (read(p[0], &x, 1) < 0 && errno == EINTR) { }
        _exit(0);
    }
    close(p[0]);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)c);
    int cfd = open(path, O_RDONLY);
    static char extra[1 << 16];
    extra[0] = 0;
    for (int r = 0; r < MAXR; r++) {
        if (!regions[r].live) continue;
        size_t pages = regions[r].len / PAGE;
        char out[8192]; char last = 0; long cnt = 0;
        out[0] = 0;
        for (size_t i = 0; i < pages; i++) {
            uintptr_t va = (uintptr_t)regions[r].start + i * PAGE;
            uint64_t pe = pagemap_entry(pm_fd, va), ce = cfd >= 0 ? pagemap_entry(cfd, va) : 0;
            char ch = !PRESENT(pe) || !PRESENT(ce) ? '-' : PFN(pe) == PFN(ce) ? 'S' : 'C';
            rle_put(out, sizeof out, &last, &cnt, ch, 0);
        }
        rle_put(out, sizeof out, &last, &cnt, 0, 1);
        size_t l = strlen(extra);
        snprintf(extra + l, sizeof extra - l, "%sfork.r%d=%s", l ? " " : "", r, out);
    }
    if (cfd >= 0) close(cfd);
    close(p[1]);
    int st;
    waitpid(c, &st, 0);
    end(&m, 0, extra);
}

/* The bias threshold: the smallest k of plain (vmsplice) references on a fresh small exclusive page at which
 * fork copies the page. Each probe uses a fresh page; the per-CPU lru_add batch is drained first by touching
 * 64 other fresh pages, and the page's LRU bit is read right before the fork. */
static int probe(long k, int *lru)
{
    char *pg = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pg == MAP_FAILED) return -1;
    madvise(pg, PAGE, MADV_NOHUGEPAGE);
    pg[0] = 1;
    char *fl = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fl != MAP_FAILED) {
        madvise(fl, 64 * PAGE, MADV_NOHUGEPAGE);
        for (int i = 0; i < 64; i++) fl[i * PAGE] = 1;
    }
    int np = (int)((k + 255) / 256), fds[8][2], ok = 1;
    static struct iovec iov[256];
    for (int j = 0; j < np && j < 8; j++) {
        if (pipe2(fds[j], O_NONBLOCK) < 0) { np = j; ok = 0; break; }
        fcntl(fds[j][1], F_SETPIPE_SZ, 256 * PAGE);
        long want = k - (long)j * 256 > 256 ? 256 : k - (long)j * 256;
        for (long i = 0; i < want; i++) { iov[i].iov_base = pg + i % PAGE; iov[i].iov_len = 1; }
        if (vmsplice(fds[j][1], iov, (unsigned long)want, SPLICE_F_NONBLOCK) != want) ok = 0;
    }
    uint64_t e = pagemap_entry(pm_fd, (uintptr_t)pg);
    *lru = (int)((kpageflags(PFN(e)) >> KPF_LRU) & 1);
    int copied = -1;
    int p[2];
    if (ok && pipe(p) == 0) {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            char x;
            close(p[1]);
            while (read(p[0], &x, 1) < 0 && errno == EINTR) { }
            _exit(0);
        }
        close(p[0]);
        if (c > 0) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/pagemap", (int)c);
            int cfd = open(path, O_RDONLY);
            uint64_t ce = cfd >= 0 ? pagemap_entry(cfd, (uintptr_t)pg) : 0;
            if (cfd >= 0) close(cfd);
            copied = PFN(ce) != PFN(e);
            close(p[1]);
            int st;
            waitpid(c, &st, 0);
        } else {
            close(p[1]);
        }
    }
    for (int j = 0; j < np; j++) { close(fds[j][0]); close(fds[j][1]); }
    if (fl != MAP_FAILED) munmap(fl, 64 * PAGE);
    munmap(pg, PAGE);
    return copied;
}

static void search(long maxk, char *extra, size_t cap)
{
    int lru = 0, lruhi = 0;
    int top = probe(maxk, &lru);
    if (top < 0) { snprintf(extra, cap, "threshold=error"); return; }
    if (!top) { snprintf(extra, cap, "threshold=none"); return; }
    long lo = 0, hi = maxk; /* probe(hi) copies; find the smallest such */
    lruhi = lru;
    int c0 = probe(0, &lru);
    if (c0 == 1) { snprintf(extra, cap, "threshold=k0,lru%d", lru); return; }
    while (hi - lo > 1) {
        long mid = (lo + hi) / 2;
        int l2;
        int c = probe(mid, &l2);
        if (c == 1) { hi = mid; lruhi = l2; } else { lo = mid; }
    }
    snprintf(extra, cap, "threshold=k%ld,lru%d", hi, lruhi);
}

/* The search in this process, or (inchild) in a forked child: its mm never pinned (MMF_HAS_PINNED is not inherited). */
static void do_threshold(long maxk, int inchild)
{
    struct meas m;
    char extra[128];
    begin(&m);
    if (!inchild) {
        search(maxk, extra, sizeof extra);
        end(&m, 0, extra);
        return;
    }
    int p[2];
    if (pipe(p) < 0) { end(&m, -errno, ""); return; }
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        close(pm_fd); /* it names the parent's /proc/self */
        pm_fd = open("/proc/self/pagemap", O_RDONLY);
        search(maxk, extra, sizeof extra);
        if (write(p[1], extra, strlen(extra)) < 0) _exit(1);
        _exit(0);
    }
    close(p[1]);
    long res = c < 0 ? -errno : 0;
    ssize_t n = c < 0 ? 0 : read(p[0], extra, sizeof extra - 1);
    extra[n > 0 ? n : 0] = 0;
    close(p[0]);
    if (c > 0) { int st; waitpid(c, &st, 0); }
    end(&m, res, extra);
}

/* Environment probe: does a read fault of an untouched private anonymous small page map the shared zero page?
 * Upstream kernels do (do_anonymous_page() without FAULT_FLAG_WRITE maps my_zero_pfn() unless mm_forbids_zeropage());
 * some vendor kernels are booted not to. Answers "ok zero=1|0 st=C pagesize=N" with C the page's state letter. */
static void do_probe(void)
{
    char *pg = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pg == MAP_FAILED) { printf("fail probe mmap %d\n", errno); return; }
    madvise(pg, PAGE, MADV_NOHUGEPAGE);
    volatile char sink = *(volatile char *)pg;
    (void)sink;
    uint64_t e = pagemap_entry(pm_fd, (uintptr_t)pg);
    char st = '-';
    if (PRESENT(e)) {
        uint64_t f = kpageflags(PFN(e));
        if ((f >> KPF_ZERO_PAGE) & 1) st = 'z';
        else if ((f >> KPF_ANON) & 1) st = ((f >> KPF_ANON_EXCL) & 1) ? 'x' : 's';
        else st = 'o';
    }
    munmap(pg, PAGE);
    printf("ok zero=%d st=%c pagesize=%ld\n", st == 'z', st, sysconf(_SC_PAGESIZE));
}

static void cleanup_all(void)
{
    for (int i = 0; i < MAXRING; i++) {
        if (rings[i].fd > 0) {
            syscall(427, rings[i].fd, 1, NULL, 0);
            close(rings[i].fd);
            rings[i].fd = 0;
        }
    }
    for (int i = 0; i < MAXPIPE; i++) {
        if (pipes[i].fd[0] > 0) { close(pipes[i].fd[0]); close(pipes[i].fd[1]); pipes[i].fd[0] = 0; }
    }
    for (int i = 0; i < MAXR; i++) drop_region(i);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: livehelper FILE\n"); return 2; }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pm_fd = open("/proc/self/pagemap", O_RDONLY);
    kpf_fd = open("/proc/kpageflags", O_RDONLY);
    dio_fd = open(argv[1], O_RDWR | O_DIRECT);
    buf_fd = open(argv[1], O_RDWR);
    hole = mmap(NULL, 64 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    scratch = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch != MAP_FAILED) memset(scratch, 7, 1 << 20);
    long a, r;
    counters(&a, &r);
    expected_net = start_net = a - r;
    printf("ready acq=%ld rel=%ld pagemap=%d kpageflags=%d dio=%d buffered=%d\n", a, r, pm_fd >= 0, kpf_fd >= 0,
           dio_fd >= 0, buf_fd >= 0);

    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        char *save = NULL, *op = strtok_r(line, " \n", &save);
        if (!op) continue;
        char *t1 = strtok_r(NULL, " \n", &save);
        long x = t1 ? atol(t1) : 0;
        struct meas m;
        struct iovec iov[MAXIOV];
        char extra[4096];
        extra[0] = 0;
        if (!strcmp(op, "quit")) {
            break;
        } else if (!strcmp(op, "map")) {
            /* LIVE-FOLIO-LAYOUT: the region kind asks for its folio size (THP, mTHP, hugetlb, small). */
            char *t2 = strtok_r(NULL, " \n", &save), *t3 = strtok_r(NULL, " \n", &save);
            if (!t2 || !t3 || x < 0 || x >= MAXR || regions[x].live) { printf("fail bad map\n"); continue; }
            begin(&m);
            long res = do_map((int)x, atoi(t2), atol(t3));
            end(&m, res, "");
        } else if (!strcmp(op, "touch")) {
            /* LIVE-FAULT-STATE, LIVE-UNSHARE: read and write faults, observed through the page states. */
            char *t2 = strtok_r(NULL, " \n", &save), *t3 = strtok_r(NULL, " \n", &save), *t4 = strtok_r(NULL, " \n", &save);
            if (!t2 || !t3 || !t4 || x < 0 || x >= MAXR || !regions[x].live) { printf("fail bad touch\n"); continue; }
            begin(&m);
            volatile char *p = regions[x].start;
            long first = atol(t2), cnt = atol(t3);
            int w = atoi(t4);
            long sink = 0;
            for (long i = first; i < first + cnt; i++) {
                if (w) p[i * PAGE] = 3; else sink += p[i * PAGE];
            }
            (void)sink;
            end(&m, 0, "");
        } else if (!strcmp(op, "unmap")) {
            /* LIVE-MUNMAP-KEEPS-PINS: munmap moves no counter while a ring holds the pages. */
            if (x < 0 || x >= MAXR || !regions[x].live) { printf("fail bad unmap\n"); continue; }
            begin(&m);
            long res = munmap(regions[x].start, regions[x].len) < 0 ? -errno : 0;
            munmap(regions[x].resv, regions[x].resvlen);
            regions[x].live = 0;
            end(&m, res, "");
        } else if (!strcmp(op, "ring")) {
            if (x < 0 || x >= MAXRING || rings[x].fd > 0) { printf("fail bad ring\n"); continue; }
            begin(&m);
            int fd = ring_setup();
            long res = fd < 0 ? -errno : 0;
            if (fd >= 0) { rings[x].fd = fd; rings[x].net = 0; }
            end(&m, res, "");
        } else if (!strcmp(op, "rclose")) {
            /* LIVE-URING-CLOSE: closing a ring with buffers releases them from the teardown work; wait for it. */
            if (x < 0 || x >= MAXRING || rings[x].fd <= 0) { printf("fail bad rclose\n"); continue; }
            begin(&m);
            close(rings[x].fd);
            rings[x].fd = 0;
            /* The teardown runs in a workqueue: wait (bounded) until this ring's pins are released. */
            long target = expected_net - rings[x].net, ca, cr;
            int waited = 0;
            for (; waited < 2000; waited += 2) {
                counters(&ca, &cr);
                if (ca - cr == target) break;
                msleep(2);
            }
            rings[x].net = 0;
            snprintf(extra, sizeof extra, "waited_ms=%d", waited);
            end(&m, 0, extra);
        } else if (!strcmp(op, "reg")) {
            /* LIVE-URING-PIN-PER-PAGE, LIVE-URING-COALESCE, LIVE-URING-VMPIN, LIVE-URING-BUSY, LIVE-URING-ERROR-UNDO. */
            if (x < 0 || x >= MAXRING || rings[x].fd <= 0) { printf("fail bad reg\n"); continue; }
            int n = parse_iovs(&save, iov);
            if (n < 0) { printf("fail bad iovs\n"); continue; }
            begin(&m);
            long res = syscall(427, rings[x].fd, 0, iov, n);
            if (res < 0) res = -errno;
            counters(&m.a1, &m.r1);
            rings[x].net += (m.a1 - m.a0) - (m.r1 - m.r0);
            end(&m, res, "");
        } else if (!strcmp(op, "unreg")) {
            /* LIVE-URING-UNREGISTER: exactly the kept pins come back; -ENXIO without buffers. */
            if (x < 0 || x >= MAXRING || rings[x].fd <= 0) { printf("fail bad unreg\n"); continue; }
            begin(&m);
            long res = syscall(427, rings[x].fd, 1, NULL, 0);
            if (res < 0) res = -errno;
            counters(&m.a1, &m.r1);
            rings[x].net += (m.a1 - m.a0) - (m.r1 - m.r0);
            end(&m, res, "");
        } else if (!strcmp(op, "dio") || !strcmp(op, "buf") || !strcmp(op, "pvm")) {
            /* LIVE-DIO-PIN, LIVE-DIO-ZERO-PAGE, LIVE-DIO-FAST-UNSHARE (O_DIRECT), LIVE-BUFFERED-NO-PIN, LIVE-PVM-PIN. */
            int write_ = t1 && t1[0] == 'w';
            int n = parse_iovs(&save, iov);
            if (n < 0) { printf("fail bad iovs\n"); continue; }
            begin(&m);
            long res;
            if (op[0] == 'p') {
                size_t total = 0;
                for (int i = 0; i < n; i++) total += iov[i].iov_len;
                struct iovec local = { scratch, total > (1 << 20) ? (1 << 20) : total };
                res = write_ ? process_vm_writev(getpid(), &local, 1, iov, (unsigned long)n, 0)
                             : process_vm_readv(getpid(), &local, 1, iov, (unsigned long)n, 0);
            } else {
                int fd = op[0] == 'd' ? dio_fd : buf_fd;
                res = write_ ? pwritev(fd, iov, n, 0) : preadv(fd, iov, n, 0);
            }
            if (res < 0) res = -errno;
            end(&m, res, "");
        } else if (!strcmp(op, "pipe")) {
            char *t2 = strtok_r(NULL, " \n", &save);
            if (!t2 || x < 0 || x >= MAXPIPE || pipes[x].fd[0] > 0) { printf("fail bad pipe\n"); continue; }
            begin(&m);
            long res = pipe2(pipes[x].fd, O_NONBLOCK) < 0 ? -errno : 0;
            if (!res) {
                long sz = fcntl(pipes[x].fd[1], F_SETPIPE_SZ, atol(t2) * (long)PAGE);
                snprintf(extra, sizeof extra, "slots=%ld", sz < 0 ? -errno : sz / (long)PAGE);
            }
            end(&m, res, extra);
        } else if (!strcmp(op, "vms")) {
            /* LIVE-GET-INVISIBLE: vmsplice takes FOLL_GET references, which the pin counters do not see. */
            if (x < 0 || x >= MAXPIPE || pipes[x].fd[0] <= 0) { printf("fail bad vms\n"); continue; }
            int n = parse_iovs(&save, iov);
            if (n < 0) { printf("fail bad iovs\n"); continue; }
            begin(&m);
            long res = vmsplice(pipes[x].fd[1], iov, (unsigned long)n, SPLICE_F_NONBLOCK);
            if (res < 0) res = -errno;
            end(&m, res, "");
        } else if (!strcmp(op, "pclose")) {
            if (x < 0 || x >= MAXPIPE || pipes[x].fd[0] <= 0) { printf("fail bad pclose\n"); continue; }
            begin(&m);
            close(pipes[x].fd[0]);
            close(pipes[x].fd[1]);
            pipes[x].fd[0] = 0;
            end(&m, 0, "");
        } else if (!strcmp(op, "fork")) {
            /* LIVE-FORK-COPY-PINNED, LIVE-FORK-SHARE, LIVE-FORK-LARGE-WHOLE, LIVE-FORK-HAS-PINNED. */
            do_fork();
        } else if (!strcmp(op, "threshold")) {
            /* LIVE-FORK-BIAS-THRESHOLD: the plain references at which fork starts to copy. */
            char *t2 = strtok_r(NULL, " \n", &save);
            do_threshold(x > 0 ? x : 1100, t2 ? atoi(t2) : 0);
        } else if (!strcmp(op, "state")) {
            if (x < 0 || x >= MAXR || !regions[x].live) { printf("fail bad state\n"); continue; }
            static char st[1 << 15], lay[1 << 15];
            region_state((int)x, st, lay, sizeof st);
            printf("ok st=%s lay=%s\n", st, lay);
        } else if (!strcmp(op, "probe")) {
            do_probe();
        } else if (!strcmp(op, "counters")) {
            long ca, cr;
            counters(&ca, &cr);
            printf("ok acq=%ld rel=%ld expected_net=%ld retries=%d vmpin=%ld\n", ca, cr, expected_net, retries_total, vmpin_kb());
        } else if (!strcmp(op, "cleanup")) {
            begin(&m);
            cleanup_all();
            long ca, cr;
            int waited = 0;
            for (; waited < 2000; waited += 2) {
                counters(&ca, &cr);
                if (ca - cr == start_net) break;
                msleep(2);
            }
            snprintf(extra, sizeof extra, "waited_ms=%d", waited);
            end(&m, 0, extra);
        } else {
            printf("fail unknown %s\n", op);
        }
    }
    cleanup_all();
    return 0;
}
