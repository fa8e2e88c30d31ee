//! Splitting clock-tick's spikes into causes from the kernel's trace of the measured CPU.
//!
//! The trace ([`crate::platform::tracefs`]) gives, on the samples' own clock, when the CPU
//! entered and left IRQ handlers, system vectors, softirqs and NMIs, and when the scheduler
//! switched threads. Replaying it gives a partition of time into segments, each labelled by
//! what ran (the innermost handler, or another thread, or nothing: the measuring thread
//! itself). A spike's sample `[from, to]` is intersected with those segments; whatever of
//! its overhead no segment explains is `unexplained` (the guest did not run: the hypervisor
//! or firmware, plus the guest's interrupt entry/exit outside the traced handlers).

mod binary;
mod live;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::platform::kallsyms::{self, Symbols};
use crate::platform::trace_raw::Item;
use crate::platform::tracefs::{self, Entry, Session, Tracefs};
use crate::results::attribution::{AttributedSpike, Attribution, CauseTotal, Class, Part};
use crate::results::clock::Source;
use crate::results::trace::TraceReader;

pub use live::Live;

/// A name in the trace (a task's command, a handler, a softirq): shared, not copied, as
/// the replay hands it from event to segment to spike.
pub type Name = std::rc::Rc<str>;

/// One trace event, parsed from a `trace_pipe` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Trace clock timestamp (TSC ticks with `x86-tsc`, ns with `mono_raw`).
    pub ts: u64,
    /// The task that was current when the event fired.
    pub pid: u32,
    pub comm: Name,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A handler starts (class Irq, Vector, Softirq or Nmi).
    Enter(Class, Name),
    /// The innermost handler of this class ends.
    Exit(Class),
    /// An NMI handler ran for `delta_ns` and ended at `ts`.
    Nmi { name: Name, delta_ns: u64 },
    /// The scheduler switched to `next`.
    Switch { next_pid: u32, next_comm: Name },
    /// The kernel lost events here (`[LOST n EVENTS]`).
    Lost(u64),
}

/// Parse one `trace_pipe` line; None for lines that are not events this module uses.
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim_end();
    if let Some(rest) = line.trim_start().strip_prefix("CPU:") {
        // "CPU:1 [LOST 12 EVENTS]"
        let n = rest.split("[LOST ").nth(1)?.split_whitespace().next()?;
        return Some(Event {
            ts: 0,
            pid: 0,
            comm: "".into(),
            kind: Kind::Lost(n.parse().ok()?),
        });
    }
    // "<comm>-<pid> [001] d.h.. 7719002671951: local_timer_entry: vector=236"
    let cpu_at = find_cpu_field(line)?;
    let task = line[..cpu_at].trim();
    let (comm, pid) = task.rsplit_once('-')?;
    let pid: u32 = pid.parse().ok()?;
    let rest = &line[cpu_at..];
    let (_flags, ts, rest) = split_fields(&rest[rest.find(']')? + 1..])?;
    let (name, args) = rest
        .split_once(": ")
        .unwrap_or((rest.trim_end_matches(':'), ""));
    let kind = event_kind(name, args)?;
    Some(Event {
        ts,
        pid,
        comm: comm.into(),
        kind,
    })
}

/// After the CPU field: the flags, the timestamp and the rest (the event).
pub fn split_fields(rest: &str) -> Option<(&str, u64, &str)> {
    let (flags, rest) = rest.trim_start().split_once(' ')?;
    let (ts, rest) = rest.trim_start().split_once(' ')?;
    Some((flags, parse_ts(ts.strip_suffix(':')?)?, rest.trim_start()))
}

/// A trace timestamp: a counter (`x86-tsc`: TSC ticks) or `seconds.microseconds` (the
/// nanosecond clocks such as `mono_raw`), in ns.
pub fn parse_ts(ts: &str) -> Option<u64> {
    match ts.split_once('.') {
        None => ts.parse().ok(),
        Some((s, frac)) => {
            let s: u64 = s.parse().ok()?;
            let digits = frac.len().min(9);
            let f: u64 = frac[..digits].parse().ok()?;
            Some(s * 1_000_000_000 + f * 10u64.pow(9 - digits as u32))
        }
    }
}

