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
#   tap          the counting of extra programs (VM_EXTRA), in one boot:
#                a kselftest-style TAP program counts as its cases (a
#                "not ok" fails and is named, a "# SKIP" is skipped,
#                diagnostics and nested lines are not cases), one that
#                dies short of its plan fails the missing cases and its
#                exit, a program without TAP is one test by exit code (0,
#                77 skip, else failed); and the guest is prepared as such
#                programs expect (hugetlb pages, hugetlbfs, /dev/shm,
#                /proc/self/exe). The lane must fail (programs fail on
#                purpose) with exactly the expected counts.
# Each hang case passes when the lane exits non-zero AND says exactly that.
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
# The watchdog looks at 45 s, long after the BOOT marker (a few seconds in,
# up to about 20 s on a loaded 2-core host); the guest is asleep then, with
# little console output since.
lane after-init VM_EXTRA="$hang" VM_BOOT_TIMEOUT=45 VM_BOOT_TRIES=3 VM_TIMEOUT=60
expect after-init "init ran" '^---- BOOT '
expect after-init "the program started" 'hang-forever: sleeping'
expect after-init "the hang named" 'guest hung after init: still running after VM_TIMEOUT=60s \(last marker: BEGIN extra 1-hang-forever\)'
expect after-init "the program counted as failed" 'FAILED +extra .*hang-forever \(exit none'
refuse after-init "a before-init verdict" 'hung before init'
refuse after-init "a retry" 'booting again'
verdict after-init

# ------------------------------------------------------------------- tap ---
# Guest programs are shell scripts (the guest has busybox's /bin/sh).
prog() { printf '#!/bin/sh\n%s\n' "$2" >"$dir/$1"; chmod 755 "$dir/$1"; }
prog tap-full 'echo "TAP version 13"; echo "1..4"; echo "# Starting 4 tests"
echo "#  RUN           fx.a ..."; echo "ok 1 fx.a"; echo "# fx.c:12:b:Expected 0 (0) == errno (22)"
echo "not ok 2 fx.b"; echo "ok 3 fx.c # SKIP no such thing"; echo "# ok 9 diagnostic-not-a-case"
echo "    ok 1 nested-not-a-case"; echo "ok 4 fy.d"; echo "# FAILED: 2 / 4 tests passed."; exit 1'
prog tap-dies 'echo "TAP version 13"; echo "1..5"; echo "ok 1 fz.a"; echo "ok 2 fz.b"; kill -SEGV $$'
# The guest as kselftest programs expect it.
prog tap-env 'echo "1..4"
hp=$(awk "/^HugePages_Total:/ { print \$2 }" /proc/meminfo)
[ "${hp:-0}" -gt 0 ] && echo "ok 1 env.hugepages ($hp)" || echo "not ok 1 env.hugepages"
grep -q " /dev/hugepages hugetlbfs " /proc/mounts && echo "ok 2 env.hugetlbfs" || echo "not ok 2 env.hugetlbfs"
grep -q " /dev/shm tmpfs " /proc/mounts && echo "ok 3 env.dev_shm" || echo "not ok 3 env.dev_shm"
[ -n "$(readlink /proc/self/exe)" ] && echo "ok 4 env.proc_self_exe" || echo "not ok 4 env.proc_self_exe"'
prog plain-pass 'echo "no TAP here"; exit 0'
prog plain-skip 'echo "ok, nothing to do (not TAP: no number)"; exit 77'
prog plain-fail 'exit 3'
lane tap VM_EXTRA="$dir/tap-full $dir/tap-dies $dir/tap-env $dir/plain-pass $dir/plain-skip $dir/plain-fail" \
	VM_BOOT_TIMEOUT=300 VM_BOOT_TRIES=3 VM_TIMEOUT=300
expect tap "the hugetlb pages reserved" '^---- HUGETLB wanted=([1-9][0-9]*) reserved=\1$'
expect tap "a failed case named" '^  FAILED  extra .*/tap-full: fx\.b$'
expect tap "a skipped case named with its reason" '^  skipped extra .*/tap-full: fx\.c \(no such thing\)$'
expect tap "the full program counted by case" 'tap-full: 2 passed, 1 failed, 1 skipped \(TAP cases, plan 1\.\.4\), exit 1$'
refuse tap "a diagnostic or nested line counted" '(ok|FAILED|skipped) +extra .*not-a-case'
refuse tap "an exit explained by its failed case counted again" 'tap-full \(exit 1\)'
expect tap "the cases after the crash failed" '^  FAILED  extra .*/tap-dies: 3 of 5 planned case\(s\) never reported$'
expect tap "the crash failed" '^  FAILED  extra .*/tap-dies \(exit 139\)$'
expect tap "the guest prepared for kselftest" 'tap-env: 4 passed, 0 failed, 0 skipped'
expect tap "a program without TAP passed by exit 0" '^  ok      extra .*/plain-pass$'
expect tap "a program without TAP skipped by exit 77" '^  skipped extra .*/plain-skip \(exit 77\)$'
expect tap "a program without TAP failed by exit 3" '^  FAILED  extra .*/plain-fail \(exit 3\)$'
expect tap "the lane clean" '^  ok      kernel log clean$'
expect tap "the exact totals" '^vm: 12 passed, 6 failed, 2 skipped$'
if [ "$lane_rc" -eq 0 ]; then
	echo "check-lane: tap: the lane passed a run with failed cases"
	bad=1
fi
if [ "$bad" = 0 ]; then tally_add 1 0 0 tap; else tally_add 0 1 0 tap; fi
bad=0
