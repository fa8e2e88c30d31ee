//! The paper's load VMs: `load cpu` (an endless busy loop) and `load memory` (memcpy of a
//! buffer back and forth, over and over: by default twice the last-level cache, see
//! [`size`]; the paper's was 9 MB). Ordinary SCHED_OTHER threads; they end after
//! `--duration` (default: never) or on SIGINT/SIGTERM.

pub mod inject;
pub mod size;

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};

use crate::options::{Cpu, MemorySize, Until};
use crate::platform::rt;
pub use crate::results::run::LoadStats;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub kind: Kind,
}

#[derive(Debug, Subcommand)]
pub enum Kind {
    /// Burn a CPU in a busy loop.
    Cpu(Common),
    /// Copy a buffer back and forth in a loop (default: twice the last-level cache, capped
    /// so both buffers fit in half the available memory; the paper copied 9 MB).
    Memory {
        #[command(flatten)]
        common: Common,
        /// Buffer size: auto, or KiB, MiB, GiB (powers of 1024), kB, MB, GB (powers of 1000;
        /// 9MiB = 9437184 bytes, 9MB = 9000000 bytes, the paper's); a bare number is bytes.
        #[arg(long, default_value = "auto", value_parser = MemorySize::parse)]
        size: MemorySize,
    },
}

#[derive(Clone, Debug, ClapArgs)]
pub struct Common {
    /// Pin the load to this CPU (default: let the scheduler choose).
    #[arg(long, value_parser = Cpu::parse)]
    pub cpu: Option<Cpu>,
    /// How long to run (e.g. 10m; default forever).
    #[arg(long, default_value = "forever", value_parser = Until::parse)]
    pub duration: Until,
}

/// What kind of load to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadKind {
    Cpu,
    Memory { size: u64 },
}

pub fn generate(kind: LoadKind, cpu: Option<usize>, limit: Option<Duration>) -> Result<LoadStats> {
    if let Some(c) = cpu {
        rt::pin_current_thread(c)?;
    }
    let start = Instant::now();
    let over =
        |start: &Instant| rt::stop_requested() || limit.is_some_and(|l| start.elapsed() >= l);
    let mut stats = LoadStats::default();
    match kind {
        LoadKind::Cpu => {
            while !over(&start) {
                let mut x = 0u64;
                for i in 0..1_000_000u64 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                stats.rounds += 1;
            }
        }
        LoadKind::Memory { size } => {
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            let mut a = vec![0x5au8; size];
            let mut b = vec![0xa5u8; size];
            while !over(&start) {
                b.copy_from_slice(std::hint::black_box(&a));
                a.copy_from_slice(std::hint::black_box(&b));
                stats.rounds += 2;
                stats.bytes_copied += 2 * size as u64;
            }
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

/// `rust-bench load cpu|memory`.
pub fn main(args: Args) -> Result<()> {
    rt::install_stop_handler();
    let (kind, common) = match args.kind {
        Kind::Cpu(c) => (LoadKind::Cpu, c),
        Kind::Memory { common, size } => {
            let chosen = size::choose(size.fixed());
            eprintln!("rust-bench: {}", size::describe(&chosen));
            (
                LoadKind::Memory {
                    size: chosen.size_bytes,
                },
                common,
            )
        }
    };
    let cpu = common.cpu.map(|c| c.0);
    if let Some(c) = cpu {
        rt::check_cpu(c)?;
    }
    let what = match kind {
        LoadKind::Cpu => "cpu".to_string(),
        LoadKind::Memory { size } => format!("memory ({size} bytes copied back and forth)"),
    };
    let until = common
        .duration
        .0
        .map(|d| format!("for {d:?}"))
        .unwrap_or_else(|| "until stopped".into());
    eprintln!("rust-bench: load {what} {until}");
    let stats = generate(kind, cpu, common.duration.0)?;
    println!(
        "load: {:.1} s, {} rounds, {:.1} GiB copied",
        stats.seconds,
        stats.rounds,
        stats.bytes_copied as f64 / (1u64 << 30) as f64
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_loads() {
        let c = generate(LoadKind::Cpu, None, Some(Duration::from_millis(30))).unwrap();
        assert!(c.rounds > 0 && c.seconds >= 0.03);
        let m = generate(
            LoadKind::Memory { size: 1 << 20 },
            None,
            Some(Duration::from_millis(30)),
        )
        .unwrap();
        assert!(m.rounds >= 2 && m.bytes_copied == m.rounds * (1 << 20));
    }
}
