package minikernel

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// /proc, made from the emulator's own state: what a guest reads there is its processes,
// their address spaces and descriptors, the emulated CPUs and the machine's memory, never
// emu's own. Linux's fs/proc. The guest's paths "/proc/..." (and /dev/fd, /dev/stdin,
// /dev/stdout, /dev/stderr, which are links into it) are served here; /proc paths this
// kernel does not make (sys/, mounts, filesystems, ...) are read from the host's /proc.
//
// A file's contents are made when it is opened, and read from that snapshot (Linux makes
// them as they are read; a reader that opens, reads to the end and closes sees the same).
// The links /proc/PID/fd/N, cwd, exe and root lead where they lead on Linux: opening fd/N
// opens the guest's own file again (a pipe's end, the same regular file with a new offset),
// not a host descriptor of emu.

// procKind is what a /proc entry is.
type procKind uint8

const (
	procFileKind procKind = iota
	procDirKind
	procLinkKind
)

// procEnt is one /proc entry, made for a lookup.
type procEnt struct {
	kind  procKind
	path  string // its path, "/proc/2/maps"
	mode  uint32 // permission bits
	uid   uint32
	gen   func() []byte // a file's contents
	list  func() []procDirent
	child func(name string) (*procEnt, Errno) // a directory's lookup
	link  string                              // a link's text
	// A link's target when followed: a guest file (fd/N), or a host path (cwd, root, exe,
	// and what /proc does not make itself).
	file *File
	host *gpath
}

// procDirent is one entry of a /proc directory listing.
type procDirent struct {
	name string
	typ  uint8 // DT_DIR, DT_REG, DT_LNK
}

const (
	dtDir = 4
	dtReg = 8
	dtLnk = 10
)

// procPath reports whether the guest path g is served by /proc, and its clean form there:
// "/proc/...", with /dev/fd and the standard streams' links taken to /proc/self/fd.
func (k *Kernel) procPath(p *Process, g gpath) (string, bool) {
	if !strings.HasPrefix(g.name, "/") {
		return "", false
	}
	c := path.Clean(g.name)
	if strings.HasSuffix(g.name, "/") || strings.HasSuffix(g.name, "/.") {
		switch {
		case c == "/proc" || strings.HasPrefix(c, "/proc/"):
			return c + "/", true
		case c == "/dev/fd" || strings.HasPrefix(c, "/dev/fd/"):
			return "/proc/self/fd" + c[len("/dev/fd"):] + "/", true
		}
	}
	switch {
	case c == "/proc" || strings.HasPrefix(c, "/proc/"):
		return c, true
	case c == "/dev/fd" || strings.HasPrefix(c, "/dev/fd/"):
		return "/proc/self/fd" + c[len("/dev/fd"):], true
	case c == "/dev/stdin":
		return "/proc/self/fd/0", true
	case c == "/dev/stdout":
		return "/proc/self/fd/1", true
	case c == "/dev/stderr":
		return "/proc/self/fd/2", true
	}
	return "", false
}

// procWalk resolves a clean /proc path for p: the entry it names, following the links on
// the way (self, thread-self, and fd/N, cwd, exe, root when more follows), and the last one
// when follow. A walk that leaves /proc through a link (cwd/..., a directory's fd/N/...)
// comes back as an entry with host set to where it leads.
func (k *Kernel) procWalk(p *Process, name string, follow bool) (*procEnt, Errno) {
	follow = follow || strings.HasSuffix(name, "/") // "dir/" names what the link leads to
	parts := strings.Split(strings.TrimPrefix(name, "/proc"), "/")
	var comps []string
	for _, s := range parts {
		if s != "" {
			comps = append(comps, s)
		}
	}
	e := k.procRoot(p)
	for i, c := range comps {
		last := i == len(comps)-1
		if e.kind == procLinkKind {
			if e, _ = k.procFollow(p, e); e == nil {
				return nil, ENOENT
			}
		}
		if e.host != nil {
			rest := strings.Join(comps[i:], "/")
			g := *e.host
			g.name = strings.TrimSuffix(g.name, "/") + "/" + rest
			return &procEnt{host: &g}, 0
		}
		if e.kind != procDirKind {
			return nil, ENOTDIR
		}
		n, err := k.procChild(p, e, c)
		if err != 0 {
			return nil, err
		}
		e = n
		if last && follow && e.kind == procLinkKind {
			return k.procFollow(p, e)
		}
	}
	return e, 0
}

