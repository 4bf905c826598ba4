// SPDX-License-Identifier: GPL-2.0
// Dirty tracking, proven by DMA through the mock IOMMU: a device writes
// pages (IOMMULAB_MOCK_DMA, _BURST) and the harvests must report exactly
// the pages written, at the granularity of the IOPTEs the writes went
// through, whichever way the device reaches the HWPT (its RID, a PASID
// attach, an aux attach) and whichever call harvests (GET_DIRTY_BITMAP,
// with or without NO_CLEAR, read & unmap, and the VFIO container's
// GET_BITMAP and dirty unmap). Then the migration round of
// seed 004 with a million writes racing the harvests, IOPTE split/merge
// under DMA, and bad input.
//
// iommulab extensions throughout (aux, PASID attach, bursts, read & unmap,
// split/merge): iommulab-only in the differential lane. Upstream's own
// dirty-tracking semantics run unchanged in check-upstream's
// iommufd_dirty_tracking fixture.
#include <doctest/doctest.h>

#include <linux/mman.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "vfio.hpp"

using namespace harness;

namespace {

constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint64_t IOVA = MOCK_APERTURE_START; // 16 MiB: 2 MiB aligned
constexpr uint64_t MiB = 1ULL << 20;

// Memory of 2 MiB hugetlb pages (physically contiguous per 2 MiB), of 1 GiB
// ones with @gig (the guest reserves one at boot: VM_HUGEPAGES_1G), or base
// pages only; every byte 0, as the kernel hands out fresh anonymous and
// hugetlb memory (no memset over it: under TCG that took a third of a
// second for the 1 GiB page alone).
struct Mem {
	uint8_t *p = nullptr;
	size_t len;
	bool huge;

	Mem(size_t n, bool huge_, bool gig = false) : len(n), huge(huge_ || gig)
	{
		void *m = mmap(nullptr, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS |
				       (huge ? MAP_HUGETLB | MAP_POPULATE : 0) |
				       (gig ? MAP_HUGE_1GB : 0),
			       -1, 0);
		if (m == MAP_FAILED)
			return;
		p = static_cast<uint8_t *>(m);
		if (!huge) {
			madvise(p, n, MADV_NOHUGEPAGE);
			// Faulted in from the last page down: the allocator tends
			// to hand out ascending frames, so each page lands below
			// the one before it and no run is physically contiguous
			// (a contiguous run would be mapped by a larger IOPTE).
			for (size_t off = n; off >= 4096; off -= 4096)
				p[off - 4096] = 0;
		}
	}
	~Mem()
	{
		if (p)
			munmap(p, len);
	}
	Mem(const Mem &) = delete;
	Mem &operator=(const Mem &) = delete;
};

enum class Path { Rid, Pasid, Aux };
enum class Harvest { Clear, NoClear, Unmap, Vfio };

const char *name(Path p)
{
	return p == Path::Rid ? "RID" : p == Path::Pasid ? "PASID" : "aux";
}

const char *name(Harvest h)
{
	return h == Harvest::Clear   ? "GET_DIRTY_BITMAP" :
	       h == Harvest::NoClear ? "NO_CLEAR" :
	       h == Harvest::Unmap   ? "read & unmap" :
				       "VFIO compat";
}

// A table flavour: device flags, the IO page size, and the IOPTE size a
// write through @huge memory goes through.
struct Flavour {
	const char *name;
	uint32_t dev_flags;
	uint64_t page;
	uint64_t leaf;	// small memory
	uint64_t hleaf; // hugetlb memory
};

const Flavour FLAVOURS[] = {
	{"selftest 2 KiB", 0, 2048, 2048, 2048},
	{"selftest 2 KiB + 1 MiB", MOCK_FLAGS_DEVICE_HUGE_IOVA, 2048, 2048, MiB},
	{"4 KiB + 2 MiB", IOMMULAB_MOCK_DEV_4K, 4096, 4096, 2 * MiB},
};

// One device reaching a dirty-tracking HWPT of an IOAS by @path. @dma and
// @pasid are what its requests use.
struct Rig {
	Iommufd fd;
	Ioas ioas{fd};
	Ioas other{fd};
	MockDev hw;
	std::unique_ptr<Device> dev;
	uint32_t hwpt = 0;
	uint32_t pasid = IOMMULAB_NO_PASID;

	Rig(const Flavour &f, Path path)
		: hw(mock_group_alloc(fd, 1,
				      f.dev_flags | MOCK_FLAGS_DEVICE_PASID)[0])
	{
		dev = std::make_unique<Device>(fd, hw.rid);
		uint32_t flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
		if (path == Path::Pasid)
			flags |= IOMMU_HWPT_ALLOC_PASID;
		hwpt = hwpt_alloc(fd, dev->id(), ioas.id(), flags);
		switch (path) {
		case Path::Rid:
			REQUIRE(dev->attach(hwpt) == hwpt);
			break;
		case Path::Pasid: {
			// The RID on an empty IOAS: only the PASID reaches it.
			uint32_t rid_pt = hwpt_alloc(fd, dev->id(), other.id(),
						     IOMMU_HWPT_ALLOC_PASID);
			REQUIRE(dev->attach(rid_pt) == rid_pt);
			pasid = 5;
			device_pasid(fd, dev->id(), IOMMULAB_PASID_ATTACH,
				     pasid, hwpt);
			break;
		}
		case Path::Aux:
			dev->attach(other.id());
			pasid = aux_op(fd, IOMMULAB_AUX_ATTACH, dev->id(), hwpt);
			REQUIRE(pasid != 0);
			break;
		}
	}

