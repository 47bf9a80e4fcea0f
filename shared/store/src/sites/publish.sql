-- Writes the built sites of one consumer batch: one call, one transaction.
--
-- Per agent, in agent order (a fixed lock order, so concurrent batches cannot deadlock):
-- 1. Lock the agent's config row. Every writer of versions takes this lock first, so the next
--    version number is read under it: versions are gapless 1..n and never read-then-written
--    without a lock. (PL/pgSQL, not one SQL statement, for exactly this reason: each statement
--    here takes a fresh snapshot after the lock is granted, so it sees a version another
--    consumer committed while this one waited; a CTE's snapshot would predate the wait.)
-- 2. Insert the next version unless the newest one has the same content_sha256 (a no-op
--    rebuild), was built from the same input (a duplicate job) or from newer input (a slow build
--    must not replace a fresh one).
-- 3. If the config's site_revision is still the one the build read, nothing changed since:
--    clear needs_site_rebuild and set last_built_at. Otherwise leave the flag and make sure a
--    job follows (unless a newer build already published the current input), because the
--    edit's own job may have coalesced into the one being processed.
--
-- Returns one row per agent: the outcome ('created', 'unchanged', 'superseded', 'missing')
-- and the live version afterwards.
CREATE OR REPLACE FUNCTION site_publish(
    p_agent_ids uuid[],
    p_revisions bigint[],
    p_shas bytea[],
    p_documents jsonb[],
    p_htmls text[],
    p_generators text[]
)
RETURNS TABLE (agent_id uuid, outcome text, live_version integer, rebuild_pending boolean)
LANGUAGE plpgsql
AS $$
DECLARE
    v_i integer;
    v_current_revision bigint;
    v_newest_version integer;
    v_newest_sha bytea;
    v_newest_revision bigint;
BEGIN
    FOR v_i IN
        SELECT i FROM generate_subscripts(p_agent_ids, 1) AS i ORDER BY p_agent_ids[i]
    LOOP
        agent_id := p_agent_ids[v_i];

        SELECT c.site_revision INTO v_current_revision
        FROM agent_configs c
        WHERE c.agent_id = p_agent_ids[v_i]
        FOR UPDATE;

        IF NOT FOUND THEN
            outcome := 'missing';
            live_version := NULL;
            rebuild_pending := false;
            RETURN NEXT;
            CONTINUE;
        END IF;

        SELECT d.version, d.content_sha256, d.site_revision
        INTO v_newest_version, v_newest_sha, v_newest_revision
        FROM agent_site_documents d
        WHERE d.agent_id = p_agent_ids[v_i]
        ORDER BY d.version DESC
        LIMIT 1;

        IF v_newest_version IS NOT NULL
           AND (v_newest_sha = p_shas[v_i] OR v_newest_revision = p_revisions[v_i]) THEN
            -- Same content, or the same input already published: a writer that is not
            -- deterministic (the AI writer) must not turn a duplicate job into a version.
            outcome := 'unchanged';
            live_version := v_newest_version;
        ELSIF v_newest_revision IS NOT NULL AND v_newest_revision > p_revisions[v_i] THEN
            outcome := 'superseded';
            live_version := v_newest_version;
        ELSE
            live_version := coalesce(v_newest_version, 0) + 1;
            INSERT INTO agent_site_documents
                (agent_id, version, content_sha256, document, html, generator, site_revision)
            VALUES (p_agent_ids[v_i], live_version, p_shas[v_i], p_documents[v_i], p_htmls[v_i],
                    p_generators[v_i], p_revisions[v_i]);
            outcome := 'created';
        END IF;

        IF v_current_revision = p_revisions[v_i] THEN
            UPDATE agent_configs c
            SET needs_site_rebuild = false, last_built_at = now()
            WHERE c.agent_id = p_agent_ids[v_i];
            rebuild_pending := false;
        ELSIF coalesce(v_newest_revision, -1) >= v_current_revision THEN
            -- Another build already published the current input.
            rebuild_pending := false;
        ELSE
            PERFORM enqueue_site_rebuilds(ARRAY[p_agent_ids[v_i]], 'input_changed_during_build');
            rebuild_pending := true;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
