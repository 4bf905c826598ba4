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
#include <stdexcept>
#include <string>
#include <utility>

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

// An I/O address space.
class Ioas : public Object {
public:
	explicit Ioas(const Iommufd &fd);

	bool huge_pages() const;
	void set_huge_pages(bool on) const;
};

} // namespace iommulab
