#!/bin/sh
# Check the tree against a Buildroot tree:
#  - each configs/*_defconfig loads through BR2_EXTERNAL and every one of
#    its lines is intact in the resulting .config (kconfig drops unknown
#    or unmet symbols without a word);
#  - utils/check-package reports nothing on the tree's files (from
#    scripts/tree-files.sh: git's list, or every file of a release tarball).
#
# usage: check-buildroot.sh BUILDROOT
#   BUILDROOT  a Buildroot tree (2026.02.3); it is only read
#
# environment:
#   HVRT_OUTPUT  default <tree>/output (uses buildroot-check/ in it)
set -eu

BUILDROOT=${1:?usage: check-buildroot.sh BUILDROOT}
TREE=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${HVRT_OUTPUT:-$TREE/output}
WORK=$OUTPUT/buildroot-check

die() {
	echo "check-buildroot: error: $*" >&2
	exit 2
}

# Defconfig lines missing from a .config, one per line.
lost_lines() {
	defconfig=$1
	dotconfig=$2
	grep -E '^(BR2_|# BR2_)' "$defconfig" | while IFS= read -r line; do
		case $line in
		"# "*) sym=${line#\# }; sym=${sym%% *}
			grep -q "^$sym=" "$dotconfig" && echo "$line" ;;
		*) grep -qxF "$line" "$dotconfig" || echo "$line" ;;
		esac
	done
}

check_defconfig() {
	variant=$1
	defconfig=$TREE/configs/${variant}_defconfig
	out=$WORK/$variant
	rm -rf "$out"
	make -s -C "$BUILDROOT" O="$out" BR2_EXTERNAL="$TREE" \
		"${variant}_defconfig" >"$out.log" 2>&1 ||
		{ cat "$out.log"; echo "$variant: FAIL (defconfig does not load)"; return 1; }
	lost=$(lost_lines "$defconfig" "$out/.config")
	if [ -n "$lost" ]; then
		echo "$variant: FAIL (lines dropped by olddefconfig, see $out/.config):"
		echo "$lost" | sed 's/^/  /'
		return 1
	fi
	make -s -C "$BUILDROOT" O="$out" BR2_DEFCONFIG="$out/saved_defconfig" \
		savedefconfig >>"$out.log" 2>&1
	if cmp -s "$defconfig" "$out/saved_defconfig"; then
		form="same as savedefconfig"
	else
		form="differs from savedefconfig ($out/saved_defconfig)"
	fi
	echo "$variant: ok ($(grep -c . "$defconfig") lines intact, $form)"
}

# check-package needs python-magic: take the first python3 that has it.
python_with_magic() {
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import magic' 2>/dev/null; then
			echo "$py"
			return
		fi
	done
	die "no python3 with the magic module (apt-get install python3-magic)"
}

check_package() {
	py=$(python_with_magic)
	cd "$TREE"
	# shellcheck disable=SC2046 # file names of the tree have no spaces
	"$py" "$BUILDROOT/utils/check-package" --br2-external \
		$("$TREE/scripts/tree-files.sh")
}

main() {
	if [ ! -f "$BUILDROOT/Makefile" ] || [ ! -x "$BUILDROOT/utils/check-package" ]; then
		die "$BUILDROOT is not a Buildroot tree"
	fi
	version=$(sed -n 's/^export BR2_VERSION := //p' "$BUILDROOT/Makefile")
	echo "Buildroot $version at $BUILDROOT"
	mkdir -p "$WORK"
	status=0
	for f in "$TREE"/configs/*_defconfig; do
		check_defconfig "$(basename "$f" _defconfig)" || status=1
	done
	echo "check-package:"
	check_package || status=1
	return $status
}

main
