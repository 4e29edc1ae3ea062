package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader on different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// webSession is emu debug --http running in the test: its URL, its terminal (standard input
// as a pipe the test writes to) and its output.
type webSession struct {
	t      *testing.T
	url    string
	stdin  *io.PipeWriter
	stdout *syncBuffer
	stderr *syncBuffer
	code   chan int
}

// startWeb runs emu debug --http on a free loopback port with script's commands run first
// (none when empty), and waits for the URL it prints. The session ends when the test does.
func startWeb(t *testing.T, script string, args ...string) *webSession {
	t.Helper()
	ws := &webSession{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, code: make(chan int, 1)}
	argv := []string{"debug", "--http", "127.0.0.1:0"}
	if script != "" {
		f := filepath.Join(t.TempDir(), "script")
		require.NoError(t, os.WriteFile(f, []byte(script), 0o644))
		argv = append(argv, "--script", f)
	}
	argv = append(argv, args...)
	in, w := io.Pipe()
	ws.stdin = w
	go func() { ws.code <- Main(argv, in, ws.stdout, ws.stderr) }()
	re := regexp.MustCompile(`the web view is at (http://\S+/)`)
	deadline := time.Now().Add(20 * time.Second)
	for ws.url == "" {
		if m := re.FindStringSubmatch(ws.stderr.String()); m != nil {
			ws.url = m[1]
			break
		}
		select {
		case code := <-ws.code:
			t.Fatalf("emu debug --http ended (%d) before serving:\n%s\n%s", code, ws.stdout, ws.stderr)
		default:
		}
		require.True(t, time.Now().Before(deadline), "no URL printed:\n%s", ws.stderr)
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { ws.quit() })
	return ws
}

// quit ends the session from the page and waits for emu to return; it returns the exit code.
func (ws *webSession) quit() int {
	ws.t.Helper()
	select {
	case code := <-ws.code:
		ws.code <- code
		return code
	default:
	}
	ws.command("quit")
	select {
	case code := <-ws.code:
		ws.code <- code
		require.NotContains(ws.t, ws.stdout.String()+ws.stderr.String(), "goroutine", "a Go panic reached the user")
		return code
	case <-time.After(20 * time.Second):
		ws.t.Fatalf("emu debug --http did not end after quit")
	}
	return -1
}

