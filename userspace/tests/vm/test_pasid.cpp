// SPDX-License-Identifier: GPL-2.0
// The PASID attach path (upstream 6.15's semantics): a PASID of a device
// gets a HWPT of its own. What each PASID reaches is proven by DMA through
// the mock IOMMU, looking at the bytes of the user's buffers.
//
// These tests are iommulab-only in the differential lane: its oracle is
// upstream 6.12, which has no PASID attach (6.15) and no vIOMMU (6.13).
// Upstream's own iommufd_device_pasid fixture is run by `make conformance`.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t APERTURE = MOCK_APERTURE_START;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t PASID_OK = IOMMU_HWPT_ALLOC_PASID;

int pasid_op(const Iommufd &fd, uint32_t op, uint32_t stdev, uint32_t pasid,
	     uint32_t pt_id = 0)
{
	auto cmd = test_cmd(op, stdev);
	switch (op) {
	case IOMMU_TEST_OP_PASID_ATTACH:
	case IOMMU_TEST_OP_PASID_REPLACE:
		cmd.pasid_attach.pasid = pasid;
		cmd.pasid_attach.pt_id = pt_id;
		break;
	case IOMMU_TEST_OP_PASID_DETACH:
		cmd.pasid_detach.pasid = pasid;
		break;
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		cmd.pasid_check.pasid = pasid;
		cmd.pasid_check.hwpt_id = pt_id;
		break;
	}
	return send(fd, IOMMU_TEST_CMD, cmd);
}

int attach(const Iommufd &fd, uint32_t stdev, uint32_t pasid, uint32_t pt)
{
	return pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH, stdev, pasid, pt);
}

int replace(const Iommufd &fd, uint32_t stdev, uint32_t pasid, uint32_t pt)
{
	return pasid_op(fd, IOMMU_TEST_OP_PASID_REPLACE, stdev, pasid, pt);
}

int detach(const Iommufd &fd, uint32_t stdev, uint32_t pasid)
{
	return pasid_op(fd, IOMMU_TEST_OP_PASID_DETACH, stdev, pasid);
}

// 0 if @pasid uses @hwpt (0: no HWPT), else EINVAL.
int check(const Iommufd &fd, uint32_t stdev, uint32_t pasid, uint32_t hwpt)
{
	return pasid_op(fd, IOMMU_TEST_OP_PASID_CHECK_HWPT, stdev, pasid, hwpt);
}

// Three IOASes with a buffer each mapped at the same IOVA, so which buffer
// a DMA lands in tells which IOAS's domain translated it.
struct ThreeSpaces {
	Iommufd fd;
	Ioas a{fd}, b{fd}, c{fd};
	Buffer ba{4 * PS, 0x11}, bb{4 * PS, 0x22}, bc{4 * PS, 0x33};
	static constexpr uint64_t iova = APERTURE + (1 << 20);

	ThreeSpaces()
	{
		a.map(ba.p, ba.len, RW | FIXED, iova);
		b.map(bb.p, bb.len, RW | FIXED, iova);
		c.map(bc.p, bc.len, RW | FIXED, iova);
	}
};

} // namespace

