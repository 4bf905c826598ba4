// SPDX-License-Identifier: GPL-2.0
// The mock IOMMU: devices, groups, HWPTs, attach/replace, and isolation
// proven by DMA. Every claim about what a device can reach is checked by
// letting the device read or write through the mock IOMMU and looking at
// the bytes in the user's buffers, never by asking the module.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include "harness.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t APERTURE = MOCK_APERTURE_START;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t RO = IOMMU_IOAS_MAP_READABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;

int dma_raw(const Iommufd &fd, iommulab_mock_dma &cmd)
{
	cmd.size = sizeof(cmd);
	return fd.raw(IOMMULAB_MOCK_DMA, &cmd);
}

// Two IOASes, each with a writeable and a read-only buffer mapped at the
// same IOVAs, so that which buffer a DMA reaches tells the domain used.
struct TwoSpaces {
	Iommufd fd;
	Ioas a{fd}, b{fd};
	Buffer a_rw{8 * PS, 0x10}, a_ro{2 * PS, 0x20};
	Buffer b_rw{8 * PS, 0x30}, b_ro{2 * PS, 0x40};
	static constexpr uint64_t rw_iova = APERTURE + (1 << 20);
	static constexpr uint64_t ro_iova = APERTURE + (2 << 20);
	static constexpr uint64_t hole_iova = APERTURE + (4 << 20);

	TwoSpaces()
	{
		a.map(a_rw.p, a_rw.len, RW | FIXED, rw_iova);
		a.map(a_ro.p, a_ro.len, RO | FIXED, ro_iova);
		b.map(b_rw.p, b_rw.len, RW | FIXED, rw_iova);
		b.map(b_ro.p, b_ro.len, RO | FIXED, ro_iova);
	}
};

} // namespace

TEST_CASE("a mock domain narrows the IOAS to the mock aperture and alignment")
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());

	uint64_t align = 0;
	auto ranges = ioas.iova_ranges(&align);
	REQUIRE(ranges.size() == 1);
	CHECK(ranges[0].start == MOCK_APERTURE_START);
	CHECK(ranges[0].last == MOCK_APERTURE_LAST);
	CHECK(align == PS / 2);

	Buffer buf(PS);
	uint64_t iova = 0;
	iommu_ioas_map cmd{};
	cmd.size = sizeof(cmd);
	cmd.flags = RW | FIXED;
	cmd.ioas_id = ioas.id();
	cmd.user_va = reinterpret_cast<uintptr_t>(buf.p + 1);
	cmd.length = PS - 1;
	cmd.iova = APERTURE + 1;
	CHECK(send(fd, IOMMU_IOAS_MAP, cmd) == EINVAL);
	cmd.iova = APERTURE - PS;
	cmd.user_va = reinterpret_cast<uintptr_t>(buf.p);
	cmd.length = PS;
	CHECK(send(fd, IOMMU_IOAS_MAP, cmd) == EINVAL);
	iova = ioas.map(buf.p, PS, RW);
	CHECK(iova >= MOCK_APERTURE_START);
	CHECK(iova + PS - 1 <= MOCK_APERTURE_LAST);

	// Leaving restores the full range.
	md.destroy();
	CHECK(ioas.iova_ranges().size() == 1);
	CHECK(ioas.iova_ranges()[0].start == 0);
}

// Upstream's terms for what the next test proves by DMA: the mock domain's
// page table (MD_CHECK_MAP) holds exactly the mapped pages, and an access
// through the IOAS moves bytes into exactly those.
TEST_CASE("a mock domain maps exactly the mapped pages")
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	Access acc(ioas, 0);
	Buffer buf(16 * PS, 3), other(4 * PS, 9), never(4 * PS, 5);
	const uint64_t iova = APERTURE + (1 << 20);

	ioas.map(buf.p, buf.len, RW | FIXED, iova);
	ioas.map(other.p, other.len, RW | FIXED, iova + buf.len);
	expect_domain_maps(fd, md.hwpt_id(), iova, buf.p, buf.len);
	expect_domain_maps(fd, md.hwpt_id(), iova + buf.len, other.p, other.len);
	// Not shifted, not swapped, and nothing past the two mappings.
	expect_domain_lacks(fd, md.hwpt_id(), iova, other.p, other.len);
	expect_domain_lacks(fd, md.hwpt_id(), iova + PS, buf.p, PS);
	expect_domain_lacks(fd, md.hwpt_id(), iova + buf.len + other.len,
			    never.p, never.len);
	CHECK(check_refs(fd, buf.p, buf.len, 1) == 0);
	CHECK(check_refs(fd, never.p, never.len, 0) == 0);

	// Unaligned, crossing three pages: exactly those bytes change.
	const auto before = buf.snapshot(), other_before = other.snapshot();
	const size_t off = 3 * PS - 77, n = 2 * PS + 100;
	std::vector<uint8_t> data(n, 0xAB);
	acc.write(iova + off, data.data(), n);
	CHECK(only_changed(buf, before, off, n, 0xAB));
	CHECK(unchanged(other, other_before));
	// Reads see what the CPU wrote, across the two mappings.
	buf.p[buf.len - 1] = 0x5C;
	other.p[0] = 0x5D;
	uint8_t two[2];
	acc.read(iova + buf.len - 1, two, 2);
	CHECK(two[0] == 0x5C);
	CHECK(two[1] == 0x5D);

	// Unmapped: the domain no longer holds the pages, nor are they pinned.
	ioas.unmap(iova, buf.len);
	expect_domain_lacks(fd, md.hwpt_id(), iova, buf.p, buf.len);
	CHECK(check_refs(fd, buf.p, buf.len, 0) == 0);
	expect_domain_maps(fd, md.hwpt_id(), iova + buf.len, other.p, other.len);
}

TEST_CASE("a device's DMA lands exactly in the mapped pages" * IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	Buffer buf(16 * PS, 3), other(4 * PS, 9);
	const uint64_t iova = APERTURE + (1 << 20);

	ioas.map(buf.p, buf.len, RW | FIXED, iova);
	ioas.map(other.p, other.len, RW | FIXED, iova + buf.len);
	const auto before = buf.snapshot(), other_before = other.snapshot();

	// Unaligned start, crossing three pages.
	const size_t off = 3 * PS - 77, n = 2 * PS + 100;
	DmaResult r = dma_fill(fd, md.idev_id(), iova + off, n, 0xAB);
	CHECK(r.ok());
	CHECK(r.done == n);
	CHECK(only_changed(buf, before, off, n, 0xAB));
	CHECK(unchanged(other, other_before));

	// Reads see what the CPU wrote, across the two mappings.
	buf.p[buf.len - 1] = 0x5C;
	other.p[0] = 0x5D;
	uint8_t two[2];
	r = dma(fd, md.idev_id(), iova + buf.len - 1, two, 2, false);
	CHECK(r.ok());
	CHECK(two[0] == 0x5C);
	CHECK(two[1] == 0x5D);

	// MD_CHECK_MAP agrees with the user's pages.
	auto chk = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, md.hwpt_id());
	chk.check_map.iova = iova;
	chk.check_map.length = buf.len;
	chk.check_map.uptr = reinterpret_cast<uintptr_t>(buf.p);
	CHECK(send(fd, IOMMU_TEST_CMD, chk) == 0);
	chk.check_map.uptr = reinterpret_cast<uintptr_t>(other.p);
	CHECK(send(fd, IOMMU_TEST_CMD, chk) == EINVAL);
}

