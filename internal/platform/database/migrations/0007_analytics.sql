-- First-party analytics: page views and feature use, recorded only for
-- visitors whose cookie choice allows analytics. Written in PostgreSQL's
-- dialect; see migrate.go for the rewrites applied on SQLite.
--
-- A row names no one. visitor_id is a random id from the analytics cookie
-- that is replaced every day and at every change of the cookie choice, so
-- it ties together one visitor's events of one day at most and links to
-- neither the consent ledger nor an account. path is the route pattern of
-- the page (such as /orgs/{id}), never the address as typed, so ids and
-- tokens in addresses are not kept. ip_prefix is the address truncated to
-- its network (IPv4 /24, IPv6 /48) before it arrives here. day is the UTC
-- date of occurred_at, kept so that both engines group by day alike.
-- Rows are deleted 25 months after occurred_at.
CREATE TABLE analytics_events (
    id          BIGSERIAL PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('pageview', 'feature')),
    path        TEXT NOT NULL CHECK (length(path) <= 512),
    name        TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 64),
    visitor_id  TEXT NOT NULL,
    ip_prefix   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX analytics_events_day ON analytics_events (day, kind);
CREATE INDEX analytics_events_occurred ON analytics_events (occurred_at);
