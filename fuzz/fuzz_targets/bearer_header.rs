//! RFC 6750 header parsing: never panics; a token found is a b64token
//! taken from the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeep::bearer::{BearerError, parse_authorization};

fuzz_target!(|header: &str| {
    match parse_authorization(Some(header)) {
        Ok(token) => {
            assert!(!token.is_empty());
            assert!(header.contains(token));
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
            );
        }
        Err(BearerError::Missing) => panic!("a header was present"),
        Err(_) => {}
    }
});
