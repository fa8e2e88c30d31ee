#!/bin/sh
# Record the timerlat fixture of src/measure/timerlat/binary.rs inside an hvrt guest (as
# root, busybox, with tracefs at /sys/kernel/tracing and the kernel's timerlat tracer; the
# host's kernel has none): 50 ms of the timerlat tracer on CPU 0, a period of 1 ms, a busy
# task on the CPU, in a tracing instance with the osnoise noise events on, with the layouts
# and formats the kernel published and its text trace of the same records:
#   timerlat/  cpu0.raw (the raw pages), trace.txt, stats.txt, events/ (header_page,
#              header_event, ftrace/timerlat, osnoise/*_noise, irq/softirq_entry)
# usage: record-timerlat.sh OUTPUT_DIR
set -eu

OUT=$1/timerlat
T=/sys/kernel/tracing
I=$T/instances/hvrt-fixture
NOISE="osnoise/irq_noise osnoise/softirq_noise osnoise/nmi_noise osnoise/thread_noise"

mkdir -p "$OUT/events"
rmdir "$I" 2>/dev/null || true
mkdir "$I"
cp "$T/events/header_page" "$T/events/header_event" "$OUT/events/"
for e in ftrace/timerlat irq/softirq_entry $NOISE; do
	mkdir -p "$OUT/events/$e"
	cp "$T/events/$e/format" "$OUT/events/$e/format"
done
echo 0 >"$T/osnoise/cpus"
echo 1000 >"$T/osnoise/timerlat_period_us"
echo 1 >"$I/tracing_cpumask"
echo 16 >"$I/buffer_size_kb"
for e in $NOISE; do
	echo 1 >"$I/events/$e/enable"
done
echo 1 >"$I/tracing_on"
echo timerlat >"$I/current_tracer"
# A busy task on the CPU for part of it: the tracer's timer interrupts it and its thread
# preempts it (a thread noise event).
# shellcheck disable=SC2016 # the inner shell expands it
sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done' &
busy=$!
usleep 50000
echo 0 >"$I/tracing_on"
kill "$busy" 2>/dev/null || true
# Read before the tracer is switched off: switching tracers empties the buffer.
cat "$I/per_cpu/cpu0/stats" >"$OUT/stats.txt"
cat "$I/per_cpu/cpu0/trace" >"$OUT/trace.txt"
# Blocks once the buffer is empty: the pages read by then are kept.
timeout 2 cat "$I/per_cpu/cpu0/trace_pipe_raw" >"$OUT/cpu0.raw" || true
echo nop >"$I/current_tracer"
for e in $NOISE; do
	echo 0 >"$I/events/$e/enable"
done
rmdir "$I"
