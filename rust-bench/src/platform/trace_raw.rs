//! The kernel's trace in its binary form: the pages of `per_cpu/cpuN/trace_pipe_raw`,
//! decoded with the layouts the running kernel publishes, so that no offset is written here
//! for one kernel version:
//! - `events/header_page`: where a page keeps its base timestamp, its `commit` word (the
//!   length of its data, and the flags saying events were lost before it) and its data;
//! - `events/header_event`: the bits of an entry's header (`type_len`, `time_delta`) and the
//!   type values of padding, time extends and absolute time stamps;
//! - `events/<system>/<event>/format`: each event's id and fields (offset, size, sign,
//!   `__data_loc` strings), and the names a `__print_symbolic` gives a field's values.
//!
//! Two values are not published and are the ring buffer's ABI since Linux 2.6.x (as
//! libtraceevent's kbuffer also takes them): the low 27 bits of `commit` are the data's
//! length, bit 31 says events were lost before the page and bit 30 that their count is
//! stored after the data, in a word of `commit`'s size.
//!
//! Copying pages costs the kernel a small fraction of formatting each event as text for
//! `trace_pipe`, and decoding them here a small fraction of parsing that text.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// `commit`: the data's length.
const COMMIT_MASK: u64 = (1 << 27) - 1;
/// `commit`: events were lost before this page.
const MISSED_EVENTS: u64 = 1 << 31;
/// `commit`: their count follows the data.
const MISSED_STORED: u64 = 1 << 30;

/// An absolute time stamp carries the low 59 bits; the rest comes from the time before it.
const TS_MSB: u64 = 0xf8 << 56;

/// Where a page keeps what (`events/header_page`).
#[derive(Clone, Debug, PartialEq)]
pub struct PageLayout {
    timestamp: (usize, usize),
    commit: (usize, usize),
    data: usize,
    /// The page's size: the data's offset plus its size.
    pub page_size: usize,
}

/// One `field:` line: `field: u64 timestamp;` then `offset:0;`, `size:8;`, `signed:0;`, tab-separated.
fn field_line(line: &str) -> Option<(String, usize, usize, bool)> {
    let rest = line.trim().strip_prefix("field:")?;
    let mut parts = rest.split(';').map(str::trim);
    let decl = parts.next()?;
    let mut offset = None;
    let mut size = None;
    let mut signed = false;
    for p in parts {
        if let Some(v) = p.strip_prefix("offset:") {
            offset = v.parse().ok();
        } else if let Some(v) = p.strip_prefix("size:") {
            size = v.parse().ok();
        } else if let Some(v) = p.strip_prefix("signed:") {
            signed = v == "1";
        }
    }
    Some((decl.to_string(), offset?, size?, signed))
}

/// The field's name in a C declaration: `char next_comm[16]` is `next_comm`.
fn decl_name(decl: &str) -> &str {
    let name = decl.rsplit([' ', '*']).next().unwrap_or(decl);
    name.split('[').next().unwrap_or(name)
}

impl PageLayout {
    pub fn parse(text: &str) -> Result<PageLayout> {
        let mut fields = HashMap::new();
        for (decl, offset, size, _) in text.lines().filter_map(field_line) {
            fields.insert(decl_name(&decl).to_string(), (offset, size));
        }
        let get = |name: &str| {
            fields
                .get(name)
                .copied()
                .with_context(|| format!("events/header_page has no '{name}' field: {text}"))
        };
        let (timestamp, commit, (data, data_size)) =
            (get("timestamp")?, get("commit")?, get("data")?);
        if timestamp.1 != 8 || !matches!(commit.1, 4 | 8) || data_size == 0 {
            bail!("events/header_page has a layout this reader does not know: {text}");
        }
        Ok(PageLayout {
            timestamp,
            commit,
            data,
            page_size: data + data_size,
        })
    }
}

/// The bits of an entry's header (`events/header_event`).
#[derive(Clone, Debug, PartialEq)]
pub struct EntryLayout {
    type_len_bits: u32,
    padding: u32,
    time_extend: u32,
    time_stamp: u32,
    max_data: u32,
}

