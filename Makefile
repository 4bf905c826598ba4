# SPDX-License-Identifier: GPL-2.0-only
#
# iommulab: top-level build. `make help` lists the targets and variables.
#
# The kernel module in kmod/ is built out of tree with Kbuild against the
# headers of the Debian kernel that the VM lane boots (not the host's
# `uname -r`): Debian 12's own 6.1 by default, `KVER=6.12` for the 6.12 of
# Debian's security suite; the userspace in userspace/ is a CMake project
# built in build/.

SHELL := /bin/bash
.DEFAULT_GOAL := all

CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD := build

# Settings the scripts read from the environment (see `make help`).
export REPEAT KVER KDIR KIMAGE VM_ACCEL VM_TIMEOUT VM_BOOT_TIMEOUT VM_BOOT_TRIES VM_EXTRA VM_ARGS VM_VERBOSE VM_APPEND VM_MEM VM_SMP VM_HUGEPAGES VM_HUGEPAGES_1G VM_CPU VM_MODULE_ARGS VM_PRE_MODULES VM_FILES

# Chooses KVER/KDIR/KIMAGE (selftests/lib.sh) and prints the choice.
KSEL := . selftests/lib.sh && select_kernel

.PHONY: all deps module userspace check check-lane demo bench lint vm clean help kernel

all: module userspace

deps:
	@selftests/deps.sh

kernel: deps
	@$(KSEL)

module: deps
	@$(KSEL) && \
	$(MAKE) -C "$$KDIR" M=$(CURDIR)/kmod KCFLAGS=-Werror modules

userspace: deps
	cmake -S userspace -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE)
	cmake --build $(BUILD) -j$(JOBS)

# check.sh builds (via `$(MAKE) all`) itself, so that a failed build still
# ends with the "N passed, N failed" line.
check: deps
	@MAKE="$(MAKE)" selftests/check.sh

# The VM lane's own test (selftests/test-lane.sh): a boot that hangs before
# init is retried, a guest that hangs after init is a failure named so and
# never retried. About a minute; CI runs it (.ci/run).
check-lane: all
	@selftests/test-lane.sh

# The debug kernel lane (selftests/check-debug.sh): the harness, the fail-nth
# sweep and a bounded fuzzer run on a KASAN/lockdep/kmemleak/fault-injection
# kernel built once per machine from linux-source-6.12 (cached in
# /var/cache/iommulab/debug-kernel; the same kernel is the oracle of
# check-upstream; DEBUG_KERNEL_SERIES=6.1 builds a 6.1 one instead), with
# the module built for it in build/debug/. Ends with "N passed, N failed".
.PHONY: check-debug fuzz
export FUZZ_SEED FUZZ_CALLS FUZZ_SECONDS FUZZ_THREADS FUZZ_FDS FUZZ_KERNEL DEBUG_KERNEL_CACHE DEBUG_KERNEL_SERIES
check-debug: deps
	@MAKE="$(MAKE)" selftests/check-debug.sh

# A long fuzzer run in the VM (selftests/fuzz.sh), on the debug kernel by
# default: `make fuzz FUZZ_CALLS=100000 [FUZZ_SEED=n FUZZ_KERNEL=normal]`.
fuzz: deps
	@MAKE="$(MAKE)" selftests/fuzz.sh

demo: all
	@selftests/vm.sh demo

# Benchmarks in the VM (4 GiB guest), then bench dirty's harvest on the
# host CPU (iommulab-ptbench): figures only, nothing is judged.
bench: all
	@VM_MEM=$${VM_MEM:-4G} VM_SCENARIO=selftests/bench.scn selftests/vm.sh demo
	@$(BUILD)/iommulab-ptbench

# Upstream Linux's own iommufd selftest, built unchanged from a directory the
# user fetched (README, "Upstream's own selftest"), run in the VM lane;
# pass/fail per fixture, non-zero if a must-pass fixture (the list is at the
# top of selftests/conformance.sh) has a failing case.
.PHONY: conformance
export UPSTREAM_SELFTEST
conformance: deps
	@MAKE="$(MAKE)" selftests/conformance.sh