TEST_CASE("isolation matrix: what a device reaches through each attachment" *
	  IOMMULAB_ONLY)
{
	TwoSpaces s;
	const Iommufd &fd = s.fd;
	MockDomain md(fd, s.a.id());
	const uint32_t dev = md.idev_id();
	constexpr uint64_t s1_offset = 1 << 20; // nested: IOVA x -> x + 1 MiB
	Hwpt parent(fd, dev, s.a.id(), IOMMU_HWPT_ALLOC_NEST_PARENT);
	iommulab_hwpt_mock_s1 s1{0, IOMMU_TEST_IOTLB_DEFAULT, s1_offset};
	Hwpt nested(fd, dev, parent.id(), 0, IOMMULAB_HWPT_DATA_MOCK_S1, &s1,
		    sizeof(s1));

	// Which buffer a DMA to rw_iova (+ro) reaches, per attachment.
	enum Kind { BLOCKED, ON_A, ON_B, NESTED } kind = ON_A;
	Buffer *rw = nullptr, *ro = nullptr;
	uint64_t base = s.rw_iova, ro_base = s.ro_iova;
	std::unique_ptr<Device> extra;

	SUBCASE("blocked") {
		kind = BLOCKED;
	}
	SUBCASE("IOAS A") {
		kind = ON_A;
	}
	SUBCASE("IOAS B") {
		kind = ON_B;
	}
	SUBCASE("nested on A") {
		kind = NESTED;
	}
	switch (kind) {
	case BLOCKED:
		break;
	case ON_A:
		rw = &s.a_rw;
		ro = &s.a_ro;
		break;
	case ON_B:
		md.replace(s.b.id());
		rw = &s.b_rw;
		ro = &s.b_ro;
		break;
	case NESTED:
		md.replace(nested.id());
		rw = &s.a_rw;
		ro = &s.a_ro;
		base -= s1_offset; // stage 1 adds it back
		ro_base -= s1_offset;
		break;
	}
	// A blocked device: a bound sibling in its group that is not attached.
	uint32_t who = dev;
	std::vector<MockDev> group;
	if (kind == BLOCKED) {
		group = mock_group_alloc(fd, 1);
		extra = std::make_unique<Device>(fd, group[0].rid);
		who = extra->id();
	}
	const auto a_rw0 = s.a_rw.snapshot(), a_ro0 = s.a_ro.snapshot();
	const auto b_rw0 = s.b_rw.snapshot(), b_ro0 = s.b_ro.snapshot();
	auto nothing_changed = [&] {
		return unchanged(s.a_rw, a_rw0) && unchanged(s.a_ro, a_ro0) &&
		       unchanged(s.b_rw, b_rw0) && unchanged(s.b_ro, b_ro0);
	};

	SUBCASE("inside a mapping") {
		DmaResult r = dma_fill(fd, who, base + PS + 8, 100, 0xEE);
		if (kind == BLOCKED) {
			CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_BLOCKED);
			CHECK(r.done == 0);
			CHECK(nothing_changed());
		} else {
			REQUIRE(r.ok());
			CHECK(only_changed(*rw, rw == &s.a_rw ? a_rw0 : b_rw0,
					   PS + 8, 100, 0xEE));
			// The other IOAS's memory is untouched.
			if (rw == &s.a_rw)
				CHECK(unchanged(s.b_rw, b_rw0));
			else
				CHECK(unchanged(s.a_rw, a_rw0));
			uint8_t x;
			CHECK(dma(fd, who, ro_base + 5, &x, 1, false).ok());
			CHECK(x == ro->p[5]);
		}
	}
	SUBCASE("outside any mapping") {
		DmaResult r = dma_fill(fd, who, s.hole_iova - (kind == NESTED ?
								 s1_offset : 0),
				       64, 0xEE);
		CHECK(r.done == 0);
		CHECK(r.fault_reason == (kind == BLOCKED ?
					 IOMMULAB_DMA_FAULT_BLOCKED :
					 IOMMULAB_DMA_FAULT_NOT_MAPPED));
		CHECK(nothing_changed());
		// Running off the end of a mapping stops exactly there.
		if (kind != BLOCKED) {
			r = dma_fill(fd, who, base + 8 * PS - 16, 64, 0xEF);
			CHECK(r.done == 16);
			CHECK(r.fault_iova == base + 8 * PS);
			CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
		}
	}
	SUBCASE("a write to a read-only mapping") {
		DmaResult r = dma_fill(fd, who, ro_base, 32, 0xEE);
		CHECK(r.done == 0);
		CHECK(r.fault_reason == (kind == BLOCKED ?
					 IOMMULAB_DMA_FAULT_BLOCKED :
					 IOMMULAB_DMA_FAULT_PERMISSION));
		CHECK(nothing_changed());
	}
	SUBCASE("after unmap") {
		uint8_t x;
		// Warm the IOTLB first, so a missing flush would show.
		DmaResult warm = dma(fd, who, base, &x, 1, false);
		CHECK(warm.ok() == (kind != BLOCKED));
		Ioas &space = kind == ON_B ? s.b : s.a;
		space.unmap(s.rw_iova, 8 * PS);
		DmaResult r = dma_fill(fd, who, base, 16, 0xEE);
		CHECK(r.done == 0);
		CHECK(r.fault_reason == (kind == BLOCKED ?
					 IOMMULAB_DMA_FAULT_BLOCKED :
					 IOMMULAB_DMA_FAULT_NOT_MAPPED));
		CHECK(dma(fd, who, base, &x, 1, false).done == 0);
		CHECK(nothing_changed());
		// Map new memory there: the device reaches the new pages only.
		Buffer fresh(8 * PS, 0x77);
		const auto fresh0 = fresh.snapshot();
		space.map(fresh.p, fresh.len, RW | FIXED, s.rw_iova);
		r = dma_fill(fd, who, base, 16, 0xEE);
		if (kind != BLOCKED) {
			CHECK(r.ok());
			CHECK(only_changed(fresh, fresh0, 0, 16, 0xEE));
		}
		CHECK(nothing_changed());
	}
	SUBCASE("after replace") {
		if (kind == BLOCKED) {
			extra->attach(s.b.id());
		} else {
			md.replace(kind == ON_B ? s.a.id() : s.b.id());
		}
		Buffer *now = kind == ON_B ? &s.a_rw : &s.b_rw;
		const auto now0 = now->snapshot();
		DmaResult r = dma_fill(fd, who, s.rw_iova + 8, 8, 0xE1);
		CHECK(r.ok());
		CHECK(only_changed(*now, now0, 8, 8, 0xE1));
		// The old domain is unreachable: its memory is untouched.
		Buffer *old = now == &s.a_rw ? &s.b_rw : &s.a_rw;
		CHECK(unchanged(*old, old == &s.a_rw ? a_rw0 : b_rw0));
	}
}

// Upstream's terms: each mock domain's page table holds its own IOAS's
// pages at the shared IOVAs, never the other IOAS's (MD_CHECK_MAP).
TEST_CASE("two mock domains on different IOASes map only their own IOAS's memory")
{
	TwoSpaces s;
	MockDomain da(s.fd, s.a.id()), db(s.fd, s.b.id());

	CHECK(da.hwpt_id() != db.hwpt_id());
	expect_domain_maps(s.fd, da.hwpt_id(), s.rw_iova, s.a_rw.p, s.a_rw.len);
	expect_domain_maps(s.fd, da.hwpt_id(), s.ro_iova, s.a_ro.p, s.a_ro.len);
	expect_domain_maps(s.fd, db.hwpt_id(), s.rw_iova, s.b_rw.p, s.b_rw.len);
	expect_domain_maps(s.fd, db.hwpt_id(), s.ro_iova, s.b_ro.p, s.b_ro.len);
	expect_domain_lacks(s.fd, da.hwpt_id(), s.rw_iova, s.b_rw.p, s.b_rw.len);
	expect_domain_lacks(s.fd, da.hwpt_id(), s.ro_iova, s.b_ro.p, s.b_ro.len);
	expect_domain_lacks(s.fd, db.hwpt_id(), s.rw_iova, s.a_rw.p, s.a_rw.len);
	expect_domain_lacks(s.fd, db.hwpt_id(), s.ro_iova, s.a_ro.p, s.a_ro.len);
	// An unmap in A leaves B's domain as it was.
	s.a.unmap(s.rw_iova, s.a_rw.len);
	expect_domain_lacks(s.fd, da.hwpt_id(), s.rw_iova, s.a_rw.p, s.a_rw.len);
	expect_domain_maps(s.fd, db.hwpt_id(), s.rw_iova, s.b_rw.p, s.b_rw.len);
}

TEST_CASE("two devices on different IOASes never see each other's memory" *
	  IOMMULAB_ONLY)
{
	TwoSpaces s;
	MockDomain da(s.fd, s.a.id()), db(s.fd, s.b.id());

	CHECK(dma_fill(s.fd, da.idev_id(), s.rw_iova, 8 * PS, 0xA1).ok());
	CHECK(dma_fill(s.fd, db.idev_id(), s.rw_iova, 8 * PS, 0xB2).ok());
	for (size_t i = 0; i < 8 * PS; i++) {
		if (s.a_rw.p[i] != 0xA1 || s.b_rw.p[i] != 0xB2) {
			FAIL("byte " << i << " crossed between IOASes");
			break;
		}
	}
	uint8_t x = 0;
	CHECK(dma(s.fd, da.idev_id(), s.rw_iova, &x, 1, false).ok());
	CHECK(x == 0xA1);
	CHECK(dma(s.fd, db.idev_id(), s.rw_iova, &x, 1, false).ok());
	CHECK(x == 0xB2);
	// Automatic HWPTs of different IOASes are different.
	CHECK(da.hwpt_id() != db.hwpt_id());
}

