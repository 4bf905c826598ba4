// SPDX-License-Identifier: GPL-2.0
// iommulab userspace library: the notification listener (generic netlink,
// libnl-genl-3). See uapi/iommulab/iommulab_genl.h for the events and who
// may see them.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

extern "C" {
#include <iommulab/iommulab_genl.h>
}

struct nl_sock;
struct nl_cb;
struct nl_msg;
struct nlmsgerr;
struct sockaddr_nl;

namespace iommulab {

// One IOMMULAB_GENL_CMD_EVENT message; an absent attribute is nullopt.
struct Event {
	uint32_t type = 0; // enum iommulab_event
	uint64_t seq = 0;
	uint32_t fd_id = 0;
	uint32_t fd_uid = 0;
	std::optional<uint32_t> dev_id, rid, pt_id, old_pt_id, pasid, set_id,
		vpasid, quota;
	std::optional<uint64_t> token;
	// Page requests and responses (PAGE_REQUEST, PAGE_RESPONSE)
	std::optional<uint32_t> fault_id, fault_cookie, perm, grpid, code,
		resp_by;
	std::optional<uint64_t> dev_cookie, addr;

	// "RID_ATTACH seq=3 fd=2 uid=0 dev=4 rid=0x10 pt=5": one line
	std::string line() const;
	// The same as one JSON object
	std::string json() const;
};

// "RID_ATTACH", ... for an enum iommulab_event; "EVENT_<n>" if unknown.
std::string event_name(uint32_t type);

// "user", "timeout", "close", "detach", "signal", "full" for an enum
// iommulab_resp_by; "RESP_BY_<n>" if unknown.
std::string resp_by_name(uint32_t resp_by);

struct MonitorStats {
	uint64_t seq;	  // the last sequence number the module used
	uint64_t dropped; // events it could not deliver
};

// A generic netlink socket listening to the module's events.
class Monitor {
public:
	enum class Mode {
		// Join the multicast group: every fd's events (CAP_SYS_ADMIN).
		multicast,
		// IOMMULAB_GENL_CMD_SUBSCRIBE: the caller's own fds' events.
		subscribe,
		// Neither: no events, only the commands (stats()).
		none,
	};

	// Throws Error: ENOENT if the family is not registered (the module
	// is not loaded), EPERM for a multicast join without the capability.
	explicit Monitor(Mode mode);
	~Monitor();
	Monitor(const Monitor &) = delete;
	Monitor &operator=(const Monitor &) = delete;

	// The next event, waiting up to @timeout_ms (negative: for ever);
	// nullopt if none came in time.
	std::optional<Event> next(int timeout_ms);

	// UNSUBSCRIBE (subscribe mode): no event of any fd after it returns.
	void unsubscribe();

	// GET_STATS, on a socket of its own.
	static MonitorStats stats();

	// The netlink socket's file descriptor (to poll on).
	int fd() const;

private:
	void close();
	// Sends @cmd with NLM_F_ACK and reads until its ack; events read
	// meanwhile are queued. Returns 0 or the errno the kernel gave.
	int request(uint8_t cmd);
	// Reads what one datagram holds, queueing events. 0, or an errno.
	int receive();

	static int on_valid(struct nl_msg *msg, void *arg);
	static int on_ack(struct nl_msg *msg, void *arg);
	static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err,
			    void *arg);

	struct nl_sock *sock_ = nullptr;
	struct nl_cb *cb_ = nullptr;
	int family_ = 0;
	bool acked_ = false;
	int ack_err_ = 0;
	std::optional<MonitorStats> stats_;
	std::deque<Event> queue_;
};

} // namespace iommulab
