#!/bin/sh
# Prepare a Buildroot build of the tree's own defconfigs on a machine that
# reaches Debian's archive and crates.io but no upstream download site
# (used by `make e2e BUILDROOT=...`; a user's build never reads any of it).
#
# usage: buildroot-offline.sh BUILDROOT DIR
#   BUILDROOT  a Buildroot 2026.02.3 tree (only read)
#   DIR        where everything is generated, e.g. output/br-offline
#
# It writes two files and the directories they name, nothing else:
#   DIR/offline.config  a config fragment, appended to a variant's .config
#                       after `make <variant>_defconfig`:
#     - toolchain: the machine's gcc 12 / glibc 2.36 as a pre-installed
#       external toolchain (Buildroot would download Bootlin's);
#     - host-genimage, host-dosfstools, host-mtools, host-qemu deselected:
#       post-image.sh then runs the machine's genimage, mkdosfs, mcopy and
#       qemu-img (they write the disk image, they are not in it);
#     - BR2_CCACHE with one cache in DIR/ccache, shared by the variants;
#     - BR2_PACKAGE_OVERRIDE_FILE naming the file below.
#   DIR/override.mk     the package override file:
#     - the image's own contents are built by Buildroot from source, the
#       sources taken from Debian: linux (linux-source-6.12, 6.12.x),
#       busybox (1.35.0) and grub2 (2.06, also for host-grub2's
#       grub-mkimage), pristine upstream tarballs from `apt-get source`;
#     - host-rust-bin: the machine's Rust, laid out as Rust's standalone
#       installer (rustc, cargo, rust-std) in DIR/rust-installer;
#     - the host tools that only run during the build (autotools, m4,
#       bison, flex, gawk, pkgconf, tar, xz, ... fakeroot, patchelf,
#       ccache): the machine's own, linked into the host directory instead
#       of being built (see STAND_INS). Their Buildroot dependencies
#       (libraries the machine's binaries do not use) are dropped.
#       patchelf: no patchelf in any archive has Buildroot's
#       --make-rpath-relative patch; the stand-in accepts that option on a
#       file without RPATH/RUNPATH or with only $ORIGIN entries (nothing to
#       relativize) and fails on any other file.
#     Under an override Buildroot neither downloads, checks hashes, nor
#     applies its patches.
#   DIR/debian/      Debian source packages (apt-get source --download-only)
#   DIR/src/         the unpacked sources the override file points at
#   DIR/bin/         the patchelf and ccache stand-ins
#
# Needs: apt sources with deb-src for bookworm (added here as
# /etc/apt/sources.list.d/hvrt-bookworm-src.sources when missing, as root),
# linux-source-6.12, and the stand-in tools (apt-get install below).
# shellcheck disable=SC2016 # $(...) below is make code for the override file
set -eu

