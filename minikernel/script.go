package minikernel

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Scripts: a file that starts with "#!" names its interpreter, which execve runs instead,
// with the script's path as an argument. Linux's fs/binfmt_script.c (load_script) and the
// rewrite loop of fs/exec.c (exec_binprm).

const (
	binprmBufSize = 256 // BINPRM_BUF_SIZE: how much of the file the #! line may take
	// maxBinfmtDepth is how many times exec_binprm lets a handler name another file: a
	// script, its interpreter a script, ... up to six files before ELOOP.
	maxBinfmtDepth = 5
)

// execve replaces p's image with the program at path, as Linux's do_execveat_common() does:
// an empty argv becomes {""} (Linux 5.18 and later, so that argc is never 0); a script is
// replaced by its interpreter (nesting up to Linux's limit, ELOOP past it); the ELF program
// found last is loaded (execELF). On error p is unchanged.
func (k *Kernel) execve(p *Process, path string, argv, envp []string) *ExecError {
	if len(argv) == 0 {
		argv = []string{""}
	}
	file := path
	for depth := 0; ; depth++ {
		if depth > maxBinfmtDepth {
			return execErr(path, ELOOP, fmt.Errorf("too many levels of script interpreters"))
		}
		f, e := k.openExec(file)
		if e != nil {
			if depth > 0 {
				e.Err = fmt.Errorf("interpreter %s: %w", file, e.Err)
				e.Path = path
			}
			return e
		}
		var buf [binprmBufSize]byte
		n, err := f.ReadAt(buf[:], 0)
		if err != nil && err != io.EOF {
			f.put()
			if errors.Is(err, ErrNoMemory) {
				return execErr(path, ENOMEM, err) // no frame to read the first page into
			}
			return execErr(path, EIO, err)
		}
		if n < 2 || buf[0] != '#' || buf[1] != '!' {
			defer f.put() // the VMAs hold their own references
			return k.execELF(p, f, file, path, argv, envp)
		}
		f.put()
		name, arg, hasArg, ok := parseShebang(&buf)
		if !ok {
			return execErr(path, ENOEXEC, fmt.Errorf("%s: bad #! line", file))
		}
		// argv[0] goes; the interpreter, its argument and the script's path come first.
		rest := argv[1:]
		argv = []string{name}
		if hasArg {
			argv = append(argv, arg)
		}
		argv = append(append(argv, file), rest...)
		file = name
	}
}

// openExec opens a file execve is to run: it must exist, be a regular file and be
// executable for the caller (ENOENT, EACCES as the host says). Linux's do_open_execat().
func (k *Kernel) openExec(path string) (*File, *ExecError) {
	f, en := k.openHost(path, oRdonly, 0)
	if en != 0 {
		return nil, execErr(path, en, nil)
	}
	if f.kind != fileRegular {
		f.put()
		return nil, execErr(path, EACCES, fmt.Errorf("not a regular file"))
	}
	if en := Errno(hostfs.AccessFd(f.hfd, 1 /* X_OK */, false)); en != 0 {
		f.put()
		return nil, execErr(path, en, nil)
	}
	if f.ino.writers > 0 {
		f.put()
		return nil, execErr(path, ETXTBSY, nil) // open for writing somewhere (deny_write_access)
	}
	return f, nil
}

// parseShebang reads the #! line at the start of buf, as load_script() does: the
// interpreter's name runs from the first non-blank after "#!" to the next blank (space or
// tab) or NUL; the optional argument is the rest of the line, blanks trimmed at both ends,
// as one string. With no newline in buf the line counts as cut short: that is fine for the
// argument, but not for the name (ok false, ENOEXEC), nor a line with no name at all.
func parseShebang(buf *[binprmBufSize]byte) (name, arg string, hasArg, ok bool) {
	b := buf[:]
	spacetab := func(c byte) bool { return c == ' ' || c == '\t' }
	end := -1 // index of the line's end (the newline, or the last byte of buf)
	for i, c := range b {
		if c == 0 {
			break // strnchr stops at a NUL
		}
		if c == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		i := 2
		for i < len(b) && spacetab(b[i]) {
			i++
		}
		if i == len(b) {
			return "", "", false, false // nothing but blanks
		}
		j := i
		for j < len(b) && !spacetab(b[j]) && b[j] != 0 {
			j++
		}
		if j == len(b) {
			return "", "", false, false // the name may be cut short
		}
		end = len(b) - 1
	}
	for end > 2 && spacetab(b[end-1]) {
		end--
	}
	i := 2
	for i < end && spacetab(b[i]) {
		i++
	}
	if i >= end {
		return "", "", false, false // no interpreter name
	}
	sep := i
	for sep < end && !spacetab(b[sep]) && b[sep] != 0 {
		sep++
	}
	name = cString(b[i:sep])
	if sep < end && b[sep] != 0 {
		a := sep
		for a < end && spacetab(b[a]) {
			a++
		}
		if a < end {
			arg, hasArg = cString(b[a:end]), true
		}
	}
	return name, arg, hasArg, true
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
