//! The store conformance suite: every case runs against the embedded SQLite adapter and
//! against DynamoDB (Local in CI), so the two are held to the same semantics. The output lists
//! each case twice: `sqlite::<case>` and `dynamodb::<case>`.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

mod cases;
mod model_check;
mod support;

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(crate::support::sqlite().await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(harness) = crate::support::dynamodb().await {
                        crate::cases::$case(harness).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    every_attribute_type_round_trips,
    numbers_come_back_in_canonical_form,
    a_missing_item_reads_as_none,
    put_if_absent_refuses_the_second_writer_and_shows_the_winner,
    a_version_condition_admits_only_the_expected_version,
    comparisons_on_missing_or_mistyped_attributes_are_false,
    begins_with_conditions_match_string_prefixes,
    delete_returns_the_old_item_and_a_failed_condition_keeps_it,
    update_creates_changes_adds_and_removes,
    a_failed_update_condition_changes_nothing,
    adding_to_a_non_number_is_refused,
    key_attributes_cannot_be_updated,
    a_transaction_writes_everything_or_nothing,
    a_cancelled_transaction_names_every_failed_condition,
    a_transaction_may_not_touch_one_item_twice,
    condition_checks_guard_a_transaction,
    sort_keys_order_by_utf8_bytes,
    sort_key_conditions_select_ranges,
    pagination_visits_every_item_once_in_order,
    a_page_that_ends_exactly_at_the_end_has_no_cursor,
    index_queries_follow_the_index_keys_and_skip_items_without_them,
    an_update_moves_an_item_between_index_partitions,
    index_pagination_visits_every_item_once,
    expired_items_are_invisible_to_reads,
    expired_items_count_as_absent_for_conditions_and_updates,
    a_tampered_or_foreign_cursor_is_refused,
    oversized_items_and_bad_numbers_are_refused,
    index_keys_must_be_non_empty_strings,
);