TEST_CASE("PASID attach, replace and detach follow upstream's rules" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id(), MOCK_FLAGS_DEVICE_PASID);
	MockDomain plain(fd, ioas.id());
	const uint32_t dev = md.idev_id(), st = md.stdev_id();
	iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};

	const uint32_t parent = hwpt_alloc(fd, dev, ioas.id(),
					   IOMMU_HWPT_ALLOC_NEST_PARENT);
	const uint32_t n0 = hwpt_alloc(fd, dev, parent, PASID_OK,
				       IOMMU_HWPT_DATA_SELFTEST, &data,
				       sizeof(data));
	const uint32_t n1 = hwpt_alloc(fd, dev, parent, PASID_OK,
				       IOMMU_HWPT_DATA_SELFTEST, &data,
				       sizeof(data));
	const uint32_t viommu = viommu_alloc(fd, dev, parent);
	const uint32_t n2 = hwpt_alloc(fd, dev, viommu, PASID_OK,
				       IOMMU_HWPT_DATA_SELFTEST, &data,
				       sizeof(data));
	const uint32_t s2 = hwpt_alloc(fd, dev, ioas.id(), PASID_OK);
	const uint32_t objs = OBJECTS_NOW(fd);

	// Detaching what was never attached is no error for the test op.
	CHECK(detach(fd, st, 100) == 0);

	// The RID on a HWPT that is not PASID-compatible: no PASID attach.
	md.replace(parent);
	CHECK(attach(fd, st, 100, s2) == EINVAL);
	CHECK(check(fd, st, 100, 0) == 0);
	// On a compatible one, a PASID attaches, and the RID cannot leave
	// for an incompatible HWPT (nor an IOAS's automatic one) meanwhile.
	md.replace(s2);
	CHECK(attach(fd, st, 100, n0) == 0);
	CHECK(check(fd, st, 100, n0) == 0);
	CHECK(check(fd, st, 100, n1) == EINVAL);
	auto rep = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, st);
	rep.mock_domain_replace.pt_id = parent;
	CHECK(send(fd, IOMMU_TEST_CMD, rep) == EINVAL);
	rep.mock_domain_replace.pt_id = ioas.id();
	CHECK(send(fd, IOMMU_TEST_CMD, rep) == EINVAL);
	CHECK(check(fd, st, 0, s2) == 0);
	CHECK(detach(fd, st, 100) == 0);
	CHECK(check(fd, st, 100, 0) == 0);

	// A device without PASIDs may use a PASID-compatible HWPT for its
	// RID, but none of its PASIDs can attach.
	plain.replace(n0);
	plain.replace(ioas.id());
	CHECK(attach(fd, plain.stdev_id(), 100, s2) == EINVAL);
	CHECK(attach(fd, plain.stdev_id(), 100, parent) == EINVAL);

	// Only PASID-compatible HWPTs; an IOAS is refused; a PASID 0 is the
	// RID's and the width is 20 bits.
	CHECK(attach(fd, st, 100, parent) == EINVAL);
	CHECK(attach(fd, st, 100, ioas.id()) == EINVAL);
	CHECK(attach(fd, st, 100, 0) == ENOENT);
	CHECK(attach(fd, st, 1u << MOCK_PASID_WIDTH, s2) == EINVAL);
	CHECK(check(fd, st, 100, 0) == 0);

	// Attach does not overwrite: EBUSY, whatever the HWPT.
	CHECK(attach(fd, st, 100, s2) == 0);
	CHECK(attach(fd, st, 100, n0) == EBUSY);
	CHECK(attach(fd, st, 100, s2) == EBUSY);
	CHECK(check(fd, st, 100, s2) == 0);
	CHECK(detach(fd, st, 100) == 0);

	// Replace needs an attached PASID; a refused replace keeps the old.
	CHECK(replace(fd, st, 200, s2) == EINVAL);
	CHECK(attach(fd, st, 200, s2) == 0);
	CHECK(replace(fd, st, 200, ioas.id()) == EINVAL);
	CHECK(check(fd, st, 200, s2) == 0);
	CHECK(replace(fd, st, 200, n0) == 0);
	CHECK(check(fd, st, 200, n0) == 0);
	CHECK(replace(fd, st, 200, n1) == 0);
	CHECK(check(fd, st, 200, n1) == 0);
	CHECK(replace(fd, st, 200, n2) == 0); // nested on the vIOMMU
	CHECK(check(fd, st, 200, n2) == 0);
	CHECK(detach(fd, st, 200) == 0);

	// IOMMU_TEST_PASID_RESERVED: the mock fails its second attach, so
	// the replace fails and the PASID keeps its HWPT.
	CHECK(attach(fd, st, IOMMU_TEST_PASID_RESERVED, s2) == 0);
	CHECK(replace(fd, st, IOMMU_TEST_PASID_RESERVED, n0) == ENOMEM);
	CHECK(check(fd, st, IOMMU_TEST_PASID_RESERVED, s2) == 0);
	CHECK(detach(fd, st, IOMMU_TEST_PASID_RESERVED) == 0);

	// A HWPT nested on a vIOMMU needs a vDEVICE to take the RID.
	rep.mock_domain_replace.pt_id = n2;
	CHECK(send(fd, IOMMU_TEST_CMD, rep) == ENOENT);
	CHECK_OBJECTS(fd, objs);
	md.replace(ioas.id());
}

