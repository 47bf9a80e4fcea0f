-- Locks a batch of leads for scoring, in id order, so concurrent consumers scoring overlapping
-- batches cannot deadlock. $1 lead ids, $2 their workspace ids (pairs: a job names both, and a
-- lead is only scored in the workspace the job names). FOR NO KEY UPDATE: scoring never changes
-- a lead's key, so inserts that reference the lead (a new message, a session) do not wait for it.
-- Returns the ids locked; the facts are read by the next statement (facts.sql says why).
SELECT l.id
FROM leads l
JOIN (SELECT DISTINCT w.lead_id, w.workspace_id
      FROM unnest($1::uuid[], $2::uuid[]) AS w (lead_id, workspace_id)) w
  ON w.lead_id = l.id AND w.workspace_id = l.workspace_id
ORDER BY l.id
FOR NO KEY UPDATE OF l
