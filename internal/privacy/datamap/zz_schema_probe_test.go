package datamap

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
)

func TestProbeSchema(t *testing.T) {
	db := dbtest.Open(t)
	s, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for tb, cols := range s {
		fmt.Println(tb, cols)
	}
}
