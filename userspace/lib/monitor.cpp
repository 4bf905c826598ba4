// SPDX-License-Identifier: GPL-2.0
// iommulab userspace library: the notification listener over libnl-genl-3.
#include "monitor.hpp"

#include <cerrno>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "iommulab.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace iommulab {

std::string event_name(uint32_t type)
{
	switch (type) {
	case IOMMULAB_EVENT_SET_CREATE: return "SET_CREATE";
	case IOMMULAB_EVENT_SET_DESTROY: return "SET_DESTROY";
	case IOMMULAB_EVENT_PASID_ALLOC: return "PASID_ALLOC";
	case IOMMULAB_EVENT_PASID_FREE: return "PASID_FREE";
	case IOMMULAB_EVENT_PASID_FREE_PENDING: return "PASID_FREE_PENDING";
	case IOMMULAB_EVENT_VPASID_BIND: return "VPASID_BIND";
	case IOMMULAB_EVENT_VPASID_UNBIND: return "VPASID_UNBIND";
	case IOMMULAB_EVENT_RID_ATTACH: return "RID_ATTACH";
	case IOMMULAB_EVENT_RID_REPLACE: return "RID_REPLACE";
	case IOMMULAB_EVENT_RID_DETACH: return "RID_DETACH";
	case IOMMULAB_EVENT_PASID_ATTACH: return "PASID_ATTACH";
	case IOMMULAB_EVENT_PASID_REPLACE: return "PASID_REPLACE";
	case IOMMULAB_EVENT_PASID_DETACH: return "PASID_DETACH";
	case IOMMULAB_EVENT_AUX_ATTACH: return "AUX_ATTACH";
	case IOMMULAB_EVENT_AUX_DETACH: return "AUX_DETACH";
	case IOMMULAB_EVENT_PAGE_REQUEST: return "PAGE_REQUEST";
	case IOMMULAB_EVENT_PAGE_RESPONSE: return "PAGE_RESPONSE";
	default: return "EVENT_" + std::to_string(type);
	}
}

std::string resp_by_name(uint32_t resp_by)
{
	switch (resp_by) {
	case IOMMULAB_RESP_BY_USER: return "user";
	case IOMMULAB_RESP_BY_TIMEOUT: return "timeout";
	case IOMMULAB_RESP_BY_CLOSE: return "close";
	case IOMMULAB_RESP_BY_DETACH: return "detach";
	case IOMMULAB_RESP_BY_SIGNAL: return "signal";
	case IOMMULAB_RESP_BY_FULL: return "full";
	default: return "RESP_BY_" + std::to_string(resp_by);
	}
}

namespace {

// The optional fields in output order, with their text and JSON names.
template <typename F> void for_each_field(const Event &e, F f)
{
	f("dev", "dev_id", e.dev_id);
	f("rid", "rid", e.rid);
	f("pt", "pt_id", e.pt_id);
	f("old_pt", "old_pt_id", e.old_pt_id);
	f("pasid", "pasid", e.pasid);
	f("set", "set_id", e.set_id);
	f("vpasid", "vpasid", e.vpasid);
	f("quota", "quota", e.quota);
	f("fault", "fault_id", e.fault_id);
	f("cookie", "fault_cookie", e.fault_cookie);
	f("perm", "perm", e.perm);
	f("grpid", "grpid", e.grpid);
	f("code", "code", e.code);
}

// libnl's negative NLE_* codes, as far as they map to an errno.
int errno_of_nle(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM: return ENOMEM;
	case NLE_PERM: return EPERM;
	case NLE_OBJ_NOTFOUND: return ENOENT;
	case NLE_AGAIN: return EAGAIN;
	case NLE_INVAL: return EINVAL;
	case NLE_BUSY: return EBUSY;
	case NLE_EXIST: return EEXIST;
	case NLE_RANGE: return ERANGE;
	case NLE_OPNOTSUPP: return EOPNOTSUPP;
	case NLE_NOACCESS: return EACCES;
	default: return EIO;
	}
}

} // namespace

std::string Event::line() const
{
	std::ostringstream o;

	o << event_name(type) << " seq=" << seq << " fd=" << fd_id
	  << " uid=" << fd_uid;
	for_each_field(*this, [&o](const char *name, const char *,
				   const std::optional<uint32_t> &v) {
		if (v)
			o << ' ' << name << '=' << *v;
	});
	if (token)
		o << " token=" << *token;
	if (resp_by)
		o << " by=" << resp_by_name(*resp_by);
	if (dev_cookie)
		o << " dev_cookie=" << *dev_cookie;
	if (addr)
		o << " addr=0x" << std::hex << *addr << std::dec;
	return o.str();
}