TEST_CASE("groups: viability, one owner, blocked siblings, back to the kernel" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer buf(4 * PS, 1);
	const uint64_t iova = APERTURE;
	ioas.map(buf.p, buf.len, RW | FIXED, iova);
	auto devs = mock_group_alloc(fd, 3);
	REQUIRE(devs.size() == 3);
	CHECK(devs[0].rid != devs[1].rid);

	iommulab_mock_dma cmd{};
	cmd.rid = devs[1].rid;
	cmd.iova = iova;
	cmd.length = 8;
	cmd.uptr = reinterpret_cast<uintptr_t>(buf.p);
	SUBCASE("a kernel-owned group's DMA is refused") {
		CHECK(dma_raw(fd, cmd) == EPERM);
	}
	SUBCASE("a group with a kernel driver on a device is not viable") {
		iommulab_mock_set_driver drv{};
		drv.size = sizeof(drv);
		drv.stdev_id = devs[2].stdev_id;
		drv.bound = 1;
		REQUIRE(send(fd, IOMMULAB_MOCK_SET_DRIVER, drv) == 0);
		iommulab_device_bind b{};
		b.size = sizeof(b);
		b.rid = devs[0].rid;
		CHECK(send(fd, IOMMULAB_DEVICE_BIND, b) == EBUSY);
		CHECK(dma_raw(fd, cmd) == EPERM);
		drv.bound = 0;
		REQUIRE(send(fd, IOMMULAB_MOCK_SET_DRIVER, drv) == 0);
		Device d0(fd, devs[0].rid);
		// Now owned: no kernel driver may bind to a member.
		drv.bound = 1;
		CHECK(send(fd, IOMMULAB_MOCK_SET_DRIVER, drv) == EBUSY);
	}
	SUBCASE("binding blocks the whole group; unbound siblings stay blocked") {
		Device d0(fd, devs[0].rid);
		CHECK(d0.attach(ioas.id()) != 0);
		const auto before = buf.snapshot();
		std::vector<uint8_t> junk(8, 0xCC);
		DmaResult r = dma(fd, devs[0].stdev_id, iova, junk.data(), 8, true);
		CHECK(r.ok());
		for (int i : {1, 2}) {
			r = dma(fd, devs[i].stdev_id, iova + 64, junk.data(), 8, true);
			CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_BLOCKED);
			CHECK(r.done == 0);
		}
		CHECK(only_changed(buf, before, 0, 8, 0xCC));
	}
	SUBCASE("a device binds to one fd, and a group belongs to one fd") {
		Device d0(fd, devs[0].rid);
		iommulab_device_bind b{};
		b.size = sizeof(b);
		b.rid = devs[0].rid;
		CHECK(send(fd, IOMMULAB_DEVICE_BIND, b) == EBUSY);
		Iommufd other;
		CHECK(send(other, IOMMULAB_DEVICE_BIND, b) == EBUSY);
		b.rid = devs[1].rid;
		CHECK(send(other, IOMMULAB_DEVICE_BIND, b) == EBUSY);
		// The other fd cannot drive these devices either.
		CHECK(dma_raw(other, cmd) == ENOENT);
		// The same fd can bind the sibling.
		Device d1(fd, devs[1].rid);
	}
	SUBCASE("devices of one group share one HWPT") {
		Ioas second(fd);
		Device d0(fd, devs[0].rid), d1(fd, devs[1].rid);
		uint32_t h0 = d0.attach(ioas.id());
		iommulab_device_attach at{};
		at.size = sizeof(at);
		at.dev_id = d1.id();
		at.pt_id = second.id();
		CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
		CHECK(d1.attach(ioas.id()) == h0);
		// With both attached, neither may move alone.
		at.dev_id = d0.id();
		CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
		d1.detach();
		CHECK(d0.attach(second.id()) != h0);
	}
	SUBCASE("unbinding the last device gives the group back to the kernel") {
		{
			Device d0(fd, devs[0].rid), d1(fd, devs[1].rid);
			d0.attach(ioas.id());
			CHECK(dma(fd, devs[0].stdev_id, iova, buf.p + PS, 8, false)
				      .ok());
		}
		CHECK(dma_raw(fd, cmd) == EPERM);
		Iommufd other;
		Device again(other, devs[1].rid);
		// The other fd owns the group now: the creator can neither
		// bind a sibling nor make any device of the group issue DMA.
		iommulab_device_bind b{};
		b.size = sizeof(b);
		b.rid = devs[0].rid;
		CHECK(send(fd, IOMMULAB_DEVICE_BIND, b) == EBUSY);
		cmd.rid = devs[0].rid;
		CHECK(dma_raw(fd, cmd) == EPERM);
		cmd.rid = devs[1].rid;
		CHECK(dma_raw(fd, cmd) == EPERM);
	}
}

TEST_CASE("automatic HWPTs are shared when compatible and vanish with their last device")
{
	Iommufd fd;
	Ioas ioas(fd);
	auto d1 = std::make_unique<MockDomain>(fd, ioas.id());
	MockDomain d2(fd, ioas.id());
	CHECK(d1->hwpt_id() == d2.hwpt_id());
	// HUGE_IOVA widens the IOPTE sizes of a domain its device allocates,
	// but the format is the same: it shares a plain device's domain, as in
	// upstream's mock.
	MockDomain huge(fd, ioas.id(), MOCK_FLAGS_DEVICE_HUGE_IOVA);
	CHECK(huge.hwpt_id() == d1->hwpt_id());

	const uint32_t hwpt = d1->hwpt_id();
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = hwpt;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	d.id = ioas.id();
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);

	d1.reset();
	d.id = hwpt;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY); // d2 and huge still use it
	d2.destroy();
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY); // huge still uses it
	huge.destroy();
	CHECK(send(fd, IOMMU_DESTROY, d) == ENOENT); // gone with the last one
	d.id = ioas.id();
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	ioas.release();
	CHECK_OBJECTS(fd, 0);
}

// MD_CHECK_MAP (upstream's terms), and with @by_dma each device's DMA too.
static void every_map_reaches_every_domain(bool by_dma)
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer early(8 * PS, 1), late(8 * PS, 2);
	const uint64_t e_iova = APERTURE, l_iova = APERTURE + (1 << 20);

	ioas.map(early.p, early.len, RW | FIXED, e_iova);
	MockDomain plain(fd, ioas.id());
	// The HUGE_IOVA device would share plain's automatic domain: it is
	// given one of its own, allocated explicitly after the first map.
	MockDomain huge(fd, ioas.id(), MOCK_FLAGS_DEVICE_HUGE_IOVA);
	iommu_hwpt_alloc alloc{};
	alloc.size = sizeof(alloc);
	alloc.dev_id = huge.idev_id();
	alloc.pt_id = ioas.id();
	REQUIRE(send(fd, IOMMU_HWPT_ALLOC, alloc) == 0);
	REQUIRE(huge.replace(alloc.out_hwpt_id) == alloc.out_hwpt_id);
	REQUIRE(huge.hwpt_id() != plain.hwpt_id());
	ioas.map(late.p, late.len, RW | FIXED, l_iova);

	for (MockDomain *md : {&plain, &huge}) {
		auto chk = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, md->hwpt_id());
		chk.check_map.iova = e_iova;
		chk.check_map.length = early.len;
		chk.check_map.uptr = reinterpret_cast<uintptr_t>(early.p);
		CHECK(send(fd, IOMMU_TEST_CMD, chk) == 0);
		chk.check_map.iova = l_iova;
		chk.check_map.uptr = reinterpret_cast<uintptr_t>(late.p);
		CHECK(send(fd, IOMMU_TEST_CMD, chk) == 0);
		if (!by_dma)
			continue;
		uint8_t x;
		CHECK(dma(fd, md->idev_id(), e_iova + 5, &x, 1, false).ok());
		CHECK(x == early.p[5]);
		CHECK(dma(fd, md->idev_id(), l_iova + 6, &x, 1, false).ok());
		CHECK(x == late.p[6]);
	}
	ioas.unmap(e_iova, early.len);
	for (MockDomain *md : {&plain, &huge}) {
		expect_domain_lacks(fd, md->hwpt_id(), e_iova, early.p, early.len);
		expect_domain_maps(fd, md->hwpt_id(), l_iova, late.p, late.len);
		if (!by_dma)
			continue;
		uint8_t x;
		CHECK(dma(fd, md->idev_id(), e_iova, &x, 1, false).fault_reason ==
		      IOMMULAB_DMA_FAULT_NOT_MAPPED);
	}
	CHECK(check_refs(fd, early.p, early.len, 0) == 0);
	CHECK(check_refs(fd, late.p, late.len, 1) == 0);
}

