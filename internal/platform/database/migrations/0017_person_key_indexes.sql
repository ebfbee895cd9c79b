-- Export, erasure and the notices to recipients find a person's rows by
-- the person keys the data map declares. Each of these columns leads an
-- index, so that one person's lookup reads that person's rows rather than
-- the whole table, however many people the table holds.
CREATE INDEX mail_outbox_to_address ON mail_outbox (to_address);
CREATE INDEX email_tokens_new_email ON email_tokens (new_email);
CREATE INDEX signin_challenges_account ON signin_challenges (account_id);
CREATE INDEX profiles_guardian_email ON profiles (guardian_email);
CREATE INDEX guardian_consents_guardian_email ON guardian_consents (guardian_email);
CREATE INDEX organisation_invitations_email ON organisation_invitations (email);
CREATE INDEX organisation_invitations_invited_by ON organisation_invitations (invited_by);
CREATE INDEX organisation_invitations_accepted_by ON organisation_invitations (accepted_by);
CREATE INDEX dpa_acceptances_accepted_by ON dpa_acceptances (accepted_by);
CREATE INDEX notice_versions_published_by ON notice_versions (published_by);
CREATE INDEX consent_records_subject_id ON consent_records (subject_id);
CREATE INDEX agenda_items_owner ON agenda_items (owner_participant_id);
