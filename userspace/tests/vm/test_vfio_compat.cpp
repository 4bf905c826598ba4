// SPDX-License-Identifier: GPL-2.0
// The VFIO type1 container on /dev/iommu: VFIO_GET_API_VERSION,
// VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU, VFIO_IOMMU_GET_INFO, MAP_DMA and
// UNMAP_DMA on the fd's compatibility IOAS (IOMMU_VFIO_IOAS). Mappings are
// proven by moving bytes: through a test access (ACCESS_RW) in the tests
// shared with upstream's iommufd, and by a mock device's DMA through the
// mock IOMMU in the iommulab-only ones.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/vfio.h>
#include <memory>
#include <set>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <vector>

#include "harness.hpp"
#include "vfio.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t AT = MOCK_APERTURE_START;
constexpr uint32_t VRW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

int vfio_map(const Iommufd &fd, const void *va, uint64_t iova, uint64_t size,
	     uint32_t flags = VRW, uint32_t argsz = sizeof(vfio_iommu_type1_dma_map))
{
	vfio_iommu_type1_dma_map m{};

	m.argsz = argsz;
	m.flags = flags;
	m.vaddr = reinterpret_cast<uintptr_t>(va);
	m.iova = iova;
	m.size = size;
	return fd.raw(VFIO_IOMMU_MAP_DMA, &m);
}

int vfio_unmap(const Iommufd &fd, uint64_t iova, uint64_t size,
	       uint64_t *unmapped = nullptr, uint32_t flags = 0,
	       uint32_t argsz = sizeof(vfio_iommu_type1_dma_unmap))
{
	vfio_iommu_type1_dma_unmap u{};

	u.argsz = argsz;
	u.flags = flags;
	u.iova = iova;
	u.size = size;
	int err = fd.raw(VFIO_IOMMU_UNMAP_DMA, &u);
	if (unmapped)
		*unmapped = u.size;
	return err;
}

// An IOAS with a mock device attached, made the compatibility IOAS and set
// to @type: what VFIO has once a group joined the container.
struct Container {
	Iommufd fd;
	Ioas ioas;
	MockDomain md;

	explicit Container(unsigned long type) : ioas(fd), md(fd, ioas.id())
	{
		REQUIRE(set_compat_ioas(fd, ioas.id(), IOMMU_VFIO_IOAS_SET) == 0);
		REQUIRE(vfio_raw(fd, VFIO_SET_IOMMU, type) == 0);
	}
};

// GET_INFO into a buffer of @argsz bytes (of @buf, whose bytes past argsz
// are filled with 0xAA first and must stay so).
long get_info(const Iommufd &fd, std::vector<uint8_t> &buf, uint32_t argsz)
{
	std::fill(buf.begin(), buf.end(), 0xAA);
	std::memset(buf.data(), 0, std::min<size_t>(argsz, sizeof(vfio_iommu_type1_info)));
	reinterpret_cast<vfio_iommu_type1_info *>(buf.data())->argsz = argsz;
	long rc = vfio_raw(fd, VFIO_IOMMU_GET_INFO, reinterpret_cast<uintptr_t>(buf.data()));
	bool untouched = true;
	for (size_t i = std::max<size_t>(argsz, sizeof(uint32_t)); i < buf.size(); i++)
		untouched &= buf[i] == 0xAA;
	INFO("GET_INFO wrote past argsz " << argsz);
	CHECK(untouched);
	return rc;
}

// The capability @id of a complete GET_INFO answer in @buf, or nullptr;
// the chain is checked to stay inside argsz and to move forward.
const vfio_info_cap_header *find_cap(const std::vector<uint8_t> &buf, uint16_t id)
{
	const auto *info = reinterpret_cast<const vfio_iommu_type1_info *>(buf.data());
	const vfio_info_cap_header *found = nullptr;
	uint32_t off = info->cap_offset;

	REQUIRE(off >= sizeof(*info));
	for (int n = 0; off; n++) {
		REQUIRE(n < 16);
		REQUIRE(off % 8 == 0);
		REQUIRE(off + sizeof(vfio_info_cap_header) <= info->argsz);
		const auto *cap = reinterpret_cast<const vfio_info_cap_header *>(buf.data() + off);
		if (cap->id == id)
			found = cap;
		REQUIRE((cap->next == 0 || cap->next > off));
		off = cap->next;
	}
	return found;
}

} // namespace

