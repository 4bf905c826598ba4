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
};

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

std::vector<CommandCase> command_cases()
{
	std::vector<CommandCase> cases;

	cases.push_back({"IOMMU_DESTROY", IOMMU_DESTROY, sizeof(iommu_destroy),
			 offsetof(iommu_destroy, id) + 4,
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
			 }});
	cases.push_back({"IOMMU_IOAS_ALLOC", IOMMU_IOAS_ALLOC,
			 sizeof(iommu_ioas_alloc),
			 offsetof(iommu_ioas_alloc, out_ioas_id) + 4,
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
			 }});
	cases.push_back({"IOMMU_OPTION", IOMMU_OPTION, sizeof(iommu_option),
			 offsetof(iommu_option, val64) + 8,
			 [](const Iommufd &fd, std::vector<uint8_t> &buf) {
				 Ioas ioas(fd);
				 ioas.set_huge_pages(false);
				 buf = bytes_of(option_cmd(IOMMU_OPTION_HUGE_PAGES,
							   IOMMU_OPTION_OP_GET,
							   ioas.release(), 77));
			 },
			 [](const Iommufd &, const std::vector<uint8_t> &buf) {
				 CHECK(struct_of<iommu_option>(buf).val64 == 0);
			 }});
	cases.push_back({"IOMMULAB_GET_INFO", IOMMULAB_GET_INFO,
			 sizeof(iommulab_info),
			 offsetof(iommulab_info, out_nr_objects_all) + 8,
			 [](const Iommufd &, std::vector<uint8_t> &buf) {
				 iommulab_info c{};
				 c.size = sizeof(c);
				 buf = bytes_of(c);
			 },
			 [](const Iommufd &, const std::vector<uint8_t> &buf) {
				 auto c = struct_of<iommulab_info>(buf);
				 CHECK(c.out_abi_version == IOMMULAB_ABI_VERSION);
				 CHECK(c.out_features != 0);
			 }});
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

TEST_CASE("every command applies the size rules before doing anything")
{
	for (const CommandCase &c : command_cases()) {
		SUBCASE(c.name) {
			Iommufd fd;
			std::vector<uint8_t> valid, out;

			c.prepare(fd, valid);
			const uint32_t before = nr_objects(fd);

			SUBCASE("size 0 is EINVAL and changes nothing") {
				CHECK(send_buf(fd, c.cmd, valid, 0, valid.size(), 0,
					       nullptr) == EINVAL);
				CHECK(nr_objects(fd) == before);
			}
			SUBCASE("a size ending inside the mandatory part is EINVAL") {
				for (uint32_t s = 4; s < c.min_size; s += 4)
					CHECK(send_buf(fd, c.cmd, valid, s,
						       valid.size(), 0,
						       nullptr) == EINVAL);
				CHECK(nr_objects(fd) == before);
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
				CHECK(nr_objects(fd) == before);
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
				CHECK(nr_objects(fd) == before);
			}
		}
	}
}

TEST_CASE("unknown ioctl numbers are ENOTTY")
{
	Iommufd fd;
	uint8_t buf[256] = {};
	const uint32_t before = nr_objects(fd);

	*reinterpret_cast<uint32_t *>(buf) = sizeof(buf);
	// Gaps of the table, just outside it, upstream numbers that iommulab
	// does not implement yet, and the ends of the extension range.
	for (unsigned nr : {0x00u, 0x7fu, 0x88u, 0x8fu, 0x94u, 0x95u, 0x9fu, 0xa1u,
			    0xbfu, 0xc8u, 0xdfu, 0xe0u, 0xffu}) {
		CAPTURE(nr);
		CHECK(fd.raw(_IO(IOMMUFD_TYPE, nr), buf) == ENOTTY);
	}
	// A known number with another ioctl type, or with size/direction bits.
	CHECK(fd.raw(_IO('x', IOMMUFD_CMD_IOAS_ALLOC), buf) == ENOTTY);
	CHECK(fd.raw(_IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC, iommu_ioas_alloc),
		     buf) == ENOTTY);
	CHECK(nr_objects(fd) == before);
}

TEST_CASE("IOAS_ALLOC rejects every unknown flag and creates nothing")
{
	Iommufd fd;
	const uint32_t before = nr_objects(fd);

	for (int bit = 0; bit < 32; bit++) {
		iommu_ioas_alloc cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = 1u << bit;
		cmd.out_ioas_id = 0xdead;
		CAPTURE(bit);
		CHECK(send(fd, IOMMU_IOAS_ALLOC, cmd) == EOPNOTSUPP);
		CHECK(cmd.out_ioas_id == 0xdead);
	}
	CHECK(nr_objects(fd) == before);
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
	CHECK(nr_objects(fd) == all.size());
}