TEST_CASE("every map and unmap reaches every domain, and new domains are filled")
{
	every_map_reaches_every_domain(false);
}

TEST_CASE("every map and unmap reaches every domain, proven by DMA" * IOMMULAB_ONLY)
{
	every_map_reaches_every_domain(true);
}

TEST_CASE("a domain cannot join an IOAS whose mappings it cannot hold")
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer buf(2 * PS);

	Access acc(ioas, 0);
	const Via via = Via::access(fd, acc);
	uint64_t iova = 0, len = 0, off = 0;

	SUBCASE("a mapping outside the aperture") {
		iova = 1ULL << 40;
		len = PS;
		ioas.map(buf.p, len, RW | FIXED, iova);
		auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN, ioas.id());
		CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EADDRINUSE);
	}
	SUBCASE("a mapping not aligned to the IOPTE size") {
		iova = APERTURE + 1;
		len = 100;
		off = 1;
		ioas.map(buf.p + off, len, RW | FIXED, iova);
		auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN, ioas.id());
		CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EADDRINUSE);
	}
	// Nothing was made or changed: no device (object) came to be, the
	// IOVA space is not narrowed, and the mapping is whole, still the
	// only one, and not pinned (the refused domain pinned and unpinned
	// it). (The access is not an object of the fd.)
	CHECK_OBJECTS(fd, 1);
	CHECK(ioas.iova_ranges().size() == 1);
	CHECK(ioas.iova_ranges()[0].start == 0);
	expect_mapped(via, iova, buf.p + off, len);
	expect_unmapped(via, APERTURE - PS, PS);
	CHECK(check_refs(fd, buf.p, PS, 0) == 0);
	expect_only(ioas, {{iova, len}});
	CHECK(check_refs(fd, buf.p, PS, 0) == 0);
}

