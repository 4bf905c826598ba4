// SPDX-License-Identifier: GPL-2.0
// iommulab-failnth: the table of scenarios, one row per call under test.
//
// Adding a command (HWPT, device, DMA, ...):
//   1. put its argument structure into union Arg (failnth.hpp);
//   2. add its name to must_cover() below (the engine fails while a name
//      there has no row);
//   3. add a row in the section marked "HWPT / devices / DMA" below:
//        setup      builds what the call needs and fills c.arg (may throw);
//        call       issues exactly one ioctl on c.arg and returns 0 or the
//                   errno (no allocation, no printing: fail-nth is armed);
//        on_success checks that the call's effect is really there;
//        on_failure probes that a failed call left nothing behind;
//      and the errnos an injected allocation failure may surface as.
// The engine snapshots generic state before the call and compares it after
// a failed call (see snapshot() in failnth.cpp): object counts of the fd
// and of the module, every IOAS's IOVA ranges and options, page pins of
// the test memory, VmPin/VmLck, open fds, checksums of the test memory.
//
// Errno rules (documented per row below):
//   ENOMEM  every call that allocates kernel memory.
//   EFAULT  additionally for calls that pin or look up user pages
//           (IOAS_MAP, BENCH_PIN, ACCESS_PAGES with uptr): GUP reports a
//           failed allocation while faulting a page in as EFAULT.
//   EINTR   never: only a fatal signal gives it, never an allocation.
//   {}      calls that allocate nothing of their own (DESTROY, UNMAP,
//           IOVA_RANGES, OPTION, GET_INFO, MD_CHECK_REFS, ...): an
//           allocation failing inside them (an allocator's internal
//           bookkeeping) must not make them fail.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "failnth.hpp"

