// SPDX-License-Identifier: GPL-2.0
// iommulab-failnth: make every kernel allocation of every ioctl fail, one
// at a time, and check that each failure unwinds cleanly.
//
// For each row of the table in scenarios.cpp, and N = 1, 2, ...: a fresh
// iommufd, the row's setup, a snapshot of the state, then the call under
// test with /proc/self/task/<tid>/fail-nth = N (the N-th fault-injection
// check in this task during the call fails: failslab and fail_page_alloc).
// Reading fail-nth back tells whether the N-th failure was really injected
// (the counter reached 0); a call that ran without reaching it must
// succeed. The number of checks a call makes is not quite fixed (a slab
// cache that needs a new page, memcg's and kmemleak's bookkeeping add
// some now and then), so the last check of one run can be N+1 in the
// next: an N not reached is run again (UNREACHED_TRIES times, more for a
// page_alloc row that has had no page failure yet), and the sweep ends
// only when none of those runs reaches it.
//   - injected, call failed: the errno must be one the row allows, the
//     state must equal the snapshot, and the row's probes must pass;
//   - injected, call succeeded (the failure hit an allocation that is
//     allowed to fail, e.g. an allocator's own bookkeeping): the call's
//     effect must be there, as after any success;
// and after every run, once the fds are closed: the module's object count
// (IOMMULAB_GET_INFO out_nr_objects_all) is back to its baseline, no page
// of the test memory or of the memfd (failnth.hpp) is still pinned,
// VmPin/VmLck, the number of open fds and of mappings of the memfds (the
// module maps a memfd into the caller while it pins it) are back to theirs.
// After a row that failed, the baseline is measured again: what it left
// behind fails that row, not every row after it.
//
// Fault injection (debugfs), set up and then read back (a setting that did
// not take fails the run):
//   failslab/ignore-gfp-wait = N, fail_page_alloc/ignore-gfp-wait = N,
//   fail_page_alloc/ignore-gfp-highmem = N: GFP_KERNEL allocations, which
//       may sleep, can be failed too (as upstream's iommufd_fail_nth.c);
//   fail_page_alloc/min-order = 0: unlike upstream's default (1), order-0
//       page allocations are failed as well, so the IOPTE tables
//       (get_zeroed_page() in kmod/mock_iommu.c) and their undo paths are
//       swept;
//   probability = 0 (the default; checked): nothing fails except the
//       fail-nth pick, which is per task (/proc/self/task/<tid>/fail-nth;
//       task-filter only applies to probability-driven failures);
//   times = FAULT_TIMES for failslab and fail_page_alloc: the kernel counts
//       it down at every injected failure, fail-nth's included, so reading
//       it before and after each call tells which kind of allocation the
//       N-th failure hit (reported per row: "slab" / "page");
//   verbose = 0 for every fail* directory (no message or stack dump per
//       injected failure).
// A row marked page_alloc (the call allocates IOPTE tables) fails unless
// at least one page allocation failure was injected into it.
// Each row's sweep is bracketed by "IOMMULAB-FAULT-INJECTION begin/end"
// lines written to /dev/kmsg: the VM lane excuses the kernel's allocation-
// failure reports (warn_alloc(): "page allocation failure" / "vmalloc
// error" and their stack dump) between them, and nothing else.
//
// CAP_IPC_LOCK is dropped from the effective set (with RLIMIT_MEMLOCK at
// 1 GiB) so pinning goes through the locked-memory accounting.
//
// Without fail-nth (a kernel without CONFIG_FAULT_INJECTION) every row
// still runs once without injection (setup, probes, call, success checks),
// and the program exits 77: skipped.
//
// Usage: iommulab-failnth [--only SUBSTRING] [--max-nth N] [--list]
//                         [--no-inject] [-v] [--trace]
// --trace leaves failslab and fail_page_alloc verbose (2: a stack dump in
// the kernel log for every injected failure), to find which allocation an
// N hits; the VM lane's kernel-log check may then count those dumps.
// Exit: 0 all rows passed, 1 a row failed, 77 skipped (no fail-nth).
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <map>
#include <set>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/caps.hpp"
#include "failnth.hpp"