/// Byte offset of the " [ddd] " CPU field.
pub fn find_cpu_field(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'[' && i > 0 && b[i - 1] == b' ' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 && j < b.len() && b[j] == b']' {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

fn field<'a>(args: &'a str, key: &str) -> Option<&'a str> {
    args.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

fn event_kind(name: &str, args: &str) -> Option<Kind> {
    Some(match name {
        "irq_handler_entry" => {
            // "irq=11 name=virtio0" (the name may contain spaces: take the rest)
            let n = args
                .split_once("name=")
                .map(|(_, n)| n.trim())
                .unwrap_or("");
            let irq = field(args, "irq").unwrap_or("?");
            Kind::Enter(Class::Irq, format!("{n} (irq {irq})").into())
        }
        "irq_handler_exit" => Kind::Exit(Class::Irq),
        "softirq_entry" => {
            // "vec=1 [action=TIMER]"
            let a = args
                .split_once("action=")
                .map(|(_, a)| a.trim_end_matches(']').to_string())
                .unwrap_or_else(|| args.to_string());
            Kind::Enter(Class::Softirq, a.into())
        }
        "softirq_exit" => Kind::Exit(Class::Softirq),
        "hrtimer_expire_entry" => {
            Kind::Enter(Class::Timer, field(args, "function").unwrap_or("?").into())
        }
        "hrtimer_expire_exit" => Kind::Exit(Class::Timer),
        "nmi_handler" => Kind::Nmi {
            name: field(args, "handler").unwrap_or("nmi").into(),
            delta_ns: field(args, "delta_ns")?.parse().ok()?,
        },
        "sched_switch" => {
            let next = args.split_once(" ==> ")?.1;
            let comm = next.strip_prefix("next_comm=")?;
            let (comm, after) = comm.split_once(" next_pid=")?;
            let pid = after.split_whitespace().next()?.parse().ok()?;
            Kind::Switch {
                next_pid: pid,
                next_comm: comm.into(),
            }
        }
        _ => {
            if let Some(v) = name.strip_suffix("_entry") {
                Kind::Enter(Class::Vector, v.into())
            } else if name.ends_with("_exit") {
                Kind::Exit(Class::Vector)
            } else {
                return None;
            }
        }
    })
}

/// A stretch of time `[start, end)` during which `label` ran (None: the measuring thread).
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub label: Option<(Class, Name)>,
}

/// The replay state carried from one batch of events to the next.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// The measuring thread.
    pub own_pid: u32,
    stack: Vec<(Class, Name)>,
    task: Option<(u32, Name)>,
    last_ts: Option<u64>,
    /// `ns_per_tick`, to place an NMI's start.
    ns_per_tick: f64,
}

/// The deepest nesting kept (lost exits cannot grow it beyond this).
const MAX_DEPTH: usize = 16;

impl Replay {
    pub fn new(own_pid: u32, ns_per_tick: f64) -> Replay {
        Replay {
            own_pid,
            ns_per_tick,
            ..Replay::default()
        }
    }

    fn label(&self) -> Option<(Class, Name)> {
        if let Some(top) = self.stack.last() {
            return Some(top.clone());
        }
        match &self.task {
            Some((pid, comm)) if *pid != self.own_pid => Some((Class::Thread, comm.clone())),
            _ => None,
        }
    }

    /// Replay a batch of events (in time order, following the previous batch) into
    /// segments. The last segment is open-ended (`end = u64::MAX`): what ran after the
    /// last event goes on until the next one. Returns the number of lost events seen.
    pub fn segments(&mut self, events: &[Event], out: &mut Vec<Segment>) -> u64 {
        out.clear();
        // NMIs become an enter/exit pair at [ts - delta, ts].
        let mut evs: Vec<(u64, u8, &Event)> = Vec::with_capacity(events.len() + 4);
        for e in events {
            match &e.kind {
                Kind::Nmi { delta_ns, .. } => {
                    let d = (*delta_ns as f64 / self.ns_per_tick.max(1e-12)) as u64;
                    evs.push((e.ts.saturating_sub(d), 0, e));
                    evs.push((e.ts, 1, e));
                }
                _ => evs.push((e.ts, 2, e)),
            }
        }
        evs.sort_by_key(|&(ts, _, _)| ts);
        let mut lost = 0;
        for (ts, part, e) in evs {
            if let Kind::Lost(n) = e.kind {
                lost += n;
                continue;
            }
            if let Some(last) = self.last_ts
                && ts > last
            {
                push(out, last, ts, self.label());
            }
            self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
            // The event's task is what ran (the ground truth after lost switches).
            // The switch's next_comm names it best (the task column may read "<...>").
            if self.task.as_ref().is_none_or(|(pid, _)| *pid != e.pid) {
                self.task = Some((e.pid, e.comm.clone()));
            }
            match &e.kind {
                Kind::Enter(class, name) => {
                    if self.stack.len() < MAX_DEPTH {
                        self.stack.push((*class, name.clone()));
                    }
                }
                Kind::Exit(class) => pop(&mut self.stack, *class),
                Kind::Nmi { name, .. } => {
                    if part == 0 {
                        if self.stack.len() < MAX_DEPTH {
                            self.stack.push((Class::Nmi, name.clone()));
                        }
                    } else {
                        pop(&mut self.stack, Class::Nmi);
                    }
                }
                Kind::Switch {
                    next_pid,
                    next_comm,
                } => {
                    // A switch happens in task context: anything still open lost its exit.
                    self.stack.clear();
                    self.task = Some((*next_pid, next_comm.clone()));
                }
                Kind::Lost(_) => {}
            }
        }
        if let Some(last) = self.last_ts {
            push(out, last, u64::MAX, self.label());
        }
        lost
    }
}

