package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Machine is the debugger session the page drives: the one the terminal and --script drive
// too. Both methods may be called from any goroutine; the session serialises them.
type Machine interface {
	// Exec runs one debugger command line, writing what it shows to w, and reports whether
	// the session should end (quit).
	Exec(w io.Writer, line string) (quit bool, err error)
	// Inspect calls f with a description of the session while nothing runs, and returns
	// once f has returned.
	Inspect(f func(s *Snapshot))
}

//go:embed static
var static embed.FS

// Server serves the page, the JSON state and the live stream for one session.
type Server struct {
	m   Machine
	rec *Recorder
	srv *httpd
	url string

	version atomic.Uint64
	stop    atomic.Bool // the page asked a running command to stop
	done    chan struct{}
	once    sync.Once

	mu      sync.Mutex
	clients map[chan struct{}]struct{}
	queue   []*inspectReq
	pumping bool
	console console
	lastPub time.Time
	running bool // a command is running: the session has called Tick since it last waited
	viewers int  // pages following the stream

	hwOn bool // the kernel's TLB events are on for the pages (only drain changes it)

	// Echo, when set, also gets the page's commands and their output (the terminal, so
	// that it reads as one transcript). Set it before Listen.
	Echo io.Writer
}

// maxLine bounds a command line from the page.
const maxLine = 4096

// NewServer returns a server for m. rec is the recorder subscribed to m's kernel (the
// timeline and the last walk come from it).
func NewServer(m Machine, rec *Recorder) *Server {
	s := &Server{m: m, rec: rec, done: make(chan struct{}), clients: map[chan struct{}]struct{}{}}
	s.console.max = 256 << 10
	s.version.Store(1)
	return s
}

// Listen starts serving on addr (host:port; a port alone means 127.0.0.1, the loopback
// interface) and returns the page's URL. The server runs until Close.
func (s *Server) Listen(addr string) (string, error) {
	if !strings.Contains(addr, ":") {
		addr = "127.0.0.1:" + addr
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.srv = newHTTPD(ln, guard(s.route), 10*time.Second)
	s.url = "http://" + ln.Addr().String() + "/"
	go s.srv.serve()
	return s.url, nil
}

// Close stops the server and ends every stream.
func (s *Server) Close() error {
	s.finish()
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.shutdown(ctx)
}

// Done is closed when a command from the page quit the session (or Close was called).
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) finish() { s.once.Do(func() { close(s.done) }) }

// Changed tells the page that the machine may have changed (after a command from any input).
// It never blocks: a client that has not caught up gets one notice for many changes.
func (s *Server) Changed() {
	s.version.Add(1)
	s.mu.Lock()
	s.lastPub = time.Now()
	s.mu.Unlock()
	s.notify()
}

// Idle tells the server that no command runs any more (the session waits for the next one):
// a Stop from the page then has nothing to stop.
func (s *Server) Idle() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
	s.stop.Store(false)
	s.Changed()
}

func (s *Server) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		select {
		case c <- struct{}{}:
		default: // already notified: it will read the newest state
		}
	}
}

// Tick is for the session to call between quanta of a long command (continue, step N),
// while it holds the machine: it answers the page's waiting requests with snap, tells the
// page the machine changed (at most every 100 ms of host time) and reports whether the page
// asked the command to stop. It never waits for a client.
func (s *Server) Tick(snap func() *Snapshot) (stop bool) {
	s.mu.Lock()
	waiting := len(s.queue) > 0
	publish := time.Since(s.lastPub) >= 100*time.Millisecond
	s.running = true
	s.mu.Unlock()
	if waiting {
		s.drain(snap())
	}
	if publish {
		s.Changed()
	}
	return s.stop.Swap(false)
}

// Console returns a writer whose bytes the page's console shows: the session's transcript
// and the program's output. Writes never block on a client.
func (s *Server) Console() io.Writer { return consoleWriter{s} }

type consoleWriter struct{ s *Server }

func (w consoleWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	w.s.console.write(p)
	w.s.mu.Unlock()
	w.s.notify()
	return len(p), nil
}

