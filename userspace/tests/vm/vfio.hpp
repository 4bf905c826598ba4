// SPDX-License-Identifier: GPL-2.0
// The VFIO type1 container calls of /dev/iommu, as a VMM makes them: the
// tests of the container and the dirty-tracking matrix's VFIO column.
#pragma once

#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "harness.hpp"

namespace harness {

// The ioctl as is: its return value, or -errno.
inline long vfio_raw(const Iommufd &fd, unsigned long cmd, unsigned long arg)
{
	long rc = ::ioctl(fd.fd(), cmd, arg);
	return rc < 0 ? -errno : rc;
}

inline int set_compat_ioas(const Iommufd &fd, uint32_t ioas_id, uint16_t op)
{
	iommu_vfio_ioas cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas_id;
	cmd.op = op;
	return fd.raw(IOMMU_VFIO_IOAS, &cmd);
}

// VFIO_IOMMU_DIRTY_PAGES with @flags and nothing after them: errno or 0.
inline int vfio_dirty_pages(const Iommufd &fd, uint32_t flags,
			    uint32_t argsz = sizeof(vfio_iommu_type1_dirty_bitmap))
{
	vfio_iommu_type1_dirty_bitmap d{};

	d.argsz = argsz;
	d.flags = flags;
	return fd.raw(VFIO_IOMMU_DIRTY_PAGES, &d);
}

// A type1 dirty bitmap: one bit per @pgsize bytes from @iova, in u64 words
// (type1's unit), zeroed.
struct VfioBitmap {
	uint64_t iova;
	uint64_t size;
	uint64_t pgsize;
	std::vector<uint64_t> words;

	VfioBitmap(uint64_t iova_, uint64_t size_, uint64_t pgsize_)
		: iova(iova_), size(size_), pgsize(pgsize_),
		  words((size_ / pgsize_ + 63) / 64)
	{
	}
	vfio_bitmap arg() const
	{
		vfio_bitmap b{};
		b.pgsize = pgsize;
		b.size = words.size() * sizeof(uint64_t);
		b.data = reinterpret_cast<__u64 *>(const_cast<uint64_t *>(words.data()));
		return b;
	}
	std::set<uint64_t> set_bits() const
	{
		std::set<uint64_t> s;
		for (uint64_t i = 0; i < words.size() * 64; i++)
			if (words[i / 64] >> (i % 64) & 1)
				s.insert(i);
		return s;
	}
};

// VFIO_IOMMU_DIRTY_PAGES GET_BITMAP of @bm's range, with @b as its bitmap
// argument (bm.arg() unless a test breaks it): errno or 0.
inline int vfio_get_bitmap(const Iommufd &fd, const VfioBitmap &bm,
			   const vfio_bitmap &b)
{
	// The header's data[] is where the range goes.
	vfio_iommu_type1_dirty_bitmap head{};
	vfio_iommu_type1_dirty_bitmap_get get{};
	alignas(8) uint8_t arg[sizeof(head) + sizeof(get)];

	head.argsz = sizeof(arg);
	head.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	get.iova = bm.iova;
	get.size = bm.size;
	get.bitmap = b;
	std::memcpy(arg, &head, sizeof(head));
	std::memcpy(arg + sizeof(head), &get, sizeof(get));
	return fd.raw(VFIO_IOMMU_DIRTY_PAGES, arg);
}

inline int vfio_get_bitmap(const Iommufd &fd, const VfioBitmap &bm)
{
	return vfio_get_bitmap(fd, bm, bm.arg());
}

// VFIO_IOMMU_UNMAP_DMA of @bm's range with GET_DIRTY_BITMAP into @bm:
// errno or 0, the bytes unmapped in *@unmapped.
inline int vfio_unmap_bitmap(const Iommufd &fd, const VfioBitmap &bm,
			     uint64_t *unmapped = nullptr)
{
	// The header's data[] is where the bitmap goes.
	vfio_iommu_type1_dma_unmap head{};
	vfio_bitmap bitmap = bm.arg();
	alignas(8) uint8_t arg[sizeof(head) + sizeof(bitmap)];

	head.argsz = sizeof(arg);
	head.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	head.iova = bm.iova;
	head.size = bm.size;
	std::memcpy(arg, &head, sizeof(head));
	std::memcpy(arg + sizeof(head), &bitmap, sizeof(bitmap));
	int err = fd.raw(VFIO_IOMMU_UNMAP_DMA, arg);
	std::memcpy(&head, arg, sizeof(head));
	if (unmapped)
		*unmapped = head.size;
	return err;
}

} // namespace harness
