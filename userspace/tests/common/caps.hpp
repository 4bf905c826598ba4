// SPDX-License-Identifier: GPL-2.0
// Dropping a capability, for the test programs (VM harness, fail-nth sweep,
// fuzzer) that run as root but must be charged for pinned memory the way an
// unprivileged user is (root's CAP_IPC_LOCK exempts it).
#pragma once

#include <cstdint>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace iommulab_test {

// Drops @cap from the calling thread's effective set and, when @permitted,
// from its permitted set too (then it cannot be raised again). The raw
// capset syscall changes the calling thread only, not its siblings.
inline bool drop_capability(int cap, bool permitted = true)
{
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct data[2]{};
	const uint32_t bit = 1U << (cap % 32);

	if (syscall(SYS_capget, &hdr, data))
		return false;
	data[cap / 32].effective &= ~bit;
	if (permitted)
		data[cap / 32].permitted &= ~bit;
	return syscall(SYS_capset, &hdr, data) == 0;
}

} // namespace iommulab_test
