//! Helpers for the end-to-end tests under `tests/tests/`.
//!
//! - [`moto`]: a real SQS-compatible server (moto's, from PyPI) on a free loopback port, one per
//!   test, stopped when dropped.

pub mod moto;
