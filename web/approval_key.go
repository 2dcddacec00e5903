package web

import (
	"context"
	"crypto/rand"
	"fmt"

	"payoutdesk/db"
)

// ApprovalKeySetting names the installation's approval key (a setting): it
// keys the hash an approval stores, which must verify after a restart.
const ApprovalKeySetting = "approval.key"

// approvalKey returns the installation's approval key, making it on first
// use.
func approvalKey(ctx context.Context, d *db.DB) ([]byte, error) {
	key, err := db.NewSettings(d).GetOrMake(ctx, ApprovalKeySetting, func() ([]byte, error) {
		fresh := make([]byte, 32)
		rand.Read(fresh)
		return fresh, nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: approval key: %w", err)
	}
	return key, nil
}
