#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make lint`: the kernel's own static checks on the module and uAPI.
#   1. sparse: the module is built with `make C=2 CHECK=sparse` against the
#      headers of each kernel in LINT_KVERS (default "6.1 6.12", as KVER
#      takes them, see lib.sh), in a scratch copy of kmod/ and uapi/; any
#      sparse/compiler warning or error on kmod/ or uapi/ files fails.
#   2. checkpatch.pl --strict on every kmod/**/*.[ch] and uapi/**/*.h; any
#      ERROR, WARNING or CHECK fails. checkpatch.pl (with spelling.txt and
#      const_structs.checkpatch) is taken once from Debian's linux-source-6.1
#      tarball into a cache outside the work tree:
#      $CHECKPATCH_CACHE (default /var/cache/iommulab, or ~/.cache/iommulab
#      when that is not writable), keyed by the package version.
# Ends with "lint: N passed, N failed" (one check per file, plus sparse).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$IOMMULAB_ROOT
cd "$root"
KMOD_DIR=${KMOD_DIR:-$root/kmod}
UAPI_DIR=${UAPI_DIR:-$root/uapi}
SRC_TARBALL=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}

LINT_KVERS=${LINT_KVERS:-6.1 6.12}
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'lint: FAILED %s\n' "$1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ----------------------------------------------------------------- sparse ---
# sparse_on KVER: one sparse build against that kernel's headers.
sparse_on() {
	local src=$tmp/sparse-src nbad
	(
		unset KDIR KIMAGE
		KVER=$1
		select_kernel quiet
		echo "lint: sparse (make C=2) against $KDIR"
		rm -rf "$src"
		mkdir -p "$src"
		cp -r "$KMOD_DIR" "$src/kmod"
		cp -r "$UAPI_DIR" "$src/uapi"
		find "$src" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
		make -C "$KDIR" M="$src/kmod" C=2 CHECK=sparse KCFLAGS=-Werror modules
	) >"$tmp/sparse.out" 2>&1 || {
		cat "$tmp/sparse.out"
		fail "sparse ($1): module build failed"
		return
	}
	head -n 1 "$tmp/sparse.out"
	# Reports are "file:line:col: text"; ours are on files under kmod/ or
	# uapi/ (also seen as kmod/../uapi/...). Detail lines (expected/got)
	# carry the same prefix without "warning:".
	grep -E '^[^ ]+:[0-9]+:[0-9]+: ' "$tmp/sparse.out" >"$tmp/sparse.all" || true
	grep -F -e "$src/" -e "kmod/" -e "uapi/" \
		"$tmp/sparse.all" >"$tmp/sparse.ours" || true
	grep -v -F -x -f "$tmp/sparse.ours" "$tmp/sparse.all" >"$tmp/sparse.other" || true
	if [ -s "$tmp/sparse.other" ]; then
		echo "lint: note: sparse reports on files that are not ours (ignored):"
		sed 's/^/  /' "$tmp/sparse.other"
	fi
	nbad=$(grep -c -E ': (warning|error): ' "$tmp/sparse.ours" || true)
	if [ -s "$tmp/sparse.ours" ]; then
		sed 's/^/  /' "$tmp/sparse.ours"
		fail "sparse ($1): ${nbad} warning/error report(s)"
	else
		echo "lint: sparse ($1): clean"
		pass
	fi
}
for v in $LINT_KVERS; do
	sparse_on "$v"
done

# ------------------------------------------------------------- checkpatch ---
get_checkpatch() {
	local ver cache dir
	[ -r "$SRC_TARBALL" ] || die "$SRC_TARBALL missing (make deps installs linux-source-6.1)"
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$SRC_TARBALL")
	cache=${CHECKPATCH_CACHE:-/var/cache/iommulab}
	if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommulab
		mkdir -p "$cache"
	fi
	dir=$cache/checkpatch-$ver
	if [ ! -x "$dir/checkpatch.pl" ]; then
		echo "lint: extracting checkpatch.pl from $SRC_TARBALL into $dir (once)" >&2
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -xJf "$SRC_TARBALL" -C "$dir.tmp" --strip-components=2 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch'
		chmod 755 "$dir.tmp/checkpatch.pl"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/checkpatch.pl"
}
CHECKPATCH=$(get_checkpatch)

# Ignored checkpatch types, each because it cannot apply to a module kept
# out of tree and checked file by file (-f):
#   FILE_PATH_CHANGES  "does MAINTAINERS need updating?" is about patches
#                      that add files to the kernel tree; there is no
#                      MAINTAINERS file here.
IGNORE=FILE_PATH_CHANGES
# kmod/compat.h is the one file whose purpose is to compare
# LINUX_VERSION_CODE (the module is built for 6.1 and 6.12): there, and
# only there, checkpatch's LINUX_VERSION_CODE and CONSTANT_COMPARISON
# (it takes both sides for constants) do not apply.
COMPAT_IGNORE=$IGNORE,LINUX_VERSION_CODE,CONSTANT_COMPARISON

# checkpatch knows uAPI headers by their path (include/uapi/...): only there
# does it accept what a uAPI header must use (__u32, __attribute__, 1 << n
# instead of BIT(), ...). Ours are checked under that name, through a link.
mkdir -p "$tmp/tree/include"
ln -s "$UAPI_DIR" "$tmp/tree/include/uapi"
ln -s "$KMOD_DIR" "$tmp/tree/kmod"

mapfile -t kfiles < <(cd "$KMOD_DIR" && find . \( -name '*.c' -o -name '*.h' \) \
	! -name '*.mod.c' -printf 'kmod/%P\n' | LC_ALL=C sort)
ufiles=()
if [ -d "$UAPI_DIR" ]; then
	mapfile -t ufiles < <(cd "$UAPI_DIR" && find . -name '*.h' \
		-printf 'include/uapi/%P\n' | LC_ALL=C sort)
fi
echo "lint: checkpatch --strict on ${#kfiles[@]} kmod and ${#ufiles[@]} uapi files"
for f in "${kfiles[@]}" "${ufiles[@]}"; do
	shown=${f/#include\/uapi\//uapi/}
	ign=$IGNORE
	[ "$f" != kmod/compat.h ] || ign=$COMPAT_IGNORE
	set +e
	(cd "$tmp/tree" && perl "$CHECKPATCH" --strict --no-tree --quiet \
		--show-types --color=never --ignore "$ign" -f "$f") \
		>"$tmp/cp.out" 2>&1
	rc=$?
	set -e
	if [ $rc -ne 0 ] || grep -q -E '^(ERROR|WARNING|CHECK):' "$tmp/cp.out"; then
		sed -e "s#include/uapi/#uapi/#g" -e 's/^/  /' "$tmp/cp.out"
		fail "checkpatch: $shown"
	else
		pass
	fi
done

echo "lint: $(format_counts "$passed" "$failed" 0)"
[ "$failed" -eq 0 ]
