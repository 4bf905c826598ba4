// SPDX-License-Identifier: GPL-2.0
#include "iommulab.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace iommulab {

std::string errno_name(int err)
{
	switch (err) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case E2BIG: return "E2BIG";
	case ERANGE: return "ERANGE";
	case EACCES: return "EACCES";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	case EMSGSIZE: return "EMSGSIZE";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case EIO: return "EIO";
	default: return "E" + std::to_string(err);
	}
}

Error::Error(std::string command, int err)
	: std::runtime_error(command + ": " + errno_name(err) + " (" +
			     std::strerror(err) + ")"),
	  command_(std::move(command)), err_(err)
{
}

std::string default_device_path()
{
	const char *env = std::getenv("IOMMULAB_DEV");
	return env && *env ? env : "/dev/iommu";
}

Iommufd::Iommufd(const std::string &path)
	: fd_(::open(path.c_str(), O_RDWR | O_CLOEXEC))
{
	if (fd_ < 0)
		throw Error("open " + path, errno);
}

Iommufd::~Iommufd()
{
	if (fd_ >= 0)
		::close(fd_);
}

Iommufd &Iommufd::operator=(Iommufd &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

int Iommufd::raw(unsigned long cmd, void *arg) const noexcept
{
	return ::ioctl(fd_, cmd, arg) ? errno : 0;
}

void Iommufd::call(const char *name, unsigned long cmd, void *arg) const
{
	int err = raw(cmd, arg);

	if (err)
		throw Error(name, err);
}

Info Iommufd::info() const
{
	iommulab_info cmd{};

	cmd.size = sizeof(cmd);
	call("IOMMULAB_GET_INFO", IOMMULAB_GET_INFO, &cmd);
	return {cmd.out_abi_version, cmd.out_nr_objects, cmd.out_features,
		cmd.out_nr_objects_all, cmd.out_fd_id, cmd.out_fd_uid};
}

void Iommufd::destroy(uint32_t id) const
{
	iommu_destroy cmd{};

	cmd.size = sizeof(cmd);
	cmd.id = id;
	call("IOMMU_DESTROY", IOMMU_DESTROY, &cmd);
}

uint64_t Iommufd::option_get(uint32_t option_id, uint32_t object_id) const
{
	iommu_option cmd{};

	cmd.size = sizeof(cmd);
	cmd.option_id = option_id;
	cmd.op = IOMMU_OPTION_OP_GET;
	cmd.object_id = object_id;
	call("IOMMU_OPTION(GET)", IOMMU_OPTION, &cmd);
	return cmd.val64;
}

void Iommufd::option_set(uint32_t option_id, uint64_t value,
			 uint32_t object_id) const
{
	iommu_option cmd{};

	cmd.size = sizeof(cmd);
	cmd.option_id = option_id;
	cmd.op = IOMMU_OPTION_OP_SET;
	cmd.object_id = object_id;
	cmd.val64 = value;
	call("IOMMU_OPTION(SET)", IOMMU_OPTION, &cmd);
}

// Used where nothing may throw: a failure leaves the object to the fd's close.
static void destroy_quietly(const Iommufd &fd, uint32_t id)
{
	iommu_destroy cmd{};

	cmd.size = sizeof(cmd);
	cmd.id = id;
	fd.raw(IOMMU_DESTROY, &cmd);
}

Object &Object::operator=(Object &&other) noexcept
{
	if (this != &other) {
		if (id_)
			destroy_quietly(*fd_, id_);
		fd_ = other.fd_;
		id_ = std::exchange(other.id_, 0);
	}
	return *this;
}

void Object::destroy()
{
	if (id_) {
		fd_->destroy(id_);
		id_ = 0;
	}
}

Object::~Object()
{
	if (id_)
		destroy_quietly(*fd_, id_);
}

static uint32_t ioas_alloc(const Iommufd &fd)
{
	iommu_ioas_alloc cmd{};

	cmd.size = sizeof(cmd);
	fd.call("IOMMU_IOAS_ALLOC", IOMMU_IOAS_ALLOC, &cmd);
	return cmd.out_ioas_id;
}

Ioas::Ioas(const Iommufd &fd) : Object(fd, ioas_alloc(fd)) {}

bool Ioas::huge_pages() const
{
	return iommufd().option_get(IOMMU_OPTION_HUGE_PAGES, id()) != 0;
}

void Ioas::set_huge_pages(bool on) const
{
	iommufd().option_set(IOMMU_OPTION_HUGE_PAGES, on ? 1 : 0, id());
}

} // namespace iommulab

