#!/bin/sh
# Make the disk image of a variant, laid out for the Hyper-V generations its variant.conf
# names (board/hyperv/variant.sh): generation 1 only, an MBR disk with GRUB i386-pc
# (genimage-gen1.cfg); generations 1 and 2, a GPT disk with GRUB i386-pc for BIOS and GRUB
# x86_64-efi as \EFI\BOOT\BOOTX64.EFI on an EFI system partition for UEFI
# (genimage-gen1-gen2.cfg); a variant directory's own genimage.cfg replaces either. Each has
# a FAT32 partition labelled HVRT holding the kernel, the initramfs, grub.cfg, the run config
# and an empty results directory. Then the same disk as a VHDX for Hyper-V, and, where it
# boots on generation 1, as a fixed VHD (generation 2 takes VHDX only).
#
# usage: post-image.sh BINARIES_DIR [VARIANT]
#   BINARIES_DIR  holds bzImage, rootfs.cpio.gz; for BIOS boot.img and grub.img, for UEFI
#                 efi-part/EFI/BOOT/bootx64.efi (where Buildroot's grub2 package puts
#                 them); receives hvrt-VARIANT.img, .vhdx and .vhd
#   VARIANT       a directory of board/hyperv/ with a variant.conf (Buildroot passes it
#                 from BR2_ROOTFS_POST_SCRIPT_ARGS); default: $HVRT_VARIANT
#
# environment:
#   BR2_EXTERNAL_HVRT_PATH  the tree (default: two levels above this script)
#   HVRT_VARIANT            the variant when not given as an argument
#
# tools from PATH: genimage, mkdosfs, mcopy, mmd, od, rust-bench (the host build of the
# tree's rust-bench, from Buildroot's host directory)
set -eu

BINARIES_DIR=${1:?usage: post-image.sh BINARIES_DIR [VARIANT]}
VARIANT=${2:-${HVRT_VARIANT:-}}
TREE=${BR2_EXTERNAL_HVRT_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
BOARD_DIR=$TREE/board/hyperv
# shellcheck source=board/hyperv/variant.sh
. "$BOARD_DIR/variant.sh"

FAT_DIR=$BINARIES_DIR/hvrt-fat
ESP_DIR=$BINARIES_DIR/hvrt-esp
GENIMAGE_TMP=$BINARIES_DIR/genimage.tmp
# Where Buildroot's grub2 package puts GRUB x86_64-efi.
GRUB_EFI=$BINARIES_DIR/efi-part/EFI/BOOT/bootx64.efi
# The GPT type of a BIOS boot partition, which holds GRUB i386-pc's core on a GPT disk.
BIOS_BOOT_TYPE=21686148-6449-6E6F-744E-656564454649

die() {
	echo "post-image.sh: error: $*" >&2
	exit 1
}

check_inputs() {
	[ -n "$VARIANT" ] || die "no variant; pass it as 2nd argument or set HVRT_VARIANT"
	variant_check "$VARIANT" || die "cannot make a disk image"
	FIRMWARE=$(variant_firmware "$VARIANT") || die "cannot make a disk image"
	[ -n "$FIRMWARE" ] || die "board/hyperv/$VARIANT/variant.conf names no GENERATIONS"
	LAYOUT=$(variant_genimage "$VARIANT")
	[ -f "$LAYOUT" ] ||
		die "no $LAYOUT for the generations of $VARIANT ($(variant_value "$VARIANT" GENERATIONS)); put a genimage.cfg into board/hyperv/$VARIANT/"
	need="bzImage rootfs.cpio.gz"
	for firmware in $FIRMWARE; do
		case $firmware in
		bios) need="$need boot.img grub.img" ;;
		uefi) need="$need efi-part/EFI/BOOT/bootx64.efi" ;;
		esac
	done
	for f in $need; do
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