// The IOPTEs checked with MD_CHECK_MAP (upstream's terms) and, with
// @by_dma, by DMA, and a second domain of iommulab's 4 KiB flavour.
static void refused_with_domain_change_no_iopte(bool by_dma)
{
	Iommufd fd;
	Ioas ioas(fd), src(fd);
	MockDomain md(fd, ioas.id());
	const Via dev = Via::device(fd, md.idev_id());
	Buffer keep(4 * PS, 0x11), other(8 * PS, 0x22);
	// keep at [base, base + 4 pages); the bad calls aim at it, right
	// below it, right after it and outside the aperture.
	const uint64_t base = APERTURE + (4 << 20);
	const uint64_t below = base - 4 * PS, after = base + 4 * PS;

	ioas.map(keep.p, keep.len, RW | FIXED, base);
	const uint64_t in_src = src.map(other.p, other.len, RW);

	auto map = [&](const void *p, uint64_t len, uint32_t flags,
		       uint64_t iova) {
		iommu_ioas_map cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = flags;
		cmd.ioas_id = ioas.id();
		cmd.user_va = reinterpret_cast<uintptr_t>(p);
		cmd.length = len;
		cmd.iova = iova;
		return send(fd, IOMMU_IOAS_MAP, cmd);
	};
	auto unmap = [&](uint64_t iova, uint64_t len) {
		iommu_ioas_unmap cmd{};
		cmd.size = sizeof(cmd);
		cmd.ioas_id = ioas.id();
		cmd.iova = iova;
		cmd.length = len;
		return send(fd, IOMMU_IOAS_UNMAP, cmd);
	};
	// Overlaps keep from below, from above, and inside.
	CHECK(map(other.p, 8 * PS, RW | FIXED, below + PS) == EEXIST);
	CHECK(map(other.p, 8 * PS, RW | FIXED, base + 3 * PS) == EEXIST);
	CHECK(map(other.p, PS, RW | FIXED, base + PS) == EEXIST);
	// Outside the aperture, and not aligned to the IOPTE size.
	CHECK(map(other.p, PS, RW | FIXED, APERTURE - PS) == EINVAL);
	CHECK(map(other.p, 2 * PS, RW | FIXED, MOCK_APERTURE_LAST - PS + 1) ==
	      EINVAL);
	CHECK(map(other.p + 1, PS - 1, RW | FIXED, after + 1) == EINVAL);
	CHECK(map(other.p, PS, RW | FIXED | (1u << 4), after) == EOPNOTSUPP);
	CHECK(map(other.p, PS, FIXED, after) == EINVAL);
	// Cutting keep.
	CHECK(unmap(base, PS) == ENOENT);
	CHECK(unmap(base + PS, 4 * PS) == ENOENT);
	CHECK(unmap(below, 5 * PS) == ENOENT);
	// A copy over keep, and one outside the aperture.
	iommu_ioas_copy cp{};
	cp.size = sizeof(cp);
	cp.flags = RW | FIXED;
	cp.dst_ioas_id = ioas.id();
	cp.src_ioas_id = src.id();
	cp.length = 8 * PS;
	cp.src_iova = in_src;
	cp.dst_iova = base - 2 * PS;
	CHECK(send(fd, IOMMU_IOAS_COPY, cp) == EEXIST);
	cp.dst_iova = APERTURE - 4 * PS;
	CHECK(send(fd, IOMMU_IOAS_COPY, cp) == EINVAL);

	SUBCASE("half of the memory is missing: EFAULT after pinning some") {
		Buffer half(4 * PS, 0x33);
		munmap(half.p + 2 * PS, 2 * PS);
		CHECK(map(half.p, 4 * PS, RW | FIXED, after) == EFAULT);
		CHECK(check_refs(fd, half.p, 2 * PS, 0) == 0);
		expect_domain_lacks(fd, md.hwpt_id(), after, half.p, 2 * PS);
		REQUIRE(mmap(half.p + 2 * PS, 2 * PS, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
			MAP_FAILED);
	}
	if (by_dma)
	SUBCASE("a map that a second, 4 KiB domain cannot hold") {
		// Every IOPTE of the 4 KiB flavour is a multiple of 4 KiB: a
		// 2 KiB-aligned map is refused (by the IOAS's alignment or by
		// that domain) and must leave both domains as they were.
		MockDomain md4k(fd, ioas.id(), IOMMULAB_MOCK_DEV_4K);
		CHECK(map(other.p, PS / 2, RW | FIXED, after + PS / 2) == EINVAL);
		const Via dev4k = Via::device(fd, md4k.idev_id());
		expect_unmapped(dev4k, after, 4 * PS);
		expect_mapped(dev4k, base, keep.p, keep.len);
		expect_domain_maps(fd, md4k.hwpt_id(), base, keep.p, keep.len);
	}

	// Through the domain: keep whole and moving the right bytes, nothing
	// at the IOVAs the bad calls named, on either side of keep, or at the
	// bottom and top of the aperture; its pages pinned once, the refused
	// memory not at all.
	expect_domain_maps(fd, md.hwpt_id(), base, keep.p, keep.len);
	// None of the refused memory is in the domain, anywhere it was aimed.
	for (uint64_t at : {below + PS, base + 3 * PS, after, APERTURE})
		expect_domain_lacks(fd, md.hwpt_id(), at, other.p, PS);
	expect_domain_lacks(fd, md.hwpt_id(), base - 2 * PS, other.p, 8 * PS);
	if (by_dma) {
		expect_mapped(dev, base, keep.p, keep.len);
		expect_unmapped(dev, below - 4 * PS, 8 * PS);
		expect_unmapped(dev, after, 8 * PS);
		expect_unmapped(dev, APERTURE, PS);
		expect_unmapped(dev, MOCK_APERTURE_LAST - PS + 1, PS);
	}
	CHECK(check_refs(fd, keep.p, keep.len, 1) == 0);
	// src's mapping: src has no domain, so nothing of it is pinned.
	CHECK(check_refs(fd, other.p, other.len, 0) == 0);
	expect_only(ioas, {{base, keep.len}});
	expect_domain_lacks(fd, md.hwpt_id(), base, keep.p, keep.len);
	if (by_dma)
		expect_unmapped(dev, base, keep.len);
	CHECK(check_refs(fd, keep.p, keep.len, 0) == 0);
}

TEST_CASE("MAP, UNMAP and COPY refused with a domain attached change no IOPTE")
{
	refused_with_domain_change_no_iopte(false);
}

TEST_CASE("MAP, UNMAP and COPY refused with a domain attached change no IOPTE, proven by DMA" *
	  IOMMULAB_ONLY)
{
	refused_with_domain_change_no_iopte(true);
}

// With @by_dma, the bad-input case also proves by DMA that both devices
// still translate through their domain.
static void hwpt_alloc_cases(bool by_dma)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	MockDomain nodirty(fd, ioas.id(), MOCK_FLAGS_DEVICE_NO_DIRTY);
	const uint32_t dev = md.idev_id();

	iommu_hwpt_alloc cmd{};
	cmd.size = sizeof(cmd);
	cmd.dev_id = dev;
	cmd.pt_id = ioas.id();
	const uint32_t objs = OBJECTS_NOW(fd);

	SUBCASE("bad input changes nothing") {
		auto bad = cmd;
		bad.flags = 1u << 7;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EOPNOTSUPP);
		bad = cmd;
		bad.__reserved = 1;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EOPNOTSUPP);
		if (by_dma) {
			// iommulab's own rule (upstream ignores __reserved2),
			// kept with the iommulab-only variant.
			bad = cmd;
			bad.__reserved2 = 1;
			CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EOPNOTSUPP);
		}
		// A fault ID that names no fault queue (0): ENOENT, as
		// upstream (test_fault_upstream.cpp has the fault-ID rules).
		bad = cmd;
		bad.flags = IOMMU_HWPT_FAULT_ID_VALID;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == ENOENT);
		bad = cmd;
		bad.data_len = 4;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EINVAL);
		bad = cmd;
		bad.data_type = IOMMU_HWPT_DATA_SELFTEST;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EINVAL);
		bad = cmd;
		bad.dev_id = 0;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == ENOENT);
		bad = cmd;
		bad.dev_id = ioas.id(); // wrong type
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == ENOENT);
		bad = cmd;
		bad.pt_id = 9999; // names nothing: upstream's EINVAL, not ENOENT
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EINVAL);
		bad = cmd;
		bad.pt_id = dev; // not an IOAS or HWPT
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EINVAL);
		bad = cmd;
		bad.dev_id = nodirty.idev_id();
		bad.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EOPNOTSUPP);
		// Nested on a HWPT that is not a nest parent.
		bad = cmd;
		bad.pt_id = md.hwpt_id();
		iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
		bad.data_type = IOMMU_HWPT_DATA_SELFTEST;
		bad.data_len = sizeof(data);
		bad.data_uptr = reinterpret_cast<uintptr_t>(&data);
		CHECK(send(fd, IOMMU_HWPT_ALLOC, bad) == EINVAL);
		CHECK_OBJECTS(fd, objs);
		// Both devices still translate through their domain: a mapping
		// made now reaches both, MD_CHECK_MAP agrees, and its pages are
		// pinned once (no HWPT left half-made holding a pin).
		Buffer buf(2 * PS, 0x71);
		const uint64_t at = APERTURE + (8 << 20);
		ioas.map(buf.p, buf.len, RW | FIXED, at);
		for (uint32_t d : {dev, nodirty.idev_id()}) {
			if (!by_dma)
				break;
			expect_mapped(Via::device(fd, d), at, buf.p, buf.len);
			expect_unmapped(Via::device(fd, d), at + buf.len, PS);
		}
		expect_domain_maps(fd, md.hwpt_id(), at, buf.p, buf.len);
		expect_domain_maps(fd, nodirty.hwpt_id(), at, buf.p, buf.len);
		CHECK(check_refs(fd, buf.p, buf.len, 1) == 0);
		expect_only(ioas, {{at, buf.len}});
		expect_domain_lacks(fd, md.hwpt_id(), at, buf.p, buf.len);
		if (by_dma)
			expect_unmapped(Via::device(fd, dev), at, buf.len);
	}
	SUBCASE("a dirty-tracking HWPT refuses a device without the capability") {
		Hwpt dirty(fd, dev, ioas.id(), IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
		CHECK(md.replace(dirty.id()) == dirty.id());
		auto rep = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
				    nodirty.stdev_id());
		rep.mock_domain_replace.pt_id = dirty.id();
		CHECK(send(fd, IOMMU_TEST_CMD, rep) == EINVAL);
		md.replace(ioas.id());
	}
	SUBCASE("nested HWPTs: parent busy, IOTLB and invalidation") {
		Hwpt parent(fd, dev, ioas.id(), IOMMU_HWPT_ALLOC_NEST_PARENT);
		iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
		Hwpt nested(fd, dev, parent.id(), 0, IOMMU_HWPT_DATA_SELFTEST,
			    &data, sizeof(data));
		iommu_destroy d{};
		d.size = sizeof(d);
		d.id = parent.id();
		CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);

		auto iotlb = [&](uint32_t id, uint32_t val) {
			auto c = test_cmd(IOMMU_TEST_OP_MD_CHECK_IOTLB, nested.id());
			c.check_iotlb.id = id;
			c.check_iotlb.iotlb = val;
			return send(fd, IOMMU_TEST_CMD, c);
		};
		for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
			CHECK(iotlb(i, IOMMU_TEST_IOTLB_DEFAULT) == 0);
		CHECK(iotlb(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1, 0) == EINVAL);

		iommu_hwpt_invalidate_selftest inv[2] = {{0, 1}, {0, 9}};
		iommu_hwpt_invalidate ic{};
		ic.size = sizeof(ic);
		ic.hwpt_id = nested.id();
		ic.data_uptr = reinterpret_cast<uintptr_t>(inv);
		ic.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
		ic.entry_len = sizeof(inv[0]);
		ic.entry_num = 2;
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == EINVAL);
		CHECK(ic.entry_num == 1); // the first one was done
		CHECK(iotlb(1, 0) == 0);
		CHECK(iotlb(0, IOMMU_TEST_IOTLB_DEFAULT) == 0);
		inv[0] = {IOMMU_TEST_INVALIDATE_FLAG_ALL, 0};
		ic.entry_num = 1;
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == 0);
		for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
			CHECK(iotlb(i, 0) == 0);
		inv[0] = {1u << 5, 0};
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == EOPNOTSUPP);
		CHECK(ic.entry_num == 0); // nothing was handled
		ic.entry_num = 1;
		ic.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID;
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == EINVAL);
		ic.entry_num = 1;
		ic.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
		ic.hwpt_id = parent.id();
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == EINVAL);
		ic.hwpt_id = nested.id();
		ic.entry_num = 0;
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == 0);
		ic.__reserved = 1;
		CHECK(send(fd, IOMMU_HWPT_INVALIDATE, ic) == EOPNOTSUPP);
	}
}

TEST_CASE("HWPT_ALLOC: paging, nest parent, nested, and bad input")
{
	hwpt_alloc_cases(false);
}

TEST_CASE("HWPT_ALLOC: paging, nest parent, nested, and bad input, proven by DMA" *
	  IOMMULAB_ONLY)
{
	hwpt_alloc_cases(true);
}

// Upstream's iommufd_ioas.alloc_hwpt_nested (its three mock-domain
// variants differ only in memory limits and device count; here each mock
// table flavour), the parts about data and invalidation. The errnos come
// from upstream's iommufd_hwpt_alloc() / iommufd_hwpt_nested_alloc()
// (hw_pagetable.c), iommu_copy_struct_from_user() and the mock's
// mock_domain_cache_invalidate_user() (selftest.c).
namespace {
struct Flavour {
	const char *name;
	uint32_t dev_flags;
};
} // namespace

