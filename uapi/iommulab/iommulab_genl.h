/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommulab: notifications over generic netlink.
 *
 * The module registers the generic netlink family IOMMULAB_GENL_NAME. Each
 * change of an fd's state that a listener in KVM's role must follow (a
 * device's RID or a PASID attached, replaced or detached, an IOASID set
 * created or destroyed, a PASID allocated or freed, a vPASID bound) is
 * sent, after the change is committed and never for a failed call, as one
 * IOMMULAB_GENL_CMD_EVENT message whose attributes are listed in enum
 * iommulab_genl_attr.
 *
 * Who receives what:
 *   - the multicast group IOMMULAB_GENL_MCGRP_EVENTS carries every event of
 *     every fd; joining it needs CAP_SYS_ADMIN (the kernel refuses the
 *     join with EPERM otherwise);
 *   - any process may send IOMMULAB_GENL_CMD_SUBSCRIBE on its socket: that
 *     socket then receives, by unicast, the events of the fds whose opener
 *     had the same effective uid as the subscriber had when it subscribed,
 *     and nothing of any other fd. IOMMULAB_GENL_CMD_UNSUBSCRIBE, or
 *     closing the socket, ends it.
 * The family lives in the initial network namespace only.
 */
#ifndef _UAPI_IOMMULAB_GENL_H
#define _UAPI_IOMMULAB_GENL_H

#define IOMMULAB_GENL_NAME "iommulab"
#define IOMMULAB_GENL_VERSION 1
#define IOMMULAB_GENL_MCGRP_EVENTS "events"

/**
 * enum iommulab_genl_cmd - generic netlink commands of the family
 * @IOMMULAB_GENL_CMD_UNSPEC: never sent
 * @IOMMULAB_GENL_CMD_EVENT: kernel to user: one event (attributes below)
 * @IOMMULAB_GENL_CMD_SUBSCRIBE: user to kernel, no attributes: send this
 *	socket the events of the caller's own fds by unicast. EALREADY if
 *	this socket is subscribed already; ENOSPC beyond
 *	IOMMULAB_GENL_MAX_SUBSCRIBERS sockets; ENOMEM.
 * @IOMMULAB_GENL_CMD_UNSUBSCRIBE: user to kernel, no attributes: stop;
 *	ENOENT if this socket is not subscribed
 * @IOMMULAB_GENL_CMD_GET_STATS: user to kernel, no attributes: the reply
 *	(a IOMMULAB_GENL_CMD_GET_STATS message) carries
 *	IOMMULAB_GENL_ATTR_SEQ (the last sequence number used) and
 *	IOMMULAB_GENL_ATTR_DROPPED
 */
enum iommulab_genl_cmd {
	IOMMULAB_GENL_CMD_UNSPEC,
	IOMMULAB_GENL_CMD_EVENT,
	IOMMULAB_GENL_CMD_SUBSCRIBE,
	IOMMULAB_GENL_CMD_UNSUBSCRIBE,
	IOMMULAB_GENL_CMD_GET_STATS,
	__IOMMULAB_GENL_CMD_MAX,
};

#define IOMMULAB_GENL_MAX_SUBSCRIBERS 1024

