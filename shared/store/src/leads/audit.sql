-- A lead's audit rows go with the lead: erasing a person erases what we logged about them.
CREATE OR REPLACE FUNCTION delete_lead_audit_logs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_logs WHERE entity_type = 'lead' AND entity_id = OLD.id;
    RETURN OLD;
END;
$$;
