#!/bin/sh
# Show that check-paper-data.sh fails when it should: break copies of the
# paper's data file and expect the check to name the problem each time.
#
# usage: test-check-paper-data.sh
#   the paper text as for check-paper-data.sh ($HVRT_PAPER, else
#   ../shared/paper.txt beside the tree); without it: skipped
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
CHECK=$TREE/scripts/check-paper-data.sh
DATA=$TREE/rust-bench/data/paper.tsv
PAPER=${HVRT_PAPER:-$TREE/../shared/paper.txt}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# expect_failure DESCRIPTION SED_SCRIPT PATTERN: the check must fail on a
# copy of the data edited by SED_SCRIPT, and print PATTERN.
expect_failure() {
	description=$1
	edit=$2
	pattern=$3
	sed "$edit" "$DATA" >"$SCRATCH/paper.tsv"
	if cmp -s "$SCRATCH/paper.tsv" "$DATA"; then
		echo "test-check-paper-data: FAIL: $description: the edit changed nothing" >&2
		exit 1
	fi
	if "$CHECK" "$SCRATCH/paper.tsv" "$PAPER" >"$SCRATCH/log" 2>&1; then
		cat "$SCRATCH/log"
		echo "test-check-paper-data: FAIL: $description was not caught" >&2
		exit 1
	fi
	if ! grep -q "$pattern" "$SCRATCH/log"; then
		cat "$SCRATCH/log"
		echo "test-check-paper-data: FAIL: $description: no '$pattern'" >&2
		exit 1
	fi
	echo "test-check-paper-data: ok: $description is caught"
}

main() {
	if [ ! -f "$PAPER" ]; then
		echo "test-check-paper-data: skipped: no $PAPER (set HVRT_PAPER)"
		return 0
	fi
	# The real data must pass first.
	"$CHECK" "$DATA" "$PAPER" >/dev/null

	tab=$(printf '\t')
	expect_failure "a value the paper does not have" \
		"s/${tab}11\.2${tab}/${tab}11.3${tab}/" \
		'paper.tsv:[0-9]*: value 11.3 is not on paper.txt line 218'
	expect_failure "a value that only begins a longer number on its line" \
		"s/${tab}11\.45${tab}/${tab}11.4${tab}/" \
		'value 11.4 is not on paper.txt line 218'
	expect_failure "a row without its source" \
		'/^# paper.txt line 230,/d' \
		'paper.tsv:[0-9]*: no comment above the row'
	expect_failure "a source line that does not hold the value" \
		's/^# paper.txt line 230,/# paper.txt line 232,/' \
		'value 10 is not on paper.txt line 232'
	expect_failure "a VM value without its scenario" \
		"\$a# paper.txt line 231: the Emulated VM row\\
-${tab}clock-tick${tab}-${tab}emulated${tab}max_overhead${tab}-${tab}7.19${tab}ms" \
		'a VM value needs its scenario and table'
	expect_failure "a row with a field missing" \
		"s/${tab}68${tab}us\$/${tab}68/" \
		'8 tab-separated fields wanted, got 7'
}

main "$@"
