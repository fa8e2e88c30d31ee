//! The osnoise tracer's records in binary form: the per-period summary (the tracer's own
//! entry, `events/ftrace/osnoise/format`: runtime, noise and max sample in µs, as the text
//! prints them, and the interference counters) and the noise events
//! (`events/osnoise/*_noise/format`, durations in ns), as the [`Line`]s the text reader
//! parses ([`super::parse_line`]).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;

use super::{EVENTS, Line};
use crate::platform::trace_raw::{Field, Format, Record};

/// A noise event's class and the fields that name its source.
#[derive(Clone, Debug)]
struct Noise {
    class: &'static str,
    duration: Field,
    /// The source's name: the IRQ's description, the thread's command.
    name: Option<Field>,
    /// A softirq's vector, named after `irq:softirq_entry`'s symbols.
    vector: Option<Field>,
}

/// The summary entry's fields.
#[derive(Clone, Debug)]
struct Summary {
    noise: Field,
    runtime: Field,
    max_sample: Field,
    counts: [Field; 5],
}

/// Decodes the osnoise instance's records.
#[derive(Debug)]
pub struct Decode {
    summary: Option<(u16, Summary)>,
    noise: HashMap<u16, Noise>,
    softirqs: Option<Format>,
}

impl Decode {
    /// From the formats under the instance's `events/`: the summary's, each noise event's
    /// that exists, and `irq/softirq_entry`'s names of the softirqs.
    pub fn load(events: &Path) -> Result<Decode> {
        let f = Format::load(events, "ftrace/osnoise")?;
        let summary = Summary {
            noise: f.need("noise")?,
            runtime: f.need("runtime")?,
            max_sample: f.need("max_sample")?,
            counts: [
                f.need("hw_count")?,
                f.need("nmi_count")?,
                f.need("irq_count")?,
                f.need("softirq_count")?,
                f.need("thread_count")?,
            ],
        };
        let mut noise = HashMap::new();
        for event in EVENTS {
            let Ok(f) = Format::load(events, &format!("osnoise/{event}")) else {
                continue;
            };
            let class = match event {
                "nmi_noise" => "nmi",
                "irq_noise" => "irq",
                "softirq_noise" => "softirq",
                _ => "thread",
            };
            noise.insert(
                f.id,
                Noise {
                    class,
                    duration: f.need("duration")?,
                    name: f.field("desc").or_else(|| f.field("comm")).cloned(),
                    vector: (class == "softirq")
                        .then(|| f.field("vector").cloned())
                        .flatten(),
                },
            );
        }
        Ok(Decode {
            summary: Some((f.id, summary)),
            noise,
            softirqs: Format::load(events, "irq/softirq_entry").ok(),
        })
    }