namespace iommulab {

uint64_t Ioas::map(const void *buf, uint64_t length, uint32_t flags,
		   uint64_t iova) const
{
	iommu_ioas_map cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.ioas_id = id();
	cmd.user_va = reinterpret_cast<uintptr_t>(buf);
	cmd.length = length;
	cmd.iova = iova;
	iommufd().call("IOMMU_IOAS_MAP", IOMMU_IOAS_MAP, &cmd);
	return cmd.iova;
}

uint64_t Ioas::unmap(uint64_t iova, uint64_t length) const
{
	iommu_ioas_unmap cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = id();
	cmd.iova = iova;
	cmd.length = length;
	iommufd().call("IOMMU_IOAS_UNMAP", IOMMU_IOAS_UNMAP, &cmd);
	return cmd.length;
}

uint64_t Ioas::copy_from(const Ioas &src, uint64_t src_iova, uint64_t length,
			 uint32_t flags, uint64_t dst_iova) const
{
	iommu_ioas_copy cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dst_ioas_id = id();
	cmd.src_ioas_id = src.id();
	cmd.length = length;
	cmd.dst_iova = dst_iova;
	cmd.src_iova = src_iova;
	iommufd().call("IOMMU_IOAS_COPY", IOMMU_IOAS_COPY, &cmd);
	return cmd.dst_iova;
}

std::vector<IovaRange> Ioas::iova_ranges(uint64_t *alignment) const
{
	std::vector<IovaRange> ranges(4);

	while (true) {
		iommu_ioas_iova_ranges cmd{};

		cmd.size = sizeof(cmd);
		cmd.ioas_id = id();
		cmd.num_iovas = ranges.size();
		cmd.allowed_iovas = reinterpret_cast<uintptr_t>(ranges.data());
		int err = iommufd().raw(IOMMU_IOAS_IOVA_RANGES, &cmd);
		if (err == EMSGSIZE) {
			ranges.resize(cmd.num_iovas);
			continue;
		}
		if (err)
			throw Error("IOMMU_IOAS_IOVA_RANGES", err);
		ranges.resize(cmd.num_iovas);
		if (alignment)
			*alignment = cmd.out_iova_alignment;
		return ranges;
	}
}

void Ioas::allow_iovas(const std::vector<IovaRange> &ranges) const
{
	iommu_ioas_allow_iovas cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = id();
	cmd.num_iovas = ranges.size();
	cmd.allowed_iovas = reinterpret_cast<uintptr_t>(ranges.data());
	iommufd().call("IOMMU_IOAS_ALLOW_IOVAS", IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

iommu_test_cmd test_cmd(uint32_t op, uint32_t id)
{
	iommu_test_cmd cmd{};

	cmd.size = sizeof(cmd);
	cmd.op = op;
	cmd.id = id;
	return cmd;
}

void Ioas::add_reserved(uint64_t start, uint64_t length) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_ADD_RESERVED, id());

	cmd.add_reserved.start = start;
	cmd.add_reserved.length = length;
	iommufd().call("IOMMU_TEST_OP_ADD_RESERVED", IOMMU_TEST_CMD, &cmd);
}

static int create_access(const Ioas &ioas, uint32_t flags)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_CREATE_ACCESS, ioas.id());

	cmd.create_access.flags = flags;
	ioas.iommufd().call("IOMMU_TEST_OP_CREATE_ACCESS", IOMMU_TEST_CMD, &cmd);
	return cmd.create_access.out_access_fd;
}

Access::Access(const Ioas &ioas, uint32_t flags)
	: fd_owner_(&ioas.iommufd()), fd_(create_access(ioas, flags))
{
}

Access::~Access()
{
	::close(fd_);
}

