package handlers

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"payoutdesk/db"
)

// exportColumns are the columns of an export, in order.
var exportColumns = []string{"seq", "at", "actor_type", "actor_id", "actor_email", "actor_role", "action",
	"target_type", "target_id", "outcome", "provider", "ip", "user_agent", "request_id", "reason", "details", "hash"}

// filterParams are the audit log's filter parameters, in the order its
// page shows them.
var filterParams = []string{"from", "to", "actor", "action", "provider", "payout", "outcome", "q", "views", "size"}

// byFilterOrder orders filter parameter names as filterParams does, any
// other after them, by name.
func byFilterOrder(a, b string) int {
	rank := func(name string) int {
		if i := slices.Index(filterParams, name); i >= 0 {
			return i
		}
		return len(filterParams)
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
}

// flushEvery is how many rows an export writes between flushes to the client.
const flushEvery = 2000

// Export streams the filtered audit log as CSV or JSON Lines
// (GET /audit/export?format=csv|jsonl&…filters). It reads and writes one
// event at a time, so memory stays flat however large the export. The
// export is recorded before its first byte.
func (h *Audit) Export(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// A link on another site would download the log and write an
		// audit event in a manager's name, neither of them asked for.
		errorPage(w, r, http.StatusForbidden, "Nothing was exported",
			"The export was asked for from another site. Export from the audit log page.")
		return
	}
	// An export starts at the newest event, whatever page its link was on.
	q := r.URL.Query()
	q.Del("before")
	f, v, errs, err := h.parseFilter(r.Context(), q, viewsShown)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	f.Limit = 0
	var problems []string
	format := q.Get("format")
	if format != "csv" && format != "jsonl" {
		problems = append(problems, "format: Choose csv or jsonl.")
	}
	// Every refused filter, in the page's order: one left out would be
	// dropped from the export rather than refuse it.
	for _, name := range slices.SortedFunc(maps.Keys(errs), byFilterOrder) {
		problems = append(problems, name+": "+errs[name])
	}
	if len(problems) > 0 {
		// An export must be exactly what was asked for, or nothing.
		errorPage(w, r, http.StatusBadRequest, "Nothing was exported",
			"The export was refused. "+strings.Join(problems, " ")+" Correct the filters on the audit log page and export again.")
		return
	}
	ev := event(r, "audit.exported")
	ev.Details = map[string]any{"format": format, "filter": v.Query}
	if err := h.recordRead(r, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	name := "payoutdesk-audit-" + time.Now().UTC().Format("20060102T150405Z")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		name += ".jsonl"
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(stallWriter{w: w, rc: http.NewResponseController(w)}, 64<<10)
	flusher, _ := w.(http.Flusher)
	var write func(db.Event) error
	finish := func() { bw.Flush() }
	if format == "csv" {
		cw := csv.NewWriter(bw)
		if err := cw.Write(exportColumns); err != nil {
			return
		}
		row := make([]string, len(exportColumns))
		write = func(e db.Event) error {
			for i, s := range eventCells(e) {
				row[i] = csvSafe(s)
			}
			return cw.Write(row)
		}
		finish = func() {
			cw.Flush()
			bw.Flush()
		}
	} else {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		write = func(e db.Event) error {
			buf.Reset()
			if err := enc.Encode(exportRecord(e)); err != nil {
				return err
			}
			_, err := bw.Write(buf.Bytes())
			return err
		}
	}
	n := 0
	err = h.Store.Stream(r.Context(), f, func(e db.Event) error {
		if err := write(e); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 && flusher != nil {
			// The CSV writer's own buffer is flushed by finish, and by
			// bufio when full: rows stream either way.
			bw.Flush()
			flusher.Flush()
		}
		return nil
	})
	if err != nil {
		// Headers are gone: the client sees a truncated file, and the log
		// says why.
		h.Log.ErrorContext(r.Context(), "audit export", "rows", n, "error", err)
	}
	finish()
}

// exportStall is how long a write of an export may wait for the client to
// read, in place of the server's WriteTimeout for the whole answer: a large
// export on a slow link is not cut short while it moves.
const exportStall = time.Minute

// stallWriter writes to w with a fresh write deadline for every write.
type stallWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (s stallWriter) Write(p []byte) (int, error) {
	// Not every ResponseWriter has deadlines (a test recorder): no matter.
	_ = s.rc.SetWriteDeadline(time.Now().Add(exportStall))
	return s.w.Write(p)
}

func eventCells(e db.Event) []string {
	return []string{strconv.FormatInt(e.Seq, 10), e.At.Format(db.TimeLayout), e.Actor.Type, e.Actor.ID, e.Actor.Email,
		e.Actor.Role, e.Action, e.TargetType, e.TargetID, e.Outcome, e.Provider, e.Origin.IP, e.Origin.UserAgent,
		e.Origin.RequestID, e.Reason, e.DetailsJSON, e.Hash}
}

// csvSafe stops a spreadsheet from running a cell as a formula: a cell
// starting with =, +, -, @, tab or carriage return gets a leading
// apostrophe (OWASP's advice for CSV injection). Some spreadsheets skip
// leading blanks, and some read the full-width forms (＝ and the like) as
// the ASCII ones, so those count too: an unknown webhook sender's path, for
// one, reaches the log as it was sent.
func csvSafe(s string) string {
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace))
	if s != "" && (strings.ContainsRune("=+-@\t\r", rune(s[0])) || strings.ContainsRune("=+-@＝＋－＠", first)) {
		return "'" + s
	}
	return s
}

type exportLine struct {
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	ActorType  string          `json:"actor_type"`
	ActorID    string          `json:"actor_id"`
	ActorEmail string          `json:"actor_email"`
	ActorRole  string          `json:"actor_role"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Outcome    string          `json:"outcome"`
	Provider   string          `json:"provider"`
	IP         string          `json:"ip"`
	UserAgent  string          `json:"user_agent"`
	RequestID  string          `json:"request_id"`
	Reason     string          `json:"reason"`
	Details    json.RawMessage `json:"details"`
	Hash       string          `json:"hash"`
	// Canon is the exact text the hash covers, so that the chain can be
	// checked without re-encoding the fields as Go does.
	Canon string `json:"canon"`
}

func exportRecord(e db.Event) exportLine {
	details := json.RawMessage(e.DetailsJSON)
	if !json.Valid(details) {
		details, _ = json.Marshal(e.DetailsJSON)
	}
	return exportLine{e.Seq, e.At.Format(db.TimeLayout), e.Actor.Type, e.Actor.ID, e.Actor.Email, e.Actor.Role, e.Action,
		e.TargetType, e.TargetID, e.Outcome, e.Provider, e.Origin.IP, e.Origin.UserAgent, e.Origin.RequestID, e.Reason,
		details, e.Hash, e.Canon}
}

// indentJSON formats stored details for reading.
func indentJSON(s string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(s), "", "  ") != nil {
		return s
	}
	return buf.String()
}
