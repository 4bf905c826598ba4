// SPDX-License-Identifier: GPL-2.0
// The foundation: the ioctl size rules, unknown commands, object IDs,
// destroy and close, fd isolation, and IOMMU_OPTION.
#include <doctest/doctest.h>

#include <cerrno>
#include <functional>
#include <linux/capability.h>
#include <set>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"

using namespace harness;

namespace {

// One row per command: how to build a valid call, how big its structure is,
// where its mandatory part ends, and how to tell the call took effect.
struct CommandCase {
	const char *name;
	unsigned long cmd;
	size_t struct_size;
	size_t min_size;
	// Builds a valid argument (may create objects it needs) into @buf.
	std::function<void(const Iommufd &, std::vector<uint8_t> &)> prepare;
	// Checks the call succeeded and did its job; @buf is what came back.
	std::function<void(const Iommufd &, const std::vector<uint8_t> &)> done;
	// Checks, by behaviour, that a refused call did nothing (may be
	// destructive: it runs last); @buf is the valid argument.
	std::function<void(const Iommufd &, const std::vector<uint8_t> &)> untouched;
};

// Memory the MAP and UNMAP rows map (lives as long as the harness).
Buffer &row_memory()
{
	static Buffer b(4096, 0x3d);
	return b;
}
constexpr uint64_t ROW_IOVA = 1ULL << 30;

template <class T> std::vector<uint8_t> bytes_of(const T &v)
{
	std::vector<uint8_t> b(sizeof(T));
	std::memcpy(b.data(), &v, sizeof(T));
	return b;
}

template <class T> T struct_of(const std::vector<uint8_t> &b)
{
	T v;
	std::memcpy(&v, b.data(), sizeof(T));
	return v;
}

// Upstream's commands (@extensions false) or iommulab's own (true).
std::vector<CommandCase> command_cases(bool extensions)
{
	std::vector<CommandCase> cases;

	// Sizes: UPSTREAM-ABI.md's numbers, not rebuilt from the structures.
	cases.push_back({"IOMMU_DESTROY", IOMMU_DESTROY, 8, 8,
			 [](const Iommufd &fd, std::vector<uint8_t> &buf) {
				 iommu_destroy c{};
				 c.size = sizeof(c);
				 c.id = Ioas(fd).release();
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommu_destroy>(buf);
				 // The object is gone: a second destroy finds nothing.
				 iommu_destroy again{};
				 again.size = sizeof(again);
				 again.id = c.id;
				 CHECK(fd.raw(IOMMU_DESTROY, &again) == ENOENT);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 // Still there: it answers an IOAS-only option.
				 auto c = struct_of<iommu_destroy>(buf);
				 CHECK(fd.option_get(IOMMU_OPTION_HUGE_PAGES, c.id) == 1);
			 }});
	cases.push_back({"IOMMU_IOAS_ALLOC", IOMMU_IOAS_ALLOC, 12, 12,
			 [](const Iommufd &, std::vector<uint8_t> &buf) {
				 iommu_ioas_alloc c{};
				 c.size = sizeof(c);
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommu_ioas_alloc>(buf);
				 CHECK(c.out_ioas_id != 0);
				 // It is a live IOAS: it answers an IOAS-only option.
				 CHECK(fd.option_get(IOMMU_OPTION_HUGE_PAGES,
						     c.out_ioas_id) == 1);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &) {
				 // No IOAS came to be: ID 1 is still free.
				 iommu_option get = option_cmd(IOMMU_OPTION_HUGE_PAGES,
							       IOMMU_OPTION_OP_GET, 1);
				 CHECK(fd.raw(IOMMU_OPTION, &get) == ENOENT);
				 CHECK_OBJECTS(fd, 0);
			 }});
	// A SET, so that a refused call that went through would show.
	cases.push_back({"IOMMU_OPTION", IOMMU_OPTION, 24, 24,
			 [](const Iommufd &fd, std::vector<uint8_t> &buf) {
				 Ioas ioas(fd);
				 ioas.set_huge_pages(false);
				 buf = bytes_of(option_cmd(IOMMU_OPTION_HUGE_PAGES,
							   IOMMU_OPTION_OP_SET,
							   ioas.release(), 1));
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommu_option>(buf);
				 CHECK(fd.option_get(IOMMU_OPTION_HUGE_PAGES,
						     c.object_id) == 1);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommu_option>(buf);
				 CHECK(fd.option_get(IOMMU_OPTION_HUGE_PAGES,
						     c.object_id) == 0);
			 }});
	cases.push_back({"IOMMU_IOAS_MAP", IOMMU_IOAS_MAP, 40, 40,
			 [](const Iommufd &fd, std::vector<uint8_t> &buf) {
				 iommu_ioas_map c{};
				 c.size = sizeof(c);
				 c.flags = IOMMU_IOAS_MAP_READABLE |
					   IOMMU_IOAS_MAP_WRITEABLE |
					   IOMMU_IOAS_MAP_FIXED_IOVA;
				 c.ioas_id = Ioas(fd).release();
				 c.user_va = reinterpret_cast<uintptr_t>(row_memory().p);
				 c.length = row_memory().len;
				 c.iova = ROW_IOVA;
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 Ioas ioas(fd, struct_of<iommu_ioas_map>(buf).ioas_id);
				 Access acc(ioas, 0);
				 expect_mapped(Via::access(fd, acc), ROW_IOVA,
					       row_memory().p, row_memory().len);
				 expect_only(ioas, {{ROW_IOVA, row_memory().len}});
				 ioas.release();
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 Ioas ioas(fd, struct_of<iommu_ioas_map>(buf).ioas_id);
				 Access acc(ioas, 0);
				 expect_unmapped(Via::access(fd, acc), ROW_IOVA,
						 row_memory().len);
				 CHECK(check_refs(fd, row_memory().p,
						  row_memory().len, 0) == 0);
				 expect_only(ioas, {});
				 ioas.release();
			 }});
	cases.push_back({"IOMMU_IOAS_UNMAP", IOMMU_IOAS_UNMAP, 24, 24,
			 [](const Iommufd &fd, std::vector<uint8_t> &buf) {
				 Ioas ioas(fd);
				 ioas.map(row_memory().p, row_memory().len,
					  IOMMU_IOAS_MAP_READABLE |
						  IOMMU_IOAS_MAP_WRITEABLE |
						  IOMMU_IOAS_MAP_FIXED_IOVA,
					  ROW_IOVA);
				 iommu_ioas_unmap c{};
				 c.size = sizeof(c);
				 c.ioas_id = ioas.release();
				 c.iova = ROW_IOVA;
				 c.length = row_memory().len;
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommu_ioas_unmap>(buf);
				 CHECK(c.length == row_memory().len);
				 Ioas ioas(fd, c.ioas_id);
				 CHECK(ioas.unmap_all() == 0);
				 CHECK(check_refs(fd, row_memory().p,
						  row_memory().len, 0) == 0);
				 ioas.release();
			 },
			 [](const Iommufd &fd, const std::vector<uint8_t> &buf) {
				 Ioas ioas(fd, struct_of<iommu_ioas_unmap>(buf).ioas_id);
				 Access acc(ioas, 0);
				 expect_mapped(Via::access(fd, acc), ROW_IOVA,
					       row_memory().p, row_memory().len);
				 // No domain: mapped, not pinned (lazily).
				 CHECK(check_refs(fd, row_memory().p,
						  row_memory().len, 0) == 0);
				 expect_only(ioas, {{ROW_IOVA, row_memory().len}});
				 ioas.release();
			 }});
	if (!extensions)
		return cases;
	cases.clear();
	cases.push_back({"IOMMULAB_GET_INFO", IOMMULAB_GET_INFO, 40, 32,
			 [](const Iommufd &, std::vector<uint8_t> &buf) {
				 iommulab_info c{};
				 c.size = sizeof(c);
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommulab_info>(buf);
				 CHECK(c.out_abi_version == IOMMULAB_ABI_VERSION);
				 CHECK(c.out_features != 0);
			 },
			 [](const Iommufd &, const std::vector<uint8_t> &) {}});
	return cases;
}

// Sends @valid with size field @size in a buffer of @len bytes whose
// bytes past the valid structure are @tail.
int send_buf(const Iommufd &fd, unsigned long cmd, std::vector<uint8_t> valid,
	     uint32_t size, size_t len, uint8_t tail, std::vector<uint8_t> *out)
{
	std::vector<uint8_t> buf(std::max(len, valid.size()), tail);

	std::memcpy(buf.data(), valid.data(), valid.size());
	std::memcpy(buf.data(), &size, sizeof(size));
	int err = fd.raw(cmd, buf.data());
	if (out)
		*out = buf;
	return err;
}

} // namespace