TEST_CASE("each PASID's DMA reaches exactly its own domain" * IOMMULAB_ONLY)
{
	ThreeSpaces s;
	const Iommufd &fd = s.fd;
	MockDomain md(fd, s.a.id(), MOCK_FLAGS_DEVICE_PASID);
	const uint32_t dev = md.idev_id(), st = md.stdev_id();
	const uint32_t ha = hwpt_alloc(fd, dev, s.a.id(), PASID_OK);
	const uint32_t hb = hwpt_alloc(fd, dev, s.b.id(), PASID_OK);
	const uint32_t hc = hwpt_alloc(fd, dev, s.c.id(), PASID_OK);
	const uint64_t off = PS + 100, n = PS;
	auto a0 = s.ba.snapshot(), b0 = s.bb.snapshot(), c0 = s.bc.snapshot();

	md.replace(ha);
	REQUIRE(attach(fd, st, 7, hb) == 0);
	REQUIRE(attach(fd, st, 9, hc) == 0);

	// RID -> A, PASID 7 -> B, PASID 9 -> C, each only where it wrote.
	CHECK(dma_fill(fd, dev, s.iova + off, n, 0xA1).ok());
	CHECK(only_changed(s.ba, a0, off, n, 0xA1));
	CHECK(unchanged(s.bb, b0));
	CHECK(unchanged(s.bc, c0));
	a0 = s.ba.snapshot();
	CHECK(write_pasid(fd, dev, 7, s.iova + off, n, 0xB7).ok());
	CHECK(only_changed(s.bb, b0, off, n, 0xB7));
	CHECK(unchanged(s.ba, a0));
	CHECK(unchanged(s.bc, c0));
	b0 = s.bb.snapshot();
	CHECK(write_pasid(fd, dev, 9, s.iova + off, n, 0xC9).ok());
	CHECK(only_changed(s.bc, c0, off, n, 0xC9));
	CHECK(unchanged(s.ba, a0));
	CHECK(unchanged(s.bb, b0));
	c0 = s.bc.snapshot();

	// Reads come from the PASID's own domain too.
	uint8_t got[2] = {};
	CHECK(dma_pasid(fd, dev, 7, s.iova + off, got, 2, false).ok());
	CHECK(got[0] == 0xB7);
	CHECK(dma_pasid(fd, dev, 9, s.iova, got, 2, false).ok());
	CHECK(got[0] == 0x33); // C's untouched first page

	// An unattached PASID faults and touches nothing.
	DmaResult r = write_pasid(fd, dev, 8, s.iova, n, 0xEE);
	CHECK(r.done == 0);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(unchanged(s.ba, a0));
	CHECK(unchanged(s.bb, b0));
	CHECK(unchanged(s.bc, c0));

	// After a detach, the old domain is out of reach.
	REQUIRE(detach(fd, st, 7) == 0);
	r = write_pasid(fd, dev, 7, s.iova, n, 0xEE);
	CHECK(r.done == 0);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(unchanged(s.bb, b0));

	// After a replace, PASID 9 reaches B and never C again.
	REQUIRE(replace(fd, st, 9, hb) == 0);
	CHECK(write_pasid(fd, dev, 9, s.iova, n, 0x9B).ok());
	CHECK(only_changed(s.bb, b0, 0, n, 0x9B));
	CHECK(unchanged(s.bc, c0));
	CHECK(unchanged(s.ba, a0));

	// The RID was never affected: it still reaches A.
	b0 = s.bb.snapshot();
	CHECK(dma_fill(fd, dev, s.iova, 8, 0xA2).ok());
	CHECK(only_changed(s.ba, a0, 0, 8, 0xA2));
	CHECK(unchanged(s.bb, b0));
	REQUIRE(detach(fd, st, 9) == 0);
	md.replace(s.a.id());
}

TEST_CASE("a HWPT in use by a PASID stays until the PASID lets go" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	Buffer buf(2 * PS, 0x44);
	ioas.map(buf.p, buf.len, RW | FIXED, APERTURE);
	auto md = std::make_unique<MockDomain>(fd, ioas.id(),
					       MOCK_FLAGS_DEVICE_PASID);
	const uint32_t hwpt = hwpt_alloc(fd, md->idev_id(), ioas.id(), PASID_OK);
	const uint32_t rid_hwpt = hwpt_alloc(fd, md->idev_id(), ioas.id(), PASID_OK);
	md->replace(rid_hwpt);
	REQUIRE(attach(fd, md->stdev_id(), 5, hwpt) == 0);

	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = hwpt;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	// Still translating: the PASID's DMA lands.
	CHECK(write_pasid(fd, md->idev_id(), 5, APERTURE, 16, 0x55).ok());
	CHECK(buf.p[0] == 0x55);

	// Unplugging the device detaches its PASIDs: the HWPT is free to go.
	md.reset();
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	d.id = rid_hwpt;
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
}

