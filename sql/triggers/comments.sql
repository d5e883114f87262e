create or replace trigger comment_mentions_insert after insert on app.comments
referencing new table as new_rows
for each statement execute function app._tg_comment_mentions();

create or replace trigger comment_mentions_update after update on app.comments
referencing new table as new_rows
for each statement execute function app._tg_comment_mentions();
