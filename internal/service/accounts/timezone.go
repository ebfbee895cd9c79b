package accounts

import (
	"context"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// maxTimeZoneLen bounds a time zone name; the longest IANA name is 32
// characters.
const maxTimeZoneLen = 64

// TimeZone is the member's time zone for showing times: the one they
// chose or their browser reported, UTC until then. Known is false while
// neither happened, so a page may ask the browser.
func (s *Service) TimeZone(ctx context.Context, accountID string) (loc *time.Location, known bool, err error) {
	name, err := store.MemberTimeZone(ctx, s.env.Store.DB, accountID)
	if err != nil {
		return nil, false, err
	}
	if name == "" {
		return time.UTC, false, nil
	}
	loc, err = time.LoadLocation(name)
	if err != nil {
		// A zone a later tz database dropped: fall back, and ask again.
		return time.UTC, false, nil
	}
	return loc, true, nil
}

// SetTimeZone keeps name, an IANA time zone ("Europe/Berlin"), as the
// member's zone; "" forgets it, so that the browser's is taken again.
func (s *Service) SetTimeZone(ctx context.Context, accountID, name string) error {
	name = strings.TrimSpace(name)
	if name != "" {
		if len(name) > maxTimeZoneLen || name == "Local" {
			return invalidZone()
		}
		if _, err := time.LoadLocation(name); err != nil {
			return invalidZone()
		}
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		return store.SetMemberTimeZone(ctx, tx, accountID, name, s.env.Clock.Now())
	})
}

func invalidZone() error {
	return &errs.Error{Code: errs.Invalid, Message: "the time zone is not known",
		Fields: map[string]string{"time_zone": "must be a time zone name such as Europe/Berlin or America/New_York"}}
}
