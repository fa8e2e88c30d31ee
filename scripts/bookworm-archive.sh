#!/bin/sh
# Print the URI of the Debian archive this machine's apt already uses for bookworm (from
# its own sources: deb822 .sources files or sources.list), so that the sources the tree
# adds (bookworm-backports, deb-src) go through the same mirror or proxy. Fails with a
# message naming the fix when apt knows no bookworm source.
# usage: scripts/bookworm-archive.sh
set -eu

# shellcheck disable=SC2016 # apt's own format fields, not shell expansions
uri=$(apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null |
	awk '$1 == "deb" && $2 == "bookworm" { print $3; exit }')
if [ -z "$uri" ]; then
	echo "bookworm-archive.sh: apt has no 'deb' source for Debian bookworm; add the one this" \
		"machine should use (e.g. in /etc/apt/sources.list.d/debian.sources) and run" \
		"apt-get update" >&2
	exit 1
fi
printf '%s\n' "${uri%/}"
