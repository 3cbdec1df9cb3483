//! The global allocator of every Hindsight binary (the CLI, the desktop app,
//! the benchmark): mimalloc, tuned by [`tune`].
//!
//! Linking this crate installs the allocator; libraries (hindsight-core)
//! never choose one.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's option enum (not named by the
/// bindings).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Call first thing in `main`. Indexing allocates and frees in waves (record
/// batches, checkpoint encodings); by default mimalloc hands freed pages
/// back to the OS after 10 ms and the kernel then zeroes them again on
/// reuse, which measured as a quarter of the build's CPU time. Keeping them
/// trades a little resident memory for that time.
pub fn tune() {
    // SAFETY: sets a process-wide option; valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}
