// SPDX-License-Identifier: GPL-2.0
// iommulab userspace library: RAII objects over the /dev/iommu uAPI.
//
// One small type per kernel object; each owns its ID and destroys it. Every
// failing call throws iommulab::Error, which carries the errno and the name
// of the command that failed. Iommufd::raw() is the escape hatch for tests
// that must send malformed arguments and look at the errno themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <iommulab/iommufd.h>
#include <iommulab/iommufd_test.h>
#include <iommulab/iommulab.h>
}

namespace iommulab {

// A failed uAPI call: which command, and the errno the module gave.
class Error : public std::runtime_error {
public:
	Error(std::string command, int err);
	const std::string &command() const { return command_; }
	int err() const { return err_; }

private:
	std::string command_;
	int err_;
};

// "ENOENT", "EBUSY", ... for an errno value; "E<n>" if unknown.
std::string errno_name(int err);

// The device node: $IOMMULAB_DEV if set, else /dev/iommu.
std::string default_device_path();

struct Info {
	uint32_t abi_version;
	uint32_t nr_objects;
	uint64_t features;
	uint64_t nr_objects_all;
	uint32_t fd_id;	 // identity in notifications (monitor.hpp)
	uint32_t fd_uid; // the opener's effective uid
};

// One open file descriptor of the device: one iommufd context.
class Iommufd {
public:
	explicit Iommufd(const std::string &path = default_device_path());
	~Iommufd();
	Iommufd(Iommufd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Iommufd &operator=(Iommufd &&other) noexcept;
	Iommufd(const Iommufd &) = delete;
	Iommufd &operator=(const Iommufd &) = delete;

	int fd() const { return fd_; }

	// The ioctl as is: 0 on success, else the errno. Never throws.
	int raw(unsigned long cmd, void *arg) const noexcept;

	// The ioctl, throwing Error(name, errno) on failure.
	void call(const char *name, unsigned long cmd, void *arg) const;

	Info info() const;
	void destroy(uint32_t id) const;

	uint64_t option_get(uint32_t option_id, uint32_t object_id = 0) const;
	void option_set(uint32_t option_id, uint64_t value,
			uint32_t object_id = 0) const;

private:
	int fd_;
};

// Base of the RAII object types: owns one ID of one Iommufd.
class Object {
public:
	Object(Object &&other) noexcept
		: fd_(other.fd_), id_(std::exchange(other.id_, 0))
	{
	}
	Object &operator=(Object &&other) noexcept;
	Object(const Object &) = delete;
	Object &operator=(const Object &) = delete;

	uint32_t id() const { return id_; }
	const Iommufd &iommufd() const { return *fd_; }

	// Destroy now; errors are thrown (the destructor swallows them).
	void destroy();
	// Forget the ID without destroying it (the fd's close will).
	uint32_t release() { return std::exchange(id_, 0); }

protected:
	Object(const Iommufd &fd, uint32_t id) : fd_(&fd), id_(id) {}
	~Object();

private:
	const Iommufd *fd_;
	uint32_t id_;
};

using IovaRange = iommu_iova_range;

// An I/O address space.
class Ioas : public Object {
public:
	explicit Ioas(const Iommufd &fd);
	// Adopt an existing IOAS ID (it is destroyed with this object unless
	// release()d).
	Ioas(const Iommufd &fd, uint32_t id) : Object(fd, id) {}

	bool huge_pages() const;
	void set_huge_pages(bool on) const;

