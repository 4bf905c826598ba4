// SPDX-License-Identifier: GPL-2.0
// Notifications over generic netlink (uapi/iommulab/iommulab_genl.h):
// which events a scripted scenario sends, in which order, with which
// contents; that a failed call sends none; who may listen to what.
//
// An event is sent before the ioctl that made it returns, so it is in the
// listener's socket by then: the generous timeout below only bounds a
// test that is failing. "No event" is proven without waiting: a marker
// call that must send one follows, and its event must be the next.
#include <doctest/doctest.h>

#include <cerrno>
#include <optional>
#include <csignal>
#include <poll.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"
#include "monitor.hpp"

using namespace harness;

namespace {

constexpr int ARRIVE_MS = 10000;
constexpr uint32_t PASID_OK = IOMMU_HWPT_ALLOC_PASID;
constexpr uint32_t NOBODY = 65534;

// What an event must say; seq is checked apart.
struct Want {
	uint32_t type;
	std::optional<uint32_t> dev_id, rid, pt_id, old_pt_id, pasid, set_id;
	std::optional<uint32_t> vpasid = {}, quota = {};
	std::optional<uint64_t> token = {};
};

std::string show(const std::optional<uint32_t> &v)
{
	return v ? std::to_string(*v) : "absent";
}

// @e must be @w, of the fd @fd_id opened by @uid.
Event expect_next_of(const Event &ev, uint32_t fd_id, uint32_t uid,
		     const Want &w)
{
	const Event *e = &ev;

	INFO("got: ", e->line());
	CHECK(event_name(e->type) == event_name(w.type));
	CHECK(e->fd_id == fd_id);
	CHECK(e->fd_uid == uid);
	CHECK(show(e->dev_id) == show(w.dev_id));
	CHECK(show(e->rid) == show(w.rid));
	CHECK(show(e->pt_id) == show(w.pt_id));
	CHECK(show(e->old_pt_id) == show(w.old_pt_id));
	CHECK(show(e->pasid) == show(w.pasid));
	CHECK(show(e->set_id) == show(w.set_id));
	CHECK(show(e->vpasid) == show(w.vpasid));
	CHECK(show(e->quota) == show(w.quota));
	CHECK((e->token ? std::to_string(*e->token) : "absent") ==
	      (w.token ? std::to_string(*w.token) : "absent"));
	return *e;
}

// The next event must be @w, of the fd @fd_id opened by @uid.
Event expect_next(Monitor &m, uint32_t fd_id, uint32_t uid, const Want &w)
{
	std::optional<Event> e = m.next(ARRIVE_MS);
	REQUIRE_MESSAGE(e, "no event, wanted ", event_name(w.type));
	return expect_next_of(*e, fd_id, uid, w);
}

int test_pasid_op(const Iommufd &fd, uint32_t op, uint32_t stdev,
		  uint32_t pasid, uint32_t pt_id = 0)
{
	auto cmd = test_cmd(op, stdev);

	if (op == IOMMU_TEST_OP_PASID_DETACH) {
		cmd.pasid_detach.pasid = pasid;
	} else {
		cmd.pasid_attach.pasid = pasid;
		cmd.pasid_attach.pt_id = pt_id;
	}
	return fd.raw(IOMMU_TEST_CMD, &cmd);
}

// Kills and reaps a child left running when a test case fails early (so
// it holds no /dev/iommu fd when the lane unloads the module).
struct Reaper {
	pid_t pid = -1;
	~Reaper()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
		}
	}
	int wait()
	{
		int status = 0;
		pid_t got = waitpid(pid, &status, 0);
		pid = -1;
		return got < 0 ? -1 : status;
	}
};

// A PASID-capable device of its own group, bound to @fd, with HWPTs.
struct Bench {
	const Iommufd &fd;
	Ioas ioas;
	MockDev md;
	Device dev;
	uint32_t h1, h2, h3, plain;

	explicit Bench(const Iommufd &f)
		: fd(f), ioas(f),
		  md(mock_group_alloc(f, 1, MOCK_FLAGS_DEVICE_PASID)[0]),
		  dev(f, md.rid)
	{
		h1 = hwpt_alloc(fd, dev.id(), ioas.id(), PASID_OK);
		h2 = hwpt_alloc(fd, dev.id(), ioas.id(), PASID_OK);
		h3 = hwpt_alloc(fd, dev.id(), ioas.id(), PASID_OK);
		plain = hwpt_alloc(fd, dev.id(), ioas.id());
	}
};

} // namespace