std::string Event::json() const
{
	std::ostringstream o;

	o << "{\"event\":\"" << event_name(type) << "\",\"seq\":" << seq
	  << ",\"fd_id\":" << fd_id << ",\"fd_uid\":" << fd_uid;
	for_each_field(*this, [&o](const char *, const char *name,
				   const std::optional<uint32_t> &v) {
		if (v)
			o << ",\"" << name << "\":" << *v;
	});
	if (token)
		o << ",\"token\":" << *token;
	if (resp_by)
		o << ",\"resp_by\":\"" << resp_by_name(*resp_by) << '"';
	if (dev_cookie)
		o << ",\"dev_cookie\":" << *dev_cookie;
	if (addr)
		o << ",\"addr\":" << *addr;
	o << '}';
	return o.str();
}

Monitor::Monitor(Mode mode)
{
	int rc;

	sock_ = nl_socket_alloc();
	cb_ = nl_cb_alloc(NL_CB_CUSTOM);
	if (!sock_ || !cb_) {
		close();
		throw Error("nl_socket_alloc", ENOMEM);
	}
	// Events carry sequence number 0: they answer no request.
	nl_socket_disable_seq_check(sock_);
	// Our own callback set is the one nl_recvmsgs() uses: it needs the
	// sequence check off too.
	nl_cb_set(cb_, NL_CB_SEQ_CHECK, NL_CB_CUSTOM,
		  [](struct nl_msg *, void *) { return static_cast<int>(NL_OK); },
		  nullptr);
	nl_cb_set(cb_, NL_CB_VALID, NL_CB_CUSTOM, on_valid, this);
	nl_cb_set(cb_, NL_CB_ACK, NL_CB_CUSTOM, on_ack, this);
	nl_cb_err(cb_, NL_CB_CUSTOM, on_error, this);
	rc = genl_connect(sock_);
	if (rc) {
		close();
		throw Error("genl_connect", errno_of_nle(rc));
	}
	family_ = genl_ctrl_resolve(sock_, IOMMULAB_GENL_NAME);
	if (family_ < 0) {
		rc = family_;
		close();
		throw Error("genl family " IOMMULAB_GENL_NAME, errno_of_nle(rc));
	}
	if (mode == Mode::multicast) {
		int grp = genl_ctrl_resolve_grp(sock_, IOMMULAB_GENL_NAME,
						IOMMULAB_GENL_MCGRP_EVENTS);

		if (grp < 0) {
			close();
			throw Error("genl group " IOMMULAB_GENL_MCGRP_EVENTS,
				    errno_of_nle(grp));
		}
		// setsockopt itself, for the kernel's own errno (EPERM).
		if (setsockopt(nl_socket_get_fd(sock_), SOL_NETLINK,
			       NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp))) {
			int err = errno;

			close();
			throw Error("join group " IOMMULAB_GENL_MCGRP_EVENTS,
				    err);
		}
	} else if (mode == Mode::subscribe) {
		rc = request(IOMMULAB_GENL_CMD_SUBSCRIBE);
		if (rc) {
			close();
			throw Error("IOMMULAB_GENL_CMD_SUBSCRIBE", rc);
		}
	}
	nl_socket_set_nonblocking(sock_);
}

Monitor::~Monitor()
{
	close();
}

void Monitor::close()
{
	if (sock_)
		nl_socket_free(sock_);
	if (cb_)
		nl_cb_put(cb_);
	sock_ = nullptr;
	cb_ = nullptr;
}

int Monitor::fd() const
{
	return nl_socket_get_fd(sock_);
}