	// IOAS_MAP; @flags are IOMMU_IOAS_MAP_*; returns the IOVA used.
	uint64_t map(const void *buf, uint64_t length, uint32_t flags,
		     uint64_t iova = 0) const;
	// IOAS_UNMAP; returns the bytes unmapped.
	uint64_t unmap(uint64_t iova, uint64_t length) const;
	uint64_t unmap_all() const { return unmap(0, UINT64_MAX); }
	// IOAS_COPY from @src into this IOAS; returns the IOVA used.
	uint64_t copy_from(const Ioas &src, uint64_t src_iova, uint64_t length,
			   uint32_t flags, uint64_t dst_iova = 0) const;
	// IOAS_IOVA_RANGES: the usable ranges and the alignment.
	std::vector<IovaRange> iova_ranges(uint64_t *alignment = nullptr) const;
	void allow_iovas(const std::vector<IovaRange> &ranges) const;
	// IOMMU_TEST_OP_ADD_RESERVED
	void add_reserved(uint64_t start, uint64_t length) const;
};

// IOMMU_TEST_CMD with op and id filled in, size set.
iommu_test_cmd test_cmd(uint32_t op, uint32_t id);

// A test access (IOMMU_TEST_OP_CREATE_ACCESS): an in-kernel user that pins
// and copies by IOVA. Owns the access file descriptor.
class Access {
public:
	Access(const Ioas &ioas, uint32_t flags);
	~Access();
	Access(const Access &) = delete;
	Access &operator=(const Access &) = delete;

	int fd() const { return fd_; }
	void write(uint64_t iova, const void *buf, uint64_t length) const;
	void read(uint64_t iova, void *buf, uint64_t length) const;
	// ACCESS_PAGES: returns the pinned item's ID.
	uint32_t pin(uint64_t iova, uint64_t length, const void *uptr,
		     bool write) const;
	void unpin(uint32_t item) const;
	void replace_ioas(const Ioas &ioas) const;

private:
	const Iommufd *fd_owner_;
	int fd_;
};

// A device made by IOMMU_TEST_OP_MOCK_DOMAIN(_FLAGS): plugged in, bound to
// the fd and attached to an IOAS or HWPT. Destroying the stdev unplugs it.
class MockDomain {
public:
	MockDomain(const Iommufd &fd, uint32_t pt_id, uint32_t dev_flags = 0);
	~MockDomain();
	MockDomain(MockDomain &&other) noexcept
		: fd_(other.fd_), stdev_id_(std::exchange(other.stdev_id_, 0)),
		  hwpt_id_(other.hwpt_id_), idev_id_(other.idev_id_)
	{
	}
	MockDomain(const MockDomain &) = delete;
	MockDomain &operator=(const MockDomain &) = delete;

