-- Foundation: the shared updated_at trigger, plans and tenancy.
--
-- Conventions for every migration in this folder:
-- * Enumerations are text with CHECK constraints (Supabase/PostgREST friendly, cheap to extend).
-- * Every tenant-owned row reaches a workspace through workspace_id, directly or via its parent, so
--   row-level-security policies can be added per table without reshaping anything.
-- * Ids default to gen_random_uuid(); the application may supply UUIDv7 for index locality.
-- * Files are append-only once applied: change the schema with a new file, never by editing one.

-- One trigger function keeps updated_at honest for every table that has the column, so no
-- UPDATE statement in the application has to remember it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Attaches set_updated_at() to a table; called once per table below and in later migrations.
CREATE FUNCTION attach_updated_at(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
        target
    );
END;
$$;

CREATE TABLE pricing_plans (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code               text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name               text NOT NULL,
    stripe_price_id    text UNIQUE,
    price_monthly      numeric(10, 2) CHECK (price_monthly >= 0),
    price_yearly       numeric(10, 2) CHECK (price_yearly >= 0),
    -- NULL means unlimited.
    conversation_limit integer CHECK (conversation_limit >= 0),
    scrape_daily_limit integer NOT NULL DEFAULT 30 CHECK (scrape_daily_limit >= 0),
    features           jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
SELECT attach_updated_at('pricing_plans');

CREATE TABLE workspaces (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Lowercase so URLs and lookups never disagree about case.
    slug               text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The region used to read phone numbers written without a country code.
    default_region     char(2) NOT NULL DEFAULT 'IN' CHECK (default_region ~ '^[A-Z]{2}$'),
    timezone           text NOT NULL DEFAULT 'Asia/Kolkata',
    plan_id            uuid REFERENCES pricing_plans (id) ON DELETE SET NULL,
    stripe_customer_id text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_plan_id_idx ON workspaces (plan_id);
SELECT attach_updated_at('workspaces');

CREATE TABLE members (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The identity provider's user id (Supabase auth.users.id); no FK because that schema is
    -- not ours.
    user_id      uuid,
    email        text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    full_name    text,
    -- Order of authority: owner > admin > member > agent > viewer (see member_role_rank()).
    role         text NOT NULL DEFAULT 'member'
                 CHECK (role IN ('owner', 'admin', 'member', 'agent', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, email),
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX members_user_id_idx ON members (user_id);
SELECT attach_updated_at('members');

-- Role inheritance as data: a member may do what any lower rank may do.
CREATE FUNCTION member_role_rank(role text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE role
        WHEN 'owner' THEN 5 WHEN 'admin' THEN 4 WHEN 'member' THEN 3
        WHEN 'agent' THEN 2 WHEN 'viewer' THEN 1 END
$$;

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Only the SHA-256 of a key is stored: sha256(key::bytea). A leaked table leaks no key.
    key_sha256   bytea NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
    -- The first characters of the key, shown in dashboards so people can tell keys apart.
    prefix       text NOT NULL CHECK (length(prefix) BETWEEN 1 AND 16),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_workspace_id_idx ON api_keys (workspace_id);

CREATE TABLE whatsapp_channels (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id         uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Meta's metadata.phone_number_id: how an inbound webhook finds its workspace.
    phone_number_id      text NOT NULL UNIQUE,
    display_phone_number text,
    waba_id              text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX whatsapp_channels_workspace_id_idx ON whatsapp_channels (workspace_id);
SELECT attach_updated_at('whatsapp_channels');