/**
 * enum iommulab_event - what IOMMULAB_GENL_ATTR_EVENT says happened
 * @IOMMULAB_EVENT_UNSPEC: never sent
 * @IOMMULAB_EVENT_SET_CREATE: an IOASID set was created (SET_ID, TOKEN,
 *	QUOTA)
 * @IOMMULAB_EVENT_SET_DESTROY: an IOASID set was destroyed (SET_ID, TOKEN)
 * @IOMMULAB_EVENT_PASID_ALLOC: a system-wide PASID was allocated (SET_ID,
 *	TOKEN, PASID); SET_ID 0: not from a set (the aux path's default
 *	PASID before sets exist)
 * @IOMMULAB_EVENT_PASID_FREE: a PASID was released and may be reused
 *	(SET_ID, TOKEN, PASID)
 * @IOMMULAB_EVENT_PASID_FREE_PENDING: a PASID was freed while still
 *	attached somewhere: it is released, with a PASID_FREE event, when
 *	its last user lets go (SET_ID, TOKEN, PASID)
 * @IOMMULAB_EVENT_VPASID_BIND: a set-private ID was bound to a PASID
 *	(SET_ID, TOKEN, VPASID, PASID)
 * @IOMMULAB_EVENT_VPASID_UNBIND: that binding was removed (same)
 * @IOMMULAB_EVENT_RID_ATTACH: a device's RID was attached to a HWPT that
 *	it was not attached to before (DEV_ID, RID, PT_ID)
 * @IOMMULAB_EVENT_RID_REPLACE: a device's RID moved from OLD_PT_ID to PT_ID
 * @IOMMULAB_EVENT_RID_DETACH: a device's RID went to the blocked domain
 *	(OLD_PT_ID: the HWPT it left)
 * @IOMMULAB_EVENT_PASID_ATTACH: the PASID path attached PASID of DEV_ID to
 *	PT_ID
 * @IOMMULAB_EVENT_PASID_REPLACE: the PASID path moved PASID from OLD_PT_ID
 *	to PT_ID
 * @IOMMULAB_EVENT_PASID_DETACH: the PASID path detached PASID (OLD_PT_ID)
 * @IOMMULAB_EVENT_AUX_ATTACH: the HWPT PT_ID was aux-attached to DEV_ID
 *	with its default PASID
 * @IOMMULAB_EVENT_AUX_DETACH: that aux attachment ended (OLD_PT_ID, PASID)
 * @IOMMULAB_EVENT_PAGE_REQUEST: a page request entered a fault queue
 *	(FAULT_ID, FAULT_COOKIE, DEV_ID, RID, DEV_COOKIE, PT_ID, ADDR, PERM,
 *	GRPID, PASID when the request carries one): raised by DMA
 *	(IOMMULAB_MOCK_DEV_PRI) or by IOMMU_TEST_OP_TRIGGER_IOPF
 * @IOMMULAB_EVENT_PAGE_RESPONSE: that request was answered (the same
 *	attributes, and CODE, RESP_BY)
 */
enum iommulab_event {
	IOMMULAB_EVENT_UNSPEC,
	IOMMULAB_EVENT_SET_CREATE,
	IOMMULAB_EVENT_SET_DESTROY,
	IOMMULAB_EVENT_PASID_ALLOC,
	IOMMULAB_EVENT_PASID_FREE,
	IOMMULAB_EVENT_PASID_FREE_PENDING,
	IOMMULAB_EVENT_VPASID_BIND,
	IOMMULAB_EVENT_VPASID_UNBIND,
	IOMMULAB_EVENT_RID_ATTACH,
	IOMMULAB_EVENT_RID_REPLACE,
	IOMMULAB_EVENT_RID_DETACH,
	IOMMULAB_EVENT_PASID_ATTACH,
	IOMMULAB_EVENT_PASID_REPLACE,
	IOMMULAB_EVENT_PASID_DETACH,
	IOMMULAB_EVENT_AUX_ATTACH,
	IOMMULAB_EVENT_AUX_DETACH,
	IOMMULAB_EVENT_PAGE_REQUEST,
	IOMMULAB_EVENT_PAGE_RESPONSE,
	__IOMMULAB_EVENT_MAX,
};

/**
 * enum iommulab_genl_attr - attributes of the family's messages
 * @IOMMULAB_GENL_ATTR_UNSPEC: never sent
 * @IOMMULAB_GENL_ATTR_EVENT: u32, enum iommulab_event; in every event
 * @IOMMULAB_GENL_ATTR_SEQ: u64, the event's module-wide sequence number,
 *	from 1, one more per event: a listener that sees a gap missed
 *	events (the numbers of events of other users' fds are gaps too, for
 *	a subscriber)
 * @IOMMULAB_GENL_ATTR_FD_ID: u32, the identity of the /dev/iommu fd the
 *	event belongs to (IOMMULAB_GET_INFO's out_fd_id); in every event
 * @IOMMULAB_GENL_ATTR_FD_UID: u32, the effective uid of that fd's opener
 *	(as seen from the initial user namespace); in every event
 * @IOMMULAB_GENL_ATTR_DEV_ID: u32, a bound device's object ID in the fd
 * @IOMMULAB_GENL_ATTR_RID: u32, that device's requester ID
 * @IOMMULAB_GENL_ATTR_PT_ID: u32, the HWPT now used
 * @IOMMULAB_GENL_ATTR_OLD_PT_ID: u32, the HWPT used before
 * @IOMMULAB_GENL_ATTR_PASID: u32, a system-wide PASID
 * @IOMMULAB_GENL_ATTR_SET_ID: u32, an IOASID set's ID (0: none)
 * @IOMMULAB_GENL_ATTR_TOKEN: u64, the identity of a set's token (one VM's
 *	mm, say), never a kernel address
 * @IOMMULAB_GENL_ATTR_VPASID: u32, a set-private ID (a guest's vPASID)
 * @IOMMULAB_GENL_ATTR_QUOTA: u32, a set's quota
 * @IOMMULAB_GENL_ATTR_DROPPED: u64, events not delivered since the module
 *	was loaded (no memory, or a receiver's buffer full); GET_STATS only
 * @IOMMULAB_GENL_ATTR_PAD: padding of the u64 attributes, never read
 * @IOMMULAB_GENL_ATTR_FAULT_ID: u32, a fault queue's object ID
 * @IOMMULAB_GENL_ATTR_FAULT_COOKIE: u32, the cookie a response names
 *	(struct iommu_hwpt_pgfault's cookie)
 * @IOMMULAB_GENL_ATTR_DEV_COOKIE: u64, the cookie IOMMULAB_DEVICE_BIND was
 *	given for the device (0 for a MOCK_DOMAIN device)
 * @IOMMULAB_GENL_ATTR_ADDR: u64, the faulting address
 * @IOMMULAB_GENL_ATTR_PERM: u32, enum iommu_hwpt_pgfault_perm
 * @IOMMULAB_GENL_ATTR_GRPID: u32, the page request group index
 * @IOMMULAB_GENL_ATTR_CODE: u32, enum iommufd_page_response_code
 * @IOMMULAB_GENL_ATTR_RESP_BY: u32, enum iommulab_resp_by: who answered
 *
 * An attribute an event type does not name above is absent.
 */
