-- Finds a live (not revoked) API key by its SHA-256, with its workspace's default region, and
-- keeps last_used_at current in the same round trip. The timestamp is written at most once a
-- minute per key: a busy key would otherwise turn every request into a write of the same row,
-- and concurrent requests would queue on its row lock. Requests that find the timestamp fresh
-- write nothing.
-- $1: sha256(key) as bytea.
WITH key AS (
    SELECT k.id, k.workspace_id, k.prefix, w.default_region
    FROM api_keys k
    JOIN workspaces w ON w.id = k.workspace_id
    WHERE k.key_sha256 = $1 AND k.revoked_at IS NULL
), touched AS (
    UPDATE api_keys k
    SET last_used_at = now()
    FROM key
    WHERE k.id = key.id
      AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
)
SELECT id, workspace_id, prefix, default_region FROM key
