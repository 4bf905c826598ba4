// SPDX-License-Identifier: GPL-2.0
// KernelLog: the kernel log records written while a test runs, for tests of
// bugs that show only as a kernel warning (see test_regressions.cpp).
#pragma once

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace harness {

// Reads /dev/kmsg from the end of the log as it is when constructed: only
// records written after that are ever looked at, so an earlier splat in the
// same boot neither fails nor hides a later check. Construction also
// re-arms every WARN_ON_ONCE()/WARN_ONCE() of the kernel (debugfs
// clear_warn_once), so a once-per-boot warning that an earlier test already
// triggered fires again inside this window. Needs root and debugfs at
// /sys/kernel/debug (the VM lane has both); if either is missing,
// bad_lines() says so, which fails the test instead of passing blind.
//
// A record is bad when it has one of the markers of a kernel splat below.
// "Call Trace" alone is not one: every splat that matters has its own
// header line, and the stack dumps of hung-task and RCU-stall reports
// (which a slow TCG host can cause, see selftests/vm.sh) are not failures
// by themselves. A soft lockup is.
class KernelLog {
public:
	KernelLog()
	{
		fd_ = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd_ < 0) {
			setup_error_ = std::string("cannot open /dev/kmsg: ") + strerror(errno);
			return;
		}
		if (lseek(fd_, 0, SEEK_END) < 0)
			setup_error_ = std::string("cannot seek /dev/kmsg: ") + strerror(errno);
		int w = ::open("/sys/kernel/debug/clear_warn_once", O_WRONLY | O_CLOEXEC);
		if (w < 0 || write(w, "1\n", 2) != 2)
			setup_error_ += std::string(setup_error_.empty() ? "" : "; ") +
					"cannot re-arm WARN_ON_ONCE (/sys/kernel/debug/clear_warn_once): " +
					strerror(errno);
		if (w >= 0)
			::close(w);
	}
	~KernelLog()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	KernelLog(const KernelLog &) = delete;
	KernelLog &operator=(const KernelLog &) = delete;

	// The bad records written since construction (or since the last
	// call), one per line, after a line about a setup problem if any;
	// empty when the log is clean.
	std::string bad_lines()
	{
		std::string out = setup_error_.empty() ? "" : setup_error_ + "\n";
		char rec[8192];

		if (fd_ < 0)
			return out;
		for (;;) {
			ssize_t n = read(fd_, rec, sizeof(rec) - 1);
			if (n < 0 && errno == EPIPE)
				continue; // records overwritten meanwhile: go on
			if (n <= 0)
				break;
			rec[n] = 0;
			const char *msg = strchr(rec, ';');
			msg = msg ? msg + 1 : rec;
			std::string line(msg, strcspn(msg, "\n"));
			if (is_bad(line))
				out += line + "\n";
		}
		return out;
	}

	static bool is_bad(const std::string &line)
	{
		static const char *const markers[] = {
			"WARNING:", "BUG:", "Oops", "general protection fault",
			"UBSAN:", "soft lockup", "hard LOCKUP", "Kernel panic",
			"list_add corruption", "list_del corruption",
		};
		for (const char *m : markers)
			if (line.find(m) != std::string::npos)
				return true;
		return false;
	}

private:
	int fd_ = -1;
	std::string setup_error_;
};

} // namespace harness
