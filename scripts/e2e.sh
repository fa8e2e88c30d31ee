#!/bin/sh
# End-to-end test of the appliance, offline, on Debian 12: make both images, boot each under
# QEMU, and check the results it wrote. The images come one of two ways:
#   - without BUILDROOT (make test, CI): look-alike images assembled from the tree's own files
#     and Debian parts, without Buildroot (steps 1-5 below);
#   - with BUILDROOT=<a Buildroot 2026.02.3 tree> (make e2e BUILDROOT=...): the user's build,
#     `make <variant>_defconfig && make` through the tree's Makefile with that Buildroot, in
#     output/e2e-buildroot/<variant>/, offline: scripts/buildroot-offline.sh generates the only
#     substitutions (a config fragment appended to the variant's .config and a package
#     override file, under output/br-offline/); each variant's build time is printed.
# Steps 6-9 (boot and checks) are the same for both.
#
# usage: scripts/e2e.sh [VARIANT...]
#   (default: every variant, board/hyperv/<variant>/variant.conf; those that boot on more
#   Hyper-V generations first)
#
# Debian assembly, for each variant in output/e2e/<variant>/:
#   1. the kernel from Debian's linux-source-6.12 with the tree's config files (resolved by
#      scripts/check-kernel-config.sh exactly as Buildroot merges them), built in linux/;
#   2. rust-bench (cargo build --release --locked, shared by both variants);
#   3. the rootfs: busybox-static + rust-bench and its libraries + the tree's rootfs overlay,
#      then the tree's post-build.sh, packed as rootfs.cpio.gz;
#   4. GRUB as Buildroot's grub2 package makes it, with the defconfig's module lists: for
#      BIOS (generation 1) boot.img and grub.img from Debian's grub-pc-bin (grub-mkimage -O
#      i386-pc, the defconfig's boot partition), for UEFI (generation 2)
#      efi-part/EFI/BOOT/bootx64.efi from grub-efi-amd64-bin (grub-mkimage -O x86_64-efi,
#      prefix /EFI/BOOT);
#   5. the tree's board/hyperv/post-image.sh: hvrt-<variant>.img, and .vhd, .vhdx by rust-bench;
# then, for either kind of image (Buildroot's are copied to output/e2e-buildroot/boot/<variant>/):
#   6. a short plan written into the VHD's bench.conf, the VHD booted under QEMU with BIOS
#      (SeaBIOS; TCG, IDE disk; with a tulip NIC where the variant's kit gives it a legacy
#      network adapter) until it powers itself off; where the variant boots on generation 2,
#      once more under UEFI (OVMF, the plan written into a copy of the raw image, then the
#      VHDX rust-bench convert makes of it booted from a SATA disk of QEMU's q35, as
#      generation 2 boots VHDX only, without IDE), in <variant>/uefi/;
#   7. the results read back out of the disk and checked (complete, the kernel symbols of the
#      variant's linux.required, run.json's firmware: BIOS or UEFI); for the BIOS boot the
#      VHDX is remade from the booted VHD by rust-bench convert, for the UEFI boot rust-bench
#      pull reads the booted VHDX and must give what mtools reads from qemu-img's raw copy;
#      vhdiinfo on the VHD and VHDX and fsck.vfat -n on the FAT partition;
#   8. once more from a copy of the first variant's image with the trace read as text
#      (trace_reader = text), to print what reading the trace costs each way; once more from
#      a copy with a broken bench.conf: the VM must power off by itself and record status
#      failed with a reason;
#   9. twice more with a plan made to hang (a measuring thread that never sleeps): the VM
#      must still switch itself off in time and record status failed, naming the watchdog;
#      8 and 9 under each firmware the first variant boots under.
# The booted images stay in the variant's directory with their results; serial.log is the
# console of the run.
#
# environment:
#   BUILDROOT          a Buildroot 2026.02.3 tree: test the images Buildroot builds
#   HVRT_OUTPUT        output directory (default <tree>/output)
#   E2E_JOBS           parallel kernel build jobs (default: nproc)
#   E2E_BOOT_TIMEOUT   seconds a boot may take before it counts as hung (default 900)
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=board/hyperv/variant.sh
. "$TREE/board/hyperv/variant.sh"
OUTPUT=${HVRT_OUTPUT:-$TREE/output}
BUILDROOT=${BUILDROOT:-}
if [ -n "$BUILDROOT" ]; then
	BR_OUTPUT=$OUTPUT/e2e-buildroot
	BR_OFFLINE=$OUTPUT/br-offline
	E2E=$BR_OUTPUT/boot
else
	E2E=$OUTPUT/e2e
fi
KERNEL_SRC=${HVRT_KERNEL_SRC:-$OUTPUT/kernel-src/linux-source-6.12}
JOBS=${E2E_JOBS:-$(nproc)}
# A hang detector, not a timing check: a boot of the e2e plan takes 15-45 s of host time
# here, and the hang plans end by their watchdogs (checked on the guest clock).
BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-900}
GRUB_DIR=/usr/lib/grub/i386-pc
GRUB_EFI_DIR=/usr/lib/grub/x86_64-efi
# UEFI for QEMU (Debian's ovmf): the firmware, and the variables each boot gets a copy of
# (none enrolled: Secure Boot off, as the Hyper-V kit sets it for generation 2).
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
MARKER="rust-bench: first sample"

# The plan booted in CI: the tests, briefly; clock-tick attributes its spikes.
WAKEUP_S=2
# The published real-time VM gate (cyclictest 40 us): recorded, and crossed or not, the run
# completes.
FAIL_ABOVE_US=40
TIMERLAT_S=2
e2e_plan() {
	cat <<-EOF
	# e2e: the tests, briefly
	role = test
	tests = clock-tick, thread-switch, osnoise, wakeup, timerlat
	clock_tick.duration = 2s
	clock_tick.loop_us = 68
	clock_tick.attribute = on
	osnoise.duration = 3s
	wakeup.duration = ${WAKEUP_S}s
	wakeup.fail_above_us = $FAIL_ABOVE_US
	timerlat.duration = ${TIMERLAT_S}s
	timerlat.fail_above_us = $FAIL_ABOVE_US
	thread_switch.threads = 2, 100
	thread_switch.duration = 1s
	rt_throttling = off
	poweroff = yes
	timeout = 5m
	EOF
}

# A plan that must be refused: the VM records the failure and powers off.
broken_plan() {
	printf 'role = foo\ntests = clock-tick\n'
}

# A plan made to hang (clock_tick.hang, a test-only knob): clock-tick spins at SCHED_FIFO 99
# without sleeping, deaf to stop requests, with RT throttling and the fair_server lifted.
# yes: rust-bench's deadline thread must end the run; unwatched: only the appliance's
# watchdog (rust-bench watchdog) can.
HANG_TIMEOUT_S=10
hang_plan() {
	cat <<-EOF
	# e2e: a run that never ends by itself ($1)
	role = test
	tests = clock-tick
	clock_tick.duration = 1h
	clock_tick.hang = $1
	rt_throttling = off
	poweroff = yes
	timeout = ${HANG_TIMEOUT_S}s
	EOF
}

