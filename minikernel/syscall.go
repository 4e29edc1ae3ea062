package minikernel

import (
	"fmt"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/internal/safetext"
)

// Errno is a Linux error number; a system call returns -errno.
type Errno int64

// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	ESRCH        Errno = 3
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	E2BIG        Errno = 7
	ENOEXEC      Errno = 8
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ESPIPE       Errno = 29
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	EDEADLK      Errno = 35
	ENAMETOOLONG Errno = 36
	ENOSYS       Errno = 38
	EOVERFLOW    Errno = 75
	EOPNOTSUPP   Errno = 95
	ETIMEDOUT    Errno = 110
)

// System-call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysRead      = 0
	sysWrite     = 1
	sysBrk       = 12
	sysExit      = 60
	sysArchPrctl = 158
	sysExitGroup = 231
)

// syscallFn implements one system call. It returns the value for RAX: a result, or -errno;
// or sysBlocks when the caller must sleep (the call then finishes when it is woken).
type syscallFn func(k *Kernel, p *Process, a *[6]uint64) int64

// sysBlocks is a system call's answer when the caller went to sleep.
const sysBlocks = waitBlocks

type syscallEntry struct {
	name string
	fn   syscallFn
}

// syscalls is the system-call table, indexed by number. A number it lacks (no fn) is
// ENOSYS, as on Linux. An array, not a map, so that the linker lays it out and starting emu
// builds nothing.
var syscalls = [...]syscallEntry{
	0:   {"read", sysReadFn},
	1:   {"write", sysWriteFn},
	2:   {"open", sysOpen},
	3:   {"close", sysClose},
	4:   {"stat", sysStat},
	5:   {"fstat", sysFstat},
	6:   {"lstat", sysLstat},
	8:   {"lseek", sysLseek},
	9:   {"mmap", sysMmap},
	10:  {"mprotect", sysMprotect},
	11:  {"munmap", sysMunmap},
	12:  {"brk", sysBrkFn},
	13:  {"rt_sigaction", sysRtSigaction},
	14:  {"rt_sigprocmask", sysRtSigprocmask},
	15:  {"rt_sigreturn", sysRtSigreturn},
	16:  {"ioctl", sysIoctl},
	17:  {"pread64", sysPread},
	18:  {"pwrite64", sysPwrite},
	19:  {"readv", sysReadv},
	20:  {"writev", sysWritev},
	21:  {"access", sysAccess},
	24:  {"sched_yield", sysSchedYield},
	25:  {"mremap", sysMremap},
	26:  {"msync", sysMsync},
	27:  {"mincore", sysMincore},
	28:  {"madvise", sysMadvise},
	32:  {"dup", sysDup},
	33:  {"dup2", sysDup2},
	34:  {"pause", sysPause},
	35:  {"nanosleep", sysNanosleep},
	36:  {"getitimer", sysGetitimer},
	37:  {"alarm", sysAlarm},
	38:  {"setitimer", sysSetitimer},
	39:  {"getpid", sysGetpid},
	56:  {"clone", sysClone},
	57:  {"fork", sysFork},
	58:  {"vfork", sysVfork},
	59:  {"execve", sysExecve},
	60:  {"exit", sysExitFn},
	61:  {"wait4", sysWait4},
	62:  {"kill", sysKill},
	63:  {"uname", sysUname},
	72:  {"fcntl", sysFcntl},
	79:  {"getcwd", sysGetcwd},
	87:  {"unlink", sysUnlink},
	96:  {"gettimeofday", sysGettimeofday},
	97:  {"getrlimit", sysGetrlimit},
	102: {"getuid", sysGetuid},
	104: {"getgid", sysGetgid},
	107: {"geteuid", sysGeteuid},
	108: {"getegid", sysGetegid},
	109: {"setpgid", sysSetpgid},
	110: {"getppid", sysGetppid},
	111: {"getpgrp", sysGetpgrp},
	112: {"setsid", sysSetsid},
	121: {"getpgid", sysGetpgid},
	124: {"getsid", sysGetsid},
	135: {"personality", sysPersonality},
	140: {"getpriority", sysGetpriority},
	141: {"setpriority", sysSetpriority},
	142: {"sched_setparam", sysSchedSetparam},
	143: {"sched_getparam", sysSchedGetparam},
	144: {"sched_setscheduler", sysSchedSetscheduler},
	145: {"sched_getscheduler", sysSchedGetscheduler},
	146: {"sched_get_priority_max", sysSchedGetPriorityMax},
	147: {"sched_get_priority_min", sysSchedGetPriorityMin},
	148: {"sched_rr_get_interval", sysSchedRRGetInterval},
	253: {"inotify_init", sysInotifyInit},
	254: {"inotify_add_watch", sysInotifyAddWatch},
	255: {"inotify_rm_watch", sysInotifyRmWatch},
	294: {"inotify_init1", sysInotifyInit1},
	251: {"ioprio_set", sysIoprioSet},
	252: {"ioprio_get", sysIoprioGet},
	127: {"rt_sigpending", sysRtSigpending},
	128: {"rt_sigtimedwait", sysRtSigtimedwait},
	129: {"rt_sigqueueinfo", sysRtSigqueueinfo},
	130: {"rt_sigsuspend", sysRtSigsuspend},
	131: {"sigaltstack", sysSigaltstack},
	157: {"prctl", sysPrctl},
	158: {"arch_prctl", sysArchPrctlFn},
	160: {"setrlimit", sysSetrlimit},
	186: {"gettid", sysGettid},
	200: {"tkill", sysTkill},
	201: {"time", sysTime},
	218: {"set_tid_address", sysSetTidAddress},
	219: {"restart_syscall", sysRestartSyscall},
	228: {"clock_gettime", sysClockGettime},
	229: {"clock_getres", sysClockGetres},
	230: {"clock_nanosleep", sysClockNanosleep},
	231: {"exit_group", sysExitGroupFn},
	234: {"tgkill", sysTgkill},
	257: {"openat", sysOpenat},
	262: {"newfstatat", sysNewfstatat},
	263: {"unlinkat", sysUnlinkat},
	269: {"faccessat", sysFaccessat},
	273: {"set_robust_list", sysSetRobustList},

	// Threads, futexes, several CPUs and process descriptors (the threads issue).
	202: {"futex", sysFutex},
	203: {"sched_setaffinity", sysSchedSetaffinity},
	204: {"sched_getaffinity", sysSchedGetaffinity},
	247: {"waitid", sysWaitid},
	274: {"get_robust_list", sysGetRobustList},
	297: {"rt_tgsigqueueinfo", sysRtTgsigqueueinfo},
	309: {"getcpu", sysGetcpu},
	424: {"pidfd_send_signal", sysPidfdSendSignal},
	434: {"pidfd_open", sysPidfdOpen},
	435: {"clone3", sysClone3},
	438: {"pidfd_getfd", sysPidfdGetfd},
	449: {"futex_waitv", sysFutexWaitv},
	292: {"dup3", sysDup3},
	302: {"prlimit64", sysPrlimit64},
	318: {"getrandom", sysGetrandom},

	// Files, pipes and waiting (the files issue).
	7:   {"poll", sysPoll},
	22:  {"pipe", sysPipe},
	23:  {"select", sysSelect},
	40:  {"sendfile", sysSendfile},
	74:  {"fsync", sysFsync},
	75:  {"fdatasync", sysFsync},
	76:  {"truncate", sysTruncate},
	77:  {"ftruncate", sysFtruncate},
	80:  {"chdir", sysChdir},
	81:  {"fchdir", sysFchdir},
	82:  {"rename", sysRename},
	83:  {"mkdir", sysMkdir},
	84:  {"rmdir", sysRmdir},
	85:  {"creat", sysCreat},
	86:  {"link", sysLink},
	88:  {"symlink", sysSymlink},
	89:  {"readlink", sysReadlink},
	90:  {"chmod", sysChmod},
	91:  {"fchmod", sysFchmod},
	95:  {"umask", sysUmask},
	133: {"mknod", sysMknod},
	137: {"statfs", sysStatfs},
	138: {"fstatfs", sysFstatfs},
	259: {"mknodat", sysMknodat},
	99:  {"sysinfo", sysSysinfo},
	100: {"times", sysTimes},
	115: {"getgroups", sysGetgroups},
	118: {"getresuid", sysGetresuid},
	120: {"getresgid", sysGetresgid},
	162: {"sync", sysSync},
	217: {"getdents64", sysGetdents64},
	258: {"mkdirat", sysMkdirat},
	264: {"renameat", sysRenameat},
	265: {"linkat", sysLinkat},
	266: {"symlinkat", sysSymlinkat},
	267: {"readlinkat", sysReadlinkat},
	268: {"fchmodat", sysFchmodat},
	270: {"pselect6", sysPselect6},
	271: {"ppoll", sysPpoll},
	280: {"utimensat", sysUtimensat},
	132: {"utime", sysUtime},
	235: {"utimes", sysUtimes},
	261: {"futimesat", sysFutimesat},
	293: {"pipe2", sysPipe2},
	295: {"preadv", sysPreadv},
	296: {"pwritev", sysPwritev},
	306: {"syncfs", sysSyncfs},
	316: {"renameat2", sysRenameat2},
	332: {"statx", sysStatx},
	436: {"close_range", sysCloseRange},
	439: {"faccessat2", sysFaccessat2},

	// What real programs call (the realprogs issue).
	92:  {"chown", sysChown},
	93:  {"fchown", sysFchown},
	94:  {"lchown", sysLchown},
	105: {"setuid", sysSetuid},
	106: {"setgid", sysSetgid},
	113: {"setreuid", sysSetreuid},
	114: {"setregid", sysSetregid},
	116: {"setgroups", sysSetgroups},
	117: {"setresuid", sysSetresuid},
	119: {"setresgid", sysSetresgid},
	122: {"setfsuid", sysSetfsuid},
	123: {"setfsgid", sysSetfsgid},
	125: {"capget", sysCapget},
	126: {"capset", sysCapset},
	260: {"fchownat", sysFchownat},
	221: {"fadvise64", sysFadvise64},
	73:  {"flock", sysFlock},
	98:  {"getrusage", sysGetrusage},
	222: {"timer_create", sysTimerCreate},
	223: {"timer_settime", sysTimerSettime},
	224: {"timer_gettime", sysTimerGettime},
	225: {"timer_getoverrun", sysTimerGetoverrun},
	226: {"timer_delete", sysTimerDelete},
	41:  {"socket", sysSocket},
	42:  {"connect", sysConnect},
	43:  {"accept", sysAccept},
	44:  {"sendto", sysSendto},
	45:  {"recvfrom", sysRecvfrom},
	46:  {"sendmsg", sysSendmsg},
	47:  {"recvmsg", sysRecvmsg},
	48:  {"shutdown", sysShutdown},
	49:  {"bind", sysBind},
	50:  {"listen", sysListen},
	51:  {"getsockname", sysGetsockname},
	52:  {"getpeername", sysGetpeername},
	53:  {"socketpair", sysSocketpair},
	54:  {"setsockopt", sysSetsockopt},
	55:  {"getsockopt", sysGetsockopt},
	288: {"accept4", sysAccept4},
	299: {"recvmmsg", sysRecvmmsg},
	307: {"sendmmsg", sysSendmmsg},
	213: {"epoll_create", sysEpollCreate},
	232: {"epoll_wait", sysEpollWait},
	233: {"epoll_ctl", sysEpollCtl},
	281: {"epoll_pwait", sysEpollPwait},
	291: {"epoll_create1", sysEpollCreate1},
	441: {"epoll_pwait2", sysEpollPwait2},
	284: {"eventfd", sysEventfd},
	290: {"eventfd2", sysEventfd2},
	283: {"timerfd_create", sysTimerfdCreate},
	286: {"timerfd_settime", sysTimerfdSettime},
	287: {"timerfd_gettime", sysTimerfdGettime},
	282: {"signalfd", sysSignalfd},
	289: {"signalfd4", sysSignalfd4},
	149: {"mlock", sysMlock},
	150: {"munlock", sysMunlock},
	151: {"mlockall", sysMlockall},
	152: {"munlockall", sysMunlockall},
	325: {"mlock2", sysMlock2},
	285: {"fallocate", sysFallocate},
	326: {"copy_file_range", sysCopyFileRange},
	319: {"memfd_create", sysMemfdCreate},
	29:  {"shmget", sysShmget},
	30:  {"shmat", sysShmat},
	31:  {"shmctl", sysShmctl},
	67:  {"shmdt", sysShmdt},
	323: {"userfaultfd", sysUserfaultfd},
	324: {"membarrier", sysMembarrier},
	188: {"setxattr", sysSetxattr},
	189: {"lsetxattr", sysLsetxattr},
	190: {"fsetxattr", sysFsetxattr},
	191: {"getxattr", sysGetxattr},
	192: {"lgetxattr", sysLgetxattr},
	193: {"fgetxattr", sysFgetxattr},
	194: {"listxattr", sysListxattr},
	195: {"llistxattr", sysLlistxattr},
	196: {"flistxattr", sysFlistxattr},
	197: {"removexattr", sysRemovexattr},
	198: {"lremovexattr", sysLremovexattr},
	199: {"fremovexattr", sysFremovexattr},
}

