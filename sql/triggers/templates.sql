-- Templates are checked when they are saved: a token with a filter other than
-- {{ a.b | default: "text" }} is refused (IT005, app._render_check), and so is a
-- variable the template neither declares nor gets from InTime's senders
-- (app._template_known_variables), from an api function or plain DML alike; and so
-- is one that a workflow or campaign sending the template does not give it
-- (app._template_assert_senders: a renamed or re-activated template included).

select app._ensure_trigger(
    p_table => 'app.email_templates',
    p_name => 'email_templates_tokens',
    p_body => 'before insert or update of subject_template, html_template, text_template, '
    || 'variables, slug '
    || 'on %s for each row execute function app._tg_template_tokens('
    || '''subject_template'', ''html_template'', ''text_template'')'
);

select app._ensure_trigger(
    p_table => 'app.notification_templates',
    p_name => 'notification_templates_tokens',
    p_body => 'before insert or update of title_template, message_template, '
    || 'action_url_template, email_subject_template, email_body_template, '
    || 'email_body_text_template, sms_template, push_title_template, push_body_template, '
    || 'variables, slug, is_active on %s for each row execute function app._tg_template_tokens('
    || '''title_template'', ''message_template'', ''action_url_template'', '
    || '''email_subject_template'', ''email_body_template'', ''email_body_text_template'', '
    || '''sms_template'', ''push_title_template'', ''push_body_template'')'
);