static void nested_data_checks(std::initializer_list<Flavour> flavours)
{
	for (const Flavour &f : flavours) {
		SUBCASE(f.name) {
			Iommufd fd;
			Ioas ioas(fd);
			MockDomain md(fd, ioas.id(), f.dev_flags);
			const uint32_t dev = md.idev_id();
			Hwpt parent(fd, dev, ioas.id(), IOMMU_HWPT_ALLOC_NEST_PARENT);
			Hwpt plain(fd, dev, ioas.id(), 0);
			iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
			const uint32_t min_len = offsetof(iommu_hwpt_selftest, iotlb) +
						 sizeof(data.iotlb);
			const uint32_t objs = OBJECTS_NOW(fd);
			auto nested = [&](uint32_t pt, uint32_t flags, uint32_t type,
					  const void *p, uint32_t len) {
				iommu_hwpt_alloc c{};
				c.size = sizeof(c);
				c.flags = flags;
				c.dev_id = dev;
				c.pt_id = pt;
				c.data_type = type;
				c.data_len = len;
				c.data_uptr = reinterpret_cast<uintptr_t>(p);
				return send(fd, IOMMU_HWPT_ALLOC, c);
			};
			const uint32_t P = parent.id(), ST = IOMMU_HWPT_DATA_SELFTEST;

			// DATA_NONE with data: EINVAL (the type/length pair is
			// checked first); without: EOPNOTSUPP (a nested HWPT
			// needs data), whatever the parent.
			CHECK(nested(P, 0, IOMMU_HWPT_DATA_NONE, &data, sizeof(data)) ==
			      EINVAL);
			CHECK(nested(P, 0, IOMMU_HWPT_DATA_NONE, nullptr, 0) ==
			      EOPNOTSUPP);
			CHECK(nested(plain.id(), 0, IOMMU_HWPT_DATA_NONE, nullptr, 0) ==
			      EOPNOTSUPP);
			CHECK(nested(P, 0, ST + 1, &data, sizeof(data)) == EOPNOTSUPP);
			// Shorter than the mandatory part, or longer than the
			// structure (even with a zero tail): EINVAL.
			for (uint32_t len : {1u, min_len - 1}) {
				CAPTURE(len);
				CHECK(nested(P, 0, ST, &data, len) == EINVAL);
			}
			struct {
				iommu_hwpt_selftest d;
				uint32_t tail;
			} longer = {{IOMMU_TEST_IOTLB_DEFAULT}, 0};
			CHECK(nested(P, 0, ST, &longer, sizeof(longer)) == EINVAL);
			CHECK(nested(P, 0, ST, nullptr, sizeof(data)) == EFAULT);
			// A flag other than PASID is EOPNOTSUPP, before the
			// parent's EINVAL.
			CHECK(nested(P, IOMMU_HWPT_ALLOC_NEST_PARENT, ST, &data,
				     sizeof(data)) == EOPNOTSUPP);
			CHECK(nested(plain.id(), IOMMU_HWPT_ALLOC_DIRTY_TRACKING, ST,
				     &data, sizeof(data)) == EOPNOTSUPP);
			CHECK(nested(plain.id(), 0, ST, &data, sizeof(data)) == EINVAL);
			CHECK_OBJECTS(fd, objs);

			Hwpt hwpt(fd, dev, P, 0, ST, &data, min_len);
			CHECK(nested(hwpt.id(), 0, ST, &data, sizeof(data)) == EINVAL);
			auto iotlb = [&](uint32_t id, uint32_t val) {
				auto c = test_cmd(IOMMU_TEST_OP_MD_CHECK_IOTLB, hwpt.id());
				c.check_iotlb.id = id;
				c.check_iotlb.iotlb = val;
				return send(fd, IOMMU_TEST_CMD, c);
			};
			auto iotlb_all = [&](uint32_t val) {
				for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
					if (iotlb(i, val))
						return false;
				return true;
			};
			REQUIRE(iotlb_all(IOMMU_TEST_IOTLB_DEFAULT));

			iommu_hwpt_invalidate_selftest inv[2] = {};
			struct Inv {
				uint32_t hwpt, type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
				const void *p;
				uint32_t len = sizeof(iommu_hwpt_invalidate_selftest);
				uint32_t reserved = 0;
			};
			// Returns the errno; @num is entry_num in and out.
			auto invalidate = [&](const Inv &v, uint32_t &num) {
				iommu_hwpt_invalidate c{};
				c.size = sizeof(c);
				c.hwpt_id = v.hwpt;
				c.data_uptr = reinterpret_cast<uintptr_t>(v.p);
				c.data_type = v.type;
				c.entry_len = v.len;
				c.entry_num = num;
				c.__reserved = v.reserved;
				int err = send(fd, IOMMU_HWPT_INVALIDATE, c);
				num = c.entry_num;
				return err;
			};
			const uint32_t H = hwpt.id();
			uint32_t num;
			// Early failures write entry_num back: 0. (An ID of
			// another type is EINVAL, as upstream, which looks the ID
			// up as any type; none is ENOENT.)
			struct {
				const char *what;
				Inv v;
				int err;
			} early[] = {
				{"a parent HWPT", {P, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv}, EINVAL},
				{"a paging HWPT", {plain.id(), IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv}, EINVAL},
				{"no such HWPT", {0, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv}, ENOENT},
				{"an IOAS", {ioas.id(), IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv}, EINVAL},
				{"no array", {H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, nullptr}, EINVAL},
				{"entry_len 0", {H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv, 0}, EINVAL},
				{"a reserved field", {H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv,
						      sizeof(inv[0]), 1}, EOPNOTSUPP},
				{"an invalid type", {H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
						     inv}, EINVAL},
			};
			for (const auto &e : early) {
				const std::string what = e.what;
				CAPTURE(what);
				num = 1;
				CHECK(invalidate(e.v, num) == e.err);
				CHECK(num == 0);
			}
			// An entry shorter than its mandatory part (flags,
			// iotlb_id) or longer than the structure: EINVAL, none
			// handled.
			for (uint32_t len : {1u, 4u, 7u, 9u, 12u, 16u}) {
				CAPTURE(len);
				num = 1;
				CHECK(invalidate({H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv, len},
						 num) == EINVAL);
				CHECK(num == 0);
			}
			// An iotlb_id out of range is EINVAL even with FLAG_ALL,
			// which would not use it.
			for (uint32_t flags : {0u, 0u + IOMMU_TEST_INVALIDATE_FLAG_ALL}) {
				CAPTURE(flags);
				inv[0] = {flags, MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1};
				num = 1;
				CHECK(invalidate({H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv},
						 num) == EINVAL);
				CHECK(num == 0);
			}
			CHECK(iotlb_all(IOMMU_TEST_IOTLB_DEFAULT));
			// An empty array only checks the type (upstream's way of
			// asking whether a type is supported).
			num = 0;
			CHECK(invalidate({H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, nullptr, 0},
					 num) == 0);
			CHECK(num == 0);
			CHECK(invalidate({H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					  nullptr, 0},
					 num) == EINVAL);
			CHECK(num == 0);
			CHECK(iotlb_all(IOMMU_TEST_IOTLB_DEFAULT));
			// Exactly the mandatory part works (it is the whole entry).
			inv[0] = {IOMMU_TEST_INVALIDATE_FLAG_ALL, MOCK_NESTED_DOMAIN_IOTLB_ID_MAX};
			num = 1;
			CHECK(invalidate({H, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv,
					  uint32_t(offsetof(iommu_hwpt_invalidate_selftest, iotlb_id) +
						   sizeof(inv[0].iotlb_id))},
					 num) == 0);
			CHECK(num == 1);
			CHECK(iotlb_all(0));

			// The test ops look up their own kind of HWPT: ENOENT for
			// the other kind, as for any ID of another type.
			Buffer buf(PS);
			ioas.map(buf.p, PS, RW | FIXED, APERTURE);
			auto chk = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, H);
			chk.check_map.iova = APERTURE;
			chk.check_map.length = PS;
			chk.check_map.uptr = reinterpret_cast<uintptr_t>(buf.p);
			CHECK(send(fd, IOMMU_TEST_CMD, chk) == ENOENT);
			chk.id = P;
			CHECK(send(fd, IOMMU_TEST_CMD, chk) == 0);
			auto tlb = test_cmd(IOMMU_TEST_OP_MD_CHECK_IOTLB, P);
			CHECK(send(fd, IOMMU_TEST_CMD, tlb) == ENOENT);
			tlb.id = md.hwpt_id();
			CHECK(send(fd, IOMMU_TEST_CMD, tlb) == ENOENT);
		}
	}
}

TEST_CASE("nested HWPT data and invalidation requests are checked as upstream's")
{
	nested_data_checks({{"selftest flavour", 0},
			    {"selftest flavour with HUGE_IOVA", MOCK_FLAGS_DEVICE_HUGE_IOVA}});
}

