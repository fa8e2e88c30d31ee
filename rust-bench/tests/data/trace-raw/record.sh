#!/bin/sh
# Record the binary trace fixtures of src/platform/trace_raw.rs on this machine (as root,
# with tracefs at /sys/kernel/tracing and at least 2 CPUs), each with the layouts and
# formats the kernel published and its text trace of the same records:
#   attribution/  the attribution's events on CPU 1 while it is busy, in an 8 KiB buffer
#                 that is overrun (its first page says how many events were lost);
#                 x86-tsc clock; stats.txt is the CPU's buffer statistics
#   marker/       trace_marker writes on CPU 1, 200 ms apart, long and short (records with
#                 a length word, time extends), and the exec of each writer
#                 (sched_process_exec: a __data_loc string); mono_raw clock
# usage: record.sh OUTPUT_DIR
set -eu

OUT=$1
T=/sys/kernel/tracing
I=$T/instances/hvrt-fixture
ATTRIBUTION_EVENTS="irq/irq_handler_entry irq/irq_handler_exit irq/softirq_entry
	irq/softirq_exit sched/sched_switch nmi/nmi_handler timer/hrtimer_expire_entry
	timer/hrtimer_expire_exit irq_vectors/local_timer_entry irq_vectors/local_timer_exit
	irq_vectors/reschedule_entry irq_vectors/reschedule_exit
	irq_vectors/call_function_single_entry irq_vectors/call_function_single_exit"

# A fresh instance tracing CPU 1 on clock $1 with a buffer of $2 KiB.
instance() {
	rmdir "$I" 2>/dev/null || true
	mkdir "$I"
	echo 0 >"$I/tracing_on"
	echo "$1" >"$I/trace_clock"
	echo 2 >"$I/tracing_cpumask"
	echo "$2" >"$I/buffer_size_kb"
}

# Keep the format of event $2 (system/event) in $1, enabling it if $3 is "on".
keep_format() {
	mkdir -p "$1/events/$2"
	cp "$I/events/$2/format" "$1/events/$2/format"
	cp "$T/events/header_page" "$T/events/header_event" "$1/events/"
	[ "${3:-}" != on ] || echo 1 >"$I/events/$2/enable"
}

# Stop, keep the text and the raw pages of CPU 1, remove the instance.
finish() {
	echo 0 >"$I/tracing_on"
	cat "$I/per_cpu/cpu1/stats" >"$1/stats.txt"
	cat "$I/per_cpu/cpu1/trace" >"$1/trace.txt"
	dd if="$I/per_cpu/cpu1/trace_pipe_raw" of="$1/cpu1.raw" bs=4096 iflag=nonblock 2>/dev/null || true
	for e in $ATTRIBUTION_EVENTS sched/sched_process_exec; do
		echo 0 >"$I/events/$e/enable" 2>/dev/null || true
	done
	rmdir "$I"
}

attribution() {
	dir=$OUT/attribution
	instance x86-tsc 8
	for e in $ATTRIBUTION_EVENTS; do
		keep_format "$dir" "$e" on
	done
	echo 1 >"$I/tracing_on"
	# shellcheck disable=SC2016 # the inner shell expands it
	taskset -c 1 sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.001; done'
	finish "$dir"
}

marker() {
	dir=$OUT/marker
	instance mono_raw 1408
	keep_format "$dir" ftrace/print
	keep_format "$dir" sched/sched_process_exec on
	echo 1 >"$I/tracing_on"
	for n in 1 2 3 4; do
		taskset -c 1 sh -c "echo 'marker $n: a line longer than the 112 bytes an event header can give a length for by itself, so that it takes a length word' >$I/trace_marker"
		taskset -c 1 sh -c "echo 'short $n' >$I/trace_marker"
		sleep 0.2
	done
	finish "$dir"
}

mkdir -p "$OUT"
attribution
marker
