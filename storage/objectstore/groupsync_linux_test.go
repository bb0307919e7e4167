package objectstore

import (
	"os"
	"testing"
)

// The real syncfs works on the test's filesystem.
func TestSyncFilesystem(t *testing.T) {
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := syncFilesystem(d); err != nil {
		t.Fatal(err)
	}
}
