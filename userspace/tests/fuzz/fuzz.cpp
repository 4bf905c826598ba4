// SPDX-License-Identifier: GPL-2.0
// iommulab-fuzz: a bounded, seeded, reproducible random ioctl driver.
//
//   iommulab-fuzz [--seed S] [--calls N] [--seconds T] [--threads K]
//                 [--fds F] [--only-thread I] [--ring R] [-v]
//
// K threads share F iommufds (and the objects made through them) and issue
// random calls until N calls in all (N/K per thread) or T seconds, whichever
// comes first. Every command of the module is in the table below, with the
// IOMMU_TEST_CMD ops, unknown commands and ops, and five pseudo-calls
// (close an access fd, replace a shared iommufd by a new one with dup2()
// while the others use it, truncate or punch a memfd that IOAS_MAP_FILE
// maps, and the notification family's netlink commands: open, close,
// subscribe, unsubscribe, join the multicast group, GET_STATS and unknown
// commands with random attributes, on a pool of sockets that are never
// read but by the call itself, so that full receivers drop events). Arguments start from a
// plausible call (real IDs of objects the threads created, mapped IOVAs,
// valid memory) and are then corrupted at random: the size field (short,
// zero or non-zero tail, huge), reserved fields and flags, huge and
// top-of-address-space values, random and stale IDs, and user pointers that
// are valid, NULL, unmapped (PROT_NONE), read-only, kernel addresses or
// straddle a guard page. The argument struct itself is sometimes passed at
// such a pointer too. IOAS_MAP_FILE gets memfds of the child (see Files),
// files that are not memfds, and fds that are not open.
//
// Unexpected outcomes, each making the run fail (exit 1):
//   - an errno outside the set documented for that command (kErr* below);
//   - a crash of the fuzzer itself (the calls run in a child process; the
//     parent reports the signal);
//   - a hang: the child does not finish within T + 120 s;
//   - a leak: after the child exits (closing every fd), IOMMULAB_GET_INFO
//     out_nr_objects_all is not back to the value before the run.
//   - a mapping of a memfd left in the child when its threads are done
//     (pinning a MAP_FILE range maps the memfd into the caller for the
//     moment of the pin).
// The report prints the seed, the command line to replay, and for every
// thread its last R calls (argument values and result), written to shared
// memory before each call so that even a crash leaves them.
//
// Reproducibility: thread I draws everything from its own generator seeded
// from (S, I), so its sequence of commands and argument recipes is a pure
// function of the seed and the thread number. The threads interleave
// nondeterministically, though, and the concrete IDs/IOVAs come from the
// shared pool of live objects, so a multi-threaded run is reproducible only
// up to scheduling. `--threads 1` is fully deterministic; `--only-thread I`
// runs thread I's sequence of a K-thread run alone.
//
// The kernel log is judged by the VM lane (selftests/vm.sh): a KASAN,
// lockdep, UBSAN, WARNING, ... line fails the run there.
#include <algorithm>
#include <atomic>
#include <bitset>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <mutex>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

extern "C" {
#include <iommulab/iommufd.h>
#include <iommulab/iommufd_test.h>
#include <iommulab/iommulab.h>
#include <iommulab/iommulab_genl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
}

#include "../common/caps.hpp"

namespace {

constexpr uint64_t PS = 4096;
constexpr unsigned kMaxThreads = 64;
constexpr unsigned kMaxFds = 16;
constexpr size_t kRec = 320;        // bytes per logged call
constexpr unsigned kMaxRing = 256;  // calls kept per thread
constexpr unsigned kMaxCmds = 96;   // rows of table() (checked in main())

// ----------------------------------------------------------- options ---
struct Options {
	uint64_t seed = 1;
	uint64_t calls = 10000;
	double seconds = 60;
	unsigned threads = 4;
	unsigned fds = 3;
	int only_thread = -1;
	unsigned ring = 64;
	bool verbose = false;
} opt;

// ------------------------------------------------- shared with parent ---
// Lives in MAP_SHARED memory so that the parent can print it after the
// child crashed.
struct Shared {
	std::atomic<uint64_t> done[kMaxThreads];     // calls finished
	std::atomic<uint64_t> started[kMaxThreads];  // calls begun
	char ring[kMaxThreads][kMaxRing][kRec];
	std::atomic<int> failed;  // 1 once an unexpected outcome was seen
	char failure[2048];
	std::atomic<uint64_t> per_cmd[kMaxCmds][2];  // calls, successes
	std::atomic<uint64_t> errno_hist[kMaxCmds][136];
};
Shared *sh;

[[gnu::format(printf, 1, 2)]] std::string strf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EBADFD: return "EBADFD";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EOVERFLOW: return "EOVERFLOW";
	case EMSGSIZE: return "EMSGSIZE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EADDRINUSE: return "EADDRINUSE";
	default: {
		static thread_local char b[16];
		snprintf(b, sizeof(b), "E%d", e);
		return b;
	}
	}
}

// ---------------------------------------------------------------- rng ---
struct Rng {
	uint64_t s;
	uint64_t next()
	{
		uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		return z ^ (z >> 31);
	}
	uint64_t below(uint64_t n) { return n ? next() % n : 0; }
	bool pct(unsigned p) { return below(100) < p; }
	template <class T> const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }
};

uint64_t thread_seed(uint64_t seed, unsigned t)
{
	Rng r{seed ^ (0xa0761d6478bd642fULL * (t + 1))};
	r.next();
	return r.next();
}

// -------------------------------------------------------------- memory ---
// Every pointer the kernel may write through points into a thread's
// scratch pages or the shared data region, never at the fuzzer's own
// heap, stack or logs.
struct Regions {
	uint8_t *data;      // 8 MiB RW: what gets mapped, pinned, DMA'd
	size_t data_len;
	uint8_t *ro;        // 1 MiB read-only
	uint8_t *none;      // 1 MiB PROT_NONE: "unmapped"
} mem;

// The files IOAS_MAP_FILE maps: memfds of the child, all opened O_RDWR
// (pinning maps them into the caller for the moment, with PROT_WRITE for a
// writeable mapping), and files of other kinds.
struct Files {
	int shm = -1;                // shmem, written: its pages exist
	uint8_t *shm_map = nullptr;  // shm mapped shared (in_ptr() hands it out
				     // for IOAS_MAP; MD_CHECK_MAP's uptr)
	uint64_t shm_len = 4ULL << 20;
	int sparse = -1;             // shmem, never written by the fuzzer; the
				     // truncate pseudo-call shrinks and regrows it
	uint64_t sparse_len = 2ULL << 20;
	int huge = -1;               // hugetlbfs memfd, -1 if the guest has none
				     // (pinning it fails ENOMEM without reserved
				     // huge pages)
	uint64_t huge_len = 4ULL << 20;
	int pipe_rd = -1, devnull = -1;  // not memfds: EINVAL
} files;

struct Scratch {
	uint8_t *base;  // page 0: the argument; page 1: in/out buffers;
			// page 2: PROT_NONE guard
	uint8_t *arg() const { return base; }
	uint8_t *buf() const { return base + PS; }
	uint8_t *guard() const { return base + 2 * PS; }
};

void *xmmap(size_t len, int prot)
{
	void *p = mmap(nullptr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("fuzz: mmap");
		_exit(2);
	}
	return p;
}

// ---------------------------------------------------------- the pools ---
// PARENT: HWPTs made with NEST_PARENT; NESTED: nested HWPTs.
// SET: IOASID sets. FAULT: fault queues (their fds: fault_fds below).
enum Kind { IOAS, HWPT, DEV, STDEV, PARENT, NESTED, VIOMMU, SET, FAULT, NKINDS };

struct Mapping {
	uint32_t ioas;
	uint64_t iova, len;
	uint64_t uva;  // the user memory behind it (0: unknown)
};

// Objects and mappings of one shared iommufd.
struct FdState {
	int fd = -1;
	std::mutex m;
	std::vector<uint32_t> ids[NKINDS];
	std::vector<uint32_t> dead;  // destroyed IDs: stale references
	std::vector<Mapping> maps;
	// HWPTs allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, and the IOAS
	// each was made on: the dirty-tracking calls mostly use these.
	std::vector<std::pair<uint32_t, uint32_t>> dirty;
};
FdState fds[kMaxFds];

struct AccessRef {
	int fd;          // the access fd
	unsigned owner;  // index into fds[]
	uint32_t ioas;   // the IOAS it was made on
	uint32_t flags;
};
std::mutex g_mutex;  // guards the three below
std::vector<AccessRef> accesses;
std::vector<std::pair<int, uint32_t>> items;  // (access fd, item id)
std::vector<uint32_t> rids;  // requester IDs of mock devices
std::vector<int> fault_fds;  // fault fds of FAULT_QUEUE_ALLOC (at most 8)

template <class T> void push_capped(std::vector<T> &v, const T &x, size_t cap, Rng &r)
{
	if (v.size() < cap)
		v.push_back(x);
	else
		v[r.below(cap)] = x;
}

// ------------------------------------------------------------- commands ---
// Documented errnos (see the uAPI headers and each handler): every command
// may fail its size rules (EINVAL short, E2BIG non-zero tail, EFAULT
// unreadable), and ENOENT (unknown or wrong-type ID), EOPNOTSUPP (flags,
// reserved fields, enum values), EINVAL (bad values), EOVERFLOW, ENOMEM.
const std::initializer_list<int> kErrBase = {EFAULT, EINVAL, E2BIG, EOPNOTSUPP,
					     ENOENT, ENOMEM, EOVERFLOW};
using Errs = std::bitset<136>;
Errs errs(std::initializer_list<int> extra)
{
	Errs b;

	for (int e : kErrBase)
		b.set(e);
	for (int e : extra)
		b.set(e);
	return b;
}

struct Thread;
struct Cmd {
	const char *name;
	unsigned long nr;     // ioctl number (0: a pseudo-call)
	unsigned size;        // sizeof the struct
	unsigned weight;
	Errs allowed;
	// Fills t.arg (size bytes, already zeroed) with a plausible call;
	// may set t.note for the log.
	void (*build)(Thread &t);
	// After success: remember what the call made.
	void (*done)(Thread &t);
	unsigned op;  // IOMMU_TEST_CMD op, for the log
};

struct Thread {
	unsigned idx;
	Rng r;
	Scratch s;
	unsigned fdi;        // shared fd used by this call
	FdState *f;
	uint8_t *arg;        // where the argument is built (scratch page 0)
	std::string note;    // extra log text
	bool ipc_lock;       // this thread kept CAP_IPC_LOCK

	// ---- value generators ----
	uint32_t id(Kind k)
	{
		unsigned c = r.below(100);
		std::lock_guard<std::mutex> g(f->m);
		if (c < 70 && !f->ids[k].empty())
			return r.pick(f->ids[k]);
		if (c < 78) {
			Kind o = static_cast<Kind>(r.below(NKINDS));
			if (!f->ids[o].empty())
				return r.pick(f->ids[o]);
		}
		if (c < 84 && !f->dead.empty())
			return r.pick(f->dead);
		if (c < 92)
			return static_cast<uint32_t>(r.below(16));
		return static_cast<uint32_t>(r.next());
	}
	// An access fd; mostly issued on the iommufd that made it (else
	// ENOENT), and *ioas is the IOAS it was made on.
	int access_fd(uint32_t *ioas = nullptr)
	{
		std::lock_guard<std::mutex> g(g_mutex);
		if (ioas)
			*ioas = 0;
		if (!accesses.empty() && r.pct(85)) {
			const AccessRef &a = r.pick(accesses);
			if (r.pct(90))
				use_fd(a.owner);
			if (ioas)
				*ioas = a.ioas;
			return a.fd;
		}
		return r.pct(50) ? f->fd : static_cast<int>(r.below(64)) - 1;
	}
	uint32_t item(int *acc)
	{
		std::lock_guard<std::mutex> g(g_mutex);
		if (!items.empty() && r.pct(80)) {
			auto &it = r.pick(items);
			*acc = it.first;
			for (auto &a : accesses)
				if (a.fd == it.first && r.pct(90))
					use_fd(a.owner);
			return it.second;
		}
		*acc = accesses.empty() ? f->fd : r.pick(accesses).fd;
		return static_cast<uint32_t>(r.below(8));
	}
	void use_fd(unsigned i)
	{
		fdi = i;
		f = &fds[i];
	}
	// Mostly the known flags a plausible call uses.
	uint32_t mapflags()
	{
		if (r.pct(85))
			return IOMMU_IOAS_MAP_READABLE |
			       (r.pct(80) ? IOMMU_IOAS_MAP_WRITEABLE : 0) |
			       (r.pct(50) ? IOMMU_IOAS_MAP_FIXED_IOVA : 0);
		return flags32(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			       IOMMU_IOAS_MAP_READABLE);
	}
	uint32_t rid()
	{
		std::lock_guard<std::mutex> g(g_mutex);
		if (!rids.empty() && r.pct(80))
			return r.pick(rids);
		return static_cast<uint32_t>(r.pct(50) ? r.below(64) : r.next());
	}
	uint64_t interesting64()
	{
		static const uint64_t v[] = {0, 1, PS - 1, PS, PS + 1, 1ULL << 24,
			(1ULL << 31) - 1, 1ULL << 32, 1ULL << 40, 1ULL << 47,
			(1ULL << 48) - PS, 1ULL << 63, UINT64_MAX - PS + 1,
			UINT64_MAX - 1, UINT64_MAX, 0x7fffffffffffffffULL};
		return v[r.below(sizeof(v) / sizeof(v[0]))];
	}
	uint64_t length()
	{
		unsigned c = r.below(100);
		if (c < 55)
			return (1 + r.below(16)) * PS;
		if (c < 70)
			return (1 + r.below(512)) * PS;
		if (c < 80)
			return 1 + r.below(3 * PS);
		return interesting64();
	}
	// A recorded mapping, of @ioas if it has one. The pointer stays valid
	// until this thread's next pool update (mappings are only replaced by
	// push_capped/erase of this fd, under f->m; a stale read is harmless).
	const Mapping *mapping(uint32_t ioas)
	{
		std::lock_guard<std::mutex> g(f->m);
		if (f->maps.empty())
			return nullptr;
		if (ioas && r.pct(90)) {
			unsigned n = 0;
			for (auto &m : f->maps)
				n += m.ioas == ioas;
			if (n) {
				unsigned k = static_cast<unsigned>(r.below(n));
				for (auto &m : f->maps)
					if (m.ioas == ioas && !k--) {
						tmp_map = m;
						return &tmp_map;
					}
			}
		}
		tmp_map = r.pick(f->maps);
		return &tmp_map;
	}
	Mapping tmp_map;
	uint64_t iova(uint32_t ioas = 0)
	{
		unsigned c = r.below(100);
		if (c < 55) {
			const Mapping *m = mapping(ioas);
			if (m)
				return m->iova + (r.pct(80) ? 0 : r.below(m->len));
		}
		if (c < 80)
			return (1ULL << 24) + r.below(1 << 16) * PS;
		if (c < 88)
			return r.below(1ULL << 40) & ~(PS - 1);
		return interesting64();
	}
	// Memory the kernel reads from or pins.
	uint64_t in_ptr(uint64_t len = PS)
	{
		unsigned c = r.below(100);
		uint8_t *p;
		if (c < 55) {
			uint64_t room = mem.data_len > len ? mem.data_len - len : 0;
			p = mem.data + (r.below(room / PS + 1) * PS) +
			    (r.pct(85) ? 0 : r.below(PS));
		} else if (c < 60) {
			// The shared mapping of a memfd: IOAS_MAP of shmem pages.
			uint64_t room = files.shm_len > len ? files.shm_len - len : 0;
			p = files.shm_map + r.below(room / PS + 1) * PS;
		} else if (c < 70) {
			p = mem.ro + r.below(256) * PS;
		} else if (c < 78) {
			p = mem.none + r.below(256) * PS;
		} else if (c < 84) {
			return 0;
		} else if (c < 88) {
			return 0xffff888000000000ULL + r.below(1 << 20) * PS;
		} else if (c < 94) {
			p = s.guard() - 1 - r.below(64);  // straddles the guard
		} else {
			return bad_ptr();
		}
		return reinterpret_cast<uintptr_t>(p);
	}
	// Addresses that are never mapped in this process (below
	// mmap_min_addr, non-canonical, kernel): memory the kernel may pin and
	// a device then write must never be the fuzzer's own heap or stack.
	uint64_t bad_ptr()
	{
		static const uint64_t v[] = {1, PS - 1, PS, 1ULL << 47, (1ULL << 48) - PS,
			1ULL << 63, UINT64_MAX - PS + 1, UINT64_MAX};
		return v[r.below(sizeof(v) / sizeof(v[0]))];
	}
	// Memory the kernel writes to: scratch page 1 or the data region
	// (never the fuzzer's own memory), or an invalid address.
	uint64_t out_ptr()
	{
		unsigned c = r.below(100);
		if (c < 70)
			return reinterpret_cast<uintptr_t>(s.buf() + (r.pct(80) ? 0 : r.below(PS)));
		if (c < 75)
			return reinterpret_cast<uintptr_t>(mem.data + r.below(mem.data_len / PS) * PS);
		if (c < 82)
			return reinterpret_cast<uintptr_t>(mem.ro + r.below(256) * PS);
		if (c < 88)
			return reinterpret_cast<uintptr_t>(mem.none);
		if (c < 92)
			return 0;
		if (c < 96)
			return reinterpret_cast<uintptr_t>(s.guard() - 1 - r.below(64));
		return 0xffff888000000000ULL;
	}
	uint32_t flags32(uint32_t known)
	{
		unsigned c = r.below(100);
		if (c < 45)
			return 0;
		if (c < 88)
			return known ? static_cast<uint32_t>(r.next()) & known : 0;
		if (c < 96)
			return (known & static_cast<uint32_t>(r.next())) | (1U << r.below(32));
		return static_cast<uint32_t>(r.next());
	}
	template <class T> T &a() { return *reinterpret_cast<T *>(arg); }
};

