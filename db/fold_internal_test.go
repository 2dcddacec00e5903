package db

import "testing"

func TestFoldText(t *testing.T) {
	for in, want := range map[string]string{
		"PD-12 Ama":          "pd-12 ama",
		"Komi Sénou, Lomé":   "komi senou, lome",
		"ÉLÉONORE Dupré":     "eleonore dupre",
		"Zoë Çelik":          "zoe celik",
		"İstanbul":           "istanbul",
		"Αλέξης":             "αλεξης",
		"Øyvind Straße Łódź": "øyvind straße łodz",
		"5 µg":               "5 µg",
		"e\u0301":            "e", // already decomposed
		"•••• 8080":          "•••• 8080",
	} {
		if got := foldText(in); got != want {
			t.Errorf("foldText(%q) = %q, want %q", in, got, want)
		}
	}
}
