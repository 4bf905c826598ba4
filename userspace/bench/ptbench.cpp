// SPDX-License-Identifier: GPL-2.0
// iommulab-ptbench: the harvest of `iommulab bench dirty`, run on the host
// CPU instead of the TCG guest. The mock IOMMU's page-table library
// (kmod/pt/iolab_pt.c, built for userspace with its shim) maps the same
// 64 GiB of IOVA with 4 KiB leaves; the pages of each row are marked with
// iolab_pt_set_dirty() (what IOMMU_TEST_OP_DIRTY and a DMA write call) and
// harvested with iolab_pt_read_dirty() the way kmod/dirty.c does it: in
// windows of 2^18 bits, each moved into the user's bitmap by ORing in the
// words that the window's marks (iolab_pt_dirty.touched) say hold a bit,
// and zeroing them. The plain read is iolab_pt_read_leaves(),
// what IOMMULAB_TEST_OP_READ_IOPTES runs. No ioctl, pinning or IOTLB flush
// is in the figures; every harvest is checked against the pages marked.
//
// Under TCG every guest instruction and translation block costs what the
// emulator makes it cost; here the costs are a real CPU's caches and TLB,
// so this says whether a ratio in BENCHMARKS.md is the design's or the
// emulator's. Figures only: nothing is judged but the bitmaps.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "dirty_pattern.hpp"
#include "iolab_pt.h"

namespace {

constexpr uint64_t PAGE = 4096;
// kmod/dirty.c's IOLAB_DIRTY_CHUNK_BITS
constexpr uint64_t WINDOW_BITS = 1ULL << 18;

// Table pages from the C heap; the "physical" address is the pointer.
void *table_alloc(void *)
{
	void *p = std::aligned_alloc(IOLAB_PT_TABLE_SIZE, IOLAB_PT_TABLE_SIZE);

	if (p)
		std::memset(p, 0, IOLAB_PT_TABLE_SIZE);
	return p;
}

void table_free(void *, void *table)
{
	std::free(table);
}

u64 table_v2p(void *, void *table)
{
	return reinterpret_cast<u64>(table);
}

void *table_p2v(void *, u64 phys)
{
	return reinterpret_cast<void *>(phys);
}

const iolab_pt_ops OPS = {table_alloc, table_free, table_v2p, table_p2v};

double now_s()
{
	using namespace std::chrono;
	return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median_ms(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2] * 1e3;
}

[[noreturn]] void die(const char *what)
{
	std::fprintf(stderr, "iommulab-ptbench: %s\n", what);
	std::exit(1);
}

struct Bench {
	iolab_pt pt{};
	uint64_t iova, len, pages;
	std::vector<unsigned long> window, touched;
	std::vector<uint8_t> user;

	explicit Bench(uint64_t gib)
		: iova(64ULL << 30), len(gib << 30), pages(len / PAGE),
		  window(WINDOW_BITS / 64), touched(WINDOW_BITS / 64 / 64),
		  user(pages / 8)
	{
		// The mock's 4 KiB format (mock_iommu.c), 4 KiB leaves only:
		// the guest benchmark splits every larger IOPTE anyway.
		const iolab_pt_cfg cfg = {12, 48, PAGE};
		constexpr uint64_t buf = 64ULL << 20;

		if (iolab_pt_init(&pt, &cfg, &OPS, nullptr))
			die("iolab_pt_init failed");
		// One 64 MiB "buffer" again and again, as the guest maps it
		for (uint64_t off = 0; off < len; off += buf)
			if (iolab_pt_map(&pt, iova + off, 1ULL << 30, buf,
					 IOLAB_PT_READ | IOLAB_PT_WRITE, nullptr))
				die("iolab_pt_map failed");
	}
	~Bench() { iolab_pt_destroy(&pt); }

	void mark(const std::vector<uint8_t> &map)
	{
		for (uint64_t p = 0; p < pages; p++)
			if ((map[p / 8] >> (p % 8)) & 1)
				if (iolab_pt_set_dirty(&pt, iova + p * PAGE))
					die("iolab_pt_set_dirty failed");
	}