impl EntryLayout {
    pub fn parse(text: &str) -> Result<EntryLayout> {
        let mut bits: Option<u32> = None;
        let mut delta_bits: Option<u32> = None;
        let mut types = HashMap::new();
        let mut max_data = None;
        for line in text.lines().map(str::trim) {
            let Some((key, value)) = line.split_once(':') else {
                if let Some(v) = line.strip_prefix("data max type_len") {
                    max_data = v.trim().trim_start_matches("==").trim().parse().ok();
                }
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if let Some(n) = value.strip_suffix("bits") {
                match key {
                    "type_len" => bits = n.trim().parse().ok(),
                    "time_delta" => delta_bits = n.trim().parse().ok(),
                    _ => {}
                }
            } else if let Some(n) = value.strip_prefix("type ==") {
                types.insert(key.to_string(), n.trim().parse::<u32>().ok());
            }
        }
        let ty = |name: &str| types.get(name).copied().flatten();
        match (
            bits,
            delta_bits,
            ty("padding"),
            ty("time_extend"),
            ty("time_stamp"),
            max_data,
        ) {
            (Some(b), Some(d), Some(padding), Some(time_extend), Some(time_stamp), Some(max))
                if b + d == 32 && b < 32 =>
            {
                Ok(EntryLayout {
                    type_len_bits: b,
                    padding,
                    time_extend,
                    time_stamp,
                    max_data: max,
                })
            }
            _ => bail!("events/header_event has a layout this reader does not know: {text}"),
        }
    }
}

/// One field of an event's record.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
    /// A `__data_loc` (or `__rel_loc`) string: the record holds its offset and length.
    data_loc: Option<Loc>,
    /// A character array (`char name[16]`, or `char buf[]` to the record's end).
    chars: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Loc {
    /// Offset from the record's start.
    Data,
    /// Offset from the end of the field itself.
    Rel,
}

/// An event's layout (`events/<system>/<event>/format`).
#[derive(Clone, Debug, PartialEq)]
pub struct Format {
    pub id: u16,
    pub system: String,
    pub name: String,
    pub fields: Vec<Field>,
    /// The names `__print_symbolic(REC->field, ...)` gives the field's values.
    symbols: HashMap<String, HashMap<u64, String>>,
}

impl Format {
    pub fn parse(system: &str, text: &str) -> Result<Format> {
        let mut name = None;
        let mut id = None;
        let mut fields = Vec::new();
        let mut symbols = HashMap::new();
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("name:") {
                name = Some(n.trim().to_string());
            } else if let Some(n) = line.strip_prefix("ID:") {
                id = n.trim().parse::<u16>().ok();
            } else if let Some((decl, offset, size, signed)) = field_line(line) {
                let data_loc = if decl.starts_with("__data_loc") {
                    Some(Loc::Data)
                } else if decl.starts_with("__rel_loc") {
                    Some(Loc::Rel)
                } else {
                    None
                };
                fields.push(Field {
                    name: decl_name(&decl).to_string(),
                    offset,
                    size,
                    signed,
                    data_loc,
                    chars: decl.starts_with("char ") && decl.contains('['),
                });
            } else if let Some(fmt) = line.strip_prefix("print fmt:") {
                symbols = print_symbolic(fmt);
            }
        }
        let (Some(name), Some(id)) = (name, id) else {
            bail!("an event format without name or ID: {text}");
        };
        Ok(Format {
            id,
            system: system.to_string(),
            name,
            fields,
            symbols,
        })
    }

    /// Read `events/<system>/<event>/format` under `events`.
    pub fn load(events: &Path, event: &str) -> Result<Format> {
        let path = events.join(event).join("format");
        let text = fs::read_to_string(&path)
            .with_context(|| format!("cannot read the event format {}", path.display()))?;
        let system = event.split('/').next().unwrap_or_default();
        Format::parse(system, &text).with_context(|| path.display().to_string())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field `name`, or an error naming the event and the field.
    pub fn need(&self, name: &str) -> Result<Field> {
        self.field(name).cloned().with_context(|| {
            format!(
                "the kernel's {}:{} event has no field '{name}'",
                self.system, self.name
            )
        })
    }

    /// The name `__print_symbolic` gives `value` of `field`.
    pub fn symbol(&self, field: &str, value: u64) -> Option<&str> {
        self.symbols.get(field)?.get(&value).map(String::as_str)
    }
}

/// `__print_symbolic(REC->vec, { 0, "HI" }, { 1, "TIMER" }, ...)` in a print format.
fn print_symbolic(fmt: &str) -> HashMap<String, HashMap<u64, String>> {
    let mut out = HashMap::new();
    for part in fmt.split("__print_symbolic(REC->").skip(1) {
        let Some((field, rest)) = part.split_once(',') else {
            continue;
        };
        let mut values = HashMap::new();
        for pair in rest.split('{').skip(1) {
            let Some((inner, _)) = pair.split_once('}') else {
                break;
            };
            let Some((v, name)) = inner.split_once(',') else {
                continue;
            };
            let v = v.trim();
            let v = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => v.parse().ok(),
            };
            if let Some(v) = v {
                values.insert(v, name.trim().trim_matches('"').to_string());
            }
            if pair.contains(')') {
                break;
            }
        }
        out.insert(field.trim().to_string(), values);
    }
    out
}

