# ruff: noqa: E501 - node ids and reasons, one per line, as the generator writes them
"""The tests of the SQL suites that do not run on a Citus cluster, each with the reason
(``INTIME_TEST_CITUS=1``, tests/conftest.py; docs/scale-out.md, "The SQL suites on the
cluster"). Written from a run on the cluster of every test (``INTIME_TEST_CITUS=all``) by
``python -m tests.citus_exclusions LOG IDS`` (the run's ``pytest -rfE`` output and the
suites' collected ids), and read by hand:

- "engine gap": a path of the engine that does not run on Citus yet, with the error it
  meets and where (docs/scale-out.md lists them as open work);
- "reads the queue ...": the test's checks assume one node;
- "not diagnosed yet": fails on the cluster, the cause not yet read.
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

_BY_REASON: dict[str, list[str]] = {
    "not diagnosed yet, fails on a cluster with: AssertionError: assert None == 'approval'": [
        "tests/sql/workflows/test_approvals.py::test_a_dotted_condition_locks_its_column",
        "tests/sql/workflows/test_approvals.py::test_a_field_a_condition_step_reads_is_locked",
        "tests/sql/workflows/test_approvals.py::test_a_pending_approval_locks_the_fields_its_condition_reads[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_a_pending_approval_locks_the_fields_its_condition_reads[locking]",
        "tests/sql/workflows/test_approvals.py::test_a_status_change_approval_locks_the_status",
        "tests/sql/workflows/test_approvals.py::test_an_admin_may_cancel_an_approval_keeping_the_change[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_an_admin_may_cancel_an_approval_keeping_the_change[locking]",
        "tests/sql/workflows/test_approvals.py::test_an_approval_cannot_be_delegated_to_whoever_changed_it[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_an_approval_cannot_be_delegated_to_whoever_changed_it[locking]",
        "tests/sql/workflows/test_approvals.py::test_an_owner_with_no_manager_sends_the_approval_to_the_admins",
        "tests/sql/workflows/test_approvals.py::test_cancelling_an_approval_runs_its_undo[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_cancelling_an_approval_runs_its_undo[locking]",
        "tests/sql/workflows/test_approvals.py::test_fields_the_workflow_does_not_read_stay_editable_while_it_waits[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_fields_the_workflow_does_not_read_stay_editable_while_it_waits[locking]",
        "tests/sql/workflows/test_approvals.py::test_the_approver_decides_on_the_value_that_will_stand[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_the_approver_decides_on_the_value_that_will_stand[locking]",
        "tests/sql/workflows/test_approvals.py::test_the_owner_cannot_change_while_a_manager_decides[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_the_owner_cannot_change_while_a_manager_decides[locking]",
        "tests/sql/workflows/test_approvals.py::test_whoever_changed_it_cannot_cancel_the_approval_their_change_started[lock_entity_false]",
        "tests/sql/workflows/test_approvals.py::test_whoever_changed_it_cannot_cancel_the_approval_their_change_started[locking]",
    ],
    "reads the queue of the node it is connected to (the coordinator): on a cluster a trigger's jobs are in the queue of the node that holds the org's shards (docs/scale-out.md, \"The queue: one per node\")": [
        "tests/sql/campaigns/test_on_time.py::test_a_bulk_enrollment_of_a_thousand_contacts_adds_one_wake_up",
        "tests/sql/campaigns/test_on_time.py::test_a_due_wake_up_stays_claimable_while_another_enrollment_is_open",
        "tests/sql/campaigns/test_on_time.py::test_a_step_due_now_gets_a_wake_up_no_tick_can_claim_before_its_rows_are_visible",
        "tests/sql/campaigns/test_on_time.py::test_a_step_due_outside_the_send_window_wakes_at_the_windows_opening",
        "tests/sql/campaigns/test_on_time.py::test_a_step_the_tick_defers_to_the_next_window_wakes_it_then",
        "tests/sql/campaigns/test_on_time.py::test_a_tick_leaving_nothing_due_drops_the_wake_ups_it_saw",
        "tests/sql/campaigns/test_on_time.py::test_a_tick_re_arms_for_a_due_time_it_did_not_write",
        "tests/sql/campaigns/test_on_time.py::test_a_tick_that_leaves_steps_due_arms_no_wake_up_for_later",
        "tests/sql/campaigns/test_on_time.py::test_an_earlier_due_time_moves_the_wake_up_and_a_later_one_adds_no_job",
        "tests/sql/campaigns/test_on_time.py::test_an_enrollment_holds_the_wake_up_not_yet_due_it_relies_on_until_it_commits",
        "tests/sql/campaigns/test_on_time.py::test_completing_a_step_re_arms_the_wake_up_for_the_next_step",
        "tests/sql/campaigns/test_on_time.py::test_enrolling_arms_a_wake_up_at_the_first_steps_due_time",
        "tests/sql/campaigns/test_on_time.py::test_enrolling_into_a_draft_campaign_arms_nothing_until_it_is_activated",
        "tests/sql/campaigns/test_on_time.py::test_one_transaction_enrolling_many_times_adds_one_wake_up",
        "tests/sql/campaigns/test_on_time.py::test_resuming_a_campaign_wakes_the_tick_for_the_steps_due_meanwhile",
        "tests/sql/campaigns/test_on_time.py::test_the_minute_tick_leaves_one_wake_up_when_two_were_queued",
        "tests/sql/campaigns/test_on_time.py::test_the_tick_drops_the_wake_ups_of_rows_it_saw",
        "tests/sql/workflows/test_batches.py::test_a_bulk_start_runs_in_one_batch_with_the_same_timeline",
        "tests/sql/workflows/test_steps.py::test_a_missed_timer_is_caught_by_the_sweeper",
        "tests/sql/workflows/test_triggers.py::test_execution_and_job_commit_with_the_change",
    ],
    "engine gap: complex joins are only supported when all distributed tables are co-located and joined on their distribution c (api.run_executions)": [
        "tests/sql/workflows/test_batches.py::test_a_batch_keeps_the_approval_field_lock_against_its_later_executions",
        "tests/sql/workflows/test_batches.py::test_a_batch_restores_the_sessions_lock_timeout",
        "tests/sql/workflows/test_batches.py::test_a_due_timer_is_picked_by_a_batch",
        "tests/sql/workflows/test_batches.py::test_a_failing_step_in_a_batch_is_retried_like_a_single_run",
        "tests/sql/workflows/test_batches.py::test_a_full_batch_stays_within_the_subtransaction_cache[as a set]",
        "tests/sql/workflows/test_batches.py::test_each_execution_in_a_batch_acts_as_its_own_org",
        "tests/sql/workflows/test_batches.py::test_one_failing_execution_does_not_undo_the_others",
        "tests/sql/workflows/test_batches.py::test_the_batch_path_writes_the_rows_a_single_run_writes",
        "tests/sql/workflows/test_batches.py::test_the_due_pick_reads_the_partial_indexes",
        "tests/sql/workflows/test_set_order.py::test_a_group_whose_change_would_start_a_workflow_runs_one_by_one_once[as a set]",
        "tests/sql/workflows/test_set_order.py::test_an_older_approval_asks_before_a_group_changes_its_field[as a set]",
        "tests/sql/workflows/test_set_order.py::test_concurrent_executions_on_one_entity_run_in_start_order[as a set]",
        "tests/sql/workflows/test_sets.py::test_a_group_runs_each_step_as_one_statement",
        "tests/sql/workflows/test_sets.py::test_a_set_and_one_by_one_leave_the_same_rows[task, field, note]",
        "tests/sql/workflows/test_sets.py::test_a_set_and_one_by_one_leave_the_same_rows[task, field, notification, note]",
        "tests/sql/workflows/test_sets.py::test_a_step_that_would_start_a_workflow_runs_one_by_one_with_its_chain",
        "tests/sql/workflows/test_sets.py::test_a_workflow_with_a_condition_step_is_not_run_as_a_set",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.delegate_approval)": [
        "tests/sql/workflows/test_approval_links.py::test_a_link_is_superseded_when_its_approver_delegated_in_the_app",
        "tests/sql/workflows/test_approval_links.py::test_delegating_through_the_link_hands_it_on_with_a_new_link",
        "tests/sql/workflows/test_approval_links.py::test_delegating_to_the_subject_of_the_request_is_refused",
        "tests/sql/workflows/test_approvals.py::test_a_delegate_gets_a_pending_row_in_the_same_slot",
        "tests/sql/workflows/test_approvals.py::test_a_delegate_is_notified",
        "tests/sql/workflows/test_approvals.py::test_a_delegate_may_approve",
        "tests/sql/workflows/test_approvals.py::test_a_delegator_can_no_longer_act_on_their_row",
        "tests/sql/workflows/test_approvals.py::test_a_delegator_cannot_act_on_the_delegates_row",
        "tests/sql/workflows/test_approvals.py::test_an_approval_cannot_be_delegated_to_its_approver_or_an_outsider",
        "tests/sql/workflows/test_approvals.py::test_the_delegated_row_records_the_delegation",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (app._tg_require_permission)": [
        "tests/sql/campaigns/test_builder.py::test_an_email_template_a_step_uses_can_not_be_deleted",
        "tests/sql/campaigns/test_template_variables.py::test_editing_a_template_a_campaign_sends_to_use_a_campaign_variable_is_accepted",
        "tests/sql/campaigns/test_template_variables.py::test_editing_a_template_a_campaign_step_sends_to_use_a_deal_variable_is_refused",
        "tests/sql/campaigns/test_template_variables.py::test_editing_a_template_no_campaign_sends_may_use_any_known_variable",
        "tests/sql/workflows/test_template_variables.py::test_a_deleted_workflow_does_not_hold_its_template_back",
        "tests/sql/workflows/test_template_variables.py::test_editing_a_template_a_deal_workflow_sends_to_use_a_contact_variable_is_refused",
        "tests/sql/workflows/test_template_variables.py::test_editing_a_template_a_transition_sends_is_checked_too",
        "tests/sql/workflows/test_template_variables.py::test_editing_a_template_no_workflow_sends_may_use_any_known_variable",
        "tests/sql/workflows/test_template_variables.py::test_editing_a_template_to_use_what_the_workflow_gives_is_accepted",
    ],
    "engine gap: could not run distributed query with FOR UPDATE/SHARE commands": [
        "tests/sql/campaigns/test_tick_concurrency.py::test_pausing_a_campaign_during_a_tick_waits_instead_of_deadlocking",
        "tests/sql/campaigns/test_tick_concurrency.py::test_the_due_scan_uses_the_partial_index",
        "tests/sql/workflows/test_batches.py::test_a_batch_skips_an_execution_another_runner_holds",
        "tests/sql/workflows/test_batches.py::test_a_deferred_execution_gets_a_run_job_of_its_own_within_seconds",
        "tests/sql/workflows/test_batches.py::test_an_execution_blocked_on_a_row_lock_is_deferred_not_waited_for",
        "tests/sql/workflows/test_running.py::test_a_runner_killed_mid_run_leaves_the_execution_resumable",
        "tests/sql/workflows/test_running.py::test_a_second_runner_skips_a_locked_execution",
        "tests/sql/workflows/test_set_order.py::test_a_held_row_costs_a_batch_of_groups_about_one_lock_timeout[as a set]",
        "tests/sql/workflows/test_set_order.py::test_a_held_row_costs_a_batch_of_groups_about_one_lock_timeout[one by one]",
    ],
    "engine gap: complex joins are only supported when all distributed tables are co-located and joined on their distribution c (api.list_executions)": [
        "tests/sql/workflows/test_listing.py::test_a_time_alone_pages_before_that_instant",
        "tests/sql/workflows/test_listing.py::test_another_orgs_execution_by_id_is_not_found",
        "tests/sql/workflows/test_listing.py::test_another_orgs_executions_are_invisible",
        "tests/sql/workflows/test_listing.py::test_filters_by_status_workflow_entity_type_and_entity",
        "tests/sql/workflows/test_listing.py::test_keyset_paging_skips_no_row_of_one_instant",
        "tests/sql/workflows/test_listing.py::test_newest_first_with_the_workflow_and_step_counts",
        "tests/sql/workflows/test_listing.py::test_one_execution_by_id_whatever_the_page_size",
        "tests/sql/workflows/test_listing.py::test_the_limit_bounds_the_page",
    ],
    "engine gap: complex joins are only supported when all distributed tables are co-located and joined on their distribution c (api.list_campaigns)": [
        "tests/sql/campaigns/test_listing.py::test_a_member_sees_the_orgs_campaigns",
        "tests/sql/campaigns/test_listing.py::test_another_orgs_campaign_by_id_is_not_found",
        "tests/sql/campaigns/test_listing.py::test_another_orgs_campaigns_are_invisible",
        "tests/sql/campaigns/test_listing.py::test_campaigns_are_listed_newest_first_with_their_steps_and_totals",
        "tests/sql/campaigns/test_listing.py::test_one_campaign_by_id_whatever_the_limit",
        "tests/sql/campaigns/test_listing.py::test_the_limit_bounds_the_list",
        "tests/sql/campaigns/test_listing.py::test_the_status_filter",
    ],
    "engine gap: correlated subqueries are not supported when the FROM clause contains a set returning function (api.check_stream_credentials)": [
        "tests/sql/notifications/test_stream_credentials.py::test_a_check_records_the_tokens_use_at_most_once_a_minute",
        "tests/sql/notifications/test_stream_credentials.py::test_a_failed_check_records_no_use",
        "tests/sql/notifications/test_stream_credentials.py::test_a_live_token_holds_and_a_revoked_one_does_not",
        "tests/sql/notifications/test_stream_credentials.py::test_a_token_named_under_another_org_does_not_hold",
        "tests/sql/notifications/test_stream_credentials.py::test_an_expired_token_does_not_hold",
        "tests/sql/notifications/test_stream_credentials.py::test_no_credentials_is_an_empty_answer",
        "tests/sql/notifications/test_stream_credentials.py::test_the_token_of_a_deactivated_user_does_not_hold",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.authenticate_web_session)": [
        "tests/sql/notifications/test_stream_credentials.py::test_a_check_never_waits_for_a_row_another_transaction_holds",
        "tests/sql/notifications/test_stream_credentials.py::test_a_check_records_the_sessions_last_sight",
        "tests/sql/notifications/test_stream_credentials.py::test_a_session_does_not_hold_once_its_token_is_revoked",
        "tests/sql/notifications/test_stream_credentials.py::test_a_session_named_with_another_token_does_not_hold",
        "tests/sql/notifications/test_stream_credentials.py::test_an_expired_session_does_not_hold",
        "tests/sql/notifications/test_stream_credentials.py::test_an_open_session_holds_and_an_ended_one_does_not",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.pause_execution)": [
        "tests/sql/workflows/test_approvals.py::test_an_approval_decided_while_paused_goes_on_when_resumed",
        "tests/sql/workflows/test_listing.py::test_the_can_flags_agree_with_what_the_control_functions_allow",
        "tests/sql/workflows/test_running.py::test_a_paused_execution_runs_no_step",
        "tests/sql/workflows/test_running.py::test_pause_holds_and_resume_waits_out_the_rest_of_the_timer",
        "tests/sql/workflows/test_steps.py::test_a_webhook_result_reported_while_paused_is_kept",
        "tests/sql/workflows/test_steps.py::test_resume_during_a_retry_backoff_keeps_the_backoff",
    ],
    "engine gap: complex joins are only supported when all distributed tables are co-located and joined on their distribution c": [
        "tests/sql/campaigns/test_send_windows.py::test_a_campaign_not_using_contact_zones_ignores_the_contacts",
        "tests/sql/campaigns/test_send_windows.py::test_a_campaign_using_contact_zones_uses_a_valid_contact_zone",
        "tests/sql/campaigns/test_send_windows.py::test_a_campaign_without_a_contact_uses_its_own_zone",
        "tests/sql/campaigns/test_send_windows.py::test_a_missing_contact_zone_falls_back_to_the_campaigns[None]",
        "tests/sql/campaigns/test_send_windows.py::test_a_missing_contact_zone_falls_back_to_the_campaigns[]",
        "tests/sql/campaigns/test_send_windows.py::test_the_campaign_window_and_days_are_used",
    ],
    "not diagnosed yet, fails on a cluster with: ValueError: not enough values to unpack (expected 1, got 0)": [
        "tests/sql/workflows/test_approval_links.py::test_an_escalation_gets_a_link_and_the_first_decision_supersedes_the_other",
        "tests/sql/workflows/test_approval_links.py::test_get_shows_the_change_that_asked_for_the_approval",
        "tests/sql/workflows/test_approvals.py::test_a_recalled_approval_cannot_be_decided",
        "tests/sql/workflows/test_approvals.py::test_the_escalation_target_is_notified",
        "tests/sql/workflows/test_approvals.py::test_the_escalation_target_may_approve",
        "tests/sql/workflows/test_approvals.py::test_the_fields_stay_locked_after_the_decision_until_the_execution_ends",
    ],
    "engine gap: STABLE functions used in UPDATE queries cannot be called with column references": [
        "tests/sql/campaigns/test_tick_fairness.py::test_a_second_tick_at_once_takes_another_orgs_due_steps",
        "tests/sql/campaigns/test_tick_fairness.py::test_one_tick_resumes_no_more_than_its_batch",
        "tests/sql/campaigns/test_tick_fairness.py::test_the_oldest_due_step_runs_first_whatever_its_orgs_key",
        "tests/sql/workflows/test_batches.py::test_the_sweeper_requeues_executions_whose_wake_up_job_vanished",
        "tests/sql/workflows/test_running.py::test_a_run_that_keeps_failing_is_failed_by_the_sweeper_not_requeued",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.recall_approval)": [
        "tests/sql/workflows/test_approval_links.py::test_a_recalled_approvals_link_is_superseded",
        "tests/sql/workflows/test_approvals.py::test_a_member_who_did_not_start_it_cannot_recall",
        "tests/sql/workflows/test_approvals.py::test_an_admin_recalling_an_approval_counts_as_a_rejection",
        "tests/sql/workflows/test_approvals.py::test_whoever_changed_it_cannot_recall_the_approval_their_change_started",
        "tests/sql/workflows/test_state_machine.py::test_the_requester_may_recall_a_gated_transition",
    ],
    "engine gap: COPY FROM not supported with row-level security": [
        "tests/sql/workflows/test_steps.py::test_round_robin_follows_weights",
        "tests/sql/workflows/test_steps.py::test_round_robin_skips_unavailable_and_out_of_office_users",
        "tests/sql/workflows/test_steps.py::test_round_robin_stays_fair_over_100_assignments",
        "tests/sql/workflows/test_triggers.py::test_bulk_update_of_1000_rows_starts_1000_executions_once_each",
    ],
    "engine gap: non-IMMUTABLE functions are not allowed in CASE or COALESCE statements": [
        "tests/sql/workflows/test_set_order.py::test_a_deferred_timer_is_left_to_its_own_job",
        "tests/sql/workflows/test_set_order.py::test_a_group_never_overtakes_an_older_execution_on_its_entities[as a set]",
        "tests/sql/workflows/test_set_order.py::test_a_group_never_overtakes_an_older_execution_on_its_entities[one by one]",
        "tests/sql/workflows/test_set_order.py::test_the_second_pick_reads_only_the_groups_workflow",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.cancel_execution)": [
        "tests/sql/workflows/test_approvals.py::test_only_an_admin_may_cancel_keeping_the_change",
        "tests/sql/workflows/test_running.py::test_cancel_stops_a_waiting_execution",
        "tests/sql/workflows/test_running.py::test_only_an_admin_or_the_starter_controls_an_execution",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.retry_execution)": [
        "tests/sql/workflows/test_approvals.py::test_retrying_a_rejected_chain_asks_every_approver_again",
        "tests/sql/workflows/test_running.py::test_retry_execution_restarts_from_the_failed_step",
        "tests/sql/workflows/test_running.py::test_retry_of_an_execution_that_did_not_fail_is_refused",
    ],
    "engine gap: failure on connection marked as essential: <node>": [
        "tests/sql/notifications/test_builtin.py::test_1000_tasks_assigned_in_one_update_give_1000_notifications_in_one_pass",
        "tests/sql/notifications/test_builtin.py::test_an_update_of_other_columns_never_reaches_the_sender",
        "tests/sql/notifications/test_builtin.py::test_the_emails_of_a_bulk_assignment_are_queued_in_one_statement",
    ],
    "engine gap: triggers are not supported on distributed tables": [
        "tests/sql/campaigns/test_rules.py::test_a_batch_that_raises_is_rerun_one_at_a_time",
        "tests/sql/campaigns/test_tick_render.py::test_an_enrollment_that_does_not_move_on_gets_no_step",
        "tests/sql/workflows/test_sets.py::test_a_group_with_an_entity_gone_fails_only_that_execution",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert 'pending' == 'completed'": [
        "tests/sql/workflows/test_approvals.py::test_a_slot_nobody_may_fill_rejects_an_all_chain",
        "tests/sql/workflows/test_approvals.py::test_an_approval_only_its_subject_could_decide_is_rejected",
        "tests/sql/workflows/test_definitions.py::test_update_bumps_the_version_and_running_executions_keep_theirs",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert [] == ['completed']": [
        "tests/sql/workflows/test_steps.py::test_send_email_waits_for_the_send_and_resolves_the_lead_contact",
        "tests/sql/workflows/test_triggers.py::test_after_exit_allows_a_new_run_once_the_last_ended",
        "tests/sql/workflows/test_triggers.py::test_an_update_field_step_cannot_refire_its_own_workflow",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.get_approval)": [
        "tests/sql/workflows/test_approval_links.py::test_another_orgs_link_decides_only_that_orgs_approval",
        "tests/sql/workflows/test_approval_links.py::test_get_approval_is_for_the_slot_an_admin_or_the_service",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.get_preferences)": [
        "tests/sql/notifications/test_preferences.py::test_a_new_row_starts_from_what_applied_before",
        "tests/sql/notifications/test_preferences.py::test_defaults_apply_without_any_row",
    ],
    "engine gap: operator does not exist: uuid = boolean": [
        "tests/sql/workflows/test_triggers.py::test_a_changed_condition_reads_the_whole_old_row",
        "tests/sql/workflows/test_triggers.py::test_watched_columns_match_as_the_whole_old_row_does",
    ],
    "engine gap: title_template uses unknown variables: task.title (app._tg_template_tokens)": [
        "tests/sql/workflows/test_set_order.py::test_one_unrenderable_notification_drops_only_its_own[as a set]",
        "tests/sql/workflows/test_set_order.py::test_one_unrenderable_notification_drops_only_its_own[one by one]",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert None == <id>": [
        "tests/sql/workflows/test_approvals.py::test_an_overdue_approval_escalates_to_escalate_to",
        "tests/sql/workflows/test_approvals.py::test_an_overdue_approval_escalates_to_the_approvers_manager_by_default",
    ],
    "engine gap: STABLE functions used in UPDATE queries cannot be called with column references (api.claim_stream_ticket)": [
        "tests/sql/notifications/test_stream_credentials.py::test_a_claimed_ticket_names_the_token_that_made_it",
    ],
    "engine gap: cache lookup failed for type <oid> (api.set_actor)": [
        "tests/sql/workflows/test_listing.py::test_one_execution_by_id_is_a_primary_key_read_even_in_a_generic_plan",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (api.resume_execution)": [
        "tests/sql/workflows/test_running.py::test_resume_of_a_running_execution_is_refused",
    ],
    "engine gap: cannot execute a distributed query from a query on a shard (app._tg_approval_field_lock)": [
        "tests/sql/workflows/test_sets.py::test_an_entity_an_approval_locks_fails_its_step_and_the_others_complete",
    ],
    "engine gap: current transaction is aborted, commands ignored until end of transaction block (api.set_actor)": [
        "tests/sql/workflows/test_listing.py::test_the_hot_path_reads_the_listing_index_in_order",
    ],
    "engine gap: functions used in UPDATE queries on distributed tables must not be VOLATILE": [
        "tests/sql/workflows/test_steps.py::test_a_claim_after_the_webhook_lease_ran_out_sends_the_same_message_again",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: CheckViolation('updated partition constraint for default partition \"workflow_execution_logs_de": [
        "tests/sql/workflows/test_running.py::test_a_log_line_committed_during_maintenance_cannot_break_the_attach",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: Regex pattern did not match.": [
        "tests/sql/workflows/test_template_variables.py::test_an_org_notification_template_a_workflow_sends_must_suit_it",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert 'no escalation target' in 'escalation failed: non-IMMUTABLE functions are not allowed i": [
        "tests/sql/workflows/test_approvals.py::test_an_approver_without_a_manager_is_marked_overdue_only",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert 'pending' == 'expired'": [
        "tests/sql/workflows/test_approval_links.py::test_a_link_expires_after_seven_days",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert 'waiting' == 'completed'": [
        "tests/sql/workflows/test_approvals.py::test_lock_entity_false_leaves_the_entity_unlocked",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert 1 == 2": [
        "tests/sql/workflows/test_approvals.py::test_an_approval_escalates_once",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert ['Deal moved to Proposal'] == ['n0']": [
        "tests/sql/notifications/test_inbox.py::test_archived_notifications_leave_the_inbox",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert [('app.workfl...m11_103840',)] == [('app.workfl...s_<month>',)]": [
        "tests/sql/workflows/test_running.py::test_maintenance_makes_monthly_partitions_ahead",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert set() == {'jsonb_array_elements_text'}": [
        "tests/sql/notifications/test_plan.py::test_the_preference_plan_is_inlined_into_the_senders_query",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert {'_notificati...ication_plan'} == set()": [
        "tests/sql/notifications/test_plan.py::test_a_send_calls_no_preference_function",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert {<id>} == {<id>}": [
        "tests/sql/workflows/test_triggers.py::test_chains_stop_at_the_depth_limit",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: assert {None} == {<id>}": [
        "tests/sql/workflows/test_approvals.py::test_an_overdue_role_slot_escalates_to_the_shared_manager_once",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: the second decision did not wait for the first": [
        "tests/sql/workflows/test_approval_links.py::test_two_connections_deciding_at_once_land_one_decision",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: the second evaluation never waited": [
        "tests/sql/campaigns/test_ab.py::test_concurrent_evaluations_select_once",
    ],
    "not diagnosed yet, fails on a cluster with: AssertionError: the second tick neither waited nor finished": [
        "tests/sql/campaigns/test_tick_concurrency.py::test_two_ticks_at_once_run_each_step_exactly_once",
    ],
    "not diagnosed yet, fails on a cluster with: Failed: DID NOT RAISE InvalidStateError": [
        "tests/sql/workflows/test_sets.py::test_the_matcher_refuses_to_start_a_workflow_while_a_set_runs",
    ],
    "not diagnosed yet, fails on a cluster with: KeyError: <id>": [
        "tests/sql/workflows/test_approvals.py::test_the_original_approver_may_still_decide_after_escalation",
    ],
    'not diagnosed yet, fails on a cluster with: assert \'notifications_seq_key\' in \'[{"Plan": {"Node Type": "Limit", "Parallel Aware": false, "Async Capable": ': [
        "tests/sql/notifications/test_inbox.py::test_the_feed_query_reads_the_seq_index",
    ],
    'not diagnosed yet, fails on a cluster with: assert \'notifications_unread_idx\' in \'[{"Plan": {"Node Type": "Custom Scan", "Custom Plan Provider": "Citus Ad': [
        "tests/sql/notifications/test_inbox.py::test_the_unread_count_uses_the_partial_index",
    ],
    "not diagnosed yet, fails on a cluster with: assert (0, 0) == (3, 3)": [
        "tests/sql/workflows/test_set_order.py::test_a_group_whose_change_would_start_a_workflow_runs_one_by_one_once[one by one]",
    ],
    "not diagnosed yet, fails on a cluster with: assert (0, 1) == (1, 1)": [
        "tests/sql/workflows/test_approvals.py::test_a_members_template_override_cannot_stop_the_sweeper",
    ],
    "not diagnosed yet, fails on a cluster with: assert (31,) == (34,)": [
        "tests/sql/campaigns/test_stats.py::test_archiving_moves_old_logs_and_keeps_the_stats",
    ],
    "not diagnosed yet, fails on a cluster with: assert 0 == 2": [
        "tests/sql/workflows/test_running.py::test_maintenance_moves_rows_from_the_default_partition",
    ],
}


EXCLUDED: dict[str, str] = {
    nodeid: reason for reason, nodeids in _BY_REASON.items() for nodeid in nodeids
}


def reason_for(nodeid: str) -> str | None:
    """Why ``nodeid`` does not run on a cluster, or None when it does."""
    return EXCLUDED.get(nodeid)


QUEUE = (
    "reads the queue of the node it is connected to (the coordinator): on a cluster a "
    "trigger's jobs are in the queue of the node that holds the org's shards "
    '(docs/scale-out.md, "The queue: one per node")'
)


def _reason(body: str) -> str:
    """The reason a failed test's traceback gives."""
    es = [line[4:].strip() for line in body.split("\n") if line.startswith("E   ")]
    err = next((e for e in es if re.search(r"psycopg\.(errors\.)?\w+:", e)), None)
    where = None
    for e in es:
        found = re.search(r'(?:PL/pgSQL|SQL) function "?(app\.|api\.)?([a-z_]+)', e)
        if found:
            where = (found.group(1) or "app.") + found.group(2)
            if where.startswith("api."):
                break
    if err:
        message = re.sub(r"^psycopg\.(errors\.)?\w+: ", "", err)
        message = re.sub(r"_\d{5,}", "", message)  # a shard's suffix
        message = re.sub(r"\S+/run:\d+", "<node>", message)
        message = re.sub(r"type \d+", "type <oid>", message)
        return f"engine gap: {message[:110]}" + (f" ({where})" if where else "")
    if re.search(r"queue\.pgqueuer|\bjobs\(|wake_jobs|_jobs\(|run_due", body):
        return QUEUE
    first = re.sub(
        r"UUID\('[0-9a-f.-]+'\)|\b[0-9a-f]{8}-[0-9a-f-]{27}\b", "<id>", es[0] if es else "?"
    )
    first = re.sub(r"_y\d{4}m\d{2}(_\d+)?", "_<month>", first)
    return f"not diagnosed yet, fails on a cluster with: {first[:110]}"


