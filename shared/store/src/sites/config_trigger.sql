-- Producer: an agent's site config was created, changed in a way that shows, or deleted.
--
-- A row trigger BEFORE the write, because the flag and the revision belong on the very row being
-- written (an AFTER trigger would have to update it again). A change to columns that do not show
-- (updated_at, last_built_at, needs_site_rebuild itself, as the consumer writes them) does
-- nothing, so the consumer's own update never triggers another build.
CREATE OR REPLACE FUNCTION agent_configs_site_rebuild() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (OLD.agent_id, OLD.site_slug, OLD.bio, OLD.languages, OLD.areas, OLD.theme,
            OLD.branding, OLD.cta)
           IS NOT DISTINCT FROM
           (NEW.agent_id, NEW.site_slug, NEW.bio, NEW.languages, NEW.areas, NEW.theme,
            NEW.branding, NEW.cta) THEN
        RETURN NEW;
    END IF;

    IF TG_OP = 'DELETE' THEN
        -- Nothing is left to build; the job lets the consumer say so (and an agent deleted
        -- with its config gets no job at all).
        PERFORM enqueue_site_rebuilds(ARRAY[OLD.agent_id], 'agent_config_deleted');
        RETURN OLD;
    END IF;

    NEW.needs_site_rebuild := true;
    IF TG_OP = 'UPDATE' THEN
        NEW.site_revision := OLD.site_revision + 1;
    END IF;
    PERFORM enqueue_site_rebuilds(ARRAY[NEW.agent_id], 'agent_config_changed');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER agent_configs_site_rebuild
    BEFORE INSERT OR UPDATE OR DELETE ON agent_configs
    FOR EACH ROW EXECUTE FUNCTION agent_configs_site_rebuild();
