#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once per machine) the debug kernel of the reliability lane, and
# print where it is. The default series, 6.12, is also the oracle kernel of
# `make check-upstream`: the same build carries upstream's own iommufd and
# its mock (IOMMUFD=m, IOMMUFD_TEST=y), so one kernel serves both lanes.
#
# Usage: selftests/debug-kernel.sh [--print-key]
#
# The kernel is Debian's linux-source-$DEBUG_KERNEL_SERIES (6.12 by
# default; 6.1, the series of the first debug lane, still builds) with
# x86_64_defconfig + kernel/configs/kvm_guest.config + the fragment below
# (KASAN, lockdep, kmemleak, fault injection, UBSAN, ...) + the series' own
# lines, built with `make bzImage modules modules_prepare` (modules so that
# Module.symvers is complete: an out-of-tree build against the tree then has
# every exported symbol checked by modpost; and so that 6.12's iommufd.ko
# is built).
#
# Cache: $DEBUG_KERNEL_CACHE (default /var/cache/iommulab/debug-kernel, or
# ~/.cache/iommulab/debug-kernel when /var/cache is not writable), one
# directory per <source-version>-<config-hash>:
#   src/        the configured and built kernel tree (KDIR for M= builds;
#               its .ko files are kept, its other objects are not)
#   bzImage     copy of arch/x86/boot/bzImage (KIMAGE)
#   release     `make kernelrelease` (KVER, the modules' vermagic)
#   build.log   the build's output
#   complete    stamp written last; a directory without it is rebuilt
# <source-version> is the installed linux-source-<series> package version
# (or the tarball's size and mtime when dpkg does not know it);
# <config-hash> covers the fragments, the base configs' names, this recipe's
# revision and the compiler version. A second run with the same key reuses
# the tree. An flock on $DEBUG_KERNEL_CACHE/.lock serialises builds: a run
# that finds another one building waits for it and then reuses its result.
#
# Output on stdout (for eval), everything else on stderr:
#   DEBUG_KVER=<release> DEBUG_KDIR=<tree> DEBUG_KIMAGE=<bzImage>
#   DEBUG_SERIES=<series>
# Environment: DEBUG_KERNEL_SERIES (6.12 or 6.1), DEBUG_KERNEL_CACHE,
# DEBUG_KERNEL_SRC (tarball, default /usr/src/linux-source-<series>.tar.xz),
# JOBS (default nproc).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERIES=${DEBUG_KERNEL_SERIES:-6.12}
case $SERIES in
6.1 | 6.12) ;;
*) die "DEBUG_KERNEL_SERIES=$SERIES: the recipe knows 6.1 and 6.12" ;;
esac
SRC_PKG=linux-source-$SERIES
DEFAULT_TAR=/usr/src/linux-source-$SERIES.tar.xz
SRC_TAR=${DEBUG_KERNEL_SRC:-$DEFAULT_TAR}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
# Bump when the build recipe below changes in a way the fragment does not show.
RECIPE=3

# Options on top of x86_64_defconfig + kvm_guest.config. Every "=y" line must
# survive olddefconfig (checked below); "is not set" lines must stay unset.
# INTERVAL_TREE has no prompt in 6.1: it is selected by MMU_NOTIFIER (on in
# defconfig via DRM_I915); the check below fails the build if that changes.
# The module also needs (all in defconfig, checked): ANON_INODES (always on),
# MMU (pin_user_pages*), TRANSPARENT_HUGEPAGE (for the THP tests).
#
# Preemption: PREEMPT_VOLUNTARY without PREEMPT_DYNAMIC, i.e. no PREEMPTION.
# With PREEMPTION, KPROBES and TRACING select TASKS_RCU, and PROVE_RCU (from
# PROVE_LOCKING) then runs the RCU-tasks self-test early in boot
# (rcu_tasks_initiate_self_tests(): synchronize_rcu_tasks() before
# smp_init()); under QEMU TCG that wait never returned in about half of the
# boots (measured: 3 hangs in 6 boots, also with -smp 1, idle=halt,
# noapictimer, nohz=off or -cpu max; jiffies advance, the CPU idles). The
# lane needs a kernel that boots every time. DEBUG_ATOMIC_SLEEP keeps
# might_sleep() checks (PREEMPT_COUNT) without PREEMPTION.
# KASAN_VMALLOC: the module's kvmalloc()ed arrays are checked too.
read -r -d '' FRAGMENT <<'EOF' || true
CONFIG_LOCALVERSION="-iommulab-debug"
CONFIG_LOCALVERSION_AUTO=n
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_KASAN_VMALLOC=y
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_KMEMLEAK=y
CONFIG_FAULT_INJECTION=y
CONFIG_FAILSLAB=y
CONFIG_FAIL_PAGE_ALLOC=y
CONFIG_FAULT_INJECTION_DEBUG_FS=y
CONFIG_DEBUG_FS=y
CONFIG_UBSAN=y
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_VM=y
CONFIG_KFENCE=y
CONFIG_INTERVAL_TREE=y
CONFIG_MMU_NOTIFIER=y
CONFIG_TRANSPARENT_HUGEPAGE=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_PREEMPT_VOLUNTARY=y
# CONFIG_PREEMPT_DYNAMIC is not set
# CONFIG_PREEMPTION is not set
# CONFIG_TASKS_RCU is not set
CONFIG_PREEMPT_COUNT=y
# CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT is not set
# CONFIG_DEBUG_INFO_DWARF4 is not set
# CONFIG_DEBUG_INFO_DWARF5 is not set
# CONFIG_MODULE_SIG is not set
# CONFIG_KASAN_OUTLINE is not set
EOF

