package views

import "strconv"

// Count says n of something in words, in the singular for one: Count(2,
// "payout waits", "payouts wait") is "2 payouts wait".
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
