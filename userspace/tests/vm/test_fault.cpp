// SPDX-License-Identifier: GPL-2.0
// I/O page faults raised by DMA (iommulab's extension, issue 13): a mock
// device flagged IOMMULAB_MOCK_DEV_PRI, attached to a HWPT with a fault
// queue, sends a page request when its DMA meets a missing or forbidding
// IOPTE and waits for the response (uapi/iommulab/iommulab.h). Proven by
// DMA: a handler maps the page and answers SUCCESS, the DMA goes on and
// the bytes land; every other way a request ends (INVALID, timeout, full
// queue, fd closed, detach, unbind, a signal) makes the DMA return with
// the reason that says which, and writes nothing. Also the PASID attach
// path for TRIGGER_IOPF (upstream's test ops, which 6.12 lacks), and the
// PAGE_REQUEST/PAGE_RESPONSE events. iommulab-only in the differential
// lane; test_fault_upstream.cpp is the upstream half.
//
// Nothing here waits by sleeping: a request is seen by polling the fault
// fd (bounded by ARRIVE_MS, a failure when it runs out), a DMA's end by
// joining its thread, which the kernel's iopf_timeout_ms bounds.
#include <doctest/doctest.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "monitor.hpp"

using namespace harness;

namespace {

constexpr uint64_t PS = 4096;
constexpr uint64_t BASE = MOCK_APERTURE_START;
constexpr uint32_t RW = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint32_t FIXED = IOMMU_IOAS_MAP_FIXED_IOVA;
constexpr uint32_t PRI = IOMMULAB_MOCK_DEV_PRI;
constexpr int ARRIVE_MS = 10000; // a bound, never a synchronisation
const char *const TIMEOUT_MS = "/sys/module/iommulab/parameters/iopf_timeout_ms";
const char *const QUEUE_DEPTH = "/sys/module/iommulab/parameters/iopf_queue_depth";

// A mock device of its own group (@flags), bound with @cookie, a fault
// queue, and a paging HWPT (@hwpt_flags) on an empty IOAS reporting to
// that queue; the device attached to it.
struct PriRig {
	const Iommufd &fd;
	Ioas ioas;
	MockDev md;
	Device dev;
	FaultQueue q;
	Hwpt hwpt;

	explicit PriRig(const Iommufd &f, uint32_t flags = PRI,
			uint64_t cookie = 0, uint32_t hwpt_flags = 0)
		: fd(f), ioas(f), md(mock_group_alloc(f, 1, flags)[0]),
		  dev(f, md.rid, cookie), q(f),
		  hwpt(f, dev.id(), ioas.id(), hwpt_flags, q.id())
	{
		dev.attach(hwpt.id());
	}
	void map_page(const void *p, uint64_t iova, uint32_t perm = RW) const
	{
		ioas.map(p, PS, perm | FIXED, iova);
	}
};

// A DMA in a thread of its own (it may wait for a page response); joined
// by wait() or at the end of the scope.
struct AsyncDma {
	DmaResult r{};
	int err = 0; // the ioctl's errno; -1 for another failure
	std::atomic<bool> done{false};
	std::thread t;