// procFollow is where a link leads: self and thread-self to their directories, the others
// to a guest file or a host path.
func (k *Kernel) procFollow(p *Process, e *procEnt) (*procEnt, Errno) {
	switch {
	case e.file != nil:
		return &procEnt{path: e.path, file: e.file}, 0
	case e.host != nil:
		return &procEnt{path: e.path, host: e.host}, 0
	}
	return k.procWalk(p, "/proc/"+e.link, true)
}

// procRoot is /proc itself.
func (k *Kernel) procRoot(p *Process) *procEnt {
	return &procEnt{kind: procDirKind, path: "/proc", mode: 0o555, list: func() []procDirent {
		out := []procDirent{{"self", dtLnk}, {"thread-self", dtLnk}}
		for _, n := range procTopFiles {
			out = append(out, procDirent{n, dtReg})
		}
		out = append(out, procDirent{"sysvipc", dtDir})
		if k.cfg.Root == "" {
			out = append(out, procDirent{"sys", dtDir}, procDirent{"mounts", dtLnk},
				procDirent{"filesystems", dtReg}, procDirent{"cmdline", dtReg})
		}
		for _, q := range k.procList() {
			out = append(out, procDirent{strconv.Itoa(q.PID), dtDir})
		}
		return out
	}}
}

// procTopFiles are the files /proc makes itself, besides the process directories.
var procTopFiles = []string{"cpuinfo", "meminfo", "stat", "uptime", "loadavg", "version"}

// procList returns the processes /proc shows, in PID order (zombies included, as on Linux).
func (k *Kernel) procList() []*Process {
	var ps []*Process
	for _, q := range k.procs {
		if q.state != procReaped {
			ps = append(ps, q)
		}
	}
	slices.SortFunc(ps, func(a, b *Process) int { return a.PID - b.PID })
	return ps
}

// procChild looks name up in the /proc directory e.
func (k *Kernel) procChild(p *Process, e *procEnt, name string) (*procEnt, Errno) {
	if e.path == "/proc" {
		return k.procTop(p, name)
	}
	if e.child == nil {
		return nil, ENOTDIR
	}
	return e.child(name)
}

// procTop looks name up in /proc: self, thread-self, a PID, one of /proc's own files, or
// anything else from the host's /proc.
func (k *Kernel) procTop(p *Process, name string) (*procEnt, Errno) {
	switch name {
	case "self":
		return &procEnt{kind: procLinkKind, path: "/proc/self", mode: 0o777, link: strconv.Itoa(p.PID)}, 0
	case "thread-self":
		t := k.cur
		if t == nil || t.proc != p {
			t = p.mainThread()
		}
		tid := p.PID
		if t != nil {
			tid = t.TID
		}
		return &procEnt{kind: procLinkKind, path: "/proc/thread-self", mode: 0o777,
			link: fmt.Sprintf("%d/task/%d", p.PID, tid)}, 0
	}
	if pid, err := strconv.Atoi(name); err == nil && strconv.Itoa(pid) == name {
		q := k.procs[pid]
		if q == nil || q.state == procReaped {
			return nil, ENOENT
		}
		return k.procPidDir(p, q, nil), 0
	}
	if name == "sysvipc" {
		return k.procSysvipc(), 0
	}
	if gen := k.procTopGen(name); gen != nil {
		return &procEnt{kind: procFileKind, path: "/proc/" + name, mode: 0o444, gen: gen}, 0
	}
	// Not one of ours: the host's /proc has it, or not (and under --root, not: the host's
	// /proc would lead out of the root).
	if k.cfg.Root != "" {
		return nil, ENOENT
	}
	return &procEnt{host: &gpath{start: k.ns.fs.Root(), name: "proc/" + name}}, 0
}

