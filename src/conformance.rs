//! The public conformance suite for [`TokenStore`](crate::store::TokenStore) and
//! [`ManageStore`](crate::store::ManageStore) implementations.
//!
//! Each check is an async function; it panics with a message that names
//! the contract it checks. Each check's rustdoc lists its steps, so you
//! never need to read this file to know what failed. They come in three
//! groups:
//!
//! - **read checks** ([`find_by_hash_answers_exactly_that_record`] and
//!   the others taking a [`Holding`]): what verification and listing read.
//!   They ask for a store holding the records they name, so a verify-only
//!   store that implements [`TokenStore`](crate::store::TokenStore) alone
//!   runs them (`read_only:` below); a writable store runs them too, seeded
//!   through its own primitive and read through its read side only.
//! - **primitive checks** ([`a_change_reads_what_its_scope_covers_and_no_other_owner`]
//!   and the others of `conformance/change.rs`): what
//!   [`ManageStore::change`](crate::store::ManageStore::change) promises, with plans written for the check.
//! - **checks across instances** (those taking [`Instances`]): two
//!   handles on the same data, as two instances of a service hold them.
//!   What one writes, the other reads ([`find_by_hash`](crate::store::TokenStore::find_by_hash)
//!   within [`SEEN_WITHIN`], every other read at once), and names, caps,
//!   uses, the setup claim, last-use notes and the change signal hold
//!   between them.
//! - **rule checks** (the rest): every operation of
//!   [`TokenRules`](crate::rules::TokenRules), alone and under
//!   concurrency, on your store. The rules are the crate's; these prove
//!   your primitive keeps them. Concurrent calls are released together by
//!   a barrier, each on a task of its own.
//!
//! The [`store_conformance_tests!`](crate::store_conformance_tests) macro
//! turns all of them into one `#[tokio::test]` each for a store
//! constructor that receives the test's name:
//!
//! ```ignore
//! // In your crate's tests (needs tokio with `macros` and `rt-multi-thread`):
//! async fn my_store(test: &'static str) -> MyStore {
//!     MyStore::connect_to_a_fresh_schema(test).await
//! }
//! async fn same_schema(test: &'static str, first: &Arc<MyStore>) -> Arc<MyStore> {
//!     Arc::new(MyStore::connect_to_schema(first.schema()).await)
//! }
//! tokenkeep::store_conformance_tests!(my_store, another = same_schema);
//! ```
//!
//! # What the traits leave open, answered
//!
//! - **Must a change lock, or may it retry?** Either. A store that holds a
//!   lock from the read to the commit runs each plan once; one that checks
//!   a version at commit and reads again on a conflict runs a plan as often
//!   as it must. Plans are pure, so both are right.
//! - **Which records does a change read?** What its `ChangeScope` covers:
//!   the owner's records active at its instant (rotated ones in their
//!   grace included) and the ones it names by id or hash, whatever their
//!   state. More of the owner's is fine; another owner's never.
//! - **What does a replace leave alone?** The last use: the stored
//!   `last_used_at` stays, since last-used notes arrive on their own path.
//! - **Is `TokenRecord`'s serde form stable enough to store?** Yes: it is
//!   the export format. A field added later is optional when read, and a
//!   change that breaks it is announced in the changelog with a migration.
//! - **What may a store check?** Only what storage itself knows: that an
//!   inserted id or hash is new, that a replaced record exists, and the
//!   setup marker. Caps, names, rotation and every other rule are the
//!   crate's plans; a store that checks one of its own is wrong the day the
//!   rule changes.
//!
//! Every backend and every layer in this crate runs it, and so does the
//! Redis store in `examples/custom_store.rs`.
//!
//! [`compare_with_floor`] times your store's verification path against the
//! hardware floor, for a first look at its speed.

use std::sync::Arc;

mod across;
mod change;
mod fixtures;
mod floor;
mod owners;
mod read;
mod rules;