	explicit AsyncDma(std::function<DmaResult()> fn)
		: t([this, fn] {
			  try {
				  r = fn();
			  } catch (const Error &e) {
				  err = e.err();
			  } catch (...) {
				  err = -1;
			  }
			  done = true;
		  })
	{
	}
	~AsyncDma()
	{
		if (t.joinable())
			t.join();
	}
	AsyncDma &wait()
	{
		if (t.joinable())
			t.join();
		return *this;
	}
};

// The device @dev writes @n bytes of @val at @iova, in a thread.
std::unique_ptr<AsyncDma> async_write(const Iommufd &fd, uint32_t dev,
				      uint64_t iova, size_t n, uint8_t val,
				      bool by_rid = false)
{
	return std::make_unique<AsyncDma>([&fd, dev, iova, n, val, by_rid] {
		std::vector<uint8_t> data(n, val);
		return dma(fd, dev, iova, data.data(), n, true, by_rid);
	});
}

// The next page request on @q, within ARRIVE_MS.
iommu_hwpt_pgfault next_request(const FaultQueue &q)
{
	REQUIRE_MESSAGE(q.readable(ARRIVE_MS), "no page request within ",
			ARRIVE_MS, " ms");
	auto recs = q.read(1);
	REQUIRE(recs.size() == 1);
	return recs[0];
}

// A handler thread: answers each page request of @q with @code, first
// mapping its page of @mem (IOVA @base is @mem's first byte) into @ioas
// when @map. Its errors are kept (error()), never thrown out of it.
class AutoMapper {
public:
	AutoMapper(const FaultQueue &q, const Ioas &ioas, uint8_t *mem,
		   uint64_t len, uint64_t base = BASE, bool map = true,
		   uint32_t code = IOMMUFD_PAGE_RESP_SUCCESS)
		: t_([this, &q, &ioas, mem, len, base, map, code] {
			  try {
				  while (!stop_) {
					  if (!q.readable(50))
						  continue;
					  for (auto &r : q.read(64)) {
						  if (r.addr < base || r.addr - base >= len)
							  throw std::runtime_error("request outside the range");
						  if (map)
							  ioas.map(mem + (r.addr - base), PS, RW | FIXED,
								   r.addr);
						  q.respond(r.cookie, code);
						  std::lock_guard<std::mutex> g(lock_);
						  recs_.push_back(r);
					  }
				  }
			  } catch (const std::exception &e) {
				  std::lock_guard<std::mutex> g(lock_);
				  error_ = e.what();
			  }
		  })
	{
	}
	~AutoMapper() { stop(); }
	void stop()
	{
		stop_ = true;
		if (t_.joinable())
			t_.join();
	}
	std::vector<iommu_hwpt_pgfault> records()
	{
		std::lock_guard<std::mutex> g(lock_);
		return recs_;
	}
	std::string error()
	{
		std::lock_guard<std::mutex> g(lock_);
		return error_;
	}

private:
	std::atomic<bool> stop_{false};
	std::mutex lock_;
	std::vector<iommu_hwpt_pgfault> recs_;
	std::string error_;
	std::thread t_;
};

// IOMMU_TEST_OP_TRIGGER_IOPF as is: whether it returned 0.
bool trigger_raw_ok(const Iommufd &fd, uint32_t dev, uint32_t pasid)
{
	auto cmd = trigger_iopf_cmd(dev, pasid, 6, IOMMU_PGFAULT_PERM_READ, BASE);

	return send(fd, IOMMU_TEST_CMD, cmd) == 0;
}

// The next PAGE_REQUEST or PAGE_RESPONSE event of the fd @fd_id on @m,
// skipping any other (attach events), within ARRIVE_MS.
Event next_page_event(Monitor &m, uint32_t fd_id)
{
	for (;;) {
		std::optional<Event> e = m.next(ARRIVE_MS);
		REQUIRE_MESSAGE(e, "no page event within ", ARRIVE_MS, " ms");
		if (e->fd_id == fd_id && (e->type == IOMMULAB_EVENT_PAGE_REQUEST ||
					  e->type == IOMMULAB_EVENT_PAGE_RESPONSE))
			return *e;
	}
}

bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

} // namespace

TEST_CASE("page faults by DMA: a handler that maps each faulting page lets "
	  "several devices write an empty IOVA range, and every byte lands" *
	  IOMMULAB_ONLY)
{
	// Long enough that the first round, held until every device waits,
	// never times out under TCG.
	ScopedSetting timeout(TIMEOUT_MS, "60000");
	REQUIRE(timeout.ok());
	constexpr int NDEV = 3;
	constexpr uint64_t P = 24; // pages per device
	Iommufd fd;
	Ioas ioas(fd);
	FaultQueue q(fd);
	std::vector<std::unique_ptr<Device>> devs;
	for (int d = 0; d < NDEV; d++)
		devs.push_back(std::make_unique<Device>(
			fd, mock_group_alloc(fd, 1, PRI)[0].rid));
	Hwpt hwpt(fd, devs[0]->id(), ioas.id(), 0, q.id());
	for (auto &d : devs)
		d->attach(hwpt.id());
	BasePages mem(NDEV * P * PS, 0);
	auto value = [](int d, uint64_t k) {
		return static_cast<uint8_t>(0x11 + d * 0x40 + k);
	};
	auto index_of = [&devs](uint32_t dev_id) {
		for (int d = 0; d < NDEV; d++)
			if (devs[d]->id() == dev_id)
				return d;
		throw std::runtime_error("a request from an unknown device " +
					 std::to_string(dev_id));
	};

	// Handler state (its thread only, read after the run).
	std::vector<iommu_hwpt_pgfault> held;
	std::set<int> waiting;
	size_t most_waiting = 0;
	long served = 0;
	bool first_round = true;
	std::vector<int> per_dev(NDEV, 0);
	auto serve = [&](const iommu_hwpt_pgfault &r) {
		ioas.map(mem.p + (r.addr - BASE), PS, RW | FIXED, r.addr);
		q.respond(r.cookie, IOMMUFD_PAGE_RESP_SUCCESS);
		served++;
		per_dev[index_of(r.dev_id)]++;
	};

	Concurrent run;
	for (int d = 0; d < NDEV; d++)
		run.add("device" + std::to_string(d), P, [&, d](long i) {
			const uint64_t k = i % P, page = d * P + k;
			std::vector<uint8_t> data(PS, value(d, k));
			DmaResult r = dma(fd, devs[d]->id(), BASE + page * PS,
					  data.data(), PS, true);
			if (!r.ok() || r.done != PS)
				throw std::runtime_error(
					"device " + std::to_string(d) + " page " +
					std::to_string(page) + ": " +
					dma_fault_text(r.fault_reason) + " after " +
					std::to_string(r.done) + " bytes");
		});
	run.add("handler", 1, [&](long) {
		if (!q.readable(50))
			return;
		for (auto &r : q.read(64)) {
			if (r.addr < BASE || r.addr >= BASE + NDEV * P * PS ||
			    r.addr % PS)
				throw std::runtime_error("bad address in a request");
			if (r.perm != IOMMU_PGFAULT_PERM_WRITE ||
			    r.flags != IOMMU_PGFAULT_FLAGS_LAST_PAGE || r.length)
				throw std::runtime_error("bad perm/flags in a request");
			if (!first_round) {
				serve(r);
				continue;
			}
			// The first round is held until every device waits on
			// a request at once: the proof that they overlapped.
			held.push_back(r);
			waiting.insert(index_of(r.dev_id));
			most_waiting = std::max(most_waiting, waiting.size());
			if (waiting.size() < NDEV)
				continue;
			first_round = false;
			for (auto &h : held)
				serve(h);
			held.clear();
		}
	});
	auto res = run.run();
	INFO(res.summary());
	REQUIRE_MESSAGE(res.ok(), res.error);
	for (int d = 0; d < NDEV; d++) {
		CAPTURE(d);
		CHECK(res.count("device" + std::to_string(d)) >= long(P));
		// One request per page, the first write of it.
		CHECK(per_dev[d] == int(P));
	}
	CHECK(most_waiting == size_t(NDEV));
	CHECK(served == long(NDEV * P));
	CHECK(held.empty());
	CHECK_FALSE(q.readable(0));

	// Every byte in its page of memory, and read back by DMA.
	for (int d = 0; d < NDEV; d++)
		for (uint64_t k = 0; k < P; k++) {
			CAPTURE(d);
			CAPTURE(k);
			CHECK(all_bytes(mem.p + (d * P + k) * PS, PS, value(d, k)));
		}
	for (int d = 0; d < NDEV; d++) {
		std::vector<uint8_t> back(NDEV * P * PS, 0);
		DmaResult r = dma(fd, devs[d]->id(), BASE, back.data(), back.size(),
				  false);
		CAPTURE(d);
		REQUIRE(r.ok());
		CHECK(r.done == back.size());
		CHECK(std::memcmp(back.data(), mem.p, back.size()) == 0);
	}
	// Reading mapped pages raised nothing.
	CHECK_FALSE(q.readable(0));
	for (auto &d : devs)
		d->detach();
}

