package web

import (
	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/tlb"
)

// The report of a run (emu run --report F.html): one self-contained HTML file, no script and
// nothing from the network, that summarises the run: its statistics, page faults over guest
// time by outcome, frames in use over time, TLB hit rates, and the largest VMAs.

//go:embed report.html
var reportHTML string

// reportFuncs are the functions report.html calls.
var reportFuncs = map[string]func(any) string{
	"pct":   func(f any) string { return fmt.Sprintf("%.2f%%", 100*f.(float64)) },
	"comma": func(n any) string { return comma(n.(uint64)) },
	"size":  func(n any) string { return sizeText(n.(uint64)) },
}

// reportTmpl parses the report's template (page.go) at its first use, not when emu starts.
var reportTmpl = sync.OnceValue(func() *pageTemplate {
	t, err := parsePage(reportHTML, reportFuncs)
	if err != nil {
		panic(err)
	}
	return t
})

// maxSamples bounds the points kept for the charts: past it, every other point is dropped and
// sampling becomes half as frequent.
const maxSamples = 2048

// sample is the machine's counters at one moment of guest time.
type sample struct {
	insns  uint64
	frames uint64
	faults [16]uint64 // by outcome, cumulative
	hits   [2]uint64  // ITLB, DTLB (or the unified TLB in both)
	misses [2]uint64
}

// Recording watches a run for its report. Subscribe Observe to the kernel before the
// program starts (k.Subscribe(r.Observe)).
type Recording struct {
	k       *minikernel.Kernel
	samples []sample
	gap     uint64 // least guest time between two samples
	faults  [16]uint64
	vmas    []bigVMA
}

// bigVMA is a VMA seen when its process exited (or when the run ended).
type bigVMA struct {
	PID      int
	Exe      string
	Name     string
	Start    uint64
	Size     uint64
	Prot     string
	Resident uint64
}

// NewRecording returns a recording of k's run.
func NewRecording(k *minikernel.Kernel) *Recording { return &Recording{k: k} }

// Observe is the kernel observer: it counts faults and samples the counters after each
// event, and keeps the VMAs of a process that exits.
func (r *Recording) Observe(e *minikernel.Event) {
	switch e.Kind {
	case minikernel.EvFrame, minikernel.EvTLB:
		return
	case minikernel.EvPageFault:
		if int(e.Outcome) < len(r.faults) {
			r.faults[e.Outcome]++
		}
	case minikernel.EvExit:
		if p := r.k.Process(e.PID); p != nil {
			r.keepVMAs(p)
		}
	}
	if n := len(r.samples); n > 0 && e.Insns-r.samples[n-1].insns < r.gap {
		return
	}
	r.sample(e.Insns)
}

func (r *Recording) sample(insns uint64) {
	s := sample{insns: insns, frames: r.k.Frames().Stats().InUse, faults: r.faults}
	for _, c := range r.k.CPUs() { // every CPU's TLBs together
		m := c.MMU()
		s.hits[0], s.hits[1] = s.hits[0]+m.ITLB.Stats.Hits, s.hits[1]+m.DTLB.Stats.Hits
		s.misses[0], s.misses[1] = s.misses[0]+m.ITLB.Stats.Misses, s.misses[1]+m.DTLB.Stats.Misses
	}
	r.samples = append(r.samples, s)
	if len(r.samples) >= maxSamples {
		keep := r.samples[:0]
		for i := 0; i < len(r.samples); i += 2 {
			keep = append(keep, r.samples[i])
		}
		r.samples = keep
		r.gap = max(2*r.gap, 1)
	}
}

// keepVMAs remembers p's VMAs with the pages resident in each.
func (r *Recording) keepVMAs(p *minikernel.Process) {
	mm := p.MM()
	if mm == nil {
		return
	}
	for _, v := range mm.VMAs() {
		r.vmas = append(r.vmas, bigVMA{PID: p.PID, Exe: p.Exe(), Name: describe.VMAName(v), Start: v.Start,
			Size: v.End - v.Start, Prot: describe.VMAProt(v), Resident: r.k.ResidentPages(mm, v.Start, v.End)})
	}
}

