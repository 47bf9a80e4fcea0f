-- Tenancy enforced by the database, in the Supabase model (issue 14; docs/architecture.md §7.3).
--
-- Roles:
-- * anon, authenticated, service_role: the roles PostgREST uses on Supabase. Created here (NOLOGIN)
--   only when missing: roles are cluster-wide, so a Supabase project already has them and the test
--   cluster has them from the first database migrated (and databases migrate concurrently there).
-- * lead_engine_app: the role the Lambda functions connect as (NOLOGIN here: an operator gives it
--   a password, or grants it to a login role). Not the owner: it reads and writes rows, it cannot
--   change the schema, disable row-level security or read the migration bookkeeping.
-- The migrating role (the owner of every object) keeps bypassing row-level security, as owners
-- do when it is not FORCEd; it is used by migrate and operators only.
--
-- What each role is granted is set-wise in the last function source, security/grants.sql, re-run
-- with every change of the sources; the default privileges below make objects that later
-- migrations create start from the same state (no EXECUTE for PUBLIC, DML and EXECUTE for the
-- functions' role, nothing for anon or authenticated).
--
-- Row-level security is enabled on every table of the schema. The functions' role is admitted to
-- every row by a policy of its own (it scopes by the workspace its credential resolved, §7.3);
-- authenticated is admitted by membership (members.user_id = auth.uid()), read-only: dashboards
-- write through the SECURITY DEFINER RPCs (scoring/overrides.sql), which check the role order.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'lead_engine_app'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database of the cluster created it meanwhile
            END;
        END IF;
    END LOOP;
END
$$;

-- Supabase's auth.uid(): the JWT's subject, as PostgREST exposes the claims. Plain PostgreSQL
-- gets this shim; a Supabase project keeps its own.
DO $$
BEGIN
    IF to_regprocedure('auth.uid()') IS NULL THEN
        CREATE SCHEMA IF NOT EXISTS auth;
        CREATE FUNCTION auth.uid() RETURNS uuid
        LANGUAGE sql STABLE AS $fn$
            SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                            nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
        $fn$;
        REVOKE ALL ON FUNCTION auth.uid() FROM PUBLIC;
        GRANT USAGE ON SCHEMA auth TO authenticated;
        GRANT EXECUTE ON FUNCTION auth.uid() TO authenticated;
    END IF;
END
$$;

-- The policies' helpers. SECURITY DEFINER so that a policy on members can ask about members
-- without recursing into its own policy; each answers only about the caller (auth.uid()). They
-- live in a schema PostgREST does not expose (Supabase exposes public), so they are no RPC.
-- Like attach_updated_at in V1 they stay in a migration: the policies below reference them when
-- they are created.
CREATE SCHEMA private;
REVOKE ALL ON SCHEMA private FROM PUBLIC;

-- The caller's rank in a workspace (member_role_rank: owner 5 … viewer 1), NULL for a
-- non-member.
CREATE FUNCTION private.member_rank(p_workspace_id uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT member_role_rank(m.role) FROM members m
    WHERE m.workspace_id = p_workspace_id AND m.user_id = auth.uid()
$$;

-- Whether the caller sees a lead of a workspace assigned to an agent (NULL: unassigned). Every
-- member sees every lead of the workspace, except that an `agent` sees only the leads assigned to
-- an agent row linked to their member row (agents.member_id) and the unassigned ones.
CREATE FUNCTION private.sees_lead(p_workspace_id uuid, p_assigned_agent_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
        SELECT 1 FROM members m
        WHERE m.workspace_id = p_workspace_id AND m.user_id = auth.uid()
          AND (m.role <> 'agent' OR p_assigned_agent_id IS NULL
               OR EXISTS (SELECT 1 FROM agents a
                          WHERE a.id = p_assigned_agent_id AND a.member_id = m.id)))
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA private FROM PUBLIC;
GRANT USAGE ON SCHEMA private TO authenticated;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA private TO authenticated;

-- Objects the migrating role creates from now on: no EXECUTE for PUBLIC (PostgreSQL's default),
-- nothing for anon or authenticated (Supabase's defaults for public), what the functions' role
-- needs. Per-schema default privileges can only add, so PUBLIC's EXECUTE is revoked globally.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO lead_engine_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO lead_engine_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO lead_engine_app;
GRANT USAGE ON SCHEMA public TO lead_engine_app, authenticated;

-- Every table: row-level security on, and the functions' role admitted to every row.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('refinery_schema_history', 'schema_sources')
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY lead_engine_app ON %s TO lead_engine_app USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
-- The bookkeeping tables too, with no policy: only their owner (migrate) reads them.
ALTER TABLE schema_sources ENABLE ROW LEVEL SECURITY;

-- authenticated: what a dashboard user reads (security/grants.sql grants SELECT on these tables
-- and nothing on api_keys, whatsapp_channels, webhook_events, stripe_pending_events, outbox).
-- By membership:
CREATE POLICY member_reads ON workspaces FOR SELECT TO authenticated
    USING (private.member_rank(id) IS NOT NULL);
CREATE POLICY member_reads ON members FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) IS NOT NULL);
CREATE POLICY member_reads ON agents FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) IS NOT NULL);
CREATE POLICY member_reads ON property_listings FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) IS NOT NULL);
CREATE POLICY member_reads ON task_automation_rules FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) IS NOT NULL);
-- Through their agent (which the caller must be able to read):
CREATE POLICY member_reads ON agent_configs FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM agents a WHERE a.id = agent_id));
CREATE POLICY member_reads ON agent_site_documents FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM agents a WHERE a.id = agent_id));
CREATE POLICY member_reads ON agent_scrape_quotas FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM agents a WHERE a.id = agent_id));
-- Billing, usage and the audit trail: admins and owners (rank 4 and up, as member_role_rank
-- says; the literal, because authenticated may not execute member_role_rank).
CREATE POLICY admin_reads ON workspace_subscriptions FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) >= 4); -- admin or owner
CREATE POLICY admin_reads ON billing_invoices FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) >= 4); -- admin or owner
CREATE POLICY admin_reads ON workspace_usage FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) >= 4); -- admin or owner
CREATE POLICY admin_reads ON ai_usage_logs FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) >= 4); -- admin or owner
CREATE POLICY admin_reads ON audit_logs FOR SELECT TO authenticated
    USING (private.member_rank(workspace_id) >= 4); -- admin or owner
