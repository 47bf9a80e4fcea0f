-- Who may use what (docs/architecture.md §7.3; the roles and policies are
-- migrations/V19__roles_and_row_level_security.sql). Set-wise and idempotent, and the last
-- source, so that after every migrate the privileges are exactly these, whatever the sources
-- before it re-created and whatever a platform granted by default (Supabase grants anon and
-- authenticated everything in public).

-- Nothing for PUBLIC, anon or authenticated, then exactly what each needs.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, anon, authenticated;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, anon, authenticated;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, anon, authenticated;

-- The functions' role: rows of every table and every function, not the schema itself (it owns
-- nothing) nor the migration bookkeeping.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO lead_engine_app;
REVOKE ALL ON TABLE schema_sources FROM lead_engine_app;
DO $$
BEGIN
    IF to_regclass('public.refinery_schema_history') IS NOT NULL THEN
        REVOKE ALL ON TABLE refinery_schema_history FROM lead_engine_app;
    END IF;
END
$$;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO lead_engine_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO lead_engine_app;

-- Dashboard users (the authenticated role of a Supabase client holding the user's JWT): read
-- what a dashboard shows, row-level security deciding which rows; write only through the RPCs.
-- Not api_keys, whatsapp_channels, webhook_events, stripe_pending_events, outbox or the
-- bookkeeping.
GRANT SELECT ON
    workspaces, members, pricing_plans,
    agents, agent_configs, property_listings, agent_site_documents, agent_scrape_quotas,
    ai_usage_logs,
    leads, lead_identities, web_sessions, whatsapp_sessions, voice_sessions, social_sessions,
    conversations, lead_intents_log, lead_stage_changes, lead_stage_overrides, lead_activities,
    unified_leads,
    tasks, task_automation_rules,
    workspace_subscriptions, billing_invoices, workspace_usage,
    audit_logs
TO authenticated;
GRANT EXECUTE ON FUNCTION
    set_lead_stage_override(uuid, text, text, text),
    clear_lead_stage_override(uuid, text)
TO authenticated;
