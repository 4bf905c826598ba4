// SPDX-License-Identifier: GPL-2.0
// iommulab CLI: thin CLI11 front end over the library.
//
// Every subcommand can run alone, or many can run from a scenario file with
// `iommulab run FILE`, all on one open fd (iommufd objects die with the fd)
// unless `fd NAME` switches to another (one fd per VM, say). In a scenario,
// `--as NAME` remembers an ID as $NAME for later lines, and a line starting
// with `! ERRNO` expects that command to fail with ERRNO.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <fstream>
#include <iostream>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <poll.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "dirty_summary.hpp"
#include "iommulab.hpp"
#include "monitor.hpp"

using namespace iommulab;

namespace {

struct Session {
	std::string device = default_device_path();
	// The open fds by name ("main" first); commands use the current one.
	std::map<std::string, std::unique_ptr<Iommufd>> fds;
	std::string current = "main";
	std::map<std::string, uint32_t> vars;
	std::vector<std::unique_ptr<MockDomain>> mock_domains;
	// Fault queues by ID, and auto-map handlers on them (declared after
	// the fds: they go first).
	std::map<uint32_t, std::unique_ptr<FaultQueue>> faults;
	std::map<uint32_t, std::unique_ptr<struct AutoMap>> automaps;

	// Scenario devices live until the scenario ends.
	void keep_mock_domain(MockDomain &&md)
	{
		mock_domains.push_back(std::make_unique<MockDomain>(std::move(md)));
	}

	const Iommufd &iommufd()
	{
		auto &fd = fds[current];
		if (!fd) {
			fd = std::make_unique<Iommufd>(device);
			std::cout << "opened " << device << " as fd '" << current
				  << "' (fd " << fd->fd() << ")\n";
		}
		return *fd;
	}

	void bind(const std::string &name, uint32_t id)
	{
		if (!name.empty()) {
			vars[name] = id;
			std::cout << "  $" << name << " = " << id << "\n";
		}
	}
	// Prints mock devices; with --as NAME, $NAME<i> is the i-th one's RID
	// (or handle) and $NAME<i>_stdev its stdev ID.
	void show_devs(const std::vector<MockDev> &devs, const char *what,
		       const char *rid_name, CLI::Option *as)
	{
		for (size_t i = 0; i < devs.size(); i++) {
			std::cout << "  " << what << " " << i << ": " << rid_name
				  << " 0x" << std::hex << devs[i].rid << std::dec
				  << ", stdev " << devs[i].stdev_id << "\n";
			if (as->empty())
				continue;
			std::string n = as->as<std::string>() + std::to_string(i);
			bind(n, devs[i].rid);
			bind(n + "_stdev", devs[i].stdev_id);
		}
	}
};

int run_scenario(Session &s, const std::string &path);

std::string size_name(uint64_t n);
std::string hex_of(uint64_t v);

// `fault auto-map`: a thread answering every page request of a queue by
// mapping the faulting page from its own buffer (IOVA @base is the
// buffer's first byte) into @ioas and responding SUCCESS. What it did is
// printed when it stops (`fault stop`, or the end of the scenario), so the
// scenario's output stays in order.
struct AutoMap {
	std::vector<std::string> log;
	std::string error;
	uint64_t served = 0;
	std::atomic<bool> stop{false};
	std::mutex lock;
	uint8_t *mem;
	uint64_t base, len;
	std::thread t;

