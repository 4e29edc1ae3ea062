package minikernel

import (
	"fmt"
	"math/rand/v2"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/reclaim"
)

// Page reclaim: taking frames back from the pages that hold them when free frames run short.
// Linux's mm/vmscan.c (kswapd, direct reclaim, shrink_folio_list), mm/rmap.c
// (folio_referenced, try_to_unmap) and mm/page_alloc.c (the zone watermarks).
//
// Which page goes is the replacement policy's choice (package reclaim): the frame allocator
// tells it of every user or page-cache frame filled (Frames.lru) and freed, the fault
// handler of every fault, and reclaim asks it for victims. What happens to a victim is the
// kernel's: a clean file page is dropped (the next fault reads it again), a dirty shared file
// page is written back first, an anonymous page is written to a swap slot (swap.go) and every
// PTE that mapped it becomes a swap entry. Page-table pages are never candidates; pages
// locked in memory (mlock) are taken off the policy's lists ("culled", Linux's unevictable
// list) and put back when unlocked.
//
// The reverse map (which PTEs map a frame) is built at the start of each reclaim pass by one
// walk of every live address space's page tables, like FrameMap: it answers the question
// Linux's anon_vma chains and i_mmap trees answer, more slowly, and cannot go stale. Nothing
// but the pass changes page tables while it runs (no guest instruction executes).
//
// When reclaim runs is Linux's: the allocator wakes kswapd when free frames fall below the
// low watermark, and kswapd reclaims up to the high watermark a little later (kswapdDelay); a
// fault or system call that finds free frames below the min watermark reclaims for itself
// first (direct reclaim). Both run only at points where the kernel holds no frame it has not
// counted a reference to (the entry of a trap: a fault, a system call, a tick), and a frame with a
// reference the reverse map does not explain (the kernel is copying through it) is never
// taken. With Config.ResidentLimit the policy may hold at most that many frames: a fault
// first reclaims to make room ("limit"), as if the machine had that many frames for pages.
//
// When nothing can be reclaimed and a fault finds no frame, the OOM killer ends the process
// with the highest badness (oom.go).

// swapClusterMax is how many pages direct reclaim frees beyond the min watermark at a time
// (Linux's SWAP_CLUSTER_MAX).
const swapClusterMax = 32

// ReclaimOp is what a reclaim event reports.
type ReclaimOp uint8

// Reclaim operations.
const (
	ReclaimScan      ReclaimOp = iota // a pass began: Text says who and why, Pages how many frames it wants
	ReclaimEvict                      // a clean file page was dropped from the page cache
	ReclaimWriteback                  // a dirty file page was written back to its file, then dropped
	ReclaimSwapOut                    // an anonymous page went to swap slot Slot; its PTEs became swap entries
	ReclaimSwapIn                     // a page was read back from swap slot Slot (the fault follows)
	ReclaimCull                       // a page locked in memory was taken off the policy's lists
	ReclaimDone                       // a pass ended: Pages frames reclaimed
)

var reclaimOpNames = [...]string{"scan", "evict", "write-back", "swap-out", "swap-in", "cull", "done"}

func (o ReclaimOp) String() string {
	if int(o) < len(reclaimOpNames) {
		return reclaimOpNames[o]
	}
	return fmt.Sprintf("reclaim%d", o)
}

// ReclaimStats counts what page reclaim did.
type ReclaimStats struct {
	Policy         string
	Scanned        uint64 // candidate pages the policy looked at
	Reclaimed      uint64 // frames taken back
	Dropped        uint64 // clean file pages dropped
	WrittenBack    uint64 // dirty file pages written back by reclaim (and dropped)
	SwapOuts       uint64 // pages written to swap
	SwapIns        uint64 // pages read back from swap
	SwapCacheHits  uint64 // faults on a swap entry whose page was still in the swap cache
	Culled         uint64 // locked pages taken off the policy's lists
	KswapdRuns     uint64 // passes by kswapd (free frames below the low watermark)
	DirectRuns     uint64 // passes by a fault or system call (below the min watermark)
	LimitRuns      uint64 // passes to stay within Config.ResidentLimit
	OOMKills       uint64 // processes the OOM killer ended
	Held           uint64 // frames the policy holds now
	Min, Low, High uint64 // the watermarks, in free frames
}