TEST_CASE("page faults by DMA: a burst over empty pages completes through "
	  "the handler, and a read request says READ" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PriRig rig(fd);
	constexpr uint32_t N = 16;
	BasePages mem(N * PS, 0);
	AutoMapper h(rig.q, rig.ioas, mem.p, mem.len);
	std::vector<uint64_t> iovas;

	for (uint32_t i = 0; i < N; i++)
		iovas.push_back(BASE + i * PS + 128);
	DmaResult f;
	CHECK(dma_burst(fd, rig.dev.id(), iovas, 64, true, 0xab,
			IOMMULAB_NO_PASID, &f) == N);
	CHECK(f.ok());
	h.stop();
	REQUIRE_MESSAGE(h.error().empty(), h.error());
	auto recs = h.records();
	REQUIRE(recs.size() == N);
	for (uint32_t i = 0; i < N; i++) {
		CAPTURE(i);
		CHECK(recs[i].addr == BASE + i * PS); // rounded down to 4 KiB
		CHECK(recs[i].perm == IOMMU_PGFAULT_PERM_WRITE);
		CHECK(recs[i].dev_id == rig.dev.id());
		CHECK(all_bytes(mem.p + i * PS, 128, 0));
		CHECK(all_bytes(mem.p + i * PS + 128, 64, 0xab));
		CHECK(all_bytes(mem.p + i * PS + 192, PS - 192, 0));
	}

	// A read of an unmapped page asks for READ, then reads it.
	BasePages more(PS, 0x5c);
	AutoMapper h2(rig.q, rig.ioas, more.p, PS, BASE + N * PS);
	std::vector<uint8_t> back(PS, 0);
	DmaResult r = dma(fd, rig.dev.id(), BASE + N * PS, back.data(), PS, false);
	CHECK(r.ok());
	CHECK(all_bytes(back.data(), PS, 0x5c));
	h2.stop();
	REQUIRE(h2.records().size() == 1);
	CHECK(h2.records()[0].perm == IOMMU_PGFAULT_PERM_READ);
	rig.dev.detach();
}

