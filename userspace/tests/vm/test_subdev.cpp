// SPDX-License-Identifier: GPL-2.0
// Mock sub-devices (IOMMULAB_MOCK_SUBDEV_ALLOC): work queues of a shared
// device, each bound by a VM of its own and routed by the PASID path, the
// aux path, or software mediation (IOMMULAB_DEVICE_ATTACH). What each
// sub-device reaches is proven by DMA through the mock IOMMU: the bytes
// of the buffers each VM mapped, and the pages around them.
//
// An iommulab extension: iommulab-only in the differential lane. The test
// that lowers pasid_max relies on no other PASID being allocated in the
// system meanwhile, which the lane's one harness process at a time gives.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <set>
#include <vector>

#include "harness.hpp"
#include "monitor.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t GPA = MOCK_APERTURE_START + (1 << 20);
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t AUX = IOMMULAB_ATTACH_SUBDEV_AUX;
constexpr uint32_t VIA_PASID = IOMMULAB_ATTACH_SUBDEV_PASID;
const char *const SUBDEV_AUX = "/sys/module/iommulab/parameters/subdev_aux";
const char *const PASID_MAX = "/sys/module/iommulab/parameters/pasid_max";

// IOMMULAB_DEVICE_ATTACH as is: the errno; the HWPT in @out.
int attach_raw(const Iommufd &fd, uint32_t dev, uint32_t pt, uint32_t flags,
	       uint32_t *out = nullptr, uint32_t reserved = 0)
{
	iommulab_device_attach cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dev_id = dev;
	cmd.pt_id = pt;
	cmd.__reserved = reserved;
	int err = send(fd, IOMMULAB_DEVICE_ATTACH, cmd);
	if (out)
		*out = cmd.out_hwpt_id;
	return err;
}

int detach_raw(const Iommufd &fd, uint32_t dev)
{
	iommulab_device_detach cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = dev;
	return send(fd, IOMMULAB_DEVICE_DETACH, cmd);
}

// IOMMULAB_MOCK_SUBDEV_ALLOC as is: the errno; what it filled in.
int subdev_alloc_raw(const Iommufd &fd, uint32_t parent, uint32_t n,
		     uint32_t flags = 0, uint32_t reserved = 0,
		     std::vector<iommulab_mock_dev_info> *out = nullptr,
		     uint64_t uptr = 0)
{
	std::vector<iommulab_mock_dev_info> info(n > 0 && n < 64 ? n : 1);
	iommulab_mock_subdev_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.parent_id = parent;
	cmd.nr_subdevs = n;
	cmd.subdevs_uptr = uptr ? uptr : reinterpret_cast<uintptr_t>(info.data());
	cmd.__reserved = reserved;
	int err = send(fd, IOMMULAB_MOCK_SUBDEV_ALLOC, cmd);
	if (out)
		*out = info;
	return err;
}

// IOMMULAB_AUX_GET_DOMAIN as is: the errno.
int get_domain_raw(const Iommufd &fd, uint32_t dev, uint32_t flags = 0,
		   uint32_t reserved = 0)
{
	iommulab_aux_get_domain cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dev_id = dev;
	cmd.__reserved = reserved;
	return send(fd, IOMMULAB_AUX_GET_DOMAIN, cmd);
}

// IOMMULAB_MOCK_DMA (a write of @n bytes of @val) as is: the errno, and
// what it did in @res.
int dma_raw(const Iommufd &fd, uint32_t flags, uint32_t id, uint32_t pasid,
	    uint64_t iova, size_t n, uint8_t val, DmaResult *res = nullptr)
{
	std::vector<uint8_t> data(n, val);
	iommulab_mock_dma cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags | IOMMULAB_DMA_WRITE;
	cmd.rid = id;
	cmd.pasid = pasid;
	cmd.iova = iova;
	cmd.length = n;
	cmd.uptr = reinterpret_cast<uintptr_t>(data.data());
	int err = send(fd, IOMMULAB_MOCK_DMA, cmd);
	if (res)
		*res = {cmd.out_done, cmd.out_fault_iova, cmd.out_fault_reason,
			cmd.out_max_iopte};
	return err;
}

// The fault of a request that must not move a byte.
bool refused(const DmaResult &r, uint32_t reason)
{
	return r.done == 0 && r.fault_reason == reason;
}

// One VM: an fd with an IOASID set of its own (by token) and an IOAS
// mapping its memory (a page of guard on each side, mapped too) at GPA.
struct Vm {
	Iommufd fd;
	IoasidSet set;
	Ioas ioas{fd};
	Buffer mem;
	static constexpr uint64_t base = GPA - PS; // the low guard page

	Vm(uint64_t token, uint8_t seed, uint32_t quota = 16)
		: set(fd, quota, token), mem(6 * PS, seed)
	{
		ioas.map(mem.p, mem.len, RW | FIXED, base);
	}
	// The offset in mem of GPA + @off.
	static size_t at(uint64_t off) { return PS + off; }
};

// The shared device in fd0: a PASID-capable mock device alone in its
// group, bound in fd0 with its RID on a HWPT of fd0's own IOAS
// (PASID-compatible when the device takes PASIDs, so that the parent's
// driver may attach PASIDs of its own too), with @n sub-devices.
struct Parent {
	Iommufd fd;
	Ioas ioas{fd};
	Buffer mem{4 * PS, 0x50};
	MockDev hw;
	std::unique_ptr<Device> dev;
	uint32_t rid_hwpt = 0;
	std::vector<MockDev> subs;
	uint32_t path = 0xff;

	explicit Parent(uint32_t n, uint32_t dev_flags = MOCK_FLAGS_DEVICE_PASID,
			uint32_t group = 1)
		: hw(mock_group_alloc(fd, group, dev_flags)[0])
	{
		ioas.map(mem.p, mem.len, RW | FIXED, GPA);
		dev = std::make_unique<Device>(fd, hw.rid);
		rid_hwpt = hwpt_alloc(fd, dev->id(), ioas.id(),
				      dev_flags & MOCK_FLAGS_DEVICE_PASID ?
					      IOMMU_HWPT_ALLOC_PASID : 0);
		REQUIRE(dev->attach(rid_hwpt) == rid_hwpt);
		subs = mock_subdev_alloc(fd, hw.stdev_id, n, &path);
	}
};

// The parent's own (untagged) DMA reaches its RID's domain, fd0's memory.
void check_parent_rid(Parent &p, uint8_t val)
{
	const auto before = p.mem.snapshot();
	CHECK(dma_fill(p.fd, p.dev->id(), GPA + 64, 32, val).ok());
	CHECK(only_changed(p.mem, before, 64, 32, val));
}

