-- When the account of an organisation's last owner is erased and no admin
-- or member is left to take it over, the organisation is marked with the
-- moment it lost its owner. The retention rule org-ownerless-30d deletes
-- it, with its logo, invitations and acceptances of the Data Processing
-- Addendum, once its period has run from then. NULL for every organisation
-- that has an owner.
ALTER TABLE organisations ADD COLUMN ownerless_since TIMESTAMPTZ;
CREATE INDEX organisations_ownerless ON organisations (ownerless_since) WHERE ownerless_since IS NOT NULL;