fn push(out: &mut Vec<Segment>, start: u64, end: u64, label: Option<(Class, Name)>) {
    if let Some(prev) = out.last_mut()
        && prev.label == label
        && prev.end == start
    {
        prev.end = end;
        return;
    }
    out.push(Segment { start, end, label });
}

/// Pop the innermost entry of `class` and everything above it (their exits were lost).
fn pop(stack: &mut Vec<(Class, Name)>, class: Class) {
    if let Some(i) = stack.iter().rposition(|(c, _)| *c == class) {
        stack.truncate(i);
    }
}

/// One cause's share of a spike, named as the trace names it (a [`Part`] once in a result).
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub class: Class,
    pub name: Name,
    pub ns: u64,
}

impl Share {
    fn part(&self) -> Part {
        Part {
            class: self.class,
            name: self.name.to_string(),
            ns: self.ns,
        }
    }
}

/// Split one spike: the sample `[from, to]` (trace clock ticks) whose overhead is
/// `overhead_ns`, over `segments` (sorted, non-overlapping), into `out` (cleared first).
/// Each labelled segment's overlap with the sample is that cause's share; the rest of the
/// overhead is unexplained. Shares are in ns; if the traced causes add up to more than the
/// overhead (the loop's own minimum is inside the sample too), they are scaled down to it.
/// Called for every spike while the run goes on: it allocates nothing once `out` has grown.
pub fn split(
    from: u64,
    to: u64,
    overhead_ns: u64,
    segments: &[Segment],
    ns_per_tick: f64,
    out: &mut Vec<Share>,
) {
    out.clear();
    let first = segments.partition_point(|s| s.end <= from);
    for s in &segments[first..] {
        if s.start >= to {
            break;
        }
        let Some((class, name)) = &s.label else {
            continue;
        };
        let ticks = s.end.min(to) - s.start.max(from);
        // A spike holds few causes: a linear search beats a map.
        match out
            .iter_mut()
            .find(|p| p.class == *class && (Name::ptr_eq(&p.name, name) || p.name == *name))
        {
            Some(p) => p.ns += ticks,
            None => out.push(Share {
                class: *class,
                name: name.clone(),
                ns: ticks,
            }),
        }
    }
    // In (class, name) order, so that rounding and ties fall the same way every time.
    out.sort_unstable_by(|a, b| (a.class, &a.name).cmp(&(b.class, &b.name)));
    for p in out.iter_mut() {
        p.ns = (p.ns as f64 * ns_per_tick).round() as u64;
    }
    let explained: u64 = out.iter().map(|p| p.ns).sum();
    if explained > overhead_ns {
        let mut left = overhead_ns;
        for p in out.iter_mut() {
            p.ns = ((p.ns as u128 * overhead_ns as u128) / explained as u128) as u64;
            left -= p.ns;
        }
        if let Some(p) = out.iter_mut().max_by_key(|p| p.ns) {
            p.ns += left;
        }
    } else if explained < overhead_ns {
        out.push(Share {
            class: Class::Unexplained,
            name: Name::default(),
            ns: overhead_ns - explained,
        });
    }
    out.sort_by(|a, b| b.ns.cmp(&a.ns).then(a.class.cmp(&b.class)));
}

fn total(class: Class, name: &str) -> CauseTotal {
    CauseTotal {
        class,
        name: name.to_string(),
        spikes: 0,
        total_ns: 0,
        max_ns: 0,
    }
}

fn add(t: &mut CauseTotal, ns: u64) {
    t.spikes += 1;
    t.total_ns += ns;
    t.max_ns = t.max_ns.max(ns);
}

/// One spike as the measuring loop recorded it: sample `[from, to]` in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct RawSpike {
    pub from: u64,
    pub to: u64,
    pub overhead_ns: u64,
}