pub use across::{
    Instances, SEEN_WITHIN, a_change_through_one_instance_is_seen_through_the_other,
    a_last_use_note_never_undoes_a_change_on_another_instance, every_instance_hears_every_change,
    names_and_caps_hold_across_instances,
    the_setup_claim_has_one_winner_across_instances_and_owners,
    uses_are_consumed_exactly_across_instances,
};
pub use change::{
    a_change_commits_all_its_writes_or_none,
    a_change_reads_what_its_scope_covers_and_no_other_owner, a_guarded_change_is_a_claim,
    changes_of_one_owner_never_interleave, replace_keeps_the_last_use_and_delete_removes,
};
pub use fixtures::{revocation, sample_record};
pub use floor::{FloorComparison, compare_with_floor};
pub use owners::{
    an_owners_budget_is_shared_exactly_across_instances,
    an_owners_budget_is_shared_exactly_by_its_tokens,
};
pub use read::{
    Holding, an_immediate_answer_agrees_with_find_by_hash, custom_secrets_are_never_denied,
    expiring_tokens_are_listed_soonest_first, find_by_hash_answers_exactly_that_record,
    list_filters_by_owner_and_activity, records_round_trip_every_field,
    unknown_hash_and_id_find_nothing,
};
pub use rules::{
    a_cost_of_several_uses_is_taken_whole_or_not_at_all, a_last_use_note_never_undoes_a_change,
    a_name_follows_its_token_through_renames_and_rotations, a_rotation_racing_a_change_carries_it,
    an_owner_with_many_records_is_read_whole, cap_counts_only_active_tokens,
    cap_counts_tokens_in_their_grace_period, cap_holds_under_50_concurrent_inserts,
    concurrent_changes_of_different_fields_all_land, delete_is_visible_at_once,
    duplicate_id_or_hash_is_refused, every_change_moves_the_signal,
    expiring_follows_rotations_and_revokes, export_import_round_trip, last_used_only_moves_forward,
    metadata_is_replaced_and_cleared, names_are_unique_among_an_owners_active_tokens,
    one_name_wins_among_concurrent_inserts, revoke_is_visible_at_once,
    revoke_owner_is_visible_at_once_for_that_owner_only, rotate_revokes_or_keeps_a_grace_period,
    setup_claim_has_one_winner_among_50, setup_claim_refused_once_any_token_was_held,
    setup_claim_succeeds_once, temporary_records_are_never_stored,
    update_is_visible_at_once_and_keeps_names_unique,
    uses_are_consumed_exactly_under_50_concurrent_calls,
};

