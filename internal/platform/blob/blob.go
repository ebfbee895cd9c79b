// Package blob owns stored files: uploads, resources and recordings. The
// bytes live in a bucket (a folder under the data directory by default,
// S3-compatible storage when configured) and every object has a row in the
// blobs index naming its kind and the person it belongs to, so that export
// and erasure find a person's files without listing the bucket.
//
// Nothing personal goes into the bucket beside the bytes: keys are random,
// and no metadata (no original file name, no person id) is attached to the
// objects; in the folder backend no attribute side files are written at all.
package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/url"
	"regexp"
	"time"

	gblob "gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob" // registers s3:// URLs
	"gocloud.dev/gcerrors"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
)

// Info describes a stored object.
type Info struct {
	Key         string
	PersonID    string // empty when the object belongs to no one in particular
	Kind        string // what it is: "recording", "resource", "export"…
	ContentType string
	Size        int64
	SHA256      string // hex
	CreatedAt   time.Time
}

// Index is the table of stored objects. store.BlobIndex implements it.
type Index interface {
	Insert(ctx context.Context, info Info) error
	// Get returns an errs.NotFound error for an unknown key.
	Get(ctx context.Context, key string) (Info, error)
	Delete(ctx context.Context, key string) error
	ListByPerson(ctx context.Context, personID string) ([]Info, error)
}

// Config says where objects go.
type Config struct {
	// URL is a bucket URL such as
	// s3://bucket?region=eu-central-1&endpoint=https://s3.example.com&use_path_style=true.
	// Empty means the folder Dir.
	URL   string
	Dir   string
	Index Index
	Clock clock.Clock
	// MaxBytes is the default size limit of one object; zero means 4 GiB.
	MaxBytes int64
	Log      *slog.Logger
}

// DefaultMaxBytes bounds an object when neither the store nor the call
// says otherwise; it allows hours of recorded video.
const DefaultMaxBytes int64 = 4 << 30

// Store puts, reads and deletes objects and keeps the index in step.
type Store struct {
	bucket   *gblob.Bucket
	index    Index
	clock    clock.Clock
	maxBytes int64
	log      *slog.Logger
}

// New opens the bucket.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Index == nil || cfg.Clock == nil {
		return nil, errors.New("blob: Index and Clock are required")
	}
	var (
		bucket *gblob.Bucket
		err    error
	)
	if cfg.URL == "" {
		if cfg.Dir == "" {
			return nil, errors.New("blob: no URL and no folder")
		}
		bucket, err = fileblob.OpenBucket(cfg.Dir, folderOptions())
	} else {
		var u string
		if u, err = privateURL(cfg.URL); err == nil {
			bucket, err = gblob.OpenBucket(ctx, u)
		}
	}
	if err != nil {
		// The URL may carry credentials, so it is not repeated here.
		return nil, fmt.Errorf("blob: open the bucket: %w", err)
	}
	s := &Store{bucket: bucket, index: cfg.Index, clock: cfg.Clock, maxBytes: cfg.MaxBytes, log: cfg.Log}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// folderOptions are the folder backend's settings: no attribute side
// files (they would hold whatever metadata a write carries), folders only
// the server may read, and temporary files beside the final ones rather
// than in the system's temporary folder, which may be on another disk or
// shared with other programs.
func folderOptions() *fileblob.Options {
	return &fileblob.Options{
		CreateDir:   true,
		DirFileMode: 0o700,
		NoTempDir:   true,
		Metadata:    fileblob.MetadataDontWrite,
	}
}