void Access::write(uint64_t iova, const void *buf, uint64_t length) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_ACCESS_RW, fd_);

	cmd.access_rw.iova = iova;
	cmd.access_rw.length = length;
	cmd.access_rw.uptr = reinterpret_cast<uintptr_t>(buf);
	cmd.access_rw.flags = MOCK_ACCESS_RW_WRITE;
	fd_owner_->call("IOMMU_TEST_OP_ACCESS_RW(write)", IOMMU_TEST_CMD, &cmd);
}

void Access::read(uint64_t iova, void *buf, uint64_t length) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_ACCESS_RW, fd_);

	cmd.access_rw.iova = iova;
	cmd.access_rw.length = length;
	cmd.access_rw.uptr = reinterpret_cast<uintptr_t>(buf);
	fd_owner_->call("IOMMU_TEST_OP_ACCESS_RW(read)", IOMMU_TEST_CMD, &cmd);
}

uint32_t Access::pin(uint64_t iova, uint64_t length, const void *uptr,
		     bool write) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_ACCESS_PAGES, fd_);

	cmd.access_pages.flags = write ? MOCK_FLAGS_ACCESS_WRITE : 0;
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = length;
	cmd.access_pages.uptr = reinterpret_cast<uintptr_t>(uptr);
	fd_owner_->call("IOMMU_TEST_OP_ACCESS_PAGES", IOMMU_TEST_CMD, &cmd);
	return cmd.access_pages.out_access_pages_id;
}

void Access::unpin(uint32_t item) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, fd_);

	cmd.destroy_access_pages.access_pages_id = item;
	fd_owner_->call("IOMMU_TEST_OP_DESTROY_ACCESS_PAGES", IOMMU_TEST_CMD,
			&cmd);
}

void Access::replace_ioas(const Ioas &ioas) const
{
	auto cmd = test_cmd(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, fd_);

	cmd.access_replace_ioas.ioas_id = ioas.id();
	fd_owner_->call("IOMMU_TEST_OP_ACCESS_REPLACE_IOAS", IOMMU_TEST_CMD,
			&cmd);
}

int check_refs(const Iommufd &fd, const void *buf, uint64_t length,
	       uint32_t refs)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_MD_CHECK_REFS, 0);

	cmd.check_refs.length = length;
	cmd.check_refs.uptr = reinterpret_cast<uintptr_t>(buf);
	cmd.check_refs.refs = refs;
	return fd.raw(IOMMU_TEST_CMD, &cmd);
}

} // namespace iommulab

namespace iommulab {

MockDomain::MockDomain(const Iommufd &fd, uint32_t pt_id, uint32_t dev_flags)
	: fd_(&fd)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, pt_id);

	cmd.mock_domain_flags.dev_flags = dev_flags;
	fd.call("IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS", IOMMU_TEST_CMD, &cmd);
	stdev_id_ = cmd.mock_domain_flags.out_stdev_id;
	hwpt_id_ = cmd.mock_domain_flags.out_hwpt_id;
	idev_id_ = cmd.mock_domain_flags.out_idev_id;
}

MockDomain::~MockDomain()
{
	if (stdev_id_)
		destroy_quietly(*fd_, stdev_id_);
}

void MockDomain::destroy()
{
	fd_->destroy(stdev_id_);
	stdev_id_ = 0;
}

uint32_t MockDomain::replace(uint32_t pt_id)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, stdev_id_);

	cmd.mock_domain_replace.pt_id = pt_id;
	fd_->call("IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", IOMMU_TEST_CMD, &cmd);
	hwpt_id_ = cmd.mock_domain_replace.pt_id;
	return hwpt_id_;
}

static std::vector<MockDev> mock_devs(const std::vector<iommulab_mock_dev_info> &info)
{
	std::vector<MockDev> devs;
	for (auto &i : info)
		devs.push_back({i.stdev_id, i.rid});
	return devs;
}

std::vector<MockDev> mock_group_alloc(const Iommufd &fd, uint32_t n,
				      uint32_t dev_flags)
{
	std::vector<iommulab_mock_dev_info> info(n);
	iommulab_mock_group_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.nr_devices = n;
	cmd.dev_flags = dev_flags;
	cmd.devs_uptr = reinterpret_cast<uintptr_t>(info.data());
	fd.call("IOMMULAB_MOCK_GROUP_ALLOC", IOMMULAB_MOCK_GROUP_ALLOC, &cmd);
	return mock_devs(info);
}

