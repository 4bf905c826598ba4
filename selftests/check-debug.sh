#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-debug`: the reliability lane. Everything `make check` runs in
# the VM, on a debug kernel (KASAN, lockdep, kmemleak, UBSAN, fault
# injection, ...; built once per machine by selftests/debug-kernel.sh), plus
# the fail-nth sweep and a bounded fuzzer run:
#   1. build the userspace (harness, iommulab-failnth, iommulab-fuzz);
#   2. build or reuse the debug kernel (cached outside the work tree);
#   3. build the module against it in build/debug/src (not kmod/: the
#      `make check` module stays as it is), -Werror, every symbol resolved;
#   4. boot it with selftests/vm.sh: the harness, then iommulab-failnth,
#      then iommulab-fuzz --seed $FUZZ_SEED --calls $FUZZ_CALLS ..., then
#      rmmod, a kmemleak scan, and the kernel-log check of `make check`
#      (allocation-failure reports inside the fail-nth windows excused;
#      the sweep fails order-0 page allocations too, and the reports are
#      listed by order after the run; one outside the windows fails).
# Ends with one line "N passed, N failed" (", N skipped" if any), also in
# build/debug/check-debug.result, and exits non-zero if anything failed.
# Counted: a failed build step as 1 failed; the VM lane's own counts (see
# vm.sh). A fail-nth sweep that was skipped (no fault injection in the
# kernel) counts as failed here: this lane exists to run it.
#
# Environment: FUZZ_SEED (1), FUZZ_CALLS (100000), FUZZ_SECONDS (600),
# FUZZ_THREADS (4); VM_TIMEOUT (1800); VM_EXTRA, VM_ARGS, VM_VERBOSE as for
# `make check`; DEBUG_KERNEL_CACHE (see debug-kernel.sh).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/debug-lib.sh"
cd "$IOMMULAB_ROOT"

MAKE=${MAKE:-make}
FUZZ_SEED=${FUZZ_SEED:-1}
FUZZ_CALLS=${FUZZ_CALLS:-100000}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_THREADS=${FUZZ_THREADS:-4}
export VM_TIMEOUT=${VM_TIMEOUT:-1800}
tally_start check-debug "$DEBUG_BUILD/check-debug.result"

echo "check-debug: building the userspace"
if ! $MAKE userspace; then
	tally_add 0 1 0 "userspace build FAILED"
	exit 1
fi
if ! stage_programs iommulab-test iommulab iommulab-failnth iommulab-fuzz; then
	tally_add 0 1 0 "guest programs missing"
	exit 1
fi

echo "check-debug: debug kernel (built once per machine, then cached)"
if ! debug_kernel; then
	tally_add 0 1 0 "debug kernel build FAILED"
	exit 1
fi
echo "check-debug: kernel $DEBUG_KVER: $DEBUG_KIMAGE"

if ! build_debug_module; then
	tally_add 0 1 0 "module build against the debug kernel FAILED"
	exit 1
fi

fuzz="$DEBUG_BUILD/iommulab-fuzz,--seed=$FUZZ_SEED,--calls=$FUZZ_CALLS"
fuzz+=",--seconds=$FUZZ_SECONDS,--threads=$FUZZ_THREADS"
result=$DEBUG_BUILD/vm-check.result
rm -f "$result"
VM_EXTRA="$DEBUG_BUILD/iommulab-failnth $fuzz ${VM_EXTRA:-}" run_debug_vm || true
tally_add_result "$result" "VM lane (debug kernel)"

log=$DEBUG_BUILD/vm-check.log
if grep -a -q 'failnth: skipped' "$log" 2>/dev/null; then
	tally_add 0 1 -1 "fail-nth sweep skipped: the debug kernel has no fault injection"
fi
# The figures worth seeing in CI output.
grep -a -E '^failnth: [0-9]+ passed|^fuzz: [0-9]+ calls in|^fuzz: (ok|FAILED)' "$log" 2>/dev/null |
	sed 's/\r$//; s/^/  /' || true

# Allocation-failure reports (warn_alloc(): "page allocation failure:
# order:N" or "vmalloc error:"). The sweep fails order-0 page allocations
# too (fail_page_alloc min-order 0: the IOPTE tables), so order-0 reports
# are expected; vm.sh excuses them, like any order, only between the
# sweep's "IOMMULAB-FAULT-INJECTION begin/end" lines. Show them by order,
# and fail on any report outside every window: an allocation failed that
# nobody injected (vm.sh's kernel-log check fails on its stack dump too).
alloc_reports=$(awk '
	/IOMMULAB-FAULT-INJECTION begin/ { inj = 1 }
	/IOMMULAB-FAULT-INJECTION end/ { inj = 0 }
	/(page allocation failure|vmalloc error): / {
		o = "vmalloc"
		if (match($0, /order:[0-9]+/))
			o = "order-" substr($0, RSTART + 6, RLENGTH - 6)
		if (inj)
			ins[o]++
		else
			out++
	}
	END {
		s = ""
		for (o in ins)
			s = s " " o ":" ins[o]
		printf "%d%s\n", out + 0, s
	}' "$log" 2>/dev/null || echo 0)
read -r alloc_outside alloc_inside <<<"$alloc_reports"
echo "  allocation-failure report lines (console and dmesg dump) inside fail-nth windows:" \
	"${alloc_inside:-none}; outside: $alloc_outside"
if [ "$alloc_outside" -ne 0 ]; then
	tally_add 0 1 0 "allocation-failure report outside the fail-nth windows"
fi
