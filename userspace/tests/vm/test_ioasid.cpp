// SPDX-License-Identifier: GPL-2.0
// IOASID sets (seed 003): quotas and tokens, the system-wide PASID space,
// vPASID bindings, free-pending PASIDs, and nothing leaked at close. Where
// a PASID is in use, DMA through the mock IOMMU proves what it reaches.
//
// An iommulab extension: iommulab-only in the differential lane. Tests
// that lower the pasid_max parameter rely on no other PASID being
// allocated in the system meanwhile, which the lane's one harness process
// at a time gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <set>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t IOVA = MOCK_APERTURE_START + (1 << 20);
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t LAST = (1u << 20) - 1;
const char *const PASID_MAX = "/sys/module/iommulab/parameters/pasid_max";

int set_alloc(const Iommufd &fd, uint32_t quota, uint64_t token,
	      uint32_t flags, uint32_t *id = nullptr)
{
	iommulab_ioasid_set_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.quota = quota;
	cmd.token = token;
	int err = send(fd, IOMMULAB_IOASID_SET_ALLOC, cmd);
	if (id)
		*id = cmd.out_set_id;
	return err;
}

int op(const Iommufd &fd, uint32_t set, uint32_t o, uint32_t pasid,
       uint32_t vpasid, uint32_t *out = nullptr, uint32_t flags = 0)
{
	iommulab_ioasid cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.op = o;
	cmd.set_id = set;
	cmd.pasid = pasid;
	cmd.vpasid = vpasid;
	int err = send(fd, IOMMULAB_IOASID, cmd);
	if (out)
		*out = cmd.pasid;
	return err;
}

int alloc_raw(const Iommufd &fd, uint32_t set, uint32_t *pasid)
{
	return op(fd, set, IOMMULAB_IOASID_ALLOC, 0, 0, pasid);
}

bool same(const IoasidSetInfo &a, const IoasidSetInfo &b)
{
	return a.quota == b.quota && a.nr_pasids == b.nr_pasids &&
	       a.nr_pending == b.nr_pending && a.nr_bound == b.nr_bound &&
	       a.token_id == b.token_id;
}

// A bound PASID-capable device alone in its group, and a PASID-capable
// HWPT over a buffer mapped at IOVA.
struct PasidRig {
	const Iommufd &fd;
	Ioas ioas{fd};
	Buffer buf{4 * PS, 0x40};
	std::vector<MockDev> devs = mock_group_alloc(fd, 1, MOCK_FLAGS_DEVICE_PASID);
	Device dev{fd, devs[0].rid};
	uint32_t hwpt;

	explicit PasidRig(const Iommufd &f) : fd(f)
	{
		ioas.map(buf.p, buf.len, RW | FIXED, IOVA);
		hwpt = hwpt_alloc(fd, dev.id(), ioas.id(), IOMMU_HWPT_ALLOC_PASID);
	}
};

} // namespace

TEST_CASE("IOASID sets: quota, one set per token and per fd, bad input" *
	  IOMMULAB_ONLY)
{
	Iommufd fd, fd2, fd3;
	const uint32_t objs = OBJECTS_NOW(fd);

	// Refusals first: nothing is created.
	CHECK(set_alloc(fd, 4, 0, 2) == EOPNOTSUPP);
	CHECK(set_alloc(fd, 0, 0, 0) == EINVAL);
	CHECK(set_alloc(fd, LAST + 1, 0, 0) == EINVAL);
	CHECK(set_alloc(fd, 4, 7, 0) == EINVAL);
	CHECK(set_alloc(fd, 4, 0, IOMMULAB_IOASID_SET_TOKEN_VALUE) == EINVAL);
	CHECK_OBJECTS(fd, objs);

	IoasidSet set(fd, 3);
	CHECK(set.token_id() != 0);
	std::set<uint32_t> got;
	for (int i = 0; i < 3; i++) {
		uint32_t p = set.alloc();
		CHECK(p >= 1);
		CHECK(p <= LAST);
		got.insert(p);
	}
	CHECK(got.size() == 3);
	uint32_t p = 0;
	CHECK(alloc_raw(fd, set.id(), &p) == ENOSPC);
	auto info = set.info();
	CHECK(info.quota == 3);
	CHECK(info.nr_pasids == 3);
	CHECK(info.token_id == set.token_id());

	// One set per fd; one per token: this process's mm is taken.
	CHECK(set_alloc(fd, 4, 9, IOMMULAB_IOASID_SET_TOKEN_VALUE) == EEXIST);
	CHECK(set_alloc(fd2, 4, 0, 0) == EEXIST);
	IoasidSet other(fd2, 4, 0x5eed);
	CHECK(other.token_id() != set.token_id());
	CHECK(set_alloc(fd3, 4, 0x5eed, IOMMULAB_IOASID_SET_TOKEN_VALUE) ==
	      EEXIST);
	CHECK(same(set.info(), info));

	// A full set frees and allocates again; a destroyed set's token is
	// free for a new one.
	set.free(*got.begin());
	CHECK(set.info().nr_pasids == 2);
	CHECK(set.alloc() >= 1);
	other.destroy();
	IoasidSet again(fd3, 1, 0x5eed);
	CHECK(again.alloc() >= 1);
}

