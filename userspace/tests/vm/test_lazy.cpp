// SPDX-License-Identifier: GPL-2.0
// Lazy pinning (upstream's model) and IOMMU_IOAS_MAP_FILE. MAP remembers
// the memory; the first domain (or access) pins it, the last one unpins
// it. Every claim is checked by DMA through a mock device, by moving
// bytes through an access, or by the kernel's own pin count of the pages
// (MD_CHECK_REFS) and the process's VmPin.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/memfd.h>
#include <memory>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t NEEDS_PIN = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
constexpr uint64_t AT = MOCK_APERTURE_START + (1 << 20);

// A DMA read of @len bytes at @iova through @dev equals @want.
bool dma_reads(const Iommufd &fd, uint32_t dev, uint64_t iova,
	       const uint8_t *want, size_t len)
{
	std::vector<uint8_t> got(len);
	DmaResult r = dma(fd, dev, iova, got.data(), len, false);

	return r.ok() && std::memcmp(got.data(), want, len) == 0;
}

int map_file_raw(const Iommufd &fd, uint32_t ioas, int mfd, uint64_t start,
		 uint64_t len, uint32_t flags, uint64_t *iova)
{
	iommu_ioas_map_file cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.ioas_id = ioas;
	cmd.fd = mfd;
	cmd.start = start;
	cmd.length = len;
	cmd.iova = *iova;
	int err = fd.raw(IOMMU_IOAS_MAP_FILE, &cmd);
	*iova = cmd.iova;
	return err;
}

// A memfd of @len bytes filled with @seed + offset, and its shared mapping.
struct Memfd {
	int fd = -1;
	uint8_t *p = nullptr;
	size_t len;

	Memfd(size_t n, uint8_t seed, unsigned int flags = 0) : len(n)
	{
		fd = memfd_create("iommulab-test", MFD_CLOEXEC | flags);
		if (fd < 0 || ftruncate(fd, n))
			return;
		void *m = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		if (m == MAP_FAILED)
			return;
		p = static_cast<uint8_t *>(m);
		for (size_t i = 0; i < n; i++)
			p[i] = uint8_t(seed + i * 7);
	}
	~Memfd()
	{
		if (p)
			munmap(p, len);
		if (fd >= 0)
			close(fd);
	}
	bool ok() const { return p != nullptr; }
};

} // namespace

TEST_CASE("lazy pinning: MAP pins nothing; the first domain pins, the last unpins")
{
	Iommufd fd;
	Ioas ioas(fd);
	Access acc(ioas, 0);
	Buffer buf(8 * PS, 0x5a);

	const uint64_t iova = ioas.map(buf.p, buf.len, RW | FIXED, AT);
	CHECK(check_refs(fd, buf.p, buf.len, 0) == 0);
	// An access copies through memory nothing has pinned, and leaves it so.
	expect_mapped(Via::access(fd, acc), iova, buf.p, buf.len);
	CHECK(check_refs(fd, buf.p, buf.len, 0) == 0);
	{
		MockDomain md(fd, ioas.id());
		CHECK(check_refs(fd, buf.p, buf.len, 1) == 0);
		{
			// A second domain shares the pins.
			MockDomain md2(fd, ioas.id());
			CHECK(check_refs(fd, buf.p, buf.len, 1) == 0);
		}
		CHECK(check_refs(fd, buf.p, buf.len, 1) == 0);
		// The domain maps the pinned pages, which are the process's.
		expect_domain_maps(fd, md.hwpt_id(), iova, buf.p, buf.len);
		// MAP with a domain pins at once; UNMAP unpins.
		Buffer more(2 * PS, 0x11);
		const uint64_t m = ioas.map(more.p, more.len, RW);
		CHECK(check_refs(fd, more.p, more.len, 1) == 0);
		expect_domain_maps(fd, md.hwpt_id(), m, more.p, more.len);
		ioas.unmap(m, more.len);
		CHECK(check_refs(fd, more.p, more.len, 0) == 0);
	}
	// The last domain is gone: unpinned, still mapped.
	CHECK(check_refs(fd, buf.p, buf.len, 0) == 0);
	expect_mapped(Via::access(fd, acc), iova, buf.p, buf.len);
}