static void check_command_cases(const std::vector<CommandCase> &cases)
{
	for (const CommandCase &c : cases) {
		SUBCASE(c.name) {
			Iommufd fd;
			std::vector<uint8_t> valid, out;

			c.prepare(fd, valid);
			const uint32_t before = OBJECTS_NOW(fd);

			SUBCASE("size 0 is EINVAL and changes nothing") {
				CHECK(send_buf(fd, c.cmd, valid, 0, valid.size(), 0,
					       nullptr) == EINVAL);
				CHECK_OBJECTS(fd, before);
				c.untouched(fd, valid);
			}
			SUBCASE("a size ending inside the mandatory part is EINVAL") {
				for (uint32_t s = 4; s < c.min_size; s += 4)
					CHECK(send_buf(fd, c.cmd, valid, s,
						       valid.size(), 0,
						       nullptr) == EINVAL);
				CHECK(send_buf(fd, c.cmd, valid, c.min_size - 1,
					       valid.size(), 0, nullptr) == EINVAL);
				CHECK_OBJECTS(fd, before);
				c.untouched(fd, valid);
			}
			SUBCASE("a non-zero byte past the known struct is E2BIG") {
				for (size_t extra : {1UL, 7UL, 64UL, 8192UL}) {
					size_t len = c.struct_size + extra;
					CHECK(send_buf(fd, c.cmd, valid, len, len,
						       0x5a, nullptr) == E2BIG);
				}
				// Only the very last byte is non-zero.
				std::vector<uint8_t> big(valid);
				big.resize(c.struct_size + 4096, 0);
				big.back() = 1;
				CHECK(send_buf(fd, c.cmd, big, big.size(), big.size(), 0,
					       nullptr) == E2BIG);
				CHECK_OBJECTS(fd, before);
				c.untouched(fd, valid);
			}
			SUBCASE("a zero tail is accepted and left untouched") {
				size_t len = c.struct_size + 24;
				REQUIRE(send_buf(fd, c.cmd, valid, len, len, 0, &out) ==
					0);
				c.done(fd, out);
				for (size_t i = c.struct_size; i < len; i++)
					CHECK(out[i] == 0);
			}
			SUBCASE("exactly the kernel's size works") {
				REQUIRE(send_buf(fd, c.cmd, valid, c.struct_size,
						 c.struct_size, 0, &out) == 0);
				c.done(fd, out);
			}
			SUBCASE("a bad user pointer is EFAULT") {
				CHECK(fd.raw(c.cmd, nullptr) == EFAULT);
				void *hole = mmap(nullptr, 4096, PROT_NONE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				REQUIRE(hole != MAP_FAILED);
				CHECK(fd.raw(c.cmd, hole) == EFAULT);
				munmap(hole, 4096);
				CHECK_OBJECTS(fd, before);
				c.untouched(fd, valid);
			}
		}
	}
}

TEST_CASE("every command applies the size rules before doing anything")
{
	check_command_cases(command_cases(false));
}

TEST_CASE("iommulab's extension commands apply the size rules before doing anything" *
	  IOMMULAB_ONLY)
{
	check_command_cases(command_cases(true));
}

TEST_CASE("unknown ioctl numbers are ENOTTY")
{
	Iommufd fd;
	uint8_t buf[256] = {};
	const uint32_t before = OBJECTS_NOW(fd);

	*reinterpret_cast<uint32_t *>(buf) = sizeof(buf);
	// Gaps of the table, just past upstream's last number (0x94), and the
	// ends of the extension range. (Every number upstream defines has a
	// row, implemented or not: see the size-rule cases.)
	for (unsigned nr : {0x00u, 0x7fu, 0x95u, 0x9fu, 0xa1u, 0xbfu, 0xd0u, 0xdfu,
			    0xe0u, 0xffu}) {
		CAPTURE(nr);
		CHECK(fd.raw(_IO(IOMMUFD_TYPE, nr), buf) == ENOTTY);
	}
	// A known number with another ioctl type, or with size/direction bits,
	// implemented or not.
	CHECK(fd.raw(_IO('x', IOMMUFD_CMD_IOAS_ALLOC), buf) == ENOTTY);
	CHECK(fd.raw(_IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC, iommu_ioas_alloc),
		     buf) == ENOTTY);
	CHECK(fd.raw(_IOW(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING,
			  iommu_hwpt_set_dirty_tracking),
		     buf) == ENOTTY);
	CHECK(fd.raw(_IO('x', IOMMUFD_CMD_VFIO_IOAS), buf) == ENOTTY);
	CHECK_OBJECTS(fd, before);
}

