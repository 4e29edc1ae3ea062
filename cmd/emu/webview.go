package main

import (
	"fmt"
	"io"
	"os"

	"github.com/vmemu/vmemu/debugger"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/web"
)

// emu debug --http: the wiring of the web view (package web) to a debugger session. The page,
// the terminal and --script drive one session; the page's console shows the terminal's
// transcript and the program's output.

// webView is the web server of one emu debug session.
type webView struct {
	srv *web.Server
	rec *web.Recorder
	m   *webMachine
}

// webMachine lets the web server drive the session.
type webMachine struct{ d *debugger.Session }

func (m *webMachine) Exec(w io.Writer, line string) (bool, error) { return m.d.Exec(w, line) }

func (m *webMachine) Inspect(f func(s *web.Snapshot)) {
	m.d.Inspect(func(v *debugger.View) { f(snapshotOf(v)) })
}

func snapshotOf(v *debugger.View) *web.Snapshot {
	return &web.Snapshot{K: v.Kernel, Pending: v.Pending, Program: v.Program, Where: v.Where, Breaks: v.Breaks,
		Status: v.Status}
}

// timelineEvents is how many events the page's timeline keeps.
const timelineEvents = 50000

func newWebView(terminal io.Writer) *webView {
	m := &webMachine{}
	rec := web.NewRecorder(timelineEvents)
	srv := web.NewServer(m, rec)
	srv.Echo = terminal
	return &webView{srv: srv, rec: rec, m: m}
}

// tee returns a writer that writes to w and to the page's console.
func (wv *webView) tee(w io.Writer) io.Writer { return io.MultiWriter(w, wv.srv.Console()) }

// attach subscribes the timeline to k's events; call it before the program is loaded.
func (wv *webView) attach(k *minikernel.Kernel) { k.Subscribe(wv.rec.Record) }

// serve runs the session with the page: the script's commands first (if any), then the
// terminal's and the page's, until one of them quits. Standard input that ends (not a
// terminal) leaves the page driving. It returns emu's exit code.
func (wv *webView) serve(d *debugger.Session, addr string, script, stdin io.Reader, stderr io.Writer) int {
	wv.m.d = d
	d.SetTick(func(view func() *debugger.View) bool {
		return wv.srv.Tick(func() *web.Snapshot { return snapshotOf(view()) })
	})
	url, err := wv.srv.Listen(addr)
	if err != nil {
		fmt.Fprintf(stderr, "emu debug: --http: %v\n", err)
		return 2
	}
	defer wv.srv.Close()
	fmt.Fprintf(stderr, "emu debug: the web view is at %s (quit ends the session)\n", url)
	code := 0
	if script != nil {
		code = d.Serve(script, false)
		wv.srv.Idle()
		if d.Ended() {
			return code
		}
	}
	term := make(chan struct{})
	go func() {
		d.Serve(changedReader{stdin, wv.srv}, isTerminal(stdin))
		close(term)
	}()
	select {
	case <-term:
		if d.Ended() {
			return code
		}
		fmt.Fprintf(stderr, "emu debug: standard input ended; the session stays open for the web page until quit\n")
		<-wv.srv.Done()
	case <-wv.srv.Done():
	}
	return code
}

// changedReader tells the page that the machine may have changed each time the session
// reads its next command: the previous one has finished, and nothing runs.
type changedReader struct {
	r   io.Reader
	srv *web.Server
}

func (c changedReader) Read(p []byte) (int, error) {
	c.srv.Idle()
	return c.r.Read(p)
}

// reportFile is emu run --report: the recording of the run and the file it goes to, created
// before the run so that a path that cannot be written fails at once.
type reportFile struct {
	rec  *web.Recording
	f    *os.File
	path string
	done bool
}

func newReport(k *minikernel.Kernel, path string) (*reportFile, error) {
	f, err := createOutput(path)
	if err != nil {
		return nil, err
	}
	rec := web.NewRecording(k)
	k.Subscribe(rec.Observe)
	return &reportFile{rec: rec, f: f, path: path}, nil
}

// write writes the report of the run that ended with exit code code (or the emulator's
// error runErr).
func (r *reportFile) write(args []string, s *runStats, code int, runErr error) error {
	exit := fmt.Sprintf("exit code %d", code)
	switch {
	case runErr != nil:
		exit = "the emulator failed: " + runErr.Error()
	case code > 128:
		exit = fmt.Sprintf("exit status %d (killed by %s)", code, minikernel.SignalName(code-128))
	}
	prog := ""
	if len(args) > 0 {
		prog = args[0]
	}
	err := r.rec.WriteReport(r.f, web.Summary{Program: prog, Args: args, Stats: s.Stats, Wall: s.Wall, Exit: exit})
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.done = true
	return err
}

// discard closes the file if the run never got to write it (the program could not start):
// an empty report is removed rather than left behind.
func (r *reportFile) discard() {
	if !r.done {
		r.f.Close()
		os.Remove(r.path)
	}
}
