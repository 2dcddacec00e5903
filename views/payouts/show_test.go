package payouts_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"payoutdesk/views"
	"payoutdesk/views/payouts"
)

// renderShow draws page whole, and its polled parts as a poll gets them.
func renderShow(t *testing.T, page payouts.ShowPage) (full, polled string) {
	t.Helper()
	var f, p strings.Builder
	if err := payouts.Show(page).Render(context.Background(), &f); err != nil {
		t.Fatal(err)
	}
	if err := templ.RenderFragments(context.Background(), &p, payouts.Show(page), payouts.Polled...); err != nil {
		t.Fatal(err)
	}
	return f.String(), p.String()
}

// TestShowPolledParts checks that polling a payout page never reads its
// decision forms again (it would wipe what is typed in them), while it
// still reads the status and the timeline.
func TestShowPolledParts(t *testing.T) {
	timeline := []payouts.TimelineItem{{Title: "Created"}}
	tests := []struct {
		name       string
		page       payouts.ShowPage
		wantPoll   string
		wantCards  []string // outside the polled parts
		wantPolled []string // inside them
	}{
		{
			name: "manager deciding on an approval",
			page: payouts.ShowPage{ID: 7, Status: "pending_approval", Timeline: timeline,
				Approval: payouts.Approval{Pending: true, CanDecide: true, Hash: "h"}},
			wantPoll:   "/payouts/7?shown=pending_approval",
			wantCards:  []string{"approval", "approve", "reject"},
			wantPolled: []string{"status", "timeline"},
		},
		{
			name:       "manager settling an unknown outcome",
			page:       payouts.ShowPage{ID: 7, Status: "unknown", Timeline: timeline, CanResolve: true},
			wantPoll:   "/payouts/7?shown=unknown",
			wantCards:  []string{"resolve", "resolve-submit"},
			wantPolled: []string{"status", "timeline"},
		},
		{
			name: "agent waiting for approval",
			page: payouts.ShowPage{ID: 7, Status: "pending_approval", Timeline: timeline,
				Approval: payouts.Approval{Pending: true}},
			wantPoll:   "/payouts/7",
			wantPolled: []string{"status", "timeline", "approval", "approval-wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, polled := renderShow(t, tt.page)
			page, err := goquery.NewDocumentFromReader(strings.NewReader(full))
			if err != nil {
				t.Fatal(err)
			}
			part, err := goquery.NewDocumentFromReader(strings.NewReader(polled))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := page.Find("#live").Attr("hx-get"); got != tt.wantPoll {
				t.Errorf("polls %q, want %q", got, tt.wantPoll)
			}
			if n := part.Find("#live").Length() + part.Find("#history").Length(); n != 2 {
				t.Errorf("the polled parts hold %d of #live and #history, want both", n)
			}
			// Every part swapped out of band (the history, the status
			// announcement) is among the polled parts, and on the page.
			oob, _ := page.Find("#live").Attr("hx-select-oob")
			ids := strings.Split(oob, ",")
			if !slices.ContainsFunc(ids, func(s string) bool { return strings.HasPrefix(s, "#status-said") }) {
				t.Errorf("hx-select-oob %q does not swap the status announcement", oob)
			}
			for _, sel := range ids {
				id, _, _ := strings.Cut(strings.TrimSpace(sel), ":")
				if part.Find(id).Length() != 1 || page.Find(id).Length() != 1 {
					t.Errorf("%s, swapped out of band, is not once in the polled parts and on the page", id)
				}
			}
			for _, id := range tt.wantPolled {
				if part.Find(`[data-testid="`+id+`"]`).Length() == 0 {
					t.Errorf("the polled parts lack %s", id)
				}
			}
			for _, id := range tt.wantCards {
				sel := `[data-testid="` + id + `"]`
				if page.Find(sel).Length() != 1 {
					t.Errorf("the page has no %s", id)
				}
				if part.Find(sel).Length() != 0 {
					t.Errorf("the polled parts hold %s", id)
				}
			}
			if n := part.Find("form textarea, form select").Length(); n != 0 {
				t.Errorf("the polled parts hold %d form fields, want none", n)
			}
		})
	}
}

// TestShowNoticeFollowsStatus checks that a success told on opening the
// page ("Payout created and queued") is taken back, by the page and by its
// polling, once the status says otherwise, while a notice that is no
// success stays, and that polling carries the notice to draw it again.
func TestShowNoticeFollowsStatus(t *testing.T) {
	created := views.Flash{Kind: "success", Message: "Payout created and queued for sending."}
	changed := views.Flash{Kind: "warning", Message: "Your changes were NOT applied."}
	tests := []struct {
		name   string
		page   payouts.ShowPage
		wantIn bool
	}{
		{"created, being sent", payouts.ShowPage{ID: 7, Status: "processing", Notice: created, NoticeName: "created"}, true},
		{"created, outcome unknown", payouts.ShowPage{ID: 7, Status: "unknown", Notice: created, NoticeName: "created"}, false},
		{"created, failed", payouts.ShowPage{ID: 7, Status: "failed", Final: true, Unpaid: true, Notice: created, NoticeName: "created"}, false},
		{"created, paid then reversed", payouts.ShowPage{ID: 7, Status: "paid", Final: true, Reversed: true, Notice: created, NoticeName: "created"}, false},
		{"created, paid", payouts.ShowPage{ID: 7, Status: "paid", Final: true, Notice: created, NoticeName: "created"}, true},
		{"changes not applied, outcome unknown", payouts.ShowPage{ID: 7, Status: "unknown", Notice: changed, NoticeName: "changed"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, polled := renderShow(t, tt.page)
			for name, html := range map[string]string{"page": full, "poll": polled} {
				doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
				if err != nil {
					t.Fatal(err)
				}
				if doc.Find("#notice").Length() != 1 {
					t.Fatalf("the %s has no #notice to swap", name)
				}
				got := doc.Find(`#notice [data-testid="flash"]`).Text()
				if in := strings.TrimSpace(got) == tt.page.Notice.Message; in != tt.wantIn {
					t.Errorf("the %s's notice reads %q, want shown %v", name, got, tt.wantIn)
				}
			}
			if !tt.page.Final {
				doc, _ := goquery.NewDocumentFromReader(strings.NewReader(full))
				if poll, _ := doc.Find("#live").Attr("hx-get"); !strings.Contains(poll, "notice="+tt.page.NoticeName) {
					t.Errorf("polls %q, which drops the notice", poll)
				}
			}
		})
	}
}