# The differential lane (selftests/check-upstream.sh): one boot of the 6.12
# debug kernel with upstream's own iommufd.ko at /dev/iommu beside
# iommulab.ko at /dev/iommulab; the harness and upstream 6.12's selftest
# (built from Debian's linux-source-6.12 into build/upstream/) on both; every
# difference fails unless README's "Known differences from upstream 6.12"
# lists it. Ends with "N passed, N failed".
.PHONY: check-upstream
export CHECK_UPSTREAM_ARGS UPSTREAM_SRC
check-upstream: deps
	@MAKE="$(MAKE)" selftests/check-upstream.sh

# Only the VM lane (check mode), on what is already built.
vm:
	@selftests/vm.sh check

lint: deps
	@selftests/lint.sh

clean:
	@if . selftests/lib.sh && select_kernel quiet 2>/dev/null; then \
		$(MAKE) -C "$$KDIR" M=$(CURDIR)/kmod clean; \
	fi
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	      kmod/Module.symvers kmod/modules.order
	rm -rf kmod/.tmp_versions $(BUILD)

help:
	@echo 'Targets:'
	@echo '  all (default)  build kmod/iommulab.ko (-Werror) and the userspace in $(BUILD)/'
	@echo '  deps           install missing Debian packages (root; run first by the others)'
	@echo '  module         build only the kernel module'
	@echo '  userspace      build only the userspace (cmake)'
	@echo '  check          build, native unit tests, VM lane; ends with "N passed, N failed"'
	@echo '                 REPEAT=N: one build, unit tests + VM lane N times, each run reported'
	@echo '  check-lane     test the VM lane itself: hang before init retried, after init failed'
	@echo '  demo           build, then run the demo scenarios with the CLI in the VM'
	@echo '  bench          benchmarks in the VM (selftests/bench.scn), then the dirty'
	@echo '                 harvest on the host CPU (iommulab-ptbench); figures only'
	@echo '  vm             VM lane only (check mode), no rebuild'
	@echo '  conformance    UPSTREAM_SELFTEST=DIR: build upstream'"'"'s iommufd selftest from DIR,'
	@echo '                 run it in the VM, pass/fail per fixture (see README)'
	@echo '  check-debug    the VM lane on a debug kernel (KASAN, lockdep, kmemleak, fail-nth'
	@echo '                 sweep, fuzzer) on 6.12; builds the kernel once per machine (~30 min)'
	@echo '  fuzz           long fuzzer run in the VM: FUZZ_CALLS=100000 FUZZ_SEED= FUZZ_THREADS=4'
	@echo '                 FUZZ_SECONDS=3600 FUZZ_KERNEL=debug|normal'
	@echo '  check-upstream the harness and upstream 6.12'"'"'s selftest on upstream'"'"'s iommufd and on'
	@echo '                 iommulab, one boot of the 6.12 debug kernel; differences not in README fail'
	@echo '  lint           sparse + checkpatch --strict on kmod/ and uapi/'
	@echo '  kernel         print the kernel version/headers/image that would be used'
	@echo '  clean          remove module build artefacts and $(BUILD)/'
	@echo 'Variables:'
	@echo '  KVER=<ver>     kernel: 6.1 (the default, Debian 12'"'"'s own), 6.12, or a full version'
	@echo '  KDIR=<dir>     kernel headers/build tree (default /usr/src/linux-headers-$$KVER)'
	@echo '  KIMAGE=<file>  kernel booted by the VM lane (default /boot/vmlinuz-$$KVER)'
	@echo '  VM_ACCEL=tcg   QEMU accelerator (kvm is opt-in; it hangs on nested setups)'
	@echo '  VM_TIMEOUT=600 seconds before the VM is killed and the lane fails'
	@echo '  VM_BOOT_TIMEOUT=300 VM_BOOT_TRIES=3  a boot that has not reached init'
	@echo '                 in time is killed and retried (reported), up to TRIES boots'
	@echo '  VM_EXTRA="p1 p2"  extra programs run in the VM after the harness (one test each,'
	@echo '                 or one per case when a program prints kselftest TAP)'
	@echo '  VM_MEM=3G VM_SMP=2  guest memory and CPUs'
	@echo '  VM_HUGEPAGES=128  2 MiB hugetlb pages reserved in the guest (0: none)'
	@echo '  VM_ARGS=...    extra arguments for the harness, e.g. VM_ARGS='"'"'-tc="ioas*"'"'"
	@echo '  VM_VERBOSE=1   show the whole guest console live (boot included)'
	@echo '  VM_APPEND=...  extra kernel command-line arguments for the guest'
	@echo '  CMAKE_BUILD_TYPE=RelWithDebInfo, JOBS=$(JOBS)'
