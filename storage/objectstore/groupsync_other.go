//go:build !linux

package objectstore

import (
	"errors"
	"os"
)

func syncFilesystem(*os.File) error {
	return errors.New("objectstore: no filesystem-wide sync on this system")
}

// Without syncfs(2) the store fsyncs each file and directory.
const haveGroupSync = false
