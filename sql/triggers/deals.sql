create or replace trigger deal_defaults before insert on app.deals
for each row execute function app._tg_deal_defaults();