TEST_CASE("notifications: a scripted scenario's events arrive in order, "
	  "each with the fd's identity and the object IDs" *
	  IOMMULAB_ONLY)
{
	Monitor m(Monitor::Mode::multicast);
	Iommufd fd;
	const Info info = fd.info();
	const uint32_t me = info.fd_id, uid = geteuid();
	REQUIRE(me != 0);
	CHECK(info.fd_uid == uid);
	Bench b(fd);
	const uint32_t d = b.dev.id(), rid = b.md.rid;
	const uint32_t first = Monitor::stats().seq + 1;
	uint32_t p = 0;

	// Binding and HWPT allocation send nothing; the script starts here.
	CHECK(b.dev.attach(b.h1) == b.h1);
	CHECK(b.dev.attach(b.h2) == b.h2);
	device_pasid(fd, d, IOMMULAB_PASID_ATTACH, 100, b.h1);
	device_pasid(fd, d, IOMMULAB_PASID_REPLACE, 100, b.h3);
	device_pasid(fd, d, IOMMULAB_PASID_DETACH, 100);
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.plain, &p) == 0);
	REQUIRE(aux_call(fd, IOMMULAB_AUX_DETACH, d, b.plain) == 0);
	b.dev.detach();

	std::vector<Event> got;
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_RID_ATTACH, d, rid, b.h1, {}, {}, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_RID_REPLACE, d, rid, b.h2, b.h1, {}, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_PASID_ATTACH, d, rid, b.h1, {}, 100u, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_PASID_REPLACE, d, rid, b.h3, b.h1, 100u, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_PASID_DETACH, d, rid, {}, b.h3, 100u, {}}));
	// The aux path: the kernel's PASID comes first, set 0 (no sets yet).
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_PASID_ALLOC, {}, {}, {}, {}, p, 0u}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_AUX_ATTACH, d, rid, b.plain, {}, p, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_AUX_DETACH, d, rid, {}, b.plain, p, {}}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_PASID_FREE, {}, {}, {}, {}, p, 0u}));
	got.push_back(expect_next(m, me, uid,
				  {IOMMULAB_EVENT_RID_DETACH, d, rid, {}, b.h2, {}, {}}));
	// Numbered one after the other: nothing else was sent in between.
	for (size_t i = 0; i < got.size(); i++)
		CHECK(got[i].seq == first + i);
	CHECK(Monitor::stats().seq == first + got.size() - 1);

	SUBCASE("the test ops send the same events as the extension ioctls")
	{
		MockDomain md(fd, b.ioas.id(), MOCK_FLAGS_DEVICE_PASID);
		const uint32_t auto_hwpt = md.hwpt_id();
		std::optional<Event> first_ev = m.next(ARRIVE_MS);
		REQUIRE(first_ev);
		REQUIRE(first_ev->rid);
		const Event e = expect_next_of(*first_ev, me, uid,
					       {IOMMULAB_EVENT_RID_ATTACH,
						md.idev_id(), first_ev->rid,
						auto_hwpt, {}, {}, {}});
		CHECK(md.replace(b.h1) == b.h1);
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_RID_REPLACE, md.idev_id(), e.rid,
			     b.h1, auto_hwpt, {}, {}});
		REQUIRE(test_pasid_op(fd, IOMMU_TEST_OP_PASID_ATTACH,
				      md.stdev_id(), 7, b.h2) == 0);
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_ATTACH, md.idev_id(), e.rid,
			     b.h2, {}, 7u, {}});
		REQUIRE(test_pasid_op(fd, IOMMU_TEST_OP_PASID_REPLACE,
				      md.stdev_id(), 7, b.h3) == 0);
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_REPLACE, md.idev_id(), e.rid,
			     b.h3, b.h2, 7u, {}});
		REQUIRE(test_pasid_op(fd, IOMMU_TEST_OP_PASID_DETACH,
				      md.stdev_id(), 7) == 0);
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_DETACH, md.idev_id(), e.rid,
			     {}, b.h3, 7u, {}});
	}
	SUBCASE("destroying the device detaches everything, with events")
	{
		CHECK(b.dev.attach(b.h2) == b.h2);
		device_pasid(fd, d, IOMMULAB_PASID_ATTACH, 9, b.h1);
		REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.plain, &p) == 0);
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_RID_ATTACH, d, rid, b.h2, {}, {}, {}});
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_ATTACH, d, rid, b.h1, {}, 9u, {}});
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_ALLOC, {}, {}, {}, {}, p, 0u});
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_AUX_ATTACH, d, rid, b.plain, {}, p, {}});
		b.dev.destroy();
		// The device's PASIDs in PASID order, then its RID.
		auto aux_gone = [&] {
			expect_next(m, me, uid,
				    {IOMMULAB_EVENT_AUX_DETACH, d, rid, {},
				     b.plain, p, {}});
			expect_next(m, me, uid,
				    {IOMMULAB_EVENT_PASID_FREE, {}, {}, {}, {}, p,
				     0u});
		};
		if (p < 9)
			aux_gone();
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_PASID_DETACH, d, rid, {}, b.h1, 9u, {}});
		if (p > 9)
			aux_gone();
		expect_next(m, me, uid,
			    {IOMMULAB_EVENT_RID_DETACH, d, rid, {}, b.h2, {}, {}});
	}
}

