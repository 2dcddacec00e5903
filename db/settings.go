package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Settings stores small named values the server keeps between runs.
type Settings struct{ db *DB }

// NewSettings returns the settings store of db.
func NewSettings(db *DB) *Settings { return &Settings{db: db} }

// Get returns the value stored under key.
func (s *Settings) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("db: setting %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("db: setting %s: %w", key, err)
	}
	return v, nil
}

// Init stores value under key unless a value is already there, and returns
// the stored value: concurrent first runs agree on one value.
func (s *Settings) Init(ctx context.Context, key string, value []byte) ([]byte, error) {
	var stored []byte
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&stored)
	})
	if err != nil {
		return nil, fmt.Errorf("db: init setting %s: %w", key, err)
	}
	return stored, nil
}

// GetOrMake returns the value stored under key, or, when there is none,
// one made by newValue and stored (see Init): a value made on first use,
// such as an installation's secret, without a write at every later start.
func (s *Settings) GetOrMake(ctx context.Context, key string, newValue func() ([]byte, error)) ([]byte, error) {
	v, err := s.Get(ctx, key)
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	fresh, err := newValue()
	if err != nil {
		return nil, fmt.Errorf("db: make setting %s: %w", key, err)
	}
	return s.Init(ctx, key, fresh)
}