TEST_CASE("lazy pinning: memory that is not there fails at the first domain, not at MAP")
{
	Iommufd fd;
	Ioas ioas(fd);
	AnonMap hole(4 * PS);
	Buffer good(2 * PS, 0x21);

	REQUIRE(mprotect(hole.p, hole.len, PROT_NONE) == 0);
	ioas.map(good.p, good.len, RW | FIXED, AT);
	// Accepted: nothing is pinned or touched yet (upstream's
	// no_domain.area_auto_iova maps unpopulated memory the same way).
	ioas.map(hole.p, hole.len, RW | FIXED, AT + 4 * PS);
	// The first domain pins every mapping: EFAULT, and nothing stays
	// pinned, not even the good mapping, and no device is left.
	const uint32_t objects = OBJECTS_NOW(fd);
	CHECK(mock_domain_raw(fd, ioas.id()) == EFAULT);
	CHECK_OBJECTS(fd, objects);
	CHECK(check_refs(fd, good.p, good.len, 0) == 0);
	// Once the memory is there, the same attach works and maps it.
	REQUIRE(mprotect(hole.p, hole.len, PROT_READ | PROT_WRITE) == 0);
	std::memset(hole.p, 0x77, hole.len);
	MockDomain md(fd, ioas.id());
	expect_domain_maps(fd, md.hwpt_id(), AT + 4 * PS, hole.p, hole.len);
	expect_domain_maps(fd, md.hwpt_id(), AT, good.p, good.len);

	SUBCASE("with a domain there, MAP itself pins and refuses a hole") {
		AnonMap hole2(2 * PS);
		REQUIRE(mprotect(hole2.p, hole2.len, PROT_NONE) == 0);
		uint64_t at = AT + 16 * PS;
		CHECK(map_raw(fd, ioas.id(), hole2.p, hole2.len, RW | FIXED,
			      &at) == EFAULT);
		CHECK(mprotect(hole2.p, hole2.len, PROT_READ | PROT_WRITE) == 0);
		expect_domain_lacks(fd, md.hwpt_id(), AT + 16 * PS, hole2.p,
				    hole2.len);
	}
	SUBCASE("an access pins lazily, and only while it holds the pages") {
		Ioas other(fd);
		Buffer b(4 * PS, 0x31);
		Access pin_acc(other, NEEDS_PIN);
		const uint64_t i = other.map(b.p, b.len, RW);
		CHECK(check_refs(fd, b.p, b.len, 0) == 0);
		const uint32_t item = pin_acc.pin(i + PS, PS, b.p + PS, false);
		// The page asked for is pinned once, for the access (iommulab
		// pins the whole mapping's pages, upstream that range).
		CHECK(check_refs(fd, b.p + PS, PS, 1) == 0);
		pin_acc.unpin(item);
		CHECK(check_refs(fd, b.p, b.len, 0) == 0);
	}
}

TEST_CASE("lazy pinning: a mapping of a process that is gone cannot be pinned")
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer buf(4 * PS, 0x42);

	// The child maps its own copy of the buffer into the shared fd, then
	// exits: without a domain nothing was pinned, and its mm is gone.
	REQUIRE(in_child([&] {
			return ioas.map(buf.p, buf.len, RW | FIXED, AT) == AT ? 0
									     : 1;
		}) == 0);
	CHECK(mock_domain_raw(fd, ioas.id()) == EFAULT);
	ioas.unmap_all();

	SUBCASE("with a domain, the child's pages were pinned while it lived") {
		MockDomain md(fd, ioas.id());
		REQUIRE(in_child([&] {
				std::memset(buf.p, 0xc5, buf.len);
				return ioas.map(buf.p, buf.len, RW | FIXED, AT) ==
					       AT ?
					       0 :
					       1;
			}) == 0);
		// A second domain is filled from the pins the child made: the
		// child's bytes, not the parent's.
		MockDomain md2(fd, ioas.id());
		std::vector<uint8_t> want(buf.len, 0xc5), got(buf.len);
		Access acc(ioas, 0);
		acc.read(AT, got.data(), got.size());
		CHECK(got == want);
		expect_domain_lacks(fd, md2.hwpt_id(), AT, buf.p, buf.len);
		CHECK(buf.p[0] == 0x42);
		CHECK(buf.p[1] == uint8_t(0x42 + 7));
	}
}