TEST_CASE("page faults by DMA: a PASID request says PASID_VALID and the "
	  "PASID, and completes through the handler" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PriRig rig(fd, PRI | MOCK_FLAGS_DEVICE_PASID, 0, IOMMU_HWPT_ALLOC_PASID);
	BasePages mem(PS, 0);
	constexpr uint32_t PASID = 0x77;

	rig.dev.detach();
	device_pasid(fd, rig.dev.id(), IOMMULAB_PASID_ATTACH, PASID, rig.hwpt.id());
	AutoMapper h(rig.q, rig.ioas, mem.p, PS);
	DmaResult r = write_pasid(fd, rig.dev.id(), PASID, BASE + 8, 16, 0x3c);
	h.stop();
	REQUIRE_MESSAGE(h.error().empty(), h.error());
	CHECK(r.ok());
	CHECK(r.done == 16);
	CHECK(all_bytes(mem.p + 8, 16, 0x3c));
	CHECK(all_bytes(mem.p, 8, 0));
	auto recs = h.records();
	REQUIRE(recs.size() == 1);
	CHECK(recs[0].flags ==
	      (IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE));
	CHECK(recs[0].pasid == PASID);
	CHECK(recs[0].addr == BASE);
	device_pasid(fd, rig.dev.id(), IOMMULAB_PASID_DETACH, PASID);
}

TEST_CASE("page faults by DMA: TRIGGER_IOPF on a PASID goes to the HWPT "
	  "attached to that PASID (upstream's PASID test ops)" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	Ioas ioas(fd);
	MockDomain md(fd, ioas.id(), MOCK_FLAGS_DEVICE_PASID);
	FaultQueue rid_q(fd), pasid_q(fd);
	Hwpt rid_hwpt(fd, md.idev_id(), ioas.id(), IOMMU_HWPT_ALLOC_PASID, rid_q.id());
	Hwpt pasid_hwpt(fd, md.idev_id(), ioas.id(), IOMMU_HWPT_ALLOC_PASID,
			pasid_q.id());
	Hwpt plain(fd, md.idev_id(), ioas.id(), IOMMU_HWPT_ALLOC_PASID);
	auto pasid_op = [&](uint32_t op, uint32_t pasid, uint32_t pt) {
		auto cmd = test_cmd(op, md.stdev_id());
		cmd.pasid_attach.pasid = pasid;
		cmd.pasid_attach.pt_id = pt;
		return send(fd, IOMMU_TEST_CMD, cmd);
	};

	md.replace(rid_hwpt.id());
	REQUIRE(pasid_op(IOMMU_TEST_OP_PASID_ATTACH, 5, pasid_hwpt.id()) == 0);
	trigger_iopf(fd, md.idev_id(), 5, 1, IOMMU_PGFAULT_PERM_READ, 0x1000000);
	auto r = next_request(pasid_q);
	CHECK(r.flags == (IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE));
	CHECK(r.pasid == 5);
	CHECK(r.grpid == 1);
	CHECK_FALSE(rid_q.readable(0));
	pasid_q.respond(r.cookie);
	// The RID's fault goes to the RID's queue.
	trigger_iopf(fd, md.idev_id(), 0, 2, IOMMU_PGFAULT_PERM_WRITE, 0x1001000);
	r = next_request(rid_q);
	CHECK(r.flags == IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	CHECK(r.grpid == 2);
	CHECK_FALSE(pasid_q.readable(0));
	rid_q.respond(r.cookie);

	// Replacing the PASID's HWPT answers its pending faults; detach too.
	trigger_iopf(fd, md.idev_id(), 5, 3, IOMMU_PGFAULT_PERM_READ, 0x1002000);
	r = next_request(pasid_q);
	trigger_iopf(fd, md.idev_id(), 5, 4, IOMMU_PGFAULT_PERM_READ, 0x1003000);
	REQUIRE(pasid_q.readable(ARRIVE_MS));
	REQUIRE(pasid_op(IOMMU_TEST_OP_PASID_REPLACE, 5, plain.id()) == 0);
	CHECK(pasid_q.read().empty());
	iommu_hwpt_page_response late{r.cookie, 0};
	CHECK(::write(pasid_q.fd(), &late, sizeof(late)) == -1);
	CHECK(errno == EINVAL);
	REQUIRE(pasid_op(IOMMU_TEST_OP_PASID_REPLACE, 5, pasid_hwpt.id()) == 0);
	trigger_iopf(fd, md.idev_id(), 5, 5, IOMMU_PGFAULT_PERM_READ, 0x1004000);
	r = next_request(pasid_q);
	auto det = test_cmd(IOMMU_TEST_OP_PASID_DETACH, md.stdev_id());
	det.pasid_detach.pasid = 5;
	REQUIRE(send(fd, IOMMU_TEST_CMD, det) == 0);
	late.cookie = r.cookie;
	CHECK(::write(pasid_q.fd(), &late, sizeof(late)) == -1);
	CHECK(errno == EINVAL);
	// Nothing attached to the PASID: nothing queued anywhere.
	CHECK(trigger_raw_ok(fd, md.idev_id(), 5));
	CHECK_FALSE(pasid_q.readable(0));
	CHECK_FALSE(rid_q.readable(0));
	md.replace(ioas.id());
}

TEST_CASE("page faults by DMA: a request nobody reads times out after "
	  "iopf_timeout_ms, and the device goes on" *
	  IOMMULAB_ONLY)
{
	ScopedSetting timeout(TIMEOUT_MS, "200");
	REQUIRE(timeout.ok());
	Iommufd fd;
	PriRig rig(fd);
	BasePages mem(2 * PS, 0x11);

	DmaResult r = dma_fill(fd, rig.dev.id(), BASE + 16, 64, 0xee);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_TIMEOUT);
	CHECK(r.done == 0);
	CHECK(r.fault_iova == BASE + 16);
	std::vector<uint8_t> back(64, 0);
	r = dma(fd, rig.dev.id(), BASE + PS, back.data(), 64, false);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_TIMEOUT);
	CHECK(r.done == 0);
	// Timed out: answered, so a late response finds nothing.
	for (auto &rec : rig.q.read(8)) {
		iommu_hwpt_page_response late{rec.cookie, 0};
		CHECK(::write(rig.q.fd(), &late, sizeof(late)) == -1);
		CHECK(errno == EINVAL);
	}
	// Not stuck: with the page mapped, the same DMA completes.
	rig.map_page(mem.p, BASE);
	r = dma_fill(fd, rig.dev.id(), BASE + 16, 64, 0xee);
	CHECK(r.ok());
	CHECK(all_bytes(mem.p + 16, 64, 0xee));
	CHECK(all_bytes(mem.p + 80, PS - 80, 0x11));
	CHECK(all_bytes(mem.p + PS, PS, 0x11));
	rig.dev.detach();
}

