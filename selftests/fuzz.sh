#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make fuzz`: a long fuzzer run (default 100,000 calls) in the VM.
#
# By default on the debug kernel (KASAN, lockdep, kmemleak, UBSAN; built
# once per machine, see selftests/debug-kernel.sh) with the module built
# for it in build/debug/src; FUZZ_KERNEL=normal uses Debian's kernel and
# kmod/iommulab.ko instead (faster, catches less). Only the fuzzer runs in
# the guest (no harness); then rmmod, the kmemleak scan (debug kernel) and
# the kernel-log check of the VM lane.
#
# Environment:
#   FUZZ_CALLS    calls in all (100000)
#   FUZZ_SECONDS  time limit of the fuzzer itself (3600)
#   FUZZ_THREADS  threads (4)
#   FUZZ_FDS      shared iommufds (3)
#   FUZZ_SEED     seed (default: from the clock; printed for replay)
#   FUZZ_KERNEL   debug (default) or normal
# Ends with the VM lane's "vm: N passed, N failed"; exit 0 only if the
# fuzzer found nothing and the kernel log stayed clean.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/debug-lib.sh"
cd "$IOMMULAB_ROOT"

MAKE=${MAKE:-make}
FUZZ_CALLS=${FUZZ_CALLS:-100000}
FUZZ_SECONDS=${FUZZ_SECONDS:-3600}
FUZZ_THREADS=${FUZZ_THREADS:-4}
FUZZ_FDS=${FUZZ_FDS:-3}
FUZZ_SEED=${FUZZ_SEED:-$(date +%s)}
FUZZ_KERNEL=${FUZZ_KERNEL:-debug}
export VM_TIMEOUT=${VM_TIMEOUT:-$((${FUZZ_SECONDS%.*} + 900))}

args=",--seed=$FUZZ_SEED,--calls=$FUZZ_CALLS,--seconds=$FUZZ_SECONDS"
args+=",--threads=$FUZZ_THREADS,--fds=$FUZZ_FDS"
echo "fuzz: seed $FUZZ_SEED, $FUZZ_CALLS calls (limit ${FUZZ_SECONDS}s), $FUZZ_THREADS threads, $FUZZ_KERNEL kernel"

case $FUZZ_KERNEL in
debug)
	$MAKE userspace
	stage_programs iommulab-fuzz
	debug_kernel || die "debug kernel build failed"
	build_debug_module || die "module build against the debug kernel failed"
	VM_HARNESS=0 VM_EXTRA="$DEBUG_BUILD/iommulab-fuzz$args" run_debug_vm
	;;
normal)
	$MAKE all
	mkdir -p build/fuzz
	cp build/iommulab-fuzz build/fuzz/iommulab-fuzz
	BUILD_DIR=$IOMMULAB_ROOT/build/fuzz VM_HARNESS=0 \
		VM_EXTRA="build/fuzz/iommulab-fuzz$args" selftests/vm.sh check
	;;
*)
	die "FUZZ_KERNEL must be debug or normal"
	;;
esac