namespace failnth {

namespace {

// Reserved and allowed ranges used by several rows.
constexpr uint64_t MiB = 1ULL << 20;

iommulab_info info_of(int fd)
{
	iommulab_info cmd{};

	cmd.size = sizeof(cmd);
	FN_CHECK(::ioctl(fd, IOMMULAB_GET_INFO, &cmd) == 0,
		 "GET_INFO on fd %d: %s", fd, strerror(errno));
	return cmd;
}

uint64_t option_get(Ctx &c, uint32_t option, uint32_t object)
{
	return c.fd->option_get(option, object);
}

// Setup shared by the access rows: IOAS, region A mapped RW at IOVA_A,
// and an access with @flags.
void setup_access(Ctx &c, uint32_t flags)
{
	open_fd(c);
	c.ioas = ioas_alloc(c);
	map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
	c.access = create_access(c, c.ioas, flags);
}

constexpr uint32_t NEEDS_PIN = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
constexpr uint32_t HOLD = IOMMULAB_ACCESS_CREATE_HOLD_PINS;

// IOAS with region A mapped at IOVA_A and a mock device attached to it.
void setup_domain(Ctx &c, uint32_t dev_flags = 0)
{
	open_fd(c);
	c.ioas = ioas_alloc(c);
	map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
	mock_domain(c, c.ioas, dev_flags);
}

// ... plus a NEST_PARENT HWPT (c.hwpt2) and a nested one on it (c.hwpt).
void setup_nested(Ctx &c)
{
	setup_domain(c);
	c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	iommu_hwpt_selftest data = {IOMMU_TEST_IOTLB_DEFAULT};
	c.hwpt = hwpt_alloc(c, c.idev, c.hwpt2, 0, IOMMU_HWPT_DATA_SELFTEST, &data,
			    sizeof(data));
}

// A group of @n devices (kernel-owned, no driver) in c.devs.
void setup_group(Ctx &c, uint32_t n)
{
	open_fd(c);
	c.devs = mock_group_alloc(*c.fd, n);
}

// A group of one device, bound (c.idev), and an IOAS with A at IOVA_A.
void setup_bound(Ctx &c)
{
	setup_group(c, 1);
	c.idev = bind(c, c.devs[0].rid);
	c.ioas = ioas_alloc(c);
	map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
}

iommu_test_cmd mock_domain_arg(uint32_t op, uint32_t pt_id, uint32_t dev_flags)
{
	iommu_test_cmd cmd = test_arg(op, pt_id);

	if (op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS)
		cmd.mock_domain_flags.dev_flags = dev_flags;
	return cmd;
}

// c.arg.map: a MAP of [p, p + len) at @iova into @ioas.
void map_arg(Ctx &c, uint32_t ioas, const void *p, uint64_t len, uint64_t iova,
	     uint32_t flags)
{
	c.arg.map = {};
	c.arg.map.size = sizeof(iommu_ioas_map);
	c.arg.map.flags = flags;
	c.arg.map.ioas_id = ioas;
	c.arg.map.user_va = reinterpret_cast<uintptr_t>(p);
	c.arg.map.length = len;
	c.arg.map.iova = iova;
}

// The call of every IOMMU_TEST_CMD row: c.arg.test as setup filled it.
int call_test(Ctx &c)
{
	return c.fd->raw(IOMMU_TEST_CMD, &c.arg.test);
}

// The device's DMA read of @len bytes at @iova lands on @expect.
void check_dma_reads(Ctx &c, uint32_t dev, uint64_t iova, const uint8_t *expect,
		     uint64_t len)
{
	std::vector<uint8_t> got(len);
	uint32_t fault = dma_raw(c, dev, iova, got.data(), len, false);
	FN_CHECK(fault == IOMMULAB_DMA_FAULT_NONE, "DMA read at %#llx faulted (%u)",
		 (unsigned long long)iova, fault);
	FN_CHECK(memcmp(got.data(), expect, len) == 0,
		 "DMA read at %#llx returned other bytes", (unsigned long long)iova);
}

} // namespace

const std::vector<std::string> &must_cover()
{
	static const std::vector<std::string> names = {
		"open",
		"IOMMU_DESTROY",
		"IOMMU_IOAS_ALLOC",
		"IOMMU_IOAS_MAP",
		"IOMMU_IOAS_UNMAP",
		"IOMMU_IOAS_COPY",
		"IOMMU_IOAS_IOVA_RANGES",
		"IOMMU_IOAS_ALLOW_IOVAS",
		"IOMMU_OPTION",
		"IOMMU_TEST_OP_ADD_RESERVED",
		"IOMMU_TEST_OP_MD_CHECK_REFS",
		"IOMMU_TEST_OP_CREATE_ACCESS",
		"IOMMU_TEST_OP_ACCESS_PAGES",
		"IOMMU_TEST_OP_DESTROY_ACCESS_PAGES",
		"IOMMU_TEST_OP_ACCESS_RW",
		"IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT",
		"IOMMU_TEST_OP_ACCESS_REPLACE_IOAS",
		"IOMMULAB_GET_INFO",
		"IOMMULAB_BENCH_PIN",
		"IOMMU_TEST_OP_MOCK_DOMAIN",
		"IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS",
		"IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE",
		"IOMMU_TEST_OP_MD_CHECK_MAP",
		"IOMMU_TEST_OP_MD_CHECK_IOTLB",
		"IOMMU_TEST_OP_DEV_CHECK_CACHE",
		"IOMMU_GET_HW_INFO",
		"IOMMU_HWPT_ALLOC",
		"IOMMU_HWPT_INVALIDATE",
		"IOMMULAB_MOCK_GROUP_ALLOC",
		"IOMMULAB_DEVICE_BIND",
		"IOMMULAB_DEVICE_ATTACH",
		"IOMMULAB_DEVICE_DETACH",
		"IOMMULAB_MOCK_SET_DRIVER",
		"IOMMULAB_MOCK_DMA",
		// Commands added later: add their names here.
	};
	return names;
}

const std::vector<Scenario> &scenarios()
{
	static const std::vector<Scenario> table = {
	// ------------------------------------------------------ the fd ---
	{
		"open", "open", {ENOMEM},
		[](Ctx &) {},
		[](Ctx &c) {
			c.new_fd = ::open(dev_path.c_str(), O_RDWR | O_CLOEXEC);
			return c.new_fd < 0 ? errno : 0;
		},
		[](Ctx &c) {
			iommulab_info i = info_of(c.new_fd);
			FN_CHECK(i.out_nr_objects == 0,
				 "new fd owns %u objects", i.out_nr_objects);
		},
		nullptr,
	},
	{
		"DESTROY/ioas-with-everything", "IOMMU_DESTROY", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			allow(c, c.ioas, {{IOVA_A, IOVA_B + MAP_LEN - 1}});
			FN_CHECK(add_reserved_raw(c, c.ioas, IOVA_B + 64 * MiB, MiB) == 0,
				 "ADD_RESERVED failed");
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.destroy = {sizeof(iommu_destroy), c.ioas};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_DESTROY, &c.arg.destroy); },
		[](Ctx &c) {
			FN_CHECK(c.fd->info().nr_objects == 0, "IOAS still counted");
			FN_CHECK(refs(mem.A(), MAP_LEN) == 0, "pages still pinned");
			c.ioas = 0;
		},
		[](Ctx &c) {
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN, &n) == 0 &&
					 n == MAP_LEN,
				 "IOAS not intact after a failed DESTROY");
		},
	},
	// ------------------------------------------------------- IOAS ---
	{
		"IOAS_ALLOC", "IOMMU_IOAS_ALLOC", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.arg.ioas_alloc = {};
			c.arg.ioas_alloc.size = sizeof(iommu_ioas_alloc);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_ALLOC, &c.arg.ioas_alloc); },
		[](Ctx &c) {
			c.ioas = c.arg.ioas_alloc.out_ioas_id;
			FN_CHECK(c.ioas != 0, "ID 0");
			FN_CHECK(option_get(c, IOMMU_OPTION_HUGE_PAGES, c.ioas) == 1,
				 "new IOAS has huge pages off");
			FN_CHECK(c.fd->info().nr_objects == 1, "not one object");
		},
		[](Ctx &c) {
			// No ID stays reserved: the next IOAS gets the first ID.
			uint32_t id = ioas_alloc(c);
			FN_CHECK(id == 1, "IOAS_ALLOC after a failed one got ID %u, not 1", id);
		},
	},
	{
		// 64 pages in batches of 32 (SET_TEMP_MEMORY_LIMIT), as upstream.
		"IOAS_MAP/fixed", "IOMMU_IOAS_MAP", {ENOMEM, EFAULT},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			set_limit(c, 32);
			map_arg(c, c.ioas, mem.A(), MAP_LEN, IOVA_A, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			FN_CHECK(refs(mem.A(), MAP_LEN) == 1, "pages not pinned once");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN, &n) == 0 &&
					 n == MAP_LEN,
				 "mapping not there");
		},
		[](Ctx &c) {
			uint64_t iova = IOVA_A;
			FN_CHECK(map_raw(c, c.ioas, mem.A(), MAP_LEN, &iova, RW | FIXED) == 0,
				 "re-MAP at the same IOVA fails after a failed MAP");
		},
	},
	{
		// Read-only, unaligned user pointer, IOVA chosen inside allowed
		// ranges around a reserved one, charged to the mm (RLIMIT_MODE 1).
		"IOAS_MAP/auto-iova-mm-accounting", "IOMMU_IOAS_MAP", {ENOMEM, EFAULT},
		[](Ctx &c) {
			open_fd(c);
			c.fd->option_set(IOMMU_OPTION_RLIMIT_MODE, 1);
			c.ioas = ioas_alloc(c);
			allow(c, c.ioas, {{IOVA_A, IOVA_A + 4 * MiB - 1},
					  {IOVA_B, IOVA_B + 8 * MiB - 1}});
			FN_CHECK(add_reserved_raw(c, c.ioas, IOVA_A + 4 * MiB, MiB) == 0,
				 "ADD_RESERVED failed");
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_A);
			c.arg.map = {};
			c.arg.map.size = sizeof(iommu_ioas_map);
			c.arg.map.flags = RO;
			c.arg.map.ioas_id = c.ioas;
			c.arg.map.user_va = reinterpret_cast<uintptr_t>(mem.A()) + 3 * PS + 100;
			c.arg.map.length = MAP_LEN - 4 * PS;
			c.arg.map.iova = 0;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			uint64_t iova = c.arg.map.iova;
			FN_CHECK(iova % PS == 100, "IOVA %#llx lost the page offset",
				 (unsigned long long)iova);
			FN_CHECK((iova >= IOVA_A + MAP_LEN && iova < IOVA_A + 4 * MiB) ||
					 (iova >= IOVA_B && iova < IOVA_B + 8 * MiB),
				 "IOVA %#llx outside the allowed ranges",
				 (unsigned long long)iova);
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, iova, c.arg.map.length, &n) == 0,
				 "mapping not there");
		},
		[](Ctx &c) {
			uint64_t iova = 0;
			FN_CHECK(map_raw(c, c.ioas, mem.A() + 3 * PS + 100,
					 MAP_LEN - 4 * PS, &iova, RO) == 0,
				 "MAP after a failed MAP fails");
		},
	},
	{
		"IOAS_UNMAP/two-areas", "IOMMU_IOAS_UNMAP", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_A + MAP_LEN);
			c.arg.unmap = {sizeof(iommu_ioas_unmap), c.ioas, IOVA_A, 2 * MAP_LEN};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_UNMAP, &c.arg.unmap); },
		[](Ctx &c) {
			FN_CHECK(c.arg.unmap.length == 2 * MAP_LEN, "unmapped %llu bytes",
				 (unsigned long long)c.arg.unmap.length);
			FN_CHECK(refs(mem.A(), 2 * MAP_LEN) == 0, "pages still pinned");
		},
		[](Ctx &c) {
			uint64_t iova = IOVA_A;
			FN_CHECK(map_raw(c, c.ioas, mem.A(), PS, &iova, RW | FIXED) == EEXIST,
				 "area gone after a failed UNMAP");
		},
	},
	{
		// Everything (iova 0, length U64_MAX): the unmap-all path.
		"IOAS_UNMAP/all", "IOMMU_IOAS_UNMAP", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_B);
			c.arg.unmap = {sizeof(iommu_ioas_unmap), c.ioas, 0, UINT64_MAX};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_UNMAP, &c.arg.unmap); },
		[](Ctx &c) {
			FN_CHECK(c.arg.unmap.length == 2 * MAP_LEN, "unmapped %llu bytes",
				 (unsigned long long)c.arg.unmap.length);
			FN_CHECK(refs(mem.A(), 2 * MAP_LEN) == 0, "pages still pinned");
		},
		[](Ctx &c) {
			uint64_t iova = IOVA_B;
			FN_CHECK(map_raw(c, c.ioas, mem.B(), PS, &iova, RW | FIXED) == EEXIST,
				 "area gone after a failed UNMAP");
		},
	},
	{
		// UNMAP of a range an access has pinned: the access is told and
		// drops its item, then the unmap goes through. (Not iova 0 /
		// length U64_MAX: see test_regressions.cpp, "unmap-all with an
		// access holding pins".)
		"IOAS_UNMAP/notify-access", "IOMMU_IOAS_UNMAP", {},
		[](Ctx &c) {
			setup_access(c, NEEDS_PIN);
			c.item = access_pages(c, c.access, IOVA_A + PS, 2 * PS, nullptr, 0);
			c.arg.unmap = {sizeof(iommu_ioas_unmap), c.ioas, IOVA_A, MAP_LEN};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_UNMAP, &c.arg.unmap); },
		[](Ctx &c) {
			FN_CHECK(refs(mem.A(), MAP_LEN) == 0, "pages still pinned");
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == ENOENT,
				 "access item survived the unmap");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == 0,
				 "access item gone after a failed UNMAP");
		},
	},
	{
		"IOAS_COPY", "IOMMU_IOAS_COPY", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.ioas2 = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.copy = {};
			c.arg.copy.size = sizeof(iommu_ioas_copy);
			c.arg.copy.flags = RW | FIXED;
			c.arg.copy.dst_ioas_id = c.ioas2;
			c.arg.copy.src_ioas_id = c.ioas;
			c.arg.copy.length = MAP_LEN - 2 * PS;
			c.arg.copy.dst_iova = IOVA_B;
			c.arg.copy.src_iova = IOVA_A + PS;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_COPY, &c.arg.copy); },
		[](Ctx &c) {
			FN_CHECK(refs(mem.A(), MAP_LEN) == 1,
				 "COPY pinned again instead of sharing the pins");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas2, IOVA_B, MAP_LEN - 2 * PS, &n) == 0,
				 "copy not mapped in the destination");
		},
		[](Ctx &c) {
			uint64_t iova = IOVA_B;
			FN_CHECK(map_raw(c, c.ioas2, mem.B(), PS, &iova, RW | FIXED) == 0,
				 "destination IOVA taken after a failed COPY");
		},
	},
	{
		"IOAS_IOVA_RANGES", "IOMMU_IOAS_IOVA_RANGES", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			for (uint64_t i = 0; i < 3; i++)
				FN_CHECK(add_reserved_raw(c, c.ioas, (i + 1) * 16 * MiB, MiB) == 0,
					 "ADD_RESERVED failed");
			c.arg.iova_ranges = {};
			c.arg.iova_ranges.size = sizeof(iommu_ioas_iova_ranges);
			c.arg.iova_ranges.ioas_id = c.ioas;
			c.arg.iova_ranges.num_iovas = 16;
			c.arg.iova_ranges.allowed_iovas = reinterpret_cast<uintptr_t>(c.ranges);
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMU_IOAS_IOVA_RANGES, &c.arg.iova_ranges);
		},
		[](Ctx &c) {
			FN_CHECK(c.arg.iova_ranges.num_iovas == 4, "%u ranges, not 4",
				 c.arg.iova_ranges.num_iovas);
			FN_CHECK(c.ranges[1].start == 17 * MiB && c.ranges[1].last == 32 * MiB - 1,
				 "second range wrong");
		},
		nullptr,
	},
	{
		// Replace an allowed list of 2 ranges by one of 5.
		"IOAS_ALLOW_IOVAS", "IOMMU_IOAS_ALLOW_IOVAS", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			allow(c, c.ioas, {{MiB, 2 * MiB - 1}, {8 * MiB, 9 * MiB - 1}});
			for (uint64_t i = 0; i < 5; i++)
				c.ranges[i] = {IOVA_A + i * 2 * MiB, IOVA_A + i * 2 * MiB + MiB - 1};
			c.arg.allow_iovas = {};
			c.arg.allow_iovas.size = sizeof(iommu_ioas_allow_iovas);
			c.arg.allow_iovas.ioas_id = c.ioas;
			c.arg.allow_iovas.num_iovas = 5;
			c.arg.allow_iovas.allowed_iovas = reinterpret_cast<uintptr_t>(c.ranges);
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMU_IOAS_ALLOW_IOVAS, &c.arg.allow_iovas);
		},
		[](Ctx &c) {
			FN_CHECK(add_reserved_raw(c, c.ioas, MiB, PS) == 0,
				 "old allowed range still in force");
			FN_CHECK(add_reserved_raw(c, c.ioas, IOVA_A + 8 * MiB, PS) == EADDRINUSE,
				 "new allowed range not in force");
		},
		[](Ctx &c) {
			FN_CHECK(add_reserved_raw(c, c.ioas, MiB, PS) == EADDRINUSE,
				 "old allowed range lost after a failed ALLOW_IOVAS");
			FN_CHECK(add_reserved_raw(c, c.ioas, IOVA_A + 8 * MiB, PS) == 0,
				 "new allowed range in force after a failed ALLOW_IOVAS");
		},
	},
	{
		"OPTION/huge-pages", "IOMMU_OPTION", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.arg.option = {};
			c.arg.option.size = sizeof(iommu_option);
			c.arg.option.option_id = IOMMU_OPTION_HUGE_PAGES;
			c.arg.option.op = IOMMU_OPTION_OP_SET;
			c.arg.option.object_id = c.ioas;
			c.arg.option.val64 = 0;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_OPTION, &c.arg.option); },
		[](Ctx &c) {
			FN_CHECK(option_get(c, IOMMU_OPTION_HUGE_PAGES, c.ioas) == 0,
				 "huge pages still on");
		},
		nullptr,
	},
	{
		// Allocates nothing; here so that every implemented command has
		// a row. A failed SET leaves no compatibility IOAS.
		"VFIO_IOAS/set", "IOMMU_VFIO_IOAS", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.arg.vfio_ioas = {};
			c.arg.vfio_ioas.size = sizeof(iommu_vfio_ioas);
			c.arg.vfio_ioas.op = IOMMU_VFIO_IOAS_SET;
			c.arg.vfio_ioas.ioas_id = c.ioas;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_VFIO_IOAS, &c.arg.vfio_ioas); },
		[](Ctx &c) {
			iommu_vfio_ioas get = {sizeof(get), 0, IOMMU_VFIO_IOAS_GET, 0};
			FN_CHECK(c.fd->raw(IOMMU_VFIO_IOAS, &get) == 0 && get.ioas_id == c.ioas,
				 "compatibility IOAS not set");
		},
		[](Ctx &c) {
			iommu_vfio_ioas get = {sizeof(get), 0, IOMMU_VFIO_IOAS_GET, 0};
			FN_CHECK(c.fd->raw(IOMMU_VFIO_IOAS, &get) == ENODEV,
				 "compatibility IOAS set by a failed SET");
		},
	},
	{
		"OPTION/rlimit-mode", "IOMMU_OPTION", {},
		[](Ctx &c) {
			open_fd(c);
			c.arg.option = {};
			c.arg.option.size = sizeof(iommu_option);
			c.arg.option.option_id = IOMMU_OPTION_RLIMIT_MODE;
			c.arg.option.op = IOMMU_OPTION_OP_SET;
			c.arg.option.val64 = 1;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_OPTION, &c.arg.option); },
		[](Ctx &c) {
			FN_CHECK(option_get(c, IOMMU_OPTION_RLIMIT_MODE, 0) == 1,
				 "RLIMIT_MODE not 1");
		},
		nullptr,
	},
	// ------------------------------------------- IOMMU_TEST_CMD ops ---
	{
		"TEST/ADD_RESERVED", "IOMMU_TEST_OP_ADD_RESERVED", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_ADD_RESERVED, c.ioas);
			c.arg.test.add_reserved = {IOVA_B, MiB};
		},
		call_test,
		[](Ctx &c) {
			auto r = iova_ranges(c, c.ioas);
			FN_CHECK(r.size() == 2 && r[0].last == IOVA_B - 1,
				 "reserved range not reported");
		},
		[](Ctx &c) {
			uint64_t iova = IOVA_B;
			FN_CHECK(map_raw(c, c.ioas, mem.A(), PS, &iova, RW | FIXED) == 0,
				 "range reserved after a failed ADD_RESERVED");
		},
	},
	{
		"TEST/MD_CHECK_REFS", "IOMMU_TEST_OP_MD_CHECK_REFS", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.test = test_arg(IOMMU_TEST_OP_MD_CHECK_REFS, 0);
			c.arg.test.check_refs.length = MAP_LEN;
			c.arg.test.check_refs.uptr = reinterpret_cast<uintptr_t>(mem.A());
			c.arg.test.check_refs.refs = 1;
		},
		call_test,
		[](Ctx &) {},
		nullptr,
	},
	{
		"TEST/CREATE_ACCESS", "IOMMU_TEST_OP_CREATE_ACCESS", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.test = test_arg(IOMMU_TEST_OP_CREATE_ACCESS, c.ioas);
			c.arg.test.create_access.flags = NEEDS_PIN;
		},
		call_test,
		[](Ctx &c) {
			c.new_fd = static_cast<int>(c.arg.test.create_access.out_access_fd);
			FN_CHECK(fcntl(c.new_fd, F_GETFD) >= 0, "access fd %d not open", c.new_fd);
			uint32_t item = access_pages(c, c.new_fd, IOVA_A, PS, nullptr, 0);
			FN_CHECK(destroy_item_raw(c, c.new_fd, item) == 0, "item not there");
			FN_CHECK(destroy_raw(c, c.ioas) == EBUSY,
				 "IOAS destroyable while an access uses it");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed CREATE_ACCESS");
			c.ioas = 0;
		},
	},
	{
		// Writeable pin with the uptr cross-check, by an access that keeps
		// its pins (HOLD_PINS): a leaked pin makes UNMAP fail with EBUSY.
		"TEST/ACCESS_PAGES", "IOMMU_TEST_OP_ACCESS_PAGES", {ENOMEM, EFAULT},
		[](Ctx &c) {
			setup_access(c, NEEDS_PIN | HOLD);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_PAGES, c.access);
			c.arg.test.access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
			c.arg.test.access_pages.iova = IOVA_A + PS;
			c.arg.test.access_pages.length = MAP_LEN - 2 * PS;
			c.arg.test.access_pages.uptr = reinterpret_cast<uintptr_t>(mem.A() + PS);
		},
		call_test,
		[](Ctx &c) {
			c.item = c.arg.test.access_pages.out_access_pages_id;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == EBUSY,
				 "pinned range unmapped");
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == 0, "item not there");
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "UNMAP fails after the item is gone");
		},
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "a pin was left behind by a failed ACCESS_PAGES");
		},
	},
	{
		"TEST/DESTROY_ACCESS_PAGES", "IOMMU_TEST_OP_DESTROY_ACCESS_PAGES", {},
		[](Ctx &c) {
			setup_access(c, NEEDS_PIN | HOLD);
			c.item = access_pages(c, c.access, IOVA_A, MAP_LEN, mem.A(), 0);
			c.arg.test = test_arg(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, c.access);
			c.arg.test.destroy_access_pages.access_pages_id = c.item;
		},
		call_test,
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "UNMAP fails after DESTROY_ACCESS_PAGES");
		},
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == EBUSY,
				 "pins gone after a failed DESTROY_ACCESS_PAGES");
		},
	},
	{
		// 64 KiB: kvzalloc() tries kmalloc, then vmalloc.
		"TEST/ACCESS_RW/write-64K", "IOMMU_TEST_OP_ACCESS_RW", {ENOMEM},
		[](Ctx &c) {
			setup_access(c, 0);
			for (uint64_t i = 0; i < RWBUF_LEN; i++)
				mem.rwbuf[i] = static_cast<uint8_t>(0x5a ^ (i * 13));
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_RW, c.access);
			c.arg.test.access_rw.iova = IOVA_A + 123;
			c.arg.test.access_rw.length = RWBUF_LEN;
			c.arg.test.access_rw.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
			c.arg.test.access_rw.flags = MOCK_ACCESS_RW_WRITE;
		},
		call_test,
		[](Ctx &) {
			FN_CHECK(memcmp(mem.A() + 123, mem.rwbuf, RWBUF_LEN) == 0,
				 "bytes did not land at IOVA + 123");
		},
		nullptr,
	},
	{
		"TEST/ACCESS_RW/read-slow-path", "IOMMU_TEST_OP_ACCESS_RW", {ENOMEM},
		[](Ctx &c) {
			setup_access(c, 0);
			memset(mem.rwbuf, 0xee, RWBUF_LEN);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_RW, c.access);
			c.arg.test.access_rw.iova = IOVA_A + PS - 10;
			c.arg.test.access_rw.length = 100;
			c.arg.test.access_rw.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
			c.arg.test.access_rw.flags = MOCK_ACCESS_RW_SLOW_PATH;
		},
		call_test,
		[](Ctx &) {
			FN_CHECK(memcmp(mem.A() + PS - 10, mem.rwbuf, 100) == 0,
				 "read returned other bytes");
		},
		nullptr,
	},
	{
		"TEST/SET_TEMP_MEMORY_LIMIT", "IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 0);
			c.arg.test.memory_limit.limit = 7;
		},
		call_test,
		[](Ctx &c) {
			// Batches of 7 pages still pin all 64.
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			FN_CHECK(refs(mem.A(), MAP_LEN) == 1, "not every page pinned");
		},
		nullptr,
	},
	{
		"TEST/ACCESS_REPLACE_IOAS", "IOMMU_TEST_OP_ACCESS_REPLACE_IOAS", {},
		[](Ctx &c) {
			setup_access(c, NEEDS_PIN);
			c.item = access_pages(c, c.access, IOVA_A, PS, nullptr, 0);
			c.ioas2 = ioas_alloc(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, c.access);
			c.arg.test.access_replace_ioas.ioas_id = c.ioas2;
		},
		call_test,
		[](Ctx &c) {
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == ENOENT,
				 "item survived the replace");
			FN_CHECK(destroy_raw(c, c.ioas2) == EBUSY, "new IOAS not in use");
			FN_CHECK(destroy_raw(c, c.ioas) == 0, "old IOAS still in use");
			c.ioas = 0;
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == EBUSY,
				 "old IOAS released by a failed replace");
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == 0,
				 "item lost by a failed replace");
		},
	},
	// ------------------------------------------------- extensions ---
	{
		"GET_INFO", "IOMMULAB_GET_INFO", {},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			c.arg.info = {};
			c.arg.info.size = sizeof(iommulab_info);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_GET_INFO, &c.arg.info); },
		[](Ctx &c) {
			FN_CHECK(c.arg.info.out_nr_objects == 1, "%u objects, not 1",
				 c.arg.info.out_nr_objects);
			FN_CHECK(c.arg.info.out_abi_version == IOMMULAB_ABI_VERSION,
				 "ABI version %u", c.arg.info.out_abi_version);
		},
		nullptr,
	},
	{
		"BENCH_PIN", "IOMMULAB_BENCH_PIN", {ENOMEM, EFAULT},
		[](Ctx &c) {
			open_fd(c);
			set_limit(c, 32);
			c.arg.bench_pin = {};
			c.arg.bench_pin.size = sizeof(iommulab_bench_pin);
			c.arg.bench_pin.flags = IOMMULAB_BENCH_PIN_WRITE;
			c.arg.bench_pin.uptr = reinterpret_cast<uintptr_t>(mem.A());
			c.arg.bench_pin.length = MAP_LEN;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_BENCH_PIN, &c.arg.bench_pin); },
		[](Ctx &) {
			FN_CHECK(refs(mem.A(), MAP_LEN) == 0, "pages left pinned");
		},
		nullptr,
	},
	// ------------------------------------ HWPT / devices / DMA ---
	// Errnos: ENOMEM where the call allocates (device and group structs,
	// HWPTs, domains and their page tables, object IDs); {} for checks,
	// detach, driver changes and DMA, which allocate nothing.
	{
		// Plug, bind and attach a device to an IOAS with mappings: the
		// automatic HWPT's domain is filled from the IOAS.
		"TEST/MOCK_DOMAIN", "IOMMU_TEST_OP_MOCK_DOMAIN", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.test = mock_domain_arg(IOMMU_TEST_OP_MOCK_DOMAIN, c.ioas, 0);
		},
		call_test,
		[](Ctx &c) {
			c.hwpt = c.arg.test.mock_domain.out_hwpt_id;
			c.idev = c.arg.test.mock_domain.out_idev_id;
			FN_CHECK(check_map_raw(c, c.hwpt, IOVA_A, mem.A(), MAP_LEN) == 0,
				 "domain does not map the IOAS");
			check_dma_reads(c, c.idev, IOVA_A + 8, mem.A() + 8, 100);
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed MOCK_DOMAIN");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		"TEST/MOCK_DOMAIN_FLAGS/4k-pasid", "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			c.arg.test = mock_domain_arg(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, c.ioas,
						     IOMMULAB_MOCK_DEV_4K | MOCK_FLAGS_DEVICE_PASID);
		},
		call_test,
		[](Ctx &c) {
			c.hwpt = c.arg.test.mock_domain_flags.out_hwpt_id;
			c.idev = c.arg.test.mock_domain_flags.out_idev_id;
			check_dma_reads(c, c.idev, IOVA_A + PS - 4, mem.A() + PS - 4, 64);
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed MOCK_DOMAIN_FLAGS");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// Replace IOAS 1 (A at IOVA_A) by IOAS 2 (B at IOVA_A).
		"TEST/MOCK_DOMAIN_REPLACE", "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.ioas2 = ioas_alloc(c);
			map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
			c.arg.test = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
			c.arg.test.mock_domain_replace.pt_id = c.ioas2;
		},
		call_test,
		[](Ctx &c) { check_dma_reads(c, c.idev, IOVA_A, mem.B(), 128); },
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
			FN_CHECK(destroy_raw(c, c.ioas2) == 0,
				 "new IOAS referenced after a failed replace");
			c.ioas2 = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		"TEST/MD_CHECK_MAP", "IOMMU_TEST_OP_MD_CHECK_MAP", {},
		[](Ctx &c) {
			setup_domain(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_MD_CHECK_MAP, c.hwpt);
			c.arg.test.check_map.iova = IOVA_A;
			c.arg.test.check_map.length = MAP_LEN;
			c.arg.test.check_map.uptr = reinterpret_cast<uintptr_t>(mem.A());
		},
		call_test,
		[](Ctx &) {},
		nullptr,
	},
	{
		"TEST/MD_CHECK_IOTLB", "IOMMU_TEST_OP_MD_CHECK_IOTLB", {},
		[](Ctx &c) {
			setup_nested(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_MD_CHECK_IOTLB, c.hwpt);
			c.arg.test.check_iotlb.id = 1;
			c.arg.test.check_iotlb.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
		},
		call_test,
		[](Ctx &) {},
		nullptr,
	},
	{
		"TEST/DEV_CHECK_CACHE", "IOMMU_TEST_OP_DEV_CHECK_CACHE", {},
		[](Ctx &c) {
			setup_domain(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_DEV_CHECK_CACHE, c.idev);
			c.arg.test.check_dev_cache.id = 0;
			c.arg.test.check_dev_cache.cache = IOMMU_TEST_DEV_CACHE_DEFAULT;
		},
		call_test,
		[](Ctx &) {},
		nullptr,
	},
	{
		"GET_HW_INFO", "IOMMU_GET_HW_INFO", {},
		[](Ctx &c) {
			setup_domain(c);
			memset(c.data, 0xa5, sizeof(c.data));
			c.arg.hw_info = {};
			c.arg.hw_info.size = sizeof(iommu_hw_info);
			c.arg.hw_info.dev_id = c.idev;
			c.arg.hw_info.data_len = 64;
			c.arg.hw_info.data_uptr = reinterpret_cast<uintptr_t>(c.data);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_GET_HW_INFO, &c.arg.hw_info); },
		[](Ctx &c) {
			uint32_t len = c.arg.hw_info.data_len;
			FN_CHECK(len > 0 && len <= 64, "record of %u bytes", len);
			for (uint32_t i = len; i < 64; i++)
				FN_CHECK(c.data[i] == 0, "byte %u past the record not zeroed", i);
		},
		nullptr,
	},
	{
		// A NEST_PARENT paging HWPT, filled from an IOAS with a mapping.
		"HWPT_ALLOC/paging", "IOMMU_HWPT_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.arg.hwpt_alloc = {};
			c.arg.hwpt_alloc.size = sizeof(iommu_hwpt_alloc);
			c.arg.hwpt_alloc.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
			c.arg.hwpt_alloc.dev_id = c.idev;
			c.arg.hwpt_alloc.pt_id = c.ioas;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc); },
		[](Ctx &c) {
			c.hwpt2 = c.arg.hwpt_alloc.out_hwpt_id;
			FN_CHECK(check_map_raw(c, c.hwpt2, IOVA_A, mem.A(), MAP_LEN) == 0,
				 "new HWPT does not map the IOAS");
		},
		[](Ctx &c) {
			// Nothing holds the IOAS but the attached device's HWPT.
			FN_CHECK(destroy_raw(c, c.stdev) == 0, "stdev not destroyable");
			c.stdev = 0;
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed HWPT_ALLOC");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		"HWPT_ALLOC/nested-selftest", "IOMMU_HWPT_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
			auto *d = reinterpret_cast<iommu_hwpt_selftest *>(c.data);
			d->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
			c.arg.hwpt_alloc = {};
			c.arg.hwpt_alloc.size = sizeof(iommu_hwpt_alloc);
			c.arg.hwpt_alloc.dev_id = c.idev;
			c.arg.hwpt_alloc.pt_id = c.hwpt2;
			c.arg.hwpt_alloc.data_type = IOMMU_HWPT_DATA_SELFTEST;
			c.arg.hwpt_alloc.data_len = sizeof(*d);
			c.arg.hwpt_alloc.data_uptr = reinterpret_cast<uintptr_t>(d);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc); },
		[](Ctx &c) {
			iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_MD_CHECK_IOTLB,
						      c.arg.hwpt_alloc.out_hwpt_id);
			cmd.check_iotlb.id = 0;
			cmd.check_iotlb.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
			FN_CHECK(c.fd->raw(IOMMU_TEST_CMD, &cmd) == 0, "nested IOTLB wrong");
			FN_CHECK(destroy_raw(c, c.hwpt2) == EBUSY, "parent not in use");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "parent still referenced after a failed nested HWPT_ALLOC");
			c.hwpt2 = 0;
		},
	},
	{
		"HWPT_ALLOC/nested-mock-s1", "IOMMU_HWPT_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
			auto *d = reinterpret_cast<iommulab_hwpt_mock_s1 *>(c.data);
			*d = {0, IOMMU_TEST_IOTLB_DEFAULT, 0};
			c.arg.hwpt_alloc = {};
			c.arg.hwpt_alloc.size = sizeof(iommu_hwpt_alloc);
			c.arg.hwpt_alloc.dev_id = c.idev;
			c.arg.hwpt_alloc.pt_id = c.hwpt2;
			c.arg.hwpt_alloc.data_type = IOMMULAB_HWPT_DATA_MOCK_S1;
			c.arg.hwpt_alloc.data_len = sizeof(*d);
			c.arg.hwpt_alloc.data_uptr = reinterpret_cast<uintptr_t>(d);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc); },
		[](Ctx &c) {
			FN_CHECK(attach_raw(c, c.idev, c.arg.hwpt_alloc.out_hwpt_id) == 0,
				 "attach to the nested HWPT fails");
			check_dma_reads(c, c.idev, IOVA_A + 16, mem.A() + 16, 64);
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "parent still referenced after a failed nested HWPT_ALLOC");
			c.hwpt2 = 0;
		},
	},
	{
		"HWPT_INVALIDATE", "IOMMU_HWPT_INVALIDATE", {},
		[](Ctx &c) {
			setup_nested(c);
			auto *e = reinterpret_cast<iommu_hwpt_invalidate_selftest *>(c.data);
			e[0] = {0, 1};
			e[1] = {IOMMU_TEST_INVALIDATE_FLAG_ALL, 0};
			c.arg.hwpt_invalidate = {};
			c.arg.hwpt_invalidate.size = sizeof(iommu_hwpt_invalidate);
			c.arg.hwpt_invalidate.hwpt_id = c.hwpt;
			c.arg.hwpt_invalidate.data_uptr = reinterpret_cast<uintptr_t>(e);
			c.arg.hwpt_invalidate.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
			c.arg.hwpt_invalidate.entry_len = sizeof(*e);
			c.arg.hwpt_invalidate.entry_num = 2;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_INVALIDATE, &c.arg.hwpt_invalidate); },
		[](Ctx &c) {
			FN_CHECK(c.arg.hwpt_invalidate.entry_num == 2, "%u entries handled",
				 c.arg.hwpt_invalidate.entry_num);
		},
		nullptr,
	},
	{
		"MOCK_GROUP_ALLOC", "IOMMULAB_MOCK_GROUP_ALLOC", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.arg.group_alloc = {};
			c.arg.group_alloc.size = sizeof(iommulab_mock_group_alloc);
			c.arg.group_alloc.nr_devices = 3;
			c.arg.group_alloc.dev_flags = MOCK_FLAGS_DEVICE_PASID;
			c.arg.group_alloc.devs_uptr = reinterpret_cast<uintptr_t>(c.data);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_MOCK_GROUP_ALLOC, &c.arg.group_alloc); },
		[](Ctx &c) {
			FN_CHECK(c.fd->info().nr_objects == 3, "not 3 stdevs");
			auto *d = reinterpret_cast<iommulab_mock_dev_info *>(c.data);
			bind(c, d[2].rid);
		},
		[](Ctx &c) {
			auto devs = mock_group_alloc(*c.fd, 3);
			bind(c, devs[1].rid);
		},
	},
	{
		// The first bind of a group: viability check, blocked domain.
		"DEVICE_BIND", "IOMMULAB_DEVICE_BIND", {ENOMEM},
		[](Ctx &c) {
			setup_group(c, 2);
			c.arg.bind = {};
			c.arg.bind.size = sizeof(iommulab_device_bind);
			c.arg.bind.rid = c.devs[0].rid;
			c.arg.bind.cookie = 77;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_BIND, &c.arg.bind); },
		[](Ctx &c) {
			uint32_t d = c.arg.bind.out_dev_id;
			uint8_t b[8];
			FN_CHECK(dma_raw(c, d, IOVA_A, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_BLOCKED,
				 "a bound, unattached device is not blocked");
		},
		[](Ctx &c) {
			// The group is not left owned or half-bound.
			iommulab_mock_set_driver sd = {sizeof(sd), c.devs[1].stdev_id, 1, 0};
			FN_CHECK(c.fd->raw(IOMMULAB_MOCK_SET_DRIVER, &sd) == 0,
				 "group still owned after a failed BIND");
			sd.bound = 0;
			FN_CHECK(c.fd->raw(IOMMULAB_MOCK_SET_DRIVER, &sd) == 0, "driver unbind");
			bind(c, c.devs[0].rid);
		},
	},
	{
		"DEVICE_ATTACH/ioas", "IOMMULAB_DEVICE_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_bound(c);
			c.arg.attach = {};
			c.arg.attach.size = sizeof(iommulab_device_attach);
			c.arg.attach.dev_id = c.idev;
			c.arg.attach.pt_id = c.ioas;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) { check_dma_reads(c, c.idev, IOVA_A + 3, mem.A() + 3, 200); },
		[](Ctx &c) {
			uint8_t b[8];
			FN_CHECK(dma_raw(c, c.idev, IOVA_A, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_BLOCKED,
				 "device not blocked after a failed ATTACH");
			FN_CHECK(attach_raw(c, c.idev, c.ioas) == 0, "ATTACH after a failed one");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 64);
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// Replace: IOAS 1 (A at IOVA_A) by IOAS 2 (B at IOVA_A); on failure
		// the old attachment stays.
		"DEVICE_ATTACH/replace", "IOMMULAB_DEVICE_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_bound(c);
			FN_CHECK(attach_raw(c, c.idev, c.ioas) == 0, "ATTACH");
			c.ioas2 = ioas_alloc(c);
			map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
			c.arg.attach = {};
			c.arg.attach.size = sizeof(iommulab_device_attach);
			c.arg.attach.dev_id = c.idev;
			c.arg.attach.pt_id = c.ioas2;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) { check_dma_reads(c, c.idev, IOVA_A, mem.B(), 64); },
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 64);
			FN_CHECK(destroy_raw(c, c.ioas2) == 0,
				 "new IOAS referenced after a failed replace");
			c.ioas2 = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		"DEVICE_DETACH", "IOMMULAB_DEVICE_DETACH", {},
		[](Ctx &c) {
			setup_bound(c);
			FN_CHECK(attach_raw(c, c.idev, c.ioas) == 0, "ATTACH");
			c.arg.detach = {sizeof(iommulab_device_detach), c.idev};
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_DETACH, &c.arg.detach); },
		[](Ctx &c) {
			uint8_t b[8];
			FN_CHECK(dma_raw(c, c.idev, IOVA_A, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_BLOCKED,
				 "detached device not blocked");
			FN_CHECK(destroy_raw(c, c.ioas) == 0, "IOAS still used after DETACH");
			c.ioas = 0;
		},
		nullptr,
	},
	{
		"MOCK_SET_DRIVER", "IOMMULAB_MOCK_SET_DRIVER", {},
		[](Ctx &c) {
			setup_group(c, 2);
			c.arg.set_driver = {sizeof(iommulab_mock_set_driver), c.devs[1].stdev_id, 1, 0};
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_MOCK_SET_DRIVER, &c.arg.set_driver); },
		[](Ctx &c) {
			iommulab_device_bind b{};
			b.size = sizeof(b);
			b.rid = c.devs[0].rid;
			FN_CHECK(c.fd->raw(IOMMULAB_DEVICE_BIND, &b) == EBUSY,
				 "group with a kernel driver still viable");
		},
		nullptr,
	},
	{
		// A device write of 8 KiB: on failure no byte of memory moved.
		"MOCK_DMA/write", "IOMMULAB_MOCK_DMA", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			for (uint64_t i = 0; i < 2 * PS; i++)
				mem.rwbuf[i] = static_cast<uint8_t>(0x33 + i * 5);
			c.arg.dma = {};
			c.arg.dma.size = sizeof(iommulab_mock_dma);
			c.arg.dma.flags = IOMMULAB_DMA_WRITE | IOMMULAB_DMA_DEV_ID;
			c.arg.dma.rid = c.idev;
			c.arg.dma.iova = IOVA_A + 100;
			c.arg.dma.length = 2 * PS;
			c.arg.dma.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_MOCK_DMA, &c.arg.dma); },
		[](Ctx &c) {
			FN_CHECK(c.arg.dma.out_fault_reason == IOMMULAB_DMA_FAULT_NONE &&
					 c.arg.dma.out_done == 2 * PS,
				 "DMA stopped after %llu bytes (fault %u)",
				 (unsigned long long)c.arg.dma.out_done, c.arg.dma.out_fault_reason);
			FN_CHECK(memcmp(mem.A() + 100, mem.rwbuf, 2 * PS) == 0,
				 "bytes did not land at IOVA + 100");
			// Put the pattern back for the next rows' checksums.
			for (uint64_t i = 100; i < 100 + 2 * PS; i++)
				mem.A()[i] = static_cast<uint8_t>(i * 7 + 3);
		},
		nullptr,
	},
	{
		// Unplug a device that is bound and attached.
		"DESTROY/attached-stdev", "IOMMU_DESTROY", {},
		[](Ctx &c) {
			setup_domain(c);
			c.arg.destroy = {sizeof(iommu_destroy), c.stdev};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_DESTROY, &c.arg.destroy); },
		[](Ctx &c) {
			c.stdev = 0;
			FN_CHECK(destroy_raw(c, c.ioas) == 0, "IOAS still used after the unplug");
			c.ioas = 0;
		},
		nullptr,
	},
	// ------------------------------- IOPTE tables: maps into domains ---
	// MAP, COPY and UNMAP of an IOAS with mock domains attached: each
	// domain allocates (order-0) IOPTE table pages for the new range, and a
	// failure in one domain must undo what the others (and the IOAS) took.
	{
		// B at IOVA_B, 32 MiB from A: new tables below the top level.
		"IOAS_MAP/with-domain", "IOMMU_IOAS_MAP", {ENOMEM, EFAULT},
		[](Ctx &c) {
			setup_domain(c);
			map_arg(c, c.ioas, mem.B(), MAP_LEN, IOVA_B, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			FN_CHECK(check_map_raw(c, c.hwpt, IOVA_B, mem.B(), MAP_LEN) == 0,
				 "domain does not map the new range");
			check_dma_reads(c, c.idev, IOVA_B + MAP_LEN - 64, mem.B() + MAP_LEN - 64,
					64);
		},
		[](Ctx &c) {
			uint8_t b[8];
			for (uint64_t off : {uint64_t(0), MAP_LEN / 2, MAP_LEN - 8})
				FN_CHECK(dma_raw(c, c.idev, IOVA_B + off, b, sizeof(b), false) ==
						 IOMMULAB_DMA_FAULT_NOT_MAPPED,
					 "IOPTE left at IOVA_B + %#llx after a failed MAP",
					 (unsigned long long)off);
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 256);
			uint64_t iova = IOVA_B;
			FN_CHECK(map_raw(c, c.ioas, mem.B(), MAP_LEN, &iova, RW | FIXED) == 0,
				 "re-MAP after a failed MAP");
			check_dma_reads(c, c.idev, IOVA_B, mem.B(), 256);
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// Two domains of different flavours (2 KiB and huge-IOVA IOPTEs):
		// a failure while filling the second undoes the first.
		"IOAS_MAP/with-two-domains", "IOMMU_IOAS_MAP", {ENOMEM, EFAULT},
		[](Ctx &c) {
			setup_domain(c, MOCK_FLAGS_DEVICE_HUGE_IOVA);
			const uint32_t idev1 = c.idev, hwpt1 = c.hwpt, stdev1 = c.stdev;
			mock_domain(c, c.ioas, 0);
			FN_CHECK(c.hwpt != hwpt1, "the two flavours share a domain");
			c.devs.push_back({stdev1, idev1});  // rid: the first's dev ID
			c.hwpt2 = hwpt1;
			map_arg(c, c.ioas, mem.B(), MAP_LEN, IOVA_B, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			for (uint32_t h : {c.hwpt, c.hwpt2})
				FN_CHECK(check_map_raw(c, h, IOVA_B, mem.B(), MAP_LEN) == 0,
					 "HWPT %u does not map the new range", h);
			for (uint32_t d : {c.idev, c.devs[0].rid})
				check_dma_reads(c, d, IOVA_B + 4 * PS, mem.B() + 4 * PS, 64);
		},
		[](Ctx &c) {
			uint8_t b[8];
			for (uint32_t d : {c.idev, c.devs[0].rid}) {
				FN_CHECK(dma_raw(c, d, IOVA_B, b, sizeof(b), false) ==
						 IOMMULAB_DMA_FAULT_NOT_MAPPED,
					 "device %u: IOPTE left after a failed MAP", d);
				FN_CHECK(dma_raw(c, d, IOVA_B + MAP_LEN - 8, b, sizeof(b), false) ==
						 IOMMULAB_DMA_FAULT_NOT_MAPPED,
					 "device %u: IOPTE left at the end after a failed MAP", d);
				check_dma_reads(c, d, IOVA_A, mem.A(), 128);
			}
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// COPY B from a second IOAS into the one with a domain.
		"IOAS_COPY/with-domain", "IOMMU_IOAS_COPY", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.ioas2 = ioas_alloc(c);
			map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
			c.arg.copy = {};
			c.arg.copy.size = sizeof(iommu_ioas_copy);
			c.arg.copy.flags = RW | FIXED;
			c.arg.copy.dst_ioas_id = c.ioas;
			c.arg.copy.src_ioas_id = c.ioas2;
			c.arg.copy.length = MAP_LEN;
			c.arg.copy.dst_iova = IOVA_B;
			c.arg.copy.src_iova = IOVA_A;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_COPY, &c.arg.copy); },
		[](Ctx &c) {
			FN_CHECK(refs(mem.B(), MAP_LEN) == 1, "copied pages pinned again");
			check_dma_reads(c, c.idev, IOVA_B + 100, mem.B() + 100, 200);
		},
		[](Ctx &c) {
			uint8_t b[8];
			FN_CHECK(dma_raw(c, c.idev, IOVA_B, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_NOT_MAPPED,
				 "IOPTE left after a failed COPY");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// UNMAP through a domain allocates nothing: any injected failure
		// must be absorbed, and the IOPTEs must be gone.
		"IOAS_UNMAP/with-domain", "IOMMU_IOAS_UNMAP", {},
		[](Ctx &c) {
			setup_domain(c);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_B);
			c.arg.unmap = {sizeof(iommu_ioas_unmap), c.ioas, IOVA_B, MAP_LEN};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_UNMAP, &c.arg.unmap); },
		[](Ctx &c) {
			uint8_t b[8];
			FN_CHECK(c.arg.unmap.length == MAP_LEN, "unmapped %llu bytes",
				 (unsigned long long)c.arg.unmap.length);
			FN_CHECK(dma_raw(c, c.idev, IOVA_B + PS, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_NOT_MAPPED,
				 "IOPTE left after UNMAP");
			FN_CHECK(refs(mem.B(), MAP_LEN) == 0, "pages still pinned");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		nullptr,
	},
	// Commands added later: their rows go here (see the recipe at the top
	// of this file).
	};
	return table;
}

} // namespace failnth