// reclaimer is the kernel's page-reclaim state.
type reclaimer struct {
	k        *Kernel
	policy   reclaim.Policy
	noFlush  bool // Config.ReclaimNoFlush: clear A bits without invalidating the TLB
	min      uint64
	low      uint64
	high     uint64
	limit    uint64 // Config.ResidentLimit (0: none)
	wake     bool   // kswapd was woken: free frames fell below the low watermark
	due      uint64 // when woken: the guest time (ns) at which kswapd runs
	busy     bool   // a pass is running
	futile   uint64 // after a pass that freed nothing, direct reclaim waits this many more candidates
	rmap     rmapIndex
	rng      *rand.Rand
	young    []*tlbGather // A bits cleared in the pass, per address space, to invalidate
	cull     []uint64     // locked frames found in the pass, culled after the policy's call
	lastSeen uint64       // the frame last counted as scanned (+1; 0: none)
	stats    ReclaimStats
}

// newReclaimer sets the policy and the watermarks for a machine of total frames. The min
// watermark follows Linux's min_free_kbytes (the square root of 16 times the memory in KiB),
// kept below an eighth of RAM; low and high are min plus a quarter of min (or a thousandth
// of RAM) once and twice (calculate_min_free_kbytes, __setup_per_zone_wmarks).
func newReclaimer(k *Kernel, cfg *Config) (*reclaimer, error) {
	pol := cfg.Policy
	if pol == nil {
		name := cfg.Reclaim
		if name == "" {
			name = reclaim.Default
		}
		var err error
		if pol, err = reclaim.New(name); err != nil {
			return nil, err
		}
	}
	total := k.frames.Stats().Total
	minFrames := isqrt(total*4*16) / 4 // min_free_kbytes, in frames
	minFrames = min(max(minFrames, 4), 65536, max(total/8, 1))
	delta := max(minFrames/4, total*10/10000)
	r := &reclaimer{k: k, policy: pol, noFlush: cfg.ReclaimNoFlush, min: minFrames, low: minFrames + delta,
		high: minFrames + 2*delta, limit: cfg.ResidentLimit, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}
	r.stats.Policy = pol.Name()
	return r, nil
}

func isqrt(n uint64) uint64 {
	x := uint64(0)
	for b := uint64(1) << 62; b > 0; b >>= 2 {
		if x+b <= n {
			n -= x + b
			x = x>>1 + b
		} else {
			x >>= 1
		}
	}
	return x
}

// added is the frame allocator telling reclaim that pfn now holds a page the policy may take.
func (r *reclaimer) added(pfn uint64) {
	k := r.k
	k.frames.setFlags(pfn, flagLRU, true)
	r.stats.Held++
	if r.futile > 0 {
		r.futile--
	}
	r.policy.Add(reclaim.Frame(pfn))
	if !r.wake && k.frames.Free() < r.low {
		r.wake, r.due = true, k.nowNS()+kswapdDelay
	}
}

// freed is the frame allocator telling reclaim that pfn was freed, with the flags it had.
func (r *reclaimer) freed(pfn uint64, fl frameFlags) {
	if fl&flagLRU != 0 {
		r.stats.Held--
		r.policy.Remove(reclaim.Frame(pfn))
	}
}

// cullFrame takes a locked frame off the policy's lists (Linux's mlock_folio(): to the
// unevictable list).
func (k *Kernel) cullFrame(pfn uint64) {
	r := k.rc
	if r == nil || k.frames.flags(pfn)&flagLRU == 0 {
		return
	}
	k.frames.setFlags(pfn, flagLRU, false)
	k.frames.setFlags(pfn, flagUnevictable, true)
	r.stats.Held--
	r.stats.Culled++
	r.policy.Remove(reclaim.Frame(pfn))
	k.emitReclaim(ReclaimCull, pfn, 0, "locked in memory (mlock)")
}

// putbackFrame gives an unlocked frame back to the policy (munlock_folio()); if another
// mapping still locks it, the next pass culls it again.
func (k *Kernel) putbackFrame(pfn uint64) {
	r := k.rc
	if r == nil || k.frames.flags(pfn)&flagUnevictable == 0 {
		return
	}
	k.frames.setFlags(pfn, flagUnevictable, false)
	k.frames.setFlags(pfn, flagLRU, true)
	r.stats.Held++
	r.policy.Add(reclaim.Frame(pfn))
}