TEST_CASE("lazy pinning: a live process's mapping is pinned from its own mm")
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer buf(4 * PS, 0x42);
	const auto before = buf.snapshot();
	int to_child[2], to_parent[2];

	REQUIRE(pipe(to_child) == 0);
	REQUIRE(pipe(to_parent) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		char c = 0;
		std::memset(buf.p, 0xd7, buf.len);
		c = ioas.map(buf.p, buf.len, RW | FIXED, AT) == AT ? 'm' : 'e';
		if (write(to_parent[1], &c, 1) != 1)
			_exit(2);
		// Stay alive until the parent has pinned our pages.
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(buf.p[5] == 0x3c ? 0 : 4);
	}
	char c = 0;
	REQUIRE(read(to_parent[0], &c, 1) == 1);
	CHECK(c == 'm');
	{
		// The parent attaches: the child's pages are pinned, from the
		// child's mm: not the parent's pages, and an access reads and
		// writes the child's.
		MockDomain md(fd, ioas.id());
		expect_domain_lacks(fd, md.hwpt_id(), AT, buf.p, buf.len);
		CHECK(check_refs(fd, buf.p, buf.len, 0) == 0);
		Access acc(ioas, 0);
		std::vector<uint8_t> want(buf.len, 0xd7), got(buf.len);
		acc.read(AT, got.data(), got.size());
		CHECK(got == want);
		uint8_t x = 0x3c;
		acc.write(AT + 5, &x, 1);
		CHECK(std::memcmp(buf.p, before.data(), buf.len) == 0);
	}
	c = 'x';
	REQUIRE(write(to_child[1], &c, 1) == 1);
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
	for (int p : {to_child[0], to_child[1], to_parent[0], to_parent[1]})
		close(p);
}

TEST_CASE("lazy pinning: RLIMIT_MEMLOCK is charged at the first pin, returned at the last")
{
	for (int mode : {0, 1}) {
		CAPTURE(mode);
		const char *field = mode ? "VmLck" : "VmPin";
		int rc = in_child([&] {
			Iommufd cfd;
			if (mode)
				cfd.option_set(IOMMU_OPTION_RLIMIT_MODE, 1);
			if (!drop_capability(CAP_IPC_LOCK))
				return 90;
			rlimit rl{16 * PS, 16 * PS};
			if (setrlimit(RLIMIT_MEMLOCK, &rl))
				return 91;
			Ioas ioas(cfd);
			Buffer buf(12 * PS), big(20 * PS);
			const long base = status_kib(field);
			ioas.map(buf.p, buf.len, RW | FIXED, AT);
			// Over the limit, but nothing is pinned yet: accepted.
			const uint64_t ib = ioas.map(big.p, big.len, RW | FIXED,
						     AT + buf.len);
			if (status_kib(field) != base)
				return 1;
			// The first domain would pin 32 pages: ENOMEM, nothing
			// charged or pinned.
			if (mock_domain_raw(cfd, ioas.id()) != ENOMEM)
				return 2;
			if (status_kib(field) != base ||
			    check_refs(cfd, buf.p, buf.len, 0))
				return 3;
			ioas.unmap(ib, big.len);
			{
				MockDomain md(cfd, ioas.id());
				if (status_kib(field) != base + 48)
					return 4;
				MockDomain md2(cfd, ioas.id());
				if (status_kib(field) != base + 48)
					return 5;
			}
			return status_kib(field) == base ? 0 : 6;
		});
		CHECK(rc == 0);
	}
}