// The seed 000 picture: parent P in fd0, WQ2 bound by VM1 (with a whole
// device of its own sharing its GPA domain), WQ3 bound by VM2, each
// sub-device attached by @flags; then every isolation claim by DMA.
void seed_000(uint32_t flags)
{
	Parent p(2);
	REQUIRE(p.path == IOMMULAB_SUBDEV_PATH_NONE);
	REQUIRE(p.subs.size() == 2);
	for (const auto &s : p.subs) {
		CHECK(s.rid >= 0x10000);
		CHECK(s.rid <= 0x1ffff);
	}
	CHECK(p.subs[0].rid != p.subs[1].rid);
	CHECK(p.subs[0].stdev_id != p.subs[1].stdev_id);

	Vm vm1(0x5eed1, 0x11), vm2(0x5eed2, 0x22);
	Device wq2(vm1.fd, p.subs[0].rid, 0xc2), wq3(vm2.fd, p.subs[1].rid, 0xc3);
	auto whole_hw = mock_group_alloc(vm1.fd, 1);
	Device whole(vm1.fd, whole_hw[0].rid);

	uint32_t pt1 = vm1.ioas.id(), pt2 = vm2.ioas.id();
	if (flags == AUX) {
		// The aux path takes a HWPT without IOMMU_HWPT_ALLOC_PASID.
		pt1 = hwpt_alloc(vm1.fd, wq2.id(), vm1.ioas.id());
		pt2 = hwpt_alloc(vm2.fd, wq3.id(), vm2.ioas.id());
	}
	const uint32_t h1 = wq2.attach(pt1, flags);
	const uint32_t h2 = wq3.attach(pt2, flags);
	CHECK(h1 != 0);
	CHECK(h2 != 0);
	if (flags == AUX) {
		CHECK(h1 == pt1);
		CHECK(h2 == pt2);
	}
	// VM1's whole device shares the sub-device's GPA domain.
	CHECK(whole.attach(h1) == h1);

	const uint32_t want = flags == AUX ? IOMMULAB_SUBDEV_PATH_AUX :
					     IOMMULAB_SUBDEV_PATH_PASID;
	const SubdevRoute r2 = aux_get_domain(vm1.fd, wq2.id());
	const SubdevRoute r3 = aux_get_domain(vm2.fd, wq3.id());
	CHECK(r2.path == want);
	CHECK(r3.path == want);
	CHECK(r2.hwpt_id == h1);
	CHECK(r3.hwpt_id == h2);
	CHECK(r2.parent_rid == p.hw.rid);
	CHECK(r3.parent_rid == p.hw.rid);
	CHECK(r2.pasid != 0);
	CHECK(r3.pasid != 0);
	CHECK(r2.pasid != r3.pasid);
	// The parent driver's view, by the creator's stdev IDs, is the same.
	const SubdevRoute c2 = aux_get_domain(p.fd, p.subs[0].stdev_id);
	const SubdevRoute c3 = aux_get_domain(p.fd, p.subs[1].stdev_id);
	CHECK(c2.path == want);
	CHECK(c2.pasid == r2.pasid);
	CHECK(c2.hwpt_id == h1);
	CHECK(c2.parent_rid == p.hw.rid);
	CHECK(c3.path == want);
	CHECK(c3.pasid == r3.pasid);
	CHECK(c3.hwpt_id == h2);
	if (flags == VIA_PASID) {
		// The PASID path's PASIDs come from each binder's own set.
		CHECK(vm1.set.info().nr_pasids == 1);
		CHECK(vm2.set.info().nr_pasids == 1);
	}

	// The parent keeps its RID's domain: its DMA lands in fd0's memory.
	const auto m1 = vm1.mem.snapshot(), m2 = vm2.mem.snapshot();
	check_parent_rid(p, 0x9A);
	CHECK(unchanged(vm1.mem, m1));
	CHECK(unchanged(vm2.mem, m2));

	// VM1's whole device and VM1's sub-device land at the same GPA of
	// VM1's memory, and nowhere else.
	CHECK(dma_fill(vm1.fd, whole.id(), GPA + 100, 50, 0xD1).ok());
	CHECK(only_changed(vm1.mem, m1, Vm::at(100), 50, 0xD1));
	auto v1 = vm1.mem.snapshot();
	CHECK(dma_fill(vm1.fd, wq2.id(), GPA + 100, 50, 0xE2).ok());
	CHECK(only_changed(vm1.mem, v1, Vm::at(100), 50, 0xE2));
	CHECK(unchanged(vm2.mem, m2));
	// The handle as the RID names the same sub-device.
	v1 = vm1.mem.snapshot();
	std::vector<uint8_t> data(PS, 0xE3);
	CHECK(dma(vm1.fd, p.subs[0].rid, GPA + PS, data.data(), PS, true, true)
		      .ok());
	CHECK(only_changed(vm1.mem, v1, Vm::at(PS), PS, 0xE3));
	// What the sub-device reads is what the whole device wrote.
	uint8_t got[4] = {};
	CHECK(dma(vm1.fd, wq2.id(), GPA + 100, got, 4, false).ok());
	CHECK(got[0] == 0xE2);
	CHECK(dma(vm1.fd, whole.id(), GPA + PS, got, 4, false).ok());
	CHECK(got[0] == 0xE3);
	v1 = vm1.mem.snapshot();

	// VM2's sub-device lands in VM2's memory only.
	CHECK(dma_fill(vm2.fd, wq3.id(), GPA + 100, 50, 0xF3).ok());
	CHECK(only_changed(vm2.mem, m2, Vm::at(100), 50, 0xF3));
	CHECK(unchanged(vm1.mem, v1));
	const auto v2 = vm2.mem.snapshot();

	// Whatever VM1 tags its sub-device's requests with, it never reaches
	// VM2's memory: VM2's sub-device's PASID, the parent's own PASIDs, a
	// PASID of VM1's set that is not its own, vPASIDs of either set,
	// random numbers.
	// (The parent's driver has a set of its own: a PASID that
	// DEVICE_PASID_ALLOC takes for an fd without a set is not freed by
	// the fd's close, which would shorten the space for later tests.)
	IoasidSet pset(p.fd, 4, 0x5eed0);
	const uint32_t ph = hwpt_alloc(p.fd, p.dev->id(), p.ioas.id(),
				       IOMMU_HWPT_ALLOC_PASID);
	const uint32_t pp = device_pasid_alloc(p.fd, p.dev->id(), ph);
	CHECK(pp != r2.pasid);
	CHECK(pp != r3.pasid);
	{
		// The parent's driver's PASID reaches fd0's memory only.
		const auto pm0 = p.mem.snapshot();
		CHECK(write_pasid(p.fd, p.dev->id(), pp, GPA + 300, 8, 0x9D).ok());
		CHECK(only_changed(p.mem, pm0, 300, 8, 0x9D));
		CHECK(unchanged(vm1.mem, v1));
		CHECK(unchanged(vm2.mem, v2));
	}
	const uint32_t other1 = vm1.set.alloc();
	vm1.set.bind(other1, 77);
	const uint32_t other2 = vm2.set.alloc();
	vm2.set.bind(r3.pasid, 33);
	vm2.set.bind(other2, 34);
	std::set<uint32_t> tags = {r3.pasid, pp,     other1, other2, 77,
				   33,	     34,     0,	     1,	     2,
				   3,	     1000,   0x1234, 0xfffff};
	for (uint32_t t = 5; t < 200; t += 37)
		tags.insert(t);
	tags.erase(r2.pasid);
	for (uint32_t tag : tags) {
		CAPTURE(tag);
		DmaResult r;
		REQUIRE(dma_raw(vm1.fd, IOMMULAB_DMA_DEV_ID | IOMMULAB_DMA_PASID,
				wq2.id(), tag, GPA + 100, 50, 0x66, &r) == 0);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_NO_PASID));
		REQUIRE(dma_raw(vm1.fd, IOMMULAB_DMA_PASID, p.subs[0].rid, tag,
				GPA + 100, 50, 0x67, &r) == 0);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_NO_PASID));
	}
	CHECK(unchanged(vm1.mem, v1));
	CHECK(unchanged(vm2.mem, v2));

	// Only the binder drives the sub-device: not the creator (EPERM: the
	// group is the binder's), nor the other VM (ENOENT: neither plugged
	// in nor bound there).
	const auto pm = p.mem.snapshot();
	DmaResult r;
	CHECK(dma_raw(p.fd, IOMMULAB_DMA_DEV_ID, p.subs[0].stdev_id, 0, GPA, 8,
		      0x68, &r) == EPERM);
	CHECK(dma_raw(p.fd, 0, p.subs[0].rid, 0, GPA, 8, 0x68, &r) == EPERM);
	CHECK(dma_raw(vm2.fd, 0, p.subs[0].rid, 0, GPA, 8, 0x68, &r) == ENOENT);
	CHECK(dma_raw(vm1.fd, 0, p.subs[1].rid, 0, GPA, 8, 0x68, &r) == ENOENT);
	CHECK(unchanged(vm1.mem, v1));
	CHECK(unchanged(vm2.mem, v2));
	CHECK(unchanged(p.mem, pm));

	// And the parent's RID still reaches only its own memory.
	check_parent_rid(p, 0x9B);
	CHECK(unchanged(vm1.mem, v1));
	CHECK(unchanged(vm2.mem, v2));
	device_pasid(p.fd, p.dev->id(), IOMMULAB_PASID_DETACH, pp);
	whole.detach();
}

} // namespace

