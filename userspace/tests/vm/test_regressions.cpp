// SPDX-License-Identifier: GPL-2.0
// Regressions: one minimal reproducer per module bug that the reliability
// lane (fail-nth sweep, fuzzer, debug kernel) found. Each test asserts the
// correct behaviour, so it fails while the bug is there. Test names start
// with "regression:"; `VM_ARGS='-tc="regression:*"'` runs only these.
//
// Some bugs show only as a kernel warning, not as a wrong result; those
// tests also read the kernel log (/dev/kmsg) written during their call and
// fail on a WARNING/BUG line in it (KernelLog, kernel_log.hpp: it looks only
// at what was logged after it was made, and re-arms WARN_ON_ONCE first, so
// a warning an earlier test triggered in the same boot fires again).
//
// A reproducer of a bug that crashes or corrupts the kernel is marked
// doctest::skip() while the bug is open (it would take the whole VM run
// down with it); run it on purpose with
// `VM_ARGS='-tc="regression:*" --no-skip'`. Below, "Bug:" comments name
// where each bug was; all of them are fixed (commit 94c67de).
#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "harness.hpp"
#include "kernel_log.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t NEEDS_PIN = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;

// Pages holding 0x5a.
struct Mem : BasePages {
	explicit Mem(size_t n) : BasePages(n, 0x5a) {}
};

iommu_test_cmd access_cmd(uint32_t op, const Access &acc)
{
	return test_cmd(op, static_cast<uint32_t>(acc.fd()));
}

} // namespace

// Bug: kmod/io_pagetable.c, iolab_iopt_unmap(): it tells the accesses about
// the range as notify(arg, start, last - start + 1); for the unmap-all range
// [0, ULONG_MAX] that length wraps to 0, so iolab_staccess_unmap() drops no
// item, the pins stay, and IOMMU_IOAS_UNMAP(iova 0, length U64_MAX) fails
// with EBUSY although the access would have let go (upstream: succeeds).
TEST_CASE("regression: UNMAP of everything makes accesses drop their pins")
{
	Iommufd fd;
	Ioas ioas(fd);
	Mem buf(4 * PS);

	uint64_t iova = ioas.map(buf.p, 4 * PS, RW);
	Access acc(ioas, NEEDS_PIN);
	uint32_t item = acc.pin(iova + PS, PS, nullptr, false);

	iommu_ioas_unmap cmd{};
	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas.id();
	cmd.iova = 0;
	cmd.length = UINT64_MAX;
	CHECK(fd.raw(IOMMU_IOAS_UNMAP, &cmd) == 0);
	CHECK(cmd.length == 4 * PS);
	CHECK(check_refs(fd, buf.p, 4 * PS, 0) == 0);

	auto d = access_cmd(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, acc);
	d.destroy_access_pages.access_pages_id = item;
	CHECK(fd.raw(IOMMU_TEST_CMD, &d) == ENOENT);
}

// Bug (crashes the kernel): kmod/io_pagetable.c, iolab_pin_piece(): the
// loop "while (w->next_out_iova <= last)" advances next_out_iova by
// PAGE_SIZE; for a pin that includes the last page of the IOVA space
// (last == 2^64 - 1) it wraps to 0 and stays <= last, so the loop never
// ends and writes page pointers past the end of the caller's array
// (item->pages, kvcalloc'ed for npages): a heap overflow, then an oops in
// iolab_pin_piece. Reached by ACCESS_PAGES of [2^64 - 4096, 2^64 - 1] after
// a MAP there (MAP accepts that IOVA).
//
// Bug (masked by the one above until it is fixed): kmod/selftest.c,
// iolab_staccess_drop(): the overlap test
// "item->iova + item->length <= iova || iova + length <= item->iova"
// wraps for an item that ends at the top of the IOVA space
// (item->iova + item->length == 2^64 == 0), so such an item is never
// dropped: not by an UNMAP's notification (UNMAP fails with EBUSY for
// good), and not when the access closes -- the item, its page array and
// the area's pin count are leaked, iolab_ioas_destroy()'s unmap then fails
// with EBUSY unseen, and the area and its pinned pages are never freed.
TEST_CASE("regression: an access pin at the top of the IOVA space is dropped on UNMAP")
{
	Iommufd fd;
	Ioas ioas(fd);
	Mem buf(PS);
	const uint64_t top = 0ULL - PS;  // the last page of the IOVA space

	REQUIRE(ioas.map(buf.p, PS, RW | FIXED, top) == top);
	Access acc(ioas, NEEDS_PIN);
	acc.pin(top, PS, nullptr, false);

	iommu_ioas_unmap cmd{};
	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas.id();
	cmd.iova = top;
	cmd.length = PS;
	CHECK(fd.raw(IOMMU_IOAS_UNMAP, &cmd) == 0);
	CHECK(check_refs(fd, buf.p, PS, 0) == 0);
}

