// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the harness's test files.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "../common/caps.hpp"
#include "../common/concurrency.hpp"
#include "iommulab.hpp"
#include "expect_state.hpp"

namespace harness {

using namespace iommulab;

// The test suite of every test case that needs what only iommulab has
// (its extension header uapi/iommulab/iommulab.h: the DMA engine, mock
// groups and bound devices, IOMMULAB_GET_INFO, the 4 KiB mock flavour,
// HOLD_PINS accesses, BENCH_PIN; its module parameters; its own errno
// choices for what upstream lacks). The differential lane runs the
// harness with --test-suite-exclude=iommulab-only against upstream's
// iommufd, and everything against iommulab.
#define IOMMULAB_ONLY doctest::test_suite("iommulab-only")

// Whether @fd's module answers IOMMULAB_GET_INFO (iommulab does; upstream's
// iommufd has no such number: ENOTTY). Only the object counts below depend
// on it.
inline bool has_object_counts(const Iommufd &fd)
{
	iommulab_info cmd{};

	cmd.size = sizeof(cmd);
	return fd.raw(IOMMULAB_GET_INFO, &cmd) != ENOTTY;
}

// Objects this fd owns right now (IOMMULAB_GET_INFO).
inline uint32_t nr_objects(const Iommufd &fd)
{
	return fd.info().nr_objects;
}

// Objects alive in the whole module.
inline uint64_t nr_objects_all(const Iommufd &fd)
{
	return fd.info().nr_objects_all;
}

// "The fd owns @n objects", asserted where the count can be read: a shared
// test (one that also runs on upstream's iommufd, which cannot count its
// objects) states it with CHECK_OBJECTS and proves the rest of what it
// names by behaviour; on iommulab the count is checked too. A test whose
// point is the count is iommulab-only instead. OBJECTS_NOW(fd) is the count
// to compare with later (0 where there is none).
inline uint32_t objects_now(const Iommufd &fd)
{
	return has_object_counts(fd) ? nr_objects(fd) : 0;
}
#define OBJECTS_NOW(fd) ::harness::objects_now(fd)
#define CHECK_OBJECTS(fd, n)                                                   \
	do {                                                                   \
		if (::harness::has_object_counts(fd))                          \
			CHECK(::harness::nr_objects(fd) == (n));               \
	} while (0)
#define REQUIRE_OBJECTS(fd, n)                                                 \
	do {                                                                   \
		if (::harness::has_object_counts(fd))                          \
			REQUIRE(::harness::nr_objects(fd) == (n));             \
	} while (0)

// Sends @cmd with a buffer of @buffer_len bytes that starts with the
// structure @payload, and whose size field says @size. Bytes of the
// buffer past the payload are @tail (0 or a non-zero marker). Returns the
// errno (0 on success) and leaves what the kernel wrote in @out.
template <class T>
int send_sized(const Iommufd &fd, unsigned long cmd, const T &payload,
	       uint32_t size, size_t buffer_len, uint8_t tail,
	       std::vector<uint8_t> *out = nullptr)
{
	std::vector<uint8_t> buf(std::max(buffer_len, sizeof(T)), tail);

	std::memcpy(buf.data(), &payload, sizeof(T));
	std::memcpy(buf.data(), &size, sizeof(size));
	int err = fd.raw(cmd, buf.data());
	if (out)
		*out = buf;
	return err;
}

// Sends @payload exactly as given (its size field as the caller set it).
template <class T> int send(const Iommufd &fd, unsigned long cmd, T &payload)
{
	return fd.raw(cmd, &payload);
}

// IOMMU_IOAS_MAP; returns the errno (0 on success) and the IOVA in *@iova.
inline int map_raw(const Iommufd &fd, uint32_t ioas, const void *buf, uint64_t len,
	    uint32_t flags, uint64_t *iova)
{
	iommu_ioas_map cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.ioas_id = ioas;
	cmd.user_va = reinterpret_cast<uintptr_t>(buf);
	cmd.length = len;
	cmd.iova = *iova;
	int err = fd.raw(IOMMU_IOAS_MAP, &cmd);
	*iova = cmd.iova;
	return err;
}

// A field of /proc/<pid>/status in KiB (VmPin, VmLck); pid 0: this process.
inline long status_kib(const char *field, pid_t pid = 0)
{
	std::ifstream in(pid ? "/proc/" + std::to_string(pid) + "/status" :
			       std::string("/proc/self/status"));
	std::string key;
	long v = -1;

	while (in >> key) {
		if (key == std::string(field) + ":") {
			in >> v;
			return v;
		}
		in.ignore(1 << 16, '\n');
	}
	return v;
}

// IOMMU_TEST_OP_MOCK_DOMAIN on @pt_id: the errno (0 on success, and then
// the new device is unplugged again at once).
inline int mock_domain_raw(const Iommufd &fd, uint32_t pt_id)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN, pt_id);
	int err = send(fd, IOMMU_TEST_CMD, cmd);

	if (!err)
		fd.destroy(cmd.mock_domain.out_stdev_id);
	return err;
}

