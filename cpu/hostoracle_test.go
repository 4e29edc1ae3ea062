package cpu

// The host oracle: what the host CPU does with a snippet, for the differential tests.
//
// By default the answer comes from recordings (testdata/hostcpu/<Test>.gz) made once on a
// reference x86-64 host, so the suite gives the same verdict on any machine that runs Go:
// Intel or AMD of any generation, arm64, macOS. Two other modes, chosen with the
// environment variable VMEMU_HOSTCPU:
//
//	VMEMU_HOSTCPU=live    run every snippet on this host's CPU (linux/amd64 only) and compare
//	                      with that; the vendor masks follow this host's CPUID
//	VMEMU_HOSTCPU=update  run on this host and rewrite the recordings of the tests that ran:
//	                      VMEMU_HOSTCPU=update go test ./cpu
//	                      (the whole package, without -short or -run, so that every case of
//	                      both sizes is recorded; the files name the host they came from)
//
// A recording is keyed by a hash of the snippet, the input registers and the input memory,
// so a changed generator finds no recording and says how to make one, rather than
// comparing with the wrong case. The fields the SDM leaves to the vendor are masked per the
// recorded (or live) host's vendor, family and CPUID bits (cpuProfile), and each test logs
// what it masked.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// oracleMode is how hostRun answers: from recordings, live, or live while recording.
type oracleMode int

const (
	modeGolden oracleMode = iota
	modeLive
	modeUpdate
)

func (m oracleMode) String() string {
	return [...]string{"recorded", "live", "update"}[m]
}

var (
	modeOnce sync.Once
	mode     oracleMode
	modeErr  error
)

// oracle returns the mode VMEMU_HOSTCPU selects.
func oracle() (oracleMode, error) {
	modeOnce.Do(func() {
		switch v := os.Getenv("VMEMU_HOSTCPU"); v {
		case "", "recorded":
			mode = modeGolden
		case "live":
			mode = modeLive
		case "update":
			mode = modeUpdate
		default:
			modeErr = fmt.Errorf("VMEMU_HOSTCPU=%q: want live, update or nothing (recorded results)", v)
		}
		if mode != modeGolden && !liveAvailable {
			modeErr = fmt.Errorf("VMEMU_HOSTCPU=%s needs an x86-64 Linux host; this is %s", os.Getenv("VMEMU_HOSTCPU"), hostPlatform)
		}
	})
	return mode, modeErr
}

// goldenDir holds the recordings.
const goldenDir = "testdata/hostcpu"

// hostResult is what the host left: the registers after the snippet and its data area.
type hostResult struct {
	regs hostcpu.Regs
	mem  []byte
}

// golden is the recording of one top-level test: the host it came from and its results.
type golden struct {
	profile cpuProfile
	recs    map[[8]byte][]byte // case key -> encoded result (see encodeResult)
	used    map[[8]byte]bool   // update mode: the keys this run recorded
	dirty   bool
	err     error // loading failed
}

var (
	goldMu sync.Mutex
	golds  = map[string]*golden{}
)

// topName is the top-level test's name: subtests share their parent's recording.
func topName(t testing.TB) string {
	n, _, _ := strings.Cut(t.Name(), "/")
	return n
}

// caseKey hashes what determines a host run: snippet, input registers, input memory.
func caseKey(code []byte, r *hostcpu.Regs, mem []byte) [8]byte {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(code)))
	h.Write(b[:])
	h.Write(code)
	for _, v := range append(r.GPR[:], r.RFLAGS) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write(mem)
	var k [8]byte
	copy(k[:], h.Sum(nil))
	return k
}