// procSysvipc is /proc/sysvipc: the System V shared memory segments (sysvshm.go). There are
// no message queues or semaphore sets here.
func (k *Kernel) procSysvipc() *procEnt {
	return &procEnt{kind: procDirKind, path: "/proc/sysvipc", mode: 0o555,
		list: func() []procDirent { return []procDirent{{"shm", dtReg}} },
		child: func(name string) (*procEnt, Errno) {
			if name != "shm" {
				return nil, ENOENT
			}
			return &procEnt{kind: procFileKind, path: "/proc/sysvipc/shm", mode: 0o444, gen: k.procSysvipcShm}, 0
		}}
}

// procTopGen returns the maker of one of /proc's own files.
func (k *Kernel) procTopGen(name string) func() []byte {
	switch name {
	case "cpuinfo":
		return k.procCpuinfo
	case "meminfo":
		return k.procMeminfo
	case "stat":
		return k.procStat
	case "uptime":
		return k.procUptime
	case "loadavg":
		return k.procLoadavg
	case "version":
		return func() []byte {
			return []byte("Linux version 6.18.0-vmemu (vmemu) #1 SMP PREEMPT_DYNAMIC vmemu\n")
		}
	}
	return nil
}

// procPidFiles are the files of /proc/PID (and of /proc/PID/task/TID), in Linux's order.
var procPidFiles = []string{"auxv", "cmdline", "comm", "environ", "limits", "maps", "oom_score", "oom_score_adj",
	"pagemap", "smaps", "smaps_rollup", "stat", "statm", "status"}

