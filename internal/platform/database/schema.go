package database

import (
	"context"
	"fmt"
	"sort"
)

// Schema returns every table of the live schema with its columns, sorted.
// The data map's completeness test compares it against the catalogue.
func (db *DB) Schema(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	if db.dialect == Postgres {
		rows, err := db.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var t, c string
			if err := rows.Scan(&t, &c); err != nil {
				return nil, err
			}
			out[t] = append(out[t], c)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return sorted(out), nil
	}
	rows, err := db.Query(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, t)
	}
	rows.Close()
	for _, t := range tables {
		cols, err := db.Query(ctx, fmt.Sprintf("SELECT name FROM pragma_table_info('%s')", t))
		if err != nil {
			return nil, err
		}
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				cols.Close()
				return nil, err
			}
			out[t] = append(out[t], c)
		}
		cols.Close()
	}
	return sorted(out), nil
}

func sorted(m map[string][]string) map[string][]string {
	for t := range m {
		sort.Strings(m[t])
	}
	return m
}
