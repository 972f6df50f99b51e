-- Comments can be edited by their author: when the body last changed (null: never edited).
-- `work_item_comments` is under `enable_tenancy()`, which already grants the app role update.
-- `mentions` now holds the members the current body mentions; each is notified once per comment
-- (the notification's dedupe key is the comment), whether the first body or an edit named them.
alter table work_item_comments add column edited_at timestamptz;