namespace failnth {

Memory mem;
std::string dev_path;

namespace {

std::unique_ptr<Iommufd> observer;  // for module-wide counts and page pins
bool verbose;
bool trace;  // --trace
int kmsg_fd = -1;

} // namespace

std::string strf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

Ctx::~Ctx()
{
	helper.reset();
	if (fault_fd >= 0)
		::close(fault_fd);
	if (fmap)
		munmap(fmap, fmap_len);
	if (memfd >= 0)
		::close(memfd);
	if (access >= 0)
		::close(access);
	if (new_fd >= 0)
		::close(new_fd);
	fd.reset();
}

// ------------------------------------------------------------- helpers ---

void open_fd(Ctx &c)
{
	c.fd = std::make_unique<Iommufd>(dev_path);
}

uint32_t ioas_alloc(Ctx &c)
{
	iommu_ioas_alloc cmd{};

	cmd.size = sizeof(cmd);
	c.fd->call("IOMMU_IOAS_ALLOC", IOMMU_IOAS_ALLOC, &cmd);
	return cmd.out_ioas_id;
}

int map_raw(Ctx &c, uint32_t ioas, const void *p, uint64_t len,
	    uint64_t *iova, uint32_t flags)
{
	iommu_ioas_map cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.ioas_id = ioas;
	cmd.user_va = reinterpret_cast<uintptr_t>(p);
	cmd.length = len;
	cmd.iova = *iova;
	int err = c.fd->raw(IOMMU_IOAS_MAP, &cmd);
	*iova = cmd.iova;
	return err;
}

int map_file_raw(Ctx &c, uint32_t ioas, int memfd, uint64_t start, uint64_t len,
		 uint64_t *iova, uint32_t flags)
{
	iommu_ioas_map_file cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.ioas_id = ioas;
	cmd.fd = memfd;
	cmd.start = start;
	cmd.length = len;
	cmd.iova = *iova;
	int err = c.fd->raw(IOMMU_IOAS_MAP_FILE, &cmd);
	*iova = cmd.iova;
	return err;
}

void ctx_memfd(Ctx &c, uint64_t len)
{
	c.memfd = memfd_create((std::string(MEMFD_NAME) + "-ctx").c_str(), MFD_CLOEXEC);
	FN_CHECK(c.memfd >= 0, "memfd_create: %s", strerror(errno));
	FN_CHECK(ftruncate(c.memfd, static_cast<off_t>(len)) == 0, "ftruncate: %s",
		 strerror(errno));
	c.fmap_len = len;
}

void map_ctx_memfd(Ctx &c)
{
	void *p = mmap(nullptr, c.fmap_len, PROT_READ | PROT_WRITE, MAP_SHARED, c.memfd, 0);

	FN_CHECK(p != MAP_FAILED, "mmap of the run's memfd: %s", strerror(errno));
	c.fmap = static_cast<uint8_t *>(p);
}

void map_fixed(Ctx &c, uint32_t ioas, const void *p, uint64_t len,
	       uint64_t iova, uint32_t flags)
{
	int err = map_raw(c, ioas, p, len, &iova, flags | FIXED);

	if (err)
		throw Error("IOMMU_IOAS_MAP", err);
}

int unmap_raw(Ctx &c, uint32_t ioas, uint64_t iova, uint64_t len,
	      uint64_t *unmapped)
{
	iommu_ioas_unmap cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas;
	cmd.iova = iova;
	cmd.length = len;
	int err = c.fd->raw(IOMMU_IOAS_UNMAP, &cmd);
	if (unmapped)
		*unmapped = cmd.length;
	return err;
}

int destroy_raw(Ctx &c, uint32_t id)
{
	iommu_destroy cmd{sizeof(cmd), id};

	return c.fd->raw(IOMMU_DESTROY, &cmd);
}

iommu_test_cmd test_arg(uint32_t op, uint32_t id)
{
	return iommulab::test_cmd(op, id);
}

int add_reserved_raw(Ctx &c, uint32_t ioas, uint64_t start, uint64_t len)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_ADD_RESERVED, ioas);

	cmd.add_reserved.start = start;
	cmd.add_reserved.length = len;
	return c.fd->raw(IOMMU_TEST_CMD, &cmd);
}

void allow(Ctx &c, uint32_t ioas, const std::vector<iommu_iova_range> &r)
{
	iommu_ioas_allow_iovas cmd{};
	std::vector<iommu_iova_range> copy(r);

	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas;
	cmd.num_iovas = static_cast<uint32_t>(copy.size());
	cmd.allowed_iovas = reinterpret_cast<uintptr_t>(copy.data());
	c.fd->call("IOMMU_IOAS_ALLOW_IOVAS", IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

void set_limit(Ctx &c, uint32_t pages)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0);

	cmd.memory_limit.limit = pages;
	c.fd->call("SET_TEMP_MEMORY_LIMIT", IOMMU_TEST_CMD, &cmd);
}

