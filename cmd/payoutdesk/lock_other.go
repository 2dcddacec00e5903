//go:build !unix

package main

// lockDB takes no lock here: nothing stops a second server on the same
// database, or a migration under a server, on this system.
func lockDB(string, string) (release func(), holder *lockOwner, err error) {
	return func() {}, nil, nil
}
