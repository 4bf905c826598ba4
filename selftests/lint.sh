#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make lint`: the kernel's own static checks on the module and uAPI.
#   1. sparse: the module is built with `make C=2 CHECK=sparse` against KDIR;
#      any sparse/compiler warning or error on kmod/ or uapi/ files fails.
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

select_kernel
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'lint: FAILED %s\n' "$1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ----------------------------------------------------------------- sparse ---
echo "lint: sparse (make C=2) on $KMOD_DIR"
if ! make -C "$KDIR" M="$KMOD_DIR" C=2 CHECK=sparse KCFLAGS=-Werror modules \
	>"$tmp/sparse.out" 2>&1; then
	cat "$tmp/sparse.out"
	fail "sparse: module build failed"
else
	# Reports are "file:line:col: text"; ours are on files under kmod/ or
	# uapi/ (also seen as kmod/../uapi/...). Detail lines (expected/got)
	# carry the same prefix without "warning:".
	grep -E '^[^ ]+:[0-9]+:[0-9]+: ' "$tmp/sparse.out" >"$tmp/sparse.all" || true
	grep -F -e "$KMOD_DIR/" -e "$UAPI_DIR/" -e "kmod/" -e "uapi/" \
		"$tmp/sparse.all" >"$tmp/sparse.ours" || true
	grep -v -F -x -f "$tmp/sparse.ours" "$tmp/sparse.all" >"$tmp/sparse.other" || true
	if [ -s "$tmp/sparse.other" ]; then
		echo "lint: note: sparse reports on files that are not ours (ignored):"
		sed 's/^/  /' "$tmp/sparse.other"
	fi
	nbad=$(grep -c -E ': (warning|error): ' "$tmp/sparse.ours" || true)
	if [ -s "$tmp/sparse.ours" ]; then
		sed 's/^/  /' "$tmp/sparse.ours"
		fail "sparse: ${nbad} warning/error report(s)"
	else
		echo "lint: sparse: clean"
		pass
	fi
fi

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
	set +e
	(cd "$tmp/tree" && perl "$CHECKPATCH" --strict --no-tree --quiet \
		--show-types --color=never --ignore "$IGNORE" -f "$f") \
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
