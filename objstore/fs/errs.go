package fs

import "syscall"

// notDirErr is returned when a path component is a file ("a" exists as an
// object and "a/b" is asked for): that object does not exist either.
var notDirErr error = syscall.ENOTDIR