TEST_CASE("regression: closing an access with a pin at the top of the IOVA space leaks no pinned page")
{
	Mem buf(PS);
	const uint64_t top = 0ULL - PS;
	{
		Iommufd fd;
		Ioas ioas(fd);

		REQUIRE(ioas.map(buf.p, PS, RW | FIXED, top) == top);
		Access acc(ioas, NEEDS_PIN);
		acc.pin(top, PS, nullptr, false);
	}	// access closed, IOAS destroyed, fd closed
	Iommufd fd;
	CHECK(check_refs(fd, buf.p, PS, 0) == 0);
}

// Bug: kmod/selftest.c, iolab_test_access_rw(): the length is not capped
// before kvzalloc(length); a length over INT_MAX hits WARN_ON_ONCE() in
// kvmalloc_node() (mm/util.c), and one below it makes the kernel vmalloc
// up to 2 GiB for the caller. Upstream's selftest returns ENOMEM for
// lengths over 16 MiB ("Prevent syzkaller from triggering a WARN_ON in
// kvzalloc()").
TEST_CASE("regression: ACCESS_RW longer than 16 MiB is ENOMEM, without a kernel warning")
{
	Iommufd fd;
	Ioas ioas(fd);
	Mem buf(PS);
	uint64_t iova = ioas.map(buf.p, PS, RW);
	Access acc(ioas, 0);
	KernelLog klog;

	auto cmd = access_cmd(IOMMU_TEST_OP_ACCESS_RW, acc);
	cmd.access_rw.iova = iova;
	cmd.access_rw.length = 1ULL << 32;
	cmd.access_rw.uptr = reinterpret_cast<uintptr_t>(buf.p);
	CHECK(fd.raw(IOMMU_TEST_CMD, &cmd) == ENOMEM);
	CHECK(klog.bad_lines() == "");
}

// Bug: kmod/selftest.c, iolab_test_access_pages(): same as above for the
// page array, kvcalloc(npages, sizeof(struct page *)): 2^41 bytes of IOVA
// make a 4 GiB array request and the WARN_ON_ONCE() in kvmalloc_node().
TEST_CASE("regression: ACCESS_PAGES longer than 16 MiB is ENOMEM, without a kernel warning")
{
	Iommufd fd;
	Ioas ioas(fd);
	Mem buf(PS);
	uint64_t iova = ioas.map(buf.p, PS, RW);
	Access acc(ioas, NEEDS_PIN);
	KernelLog klog;

	auto cmd = access_cmd(IOMMU_TEST_OP_ACCESS_PAGES, acc);
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = 1ULL << 41;
	CHECK(fd.raw(IOMMU_TEST_CMD, &cmd) == ENOMEM);
	CHECK(klog.bad_lines() == "");
}

// Bug: kmod/pages.c, iolab_pages_pin(): the array of page pointers,
// kvcalloc(npages, ...), is allocated for the whole user-given length
// before RLIMIT_MEMLOCK is checked and before one page is pinned; a length
// of 2^42 (allowed: user_va + length stays below TASK_SIZE_MAX) asks for an
// 8 GiB array: WARN_ON_ONCE() in kvmalloc_node(). Reached by IOAS_MAP and
// IOMMULAB_BENCH_PIN. No kernel warning, whatever the call answers:
// upstream, which pins nothing until a domain or an access needs it,
// accepts the mapping; iommulab refuses it (next test).
static int map_huge_unmapped_length(const Iommufd &fd, const Ioas &ioas)
{
	Mem buf(PS);
	KernelLog klog;

	iommu_ioas_map cmd{};
	cmd.size = sizeof(cmd);
	cmd.flags = RW;
	cmd.ioas_id = ioas.id();
	cmd.user_va = reinterpret_cast<uintptr_t>(buf.p);
	cmd.length = 1ULL << 42;
	int err = fd.raw(IOMMU_IOAS_MAP, &cmd);
	CHECK(klog.bad_lines() == "");
	return err;
}

