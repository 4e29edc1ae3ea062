// Command mutate checks the checks: it plants known bugs in the emulator, one at a time,
// runs the test suite against each, and reports which tests caught it and how fast. A
// mutation no test catches is a hole in the suite. Run it from the module root:
//
//	go run ./internal/mutate                 # every mutation, the whole suite in -short mode
//	go run ./internal/mutate -run PCID       # the mutations whose name matches
//	go run ./internal/mutate -pkgs ./mmu/... # a narrower suite
//
// Each mutation is a textual replacement in one or more source files, given to the Go
// toolchain as a build overlay (go test -overlay): the tree is never changed. A
// replacement that no longer matches the source exactly once is an error, so the list
// keeps up with the code. It knows nothing of the emulator beyond these few lines.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// edit replaces old, which must occur exactly once in file, by new.
type edit struct{ file, old, new string }

// mutation is one planted bug.
type mutation struct {
	name  string
	edits []edit
}

var mutations = []mutation{
	{"INVLPG is a no-op", []edit{{"mmu/mmu.go",
		"func (m *MMU) Invlpg(va uint64) {\n\tif !Canonical(va) {",
		"func (m *MMU) Invlpg(va uint64) {\n\tif true || !Canonical(va) {"}}},
	{"the TLB ignores PCIDs", []edit{
		{"tlb/tlb.go", "if !e.valid || (e.PCID != pcid && e.Perm&PermGlobal == 0) {", "if !e.valid {"},
		{"tlb/tlb.go", "if e.valid && e.VPN == vpn && (e.PCID == pcid || e.Perm&PermGlobal != 0) {", "if e.valid && e.VPN == vpn {"}}},
	{"the D bit is never set", []edit{{"mmu/mmu.go",
		"if i == r.n-1 && acc&Write != 0 {\n\t\t\twant |= PTEDirty",
		"if false && i == r.n-1 && acc&Write != 0 {\n\t\t\twant |= PTEDirty"}, {"mmu/mmu.go",
		"want := e | PTEAccessed\n\tif acc&Write != 0 {\n\t\twant |= PTEDirty",
		"want := e | PTEAccessed\n\tif false && acc&Write != 0 {\n\t\twant |= PTEDirty"}}},
	{"NX is not checked", []edit{{"mmu/mmu.go",
		"if acc&Fetch != 0 && p&tlb.PermNoExec != 0 && m.efer&EFERNXE != 0 {\n\t\treturn false",
		"if false && acc&Fetch != 0 && p&tlb.PermNoExec != 0 && m.efer&EFERNXE != 0 {\n\t\treturn false"}}},
	{"COW always copies", []edit{{"minikernel/fault.go",
		"return k.frames.Kind(pfn) == FrameUser && k.frames.Ref(pfn) == 1",
		"return false && k.frames.Kind(pfn) == FrameUser && k.frames.Ref(pfn) == 1"}}},
	{"a VMA split is off by one page", []edit{{"minikernel/vma.go",
		"\tv.End = va\n\tmm.vmas = append(mm.vmas, nil)",
		"\tv.End = va + 4096\n\tmm.vmas = append(mm.vmas, nil)"}}},
	{"SUB sets OF wrong", []edit{{"cpu/flags.go",
		"\tcase lzSub:\n\t\tif a < b {\n\t\t\tf |= FlagCF\n\t\t}\n\t\tf |= ((a ^ b) & (a ^ res) >> sh & 1) << 11",
		"\tcase lzSub:\n\t\tif a < b {\n\t\t\tf |= FlagCF\n\t\t}\n\t\tf |= ((a ^ b) & (b ^ res) >> sh & 1) << 11"}}},
	{"a TLB shootdown is skipped once threads exist", []edit{{"minikernel/smp.go",
		"\tif k.cfg.NoShootdown {\n\t\tc.stats.ShootdownsSkipped++",
		"\tif true {\n\t\tc.stats.ShootdownsSkipped++"}}},
	{"a swap slot is never freed", []edit{{"minikernel/swap.go",
		"\t*c--\n\tif *c > 0 {\n\t\treturn\n\t}",
		"\t*c--\n\tif true {\n\t\treturn\n\t}"}}},
	{"the swap cache keeps its frame", []edit{{"minikernel/swap.go",
		"\tk.frames.setFlags(pfn, flagSwapCache, false)\n\tk.frames.Put(pfn)",
		"\tk.frames.setFlags(pfn, flagSwapCache, false)"}}},
	{"clearing an A bit leaves the TLB entry", []edit{{"minikernel/reclaim.go",
		"if e&mmu.PTEPresent != 0 && !k.rc.noFlush {",
		"if false && e&mmu.PTEPresent != 0 && !k.rc.noFlush {"}}},
	{"FSIN is one ulp off in 1 case of 64", []edit{{"cpu/internal/f80/trans.go",
		"\ts, _, _ := sinCosBig(a)\n\tv, f := s.round(cw)\n\treturn v, f | fl",
		"\ts, _, _ := sinCosBig(a)\n\tv, f := s.round(cw)\n\tif v.Mant%64 == 7 {\n\t\tv.Mant++\n\t}\n\treturn v, f | fl"}}},
}