TEST_CASE("IOASID sets: the system space runs out before a quota does" *
	  IOMMULAB_ONLY)
{
	Iommufd fd, fd2;
	ScopedSetting max(PASID_MAX, "4");
	REQUIRE(max.ok());
	IoasidSet a(fd, 3, 0xa), b(fd2, 3, 0xb);

	std::set<uint32_t> got;
	for (int i = 0; i < 3; i++)
		got.insert(a.alloc());
	// Only PASID 4 is left in the system: b gets it, then nothing.
	uint32_t p = 0;
	CHECK(alloc_raw(fd2, b.id(), &p) == 0);
	got.insert(p);
	CHECK(alloc_raw(fd2, b.id(), &p) == ENOSPC);
	CHECK(b.info().nr_pasids == 1);
	CHECK(got == std::set<uint32_t>{1, 2, 3, 4});
	// Freeing one in a makes room for b.
	a.free(2);
	CHECK(alloc_raw(fd2, b.id(), &p) == 0);
	CHECK(p == 2);
}

TEST_CASE("IOASID sets: racing allocations never pass the quota" *
	  IOMMULAB_ONLY)
{
	constexpr uint32_t QUOTA = 200;
	Iommufd fd;
	IoasidSet set(fd, QUOTA, 0x7ace);
	std::mutex m;
	std::vector<uint32_t> got;
	std::atomic<long> full{0}, other{0};
	std::atomic<bool> go{false};
	std::vector<std::thread> threads;

	for (int t = 0; t < 8; t++)
		threads.emplace_back([&] {
			while (!go.load())
				;
			for (int i = 0; i < 50; i++) {
				uint32_t p = 0;
				int err = alloc_raw(fd, set.id(), &p);
				if (!err) {
					std::lock_guard<std::mutex> g(m);
					got.push_back(p);
				} else if (err == ENOSPC) {
					full++;
				} else {
					other++;
				}
			}
		});
	go = true;
	for (auto &t : threads)
		t.join();
	// 400 tries: exactly the quota succeed, each PASID once.
	CHECK(got.size() == QUOTA);
	CHECK(full.load() == 400 - QUOTA);
	CHECK(other.load() == 0);
	CHECK(std::set<uint32_t>(got.begin(), got.end()).size() == QUOTA);
	CHECK(set.info().nr_pasids == QUOTA);
}

TEST_CASE("IOASID sets: vPASID bind, unbind, lookup; bad input changes nothing" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	IoasidSet set(fd, 8, 0xb1d);
	const uint32_t p1 = set.alloc(), p2 = set.alloc();
	set.bind(p1, 7);
	CHECK(set.lookup(7) == p1);
	const auto info = set.info();
	CHECK(info.nr_bound == 1);
	const uint32_t objs = OBJECTS_NOW(fd);

	uint32_t out = 0;
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_BIND, p2, 7) == EEXIST);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_BIND, p1, 8) == EBUSY);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_BIND, 999999, 9) == ENOENT);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_BIND, p2, 0) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_BIND, p2, LAST + 1) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_UNBIND, p2, 0) == ENOENT);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_UNBIND, p1, 7) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_LOOKUP, 0, 8, &out) == ENOENT);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_LOOKUP, p1, 7) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_ALLOC, 5, 0) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_ALLOC, 0, 5) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, p1, 7) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, 999999, 0) == ENOENT);
	CHECK(op(fd, set.id(), 5, p1, 0) == EINVAL);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, p1, 0, nullptr, 1) ==
	      EOPNOTSUPP);
	CHECK(op(fd, 0, IOMMULAB_IOASID_ALLOC, 0, 0) == ENOENT);
	Ioas ioas(fd);
	CHECK(op(fd, ioas.id(), IOMMULAB_IOASID_ALLOC, 0, 0) == ENOENT);
	iommulab_ioasid_set_info bad{};
	bad.size = sizeof(bad);
	bad.set_id = set.id();
	bad.__reserved = 1;
	CHECK(send(fd, IOMMULAB_IOASID_SET_INFO, bad) == EOPNOTSUPP);
	CHECK(same(set.info(), info));
	CHECK(set.lookup(7) == p1);
	CHECK_OBJECTS(fd, objs + 1);

	// Unbind, rebind elsewhere; freeing a PASID drops its binding.
	set.unbind(p1);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_LOOKUP, 0, 7) == ENOENT);
	set.bind(p2, 7);
	CHECK(set.lookup(7) == p2);
	set.free(p2);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_LOOKUP, 0, 7) == ENOENT);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, p2, 0) == ENOENT);
	CHECK(set.info().nr_bound == 0);
	CHECK(set.info().nr_pasids == 1);
	// A set with PASIDs cannot be destroyed; an empty one can.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = set.id();
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);
	set.free(p1);
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	set.release();
}