# The series' own lines.
# 6.12: upstream's iommufd as a module (the oracle of `make check-upstream`;
# the other lanes never load it, so their /dev/iommu is iommulab's), with
# its selftest mock (IOMMUFD_TEST needs DEBUG_KERNEL, FAULT_INJECTION and
# RUNTIME_TESTING_MENU). Subsystems that a guest with only a serial console
# and an initramfs never uses are left out: under KASAN's inline
# instrumentation they are most of defconfig's build time.
SERIES_FRAGMENT=
if [ "$SERIES" = 6.12 ]; then
	read -r -d '' SERIES_FRAGMENT <<'EOF' || true
CONFIG_DEBUG_KERNEL=y
CONFIG_RUNTIME_TESTING_MENU=y
CONFIG_IOMMUFD=m
CONFIG_IOMMUFD_TEST=y
CONFIG_IOMMU_API=y
# CONFIG_DRM is not set
# CONFIG_SOUND is not set
# CONFIG_USB_SUPPORT is not set
# CONFIG_WLAN is not set
# CONFIG_WIRELESS is not set
# CONFIG_CFG80211 is not set
# CONFIG_ETHERNET is not set
# CONFIG_HID is not set
# CONFIG_SCSI is not set
# CONFIG_ATA is not set
# CONFIG_MD is not set
# CONFIG_FB is not set
# CONFIG_AGP is not set
# CONFIG_NFS_FS is not set
EOF
fi

# ------------------------------------------------------------------ key ---
[ -r "$SRC_TAR" ] || die "$SRC_TAR not found (apt-get install $SRC_PKG, or make deps)"
src_ver=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null || true)
if [ -z "$src_ver" ] || [ "$SRC_TAR" != "$DEFAULT_TAR" ]; then
	src_ver=tar-$(stat -c '%s-%Y' "$SRC_TAR")
fi
cc_ver=$(gcc --version 2>/dev/null | head -n 1 || echo unknown)
cfg_hash=$(printf '%s\n' "recipe=$RECIPE" "base=x86_64_defconfig kvm_guest.config" \
	"cc=$cc_ver" "$FRAGMENT" "$SERIES_FRAGMENT" | sha256sum | cut -c1-12)
key=$src_ver-$cfg_hash
if [ "${1:-}" = --print-key ]; then
	echo "$key"
	exit 0
fi

if [ -z "${DEBUG_KERNEL_CACHE:-}" ]; then
	DEBUG_KERNEL_CACHE=/var/cache/iommulab/debug-kernel
	if ! mkdir -p "$DEBUG_KERNEL_CACHE" 2>/dev/null || [ ! -w "$DEBUG_KERNEL_CACHE" ]; then
		DEBUG_KERNEL_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/iommulab/debug-kernel
	fi
fi
mkdir -p "$DEBUG_KERNEL_CACHE"
dir=$DEBUG_KERNEL_CACHE/$key

