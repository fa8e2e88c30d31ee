#!/bin/sh
# Show that check-powershell.py fails when it should: break copies of the
# kit's scripts in ways PowerShell would refuse to parse, and expect the check
# to name the file, the line and the column each time.
#
# usage: test-check-powershell.sh
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
CHECK=$TREE/scripts/check-powershell.py
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# expect_failure DESCRIPTION FILE PATTERN: the check must fail on FILE and
# print PATTERN.
expect_failure() {
	description=$1
	file=$2
	pattern=$3
	if python3 "$CHECK" "$file" >"$SCRATCH/log" 2>&1; then
		cat "$SCRATCH/log"
		echo "test-check-powershell: FAIL: $description was not caught" >&2
		exit 1
	fi
	if ! grep -q "$pattern" "$SCRATCH/log"; then
		cat "$SCRATCH/log"
		echo "test-check-powershell: FAIL: $description: no '$pattern'" >&2
		exit 1
	fi
	echo "test-check-powershell: ok: $description is caught"
}

main() {
	# The real scripts must pass first.
	python3 "$CHECK" >/dev/null

	broken=$SCRATCH/Remove-HvrtScenario.ps1
	# The last line of the script is the closing brace of its foreach.
	sed '$d' "$TREE/board/hyperv/Remove-HvrtScenario.ps1" >"$broken"
	expect_failure "a missing closing brace" "$broken" \
		"^$broken:[0-9]*:[0-9]*: missing '}'"

	broken=$SCRATCH/HvrtCommon.ps1
	sed "s/^\(.ErrorActionPreference = \)'Stop'\$/\1\"Stop/" \
		"$TREE/board/hyperv/HvrtCommon.ps1" >"$broken"
	if cmp -s "$broken" "$TREE/board/hyperv/HvrtCommon.ps1"; then
		echo "test-check-powershell: FAIL: could not break HvrtCommon.ps1" >&2
		exit 1
	fi
	expect_failure "an unterminated string" "$broken" \
		"^$broken:[0-9]*:[0-9]*: syntax error"

	broken=$SCRATCH/New-HvrtScenario.ps1
	sed 's/^\(    \[Parameter(Mandatory)\]\)\[ValidateRange(1, 7)\]/\1[ValidateRange(1, 7]/' \
		"$TREE/board/hyperv/New-HvrtScenario.ps1" >"$broken"
	if cmp -s "$broken" "$TREE/board/hyperv/New-HvrtScenario.ps1"; then
		echo "test-check-powershell: FAIL: could not break New-HvrtScenario.ps1" >&2
		exit 1
	fi
	expect_failure "an unclosed parenthesis in a parameter attribute" "$broken" \
		"^$broken:[0-9]*:[0-9]*: "
}

main "$@"