// encodeResult stores out relative to the input: each register XOR its input value (RSP
// as it is), then
// the output memory as operations on the input memory (what the host stores is mostly the
// input, in place or moved: an FXSAVE image of the FXRSTOR one). An operation is a uvarint
// n<<2|kind: kind 0 keeps n bytes in place, 1 copies n bytes from an offset (a varint,
// relative to the end of the previous copy) in the input followed by the output so far, 2
// is n literal bytes; 0 ends the list.
func encodeResult(in, out *hostcpu.Regs, memIn, memOut []byte) []byte {
	var b []byte
	for i := 0; i < 17; i++ {
		b = binary.AppendUvarint(b, regAt(out, i)^regXor(in, i))
	}
	const minCopy = 4
	// Copies come from the input or from the output already written (the same result is
	// often stored twice): source offsets index in ++ out[:i].
	src := append(append([]byte(nil), memIn...), memOut...)
	index := map[uint32][]int{}
	indexed := 0
	indexTo := func(end int) { // index the windows starting below end
		for ; indexed < end && indexed+minCopy <= len(src); indexed++ {
			w := binary.LittleEndian.Uint32(src[indexed:])
			index[w] = append(index[w], indexed)
		}
	}
	var lit []byte
	next := 0 // a copy's source is stored relative to where the previous copy ended
	flush := func() {
		if len(lit) > 0 {
			b = binary.AppendUvarint(b, uint64(len(lit))<<2|2)
			b = append(b, lit...)
			lit = lit[:0]
		}
	}
	for i := 0; i < len(memOut); {
		if memOut[i] == memIn[i] {
			n := 1
			for i+n < len(memOut) && memOut[i+n] == memIn[i+n] {
				n++
			}
			flush()
			b = binary.AppendUvarint(b, uint64(n)<<2)
			i += n
			continue
		}
		limit := len(memIn) + i // sources end before the byte being written
		indexTo(limit - minCopy + 1)
		best, bestN := 0, 0
		if i+minCopy <= len(memOut) {
			for _, o := range index[binary.LittleEndian.Uint32(memOut[i:])] {
				n := 0
				for o+n < limit && i+n < len(memOut) && src[o+n] == memOut[i+n] {
					n++
				}
				if n > bestN || n == bestN && o == next {
					best, bestN = o, n
				}
			}
		}
		if bestN >= minCopy {
			flush()
			b = binary.AppendUvarint(b, uint64(bestN)<<2|1)
			b = binary.AppendVarint(b, int64(best-next))
			next = best + bestN
			i += bestN
			continue
		}
		lit = append(lit, memOut[i])
		i++
	}
	flush()
	return binary.AppendUvarint(b, 0)
}

// decodeResult applies an encoded result to the input registers and memory.
func decodeResult(b []byte, r *hostcpu.Regs, mem []byte) error {
	bad := errors.New("corrupt recording")
	for i := 0; i < 17; i++ {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return bad
		}
		setRegAt(r, i, regXor(r, i)^v)
		b = b[n:]
	}
	in := append([]byte(nil), mem...)
	next := 0
	for off := 0; ; {
		op, n := binary.Uvarint(b)
		if n <= 0 {
			return bad
		}
		b = b[n:]
		if op == 0 {
			return nil
		}
		l := op >> 2
		if l > uint64(len(mem)-off) {
			return bad
		}
		switch op & 3 {
		case 0:
		case 1:
			d, n := binary.Varint(b)
			src := int64(next) + d
			if n <= 0 || src < 0 || src+int64(l) > int64(len(in)+off) {
				return bad
			}
			b = b[n:]
			for k := 0; k < int(l); k++ { // byte by byte: a source may overlap what it writes
				if p := int(src) + k; p < len(in) {
					mem[off+k] = in[p]
				} else {
					mem[off+k] = mem[p-len(in)]
				}
			}
			next = int(src) + int(l)
		case 2:
			if l > uint64(len(b)) {
				return bad
			}
			copy(mem[off:], b[:l])
			b = b[l:]
		default:
			return bad
		}
		off += int(l)
	}
}

func regAt(r *hostcpu.Regs, i int) uint64 {
	if i == 16 {
		return r.RFLAGS
	}
	return r.GPR[i]
}

// regXor is what a register's result is stored relative to: its input, but zero for RSP,
// which the snippet's RET leaves at a fixed value whatever the input.
func regXor(r *hostcpu.Regs, i int) uint64 {
	if i == 4 {
		return 0
	}
	return regAt(r, i)
}

func setRegAt(r *hostcpu.Regs, i int, v uint64) {
	if i == 16 {
		r.RFLAGS = v
	} else {
		r.GPR[i] = v
	}
}

const goldenMagic = "vmemu hostcpu recording v1\n"

// loadGolden reads the recording of test name (an empty one if there is none).
func loadGolden(name string) *golden {
	g := &golden{recs: map[[8]byte][]byte{}, used: map[[8]byte]bool{}}
	f, err := os.Open(filepath.Join(goldenDir, name+".gz"))
	if errors.Is(err, os.ErrNotExist) {
		return g
	}
	if err != nil {
		g.err = err
		return g
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		g.err = fmt.Errorf("%s: %w", f.Name(), err)
		return g
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(goldenMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != goldenMagic {
		g.err = fmt.Errorf("%s: not a recording (%v)", f.Name(), err)
		return g
	}
	line, err := br.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &g.profile)
	}
	if err != nil {
		g.err = fmt.Errorf("%s: host profile: %w", f.Name(), err)
		return g
	}
	for {
		var k [8]byte
		if _, err := io.ReadFull(br, k[:]); err == io.EOF {
			break
		} else if err != nil {
			g.err = fmt.Errorf("%s: %w", f.Name(), err)
			return g
		}
		n, err := binary.ReadUvarint(br)
		if err != nil || n > 1<<20 {
			g.err = fmt.Errorf("%s: corrupt record", f.Name())
			return g
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			g.err = fmt.Errorf("%s: %w", f.Name(), err)
			return g
		}
		g.recs[k] = b
	}
	return g
}

