package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// Browser tests: the page of emu debug --http in a real headless Chromium, driven from Go.

// chromium finds the browser; without one the test fails under CI=true (.ci/run installs
// Debian's chromium) and says what went unchecked elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testcheck.Skip(t, "the web page in a browser: no Chromium on this machine (.ci/run installs Debian's chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile, a 1280x800 window and nothing
// that reaches the network, and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// screenshot saves the browser's viewport as name.png among the test's artifacts: in
// $EMU_ARTIFACTS when set (CI keeps them), else in the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	dir := os.Getenv("EMU_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// waitJS waits until the JavaScript expression is true on the page.
func waitJS(t *testing.T, ctx context.Context, expr, what string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "waiting for %s (%s)", what, expr)
}

// js evaluates an expression on the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// do runs browser actions in order.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// The path's leaf: the entry of the walk's last level, as the page draws it.
const leafBits = `[...document.querySelectorAll('#tree .ent.onpath.leaf .bit')].map(b => b.textContent)`
const leafText = `(document.querySelector('#tree .ent.onpath.leaf') || {textContent: ''}).textContent`

// Stopped at dbg_cow's copy-on-write fault, the page shows the read-only [cow] PTE on the
// walk's path and its frame with reference count 2; selecting the frame lists both
// processes' PTEs; one step later the process has a new frame, mapped writable.
func TestWebPageCopyOnWrite(t *testing.T) {
	ws := startWeb(t, "break fault cow\ncontinue\n", progs+"dbg_cow")
	var st state
	ws.get("/api/state", &st)
	require.NotNil(t, st.Stop)
	require.Equal(t, "cow-copy", st.Stop.Outcome)

	ctx := browser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ws.url))
	waitJS(t, ctx, `document.querySelector('#tree .ent.onpath.leaf') !== null`, "the walk's leaf in the tree")
	var bits []string
	bits = js[[]string](t, ctx, leafBits)
	assert.Contains(t, bits, "[cow]", "the PTE is marked copy-on-write")
	assert.Contains(t, bits, "P")
	assert.NotContains(t, bits, "RW", "the PTE is read-only")
	var leaf string
	leaf = js[string](t, ctx, leafText)
	assert.Contains(t, leaf, "ref 2")
	old := frameOf(t, leaf)

	// The frame in the grid: shared, count 2.
	sel := `document.querySelector('#frames i[data-pfn="` + itoa(old) + `"]')`
	assert.Contains(t, js[string](t, ctx, sel+`.className`), "shared")
	assert.Equal(t, "2", js[string](t, ctx, sel+`.textContent`))
	var stop string
	stop = js[string](t, ctx, `document.getElementById('stopbar').textContent`)
	assert.Contains(t, stop, "Page fault")
	assert.Contains(t, stop, "cow-copy")
	screenshot(t, ctx, "web-cow-fault")
	if dir := os.Getenv("EMU_README_SCREENSHOT"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "web-view.png"), png, 0o644))
	}

	// Select the frame: both processes map it, read-only, copy-on-write.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#frames i[data-pfn="`+itoa(old)+`"]`)))
	waitJS(t, ctx, `document.getElementById('frame-detail').textContent.split('\n').length >= 3`, "the frame's mappings")
	var detail string
	detail = js[string](t, ctx, `document.getElementById('frame-detail').textContent`)
	assert.Contains(t, detail, "reference count 2")
	var st2 state
	ws.get("/api/state", &st2)
	n := 0
	for _, p := range st2.Processes {
		if !strings.HasSuffix(p.Exe, "dbg_cow") {
			continue // an init process, if the kernel has one
		}
		n++
		pid := "pid " + itoa(uint64(p.PID)) + ":"
		i := strings.Index(detail, pid)
		require.GreaterOrEqual(t, i, 0, detail)
		line := detail[i:]
		line = line[:strings.IndexByte(line+"\n", '\n')]
		assert.Contains(t, line, "[cow]", line)
	}
	assert.Equal(t, 2, n, "parent and child")

	// Step: the kernel copies; the PTE now points at a new frame, writable, not cow.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-step`)))
	waitJS(t, ctx, leafBits+`.includes('RW')`, "a writable PTE after the copy")
	bits = js[[]string](t, ctx, leafBits)
	assert.NotContains(t, bits, "[cow]")
	leaf = js[string](t, ctx, leafText)
	nu := frameOf(t, leaf)
	assert.NotEqual(t, old, nu, "a new frame")
	assert.Contains(t, leaf, "ref 1")
	assert.Contains(t, js[string](t, ctx, `document.querySelector('#frames i[data-pfn="`+itoa(nu)+`"]').className`), "k-u",
		"the new frame is user memory in the grid")
	stop = js[string](t, ctx, `document.getElementById('stopbar').textContent`)
	assert.Contains(t, stop, "cow-copy")
	screenshot(t, ctx, "web-cow-copied")

	// The process picker: the child's page tables, with its own PML4.
	var child struct{ PID, PML4 uint64 }
	for _, p := range st2.Processes {
		if strings.HasSuffix(p.Exe, "dbg_cow") && p.PID != st2.Current {
			child.PID, child.PML4 = uint64(p.PID), p.PML4
		}
	}
	require.NotZero(t, child.PID)
	js[any](t, ctx, `(s => { s.value = '`+itoa(child.PID)+`'; s.dispatchEvent(new Event('change')); return 0; })(document.getElementById('pid'))`)
	waitJS(t, ctx, `document.getElementById('tree-sub').textContent.includes('pid `+itoa(child.PID)+` ')`, "the child's page tables")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('tree-sub').textContent`), "PML4 at frame "+fmt.Sprintf("%#x", child.PML4))
}

// Breaking on demand-zero faults and continuing from the page's controls stops at such a
// fault, with the walk stopping where P=0; the console then drives the rest of the run.
func TestWebPageBreakOnDemandZeroAndContinue(t *testing.T) {
	ws := startWeb(t, "", progs+"bss_sum")
	ctx := browser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ws.url))
	waitJS(t, ctx, `document.getElementById('status').textContent === 'stopped'`, "the page's first state")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#bk-fault`), "demand-zero"),
		chromedp.Click(chromedp.CSS(`#btn-break-fault`)),
	)
	waitJS(t, ctx, `document.getElementById('console').textContent.includes('breakpoint 1: page faults the kernel will resolve as demand-zero')`,
		"the breakpoint set")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-continue`)))
	waitJS(t, ctx, `document.getElementById('stopbar').textContent.includes('demand-zero')`, "the stop at a demand-zero fault")
	var stop string
	stop = js[string](t, ctx, `document.getElementById('stopbar').textContent`)
	assert.Contains(t, stop, "Page fault")
	var stopRow string
	stopRow = js[string](t, ctx, `(document.querySelector('#tree .ent.stop') || {textContent: ''}).textContent`)
	assert.Contains(t, stopRow, "P=0", "the tree marks the entry where the walk stopped")
	var insns1 float64
	insns1 = js[float64](t, ctx, `Number(document.getElementById('insns').textContent.replace(/,/g, ''))`)
	screenshot(t, ctx, "web-demand-zero")

	// The console: delete the breakpoint and run to the end.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#console-input`), "delete all\n"))
	waitJS(t, ctx, `document.getElementById('console').textContent.includes('(web) delete all')`, "the console's command")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-continue`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('status').textContent === 'exited'`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the program did not end: %v; the session's transcript:\n%s", err, ws.stdout)
	}
	var con string
	con = js[string](t, ctx, `document.getElementById('console').textContent`)
	assert.Contains(t, con, "(web) delete all")
	assert.Regexp(t, `program exited: pid \d+ exit code`, con)
	var insns2 float64
	insns2 = js[float64](t, ctx, `Number(document.getElementById('insns').textContent.replace(/,/g, ''))`)
	assert.Greater(t, insns2, insns1)
	var faults float64
	faults = js[float64](t, ctx, `document.querySelectorAll('#timeline .ev[data-kind="fault"]').length`)
	assert.Positive(t, faults, "the timeline shows the run's faults")

	// Clicking a fault in the timeline shows its details.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#timeline .ev[data-kind="fault"]`)))
	waitJS(t, ctx, `document.getElementById('event-detail').textContent.includes('error code')`, "the fault's details")
	detail := js[string](t, ctx, `document.getElementById('event-detail').textContent`)
	assert.Regexp(t, `fault in pid \d+( thread \d+)? on CPU \d+ at guest time \d+`, detail)
	assert.Regexp(t, `error code 0x[0-9a-f]+ \[[-PWURSVDI ]+\]`, detail)
	assert.Regexp(t, `outcome (demand-zero|file-read|file-cached)`, detail)
	assert.Contains(t, detail, "VMA ")
}