BUILDROOT=${1:?usage: buildroot-offline.sh BUILDROOT DIR}
DIR=${2:?usage: buildroot-offline.sh BUILDROOT DIR}
TREE=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${HVRT_OUTPUT:-$TREE/output}
KERNEL_TARBALL=${HVRT_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KERNEL_SRC=${HVRT_KERNEL_SRC:-$OUTPUT/kernel-src/linux-source-6.12}
DEB_SRC_LIST=/etc/apt/sources.list.d/hvrt-bookworm-src.sources
RUST_SYSROOT=$(rustc --print sysroot)
RUST_TRIPLE=x86_64-unknown-linux-gnu

# Buildroot host package: machine binaries linked into $(HOST_DIR)/bin
# (a name given as sbin/NAME goes to $(HOST_DIR)/sbin).
STAND_INS="
host-tar:tar
host-m4:m4
host-bison:bison,yacc
host-flex:flex,lex
host-gawk:gawk
host-autoconf:autoconf,autoheader,autom4te,autoreconf,autoscan,autoupdate,ifnames
host-automake:automake,aclocal
host-libtool:libtool,libtoolize
host-gettext-tiny:msgfmt,msgmerge,xgettext,autopoint
host-pkgconf:pkgconf,pkg-config
host-xz:xz,unxz,xzcat
host-zstd:zstd
host-bzip2:bzip2,bunzip2
host-libzlib:
host-elfutils:
host-kmod:kmod,sbin/depmod
host-acl:
host-attr:
host-fakeroot:fakeroot
host-patchelf:
host-ccache:
"
# Debian packages that provide the stand-ins and the build's other needs.
MACHINE_PACKAGES="tar m4 bison flex gawk autoconf automake libtool libtool-bin gettext autopoint
pkgconf xz-utils zstd bzip2 zlib1g-dev libelf-dev kmod fakeroot patchelf ccache
rsync cpio bc file genimage dosfstools mtools qemu-utils linux-source-6.12"

die() {
	echo "buildroot-offline: error: $*" >&2
	exit 1
}

log() {
	echo "buildroot-offline: $*"
}

check_buildroot() {
	version=$(sed -n 's/^export BR2_VERSION := //p' "$BUILDROOT/Makefile" 2>/dev/null || true)
	[ "$version" = 2026.02.3 ] ||
		die "$BUILDROOT is not Buildroot 2026.02.3 (BR2_VERSION '$version')"
}

install_machine_packages() {
	missing=""
	for p in $MACHINE_PACKAGES; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	log "installing:$missing"
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install$missing failed"
}

add_deb_src() {
	apt-get indextargets --format '$(TARGET_OF)' 2>/dev/null | grep -qx deb-src && return 0
	archive=$("$TREE/scripts/bookworm-archive.sh") || die "no bookworm source to add deb-src beside"
	log "adding deb-src for bookworm from $archive ($DEB_SRC_LIST)"
	cat >"$DEB_SRC_LIST" <<-EOF
	Types: deb-src
	URIs: $archive
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	apt-get update -qq || die "apt-get update failed"
}

# Unpack the pristine upstream tarball of a Debian source package into
# DIR/src/NAME (once).
debian_source() {
	name=$1
	dest=$DIR/src/$name
	[ -f "$dest/.unpacked" ] && return 0
	mkdir -p "$DIR/debian"
	set -- "$DIR"/debian/"${name}"_*.orig.tar.*
	if [ ! -f "$1" ]; then
		add_deb_src
		log "apt-get source --download-only $name"
		(cd "$DIR/debian" && apt-get source -qq --download-only "$name" >/dev/null 2>&1) ||
			die "apt-get source $name failed"
		set -- "$DIR"/debian/"${name}"_*.orig.tar.*
	fi
	case $1 in *.asc) shift ;; esac
	[ -f "$1" ] || die "no orig tarball for $name in $DIR/debian"
	rm -rf "$dest"
	mkdir -p "$dest"
	tar -C "$dest" --strip-components=1 -xf "$1"
	touch "$dest/.unpacked"
}

linux_source() {
	[ -f "$KERNEL_SRC/scripts/kconfig/merge_config.sh" ] && return 0
	[ -f "$KERNEL_TARBALL" ] || die "no $KERNEL_TARBALL (apt-get install linux-source-6.12)"
	log "extracting $KERNEL_TARBALL"
	mkdir -p "$(dirname "$KERNEL_SRC")"
	tar -C "$(dirname "$KERNEL_SRC")" -xJf "$KERNEL_TARBALL"
}

