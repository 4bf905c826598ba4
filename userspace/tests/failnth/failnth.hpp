// SPDX-License-Identifier: GPL-2.0
// iommulab-failnth: the fail-nth sweep (see failnth.cpp for the engine and
// scenarios.cpp for the table). Shared types of the two files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "iommulab.hpp"
#include "monitor.hpp"

namespace failnth {

using namespace iommulab;

constexpr uint64_t PS = 4096;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t RO = IOMMU_IOAS_MAP_READABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;

// The memory every scenario maps: MEM_LEN bytes of small (non-THP),
// prefaulted anonymous pages filled with a pattern, plus RWBUF_LEN bytes
// that ACCESS_RW copies from and to. Both are part of the state snapshot
// (checksums), so a failed call that wrote anything is caught.
constexpr uint64_t MEM_LEN = 2ULL << 20;
constexpr uint64_t RWBUF_LEN = 64ULL << 10;
// Region A = [0, MAP_LEN) and region B = [MAP_LEN, 2 * MAP_LEN) of the memory.
constexpr uint64_t MAP_LEN = 256ULL << 10;
// IOVAs inside the mock aperture (MOCK_APERTURE_START = 16 MiB), so the same
// rows keep working once mock domains are attached to the IOAS.
constexpr uint64_t IOVA_A = 1ULL << 24;
constexpr uint64_t IOVA_B = IOVA_A + (32ULL << 20);
// The memfd (shmem) that IOMMU_IOAS_MAP_FILE rows map: FILE_LEN bytes,
// written with a pattern (so its pages exist), and mapped shared into the
// program at mem.file: MD_CHECK_REFS and MD_CHECK_MAP take a user address,
// and this mapping reaches the file's pages. Its pins, its checksum and
// the number of mappings of every memfd named MEMFD_NAME... are part of
// the snapshot and of the leak check (the module maps a memfd into the
// caller for the time of a pin: that mapping must be gone afterwards).
constexpr uint64_t FILE_LEN = 2 * MAP_LEN;
constexpr const char *MEMFD_NAME = "iommulab-failnth";

struct Memory {
	uint8_t *buf = nullptr;    // MEM_LEN bytes
	uint8_t *rwbuf = nullptr;  // RWBUF_LEN bytes
	int file_fd = -1;          // the memfd
	uint8_t *file = nullptr;   // its FILE_LEN bytes, mapped shared
	uint8_t *A() const { return buf; }
	uint8_t *B() const { return buf + MAP_LEN; }
};
extern Memory mem;
extern std::string dev_path;

// A check that did not hold; what() says which and why.
struct Failure : std::runtime_error {
	using std::runtime_error::runtime_error;
};
[[gnu::format(printf, 1, 2)]] std::string strf(const char *fmt, ...);
#define FN_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond))                                                 \
			throw ::failnth::Failure(::failnth::strf(__VA_ARGS__)); \
	} while (0)

