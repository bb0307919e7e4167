//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// envStartBarrier names a file that a test holds an exclusive flock on. When
// set, `ecert restamp` announces that it is ready (a file beside it named
// with its pid) and then waits for a shared lock on it, so that a test can
// release many processes at the same instant. Not for production use.
const envStartBarrier = "ECERT_TEST_START_BARRIER"

// waitAtStartBarrier blocks until the test releases the barrier, if any.
func waitAtStartBarrier() error {
	path := os.Getenv(envStartBarrier)
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("start barrier: %w", err)
	}
	defer f.Close()
	if err := os.WriteFile(fmt.Sprintf("%s.%d.ready", path, os.Getpid()), nil, 0o600); err != nil {
		return fmt.Errorf("start barrier: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		return fmt.Errorf("start barrier: %w", err)
	}
	return nil
}