// save writes the records this run used, in key order (so a re-recording on the same host
// changes nothing).
func (g *golden) save(name string) error {
	keys := make([][8]byte, 0, len(g.used))
	for k := range g.used {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i][:], keys[j][:]) < 0 })
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(goldenMagic))
	p, _ := json.Marshal(g.profile)
	zw.Write(append(p, '\n'))
	for _, k := range keys {
		zw.Write(k[:])
		zw.Write(binary.AppendUvarint(nil, uint64(len(g.recs[k]))))
		zw.Write(g.recs[k])
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(goldenDir, name+".gz"), buf.Bytes(), 0o644)
}

// goldenFor returns test t's recording, loading it on first use.
func goldenFor(t testing.TB) *golden {
	goldMu.Lock()
	defer goldMu.Unlock()
	name := topName(t)
	g := golds[name]
	if g == nil {
		g = loadGolden(name)
		if m, _ := oracle(); m == modeUpdate {
			g = &golden{recs: map[[8]byte][]byte{}, used: map[[8]byte]bool{}, dirty: true}
			g.profile, g.err = liveProfile()
		}
		golds[name] = g
	}
	return g
}

// hostRun gives what the host CPU leaves after running code (ending in RET) with registers
// r and data mem, as hostcpu.Run does: from the recording, or live (VMEMU_HOSTCPU).
func hostRun(t testing.TB, code []byte, r *hostcpu.Regs, mem []byte) error {
	m, err := oracle()
	if err != nil {
		return err
	}
	if m == modeLive {
		return liveRun(code, r, mem)
	}
	g := goldenFor(t)
	if g.err != nil {
		return g.err
	}
	key := caseKey(code, r, mem)
	if m == modeUpdate {
		in, memIn := *r, append([]byte(nil), mem...)
		if err := liveRun(code, r, mem); err != nil {
			return err
		}
		rec := encodeResult(&in, r, memIn, mem)
		goldMu.Lock()
		g.recs[key] = rec
		g.used[key] = true
		goldMu.Unlock()
		return nil
	}
	goldMu.Lock()
	rec, ok := g.recs[key]
	goldMu.Unlock()
	if !ok {
		return fmt.Errorf("%s: no recorded host result for this case (snippet % x): record the "+
			"test's cases on an x86-64 Linux host with VMEMU_HOSTCPU=update go test ./cpu, or "+
			"compare live there with VMEMU_HOSTCPU=live", topName(t), code)
	}
	return decodeResult(rec, r, mem)
}

// profileFor returns the host profile the vendor masks of test t follow: the recording's
// host, or this host when live.
func profileFor(t testing.TB) cpuProfile {
	m, err := oracle()
	if err != nil {
		t.Fatal(err)
	}
	if m == modeLive {
		p, err := liveProfile()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	g := goldenFor(t)
	if g.err != nil {
		t.Fatal(g.err)
	}
	return g.profile
}

var (
	maskMu    sync.Mutex
	maskNoted = map[string]bool{}
)

// noteMask records (once per test) that a field was masked because the host's vendor defines
// it, and logs it, so every run says what it did not compare.
func noteMask(t testing.TB, what string) {
	t.Helper()
	key := topName(t) + "\x00" + what
	maskMu.Lock()
	seen := maskNoted[key]
	maskNoted[key] = true
	maskMu.Unlock()
	if !seen {
		t.Logf("masked (vendor-defined on %s): %s", profileFor(t).short(), what)
	}
}

// TestMain writes the recordings of an update run.
func TestMain(m *testing.M) {
	flag.Parse()
	if md, _ := oracle(); md == modeUpdate {
		if testing.Short() || strings.Contains(flag.Lookup("test.run").Value.String(), "/") {
			fmt.Fprintln(os.Stderr, "hostcpu: VMEMU_HOSTCPU=update records whole top-level tests at full size: drop -short and subtest patterns")
			os.Exit(2)
		}
	}
	code := m.Run()
	if md, _ := oracle(); md == modeUpdate {
		if code != 0 {
			fmt.Fprintln(os.Stderr, "hostcpu: tests failed; recordings written anyway (they are the host's results)")
		}
		for name, g := range golds {
			if !g.dirty || g.err != nil {
				continue
			}
			if err := g.save(name); err != nil {
				fmt.Fprintln(os.Stderr, "hostcpu: writing recording:", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}
