//go:build !windows

package testprogs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/minikernel"
)

// What real programs call (the realprogs issue): the rp_ programs of src/musl/rp_*.c, each
// built against musl and glibc, static and dynamic, run natively and on the emulator with
// the same output, exit status and files left behind.

// rpBuilds are the four builds of an rp_ program.
func rpBuilds(name string) []string {
	return []string{"musl_" + name, "glibc_" + name, "dynmusl_" + name, "dynglibc_" + name}
}

// sameRP runs every build of rp_ program name in fresh directories, natively and emulated.
func sameRP(t *testing.T, name string) {
	for _, prog := range rpBuilds(name) {
		t.Run(prog, func(t *testing.T) {
			r := sameInDirs(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// Scripts as execve runs them: the interpreter and its one argument, the script's path in
// argv, nesting to Linux's limit and ELOOP past it, ENOENT, EACCES and ENOEXEC where Linux
// gives them, and an empty argv (argc 1, argv[0] "").
func TestScriptsMatchNative(t *testing.T) { sameRP(t, "rp_script") }

// Identities and ownership: get*id, set*id by Linux's rules, capabilities, chown and
// friends on host files, and (as root) a child that drops to nobody.
func TestIdentitiesMatchNative(t *testing.T) { sameRP(t, "rp_ids") }

// The wall clock starts at the host's time, and files the guest writes, truncates, creates
// or touches carry the guest's time: never in the future, never before the start.
func TestClockFilesMatchNative(t *testing.T) { sameRP(t, "rp_clock") }

// CLOCK_REALTIME, gettimeofday and time start at the host's time by default, and at
// Config.Realtime (emu run --clock-start) when it is set.
func TestRealtimeStartsAtTheHostsTime(t *testing.T) {
	before := time.Now().Unix()
	r := runEmu(t, "musl_rp_clock", "", nil)
	after := time.Now().Unix()
	require.Equal(t, 0, r.Code, r.Log)
	lines := strings.Fields(r.Stdout)
	require.Len(t, lines, 3)
	for _, l := range lines {
		v, err := strconv.ParseInt(l, 10, 64)
		require.NoError(t, err)
		assert.True(t, v >= before && v <= after, "guest time %d outside the host's [%d, %d]", v, before, after)
	}
	fixed := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r = runEmu(t, "musl_rp_clock", "", nil, func(c *minikernel.Config) { c.Realtime = fixed })
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, "1704067200\n1704067200\n1704067200\n", r.Stdout)
	again := runEmu(t, "musl_rp_clock", "", nil, func(c *minikernel.Config) { c.Realtime = fixed })
	assert.Equal(t, r.Stats.Instructions, again.Stats.Instructions, "a fixed start makes runs identical")
}

// prctl: names, the parent-death signal, dumpable, keepcaps, no_new_privs, the bounding
// set, timer slack, THP, the TID address, the auxiliary vector, and memory-deny-write-
// execute with its fork and no-inherit rules.
func TestPrctlMatchesNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_prctl") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// PR_SET_VMA names anonymous memory as Linux does when built with CONFIG_ANON_VMA_NAME,
// which not every host kernel is (this is checked against Linux 6.18's answers, not the
// host's).
func TestPrctlSetVMA(t *testing.T) {
	r := runEmu(t, "musl_rp_prctl", "", []string{"vma"})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, strings.Join([]string{
		"PR_SET_VMA(anon name)                        0",
		"PR_SET_VMA(bad char)                         -1 EINVAL",
		"PR_SET_VMA(unaligned)                        -1 EINVAL",
		"PR_SET_VMA(clear)                            0",
		"PR_SET_VMA(bad option)                       -1 EINVAL",
		"PR_SET_VMA(unmapped)                         -1 ENOMEM", ""}, "\n"), r.Stdout)
}

// memfd_create and its seals, /dev/zero mappings, fallocate, copy_file_range and fadvise64,
// shared between processes and seen through mappings.
func TestMemfdMatchesNative(t *testing.T) { sameRP(t, "rp_memfd") }

// System V shared memory: shmget/shmat/shmdt/shmctl with their errors, a segment shared by
// a parent and its child, the attach count through fork, splits and detaches, /proc/self/maps
// and /proc/sysvipc/shm, IPC_RMID while attached and the end at the last detach.
func TestSysVShmMatchesNative(t *testing.T) { sameRP(t, "rp_shm") }

// Guard regions (MADV_GUARD_INSTALL/REMOVE): SIGSEGV on the guard page only, EFAULT for
// system calls, kept by MADV_DONTNEED, mprotect and fork, moved by mremap, dropped by munmap
// and GUARD_REMOVE, flagged in pagemap; anonymous, file and shared mappings.
// Linux gained guard regions in 6.13 (on file mappings in 6.15): each build's emulated run
// is compared with testdata/rp_guard.txt, recorded on Linux 6.18, and with the host's run
// where the host gives that output (a host without guard regions gives EINVAL instead,
// which the test logs).
func TestGuardRegionsMatchNative(t *testing.T) {
	sameAsRecording(t, "rp_guard", "no guard regions before 6.13, none on files before 6.15")
}

// sameAsRecording runs every build of rp_ program name natively and on the emulator, whose
// output must be the host's and testdata/NAME.txt's, recorded on Linux 6.18 as root. Where
// the host answers otherwise (an older kernel: why says how; or a user without the
// privilege the program asks for), the emulator must give one of the two: the recording
// (it models Linux 6.18) or the host's (it models the same user); the test logs which.
func sameAsRecording(t *testing.T, name, why string) {
	want, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
	require.NoError(t, err)
	for _, prog := range rpBuilds(name) {
		t.Run(prog, func(t *testing.T) {
			nd, ed := t.TempDir(), t.TempDir()
			got := runEmu(t, prog, "", []string{ed})
			assert.Equal(t, 0, got.Code, got.Log)
			native := runNative(t, prog, "", nd)
			switch {
			case native.Stdout == string(want):
				assert.Equal(t, native.Stdout, got.Stdout, "%s: standard output differs", prog)
				assert.Equal(t, native.Code, got.Code)
				assert.Equal(t, tree(t, nd), tree(t, ed), "files left in the directory differ")
			case got.Stdout == native.Stdout:
				t.Logf("this host answers otherwise than Linux 6.18 as root (%s), and so does emu:\n%s", why, native.Stdout)
			default:
				t.Logf("this host answers otherwise than Linux 6.18 (%s): compared with the recording only:\n%s", why, native.Stdout)
				assert.Equal(t, string(want), got.Stdout, "output differs from testdata/%s.txt", name)
			}
		})
	}
}

// membarrier: QUERY, registrations (kept by fork, dropped by execve), EPERM before them,
// the expedited barriers with a thread spinning. With two CPUs the barrier interrupts the
// CPU running the other thread: an "ipi" event each time, counted in the statistics.
func TestMembarrierMatchesNative(t *testing.T) {
	sameRP(t, "rp_membarrier")
	var ipis []minikernel.Event
	r := runEmuObserved(t, "musl_rp_membarrier", "", nil, keepEvents(minikernel.EvIPI, &ipis),
		func(c *minikernel.Config) { c.CPUs = 2 })
	assert.Equal(t, runNative(t, "musl_rp_membarrier", "").Stdout, r.Stdout)
	s := r.Stats
	require.NotEmpty(t, ipis, "the spinner runs on the other CPU: membarrier interrupts it")
	reasons := map[string]bool{}
	for _, e := range ipis {
		assert.NotEqual(t, uint64(0), e.Targets)
		assert.Zero(t, e.Targets&(1<<e.CPU), "the caller's own CPU is not interrupted")
		reasons[e.Text] = true
	}
	assert.True(t, reasons["membarrier private expedited"], "%v", reasons)
	assert.Equal(t, uint64(len(ipis)), s.Shootdowns.CallsSent)
	assert.Equal(t, uint64(len(ipis)), s.Shootdowns.CallIPIs, "one target each")
}

// Extended attributes pass through to the host file; the kernel's own objects keep none.
func TestXattrMatchesNative(t *testing.T) { sameRP(t, "rp_xattr") }

// flock, POSIX record locks and OFD locks between guest processes, with Linux's owners,
// splitting, release on close, EDEADLK and waiting.
func TestLocksMatchNative(t *testing.T) { sameRP(t, "rp_locks") }

// The guest's locks are taken on the host file too: a native process sees the record lock
// (as an OFD lock, l_pid -1) and cannot take the flock while the guest holds them; and a
// native process's locks stop the guest (EAGAIN, with the native holder's pid in F_GETLK).
func TestLocksReachTheHost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "locked")
	require.NoError(t, os.WriteFile(file, []byte("0123456789abcdef"), 0o644))
	var seen []string
	r := runAtWatched(t, binPath(t, "musl_rp_locks"), []string{"rp_locks", "hold", file}, "",
		func(k *minikernel.Kernel, e *minikernel.Event) {
			if e.Kind != minikernel.EvSyscall || e.Name != "getppid" {
				return
			}
			f, err := os.OpenFile(file, os.O_RDWR, 0)
			require.NoError(t, err)
			defer f.Close()
			l := syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 5}
			require.NoError(t, syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &l))
			seen = append(seen, fmt.Sprintf("native F_GETLK: type %d pid %d", l.Type, l.Pid))
			seen = append(seen, fmt.Sprintf("native flock: %v", syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)))
		})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, []string{
		fmt.Sprintf("native F_GETLK: type %d pid -1", syscall.F_WRLCK),
		"native flock: " + syscall.EWOULDBLOCK.Error()}, seen)
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	assert.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "released when the guest ended")
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_UN))

	// Now a native process holds them (not this one: emu closing a descriptor of the file
	// would drop this process's POSIX locks, as close(2) does).
	holder := exec.Command(binPath(t, "musl_rp_locks"), "wait", file)
	in, err := holder.StdinPipe()
	require.NoError(t, err)
	out, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	t.Cleanup(func() { in.Close(); holder.Wait() })
	ready, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ready, "ready "), ready)
	r = runAt(t, binPath(t, "musl_rp_locks"), []string{"rp_locks", "try", file}, "")
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, strings.Join([]string{
		"F_SETLK WR [0,10)                            -1 EAGAIN",
		"F_SETLK WR [20,30)                           0",
		"F_GETLK WR [0,5)                             0",
		fmt.Sprintf("  type WR pid %d", holder.Process.Pid),
		"flock LOCK_EX|LOCK_NB                        -1 EAGAIN", ""}, "\n"), r.Stdout)
}