	uint32_t stdev_id() const { return stdev_id_; }
	uint32_t hwpt_id() const { return hwpt_id_; }
	uint32_t idev_id() const { return idev_id_; }
	// MOCK_DOMAIN_REPLACE; returns the HWPT now used.
	uint32_t replace(uint32_t pt_id);
	void destroy();

private:
	const Iommufd *fd_;
	uint32_t stdev_id_, hwpt_id_, idev_id_;
};

// One device of IOMMULAB_MOCK_GROUP_ALLOC.
struct MockDev {
	uint32_t stdev_id;
	uint32_t rid;
};

// Plugs in a group of @n mock devices; the fd owns their stdev handles.
std::vector<MockDev> mock_group_alloc(const Iommufd &fd, uint32_t n,
				      uint32_t dev_flags = 0);

// Gives the mock device @parent_stdev (a stdev ID of this fd) @n
// sub-devices (IOMMULAB_MOCK_SUBDEV_ALLOC); their rid is the handle that
// BIND and DMA take. @path, if given, gets the out_path: an enum
// iommulab_subdev_path (NONE: routed by the IOMMU; SW: software-mediated).
std::vector<MockDev> mock_subdev_alloc(const Iommufd &fd,
				       uint32_t parent_stdev, uint32_t n,
				       uint32_t *path = nullptr);

// What IOMMULAB_AUX_GET_DOMAIN says of a sub-device.
struct SubdevRoute {
	uint32_t hwpt_id;    // in the binding fd; 0 when software-mediated
	uint32_t pasid;	     // the PASID its requests carry on the parent
	uint32_t path;	     // enum iommulab_subdev_path
	uint32_t parent_rid; // its parent's requester ID
};

// IOMMULAB_AUX_GET_DOMAIN of the sub-device @dev_id (a device ID bound to
// @fd, or the stdev ID of the fd that plugged it in).
SubdevRoute aux_get_domain(const Iommufd &fd, uint32_t dev_id);

// A device bound to the fd (IOMMULAB_DEVICE_BIND); destroying it unbinds.
class Device : public Object {
public:
	Device(const Iommufd &fd, uint32_t rid, uint64_t cookie = 0);
	// IOMMULAB_DEVICE_ATTACH (or replace) with @flags (enum
	// iommulab_attach_flags: a sub-device's path); returns the HWPT used.
	uint32_t attach(uint32_t pt_id, uint32_t flags = 0) const;
	void detach() const;
};

// IOMMULAB_DEVICE_PASID on the bound device @dev_id: @op is an enum
// iommulab_pasid_op; @pt_id a PASID-compatible HWPT (0 for a detach).
void device_pasid(const Iommufd &fd, uint32_t dev_id, uint32_t op,
		  uint32_t pasid, uint32_t pt_id = 0);

// IOMMULAB_DEVICE_PASID(attach) with IOMMULAB_DEVICE_PASID_ALLOC: the
// kernel picks the PASID from the fd's IOASID set; returns it.
uint32_t device_pasid_alloc(const Iommufd &fd, uint32_t dev_id,
			    uint32_t pt_id);

// IOMMULAB_IOASID @op (enum iommulab_ioasid_op) on the set @set_id; returns
// the answer (its pasid field for ALLOC and LOOKUP).
iommulab_ioasid ioasid_op(const Iommufd &fd, uint32_t set_id, uint32_t op,
			  uint32_t pasid, uint32_t vpasid);

struct IoasidSetInfo {
	uint32_t quota;
	uint32_t nr_pasids;
	uint32_t nr_pending;
	uint32_t nr_bound;
	uint64_t token_id;
};

// An IOASID set (IOMMULAB_IOASID_SET_ALLOC): @token 0 names the caller's
// mm, any other value is a token of the caller's choosing.
class IoasidSet : public Object {
public:
	IoasidSet(const Iommufd &fd, uint32_t quota, uint64_t token = 0);

	uint64_t token_id() const { return token_id_; }
	// IOMMULAB_IOASID: returns the new PASID.
	uint32_t alloc() const;
	void free(uint32_t pasid) const;
	void bind(uint32_t pasid, uint32_t vpasid) const;
	void unbind(uint32_t pasid) const;
	// The PASID @vpasid is bound to.
	uint32_t lookup(uint32_t vpasid) const;
	IoasidSetInfo info() const;

private:
	IoasidSet(const Iommufd &fd, const iommulab_ioasid_set_alloc &cmd);
	uint64_t token_id_ = 0;
};

IoasidSetInfo ioasid_set_info(const Iommufd &fd, uint32_t set_id);

// IOMMULAB_AUX_ATTACH, _DETACH or _GET_PASID (@nr) of the HWPT @hwpt_id on
// the device @dev_id: returns the domain's default PASID (0 for a detach).
uint32_t aux_op(const Iommufd &fd, unsigned long nr, uint32_t dev_id,
		uint32_t hwpt_id);

// IOMMU_VIOMMU_ALLOC of the mock's selftest type on the NEST_PARENT HWPT
// @hwpt_id for @dev_id: returns the vIOMMU's ID.
uint32_t viommu_alloc(const Iommufd &fd, uint32_t dev_id, uint32_t hwpt_id);

// A fault queue (IOMMU_FAULT_QUEUE_ALLOC) and its fault fd: the page
// requests of the HWPTs allocated with its ID (IOMMU_HWPT_FAULT_ID_VALID)
// are read from the fd as struct iommu_hwpt_pgfault records and answered
// with struct iommu_hwpt_page_response. Destroying it closes the fd first
// (the kernel refuses to destroy a queue whose fd is open: EBUSY).
class FaultQueue : public Object {
public:
	explicit FaultQueue(const Iommufd &fd);
	~FaultQueue();
	FaultQueue(FaultQueue &&other) noexcept
		: Object(std::move(other)), fd_(std::exchange(other.fd_, -1))
	{
	}
	FaultQueue &operator=(FaultQueue &&) = delete;