TEST_CASE("nested HWPT data and invalidation requests are checked as upstream's, 4 KiB flavour" *
	  IOMMULAB_ONLY)
{
	nested_data_checks({{"4 KiB flavour", IOMMULAB_MOCK_DEV_4K}});
}

TEST_CASE("GET_HW_INFO reports the mock IOMMU and the device's capabilities")
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain plain(fd, ioas.id());
	MockDomain pasid(fd, ioas.id(),
			 MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_NO_DIRTY);

	uint8_t data[32];
	std::memset(data, 0xff, sizeof(data));
	iommu_hw_info cmd{};
	cmd.size = sizeof(cmd);
	cmd.dev_id = plain.idev_id();
	cmd.data_len = sizeof(data);
	cmd.data_uptr = reinterpret_cast<uintptr_t>(data);
	REQUIRE(send(fd, IOMMU_GET_HW_INFO, cmd) == 0);
	CHECK(cmd.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST);
	CHECK(cmd.data_len == sizeof(iommu_test_hw_info));
	iommu_test_hw_info info;
	std::memcpy(&info, data, sizeof(info));
	CHECK(info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL);
	for (size_t i = sizeof(info); i < sizeof(data); i++)
		CHECK(data[i] == 0); // the rest of the buffer is zeroed
	CHECK(cmd.out_capabilities == IOMMU_HW_CAP_DIRTY_TRACKING);
	CHECK(cmd.out_max_pasid_log2 == 0);

	cmd.dev_id = pasid.idev_id();
	cmd.data_len = 0;
	REQUIRE(send(fd, IOMMU_GET_HW_INFO, cmd) == 0);
	CHECK(cmd.out_capabilities == 0);
	CHECK(cmd.out_max_pasid_log2 == MOCK_PASID_WIDTH);
	CHECK(cmd.data_len == sizeof(iommu_test_hw_info));

	cmd.flags = 1u << 1; // past IOMMU_HW_INFO_FLAG_INPUT_TYPE
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == EOPNOTSUPP);
	cmd.flags = 0;
	cmd.__reserved[1] = 1;
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == EOPNOTSUPP);
	cmd.__reserved[1] = 0;
	cmd.dev_id = ioas.id();
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == ENOENT);
	// A length with no buffer: as upstream, the copy fails (EFAULT), after
	// the device lookup (a bad device is still ENOENT).
	cmd.data_len = 8;
	cmd.data_uptr = 0;
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == ENOENT);
	cmd.dev_id = plain.idev_id();
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == EFAULT);
	cmd.data_uptr = 8; // unmapped
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == EFAULT);
	cmd.data_len = 0; // no buffer needed then
	cmd.data_uptr = 0;
	CHECK(send(fd, IOMMU_GET_HW_INFO, cmd) == 0);
	CHECK(cmd.data_len == sizeof(iommu_test_hw_info));
}

TEST_CASE("GET_HW_INFO takes an input type with IOMMU_HW_INFO_FLAG_INPUT_TYPE")
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	iommu_test_hw_info info{};
	auto ask = [&](uint32_t flags, uint32_t type) {
		std::memset(&info, 0xff, sizeof(info));
		iommu_hw_info cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = flags;
		cmd.dev_id = md.idev_id();
		cmd.data_len = sizeof(info);
		cmd.data_uptr = reinterpret_cast<uintptr_t>(&info);
		cmd.in_data_type = type;
		int err = send(fd, IOMMU_GET_HW_INFO, cmd);
		if (!err)
			CHECK(cmd.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST);
		return err;
	};

	// Without the flag the field is only output: any input is ignored.
	CHECK(ask(0, IOMMU_HW_INFO_TYPE_INTEL_VTD) == 0);
	CHECK(info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL);
	const uint32_t in = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	CHECK(ask(in, IOMMU_HW_INFO_TYPE_DEFAULT) == 0);
	CHECK(info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL);
	CHECK(ask(in, IOMMU_HW_INFO_TYPE_SELFTEST) == 0);
	CHECK(info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL);
	// A format the mock has no record of: EOPNOTSUPP, buffer untouched.
	for (uint32_t type : {0u + IOMMU_HW_INFO_TYPE_INTEL_VTD,
			      0u + IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
			      0u + IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, 0xdeadu}) {
		CAPTURE(type);
		CHECK(ask(in, type) == EOPNOTSUPP);
		CHECK(info.test_reg == 0xffffffffu);
	}
}

TEST_CASE("mock-domain test ops check their arguments")
{
	Iommufd fd;
	Ioas ioas(fd), other(fd);
	MockDomain md(fd, ioas.id());
	Buffer buf(2 * PS, 0x19), obuf(2 * PS, 0x29);
	const uint64_t at = APERTURE + (2 << 20);
	ioas.map(buf.p, buf.len, RW | FIXED, at);
	other.map(obuf.p, obuf.len, RW | FIXED, at);
	const uint32_t objs = OBJECTS_NOW(fd);

	auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, ioas.id());
	cmd.mock_domain_flags.dev_flags = 1u << 10;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);
	cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN, 0);
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == ENOENT);
	cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN, md.idev_id());
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);
	CHECK_OBJECTS(fd, objs);

	cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, md.stdev_id());
	cmd.mock_domain_replace.pt_id = 0;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == ENOENT);
	cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, ioas.id());
	cmd.mock_domain_replace.pt_id = other.id();
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == ENOENT);
	// The refused replaces left the device on the first IOAS's domain:
	// it maps that IOAS's buffer, never the other one's.
	CHECK_OBJECTS(fd, objs);
	expect_domain_maps(fd, md.hwpt_id(), at, buf.p, buf.len);
	expect_domain_lacks(fd, md.hwpt_id(), at, obuf.p, obuf.len);
	CHECK(check_refs(fd, obuf.p, obuf.len, 0) == 0);

	// As upstream: the arguments are checked against the mock IO page
	// (2 KiB) before the ID, and the ID must be a paging HWPT.
	cmd = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, md.hwpt_id());
	cmd.check_map.iova = APERTURE + 1;
	cmd.check_map.length = PS;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);
	cmd.id = ioas.id();
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);
	cmd.check_map.iova = APERTURE;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == ENOENT);

	cmd = test_cmd(IOMMU_TEST_OP_MD_CHECK_IOTLB, md.hwpt_id());
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == ENOENT); // not nested

	cmd = test_cmd(IOMMU_TEST_OP_DEV_CHECK_CACHE, md.idev_id());
	for (uint32_t i = 0; i < MOCK_DEV_CACHE_NUM; i++) {
		cmd.check_dev_cache.id = i;
		cmd.check_dev_cache.cache = IOMMU_TEST_DEV_CACHE_DEFAULT;
		CHECK(send(fd, IOMMU_TEST_CMD, cmd) == 0);
	}
	cmd.check_dev_cache.id = MOCK_DEV_CACHE_ID_MAX + 1;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);
	cmd.check_dev_cache.id = 0;
	cmd.check_dev_cache.cache = 1;
	CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EINVAL);

	// A device's ID is not something to destroy behind the stdev's back.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = md.idev_id();
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
}