// Summary is what the report states besides the recording: the run's statistics and how it
// ended.
type Summary struct {
	Program string
	Args    []string
	Stats   minikernel.Stats // counts of the run
	Wall    time.Duration
	Exit    string // "exit code 0", "killed by SIGSEGV"
}

// WriteReport writes the report as one HTML file to w.
func (r *Recording) WriteReport(w io.Writer, s Summary) error {
	r.sample(r.k.Instructions())
	for _, p := range r.k.Processes() {
		r.keepVMAs(p) // processes still alive at the end (with --max-insns)
	}
	return reportTmpl().execute(w, r.page(s))
}

// reportPage is what the template shows.
type reportPage struct {
	Title        string
	Command      string
	Exit         string
	Stats        []statRow
	Syscalls     []statRow
	Faults       []outcomeRow
	TLBs         []tlbRow
	FaultChart   pageHTML
	FrameChart   pageHTML
	TLBChart     pageHTML
	VMAs         []vmaRow
	Instructions uint64
	FaultTotal   uint64
	Generated    string
}

type statRow struct {
	Name, Value, Note string
}

type outcomeRow struct {
	Name  string
	Count uint64
	Color string
	Share float64
}

type tlbRow struct {
	Name                                                          string
	Hits, Misses, Walks, Fills, Evictions, Invalidations, Flushes uint64
	Rate                                                          float64
}

type vmaRow struct {
	PID            int
	Name, Prot     string
	Start          string
	Size, Resident uint64
	Width          float64 // of the bar, in percent of the largest
	ResWidth       float64
}

// outcomeColors match the page's timeline.
var outcomeColors = map[string]string{"demand-zero": "#3b7dd8", "file-read": "#2f9e5a", "file-cached": "#7cc49a",
	"cow-copy": "#c62828", "cow-reuse": "#f08a80", "stack-growth": "#d35400", "spurious": "#8a96a6",
	"SIGSEGV": "#15202b", "SIGBUS": "#5d4037", "out-of-memory": "#000000", "EFAULT": "#6d4c41",
	"swap-in": "#7b3fc4", "swap-cached": "#b07cd8", "userfault": "#2a9d8f"}