// ---- builders, one per command ----
#define B(name) void b_##name(Thread &t)
#define D(name) void d_##name(Thread &t)

B(destroy)
{
	auto &c = t.a<iommu_destroy>();
	c.id = t.id(static_cast<Kind>(t.r.below(NKINDS)));
}
D(destroy)
{
	uint32_t id = t.a<iommu_destroy>().id;
	std::lock_guard<std::mutex> g(t.f->m);
	for (auto &v : t.f->ids)
		v.erase(std::remove(v.begin(), v.end(), id), v.end());
	t.f->dirty.erase(std::remove_if(t.f->dirty.begin(), t.f->dirty.end(),
					[&](auto &d) { return d.first == id || d.second == id; }),
			 t.f->dirty.end());
	t.f->maps.erase(std::remove_if(t.f->maps.begin(), t.f->maps.end(),
				       [&](const Mapping &m) { return m.ioas == id; }),
			t.f->maps.end());
	push_capped(t.f->dead, id, 32, t.r);
}

B(ioas_alloc)
{
	auto &c = t.a<iommu_ioas_alloc>();
	c.flags = t.flags32(0);
}
D(ioas_alloc)
{
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[IOAS], t.a<iommu_ioas_alloc>().out_ioas_id, 16, t.r);
}

B(allow_iovas)
{
	auto &c = t.a<iommu_ioas_allow_iovas>();
	c.ioas_id = t.id(IOAS);
	c.num_iovas = t.r.pct(90) ? static_cast<uint32_t>(t.r.below(6)) :
				    static_cast<uint32_t>(t.r.next());
	c.__reserved = t.r.pct(95) ? 0 : 1;
	auto *ranges = reinterpret_cast<iommu_iova_range *>(t.s.buf());
	for (unsigned i = 0; i < 8; i++) {
		uint64_t start = t.r.pct(80) ? (1ULL << 24) + t.r.below(64) * (1ULL << 22) :
					       t.interesting64();
		uint64_t len = t.r.pct(80) ? (1 + t.r.below(64)) * (1ULL << 20) : t.interesting64();
		ranges[i] = {start, start + len - 1};
	}
	c.allowed_iovas = t.r.pct(85) ? reinterpret_cast<uintptr_t>(ranges) : t.in_ptr();
}

B(copy)
{
	auto &c = t.a<iommu_ioas_copy>();
	c.flags = t.mapflags();
	c.src_ioas_id = t.id(IOAS);
	c.dst_ioas_id = t.id(IOAS);
	c.length = t.length();
	c.src_iova = t.iova(c.src_ioas_id);
	{
		std::lock_guard<std::mutex> g(t.f->m);
		if (!t.f->maps.empty() && t.r.pct(60)) {
			const Mapping &m = t.r.pick(t.f->maps);
			c.src_ioas_id = m.ioas;
			c.src_iova = m.iova;
			c.length = t.r.pct(70) ? m.len : t.r.below(m.len) + 1;
		}
	}
	c.dst_iova = t.iova();
}
D(copy)
{
	auto &c = t.a<iommu_ioas_copy>();
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->maps, Mapping{c.dst_ioas_id, c.dst_iova, c.length, 0}, 64, t.r);
}

B(iova_ranges)
{
	auto &c = t.a<iommu_ioas_iova_ranges>();
	c.ioas_id = t.id(IOAS);
	c.num_iovas = t.r.pct(90) ? static_cast<uint32_t>(t.r.below(20)) :
				    static_cast<uint32_t>(t.r.next());
	if (c.num_iovas > 256 && t.r.pct(50))
		c.num_iovas = 256;  // room in scratch page 1
	c.__reserved = t.r.pct(95) ? 0 : static_cast<uint32_t>(t.r.next());
	c.allowed_iovas = t.out_ptr();
}

B(map)
{
	auto &c = t.a<iommu_ioas_map>();
	c.flags = t.mapflags();
	c.ioas_id = t.id(IOAS);
	c.length = t.length();
	c.user_va = t.in_ptr(c.length < mem.data_len ? c.length : PS);
	c.iova = t.iova();
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
D(map)
{
	auto &c = t.a<iommu_ioas_map>();
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->maps, Mapping{c.ioas_id, c.iova, c.length, c.user_va}, 64, t.r);
}

B(unmap)
{
	auto &c = t.a<iommu_ioas_unmap>();
	c.ioas_id = t.id(IOAS);
	unsigned k = t.r.below(100);
	if (k < 15) {
		c.iova = 0;
		c.length = UINT64_MAX;
		return;
	}
	if (k < 70) {
		std::lock_guard<std::mutex> g(t.f->m);
		if (!t.f->maps.empty()) {
			const Mapping &m = t.r.pick(t.f->maps);
			c.ioas_id = m.ioas;
			c.iova = m.iova;
			c.length = t.r.pct(80) ? m.len : t.r.below(m.len * 2 + 1);
			return;
		}
	}
	c.iova = t.iova();
	c.length = t.length();
}

D(unmap)
{
	auto &c = t.a<iommu_ioas_unmap>();
	std::lock_guard<std::mutex> g(t.f->m);
	t.f->maps.erase(std::remove_if(t.f->maps.begin(), t.f->maps.end(),
				       [&](const Mapping &m) {
					       return m.ioas == c.ioas_id &&
						      (c.length == UINT64_MAX ||
						       (m.iova >= c.iova &&
							m.iova - c.iova < c.length));
				       }),
			t.f->maps.end());
}

B(option)
{
	auto &c = t.a<iommu_option>();
	c.option_id = static_cast<uint32_t>(t.r.pct(90) ? t.r.below(2) : t.r.below(8));
	c.op = static_cast<uint16_t>(t.r.pct(90) ? t.r.below(2) : t.r.below(5));
	c.__reserved = t.r.pct(95) ? 0 : 1;
	c.object_id = c.option_id == IOMMU_OPTION_HUGE_PAGES || t.r.pct(10) ? t.id(IOAS) : 0;
	c.val64 = t.r.pct(85) ? t.r.below(2) : t.interesting64();
}

B(get_info)
{
	auto &c = t.a<iommulab_info>();
	c.flags = t.flags32(0);
}

B(bench_pin)
{
	auto &c = t.a<iommulab_bench_pin>();
	c.flags = t.flags32(IOMMULAB_BENCH_PIN_WRITE);
	c.length = t.length();
	c.uptr = t.in_ptr(c.length < mem.data_len ? c.length : PS);
}

B(map_file)
{
	auto &c = t.a<iommu_ioas_map_file>();
	c.flags = t.mapflags();
	c.ioas_id = t.id(IOAS);
	uint64_t flen = 0;
	unsigned k = t.r.below(100);
	if (k < 45) {
		c.fd = files.shm;
		flen = files.shm_len;
	} else if (k < 62) {
		c.fd = files.sparse;
		flen = files.sparse_len;
	} else if (k < 70 && files.huge >= 0) {
		c.fd = files.huge;
		flen = files.huge_len;
	} else if (k < 80) {
		const int other[] = {files.pipe_rd, files.devnull, t.f->fd, 0};
		c.fd = other[t.r.below(4)];
	} else if (k < 90) {
		const int bad[] = {-1, -100, 1000 + static_cast<int>(t.r.below(100)), 0x7fffffff};
		c.fd = bad[t.r.below(4)];
	} else {
		c.fd = static_cast<int>(t.r.below(64));  // whatever is open there
	}
	unsigned rk = t.r.below(100);
	if (flen && rk < 70) {
		// Inside the file (as long as it has not been truncated), now
		// and then at an unaligned start, which may end past EOF.
		c.length = t.r.pct(60) ? (1 + t.r.below(16)) * PS : (1 + t.r.below(flen / PS)) * PS;
		c.length = std::min<uint64_t>(c.length, flen);
		c.start = t.r.below((flen - c.length) / PS + 1) * PS +
			  (t.r.pct(85) ? 0 : t.r.below(PS));
	} else if (flen && rk < 85) {
		// Across or past the end of the file: EINVAL.
		c.start = flen - t.r.below(4) * PS + (t.r.pct(50) ? 0 : t.r.below(2 * PS));
		c.length = (1 + t.r.below(8)) * PS;
	} else {
		c.start = t.r.pct(50) ? t.interesting64() : t.r.below(1 << 12) * PS;
		c.length = t.length();
	}
	c.iova = t.iova();
}
D(map_file)
{
	auto &c = t.a<iommu_ioas_map_file>();
	uint64_t uva = 0;
	if (c.fd == files.shm && c.start < files.shm_len && c.length <= files.shm_len - c.start)
		uva = reinterpret_cast<uintptr_t>(files.shm_map + c.start);
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->maps, Mapping{c.ioas_id, c.iova, c.length, uva}, 64, t.r);
}

// ---- IOMMU_TEST_CMD ops ----
iommu_test_cmd &test(Thread &t, uint32_t op, uint32_t id)
{
	auto &c = t.a<iommu_test_cmd>();
	c.op = op;
	c.id = id;
	c.__reserved = t.r.pct(97) ? 0 : 1;
	return c;
}

