package objectstore

import (
	"errors"
	"syscall"
)

// isNotDirErr reports whether err says a path component is a file, which
// for a lookup means the object does not exist.
func isNotDirErr(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
