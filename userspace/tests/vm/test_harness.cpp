// SPDX-License-Identifier: GPL-2.0
// The harness's own machinery, tested where it runs (in the VM, as root):
// KernelLog (kernel_log.hpp). The concurrency runner
// (../common/concurrency.hpp) has native tests in tests/unit/.
//
// The kernel-log test writes fake splat lines into the kernel log through
// /dev/kmsg. They carry the marker "iommulab-selftest-fake:", which the VM
// lane's own kernel-log check (selftests/vm.sh) deliberately ignores, so
// they fail only what they are meant to test. They are written at NOTICE
// (<5>), below the console's loglevel (selftests/vm.sh): KernelLog judges a
// record by its text, not its level, and a line printed on the serial
// console can cut into the harness's own output there (one once split a
// test's result line, and the differential lane lost that test's verdict).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "harness.hpp"
#include "kernel_log.hpp"

using namespace harness;

namespace {

void kmsg_write(const std::string &line)
{
	int fd = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK(write(fd, line.data(), line.size()) == ssize_t(line.size()));
	::close(fd);
}

} // namespace

TEST_CASE("KernelLog reports a splat logged after it was made, and none from before")
{
	const std::string tag = "iommulab-selftest-fake: ";
	kmsg_write("<5>" + tag + "WARNING: CPU: 0 PID: 1 before the window\n");
	KernelLog klog;
	CHECK(klog.bad_lines() == "");

	kmsg_write("<6>" + tag + "an ordinary line\n");
	CHECK(klog.bad_lines() == "");

	kmsg_write("<5>" + tag + "WARNING: CPU: 0 PID: 1 inside the window\n");
	std::string bad = klog.bad_lines();
	CHECK(bad == tag + "WARNING: CPU: 0 PID: 1 inside the window\n");
	// Each record is reported once; a new KernelLog starts clean.
	CHECK(klog.bad_lines() == "");
	KernelLog later;
	CHECK(later.bad_lines() == "");
	kmsg_write("<5>" + tag + "BUG: soft lockup - CPU#1 stuck for 23s!\n");
	CHECK(later.bad_lines() == tag + "BUG: soft lockup - CPU#1 stuck for 23s!\n");
}

TEST_CASE("KernelLog's markers: splats are bad, stall and hung-task reports alone are not")
{
	for (const char *l : {"WARNING: CPU: 1 PID: 77 at mm/util.c:596 kvmalloc_node+0x1/0x2",
			      "BUG: KASAN: use-after-free in iolab_x+0x1/0x2 [iommulab]",
			      "general protection fault, probably for non-canonical address",
			      "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [iommulab-test:80]",
			      "UBSAN: shift-out-of-bounds in kmod/pt/iolab_pt.c:12:3",
			      "list_del corruption. prev->next should be ffff"}) {
		CAPTURE(l);
		CHECK(KernelLog::is_bad(l));
	}
	for (const char *l : {"rcu: INFO: rcu_sched self-detected stall on CPU",
			      "INFO: task kworker/0:1:12 blocked for more than 120 seconds.",
			      "Call Trace:", "iommulab: loaded"}) {
		CAPTURE(l);
		CHECK_FALSE(KernelLog::is_bad(l));
	}
}