// The argument of the call under test. Built by the row's setup, so that
// the call itself only issues one system call (nothing between arming
// fail-nth and the ioctl may allocate kernel memory).
union Arg {
	iommu_destroy destroy;
	iommu_ioas_alloc ioas_alloc;
	iommu_ioas_map map;
	iommu_ioas_map_file map_file;
	iommu_ioas_unmap unmap;
	iommu_ioas_copy copy;
	iommu_ioas_iova_ranges iova_ranges;
	iommu_ioas_allow_iovas allow_iovas;
	iommu_option option;
	iommu_test_cmd test;
	iommulab_info info;
	iommulab_bench_pin bench_pin;
	iommu_hw_info hw_info;
	iommu_hwpt_alloc hwpt_alloc;
	iommu_hwpt_invalidate hwpt_invalidate;
	iommulab_mock_group_alloc group_alloc;
	iommulab_device_bind bind;
	iommulab_device_attach attach;
	iommulab_device_detach detach;
	iommulab_device_pasid pasid;
	iommulab_aux aux;
	iommulab_ioasid_set_alloc set_alloc;
	iommulab_ioasid ioasid;
	iommu_viommu_alloc viommu;
	iommulab_mock_set_driver set_driver;
	iommulab_mock_dma dma;
	iommu_vfio_ioas vfio_ioas;
	iommulab_mock_subdev_alloc subdev_alloc;
	iommulab_aux_get_domain get_domain;
	iommu_hwpt_set_dirty_tracking set_dirty;
	iommu_hwpt_get_dirty_bitmap get_dirty;
	iommulab_mock_dma_burst burst;
	iommulab_ioas_unmap_dirty unmap_dirty;
	iommulab_hwpt_iopte iopte;
	// The VFIO container's calls with their trailing parts (a struct
	// vfio_bitmap, a GET_BITMAP range): their bytes, built by the rows.
	alignas(8) uint8_t vfio[64];
	iommu_fault_alloc fault_alloc;
	// Commands added later: add their structures here.
};

// Everything one run of a row owns. A fresh Ctx per run; its destructor
// closes every file descriptor, which must free every object.
struct Ctx {
	std::unique_ptr<Iommufd> fd;   // the iommufd most rows work on
	uint32_t ioas = 0, ioas2 = 0;  // IOAS IDs (0: none)
	int access = -1;               // an access fd made by setup
	uint32_t item = 0;             // an ACCESS_PAGES item of @access
	int new_fd = -1;               // an fd the call under test returned
	uint32_t stdev = 0, idev = 0;  // a mock device: stdev and bound IDs
	uint32_t hwpt = 0, hwpt2 = 0;  // HWPT IDs
	uint32_t set = 0;              // an IOASID set ID
	uint32_t subdev = 0;           // a bound sub-device's device ID
	std::vector<MockDev> devs;     // a group made by MOCK_GROUP_ALLOC
	Arg arg{};
	iommu_iova_range ranges[16]{};
	alignas(8) uint8_t data[256]{};  // driver data, device arrays
	int memfd = -1;                // a memfd of this run only (see ctx_memfd)
	uint8_t *fmap = nullptr;       // @memfd mapped shared (map_ctx_memfd)
	uint64_t fmap_len = 0;
	// VmPin/VmLck (kB) right after setup, set by the engine: what a
	// successful call charged is the difference.
	long vm_pin0 = -1, vm_lck0 = -1;
	// A notification subscriber made by setup, and the module's dropped
	// count right after it subscribed.
	std::unique_ptr<Monitor> monitor;
	uint64_t dropped0 = 0;
	// What a row's setup started that must end before anything else is
	// closed (a fault handler thread); ~Ctx drops it first.
	std::shared_ptr<void> helper;
	int fault_fd = -1;	// a fault queue's fd made by setup
	uint32_t fault_id = 0;	// and its ID

	Ctx() = default;
	Ctx(const Ctx &) = delete;
	Ctx &operator=(const Ctx &) = delete;
	~Ctx();
};

// One row of the table: a setup, the one call under test, and what must
// hold afterwards. See scenarios.cpp for how to add one.
struct Scenario {
	const char *name;    // unique; printed, and matched by --only
	const char *covers;  // the ioctl / test op it sweeps (coverage list)
	// errnos an injected allocation failure may surface as; {} means the
	// call must succeed even when an allocation inside it fails (it has
	// none of its own, so a failure would be a bug).
	std::vector<int> errnos;
	std::function<void(Ctx &)> setup;  // may throw; not under injection
	std::function<int(Ctx &)> call;    // 0 or the errno; one syscall only
	std::function<void(Ctx &)> on_success;  // the call's effect is there
	// After a failed call, besides the generic snapshot (objects, IOVA
	// ranges, options, page pins, accounting, fds, memory contents): probes
	// that the call left nothing behind (may change state; the Ctx is
	// thrown away afterwards). Also run once without the call at all, to
	// prove the probes themselves pass on an untouched setup.
	std::function<void(Ctx &)> on_failure;
	// The call allocates pages (IOPTE tables of a mock domain): the sweep
	// fails unless it injected at least one page allocation failure.
	bool page_alloc = false;
};