TEST_CASE("destroy removes exactly one object and refuses bad IDs")
{
	Iommufd fd;
	Ioas keep(fd);
	uint32_t id = Ioas(fd).release();

	REQUIRE(nr_objects(fd) == 2);
	iommu_destroy cmd{};
	cmd.size = sizeof(cmd);

	SUBCASE("ID 0 is ENOENT") {
		cmd.id = 0;
		CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		CHECK(nr_objects(fd) == 2);
	}
	SUBCASE("an ID that was never handed out is ENOENT") {
		for (uint32_t bad : {id + 1000, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
			cmd.id = bad;
			CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		}
		CHECK(nr_objects(fd) == 2);
	}
	SUBCASE("a stale ID is ENOENT the second time") {
		cmd.id = id;
		CHECK(send(fd, IOMMU_DESTROY, cmd) == 0);
		CHECK(nr_objects(fd) == 1);
		CHECK(send(fd, IOMMU_DESTROY, cmd) == ENOENT);
		CHECK(nr_objects(fd) == 1);
		// The survivor is untouched and still usable.
		CHECK(keep.huge_pages());
	}
}

TEST_CASE("closing the fd destroys every object it made")
{
	Iommufd watcher;
	const uint64_t base = nr_objects_all(watcher);
	{
		Iommufd fd;
		for (int i = 0; i < 64; i++)
			Ioas(fd).release();
		CHECK(nr_objects(fd) == 64);
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
	CHECK(nr_objects(a) == 1);
	CHECK(nr_objects(b) == 1);
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

TEST_CASE("GET_INFO rejects unknown flags")
{
	Iommufd fd;
	iommulab_info cmd{};

	cmd.size = sizeof(cmd);
	cmd.flags = 1;
	CHECK(send(fd, IOMMULAB_GET_INFO, cmd) == EOPNOTSUPP);
	CHECK(cmd.out_abi_version == 0);
}

TEST_CASE("every command refuses a short size or a non-zero tail before acting")
{
	struct Row {
		const char *name;
		unsigned long cmd;
		size_t struct_size;
		size_t min_size;
	};
#define ROW(c, s, last) {#c, c, sizeof(s), offsetof(s, last) + sizeof(s::last)}
	const Row rows[] = {
		ROW(IOMMU_DESTROY, iommu_destroy, id),
		ROW(IOMMU_IOAS_ALLOC, iommu_ioas_alloc, out_ioas_id),
		ROW(IOMMU_IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas, allowed_iovas),
		ROW(IOMMU_IOAS_COPY, iommu_ioas_copy, src_iova),
		ROW(IOMMU_IOAS_IOVA_RANGES, iommu_ioas_iova_ranges,
		    out_iova_alignment),
		ROW(IOMMU_IOAS_MAP, iommu_ioas_map, iova),
		ROW(IOMMU_IOAS_UNMAP, iommu_ioas_unmap, length),
		ROW(IOMMU_OPTION, iommu_option, val64),
		ROW(IOMMU_HWPT_ALLOC, iommu_hwpt_alloc, __reserved),
		ROW(IOMMU_GET_HW_INFO, iommu_hw_info, __reserved),
		ROW(IOMMU_HWPT_INVALIDATE, iommu_hwpt_invalidate, __reserved),
		ROW(IOMMU_TEST_CMD, iommu_test_cmd, last),
		ROW(IOMMULAB_GET_INFO, iommulab_info, out_nr_objects_all),
		ROW(IOMMULAB_BENCH_PIN, iommulab_bench_pin, out_unpin_ns),
		ROW(IOMMULAB_MOCK_GROUP_ALLOC, iommulab_mock_group_alloc, devs_uptr),
		ROW(IOMMULAB_DEVICE_BIND, iommulab_device_bind, cookie),
		ROW(IOMMULAB_DEVICE_ATTACH, iommulab_device_attach, __reserved),
		ROW(IOMMULAB_DEVICE_DETACH, iommulab_device_detach, dev_id),
		ROW(IOMMULAB_MOCK_SET_DRIVER, iommulab_mock_set_driver, __reserved),
		ROW(IOMMULAB_MOCK_DMA, iommulab_mock_dma, __reserved),
	};
#undef ROW
	Iommufd fd;
	Ioas ioas(fd);
	const uint64_t all = nr_objects_all(fd);

	for (const Row &r : rows) {
		CAPTURE(r.name);
		std::vector<uint8_t> buf(r.struct_size + 64, 0);
		for (uint32_t size : {0u, 4u, static_cast<uint32_t>(r.min_size - 1)}) {
			if (size >= r.min_size)
				continue;
			std::memcpy(buf.data(), &size, 4);
			CHECK(fd.raw(r.cmd, buf.data()) == EINVAL);
		}
		uint32_t size = r.struct_size + 64;
		std::memcpy(buf.data(), &size, 4);
		buf.back() = 1;
		CHECK(fd.raw(r.cmd, buf.data()) == E2BIG);
	}
	CHECK(nr_objects(fd) == 1);
	CHECK(nr_objects_all(fd) == all);
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
