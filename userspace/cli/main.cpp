// SPDX-License-Identifier: GPL-2.0
// iommulab CLI: thin CLI11 front end over the library.
//
// Every subcommand can run alone, or many can run from a scenario file with
// `iommulab run FILE`, all on one open fd (iommufd objects die with the fd).
// In a scenario, `--as NAME` remembers an ID as $NAME for later lines, and a
// line starting with `! ERRNO` expects that command to fail with ERRNO.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench.hpp"
#include "iommulab.hpp"

using namespace iommulab;

namespace {

struct Session {
	std::string device = default_device_path();
	std::unique_ptr<Iommufd> fd;
	std::map<std::string, uint32_t> vars;

	const Iommufd &iommufd()
	{
		if (!fd) {
			fd = std::make_unique<Iommufd>(device);
			std::cout << "opened " << device << " (fd " << fd->fd()
				  << ")\n";
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
};

int run_scenario(Session &s, const std::string &path);

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
			  << "\n";
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
	auto *map_as = map->add_option("--as", "scenario name for the IOVA");
	map->callback([&s, map_ioas, map_len, map_iova, map_ro, map_as] {
		uint64_t len = map_len->as<uint64_t>();
		// Memory for scenario maps lives as long as the process.
		void *mem = mmap(nullptr, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
	unmap->callback([&s, unmap_ioas, unmap_iova, unmap_len] {
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

	auto *bench = app.add_subcommand("bench", "benchmarks (print figures)");
	bench->require_subcommand(1);
	auto *bmap = bench->add_subcommand("map", "MAP+UNMAP vs raw pinning, 4 KiB and THP");
	auto *bsize = bmap->add_option("--mib", "buffer size in MiB")->default_val(1024);
	auto *breps = bmap->add_option("--reps", "repetitions")->default_val(3);
	bmap->callback([&s, bsize, breps] {
		bench_map(s.iommufd(), bsize->as<uint64_t>() << 20, breps->as<int>());
	});

	if (in_scenario)
		return;

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