TEST_CASE("the device ops and the DMA op refuse bad input" * IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	auto devs = mock_group_alloc(fd, 1);
	Device dev(fd, devs[0].rid);
	Buffer buf(PS);
	const uint32_t objs = OBJECTS_NOW(fd);

	iommulab_device_bind b{};
	b.size = sizeof(b);
	b.rid = 0x10;
	CHECK(send(fd, IOMMULAB_DEVICE_BIND, b) == ENOENT);
	b.rid = devs[0].rid;
	b.flags = 1;
	CHECK(send(fd, IOMMULAB_DEVICE_BIND, b) == EOPNOTSUPP);

	iommulab_device_attach at{};
	at.size = sizeof(at);
	at.dev_id = dev.id();
	at.pt_id = ioas.id();
	// Unknown flag bits: EOPNOTSUPP; the sub-device path flags on a
	// device that is no sub-device, alone or both: EINVAL.
	for (uint32_t f : {1u << 2, 1u << 3, 1u << 31,
			   IOMMULAB_ATTACH_SUBDEV_AUX | (1u << 2)}) {
		CAPTURE(f);
		at.flags = f;
		CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EOPNOTSUPP);
	}
	for (uint32_t f : {uint32_t(IOMMULAB_ATTACH_SUBDEV_AUX),
			   uint32_t(IOMMULAB_ATTACH_SUBDEV_PASID),
			   uint32_t(IOMMULAB_ATTACH_SUBDEV_AUX |
				    IOMMULAB_ATTACH_SUBDEV_PASID)}) {
		CAPTURE(f);
		at.flags = f;
		CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
	}
	at.flags = 0;
	at.__reserved = 1;
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EOPNOTSUPP);
	at.__reserved = 0;
	at.dev_id = ioas.id();
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == ENOENT);
	at.dev_id = dev.id();
	at.pt_id = dev.id();
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);

	iommulab_device_detach dt{};
	dt.size = sizeof(dt);
	dt.dev_id = dev.id();
	CHECK(send(fd, IOMMULAB_DEVICE_DETACH, dt) == EINVAL); // not attached
	CHECK_OBJECTS(fd, objs);
	{
		// No refused attach attached it: its DMA is still blocked.
		uint8_t x = 0;
		DmaResult r = dma(fd, dev.id(), APERTURE, &x, 1, false);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_BLOCKED);
		CHECK(r.done == 0);
	}

	iommulab_mock_group_alloc g{};
	g.size = sizeof(g);
	g.nr_devices = 0;
	CHECK(send(fd, IOMMULAB_MOCK_GROUP_ALLOC, g) == EINVAL);
	g.nr_devices = 9;
	CHECK(send(fd, IOMMULAB_MOCK_GROUP_ALLOC, g) == EINVAL);
	g.nr_devices = 2;
	g.dev_flags = 1u << 12;
	CHECK(send(fd, IOMMULAB_MOCK_GROUP_ALLOC, g) == EINVAL);
	g.dev_flags = 0;
	g.devs_uptr = 8;
	CHECK(send(fd, IOMMULAB_MOCK_GROUP_ALLOC, g) == EFAULT);
	CHECK_OBJECTS(fd, objs);

	dev.attach(ioas.id());
	const auto buf0 = buf.snapshot();
	iommulab_mock_dma cmd{};
	cmd.rid = devs[0].rid;
	cmd.iova = APERTURE;
	cmd.length = 8;
	cmd.uptr = reinterpret_cast<uintptr_t>(buf.p);
	cmd.flags = 1u << 5;
	CHECK(dma_raw(fd, cmd) == EOPNOTSUPP);
	cmd.flags = 0;
	cmd.__reserved = 1;
	CHECK(dma_raw(fd, cmd) == EOPNOTSUPP);
	cmd.__reserved = 0;
	cmd.length = 0;
	CHECK(dma_raw(fd, cmd) == EINVAL);
	cmd.length = (64ULL << 20) + 1;
	CHECK(dma_raw(fd, cmd) == EINVAL);
	cmd.length = 8;
	cmd.iova = UINT64_MAX - 2;
	CHECK(dma_raw(fd, cmd) == EOVERFLOW);
	cmd.iova = APERTURE;
	cmd.rid = 0x20;
	CHECK(dma_raw(fd, cmd) == ENOENT);
	cmd.rid = ioas.id();
	cmd.flags = IOMMULAB_DMA_DEV_ID;
	CHECK(dma_raw(fd, cmd) == ENOENT);
	cmd.rid = devs[0].rid;
	cmd.flags = IOMMULAB_DMA_PASID;
	cmd.pasid = 0xffffffff;
	CHECK(dma_raw(fd, cmd) == EINVAL);
	// A PASID with nothing attached faults without touching memory.
	cmd.pasid = 1;
	CHECK(dma_raw(fd, cmd) == 0);
	CHECK(cmd.out_fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(cmd.out_done == 0);
	// No refused DMA moved a byte into the buffer.
	CHECK(unchanged(buf, buf0));
	// A bad user buffer for a read that moved bytes is EFAULT.
	ioas.map(buf.p, PS, RW | FIXED, APERTURE);
	cmd.flags = 0;
	cmd.uptr = 8;
	CHECK(dma_raw(fd, cmd) == EFAULT);
}

TEST_CASE("THP-backed memory is mapped with huge IOPTEs unless HUGE_PAGES is off" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	const uint64_t iova = 1ULL << 30;
	struct Flavour {
		const char *name;
		uint32_t dev_flags;
		uint64_t small, huge;
	};
	const Flavour flavours[] = {
		{"4 KiB flavour", IOMMULAB_MOCK_DEV_4K, 4096, 2 << 20},
		{"selftest flavour with HUGE_IOVA", MOCK_FLAGS_DEVICE_HUGE_IOVA,
		 2048, 1 << 20},
	};
	for (const Flavour &f : flavours) {
		SUBCASE(f.name) {
			HugeBuffer thp(4 << 20, true), small(4 << 20, false);
			if (!thp.thp_ok)
				IOMMULAB_SKIP(thp.why_not);
			REQUIRE(thp_backed_bytes(small.p, small.len) == 0);
			for (bool huge_pages : {true, false}) {
				CAPTURE(huge_pages);
				Ioas ioas(fd);
				ioas.set_huge_pages(huge_pages);
				MockDomain md(fd, ioas.id(), f.dev_flags);
				ioas.map(thp.p, thp.len, RW | FIXED, iova);
				ioas.map(small.p, small.len, RW | FIXED,
					 iova + (8 << 20));
				uint8_t x[64];
				DmaResult r = dma(fd, md.idev_id(), iova + 4096, x,
						  sizeof(x), false);
				REQUIRE(r.ok());
				CHECK(x[0] == 0x42);
				CHECK(r.max_iopte == (huge_pages ? f.huge : f.small));
				r = dma(fd, md.idev_id(), iova + (8 << 20), x,
					sizeof(x), false);
				REQUIRE(r.ok());
				CHECK(r.max_iopte == f.small);
			}
		}
	}
}

TEST_CASE("concurrent map/unmap, replace and DMA stay consistent" * IOMMULAB_ONLY)
{
	TwoSpaces s;
	MockDomain md(s.fd, s.a.id());
	const uint32_t dev = md.idev_id();
	Buffer spare(8 * PS, 0x61);
	std::atomic<long> bad{0}, moved{0}, faulted{0};
	// Every thread does at least N iterations while all the others run.
	constexpr long N = 200;
	Concurrent run;

	// Remaps IOAS A's buffer with other memory and back, again and again.
	run.add("remapper", N, [&](long i) {
		Buffer &b = i % 2 ? spare : s.a_rw;
		s.a.unmap(s.rw_iova, 8 * PS);
		s.a.map(b.p, b.len, RW | FIXED, s.rw_iova);
	});
	// Moves the device between the two IOASes.
	run.add("replacer", N, [&](long i) {
		md.replace(i % 2 ? s.a.id() : s.b.id());
	});
	// DMA reads: either a fault (unmapped right now) or bytes from one of
	// the buffers ever mapped at that IOVA, never anything else.
	run.add("reader", N, [&](long) {
		uint8_t x[16];
		DmaResult r = dma(s.fd, dev, s.rw_iova + 32, x, sizeof(x), false);
		if (r.ok()) {
			moved++;
			if (x[0] != s.a_rw.p[32] && x[0] != spare.p[32] &&
			    x[0] != s.b_rw.p[32])
				bad++;
		} else if (r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED) {
			faulted++;
		} else {
			bad++;
		}
	});
	auto r = run.run();
	INFO("iterations: ", r.summary());
	REQUIRE_MESSAGE(r.ok(), r.error);
	CHECK(r.count("remapper") >= N);
	CHECK(r.count("replacer") >= N);
	CHECK(r.count("reader") >= N);
	CHECK(moved + faulted + bad == r.count("reader"));
	CHECK(bad == 0);
	// Nothing is left pinned that should not be: with the device on B
	// (its only domain), B's pages are pinned once; once it is back on
	// A, B has no domain and nothing of it is pinned.
	md.replace(s.b.id());
	s.a.unmap_all();
	CHECK(check_refs(s.fd, s.a_rw.p, s.a_rw.len, 0) == 0);
	CHECK(check_refs(s.fd, spare.p, spare.len, 0) == 0);
	CHECK(check_refs(s.fd, s.b_rw.p, s.b_rw.len, 1) == 0);
	md.replace(s.a.id());
	CHECK(check_refs(s.fd, s.b_rw.p, s.b_rw.len, 0) == 0);
}
