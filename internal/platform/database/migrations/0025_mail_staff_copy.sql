-- The staff copy of each outgoing message: its subject and plain text
-- with every link token, code and quoted meeting content replaced by a
-- placeholder, made when the message is queued. Staff who read a message
-- see this copy and never the message itself, which holds links that act
-- for the recipient. Messages queued before this migration have none, and
-- staff see nothing of their content.
ALTER TABLE mail_outbox ADD COLUMN staff_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN staff_text TEXT NOT NULL DEFAULT '';