enum iommulab_genl_attr {
	IOMMULAB_GENL_ATTR_UNSPEC,
	IOMMULAB_GENL_ATTR_EVENT,
	IOMMULAB_GENL_ATTR_SEQ,
	IOMMULAB_GENL_ATTR_FD_ID,
	IOMMULAB_GENL_ATTR_FD_UID,
	IOMMULAB_GENL_ATTR_DEV_ID,
	IOMMULAB_GENL_ATTR_RID,
	IOMMULAB_GENL_ATTR_PT_ID,
	IOMMULAB_GENL_ATTR_OLD_PT_ID,
	IOMMULAB_GENL_ATTR_PASID,
	IOMMULAB_GENL_ATTR_SET_ID,
	IOMMULAB_GENL_ATTR_TOKEN,
	IOMMULAB_GENL_ATTR_VPASID,
	IOMMULAB_GENL_ATTR_QUOTA,
	IOMMULAB_GENL_ATTR_DROPPED,
	IOMMULAB_GENL_ATTR_PAD,
	IOMMULAB_GENL_ATTR_FAULT_ID,
	IOMMULAB_GENL_ATTR_FAULT_COOKIE,
	IOMMULAB_GENL_ATTR_DEV_COOKIE,
	IOMMULAB_GENL_ATTR_ADDR,
	IOMMULAB_GENL_ATTR_PERM,
	IOMMULAB_GENL_ATTR_GRPID,
	IOMMULAB_GENL_ATTR_CODE,
	IOMMULAB_GENL_ATTR_RESP_BY,
	__IOMMULAB_GENL_ATTR_MAX,
};

/**
 * enum iommulab_resp_by - who answered a page request (ATTR_RESP_BY)
 * @IOMMULAB_RESP_BY_USER: a response written to the queue's fd
 * @IOMMULAB_RESP_BY_TIMEOUT: nobody within iopf_timeout_ms (INVALID)
 * @IOMMULAB_RESP_BY_CLOSE: the queue's fd was closed or the queue
 *	destroyed (INVALID)
 * @IOMMULAB_RESP_BY_DETACH: the device left the HWPT: detach, replace,
 *	unbind (INVALID)
 * @IOMMULAB_RESP_BY_SIGNAL: the waiting DMA was interrupted (INVALID)
 * @IOMMULAB_RESP_BY_FULL: the queue was full; the request was never queued
 *	(INVALID; no PAGE_REQUEST event came before)
 */
enum iommulab_resp_by {
	IOMMULAB_RESP_BY_USER = 0,
	IOMMULAB_RESP_BY_TIMEOUT = 1,
	IOMMULAB_RESP_BY_CLOSE = 2,
	IOMMULAB_RESP_BY_DETACH = 3,
	IOMMULAB_RESP_BY_SIGNAL = 4,
	IOMMULAB_RESP_BY_FULL = 5,
};

#define IOMMULAB_GENL_ATTR_MAX (__IOMMULAB_GENL_ATTR_MAX - 1)

#endif /* _UAPI_IOMMULAB_GENL_H */
