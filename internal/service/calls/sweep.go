package calls

import (
	"context"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/jobs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/video"
)

// RegisterJobs hands the calls' background work to the runner.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	jobs.Register(r, func(ctx context.Context, _ jobs.Job[meeting.DoorSweepArgs]) error {
		_, err := s.SweepConnections(ctx)
		return err
	})
	r.Periodic(jobs.Schedule{Every: meeting.DoorSweepEvery, Args: meeting.DoorSweepArgs{}})
}

// SweepConnections ends the connections the video server holds whose
// media is not up yet and whom the door would not let in now
// (meeting.MayStayInCall, as RecordEvent applies it once LiveKit reports
// them), and audits each ending. It returns how many it ended.
//
// With an external LiveKit, browsers reach it directly, and a stale
// token's signalling connection, which already shows the call's roster
// and is handed refreshed tokens, would otherwise last until LiveKit
// drops it a minute later; the embedded SFU's signalling asks the door
// before it opens (MayConnect), and this is a second look. Connections
// whose media is up are the webhook's: LiveKit reported them, and
// RecordEvent checked them as they came in; asking them again would
// end, for one, everyone's call when a host locks the meeting.
func (s *Service) SweepConnections(ctx context.Context) (int, error) {
	if s.env.Video == nil {
		return 0, nil
	}
	rooms, err := s.env.Video.Rooms(ctx)
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, room := range rooms {
		conns, err := s.env.Video.Connections(ctx, room)
		if errs.CodeOf(err) == errs.NotFound {
			continue // the call ended in between
		}
		if err != nil {
			return ended, err
		}
		for _, c := range conns {
			if !c.Joining {
				continue
			}
			ok, err := s.sweepConnection(ctx, room, c)
			if err != nil {
				return ended, err
			}
			if ok {
				ended++
			}
		}
	}
	return ended, nil
}

// sweepConnection ends one connection the door refuses, and audits the
// ending; ended is false when the door lets it stay or it was gone. The
// video server is asked outside any transaction, and the audit entry is
// written once the connection is ended.
func (s *Service) sweepConnection(ctx context.Context, room string, c video.Connection) (ended bool, err error) {
	ev := video.Event{Kind: video.ParticipantJoined, Room: room, Participant: c.Identity, Connection: c.Connection, Door: c.Door}
	subject, reason, err := s.refusal(ctx, s.env.Store.DB, ev, s.env.Clock.Now())
	if err != nil || reason == "" {
		return false, err
	}
	err = s.env.Video.RemoveConnection(ctx, room, c.Identity, c.Connection)
	if errs.CodeOf(err) == errs.NotFound {
		return false, nil // it left, or LiveKit dropped it
	}
	if err != nil {
		return false, err
	}
	return true, s.env.InTx(ctx, func(tx *service.Tx) error {
		return tx.Audit(ctx, audit.Entry{
			At: s.env.Clock.Now(), Actor: audit.Party{Kind: "system"}, Action: "meeting.connection_refused", Subject: subject,
			Purpose: callPurpose,
			Detail:  map[string]string{"meeting": room, "participant": c.Identity, "connection": c.Connection, "reason": reason},
		})
	})
}
