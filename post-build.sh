#!/bin/sh
# Finish the root filesystem (an initramfs: the whole system runs in RAM).
#
# usage: post-build.sh TARGET_DIR [VARIANT]
#   TARGET_DIR  the root filesystem tree
#   VARIANT     a directory of board/hyperv/ with a variant.conf (Buildroot passes it
#               from BR2_ROOTFS_POST_SCRIPT_ARGS); default: $HVRT_VARIANT
#
# Under Buildroot (BUILD_DIR and BINARIES_DIR set) it also puts GRUB's
# boot.img into BINARIES_DIR for post-image.sh, as board/pc does, where the
# variant boots under BIOS (Hyper-V generation 1).
set -eu

TARGET_DIR=${1:?usage: post-build.sh TARGET_DIR [VARIANT]}
VARIANT=${2:-${HVRT_VARIANT:-}}
TREE=${BR2_EXTERNAL_HVRT_PATH:-$(cd "$(dirname "$0")" && pwd)}
# shellcheck source=board/hyperv/variant.sh
. "$TREE/board/hyperv/variant.sh"

die() {
	echo "post-build.sh: error: $*" >&2
	exit 1
}

# GRUB is on the FAT partition, not in the initramfs.
drop_boot_dir() {
	rm -f "$TARGET_DIR/boot/grub/grub.cfg"
	rmdir "$TARGET_DIR/boot/grub" "$TARGET_DIR/boot" 2>/dev/null || true
}

# Which image this is, for the results and the console banner.
write_release() {
	variant_check "$VARIANT" || die "cannot finish the root filesystem"
	mkdir -p "$TARGET_DIR/etc"
	echo "HVRT_VARIANT=$VARIANT" >"$TARGET_DIR/etc/hvrt-release"
}

copy_grub_boot_img() {
	[ -n "${BUILD_DIR:-}" ] && [ -n "${BINARIES_DIR:-}" ] || return 0
	variant_has_generation "$VARIANT" 1 || return 0
	for f in "$BUILD_DIR"/grub2-*/build-i386-pc/grub-core/boot.img; do
		[ -f "$f" ] || die "no GRUB i386-pc boot.img in $BUILD_DIR"
		cp -f "$f" "$BINARIES_DIR/boot.img"
		return 0
	done
}

main() {
	drop_boot_dir
	write_release
	if [ -f "$TARGET_DIR/sbin/hvrt-init" ]; then
		chmod 0755 "$TARGET_DIR/sbin/hvrt-init"
	fi
	copy_grub_boot_img
}

main