TEST_CASE("IOMMULAB_DEVICE_PASID: bound devices, bad input changes nothing" *
	  IOMMULAB_ONLY)
{
	ThreeSpaces s;
	const Iommufd &fd = s.fd;
	auto one = mock_group_alloc(fd, 1, MOCK_FLAGS_DEVICE_PASID);
	auto two = mock_group_alloc(fd, 2, MOCK_FLAGS_DEVICE_PASID);
	auto noncap = mock_group_alloc(fd, 1);
	Device dev(fd, one[0].rid), sib(fd, two[0].rid), plain(fd, noncap[0].rid);
	const uint32_t hb = hwpt_alloc(fd, dev.id(), s.b.id(), PASID_OK);
	const uint32_t hc = hwpt_alloc(fd, dev.id(), s.c.id(), PASID_OK);
	const uint32_t nope = hwpt_alloc(fd, dev.id(), s.b.id());
	const auto b0 = s.bb.snapshot(), c0 = s.bc.snapshot();

	// The RID stays blocked; PASID 3 gets B.
	device_pasid(fd, dev.id(), IOMMULAB_PASID_ATTACH, 3, hb);
	CHECK(write_pasid(fd, dev.id(), 3, s.iova, 64, 0x3B).ok());
	CHECK(only_changed(s.bb, b0, 0, 64, 0x3B));
	const auto b1 = s.bb.snapshot();
	DmaResult r = dma_fill(fd, dev.id(), s.iova, 64, 0xEE);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_BLOCKED);
	const uint32_t objs = OBJECTS_NOW(fd);

	// Every refusal, then the same DMA proves PASID 3 still reaches B
	// and nothing reaches C.
	const uint32_t max = 1u << MOCK_PASID_WIDTH;
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 4, hc, 2) ==
	      EOPNOTSUPP);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 4, hc,
			IOMMULAB_DEVICE_PASID_ALLOC) == EINVAL);
	CHECK(ext_pasid(fd, 3, dev.id(), 4, hc) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_DETACH, dev.id(), 3, hb) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, 0, 4, hc) == ENOENT);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 0, hc) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), max, hc) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 4, 0) == ENOENT);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 4, s.c.id()) ==
	      EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 4, nope) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev.id(), 3, hc) == EBUSY);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_REPLACE, dev.id(), 4, hc) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_DETACH, dev.id(), 4, 0) == EINVAL);
	// A device of a two-device group, and one without PASIDs.
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, sib.id(), 4, hc) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, plain.id(), 4, hc) == EINVAL);
	// The RID cannot leave for a HWPT that is not PASID-compatible.
	iommulab_device_attach at{};
	at.size = sizeof(at);
	at.dev_id = dev.id();
	at.pt_id = nope;
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
	at.pt_id = s.a.id();
	CHECK(send(fd, IOMMULAB_DEVICE_ATTACH, at) == EINVAL);
	CHECK_OBJECTS(fd, objs);

	CHECK(write_pasid(fd, dev.id(), 3, s.iova + 64, 64, 0x3C).ok());
	CHECK(only_changed(s.bb, b1, 64, 64, 0x3C));
	CHECK(unchanged(s.bc, c0));
	for (uint32_t p : {4u, 5u}) {
		r = write_pasid(fd, dev.id(), p, s.iova, 64, 0xEE);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	}
	CHECK(unchanged(s.bc, c0));

	// Replace moves PASID 3 to C in one step; detach ends it.
	const auto b2 = s.bb.snapshot();
	device_pasid(fd, dev.id(), IOMMULAB_PASID_REPLACE, 3, hc);
	CHECK(write_pasid(fd, dev.id(), 3, s.iova, 64, 0x3D).ok());
	CHECK(only_changed(s.bc, c0, 0, 64, 0x3D));
	CHECK(unchanged(s.bb, b2));
	device_pasid(fd, dev.id(), IOMMULAB_PASID_DETACH, 3);
	r = write_pasid(fd, dev.id(), 3, s.iova, 64, 0xEE);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(unchanged(s.bb, b2));
}

