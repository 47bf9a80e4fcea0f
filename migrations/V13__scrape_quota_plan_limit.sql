-- Scrape quotas follow the workspace's plan unless a row says otherwise (DESIGN.md section 3,
-- issue 11): a NULL daily_limit means "the plan's scrape_daily_limit", a number is a per-agent
-- override. V2 gave the column DEFAULT 30, so every row created without saying would have
-- pinned 30 forever, whatever plan the workspace moved to.
ALTER TABLE agent_scrape_quotas ALTER COLUMN daily_limit SET DEFAULT NULL;

-- Existing rows: nothing wrote this table before the scrape-quota function, so a 30 here can only
-- have come from the old default, never from someone choosing it. Those rows now follow the plan
-- (whose own default is also 30); any other value was set on purpose and stays an override.
UPDATE agent_scrape_quotas SET daily_limit = NULL WHERE daily_limit = 30;