// get fetches path and decodes the JSON answer into v; it returns the status code.
func (ws *webSession) get(path string, v any) int {
	ws.t.Helper()
	resp, err := http.Get(ws.url + strings.TrimPrefix(path, "/"))
	require.NoError(ws.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(ws.t, err)
	if v != nil {
		require.NoError(ws.t, json.Unmarshal(body, v), "%s: %s", path, body)
	}
	return resp.StatusCode
}

// command runs a debugger command from the page's side and returns its output.
func (ws *webSession) command(line string) string {
	ws.t.Helper()
	b, _ := json.Marshal(map[string]string{"line": line})
	resp, err := http.Post(ws.url+"api/command", "application/json", bytes.NewReader(b))
	require.NoError(ws.t, err)
	defer resp.Body.Close()
	var r struct {
		Output string `json:"output"`
		Error  string `json:"error"`
	}
	require.NoError(ws.t, json.NewDecoder(resp.Body).Decode(&r))
	require.Equal(ws.t, http.StatusOK, resp.StatusCode, r.Error)
	return r.Output
}

// state is the part of /api/state the tests read.
type state struct {
	Version uint64 `json:"version"`
	Status  string `json:"status"`
	Insns   uint64 `json:"insns"`
	Where   string `json:"where"`
	Current int    `json:"current"`
	PID     int    `json:"pid"`
	Stop    *struct {
		Kind     string `json:"kind"`
		PID      int    `json:"pid"`
		Addr     string `json:"addr"`
		Code     uint32 `json:"error_code"`
		CodeBits string `json:"error_bits"`
		Outcome  string `json:"outcome"`
	} `json:"stop"`
	Processes []struct {
		PID      int    `json:"pid"`
		PPID     int    `json:"ppid"`
		State    string `json:"state"`
		Exe      string `json:"exe"`
		PCID     int    `json:"pcid"`
		PML4     uint64 `json:"pml4"`
		Resident uint64 `json:"resident"`
	} `json:"processes"`
	Process *struct {
		PID  int `json:"pid"`
		VMAs []struct {
			Start, End, Prot, Name, Offset string
			Pages, Resident                uint64
			Shared                         bool
			Runs                           []struct {
				Start string
				Pages uint64
				State string
			}
		} `json:"vmas"`
		Walk *struct {
			VA     string `json:"va"`
			Levels []struct {
				Name      string `json:"name"`
				Index     int    `json:"index"`
				EntryAddr string `json:"entry_addr"`
				Value     string `json:"value"`
				Present   bool   `json:"present"`
			} `json:"levels"`
			StopLevel int    `json:"stop_level"`
			Result    string `json:"result"`
		} `json:"walk"`
		Table json.RawMessage `json:"page_table"`
	} `json:"process"`
	Frames struct {
		Total      uint64      `json:"total"`
		InUse      uint64      `json:"in_use"`
		Peak       uint64      `json:"peak"`
		Shared     uint64      `json:"shared"`
		PageTables uint64      `json:"page_tables"`
		Copied     uint64      `json:"copied"`
		Kinds      string      `json:"kinds"`
		Refs       [][2]uint64 `json:"refs"`
	} `json:"frames"`
	CPUs []struct {
		TLBs []struct {
			Name    string
			Sets    int    `json:"sets"`
			Ways    int    `json:"ways"`
			Hits    uint64 `json:"hits"`
			Misses  uint64 `json:"misses"`
			Fills   uint64 `json:"fills"`
			Entries []struct {
				Set, Way int
				Large    bool
				VA, PA   string
				PCID     int
				Perm     string
				Size     string
			}
		} `json:"tlbs"`
	} `json:"cpus"`
}

func hexOf(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	require.NoError(t, err, s)
	return v
}

// The state endpoint and the text views of emu debug describe the same machine: stopped at
// the copy-on-write fault of dbg_cow, the processes, VMAs, frames, TLB and walk agree line
// for line.
func TestWebStateAgreesWithTheDebuggerTextViews(t *testing.T) {
	ws := startWeb(t, "break fault cow\ncontinue\n", progs+"dbg_cow")
	var st state
	require.Equal(t, http.StatusOK, ws.get("/api/state", &st))
	require.NotNil(t, st.Stop)
	assert.Equal(t, "page-fault", st.Stop.Kind)
	assert.Equal(t, "cow-copy", st.Stop.Outcome)
	assert.Equal(t, "stopped", st.Status)

	// ps: one line per process with its PCID, PML4 frame and resident pages.
	ps := ws.command("ps")
	require.GreaterOrEqual(t, len(st.Processes), 2, "parent and child")
	for _, p := range st.Processes {
		if p.Exe == "[init]" {
			continue // the emulated init has no address space
		}
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%d\s+%d\s+\S+\s+%d\s+%#x\s+\d+\s+%d\s+%s$`, p.PID, p.PPID, p.PCID, p.PML4,
			p.Resident, regexp.QuoteMeta(p.Exe)), ps)
	}

	// vmas: the same areas, protections and resident counts.
	vmas := ws.command(fmt.Sprintf("vmas %d", st.PID))
	require.NotNil(t, st.Process)
	lines := 0
	for _, v := range st.Process.VMAs {
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%s\s+%s\s+\S+\s+%s[ps]\s+%s\s+%d\s+%s$`, v.Start, v.End, regexp.QuoteMeta(v.Prot),
			v.Offset, v.Resident, regexp.QuoteMeta(v.Name)), vmas)
		var inRuns uint64
		for _, r := range v.Runs {
			if r.State == "present" {
				inRuns += r.Pages
			}
		}
		assert.Equal(t, v.Resident, inRuns, "the runs of %s cover its resident pages", v.Name)
		lines++
	}
	assert.Contains(t, vmas, fmt.Sprintf("%d VMAs", lines))

	// frames: in use, shared, page tables, and each shared frame's count.
	frames := ws.command("frames")
	f := st.Frames
	assert.Contains(t, frames, fmt.Sprintf("frames in use %d of %d (peak %d), shared now %d", f.InUse, f.Total, f.Peak, f.Shared))
	assert.Contains(t, frames, fmt.Sprintf("page-table pages %d, copied %d", f.PageTables, f.Copied))
	used := 0
	for pfn, k := range f.Kinds {
		if k == '.' {
			continue
		}
		used++
		kind := map[rune]string{'u': "user", 't': "page-table", 'c': "page-cache"}[k]
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%#x\s+%s\s+\d+`, pfn, kind), frames)
	}
	assert.EqualValues(t, f.InUse, used)
	require.NotEmpty(t, f.Refs)
	for _, r := range f.Refs {
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%#x\s+\S+\s+%d\s`, r[0], r[1]), frames)
	}

	// walk: the same four entries for the faulting address.
	w := st.Process.Walk
	require.NotNil(t, w)
	assert.Equal(t, st.Stop.Addr, w.VA)
	walk := ws.command("walk " + w.VA)
	for _, l := range w.Levels {
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%s\s+%d\s+%s\s+0x%016x\s`, l.Name, l.Index, l.EntryAddr, hexOf(t, l.Value)), walk)
	}

	// tlb: every valid entry, with its counters. Step until the TLB holds some entries.
	ws.command("step 3")
	require.Equal(t, http.StatusOK, ws.get("/api/state", &st))
	tlbText := ws.command("tlb")
	total := 0
	for _, tl := range st.CPUs[0].TLBs {
		assert.Contains(t, tlbText, fmt.Sprintf("%d valid; hits %d, misses %d", len(tl.Entries), tl.Hits, tl.Misses))
		for _, e := range tl.Entries {
			assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%s\s+%s\s+%s\s+%d\s+%s\s`, e.VA, e.PA, e.Size, e.PCID, e.Perm), tlbText)
			total++
		}
	}
	assert.Positive(t, total)
}

