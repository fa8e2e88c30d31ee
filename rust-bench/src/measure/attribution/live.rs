//! Who reads the trace during a clock-tick run. Reading it and splitting the spikes is work
//! in which nothing is measured when the measuring thread does it, between bursts: on a
//! one-CPU machine (the paper's VMs) there is no other choice. Where the machine has other
//! CPUs, a thread pinned to them owns the [`Tracing`]: the measuring thread only hands each
//! burst's spikes over, and the reading runs while the next burst measures. The kernel
//! keeps each CPU's buffer apart, so reading the measured CPU's buffer from another CPU
//! takes no lock that its writer takes.

use std::cell::Cell;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{Asked, Attribute, RawSpike, Tracing};
use crate::platform::{rt, tsc};
use crate::results::attribution::Attribution;

/// The attribution of one clock-tick run, read by the measuring thread or by a thread on
/// the other CPUs.
#[derive(Debug)]
pub enum Live {
    Here(Box<Tracing>),
    Elsewhere(Reader),
}

impl Live {
    /// Open tracing as [`Tracing::open`] does, on a thread pinned to the usable CPUs other
    /// than the measured one where there are any. Errors (and `auto`'s None) come before
    /// measuring.
    pub fn open(asked: Asked) -> anyhow::Result<Option<Live>> {
        if asked.attribute == Attribute::Off {
            return Ok(None);
        }
        let others: Vec<usize> = rt::usable_cpus()
            .into_iter()
            .filter(|&c| c != asked.cpu)
            .collect();
        if others.is_empty() {
            return Ok(Tracing::open(asked)?.map(|t| Live::Here(Box::new(t))));
        }
        Reader::start(others, move || Tracing::open(asked)).map(|r| r.map(Live::Elsewhere))
    }

    /// Measuring starts at tick `start` on the thread `tid`; events before are dropped.
    /// Where another thread reads, this waits for it: the first burst's spikes need the
    /// state at the start (once a run, before its first burst: not counted as its cost).
    pub fn begin(&mut self, tid: u32, start: u64, hz: f64) -> anyhow::Result<()> {
        match self {
            Live::Here(t) => t.begin(tid, start, hz),
            Live::Elsewhere(r) => {
                r.ask(Ask::Begin { tid, start, hz })?;
                r.answer()
            }
        }
    }

    /// After a burst: attribute its spikes (`skipped`: spikes of the burst that did not fit
    /// its list). Where another thread reads, an error it met comes out here.
    pub fn after_burst(&mut self, spikes: &[RawSpike], skipped: u64) -> anyhow::Result<()> {
        match self {
            Live::Here(t) => t.after_burst(spikes, skipped),
            Live::Elsewhere(r) => r.timed(|r| {
                if let Ok(e) = r.failed.try_recv() {
                    return Err(e);
                }
                r.ask(Ask::Burst {
                    spikes: spikes.to_vec(),
                    skipped,
                })
            }),
        }
    }

    /// The attribution so far. Where another thread reads: with `all`, once it has caught
    /// up (the end of a run); else at once, as of the last burst it finished (a
    /// checkpoint, which must not wait on another CPU's load).
    pub fn result(&self, all: bool) -> Option<Attribution> {
        match self {
            Live::Here(t) => t.result(),
            Live::Elsewhere(r) => r.timed(|r| {
                let a = match all {
                    true => {
                        r.ask(Ask::Result).ok()?;
                        r.latest.recv().ok()??
                    }
                    false => r.last.lock().unwrap_or_else(|e| e.into_inner()).clone()?,
                };
                Some(Attribution {
                    reader_ns: a.drain_ns,
                    drain_ns: r.spent_ns.get(),
                    reader_cpus: Some(rt::format_cpu_list(&r.cpus)),
                    ..a
                })
            }),
        }
    }
}

enum Ask {
    Begin { tid: u32, start: u64, hz: f64 },
    Burst { spikes: Vec<RawSpike>, skipped: u64 },
    Result,
}

