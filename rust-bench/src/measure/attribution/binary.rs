//! The attribution's events from the kernel's binary trace records: the same [`Event`]s the
//! text reader parses from `trace_pipe` lines ([`super::parse_line`]), from the fields the
//! events' formats name.
//!
//! Two things the text has and a record has not: the current task's command (the text
//! takes it from the kernel's `saved_cmdlines`; here it comes from the scheduler's switches
//! and, for a task not seen switching yet, `/proc/<pid>/comm`), and the names of functions
//! (hrtimer callbacks, NMI handlers), which a record holds as addresses: they are named
//! [`kallsyms::address_name`] here and resolved when the result is made
//! ([`super::Live::result`]).

use std::collections::HashMap;

use anyhow::Result;

use super::{Event, Kind};
use crate::platform::kallsyms;
use crate::platform::trace_raw::{Field, Format, Record};
use crate::results::attribution::Class;

/// What one event id means, with the fields it needs.
#[derive(Clone, Debug)]
enum Known {
    IrqEntry {
        irq: Field,
        name: Field,
    },
    SoftirqEntry {
        vec: Field,
        format: Box<Format>,
    },
    TimerEntry {
        function: Field,
    },
    Nmi {
        handler: Field,
        delta_ns: Field,
    },
    Switch {
        prev: (Field, Field),
        next: (Field, Field),
    },
    Enter(Class, String),
    Exit(Class),
}

/// Decodes records of the events the attribution enabled.
#[derive(Debug)]
pub struct Decode {
    by_id: HashMap<u16, Known>,
    pid: Option<Field>,
    comms: HashMap<u32, String>,
}

impl Decode {
    /// For the events of `formats` (the instance's enabled events).
    pub fn new(formats: &[Format]) -> Result<Decode> {
        let mut by_id = HashMap::new();
        let mut pid = None;
        for f in formats {
            pid = pid.or_else(|| f.field("common_pid").cloned());
            let known = match (f.system.as_str(), f.name.as_str()) {
                ("irq", "irq_handler_entry") => Known::IrqEntry {
                    irq: f.need("irq")?,
                    name: f.need("name")?,
                },
                ("irq", "irq_handler_exit") => Known::Exit(Class::Irq),
                ("irq", "softirq_entry") => Known::SoftirqEntry {
                    vec: f.need("vec")?,
                    format: Box::new(f.clone()),
                },
                ("irq", "softirq_exit") => Known::Exit(Class::Softirq),
                ("timer", "hrtimer_expire_entry") => Known::TimerEntry {
                    function: f.need("function")?,
                },
                ("timer", "hrtimer_expire_exit") => Known::Exit(Class::Timer),
                ("nmi", "nmi_handler") => Known::Nmi {
                    handler: f.need("handler")?,
                    delta_ns: f.need("delta_ns")?,
                },
                ("sched", "sched_switch") => Known::Switch {
                    prev: (f.need("prev_comm")?, f.need("prev_pid")?),
                    next: (f.need("next_comm")?, f.need("next_pid")?),
                },
                ("irq_vectors", name) => match name.strip_suffix("_entry") {
                    Some(v) => Known::Enter(Class::Vector, v.to_string()),
                    None if name.ends_with("_exit") => Known::Exit(Class::Vector),
                    None => continue,
                },
                _ => continue,
            };
            by_id.insert(f.id, known);
        }
        Ok(Decode {
            by_id,
            pid,
            comms: HashMap::new(),
        })
    }

    /// The command of `pid`: as the scheduler last named it, else /proc's.
    fn comm(&mut self, pid: u32) -> String {
        self.comms
            .entry(pid)
            .or_insert_with(|| {
                if pid == 0 {
                    return "<idle>".to_string();
                }
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map(|c| c.trim_end().to_string())
                    .unwrap_or_else(|_| "<...>".to_string())
            })
            .clone()
    }