// procPidDir is /proc/PID, or /proc/PID/task/TID when t is set.
func (k *Kernel) procPidDir(p, q *Process, t *Thread) *procEnt {
	dir := fmt.Sprintf("/proc/%d", q.PID)
	if t != nil {
		dir = fmt.Sprintf("/proc/%d/task/%d", q.PID, t.TID)
	}
	uid := q.cred.euid
	d := &procEnt{kind: procDirKind, path: dir, mode: 0o555, uid: uid}
	d.list = func() []procDirent {
		out := []procDirent{{"cwd", dtLnk}, {"exe", dtLnk}, {"fd", dtDir}, {"fdinfo", dtDir}, {"root", dtLnk}}
		if t == nil {
			out = append(out, procDirent{"task", dtDir})
		}
		for _, n := range procPidFiles {
			out = append(out, procDirent{n, dtReg})
		}
		return out
	}
	d.child = func(name string) (*procEnt, Errno) {
		ent := func(mode uint32, gen func() []byte) (*procEnt, Errno) {
			return &procEnt{kind: procFileKind, path: dir + "/" + name, mode: mode, uid: uid, gen: gen}, 0
		}
		link := func(text string, target *gpath, f *File) (*procEnt, Errno) {
			return &procEnt{kind: procLinkKind, path: dir + "/" + name, mode: 0o777, uid: uid, link: text, host: target, file: f}, 0
		}
		switch name {
		case "maps":
			return ent(0o444, func() []byte { return k.procMaps(q, false) })
		case "smaps":
			return ent(0o444, func() []byte { return k.procMaps(q, true) })
		case "smaps_rollup":
			return ent(0o444, func() []byte { return k.procSmapsRollup(q) })
		case "pagemap":
			return ent(0o400, nil) // read at offsets: procPagemap
		case "status":
			return ent(0o444, func() []byte { return k.procStatus(q, t) })
		case "stat":
			return ent(0o444, func() []byte { return k.procPidStat(q, t) })
		case "statm":
			return ent(0o444, func() []byte { return k.procStatm(q) })
		case "cmdline":
			return ent(0o444, func() []byte { return k.Cmdline(q) })
		case "environ":
			return ent(0o400, func() []byte { return k.procEnviron(q) })
		case "auxv":
			return ent(0o400, func() []byte {
				if q.mm == nil {
					return nil
				}
				return slices.Clone(q.mm.auxv)
			})
		case "comm":
			th := t
			if th == nil {
				th = q.mainThread()
			}
			return ent(0o644, func() []byte {
				if th == nil {
					return []byte(q.threadlessComm() + "\n")
				}
				return []byte(th.Name() + "\n")
			})
		case "limits":
			return ent(0o444, func() []byte { return procLimits(q) })
		case "oom_score":
			return ent(0o444, func() []byte { return fmt.Appendf(nil, "%d\n", k.oomScore(q)) })
		case "oom_score_adj":
			return ent(0o644, func() []byte { return fmt.Appendf(nil, "%d\n", q.oomScoreAdj) })
		case "exe":
			if q.fs == nil || q.fs.exe == "" {
				return nil, ENOENT
			}
			return link(q.fs.exe, &gpath{start: k.ns.fs.Root(), name: q.fs.exe}, nil)
		case "cwd":
			dir := k.ns.initCwd // a process that never changed directory has emu's first one
			if q.fs != nil && q.fs.cwd != nil {
				dir = q.fs.cwd
			}
			if dir == nil {
				return nil, ENOENT
			}
			cwd, _ := k.guestPathOf(dir.fd)
			return link(cwd, &gpath{start: dir.fd, name: "."}, nil)
		case "root":
			return link("/", &gpath{start: k.ns.fs.Root(), name: "/"}, nil)
		case "fd", "fdinfo":
			return k.procFdDir(q, dir+"/"+name, name == "fdinfo"), 0
		case "task":
			if t != nil {
				return nil, ENOENT
			}
			return k.procTaskDir(p, q, dir+"/task"), 0
		}
		if k.cfg.Root == "" {
			// What this kernel does not make comes from emu's own entry on the host
			// (mountinfo, mounts, cgroup, ns/...), outside --root only.
			return &procEnt{host: &gpath{start: k.ns.fs.Root(), name: "proc/self/" + name}}, 0
		}
		return nil, ENOENT
	}
	return d
}

// procTaskDir is /proc/PID/task: a directory per thread.
func (k *Kernel) procTaskDir(p, q *Process, dir string) *procEnt {
	return &procEnt{kind: procDirKind, path: dir, mode: 0o555, uid: q.cred.euid,
		list: func() []procDirent {
			var out []procDirent
			for _, t := range q.threads {
				if !t.exited {
					out = append(out, procDirent{strconv.Itoa(t.TID), dtDir})
				}
			}
			return out
		},
		child: func(name string) (*procEnt, Errno) {
			for _, t := range q.threads {
				if strconv.Itoa(t.TID) == name && !t.exited {
					return k.procPidDir(p, q, t), 0
				}
			}
			return nil, ENOENT
		}}
}

// procFdDir is /proc/PID/fd (links to the open files) or /proc/PID/fdinfo.
func (k *Kernel) procFdDir(q *Process, dir string, info bool) *procEnt {
	uid := q.cred.euid
	return &procEnt{kind: procDirKind, path: dir, mode: 0o500, uid: uid,
		list: func() []procDirent {
			var out []procDirent
			if q.fds == nil {
				return nil
			}
			for fd, e := range q.fds.fds {
				if e.f != nil {
					typ := uint8(dtLnk)
					if info {
						typ = dtReg
					}
					out = append(out, procDirent{strconv.Itoa(fd), typ})
				}
			}
			return out
		},
		child: func(name string) (*procEnt, Errno) {
			fd, err := strconv.Atoi(name)
			if err != nil || q.fds == nil || fd < 0 {
				return nil, ENOENT
			}
			f := q.fds.get(uint64(fd))
			if f == nil {
				return nil, ENOENT
			}
			if info {
				cloexec := q.fds.fds[fd].cloexec
				return &procEnt{kind: procFileKind, path: dir + "/" + name, mode: 0o444, uid: uid,
					gen: func() []byte { return k.procFdinfo(f, cloexec) }}, 0
			}
			return &procEnt{kind: procLinkKind, path: dir + "/" + name, mode: 0o700, uid: uid,
				link: k.fileLinkName(f), file: f}, 0
		}}
}

