#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The VM lane: boot a kernel under QEMU with a busybox initramfs, load
# iommulab.ko, run the test harness (or the demo scenario) and any extra
# programs, unload the module, and judge the run from the serial console.
#
# Usage: selftests/vm.sh [check|demo]
#   check  run /iommulab-test (doctest harness), then the extras
#   demo   run `/iommulab run` on each scenario (VM_SCENARIO), then the extras
#
# Environment (all optional):
#   KVER KDIR KIMAGE  kernel choice, see selftests/lib.sh
#   VM_ACCEL    tcg (default) or kvm (opt-in: nested KVM hangs on some hosts)
#   VM_TIMEOUT  seconds before QEMU is killed, default 600
#   VM_BOOT_TIMEOUT VM_BOOT_TRIES  a boot that has not reached init after
#               VM_BOOT_TIMEOUT seconds (300) is killed and retried, up to
#               VM_BOOT_TRIES boots in all (3); see "Boot watchdog" below
#   VM_EXTRA    "prog1 prog2 ...": extra programs to copy into the guest and
#               run after the harness; a program that prints TAP counts as its
#               cases, any other is one test by its exit code (see "Extra
#               programs" below). Arguments follow
#               the path after commas: "prog,--seed=5,--calls=100" runs
#               `prog --seed=5 --calls=100` (an entry that is an existing file
#               as a whole is taken as a path, commas and all)
#   VM_ARGS     extra arguments for the harness, shell-quoted as on a command
#               line, e.g. VM_ARGS='-tc="ioas*" -s'
#   VM_MEM VM_SMP  guest memory (3G) and CPUs (2)
#   VM_HUGEPAGES  2 MiB hugetlb pages the guest's init reserves (128), for
#               programs that mmap(MAP_HUGETLB) or use MFD_HUGETLB memfds;
#               0 reserves none
#   VM_HUGEPAGES_1G  1 GiB hugetlb pages reserved at boot (kernel command
#               line hugepagesz=1G hugepages=N; default 1, taken out of
#               VM_MEM), for 1 GiB IOPTEs; 0 reserves none
#   VM_CPU      QEMU's -cpu under TCG (empty or unset: qemu64,+pdpe1gb, QEMU's
#               default model with 1 GiB pages, which VM_HUGEPAGES_1G needs)
#   VM_VERBOSE  1: show the whole console live (boot messages included)
#   VM_APPEND   extra kernel command line arguments
#   VM_MODULE   module to load (default kmod/iommulab.ko)
#   VM_MODULE_ARGS  insmod arguments for that module, word-split, e.g.
#               "devname=iommulab"; the device node the insmod check looks
#               for is /dev/<devname> (/dev/iommu without a devname=)
#   VM_PRE_MODULES  "a.ko b.ko": modules insmod'ed, in this order, before
#               the module (e.g. upstream's iommufd.ko on the oracle kernel
#               of selftests/check-upstream.sh); each counts as one test
#               ("insmod NAME"); none by default. Nothing rmmods them.
#   VM_FILES    "file1 file2": more files copied into the guest, each as
#               /files/<its basename> (data or programs that an extra
#               program uses; two with one basename are an error); none by
#               default
#   VM_SCENARIO "a.scn b.scn": the scenarios of demo mode, run in this
#               order, each by its own CLI process (default
#               selftests/demo.scn, pasid-path.scn, aux-path.scn,
#               subdev-pasid.scn, subdev-aux.scn, migration.scn and
#               fault.scn)
#   VM_CHECK_SCENARIOS 1: check mode also runs the VM_SCENARIO scenarios
#               after the harness, each by its own CLI process and each
#               counted as one test ("scenario NAME"); make check sets it
#               (default 0)
#   BUILD_DIR   where the userspace was built (default build/)
#   VM_HARNESS  0: check mode runs only the extras, not the doctest harness
#               (default 1)
#   VM_KMEMLEAK 1: the kernel must have kmemleak, and its scan after rmmod
#               counts as one more test (it fails when kmemleak is missing or
#               disabled itself; a report fails "kernel log clean" as always)
#
# Output: the console log in $BUILD_DIR/vm-<mode>.log and, as the last line
# on stdout and in $BUILD_DIR/vm-<mode>.result, "vm: N passed, N failed".
# Counted: every doctest test case of the harness (demo mode: the demo is
# one test; a case that printed "iommulab-skip: <case>: <why>", the
# harness's run-time skip, counts as skipped), the extra programs (below),
# one per VM_PRE_MODULES entry (its insmod), and one each for insmod (with
# its device node present: /dev/iommu by default), rmmod, and a clean
# kernel log (no timeout, no BUG/WARNING/... line, no bad taint flag, no
# kmemleak report). Anything that did not run counts as failed. Exit
# status: 0 only when nothing failed.
#
# Extra programs: one that prints kselftest/TAP results counts as its cases
# (parse_tap in lib.sh reads the lines between its BEGIN and END markers):
# "ok N name" passed, "not ok N name" failed and printed by name,
# "ok N name # SKIP why" skipped (printed with the reason); lines starting
# with "#" (diagnostics) or white space (nested subtests) are not cases.
# A plan "1..N" with fewer results (the program died or hung) fails each
# missing case, and then its exit status fails one more test; "1..0" alone
# is one skipped test. A program whose cases all reported fails one more
# test for its exit status only when no case failed and the status is not
# 0, 4 (kselftest's skip) or 77. A program that prints no TAP is one test:
# exit 0 passed, 77 skipped, anything else (or no exit: it did not finish)
# failed. The guest's init prepares what such programs expect: hugetlb
# pages (VM_HUGEPAGES), hugetlbfs on /dev/hugepages, /proc, /sys, /dev/shm.
#
# Kernel-log policy (what fails "kernel log clean"), decided for a TCG guest
# on a slow, shared host:
#   - fails, always: BUG:, WARNING:, Oops, KASAN, UBSAN, lockdep reports,
#     kmemleak reports, general protection faults, list corruption, panics,
#     and "soft lockup"/"hard LOCKUP": a CPU that did not schedule for 20 s
#     is stuck in a loop, and the only loops the tests drive are the
#     module's (which must have cond_resched() points), so it is a bug;
#   - fails only when the report names the module: a hung task ("blocked
#     for more than N seconds") and an RCU stall ("rcu: INFO: ...
#     self-detected stall" / "detected stalls on CPUs/tasks"). Under TCG
#     a starved emulator thread makes both without any bug (the guest clock
#     is host time). A report whose lines, stack dumps included, mention
#     "[iommulab]" (a module frame) fails like any splat; any other such
#     report is excused: counted and shown as a note, and its stack dumps
#     ("Call Trace:" lines, which fail elsewhere) are dropped with it;
#   - ignored: lines with the marker "iommulab-selftest-fake:", which the
#     harness writes into the log on purpose (test_harness.cpp tests the
#     harness's KernelLog with fake splats).
# The harness's own per-test check (KernelLog, userspace/tests/vm/
# kernel_log.hpp) follows the same policy for the records of its window.
#
# Fault injection: a guest program that injects allocation failures (the
# fail-nth sweep) brackets them with "IOMMULAB-FAULT-INJECTION begin ..." and
# "... end" lines in the kernel log. Between two such lines, the kernel's
# report of a failed allocation (warn_alloc(): a "page allocation failure:"
# or "vmalloc error:" line and the stack dump that follows it, up to its
# "</TASK>") is expected and does not fail the kernel-log check; every other
# bad line there still does.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$IOMMULAB_ROOT

