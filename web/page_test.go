package web

import (
	"fmt"
	"html/template"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmemu/vmemu/minikernel"
)

// htmlTemplateReport is report.html executed by html/template, as the report was written
// before page.go: the reference page.go must match byte for byte.
func htmlTemplateReport(t *testing.T, pg reportPage) string {
	t.Helper()
	tmpl := template.Must(template.New("report.html").Funcs(template.FuncMap{
		"pct":   func(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) },
		"comma": comma,
		"size":  func(n uint64) string { return sizeText(n) },
	}).Parse(reportHTML))
	// The same data, with the charts typed as html/template's HTML.
	data := map[string]any{}
	v := reflect.ValueOf(pg)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i).Interface()
		if h, ok := f.(pageHTML); ok {
			f = template.HTML(h)
		}
		data[v.Type().Field(i).Name] = f
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func pageReport(t *testing.T, pg reportPage) string {
	t.Helper()
	var b strings.Builder
	if err := reportTmpl().execute(&b, pg); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The report is what html/template made of report.html, for a recorded run and for values
// that need escaping in each of the page's contexts.
func TestPageIsHTMLTemplate(t *testing.T) {
	r := &Recording{vmas: []bigVMA{
		{PID: 2, Name: "/bin/a<b>&'\"+c", Start: 0x400000, Size: 1 << 20, Prot: "r-xp", Resident: 12},
		{PID: 3, Name: "[heap] ünïcödé \xff\x00", Start: 0x7f0000000000, Size: 3 << 30, Prot: "rw-p", Resident: 70000},
	}}
	for i := uint64(0); i < 5; i++ {
		s := sample{insns: 1000 * i, frames: 10 * i}
		s.faults[1], s.hits[1], s.misses[1] = 3*i, 100*i*i, i
		r.samples = append(r.samples, s)
	}
	r.faults[1] = 12
	var st minikernel.Stats
	st.Instructions, st.Faults[1], st.Faults[3] = 123456789, 12, 1
	st.Syscalls = map[string]uint64{"write": 3, "exit_group": 1, "<odd>&": 2}
	st.DTLB.Hits, st.DTLB.Misses = 1600, 4
	sum := Summary{Program: "prog<1>", Args: []string{"prog<1>", "a&b", "it's", `"q"`, "1+1", "\x00"},
		Stats: st, Wall: 1500 * time.Millisecond, Exit: "exit code 0 <&>"}
	pg := r.page(sum)
	if got, want := pageReport(t, pg), htmlTemplateReport(t, pg); got != want {
		t.Fatalf("page.go's report differs from html/template's:\n%s", firstDiff(got, want))
	}

	// CSS values html/template refuses, and odd strings everywhere.
	pg.Faults = append(pg.Faults, outcomeRow{Name: "x", Color: "red;background:url(x)", Share: 1},
		outcomeRow{Name: "y", Color: "expre\\ssion", Share: -1}, outcomeRow{Name: "z", Color: "EXPRESSION", Share: 2},
		outcomeRow{Name: "w", Color: "a--b", Share: 3}, outcomeRow{Name: "v", Color: "-a-b é", Share: 4},
		outcomeRow{Name: "u", Color: "moz-binding", Share: 5})
	pg.Generated, pg.Title = `gen"'<>&+`, "</title><script>"
	pg.Stats = append(pg.Stats, statRow{"<b>", "&amp;", "'\""})
	if got, want := pageReport(t, pg), htmlTemplateReport(t, pg); got != want {
		t.Fatalf("page.go's report differs from html/template's:\n%s", firstDiff(got, want))
	}
}

func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-200, 0)
	return fmt.Sprintf("at byte %d:\n got: %q\nwant: %q", i, got[lo:min(i+200, len(got))], want[lo:min(i+200, len(want))])
}

// A page with an action where page.go cannot escape as html/template would is refused
// when it is parsed.
func TestPageRefusesContexts(t *testing.T) {
	for _, src := range []string{
		`<a href="{{.X}}">`, `<a onclick="{{.X}}">`, `<a title={{.X}}>`, `<script>{{.X}}</script>`,
		`<style>{{.X}}</style>`, `<!-- {{.X}} -->`, `<a {{.X}}>`, `{{range .X}}<a title="{{end}}">`,
		`{{.X | html}}`, `{{nope .X}}`, `{{- .X}}`, `{{range .X}}`, `{{end}}`, `<a title="{{.X}}`,
	} {
		if _, err := parsePage(src, reportFuncs); err == nil {
			t.Errorf("parsePage(%q) accepted it", src)
		}
	}
}