// Requests with bad parameters get a 4xx status and a message; nothing reaches the user as a
// panic and the session goes on.
func TestWebBadRequests(t *testing.T) {
	ws := startWeb(t, "", progs+"hello")
	for _, tc := range []struct {
		method, path, ctype, body string
		code                      int
		msg                       string
	}{
		{"GET", "/api/state?pid=abc", "", "", 400, "not a number"},
		{"GET", "/api/state?pid=-1", "", "", 400, "not a number"},
		{"GET", "/api/state?pid=99999999999", "", "", 400, "not a number"},
		{"GET", "/api/state?pid=42", "", "", 404, "no process 42"},
		{"GET", "/api/state?color=red", "", "", 400, "unknown parameter"},
		{"GET", "/api/frame", "", "", 400, "which frame"},
		{"GET", "/api/frame?pfn=0x", "", "", 400, "not a number"},
		{"GET", "/api/frame?pfn=0xffffffffffffff", "", "", 404, "beyond physical memory"},
		{"GET", "/api/events?limit=0", "", "", 400, "limit"},
		{"GET", "/api/events?since=x", "", "", 400, "not a number"},
		{"GET", "/api/events?newest=maybe", "", "", 400, "newest"},
		{"GET", "/api/events?limit=10001&newest=1", "", "", 400, "limit"},
		{"GET", "/api/nothing", "", "", 404, "no such endpoint"},
		{"GET", "/etc/passwd", "", "", 404, "no such page"},
		{"GET", "/../../etc/passwd", "", "", 404, "no such page"},
		{"POST", "/api/state", "application/json", "{}", 405, "takes GET"},
		{"GET", "/api/command", "", "", 405, "takes POST"},
		{"POST", "/", "", "", 405, "only GET"},
		{"POST", "/api/command", "text/plain", `{"line":"step"}`, 415, "JSON"},
		{"POST", "/api/command", "application/json", `{"line":`, 400, "bad command request"},
		{"POST", "/api/command", "application/json", `{"cmd":"step"}`, 400, "bad command request"},
		{"POST", "/api/command", "application/json", `{"line":"  "}`, 400, "empty command"},
		{"POST", "/api/command", "application/json", `{"line":"step\nquit"}`, 400, "one line"},
		{"POST", "/api/command", "application/json", `{"line":"` + strings.Repeat("x", 5000) + `"}`, 400, ""},
	} {
		req, err := http.NewRequest(tc.method, ws.url+strings.TrimPrefix(tc.path, "/"), strings.NewReader(tc.body))
		require.NoError(t, err)
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, tc.code, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
		var e struct{ Error string }
		assert.NoError(t, json.Unmarshal(body, &e), "%s %s: the answer is JSON: %s", tc.method, tc.path, body)
		assert.Contains(t, e.Error, tc.msg, "%s %s", tc.method, tc.path)
	}

	// Another site's page must not drive the session, nor a DNS name that points here.
	req, _ := http.NewRequest("POST", ws.url+"api/command", strings.NewReader(`{"line":"quit"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	req, _ = http.NewRequest("GET", ws.url+"api/state", nil)
	req.Host = "rebind.example:80"
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// An unknown command is the debugger's error, shown like at the terminal.
	assert.Contains(t, ws.command("frobnicate"), `unknown command "frobnicate"`)
	assert.Contains(t, ws.command("walk 0x800000000000"), "not canonical")
	// A malformed HTTP request line gets 400 from the server, and the session goes on.
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(ws.url, "http://"), "/"))
	require.NoError(t, err)
	fmt.Fprintf(conn, "BLAH\x00 / HTTP/9\r\n\r\n")
	reply, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	assert.Contains(t, reply, "400")
	assert.Regexp(t, `page fault in pid \d+`, ws.command("step"))
	assert.Equal(t, 0, ws.quit())
}

// A client that never reads its stream does not hold up the emulator, and closing the page
// leaves the session usable from the terminal.
func TestWebSlowClientAndTerminal(t *testing.T) {
	ws := startWeb(t, "", progs+"bss_sum")
	// A stream opened and never read.
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(ws.url, "http://"), "/"))
	require.NoError(t, err)
	fmt.Fprintf(conn, "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	// Much console output (tracing every event) and many changes while it does not read.
	ws.command("trace all")
	out := ws.command("continue")
	assert.Contains(t, out, "program exited")
	conn.Close()

	// The terminal still drives the session: its commands run and print as before.
	fmt.Fprintf(ws.stdin, "where\n")
	require.Eventually(t, func() bool {
		return regexp.MustCompile(`\(pid \d+ has exited: exit code 16\)`).MatchString(ws.stdout.String())
	},
		10*time.Second, 20*time.Millisecond, "the terminal's where ran:\n%s", ws.stdout)
	fmt.Fprintf(ws.stdin, "quit\n")
	select {
	case code := <-ws.code:
		ws.code <- code
		assert.Equal(t, 0, code)
	case <-time.After(20 * time.Second):
		t.Fatal("quit from the terminal did not end the session")
	}
}

// While continue runs, the page gets live states (status running, guest time growing) over
// the stream, and its Stop button interrupts the run; the session then goes on.
func TestWebLiveWhileRunningAndStop(t *testing.T) {
	ws := startWeb(t, "", progs+"bench_int", "1000000") // hours of guest time
	resp, err := http.Get(ws.url + "api/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	versions := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: {\"version\":"); ok {
				versions <- v
			}
		}
		close(versions)
	}()
	<-versions // the state when the stream opened

	// Stop while nothing runs has nothing to stop, and does not cut short the next run.
	resp1, err := http.Post(ws.url+"api/stop", "application/json", nil)
	require.NoError(t, err)
	var idle struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp1.Body).Decode(&idle))
	resp1.Body.Close()
	assert.False(t, idle.OK)
	assert.Contains(t, idle.Error, "nothing is running")
	assert.NotContains(t, ws.command("step 3"), "interrupted")

	done := make(chan string, 1)
	go func() { done <- ws.command("continue") }()
	var st state
	var seen []uint64
	require.Eventually(t, func() bool {
		select {
		case <-versions:
		case <-time.After(time.Second):
			return false
		}
		ws.get("/api/state", &st)
		if st.Status == "running" {
			seen = append(seen, st.Insns)
		}
		return len(seen) >= 3 && seen[len(seen)-1] > seen[0]
	}, 30*time.Second, time.Millisecond, "live states while running: %v", seen)

	resp2, err := http.Post(ws.url+"api/stop", "application/json", nil)
	require.NoError(t, err)
	resp2.Body.Close()
	select {
	case out := <-done:
		assert.Contains(t, out, "stopped: interrupted")
		assert.Regexp(t, `pid \d+  insn `, out)
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not interrupt continue")
	}
	ws.get("/api/state", &st)
	assert.Equal(t, "stopped", st.Status)
	assert.GreaterOrEqual(t, st.Insns, seen[len(seen)-1])
	assert.Regexp(t, `pid \d+  insn `, ws.command("step"), "the session goes on")
}

// An address emu cannot listen on is one clear message and exit status 2.
func TestWebBadAddress(t *testing.T) {
	for _, addr := range []string{"nonsense:99999", "256.1.1.1:80", "127.0.0.1:notaport"} {
		out, errs, code := emulated("debug", "--http", addr, progs+"hello")
		assert.Equal(t, 2, code, addr)
		assert.Contains(t, errs, "emu debug: --http:", addr)
		assert.NotContains(t, out+errs, "goroutine", addr)
	}
}

// The timeline gets the TLBs' fills while a page follows the session, with no trace asked
// for, one event per fill the TLBs count; with no page open the TLBs' hooks are off and no
// fill reaches it.
func TestWebTLBEventsOnlyWhileAPageIsOpen(t *testing.T) {
	ws := startWeb(t, "", progs+"bss_sum")
	type tlbEvent struct {
		Kind  string `json:"kind"`
		Op    string `json:"op"`
		TLB   string `json:"tlb"`
		Addr  string `json:"addr"`
		Frame uint64 `json:"frame"`
		CPU   int    `json:"cpu"`
	}
	fillsSince := func(seq uint64) (fills []tlbEvent, last uint64) {
		var evs struct {
			Events []tlbEvent `json:"events"`
			Last   uint64     `json:"last"`
		}
		require.Equal(t, http.StatusOK, ws.get(fmt.Sprintf("/api/events?since=%d&limit=10000", seq), &evs))
		for _, e := range evs.Events {
			if e.Kind == "tlb" && e.Op == "fill" {
				fills = append(fills, e)
			}
		}
		return fills, evs.Last
	}
	counted := func() uint64 {
		var st state
		require.Equal(t, http.StatusOK, ws.get("/api/state", &st))
		var n uint64
		for _, tl := range st.CPUs[0].TLBs {
			n += tl.Fills
		}
		return n
	}

	// Reading the state (as a script or an autograder may) opens no page.
	counted()
	ws.command("step 3000")
	require.Positive(t, counted(), "the TLBs filled")
	ws.command("step 3000")
	fills, last := fillsSince(0)
	assert.Empty(t, fills, "no page open: no TLB fill reaches the timeline")

	// A page follows the stream: its first state notice, and the page asks for the state.
	resp, err := http.Get(ws.url + "api/stream")
	require.NoError(t, err)
	r := bufio.NewReader(resp.Body)
	for line := ""; !strings.HasPrefix(line, "event: state"); {
		line, err = r.ReadString('\n')
		require.NoError(t, err)
	}
	before := counted()
	ws.command("step 3000")
	fills, last = fillsSince(last)
	require.NotEmpty(t, fills, "a page is open: the TLBs' fills are on the timeline")
	assert.Equal(t, counted()-before, uint64(len(fills)), "one event per fill the TLBs count")
	for _, f := range fills {
		assert.Contains(t, []string{"ITLB", "DTLB"}, f.TLB)
		assert.NotEmpty(t, f.Addr)
		assert.NotZero(t, f.Frame)
	}

	// The page goes away: the hooks go off again (once the server has seen it leave).
	resp.Body.Close()
	require.Eventually(t, func() bool {
		counted() // the machine stopped: the server applies the change
		ws.command("step 500")
		fills, last = fillsSince(last)
		return len(fills) == 0
	}, 10*time.Second, 50*time.Millisecond, "fills after the page closed")
}

// ptEntry is an entry of /api/state's page-table tree.
type ptEntry struct {
	Index    int      `json:"index"`
	VA       string   `json:"va"`
	Present  bool     `json:"present"`
	Leaf     bool     `json:"leaf"`
	Soft     string   `json:"soft"`
	Frame    uint64   `json:"frame"`
	SwapSlot uint64   `json:"swap_slot"`
	Table    *ptTable `json:"table"`
}

type ptTable struct {
	Level   int       `json:"level"`
	Entries []ptEntry `json:"entries"`
}

// leaves maps each page of the tree's leaf entries (by linear address) to its entry.
func leaves(t *testing.T, raw json.RawMessage) map[uint64]*ptEntry {
	t.Helper()
	var root ptTable
	require.NoError(t, json.Unmarshal(raw, &root))
	out := map[uint64]*ptEntry{}
	var visit func(tab *ptTable)
	visit = func(tab *ptTable) {
		for i := range tab.Entries {
			e := &tab.Entries[i]
			switch {
			case e.Leaf:
				out[hexOf(t, e.VA)] = e
			case e.Table != nil:
				visit(e.Table)
			}
		}
	}
	visit(&root)
	return out
}

// swapUsers reads the swap command's table: each slot, its swap-cache frame (0: none) and
// the pages that name it ("pid 2 0x7ffff6600000").
func swapUsers(t *testing.T, text string) (slots map[uint64]uint64, pages map[string]uint64) {
	t.Helper()
	slots, pages = map[uint64]uint64{}, map[string]uint64{}
	row := regexp.MustCompile(`(?m)^\s+(\d+)\s+\d+\s+(-|frame 0x[0-9a-f]+)\s+(.*)$`)
	for _, m := range row.FindAllStringSubmatch(text, -1) {
		slot, _ := strconv.ParseUint(m[1], 10, 64)
		slots[slot] = 0
		if m[2] != "-" {
			slots[slot] = hexOf(t, strings.TrimPrefix(m[2], "frame "))
		}
		for _, who := range strings.Split(m[3], "; ") {
			f := strings.Fields(who)
			if len(f) >= 3 {
				pages[f[0]+" "+f[1]+" "+f[2]] = slot
			}
		}
	}
	return slots, pages
}

// startAtSwapIn starts musl_mem_pressure with 16 MiB of RAM and a swap area under the web
// view, stopped at its first swap-in fault, and returns the session and the state there.
func startAtSwapIn(t *testing.T) (*webSession, state) {
	t.Helper()
	ws := startWeb(t, "break fault swap-in\ncontinue\n", "--ram", "16M", "--swap", "64M",
		progs+"musl_mem_pressure", filepath.Join(t.TempDir(), "mapped"))
	var st state
	require.Eventually(t, func() bool {
		ws.get("/api/state", &st)
		return st.Stop != nil
	}, 60*time.Second, 50*time.Millisecond, "the stop at a swap-in fault:\n%s", ws.stdout)
	return ws, st
}

// With little RAM and a swap area, stopped at a swap-in fault of musl_mem_pressure: every
// page the JSON endpoint shows swapped (in each process's VMA runs) is a page the swap
// command names, and the other way round; the tree's entry for each holds that slot; the
// walk stops at the faulting address's swap entry; after the step the page is present.
func TestWebSwappedPagesAgreeWithTheSwapView(t *testing.T) {
	ws, st := startAtSwapIn(t)
	require.Equal(t, "swap-in", st.Stop.Outcome)

	text := ws.command("swap")
	slots, named := swapUsers(t, text)
	require.NotEmpty(t, named)
	var raw struct {
		Frames struct {
			Swap *struct {
				Slots, Used uint64
				SwapCache   uint64 `json:"swap_cache"`
			} `json:"swap"`
		} `json:"frames"`
	}
	ws.get("/api/state", &raw)
	require.NotNil(t, raw.Frames.Swap)
	assert.Contains(t, text, fmt.Sprintf("swap: %d slots of 4 KiB in host memory (slot 0 is the header); %d in use",
		raw.Frames.Swap.Slots, raw.Frames.Swap.Used))
	assert.Len(t, slots, int(raw.Frames.Swap.Used))

	shown := map[string]uint64{}
	for _, p := range st.Processes {
		if p.Exe == "[init]" {
			continue
		}
		var ps state
		require.Equal(t, http.StatusOK, ws.get(fmt.Sprintf("/api/state?pid=%d", p.PID), &ps))
		tree := leaves(t, ps.Process.Table)
		for _, v := range ps.Process.VMAs {
			for _, r := range v.Runs {
				if r.State != "swapped" {
					continue
				}
				for i := uint64(0); i < r.Pages; i++ {
					va := hexOf(t, r.Start) + i<<12
					e := tree[va]
					require.NotNil(t, e, "%#x", va)
					assert.False(t, e.Present)
					assert.Equal(t, fmt.Sprintf("swap 0:%d", e.SwapSlot), e.Soft)
					shown[fmt.Sprintf("pid %d %#x", p.PID, va)] = e.SwapSlot
				}
			}
		}
	}
	assert.Equal(t, named, shown, "swapped pages: the swap command's and the JSON's")

	w := st.Process.Walk
	require.NotNil(t, w)
	assert.Equal(t, 1, w.StopLevel)
	page := hexOf(t, st.Stop.Addr) &^ 0xfff
	assert.Contains(t, w.Result, fmt.Sprintf("swap slot %d", named[fmt.Sprintf("pid %d %#x", st.Stop.PID, page)]))

	ws.command("step")
	require.Equal(t, http.StatusOK, ws.get("/api/state", &st))
	e := leaves(t, st.Process.Table)[page]
	require.NotNil(t, e)
	assert.True(t, e.Present, "swapped in")
	assert.Zero(t, e.SwapSlot)
}

// A page shared copy-on-write and swapped comes back into the swap cache: stopped where the
// parent finds it there, the frame grid marks the frame "s", the frame's mappings name its
// slot, and the parent's PTE is still the swap entry of that slot.
func TestWebSwapCacheFrames(t *testing.T) {
	ws := startWeb(t, "break fault swap-cached\ncontinue\n", "--ram", "16M", "--frames", "24", "--swap", "1M",
		"--reclaim", "fifo", progs+"musl_swap_cow")
	var st state
	require.Eventually(t, func() bool {
		ws.get("/api/state", &st)
		return st.Stop != nil
	}, 60*time.Second, 50*time.Millisecond, "the stop at a swap-cached fault:\n%s", ws.stdout)
	require.Equal(t, "swap-cached", st.Stop.Outcome)
	slots, named := swapUsers(t, ws.command("swap"))
	page := hexOf(t, st.Stop.Addr) &^ 0xfff
	slot := named[fmt.Sprintf("pid %d %#x", st.Stop.PID, page)]
	require.NotZero(t, slot)
	frame := slots[slot]
	require.NotZero(t, frame, "the slot's page is in the swap cache")

	e := leaves(t, st.Process.Table)[page]
	require.NotNil(t, e)
	assert.Equal(t, slot, e.SwapSlot)
	for s, f := range slots {
		if f != 0 {
			assert.Equal(t, byte('s'), st.Frames.Kinds[f], "frame %#x of slot %d", f, s)
		}
	}
	var fi struct {
		Mappings []struct {
			Kind  string `json:"kind"`
			Index uint64 `json:"index"`
		} `json:"mappings"`
	}
	require.Equal(t, http.StatusOK, ws.get(fmt.Sprintf("/api/frame?pfn=%#x", frame), &fi))
	assert.Contains(t, fi.Mappings, struct {
		Kind  string `json:"kind"`
		Index uint64 `json:"index"`
	}{"swap-cache", slot})
}