// The domain's IOPTEs checked with MD_CHECK_MAP and the bytes moved by an
// access (upstream's terms); with @by_dma by a device's DMA as well.
static void map_file_memfd(bool by_dma)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	Memfd mf(16 * PS, 0x13);
	REQUIRE(mf.ok());

	uint64_t iova = AT;
	REQUIRE(map_file_raw(fd, ioas.id(), mf.fd, 2 * PS, 8 * PS, RW | FIXED,
			     &iova) == 0);
	expect_domain_maps(fd, md.hwpt_id(), AT, mf.p + 2 * PS, 8 * PS);
	// Pages outside the mapped range are not in the domain.
	expect_domain_lacks(fd, md.hwpt_id(), AT - PS, mf.p + PS, PS);
	expect_domain_lacks(fd, md.hwpt_id(), AT + 8 * PS, mf.p + 10 * PS, PS);
	Access acc(ioas, 0);
	const char msg[] = "into the memfd";
	acc.write(AT + PS + 9, msg, sizeof(msg));
	char got[sizeof(msg)] = {};
	REQUIRE(pread(mf.fd, got, sizeof(got), 3 * PS + 9) == sizeof(got));
	CHECK(std::memcmp(got, msg, sizeof(msg)) == 0);
	if (by_dma) {
		CHECK(dma_reads(fd, md.idev_id(), AT, mf.p + 2 * PS, 8 * PS));
		const char dmsg[] = "DMA into the memfd";
		REQUIRE(dma(fd, md.idev_id(), AT + 2 * PS + 9,
			    const_cast<char *>(dmsg), sizeof(dmsg), true)
				.ok());
		char dgot[sizeof(dmsg)] = {};
		REQUIRE(pread(mf.fd, dgot, sizeof(dgot), 4 * PS + 9) ==
			sizeof(dgot));
		CHECK(std::memcmp(dgot, dmsg, sizeof(dmsg)) == 0);
		expect_unmapped(Via::device(fd, md.idev_id()), AT - PS, PS);
		expect_unmapped(Via::device(fd, md.idev_id()), AT + 8 * PS, PS);
	}

	SUBCASE("an offset that is not page aligned keeps its offset in the IOVA") {
		uint64_t at = 0;
		// The mock's IOPTEs are 2 KiB: half a page is aligned enough.
		REQUIRE(map_file_raw(fd, ioas.id(), mf.fd, 5 * PS + PS / 2, PS,
				     RW, &at) == 0);
		CHECK(at % PS == PS / 2);
		expect_domain_maps(fd, md.hwpt_id(), at, mf.p + 5 * PS + PS / 2,
				   PS);
		if (by_dma)
			CHECK(dma_reads(fd, md.idev_id(), at,
					mf.p + 5 * PS + PS / 2, PS));
	}
	SUBCASE("bad input: its errno, and nothing is mapped") {
		uint64_t at = AT + 32 * PS;
		CHECK(map_file_raw(fd, ioas.id(), -1, 0, PS, RW | FIXED, &at) ==
		      EBADF);
		CHECK(map_file_raw(fd, ioas.id(), mf.fd, 0, 0, RW | FIXED, &at) ==
		      EINVAL);
		CHECK(map_file_raw(fd, ioas.id(), mf.fd, 0, 16 * PS + 1,
				   RW | FIXED, &at) == EINVAL);
		CHECK(map_file_raw(fd, ioas.id(), mf.fd, 0, PS, FIXED, &at) ==
		      EINVAL);
		CHECK(map_file_raw(fd, ioas.id(), mf.fd, 0, PS, RW | FIXED | 8,
				   &at) == EOPNOTSUPP);
		CHECK(map_file_raw(fd, ioas.id(), mf.fd, UINT64_MAX - PS, 2 * PS,
				   RW | FIXED, &at) == EOVERFLOW);
		CHECK(map_file_raw(fd, 0, mf.fd, 0, PS, RW | FIXED, &at) ==
		      ENOENT);
		// Not a shmem or hugetlbfs file: a pipe, a procfs file.
		int p[2];
		REQUIRE(pipe(p) == 0);
		CHECK(map_file_raw(fd, ioas.id(), p[0], 0, PS, RW | FIXED, &at) ==
		      EINVAL);
		close(p[0]);
		close(p[1]);
		int proc = open("/proc/self/status", O_RDONLY);
		REQUIRE(proc >= 0);
		CHECK(map_file_raw(fd, ioas.id(), proc, 0, PS, RW | FIXED, &at) ==
		      EINVAL);
		close(proc);
		// Writeable needs a file open for writing.
		std::string path = "/proc/self/fd/" + std::to_string(mf.fd);
		int ro = open(path.c_str(), O_RDONLY);
		REQUIRE(ro >= 0);
		CHECK(map_file_raw(fd, ioas.id(), ro, 0, PS, RW | FIXED, &at) ==
		      EPERM);
		close(ro);
		// A file truncated to nothing has no range to map.
		Memfd empty(4 * PS, 1);
		REQUIRE(empty.ok());
		REQUIRE(ftruncate(empty.fd, 0) == 0);
		CHECK(map_file_raw(fd, ioas.id(), empty.fd, 0, PS, RW | FIXED,
				   &at) == EINVAL);
		expect_domain_lacks(fd, md.hwpt_id(), AT + 32 * PS, mf.p, PS);
		if (by_dma)
			expect_unmapped(Via::device(fd, md.idev_id()),
					AT + 32 * PS, PS);
		expect_only(ioas, {{AT, 8 * PS}});
	}
}

TEST_CASE("IOAS_MAP_FILE maps a memfd: the domain maps the file's pages")
{
	map_file_memfd(false);
}

TEST_CASE("IOAS_MAP_FILE maps a memfd: the device reaches the file's pages" *
	  IOMMULAB_ONLY)
{
	map_file_memfd(true);
}