// mlock, mlock2, munlock, mlockall, munlockall and MAP_LOCKED with RLIMIT_MEMLOCK
// accounting, msync's EBUSY on locked pages, and MAP_DROPPABLE.
func TestMlockMatchesNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_mlock") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// vm.max_map_count: once an address space has that many areas, a split by mprotect or by
// munmap that leaves both sides fails with ENOMEM, as a new mapping does; cutting at an
// area's end does not split, and still works. (Natively the limit is the host's 65530; the
// emulator's Config.MaxMapCount lowers it so the program reaches it quickly.)
func TestMapCountLimit(t *testing.T) {
	r := runEmu(t, "musl_rp_mlock", "", []string{"maps", "60"}, func(c *minikernel.Config) { c.MaxMapCount = 60 })
	require.Equal(t, 0, r.Code, r.Log)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	require.Len(t, lines, 5, r.Stdout)
	assert.Regexp(t, `^mprotect splits until ENOMEM after \d+$`, lines[0])
	assert.Equal(t, []string{
		"munmap (middle of an area)                   -1 ENOMEM",
		"mprotect (middle of an area)                 -1 ENOMEM",
		"munmap (an area's end)                       0",
		"mmap (one more area)                         -1 ENOMEM"}, lines[1:])
}

// Event loops: epoll (level, edge, one-shot, nesting, the order of events) over pipes,
// eventfd, timerfd and signalfd, and a child feeding the loop.
func TestEventLoopsMatchNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_events") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// AF_UNIX sockets between guest processes: every type, descriptor and credential passing,
// servers on paths and abstract names, datagrams, poll.
func TestUnixSocketsMatchNative(t *testing.T) { sameRP(t, "rp_unix") }

