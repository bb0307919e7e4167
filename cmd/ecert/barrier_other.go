//go:build !unix

package main

// waitAtStartBarrier is a no-op where flock is not available.
func waitAtStartBarrier() error { return nil }