// fileLinkName is what readlink of /proc/PID/fd/N says of f: the guest path of a host file
// (with " (deleted)" when it has no name left), "pipe:[ino]", "socket:[ino]",
// "anon_inode:[eventfd]", "/memfd:NAME (deleted)".
func (k *Kernel) fileLinkName(f *File) string {
	switch {
	case f.obj != nil:
		return f.obj.linkName(f)
	case f.kind == filePipe:
		return f.name
	case f.kind == fileShm:
		return f.ino.name
	case f.kind == fileStream:
		return "pipe:[" + strconv.Itoa(1+f.flags&oAccMode) + "]"
	case f.hfd >= 0:
		if gp, ok := k.guestPathOf(f.hfd); ok {
			var st hostfs.Stat
			if hostFstat(f.hfd, &st) == 0 && st.Nlink == 0 && st.Type() == hostfs.S_IFREG {
				gp += " (deleted)"
			}
			return gp
		}
		if hp, e := hostfs.Readlinkat(atFdcwd, procFDPath(f.hfd)); e == 0 {
			return hp // a host pipe or terminal emu was given: the host's name for it
		}
	}
	return f.name
}

// procFdinfo is /proc/PID/fdinfo/N: the position, flags (O_CLOEXEC included), and what the
// object adds.
func (k *Kernel) procFdinfo(f *File, cloexec bool) []byte {
	fl := f.flags
	if cloexec {
		fl |= oCloexec
	}
	var ino uint64
	var st hostfs.Stat
	if k.statOf(f, &st) == 0 {
		ino = st.Ino
	}
	s := fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", f.off, fl, 15, ino)
	switch o := f.obj.(type) {
	case *eventfd:
		s += o.fdinfo()
	case *timerfd:
		s += o.fdinfo(k)
	case *signalfd:
		s += o.fdinfo()
	case *userfaultCtx:
		s += o.fdinfo()
	case *epoll:
		for _, it := range o.items {
			var ist hostfs.Stat
			k.statOf(it.file, &ist)
			s += fmt.Sprintf("tfd: %8d events: %8x data: %16x  pos:%d ino:%x sdev:%x\n",
				it.fd, it.events, it.data, it.file.off, ist.Ino, ist.Dev)
		}
	}
	if f.ino != nil && f.ino.memfd != nil {
		// memfd seals are not shown in fdinfo on Linux either; nothing to add.
	}
	return []byte(s)
}

// procInode is a /proc entry's inode number, made from its path (stable for a path).
func procInode(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	return h.Sum64()&0xffffff | 0x1000000
}

// procStatOf fills st for a /proc entry (not followed).
func (k *Kernel) procStatOf(e *procEnt, st *hostfs.Stat) {
	*st = hostfs.Stat{Dev: 0x16, Ino: procInode(e.path), Nlink: 1, Uid: e.uid, Gid: e.uid, Blksize: 1024}
	now := int64(k.realtimeNS())
	st.Atim = hostfs.Timespec{Sec: now / nsPerSec, Nsec: now % nsPerSec}
	st.Mtim, st.Ctim = st.Atim, st.Atim
	switch e.kind {
	case procDirKind:
		st.Mode = hostfs.S_IFDIR | e.mode
		st.Nlink = 2
	case procLinkKind:
		st.Mode = hostfs.S_IFLNK | e.mode
		st.Size = int64(len(e.link))
	default:
		st.Mode = hostfs.S_IFREG | e.mode
	}
}