# Copy one component of the machine's Rust (the files its rustup manifest
# lists) into an installer component directory.
rust_component() {
	manifest=$RUST_SYSROOT/lib/rustlib/manifest-$1-$RUST_TRIPLE
	comp=$2
	[ -f "$manifest" ] || die "no $manifest: the machine's Rust lacks $1"
	mkdir -p "$comp"
	: >"$comp/manifest.in"
	while IFS=: read -r kind path; do
		case $1:$path in
		rustc:bin/rust-gdb* | rustc:bin/rust-lldb | rustc:share/*) continue ;;
		esac
		mkdir -p "$comp/$(dirname "$path")"
		cp -a "$RUST_SYSROOT/$path" "$comp/$path"
		echo "$kind:$path" >>"$comp/manifest.in"
	done <"$manifest"
}

# The install.sh of Rust's standalone installers, as far as host-rust-bin
# uses it: --prefix=DIR [--components=A,B] [--disable-ldconfig].
rust_install_sh() {
	cat >"$1/install.sh" <<-'EOF'
	#!/bin/sh
	set -eu
	cd "$(dirname "$0")"
	prefix="" components=$(tr '\n' ' ' <components)
	for arg in "$@"; do
		case $arg in
		--prefix=*) prefix=${arg#--prefix=} ;;
		--components=*) components=$(echo "${arg#--components=}" | tr , ' ') ;;
		--disable-ldconfig) ;;
		*) echo "install.sh: unknown option $arg" >&2; exit 1 ;;
		esac
	done
	[ -n "$prefix" ] || { echo "install.sh: no --prefix" >&2; exit 1; }
	for c in $components; do
		[ -f "$c/manifest.in" ] || { echo "install.sh: no component $c" >&2; exit 1; }
		while IFS=: read -r kind path; do
			mkdir -p "$prefix/$(dirname "$path")"
			cp -a "$c/$path" "$prefix/$path"
		done <"$c/manifest.in"
		mkdir -p "$prefix/lib/rustlib"
		cp "$c/manifest.in" "$prefix/lib/rustlib/manifest-$c"
		echo "install.sh: installed $c"
	done
	EOF
	chmod 0755 "$1/install.sh"
}

# DIR/rust-installer: rustc, cargo and rust-std for the host, and under
# std/ the target's rust-std installer (host and target are the same triple).
rust_installer() {
	version=$(rustc --version | cut -d' ' -f2)
	dest=$DIR/rust-installer
	[ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ] && return 0
	log "laying out the machine's Rust $version as Rust's installer"
	rm -rf "$dest"
	mkdir -p "$dest"
	rust_component rustc "$dest/rustc"
	rust_component cargo "$dest/cargo"
	rust_component rust-std "$dest/rust-std-$RUST_TRIPLE"
	printf '%s\n' rustc cargo "rust-std-$RUST_TRIPLE" >"$dest/components"
	rust_install_sh "$dest"
	# host-rust-bin installs the target's std from std/rust-std-<version>-<triple>.
	std=$dest/std/rust-std-$(rust_bin_version)-$RUST_TRIPLE
	mkdir -p "$std"
	cp -al "$dest/rust-std-$RUST_TRIPLE" "$std/"
	echo "rust-std-$RUST_TRIPLE" >"$std/components"
	rust_install_sh "$std"
	echo "$version" >"$dest/.version"
}

rust_bin_version() {
	sed -n 's/^RUST_BIN_VERSION = //p' "$BUILDROOT/package/rust-bin/rust-bin.mk"
}

# The patchelf stand-in (see the header).
patchelf_stand_in() {
	mkdir -p "$DIR/bin"
	cat >"$DIR/bin/patchelf" <<-'EOF'
	#!/bin/sh
	# The machine's patchelf, for Buildroot's fix-rpath: --make-rpath-relative
	# is accepted only where there is nothing to relativize.
	set -eu
	case " $* " in
	*" --make-rpath-relative "*) ;;
	*) exec /usr/bin/patchelf "$@" ;;
	esac
	for file; do :; done
	rpath=$(/usr/bin/patchelf --print-rpath "$file")
	for entry in $(echo "$rpath" | tr : ' '); do
		case $entry in
		'$ORIGIN'*) ;;
		*) echo "patchelf (stand-in): $file has RPATH $rpath, which only Buildroot's patchelf can make relative" >&2
			exit 1 ;;
		esac
	done
	EOF
	chmod 0755 "$DIR/bin/patchelf"
}

# The ccache stand-in: like Buildroot's patched ccache, its cache is
# BR_CACHE_DIR unless the environment names another.
ccache_stand_in() {
	mkdir -p "$DIR/bin"
	cat >"$DIR/bin/ccache" <<-EOF
	#!/bin/sh
	CCACHE_DIR=\${BR_CACHE_DIR:-$DIR/ccache}
	export CCACHE_DIR
	exec /usr/bin/ccache "\$@"
	EOF
	chmod 0755 "$DIR/bin/ccache"
}

# Upper-case make variable prefix of a package: host-foo-bar -> HOST_FOO_BAR.
pkg_var() {
	echo "$1" | tr 'a-z-' 'A-Z_'
}

# make code that installs the links of one stand-in.
stand_in_install() {
	pkg=$1
	bins=$2
	case $pkg in
	host-patchelf) printf '\t$(INSTALL) -D -m 0755 %s $(HOST_DIR)/bin/patchelf\n' "$DIR/bin/patchelf" ;;
	host-ccache) printf '\t$(INSTALL) -D -m 0755 %s $(HOST_DIR)/bin/ccache\n' "$DIR/bin/ccache" ;;
	esac
	for bin in $(echo "$bins" | tr , ' '); do
		case $bin in
		sbin/*) dir=sbin name=${bin#sbin/} ;;
		*) dir=bin name=$bin ;;
		esac
		path=$(PATH=/usr/bin:/usr/sbin:/bin:/sbin command -v "$name") ||
			die "$pkg: no $name on this machine"
		printf '\tmkdir -p $(HOST_DIR)/%s\n\tln -sf %s $(HOST_DIR)/%s/%s\n' \
			"$dir" "$path" "$dir" "$name"
	done
}

write_override() {
	f=$DIR/override.mk
	{
		echo "# Generated by scripts/buildroot-offline.sh; see its header."
		echo "LINUX_OVERRIDE_SRCDIR = $KERNEL_SRC"
		echo "BUSYBOX_OVERRIDE_SRCDIR = $DIR/src/busybox"
		echo "GRUB2_OVERRIDE_SRCDIR = $DIR/src/grub2"
		echo "HOST_RUST_BIN_OVERRIDE_SRCDIR = $DIR/rust-installer"
		echo
		echo "# The machine's /etc/ld.so.conf{,.d} come along with the sysroot '/' and"
		echo "# match the ld*.so.* of the libraries copied to the target: drop them."
		echo "define HVRT_OFFLINE_DROP_LD_SO_CONF"
		printf '\trm -rf $(STAGING_DIR)/etc/ld.so.conf $(STAGING_DIR)/etc/ld.so.conf.d\n'
		echo "endef"
		echo "TOOLCHAIN_EXTERNAL_CUSTOM_POST_INSTALL_STAGING_HOOKS += HVRT_OFFLINE_DROP_LD_SO_CONF"
		echo
		echo "# Stand-ins: the machine's build tools instead of Buildroot's."
		for entry in $STAND_INS; do
			pkg=${entry%%:*}
			var=$(pkg_var "$pkg")
			echo "${var}_OVERRIDE_SRCDIR = $DIR/src/empty"
			echo "override ${var}_DEPENDENCIES :="
			for hook in POST_RSYNC PRE_CONFIGURE POST_CONFIGURE PRE_BUILD POST_BUILD \
				PRE_INSTALL POST_INSTALL; do
				echo "override ${var}_${hook}_HOOKS :="
			done
			echo "override define ${var}_CONFIGURE_CMDS"
			echo "endef"
			echo "override define ${var}_BUILD_CMDS"
			echo "endef"
			echo "override define ${var}_INSTALL_CMDS"
			stand_in_install "$pkg" "${entry#*:}"
			echo "endef"
		done
	} >"$f.tmp"
	mv "$f.tmp" "$f"
}

write_fragment() {
	cat >"$DIR/offline.config.tmp" <<-EOF
	# Generated by scripts/buildroot-offline.sh; see its header.
	# BR2_TOOLCHAIN_EXTERNAL_BOOTLIN is not set
	BR2_TOOLCHAIN_EXTERNAL_CUSTOM=y
	BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y
	BR2_TOOLCHAIN_EXTERNAL_PATH="/usr"
	BR2_TOOLCHAIN_EXTERNAL_CUSTOM_PREFIX="x86_64-linux-gnu"
	BR2_TOOLCHAIN_EXTERNAL_GCC_12=y
	BR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y
	BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y
	BR2_TOOLCHAIN_EXTERNAL_CXX=y
	BR2_TOOLCHAIN_EXTERNAL_OPENMP=y
	# BR2_TOOLCHAIN_EXTERNAL_INET_RPC is not set
	# BR2_PACKAGE_HOST_GENIMAGE is not set
	# BR2_PACKAGE_HOST_DOSFSTOOLS is not set
	# BR2_PACKAGE_HOST_MTOOLS is not set
	# BR2_PACKAGE_HOST_QEMU is not set
	BR2_CCACHE=y
	BR2_CCACHE_DIR="$DIR/ccache"
	BR2_PACKAGE_OVERRIDE_FILE="$DIR/override.mk"
	EOF
	mv "$DIR/offline.config.tmp" "$DIR/offline.config"
}

main() {
	check_buildroot
	mkdir -p "$DIR/src/empty" "$DIR/ccache"
	DIR=$(cd "$DIR" && pwd)
	install_machine_packages
	linux_source
	debian_source busybox
	debian_source grub2
	rust_installer
	patchelf_stand_in
	ccache_stand_in
	write_override
	write_fragment
	log "ready: $DIR/offline.config, $DIR/override.mk"
}

main
