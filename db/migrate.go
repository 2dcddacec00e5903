package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("db: migration %s: name must be NNNN_name.sql", base)
		}
		b, err := migrations.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("db: migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// Version returns the schema version of the database and the newest version
// this binary knows.
func (db *DB) Version(ctx context.Context) (current, latest int, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, 0, err
	}
	if err := db.R.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return 0, 0, fmt.Errorf("db: read schema version: %w", err)
	}
	return current, len(ms), nil
}

// SchemaVersion is Version for the database at path, read without
// opening a writer or migrating: how a command finds out whether opening
// the database would change its schema under a server that is using it.
func SchemaVersion(ctx context.Context, path string) (current, latest int, err error) {
	db, err := openReadOnly(path)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	return db.Version(ctx)
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations newer than PRAGMA user_version. Migrations are forward only; a
// database newer than the binary is refused rather than misread.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.W.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("db: schema version %d is newer than this binary's %d", current, len(ms))
	}
	for _, m := range ms[current:] {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			// user_version is transactional, so a failed migration leaves it unchanged.
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version))
			return err
		})
		if err != nil {
			return fmt.Errorf("db: migration %s: %w", m.name, err)
		}
	}
	return nil
}
