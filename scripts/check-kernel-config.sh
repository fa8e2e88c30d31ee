#!/bin/sh
# Resolve each variant's kernel configuration the way Buildroot does and
# check it: every line of the base config and of the fragments must
# survive olddefconfig (merge_config.sh -m never warns when kconfig drops
# one), and the symbols a variant stands for must have their values: those
# of every variant, those its Hyper-V generations need (variant.conf's
# GENERATIONS) and its own (board/hyperv/<variant>/linux.required).
#
# usage: check-kernel-config.sh [VARIANT...]
#            check the given variants (default: every configs/*_defconfig)
#        check-kernel-config.sh --resolve VARIANT OUTDIR
#            only resolve VARIANT's kernel config into OUTDIR/.config
#
# The kernel's kconfig comes from Debian's linux-source-6.12, extracted
# once into output/kernel-src/ and reused.
#
# environment:
#   HVRT_KERNEL_TARBALL  default /usr/src/linux-source-6.12.tar.xz
#   HVRT_KERNEL_SRC      an extracted kernel tree to use instead
#   HVRT_OUTPUT          default <tree>/output
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${HVRT_OUTPUT:-$TREE/output}
KERNEL_TARBALL=${HVRT_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KERNEL_SRC=${HVRT_KERNEL_SRC:-$OUTPUT/kernel-src/linux-source-6.12}
# shellcheck source=board/hyperv/variant.sh
. "$TREE/board/hyperv/variant.sh"

die() {
	echo "check-kernel-config: error: $*" >&2
	exit 2
}

# Symbols every variant needs, in .config syntax ("is not set" also
# matches a symbol that kconfig does not write at all).
common_symbols() {
	cat <<-EOF
	CONFIG_PREEMPT_RT=y
	CONFIG_HZ_PERIODIC=y
	CONFIG_HZ=1000
	CONFIG_IKCONFIG_PROC=y
	CONFIG_BLK_DEV_INITRD=y
	CONFIG_RD_GZIP=y
	CONFIG_DEVTMPFS=y
	CONFIG_ACPI=y
	CONFIG_SERIAL_8250_CONSOLE=y
	CONFIG_BLK_DEV_SD=y
	CONFIG_USB_STORAGE=y
	CONFIG_VFAT_FS=y
	CONFIG_SCHED_DEBUG=y
	CONFIG_FTRACE=y
	CONFIG_TRACEPOINTS=y
	CONFIG_OSNOISE_TRACER=y
	CONFIG_TIMERLAT_TRACER=y
	# CONFIG_FUNCTION_TRACER is not set
	# CONFIG_MODULES is not set
	EOF
}

# What booting on a Hyper-V generation needs of the kernel.
generation_symbols() {
	case $1 in
	1)
		# BIOS, GRUB i386-pc; the IDE boot disk (seen through hv_storvsc where the
		# kernel has it), VGA text console; on an MBR or, with generation 2, a GPT.
		cat <<-EOF
		CONFIG_ATA_PIIX=y
		CONFIG_VGA_CONSOLE=y
		CONFIG_MSDOS_PARTITION=y
		EOF
		;;
	2)
		# UEFI: GRUB x86_64-efi starts the kernel through its EFI stub, on a GPT;
		# UEFI's runtime services off (unbounded firmware calls); the boot disk is
		# SCSI over VMBus (hv_storvsc, built in: no modules); the console on UEFI's
		# framebuffer (no VGA text).
		cat <<-EOF
		CONFIG_EFI=y
		CONFIG_EFI_STUB=y
		CONFIG_EFI_DISABLE_RUNTIME=y
		CONFIG_EFI_PARTITION=y
		CONFIG_HYPERV=y
		CONFIG_HYPERV_STORAGE=y
		CONFIG_FB_EFI=y
		CONFIG_FRAMEBUFFER_CONSOLE=y
		EOF
		;;
	*) die "generation '$1' is neither 1 nor 2" ;;
	esac
}

# Symbols a variant stands for: every variant's, its generations', and its
# own (board/hyperv/<variant>/linux.required).
required_symbols() {
	common_symbols
	for g in $(variant_value "$1" GENERATIONS); do
		generation_symbols "$g"
	done
	cat "$VARIANTS_DIR/$1/linux.required"
}

# Value of a Buildroot string option in a defconfig, with the tree's
# $(BR2_EXTERNAL_HVRT_PATH) expanded.
defconfig_value() {
	sed -n "s/^$2=\"\(.*\)\"\$/\1/p" "$1" |
		sed "s|\$(BR2_EXTERNAL_HVRT_PATH)|$TREE|g"
}

# The kernel config files of a variant: base config, then the fragments,
# in the order Buildroot merges them.
config_files() {
	defconfig=$TREE/configs/$1_defconfig
	[ -f "$defconfig" ] || die "no $defconfig"
	defconfig_value "$defconfig" BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE
	defconfig_value "$defconfig" BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES |
		tr ' ' '\n' | sed '/^$/d'
}

