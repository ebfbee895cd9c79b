package meetings

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// fileKind is the blob kind of files shared with a meeting. Their blobs
// rows name no person: the file is the meeting's, and erasing the person
// who shared it keeps it for the others.
const fileKind = "meeting-file"

// Resources lists the meeting's resources, oldest first, for a member who
// may see the meeting.
func (s *Service) Resources(ctx context.Context, accountID, meetingID string) ([]meeting.Resource, error) {
	m, _, err := s.Get(ctx, accountID, meetingID)
	if err != nil {
		return nil, err
	}
	return store.Resources(ctx, s.db(), m.ID)
}

// AddFile checks an uploaded file by its content and, only when it passes
// and the member takes part in the meeting, stores it and shares it with
// the meeting under title (the file's name when empty). A picture is
// stored as a copy of its pixels without its metadata (meeting.CleanFile).
// A refused file leaves nothing behind, in storage or in the database.
func (s *Service) AddFile(ctx context.Context, accountID, meetingID string, data []byte, filename, title string) (meeting.Resource, error) {
	if s.env.Blobs == nil {
		return meeting.Resource{}, errs.E(errs.Unavailable, "file storage is not available")
	}
	ct, err := meeting.SniffFile(data)
	if err != nil {
		return meeting.Resource{}, err
	}
	if data, err = meeting.CleanFile(ct, data); err != nil {
		return meeting.Resource{}, err
	}
	v := errs.Validation{}
	title = meeting.CheckText(v, "title", title, meeting.MaxResourceTitle, false)
	if err := v.Err(); err != nil {
		return meeting.Resource{}, err
	}
	if title == "" {
		title = meeting.FileTitle(filename)
	}
	// Refuse before storing anything when the member may not add here;
	// the transaction checks again.
	if _, acc, err := s.Get(ctx, accountID, meetingID); err != nil {
		return meeting.Resource{}, err
	} else if err := acc.RequireParticipant(); err != nil {
		return meeting.Resource{}, err
	}
	// A picture written again may come out a little larger than the
	// upload, whose size SniffFile checked.
	info, err := s.env.Blobs.Put(ctx, blob.PutInput{Kind: fileKind, ContentType: ct, MaxBytes: max(meeting.MaxFileBytes, int64(len(data)))}, bytes.NewReader(data))
	if err != nil {
		return meeting.Resource{}, err
	}
	res, err := s.addResource(ctx, accountID, meeting.Resource{
		MeetingID: meetingID, Kind: meeting.FileResource, Title: title, BlobKey: info.Key, ContentType: ct, SizeBytes: info.Size,
	})
	if err != nil {
		s.deleteFile(context.WithoutCancel(ctx), info.Key)
		return meeting.Resource{}, err
	}
	return res, nil
}

// AddLink checks a link and shares it with the meeting.
func (s *Service) AddLink(ctx context.Context, accountID, meetingID, title, link string) (meeting.Resource, error) {
	title, link, provider, err := meeting.CheckLink(meeting.LinkInput{Title: title, URL: link})
	if err != nil {
		return meeting.Resource{}, err
	}
	return s.addResource(ctx, accountID, meeting.Resource{
		MeetingID: meetingID, Kind: meeting.LinkResource, Title: title, URL: link, Provider: provider,
	})
}

// addResource shares r with its meeting. Anyone taking part may, while
// the meeting is not cancelled.
func (s *Service) addResource(ctx context.Context, accountID string, r meeting.Resource) (meeting.Resource, error) {
	now := s.env.Now()
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingForUpdate(ctx, tx, r.MeetingID, accountID)
		if err != nil {
			return err
		}
		if err := acc.RequireParticipant(); err != nil {
			return err
		}
		if m.State == meeting.Cancelled {
			return errCancelled()
		}
		n, err := store.ResourceCount(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if n >= meeting.MaxResourcesPerMeeting {
			return errs.E(errs.Conflict, "a meeting holds at most %d resources", meeting.MaxResourcesPerMeeting)
		}
		r.ID, r.AddedBy, r.CreatedAt = meeting.NewResourceID(), accountID, now
		if err := store.InsertResource(ctx, tx, r); err != nil {
			return err
		}
		return record(ctx, tx, now, accountID, "meeting.resource.add", m.ID, map[string]string{
			"resource": r.ID, "kind": string(r.Kind),
		})
	})
	if err != nil {
		return meeting.Resource{}, err
	}
	return r, nil
}

// DeleteResource removes a resource, for whoever shared it and for hosts
// and co-hosts. A file is deleted from storage once that has committed.
func (s *Service) DeleteResource(ctx context.Context, accountID, meetingID, resourceID string) error {
	now := s.env.Now()
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		m, acc, err := store.MeetingForUpdate(ctx, tx, meetingID, accountID)
		if err != nil {
			return err
		}
		r, err := store.Resource(ctx, tx, m.ID, resourceID)
		if err != nil {
			return err
		}
		if !acc.CanEdit() && (r.AddedBy != accountID || !acc.IsParticipant()) {
			return errs.E(errs.Forbidden, "only whoever shared a resource, the host and co-hosts may remove it")
		}
		if err := store.DeleteResourceRow(ctx, tx, r.ID); err != nil {
			return err
		}
		s.deleteFileLater(tx, r.BlobKey)
		return record(ctx, tx, now, accountID, "meeting.resource.delete", m.ID, map[string]string{"resource": r.ID})
	})
}

// Opened is a resource of a meeting, with its content when it is a file.
type Opened struct {
	Resource meeting.Resource
	// Body is the file's content, which the caller closes; nil for a
	// link.
	Body        io.ReadCloser
	ContentType string
	Size        int64
	// Filename is what to save the file as: its title with the extension
	// of its content type.
	Filename string
}

// OpenResource returns a resource of a meeting the member may see, and
// opens its content when it is a file.
func (s *Service) OpenResource(ctx context.Context, accountID, meetingID, resourceID string) (Opened, error) {
	m, _, err := s.Get(ctx, accountID, meetingID)
	if err != nil {
		return Opened{}, err
	}
	res, err := store.Resource(ctx, s.db(), m.ID, resourceID)
	if err != nil {
		return Opened{}, err
	}
	if res.Kind != meeting.FileResource {
		return Opened{Resource: res}, nil
	}
	if s.env.Blobs == nil {
		return Opened{}, errs.E(errs.NotFound, "this resource is not a stored file")
	}
	body, info, err := s.env.Blobs.Open(ctx, res.BlobKey)
	if err != nil {
		return Opened{}, err
	}
	ext := meeting.Extension(info.ContentType)
	return Opened{Resource: res, Body: body, ContentType: info.ContentType, Size: info.Size,
		Filename: strings.TrimSuffix(meeting.FileTitle(res.Title), ext) + ext}, nil
}

// deleteFileLater deletes a file from storage once the change that
// orphaned it has committed.
func (s *Service) deleteFileLater(tx *service.Tx, key string) {
	if key == "" || s.env.Blobs == nil {
		return
	}
	tx.AfterCommit(func(ctx context.Context) { s.deleteFile(ctx, key) })
}

// deleteFile deletes a file nothing points to any more; a failure is
// logged by key (a random name) and leaves an orphan, not an error.
func (s *Service) deleteFile(ctx context.Context, key string) {
	if err := s.env.Blobs.Delete(ctx, key); err != nil && errs.CodeOf(err) != errs.NotFound {
		s.env.Log.LogAttrs(ctx, slog.LevelError, "could not delete a meeting file", slog.String("key", key), slog.String("error", err.Error()))
	}
}
