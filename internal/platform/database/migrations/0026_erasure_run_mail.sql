-- Messages to a person about their own request (its receipt and the
-- steps taken on it) that were still waiting for delivery when their
-- erasure removed the rest of their mail. The erasure keeps them so that
-- the person learns their request arrived even when the mail server was
-- slow or down; each goes from the outbox once delivered or given up, and
-- at the latest 7 days after the erasure kept it, and its row here with it.
CREATE TABLE erasure_run_mail (
    run_id     TEXT NOT NULL REFERENCES erasure_runs (id) ON DELETE CASCADE,
    mail_id    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, mail_id)
);
CREATE INDEX erasure_run_mail_mail ON erasure_run_mail (mail_id);