    /// The line a record is, or None for records of other events.
    pub fn line(&self, r: &Record) -> Option<Line> {
        let id = r.id()?;
        if let Some((sid, s)) = &self.summary
            && *sid == id
        {
            // The tracer keeps the summary in µs (trace_osnoise.c: time_to_us).
            let runtime_ns = r.uint(&s.runtime)? * 1000;
            let noise_ns = r.uint(&s.noise)? * 1000;
            let available_pct = if runtime_ns > 0 {
                100.0 * runtime_ns.saturating_sub(noise_ns) as f64 / runtime_ns as f64
            } else {
                0.0
            };
            let mut counts = [0u64; 5];
            for (c, f) in counts.iter_mut().zip(&s.counts) {
                *c = r.uint(f)?;
            }
            return Some(Line::Summary {
                runtime_ns,
                noise_ns,
                available_pct,
                max_single_ns: r.uint(&s.max_sample)? * 1000,
                counts,
            });
        }
        let n = self.noise.get(&id)?;
        let name = match (&n.name, &n.vector) {
            (Some(f), _) => r.str(f).unwrap_or("").trim().to_string(),
            (None, Some(v)) => {
                let v = r.uint(v)?;
                self.softirqs
                    .as_ref()
                    .and_then(|f| f.symbol("vec", v))
                    .map_or_else(|| v.to_string(), str::to_string)
            }
            (None, None) => String::new(),
        };
        Some(Line::Noise {
            class: n.class,
            name,
            ns: r.uint(&n.duration)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::trace_raw::Decoder;

    /// The formats of Linux 6.12's osnoise tracer (`events/ftrace/osnoise`,
    /// `events/osnoise/*`), as its tracefs publishes them.
    const FORMATS: [(&str, &str); 4] = [
        (
            "ftrace/osnoise",
            "name: osnoise\nID: 17\nformat:\n\
             \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
             \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
             \tfield:u64 noise;\toffset:8;\tsize:8;\tsigned:0;\n\
             \tfield:u64 runtime;\toffset:16;\tsize:8;\tsigned:0;\n\
             \tfield:u64 max_sample;\toffset:24;\tsize:8;\tsigned:0;\n\
             \tfield:unsigned int hw_count;\toffset:32;\tsize:4;\tsigned:0;\n\
             \tfield:unsigned int nmi_count;\toffset:36;\tsize:4;\tsigned:0;\n\
             \tfield:unsigned int irq_count;\toffset:40;\tsize:4;\tsigned:0;\n\
             \tfield:unsigned int softirq_count;\toffset:44;\tsize:4;\tsigned:0;\n\
             \tfield:unsigned int thread_count;\toffset:48;\tsize:4;\tsigned:0;\n",
        ),
        (
            "osnoise/irq_noise",
            "name: irq_noise\nID: 520\nformat:\n\
             \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
             \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
             \tfield:u64 start;\toffset:8;\tsize:8;\tsigned:0;\n\
             \tfield:u64 duration;\toffset:16;\tsize:8;\tsigned:0;\n\
             \tfield:__data_loc char[] desc;\toffset:24;\tsize:4;\tsigned:0;\n\
             \tfield:int vector;\toffset:28;\tsize:4;\tsigned:1;\n",
        ),
        (
            "osnoise/softirq_noise",
            "name: softirq_noise\nID: 521\nformat:\n\
             \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
             \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
             \tfield:u64 start;\toffset:8;\tsize:8;\tsigned:0;\n\
             \tfield:u64 duration;\toffset:16;\tsize:8;\tsigned:0;\n\
             \tfield:int vector;\toffset:24;\tsize:4;\tsigned:1;\n",
        ),
        (
            "osnoise/thread_noise",
            "name: thread_noise\nID: 522\nformat:\n\
             \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
             \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
             \tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
             \tfield:u64 start;\toffset:24;\tsize:8;\tsigned:0;\n\
             \tfield:u64 duration;\toffset:32;\tsize:8;\tsigned:0;\n\
             \tfield:pid_t pid;\toffset:40;\tsize:4;\tsigned:1;\n",
        ),
    ];

    fn put(rec: &mut [u8], at: usize, bytes: &[u8]) {
        rec[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// A page of records, each `(id, fill)`, laid out as the ring buffer lays them (the
    /// recorded fixtures of `platform::trace_raw` prove that layout against a kernel).
    fn page(records: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut data = Vec::new();
        for (id, body) in records {
            let mut rec = body.clone();
            put(&mut rec, 0, &id.to_ne_bytes());
            let words = rec.len().div_ceil(4);
            rec.resize(words * 4, 0);
            data.extend_from_slice(&((words as u32) | (10 << 5)).to_ne_bytes());
            data.extend_from_slice(&rec);
        }
        let mut p = vec![0u8; 4096];
        put(&mut p, 0, &1_000u64.to_ne_bytes());
        put(&mut p, 8, &(data.len() as u64).to_ne_bytes());
        put(&mut p, 16, &data);
        p
    }

    #[test]
    fn summaries_and_noise_from_records() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path();
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace-raw/attribution/events");
        for f in ["header_page", "header_event"] {
            std::fs::copy(fixture.join(f), events.join(f)).unwrap();
        }
        std::fs::create_dir_all(events.join("irq/softirq_entry")).unwrap();
        std::fs::copy(
            fixture.join("irq/softirq_entry/format"),
            events.join("irq/softirq_entry/format"),
        )
        .unwrap();
        for (name, text) in FORMATS {
            std::fs::create_dir_all(events.join(name)).unwrap();
            std::fs::write(events.join(name).join("format"), text).unwrap();
        }
        let decode = Decode::load(events).unwrap();
        let decoder = Decoder::load(events).unwrap();

        let mut summary = vec![0u8; 52];
        // µs, as the tracer keeps them.
        put(&mut summary, 8, &190u64.to_ne_bytes());
        put(&mut summary, 16, &1_000_000u64.to_ne_bytes());
        put(&mut summary, 24, &9u64.to_ne_bytes());
        for (i, c) in [18u32, 0, 1007, 18, 1].iter().enumerate() {
            put(&mut summary, 32 + 4 * i, &c.to_ne_bytes());
        }
        let mut irq = vec![0u8; 32 + 12];
        put(&mut irq, 16, &1245u64.to_ne_bytes());
        put(&mut irq, 24, &((12u32 << 16) | 32).to_ne_bytes());
        put(&mut irq, 32, b"local_timer\0");
        let mut softirq = vec![0u8; 28];
        put(&mut softirq, 16, &700u64.to_ne_bytes());
        put(&mut softirq, 24, &1i32.to_ne_bytes());
        let mut thread = vec![0u8; 44];
        put(&mut thread, 8, b"kworker/0:1\0");
        put(&mut thread, 32, &30_000u64.to_ne_bytes());
        let p = page(&[(520, irq), (521, softirq), (522, thread), (17, summary)]);
        let mut lines = Vec::new();
        decoder
            .page(&p, &mut |item| {
                if let crate::platform::trace_raw::Item::Record(r) = item {
                    lines.extend(decode.line(&r));
                }
            })
            .unwrap();
        assert_eq!(
            lines,
            vec![
                Line::Noise {
                    class: "irq",
                    name: "local_timer".into(),
                    ns: 1245
                },
                Line::Noise {
                    class: "softirq",
                    name: "TIMER".into(),
                    ns: 700
                },
                Line::Noise {
                    class: "thread",
                    name: "kworker/0:1".into(),
                    ns: 30_000
                },
                Line::Summary {
                    runtime_ns: 1_000_000_000,
                    noise_ns: 190_000,
                    available_pct: 100.0 * (1_000_000_000.0 - 190_000.0) / 1_000_000_000.0,
                    max_single_ns: 9_000,
                    counts: [18, 0, 1007, 18, 1],
                },
            ]
        );
    }
}