int create_access(Ctx &c, uint32_t ioas, uint32_t flags)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_CREATE_ACCESS, ioas);

	cmd.create_access.flags = flags;
	c.fd->call("CREATE_ACCESS", IOMMU_TEST_CMD, &cmd);
	return static_cast<int>(cmd.create_access.out_access_fd);
}

uint32_t access_pages(Ctx &c, int access, uint64_t iova, uint64_t len,
		      const void *uptr, uint32_t flags)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_ACCESS_PAGES, access);

	cmd.access_pages.flags = flags;
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = len;
	cmd.access_pages.uptr = reinterpret_cast<uintptr_t>(uptr);
	c.fd->call("ACCESS_PAGES", IOMMU_TEST_CMD, &cmd);
	return cmd.access_pages.out_access_pages_id;
}

int destroy_item_raw(Ctx &c, int access, uint32_t item)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, access);

	cmd.destroy_access_pages.access_pages_id = item;
	return c.fd->raw(IOMMU_TEST_CMD, &cmd);
}

void mock_domain(Ctx &c, uint32_t pt_id, uint32_t dev_flags)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, pt_id);

	cmd.mock_domain_flags.dev_flags = dev_flags;
	c.fd->call("MOCK_DOMAIN_FLAGS", IOMMU_TEST_CMD, &cmd);
	c.stdev = cmd.mock_domain_flags.out_stdev_id;
	c.hwpt = cmd.mock_domain_flags.out_hwpt_id;
	c.idev = cmd.mock_domain_flags.out_idev_id;
}

uint32_t bind(Ctx &c, uint32_t rid)
{
	iommulab_device_bind cmd{};

	cmd.size = sizeof(cmd);
	cmd.rid = rid;
	cmd.cookie = 0x1234;
	c.fd->call("DEVICE_BIND", IOMMULAB_DEVICE_BIND, &cmd);
	return cmd.out_dev_id;
}

int attach_raw(Ctx &c, uint32_t dev_id, uint32_t pt_id, uint32_t *hwpt)
{
	iommulab_device_attach cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = dev_id;
	cmd.pt_id = pt_id;
	int err = c.fd->raw(IOMMULAB_DEVICE_ATTACH, &cmd);
	if (hwpt)
		*hwpt = cmd.out_hwpt_id;
	return err;
}

uint32_t hwpt_alloc(Ctx &c, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		    uint32_t data_type, const void *data, uint32_t len)
{
	return iommulab::hwpt_alloc(*c.fd, dev_id, pt_id, flags, data_type, data,
				    len);
}

int check_map_raw(Ctx &c, uint32_t hwpt, uint64_t iova, const void *p, uint64_t len)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_MD_CHECK_MAP, hwpt);

	cmd.check_map.iova = iova;
	cmd.check_map.length = len;
	cmd.check_map.uptr = reinterpret_cast<uintptr_t>(p);
	return c.fd->raw(IOMMU_TEST_CMD, &cmd);
}

uint32_t dma_raw(Ctx &c, uint32_t dev_id, uint64_t iova, void *buf, uint64_t len,
		 bool write)
{
	return dma(*c.fd, dev_id, iova, buf, len, write).fault_reason;
}

int refs(const void *p, uint64_t len)
{
	for (uint32_t r = 0; r < 8; r++) {
		int err = check_refs(*observer, p, len, r);

		if (err == 0)
			return static_cast<int>(r);
		if (err != EIO)
			throw Error("MD_CHECK_REFS", err);
	}
	return -1;
}

std::vector<iommu_iova_range> iova_ranges(Ctx &c, uint32_t ioas)
{
	std::vector<iommu_iova_range> r(32);
	iommu_ioas_iova_ranges cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas;
	cmd.num_iovas = static_cast<uint32_t>(r.size());
	cmd.allowed_iovas = reinterpret_cast<uintptr_t>(r.data());
	c.fd->call("IOMMU_IOAS_IOVA_RANGES", IOMMU_IOAS_IOVA_RANGES, &cmd);
	r.resize(cmd.num_iovas);
	return r;
}

namespace {
long proc_status(const char *key);
} // namespace

long vm_pin_kb()
{
	return proc_status("VmPin");
}

long vm_lck_kb()
{
	return proc_status("VmLck");
}