	// The fault fd; -1 once closed.
	int fd() const { return fd_; }
	// Closes the fault fd now (its pending faults are answered INVALID).
	void close_fd();
	// Closes the fault fd, then destroys the queue (errors are thrown).
	void destroy();

	// One read() of up to @max records: whole groups only, never waits;
	// empty when nothing is pending. Throws Error("read(fault fd)").
	std::vector<iommu_hwpt_pgfault> read(size_t max = 64) const;
	// Answers the fault group @cookie (enum iommufd_page_response_code).
	// Throws Error("write(fault fd)").
	void respond(uint32_t cookie,
		     uint32_t code = IOMMUFD_PAGE_RESP_SUCCESS) const;
	// Several responses in one write(); returns the bytes the kernel took
	// (those before a bad one), or throws if it took none.
	size_t respond(const std::vector<iommu_hwpt_page_response> &r) const;
	// poll()'s revents for the fault fd after up to @timeout_ms.
	short poll_events(int timeout_ms = 0) const;
	// Whether a fault is pending (POLLIN) within @timeout_ms.
	bool readable(int timeout_ms = 0) const;

private:
	FaultQueue(const Iommufd &fd, const iommu_fault_alloc &cmd);
	int fd_;
};

// IOMMU_HWPT_ALLOC without an owner: returns the new HWPT's ID, which the
// caller destroys (or leaves to the fd's close). Hwpt below owns its HWPT.
// With @fault_id, the HWPT reports its faults to that fault queue
// (IOMMU_HWPT_FAULT_ID_VALID).
uint32_t hwpt_alloc(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id,
		    uint32_t flags = 0, uint32_t data_type = 0,
		    const void *data = nullptr, uint32_t data_len = 0,
		    std::optional<uint32_t> fault_id = std::nullopt);

// A HWPT made by IOMMU_HWPT_ALLOC.
class Hwpt : public Object {
public:
	// A paging HWPT on @ioas_id for @dev_id.
	Hwpt(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id,
	     uint32_t flags = 0,
	     std::optional<uint32_t> fault_id = std::nullopt);
	// A nested HWPT on parent @pt_id with driver data.
	Hwpt(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
	     uint32_t data_type, const void *data, uint32_t data_len,
	     std::optional<uint32_t> fault_id = std::nullopt);
};

// IOMMU_TEST_OP_TRIGGER_IOPF: the mock device @dev_id (a device ID of this
// fd) reports one fault (the last of group @grpid) at @addr with @perm
// (enum iommu_hwpt_pgfault_perm) for its RID (@pasid 0) or @pasid, to the
// fault queue of the HWPT attached there (nothing if it has none).
void trigger_iopf(const Iommufd &fd, uint32_t dev_id, uint32_t pasid,
		  uint32_t grpid, uint32_t perm, uint64_t addr);
// The IOMMU_TEST_CMD that trigger_iopf() sends (for tests that want the
// errno).
iommu_test_cmd trigger_iopf_cmd(uint32_t dev_id, uint32_t pasid,
				uint32_t grpid, uint32_t perm, uint64_t addr);

// What a mock DMA did (IOMMULAB_MOCK_DMA).
struct DmaResult {
	uint64_t done;
	uint64_t fault_iova;
	uint32_t fault_reason;
	uint64_t max_iopte;
	bool ok() const { return fault_reason == IOMMULAB_DMA_FAULT_NONE; }
};

// The short name of an enum iommulab_dma_fault ("none", "blocked",
// "not-mapped", "permission", "no-pasid", "prq-invalid", "prq-timeout",
// "prq-full"; "?" if unknown), as the CLI's --expect-fault takes it.
const char *dma_fault_name(uint32_t reason);
// What it means, in words ("not mapped", "page request answered INVALID").
const char *dma_fault_text(uint32_t reason);

// The device @dev_id (a bound device's or stdev's ID of this fd, or with
// @by_rid a requester ID) reads (@write false) or writes @len bytes at
// @iova, from/to @buf.
DmaResult dma(const Iommufd &fd, uint32_t dev_id, uint64_t iova, void *buf,
	      uint64_t len, bool write, bool by_rid = false);

// The same, a request that carries @pasid (IOMMULAB_DMA_PASID).
DmaResult dma_pasid(const Iommufd &fd, uint32_t dev_id, uint32_t pasid,
		    uint64_t iova, void *buf, uint64_t len, bool write);

// IOMMULAB_MOCK_DMA_BURST: the device @dev_id (an ID of this fd) issues one
// request of @len bytes at each of @iovas (writes of the byte @value, or
// reads), with @pasid unless it is IOMMULAB_NO_PASID. Returns how many
// completed; @fault, if given, gets the first fault (reason and IOVA).
uint32_t dma_burst(const Iommufd &fd, uint32_t dev_id,
		   const std::vector<uint64_t> &iovas, uint32_t len, bool write,
		   uint8_t value = 0, uint32_t pasid = IOMMULAB_NO_PASID,
		   DmaResult *fault = nullptr);

// IOMMU_HWPT_SET_DIRTY_TRACKING
void set_dirty_tracking(const Iommufd &fd, uint32_t hwpt_id, bool enable);

// A dirty bitmap: bit i stands for [iova + i * page_size, + page_size).
struct DirtyBitmap {
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
	std::vector<uint8_t> bytes;

