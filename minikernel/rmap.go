package minikernel

// Changing a file under its mappings: truncation and write-back of the whole object.
// Linux's mm/truncate.c (truncate_setsize, truncate_pagecache), mm/memory.c
// (unmap_mapping_range) and the reverse map from an object to the VMAs that map it
// (address_space.i_mmap). Linux keeps that reverse map as an interval tree per object; this
// kernel finds the same VMAs by walking every live process's areas, which answers the same
// question more slowly and cannot go stale when areas split, merge or move.

// forEachMapping calls fn for every area of every live process that maps ino.
func (k *Kernel) forEachMapping(ino *Inode, fn func(mm *MM, v *VMA)) {
	for _, p := range k.live {
		if p.mm == nil {
			continue
		}
		for _, v := range p.mm.vmas {
			if f := v.file(); f != nil && f.ino == ino {
				fn(p.mm, v)
			}
		}
	}
}

// setSize makes size the object's size, as truncate_setsize() does. Shrinking unmaps every
// page wholly past the new end from every mapping in every process, private copies
// included (unmap_mapping_range with even_cows), invalidating the TLB entries; drops those
// pages from the cache; and clears the tail of a partial last page, which every mapping of
// it sees at once. A later access past the end is SIGBUS. Growing clears whatever a shared
// mapping stored past the old end in its last page: the file reads zeros there.
func (k *Kernel) setSize(ino *Inode, size uint64) {
	old := ino.size
	switch {
	case size < old:
		ino.size = size // first: the pages unmapped below are not written back
		k.unmapMappingRange(ino, pageRoundUp(size))
		k.truncatePages(ino, size)
	case size > old:
		k.zeroTail(ino, old, size)
		ino.size = size
	}
}

// zeroTail clears the cached bytes of ino in [from, to) that lie in the page holding from:
// the stale part of an old last page that the file now extends over.
func (k *Kernel) zeroTail(ino *Inode, from, to uint64) {
	if from&0xfff == 0 {
		return
	}
	_, _ = k.shmSwapIn(ino, from>>12) // a swapped-out last page comes back to be cleared
	pfn, ok := ino.pages[from>>12]
	if !ok || k.hostBacked(pfn) {
		return // the host's page: the host decides what the tail reads as, as for its own processes
	}
	fr, _ := k.ram.Frame(pfn)
	end := min(pageRoundUp(from), to)
	clear(fr[from&0xfff : end-pageRoundDown(from)])
	k.ram.NoteWrite(pfn)
}

// unmapMappingRange removes every PTE that maps a page of ino at or past byte offset from
// (page-aligned), in every process, releasing the frames (the page cache's own reference
// stays until truncatePages), and invalidates the translations: INVLPG in the running
// address space, a flush on next load in the others. Linux's unmap_mapping_range().
func (k *Kernel) unmapMappingRange(ino *Inode, from uint64) {
	k.forEachMapping(ino, func(mm *MM, v *VMA) {
		end := v.Off + (v.End - v.Start)
		start := max(from, v.Off)
		if start >= end {
			return
		}
		g := tlbGather{mm: mm, why: "truncate"}
		k.zap(mm, v, v.Start+(start-v.Off), v.End, &g)
		k.finish(&g)
	})
}

// syncInode writes back every page of ino that any shared mapping in any process has
// dirtied (fsync, fdatasync). Linux's filemap_write_and_wait()
// after the dirty bits have reached the pages.
func (k *Kernel) syncInode(ino *Inode) {
	k.forEachMapping(ino, func(mm *MM, v *VMA) {
		k.syncRange(mm, v, v.Start, v.End)
	})
}
