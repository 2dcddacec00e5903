package monime

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// apiError is what the client reads from a Monime error answer.
type apiError struct {
	Code    string
	Message string
	Fields  map[string][]string
}

// parseError reads an error answer. Monime's error schema is not published;
// community SDKs see {"success": false, "messages": [...], "error": {"code":
// <http status>, "reason": "<slug>", "message": "...", "details": [...]}}.
// It is read defensively: the code is error.reason, else a non-numeric
// error.code; the message is error.message (string or list), else the
// top-level message, else messages, else the details, else the HTTP status
// text. Details that name a field become field errors.
func parseError(status int, body []byte) apiError {
	var out apiError
	var env envelope
	if json.Unmarshal(body, &env) != nil {
		out.Message = http.StatusText(status)
		return out
	}
	var details []string
	if e, ok := object(env.Error); ok {
		out.Code = text(e["reason"])
		if c := text(e["code"]); out.Code == "" && c != "" {
			if _, err := strconv.Atoi(c); err != nil {
				out.Code = c
			}
		}
		out.Message = joinMessages(e["message"])
		details = out.details(e["details"])
	} else {
		out.Message = text(env.Error)
	}
	for _, m := range []string{joinMessages(env.Message), joinMessages(env.Messages), strings.Join(details, "; "), http.StatusText(status)} {
		if out.Message == "" {
			out.Message = m
		}
	}
	return out
}

// details collects error.details: entries naming a field go to Fields, the
// others are returned as plain messages.
func (a *apiError) details(raw json.RawMessage) []string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var plain []string
	for _, item := range list {
		if s := text(item); s != "" {
			plain = append(plain, s)
			continue
		}
		d, ok := object(item)
		if !ok {
			continue
		}
		msg := first(d, "message", "description", "reason", "explanation")
		field := first(d, "field", "path", "param", "name", "property")
		switch {
		case msg == "":
		case field == "":
			plain = append(plain, msg)
		default:
			if a.Fields == nil {
				a.Fields = make(map[string][]string)
			}
			a.Fields[field] = append(a.Fields[field], msg)
		}
	}
	return plain
}

// joinMessages reads a message given as a string or a list of strings (or
// of objects with a message), joined with "; ".
func joinMessages(raw json.RawMessage) string {
	if s := text(raw); s != "" {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return ""
	}
	var parts []string
	for _, item := range list {
		s := text(item)
		if s == "" {
			if m, ok := object(item); ok {
				s = first(m, "message", "description")
			}
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