TEST_CASE("VIOMMU_ALLOC: a selftest vIOMMU on a nest parent, bad input" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());
	const uint32_t dev = md.idev_id();
	const uint32_t parent = hwpt_alloc(fd, dev, ioas.id(),
					   IOMMU_HWPT_ALLOC_NEST_PARENT);
	const uint32_t paging = hwpt_alloc(fd, dev, ioas.id());
	const uint32_t objs = OBJECTS_NOW(fd);

	iommu_viommu_alloc cmd{};
	auto reset = [&] {
		cmd = {};
		cmd.size = sizeof(cmd);
		cmd.type = IOMMU_VIOMMU_TYPE_SELFTEST;
		cmd.dev_id = dev;
		cmd.hwpt_id = parent;
	};
	reset();
	cmd.flags = 1;
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == EOPNOTSUPP);
	reset();
	cmd.type = IOMMU_VIOMMU_TYPE_DEFAULT;
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == EOPNOTSUPP);
	reset();
	cmd.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == EOPNOTSUPP);
	reset();
	cmd.dev_id = 0;
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == ENOENT);
	reset();
	cmd.hwpt_id = ioas.id();
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == ENOENT);
	reset();
	cmd.hwpt_id = paging;
	CHECK(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == EINVAL);
	CHECK_OBJECTS(fd, objs);

	reset();
	REQUIRE(send(fd, IOMMU_VIOMMU_ALLOC, cmd) == 0);
	const uint32_t viommu = cmd.out_viommu_id;
	CHECK_OBJECTS(fd, objs + 1);

	// Nested HWPTs on it: selftest data only, PASID flag only.
	iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
	iommu_hwpt_alloc h{};
	h.size = sizeof(h);
	h.dev_id = dev;
	h.pt_id = viommu;
	h.data_type = IOMMU_HWPT_DATA_SELFTEST;
	h.data_len = sizeof(data);
	h.data_uptr = reinterpret_cast<uintptr_t>(&data);
	h.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	CHECK(send(fd, IOMMU_HWPT_ALLOC, h) == EOPNOTSUPP);
	h.flags = 0;
	h.data_type = IOMMU_HWPT_DATA_NONE;
	h.data_len = 0;
	h.data_uptr = 0;
	CHECK(send(fd, IOMMU_HWPT_ALLOC, h) == EOPNOTSUPP);
	CHECK_OBJECTS(fd, objs + 1);
	const uint32_t nested = hwpt_alloc(fd, dev, viommu, 0,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data));

	// Each holds what it stands on.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = parent;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	d.id = viommu;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	d.id = nested;
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	d.id = viommu;
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	d.id = parent;
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
}


