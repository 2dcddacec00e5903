package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"payoutdesk/db"
)

// Account emails created on first start.
const (
	AdminEmail       = "admin@payoutdesk.local"
	DemoManagerEmail = "manager@payoutdesk.local"
	DemoAgentEmail   = "agent@payoutdesk.local"
)

// Bootstrap creates, on a database without users, an admin account and,
// when every provider runs on the sandbox, a demo manager and a demo agent.
// Their random passwords are written to out once; only their hashes are
// stored and nothing is logged.
func Bootstrap(ctx context.Context, d *db.DB, allSandbox bool, out io.Writer) error {
	users := db.NewUsers(d)
	n, err := users.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	accounts := []struct{ email, role string }{{AdminEmail, db.RoleAdmin}}
	if allSandbox {
		accounts = append(accounts, struct{ email, role string }{DemoManagerEmail, db.RoleManager},
			struct{ email, role string }{DemoAgentEmail, db.RoleAgent})
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "First start: these accounts were created. Their passwords are shown only now.")
	fmt.Fprintln(tw, "  ROLE\tEMAIL\tPASSWORD")
	for _, a := range accounts {
		password := db.GeneratePassword()
		ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created", Reason: "first start"}
		_, err := users.Create(ctx, a.email, a.role, password, ev)
		if errors.Is(err, db.ErrDuplicate) {
			// Another process bootstrapped the same database at the same time.
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.role, a.email, password)
	}
	return tw.Flush()
}
