#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check-lane`: tests of the VM lane itself (selftests/vm.sh), on what
# is already built. Two cases, each a real boot with short timeouts:
#   before-init  the guest never prints init's BOOT marker (the kernel
#                argument iommulab_selftest.hang=before-boot makes the
#                generated /init wait before it): every boot is killed after
#                VM_BOOT_TIMEOUT, retried up to VM_BOOT_TRIES, each retry
#                reported with its console kept, and the lane fails "boot".
#   after-init   init runs, then a guest program (VM_EXTRA) never returns:
#                the boot watchdog must see the BOOT marker and leave the
#                guest alone; VM_TIMEOUT ends it and the lane fails with
#                "guest hung after init", never retrying.
# Each case passes when the lane exits non-zero AND says exactly that.
# Runs in build/test-lane/ (its own logs, the normal lane's are untouched).
# Ends with "N passed, N failed" (also in build/check-lane.result).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$IOMMULAB_ROOT"

dir=$IOMMULAB_ROOT/build/test-lane
tally_start check-lane "$IOMMULAB_ROOT/build/check-lane.result"
rm -rf "$dir"
mkdir -p "$dir"

# lane NAME ENV...: runs vm.sh check with ENV (no harness), output in
# $dir/NAME.out; sets lane_rc.
lane() {
	local name=$1
	shift
	echo "check-lane: $name: $*"
	set +e
	env BUILD_DIR="$dir/$name" VM_HARNESS=0 VM_VERBOSE=0 VM_EXTRA= VM_ARGS= \
		VM_APPEND= VM_KMEMLEAK=0 "$@" selftests/vm.sh check >"$dir/$name.out" 2>&1
	lane_rc=$?
	set -e
	sed 's/^/  | /' "$dir/$name.out"
}
# expect NAME WHAT PATTERN: one condition of case NAME; prints it if unmet.
bad=0
expect() {
	if ! grep -q -E -- "$3" "$dir/$1.out"; then
		echo "check-lane: $1: expected $2 (/$3/ in $dir/$1.out)"
		bad=1
	fi
}
refuse() {
	if grep -q -E -- "$3" "$dir/$1.out"; then
		echo "check-lane: $1: unexpected: $2 (/$3/ in $dir/$1.out)"
		bad=1
	fi
}
verdict() {
	if [ "$lane_rc" -eq 0 ]; then
		echo "check-lane: $1: the lane passed a hung guest"
		bad=1
	fi
	if [ "$bad" = 0 ]; then tally_add 1 0 0 "$1"; else tally_add 0 1 0 "$1"; fi
	bad=0
}

# ---------------------------------------------------------- before init ---
lane before-init VM_APPEND=iommulab_selftest.hang=before-boot \
	VM_BOOT_TIMEOUT=8 VM_BOOT_TRIES=2 VM_TIMEOUT=60
expect before-init "boot 1 killed and reported" 'boot 1 hung before init \(no BOOT marker after 8s\)'
expect before-init "a second boot" 'booting again \(attempt 2 of 2\)'
expect before-init "boot 2 killed and reported" 'boot 2 hung before init'
expect before-init "the boot counted as failed" 'FAILED +boot \(init never ran in 2 attempt\(s\)\)'
refuse before-init "a third boot" 'attempt 3'
refuse before-init "an after-init verdict" 'hung after init'
for n in 1 2; do
	[ -s "$dir/before-init/vm-check.log.hung-$n" ] ||
		{ echo "check-lane: before-init: console of boot $n not kept"; bad=1; }
done
verdict before-init

# ----------------------------------------------------------- after init ---
# A guest program that never returns (a script: the guest has /bin/sh).
hang=$dir/hang-forever
printf '#!/bin/sh\necho "hang-forever: sleeping"\nwhile :; do sleep 1000; done\n' >"$hang"
chmod 755 "$hang"
# The watchdog looks at 15 s, long after the BOOT marker (a few seconds in);
# the guest is asleep then, with little console output since.
lane after-init VM_EXTRA="$hang" VM_BOOT_TIMEOUT=15 VM_BOOT_TRIES=3 VM_TIMEOUT=30
expect after-init "init ran" '^---- BOOT '
expect after-init "the program started" 'hang-forever: sleeping'
expect after-init "the hang named" 'guest hung after init: still running after VM_TIMEOUT=30s \(last marker: BEGIN extra 1-hang-forever\)'
expect after-init "the program counted as failed" 'FAILED +extra .*hang-forever \(exit none'
refuse after-init "a before-init verdict" 'hung before init'
refuse after-init "a retry" 'booting again'
verdict after-init