// console keeps the last max bytes of the transcript; off counts every byte ever written.
type console struct {
	buf []byte
	off uint64
	max int
}

func (c *console) write(p []byte) {
	c.buf = append(c.buf, p...)
	c.off += uint64(len(p))
	if len(c.buf) > c.max {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max/2:]...)
	}
}

// since returns the bytes after offset from (those still kept) and the offset after them.
func (c *console) since(from uint64) ([]byte, uint64) {
	start := c.off - uint64(len(c.buf))
	if from < start {
		from = start
	}
	if from >= c.off {
		return nil, c.off
	}
	return append([]byte(nil), c.buf[from-start:]...), c.off
}

// --- requests that need the machine ---

type inspectReq struct {
	f    func(s *Snapshot)
	done chan struct{}
}

// inspect runs f with the machine stopped: at once when nothing runs, else at the running
// command's next Tick. It gives up after timeout or when ctx ends.
func (s *Server) inspect(ctx context.Context, f func(s *Snapshot)) error {
	r := &inspectReq{f: f, done: make(chan struct{})}
	s.mu.Lock()
	s.queue = append(s.queue, r)
	if !s.pumping {
		s.pumping = true
		go s.pump()
	}
	s.mu.Unlock()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("the emulator is busy (a command is running without pause); try again or press Stop")
	}
}

