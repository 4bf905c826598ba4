// SPDX-License-Identifier: GPL-2.0
#include "iommulab.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
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
		cmd.out_nr_objects_all};
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