std::vector<MockDev> mock_subdev_alloc(const Iommufd &fd,
				       uint32_t parent_stdev, uint32_t n,
				       uint32_t *path)
{
	std::vector<iommulab_mock_dev_info> info(n);
	iommulab_mock_subdev_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.parent_id = parent_stdev;
	cmd.nr_subdevs = n;
	cmd.subdevs_uptr = reinterpret_cast<uintptr_t>(info.data());
	fd.call("IOMMULAB_MOCK_SUBDEV_ALLOC", IOMMULAB_MOCK_SUBDEV_ALLOC, &cmd);
	if (path)
		*path = cmd.out_path;
	return mock_devs(info);
}

SubdevRoute aux_get_domain(const Iommufd &fd, uint32_t dev_id)
{
	iommulab_aux_get_domain cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = dev_id;
	fd.call("IOMMULAB_AUX_GET_DOMAIN", IOMMULAB_AUX_GET_DOMAIN, &cmd);
	return {cmd.out_hwpt_id, cmd.out_pasid, cmd.out_path,
		cmd.out_parent_rid};
}

static uint32_t device_bind(const Iommufd &fd, uint32_t rid, uint64_t cookie)
{
	iommulab_device_bind cmd{};

	cmd.size = sizeof(cmd);
	cmd.rid = rid;
	cmd.cookie = cookie;
	fd.call("IOMMULAB_DEVICE_BIND", IOMMULAB_DEVICE_BIND, &cmd);
	return cmd.out_dev_id;
}

Device::Device(const Iommufd &fd, uint32_t rid, uint64_t cookie)
	: Object(fd, device_bind(fd, rid, cookie))
{
}

uint32_t Device::attach(uint32_t pt_id, uint32_t flags) const
{
	iommulab_device_attach cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.dev_id = id();
	cmd.pt_id = pt_id;
	iommufd().call("IOMMULAB_DEVICE_ATTACH", IOMMULAB_DEVICE_ATTACH, &cmd);
	return cmd.out_hwpt_id;
}

void Device::detach() const
{
	iommulab_device_detach cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = id();
	iommufd().call("IOMMULAB_DEVICE_DETACH", IOMMULAB_DEVICE_DETACH, &cmd);
}

namespace {

// IOMMULAB_DEVICE_PASID with @flags; returns the PASID it used.
uint32_t device_pasid_call(const Iommufd &fd, const char *name,
			   uint32_t flags, uint32_t dev_id, uint32_t op,
			   uint32_t pasid, uint32_t pt_id)
{
	iommulab_device_pasid cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.op = op;
	cmd.dev_id = dev_id;
	cmd.pasid = pasid;
	cmd.pt_id = pt_id;
	fd.call(name, IOMMULAB_DEVICE_PASID, &cmd);
	return cmd.pasid;
}

} // namespace

void device_pasid(const Iommufd &fd, uint32_t dev_id, uint32_t op,
		  uint32_t pasid, uint32_t pt_id)
{
	static const char *const names[] = {
		"IOMMULAB_DEVICE_PASID(attach)",
		"IOMMULAB_DEVICE_PASID(replace)",
		"IOMMULAB_DEVICE_PASID(detach)",
	};

	device_pasid_call(fd, op < 3 ? names[op] : "IOMMULAB_DEVICE_PASID", 0,
			  dev_id, op, pasid, pt_id);
}

uint32_t device_pasid_alloc(const Iommufd &fd, uint32_t dev_id,
			    uint32_t pt_id)
{
	return device_pasid_call(fd, "IOMMULAB_DEVICE_PASID(attach, alloc)",
				 IOMMULAB_DEVICE_PASID_ALLOC, dev_id,
				 IOMMULAB_PASID_ATTACH, 0, pt_id);
}

