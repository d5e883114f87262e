-- Issue 18: the campaign tick's plan as a named row type. app._campaign_run_batch
-- reads the plan (app._campaign_plan_batch) into an array in a statement of its
-- own and writes from the array: on Citus a statement that writes may not call a
-- function that reads the shards (docs/scale-out.md, "SQL shapes"), and an array
-- needs a named element type. The columns are the plan's, in its order.
create type app.campaign_plan_row as (
    org_id uuid,
    id uuid,
    row_ctid tid,
    campaign_id uuid,
    contact_id uuid,
    owner_id uuid,
    email text,
    contact_gone boolean,
    current_step integer,
    next_step_at timestamptz,
    error_count integer,
    local_date date,
    daily_send_limit integer,
    zone text,
    send_window_start time,
    send_window_end time,
    send_days text [],
    open_at timestamptz,
    step_id uuid,
    step_number integer,
    channel text,
    task_config jsonb,
    next_number integer,
    variant text,
    act text,
    pauses boolean,
    due_at timestamptz,
    template_id uuid,
    subject text,
    body_html text,
    body_text text
);
