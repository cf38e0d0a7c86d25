-- Hand-offs to clinicians and review deadlines in triage reports; the
-- conversation of every outbound message.

-- `status`: `triaged` (the agent reached a disposition) or
-- `escalated_to_clinician` (a clinician was asked to take over, for
-- `handoff_reason`). `review_due_at`: when a clinician must have reviewed the
-- report — the level's review time after the report was made, or the reply
-- time promised to the patient after the hand-off, whichever is earlier.
ALTER TABLE triage_reports
    ADD COLUMN status TEXT NOT NULL DEFAULT 'triaged'
        CHECK (status IN ('triaged', 'escalated_to_clinician')),
    ADD COLUMN handoff_reason TEXT
        CHECK (handoff_reason IN ('not_understood', 'patient_asked', 'unresolved_doubt')),
    ADD COLUMN review_due_at TIMESTAMPTZ;

-- Reports made before: their level's review time (prompts' clinician SLA).
UPDATE triage_reports SET review_due_at = created_at + make_interval(mins => CASE disposition
    WHEN 'emergency_ambulance' THEN 15 WHEN 'emergency_department' THEN 30
    WHEN 'urgent_24h' THEN 240 WHEN 'routine' THEN 4320 ELSE 10080 END);
ALTER TABLE triage_reports ALTER COLUMN review_due_at SET NOT NULL;

CREATE INDEX triage_reports_work ON triage_reports (status, review_due_at);

-- A reply can go out after the patient started a new conversation (CANCEL,
-- a new problem): the row says which conversation it belongs to.
ALTER TABLE outbox
    ADD COLUMN conversation_id UUID REFERENCES conversations (id) ON DELETE SET NULL;