func (r *Recording) page(s Summary) reportPage {
	st := s.Stats
	pg := reportPage{Title: "emu run " + s.Program, Command: strings.Join(append([]string{"emu run"}, s.Args...), " "),
		Exit: s.Exit, Instructions: st.Instructions, FaultTotal: st.TotalFaults(),
		Generated: "vmemu emu run --report"}
	mips := 0.0
	if s.Wall > 0 {
		mips = float64(st.Instructions) / s.Wall.Seconds() / 1e6
	}
	var sys uint64
	for _, c := range st.Syscalls {
		sys += c
	}
	f := st.Frames
	pg.Stats = []statRow{
		{"instructions retired", comma(st.Instructions), "guest time"},
		{"host wall time", fmt.Sprintf("%.3f s", s.Wall.Seconds()), fmt.Sprintf("%.1f guest MIPS", mips)},
		{"system calls", comma(sys), ""},
		{"page faults", comma(st.TotalFaults()), fmt.Sprintf("%d taken by the kernel for system calls", st.KernelFaults)},
		{"processes created", comma(st.Processes), fmt.Sprintf("%d forks, %d execs", st.Forks, st.Execs)},
		{"signals delivered", comma(st.Signals), ""},
		{"frames at peak", comma(f.Peak), sizeText(f.Peak * 4096)},
		{"frames in use at exit", comma(f.InUse), sizeText(f.InUse * 4096)},
		{"frames copied (copy-on-write)", comma(f.Copied), ""},
		{"frames shared at peak", comma(f.PeakShared), "reference count above one"},
		{"page-table pages at peak", comma(f.PeakTables), ""},
		{"page cache", fmt.Sprintf("%d hits, %d misses", st.PageCacheHits, st.PageCacheMisses), fmt.Sprintf("%d pages cached", st.PageCachePages)},
	}
	if rc := st.Reclaim; rc.Reclaimed > 0 || st.HasSwap {
		pg.Stats = append(pg.Stats, statRow{"frames reclaimed", comma(rc.Reclaimed),
			fmt.Sprintf("policy %s; %d clean file pages dropped, %d written back", rc.Policy, rc.Dropped, rc.WrittenBack)})
	}
	if st.HasSwap {
		pg.Stats = append(pg.Stats, statRow{"pages swapped out / in", comma(st.Reclaim.SwapOuts) + " / " + comma(st.Reclaim.SwapIns),
			fmt.Sprintf("%d found in the swap cache; %d of %d slots used at peak", st.Reclaim.SwapCacheHits, st.Swap.Peak, st.Swap.Slots)})
	}
	if st.Reclaim.OOMKills > 0 {
		pg.Stats = append(pg.Stats, statRow{"processes killed by the OOM killer", comma(st.Reclaim.OOMKills), ""})
	}
	for _, name := range st.SyscallNames() {
		pg.Syscalls = append(pg.Syscalls, statRow{Name: name, Value: comma(st.Syscalls[name])})
	}
	for o := minikernel.FaultOutcome(0); o < minikernel.FaultOutcome(len(st.Faults)); o++ {
		n := st.FaultCount(o)
		if n == 0 {
			continue
		}
		pg.Faults = append(pg.Faults, outcomeRow{Name: o.String(), Count: n, Color: colorOf(o.String()),
			Share: 100 * float64(n) / float64(max(st.TotalFaults(), 1))})
	}
	tlbs := []struct {
		name string
		s    tlb.Stats
	}{{"ITLB", st.ITLB}, {"DTLB", st.DTLB}}
	if st.Unified {
		tlbs = tlbs[1:]
		tlbs[0].name = "TLB"
	}
	for _, t := range tlbs {
		pg.TLBs = append(pg.TLBs, tlbRow{Name: t.name, Hits: t.s.Hits, Misses: t.s.Misses, Walks: t.s.Walks,
			Fills: t.s.Fills, Evictions: t.s.Evictions, Invalidations: t.s.Invalidations, Flushes: t.s.Flushes,
			Rate: t.s.HitRate()})
	}
	pg.FaultChart = r.faultChart()
	pg.FrameChart = r.frameChart()
	pg.TLBChart = r.tlbChart(st.Unified)
	pg.VMAs = r.largestVMAs(12)
	return pg
}

func colorOf(outcome string) string {
	if c, ok := outcomeColors[outcome]; ok {
		return c
	}
	return "#5b6675"
}

// largestVMAs returns the n largest VMAs seen, largest first.
func (r *Recording) largestVMAs(n int) []vmaRow {
	vs := append([]bigVMA(nil), r.vmas...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Size > vs[j].Size })
	if len(vs) > n {
		vs = vs[:n]
	}
	var out []vmaRow
	for _, v := range vs {
		row := vmaRow{PID: v.PID, Name: v.Name, Prot: v.Prot, Start: fmt.Sprintf("%#x", v.Start), Size: v.Size,
			Resident: v.Resident}
		// Bars on a log scale: a 4 KiB page and a 1 GiB mapping both stay visible.
		row.Width = 100 * math.Log2(float64(v.Size>>12)+1) / math.Log2(float64(vs[0].Size>>12)+1)
		row.ResWidth = 100 * float64(v.Resident) / float64(max(v.Size>>12, 1))
		out = append(out, row)
	}
	return out
}

// --- charts: inline SVG, drawn here so the file needs no script ---

const chartW, chartH, padL, padR, padT, padB = 640.0, 200.0, 56.0, 12.0, 10.0, 26.0

type series struct {
	name, color string
	y           []float64
}