log() {
	printf 'e2e: %s\n' "$*"
}

die() {
	printf 'e2e: FAIL: %s\n' "$*" >&2
	exit 1
}

# usage: need_tools VARIANT...
need_tools() {
	missing=""
	uefi=""
	for variant; do
		! variant_has_generation "$variant" 2 || uefi=yes
	done
	[ -z "$uefi" ] || [ -f "$OVMF_CODE" ] || missing="$missing $OVMF_CODE(ovmf)"
	# boot and checks
	set -- qemu-system-x86_64 qemu-img fsck.vfat mcopy mdir mmd mdeltree vhdiinfo cpio gzip bc
	if [ -n "$BUILDROOT" ]; then
		set -- "$@" make rsync rustc genimage mkfs.vfat
	else
		set -- "$@" grub-mkimage genimage mkfs.vfat cargo make gcc bison flex
		[ -x /bin/busybox ] || missing="$missing busybox(busybox-static)"
		[ -f "$GRUB_DIR/boot.img" ] || missing="$missing $GRUB_DIR(grub-pc-bin)"
		[ -z "$uefi" ] || [ -f "$GRUB_EFI_DIR/kernel.img" ] ||
			missing="$missing $GRUB_EFI_DIR(grub-efi-amd64-bin)"
	fi
	for tool; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	[ -z "$missing" ] || die "missing tools:$missing; see the package list in scripts/e2e.sh"
}

# Value of a string option in a variant's defconfig.
defconfig_value() {
	sed -n "s/^$2=\"\(.*\)\"\$/\1/p" "$TREE/configs/$1_defconfig"
}

# --- 1. kernel ---------------------------------------------------------------------------

# Resolve the variant's kernel config; rebuild only when it (or nothing yet) changed.
build_kernel() {
	variant=$1
	kdir=$E2E/$variant/linux
	fresh=$E2E/$variant/kconfig
	rm -rf "$fresh"
	HVRT_OUTPUT=$OUTPUT "$TREE/scripts/check-kernel-config.sh" --resolve "$variant" "$fresh" >/dev/null
	mkdir -p "$kdir"
	if ! cmp -s "$fresh/.config" "$kdir/.config"; then
		cp "$fresh/.config" "$kdir/.config"
		rm -f "$kdir/.built"
	fi
	if [ -f "$kdir/.built" ] && [ -f "$kdir/arch/x86/boot/bzImage" ]; then
		log "$variant: kernel up to date"
		return
	fi
	log "$variant: building the kernel (make -j$JOBS bzImage)"
	start=$(date +%s)
	make -s -C "$KERNEL_SRC" O="$kdir" ARCH=x86_64 olddefconfig >/dev/null
	make -s -C "$KERNEL_SRC" O="$kdir" ARCH=x86_64 -j"$JOBS" bzImage >"$kdir/build.log" 2>&1 ||
		{ tail -n 30 "$kdir/build.log"; die "$variant: kernel build failed ($kdir/build.log)"; }
	touch "$kdir/.built"
	log "$variant: kernel built in $(($(date +%s) - start)) s"
}

# --- 2. rust-bench ------------------------------------------------------------------------

build_rust_bench() {
	log "building rust-bench (cargo build --release --locked)"
	cargo build --quiet --release --locked --manifest-path "$TREE/rust-bench/Cargo.toml" \
		--target-dir "$E2E/cargo"
	RUST_BENCH=$E2E/cargo/release/rust-bench
	[ -x "$RUST_BENCH" ] || die "cargo did not produce $RUST_BENCH"
}

# --- 3. rootfs ----------------------------------------------------------------------------

# busybox at /bin/busybox with a link for every applet, as Buildroot installs it.
install_busybox() {
	root=$1
	install -D -m 0755 /bin/busybox "$root/bin/busybox"
	/bin/busybox --list-full | while read -r applet; do
		[ "$applet" != bin/busybox ] || continue
		mkdir -p "$root/$(dirname "$applet")"
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

# A program and the shared libraries it loads, at the same paths as on this host.
install_program() {
	root=$1
	program=$2
	dest=$3
	install -D -m 0755 "$program" "$root$dest"
	ldd "$program" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' |
		while read -r lib; do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
}

build_rootfs() {
	variant=$1
	images=$2
	root=$E2E/$variant/target
	rm -rf "$root"
	mkdir -p "$root"
	for d in dev proc sys tmp run mnt root etc; do
		mkdir -p "$root/$d"
	done
	install_busybox "$root"
	install_program "$root" "$RUST_BENCH" /usr/bin/rust-bench
	cp -a "$TREE/board/hyperv/rootfs-overlay/." "$root/"
	if [ -x "$TREE/post-build.sh" ]; then
		BR2_EXTERNAL_HVRT_PATH=$TREE TARGET_DIR=$root BINARIES_DIR=$images \
			HVRT_VARIANT=$variant "$TREE/post-build.sh" "$root" "$variant"
	fi
	[ -x "$root/sbin/hvrt-init" ] || die "$variant: the rootfs has no executable /sbin/hvrt-init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -9n >"$images/rootfs.cpio.gz"
}

# --- 4. boot loader -----------------------------------------------------------------------

# GRUB as Buildroot's grub2 package makes it, for each firmware the variant boots under:
# boot.img and grub.img for i386-pc (BIOS), efi-part/EFI/BOOT/bootx64.efi for x86_64-efi
# (UEFI).
build_grub() {
	variant=$1
	images=$2
	rm -rf "$images/efi-part"
	for firmware in $(variant_firmware "$variant"); do
		case $firmware in
		bios)
			modules=$(defconfig_value "$variant" BR2_TARGET_GRUB2_BUILTIN_MODULES_PC)
			partition=$(defconfig_value "$variant" BR2_TARGET_GRUB2_BOOT_PARTITION)
			[ -n "$modules" ] ||
				die "configs/${variant}_defconfig sets no BR2_TARGET_GRUB2_BUILTIN_MODULES_PC"
			cp "$GRUB_DIR/boot.img" "$images/boot.img"
			# shellcheck disable=SC2086 # a space-separated module list
			grub-mkimage -d "$GRUB_DIR" -O i386-pc -o "$images/grub.img" \
				-p "(${partition:-hd0,msdos1})/boot/grub" $modules
			;;
		uefi)
			modules=$(defconfig_value "$variant" BR2_TARGET_GRUB2_BUILTIN_MODULES_EFI)
			[ -n "$modules" ] ||
				die "configs/${variant}_defconfig sets no BR2_TARGET_GRUB2_BUILTIN_MODULES_EFI"
			mkdir -p "$images/efi-part/EFI/BOOT"
			# shellcheck disable=SC2086 # a space-separated module list
			grub-mkimage -d "$GRUB_EFI_DIR" -O x86_64-efi \
				-o "$images/efi-part/EFI/BOOT/bootx64.efi" -p /EFI/BOOT $modules
			;;
		esac
	done
}

