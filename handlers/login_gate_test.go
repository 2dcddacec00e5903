package handlers

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoginGateOneAttemptPerKey(t *testing.T) {
	var g loginGate
	leave, err := g.enter(context.Background(), "account:a", "ip:1")
	if err != nil {
		t.Fatal(err)
	}
	// Another key goes ahead; the same account waits, until its caller
	// gives up.
	other, err := g.enter(context.Background(), "account:b", "ip:2")
	if err != nil {
		t.Fatal(err)
	}
	other()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.enter(ctx, "account:a", "ip:3"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second attempt on a held account = %v, want it to wait until its context ends", err)
	}
	entered := make(chan struct{})
	go func() {
		if next, err := g.enter(context.Background(), "account:a", "ip:1"); err == nil {
			next()
		}
		close(entered)
	}()
	select {
	case <-entered:
		t.Fatal("a second attempt entered while the first held its keys")
	case <-time.After(20 * time.Millisecond):
	}
	leave()
	<-entered
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.keys) != 0 {
		t.Errorf("the gate still tracks %d keys after every attempt left", len(g.keys))
	}
}
