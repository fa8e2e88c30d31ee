//! The timerlat tracer's records in binary form, decoded with the formats the running
//! kernel publishes ([`crate::platform::trace_raw`]): its samples (`events/ftrace/timerlat/
//! format`: activation number, context, latency in ns) and the noise events of the same
//! instance (`events/osnoise/*_noise/format`: start, duration, and what names the source),
//! as the [`Event`]s the analysis takes.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;

use super::{Class, Event, NOISE_EVENTS};
use crate::platform::trace_raw::{Field, Format, Record};

/// The sample's fields.
#[derive(Clone, Debug)]
struct Sample {
    pid: Field,
    seqnum: Field,
    context: Field,
    latency: Field,
}

/// A noise event's class and fields.
#[derive(Clone, Debug)]
struct Noise {
    class: Class,
    pid: Field,
    start: Field,
    duration: Field,
    /// The source's name: the IRQ's description, the thread's command.
    name: Option<Field>,
    /// An IRQ's or softirq's vector (a softirq's named after `irq:softirq_entry`).
    vector: Option<Field>,
}

/// Decodes the timerlat instance's records.
#[derive(Debug)]
pub struct Decode {
    sample: (u16, Sample),
    noise: HashMap<u16, Noise>,
    softirqs: Option<Format>,
}

/// The tracer's `context` of an IRQ sample (trace_osnoise.c: IRQ_CONTEXT); 1 is its
/// thread's, 2 a user-space thread's return (not used here).
const IRQ_CONTEXT: u64 = 0;
const THREAD_CONTEXT: u64 = 1;

impl Decode {
    /// From the formats under the instance's `events/`: the sample's, each noise event's
    /// that exists, and `irq/softirq_entry`'s names of the softirqs.
    pub fn load(events: &Path) -> Result<Decode> {
        let f = Format::load(events, "ftrace/timerlat")?;
        let sample = Sample {
            pid: f.need("common_pid")?,
            seqnum: f.need("seqnum")?,
            context: f.need("context")?,
            latency: f.need("timer_latency")?,
        };
        let mut noise = HashMap::new();
        for event in NOISE_EVENTS {
            let Ok(n) = Format::load(events, &format!("osnoise/{event}")) else {
                continue;
            };
            let class = match event {
                "nmi_noise" => Class::Nmi,
                "irq_noise" => Class::Irq,
                "softirq_noise" => Class::Softirq,
                _ => Class::Thread,
            };
            noise.insert(
                n.id,
                Noise {
                    class,
                    pid: n.need("common_pid")?,
                    start: n.need("start")?,
                    duration: n.need("duration")?,
                    name: n.field("desc").or_else(|| n.field("comm")).cloned(),
                    vector: n.field("vector").cloned(),
                },
            );
        }
        Ok(Decode {
            sample: (f.id, sample),
            noise,
            softirqs: Format::load(events, "irq/softirq_entry").ok(),
        })
    }

