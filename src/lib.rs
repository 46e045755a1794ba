#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bearer;
mod error;
mod hash;
mod token;

pub use bearer::{Challenge, ChallengeError, parse_authorization, parse_authorization_values};
pub use error::{
    BearerError, ConfigError, CustomSecretError, ErrorCode, FormatError, HashParseError, MintError,
};
pub use hash::{MIN_PEPPER_LEN, TokenHash, TokenHasher};
pub use token::{
    DEFAULT_SECRET_BYTES, MAX_CUSTOM_SECRET_LEN, MAX_PREFIX_LEN, MAX_SECRET_BYTES,
    MIN_CUSTOM_SECRET_LEN, MIN_SECRET_BYTES, MintedToken, ParsedToken, Prefix, TokenFormat,
    TokenSecret, parse_any,
};