TEST_CASE("regression: IOAS_MAP of a huge unmapped length makes no kernel warning")
{
	Iommufd fd;
	Ioas ioas(fd);
	int err = map_huge_unmapped_length(fd, ioas);
	CAPTURE(err);
	CHECK((err == 0 || err == EFAULT || err == ENOMEM));
}

// iommulab keeps one page array per mapping and refuses a mapping it could
// never pin (EFAULT: the range is not mapped; or ENOMEM).
TEST_CASE("regression: IOAS_MAP of a huge unmapped length fails" * IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	int err = map_huge_unmapped_length(fd, ioas);
	CAPTURE(err);
	CHECK((err == EFAULT || err == ENOMEM));
}

TEST_CASE("regression: BENCH_PIN of a huge unmapped length fails without a kernel warning" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Mem buf(PS);
	KernelLog klog;
	int err;

	iommulab_bench_pin pin{};
	pin.size = sizeof(pin);
	pin.uptr = reinterpret_cast<uintptr_t>(buf.p);
	pin.length = 1ULL << 42;
	err = fd.raw(IOMMULAB_BENCH_PIN, &pin);
	CHECK((err == EFAULT || err == ENOMEM));
	CHECK(klog.bad_lines() == "");
}

// Bug: kmod/selftest.c, iolab_test_dirty(): IOMMU_TEST_OP_DIRTY copied the
// user's bitmap into bitmap_zalloc(), a kmalloc(), of up to 16 MiB (2^27
// bits, the op's own limit): past 4 MiB that is a page allocation above
// MAX_PAGE_ORDER, ENOMEM and a WARNING from a call a user may make. Now
// kvcalloc(), as upstream's kvzalloc(). iommulab-only: upstream's mock
// then tests each of the 2^27 bits one by one, which takes minutes under
// TCG on the debug kernel; iommulab walks only the set ones.
TEST_CASE("regression: IOMMU_TEST_OP_DIRTY takes a 16 MiB bitmap without a kernel warning" *
	  IOMMULAB_ONLY)
{
	constexpr uint64_t MOCK_PAGE = 2048, NBITS = 1ULL << 27;
	Iommufd fd;
	Ioas ioas(fd);
	Mem buf(PS);
	MockDomain dev(fd, ioas.id());
	ioas.map(buf.p, PS, RW | FIXED, MOCK_APERTURE_START);
	const uint32_t hwpt = hwpt_alloc(fd, dev.idev_id(), ioas.id(),
					 IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	set_dirty_tracking(fd, hwpt, true);
	AnonMap bits(NBITS / 8); // zero pages, bar the one bit below
	bits.p[0] = 1u << 1;
	KernelLog klog;

	auto cmd = test_cmd(IOMMU_TEST_OP_DIRTY, hwpt);
	cmd.dirty.iova = MOCK_APERTURE_START;
	cmd.dirty.length = NBITS * MOCK_PAGE;
	cmd.dirty.page_size = MOCK_PAGE;
	cmd.dirty.uptr = reinterpret_cast<uintptr_t>(bits.p);
	CHECK(fd.raw(IOMMU_TEST_CMD, &cmd) == 0);
	CHECK(cmd.dirty.out_nr_dirty == 1);
	CHECK(klog.bad_lines() == "");
	DirtyBitmap bm(MOCK_APERTURE_START, PS, MOCK_PAGE);
	get_dirty_bitmap(fd, hwpt, bm);
	CHECK(bm.set_bits() == std::vector<uint64_t>{1});
	fd.destroy(hwpt);
}