namespace {

iommulab_ioasid_set_alloc ioasid_set_alloc(const Iommufd &fd, uint32_t quota,
					   uint64_t token)
{
	iommulab_ioasid_set_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = token ? IOMMULAB_IOASID_SET_TOKEN_VALUE : 0;
	cmd.quota = quota;
	cmd.token = token;
	fd.call("IOMMULAB_IOASID_SET_ALLOC", IOMMULAB_IOASID_SET_ALLOC, &cmd);
	return cmd;
}

} // namespace

iommulab_ioasid ioasid_op(const Iommufd &fd, uint32_t set_id, uint32_t op,
			  uint32_t pasid, uint32_t vpasid)
{
	static const char *const names[] = {
		"IOMMULAB_IOASID(alloc)",  "IOMMULAB_IOASID(free)",
		"IOMMULAB_IOASID(bind)",   "IOMMULAB_IOASID(unbind)",
		"IOMMULAB_IOASID(lookup)",
	};
	iommulab_ioasid cmd{};

	cmd.size = sizeof(cmd);
	cmd.op = op;
	cmd.set_id = set_id;
	cmd.pasid = pasid;
	cmd.vpasid = vpasid;
	fd.call(op < 5 ? names[op] : "IOMMULAB_IOASID", IOMMULAB_IOASID, &cmd);
	return cmd;
}

IoasidSet::IoasidSet(const Iommufd &fd, uint32_t quota, uint64_t token)
	: IoasidSet(fd, ioasid_set_alloc(fd, quota, token))
{
}

IoasidSet::IoasidSet(const Iommufd &fd, const iommulab_ioasid_set_alloc &cmd)
	: Object(fd, cmd.out_set_id), token_id_(cmd.out_token_id)
{
}

uint32_t IoasidSet::alloc() const
{
	return ioasid_op(iommufd(), id(), IOMMULAB_IOASID_ALLOC, 0, 0).pasid;
}

void IoasidSet::free(uint32_t pasid) const
{
	ioasid_op(iommufd(), id(), IOMMULAB_IOASID_FREE, pasid, 0);
}

void IoasidSet::bind(uint32_t pasid, uint32_t vpasid) const
{
	ioasid_op(iommufd(), id(), IOMMULAB_IOASID_BIND, pasid, vpasid);
}

void IoasidSet::unbind(uint32_t pasid) const
{
	ioasid_op(iommufd(), id(), IOMMULAB_IOASID_UNBIND, pasid, 0);
}

uint32_t IoasidSet::lookup(uint32_t vpasid) const
{
	return ioasid_op(iommufd(), id(), IOMMULAB_IOASID_LOOKUP, 0, vpasid)
		.pasid;
}

IoasidSetInfo ioasid_set_info(const Iommufd &fd, uint32_t set_id)
{
	iommulab_ioasid_set_info cmd{};

	cmd.size = sizeof(cmd);
	cmd.set_id = set_id;
	fd.call("IOMMULAB_IOASID_SET_INFO", IOMMULAB_IOASID_SET_INFO, &cmd);
	return {cmd.out_quota, cmd.out_nr_pasids, cmd.out_nr_pending,
		cmd.out_nr_bound, cmd.out_token_id};
}

IoasidSetInfo IoasidSet::info() const
{
	return ioasid_set_info(iommufd(), id());
}

uint32_t aux_op(const Iommufd &fd, unsigned long nr, uint32_t dev_id,
		uint32_t hwpt_id)
{
	iommulab_aux cmd{};

	cmd.size = sizeof(cmd);
	cmd.dev_id = dev_id;
	cmd.hwpt_id = hwpt_id;
	fd.call(nr == IOMMULAB_AUX_ATTACH   ? "IOMMULAB_AUX_ATTACH" :
		nr == IOMMULAB_AUX_DETACH   ? "IOMMULAB_AUX_DETACH" :
					      "IOMMULAB_AUX_GET_PASID",
		nr, &cmd);
	return cmd.out_pasid;
}

uint32_t viommu_alloc(const Iommufd &fd, uint32_t dev_id, uint32_t hwpt_id)
{
	iommu_viommu_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.type = IOMMU_VIOMMU_TYPE_SELFTEST;
	cmd.dev_id = dev_id;
	cmd.hwpt_id = hwpt_id;
	fd.call("IOMMU_VIOMMU_ALLOC", IOMMU_VIOMMU_ALLOC, &cmd);
	return cmd.out_viommu_id;
}