TEST_CASE("the VFIO container answers its version and extensions as upstream's")
{
	Iommufd fd;

	CHECK(vfio_raw(fd, VFIO_GET_API_VERSION, 0) == VFIO_API_VERSION);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) == 1);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR) == 0);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU) == 0);
	CHECK(vfio_raw(fd, VFIO_CHECK_EXTENSION, 12345) == 0);
	// Other VFIO numbers (a group's, a device's) are not the container's.
	CHECK(vfio_raw(fd, VFIO_GROUP_GET_STATUS, 0) == -ENOTTY);
	CHECK(vfio_raw(fd, VFIO_DEVICE_GET_INFO, 0) == -ENOTTY);
}

TEST_CASE("without a compatibility IOAS the container checks its arguments, then is ENODEV")
{
	Iommufd fd;
	Buffer buf(PS);
	std::vector<uint8_t> info(256);

	for (int round = 0; round < 2; round++) {
		CAPTURE(round);
		CHECK(vfio_unmap(fd, AT, PS, nullptr, 0, 1) == EINVAL);
		CHECK(vfio_unmap(fd, AT, PS, nullptr, 1u << 31) == EINVAL);
		CHECK(vfio_unmap(fd, AT, PS) == ENODEV);
		CHECK(vfio_unmap(fd, 0, 0, nullptr, VFIO_DMA_UNMAP_FLAG_ALL) == ENODEV);
		CHECK(vfio_map(fd, buf.p, AT, PS, VRW, 1) == EINVAL);
		CHECK(vfio_map(fd, buf.p, AT, PS, 1u << 31) == EINVAL);
		CHECK(vfio_map(fd, buf.p, AT, PS) == ENODEV);
		CHECK(get_info(fd, info, 1) == -EINVAL);
		CHECK(get_info(fd, info, sizeof(vfio_iommu_type1_info)) == -ENODEV);
		// The type is checked first.
		CHECK(vfio_raw(fd, VFIO_SET_IOMMU, 0) == -EINVAL);
		CHECK(vfio_raw(fd, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU) == -EINVAL);
		CHECK(vfio_raw(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == -ENODEV);
		CHECK(vfio_raw(fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) == -ENODEV);
		// Second round: a compatibility IOAS that was set and cleared.
		Ioas ioas(fd);
		REQUIRE(set_compat_ioas(fd, ioas.id(), IOMMU_VFIO_IOAS_SET) == 0);
		REQUIRE(set_compat_ioas(fd, 0, IOMMU_VFIO_IOAS_CLEAR) == 0);
	}
}

TEST_CASE("SET_IOMMU type1 turns the compatibility IOAS's huge pages off, type1v2 does not")
{
	SUBCASE("type1v2")
	{
		Container c(VFIO_TYPE1v2_IOMMU);
		CHECK(c.ioas.huge_pages());
	}
	SUBCASE("type1")
	{
		Container c(VFIO_TYPE1_IOMMU);
		CHECK_FALSE(c.ioas.huge_pages());
		// Setting it again is fine; v2 afterwards does not turn them on.
		CHECK(vfio_raw(c.fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) == 0);
		CHECK(vfio_raw(c.fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
		CHECK_FALSE(c.ioas.huge_pages());
	}
	SUBCASE("type1 once a domain holds mappings is EINVAL and changes nothing")
	{
		Container c(VFIO_TYPE1v2_IOMMU);
		Access acc(c.ioas, 0);
		Buffer buf(2 * PS, 0x31);

		REQUIRE(vfio_map(c.fd, buf.p, AT, 2 * PS) == 0);
		CHECK(vfio_raw(c.fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) == -EINVAL);
		CHECK(c.ioas.huge_pages());
		// Still type1v2: a cut is refused.
		CHECK(vfio_unmap(c.fd, AT, PS) == ENOENT);
		expect_mapped(Via::access(c.fd, acc), AT, buf.p, buf.len);
	}
}

TEST_CASE("MAP_DMA and UNMAP_DMA map and unmap the compatibility IOAS")
{
	for (unsigned long type : {VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU}) {
		CAPTURE(type);
		Container c(type);
		Access acc(c.ioas, 0);
		const Via via = Via::access(c.fd, acc);
		Buffer a(4 * PS, 0x11), b(2 * PS, 0x22);
		uint64_t n = 0;

		REQUIRE(vfio_map(c.fd, a.p, AT, a.len) == 0);
		REQUIRE(vfio_map(c.fd, b.p, AT + 8 * PS, b.len) == 0);
		expect_mapped(via, AT, a.p, a.len);
		expect_mapped(via, AT + 8 * PS, b.p, b.len);
		expect_unmapped(via, AT + 4 * PS, 4 * PS);
		// The IOVA is the compatibility IOAS's: IOAS_MAP finds it taken.
		uint64_t iova = AT + PS;
		CHECK(map_raw(c.fd, c.ioas.id(), b.p, PS,
			      IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
			      &iova) == EEXIST);

		CHECK(vfio_unmap(c.fd, AT, 4 * PS, &n) == 0);
		CHECK(n == a.len);
		expect_unmapped(via, AT, 4 * PS);
		// Unmapping where nothing is mapped succeeds, with size 0.
		n = 77;
		CHECK(vfio_unmap(c.fd, AT, 4 * PS, &n) == 0);
		CHECK(n == 0);
		// UNMAP_ALL wants iova and size 0, then takes everything.
		CHECK(vfio_unmap(c.fd, AT, 0, nullptr, VFIO_DMA_UNMAP_FLAG_ALL) == EINVAL);
		CHECK(vfio_unmap(c.fd, 0, PS, nullptr, VFIO_DMA_UNMAP_FLAG_ALL) == EINVAL);
		expect_mapped(via, AT + 8 * PS, b.p, b.len);
		REQUIRE(vfio_map(c.fd, a.p, AT, a.len) == 0);
		CHECK(vfio_unmap(c.fd, 0, 0, &n, VFIO_DMA_UNMAP_FLAG_ALL) == 0);
		CHECK(n == a.len + b.len);
		expect_unmapped(via, AT, 10 * PS);
		CHECK(vfio_unmap(c.fd, 0, 0, &n, VFIO_DMA_UNMAP_FLAG_ALL) == 0);
		CHECK(n == 0);
		expect_only(c.ioas, {});
	}
}

TEST_CASE("UNMAP_DMA cuts a mapping with type1 and never with type1v2")
{
	SUBCASE("type1v2: a range that cuts a mapping is ENOENT and unmaps nothing")
	{
		Container c(VFIO_TYPE1v2_IOMMU);
		Access acc(c.ioas, 0);
		Buffer buf(8 * PS, 0x41);

		REQUIRE(vfio_map(c.fd, buf.p, AT, buf.len) == 0);
		CHECK(vfio_unmap(c.fd, AT + 2 * PS, 2 * PS) == ENOENT);
		CHECK(vfio_unmap(c.fd, AT, PS) == ENOENT);
		CHECK(vfio_unmap(c.fd, AT + 7 * PS, 2 * PS) == ENOENT);
		expect_mapped(Via::access(c.fd, acc), AT, buf.p, buf.len);
		expect_only(c.ioas, {{AT, buf.len}});
	}
	SUBCASE("type1: any page-aligned range unmaps exactly its pages")
	{
		Container c(VFIO_TYPE1_IOMMU);
		Access acc(c.ioas, 0);
		const Via via = Via::access(c.fd, acc);
		Buffer buf(8 * PS, 0x41);
		uint64_t n = 0;

		REQUIRE(vfio_map(c.fd, buf.p, AT, buf.len) == 0);
		CHECK(vfio_unmap(c.fd, AT + 2 * PS, 2 * PS, &n) == 0);
		CHECK(n == 2 * PS);
		expect_unmapped(via, AT + 2 * PS, 2 * PS);
		expect_mapped(via, AT, buf.p, 2 * PS);
		expect_mapped(via, AT + 4 * PS, buf.p + 4 * PS, 4 * PS);
		// The first page, then a range over a hole and into the rest.
		CHECK(vfio_unmap(c.fd, AT, PS, &n) == 0);
		CHECK(n == PS);
		CHECK(vfio_unmap(c.fd, AT + 3 * PS, 2 * PS, &n) == 0);
		CHECK(n == PS);
		expect_unmapped(via, AT, PS);
		expect_unmapped(via, AT + 2 * PS, 3 * PS);
		expect_mapped(via, AT + PS, buf.p + PS, PS);
		expect_mapped(via, AT + 5 * PS, buf.p + 5 * PS, 3 * PS);
		expect_only(c.ioas, {{AT + PS, PS}, {AT + 5 * PS, 3 * PS}});
	}
}

TEST_CASE("MAP_DMA and UNMAP_DMA reject bad input with their errno and change nothing")
{
	for (unsigned long type : {VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU}) {
		CAPTURE(type);
		Container c(type);
		Access acc(c.ioas, 0);
		const Via via = Via::access(c.fd, acc);
		Buffer buf(4 * PS, 0x51), other(4 * PS, 0x61);

		REQUIRE(vfio_map(c.fd, buf.p, AT + 4 * PS, buf.len) == 0);
		// MAP: short argsz, unknown flags (VADDR among them), no length,
		// a taken IOVA, a reserved one (outside the aperture).
		CHECK(vfio_map(c.fd, other.p, AT, PS, VRW,
			       offsetof(vfio_iommu_type1_dma_map, size)) == EINVAL);
		CHECK(vfio_map(c.fd, other.p, AT, PS, VRW | VFIO_DMA_MAP_FLAG_VADDR) ==
		      EINVAL);
		CHECK(vfio_map(c.fd, other.p, AT, PS, VRW | 4) == EINVAL);
		CHECK(vfio_map(c.fd, other.p, AT, 0) == EINVAL);
		CHECK(vfio_map(c.fd, other.p, AT + 6 * PS, 4 * PS) == EEXIST);
		CHECK(vfio_map(c.fd, other.p, AT + 3 * PS, 2 * PS) == EEXIST);
		CHECK(vfio_map(c.fd, other.p, 0, PS) == EINVAL);
		// UNMAP: short argsz, unknown flags, the dirty bitmap flag with
		// no room for its bitmap, no length, an overflowing range.
		CHECK(vfio_unmap(c.fd, AT + 4 * PS, PS, nullptr, 0,
				 offsetof(vfio_iommu_type1_dma_unmap, size)) == EINVAL);
		CHECK(vfio_unmap(c.fd, AT + 4 * PS, 4 * PS, nullptr, 4) == EINVAL);
		CHECK(vfio_unmap(c.fd, AT + 4 * PS, 4 * PS, nullptr,
				 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) == EINVAL);
		CHECK(vfio_unmap(c.fd, AT + 4 * PS, 0) == EINVAL);
		CHECK(vfio_unmap(c.fd, UINT64_MAX - PS + 1, 2 * PS) == EOVERFLOW);

		expect_unmapped(via, AT, 4 * PS);
		expect_mapped(via, AT + 4 * PS, buf.p, buf.len);
		expect_unmapped(via, AT + 8 * PS, 4 * PS);
		expect_only(c.ioas, {{AT + 4 * PS, buf.len}});
	}
}

TEST_CASE("GET_INFO reports the page sizes and the IOVA ranges, as upstream's")
{
	Container c(VFIO_TYPE1v2_IOMMU);
	std::vector<uint8_t> buf(4096);
	const auto *info = reinterpret_cast<const vfio_iommu_type1_info *>(buf.data());
	const uint32_t full = sizeof(vfio_iommu_type1_info);

	// The structure before capabilities existed.
	CHECK(get_info(c.fd, buf, offsetof(vfio_iommu_type1_info, cap_offset)) == 0);
	CHECK(info->flags == (VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS));
	CHECK(info->iova_pgsizes != 0);
	CHECK(get_info(c.fd, buf, offsetof(vfio_iommu_type1_info, iova_pgsizes) + sizeof(uint64_t) - 1) ==
	      -EINVAL);

	// No room for capabilities: argsz comes back as the size needed.
	CHECK(get_info(c.fd, buf, full) == 0);
	const uint32_t need = info->argsz;
	const uint64_t pgsizes = info->iova_pgsizes;
	CHECK(info->flags == (VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS));
	CHECK(info->cap_offset == 0);
	CHECK(need > full);
	REQUIRE(need < buf.size());
	// IO pages smaller than a CPU page count as a CPU page.
	CHECK((pgsizes & (PS - 1)) == 0);
	CHECK((pgsizes & PS) != 0);

	// Every size short of it: no capability offset, nothing written past
	// argsz (get_info checks), the same answer otherwise.
	for (uint32_t argsz = full + 1; argsz < need; argsz++) {
		CAPTURE(argsz);
		REQUIRE(get_info(c.fd, buf, argsz) == 0);
		CHECK(info->cap_offset == 0);
		CHECK(info->argsz == need);
	}

	CHECK(get_info(c.fd, buf, need) == 0);
	CHECK(info->argsz == need);
	CHECK(info->cap_offset == full);
	const auto *r = reinterpret_cast<const vfio_iommu_type1_info_cap_iova_range *>(
		find_cap(buf, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE));
	REQUIRE(r != nullptr);
	CHECK(r->header.version == 1);
	REQUIRE(r->nr_iovas == 1);
	CHECK(r->iova_ranges[0].start == MOCK_APERTURE_START);
	CHECK(r->iova_ranges[0].end == MOCK_APERTURE_LAST);
	const auto *d = reinterpret_cast<const vfio_iommu_type1_info_dma_avail *>(
		find_cap(buf, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL));
	REQUIRE(d != nullptr);
	CHECK(d->header.version == 1);
	CHECK(d->avail > 0);

	// A reserved range splits the IOVA space in two.
	c.ioas.add_reserved(MOCK_APERTURE_START + 16 * PS, 16 * PS);
	CHECK(get_info(c.fd, buf, full) == 0);
	const uint32_t need2 = info->argsz;
	CHECK(need2 == need + sizeof(vfio_iova_range));
	CHECK(get_info(c.fd, buf, need2) == 0);
	r = reinterpret_cast<const vfio_iommu_type1_info_cap_iova_range *>(
		find_cap(buf, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE));
	REQUIRE(r != nullptr);
	REQUIRE(r->nr_iovas == 2);
	CHECK(r->iova_ranges[0].start == MOCK_APERTURE_START);
	CHECK(r->iova_ranges[0].end == MOCK_APERTURE_START + 16 * PS - 1);
	CHECK(r->iova_ranges[1].start == MOCK_APERTURE_START + 32 * PS);
	CHECK(r->iova_ranges[1].end == MOCK_APERTURE_LAST);
}

TEST_CASE("GET_INFO carries type1's migration capability" * IOMMULAB_ONLY)
{
	for (unsigned long type : {VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU}) {
		CAPTURE(type);
		Container c(type);
		std::vector<uint8_t> buf(4096);
		const auto *info = reinterpret_cast<const vfio_iommu_type1_info *>(buf.data());

		REQUIRE(get_info(c.fd, buf, sizeof(vfio_iommu_type1_info)) == 0);
		REQUIRE(get_info(c.fd, buf, info->argsz) == 0);
		const uint64_t pgsizes = info->iova_pgsizes;
		const auto *m = reinterpret_cast<const vfio_iommu_type1_info_cap_migration *>(
			find_cap(buf, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION));
		REQUIRE(m != nullptr);
		CHECK(m->header.version == 1);
		CHECK(m->flags == 0);
		// The smallest IO page size, a CPU page here.
		CHECK(m->pgsize_bitmap == (pgsizes & -pgsizes));
		CHECK(m->pgsize_bitmap == PS);
		// type1's limit: a bit per page for INT_MAX pages, in u64 words.
		CHECK(m->max_dirty_bitmap_size == 256ULL << 20);
	}
}

TEST_CASE("the mock IOMMU translates what MAP_DMA maps and nothing UNMAP_DMA removed" *
	  IOMMULAB_ONLY)
{
	for (unsigned long type : {VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU}) {
		CAPTURE(type);
		Container c(type);
		const Via dev = Via::device(c.fd, c.md.idev_id());
		Buffer rw(8 * PS, 0x71), ro(2 * PS, 0x81);
		uint64_t n = 0;

		REQUIRE(vfio_map(c.fd, rw.p, AT, rw.len) == 0);
		REQUIRE(vfio_map(c.fd, ro.p, AT + 16 * PS, ro.len, VFIO_DMA_MAP_FLAG_READ) == 0);
		expect_mapped(dev, AT, rw.p, rw.len);
		expect_mapped(dev, AT + 16 * PS, ro.p, ro.len, false);
		expect_unmapped(dev, AT + 8 * PS, 8 * PS);
		CHECK(check_refs(c.fd, rw.p, rw.len, 1) == 0);

		if (type == VFIO_TYPE1_IOMMU) {
			// A hole cut into the mapping: the device faults there
			// only, and the rest keeps its pins. (The cut-out pages
			// stay pinned until the rest of the mapping goes too:
			// iommulab pins a mapping's memory as a whole, where
			// upstream unpins them at once.)
			CHECK(vfio_unmap(c.fd, AT + 3 * PS, 2 * PS, &n) == 0);
			CHECK(n == 2 * PS);
			expect_unmapped(dev, AT + 3 * PS, 2 * PS);
			expect_mapped(dev, AT, rw.p, 3 * PS);
			expect_mapped(dev, AT + 5 * PS, rw.p + 5 * PS, 3 * PS);
			CHECK(check_refs(c.fd, rw.p, 3 * PS, 1) == 0);
			CHECK(check_refs(c.fd, rw.p + 5 * PS, 3 * PS, 1) == 0);
		} else {
			CHECK(vfio_unmap(c.fd, AT + 3 * PS, 2 * PS) == ENOENT);
			expect_mapped(dev, AT, rw.p, rw.len);
		}
		CHECK(vfio_unmap(c.fd, 0, 0, &n, VFIO_DMA_UNMAP_FLAG_ALL) == 0);
		CHECK(n == (type == VFIO_TYPE1_IOMMU ? 6 : 8) * PS + ro.len);
		expect_unmapped(dev, AT, 18 * PS);
		CHECK(check_refs(c.fd, rw.p, rw.len, 0) == 0);
	}
}

TEST_CASE("MAP_DMA with neither READ nor WRITE is EINVAL, as type1's" * IOMMULAB_ONLY)
{
	Container c(VFIO_TYPE1v2_IOMMU);
	const Via dev = Via::device(c.fd, c.md.idev_id());
	Buffer buf(2 * PS, 0x91);

	CHECK(vfio_map(c.fd, buf.p, AT, buf.len, 0) == EINVAL);
	expect_unmapped(dev, AT, buf.len);
	// The IOVA is still free.
	CHECK(vfio_map(c.fd, buf.p, AT, buf.len) == 0);
	expect_mapped(dev, AT, buf.p, buf.len);
}

TEST_CASE("a type1 cut is refused while an access pins the mapping, and changes nothing")
{
	Container c(VFIO_TYPE1_IOMMU);
	Access acc(c.ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	Buffer buf(4 * PS, 0xA1);

	REQUIRE(vfio_map(c.fd, buf.p, AT, buf.len) == 0);
	acc.pin(AT + PS, PS, buf.p + PS, false);
	CHECK(vfio_unmap(c.fd, AT + 2 * PS, PS) == EINVAL);
	Access reader(c.ioas, 0);
	expect_mapped(Via::access(c.fd, reader), AT, buf.p, buf.len);
}

namespace {

// A type1v2 container whose IOAS a device reaches through a dirty-tracking
// HWPT (4 KiB IOPTEs), with @len bytes mapped by MAP_DMA at AT.
struct DirtyContainer {
	Iommufd fd;
	Ioas ioas{fd};
	MockDev hw;
	std::unique_ptr<Device> dev;
	uint32_t hwpt = 0;
	Buffer buf;

	explicit DirtyContainer(uint64_t len = 16 * PS)
		: hw(mock_group_alloc(fd, 1, IOMMULAB_MOCK_DEV_4K)[0]), buf(len, 0)
	{
		dev = std::make_unique<Device>(fd, hw.rid);
		hwpt = hwpt_alloc(fd, dev->id(), ioas.id(), IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
		REQUIRE(dev->attach(hwpt) == hwpt);
		REQUIRE(set_compat_ioas(fd, ioas.id(), IOMMU_VFIO_IOAS_SET) == 0);
		REQUIRE(vfio_raw(fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
		REQUIRE(vfio_map(fd, buf.p, AT, len) == 0);
	}
	// The device writes @v at @iova, through the mock IOMMU.
	bool write(uint64_t iova, uint8_t v)
	{
		return dma(fd, dev->id(), iova, &v, 1, true).ok();
	}
	// GET_BITMAP of [AT, AT + len): the set bits, or an empty set and
	// *err on failure.
	std::set<uint64_t> harvest(uint64_t len, int *err = nullptr)
	{
		VfioBitmap bm(AT, len, PS);
		int rc = vfio_get_bitmap(fd, bm);
		if (err)
			*err = rc;
		else
			CHECK(rc == 0);
		return bm.set_bits();
	}
};

} // namespace

TEST_CASE("VFIO dirty pages: START, GET_BITMAP, STOP and read & unmap report the "
	  "device's writes" *
	  IOMMULAB_ONLY)
{
	DirtyContainer c;
	const uint64_t len = c.buf.len;
	int err = 0;

	// Not started: GET_BITMAP and a dirty unmap are EINVAL, and that
	// unmap leaves the mapping.
	c.harvest(len, &err);
	CHECK(err == EINVAL);
	VfioBitmap early(AT, len, PS);
	CHECK(vfio_unmap_bitmap(c.fd, early) == EINVAL);
	REQUIRE(c.write(AT, 1));

	// START: a clean snapshot (the write above is not reported).
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	CHECK(c.harvest(len).empty());
	REQUIRE(c.write(AT + 2 * PS + 5, 0x11));
	REQUIRE(c.write(AT + 9 * PS, 0x12));
	uint8_t r[64];
	REQUIRE(dma(c.fd, c.dev->id(), AT + 4 * PS, r, sizeof(r), false).ok());
	// START again changes nothing.
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	CHECK(c.harvest(len) == std::set<uint64_t>{2, 9});
	// Read and cleared: the next harvest reports only the next write.
	CHECK(c.harvest(len).empty());
	REQUIRE(c.write(AT + 15 * PS + PS - 1, 0x13));
	CHECK(c.harvest(len) == std::set<uint64_t>{15});

	// The same bits through IOMMU_HWPT_GET_DIRTY_BITMAP: one set of bits.
	REQUIRE(c.write(AT + 3 * PS, 0x14));
	DirtyBitmap hb(AT, len, PS);
	get_dirty_bitmap(c.fd, c.hwpt, hb, false);
	CHECK(hb.set_bits() == std::vector<uint64_t>{3});
	CHECK(c.harvest(len) == std::set<uint64_t>{3});

	// STOP: GET_BITMAP is EINVAL again; STOP twice is fine; a new START
	// starts clean.
	REQUIRE(c.write(AT + 6 * PS, 0x15));
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) == 0);
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) == 0);
	c.harvest(len, &err);
	CHECK(err == EINVAL);
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	CHECK(c.harvest(len).empty());

	// Read & unmap: the bits of what goes, then the device faults there.
	REQUIRE(c.write(AT + 7 * PS, 0x16));
	REQUIRE(c.write(AT + 8 * PS, 0x17));
	VfioBitmap bm(AT, len, PS);
	uint64_t unmapped = 0;
	CHECK(vfio_unmap_bitmap(c.fd, bm, &unmapped) == 0);
	CHECK(unmapped == len);
	CHECK(bm.set_bits() == std::set<uint64_t>{7, 8});
	CHECK(c.buf.p[7 * PS] == 0x16);
	uint8_t v = 1;
	CHECK(dma(c.fd, c.dev->id(), AT, &v, 1, true).fault_reason ==
	      IOMMULAB_DMA_FAULT_NOT_MAPPED);
	CHECK(check_refs(c.fd, c.buf.p, len, 0) == 0);
}

TEST_CASE("VFIO dirty pages: whole mappings, holes, and what no IOMMU tracks is "
	  "all dirty" *
	  IOMMULAB_ONLY)
{
	DirtyContainer c(8 * PS);
	Buffer second(4 * PS, 0);
	REQUIRE(vfio_map(c.fd, second.p, AT + 12 * PS, second.len) == 0);
	REQUIRE(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	REQUIRE(c.write(AT + PS, 1));
	REQUIRE(c.write(AT + 13 * PS, 2));

	// A range that cuts a mapping: EINVAL, and no bit was cleared.
	for (auto [iova, size] : {std::pair<uint64_t, uint64_t>{AT, 4 * PS},
				  {AT + PS, 15 * PS},
				  {AT, 14 * PS}}) {
		CAPTURE(iova);
		CAPTURE(size);
		VfioBitmap cut(iova, size, PS);
		CHECK(vfio_get_bitmap(c.fd, cut) == EINVAL);
		CHECK(cut.set_bits().empty());
		CHECK(vfio_unmap_bitmap(c.fd, cut) != 0);
	}
	// Two mappings and the hole between them in one call; bit 0 is AT.
	CHECK(c.harvest(16 * PS) == std::set<uint64_t>{1, 13});
	// A range that holds only the second mapping, bit 0 at its start.
	REQUIRE(c.write(AT + 14 * PS, 3));
	VfioBitmap tail(AT + 12 * PS, 4 * PS, PS);
	CHECK(vfio_get_bitmap(c.fd, tail) == 0);
	CHECK(tail.set_bits() == std::set<uint64_t>{2});

	// A second device whose domain cannot track dirty pages: every page
	// it maps is reported, each time, until it goes.
	{
		Device plain(c.fd, mock_group_alloc(c.fd, 1, IOMMULAB_MOCK_DEV_4K)[0].rid);
		plain.attach(c.ioas.id());
		std::set<uint64_t> all;
		for (uint64_t b = 0; b < 8; b++)
			all.insert(b);
		for (uint64_t b = 12; b < 16; b++)
			all.insert(b);
		CHECK(c.harvest(16 * PS) == all);
		CHECK(c.harvest(16 * PS) == all);
	}
	CHECK(c.harvest(16 * PS).empty());
	// The HWPT's own tracking stopped under the container: its pages are
	// all reported, since its bits no longer tell all.
	set_dirty_tracking(c.fd, c.hwpt, false);
	CHECK(c.harvest(16 * PS).size() == 12);
	set_dirty_tracking(c.fd, c.hwpt, true);
	CHECK(c.harvest(16 * PS).empty());
	// An access (which writes by the CPU, unseen by any IOMMU): all dirty.
	{
		Access acc(c.ioas, 0);
		CHECK(c.harvest(16 * PS).size() == 12);
	}
	REQUIRE(c.write(AT + 5 * PS, 4));
	CHECK(c.harvest(16 * PS) == std::set<uint64_t>{5});
}

TEST_CASE("VFIO dirty pages: bad input gets type1's errno and clears nothing" *
	  IOMMULAB_ONLY)
{
	DirtyContainer c;
	const uint64_t len = c.buf.len;

	// Flags: none, two, unknown; a short argsz. EINVAL before anything.
	CHECK(vfio_dirty_pages(c.fd, 0) == EINVAL);
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
					     VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) == EINVAL);
	CHECK(vfio_dirty_pages(c.fd, 1u << 3) == EINVAL);
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 4) == EINVAL);
	// GET_BITMAP with no room for its range.
	CHECK(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) == EINVAL);

	REQUIRE(vfio_dirty_pages(c.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == 0);
	REQUIRE(c.write(AT + 4 * PS, 1));
	VfioBitmap bm(AT, len, PS);
	auto with = [&](auto change) {
		vfio_bitmap b = bm.arg();
		VfioBitmap r = bm;
		change(r, b);
		return vfio_get_bitmap(c.fd, r, b);
	};
	// Page sizes other than the smallest IO page size.
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.pgsize = 0; }) == EINVAL);
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.pgsize = 2 * PS; }) == EINVAL);
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.pgsize = PS / 2; }) == EINVAL);
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.pgsize = 3 * PS; }) == EINVAL);
	// Bitmap sizes: 0, one u64 word short, above type1's limit.
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.size = 0; }) == EINVAL);
	CHECK(with([](VfioBitmap &r, vfio_bitmap &b) {
		      r.size = 65 * PS;
		      b.size = 8;
	      }) == EINVAL);
	CHECK(with([](VfioBitmap &, vfio_bitmap &b) { b.size = (256ULL << 20) + 8; }) ==
	      EINVAL);
	// Ranges: empty, unaligned, wrapping.
	CHECK(with([](VfioBitmap &r, vfio_bitmap &) { r.size = 0; }) == EINVAL);
	CHECK(with([](VfioBitmap &r, vfio_bitmap &) { r.iova += 1; }) == EINVAL);
	CHECK(with([](VfioBitmap &r, vfio_bitmap &) { r.size += 1; }) == EINVAL);
	CHECK(with([](VfioBitmap &r, vfio_bitmap &) { r.iova = UINT64_MAX - PS + 1; }) ==
	      EINVAL);
	// A bitmap the kernel cannot write: EFAULT, after no bit was cleared.
	void *ro = mmap(nullptr, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(ro != MAP_FAILED);
	CHECK(with([&](VfioBitmap &, vfio_bitmap &b) {
		      b.data = static_cast<__u64 *>(ro);
	      }) == EFAULT);
	munmap(ro, PS);
	// A dirty unmap: with ALL, a short argsz, a bad page size: EINVAL and
	// still mapped.
	CHECK(vfio_unmap(c.fd, 0, 0, nullptr,
			 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL,
			 sizeof(vfio_iommu_type1_dma_unmap) + sizeof(vfio_bitmap)) == EINVAL);
	CHECK(vfio_unmap(c.fd, AT, len, nullptr, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) ==
	      EINVAL);
	VfioBitmap big(AT, len, 2 * PS);
	CHECK(vfio_unmap_bitmap(c.fd, big) == EINVAL);
	// Every refusal above kept the bit and the mapping.
	CHECK(c.harvest(len) == std::set<uint64_t>{4});
	expect_mapped(Via::device(c.fd, c.dev->id()), AT, c.buf.p, len);

	// type1 (v1) has no dirty pages (EACCES), as type1's; no compat IOAS:
	// ENODEV after the argument checks.
	Container v1(VFIO_TYPE1_IOMMU);
	CHECK(vfio_dirty_pages(v1.fd, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == EACCES);
	Iommufd none;
	CHECK(vfio_dirty_pages(none, 0) == EINVAL);
	CHECK(vfio_dirty_pages(none, VFIO_IOMMU_DIRTY_PAGES_FLAG_START) == ENODEV);
}
