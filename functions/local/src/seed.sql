-- The local stack's demo workspace. One statement so it is atomic, and every insert is an upsert
-- on a natural or fixed key so running it at every start changes nothing after the first.
-- $1: SHA-256 of the demo API key, $2: the key's display prefix, $3: WhatsApp phone_number_id.
WITH plan AS (
    INSERT INTO pricing_plans (code, name, price_monthly, price_yearly, conversation_limit, scrape_daily_limit, features)
    VALUES ('starter', 'Starter', 49.00, 490.00, 500, 30, '{"whatsapp": true, "microsite": true}')
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
    RETURNING id
), ws AS (
    INSERT INTO workspaces (id, slug, name, default_region, timezone, plan_id)
    SELECT '00000000-0000-4000-8000-00000000d001', 'demo', 'Demo Realty', 'IN', 'Asia/Kolkata', plan.id FROM plan
    ON CONFLICT (slug) DO UPDATE SET plan_id = EXCLUDED.plan_id
    RETURNING id
), owner AS (
    INSERT INTO members (workspace_id, email, full_name, role)
    SELECT ws.id, 'owner@demo.test', 'Demo Owner', 'owner' FROM ws
    ON CONFLICT (workspace_id, email) DO UPDATE SET role = EXCLUDED.role
    RETURNING id
), key AS (
    INSERT INTO api_keys (workspace_id, key_sha256, prefix, label)
    SELECT ws.id, $1, $2, 'local demo key' FROM ws
    ON CONFLICT (key_sha256) DO NOTHING
), channel AS (
    INSERT INTO whatsapp_channels (workspace_id, phone_number_id, display_phone_number, waba_id)
    SELECT ws.id, $3, '+91 98000 00000', 'demo-waba' FROM ws
    ON CONFLICT (phone_number_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id
), agent AS (
    INSERT INTO agents (id, workspace_id, member_id, name, email, phone_e164)
    SELECT '00000000-0000-4000-8000-00000000a001', ws.id, owner.id, 'Asha Verma', 'asha@demo.test', '+919800000001'
    FROM ws, owner
    ON CONFLICT (id) DO UPDATE SET is_active = true
    RETURNING id
), config AS (
    INSERT INTO agent_configs (agent_id, site_slug, bio, languages, areas, theme, branding, cta)
    SELECT agent.id, 'asha-verma', 'Helping families find homes in Pune since 2012.',
           '{en,hi,mr}', '{Baner,Aundh,Kothrud}', '{"primary": "#0f766e"}',
           '{"logo_url": null}', '{"label": "Book a visit", "action": "whatsapp"}'
    FROM agent
    ON CONFLICT (agent_id) DO NOTHING
), rules AS (
    INSERT INTO task_automation_rules (workspace_id, rule_type)
    SELECT ws.id, 'lead_inactive' FROM ws
    ON CONFLICT (workspace_id, rule_type) DO NOTHING
)
INSERT INTO property_listings (workspace_id, agent_id, external_ref, title, status, price, currency, bedrooms, bathrooms, area_sqm, address, photos)
SELECT ws.id, agent.id, l.external_ref, l.title, 'active', l.price, 'INR', l.bedrooms, l.bathrooms, l.area_sqm, l.address, '[]'
FROM ws, agent, (VALUES
    ('demo-1', '2 BHK with balcony, Baner', 8500000.00, 2, 2.0, 95.0, 'Baner, Pune'),
    ('demo-2', '3 BHK near Aundh IT park', 14200000.00, 3, 3.0, 140.0, 'Aundh, Pune'),
    ('demo-3', 'Studio apartment, Kothrud', 3900000.00, 1, 1.0, 38.0, 'Kothrud, Pune')
) AS l (external_ref, title, price, bedrooms, bathrooms, area_sqm, address)
ON CONFLICT (workspace_id, external_ref) DO NOTHING;