TEST_CASE("aux-domain path: the kernel picks one default PASID per domain" *
	  IOMMULAB_ONLY)
{
	ThreeSpaces s;
	const Iommufd &fd = s.fd;
	MockDomain m1(fd, s.a.id(), MOCK_FLAGS_DEVICE_PASID);
	MockDomain m2(fd, s.a.id(), MOCK_FLAGS_DEVICE_PASID);
	const uint32_t d1 = m1.idev_id(), d2 = m2.idev_id();
	// Any paging HWPT: the aux path asks for no IOMMU_HWPT_ALLOC_PASID.
	const uint32_t hb = hwpt_alloc(fd, d1, s.b.id());
	const uint32_t hc = hwpt_alloc(fd, d1, s.c.id());
	auto a0 = s.ba.snapshot(), b0 = s.bb.snapshot(), c0 = s.bc.snapshot();

	uint32_t p1 = 0, p2 = 0, got = 0;
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d1, hb, &p1) == 0);
	CHECK(p1 != 0);
	CHECK(p1 < (1u << MOCK_PASID_WIDTH));
	// A second device shares the domain's one default PASID.
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d2, hb, &p2) == 0);
	CHECK(p2 == p1);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, d2, hb, &got) == 0);
	CHECK(got == p1);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, d1, hc) == ENOENT);

	// The aux PASID reaches B, the RIDs still A, nothing reaches C.
	CHECK(write_pasid(fd, d1, p1, s.iova, 64, 0x1B).ok());
	CHECK(only_changed(s.bb, b0, 0, 64, 0x1B));
	CHECK(write_pasid(fd, d2, p1, s.iova + 64, 64, 0x2B).ok());
	b0 = s.bb.snapshot();
	CHECK(s.bb.p[64] == 0x2B);
	CHECK(dma_fill(fd, d1, s.iova, 64, 0x1A).ok());
	CHECK(only_changed(s.ba, a0, 0, 64, 0x1A));
	CHECK(unchanged(s.bc, c0));
	a0 = s.ba.snapshot();

	// The old API's rules, and the PASID path cannot take the PASID.
	const uint32_t objs = OBJECTS_NOW(fd);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, d1, hb) == EBUSY);
	// The RID's domain here is automatic: EINVAL before any EBUSY.
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, d1, m1.hwpt_id()) == EINVAL);
	auto rep = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, m1.stdev_id());
	rep.mock_domain_replace.pt_id = hb;
	CHECK(send(fd, IOMMU_TEST_CMD, rep) == EBUSY);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_DETACH, d1, p1, 0) == EBUSY);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_REPLACE, d1, p1, hc) == EBUSY);
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = hb;
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	CHECK_OBJECTS(fd, objs);
	CHECK(write_pasid(fd, d1, p1, s.iova, 64, 0x3B).ok());
	CHECK(only_changed(s.bb, b0, 0, 64, 0x3B));
	CHECK(dma_fill(fd, d1, s.iova, 64, 0x2A).ok());
	CHECK(only_changed(s.ba, a0, 0, 64, 0x2A));
	b0 = s.bb.snapshot();
	a0 = s.ba.snapshot();

	// Detach: that device's aux PASID faults; the other still has it.
	REQUIRE(aux_call(fd, IOMMULAB_AUX_DETACH, d1, hb) == 0);
	DmaResult r = write_pasid(fd, d1, p1, s.iova, 64, 0xEE);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, d1, hb) == ENOENT);
	CHECK(aux_call(fd, IOMMULAB_AUX_DETACH, d1, hb) == EINVAL);
	CHECK(write_pasid(fd, d2, p1, s.iova, 64, 0x4B).ok());
	CHECK(only_changed(s.bb, b0, 0, 64, 0x4B));
	b0 = s.bb.snapshot();

	// The last aux detach gives the PASID back; the HWPT can go.
	REQUIRE(aux_call(fd, IOMMULAB_AUX_DETACH, d2, hb) == 0);
	r = write_pasid(fd, d2, p1, s.iova, 64, 0xEE);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(unchanged(s.bb, b0));
	CHECK(unchanged(s.ba, a0));
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
}

TEST_CASE("aux-domain path: bad input changes nothing" * IOMMULAB_ONLY)
{
	ThreeSpaces s;
	const Iommufd &fd = s.fd;
	MockDomain md(fd, s.a.id(), MOCK_FLAGS_DEVICE_PASID);
	MockDomain plain(fd, s.a.id());
	MockDomain onc(fd, s.c.id(), MOCK_FLAGS_DEVICE_PASID);
	auto two = mock_group_alloc(fd, 2, MOCK_FLAGS_DEVICE_PASID);
	Device sib(fd, two[0].rid);
	const uint32_t dev = md.idev_id();
	const uint32_t hb = hwpt_alloc(fd, dev, s.b.id());
	const uint32_t parent = hwpt_alloc(fd, dev, s.b.id(),
					   IOMMU_HWPT_ALLOC_NEST_PARENT);
	iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
	const uint32_t nested = hwpt_alloc(fd, dev, parent, 0,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data));
	const uint32_t objs = OBJECTS_NOW(fd);
	const auto b0 = s.bb.snapshot();

	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, hb, nullptr, 1) == EOPNOTSUPP);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, hb, nullptr, 0, 1) ==
	      EOPNOTSUPP);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, 0, hb) == ENOENT);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, 0) == ENOENT);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, nested) == EINVAL);
	// An automatic HWPT (another device's, on C) dies with its last RID
	// attachment: no aux attachment may hold it.
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, onc.hwpt_id()) == EINVAL);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, s.b.id()) == EINVAL);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, plain.idev_id(), hb) == EINVAL);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, sib.id(), hb) == EINVAL);
	CHECK(aux_call(fd, IOMMULAB_AUX_DETACH, dev, hb) == EINVAL);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, dev, hb) == ENOENT);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, dev, s.b.id()) == EINVAL);
	CHECK_OBJECTS(fd, objs);

	// Nothing got a PASID: no PASID of the device reaches B.
	for (uint32_t p : {1u, 2u, 3u, 100u}) {
		DmaResult r = write_pasid(fd, dev, p, s.iova, 64, 0xEE);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	}
	CHECK(unchanged(s.bb, b0));
	// And the HWPT is free to go.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = hb;
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
}