uint32_t hwpt_alloc(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id,
		    uint32_t flags, uint32_t data_type, const void *data,
		    uint32_t data_len, std::optional<uint32_t> fault_id)
{
	iommu_hwpt_alloc cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = flags | (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0);
	cmd.dev_id = dev_id;
	cmd.pt_id = pt_id;
	cmd.data_type = data_type;
	cmd.data_len = data_len;
	cmd.data_uptr = reinterpret_cast<uintptr_t>(data);
	cmd.fault_id = fault_id.value_or(0);
	fd.call("IOMMU_HWPT_ALLOC", IOMMU_HWPT_ALLOC, &cmd);
	return cmd.out_hwpt_id;
}

Hwpt::Hwpt(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
	   std::optional<uint32_t> fault_id)
	: Object(fd, hwpt_alloc(fd, dev_id, pt_id, flags, 0, nullptr, 0,
				fault_id))
{
}

Hwpt::Hwpt(const Iommufd &fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
	   uint32_t data_type, const void *data, uint32_t data_len,
	   std::optional<uint32_t> fault_id)
	: Object(fd, hwpt_alloc(fd, dev_id, pt_id, flags, data_type, data,
				data_len, fault_id))
{
}

static iommu_fault_alloc fault_queue_alloc(const Iommufd &fd)
{
	iommu_fault_alloc cmd{};

	cmd.size = sizeof(cmd);
	fd.call("IOMMU_FAULT_QUEUE_ALLOC", IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	return cmd;
}

FaultQueue::FaultQueue(const Iommufd &fd)
	: FaultQueue(fd, fault_queue_alloc(fd))
{
}

FaultQueue::FaultQueue(const Iommufd &fd, const iommu_fault_alloc &cmd)
	: Object(fd, cmd.out_fault_id), fd_(static_cast<int>(cmd.out_fault_fd))
{
}

FaultQueue::~FaultQueue()
{
	// Before ~Object destroys the ID: an open fd keeps it busy.
	close_fd();
}

void FaultQueue::close_fd()
{
	if (fd_ >= 0)
		::close(std::exchange(fd_, -1));
}

void FaultQueue::destroy()
{
	close_fd();
	Object::destroy();
}

std::vector<iommu_hwpt_pgfault> FaultQueue::read(size_t max) const
{
	std::vector<iommu_hwpt_pgfault> out(max);
	ssize_t n = ::read(fd_, out.data(), max * sizeof(out[0]));

	if (n < 0)
		throw Error("read(fault fd)", errno);
	out.resize(static_cast<size_t>(n) / sizeof(out[0]));
	return out;
}

void FaultQueue::respond(uint32_t cookie, uint32_t code) const
{
	respond(std::vector<iommu_hwpt_page_response>{{cookie, code}});
}

size_t FaultQueue::respond(const std::vector<iommu_hwpt_page_response> &r) const
{
	ssize_t n = ::write(fd_, r.data(), r.size() * sizeof(r[0]));

	if (n < 0)
		throw Error("write(fault fd)", errno);
	return static_cast<size_t>(n);
}

short FaultQueue::poll_events(int timeout_ms) const
{
	struct pollfd p = {fd_, POLLIN | POLLRDNORM | POLLOUT, 0};
	int rc;

	do
		rc = ::poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		throw Error("poll(fault fd)", errno);
	return rc ? p.revents : 0;
}

bool FaultQueue::readable(int timeout_ms) const
{
	struct pollfd p = {fd_, POLLIN, 0};
	int rc;

	do
		rc = ::poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		throw Error("poll(fault fd)", errno);
	return rc > 0 && (p.revents & POLLIN);
}

iommu_test_cmd trigger_iopf_cmd(uint32_t dev_id, uint32_t pasid,
				uint32_t grpid, uint32_t perm, uint64_t addr)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_TRIGGER_IOPF, 0);

	cmd.trigger_iopf.dev_id = dev_id;
	cmd.trigger_iopf.pasid = pasid;
	cmd.trigger_iopf.grpid = grpid;
	cmd.trigger_iopf.perm = perm;
	cmd.trigger_iopf.addr = addr;
	return cmd;
}