namespace {

// The lines of /proc/self/maps that map a memfd named MEMFD_NAME...
std::vector<std::string> memfd_maps_lines()
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	const std::string key = std::string("/memfd:") + MEMFD_NAME;
	std::vector<std::string> v;

	if (!f)
		return {"(no /proc/self/maps)"};
	while (fgets(line, sizeof(line), f))
		if (strstr(line, key.c_str())) {
			line[strcspn(line, "\n")] = 0;
			v.push_back(line);
		}
	fclose(f);
	return v;
}

} // namespace

int memfd_mappings()
{
	return static_cast<int>(memfd_maps_lines().size());
}

namespace {

// ------------------------------------------------------------ fail-nth ---

class FailNth {
public:
	// nullptr when the kernel has no fail-nth.
	static std::unique_ptr<FailNth> open()
	{
		std::string path = strf("/proc/self/task/%ld/fail-nth",
					static_cast<long>(syscall(SYS_gettid)));
		int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return nullptr;
		auto f = std::unique_ptr<FailNth>(new FailNth);
		f->fd_ = fd;
		f->path_ = path;
		return f;
	}
	~FailNth() { ::close(fd_); }
	const std::string &path() const { return path_; }

	void arm(unsigned n)
	{
		char buf[16];
		int len = snprintf(buf, sizeof(buf), "%u", n);

		if (pwrite(fd_, buf, len, 0) != len)
			throw Failure(strf("arming %s: %s", path_.c_str(), strerror(errno)));
	}