const std::vector<Scenario> &scenarios();
// Every ioctl and test op the module has, as Scenario::covers spells them;
// the engine fails if one has no row.
const std::vector<std::string> &must_cover();

// ---- helpers for the table (all throw Failure or iommulab::Error) ----
void open_fd(Ctx &c);
uint32_t ioas_alloc(Ctx &c);
void map_fixed(Ctx &c, uint32_t ioas, const void *p, uint64_t len,
	       uint64_t iova, uint32_t flags = RW);
int map_raw(Ctx &c, uint32_t ioas, const void *p, uint64_t len,
	    uint64_t *iova, uint32_t flags);
// IOMMU_IOAS_MAP_FILE of [start, start + len) of @memfd.
int map_file_raw(Ctx &c, uint32_t ioas, int memfd, uint64_t start, uint64_t len,
		 uint64_t *iova, uint32_t flags);
// A memfd of @len bytes for this run only (c.memfd), named MEMFD_NAME-ctx,
// whose pages do not exist yet (ftruncate only): pinning it faults them in.
void ctx_memfd(Ctx &c, uint64_t len);
// Maps c.memfd shared at c.fmap (faulting nothing in by itself).
void map_ctx_memfd(Ctx &c);
int unmap_raw(Ctx &c, uint32_t ioas, uint64_t iova, uint64_t len,
	      uint64_t *unmapped = nullptr);
int destroy_raw(Ctx &c, uint32_t id);
int add_reserved_raw(Ctx &c, uint32_t ioas, uint64_t start, uint64_t len);
void allow(Ctx &c, uint32_t ioas, const std::vector<iommu_iova_range> &r);
void set_limit(Ctx &c, uint32_t pages);
int create_access(Ctx &c, uint32_t ioas, uint32_t flags);
uint32_t access_pages(Ctx &c, int access, uint64_t iova, uint64_t len,
		      const void *uptr, uint32_t flags);
int destroy_item_raw(Ctx &c, int access, uint32_t item);
iommu_test_cmd test_arg(uint32_t op, uint32_t id);
// Mock devices, HWPTs and DMA.
void mock_domain(Ctx &c, uint32_t pt_id, uint32_t dev_flags = 0);
uint32_t bind(Ctx &c, uint32_t rid);
int attach_raw(Ctx &c, uint32_t dev_id, uint32_t pt_id, uint32_t *hwpt = nullptr);
uint32_t hwpt_alloc(Ctx &c, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		    uint32_t data_type = 0, const void *data = nullptr, uint32_t len = 0);
int check_map_raw(Ctx &c, uint32_t hwpt, uint64_t iova, const void *p, uint64_t len);
// A DMA read (or write) by device @dev_id (bound or stdev ID): the fault
// reason (IOMMULAB_DMA_FAULT_*), or throws.
uint32_t dma_raw(Ctx &c, uint32_t dev_id, uint64_t iova, void *buf, uint64_t len,
		 bool write);
// Long-term pins of every page of [p, p + len): 0, 1, 2, ... or -1 when
// the pages disagree.
int refs(const void *p, uint64_t len);
std::vector<iommu_iova_range> iova_ranges(Ctx &c, uint32_t ioas);
// VmPin / VmLck of this process in kB (-1 if unreadable): what pinning
// charges with RLIMIT_MODE 0 (per user: pinned_vm) and 1 (per mm: locked_vm).
long vm_pin_kb();
long vm_lck_kb();
// Mappings in this process of memfds whose name starts with MEMFD_NAME.
int memfd_mappings();

} // namespace failnth
