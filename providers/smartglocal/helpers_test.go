package smartglocal

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

var (
	keysOnce sync.Once
	keys     [3]*rsa.PrivateKey
)

// testKeys returns the partner key, Smart Glocal's key and an unrelated key,
// generated once per test binary.
func testKeys(t testing.TB) (partner, provider, other *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		}
	})
	return keys[0], keys[1], keys[2]
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// captured is one request a fake Smart Glocal received.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeSG answers each method path ("session/create") with a fixed status
// and body, and records every request.
type fakeSG struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []captured
	answers map[string]fakeAnswer
}

type fakeAnswer struct {
	status int
	body   string
}

func newFakeSG(t *testing.T, answers map[string]fakeAnswer) *fakeSG {
	t.Helper()
	f := &fakeSG{answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		a, ok := f.answers[r.URL.Path[len("/api/v1/"):]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSG) requests() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.got...)
}

func (f *fakeSG) paths() []string {
	var out []string
	for _, c := range f.requests() {
		out = append(out, c.Path)
	}
	return out
}

// client returns a client of f signing with the test partner key.
func (f *fakeSG) client(t testing.TB, cfg Config) *Client {
	partner, provider, _ := testKeys(t)
	cfg.BaseURL = f.srv.URL + "/api/v1"
	if cfg.Project == "" {
		cfg.Project = "your_project_name"
	}
	cfg.Key = partner
	cfg.ProviderKey = &provider.PublicKey
	return New(cfg)
}