/// The run's attribution so far: fed one burst at a time.
#[derive(Debug)]
pub struct Attributor {
    replay: Replay,
    segments: Vec<Segment>,
    ns_per_tick: f64,
    start: u64,
    hz: f64,
    totals: BTreeMap<(Class, Name), CauseTotal>,
    classes: BTreeMap<Class, CauseTotal>,
    largest: Vec<AttributedSpike>,
    keep: usize,
    /// One spike's shares and their sums per class, kept to be reused.
    scratch: (Vec<Share>, Vec<(Class, u64)>),
    pub info: Attribution,
}

impl Attributor {
    /// `start`: the run's first tick (spike times are relative to it); `hz`: ticks per s.
    pub fn new(own_pid: u32, start: u64, hz: f64, keep: usize, info: Attribution) -> Attributor {
        let ns_per_tick = 1e9 / hz;
        Attributor {
            replay: Replay::new(own_pid, ns_per_tick),
            segments: Vec::new(),
            ns_per_tick,
            start,
            hz,
            totals: BTreeMap::new(),
            classes: BTreeMap::new(),
            largest: Vec::new(),
            keep,
            scratch: Default::default(),
            info,
        }
    }

    /// One burst: the events read after it (all events since the previous call), the
    /// events the kernel reports lost since then, and the burst's spikes.
    pub fn burst(&mut self, events: &[Event], lost: u64, spikes: &[RawSpike]) {
        let marked = self.replay.segments(events, &mut self.segments);
        let lost = lost.max(marked);
        self.info.events_read += events.len() as u64;
        self.info.events_lost += lost;
        let (mut shares, mut per_class) = std::mem::take(&mut self.scratch);
        for sp in spikes {
            if lost > 0 {
                self.info.spikes_unknown += 1;
                shares.clear();
                shares.push(Share {
                    class: Class::Unknown,
                    name: Name::default(),
                    ns: sp.overhead_ns,
                });
            } else {
                self.info.spikes_attributed += 1;
                split(
                    sp.from,
                    sp.to,
                    sp.overhead_ns,
                    &self.segments,
                    self.ns_per_tick,
                    &mut shares,
                );
            }
            per_class.clear();
            for p in &shares {
                match per_class.iter_mut().find(|(c, _)| *c == p.class) {
                    Some((_, ns)) => *ns += p.ns,
                    None => per_class.push((p.class, p.ns)),
                }
                let key = (p.class, p.name.clone());
                match self.totals.get_mut(&key) {
                    Some(t) => add(t, p.ns),
                    None => {
                        let mut t = total(p.class, &p.name);
                        add(&mut t, p.ns);
                        self.totals.insert(key, t);
                    }
                }
            }
            for &(class, ns) in &per_class {
                add(
                    self.classes
                        .entry(class)
                        .or_insert_with(|| total(class, "")),
                    ns,
                );
            }
            self.keep_largest(sp, &shares);
        }
        self.scratch = (shares, per_class);
    }

    /// Keep `sp` among the largest spikes (named in full only when it is kept).
    fn keep_largest(&mut self, sp: &RawSpike, shares: &[Share]) {
        if self.largest.len() == self.keep
            && self
                .largest
                .last()
                .is_some_and(|l| l.overhead_ns >= sp.overhead_ns)
        {
            return;
        }
        let s = AttributedSpike {
            t_s: (sp.from.saturating_sub(self.start) as f64 / self.hz * 1e6).round() / 1e6,
            overhead_ns: sp.overhead_ns,
            parts: shares.iter().map(Share::part).collect(),
        };
        let at = self
            .largest
            .partition_point(|l| l.overhead_ns >= s.overhead_ns);
        self.largest.insert(at, s);
        self.largest.truncate(self.keep);
    }

    /// The `attribution` object so far.
    pub fn result(&self) -> Attribution {
        let classes = self.classes.values().cloned().collect();
        let mut causes: Vec<CauseTotal> = self.totals.values().cloned().collect();
        causes.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then(a.class.cmp(&b.class)));
        Attribution {
            classes,
            causes,
            largest: self.largest.clone(),
            ..self.info.clone()
        }
    }
}

pub use crate::options::Attribute;

/// Spikes kept per burst for attribution (more are counted in `spikes_skipped`).
pub const BURST_SPIKES: usize = 4096;

/// Largest spikes kept with their breakdown.
pub const LARGEST: usize = 20;

