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
// the test memory and of the memfd, VmPin/VmLck, open fds, mappings of the
// memfds, checksums of the test memory and of the memfd. (IOVA ranges are
// the allowed/reserved holes, not the areas: a row whose call maps
// something probes in on_failure that nothing was mapped.) The engine
// also records VmPin/VmLck after setup in c.vm_pin0/c.vm_lck0, so that
// on_success can check what a pin charged.
//
// Pinning is lazy (README, "How memory is pinned"): MAP, COPY and MAP_FILE
// into an IOAS without a domain pin nothing; the IOAS's first domain
// (MOCK_DOMAIN, DEVICE_ATTACH, HWPT_ALLOC, a replace onto it), a MAP, COPY
// or MAP_FILE into an IOAS that has a domain, and ACCESS_PAGES of a mapping
// nothing pinned yet pin the whole mapping (FOLL_LONGTERM, charged then);
// ACCESS_RW of unpinned memory pins the pages it touches for the copy only.
// A MAP_FILE range is pinned through a temporary mapping of the memfd in
// the caller (vm_mmap, GUP, vm_munmap).
//
// Errno rules (documented per row below):
//   ENOMEM  every call that allocates kernel memory, the pinning ones
//           included: GUP reports an allocation that fails while it
//           faults a page in (page tables, an anonymous or shmem page, a
//           page-cache entry) as ENOMEM (the fault returns VM_FAULT_OOM,
//           faultin_page() makes it -ENOMEM), and vm_mmap() (the VMA,
//           maple-tree nodes) fails with ENOMEM. Measured on the 6.1
//           debug kernel: every injected failure in GUP, vm_mmap and the
//           shmem fault path came back as ENOMEM or was absorbed.
//   EFAULT  not for an allocation failure: GUP gives it for a fault that
//           fails otherwise (VM_FAULT_SIGBUS/SIGSEGV: a hole, a truncated
//           memfd, a gone mm), which no row sets up. An injected failure
//           surfacing as EFAULT fails the row (the errno would lie).
//   EINTR   never: only a fatal signal gives it, never an allocation.
//   {}      calls that allocate nothing of their own (DESTROY, UNMAP,
//           IOVA_RANGES, OPTION, GET_INFO, MD_CHECK_REFS, ...): an
//           allocation failing inside them (an allocator's internal
//           bookkeeping) must not make them fail.
#include <cerrno>
#include <vector>
#include <memory>
#include <thread>
#include <atomic>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <poll.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

// c.arg.map_file: a MAP_FILE of [start, start + len) of @memfd at @iova.
void map_file_arg(Ctx &c, uint32_t ioas, int memfd, uint64_t start, uint64_t len,
		  uint64_t iova, uint32_t flags)
{
	c.arg.map_file = {};
	c.arg.map_file.size = sizeof(iommu_ioas_map_file);
	c.arg.map_file.flags = flags;
	c.arg.map_file.ioas_id = ioas;
	c.arg.map_file.fd = memfd;
	c.arg.map_file.start = start;
	c.arg.map_file.length = len;
	c.arg.map_file.iova = iova;
}

int call_map_file(Ctx &c)
{
	return c.fd->raw(IOMMU_IOAS_MAP_FILE, &c.arg.map_file);
}

// One region (MAP_LEN bytes, 64 pages) pinned is charged this much.
constexpr long MAP_KB = static_cast<long>(MAP_LEN >> 10);

// Since setup, the call charged @kb to VmPin (RLIMIT_MODE 0, per user) and
// nothing to VmLck; @what names the memory for the message.
void check_charged(Ctx &c, long kb, const char *what)
{
	long pin = vm_pin_kb() - c.vm_pin0, lck = vm_lck_kb() - c.vm_lck0;

	FN_CHECK(pin == kb && lck == 0, "%s: VmPin +%ld kB, VmLck +%ld kB (want +%ld, +0)",
		 what, pin, lck, kb);
}

// [p, p + len) has exactly @want long-term pins per page.
void check_refs_are(const void *p, uint64_t len, int want, const char *what)
{
	int r = refs(p, len);

	FN_CHECK(r == want, "%s: refs %d, not %d", what, r, want);
}

// Nothing is mapped at [iova, iova + len) of @ioas (UNMAP finds no area).
void check_unmapped(Ctx &c, uint32_t ioas, uint64_t iova, uint64_t len, const char *why)
{
	int err = unmap_raw(c, ioas, iova, len);

	FN_CHECK(err == ENOENT, "%s: UNMAP of [%#llx, +%#llx) gives %s, not ENOENT", why,
		 (unsigned long long)iova, (unsigned long long)len, errno_name(err).c_str());
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

// A PASID-capable mock device on IOAS 1 (A at IOVA_A) whose RID sits on a
// PASID-compatible HWPT of it (c.hwpt), and IOAS 2 (B at IOVA_A) with a
// PASID-compatible HWPT (c.hwpt2) for a PASID.
void setup_pasid(Ctx &c)
{
	setup_domain(c, MOCK_FLAGS_DEVICE_PASID);
	c.hwpt = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_PASID);
	iommu_test_cmd rep = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
	rep.mock_domain_replace.pt_id = c.hwpt;
	c.fd->call("MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, &rep);
	c.ioas2 = ioas_alloc(c);
	map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
	c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas2, IOMMU_HWPT_ALLOC_PASID);
}

constexpr uint32_t FN_PASID = 7;

// A PASID test op on PASID FN_PASID of c.stdev (pasid_attach, pasid_detach
// and pasid_check all start with the PASID, then the HWPT).
iommu_test_cmd pasid_arg(Ctx &c, uint32_t op, uint32_t pt_id)
{
	iommu_test_cmd cmd = test_arg(op, c.stdev);

	cmd.pasid_attach.pasid = FN_PASID;
	cmd.pasid_attach.pt_id = pt_id;
	return cmd;
}

// IOMMULAB_AUX_* of c.hwpt2 (B) on the device.
iommulab_aux aux_arg(Ctx &c)
{
	iommulab_aux cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = c.idev;
	cmd.hwpt_id = c.hwpt2;
	return cmd;
}

void pasid_call(Ctx &c, uint32_t op, uint32_t pt_id)
{
	iommu_test_cmd cmd = pasid_arg(c, op, pt_id);

	c.fd->call("PASID op", IOMMU_TEST_CMD, &cmd);
}

// After a failed PASID attach or replace: PASID FN_PASID still reads
// @had (NULL: faults), and c.hwpt2, the HWPT it was to get, is not held.
void check_pasid_unchanged(Ctx &c, const uint8_t *had);

// The device's DMA read with PASID FN_PASID lands on @expect, or (NULL)
// faults for want of a domain.
void check_pasid_reads(Ctx &c, const uint8_t *expect)
{
	uint8_t got[64];
	DmaResult r = dma_pasid(*c.fd, c.idev, FN_PASID, IOVA_A, got, sizeof(got),
				false);
	if (!expect) {
		FN_CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID,
			 "PASID DMA did not fault (%u)", r.fault_reason);
		return;
	}
	FN_CHECK(r.ok(), "PASID DMA faulted (%u)", r.fault_reason);
	FN_CHECK(memcmp(got, expect, sizeof(got)) == 0,
		 "PASID DMA read other bytes");
}

// An IOASID set of quota 4 for the fd (opened if need be; a token of this
// run's own), with @nr PASIDs allocated; returns its ID.
uint32_t set_setup(Ctx &c, uint32_t nr)
{
	iommulab_ioasid_set_alloc s{};

	if (!c.fd)
		open_fd(c);
	s.size = sizeof(s);
	s.flags = IOMMULAB_IOASID_SET_TOKEN_VALUE;
	s.quota = 4;
	s.token = 0xf417;
	c.fd->call("IOASID_SET_ALLOC", IOMMULAB_IOASID_SET_ALLOC, &s);
	for (uint32_t i = 0; i < nr; i++) {
		iommulab_ioasid a{};
		a.size = sizeof(a);
		a.op = IOMMULAB_IOASID_ALLOC;
		a.set_id = s.out_set_id;
		c.fd->call("IOASID(alloc)", IOMMULAB_IOASID, &a);
	}
	return s.out_set_id;
}

iommulab_ioasid ioasid_arg(uint32_t set, uint32_t op, uint32_t pasid,
			   uint32_t vpasid)
{
	iommulab_ioasid cmd{};

	cmd.size = sizeof(cmd);
	cmd.op = op;
	cmd.set_id = set;
	cmd.pasid = pasid;
	cmd.vpasid = vpasid;
	return cmd;
}

// How many more PASIDs the set @set takes before ENOSPC (at most 8).
uint32_t set_room(Ctx &c, uint32_t set)
{
	uint32_t n = 0;
	for (; n < 8; n++) {
		iommulab_ioasid a = ioasid_arg(set, IOMMULAB_IOASID_ALLOC, 0, 0);
		if (c.fd->raw(IOMMULAB_IOASID, &a))
			break;
	}
	return n;
}

void check_pasid_unchanged(Ctx &c, const uint8_t *had)
{
	check_pasid_reads(c, had);
	FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
		 "the HWPT is held after a failed PASID attach or replace");
	c.hwpt2 = 0;
}

// A mock device (c.stdev; PASID-capable when @pasid_parent) on IOAS 1 (A
// at IOVA_A) with one sub-device, bound to the fd (c.subdev); IOAS 2 (B
// at IOVA_A, no domain yet: its first one fills IOPTE tables); and an
// IOASID set of the fd (c.set, quota 4) for the PASIDs the kernel picks.
void setup_subdev(Ctx &c, bool pasid_parent)
{
	setup_domain(c, pasid_parent ? MOCK_FLAGS_DEVICE_PASID : 0);
	uint32_t path = 0xff;
	auto subs = mock_subdev_alloc(*c.fd, c.stdev, 1, &path);
	FN_CHECK(path == (pasid_parent ? IOMMULAB_SUBDEV_PATH_NONE :
					 IOMMULAB_SUBDEV_PATH_SW),
		 "sub-device path %u", path);
	c.devs = subs;
	c.subdev = bind(c, subs[0].rid);
	c.ioas2 = ioas_alloc(c);
	map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
	c.set = set_setup(c, 0);
}

iommulab_device_attach subdev_attach_arg(Ctx &c, uint32_t pt_id,
					 uint32_t flags)
{
	iommulab_device_attach cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dev_id = c.subdev;
	cmd.pt_id = pt_id;
	return cmd;
}

// What IOMMULAB_AUX_GET_DOMAIN says of c.subdev: 0 or the errno.
int get_domain_raw(Ctx &c, iommulab_aux_get_domain *out)
{
	*out = {};
	out->size = sizeof(*out);
	out->dev_id = c.subdev;
	return c.fd->raw(IOMMULAB_AUX_GET_DOMAIN, out);
}

// After a failed sub-device attach: no route (its DMA is blocked, GET_DOMAIN
// says ENOENT), and the same attach works now.
void check_subdev_unrouted(Ctx &c)
{
	uint8_t b[8];
	iommulab_aux_get_domain gd;
	FN_CHECK(dma_raw(c, c.subdev, IOVA_A, b, sizeof(b), false) ==
			 IOMMULAB_DMA_FAULT_BLOCKED,
		 "sub-device not blocked after a failed ATTACH");
	FN_CHECK(get_domain_raw(c, &gd) == ENOENT,
		 "sub-device routed after a failed ATTACH");
}