mode=${1:-check}
case $mode in
check | demo) ;;
*) die "usage: $0 [check|demo]" ;;
esac

VM_ACCEL=${VM_ACCEL:-tcg}
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-300}
VM_BOOT_TRIES=${VM_BOOT_TRIES:-3}
VM_MEM=${VM_MEM:-3G}
VM_SMP=${VM_SMP:-2}
VM_HUGEPAGES=${VM_HUGEPAGES:-128}
[[ $VM_HUGEPAGES =~ ^[0-9]+$ ]] || die "VM_HUGEPAGES=$VM_HUGEPAGES is not a number of 2 MiB pages"
VM_HUGEPAGES_1G=${VM_HUGEPAGES_1G:-1}
[[ $VM_HUGEPAGES_1G =~ ^[0-9]+$ ]] || die "VM_HUGEPAGES_1G=$VM_HUGEPAGES_1G is not a number of 1 GiB pages"
VM_CPU=${VM_CPU:-qemu64,+pdpe1gb}
VM_EXTRA=${VM_EXTRA:-}
VM_ARGS=${VM_ARGS:-}
VM_VERBOSE=${VM_VERBOSE:-0}
VM_APPEND=${VM_APPEND:-}
VM_KMEMLEAK=${VM_KMEMLEAK:-0}
VM_HARNESS=${VM_HARNESS:-1}
BUILD_DIR=${BUILD_DIR:-$root/build}
KO=${VM_MODULE:-$root/kmod/iommulab.ko}
VM_MODULE_ARGS=${VM_MODULE_ARGS:-}
VM_PRE_MODULES=${VM_PRE_MODULES:-}
VM_FILES=${VM_FILES:-}
# The device node the module makes: /dev/<devname> (module parameter).
devnode=/dev/iommu
for a in $VM_MODULE_ARGS; do
	case $a in devname=*) devnode=/dev/${a#devname=} ;; esac
done
HARNESS=$BUILD_DIR/iommulab-test
CLI=$BUILD_DIR/iommulab
SCN=${VM_SCENARIO:-$root/selftests/demo.scn $root/selftests/pasid-path.scn $root/selftests/aux-path.scn $root/selftests/subdev-pasid.scn $root/selftests/subdev-aux.scn $root/selftests/migration.scn $root/selftests/fault.scn}

mkdir -p "$BUILD_DIR"
work=$BUILD_DIR/vm-$mode
log=$BUILD_DIR/vm-$mode.log
result=$BUILD_DIR/vm-$mode.result
rm -f "$result"

MARK='@@IOMMULAB@@'
# Kernel log lines that fail the run (see "Kernel-log policy" above; stall
# and hung-task reports that do not name the module are taken out first).
BAD_RE='BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking|possible recursive locking|kmemleak: [0-9]+ new suspected|unreferenced object 0x|general protection fault|Call Trace|Kernel panic|soft lockup|hard LOCKUP|blocked for more than|self-detected stall|detected stalls on|list_add corruption|list_del corruption'
# Lines the harness writes into the kernel log on purpose.
FAKE_MARK='iommulab-selftest-fake:'
# Taint flags that mean something went wrong (B bad page, D died/oops,
# W warning, L soft lockup); O (out of tree) and E (unsigned) are expected.
BAD_TAINT=$(((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)))

passed=0 failed=0 skipped=0 finished=0
pass() { passed=$((passed + 1)); printf '  ok      %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  FAILED  %s\n' "$1"; }

finish() {
	local line
	[ "$passed" -gt 0 ] || [ "$failed" -gt 0 ] || failed=1
	line="vm: $(format_counts "$passed" "$failed" "$skipped")"
	printf '%s\n' "$line" >"$result"
	printf '%s\n' "$line"
	finished=1
	[ "$failed" -eq 0 ]
}
# If setup dies before the VM ran, still leave a result that says so.
on_exit() {
	local rc=$?
	[ "$finished" = 0 ] || return 0
	echo "vm: lane aborted (exit $rc)" >&2
	failed=$((failed + 1))
	finish || true
	exit 1
}
trap on_exit EXIT

# ---------------------------------------------------------------- inputs ---
select_kernel
[ -r "$KIMAGE" ] || die "kernel image $KIMAGE not found or not readable (install linux-image-$KVER or set KIMAGE=)"
[ -f "$KO" ] || die "module $KO not built (run 'make')"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed (make deps)"
BUSYBOX=$(command -v busybox || true)
[ -x /bin/busybox ] && BUSYBOX=/bin/busybox
[ -n "$BUSYBOX" ] || die "busybox not installed (make deps)"
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter'; then
	die "$BUSYBOX is dynamically linked; install busybox-static (make deps)"
fi
if [ "$mode" = check ]; then
	[ "$VM_HARNESS" = 0 ] || [ -x "$HARNESS" ] || die "harness $HARNESS not built (run 'make')"
else
	[ -x "$CLI" ] || die "CLI $CLI not built (run 'make')"
	for f in $SCN; do [ -f "$f" ] || die "scenario $f not found"; done
fi
extras=() extra_args=()
for x in $VM_EXTRA; do
	xargs_=
	if [ ! -f "$x" ] && [[ $x == *,* ]]; then
		xargs_=${x#*,}
		x=${x%%,*}
	fi
	[ -f "$x" ] && [ -x "$x" ] || die "VM_EXTRA: $x is not an executable file"
	extras+=("$(realpath "$x")")
	extra_args+=("$xargs_")
done
pre_modules=()
for m in $VM_PRE_MODULES; do
	[ -f "$m" ] || die "VM_PRE_MODULES: $m is not a file"
	pre_modules+=("$(realpath "$m")")
done
files=()
declare -A file_seen=()
for f in $VM_FILES; do
	[ -f "$f" ] || die "VM_FILES: $f is not a file"
	b=$(basename "$f")
	[ -z "${file_seen[$b]:-}" ] || die "VM_FILES: two files named $b"
	file_seen[$b]=1
	files+=("$(realpath "$f")")
done
vermagic=$(modinfo -F vermagic "$KO" 2>/dev/null | awk '{print $1}' || true)
# A module built for another kernel cannot load (insmod: ENOEXEC): say so
# now instead of booting to find out. `make vm` after `make check KVER=6.12`
# is the usual way to get here.
if [ -n "$vermagic" ] && [ "$KVER" != custom ] && [ "$vermagic" != "$KVER" ]; then
	die "$KO was built for $vermagic but the VM would boot $KVER: rebuild it (make module KVER=$KVER) or boot its kernel (KVER=$vermagic)"
fi

# ------------------------------------------------------------- initramfs ---
rootfs=$work/rootfs
rm -rf "$work"
mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,tmp,run,extra,lib/modules,sys/kernel/debug}

# Static busybox with a link per applet.
cp "$BUSYBOX" "$rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"
done
for a in sh mount umount insmod rmmod lsmod dmesg poweroff cat sleep sync; do
	[ -e "$rootfs/bin/$a" ] || die "busybox has no '$a' applet"
done
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$rootfs/dev/console" c 5 1 2>/dev/null || true

# Copy a program into the image, stripped of debug info. A dynamically linked
# one gets its shared libraries too (the harness and CLI are static).
add_prog() {
	local src=$1 dst=$rootfs/$2 lib
	mkdir -p "$(dirname "$dst")"
	objcopy --strip-debug "$src" "$dst" 2>/dev/null || cp "$src" "$dst"
	chmod 755 "$dst"
	if readelf -l "$src" 2>/dev/null | grep -q 'program interpreter'; then
		log "note: $src is dynamically linked; copying its libraries into the guest"
		for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
			[ -e "$rootfs$lib" ] || cp -L --parents "$lib" "$rootfs"
		done
	fi
}

objcopy --strip-debug "$KO" "$rootfs/iommulab.ko" 2>/dev/null || cp "$KO" "$rootfs/iommulab.ko"
# Modules iommulab.ko depends on (none expected), from the booted kernel.
: >"$rootfs/moddeps"
deps=$(modinfo -F depends "$KO" 2>/dev/null | tr ',' ' ' || true)
if [ -n "${deps// /}" ]; then
	for d in $deps; do
		modprobe -S "$KVER" --show-depends "$d" 2>/dev/null | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r m; do
		b=$(basename "$m")
		case $m in
		*.xz) xz -dc "$m" >"$rootfs/lib/modules/${b%.xz}" ;;
		*.zst) zstd -qdc "$m" >"$rootfs/lib/modules/${b%.zst}" ;;
		*.gz) gzip -dc "$m" >"$rootfs/lib/modules/${b%.gz}" ;;
		*) cp "$m" "$rootfs/lib/modules/$b" ;;
		esac
		echo "/lib/modules/${b%.*}.ko" >>"$rootfs/moddeps"
	done