# --- 5. disk images -----------------------------------------------------------------------

# The files post-image.sh makes of a variant's disk: the raw image and the VHDX, and the VHD
# where it boots on generation 1 (generation 2 takes VHDX only).
image_formats() {
	if variant_has_generation "$1" 1; then
		echo img vhd vhdx
	else
		echo img vhdx
	fi
}

build_images() {
	variant=$1
	images=$E2E/$variant
	log "$variant: assembling the rootfs, boot loader and disk images"
	cp "$E2E/$variant/linux/arch/x86/boot/bzImage" "$images/bzImage"
	build_rootfs "$variant" "$images"
	build_grub "$variant" "$images"
	rm -f "$images/hvrt-$variant.img" "$images/hvrt-$variant.vhd" "$images/hvrt-$variant.vhdx"
	PATH=$(dirname "$RUST_BENCH"):$PATH \
	BR2_EXTERNAL_HVRT_PATH=$TREE HVRT_VARIANT=$variant BINARIES_DIR=$images \
		"$TREE/board/hyperv/post-image.sh" "$images" "$variant" >"$images/post-image.log" 2>&1 ||
		{ cat "$images/post-image.log"; die "$variant: post-image.sh failed"; }
	for ext in $(image_formats "$variant"); do
		[ -s "$images/hvrt-$variant.$ext" ] || die "$variant: post-image.sh made no hvrt-$variant.$ext"
	done
}

# --- 1-5 with Buildroot --------------------------------------------------------------------

buildroot_version() {
	sed -n 's/^export BR2_VERSION := //p' "$BUILDROOT/Makefile"
}

# The tree's Makefile, as a user runs it, on the e2e's own output directory.
tree_make() {
	HVRT_OUTPUT=$BR_OUTPUT BR2_DL_DIR=$BR_OUTPUT/dl make -C "$TREE" BUILDROOT="$BUILDROOT" "$@"
}

# Lines of the offline fragment that did not make it into a .config.
fragment_lost() {
	grep -E '^(BR2_|# BR2_)' "$1" | while IFS= read -r line; do
		case $line in
		"# "*) sym=${line#\# }; sym=${sym%% *}
			grep -q "^$sym=" "$2" && echo "$line" ;;
		*) grep -qxF "$line" "$2" || echo "$line" ;;
		esac
	done
}

# make <variant>_defconfig, the offline fragment appended, make: the images in
# output/e2e-buildroot/<variant>/images/, copied to the variant's boot directory.
build_buildroot() {
	variant=$1
	bro=$BR_OUTPUT/$variant
	log "$variant: make ${variant}_defconfig (+ $BR_OFFLINE/offline.config) && make, in $bro (log: $bro/build.log)"
	tree_make -s "${variant}_defconfig" >/dev/null
	cat "$BR_OFFLINE/offline.config" >>"$bro/.config"
	tree_make -s olddefconfig >/dev/null 2>&1 || die "$variant: olddefconfig failed"
	lost=$(fragment_lost "$BR_OFFLINE/offline.config" "$bro/.config")
	[ -z "$lost" ] || die "$variant: the offline fragment did not hold in $bro/.config: $lost"
	# A reused output directory holds the rust-bench of an earlier tree (a local package is
	# copied in once): build this tree's, as a fresh build would.
	tree_make -s rust-bench-dirclean host-rust-bench-dirclean >/dev/null ||
		die "$variant: make rust-bench-dirclean host-rust-bench-dirclean failed"
	"$BR_OFFLINE/bin/ccache" --zero-stats >/dev/null
	start=$(date +%s)
	HVRT_OUTPUT=$BR_OUTPUT BR2_DL_DIR=$BR_OUTPUT/dl nice -n 5 make -C "$TREE" >"$bro/build.log" 2>&1 ||
		{ tail -n 40 "$bro/build.log"; die "$variant: the Buildroot build failed ($bro/build.log)"; }
	seconds=$(($(date +%s) - start))
	echo "$seconds" >"$bro/build.seconds"
	log "benchmark: Buildroot $(buildroot_version) build of $variant: $seconds s wall clock ($(nproc) cores), ccache: $(ccache_summary)"
	check_os_release "$variant" "$bro/images/rootfs.cpio.gz"
	# The checks use the rust-bench the user's build made for the host (post-image.sh's).
	RUST_BENCH=$bro/host/bin/rust-bench
	[ -x "$RUST_BENCH" ] || die "$variant: the Buildroot build made no $RUST_BENCH"
	mkdir -p "$E2E/$variant"
	for ext in $(image_formats "$variant"); do
		f=$bro/images/hvrt-$variant.$ext
		[ -s "$f" ] || die "$variant: the Buildroot build made no $f"
		cp "$f" "$E2E/$variant/"
	done
}

# Hits and misses of the shared compiler cache since its statistics were zeroed.
ccache_summary() {
	"$BR_OFFLINE/bin/ccache" --print-stats | awk -F'\t' '
		$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { hits += $2 }
		$1 == "cache_miss" { misses = $2 }
		END { printf "%d hits, %d misses", hits, misses }'
}