TEST_CASE("IOASID sets: a PASID freed while attached is free-pending" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PasidRig rig(fd);
	IoasidSet set(fd, 2, 0xfee);
	const uint32_t dev = rig.dev.id();
	const uint32_t p = set.alloc();
	const auto b0 = rig.buf.snapshot();

	// Only the set's PASIDs attach: another is ENOENT, and a refusal
	// leaves the PASID faulting.
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, p == 77 ? 78 : 77,
			rig.hwpt) == ENOENT);
	device_pasid(fd, dev, IOMMULAB_PASID_ATTACH, p, rig.hwpt);
	CHECK(write_pasid(fd, dev, p, IOVA, 64, 0xA1).ok());
	CHECK(only_changed(rig.buf, b0, 0, 64, 0xA1));

	// Freed while attached: the device keeps its translation, the PASID
	// keeps its place in the quota and is not handed out again.
	set.free(p);
	auto info = set.info();
	CHECK(info.nr_pasids == 1);
	CHECK(info.nr_pending == 1);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, p, 0) == ENOENT);
	const auto b1 = rig.buf.snapshot();
	CHECK(write_pasid(fd, dev, p, IOVA + 64, 64, 0xA2).ok());
	CHECK(only_changed(rig.buf, b1, 64, 64, 0xA2));
	const uint32_t q = set.alloc();
	CHECK(q != p);
	uint32_t r = 0;
	CHECK(alloc_raw(fd, set.id(), &r) == ENOSPC);
	// A free-pending PASID cannot be attached anew, and holds the set.
	Device dev2(fd, mock_group_alloc(fd, 1, MOCK_FLAGS_DEVICE_PASID)[0].rid);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev2.id(), p, rig.hwpt) ==
	      ENOENT);
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = set.id();
	set.free(q);
	CHECK(send(fd, IOMMU_DESTROY, d) == EBUSY);

	// The detach releases it: it faults, the quota has room again.
	device_pasid(fd, dev, IOMMULAB_PASID_DETACH, p);
	const auto b2 = rig.buf.snapshot();
	DmaResult res = write_pasid(fd, dev, p, IOVA, 64, 0xEE);
	CHECK(res.fault_reason == IOMMULAB_DMA_FAULT_NO_PASID);
	CHECK(unchanged(rig.buf, b2));
	info = set.info();
	CHECK(info.nr_pasids == 0);
	CHECK(info.nr_pending == 0);
	CHECK(set.alloc() >= 1);
	CHECK(set.alloc() >= 1);
}

TEST_CASE("IOASID sets: the kernel picks PASIDs from the fd's set" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PasidRig rig(fd);
	IoasidSet set(fd, 2, 0x91c);
	const uint32_t dev = rig.dev.id();
	const uint32_t plain = hwpt_alloc(fd, dev, rig.ioas.id());
	const auto b0 = rig.buf.snapshot();

	// The PASID path, asking for a PASID: the allocation is the caller's.
	uint32_t p = 0;
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 5, rig.hwpt,
			IOMMULAB_DEVICE_PASID_ALLOC) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_REPLACE, dev, 0, rig.hwpt,
			IOMMULAB_DEVICE_PASID_ALLOC) == EINVAL);
	CHECK(set.info().nr_pasids == 0);
	REQUIRE(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 0, rig.hwpt,
			  IOMMULAB_DEVICE_PASID_ALLOC, &p) == 0);
	CHECK(p != 0);
	CHECK(write_pasid(fd, dev, p, IOVA, 64, 0xB1).ok());
	CHECK(only_changed(rig.buf, b0, 0, 64, 0xB1));
	CHECK(set.info().nr_pasids == 1);

	// The aux path: the domain's default PASID counts in the quota, and
	// only the kernel frees it.
	uint32_t ap = 0;
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, plain, &ap) == 0);
	CHECK(ap != p);
	CHECK(set.info().nr_pasids == 2);
	CHECK(op(fd, set.id(), IOMMULAB_IOASID_FREE, ap, 0) == EBUSY);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 0, rig.hwpt,
			IOMMULAB_DEVICE_PASID_ALLOC) == ENOSPC);
	const uint32_t other = hwpt_alloc(fd, dev, rig.ioas.id());
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, other) == ENOSPC);
	CHECK(set.info().nr_pasids == 2);
	const auto b1 = rig.buf.snapshot();
	CHECK(write_pasid(fd, dev, ap, IOVA + 128, 64, 0xB2).ok());
	CHECK(only_changed(rig.buf, b1, 128, 64, 0xB2));

	// The last aux detach frees the default PASID; detaching the PASID
	// path's leaves its allocation standing.
	REQUIRE(aux_call(fd, IOMMULAB_AUX_DETACH, dev, plain) == 0);
	CHECK(set.info().nr_pasids == 1);
	device_pasid(fd, dev, IOMMULAB_PASID_DETACH, p);
	CHECK(set.info().nr_pasids == 1);
	set.free(p);
	CHECK(set.info().nr_pasids == 0);
}

