-- Agents, microsites and listings (from AuroApp's Agent Sites).

CREATE TABLE agents (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- A broker may or may not have a dashboard login.
    member_id    uuid REFERENCES members (id) ON DELETE SET NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email        text CHECK (email = lower(email)),
    phone_e164   text CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Lets child rows reference (workspace_id, agent_id) so a lead can never point at an agent
    -- of another workspace.
    UNIQUE (workspace_id, id)
);
CREATE INDEX agents_member_id_idx ON agents (member_id);
SELECT attach_updated_at('agents');

CREATE TABLE agent_configs (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id           uuid NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE,
    site_slug          text NOT NULL UNIQUE CHECK (site_slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    bio                text,
    languages          text[] NOT NULL DEFAULT '{}',
    areas              text[] NOT NULL DEFAULT '{}',
    theme              jsonb NOT NULL DEFAULT '{}'::jsonb,
    branding           jsonb NOT NULL DEFAULT '{}'::jsonb,
    cta                jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Set by any change that should show on the microsite; the site-rebuild consumer clears it.
    needs_site_rebuild boolean NOT NULL DEFAULT true,
    last_built_at      timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_configs_needs_rebuild_idx ON agent_configs (agent_id) WHERE needs_site_rebuild;
SELECT attach_updated_at('agent_configs');

CREATE TABLE property_listings (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id     uuid REFERENCES agents (id) ON DELETE SET NULL,
    -- The listing's id at its source (portal, CRM, scraper) so re-imports update, not duplicate.
    external_ref text,
    title        text NOT NULL,
    status       text NOT NULL DEFAULT 'active'
                 CHECK (status IN ('draft', 'active', 'under_offer', 'sold', 'rented', 'withdrawn')),
    price        numeric(14, 2) CHECK (price >= 0),
    currency     char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    bedrooms     smallint CHECK (bedrooms >= 0),
    bathrooms    numeric(3, 1) CHECK (bathrooms >= 0),
    area_sqm     numeric(10, 2) CHECK (area_sqm > 0),
    address      text,
    photos       jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(photos) = 'array'),
    url          text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, external_ref)
);
CREATE INDEX property_listings_agent_id_idx ON property_listings (agent_id, status);
SELECT attach_updated_at('property_listings');

-- Every rebuild is a new version; the newest is live. Old versions stay for rollback and diffing.
CREATE TABLE agent_site_documents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id       uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version > 0),
    -- Lets a rebuild that would produce the same document skip writing a new version.
    content_sha256 bytea NOT NULL CHECK (length(content_sha256) = 32),
    document       jsonb NOT NULL,
    generator      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agent_id, version)
);

CREATE TABLE agent_scrape_quotas (
    agent_id    uuid PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    -- An explicit per-agent limit. NULL means "the workspace plan's scrape_daily_limit"; the
    -- default 30 applies when a row is created without saying.
    daily_limit integer DEFAULT 30 CHECK (daily_limit >= 0),
    used_today  integer NOT NULL DEFAULT 0 CHECK (used_today >= 0),
    -- When the current window ends; consuming after it restarts the window in the same statement.
    reset_at    timestamptz NOT NULL DEFAULT (date_trunc('day', now()) + interval '1 day'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_scrape_quotas_reset_at_idx ON agent_scrape_quotas (reset_at);
SELECT attach_updated_at('agent_scrape_quotas');

CREATE TABLE ai_usage_logs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id      uuid REFERENCES agents (id) ON DELETE SET NULL,
    operation     text NOT NULL,
    model         text NOT NULL,
    input_tokens  integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    latency_ms    integer CHECK (latency_ms >= 0),
    success       boolean NOT NULL,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_usage_logs_workspace_created_idx ON ai_usage_logs (workspace_id, created_at);
CREATE INDEX ai_usage_logs_agent_id_idx ON ai_usage_logs (agent_id);
