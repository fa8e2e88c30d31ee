################################################################################
#
# rust-bench
#
################################################################################

RUST_BENCH_VERSION = 0.1.0
RUST_BENCH_SITE = $(BR2_EXTERNAL_HVRT_PATH)/rust-bench
RUST_BENCH_SITE_METHOD = local
RUST_BENCH_LICENSE = MIT or Apache-2.0
RUST_BENCH_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude /target

# Buildroot vendors the crates of a cargo package when it downloads its
# tarball, which a local package never does. Vendor them here instead,
# with the host cargo, once per Cargo.lock: into a directory of the
# download directory named after the lock file's sha256. The first build
# fetches the crates; later builds, and rebuilds after a source edit,
# find them there and build offline. A new Cargo.lock vendors again.
RUST_BENCH_VENDOR_ENV = \
	$(HOST_MAKE_ENV) \
	CARGO_HOME=$(BR_CARGO_HOME)

define RUST_BENCH_VENDOR_CRATES
	lock_sum=`sha256sum $(@D)/Cargo.lock | cut -d' ' -f1` && \
	vendor=$(RUST_BENCH_DL_DIR)/vendor-$${lock_sum} && \
	if [ ! -d $${vendor} ]; then \
		rm -rf $${vendor}.tmp && \
		mkdir -p $(BR_CARGO_HOME) $(RUST_BENCH_DL_DIR) && \
		$(RUST_BENCH_VENDOR_ENV) flock $(BR_CARGO_HOME)/.br-lock \
			cargo vendor --locked --versioned-dirs \
			--manifest-path $(@D)/Cargo.toml \
			$${vendor}.tmp >/dev/null && \
		mv $${vendor}.tmp $${vendor} && \
		printf '(note: crates vendored into %s for rust-bench)\n' \
			$${vendor}; \
	fi && \
	mkdir -p $(@D)/.cargo && \
	printf '%s\n' \
		'[source.crates-io]' \
		'replace-with = "vendored-sources"' \
		'[source.vendored-sources]' \
		"directory = \"$${vendor}\"" \
		> $(@D)/.cargo/config.toml
endef
RUST_BENCH_PRE_BUILD_HOOKS += RUST_BENCH_VENDOR_CRATES

$(eval $(cargo-package))
