//! Token parsing: never panics, and what parses is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeep::Prefix;
use tokenkeep::token::{TokenFormat, parse_any};

fuzz_target!(|text: &str| {
    let format = TokenFormat::new(Prefix::new("tk").expect("prefix"));
    if let Ok(parsed) = format.parse(text) {
        assert_eq!(parsed.prefix(), "tk");
        assert_eq!(text.len(), format.token_len());
        assert!(text.starts_with(parsed.display_prefix()));
        assert_eq!(
            parse_any(text),
            Ok(parsed),
            "a strict parse implies a general one"
        );
    }
    if let Ok(parsed) = parse_any(text) {
        assert!(text.starts_with(parsed.prefix()));
        assert!(text.is_ascii());
    }
});