// lockRange culls the frames mapped in [start, end) of mm: an area just locked.
func (k *Kernel) lockRange(mm *MM, start, end uint64) {
	k.visitPTEs(mm, start, end, func(va, ea uint64, e mmu.PTE) { k.cullFrame(e.Frame()) })
}

// unlockRange puts back the frames mapped in [start, end) of mm: an area unlocked, unmapped
// or torn down.
func (k *Kernel) unlockRange(mm *MM, start, end uint64) {
	k.visitPTEs(mm, start, end, func(va, ea uint64, e mmu.PTE) { k.putbackFrame(e.Frame()) })
}

// --- when reclaim runs ---

// kswapdDelay is how long after the allocator wakes it kswapd runs, in guest time (ns, one
// per instruction): the time Linux's kswapd thread takes to be scheduled.
const kswapdDelay = 10_000

// kswapd reclaims up to the high watermark if the allocator woke it and its time has come
// (Linux's kswapd thread). The kernel calls it whenever the guest's run stops at a trap,
// before the trap is handled (or shown to a debugger), and kswapdBudget ends the guest's
// run at that time: kswapd runs at the same
// point of the instruction stream however the run is cut into steps (a debugger's, the
// scheduler's quanta, several CPUs' turns), so runs repeat, and a single-threaded program
// sees the same reclaim on one CPU as on several.
func (k *Kernel) kswapd() {
	r := k.rc
	if r == nil || !r.wake || k.nowNS() < r.due || k.starting() {
		return
	}
	r.wake = false
	if free := k.frames.Free(); free < r.high {
		r.stats.KswapdRuns++
		k.shrink(r.high-free, "kswapd", fmt.Sprintf("free frames %d below the low watermark %d: reclaiming to the high watermark %d", free, r.low, r.high))
	}
}

// kswapdBudget limits budget, the instructions the current thread may run, so that the run
// stops when kswapd is due.
func (k *Kernel) kswapdBudget(budget uint64) uint64 {
	if r := k.rc; r != nil && r.wake {
		now := k.nowNS()
		budget = min(budget, max(r.due, now+1)-now)
	}
	return budget
}

// reclaimIfLow is direct reclaim at a fault or system call: below the min watermark it
// reclaims a cluster of pages before going on, and before a fault (fault set), with a
// resident limit, it makes room for the page the fault may bring in. A pass that found
// nothing is not repeated until the policy has been given a few more frames.
func (k *Kernel) reclaimIfLow(fault bool) {
	r := k.rc
	if r == nil || r.busy || k.starting() {
		return
	}
	if fault && r.limit > 0 && r.stats.Held >= r.limit {
		r.stats.LimitRuns++
		k.shrink(r.stats.Held-r.limit+1, "limit", fmt.Sprintf("%d resident pages: the limit is %d", r.stats.Held, r.limit))
	}
	if free := k.frames.Free(); free < r.min && r.futile == 0 {
		r.stats.DirectRuns++
		if k.shrink(r.min-free+swapClusterMax, "direct", fmt.Sprintf("free frames %d below the min watermark %d", free, r.min)) == 0 {
			r.futile = swapClusterMax
		}
	}
}

// starting reports whether the machine is still loading its first program (it has not
// retired an instruction): a machine too small to start it is reported as such, with the
// size that would do (ramneed.go), rather than reclaimed into a start the next instruction
// could not survive.
func (k *Kernel) starting() bool {
	return k.first != nil && k.startedOOM(k.first)
}

