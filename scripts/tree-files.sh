#!/bin/sh
# List the tree's own files, one path a line, relative to the tree: from
# git when the tree is a git checkout, otherwise (a release tarball) every
# file except those the tree's .gitignore names by a root-anchored path
# (/output/, /buildroot/, ...), which are build outputs and downloads.
#
# usage: tree-files.sh
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)

in_git_checkout() {
	top=$(git -C "$TREE" rev-parse --show-toplevel 2>/dev/null) || return 1
	[ "$top" = "$TREE" ]
}

# find's arguments that skip .git and each "/path" line of .gitignore.
prune_args() {
	printf '%s\n' "./.git"
	if [ -f "$TREE/.gitignore" ]; then
		sed -n 's,^/\(.*[^/]\)/*$,./\1,p' "$TREE/.gitignore"
	fi
}

main() {
	cd "$TREE"
	if command -v git >/dev/null 2>&1 && in_git_checkout; then
		git ls-files
		return
	fi
	set --
	for p in $(prune_args); do
		set -- "$@" -path "$p" -prune -o
	done
	find . "$@" -type f -print | sed 's,^\./,,' | LC_ALL=C sort
}

main
