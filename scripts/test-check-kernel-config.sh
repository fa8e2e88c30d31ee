#!/bin/sh
# Show that check-kernel-config.sh fails when it should: in a scratch copy of
# the tree, break one variant's kernel config in ways Buildroot's merge would
# pass over in silence, and expect the check to name the line each time.
#
# usage: test-check-kernel-config.sh
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${HVRT_OUTPUT:-$TREE/output}
KERNEL_SRC=${HVRT_KERNEL_SRC:-$OUTPUT/kernel-src/linux-source-6.12}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# A fresh copy of what the check reads.
copy_tree() {
	rm -rf "$SCRATCH/tree"
	mkdir -p "$SCRATCH/tree"
	cp -r "$TREE/configs" "$TREE/board" "$TREE/scripts" "$SCRATCH/tree/"
}

# expect_failure VARIANT DESCRIPTION PATTERN: the check of VARIANT must fail and
# print PATTERN.
expect_failure() {
	variant=$1
	description=$2
	pattern=$3
	if HVRT_OUTPUT="$SCRATCH/output" HVRT_KERNEL_SRC="$KERNEL_SRC" \
		"$SCRATCH/tree/scripts/check-kernel-config.sh" "$variant" \
		>"$SCRATCH/log" 2>&1; then
		cat "$SCRATCH/log"
		echo "test-check-kernel-config: FAIL: $description was not caught" >&2
		exit 1
	fi
	if ! grep -q "$pattern" "$SCRATCH/log"; then
		cat "$SCRATCH/log"
		echo "test-check-kernel-config: FAIL: $description: no '$pattern'" >&2
		exit 1
	fi
	echo "test-check-kernel-config: ok: $description is caught"
}

main() {
	# The real configs must pass first (this also extracts the kernel).
	"$TREE/scripts/check-kernel-config.sh" emulated enlightened >/dev/null

	copy_tree
	echo 'CONFIG_HYPERV=y' >>"$SCRATCH/tree/board/hyperv/emulated/linux.fragment"
	expect_failure emulated "a fragment line kconfig drops (HYPERV without HYPERVISOR_GUEST)" \
		'linux.fragment:[0-9]*: CONFIG_HYPERV wanted y, got n'

	copy_tree
	sed -i '/^CONFIG_EXPERT=y$/d' "$SCRATCH/tree/board/hyperv/linux/realtime.fragment" \
		"$SCRATCH/tree/board/hyperv/linux/base.config"
	expect_failure emulated "PREEMPT_RT without EXPERT" 'CONFIG_PREEMPT_RT wanted y, got n'

	copy_tree
	sed -i '/^CONFIG_TULIP=y$/d' "$SCRATCH/tree/board/hyperv/emulated/linux.fragment"
	expect_failure emulated "a required symbol of the variant missing (TULIP)" \
		'CONFIG_TULIP wanted y, got n'

	# Generation 2 (UEFI): GRUB x86_64-efi needs the EFI stub, the SCSI disk hv_storvsc
	# built in; without the fragment's lines the kernel has neither.
	copy_tree
	sed -i '/^CONFIG_EFI_STUB=y$/d' "$SCRATCH/tree/board/hyperv/enlightened/linux.fragment"
	expect_failure enlightened "a generation 2 variant without the EFI stub" \
		'CONFIG_EFI_STUB wanted y, got n'

	copy_tree
	sed -i 's/^CONFIG_HYPERV_STORAGE=y$/# CONFIG_HYPERV_STORAGE is not set/' \
		"$SCRATCH/tree/board/hyperv/enlightened/linux.fragment"
	sed -i '/^CONFIG_HYPERV_STORAGE=y$/d' "$SCRATCH/tree/board/hyperv/enlightened/linux.required"
	expect_failure enlightened "a generation 2 variant without hv_storvsc" \
		'CONFIG_HYPERV_STORAGE wanted y, got n'
}

main "$@"
