// SPDX-License-Identifier: GPL-2.0
/*
 * iommulab: notifications over generic netlink (the family, its multicast
 * group and its unicast subscribers). The uAPI and the access rule are in
 * uapi/iommulab/iommulab_genl.h.
 *
 * Other files call iolab_notify() (or iolab_notify_dev()) once a change is
 * committed, with no spinlock held; it never fails its caller: an event
 * that cannot be built or delivered counts in iolab_nl_dropped, which
 * IOMMULAB_GENL_CMD_GET_STATS reports.
 *
 * Who sees what:
 *   the multicast group: every event; joining needs CAP_SYS_ADMIN
 *	(GENL_MCAST_CAP_SYS_ADMIN, enforced by the genetlink core of both
 *	kernels, see compat.h);
 *   a subscriber (IOMMULAB_GENL_CMD_SUBSCRIBE, anyone): by unicast, the
 *	events of the fds whose opener's effective uid equals the uid the
 *	subscriber had when it subscribed; nothing else.
 *
 * Locks:
 *   iolab_nl_lock protects the subscriber list and count and the sequence
 *	number, so that events reach every receiver in sequence order. It
 *	is taken under a fd's attach_lock (the aux path notifies there) and
 *	under the genetlink core's own lock (the commands); nothing is
 *	taken under it but netlink's delivery, which never waits for a
 *	receiver (unicast is non-blocking: a full receiver drops the event).
 *
 * Memory: a subscriber record is charged to the subscriber
 * (GFP_KERNEL_ACCOUNT); an event's message is charged to the receiving
 * socket's buffer by netlink, so it is allocated with GFP_KERNEL.
 */
#define pr_fmt(fmt) "iommulab: " fmt

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include <iommulab/iommulab_genl.h>

#define IOLAB_COMPAT_GENL
#include "compat.h"
#include "iommu_driver.h"
#include "iommulab_private.h"

/**
 * struct iolab_nl_sub - a socket subscribed to its user's events
 * @item: entry in iolab_nl_subs
 * @portid: the socket's netlink port ID (initial network namespace)
 * @uid: the subscriber's effective uid at SUBSCRIBE
 */
struct iolab_nl_sub {
	struct list_head item;
	u32 portid;
	kuid_t uid;
};

static DEFINE_MUTEX(iolab_nl_lock);
static LIST_HEAD(iolab_nl_subs);	/* under iolab_nl_lock */
static unsigned int iolab_nl_nr_subs;	/* under iolab_nl_lock */
static u64 iolab_nl_seq;		/* under iolab_nl_lock */
static atomic64_t iolab_nl_dropped = ATOMIC64_INIT(0);
static atomic_t iolab_nl_fd_ids = ATOMIC_INIT(0);

static struct genl_family iolab_genl_family;

enum { IOLAB_NL_GRP_EVENTS };