TEST_CASE("subdev: seed 000 on the PASID path" * IOMMULAB_ONLY)
{
	seed_000(VIA_PASID);
}

TEST_CASE("subdev: seed 000 on the aux path" * IOMMULAB_ONLY)
{
	seed_000(AUX);
}

TEST_CASE("subdev: module parameter subdev_aux picks the path" *
	  IOMMULAB_ONLY)
{
	Parent p(1);
	Vm vm(0x5eed3, 0x31);
	Device wq(vm.fd, p.subs[0].rid);
	const uint32_t h = hwpt_alloc(vm.fd, wq.id(), vm.ioas.id(),
				      IOMMU_HWPT_ALLOC_PASID);

	for (const char *value : {"1", "0", "Y", "N"}) {
		CAPTURE(value);
		ScopedSetting param(SUBDEV_AUX, value);
		REQUIRE(param.ok());
		const bool aux = value[0] == '1' || value[0] == 'Y';
		const uint32_t nr = vm.set.info().nr_pasids;

		// No flag: the parameter names the path of a first attach.
		CHECK(wq.attach(h) == h);
		SubdevRoute r = aux_get_domain(vm.fd, wq.id());
		CHECK(r.path == (aux ? IOMMULAB_SUBDEV_PATH_AUX :
				       IOMMULAB_SUBDEV_PATH_PASID));
		CHECK(r.pasid != 0);
		const auto m = vm.mem.snapshot();
		CHECK(dma_fill(vm.fd, wq.id(), GPA, 16, 0x40 + value[0]).ok());
		CHECK(only_changed(vm.mem, m, Vm::at(0), 16, 0x40 + value[0]));

		// A replace without a flag keeps the attachment's path, even
		// when the parameter now says the other one.
		{
			ScopedSetting flip(SUBDEV_AUX, aux ? "0" : "1");
			REQUIRE(flip.ok());
			Ioas other(vm.fd);
			Buffer om(PS, 0x77);
			other.map(om.p, om.len, RW | FIXED, GPA);
			const uint32_t h2 = hwpt_alloc(vm.fd, wq.id(), other.id(),
						       IOMMU_HWPT_ALLOC_PASID);
			const auto o0 = om.snapshot(), m1 = vm.mem.snapshot();
			CHECK(wq.attach(h2) == h2);
			CHECK(aux_get_domain(vm.fd, wq.id()).path == r.path);
			CHECK(dma_fill(vm.fd, wq.id(), GPA, 16, 0x99).ok());
			CHECK(only_changed(om, o0, 0, 16, 0x99));
			CHECK(unchanged(vm.mem, m1));
			CHECK(wq.attach(h) == h);
			CHECK(aux_get_domain(vm.fd, wq.id()).path == r.path);
			vm.fd.destroy(h2);
		}
		// The PASID path takes its PASID from the binder's set; the aux
		// path's default PASID too (the HWPT's, made by this attach).
		CHECK(vm.set.info().nr_pasids == nr + 1);
		wq.detach();
		CHECK(vm.set.info().nr_pasids == nr);
	}
	CHECK(get_domain_raw(vm.fd, wq.id()) == ENOENT);
}

TEST_CASE("subdev: replace and detach, each path" * IOMMULAB_ONLY)
{
	Parent p(1);
	Vm vm(0x5eed4, 0x41);
	Device wq(vm.fd, p.subs[0].rid);
	Ioas ioas_b(vm.fd);
	Buffer mem_b(6 * PS, 0x42);
	ioas_b.map(mem_b.p, mem_b.len, RW | FIXED, Vm::base);

	for (uint32_t flags : {VIA_PASID, AUX}) {
		CAPTURE(flags);
		const uint32_t extra = flags == VIA_PASID ? IOMMU_HWPT_ALLOC_PASID : 0;
		const uint32_t ha = hwpt_alloc(vm.fd, wq.id(), vm.ioas.id(), extra);
		const uint32_t hb = hwpt_alloc(vm.fd, wq.id(), ioas_b.id(), extra);
		auto a0 = vm.mem.snapshot(), b0 = mem_b.snapshot();

		CHECK(wq.attach(ha, flags) == ha);
		const SubdevRoute ra = aux_get_domain(vm.fd, wq.id());
		CHECK(ra.hwpt_id == ha);
		CHECK(dma_fill(vm.fd, wq.id(), GPA + 8, 24, 0xA1).ok());
		CHECK(only_changed(vm.mem, a0, Vm::at(8), 24, 0xA1));
		CHECK(unchanged(mem_b, b0));
		a0 = vm.mem.snapshot();

		// Replace: in one step the old domain is out of reach.
		CHECK(wq.attach(hb, flags) == hb);
		const SubdevRoute rb = aux_get_domain(vm.fd, wq.id());
		CHECK(rb.hwpt_id == hb);
		CHECK(rb.path == ra.path);
		if (flags == VIA_PASID)
			CHECK(rb.pasid == ra.pasid); // kept across replace
		else
			CHECK(rb.pasid != ra.pasid); // the new HWPT's default
		CHECK(dma_fill(vm.fd, wq.id(), GPA + 8, 24, 0xB2).ok());
		CHECK(only_changed(mem_b, b0, Vm::at(8), 24, 0xB2));
		CHECK(unchanged(vm.mem, a0));
		b0 = mem_b.snapshot();
		// The old PASID is no tag that reaches anything any more.
		if (flags == AUX) {
			CHECK(refused(write_pasid(vm.fd, wq.id(), ra.pasid, GPA, 8,
						  0xEE),
				      IOMMULAB_DMA_FAULT_NO_PASID));
		}
		CHECK(write_pasid(vm.fd, wq.id(), rb.pasid, GPA, 8, 0xB3).ok());
		CHECK(only_changed(mem_b, b0, Vm::at(0), 8, 0xB3));
		CHECK(unchanged(vm.mem, a0));
		b0 = mem_b.snapshot();

		// A replace naming the other path is refused, and the route
		// stays.
		const uint32_t other = flags == AUX ? VIA_PASID : AUX;
		CHECK(attach_raw(vm.fd, wq.id(), ha, other) == EINVAL);
		CHECK(aux_get_domain(vm.fd, wq.id()).hwpt_id == hb);

		// Detach: DMA faults BLOCKED and touches no memory.
		wq.detach();
		DmaResult r;
		REQUIRE(dma_raw(vm.fd, IOMMULAB_DMA_DEV_ID, wq.id(), 0, GPA, PS,
				0xCC, &r) == 0);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_BLOCKED));
		REQUIRE(dma_raw(vm.fd, 0, p.subs[0].rid, 0, GPA, PS, 0xCC, &r) == 0);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_BLOCKED));
		CHECK(unchanged(vm.mem, a0));
		CHECK(unchanged(mem_b, b0));
		CHECK(get_domain_raw(vm.fd, wq.id()) == ENOENT);
		CHECK(get_domain_raw(p.fd, p.subs[0].stdev_id) == ENOENT);
		CHECK(detach_raw(vm.fd, wq.id()) == EINVAL);
		// The PASID path's PASID went back to the set.
		CHECK(vm.set.info().nr_pasids == 0);
		check_parent_rid(p, 0x5C);
		vm.fd.destroy(ha);
		vm.fd.destroy(hb);
	}
}