	DmaResult write(uint64_t iova, size_t n, uint8_t val)
	{
		std::vector<uint8_t> d(n, val);
		if (pasid == IOMMULAB_NO_PASID)
			return dma(fd, dev->id(), iova, d.data(), n, true);
		return dma_pasid(fd, dev->id(), pasid, iova, d.data(), n, true);
	}
	DmaResult read(uint64_t iova, size_t n)
	{
		std::vector<uint8_t> d(n);
		if (pasid == IOMMULAB_NO_PASID)
			return dma(fd, dev->id(), iova, d.data(), n, false);
		return dma_pasid(fd, dev->id(), pasid, iova, d.data(), n, false);
	}
};

// A set of bits of a harvest (page indexes from the start of its range),
// kept as a bitmap: a 1 GiB case expects all 262144 bits of its range, and
// building and comparing std::sets that large took most of this test's
// time under TCG. Comparing it with the bitmap the kernel filled, bit for
// bit over the whole range, is comparing the two sets.
struct Bits {
	uint64_t nbits;
	std::vector<uint64_t> words;

	explicit Bits(uint64_t n) : nbits(n), words((n + 63) / 64) {}
	void set(uint64_t b)
	{
		if (b >= nbits)
			throw std::out_of_range("bit " + std::to_string(b) +
						" past the range");
		words[b / 64] |= 1ULL << (b % 64);
	}
	bool test(uint64_t b) const { return words[b / 64] >> (b % 64) & 1; }
	uint64_t count() const
	{
		uint64_t n = 0;
		for (uint64_t w : words)
			n += __builtin_popcountll(w);
		return n;
	}
	bool operator==(const DirtyBitmap &bm) const
	{
		if (bm.nbits() != nbits)
			return false;
		for (uint64_t i = 0; i < bm.bytes.size(); i++)
			if (bm.bytes[i] != uint8_t(words[i / 8] >> (i % 8 * 8)))
				return false;
		return true;
	}
	bool operator==(const VfioBitmap &bm) const
	{
		return bm.size / bm.pgsize == nbits && bm.words == words;
	}
};

// The bits of every @page unit of the IOPTEs (of @leaf bytes) that
// [off, off + n) of the range touches (a page may hold several IOPTEs).
void expect_write(Bits &bits, uint64_t off, uint64_t n, uint64_t leaf,
		  uint64_t page)
{
	for (uint64_t l = off / leaf; l <= (off + n - 1) / leaf; l++) {
		// A leaf's bits go in together: its first one says it is in.
		if (bits.test(l * leaf / page))
			continue;
		for (uint64_t b = l * leaf / page; b <= ((l + 1) * leaf - 1) / page; b++)
			bits.set(b);
	}
}

// The VFIO column: the same device writes seen through the IOAS as a type1v2
// container's (DIRTY_PAGES START, GET_BITMAP, UNMAP_DMA with its bitmap),
// one bit per CPU page, type1's smallest IO page size.
void vfio_case(Rig &rig, uint64_t iova, uint8_t *mem, uint64_t len,
	       uint64_t leaf, const Bits &expect_io, uint64_t io_page)
{
	constexpr uint64_t CPU_PAGE = 4096;
	Bits expect(len / CPU_PAGE);
	for (uint64_t b = 0; b < expect_io.nbits; b++)
		if (expect_io.test(b))
			expect.set(b * io_page / CPU_PAGE);

	VfioBitmap bm(iova, len, CPU_PAGE);
	CHECK(vfio_get_bitmap(rig.fd, bm) == 0);
	CHECK(expect == bm);
	VfioBitmap again(iova, len, CPU_PAGE);
	CHECK(vfio_get_bitmap(rig.fd, again) == 0);
	CHECK(again.set_bits().empty());
	// Read & unmap: the next write, then the device faults.
	REQUIRE(rig.write(iova + len / 2 + 1, 1, 0x56).ok());
	CHECK(mem[len / 2 + 1] == 0x56);
	Bits next(len / CPU_PAGE);
	expect_write(next, len / 2 + 1, 1, leaf, CPU_PAGE);
	VfioBitmap last(iova, len, CPU_PAGE);
	uint64_t unmapped = 0;
	CHECK(vfio_unmap_bitmap(rig.fd, last, &unmapped) == 0);
	CHECK(unmapped == len);
	CHECK(next == last);
	CHECK(rig.write(iova, 1, 1).fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
}

// The memory a case's writes go through: base pages, 2 MiB hugetlb pages,
// or one 1 GiB hugetlb page (only the 4 KiB table has 1 GiB IOPTEs).
enum class Backing { Small, Huge2M, Huge1G };

const char *name(Backing b)
{
	return b == Backing::Small ? "base pages" :
	       b == Backing::Huge2M ? "2 MiB hugetlb" : "1 GiB hugetlb";
}

// @mem: the memory of backing @b (the 1 GiB page is mapped at a 1 GiB
// IOVA), shared by the cases: each has an iommufd, IOAS, HWPT and device
// of its own, and the bytes it writes are zeroed before it, so the bytes it
// checks can only hold what its own device wrote.
void one_case(const Flavour &f, Backing b, Path path, Harvest how, Mem &mem)
{
	const bool g = b == Backing::Huge1G;
	const uint64_t len = mem.len;
	const uint64_t iova = g ? 1024 * MiB : IOVA;
	const uint64_t leaf = b == Backing::Small ? f.leaf :
			      g ? 1024 * MiB : f.hleaf;
	if (!mem.p) {
		MESSAGE("no hugetlb memory: case skipped");
		return;
	}
	Rig rig(f, path);
	rig.ioas.map(mem.p, len, RW | FIXED, iova);
	if (how == Harvest::Vfio) {
		REQUIRE(set_compat_ioas(rig.fd, rig.ioas.id(), IOMMU_VFIO_IOAS_SET) == 0);
		REQUIRE(vfio_raw(rig.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
		REQUIRE(vfio_dirty_pages(rig.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	} else {
		set_dirty_tracking(rig.fd, rig.hwpt, true);
	}

	// Writes: page-straddling, inside one page, at both ends; reads
	// elsewhere must not dirty anything.
	const struct {
		uint64_t off, n;
	} writes[] = {
		{0, 1},
		{f.page - 3, 8},
		{len / 2 + 5 * f.page + 17, 100},
		{len - 1, 1},
	};
	for (const auto &w : writes)
		memset(mem.p + w.off, 0, w.n);
	// And the byte the harvest's last write lands in (len / 2, or
	// len / 2 + 1 for VFIO's).
	memset(mem.p + len / 2, 0, 2);
	Bits expect(len / f.page);
	for (size_t i = 0; i < std::size(writes); i++) {
		auto r = rig.write(iova + writes[i].off, writes[i].n,
				   static_cast<uint8_t>(0xa0 + i));
		REQUIRE(r.ok());
		CHECK(r.max_iopte == leaf);
		CHECK(mem.p[writes[i].off] == 0xa0 + i);
		expect_write(expect, writes[i].off, writes[i].n, leaf, f.page);
	}
	REQUIRE(rig.read(iova + len / 4, 3 * f.page).ok());

	if (how == Harvest::Vfio)
		return vfio_case(rig, iova, mem.p, len, leaf, expect, f.page);
	DirtyBitmap bm(iova, len, f.page);
	if (how == Harvest::Unmap) {
		CHECK(unmap_dirty(rig.fd, rig.ioas.id(), bm) == expect.count());
		CHECK(expect == bm);
		// Gone: the device faults, nothing more to unmap.
		CHECK(rig.write(iova, 1, 1).fault_reason ==
		      IOMMULAB_DMA_FAULT_NOT_MAPPED);
		return;
	}
	get_dirty_bitmap(rig.fd, rig.hwpt, bm, how == Harvest::Clear);
	CHECK(expect == bm);
	DirtyBitmap again(iova, len, f.page);
	get_dirty_bitmap(rig.fd, rig.hwpt, again, true);
	if (how == Harvest::Clear)
		CHECK(again.set_bits().empty());
	else
		CHECK(expect == again);
	// Cleared: the next write of one page sets its IOPTE again.
	REQUIRE(rig.write(iova + len / 2, 1, 0x55).ok());
	Bits next(len / f.page);
	expect_write(next, len / 2, 1, leaf, f.page);
	DirtyBitmap third(iova, len, f.page);
	get_dirty_bitmap(rig.fd, rig.hwpt, third, true);
	CHECK(next == third);
}

} // namespace

TEST_CASE("dirty: every written page is reported, reads never, over each "
	  "table, path and harvest" *
	  IOMMULAB_ONLY)
{
	// 1 GiB IOPTEs: the 4 KiB table only, through the guest's 1 GiB page.
	Mem gig(1024 * MiB, true, true);
	if (!gig.p) {
		// The lane reserves one unless told not to (VM_HUGEPAGES_1G=0):
		// asked for on the command line and missing is a failure.
		std::ifstream f("/proc/cmdline");
		std::string cmdline((std::istreambuf_iterator<char>(f)),
				    std::istreambuf_iterator<char>());
		if (cmdline.find("hugepagesz=1G") != std::string::npos)
			FAIL_CHECK("the kernel was asked for a 1 GiB hugetlb "
				   "page and has none: 1 GiB IOPTE cases "
				   "cannot run");
		else
			MESSAGE("no 1 GiB hugetlb page (VM_HUGEPAGES_1G=0): "
				"1 GiB IOPTE cases skipped");
	}
	// The 4 MiB of each other backing, shared as the 1 GiB page is (see
	// one_case()): mapping and faulting in fresh memory for each of the 72
	// cases took most of a second of this test under TCG.
	Mem small(4 * MiB, false), huge(4 * MiB, true);
	for (const auto &f : FLAVOURS)
		for (Backing b : {Backing::Small, Backing::Huge2M, Backing::Huge1G})
			for (Path p : {Path::Rid, Path::Pasid, Path::Aux})
				for (Harvest h : {Harvest::Clear, Harvest::NoClear,
						  Harvest::Unmap, Harvest::Vfio}) {
					if (b == Backing::Huge1G &&
					    (f.dev_flags != IOMMULAB_MOCK_DEV_4K || !gig.p))
						continue;
					std::string what = std::string(f.name) + ", " +
							   name(b) + ", " + name(p) + ", " +
							   name(h);
					CAPTURE(what);
					Mem &m = b == Backing::Small ? small :
						 b == Backing::Huge2M ? huge : gig;
					one_case(f, b, p, h, m);
				}
}

TEST_CASE("dirty: tracking starts clean, stops without losing bits, and "
	  "only tracking HWPTs report" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	Mem mem(MiB, false);
	Rig rig(f, Path::Rid);
	rig.ioas.map(mem.p, MiB, RW | FIXED, IOVA);
	DirtyBitmap bm(IOVA, MiB, f.page);

	// Before tracking: a write sets nothing, and a harvest is EINVAL.
	REQUIRE(rig.write(IOVA, 8, 1).ok());
	iommu_hwpt_get_dirty_bitmap get{};
	get.size = sizeof(get);
	get.hwpt_id = rig.hwpt;
	get.iova = IOVA;
	get.length = MiB;
	get.page_size = f.page;
	get.data = reinterpret_cast<uintptr_t>(bm.bytes.data());
	CHECK(send(rig.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, get) == EINVAL);

	// Start: clean (the write above, made while off, is not reported).
	set_dirty_tracking(rig.fd, rig.hwpt, true);
	get_dirty_bitmap(rig.fd, rig.hwpt, bm);
	CHECK(bm.set_bits().empty());
	REQUIRE(rig.write(IOVA + 5 * f.page, 8, 2).ok());
	// Starting again while on starts clean too (as upstream): the write
	// before it is gone, the one after it is kept.
	set_dirty_tracking(rig.fd, rig.hwpt, true);
	REQUIRE(rig.write(IOVA + 3 * f.page, 8, 2).ok());
	// Stop: no new bits, the old one stays for the last read & unmap.
	set_dirty_tracking(rig.fd, rig.hwpt, false);
	REQUIRE(rig.write(IOVA + 7 * f.page, 8, 3).ok());
	CHECK(unmap_dirty(rig.fd, rig.ioas.id(), bm) == 1);
	CHECK(bm.set_bits() == std::vector<uint64_t>{3});

	// A HWPT without the flag: EOPNOTSUPP; a device that cannot track
	// cannot have one, nor attach to one.
	Iommufd fd;
	Ioas ioas(fd);
	auto hw = mock_group_alloc(fd, 1, MOCK_FLAGS_DEVICE_NO_DIRTY)[0];
	Device nodirty(fd, hw.rid);
	uint32_t plain = hwpt_alloc(fd, nodirty.id(), ioas.id());
	iommu_hwpt_set_dirty_tracking set{};
	set.size = sizeof(set);
	set.hwpt_id = plain;
	set.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	CHECK(send(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, set) == EOPNOTSUPP);
	iommu_hwpt_alloc alloc{};
	alloc.size = sizeof(alloc);
	alloc.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	alloc.dev_id = nodirty.id();
	alloc.pt_id = ioas.id();
	CHECK(send(fd, IOMMU_HWPT_ALLOC, alloc) == EOPNOTSUPP);
	auto hw2 = mock_group_alloc(fd, 1)[0];
	Device can(fd, hw2.rid);
	uint32_t dirty_pt = hwpt_alloc(fd, can.id(), ioas.id(),
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	iommulab_device_attach at{};
	at.size = sizeof(at);
	at.dev_id = nodirty.id();
	at.pt_id = dirty_pt;
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
}

TEST_CASE("dirty: bitmaps at any byte alignment, pages larger than the "
	  "IOPTEs, ranges inside and across mappings" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	Mem a(MiB, false), b(MiB, false);
	Rig rig(f, Path::Rid);
	rig.ioas.map(a.p, MiB, RW | FIXED, IOVA);
	rig.ioas.map(b.p, MiB, RW | FIXED, IOVA + MiB);
	set_dirty_tracking(rig.fd, rig.hwpt, true);

	// Pages 10, 255 (end of a), 256 (start of b), 300.
	for (uint64_t pg : {10, 255, 256, 300})
		REQUIRE(rig.write(IOVA + pg * f.page + 9, 4, 7).ok());

	for (size_t shift : {0, 1, 3, 7}) {
		CAPTURE(shift);
		// [page 8, page 304) in units of 4 pages, into a bitmap
		// starting @shift bytes into a buffer of guard bytes.
		const uint64_t ps = 4 * f.page;
		std::vector<uint8_t> buf(64, 0);
		iommu_hwpt_get_dirty_bitmap cmd{};
		cmd.size = sizeof(cmd);
		cmd.hwpt_id = rig.hwpt;
		cmd.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
		cmd.iova = IOVA + 8 * f.page;
		cmd.length = 296 * f.page;
		cmd.page_size = ps;
		cmd.data = reinterpret_cast<uintptr_t>(buf.data() + shift);
		REQUIRE(send(rig.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, cmd) == 0);
		std::set<uint64_t> got;
		for (uint64_t i = 0; i < 296 / 4; i++)
			if (buf[shift + i / 8] >> (i % 8) & 1)
				got.insert(i);
		// Pages 10, 255, 256, 300 are bits (pg - 8) / 4.
		CHECK(got == std::set<uint64_t>{0, 61, 62, 73});
		for (size_t i = 0; i < shift; i++)
			CHECK(buf[i] == 0);
		for (size_t i = shift + (296 / 4 + 7) / 8; i < buf.size(); i++)
			CHECK(buf[i] == 0);
	}
	// Bits already set in the user's bitmap stay set (only ORed).
	DirtyBitmap bm(IOVA, 2 * MiB, f.page);
	bm.bytes[1] = 0x80; // page 15, not written
	get_dirty_bitmap(rig.fd, rig.hwpt, bm);
	CHECK(bm.set_bits() == std::vector<uint64_t>{10, 15, 255, 256, 300});
}

TEST_CASE("dirty: bad input gets its errno and clears nothing" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	Mem mem(MiB, false);
	Rig rig(f, Path::Rid);
	rig.ioas.map(mem.p, MiB, RW | FIXED, IOVA);
	set_dirty_tracking(rig.fd, rig.hwpt, true);
	REQUIRE(rig.write(IOVA + 2 * f.page, 1, 1).ok());
	std::vector<uint8_t> bits(64, 0);

	auto get = [&](uint64_t iova, uint64_t len, uint64_t ps, uint32_t flags,
		       uint64_t data, uint32_t hwpt = 0, uint64_t rsv = 0) {
		iommu_hwpt_get_dirty_bitmap cmd{};
		cmd.size = sizeof(cmd);
		cmd.hwpt_id = hwpt ? hwpt : rig.hwpt;
		cmd.flags = flags;
		cmd.__reserved = rsv;
		cmd.iova = iova;
		cmd.length = len;
		cmd.page_size = ps;
		cmd.data = data;
		return send(rig.fd, IOMMU_HWPT_GET_DIRTY_BITMAP, cmd);
	};
	const uint64_t ok = reinterpret_cast<uintptr_t>(bits.data());
	CHECK(get(IOVA, MiB, f.page, 1u << 5, ok) == EOPNOTSUPP);
	CHECK(get(IOVA, MiB, f.page, 0, ok, 0, 1) == EOPNOTSUPP);
	CHECK(get(IOVA, MiB, f.page, 0, ok, rig.ioas.id()) == ENOENT);
	CHECK(get(IOVA, 0, f.page, 0, ok) == EINVAL);
	CHECK(get(~0ULL - 4095, 8192, f.page, 0, ok) == EOVERFLOW);
	CHECK(get(IOVA + 1, MiB, f.page, 0, ok) == EINVAL);
	CHECK(get(IOVA, MiB, 0, 0, ok) == EINVAL);
	CHECK(get(IOVA, MiB, 3 * f.page, 0, ok) == EINVAL);
	CHECK(get(IOVA, MiB, f.page / 2, 0, ok) == EINVAL);
	CHECK(get(IOVA + f.page, MiB, 2 * f.page, 0, ok) == EINVAL);
	// A hole in the range: EINVAL.
	CHECK(get(IOVA, 2 * MiB, f.page, 0, ok) == EINVAL);
	// An unwritable bitmap: EFAULT, before anything is cleared.
	CHECK(get(IOVA, MiB, f.page, 0, 8) == EFAULT);
	void *ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	REQUIRE(ro != MAP_FAILED);
	CHECK(get(IOVA, MiB, f.page, 0, reinterpret_cast<uintptr_t>(ro)) ==
	      EFAULT);
	munmap(ro, 4096);
	CHECK(std::all_of(bits.begin(), bits.end(), [](uint8_t b) { return !b; }));
	// Nothing was cleared: the bit is still there.
	DirtyBitmap bm(IOVA, MiB, f.page);
	get_dirty_bitmap(rig.fd, rig.hwpt, bm);
	CHECK(bm.set_bits() == std::vector<uint64_t>{2});

	// SET_DIRTY_TRACKING: unknown flag, not a paging HWPT.
	iommu_hwpt_set_dirty_tracking set{};
	set.size = sizeof(set);
	set.hwpt_id = rig.hwpt;
	set.flags = 2;
	CHECK(send(rig.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, set) == EOPNOTSUPP);
	set.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	set.hwpt_id = rig.ioas.id();
	CHECK(send(rig.fd, IOMMU_HWPT_SET_DIRTY_TRACKING, set) == ENOENT);

	// Read & unmap: its own checks, then IOAS_UNMAP's; nothing unmapped.
	REQUIRE(rig.write(IOVA + 4 * f.page, 1, 1).ok());
	auto unmap = [&](uint32_t ioas, uint64_t iova, uint64_t len,
			 uint64_t ps, uint64_t data, uint32_t flags = 0) {
		iommulab_ioas_unmap_dirty cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = flags;
		cmd.ioas_id = ioas;
		cmd.iova = iova;
		cmd.length = len;
		cmd.page_size = ps;
		cmd.data = data;
		return send(rig.fd, IOMMULAB_IOAS_UNMAP_DIRTY, cmd);
	};
	const uint32_t io = rig.ioas.id();
	CHECK(unmap(io, IOVA, MiB, f.page, ok, 1) == EOPNOTSUPP);
	CHECK(unmap(rig.hwpt, IOVA, MiB, f.page, ok) == ENOENT);
	CHECK(unmap(io, IOVA, 0, f.page, ok) == EINVAL);
	CHECK(unmap(io, IOVA, MiB, 3 * f.page, ok) == EINVAL);
	CHECK(unmap(io, IOVA, MiB, f.page, 8) == EFAULT);
	// Part of a mapping, or nothing mapped: ENOENT.
	CHECK(unmap(io, IOVA, MiB / 2, f.page, ok) == ENOENT);
	CHECK(unmap(io, IOVA + 8 * MiB, MiB, f.page, ok) == ENOENT);
	// An IOAS without a dirty-capable HWPT: EINVAL.
	CHECK(unmap(rig.other.id(), IOVA, MiB, f.page, ok) == EINVAL);
	CHECK(std::all_of(bits.begin(), bits.end(), [](uint8_t b) { return !b; }));
	REQUIRE(rig.write(IOVA + 5 * f.page, 1, 1).ok());
	DirtyBitmap last(IOVA, MiB, f.page);
	CHECK(unmap_dirty(rig.fd, io, last) == 2);
	CHECK(last.set_bits() == std::vector<uint64_t>{4, 5});

	// Split/merge.
	auto reshape = [&](unsigned long nr, uint32_t hwpt, uint64_t iova,
			   uint64_t len, uint64_t size, uint32_t flags = 0) {
		iommulab_hwpt_iopte cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = flags;
		cmd.hwpt_id = hwpt;
		cmd.iova = iova;
		cmd.length = len;
		cmd.iopte_size = size;
		return send(rig.fd, nr, cmd);
	};
	const auto SPLIT = IOMMULAB_HWPT_SPLIT, MERGE = IOMMULAB_HWPT_MERGE;
	CHECK(reshape(SPLIT, rig.hwpt, IOVA, MiB, 4096, 1) == EOPNOTSUPP);
	CHECK(reshape(SPLIT, io, IOVA, MiB, 4096) == ENOENT);
	CHECK(reshape(SPLIT, rig.hwpt, IOVA, 0, 4096) == EINVAL);
	CHECK(reshape(SPLIT, rig.hwpt, ~0ULL - 4095, 8192, 4096) == EOVERFLOW);
	CHECK(reshape(SPLIT, rig.hwpt, IOVA + 1, MiB, 4096) == EINVAL);
	CHECK(reshape(SPLIT, rig.hwpt, IOVA, MiB, 8192) == EINVAL);
	CHECK(reshape(SPLIT, rig.hwpt, IOVA, MiB, 0) == EINVAL);
	CHECK(reshape(MERGE, rig.hwpt, IOVA, MiB, 4096) == EINVAL);
	CHECK(reshape(MERGE, rig.hwpt, 0, MiB, 0) == EINVAL);

	// The burst: bad counts, lengths, values.
	auto burst = [&](uint32_t nr, uint32_t len, uint32_t value,
			 uint32_t flags = IOMMULAB_DMA_WRITE | IOMMULAB_DMA_DEV_ID) {
		uint64_t iova = IOVA;
		iommulab_mock_dma_burst cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = flags;
		cmd.rid = rig.dev->id();
		cmd.iovas_uptr = reinterpret_cast<uintptr_t>(&iova);
		cmd.nr = nr;
		cmd.length = len;
		cmd.value = value;
		return send(rig.fd, IOMMULAB_MOCK_DMA_BURST, cmd);
	};
	CHECK(burst(0, 8, 1) == EINVAL);
	CHECK(burst(65537, 8, 1) == EINVAL);
	CHECK(burst(1, 0, 1) == EINVAL);
	CHECK(burst(1, 4097, 1) == EINVAL);
	CHECK(burst(1, 8, 256) == EINVAL);
	CHECK(burst(1, 8, 1, IOMMULAB_DMA_DEV_ID) == EINVAL);
	CHECK(burst(1, 8, 1, 1u << 7) == EOPNOTSUPP);
}

// IOMMULAB_TEST_OP_READ_IOPTES, the benchmark's plain read: it counts the
// leaves of a range, takes no dirty bit away (a DMA write before it is still
// harvested after it) and refuses bad input as its kernel-doc says.
TEST_CASE("dirty: READ_IOPTES counts the leaves, clears nothing and refuses "
	  "bad input" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	const uint64_t len = MiB; // 256 IOPTEs of 4 KiB
	Mem mem(len, false);
	Rig rig(f, Path::Rid);
	rig.ioas.map(mem.p, len, RW | FIXED, IOVA);
	set_dirty_tracking(rig.fd, rig.hwpt, true);
	REQUIRE(rig.write(IOVA + 3 * 4096 + 5, 1, 0x3c).ok());

	auto read = [&](uint32_t id, uint64_t iova, uint64_t length,
			uint64_t *nr = nullptr, uint32_t flags = 0,
			uint64_t page_size = 0, uint64_t uptr = 0) {
		auto cmd = test_cmd(IOMMULAB_TEST_OP_READ_IOPTES, id);
		cmd.dirty.iova = iova;
		cmd.dirty.length = length;
		cmd.dirty.flags = flags;
		cmd.dirty.page_size = page_size;
		cmd.dirty.uptr = uptr;
		cmd.dirty.out_nr_dirty = ~0ULL;
		int err = send(rig.fd, IOMMU_TEST_CMD, cmd);
		if (nr)
			*nr = cmd.dirty.out_nr_dirty;
		return err;
	};
	uint64_t nr = 0;
	CHECK(read(rig.hwpt, IOVA, len, &nr) == 0);
	CHECK(nr == 256);
	CHECK(read(rig.hwpt, IOVA + 16 * 4096, 32 * 4096, &nr) == 0);
	CHECK(nr == 32);
	// Unmapped IOVA has no leaves to read.
	CHECK(read(rig.hwpt, IOVA + len, len, &nr) == 0);
	CHECK(nr == 0);

	uint64_t bits = 0;
	const uint64_t ok = reinterpret_cast<uintptr_t>(&bits);
	CHECK(read(rig.hwpt, IOVA, len, nullptr, 1) == EINVAL);
	CHECK(read(rig.hwpt, IOVA, len, nullptr, 0, 4096) == EINVAL);
	CHECK(read(rig.hwpt, IOVA, len, nullptr, 0, 0, ok) == EINVAL);
	CHECK(read(rig.hwpt, IOVA, 0) == EINVAL);
	CHECK(read(rig.ioas.id(), IOVA, len) == ENOENT);
	CHECK(read(rig.dev->id(), IOVA, len) == ENOENT);
	CHECK(read(rig.hwpt, ~0ULL - 4095, 8192) == EOVERFLOW);
	CHECK(read(rig.hwpt, 1ULL << 48, 4096) == ERANGE);
	CHECK(bits == 0);

	// The write before all of it is still there to harvest, once.
	DirtyBitmap bm(IOVA, len, 4096);
	get_dirty_bitmap(rig.fd, rig.hwpt, bm);
	CHECK(bm.set_bits() == std::vector<uint64_t>{3});
	CHECK(mem.p[3 * 4096 + 5] == 0x3c);
}

// Seed 004's migration round: tracking on; writer threads make the device
// write random pages in bursts while the test harvests in rounds; then
// tracking off and a last read & unmap. The union of every harvest must be
// exactly the set of pages written: none lost, none invented.
TEST_CASE("dirty: a million device writes racing harvests, none lost, none "
	  "invented" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	const uint64_t npages = 16384, len = npages * f.page; // 64 MiB
	constexpr int WRITERS = 4;
	constexpr long BURSTS = 62; // per writer, of BURST writes
	constexpr uint32_t BURST = 4096;
	Mem mem(len, false);
	Rig rig(f, Path::Rid);
	rig.ioas.map(mem.p, len, RW | FIXED, IOVA);
	set_dirty_tracking(rig.fd, rig.hwpt, true);

	// Pages a writer is about to write (set before its burst is issued).
	std::vector<std::atomic<uint8_t>> started(npages);
	std::vector<uint8_t> reported(npages, 0);
	std::atomic<long> writes{0}, invented{0};
	long overlapping = 0;

	Concurrent run;
	for (int w = 0; w < WRITERS; w++)
		run.add("writer" + std::to_string(w), BURSTS, [&, w](long i) {
			std::mt19937_64 rnd(w * 1000003 + i);
			std::vector<uint64_t> iovas(BURST);
			for (auto &iova : iovas) {
				uint64_t pg = rnd() % npages;
				// 1 in 16 straddles into the next page
				uint64_t off = rnd() % 16 == 0 && pg + 1 < npages ?
						       f.page - 4 : rnd() % (f.page - 8);
				iova = IOVA + pg * f.page + off;
				started[pg].store(1);
				if (off > f.page - 8)
					started[pg + 1].store(1);
			}
			DmaResult fault;
			uint32_t done = dma_burst(rig.fd, rig.dev->id(), iovas, 8,
						  true, 0x5a, IOMMULAB_NO_PASID,
						  &fault);
			REQUIRE(done == BURST);
			writes += done;
		});
	run.add("harvester", 20, [&](long) {
		long before = writes.load();
		DirtyBitmap bm(IOVA, len, f.page);
		get_dirty_bitmap(rig.fd, rig.hwpt, bm);
		for (uint64_t b : bm.set_bits()) {
			if (!started[b].load())
				invented++;
			reported[b] = 1;
		}
		// A harvest during which the device wrote.
		if (writes.load() != before)
			overlapping++;
	});
	auto r = run.run();
	REQUIRE_MESSAGE(r.ok(), r.error);
	CAPTURE(r.summary());
	CHECK(writes.load() >= 1000000);
	CHECK(r.count("harvester") >= 20);
	CHECK(overlapping >= 3);

	set_dirty_tracking(rig.fd, rig.hwpt, false);
	DirtyBitmap last(IOVA, len, f.page);
	unmap_dirty(rig.fd, rig.ioas.id(), last);
	for (uint64_t b : last.set_bits()) {
		if (!started[b].load())
			invented++;
		reported[b] = 1;
	}
	// What the device wrote is what the memory says: a page is written
	// iff it holds the burst's byte.
	uint64_t lost = 0, wrong = 0, written = 0;
	for (uint64_t pg = 0; pg < npages; pg++) {
		bool w = memchr(mem.p + pg * f.page, 0x5a, f.page) != nullptr;
		written += w;
		if (w && !reported[pg])
			lost++;
		if (!w && reported[pg])
			wrong++;
	}
	CAPTURE(written);
	CHECK(written > npages / 2);
	CHECK(lost == 0);
	CHECK(wrong == 0);
	CHECK(invented.load() == 0);
}

TEST_CASE("dirty: split and merge under DMA keep every translation and "
	  "carry the dirty bits" *
	  IOMMULAB_ONLY)
{
	const Flavour &f = FLAVOURS[2];
	const uint64_t len = 4 * MiB;
	Mem mem(len, true);
	if (!mem.p) {
		IOMMULAB_SKIP("no 2 MiB hugetlb pages in this guest");
	}
	Rig rig(f, Path::Rid);
	rig.ioas.map(mem.p, len, RW | FIXED, IOVA);
	set_dirty_tracking(rig.fd, rig.hwpt, true);

	auto w = rig.write(IOVA + 12345, 1, 0x11);
	REQUIRE(w.ok());
	CHECK(w.max_iopte == 2 * MiB);
	// A dirty 2 MiB IOPTE split leaves 512 dirty 4 KiB ones.
	auto [b1, a1] = hwpt_reshape(rig.fd, rig.hwpt, IOVA, 2 * MiB, 4096);
	CHECK(b1 == 1);
	CHECK(a1 == 512);
	// The split flushed the IOTLB: the page written before walks again
	// and finds its 4 KiB IOPTE, not the cached 2 MiB one.
	CHECK(rig.write(IOVA + 12345, 1, 0x11).max_iopte == 4096);
	auto r = rig.write(IOVA + 5 * 4096, 1, 0x22);
	CHECK(r.max_iopte == 4096);
	DirtyBitmap bm(IOVA, len, 4096);
	get_dirty_bitmap(rig.fd, rig.hwpt, bm);
	CHECK(bm.set_bits().size() == 512);
	// Now at 4 KiB granularity: one page written, one reported.
	REQUIRE(rig.write(IOVA + 7 * 4096 + 1, 2, 0x33).ok());
	DirtyBitmap one(IOVA, len, 4096);
	get_dirty_bitmap(rig.fd, rig.hwpt, one);
	CHECK(one.set_bits() == std::vector<uint64_t>{7});
	// A merge of any dirty 4 KiB IOPTE leaves a dirty 2 MiB one.
	REQUIRE(rig.write(IOVA + 9 * 4096, 1, 0x44).ok());
	auto [b2, a2] = hwpt_reshape(rig.fd, rig.hwpt, IOVA, len, 0);
	CHECK(b2 == 513);
	CHECK(a2 == 2);
	CHECK(rig.write(IOVA + 100, 1, 0x55).max_iopte == 2 * MiB);
	DirtyBitmap merged(IOVA, len, 4096);
	get_dirty_bitmap(rig.fd, rig.hwpt, merged);
	CHECK(merged.set_bits().size() == 512);
	CHECK(merged.test(0));
	CHECK(!merged.test(512));

	// Split and merge over and over while the device writes and reads
	// everywhere: no request ever faults, every byte lands in place.
	std::atomic<long> bad{0};
	Concurrent run;
	run.add("device", 200, [&](long i) {
		uint64_t off = (i * 65537 * 4096 + i * 8) % (len - 8);
		uint8_t v = static_cast<uint8_t>(i | 1);
		auto wr = rig.write(IOVA + off, 8, v);
		if (!wr.ok() || mem.p[off] != v || mem.p[off + 7] != v)
			bad++;
		if (!rig.read(IOVA + (len - 1 - off) / 8 * 8, 8).ok())
			bad++;
	});
	run.add("reshaper", 20, [&](long i) {
		hwpt_reshape(rig.fd, rig.hwpt, IOVA, len, i % 2 ? 4096 : 0);
		if (i % 2 == 0)
			hwpt_reshape(rig.fd, rig.hwpt, IOVA, len, 4096);
		hwpt_reshape(rig.fd, rig.hwpt, IOVA, len, 0);
	});
	auto res = run.run();
	REQUIRE_MESSAGE(res.ok(), res.error);
	CAPTURE(res.summary());
	CHECK(res.count("device") >= 200);
	CHECK(res.count("reshaper") >= 20);
	CHECK(bad.load() == 0);
}
