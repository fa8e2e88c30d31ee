//! The results: what a test records (histograms, summaries) and how result files are written.

pub mod histogram;
pub mod stats;
pub mod writer;