# Buildroot's /etc/os-release is in the initramfs, post-build.sh left it alone.
check_os_release() {
	variant=$1
	cpio_gz=$2
	want="Buildroot $(buildroot_version)"
	tmp=$E2E/$variant/os-release
	mkdir -p "$tmp"
	rm -rf "${tmp:?}"/*
	(cd "$tmp" && gzip -dc "$cpio_gz" | cpio -id --quiet etc/os-release usr/lib/os-release) ||
		die "$variant: cannot read the initramfs $cpio_gz"
	[ -e "$tmp/etc/os-release" ] || [ -L "$tmp/etc/os-release" ] ||
		die "$variant: the initramfs has no /etc/os-release"
	target=$(readlink "$tmp/etc/os-release" || echo "")
	case $target in
	"") file=$tmp/etc/os-release ;;
	../usr/lib/os-release | /usr/lib/os-release) file=$tmp/usr/lib/os-release ;;
	*) die "$variant: /etc/os-release points to $target" ;;
	esac
	pretty=$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' "$file")
	[ "$pretty" = "$want" ] ||
		die "$variant: the initramfs's /etc/os-release says PRETTY_NAME '$pretty', not '$want'"
	log "$variant: initramfs /etc/os-release: PRETTY_NAME=\"$pretty\""
}

# --- 6. boot ------------------------------------------------------------------------------

# "START SECTORS" of the FAT partition labelled HVRT on a raw (or fixed VHD) disk, MBR or
# GPT: the partition the appliance writes its results to.
hvrt_partition() {
	"$TREE/board/hyperv/partitions.sh" "$1" | while read -r _ start sectors _; do
		label=$(dd if="$1" bs=1 skip=$((start * 512 + 71)) count=11 2>/dev/null | tr -d ' ')
		if [ "$label" = HVRT ]; then
			echo "$start $sectors"
			return
		fi
	done
}

# Byte offset and sector count of the HVRT partition.
partition_start() {
	part=$(hvrt_partition "$1")
	[ -n "$part" ] || die "$1 has no FAT32 partition labelled HVRT"
	echo $((${part%% *} * 512))
}

partition_sectors() {
	part=$(hvrt_partition "$1")
	[ -n "$part" ] || die "$1 has no FAT32 partition labelled HVRT"
	echo "${part#* }"
}

# mtools on the FAT partition of a disk file.
mtools_image() {
	printf '%s@@%s' "$1" "$(partition_start "$1")"
}

write_plan() {
	disk=$1
	plan=$2
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$(mtools_image "$disk")" "$plan" ::bench.conf
}

# The name of a boot in messages: the variant, with the firmware unless BIOS.
boot_name() {
	case $2 in
	bios) printf '%s\n' "$1" ;;
	uefi) printf '%s (UEFI)\n' "$1" ;;
	esac
}

# Boot a disk until it powers itself off; print the host seconds to the first sample. BIOS
# boots a VHD from IDE (Hyper-V generation 1 as QEMU has it); UEFI boots a VHDX from SATA
# (q35's AHCI: generation 2 has no IDE; QEMU has no VMBus SCSI) with OVMF.
# usage: boot_disk VARIANT FIRMWARE DISK SERIAL
boot_disk() {
	q_variant=$1
	q_firmware=$2
	q_disk=$3
	serial=$4
	q_name=$(boot_name "$q_variant" "$q_firmware")
	# -icount: the guest's clock follows the instructions it executes (and real time when
	# idle), so a busy host cannot starve its boot-time timer checks; without it, TCG on a
	# loaded 2-core machine sometimes panics ("IO-APIC + timer doesn't work") or loses its
	# timer interrupts and hangs at power-off.
	set -- qemu-system-x86_64 -accel tcg -icount shift=3,sleep=on -m 1024 -smp 1 \
		-display none -monitor none -no-reboot -serial "file:$serial"
	case $q_firmware in
	bios) set -- "$@" -drive "file=$q_disk,format=vpc,if=ide" ;;
	uefi)
		cp "$OVMF_VARS" "$serial.vars.fd"
		set -- "$@" -machine q35 \
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
			-drive "if=pflash,format=raw,unit=1,file=$serial.vars.fd" \
			-drive "file=$q_disk,format=vhdx,if=none,id=disk" -device ide-hd,drive=disk,bus=ide.0
		;;
	esac
	# The kit gives a legacy network adapter (DEC 21140) where the variant says so.
	if [ "$(variant_value "$q_variant" NETWORK_ADAPTER)" = legacy ]; then
		set -- "$@" -netdev user,id=n -device tulip,netdev=n
	fi
	rm -f "$serial"
	"$@" </dev/null >"$serial.qemu" 2>&1 &
	pid=$!
	start=$(date +%s)
	first=""
	while kill -0 "$pid" 2>/dev/null; do
		now=$(date +%s)
		if [ -z "$first" ] && grep -q "$MARKER" "$serial" 2>/dev/null; then
			first=$((now - start))
		fi
		if [ $((now - start)) -ge "$BOOT_TIMEOUT" ]; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			tail -n 40 "$serial" >&2 || true
			die "$q_name: the VM did not power off within $BOOT_TIMEOUT s ($serial)"
		fi
		sleep 1
	done
	wait "$pid" || die "$q_name: qemu failed: $(cat "$serial.qemu")"
	log "$q_name: the VM powered off after $(($(date +%s) - start)) s"
	printf '%s\n' "${first:--}" >"$serial.first"
}

# --- 7. checks ----------------------------------------------------------------------------

# Copy results/ out of the disk into DIR/results.
pull_results() {
	rm -rf "$2/results"
	MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$(mtools_image "$1")" ::results "$2/" ||
		die "cannot read results/ from $1"
}

# The single run directory under results/.
only_run() {
	runs=$(ls "$1/results")
	[ "$(printf '%s\n' "$runs" | grep -c .)" -eq 1 ] || die "expected one run in $1/results, found: $runs"
	printf '%s\n' "$1/results/$runs"
}

# The value of the first "KEY": VALUE line of a pretty-printed JSON file.
json_value() {
	sed -n "s/^ *\"$2\": \(.*\)\$/\1/p" "$1" | head -n 1 | sed 's/,$//; s/^"\(.*\)"$/\1/'
}

# run.json's environment.os_release: the image's /etc/os-release PRETTY_NAME. A
# Buildroot-built image must say which Buildroot made it.
check_os_release_field() {
	what=$1
	json=$2
	grep -q '"os_release":' "$json" ||
		die "$what: run.json has no environment.os_release"
	os_release=$(json_value "$json" os_release)
	if [ -n "$BUILDROOT" ]; then
		want="Buildroot $(buildroot_version)"
		[ "$os_release" = "$want" ] ||
			die "$what: run.json says os_release '$os_release', not '$want'"
	fi
	log "$what: run.json os_release: ${os_release:-(none: this image has no /etc/os-release)}"
}

# A complete run of every test of the plan, the variant's kernel (its linux.required) and firmware.
# usage: check_complete VARIANT FIRMWARE RUN
check_complete() {
	variant=$1
	firmware=$2
	run=$3
	name=$(boot_name "$variant" "$firmware")
	status=$(json_value "$run/run.json" status)
	[ "$status" = complete ] ||
		die "$name: run status '$status': $(json_value "$run/run.json" error)"
	rt=$(json_value "$run/run.json" CONFIG_PREEMPT_RT)
	[ "$rt" = y ] || die "$name: CONFIG_PREEMPT_RT is '$rt' in run.json, not y"
	required=$VARIANTS_DIR/$variant/linux.required
	symbols=$(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$required")
	for sym in $symbols; do
		want=$(sed -n "s/^$sym=//p" "$required")
		got=$(json_value "$run/run.json" "$sym")
		[ "$got" = "$want" ] ||
			die "$name: $sym is '$got' in run.json, not '${want:-unset}' (board/hyperv/$variant/linux.required)"
	done
	want=$(echo "$firmware" | tr "[:lower:]" "[:upper:]")
	got=$(json_value "$run/run.json" firmware)
	[ "$got" = "$want" ] || die "$name: run.json says firmware '$got', not $want"
	secure_boot=$(json_value "$run/run.json" secure_boot)
	case $firmware in
	# OVMF without enrolled keys: Secure Boot off, and the variable says so.
	uefi) [ "$secure_boot" = false ] || die "$name: run.json says secure_boot '$secure_boot', not false" ;;
	bios) [ "$secure_boot" = null ] || die "$name: run.json says secure_boot '$secure_boot' after a BIOS boot" ;;
	esac
	hyperv=$(json_value "$run/run.json" CONFIG_HYPERV)
	samples=$(json_value "$run/clock-tick.json" samples)
	[ "${samples:-0}" -gt 0 ] || die "$name: clock-tick recorded no samples"
	[ "$(json_value "$run/clock-tick.json" complete)" = true ] || die "$name: clock-tick incomplete"
	switches=$(sed -n 's/^ *"switches": \([0-9]*\),\{0,1\}$/\1/p' "$run/thread-switch.json")
	[ "$(printf '%s\n' "$switches" | grep -c '^[1-9]')" -ge 2 ] ||
		die "$name: thread-switch runs without switches: $(echo "$switches" | tr '\n' ' ')"
	[ "$(json_value "$run/thread-switch.json" complete)" = true ] || die "$name: thread-switch incomplete"
	check_os_release_field "$name" "$run/run.json"
	attributed=$(json_value "$run/clock-tick.json" spikes_attributed)
	[ -n "$attributed" ] || die "$name: clock-tick.json has no attribution"
	log "$name: attribution: $attributed spikes split, $(json_value "$run/clock-tick.json" events_read) events, $(json_value "$run/clock-tick.json" events_lost) lost"
	check_osnoise "$name" "$run/osnoise.json"
	check_wakeup "$name" "$run/wakeup.json"
	check_timerlat "$name" "$run/timerlat.json"
	check_thresholds "$name" "$run"
	log "$name: maxima: clock-tick overhead $(json_value "$run/clock-tick.json" max_overhead_ns) ns, wakeup latency $(json_max "$run/wakeup.json" latency_ns) ns, timerlat IRQ latency $(json_max "$run/timerlat.json" irq_latency_ns) ns, timerlat thread latency $(json_max "$run/timerlat.json" thread_latency_ns) ns"
	log "$name: results ok: complete, PREEMPT_RT=$rt, HYPERV=${hyperv:-n}, firmware $got (secure_boot $secure_boot), clock-tick $samples samples, thread-switch switches $(echo "$switches" | tr '\n' ' ')"
}

# osnoise measured exactly the periods it asked for, and ended within the time its design
# allows (guest clock): its duration rounded up to whole periods, plus a period (the
# kernel's thread often skips its first period), plus the wait for the last summary
# (LAST_SUMMARY_WAIT, 1 s) and the last reading once tracing is off (FINAL_DRAIN_MAX, 2 s),
# plus OSNOISE_SLACK_S for the reader's own scheduling (rust-bench/src/measure/osnoise.rs).
OSNOISE_WAIT_S=1
OSNOISE_FINAL_DRAIN_S=2
OSNOISE_SLACK_S=1
check_osnoise() {
	what=$1
	json=$2
	periods=$(json_value "$json" periods)
	[ "${periods:-0}" -gt 0 ] || die "$what: osnoise reported no period"
	asked=$(json_value "$json" duration_asked_s)
	taken=$(json_value "$json" duration_s)
	period_us=$(json_value "$json" period_us)
	[ -n "$asked" ] || die "$what: osnoise.json has no duration_asked_s"
	[ -n "$taken" ] || die "$what: osnoise.json has no duration_s"
	# The rule of docs/results-format.md: the duration over the period, rounded up.
	want=$(awk -v a="$asked" -v p="$period_us" 'BEGIN { n = int(a * 1e6 / p); if (n * p < a * 1e6) n++; print n }')
	[ "$(json_value "$json" periods_asked)" = "$want" ] ||
		die "$what: osnoise.json says periods_asked '$(json_value "$json" periods_asked)' for $asked s asked ($want by the rule)"
	[ "$periods" -eq "$want" ] ||
		die "$what: osnoise counted $periods periods for $asked s asked ($want expected)"
	bound=$(awk -v n="$want" -v p="$period_us" -v w="$OSNOISE_WAIT_S" -v f="$OSNOISE_FINAL_DRAIN_S" \
		-v s="$OSNOISE_SLACK_S" 'BEGIN { print (n + 1) * p / 1e6 + w + f + s }')
	awk -v t="$taken" -v b="$bound" 'BEGIN { exit !(t + 0 <= b + 0) }' ||
		die "$what: osnoise took $taken s for the $asked s asked (its design allows $bound s)"
	dropped="$(json_value "$json" summaries_dropped) summaries and $(json_value "$json" events_dropped) events of a later period dropped"
	noise=$(json_value "$json" noise_ns)
	runtime=$(json_value "$json" runtime_ns)
	hw=$(json_value "$json" hw_noise_ns)
	[ -n "$hw" ] || die "$what: osnoise.json has no hw_noise_ns"
	log "$what: osnoise: $periods periods in $taken s (asked $asked s, at most $bound s; $dropped), noise $noise ns of $runtime ns ($(awk -v n="$noise" -v r="$runtime" 'BEGIN { printf "%.2f", (r > 0 ? 100 * n / r : 0) }') %), not named (hw) $hw ns ($(awk -v h="$hw" -v n="$noise" 'BEGIN { printf "%.1f", (n > 0 ? 100 * h / n : 0) }') % of the noise), hw count $(json_value "$json" hw), max single $(json_value "$json" max_single_noise_ns) ns, $(json_value "$json" events_lost) events lost"
}

# wakeup slept to every deadline of the WAKEUP_S asked: each deadline before the end is a
# wake-up measured, an overflow (the thread woke after the next one) or skipped for a
# checkpoint, and no wake-up is measured at a deadline after the end
# (rust-bench/src/measure/wakeup.rs). Timing does not enter: only the count of deadlines.
check_wakeup() {
	what=$1
	json=$2
	[ "$(json_value "$json" complete)" = true ] || die "$what: wakeup incomplete"
	interval=$(json_value "$json" interval_ns)
	samples=$(json_value "$json" samples)
	overflows=$(json_value "$json" overflows)
	skipped=$(json_value "$json" checkpoint_skipped)
	[ "${interval:-0}" -gt 0 ] || die "$what: wakeup.json has no interval_ns"
	deadlines=$((WAKEUP_S * 1000000000 / interval))
	if [ "$samples" -eq 0 ] || [ "$samples" -gt "$deadlines" ]; then
		die "$what: wakeup measured $samples wake-ups for $deadlines deadlines"
	fi
	[ $((samples + overflows + skipped)) -ge "$deadlines" ] ||
		die "$what: wakeup accounts for $((samples + overflows + skipped)) of $deadlines deadlines ($samples measured, $overflows overflows, $skipped skipped)"
	log "$what: wakeup: $samples wake-ups, $overflows overflows, $skipped skipped for a checkpoint ($deadlines deadlines), latency p50 $(json_value "$json" p50) ns, p99 $(json_value "$json" p99) ns, max $(json_max "$json" latency_ns) ns"
}

# timerlat measured the window of TIMERLAT_S asked: its periods from the first activation,
# each with an activation or counted as without one, and a sample of the period after it was
# read (complete); timing does not enter (rust-bench/src/measure/timerlat/mod.rs).
check_timerlat() {
	what=$1
	json=$2
	[ "$(json_value "$json" complete)" = true ] || die "$what: timerlat incomplete"
	activations=$(json_value "$json" activations)
	[ "${activations:-0}" -gt 0 ] || die "$what: timerlat recorded no activation"
	period_us=$(json_value "$json" period_us)
	[ "${period_us:-0}" -gt 0 ] || die "$what: timerlat.json has no period_us"
	periods=$((TIMERLAT_S * 1000000 / period_us))
	asked=$(json_value "$json" periods_asked)
	missed=$(json_value "$json" periods_missed)
	[ "$asked" = "$periods" ] ||
		die "$what: timerlat.json says periods_asked '$asked' for ${TIMERLAT_S} s of $period_us us"
	[ $((activations + missed)) -eq "$periods" ] ||
		die "$what: timerlat accounts for $((activations + missed)) of $periods periods ($activations activations, $missed without)"
	log "$what: timerlat: $activations activations ($(json_value "$json" thread_samples) with the thread's sample), $missed of $periods periods without, $(json_value "$json" events_lost) events lost; IRQ latency p50 $(json_in "$json" irq_latency_ns p50) ns, p99 $(json_in "$json" irq_latency_ns p99) ns, max $(json_max "$json" irq_latency_ns) ns; thread latency p50 $(json_in "$json" thread_latency_ns p50) ns, p99 $(json_in "$json" thread_latency_ns p99) ns, max $(json_max "$json" thread_latency_ns) ns; worst not explained by a guest event $(json_value "$json" unexplained_ns) ns"
}

# The value of FIELD inside the object KEY of a result (pretty-printed JSON: the first
# FIELD after the line that opens KEY).
# usage: json_in FILE KEY FIELD
json_in() {
	sed -n "/^ *\"$2\": {/,/}/s/^ *\"$3\": \([0-9.]*\),\{0,1\}\$/\1/p" "$1" | head -n 1
}

# The "max" inside the object KEY of a result (pretty-printed JSON: the first "max" after
# the line that opens KEY).
# The plan's thresholds: the tests that had one record it, and run.json names exactly those
# whose values crossed it, its status complete all the same (rust-bench exits with 3 then,
# which hvrt-init takes as a finished run). How many crossed is the guest's to say.
check_thresholds() {
	python3 - "$1" "$2" "$FAIL_ABOVE_US" <<-'PY' || die "$1: thresholds not recorded as run.json says"
	import json, sys
	name, run, threshold = sys.argv[1], sys.argv[2], int(sys.argv[3])
	record = json.load(open(f"{run}/run.json"))
	crossed, said = [], []
	for test in ("wakeup", "timerlat"):
	    f = json.load(open(f"{run}/{test}.json")).get("fail_above")
	    if not f or f["threshold_us"] != threshold:
	        sys.exit(f"{name}: {test}.json records no threshold of {threshold} us: {f}")
	    if f["crossed"] > 0:
	        crossed.append(test)
	    said.append(f"{test} {f['crossed']} above")
	named = record.get("threshold_crossed") or []
	if sorted(named) != sorted(crossed):
	    sys.exit(f"{name}: run.json names {named} as crossed, the results {crossed}")
	print(f"e2e: {name}: thresholds of {threshold} us: {', '.join(said)}; run.json: status {record['status']}, threshold_crossed {named}")
	PY
}

json_max() {
	sed -n "/^ *\"$2\": {/,/}/s/^ *\"max\": \([0-9]*\),\{0,1\}\$/\1/p" "$1" | head -n 1
}

# A run that failed for the expected reason, on a VM that powered off by itself (through
# hvrt-init, or its watchdog).
check_failed() {
	variant=$1
	run=$2
	reason=$3
	serial=$4
	status=$(json_value "$run/run.json" status)
	error=$(json_value "$run/run.json" error)
	[ "$status" = failed ] || die "$variant: status '$status', expected failed ($reason)"
	case $error in
	*"$reason"*) ;;
	*) die "$variant: error '$error' does not name the problem ($reason)" ;;
	esac
	grep -q "switching off\|the watchdog switched the machine off" "$serial" ||
		die "$variant: no power-off message on the console"
	log "$variant: powered off by itself, status failed: $error"
}

# Boot DISK with the plan in PLAN_FILE and check the outcome: EXPECT is complete (both
# tests ran, see check_complete) or failed:TEXT (status failed, the error contains TEXT).
# DISK is a VHD for BIOS, booted as it is; for UEFI a raw image, which is booted as the VHDX
# rust-bench convert makes of it (hvrt-x.img: hvrt-x.vhdx beside it) and afterwards replaced
# by qemu-img's raw copy of the booted VHDX, whose results rust-bench pull must read as
# mtools does. The console goes to serial.log and the results to results/, next to DISK;
# DISK must hold an empty results/ directory.
# usage: boot_check VARIANT FIRMWARE DISK PLAN_FILE EXPECT
boot_check() {
	variant=$1
	firmware=$2
	disk=$3
	plan=$4
	expect=$5
	name=$(boot_name "$variant" "$firmware")
	dir=$(dirname "$disk")
	write_plan "$disk" "$plan"
	boot=$disk
	if [ "$firmware" = uefi ]; then
		boot=${disk%.img}.vhdx
		rm -f "$boot"
		"$RUST_BENCH" convert "$disk" --vhdx "$boot" >/dev/null
	fi
	log "$name: booting $boot under QEMU (serial: $dir/serial.log), expecting $expect"
	boot_disk "$variant" "$firmware" "$boot" "$dir/serial.log"
	if [ "$firmware" = uefi ]; then
		qemu-img convert -O raw "$boot" "$disk"
	fi
	pull_results "$disk" "$dir"
	[ "$firmware" = bios ] || check_pull "$name" "$boot" "$dir"
	run=$(only_run "$dir")
	case $expect in
	complete) check_complete "$variant" "$firmware" "$run" ;;
	failed:*) check_failed "$name" "$run" "${expect#failed:}" "$dir/serial.log" ;;
	*) die "boot_check: unknown expectation '$expect'" ;;
	esac
}

# rust-bench pull reads IMAGE's results as mtools read them into DIR/results.
check_pull() {
	rm -rf "$3/pulled"
	"$RUST_BENCH" pull "$2" "$3/pulled" >"$3/pull.log" 2>&1 ||
		{ cat "$3/pull.log"; die "$1: rust-bench pull $2 failed"; }
	diff -r "$3/results" "$3/pulled" >"$3/pull.diff" 2>&1 ||
		{ cat "$3/pull.diff"; die "$1: rust-bench pull $2 differs from mtools' copy of the results"; }
	log "$1: rust-bench pull $(basename "$2"): the same files as mtools ($(head -n 1 "$3/pull.log"))"
}

# The FAT partition passes fsck; vhdiinfo reads the VHD and the VHDX. BIOS: the booted VHD,
# and the VHDX remade from it; UEFI: the booted VHDX and its raw copy.
# usage: check_images VARIANT FIRMWARE DISK
check_images() {
	variant=$1
	firmware=$2
	disk=$3
	name=$(boot_name "$variant" "$firmware")
	idir=$(dirname "$disk")
	part=$idir/fat-partition.img
	dd if="$disk" of="$part" bs=512 skip=$(($(partition_start "$disk") / 512)) \
		count="$(partition_sectors "$disk")" 2>/dev/null
	fsck.vfat -n "$part" >"$idir/fsck.log" 2>&1 || { cat "$idir/fsck.log"; die "$name: fsck.vfat -n failed"; }
	rm -f "$part"
	vhdx=${disk%.*}.vhdx
	if [ "$firmware" = bios ]; then
		rm -f "$vhdx"
		"$RUST_BENCH" convert "$disk" --vhdx "$vhdx" >/dev/null
		set -- "$disk" "$vhdx"
	else
		set -- "$vhdx"
	fi
	for image; do
		vhdiinfo "$image" >"$image.info" 2>&1 || { cat "$image.info"; die "vhdiinfo rejects $image"; }
	done
	if [ "$firmware" = bios ]; then
		log "$name: fsck.vfat -n, vhdiinfo (VHD, VHDX): ok"
	else
		log "$name: fsck.vfat -n, vhdiinfo (VHDX): ok"
	fi
}

# Where a variant's boot under FIRMWARE keeps its disk and results, and the disk:
# BIOS <variant>/hvrt-<variant>.vhd, UEFI <variant>/uefi/hvrt-<variant>.img (and .vhdx).
boot_dir() {
	case $2 in
	bios) printf '%s\n' "$E2E/$1" ;;
	uefi) printf '%s\n' "$E2E/$1/uefi" ;;
	esac
}

boot_image() {
	case $2 in
	bios) printf '%s\n' "$(boot_dir "$1" "$2")/hvrt-$1.vhd" ;;
	uefi) printf '%s\n' "$(boot_dir "$1" "$2")/hvrt-$1.img" ;;
	esac
}

# A copy of the variant's booted image (under FIRMWARE) with an empty results/ directory, in
# <boot dir>/NAME/NAME.vhd (BIOS) or NAME.img (UEFI); prints its path.
# usage: fresh_copy VARIANT FIRMWARE NAME
fresh_copy() {
	cdir=$(boot_dir "$1" "$2")/$3
	source=$(boot_image "$1" "$2")
	copy=$cdir/$3.${source##*.}
	rm -rf "$cdir"
	mkdir -p "$cdir"
	cp "$source" "$copy"
	MTOOLS_SKIP_CHECK=1 mdeltree -i "$(mtools_image "$copy")" ::results >&2
	MTOOLS_SKIP_CHECK=1 mmd -i "$(mtools_image "$copy")" ::results >&2
	printf '%s\n' "$copy"
}

# Boot a copy with a broken plan: it must power off by itself and record the failure.
# usage: check_broken_config VARIANT FIRMWARE
check_broken_config() {
	disk=$(fresh_copy "$1" "$2" broken)
	conf=$(dirname "$disk")/bench.conf
	broken_plan >"$conf"
	boot_check "$1" "$2" "$disk" "$conf" "failed:role: 'foo' is not a role"
	rm -f "$disk" "${disk%.*}.vhdx"
}

# Boot a copy with a plan made to hang ($3: yes or unwatched): the VM must switch itself
# off by itself and record status failed with a reason naming the watchdog. What the
# design guarantees, on the console's timestamps (guest clock), from the plan's start (the
# init arms its watchdog just before it prints the plan): the run is ended at the plan's
# timeout plus rust-bench's grace (yes: clamp(timeout, 5 s, 60 s), plan/run.rs) or plus the
# init's watchdog margin (unwatched: 120 s, hvrt-init), plus HANG_SLACK_S for rust-bench's
# start (its timeout counts from there; seconds under emulation) and the wake-up of a
# thread that sleeps that long: far below the other mode's end either way. The power-off
# after it (freezing the run, marking run.json, syncing the FAT) is timed on an emulated
# disk, whose guest time follows the host's when the host is slow: it is printed, and
# bounded only by the boot timeout.
# usage: check_hang VARIANT FIRMWARE MODE
HANG_SLACK_S=10
check_hang() {
	hang_variant=$1
	hang_firmware=$2
	mode=$3
	case $mode in
	yes) ends=$((HANG_TIMEOUT_S + (HANG_TIMEOUT_S < 5 ? 5 : (HANG_TIMEOUT_S > 60 ? 60 : HANG_TIMEOUT_S)))) ;;
	unwatched) ends=$((HANG_TIMEOUT_S + 120)) ;;
	*) die "check_hang: unknown mode '$mode'" ;;
	esac
	hang_name=$(boot_name "$hang_variant" "$hang_firmware")
	hang_disk=$(fresh_copy "$hang_variant" "$hang_firmware" "hang-$mode")
	hdir=$(dirname "$hang_disk")
	hang_plan "$mode" >"$hdir/bench.conf"
	log "$hang_name: a plan that hangs (clock_tick.hang = $mode)"
	boot_check "$hang_variant" "$hang_firmware" "$hang_disk" "$hdir/bench.conf" failed:watchdog
	serial=$hdir/serial.log
	armed=$(sed -n 's/^\[ *\([0-9.]*\)\] hvrt: plan: .*/\1/p' "$serial" | head -n 1)
	fired=$(sed -n 's/^\[ *\([0-9.]*\)\] \(hvrt: \)\{0,1\}rust-bench: .*watchdog.*/\1/p' "$serial" | head -n 1)
	off=$(sed -n 's/^\[ *\([0-9.]*\)\] reboot: Power down.*/\1/p' "$serial" | tail -n 1)
	[ -n "$armed" ] || die "$hang_name: hang ($mode): no plan line on the console"
	[ -n "$fired" ] || die "$hang_name: hang ($mode): no watchdog line on the console"
	[ -n "$off" ] || die "$hang_name: hang ($mode): no power-off on the console"
	took=$(echo "$fired - $armed" | bc)
	[ "$(echo "$took <= $ends + $HANG_SLACK_S" | bc)" = 1 ] ||
		die "$hang_name: hang ($mode): the run was ended $took s after the plan started, beyond the $ends s its design allows"
	grep "hvrt: .*watchdog\|rust-bench: .*watchdog\|reboot: Power down" "$serial" |
		sed "s/^/e2e: $hang_name: hang ($mode): console: /"
	log "$hang_name: hang ($mode): ended $took s after the plan started (at most $ends s and $HANG_SLACK_S s of start-up), powered off $(echo "$off - $fired" | bc) s later"
	rm -f "$hang_disk" "${hang_disk%.*}.vhdx"
}

