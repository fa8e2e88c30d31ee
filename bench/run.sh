#!/bin/sh
# Benchmark rust-bench against its peers, side by side on one CPU of this machine:
#   1. clock-tick vs oslat (rt-tests) under the same injected periodic interference:
#      spike counts and sizes;
#   2. thread-switch (2 threads) vs the same ping-pong in plain C (bench/pingpong.c):
#      median switch time;
#   3. the paper's 50 million clock-tick samples: maximum resident set size;
#   4. the cost of clock-tick --attribute (loop min and p99 with and without), its trace read
#      in binary form (by a thread on the other CPUs, and by the measuring thread itself
#      with rust-bench confined to the measured CPU) and as text side by side, and the
#      kernel's osnoise tracer's noise beside clock-tick's over the same length of time
#      (both readers);
#   5. wakeup vs cyclictest (rt-tests), taking turns on the same CPU, priority and
#      interval, idle and under the same injected interference, ROUNDS rounds: each round's
#      max and the medians of max and p50 side by side;
#      then wakeup's maximum resident set size in a 10 s and a WAKEUP_LONG_S run at an
#      interval of 100 us (bounded memory whatever the length).
# Needs root (SCHED_FIFO, RT throttling), oslat (cyclictest for section 5), a C compiler,
# GNU time and python3.
# Environment: CPU (default: the last online CPU), DURATION (seconds per clock-tick/oslat
# run, default 10), PERIOD_US/SPIN_US (interference, default 10000/300), THRESHOLD_US
# (default 100), SWITCHES (per thread-switch run, default 1000000), ROUNDS (default 3),
# RUST_BENCH (binary; default: built from rust-bench/ with cargo --release), SECTIONS (which
# of the five to run, default "1 2 3 4"; 5 only when asked), INTERVAL_US (wakeup and
# cyclictest, default 1000), WAKEUP_LONG_S (section 5's long run, default 600).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
CPU=${CPU:-$(sed 's/.*[-,]//' /sys/devices/system/cpu/online)}
DURATION=${DURATION:-10}
PERIOD_US=${PERIOD_US:-10000}
SPIN_US=${SPIN_US:-300}
THRESHOLD_US=${THRESHOLD_US:-100}
SWITCHES=${SWITCHES:-1000000}
ROUNDS=${ROUNDS:-3}
INTERVAL_US=${INTERVAL_US:-1000}
SECTIONS=${SECTIONS:-1 2 3 4}
WAKEUP_LONG_S=${WAKEUP_LONG_S:-600}
MEASURE_PRIO=80
INJECT_PRIO=90

die() { echo "bench: $*" >&2; exit 1; }
for section in $SECTIONS; do
	case $section in
	1 | 2 | 3 | 4) ;;
	5) command -v cyclictest >/dev/null || die "cyclictest not found; install rt-tests" ;;
	*) die "SECTIONS: no section '$section'; give some of 1 2 3 4 5" ;;
	esac
done
[ "$(id -u)" = 0 ] || die "run as root (SCHED_FIFO and RT throttling need it)"
command -v oslat >/dev/null || die "oslat not found; install rt-tests"
command -v python3 >/dev/null || die "python3 not found"
[ -x /usr/bin/time ] || die "/usr/bin/time not found; install the 'time' package"
CC=${CC:-cc}
command -v "$CC" >/dev/null || die "no C compiler ($CC)"

if [ -z "${RUST_BENCH:-}" ]; then
	(cd "$root/rust-bench" && cargo build --release --quiet)
	RUST_BENCH=$root/rust-bench/target/release/rust-bench
fi

# Measure alone: the integration tests take the same lock.
exec 9>/tmp/rust-bench-measure.lock
flock 9

