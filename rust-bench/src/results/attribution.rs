//! `attribution` in `clock-tick.json`: where the time of each spike went, from the kernel's
//! own trace of the measured CPU (docs/results-format.md). Absent when attribution was off.

use serde::{Deserialize, Serialize};

use crate::results::trace::TraceReader;

/// What took the CPU from the measuring thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A device interrupt handler (`irq:irq_handler_entry/exit`), named by its handler.
    Irq,
    /// An x86 system vector that is not a device IRQ (local timer, IPIs, irq_work, Hyper-V's
    /// callback and stimer vectors where the kernel traces them).
    Vector,
    /// An hrtimer callback run from an interrupt, a softirq or a thread
    /// (`timer:hrtimer_expire_entry/exit`), named by its function (`tick_nohz_handler`, ...):
    /// the tick also where its vector is not traced (Hyper-V's stimer).
    Timer,
    /// A softirq (`irq:softirq_entry/exit`), named by its action (TIMER, RCU, ...).
    Softirq,
    /// An NMI handler (`nmi:nmi_handler`).
    Nmi,
    /// Another thread ran (`sched:sched_switch` away and back), named by its command.
    Thread,
    /// No guest event covers it: the hypervisor, another partition, firmware (SMI), or the
    /// guest's own interrupt entry and exit outside the traced handlers.
    Unexplained,
    /// Events were lost while this spike happened: the split cannot be trusted.
    Unknown,
}

impl Class {
    /// The word the JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Irq => "irq",
            Class::Vector => "vector",
            Class::Timer => "timer",
            Class::Softirq => "softirq",
            Class::Nmi => "nmi",
            Class::Thread => "thread",
            Class::Unexplained => "unexplained",
            Class::Unknown => "unknown",
        }
    }
}

/// One cause's share of one spike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub class: Class,
    /// Handler, vector, softirq action or thread command ("" for unexplained and unknown).
    pub name: String,
    pub ns: u64,
}

/// One spike and its breakdown (the parts add up to `overhead_ns`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributedSpike {
    /// Start of the sample, seconds since the start of the run (as in `spikes.list`).
    pub t_s: f64,
    pub overhead_ns: u64,
    pub parts: Vec<Part>,
}

/// One cause over the whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CauseTotal {
    pub class: Class,
    pub name: String,
    /// Spikes this cause took part in.
    pub spikes: u64,
    /// Its time summed over all spikes.
    pub total_ns: u64,
    /// Its largest share of one spike.
    pub max_ns: u64,
}

/// The `attribution` object of `clock-tick.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// How the trace was read: `binary` (`trace_pipe_raw`) or `text` (`trace_pipe`, the
    /// fallback). Absent in files written before the binary reader existed: text.
    #[serde(default)]
    pub trace_reader: Option<TraceReader>,
    /// The tracefs instance's trace clock (`x86-tsc` with the TSC, `mono_raw` with
    /// clock_gettime): the samples' own clock.
    pub trace_clock: String,
    /// The tracepoints enabled, as `system:event`.
    pub events: Vec<String>,
    /// Ring buffer of the measured CPU, KiB.
    pub buffer_size_kb: u64,
    /// Events read from the buffer.
    pub events_read: u64,
    /// Events the kernel lost (buffer overrun or dropped).
    pub events_lost: u64,
    /// Time the measuring thread spent on the attribution between bursts: the
    /// attribution's own cost, time in which nothing was measured (part of what the duty
    /// cycle leaves out). Reading the trace and splitting the spikes where `reader_cpus` is
    /// absent; only handing each burst's spikes over (and waiting at checkpoints) where it
    /// is set.
    #[serde(default)]
    pub drain_ns: u64,
    /// The CPUs of the thread that read the trace and split the spikes, where the machine
    /// has CPUs besides the measured one (a CPU list, e.g. `0,2-3`); absent where the
    /// measuring thread did it itself, between bursts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_cpus: Option<String>,
    /// That thread's time reading the trace and splitting the spikes (0 without it).
    #[serde(default)]
    pub reader_ns: u64,
    /// Spikes split into causes.
    pub spikes_attributed: u64,
    /// Spikes in a burst that lost events: counted as `unknown`, not split.
    pub spikes_unknown: u64,
    /// Spikes of the run not attributed because the per-burst list was full.
    #[serde(default)]
    pub spikes_skipped: u64,
    /// Per class (name ""), in the order of [`Class`]: `spikes` counts the spikes the
    /// class took part in, `max_ns` its largest share of one.
    #[serde(default)]
    pub classes: Vec<CauseTotal>,
    /// Per cause, largest total first.
    pub causes: Vec<CauseTotal>,
    /// The largest spikes with their breakdown, largest first.
    pub largest: Vec<AttributedSpike>,
}

impl Attribution {
    /// Total time per class (the report's stacked bar), in the order of [`Class`].
    pub fn by_class(&self) -> Vec<(Class, u64)> {
        self.classes.iter().map(|c| (c.class, c.total_ns)).collect()
    }
}