fi

# VM_PRE_MODULES, insmod'ed in order before the module (list in /premods).
: >"$rootfs/premods"
mkdir -p "$rootfs/lib/modules/pre"
for m in "${pre_modules[@]}"; do
	b=$(basename "$m")
	objcopy --strip-debug "$m" "$rootfs/lib/modules/pre/$b" 2>/dev/null || cp "$m" "$rootfs/lib/modules/pre/$b"
	echo "$b" >>"$rootfs/premods"
done
printf '%s\n' "$VM_MODULE_ARGS" >"$rootfs/vm_module_args"
echo "$devnode" >"$rootfs/vm_devnode"
mkdir -p "$rootfs/files"
for f in "${files[@]}"; do
	cp "$f" "$rootfs/files/"
done

[ -x "$HARNESS" ] && add_prog "$HARNESS" iommulab-test
[ -x "$CLI" ] && add_prog "$CLI" iommulab
mkdir -p "$rootfs/scn"
: >"$rootfs/scn/list"
VM_CHECK_SCENARIOS=${VM_CHECK_SCENARIOS:-0}
if [ "$mode" = demo ] || [ "$VM_CHECK_SCENARIOS" = 1 ]; then
	for f in $SCN; do
		cp "$f" "$rootfs/scn/"
		basename "$f" >>"$rootfs/scn/list"
	done