# Seconds from kernel start to the first sample, from the console's printk timestamps.
kernel_first_sample() {
	sed -n "s/^\[ *\([0-9.]*\)\] $MARKER.*/\1/p" "$1" | head -n 1
}

# Make a variant's images into output/.../<variant>/: hvrt-<variant>.img, .vhd, .vhdx.
make_images() {
	if [ -n "$BUILDROOT" ]; then
		build_buildroot "$1"
	else
		build_kernel "$1"
		build_images "$1"
	fi
}

# Boot the variant under each firmware it boots under, with the short plan, and check it.
run_variant() {
	variant=$1
	for firmware in $(variant_firmware "$variant"); do
		disk=$(boot_image "$variant" "$firmware")
		if [ "$firmware" = uefi ]; then
			# A copy of the image as built, its VHDX made afresh by each boot.
			mkdir -p "$(dirname "$disk")"
			rm -rf "$(dirname "$disk")/results"
			cp "$E2E/$variant/hvrt-$variant.img" "$disk"
		fi
		e2e_plan >"$(dirname "$disk")/bench.conf"
		boot_check "$variant" "$firmware" "$disk" "$(dirname "$disk")/bench.conf" complete
		check_reader "$variant" "$(only_run "$(dirname "$disk")")" binary
		check_images "$variant" "$firmware" "$disk"
	done
}

