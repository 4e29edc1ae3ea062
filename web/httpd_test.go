package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The page's files, as net/http's file server served them: types, lengths, HEAD without
// a body, and other methods and paths refused.
func TestServerFiles(t *testing.T) {
	s := NewServer(nil, nil)
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		method, path, ctype string
		code                int
	}{
		{"GET", "", "text/html; charset=utf-8", 200},
		{"HEAD", "", "text/html; charset=utf-8", 200},
		{"GET", "app.js", "text/javascript; charset=utf-8", 200},
		{"GET", "style.css", "text/css; charset=utf-8", 200},
		{"GET", "index.html", "application/json", 404},
		{"GET", "static/app.js", "application/json", 404},
		{"DELETE", "", "application/json", 405},
	} {
		req, _ := http.NewRequest(tc.method, url+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s /%s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.code, tc.ctype)
		}
		if tc.code == 200 {
			want, _ := static.ReadFile("static/" + map[string]string{"": "index.html"}[tc.path] + tc.path)
			if tc.method == "HEAD" {
				if len(body) != 0 || resp.ContentLength != int64(len(want)) {
					t.Errorf("HEAD /%s: %d bytes of body, length %d; want none, %d", tc.path, len(body), resp.ContentLength, len(want))
				}
			} else if string(body) != string(want) {
				t.Errorf("GET /%s: not the file", tc.path)
			}
		}
	}
}

// Malformed requests get 400 (or 431 for a huge header), and the server goes on.
func TestServerMalformed(t *testing.T) {
	s := NewServer(nil, nil)
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	for _, tc := range []struct{ req, code string }{
		{"BLAH\x00 / HTTP/9\r\n\r\n", "400"},
		{"GET /\r\n\r\n", "400"},
		{"GET / HTTP/1.1\r\nno colon\r\n\r\n", "400"},
		{"POST /api/command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n", "400"},
		{"POST /api/command HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "501"},
		{"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", "431"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(c, tc.req)
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.HasPrefix(line, "HTTP/1.1 "+tc.code+" ") {
			t.Errorf("%q: answer %q, want %s", tc.req, line, tc.code)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the malformed requests: %d", resp.StatusCode)
	}
	// A client that waits to be told to send its body (curl does for large ones) is told.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "POST /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	if line, _ := br.ReadString('\n'); line != "HTTP/1.1 100 Continue\r\n" {
		t.Errorf("Expect: 100-continue: answer %q", line)
	}
	br.ReadString('\n')
	fmt.Fprint(c, "{}")
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 404 ") {
		t.Errorf("after 100 Continue: answer %q, want 404", line)
	}
	c.Close()
	// Close ends a connection that sends nothing, after its grace period at most.
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	s.finish()
	s.srv.shutdown(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}