TEST_CASE("notifications: an IOASID set's life, in order, with its token" *
	  IOMMULAB_ONLY)
{
	Monitor m(Monitor::Mode::multicast);
	Iommufd fd;
	const uint32_t me = fd.info().fd_id, uid = geteuid();
	Bench b(fd);
	const uint32_t d = b.dev.id(), rid = b.md.rid;
	CHECK(b.dev.attach(b.h1) == b.h1);
	expect_next(m, me, uid, {IOMMULAB_EVENT_RID_ATTACH, d, rid, b.h1, {}, {}, {}});

	// A listener in KVM's role: set, PASIDs, the guest's vPASID, the
	// device using it, the guest freeing it while in use.
	IoasidSet set(fd, 4, 0x5e7);
	const uint32_t s = set.id();
	const uint64_t tok = set.token_id();
	const uint32_t p = set.alloc();
	set.bind(p, 9);
	device_pasid(fd, d, IOMMULAB_PASID_ATTACH, p, b.h2);
	set.free(p);
	device_pasid(fd, d, IOMMULAB_PASID_DETACH, p);
	uint32_t q = 0;
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.plain, &q) == 0);
	REQUIRE(aux_call(fd, IOMMULAB_AUX_DETACH, d, b.plain) == 0);
	set.destroy();

	expect_next(m, me, uid, {IOMMULAB_EVENT_SET_CREATE, {}, {}, {}, {}, {}, s,
				 {}, 4u, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_ALLOC, {}, {}, {}, {}, p, s,
				 {}, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_VPASID_BIND, {}, {}, {}, {}, p, s,
				 9u, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_ATTACH, d, rid, b.h2, {}, p,
				 {}});
	// Freeing drops the binding first, then the PASID waits for its user.
	expect_next(m, me, uid, {IOMMULAB_EVENT_VPASID_UNBIND, {}, {}, {}, {}, p,
				 s, 9u, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_FREE_PENDING, {}, {}, {}, {},
				 p, s, {}, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_DETACH, d, rid, {}, b.h2, p,
				 {}});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_FREE, {}, {}, {}, {}, p, s,
				 {}, {}, tok});
	// The aux path's default PASID comes from the set too.
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_ALLOC, {}, {}, {}, {}, q, s,
				 {}, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_AUX_ATTACH, d, rid, b.plain, {}, q,
				 {}});
	expect_next(m, me, uid, {IOMMULAB_EVENT_AUX_DETACH, d, rid, {}, b.plain, q,
				 {}});
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_FREE, {}, {}, {}, {}, q, s,
				 {}, {}, tok});
	expect_next(m, me, uid, {IOMMULAB_EVENT_SET_DESTROY, {}, {}, {}, {}, {}, s,
				 {}, {}, tok});
	// A refused set call sends nothing: the next event is the detach.
	CHECK(fd.raw(IOMMULAB_IOASID_SET_ALLOC, nullptr) != 0);
	b.dev.detach();
	expect_next(m, me, uid, {IOMMULAB_EVENT_RID_DETACH, d, rid, {}, b.h1, {}, {}});
}