B(t_add_reserved)
{
	auto &c = test(t, IOMMU_TEST_OP_ADD_RESERVED, t.id(IOAS));
	c.add_reserved.start = t.iova();
	c.add_reserved.length = t.length();
}
B(t_check_refs)
{
	auto &c = test(t, IOMMU_TEST_OP_MD_CHECK_REFS, 0);
	c.check_refs.length = t.r.pct(80) ? (1 + t.r.below(8)) * PS : t.length();
	c.check_refs.uptr = t.in_ptr(c.check_refs.length);
	c.check_refs.refs = static_cast<uint32_t>(t.r.below(3));
}
B(t_create_access)
{
	auto &c = test(t, IOMMU_TEST_OP_CREATE_ACCESS, t.id(IOAS));
	c.create_access.flags = t.flags32(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
					  IOMMULAB_ACCESS_CREATE_HOLD_PINS);
}
D(t_create_access)
{
	int fd = static_cast<int>(t.a<iommu_test_cmd>().create_access.out_access_fd);
	int victim = -1;
	{
		std::lock_guard<std::mutex> g(g_mutex);
		auto &c = t.a<iommu_test_cmd>();
		accesses.push_back({fd, t.fdi, c.id, c.create_access.flags});
		if (accesses.size() > 24) {
			size_t i = t.r.below(accesses.size());
			victim = accesses[i].fd;
			accesses.erase(accesses.begin() + i);
			items.erase(std::remove_if(items.begin(), items.end(),
						   [&](auto &it) { return it.first == victim; }),
				    items.end());
		}
	}
	if (victim >= 0)
		close(victim);
}
B(t_destroy_access_pages)
{
	int acc;
	uint32_t item = t.item(&acc);
	auto &c = test(t, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, static_cast<uint32_t>(acc));
	c.destroy_access_pages.access_pages_id = item;
}
D(t_destroy_access_pages)
{
	auto &c = t.a<iommu_test_cmd>();
	std::lock_guard<std::mutex> g(g_mutex);
	items.erase(std::remove_if(items.begin(), items.end(), [&](auto &it) {
			    return it.first == static_cast<int>(c.id) &&
				   it.second == c.destroy_access_pages.access_pages_id;
		    }),
		    items.end());
}
B(t_access_pages)
{
	uint32_t ioas;
	auto &c = test(t, IOMMU_TEST_OP_ACCESS_PAGES, static_cast<uint32_t>(t.access_fd(&ioas)));
	c.access_pages.flags = t.flags32(MOCK_FLAGS_ACCESS_WRITE);
	c.access_pages.iova = t.iova(ioas);
	c.access_pages.length = t.r.pct(80) ? (1 + t.r.below(16)) * PS : t.length();
	c.access_pages.uptr = t.r.pct(60) ? 0 : t.in_ptr();
}
D(t_access_pages)
{
	auto &c = t.a<iommu_test_cmd>();
	std::lock_guard<std::mutex> g(g_mutex);
	push_capped(items, {static_cast<int>(c.id), c.access_pages.out_access_pages_id}, 64, t.r);
}
B(t_access_rw)
{
	uint32_t ioas;
	auto &c = test(t, IOMMU_TEST_OP_ACCESS_RW, static_cast<uint32_t>(t.access_fd(&ioas)));
	c.access_rw.iova = t.iova(ioas);
	c.access_rw.length = t.r.pct(85) ? 1 + t.r.below(PS) : t.length();
	c.access_rw.flags = t.flags32(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH);
	c.access_rw.uptr = (c.access_rw.flags & MOCK_ACCESS_RW_WRITE) && t.r.pct(50) ?
				   t.in_ptr(c.access_rw.length) : t.out_ptr();
}
B(t_memory_limit)
{
	auto &c = test(t, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0);
	c.memory_limit.limit = static_cast<uint32_t>(t.r.pct(80) ? t.r.below(64) : t.r.next());
}
B(t_access_replace_ioas)
{
	auto &c = test(t, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, static_cast<uint32_t>(t.access_fd()));
	c.access_replace_ioas.ioas_id = t.id(IOAS);
}
B(t_mock_domain)
{
	bool with_flags = t.r.pct(50);
	auto &c = test(t, with_flags ? IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS : IOMMU_TEST_OP_MOCK_DOMAIN,
		       t.r.pct(70) ? t.id(IOAS) : t.id(HWPT));
	if (with_flags)
		c.mock_domain_flags.dev_flags = t.flags32(
			MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |
			MOCK_FLAGS_DEVICE_PASID | IOMMULAB_MOCK_DEV_4K);
}
D(t_mock_domain)
{
	auto &c = t.a<iommu_test_cmd>();
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[STDEV], c.mock_domain.out_stdev_id, 16, t.r);
	push_capped(t.f->ids[HWPT], c.mock_domain.out_hwpt_id, 16, t.r);
	push_capped(t.f->ids[DEV], c.mock_domain.out_idev_id, 16, t.r);
}
B(t_mock_domain_replace)
{
	auto &c = test(t, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, t.id(STDEV));
	c.mock_domain_replace.pt_id = t.r.pct(50) ? t.id(IOAS) : t.id(HWPT);
}
B(t_check_map)
{
	auto &c = test(t, IOMMU_TEST_OP_MD_CHECK_MAP, t.r.pct(80) ? t.id(HWPT) : t.id(IOAS));
	const Mapping *m = t.mapping(0);
	if (m && m->uva && t.r.pct(80)) {
		c.check_map.iova = m->iova;
		c.check_map.length = t.r.pct(70) ? m->len : 1 + t.r.below(m->len);
		c.check_map.uptr = m->uva;
		return;
	}
	c.check_map.iova = t.iova();
	c.check_map.length = t.r.pct(80) ? (1 + t.r.below(8)) * PS : t.length();
	c.check_map.uptr = t.in_ptr(c.check_map.length);
}
B(t_check_iotlb)
{
	auto &c = test(t, IOMMU_TEST_OP_MD_CHECK_IOTLB, t.id(NESTED));
	c.check_iotlb.id = static_cast<uint32_t>(t.r.below(5));
	c.check_iotlb.iotlb = t.r.pct(50) ? IOMMU_TEST_IOTLB_DEFAULT : static_cast<uint32_t>(t.r.next());
}
B(t_check_cache)
{
	auto &c = test(t, IOMMU_TEST_OP_DEV_CHECK_CACHE, t.id(DEV));
	c.check_dev_cache.id = static_cast<uint32_t>(t.r.below(5));
	c.check_dev_cache.cache = t.r.pct(50) ? IOMMU_TEST_DEV_CACHE_DEFAULT :
					       static_cast<uint32_t>(t.r.next());
}
// A PASID: mostly a few small ones, so attaches meet again.
uint32_t fuzz_pasid(Thread &t)
{
	static const uint32_t some[] = {0, 1, 2, 7, 100, IOMMU_TEST_PASID_RESERVED,
		(1u << MOCK_PASID_WIDTH) - 1, 1u << MOCK_PASID_WIDTH};
	if (t.r.pct(90))
		return some[t.r.below(sizeof(some) / sizeof(some[0]))];
	return static_cast<uint32_t>(t.r.next());
}
B(t_pasid)
{
	static const uint32_t ops[] = {IOMMU_TEST_OP_PASID_ATTACH, IOMMU_TEST_OP_PASID_REPLACE,
		IOMMU_TEST_OP_PASID_DETACH, IOMMU_TEST_OP_PASID_CHECK_HWPT};
	const uint32_t op = ops[t.r.below(4)];
	auto &c = test(t, op, t.id(STDEV));
	c.pasid_attach.pasid = fuzz_pasid(t);
	c.pasid_attach.pt_id = t.r.pct(80) ? t.id(HWPT) : t.r.pct(50) ? t.id(IOAS) : 0;
}
B(t_trigger_iopf)
{
	auto &c = test(t, IOMMU_TEST_OP_TRIGGER_IOPF, 0);
	c.trigger_iopf.dev_id = t.id(DEV);
	c.trigger_iopf.pasid = t.r.pct(60) ? 0 : fuzz_pasid(t);
	c.trigger_iopf.grpid = static_cast<uint32_t>(t.r.pct(80) ? t.r.below(8) : t.r.next());
	c.trigger_iopf.perm = t.flags32(IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE |
					IOMMU_PGFAULT_PERM_EXEC | IOMMU_PGFAULT_PERM_PRIV);
	c.trigger_iopf.addr = t.r.pct(80) ? t.iova() : t.interesting64();
}
B(t_unknown_op)
{
	static const uint32_t ops[] = {0, IOMMU_TEST_OP_TRIGGER_VEVENT, 22, 0x80000000U,
		0xffffffffU};
	auto &c = test(t, ops[t.r.below(sizeof(ops) / sizeof(ops[0]))], t.id(IOAS));
	// Should one of these ops appear, its pointers must still be safe.
	for (unsigned i = 16; i + 8 <= offsetof(iommu_test_cmd, last); i += 8) {
		uint64_t v = t.r.pct(50) ? t.r.below(64) : t.bad_ptr();
		memcpy(t.arg + i, &v, 8);
	}
	c.__reserved = 0;
}