// TCP and UDP over the loopback addresses (host sockets) between a guest server and a guest
// client.
func TestInetSocketsMatchNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_inet") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// Without Config.HostNetwork a guest reaches only the loopback addresses.
func TestInetSocketsStayOnLoopback(t *testing.T) {
	r := runEmu(t, "musl_rp_inet", "", []string{"remote"})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, strings.Join([]string{
		"connect to 10.1.2.3                          -1 ENETUNREACH",
		"sendto 10.1.2.3                              -1 ENETUNREACH",
		"bind to 10.1.2.3                             -1 EADDRNOTAVAIL",
		"connect to 2001:db8::1                       -1 ENETUNREACH", ""}, "\n"), r.Stdout)
}

// /proc from the emulator's state, as the program reads it about itself: maps, smaps,
// pagemap, status, stat, statm, cmdline, environ, auxv, links, fd/ and fdinfo/, /dev/fd,
// task/, listings, and the machine's files.
func TestProcMatchesNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_proc") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// The vsyscall page in Linux's default xonly mode: its three entry points work, reading it
// or jumping into it elsewhere is SIGSEGV.
func TestVsyscallMatchesNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_vsyscall") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// POSIX timers (SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE, overruns, CPU-time clocks) and
// getrusage of the process and its children.
func TestPosixTimersMatchNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_timers") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// userfaultfd: a second thread handles the faults of registered areas (missing pages,
// write-protected pages, minor faults on a memfd) with UFFDIO_COPY, ZEROPAGE, CONTINUE and
// WRITEPROTECT, with the argument errors, a fork child, UNREGISTER, UFFD_FEATURE_SIGBUS and
// the release of the descriptor. On two CPUs too; and the trace shows each fault the
// kernel forwarded (outcome userfault, by the faulting thread) and the ioctl of the other
// thread that resolved it.
func TestUserfaultfdMatchesNative(t *testing.T) {
	sameAsRecording(t, "rp_uffd", "the API's answers, minor faults since 5.13")
	want := runEmu(t, "musl_rp_uffd", "", []string{t.TempDir()}) // held to the host above
	two := runEmu(t, "dynglibc_rp_uffd", "", []string{t.TempDir()}, func(c *minikernel.Config) { c.CPUs = 2 })
	assert.Equal(t, want.Stdout, two.Stdout, "on two CPUs")

	const uffdioCopy, uffdioZeropage, uffdioWriteprotect, uffdioContinue = 0xc028aa03, 0xc020aa04, 0xc018aa06, 0xc020aa07
	var forwarded []minikernel.Event
	resolvedBy := map[int]int{} // fault index -> TID of the ioctl that came next
	r := runAtWatched(t, binPath(t, "musl_rp_uffd"), []string{"rp_uffd", t.TempDir()}, "", func(k *minikernel.Kernel, e *minikernel.Event) {
		switch {
		case e.Kind == minikernel.EvPageFault && e.Outcome == minikernel.FaultUserfault:
			forwarded = append(forwarded, *e)
		case e.Kind == minikernel.EvSyscall && e.Name == "ioctl" && len(forwarded) > 0:
			switch uint32(e.Args[1]) { // musl's request is an int, sign-extended
			case uffdioCopy, uffdioZeropage, uffdioWriteprotect, uffdioContinue:
				if _, ok := resolvedBy[len(forwarded)-1]; !ok && e.Ret == 0 {
					resolvedBy[len(forwarded)-1] = e.TID
				}
			}
		}
	})
	require.Equal(t, want.Stdout, r.Stdout)
	user, kernel := 0, 0
	for i, e := range forwarded {
		assert.Equal(t, e.PID, e.TID, "the main thread faults")
		if e.Kernel {
			kernel++
			continue
		}
		user++
		if tid, ok := resolvedBy[i]; assert.True(t, ok, "fault %d at %#x resolved", i, e.Addr) {
			assert.NotEqual(t, e.TID, tid, "the handler thread resolves fault %d", i)
		}
	}
	assert.Equal(t, strings.Count(want.Stdout, "handler: event"), len(forwarded), "one forwarded fault per message")
	assert.Equal(t, 7, user, "page 0, 1, 2, two write-protected pages, the memfd's two pages")
	if strings.Contains(want.Stdout, "main: pread() into page 3") {
		assert.Equal(t, 1, kernel, "pread's copy into page 3")
	}
}

