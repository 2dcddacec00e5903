package db

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The audit pages read the readable columns of audit_events, which are
// generated from canon by expressions kept in the schema, not in the
// rows: ALTER TABLE can change what the pages show without changing a byte
// the hashes cover. Verification therefore also compares the schema of
// audit_events, its indexes and triggers with what the migrations create.

// auditSchemaQuery lists audit_events and the indexes and triggers on it.
const auditSchemaQuery = `SELECT type, name, sql FROM sqlite_schema
	WHERE tbl_name = 'audit_events' AND sql IS NOT NULL`

// wantAuditSchema is the schema SQL of audit_events as the migrations
// create it, by type and name: found by running them on an empty database
// in memory, once.
var wantAuditSchema = sync.OnceValues(func() (map[string]string, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	mem, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	// One connection: each would have a database of its own.
	mem.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, m := range ms {
		if _, err := mem.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("db: migration %s in memory: %w", m.name, err)
		}
	}
	return auditSchemaOf(ctx, mem)
})

// auditSchemaOf reads the schema SQL of audit_events from q.
func auditSchemaOf(ctx context.Context, q *sql.DB) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, auditSchemaQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			return nil, err
		}
		out[typ+" "+name] = text
	}
	return out, rows.Err()
}

// checkAuditSchema says how the schema of audit_events differs from what
// the migrations create, "" if it does not.
func (a *Audit) checkAuditSchema(ctx context.Context) (string, error) {
	want, err := wantAuditSchema()
	if err != nil {
		return "", fmt.Errorf("db: audit schema: %w", err)
	}
	got, err := auditSchemaOf(ctx, a.db.R)
	if err != nil {
		return "", fmt.Errorf("db: audit schema: %w", err)
	}
	var problems []string
	for obj, text := range want {
		switch g, ok := got[obj]; {
		case !ok:
			problems = append(problems, obj+" is missing")
		case g != text:
			problems = append(problems, obj+" differs from the one the migrations create")
		}
	}
	for obj := range got {
		if _, ok := want[obj]; !ok {
			problems = append(problems, obj+" is not one the migrations create")
		}
	}
	if len(problems) == 0 {
		return "", nil
	}
	sort.Strings(problems)
	return "the schema of audit_events was changed, so its pages may show what the hashes do not cover: " + strings.Join(problems, "; "), nil
}