/// Turns every conformance check into a `#[tokio::test]` for your store.
///
/// `$make_store(test).await` returns a fresh, empty store for the check
/// named `test` (a `&'static str`, handy to namespace keys or schemas);
/// every check runs on it, the read checks through its read side.
/// `another = $open` opens a second handle on the same data, as a second
/// instance of a service would: `$open(test, &store).await` answers it
/// (an `Arc` of the same type; `store` is the `Arc` of the first). The
/// checks across instances ([`Instances`]) write through one handle and
/// read through the other. For a store whose data lives in its handle (an
/// in-process store), pass [`same_handle`]: it has one instance.
///
/// ```ignore
/// async fn my_store(test: &'static str) -> MyStore {
///     MyStore::connect_with_key_prefix(test).await
/// }
/// async fn my_other_instance(test: &'static str, first: &Arc<MyStore>) -> Arc<MyStore> {
///     Arc::new(MyStore::connect_with_key_prefix(first.key_prefix()).await)
/// }
/// tokenkeep::store_conformance_tests!(my_store, another = my_other_instance);
/// ```
///
/// - `teardown = $clean_up`: `$clean_up(test, store).await` runs after each
///   check, passed or failed (`store` is the first handle's `Arc`).
/// - `maybe:` before the constructor: it returns an `Option`, `None` when
///   the backend cannot be reached. That is never a pass: under `CI` (set
///   and not `false`) the test fails; elsewhere it says `SKIPPED` and why
///   on stderr. Make sure `CI` is set wherever a pass must mean it ran.
/// - `read_only:` before the constructor: a verify-only store, which
///   implements [`TokenStore`](crate::store::TokenStore) alone.
///   `$make_store(test, records).await` returns a store that holds
///   `records`; only the read checks run.
///
/// ```ignore
/// tokenkeep::store_conformance_tests!(maybe: my_store, another = my_other_instance, teardown = drop_keys);
/// tokenkeep::store_conformance_tests!(memory_like_store, another = tokenkeep::conformance::same_handle);
/// tokenkeep::store_conformance_tests!(read_only: snapshot_holding);
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    (read_only: $make_store:path $(,)?) => {
        $crate::store_conformance_tests! { @list { tests read_only $make_store; [] } }
    };
    (maybe: $make_store:path, another = $another:path $(, teardown = $teardown:path)? $(,)?) => {
        $crate::store_conformance_tests! {
            @list { tests maybe $make_store, $another; [$($teardown)?] }
        }
    };
    ($make_store:path, another = $another:path $(, teardown = $teardown:path)? $(,)?) => {
        $crate::store_conformance_tests! {
            @list { tests always $make_store, $another; [$($teardown)?] }
        }
    };
    ($(maybe:)? $make_store:path $(, teardown = $teardown:path)? $(,)?) => {
        ::core::compile_error!(
            "store_conformance_tests! needs `another = …`, a way to open a second handle on the \
             same data (`tokenkeep::conformance::same_handle` for an in-process store)"
        );
    };
    // The one list of checks; `conformance::CHECKS` is made from it too, and
    // a test holds it to the check functions.
    (@list { $($args:tt)* }) => {
        $crate::store_conformance_tests! { @with { $($args)* }
            read [
                find_by_hash_answers_exactly_that_record,
                unknown_hash_and_id_find_nothing,
                custom_secrets_are_never_denied,
                an_immediate_answer_agrees_with_find_by_hash,
                records_round_trip_every_field,
                expiring_tokens_are_listed_soonest_first,
                list_filters_by_owner_and_activity,
            ]
            write [
                a_change_reads_what_its_scope_covers_and_no_other_owner,
                a_change_commits_all_its_writes_or_none,
                a_guarded_change_is_a_claim,
                changes_of_one_owner_never_interleave,
                replace_keeps_the_last_use_and_delete_removes,
                duplicate_id_or_hash_is_refused,
                temporary_records_are_never_stored,
                names_are_unique_among_an_owners_active_tokens,
                cap_counts_only_active_tokens,
                cap_counts_tokens_in_their_grace_period,
                an_owner_with_many_records_is_read_whole,
                cap_holds_under_50_concurrent_inserts,
                uses_are_consumed_exactly_under_50_concurrent_calls,
                a_cost_of_several_uses_is_taken_whole_or_not_at_all,
                one_name_wins_among_concurrent_inserts,
                revoke_is_visible_at_once,
                revoke_owner_is_visible_at_once_for_that_owner_only,
                last_used_only_moves_forward,
                a_last_use_note_never_undoes_a_change,
                expiring_follows_rotations_and_revokes,
                a_name_follows_its_token_through_renames_and_rotations,
                metadata_is_replaced_and_cleared,
                setup_claim_succeeds_once,
                setup_claim_has_one_winner_among_50,
                setup_claim_refused_once_any_token_was_held,
                update_is_visible_at_once_and_keeps_names_unique,
                concurrent_changes_of_different_fields_all_land,
                rotate_revokes_or_keeps_a_grace_period,
                a_rotation_racing_a_change_carries_it,
                delete_is_visible_at_once,
                every_change_moves_the_signal,
                export_import_round_trip,
                an_owners_budget_is_shared_exactly_by_its_tokens,
            ]
            across [
                a_change_through_one_instance_is_seen_through_the_other,
                names_and_caps_hold_across_instances,
                the_setup_claim_has_one_winner_across_instances_and_owners,
                uses_are_consumed_exactly_across_instances,
                a_last_use_note_never_undoes_a_change_on_another_instance,
                every_instance_hears_every_change,
                an_owners_budget_is_shared_exactly_across_instances,
            ]
        }
    };
    (@with { names } read [$($read:ident),* $(,)?] write [$($write:ident),* $(,)?]
        across [$($across:ident),* $(,)?]) => {
        &[$(stringify!($read),)* $(stringify!($write),)* $(stringify!($across),)*]
    };
    (@with { tests read_only $make_store:path; [] }
        read [$($read:ident),* $(,)?] write [$($write:ident),* $(,)?]
        across [$($across:ident),* $(,)?]) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $read() {
                let test = stringify!($read);
                let holding = $crate::conformance::Holding::new(move |records| $make_store(test, records));
                $crate::conformance::$read(holding).await;
            }
        )*
    };
    (@with { tests $mode:ident $make_store:path, $another:path; $teardown:tt }
        read [$($read:ident),* $(,)?] write [$($write:ident),* $(,)?]
        across [$($across:ident),* $(,)?]) => {
        $(
            $crate::store_conformance_tests! { @test $mode $make_store; $teardown; $read;
                |test, store| $crate::conformance::Holding::writable(store.clone())
            }
        )*
        $(
            $crate::store_conformance_tests! { @test $mode $make_store; $teardown; $write;
                |test, store| store.clone()
            }
        )*
        $(
            $crate::store_conformance_tests! { @test $mode $make_store; $teardown; $across;
                |test, store| $crate::conformance::Instances::new(
                    store.clone(),
                    $another(test, &store).await,
                )
            }
        )*
    };
    // One check's test: make the store, run the check on what `$input`
    // makes of it, tear down whatever the outcome, then report it.
    (@test $mode:ident $make_store:path; $teardown:tt; $check:ident;
        |$test:ident, $store:ident| $input:expr) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let $test = stringify!($check);
            let Some($store) = $crate::store_conformance_tests!(@make $mode $make_store, $test) else {
                return;
            };
            let $store = ::std::sync::Arc::new($store);
            let input = $input;
            let outcome = $crate::conformance::run_check($crate::conformance::$check(input)).await;
            $crate::store_conformance_tests!(@teardown $teardown $test $store);
            if let ::core::result::Result::Err(panic) = outcome {
                ::std::panic::resume_unwind(panic);
            }
        }
    };
    (@teardown [] $test:ident $store:ident) => {};
    (@teardown [$teardown:path] $test:ident $store:ident) => {
        $teardown($test, $store).await;
    };
    (@make always $make_store:path, $test:expr) => {
        ::core::option::Option::Some($make_store($test).await)
    };
    (@make maybe $make_store:path, $test:expr) => {
        match $make_store($test).await {
            ::core::option::Option::Some(store) => ::core::option::Option::Some(store),
            ::core::option::Option::None => {
                $crate::conformance::unreachable_backend($test);
                ::core::option::Option::None
            }
        }
    };
}