/// What a clock-tick run asks of its attribution.
#[derive(Clone, Copy, Debug)]
pub struct Asked {
    pub attribute: Attribute,
    /// The measured CPU.
    pub cpu: usize,
    /// The samples' clock, which the trace's clock must be.
    pub source: Source,
    pub reader: TraceReader,
    /// How often a reading comes (its buffer is sized for that).
    pub read_every: Duration,
}

/// Tracing for one clock-tick run: opened before measuring, drained after each burst by the
/// thread that owns it ([`Live`] says which).
#[derive(Debug)]
pub struct Tracing {
    session: Session,
    /// Set when the trace is read in binary form.
    decode: Option<binary::Decode>,
    attributor: Option<Attributor>,
    events: Vec<Event>,
    /// The kernel's symbols, loaded when a result first names a function by address.
    symbols: OnceCell<Symbols>,
}

impl Tracing {
    /// Open tracefs and start the instance on the CPU `asked` names, on the samples' clock,
    /// its buffer sized for a reading every `read_every` and read as the reader asked. Per
    /// `attribute`: None when off, an error when on and tracing is missing, None (with a
    /// line on stderr) when auto and tracing is missing.
    pub fn open(asked: Asked) -> anyhow::Result<Option<Tracing>> {
        let Asked {
            attribute,
            cpu,
            source,
            reader,
            read_every,
        } = asked;
        if attribute == Attribute::Off {
            return Ok(None);
        }
        let trace_clock = match source {
            Source::Tsc => "x86-tsc",
            Source::ClockGettime => "mono_raw",
        };
        let buffer_kb = tracefs::attribution_buffer_kb(read_every);
        let started = Tracefs::open().and_then(|fs| {
            let session = Session::start(fs, cpu, trace_clock, reader, buffer_kb)?;
            let decode = match session.reader() {
                TraceReader::Binary => Some(binary::Decode::new(&session.formats()?)?),
                _ => None,
            };
            Ok((session, decode))
        });
        match started {
            Ok((session, decode)) => Ok(Some(Tracing {
                session,
                decode,
                attributor: None,
                events: Vec::new(),
                symbols: OnceCell::new(),
            })),
            Err(e) if attribute == Attribute::Auto => {
                eprintln!("rust-bench: clock-tick: measuring without attribution: {e:#}");
                Ok(None)
            }
            Err(e) => Err(e.context(
                "clock-tick --attribute cannot trace the measured CPU (or measure without \
                 --attribute; --attribute=auto measures without attribution where tracing is \
                 missing)",
            )),
        }
    }

    /// Measuring starts at tick `start` on the thread `tid`; events before are dropped.
    pub fn begin(&mut self, tid: u32, start: u64, hz: f64) -> anyhow::Result<()> {
        let s = &self.session;
        let info = Attribution {
            trace_reader: Some(s.reader()),
            trace_clock: s.trace_clock.clone(),
            events: s.event_names(),
            buffer_size_kb: s.buffer_kb,
            events_read: 0,
            events_lost: 0,
            drain_ns: 0,
            reader_cpus: None,
            reader_ns: 0,
            spikes_attributed: 0,
            spikes_unknown: 0,
            spikes_skipped: 0,
            classes: Vec::new(),
            causes: Vec::new(),
            largest: Vec::new(),
        };
        let mut a = Attributor::new(tid, start, hz, LARGEST, info);
        // Replay what was recorded so far (the state at the start), without spikes.
        self.read()?;
        let events = std::mem::take(&mut self.events);
        a.burst(&events, 0, &[]);
        a.info.events_read = 0;
        self.events = events;
        self.attributor = Some(a);
        Ok(())
    }

    fn read(&mut self) -> anyhow::Result<u64> {
        self.events.clear();
        let events = &mut self.events;
        let decode = &mut self.decode;
        self.session.drain(&mut |entry| {
            let event = match entry {
                Entry::Line(l) => parse_line(l),
                Entry::Item(Item::Record(r)) => decode.as_mut().and_then(|d| d.event(&r)),
                Entry::Item(Item::Lost(n)) => Some(Event {
                    ts: 0,
                    pid: 0,
                    comm: "".into(),
                    kind: Kind::Lost(n),
                }),
            };
            events.extend(event);
        })
    }

    /// After a burst: read the trace so far and attribute the burst's spikes (`skipped`:
    /// spikes of the burst that did not fit its list).
    pub fn after_burst(&mut self, spikes: &[RawSpike], skipped: u64) -> anyhow::Result<()> {
        let started = crate::platform::tsc::monotonic_ns();
        let lost = self.read()?;
        if let Some(a) = self.attributor.as_mut() {
            a.burst(&self.events, lost, spikes);
            a.info.spikes_skipped += skipped;
            a.info.drain_ns += crate::platform::tsc::monotonic_ns().saturating_sub(started);
        }
        Ok(())
    }