// --- the open files of /proc ---

// procOpenFile is an open /proc file: its contents, made at open.
type procOpenFile struct {
	ent  *procEnt
	data []byte
	q    *Process // pagemap's process
}

func (o *procOpenFile) linkName(f *File) string       { return o.ent.path }
func (o *procOpenFile) stat(f *File, st *hostfs.Stat) { f.k.procStatOf(o.ent, st) }

// readAt reads the snapshot (or pagemap's entries) at off.
func (o *procOpenFile) readAt(k *Kernel, p *Process, f *File, dst *uio, off uint64) int64 {
	if o.ent.gen == nil && strings.HasSuffix(o.ent.path, "/pagemap") {
		return k.procPagemap(p, o.q, dst, off)
	}
	if off >= uint64(len(o.data)) {
		return 0
	}
	n, ok := dst.store(k, p, 0, o.data[off:min(uint64(len(o.data)), off+dst.total)])
	if !ok && n == 0 {
		return -int64(EFAULT)
	}
	return int64(n)
}

func (o *procOpenFile) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	r := o.readAt(k, p, f, dst, f.off)
	if r > 0 {
		f.off += uint64(r)
	}
	return r
}

// write accepts what a writable file takes (oom_score_adj, comm) and changes nothing else.
func (o *procOpenFile) write(k *Kernel, p *Process, f *File, src *uio) int64 {
	if o.ent.mode&0o200 == 0 {
		return -int64(EINVAL)
	}
	if strings.HasSuffix(o.ent.path, "/oom_score_adj") && o.q != nil {
		return k.writeOOMScoreAdj(p, o.q, src)
	}
	if strings.HasSuffix(o.ent.path, "/comm") && o.q != nil {
		b := make([]byte, min(src.total, 64))
		n, _ := src.load(k, p, 0, b)
		name := strings.TrimSuffix(string(b[:n]), "\n")
		if t := o.q.mainThread(); t != nil && !strings.Contains(o.ent.path, "/task/") {
			t.comm = [16]byte{}
			copy(t.comm[:15], name)
		}
	}
	return int64(src.total)
}

// procOpenDir is an open /proc directory.
type procOpenDir struct {
	ent  *procEnt
	ents []procDirent
}

func (o *procOpenDir) linkName(f *File) string       { return o.ent.path }
func (o *procOpenDir) stat(f *File, st *hostfs.Stat) { f.k.procStatOf(o.ent, st) }

// getdents lays out the directory's entries (".", ".." and the list) as struct
// linux_dirent64 records from position f.off, as many as fit in n bytes.
func (o *procOpenDir) getdents(k *Kernel, f *File, n uint64) ([]byte, Errno) {
	all := append([]procDirent{{".", dtDir}, {"..", dtDir}}, o.ents...)
	var out []byte
	for i := int(f.off); i < len(all); i++ {
		d := all[i]
		reclen := (19 + len(d.name) + 1 + 7) &^ 7
		if uint64(len(out)+reclen) > n {
			if len(out) == 0 {
				return nil, EINVAL
			}
			break
		}
		rec := make([]byte, reclen)
		le.PutUint64(rec[0:], procInode(o.ent.path+"/"+d.name))
		le.PutUint64(rec[8:], uint64(i+1))
		le.PutUint16(rec[16:], uint16(reclen))
		rec[18] = d.typ
		copy(rec[19:], d.name)
		out = append(out, rec...)
		f.off = uint64(i + 1)
	}
	return out, 0
}