TEST_CASE("IOAS_ALLOC rejects every unknown flag and creates nothing")
{
	Iommufd fd;
	const uint32_t before = OBJECTS_NOW(fd);

	for (int bit = 0; bit < 32; bit++) {
		iommu_ioas_alloc cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = 1u << bit;
		cmd.out_ioas_id = 0xdead;
		CAPTURE(bit);
		CHECK(send(fd, IOMMU_IOAS_ALLOC, cmd) == EOPNOTSUPP);
		CHECK(cmd.out_ioas_id == 0xdead);
	}
	CHECK_OBJECTS(fd, before);
}

TEST_CASE("object IDs are never 0 and never repeat while alive")
{
	Iommufd fd;
	std::vector<Ioas> all;
	std::set<uint32_t> ids;

	for (int i = 0; i < 200; i++) {
		all.emplace_back(fd);
		CHECK(all.back().id() != 0);
		ids.insert(all.back().id());
	}
	CHECK(ids.size() == all.size());
	CHECK_OBJECTS(fd, all.size());
}

TEST_CASE("destroy removes exactly one object and refuses bad IDs")
{
	Iommufd fd;
	Ioas keep(fd);
	uint32_t id = Ioas(fd).release();

	REQUIRE_OBJECTS(fd, 2);
	iommu_destroy cmd{};
	cmd.size = sizeof(cmd);

	SUBCASE("ID 0 is ENOENT") {
		cmd.id = 0;
		CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		CHECK_OBJECTS(fd, 2);
	}
	SUBCASE("an ID that was never handed out is ENOENT") {
		for (uint32_t bad : {id + 1000, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
			cmd.id = bad;
			CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		}
		CHECK_OBJECTS(fd, 2);
	}
	SUBCASE("a stale ID is ENOENT the second time") {
		cmd.id = id;
		CHECK(send(fd, IOMMU_DESTROY, cmd) == 0);
		CHECK_OBJECTS(fd, 1);
		CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		CHECK_OBJECTS(fd, 1);
		// The survivor is untouched and still usable.
		CHECK(keep.huge_pages());
	}
}

TEST_CASE("closing the fd destroys every object it made" * IOMMULAB_ONLY)
{
	Iommufd watcher;
	const uint64_t base = nr_objects_all(watcher);
	{
		Iommufd fd;
		for (int i = 0; i < 64; i++)
			Ioas(fd).release();
		CHECK_OBJECTS(fd, 64);
		CHECK(nr_objects_all(watcher) == base + 64);
	}
	CHECK(nr_objects_all(watcher) == base);
}

TEST_CASE("one fd cannot see or destroy another fd's objects")
{
	Iommufd a, b;
	Ioas mine(a);
	mine.set_huge_pages(false);

	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = mine.id();
	CHECK(send(b, IOMMU_DESTROY, d) == ENOENT);

	iommu_option get = option_cmd(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
				      mine.id());
	CHECK(send(b, IOMMU_OPTION, get) == ENOENT);
	iommu_option set = option_cmd(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET,
				      mine.id(), 1);
	CHECK(send(b, IOMMU_OPTION, set) == ENOENT);

	// Each fd numbers its objects on its own.
	Ioas theirs(b);
	CHECK(theirs.id() == mine.id());
	CHECK(theirs.huge_pages());
	CHECK_FALSE(mine.huge_pages());
	CHECK_OBJECTS(a, 1);
	CHECK_OBJECTS(b, 1);
}

TEST_CASE("RLIMIT_MODE is fd-wide, privileged, and fixed once objects exist")
{
	Iommufd fd;

	CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);

	SUBCASE("an empty fd can switch to per-mm accounting and back") {
		fd.option_set(IOMMU_OPTION_RLIMIT_MODE, 1);
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 1);
		fd.option_set(IOMMU_OPTION_RLIMIT_MODE, 0);
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);
	}
	SUBCASE("an fd with objects is EBUSY and keeps its mode") {
		Ioas ioas(fd);
		auto cmd = option_cmd(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET,
				      0, 1);
		CHECK(send(fd, IOMMU_OPTION, cmd) == EBUSY);
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);
		ioas.destroy();
		CHECK(send(fd, IOMMU_OPTION, cmd) == 0);
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 1);
	}
	SUBCASE("values other than 0 and 1 are EINVAL") {
		for (uint64_t v : {2ULL, 3ULL, 1ULL << 32, ~0ULL}) {
			auto cmd = option_cmd(IOMMU_OPTION_RLIMIT_MODE,
					      IOMMU_OPTION_OP_SET, 0, v);
			CHECK(send(fd, IOMMU_OPTION, cmd) == EINVAL);
		}
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);
	}
	SUBCASE("a non-zero object_id is EOPNOTSUPP") {
		Ioas ioas(fd);
		for (uint16_t op : {IOMMU_OPTION_OP_GET, IOMMU_OPTION_OP_SET}) {
			auto cmd = option_cmd(IOMMU_OPTION_RLIMIT_MODE, op, ioas.id(),
					      0);
			CHECK(send(fd, IOMMU_OPTION, cmd) == EOPNOTSUPP);
		}
	}
	SUBCASE("setting it without CAP_SYS_RESOURCE is EPERM") {
		int rc = in_child([&] {
			if (!drop_capability(CAP_SYS_RESOURCE))
				return 10;
			auto cmd = option_cmd(IOMMU_OPTION_RLIMIT_MODE,
					      IOMMU_OPTION_OP_SET, 0, 1);
			if (send(fd, IOMMU_OPTION, cmd) != EPERM)
				return 11;
			// Reading needs no privilege.
			auto get = option_cmd(IOMMU_OPTION_RLIMIT_MODE,
					      IOMMU_OPTION_OP_GET, 0);
			return send(fd, IOMMU_OPTION, get) == 0 && get.val64 == 0 ?
				       0 : 12;
		});
		CHECK(rc == 0);
		CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);
	}
}