	DirtyBitmap(uint64_t iova_, uint64_t length_, uint64_t page_size_)
		: iova(iova_), length(length_), page_size(page_size_),
		  bytes((length_ / page_size_ + 7) / 8)
	{
	}
	uint64_t nbits() const { return length / page_size; }
	bool test(uint64_t bit) const { return bytes[bit / 8] >> (bit % 8) & 1; }
	// The indexes of the set bits.
	std::vector<uint64_t> set_bits() const;
};

// IOMMU_HWPT_GET_DIRTY_BITMAP into @bm (ORed into what it holds);
// @clear false: IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR.
void get_dirty_bitmap(const Iommufd &fd, uint32_t hwpt_id, DirtyBitmap &bm,
		      bool clear = true);

// IOMMULAB_IOAS_UNMAP_DIRTY of @bm's range into @bm: returns the bits set.
uint64_t unmap_dirty(const Iommufd &fd, uint32_t ioas_id, DirtyBitmap &bm);

// IOMMULAB_HWPT_SPLIT (@iopte_size != 0) or IOMMULAB_HWPT_MERGE (0):
// returns the IOPTEs intersecting the range before and after.
std::pair<uint64_t, uint64_t> hwpt_reshape(const Iommufd &fd, uint32_t hwpt_id,
					   uint64_t iova, uint64_t length,
					   uint64_t iopte_size);

// IOMMU_TEST_OP_DIRTY: mark dirty, as DMA writes would, the IOPTE of each
// page whose bit is set in @bm; returns how many were mapped.
uint64_t test_set_dirty(const Iommufd &fd, uint32_t hwpt_id,
			const DirtyBitmap &bm);

// IOMMULAB_TEST_OP_READ_IOPTES: read every IOPTE of the range of the mock
// HWPT @hwpt_id, changing nothing; returns the IOPTEs read.
uint64_t test_read_ioptes(const Iommufd &fd, uint32_t hwpt_id, uint64_t iova,
			  uint64_t length);

// IOMMU_TEST_OP_MD_CHECK_REFS: 0 if every page of the range has @refs
// long-term pins, else the errno (EIO: a count differs).
int check_refs(const Iommufd &fd, const void *buf, uint64_t length,
	       uint32_t refs);

} // namespace iommulab