// shrink runs one reclaim pass that tries to free want frames, and returns how many it
// freed. who is kswapd, direct or limit; why is said in the trace.
func (k *Kernel) shrink(want uint64, who, why string) uint64 {
	r := k.rc
	if r.busy || want == 0 {
		return 0
	}
	r.busy = true
	defer func() { r.busy = false }()
	pid := 0
	if t := k.cur; t != nil && who != "kswapd" {
		pid = t.proc.PID // direct reclaim runs in the process that needs the frames
	}
	k.emit(&Event{Kind: EvReclaim, PID: pid, Reclaim: ReclaimScan, Pages: int(want), Text: who + ": " + why})
	k.buildRmap()
	var got uint64
	failed := 0
	v := reclaimView{k}
	for got < want && failed < 4 {
		r.lastSeen = 0
		f, reason, ok := r.policy.Victim(v)
		k.flushYoung()
		k.cullFound()
		if !ok {
			break
		}
		pfn := uint64(f)
		if !k.reclaimable(pfn, false) {
			k.logf("reclaim: policy %s chose frame %#x, which cannot be reclaimed now", r.policy.Name(), pfn)
			break
		}
		if r.lastSeen != pfn+1 {
			r.stats.Scanned++ // a victim chosen without looking at it (fifo, random)
		}
		if k.evict(pfn, r.policy.Name()+": "+reason) {
			got++
		} else {
			failed++
		}
	}
	k.emit(&Event{Kind: EvReclaim, PID: pid, Reclaim: ReclaimDone, Pages: int(got), Text: who})
	return got
}

// --- the reverse map ---

// rmapRef is one leaf PTE that maps a frame: where it is (ea), what it maps (va in mm, in
// area v of process pid).
type rmapRef struct {
	mm     *MM
	v      *VMA
	pid    int
	va, ea uint64
	next   int32 // the next reference to the same frame, or -1
}

// rmapIndex is the reverse of the page tables: frame -> the PTEs that map it, and a
// page-cache frame -> its object and page.
type rmapIndex struct {
	head  map[uint64]int32 // frame -> index in refs of its first reference
	refs  []rmapRef
	cache map[uint64]cacheRef
}

type cacheRef struct {
	ino *Inode
	idx uint64
}

// buildRmap walks every live address space (once, however many threads share it) and the
// page cache.
func (k *Kernel) buildRmap() {
	x := &k.rc.rmap
	if x.head == nil {
		x.head, x.cache = map[uint64]int32{}, map[uint64]cacheRef{}
	}
	clear(x.head)
	clear(x.cache)
	x.refs = x.refs[:0]
	for _, p := range k.live {
		mm := p.mm
		if mm == nil || k.seenMM(mm, p) {
			continue
		}
		for _, v := range mm.vmas {
			k.visitPTEs(mm, v.Start, v.End, func(va, ea uint64, e mmu.PTE) {
				pfn := e.Frame()
				next, ok := x.head[pfn]
				if !ok {
					next = -1
				}
				x.refs = append(x.refs, rmapRef{mm: mm, v: v, pid: p.PID, va: va, ea: ea, next: next})
				x.head[pfn] = int32(len(x.refs) - 1)
			})
		}
	}
	for _, ino := range k.cache.inodes {
		for idx, pfn := range ino.pages {
			x.cache[pfn] = cacheRef{ino, idx}
		}
	}
}

// seenMM reports whether a live process before p in k.live shares p's address space.
func (k *Kernel) seenMM(mm *MM, p *Process) bool {
	for _, q := range k.live {
		if q == p {
			return false
		}
		if q.mm == mm {
			return true
		}
	}
	return false
}

// eachRef calls fn for every PTE that maps pfn (as of the pass's reverse map).
func (k *Kernel) eachRef(pfn uint64, fn func(r *rmapRef)) {
	x := &k.rc.rmap
	i, ok := x.head[pfn]
	if !ok {
		return
	}
	for ; i >= 0; i = x.refs[i].next {
		fn(&x.refs[i])
	}
}

// --- what the policy sees ---

// reclaimView is the reclaim.Memory the kernel hands a policy during a pass.
type reclaimView struct{ k *Kernel }

func (v reclaimView) seen(f reclaim.Frame) {
	r := v.k.rc
	if r.lastSeen != uint64(f)+1 {
		r.lastSeen = uint64(f) + 1
		r.stats.Scanned++
	}
}

func (v reclaimView) Referenced(f reclaim.Frame) bool {
	v.seen(f)
	k := v.k
	young := false
	k.eachRef(uint64(f), func(r *rmapRef) { young = young || k.readPTE(r.ea)&mmu.PTEAccessed != 0 })
	return young || k.frames.flags(uint64(f))&flagReferenced != 0
}