	AutoMap(const FaultQueue &q, const Iommufd &fd, uint32_t ioas, uint64_t base_,
		uint64_t len_, uint8_t fill)
		: mem(static_cast<uint8_t *>(mmap(nullptr, len_, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))),
		  base(base_), len(len_)
	{
		if (mem == MAP_FAILED)
			throw Error("mmap", errno);
		std::memset(mem, fill, len);
		t = std::thread([this, &q, &fd, ioas] { run(q, Ioas(fd, ioas)); });
	}
	~AutoMap()
	{
		finish();
		munmap(mem, len);
	}
	void finish()
	{
		stop = true;
		if (t.joinable())
			t.join();
	}
	void run(const FaultQueue &q, Ioas ioas)
	{
		try {
			while (!stop) {
				if (!q.readable(20))
					continue;
				for (const auto &r : q.read(64))
					answer(q, ioas, r);
			}
		} catch (const std::exception &e) {
			std::lock_guard<std::mutex> g(lock);
			error = e.what();
		}
		ioas.release();
	}
	void answer(const FaultQueue &q, const Ioas &ioas, const iommu_hwpt_pgfault &r)
	{
		const uint64_t page = r.addr & ~4095ULL;
		std::ostringstream o;
		o << "page request: device " << r.dev_id << " "
		  << (r.perm & IOMMU_PGFAULT_PERM_WRITE ? "write" : "read") << " at 0x"
		  << std::hex << r.addr << std::dec;
		if (r.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
			o << " PASID " << r.pasid;
		uint32_t code = IOMMUFD_PAGE_RESP_INVALID;
		if (page >= base && page - base < len) {
			ioas.map(mem + (page - base), 4096,
				 IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
					 IOMMU_IOAS_MAP_FIXED_IOVA,
				 page);
			code = IOMMUFD_PAGE_RESP_SUCCESS;
			o << ": mapped a page, SUCCESS";
		} else {
			o << ": outside the buffer, INVALID";
		}
		q.respond(r.cookie, code);
		std::lock_guard<std::mutex> g(lock);
		log.push_back(o.str());
		served++;
	}
	// Stops it and prints what it did.
	void report(uint32_t id)
	{
		finish();
		for (const auto &l : log)
			std::cout << "  " << l << "\n";
		std::cout << "fault queue " << id << ": auto-map answered " << served
			  << " request(s)\n";
		if (!error.empty())
			throw std::runtime_error("auto-map: " + error);
	}
};

const FaultQueue &fault_queue(Session &s, uint32_t id)
{
	auto it = s.faults.find(id);
	if (it == s.faults.end())
		throw CLI::ValidationError("queue", "no fault queue " + std::to_string(id) +
							    " opened by `fault alloc`");
	return *it->second;
}

const char *perm_name(uint32_t perm)
{
	return perm & IOMMU_PGFAULT_PERM_WRITE ? (perm & IOMMU_PGFAULT_PERM_READ ? "read+write" : "write")
					      : "read";
}

// `fault`: fault queues, page requests and their responses (issue 13).
void add_fault_commands(CLI::App &app, Session &s)
{
	auto *f = app.add_subcommand("fault", "I/O page fault queues (IOMMU_FAULT_QUEUE_ALLOC)");
	f->require_subcommand(1);
	auto *fa = f->add_subcommand("alloc", "open a fault queue (kept open until the end)");
	auto *fa_as = fa->add_option("--as", "name for the queue ID");
	fa->callback([&s, fa_as] {
		auto q = std::make_unique<FaultQueue>(s.iommufd());
		const uint32_t id = q->id();
		std::cout << "fault queue " << id << ", fault fd " << q->fd() << "\n";
		s.faults[id] = std::move(q);
		s.bind(fa_as->empty() ? "" : fa_as->as<std::string>(), id);
	});
	auto *fr = f->add_subcommand("read", "read the pending page requests (never waits)");
	auto *fr_q = fr->add_option("queue", "fault queue ID")->required();
	auto *fr_as = fr->add_option("--as", "name for the first request's cookie");
	auto *fr_n = fr->add_option("--expect", "fail unless exactly N are read");
	fr->callback([&s, fr_q, fr_as, fr_n] {
		auto recs = fault_queue(s, fr_q->as<uint32_t>()).read();
		for (const auto &r : recs) {
			std::cout << "  cookie " << r.cookie << ": device " << r.dev_id << " "
				  << perm_name(r.perm) << " at " << "0x" << std::hex << r.addr
				  << std::dec << ", group " << r.grpid;
			if (r.flags & IOMMU_PGFAULT_FLAGS_PASID_VALID)
				std::cout << ", PASID " << r.pasid;
			std::cout << ((r.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) ? ", last" : "")
				  << "\n";
		}
		std::cout << recs.size() << " page request(s)\n";
		if (!recs.empty())
			s.bind(fr_as->empty() ? "" : fr_as->as<std::string>(), recs[0].cookie);
		if (!fr_n->empty() && recs.size() != fr_n->as<size_t>())
			throw std::runtime_error("fault read: " + std::to_string(recs.size()) +
						 " requests, expected " + fr_n->as<std::string>());
	});
	auto *fp = f->add_subcommand("respond", "answer a page request group by its cookie");
	auto *fp_q = fp->add_option("queue", "fault queue ID")->required();
	auto *fp_c = fp->add_option("cookie", "the cookie `fault read` printed")->required();
	CLI::Option *fp_inv = fp->add_flag("--invalid")->description(
		"IOMMUFD_PAGE_RESP_INVALID (default: SUCCESS)");
	fp->callback([&s, fp_q, fp_c, fp_inv] {
		const bool inv = fp_inv->count() > 0;
		fault_queue(s, fp_q->as<uint32_t>())
			.respond(fp_c->as<uint32_t>(),
				 inv ? IOMMUFD_PAGE_RESP_INVALID : IOMMUFD_PAGE_RESP_SUCCESS);
		std::cout << "cookie " << fp_c->as<uint32_t>() << " answered "
			  << (inv ? "INVALID" : "SUCCESS") << "\n";
	});
	auto *ft = f->add_subcommand("trigger", "IOMMU_TEST_OP_TRIGGER_IOPF: a mock device "
						"reports one fault");
	auto *ft_dev = ft->add_option("dev", "device ID")->required();
	auto *ft_addr = ft->add_option("addr", "faulting address")->required();
	auto *ft_pasid = ft->add_option("--pasid", "the PASID (default 0: the RID)")->default_val(0);
	auto *ft_grp = ft->add_option("--grpid", "page request group")->default_val(0);
	CLI::Option *ft_w = ft->add_flag("--write")->description("a write (default: a read)");
	ft->callback([&s, ft_dev, ft_addr, ft_pasid, ft_grp, ft_w] {
		trigger_iopf(s.iommufd(), ft_dev->as<uint32_t>(), ft_pasid->as<uint32_t>(),
			     ft_grp->as<uint32_t>(),
			     ft_w->count() ? IOMMU_PGFAULT_PERM_WRITE : IOMMU_PGFAULT_PERM_READ,
			     ft_addr->as<uint64_t>());
		std::cout << "fault triggered\n";
	});
	auto *fm = f->add_subcommand(
		"auto-map", "answer every page request of a queue in the background: map "
			    "the page from a buffer of its own into an IOAS, respond SUCCESS "
			    "(a request outside the buffer: INVALID)");
	auto *fm_q = fm->add_option("queue", "fault queue ID")->required();
	auto *fm_ioas = fm->add_option("ioas", "IOAS to map into")->required();
	auto *fm_iova = fm->add_option("iova", "IOVA of the buffer's first byte")->required();
	auto *fm_len = fm->add_option("length", "buffer bytes (whole 4 KiB pages)")->required();
	auto *fm_fill = fm->add_option("--fill", "every byte of the buffer")->default_val(0);
	fm->callback([&s, fm_q, fm_ioas, fm_iova, fm_len, fm_fill] {
		const uint32_t id = fm_q->as<uint32_t>();
		const auto &q = fault_queue(s, id);
		if (s.automaps.count(id))
			throw CLI::ValidationError("queue", "auto-map already runs on it");
		s.automaps[id] = std::make_unique<AutoMap>(
			q, s.iommufd(), fm_ioas->as<uint32_t>(), fm_iova->as<uint64_t>(),
			fm_len->as<uint64_t>(), static_cast<uint8_t>(fm_fill->as<unsigned>()));
		std::cout << "fault queue " << id << ": auto-map into IOAS "
			  << fm_ioas->as<uint32_t>() << ", IOVA " << hex_of(fm_iova->as<uint64_t>())
			  << " + " << size_name(fm_len->as<uint64_t>()) << "\n";
	});
	auto *fs = f->add_subcommand("stop", "stop a queue's auto-map; print what it answered");
	auto *fs_q = fs->add_option("queue", "fault queue ID")->required();
	auto *fs_n = fs->add_option("--expect", "fail unless it answered exactly N");
	fs->callback([&s, fs_q, fs_n] {
		const uint32_t id = fs_q->as<uint32_t>();
		auto it = s.automaps.find(id);
		if (it == s.automaps.end())
			throw CLI::ValidationError("queue", "no auto-map on it");
		std::unique_ptr<AutoMap> m = std::move(it->second);
		s.automaps.erase(it);
		m->report(id);
		if (!fs_n->empty() && m->served != fs_n->as<uint64_t>())
			throw std::runtime_error("fault stop: answered " + std::to_string(m->served) +
						 ", expected " + fs_n->as<std::string>());
	});
	auto *fc = f->add_subcommand("close", "close a queue's fault fd (pending requests "
					       "are answered INVALID) and destroy it when it can");
	auto *fc_q = fc->add_option("queue", "fault queue ID")->required();
	fc->callback([&s, fc_q] {
		const uint32_t id = fc_q->as<uint32_t>();
		fault_queue(s, id);
		if (auto it = s.automaps.find(id); it != s.automaps.end()) {
			it->second->report(id);
			s.automaps.erase(it);
		}
		auto q = std::move(s.faults[id]);
		s.faults.erase(id);
		q->close_fd();
		std::cout << "fault queue " << id << ": fd closed\n";
		// A HWPT may still use it: then the fd's close destroys it.
		q->release();
	});
}

// `set`, `pasid` and `aux`: IOASID sets, the PASID attach path and the
// aux-domain path.
void add_pasid_commands(CLI::App &app, Session &s)
{
	auto *set = app.add_subcommand("set", "IOASID sets");
	set->require_subcommand(1);
	auto *sa = set->add_subcommand("alloc", "a set of this fd (token: this process)");
	auto *sa_quota = sa->add_option("quota", "most PASIDs at once")->required();
	auto *sa_token = sa->add_option("--token", "a token value instead of the process");
	auto *sa_as = sa->add_option("--as", "name for the set ID");
	sa->callback([&s, sa_quota, sa_token, sa_as] {
		IoasidSet set(s.iommufd(), sa_quota->as<uint32_t>(),
			      sa_token->empty() ? 0 : sa_token->as<uint64_t>());
		std::cout << "IOASID set " << set.id() << ", quota "
			  << sa_quota->as<uint32_t>() << ", token id "
			  << set.token_id() << "\n";
		s.bind(sa_as->empty() ? "" : sa_as->as<std::string>(), set.id());
		set.release();
	});
	auto *si = set->add_subcommand("info", "a set's quota and counts");
	auto *si_set = si->add_option("set", "set ID")->required();
	si->callback([&s, si_set] {
		IoasidSetInfo i = ioasid_set_info(s.iommufd(), si_set->as<uint32_t>());
		std::cout << "quota " << i.quota << ", " << i.nr_pasids
			  << " PASIDs (" << i.nr_pending << " free-pending), "
			  << i.nr_bound << " bound, token id " << i.token_id << "\n";
	});

	auto *pasid = app.add_subcommand("pasid", "PASIDs of a set; the PASID attach path");
	pasid->require_subcommand(1);
	struct SetOp {
		const char *name, *help;
		uint32_t op;
		bool takes_pasid, takes_vpasid;
	};
	static const SetOp set_ops[] = {
		{"alloc", "allocate a PASID in a set", IOMMULAB_IOASID_ALLOC, false, false},
		{"free", "free a PASID (free-pending while attached)", IOMMULAB_IOASID_FREE, true, false},
		{"bind", "bind a vPASID to a PASID", IOMMULAB_IOASID_BIND, true, true},
		{"unbind", "undo a PASID's vPASID binding", IOMMULAB_IOASID_UNBIND, true, false},
		{"lookup", "the PASID a vPASID is bound to", IOMMULAB_IOASID_LOOKUP, false, true},
	};
	for (const SetOp &o : set_ops) {
		auto *c = pasid->add_subcommand(o.name, o.help);
		auto *c_set = c->add_option("set", "set ID")->required();
		CLI::Option *c_pasid = o.takes_pasid ?
			c->add_option("pasid", "PASID")->required() : nullptr;
		CLI::Option *c_vpasid = o.takes_vpasid ?
			c->add_option("vpasid", "set-private ID")->required() : nullptr;
		auto *c_as = c->add_option("--as", "name for the PASID");
		c->callback([&s, &o, c_set, c_pasid, c_vpasid, c_as] {
			auto r = ioasid_op(s.iommufd(), c_set->as<uint32_t>(), o.op,
					   c_pasid ? c_pasid->as<uint32_t>() : 0,
					   c_vpasid ? c_vpasid->as<uint32_t>() : 0);
			std::cout << "PASID " << r.pasid;
			if (r.vpasid)
				std::cout << ", vPASID " << r.vpasid;
			std::cout << ": " << o.name << " done\n";
			s.bind(c_as->empty() ? "" : c_as->as<std::string>(), r.pasid);
		});
	}
	static const char *const path_ops[] = {"attach", "replace", "detach"};
	for (uint32_t op = 0; op < 3; op++) {
		auto *c = pasid->add_subcommand(path_ops[op],
						"the PASID attach path (IOMMULAB_DEVICE_PASID)");
		auto *c_dev = c->add_option("dev", "bound device ID")->required();
		auto *c_pasid = c->add_option("pasid", "PASID (attach --alloc: none)");
		CLI::Option *c_pt = op == IOMMULAB_PASID_DETACH ? nullptr :
			c->add_option("--hwpt", "HWPT allocated with IOMMU_HWPT_ALLOC_PASID")
				->required();
		CLI::Option *c_alloc = op == IOMMULAB_PASID_ATTACH ?
			c->add_flag("--alloc")->description("the kernel picks the PASID "
							    "from the fd's set") : nullptr;
		auto *c_as = c->add_option("--as", "name for the PASID");
		c->callback([&s, op, c_dev, c_pasid, c_pt, c_alloc, c_as] {
			const uint32_t dev = c_dev->as<uint32_t>();
			const uint32_t pt = c_pt ? c_pt->as<uint32_t>() : 0;
			uint32_t p;
			if (c_alloc && c_alloc->count()) {
				p = device_pasid_alloc(s.iommufd(), dev, pt);
			} else {
				if (c_pasid->empty())
					throw CLI::ValidationError("pasid", "a PASID is needed");
				p = c_pasid->as<uint32_t>();
				device_pasid(s.iommufd(), dev, op, p, pt);
			}
			std::cout << "device " << dev << " PASID " << p << ": "
				  << (op == IOMMULAB_PASID_ATTACH ? "attached to HWPT " :
				      op == IOMMULAB_PASID_REPLACE ? "now on HWPT " : "detached")
				  << (pt ? std::to_string(pt) : "") << "\n";
			s.bind(c_as->empty() ? "" : c_as->as<std::string>(), p);
		});
	}

	auto *aux = app.add_subcommand("aux", "the aux-domain path");
	aux->require_subcommand(1);
	static const std::pair<const char *, unsigned long> aux_ops[] = {
		{"attach", IOMMULAB_AUX_ATTACH},
		{"detach", IOMMULAB_AUX_DETACH},
		{"get-pasid", IOMMULAB_AUX_GET_PASID},
	};
	for (const auto &a : aux_ops) {
		auto *c = aux->add_subcommand(a.first, std::string("aux ") + a.first +
						       ": a paging HWPT as a device's aux domain");
		auto *c_dev = c->add_option("dev", "bound device ID")->required();
		auto *c_hwpt = c->add_option("hwpt", "paging HWPT ID")->required();
		auto *c_as = c->add_option("--as", "name for the default PASID");
		c->callback([&s, &a, c_dev, c_hwpt, c_as] {
			uint32_t p = aux_op(s.iommufd(), a.second, c_dev->as<uint32_t>(),
					    c_hwpt->as<uint32_t>());
			std::cout << "HWPT " << c_hwpt->as<uint32_t>() << " on device "
				  << c_dev->as<uint32_t>() << ": aux " << a.first;
			if (p)
				std::cout << ", default PASID " << p;
			std::cout << "\n";
			s.bind(c_as->empty() ? "" : c_as->as<std::string>(), p);
		});
	}
}

// "4 KiB", "2 MiB", or bytes when not a whole number of either.
std::string size_name(uint64_t n)
{
	if (n >= (1ULL << 30) && !(n & ((1ULL << 30) - 1)))
		return std::to_string(n >> 30) + " GiB";
	if (n >= (1ULL << 20) && !(n & ((1ULL << 20) - 1)))
		return std::to_string(n >> 20) + " MiB";
	if (n >= 1024 && !(n & 1023))
		return std::to_string(n >> 10) + " KiB";
	return std::to_string(n) + " bytes";
}

std::string hex_of(uint64_t v)
{
	std::ostringstream o;
	o << "0x" << std::hex << v;
	return o.str();
}

// A bitmap's summary (cli/dirty_summary.hpp), indented.
void print_dirty(const DirtyBitmap &bm, size_t max_ranges)
{
	for (const std::string &l : cli::dirty_summary(bm.bytes, bm.nbits(), bm.iova,
						       bm.page_size, max_ranges))
		std::cout << "  " << l << "\n";
}

// A bitmap for [iova, iova + length) at page_size bytes a bit. One the
// kernel must refuse (page size 0, more than 2^31 bits) gets one byte, so
// that the kernel's errno, not a division or an allocation, answers.
DirtyBitmap make_bitmap(uint64_t iova, uint64_t length, uint64_t page_size)
{
	const bool sane = page_size && length / page_size <= (1ULL << 31);
	DirtyBitmap bm(iova, sane ? length : 1, sane ? page_size : 1);
	bm.length = length;
	bm.page_size = page_size;
	return bm;
}

// `dirty`, `split` and `merge`: dirty tracking and IOPTE sizes of a HWPT
// (seed 004's migration round; uapi/iommulab/iommulab.h).
void add_dirty_commands(CLI::App &app, Session &s)
{
	auto *dirty = app.add_subcommand("dirty", "dirty tracking of a HWPT "
					 "allocated with hwpt-alloc --dirty");
	dirty->require_subcommand(1);
	for (bool on : {true, false}) {
		auto *c = dirty->add_subcommand(
			on ? "enable" : "disable",
			on ? "start tracking (IOMMU_HWPT_SET_DIRTY_TRACKING; "
			     "every dirty bit is cleared first)" :
			     "stop tracking; dirty bits already set stay for a harvest");
		auto *c_hwpt = c->add_option("hwpt", "HWPT ID")->required();
		c->callback([&s, on, c_hwpt] {
			set_dirty_tracking(s.iommufd(), c_hwpt->as<uint32_t>(), on);
			std::cout << "HWPT " << c_hwpt->as<uint32_t>()
				  << ": dirty tracking " << (on ? "on" : "off")
				  << "\n";
		});
	}
	auto *hv = dirty->add_subcommand(
		"harvest", "read (and clear) a range's dirty bits "
			   "(IOMMU_HWPT_GET_DIRTY_BITMAP); prints the dirty pages");
	auto *hv_hwpt = hv->add_option("hwpt", "HWPT ID")->required();
	auto *hv_iova = hv->add_option("--iova", "first IOVA")->required();
	auto *hv_len = hv->add_option("--length", "bytes")->required();
	auto *hv_page = hv->add_option("--page-size", "bytes per bitmap bit")
				->default_val(4096);
	CLI::Option *hv_keep = hv->add_flag("--no-clear")->description(
		"leave the dirty bits set (IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)");
	auto *hv_max = hv->add_option("--ranges", "print at most N ranges")
			       ->default_val(16);
	hv->callback([&s, hv_hwpt, hv_iova, hv_len, hv_page, hv_keep, hv_max] {
		DirtyBitmap bm = make_bitmap(hv_iova->as<uint64_t>(),
					     hv_len->as<uint64_t>(),
					     hv_page->as<uint64_t>());
		get_dirty_bitmap(s.iommufd(), hv_hwpt->as<uint32_t>(), bm,
				 !hv_keep->count());
		std::cout << "HWPT " << hv_hwpt->as<uint32_t>() << " ["
			  << hex_of(bm.iova) << ", +" << hex_of(bm.length) << ") at "
			  << size_name(bm.page_size) << " a bit"
			  << (hv_keep->count() ? ", not cleared" : ", cleared")
			  << ":\n";
		print_dirty(bm, hv_max->as<size_t>());
	});

	auto *sp = app.add_subcommand("split", "split a range's IOPTEs down to a "
					       "size (IOMMULAB_HWPT_SPLIT)");
	auto *sp_hwpt = sp->add_option("hwpt", "paging HWPT ID")->required();
	auto *sp_iova = sp->add_option("--iova", "first IOVA")->required();
	auto *sp_len = sp->add_option("--length", "bytes")->required();
	auto *sp_size = sp->add_option("--size", "IOPTE size to split down to, "
					 "one the domain supports")->required();
	auto *mg = app.add_subcommand("merge", "merge a range's IOPTEs into the "
					       "largest that fit (IOMMULAB_HWPT_MERGE)");
	auto *mg_hwpt = mg->add_option("hwpt", "paging HWPT ID")->required();
	auto *mg_iova = mg->add_option("--iova", "first IOVA")->required();
	auto *mg_len = mg->add_option("--length", "bytes")->required();
	auto reshape = [&s](CLI::Option *h, CLI::Option *i, CLI::Option *l,
			    CLI::Option *sz) {
		const uint64_t size = sz ? sz->as<uint64_t>() : 0;
		auto [before, after] = hwpt_reshape(s.iommufd(), h->as<uint32_t>(),
						    i->as<uint64_t>(),
						    l->as<uint64_t>(), size);
		std::cout << "HWPT " << h->as<uint32_t>() << " ["
			  << hex_of(i->as<uint64_t>()) << ", +"
			  << hex_of(l->as<uint64_t>()) << ") "
			  << (sz ? "split to " + size_name(size) + " IOPTEs"
				 : std::string("merged"))
			  << ": " << before << " IOPTEs before, " << after
			  << " after\n";
	};
	sp->callback([reshape, sp_hwpt, sp_iova, sp_len, sp_size] {
		// The library's size 0 means a merge.
		if (!sp_size->as<uint64_t>())
			throw CLI::ValidationError("--size", "not 0 (merge merges)");
		reshape(sp_hwpt, sp_iova, sp_len, sp_size);
	});
	mg->callback([reshape, mg_hwpt, mg_iova, mg_len] {
		reshape(mg_hwpt, mg_iova, mg_len, nullptr);
	});
}

uint32_t option_id_of(const std::string &name)
{
	if (name == "rlimit-mode")
		return IOMMU_OPTION_RLIMIT_MODE;
	if (name == "huge-pages")
		return IOMMU_OPTION_HUGE_PAGES;
	throw CLI::ValidationError("option", "unknown option " + name);
}

// Build the command tree; parsing one argv runs exactly one subcommand.
void build_app(CLI::App &app, Session &s, bool in_scenario)
{
	app.require_subcommand(1);
	if (!in_scenario)
		app.add_option("--device", s.device, "device node")
			->capture_default_str();

	auto *info = app.add_subcommand("info", "module ABI version, features, object counts");
	info->callback([&s] {
		Info i = s.iommufd().info();
		std::cout << "abi " << i.abi_version << ", features 0x" << std::hex
			  << i.features << std::dec << ", objects on this fd "
			  << i.nr_objects << ", in the module " << i.nr_objects_all
			  << ", fd id " << i.fd_id << " (uid " << i.fd_uid << ")\n";
	});

	auto *ioas = app.add_subcommand("ioas-alloc", "create an IOAS");
	auto *ioas_as = ioas->add_option("--as", "scenario name for the new ID");
	ioas->callback([&s, ioas_as] {
		Ioas a(s.iommufd());
		std::cout << "IOAS " << a.id() << " created\n";
		s.bind(ioas_as->empty() ? "" : ioas_as->as<std::string>(), a.release());
	});

	auto *destroy = app.add_subcommand("destroy", "destroy an object by ID");
	auto *destroy_id = destroy->add_option("id", "object ID")->required();
	destroy->callback([&s, destroy_id] {
		uint32_t id = destroy_id->as<uint32_t>();
		s.iommufd().destroy(id);
		std::cout << "object " << id << " destroyed\n";
	});

	auto *opt = app.add_subcommand("option", "IOMMU_OPTION get/set");
	opt->require_subcommand(1);
	for (bool set : {false, true}) {
		auto *sub = opt->add_subcommand(set ? "set" : "get",
						set ? "set an option" : "read an option");
		auto *name = sub->add_option("name", "rlimit-mode | huge-pages")
				     ->required();
		CLI::Option *value = nullptr;
		if (set)
			value = sub->add_option("value", "0 or 1")->required();
		auto *object = sub->add_option("--object", "IOAS ID (huge-pages)");
		sub->callback([&s, set, name, value, object] {
			uint32_t oid = object->empty() ? 0 : object->as<uint32_t>();
			uint32_t id = option_id_of(name->as<std::string>());
			if (set) {
				s.iommufd().option_set(id, value->as<uint64_t>(), oid);
				std::cout << name->as<std::string>() << " set to "
					  << value->as<uint64_t>() << "\n";
			} else {
				uint64_t v = s.iommufd().option_get(id, oid);
				std::cout << name->as<std::string>() << " = " << v
					  << "\n";
			}
		});
	}

	auto *map = app.add_subcommand("map", "pin and map fresh memory into an IOAS");
	auto *map_ioas = map->add_option("ioas", "IOAS ID")->required();
	auto *map_len = map->add_option("length", "bytes")->required();
	auto *map_iova = map->add_option("--iova", "fixed IOVA (default: kernel picks)");
	CLI::Option *map_ro = map->add_flag("--read-only")->description("map readable only");
	CLI::Option *map_huge = map->add_flag("--hugetlb")->description(
		"2 MiB hugetlb pages (length a multiple of 2 MiB): huge IOPTEs");
	auto *map_as = map->add_option("--as", "scenario name for the IOVA");
	map->callback([&s, map_ioas, map_len, map_iova, map_ro, map_huge, map_as] {
		uint64_t len = map_len->as<uint64_t>();
		// Memory for scenario maps lives as long as the process.
		void *mem = mmap(nullptr, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS |
					 (map_huge->count() ? MAP_HUGETLB : 0),
				 -1, 0);
		if (mem == MAP_FAILED)
			throw Error("mmap", errno);
		std::memset(mem, 0x5a, len);
		iommu_ioas_map cmd{};
		cmd.size = sizeof(cmd);
		cmd.flags = IOMMU_IOAS_MAP_READABLE |
			    (map_ro->count() ? 0 : IOMMU_IOAS_MAP_WRITEABLE);
		if (!map_iova->empty()) {
			cmd.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
			cmd.iova = map_iova->as<uint64_t>();
		}
		cmd.ioas_id = map_ioas->as<uint32_t>();
		cmd.user_va = reinterpret_cast<uintptr_t>(mem);
		cmd.length = len;
		s.iommufd().call("IOMMU_IOAS_MAP", IOMMU_IOAS_MAP, &cmd);
		std::cout << len << " bytes pinned and mapped at IOVA 0x" << std::hex
			  << cmd.iova << std::dec << "\n";
		s.bind(map_as->empty() ? "" : map_as->as<std::string>(),
		       static_cast<uint32_t>(cmd.iova));
	});

	auto *unmap = app.add_subcommand("unmap", "unmap an IOVA range (default: all)");
	auto *unmap_ioas = unmap->add_option("ioas", "IOAS ID")->required();
	auto *unmap_iova = unmap->add_option("iova", "first IOVA");
	auto *unmap_len = unmap->add_option("length", "bytes");
	CLI::Option *unmap_dirty_f = unmap->add_flag("--dirty")->description(
		"read & unmap (IOMMULAB_IOAS_UNMAP_DIRTY): also print the pages "
		"written since the last harvest; needs iova and length");
	auto *unmap_page = unmap->add_option("--page-size", "--dirty: bytes per bitmap bit")
				   ->default_val(4096);
	auto *unmap_max = unmap->add_option("--ranges", "--dirty: print at most N ranges")
				  ->default_val(16);
	unmap->callback([&s, unmap_ioas, unmap_iova, unmap_len, unmap_dirty_f,
			 unmap_page, unmap_max] {
		if (unmap_dirty_f->count()) {
			if (unmap_iova->empty() || unmap_len->empty())
				throw CLI::ValidationError("--dirty",
							   "needs iova and length");
			DirtyBitmap bm = make_bitmap(unmap_iova->as<uint64_t>(),
						     unmap_len->as<uint64_t>(),
						     unmap_page->as<uint64_t>());
			uint64_t n = unmap_dirty(s.iommufd(),
						 unmap_ioas->as<uint32_t>(), bm);
			std::cout << bm.length << " bytes unmapped; at "
				  << size_name(bm.page_size) << " a bit, the kernel "
				  << "counted " << n << " dirty:\n";
			print_dirty(bm, unmap_max->as<size_t>());
			return;
		}
		iommu_ioas_unmap cmd{};
		cmd.size = sizeof(cmd);
		cmd.ioas_id = unmap_ioas->as<uint32_t>();
		cmd.iova = unmap_iova->empty() ? 0 : unmap_iova->as<uint64_t>();
		cmd.length = unmap_len->empty() ? UINT64_MAX : unmap_len->as<uint64_t>();
		s.iommufd().call("IOMMU_IOAS_UNMAP", IOMMU_IOAS_UNMAP, &cmd);
		std::cout << cmd.length << " bytes unmapped\n";
	});

	auto *ranges = app.add_subcommand("ranges", "usable IOVA ranges of an IOAS");
	auto *ranges_ioas = ranges->add_option("ioas", "IOAS ID")->required();
	ranges->callback([&s, ranges_ioas] {
		Ioas view(s.iommufd(), ranges_ioas->as<uint32_t>());
		uint64_t align = 0;
		for (auto &r : view.iova_ranges(&align))
			std::cout << "  [0x" << std::hex << r.start << ", 0x" << r.last
				  << "]" << std::dec << "\n";
		std::cout << "  alignment " << align << "\n";
		view.release();
	});

	auto *reserve = app.add_subcommand("reserve", "reserve an IOVA range (test op)");
	auto *res_ioas = reserve->add_option("ioas", "IOAS ID")->required();
	auto *res_start = reserve->add_option("start", "first IOVA")->required();
	auto *res_len = reserve->add_option("length", "bytes")->required();
	reserve->callback([&s, res_ioas, res_start, res_len] {
		Ioas view(s.iommufd(), res_ioas->as<uint32_t>());
		try {
			view.add_reserved(res_start->as<uint64_t>(),
					  res_len->as<uint64_t>());
		} catch (...) {
			view.release();
			throw;
		}
		view.release();
		std::cout << "reserved\n";
	});

	auto *mdom = app.add_subcommand("mock-domain",
					"plug in a mock device, bind it, attach it to an IOAS/HWPT");
	auto *mdom_pt = mdom->add_option("pt", "IOAS or HWPT ID")->required();
	auto *mdom_flags = mdom->add_option("--flags", "MOCK_FLAGS_DEVICE_* bits")
				   ->default_val(0);
	auto *mdom_as = mdom->add_option("--as", "name: $NAME is the device ID, "
					 "$NAME_hwpt and $NAME_stdev the others");
	mdom->callback([&s, mdom_pt, mdom_flags, mdom_as] {
		MockDomain md(s.iommufd(), mdom_pt->as<uint32_t>(),
			      mdom_flags->as<uint32_t>());
		std::cout << "mock device: stdev " << md.stdev_id() << ", device "
			  << md.idev_id() << ", attached to HWPT " << md.hwpt_id()
			  << "\n";
		if (!mdom_as->empty()) {
			std::string n = mdom_as->as<std::string>();
			s.bind(n, md.idev_id());
			s.bind(n + "_hwpt", md.hwpt_id());
			s.bind(n + "_stdev", md.stdev_id());
		}
		s.keep_mock_domain(std::move(md));
	});

	auto *grp = app.add_subcommand("group-alloc",
				       "plug in a group of mock devices (kernel-owned)");
	auto *grp_n = grp->add_option("n", "devices")->required();
	auto *grp_as = grp->add_option("--as", "name: $NAME0.. are their RIDs, "
					      "$NAME0_stdev.. their stdev IDs");
	auto *grp_flags = grp->add_option("--flags", "MOCK_FLAGS_DEVICE_* bits (4: PASIDs)")
				  ->default_val(0);
	CLI::Option *grp_pri = grp->add_flag("--pri")->description(
		"devices that send page requests (IOMMULAB_MOCK_DEV_PRI)");
	CLI::Option *grp_noiopf = grp->add_flag("--no-iopf")->description(
		"devices that take no fault queue (IOMMULAB_MOCK_DEV_NO_IOPF)");
	grp->callback([&s, grp_n, grp_as, grp_flags, grp_pri, grp_noiopf] {
		auto devs = mock_group_alloc(s.iommufd(), grp_n->as<uint32_t>(),
					     grp_flags->as<uint32_t>() |
						     (grp_pri->count() ? IOMMULAB_MOCK_DEV_PRI : 0) |
						     (grp_noiopf->count() ? IOMMULAB_MOCK_DEV_NO_IOPF : 0));
		s.show_devs(devs, "device", "RID", grp_as);
	});

	auto *bind = app.add_subcommand("bind", "bind a device (by RID) to this fd");
	auto *bind_rid = bind->add_option("rid", "requester ID")->required();
	auto *bind_as = bind->add_option("--as", "name for the device ID");
	bind->callback([&s, bind_rid, bind_as] {
		Device d(s.iommufd(), bind_rid->as<uint32_t>());
		std::cout << "bound as device " << d.id() << "\n";
		s.bind(bind_as->empty() ? "" : bind_as->as<std::string>(), d.id());
		d.release();
	});

	auto *att = app.add_subcommand("attach", "attach (or replace) a device's RID");
	auto *att_dev = att->add_option("dev", "device ID")->required();
	auto *att_pt = att->add_option("pt", "IOAS or HWPT ID")->required();
	CLI::Option *att_aux = att->add_flag("--aux")->description(
		"a sub-device: route it by the aux-domain path");
	CLI::Option *att_pasid = att->add_flag("--pasid")->description(
		"a sub-device: route it by the PASID attach path");
	att->callback([&s, att_dev, att_pt, att_aux, att_pasid] {
		iommulab_device_attach cmd{};
		cmd.size = sizeof(cmd);
		cmd.dev_id = att_dev->as<uint32_t>();
		cmd.pt_id = att_pt->as<uint32_t>();
		cmd.flags = (att_aux->count() ? IOMMULAB_ATTACH_SUBDEV_AUX : 0) |
			    (att_pasid->count() ? IOMMULAB_ATTACH_SUBDEV_PASID : 0);
		s.iommufd().call("IOMMULAB_DEVICE_ATTACH", IOMMULAB_DEVICE_ATTACH,
				 &cmd);
		std::cout << "device " << cmd.dev_id << " now uses HWPT "
			  << cmd.out_hwpt_id << "\n";
	});

	auto *det = app.add_subcommand("detach", "detach a device (blocked domain)");
	auto *det_dev = det->add_option("dev", "device ID")->required();
	det->callback([&s, det_dev] {
		iommulab_device_detach cmd{};
		cmd.size = sizeof(cmd);
		cmd.dev_id = det_dev->as<uint32_t>();
		s.iommufd().call("IOMMULAB_DEVICE_DETACH", IOMMULAB_DEVICE_DETACH,
				 &cmd);
		std::cout << "device " << cmd.dev_id << " blocked\n";
	});

	auto *ha = app.add_subcommand("hwpt-alloc", "IOMMU_HWPT_ALLOC");
	auto *ha_dev = ha->add_option("dev", "device ID")->required();
	auto *ha_pt = ha->add_option("pt", "IOAS (paging) or parent HWPT (nested)")
			      ->required();
	CLI::Option *ha_parent = ha->add_flag("--nest-parent")->description(
		"allocate a nest parent");
	CLI::Option *ha_pasid = ha->add_flag("--pasid")->description(
		"PASID-compatible (IOMMU_HWPT_ALLOC_PASID)");
	CLI::Option *ha_dirty = ha->add_flag("--dirty")->description(
		"dirty-tracking capable (IOMMU_HWPT_ALLOC_DIRTY_TRACKING)");
	auto *ha_off = ha->add_option("--s1-offset", "nested: stage-1 offset");
	auto *ha_fault = ha->add_option("--fault", "report page faults to this fault queue "
						   "(IOMMU_HWPT_FAULT_ID_VALID)");
	auto *ha_as = ha->add_option("--as", "name for the HWPT ID");
	ha->callback([&s, ha_dev, ha_pt, ha_parent, ha_pasid, ha_dirty, ha_off, ha_fault,
		      ha_as] {
		uint32_t id;
		const std::optional<uint32_t> fault =
			ha_fault->empty() ? std::nullopt :
					    std::optional<uint32_t>(ha_fault->as<uint32_t>());
		if (ha_off->empty()) {
			Hwpt h(s.iommufd(), ha_dev->as<uint32_t>(),
			       ha_pt->as<uint32_t>(),
			       (ha_parent->count() ? IOMMU_HWPT_ALLOC_NEST_PARENT : 0) |
				       (ha_pasid->count() ? IOMMU_HWPT_ALLOC_PASID : 0) |
				       (ha_dirty->count() ? IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0),
			       fault);
			id = h.release();
		} else {
			iommulab_hwpt_mock_s1 s1{0, IOMMU_TEST_IOTLB_DEFAULT,
						 ha_off->as<uint64_t>()};
			Hwpt h(s.iommufd(), ha_dev->as<uint32_t>(),
			       ha_pt->as<uint32_t>(), 0, IOMMULAB_HWPT_DATA_MOCK_S1,
			       &s1, sizeof(s1), fault);
			id = h.release();
		}
		std::cout << "HWPT " << id << " allocated\n";
		s.bind(ha_as->empty() ? "" : ha_as->as<std::string>(), id);
	});

	add_pasid_commands(app, s);
	add_dirty_commands(app, s);
	add_fault_commands(app, s);

	auto *dmac = app.add_subcommand("dma", "a device reads or writes memory by IOVA");
	auto *dma_dev = dmac->add_option("dev", "device (or stdev) ID")->required();
	auto *dma_iova = dmac->add_option("iova", "IOVA")->required();
	auto *dma_len = dmac->add_option("length", "bytes")->required();
	auto *dma_write = dmac->add_option("--write", "write this byte value");
	CLI::Option *dma_rid = dmac->add_flag("--rid")->description(
		"dev is a requester ID, not an ID of this fd");
	auto *dma_pasid_opt = dmac->add_option("--pasid", "the request carries this PASID");
	auto *dma_expect = dmac->add_option(
		"--expect", "a read: fail unless it moves every byte and each "
			    "has this value");
	auto *dma_fault = dmac->add_option(
		"--expect-fault", "fail unless the request stops with this fault "
				  "(none, blocked, not-mapped, permission, "
				  "no-pasid, prq-invalid, prq-timeout, "
				  "prq-full) and, for a fault, moves nothing");
	auto *dma_burst_n = dmac->add_option(
		"--burst", "N requests of length bytes (at most 4096) at iova, "
			   "iova + stride, ... in one call (IOMMULAB_MOCK_DMA_BURST)");
	auto *dma_stride = dmac->add_option("--stride", "--burst: bytes between requests")
				   ->default_val(4096);
	auto *dma_iopte = dmac->add_option(
		"--expect-iopte", "fail unless the largest IOPTE the request went "
				  "through has this size (bytes)");
	dmac->callback([&s, dma_dev, dma_iova, dma_len, dma_write, dma_rid,
			dma_pasid_opt, dma_expect, dma_fault, dma_burst_n,
			dma_stride, dma_iopte] {
		if (!dma_burst_n->empty()) {
			if (dma_rid->count() || !dma_expect->empty() || !dma_iopte->empty())
				throw CLI::ValidationError(
					"--burst", "takes no --rid, --expect or --expect-iopte");
			const uint32_t n = dma_burst_n->as<uint32_t>();
			const uint64_t iova = dma_iova->as<uint64_t>(),
				       stride = dma_stride->as<uint64_t>();
			std::vector<uint64_t> iovas(n);
			for (uint32_t i = 0; i < n; i++)
				iovas[i] = iova + i * stride;
			const bool write = !dma_write->empty();
			DmaResult f;
			uint32_t done = dma_burst(
				s.iommufd(), dma_dev->as<uint32_t>(), iovas,
				dma_len->as<uint32_t>(), write,
				write ? static_cast<uint8_t>(dma_write->as<unsigned>()) : 0,
				dma_pasid_opt->empty() ? IOMMULAB_NO_PASID :
							 dma_pasid_opt->as<uint32_t>(),
				&f);
			std::cout << "burst: " << done << " of " << n << " "
				  << (write ? "writes" : "reads") << " of "
				  << dma_len->as<uint32_t>() << " bytes from IOVA "
				  << hex_of(iova) << ", stride " << hex_of(stride)
				  << " done";
			if (!f.ok())
				std::cout << "; FAULT at IOVA " << hex_of(f.fault_iova) << ": "
					  << dma_fault_text(f.fault_reason);
			std::cout << "\n";
			const char *got = dma_fault_name(f.fault_reason);
			if (!dma_fault->empty() && dma_fault->as<std::string>() != got)
				throw std::runtime_error("dma: expected fault " +
							 dma_fault->as<std::string>() +
							 ", got " + got);
			return;
		}
		uint64_t len = dma_len->as<uint64_t>();
		std::vector<uint8_t> data(len, 0);
		bool write = !dma_write->empty();
		if (write)
			std::fill(data.begin(), data.end(),
				  static_cast<uint8_t>(dma_write->as<unsigned>()));
		DmaResult r = dma_pasid_opt->empty() ?
			dma(s.iommufd(), dma_dev->as<uint32_t>(),
			    dma_iova->as<uint64_t>(), data.data(), len, write,
			    dma_rid->count() > 0) :
			dma_pasid(s.iommufd(), dma_dev->as<uint32_t>(),
				  dma_pasid_opt->as<uint32_t>(),
				  dma_iova->as<uint64_t>(), data.data(), len, write);
		std::cout << (write ? "wrote " : "read ") << r.done << " of " << len
			  << " bytes";
		if (!write && r.done) {
			std::cout << ":";
			for (uint64_t i = 0; i < std::min<uint64_t>(r.done, 8); i++)
				std::cout << " " << std::hex << unsigned(data[i])
					  << std::dec;
		}
		if (!r.ok())
			std::cout << "; FAULT at IOVA 0x" << std::hex << r.fault_iova
				  << std::dec << ": "
				  << dma_fault_text(r.fault_reason);
		if (!dma_iopte->empty())
			std::cout << "; largest IOPTE " << size_name(r.max_iopte);
		std::cout << "\n";
		if (!dma_iopte->empty() && r.max_iopte != dma_iopte->as<uint64_t>())
			throw std::runtime_error("dma: expected a largest IOPTE of " +
						 size_name(dma_iopte->as<uint64_t>()));
		if (!dma_fault->empty()) {
			const std::string want = dma_fault->as<std::string>();
			const char *got = dma_fault_name(r.fault_reason);
			if (want != got || (!r.ok() && r.done))
				throw std::runtime_error(
					"dma: expected fault " + want + ", got " +
					got + " after " + std::to_string(r.done) +
					" bytes");
		}
		if (!dma_expect->empty()) {
			const auto want = static_cast<uint8_t>(dma_expect->as<unsigned>());
			if (write || r.done != len ||
			    std::any_of(data.begin(), data.end(),
					[want](uint8_t b) { return b != want; }))
				throw std::runtime_error(
					"dma: the bytes read are not all " +
					std::to_string(want));
		}
	});

	auto *fdc = app.add_subcommand(
		"fd", "switch to the fd NAME, opening it on first use (the "
		      "first is 'main'); later commands use it");
	auto *fd_name = fdc->add_option("name", "a name of your choosing")
				->required();
	fdc->callback([&s, fd_name] {
		s.current = fd_name->as<std::string>();
		s.iommufd();
		std::cout << "now on fd '" << s.current << "'\n";
	});

	auto *sub = app.add_subcommand("subdev", "mock sub-devices (work queues, mdevs)");
	sub->require_subcommand(1);
	auto *sa = sub->add_subcommand("alloc", "give a mock device of this fd sub-devices");
	auto *sa_parent = sa->add_option("parent", "the parent's stdev ID")->required();
	auto *sa_n = sa->add_option("n", "how many (1 to 8)")->default_val(1);
	auto *sa_as = sa->add_option("--as", "name: $NAME0.. are their handles "
					     "(BIND and DMA take them as RIDs), "
					     "$NAME0_stdev.. their stdev IDs");
	sa->callback([&s, sa_parent, sa_n, sa_as] {
		uint32_t path = 0;
		auto devs = mock_subdev_alloc(s.iommufd(), sa_parent->as<uint32_t>(),
					      sa_n->as<uint32_t>(), &path);
		std::cout << "  "
			  << (path == IOMMULAB_SUBDEV_PATH_SW ?
				      "software-mediated" :
				      "routed by the IOMMU (parent's RID + a PASID)")
			  << "\n";
		s.show_devs(devs, "sub-device", "handle", sa_as);
	});
	auto *si = sub->add_subcommand("info", "a sub-device's route (AUX_GET_DOMAIN)");
	auto *si_dev = si->add_option("dev", "its device ID here, or its stdev ID")
			       ->required();
	auto *si_as = si->add_option("--as", "name for its PASID");
	si->callback([&s, si_dev, si_as] {
		static const char *const paths[] = {"none", "aux", "pasid", "sw"};
		SubdevRoute r = aux_get_domain(s.iommufd(), si_dev->as<uint32_t>());
		std::cout << "  path " << (r.path < 4 ? paths[r.path] : "?")
			  << ", PASID " << r.pasid << ", HWPT " << r.hwpt_id
			  << ", parent RID 0x" << std::hex << r.parent_rid
			  << std::dec << "\n";
		s.bind(si_as->empty() ? "" : si_as->as<std::string>(), r.pasid);
	});

	auto *bench = app.add_subcommand("bench", "benchmarks (print figures)");
	bench->require_subcommand(1);
	auto *bmap = bench->add_subcommand("map", "MAP+UNMAP vs raw pinning, 4 KiB and THP");
	auto *bsize = bmap->add_option("--mib", "buffer size in MiB")->default_val(1024);
	auto *breps = bmap->add_option("--reps", "repetitions")->default_val(3);
	bmap->callback([&s, bsize, breps] {
		bench_map(s.iommufd(), bsize->as<uint64_t>() << 20, breps->as<int>());
	});
	auto *bpaths = bench->add_subcommand("paths", "attach/detach: PASID path vs aux path");
	auto *brounds = bpaths->add_option("--rounds", "rounds")->default_val(2000);
	bpaths->callback([&s, brounds] { bench_paths(s.iommufd(), brounds->as<int>()); });
	auto *bdirty = bench->add_subcommand("dirty", "dirty harvest vs plain IOPTE read, 4 KiB IOPTEs");
	auto *bdgib = bdirty->add_option("--gib", "GiB of IOVA")->default_val(64);
	auto *bdreps = bdirty->add_option("--reps", "repetitions")->default_val(5);
	bdirty->callback([&s, bdgib, bdreps] {
		bench_dirty(s.iommufd(), bdgib->as<uint64_t>(), bdreps->as<int>());
	});

	if (in_scenario)
		return;

	auto *mon = app.add_subcommand(
		"monitor", "print the module's notifications, one line per event");
	CLI::Option *mon_json = mon->add_flag("--json")->description(
		"one JSON object per line");
	CLI::Option *mon_sub = mon->add_flag("--subscribe")->description(
		"only this user's fds (the default without CAP_SYS_ADMIN)");
	CLI::Option *mon_stats = mon->add_flag("--stats")->description(
		"print the module's sequence number and dropped count, then exit");
	auto *mon_count = mon->add_option("--count", "stop after N events (0: never)")
				  ->default_val(0);
	auto *mon_timeout = mon->add_option("--timeout",
					    "stop after S seconds without an event (0: never)")
				    ->default_val(0);
	mon->callback([mon_json, mon_sub, mon_stats, mon_count, mon_timeout] {
		if (*mon_stats) {
			MonitorStats st = Monitor::stats();
			std::cout << "seq " << st.seq << " dropped " << st.dropped
				  << "\n";
			return;
		}
		std::unique_ptr<Monitor> m;
		bool all = false;
		if (!*mon_sub) {
			try {
				m = std::make_unique<Monitor>(Monitor::Mode::multicast);
				all = true;
			} catch (const Error &e) {
				if (e.err() != EPERM)
					throw;
				std::cerr << "iommulab: no CAP_SYS_ADMIN: this user's fds only\n";
			}
		}
		if (!m)
			m = std::make_unique<Monitor>(Monitor::Mode::subscribe);
		// Once this is printed, no event is missed.
		std::cerr << "iommulab: listening to "
			  << (all ? "every fd's events" : "this user's fds' events")
			  << std::endl;
		uint64_t count = mon_count->as<uint64_t>(), seen = 0;
		int timeout = mon_timeout->as<int>();
		while (!count || seen < count) {
			std::optional<Event> e = m->next(timeout > 0 ? timeout * 1000 : -1);
			if (!e)
				break;
			std::cout << (*mon_json ? e->json() : e->line()) << std::endl;
			seen++;
		}
	});

	auto *run = app.add_subcommand("run", "run a scenario file on one fd");
	auto *file = run->add_option("file", "scenario file")->required();
	run->callback([&s, file] {
		int failed = run_scenario(s, file->as<std::string>());
		if (failed)
			throw CLI::RuntimeError(std::to_string(failed) +
						" scenario step(s) failed", 1);
	});
}

std::vector<std::string> split_words(const std::string &line,
				     const std::map<std::string, uint32_t> &vars)
{
	std::istringstream in(line);
	std::vector<std::string> words;
	std::string w;

	while (in >> w) {
		if (w.size() > 1 && w[0] == '$') {
			auto it = vars.find(w.substr(1));
			if (it == vars.end())
				throw std::runtime_error("unknown variable " + w);
			w = std::to_string(it->second);
		}
		words.push_back(w);
	}
	return words;
}

// Runs one scenario line; returns true if it did what the line expected.
bool run_line(Session &s, std::string line)
{
	int expect = 0;

	std::cout << "> " << line << "\n";
	if (line.rfind("! ", 0) == 0) {
		std::istringstream in(line.substr(2));
		std::string name;
		in >> name;
		for (int e = 1; e < 200; e++)
			if (errno_name(e) == name)
				expect = e;
		if (!expect) {
			std::cout << "  bad expectation " << name << "\n";
			return false;
		}
		std::getline(in, line);
	}

	CLI::App app;
	build_app(app, s, true);
	int got = 0;
	try {
		std::vector<std::string> words = split_words(line, s.vars);
		std::vector<const char *> argv{"iommulab"};
		for (auto &w : words)
			argv.push_back(w.c_str());
		app.parse(static_cast<int>(argv.size()), argv.data());
	} catch (const Error &e) {
		got = e.err();
		std::cout << "  " << e.what() << "\n";
	} catch (const CLI::ParseError &e) {
		std::cout << "  bad command: " << e.what() << "\n";
		return false;
	} catch (const std::exception &e) {
		std::cout << "  error: " << e.what() << "\n";
		return false;
	}
	if (got == expect) {
		if (expect)
			std::cout << "  (failed as expected)\n";
		return true;
	}
	std::cout << "  UNEXPECTED: wanted " << errno_name(expect) << ", got "
		  << errno_name(got) << "\n";
	return false;
}

int run_scenario(Session &s, const std::string &path)
{
	std::ifstream in(path);
	std::string line;
	int failed = 0;

	if (!in)
		throw Error("open " + path, errno);
	while (std::getline(in, line)) {
		auto first = line.find_first_not_of(" \t");
		if (first == std::string::npos)
			continue;
		line = line.substr(first);
		if (line[0] == '#') {
			std::cout << line << "\n";
			continue;
		}
		if (!run_line(s, line))
			failed++;
	}
	return failed;
}

} // namespace

int main(int argc, char **argv)
{
	Session s;
	CLI::App app{"iommulab: drive the iommufd-style uAPI of the iommulab module"};

	build_app(app, s, false);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e);
	} catch (const Error &e) {
		std::cerr << "iommulab: " << e.what() << "\n";
		return 1;
	} catch (const std::exception &e) {
		std::cerr << "iommulab: " << e.what() << "\n";
		return 1;
	}
	return 0;
}