// SyscallName returns the name of system call nr ("" if the kernel does not know it).
func SyscallName(nr uint64) string {
	if nr < uint64(len(syscalls)) {
		return syscalls[nr].name
	}
	return ""
}

// syscall runs the system call the current process asked for. SYSCALL has already put the
// return address in RCX and RFLAGS in R11; the result goes to RAX, as on Linux.
func (k *Kernel) syscall(p *Process) {
	c := k.cpu
	nr := c.Reg(cpu.RAX)
	a := [6]uint64{c.Reg(cpu.RDI), c.Reg(cpu.RSI), c.Reg(cpu.RDX), c.Reg(cpu.R10), c.Reg(cpu.R8), c.Reg(cpu.R9)}
	var e syscallEntry
	if nr < uint64(len(syscalls)) {
		e = syscalls[nr]
	}
	ok := e.fn != nil
	t := k.cur
	t.sig.sysnr = int64(nr) // orig_ax: the return to user mode may restart the call
	t.uffdPend = nil
	k.reclaimIfLow(false) // direct reclaim, while the call holds nothing
	var ret int64
	if ok {
		ret = e.fn(k, p, &a)
	} else {
		ret = -int64(ENOSYS)
		if nr < uint64(len(linuxSyscallNames)) {
			e.name = linuxSyscallNames[nr]
		}
		if e.name == "" {
			e.name = fmt.Sprintf("syscall_%d", nr)
		}
	}
	if u := t.uffdPend; u != nil {
		// A copy faulted on a page handed to a userfaultfd: the call runs again once the
		// page is resolved (userfaultfd.go).
		t.uffdPend = nil
		if v := p.mm.Find(u.addr); !(ret == sysBlocks && t.sleep != nil) && !t.exited && k.cur == t &&
			v != nil && v.uffd != nil && k.handOver(p, v, u.addr, u.flags, int64(nr)) {
			return
		}
	}
	if ret == sysBlocks && t.sleep != nil {
		// Asleep (sleep.go): resumeSleep finishes the call when the thread is woken.
		t.sleep.sysno, t.sleep.name, t.sleep.args = nr, e.name, a
		return
	}
	k.finishSyscall(t, nr, e.name, &a, ret)
}

