# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the iommulab selftest scripts. Source it, don't run it.
#
# select_kernel sets and exports KVER, KDIR and KIMAGE:
#   KVER   newest installed Debian linux-image-<ver>-amd64 package that also
#          has /usr/src/linux-headers-<ver> (never `uname -r`: that is the
#          host's kernel, which has no headers here)
#   KDIR   headers (or kernel build tree) the module is built against;
#          default /usr/src/linux-headers-$KVER
#   KIMAGE kernel booted by the VM lane; default /boot/vmlinuz-$KVER
# Any of the three can be given in the environment to override the choice.

IOMMULAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export IOMMULAB_ROOT

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Kernel versions of installed linux-image-<ver>-amd64 packages, oldest first.
installed_kernel_versions() {
	dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'linux-image-*' 2>/dev/null |
		awk '$1 == "installed" { print $2 }' |
		sed -n 's/^linux-image-\([0-9].*-amd64\)$/\1/p' |
		sort -V
}

select_kernel() {
	local v quiet=${1:-}

	if [ -z "${KVER:-}" ]; then
		for v in $(installed_kernel_versions); do
			[ -d "/usr/src/linux-headers-$v" ] && KVER=$v
		done
	fi
	if [ -z "${KVER:-}" ]; then
		if [ -n "${KDIR:-}" ] && [ -n "${KIMAGE:-}" ]; then
			KVER=custom
		else
			die "no installed linux-image-<ver>-amd64 with matching /usr/src/linux-headers-<ver>; run 'make deps' as root (or set KVER/KDIR/KIMAGE)"
		fi
	fi
	KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
	KIMAGE=${KIMAGE:-/boot/vmlinuz-$KVER}
	export KVER KDIR KIMAGE
	[ -f "$KDIR/Makefile" ] || die "KDIR=$KDIR is not a kernel headers/build directory"
	[ -n "$quiet" ] || log "iommulab: kernel KVER=$KVER KDIR=$KDIR KIMAGE=$KIMAGE"
}

# Counters shared by the scripts that report "N passed, N failed".
# parse_doctest FILE: print "passed failed skipped" from doctest's summary line
# ("[doctest] test cases: N | N passed | N failed | N skipped"), the last one
# in FILE (colour escapes are ignored); prints nothing when there is none.
parse_doctest() {
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | sed -n \
		's/.*test cases: *\([0-9]\+\) *| *\([0-9]\+\) passed *| *\([0-9]\+\) failed\( *| *\([0-9]\+\) skipped\)\?.*/\2 \3 \5/p' |
		tail -n 1 | awk 'NF { print $1, $2, ($3 == "" ? 0 : $3) }'
}

# format_counts P F S: the summary line body ("P passed, F failed[, S skipped]").
format_counts() {
	if [ "${3:-0}" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$1" "$2" "$3"
	else
		printf '%d passed, %d failed\n' "$1" "$2"
	fi
}
