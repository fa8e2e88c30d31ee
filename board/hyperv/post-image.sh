#!/bin/sh
# Make the disk image of a variant: an MBR disk with GRUB and one FAT32
# partition (label HVRT) holding the kernel, the initramfs, grub.cfg, the
# run config and an empty results directory; then the same disk as a
# fixed VHD and as a VHDX for Hyper-V.
#
# usage: post-image.sh BINARIES_DIR [VARIANT]
#   BINARIES_DIR  holds bzImage, rootfs.cpio.gz, boot.img and grub.img;
#                 receives hvrt-VARIANT.img, .vhd and .vhdx
#   VARIANT       enlightened or emulated (Buildroot passes it from
#                 BR2_ROOTFS_POST_SCRIPT_ARGS); default: $HVRT_VARIANT
#
# environment:
#   BR2_EXTERNAL_HVRT_PATH  the tree (default: two levels above this script)
#   HVRT_VARIANT            the variant when not given as an argument
#
# tools from PATH: genimage, mkdosfs, mcopy, mmd, rust-bench (the host
# build of the tree's rust-bench, from Buildroot's host directory)
set -eu

BINARIES_DIR=${1:?usage: post-image.sh BINARIES_DIR [VARIANT]}
VARIANT=${2:-${HVRT_VARIANT:-}}
TREE=${BR2_EXTERNAL_HVRT_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
BOARD_DIR=$TREE/board/hyperv

FAT_DIR=$BINARIES_DIR/hvrt-fat
GENIMAGE_TMP=$BINARIES_DIR/genimage.tmp

die() {
	echo "post-image.sh: error: $*" >&2
	exit 1
}

check_inputs() {
	case $VARIANT in
	enlightened | emulated) ;;
	"") die "no variant; pass it as 2nd argument or set HVRT_VARIANT" ;;
	*) die "unknown variant '$VARIANT' (enlightened or emulated)" ;;
	esac
	for f in bzImage rootfs.cpio.gz boot.img grub.img; do
		[ -f "$BINARIES_DIR/$f" ] || die "missing $BINARIES_DIR/$f"
	done
	[ -f "$BOARD_DIR/bench.conf" ] || die "missing $BOARD_DIR/bench.conf"
	rust-bench convert --help >/dev/null 2>&1 ||
		die "no rust-bench with a convert command on PATH; select" \
			"BR2_PACKAGE_HOST_RUST_BENCH (host rust-bench)"
}

# The FAT partition's content, as the user sees it.
stage_fat() {
	rm -rf "$FAT_DIR"
	mkdir -p "$FAT_DIR/boot/grub" "$FAT_DIR/results"
	cp "$BINARIES_DIR/bzImage" "$BINARIES_DIR/rootfs.cpio.gz" "$FAT_DIR/"
	cp "$BOARD_DIR/grub.cfg" "$FAT_DIR/boot/grub/grub.cfg"
	cp "$BOARD_DIR/bench.conf" "$FAT_DIR/bench.conf"
	# Which image this is; the Hyper-V kit checks its -Variant against it.
	echo "$VARIANT" >"$FAT_DIR/variant.txt"
	if [ -f "$BOARD_DIR/README.txt" ]; then
		cp "$BOARD_DIR/README.txt" "$FAT_DIR/README.txt"
	fi
}

make_disk() {
	rm -rf "$GENIMAGE_TMP"
	genimage \
		--config "$BOARD_DIR/genimage.cfg" \
		--rootpath "$FAT_DIR" \
		--tmppath "$GENIMAGE_TMP" \
		--inputpath "$BINARIES_DIR" \
		--outputpath "$BINARIES_DIR"
	mv "$BINARIES_DIR/hvrt.img" "$BINARIES_DIR/hvrt-$VARIANT.img"
	rm -rf "$GENIMAGE_TMP" "$FAT_DIR" "$BINARIES_DIR/hvrt-fat.vfat"
}

# Hyper-V: a fixed VHD (the raw disk and its footer) and a VHDX, written by
# rust-bench, replacing those of an earlier build.
convert_disk() {
	base=$BINARIES_DIR/hvrt-$VARIANT
	rust-bench convert "$base.img" --vhd "$base.vhd" --vhdx "$base.vhdx" \
		--force >/dev/null
}

main() {
	check_inputs
	stage_fat
	make_disk
	convert_disk
	for ext in img vhd vhdx; do
		echo "post-image.sh: $BINARIES_DIR/hvrt-$VARIANT.$ext"
	done
}

main