fi
: >"$rootfs/extra/list"
extra_names=()
i=0
for x in "${extras[@]}"; do
	i=$((i + 1))
	name=$i-$(basename "$x" | tr -c 'A-Za-z0-9._+\n-' '_')
	add_prog "$x" "extra/$name"
	echo "$name" >>"$rootfs/extra/list"
	# Arguments, one per line (commas in VM_EXTRA separate them).
	tr ',' '\n' <<<"${extra_args[$((i - 1))]}" | sed '/^$/d' >"$rootfs/extra/$name.args"
	extra_names+=("$name")
done
printf '%s\n' "$VM_ARGS" >"$rootfs/vm_args"
echo "$VM_HARNESS" >"$rootfs/vm_harness"
echo "$mode" >"$rootfs/vm_mode"
echo "$VM_HUGEPAGES" >"$rootfs/vm_hugepages"

cat >"$rootfs/init" <<'EOF'
#!/bin/sh
# Guest side of selftests/vm.sh (generated; see there).
export PATH=/bin:/sbin HOME=/tmp
M='@@IOMMULAB@@'
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
MODE=$(cat /vm_mode)
# Test hook of the lane's own test (selftests/test-lane.sh): behave like a
# boot that never reaches init, i.e. never print the BOOT marker.
case " $(cat /proc/cmdline) " in
*" iommulab_selftest.hang=before-boot "*) while :; do sleep 1000; done ;;
esac
echo "$M BOOT $(uname -r)"

# What kselftest-style programs (upstream's iommufd selftest) expect of a
# system: 2 MiB hugetlb pages reserved for MAP_HUGETLB and MFD_HUGETLB
# memfds (reserved first, while memory is not fragmented yet), hugetlbfs at
# /dev/hugepages; /proc (for /proc/self/exe, fail-nth), /sys and /dev/shm
# are mounted above.
HP=$(cat /vm_hugepages)
if [ -w /proc/sys/vm/nr_hugepages ]; then
	echo "$HP" >/proc/sys/vm/nr_hugepages
	mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages 2>/dev/null
	echo "$M HUGETLB wanted=$HP reserved=$(cat /proc/sys/vm/nr_hugepages)"
else
	echo "$M HUGETLB wanted=$HP reserved=0 (no hugetlbfs in this kernel)"
fi
echo "$M MEMINFO boot $(awk '/^(MemTotal|MemAvailable):/ { printf "%s=%dM ", $1, $2 / 1024 }' /proc/meminfo | sed 's/: *=/=/g')"

# Transparent huge pages whenever possible, compacting at fault time: the
# tests that need a THP (HugeBuffer in the harness) get one deterministically
# or skip with the reason.
THP=/sys/kernel/mm/transparent_hugepage
if [ -w $THP/enabled ]; then
	echo always >$THP/enabled
	echo always >$THP/defrag
	echo "$M THP enabled=$(cat $THP/enabled | sed 's/.*\[\(.*\)\].*/\1/') defrag=$(cat $THP/defrag | sed 's/.*\[\(.*\)\].*/\1/')"
else
	echo "$M THP missing"
fi

# Debug kernels: no stack dump for every injected fault, and start kmemleak
# from a clean slate so only what happens from here on is reported.
for f in /sys/kernel/debug/failslab/verbose /sys/kernel/debug/fail_page_alloc/verbose; do
	[ -w "$f" ] && echo 0 >"$f"
