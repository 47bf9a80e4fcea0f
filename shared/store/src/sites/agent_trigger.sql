-- Producer: an agent's name, phone or email changed; all three are printed on the site (the
-- heading, the WhatsApp link, the contact block). A statement trigger with transition tables so
-- a bulk update of agents is one set-based call; other columns (is_active, updated_at) do not
-- show and write nothing.
CREATE OR REPLACE FUNCTION agents_site_rebuild() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_agents uuid[];
BEGIN
    SELECT array_agg(n.id) INTO v_agents
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    WHERE (o.name, o.phone_e164, o.email) IS DISTINCT FROM (n.name, n.phone_e164, n.email);

    IF v_agents IS NOT NULL THEN
        PERFORM request_site_rebuilds(v_agents, 'agent_changed');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER agents_site_rebuild
    AFTER UPDATE ON agents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agents_site_rebuild();