    /// The attribution so far, functions named (a binary record holds their address).
    pub fn result(&self) -> Option<Attribution> {
        let mut a = self.attributor.as_ref().map(Attributor::result)?;
        let named = |class: Class, name: &mut String| {
            if matches!(class, Class::Timer | Class::Nmi)
                && let Some(addr) = kallsyms::parse_address_name(name)
                && let Some(n) = self.symbols.get_or_init(Symbols::load).name(addr)
            {
                *name = n.to_string();
            }
        };
        for c in &mut a.causes {
            named(c.class, &mut c.name);
        }
        for p in a.largest.iter_mut().flat_map(|s| s.parts.iter_mut()) {
            named(p.class, &mut p.name);
        }
        Some(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: u32 = 100;

    fn ev(ts: u64, pid: u32, kind: Kind) -> Event {
        Event {
            ts,
            pid,
            comm: if pid == OWN {
                "rust-bench".into()
            } else {
                format!("t{pid}").into()
            },
            kind,
        }
    }
    fn enter(ts: u64, pid: u32, c: Class, n: &str) -> Event {
        ev(ts, pid, Kind::Enter(c, n.into()))
    }
    fn exit(ts: u64, pid: u32, c: Class) -> Event {
        ev(ts, pid, Kind::Exit(c))
    }
    fn switch(ts: u64, pid: u32, next: u32, comm: &str) -> Event {
        ev(
            ts,
            pid,
            Kind::Switch {
                next_pid: next,
                next_comm: comm.into(),
            },
        )
    }
    /// Split [from, to] with overhead `over` (1 tick = 1 ns).
    fn run(events: &[Event], from: u64, to: u64, over: u64) -> Vec<(Class, String, u64)> {
        let mut r = Replay::new(OWN, 1.0);
        let mut segs = Vec::new();
        r.segments(events, &mut segs);
        let mut shares = Vec::new();
        split(from, to, over, &segs, 1.0, &mut shares);
        shares
            .into_iter()
            .map(|p| (p.class, p.name.to_string(), p.ns))
            .collect()
    }
    fn p(c: Class, n: &str, ns: u64) -> (Class, String, u64) {
        (c, n.to_string(), ns)
    }

    #[test]
    fn parses_trace_pipe_lines() {
        let e = parse_line(
            "             cc1-26236   [001] d.h.. 7719002671951: local_timer_entry: vector=236",
        )
        .unwrap();
        assert_eq!(e.ts, 7719002671951);
        assert_eq!((e.pid, &*e.comm), (26236, "cc1"));
        assert_eq!(e.kind, Kind::Enter(Class::Vector, "local_timer".into()));
        let e = parse_line(" memfd:sealed-91-18811   [001] d..2. 7719009852713: sched_switch: prev_comm=memfd:sealed-91 prev_pid=18811 prev_prio=120 prev_state=S ==> next_comm=cc1 next_pid=26242 next_prio=130").unwrap();
        assert_eq!((e.pid, &*e.comm), (18811, "memfd:sealed-91"));
        assert_eq!(
            e.kind,
            Kind::Switch {
                next_pid: 26242,
                next_comm: "cc1".into()
            }
        );
        let e = parse_line("  cc1-2   [001] .Ns.. 77: softirq_entry: vec=9 [action=RCU]").unwrap();
        assert_eq!(e.kind, Kind::Enter(Class::Softirq, "RCU".into()));
        let e = parse_line("  <idle>-0  [001] d.h1. 5: irq_handler_entry: irq=11 name=virtio0")
            .unwrap();
        assert_eq!(e.kind, Kind::Enter(Class::Irq, "virtio0 (irq 11)".into()));
        assert_eq!(&*e.comm, "<idle>");
        let e = parse_line("  a b-7  [001] d.h1. 5: irq_handler_exit: irq=11 ret=handled").unwrap();
        assert_eq!((&*e.comm, e.kind), ("a b", Kind::Exit(Class::Irq)));
        let e = parse_line("  x-7  [001] d.Z.. 9: nmi_handler: handler=perf_event_nmi_handler delta_ns=2352 handled=1").unwrap();
        assert_eq!(
            e.kind,
            Kind::Nmi {
                name: "perf_event_nmi_handler".into(),
                delta_ns: 2352
            }
        );
        assert_eq!(
            parse_line("CPU:1 [LOST 12 EVENTS]").unwrap().kind,
            Kind::Lost(12)
        );
        assert!(parse_line("  x-7  [001] d.... 9: softirq_raise: vec=1 [action=TIMER]").is_none());
        assert!(parse_line("garbage").is_none());
        let e = parse_line("  x-7  [001] d.h1. 9: hrtimer_expire_entry: hrtimer=00000000a1b2 function=tick_nohz_handler now=123").unwrap();
        assert_eq!(
            e.kind,
            Kind::Enter(Class::Timer, "tick_nohz_handler".into())
        );
        let e =
            parse_line("  x-7  [001] d.h1. 9: hrtimer_expire_exit: hrtimer=00000000a1b2").unwrap();
        assert_eq!(e.kind, Kind::Exit(Class::Timer));
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_ts("7719002671951"), Some(7719002671951));
        assert_eq!(parse_ts("81.637220"), Some(81_637_220_000));
        assert_eq!(parse_ts("1.000000001"), Some(1_000_000_001));
        let e =
            parse_line("  x-7  [001] d.h..    81.637220: local_timer_exit: vector=236").unwrap();
        assert_eq!(e.ts, 81_637_220_000);
    }

    #[test]
    fn timer_vector_then_softirq() {
        // Own thread; the tick's vector 1000-1010, then the TIMER softirq 1010-1030.
        let evs = [
            enter(1000, OWN, Class::Vector, "local_timer"),
            exit(1010, OWN, Class::Vector),
            enter(1010, OWN, Class::Softirq, "TIMER"),
            exit(1030, OWN, Class::Softirq),
        ];
        // The sample covers 900..1100, overhead 40: 30 traced, 10 unexplained.
        assert_eq!(
            run(&evs, 900, 1100, 40),
            vec![
                p(Class::Softirq, "TIMER", 20),
                p(Class::Vector, "local_timer", 10),
                p(Class::Unexplained, "", 10),
            ]
        );
    }

    #[test]
    fn softirq_nested_in_irq_counts_only_inside() {
        let evs = [
            enter(100, OWN, Class::Irq, "eth0 (irq 5)"),
            enter(120, OWN, Class::Softirq, "NET_RX"),
            exit(150, OWN, Class::Softirq),
            exit(160, OWN, Class::Irq),
        ];
        assert_eq!(
            run(&evs, 0, 1000, 60),
            vec![
                p(Class::Irq, "eth0 (irq 5)", 30),
                p(Class::Softirq, "NET_RX", 30)
            ]
        );
    }

    #[test]
    fn irq_inside_a_switched_away_thread() {
        // Switched to kworker 7 at 100, an IRQ at 150-170 while it runs, back at 300.
        let evs = [
            switch(100, OWN, 7, "kworker/1:1"),
            enter(150, 7, Class::Irq, "virtio0 (irq 11)"),
            exit(170, 7, Class::Irq),
            switch(300, 7, OWN, "rust-bench"),
        ];
        assert_eq!(
            run(&evs, 50, 400, 250),
            vec![
                p(Class::Thread, "kworker/1:1", 180),
                p(Class::Unexplained, "", 50),
                p(Class::Irq, "virtio0 (irq 11)", 20),
            ]
        );
    }

    #[test]
    fn overlapping_boundaries_are_clipped() {
        // A thread runs 100-300; the sample is 200-250: only its part inside counts,
        // scaled to the overhead (the loop's own time is inside the sample too).
        let evs = [
            switch(100, OWN, 7, "inject"),
            switch(300, 7, OWN, "rust-bench"),
        ];
        assert_eq!(
            run(&evs, 200, 250, 50),
            vec![p(Class::Thread, "inject", 50)]
        );
        assert_eq!(
            run(&evs, 250, 400, 30),
            vec![p(Class::Thread, "inject", 30)]
        );
        // A sample entirely before or after: all unexplained.
        assert_eq!(run(&evs, 10, 90, 30), vec![p(Class::Unexplained, "", 30)]);
        assert_eq!(run(&evs, 310, 390, 30), vec![p(Class::Unexplained, "", 30)]);
    }

    #[test]
    fn explained_beyond_overhead_is_scaled() {
        let evs = [
            enter(0, OWN, Class::Vector, "local_timer"),
            exit(30, OWN, Class::Vector),
            enter(30, OWN, Class::Softirq, "TIMER"),
            exit(40, OWN, Class::Softirq),
        ];
        let got = run(&evs, 0, 100, 20);
        assert_eq!(got.iter().map(|x| x.2).sum::<u64>(), 20);
        assert_eq!(got[0].0, Class::Vector);
    }

    #[test]
    fn state_carries_across_batches_and_nmi_nests() {
        let mut r = Replay::new(OWN, 1.0);
        let mut segs = Vec::new();
        r.segments(&[switch(100, OWN, 7, "inject")], &mut segs);
        // The thread still runs at the end of the batch: open-ended.
        assert_eq!(segs.last().unwrap().end, u64::MAX);
        let mut shares = Vec::new();
        split(150, 250, 100, &segs, 1.0, &mut shares);
        assert_eq!(
            shares[0],
            Share {
                class: Class::Thread,
                name: "inject".into(),
                ns: 100
            }
        );
        // Next batch: an NMI of 10 ns ending at 210 inside the thread, back at 300.
        let nmi = ev(
            210,
            7,
            Kind::Nmi {
                name: "perf".into(),
                delta_ns: 10,
            },
        );
        r.segments(&[nmi, switch(300, 7, OWN, "rust-bench")], &mut segs);
        split(100, 400, 200, &segs, 1.0, &mut shares);
        let got: Vec<_> = shares
            .into_iter()
            .map(|p| (p.class, p.name.to_string(), p.ns))
            .collect();
        // Segments of this batch start at the previous batch's last event (100).
        assert_eq!(
            got,
            vec![p(Class::Thread, "inject", 190), p(Class::Nmi, "perf", 10)]
        );
    }

    #[test]
    fn lost_exits_do_not_stick() {
        // An IRQ's exit was lost; the next switch clears it.
        let evs = [
            enter(10, OWN, Class::Irq, "x (irq 1)"),
            switch(20, OWN, 7, "t7"),
            switch(40, 7, OWN, "rust-bench"),
        ];
        assert_eq!(
            run(&evs, 0, 100, 30),
            vec![p(Class::Thread, "t7", 20), p(Class::Irq, "x (irq 1)", 10)]
        );
        // A vector exit pops a softirq whose exit was lost above it.
        let evs = [
            enter(10, OWN, Class::Vector, "local_timer"),
            enter(12, OWN, Class::Softirq, "TIMER"),
            exit(20, OWN, Class::Vector),
        ];
        assert_eq!(
            run(&evs, 0, 100, 10),
            vec![
                p(Class::Softirq, "TIMER", 8),
                p(Class::Vector, "local_timer", 2)
            ]
        );
    }

    #[test]
    fn attributor_sums_and_marks_lost_bursts_unknown() {
        let info = Attribution {
            trace_reader: None,
            trace_clock: "x86-tsc".into(),
            events: vec![],
            buffer_size_kb: 1,
            events_read: 0,
            events_lost: 0,
            drain_ns: 0,
            reader_cpus: None,
            reader_ns: 0,
            spikes_attributed: 0,
            spikes_unknown: 0,
            spikes_skipped: 0,
            classes: Vec::new(),
            causes: vec![],
            largest: vec![],
        };
        let mut a = Attributor::new(OWN, 0, 1e9, 2, info);
        let evs = [
            switch(100, OWN, 7, "inject"),
            switch(300, 7, OWN, "rust-bench"),
        ];
        let sp = |from, to, o| RawSpike {
            from,
            to,
            overhead_ns: o,
        };
        a.burst(&evs, 0, &[sp(50, 350, 200), sp(1000, 1100, 30)]);
        a.burst(&[], 5, &[sp(2000, 2100, 40)]);
        let r = a.result();
        assert_eq!(
            (r.spikes_attributed, r.spikes_unknown, r.events_lost),
            (2, 1, 5)
        );
        assert_eq!(r.events_read, 2);
        assert_eq!(r.causes[0].class, Class::Thread);
        assert_eq!((r.causes[0].spikes, r.causes[0].total_ns), (1, 200));
        let unexplained = r
            .causes
            .iter()
            .find(|c| c.class == Class::Unexplained)
            .unwrap();
        assert_eq!((unexplained.spikes, unexplained.total_ns), (1, 30));
        let unknown = r.causes.iter().find(|c| c.class == Class::Unknown).unwrap();
        assert_eq!(unknown.total_ns, 40);
        // The two largest, largest first.
        assert_eq!(
            r.largest.iter().map(|s| s.overhead_ns).collect::<Vec<_>>(),
            vec![200, 40]
        );
        assert_eq!(r.largest[0].t_s, 0.0);
        assert_eq!(
            r.by_class(),
            vec![
                (Class::Thread, 200),
                (Class::Unexplained, 30),
                (Class::Unknown, 40)
            ]
        );
    }
}