/// One record of a page: its time stamp and its bytes (starting with `common_type`).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub ts: u64,
    pub data: &'a [u8],
}

impl<'a> Record<'a> {
    /// The event's id (`common_type`, the first two bytes).
    pub fn id(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.data.get(..2)?.try_into().ok()?))
    }

    /// An integer field, sign-extended when the field is signed.
    pub fn int(&self, f: &Field) -> Option<i64> {
        let b = self.data.get(f.offset..f.offset + f.size)?;
        Some(match (f.size, f.signed) {
            (1, true) => b[0] as i8 as i64,
            (1, false) => b[0] as i64,
            (2, true) => i16::from_ne_bytes(b.try_into().ok()?) as i64,
            (2, false) => u16::from_ne_bytes(b.try_into().ok()?) as i64,
            (4, true) => i32::from_ne_bytes(b.try_into().ok()?) as i64,
            (4, false) => u32::from_ne_bytes(b.try_into().ok()?) as i64,
            (8, _) => i64::from_ne_bytes(b.try_into().ok()?),
            _ => return None,
        })
    }

    /// An unsigned field (the bits of a signed one, as stored).
    pub fn uint(&self, f: &Field) -> Option<u64> {
        self.int(f).map(|v| match f.size {
            8 => v as u64,
            n => (v as u64) & ((1u64 << (8 * n)) - 1),
        })
    }

    /// A string field: a character array up to its NUL, or a `__data_loc` string.
    pub fn str(&self, f: &Field) -> Option<&'a str> {
        let bytes = match f.data_loc {
            Some(loc) => {
                let word =
                    u32::from_ne_bytes(self.data.get(f.offset..f.offset + 4)?.try_into().ok()?);
                let (off, len) = ((word & 0xffff) as usize, (word >> 16) as usize);
                let off = match loc {
                    Loc::Data => off,
                    Loc::Rel => f.offset + f.size + off,
                };
                self.data.get(off..off + len)?
            }
            None if f.chars && f.size == 0 => self.data.get(f.offset..)?,
            None if f.chars => self.data.get(f.offset..f.offset + f.size)?,
            None => return None,
        };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        std::str::from_utf8(&bytes[..end]).ok()
    }
}

/// What a page holds, in order.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// The kernel lost events before what follows: this many, or at least 1 where the
    /// page does not say how many.
    Lost(u64),
    Record(Record<'a>),
}

/// Decodes the pages of one CPU's buffer, in order.
#[derive(Clone, Debug)]
pub struct Decoder {
    page: PageLayout,
    entry: EntryLayout,
}

