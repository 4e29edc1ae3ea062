package gdbstub

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// Host I/O (GDB manual, "Host I/O Packets"): gdb reads the program's files, and its shared
// libraries', through the stub, as the guest sees them (inside --root), rather than from
// its own file system. Only reading is offered: open read-only, pread, fstat, close, and
// readlink of /proc/PID/exe.

// fileio errno values (GDB manual, "Errno Values").
const (
	fioEPERM   = 1
	fioENOENT  = 2
	fioEBADF   = 9
	fioEACCES  = 13
	fioEISDIR  = 21
	fioEINVAL  = 22
	fioEMFILE  = 24
	fioEROFS   = 30
	fioUnknown = 9999
)

func fileioErrno(err error) int {
	var en syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fioENOENT
	case errors.Is(err, fs.ErrPermission):
		return fioEACCES
	case errors.As(err, &en):
		switch en {
		case syscall.EISDIR:
			return fioEISDIR
		case syscall.EINVAL:
			return fioEINVAL
		case syscall.EPERM:
			return fioEPERM
		}
	}
	return fioUnknown
}

const maxOpenFiles = 64

// hostIO handles vFile:OP:ARGS.
func (s *session) hostIO(op, args string) string {
	fail := func(errno int) string { return fmt.Sprintf("F-1,%x", errno) }
	a := strings.Split(args, ",")
	num := func(i int) (int64, bool) {
		if i >= len(a) {
			return 0, false
		}
		v, err := strconv.ParseInt(a[i], 16, 64)
		return v, err == nil
	}
	file := func() (File, bool) {
		fd, ok := num(0)
		f := s.files[int(fd)]
		return f, ok && f != nil
	}
	switch op {
	case "setfs":
		return "F0" // every process sees the same files here
	case "open":
		name, err := hex.DecodeString(a[0])
		flags, ok := num(1)
		if err != nil || !ok {
			return fail(fioEINVAL)
		}
		if flags&3 != 0 {
			return fail(fioEROFS) // reading only
		}
		if len(s.files) >= maxOpenFiles {
			return fail(fioEMFILE)
		}
		f, err := s.t.OpenFile(s.ioPID(), string(name))
		if err != nil {
			return fail(fileioErrno(err))
		}
		fd := 0
		for s.files[fd] != nil {
			fd++
		}
		s.files[fd] = f
		return fmt.Sprintf("F%x", fd)
	case "pread":
		f, ok := file()
		n, ok2 := num(1)
		off, ok3 := num(2)
		if !ok {
			return fail(fioEBADF)
		}
		if !ok2 || !ok3 || n < 0 || off < 0 {
			return fail(fioEINVAL)
		}
		buf := make([]byte, min(n, MaxPacket/2))
		got, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(fileioErrno(err))
		}
		return fmt.Sprintf("F%x;", got) + string(buf[:got])
	case "fstat":
		f, ok := file()
		if !ok {
			return fail(fioEBADF)
		}
		fi, err := f.Stat()
		if err != nil {
			return fail(fileioErrno(err))
		}
		st := fileioStat(fi)
		return fmt.Sprintf("F%x;", len(st)) + string(st)
	case "readlink":
		name, err := hex.DecodeString(a[0])
		if err != nil {
			return fail(fioEINVAL)
		}
		path, err := s.t.Readlink(s.ioPID(), string(name))
		if err != nil {
			return fail(fileioErrno(err))
		}
		return fmt.Sprintf("F%x;", len(path)) + path
	case "close":
		fd, _ := num(0)
		f, ok := file()
		if !ok {
			return fail(fioEBADF)
		}
		f.Close()
		delete(s.files, int(fd))
		return "F0"
	}
	return ""
}

// ioPID is the process whose view of the files host I/O uses: the selected thread's.
func (s *session) ioPID() int {
	if t, ok := s.current(); ok {
		return t.PID
	}
	return s.last.Thread.PID
}

// fileioStat is gdb's struct stat: big-endian fields of fixed sizes.
func fileioStat(fi fs.FileInfo) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	mode := uint32(fi.Mode().Perm())
	switch {
	case fi.Mode().IsRegular():
		mode |= 0o100000
	case fi.IsDir():
		mode |= 0o040000
	}
	if st, ok := hostStat(fi); ok { // hoststat_*.go
		be.PutUint32(b[0:], uint32(st.dev))
		be.PutUint32(b[4:], uint32(st.ino))
		be.PutUint32(b[12:], uint32(st.nlink))
		be.PutUint32(b[16:], st.uid)
		be.PutUint32(b[20:], st.gid)
		be.PutUint64(b[36:], st.blksize)
		be.PutUint64(b[44:], st.blocks)
	}
	be.PutUint32(b[8:], mode)
	be.PutUint64(b[28:], uint64(fi.Size()))
	mt := uint32(fi.ModTime().Unix())
	be.PutUint32(b[52:], mt)
	be.PutUint32(b[56:], mt)
	be.PutUint32(b[60:], mt)
	return b
}