    /// The event a record is, or None for records of other events (and user-space
    /// threads' samples).
    pub fn event(&self, r: &Record) -> Option<Event> {
        let id = r.id()?;
        let (sid, s) = &self.sample;
        if *sid == id {
            let thread = match r.uint(&s.context)? {
                IRQ_CONTEXT => false,
                THREAD_CONTEXT => true,
                _ => return None,
            };
            return Some(Event::Sample {
                ts: r.ts,
                pid: r.int(&s.pid)? as i32,
                seqnum: r.uint(&s.seqnum)?,
                thread,
                latency_ns: r.uint(&s.latency)?,
            });
        }
        let n = self.noise.get(&id)?;
        let name = match (&n.name, &n.vector, n.class) {
            (Some(f), _, _) => r.str(f).unwrap_or("").trim().to_string(),
            (None, Some(v), Class::Softirq) => {
                let v = r.uint(v)?;
                self.softirqs
                    .as_ref()
                    .and_then(|f| f.symbol("vec", v))
                    .map_or_else(|| v.to_string(), str::to_string)
            }
            _ => String::new(),
        };
        Some(Event::Noise {
            class: n.class,
            name,
            pid: r.int(&n.pid)? as i32,
            start: r.uint(&n.start)?,
            duration: r.uint(&n.duration)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::trace_raw::{Decoder, Item};

    /// The recorded fixture (tests/data/trace-raw/record-timerlat.sh: the tracer on CPU 0
    /// of an hvrt guest, its noise events on), decoded here, and the kernel's text of the
    /// same records: the same samples and noise, in the same order.
    #[test]
    fn the_recorded_trace_decodes_as_the_kernel_prints_it() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace-raw/timerlat");
        let events = dir.join("events");
        let decode = Decode::load(&events).unwrap();
        let decoder = Decoder::load(&events).unwrap();
        let raw = std::fs::read(dir.join("cpu0.raw")).unwrap();
        assert_eq!(raw.len() % decoder.page_size(), 0);
        let mut binary = Vec::new();
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| {
                    if let Item::Record(r) = item {
                        binary.extend(decode.event(&r));
                    }
                })
                .unwrap();
        }
        let text: Vec<Event> = std::fs::read_to_string(dir.join("trace.txt"))
            .unwrap()
            .lines()
            .filter_map(text_event)
            .collect();
        assert!(
            text.iter()
                .filter(|e| matches!(e, Event::Sample { thread: true, .. }))
                .count()
                > 10,
            "{text:?}"
        );
        assert!(text.iter().any(|e| matches!(e, Event::Noise { .. })));
        assert_eq!(binary.len(), text.len());
        for (b, t) in binary.iter().zip(&text) {
            match (b, t) {
                // The text prints the time stamp rounded to the µs: compare it so.
                (
                    Event::Sample {
                        ts,
                        pid,
                        seqnum,
                        thread,
                        latency_ns,
                    },
                    Event::Sample {
                        ts: tts,
                        pid: tpid,
                        seqnum: tseq,
                        thread: tthread,
                        latency_ns: tlat,
                    },
                ) => {
                    assert_eq!((ts + 500) / 1000, *tts, "{b:?} {t:?}");
                    assert_eq!(
                        (pid, seqnum, thread, latency_ns),
                        (tpid, tseq, tthread, tlat)
                    );
                }
                (
                    Event::Noise {
                        class,
                        name,
                        start,
                        duration,
                        ..
                    },
                    Event::Noise {
                        class: tc,
                        name: tn,
                        start: ts,
                        duration: td,
                        ..
                    },
                ) => assert_eq!((class, name, start, duration), (tc, tn, ts, td), "{b:?}"),
                _ => panic!("{b:?} is {t:?} in the text"),
            }
        }
    }

    /// One line of the kernel's text of the fixture as an [`Event`] (the sample's time
    /// stamp in µs, the noise's pid not compared).
    fn text_event(line: &str) -> Option<Event> {
        let line = line.trim();
        if line.starts_with('#') {
            return None;
        }
        let pid_end = line.find(" [")?;
        let pid: i32 = line[..pid_end].rsplit('-').next()?.trim().parse().ok()?;
        let (head, body) = line.split_once(": ")?;
        let ts_text = head.split_whitespace().last()?;
        let (secs, us) = ts_text.split_once('.')?;
        let ts_us = secs.parse::<u64>().ok()? * 1_000_000 + us.parse::<u64>().ok()?;
        if let Some(rest) = body.strip_prefix('#') {
            // "#12 context    irq timer_latency      1234 ns"
            let f: Vec<&str> = rest.split_whitespace().collect();
            return Some(Event::Sample {
                ts: ts_us,
                pid,
                seqnum: f[0].parse().ok()?,
                thread: f[2] == "thread",
                latency_ns: f[4].parse().ok()?,
            });
        }
        let (event, args) = body.split_once(": ")?;
        let class = match event {
            "nmi_noise" => Class::Nmi,
            "irq_noise" => Class::Irq,
            "softirq_noise" => Class::Softirq,
            "thread_noise" => Class::Thread,
            _ => return None,
        };
        let (who, after) = args.split_once("start ").unwrap_or(("", args));
        let mut f = after.split_whitespace();
        let start = f.next()?;
        let (s, ns) = start.split_once('.')?;
        let start = s.parse::<u64>().ok()? * 1_000_000_000 + ns.parse::<u64>().ok()?;
        let duration = after.split("duration ").nth(1)?.split_whitespace().next()?;
        // "local_timer:236", "TIMER:1", "kworker/1:1:123": drop the number.
        let who = who.trim();
        let name = who.rsplit_once(':').map_or(who, |(n, _)| n).trim();
        Some(Event::Noise {
            class,
            name: name.to_string(),
            pid: 0,
            start,
            duration: duration.parse().ok()?,
        })
    }
}