fn word(page: &[u8], (offset, size): (usize, usize)) -> Option<u64> {
    let b = page.get(offset..offset + size)?;
    Some(match size {
        4 => u32::from_ne_bytes(b.try_into().ok()?) as u64,
        8 => u64::from_ne_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

impl Decoder {
    pub fn new(page: PageLayout, entry: EntryLayout) -> Decoder {
        Decoder { page, entry }
    }

    /// The layouts under `events` (`header_page`, `header_event`).
    pub fn load(events: &Path) -> Result<Decoder> {
        let read = |name: &str| {
            let path = events.join(name);
            read_header(&path).with_context(|| format!("cannot read {}", path.display()))
        };
        Ok(Decoder::new(
            PageLayout::parse(&read("header_page")?)?,
            EntryLayout::parse(&read("header_event")?)?,
        ))
    }

    pub fn page_size(&self) -> usize {
        self.page.page_size
    }

    /// Hand every record of `page` (and a [`Item::Lost`] first where the kernel lost
    /// events before it) to `item`, in order. An error names what is malformed; the items
    /// before it were handed over.
    pub fn page<'a>(&self, page: &'a [u8], item: &mut dyn FnMut(Item<'a>)) -> Result<()> {
        let short = || anyhow::anyhow!("a trace page of {} bytes is too short", page.len());
        let mut ts = word(page, self.page.timestamp).ok_or_else(short)?;
        let commit = word(page, self.page.commit).ok_or_else(short)?;
        let len = (commit & COMMIT_MASK) as usize;
        let data = page
            .get(self.page.data..self.page.data + len)
            .ok_or_else(|| {
                anyhow::anyhow!("a trace page says it holds {len} bytes, more than it has")
            })?;
        if commit & MISSED_EVENTS != 0 {
            let stored = (commit & MISSED_STORED != 0)
                .then(|| word(page, (self.page.data + len, self.page.commit.1)))
                .flatten();
            item(Item::Lost(stored.unwrap_or(1)));
        }
        let e = &self.entry;
        let type_mask = (1u32 << e.type_len_bits) - 1;
        let mut off = 0;
        while off + 4 <= data.len() {
            let header = u32::from_ne_bytes(data[off..off + 4].try_into().unwrap());
            let type_len = header & type_mask;
            let delta = (header >> e.type_len_bits) as u64;
            let array0 = || -> Result<u64> {
                data.get(off + 4..off + 8)
                    .map(|b| u32::from_ne_bytes(b.try_into().unwrap()) as u64)
                    .ok_or_else(|| anyhow::anyhow!("a trace entry at byte {off} is cut off"))
            };
            let (size, record) = if type_len == e.padding {
                if delta == 0 {
                    // The rest of the page is unused.
                    break;
                }
                (4 + array0()? as usize, None)
            } else if type_len == e.time_extend {
                ts += (array0()? << (32 - e.type_len_bits)) + delta;
                (8, None)
            } else if type_len == e.time_stamp {
                let mut abs = (array0()? << (32 - e.type_len_bits)) + delta;
                if ts & TS_MSB != 0 {
                    abs |= ts & TS_MSB;
                    if abs < ts {
                        abs += 1 << 59;
                    }
                }
                ts = abs;
                (8, None)
            } else if type_len == 0 {
                ts += delta;
                let len = array0()? as usize;
                (4 + len, Some((off + 8, len.saturating_sub(4))))
            } else if type_len <= e.max_data {
                ts += delta;
                let len = 4 * type_len as usize;
                (4 + len, Some((off + 4, len)))
            } else {
                bail!("a trace entry at byte {off} has the unknown type {type_len}");
            };
            if let Some((at, len)) = record {
                let bytes = data
                    .get(at..at + len)
                    .ok_or_else(|| anyhow::anyhow!("a trace record at byte {off} is cut off"))?;
                item(Item::Record(Record { ts, data: bytes }));
            }
            off += size;
        }
        Ok(())
    }
}

/// A header file of tracefs, read in one piece: the kernel answers only the first read of
/// `header_page` and `header_event` (a later read at an offset returns nothing), and a
/// small first read, as `read_to_string` makes on a file of size 0, would cut them.
fn read_header(path: &Path) -> std::io::Result<String> {
    let mut buf = vec![0u8; 64 * 1024];
    let n = File::open(path)?.read(&mut buf)?;
    buf.truncate(n);
    String::from_utf8(buf).map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))
}

/// One CPU's `trace_pipe_raw`, read without blocking, whole pages at a time.
#[derive(Debug)]
pub struct RawPipe {
    file: File,
    page_size: usize,
}

impl RawPipe {
    pub fn open(path: &Path, page_size: usize) -> Result<RawPipe> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(RawPipe { file, page_size })
    }

    /// Append the pages the buffer holds now to `pages` (whole pages, each `page_size`
    /// bytes; the last may be one the kernel is still writing, copied as far as it is
    /// committed), at most `max_pages`. Returns how many were read.
    pub fn read_pages(&mut self, pages: &mut Vec<u8>, max_pages: usize) -> Result<usize> {
        let mut n = 0;
        while n < max_pages {
            let at = pages.len();
            pages.resize(at + self.page_size, 0);
            let got = match self.file.read(&mut pages[at..]) {
                Ok(got) => got,
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    pages.truncate(at);
                    continue;
                }
                Err(e) => {
                    pages.truncate(at);
                    if e.kind() == ErrorKind::WouldBlock {
                        break;
                    }
                    return Err(e).context("reading a binary trace");
                }
            };
            if got == 0 {
                pages.truncate(at);
                break;
            }
            n += 1;
        }
        Ok(n)
    }
}