TEST_CASE("IOASID sets: closing the fd frees every PASID" * IOMMULAB_ONLY)
{
	constexpr uint32_t N = 16;
	// The whole system space is N PASIDs: one leaked PASID would make
	// the second round short.
	ScopedSetting max(PASID_MAX, std::to_string(N));
	REQUIRE(max.ok());
	for (int round = 0; round < 2; round++) {
		CAPTURE(round);
		Iommufd fd;
		PasidRig rig(fd);
		IoasidSet set(fd, N, 0xc105e);
		const uint32_t dev = rig.dev.id();
		const uint32_t plain = hwpt_alloc(fd, dev, rig.ioas.id());
		// One aux PASID, one PASID-path PASID attached, one of them
		// free-pending, one bound, the rest just allocated.
		uint32_t ap = 0, p = 0;
		REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, dev, plain, &ap) == 0);
		REQUIRE(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 0, rig.hwpt,
				  IOMMULAB_DEVICE_PASID_ALLOC, &p) == 0);
		const uint32_t q = set.alloc();
		device_pasid(fd, dev, IOMMULAB_PASID_ATTACH, q, rig.hwpt);
		set.free(q);
		set.bind(set.alloc(), 3);
		uint32_t got = 4, r = 0;
		while (alloc_raw(fd, set.id(), &r) == 0)
			got++;
		CHECK(got == N);
		CHECK(set.info().nr_pasids == N);
		CHECK(set.info().nr_pending == 1);
		// The fd closes with everything in place.
		set.release();
		rig.dev.release();
	}
	// And the token is free again.
	Iommufd fd;
	IoasidSet set(fd, N, 0xc105e);
	for (uint32_t i = 0; i < N; i++)
		set.alloc();
}

TEST_CASE("IOASID sets: closing an fd without a set frees the PASIDs the "
	  "kernel picked for it" * IOMMULAB_ONLY)
{
	constexpr uint32_t N = 2;
	// The whole system space is N PASIDs: a PASID the set-less fd's
	// close left behind would make the new set's quota unreachable.
	ScopedSetting max(PASID_MAX, std::to_string(N));
	REQUIRE(max.ok());
	{
		Iommufd fd;
		PasidRig rig(fd);
		const uint32_t dev = rig.dev.id();
		// One PASID picked and detached again (the allocation stays
		// the fd's), one picked and left attached at close.
		uint32_t p1 = 0, p2 = 0;
		REQUIRE(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 0, rig.hwpt,
				  IOMMULAB_DEVICE_PASID_ALLOC, &p1) == 0);
		device_pasid(fd, dev, IOMMULAB_PASID_DETACH, p1);
		REQUIRE(ext_pasid(fd, IOMMULAB_PASID_ATTACH, dev, 0, rig.hwpt,
				  IOMMULAB_DEVICE_PASID_ALLOC, &p2) == 0);
		CHECK(p1 != p2);
		// Proof that the second one is live: its DMA lands.
		std::vector<uint8_t> w(8, 0x5c);
		CHECK(dma_pasid(fd, dev, p2, IOVA, w.data(), w.size(), true).ok());
		CHECK(rig.buf.p[0] == 0x5c);
		rig.dev.release();
	}
	Iommufd fd;
	IoasidSet set(fd, N);
	std::set<uint32_t> got;
	for (uint32_t i = 0; i < N; i++)
		got.insert(set.alloc());
	CHECK(got.size() == N);
}
