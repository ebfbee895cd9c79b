// Package store is the SQL adapter: it implements the domain services'
// storage on the database package, for SQLite and PostgreSQL alike. Each
// file holds one domain's queries. Service methods open one transaction;
// helpers take a database.Querier so that they compose inside it.
package store