    /// The event a record is, or None for records this module does not use.
    pub fn event(&mut self, r: &Record) -> Option<Event> {
        let known = self.by_id.get(&r.id()?)?.clone();
        let pid = r.int(self.pid.as_ref()?)? as u32;
        let str_of = |f: &Field| r.str(f).unwrap_or("").to_string();
        let kind = match known {
            Known::IrqEntry { irq, name } => Kind::Enter(
                Class::Irq,
                format!("{} (irq {})", str_of(&name), r.int(&irq)?),
            ),
            Known::SoftirqEntry { vec, format } => {
                let v = r.uint(&vec)?;
                let name = format
                    .symbol("vec", v)
                    .map_or_else(|| v.to_string(), str::to_string);
                Kind::Enter(Class::Softirq, name)
            }
            Known::TimerEntry { function } => {
                Kind::Enter(Class::Timer, kallsyms::address_name(r.uint(&function)?))
            }
            Known::Nmi { handler, delta_ns } => Kind::Nmi {
                name: kallsyms::address_name(r.uint(&handler)?),
                delta_ns: r.int(&delta_ns)?.max(0) as u64,
            },
            Known::Switch { prev, next } => {
                let next_pid = r.int(&next.1)? as u32;
                let next_comm = str_of(&next.0);
                self.comms.insert(r.int(&prev.1)? as u32, str_of(&prev.0));
                self.comms.insert(next_pid, next_comm.clone());
                Kind::Switch {
                    next_pid,
                    next_comm,
                }
            }
            Known::Enter(class, name) => Kind::Enter(class, name),
            Known::Exit(class) => Kind::Exit(class),
        };
        Some(Event {
            ts: r.ts,
            pid,
            comm: self.comm(pid),
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::trace_raw::{Decoder, Item};
    use std::path::Path;

    /// The recorded fixture, decoded here and parsed from the kernel's text: the same
    /// events, the tasks' commands aside (the text's come from saved_cmdlines).
    #[test]
    fn the_same_events_as_the_text_reader() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/trace-raw/attribution");
        let events = dir.join("events");
        let names = [
            "irq/irq_handler_entry",
            "irq/irq_handler_exit",
            "irq/softirq_entry",
            "irq/softirq_exit",
            "sched/sched_switch",
            "nmi/nmi_handler",
            "timer/hrtimer_expire_entry",
            "timer/hrtimer_expire_exit",
            "irq_vectors/local_timer_entry",
            "irq_vectors/local_timer_exit",
            "irq_vectors/reschedule_entry",
            "irq_vectors/reschedule_exit",
            "irq_vectors/call_function_single_entry",
            "irq_vectors/call_function_single_exit",
        ];
        let formats: Vec<Format> = names
            .iter()
            .map(|n| Format::load(&events, n).unwrap())
            .collect();
        let mut decode = Decode::new(&formats).unwrap();
        let decoder = Decoder::load(&events).unwrap();
        let raw = std::fs::read(dir.join("cpu1.raw")).unwrap();
        let mut binary = Vec::new();
        let mut lost = 0;
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| match item {
                    Item::Lost(n) => lost += n,
                    Item::Record(r) => binary.extend(decode.event(&r)),
                })
                .unwrap();
        }
        assert!(lost > 0);
        let text: Vec<Event> = std::fs::read_to_string(dir.join("trace.txt"))
            .unwrap()
            .lines()
            .filter_map(super::super::parse_line)
            .collect();
        assert!(text.len() > 100, "{}", text.len());
        assert_eq!(binary.len(), text.len());
        for (b, t) in binary.iter().zip(&text) {
            assert_eq!((b.ts, b.pid), (t.ts, t.pid));
            match (&b.kind, &t.kind) {
                // The text names the function; the record holds its address.
                (Kind::Enter(Class::Timer, addr), Kind::Enter(Class::Timer, _)) => {
                    assert!(kallsyms::parse_address_name(addr).is_some(), "{addr}")
                }
                _ => assert_eq!(b.kind, t.kind),
            }
        }
        // A switch names both tasks: the next one's command is known from then on.
        let switch = binary
            .iter()
            .find_map(|e| match &e.kind {
                Kind::Switch {
                    next_pid,
                    next_comm,
                } => Some((*next_pid, next_comm.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(decode.comm(switch.0), switch.1);
    }
}
