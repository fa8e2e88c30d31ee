//! The attribution's events from the kernel's binary trace records: the same [`Event`]s the
//! text reader parses from `trace_pipe` lines ([`super::parse_line`]), from the fields the
//! events' formats name.
//!
//! Two things the text has and a record has not: the current task's command (the text
//! takes it from the kernel's `saved_cmdlines`; here it comes from the scheduler's switches
//! and, for a task not seen switching yet, `/proc/<pid>/comm`), and the names of functions
//! (hrtimer callbacks, NMI handlers), which a record holds as addresses: they are named
//! [`kallsyms::address_name`] here and resolved when the result is made
//! ([`super::Tracing::result`]).

use std::collections::HashMap;

use anyhow::Result;

use super::{Event, Kind, Name};
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
    /// The names of the softirqs by vector (`__print_symbolic` of `vec`).
    SoftirqEntry {
        vec: Field,
        names: HashMap<u64, Name>,
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
    Enter(Class, Name),
    Exit(Class),
}

/// Decodes records of the events the attribution enabled.
#[derive(Debug)]
pub struct Decode {
    /// By event id (ids are small numbers).
    by_id: Vec<Option<Known>>,
    pid: Option<Field>,
    comms: HashMap<u32, Name>,
    /// Names made once and shared after (records of a run name the same few handlers
    /// thousands of times): functions by address, device interrupts by number (with the
    /// handler name they were made from).
    functions: HashMap<u64, Name>,
    irqs: HashMap<i64, (Box<str>, Name)>,
    /// The previous record's task: a record of the same task needs no command (the replay
    /// reads it only where the task changes), and gets this empty one.
    last_pid: Option<u32>,
    unnamed: Name,
}

impl Decode {
    /// For the events of `formats` (the instance's enabled events).
    pub fn new(formats: &[Format]) -> Result<Decode> {
        let mut by_id: Vec<Option<Known>> = Vec::new();
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
                    names: (0..64)
                        .filter_map(|v| Some((v, f.symbol("vec", v)?.into())))
                        .collect(),
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
                    Some(v) => Known::Enter(Class::Vector, v.into()),
                    None if name.ends_with("_exit") => Known::Exit(Class::Vector),
                    None => continue,
                },
                _ => continue,
            };
            let id = f.id as usize;
            if by_id.len() <= id {
                by_id.resize(id + 1, None);
            }
            by_id[id] = Some(known);
        }
        Ok(Decode {
            by_id,
            pid,
            comms: HashMap::new(),
            functions: HashMap::new(),
            irqs: HashMap::new(),
            last_pid: None,
            unnamed: "".into(),
        })
    }

    /// The command of `pid`: as the scheduler last named it, else /proc's.
    fn comm(comms: &mut HashMap<u32, Name>, pid: u32) -> Name {
        comms
            .entry(pid)
            .or_insert_with(|| {
                if pid == 0 {
                    return "<idle>".into();
                }
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map_or_else(|_| "<...>".into(), |c| c.trim_end().into())
            })
            .clone()
    }

    /// The event a record is, or None for records this module does not use.
    pub fn event(&mut self, r: &Record) -> Option<Event> {
        let Decode {
            by_id,
            pid: pid_field,
            comms,
            functions,
            irqs,
            last_pid,
            unnamed,
        } = self;
        let known = by_id.get(r.id()? as usize)?.as_ref()?;
        let pid = r.int(pid_field.as_ref()?)? as u32;
        let str_of = |f: &Field| r.str(f).unwrap_or("");
        let kind = match known {
            Known::IrqEntry { irq, name } => {
                let (irq, handler) = (r.int(irq)?, str_of(name));
                let named = match irqs.get(&irq) {
                    Some((h, named)) if **h == *handler => named.clone(),
                    _ => {
                        let named: Name = format!("{handler} (irq {irq})").into();
                        irqs.insert(irq, (handler.into(), named.clone()));
                        named
                    }
                };
                Kind::Enter(Class::Irq, named)
            }
            Known::SoftirqEntry { vec, names } => {
                let v = r.uint(vec)?;
                let name = names.get(&v).cloned();
                Kind::Enter(Class::Softirq, name.unwrap_or_else(|| v.to_string().into()))
            }
            Known::TimerEntry { function } => {
                Kind::Enter(Class::Timer, Decode::function(functions, r.uint(function)?))
            }
            Known::Nmi { handler, delta_ns } => Kind::Nmi {
                name: Decode::function(functions, r.uint(handler)?),
                delta_ns: r.int(delta_ns)?.max(0) as u64,
            },
            Known::Switch { prev, next } => {
                let next_pid = r.int(&next.1)? as u32;
                let next_comm = Decode::named(comms, next_pid, str_of(&next.0));
                Decode::named(comms, r.int(&prev.1)? as u32, str_of(&prev.0));
                Kind::Switch {
                    next_pid,
                    next_comm,
                }
            }
            Known::Enter(class, name) => Kind::Enter(*class, name.clone()),
            Known::Exit(class) => Kind::Exit(*class),
        };
        let comm = if *last_pid == Some(pid) {
            unnamed.clone()
        } else {
            Decode::comm(comms, pid)
        };
        *last_pid = Some(pid);
        Some(Event {
            ts: r.ts,
            pid,
            comm,
            kind,
        })
    }

    /// The name of the function at `addr` (resolved when the result is made).
    fn function(functions: &mut HashMap<u64, Name>, addr: u64) -> Name {
        functions
            .entry(addr)
            .or_insert_with(|| kallsyms::address_name(addr).into())
            .clone()
    }

    /// `pid` is named `comm` now: the name kept for it (made anew only when it changed).
    fn named(comms: &mut HashMap<u32, Name>, pid: u32, comm: &str) -> Name {
        match comms.get(&pid) {
            Some(known) if **known == *comm => known.clone(),
            _ => {
                let name: Name = comm.into();
                comms.insert(pid, name.clone());
                name
            }
        }
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
        let names = crate::platform::trace_raw::fixture_events("attribution");
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
        assert_eq!(Decode::comm(&mut decode.comms, switch.0), switch.1);
    }
}