// pump waits for the machine and answers the queued requests, until none are left.
func (s *Server) pump() {
	for {
		s.m.Inspect(func(snap *Snapshot) { s.drain(snap) })
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.pumping = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

func (s *Server) drain(snap *Snapshot) {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	want := s.viewers > 0
	s.mu.Unlock()
	if len(q) == 0 {
		return
	}
	if want != s.hwOn && snap.K != nil {
		snap.K.WantHardware("web page", want, false)
		s.hwOn = want
	}
	for _, r := range q {
		r.f(snap)
		close(r.done)
	}
}

// viewer counts a page that starts (d = 1) or stops (d = -1) following the stream. The
// timeline's TLB events are on while any page follows it and off when none does, so that
// with no page open a TLB fill costs the emulator a nil check; the change is made the next
// time the machine is stopped or pauses (drain).
func (s *Server) viewer(d int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viewers += d
	s.queue = append(s.queue, &inspectReq{f: func(*Snapshot) {}, done: make(chan struct{})})
	if !s.pumping {
		s.pumping = true
		go s.pump()
	}
}

// --- HTTP ---

// route answers a request: the page's files, and the API.
func (s *Server) route(w *response, r *request) {
	switch r.Path {
	case "/api/state":
		s.get(s.apiState)(w, r)
	case "/api/frame":
		s.get(s.apiFrame)(w, r)
	case "/api/events":
		s.get(s.apiEvents)(w, r)
	case "/api/stream":
		s.get(s.apiStream)(w, r)
	case "/api/command":
		s.post(s.apiCommand)(w, r)
	case "/api/stop":
		s.post(s.apiStop)(w, r)
	default:
		if strings.HasPrefix(r.Path, "/api/") {
			httpError(w, statusNotFound, "no such endpoint: "+r.Path)
			return
		}
		if r.Method != "GET" && r.Method != "HEAD" {
			httpError(w, statusMethodNotAllowed, "only GET serves the page")
			return
		}
		if r.Path != "/" && r.Path != "/app.js" && r.Path != "/style.css" {
			httpError(w, statusNotFound, "no such page: "+r.Path)
			return
		}
		serveFile(w, r.Path)
	}
}

// serveFile answers with one of the page's files, as net/http's file server did.
func serveFile(w *response, name string) {
	if name == "/" {
		name = "/index.html"
	}
	b, err := static.ReadFile("static" + name)
	if err != nil {
		httpError(w, statusNotFound, "no such page: "+name)
		return
	}
	ctype := "application/octet-stream"
	switch path.Ext(name) {
	case ".html":
		ctype = "text/html; charset=utf-8"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	}
	w.SetHeader("Cache-Control", "no-store")
	w.SetHeader("Accept-Ranges", "bytes")
	w.SetHeader("Content-Type", ctype)
	w.Write(b)
}

// The HTTP statuses the API answers with.
const (
	statusOK                   = 200
	statusBadRequest           = 400
	statusForbidden            = 403
	statusNotFound             = 404
	statusMethodNotAllowed     = 405
	statusUnsupportedMediaType = 415
	statusInternalServerError  = 500
	statusServiceUnavailable   = 503
)

// guard refuses requests from other sites: a page elsewhere must not drive the session
// (the Origin of a browser's request must be this server), nor reach it by a DNS name that
// resolves to the loopback address (the Host must be an address or localhost).
func guard(h handlerFunc) handlerFunc {
	return func(w *response, r *request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if host != "localhost" && net.ParseIP(host) == nil {
			httpError(w, statusForbidden, "requests must name the server by its address or localhost")
			return
		}
		if o := r.Header("Origin"); o != "" && o != "http://"+r.Host {
			httpError(w, statusForbidden, "cross-origin requests are refused")
			return
		}
		h(w, r)
	}
}

func (s *Server) get(h handlerFunc) handlerFunc {
	return func(w *response, r *request) {
		if r.Method != "GET" {
			httpError(w, statusMethodNotAllowed, r.Path+" takes GET")
			return
		}
		h(w, r)
	}
}

func (s *Server) post(h handlerFunc) handlerFunc {
	return func(w *response, r *request) {
		if r.Method != "POST" {
			httpError(w, statusMethodNotAllowed, r.Path+" takes POST")
			return
		}
		h(w, r)
	}
}

// httpError answers with a status and a JSON object {"error": msg}.
func httpError(w *response, code int, msg string) {
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(b, '\n'))
}

func writeJSON(w *response, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		httpError(w, statusInternalServerError, err.Error())
		return
	}
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

// uintParam reads a query parameter as an unsigned number (decimal, or 0x hex); absent is 0.
func uintParam(r *request, name string, bits int) (uint64, bool, error) {
	q := r.Query
	if !q.Has(name) {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(q.Get(name), 0, bits)
	if err != nil {
		return 0, true, fmt.Errorf("%s: %q is not a number (decimal, or hex with 0x)", name, q.Get(name))
	}
	return v, true, nil
}

// unknownParams rejects query parameters an endpoint does not take.
func unknownParams(r *request, known ...string) error {
	for name := range r.Query {
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		if !ok {
			return fmt.Errorf("unknown parameter %q (this endpoint takes: %s)", name, strings.Join(known, ", "))
		}
	}
	return nil
}

// GET /api/state?pid=N
func (s *Server) apiState(w *response, r *request) {
	if err := unknownParams(r, "pid"); err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	pid, _, err := uintParam(r, "pid", 31)
	if err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	var st *State
	var berr error
	err = s.inspect(r.Context(), func(snap *Snapshot) {
		st, berr = snap.Build(int(pid))
	})
	switch {
	case err != nil:
		httpError(w, statusServiceUnavailable, err.Error())
		return
	case berr != nil:
		httpError(w, statusNotFound, berr.Error())
		return
	}
	st.Version = s.version.Load()
	if s.rec != nil {
		st.Last, st.EventSeq = s.rec.Last()
	}
	writeJSON(w, st)
}

// GET /api/frame?pfn=N
func (s *Server) apiFrame(w *response, r *request) {
	if err := unknownParams(r, "pfn"); err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	pfn, ok, err := uintParam(r, "pfn", 64)
	if err == nil && !ok {
		err = errors.New("pfn: which frame? (e.g. /api/frame?pfn=0x1a2)")
	}
	if err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	var fi *FrameInfo
	var ferr error
	if err := s.inspect(r.Context(), func(snap *Snapshot) { fi, ferr = Frame(snap.K, pfn) }); err != nil {
		httpError(w, statusServiceUnavailable, err.Error())
		return
	}
	if ferr != nil {
		httpError(w, statusNotFound, ferr.Error())
		return
	}
	writeJSON(w, fi)
}

// GET /api/events?since=SEQ&limit=N[&newest=1]
func (s *Server) apiEvents(w *response, r *request) {
	if err := unknownParams(r, "since", "limit", "newest"); err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	since, _, err := uintParam(r, "since", 64)
	if err != nil {
		httpError(w, statusBadRequest, err.Error())
		return
	}
	limit, has, err := uintParam(r, "limit", 32)
	if err != nil || (has && (limit == 0 || limit > 10000)) {
		httpError(w, statusBadRequest, "limit: want a number from 1 to 10000")
		return
	}
	if !has {
		limit = 2000
	}
	newest := false
	switch v := r.Query.Get("newest"); v {
	case "", "0", "false":
	case "1", "true":
		newest = true
	default:
		httpError(w, statusBadRequest, fmt.Sprintf("newest: %q is not 1 or 0", v))
		return
	}
	evs, last := []Event{}, uint64(0)
	switch {
	case s.rec == nil:
	case newest:
		evs, last = s.rec.Newest(since, int(limit))
	default:
		evs, last = s.rec.Since(since, int(limit))
	}
	writeJSON(w, map[string]any{"events": evs, "last": last})
}

// POST /api/command {"line": "step"}
func (s *Server) apiCommand(w *response, r *request) {
	if ct := r.Header("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		httpError(w, statusUnsupportedMediaType, "send the command as JSON: {\"line\": \"step\"}")
		return
	}
	var req struct {
		Line string `json:"line"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLine+256))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpError(w, statusBadRequest, "bad command request: "+err.Error()+" (want {\"line\": \"step\"})")
		return
	}
	line := strings.TrimSpace(req.Line)
	switch {
	case line == "":
		httpError(w, statusBadRequest, "empty command (type help for the list)")
		return
	case len(line) > maxLine || strings.ContainsAny(line, "\r\n\x00"):
		httpError(w, statusBadRequest, "a command is one line of at most 4096 bytes")
		return
	}
	var out bytes.Buffer
	tw := io.MultiWriter(&out, s.Console())
	if s.Echo != nil {
		tw = io.MultiWriter(&out, s.Console(), s.Echo)
	}
	fmt.Fprintf(tw, "(web) %s\n", line)
	out.Reset()
	s.stop.Store(false)
	quit, err := s.m.Exec(tw, line)
	s.Idle()
	resp := map[string]any{"output": out.String(), "quit": quit}
	if err != nil {
		resp["error"] = err.Error()
	}
	writeJSON(w, resp)
	if quit {
		s.finish()
	}
}

// POST /api/stop: ask the running command to stop at its next pause.
func (s *Server) apiStop(w *response, r *request) {
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if !running {
		writeJSON(w, map[string]any{"ok": false, "error": "nothing is running"})
		return
	}
	s.stop.Store(true)
	writeJSON(w, map[string]any{"ok": true})
}

// GET /api/stream: server-sent events. "state" carries {"version": V} whenever the machine
// may have changed; "console" carries transcript text. A slow client misses intermediate
// versions, never the newest; the emulator never waits for it.
func (s *Server) apiStream(w *response, r *request) {
	fl := w
	w.SetHeader("Content-Type", "text/event-stream")
	w.SetHeader("Cache-Control", "no-store")
	c := make(chan struct{}, 1)
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	s.viewer(1)
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		s.viewer(-1)
	}()
	var sent uint64
	var off uint64
	s.mu.Lock()
	_, off = s.console.since(^uint64(0))
	if off > 64<<10 {
		off -= 64 << 10 // the recent transcript
	} else {
		off = 0
	}
	s.mu.Unlock()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	c <- struct{}{}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			fmt.Fprintf(w, "event: end\ndata: {}\n\n")
			fl.Flush()
			return
		case <-keep.C:
			fmt.Fprintf(w, ": keep-alive\n\n")
		case <-c:
			s.mu.Lock()
			text, next := s.console.since(off)
			s.mu.Unlock()
			off = next
			if len(text) > 0 {
				b, _ := json.Marshal(string(text))
				fmt.Fprintf(w, "event: console\ndata: %s\n\n", b)
			}
			if v := s.version.Load(); v != sent {
				sent = v
				fmt.Fprintf(w, "event: state\ndata: {\"version\":%d}\n\n", v)
			}
		}
		fl.Flush()
	}
}