TEST_CASE("notifications: a failed call sends no event" * IOMMULAB_ONLY)
{
	Monitor m(Monitor::Mode::multicast);
	Iommufd fd;
	const uint32_t me = fd.info().fd_id, uid = geteuid();
	Bench b(fd);
	const uint32_t d = b.dev.id(), rid = b.md.rid;
	uint32_t p = 0;

	CHECK(b.dev.attach(b.h1) == b.h1);
	expect_next(m, me, uid,
		    {IOMMULAB_EVENT_RID_ATTACH, d, rid, b.h1, {}, {}, {}});
	REQUIRE(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.plain, &p) == 0);
	expect_next(m, me, uid, {IOMMULAB_EVENT_PASID_ALLOC, {}, {}, {}, {}, p, 0u});
	expect_next(m, me, uid,
		    {IOMMULAB_EVENT_AUX_ATTACH, d, rid, b.plain, {}, p, {}});

	iommulab_device_attach att{};
	att.size = sizeof(att);
	att.dev_id = d;
	att.pt_id = 0xdead;
	CHECK(fd.raw(IOMMULAB_DEVICE_ATTACH, &att) == ENOENT);
	att.pt_id = b.plain; // aux-attached to this device
	CHECK(fd.raw(IOMMULAB_DEVICE_ATTACH, &att) == EBUSY);
	// Attaching the RID's own HWPT again changes nothing: no event.
	CHECK(b.dev.attach(b.h1) == b.h1);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_ATTACH, d, 5, b.plain) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_REPLACE, d, 5, b.h2) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_DETACH, d, 5, 0) == EINVAL);
	CHECK(ext_pasid(fd, IOMMULAB_PASID_DETACH, d, p, 0) == EBUSY);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.plain) == EBUSY);
	CHECK(aux_call(fd, IOMMULAB_AUX_ATTACH, d, b.h1) == EBUSY);
	CHECK(aux_call(fd, IOMMULAB_AUX_DETACH, d, b.h2) == EINVAL);
	iommulab_device_detach det{};
	det.size = sizeof(det);
	det.dev_id = 0xdead;
	CHECK(fd.raw(IOMMULAB_DEVICE_DETACH, &det) == ENOENT);

	// An aux attach whose answer cannot be written back is undone: the
	// PASID it took and gave back again was never announced.
	void *page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(page != MAP_FAILED);
	auto *ro = static_cast<iommulab_aux *>(page);
	*ro = {};
	ro->size = sizeof(*ro);
	ro->dev_id = d;
	ro->hwpt_id = b.h3;
	REQUIRE(mprotect(page, 4096, PROT_READ) == 0);
	CHECK(fd.raw(IOMMULAB_AUX_ATTACH, page) == EFAULT);
	munmap(page, 4096);
	CHECK(aux_call(fd, IOMMULAB_AUX_GET_PASID, d, b.h3) == ENOENT);

	// The marker: the next event is the one of this call.
	CHECK(b.dev.attach(b.h2) == b.h2);
	expect_next(m, me, uid,
		    {IOMMULAB_EVENT_RID_REPLACE, d, rid, b.h2, b.h1, {}, {}});
}

TEST_CASE("notifications: an unprivileged listener sees its own fds' events "
	  "and nothing of root's" *
	  IOMMULAB_ONLY)
{
	Monitor all(Monitor::Mode::multicast);
	Iommufd root_fd;
	const uint32_t root_id = root_fd.info().fd_id;
	Bench rb(root_fd);
	int to_child[2], to_parent[2];
	REQUIRE(pipe(to_child) == 0);
	REQUIRE(pipe(to_parent) == 0);

	pid_t pid = fork();
	if (pid == 0) {
		int rc = 0;
		close(to_child[1]);
		close(to_parent[0]);
		try {
			// Group root stays: the device node (0660 root:root)
			// opens by its group, as the new uid's own fd.
			if (setresuid(NOBODY, NOBODY, NOBODY))
				_exit(10);
			try {
				Monitor no(Monitor::Mode::multicast);
				_exit(11);
			} catch (const Error &e) {
				if (e.err() != EPERM)
					_exit(12);
			}
			Monitor mine(Monitor::Mode::subscribe);
			Iommufd fd;
			Info info = fd.info();
			if (info.fd_uid != NOBODY)
				_exit(13);
			Bench b(fd);
			char c = 's';
			// Subscribed: root may go on; wait until it has.
			if (write(to_parent[1], &c, 1) != 1 ||
			    read(to_child[0], &c, 1) != 1)
				_exit(14);
			b.dev.attach(b.h1);
			// Root's events came first: the first one here must
			// be this fd's own.
			std::optional<Event> e = mine.next(ARRIVE_MS);
			if (!e)
				_exit(15);
			if (e->fd_id != info.fd_id || e->fd_uid != NOBODY ||
			    e->type != IOMMULAB_EVENT_RID_ATTACH ||
			    e->pt_id.value_or(0) != b.h1)
				_exit(16);
			// Unsubscribed: not even its own.
			mine.unsubscribe();
			b.dev.detach();
			b.dev.attach(b.h2);
			c = 'd';
			if (write(to_parent[1], &c, 1) != 1 ||
			    read(to_child[0], &c, 1) != 1)
				_exit(17);
			// Root sent its marker after the detach above; a
			// socket that hears nothing must stay empty.
			if (mine.next(0))
				_exit(18);
			try {
				mine.unsubscribe();
				rc = 19;
			} catch (const Error &err) {
				if (err.err() != ENOENT)
					rc = 20;
			}
		} catch (const std::exception &ex) {
			std::fprintf(stderr, "child: %s\n", ex.what());
			rc = 21;
		}
		_exit(rc);
	}
	Reaper reap{pid};
	close(to_child[0]);
	close(to_parent[1]);
	char c = 0;
	REQUIRE(read(to_parent[0], &c, 1) == 1);
	// The child is subscribed: root's own events must not reach it.
	CHECK(rb.dev.attach(rb.h1) == rb.h1);
	CHECK(rb.dev.attach(rb.h2) == rb.h2);
	rb.dev.detach();
	REQUIRE(write(to_child[1], &c, 1) == 1);
	REQUIRE(read(to_parent[0], &c, 1) == 1);
	// The child's events after its unsubscribe went out before this
	// write (ioctls send before they return): they are in its socket by
	// now if they were sent to it at all.
	REQUIRE(write(to_child[1], &c, 1) == 1);
	int status = reap.wait();
	CHECK_MESSAGE(WIFEXITED(status), "child killed");
	CHECK_MESSAGE(WEXITSTATUS(status) == 0, "child step ",
		      WEXITSTATUS(status));
	close(to_child[1]);
	close(to_parent[0]);

	// Root's multicast listener saw both users' fds, in order.
	std::vector<Event> seen;
	for (;;) {
		std::optional<Event> e = all.next(0);
		if (!e)
			break;
		seen.push_back(*e);
	}
	std::vector<std::string> lines;
	for (auto &e : seen) {
		std::string who = e.fd_id == root_id ? "root" : "child";
		if (e.fd_id != root_id)
			CHECK(e.fd_uid == NOBODY);
		else
			CHECK(e.fd_uid == 0);
		lines.push_back(who + " " + event_name(e.type));
	}
	const std::vector<std::string> want = {
		"root RID_ATTACH",  "root RID_REPLACE",	 "root RID_DETACH",
		"child RID_ATTACH", "child RID_DETACH", "child RID_ATTACH",
		// The child's exit closed its fd: the device was detached.
		"child RID_DETACH",
	};
	CHECK(lines == want);
}

