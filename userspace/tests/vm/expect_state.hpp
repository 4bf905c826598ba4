// SPDX-License-Identifier: GPL-2.0
// "Bad input changes nothing", checked by behaviour: after a refused call,
// a test states what the IOVA space must hold and these helpers prove it
// by moving bytes, never by counting objects or reading IOVA_RANGES (which
// lists the holes between reserved ranges, not the mappings).
//
//   expect_mapped(via, iova, mem, len, writeable)
//       every byte of [iova, iova + len) reads back as mem[] through @via,
//       and (writeable) a write at the first and the last byte lands in
//       exactly those bytes of mem[] (put back afterwards);
//   expect_unmapped(via, iova, len)
//       every page of [iova, iova + len) faults "not mapped" through @via,
//       for reads and writes, and moves no byte;
//   expect_only(ioas, {{iova, len}, ...})
//       each listed mapping unmaps exactly (UNMAP reports its length) and
//       afterwards unmap-all removes nothing: no other mapping existed
//       anywhere in the IOVA space. Destructive: use it last.
//
// A Via reads and writes by IOVA either through the mock IOMMU (a device's
// DMA, IOMMULAB_MOCK_DMA: what a domain really translates) or through the
// IOAS's own pinned pages (a test access, ACCESS_RW: what the IOAS holds,
// at any IOVA, with no domain attached).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "iommulab.hpp"

namespace harness {

using namespace iommulab;

class Via {
public:
	// DMA by the device @dev_id (a bound device's or stdev's ID of @fd).
	static Via device(const Iommufd &fd, uint32_t dev_id)
	{
		return Via(fd, dev_id, -1);
	}
	// ACCESS_RW through the test access @acc.
	static Via access(const Iommufd &fd, const Access &acc)
	{
		return Via(fd, 0, acc.fd());
	}