# Every variant, those that boot on more Hyper-V generations first (so the failure checks
# of the first one cover every firmware), then by name.
default_variants() {
	variant_names | while read -r v; do
		printf '%s %s\n' "$(variant_value "$v" GENERATIONS | wc -w)" "$v"
	done | sort -k1,1nr -k2,2 | cut -d' ' -f2
}

# The result's trace reader is $3 (clock-tick's attribution and osnoise).
check_reader() {
	for file in "$2/clock-tick.json" "$2/osnoise.json"; do
		reader=$(json_value "$file" trace_reader)
		[ "$reader" = "$3" ] || die "$1: $(basename "$file") read the trace as '$reader', not $3"
	done
}

# What reading the trace cost the run: the attribution's own time (share of the run, duty
# cycle) and rust-bench's own thread in osnoise's noise.
trace_cost() {
	python3 - "$1" <<-'PY'
	import json, sys
	ct = json.load(open(sys.argv[1] + "/clock-tick.json"))
	o = json.load(open(sys.argv[1] + "/osnoise.json"))
	a = ct["attribution"]
	own = sum(s["total_ns"] for s in o["sources"] if s["class"] == "thread" and s["name"] == "rust-bench")
	print(f"attribution {a['drain_ns'] / 1e6:.1f} ms ({a['drain_ns'] / 1e9 / ct['duration_s'] * 100:.1f} % of the run, "
	      f"duty cycle {ct['duty_cycle'] * 100:.1f} %, {a['events_read']} events, {a['events_lost']} lost), "
	      f"osnoise: rust-bench {own / 1e6:.1f} ms of {o['noise_ns'] / 1e6:.1f} ms noise "
	      f"({own / max(o['noise_ns'], 1) * 100:.1f} %), {o['events_lost']} lost")
	PY
}

