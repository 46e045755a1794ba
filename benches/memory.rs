//! Memory per stored token in `MemoryStore`, measured two ways: the bytes
//! the store asked the allocator for (a counting allocator), and the growth
//! of the process's resident set (what the machine actually spends,
//! allocator overhead included).
//!
//! ```sh
//! cargo bench --bench memory            # 1,000,000 tokens
//! TOKENKEEP_BENCH_SIZES=100000 cargo bench --bench memory
//! ```

mod common;

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokenkeep::store::MemoryStore;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Resident memory in bytes, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4_096)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood here.
    let count = std::env::var("TOKENKEEP_BENCH_SIZES")
        .ok()
        .and_then(|sizes| sizes.split(',').next()?.trim().parse().ok())
        .unwrap_or(1_000_000usize);

    let resident_before = resident_bytes();
    let region = Region::new(ALLOCATOR);
    let population = common::population(count, 0);
    let store = MemoryStore::from_records(population.records);
    let change = region.change();
    let resident_after = resident_bytes();

    let held = change.bytes_allocated.saturating_sub(change.bytes_deallocated);
    println!("memory/store: {count} tokens (12-character names, two route scopes)");
    println!("memory/heap-bytes-per-token: {}", held / count);
    if let (Some(before), Some(after)) = (resident_before, resident_after) {
        println!("memory/resident-bytes-per-token: {}", after.saturating_sub(before) / count);
    }
    println!("memory/records: {}", store.len());
    // The part of each token that is the record itself, before its strings
    // and lists, the Arc around it and the two index tables.
    println!("memory/record-inline-bytes: {}", std::mem::size_of::<tokenkeep::TokenRecord>());
}