report() {
	printf 'DEBUG_KVER=%s\nDEBUG_KDIR=%s\nDEBUG_KIMAGE=%s\nDEBUG_SERIES=%s\n' \
		"$(cat "$dir/release")" "$dir/src" "$dir/bzImage" "$SERIES"
}

# Fast path: built before, no lock needed (the stamp is written last).
if [ -f "$dir/complete" ]; then
	log "debug-kernel: reusing $dir"
	report
	exit 0
fi

exec 9>"$DEBUG_KERNEL_CACHE/.lock"
if ! flock -n 9; then
	log "debug-kernel: another build holds $DEBUG_KERNEL_CACHE/.lock; waiting"
	flock 9
fi
if [ -f "$dir/complete" ]; then
	log "debug-kernel: reusing $dir (built by the run we waited for)"
	report
	exit 0
fi

# ---------------------------------------------------------------- build ---
for t in bc bison flex gcc make perl; do
	command -v "$t" >/dev/null || die "$t not installed (make deps)"
done
[ -f /usr/include/libelf.h ] || [ -f /usr/include/elfutils/libelf.h ] ||
	die "libelf-dev not installed (make deps)"
[ -f /usr/include/openssl/ssl.h ] || die "libssl-dev not installed (make deps)"

start=$(date +%s)
log "debug-kernel: building the $SERIES kernel $key in $dir (about 30 min on 2 cores; log: $dir/build.log)"
rm -rf "$dir"
mkdir -p "$dir"
blog=$dir/build.log
: >"$blog"

step() { log "debug-kernel: $*"; echo "==== $*" >>"$blog"; }
fail_build() {
	log "debug-kernel: FAILED: $*; last lines of $blog:"
	tail -n 30 "$blog" | sed 's/^/  | /' >&2
	exit 1
}

step "unpacking $SRC_TAR"
mkdir -p "$dir/unpack"
tar -xJf "$SRC_TAR" -C "$dir/unpack" >>"$blog" 2>&1 || fail_build "tar"
top=$(find "$dir/unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$top" ] && [ -f "$top/Makefile" ] || fail_build "no kernel tree in $SRC_TAR"
mv "$top" "$dir/src"
rmdir "$dir/unpack"
cd "$dir/src"

step "configuring"
printf '%s\n' "$FRAGMENT" "$SERIES_FRAGMENT" >iommulab-debug.config
{
	make x86_64_defconfig &&
	scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
		iommulab-debug.config &&
	make olddefconfig
} >>"$blog" 2>&1 || fail_build "configuration"

# Every option asked for must be in the final .config as asked.
bad=()
while IFS= read -r l; do
	case $l in
	'# CONFIG_'*' is not set')
		o=${l#\# }; o=${o% is not set}
		! grep -q "^$o=" .config || bad+=("$o should be unset")
		;;
	CONFIG_*=n)
		o=${l%%=*}
		! grep -q "^$o=" .config || bad+=("$o should be unset")
		;;
	CONFIG_*)
		grep -qxF "$l" .config || bad+=("$l (got: $(grep "^${l%%=*}=" .config || echo unset))")
		;;
	esac
done < <(printf '%s\n' "$FRAGMENT" "$SERIES_FRAGMENT")
for o in CONFIG_MMU CONFIG_SLUB CONFIG_KASAN_GENERIC CONFIG_LOCKDEP CONFIG_PROVE_RCU \
	 CONFIG_FAULT_INJECTION_DEBUG_FS CONFIG_STACKTRACE; do
	grep -qx "$o=y" .config || bad+=("$o=y (needed, not set)")
done
[ ${#bad[@]} -eq 0 ] || fail_build "config does not have: ${bad[*]}"

step "make -j$JOBS bzImage modules modules_prepare"
make -j"$JOBS" bzImage modules modules_prepare >>"$blog" 2>&1 || fail_build "kernel build"
[ -s Module.symvers ] || fail_build "no Module.symvers"
cp arch/x86/boot/bzImage "$dir/bzImage"
make -s kernelrelease >"$dir/release" 2>>"$blog"
# The objects of vmlinux and of defconfig's modules are not needed for M=
# builds; drop them (keeps the cache at a fraction of the size).
find . -name '*.o' ! -path './scripts/*' ! -path './tools/*' -delete 2>/dev/null || true
date -u +%FT%TZ >"$dir/complete"
log "debug-kernel: built $(cat "$dir/release") in $(($(date +%s) - start))s"
report
