#!/bin/sh
# Check rust-bench/data/paper.tsv, the paper's published values: every row
# has the columns the file's header names, with known words, and a comment
# above it naming the paper.txt line its value comes from; that line must
# hold the value verbatim (as a whole number, not inside a longer one). A
# value of an emulated or enlightened VM must name its scenario and table.
#
# usage: check-paper-data.sh [DATA [PAPER]]
#   DATA   default: rust-bench/data/paper.tsv of this tree
#   PAPER  default: $HVRT_PAPER, else shared/paper.txt beside the tree
#          (../shared/paper.txt); without it the values are not looked up
#          ("skipped"), the rest is still checked
set -eu

TREE=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$TREE/rust-bench/data/paper.tsv}
PAPER=${2:-${HVRT_PAPER:-$TREE/../shared/paper.txt}}
HEADER='table	test	scenario	machine	metric	threads	value	unit'

die() {
	echo "check-paper-data: error: $*" >&2
	exit 2
}

# check_rows PAPER_OR_EMPTY: print one line per problem, exit 1 if any.
check_rows() {
	awk -F '\t' -v paper="$1" -v header="$HEADER" -v name="$DATA" '
	function fail(msg) { print name ":" FNR ": " msg; bad++ }
	# Whether value v stands on line s as a whole number.
	function has_number(s, v,    i, before, after) {
		while ((i = index(s, v)) > 0) {
			before = i > 1 ? substr(s, i - 1, 1) : ""
			after = substr(s, i + length(v), 2)
			if (before !~ /[0-9.]/ && after !~ /^[0-9]/ && after !~ /^\.[0-9]/)
				return 1
			s = substr(s, i + 1)
		}
		return 0
	}
	BEGIN {
		lines = 0
		if (paper != "")
			while ((getline l < paper) > 0) text[++lines] = l
	}
	/^#/ {
		if (source == "" && match($0, /paper\.txt line [0-9]+/))
			source = substr($0, RSTART + 15, RLENGTH - 15)
		next
	}
	/^[ \t]*$/ { next }
	!seen_header {
		seen_header = 1
		if ($0 != header) fail("the header must be: " header)
		source = ""
		next
	}
	{
		rows++
		if (NF != 8) { fail("8 tab-separated fields wanted, got " NF); source = ""; next }
		if ($1 !~ /^(-|[0-9]+)$/) fail("table \"" $1 "\": a number or -")
		if ($2 !~ /^(clock-tick|thread-switch)$/) fail("test \"" $2 "\": clock-tick or thread-switch")
		if ($3 !~ /^(-|[1-7])$/) fail("scenario \"" $3 "\": 1-7 or -")
		if ($4 !~ /^(bare|emulated|enlightened)$/) fail("machine \"" $4 "\": bare, emulated or enlightened")
		if ($2 == "clock-tick" && $5 !~ /^(max_overhead|loop_no_tick|loop_with_tick|tick_duration)$/)
			fail("clock-tick metric \"" $5 "\": max_overhead, loop_no_tick, loop_with_tick or tick_duration")
		if ($2 == "thread-switch" && $5 !~ /^(min|mean|max)$/)
			fail("thread-switch metric \"" $5 "\": min, mean or max")
		if ($2 == "clock-tick" && $6 != "-") fail("threads \"" $6 "\": - for clock-tick")
		if ($2 == "thread-switch" && $6 !~ /^[0-9]+$/) fail("threads \"" $6 "\": a thread count")
		if ($7 !~ /^[0-9]+(\.[0-9]+)?$/) fail("value \"" $7 "\": a decimal number")
		if ($8 !~ /^(ns|us|ms)$/) fail("unit \"" $8 "\": ns, us or ms")
		if ($4 == "bare" && $3 != "-") fail("the bare machine is no scenario: scenario -")
		if ($4 != "bare" && ($3 == "-" || $1 == "-"))
			fail("a VM value needs its scenario and table; leave it out (docs/report.md) where the text does not give them")
		key = $1 FS $2 FS $3 FS $4 FS $5 FS $6
		if (key in keys) fail("the same value again (first on line " keys[key] ")")
		keys[key] = FNR
		if (source == "") {
			fail("no comment above the row naming its source (\"paper.txt line N\")")
		} else if (paper != "") {
			if (source + 0 < 1 || source + 0 > lines)
				fail("paper.txt has no line " source)
			else if (!has_number(text[source + 0], $7))
				fail("value " $7 " is not on paper.txt line " source)
			else
				found++
		}
		source = ""
	}
	END {
		if (rows == 0) fail("no data rows")
		if (bad) exit 1
		if (paper != "")
			print "check-paper-data: ok (" rows " values, each on its paper.txt line)"
		else
			print "check-paper-data: ok (" rows " rows); values skipped: no paper text"
	}' "$DATA"
}

main() {
	[ -f "$DATA" ] || die "no $DATA"
	if [ -f "$PAPER" ]; then
		check_rows "$PAPER"
	else
		echo "check-paper-data: skipped looking the values up: no $PAPER" \
			"(set HVRT_PAPER=/path/to/paper.txt)"
		check_rows ""
	fi
}

main "$@"