// ---- HWPT, devices, DMA ----
B(get_hw_info)
{
	auto &c = t.a<iommu_hw_info>();
	c.flags = t.flags32(0);
	c.dev_id = t.id(DEV);
	c.data_len = static_cast<uint32_t>(t.r.pct(85) ? t.r.below(64) : t.r.next());
	c.data_uptr = t.out_ptr();
	c.__reserved[0] = t.r.pct(95) ? 0 : 1;
}
B(hwpt_alloc)
{
	auto &c = t.a<iommu_hwpt_alloc>();
	auto *d = t.s.buf();
	unsigned k = t.r.below(100);
	c.dev_id = t.id(DEV);
	for (unsigned i = 0; i < 32; i++)
		d[i] = t.r.pct(80) ? 0 : static_cast<uint8_t>(t.r.next());
	if (k < 50) {
		// A paging HWPT of an IOAS.
		c.pt_id = t.id(IOAS);
		c.flags = t.r.pct(45) ? 0U :
			  t.r.pct(45) ? static_cast<uint32_t>(IOMMU_HWPT_ALLOC_DIRTY_TRACKING) :
			  t.r.pct(60) ? static_cast<uint32_t>(IOMMU_HWPT_ALLOC_NEST_PARENT) :
			  t.flags32(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				    IOMMU_HWPT_ALLOC_PASID);
		c.data_type = IOMMU_HWPT_DATA_NONE;
	} else if (k < 90) {
		// A nested HWPT on a NEST_PARENT one, or on a vIOMMU.
		c.pt_id = t.r.pct(80) ? t.id(PARENT) : t.id(VIOMMU);
		c.flags = t.r.pct(85) ? 0U : static_cast<uint32_t>(IOMMU_HWPT_ALLOC_PASID);
		if (t.r.pct(50)) {
			c.data_type = IOMMU_HWPT_DATA_SELFTEST;
			c.data_len = sizeof(iommu_hwpt_selftest);
			reinterpret_cast<iommu_hwpt_selftest *>(d)->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
		} else {
			c.data_type = IOMMULAB_HWPT_DATA_MOCK_S1;
			c.data_len = sizeof(iommulab_hwpt_mock_s1);
			auto *s1 = reinterpret_cast<iommulab_hwpt_mock_s1 *>(d);
			s1->flags = t.r.pct(95) ? 0 : 1;
			s1->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
			s1->s1_offset = t.r.pct(90) ? t.r.below(1 << 10) * PS : t.interesting64();
		}
	} else {
		static const uint32_t types[] = {IOMMU_HWPT_DATA_NONE, IOMMU_HWPT_DATA_SELFTEST,
						 IOMMULAB_HWPT_DATA_MOCK_S1, 1, 0xffffffffU};
		c.pt_id = t.r.pct(50) ? t.id(IOAS) : t.id(HWPT);
		c.flags = t.flags32(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				    IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID);
		c.data_type = types[t.r.below(5)];
		c.data_len = static_cast<uint32_t>(t.r.pct(70) ? t.r.below(24) : t.r.next());
	}
	c.data_uptr = t.r.pct(90) ? reinterpret_cast<uintptr_t>(d) : t.in_ptr();
	c.fault_id = static_cast<uint32_t>(t.r.below(8));
	if (k < 90 && t.r.pct(25)) {
		// A HWPT that reports its faults to a fault queue.
		c.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		c.fault_id = t.id(FAULT);
	}
	c.__reserved = t.r.pct(97) ? 0 : 1;
	c.__reserved2 = t.r.pct(97) ? 0 : 1;
}
D(hwpt_alloc)
{
	auto &c = t.a<iommu_hwpt_alloc>();
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[HWPT], c.out_hwpt_id, 16, t.r);
	if (c.flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING)
		push_capped(t.f->dirty, {c.out_hwpt_id, c.pt_id}, 8, t.r);
	if (c.flags & IOMMU_HWPT_ALLOC_NEST_PARENT)
		push_capped(t.f->ids[PARENT], c.out_hwpt_id, 8, t.r);
	if (c.data_type != IOMMU_HWPT_DATA_NONE)
		push_capped(t.f->ids[NESTED], c.out_hwpt_id, 8, t.r);
}
B(hwpt_invalidate)
{
	auto &c = t.a<iommu_hwpt_invalidate>();
	c.hwpt_id = t.id(NESTED);
	auto *e = reinterpret_cast<iommu_hwpt_invalidate_selftest *>(t.s.buf());
	for (unsigned i = 0; i < 8; i++)
		e[i] = {t.r.pct(30) ? IOMMU_TEST_INVALIDATE_FLAG_ALL : 0u,
			static_cast<uint32_t>(t.r.below(6))};
	c.data_uptr = t.r.pct(80) ? reinterpret_cast<uintptr_t>(e) : t.in_ptr();
	c.data_type = t.r.pct(70) ? IOMMU_HWPT_INVALIDATE_DATA_SELFTEST : static_cast<uint32_t>(t.r.next());
	c.entry_len = t.r.pct(80) ? sizeof(*e) : static_cast<uint32_t>(t.r.below(64));
	c.entry_num = t.r.pct(90) ? static_cast<uint32_t>(t.r.below(9)) : static_cast<uint32_t>(t.r.next());
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(group_alloc)
{
	auto &c = t.a<iommulab_mock_group_alloc>();
	c.flags = t.flags32(0);
	c.nr_devices = static_cast<uint32_t>(t.r.pct(90) ? t.r.below(10) : t.r.next());
	c.dev_flags = t.flags32(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA |
				MOCK_FLAGS_DEVICE_PASID | IOMMULAB_MOCK_DEV_4K |
				IOMMULAB_MOCK_DEV_PRI | IOMMULAB_MOCK_DEV_NO_IOPF);
	c.devs_uptr = t.r.pct(80) ? reinterpret_cast<uintptr_t>(t.s.buf()) : t.out_ptr();
}
// The @n devices a call filled in at @uptr (when it is the scratch
// buffer): their stdev IDs to the fd's pool, their RIDs (or sub-device
// handles, which BIND and MOCK_DMA take as RIDs) to the shared one.
void push_devs(Thread &t, uint64_t uptr, uint32_t n)
{
	if (uptr != reinterpret_cast<uintptr_t>(t.s.buf()) || n > 8)
		return;
	auto *d = reinterpret_cast<iommulab_mock_dev_info *>(t.s.buf());
	{
		std::lock_guard<std::mutex> g(t.f->m);
		for (unsigned i = 0; i < n; i++)
			push_capped(t.f->ids[STDEV], d[i].stdev_id, 16, t.r);
	}
	std::lock_guard<std::mutex> g(g_mutex);
	for (unsigned i = 0; i < n; i++)
		push_capped(rids, d[i].rid, 32, t.r);
}
D(group_alloc)
{
	auto &c = t.a<iommulab_mock_group_alloc>();
	push_devs(t, c.devs_uptr, c.nr_devices);
}
B(subdev_alloc)
{
	auto &c = t.a<iommulab_mock_subdev_alloc>();
	c.flags = t.flags32(0);
	c.parent_id = t.id(STDEV);
	c.nr_subdevs = static_cast<uint32_t>(t.r.pct(90) ? t.r.below(10) : t.r.next());
	c.subdevs_uptr = t.r.pct(80) ? reinterpret_cast<uintptr_t>(t.s.buf()) : t.out_ptr();
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
D(subdev_alloc)
{
	auto &c = t.a<iommulab_mock_subdev_alloc>();
	push_devs(t, c.subdevs_uptr, c.nr_subdevs);
}
B(aux_get_domain)
{
	auto &c = t.a<iommulab_aux_get_domain>();
	c.flags = t.flags32(0);
	// A bound device's ID, or the creator's stdev ID of a sub-device.
	c.dev_id = t.r.pct(60) ? t.id(DEV) : t.id(STDEV);
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(device_bind)
{
	auto &c = t.a<iommulab_device_bind>();
	c.flags = t.flags32(0);
	c.rid = t.rid();
	c.cookie = t.r.next();
}
D(device_bind)
{
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[DEV], t.a<iommulab_device_bind>().out_dev_id, 16, t.r);
}
B(device_attach)
{
	auto &c = t.a<iommulab_device_attach>();
	// The sub-device path flags (both at once, or on a device that is no
	// sub-device: EINVAL; other bits: EOPNOTSUPP).
	c.flags = t.flags32(IOMMULAB_ATTACH_SUBDEV_AUX | IOMMULAB_ATTACH_SUBDEV_PASID);
	c.dev_id = t.id(DEV);
	c.pt_id = t.r.pct(50) ? t.id(IOAS) : t.id(HWPT);
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
D(device_attach)
{
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[HWPT], t.a<iommulab_device_attach>().out_hwpt_id, 16, t.r);
}
B(device_detach)
{
	t.a<iommulab_device_detach>().dev_id = t.id(DEV);
}
B(device_pasid)
{
	auto &c = t.a<iommulab_device_pasid>();
	c.flags = t.r.pct(20) ? static_cast<uint32_t>(IOMMULAB_DEVICE_PASID_ALLOC) : t.flags32(0);
	c.op = static_cast<uint32_t>(t.r.pct(95) ? t.r.below(3) : t.r.next());
	c.dev_id = t.id(DEV);
	c.pasid = c.flags && t.r.pct(90) ? 0 : fuzz_pasid(t);
	c.pt_id = c.op == IOMMULAB_PASID_DETACH && t.r.pct(90) ? 0 :
		  t.r.pct(80) ? t.id(HWPT) : t.id(IOAS);
}
B(ioasid_set_alloc)
{
	auto &c = t.a<iommulab_ioasid_set_alloc>();
	c.flags = t.r.pct(90) ? static_cast<uint32_t>(IOMMULAB_IOASID_SET_TOKEN_VALUE) : t.flags32(1);
	c.quota = t.r.pct(90) ? 1 + static_cast<uint32_t>(t.r.below(64)) :
				static_cast<uint32_t>(t.r.next());
	// Value tokens, so that the fuzzer's threads do not all meet on
	// their one mm; a few shared ones meet on purpose (EEXIST).
	c.token = c.flags == IOMMULAB_IOASID_SET_TOKEN_VALUE ?
			  (t.r.pct(50) ? 1 + t.r.below(4) : t.r.next()) : 0;
}
D(ioasid_set_alloc)
{
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[SET], t.a<iommulab_ioasid_set_alloc>().out_set_id, 4, t.r);
}
B(ioasid)
{
	auto &c = t.a<iommulab_ioasid>();
	c.flags = t.flags32(0);
	c.op = static_cast<uint32_t>(t.r.pct(95) ? t.r.below(5) : t.r.next());
	c.set_id = t.id(SET);
	c.pasid = c.op == IOMMULAB_IOASID_ALLOC || c.op == IOMMULAB_IOASID_LOOKUP ?
			  (t.r.pct(90) ? 0 : fuzz_pasid(t)) : fuzz_pasid(t);
	c.vpasid = c.op == IOMMULAB_IOASID_BIND || c.op == IOMMULAB_IOASID_LOOKUP ?
			   fuzz_pasid(t) : (t.r.pct(90) ? 0 : fuzz_pasid(t));
}
B(ioasid_set_info)
{
	auto &c = t.a<iommulab_ioasid_set_info>();
	c.flags = t.flags32(0);
	c.set_id = t.id(SET);
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(aux)
{
	auto &c = t.a<iommulab_aux>();
	c.flags = t.flags32(0);
	c.dev_id = t.id(DEV);
	c.hwpt_id = t.r.pct(85) ? t.id(HWPT) : t.id(IOAS);
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(viommu_alloc)
{
	auto &c = t.a<iommu_viommu_alloc>();
	c.flags = t.flags32(0);
	c.type = t.r.pct(90) ? IOMMU_VIOMMU_TYPE_SELFTEST : static_cast<uint32_t>(t.r.below(4));
	c.dev_id = t.id(DEV);
	c.hwpt_id = t.r.pct(80) ? t.id(PARENT) : t.id(HWPT);
	c.data_len = t.r.pct(90) ? 0 : static_cast<uint32_t>(t.r.below(64));
	c.data_uptr = t.in_ptr();
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
D(viommu_alloc)
{
	std::lock_guard<std::mutex> g(t.f->m);
	push_capped(t.f->ids[VIOMMU], t.a<iommu_viommu_alloc>().out_viommu_id, 8, t.r);
}
B(set_driver)
{
	auto &c = t.a<iommulab_mock_set_driver>();
	c.stdev_id = t.id(STDEV);
	c.bound = static_cast<uint32_t>(t.r.pct(90) ? t.r.below(2) : t.r.next());
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(mock_dma)
{
	auto &c = t.a<iommulab_mock_dma>();
	c.flags = t.flags32(IOMMULAB_DMA_WRITE | IOMMULAB_DMA_PASID | IOMMULAB_DMA_DEV_ID);
	c.rid = (c.flags & IOMMULAB_DMA_DEV_ID) ? (t.r.pct(50) ? t.id(DEV) : t.id(STDEV)) : t.rid();
	c.pasid = static_cast<uint32_t>(t.r.pct(80) ? t.r.below(4) : t.r.next());
	c.iova = t.iova();
	c.length = t.r.pct(85) ? 1 + t.r.below(PS) : t.length();
	c.uptr = (c.flags & IOMMULAB_DMA_WRITE) && t.r.pct(50) ? t.in_ptr(c.length) : t.out_ptr();
	c.__reserved = t.r.pct(97) ? 0 : 1;
}

// ---- dirty tracking ----
// A bitmap page size: mostly a power of two the mock has (2 KiB, 4 KiB),
// then larger ones, and hostile ones (0, not a power of two, huge).
uint64_t dirty_page_size(Thread &t)
{
	static const uint64_t v[] = {2048, 4096, 4096, 8192, 1ULL << 20, 2ULL << 20,
		1ULL << 30, 0, 1, 3 * 4096, 4096 + 2048, 1ULL << 63, UINT64_MAX};
	if (t.r.pct(90))
		return v[t.r.below(sizeof(v) / sizeof(v[0]))];
	return t.r.next();
}
// A range for a bitmap call: a recorded mapping (whole, part, or past
// it), else random; *ioas is set to the mapping's IOAS when one is used.
void dirty_range(Thread &t, __u32 *ioas, __u64 *iova, __u64 *len)
{
	const Mapping *m = t.mapping(*ioas);
	if (m && t.r.pct(70)) {
		*ioas = m->ioas;
		*iova = m->iova + (t.r.pct(80) ? 0 : t.r.below(m->len));
		*len = t.r.pct(60) ? m->len : t.r.pct(50) ? 2 * m->len : t.r.below(m->len) + 1;
		if (t.r.pct(10))
			*iova += 1 + t.r.below(2047);  // unaligned
		return;
	}
	*iova = t.iova();
	*len = t.length();
}
// Mostly a HWPT that can track and *@ioas its IOAS, else any ID.
uint32_t dirty_hwpt(Thread &t, __u32 *ioas)
{
	{
		std::lock_guard<std::mutex> g(t.f->m);
		if (!t.f->dirty.empty() && t.r.pct(75)) {
			auto d = t.r.pick(t.f->dirty);
			*ioas = d.second;
			return d.first;
		}
	}
	*ioas = 0;
	return t.r.pct(85) ? t.id(HWPT) : t.r.pct(50) ? t.id(NESTED) : t.id(IOAS);
}
B(set_dirty_tracking)
{
	auto &c = t.a<iommu_hwpt_set_dirty_tracking>();
	__u32 ioas;
	c.flags = t.r.pct(60) ? static_cast<uint32_t>(IOMMU_HWPT_DIRTY_TRACKING_ENABLE) :
				t.flags32(IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	c.hwpt_id = dirty_hwpt(t, &ioas);
	c.__reserved = t.r.pct(95) ? 0 : 1;
}
B(get_dirty_bitmap)
{
	auto &c = t.a<iommu_hwpt_get_dirty_bitmap>();
	__u32 ioas;
	c.hwpt_id = dirty_hwpt(t, &ioas);
	c.flags = t.flags32(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	c.__reserved = t.r.pct(95) ? 0 : 1;
	dirty_range(t, &ioas, &c.iova, &c.length);
	c.page_size = dirty_page_size(t);
	// The kernel ORs bits into it: scratch page 1 (a bitmap longer than
	// a page runs into the guard page: EFAULT), the data region, or
	// memory it cannot write, at any byte alignment.
	c.data = t.out_ptr();
}
B(dma_burst)
{
	auto &c = t.a<iommulab_mock_dma_burst>();
	c.flags = t.flags32(IOMMULAB_DMA_WRITE | IOMMULAB_DMA_PASID | IOMMULAB_DMA_DEV_ID);
	c.rid = (c.flags & IOMMULAB_DMA_DEV_ID) ? (t.r.pct(50) ? t.id(DEV) : t.id(STDEV)) : t.rid();
	c.pasid = static_cast<uint32_t>(t.r.pct(80) ? t.r.below(4) : t.r.next());
	// Up to 512 IOVAs in scratch page 1 (one more runs into the guard
	// page: EFAULT): mapped ones, near the top, random.
	auto *iovas = reinterpret_cast<uint64_t *>(t.s.buf());
	uint32_t room = PS / sizeof(uint64_t);
	for (uint32_t i = 0; i < room; i++)
		iovas[i] = t.r.pct(70) ? t.iova() + t.r.below(PS) : t.interesting64();
	unsigned k = t.r.below(100);
	c.nr = k < 70 ? 1 + static_cast<uint32_t>(t.r.below(32)) :
	       k < 85 ? room : k < 90 ? room + 1 : k < 95 ? 65537 : static_cast<uint32_t>(t.r.next());
	c.iovas_uptr = t.r.pct(85) ? reinterpret_cast<uintptr_t>(iovas) : t.in_ptr();
	c.length = t.r.pct(85) ? 1 + static_cast<uint32_t>(t.r.below(PS)) :
				 static_cast<uint32_t>(t.r.pct(50) ? 4097 : t.r.next());
	c.value = (c.flags & IOMMULAB_DMA_WRITE) || t.r.pct(10) ?
			  static_cast<uint32_t>(t.r.pct(90) ? t.r.below(256) : t.r.next()) : 0;
	c.__reserved = t.r.pct(97) ? 0 : 1;
}
B(unmap_dirty)
{
	auto &c = t.a<iommulab_ioas_unmap_dirty>();
	c.flags = t.flags32(0);
	dirty_hwpt(t, &c.ioas_id);
	if (!c.ioas_id || t.r.pct(20))
		c.ioas_id = t.id(IOAS);
	c.__reserved = t.r.pct(97) ? 0 : 1;
	dirty_range(t, &c.ioas_id, &c.iova, &c.length);
	if (t.r.pct(5)) {
		c.iova = 0;
		c.length = UINT64_MAX;
	}
	c.page_size = dirty_page_size(t);
	c.data = t.out_ptr();
}
D(unmap_dirty)
{
	auto &c = t.a<iommulab_ioas_unmap_dirty>();
	std::lock_guard<std::mutex> g(t.f->m);
	t.f->maps.erase(std::remove_if(t.f->maps.begin(), t.f->maps.end(),
				       [&](const Mapping &m) {
					       return m.ioas == c.ioas_id && m.iova >= c.iova &&
						      m.iova - c.iova < c.length;
				       }),
			t.f->maps.end());
}
// SPLIT and MERGE: a paging HWPT, a mapped range (or not), IOPTE sizes
// the domains have, do not have, and hostile ones.
void iopte(Thread &t, bool split)
{
	auto &c = t.a<iommulab_hwpt_iopte>();
	static const uint64_t sizes[] = {2048, 4096, 4096, 1ULL << 20, 2ULL << 20,
		1ULL << 30, 0, 8192, 3 * 4096, 1ULL << 63};
	__u32 ioas;
	c.flags = t.flags32(0);
	c.hwpt_id = dirty_hwpt(t, &ioas);
	c.__reserved = t.r.pct(97) ? 0 : 1;
	dirty_range(t, &ioas, &c.iova, &c.length);
	if (t.r.pct(10)) {
		c.iova = 0;
		c.length = t.r.pct(50) ? UINT64_MAX : 1ULL << 31;
	}
	if (split)
		c.iopte_size = t.r.pct(90) ? sizes[t.r.below(sizeof(sizes) / sizeof(sizes[0]))] :
					     t.r.next();
	else
		c.iopte_size = t.r.pct(90) ? 0 : sizes[t.r.below(sizeof(sizes) / sizeof(sizes[0]))];
}
B(split)
{
	iopte(t, true);
}
B(merge)
{
	iopte(t, false);
}
B(t_dirty)
{
	// IOMMU_TEST_OP_DIRTY: marks the IOPTEs of the set bits of a bitmap
	// the kernel reads (copies, up to 16 MiB of it).
	__u32 ioas;
	auto &c = test(t, IOMMU_TEST_OP_DIRTY, dirty_hwpt(t, &ioas));
	dirty_range(t, &ioas, &c.dirty.iova, &c.dirty.length);
	if (t.r.pct(5))
		c.dirty.length = t.r.pct(50) ? 2048ULL << 27 : 2048ULL << 28;  // 2^27 bits: the limit
	c.dirty.page_size = t.r.pct(70) ? 2048 : dirty_page_size(t);
	auto *bits = t.s.buf();
	for (unsigned i = 0; i < PS; i++)
		bits[i] = t.r.pct(90) ? 0 : static_cast<uint8_t>(t.r.next());
	c.dirty.uptr = t.r.pct(80) ? reinterpret_cast<uintptr_t>(bits) : t.in_ptr();
	c.dirty.flags = t.flags32(0);
}
B(t_read_ioptes)
{
	// IOMMULAB_TEST_OP_READ_IOPTES: reads a range's IOPTEs, changes nothing;
	// flags, page_size and uptr must be 0.
	__u32 ioas = 0;
	auto &c = test(t, IOMMULAB_TEST_OP_READ_IOPTES, t.r.pct(90) ? dirty_hwpt(t, &ioas) :
									  t.id(IOAS));
	dirty_range(t, &ioas, &c.dirty.iova, &c.dirty.length);
	if (t.r.pct(5)) {
		c.dirty.iova = t.r.pct(50) ? 1ULL << 48 : t.r.next();
		c.dirty.length = t.r.pct(50) ? UINT64_MAX : 1ULL << 30;
	}
	c.dirty.flags = t.r.pct(95) ? 0 : t.flags32(0) | 1;
	c.dirty.page_size = t.r.pct(95) ? 0 : 4096;
	c.dirty.uptr = t.r.pct(95) ? 0 : t.in_ptr();
}

B(vfio_ioas)
{
	auto &c = t.a<iommu_vfio_ioas>();
	c.op = static_cast<uint16_t>(t.r.pct(90) ? t.r.below(3) : t.r.next());
	c.ioas_id = t.id(IOAS);
	c.__reserved = t.r.pct(97) ? 0 : 1;
}

// Upstream commands iommulab has a row for but does not implement: small
// values and bad pointers only, the same rule as unknown_ioctl.
B(unimplemented)
{
	for (unsigned i = 8; i < 64; i += 8) {
		uint64_t v = t.r.pct(50) ? t.r.below(64) : t.bad_ptr();
		memcpy(t.arg + i, &v, 8);
	}
}

B(unknown_ioctl)
{
	// Numbers the module has no row for (gaps in upstream's range and
	// past it, other directions/sizes of known numbers).
	// Safe values only: a command added later must not get a pointer to
	// the fuzzer's own memory.
	for (unsigned i = 0; i < 64; i += 8) {
		uint64_t v = t.r.pct(50) ? t.r.below(64) : t.bad_ptr();
		memcpy(t.arg + i, &v, 8);
	}
	*reinterpret_cast<uint32_t *>(t.arg) = 64;
}
void b_pseudo(Thread &) {}

B(fault_alloc)
{
	auto &c = t.a<iommu_fault_alloc>();
	c.flags = t.flags32(0);
}
D(fault_alloc)
{
	auto &c = t.a<iommu_fault_alloc>();
	int victim = -1;
	{
		std::lock_guard<std::mutex> g(t.f->m);
		push_capped(t.f->ids[FAULT], c.out_fault_id, 8, t.r);
	}
	{
		std::lock_guard<std::mutex> g(g_mutex);
		fault_fds.push_back(static_cast<int>(c.out_fault_fd));
		if (fault_fds.size() > 8) {
			size_t i = t.r.below(fault_fds.size());
			victim = fault_fds[i];
			fault_fds.erase(fault_fds.begin() + i);
		}
	}
	// Closing answers its pending faults; the queue's ID stays (a stale
	// or destroyable one).
	if (victim >= 0)
		close(victim);
}

#undef B
#undef D

const Errs kTestErrs = errs({EBUSY, EBADF, EBADFD, EPERM, EIO, EADDRINUSE, EEXIST, EBADE,
			     ENOSPC, EMFILE, EACCES});

enum { P_CLOSE_ACCESS = 1, P_REPLACE_FD, P_UNKNOWN, P_TRUNCATE, P_NETLINK, P_FAULT_FD };

// The table. kErr* sets: the base set above plus what each handler
// documents (uAPI headers) or returns (see the kmod sources):
//   EBUSY   object in use, group owned/viable rules, pinned ranges
//   EPERM   write access to read-only memory or mappings, CAP_SYS_RESOURCE,
//           DMA of a device nobody owns
//   EEXIST  IOVA already mapped;  ENOSPC no free IOVA;  EMSGSIZE array short
//   EADDRINUSE  reserved vs allowed/mapped ranges, HUGE_PAGES off over a
//               misaligned mapping;  EBADFD/EMFILE access fds
//   ENODEV  VFIO_IOAS GET with no compatibility IOAS
//   EIO     MD_CHECK_* found a difference;  EBADE ACCESS_PAGES: not the
//           pages at uptr
const std::vector<Cmd> &table()
{
	static const std::vector<Cmd> t = {
	{"DESTROY", IOMMU_DESTROY, sizeof(iommu_destroy), 6, errs({EBUSY}), b_destroy, d_destroy, 0},
	{"IOAS_ALLOC", IOMMU_IOAS_ALLOC, sizeof(iommu_ioas_alloc), 6, errs({}), b_ioas_alloc, d_ioas_alloc, 0},
	{"IOAS_ALLOW_IOVAS", IOMMU_IOAS_ALLOW_IOVAS, sizeof(iommu_ioas_allow_iovas), 3,
	 errs({EADDRINUSE, EBUSY}), b_allow_iovas, nullptr, 0},
	{"IOAS_COPY", IOMMU_IOAS_COPY, sizeof(iommu_ioas_copy), 5,
	 errs({EEXIST, ENOSPC, EPERM, EBUSY, EADDRINUSE}), b_copy, d_copy, 0},
	{"IOAS_IOVA_RANGES", IOMMU_IOAS_IOVA_RANGES, sizeof(iommu_ioas_iova_ranges), 3,
	 errs({EMSGSIZE}), b_iova_ranges, nullptr, 0},
	{"IOAS_MAP", IOMMU_IOAS_MAP, sizeof(iommu_ioas_map), 12,
	 errs({EEXIST, ENOSPC, EPERM, EBUSY}), b_map, d_map, 0},
	// As IOAS_MAP, plus EBADF (fd not open); a file that is not a memfd
	// and a range past its end are EINVAL. Pinning errors (into an IOAS
	// with a domain) are EFAULT (a truncated memfd) and ENOMEM (no huge
	// pages for the hugetlbfs one).
	{"IOAS_MAP_FILE", IOMMU_IOAS_MAP_FILE, sizeof(iommu_ioas_map_file), 6,
	 errs({EEXIST, ENOSPC, EBADF}), b_map_file, d_map_file, 0},
	{"IOAS_UNMAP", IOMMU_IOAS_UNMAP, sizeof(iommu_ioas_unmap), 8, errs({EBUSY}), b_unmap, d_unmap, 0},
	{"OPTION", IOMMU_OPTION, sizeof(iommu_option), 3, errs({EPERM, EBUSY, EADDRINUSE}),
	 b_option, nullptr, 0},
	{"VFIO_IOAS", IOMMU_VFIO_IOAS, sizeof(iommu_vfio_ioas), 2, errs({ENODEV}), b_vfio_ioas,
	 nullptr, 0},
	{"GET_INFO", IOMMULAB_GET_INFO, sizeof(iommulab_info), 1, errs({}), b_get_info, nullptr, 0},
	{"BENCH_PIN", IOMMULAB_BENCH_PIN, sizeof(iommulab_bench_pin), 2, errs({EPERM}),
	 b_bench_pin, nullptr, 0},
	{"TEST/ADD_RESERVED", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 3, kTestErrs,
	 b_t_add_reserved, nullptr, IOMMU_TEST_OP_ADD_RESERVED},
	{"TEST/MD_CHECK_REFS", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 2, kTestErrs,
	 b_t_check_refs, nullptr, IOMMU_TEST_OP_MD_CHECK_REFS},
	{"TEST/CREATE_ACCESS", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 4, kTestErrs,
	 b_t_create_access, d_t_create_access, IOMMU_TEST_OP_CREATE_ACCESS},
	{"TEST/DESTROY_ACCESS_PAGES", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 3, kTestErrs,
	 b_t_destroy_access_pages, d_t_destroy_access_pages, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES},
	{"TEST/ACCESS_PAGES", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 5, kTestErrs,
	 b_t_access_pages, d_t_access_pages, IOMMU_TEST_OP_ACCESS_PAGES},
	{"TEST/ACCESS_RW", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 5, kTestErrs,
	 b_t_access_rw, nullptr, IOMMU_TEST_OP_ACCESS_RW},
	{"TEST/SET_TEMP_MEMORY_LIMIT", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 1, kTestErrs,
	 b_t_memory_limit, nullptr, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT},
	{"TEST/ACCESS_REPLACE_IOAS", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 3, kTestErrs,
	 b_t_access_replace_ioas, nullptr, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS},
	{"TEST/MOCK_DOMAIN", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 4, kTestErrs,
	 b_t_mock_domain, d_t_mock_domain, IOMMU_TEST_OP_MOCK_DOMAIN},
	{"TEST/MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 3, kTestErrs,
	 b_t_mock_domain_replace, nullptr, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE},
	{"TEST/MD_CHECK_MAP", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 2, kTestErrs,
	 b_t_check_map, nullptr, IOMMU_TEST_OP_MD_CHECK_MAP},
	{"TEST/MD_CHECK_IOTLB", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 1, kTestErrs,
	 b_t_check_iotlb, nullptr, IOMMU_TEST_OP_MD_CHECK_IOTLB},
	{"TEST/DEV_CHECK_CACHE", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 1, kTestErrs,
	 b_t_check_cache, nullptr, IOMMU_TEST_OP_DEV_CHECK_CACHE},
	{"TEST/PASID", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 3, kTestErrs,
	 b_t_pasid, nullptr, 0},
	{"TEST/unknown-op", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 1, kTestErrs,
	 b_t_unknown_op, nullptr, 0},
	{"GET_HW_INFO", IOMMU_GET_HW_INFO, sizeof(iommu_hw_info), 2, errs({EBUSY}),
	 b_get_hw_info, nullptr, 0},
	{"HWPT_ALLOC", IOMMU_HWPT_ALLOC, sizeof(iommu_hwpt_alloc), 4,
	 errs({EBUSY, EPERM, EADDRINUSE, ENOSPC}), b_hwpt_alloc, d_hwpt_alloc, 0},
	{"HWPT_INVALIDATE", IOMMU_HWPT_INVALIDATE, sizeof(iommu_hwpt_invalidate), 2, errs({}),
	 b_hwpt_invalidate, nullptr, 0},
	{"MOCK_GROUP_ALLOC", IOMMULAB_MOCK_GROUP_ALLOC, sizeof(iommulab_mock_group_alloc), 3,
	 errs({ENOSPC}), b_group_alloc, d_group_alloc, 0},
	// ENOSPC: the sub-device handle space (0x10000 to 0x1ffff) is full.
	{"MOCK_SUBDEV_ALLOC", IOMMULAB_MOCK_SUBDEV_ALLOC, sizeof(iommulab_mock_subdev_alloc), 3,
	 errs({ENOSPC}), b_subdev_alloc, d_subdev_alloc, 0},
	{"AUX_GET_DOMAIN", IOMMULAB_AUX_GET_DOMAIN, sizeof(iommulab_aux_get_domain), 2,
	 errs({}), b_aux_get_domain, nullptr, 0},
	{"DEVICE_BIND", IOMMULAB_DEVICE_BIND, sizeof(iommulab_device_bind), 4,
	 errs({EBUSY, EPERM}), b_device_bind, d_device_bind, 0},
	{"DEVICE_ATTACH", IOMMULAB_DEVICE_ATTACH, sizeof(iommulab_device_attach), 4,
	 errs({EBUSY, EADDRINUSE, EPERM, ENOSPC, EEXIST}), b_device_attach, d_device_attach, 0},
	{"DEVICE_DETACH", IOMMULAB_DEVICE_DETACH, sizeof(iommulab_device_detach), 2,
	 errs({EBUSY}), b_device_detach, nullptr, 0},
	{"DEVICE_PASID", IOMMULAB_DEVICE_PASID, sizeof(iommulab_device_pasid), 3,
	 errs({EBUSY, ENOSPC}), b_device_pasid, nullptr, 0},
	{"AUX_ATTACH", IOMMULAB_AUX_ATTACH, sizeof(iommulab_aux), 3,
	 errs({EBUSY, ENOSPC}), b_aux, nullptr, 0},
	{"AUX_DETACH", IOMMULAB_AUX_DETACH, sizeof(iommulab_aux), 2,
	 errs({}), b_aux, nullptr, 0},
	{"AUX_GET_PASID", IOMMULAB_AUX_GET_PASID, sizeof(iommulab_aux), 1,
	 errs({}), b_aux, nullptr, 0},
	// ENOSPC: the quota or the system space; EEXIST: the token or the
	// fd has a set; EBUSY: an aux domain's PASID, a bound PASID, a set
	// with PASIDs.
	{"IOASID_SET_ALLOC", IOMMULAB_IOASID_SET_ALLOC, sizeof(iommulab_ioasid_set_alloc), 2,
	 errs({EEXIST}), b_ioasid_set_alloc, d_ioasid_set_alloc, 0},
	{"IOASID", IOMMULAB_IOASID, sizeof(iommulab_ioasid), 4,
	 errs({ENOSPC, EEXIST, EBUSY}), b_ioasid, nullptr, 0},
	{"IOASID_SET_INFO", IOMMULAB_IOASID_SET_INFO, sizeof(iommulab_ioasid_set_info), 1,
	 errs({}), b_ioasid_set_info, nullptr, 0},
	{"MOCK_SET_DRIVER", IOMMULAB_MOCK_SET_DRIVER, sizeof(iommulab_mock_set_driver), 2,
	 errs({EBUSY}), b_set_driver, nullptr, 0},
	{"MOCK_DMA", IOMMULAB_MOCK_DMA, sizeof(iommulab_mock_dma), 5, errs({EPERM, EACCES}),
	 b_mock_dma, nullptr, 0},
	// Dirty tracking (issue 12): the errnos of uapi/iommulab/iommufd.h and
	// iommulab.h ("Dirty tracking"), all in the base set; read & unmap adds
	// IOAS_UNMAP's EBUSY, the burst MOCK_DMA's EPERM/EACCES.
	{"HWPT_SET_DIRTY_TRACKING", IOMMU_HWPT_SET_DIRTY_TRACKING,
	 sizeof(iommu_hwpt_set_dirty_tracking), 2, errs({}), b_set_dirty_tracking, nullptr, 0},
	{"HWPT_GET_DIRTY_BITMAP", IOMMU_HWPT_GET_DIRTY_BITMAP,
	 sizeof(iommu_hwpt_get_dirty_bitmap), 3, errs({}), b_get_dirty_bitmap, nullptr, 0},
	{"MOCK_DMA_BURST", IOMMULAB_MOCK_DMA_BURST, sizeof(iommulab_mock_dma_burst), 3,
	 errs({EPERM, EACCES}), b_dma_burst, nullptr, 0},
	{"IOAS_UNMAP_DIRTY", IOMMULAB_IOAS_UNMAP_DIRTY, sizeof(iommulab_ioas_unmap_dirty), 3,
	 errs({EBUSY}), b_unmap_dirty, d_unmap_dirty, 0},
	{"HWPT_SPLIT", IOMMULAB_HWPT_SPLIT, sizeof(iommulab_hwpt_iopte), 2, errs({}), b_split,
	 nullptr, 0},
	{"HWPT_MERGE", IOMMULAB_HWPT_MERGE, sizeof(iommulab_hwpt_iopte), 2, errs({}), b_merge,
	 nullptr, 0},
	{"TEST/DIRTY", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 2, kTestErrs, b_t_dirty, nullptr,
	 IOMMU_TEST_OP_DIRTY},
	{"TEST/READ_IOPTES", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 1,
	 kTestErrs | errs({ERANGE}), b_t_read_ioptes, nullptr, IOMMULAB_TEST_OP_READ_IOPTES},
	{"IOAS_MAP_FILE", IOMMU_IOAS_MAP_FILE, sizeof(iommu_ioas_map_file), 1,
	 errs({EBADF, EEXIST, ENOSPC, EPERM, EBUSY}), b_unimplemented, nullptr, 0},
	{"VIOMMU_ALLOC", IOMMU_VIOMMU_ALLOC, sizeof(iommu_viommu_alloc), 2, errs({}),
	 b_viommu_alloc, d_viommu_alloc, 0},
	{"VDEVICE_ALLOC", IOMMU_VDEVICE_ALLOC, sizeof(iommu_vdevice_alloc), 1, errs({}),
	 b_unimplemented, nullptr, 0},
	{"IOAS_CHANGE_PROCESS", IOMMU_IOAS_CHANGE_PROCESS, sizeof(iommu_ioas_change_process), 1,
	 errs({EPERM}), b_unimplemented, nullptr, 0},
	{"VEVENTQ_ALLOC", IOMMU_VEVENTQ_ALLOC, sizeof(iommu_veventq_alloc), 1, errs({}),
	 b_unimplemented, nullptr, 0},
	{"HW_QUEUE_ALLOC", IOMMU_HW_QUEUE_ALLOC, sizeof(iommu_hw_queue_alloc), 1, errs({}),
	 b_unimplemented, nullptr, 0},
	// I/O page faults (issue 13): FAULT_QUEUE_ALLOC's errnos are the base
	// set (EOPNOTSUPP: flags); fault-id HWPTs are HWPT_ALLOC's rows above
	// (ENOENT: no such queue; EOPNOTSUPP: NEST_PARENT, a NO_IOPF device).
	{"FAULT_QUEUE_ALLOC", IOMMU_FAULT_QUEUE_ALLOC, sizeof(iommu_fault_alloc), 2, errs({EMFILE}),
	 b_fault_alloc, d_fault_alloc, 0},
	{"TEST/TRIGGER_IOPF", IOMMU_TEST_CMD, sizeof(iommu_test_cmd), 2, kTestErrs,
	 b_t_trigger_iopf, nullptr, IOMMU_TEST_OP_TRIGGER_IOPF},
	// HWPT / device / DMA commands added later: add their rows here.
	{"unknown-ioctl", 0, 64, 2, Errs().set(ENOTTY), b_unknown_ioctl, nullptr, P_UNKNOWN},
	{"close-access-fd", 0, 0, 1, Errs(), b_pseudo, nullptr, P_CLOSE_ACCESS},
	{"replace-shared-fd", 0, 0, 1, Errs(), b_pseudo, nullptr, P_REPLACE_FD},
	{"truncate-memfd", 0, 0, 1, Errs(), b_pseudo, nullptr, P_TRUNCATE},
	{"netlink", 0, 0, 2, Errs(), b_pseudo, nullptr, P_NETLINK},
	{"fault-fd", 0, 0, 2, Errs(), b_pseudo, nullptr, P_FAULT_FD},
	};
	return t;
}

unsigned long unknown_number(Rng &r)
{
	static const unsigned long known[] = {IOMMU_DESTROY, IOMMU_IOAS_ALLOC,
		IOMMU_IOAS_ALLOW_IOVAS, IOMMU_IOAS_COPY, IOMMU_IOAS_IOVA_RANGES,
		IOMMU_IOAS_MAP, IOMMU_IOAS_MAP_FILE, IOMMU_IOAS_UNMAP, IOMMU_OPTION,
		IOMMU_HWPT_ALLOC,
		IOMMU_GET_HW_INFO, IOMMU_HWPT_INVALIDATE, IOMMU_TEST_CMD,
		IOMMU_VFIO_IOAS, IOMMU_HWPT_SET_DIRTY_TRACKING,
		IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_FAULT_QUEUE_ALLOC,
		IOMMU_IOAS_MAP_FILE, IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC,
		IOMMU_IOAS_CHANGE_PROCESS, IOMMU_VEVENTQ_ALLOC, IOMMU_HW_QUEUE_ALLOC,
		IOMMULAB_GET_INFO, IOMMULAB_BENCH_PIN, IOMMULAB_MOCK_GROUP_ALLOC,
		IOMMULAB_DEVICE_BIND, IOMMULAB_DEVICE_ATTACH, IOMMULAB_DEVICE_DETACH,
		IOMMULAB_MOCK_SET_DRIVER, IOMMULAB_MOCK_DMA, IOMMULAB_DEVICE_PASID,
		IOMMULAB_AUX_ATTACH, IOMMULAB_AUX_DETACH, IOMMULAB_AUX_GET_PASID,
		IOMMULAB_IOASID_SET_ALLOC, IOMMULAB_IOASID, IOMMULAB_IOASID_SET_INFO,
		IOMMULAB_MOCK_SUBDEV_ALLOC, IOMMULAB_AUX_GET_DOMAIN,
		IOMMULAB_MOCK_DMA_BURST, IOMMULAB_IOAS_UNMAP_DIRTY,
		IOMMULAB_HWPT_SPLIT, IOMMULAB_HWPT_MERGE};
	for (;;) {
		unsigned long n;
		switch (r.below(4)) {
		case 0: n = _IO(IOMMUFD_TYPE, 0x80 + r.below(0x80)); break;
		case 1: n = _IOWR(IOMMUFD_TYPE, 0x80 + r.below(0x60), struct iommu_destroy); break;
		case 2: n = _IO('V', r.below(256)); break;
		default: n = static_cast<uint32_t>(r.next()); break;
		}
		bool is_known = false;
		for (unsigned long k : known)
			is_known |= k == n;
		if (!is_known)
			return n;
	}
}

// Offsets of the user pointers in each command's argument. Only the
// builders choose them (in_ptr()/out_ptr()/bad_ptr()): a random value there
// could name the fuzzer's own heap or stack, which the kernel would then
// write (ACCESS_RW, MOCK_DMA, pinned pages written by a device).
std::vector<unsigned> pointer_fields(unsigned long nr)
{
	switch (nr) {
	case IOMMU_IOAS_ALLOW_IOVAS: return {offsetof(iommu_ioas_allow_iovas, allowed_iovas)};
	case IOMMU_IOAS_IOVA_RANGES: return {offsetof(iommu_ioas_iova_ranges, allowed_iovas)};
	case IOMMU_IOAS_MAP: return {offsetof(iommu_ioas_map, user_va)};
	case IOMMULAB_BENCH_PIN: return {offsetof(iommulab_bench_pin, uptr)};
	case IOMMU_TEST_CMD: return {24, 32, 40};  // every uptr of the union
	case IOMMU_GET_HW_INFO: return {offsetof(iommu_hw_info, data_uptr)};
	case IOMMU_HWPT_ALLOC: return {offsetof(iommu_hwpt_alloc, data_uptr)};
	case IOMMU_HWPT_INVALIDATE: return {offsetof(iommu_hwpt_invalidate, data_uptr)};
	case IOMMULAB_MOCK_GROUP_ALLOC: return {offsetof(iommulab_mock_group_alloc, devs_uptr)};
	case IOMMULAB_MOCK_SUBDEV_ALLOC: return {offsetof(iommulab_mock_subdev_alloc, subdevs_uptr)};
	case IOMMULAB_MOCK_DMA: return {offsetof(iommulab_mock_dma, uptr)};
	case IOMMU_VIOMMU_ALLOC: return {offsetof(iommu_viommu_alloc, data_uptr)};
	case IOMMU_HWPT_GET_DIRTY_BITMAP: return {offsetof(iommu_hwpt_get_dirty_bitmap, data)};
	case IOMMULAB_IOAS_UNMAP_DIRTY: return {offsetof(iommulab_ioas_unmap_dirty, data)};
	case IOMMULAB_MOCK_DMA_BURST: return {offsetof(iommulab_mock_dma_burst, iovas_uptr)};
	default: return {};
	}
}

// ------------------------------------------------------------ one call ---
char *rec(unsigned thread, uint64_t n)
{
	return sh->ring[thread][n % opt.ring];
}

void fail(Thread &t, const std::string &why)
{
	int expect = 0;
	if (sh->failed.compare_exchange_strong(expect, 1))
		snprintf(sh->failure, sizeof(sh->failure), "thread %u: %s", t.idx, why.c_str());
}

std::string describe(const Cmd &c, Thread &t, unsigned long nr, int fd, uintptr_t argp,
		     unsigned argsize)
{
	std::string s = strf("%s fd=%d", c.name, fd);
	if (nr && nr != 0UL && c.op == P_UNKNOWN)
		s += strf(" nr=%#lx", nr);
	if (argp != reinterpret_cast<uintptr_t>(t.arg))
		s += strf(" argp=%#lx", static_cast<unsigned long>(argp));
	s += " [";
	unsigned show = std::min(argsize, 88U);
	for (unsigned i = 0; i + 4 <= show; i += 4) {
		uint32_t w;
		memcpy(&w, t.arg + i, 4);
		s += strf(i ? " %x" : "%x", w);
	}
	s += "]";
	if (!t.note.empty())
		s += " " + t.note;
	return s;
}

// ------------------------------------------------------------ netlink ---
// The notification family (uapi/iommulab/iommulab_genl.h), spoken with
// raw sockets. nl_family is resolved once by child(); 0: not registered.
int nl_family;
int nl_group;
std::mutex nl_mutex;
std::vector<int> nl_socks;  // under nl_mutex
constexpr size_t kNlPool = 8;

struct NlReq {
	nlmsghdr n;
	genlmsghdr g;
	uint8_t attrs[64];
};

// Sends a genl request; returns its size or -errno.
int nl_send(int sock, uint16_t type, uint8_t cmd, uint8_t reserved,
	    const uint8_t *attrs, size_t alen, uint16_t flags, uint32_t seq = 0)
{
	NlReq r{};
	r.n.nlmsg_seq = seq;
	alen = std::min(alen, sizeof(r.attrs));
	r.n.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(GENL_HDRLEN + alen));
	r.n.nlmsg_type = type;
	r.n.nlmsg_flags = NLM_F_REQUEST | flags;
	r.g.cmd = cmd;
	r.g.version = IOMMULAB_GENL_VERSION;
	r.g.reserved = reserved;
	if (alen)
		memcpy(r.attrs, attrs, alen);
	sockaddr_nl to{};
	to.nl_family = AF_NETLINK;
	ssize_t n = sendto(sock, &r, r.n.nlmsg_len, 0, reinterpret_cast<sockaddr *>(&to),
			   sizeof(to));
	return n < 0 ? -errno : static_cast<int>(n);
}

// Reads what is queued without waiting; returns the errno of the ack of
// request @seq (0 for a plain ack), or 1 if this read did not see it (not
// sent yet, or another thread sharing the socket read it).
std::atomic<uint32_t> nl_seq{1};
int nl_drain(int sock, uint32_t seq = 0)
{
	alignas(8) static thread_local uint8_t buf[16384];
	int first = 1;
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)  // a full receiver: events dropped
				continue;
			return first;
		}
		for (nlmsghdr *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR && seq && h->nlmsg_seq == seq) {
				auto *e = static_cast<nlmsgerr *>(NLMSG_DATA(h));
				first = -e->error;
			}
		}
	}
}

int nl_open()
{
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sock < 0)
		return -1;
	// Small: a receiver that is never read fills at once.
	int sz = 4096;
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return sock;
}

// CTRL_CMD_GETFAMILY of "iommulab": the family ID and the events group.
void nl_resolve()
{
	int sock = nl_open();
	if (sock < 0)
		return;
	alignas(4) uint8_t a[32] = {};
	auto *nla = reinterpret_cast<nlattr *>(a);
	nla->nla_type = CTRL_ATTR_FAMILY_NAME;
	nla->nla_len = static_cast<uint16_t>(NLA_HDRLEN + sizeof(IOMMULAB_GENL_NAME));
	memcpy(a + NLA_HDRLEN, IOMMULAB_GENL_NAME, sizeof(IOMMULAB_GENL_NAME));
	int sz = 65536;
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (nl_send(sock, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, a, NLA_ALIGN(nla->nla_len), 0) < 0) {
		close(sock);
		return;
	}
	alignas(8) static uint8_t buf[16384];
	ssize_t n = recv(sock, buf, sizeof(buf), 0);
	close(sock);
	for (nlmsghdr *h = reinterpret_cast<nlmsghdr *>(buf); n > 0 && NLMSG_OK(h, n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != GENL_ID_CTRL)
			continue;
		auto *p = static_cast<uint8_t *>(NLMSG_DATA(h)) + GENL_HDRLEN;
		int left = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
		for (auto *at = reinterpret_cast<nlattr *>(p); left >= NLA_HDRLEN &&
		     at->nla_len >= NLA_HDRLEN && at->nla_len <= left;
		     left -= NLA_ALIGN(at->nla_len),
		     at = reinterpret_cast<nlattr *>(reinterpret_cast<uint8_t *>(at) +
						     NLA_ALIGN(at->nla_len))) {
			uint8_t *d = reinterpret_cast<uint8_t *>(at) + NLA_HDRLEN;
			if (at->nla_type == CTRL_ATTR_FAMILY_ID)
				nl_family = *reinterpret_cast<uint16_t *>(d);
			if ((at->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
				continue;
			// Nested: groups, each with NAME and ID; there is one.
			int gl = at->nla_len - NLA_HDRLEN;
			for (auto *g = reinterpret_cast<nlattr *>(d); gl >= NLA_HDRLEN &&
			     g->nla_len >= NLA_HDRLEN && g->nla_len <= gl;
			     gl -= NLA_ALIGN(g->nla_len),
			     g = reinterpret_cast<nlattr *>(reinterpret_cast<uint8_t *>(g) +
							    NLA_ALIGN(g->nla_len))) {
				int il = g->nla_len - NLA_HDRLEN;
				for (auto *i = reinterpret_cast<nlattr *>(
					     reinterpret_cast<uint8_t *>(g) + NLA_HDRLEN);
				     il >= NLA_HDRLEN && i->nla_len >= NLA_HDRLEN && i->nla_len <= il;
				     il -= NLA_ALIGN(i->nla_len),
				     i = reinterpret_cast<nlattr *>(reinterpret_cast<uint8_t *>(i) +
								    NLA_ALIGN(i->nla_len)))
					if (i->nla_type == CTRL_ATTR_MCAST_GRP_ID)
						nl_group = *reinterpret_cast<uint32_t *>(
							reinterpret_cast<uint8_t *>(i) + NLA_HDRLEN);
			}
		}
	}
}

// The errnos the family's commands document, and what the genetlink core
// gives for a malformed or unknown request.
bool nl_errno_ok(uint8_t cmd, uint8_t reserved, size_t alen, int err)
{
	if (err == 0 || err == 1 || err == ENOMEM || err == ENOBUFS)
		return true;
	// Random attribute bytes: the genetlink core's strict validation
	// refuses a malformed attribute stream (EINVAL) before any handler.
	if (alen && err == EINVAL)
		return true;
	if (reserved || cmd == 0 || cmd == IOMMULAB_GENL_CMD_EVENT ||
	    cmd >= __IOMMULAB_GENL_CMD_MAX)
		return err == EINVAL || err == EOPNOTSUPP;
	switch (cmd) {
	case IOMMULAB_GENL_CMD_SUBSCRIBE: return err == EALREADY || err == ENOSPC;
	case IOMMULAB_GENL_CMD_UNSUBSCRIBE: return err == ENOENT;
	default: return err == EMSGSIZE;
	}
}

void nl_call(Thread &t, uint64_t n, char *log)
{
	unsigned what = static_cast<unsigned>(t.r.below(10));
	int sock = -1;
	{
		std::lock_guard<std::mutex> g(nl_mutex);
		if (what == 0 || nl_socks.empty()) {
			if (nl_socks.size() >= kNlPool) {
				sock = nl_socks.front();
				nl_socks.erase(nl_socks.begin());
				close(sock);  // its subscription goes with it
			}
			sock = nl_open();
			if (sock >= 0)
				nl_socks.push_back(sock);
			snprintf(log, kRec, "#%llu netlink open -> %d", (unsigned long long)n, sock);
			return;
		}
		sock = nl_socks[t.r.below(nl_socks.size())];
		if (what == 1) {
			nl_socks.erase(std::find(nl_socks.begin(), nl_socks.end(), sock));
			close(sock);
			snprintf(log, kRec, "#%llu netlink close %d", (unsigned long long)n, sock);
			return;
		}
	}
	// Another thread may close the socket meanwhile: the calls below then
	// fail with EBADF, or reach whatever file reused the number, where
	// they fail harmlessly (ENOTSOCK, or another pool socket).
	if (what == 2) {
		int grp = nl_group;
		int rc = setsockopt(sock, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp))
				 ? errno : 0;
		snprintf(log, kRec, "#%llu netlink join %d on %d -> %s", (unsigned long long)n,
			 grp, sock, ename(rc));
		if (rc && rc != EBADF && rc != ENOTSOCK && rc != ENOPROTOOPT && rc != EINVAL)
			fail(t, strf("netlink join: %s", ename(rc)));
		return;
	}
	uint8_t cmd;
	if (what < 5)
		cmd = IOMMULAB_GENL_CMD_SUBSCRIBE;
	else if (what < 7)
		cmd = IOMMULAB_GENL_CMD_UNSUBSCRIBE;
	else if (what < 8)
		cmd = IOMMULAB_GENL_CMD_GET_STATS;
	else
		cmd = static_cast<uint8_t>(t.r.below(256));
	uint8_t reserved = t.r.pct(10) ? static_cast<uint8_t>(1 + t.r.below(255)) : 0;
	uint8_t attrs[64];
	size_t alen = t.r.pct(30) ? 4 * t.r.below(17) : 0;
	for (size_t i = 0; i < alen; i++)
		attrs[i] = static_cast<uint8_t>(t.r.next());
	nl_drain(sock);
	uint32_t seq = nl_seq++;
	int rc = nl_send(sock, static_cast<uint16_t>(nl_family), cmd, reserved, attrs, alen,
			 NLM_F_ACK, seq);
	// The kernel answers before sendto returns.
	int err = rc < 0 ? -rc : nl_drain(sock, seq);
	snprintf(log, kRec, "#%llu netlink cmd %u reserved %u attrs %zu on %d -> %s",
		 (unsigned long long)n, cmd, reserved, alen, sock, err == 1 ? "(no ack)" : ename(err));
	if (rc < 0)
		return;  // closed by another thread meanwhile
	if (!nl_errno_ok(cmd, reserved, alen, err))
		fail(t, strf("netlink cmd %u reserved %u: %s", cmd, reserved, ename(err)));
}

// A fault fd's read (a whole number of records or not), then, mostly,
// responses to what it read (right or wrong code, a spent or random
// cookie), or a poll. Under g_mutex: the fd cannot be closed (and its
// number reused) meanwhile; none of these calls waits.
void fault_fd_call(Thread &t, uint64_t n, char *log)
{
	constexpr size_t REC = sizeof(iommu_hwpt_pgfault);
	std::lock_guard<std::mutex> g(g_mutex);
	if (fault_fds.empty()) {
		snprintf(log, kRec, "#%llu fault fd: none", (unsigned long long)n);
		return;
	}
	const int fd = t.r.pick(fault_fds);
	auto *recs = reinterpret_cast<iommu_hwpt_pgfault *>(t.s.buf());
	const size_t count = t.r.pct(85) ? REC * t.r.below(9) : t.r.below(5 * REC);
	const off_t pos = t.r.pct(95) ? 0 : static_cast<off_t>(REC);
	ssize_t got = pos ? pread(fd, recs, count, pos) : read(fd, recs, count);
	int rerr = got < 0 ? errno : 0;
	std::vector<iommu_hwpt_page_response> resp;
	for (ssize_t i = 0; got > 0 && i < got / static_cast<ssize_t>(REC); i++)
		resp.push_back({recs[i].cookie,
				static_cast<uint32_t>(t.r.pct(90) ? t.r.below(2) : t.r.next())});
	if (t.r.pct(20))
		resp.push_back({static_cast<uint32_t>(t.r.below(64)), 0});
	size_t wlen = resp.size() * sizeof(resp[0]);
	if (t.r.pct(5))
		wlen += 1 + t.r.below(7);
	resp.resize(resp.size() + 1);
	ssize_t put = wlen ? write(fd, resp.data(), wlen) : 0;
	int werr = put < 0 ? errno : 0;
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	int pr = poll(&p, 1, 0);
	snprintf(log, kRec, "#%llu fault fd %d: read(%zu at %lld) -> %zd %s; write(%zu) -> %zd %s; poll -> %d %#x",
		 (unsigned long long)n, fd, count, (long long)pos, got, ename(rerr), wlen, put,
		 ename(werr), pr, pr > 0 ? p.revents : 0);
}

void one_call(Thread &t, uint64_t n, const std::vector<unsigned> &wtab)
{
	const auto &tab = table();
	const Cmd &c = tab[wtab[t.r.below(wtab.size())]];
	unsigned ci = static_cast<unsigned>(&c - tab.data());
	t.fdi = static_cast<unsigned>(t.r.below(opt.fds));
	t.f = &fds[t.fdi];
	t.note.clear();
	char *log = rec(t.idx, n);

	// Pseudo-calls.
	if (!c.nr && c.op == P_NETLINK) {
		if (nl_family)
			nl_call(t, n, log);
		else
			snprintf(log, kRec, "#%llu netlink: no family", (unsigned long long)n);
		return;
	}
	if (!c.nr && c.op == P_FAULT_FD) {
		fault_fd_call(t, n, log);
		return;
	}
	if (!c.nr && c.op == P_CLOSE_ACCESS) {
		int victim = -1;
		{
			std::lock_guard<std::mutex> g(g_mutex);
			if (!accesses.empty()) {
				size_t i = t.r.below(accesses.size());
				victim = accesses[i].fd;
				accesses.erase(accesses.begin() + i);
				items.erase(std::remove_if(items.begin(), items.end(),
							   [&](auto &it) { return it.first == victim; }),
					    items.end());
			}
		}
		snprintf(log, kRec, "#%llu close(access fd %d)", (unsigned long long)n, victim);
		if (victim >= 0)
			close(victim);
		return;
	}
	if (!c.nr && c.op == P_REPLACE_FD) {
		// The old file is released while other threads may be in an
		// ioctl on it: its objects die with it.
		int nfd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		snprintf(log, kRec, "#%llu dup2(new iommufd, shared fd %d)",
			 (unsigned long long)n, t.f->fd);
		if (nfd < 0)
			return;
		{
			std::lock_guard<std::mutex> g(t.f->m);
			dup2(nfd, t.f->fd);
			for (auto &v : t.f->ids)
				v.clear();
			t.f->maps.clear();
			t.f->dirty.clear();
		}
		close(nfd);
		return;
	}

	if (!c.nr && c.op == P_TRUNCATE) {
		// Pages pinned before stay pinned (and reachable by devices);
		// pinning after a shrink fails (EFAULT) where the file ends.
		int rc;
		if (t.r.pct(75)) {
			const uint64_t to[] = {0, PS * (1 + t.r.below(64)), files.sparse_len};
			uint64_t len = to[t.r.below(3)];
			rc = ftruncate(files.sparse, static_cast<off_t>(len)) ? errno : 0;
			snprintf(log, kRec, "#%llu ftruncate(sparse memfd, %#llx) -> %s",
				 (unsigned long long)n, (unsigned long long)len, ename(rc));
		} else {
			uint64_t off = t.r.below(files.shm_len / PS) * PS;
			uint64_t len = (1 + t.r.below(16)) * PS;
			rc = fallocate(files.shm, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       static_cast<off_t>(off), static_cast<off_t>(len)) ? errno : 0;
			snprintf(log, kRec, "#%llu punch(shm memfd, %#llx, %#llx) -> %s",
				 (unsigned long long)n, (unsigned long long)off,
				 (unsigned long long)len, ename(rc));
		}
		return;
	}

	// Build a plausible argument, then corrupt it.
	unsigned size = c.size;
	memset(t.s.arg(), 0, 2 * PS);
	t.arg = t.s.arg();
	c.build(t);
	unsigned long nr = c.nr ? c.nr : unknown_number(t.r);
	uint32_t declared = size;
	unsigned k = t.r.below(100);
	if (k < 6)
		declared = static_cast<uint32_t>(t.r.below(size));  // short
	else if (k < 10)
		declared = size + 8 * static_cast<uint32_t>(1 + t.r.below(4));  // zero tail
	else if (k < 13) {
		declared = size + 8;  // non-zero tail
		t.arg[size + t.r.below(8)] = static_cast<uint8_t>(1 + t.r.below(255));
	} else if (k < 15)
		declared = static_cast<uint32_t>(t.r.pct(50) ? PS + t.r.below(2 * PS) : t.r.next());
	if (size >= 4)
		memcpy(t.arg, &declared, 4);
	if (t.r.pct(15) && c.nr) {
		// Smash one field with an interesting value; never a user
		// pointer (see pointer_fields()).
		unsigned off = 4 + 4 * static_cast<unsigned>(t.r.below(size > 8 ? (size - 4) / 4 : 1));
		for (unsigned p : pointer_fields(nr))
			if (off + 8 > p && off < p + 8)
				off = size;  // skip
		if (nr == IOMMU_TEST_CMD && off == 4)
			off = size;  // the op: another op's layout would put a
				     // length where a pointer is
		if (t.r.pct(50) && off + 8 <= size) {
			uint64_t v = t.interesting64();
			memcpy(t.arg + off, &v, 8);
		} else if (off + 4 <= size) {
			uint32_t v = static_cast<uint32_t>(t.r.pct(50) ? t.interesting64() : t.r.next());
			memcpy(t.arg + off, &v, 4);
		}
	}
	// Where the argument is.
	uintptr_t argp = reinterpret_cast<uintptr_t>(t.arg);
	unsigned a = t.r.below(100);
	if (a < 2)
		argp = 0;
	else if (a < 4)
		argp = reinterpret_cast<uintptr_t>(mem.none);
	else if (a < 6)
		argp = reinterpret_cast<uintptr_t>(mem.ro);
	else if (a < 7)
		argp = 0xffff888000000000ULL;
	else if (a < 10 && size > 4) {
		// Straddle the guard page: copy the argument to its end.
		uint8_t *p = t.s.guard() - 4 - t.r.below(size - 4);
		memmove(p, t.arg, static_cast<size_t>(t.s.guard() - p));
		argp = reinterpret_cast<uintptr_t>(p);
	}
	// Which fd: mostly the shared iommufd.
	int fd = t.f->fd;
	unsigned fk = t.r.below(100);
	if (fk < 2) {
		std::lock_guard<std::mutex> g(g_mutex);
		if (!accesses.empty())
			fd = accesses[t.r.below(accesses.size())].fd;
	} else if (fk < 3) {
		fd = 1000 + static_cast<int>(t.r.below(100));  // not open
	}

	snprintf(log, kRec, "#%llu %s", (unsigned long long)n,
		 describe(c, t, nr, fd, argp, size).c_str());
	sh->started[t.idx].store(n + 1);
	int rc = ioctl(fd, nr, argp) ? errno : 0;
	size_t len = strlen(log);
	snprintf(log + len, kRec - len, " -> %s", ename(rc));

	sh->per_cmd[ci][0]++;
	if (!rc)
		sh->per_cmd[ci][1]++;
	else if (rc < 136)
		sh->errno_hist[ci][rc]++;

	// Judge. A call on something that is not a shared iommufd (an access
	// fd, whose file has no ioctl, or a closed fd) gets ENOTTY or EBADF;
	// its number may have been reused by now, so the command's own set
	// is accepted too.
	bool ok = rc == 0 ? c.nr != 0 : (rc < 136 && c.allowed.test(rc));
	if (fd != t.f->fd)
		ok = ok || rc == ENOTTY || rc == EBADF;
	if (!ok)
		fail(t, strf("call #%llu %s: unexpected %s", (unsigned long long)n, c.name, ename(rc)));
	if (rc == 0 && c.done && argp == reinterpret_cast<uintptr_t>(t.arg) && fd == t.f->fd &&
	    declared >= size)
		c.done(t);
	if (opt.verbose)
		printf("t%u %s\n", t.idx, log);
}

double now()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void thread_main(unsigned idx, uint64_t quota, double deadline)
{
	Thread t;
	t.idx = idx;
	t.r = Rng{thread_seed(opt.seed, idx)};
	t.s.base = static_cast<uint8_t *>(xmmap(3 * PS, PROT_READ | PROT_WRITE));
	mprotect(t.s.guard(), PS, PROT_NONE);
	t.ipc_lock = idx % 2 == 0;
	if (!t.ipc_lock)
		iommulab_test::drop_capability(CAP_IPC_LOCK, false);  // this thread only

	std::vector<unsigned> wtab;
	for (unsigned i = 0; i < table().size(); i++)
		for (unsigned w = 0; w < table()[i].weight; w++)
			wtab.push_back(i);
	for (uint64_t n = 0; n < quota; n++) {
		if (sh->failed.load() || now() > deadline)
			break;
		one_call(t, n, wtab);
		sh->done[idx].store(n + 1);
	}
}

// --------------------------------------------------------- the child ---
int child()
{
	struct rlimit rl = {64ULL << 20, 64ULL << 20};
	setrlimit(RLIMIT_MEMLOCK, &rl);

	// One mapping: [data 8 MiB][guard page][ro 1 MiB][none 1 MiB]. A
	// linear write or pin that runs off the end of data or ro stops at a
	// PROT_NONE page instead of reaching the fuzzer's own memory.
	mem.data_len = 8ULL << 20;
	size_t total = mem.data_len + PS + (2 << 20);
	uint8_t *all = static_cast<uint8_t *>(xmmap(total + (2 << 20), PROT_NONE));
	all = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(all) + (2 << 20) - 1) &
					  ~static_cast<uintptr_t>((2 << 20) - 1));
	mem.data = all;
	mem.ro = all + mem.data_len + PS;
	mem.none = mem.ro + (1 << 20);
	mprotect(mem.data, mem.data_len, PROT_READ | PROT_WRITE);
	madvise(mem.data, mem.data_len / 2, MADV_NOHUGEPAGE);
	madvise(mem.data + mem.data_len / 2, mem.data_len / 2, MADV_HUGEPAGE);
	for (size_t i = 0; i < mem.data_len; i += 64)
		mem.data[i] = static_cast<uint8_t>(i);
	mprotect(mem.ro, 1 << 20, PROT_READ | PROT_WRITE);
	memset(mem.ro, 0x11, 1 << 20);
	mprotect(mem.ro, 1 << 20, PROT_READ);

	files.shm = memfd_create("iommulab-fuzz-shm", MFD_CLOEXEC);
	files.sparse = memfd_create("iommulab-fuzz-sparse", MFD_CLOEXEC);
	if (files.shm < 0 || files.sparse < 0 ||
	    ftruncate(files.shm, static_cast<off_t>(files.shm_len)) ||
	    ftruncate(files.sparse, static_cast<off_t>(files.sparse_len))) {
		perror("fuzz: memfd");
		return 2;
	}
	// Followed by a PROT_NONE guard page, as the data region: a pin that
	// runs off its end stops there.
	void *fm = xmmap(files.shm_len + PS, PROT_NONE);
	fm = mmap(fm, files.shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, files.shm, 0);
	if (fm == MAP_FAILED) {
		perror("fuzz: mmap memfd");
		return 2;
	}
	files.shm_map = static_cast<uint8_t *>(fm);
	for (size_t i = 0; i < files.shm_len; i += 64)
		files.shm_map[i] = static_cast<uint8_t>(i >> 6);
	files.huge = memfd_create("iommulab-fuzz-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (files.huge >= 0 && ftruncate(files.huge, static_cast<off_t>(files.huge_len))) {
		close(files.huge);
		files.huge = -1;
	}
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) == 0)
		files.pipe_rd = pp[0];  // the write end stays open too
	files.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	nl_resolve();
	printf("fuzz: notification family %s (id %d, events group %d)\n",
	       nl_family ? "found" : "not found", nl_family, nl_group);
	printf("fuzz: IOAS_MAP_FILE maps shmem memfds of %llu and %llu KiB%s\n",
	       (unsigned long long)(files.shm_len >> 10),
	       (unsigned long long)(files.sparse_len >> 10),
	       files.huge >= 0 ? " and a hugetlbfs one" : " (no hugetlbfs memfd)");

	for (unsigned i = 0; i < opt.fds; i++) {
		fds[i].fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (fds[i].fd < 0) {
			perror("fuzz: open /dev/iommu");
			return 2;
		}
	}
	uint64_t quota = (opt.calls + opt.threads - 1) / opt.threads;
	double deadline = now() + opt.seconds;
	std::vector<std::thread> th;
	for (unsigned i = 0; i < opt.threads; i++) {
		if (opt.only_thread >= 0 && static_cast<unsigned>(opt.only_thread) != i)
			continue;
		th.emplace_back(thread_main, i, quota, deadline);
	}
	for (auto &x : th)
		x.join();
	// Pinning a MAP_FILE range maps the memfd into this process for the
	// moment of the pin: none of those mappings may stay behind, only the
	// fuzzer's own mapping of the shm memfd.
	if (FILE *f = fopen("/proc/self/maps", "re")) {
		char line[512];
		std::string extra;
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "/memfd:iommulab-fuzz") &&
			    strtoull(line, nullptr, 16) != reinterpret_cast<uintptr_t>(files.shm_map)) {
				line[strcspn(line, "\n")] = 0;
				extra += strf("\n  %s", line);
			}
		fclose(f);
		int expect = 0;
		if (!extra.empty() && sh->failed.compare_exchange_strong(expect, 1))
			snprintf(sh->failure, sizeof(sh->failure),
				 "mappings of the memfds left in the process (a pin's temporary "
				 "mapping?):%s", extra.c_str());
	}
	// Everything is released by the exit: objects, accesses, fds.
	return sh->failed.load() ? 3 : 0;
}

