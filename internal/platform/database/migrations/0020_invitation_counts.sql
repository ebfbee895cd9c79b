-- How many invitations a key caused on one day (UTC): the meeting and
-- organisation invitations an account sent, and those an address received
-- from people outside its own organisations, behind the daily limits that
-- keep invitations from being used to send mail in bulk. key is a keyed
-- digest of the account id or of the address, so that the table holds
-- neither. Every instance counts in the same row, by one statement that
-- adds and reads.
CREATE TABLE invitation_counts (
    key  TEXT NOT NULL,
    day  TIMESTAMPTZ NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (key, day)
);
CREATE INDEX invitation_counts_day ON invitation_counts (day);