TEST_CASE("subdev: a tagged request reaches only the sub-device's own PASID" *
	  IOMMULAB_ONLY)
{
	Parent p(1);
	Vm vm(0x5eed5, 0x51);
	Device wq(vm.fd, p.subs[0].rid);

	for (uint32_t flags : {VIA_PASID, AUX}) {
		CAPTURE(flags);
		const uint32_t h = wq.attach(vm.ioas.id(), flags);
		const SubdevRoute r = aux_get_domain(vm.fd, wq.id());
		CHECK(r.hwpt_id == h);
		auto m = vm.mem.snapshot();

		// Tagged with its own PASID: through its domain.
		CHECK(write_pasid(vm.fd, wq.id(), r.pasid, GPA, 8, 0x01).ok());
		CHECK(only_changed(vm.mem, m, Vm::at(0), 8, 0x01));
		m = vm.mem.snapshot();
		if (flags == VIA_PASID) {
			// A guest's vPASID bound to its PASID: the same.
			vm.set.bind(r.pasid, 0x4242);
			CHECK(vm.set.lookup(0x4242) == r.pasid);
			CHECK(write_pasid(vm.fd, wq.id(), 0x4242, GPA + 8, 8, 0x02)
				      .ok());
			CHECK(only_changed(vm.mem, m, Vm::at(8), 8, 0x02));
			m = vm.mem.snapshot();
		}
		// Reads too.
		uint8_t got[2] = {};
		CHECK(dma_pasid(vm.fd, wq.id(), r.pasid, GPA, got, 2, false).ok());
		CHECK(got[0] == 0x01);

		// Any other tag faults NO_PASID and moves nothing: another
		// PASID of the set, a vPASID bound to it, an unbound vPASID,
		// PASID 0, the widest PASID.
		const uint32_t q = vm.set.alloc();
		vm.set.bind(q, 0x4343);
		for (uint32_t tag : {q, 0x4343u, 0x4444u, 0u, (1u << 20) - 1,
				     r.pasid + 1}) {
			if (tag == r.pasid)
				continue;
			CAPTURE(tag);
			const DmaResult d = write_pasid(vm.fd, wq.id(), tag, GPA,
							PS, 0xEE);
			CHECK(refused(d, IOMMULAB_DMA_FAULT_NO_PASID));
			CHECK(d.fault_iova == GPA);
			uint8_t rd[4] = {0xAB, 0xAB, 0xAB, 0xAB};
			CHECK(refused(dma_pasid(vm.fd, wq.id(), tag, GPA, rd, 4,
						false),
				      IOMMULAB_DMA_FAULT_NO_PASID));
			CHECK(rd[0] == 0xAB);
		}
		CHECK(unchanged(vm.mem, m));
		// Untagged: its own PASID.
		CHECK(dma_fill(vm.fd, wq.id(), GPA + 16, 8, 0x03).ok());
		CHECK(only_changed(vm.mem, m, Vm::at(16), 8, 0x03));
		vm.set.free(q);
		if (flags == VIA_PASID)
			vm.set.unbind(r.pasid);
		wq.detach();
	}
	check_parent_rid(p, 0x5D);
}

TEST_CASE("subdev: software-mediated sub-device reaches only its IOAS" *
	  IOMMULAB_ONLY)
{
	// A parent without PASIDs, and a PASID-capable one in a group of
	// two: both mediate their sub-devices in software.
	Parent noncap(1, 0);
	CHECK(noncap.path == IOMMULAB_SUBDEV_PATH_SW);
	Parent grouped(1, MOCK_FLAGS_DEVICE_PASID, 2);
	CHECK(grouped.path == IOMMULAB_SUBDEV_PATH_SW);

	for (Parent *p : {&noncap, &grouped}) {
		Iommufd fd;
		Ioas ioas(fd), other(fd);
		Buffer mem(4 * PS, 0x61), ro(PS, 0x62), om(4 * PS, 0x63);
		ioas.map(mem.p, mem.len, RW | FIXED, GPA);
		ioas.map(ro.p, ro.len, IOMMU_IOAS_MAP_READABLE | FIXED,
			 GPA + 8 * PS);
		other.map(om.p, om.len, RW | FIXED, GPA);
		Device wq(fd, p->subs[0].rid);
		auto whole_hw = mock_group_alloc(fd, 1);
		Device whole(fd, whole_hw[0].rid);
		whole.attach(ioas.id());
		const uint32_t hwpt = hwpt_alloc(fd, whole.id(), ioas.id());
		const auto m0 = mem.snapshot(), r0 = ro.snapshot(),
			   o0 = om.snapshot();
		const uint32_t objs = nr_objects(fd);

		// Not attached yet: blocked.
		DmaResult r;
		REQUIRE(dma_raw(fd, IOMMULAB_DMA_DEV_ID, wq.id(), 0, GPA, 8, 0xEE,
				&r) == 0);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_BLOCKED));

		// Only an IOAS, and no path flag.
		CHECK(attach_raw(fd, wq.id(), hwpt, 0) == EINVAL);
		CHECK(attach_raw(fd, wq.id(), ioas.id(), AUX) == EINVAL);
		CHECK(attach_raw(fd, wq.id(), ioas.id(), VIA_PASID) == EINVAL);
		CHECK(get_domain_raw(fd, wq.id()) == ENOENT);
		CHECK(nr_objects(fd) == objs);

		uint32_t out = 0xdead;
		REQUIRE(attach_raw(fd, wq.id(), ioas.id(), 0, &out) == 0);
		CHECK(out == 0);
		CHECK(nr_objects(fd) == objs); // no automatic HWPT
		const SubdevRoute route = aux_get_domain(fd, wq.id());
		CHECK(route.path == IOMMULAB_SUBDEV_PATH_SW);
		CHECK(route.hwpt_id == 0);
		CHECK(route.pasid == 0);
		CHECK(route.parent_rid == p->hw.rid);
		CHECK(aux_get_domain(p->fd, p->subs[0].stdev_id).path ==
		      IOMMULAB_SUBDEV_PATH_SW);

		// Through the IOAS's mappings, across pages.
		CHECK(dma_fill(fd, wq.id(), GPA + PS - 10, 20, 0x71).ok());
		CHECK(only_changed(mem, m0, PS - 10, 20, 0x71));
		uint8_t got[4] = {};
		CHECK(dma(fd, whole.id(), GPA + PS - 10, got, 4, false).ok());
		CHECK(got[0] == 0x71);
		auto m1 = mem.snapshot();
		// Unmapped: NOT_MAPPED where the mapping ends, not a byte past.
		r = dma_fill(fd, wq.id(), GPA + 4 * PS - 8, 16, 0x72);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
		CHECK(r.done == 8);
		CHECK(r.fault_iova == GPA + 4 * PS);
		CHECK(only_changed(mem, m1, 4 * PS - 8, 8, 0x72));
		m1 = mem.snapshot();
		r = dma_fill(fd, wq.id(), GPA + 16 * PS, 8, 0x73);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_NOT_MAPPED));
		// A read-only mapping: read works, write faults PERMISSION.
		CHECK(dma(fd, wq.id(), GPA + 8 * PS, got, 4, false).ok());
		CHECK(got[0] == r0[0]);
		r = dma_fill(fd, wq.id(), GPA + 8 * PS, 8, 0x74);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_PERMISSION));
		CHECK(unchanged(ro, r0));
		// A tag: EINVAL, nothing moved.
		CHECK(dma_raw(fd, IOMMULAB_DMA_DEV_ID | IOMMULAB_DMA_PASID,
			      wq.id(), 1, GPA, 8, 0x75) == EINVAL);
		CHECK(unchanged(mem, m1));
		CHECK(unchanged(om, o0));

		// An unmap takes effect at once: the IOAS itself translates.
		Buffer late(PS, 0x64);
		ioas.map(late.p, late.len, RW | FIXED, GPA + 12 * PS);
		CHECK(dma_fill(fd, wq.id(), GPA + 12 * PS, 8, 0x76).ok());
		CHECK(late.p[0] == 0x76);
		const auto l1 = late.snapshot();
		ioas.unmap(GPA + 12 * PS, PS);
		r = dma_fill(fd, wq.id(), GPA + 12 * PS, 8, 0x79);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_NOT_MAPPED));
		CHECK(unchanged(late, l1));
		CHECK(unchanged(mem, m1));

		// Replace by another IOAS: only the new one is reached.
		REQUIRE(attach_raw(fd, wq.id(), other.id(), 0, &out) == 0);
		CHECK(out == 0);
		CHECK(dma_fill(fd, wq.id(), GPA, 8, 0x77).ok());
		CHECK(only_changed(om, o0, 0, 8, 0x77));
		CHECK(unchanged(mem, m1));
		const auto o1 = om.snapshot();
		CHECK(attach_raw(fd, wq.id(), hwpt, 0) == EINVAL);

		// Detach: blocked, nothing moved.
		wq.detach();
		r = dma_fill(fd, wq.id(), GPA, 8, 0x78);
		CHECK(refused(r, IOMMULAB_DMA_FAULT_BLOCKED));
		CHECK(unchanged(om, o1));
		CHECK(unchanged(mem, m1));
		CHECK(get_domain_raw(fd, wq.id()) == ENOENT);
		fd.destroy(hwpt);
		check_parent_rid(*p, 0x5E);
	}
}