done
# kmemleak's own periodic scan is stopped: the scans after rmmod below are
# the ones that count, and nothing else reports at a random time.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	echo scan=off >$KMEMLEAK
	echo clear >$KMEMLEAK
fi

for m in $(cat /moddeps); do insmod "$m" || echo "$M NOTE insmod $m failed"; done
for m in $(cat /premods); do
	insmod "/lib/modules/pre/$m"
	echo "$M PREMOD $m rc=$?"
done
insmod /iommulab.ko $(cat /vm_module_args)
rc=$?
dev=missing
[ -c "$(cat /vm_devnode)" ] && dev=ok
echo "$M INSMOD rc=$rc dev=$dev"

cd /tmp
if [ $rc -eq 0 ]; then
	echo "$M BEGIN $MODE"
	if [ "$MODE" = check ] && [ "$(cat /vm_harness)" = 0 ]; then
		true
	elif [ "$MODE" = check ]; then
		eval "set -- $(cat /vm_args)"
		/iommulab-test "$@"
	else
		src=0
		for f in $(cat /scn/list); do
			echo "== iommulab run $f"
			/iommulab run "/scn/$f" || src=1
		done
		[ "$src" = 0 ]
	fi
	echo "$M END $MODE rc=$?"
	if [ "$MODE" = check ]; then
		for f in $(cat /scn/list); do
			echo "$M BEGIN scn $f"
			/iommulab run "/scn/$f"
			echo "$M END scn $f rc=$?"
		done
	fi
	for x in $(cat /extra/list); do
		echo "$M BEGIN extra $x"
		set --
		while read -r a; do set -- "$@" "$a"; done </extra/$x.args
		/extra/$x "$@"
		echo "$M END extra $x rc=$?"
	done
	echo "$M MEMINFO end $(awk '/^(MemAvailable|HugePages_Free):/ { v = $2; if ($1 ~ /^Mem/) v = int(v / 1024) "M"; printf "%s=%s ", $1, v }' /proc/meminfo | sed 's/: *=/=/g')"
	rmmod iommulab
	echo "$M RMMOD rc=$?"
fi

if [ -w $KMEMLEAK ]; then
	# Objects younger than ~5 s are not reported yet.
	sleep 6
	echo scan >$KMEMLEAK
	r1=$?
	sleep 1
	echo scan >$KMEMLEAK
	echo "$M KMEMLEAK scan=$r1,$?"
	echo "$M BEGIN kmemleak"
	cat $KMEMLEAK
	echo "$M END kmemleak"
fi
echo "$M TAINT $(cat /proc/sys/kernel/tainted)"
echo "$M BEGIN dmesg"
dmesg
echo "$M END dmesg"
echo "$M DONE"
sync
poweroff -f
sleep 30
EOF
chmod 755 "$rootfs/init"

(cd "$rootfs" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initramfs.cpio.gz"

# ------------------------------------------------------------------ boot ---
case $VM_ACCEL in
kvm) accel=(-accel kvm -cpu host) ;;
*) accel=(-accel "$VM_ACCEL"${VM_CPU:+ -cpu "$VM_CPU"}) ;;
esac
# loglevel=5: warnings and worse reach the console live (so a hang still
# shows them); everything else is in the dmesg dump at the end.
append="console=ttyS0 panic=-1 loglevel=5"
[ "$VM_HUGEPAGES_1G" = 0 ] || append+=" hugepagesz=1G hugepages=$VM_HUGEPAGES_1G"
append+="${VM_APPEND:+ $VM_APPEND}"
qemu=(qemu-system-x86_64 "${accel[@]}" -m "$VM_MEM" -smp "$VM_SMP"
      -kernel "$KIMAGE" -initrd "$work/initramfs.cpio.gz" -append "$append"
      -nographic -no-reboot -nodefaults -serial stdio)