	// Disarms; true when the armed failure was injected (the counter had
	// run down to 0). As upstream: a read that itself fails with EFAULT
	// means the count was not used up by the call.
	bool disarm()
	{
		char buf[32] = {};
		bool fired;
		ssize_t r = pread(fd_, buf, sizeof(buf) - 1, 0);

		if (r < 0 && errno == EFAULT)
			fired = false;
		else if (r < 2)
			throw Failure(strf("reading %s: %s", path_.c_str(), strerror(errno)));
		else
			fired = strtoul(buf, nullptr, 10) == 0;
		if (pwrite(fd_, "0", 1, 0) != 1 && pwrite(fd_, "0", 1, 0) != 1)
			throw Failure(strf("disarming %s: %s", path_.c_str(), strerror(errno)));
		return fired;
	}

private:
	FailNth() = default;
	int fd_ = -1;
	std::string path_;
};

bool write_file(const std::string &path, const char *val)
{
	int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	ssize_t n = write(fd, val, strlen(val));
	::close(fd);
	return n == static_cast<ssize_t>(strlen(val));
}

// The first line of @path without its newline; "" if unreadable.
std::string read_file(const std::string &path)
{
	char buf[64] = {};
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "";
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	::close(fd);
	if (n <= 0)
		return "";
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

const std::string dbg = "/sys/kernel/debug";
// How often an N that a call did not reach is run again before the sweep
// of a row ends (see the top); for a page_alloc row that has had no page
// allocation failure yet (its IOPTE table allocation is then usually the
// call's last check, the one a shorter run misses).
constexpr unsigned UNREACHED_TRIES = 3;
constexpr unsigned UNREACHED_TRIES_PAGE = 20;

// What `times` starts at: far more failures than a sweep injects.
constexpr long FAULT_TIMES = 1000000000L;

// Injected-failure counts so far, from the kernel's `times` countdown.
struct Injected {
	long slab = 0, page = 0;
};

Injected injected_now()
{
	Injected i;

	i.slab = FAULT_TIMES - atol(read_file(dbg + "/failslab/times").c_str());
	i.page = FAULT_TIMES - atol(read_file(dbg + "/fail_page_alloc/times").c_str());
	return i;
}

// See the top of this file. Returns false when the kernel has no fault
// injection at all (failslab missing: the sweep is skipped); fails the run
// (@why set) when fault injection is there but not set up as required.
bool setup_fault_injection(std::string &why)
{
	if (access((dbg + "/failslab").c_str(), F_OK) != 0)
		mount("debugfs", dbg.c_str(), "debugfs", 0, nullptr);
	if (access((dbg + "/failslab").c_str(), F_OK) != 0)
		return false;
	const std::string times = std::to_string(FAULT_TIMES);
	const struct {
		const char *file, *val;
	} settings[] = {
		{"failslab/ignore-gfp-wait", "N"},
		{"fail_page_alloc/ignore-gfp-wait", "N"},
		{"fail_page_alloc/ignore-gfp-highmem", "N"},
		{"fail_page_alloc/min-order", "0"},
		{"failslab/times", times.c_str()},
		{"fail_page_alloc/times", times.c_str()},
		{"failslab/verbose", trace ? "2" : "0"},
		{"fail_page_alloc/verbose", trace ? "2" : "0"},
	};
	for (auto &st : settings) {
		write_file(dbg + "/" + st.file, st.val);
		std::string got = read_file(dbg + "/" + st.file);
		if (got != st.val) {
			why = strf("%s/%s is \"%s\" after writing \"%s\"", dbg.c_str(),
				   st.file, got.c_str(), st.val);
			return true;
		}
	}
	for (const char *f : {"failslab/probability", "fail_page_alloc/probability"})
		if (read_file(dbg + "/" + f) != "0") {
			why = strf("%s/%s is %s, not 0: allocations would fail at random",
				   dbg.c_str(), f, read_file(dbg + "/" + f).c_str());
			return true;
		}
	if (DIR *d = opendir(dbg.c_str())) {
		while (struct dirent *e = readdir(d))
			if (!strncmp(e->d_name, "fail", 4))
				if (!trace || (strcmp(e->d_name, "failslab") &&
					       strcmp(e->d_name, "fail_page_alloc")))
					write_file(dbg + "/" + e->d_name + "/verbose", "0");
		closedir(d);
	}
	return true;
}

void kmsg(const std::string &line)
{
	if (kmsg_fd >= 0) {
		std::string l = line + "\n";
		if (write(kmsg_fd, l.data(), l.size()) < 0)
			perror("/dev/kmsg");
	}
}

// ------------------------------------------------------ state snapshot ---

using State = std::map<std::string, std::string>;

long proc_status(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, nullptr, 10);
	fclose(f);
	return v;
}

int count_fds()
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (struct dirent *e = readdir(d))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

uint64_t checksum(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

std::string ioas_text(Ctx &c, uint32_t id)
{
	std::string s;
	iommu_ioas_iova_ranges cmd{};
	iommu_iova_range r[32];

	cmd.size = sizeof(cmd);
	cmd.ioas_id = id;
	cmd.num_iovas = 32;
	cmd.allowed_iovas = reinterpret_cast<uintptr_t>(r);
	int err = c.fd->raw(IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (err)
		return "IOVA_RANGES: " + errno_name(err);
	for (uint32_t i = 0; i < cmd.num_iovas && i < 32; i++)
		s += strf("%#llx-%#llx ", (unsigned long long)r[i].start,
			  (unsigned long long)r[i].last);
	s += strf("align %#llx", (unsigned long long)cmd.out_iova_alignment);
	iommu_option opt{};
	opt.size = sizeof(opt);
	opt.option_id = IOMMU_OPTION_HUGE_PAGES;
	opt.op = IOMMU_OPTION_OP_GET;
	opt.object_id = id;
	err = c.fd->raw(IOMMU_OPTION, &opt);
	s += err ? " huge_pages " + errno_name(err) :
		   strf(" huge_pages %llu", (unsigned long long)opt.val64);
	return s;
}

std::string pins(const void *p, uint64_t len)
{
	return std::to_string(refs(p, len));
}

// Generic state of a run, compared before/after a failed call.
State snapshot(Ctx &c)
{
	State s;

	s["module.objects_all"] = std::to_string(observer->info().nr_objects_all);
	if (c.fd) {
		Info i = c.fd->info();
		s["fd.objects"] = std::to_string(i.nr_objects);
		s["fd.rlimit_mode"] = std::to_string(
			c.fd->option_get(IOMMU_OPTION_RLIMIT_MODE, 0));
		for (uint32_t id : {c.ioas, c.ioas2})
			if (id)
				s[strf("ioas%u", id)] = ioas_text(c, id);
	}
	s["pins.A"] = pins(mem.A(), MAP_LEN);
	s["pins.B"] = pins(mem.B(), MAP_LEN);
	s["pins.rest"] = pins(mem.buf + 2 * MAP_LEN, MEM_LEN - 2 * MAP_LEN);
	s["pins.file.0"] = pins(mem.file, MAP_LEN);
	s["pins.file.1"] = pins(mem.file + MAP_LEN, FILE_LEN - MAP_LEN);
	s["file.checksum"] = strf("%016llx", (unsigned long long)checksum(mem.file, FILE_LEN));
	s["proc.memfd_mappings"] = std::to_string(memfd_mappings());
	s["proc.VmPin"] = std::to_string(proc_status("VmPin"));
	s["proc.VmLck"] = std::to_string(proc_status("VmLck"));
	s["proc.fds"] = std::to_string(count_fds());
	s["mem.checksum"] = strf("%016llx", (unsigned long long)checksum(mem.buf, MEM_LEN));
	s["rwbuf.checksum"] = strf("%016llx",
				   (unsigned long long)checksum(mem.rwbuf, RWBUF_LEN));
	return s;
}

std::string diff(const State &a, const State &b)
{
	std::string d;
	std::set<std::string> keys;

	for (auto &kv : a)
		keys.insert(kv.first);
	for (auto &kv : b)
		keys.insert(kv.first);
	for (auto &k : keys) {
		auto x = a.find(k), y = b.find(k);
		std::string va = x == a.end() ? "(none)" : x->second;
		std::string vb = y == b.end() ? "(none)" : y->second;
		if (va != vb)
			d += strf("\n      %s: %s -> %s", k.c_str(), va.c_str(), vb.c_str());
	}
	return d;
}

struct Baseline {
	uint64_t objects_all;
	long vm_pin, vm_lck;
	int fds;
	int memfd_maps;
};
Baseline baseline;

Baseline measure()
{
	return {observer->info().nr_objects_all, proc_status("VmPin"),
		proc_status("VmLck"), count_fds(), memfd_mappings()};
}

// After a run's fds are closed: everything is back to the baseline.
void leak_check(const char *when)
{
	Baseline now = measure();

	FN_CHECK(now.objects_all == baseline.objects_all,
		 "%s: module holds %llu objects after close, baseline %llu (leak)",
		 when, (unsigned long long)now.objects_all,
		 (unsigned long long)baseline.objects_all);
	int r = refs(mem.buf, MEM_LEN);
	FN_CHECK(r == 0, "%s: test memory still pinned after close (refs %d)", when, r);
	r = refs(mem.file, FILE_LEN);
	FN_CHECK(r == 0, "%s: the memfd still pinned after close (refs %d)", when, r);
	if (now.memfd_maps != baseline.memfd_maps) {
		std::string lines;
		for (auto &l : memfd_maps_lines())
			lines += "\n      " + l;
		throw Failure(strf("%s: %d mappings of the memfds after close, baseline %d (a "
				   "temporary mapping of a pin left behind?); now:%s", when,
				   now.memfd_maps, baseline.memfd_maps, lines.c_str()));
	}
	FN_CHECK(now.vm_pin == baseline.vm_pin && now.vm_lck == baseline.vm_lck,
		 "%s: VmPin/VmLck %ld/%ld kB after close, baseline %ld/%ld",
		 when, now.vm_pin, now.vm_lck, baseline.vm_pin, baseline.vm_lck);
	FN_CHECK(now.fds == baseline.fds, "%s: %d fds open after close, baseline %d",
		 when, now.fds, baseline.fds);
}

// ------------------------------------------------------------ the sweep ---

struct Outcome {
	bool ok = true;
	std::string why;
	unsigned injected = 0, absorbed = 0;
	long slab = 0, page = 0;  // of the injected ones, by kind
	std::map<int, unsigned> errnos;
};

std::string errno_list(const std::vector<int> &v)
{
	std::string s;

	for (int e : v)
		s += (s.empty() ? "" : "/") + errno_name(e);
	return s.empty() ? "none" : s;
}

// One run with the call under test: n == 0 means no injection.
// Returns true when the sweep is over (the call ran without reaching n).
bool run_once(const Scenario &s, FailNth *nth, unsigned n, Outcome &o)
{
	bool done;
	{
		Ctx c;
		s.setup(c);
		c.vm_pin0 = proc_status("VmPin");
		c.vm_lck0 = proc_status("VmLck");
		State before = snapshot(c);
		int rc;
		bool fired = false;

		if (nth && n) {
			Injected i0 = injected_now();
			nth->arm(n);
			rc = s.call(c);
			fired = nth->disarm();
			Injected i1 = injected_now();
			o.slab += i1.slab - i0.slab;
			o.page += i1.page - i0.page;
		} else {
			rc = s.call(c);
		}
		if (verbose)
			printf("      nth %u: %s%s\n", n, errno_name(rc).c_str(),
			       fired ? " (failure injected)" : "");
		done = !fired;
		if (!fired) {
			FN_CHECK(rc == 0, "nth %u: fails with %s with no failure injected",
				 n, errno_name(rc).c_str());
			if (s.on_success)
				s.on_success(c);
		} else if (rc == 0) {
			o.injected++;
			o.absorbed++;
			if (s.on_success)
				s.on_success(c);
		} else {
			o.injected++;
			o.errnos[rc]++;
			bool allowed = false;
			for (int e : s.errnos)
				allowed |= e == rc;
			FN_CHECK(allowed, "nth %u: injected failure surfaced as %s (allowed: %s)",
				 n, errno_name(rc).c_str(), errno_list(s.errnos).c_str());
			State after = snapshot(c);
			std::string d = diff(before, after);
			FN_CHECK(d.empty(), "nth %u: failed with %s but changed state:%s", n,
				 errno_name(rc).c_str(), d.c_str());
			if (s.on_failure)
				s.on_failure(c);
		}
	}
	leak_check(strf("nth %u", n).c_str());
	return done;
}

Outcome sweep(const Scenario &s, FailNth *nth, unsigned max_nth)
{
	Outcome o;

	try {
		// The probes must pass on an untouched setup, or they prove nothing.
		{
			Ctx c;
			s.setup(c);
			State a = snapshot(c), b = snapshot(c);
			std::string d = diff(a, b);
			FN_CHECK(d.empty(), "snapshot not stable:%s", d.c_str());
			if (s.on_failure)
				s.on_failure(c);
		}
		leak_check("setup only");

		if (!nth) {
			run_once(s, nullptr, 0, o);
			return o;
		}
		kmsg("IOMMULAB-FAULT-INJECTION begin " + std::string(s.name));
		for (unsigned n = 1;; n++) {
			FN_CHECK(n <= max_nth,
				 "still injecting after %u failures (raise --max-nth?)", max_nth);
			if (!run_once(s, nth, n, o))
				continue;
			// Not reached: again, in case this run made fewer
			// checks than another would (see the top).
			bool reached = false;
			unsigned tries = s.page_alloc && o.page == 0 ? UNREACHED_TRIES_PAGE :
								      UNREACHED_TRIES;
			for (unsigned k = 0; k < tries && !reached; k++)
				reached = !run_once(s, nth, n, o);
			if (!reached)
				break;
		}
		kmsg("IOMMULAB-FAULT-INJECTION end " + std::string(s.name));
		FN_CHECK(!s.page_alloc || o.page > 0,
			 "no page allocation failure was injected, though the call "
			 "allocates pages (IOPTE tables): is fail_page_alloc min-order 0?");
	} catch (const std::exception &e) {
		kmsg("IOMMULAB-FAULT-INJECTION end " + std::string(s.name));
		o.ok = false;
		o.why = e.what();
	}
	return o;
}

void *map_memory(size_t len)
{
	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("failnth: mmap");
		exit(1);
	}
	// Small pages: MD_CHECK_REFS does not count pins of compound pages.
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

[[gnu::noinline]] void touch_stack()
{
	volatile char big[256 << 10];

	for (size_t i = 0; i < sizeof(big); i += 4096)
		big[i] = 1;
}

int usage()
{
	fprintf(stderr, "usage: iommulab-failnth [--only SUBSTRING] [--max-nth N] "
			"[--list] [--no-inject] [-v] [--trace]\n");
	return 2;
}

} // namespace
} // namespace failnth

int main(int argc, char **argv)
{
	using namespace failnth;
	const char *only = nullptr;
	unsigned max_nth = 2000;
	bool list = false, no_inject = false;

	setvbuf(stdout, nullptr, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--only" && i + 1 < argc)
			only = argv[++i];
		else if (a == "--max-nth" && i + 1 < argc)
			max_nth = static_cast<unsigned>(strtoul(argv[++i], nullptr, 0));
		else if (a == "--list")
			list = true;
		else if (a == "--no-inject")
			no_inject = true;
		else if (a == "--trace")
			trace = true;
		else if (a == "-v")
			verbose = true;
		else
			return usage();
	}
	if (list) {
		for (auto &s : scenarios())
			printf("%-40s %-40s errnos %s\n", s.name, s.covers,
			       errno_list(s.errnos).c_str());
		return 0;
	}

	dev_path = default_device_path();
	struct rlimit rl = {1ULL << 30, 1ULL << 30};
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		perror("failnth: setrlimit(RLIMIT_MEMLOCK)");
	if (!iommulab_test::drop_capability(CAP_IPC_LOCK, false))
		perror("failnth: capset");
	mem.buf = static_cast<uint8_t *>(map_memory(MEM_LEN));
	mem.rwbuf = static_cast<uint8_t *>(map_memory(RWBUF_LEN));
	for (uint64_t i = 0; i < MEM_LEN; i++)
		mem.buf[i] = static_cast<uint8_t>(i * 7 + 3);
	memset(mem.rwbuf, 0, RWBUF_LEN);
	mem.file_fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
	if (mem.file_fd < 0 || ftruncate(mem.file_fd, FILE_LEN)) {
		perror("failnth: memfd_create");
		return 1;
	}
	void *fp = mmap(nullptr, FILE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			mem.file_fd, 0);
	if (fp == MAP_FAILED) {
		perror("failnth: mmap of the memfd");
		return 1;
	}
	mem.file = static_cast<uint8_t *>(fp);
	for (uint64_t i = 0; i < FILE_LEN; i++)
		mem.file[i] = static_cast<uint8_t>(i * 11 + 5);
	touch_stack();

	try {
		observer = std::make_unique<Iommufd>(dev_path);
	} catch (const std::exception &e) {
		printf("failnth: FAILED: %s\n", e.what());
		return 1;
	}
	kmsg_fd = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	std::unique_ptr<FailNth> nth;
	std::string setup_why;
	if (!no_inject && setup_fault_injection(setup_why))
		nth = FailNth::open();
	if (nth && !setup_why.empty()) {
		printf("failnth: FAILED  fault injection not set up: %s\n", setup_why.c_str());
		return 1;
	}
	if (nth)
		printf("failnth: injecting through %s (failslab + fail_page_alloc "
		       "min-order 0, ignore-gfp-wait/highmem N, probability 0, verbose 0); "
		       "\"slab\"/\"page\": which allocator the injected failure hit; "
		       "\"absorbed\": the failure hit an "
		       "allocation the call survives (e.g. kmemleak's or KASAN's own "
		       "bookkeeping, kvmalloc's kmalloc try)\n", nth->path().c_str());
	else
		printf("failnth: no fault injection (%s); running every row once "
		       "without it\n", no_inject ? "--no-inject" :
		       "no /proc/self/task/<tid>/fail-nth or debugfs failslab");

	unsigned passed = 0, failed = 0, total_injected = 0;
	long total_slab = 0, total_page = 0;
	// Every command has a row.
	for (auto &name : must_cover()) {
		bool covered = false;
		for (auto &s : scenarios())
			covered |= name == s.covers;
		if (!covered) {
			printf("failnth: FAILED  no row covers %s\n", name.c_str());
			failed++;
		}
	}

	baseline = measure();
	for (auto &s : scenarios()) {
		if (only && !strstr(s.name, only))
			continue;
		Outcome o = sweep(s, nth.get(), max_nth);
		// A row that failed may have left something behind (that is
		// what it reports): measure again, so that the next rows are
		// judged against what is there now, not failed for the same
		// leftover.
		if (!o.ok)
			baseline = measure();
		total_injected += o.injected;
		total_slab += o.slab;
		total_page += o.page;
		std::string detail;
		if (nth) {
			detail = strf("%u injected (%ld slab, %ld page)", o.injected, o.slab,
				      o.page);
			for (auto &kv : o.errnos)
				detail += strf(", %u x %s", kv.second, errno_name(kv.first).c_str());
			if (o.absorbed)
				detail += strf(", %u absorbed (call succeeded)", o.absorbed);
		} else {
			detail = "ran once, no injection";
		}
		if (o.ok) {
			passed++;
			printf("failnth: ok      %-38s %s\n", s.name, detail.c_str());
		} else {
			failed++;
			printf("failnth: FAILED  %-38s %s\n    %s\n", s.name, detail.c_str(),
			       o.why.c_str());
		}
	}
	if (nth && !only && total_page == 0) {
		printf("failnth: FAILED  no page allocation failure injected in the whole "
		       "sweep\n");
		failed++;
	}
	printf("failnth: %u passed, %u failed; %u failures injected (%ld slab, %ld page, "
	       "%ld other)\n", passed, failed, total_injected, total_slab, total_page,
	       static_cast<long>(total_injected) - total_slab - total_page);
	if (failed)
		return 1;
	if (!nth) {
		printf("failnth: skipped: fault injection not available in this kernel\n");
		return 77;
	}
	return 0;
}