/// The events (`system/event`) a recorded fixture under tests/data/trace-raw has the
/// formats of.
#[cfg(test)]
pub(crate) fn fixture_events(name: &str) -> Vec<String> {
    let events = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/trace-raw")
        .join(name)
        .join("events");
    let mut out = Vec::new();
    for system in fs::read_dir(&events).unwrap().flatten() {
        for event in fs::read_dir(system.path()).into_iter().flatten().flatten() {
            if event.path().join("format").is_file() {
                out.push(format!(
                    "{}/{}",
                    system.file_name().to_string_lossy(),
                    event.file_name().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/trace-raw")
            .join(name)
    }

    /// Every record of a recorded buffer: (ts, system:event, pid, its fields as the text
    /// trace prints the ones compared), and the lost markers as ("LOST", n).
    fn decode(name: &str, events: &[&str]) -> (Vec<(u64, String, i64)>, Vec<u64>) {
        let dir = fixture(name);
        let decoder = Decoder::load(&dir.join("events")).unwrap();
        let formats: HashMap<u16, Format> = events
            .iter()
            .map(|e| {
                let f = Format::load(&dir.join("events"), e).unwrap();
                (f.id, f)
            })
            .collect();
        let raw = fs::read(dir.join("cpu1.raw")).unwrap();
        assert_eq!(raw.len() % decoder.page_size(), 0);
        let mut out = Vec::new();
        let mut lost = Vec::new();
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| match item {
                    Item::Lost(n) => lost.push(n),
                    Item::Record(r) => {
                        let f = &formats[&r.id().unwrap()];
                        let pid = r.int(&f.need("common_pid").unwrap()).unwrap();
                        out.push((r.ts, f.name.clone(), pid));
                    }
                })
                .unwrap();
        }
        (out, lost)
    }

    /// The text trace's (timestamp, event, pid) per line, the timestamp as printed.
    fn text(name: &str) -> Vec<(String, String, i64)> {
        fs::read_to_string(fixture(name).join("trace.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let cpu = l.find(" [0").unwrap();
                let pid = l[..cpu].trim().rsplit_once('-').unwrap().1.parse().unwrap();
                let f: Vec<&str> = l[cpu..].split_whitespace().collect();
                (
                    f[2].trim_end_matches(':').to_string(),
                    f[3].trim_end_matches(':').to_string(),
                    pid,
                )
            })
            .collect()
    }

    #[test]
    fn decodes_recorded_pages_as_the_kernel_printed_them() {
        // x86-tsc: the text trace prints the raw counter.
        let names = fixture_events("attribution");
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(names.len(), 14);
        let (records, lost) = decode("attribution", &names);
        let text = text("attribution");
        assert_eq!(records.len(), text.len());
        for (r, t) in records.iter().zip(&text) {
            assert_eq!((r.0.to_string(), &r.1, r.2), (t.0.clone(), &t.1, t.2));
        }
        // The buffer (8 KiB) was overrun: the first page says how many events were lost.
        let stats = fs::read_to_string(fixture("attribution").join("stats.txt")).unwrap();
        let overrun: u64 = stats
            .lines()
            .find_map(|l| l.strip_prefix("overrun: "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(overrun > 0);
        assert_eq!(lost, vec![overrun]);
    }

    /// The arguments of the text trace's lines of `events` (as `event: args`), the
    /// switches' up to their next_pid.
    fn text_args(name: &str, events: &[&str]) -> Vec<String> {
        fs::read_to_string(fixture(name).join("trace.txt"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                let at = events.iter().find_map(|e| l.find(&format!(" {e}: ")))?;
                let line = l[at + 1..].to_string();
                Some(match line.split_once(" ==> ") {
                    Some((_, next)) => format!(
                        "sched_switch: {}",
                        next.rsplit_once(" next_prio").unwrap().0
                    ),
                    None => line,
                })
            })
            .collect()
    }

    #[test]
    fn decodes_fields_and_symbols() {
        let dir = fixture("attribution").join("events");
        let switch = Format::load(&dir, "sched/sched_switch").unwrap();
        let softirq = Format::load(&dir, "irq/softirq_entry").unwrap();
        assert_eq!(softirq.symbol("vec", 1), Some("TIMER"));
        assert_eq!(softirq.symbol("vec", 9), Some("RCU"));
        let decoder = Decoder::load(&dir).unwrap();
        let raw = fs::read(fixture("attribution").join("cpu1.raw")).unwrap();
        let mut seen = Vec::new();
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| {
                    let Item::Record(r) = item else { return };
                    let id = r.id().unwrap();
                    if id == switch.id {
                        let comm = r.str(&switch.need("next_comm").unwrap()).unwrap();
                        let pid = r.int(&switch.need("next_pid").unwrap()).unwrap();
                        seen.push(format!("sched_switch: next_comm={comm} next_pid={pid}"));
                    } else if id == softirq.id {
                        let v = r.uint(&softirq.need("vec").unwrap()).unwrap();
                        let name = softirq.symbol("vec", v).unwrap();
                        seen.push(format!("softirq_entry: vec={v} [action={name}]"));
                    }
                })
                .unwrap();
        }
        let wanted = text_args("attribution", &["sched_switch", "softirq_entry"]);
        assert!(wanted.len() > 50, "{wanted:?}");
        assert_eq!(seen, wanted);
    }

    #[test]
    fn decodes_long_records_strings_and_time_extends() {
        // mono_raw: ns; the text trace prints microseconds. A record over 112 bytes carries
        // a length word, and 200 ms between writes (more than 2^27 ns) needs time extends:
        // decoded wrongly, the strings or the times would differ from the text's.
        let dir = fixture("marker");
        let print = Format::load(&dir.join("events"), "ftrace/print").unwrap();
        let exec = Format::load(&dir.join("events"), "sched/sched_process_exec").unwrap();
        let decoder = Decoder::load(&dir.join("events")).unwrap();
        let raw = fs::read(dir.join("cpu1.raw")).unwrap();
        let mut seen = Vec::new();
        for page in raw.chunks(decoder.page_size()) {
            decoder
                .page(page, &mut |item| {
                    let Item::Record(r) = item else { return };
                    // The kernel rounds to the microsecond.
                    let us = (r.ts + 500) / 1000;
                    let at = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
                    if r.id() == Some(print.id) {
                        let buf = r.str(&print.need("buf").unwrap()).unwrap();
                        seen.push(format!("{at}: tracing_mark_write: {}", buf.trim_end()));
                    } else {
                        assert_eq!(r.id(), Some(exec.id));
                        let name = r.str(&exec.need("filename").unwrap()).unwrap();
                        let pid = r.int(&exec.need("pid").unwrap()).unwrap();
                        let old = r.int(&exec.need("old_pid").unwrap()).unwrap();
                        seen.push(format!(
                            "{at}: sched_process_exec: filename={name} pid={pid} old_pid={old}"
                        ));
                    }
                })
                .unwrap();
        }
        let text: Vec<String> = fs::read_to_string(dir.join("trace.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.splitn(2, "] ").collect();
                let rest = f[1].trim_start();
                rest.split_once(' ').unwrap().1.trim_start().to_string()
            })
            .collect();
        assert_eq!(
            text.iter()
                .filter(|t| t.contains("tracing_mark_write"))
                .count(),
            8
        );
        assert!(
            text.iter().any(|t| t.contains("sched_process_exec")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.len() > 140), "{text:?}");
        assert_eq!(seen, text);
    }

    #[test]
    fn layouts_come_from_the_kernel_and_surprises_are_refused() {
        let dir = fixture("attribution").join("events");
        let p = PageLayout::parse(&fs::read_to_string(dir.join("header_page")).unwrap()).unwrap();
        assert_eq!((p.data, p.page_size), (16, 4096));
        let e = EntryLayout::parse(&fs::read_to_string(dir.join("header_event")).unwrap()).unwrap();
        assert_eq!(
            (
                e.type_len_bits,
                e.padding,
                e.time_extend,
                e.time_stamp,
                e.max_data
            ),
            (5, 29, 30, 31, 28)
        );
        assert!(
            PageLayout::parse("field: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n").is_err()
        );
        assert!(
            EntryLayout::parse("# compressed entry header\n\ttype_len    :    5 bits\n").is_err()
        );
        let decoder = Decoder::new(p, e);
        // A page whose commit says more than it holds.
        let mut page = vec![0u8; 4096];
        page[8..16].copy_from_slice(&5000u64.to_ne_bytes());
        assert!(decoder.page(&page, &mut |_| {}).is_err());
        // An empty page: nothing.
        page[8..16].copy_from_slice(&0u64.to_ne_bytes());
        let mut n = 0;
        decoder.page(&page, &mut |_| n += 1).unwrap();
        assert_eq!(n, 0);
        // Lost events without a stored count.
        page[8..16].copy_from_slice(&MISSED_EVENTS.to_ne_bytes());
        let mut lost = Vec::new();
        decoder
            .page(&page, &mut |i| {
                if let Item::Lost(n) = i {
                    lost.push(n)
                }
            })
            .unwrap();
        assert_eq!(lost, vec![1]);
    }
}
