package store_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/store"
)

// TestEveryRowWithTheMembersDataIsReachedFromThem checks the data map's
// person keys against what the use cases write: every row that holds one
// of the member's markers, whoever it is addressed to, must be found by a
// person key of the member, or their export would leave it out and their
// erasure would leave it behind. A message that names its sender but is
// keyed only to its recipient is the kind of row this catches.
func TestEveryRowWithTheMembersDataIsReachedFromThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	m := datamap.Default()
	person, err := store.ResolvePerson(ctx, w.db, m, rights.Person{AccountID: w.id})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range m.Tables {
		if !tb.Personal() || len(tb.PersonKeys) == 0 {
			continue
		}
		cond, args := store.PersonCondition(tb.PersonKeys, person)
		if cond == "" {
			cond = "FALSE"
		}
		reached := rowIDs(t, w.db, `SELECT `+store.RowID(w.db.Dialect())+` FROM "`+tb.Name+`" WHERE `+cond, args...)
		for id, row := range rowsOf(t, w.db, tb.Name) {
			if reached[id] {
				continue
			}
			for v, where := range w.m.Where {
				// Only the markers themselves: the world's own ids are
				// built from the member's id.
				if strings.HasPrefix(v, "mkr") && bytes.Contains(row, []byte(v)) {
					t.Errorf("a row of %s holds the member's %s, but none of its person keys (%s) finds the member", tb.Name, where, keyNames(tb.PersonKeys))
					break
				}
			}
		}
	}
}

// rowsOf returns every row of the table as text, by row address.
func rowsOf(t *testing.T, db *database.DB, table string) map[string][]byte {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT `+store.RowID(db.Dialect())+`, * FROM "`+table+`"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, v := range vals[1:] {
			fmt.Fprintf(&b, "%s\n", v)
		}
		out[fmt.Sprint(vals[0])] = b.Bytes()
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowIDs returns the row addresses the query selects.
func rowIDs(t *testing.T, db *database.DB, query string, args ...any) map[string]bool {
	t.Helper()
	rows, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(v)] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func keyNames(keys []datamap.PersonKey) string {
	var names []string
	for _, k := range keys {
		names = append(names, k.Column)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
