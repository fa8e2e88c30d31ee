# The variants, for the tree's shell scripts (sourced by post-build.sh,
# board/hyperv/post-image.sh, scripts/check-kernel-config.sh and scripts/e2e.sh, which set
# TREE to the tree first). A variant is a directory board/hyperv/<variant>/ holding a
# variant.conf (one KEY="value" a line), its kernel fragment and linux.required, with
# configs/<variant>_defconfig beside; nothing else names the variants.
# shellcheck shell=sh

VARIANTS_DIR=$TREE/board/hyperv

# The variants, one name a line, in name order.
variant_names() {
	for f in "$VARIANTS_DIR"/*/variant.conf; do
		[ -f "$f" ] || continue
		d=${f%/variant.conf}
		printf '%s\n' "${d##*/}"
	done
}

# Succeed if $1 names a variant; else say which there are, on stderr, and fail.
variant_check() {
	if [ -n "$1" ] && [ -f "$VARIANTS_DIR/$1/variant.conf" ]; then
		return 0
	fi
	echo "unknown variant '$1': a variant is a directory board/hyperv/<variant>/ with a variant.conf; there are: $(variant_names | tr '\n' ' ')" >&2
	return 1
}

# variant_value VARIANT KEY: KEY's value in the variant's variant.conf, empty when unset.
variant_value() {
	sed -n "s/^$2=\"\\(.*\\)\"[[:space:]]*\$/\\1/p; s/^$2=\\([^\"]*\\)\$/\\1/p" \
		"$VARIANTS_DIR/$1/variant.conf" | tail -n 1
}

# variant_has_generation VARIANT N: succeed if the variant boots on Hyper-V generation N.
variant_has_generation() {
	case " $(variant_value "$1" GENERATIONS) " in
	*" $2 "*) return 0 ;;
	esac
	return 1
}

# The firmware the variant's disk boots under, one a line: bios for generation 1 (GRUB
# i386-pc), uefi for generation 2 (GRUB x86_64-efi on an EFI system partition).
variant_firmware() {
	for g in $(variant_value "$1" GENERATIONS); do
		case $g in
		1) echo bios ;;
		2) echo uefi ;;
		*)
			echo "board/hyperv/$1/variant.conf: generation '$g' is neither 1 nor 2" >&2
			return 1
			;;
		esac
	done
}

# The genimage configuration of the variant's disk: its own genimage.cfg, else the tree's
# layout for its generations (board/hyperv/genimage-gen1.cfg, genimage-gen1-gen2.cfg).
variant_genimage() {
	if [ -f "$VARIANTS_DIR/$1/genimage.cfg" ]; then
		printf '%s\n' "$VARIANTS_DIR/$1/genimage.cfg"
		return
	fi
	name=genimage
	for g in $(variant_value "$1" GENERATIONS); do
		name=$name-gen$g
	done
	printf '%s\n' "$VARIANTS_DIR/$name.cfg"
}