TEST_CASE("subdev: bad input changes nothing" * IOMMULAB_ONLY)
{
	Parent p(2);
	REQUIRE(p.path == IOMMULAB_SUBDEV_PATH_NONE);
	Vm vm(0x5eed6, 0x81, 2);
	Device wq(vm.fd, p.subs[0].rid), wq2(vm.fd, p.subs[1].rid);
	auto plain_hw = mock_group_alloc(vm.fd, 1, MOCK_FLAGS_DEVICE_PASID);
	Device plain(vm.fd, plain_hw[0].rid);
	plain.attach(vm.ioas.id());
	const uint32_t h_pasid = hwpt_alloc(vm.fd, wq.id(), vm.ioas.id(),
					    IOMMU_HWPT_ALLOC_PASID);
	const uint32_t h_plain = hwpt_alloc(vm.fd, wq.id(), vm.ioas.id());
	const uint32_t parent_s2 = hwpt_alloc(vm.fd, plain.id(), vm.ioas.id(),
					      IOMMU_HWPT_ALLOC_NEST_PARENT);
	iommu_hwpt_selftest data{IOMMU_TEST_IOTLB_DEFAULT};
	const uint32_t nested = hwpt_alloc(vm.fd, plain.id(), parent_s2,
					   IOMMU_HWPT_ALLOC_PASID,
					   IOMMU_HWPT_DATA_SELFTEST, &data,
					   sizeof(data));
	// wq routed by the PASID path to h_pasid; wq2 unattached.
	REQUIRE(wq.attach(h_pasid, VIA_PASID) == h_pasid);
	const SubdevRoute route = aux_get_domain(vm.fd, wq.id());

	const uint32_t o0 = nr_objects(p.fd), o1 = nr_objects(vm.fd);
	const uint64_t all = nr_objects_all(p.fd);
	const IoasidSetInfo set0 = vm.set.info();
	auto same = [&]() {
		CHECK(nr_objects(p.fd) == o0);
		CHECK(nr_objects(vm.fd) == o1);
		CHECK(nr_objects_all(p.fd) == all);
		const IoasidSetInfo s = vm.set.info();
		CHECK(s.nr_pasids == set0.nr_pasids);
		CHECK(s.nr_bound == set0.nr_bound);
		const SubdevRoute now = aux_get_domain(vm.fd, wq.id());
		CHECK(now.hwpt_id == route.hwpt_id);
		CHECK(now.pasid == route.pasid);
		CHECK(now.path == route.path);
		CHECK(get_domain_raw(vm.fd, wq2.id()) == ENOENT);
	};

	// A refused call: its errno, and nothing changed.
#define REFUSED(call, err)                                                     \
	do {                                                                   \
		CHECK((call) == (err));                                        \
		same();                                                        \
	} while (0)

	SUBCASE("MOCK_SUBDEV_ALLOC") {
		std::vector<iommulab_mock_dev_info> out;
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 1, 1), EOPNOTSUPP);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 1, 0x80000000u), EOPNOTSUPP);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 1, 0, 1), EOPNOTSUPP);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 0), EINVAL);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 9), EINVAL);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 0xffffffffu), EINVAL);
		REFUSED(subdev_alloc_raw(p.fd, 0, 1), ENOENT);
		REFUSED(subdev_alloc_raw(p.fd, 0xfffffff, 1), ENOENT);
		REFUSED(subdev_alloc_raw(p.fd, p.ioas.id(), 1), ENOENT);
		// Another fd's parent is no parent of this one.
		REFUSED(subdev_alloc_raw(vm.fd, p.hw.stdev_id, 1), ENOENT);
		// A sub-device cannot have sub-devices.
		REFUSED(subdev_alloc_raw(p.fd, p.subs[0].stdev_id, 1), EINVAL);
		REFUSED(subdev_alloc_raw(p.fd, p.subs[1].stdev_id, 1), EINVAL);
		REFUSED(subdev_alloc_raw(p.fd, p.hw.stdev_id, 2, 0, 0, nullptr, 8), EFAULT);
		same();
		// 8 is allowed (and undone).
		REQUIRE(subdev_alloc_raw(p.fd, p.hw.stdev_id, 8, 0, 0, &out) == 0);
		CHECK(nr_objects(p.fd) == o0 + 8);
		std::set<uint32_t> rids;
		for (const auto &d : out) {
			CHECK(d.rid >= 0x10000);
			CHECK(d.rid <= 0x1ffff);
			rids.insert(d.rid);
			p.fd.destroy(d.stdev_id);
		}
		CHECK(rids.size() == 8);
		same();
	}
	SUBCASE("DEVICE_ATTACH") {
		uint32_t out = 0;
		REFUSED(attach_raw(vm.fd, wq2.id(), h_pasid, AUX | VIA_PASID), EINVAL);
		REFUSED(attach_raw(vm.fd, wq2.id(), h_pasid, 4), EOPNOTSUPP);
		REFUSED(attach_raw(vm.fd, wq2.id(), h_pasid, VIA_PASID | 4), EOPNOTSUPP);
		REFUSED(attach_raw(vm.fd, wq2.id(), h_pasid, 0x80000000u), EOPNOTSUPP);
		// Flags on a device that is not a sub-device.
		REFUSED(attach_raw(vm.fd, plain.id(), h_pasid, AUX), EINVAL);
		REFUSED(attach_raw(vm.fd, plain.id(), h_pasid, VIA_PASID), EINVAL);
		// The PASID path needs a PASID-compatible HWPT; no nested one
		// on either path.
		REFUSED(attach_raw(vm.fd, wq2.id(), h_plain, VIA_PASID), EINVAL);
		REFUSED(attach_raw(vm.fd, wq2.id(), nested, VIA_PASID), EINVAL);
		REFUSED(attach_raw(vm.fd, wq2.id(), nested, AUX), EINVAL);
		REFUSED(attach_raw(vm.fd, wq.id(), nested, 0), EINVAL);
		// Bad IDs.
		REFUSED(attach_raw(vm.fd, wq2.id(), 0, VIA_PASID), ENOENT);
		REFUSED(attach_raw(vm.fd, 0xfffffff, h_pasid, VIA_PASID), ENOENT);
		// A replace naming the other path.
		REFUSED(attach_raw(vm.fd, wq.id(), h_plain, AUX), EINVAL);
		REFUSED(attach_raw(vm.fd, wq.id(), vm.ioas.id(), AUX), EINVAL);
		// The quota: the set holds 2, one is wq's, take the other.
		const uint32_t last = vm.set.alloc();
		const IoasidSetInfo full = vm.set.info();
		CHECK(attach_raw(vm.fd, wq2.id(), h_pasid, VIA_PASID) == ENOSPC);
		CHECK(attach_raw(vm.fd, wq2.id(), vm.ioas.id(), VIA_PASID) ==
		      ENOSPC);
		CHECK(vm.set.info().nr_pasids == full.nr_pasids);
		CHECK(nr_objects(vm.fd) == o1 + 0);
		CHECK(get_domain_raw(vm.fd, wq2.id()) == ENOENT);
		vm.set.free(last);
		// The aux path: EBUSY when the HWPT is already aux-attached on
		// the same parent (by the other sub-device).
		REQUIRE(attach_raw(vm.fd, wq2.id(), h_plain, AUX, &out) == 0);
		const SubdevRoute aux2 = aux_get_domain(vm.fd, wq2.id());
		const MockDev extra_hw = mock_subdev_alloc(p.fd, p.hw.stdev_id, 1)[0];
		Device extra(vm.fd, extra_hw.rid);
		const uint32_t o1x = nr_objects(vm.fd);
		CHECK(attach_raw(vm.fd, extra.id(), h_plain, AUX) == EBUSY);
		CHECK(get_domain_raw(vm.fd, extra.id()) == ENOENT);
		CHECK(nr_objects(vm.fd) == o1x);
		CHECK(aux_get_domain(vm.fd, wq2.id()).pasid == aux2.pasid);
		REQUIRE(detach_raw(vm.fd, wq2.id()) == 0);
		extra.destroy();
		CHECK(nr_objects(p.fd) == o0 + 1);
		p.fd.destroy(extra_hw.stdev_id);
		same();
	}
	SUBCASE("AUX_GET_DOMAIN") {
		REFUSED(get_domain_raw(vm.fd, wq2.id()), ENOENT); // not attached
		REFUSED(get_domain_raw(vm.fd, 0), ENOENT);
		REFUSED(get_domain_raw(vm.fd, 0xfffffff), ENOENT);
		REFUSED(get_domain_raw(vm.fd, plain.id()), EINVAL);
		REFUSED(get_domain_raw(p.fd, p.dev->id()), EINVAL);
		REFUSED(get_domain_raw(p.fd, p.hw.stdev_id), EINVAL);
		REFUSED(get_domain_raw(vm.fd, wq.id(), 1), EOPNOTSUPP);
		REFUSED(get_domain_raw(vm.fd, wq.id(), 0, 1), EOPNOTSUPP);
		// The creator's view of the attached one answers.
		CHECK(get_domain_raw(p.fd, p.subs[0].stdev_id) == 0);
		REFUSED(get_domain_raw(p.fd, p.subs[1].stdev_id), ENOENT);
		same();
	}
	SUBCASE("DEVICE_BIND and MOCK_DMA") {
		// A sub-device is bound to one fd at a time.
		iommulab_device_bind b{};
		b.size = sizeof(b);
		b.rid = p.subs[0].rid;
		REFUSED(send(p.fd, IOMMULAB_DEVICE_BIND, b), EBUSY);
		b.rid = 0x1ffff;
		REFUSED(send(p.fd, IOMMULAB_DEVICE_BIND, b), ENOENT);
		// The creator cannot drive a sub-device another fd bound.
		REFUSED(dma_raw(p.fd, IOMMULAB_DMA_DEV_ID, p.subs[0].stdev_id, 0,
			      GPA, 8, 0xEE), EPERM);
		same();
	}
	SUBCASE("the creator binds a sub-device itself") {
		// The parent's driver plays the hardware for a sub-device it
		// bound itself: by the stdev ID, the device ID or the handle.
		const MockDev own_hw = mock_subdev_alloc(p.fd, p.hw.stdev_id, 1)[0];
		Device own(p.fd, own_hw.rid);
		// The aux path refuses the parent's own RID domain.
		CHECK(attach_raw(p.fd, own.id(), p.rid_hwpt, AUX) == EBUSY);
		CHECK(get_domain_raw(p.fd, own.id()) == ENOENT);
		CHECK(get_domain_raw(p.fd, own_hw.stdev_id) == ENOENT);
		// And the reverse: a HWPT the sub-device uses as its aux
		// domain cannot become the parent's RID domain; the RID stays.
		{
			const uint32_t hx = hwpt_alloc(p.fd, p.dev->id(),
						       p.ioas.id());
			REQUIRE(attach_raw(p.fd, own.id(), hx, AUX) == 0);
			CHECK(attach_raw(p.fd, p.dev->id(), hx, 0) == EBUSY);
			check_parent_rid(p, 0x3b);
			own.detach();
			// Once the sub-device let go, the RID may move there.
			CHECK(attach_raw(p.fd, p.dev->id(), hx, 0) == 0);
			CHECK(attach_raw(p.fd, p.dev->id(), p.rid_hwpt, 0) == 0);
			p.fd.destroy(hx);
		}
		// The PASID path may share it.
		REQUIRE(attach_raw(p.fd, own.id(), p.rid_hwpt, VIA_PASID) == 0);
		const SubdevRoute r = aux_get_domain(p.fd, own_hw.stdev_id);
		CHECK(r.path == IOMMULAB_SUBDEV_PATH_PASID);
		CHECK(r.hwpt_id == p.rid_hwpt);
		// Three requests, one by each name, land side by side.
		const auto pm0 = p.mem.snapshot();
		DmaResult d;
		REQUIRE(dma_raw(p.fd, IOMMULAB_DMA_DEV_ID, own_hw.stdev_id, 0,
				GPA + 200, 8, 0xC1, &d) == 0);
		CHECK(d.ok());
		REQUIRE(dma_raw(p.fd, IOMMULAB_DMA_DEV_ID, own.id(), 0, GPA + 208,
				8, 0xC1, &d) == 0);
		CHECK(d.ok());
		REQUIRE(dma_raw(p.fd, 0, own_hw.rid, 0, GPA + 216, 8, 0xC1, &d) == 0);
		CHECK(d.ok());
		CHECK(only_changed(p.mem, pm0, 200, 24, 0xC1));
		const auto pm = p.mem.snapshot();
		// Nobody else can drive it.
		CHECK(dma_raw(vm.fd, 0, own_hw.rid, 0, GPA, 8, 0xEE) == ENOENT);
		CHECK(unchanged(p.mem, pm));
		own.detach();
		own.destroy();
		p.fd.destroy(own_hw.stdev_id);
		same();
	}
	// Whatever failed, the route still works, and the parent's RID.
	const auto m = vm.mem.snapshot();
	CHECK(dma_fill(vm.fd, wq.id(), GPA + 32, 8, 0x8A).ok());
	CHECK(only_changed(vm.mem, m, Vm::at(32), 8, 0x8A));
	check_parent_rid(p, 0x8B);
