-- Writes a batch of new scores and stages in one statement. Only leads whose score, breakdown,
-- stage, sub-stage or override changed are passed in, so re-scoring an unchanged lead writes
-- nothing. $1 ids, $2 scores, $3 breakdowns, $4 stages, $5 sub-stages, $6 clear override,
-- $7 stage changed (write an audit row), $8 reason codes, $9 the scoring's "now" (the injected
-- clock: last_scored_at). Audit rows keep the real time they were written.
-- `before` reads the rows as they were: every CTE sees the statement's one snapshot.
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::jsonb[], $4::text[], $5::text[],
                         $6::boolean[], $7::boolean[], $8::text[])
        AS i (lead_id, score, breakdown, stage, sub_stage, clear_override, stage_changed, reason)
), before AS (
    SELECT l.id, l.lead_stage, l.sub_stage, l.lead_score
    FROM leads l JOIN input i ON i.lead_id = l.id
), cleared AS (
    UPDATE lead_stage_overrides o
    SET removed_at = $9, removal_reason = i.reason
    FROM input i
    WHERE o.lead_id = i.lead_id AND i.clear_override AND o.removed_at IS NULL
    RETURNING o.lead_id
), updated AS (
    UPDATE leads l
    SET lead_score = i.score,
        score_breakdown = i.breakdown,
        lead_stage = i.stage,
        sub_stage = i.sub_stage,
        stage_override = l.stage_override AND NOT i.clear_override,
        last_scored_at = $9
    FROM input i
    WHERE l.id = i.lead_id
    RETURNING l.id
), audit AS (
    INSERT INTO lead_stage_changes (lead_id, old_stage, new_stage, old_sub_stage, new_sub_stage,
                                    old_score, new_score, changed_by, reason, is_automatic)
    SELECT b.id, b.lead_stage, i.stage, b.sub_stage, i.sub_stage, b.lead_score, i.score, NULL,
           i.reason, true
    FROM input i JOIN before b ON b.id = i.lead_id
    WHERE i.stage_changed
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) AS updated,
       (SELECT count(*) FROM audit) AS stage_changes,
       (SELECT count(*) FROM cleared) AS overrides_cleared