// privateURL applies folderOptions to a file:// URL given explicitly.
func privateURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("blob: the URL cannot be parsed")
	}
	if u.Scheme != "file" {
		return raw, nil
	}
	q := u.Query()
	q.Set("metadata", "skip")
	q.Set("create_dir", "true")
	q.Set("no_tmp_dir", "true")
	if q.Get("dir_file_mode") == "" {
		q.Set("dir_file_mode", "0700")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// PutInput describes an object to store.
type PutInput struct {
	PersonID    string
	Kind        string
	ContentType string // empty means application/octet-stream
	// MaxBytes overrides the store's limit for this object when positive.
	MaxBytes int64
}

var kindPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Put streams r into a new object and records it in the index. It refuses
// an object over the size limit with errs.TooLarge and leaves nothing
// behind: neither a partial object nor an index row.
func (s *Store) Put(ctx context.Context, in PutInput, r io.Reader) (Info, error) {
	if !kindPattern.MatchString(in.Kind) {
		return Info{}, &errs.Error{Code: errs.Invalid, Message: "the object kind is not valid", Fields: map[string]string{"kind": "must be a short lower-case name"}}
	}
	ct := in.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return Info{}, &errs.Error{Code: errs.Invalid, Message: "the content type is not valid", Fields: map[string]string{"content_type": "must be a media type such as video/webm"}}
	}
	ct = mime.FormatMediaType(mt, params)
	limit := s.maxBytes
	if in.MaxBytes > 0 {
		limit = in.MaxBytes
	}
	key, err := newKey(in.Kind)
	if err != nil {
		return Info{}, err
	}

	// Cancelling the writer's context makes Close abort the upload
	// instead of committing a partial object.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &gblob.WriterOptions{ContentType: ct})
	if err != nil {
		return Info{}, fmt.Errorf("blob: write: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = errs.E(errs.TooLarge, "the file is larger than %d bytes", limit)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		return Info{}, err
	}
	if err := w.Close(); err != nil {
		return Info{}, fmt.Errorf("blob: write: %w", err)
	}
	info := Info{
		Key:         key,
		PersonID:    in.PersonID,
		Kind:        in.Kind,
		ContentType: ct,
		Size:        n,
		SHA256:      hex.EncodeToString(h.Sum(nil)),
		CreatedAt:   s.clock.Now(),
	}
	if err := s.index.Insert(ctx, info); err != nil {
		// An object without an index row could never be found for
		// erasure, so it must not stay.
		if derr := s.bucket.Delete(context.WithoutCancel(ctx), key); derr != nil && gcerrors.Code(derr) != gcerrors.NotFound {
			s.log.Error("blob: could not remove an object whose index row failed", slog.String("key", key), slog.String("error", derr.Error()))
		}
		return Info{}, fmt.Errorf("blob: index: %w", err)
	}
	return info, nil
}

// Open returns a reader on the object and its index entry. The caller
// closes the reader.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	info, err := s.index.Get(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, Info{}, fmt.Errorf("blob: %s is indexed but missing from the bucket", key)
		}
		return nil, Info{}, fmt.Errorf("blob: read: %w", err)
	}
	return r, info, nil
}

// Get reads the whole object into memory; use Open for large ones.
func (s *Store) Get(ctx context.Context, key string) ([]byte, Info, error) {
	r, info, err := s.Open(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, info.Size+1))
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: read: %w", err)
	}
	if int64(len(b)) != info.Size {
		return nil, Info{}, fmt.Errorf("blob: %s has %d bytes, the index says %d", key, len(b), info.Size)
	}
	return b, info, nil
}

// Delete removes the object and then its index row, so that a failure in
// between leaves a row pointing at nothing (and Delete can be repeated),
// never an object nobody can find.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.index.Get(ctx, key); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("blob: delete: %w", err)
	}
	return s.index.Delete(ctx, key)
}

// ListByPerson returns the person's objects, oldest first.
func (s *Store) ListByPerson(ctx context.Context, personID string) ([]Info, error) {
	if personID == "" {
		return nil, errs.E(errs.Invalid, "a person id is required")
	}
	return s.index.ListByPerson(ctx, personID)
}

// newKey is the kind followed by a random name, which says nothing about
// the person or the original file.
func newKey(kind string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return kind + "/" + hex.EncodeToString(b[:]), nil
}