# The EFI system partition's content: GRUB x86_64-efi on the removable-media path (a copied
# disk has no firmware boot entry) and the grub.cfg that leads it to the HVRT partition's.
stage_esp() {
	rm -rf "$ESP_DIR"
	case " $(echo "$FIRMWARE" | tr '\n' ' ') " in
	*" uefi "*) ;;
	*) return 0 ;;
	esac
	mkdir -p "$ESP_DIR/EFI/BOOT"
	cp "$GRUB_EFI" "$ESP_DIR/EFI/BOOT/BOOTX64.EFI"
	cp "$BOARD_DIR/grub-efi.cfg" "$ESP_DIR/EFI/BOOT/grub.cfg"
}

make_disk() {
	rm -rf "$GENIMAGE_TMP"
	genimage \
		--config "$LAYOUT" \
		--rootpath "$FAT_DIR" \
		--tmppath "$GENIMAGE_TMP" \
		--inputpath "$BINARIES_DIR" \
		--outputpath "$BINARIES_DIR"
	mv "$BINARIES_DIR/hvrt.img" "$BINARIES_DIR/hvrt-$VARIANT.img"
	rm -rf "$GENIMAGE_TMP" "$FAT_DIR" "$ESP_DIR" "$BINARIES_DIR"/hvrt-*.vfat
}

# Little-endian 64-bit $3 written at byte $2 of file $1.
write_le64() {
	escapes=""
	for i in 0 1 2 3 4 5 6 7; do
		escapes="$escapes$(printf '\\%03o' $((($3 >> (8 * i)) & 255)))"
	done
	# shellcheck disable=SC2059 # the format is the octal escapes just made
	printf "$escapes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

read_le64() {
	od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '
}

# On a GPT, GRUB i386-pc's core (grub.img) lies in the BIOS boot partition, not right after
# the MBR where boot.img and grub.img look for it as grub-mkimage makes them: write its
# place into both, as grub-bios-setup does when it installs GRUB on a disk. boot.img reads
# grub.img's first sector from the sector at its byte 0x5c; that sector reads the rest from
# the list at its end (start at byte 0x1f4; grub-mkimage filled in the length).
place_grub_core() {
	disk=$1
	start=$("$BOARD_DIR/partitions.sh" "$disk" | awk -v t="$BIOS_BOOT_TYPE" '$4 == t { print $2 }')
	[ -n "$start" ] || return 0
	kernel_sector=$(read_le64 "$disk" 92)
	first_list=$(read_le64 "$disk" $((start * 512 + 500)))
	# grub-mkimage's defaults: grub.img right after the MBR, its rest after its first sector.
	if [ "$kernel_sector" != 1 ] || [ "$first_list" != 2 ]; then
		die "boot.img and grub.img are not as grub-mkimage makes them (sector $kernel_sector, list at $first_list); use GRUB's own boot.img and grub-mkimage -O i386-pc"
	fi
	write_le64 "$disk" 92 "$start"
	write_le64 "$disk" $((start * 512 + 500)) $((start + 1))
}

# Hyper-V: a VHDX (generation 2 takes nothing else) and, for generation 1, a fixed VHD
# (the raw disk and its footer), written by rust-bench, replacing those of an earlier build.
convert_disk() {
	base=$BINARIES_DIR/hvrt-$VARIANT
	rm -f "$base.vhd"
	if variant_has_generation "$VARIANT" 1; then
		rust-bench convert "$base.img" --vhd "$base.vhd" --vhdx "$base.vhdx" --force >/dev/null
	else
		rust-bench convert "$base.img" --vhdx "$base.vhdx" --force >/dev/null
	fi
}

main() {
	check_inputs
	stage_fat
	stage_esp
	make_disk
	place_grub_core "$BINARIES_DIR/hvrt-$VARIANT.img"
	convert_disk
	for ext in img vhd vhdx; do
		f=$BINARIES_DIR/hvrt-$VARIANT.$ext
		[ ! -f "$f" ] || echo "post-image.sh: $f"
	done
}

main