echo "vm: $mode: booting $KIMAGE ($VM_ACCEL, timeout ${VM_TIMEOUT}s), log: $log"
[ ${#extras[@]} -eq 0 ] || echo "vm: extra programs: ${extras[*]}"

# Live view: the guest's own output and the markers; kernel lines (and all
# that comes before init's first marker: firmware, early boot) only when they
# are bad ones. VM_VERBOSE=1 shows everything. The full log goes to $log.
live_filter='
BEGIN { ESC = sprintf("%c", 27) }
{
	sub(/\r+$/, "")
	gsub(ESC "(\\[[0-9;?]*)?[A-Za-z]", "")	# colours, terminal resets
	print > LOG; fflush(LOG)
	if (VERBOSE == "1") { print; fflush(); next }
	if (index($0, FAKE)) next	# the harness fakes them on purpose
	if (index($0, MARK)) {
		booted = 1
		line = $0; sub(".*" MARK " ", "", line)
		if (line ~ /^BEGIN dmesg/) indmesg = 1
		if (line ~ /^END dmesg/) indmesg = 0
		if (line !~ /dmesg/) { print "---- " line; fflush() }
		next
	}
	kern = indmesg || !booted || $0 ~ /\[ *[0-9]+\.[0-9]+\] /
	if (!kern || ($0 ~ BAD && !shown[$0]++)) { print (kern ? "kernel: " : "") $0; fflush() }
}'
# has_marker WHAT [FILE]: whether the guest printed a marker starting with
# WHAT (in FILE, default $log).
has_marker() { grep -a -q -F "$MARK $1" "${2:-$log}" 2>/dev/null; }
# The console filter runs in awk, which buffers its input when it reads a
# pipe (Debian's mawk waits for a full 4 KiB block or EOF before it sees the
# first line; that once made the boot watchdog miss a BOOT marker that had
# long been printed, and kill and retry a guest that was hanging after init).
# mawk reads line by line with -W interactive; other awks do not buffer so.
AWK=(awk)
if awk -W version 2>/dev/null | grep -q mawk; then AWK=(awk -W interactive); fi

# Boot watchdog. A kernel that never reaches init is not a test result: the
# module is only loaded after init's BOOT marker, so nothing of iommulab can
# be at fault. Such a boot (seen under TCG with some debug configurations,
# where an early RCU wait never returns) is killed after VM_BOOT_TIMEOUT
# seconds and retried, at most VM_BOOT_TRIES times in all; every retry is
# reported and the hung boot's console is kept as $log.hung-N. Once init
# ran, only VM_TIMEOUT applies, and a guest still running then is a failure,
# "guest hung after init", never retried.
# The watchdog looks for the marker in the raw console ($work/console.raw),
# which tee writes as QEMU prints it (unbuffered), not in the filtered $log.
# A BOOT marker that is in the console once the killed QEMU is gone (printed
# just as the watchdog fired) also means init ran: that boot is not retried.
boot_once() {
	local raw=$work/console.raw
	rm -f "$work/qemu.pid" "$work/qemu.rc" "$log" "$raw"
	: >"$raw"
	(
		set +e
		timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" -pidfile "$work/qemu.pid" </dev/null 2>&1 |
			tee -a "$raw" |
			"${AWK[@]}" -v LOG="$log" -v MARK="$MARK" -v BAD="$BAD_RE" -v FAKE="$FAKE_MARK" \
				-v VERBOSE="$VM_VERBOSE" "$live_filter"
		echo "${PIPESTATUS[0]}" >"$work/qemu.rc"
	) &
	local pid=$! t0
	t0=$(date +%s)
	hung=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$hung" = 0 ] && ! has_marker BOOT "$raw" &&
		   [ $(($(date +%s) - t0)) -ge "$VM_BOOT_TIMEOUT" ] &&
		   [ -s "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null; then
			hung=1
			killed_at=$(($(date +%s) - t0))
		fi
		sleep 1
	done
	wait "$pid" || true
	qrc=$(cat "$work/qemu.rc" 2>/dev/null || echo 255)
	late_boot=0
	if [ "$hung" = 1 ] && { has_marker BOOT "$raw" || has_marker BOOT; }; then
		hung=0 late_boot=1
	fi
}

start=$(date +%s)
attempt=1
rm -f "$log".hung-*
while :; do
	boot_once
	[ "$hung" = 1 ] || break
	echo "vm: $mode: boot $attempt hung before init (no BOOT marker after ${VM_BOOT_TIMEOUT}s); console kept in $log.hung-$attempt"
	mv -f "$log" "$log.hung-$attempt"
	if [ "$attempt" -ge "$VM_BOOT_TRIES" ]; then
		cp -f "$log.hung-$attempt" "$log"
		break
	fi
	attempt=$((attempt + 1))
	echo "vm: $mode: booting again (attempt $attempt of $VM_BOOT_TRIES)"
done
secs=$(($(date +%s) - start))
echo "vm: $mode: QEMU exited with $qrc after ${secs}s"

# ----------------------------------------------------------------- judge ---
# marker WHAT: the rest of the first marker line starting with WHAT.
marker() {
	grep -a -o "$MARK $1.*" "$log" | head -n 1 | sed "s/^$MARK $1//" || true
}
# section NAME: the lines between "BEGIN NAME" and "END NAME".
section() {
	awk -v b="$MARK BEGIN $1" -v e="$MARK END $1" '
		index($0, e) { on = 0 }
		on { print }
		index($0, b) { on = 1 }' "$log"
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

echo "vm: $mode: results"
for m in "${pre_modules[@]}"; do
	b=$(basename "$m")
	prm=$(marker "PREMOD $b ")
	if [ "$(field rc "$prm")" = 0 ]; then
		pass "insmod $b (VM_PRE_MODULES)"
	else
		fail "insmod $b (VM_PRE_MODULES):${prm:- not reached}"
	fi
done
ins=$(marker INSMOD)
ko_label="insmod iommulab.ko${VM_MODULE_ARGS:+ $VM_MODULE_ARGS}"
if ! has_marker BOOT; then
	fail "boot (init never ran in $attempt attempt(s))"
elif ! has_marker INSMOD; then
	fail "insmod (no result)"
elif [ "$(field rc "$ins")" = 0 ] && [ "$(field dev "$ins")" = ok ]; then
	pass "$ko_label, $devnode present"
else
	fail "$ko_label:$ins"
fi

hp=$(marker HUGETLB)
if [ -n "$hp" ] && [ "$(field reserved "$hp")" != "$(field wanted "$hp")" ]; then
	echo "  note: only $(field reserved "$hp") of VM_HUGEPAGES=$(field wanted "$hp") hugetlb pages reserved in the guest"
fi

end=$(marker "END $mode")
if ! has_marker "END $mode"; then
	fail "$mode: did not run to the end"
elif [ "$mode" = check ] && [ "$VM_HARNESS" = 0 ]; then
	echo "  harness: not run (VM_HARNESS=0)"
elif [ "$mode" = check ]; then
	hrc=$(field rc "$end")
	counts=$(section check | parse_doctest /dev/stdin)
	if [ -n "$counts" ]; then
		read -r p f s <<<"$counts"
		# Test cases that skipped at run time (IOMMULAB_SKIP in
		# harness.hpp): doctest counted them as passed.
		mapfile -t rt_skips < <(section check | sed -n 's/^iommulab-skip: //p' |
			awk -F': ' '!seen[$1]++')
		for sk in "${rt_skips[@]}"; do
			printf '  skipped %s\n' "$sk"
		done
		p=$((p - ${#rt_skips[@]})) s=$((s + ${#rt_skips[@]}))
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		echo "  harness: $p passed, $f failed, $s skipped (doctest test cases), exit $hrc"
		if [ "$hrc" != 0 ] && [ "$f" -eq 0 ]; then fail "harness exit code $hrc"; fi
	else
		fail "harness: no doctest summary line (exit $hrc)"
	fi
else
	drc=$(field rc "$end")
	if [ "$drc" = 0 ]; then pass "demo: iommulab run $(for f in $SCN; do basename "$f"; done | xargs)"; else fail "demo: a scenario failed (exit $drc)"; fi
fi

# Check mode's scenarios (VM_CHECK_SCENARIOS=1): one test each, by exit.
if [ "$mode" = check ] && [ "$VM_CHECK_SCENARIOS" = 1 ]; then
	for f in $SCN; do
		b=$(basename "$f")
		src=$(field rc "$(marker "END scn $b ")")
		if [ "$src" = 0 ]; then
			pass "scenario $b"
		else
			fail "scenario $b (exit ${src:-none: did not run or finish})"
		fi
	done
fi

# An extra program that prints TAP counts as its cases (see "Extra
# programs" at the top); one that prints none is one test, by exit code.
# Its TAP records (parse_tap in lib.sh) are kept in $work/extra-NAME.tap.
for i in "${!extra_names[@]}"; do
	name=${extra_names[$i]}
	erc=$(field rc "$(marker "END extra $name ")")
	label="extra ${extras[$i]}${extra_args[$i]:+ ${extra_args[$i]//,/ }}"
	tap=$work/extra-$name.tap
	section "extra $name" | parse_tap >"$tap"
	if [ -s "$tap" ]; then
		read -r p f s planned reported < <(tap_counts "$tap")
		f0=$failed
		passed=$((passed + p))
		while IFS=$'\t' read -r kind case_ why; do
			case $kind in
			fail) fail "$label: $case_${why:+ # $why}" ;;
			skip) printf '  skipped %s: %s%s\n' "$label" "$case_" "${why:+ ($why)}" ;;
			esac
		done <"$tap"
		skipped=$((skipped + s))
		if [ "$planned" -eq 0 ] && [ "$reported" -eq 0 ]; then
			# "1..0 # SKIP why": the program skipped itself.
			skipped=$((skipped + 1))
			printf '  skipped %s (plan 1..0%s)\n' "$label" "$(awk -F'\t' '$1 == "plan" && $3 != "" { printf ": %s", $3; exit }' "$tap")"
		fi
		missing=$((planned > reported ? planned - reported : 0))
		if [ "$missing" -gt 0 ]; then
			failed=$((failed + missing))
			printf '  FAILED  %s: %d of %d planned case(s) never reported\n' "$label" "$missing" "$planned"
		fi
		# The exit status fails one more test when the cases do not
		# explain it: the program did not finish, or stopped short of
		# its plan with an error, or failed with every case passing.
		# 0, 4 (kselftest's KSFT_SKIP) and 77 are not errors.
		if [ -z "$erc" ]; then
			fail "$label (exit none: did not finish)"
		elif [ "$erc" != 0 ] && [ "$erc" != 4 ] && [ "$erc" != 77 ] &&
		     { [ "$missing" -gt 0 ] || [ "$failed" -eq "$f0" ]; }; then
			fail "$label (exit $erc)"
		fi
		[ "$planned" -eq 0 ] && plan_note="no plan" || plan_note="plan 1..$planned"
		[ "$planned" -gt 0 ] || [ "$reported" -gt 0 ] || s=$((s + 1))
		echo "  $label: $p passed, $((failed - f0)) failed, $s skipped (TAP cases, $plan_note), exit ${erc:-none}"
	elif [ "$erc" = 0 ]; then
		pass "$label"
	elif [ "$erc" = 77 ]; then
		skipped=$((skipped + 1))
		printf '  skipped %s (exit 77)\n' "$label"
	else
		fail "$label (exit ${erc:-none: did not run or finish})"
	fi
done

rm_line=$(marker RMMOD)
if [ "$(field rc "$rm_line")" = 0 ]; then
	pass "rmmod iommulab"
else
	fail "rmmod iommulab (${rm_line:-not reached})"
fi

if [ "$VM_KMEMLEAK" = 1 ]; then
	kml=$(marker KMEMLEAK)
	if [ "$(field scan "$kml")" = 0,0 ]; then
		pass "kmemleak scanned after rmmod"
	else
		fail "kmemleak scan after rmmod (${kml:-kmemleak missing from this kernel})"
	fi
fi

# Kernel log: timestamped console lines, the dmesg dump and kmemleak's report.
# excuse_injected: drops the "Call Trace:" line of each allocation-failure
# report inside a fault-injection window (see the top of this file), and
# counts them in $work/excused.
excuse_injected() {
	awk -v OUT="$work/excused" '
		/IOMMULAB-FAULT-INJECTION begin/ { inj = 1 }
		/IOMMULAB-FAULT-INJECTION end/ { inj = 0; rep = 0 }
		inj && /(page allocation failure|vmalloc error): / { rep = 1; n++ }
		rep && /Call Trace:/ { next }
		rep && /<\/TASK>/ { rep = 0 }
		{ print }
		END { print n + 0 >> OUT }'
}
# excuse_slow_host: takes out the hung-task and RCU-stall reports that do
# not name the module (see "Kernel-log policy" at the top), each from its
# header line to the end of its last stack dump, and the harness's fake
# lines; counts the reports taken out in $work/slow-host.
excuse_slow_host() {
	awk -v OUT="$work/slow-host" -v FAKE="$FAKE_MARK" '
		function flush_report() {
			if (nrep && rep !~ /\[iommulab\]/) n++
			else if (nrep) printf "%s", rep
			rep = ""; nrep = 0; intrace = 0
		}
		index($0, FAKE) { next }
		/blocked for more than [0-9]+ seconds|rcu: INFO: .*(self-detected stall|detected stalls on)/ {
			flush_report(); rep = $0 "\n"; nrep = 1; next
		}
		nrep {
			# The report goes on while its lines are indented stack
			# lines, register dumps, CPU/task headers and backtraces
			# of other CPUs; the first other line ends it.
			if (/Call Trace:|<TASK>|NMI backtrace|Sending NMI|task:.*state:|^(\[ *[0-9]+\.[0-9]+\] )?( |\t|RIP:|RSP:|RAX:|RDX:|RBP:|R1[0-5]:|R[89]:|FS:|CS:|CR2:|DR[0-7]:|Code:|CPU:|Hardware name:|rcu:|\t|"echo 0|Modules linked in:|Showing all locks|[0-9]+ locks? held|#[0-9]+:|INFO: lockdep)/ || /<\/TASK>/) {
				rep = rep $0 "\n"; next
			}
			flush_report()
		}
		{ print }
		END { flush_report(); print n + 0 >> OUT }'
}
: >"$work/excused"
: >"$work/slow-host"
problems=()
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	if has_marker BOOT; then
		problems+=("guest hung after init: still running after VM_TIMEOUT=${VM_TIMEOUT}s (last marker: $(grep -a -o "$MARK .*" "$log" | tail -n 1 | sed "s/^$MARK //"))")
	else
		problems+=("timeout after ${VM_TIMEOUT}s before init")
	fi
fi
# QEMU ended by a SIGTERM that neither VM_TIMEOUT nor the watchdog sent
# (e.g. something on the host killing processes by name): say so.
if [ "$hung" = 0 ] && [ "$late_boot" = 0 ] && [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] &&
   ! has_marker DONE && grep -a -q 'terminating on signal' "$log"; then
	problems+=("QEMU was killed from outside the lane: $(grep -a -o 'terminating on signal.*' "$log" | head -n 1)")
fi
[ "$late_boot" = 0 ] ||
	problems+=("the boot watchdog killed the guest after ${killed_at}s although init ran (BOOT marker printed); not retried")
[ "$hung" = 0 ] || problems+=("every boot ($attempt) hung before init for ${VM_BOOT_TIMEOUT}s")
has_marker DONE || problems+=("guest did not finish (no DONE marker)")
has_marker 'END dmesg' || problems+=("no dmesg dump")
taint=$(marker TAINT | tr -dc 0-9)
if [ -n "$taint" ] && [ $((taint & BAD_TAINT)) -ne 0 ]; then
	problems+=("kernel tainted: $taint")
fi
mapfile -t badlines < <({
	{ grep -a -E '\[ *[0-9]+\.[0-9]+\] ' "$log" || true; } | excuse_injected | excuse_slow_host
	section dmesg | excuse_injected | excuse_slow_host
	section kmemleak
} | grep -a -E "$BAD_RE" | awk '!seen[$0]++' || true)
excused=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/excused")
[ "$excused" -eq 0 ] ||
	echo "  note: $excused allocation-failure report(s) inside fault-injection windows excused"
slow=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/slow-host")
[ "$slow" -eq 0 ] ||
	echo "  note: $slow hung-task/RCU-stall report(s) not naming the module excused (slow host; see $log)"
if [ ${#problems[@]} -eq 0 ] && [ ${#badlines[@]} -eq 0 ]; then
	pass "kernel log clean"
else
	fail "kernel log clean"
	for p in "${problems[@]}"; do echo "          $p"; done
	for l in "${badlines[@]}"; do echo "          $l"; done
fi

if [ "$failed" -gt 0 ] && ! has_marker DONE; then
	echo "vm: last console lines ($log):"
	tail -n 40 "$log" | sed 's/^/  | /'
fi
finish