def main(log_path: str, ids_path: str) -> None:
    """Print ``_BY_REASON`` for a run's log (its FAILED and ERROR lines, whose ids
    ``pytest -rfE`` cuts at a space, are completed from the collected ids)."""
    log = Path(log_path).read_text()
    full = [line.strip() for line in Path(ids_path).read_text().splitlines() if "::" in line]
    ids: list[str] = []
    for cut in re.findall(r"^(?:FAILED|ERROR) (\S+)", log, re.MULTILINE):
        ids.extend([cut] if cut in full else [f for f in full if f.startswith(cut)])
    parts = re.split(r"\n_+ ((?:ERROR at \w+ of )?test_.*?) _+\n", log)
    sections: dict[str, str] = {}
    for i in range(1, len(parts), 2):
        sections.setdefault(re.sub(r"^ERROR at \w+ of ", "", parts[i]), parts[i + 1])
    by_reason: dict[str, set[str]] = collections.defaultdict(set)
    for nodeid in ids:
        reason = _reason(sections.get(nodeid.split("::", 1)[1], ""))
        if "is being accessed by other users" not in reason:  # a teardown's, not the test's
            by_reason[reason].add(nodeid)
    print("_BY_REASON: dict[str, list[str]] = {")
    for reason, nodeids in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"    {reason!r}: [")
        for nodeid in sorted(nodeids):
            print(f"        {nodeid!r},")
        print("    ],")
    print("}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