#undef REFUSED

	// The parent's stdev cannot go while it has sub-devices.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = p.hw.stdev_id;
	CHECK(send(p.fd, IOMMU_DESTROY, d) == EBUSY);
	CHECK(nr_objects(p.fd) == o0);
	check_parent_rid(p, 0x8C);
	wq.detach();
	wq.destroy();
	wq2.destroy();
	p.fd.destroy(p.subs[0].stdev_id);
	CHECK(send(p.fd, IOMMU_DESTROY, d) == EBUSY);
	p.fd.destroy(p.subs[1].stdev_id);
	p.dev->destroy();
	const uint32_t left = nr_objects(p.fd);
	CHECK(send(p.fd, IOMMU_DESTROY, d) == 0);
	CHECK(nr_objects(p.fd) == left - 1);
}

TEST_CASE("subdev: fd close frees every PASID" * IOMMULAB_ONLY)
{
	constexpr uint32_t N = 4;
	Parent p(N);
	REQUIRE(p.path == IOMMULAB_SUBDEV_PATH_NONE);
	const uint64_t base = nr_objects_all(p.fd);
	// The whole system space is N PASIDs: one leaked PASID would make
	// the second round short.
	ScopedSetting max(PASID_MAX, std::to_string(N));
	REQUIRE(max.ok());

	for (int round = 0; round < 2; round++) {
		CAPTURE(round);
		{
			Vm vm(0xc105e, 0x91, N);
			std::vector<std::unique_ptr<Device>> wqs;
			std::set<uint32_t> pasids;
			for (uint32_t i = 0; i < N; i++) {
				CAPTURE(i);
				wqs.push_back(std::make_unique<Device>(
					vm.fd, p.subs[i].rid));
				// Half by the PASID path, half by the aux path
				// (each on a HWPT of its own).
				const uint32_t flags = i % 2 ? AUX : VIA_PASID;
				const uint32_t h = hwpt_alloc(
					vm.fd, wqs[i]->id(), vm.ioas.id(),
					IOMMU_HWPT_ALLOC_PASID);
				REQUIRE(wqs[i]->attach(h, flags) == h);
				pasids.insert(aux_get_domain(vm.fd, wqs[i]->id())
						      .pasid);
			}
			CHECK(pasids.size() == N);
			CHECK(vm.set.info().nr_pasids == N);
			iommulab_ioasid a{};
			a.size = sizeof(a);
			a.op = IOMMULAB_IOASID_ALLOC;
			a.set_id = vm.set.id();
			CHECK(send(vm.fd, IOMMULAB_IOASID, a) == ENOSPC);
			// Every sub-device reaches the VM's memory, each its
			// own page.
			auto m = vm.mem.snapshot();
			for (uint32_t i = 0; i < N; i++) {
				CHECK(dma_fill(vm.fd, wqs[i]->id(), GPA + i * PS,
					       8, 0xA0 + i)
					      .ok());
				CHECK(only_changed(vm.mem, m, Vm::at(i * PS), 8,
						   0xA0 + i));
				m = vm.mem.snapshot();
			}
			// Close the fd with everything attached.
			for (auto &w : wqs)
				w->release();
		}
		CHECK(nr_objects_all(p.fd) == base);
		// The sub-devices are free for the next VM; the creator's
		// view shows them unattached.
		for (uint32_t i = 0; i < N; i++)
			CHECK(get_domain_raw(p.fd, p.subs[i].stdev_id) == ENOENT);
		// A new fd and set can have the whole quota again.
		{
			Iommufd fd;
			IoasidSet set(fd, N, 0xc105f);
			std::set<uint32_t> got;
			for (uint32_t i = 0; i < N; i++)
				got.insert(set.alloc());
			CHECK(got.size() == N);
		}
		CHECK(nr_objects_all(p.fd) == base);
	}

	// A binder without a set takes the PASIDs from the system space: its
	// close frees them too.
	{
		Iommufd fd;
		Ioas ioas(fd);
		Buffer mem(N * PS, 0x93);
		ioas.map(mem.p, mem.len, RW | FIXED, GPA);
		std::vector<std::unique_ptr<Device>> wqs;
		for (uint32_t i = 0; i < N; i++) {
			CAPTURE(i);
			wqs.push_back(std::make_unique<Device>(fd, p.subs[i].rid));
			const uint32_t h = hwpt_alloc(fd, wqs[i]->id(), ioas.id(),
						      IOMMU_HWPT_ALLOC_PASID);
			REQUIRE(wqs[i]->attach(h, i % 2 ? AUX : VIA_PASID) == h);
			const auto m = mem.snapshot();
			CHECK(dma_fill(fd, wqs[i]->id(), GPA + i * PS, 8, 0xB0 + i)
				      .ok());
			CHECK(only_changed(mem, m, i * PS, 8, 0xB0 + i));
		}
		// The system space (N PASIDs) is used up.
		Iommufd probe;
		IoasidSet pset(probe, 1, 0xc1060);
		iommulab_ioasid a{};
		a.size = sizeof(a);
		a.op = IOMMULAB_IOASID_ALLOC;
		a.set_id = pset.id();
		CHECK(send(probe, IOMMULAB_IOASID, a) == ENOSPC);
		for (auto &w : wqs)
			w->release();
	}
	CHECK(nr_objects_all(p.fd) == base);
	{
		Iommufd fd;
		IoasidSet set(fd, N, 0xc1061);
		std::set<uint32_t> got;
		for (uint32_t i = 0; i < N; i++)
			got.insert(set.alloc());
		CHECK(got.size() == N);
	}
	CHECK(nr_objects_all(p.fd) == base);
	check_parent_rid(p, 0x9C);
}