TEST_CASE("page faults by DMA: a queue holding iopf_queue_depth unanswered "
	  "requests refuses the next at once (PRQ_FULL), and takes it again "
	  "once one is answered" *
	  IOMMULAB_ONLY)
{
	ScopedSetting depth(QUEUE_DEPTH, "3");
	REQUIRE(depth.ok());
	// a and b below must still wait when checked.
	ScopedSetting timeout(TIMEOUT_MS, "60000");
	REQUIRE(timeout.ok());
	Iommufd fd;
	PriRig rig(fd);
	BasePages mem(8 * PS, 0);

	// Two DMAs waiting (one read, one not) and one trigger: 3 unanswered.
	auto a = async_write(fd, rig.dev.id(), BASE, 32, 0xa1);
	auto ra = next_request(rig.q);
	auto b = async_write(fd, rig.dev.id(), BASE + PS, 32, 0xb2);
	REQUIRE(rig.q.readable(ARRIVE_MS));
	trigger_iopf(fd, rig.dev.id(), 0, 9, IOMMU_PGFAULT_PERM_READ, BASE + 7 * PS);

	DmaResult r = dma_fill(fd, rig.dev.id(), BASE + 2 * PS, 32, 0xc3);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_FULL);
	CHECK(r.done == 0);
	CHECK(r.fault_iova == BASE + 2 * PS);
	CHECK(all_bytes(mem.p, mem.len, 0));
	// a and b still wait (the full queue did not disturb them).
	CHECK_FALSE(a->done);
	CHECK_FALSE(b->done);

	// Answer a (mapped): it completes, and room is made.
	rig.map_page(mem.p, BASE);
	rig.q.respond(ra.cookie);
	a->wait();
	CHECK(a->err == 0);
	CHECK(a->r.ok());
	CHECK(all_bytes(mem.p, 32, 0xa1));
	{
		AutoMapper h(rig.q, rig.ioas, mem.p, mem.len);
		r = dma_fill(fd, rig.dev.id(), BASE + 2 * PS, 32, 0xc3);
		CHECK(r.ok());
		b->wait();
		h.stop();
		REQUIRE_MESSAGE(h.error().empty(), h.error());
	}
	CHECK(b->err == 0);
	CHECK(b->r.ok());
	CHECK(all_bytes(mem.p + PS, 32, 0xb2));
	CHECK(all_bytes(mem.p + 2 * PS, 32, 0xc3));
	rig.dev.detach();
}

TEST_CASE("page faults by DMA: an INVALID response faults the DMA "
	  "(PRQ_INVALID) and nothing is written, even to a page mapped by then" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PriRig rig(fd);
	BasePages mem(PS, 0x22);

	auto a = async_write(fd, rig.dev.id(), BASE + 100, 50, 0x99);
	auto rec = next_request(rig.q);
	CHECK(rec.addr == BASE);
	CHECK(rec.perm == IOMMU_PGFAULT_PERM_WRITE);
	rig.map_page(mem.p, BASE);
	rig.q.respond(rec.cookie, IOMMUFD_PAGE_RESP_INVALID);
	a->wait();
	CHECK(a->err == 0);
	CHECK(a->r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_INVALID);
	CHECK(a->r.done == 0);
	CHECK(a->r.fault_iova == BASE + 100);
	CHECK(all_bytes(mem.p, PS, 0x22));
	// Answered once: the cookie is spent.
	iommu_hwpt_page_response again{rec.cookie, 0};
	CHECK(::write(rig.q.fd(), &again, sizeof(again)) == -1);
	CHECK(errno == EINVAL);
	rig.dev.detach();
}