# The same plan with the trace read as text, on a copy of the variant's image: the same
# checks, and the cost of reading the trace beside the binary reader's.
check_text_reader() {
	variant=$1
	disk=$(fresh_copy "$variant" bios text-reader)
	tdir=$(dirname "$disk")
	{
		e2e_plan
		echo "trace_reader = text"
	} >"$tdir/bench.conf"
	boot_check "$variant" bios "$disk" "$tdir/bench.conf" complete
	check_reader "$variant" "$(only_run "$tdir")" text
	binary_run=$(only_run "$(dirname "$(boot_image "$variant" bios)")")
	log "benchmark: $variant: reading the trace, binary: $(trace_cost "$binary_run")"
	log "benchmark: $variant: reading the trace, text:   $(trace_cost "$(only_run "$tdir")")"
	rm -f "$disk"
}

# What kind of image this run tests: the first line of its output.
announce() {
	if [ -n "$BUILDROOT" ]; then
		[ -f "$BUILDROOT/Makefile" ] || die "BUILDROOT=$BUILDROOT is not a Buildroot tree"
		log "testing images built by Buildroot $(buildroot_version) ($BUILDROOT) from configs/*_defconfig, offline"
	else
		log "testing look-alike images assembled from Debian parts, not built by Buildroot (for Buildroot's: make e2e BUILDROOT=...)"
	fi
}

