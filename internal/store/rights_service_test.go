package store_test

import (
	"testing"

	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/safehttp"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/dsr"
	"github.com/sessionshq/sessions/internal/store"
)

// rightsService builds the rights service over db, as wire does, for the
// tests of the engines whose rows this package writes: erasure, export,
// transfers and the notices to recipients. The returned Env may be
// changed by the test (its Outbound, say).
func rightsService(t testing.TB, db *database.DB, secret []byte, blobs *blob.Store, clk clock.Clock) (*dsr.Service, *service.Env) {
	t.Helper()
	st, err := store.New(db, secret)
	if err != nil {
		t.Fatal(err)
	}
	m := datamap.Default()
	env := &service.Env{Store: st, Clock: clk, Secret: secret, Map: &m, Blobs: blobs, Outbound: &safehttp.Client{}}
	return dsr.New(env), env
}