// -------------------------------------------------------- the parent ---
uint64_t objects_all()
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	iommulab_info info{};

	if (fd < 0)
		return UINT64_MAX;
	info.size = sizeof(info);
	int rc = ioctl(fd, IOMMULAB_GET_INFO, &info);
	close(fd);
	return rc ? UINT64_MAX : info.out_nr_objects_all;
}

void print_replay(const char *why)
{
	printf("fuzz: FAILED: %s\n", why);
	printf("fuzz: seed %llu; replay: iommulab-fuzz --seed %llu --threads %u --fds %u "
	       "--calls %llu --seconds %g%s\n",
	       (unsigned long long)opt.seed, (unsigned long long)opt.seed, opt.threads,
	       opt.fds, (unsigned long long)opt.calls, opt.seconds,
	       opt.only_thread >= 0 ? strf(" --only-thread %d", opt.only_thread).c_str() : "");
	printf("fuzz: (each thread's sequence is a function of the seed; threads "
	       "interleave nondeterministically: --only-thread I replays thread I alone)\n");
	for (unsigned t = 0; t < opt.threads; t++) {
		uint64_t started = sh->started[t].load(), done = sh->done[t].load();
		if (!started)
			continue;
		uint64_t first = started > opt.ring ? started - opt.ring : 0;
		printf("fuzz: thread %u: %llu calls finished; its last calls (#%llu..#%llu)%s:\n", t,
		       (unsigned long long)done, (unsigned long long)first,
		       (unsigned long long)(started - 1),
		       started > done ? ", the last one still in the kernel" : "");
		for (uint64_t n = first; n < started; n++)
			printf("  t%u %s\n", t, rec(t, n));
	}
}