kernel_src() {
	[ -f "$KERNEL_SRC/scripts/kconfig/merge_config.sh" ] && return
	[ -f "$KERNEL_TARBALL" ] ||
		die "no $KERNEL_TARBALL (apt-get install linux-source-6.12)"
	echo "extracting $KERNEL_TARBALL into $(dirname "$KERNEL_SRC")"
	mkdir -p "$(dirname "$KERNEL_SRC")"
	tar -C "$(dirname "$KERNEL_SRC")" -xJf "$KERNEL_TARBALL"
	[ -f "$KERNEL_SRC/scripts/kconfig/merge_config.sh" ] ||
		die "$KERNEL_TARBALL did not give $KERNEL_SRC"
}

kconfig_make() {
	make -s -C "$KERNEL_SRC" O="$1" ARCH=x86_64 "$2" >/dev/null
}

# Buildroot's linux.mk fixups for this configuration (gzip kernel,
# initramfs, devtmpfs, no GCC plugins), then olddefconfig again.
buildroot_fixups() {
	"$KERNEL_SRC/scripts/config" --file "$1/.config" \
		--enable KERNEL_GZIP --enable BLK_DEV_INITRD \
		--enable DEVTMPFS --enable DEVTMPFS_MOUNT --disable GCC_PLUGINS
	kconfig_make "$1" olddefconfig
}

# resolve VARIANT OUTDIR: base config + fragments -> OUTDIR/.config
resolve() {
	variant=$1
	outdir=$2
	kernel_src
	files=$(config_files "$variant")
	# shellcheck disable=SC2086 # one file name per line, no spaces
	set -- $files
	[ $# -ge 1 ] || die "configs/${variant}_defconfig names no kernel config"
	for f in "$@"; do
		[ -f "$f" ] || die "$f does not exist"
	done
	mkdir -p "$outdir"
	outdir=$(cd "$outdir" && pwd)
	install -m 0644 "$1" "$outdir/.config"
	shift
	"$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$outdir" \
		"$outdir/.config" "$@" >"$outdir/merge.log"
	kconfig_make "$outdir" olddefconfig
	buildroot_fixups "$outdir"
}

# Lines "SYMBOL<TAB>VALUE<TAB>ORIGIN" from config files (later ones win);
# VALUE is "n" for "# CONFIG_X is not set".
wanted_lines() {
	awk '
	/^CONFIG_[A-Za-z0-9_]+=/ {
		i = index($0, "=")
		want(substr($0, 1, i - 1), substr($0, i + 1))
		next
	}
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { want($2, "n") }
	function want(sym, v) {
		if (val[sym] == v)
			return
		val[sym] = v
		from[sym] = FILENAME ":" FNR
	}
	END { for (s in val) print s "\t" val[s] "\t" from[s] }
	' "$@" | sort
}

# Print "ORIGIN: SYMBOL wanted VALUE, got VALUE" for each mismatch.
mismatches() {
	dotconfig=$1
	shift
	wanted_lines "$@" | while IFS='	' read -r sym want origin; do
		got=$(sed -n "s/^$sym=//p" "$dotconfig")
		[ -n "$got" ] || got=n
		[ "$got" = "$want" ] ||
			echo "  $origin: $sym wanted $want, got $got"
	done
}

check_variant() {
	variant=$1
	variant_check "$variant" || die "cannot check its kernel config"
	[ -f "$VARIANTS_DIR/$variant/linux.required" ] ||
		die "no board/hyperv/$variant/linux.required (the symbols the variant stands for)"
	outdir=$OUTPUT/kernel-config/$variant
	resolve "$variant" "$outdir"
	required=$outdir/required.config
	required_symbols "$variant" >"$required"
	files=$(config_files "$variant")
	# The config files and the required symbols are checked apart: a
	# required value must not hide a config line that lost out.
	# shellcheck disable=SC2086 # one file name per line, no spaces
	bad=$({
		mismatches "$outdir/.config" $files
		mismatches "$outdir/.config" "$required"
	} | sed "s|$TREE/||")
	# shellcheck disable=SC2086
	checked=$({
		wanted_lines $files
		wanted_lines "$required"
	} | cut -f1 | sort -u | wc -l)
	summary=$(for s in PREEMPT_RT HZ HYPERVISOR_GUEST HYPERV HYPERV_STORAGE ATA_PIIX TULIP EFI EFI_STUB; do
		v=$(sed -n "s/^CONFIG_$s=//p" "$outdir/.config")
		printf ' %s=%s' "$s" "${v:-n}"
	done)
	if [ -n "$bad" ]; then
		echo "$variant: FAIL ($outdir/.config)"
		echo "$bad"
		return 1
	fi
	echo "$variant: ok, $checked symbols as wanted:$summary"
}

main() {
	if [ "${1:-}" = "--resolve" ]; then
		[ $# -eq 3 ] || die "usage: $0 --resolve VARIANT OUTDIR"
		resolve "$2" "$3"
		return
	fi
	# shellcheck disable=SC2046 # variant names have no spaces
	[ $# -gt 0 ] || set -- $(variant_names)
	status=0
	for variant in "$@"; do
		check_variant "$variant" || status=1
	done
	return $status
}

main "$@"
