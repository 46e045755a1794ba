//! The JSON the reference server and `token import` accept: never panics,
//! and whatever is accepted survives a round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeep::{Route, Scopes, TokenRecord};

fn round_trip<T>(bytes: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        let again: T = serde_json::from_str(&serde_json::to_string(&value).expect("serialise"))
            .expect("what was accepted is accepted again");
        assert_eq!(again, value);
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<Scopes>(bytes);
    round_trip::<Route>(bytes);
    round_trip::<TokenRecord>(bytes);
});