// chart draws series over the samples' guest time as polylines, with axes.
func (r *Recording) chart(ss []series, yLabel string, yMax float64, pctAxis bool) pageHTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH,
		escapeText(yLabel))
	tmax := 1.0
	if n := len(r.samples); n > 0 {
		tmax = max(float64(r.samples[n-1].insns), 1)
	}
	if yMax <= 0 {
		yMax = 1
	}
	x := func(t float64) float64 { return padL + (chartW-padL-padR)*t/tmax }
	y := func(v float64) float64 { return chartH - padB - (chartH-padT-padB)*v/yMax }
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#f6f8fb"/>`, padL, padT, chartW-padL-padR, chartH-padT-padB)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		label := comma(uint64(math.Round(v)))
		if pctAxis {
			label = fmt.Sprintf("%.0f%%", 100*v)
		}
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#d5dbe3"/>`, padL, chartW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end" class="ax">%s</text>`, padL-5, y(v)+4, label)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" class="ax">0</text>`, padL, chartH-8)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end" class="ax">%s instructions</text>`, chartW-padR, chartH-8,
		comma(uint64(tmax)))
	for _, s := range ss {
		var pts strings.Builder
		for i, sm := range r.samples {
			if math.IsNaN(s.y[i]) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(float64(sm.insns)), y(s.y[i]))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.2"><title>%s</title></polyline>`,
			strings.TrimSpace(pts.String()), s.color, escapeText(s.name))
	}
	b.WriteString(`</svg>`)
	return pageHTML(b.String())
}

// faultChart: cumulative page faults by outcome.
func (r *Recording) faultChart() pageHTML {
	var ss []series
	top := 0.0
	for o := minikernel.FaultOutcome(0); int(o) < len(r.faults); o++ {
		if r.faults[o] == 0 {
			continue
		}
		s := series{name: o.String(), color: colorOf(o.String())}
		for _, sm := range r.samples {
			s.y = append(s.y, float64(sm.faults[o]))
		}
		top = max(top, float64(r.faults[o]))
		ss = append(ss, s)
	}
	return r.chart(ss, "page faults so far, by outcome", niceMax(top), false)
}

// frameChart: frames in use.
func (r *Recording) frameChart() pageHTML {
	s := series{name: "frames in use", color: "#3b7dd8"}
	top := 0.0
	for _, sm := range r.samples {
		s.y = append(s.y, float64(sm.frames))
		top = max(top, float64(sm.frames))
	}
	return r.chart([]series{s}, "frames in use", niceMax(top), false)
}

// tlbChart: the hit rate of each TLB between consecutive samples (NaN where it did no lookup).
func (r *Recording) tlbChart(unified bool) pageHTML {
	names, colors := []string{"ITLB", "DTLB"}, []string{"#e08a1e", "#3b7dd8"}
	first := 0
	if unified {
		first, names[1] = 1, "TLB"
	}
	var ss []series
	for i := first; i < 2; i++ {
		s := series{name: names[i] + " hit rate", color: colors[i]}
		for j, sm := range r.samples {
			var h, m uint64
			if j > 0 {
				h, m = sm.hits[i]-r.samples[j-1].hits[i], sm.misses[i]-r.samples[j-1].misses[i]
			}
			if h+m == 0 {
				s.y = append(s.y, math.NaN())
				continue
			}
			s.y = append(s.y, float64(h)/float64(h+m))
		}
		ss = append(ss, s)
	}
	return r.chart(ss, "TLB hit rate between samples", 1, true)
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// comma writes n with thousands separators: 1,816,883.
func comma(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sizeText is 4K, 1.5M, 2G.
func sizeText(n uint64) string {
	for _, u := range []struct {
		s string
		n uint64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n >= u.n {
			v := float64(n) / float64(u.n)
			if v >= 10 || n%u.n == 0 {
				return fmt.Sprintf("%.0f%s", v, u.s)
			}
			return fmt.Sprintf("%.1f%s", v, u.s)
		}
	}
	return fmt.Sprintf("%dB", n)
}
