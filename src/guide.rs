//! The guides from `docs/`, rendered here so that their examples are
//! doctests: the code a guide shows compiles and runs with the crate it
//! describes.
//!
//! | guide | for |
//! | --- | --- |
//! | [`service_authors`] | minting, verifying and managing tokens in a service; frameworks, CLI clients, logs, errors |
//! | [`store_authors`] | the stores in the crate, the cache, and proving a store of your own |
//! | [`benchmarking`] | running the benches and reading their numbers |
//! | [`reference_server`] | operators of the reference server: options, HTTP contract, commands |
//! | [`scaling`] | the shapes a deployment grows through, what each guarantees as measured, and its flags |

#[doc = include_str!("../docs/service-authors.md")]
pub mod service_authors {}

#[doc = include_str!("../docs/store-authors.md")]
pub mod store_authors {}

#[doc = include_str!("../docs/benchmarking.md")]
pub mod benchmarking {}

#[doc = include_str!("../docs/reference-server.md")]
pub mod reference_server {}

#[doc = include_str!("../docs/scaling.md")]
pub mod scaling {}