/// The second handle of a store whose data lives in its handle (an
/// in-process store, which one instance holds): the same handle. Pass it as
/// `another` to [`store_conformance_tests!`](crate::store_conformance_tests).
///
/// ```
/// use std::sync::Arc;
/// use tokenkeep::store::MemoryStore;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let other = tokenkeep::conformance::same_handle("check", &store).await;
/// assert!(Arc::ptr_eq(&store, &other));
/// # });
/// ```
pub async fn same_handle<S>(_test: &'static str, store: &Arc<S>) -> Arc<S> {
    Arc::clone(store)
}

/// The name of every check, in the order the macro runs them.
pub const CHECKS: &[&str] = crate::store_conformance_tests! { @list { names } };

/// What a `maybe:` test does when its backend cannot be reached: it fails
/// under `CI`, and elsewhere says it was skipped. Used by
/// [`store_conformance_tests!`](crate::store_conformance_tests).
#[doc(hidden)]
pub fn unreachable_backend(test: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(
        !in_ci,
        "{test}: the store's backend could not be reached, and under CI that is a failure, not a skip"
    );
    eprintln!("SKIPPED {test}: the store's backend could not be reached");
}

/// Runs one check and catches its panic, so the macro's teardown runs
/// whatever the outcome. Used by [`store_conformance_tests!`](crate::store_conformance_tests).
#[doc(hidden)]
pub async fn run_check(
    check: impl std::future::Future<Output = ()>,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use futures_util::FutureExt as _;
    std::panic::AssertUnwindSafe(check).catch_unwind().await
}

#[cfg(test)]
mod tests {
    /// The macro's list and the check functions cannot drift apart: a name
    /// in the list without a function fails to compile, and this finds a
    /// function missing from the list.
    #[test]
    fn every_check_function_is_in_the_list() {
        let sources = [
            include_str!("conformance/across.rs"),
            include_str!("conformance/read.rs"),
            include_str!("conformance/change.rs"),
            include_str!("conformance/rules.rs"),
            include_str!("conformance/owners.rs"),
        ];
        let mut defined: Vec<&str> = sources
            .iter()
            .flat_map(|source| source.lines())
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split('(').next())
            .collect();
        let mut listed = super::CHECKS.to_vec();
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(defined, listed, "every check function runs, once");
    }
}
