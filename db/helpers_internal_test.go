package db

import (
	"context"
	"path/filepath"
	"testing"
)

// openInternalDB opens a new database in t's temporary directory, closed
// when the test ends.
func openInternalDB(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