// The CPUs a program sees are the emulated machine's (--cpus): the affinity mask,
// /proc/cpuinfo, /proc/stat, Cpus_allowed_list, and getcpu (system call, vsyscall page,
// /proc/PID/stat) on each CPU a thread is pinned to. Compared with the host on a machine of
// as many CPUs as the host has, and checked on five.
func TestCPUsMatchNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_cpus") {
		t.Run(prog, func(t *testing.T) {
			want := runNative(t, prog, "", t.TempDir())
			require.Equal(t, 0, want.Code, want.Stdout)
			var n int
			_, err := fmt.Sscanf(want.Stdout, "CPUs in the affinity mask %d", &n)
			require.NoError(t, err, want.Stdout)
			if n > 64 {
				testcheck.Skip(t, "the host has %d CPUs, more than emu's 64", n)
			}
			got := runEmu(t, prog, "", []string{t.TempDir()}, func(c *minikernel.Config) { c.CPUs = n })
			assert.Equal(t, want.Stdout, got.Stdout, "on %d CPUs, as the host", n)
			five := runEmu(t, prog, "", []string{t.TempDir()}, func(c *minikernel.Config) { c.CPUs = 5 })
			assert.Contains(t, five.Stdout, "CPUs in the affinity mask                    5\n")
			assert.Contains(t, five.Stdout, "processors in /proc/cpuinfo                  5\n")
			assert.Contains(t, five.Stdout, "Cpus_allowed_list:\t0-4\n")
			assert.Contains(t, five.Stdout, "pinned to CPU 4 (0): getcpu 4 node 0, vsyscall getcpu 4, /proc stat 4\n")
		})
	}
}

