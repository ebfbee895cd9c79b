// Package s3test runs a real S3 server for tests that need the storage an
// operator scales out with: versitygw, an S3 gateway over a folder,
// started as its own process on a free loopback port with one empty
// bucket. The product reaches it as it reaches any S3-compatible storage,
// through an s3:// URL and credentials in its environment; the test reads
// the bucket back through the S3 API.
//
// The package blob's own tests use an in-process fake instead; this one
// is for the end-to-end tests of several processes sharing a bucket.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/sessionshq/sessions/internal/platform/proctest"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Module and Version name the versitygw release the tests run.
// scripts/ensure-deps.sh reads both from here to build the same binary
// ahead of the tests; it is not a dependency of the module, so go.mod
// does not name it.
const (
	Module  = "github.com/versity/versitygw"
	Version = "v1.8.0"
)

// Server is a running versitygw with one bucket.
type Server struct {
	Endpoint  string // http://127.0.0.1:port
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string

	client *s3.Client
}

// Start runs versitygw until the test ends and creates an empty bucket.
// The binary is SESSIONS_TEST_VERSITYGW when set, otherwise Version built
// once per machine into the user's cache folder (see Binary).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("SESSIONS_TEST_VERSITYGW")
	if bin == "" {
		bin = Binary(t)
	}
	s := &Server{Bucket: "sessions", Region: "us-east-1", AccessKey: "sessions-test", SecretKey: randomSecret()}
	// Metadata in a folder beside the objects rather than in extended
	// attributes, which the temporary folder's filesystem may not keep.
	root, meta := t.TempDir(), t.TempDir()
	addr := freeAddr(t)
	proc := proctest.Start(t, "versitygw", exec.Command(bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
		"--port", addr, "--quiet", "posix", "--sidecar", meta, root))
	s.Endpoint = "http://" + addr
	s.client = s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})

	// The bucket is made through the API once the server answers, as an
	// operator makes theirs before pointing the product at it.
	proc.WaitReady(t, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
		return err
	})
	return s
}

// BlobURL is the bucket as SESSIONS_BLOB_URL names it: path-style
// addressing, since a loopback address has no bucket subdomains.
func (s *Server) BlobURL() string {
	q := url.Values{}
	q.Set("region", s.Region)
	q.Set("endpoint", s.Endpoint)
	q.Set("use_path_style", "true")
	q.Set("disable_https", "true")
	return "s3://" + s.Bucket + "?" + q.Encode()
}

// Env is the environment that gives a process the bucket's credentials
// and nothing else: no shared AWS files, no profile and no instance
// metadata service, which is not on loopback.
func (s *Server) Env() []string {
	none := filepath.Join(os.TempDir(), "sessions-s3test-no-such-file")
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + none,
		"AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Objects lists the bucket through the S3 API and reads every object:
// key to content.
func (s *Server) Objects(t testing.TB) map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objects := map[string][]byte{}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing the bucket: %v", err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			got, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("reading %s from the bucket: %v", key, err)
			}
			b, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil {
				t.Fatalf("reading %s from the bucket: %v", key, err)
			}
			objects[key] = b
		}
	}
	return objects
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// Binary returns versitygw Version, built with `go install` from the
// module proxy into the user's cache folder
// (~/.cache/sessions-test/versitygw-VERSION) the first time a test on
// this machine asks for it, and found there afterwards.
// scripts/ensure-deps.sh builds it into the same place ahead of the tests.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("building versitygw %s: %v", Version, buildErr)
	}
	return built
}

func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "sessions-test", "versitygw-"+Version)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Installed into a folder of its own and then renamed into place, so
	// that a test binary running at the same time never finds half a file.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", Module+"/cmd/versitygw@"+Version)
	// Outside this module, and with its flags cleared, so that nothing of
	// the module's own build settings applies to another module.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "versitygw"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func randomSecret() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
