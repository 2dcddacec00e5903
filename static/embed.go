// Package static holds the CSS, JavaScript (htmx 2.0.11, vendored from the
// npm package htmx.org) and images, embedded in the binary.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// FS holds the assets under their directory names (css/app.css, js/htmx.min.js).
//
//go:embed css js img
var FS embed.FS

var hashes = sync.OnceValue(func() map[string]string {
	out := make(map[string]string)
	fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
})

// URL returns the URL of an asset with its content hash as the query, so it
// can be cached forever and still change with each release.
func URL(name string) string {
	return "/static/" + name + "?v=" + hashes()[name]
}

// Hash returns the content hash of an asset, or "" if there is none.
func Hash(name string) string { return hashes()[name] }