	// GET_DIRTY_BITMAP of the whole range into @user, zeroed first.
	void harvest(bool clear)
	{
		for (uint64_t bit = 0; bit < pages; bit += WINDOW_BITS) {
			iolab_pt_dirty d = {iova + bit * PAGE, WINDOW_BITS * PAGE,
					    PAGE, window.data(), 0,
					    touched.data()};

			if (iolab_pt_read_dirty(&pt, d.iova, d.length, clear, &d))
				die("iolab_pt_read_dirty failed");
			uint8_t *dst = user.data() + bit / 8;
			for (size_t t = 0; t < touched.size(); t++) {
				for (unsigned long m = touched[t]; m; m &= m - 1) {
					size_t w = t * 64 + __builtin_ctzl(m);
					uint64_t v = window[w], u;

					std::memcpy(&u, dst + w * 8, 8);
					u |= v;
					std::memcpy(dst + w * 8, &u, 8);
					window[w] = 0;
				}
				touched[t] = 0;
			}
		}
	}

	double time_harvest(bool clear, const std::vector<uint8_t> &expect)
	{
		std::fill(user.begin(), user.end(), 0);
		double t = now_s();
		harvest(clear);
		t = now_s() - t;
		if (user != expect)
			die("a harvest is not what was marked");
		return t;
	}
};

} // namespace

int main(int argc, char **argv)
{
	const uint64_t gib = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 64;
	const int reps = argc > 2 ? std::atoi(argv[2]) : 5;

	if (argc > 3 || !gib || gib > 1024 || reps < 1) {
		std::fprintf(stderr, "usage: iommulab-ptbench [GIB (64)] [REPS (5)]\n");
		return 2;
	}
	double t0 = now_s();
	Bench b(gib);
	std::printf("ptbench: the harvest of bench dirty on the host CPU: %llu GiB "
		    "of IOVA, %llu IOPTEs of 4 KiB, mapped in %.1f s; %d "
		    "repetitions each, median\n",
		    (unsigned long long)gib, (unsigned long long)b.pages,
		    now_s() - t0, reps);

	std::vector<double> t;
	for (int r = 0; r < reps; r++) {
		u64 n = 0;
		double a = now_s();
		if (iolab_pt_read_leaves(&b.pt, b.iova, b.len, &n) || n != b.pages)
			die("the plain read saw too few IOPTEs");
		t.push_back(now_s() - a);
	}
	const double plain_ms = median_ms(t);
	std::printf("  %-24s %10s %12s %10s %12s\n", "", "dirty", "median ms",
		    "ns/IOPTE", "vs read");
	std::printf("  %-24s %10s %12.2f %10.2f %12s\n", "plain IOPTE read", "-",
		    plain_ms, plain_ms * 1e6 / b.pages, "1.00x");

	// The rows of cli/bench.cpp, from the same seed
	const auto &rows = iommulab::DIRTY_ROWS;
	constexpr int NROWS = std::size(iommulab::DIRTY_ROWS);
	double ms[NROWS] = {};
	std::mt19937_64 rng(12);

	auto row = [&](const char *name, double share, double m) {
		std::printf("  %-24s %9.2f%% %12.2f %10.2f %11.2fx\n", name, share,
			    m, m * 1e6 / b.pages, m / plain_ms);
	};
	for (int k = 0; k < NROWS; k++) {
		auto map = iommulab::dirty_pattern(b.pages, rows[k].per_million,
						   rows[k].run, rng);
		t.clear();
		for (int r = 0; r < reps; r++) {
			b.mark(map);
			t.push_back(b.time_harvest(true, map));
		}
		ms[k] = median_ms(t);
		row(rows[k].name, rows[k].per_million / 1e4, ms[k]);
		if (k)
			continue;
		b.mark(map);
		t.clear();
		for (int r = 0; r < reps; r++)
			t.push_back(b.time_harvest(false, map));
		b.harvest(true);
		row("  the same, NO_CLEAR", 100.0, median_ms(t));
	}
	using iommulab::ROW_ALL;
	std::printf("  100%% / 0.1%%: %.1fx in 64 KiB runs, %.1fx in 16 KiB "
		    "runs, %.1fx with the pages at random; 100%% vs the plain "
		    "read: %.2fx\n", ms[ROW_ALL] / ms[iommulab::ROW_RUNS_64K],
		    ms[ROW_ALL] / ms[iommulab::ROW_RUNS_16K],
		    ms[ROW_ALL] / ms[iommulab::ROW_RANDOM], ms[ROW_ALL] / plain_ms);
	return 0;
}