func (v reclaimView) ClearReferenced(f reclaim.Frame) bool {
	v.seen(f)
	k := v.k
	young := k.frames.flags(uint64(f))&flagReferenced != 0
	k.frames.setFlags(uint64(f), flagReferenced, false)
	k.eachRef(uint64(f), func(r *rmapRef) {
		e := k.readPTE(r.ea)
		if e&mmu.PTEAccessed == 0 {
			return
		}
		young = true
		k.writePTE(r.ea, e&^mmu.PTEAccessed)
		if e&mmu.PTEPresent != 0 && !k.rc.noFlush {
			k.youngGather(r.mm).add(r.va)
		}
	})
	return young
}

func (v reclaimView) Dirty(f reclaim.Frame) bool {
	v.seen(f)
	k := v.k
	pfn := uint64(f)
	dirty := k.frames.Kind(pfn) == FrameUser && k.frames.flags(pfn)&flagSwapCache == 0
	k.eachRef(pfn, func(r *rmapRef) { dirty = dirty || k.readPTE(r.ea)&mmu.PTEDirty != 0 })
	return dirty
}

func (v reclaimView) PTEs(f reclaim.Frame, buf []mmu.PTE) []mmu.PTE {
	v.seen(f)
	k := v.k
	k.eachRef(uint64(f), func(r *rmapRef) { buf = append(buf, k.readPTE(r.ea)) })
	return buf
}

func (v reclaimView) Reclaimable(f reclaim.Frame) bool {
	v.seen(f)
	return v.k.reclaimable(uint64(f), true)
}

func (v reclaimView) Anonymous(f reclaim.Frame) bool { return v.k.frames.Kind(uint64(f)) == FrameUser }

func (v reclaimView) Rand(n int) int {
	if n <= 0 {
		return 0
	}
	return v.k.rc.rng.IntN(n)
}

// youngGather returns the gather collecting mm's pages whose A bits the pass cleared.
func (k *Kernel) youngGather(mm *MM) *tlbGather {
	for _, g := range k.rc.young {
		if g.mm == mm {
			return g
		}
	}
	g := &tlbGather{mm: mm, why: "clear accessed bits"}
	k.rc.young = append(k.rc.young, g)
	return g
}

// flushYoung invalidates the translations of the PTEs whose A bits were cleared, so the
// processor sets A again at their next use (on other CPUs by shootdown).
func (k *Kernel) flushYoung() {
	for _, g := range k.rc.young {
		k.flushTLB(g)
	}
	k.rc.young = k.rc.young[:0]
}

// reclaimable reports whether pfn can be reclaimed now (see reclaim.Memory.Reclaimable).
// A frame locked by a VM_LOCKED mapping is noted for culling when cull is set.
func (k *Kernel) reclaimable(pfn uint64, cull bool) bool {
	kind := k.frames.Kind(pfn)
	if kind != FrameUser && kind != FrameCache {
		return false
	}
	fl := k.frames.flags(pfn)
	if fl&flagUnevictable != 0 || k.cur.needs(pfn) {
		return false // locked, or the faulting instruction needs it
	}
	refs, locked := uint32(0), false
	k.eachRef(pfn, func(r *rmapRef) {
		refs++
		locked = locked || r.v.Flags&VMLocked != 0
	})
	if locked {
		if cull {
			k.rc.cull = append(k.rc.cull, pfn)
		}
		return false
	}
	switch kind {
	case FrameCache:
		c, ok := k.rc.rmap.cache[pfn]
		if !ok || k.frames.Ref(pfn) != refs+1 {
			return false // not the cache's (being dropped), or in use by the kernel
		}
		if c.ino.sysv != nil && c.ino.sysv.mode&shmLocked != 0 {
			return false // a SysV segment under SHM_LOCK (sysvshm.go)
		}
		return !c.ino.shmem() || k.swap != nil && !k.swap.full() // shared memory goes to swap
	default:
		if fl&flagSwapCache != 0 {
			return k.frames.Ref(pfn) == refs+1
		}
		if refs == 0 || k.frames.Ref(pfn) != refs {
			return false // in use by the kernel
		}
		return k.droppable(pfn) || k.swap != nil && !k.swap.full()
	}
}