// Sessions: setsid, getsid, and setpgid's session rules (Go's os/exec with Setsid, daemons
// and the setsid command use them).
func TestSessionsMatchNative(t *testing.T) { sameRP(t, "rp_session") }

// Scheduling attributes: nice values (getpriority, setpriority), policies and real-time
// priorities (sched_setscheduler and friends), /proc/self/stat's fields for them, I/O
// priorities, personality; with the permission rules for an unprivileged child.
func TestSchedAttributesMatchNative(t *testing.T) { sameRP(t, "rp_sched") }

// utimes, utime and futimesat, the older forms of utimensat.
func TestUtimesMatchNative(t *testing.T) { sameRP(t, "rp_utimes") }

// inotify, the host's: the events of creating, writing, closing, renaming, chmod'ing and
// deleting files in a watched directory, a watched file's, and the argument errors. emu
// stamps the guest's time on a file the guest wrote (an IN_ATTRIB the program did not
// cause) and its page cache may write the page again at the close (a second IN_MODIFY):
// those are left out of the comparison, which is otherwise exact.
func TestInotifyMatchesNative(t *testing.T) {
	norm := func(s string) string {
		var out []string
		seen := map[string]bool{}
		for _, l := range strings.SplitAfter(s, "\n") {
			if strings.HasPrefix(l, "  event ") && (strings.Contains(l, "mask 0x4 name f ") || seen[l]) {
				continue // emu's own stamp, or the same event again
			}
			seen[l] = true
			out = append(out, l)
		}
		return strings.Join(out, "")
	}
	for _, prog := range rpBuilds("rp_inotify") {
		t.Run(prog, func(t *testing.T) {
			nd, ed := t.TempDir(), t.TempDir()
			want := runNative(t, prog, "", nd)
			got := runEmu(t, prog, "", []string{ed})
			assert.Equal(t, norm(want.Stdout), norm(got.Stdout))
			assert.Equal(t, want.Code, got.Code, got.Log)
			assert.Contains(t, got.Stdout, "mask 0x40 name f cookie set\n  event wd 1 mask 0x80 name g cookie same as before")
		})
	}
}