namespace {

// The next RID_* event of the fd @fd_id (other events, of other fds or of
// PASID allocations, are passed over); nullopt after 10 s of none.
std::optional<Event> next_rid_event(Monitor &m, uint32_t fd_id)
{
	for (;;) {
		std::optional<Event> e = m.next(10000);
		if (!e)
			return e;
		if (e->fd_id == fd_id && (e->type == IOMMULAB_EVENT_RID_ATTACH ||
					  e->type == IOMMULAB_EVENT_RID_REPLACE ||
					  e->type == IOMMULAB_EVENT_RID_DETACH))
			return e;
	}
}

std::string opt(const std::optional<uint32_t> &v)
{
	return v ? std::to_string(*v) : "absent";
}

// The next RID event of @fd_id is @type with these attributes.
void expect_rid_event(Monitor &m, uint32_t fd_id, uint32_t type,
		      uint32_t dev, uint32_t rid, std::optional<uint32_t> pt,
		      std::optional<uint32_t> old_pt,
		      std::optional<uint32_t> pasid)
{
	std::optional<Event> e = next_rid_event(m, fd_id);
	REQUIRE_MESSAGE(e, "no event, wanted ", event_name(type));
	INFO("got: ", e->line());
	CHECK(event_name(e->type) == event_name(type));
	CHECK(opt(e->dev_id) == opt(dev));
	CHECK(opt(e->rid) == opt(rid));
	CHECK(opt(e->pt_id) == opt(pt));
	CHECK(opt(e->old_pt_id) == opt(old_pt));
	CHECK(opt(e->pasid) == opt(pasid));
}

} // namespace

