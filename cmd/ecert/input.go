package main

import (
	"io"
	"os"
)

// stdinName is the file argument that means standard input.
const stdinName = "-"

// openInput opens the NDJSON input named path, or stdin for "-". size is
// the number of bytes to expect, -1 when unknown (a pipe); close releases
// the file.
func openInput(path string, stdin io.Reader) (r io.Reader, size int64, close func() error, err error) {
	if path == stdinName {
		return stdin, -1, func() error { return nil }, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, -1, nil, err
	}
	size = -1
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, f.Close, nil
}
