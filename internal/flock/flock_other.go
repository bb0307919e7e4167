//go:build !unix

package flock

import (
	"errors"
	"fmt"
)

// ErrUnsupported is returned by Lock where the platform has no advisory
// file locks (js/wasm, plan9, windows): nothing that runs there opens a data
// directory.
var ErrUnsupported = errors.New("file locks unsupported on this platform")

// Lock fails with ErrUnsupported.
func Lock(path string) (unlock func() error, err error) {
	return nil, fmt.Errorf("lock %s: %w", path, ErrUnsupported)
}