# Build times of the variants, and how much the later builds reused (with an empty
# output/e2e-buildroot/ and ccache: a first build, then one that reuses the cache).
report_build_times() {
	first=""
	for variant; do
		seconds=$(cat "$BR_OUTPUT/$variant/build.seconds")
		if [ -z "$first" ]; then
			first=$seconds
			log "benchmark: $variant: $seconds s (the first variant built by this run)"
		else
			log "benchmark: $variant: $seconds s, $(awk -v a="$seconds" -v b="$first" 'BEGIN { printf "%.2f", a / b }') of the first variant's (from an empty output/e2e-buildroot/, the ratio is what the second build reuses)"
		fi
	done
}

main() {
	# shellcheck disable=SC2046 # variant names have no spaces
	[ $# -gt 0 ] || set -- $(default_variants)
	for variant; do
		variant_check "$variant" || die "no such variant"
	done
	announce
	need_tools "$@"
	begin=$(date +%s)
	mkdir -p "$E2E"
	if [ -n "$BUILDROOT" ]; then
		"$TREE/scripts/buildroot-offline.sh" "$BUILDROOT" "$BR_OFFLINE"
	else
		build_rust_bench
	fi
	for variant in "$@"; do
		mkdir -p "$E2E/$variant"
		make_images "$variant"
	done
	[ -z "$BUILDROOT" ] || report_build_times "$@"
	for variant in "$@"; do
		run_variant "$variant"
	done
	check_text_reader "$1"
	for firmware in $(variant_firmware "$1"); do
		check_broken_config "$1" "$firmware"
		check_hang "$1" "$firmware" yes
		check_hang "$1" "$firmware" unwatched
	done
	for variant in "$@"; do
		for firmware in $(variant_firmware "$variant"); do
			serial=$(boot_dir "$variant" "$firmware")/serial.log
			log "$(boot_name "$variant" "$firmware"): boot to first sample: $(kernel_first_sample "$serial") s after kernel start, $(cat "$serial.first") s after power-on (host clock, TCG)"
		done
	done
	log "all checks passed in $(($(date +%s) - begin)) s"
}

main "$@"