tmp=$(mktemp -d)
rt_runtime=/proc/sys/kernel/sched_rt_runtime_us
saved_runtime=$(cat "$rt_runtime")
cleanup() {
	echo "$saved_runtime" >"$rt_runtime" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Both tools run busy FIFO loops: without this, RT throttling stops them 50 ms a second.
echo -1 >"$rt_runtime"

"$CC" -O2 -Wall -pthread -o "$tmp/pingpong" "$here/pingpong.c"

# Interference for $1 seconds (and 3 more), every $2 us (default PERIOD_US).
inject() {
	"$RUST_BENCH" inject --cpu "$CPU" --priority "$INJECT_PRIO" --period-us "${2:-$PERIOD_US}" \
		--spin-us "$SPIN_US" --duration "$(($1 + 3))s" >"$tmp/inject.json" &
	inject_pid=$!
	sleep 0.2
}

section_1() {
	echo "== 1. clock-tick vs oslat on CPU $CPU, ${DURATION}s each, interference ${SPIN_US}us every ${PERIOD_US}us, $ROUNDS rounds"
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		inject "$DURATION"
		oslat --cpu-list "$CPU" --cpu-main-thread 0 --rtprio "$MEASURE_PRIO" -D "$DURATION" \
			--bucket-size 1024 -z -q --json="$tmp/oslat-$i.json" >"$tmp/oslat.txt"
		wait "$inject_pid"
		inject "$DURATION"
		"$RUST_BENCH" clock-tick --cpu "$CPU" --priority "$MEASURE_PRIO" --duration "${DURATION}s" \
			--loop-us 0 --threshold-us "$THRESHOLD_US" --json "$tmp/clock-tick-$i.json" >/dev/null
		wait "$inject_pid"
		i=$((i + 1))
	done

	python3 - "$tmp" "$ROUNDS" "$THRESHOLD_US" "$SPIN_US" "$PERIOD_US" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
thr, spin, period = map(float, sys.argv[3:])
lo, hi = 0.8 * spin, 2.0 * spin  # overheads caused by the injection (us)

def med(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float("nan")

def oslat(path):
    th = next(iter(json.load(open(path))["thread"].values()))
    secs, all_, inj = th["duration"], 0, []
    for k, n in th["histogram"].items():
        us = int(k) - 1  # bucket k holds [k-1, k) us; the last one holds overflows too
        if us >= thr:
            all_ += n
        if lo <= us < hi:
            inj += [us + 0.5] * n
    return dict(secs=secs, all=all_ / secs, inj=len(inj) / secs, size=med(inj), max=th["max"])

def clock_tick(path):
    ct = json.load(open(path))
    secs = ct["measured_s"]
    inj = [s["overhead_ns"] / 1e3 for s in ct["spikes"]["list"] if lo <= s["overhead_ns"] / 1e3 < hi]
    if ct["spikes"]["list_truncated"]:
        print("note: clock-tick spike list truncated; injected counts are a lower bound")
    return dict(secs=secs, all=ct["spikes"]["count"] / secs, inj=len(inj) / secs, size=med(inj),
                max=ct["loop_ns"]["max"] / 1e3)

o = [oslat(f"{tmp}/oslat-{i}.json") for i in range(rounds)]
c = [clock_tick(f"{tmp}/clock-tick-{i}.json") for i in range(rounds)]
rows = [
    ("measured s", "secs"),
    (f"spikes >= {thr:g} us per s", "all"),
    (f"injected spikes per s (injected: {1e6 / period:g})", "inj"),
    ("injected spike median us", "size"),
    ("max us", "max"),
]
print(f"median of {rounds} rounds{'':26} {'oslat':>10} {'clock-tick':>10} {'ratio':>7}")
for name, key in rows:
    a = statistics.median(x[key] for x in o)
    b = statistics.median(x[key] for x in c)
    print(f"{name:50} {a:10.2f} {b:10.2f} {b / a if a else float('nan'):7.3f}")
print("per round injected spikes/s: oslat", [round(x["inj"], 1) for x in o],
      "clock-tick", [round(x["inj"], 1) for x in c])
PY
}

section_2() {
	echo "== 2. thread-switch (2 threads) vs C ping-pong on CPU $CPU, $SWITCHES switches, $ROUNDS rounds"
	: >"$tmp/c.txt"
	: >"$tmp/rust.txt"
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		"$tmp/pingpong" "$CPU" "$MEASURE_PRIO" "$SWITCHES" >>"$tmp/c.txt"
		"$RUST_BENCH" thread-switch --cpu "$CPU" --priority "$MEASURE_PRIO" --threads 2 \
			--switches "$SWITCHES" --json - 2>/dev/null | python3 -c \
			'import json,sys; r=json.load(sys.stdin)["runs"][0]; print(json.dumps(r["switch_ns"]))' >>"$tmp/rust.txt"
		i=$((i + 1))
	done
	python3 - "$tmp/c.txt" "$tmp/rust.txt" <<'PY'
import json, statistics, sys
c = [json.loads(l) for l in open(sys.argv[1])]
r = [json.loads(l) for l in open(sys.argv[2])]
for name, key_c, key_r in [("min ns", "min_ns", "min"), ("median ns", "p50_ns", "p50"), ("p99 ns", "p99_ns", "p99"), ("mean ns", "mean_ns", "mean")]:
    a = statistics.median(x[key_c] for x in c)
    b = statistics.median(x[key_r] for x in r)
    print(f"{name:12} C {a:9.1f}   rust-bench {b:9.1f}   ratio {b / a:6.3f}")
print("per round medians: C", [x["p50_ns"] for x in c], "rust-bench", [x["p50"] for x in r])
PY
}

section_3() {
	echo "== 3. 50 000 000 clock-tick samples (loop-us 0; timeline filled as in a one-hour run; all --out files)"
	/usr/bin/time -v "$RUST_BENCH" clock-tick --cpu "$CPU" --priority "$MEASURE_PRIO" \
		--samples 50000000 --loop-us 0 --timeline-us 3 --out "$tmp/50m" \
		>/dev/null 2>"$tmp/time.txt"
	python3 - "$tmp/time.txt" "$tmp/50m/clock-tick.json" <<'PY'
import json, sys
kb = next(int(l.split(":")[1]) for l in open(sys.argv[1]) if "Maximum resident set size" in l)
r = json.load(open(sys.argv[2]))
print(f"samples {r['samples']}, timeline points {len(r['timeline']['max_ns'])}, "
      f"max RSS {kb / 1024:.1f} MiB (limit 16 MiB: {'ok' if kb <= 16 * 1024 else 'OVER'})")
PY
}

section_4() {
	echo "== 4. attribution cost on CPU $CPU (loop 68 us, ${DURATION}s each, $ROUNDS rounds) and osnoise"
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		"$RUST_BENCH" clock-tick --cpu "$CPU" --priority "$MEASURE_PRIO" --duration "${DURATION}s" \
			--json "$tmp/plain-$i.json" >/dev/null
		for reader in binary text; do
			"$RUST_BENCH" clock-tick --cpu "$CPU" --priority "$MEASURE_PRIO" --duration "${DURATION}s" \
				--attribute --trace-reader "$reader" --json "$tmp/attr-$reader-$i.json" >/dev/null
		done
		# Confined to the measured CPU, as on a one-CPU VM: the measuring thread reads.
		taskset -c "$CPU" "$RUST_BENCH" clock-tick --cpu "$CPU" --priority "$MEASURE_PRIO" \
			--duration "${DURATION}s" --attribute --json "$tmp/attr-alone-$i.json" >/dev/null
		i=$((i + 1))
	done
	for reader in binary text; do
		if ! "$RUST_BENCH" osnoise --cpu "$CPU" --duration "${DURATION}s" --trace-reader "$reader" \
			--json "$tmp/osnoise-$reader.json" >/dev/null 2>"$tmp/osnoise.err"; then
			echo "osnoise: $(cat "$tmp/osnoise.err")"
			break
		fi
	done
	python3 - "$tmp" "$ROUNDS" <<'PY'
import json, os, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
def load(name):
    return [json.load(open(f"{tmp}/{name}-{i}.json")) for i in range(rounds)]
plain, attr, text = load("plain"), load("attr-binary"), load("attr-text")
alone = load("attr-alone")
runs = (plain, attr, alone, text)
def med(runs, key):
    return statistics.median(r["loop_ns"][key] for r in runs) / 1000
print(f"{'':24} {'without':>10} {'binary':>10} {'bin, 1 CPU':>10} {'text':>10}"
      f"  (attribution's trace reader; median of {rounds} rounds, us)")
for key in ("min", "p50", "p99", "p9999"):
    print(f"loop {key:19} " + " ".join(f"{med(r, key):10.3f}" for r in runs))
print(f"{'duty cycle':24} " + " ".join(
    f"{statistics.median(r['duty_cycle'] for r in rs):10.4f}" for rs in runs))
def own(runs, key="drain_ns"):
    return statistics.median(r['attribution'][key] / 1e9 / r['duration_s'] for r in runs) * 100
print(f"{'attribution own time':24} {'':>10} " + " ".join(f"{own(r):9.3f}%" for r in runs[1:])
      + "  (share of the run the measuring thread spent on it)")
print(f"{'  read on other CPUs':24} {'':>10} " + " ".join(f"{own(r, 'reader_ns'):9.3f}%" for r in runs[1:])
      + "  (the reading thread's time, where there is one)")
a = attr[-1]["attribution"]
print(f"last attributed run: {a['spikes_attributed']} spikes split, {a['spikes_unknown']} unknown, "
      f"{a['events_read']} events, {a['events_lost']} lost")
for c in a.get("classes", []):
    print(f"  {c['class']:12} {c['total_ns'] / 1000:12.1f} us in {c['spikes']} spikes, max {c['max_ns'] / 1000:.1f} us")
def spike_total(r):
    o = r["spikes"]["overhead_ns"]
    return 0 if o is None else r["spikes"]["count"] * o["mean"]
ct = plain[-1]
per_s = spike_total(ct) / max(ct["measured_s"], 1e-9)
print(f"clock-tick: spike overhead {per_s / 1000:.1f} us per s measured "
      f"(max overhead {ct['max_overhead_ns'] / 1000:.1f} us)")
for reader in ("binary", "text"):
    if not os.path.exists(f"{tmp}/osnoise-{reader}.json"):
        continue
    o = json.load(open(f"{tmp}/osnoise-{reader}.json"))
    run_s = max(o["runtime_ns"] / 1e9, 1e-9)
    own = sum(s["total_ns"] for s in o["sources"] if s["class"] == "thread" and s["name"] == "rust-bench")
    print(f"osnoise ({reader}): noise {o['noise_ns'] / run_s / 1000:.1f} us per s measured "
          f"(max single {o['max_single_noise_ns'] / 1000:.1f} us), rust-bench's own "
          f"{own / max(o['noise_ns'], 1) * 100:.1f} % of it; counts {o['counts']}")
PY
}

section_5() {
	echo "== 5. wakeup vs cyclictest on CPU $CPU, priority $MEASURE_PRIO, every ${INTERVAL_US}us, ${DURATION}s each, $ROUNDS rounds taking turns; interference ${SPIN_US}us every $((PERIOD_US + 7))us"
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		for load in idle injected; do
			for tool in wakeup cyclictest; do
				# A period that drifts against the interval (by 7 us a period), so that
				# each tool meets the interference at every phase of its own period, not
				# at the one its start happened to fall on.
				if [ "$load" = injected ]; then inject "$DURATION" $((PERIOD_US + 7)); fi
				if [ "$tool" = wakeup ]; then
					"$RUST_BENCH" wakeup --cpu "$CPU" --priority "$MEASURE_PRIO" \
						--interval-us "$INTERVAL_US" --duration "${DURATION}s" \
						--json "$tmp/wakeup-$load-$i.json" >/dev/null
				else
					cyclictest -m -p "$MEASURE_PRIO" -a "$CPU" -t 1 -i "$INTERVAL_US" \
						-D "${DURATION}s" -q -h 1000 \
						--json="$tmp/cyclictest-$load-$i.json" >/dev/null
				fi
				if [ "$load" = injected ]; then wait "$inject_pid"; fi
			done
		done
		i=$((i + 1))
	done
	python3 - "$tmp" "$ROUNDS" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
def cyclictest(path):
    t = json.load(open(path))["thread"]["0"]
    buckets = sorted((int(us), n) for us, n in t["histogram"].items())
    seen, p50 = 0, None
    for us, n in buckets:
        seen += n
        if p50 is None and seen * 2 >= t["cycles"]:
            p50 = us
    return t["max"], p50
def wakeup(path):
    lat = json.load(open(path))["latency_ns"]
    return lat["max"] / 1000, lat["p50"] / 1000
print(f"{'':10} {'tool':11} {'max us, each round':>32} {'median':>8} {'p50 us, median':>15}")
for load in ("idle", "injected"):
    for tool, read in (("wakeup", wakeup), ("cyclictest", cyclictest)):
        runs = [read(f"{tmp}/{tool}-{load}-{i}.json") for i in range(rounds)]
        maxima = [m for m, _ in runs]
        print(f"{load if tool == 'wakeup' else '':10} {tool:11} "
              f"{' '.join(f'{m:.1f}' for m in maxima):>32} {statistics.median(maxima):8.1f} "
              f"{statistics.median(p for _, p in runs):15.1f}")
print("(cyclictest: 1 us buckets; a round's maximum is one event: the host's own stalls make it vary "
      "from run to run for either tool, the rounds show by how much)")
PY
	for seconds in 10 "$WAKEUP_LONG_S"; do
		/usr/bin/time -v "$RUST_BENCH" wakeup --cpu "$CPU" --priority "$MEASURE_PRIO" \
			--interval-us 100 --duration "${seconds}s" --out "$tmp/wakeup-$seconds" \
			>/dev/null 2>"$tmp/time-$seconds.txt"
	done
	python3 - "$tmp" 10 "$WAKEUP_LONG_S" <<'PY'
import json, sys
tmp, runs = sys.argv[1], sys.argv[2:]
rss = []
for s in runs:
    kb = next(int(l.split(":")[1]) for l in open(f"{tmp}/time-{s}.txt") if "Maximum resident set size" in l)
    w = json.load(open(f"{tmp}/wakeup-{s}/wakeup.json"))
    rss.append(kb)
    print(f"wakeup {s:>5} s every 100 us: {w['samples']} wake-ups, max RSS {kb / 1024:.1f} MiB")
print(f"difference {abs(rss[1] - rss[0]) / 1024:.2f} MiB (bound 1 MiB: {'ok' if abs(rss[1] - rss[0]) <= 1024 else 'OVER'}), "
      f"limit 16 MiB: {'ok' if max(rss) <= 16 * 1024 else 'OVER'}")
PY
}

for section in $SECTIONS; do
	echo
	"section_$section"
done
