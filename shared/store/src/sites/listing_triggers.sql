-- Producer: listings that show on a site were inserted, changed or deleted.
--
-- Statement triggers with transition tables, so an import of thousands of rows makes one
-- set-based call of request_site_rebuilds for all its agents. Only listings a buyer can see
-- (active, under_offer: domain::site::ListingStatus::is_visible) count, and an update counts only
-- when a field the site shows changed (not updated_at), on either side of the change: a listing
-- that becomes sold leaves the site, one that becomes active joins it.
-- (PostgreSQL allows transition tables only on single-event triggers, hence three triggers.)
CREATE OR REPLACE FUNCTION property_listings_site_rebuild() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_agents uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT agent_id) INTO v_agents
        FROM new_rows
        WHERE agent_id IS NOT NULL AND status IN ('active', 'under_offer');
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT agent_id) INTO v_agents
        FROM old_rows
        WHERE agent_id IS NOT NULL AND status IN ('active', 'under_offer');
    ELSE
        SELECT array_agg(DISTINCT affected.agent_id) INTO v_agents
        FROM new_rows n
        JOIN old_rows o ON o.id = n.id
        CROSS JOIN LATERAL (VALUES (o.agent_id), (n.agent_id)) AS affected (agent_id)
        WHERE affected.agent_id IS NOT NULL
          AND (o.status IN ('active', 'under_offer') OR n.status IN ('active', 'under_offer'))
          AND (o.agent_id, o.title, o.status, o.price, o.currency, o.bedrooms, o.bathrooms,
               o.area_sqm, o.address, o.photos, o.url, o.created_at)
              IS DISTINCT FROM
              (n.agent_id, n.title, n.status, n.price, n.currency, n.bedrooms, n.bathrooms,
               n.area_sqm, n.address, n.photos, n.url, n.created_at);
    END IF;

    IF v_agents IS NOT NULL THEN
        PERFORM request_site_rebuilds(v_agents, 'listing_changed');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER property_listings_site_rebuild_insert
    AFTER INSERT ON property_listings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_listings_site_rebuild();
CREATE OR REPLACE TRIGGER property_listings_site_rebuild_update
    AFTER UPDATE ON property_listings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_listings_site_rebuild();
CREATE OR REPLACE TRIGGER property_listings_site_rebuild_delete
    AFTER DELETE ON property_listings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_listings_site_rebuild();