// frameOf reads the number of "→ frame 0x1a" in a tree row.
func frameOf(t *testing.T, row string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`frame (0x[0-9a-f]+)`).FindStringSubmatch(row)
	require.NotNil(t, m, row)
	return hexOf(t, m[1])
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// On two CPUs, stopped at the munmap of musl_tlb_shootdown, the page shows both CPUs' TLBs
// with the worker's page cached on CPU 1; breaking on shootdowns from the page and
// continuing, it shows the shootdown in the timeline (initiator, targets, pages), CPU 1's
// invalidation of the page beside it, and CPU 1's TLB without the page.
func TestWebPageShootdownOnTwoCPUs(t *testing.T) {
	ws := startWeb(t, "break syscall munmap\ncontinue\n", "--cpus", "2", progs+"musl_tlb_shootdown")
	re := regexp.MustCompile(`call\s+munmap\((0x[0-9a-f]+), 0x1000\)`)
	var m []string
	for end := time.Now().Add(30 * time.Second); m == nil && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		m = re.FindStringSubmatch(ws.stdout.String())
	}
	require.NotNil(t, m, "stopped at munmap:\n%s", ws.stdout)
	page := m[1]

	ctx := browser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ws.url))
	const cpuTLB = `document.querySelector('#tlbs .cpu[data-cpu="%d"] .tlb[data-name="DTLB"] table.entries')`
	tlbOf := func(cpu int) string {
		return js[string](t, ctx, fmt.Sprintf(`(`+cpuTLB+` || {textContent: ''}).textContent`, cpu))
	}
	waitJS(t, ctx, `document.querySelectorAll('#tlbs .cpu').length === 2`, "both CPUs' TLBs")
	assert.Len(t, js[[]string](t, ctx, `[...document.querySelectorAll('#tlbs .cpu-head')].map(h => h.textContent)`), 2)
	assert.Equal(t, 4.0, js[float64](t, ctx, `document.querySelectorAll('#tlbs .cpu .tlb').length`), "an ITLB and a DTLB for each CPU")
	assert.Contains(t, tlbOf(1), page, "the worker on CPU 1 stores into the page: its DTLB caches it")
	screenshot(t, ctx, "web-shootdown-before")

	// Break on shootdowns from the page's controls, and continue.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-break-shoot`)))
	waitJS(t, ctx, `document.getElementById('console').textContent.includes('after a TLB shootdown')`, "the breakpoint set")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-continue`)))
	waitJS(t, ctx, `document.querySelector('#timeline .ev[data-kind="shootdown"]') !== null`, "the shootdown in the timeline")
	waitJS(t, ctx, `document.getElementById('status').textContent === 'stopped'`, "the stop after it")

	heads := js[[]string](t, ctx, `[...document.querySelectorAll('#tlbs .cpu-head')].map(h => h.textContent)`)
	require.Len(t, heads, 2)
	assert.Contains(t, heads[0], "shootdowns sent 1")
	assert.Contains(t, heads[1], "taken 1")
	assert.NotContains(t, tlbOf(1), page, "CPU 1 invalidated the page")

	// The shootdown's details: who sent it, to whom, and which pages.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#timeline .ev[data-kind="shootdown"]`)))
	waitJS(t, ctx, `document.getElementById('event-detail').textContent.includes('initiator')`, "the shootdown's details")
	detail := js[string](t, ctx, `document.getElementById('event-detail').textContent`)
	assert.Contains(t, detail, "shootdown in pid 2 on CPU 0")
	assert.Contains(t, detail, "initiator cpu0; targets cpu1")
	assert.Contains(t, detail, "to drop 1 page(s) from "+page)
	assert.Contains(t, detail, "munmap")

	// CPU 1's invalidation of the page is on the timeline too, with no trace asked for.
	sel := `#timeline .ev[data-op="invalidate"][data-cpu="1"]`
	require.True(t, js[bool](t, ctx, `document.querySelector('`+sel+`') !== null`), "CPU 1's invalidation in the timeline")
	do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	waitJS(t, ctx, `document.getElementById('event-detail').textContent.includes("CPU 1's DTLB invalidated")`, "the invalidation's details")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('event-detail').textContent`), page)
	screenshot(t, ctx, "web-shootdown")
}

// With 16 MiB of RAM and swap, stopped at a swap-in fault of musl_mem_pressure, the address
// space draws swapped pages as such (the anonymous area's strip and the stack's cell), the
// tree shows the faulting PTE as a swap entry with its slot where the walk stopped, and the
// frames' heading counts the swap slots in use; one step later the page is present again.
func TestWebPageSwappedPages(t *testing.T) {
	ws, _ := startAtSwapIn(t)

	ctx := browser(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(ws.url))
	waitJS(t, ctx, `document.querySelector('#tree .ent.stop') !== null`, "the walk's stop in the tree")
	assert.Contains(t, js[string](t, ctx, `document.getElementById('stopbar').textContent`), "swap-in")

	// The address space: the 24 MiB area's strip has swapped runs, and the stack's page
	// that faulted is a swapped cell, the one in focus.
	swapped := js[[]string](t, ctx, `[...document.querySelectorAll('#space .vma')].filter(v => v.querySelector('i.swapped')).map(v => v.querySelector('.name').textContent)`)
	assert.Contains(t, swapped, "[anon]")
	assert.Contains(t, swapped, "[stack]")
	assert.True(t, js[bool](t, ctx, `document.querySelector('#space .vma.focus i.swapped.focus') !== null`), "the faulting page is drawn swapped")
	present := js[float64](t, ctx, `document.querySelectorAll('#space .strip i.present').length`)
	assert.Positive(t, present, "the area's resident part")

	// The tree: the PTE holds a swap entry; the walk stops there.
	row := js[string](t, ctx, `document.querySelector('#tree .ent.stop').textContent`)
	assert.Regexp(t, `P=0.*\[swap 0:\d+\].*→ swap slot \d+.*the walk stops here`, row)
	assert.Regexp(t, `swap slot \d+`, js[string](t, ctx, `document.getElementById('walk').textContent`))
	assert.Regexp(t, `swap \d+ of \d+ slots`, js[string](t, ctx, `document.getElementById('frames-sub').textContent`))
	screenshot(t, ctx, "web-swapped")

	// Step: the kernel reads the page back; the PTE is present, the cell too.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#btn-step`)))
	waitJS(t, ctx, `document.querySelector('#tree .ent.stop') === null && document.querySelector('#tree .ent.onpath.leaf') !== null`, "the page back")
	assert.NotContains(t, js[string](t, ctx, leafText), "swap")
	assert.True(t, js[bool](t, ctx, `document.querySelector('#space .vma.focus i.present.focus') !== null`), "the faulting page is present")
	screenshot(t, ctx, "web-swapped-in")
}
