package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/database"
)

const blobColumns = `key, person_id, kind, content_type, size_bytes, sha256, created_at`

// BlobIndex implements blob.Index on the blobs table.
type BlobIndex struct{ db *database.DB }

// NewBlobIndex returns the index on db.
func NewBlobIndex(db *database.DB) *BlobIndex { return &BlobIndex{db: db} }

var _ blob.Index = (*BlobIndex)(nil)

// Insert records a stored object.
func (b *BlobIndex) Insert(ctx context.Context, info blob.Info) error {
	var person any
	if info.PersonID != "" {
		person = info.PersonID
	}
	_, err := b.db.Exec(ctx, `INSERT INTO blobs (`+blobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		info.Key, person, info.Kind, info.ContentType, info.Size, info.SHA256, info.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("index blob: %w", err)
	}
	return nil
}

// Get returns one entry.
func (b *BlobIndex) Get(ctx context.Context, key string) (blob.Info, error) {
	info, err := scanBlob(b.db.QueryRow(ctx, `SELECT `+blobColumns+` FROM blobs WHERE key = ?`, key))
	if errors.Is(err, database.ErrNotFound) {
		return blob.Info{}, errs.E(errs.NotFound, "no such file")
	}
	return info, err
}

// Delete removes one entry; a missing one is not an error, so that an
// interrupted deletion can be repeated.
func (b *BlobIndex) Delete(ctx context.Context, key string) error {
	_, err := b.db.Exec(ctx, `DELETE FROM blobs WHERE key = ?`, key)
	return err
}

// ListByPerson returns the person's entries, oldest first.
func (b *BlobIndex) ListByPerson(ctx context.Context, personID string) ([]blob.Info, error) {
	return BlobsOfPerson(ctx, b.db, personID)
}

// BlobsOfPerson lists the objects linked to personID, oldest first, for
// export and erasure inside a caller's transaction.
func BlobsOfPerson(ctx context.Context, q database.Querier, personID string) ([]blob.Info, error) {
	rows, err := q.Query(ctx, `SELECT `+blobColumns+` FROM blobs WHERE person_id = ? ORDER BY created_at, key`, personID)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, scanBlob)
}

func scanBlob(s interface{ Scan(...any) error }) (blob.Info, error) {
	var (
		info   blob.Info
		person sql.NullString
	)
	if err := s.Scan(&info.Key, &person, &info.Kind, &info.ContentType, &info.Size, &info.SHA256, &info.CreatedAt); err != nil {
		return blob.Info{}, err
	}
	info.PersonID = person.String
	info.CreatedAt = info.CreatedAt.UTC()
	return info, nil
}