TEST_CASE("HUGE_PAGES is a per-IOAS option, on by default")
{
	Iommufd fd;
	Ioas a(fd), b(fd);

	CHECK(a.huge_pages());
	a.set_huge_pages(false);
	CHECK_FALSE(a.huge_pages());
	CHECK(b.huge_pages());
	a.set_huge_pages(true);
	CHECK(a.huge_pages());

	SUBCASE("values other than 0 and 1 are EINVAL and change nothing") {
		a.set_huge_pages(false);
		for (uint64_t v : {2ULL, 1ULL << 40, ~0ULL}) {
			auto cmd = option_cmd(IOMMU_OPTION_HUGE_PAGES,
					      IOMMU_OPTION_OP_SET, a.id(), v);
			CHECK(send(fd, IOMMU_OPTION, cmd) == EINVAL);
		}
		CHECK_FALSE(a.huge_pages());
	}
	SUBCASE("ID 0 and stale IDs are ENOENT") {
		uint32_t stale = Ioas(fd).id();
		for (uint32_t id : {0u, stale, 0xffffffffu}) {
			auto cmd = option_cmd(IOMMU_OPTION_HUGE_PAGES,
					      IOMMU_OPTION_OP_GET, id);
			CHECK(send(fd, IOMMU_OPTION, cmd) == ENOENT);
		}
	}
	SUBCASE("unknown ops are EOPNOTSUPP") {
		for (uint16_t op : {2, 3, 0xffff}) {
			auto cmd = option_cmd(IOMMU_OPTION_HUGE_PAGES, op, a.id(), 0);
			CHECK(send(fd, IOMMU_OPTION, cmd) == EOPNOTSUPP);
		}
		CHECK(a.huge_pages());
	}
}

TEST_CASE("OPTION rejects unknown option IDs and a non-zero reserved field")
{
	Iommufd fd;
	Ioas a(fd);

	for (uint32_t id : {2u, 3u, 100u, 0xffffffffu}) {
		auto cmd = option_cmd(id, IOMMU_OPTION_OP_GET, a.id());
		CHECK(send(fd, IOMMU_OPTION, cmd) == EOPNOTSUPP);
	}
	for (uint32_t opt : {0u + IOMMU_OPTION_RLIMIT_MODE,
			     0u + IOMMU_OPTION_HUGE_PAGES}) {
		auto cmd = option_cmd(opt, IOMMU_OPTION_OP_SET,
				      opt == IOMMU_OPTION_HUGE_PAGES ? a.id() : 0,
				      0);
		cmd.__reserved = 1;
		CHECK(send(fd, IOMMU_OPTION, cmd) == EOPNOTSUPP);
	}
	CHECK(a.huge_pages());
	CHECK(fd.option_get(IOMMU_OPTION_RLIMIT_MODE) == 0);
}