TEST_CASE("IOAS_MAP_FILE of a memfd is pinned lazily and outlives the fd")
{
	Iommufd fd;
	Ioas ioas(fd);
	auto mf = std::make_unique<Memfd>(4 * PS, 0x61);
	REQUIRE(mf->ok());
	std::vector<uint8_t> want(mf->p, mf->p + mf->len);

	uint64_t iova = AT;
	REQUIRE(map_file_raw(fd, ioas.id(), mf->fd, 0, 4 * PS, RW | FIXED,
			     &iova) == 0);
	// The mapping keeps the file: closing the fd and unmapping the
	// process's view of it changes nothing for the device.
	mf.reset();
	MockDomain md(fd, ioas.id());
	Access acc(ioas, 0);
	std::vector<uint8_t> got(want.size());
	acc.read(AT, got.data(), got.size());
	CHECK(got == want);
}

TEST_CASE("IOAS_MAP_FILE maps a hugetlbfs memfd")
{
	constexpr size_t HP = 2 << 20;
	Memfd mf(2 * HP, 0x29, MFD_HUGETLB);
	if (!mf.ok())
		IOMMULAB_SKIP("no 2 MiB hugetlb pages in this guest (memfd_create"
			      "(MFD_HUGETLB) or its mmap failed)");
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	uint64_t iova = 0;
	// A range that starts and ends inside the huge pages.
	REQUIRE(map_file_raw(fd, ioas.id(), mf.fd, HP - 4 * PS, 8 * PS, RW,
			     &iova) == 0);
	expect_domain_maps(fd, md.hwpt_id(), iova, mf.p + HP - 4 * PS, 8 * PS);
	Access acc(ioas, 0);
	uint8_t x = 0xee;
	acc.write(iova + 5 * PS, &x, 1);
	CHECK(mf.p[HP + PS] == 0xee);
}

TEST_CASE("a read-only MAP of a private file mapping follows the process's write")
{
	// The page a device reads must stay the page the process sees: a
	// write to a copy-on-write mapping after the MAP must not leave the
	// device on the old page (upstream's ro_unshare; GUP unshares on
	// newer kernels, the module breaks the COW itself on 6.1).
	int exe = open("/proc/self/exe", O_RDONLY);
	REQUIRE(exe >= 0);
	void *m = mmap(nullptr, PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, exe, 0);
	close(exe);
	REQUIRE(m != MAP_FAILED);
	auto *p = static_cast<uint8_t *>(m);
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	const uint64_t iova = ioas.map(p, PS, IOMMU_IOAS_MAP_READABLE);
	expect_domain_maps(fd, md.hwpt_id(), iova, p, PS);
	std::memset(p, 0x5c, PS);
	// The domain maps the page the process sees now.
	expect_domain_maps(fd, md.hwpt_id(), iova, p, PS);
	// Still read-only.
	Access acc(ioas, 0);
	uint8_t x = 1;
	auto w = test_cmd(IOMMU_TEST_OP_ACCESS_RW, acc.fd());
	w.access_rw.iova = iova;
	w.access_rw.length = 1;
	w.access_rw.uptr = reinterpret_cast<uintptr_t>(&x);
	w.access_rw.flags = MOCK_ACCESS_RW_WRITE;
	CHECK(fd.raw(IOMMU_TEST_CMD, &w) == EPERM);
	CHECK(p[0] == 0x5c);
	ioas.unmap(iova, PS);
	munmap(m, PS);
}