// cullFound culls the locked frames the policy's call came across.
func (k *Kernel) cullFound() {
	for _, pfn := range k.rc.cull {
		k.cullFrame(pfn)
	}
	k.rc.cull = k.rc.cull[:0]
}

// --- taking a page ---

// evict takes frame pfn from its page, which reclaimable has accepted: a file page is
// dropped (written back first when a PTE marked it dirty), an anonymous page is written to
// swap and its PTEs become swap entries. Every TLB that may hold a translation to the frame
// is invalidated before the frame is freed. It reports whether the frame was freed.
// Linux's shrink_folio_list() with try_to_unmap() and pageout().
func (k *Kernel) evict(pfn uint64, why string) bool {
	if k.frames.Kind(pfn) == FrameCache {
		return k.evictFile(pfn, why)
	}
	return k.evictAnon(pfn, why)
}

// unmapFrame replaces every PTE mapping pfn with e (zero, or a swap entry, for which dup is
// called once per PTE), drops each PTE's reference, invalidates the TLBs and reports whether
// a PTE was dirty, and the first mapping (for the trace).
func (k *Kernel) unmapFrame(pfn uint64, e mmu.PTE, dup func()) (dirty bool, first *rmapRef, n int) {
	var gathers []*tlbGather
	k.eachRef(pfn, func(r *rmapRef) {
		old := k.readPTE(r.ea)
		dirty = dirty || old&mmu.PTEDirty != 0
		k.writePTE(r.ea, e)
		if dup != nil {
			dup()
		}
		if old&mmu.PTEPresent != 0 {
			var g *tlbGather
			for _, x := range gathers {
				if x.mm == r.mm {
					g = x
				}
			}
			if g == nil {
				g = &tlbGather{mm: r.mm, why: "reclaim"}
				gathers = append(gathers, g)
			}
			g.add(r.va)
		}
		first = r
		n++
	})
	delete(k.rc.rmap.head, pfn)
	for _, g := range gathers {
		k.flushTLB(g)
	}
	for i := 0; i < n; i++ {
		k.frames.Put(pfn)
	}
	return dirty, first, n
}

// evictFile drops a page-cache page, writing it back first if dirty; a shared-memory page
// goes to swap.
func (k *Kernel) evictFile(pfn uint64, why string) bool {
	c := k.rc.rmap.cache[pfn]
	if c.ino.shmem() {
		return k.evictShmem(pfn, c, why)
	}
	var f *File
	dirty := false
	k.eachRef(pfn, func(r *rmapRef) {
		if vf := r.v.file(); f == nil && vf != nil && vf.hfd >= 0 {
			f = vf
		}
		dirty = dirty || k.readPTE(r.ea)&mmu.PTEDirty != 0
	})
	if dirty && f == nil {
		return false // nowhere to write it
	}
	_, first, n := k.unmapFrame(pfn, 0, nil)
	op := ReclaimEvict
	if dirty && f != nil {
		if k.hostBacked(pfn) {
			// The host file's page is the frame (hostpages.go): the stores are in the
			// host's page cache already, and the host writes them to disk.
			why += " (dirty; host-backed: its stores are in the host file already)"
		} else {
			k.writeBack(f, c.idx, pfn)
		}
		k.rc.stats.WrittenBack++
		op = ReclaimWriteback
	} else {
		k.rc.stats.Dropped++
	}
	k.emitReclaimPage(op, pfn, 0, first, n, c, why)
	delete(c.ino.pages, c.idx)
	delete(k.rc.rmap.cache, pfn)
	k.frames.Put(pfn)
	k.rc.stats.Reclaimed++
	return true
}

// droppable reports whether every area mapping an anonymous frame is MAP_DROPPABLE: its page
// may simply go, to read as zeros at the next touch.
func (k *Kernel) droppable(pfn uint64) bool {
	drop := true
	k.eachRef(pfn, func(r *rmapRef) { drop = drop && r.v.Flags&VMDroppable != 0 })
	return drop
}