void print_stats()
{
	const auto &tab = table();
	printf("fuzz: per command: calls, ok, errnos\n");
	for (unsigned i = 0; i < tab.size(); i++) {
		uint64_t calls = sh->per_cmd[i][0].load();
		if (!calls)
			continue;
		std::string e;
		for (int k = 1; k < 136; k++)
			if (uint64_t c = sh->errno_hist[i][k].load())
				e += strf(" %s:%llu", ename(k), (unsigned long long)c);
		printf("  %-28s %7llu %7llu %s\n", tab[i].name, (unsigned long long)calls,
		       (unsigned long long)sh->per_cmd[i][1].load(), e.c_str());
	}
}

int usage()
{
	fprintf(stderr, "usage: iommulab-fuzz [--seed S] [--calls N] [--seconds T] "
			"[--threads K] [--fds F] [--only-thread I] [--ring R] [-v]\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	setvbuf(stdout, nullptr, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i], v;
		auto eq = a.find('=');
		if (eq != std::string::npos) {
			v = a.substr(eq + 1);
			a = a.substr(0, eq);
		} else if (a != "-v" && i + 1 < argc) {
			v = argv[++i];
		}
		if (a == "--seed")
			opt.seed = strtoull(v.c_str(), nullptr, 0);
		else if (a == "--calls")
			opt.calls = strtoull(v.c_str(), nullptr, 0);
		else if (a == "--seconds")
			opt.seconds = strtod(v.c_str(), nullptr);
		else if (a == "--threads")
			opt.threads = static_cast<unsigned>(strtoul(v.c_str(), nullptr, 0));
		else if (a == "--fds")
			opt.fds = static_cast<unsigned>(strtoul(v.c_str(), nullptr, 0));
		else if (a == "--only-thread")
			opt.only_thread = static_cast<int>(strtol(v.c_str(), nullptr, 0));
		else if (a == "--ring")
			opt.ring = static_cast<unsigned>(strtoul(v.c_str(), nullptr, 0));
		else if (a == "-v")
			opt.verbose = true;
		else
			return usage();
	}
	if (!opt.threads || opt.threads > kMaxThreads || !opt.fds || opt.fds > kMaxFds ||
	    !opt.ring || opt.ring > kMaxRing || opt.seconds <= 0)
		return usage();

	if (table().size() > kMaxCmds) {
		fprintf(stderr, "fuzz: %zu commands, room for %u: raise kMaxCmds\n",
			table().size(), kMaxCmds);
		return 2;
	}
	sh = static_cast<Shared *>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	if (sh == MAP_FAILED) {
		perror("fuzz: mmap");
		return 2;
	}
	uint64_t base = objects_all();
	if (base == UINT64_MAX) {
		perror("fuzz: /dev/iommu GET_INFO");
		return 2;
	}
	// A PRI device's DMA waits for a page response nobody may write
	// (the fault-fd pseudo-call answers some): each wait is bounded to
	// 50 ms for the run, and the old bound put back after it.
	const char *const timeout_param = "/sys/module/iommulab/parameters/iopf_timeout_ms";
	char old_timeout[32] = "";
	if (FILE *tf = fopen(timeout_param, "r")) {
		if (!fgets(old_timeout, sizeof(old_timeout), tf))
			old_timeout[0] = 0;
		fclose(tf);
	}
	auto set_timeout = [timeout_param](const char *v) {
		if (FILE *tf = fopen(timeout_param, "w")) {
			fputs(v, tf);
			fclose(tf);
		}
	};
	if (old_timeout[0])
		set_timeout("50");
	printf("fuzz: seed %llu, %llu calls or %gs, %u threads on %u shared fds (module objects before: %llu)\n",
	       (unsigned long long)opt.seed, (unsigned long long)opt.calls, opt.seconds,
	       opt.threads, opt.fds, (unsigned long long)base);
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fuzz: fork");
		return 2;
	}
	if (pid == 0)
		_exit(child());

	// Wait, with a watchdog: a call stuck in the kernel is a failure too.
	int status = 0;
	bool hung = false;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (now() - t0 > opt.seconds + 120) {
			hung = true;
			kill(pid, SIGKILL);
			break;
		}
		usleep(20000);
	}
	double secs = now() - t0;
	if (old_timeout[0])
		set_timeout(old_timeout);
	uint64_t total = 0;
	for (unsigned t = 0; t < opt.threads; t++)
		total += sh->done[t].load();

	std::string why;
	if (hung)
		why = strf("no progress: still running %.0fs after the deadline (a call hangs in the kernel?)",
			   secs - opt.seconds);
	else if (WIFSIGNALED(status))
		why = strf("the fuzzer crashed: signal %d (%s)", WTERMSIG(status),
			   strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) == 3)
		why = sh->failure;
	else if (WEXITSTATUS(status) != 0)
		why = strf("the fuzzer exited with %d", WEXITSTATUS(status));
	if (why.empty()) {
		// Every fd of the child is closed: its objects must be gone.
		uint64_t after = objects_all();
		for (int i = 0; i < 50 && after != base; i++) {
			usleep(100000);
			after = objects_all();
		}
		if (after != base)
			why = strf("leak: module holds %llu objects after every fd closed, %llu before",
				   (unsigned long long)after, (unsigned long long)base);
	}
	print_stats();
	printf("fuzz: %llu calls in %.1fs (%.0f calls/s)\n", (unsigned long long)total, secs,
	       secs > 0 ? total / secs : 0.0);
	if (!why.empty()) {
		print_replay(why.c_str());
		return 1;
	}
	printf("fuzz: ok: no unexpected errno, no crash, no leak (seed %llu)\n",
	       (unsigned long long)opt.seed);
	return 0;
}
