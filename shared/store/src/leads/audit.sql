-- A lead's audit rows go with the lead: erasing a person erases what we logged about them.
CREATE OR REPLACE FUNCTION delete_lead_audit_logs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_logs WHERE entity_type = 'lead' AND entity_id = OLD.id;
    RETURN OLD;
END;
$$;

-- A workspace's audit rows go with the workspace (audit_logs.workspace_id has no foreign key:
-- migrations/V21__audit_logs_without_workspace_foreign_key.sql says why). One statement per
-- deleting statement, through the transition table, using audit_logs_workspace_created_idx.
CREATE OR REPLACE FUNCTION delete_workspace_audit_logs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_logs a USING deleted_workspaces w WHERE a.workspace_id = w.id;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER delete_workspace_audit_logs AFTER DELETE ON workspaces
    REFERENCING OLD TABLE AS deleted_workspaces
    FOR EACH STATEMENT EXECUTE FUNCTION delete_workspace_audit_logs();