// procOpen opens the /proc path name for p with open flags, as Linux's proc files open:
// files read-only unless writable (EACCES), directories with O_DIRECTORY, links followed
// (fd/N reopens the guest's file; cwd, exe and root open the host file they name) unless
// O_NOFOLLOW (ELOOP) or O_PATH.
func (k *Kernel) procOpen(p *Process, name string, flags int, mode uint32) (*File, Errno) {
	nofollow := flags&oNofollow != 0
	e, err := k.procWalk(p, name, !nofollow)
	if err != 0 {
		if err == ENOENT && flags&oCreat != 0 {
			return nil, EACCES
		}
		return nil, err
	}
	isLink := e.kind == procLinkKind // only when not followed
	if e.host != nil && !isLink {
		return k.openFile(p, *e.host, flags, mode)
	}
	if e.file != nil && !isLink {
		return k.reopen(p, e.file, flags)
	}
	if flags&(oCreat|oExcl) == oCreat|oExcl {
		return nil, EEXIST
	}
	acc := flags & oAccMode
	switch e.kind {
	case procLinkKind:
		if flags&oPath == 0 {
			return nil, ELOOP
		}
	case procDirKind:
		if acc != oRdonly && flags&oPath == 0 {
			return nil, EISDIR
		}
		o := &procOpenDir{ent: e, ents: e.list()}
		f := k.newSpecial(o, e.path, flags)
		f.flags = flags &^ (oCreat | oExcl | oNoctty | oTrunc | oCloexec)
		return f, 0
	default:
		if flags&oDirectory != 0 {
			return nil, ENOTDIR
		}
		// Write permission as the mode says, CAP_DAC_OVERRIDE bypassing it; a file that
		// takes no writes then fails them (EINVAL), as a file without a write method.
		if acc != oRdonly && e.mode&0o200 == 0 && !p.cred.capable(1 /* CAP_DAC_OVERRIDE */) {
			return nil, EACCES
		}
	}
	o := &procOpenFile{ent: e, q: k.procOwner(e.path)}
	if e.gen != nil && flags&oPath == 0 {
		o.data = e.gen()
	}
	f := k.newSpecial(o, e.path, flags)
	f.flags = flags &^ (oCreat | oExcl | oNoctty | oTrunc | oCloexec)
	return f, 0
}

// procOwner returns the process a /proc/PID/... path is about.
func (k *Kernel) procOwner(name string) *Process {
	rest := strings.TrimPrefix(name, "/proc/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	if pid, err := strconv.Atoi(rest); err == nil {
		return k.procs[pid]
	}
	return nil
}

// reopen is opening /proc/PID/fd/N: a new open file description of the same object with
// the new flags. A host file is opened again by the host (a regular file by its guest name);
// a pipe gets a new end of the same pipe; a memfd a new description of the same memory;
// a socket, or an anonymous inode, cannot be opened so (ENXIO).
func (k *Kernel) reopen(p *Process, f *File, flags int) (*File, Errno) {
	acc := flags & oAccMode
	fl := flags&^(oCreat|oExcl|oNoctty|oTrunc|oCloexec) | oLargefile
	switch f.kind {
	case filePipe:
		pp := f.pipe
		n := &File{k: k, kind: filePipe, name: f.name, pipe: pp, hfd: -1, flags: fl &^ oLargefile, refs: 1}
		if acc != oWronly {
			pp.readers++
		}
		if acc != oRdonly {
			pp.writers++
		}
		return n, 0
	case fileShm:
		n := &File{k: k, kind: fileShm, name: f.name, ino: f.ino, hfd: -1, flags: fl, refs: 1}
		f.ino.refs++
		return n, 0
	case fileStream:
		return &File{k: k, kind: fileStream, name: f.name, r: f.r, w: f.w, hfd: -1, flags: fl &^ oLargefile, refs: 1}, 0
	case fileSpecial:
		return nil, ENXIO
	}
	if f.hfd < 0 {
		return nil, ENXIO
	}
	if f.kind == fileRegular || f.kind == fileDir {
		if gp, ok := k.guestPathOf(f.hfd); ok {
			return k.openFile(p, gpath{start: k.ns.fs.Root(), name: gp}, flags, 0)
		}
		return nil, ENOENT
	}
	// A host device, FIFO or socket emu was given (its standard streams): the host opens
	// it again.
	if e := k.takeHostFD(); e != 0 {
		return nil, e
	}
	hfd, he := hostfs.Openat(atFdcwd, procFDPath(f.hfd), flags&^(oCreat|oExcl|oCloexec)|oCloexec, 0)
	if he != 0 {
		k.releaseHostFD()
		return nil, Errno(he)
	}
	return &File{k: k, kind: fileDevice, name: f.name, hfd: hfd, flags: fl &^ oLargefile, refs: 1}, 0
}