namespace {

// Reads one line from @fd (no more than that: byte by byte), waiting up to
// ARRIVE_MS for each byte; false at EOF or timeout.
bool read_line(int fd, std::string &line)
{
	line.clear();
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, ARRIVE_MS) <= 0)
			return false;
		char c;
		if (read(fd, &c, 1) != 1)
			return false;
		if (c == '\n')
			return true;
		line += c;
	}
}

} // namespace

TEST_CASE("notifications: iommulab monitor --json prints one line per event" *
	  IOMMULAB_ONLY)
{
	const char *cli = "/iommulab";
	if (access(cli, X_OK))
		IOMMULAB_SKIP("no CLI at /iommulab in this guest");
	Iommufd fd;
	const uint32_t me = fd.info().fd_id;
	Bench b(fd);
	int out[2], err[2];
	REQUIRE(pipe(out) == 0);
	REQUIRE(pipe(err) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execl(cli, cli, "monitor", "--json", "--count", "2", "--timeout",
		      "30", static_cast<char *>(nullptr));
		_exit(127);
	}
	Reaper reap{pid};
	close(out[1]);
	close(err[1]);
	std::string line;
	// The CLI says when it listens; nothing before that is its to see.
	REQUIRE(read_line(err[0], line));
	CHECK(line == "iommulab: listening to every fd's events");
	CHECK(b.dev.attach(b.h1) == b.h1);
	b.dev.detach();
	const std::string common = ",\"fd_id\":" + std::to_string(me) +
				   ",\"fd_uid\":" + std::to_string(geteuid()) +
				   ",\"dev_id\":" +
				   std::to_string(b.dev.id()) +
				   ",\"rid\":" + std::to_string(b.md.rid);
	REQUIRE(read_line(out[0], line));
	CHECK(line.rfind("{\"event\":\"RID_ATTACH\",\"seq\":", 0) == 0);
	CHECK(line.find(common + ",\"pt_id\":" + std::to_string(b.h1) + "}") !=
	      std::string::npos);
	REQUIRE(read_line(out[0], line));
	CHECK(line.rfind("{\"event\":\"RID_DETACH\",\"seq\":", 0) == 0);
	CHECK(line.find(common + ",\"old_pt_id\":" + std::to_string(b.h1) + "}") !=
	      std::string::npos);
	int status = reap.wait();
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
	close(out[0]);
	close(err[0]);
}