static const struct genl_multicast_group iolab_nl_mcgrps[] = {
	[IOLAB_NL_GRP_EVENTS] = {
		.name = IOMMULAB_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

/* Called by the fd's open: its identity in events. */
void iolab_notify_ctx_init(struct iolab_ctx *ctx, struct file *filp)
{
	u32 id;

	/* Never 0; unique until 2^32 opens. */
	do {
		id = atomic_inc_return(&iolab_nl_fd_ids);
	} while (!id);
	ctx->notify_id = id;
	ctx->notify_uid = filp->f_cred->euid;
}

/* The u32 attributes of an event, in message order, with their bit. */
static const struct {
	u32 flag;
	int attr;
	size_t offset;
} iolab_nl_u32s[] = {
	{ IOLAB_EV_DEV_ID, IOMMULAB_GENL_ATTR_DEV_ID,
	  offsetof(struct iolab_event, dev_id) },
	{ IOLAB_EV_RID, IOMMULAB_GENL_ATTR_RID,
	  offsetof(struct iolab_event, rid) },
	{ IOLAB_EV_PT_ID, IOMMULAB_GENL_ATTR_PT_ID,
	  offsetof(struct iolab_event, pt_id) },
	{ IOLAB_EV_OLD_PT_ID, IOMMULAB_GENL_ATTR_OLD_PT_ID,
	  offsetof(struct iolab_event, old_pt_id) },
	{ IOLAB_EV_PASID, IOMMULAB_GENL_ATTR_PASID,
	  offsetof(struct iolab_event, pasid) },
	{ IOLAB_EV_SET_ID, IOMMULAB_GENL_ATTR_SET_ID,
	  offsetof(struct iolab_event, set_id) },
	{ IOLAB_EV_VPASID, IOMMULAB_GENL_ATTR_VPASID,
	  offsetof(struct iolab_event, vpasid) },
	{ IOLAB_EV_QUOTA, IOMMULAB_GENL_ATTR_QUOTA,
	  offsetof(struct iolab_event, quota) },
	{ IOLAB_EV_FAULT_ID, IOMMULAB_GENL_ATTR_FAULT_ID,
	  offsetof(struct iolab_event, fault_id) },
	{ IOLAB_EV_FAULT_COOKIE, IOMMULAB_GENL_ATTR_FAULT_COOKIE,
	  offsetof(struct iolab_event, fault_cookie) },
	{ IOLAB_EV_PERM, IOMMULAB_GENL_ATTR_PERM,
	  offsetof(struct iolab_event, perm) },
	{ IOLAB_EV_GRPID, IOMMULAB_GENL_ATTR_GRPID,
	  offsetof(struct iolab_event, grpid) },
	{ IOLAB_EV_CODE, IOMMULAB_GENL_ATTR_CODE,
	  offsetof(struct iolab_event, code) },
	{ IOLAB_EV_RESP_BY, IOMMULAB_GENL_ATTR_RESP_BY,
	  offsetof(struct iolab_event, resp_by) },
};

/* The u64 fields, sent the same way */
static const struct {
	u32 flag;
	int attr;
	size_t offset;
} iolab_nl_u64s[] = {
	{ IOLAB_EV_TOKEN, IOMMULAB_GENL_ATTR_TOKEN,
	  offsetof(struct iolab_event, token) },
	{ IOLAB_EV_ADDR, IOMMULAB_GENL_ATTR_ADDR,
	  offsetof(struct iolab_event, addr) },
	{ IOLAB_EV_DEV_COOKIE, IOMMULAB_GENL_ATTR_DEV_COOKIE,
	  offsetof(struct iolab_event, dev_cookie) },
};

#define IOLAB_NL_EVENT_SIZE                                                  \
	(3 * nla_total_size(sizeof(u32)) +                                    \
	 ARRAY_SIZE(iolab_nl_u32s) * nla_total_size(sizeof(u32)) +           \
	 (1 + ARRAY_SIZE(iolab_nl_u64s)) * nla_total_size_64bit(sizeof(u64)))

/* One message of @ev, numbered @seq, or NULL without memory. */
static struct sk_buff *iolab_nl_build(struct iolab_ctx *ctx,
				      const struct iolab_event *ev, u64 seq)
{
	struct sk_buff *skb;
	unsigned int i;
	void *hdr;

	skb = genlmsg_new(IOLAB_NL_EVENT_SIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &iolab_genl_family, 0,
			  IOMMULAB_GENL_CMD_EVENT);
	if (!hdr)
		goto err;
	if (nla_put_u32(skb, IOMMULAB_GENL_ATTR_EVENT, ev->type) ||
	    nla_put_u64_64bit(skb, IOMMULAB_GENL_ATTR_SEQ, seq,
			      IOMMULAB_GENL_ATTR_PAD) ||
	    nla_put_u32(skb, IOMMULAB_GENL_ATTR_FD_ID, ctx->notify_id) ||
	    nla_put_u32(skb, IOMMULAB_GENL_ATTR_FD_UID,
			from_kuid_munged(&init_user_ns, ctx->notify_uid)))
		goto err;
	for (i = 0; i != ARRAY_SIZE(iolab_nl_u32s); i++) {
		if (!(ev->present & iolab_nl_u32s[i].flag))
			continue;
		if (nla_put_u32(skb, iolab_nl_u32s[i].attr,
				*(const u32 *)((const u8 *)ev +
					       iolab_nl_u32s[i].offset)))
			goto err;
	}
	for (i = 0; i != ARRAY_SIZE(iolab_nl_u64s); i++) {
		if (!(ev->present & iolab_nl_u64s[i].flag))
			continue;
		if (nla_put_u64_64bit(skb, iolab_nl_u64s[i].attr,
				      *(const u64 *)((const u8 *)ev +
						     iolab_nl_u64s[i].offset),
				      IOMMULAB_GENL_ATTR_PAD))
			goto err;
	}
	genlmsg_end(skb, hdr);
	return skb;
err:
	nlmsg_free(skb);
	return NULL;
}

/**
 * iolab_notify() - tell the listeners about a committed change of @ctx
 * @ctx: the fd the change belongs to
 * @ev: what happened; fields without their IOLAB_EV_* bit in @ev->present
 *	are not sent
 *
 * Call after the change is committed, never for a failed call, with no
 * spinlock held (it may sleep; a fd's attach_lock may be held). Never
 * fails: an event not delivered is counted as dropped.
 */
void iolab_notify(struct iolab_ctx *ctx, const struct iolab_event *ev)
{
	struct iolab_nl_sub *sub, *next;
	struct sk_buff *skb;
	u64 seq;
	int rc;

	mutex_lock(&iolab_nl_lock);
	seq = ++iolab_nl_seq;
	if (genl_has_listeners(&iolab_genl_family, &init_net,
			       IOLAB_NL_GRP_EVENTS)) {
		skb = iolab_nl_build(ctx, ev, seq);
		rc = skb ? genlmsg_multicast(&iolab_genl_family, skb, 0,
					     IOLAB_NL_GRP_EVENTS, GFP_KERNEL) :
			   -ENOMEM;
		/* ESRCH: the last member left meanwhile. */
		if (rc && rc != -ESRCH)
			atomic64_inc(&iolab_nl_dropped);
	}
	list_for_each_entry_safe(sub, next, &iolab_nl_subs, item) {
		if (!uid_eq(sub->uid, ctx->notify_uid))
			continue;
		skb = iolab_nl_build(ctx, ev, seq);
		if (!skb) {
			atomic64_inc(&iolab_nl_dropped);
			continue;
		}
		rc = genlmsg_unicast(&init_net, skb, sub->portid);
		if (rc == -ECONNREFUSED) {
			/* The socket is gone and its release not seen yet. */
			list_del(&sub->item);
			iolab_nl_nr_subs--;
			kfree(sub);
		} else if (rc) {
			atomic64_inc(&iolab_nl_dropped);
		}
	}
	mutex_unlock(&iolab_nl_lock);
}

/**
 * iolab_notify_dev() - iolab_notify() of an attach, replace or detach
 * @idev: the device
 * @type: an IOMMULAB_EVENT_RID_*, _PASID_* (attach, replace, detach) or
 *	  _AUX_* event
 * @pasid: the PASID, or IOLAB_RID_PASID for the RID (not sent)
 * @pt_id: the HWPT now used, 0 for none (not sent)
 * @old_pt_id: the HWPT used before, 0 for none (not sent)
 */
void iolab_notify_dev(struct iolab_idev *idev, u32 type, u32 pasid, u32 pt_id,
		      u32 old_pt_id)
{
	struct iolab_event ev = {
		.type = type,
		.present = IOLAB_EV_DEV_ID | IOLAB_EV_RID,
		.dev_id = idev->obj.id,
		.rid = iolab_idev_hwdev(idev)->rid,
		.pasid = pasid,
		.pt_id = pt_id,
		.old_pt_id = old_pt_id,
	};

	if (pasid != IOLAB_RID_PASID)
		ev.present |= IOLAB_EV_PASID;
	if (pt_id)
		ev.present |= IOLAB_EV_PT_ID;
	if (old_pt_id)
		ev.present |= IOLAB_EV_OLD_PT_ID;
	iolab_notify(idev->ctx, &ev);
}

static int iolab_nl_subscribe(struct sk_buff *skb, struct genl_info *info)
{
	struct iolab_nl_sub *sub, *new;
	int rc = 0;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->portid = info->snd_portid;
	/* The command runs in the sender's context. */
	new->uid = current_euid();

	mutex_lock(&iolab_nl_lock);
	list_for_each_entry(sub, &iolab_nl_subs, item) {
		if (sub->portid == new->portid) {
			rc = -EALREADY;
			goto out_unlock;
		}
	}
	if (iolab_nl_nr_subs >= IOMMULAB_GENL_MAX_SUBSCRIBERS) {
		rc = -ENOSPC;
		goto out_unlock;
	}
	list_add_tail(&new->item, &iolab_nl_subs);
	iolab_nl_nr_subs++;
	new = NULL;
out_unlock:
	mutex_unlock(&iolab_nl_lock);
	kfree(new);
	return rc;
}

/* Drop the subscription of @portid; false if it had none. */
static bool iolab_nl_drop(u32 portid)
{
	struct iolab_nl_sub *sub;

	mutex_lock(&iolab_nl_lock);
	list_for_each_entry(sub, &iolab_nl_subs, item) {
		if (sub->portid == portid) {
			list_del(&sub->item);
			iolab_nl_nr_subs--;
			mutex_unlock(&iolab_nl_lock);
			kfree(sub);
			return true;
		}
	}
	mutex_unlock(&iolab_nl_lock);
	return false;
}

static int iolab_nl_unsubscribe(struct sk_buff *skb, struct genl_info *info)
{
	return iolab_nl_drop(info->snd_portid) ? 0 : -ENOENT;
}

static int iolab_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	u64 seq;

	msg = genlmsg_new(2 * nla_total_size_64bit(sizeof(u64)),
			  GFP_KERNEL_ACCOUNT);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &iolab_genl_family, 0,
				IOMMULAB_GENL_CMD_GET_STATS);
	if (!hdr)
		goto err;
	mutex_lock(&iolab_nl_lock);
	seq = iolab_nl_seq;
	mutex_unlock(&iolab_nl_lock);
	if (nla_put_u64_64bit(msg, IOMMULAB_GENL_ATTR_SEQ, seq,
			      IOMMULAB_GENL_ATTR_PAD) ||
	    nla_put_u64_64bit(msg, IOMMULAB_GENL_ATTR_DROPPED,
			      atomic64_read(&iolab_nl_dropped),
			      IOMMULAB_GENL_ATTR_PAD))
		goto err;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
err:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* No command takes attributes; none needs a capability (see the top). */
static const struct genl_small_ops iolab_nl_ops[] = {
	{
		.cmd = IOMMULAB_GENL_CMD_SUBSCRIBE,
		.doit = iolab_nl_subscribe,
	},
	{
		.cmd = IOMMULAB_GENL_CMD_UNSUBSCRIBE,
		.doit = iolab_nl_unsubscribe,
	},
	{
		.cmd = IOMMULAB_GENL_CMD_GET_STATS,
		.doit = iolab_nl_get_stats,
	},
};

static struct genl_family iolab_genl_family = {
	.name = IOMMULAB_GENL_NAME,
	.version = IOMMULAB_GENL_VERSION,
	.maxattr = 0,
	.netnsok = false,
	.module = THIS_MODULE,
	.small_ops = iolab_nl_ops,
	.n_small_ops = ARRAY_SIZE(iolab_nl_ops),
	/* Every command validates strictly (reserved header field too). */
	.resv_start_op = IOMMULAB_GENL_CMD_UNSPEC,
	.mcgrps = iolab_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(iolab_nl_mcgrps),
};

/* A closed netlink socket is no longer subscribed. */
static int iolab_nl_release(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    net_eq(n->net, &init_net) && n->portid)
		iolab_nl_drop(n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block iolab_nl_notifier = {
	.notifier_call = iolab_nl_release,
};

int iolab_notify_init(void)
{
	int rc;

	rc = netlink_register_notifier(&iolab_nl_notifier);
	if (rc)
		return rc;
	rc = genl_register_family(&iolab_genl_family);
	if (rc)
		netlink_unregister_notifier(&iolab_nl_notifier);
	return rc;
}

/* After the last fd is gone: no event can be sent any more. */
void iolab_notify_exit(void)
{
	struct iolab_nl_sub *sub, *next;

	genl_unregister_family(&iolab_genl_family);
	netlink_unregister_notifier(&iolab_nl_notifier);
	mutex_lock(&iolab_nl_lock);
	list_for_each_entry_safe(sub, next, &iolab_nl_subs, item) {
		list_del(&sub->item);
		kfree(sub);
	}
	iolab_nl_nr_subs = 0;
	mutex_unlock(&iolab_nl_lock);
}
