//! Lifetimes: never panic; what parses is positive and at most 100 years.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeep::Expiry;
use tokenkeep::expiry::parse_duration;
use tokenkeep::time::{Duration, OffsetDateTime};

fuzz_target!(|text: &str| {
    if let Ok(lifetime) = parse_duration(text) {
        assert!(lifetime > Duration::ZERO && lifetime <= Expiry::MAX_LIFETIME);
    }
    if let Ok(expiry) = text.parse::<Expiry>() {
        let _ = expiry.expires_at(OffsetDateTime::UNIX_EPOCH);
        let _ = expiry.to_string();
    }
});