TEST_CASE("IOAS_CHANGE_PROCESS moves the charge of memfd mappings to the caller")
{
	for (int mode : {0, 1}) {
		CAPTURE(mode);
		int rc = in_child([&] {
			if (!drop_capability(CAP_IPC_LOCK))
				return 90;
			Iommufd cfd;
			if (mode)
				cfd.option_set(IOMMU_OPTION_RLIMIT_MODE, 1);
			Ioas ioas(cfd);
			MockDomain md(cfd, ioas.id());
			iommu_ioas_change_process cmd{};
			cmd.size = sizeof(cmd);
			const pid_t me = getpid();
			const long pin0 = status_kib("VmPin");

			// A mapping of user memory cannot move: EINVAL.
			Buffer buf(PS);
			const uint64_t ib = ioas.map(buf.p, PS, RW);
			if (cfd.raw(IOMMU_IOAS_CHANGE_PROCESS, &cmd) != EINVAL)
				return 1;
			ioas.unmap(ib, PS);
			Memfd mf(4 * PS, 3);
			uint64_t iova = 0;
			if (!mf.ok() || map_file_raw(cfd, ioas.id(), mf.fd, 0, 4 * PS,
						     RW, &iova))
				return 2;
			if (status_kib("VmPin") != pin0 + 16)
				return 3;
			cmd.__reserved = 1;
			if (cfd.raw(IOMMU_IOAS_CHANGE_PROCESS, &cmd) != EOPNOTSUPP)
				return 4;
			cmd.__reserved = 0;
			// To itself: nothing changes.
			if (cfd.raw(IOMMU_IOAS_CHANGE_PROCESS, &cmd) ||
			    status_kib("VmPin") != pin0 + 16)
				return 5;
			// A process without room under its RLIMIT_MEMLOCK is
			// refused, and nothing moves.
			int err = in_child([&] {
				rlimit rl{0, 0};
				if (setrlimit(RLIMIT_MEMLOCK, &rl))
					return 91;
				return cfd.raw(IOMMU_IOAS_CHANGE_PROCESS, &cmd);
			});
			if (err != ENOMEM || status_kib("VmPin") != pin0 + 16)
				return 6;
			// Another process takes the charge over.
			err = in_child([&] {
				const long c0 = status_kib("VmPin");
				const long l0 = status_kib("VmLck");
				if (cfd.raw(IOMMU_IOAS_CHANGE_PROCESS, &cmd))
					return 10;
				if (status_kib("VmPin", me) != pin0 ||
				    status_kib("VmPin") != c0 + 16)
					return 11;
				if (mode && status_kib("VmLck") != l0 + 16)
					return 12;
				// The domain still maps the file's pages, through
				// the same pins.
				auto chk = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP,
						    md.hwpt_id());
				chk.check_map.iova = iova;
				chk.check_map.length = 4 * PS;
				chk.check_map.uptr = reinterpret_cast<uintptr_t>(mf.p);
				return cfd.raw(IOMMU_TEST_CMD, &chk) ? 13 : 0;
			});
			return err;
		});
		CHECK(rc == 0);
	}
}

// The number after @field in /proc/meminfo ("HugePages_Free:"), -1 if none.
static long meminfo(const char *field)
{
	FILE *f = std::fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (std::fgets(line, sizeof(line), f))
		if (!std::strncmp(line, field, std::strlen(field)))
			v = std::strtol(line + std::strlen(field), nullptr, 10);
	std::fclose(f);
	return v;
}

// On 6.12, memfd_pin_folios() takes a hugetlbfs page it must allocate (one
// never faulted in) without a reservation: a VM_BUG_ON on a debug kernel
// (the fuzzer hit it), an underflow of the reservation count otherwise. The
// module pins hugetlbfs memfds through a shared mapping instead, which
// reserves; this is the case that crashed.
TEST_CASE("IOAS_MAP_FILE of a hugetlbfs memfd never faulted in: the pin allocates it, and every huge page comes back" *
	  IOMMULAB_ONLY)
{
	constexpr size_t HP = 2 << 20;
	const long free0 = meminfo("HugePages_Free:");
	const long rsvd0 = meminfo("HugePages_Rsvd:");
	int mfd = memfd_create("iommulab-test", MFD_CLOEXEC | MFD_HUGETLB);
	if (mfd < 0 || free0 < 2 || ftruncate(mfd, 2 * HP)) {
		if (mfd >= 0)
			close(mfd);
		IOMMULAB_SKIP("no two free 2 MiB hugetlb pages in this guest");
	}
	{
		Iommufd fd;
		Ioas ioas(fd);
		MockDomain md(fd, ioas.id());
		uint64_t iova = 0;
		// With a domain there, MAP pins: both huge pages are allocated.
		REQUIRE(map_file_raw(fd, ioas.id(), mfd, 0, 2 * HP, RW, &iova) ==
			0);
		CHECK(meminfo("HugePages_Free:") == free0 - 2);
		const std::vector<uint8_t> zero(2 * PS, 0);
		CHECK(dma_reads(fd, md.idev_id(), iova + HP - PS, zero.data(),
				zero.size()));
		uint8_t x = 0x3d, got = 0;
		REQUIRE(dma(fd, md.idev_id(), iova + HP + 5, &x, 1, true).ok());
		REQUIRE(pread(mfd, &got, 1, HP + 5) == 1);
		CHECK(got == 0x3d);
	}
	// The pins are gone with the fd; the pages stay the file's until it
	// goes too. Nothing is reserved or allocated any more after that.
	close(mfd);
	CHECK(meminfo("HugePages_Free:") == free0);
	CHECK(meminfo("HugePages_Rsvd:") == rsvd0);
}