void trigger_iopf(const Iommufd &fd, uint32_t dev_id, uint32_t pasid,
		  uint32_t grpid, uint32_t perm, uint64_t addr)
{
	auto cmd = trigger_iopf_cmd(dev_id, pasid, grpid, perm, addr);

	fd.call("IOMMU_TEST_OP_TRIGGER_IOPF", IOMMU_TEST_CMD, &cmd);
}

const char *dma_fault_name(uint32_t reason)
{
	static const char *const names[] = {
		"none",	    "blocked",	   "not-mapped",  "permission",
		"no-pasid", "prq-invalid", "prq-timeout", "prq-full"};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

const char *dma_fault_text(uint32_t reason)
{
	static const char *const texts[] = {
		"none",
		"blocked",
		"not mapped",
		"permission",
		"no PASID domain",
		"page request answered INVALID",
		"page request timed out",
		"fault queue full"};

	return reason < sizeof(texts) / sizeof(texts[0]) ? texts[reason] : "?";
}

static DmaResult do_dma(const Iommufd &fd, uint32_t flags, uint32_t id,
			uint32_t pasid, uint64_t iova, void *buf, uint64_t len)
{
	iommulab_mock_dma cmd{};
	const bool write = flags & IOMMULAB_DMA_WRITE;

	cmd.size = sizeof(cmd);
	cmd.flags = flags;
	cmd.rid = id;
	cmd.pasid = pasid;
	cmd.iova = iova;
	cmd.length = len;
	cmd.uptr = reinterpret_cast<uintptr_t>(buf);
	fd.call(write ? "IOMMULAB_MOCK_DMA(write)" : "IOMMULAB_MOCK_DMA(read)",
		IOMMULAB_MOCK_DMA, &cmd);
	return {cmd.out_done, cmd.out_fault_iova, cmd.out_fault_reason,
		cmd.out_max_iopte};
}

DmaResult dma(const Iommufd &fd, uint32_t dev_id, uint64_t iova, void *buf,
	      uint64_t len, bool write, bool by_rid)
{
	return do_dma(fd,
		      (by_rid ? 0 : IOMMULAB_DMA_DEV_ID) |
			      (write ? IOMMULAB_DMA_WRITE : 0),
		      dev_id, 0, iova, buf, len);
}

DmaResult dma_pasid(const Iommufd &fd, uint32_t dev_id, uint32_t pasid,
		    uint64_t iova, void *buf, uint64_t len, bool write)
{
	return do_dma(fd,
		      IOMMULAB_DMA_DEV_ID | IOMMULAB_DMA_PASID |
			      (write ? IOMMULAB_DMA_WRITE : 0),
		      dev_id, pasid, iova, buf, len);
}

uint32_t dma_burst(const Iommufd &fd, uint32_t dev_id,
		   const std::vector<uint64_t> &iovas, uint32_t len, bool write,
		   uint8_t value, uint32_t pasid, DmaResult *fault)
{
	uint32_t done = 0;

	if (fault)
		*fault = DmaResult{};
	for (size_t at = 0; at < iovas.size();) {
		iommulab_mock_dma_burst cmd{};
		uint32_t n = static_cast<uint32_t>(
			std::min<size_t>(iovas.size() - at, 65536));

		cmd.size = sizeof(cmd);
		cmd.flags = IOMMULAB_DMA_DEV_ID |
			    (write ? IOMMULAB_DMA_WRITE : 0) |
			    (pasid != IOMMULAB_NO_PASID ? IOMMULAB_DMA_PASID : 0);
		cmd.rid = dev_id;
		cmd.pasid = pasid != IOMMULAB_NO_PASID ? pasid : 0;
		cmd.iovas_uptr = reinterpret_cast<uintptr_t>(iovas.data() + at);
		cmd.nr = n;
		cmd.length = len;
		cmd.value = write ? value : 0;
		fd.call("IOMMULAB_MOCK_DMA_BURST", IOMMULAB_MOCK_DMA_BURST, &cmd);
		done += cmd.out_done;
		if (cmd.out_fault_reason) {
			if (fault) {
				fault->fault_reason = cmd.out_fault_reason;
				fault->fault_iova = cmd.out_fault_iova;
			}
			break;
		}
		at += n;
	}
	return done;
}

void set_dirty_tracking(const Iommufd &fd, uint32_t hwpt_id, bool enable)
{
	iommu_hwpt_set_dirty_tracking cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0;
	cmd.hwpt_id = hwpt_id;
	fd.call("IOMMU_HWPT_SET_DIRTY_TRACKING", IOMMU_HWPT_SET_DIRTY_TRACKING,
		&cmd);
}

std::vector<uint64_t> DirtyBitmap::set_bits() const
{
	std::vector<uint64_t> out;

	for (uint64_t i = 0; i < nbits(); i++)
		if (test(i))
			out.push_back(i);
	return out;
}

void get_dirty_bitmap(const Iommufd &fd, uint32_t hwpt_id, DirtyBitmap &bm,
		      bool clear)
{
	iommu_hwpt_get_dirty_bitmap cmd{};

	cmd.size = sizeof(cmd);
	cmd.hwpt_id = hwpt_id;
	cmd.flags = clear ? 0 : IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	cmd.iova = bm.iova;
	cmd.length = bm.length;
	cmd.page_size = bm.page_size;
	cmd.data = reinterpret_cast<uintptr_t>(bm.bytes.data());
	fd.call("IOMMU_HWPT_GET_DIRTY_BITMAP", IOMMU_HWPT_GET_DIRTY_BITMAP,
		&cmd);
}

uint64_t unmap_dirty(const Iommufd &fd, uint32_t ioas_id, DirtyBitmap &bm)
{
	iommulab_ioas_unmap_dirty cmd{};

	cmd.size = sizeof(cmd);
	cmd.ioas_id = ioas_id;
	cmd.iova = bm.iova;
	cmd.length = bm.length;
	cmd.page_size = bm.page_size;
	cmd.data = reinterpret_cast<uintptr_t>(bm.bytes.data());
	fd.call("IOMMULAB_IOAS_UNMAP_DIRTY", IOMMULAB_IOAS_UNMAP_DIRTY, &cmd);
	return cmd.out_nr_dirty;
}

uint64_t test_set_dirty(const Iommufd &fd, uint32_t hwpt_id,
			const DirtyBitmap &bm)
{
	auto cmd = test_cmd(IOMMU_TEST_OP_DIRTY, hwpt_id);

	cmd.dirty.iova = bm.iova;
	cmd.dirty.length = bm.length;
	cmd.dirty.page_size = bm.page_size;
	cmd.dirty.uptr = reinterpret_cast<uintptr_t>(bm.bytes.data());
	fd.call("IOMMU_TEST_OP_DIRTY", IOMMU_TEST_CMD, &cmd);
	return cmd.dirty.out_nr_dirty;
}

uint64_t test_read_ioptes(const Iommufd &fd, uint32_t hwpt_id, uint64_t iova,
			  uint64_t length)
{
	auto cmd = test_cmd(IOMMULAB_TEST_OP_READ_IOPTES, hwpt_id);

	cmd.dirty.iova = iova;
	cmd.dirty.length = length;
	fd.call("IOMMULAB_TEST_OP_READ_IOPTES", IOMMU_TEST_CMD, &cmd);
	return cmd.dirty.out_nr_dirty;
}

std::pair<uint64_t, uint64_t> hwpt_reshape(const Iommufd &fd, uint32_t hwpt_id,
					   uint64_t iova, uint64_t length,
					   uint64_t iopte_size)
{
	iommulab_hwpt_iopte cmd{};

	cmd.size = sizeof(cmd);
	cmd.hwpt_id = hwpt_id;
	cmd.iova = iova;
	cmd.length = length;
	cmd.iopte_size = iopte_size;
	if (iopte_size)
		fd.call("IOMMULAB_HWPT_SPLIT", IOMMULAB_HWPT_SPLIT, &cmd);
	else
		fd.call("IOMMULAB_HWPT_MERGE", IOMMULAB_HWPT_MERGE, &cmd);
	return {cmd.out_iopte_before, cmd.out_iopte_after};
}

} // namespace iommulab
