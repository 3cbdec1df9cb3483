//! Deterministic log generators for the demo and the benchmarks.

pub mod gen;