inline iommu_option option_cmd(uint32_t option_id, uint16_t op,
			       uint32_t object_id, uint64_t val = 0)
{
	iommu_option cmd{};

	cmd.size = sizeof(cmd);
	cmd.option_id = option_id;
	cmd.op = op;
	cmd.object_id = object_id;
	cmd.val64 = val;
	return cmd;
}

// @n bytes of fresh anonymous memory, not yet touched.
struct AnonMap {
	uint8_t *p;
	size_t len;

	explicit AnonMap(size_t n) : len(n)
	{
		void *m = mmap(nullptr, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		REQUIRE(m != MAP_FAILED);
		p = static_cast<uint8_t *>(m);
	}
	~AnonMap() { munmap(p, len); }
	AnonMap(const AnonMap &) = delete;
	AnonMap &operator=(const AnonMap &) = delete;
};

// Anonymous page-aligned memory, filled with a per-byte pattern.
struct Buffer : AnonMap {
	explicit Buffer(size_t n, uint8_t seed = 1) : AnonMap(n) { fill(seed); }

	void fill(uint8_t seed)
	{
		for (size_t i = 0; i < len; i++)
			p[i] = static_cast<uint8_t>(seed + i * 7);
	}
	std::vector<uint8_t> snapshot() const { return {p, p + len}; }
};

// Anonymous memory of base pages only (MADV_NOHUGEPAGE: MD_CHECK_REFS skips
// THPs, and a test of one IOPTE per page wants one page per IOPTE), every
// byte @fill.
struct BasePages : AnonMap {
	explicit BasePages(size_t n, uint8_t fill = 0) : AnonMap(n)
	{
		madvise(p, n, MADV_NOHUGEPAGE);
		memset(p, fill, n);
	}
};

// Runs @fn in a child process; returns its exit status (255 if it died,
// 254 if @fn threw).
inline int in_child(const std::function<int()> &fn)
{
	pid_t pid = fork();
	if (pid == 0) {
		// An exception must not unwind into the forked copy of the
		// harness, which would go on running the other tests.
		try {
			_exit(fn());
		} catch (const std::exception &e) {
			std::fprintf(stderr, "in_child: %s\n", e.what());
		} catch (...) {
			std::fprintf(stderr, "in_child: unknown exception\n");
		}
		_exit(254);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// Writes @value to a sysfs/procfs/debugfs file and puts the old value
// back at the end of the scope. A file that lists its choices with the
// current one in parentheses ("none (voluntary) full") gives that one.
class ScopedSetting {
public:
	ScopedSetting(std::string path, const std::string &value)
		: path_(std::move(path))
	{
		std::ifstream in(path_);
		std::getline(in, old_);
		auto open = old_.find('('), close = old_.find(')');
		if (open != std::string::npos && close > open)
			old_ = old_.substr(open + 1, close - open - 1);
		ok_ = in.good() && write(value);
	}
	~ScopedSetting()
	{
		if (ok_)
			write(old_);
	}
	bool ok() const { return ok_; }
	bool write(const std::string &value) const
	{
		std::ofstream out(path_);
		out << value << "\n";
		out.flush();
		return out.good();
	}

private:
	std::string path_, old_;
	bool ok_ = false;
};

using iommulab_test::Concurrent;
using iommulab_test::drop_capability;

// The test case running now (set by the listener in main.cpp).
inline std::string current_test;

// A skip decided at run time (doctest 2.4 has only the static
// doctest::skip() decorator): IOMMULAB_SKIP("why") prints a line
// "iommulab-skip: <test case>: <why>" and returns from the test case.
// doctest counts the case as passed; the VM lane (selftests/vm.sh) counts
// each test case with such a line as skipped instead, and shows the reason.
inline void report_skip(const std::string &why)
{
	std::cout << "iommulab-skip: " << current_test << ": " << why
		  << std::endl;
}
#define IOMMULAB_SKIP(why)                                                     \
	do {                                                                   \
		const std::string why_ = (why);                                \
		MESSAGE("skipped: " << why_);                                  \
		::harness::report_skip(why_);                                  \
		return;                                                        \
	} while (0)

// How many bytes of [@p, @p + @len) (2 MiB aligned) are backed by
// transparent huge pages, by the kernel's page flags (/proc/self/pagemap and
// /proc/kpageflags; needs root, which the harness has). -1 if unreadable.
inline long thp_backed_bytes(const void *p, size_t len)
{
	constexpr uint64_t KPF_THP = 1ULL << 22;
	const uintptr_t va = reinterpret_cast<uintptr_t>(p);
	const long ps = sysconf(_SC_PAGESIZE);
	FILE *pm = std::fopen("/proc/self/pagemap", "rb");
	FILE *kf = std::fopen("/proc/kpageflags", "rb");
	long huge = 0;

	for (uintptr_t a = va; pm && kf && a < va + len; a += ps) {
		uint64_t ent = 0, flags = 0;
		if (std::fseek(pm, long(a / ps * 8), SEEK_SET) ||
		    std::fread(&ent, 8, 1, pm) != 1)
			huge = -1;
		const uint64_t pfn = ent & ((1ULL << 55) - 1);
		if (huge >= 0 && (!(ent >> 63) || !pfn))
			continue; // not present, or PFNs hidden
		if (huge < 0 || std::fseek(kf, long(pfn * 8), SEEK_SET) ||
		    std::fread(&flags, 8, 1, kf) != 1) {
			huge = -1;
			break;
		}
		if (flags & KPF_THP)
			huge += ps;
	}
	if (!pm || !kf)
		huge = -1;
	if (pm)
		std::fclose(pm);
	if (kf)
		std::fclose(kf);
	return huge;
}

inline std::string read_line(const char *path)
{
	std::ifstream f(path);
	std::string s;
	std::getline(f, s);
	return f ? s : std::string("(unreadable)");
}

// Anonymous memory whose @len bytes start 2 MiB aligned, in a VMA of their
// own, backed by 4 KiB pages only (!@thp: MADV_NOHUGEPAGE) or by
// transparent huge pages (@thp), got deterministically: a fresh aligned
// region, MADV_HUGEPAGE, touched, then MADV_COLLAPSE if the fault did not
// give huge pages (Linux 6.1 has it, and it collapses even with THP
// "never" in sysfs; an older kernel says EINVAL, fine), and checked page by
// page in the kernel's page flags. The guest runs with THP
// "enabled=always" and "defrag=always" (selftests/vm.sh). When THP could
// not be had, thp_ok is false and why_not says why: the test skips
// (IOMMULAB_SKIP), it does not fail at random.
struct HugeBuffer {
	static constexpr size_t HPAGE = 2 << 20;
	static constexpr int MADV_COLLAPSE_ = 25; // <sys/mman.h> may lack it
	uint8_t *base, *p;
	size_t len;
	bool thp_ok = false;
	std::string why_not;

	HugeBuffer(size_t n, bool thp, uint8_t fill = 0x42) : len(n)
	{
		void *m = mmap(nullptr, n + HPAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		REQUIRE(m != MAP_FAILED);
		base = static_cast<uint8_t *>(m);
		p = reinterpret_cast<uint8_t *>(
			(reinterpret_cast<uintptr_t>(base) + HPAGE - 1) &
			~uintptr_t(HPAGE - 1));
		REQUIRE(madvise(p, n, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) == 0);
		std::memset(p, fill, n);
		if (!thp)
			return;
		long got = thp_backed_bytes(p, n);
		std::string collapse = "not needed";
		if (got >= 0 && size_t(got) < n) {
			collapse = madvise(p, n, MADV_COLLAPSE_) ? std::strerror(errno) : "ok";
			got = thp_backed_bytes(p, n);
		}
		thp_ok = got >= 0 && size_t(got) == n;
		if (!thp_ok)
			why_not = "no transparent huge pages for a " +
				  std::to_string(n >> 20) + " MiB buffer (" +
				  (got < 0 ? std::string("page flags unreadable")
					   : std::to_string(got >> 10) + " KiB THP-backed") +
				  "; MADV_COLLAPSE: " +
				  collapse +
				  "; enabled: " +
				  read_line("/sys/kernel/mm/transparent_hugepage/enabled") +
				  "; defrag: " +
				  read_line("/sys/kernel/mm/transparent_hugepage/defrag") + ")";
	}
	~HugeBuffer() { munmap(base, len + HPAGE); }
	HugeBuffer(const HugeBuffer &) = delete;
	HugeBuffer &operator=(const HugeBuffer &) = delete;
};

// The device writes @n bytes of @val at @iova.
inline DmaResult dma_fill(const Iommufd &fd, uint32_t dev, uint64_t iova, size_t n,
		   uint8_t val)
{
	std::vector<uint8_t> data(n, val);
	return dma(fd, dev, iova, data.data(), n, true);
}

// IOMMULAB_DEVICE_PASID as is: the errno; the PASID (picked by the kernel
// with IOMMULAB_DEVICE_PASID_ALLOC) in @out.
inline int ext_pasid(const Iommufd &fd, uint32_t op, uint32_t dev,
		     uint32_t pasid, uint32_t pt_id, uint32_t flags = 0,
		     uint32_t *out = nullptr)
{
	iommulab_device_pasid cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.op = op;
	cmd.dev_id = dev;
	cmd.pasid = pasid;
	cmd.pt_id = pt_id;
	int err = send(fd, IOMMULAB_DEVICE_PASID, cmd);
	if (out)
		*out = cmd.pasid;
	return err;
}

// IOMMULAB_AUX_@nr as is: the errno; the default PASID in @pasid.
inline int aux_call(const Iommufd &fd, unsigned long nr, uint32_t dev,
		    uint32_t hwpt, uint32_t *pasid = nullptr,
		    uint32_t flags = 0, uint32_t reserved = 0)
{
	iommulab_aux cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dev_id = dev;
	cmd.hwpt_id = hwpt;
	cmd.__reserved = reserved;
	int err = send(fd, nr, cmd);
	if (pasid)
		*pasid = cmd.out_pasid;
	return err;
}

// The device writes @n bytes of @val at @iova with @pasid.
inline DmaResult write_pasid(const Iommufd &fd, uint32_t dev, uint32_t pasid,
			     uint64_t iova, size_t n, uint8_t val)
{
	std::vector<uint8_t> data(n, val);
	return dma_pasid(fd, dev, pasid, iova, data.data(), n, true);
}

// True if @buf equals @before except [off, off + n), which holds @val.
inline bool only_changed(const Buffer &buf, const std::vector<uint8_t> &before,
		  size_t off, size_t n, uint8_t val)
{
	for (size_t i = 0; i < buf.len; i++) {
		bool inside = i >= off && i < off + n;
		if (buf.p[i] != (inside ? val : before[i]))
			return false;
	}
	return true;
}

inline bool unchanged(const Buffer &buf, const std::vector<uint8_t> &before)
{
	return std::memcmp(buf.p, before.data(), buf.len) == 0;
}

} // namespace harness
