// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the harness's test files.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "../common/caps.hpp"
#include "iommulab.hpp"
#include "expect_state.hpp"

namespace harness {

using namespace iommulab;

// Objects this fd owns right now.
inline uint32_t nr_objects(const Iommufd &fd)
{
	return fd.info().nr_objects;
}

// Objects alive in the whole module.
inline uint64_t nr_objects_all(const Iommufd &fd)
{
	return fd.info().nr_objects_all;
}

// Sends @cmd with a buffer of @buffer_len bytes that starts with the
// structure @payload, and whose size field says @size. Bytes of the
// buffer past the payload are @tail (0 or a non-zero marker). Returns the
// errno (0 on success) and leaves what the kernel wrote in @out.
template <class T>
int send_sized(const Iommufd &fd, unsigned long cmd, const T &payload,
	       uint32_t size, size_t buffer_len, uint8_t tail,
	       std::vector<uint8_t> *out = nullptr)
{
	std::vector<uint8_t> buf(std::max(buffer_len, sizeof(T)), tail);

	std::memcpy(buf.data(), &payload, sizeof(T));
	std::memcpy(buf.data(), &size, sizeof(size));
	int err = fd.raw(cmd, buf.data());
	if (out)
		*out = buf;
	return err;
}

// Sends @payload exactly as given (its size field as the caller set it).
template <class T> int send(const Iommufd &fd, unsigned long cmd, T &payload)
{
	return fd.raw(cmd, &payload);
}

inline iommu_option option_cmd(uint32_t option_id, uint16_t op,
			       uint32_t object_id, uint64_t val = 0)
{
	iommu_option cmd{};

	cmd.size = sizeof(cmd);
	cmd.option_id = option_id;
	cmd.op = op;
	cmd.object_id = object_id;
	cmd.val64 = val;
	return cmd;
}

// Anonymous page-aligned memory, filled with a per-byte pattern.
struct Buffer {
	uint8_t *p;
	size_t len;

	explicit Buffer(size_t n, uint8_t seed = 1) : len(n)
	{
		void *m = mmap(nullptr, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		REQUIRE(m != MAP_FAILED);
		p = static_cast<uint8_t *>(m);
		fill(seed);
	}
	~Buffer() { munmap(p, len); }
	Buffer(const Buffer &) = delete;
	Buffer &operator=(const Buffer &) = delete;

	void fill(uint8_t seed)
	{
		for (size_t i = 0; i < len; i++)
			p[i] = static_cast<uint8_t>(seed + i * 7);
	}
	std::vector<uint8_t> snapshot() const { return {p, p + len}; }
};

// Runs @fn in a child process; returns its exit status (255 if it died).
inline int in_child(const std::function<int()> &fn)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

using iommulab_test::drop_capability;

} // namespace harness
