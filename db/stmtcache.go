package db

import (
	"context"
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"
)

// The SQLite driver parses a query's SQL every time it is run through
// database/sql's Exec or Query, and under load that parsing cost more CPU
// than executing the statements. So every connection here keeps the
// statements it has prepared and reuses them: the connection does not
// offer Exec and Query itself, which makes database/sql prepare each query,
// and preparing returns the cached statement.

// maxCachedStmts bounds a connection's cache; queries beyond it are
// prepared and finalized each time, as without a cache.
const maxCachedStmts = 256

// cachingConnector opens modernc SQLite connections that cache statements.
type cachingConnector struct {
	inner driver.Connector
	// uninterruptible connections run every statement to its end, whatever
	// happens to the caller's context (see newConnector).
	uninterruptible bool
}

// newConnector returns a connector for dsn. On an uninterruptible one a
// cancelled context never interrupts a statement already running: the
// driver would do that with sqlite3_interrupt, and SQLite answers an
// interrupted write by abandoning the whole transaction, which on the
// writer holds other callers' work too (see commit.go).
func newConnector(dsn string, uninterruptible bool) (driver.Connector, error) {
	inner, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return cachingConnector{inner: inner, uninterruptible: uninterruptible}, nil
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: conn, stmts: make(map[string]*cachedStmt), uninterruptible: c.uninterruptible}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.inner.Driver() }

// connFeatures is what the modernc connection offers beyond driver.Conn.
type connFeatures interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is used by one goroutine at a time, as database/sql
// guarantees for a driver connection, so its map needs no lock.
type cachingConn struct {
	conn            driver.Conn
	stmts           map[string]*cachedStmt
	uninterruptible bool
}

func (c *cachingConn) features() connFeatures { return c.conn.(connFeatures) }

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok := c.stmts[query]; ok && !s.busy {
		return s, nil
	}
	st, err := c.features().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{Stmt: st, uninterruptible: c.uninterruptible}
	// A script of several statements is re-parsed by the driver anyway;
	// a statement already in use (its rows still open) is not replaced.
	if _, taken := c.stmts[query]; !taken && len(c.stmts) < maxCachedStmts && !strings.Contains(query, ";") {
		s.cached = true
		c.stmts[query] = s
	}
	return s, nil
}

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.Stmt.Close()
	}
	return c.conn.Close()
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.features().BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.features().Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.features().ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.features().IsValid() }

// cachedStmt is a prepared statement that outlives its use.
type cachedStmt struct {
	driver.Stmt
	cached          bool
	uninterruptible bool
	// busy while rows read from it are open.
	busy bool
}

type stmtFeatures interface {
	driver.StmtExecContext
	driver.StmtQueryContext
}

// Close keeps a cached statement for the next use.
func (s *cachedStmt) Close() error {
	if s.cached {
		return nil
	}
	return s.Stmt.Close()
}

func (s *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(stmtFeatures).ExecContext(s.context(ctx), args)
}

func (s *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(stmtFeatures).QueryContext(s.context(ctx), args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &stmtRows{Rows: rows, stmt: s}, nil
}

func (s *cachedStmt) context(ctx context.Context) context.Context {
	if s.uninterruptible {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// stmtRows frees its statement for reuse when closed.
type stmtRows struct {
	driver.Rows
	stmt *cachedStmt
}

func (r *stmtRows) Close() error {
	r.stmt.busy = false
	return r.Rows.Close()
}