// evictShmem writes a page of a shared-memory object to swap and unmaps it (swap.go).
func (k *Kernel) evictShmem(pfn uint64, c cacheRef, why string) bool {
	slot, ok := k.shmSwapOut(c.ino, c.idx, pfn)
	if !ok {
		return false
	}
	_, first, n := k.unmapFrame(pfn, 0, nil)
	k.rc.stats.SwapOuts++
	k.emitReclaimPage(ReclaimSwapOut, pfn, slot, first, n, c, why)
	delete(k.rc.rmap.cache, pfn)
	k.frames.Put(pfn) // the cache's reference: the frame is free
	k.rc.stats.Reclaimed++
	return true
}

// evictAnon writes an anonymous page to swap (unless the swap cache has it already, clean)
// and makes its PTEs swap entries; a MAP_DROPPABLE page is dropped instead.
func (k *Kernel) evictAnon(pfn uint64, why string) bool {
	if k.frames.flags(pfn)&flagSwapCache == 0 && k.droppable(pfn) {
		_, first, n := k.unmapFrame(pfn, 0, nil)
		k.emitReclaimPage(ReclaimEvict, pfn, 0, first, n, cacheRef{}, why+" (MAP_DROPPABLE: dropped)")
		k.rc.stats.Dropped++
		k.rc.stats.Reclaimed++
		return true
	}
	s := k.swap
	slot, cached := s.cacheSlot[pfn]
	if !cached {
		var ok bool
		if slot, ok = s.alloc(); !ok {
			return false
		}
		fr, _ := k.ram.Frame(pfn)
		if err := s.write(slot, fr[:]); err != nil {
			s.release(slot)
			k.logf("reclaim: writing frame %#x to swap slot %d: %v", pfn, slot, err)
			return false
		}
		k.swapCacheAdd(slot, pfn)
		k.rc.stats.SwapOuts++
	}
	dirty, first, n := k.unmapFrame(pfn, swapPTE(0, slot), func() { k.swapDup(slot) })
	if cached && dirty {
		// Written since it came back (it should not be: a page in the swap cache is mapped
		// read-only), so the slot's copy is stale.
		fr, _ := k.ram.Frame(pfn)
		if err := s.write(slot, fr[:]); err != nil {
			k.logf("reclaim: writing frame %#x to swap slot %d: %v", pfn, slot, err)
		}
		cached = false
		k.rc.stats.SwapOuts++
	}
	if !cached {
		k.emitReclaimPage(ReclaimSwapOut, pfn, slot, first, n, cacheRef{}, why)
	} else {
		k.emitReclaimPage(ReclaimEvict, pfn, slot, first, n, cacheRef{}, why+" (clean: swap slot holds it)")
	}
	k.swapCacheDel(slot)
	if s.Count(slot) == 0 {
		s.release(slot)
	}
	k.rc.stats.Reclaimed++
	return true
}

// --- events ---

func (k *Kernel) emitReclaim(op ReclaimOp, pfn, slot uint64, why string) {
	if len(k.observers) == 0 {
		return
	}
	k.emit(&Event{Kind: EvReclaim, Reclaim: op, Frame: pfn, Slot: slot, Text: why})
}

// emitReclaimPage reports what happened to a page: its frame, slot, first mapping (pid and
// address) and how many PTEs mapped it, the file page, and the policy's reason.
func (k *Kernel) emitReclaimPage(op ReclaimOp, pfn, slot uint64, first *rmapRef, n int, c cacheRef, why string) {
	if len(k.observers) == 0 {
		return
	}
	e := Event{Kind: EvReclaim, Reclaim: op, Frame: pfn, Slot: slot, Mapped: n, Text: why}
	if first != nil {
		e.PID, e.Addr, e.VMA = first.pid, first.va, first.v
	}
	if c.ino != nil {
		e.Path, e.Index = c.ino.name, c.idx
	}
	k.emit(&e)
}

// ReclaimStats returns what page reclaim has done so far.
func (k *Kernel) ReclaimStats() ReclaimStats {
	if k.rc == nil {
		return ReclaimStats{}
	}
	s := k.rc.stats
	s.Min, s.Low, s.High = k.rc.min, k.rc.low, k.rc.high
	return s
}

// ReclaimPolicy returns the replacement policy the machine uses.
func (k *Kernel) ReclaimPolicy() reclaim.Policy { return k.rc.policy }