TEST_CASE("page faults by DMA: SUCCESS without fixing the IOPTE faults with "
	  "the plain reason, after one request" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;
	PriRig rig(fd);
	BasePages mem(PS, 0x33);

	SUBCASE("not mapped")
	{
		auto a = async_write(fd, rig.dev.id(), BASE, 8, 0x44);
		rig.q.respond(next_request(rig.q).cookie);
		a->wait();
		CHECK(a->r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
		CHECK(a->r.done == 0);
	}
	SUBCASE("read-only: a write asks for WRITE, then is refused")
	{
		rig.map_page(mem.p, BASE, IOMMU_IOAS_MAP_READABLE);
		auto a = async_write(fd, rig.dev.id(), BASE, 8, 0x44);
		auto rec = next_request(rig.q);
		CHECK(rec.perm == IOMMU_PGFAULT_PERM_WRITE);
		rig.q.respond(rec.cookie);
		a->wait();
		CHECK(a->r.fault_reason == IOMMULAB_DMA_FAULT_PERMISSION);
		CHECK(a->r.done == 0);
		CHECK(all_bytes(mem.p, PS, 0x33));
		// And a read of it raises nothing.
		std::vector<uint8_t> back(8, 0);
		CHECK(dma(fd, rig.dev.id(), BASE, back.data(), 8, false).ok());
		CHECK(all_bytes(back.data(), 8, 0x33));
	}
	// One request only: nothing more was queued.
	CHECK_FALSE(rig.q.readable(0));
	rig.dev.detach();
}

// Each way of ending the wait, with the request read first and not read.
// Plain loops, not subcases: sibling subcases are entered one per run, so
// a "read first" subcase beside the ways would run on its own, with no way
// taken, and only wait out iopf_timeout_ms.
TEST_CASE("page faults by DMA: closing the fault fd, detaching, replacing or "
	  "unbinding while a DMA waits ends it with PRQ_INVALID" *
	  IOMMULAB_ONLY)
{
	enum End { CLOSE_FD, DETACH, REPLACE, UNBIND };
	const char *const names[] = { "close the fault fd", "detach",
				      "replace by a HWPT without a queue",
				      "unbind the device" };

	for (End end : { CLOSE_FD, DETACH, REPLACE, UNBIND }) {
		for (bool read_first : { true, false }) {
			const char *how = names[end];
			CAPTURE(how);
			CAPTURE(read_first);
			Iommufd fd;
			PriRig rig(fd);
			BasePages mem(PS, 0x55);
			// By RID: the unbind case must not hold the device's ID.
			auto a = async_write(fd, rig.md.rid, BASE, 16, 0x66, true);

			if (read_first)
				(void)next_request(rig.q);
			else
				REQUIRE(rig.q.readable(ARRIVE_MS));
			switch (end) {
			case CLOSE_FD:
				rig.q.close_fd();
				break;
			case DETACH:
				rig.dev.detach();
				break;
			case REPLACE: {
				Hwpt plain(fd, rig.dev.id(), rig.ioas.id());
				rig.dev.attach(plain.id());
				a->wait();
				rig.dev.detach();
				break;
			}
			case UNBIND:
				rig.dev.destroy();
				break;
			}
			a->wait();
			CHECK(a->err == 0);
			CHECK(a->r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_INVALID);
			CHECK(a->r.done == 0);
			CHECK(all_bytes(mem.p, PS, 0x55));
			if (end == CLOSE_FD) {
				// A closed queue takes no request: the next DMA
				// faults at once with the same reason.
				DmaResult r = dma_fill(fd, rig.dev.id(), BASE, 16,
						       0x66);
				CHECK(r.fault_reason != IOMMULAB_DMA_FAULT_NONE);
				CHECK(r.done == 0);
			} else {
				// Nothing more was queued, and the one request
				// is gone unless it was read.
				CHECK_FALSE(rig.q.readable(0));
			}
		}
	}
}

namespace {
void on_sigusr1(int) {}

// Installs on_sigusr1 without SA_RESTART; puts the old action back.
struct Sigusr1 {
	struct sigaction old {};
	bool ok = false;
	Sigusr1()
	{
		struct sigaction sa {};
		sa.sa_handler = on_sigusr1;
		sigemptyset(&sa.sa_mask);
		ok = sigaction(SIGUSR1, &sa, &old) == 0;
	}
	~Sigusr1()
	{
		if (ok)
			sigaction(SIGUSR1, &old, nullptr);
	}
};
} // namespace

TEST_CASE("page faults by DMA: a signal ends a DMA waiting for its response "
	  "with EINTR" *
	  IOMMULAB_ONLY)
{
	Sigusr1 sig;
	REQUIRE(sig.ok);
	Iommufd fd;
	PriRig rig(fd);
	BasePages mem(PS, 0x77);

	auto a = async_write(fd, rig.dev.id(), BASE, 16, 0x88);
	auto rec = next_request(rig.q);
	REQUIRE(pthread_kill(a->t.native_handle(), SIGUSR1) == 0);
	a->wait();
	CHECK(a->err == EINTR);
	// The request was answered for it: its cookie is spent, and the
	// device goes on.
	rig.map_page(mem.p, BASE);
	iommu_hwpt_page_response late{rec.cookie, 0};
	CHECK(::write(rig.q.fd(), &late, sizeof(late)) == -1);
	CHECK(errno == EINVAL);
	CHECK(all_bytes(mem.p, PS, 0x77));
	CHECK(dma_fill(fd, rig.dev.id(), BASE, 16, 0x88).ok());
	CHECK(all_bytes(mem.p, 16, 0x88));
	rig.dev.detach();
}

TEST_CASE("page faults by DMA: a device without PRI, or a HWPT without a "
	  "queue, faults at once; a NO_IOPF device takes no fault queue" *
	  IOMMULAB_ONLY)
{
	Iommufd fd;

	SUBCASE("no PRI, HWPT with a queue")
	{
		PriRig rig(fd, 0);
		DmaResult r = dma_fill(fd, rig.dev.id(), BASE, 16, 1);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
		CHECK(r.done == 0);
		CHECK_FALSE(rig.q.readable(0));
		rig.dev.detach();
	}
	SUBCASE("PRI, HWPT without a queue")
	{
		Ioas ioas(fd);
		Device dev(fd, mock_group_alloc(fd, 1, PRI)[0].rid);
		Hwpt plain(fd, dev.id(), ioas.id());
		dev.attach(plain.id());
		DmaResult r = dma_fill(fd, dev.id(), BASE, 16, 1);
		CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_NOT_MAPPED);
		CHECK(r.done == 0);
		dev.detach();
	}
	SUBCASE("NO_IOPF: neither allocated for it nor attached to it")
	{
		Ioas ioas(fd);
		FaultQueue q(fd);
		Device no(fd, mock_group_alloc(fd, 1, IOMMULAB_MOCK_DEV_NO_IOPF)[0].rid);
		Device yes(fd, mock_group_alloc(fd, 1, PRI)[0].rid);
		const uint32_t before = OBJECTS_NOW(fd);
		try {
			hwpt_alloc(fd, no.id(), ioas.id(), 0, 0, nullptr, 0, q.id());
			FAIL("a fault-capable HWPT for a NO_IOPF device");
		} catch (const Error &e) {
			CHECK(e.err() == EOPNOTSUPP);
		}
		CHECK_OBJECTS(fd, before);
		Hwpt with_queue(fd, yes.id(), ioas.id(), 0, q.id());
		try {
			no.attach(with_queue.id());
			FAIL("a NO_IOPF device attached to a HWPT with a queue");
		} catch (const Error &e) {
			CHECK(e.err() == EOPNOTSUPP);
		}
		// It takes a HWPT without a queue.
		Hwpt plain(fd, no.id(), ioas.id());
		CHECK(no.attach(plain.id()) == plain.id());
		no.detach();
		// PRI and NO_IOPF together: EINVAL.
		try {
			mock_group_alloc(fd, 1, PRI | IOMMULAB_MOCK_DEV_NO_IOPF);
			FAIL("PRI with NO_IOPF");
		} catch (const Error &e) {
			CHECK(e.err() == EINVAL);
		}
	}
	SUBCASE("NO_IOPF by MOCK_DOMAIN_FLAGS: replace onto a queue refused")
	{
		Ioas ioas(fd);
		FaultQueue q(fd);
		MockDomain md(fd, ioas.id(), IOMMULAB_MOCK_DEV_NO_IOPF);
		MockDomain ok(fd, ioas.id());
		Hwpt with_queue(fd, ok.idev_id(), ioas.id(), 0, q.id());
		auto cmd = test_cmd(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, md.stdev_id());
		cmd.mock_domain_replace.pt_id = with_queue.id();
		CHECK(send(fd, IOMMU_TEST_CMD, cmd) == EOPNOTSUPP);
	}
}

