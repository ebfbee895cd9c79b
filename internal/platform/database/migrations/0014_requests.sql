-- Data-subject requests: the rights workflow widens the account requests
-- of 0003 (where "delete my account" lives) so that one table and one
-- queue hold every request, and adds the supplementary statements a
-- person may have kept with their data. Written in PostgreSQL's dialect;
-- see migrate.go for the rewrites applied on SQLite.

-- rights is the JSON array of rights the request carries ('[]' for the
-- older kinds, whose kind is the right). channel is how it reached us.
-- email is where a person without an account is written to. details,
-- field and statement are what the person wrote: field names the data a
-- rectification is about ("table.column"), statement is what they ask
-- us to keep with it. extension_reason and decision are staff's reasons,
-- as the person got them. code_digest, code_expires_at and code_attempts
-- hold the e-mailed code of a request from the public form while it is
-- verifying. lift_mail is the message telling the person a restriction
-- will be lifted; the lift waits until it is sent.
ALTER TABLE account_requests ADD COLUMN rights TEXT NOT NULL DEFAULT '[]';
ALTER TABLE account_requests ADD COLUMN channel TEXT NOT NULL DEFAULT 'account';
ALTER TABLE account_requests ADD COLUMN email TEXT;
ALTER TABLE account_requests ADD COLUMN details TEXT;
ALTER TABLE account_requests ADD COLUMN field TEXT NOT NULL DEFAULT '';
ALTER TABLE account_requests ADD COLUMN statement TEXT;
ALTER TABLE account_requests ADD COLUMN extension_reason TEXT;
ALTER TABLE account_requests ADD COLUMN decision TEXT;
ALTER TABLE account_requests ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE account_requests ADD COLUMN code_digest TEXT;
ALTER TABLE account_requests ADD COLUMN code_expires_at TIMESTAMPTZ;
ALTER TABLE account_requests ADD COLUMN code_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_requests ADD COLUMN lift_mail TEXT;
CREATE INDEX account_requests_email ON account_requests (email);

-- A statement a person asked us to keep with some of their data (Art. 16
-- GDPR: completing incomplete data), named by table and column, shown
-- and exported with it and deleted with the person.
CREATE TABLE supplementary_statements (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    table_name  TEXT NOT NULL,
    column_name TEXT NOT NULL,
    statement   TEXT NOT NULL,
    request_id  TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX supplementary_statements_person ON supplementary_statements (person_id, table_name, column_name);
