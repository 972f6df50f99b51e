-- Routing's "past completion time on that task type": the done steps of a task type, recent
-- first, joined to their time entries by `time_entries_by_step`.
create index workflow_steps_done_by_task_type on workflow_steps (organization_id, task_type, completed_at)
    where status = 'done';