TEST_CASE("GET_INFO rejects unknown flags" * IOMMULAB_ONLY)
{
	Iommufd fd;
	iommulab_info cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = 1;
	CHECK(send(fd, IOMMULAB_GET_INFO, cmd) == EOPNOTSUPP);
	CHECK(cmd.out_abi_version == 0);
}

namespace {

// The size rules, against numbers written out here rather than rebuilt
// from the structures (a wrong last-mandatory-field in the module's table
// would be rebuilt the same way and never noticed). For each command:
//   min   the smallest size upstream accepts: offsetofend() of the last
//         mandatory field of upstream's IOCTL_OP table (drivers/iommu/
//         iommufd/main.c), i.e. the size of the structure as first
//         introduced upstream (UPSTREAM-ABI.md, "Mandatory part");
//   full  the structure's size now (upstream's include/uapi/linux/
//         iommufd.h, 6.15-6.18; IOMMU_TEST_CMD: iommufd_test.h, whose
//         largest union member is DIRTY's 48 bytes).
// iommulab's own extension commands (0xc0...) are iommulab's ABI: their
// numbers are the ones the extension header shipped with.
// @arg fills the mandatory part with a call that, sized right, reaches
// the handler and fails (or succeeds) with @expect, never EINVAL, so a
// size that is wrongly refused cannot pass for the handler's answer.
struct SizeRule {
	const char *name;
	unsigned nr;
	uint32_t min, full;
	int expect;
	std::function<void(uint8_t *)> arg;
};

template <class T> void put(uint8_t *buf, size_t off, T v)
{
	std::memcpy(buf + off, &v, sizeof(v));
}

constexpr unsigned N(unsigned long cmd) { return _IOC_NR(cmd); }

// Byte offsets below are upstream's field offsets (fields listed in
// UPSTREAM-ABI.md, every u64 8-byte aligned).
const SizeRule upstream_rules[] = {
	{"IOMMU_DESTROY", 0x80, 8, 8, ENOENT, [](uint8_t *b) { put<uint32_t>(b, 4, 0); }},
	{"IOMMU_IOAS_ALLOC", 0x81, 12, 12, 0, [](uint8_t *) {}},
	{"IOMMU_IOAS_ALLOW_IOVAS", 0x82, 24, 24, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	{"IOMMU_IOAS_COPY", 0x83, 40, 40, ENOENT,
	 [](uint8_t *b) {
		 put<uint32_t>(b, 4, IOMMU_IOAS_MAP_READABLE);
		 put<uint32_t>(b, 8, 0xdead);
		 put<uint32_t>(b, 12, 0xdead);
		 put<uint64_t>(b, 16, 4096);
	 }},
	{"IOMMU_IOAS_IOVA_RANGES", 0x84, 32, 32, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	{"IOMMU_IOAS_MAP", 0x85, 40, 40, ENOENT,
	 [](uint8_t *b) {
		 put<uint32_t>(b, 4, IOMMU_IOAS_MAP_READABLE);
		 put<uint32_t>(b, 8, 0xdead);
		 put<uint64_t>(b, 24, 4096);
	 }},
	{"IOMMU_IOAS_UNMAP", 0x86, 24, 24, ENOENT,
	 [](uint8_t *b) {
		 put<uint32_t>(b, 4, 0xdead);
		 put<uint64_t>(b, 16, 4096);
	 }},
	{"IOMMU_OPTION", 0x87, 24, 24, ENOENT,
	 [](uint8_t *b) {
		 put<uint32_t>(b, 4, IOMMU_OPTION_HUGE_PAGES);
		 put<uint16_t>(b, 8, IOMMU_OPTION_OP_GET);
		 put<uint32_t>(b, 12, 0xdead);
	 }},
	{"IOMMU_HWPT_ALLOC", 0x89, 24, 48, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
	{"IOMMU_GET_HW_INFO", 0x8a, 32, 40, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
	{"IOMMU_HWPT_SET_DIRTY_TRACKING", 0x8b, 16, 16, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
	{"IOMMU_HWPT_GET_DIRTY_BITMAP", 0x8c, 48, 48, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	{"IOMMU_HWPT_INVALIDATE", 0x8d, 32, 32, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	// A non-zero flags word: EOPNOTSUPP, after the size rules (flags 0
	// would make a fault queue and its fd at every size tried).
	{"IOMMU_FAULT_QUEUE_ALLOC", 0x8e, 16, 16, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1); }},
	// All zero: GET with no compatibility IOAS set.
	{"IOMMU_VFIO_IOAS", 0x88, 12, 12, ENODEV, [](uint8_t *) {}},
	{"IOMMU_IOAS_MAP_FILE", 0x8f, 40, 40, ENOENT,
	 [](uint8_t *b) {
		 put<uint32_t>(b, 4, IOMMU_IOAS_MAP_READABLE);
		 put<uint32_t>(b, 8, 0xdead);
		 put<uint64_t>(b, 24, 4096);
	 }},
	// All zero: an fd without mappings has nothing to move.
	{"IOMMU_IOAS_CHANGE_PROCESS", 0x92, 8, 8, 0, [](uint8_t *) {}},
	// op 0 is no op: the handler's EOPNOTSUPP, after the size rules.
	{"IOMMU_TEST_CMD", 0xa0, 68, 72, EOPNOTSUPP, [](uint8_t *) {}},
};

const SizeRule extension_rules[] = {
	{"IOMMULAB_GET_INFO", 0xc0, 32, 40, 0, [](uint8_t *) {}},
	{"IOMMULAB_BENCH_PIN", 0xc1, 40, 40, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_MOCK_GROUP_ALLOC", 0xc2, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_DEVICE_BIND", 0xc3, 24, 24, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
	{"IOMMULAB_DEVICE_ATTACH", 0xc4, 24, 24, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
	{"IOMMULAB_DEVICE_DETACH", 0xc5, 8, 8, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	{"IOMMULAB_MOCK_SET_DRIVER", 0xc6, 16, 16, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 0xdead); }},
	{"IOMMULAB_MOCK_DMA", 0xc7, 64, 72, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_IOASID_SET_ALLOC", 0xc8, 32, 32, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_IOASID", 0xc9, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_IOASID_SET_INFO", 0xca, 40, 40, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_MOCK_SUBDEV_ALLOC", 0xcb, 32, 32, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_MOCK_DMA_BURST", 0xcc, 56, 56, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_IOAS_UNMAP_DIRTY", 0xcd, 56, 56, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_HWPT_SPLIT", 0xce, 56, 56, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_HWPT_MERGE", 0xcf, 56, 56, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_DEVICE_PASID", 0xd1, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_AUX_ATTACH", 0xd2, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_AUX_DETACH", 0xd3, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	{"IOMMULAB_AUX_GET_PASID", 0xd4, 24, 24, EOPNOTSUPP,
	 [](uint8_t *b) { put<uint32_t>(b, 4, 1u << 30); }},
	// A bad dev_id: ENOENT, after the size rules.
	{"IOMMULAB_AUX_GET_DOMAIN", 0xd5, 32, 32, ENOENT,
	 [](uint8_t *b) { put<uint32_t>(b, 8, 0xdead); }},
};

// Commands upstream has and iommulab does not implement. UPSTREAM-ABI.md:
// such a number still checks size and tail, then fails EOPNOTSUPP (ENOTTY
// only for numbers upstream does not know). The mandatory parts are the
// last fields of upstream's IOCTL_OP rows (drivers/iommu/iommufd/main.c):
// __reserved (the dirty ones), out_viommu_id, virt_id,
// out_veventq_fd, length; the sizes are upstream's structures
// (include/uapi/linux/iommufd.h at b4d90dbc).
const SizeRule upstream_unimplemented[] = {
	{"IOMMU_VIOMMU_ALLOC", 0x90, 24, 40, EOPNOTSUPP, [](uint8_t *) {}},
	{"IOMMU_VDEVICE_ALLOC", 0x91, 24, 24, EOPNOTSUPP, [](uint8_t *) {}},
	{"IOMMU_VEVENTQ_ALLOC", 0x93, 28, 32, EOPNOTSUPP, [](uint8_t *) {}},
	{"IOMMU_HW_QUEUE_ALLOC", 0x94, 40, 40, EOPNOTSUPP, [](uint8_t *) {}},
};

// iommulab's headers must say the same as the numbers above.
#define OFFSETOFEND(s, f) (offsetof(s, f) + sizeof(s::f))
#define SAME(s, last, min, full)                                             \
	static_assert(OFFSETOFEND(s, last) == (min), #s ": mandatory part");  \
	static_assert(sizeof(s) == (full), #s ": size")
SAME(iommu_destroy, id, 8, 8);
SAME(iommu_ioas_alloc, out_ioas_id, 12, 12);
SAME(iommu_ioas_allow_iovas, allowed_iovas, 24, 24);
SAME(iommu_ioas_copy, src_iova, 40, 40);
SAME(iommu_ioas_iova_ranges, out_iova_alignment, 32, 32);
SAME(iommu_ioas_map, iova, 40, 40);
SAME(iommu_ioas_unmap, length, 24, 24);
SAME(iommu_option, val64, 24, 24);
SAME(iommu_hwpt_alloc, __reserved, 24, 48);
SAME(iommu_hw_info, __reserved, 32, 40);
SAME(iommu_hwpt_invalidate, __reserved, 32, 32);
SAME(iommu_vfio_ioas, __reserved, 12, 12);
SAME(iommu_hwpt_set_dirty_tracking, __reserved, 16, 16);
SAME(iommu_hwpt_get_dirty_bitmap, data, 48, 48);
SAME(iommu_fault_alloc, out_fault_fd, 16, 16);
SAME(iommu_ioas_map_file, iova, 40, 40);
SAME(iommu_viommu_alloc, out_viommu_id, 24, 40);
SAME(iommu_vdevice_alloc, virt_id, 24, 24);
SAME(iommu_ioas_change_process, __reserved, 8, 8);
SAME(iommu_veventq_alloc, out_veventq_fd, 28, 32);
SAME(iommu_hw_queue_alloc, length, 40, 40);
SAME(iommu_test_cmd, last, 68, 72);
SAME(iommulab_info, out_nr_objects_all, 32, 40);
SAME(iommulab_bench_pin, out_unpin_ns, 40, 40);
SAME(iommulab_mock_group_alloc, devs_uptr, 24, 24);
SAME(iommulab_device_bind, cookie, 24, 24);
SAME(iommulab_device_attach, __reserved, 24, 24);
SAME(iommulab_device_detach, dev_id, 8, 8);
SAME(iommulab_mock_set_driver, __reserved, 16, 16);
SAME(iommulab_mock_dma, __reserved, 64, 72);
SAME(iommulab_ioasid_set_alloc, out_token_id, 32, 32);
SAME(iommulab_ioasid, vpasid, 24, 24);
SAME(iommulab_ioasid_set_info, out_token_id, 40, 40);
SAME(iommulab_device_pasid, pt_id, 24, 24);
SAME(iommulab_aux, __reserved, 24, 24);
SAME(iommulab_mock_subdev_alloc, __reserved, 32, 32);
SAME(iommulab_aux_get_domain, __reserved, 32, 32);
SAME(iommulab_mock_dma_burst, out_fault_iova, 56, 56);
SAME(iommulab_ioas_unmap_dirty, out_nr_dirty, 56, 56);
SAME(iommulab_hwpt_iopte, out_iopte_after, 56, 56);
// ABI 7 is the one whose commands the rows above list (7: MOCK_DMA_BURST,
// IOAS_UNMAP_DIRTY, HWPT_SPLIT and HWPT_MERGE); a new command bumps it and
// needs its row here.
static_assert(IOMMULAB_ABI_VERSION == 7, "the extension rows are ABI 7's");
#undef SAME
#undef OFFSETOFEND
static_assert(N(IOMMU_DESTROY) == 0x80 && N(IOMMU_IOAS_ALLOC) == 0x81 &&
		      N(IOMMU_IOAS_ALLOW_IOVAS) == 0x82 &&
		      N(IOMMU_IOAS_COPY) == 0x83 &&
		      N(IOMMU_IOAS_IOVA_RANGES) == 0x84 &&
		      N(IOMMU_IOAS_MAP) == 0x85 && N(IOMMU_IOAS_UNMAP) == 0x86 &&
		      N(IOMMU_OPTION) == 0x87 && N(IOMMU_HWPT_ALLOC) == 0x89 &&
		      N(IOMMU_GET_HW_INFO) == 0x8a &&
		      N(IOMMU_HWPT_INVALIDATE) == 0x8d &&
		      N(IOMMU_VFIO_IOAS) == 0x88 &&
		      N(IOMMU_HWPT_SET_DIRTY_TRACKING) == 0x8b &&
		      N(IOMMU_HWPT_GET_DIRTY_BITMAP) == 0x8c &&
		      N(IOMMU_FAULT_QUEUE_ALLOC) == 0x8e &&
		      N(IOMMU_IOAS_MAP_FILE) == 0x8f &&
		      N(IOMMU_VIOMMU_ALLOC) == 0x90 &&
		      N(IOMMU_VDEVICE_ALLOC) == 0x91 &&
		      N(IOMMU_IOAS_CHANGE_PROCESS) == 0x92 &&
		      N(IOMMU_VEVENTQ_ALLOC) == 0x93 &&
		      N(IOMMU_HW_QUEUE_ALLOC) == 0x94 &&
		      N(IOMMU_TEST_CMD) == 0xa0,
	      "upstream command numbers");

// Sends command @nr with size field @size in a zeroed buffer of @len
// bytes holding @r's argument; @tail_byte, if non-zero, is written at
// offset @len - 1.
int send_sized_arg(const Iommufd &fd, const SizeRule &r, uint32_t size,
		   size_t len, uint8_t tail_byte = 0)
{
	std::vector<uint8_t> buf(std::max<size_t>(len, r.full) + 8, 0);

	r.arg(buf.data());
	if (tail_byte)
		buf[len - 1] = tail_byte;
	std::memcpy(buf.data(), &size, sizeof(size));
	return fd.raw(_IO(IOMMUFD_TYPE, r.nr), buf.data());
}

void check_size_rules(const SizeRule &r)
{
	const std::string name = r.name;
	CAPTURE(name);
	CAPTURE(r.min);
	CAPTURE(r.full);
	Iommufd fd;

	// Shorter than the mandatory part: EINVAL, at every size below it.
	for (uint32_t size = 0; size < r.min; size += size + 4 < r.min ? 4 : 1) {
		CAPTURE(size);
		CHECK(send_sized_arg(fd, r, size, r.full) == EINVAL);
	}
	CHECK(send_sized_arg(fd, r, r.min - 1, r.full) == EINVAL);
	CHECK_OBJECTS(fd, 0);
	// Exactly the mandatory part (older userspace): reaches the handler.
	CHECK(send_sized_arg(fd, r, r.min, r.min) == r.expect);
	// Every size up to the full structure, and the full structure.
	for (uint32_t size = r.min; size <= r.full; size += 4) {
		CAPTURE(size);
		CHECK(send_sized_arg(fd, r, size, size) == r.expect);
	}
	// Longer than the structure: a zero tail is fine, any non-zero byte
	// past the end is E2BIG, however far.
	for (uint32_t extra : {1u, 4u, 8u, 64u, 4096u}) {
		CAPTURE(extra);
		CHECK(send_sized_arg(fd, r, r.full + extra, r.full + extra) ==
		      r.expect);
		CHECK(send_sized_arg(fd, r, r.full + extra, r.full + extra, 0x5a) ==
		      E2BIG);
	}
	// The first byte past the structure, with everything else zero.
	CHECK(send_sized_arg(fd, r, r.full + 8, r.full + 1, 1) == E2BIG);
}

} // namespace

TEST_CASE("every command's size rules match upstream's numbers")
{
	for (const SizeRule &r : upstream_rules)
		check_size_rules(r);
}

TEST_CASE("iommulab's extension commands follow upstream's size rules" * IOMMULAB_ONLY)
{
	for (const SizeRule &r : extension_rules)
		check_size_rules(r);
}

// Upstream's iommufd.cmd_length, and more: every size below the mandatory
// part is EINVAL, any non-zero tail E2BIG, and a call that passes the size
// rules gets the same answer at every size from the mandatory part on
// (EOPNOTSUPP, never ENOTTY). Before issue 9 these numbers were ENOTTY.
TEST_CASE("upstream commands iommulab does not implement still apply the size rules" *
	  IOMMULAB_ONLY)
{
	for (const SizeRule &r : upstream_unimplemented)
		check_size_rules(r);
}

// The rows of the unimplemented commands check nothing past the size
// rules; what upstream's handlers refuse first (a non-zero reserved field,
// an unknown flag) they refuse with EOPNOTSUPP too. A call with every
// field set is still EOPNOTSUPP and creates nothing.
TEST_CASE("an unimplemented upstream command is EOPNOTSUPP whatever its fields" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	const uint32_t before = OBJECTS_NOW(fd);

	for (const SizeRule &r : upstream_unimplemented) {
		const std::string name = r.name;
		CAPTURE(name);
		std::vector<uint8_t> buf(r.full, 0xff);
		std::memcpy(buf.data(), &r.full, sizeof(r.full));
		CHECK(fd.raw(_IO(IOMMUFD_TYPE, r.nr), buf.data()) == EOPNOTSUPP);
		// Valid-looking: flags 0, the IOAS's ID in every other field.
		std::fill(buf.begin() + 4, buf.end(), 0);
		for (size_t off = 4; off + 4 <= r.full; off += 4) {
			const uint32_t id = ioas.id();
			std::memcpy(buf.data() + off, &id, 4);
		}
		CHECK(fd.raw(_IO(IOMMUFD_TYPE, r.nr), buf.data()) == EOPNOTSUPP);
	}
	CHECK_OBJECTS(fd, before);
	CHECK(ioas.iova_ranges().size() == 1);
}

TEST_CASE("VFIO_IOAS sets, reports and clears the compatibility IOAS as upstream")
{
	Iommufd fd, other;
	Ioas a(fd), b(fd);

	auto vfio = [&](const Iommufd &f, uint16_t op, uint32_t id,
			uint32_t *out = nullptr) {
		iommu_vfio_ioas cmd{};
		cmd.size = sizeof(cmd);
		cmd.op = op;
		cmd.ioas_id = id;
		int err = f.raw(IOMMU_VFIO_IOAS, &cmd);
		if (out)
			*out = cmd.ioas_id;
		return err;
	};
	uint32_t got = 0;

	// None yet: ENODEV, and ioas_id is left alone.
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 77, &got) == ENODEV);
	CHECK(got == 77);
	// SET names an IOAS of this fd: anything else is ENOENT.
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, 0) == ENOENT);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, b.id() + 100) == ENOENT);
	{
		MockDomain md(fd, a.id());
		CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, md.hwpt_id()) == ENOENT);
		CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, md.idev_id()) == ENOENT);
	}
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0) == ENODEV);

	CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, a.id()) == 0);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0, &got) == 0);
	CHECK(got == a.id());
	// Per fd: the other fd has none.
	CHECK(vfio(other, IOMMU_VFIO_IOAS_GET, 0) == ENODEV);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, b.id()) == 0);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0, &got) == 0);
	CHECK(got == b.id());

	// Bad op or reserved field: EOPNOTSUPP, and the choice stays.
	CHECK(vfio(fd, 3, a.id()) == EOPNOTSUPP);
	CHECK(vfio(fd, 0xffff, a.id()) == EOPNOTSUPP);
	iommu_vfio_ioas bad{};
	bad.size = sizeof(bad);
	bad.op = IOMMU_VFIO_IOAS_SET;
	bad.ioas_id = a.id();
	bad.__reserved = 1;
	CHECK(send(fd, IOMMU_VFIO_IOAS, bad) == EOPNOTSUPP);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0, &got) == 0);
	CHECK(got == b.id());

	// It holds no reference: the IOAS can be destroyed, which clears it.
	iommu_destroy d{};
	d.size = sizeof(d);
	d.id = b.release();
	CHECK(send(fd, IOMMU_DESTROY, d) == 0);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0) == ENODEV);
	// A new IOAS (which may get the freed ID) is not the compat one.
	Ioas c(fd);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0) == ENODEV);

	// CLEAR forgets it and destroys nothing.
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_SET, a.id()) == 0);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_CLEAR, 12345) == 0);
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_GET, 0) == ENODEV);
	CHECK(a.huge_pages()); // still a live IOAS
	CHECK(vfio(fd, IOMMU_VFIO_IOAS_CLEAR, 0) == 0); // none: still fine
	CHECK_OBJECTS(fd, 2); // a and c
}

TEST_CASE("an ID of another object type is ENOENT")
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id());

	for (uint32_t id : {md.idev_id(), md.hwpt_id(), md.stdev_id()}) {
		CAPTURE(id);
		auto opt = option_cmd(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
				      id);
		CHECK(send(fd, IOMMU_OPTION, opt) == ENOENT);
		iommu_ioas_unmap u{};
		u.size = sizeof(u);
		u.ioas_id = id;
		u.length = UINT64_MAX;
		CHECK(send(fd, IOMMU_IOAS_UNMAP, u) == ENOENT);
	}
	iommu_hw_info hi{};
	hi.size = sizeof(hi);
	hi.dev_id = md.hwpt_id();
	CHECK(send(fd, IOMMU_GET_HW_INFO, hi) == ENOENT);
	CHECK(ioas.huge_pages());
}
