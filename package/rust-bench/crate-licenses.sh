#!/bin/sh
# The licenses of the crates that rust-bench is built with, for Buildroot's
# legal-info: read from each vendored crate's Cargo.toml and license files.
#
# usage: crate-licenses.sh VENDOR_DIR LICENSES_OUT FILES_OUT
#   VENDOR_DIR    the crates as `cargo vendor --versioned-dirs` left them
#                 (one NAME-VERSION directory each)
#   LICENSES_OUT  receives ", LICENSE (crate-1.0 crate-2.0 ...), ..." (one group per
#                 license, in Buildroot's spelling: "or", "and")
#   FILES_OUT     receives the crates' license files, relative to the
#                 parent of VENDOR_DIR, one per line
set -eu

VENDOR_DIR=${1:?usage: crate-licenses.sh VENDOR_DIR LICENSES_OUT FILES_OUT}
LICENSES_OUT=${2:?usage: crate-licenses.sh VENDOR_DIR LICENSES_OUT FILES_OUT}
FILES_OUT=${3:?usage: crate-licenses.sh VENDOR_DIR LICENSES_OUT FILES_OUT}

# A crate's license expression: its `license`, or the file its
# `license-file` names.
crate_license() {
	sed -n -e 's/^license *= *"\(.*\)"$/\1/p' \
		-e 's/^license-file *= *"\(.*\)"$/see \1/p' "$1/Cargo.toml" |
		head -n 1 |
		sed -e 's# OR # or #g' -e 's# AND # and #g' -e 's#/# or #g'
}

# "license<TAB>crate" lines, sorted by license then crate.
licenses_by_crate() {
	for dir in "$VENDOR_DIR"/*/; do
		crate=$(basename "$dir")
		license=$(crate_license "$dir")
		printf '%s\t%s\n' "${license:-unknown}" "$crate"
	done | LC_ALL=C sort
}

group_licenses() {
	licenses_by_crate | awk -F '\t' '
		$1 != last { if (NR > 1) printf ")"; printf ", %s (%s", $1, $2; last = $1; next }
		{ printf " %s", $2 }
		END { if (NR > 0) printf ")"; printf "\n" }'
}

license_files() {
	base=$(basename "$VENDOR_DIR")
	for dir in "$VENDOR_DIR"/*/; do
		crate=$(basename "$dir")
		found=$(find "$dir" -maxdepth 1 -type f | sed 's#.*/##' |
			grep -i -E '^(licen[cs]e|copying|unlicense|notice|copyright)' |
			LC_ALL=C sort) || true
		if [ -z "$found" ]; then
			echo "crate-licenses.sh: note: $crate ships no license file" >&2
			continue
		fi
		for f in $found; do
			printf '%s/%s/%s\n' "$base" "$crate" "$f"
		done
	done
}

group_licenses >"$LICENSES_OUT"
license_files >"$FILES_OUT"