// procStatPath is stat and lstat of a /proc path.
func (k *Kernel) procStatPath(p *Process, name string, follow bool, st *hostfs.Stat) Errno {
	e, err := k.procWalk(p, name, follow)
	if err != 0 {
		return err
	}
	isLink := e.kind == procLinkKind // only when not followed
	switch {
	case e.host != nil && !isLink:
		return k.statPath(p, *e.host, follow, st)
	case e.file != nil && !isLink:
		return k.statOf(e.file, st)
	}
	k.procStatOf(e, st)
	return 0
}

// procReadlink is readlink of a /proc path: the link's text, EINVAL for what is not a link.
func (k *Kernel) procReadlink(p *Process, name string) (string, Errno) {
	e, err := k.procWalk(p, name, false)
	if err != 0 {
		return "", err
	}
	if e.kind != procLinkKind {
		return "", EINVAL
	}
	return e.link, 0
}

// procResolveAt is resolveAt for a /proc path: a host descriptor for where a link leads
// out of /proc, the guest file of fd/N, or a /proc entry as an open file of its own.
func (k *Kernel) procResolveAt(p *Process, name string, follow bool) (atTarget, Errno) {
	e, err := k.procWalk(p, name, follow)
	switch {
	case err != 0:
		return atTarget{fd: -1}, err
	case e.kind == procLinkKind: // a link not followed: the link itself
	case e.host != nil:
		fd, err := k.lookupPath(p, *e.host, follow)
		if err != 0 {
			return atTarget{fd: -1}, err
		}
		return atTarget{fd: fd, own: true}, 0
	case e.file != nil:
		return atTarget{file: e.file, fd: e.file.hfd}, 0
	}
	var obj fileObject = &procOpenFile{ent: e}
	if e.kind == procDirKind {
		obj = &procOpenDir{ent: e}
	}
	return atTarget{file: k.newSpecial(obj, e.path, oPath), fd: -1}, 0
}

// procLoc is where a /proc path leads on the host, for the calls that act on a host file
// (chmod, truncate, xattrs, ...): the host file of a guest descriptor (fd/N, through emu's
// own descriptor of it), or the host path a link leads to. /proc's own entries have no host
// file: EACCES, as a change of one is refused.
func (k *Kernel) procLoc(p *Process, name string, follow bool) (hostfs.Loc, Errno) {
	e, err := k.procWalk(p, name, follow)
	switch {
	case err != 0:
		return hostfs.Loc{}, err
	case e.kind == procLinkKind:
		return hostfs.Loc{}, EACCES
	case e.host != nil:
		return k.lookup(p, *e.host, follow)
	case e.file != nil && e.file.hfd >= 0:
		return hostfs.Loc{Dir: atFdcwd, Name: procFDPath(e.file.hfd), Follow: true}, 0
	}
	return hostfs.Loc{}, EACCES
}

// procHostPath returns, for a /proc path that leads out of the emulated /proc, where it
// leads (for readlink of a host path under /proc/sys and the like).
func (k *Kernel) procHostPath(p *Process, name string, follow bool) (gpath, bool) {
	e, err := k.procWalk(p, name, follow)
	if err != 0 || e.host == nil || e.kind == procLinkKind {
		return gpath{}, false
	}
	return *e.host, true
}

var _ = bytes.MinRead
