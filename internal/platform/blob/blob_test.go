package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/store"
)

var now = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func folderStore(t *testing.T) (*blob.Store, *database.DB, string) {
	t.Helper()
	db := dbtest.Open(t)
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := blob.New(context.Background(), blob.Config{Dir: dir, Index: store.NewBlobIndex(db), Clock: clock.NewFake(now), MaxBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, db, dir
}

// s3Store runs an S3 server on loopback that speaks the real wire
// protocol, and opens the bucket through an s3:// URL as an operator would.
func s3Store(t *testing.T) (*blob.Store, *database.DB, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("sessions-test"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	// Credentials from the environment only; no shared files and no
	// instance metadata service, which is not on loopback.
	home := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	u := "s3://sessions-test?region=us-east-1&use_path_style=true&disable_https=true&endpoint=" + url.QueryEscape(srv.URL)
	db := dbtest.Open(t)
	s, err := blob.New(context.Background(), blob.Config{URL: u, Index: store.NewBlobIndex(db), Clock: clock.NewFake(now), MaxBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, db, backend
}

func blobRows(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFolderBackend(t *testing.T) {
	s, db, dir := folderStore(t)
	exercise(t, s, db)

	// Nothing but object files in the folder: no attribute side files,
	// no temporary files left by the refused upload.
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, dir+string(filepath.Separator)))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.HasPrefix(files[0], "recording"+string(filepath.Separator)) || strings.Contains(files[0], ".") {
		t.Fatalf("files in the folder: %v, want the one kept recording", files)
	}
	info, err := os.Stat(filepath.Join(dir, "recording"))
	if err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Fatalf("kind folder mode: %v (%v)", info.Mode(), err)
	}
}

func TestS3Backend(t *testing.T) {
	s, db, backend := s3Store(t)
	kept := exercise(t, s, db)

	// Only the kept object is in the bucket (the refused upload was
	// aborted), and it carries no user metadata.
	list, err := backend.ListBucket("sessions-test", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || list.Contents[0].Key != kept {
		var keys []string
		for _, c := range list.Contents {
			keys = append(keys, c.Key)
		}
		t.Fatalf("bucket holds %v, want only %s", keys, kept)
	}
	obj, err := backend.HeadObject("sessions-test", kept)
	if err != nil {
		t.Fatal(err)
	}
	for k := range obj.Metadata {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			t.Errorf("object carries metadata %q", k)
		}
	}
}

func TestFileURLNeverWritesSideFiles(t *testing.T) {
	db := dbtest.Open(t)
	dir := filepath.Join(t.TempDir(), "b")
	// An operator's file:// URL that asks for side files gets none.
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir), RawQuery: "metadata="}).String()
	s, err := blob.New(context.Background(), blob.Config{URL: u, Index: store.NewBlobIndex(db), Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(context.Background(), blob.PutInput{PersonID: "p", Kind: "resource", ContentType: "text/plain"}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "resource", "*"))
	if len(matches) != 1 || strings.HasSuffix(matches[0], ".attrs") {
		t.Fatalf("files: %v", matches)
	}
}

// exercise runs the same behaviour against any backend.
// It returns the key of the one object it keeps.
func exercise(t *testing.T, s *blob.Store, db *database.DB) string {
	ctx := context.Background()
	content := []byte("pretend this is a recorded meeting")
	sum := sha256.Sum256(content)

	rec, err := s.Put(ctx, blob.PutInput{PersonID: "person-1", Kind: "recording", ContentType: "video/webm"}, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Size != int64(len(content)) || rec.SHA256 != hex.EncodeToString(sum[:]) || !rec.CreatedAt.Equal(now) ||
		rec.PersonID != "person-1" || rec.Kind != "recording" || !strings.HasPrefix(rec.Key, "recording/") {
		t.Fatalf("put = %+v", rec)
	}
	other, err := s.Put(ctx, blob.PutInput{PersonID: "person-1", Kind: "resource"}, strings.NewReader("notes"))
	if err != nil {
		t.Fatal(err)
	}
	if other.ContentType != "application/octet-stream" {
		t.Errorf("default content type = %q", other.ContentType)
	}
	if _, err := s.Put(ctx, blob.PutInput{PersonID: "person-2", Kind: "resource", ContentType: "text/plain; charset=utf-8"}, strings.NewReader("theirs")); err != nil {
		t.Fatal(err)
	}

	got, info, err := s.Get(ctx, rec.Key)
	if err != nil || !bytes.Equal(got, content) || info.ContentType != "video/webm" {
		t.Fatalf("get = %q %+v (%v)", got, info, err)
	}
	r, _, err := s.Open(ctx, rec.Key)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(streamed, content) {
		t.Fatalf("open = %q (%v)", streamed, err)
	}

	mine, err := s.ListByPerson(ctx, "person-1")
	if err != nil || len(mine) != 2 {
		t.Fatalf("list = %+v (%v)", mine, err)
	}

	// Over the limit: refused, and nothing is left behind.
	before := blobRows(t, db)
	_, err = s.Put(ctx, blob.PutInput{PersonID: "person-1", Kind: "recording"}, bytes.NewReader(make([]byte, 1025)))
	if errs.CodeOf(err) != errs.TooLarge {
		t.Fatalf("oversized put: %v, want too large", err)
	}
	if n := blobRows(t, db); n != before {
		t.Fatalf("index rows after a refused put: %d, want %d", n, before)
	}
	// A per-call limit overrides the store's.
	if _, err := s.Put(ctx, blob.PutInput{Kind: "recording", MaxBytes: 4}, strings.NewReader("12345")); errs.CodeOf(err) != errs.TooLarge {
		t.Fatalf("per-call limit: %v", err)
	}

	if _, err := s.Put(ctx, blob.PutInput{Kind: "Bad Kind"}, strings.NewReader("x")); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("bad kind: %v", err)
	}
	if _, err := s.Put(ctx, blob.PutInput{Kind: "resource", ContentType: "not a type"}, strings.NewReader("x")); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("bad content type: %v", err)
	}

	// Delete removes the object and its row; the others stay.
	for _, key := range []string{other.Key} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, key); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("get after delete: %v", err)
		}
		if err := s.Delete(ctx, key); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("second delete: %v", err)
		}
	}
	theirs, err := s.ListByPerson(ctx, "person-2")
	if err != nil || len(theirs) != 1 {
		t.Fatalf("the other person's files: %+v (%v)", theirs, err)
	}
	if err := s.Delete(ctx, theirs[0].Key); err != nil {
		t.Fatal(err)
	}
	left, err := store.BlobsOfPerson(ctx, db, "person-1")
	if err != nil || len(left) != 1 || left[0].Key != rec.Key {
		t.Fatalf("left: %+v (%v)", left, err)
	}
	return rec.Key
}
