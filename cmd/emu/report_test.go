package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// text is the text inside n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// find calls f for every element of the tree.
func find(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		find(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// emu run --report writes one HTML page that parses, needs nothing from the network, and
// states the run's counts: the same as --stats-json's for the same run.
func TestRunReport(t *testing.T) {
	dir := t.TempDir()
	report, statsFile := filepath.Join(dir, "r.html"), filepath.Join(dir, "s.json")
	out, errs, code := emulated("run", "--report", report, "--stats-json", statsFile, progs+"dbg_cow")
	require.Equal(t, 0, code, errs)
	want, _ := native(t, "dbg_cow")
	assert.Equal(t, want, out, "the report does not change what the program prints")
	var stats struct {
		Instructions uint64            `json:"instructions"`
		Faults       map[string]uint64 `json:"page_faults"`
		FaultsTotal  uint64            `json:"page_faults_total"`
		Syscalls     map[string]uint64 `json:"syscalls"`
		Processes    uint64            `json:"processes"`
	}
	b, err := os.ReadFile(statsFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))

	f, err := os.Open(report)
	require.NoError(t, err)
	defer f.Close()
	doc, err := html.Parse(f)
	require.NoError(t, err)
	byID := map[string]*html.Node{}
	svgs := 0
	find(doc, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			byID[id] = n
		}
		switch n.Data {
		case "script", "iframe", "img", "link", "object":
			t.Errorf("a self-contained report has no <%s>", n.Data)
		case "svg":
			svgs++
		}
		for _, a := range n.Attr {
			if strings.Contains(a.Val, "http://") || strings.Contains(a.Val, "https://") {
				if a.Key != "xmlns" {
					t.Errorf("<%s %s=%q> reaches the network", n.Data, a.Key, a.Val)
				}
			}
		}
	})
	assert.Equal(t, 3, svgs, "charts: faults, frames, TLB hit rates")
	require.Contains(t, byID, "instructions")
	assert.Equal(t, comma(stats.Instructions), text(byID["instructions"]))
	assert.Equal(t, comma(stats.FaultsTotal), text(byID["page-faults"]))
	faults := text(byID["faults"])
	for outcome, n := range stats.Faults {
		if n > 0 {
			assert.Regexp(t, outcome+`\s*`+comma(n), faults)
		}
	}
	assert.Contains(t, faults, "cow-copy")
	sys := text(byID["syscalls"])
	for name, n := range stats.Syscalls {
		assert.Regexp(t, name+`\s*`+comma(n), sys)
	}
	assert.Regexp(t, `processes created\s*2`, text(byID["stats"]))
	vmas := text(byID["vmas"])
	assert.Contains(t, vmas, "[stack]")
	assert.Contains(t, text(byID["tlbs"]), "DTLB")
	assert.EqualValues(t, 2, stats.Processes)
}

// A run under memory pressure: the report counts the pages swapped out and in (as
// --stats-json does), and its faults by outcome include the swap-ins.
func TestRunReportWithSwap(t *testing.T) {
	dir := t.TempDir()
	report, statsFile := filepath.Join(dir, "r.html"), filepath.Join(dir, "s.json")
	_, errs, code := emulated("run", "--ram", "16M", "--swap", "64M", "--report", report, "--stats-json", statsFile,
		progs+"musl_mem_pressure", filepath.Join(dir, "mapped"))
	require.Equal(t, 0, code, errs)
	var stats struct {
		Faults  map[string]uint64 `json:"page_faults"`
		Reclaim struct {
			Reclaimed uint64 `json:"pages_reclaimed"`
			SwapOuts  uint64 `json:"swap_outs"`
			SwapIns   uint64 `json:"swap_ins"`
		} `json:"reclaim"`
	}
	b, err := os.ReadFile(statsFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))
	require.Positive(t, stats.Reclaim.SwapOuts)

	f, err := os.Open(report)
	require.NoError(t, err)
	defer f.Close()
	doc, err := html.Parse(f)
	require.NoError(t, err)
	byID := map[string]*html.Node{}
	find(doc, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			byID[id] = n
		}
	})
	st := text(byID["stats"])
	assert.Regexp(t, `pages swapped out / in\s*`+comma(stats.Reclaim.SwapOuts)+" / "+comma(stats.Reclaim.SwapIns), st)
	assert.Regexp(t, `frames reclaimed\s*`+comma(stats.Reclaim.Reclaimed), st)
	assert.Regexp(t, `swap-in\s*`+comma(stats.Faults["swap-in"]), text(byID["faults"]))
}

// A report that cannot be written fails before the program runs.
func TestRunReportUnwritable(t *testing.T) {
	out, errs, code := emulated("run", "--report", filepath.Join(t.TempDir(), "no", "such", "dir", "r.html"), progs+"hello")
	assert.Equal(t, 2, code)
	assert.Empty(t, out, "the program did not run")
	assert.Contains(t, errs, "emu run: --report:")
}

func comma(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
