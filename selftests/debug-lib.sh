# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers of the debug kernel lane (selftests/check-debug.sh, selftests/fuzz.sh).
# Source it after lib.sh; don't run it.
#
# The lane's files live in $DEBUG_BUILD (default build/debug/), apart from
# what `make check` builds and uses:
#   src/kmod, src/uapi   copies of kmod/ and uapi/ (sources only); the
#                        module is built there, against the debug kernel
#   iommulab-test, iommulab, iommulab-failnth, iommulab-fuzz
#                        copies of the guest programs from build/
#   vm-check.log/.result the VM lane's console log and result
#   module-build.log     the module build's output

DEBUG_BUILD=${DEBUG_BUILD:-$IOMMULAB_ROOT/build/debug}

# debug_kernel: build or reuse the debug kernel; sets and exports
# DEBUG_KVER, DEBUG_KDIR, DEBUG_KIMAGE. Returns non-zero on failure.
debug_kernel() {
	local out
	out=$("$IOMMULAB_ROOT/selftests/debug-kernel.sh") || return 1
	eval "$out"
	export DEBUG_KVER DEBUG_KDIR DEBUG_KIMAGE
	[ -n "${DEBUG_KVER:-}" ] && [ -f "$DEBUG_KDIR/Makefile" ] && [ -r "$DEBUG_KIMAGE" ]
}

# build_debug_module: copy kmod/ and uapi/ (sources, no build products) to
# $DEBUG_BUILD/src and build the module there against $DEBUG_KDIR, with
# -Werror. Fails on a build error and on any modpost warning (an unresolved
# symbol: the debug kernel lacks something the module imports). Sets
# DEBUG_KO.
build_debug_module() {
	local src=$DEBUG_BUILD/src blog=$DEBUG_BUILD/module-build.log rc
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$IOMMULAB_ROOT" --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='Module.symvers' \
		--exclude='modules.order' --exclude='.tmp_versions' -cf - kmod uapi |
		tar -C "$src" -xf -
	set +e
	make -C "$DEBUG_KDIR" M="$src/kmod" KCFLAGS=-Werror modules >"$blog" 2>&1
	rc=$?
	set -e
	DEBUG_KO=$src/kmod/iommulab.ko
	if [ "$rc" -ne 0 ] || [ ! -f "$DEBUG_KO" ]; then
		echo "debug: module build against $DEBUG_KDIR failed (exit $rc):" >&2
		tail -n 30 "$blog" | sed 's/^/  | /' >&2
		return 1
	fi
	if grep -E 'WARNING: modpost|ERROR: modpost|undefined!' "$blog" >&2; then
		echo "debug: modpost did not resolve every symbol the module uses ($blog)" >&2
		return 1
	fi
	local vm
	vm=$(modinfo -F vermagic "$DEBUG_KO" | awk '{print $1}')
	if [ "$vm" != "$DEBUG_KVER" ]; then
		echo "debug: $DEBUG_KO has vermagic $vm, not $DEBUG_KVER" >&2
		return 1
	fi
	echo "debug: built $DEBUG_KO against $DEBUG_KDIR ($DEBUG_KVER)"
}

# stage_programs PROG...: copy guest programs from build/ into $DEBUG_BUILD,
# so that a `make` running meanwhile cannot swap them under the VM lane.
stage_programs() {
	local p
	mkdir -p "$DEBUG_BUILD"
	for p in "$@"; do
		[ -x "$IOMMULAB_ROOT/build/$p" ] || { echo "debug: build/$p not built" >&2; return 1; }
		cp "$IOMMULAB_ROOT/build/$p" "$DEBUG_BUILD/$p.tmp"
		mv "$DEBUG_BUILD/$p.tmp" "$DEBUG_BUILD/$p"
	done
}

# run_debug_vm: selftests/vm.sh check on the debug kernel and module, with
# kmemleak required; the caller sets VM_EXTRA, VM_TIMEOUT, VM_ARGS, ...
run_debug_vm() {
	KVER=$DEBUG_KVER KDIR=$DEBUG_KDIR KIMAGE=$DEBUG_KIMAGE VM_MODULE=$DEBUG_KO \
		BUILD_DIR=$DEBUG_BUILD VM_KMEMLEAK=1 \
		"$IOMMULAB_ROOT/selftests/vm.sh" check
}
