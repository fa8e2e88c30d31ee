//! The plan: bench.conf, whose keys are the plan's and the tests' flags, parsed by the flags'
//! own parsers. Above the tests ([`crate::suite`]), whose sections it holds; run by
//! `rust-bench run`.

pub mod config;
