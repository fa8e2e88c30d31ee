//! rust-bench: the hvrt latency suite.
//!
//! Measures what Fayyad-Kazan, Perneel and Timmerman measured on Hyper-V in 2013 (clock tick
//! processing duration, thread switch latency), runs the appliance's plan, and turns results
//! into the paper's tables and figures.
//!
//! The layers, bottom to top; a module imports only from the layers below it (doc links may
//! point up, imports do not):
//! - [`error`]: errors and their one-line messages.
//! - [`results`]: the results contract: the results files, their types and how they are
//!   written and read.
//! - [`platform`]: the TSC and clocks, scheduling, CPU affinity, memory locking, RT throttling,
//!   the environment a run records. The unsafe code lives here.
//! - [`figures`]: the SVG figures of a result (drawn for `--out`, a run, and the report).
//! - [`pull`]: copying results out of a disk image.
//! - [`options`]: one type per option and durations, shared by the tests' flags and bench.conf.
//! - [`measure`]: the measuring loops of each test.
//! - [`suite`]: the tests, each as one thing (options, result, summary, report lines).
//! - [`load`]: load generators (load VMs, injected interference).
//! - [`plan`]: the plan file (bench.conf), made of the tests' sections.
//! - [`report`]: tables and pages from result directories.
//! - [`command`]: `rust-bench run`, `mark-failed` and `watchdog`, which use all of the above.
//! - [`cli`]: the command line; `main.rs` parses it and dispatches.

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
