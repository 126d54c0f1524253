package main

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// waitExited blocks until the process has exited without reaping it (waitid with WNOWAIT), as
// os.Process does internally before its Wait.
func waitExited(pid int) error {
	const pPID = 1     // P_PID, which package syscall does not export
	var info [128]byte // a siginfo_t, which is not read
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			if errno != 0 {
				return errno
			}
			return nil
		}
	}
}

// checkDir says why cwd cannot be entered, if it cannot. os/exec reports a failed chdir under
// the shell's name ("fork/exec /bin/bash: no such file or directory"), which blames the shell.
func checkDir(cwd string) error {
	if cwd == "" {
		return nil
	}
	info, err := os.Stat(cwd)
	var pathErr *os.PathError
	switch {
	case errors.As(err, &pathErr):
		return &os.PathError{Op: "chdir", Path: cwd, Err: pathErr.Err}
	case err != nil:
		return err
	case !info.IsDir():
		return &os.PathError{Op: "chdir", Path: cwd, Err: syscall.ENOTDIR}
	}
	if err := syscall.Access(cwd, 1); err != nil { // X_OK: may it be entered
		return &os.PathError{Op: "chdir", Path: cwd, Err: err}
	}
	return nil
}
