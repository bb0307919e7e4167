package objectstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFilesystem writes back and flushes the whole filesystem holding f
// (syncfs(2); since Linux 5.8 it reports write-back errors).
func syncFilesystem(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: serr}
	}
	return nil
}

const haveGroupSync = true