/// The reading thread: it owns the [`Tracing`] (its names are not shared across threads),
/// answers [`Ask::Begin`] and [`Ask::Result`], leaves the attribution after each burst for
/// a checkpoint to take, and reports the first error it meets.
#[derive(Debug)]
pub struct Reader {
    asks: Option<Sender<Ask>>,
    /// Answers to [`Ask::Begin`].
    answers: Receiver<anyhow::Result<()>>,
    /// Answers to [`Ask::Result`].
    latest: Receiver<Option<Attribution>>,
    /// The attribution as of the last burst the thread finished.
    last: Arc<Mutex<Option<Attribution>>>,
    failed: Receiver<anyhow::Error>,
    thread: Option<JoinHandle<()>>,
    cpus: Vec<usize>,
    /// The measuring thread's time spent here (handing over, waiting for answers).
    spent_ns: Cell<u64>,
}

impl Reader {
    /// Start the thread on `cpus` and open the tracing there: None where `open` gives none.
    fn start(
        cpus: Vec<usize>,
        open: impl FnOnce() -> anyhow::Result<Option<Tracing>> + Send + 'static,
    ) -> anyhow::Result<Option<Reader>> {
        let (asks, asked) = mpsc::channel::<Ask>();
        let (answer, answers) = mpsc::channel();
        let (result, latest) = mpsc::channel();
        let (fail, failed) = mpsc::channel();
        let (opened_tx, opened) = mpsc::channel::<anyhow::Result<bool>>();
        let last = Arc::new(Mutex::new(None));
        let (on, left) = (cpus.clone(), Arc::clone(&last));
        let thread = std::thread::Builder::new()
            .name("attribution".into())
            .spawn(move || {
                let tracing = rt::pin_current_thread_to(&on).and_then(|()| open());
                let mut tracing = match tracing {
                    Ok(Some(t)) => {
                        let _ = opened_tx.send(Ok(true));
                        t
                    }
                    Ok(None) => return drop(opened_tx.send(Ok(false))),
                    Err(e) => return drop(opened_tx.send(Err(e))),
                };
                let mut ok = true;
                for ask in asked {
                    match ask {
                        Ask::Begin { tid, start, hz } => {
                            let _ = answer.send(tracing.begin(tid, start, hz));
                        }
                        Ask::Burst { spikes, skipped } if ok => {
                            match tracing.after_burst(&spikes, skipped) {
                                Ok(()) => {
                                    *left.lock().unwrap_or_else(|e| e.into_inner()) =
                                        tracing.result()
                                }
                                Err(e) => {
                                    ok = false;
                                    let _ = fail.send(e);
                                }
                            }
                        }
                        Ask::Burst { .. } => {}
                        Ask::Result => {
                            let _ = result.send(tracing.result());
                        }
                    }
                }
            })
            .map_err(|e| anyhow::anyhow!("cannot start the thread that reads the trace: {e}"))?;
        let reader = Reader {
            asks: Some(asks),
            answers,
            latest,
            last,
            failed,
            thread: Some(thread),
            cpus,
            spent_ns: Cell::new(0),
        };
        match opened.recv() {
            Ok(Ok(true)) => Ok(Some(reader)),
            Ok(Ok(false)) => Ok(None),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(anyhow::anyhow!(
                "the thread that reads the trace ended at its start"
            )),
        }
    }

    fn ask(&self, ask: Ask) -> anyhow::Result<()> {
        self.asks
            .as_ref()
            .and_then(|a| a.send(ask).ok())
            .ok_or_else(|| anyhow::anyhow!("the thread that reads the trace ended early"))
    }

    fn answer(&self) -> anyhow::Result<()> {
        self.answers
            .recv()
            .map_err(|_| anyhow::anyhow!("the thread that reads the trace ended early"))?
    }

    /// Run `f`, its time added to the measuring thread's own time.
    fn timed<T>(&self, f: impl FnOnce(&Reader) -> T) -> T {
        let started = tsc::monotonic_ns();
        let out = f(self);
        let spent = tsc::monotonic_ns().saturating_sub(started);
        self.spent_ns.set(self.spent_ns.get() + spent);
        out
    }
}

impl Drop for Reader {
    /// The thread ends with the last ask, and the tracing instance goes with it.
    fn drop(&mut self) {
        self.asks = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