TEST_CASE("subdev: notifications of a sub-device's attach" * IOMMULAB_ONLY)
{
	Monitor m(Monitor::Mode::multicast);
	Parent p(1), sw(1, 0);
	REQUIRE(sw.path == IOMMULAB_SUBDEV_PATH_SW);
	Vm vm(0x5eed7, 0x71);
	const uint32_t me = vm.fd.info().fd_id;
	Device wq(vm.fd, p.subs[0].rid), swq(vm.fd, sw.subs[0].rid);
	const uint32_t rid = p.subs[0].rid;
	Ioas other(vm.fd);

	for (uint32_t flags : {VIA_PASID, AUX}) {
		CAPTURE(flags);
		const uint32_t extra = flags == VIA_PASID ? IOMMU_HWPT_ALLOC_PASID : 0;
		const uint32_t h1 = hwpt_alloc(vm.fd, wq.id(), vm.ioas.id(), extra);
		const uint32_t h2 = hwpt_alloc(vm.fd, wq.id(), other.id(), extra);

		REQUIRE(wq.attach(h1, flags) == h1);
		const uint32_t p1 = aux_get_domain(vm.fd, wq.id()).pasid;
		expect_rid_event(m, me, IOMMULAB_EVENT_RID_ATTACH, wq.id(), rid,
				 h1, {}, p1);
		// A refused replace sends nothing: the replace's event is next.
		CHECK(attach_raw(vm.fd, wq.id(), h2,
				 flags == AUX ? VIA_PASID : AUX) == EINVAL);
		REQUIRE(wq.attach(h2, flags) == h2);
		const uint32_t p2 = aux_get_domain(vm.fd, wq.id()).pasid;
		if (flags == VIA_PASID)
			CHECK(p2 == p1);
		expect_rid_event(m, me, IOMMULAB_EVENT_RID_REPLACE, wq.id(), rid,
				 h2, h1, p2);
		wq.detach();
		expect_rid_event(m, me, IOMMULAB_EVENT_RID_DETACH, wq.id(), rid,
				 {}, h2, p2);
		// The DMA agrees: detached, blocked.
		CHECK(refused(dma_fill(vm.fd, wq.id(), GPA, 8, 0xEE),
			      IOMMULAB_DMA_FAULT_BLOCKED));
		vm.fd.destroy(h1);
		vm.fd.destroy(h2);
	}

	// Software-mediated: the IOAS is the pt, and no PASID is sent.
	const uint32_t srid = sw.subs[0].rid;
	CHECK(attach_raw(vm.fd, swq.id(), vm.ioas.id(), AUX) == EINVAL);
	REQUIRE(swq.attach(vm.ioas.id()) == 0);
	expect_rid_event(m, me, IOMMULAB_EVENT_RID_ATTACH, swq.id(), srid,
			 vm.ioas.id(), {}, {});
	REQUIRE(swq.attach(other.id()) == 0);
	expect_rid_event(m, me, IOMMULAB_EVENT_RID_REPLACE, swq.id(), srid,
			 other.id(), vm.ioas.id(), {});
	swq.detach();
	expect_rid_event(m, me, IOMMULAB_EVENT_RID_DETACH, swq.id(), srid, {},
			 other.id(), {});
}

// A sub-device's replace racing its DMA, each path: every request finds a
// translation (the old route or the new, never none), and once a replace
// has returned, requests begun after it never reach the old domain.
TEST_CASE("subdev: DMA racing a replace always finds a route, and never the old one after" *
	  IOMMULAB_ONLY)
{
	constexpr long ROUNDS = 60;
	for (const uint32_t flags : {VIA_PASID, AUX}) {
		CAPTURE(flags);
		Parent p(1);
		REQUIRE(p.path == IOMMULAB_SUBDEV_PATH_NONE);
		Vm vm(0x7ace, 0x61);
		// Two address spaces with memory at the same GPA: where a write
		// lands tells which domain translated it.
		Ioas other(vm.fd);
		Buffer mem2(6 * PS, 0x62);
		other.map(mem2.p, mem2.len, RW | FIXED, Vm::base);
		Device wq(vm.fd, p.subs[0].rid);
		const uint32_t h[2] = {
			hwpt_alloc(vm.fd, wq.id(), vm.ioas.id(), IOMMU_HWPT_ALLOC_PASID),
			hwpt_alloc(vm.fd, wq.id(), other.id(), IOMMU_HWPT_ALLOC_PASID)};
		Buffer *const mems[2] = {&vm.mem, &mem2};
		REQUIRE(wq.attach(h[0], flags) == h[0]);

		std::atomic<long> gaps{0}, writes{0};
		int late = 0;
		Concurrent run;
		run.add("device", 1, [&](long) {
			DmaResult r = dma_fill(vm.fd, wq.id(), GPA, 8, 0xEE);
			if (!r.ok())
				gaps++;
			else
				writes++;
		});
		run.add("replacer", ROUNDS, [&](long i) {
			const int to = (i + 1) % 2, from = i % 2;
			wq.attach(h[to], 0);
			// From here on the old domain's page is the process's alone.
			std::memset(mems[from]->p + Vm::at(0), 0, 8);
			// Two whole requests begun after the replace returned.
			if (!run.wait_for("device", run.progress("device") + 2))
				return;
			for (int b = 0; b < 8; b++) {
				if (mems[from]->p[Vm::at(b)]) {
					late++;
					break;
				}
			}
		});
		auto r = run.run();
		INFO("iterations: ", r.summary());
		REQUIRE_MESSAGE(r.ok(), r.error);
		CHECK(r.count("replacer") == ROUNDS);
		CHECK(r.count("device") >= 2 * ROUNDS);
		CHECK(gaps.load() == 0);
		CHECK(writes.load() >= 2 * ROUNDS);
		CHECK_MESSAGE(late == 0, late, " of ", ROUNDS,
			      " replaces saw the sub-device write the old domain after");
		// The route it ended on is the last replace's.
		CHECK(aux_get_domain(vm.fd, wq.id()).hwpt_id == h[ROUNDS % 2]);
	}
}