int Monitor::on_valid(struct nl_msg *msg, void *arg)
{
	auto *self = static_cast<Monitor *>(arg);
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh = static_cast<genlmsghdr *>(nlmsg_data(nlh));
	struct nlattr *tb[IOMMULAB_GENL_ATTR_MAX + 1];
	auto u32 = [&tb](int a) -> std::optional<uint32_t> {
		if (!tb[a])
			return std::nullopt;
		return nla_get_u32(tb[a]);
	};
	auto u64 = [&tb](int a) -> std::optional<uint64_t> {
		if (!tb[a])
			return std::nullopt;
		return nla_get_u64(tb[a]);
	};

	if (nlh->nlmsg_type != self->family_ ||
	    genlmsg_parse(nlh, 0, tb, IOMMULAB_GENL_ATTR_MAX, nullptr))
		return NL_SKIP;
	if (gnlh->cmd == IOMMULAB_GENL_CMD_GET_STATS) {
		self->stats_ = MonitorStats{u64(IOMMULAB_GENL_ATTR_SEQ).value_or(0),
					    u64(IOMMULAB_GENL_ATTR_DROPPED).value_or(0)};
		return NL_OK;
	}
	if (gnlh->cmd != IOMMULAB_GENL_CMD_EVENT)
		return NL_SKIP;

	Event e;
	e.type = u32(IOMMULAB_GENL_ATTR_EVENT).value_or(0);
	e.seq = u64(IOMMULAB_GENL_ATTR_SEQ).value_or(0);
	e.fd_id = u32(IOMMULAB_GENL_ATTR_FD_ID).value_or(0);
	e.fd_uid = u32(IOMMULAB_GENL_ATTR_FD_UID).value_or(0);
	e.dev_id = u32(IOMMULAB_GENL_ATTR_DEV_ID);
	e.rid = u32(IOMMULAB_GENL_ATTR_RID);
	e.pt_id = u32(IOMMULAB_GENL_ATTR_PT_ID);
	e.old_pt_id = u32(IOMMULAB_GENL_ATTR_OLD_PT_ID);
	e.pasid = u32(IOMMULAB_GENL_ATTR_PASID);
	e.set_id = u32(IOMMULAB_GENL_ATTR_SET_ID);
	e.vpasid = u32(IOMMULAB_GENL_ATTR_VPASID);
	e.quota = u32(IOMMULAB_GENL_ATTR_QUOTA);
	e.token = u64(IOMMULAB_GENL_ATTR_TOKEN);
	e.fault_id = u32(IOMMULAB_GENL_ATTR_FAULT_ID);
	e.fault_cookie = u32(IOMMULAB_GENL_ATTR_FAULT_COOKIE);
	e.perm = u32(IOMMULAB_GENL_ATTR_PERM);
	e.grpid = u32(IOMMULAB_GENL_ATTR_GRPID);
	e.code = u32(IOMMULAB_GENL_ATTR_CODE);
	e.resp_by = u32(IOMMULAB_GENL_ATTR_RESP_BY);
	e.dev_cookie = u64(IOMMULAB_GENL_ATTR_DEV_COOKIE);
	e.addr = u64(IOMMULAB_GENL_ATTR_ADDR);
	self->queue_.push_back(e);
	return NL_OK;
}

int Monitor::on_ack(struct nl_msg *, void *arg)
{
	auto *self = static_cast<Monitor *>(arg);

	self->acked_ = true;
	self->ack_err_ = 0;
	return NL_STOP;
}

int Monitor::on_error(struct sockaddr_nl *, struct nlmsgerr *err, void *arg)
{
	auto *self = static_cast<Monitor *>(arg);

	self->acked_ = true;
	self->ack_err_ = -err->error;
	// NL_SKIP: the errno is ours to report (NL_STOP would make libnl
	// return its own code for it).
	return NL_SKIP;
}

int Monitor::receive()
{
	int rc = nl_recvmsgs(sock_, cb_);

	if (rc < 0 && rc != -NLE_AGAIN)
		return errno_of_nle(rc);
	return 0;
}

int Monitor::request(uint8_t cmd)
{
	int rc;

	acked_ = false;
	ack_err_ = 0;
	rc = genl_send_simple(sock_, family_, cmd, IOMMULAB_GENL_VERSION,
			      NLM_F_ACK);
	if (rc < 0)
		return errno_of_nle(rc);
	while (!acked_) {
		struct pollfd p = {nl_socket_get_fd(sock_), POLLIN, 0};

		// A generous bound: the kernel answers at once.
		rc = poll(&p, 1, 10000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc ? errno : ETIMEDOUT;
		rc = receive();
		if (rc)
			return rc;
	}
	return ack_err_;
}

std::optional<Event> Monitor::next(int timeout_ms)
{
	while (queue_.empty()) {
		struct pollfd p = {nl_socket_get_fd(sock_), POLLIN, 0};
		int rc = poll(&p, 1, timeout_ms);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			throw Error("poll netlink", errno);
		if (!rc)
			return std::nullopt;
		rc = receive();
		if (rc)
			throw Error("nl_recvmsgs", rc);
	}
	Event e = queue_.front();
	queue_.pop_front();
	return e;
}

void Monitor::unsubscribe()
{
	int rc = request(IOMMULAB_GENL_CMD_UNSUBSCRIBE);

	if (rc)
		throw Error("IOMMULAB_GENL_CMD_UNSUBSCRIBE", rc);
}

MonitorStats Monitor::stats()
{
	Monitor m(Mode::none);
	int rc = m.request(IOMMULAB_GENL_CMD_GET_STATS);

	if (rc)
		throw Error("IOMMULAB_GENL_CMD_GET_STATS", rc);
	if (!m.stats_)
		throw Error("IOMMULAB_GENL_CMD_GET_STATS (no reply)", EIO);
	return *m.stats_;
}

} // namespace iommulab
