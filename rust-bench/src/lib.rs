//! rust-bench: the hvrt latency suite.
//!
//! Measures what Fayyad-Kazan, Perneel and Timmerman measured on Hyper-V in 2013 (clock tick
//! processing duration, thread switch latency), runs the appliance's plan, and turns results
//! into the paper's tables and figures.
//!
//! The layers, from the machine up:
//! - [`platform`]: the TSC and clocks, scheduling, CPU affinity, memory locking, RT throttling,
//!   the environment a run records. The unsafe code lives here.
//! - [`measure`]: the measuring loops of each test.
//! - [`results`]: the results files, their types and how they are written.
//! - [`plan`]: the plan file (bench.conf), the options' types shared with the tests' flags,
//!   and the plan's execution (`rust-bench run`).
//! - [`load`]: load generators (load VMs, injected interference).
//! - [`pull`]: copying results out of a disk image.
//! - [`figures`]: the SVG figures of a result (drawn for `--out`, a run, and the report).
//! - [`report`]: tables and pages from result directories.
//!
//! [`cli`] is the command line; `main.rs` parses it and dispatches.

pub mod cli;
pub mod command;
pub mod error;
pub mod figures;
pub mod load;
pub mod measure;
pub mod options;
pub mod plan;
pub mod platform;
pub mod pull;
pub mod report;
pub mod results;
pub mod suite;
