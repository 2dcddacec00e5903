package views

import "context"

// CurrentUser is the signed-in user as templates see it.
type CurrentUser struct {
	ID    int64
	Email string
	Role  string
}

// BackgroundHeader marks a request a page makes by itself (polling), not
// at anyone's action: it does not count as activity that keeps a session
// from idling out.
const BackgroundHeader = "X-Background"

// NavLink is a link of the top bar.
type NavLink struct {
	Label string
	Href  string
	// Counted says what the number shown next to the link counts, as a
	// screen reader reads it after the label: "Approvals, 2 waiting".
	Counted string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	// Kind is success, error, info or warning.
	Kind    string
	Message string
}

// Chrome is what the layout needs from the request: who is signed in, the
// flash messages to show, where we are, and the counts shown in navigation.
type Chrome struct {
	User    *CurrentUser
	Flashes []Flash
	Path    string
	// Nav is the top bar's links the user may follow.
	Nav []NavLink
	// Sandbox is true when at least one provider runs on the sandbox.
	Sandbox bool
	// LoadCounts, when set (for managers), loads the numbers shown next to
	// navigation links, by link. Count calls it once, when a page renders
	// its navigation, whatever the request's method: a page answering a
	// POST shows them too, and an answer that renders none never asks.
	LoadCounts func() map[string]int
	counts     map[string]int
	loaded     bool
}

// Count is the number to show next to the navigation link href; 0 shows
// none.
func (c *Chrome) Count(href string) int {
	if !c.loaded && c.LoadCounts != nil {
		c.counts, c.loaded = c.LoadCounts(), true
	}
	return c.counts[href]
}

type chromeKey struct{}

// WithChrome returns ctx carrying c.
func WithChrome(ctx context.Context, c *Chrome) context.Context {
	return context.WithValue(ctx, chromeKey{}, c)
}

// ChromeFrom returns the request's chrome, never nil.
func ChromeFrom(ctx context.Context) *Chrome {
	if c, ok := ctx.Value(chromeKey{}).(*Chrome); ok && c != nil {
		return c
	}
	return &Chrome{}
}
