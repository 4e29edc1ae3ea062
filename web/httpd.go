package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A small HTTP/1.1 server for the page: one request per connection (the answer says
// Connection: close), bodies by Content-Length, answers buffered and sent with their
// length, or streamed in chunks once the handler flushes (the event stream). Package
// net/http is not used: it brings crypto/tls, x509 and HTTP/2 into emu, whose
// initialisation and size cost every run about 2 ms at start, for a page on the loopback
// interface that needs none of them.

// request is what a handler sees of an HTTP request.
type request struct {
	Method string
	Path   string // the URL's path, unescaped
	Query  url.Values
	Host   string
	header map[string]string // by lower-case name; a repeated field keeps its first value
	Body   io.Reader         // the whole body, read before the handler runs
	ctx    context.Context
}

// Header returns the value of the header field name (any case), or "".
func (r *request) Header(name string) string { return r.header[strings.ToLower(name)] }

// Context ends when the client goes away (or the server closes).
func (r *request) Context() context.Context { return r.ctx }

// handlerFunc answers one request.
type handlerFunc func(w *response, r *request)

// response collects a handler's answer: its status, header fields and body.
type response struct {
	bw      *bufio.Writer
	head    bool // a HEAD request: no body is sent
	fields  []string
	status  int
	body    []byte
	started bool // the status line and header went out, chunked
}

// SetHeader sets a header field of the answer (before its first Flush).
func (w *response) SetHeader(name, value string) {
	for i := 0; i < len(w.fields); i += 2 {
		if w.fields[i] == name {
			w.fields[i+1] = value
			return
		}
	}
	w.fields = append(w.fields, name, value)
}

// WriteHeader sets the status (200 when never called).
func (w *response) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *response) Write(p []byte) (int, error) {
	if w.started {
		if len(p) == 0 {
			return 0, nil
		}
		fmt.Fprintf(w.bw, "%x\r\n", len(p))
		w.bw.Write(p)
		_, err := w.bw.WriteString("\r\n")
		return len(p), err
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// Flush sends what was written so far: the header, then each flush's bytes as a chunk.
func (w *response) Flush() {
	if !w.started {
		w.writeHeader(-1)
		w.started = true
		body := w.body
		w.body = nil
		w.Write(body)
	}
	w.bw.Flush()
}

// writeHeader writes the status line and header; n is the body's length, -1 for chunked.
func (w *response) writeHeader(n int) {
	if w.status == 0 {
		w.status = 200
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", w.status, statusText(w.status))
	for i := 0; i < len(w.fields); i += 2 {
		fmt.Fprintf(w.bw, "%s: %s\r\n", w.fields[i], w.fields[i+1])
	}
	if n < 0 {
		w.bw.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(w.bw, "Content-Length: %d\r\n", n)
	}
	fmt.Fprintf(w.bw, "Date: %s\r\nConnection: close\r\n\r\n", time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
}

// finish sends the answer once the handler has returned.
func (w *response) finish() {
	if w.started {
		w.bw.WriteString("0\r\n\r\n")
	} else {
		w.writeHeader(len(w.body))
		if !w.head {
			w.bw.Write(w.body)
		}
	}
	w.bw.Flush()
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 413:
		return "Request Entity Too Large"
	case 415:
		return "Unsupported Media Type"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	}
	return "Status " + strconv.Itoa(code)
}

// httpd serves handler on a listener until closed.
type httpd struct {
	handler           handlerFunc
	readHeaderTimeout time.Duration

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool // true once its request is being answered
	closed bool
	wg     sync.WaitGroup
}

// Limits on what a client sends.
const (
	maxHeaderBytes = 64 << 10
	maxBodyBytes   = 1 << 20
)

// newHTTPD returns a server of handler for ln; serve runs it.
func newHTTPD(ln net.Listener, handler handlerFunc, readHeaderTimeout time.Duration) *httpd {
	return &httpd{handler: handler, readHeaderTimeout: readHeaderTimeout, ln: ln, conns: map[net.Conn]bool{}}
}

func (h *httpd) serve() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conns[c] = false
		h.wg.Add(1)
		h.mu.Unlock()
		go h.serveConn(c)
	}
}

// shutdown stops accepting, closes the connections that have not sent a request yet, waits
// for those being answered until ctx ends, and then closes those left.
func (h *httpd) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.ln.Close()
	for c, active := range h.conns {
		if !active {
			c.Close()
		}
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

func (h *httpd) serveConn(c net.Conn) {
	defer func() {
		c.Close()
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.wg.Done()
	}()
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 4096)
	if h.readHeaderTimeout > 0 {
		c.SetReadDeadline(time.Now().Add(h.readHeaderTimeout))
	}
	r, code, err := readRequest(br, bw)
	c.SetReadDeadline(time.Time{})
	h.mu.Lock()
	if h.closed {
		err, code = errors.New("server closed"), 0
	}
	h.conns[c] = err == nil
	h.mu.Unlock()
	if err != nil {
		if code != 0 {
			fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n%d %s: %v",
				code, statusText(code), code, statusText(code), err)
			bw.Flush()
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.ctx = ctx
	// The client going away ends the request's context (the event stream waits on it):
	// nothing more is read from the connection but its end.
	go func() {
		br.ReadByte()
		cancel()
	}()
	w := &response{bw: bw, head: r.Method == "HEAD"}
	h.handler(w, r)
	w.finish()
}

// readRequest reads a request's line, header and body (first telling a client that waits for
// it to send the body to go on); on an error, code is the status to answer with (0: none,
// the client went away).
func readRequest(br *bufio.Reader, bw *bufio.Writer) (*request, int, error) {
	n := 0
	line := func() (string, error) {
		s, err := br.ReadString('\n')
		n += len(s)
		if n > maxHeaderBytes {
			return "", errors.New("header too large")
		}
		return strings.TrimRight(s, "\r\n"), err
	}
	first, err := line()
	if err != nil {
		if n > maxHeaderBytes {
			return nil, 431, err
		}
		return nil, 0, err
	}
	parts := strings.Split(first, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") || parts[0] == "" ||
		strings.IndexFunc(parts[0], func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0 {
		return nil, 400, fmt.Errorf("malformed request line %q", first)
	}
	u, err := url.ParseRequestURI(parts[1])
	if err != nil {
		return nil, 400, fmt.Errorf("malformed request target: %v", err)
	}
	r := &request{Method: parts[0], Path: u.Path, Host: u.Host, header: map[string]string{}}
	r.Query, _ = url.ParseQuery(u.RawQuery)
	for {
		l, err := line()
		if err != nil {
			if n > maxHeaderBytes {
				return nil, 431, err
			}
			return nil, 0, err
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, 400, fmt.Errorf("malformed header line %q", l)
		}
		name = strings.ToLower(name)
		if _, dup := r.header[name]; !dup {
			r.header[name] = strings.TrimSpace(value)
		}
	}
	if r.Host == "" {
		r.Host = r.header["host"]
	}
	if te := r.header["transfer-encoding"]; te != "" && !strings.EqualFold(te, "identity") {
		return nil, 501, errors.New("request bodies must have a Content-Length")
	}
	size := int64(0)
	if cl := r.header["content-length"]; cl != "" {
		size, err = strconv.ParseInt(cl, 10, 64)
		if err != nil || size < 0 {
			return nil, 400, fmt.Errorf("bad Content-Length %q", cl)
		}
		if size > maxBodyBytes {
			return nil, 413, errors.New("request body too large")
		}
	}
	// The body is read before the handler runs (it is small: a command), so that the
	// connection can be watched for the client going away while the handler runs.
	if size > 0 && strings.EqualFold(r.header["expect"], "100-continue") {
		bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		bw.Flush()
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, 0, err
	}
	r.Body = bytes.NewReader(body)
	return r, 0, nil
}
