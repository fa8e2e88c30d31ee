################################################################################
#
# rust-bench
#
################################################################################

RUST_BENCH_VERSION = 0.1.0
RUST_BENCH_SITE = $(BR2_EXTERNAL_HVRT_PATH)/rust-bench
RUST_BENCH_SITE_METHOD = local
RUST_BENCH_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /target
HOST_RUST_BENCH_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /target

# The crates. Buildroot vendors a cargo package's crates when it downloads
# its tarball, which a local package never does; so here the download step
# (`make source`, or the first build) runs `cargo vendor` once per
# Cargo.lock into a tarball of the download directory named after the lock
# file's sha256, and the build extracts it and builds offline. cargo checks
# every crate against the checksum Cargo.lock records. A new Cargo.lock
# vendors again. The target and the host package share the tarball.
RUST_BENCH_LOCK_SUM := \
	$(firstword $(shell sha256sum $(RUST_BENCH_SITE)/Cargo.lock 2>/dev/null))
RUST_BENCH_CRATES = $(DL_DIR)/rust-bench/crates-$(RUST_BENCH_LOCK_SUM).tar.gz

# legal-info: rust-bench's license as its Cargo.toml declares it, then each
# crate's, read from the vendored crates when they are extracted.
RUST_BENCH_LICENSE_FILES = \
	Cargo.toml \
	$(shell cat $(RUST_BENCH_DIR)/.br-crate-license-files 2>/dev/null)
HOST_RUST_BENCH_LICENSE_FILES = \
	Cargo.toml \
	$(shell cat $(HOST_RUST_BENCH_DIR)/.br-crate-license-files 2>/dev/null)

# At the rsync step, so that legal-info finds the crates without a build.
define RUST_BENCH_UNPACK_CRATES
	$(call prepare-per-package-directory,$(BR2_TAR_HOST_DEPENDENCY))
	rm -rf $(@D)/VENDOR
	$(TAR) -xzf $(RUST_BENCH_CRATES) -C $(@D)
	mkdir -p $(@D)/.cargo
	printf '%s\n' \
		'[source.crates-io]' \
		'replace-with = "vendored-sources"' \
		'[source.vendored-sources]' \
		'directory = "VENDOR"' \
		>$(@D)/.cargo/config.toml
	$(RUST_BENCH_PKGDIR)/crate-licenses.sh $(@D)/VENDOR \
		$(@D)/.br-crate-licenses $(@D)/.br-crate-license-files
endef
RUST_BENCH_POST_RSYNC_HOOKS += RUST_BENCH_UNPACK_CRATES
HOST_RUST_BENCH_POST_RSYNC_HOOKS += RUST_BENCH_UNPACK_CRATES

# The vendored crates' sources go with rust-bench's own in legal-info.
define RUST_BENCH_SAVE_CRATES
	$(if $(filter YES,$($(PKG)_REDISTRIBUTE)), \
		mkdir -p $($(PKG)_REDIST_SOURCES_DIR) && \
		cp $(RUST_BENCH_CRATES) $($(PKG)_REDIST_SOURCES_DIR)/)
endef
RUST_BENCH_POST_LEGAL_INFO_HOOKS += RUST_BENCH_SAVE_CRATES
HOST_RUST_BENCH_POST_LEGAL_INFO_HOOKS += RUST_BENCH_SAVE_CRATES

$(eval $(cargo-package))
$(eval $(host-cargo-package))

# After the cargo infrastructure, which appends that the crates' licenses
# are probably not listed: here they are.
RUST_BENCH_LICENSE = \
	MIT or Apache-2.0 (rust-bench)$(shell \
		cat $(RUST_BENCH_DIR)/.br-crate-licenses 2>/dev/null)
HOST_RUST_BENCH_LICENSE = \
	MIT or Apache-2.0 (rust-bench)$(shell \
		cat $(HOST_RUST_BENCH_DIR)/.br-crate-licenses 2>/dev/null)

# Vendoring. Each run works in a directory of its own and renames the
# finished tarball into place, so builds sharing a download directory never
# see a partial one; cargo's own cache is shared under Buildroot's lock.
$(RUST_BENCH_CRATES): PKG = RUST_BENCH
$(RUST_BENCH_CRATES): | host-rustc $(BR2_TAR_HOST_DEPENDENCY)
	$(call prepare-per-package-directory,host-rustc $(BR2_TAR_HOST_DEPENDENCY))
	mkdir -p $(@D) $(BR_CARGO_HOME)
	tmp=`mktemp -d $(@D)/vendor.XXXXXX` && \
	trap 'rm -rf "$$tmp"' EXIT && \
	$(HOST_MAKE_ENV) CARGO_HOME=$(BR_CARGO_HOME) \
		flock $(BR_CARGO_HOME)/.br-lock \
		cargo vendor --quiet --locked --versioned-dirs \
			--manifest-path $(RUST_BENCH_SITE)/Cargo.toml \
			$$tmp/VENDOR >/dev/null 2>$$tmp/vendor.log || \
		{ cat $$tmp/vendor.log >&2; exit 1; }; \
	. $(TOPDIR)/support/download/helpers && cd $$tmp && \
	TAR=$(TAR) mk_tar_gz VENDOR VENDOR @0 $$tmp/crates.tar.gz && \
	mv $$tmp/crates.tar.gz $@ && \
	printf '(note: crates of rust-bench vendored into %s)\n' $@

# legal-info archives a local package's whole source directory: leave out
# cargo's target directory, as the rsync of the build does.
rust-bench-legal-info host-rust-bench-legal-info: \
	private RSYNC_VCS_EXCLUSIONS += --exclude /target

rust-bench-source host-rust-bench-source: $(RUST_BENCH_CRATES)
$(RUST_BENCH_TARGET_RSYNC) $(HOST_RUST_BENCH_TARGET_RSYNC): $(RUST_BENCH_CRATES) \
	| $(BR2_TAR_HOST_DEPENDENCY)