-- The plans on offer are no tenant's data.
CREATE POLICY anyone_reads ON pricing_plans FOR SELECT TO authenticated USING (true);
-- Leads as private.sees_lead says, and everything of a lead with it (the EXISTS runs under the
-- leads policy, so an agent sees the conversations of their own and unassigned leads only).
CREATE POLICY member_reads ON leads FOR SELECT TO authenticated
    USING (private.sees_lead(workspace_id, assigned_agent_id));
CREATE POLICY member_reads ON lead_identities FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON web_sessions FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON whatsapp_sessions FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON voice_sessions FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON social_sessions FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON conversations FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON lead_intents_log FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON lead_stage_changes FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON lead_stage_overrides FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
CREATE POLICY member_reads ON lead_activities FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id));
-- Tasks: a lead's tasks go with the lead; an agent also sees only tasks assigned to them or to
-- no one.
CREATE POLICY member_reads ON tasks FOR SELECT TO authenticated
    USING (private.sees_lead(workspace_id, assigned_agent_id)
           AND (lead_id IS NULL OR EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_id)));

-- The stage-override RPCs take the caller from the JWT now (scoring/overrides.sql): the member
-- argument goes, and the versions that trusted it are dropped. The functions' role keeps an
-- internal pair that trusts its arguments (pin_lead_stage / unpin_lead_stage), scoped by
-- workspace.
DROP FUNCTION IF EXISTS set_lead_stage_override(uuid, text, text, uuid, text);
DROP FUNCTION IF EXISTS clear_lead_stage_override(uuid, uuid, text);
DROP FUNCTION IF EXISTS lock_lead_for_member(uuid, uuid);
