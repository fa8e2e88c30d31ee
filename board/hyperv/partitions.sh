#!/bin/sh
# List the partitions of a disk image (raw, or a fixed VHD: the raw disk and a footer) from
# its MBR or, behind a protective MBR, from its GPT; one line per partition:
#   NUMBER START SECTORS TYPE
# START and SECTORS count 512-byte sectors; TYPE is the MBR partition type (0c) or the GPT
# partition type GUID (C12A7328-F81F-11D2-BA4B-00A0C93EC93B). Only od and awk, as
# post-image.sh runs it on Buildroot's build machine too.
#
# usage: partitions.sh DISK
set -eu

DISK=${1:?usage: partitions.sh DISK}

die() {
	echo "partitions.sh: error: $DISK: $*" >&2
	exit 1
}

# LEN bytes from OFFSET as hex pairs separated by spaces, one line.
bytes() {
	od -An -v -tx1 -j "$1" -N "$2" "$DISK" | tr '\n' ' '
}

# The awk functions: le(first, count) is the little-endian number in fields first..; guid()
# the GPT type GUID in fields 1-16.
# shellcheck disable=SC2016 # awk code, not shell
AWK_LIB='
function hexval(h) { return index("0123456789abcdef", tolower(h)) - 1 }
function byte(i) { return hexval(substr($i, 1, 1)) * 16 + hexval(substr($i, 2, 1)) }
function le(first, count,    n, i) {
	n = 0
	for (i = first + count - 1; i >= first; i--) n = n * 256 + byte(i)
	return n
}
function guid(    s, i, order) {
	split("4 3 2 1 6 5 8 7 9 10 11 12 13 14 15 16", order, " ")
	s = ""
	for (i = 1; i <= 16; i++) {
		s = s toupper($(order[i]))
		if (i == 4 || i == 6 || i == 8 || i == 10) s = s "-"
	}
	return s
}'

[ -r "$DISK" ] || die "cannot read it"
[ "$(bytes 510 2)" = " 55 aa " ] || die "no partition table (no 55 AA at byte 510)"

mbr=$(bytes 446 64)
if ! echo "$mbr" | awk "$AWK_LIB"'{ for (e = 0; e < 4; e++) if ($(e * 16 + 5) == "ee") exit 0; exit 1 }'; then
	echo "$mbr" | awk "$AWK_LIB"'{
		for (e = 0; e < 4; e++) {
			b = e * 16
			if ($(b + 5) == "00") continue
			print e + 1, le(b + 9, 4), le(b + 13, 4), $(b + 5)
		}
	}'
	exit 0
fi

header=$(bytes 512 92)
echo "$header" | awk '{ exit !($1 $2 $3 $4 $5 $6 $7 $8 == "4546492050415254") }' ||
	die "a protective MBR but no GPT header in sector 1"
fields=$(echo "$header" | awk "$AWK_LIB"'{ print le(73, 8), le(81, 4), le(85, 4) }')
# shellcheck disable=SC2086 # three numbers
set -- $fields
entries_lba=$1
count=$2
size=$3
if [ "$size" -lt 128 ] || [ "$count" -gt 1024 ]; then
	die "a GPT header with $count entries of $size bytes"
fi
od -An -v -tx1 -w"$size" -j $((entries_lba * 512)) -N $((count * size)) "$DISK" |
	awk "$AWK_LIB"'{
		n++
		zero = 1
		for (i = 1; i <= 16; i++) if ($i != "00") zero = 0
		if (zero) next
		first = le(33, 8)
		print n, first, le(41, 8) - first + 1, guid()
	}'