TEST_CASE("page faults by DMA: one PAGE_REQUEST and one PAGE_RESPONSE event "
	  "per request, with the same identifiers" *
	  IOMMULAB_ONLY)
{
	Monitor m(Monitor::Mode::multicast);
	Iommufd fd;
	const uint32_t me = fd.info().fd_id;
	constexpr uint64_t COOKIE = 0xc0ffee12345ULL;
	PriRig rig(fd, PRI, COOKIE);
	BasePages mem(2 * PS, 0);
	auto same_ids = [&](const Event &e, uint32_t cookie, uint64_t addr,
			    uint32_t perm) {
		CHECK(e.fault_id == rig.q.id());
		CHECK(e.fault_cookie == cookie);
		CHECK(e.dev_id == rig.dev.id());
		CHECK(e.rid == rig.md.rid);
		CHECK(e.dev_cookie == COOKIE);
		CHECK(e.pt_id == rig.hwpt.id());
		CHECK(e.addr == addr);
		CHECK(e.perm == perm);
		CHECK(e.grpid.has_value());
		CHECK_FALSE(e.pasid.has_value());
	};

	// A DMA answered SUCCESS by the user.
	auto a = async_write(fd, rig.dev.id(), BASE + PS + 4, 4, 0x12);
	auto rec = next_request(rig.q);
	Event req = next_page_event(m, me);
	CHECK(req.type == IOMMULAB_EVENT_PAGE_REQUEST);
	same_ids(req, rec.cookie, BASE + PS, IOMMU_PGFAULT_PERM_WRITE);
	CHECK(req.grpid == rec.grpid);
	CHECK_FALSE(req.code.has_value());
	CHECK_FALSE(req.resp_by.has_value());
	rig.map_page(mem.p + PS, BASE + PS);
	rig.q.respond(rec.cookie);
	a->wait();
	CHECK(a->r.ok());
	Event resp = next_page_event(m, me);
	CHECK(resp.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	same_ids(resp, rec.cookie, BASE + PS, IOMMU_PGFAULT_PERM_WRITE);
	CHECK(resp.code == uint32_t(IOMMUFD_PAGE_RESP_SUCCESS));
	CHECK(resp.resp_by == uint32_t(IOMMULAB_RESP_BY_USER));
	CHECK(resp.seq > req.seq);

	// TRIGGER_IOPF, answered INVALID by the user.
	trigger_iopf(fd, rig.dev.id(), 0, 42, IOMMU_PGFAULT_PERM_READ, BASE);
	rec = next_request(rig.q);
	req = next_page_event(m, me);
	CHECK(req.type == IOMMULAB_EVENT_PAGE_REQUEST);
	same_ids(req, rec.cookie, BASE, IOMMU_PGFAULT_PERM_READ);
	CHECK(req.grpid == 42u);
	rig.q.respond(rec.cookie, IOMMUFD_PAGE_RESP_INVALID);
	resp = next_page_event(m, me);
	CHECK(resp.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	CHECK(resp.fault_cookie == rec.cookie);
	CHECK(resp.code == uint32_t(IOMMUFD_PAGE_RESP_INVALID));
	CHECK(resp.resp_by == uint32_t(IOMMULAB_RESP_BY_USER));

	// A waiting DMA answered by the detach.
	a = async_write(fd, rig.dev.id(), BASE, 4, 0x34);
	rec = next_request(rig.q);
	req = next_page_event(m, me);
	CHECK(req.type == IOMMULAB_EVENT_PAGE_REQUEST);
	CHECK(req.fault_cookie == rec.cookie);
	rig.dev.detach();
	a->wait();
	CHECK(a->r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_INVALID);
	resp = next_page_event(m, me);
	CHECK(resp.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	CHECK(resp.fault_cookie == rec.cookie);
	CHECK(resp.code == uint32_t(IOMMUFD_PAGE_RESP_INVALID));
	CHECK(resp.resp_by == uint32_t(IOMMULAB_RESP_BY_DETACH));
	CHECK(resp.dev_id == rig.dev.id());
}

TEST_CASE("page faults by DMA: a full queue's refusal is a PAGE_RESPONSE "
	  "(by full) with no PAGE_REQUEST before it; a timeout's is by timeout" *
	  IOMMULAB_ONLY)
{
	ScopedSetting depth(QUEUE_DEPTH, "1");
	REQUIRE(depth.ok());
	ScopedSetting timeout(TIMEOUT_MS, "300");
	REQUIRE(timeout.ok());
	Monitor m(Monitor::Mode::multicast);
	Iommufd fd;
	const uint32_t me = fd.info().fd_id;
	PriRig rig(fd);

	trigger_iopf(fd, rig.dev.id(), 0, 1, IOMMU_PGFAULT_PERM_READ, BASE + PS);
	auto rec = next_request(rig.q);
	Event e = next_page_event(m, me);
	CHECK(e.type == IOMMULAB_EVENT_PAGE_REQUEST);
	CHECK(e.fault_cookie == rec.cookie);
	DmaResult r = dma_fill(fd, rig.dev.id(), BASE, 4, 1);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_FULL);
	e = next_page_event(m, me);
	CHECK(e.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	CHECK(e.resp_by == uint32_t(IOMMULAB_RESP_BY_FULL));
	CHECK(e.code == uint32_t(IOMMUFD_PAGE_RESP_INVALID));
	CHECK(e.addr == BASE);
	rig.q.respond(rec.cookie);
	e = next_page_event(m, me);
	CHECK(e.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	CHECK(e.fault_cookie == rec.cookie);
	CHECK(e.resp_by == uint32_t(IOMMULAB_RESP_BY_USER));

	r = dma_fill(fd, rig.dev.id(), BASE, 4, 1);
	CHECK(r.fault_reason == IOMMULAB_DMA_FAULT_PRQ_TIMEOUT);
	e = next_page_event(m, me);
	CHECK(e.type == IOMMULAB_EVENT_PAGE_REQUEST);
	const uint32_t cookie = e.fault_cookie.value_or(0);
	e = next_page_event(m, me);
	CHECK(e.type == IOMMULAB_EVENT_PAGE_RESPONSE);
	CHECK(e.fault_cookie == cookie);
	CHECK(e.resp_by == uint32_t(IOMMULAB_RESP_BY_TIMEOUT));
	rig.dev.detach();
}
