#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install, from Debian's archive, whatever iommulab's build, lint and VM lane
# need and is not installed yet. Cheap (one dpkg-query) when nothing is missing.
# Runs without a terminal: nothing here ever prompts.
# Usage: selftests/deps.sh [PACKAGE...]: the PACKAGEs too (a target's own
# needs, e.g. libcap-dev for `make conformance`).
set -euo pipefail

# The kernel images and their headers: each pair always installed
# together, in one apt call, so that the two meta packages resolve to the
# same kernel version. Debian 12's own 6.1 (the default lane) and the 6.12
# of its security suite (`make check KVER=6.12`).
KERNEL_PKGS=(linux-image-amd64 linux-headers-amd64)
KERNEL612_PKGS=(linux-image-6.12-amd64 linux-headers-6.12-amd64)
# Everything else. pkg-config is what CMake uses to find libnl.
TOOL_PKGS=(qemu-system-x86 busybox-static cpio libnl-genl-3-dev libnl-3-dev
	   doctest-dev libcli11-dev cmake g++ make pkg-config sparse xz-utils
	   kmod gzip bc bison flex libelf-dev libssl-dev perl "$@")
# Kernel source tarballs: checkpatch.pl comes from 6.1's; the debug and
# oracle kernel (selftests/debug-kernel.sh) and upstream's 6.12 selftest
# (make check-upstream) from 6.12's.
SOURCE_PKGS=(linux-source-6.1 linux-source-6.12)

missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || printf '%s\n' "$p"
	done
}

mapfile -t miss_kernel < <(missing "${KERNEL_PKGS[@]}")
mapfile -t miss_kernel612 < <(missing "${KERNEL612_PKGS[@]}")
mapfile -t miss_tools < <(missing "${TOOL_PKGS[@]}")
mapfile -t miss_source < <(missing "${SOURCE_PKGS[@]}")

if [ ${#miss_kernel[@]} -eq 0 ] && [ ${#miss_kernel612[@]} -eq 0 ] &&
   [ ${#miss_tools[@]} -eq 0 ] && [ ${#miss_source[@]} -eq 0 ]; then
	exit 0
fi

# What to install: both kernel packages if either is missing.
want=()
[ ${#miss_kernel[@]} -eq 0 ] || want+=("${KERNEL_PKGS[@]}")
[ ${#miss_kernel612[@]} -eq 0 ] || want+=("${KERNEL612_PKGS[@]}")
want+=("${miss_tools[@]}" "${miss_source[@]}")
echo "deps: missing: ${want[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "error: these Debian packages are missing and installing them needs root:" >&2
	echo "  apt-get install ${want[*]}" >&2
	echo "Run 'sudo make deps' (or install them yourself), then retry." >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (e.g. unattended upgrades) instead of failing.
APT=(apt-get -y -q -o DPkg::Lock::Timeout=900 -o Dpkg::Use-Pty=0
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

"${APT[@]}" update
if [ ${#miss_kernel[@]} -gt 0 ]; then
	"${APT[@]}" install --no-install-recommends "${KERNEL_PKGS[@]}"
fi
if [ ${#miss_kernel612[@]} -gt 0 ]; then
	"${APT[@]}" install --no-install-recommends "${KERNEL612_PKGS[@]}"
fi
if [ ${#miss_tools[@]} -gt 0 ]; then
	"${APT[@]}" install --no-install-recommends "${miss_tools[@]}"
fi
if [ ${#miss_source[@]} -gt 0 ]; then
	"${APT[@]}" install --no-install-recommends "${miss_source[@]}"
fi

mapfile -t still < <(missing "${KERNEL_PKGS[@]}" "${KERNEL612_PKGS[@]}" "${TOOL_PKGS[@]}" "${SOURCE_PKGS[@]}")
if [ ${#still[@]} -gt 0 ]; then
	echo "error: still not installed after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "deps: all installed"