// ---- dirty tracking ----
// A mock device (setup_domain: the selftest flavour, 2 KiB IOPTEs) moved
// onto a dirty-tracking HWPT of its IOAS (c.hwpt2), tracking on when
// @track; its DMA (c.idev) now sets dirty bits there.
void setup_dirty(Ctx &c, bool track)
{
	setup_domain(c);
	c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	iommu_test_cmd rep = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
	rep.mock_domain_replace.pt_id = c.hwpt2;
	c.fd->call("MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, &rep);
	if (track)
		set_dirty_tracking(*c.fd, c.hwpt2, true);
}

// The device writes one byte into each PS page @pages of [iova, ...) of
// memory at @p, the byte that is there already: the memory (and the
// snapshot's checksums) stay the same, the IOPTEs get dirty.
void dirty_pages(Ctx &c, uint64_t iova, const uint8_t *p,
		 const std::vector<uint64_t> &pages)
{
	for (uint64_t pg : pages) {
		uint8_t b = p[pg * PS + 7];
		FN_CHECK(dma_raw(c, c.idev, iova + pg * PS + 7, &b, 1, true) ==
				 IOMMULAB_DMA_FAULT_NONE,
			 "DMA write of page %llu faulted", (unsigned long long)pg);
	}
}

// The bits GET_DIRTY_BITMAP of [iova, iova + len) of c.hwpt2 reports, in
// PS pages (NO_CLEAR unless @clear).
std::vector<uint64_t> dirty_bits(Ctx &c, uint64_t iova, uint64_t len, bool clear)
{
	DirtyBitmap bm(iova, len, PS);

	get_dirty_bitmap(*c.fd, c.hwpt2, bm, clear);
	return bm.set_bits();
}

// The bits of @n bytes of a user bitmap at @p.
std::vector<uint64_t> bits_at(const uint8_t *p, uint64_t nbits)
{
	std::vector<uint64_t> v;

	for (uint64_t i = 0; i < nbits; i++)
		if (p[i / 8] >> (i % 8) & 1)
			v.push_back(i);
	return v;
}

std::string bits_text(const std::vector<uint64_t> &v)
{
	std::string s;

	for (uint64_t b : v)
		s += strf("%s%llu", s.empty() ? "" : ",", (unsigned long long)b);
	return "{" + s + "}";
}

// The pages of A (and of B) the dirty rows write.
const std::vector<uint64_t> DIRTY_PAGES = {1, 5, 63};
// A user bitmap for MAP_LEN / PS = 64 bits (8 bytes) that straddles a
// page boundary of mem.rwbuf, 3 bytes before it: part of the snapshot's
// rwbuf checksum, so a failed call that wrote a byte of it is caught.
uint8_t *straddling_bitmap()
{
	return mem.rwbuf + PS - 3;
}

// setup_dirty(c, false), then c.ioas as the fd's VFIO container (type1v2)
// with its dirty pages started: c.hwpt2 tracks.
void setup_vfio_dirty(Ctx &c)
{
	setup_dirty(c, false);
	iommu_vfio_ioas set = {sizeof(set), 0, IOMMU_VFIO_IOAS_SET, 0};
	set.ioas_id = c.ioas;
	c.fd->call("VFIO_IOAS", IOMMU_VFIO_IOAS, &set);
	FN_CHECK(ioctl(c.fd->fd(), VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0,
		 "VFIO_SET_IOMMU");
	vfio_iommu_type1_dirty_bitmap start = {sizeof(start),
					       VFIO_IOMMU_DIRTY_PAGES_FLAG_START};
	c.fd->call("DIRTY_PAGES/start", VFIO_IOMMU_DIRTY_PAGES, &start);
}

// A type1 bitmap of MAP_LEN / PS bits (one u64) at straddling_bitmap().
vfio_bitmap vfio_straddling_bitmap()
{
	vfio_bitmap b = {};

	b.pgsize = PS;
	b.size = sizeof(uint64_t);
	b.data = reinterpret_cast<__u64 *>(straddling_bitmap());
	return b;
}

// In c.arg.vfio: GET_BITMAP of [iova, iova + MAP_LEN) into the straddling
// bitmap.
void vfio_get_bitmap_arg(Ctx &c, uint64_t iova)
{
	vfio_iommu_type1_dirty_bitmap head = {};
	vfio_iommu_type1_dirty_bitmap_get get = {};

	head.argsz = sizeof(head) + sizeof(get);
	head.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	get.iova = iova;
	get.size = MAP_LEN;
	get.bitmap = vfio_straddling_bitmap();
	memcpy(c.arg.vfio, &head, sizeof(head));
	memcpy(c.arg.vfio + sizeof(head), &get, sizeof(get));
}

void check_bits(const std::vector<uint64_t> &got, const std::vector<uint64_t> &want,
		const char *what)
{
	FN_CHECK(got == want, "%s: bits %s, want %s", what, bits_text(got).c_str(),
		 bits_text(want).c_str());
}

// 2 MiB of hugetlb memory (one physically contiguous page) at c.fmap,
// filled with a pattern, mapped at IOVA_B of a new IOAS with a 4 KiB
// flavour mock device: one 2 MiB IOPTE. c.hwpt is the device's HWPT.
constexpr uint64_t HUGE_LEN = 2 * MiB;
void setup_huge(Ctx &c)
{
	open_fd(c);
	void *p = mmap(nullptr, HUGE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	FN_CHECK(p != MAP_FAILED, "no 2 MiB hugetlb page: %s", strerror(errno));
	c.fmap = static_cast<uint8_t *>(p);
	c.fmap_len = HUGE_LEN;
	for (uint64_t i = 0; i < HUGE_LEN; i += 64)
		c.fmap[i] = static_cast<uint8_t>(i >> 6);
	c.ioas = ioas_alloc(c);
	map_fixed(c, c.ioas, c.fmap, HUGE_LEN, IOVA_B);
	mock_domain(c, c.ioas, IOMMULAB_MOCK_DEV_4K);
}

// The largest IOPTE a device read at IOVA_B + @off goes through (and that
// it reads the right bytes).
uint64_t iopte_at(Ctx &c, uint64_t off)
{
	uint8_t b = 0;
	DmaResult r = dma(*c.fd, c.idev, IOVA_B + off, &b, 1, false);

	FN_CHECK(r.ok(), "DMA read at IOVA_B + %#llx faulted (%u)",
		 (unsigned long long)off, r.fault_reason);
	FN_CHECK(b == c.fmap[off], "DMA read at IOVA_B + %#llx: other bytes",
		 (unsigned long long)off);
	return r.max_iopte;
}

iommulab_hwpt_iopte iopte_arg(uint32_t hwpt, uint64_t iova, uint64_t len,
			      uint64_t size)
{
	iommulab_hwpt_iopte cmd{};

	cmd.size = sizeof(cmd);
	cmd.hwpt_id = hwpt;
	cmd.iova = iova;
	cmd.length = len;
	cmd.iopte_size = size;
	return cmd;
}


// ---- I/O page faults (issue 13) ----

// A fault queue of c.fd: c.fault_id, c.fault_fd.
void fault_queue(Ctx &c)
{
	iommu_fault_alloc cmd = {sizeof(cmd), 0, 0, 0};

	c.fd->call("FAULT_QUEUE_ALLOC", IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	c.fault_id = cmd.out_fault_id;
	c.fault_fd = static_cast<int>(cmd.out_fault_fd);
}

// c.arg.hwpt_alloc: a paging HWPT of c.ioas for c.idev reporting to c.fault_id.
void fault_hwpt_arg(Ctx &c)
{
	c.arg.hwpt_alloc = {};
	c.arg.hwpt_alloc.size = sizeof(iommu_hwpt_alloc);
	c.arg.hwpt_alloc.flags = IOMMU_HWPT_FAULT_ID_VALID;
	c.arg.hwpt_alloc.dev_id = c.idev;
	c.arg.hwpt_alloc.pt_id = c.ioas;
	c.arg.hwpt_alloc.fault_id = c.fault_id;
}

// setup_domain(), a fault queue, and a paging HWPT with it (c.hwpt), the
// mock device not on it yet.
void setup_fault_hwpt(Ctx &c)
{
	setup_domain(c);
	fault_queue(c);
	fault_hwpt_arg(c);
	c.fd->call("HWPT_ALLOC(fault)", IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc);
	c.hwpt = c.arg.hwpt_alloc.out_hwpt_id;
}

iommu_test_cmd trigger_arg(Ctx &c, uint32_t grpid)
{
	iommu_test_cmd cmd = test_arg(IOMMU_TEST_OP_TRIGGER_IOPF, 0);

	cmd.trigger_iopf.dev_id = c.idev;
	cmd.trigger_iopf.grpid = grpid;
	cmd.trigger_iopf.perm = IOMMU_PGFAULT_PERM_READ;
	cmd.trigger_iopf.addr = IOVA_A;
	return cmd;
}

// The records pending on c.fault_fd (read at once, never waits).
std::vector<iommu_hwpt_pgfault> read_faults(Ctx &c)
{
	std::vector<iommu_hwpt_pgfault> r(8);
	ssize_t n = ::read(c.fault_fd, r.data(), r.size() * sizeof(r[0]));

	FN_CHECK(n >= 0, "read(fault fd): %s", strerror(errno));
	r.resize(static_cast<size_t>(n) / sizeof(r[0]));
	return r;
}

// A TRIGGER_IOPF of group @grpid reaches c.fault_fd (@want) or not; the
// record read is answered.
void check_trigger_reaches(Ctx &c, uint32_t grpid, bool want)
{
	iommu_test_cmd t = trigger_arg(c, grpid);

	c.fd->call("TRIGGER_IOPF", IOMMU_TEST_CMD, &t);
	auto recs = read_faults(c);
	FN_CHECK(recs.size() == (want ? 1u : 0u), "%zu faults queued, want %d", recs.size(),
		 want ? 1 : 0);
	if (!want)
		return;
	FN_CHECK(recs[0].grpid == grpid && recs[0].dev_id == c.idev &&
			 recs[0].addr == IOVA_A &&
			 recs[0].flags == IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		 "fault record: grpid %u dev %u addr %#llx flags %#x", recs[0].grpid,
		 recs[0].dev_id, (unsigned long long)recs[0].addr, recs[0].flags);
	iommu_hwpt_page_response resp = {recs[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS};
	FN_CHECK(::write(c.fault_fd, &resp, sizeof(resp)) == sizeof(resp),
		 "response: %s", strerror(errno));
}

// The page a PRI device's DMA faults on: its own memory (outside the
// snapshot's regions), pinned read-only at IOVA_B by setup.
struct PriPage {
	uint8_t *p = nullptr;
	PriPage()
	{
		void *m = mmap(nullptr, PS, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		FN_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
		p = static_cast<uint8_t *>(m);
		memset(p, 0x17, PS);
	}
	~PriPage() { munmap(p, PS); }
};

// A fault handler thread on c.fault_fd: each request is answered SUCCESS
// after the page is made writable (IOVA_B unmapped and mapped again RW:
// the pins and VmPin end as they were, so a failed call's snapshot
// matches). Stopped and joined before ~Ctx closes anything.
struct PriHandler {
	PriPage page;
	std::atomic<bool> stop{false};
	std::atomic<int> served{0};
	std::thread t;
	PriHandler(Ctx &c) : t([this, &c] { run(c); }) {}
	~PriHandler()
	{
		stop = true;
		t.join();
	}
	void run(Ctx &c)
	{
		while (!stop) {
			struct pollfd pf = {c.fault_fd, POLLIN, 0};
			if (poll(&pf, 1, 20) <= 0)
				continue;
			std::vector<iommu_hwpt_pgfault> r(8);
			ssize_t n = ::read(c.fault_fd, r.data(), r.size() * sizeof(r[0]));
			for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof(r[0])); i++) {
				iommu_ioas_unmap um = {sizeof(um), c.ioas, IOVA_B, PS};
				c.fd->raw(IOMMU_IOAS_UNMAP, &um);
				iommu_ioas_map m = {};
				m.size = sizeof(m);
				m.flags = RW | IOMMU_IOAS_MAP_FIXED_IOVA;
				m.ioas_id = c.ioas;
				m.user_va = reinterpret_cast<uintptr_t>(page.p);
				m.length = PS;
				m.iova = IOVA_B;
				c.fd->raw(IOMMU_IOAS_MAP, &m);
				iommu_hwpt_page_response resp = {r[i].cookie,
								 IOMMUFD_PAGE_RESP_SUCCESS};
				if (::write(c.fault_fd, &resp, sizeof(resp)) == sizeof(resp))
					served++;
			}
		}
	}
};
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
		"IOMMU_IOAS_MAP_FILE",
		"IOMMU_TEST_OP_PASID_ATTACH",
		"IOMMU_TEST_OP_PASID_REPLACE",
		"IOMMU_TEST_OP_PASID_DETACH",
		"IOMMU_TEST_OP_PASID_CHECK_HWPT",
		"IOMMULAB_DEVICE_PASID",
		"IOMMU_VIOMMU_ALLOC",
		"IOMMULAB_AUX_ATTACH",
		"IOMMULAB_AUX_DETACH",
		"IOMMULAB_AUX_GET_PASID",
		"IOMMULAB_IOASID_SET_ALLOC",
		"IOMMULAB_IOASID",
		"IOMMULAB_IOASID_SET_INFO",
		"IOMMULAB_MOCK_SUBDEV_ALLOC",
		"IOMMULAB_AUX_GET_DOMAIN",
		"IOMMU_HWPT_SET_DIRTY_TRACKING",
		"IOMMU_HWPT_GET_DIRTY_BITMAP",
		"IOMMULAB_MOCK_DMA_BURST",
		"IOMMULAB_IOAS_UNMAP_DIRTY",
		"IOMMULAB_HWPT_SPLIT",
		"IOMMULAB_HWPT_MERGE",
		"VFIO_IOMMU_DIRTY_PAGES",
		"VFIO_IOMMU_UNMAP_DMA",
		"IOMMU_FAULT_QUEUE_ALLOC",
		"IOMMU_TEST_OP_TRIGGER_IOPF",
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
		// An IOAS without a domain: MAP only remembers the range (lazy
		// pinning), so it allocates the source and the area, and pins
		// and charges nothing. ENOMEM only: no GUP runs.
		"IOAS_MAP/fixed", "IOMMU_IOAS_MAP", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_arg(c, c.ioas, mem.A(), MAP_LEN, IOVA_A, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			check_refs_are(mem.A(), MAP_LEN, 0, "MAP without a domain");
			check_charged(c, 0, "MAP without a domain");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN, &n) == 0 &&
					 n == MAP_LEN,
				 "mapping not there");
		},
		[](Ctx &c) {
			check_unmapped(c, c.ioas, IOVA_A, MAP_LEN, "after a failed MAP");
			uint64_t iova = IOVA_A;
			FN_CHECK(map_raw(c, c.ioas, mem.A(), MAP_LEN, &iova, RW | FIXED) == 0,
				 "re-MAP at the same IOVA fails after a failed MAP");
		},
	},
	{
		// Read-only, unaligned user pointer, IOVA chosen inside allowed
		// ranges around a reserved one, RLIMIT_MODE 1 (the mode is
		// remembered for the pin, which never comes here: no domain).
		// ENOMEM only, as IOAS_MAP/fixed.
		"IOAS_MAP/auto-iova-ro", "IOMMU_IOAS_MAP", {ENOMEM},
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
			check_refs_are(mem.A(), MAP_LEN, 0, "MAP without a domain");
			FN_CHECK(vm_lck_kb() == c.vm_lck0 && vm_pin_kb() == c.vm_pin0,
				 "MAP without a domain charged VmLck/VmPin");
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
		// Neither IOAS has a domain: the copy shares the source's
		// (unpinned) pages and pins nothing. ENOMEM only.
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
			check_refs_are(mem.A(), MAP_LEN, 0, "COPY between IOASes without domains");
			check_charged(c, 0, "COPY between IOASes without domains");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas2, IOVA_B, MAP_LEN - 2 * PS, &n) == 0,
				 "copy not mapped in the destination");
		},
		[](Ctx &c) {
			check_unmapped(c, c.ioas2, IOVA_B, MAP_LEN - 2 * PS, "after a failed COPY");
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
		// A's pages pinned once (by the domain of setup_domain).
		"TEST/MD_CHECK_REFS", "IOMMU_TEST_OP_MD_CHECK_REFS", {},
		[](Ctx &c) {
			setup_domain(c);
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
		// The IOAS has no domain, so the mapping is not pinned yet: the
		// access is its first pin user and pins (and charges) all 64
		// pages of it, in batches of 32; a failure leaves none pinned,
		// nothing charged (snapshot). ENOMEM (also from GUP).
		"TEST/ACCESS_PAGES/unpinned", "IOMMU_TEST_OP_ACCESS_PAGES", {ENOMEM},
		[](Ctx &c) {
			setup_access(c, NEEDS_PIN | HOLD);
			set_limit(c, 32);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_PAGES, c.access);
			c.arg.test.access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
			c.arg.test.access_pages.iova = IOVA_A + PS;
			c.arg.test.access_pages.length = MAP_LEN - 2 * PS;
			c.arg.test.access_pages.uptr = reinterpret_cast<uintptr_t>(mem.A() + PS);
		},
		call_test,
		[](Ctx &c) {
			c.item = c.arg.test.access_pages.out_access_pages_id;
			check_refs_are(mem.A(), MAP_LEN, 1, "the access's first pin");
			check_charged(c, MAP_KB, "the access's first pin");
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == EBUSY,
				 "pinned range unmapped");
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == 0, "item not there");
			check_refs_are(mem.A(), MAP_LEN, 0, "the last pin user gone");
			check_charged(c, 0, "the last pin user gone");
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "UNMAP fails after the item is gone");
		},
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "a pin was left behind by a failed ACCESS_PAGES");
		},
	},
	{
		// The IOAS has a domain: the mapping is pinned already and the
		// access shares those pins (no GUP, no charge). ENOMEM only:
		// the item, its page array, its ID.
		"TEST/ACCESS_PAGES/pinned", "IOMMU_TEST_OP_ACCESS_PAGES", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.access = create_access(c, c.ioas, NEEDS_PIN | HOLD);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_PAGES, c.access);
			c.arg.test.access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
			c.arg.test.access_pages.iova = IOVA_A;
			c.arg.test.access_pages.length = MAP_LEN;
			c.arg.test.access_pages.uptr = reinterpret_cast<uintptr_t>(mem.A());
		},
		call_test,
		[](Ctx &c) {
			c.item = c.arg.test.access_pages.out_access_pages_id;
			check_refs_are(mem.A(), MAP_LEN, 1, "domain and access share the pins");
			check_charged(c, 0, "an access of pinned memory");
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == EBUSY,
				 "pinned range unmapped");
		},
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "a pin was left behind by a failed ACCESS_PAGES");
			check_refs_are(mem.A(), MAP_LEN, 0, "unmapped");
		},
	},
	{
		// A MAP_FILE mapping nothing has pinned: the access pins the
		// whole mapping, through a temporary shared mapping of the memfd
		// in the caller (vm_mmap, then GUP, then vm_munmap), and the
		// uptr cross-check compares with the program's own mapping of
		// the memfd. ENOMEM (vm_mmap's VMA, page tables of the
		// temporary mapping, GUP, the page array, the item).
		"TEST/ACCESS_PAGES/memfd-unpinned", "IOMMU_TEST_OP_ACCESS_PAGES",
		{ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			uint64_t iova = IOVA_A;
			FN_CHECK(map_file_raw(c, c.ioas, mem.file_fd, 0, MAP_LEN, &iova,
					      RW | FIXED) == 0, "MAP_FILE");
			c.access = create_access(c, c.ioas, NEEDS_PIN | HOLD);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_PAGES, c.access);
			c.arg.test.access_pages.flags = MOCK_FLAGS_ACCESS_WRITE;
			c.arg.test.access_pages.iova = IOVA_A + PS;
			c.arg.test.access_pages.length = 4 * PS;
			c.arg.test.access_pages.uptr = reinterpret_cast<uintptr_t>(mem.file + PS);
		},
		call_test,
		[](Ctx &c) {
			c.item = c.arg.test.access_pages.out_access_pages_id;
			check_refs_are(mem.file, MAP_LEN, 1, "the memfd mapping, pinned whole");
			check_charged(c, MAP_KB, "the memfd mapping, pinned whole");
			FN_CHECK(destroy_item_raw(c, c.access, c.item) == 0, "item not there");
			check_refs_are(mem.file, MAP_LEN, 0, "the last pin user gone");
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
			// The item was the only pin user: the pages go unpinned.
			check_refs_are(mem.A(), MAP_LEN, 0, "after the last pin user");
			check_charged(c, -MAP_KB, "after the last pin user");
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == 0,
				 "UNMAP fails after DESTROY_ACCESS_PAGES");
		},
		[](Ctx &c) {
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A, MAP_LEN) == EBUSY,
				 "pins gone after a failed DESTROY_ACCESS_PAGES");
		},
	},
	{
		// 64 KiB: kvzalloc() tries kmalloc, then vmalloc. No domain, no
		// pinning access: the mapping is not pinned, so the copy pins
		// the 17 pages it touches (not long-term, not charged) and
		// unpins them after. ENOMEM (buffer, page array, GUP).
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
		[](Ctx &c) {
			FN_CHECK(memcmp(mem.A() + 123, mem.rwbuf, RWBUF_LEN) == 0,
				 "bytes did not land at IOVA + 123");
			check_refs_are(mem.A(), MAP_LEN, 0, "after a copy of unpinned memory");
			check_charged(c, 0, "a copy of unpinned memory");
		},
		nullptr,
	},
	{
		// Unpinned, as write-64K: 2 pages pinned for the copy.
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
			check_refs_are(mem.A(), MAP_LEN, 0, "after a copy of unpinned memory");
		},
		nullptr,
	},
	{
		// The IOAS has a domain: the copy goes through the long-term
		// pins, no GUP. ENOMEM only (the kernel buffer).
		"TEST/ACCESS_RW/read-pinned", "IOMMU_TEST_OP_ACCESS_RW", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.access = create_access(c, c.ioas, 0);
			memset(mem.rwbuf, 0xee, RWBUF_LEN);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_RW, c.access);
			c.arg.test.access_rw.iova = IOVA_A + 3 * PS + 5;
			c.arg.test.access_rw.length = 2 * PS;
			c.arg.test.access_rw.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
		},
		call_test,
		[](Ctx &c) {
			FN_CHECK(memcmp(mem.A() + 3 * PS + 5, mem.rwbuf, 2 * PS) == 0,
				 "read returned other bytes");
			check_refs_are(mem.A(), MAP_LEN, 1, "still pinned once, by the domain");
			check_charged(c, 0, "a copy of pinned memory");
		},
		nullptr,
	},
	{
		// A MAP_FILE mapping nothing has pinned: the copy maps the memfd
		// into the caller for the moment (vm_mmap), pins the 3 pages
		// it touches there, copies, unpins and unmaps. ENOMEM (buffer,
		// vm_mmap's VMA, page tables, page array, GUP).
		"TEST/ACCESS_RW/memfd-unpinned", "IOMMU_TEST_OP_ACCESS_RW", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			uint64_t iova = IOVA_A;
			FN_CHECK(map_file_raw(c, c.ioas, mem.file_fd, PS, MAP_LEN, &iova,
					      RW | FIXED) == 0, "MAP_FILE");
			c.access = create_access(c, c.ioas, 0);
			memset(mem.rwbuf, 0xee, RWBUF_LEN);
			c.arg.test = test_arg(IOMMU_TEST_OP_ACCESS_RW, c.access);
			c.arg.test.access_rw.iova = IOVA_A + PS + 77;
			c.arg.test.access_rw.length = 2 * PS;
			c.arg.test.access_rw.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
		},
		call_test,
		[](Ctx &c) {
			FN_CHECK(memcmp(mem.file + 2 * PS + 77, mem.rwbuf, 2 * PS) == 0,
				 "read returned other bytes than the memfd's");
			check_refs_are(mem.file, FILE_LEN, 0, "after a copy of unpinned memory");
			check_charged(c, 0, "a copy of unpinned memory");
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
			// Batches of 7 pages still pin all 64 (when the first
			// domain comes: MAP alone pins nothing).
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			mock_domain(c, c.ioas);
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
		// Pins and unpins at once (GUP: ENOMEM, see the top).
		"BENCH_PIN", "IOMMULAB_BENCH_PIN", {ENOMEM},
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
	{
		// A fault queue: its object and its fd, or neither.
		"FAULT_QUEUE_ALLOC", "IOMMU_FAULT_QUEUE_ALLOC", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.arg.fault_alloc = {sizeof(iommu_fault_alloc), 0, 0, 0};
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_FAULT_QUEUE_ALLOC, &c.arg.fault_alloc); },
		[](Ctx &c) {
			c.fault_fd = static_cast<int>(c.arg.fault_alloc.out_fault_fd);
			c.fault_id = c.arg.fault_alloc.out_fault_id;
			FN_CHECK((fcntl(c.fault_fd, F_GETFL) & O_ACCMODE) == O_RDWR,
				 "fault fd not O_RDWR");
			FN_CHECK(read_faults(c).empty(), "a new queue has faults");
			FN_CHECK(destroy_raw(c, c.fault_id) == EBUSY,
				 "queue destroyed while its fd is open");
		},
		nullptr,
	},
	{
		// A paging HWPT reporting to a fault queue.
		"HWPT_ALLOC/fault-id", "IOMMU_HWPT_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			fault_queue(c);
			fault_hwpt_arg(c);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc); },
		[](Ctx &c) {
			c.hwpt = c.arg.hwpt_alloc.out_hwpt_id;
			::close(c.fault_fd);
			c.fault_fd = -1;
			FN_CHECK(destroy_raw(c, c.fault_id) == EBUSY,
				 "queue destroyed while a HWPT reports to it");
			FN_CHECK(destroy_raw(c, c.hwpt) == 0, "new HWPT not destroyable");
			FN_CHECK(destroy_raw(c, c.fault_id) == 0, "queue still held");
		},
		[](Ctx &c) {
			::close(c.fault_fd);
			c.fault_fd = -1;
			FN_CHECK(destroy_raw(c, c.fault_id) == 0,
				 "queue held after a failed HWPT_ALLOC");
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// The mock device onto a HWPT with a fault queue (the attach
		// handle that routes its faults is allocated).
		"MOCK_DOMAIN_REPLACE/fault-hwpt", "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", {ENOMEM},
		[](Ctx &c) {
			setup_fault_hwpt(c);
			c.arg.test = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
			c.arg.test.mock_domain_replace.pt_id = c.hwpt;
		},
		call_test,
		[](Ctx &c) {
			check_trigger_reaches(c, 3, true);
			check_dma_reads(c, c.idev, IOVA_A + 8, mem.A() + 8, 64);
		},
		[](Ctx &c) {
			check_trigger_reaches(c, 4, false);
			check_dma_reads(c, c.idev, IOVA_A + 8, mem.A() + 8, 64);
			FN_CHECK(destroy_raw(c, c.hwpt) == 0, "HWPT attached after a failure");
		},
		false,
	},
	{
		"TEST/TRIGGER_IOPF", "IOMMU_TEST_OP_TRIGGER_IOPF", {ENOMEM},
		[](Ctx &c) {
			setup_fault_hwpt(c);
			iommu_test_cmd rep = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
			rep.mock_domain_replace.pt_id = c.hwpt;
			c.fd->call("MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, &rep);
			c.arg.test = trigger_arg(c, 7);
		},
		call_test,
		[](Ctx &c) {
			auto recs = read_faults(c);
			FN_CHECK(recs.size() == 1 && recs[0].grpid == 7,
				 "%zu faults queued", recs.size());
			iommu_hwpt_page_response resp = {recs[0].cookie, 0};
			FN_CHECK(::write(c.fault_fd, &resp, sizeof(resp)) == sizeof(resp),
				 "response: %s", strerror(errno));
		},
		[](Ctx &c) {
			FN_CHECK(read_faults(c).empty(), "a failed TRIGGER_IOPF queued a fault");
			check_trigger_reaches(c, 8, true);
		},
		false,
	},
	{
		// A PRI device's DMA write to a read-only page: a page request,
		// answered by a handler thread that makes the page writable; the
		// DMA retries and completes. On failure nothing waits on.
		"MOCK_DMA/pri-handler", "IOMMULAB_MOCK_DMA", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.devs = mock_group_alloc(*c.fd, 1, IOMMULAB_MOCK_DEV_PRI);
			c.idev = bind(c, c.devs[0].rid);
			c.ioas = ioas_alloc(c);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			fault_queue(c);
			fault_hwpt_arg(c);
			c.fd->call("HWPT_ALLOC(fault)", IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc);
			c.hwpt = c.arg.hwpt_alloc.out_hwpt_id;
			FN_CHECK(attach_raw(c, c.idev, c.hwpt) == 0, "attach");
			auto h = std::make_shared<PriHandler>(c);
			map_fixed(c, c.ioas, h->page.p, PS, IOVA_B, IOMMU_IOAS_MAP_READABLE);
			c.helper = h;
			for (uint64_t i = 0; i < 64; i++)
				mem.rwbuf[i] = static_cast<uint8_t>(0x5d + i);
			c.arg.dma = {};
			c.arg.dma.size = sizeof(iommulab_mock_dma);
			c.arg.dma.flags = IOMMULAB_DMA_WRITE | IOMMULAB_DMA_DEV_ID;
			c.arg.dma.rid = c.idev;
			c.arg.dma.iova = IOVA_B + 32;
			c.arg.dma.length = 64;
			c.arg.dma.uptr = reinterpret_cast<uintptr_t>(mem.rwbuf);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_MOCK_DMA, &c.arg.dma); },
		[](Ctx &c) {
			auto h = std::static_pointer_cast<PriHandler>(c.helper);
			FN_CHECK(c.arg.dma.out_fault_reason == IOMMULAB_DMA_FAULT_NONE &&
					 c.arg.dma.out_done == 64,
				 "DMA stopped after %llu bytes (fault %u)",
				 (unsigned long long)c.arg.dma.out_done, c.arg.dma.out_fault_reason);
			FN_CHECK(h->served == 1, "%d requests served, not 1", h->served.load());
			FN_CHECK(memcmp(h->page.p + 32, mem.rwbuf, 64) == 0,
				 "bytes did not land at IOVA_B + 32");
		},
		nullptr,
	},
	// Errnos: ENOMEM where the call allocates (device and group structs,
	// HWPTs, domains and their page tables, object IDs); {} for checks,
	// detach, driver changes and DMA, which allocate nothing. A call that
	// gives an IOAS its first domain (MOCK_DOMAIN, ATTACH, HWPT_ALLOC, a
	// replace onto another IOAS) pins every mapping of the IOAS (GUP:
	// ENOMEM too, see the top), and on failure none stays pinned or
	// charged.
	{
		// Plug, bind and attach a device to an IOAS with mappings: the
		// automatic HWPT's domain is filled from the IOAS, whose first
		// domain it is: A gets pinned.
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
			check_refs_are(mem.A(), MAP_LEN, 1, "the first domain");
			check_charged(c, MAP_KB, "the first domain");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed MOCK_DOMAIN");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// The first domain of an IOAS with four areas, in IOVA order:
		// A (RW), a COPY of A in the same IOAS (the same pages: a
		// second pin user of them), B (read-only: GUP's slow path, COW
		// broken first) and the memfd's first MAP_LEN bytes (MAP_FILE:
		// pinned through a temporary mapping). In batches of 32 pages.
		// All are pinned, 3 x 64 pages charged; a failure anywhere
		// (pinning the third area, or filling the domain after all are
		// pinned) leaves none pinned and nothing charged (snapshot:
		// pins.A/B/file, VmPin). ENOMEM (also from GUP, vm_mmap).
		"TEST/MOCK_DOMAIN/several-areas", "IOMMU_TEST_OP_MOCK_DOMAIN", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			set_limit(c, 32);
			map_fixed(c, c.ioas, mem.A(), MAP_LEN, IOVA_A);
			iommu_ioas_copy cp{};
			cp.size = sizeof(cp);
			cp.flags = RW | FIXED;
			cp.dst_ioas_id = c.ioas;
			cp.src_ioas_id = c.ioas;
			cp.length = MAP_LEN;
			cp.dst_iova = IOVA_A + 4 * MiB;
			cp.src_iova = IOVA_A;
			c.fd->call("IOMMU_IOAS_COPY", IOMMU_IOAS_COPY, &cp);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_B, RO);
			uint64_t iova = IOVA_B + 4 * MiB;
			FN_CHECK(map_file_raw(c, c.ioas, mem.file_fd, 0, MAP_LEN, &iova,
					      RW | FIXED) == 0, "MAP_FILE");
			c.arg.test = mock_domain_arg(IOMMU_TEST_OP_MOCK_DOMAIN, c.ioas, 0);
		},
		call_test,
		[](Ctx &c) {
			c.hwpt = c.arg.test.mock_domain.out_hwpt_id;
			c.idev = c.arg.test.mock_domain.out_idev_id;
			check_refs_are(mem.A(), MAP_LEN, 1, "A (two areas, one pin)");
			check_refs_are(mem.B(), MAP_LEN, 1, "B");
			check_refs_are(mem.file, MAP_LEN, 1, "the memfd");
			check_charged(c, 3 * MAP_KB, "the first domain of 4 areas");
			const struct {
				uint64_t iova;
				const uint8_t *p;
			} areas[] = {{IOVA_A, mem.A()}, {IOVA_A + 4 * MiB, mem.A()},
				     {IOVA_B, mem.B()}, {IOVA_B + 4 * MiB, mem.file}};
			for (auto &a : areas) {
				FN_CHECK(check_map_raw(c, c.hwpt, a.iova, a.p, MAP_LEN) == 0,
					 "domain does not map the area at %#llx",
					 (unsigned long long)a.iova);
				check_dma_reads(c, c.idev, a.iova + MAP_LEN - 100,
						a.p + MAP_LEN - 100, 100);
			}
		},
		[](Ctx &c) {
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, 0, UINT64_MAX, &n) == 0 && n == 4 * MAP_LEN,
				 "areas not intact after a failed MOCK_DOMAIN (%llu bytes)",
				 (unsigned long long)n);
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed MOCK_DOMAIN");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// The first domain of the IOAS, as TEST/MOCK_DOMAIN.
		"TEST/MOCK_DOMAIN_FLAGS/4k-pasid", "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS",
		{ENOMEM},
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
			check_refs_are(mem.A(), MAP_LEN, 1, "the first domain");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.ioas) == 0,
				 "IOAS still referenced after a failed MOCK_DOMAIN_FLAGS");
			c.ioas = 0;
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// Replace IOAS 1 (A at IOVA_A) by IOAS 2 (B at IOVA_A): IOAS 2
		// gets its first domain (B pinned), IOAS 1 loses its last (A
		// unpinned); on failure A stays pinned, B is not.
		"TEST/MOCK_DOMAIN_REPLACE", "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE",
		{ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.ioas2 = ioas_alloc(c);
			map_fixed(c, c.ioas2, mem.B(), MAP_LEN, IOVA_A);
			c.arg.test = test_arg(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, c.stdev);
			c.arg.test.mock_domain_replace.pt_id = c.ioas2;
		},
		call_test,
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_A, mem.B(), 128);
			check_refs_are(mem.B(), MAP_LEN, 1, "the new IOAS's first domain");
			check_refs_are(mem.A(), MAP_LEN, 0, "the old IOAS's last domain gone");
			check_charged(c, 0, "pinning B, unpinning A");
		},
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
		// A NEST_PARENT paging HWPT, filled from an IOAS with a mapping
		// and a domain already (A pinned: shared, no GUP). ENOMEM only.
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
			check_refs_are(mem.A(), MAP_LEN, 1, "two domains share the pins");
			check_charged(c, 0, "a second domain");
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
		// A paging HWPT from an IOAS with no domain yet (a bound device,
		// not attached): the HWPT's domain is the IOAS's first, A gets
		// pinned. ENOMEM (also from GUP).
		"HWPT_ALLOC/first-domain", "IOMMU_HWPT_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_bound(c);
			c.arg.hwpt_alloc = {};
			c.arg.hwpt_alloc.size = sizeof(iommu_hwpt_alloc);
			c.arg.hwpt_alloc.dev_id = c.idev;
			c.arg.hwpt_alloc.pt_id = c.ioas;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_HWPT_ALLOC, &c.arg.hwpt_alloc); },
		[](Ctx &c) {
			c.hwpt = c.arg.hwpt_alloc.out_hwpt_id;
			FN_CHECK(check_map_raw(c, c.hwpt, IOVA_A, mem.A(), MAP_LEN) == 0,
				 "new HWPT does not map the IOAS");
			check_refs_are(mem.A(), MAP_LEN, 1, "the first domain");
			check_charged(c, MAP_KB, "the first domain");
			FN_CHECK(attach_raw(c, c.idev, c.hwpt) == 0, "attach to the new HWPT");
			check_dma_reads(c, c.idev, IOVA_A + 40, mem.A() + 40, 64);
		},
		[](Ctx &c) {
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
		// The IOAS's first domain (an automatic HWPT): A gets pinned.
		"DEVICE_ATTACH/ioas", "IOMMULAB_DEVICE_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_bound(c);
			c.arg.attach = {};
			c.arg.attach.size = sizeof(iommulab_device_attach);
			c.arg.attach.dev_id = c.idev;
			c.arg.attach.pt_id = c.ioas;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_A + 3, mem.A() + 3, 200);
			check_refs_are(mem.A(), MAP_LEN, 1, "the first domain");
			check_charged(c, MAP_KB, "the first domain");
		},
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
		// the old attachment stays. IOAS 2's first domain pins B, IOAS
		// 1's last going unpins A.
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
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_A, mem.B(), 64);
			check_refs_are(mem.B(), MAP_LEN, 1, "the new IOAS's first domain");
			check_refs_are(mem.A(), MAP_LEN, 0, "the old IOAS's last domain gone");
		},
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
			// The automatic HWPT was the IOAS's only domain.
			check_refs_are(mem.A(), MAP_LEN, 0, "the last domain gone");
			check_charged(c, -MAP_KB, "the last domain gone");
			FN_CHECK(destroy_raw(c, c.ioas) == 0, "IOAS still used after DETACH");
			c.ioas = 0;
		},
		nullptr,
	},
	{
		"TEST/PASID_ATTACH", "IOMMU_TEST_OP_PASID_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			c.arg.test = pasid_arg(c, IOMMU_TEST_OP_PASID_ATTACH, c.hwpt2);
		},
		call_test,
		[](Ctx &c) {
			check_pasid_reads(c, mem.B());
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 64);
			FN_CHECK(destroy_raw(c, c.hwpt2) == EBUSY,
				 "attached HWPT destroyed");
		},
		[](Ctx &c) { check_pasid_unchanged(c, nullptr); },
		false,
	},
	{
		"TEST/PASID_REPLACE", "IOMMU_TEST_OP_PASID_REPLACE", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			pasid_call(c, IOMMU_TEST_OP_PASID_ATTACH, c.hwpt);
			c.arg.test = pasid_arg(c, IOMMU_TEST_OP_PASID_REPLACE, c.hwpt2);
		},
		call_test,
		[](Ctx &c) { check_pasid_reads(c, mem.B()); },
		[](Ctx &c) { check_pasid_unchanged(c, mem.A()); },
		false,
	},
	{
		"TEST/PASID_DETACH", "IOMMU_TEST_OP_PASID_DETACH", {},
		[](Ctx &c) {
			setup_pasid(c);
			pasid_call(c, IOMMU_TEST_OP_PASID_ATTACH, c.hwpt2);
			c.arg.test = pasid_arg(c, IOMMU_TEST_OP_PASID_DETACH, 0);
		},
		call_test,
		[](Ctx &c) {
			check_pasid_reads(c, nullptr);
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0, "HWPT held after detach");
			c.hwpt2 = 0;
		},
		nullptr,
	},
	{
		"TEST/PASID_CHECK_HWPT", "IOMMU_TEST_OP_PASID_CHECK_HWPT", {},
		[](Ctx &c) {
			setup_pasid(c);
			pasid_call(c, IOMMU_TEST_OP_PASID_ATTACH, c.hwpt2);
			c.arg.test = pasid_arg(c, IOMMU_TEST_OP_PASID_CHECK_HWPT, c.hwpt2);
		},
		call_test,
		[](Ctx &c) { check_pasid_reads(c, mem.B()); },
		nullptr,
	},
	{
		"DEVICE_PASID/attach", "IOMMULAB_DEVICE_PASID", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			c.arg.pasid = {};
			c.arg.pasid.size = sizeof(iommulab_device_pasid);
			c.arg.pasid.op = IOMMULAB_PASID_ATTACH;
			c.arg.pasid.dev_id = c.idev;
			c.arg.pasid.pasid = FN_PASID;
			c.arg.pasid.pt_id = c.hwpt2;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_PASID, &c.arg.pasid); },
		[](Ctx &c) { check_pasid_reads(c, mem.B()); },
		[](Ctx &c) { check_pasid_unchanged(c, nullptr); },
		false,
	},
	{
		"VIOMMU_ALLOC", "IOMMU_VIOMMU_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			c.hwpt2 = hwpt_alloc(c, c.idev, c.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
			c.arg.viommu = {};
			c.arg.viommu.size = sizeof(iommu_viommu_alloc);
			c.arg.viommu.type = IOMMU_VIOMMU_TYPE_SELFTEST;
			c.arg.viommu.dev_id = c.idev;
			c.arg.viommu.hwpt_id = c.hwpt2;
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_VIOMMU_ALLOC, &c.arg.viommu); },
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == EBUSY,
				 "parent of a vIOMMU destroyed");
			FN_CHECK(destroy_raw(c, c.arg.viommu.out_viommu_id) == 0,
				 "vIOMMU not destroyable");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "parent held after a failed VIOMMU_ALLOC");
			c.hwpt2 = 0;
		},
		false,
	},
	{
		// The aux path: the first aux attach of a domain takes a PASID
		// and a slot in the device's PASID table.
		"AUX_ATTACH", "IOMMULAB_AUX_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			c.arg.aux = aux_arg(c);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_AUX_ATTACH, &c.arg.aux); },
		[](Ctx &c) {
			uint8_t got[64];
			DmaResult r = dma_pasid(*c.fd, c.idev, c.arg.aux.out_pasid,
						IOVA_A, got, sizeof(got), false);
			FN_CHECK(r.ok() && memcmp(got, mem.B(), sizeof(got)) == 0,
				 "the aux PASID does not read B");
		},
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "the HWPT is held after a failed AUX_ATTACH");
			c.hwpt2 = 0;
		},
		false,
	},
	{
		// The same with a notification subscriber: an allocation that
		// fails while the events are built must not fail the call (the
		// event is counted as dropped), and a failed call sends none.
		"AUX_ATTACH/with-subscriber", "IOMMULAB_AUX_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			c.monitor = std::make_unique<Monitor>(Monitor::Mode::subscribe);
			c.dropped0 = Monitor::stats().dropped;
			c.arg.aux = aux_arg(c);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_AUX_ATTACH, &c.arg.aux); },
		[](Ctx &c) {
			uint8_t got[64];
			DmaResult r = dma_pasid(*c.fd, c.idev, c.arg.aux.out_pasid,
						IOVA_A, got, sizeof(got), false);
			FN_CHECK(r.ok() && memcmp(got, mem.B(), sizeof(got)) == 0,
				 "the aux PASID does not read B");
			// PASID_ALLOC and AUX_ATTACH: each received or dropped.
			uint64_t seen = 0;
			while (std::optional<Event> e = c.monitor->next(0)) {
				FN_CHECK(e->type == IOMMULAB_EVENT_PASID_ALLOC ||
						 e->type == IOMMULAB_EVENT_AUX_ATTACH,
					 "unexpected event %s", e->line().c_str());
				seen++;
			}
			uint64_t dropped = Monitor::stats().dropped - c.dropped0;
			FN_CHECK(seen + dropped == 2, "%llu events and %llu dropped, not 2",
				 (unsigned long long)seen, (unsigned long long)dropped);
		},
		[](Ctx &c) {
			std::optional<Event> e = c.monitor->next(0);
			FN_CHECK(!e, "a failed AUX_ATTACH sent %s", e ? e->line().c_str() : "");
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "the HWPT is held after a failed AUX_ATTACH");
			c.hwpt2 = 0;
		},
		false,
	},
	{
		"AUX_DETACH", "IOMMULAB_AUX_DETACH", {},
		[](Ctx &c) {
			setup_pasid(c);
			c.arg.aux = aux_arg(c);
			c.fd->call("AUX_ATTACH", IOMMULAB_AUX_ATTACH, &c.arg.aux);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_AUX_DETACH, &c.arg.aux); },
		[](Ctx &c) {
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "the HWPT is held after AUX_DETACH");
			c.hwpt2 = 0;
		},
		nullptr,
	},
	{
		"AUX_GET_PASID", "IOMMULAB_AUX_GET_PASID", {},
		[](Ctx &c) {
			setup_pasid(c);
			c.arg.aux = aux_arg(c);
			c.fd->call("AUX_ATTACH", IOMMULAB_AUX_ATTACH, &c.arg.aux);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_AUX_GET_PASID, &c.arg.aux); },
		nullptr,
		nullptr,
	},
	{
		// N sub-devices of a PASID-capable mock device: each a stdev
		// object, a handle, a busdev and a group of its own.
		"MOCK_SUBDEV_ALLOC", "IOMMULAB_MOCK_SUBDEV_ALLOC", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c, MOCK_FLAGS_DEVICE_PASID);
			c.arg.subdev_alloc = {};
			c.arg.subdev_alloc.size = sizeof(iommulab_mock_subdev_alloc);
			c.arg.subdev_alloc.parent_id = c.stdev;
			c.arg.subdev_alloc.nr_subdevs = 3;
			c.arg.subdev_alloc.subdevs_uptr =
				reinterpret_cast<uintptr_t>(c.data);
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMULAB_MOCK_SUBDEV_ALLOC, &c.arg.subdev_alloc);
		},
		[](Ctx &c) {
			FN_CHECK(c.arg.subdev_alloc.out_path == IOMMULAB_SUBDEV_PATH_NONE,
				 "path %u", c.arg.subdev_alloc.out_path);
			auto *d = reinterpret_cast<iommulab_mock_dev_info *>(c.data);
			for (int i = 0; i < 3; i++)
				FN_CHECK(d[i].rid >= 0x10000 && d[i].rid <= 0x1ffff,
					 "handle %#x", d[i].rid);
			c.subdev = bind(c, d[2].rid);
			uint8_t b[8];
			FN_CHECK(dma_raw(c, c.subdev, IOVA_A, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_BLOCKED,
				 "a new bound sub-device is not blocked");
			FN_CHECK(destroy_raw(c, c.stdev) == EBUSY,
				 "the parent can go while it has sub-devices");
		},
		[](Ctx &c) {
			// No half-made sub-device holds the parent: it can go.
			FN_CHECK(destroy_raw(c, c.stdev) == 0,
				 "a failed SUBDEV_ALLOC left the parent busy");
			c.stdev = 0;
		},
	},
	{
		// The PASID path on an IOAS: an automatic PASID-compatible
		// HWPT (IOAS 2's first domain), a PASID from the fd's set, the
		// parent's PASID table.
		"DEVICE_ATTACH/subdev-pasid", "IOMMULAB_DEVICE_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_subdev(c, true);
			c.arg.attach = subdev_attach_arg(c, c.ioas2,
							 IOMMULAB_ATTACH_SUBDEV_PASID);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) {
			check_dma_reads(c, c.subdev, IOVA_A + 5, mem.B() + 5, 100);
			iommulab_aux_get_domain gd;
			FN_CHECK(get_domain_raw(c, &gd) == 0 &&
					 gd.out_path == IOMMULAB_SUBDEV_PATH_PASID &&
					 gd.out_hwpt_id == c.arg.attach.out_hwpt_id &&
					 gd.out_pasid != 0,
				 "GET_DOMAIN after a PASID-path attach");
			FN_CHECK(set_room(c, c.set) == 3,
				 "the PASID is not the set's");
		},
		[](Ctx &c) {
			check_subdev_unrouted(c);
			FN_CHECK(set_room(c, c.set) == 4,
				 "a failed attach kept its PASID");
			FN_CHECK(destroy_raw(c, c.ioas2) == 0,
				 "IOAS 2 referenced after a failed ATTACH");
			c.ioas2 = 0;
		},
		true, // page_alloc: IOPTE tables of IOAS 2's first domain
	},
	{
		// The aux path on a HWPT: its default PASID from the fd's set.
		"DEVICE_ATTACH/subdev-aux", "IOMMULAB_DEVICE_ATTACH", {ENOMEM},
		[](Ctx &c) {
			setup_subdev(c, true);
			c.hwpt2 = hwpt_alloc(c, c.subdev, c.ioas2, 0);
			c.arg.attach = subdev_attach_arg(c, c.hwpt2,
							 IOMMULAB_ATTACH_SUBDEV_AUX);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) {
			check_dma_reads(c, c.subdev, IOVA_A + 9, mem.B() + 9, 100);
			iommulab_aux_get_domain gd;
			FN_CHECK(get_domain_raw(c, &gd) == 0 &&
					 gd.out_path == IOMMULAB_SUBDEV_PATH_AUX &&
					 gd.out_hwpt_id == c.hwpt2 && gd.out_pasid != 0,
				 "GET_DOMAIN after an aux-path attach");
			FN_CHECK(destroy_raw(c, c.hwpt2) == EBUSY,
				 "an aux-attached HWPT can be destroyed");
		},
		[](Ctx &c) {
			check_subdev_unrouted(c);
			FN_CHECK(set_room(c, c.set) == 4,
				 "a failed attach kept the default PASID");
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "the HWPT is held after a failed ATTACH");
			c.hwpt2 = 0;
		},
		false,
	},
	{
		// Software mediation: the IOAS itself, nothing to allocate.
		"DEVICE_ATTACH/subdev-sw", "IOMMULAB_DEVICE_ATTACH", {},
		[](Ctx &c) {
			setup_subdev(c, false);
			c.arg.attach = subdev_attach_arg(c, c.ioas2, 0);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_ATTACH, &c.arg.attach); },
		[](Ctx &c) {
			FN_CHECK(c.arg.attach.out_hwpt_id == 0, "HWPT %u for a sw sub-device",
				 c.arg.attach.out_hwpt_id);
			check_dma_reads(c, c.subdev, IOVA_A + 3, mem.B() + 3, 200);
			FN_CHECK(destroy_raw(c, c.ioas2) == EBUSY,
				 "the IOAS can go under a sw sub-device");
		},
		nullptr,
	},
	{
		"AUX_GET_DOMAIN", "IOMMULAB_AUX_GET_DOMAIN", {},
		[](Ctx &c) {
			setup_subdev(c, true);
			iommulab_device_attach at = subdev_attach_arg(
				c, c.ioas2, IOMMULAB_ATTACH_SUBDEV_PASID);
			c.fd->call("DEVICE_ATTACH", IOMMULAB_DEVICE_ATTACH, &at);
			c.hwpt2 = at.out_hwpt_id;
			c.arg.get_domain = {};
			c.arg.get_domain.size = sizeof(iommulab_aux_get_domain);
			c.arg.get_domain.dev_id = c.subdev;
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMULAB_AUX_GET_DOMAIN, &c.arg.get_domain);
		},
		[](Ctx &c) {
			FN_CHECK(c.arg.get_domain.out_path == IOMMULAB_SUBDEV_PATH_PASID &&
					 c.arg.get_domain.out_hwpt_id == c.hwpt2 &&
					 c.arg.get_domain.out_pasid != 0,
				 "GET_DOMAIN: path %u HWPT %u PASID %u",
				 c.arg.get_domain.out_path,
				 c.arg.get_domain.out_hwpt_id,
				 c.arg.get_domain.out_pasid);
			c.hwpt2 = 0; // automatic: not the row's to destroy
		},
		nullptr,
	},
	{
		"IOASID_SET_ALLOC", "IOMMULAB_IOASID_SET_ALLOC", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.arg.set_alloc = {};
			c.arg.set_alloc.size = sizeof(iommulab_ioasid_set_alloc);
			c.arg.set_alloc.quota = 2;
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMULAB_IOASID_SET_ALLOC, &c.arg.set_alloc);
		},
		[](Ctx &c) {
			FN_CHECK(set_room(c, c.arg.set_alloc.out_set_id) == 2,
				 "the new set does not hold its quota");
		},
		[](Ctx &c) {
			// The token (this process's mm) is not taken.
			FN_CHECK(c.fd->raw(IOMMULAB_IOASID_SET_ALLOC,
					   &c.arg.set_alloc) == 0,
				 "a failed SET_ALLOC kept the token");
		},
		false,
	},
	{
		"IOASID/alloc", "IOMMULAB_IOASID", {ENOMEM},
		[](Ctx &c) {
			c.arg.ioasid = ioasid_arg(set_setup(c, 1),
						  IOMMULAB_IOASID_ALLOC, 0, 0);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_IOASID, &c.arg.ioasid); },
		[](Ctx &c) {
			FN_CHECK(set_room(c, c.arg.ioasid.set_id) == 2,
				 "the quota is not 4 after two allocations");
		},
		[](Ctx &c) {
			FN_CHECK(set_room(c, c.arg.ioasid.set_id) == 3,
				 "a failed alloc took a place in the quota");
		},
		false,
	},
	{
		"IOASID/bind", "IOMMULAB_IOASID", {ENOMEM},
		[](Ctx &c) {
			const uint32_t set = set_setup(c, 0);
			iommulab_ioasid a = ioasid_arg(set, IOMMULAB_IOASID_ALLOC, 0, 0);
			c.fd->call("IOASID(alloc)", IOMMULAB_IOASID, &a);
			c.arg.ioasid = ioasid_arg(set, IOMMULAB_IOASID_BIND, a.pasid, 9);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_IOASID, &c.arg.ioasid); },
		[](Ctx &c) {
			iommulab_ioasid l = ioasid_arg(c.arg.ioasid.set_id,
						       IOMMULAB_IOASID_LOOKUP, 0, 9);
			FN_CHECK(c.fd->raw(IOMMULAB_IOASID, &l) == 0 &&
					 l.pasid == c.arg.ioasid.pasid,
				 "vPASID 9 does not look up its PASID");
		},
		[](Ctx &c) {
			iommulab_ioasid l = ioasid_arg(c.arg.ioasid.set_id,
						       IOMMULAB_IOASID_LOOKUP, 0, 9);
			FN_CHECK(c.fd->raw(IOMMULAB_IOASID, &l) == ENOENT,
				 "a failed bind left vPASID 9 bound");
		},
		false,
	},
	{
		"IOASID_SET_INFO", "IOMMULAB_IOASID_SET_INFO", {},
		[](Ctx &c) {
			c.arg.ioasid = ioasid_arg(set_setup(c, 2), 0, 0, 0);
		},
		[](Ctx &c) {
			iommulab_ioasid_set_info i{};
			i.size = sizeof(i);
			i.set_id = c.arg.ioasid.set_id;
			int err = c.fd->raw(IOMMULAB_IOASID_SET_INFO, &i);
			return err ? err : i.out_nr_pasids == 2 ? 0 : EIO;
		},
		nullptr,
		nullptr,
	},
	{
		// The kernel picks the PASID from the fd's set, then attaches.
		"DEVICE_PASID/alloc", "IOMMULAB_DEVICE_PASID", {ENOMEM},
		[](Ctx &c) {
			setup_pasid(c);
			c.set = set_setup(c, 0);
			c.arg.pasid = {};
			c.arg.pasid.size = sizeof(iommulab_device_pasid);
			c.arg.pasid.flags = IOMMULAB_DEVICE_PASID_ALLOC;
			c.arg.pasid.op = IOMMULAB_PASID_ATTACH;
			c.arg.pasid.dev_id = c.idev;
			c.arg.pasid.pt_id = c.hwpt2;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_DEVICE_PASID, &c.arg.pasid); },
		[](Ctx &c) {
			uint8_t got[64];
			DmaResult r = dma_pasid(*c.fd, c.idev, c.arg.pasid.pasid,
						IOVA_A, got, sizeof(got), false);
			FN_CHECK(r.ok() && memcmp(got, mem.B(), sizeof(got)) == 0,
				 "the picked PASID does not read B");
		},
		[](Ctx &c) {
			FN_CHECK(set_room(c, c.set) == 4,
				 "a failed attach kept its PASID");
			FN_CHECK(destroy_raw(c, c.hwpt2) == 0,
				 "the HWPT is held after a failed PASID attach");
			c.hwpt2 = 0;
		},
		false,
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
			check_refs_are(mem.A(), MAP_LEN, 0, "the last domain gone");
			check_charged(c, -MAP_KB, "the last domain gone");
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
		// The IOAS has a domain, so MAP pins B at once (64 pages in
		// batches of 32, as upstream's SET_TEMP_MEMORY_LIMIT tests) and
		// charges it; a failure leaves B unpinned, uncharged. ENOMEM
		// (also from GUP).
		"IOAS_MAP/with-domain", "IOMMU_IOAS_MAP", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			set_limit(c, 32);
			map_arg(c, c.ioas, mem.B(), MAP_LEN, IOVA_B, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			check_refs_are(mem.B(), MAP_LEN, 1, "MAP into an IOAS with a domain");
			check_charged(c, MAP_KB, "MAP into an IOAS with a domain");
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
		// Two domains of different flavours (the selftest one with
		// huge-IOVA IOPTEs, and iommulab's 4 KiB one): a failure while
		// filling the second undoes the first. B pinned once for both.
		// ENOMEM (also from GUP).
		"IOAS_MAP/with-two-domains", "IOMMU_IOAS_MAP", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c, MOCK_FLAGS_DEVICE_HUGE_IOVA);
			const uint32_t idev1 = c.idev, hwpt1 = c.hwpt, stdev1 = c.stdev;
			mock_domain(c, c.ioas, IOMMULAB_MOCK_DEV_4K);
			FN_CHECK(c.hwpt != hwpt1, "the two flavours share a domain");
			c.devs.push_back({stdev1, idev1});  // rid: the first's dev ID
			c.hwpt2 = hwpt1;
			map_arg(c, c.ioas, mem.B(), MAP_LEN, IOVA_B, RW | FIXED);
		},
		[](Ctx &c) { return c.fd->raw(IOMMU_IOAS_MAP, &c.arg.map); },
		[](Ctx &c) {
			check_refs_are(mem.B(), MAP_LEN, 1, "one pin for two domains");
			check_charged(c, MAP_KB, "one pin for two domains");
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
		// COPY B from a second IOAS (no domain: B not pinned yet) into
		// the one with a domain: the copy pins B (GUP) and charges it.
		// ENOMEM (also from GUP).
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
			check_refs_are(mem.B(), MAP_LEN, 1, "copied into an IOAS with a domain");
			check_charged(c, MAP_KB, "copied into an IOAS with a domain");
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
			check_charged(c, -MAP_KB, "the area's pin dropped");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		nullptr,
	},
	// ------------------------------------------ IOMMU_IOAS_MAP_FILE ---
	// A range of the memfd (mem.file_fd, mapped shared at mem.file for
	// the checks). On failure: nothing mapped (probed), the memfd's pages
	// not pinned, nothing charged, no temporary mapping of the memfd left
	// in the caller (snapshot: pins.file.*, VmPin, proc.memfd_mappings).
	{
		// No domain: the range is remembered (a reference on the file),
		// nothing pinned or mapped into the caller. Page-unaligned start
		// with an IOVA of the same page offset. ENOMEM only: no GUP, no
		// vm_mmap.
		"IOAS_MAP_FILE/no-domain", "IOMMU_IOAS_MAP_FILE", {ENOMEM},
		[](Ctx &c) {
			open_fd(c);
			c.ioas = ioas_alloc(c);
			map_file_arg(c, c.ioas, mem.file_fd, PS + 300, MAP_LEN - PS, IOVA_A + 300,
				     RW | FIXED);
		},
		call_map_file,
		[](Ctx &c) {
			check_refs_are(mem.file, FILE_LEN, 0, "MAP_FILE without a domain");
			check_charged(c, 0, "MAP_FILE without a domain");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_A + 300, MAP_LEN - PS, &n) == 0 &&
					 n == MAP_LEN - PS,
				 "mapping not there");
		},
		[](Ctx &c) {
			check_unmapped(c, c.ioas, IOVA_A, MAP_LEN, "after a failed MAP_FILE");
			uint64_t iova = IOVA_A + 300;
			FN_CHECK(map_file_raw(c, c.ioas, mem.file_fd, PS + 300, MAP_LEN - PS,
					      &iova, RW | FIXED) == 0,
				 "re-MAP_FILE at the same IOVA fails after a failed one");
		},
	},
	{
		// Into an IOAS with a domain: MAP_FILE pins the range at once,
		// through a temporary shared mapping of the memfd in the caller
		// (vm_mmap, GUP in batches of 32 pages, vm_munmap), charges it,
		// and fills the domain. ENOMEM (source, area, vm_mmap's VMA, page
		// tables of the temporary mapping, GUP, the page array, IOPTE
		// tables).
		"IOAS_MAP_FILE/with-domain", "IOMMU_IOAS_MAP_FILE", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			set_limit(c, 32);
			map_file_arg(c, c.ioas, mem.file_fd, MAP_LEN, MAP_LEN, IOVA_B, RW | FIXED);
		},
		call_map_file,
		[](Ctx &c) {
			check_refs_are(mem.file + MAP_LEN, MAP_LEN, 1, "MAP_FILE with a domain");
			check_refs_are(mem.file, MAP_LEN, 0, "the rest of the memfd");
			check_charged(c, MAP_KB, "MAP_FILE with a domain");
			FN_CHECK(check_map_raw(c, c.hwpt, IOVA_B, mem.file + MAP_LEN, MAP_LEN) == 0,
				 "domain does not map the memfd's pages");
			check_dma_reads(c, c.idev, IOVA_B + 5 * PS + 9, mem.file + MAP_LEN + 5 * PS + 9,
					200);
		},
		[](Ctx &c) {
			uint8_t b[8];
			for (uint64_t off : {uint64_t(0), MAP_LEN - 8})
				FN_CHECK(dma_raw(c, c.idev, IOVA_B + off, b, sizeof(b), false) ==
						 IOMMULAB_DMA_FAULT_NOT_MAPPED,
					 "IOPTE left at IOVA_B + %#llx after a failed MAP_FILE",
					 (unsigned long long)off);
			check_unmapped(c, c.ioas, IOVA_B, MAP_LEN, "after a failed MAP_FILE");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		true, // page_alloc: IOPTE tables
	},
	{
		// As with-domain, read-only, of a memfd of this run whose pages
		// do not exist yet: pinning faults them in (shmem page
		// allocations and their page-cache entries, under injection
		// too). ENOMEM (as with-domain, and shmem's page allocation:
		// GUP turns VM_FAULT_OOM into ENOMEM).
		"IOAS_MAP_FILE/with-domain-unpopulated", "IOMMU_IOAS_MAP_FILE", {ENOMEM},
		[](Ctx &c) {
			setup_domain(c);
			ctx_memfd(c, MAP_LEN);
			map_file_arg(c, c.ioas, c.memfd, 0, MAP_LEN, IOVA_B, RO | FIXED);
		},
		call_map_file,
		[](Ctx &c) {
			check_charged(c, MAP_KB, "MAP_FILE with a domain");
			map_ctx_memfd(c);
			check_refs_are(c.fmap, MAP_LEN, 1, "the run's memfd");
			FN_CHECK(check_map_raw(c, c.hwpt, IOVA_B, c.fmap, MAP_LEN) == 0,
				 "domain does not map the memfd's pages");
			c.fmap[MAP_LEN - 10] = 0x42;
			uint8_t b = 0;
			FN_CHECK(dma_raw(c, c.idev, IOVA_B + MAP_LEN - 10, &b, 1, false) ==
						 IOMMULAB_DMA_FAULT_NONE && b == 0x42,
				 "the device does not see the memfd's page");
		},
		[](Ctx &c) {
			check_unmapped(c, c.ioas, IOVA_B, MAP_LEN, "after a failed MAP_FILE");
			map_ctx_memfd(c);
			check_refs_are(c.fmap, MAP_LEN, 0, "the run's memfd after a failed MAP_FILE");
		},
		true, // page_alloc: IOPTE tables
	},
	// ------------------------------------------------- dirty tracking ---
	// The device (c.idev) on a dirty-tracking HWPT (c.hwpt2, setup_dirty)
	// writes pages of A by DMA; each row then checks the bits through
	// GET_DIRTY_BITMAP, which is what a failed call must have left alone.
	{
		// Start tracking: allocates nothing (the IOPTEs' dirty bits are
		// cleared and the IOTLB flushed in place), so it must succeed.
		// A write made before the start is not reported, one after is.
		"HWPT_SET_DIRTY_TRACKING/enable", "IOMMU_HWPT_SET_DIRTY_TRACKING", {},
		[](Ctx &c) {
			setup_dirty(c, false);
			dirty_pages(c, IOVA_A, mem.A(), {2});
			c.arg.set_dirty = {};
			c.arg.set_dirty.size = sizeof(iommu_hwpt_set_dirty_tracking);
			c.arg.set_dirty.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
			c.arg.set_dirty.hwpt_id = c.hwpt2;
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMU_HWPT_SET_DIRTY_TRACKING, &c.arg.set_dirty);
		},
		[](Ctx &c) {
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), {},
				   "right after the start");
			dirty_pages(c, IOVA_A, mem.A(), DIRTY_PAGES);
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), DIRTY_PAGES,
				   "writes after the start");
		},
		nullptr,
	},
	{
		// A harvest that clears: the user bitmap's page array and the
		// chunk buffer are allocated and the bitmap pinned before any
		// bit is read. ENOMEM; on failure the bitmap is untouched
		// (snapshot: rwbuf checksum) and every bit is still there.
		"HWPT_GET_DIRTY_BITMAP/clear", "IOMMU_HWPT_GET_DIRTY_BITMAP", {ENOMEM},
		[](Ctx &c) {
			setup_dirty(c, true);
			dirty_pages(c, IOVA_A, mem.A(), DIRTY_PAGES);
			memset(mem.rwbuf, 0, 2 * PS);
			c.arg.get_dirty = {};
			c.arg.get_dirty.size = sizeof(iommu_hwpt_get_dirty_bitmap);
			c.arg.get_dirty.hwpt_id = c.hwpt2;
			c.arg.get_dirty.iova = IOVA_A;
			c.arg.get_dirty.length = MAP_LEN;
			c.arg.get_dirty.page_size = PS;
			c.arg.get_dirty.data = reinterpret_cast<uintptr_t>(mem.rwbuf);
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMU_HWPT_GET_DIRTY_BITMAP, &c.arg.get_dirty);
		},
		[](Ctx &c) {
			check_bits(bits_at(mem.rwbuf, MAP_LEN / PS), DIRTY_PAGES, "the harvest");
			memset(mem.rwbuf, 0, 2 * PS);
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), {}, "after a clearing harvest");
			dirty_pages(c, IOVA_A, mem.A(), {7});
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), {7},
				   "a write after the harvest");
		},
		[](Ctx &c) {
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, false), DIRTY_PAGES,
				   "after a failed harvest (nothing cleared)");
		},
	},
	{
		// NO_CLEAR into a bitmap at an odd address that straddles a
		// page boundary (two pages pinned), 8 KiB per bit. ENOMEM; as
		// above, and nothing cleared either way.
		"HWPT_GET_DIRTY_BITMAP/no-clear-misaligned", "IOMMU_HWPT_GET_DIRTY_BITMAP",
		{ENOMEM},
		[](Ctx &c) {
			setup_dirty(c, true);
			dirty_pages(c, IOVA_A, mem.A(), DIRTY_PAGES);
			memset(straddling_bitmap(), 0, 16);
			c.arg.get_dirty = {};
			c.arg.get_dirty.size = sizeof(iommu_hwpt_get_dirty_bitmap);
			c.arg.get_dirty.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
			c.arg.get_dirty.hwpt_id = c.hwpt2;
			c.arg.get_dirty.iova = IOVA_A;
			c.arg.get_dirty.length = MAP_LEN;
			c.arg.get_dirty.page_size = PS;
			c.arg.get_dirty.data = reinterpret_cast<uintptr_t>(straddling_bitmap());
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMU_HWPT_GET_DIRTY_BITMAP, &c.arg.get_dirty);
		},
		[](Ctx &c) {
			check_bits(bits_at(straddling_bitmap(), MAP_LEN / PS), DIRTY_PAGES,
				   "the NO_CLEAR harvest");
			for (int i = 8; i < 16; i++)
				FN_CHECK(straddling_bitmap()[i] == 0,
					 "byte %d past the bitmap written", i);
			memset(straddling_bitmap(), 0, 16);
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, false), DIRTY_PAGES,
				   "NO_CLEAR cleared bits");
		},
		[](Ctx &c) {
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, false), DIRTY_PAGES,
				   "after a failed NO_CLEAR harvest");
		},
	},
	{
		// Read & unmap of B (mapped, so pinned and charged, since the
		// IOAS has domains), which the device dirtied. The bitmap is
		// pinned before anything is unmapped. ENOMEM; on failure B is
		// still mapped, pinned and charged (snapshot), the device still
		// reads it, its dirty bits are all still there, the bitmap is
		// untouched; on success B is gone, uncharged, and the bits are
		// in the bitmap.
		"IOAS_UNMAP_DIRTY", "IOMMULAB_IOAS_UNMAP_DIRTY", {ENOMEM},
		[](Ctx &c) {
			setup_dirty(c, true);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_B);
			dirty_pages(c, IOVA_B, mem.B(), DIRTY_PAGES);
			memset(straddling_bitmap(), 0, 16);
			c.arg.unmap_dirty = {};
			c.arg.unmap_dirty.size = sizeof(iommulab_ioas_unmap_dirty);
			c.arg.unmap_dirty.ioas_id = c.ioas;
			c.arg.unmap_dirty.iova = IOVA_B;
			c.arg.unmap_dirty.length = MAP_LEN;
			c.arg.unmap_dirty.page_size = PS;
			c.arg.unmap_dirty.data = reinterpret_cast<uintptr_t>(straddling_bitmap());
		},
		[](Ctx &c) {
			return c.fd->raw(IOMMULAB_IOAS_UNMAP_DIRTY, &c.arg.unmap_dirty);
		},
		[](Ctx &c) {
			check_bits(bits_at(straddling_bitmap(), MAP_LEN / PS), DIRTY_PAGES,
				   "read & unmap");
			FN_CHECK(c.arg.unmap_dirty.out_nr_dirty == DIRTY_PAGES.size(),
				 "out_nr_dirty %llu",
				 (unsigned long long)c.arg.unmap_dirty.out_nr_dirty);
			memset(straddling_bitmap(), 0, 16);
			check_refs_are(mem.B(), MAP_LEN, 0, "read & unmap");
			check_charged(c, -MAP_KB, "read & unmap");
			uint8_t b[8];
			FN_CHECK(dma_raw(c, c.idev, IOVA_B + PS, b, sizeof(b), false) ==
					 IOMMULAB_DMA_FAULT_NOT_MAPPED,
				 "IOPTE left after read & unmap");
			check_unmapped(c, c.ioas, IOVA_B, MAP_LEN, "after read & unmap");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_B + 5 * PS, mem.B() + 5 * PS, 64);
			check_bits(dirty_bits(c, IOVA_B, MAP_LEN, false), DIRTY_PAGES,
				   "after a failed read & unmap");
			uint64_t n = 0;
			FN_CHECK(unmap_raw(c, c.ioas, IOVA_B, MAP_LEN, &n) == 0 && n == MAP_LEN,
				 "B not mapped whole after a failed read & unmap");
		},
	},
	{
		// The VFIO container's GET_BITMAP of A, which the device
		// dirtied through the tracking HWPT: the bitmap is pinned
		// before a bit is read. ENOMEM; on failure every bit is still
		// there (NO_CLEAR through the HWPT) and the bitmap untouched
		// (snapshot); on success the bits are in the bitmap and
		// cleared.
		"DIRTY_PAGES/get_bitmap", "VFIO_IOMMU_DIRTY_PAGES", {ENOMEM},
		[](Ctx &c) {
			setup_vfio_dirty(c);
			dirty_pages(c, IOVA_A, mem.A(), DIRTY_PAGES);
			memset(straddling_bitmap(), 0, 16);
			vfio_get_bitmap_arg(c, IOVA_A);
		},
		[](Ctx &c) { return c.fd->raw(VFIO_IOMMU_DIRTY_PAGES, c.arg.vfio); },
		[](Ctx &c) {
			check_bits(bits_at(straddling_bitmap(), MAP_LEN / PS), DIRTY_PAGES,
				   "VFIO GET_BITMAP");
			for (int i = 8; i < 16; i++)
				FN_CHECK(straddling_bitmap()[i] == 0,
					 "byte %d past the bitmap written", i);
			memset(straddling_bitmap(), 0, 16);
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, false), {},
				   "VFIO GET_BITMAP did not clear");
		},
		[](Ctx &c) {
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, false), DIRTY_PAGES,
				   "after a failed VFIO GET_BITMAP");
		},
	},
	{
		// The VFIO container's read & unmap of B (UNMAP_DMA with
		// GET_DIRTY_BITMAP). ENOMEM; on failure B is still mapped,
		// pinned and charged (snapshot) with all its dirty bits; on
		// success B is gone and uncharged, its bits in the bitmap.
		"UNMAP_DMA/dirty", "VFIO_IOMMU_UNMAP_DMA", {ENOMEM},
		[](Ctx &c) {
			setup_vfio_dirty(c);
			map_fixed(c, c.ioas, mem.B(), MAP_LEN, IOVA_B);
			dirty_pages(c, IOVA_B, mem.B(), DIRTY_PAGES);
			memset(straddling_bitmap(), 0, 16);
			vfio_iommu_type1_dma_unmap head = {};
			vfio_bitmap b = vfio_straddling_bitmap();
			head.argsz = sizeof(head) + sizeof(b);
			head.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
			head.iova = IOVA_B;
			head.size = MAP_LEN;
			memcpy(c.arg.vfio, &head, sizeof(head));
			memcpy(c.arg.vfio + sizeof(head), &b, sizeof(b));
		},
		[](Ctx &c) { return c.fd->raw(VFIO_IOMMU_UNMAP_DMA, c.arg.vfio); },
		[](Ctx &c) {
			vfio_iommu_type1_dma_unmap head;
			memcpy(&head, c.arg.vfio, sizeof(head));
			FN_CHECK(head.size == MAP_LEN, "unmapped %llu",
				 (unsigned long long)head.size);
			check_bits(bits_at(straddling_bitmap(), MAP_LEN / PS), DIRTY_PAGES,
				   "VFIO read & unmap");
			memset(straddling_bitmap(), 0, 16);
			check_refs_are(mem.B(), MAP_LEN, 0, "VFIO read & unmap");
			check_charged(c, -MAP_KB, "VFIO read & unmap");
			check_unmapped(c, c.ioas, IOVA_B, MAP_LEN, "after VFIO read & unmap");
			check_dma_reads(c, c.idev, IOVA_A, mem.A(), 128);
		},
		[](Ctx &c) {
			check_dma_reads(c, c.idev, IOVA_B + 5 * PS, mem.B() + 5 * PS, 64);
			check_bits(dirty_bits(c, IOVA_B, MAP_LEN, false), DIRTY_PAGES,
				   "after a failed VFIO read & unmap");
		},
	},
	{
		// 16 one-page writes (of the bytes already there) through the
		// tracking HWPT: the data buffer and the IOVA array are
		// allocated before the first request. ENOMEM; on failure no
		// request was made (no dirty bit); on success each page is.
		"MOCK_DMA_BURST/write", "IOMMULAB_MOCK_DMA_BURST", {ENOMEM},
		[](Ctx &c) {
			setup_dirty(c, true);
			auto *iovas = reinterpret_cast<uint64_t *>(c.data);
			for (unsigned i = 0; i < 16; i++)
				iovas[i] = IOVA_A + (4 * i + 1) * PS;
			// Each request writes 1 byte of value 0x55: make it the
			// byte already at each target, so memory stays the same.
			for (unsigned i = 0; i < 16; i++)
				mem.A()[(4 * i + 1) * PS] = 0x55;
			c.arg.burst = {};
			c.arg.burst.size = sizeof(iommulab_mock_dma_burst);
			c.arg.burst.flags = IOMMULAB_DMA_WRITE | IOMMULAB_DMA_DEV_ID;
			c.arg.burst.rid = c.idev;
			c.arg.burst.iovas_uptr = reinterpret_cast<uintptr_t>(c.data);
			c.arg.burst.nr = 16;
			c.arg.burst.length = 1;
			c.arg.burst.value = 0x55;
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_MOCK_DMA_BURST, &c.arg.burst); },
		[](Ctx &c) {
			FN_CHECK(c.arg.burst.out_done == 16 && c.arg.burst.out_fault_reason == 0,
				 "burst: %u done, fault %u", c.arg.burst.out_done,
				 c.arg.burst.out_fault_reason);
			std::vector<uint64_t> want;
			for (uint64_t i = 0; i < 16; i++)
				want.push_back(4 * i + 1);
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), want, "the burst's pages");
			for (unsigned i = 0; i < 16; i++) {
				uint64_t o = (4 * i + 1) * PS;
				mem.A()[o] = static_cast<uint8_t>(o * 7 + 3);
			}
		},
		[](Ctx &c) {
			check_bits(dirty_bits(c, IOVA_A, MAP_LEN, true), {},
				   "a failed burst wrote");
			for (unsigned i = 0; i < 16; i++) {
				uint64_t o = (4 * i + 1) * PS;
				mem.A()[o] = static_cast<uint8_t>(o * 7 + 3);
			}
		},
	},
	{
		// Split one 2 MiB IOPTE (hugetlb memory) into 512 of 4 KiB: one
		// IOPTE table page, allocated before anything changes. ENOMEM;
		// on failure the translation still goes through the 2 MiB
		// IOPTE; on success through 4 KiB ones, the same bytes.
		"HWPT_SPLIT", "IOMMULAB_HWPT_SPLIT", {ENOMEM},
		[](Ctx &c) {
			// No DMA here: its IOTLB entry of the 2 MiB IOPTE would
			// still serve reads after the split (the same
			// translation), hiding the new IOPTEs from max_iopte.
			setup_huge(c);
			c.arg.iopte = iopte_arg(c.hwpt, IOVA_B, HUGE_LEN, PS);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_HWPT_SPLIT, &c.arg.iopte); },
		[](Ctx &c) {
			FN_CHECK(c.arg.iopte.out_iopte_before == 1 &&
					 c.arg.iopte.out_iopte_after == HUGE_LEN / PS,
				 "split: %llu IOPTEs before, %llu after",
				 (unsigned long long)c.arg.iopte.out_iopte_before,
				 (unsigned long long)c.arg.iopte.out_iopte_after);
			for (uint64_t off : {PS + 1, HUGE_LEN / 2, HUGE_LEN - 1})
				FN_CHECK(iopte_at(c, off) == PS, "not split at %#llx",
					 (unsigned long long)off);
		},
		[](Ctx &c) {
			// Also run on the untouched setup: proves the IOPTE is
			// 2 MiB to begin with.
			FN_CHECK(iopte_at(c, HUGE_LEN - 1) == HUGE_LEN,
				 "not one 2 MiB IOPTE (after a failed split?)");
		},
		true, // page_alloc: the IOPTE table
	},
	{
		// Merge them back: frees a table, allocates nothing; must
		// succeed whatever fails inside.
		"HWPT_MERGE", "IOMMULAB_HWPT_MERGE", {},
		[](Ctx &c) {
			setup_huge(c);
			hwpt_reshape(*c.fd, c.hwpt, IOVA_B, HUGE_LEN, PS);
			FN_CHECK(iopte_at(c, PS) == PS, "setup: not split");
			c.arg.iopte = iopte_arg(c.hwpt, IOVA_B, HUGE_LEN, 0);
		},
		[](Ctx &c) { return c.fd->raw(IOMMULAB_HWPT_MERGE, &c.arg.iopte); },
		[](Ctx &c) {
			FN_CHECK(c.arg.iopte.out_iopte_before == HUGE_LEN / PS &&
					 c.arg.iopte.out_iopte_after == 1,
				 "merge: %llu IOPTEs before, %llu after",
				 (unsigned long long)c.arg.iopte.out_iopte_before,
				 (unsigned long long)c.arg.iopte.out_iopte_after);
			FN_CHECK(iopte_at(c, HUGE_LEN / 2 + 3) == HUGE_LEN, "not merged");
		},
		nullptr,
	},
	// Commands added later: their rows go here (see the recipe at the top
	// of this file).
	};
	return table;
}

} // namespace failnth
