// Package flock serialises first-start work (creating keys, migrating a
// database) across processes with an advisory lock on a file: processes
// started at the same instant on a fresh data directory take turns, and the
// later ones find the work done.
package flock