	// Moves @len bytes; true if all of them moved. @not_mapped is set when
	// it stopped because nothing is mapped there; @done to the bytes moved
	// (an access moves all or nothing).
	bool move(uint64_t iova, void *buf, uint64_t len, bool write,
		  bool *not_mapped, uint64_t *done) const
	{
		if (access_fd_ < 0) {
			DmaResult r = dma(*fd_, dev_, iova, buf, len, write);
			*not_mapped = r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED;
			*done = r.done;
			return r.ok() && r.done == len;
		}
		auto cmd = test_cmd(IOMMU_TEST_OP_ACCESS_RW, access_fd_);
		cmd.access_rw.iova = iova;
		cmd.access_rw.length = len;
		cmd.access_rw.uptr = reinterpret_cast<uintptr_t>(buf);
		cmd.access_rw.flags = write ? MOCK_ACCESS_RW_WRITE : 0;
		int err = fd_->raw(IOMMU_TEST_CMD, &cmd);
		*not_mapped = err == ENOENT;
		*done = err ? 0 : len;
		return err == 0;
	}
	const char *name() const { return access_fd_ < 0 ? "DMA" : "access"; }

private:
	Via(const Iommufd &fd, uint32_t dev, int access_fd)
		: fd_(&fd), dev_(dev), access_fd_(access_fd)
	{
	}
	const Iommufd *fd_;
	uint32_t dev_;
	int access_fd_;
};

inline std::string hex(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%#llx", static_cast<unsigned long long>(v));
	return b;
}

// [iova, iova + len) is mapped onto @mem: reads return mem[], and, if
// @writeable, writes land in mem[] and nowhere else of it.
inline void expect_mapped(const Via &via, uint64_t iova, uint8_t *mem,
			  uint64_t len, bool writeable = true)
{
	INFO(via.name() << " at " << hex(iova) << " + " << hex(len)
			<< " must be mapped");
	std::vector<uint8_t> got(len, 0);
	bool nm = false;
	uint64_t done = 0;

	CHECK(via.move(iova, got.data(), len, false, &nm, &done));
	CHECK(done == len);
	CHECK(std::memcmp(got.data(), mem, len) == 0);
	if (!writeable) {
		uint8_t x = static_cast<uint8_t>(~mem[0]);
		CHECK_FALSE(via.move(iova, &x, 1, true, &nm, &done));
		CHECK(done == 0);
		CHECK(mem[0] == got[0]);
		return;
	}
	const std::vector<uint8_t> before(mem, mem + len);
	for (uint64_t at : {uint64_t(0), len - 1}) {
		uint8_t x = static_cast<uint8_t>(~before[at]);
		CHECK(via.move(iova + at, &x, 1, true, &nm, &done));
	}
	for (uint64_t i = 0; i < len; i++) {
		bool edge = i == 0 || i == len - 1;
		uint8_t want = edge ? static_cast<uint8_t>(~before[i]) : before[i];
		if (mem[i] != want) {
			FAIL_CHECK("byte " << i << " of the mapping is " << int(mem[i])
					   << ", expected " << int(want));
			break;
		}
	}
	std::memcpy(mem, before.data(), len);
}

// Nothing is mapped anywhere in [iova, iova + len): every page (and the
// last byte) faults "not mapped" for a read and a write, moving nothing.
inline void expect_unmapped(const Via &via, uint64_t iova, uint64_t len)
{
	INFO(via.name() << " at " << hex(iova) << " + " << hex(len)
			<< " must not be mapped");
	std::vector<uint64_t> probes;
	const uint64_t step = len > 64 * 4096 ? len / 64 : 4096;

	for (uint64_t off = 0; off < len; off += step)
		probes.push_back(iova + off);
	probes.push_back(iova + len - 1);
	for (uint64_t at : probes) {
		CAPTURE(hex(at));
		for (bool write : {false, true}) {
			uint8_t x = 0xA5;
			bool nm = false;
			uint64_t done = 77;
			CHECK_FALSE(via.move(at, &x, 1, write, &nm, &done));
			CHECK(nm);
			CHECK(done == 0);
			CHECK(x == 0xA5);
		}
	}
}

// The IOAS holds exactly @maps (IOVA, length) and nothing else. Unmaps them.
inline void expect_only(const Ioas &ioas,
			std::initializer_list<std::pair<uint64_t, uint64_t>> maps)
{
	for (const auto &m : maps) {
		INFO("mapping " << hex(m.first) << " + " << hex(m.second));
		iommu_ioas_unmap cmd{};
		cmd.size = sizeof(cmd);
		cmd.ioas_id = ioas.id();
		cmd.iova = m.first;
		cmd.length = m.second;
		CHECK(ioas.iommufd().raw(IOMMU_IOAS_UNMAP, &cmd) == 0);
		CHECK(cmd.length == m.second);
	}
	INFO("after unmapping the expected mappings, the IOAS must be empty");
	CHECK(ioas.unmap_all() == 0);
}

// The domain of HWPT @hwpt_id maps [iova, iova + len) onto @mem's pages
// (IOMMU_TEST_OP_MD_CHECK_MAP).
inline void expect_domain_maps(const Iommufd &fd, uint32_t hwpt_id,
			       uint64_t iova, const void *mem, uint64_t len)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, hwpt_id);
	cmd.check_map.iova = iova;
	cmd.check_map.length = len;
	cmd.check_map.uptr = reinterpret_cast<uintptr_t>(mem);
	INFO("MD_CHECK_MAP of HWPT " << hwpt_id << " at " << hex(iova));
	CHECK(fd.raw(IOMMU_TEST_CMD, &cmd) == 0);
}

// The domain of HWPT @hwpt_id does not map any IO page of [iova, iova + len)
// onto the matching page of @mem (MD_CHECK_MAP refuses each 2 KiB page:
// upstream's own terms for "that memory is not reachable there"; a
// mapping of other memory at those IOVAs is not ruled out, so a test
// names the memory it must not find).
inline void expect_domain_lacks(const Iommufd &fd, uint32_t hwpt_id,
				uint64_t iova, const void *mem, uint64_t len)
{
	constexpr uint64_t IO_PAGE = 2048;
	const auto *m = static_cast<const uint8_t *>(mem);

	INFO("MD_CHECK_MAP of HWPT " << hwpt_id << " at " << hex(iova) << " + "
				     << hex(len) << " must find nothing of that memory");
	for (uint64_t off = 0; off < len; off += IO_PAGE) {
		auto cmd = test_cmd(IOMMU_TEST_OP_MD_CHECK_MAP, hwpt_id);
		cmd.check_map.iova = iova + off;
		cmd.check_map.length = IO_PAGE;
		cmd.check_map.uptr = reinterpret_cast<uintptr_t>(m + off);
		CAPTURE(hex(iova + off));
		CHECK(fd.raw(IOMMU_TEST_CMD, &cmd) == EINVAL);
	}
}

} // namespace harness