// catch is a test that failed with a mutation in place.
type catch struct {
	pkg, test string
	after     time.Duration // from the start of go test
}

func main() {
	run := flag.String("run", "", "only the mutations whose name matches this regular expression")
	pkgs := flag.String("pkgs", "./...", "the packages to test")
	short := flag.Bool("short", true, "run the tests with -short")
	timeout := flag.Duration("timeout", 15*time.Minute, "go test's -timeout for each mutation")
	flag.Parse()
	re, err := regexp.Compile(*run)
	if err != nil {
		fail(err)
	}
	tmp, err := os.MkdirTemp("", "vmemu-mutate")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	type row struct {
		m       mutation
		catches []catch
		err     error
		took    time.Duration
	}
	var rows []row
	for i, m := range mutations {
		if !re.MatchString(m.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "mutation %d: %s ...\n", i+1, m.name)
		overlay, err := writeOverlay(tmp, i, m)
		if err != nil {
			fail(err)
		}
		start := time.Now()
		c, err := runTests(overlay, *pkgs, *short, *timeout)
		rows = append(rows, row{m, c, err, time.Since(start)})
		fmt.Fprintf(os.Stderr, "  caught by %d tests (%s)\n", len(c), time.Since(start).Round(time.Second))
	}
	fmt.Println("| mutation | caught | first caught by | after | tests that fail |")
	fmt.Println("|---|---|---|---|---|")
	missed := 0
	for _, r := range rows {
		if r.err != nil {
			fmt.Printf("| %s | error: %v | | | |\n", r.m.name, r.err)
			missed++
			continue
		}
		if len(r.catches) == 0 {
			fmt.Printf("| %s | **no** | | %s | 0 |\n", r.m.name, r.took.Round(time.Second))
			missed++
			continue
		}
		sort.Slice(r.catches, func(i, j int) bool { return r.catches[i].after < r.catches[j].after })
		first := r.catches[0]
		fmt.Printf("| %s | yes | %s (%s) | %s | %d: %s |\n", r.m.name, first.test, first.pkg,
			first.after.Round(100*time.Millisecond), len(r.catches), names(r.catches, 6))
	}
	if missed > 0 {
		fmt.Fprintf(os.Stderr, "%d mutations not caught\n", missed)
		os.Exit(1)
	}
}

// writeOverlay writes the mutated files of m and the overlay file that names them.
func writeOverlay(tmp string, i int, m mutation) (string, error) {
	files := map[string]string{}
	for _, e := range m.edits {
		src, ok := files[e.file]
		if !ok {
			b, err := os.ReadFile(e.file)
			if err != nil {
				return "", err
			}
			src = string(b)
		}
		if n := strings.Count(src, e.old); n != 1 {
			return "", fmt.Errorf("mutation %q: %s has the text to replace %d times, not once (the source moved: update internal/mutate)", m.name, e.file, n)
		}
		files[e.file] = strings.Replace(src, e.old, e.new, 1)
	}
	ov := struct{ Replace map[string]string }{map[string]string{}}
	for f, src := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return "", err
		}
		dst := filepath.Join(tmp, fmt.Sprintf("m%d-%s", i, strings.ReplaceAll(f, "/", "_")))
		if err := os.WriteFile(dst, []byte(src), 0o644); err != nil {
			return "", err
		}
		ov.Replace[abs] = dst
	}
	b, _ := json.Marshal(ov)
	path := filepath.Join(tmp, fmt.Sprintf("overlay%d.json", i))
	return path, os.WriteFile(path, b, 0o644)
}

// runTests runs go test with the overlay and returns the tests that failed, with when.
func runTests(overlay, pkgs string, short bool, timeout time.Duration) ([]catch, error) {
	args := []string{"test", "-overlay", overlay, "-count=1", "-json", "-timeout", timeout.String()}
	if short {
		args = append(args, "-short")
	}
	args = append(args, strings.Fields(pkgs)...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var catches []catch
	buildFailed := map[string]bool{}
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var ev struct {
			Action  string
			Package string
			Test    string
			Output  string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Action == "fail" && ev.Test != "" && !strings.Contains(ev.Test, "/"):
			catches = append(catches, catch{pkg: ev.Package, test: ev.Test, after: time.Since(start)})
		case ev.Action == "output" && strings.Contains(ev.Output, "[build failed]"):
			buildFailed[ev.Package] = true
		}
	}
	_ = cmd.Wait() // a non-zero status is what a caught mutation gives
	if len(buildFailed) > 0 {
		var p []string
		for k := range buildFailed {
			p = append(p, k)
		}
		return catches, fmt.Errorf("the mutated source does not build (%s)", strings.Join(p, ", "))
	}
	return catches, nil
}

// names lists up to n test names.
func names(c []catch, n int) string {
	var s []string
	for i, x := range c {
		if i == n {
			s = append(s, "...")
			break
		}
		s = append(s, x.test)
	}
	return strings.Join(s, ", ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(2)
}