// finishSyscall puts a system call's result in the RAX of t, the thread that made it (the
// one on this CPU, unless the call ended it), and reports the call.
func (k *Kernel) finishSyscall(t *Thread, nr uint64, name string, a *[6]uint64, ret int64) {
	e := Event{Kind: EvSyscall, PID: t.proc.PID, TID: t.TID, Sysno: nr, Name: name, Args: *a, Ret: ret}
	if !t.exited && k.cur == t {
		k.cpu.SetReg(cpu.RAX, uint64(ret))
		e.RIP = k.cpu.RIP()
	} else {
		e.RIP = t.regs.RIP
	}
	k.emit(&e)
}

// exit(status): end the calling thread; the process ends with its last thread (exit.c's
// do_exit()).
func sysExitFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.exitThread(k.cur, int(a[0]&0xff)<<8)
	return 0
}

// exit_group(status): end every thread of the process (do_group_exit()).
func sysExitGroupFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.exit(p, int(a[0]&0xff)<<8)
	return 0
}

// arch_prctl(code, addr): set or get the FS and GS bases.
func sysArchPrctlFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		archSetGS = 0x1001
		archSetFS = 0x1002
		archGetFS = 0x1003
		archGetGS = 0x1004
	)
	var buf [8]byte
	switch a[0] {
	case archSetFS:
		if a[1] >= userTop {
			return -int64(EPERM)
		}
		k.cpu.SetFSBase(a[1])
	case archSetGS:
		if a[1] >= userTop {
			return -int64(EPERM)
		}
		k.cpu.SetGSBase(a[1])
	case archGetFS, archGetGS:
		v := k.cpu.FSBase()
		if a[0] == archGetGS {
			v = k.cpu.GSBase()
		}
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		if _, ok := k.copyOut(p, a[1], buf[:]); !ok {
			return -int64(EFAULT)
		}
	default:
		return -int64(EINVAL)
	}
	return 0
}

// logf writes one line of the kernel's own to its log.
func (k *Kernel) logf(format string, args ...any) {
	fmt.Fprintf(k.log, "emu: %s\n", safetext.Escape(fmt.Sprintf(format, args...)))
}
